/* kv.c — the settings grammar of kv.h: parse `path = value` lines into one
 * JSON tree, and print a tree back as lines.
 *
 * Parsing is a single pass over the text, line by line, with no copy of a
 * line: every limit (line length, line count, path depth, index) is checked
 * before the bytes it guards are looked at, so the work per line is bounded.
 * Each line is parsed completely (path, then value) before the tree is
 * touched; the first error stops the parse and the partial tree is freed.
 *
 * How the tree records what was assigned: an assignment always creates a leaf
 * (a scalar, or an empty array/object for `_empty_array`/`_empty_dictionary`),
 * and walking a path always leaves a non-empty container behind.  So a node is
 * a "parent" exactly when it is a non-empty container, and a "leaf" otherwise;
 * that is all the duplicate and leaf-versus-parent checks need.
 *
 * Arrays are built in order: `_array_index:N` may name an element that
 * already exists (to add fields to an array of dictionaries) or the next one,
 * never one further.  So indices are 0..n-1, each introduced once, in
 * increasing order of first use — which is how kv_format() prints them.
 *
 * Printing refuses (-EINVAL, or -E2BIG for the size limits) any tree that
 * kv_parse() could not read back: keys that are not valid components, strings
 * with NUL bytes or invalid UTF-8, paths deeper than KV_MAX_DEPTH, arrays
 * longer than KV_MAX_INDEX + 1, lines or texts over the limits.  Everything
 * else round-trips: kv_parse(kv_format(t)) is equal to t.  Reals are printed
 * with the fewest digits (15 to 17) that read back to the same double, and
 * always with a '.' or an exponent so they do not come back as integers.
 *
 * Columns in error messages count bytes from 1.
 */
#include "kv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define ARRAY_INDEX     "_array_index"
#define ARRAY_INDEX_LEN (sizeof(ARRAY_INDEX) - 1)

/* Upper bound of a formatted path: KV_MAX_DEPTH components and separators. */
#define PATH_MAX_LEN (KV_MAX_DEPTH * (KV_MAX_COMPONENT + 1))

/* Upper bound of a whole formatted text (what kv_parse() accepts). */
#define TEXT_MAX_LEN ((size_t)KV_MAX_LINES * (KV_MAX_LINE + 1) + 1)

enum step_kind {
        STEP_KEY,
        STEP_INDEX,
};

struct step {
        enum step_kind kind;
        const char *key; /* STEP_KEY: points into the line */
        size_t key_len;
        size_t index;   /* STEP_INDEX */
        size_t col;     /* column of the component (of `_array_index` for an index) */
        size_t idx_col; /* STEP_INDEX: column of the digits */
        size_t end;     /* offset in the path text just after this step */
};

struct path {
        const char *text; /* the path as written */
        size_t col;       /* column of text[0] */
        struct step steps[KV_MAX_DEPTH];
        size_t n_steps;
};

static int kv_fail(struct kv_error *e, int r, unsigned line, size_t column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int kv_fail(struct kv_error *e, int r, unsigned line, size_t column, const char *fmt, ...) {
        va_list ap;

        if (!e)
                return r;
        e->line = line;
        e->column = column > UINT32_MAX ? UINT32_MAX : (unsigned)column;
        va_start(ap, fmt);
        (void)vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
        return r;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
               c == '-' || c == '.';
}

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

/* Quotes user text for an error message: printable ASCII as is, the rest as
 * \xNN, cut after a few dozen bytes. */
static const char *quote_text(const char *s, size_t n, char *dst, size_t size) {
        size_t j = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (j + 8 >= size || i >= 40) {
                        (void)snprintf(dst + j, size - j, "...");
                        return dst;
                }
                if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                        dst[j++] = (char)c;
                else if (c == '"' || c == '\\') {
                        dst[j++] = '\\';
                        dst[j++] = (char)c;
                } else
                        j += (size_t)snprintf(dst + j, size - j, "\\x%02x", c);
        }
        dst[j] = '\0';
        return dst;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if there is none.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else
                return 0;

        if (n < len)
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

bool kv_valid_component(const char *s, size_t n) {
        if (!s || n == 0 || n > KV_MAX_COMPONENT || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_key_char(s[i]))
                        return false;
        return !(n == ARRAY_INDEX_LEN && memcmp(s, ARRAY_INDEX, n) == 0);
}

/* Parses a path at s[0..n) up to the first byte that cannot be part of it
 * (space, '=' or the end).  col is the column of s[0].  *ret_end is set to the
 * offset just after the path. */
static int parse_path(const char *s, size_t n, unsigned line, size_t col, struct path *p,
                      size_t *ret_end, struct kv_error *e) {
        size_t i = 0, n_components = 0;
        bool want_index = false;
        size_t index_col = 0;

        p->text = s;
        p->col = col;
        p->n_steps = 0;

        for (;;) {
                size_t start = i, len;

                while (i < n && is_key_char(s[i]))
                        i++;
                len = i - start;

                if (i < n && s[i] != ':' && s[i] != '=' && !is_space(s[i])) {
                        unsigned char c = (unsigned char)s[i];

                        if (c >= 0x20 && c < 0x7f)
                                return kv_fail(e, -EINVAL, line, col + i,
                                               "invalid character '%c' in key (allowed: A-Z a-z "
                                               "0-9 _ . -)",
                                               c);
                        return kv_fail(e, -EINVAL, line, col + i,
                                       "invalid byte 0x%02x in key (allowed: A-Z a-z 0-9 _ . -)",
                                       c);
                }
                if (len == 0) {
                        if (n_components == 0 && (i >= n || s[i] != ':'))
                                return kv_fail(e, -EINVAL, line, col + i, "empty key");
                        return kv_fail(e, -EINVAL, line, col + i, "empty key component");
                }
                if (++n_components > KV_MAX_DEPTH)
                        return kv_fail(e, -EINVAL, line, col + start,
                                       "key has more than %d components", KV_MAX_DEPTH);
                if (len > KV_MAX_COMPONENT)
                        return kv_fail(e, -EINVAL, line, col + start,
                                       "key component longer than %d bytes", KV_MAX_COMPONENT);

                if (want_index) {
                        struct step *st = &p->steps[p->n_steps++];
                        size_t v = 0;

                        for (size_t k = start; k < i; k++)
                                if (!is_digit(s[k]))
                                        return kv_fail(e, -EINVAL, line, col + start,
                                                       "array index must be a decimal number");
                        if (len > 1 && s[start] == '0')
                                return kv_fail(e, -EINVAL, line, col + start,
                                               "array index with a leading zero");
                        if (len > 4)
                                return kv_fail(e, -EINVAL, line, col + start,
                                               "array index above %d", KV_MAX_INDEX);
                        for (size_t k = start; k < i; k++)
                                v = v * 10 + (size_t)(s[k] - '0');
                        if (v > KV_MAX_INDEX)
                                return kv_fail(e, -EINVAL, line, col + start,
                                               "array index above %d", KV_MAX_INDEX);
                        *st = (struct step){
                                .kind = STEP_INDEX,
                                .index = v,
                                .col = index_col,
                                .idx_col = col + start,
                                .end = i,
                        };
                        want_index = false;
                } else if (s[start] == '.') {
                        return kv_fail(e, -EINVAL, line, col + start,
                                       "key component must not start with '.'");
                } else if (len == ARRAY_INDEX_LEN && memcmp(s + start, ARRAY_INDEX, len) == 0) {
                        want_index = true;
                        index_col = col + start;
                } else {
                        p->steps[p->n_steps++] = (struct step){
                                .kind = STEP_KEY,
                                .key = s + start,
                                .key_len = len,
                                .col = col + start,
                                .end = i,
                        };
                }

                if (i < n && s[i] == ':') {
                        i++;
                        continue;
                }
                break;
        }

        if (want_index)
                return kv_fail(e, -EINVAL, line, col + i,
                               ARRAY_INDEX " must be followed by an index");

        *ret_end = i;
        return 0;
}

/* Where a string's decoding stands: the quoted text s[0..n) (s[0] is the
 * opening quote), the position i in it, the decoded bytes out[0..j), and
 * the line and column of s[0] for messages. */
struct string_cursor {
        const char *s;
        size_t n, i;
        char *out;
        size_t j;
        unsigned line;
        size_t col;
};

/* Four hex digits at s[at..at+4) (any of them past n is not a digit). */
static bool hex4(const char *s, size_t n, size_t at, uint32_t *ret) {
        uint32_t v = 0;

        for (size_t k = 0; k < 4; k++) {
                char h = at + k < n ? s[at + k] : '\0';
                int d;

                if (is_digit(h))
                        d = h - '0';
                else if (h >= 'a' && h <= 'f')
                        d = h - 'a' + 10;
                else if (h >= 'A' && h <= 'F')
                        d = h - 'A' + 10;
                else
                        return false;
                v = v << 4 | (uint32_t)d;
        }
        *ret = v;
        return true;
}

/* Appends code point cp (not 0, not a surrogate, at most 0x10ffff) as UTF-8. */
static void put_utf8(struct string_cursor *c, uint32_t cp) {
        char *o = c->out + c->j;

        if (cp < 0x80) {
                o[0] = (char)cp;
                c->j += 1;
        } else if (cp < 0x800) {
                o[0] = (char)(0xc0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3f));
                c->j += 2;
        } else if (cp < 0x10000) {
                o[0] = (char)(0xe0 | cp >> 12);
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                c->j += 3;
        } else {
                o[0] = (char)(0xf0 | cp >> 18);
                o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[3] = (char)(0x80 | (cp & 0x3f));
                c->j += 4;
        }
}

/* The \uXXXX escape at c->i (a surrogate pair takes two of them); appends
 * the character and moves past it.  The UTF-8 form is never longer than the
 * escape, so out keeps its bound. */
static int decode_u_escape(struct string_cursor *c, struct kv_error *e) {
        const char *s = c->s;
        size_t n = c->n, i = c->i, used = 6;
        uint32_t cp, lo;

        if (!hex4(s, n, i + 2, &cp))
                return kv_fail(e, -EINVAL, c->line, c->col + i,
                               "invalid \\u escape (4 hex digits expected)");
        if (cp >= 0xdc00 && cp <= 0xdfff)
                return kv_fail(e, -EINVAL, c->line, c->col + i,
                               "invalid \\u escape (unpaired low surrogate)");
        if (cp >= 0xd800 && cp <= 0xdbff) {
                if (i + 12 > n || s[i + 6] != '\\' || s[i + 7] != 'u')
                        return kv_fail(e, -EINVAL, c->line, c->col + i,
                                       "invalid \\u escape (unpaired high surrogate)");
                if (!hex4(s, n, i + 8, &lo))
                        return kv_fail(e, -EINVAL, c->line, c->col + i + 6,
                                       "invalid \\u escape (4 hex digits expected)");
                if (lo < 0xdc00 || lo > 0xdfff)
                        return kv_fail(e, -EINVAL, c->line, c->col + i,
                                       "invalid \\u escape (unpaired high surrogate)");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                used = 12;
        }
        if (cp == 0)
                return kv_fail(e, -EINVAL, c->line, c->col + i,
                               "\\u0000 is not allowed in a string");
        put_utf8(c, cp);
        c->i += used;
        return 0;
}

/* The escape at c->i (a backslash): appends what it stands for and moves
 * past it. */
static int decode_escape(struct string_cursor *c, struct kv_error *e) {
        static const char simple[][2] = {
                {'"', '"'},  {'\\', '\\'}, {'/', '/'},  {'b', '\b'},
                {'f', '\f'}, {'n', '\n'},  {'r', '\r'}, {'t', '\t'},
        };
        unsigned char x;

        if (c->i + 1 >= c->n)
                return kv_fail(e, -EINVAL, c->line, c->col, "unterminated string");
        x = (unsigned char)c->s[c->i + 1];
        if (x == 'u')
                return decode_u_escape(c, e);
        for (size_t k = 0; k < ELEMENTSOF(simple); k++)
                if (x == (unsigned char)simple[k][0]) {
                        c->out[c->j++] = simple[k][1];
                        c->i += 2;
                        return 0;
                }
        if (x >= 0x20 && x < 0x7f)
                return kv_fail(e, -EINVAL, c->line, c->col + c->i,
                               "invalid escape '\\%c' (allowed: \\\" \\\\ "
                               "\\/ \\b \\f \\n \\r \\t \\uXXXX)",
                               x);
        return kv_fail(e, -EINVAL, c->line, c->col + c->i, "invalid escape: byte 0x%02x after '\\'",
                       x);
}

/* The character at c->i, not a quote: appends it (decoded) and moves past
 * it. */
static int decode_char(struct string_cursor *c, struct kv_error *e) {
        unsigned char ch = (unsigned char)c->s[c->i];
        size_t len;

        if (ch == '\\')
                return decode_escape(c, e);
        if (is_control(ch))
                return kv_fail(e, -EINVAL, c->line, c->col + c->i,
                               "raw control character 0x%02x in a string (write it as an escape)",
                               ch);
        if (ch < 0x80) {
                c->out[c->j++] = (char)ch;
                c->i++;
                return 0;
        }
        len = utf8_seq_len((const unsigned char *)c->s + c->i, c->n - c->i);
        if (len == 0)
                return kv_fail(e, -EINVAL, c->line, c->col + c->i, "invalid UTF-8 in a string");
        memcpy(c->out + c->j, c->s + c->i, len);
        c->j += len;
        c->i += len;
        return 0;
}

/* A quoted value, s[0] the opening quote: JSON's string grammar, with no
 * raw control characters, valid UTF-8 and no \u0000; nothing but spaces
 * may follow the closing quote. */
static int parse_string(const char *s, size_t n, unsigned line, size_t col, json_t **ret,
                        struct kv_error *e) {
        _cleanup_free_ char *out = NULL;
        struct string_cursor c = {.s = s, .n = n, .i = 1, .line = line, .col = col};
        json_t *v;
        int r;

        /* The decoded string is never longer than its quoted form. */
        out = malloc(n);
        if (!out)
                return -ENOMEM;
        c.out = out;
        while (c.i < n && s[c.i] != '"') {
                r = decode_char(&c, e);
                if (r < 0)
                        return r;
        }
        if (c.i >= n)
                return kv_fail(e, -EINVAL, line, col, "unterminated string");
        if (c.i + 1 != n) {
                size_t k = c.i + 1;

                while (k < n && is_space(s[k]))
                        k++;
                if (k == n)
                        k = c.i + 1;
                return kv_fail(e, -EINVAL, line, col + k, "unexpected text after the string");
        }
        v = json_stringn(out, c.j);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

/* JSON number syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number_syntax(const char *s, size_t n, bool *ret_real) {
        size_t i = 0;
        bool real = false;

        if (i < n && s[i] == '-')
                i++;
        if (i >= n || !is_digit(s[i]))
                return false;
        if (s[i] == '0')
                i++;
        else
                while (i < n && is_digit(s[i]))
                        i++;
        if (i < n && s[i] == '.') {
                i++;
                if (i >= n || !is_digit(s[i]))
                        return false;
                while (i < n && is_digit(s[i]))
                        i++;
                real = true;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                if (i >= n || !is_digit(s[i]))
                        return false;
                while (i < n && is_digit(s[i]))
                        i++;
                real = true;
        }
        if (i != n)
                return false;
        *ret_real = real;
        return true;
}

static int parse_number(const char *s, size_t n, unsigned line, size_t col, json_t **ret,
                        struct kv_error *e) {
        char q[64];
        bool real;
        json_t *v;

        if (!number_syntax(s, n, &real))
                return kv_fail(e, -EINVAL, line, col,
                               "\"%s\" is not a number (string values must be quoted)",
                               quote_text(s, n, q, sizeof q));

        if (!real) {
                bool neg = s[0] == '-';
                uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, u = 0;

                for (size_t i = neg; i < n; i++) {
                        uint64_t d = (uint64_t)(s[i] - '0');

                        if (u > (limit - d) / 10)
                                return kv_fail(e, -EINVAL, line, col,
                                               "integer out of range (%" PRId64 "..%" PRId64 ")",
                                               INT64_MIN, INT64_MAX);
                        u = u * 10 + d;
                }
                v = json_integer(neg ? (json_int_t)(0 - u) : (json_int_t)u);
        } else {
                _cleanup_free_ char *copy = strndup(s, n);
                double d;

                if (!copy)
                        return -ENOMEM;
                d = strtod(copy, NULL);
                if (!isfinite(d))
                        return kv_fail(e, -EINVAL, line, col, "number out of range");
                v = json_real(d);
        }
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static bool word_is(const char *s, size_t n, const char *w) {
        return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Parses a value of exactly n bytes starting at column col. */
static int parse_value(const char *s, size_t n, unsigned line, size_t col, json_t **ret,
                       struct kv_error *e) {
        json_t *v;
        char q[64];

        if (n == 0)
                return kv_fail(e, -EINVAL, line, col, "missing value");
        if (s[0] == '"')
                return parse_string(s, n, line, col, ret, e);
        if (s[0] == '-' || is_digit(s[0]))
                return parse_number(s, n, line, col, ret, e);

        if (word_is(s, n, "yes"))
                v = json_true();
        else if (word_is(s, n, "no"))
                v = json_false();
        else if (word_is(s, n, "_empty_array"))
                v = json_array();
        else if (word_is(s, n, "_empty_dictionary"))
                v = json_object();
        else if (word_is(s, n, "_null"))
                v = json_null();
        else if (word_is(s, n, "true") || word_is(s, n, "false"))
                return kv_fail(e, -EINVAL, line, col, "booleans are written yes or no");
        else
                return kv_fail(e, -EINVAL, line, col, "string values must be quoted (\"%s\")",
                               quote_text(s, n, q, sizeof q));
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int kv_parse_value(const char *s, size_t n, json_t **ret, struct kv_error *e) {
        if (!s || !ret)
                return -EINVAL;
        if (n > KV_MAX_LINE)
                return kv_fail(e, -E2BIG, 0, 0, "value longer than %d bytes", KV_MAX_LINE);
        return parse_value(s, n, 0, 1, ret, e);
}

static bool is_parent(const json_t *v) {
        return (json_is_object(v) && json_object_size(v) > 0) ||
               (json_is_array(v) && json_array_size(v) > 0);
}

/* Adds child (stolen) to container under step st. */
static int attach(json_t *container, const struct step *st, json_t *child) {
        int r;

        if (st->kind == STEP_KEY)
                r = json_object_setn_new(container, st->key, st->key_len, child);
        else
                r = json_array_append_new(container, child);
        return r < 0 ? -ENOMEM : 0;
}

/* Inserts value (stolen) at path p into root. */
static int tree_insert(json_t *root, const struct path *p, unsigned line, json_t *value,
                       struct kv_error *e) {
        json_t *node = root;

        for (size_t k = 0; k < p->n_steps; k++) {
                const struct step *st = &p->steps[k];
                size_t prev_end = k > 0 ? p->steps[k - 1].end : 0;
                bool last = k + 1 == p->n_steps;
                json_t *child;
                int r;

                if (json_is_object(node)) {
                        if (st->kind == STEP_INDEX) {
                                json_decref(value);
                                if (k == 0)
                                        return kv_fail(e, -EINVAL, line, st->col,
                                                       "a key cannot start with " ARRAY_INDEX);
                                return kv_fail(e, -EINVAL, line, st->col,
                                               "\"%.*s\" is a dictionary, not an array",
                                               (int)prev_end, p->text);
                        }
                        child = json_object_getn(node, st->key, st->key_len);
                } else {
                        size_t size = json_array_size(node);

                        if (st->kind == STEP_KEY) {
                                json_decref(value);
                                return kv_fail(e, -EINVAL, line, st->col,
                                               "\"%.*s\" is an array (use " ARRAY_INDEX ":N)",
                                               (int)prev_end, p->text);
                        }
                        if (st->index > size) {
                                json_decref(value);
                                return kv_fail(
                                        e, -EINVAL, line, st->idx_col,
                                        "array index %zu skips index %zu (indices count up from 0)",
                                        st->index, size);
                        }
                        child = st->index < size ? json_array_get(node, st->index) : NULL;
                }

                if (last) {
                        if (child) {
                                json_decref(value);
                                if (is_parent(child))
                                        return kv_fail(e, -EINVAL, line, p->col,
                                                       "\"%.*s\" already has sub-keys, it cannot "
                                                       "also have a value",
                                                       (int)st->end, p->text);
                                return kv_fail(e, -EINVAL, line, p->col,
                                               "\"%.*s\" is assigned twice", (int)st->end, p->text);
                        }
                        return attach(node, st, value);
                }

                if (child) {
                        if (!is_parent(child)) {
                                json_decref(value);
                                return kv_fail(e, -EINVAL, line, p->steps[k + 1].col,
                                               "\"%.*s\" already has a value, it cannot also have "
                                               "sub-keys",
                                               (int)st->end, p->text);
                        }
                        node = child;
                        continue;
                }

                child = p->steps[k + 1].kind == STEP_KEY ? json_object() : json_array();
                if (!child) {
                        json_decref(value);
                        return -ENOMEM;
                }
                r = attach(node, st, child);
                if (r < 0) {
                        json_decref(value);
                        return r;
                }
                node = child;
        }

        /* Not reached: a parsed path has at least one step. */
        json_decref(value);
        return -EINVAL;
}

static int parse_line(json_t *root, const char *s, size_t n, unsigned line, struct kv_error *e) {
        struct path p;
        size_t i = 0, end, vstart, vend;
        json_t *value = NULL;
        int r;

        while (i < n && is_space(s[i]))
                i++;
        if (i >= n || s[i] == '#')
                return 0;

        r = parse_path(s + i, n - i, line, i + 1, &p, &end, e);
        if (r < 0)
                return r;
        i += end;

        while (i < n && is_space(s[i]))
                i++;
        if (i >= n)
                return kv_fail(e, -EINVAL, line, i + 1, "missing '=' after the key");
        if (s[i] != '=')
                return kv_fail(e, -EINVAL, line, i + 1, "expected '=' after the key");
        i++;

        while (i < n && is_space(s[i]))
                i++;
        vstart = i;
        vend = n;
        while (vend > vstart && is_space(s[vend - 1]))
                vend--;
        if (vstart == vend)
                return kv_fail(e, -EINVAL, line, vstart + 1, "missing value after '='");

        r = parse_value(s + vstart, vend - vstart, line, vstart + 1, &value, e);
        if (r < 0)
                return r;

        return tree_insert(root, &p, line, value, e);
}

int kv_parse(const char *text, size_t n, json_t **ret, struct kv_error *e) {
        json_t *root;
        size_t pos = 0;
        unsigned line = 0;

        if ((!text && n > 0) || !ret)
                return -EINVAL;

        root = json_object();
        if (!root)
                return -ENOMEM;

        while (pos < n) {
                const char *l = text + pos, *eol;
                size_t len;
                int r;

                if (line >= KV_MAX_LINES) {
                        json_decref(root);
                        return kv_fail(e, -E2BIG, line + 1, 0, "more than %d lines", KV_MAX_LINES);
                }
                line++;

                eol = memchr(l, '\n', n - pos);
                len = eol ? (size_t)(eol - l) : n - pos;
                pos += len + (eol ? 1 : 0);

                if (len > 0 && l[len - 1] == '\r')
                        len--;
                if (len > KV_MAX_LINE) {
                        json_decref(root);
                        return kv_fail(e, -E2BIG, line, KV_MAX_LINE + 1,
                                       "line longer than %d bytes", KV_MAX_LINE);
                }

                r = parse_line(root, l, len, line, e);
                if (r < 0) {
                        json_decref(root);
                        return r;
                }
        }

        *ret = root;
        return 0;
}

/* Printing. */

static int format_string(struct buf *b, const char *s, size_t n) {
        int r;

        r = buf_puts(b, "\"");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)s[i];
                const char *esc = NULL;
                size_t run = i;

                /* Copy runs of bytes that need no escape in one call. */
                while (run < n) {
                        unsigned char x = (unsigned char)s[run];

                        if (x == '"' || x == '\\' || is_control(x))
                                break;
                        if (x >= 0x80) {
                                size_t len = utf8_seq_len((const unsigned char *)s + run, n - run);

                                if (len == 0)
                                        return -EINVAL;
                                run += len;
                        } else
                                run++;
                }
                if (run > i) {
                        r = buf_append(b, s + i, run - i);
                        if (r < 0)
                                return r;
                        i = run;
                        continue;
                }

                switch (c) {
                case '"':
                        esc = "\\\"";
                        break;
                case '\\':
                        esc = "\\\\";
                        break;
                case '\b':
                        esc = "\\b";
                        break;
                case '\f':
                        esc = "\\f";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                case '\0':
                        return -EINVAL; /* kv_parse() refuses \u0000 */
                default:
                        break;
                }
                r = esc ? buf_puts(b, esc) : buf_printf(b, "\\u%04x", c);
                if (r < 0)
                        return r;
                i++;
        }
        return buf_puts(b, "\"");
}

static int format_real(struct buf *b, double d) {
        char t[64];

        if (!isfinite(d))
                return -EINVAL;
        for (int prec = 15; prec <= 17; prec++) {
                (void)snprintf(t, sizeof t, "%.*g", prec, d);
                if (strtod(t, NULL) == d)
                        break;
        }
        if (!strpbrk(t, ".e"))
                return buf_printf(b, "%s.0", t);
        return buf_puts(b, t);
}

static int format_scalar(struct buf *b, json_t *v) {
        switch (json_typeof(v)) {
        case JSON_STRING:
                return format_string(b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_REAL:
                return format_real(b, json_real_value(v));
        case JSON_TRUE:
                return buf_puts(b, "yes");
        case JSON_FALSE:
                return buf_puts(b, "no");
        case JSON_NULL:
                return buf_puts(b, "_null");
        case JSON_ARRAY:
                return json_array_size(v) == 0 ? buf_puts(b, "_empty_array") : -EINVAL;
        case JSON_OBJECT:
                return json_object_size(v) == 0 ? buf_puts(b, "_empty_dictionary") : -EINVAL;
        }
        return -EINVAL;
}

int kv_format_value(json_t *v, char **ret) {
        _cleanup_(buf_free) struct buf b = {};
        char *s;
        int r;

        if (!v || !ret)
                return -EINVAL;
        buf_init(&b, KV_MAX_LINE + 1);
        r = format_scalar(&b, v);
        if (r < 0)
                return r;
        s = buf_steal(&b);
        if (!s)
                s = strdup("");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

struct formatter {
        struct buf out;
        char path[PATH_MAX_LEN + 1];
        size_t path_len;
        unsigned depth; /* components in path */
        unsigned lines;
};

static int path_push(struct formatter *f, const char *s, size_t n, size_t *ret_saved) {
        size_t need = n + (f->path_len > 0);

        if (f->depth >= KV_MAX_DEPTH || f->path_len + need > PATH_MAX_LEN)
                return -E2BIG;
        *ret_saved = f->path_len;
        if (f->path_len > 0)
                f->path[f->path_len++] = ':';
        memcpy(f->path + f->path_len, s, n);
        f->path_len += n;
        f->path[f->path_len] = '\0';
        f->depth++;
        return 0;
}

static void path_pop(struct formatter *f, size_t saved, unsigned depth) {
        f->path_len = saved;
        f->path[saved] = '\0';
        f->depth = depth;
}

static int format_node(struct formatter *f, json_t *v) {
        unsigned depth = f->depth;
        size_t saved, line_start;
        int r;

        if (json_is_object(v) && json_object_size(v) > 0) {
                const char *key;
                size_t key_len;
                json_t *child;

                json_object_keylen_foreach(v, key, key_len, child) {
                        if (!kv_valid_component(key, key_len))
                                return -EINVAL;
                        r = path_push(f, key, key_len, &saved);
                        if (r < 0)
                                return r;
                        r = format_node(f, child);
                        if (r < 0)
                                return r;
                        path_pop(f, saved, depth);
                }
                return 0;
        }

        if (json_is_array(v) && json_array_size(v) > 0) {
                size_t i, saved2;
                json_t *child;

                if (json_array_size(v) > (size_t)KV_MAX_INDEX + 1)
                        return -E2BIG;
                json_array_foreach(v, i, child) {
                        char idx[16];
                        int len = snprintf(idx, sizeof idx, "%zu", i);

                        r = path_push(f, ARRAY_INDEX, ARRAY_INDEX_LEN, &saved);
                        if (r < 0)
                                return r;
                        r = path_push(f, idx, (size_t)len, &saved2);
                        if (r < 0)
                                return r;
                        r = format_node(f, child);
                        if (r < 0)
                                return r;
                        path_pop(f, saved, depth);
                }
                return 0;
        }

        /* A leaf needs a key to hang from. */
        if (f->path_len == 0)
                return -EINVAL;
        if (f->lines >= KV_MAX_LINES)
                return -E2BIG;

        line_start = f->out.len;
        r = buf_append(&f->out, f->path, f->path_len);
        if (r < 0)
                return r;
        r = buf_puts(&f->out, " = ");
        if (r < 0)
                return r;
        r = format_scalar(&f->out, v);
        if (r < 0)
                return r;
        if (f->out.len - line_start > KV_MAX_LINE)
                return -E2BIG;
        f->lines++;
        return buf_puts(&f->out, "\n");
}

int kv_format(const char *prefix, json_t *tree, char **ret) {
        _cleanup_free_ struct formatter *f = NULL;
        char *s;
        int r;

        if (!tree || !ret)
                return -EINVAL;

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        buf_init(&f->out, TEXT_MAX_LEN);

        if (prefix && prefix[0]) {
                struct path p;
                size_t n = strlen(prefix), end = 0;

                /* The prefix obeys the path grammar; it counts toward the depth. */
                if (n > PATH_MAX_LEN || parse_path(prefix, n, 0, 1, &p, &end, NULL) < 0 ||
                    end != n) {
                        buf_free(&f->out);
                        return -EINVAL;
                }
                memcpy(f->path, prefix, n);
                f->path[n] = '\0';
                f->path_len = n;
                f->depth = 1;
                for (size_t i = 0; i < n; i++)
                        f->depth += prefix[i] == ':';
        } else if (!json_is_object(tree)) {
                buf_free(&f->out);
                return -EINVAL;
        }

        /* An empty tree without a prefix is an empty text, not a line. */
        r = f->path_len == 0 && json_object_size(tree) == 0 ? 0 : format_node(f, tree);
        if (r < 0) {
                buf_free(&f->out);
                return r;
        }

        s = buf_steal(&f->out);
        buf_free(&f->out);
        if (!s)
                s = strdup("");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
