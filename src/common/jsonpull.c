/* jsonpull.c — see jsonpull.h.
 *
 * State: a stack of the open containers, each with what may come next in
 * it (S_FIRST: a key or '}' / a value or ']'; S_NEXT: after a comma, a key
 * / a value and nothing else; S_VALUE: an object's value after its key and
 * colon; S_AFTER: a comma or the closing bracket).  Every byte is looked at
 * once; a failure is sticky (p = NULL).  The reader never writes to the
 * text and never reads past end. */
#include "jsonpull.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "util.h"

enum { S_FIRST, S_NEXT, S_VALUE, S_AFTER };

void jpull_init(struct jpull *j, const char *text, size_t n) {
        memset(j, 0, sizeof *j);
        j->p = text;
        j->end = text + n;
}

static int fail(struct jpull *j) {
        j->p = NULL;
        return -EBADMSG;
}

static void skip_space(struct jpull *j) {
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At '"': the raw contents up to the closing quote, checked. */
static int scan_string(struct jpull *j, struct jpull_tok *t) {
        const char *p = j->p + 1;

        t->s = p;
        while (p < j->end) {
                unsigned char c = (unsigned char)*p;
                if (c == '"') {
                        t->n = (size_t)(p - t->s);
                        j->p = p + 1;
                        return 0;
                }
                if (c < 0x20)
                        return fail(j);
                if (c == '\\') {
                        if (++p >= j->end)
                                return fail(j);
                        if (*p == 'u') {
                                if (j->end - p < 5 || !is_hex(p[1]) || !is_hex(p[2]) ||
                                    !is_hex(p[3]) || !is_hex(p[4]))
                                        return fail(j);
                                p += 5;
                        } else if (*p && strchr("\"\\/bfnrt", *p))
                                p++;
                        else
                                return fail(j);
                        continue;
                }
                if (c >= 0x80) {
                        size_t k = utf8_char_len((const unsigned char *)p, (size_t)(j->end - p));
                        if (k == 0)
                                return fail(j);
                        p += k;
                        continue;
                }
                p++;
        }
        return fail(j);
}

static bool digit(const char *p, const char *end) {
        return p < end && *p >= '0' && *p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct jpull *j, struct jpull_tok *t) {
        const char *p = j->p, *end = j->end;

        t->s = p;
        if (p < end && *p == '-')
                p++;
        if (!digit(p, end))
                return fail(j);
        if (*p == '0')
                p++;
        else
                while (digit(p, end))
                        p++;
        if (p < end && *p == '.') {
                if (!digit(++p, end))
                        return fail(j);
                while (digit(p, end))
                        p++;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                if (!digit(p, end))
                        return fail(j);
                while (digit(p, end))
                        p++;
        }
        t->n = (size_t)(p - t->s);
        j->p = p;
        return 0;
}

static int literal(struct jpull *j, const char *word, enum jpull_type type, struct jpull_tok *t) {
        size_t n = strlen(word);

        if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
                return fail(j);
        t->type = type;
        t->s = j->p;
        t->n = n;
        j->p += n;
        return 0;
}

/* A value starts here (space skipped). */
static int value(struct jpull *j, struct jpull_tok *t) {
        if (j->p >= j->end)
                return fail(j);
        switch (*j->p) {
        case '{':
        case '[':
                if (j->depth >= JPULL_MAX_DEPTH) {
                        j->p = NULL;
                        return -E2BIG;
                }
                t->type = *j->p == '{' ? JP_OBJECT : JP_ARRAY;
                t->s = j->p++;
                t->n = 1;
                j->kind[j->depth] = t->type == JP_OBJECT ? 'o' : 'a';
                j->state[j->depth++] = S_FIRST;
                return 0;
        case '"':
                t->type = JP_STRING;
                return scan_string(j, t);
        case 't':
                return literal(j, "true", JP_TRUE, t);
        case 'f':
                return literal(j, "false", JP_FALSE, t);
        case 'n':
                return literal(j, "null", JP_NULL, t);
        default:
                t->type = JP_NUMBER;
                return scan_number(j, t);
        }
}

static int close_container(struct jpull *j, struct jpull_tok *t) {
        t->type = JP_END;
        t->s = j->p++;
        t->n = 1;
        if (--j->depth == 0)
                j->done = true;
        return 0;
}

/* A key and its colon; the value is next. */
static int key(struct jpull *j, struct jpull_tok *t) {
        int r;

        if (j->p >= j->end || *j->p != '"')
                return fail(j);
        r = scan_string(j, t);
        if (r < 0)
                return r;
        t->type = JP_KEY;
        skip_space(j);
        if (j->p >= j->end || *j->p != ':')
                return fail(j);
        j->p++;
        j->state[j->depth - 1] = S_VALUE;
        return 0;
}

int jpull_next(struct jpull *j, struct jpull_tok *t) {
        uint8_t *st;
        bool obj;

        if (!j->p)
                return -EBADMSG;
        skip_space(j);
        if (j->depth == 0) {
                if (j->done) {
                        if (j->p != j->end)
                                return fail(j);
                        *t = (struct jpull_tok){.type = JP_EOF, .s = j->p};
                        return 0;
                }
                j->done = true; /* a scalar at the top is all; a container resets it */
                int r = value(j, t);
                if (r >= 0 && j->depth > 0)
                        j->done = false;
                return r;
        }
        st = &j->state[j->depth - 1];
        obj = j->kind[j->depth - 1] == 'o';
        if (j->p >= j->end)
                return fail(j);
        switch (*st) {
        case S_FIRST:
                if (*j->p == (obj ? '}' : ']'))
                        return close_container(j, t);
                break;
        case S_AFTER:
                if (*j->p == (obj ? '}' : ']'))
                        return close_container(j, t);
                if (*j->p != ',')
                        return fail(j);
                j->p++;
                skip_space(j);
                *st = S_NEXT;
                break;
        case S_VALUE:
                *st = S_AFTER;
                return value(j, t);
        default:
                break;
        }
        /* S_FIRST or S_NEXT: a key, or a value in an array */
        if (obj)
                return key(j, t);
        *st = S_AFTER;
        return value(j, t);
}

int jpull_skip(struct jpull *j, const struct jpull_tok *t) {
        struct jpull_tok x;
        unsigned d = j->depth;
        int r;

        if (t->type != JP_OBJECT && t->type != JP_ARRAY)
                return 0;
        while (j->depth >= d) {
                r = jpull_next(j, &x);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int hex4(const char *p) {
        int v = 0;

        for (int i = 0; i < 4; i++) {
                char c = p[i];
                v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return v;
}

static size_t put_utf8(char *o, unsigned cp) {
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | cp >> 12);
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* One character of a checked raw string at *i: its UTF-8 in o[4]. */
static int decode_one(const char *s, size_t n, size_t *i, char o[4], size_t *len) {
        unsigned cp;

        if (s[*i] != '\\') {
                size_t k = (unsigned char)s[*i] < 0x80
                                   ? 1
                                   : utf8_char_len((const unsigned char *)s + *i, n - *i);
                if (k == 0)
                        return -EINVAL;
                memcpy(o, s + *i, k);
                *i += k;
                *len = k;
                return 0;
        }
        if (*i + 1 >= n)
                return -EINVAL;
        switch (s[*i + 1]) {
        case 'b': o[0] = '\b'; break;
        case 'f': o[0] = '\f'; break;
        case 'n': o[0] = '\n'; break;
        case 'r': o[0] = '\r'; break;
        case 't': o[0] = '\t'; break;
        case '"': case '\\': case '/': o[0] = s[*i + 1]; break;
        case 'u':
                if (n - *i < 6)
                        return -EINVAL;
                cp = (unsigned)hex4(s + *i + 2);
                *i += 6;
                if (cp >= 0xd800 && cp < 0xdc00 && n - *i >= 6 && s[*i] == '\\' &&
                    s[*i + 1] == 'u') {
                        unsigned lo = (unsigned)hex4(s + *i + 2);
                        if (lo >= 0xdc00 && lo < 0xe000) {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                *i += 6;
                        }
                }
                if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
                        cp = 0xfffd; /* NUL, a lone surrogate */
                *len = put_utf8(o, cp);
                return 0;
        default:
                return -EINVAL;
        }
        *i += 2;
        *len = 1;
        return 0;
}

int jpull_string(const struct jpull_tok *t, char *dst, size_t n) {
        size_t i = 0, out = 0, total = 0;
        bool cut = false;

        if (!t || (t->type != JP_KEY && t->type != JP_STRING) || !dst || n == 0)
                return -EINVAL;
        while (i < t->n) {
                char o[4];
                size_t k;
                if (decode_one(t->s, t->n, &i, o, &k) < 0)
                        return -EINVAL;
                if (!cut && out + k < n) {
                        memcpy(dst + out, o, k);
                        out += k;
                } else
                        cut = true;
                total += k;
        }
        dst[out] = '\0';
        return total > INT_MAX ? INT_MAX : (int)total;
}

int jpull_int(const struct jpull_tok *t, long long *ret) {
        long long v = 0;
        size_t i = 0;
        bool neg;

        if (!t || t->type != JP_NUMBER || t->n == 0)
                return -EINVAL;
        neg = t->s[0] == '-';
        i = neg;
        if (i >= t->n)
                return -EINVAL;
        for (; i < t->n; i++) {
                char c = t->s[i];
                if (c < '0' || c > '9')
                        return -EINVAL; /* a fraction or an exponent */
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, neg ? -(c - '0') : c - '0', &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

bool jpull_is(const struct jpull_tok *t, const char *s) {
        size_t n = strlen(s);

        return t && (t->type == JP_KEY || t->type == JP_STRING) && t->n == n &&
               memcmp(t->s, s, n) == 0;
}
