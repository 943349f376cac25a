/* expo.c — the text exposition writer (see expo.h).
 *
 * Numbers are formatted here rather than with printf: a scrape writes a few
 * hundred of them, and counters must come out exact (a double has 53 bits, a
 * byte counter 64), so integers are printed as integers and durations as
 * exact decimal fractions of their integer unit.
 */
#include "modules/metrics/expo.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void expo_init(struct expo *e, struct buf *out) {
        *e = (struct expo){.out = out};
}

/* Appends the assembled line to the output. */
static void flush(struct expo *e) {
        int r;

        if (e->error >= 0 && e->line_len > 0) {
                r = buf_append(e->out, e->line, e->line_len);
                if (r < 0)
                        e->error = r;
        }
        e->line_len = 0;
}

static void put(struct expo *e, const char *s, size_t n) {
        int r;

        if (e->error < 0)
                return;
        if (n <= sizeof e->line - e->line_len) {
                memcpy(e->line + e->line_len, s, n);
                e->line_len += n;
                return;
        }
        /* A long label value: out goes what we have, then the value. */
        flush(e);
        if (n <= sizeof e->line) {
                memcpy(e->line, s, n);
                e->line_len = n;
                return;
        }
        r = e->error < 0 ? e->error : buf_append(e->out, s, n);
        if (r < 0)
                e->error = r;
}

static void puts_(struct expo *e, const char *s) {
        put(e, s, strlen(s));
}

/* A string literal, without strlen(). */
#define PUTS(e, lit) put((e), "" lit, sizeof(lit) - 1)

static void fail(struct expo *e, int r) {
        if (e->error >= 0)
                e->error = r;
}

bool expo_metric_name_valid(const char *s, size_t n) {
        if (!s || n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                          c == ':' || (i > 0 && c >= '0' && c <= '9');
                if (!ok)
                        return false;
        }
        return true;
}

/* Label names: no ':' allowed. */
static bool label_name_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (!expo_metric_name_valid(s, n))
                return false;
        return !memchr(s, ':', n);
}

int expo_name_component(const char *s, size_t n, char *dst, size_t size) {
        size_t o = 0;

        if (n == 0 || size == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == ')')
                        continue;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                        c = '_';
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                dst[o++] = c;
        }
        if (o == 0)
                return -EINVAL;
        dst[o] = '\0';
        return 0;
}

/* HELP text: backslash and line feed escaped. */
static void put_help(struct expo *e, const char *s) {
        const char *p = s;

        for (; *s; s++) {
                if (*s != '\\' && *s != '\n')
                        continue;
                put(e, p, (size_t)(s - p));
                put(e, *s == '\\' ? "\\\\" : "\\n", 2);
                p = s + 1;
        }
        put(e, p, (size_t)(s - p));
}

void expo_family(struct expo *e, const char *name, const char *type, const char *help) {
        if (e->error < 0)
                return;
        if (e->in_sample || !expo_metric_name_valid(name, strlen(name))) {
                fail(e, -EINVAL);
                return;
        }
        PUTS(e, "# HELP ");
        puts_(e, name);
        PUTS(e, " ");
        put_help(e, help);
        PUTS(e, "\n# TYPE ");
        puts_(e, name);
        PUTS(e, " ");
        puts_(e, type);
        PUTS(e, "\n");
        flush(e);
        e->family = name;
}

void expo_sample(struct expo *e, const char *name) {
        if (e->error < 0)
                return;
        if (e->in_sample || (name != e->family && !expo_metric_name_valid(name, strlen(name)))) {
                fail(e, -EINVAL);
                return;
        }
        puts_(e, name);
        e->in_sample = true;
        e->labels = false;
}

/* s[0..n) escaped as a label value, into the line. */
static void put_escaped(struct expo *e, const char *s, size_t n) {
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, run = 0;

        /* Copies runs of bytes that need nothing in one go. */
        while (i < n) {
                const char *rep = NULL;
                size_t l = 1;

                if (u[i] == '\\')
                        rep = "\\\\";
                else if (u[i] == '"')
                        rep = "\\\"";
                else if (u[i] == '\n')
                        rep = "\\n";
                else if (u[i] >= 0x80 && (l = utf8_char_len(u + i, n - i)) == 0) {
                        rep = "\xef\xbf\xbd"; /* U+FFFD */
                        l = 1;
                }
                if (!rep) {
                        i += l;
                        continue;
                }
                put(e, s + run, i - run);
                puts_(e, rep);
                i += l;
                run = i;
        }
        put(e, s + run, n - run);
}

int expo_escape_label_value(struct buf *out, const char *s, size_t n) {
        struct expo e;

        expo_init(&e, out);
        put_escaped(&e, s, n);
        flush(&e);
        return e.error;
}

void expo_label_n(struct expo *e, const char *key, const char *value, size_t n) {
        if (e->error < 0)
                return;
        if (!e->in_sample || !label_name_valid(key) || (!value && n > 0)) {
                fail(e, -EINVAL);
                return;
        }
        put(e, e->labels ? "," : "{", 1);
        puts_(e, key);
        PUTS(e, "=\"");
        put_escaped(e, value ? value : "", n);
        PUTS(e, "\"");
        e->labels = true;
}

void expo_label(struct expo *e, const char *key, const char *value) {
        expo_label_n(e, key, value, value ? strlen(value) : 0);
}

/* Ends the sample with value text v. */
static void end_sample(struct expo *e, const char *v, size_t n) {
        if (e->error < 0)
                return;
        if (!e->in_sample) {
                fail(e, -EINVAL);
                return;
        }
        if (e->labels)
                PUTS(e, "} ");
        else
                PUTS(e, " ");
        put(e, v, n);
        PUTS(e, "\n");
        flush(e);
        e->in_sample = false;
        e->labels = false;
}

/* Decimal digits of v, right-aligned in a buffer of 20+ bytes; returns
 * the first digit. */
static char *u64_digits(uint64_t v, char *end) {
        char *p = end;

        do {
                *--p = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        return p;
}

void expo_u64(struct expo *e, uint64_t v) {
        char b[24], *end = b + sizeof b, *p = u64_digits(v, end);

        end_sample(e, p, (size_t)(end - p));
}

void expo_i64(struct expo *e, int64_t v) {
        char b[24], *end = b + sizeof b, *p;
        uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

        p = u64_digits(m, end);
        if (v < 0)
                *--p = '-';
        end_sample(e, p, (size_t)(end - p));
}

void expo_ratio(struct expo *e, uint64_t num, uint64_t den) {
        char b[48], *p;
        uint64_t rem;
        size_t n, digits = 0;

        if (den == 0 || den > UINT64_MAX / 10) {
                fail(e, -EINVAL);
                return;
        }
        p = u64_digits(num / den, b + 24);
        n = (size_t)(b + 24 - p);
        memmove(b, p, n);
        rem = num % den; /* < den, so rem * 10 cannot overflow */
        if (rem) {
                b[n++] = '.';
                while (rem && digits < 9) {
                        b[n++] = (char)('0' + rem * 10 / den);
                        rem = rem * 10 % den;
                        digits++;
                }
        }
        end_sample(e, b, n);
}

void expo_double(struct expo *e, double v) {
        char b[40];
        int n;

        if (isnan(v)) {
                end_sample(e, "NaN", 3);
                return;
        }
        if (isinf(v)) {
                end_sample(e, v > 0 ? "+Inf" : "-Inf", 4);
                return;
        }
        if (v > -9.007199254740992e15 && v < 9.007199254740992e15 && v == (double)(int64_t)v) {
                expo_i64(e, (int64_t)v);
                return;
        }
        /* The shortest of 15 or 17 significant digits that reads back as
         * the same double. */
        n = snprintf(b, sizeof b, "%.15g", v);
        if (n > 0 && strtod(b, NULL) != v)
                n = snprintf(b, sizeof b, "%.17g", v);
        if (n <= 0 || (size_t)n >= sizeof b) {
                fail(e, -EINVAL);
                return;
        }
        end_sample(e, b, (size_t)n);
}

void expo_raw_value(struct expo *e, const char *s, size_t n) {
        size_t i = n > 0 && s[0] == '-' ? 1 : 0;

        if (i == n) {
                fail(e, -EINVAL);
                return;
        }
        for (; i < n; i++)
                if (s[i] < '0' || s[i] > '9') {
                        fail(e, -EINVAL);
                        return;
                }
        end_sample(e, s, n);
}
