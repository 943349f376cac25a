/* jsonpull.h — a pull reader of JSON text: one token at a time from a view
 * of the text, no tree, no allocation.
 *
 * For a program that wants a few fields of a large answer (the CLI's table
 * of thousands of listeners reads eight of the twenty-odd fields of each):
 * a full parse builds and frees every object of the answer only to look at
 * a few.  The reader checks the whole grammar of RFC 8259 as it goes (a
 * value where a value may stand, commas and colons, strings that are UTF-8
 * without raw control characters, the number grammar, nothing after the
 * top value), so a reader that reaches JP_EOF has read valid JSON.  Strings
 * come raw (between the quotes, escapes as written); jpull_string decodes.
 * Duplicate keys are not detected.  Nesting deeper than JPULL_MAX_DEPTH is
 * an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JPULL_MAX_DEPTH 64

enum jpull_type {
        JP_EOF = 0,  /* the top value was read, nothing but space follows */
        JP_OBJECT,   /* '{': the object's keys and values follow, then JP_END */
        JP_ARRAY,    /* '[': the values follow, then JP_END */
        JP_END,      /* the '}' or ']' that closes the innermost container */
        JP_KEY,      /* a key in an object (raw, as a string); its value is next */
        JP_STRING,   /* raw contents, escapes undecoded */
        JP_NUMBER,   /* the number's text */
        JP_TRUE,
        JP_FALSE,
        JP_NULL,
};

struct jpull_tok {
        enum jpull_type type;
        const char *s; /* JP_KEY, JP_STRING: between the quotes; JP_NUMBER: the text */
        size_t n;
};

struct jpull {
        const char *p, *end;
        unsigned depth;
        bool done;                      /* the top value is complete */
        uint8_t kind[JPULL_MAX_DEPTH];  /* 'o' or 'a' per open container */
        uint8_t state[JPULL_MAX_DEPTH]; /* what may come next in it */
};

void jpull_init(struct jpull *j, const char *text, size_t n);

/* The next token; 0, or -EBADMSG on text that is not JSON (then every later
 * call fails too), -E2BIG past JPULL_MAX_DEPTH. */
int jpull_next(struct jpull *j, struct jpull_tok *t);

/* After a token that began a value (JP_OBJECT, JP_ARRAY or a scalar): reads
 * to that value's end. */
int jpull_skip(struct jpull *j, const struct jpull_tok *t);

/* The decoded text of a JP_KEY or JP_STRING, NUL-terminated in dst[n] (cut
 * at a character boundary when it does not fit); \u0000 becomes U+FFFD.
 * Returns the decoded length before any cut, or -EINVAL. */
int jpull_string(const struct jpull_tok *t, char *dst, size_t n);

/* A JP_NUMBER that is an integer within long long. */
int jpull_int(const struct jpull_tok *t, long long *ret);

/* Is the raw key/string t exactly the (escape-free) text s? */
bool jpull_is(const struct jpull_tok *t, const char *s);
