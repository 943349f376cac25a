/* csv.c — the strict RFC 4180 reader declared in csv.h.
 *
 * One pass over the caller's buffer, one row per call.  Unquoted bytes are
 * copied as they are; a quoted field loses its enclosing quotes and each
 * doubled quote becomes one.  UTF-8 is checked on the raw input: quoting
 * only ever adds or removes ASCII bytes, so valid input means valid fields,
 * and the error can point at the exact line and column.
 *
 * Limits are enforced before memory is used: a field is refused as soon as
 * it would pass CSV_FIELD_MAX, a row as soon as it would pass CSV_FIELDS_MAX
 * fields, so the row buffer never exceeds CSV_FIELDS_MAX * (CSV_FIELD_MAX+1).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define ROW_BUF_MAX ((size_t)CSV_FIELDS_MAX * (CSV_FIELD_MAX + 1))

void csv_reader_init(struct csv_reader *r, const char *data, size_t size) {
        memset(r, 0, sizeof *r);
        r->data = data;
        r->size = data ? size : 0;
        r->line = 1;
}

void csv_reader_free(struct csv_reader *r) {
        if (!r)
                return;
        free(r->buf);
        r->buf = NULL;
        r->buf_len = r->buf_cap = 0;
}

static unsigned column_of(const struct csv_reader *r, size_t pos) {
        size_t c = pos - r->line_start + 1;
        return c > UINT_MAX ? UINT_MAX : (unsigned)c;
}

static int fail(struct csv_reader *r, int err, unsigned line, unsigned column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int fail(struct csv_reader *r, int err, unsigned line, unsigned column, const char *fmt,
                ...) {
        va_list ap;

        r->error.line = line;
        r->error.column = column;
        va_start(ap, fmt);
        vsnprintf(r->error.message, sizeof r->error.message, fmt, ap);
        va_end(ap);
        r->failed = err;
        return err;
}

static int buf_put(struct csv_reader *r, const char *p, size_t n) {
        if (n > ROW_BUF_MAX - r->buf_len)
                return -E2BIG;
        if (r->buf_len + n > r->buf_cap) {
                size_t cap = r->buf_cap ? r->buf_cap : 4096;
                char *b;

                while (cap < r->buf_len + n)
                        cap *= 2;
                if (cap > ROW_BUF_MAX)
                        cap = ROW_BUF_MAX;
                b = realloc(r->buf, cap);
                if (!b)
                        return -ENOMEM;
                r->buf = b;
                r->buf_cap = cap;
        }
        memcpy(r->buf + r->buf_len, p, n);
        r->buf_len += n;
        return 0;
}

static bool is_cont(unsigned char c) {
        return (c & 0xC0) == 0x80;
}

/* The length of the valid UTF-8 sequence at p (avail bytes there), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
        unsigned char c = p[0];

        if (c < 0x80)
                return 1;
        if (c < 0xC2) /* a stray continuation byte, or an overlong 2-byte form */
                return 0;
        if (c < 0xE0)
                return avail >= 2 && is_cont(p[1]) ? 2 : 0;
        if (c < 0xF0) {
                if (avail < 3 || !is_cont(p[1]) || !is_cont(p[2]))
                        return 0;
                if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
                        return 0; /* overlong, or a UTF-16 surrogate */
                return 3;
        }
        if (c < 0xF5) {
                if (avail < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3]))
                        return 0;
                if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
                        return 0; /* overlong, or past U+10FFFF */
                return 4;
        }
        return 0;
}

/* Copies the data byte (or UTF-8 sequence) at r->pos into the field being
 * built, counting lines; *field_len tracks the field's length. */
static int take_byte(struct csv_reader *r, size_t *field_len, unsigned field_line,
                     unsigned field_col) {
        unsigned char c = (unsigned char)r->data[r->pos];
        size_t n = 1;
        int k;

        if (c == '\0')
                return fail(r, -EINVAL, r->line, column_of(r, r->pos), "NUL byte in input");
        if (c >= 0x80) {
                n = utf8_seq((const unsigned char *)r->data + r->pos, r->size - r->pos);
                if (n == 0)
                        return fail(r, -EINVAL, r->line, column_of(r, r->pos),
                                    "invalid UTF-8 (byte 0x%02x)", c);
        }
        if (n > CSV_FIELD_MAX - *field_len)
                return fail(r, -E2BIG, field_line, field_col, "field longer than %u bytes",
                            CSV_FIELD_MAX);
        k = buf_put(r, r->data + r->pos, n);
        if (k < 0)
                return fail(r, k, r->line, column_of(r, r->pos), "out of memory");
        *field_len += n;
        r->pos += n;
        if (c == '\n') {
                r->line++;
                r->line_start = r->pos;
        }
        return 0;
}

static int read_quoted(struct csv_reader *r, size_t *field_len, unsigned field_line,
                       unsigned field_col) {
        r->pos++; /* the opening quote */
        for (;;) {
                int k;

                if (r->pos >= r->size)
                        return fail(r, -EINVAL, field_line, field_col,
                                    "quoted field not closed before the end of the input");
                if (r->data[r->pos] == '"') {
                        if (r->pos + 1 < r->size && r->data[r->pos + 1] == '"') {
                                if (*field_len >= CSV_FIELD_MAX)
                                        return fail(r, -E2BIG, field_line, field_col,
                                                    "field longer than %u bytes", CSV_FIELD_MAX);
                                k = buf_put(r, "\"", 1);
                                if (k < 0)
                                        return fail(r, k, r->line, column_of(r, r->pos),
                                                    "out of memory");
                                (*field_len)++;
                                r->pos += 2;
                                continue;
                        }
                        r->pos++; /* the closing quote */
                        break;
                }
                k = take_byte(r, field_len, field_line, field_col);
                if (k < 0)
                        return k;
        }
        if (r->pos < r->size) {
                char c = r->data[r->pos];

                if (c != ',' && c != '\r' && c != '\n') {
                        unsigned char u = (unsigned char)c;

                        if (u >= 0x20 && u < 0x7f)
                                return fail(r, -EINVAL, r->line, column_of(r, r->pos),
                                            "'%c' after a closing quote; expected ',' or the end "
                                            "of the line",
                                            c);
                        return fail(r, -EINVAL, r->line, column_of(r, r->pos),
                                    "byte 0x%02x after a closing quote; expected ',' or the end "
                                    "of the line",
                                    u);
                }
        }
        return 0;
}

static int read_unquoted(struct csv_reader *r, size_t *field_len, unsigned field_line,
                         unsigned field_col) {
        while (r->pos < r->size) {
                char c = r->data[r->pos];
                int k;

                if (c == ',' || c == '\r' || c == '\n')
                        break;
                if (c == '"')
                        return fail(r, -EINVAL, r->line, column_of(r, r->pos),
                                    "'\"' inside an unquoted field; quote the whole field and "
                                    "double the quote");
                k = take_byte(r, field_len, field_line, field_col);
                if (k < 0)
                        return k;
        }
        return 0;
}

int csv_read_row(struct csv_reader *r, struct csv_row *ret) {
        size_t n = 0;
        unsigned row_line;

        if (r->failed)
                return r->failed;
        if (r->pos >= r->size)
                return 0;
        if (r->pos == 0 && r->size >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
                return fail(r, -EINVAL, 1, 1, "UTF-8 byte order mark at the start of the input");

        r->buf_len = 0;
        row_line = r->line;
        for (;;) {
                unsigned field_line = r->line, field_col = column_of(r, r->pos);
                size_t start = r->buf_len, field_len = 0;
                int k;

                if (n >= CSV_FIELDS_MAX)
                        return fail(r, -E2BIG, field_line, field_col,
                                    "more than %u fields in one row", CSV_FIELDS_MAX);
                if (r->pos < r->size && r->data[r->pos] == '"')
                        k = read_quoted(r, &field_len, field_line, field_col);
                else
                        k = read_unquoted(r, &field_len, field_line, field_col);
                if (k < 0)
                        return k;
                k = buf_put(r, "", 1);
                if (k < 0)
                        return fail(r, k, field_line, field_col, "out of memory");
                r->offsets[n] = start;
                r->lengths[n] = field_len;
                n++;

                if (r->pos >= r->size)
                        break;
                if (r->data[r->pos] == ',') {
                        r->pos++;
                        continue;
                }
                if (r->data[r->pos] == '\r') {
                        if (r->pos + 1 >= r->size || r->data[r->pos + 1] != '\n')
                                return fail(r, -EINVAL, r->line, column_of(r, r->pos),
                                            "CR not followed by LF");
                        r->pos++;
                }
                r->pos++; /* the LF */
                r->line++;
                r->line_start = r->pos;
                break;
        }

        if (r->expected_fields == 0)
                r->expected_fields = n;
        else if (n != r->expected_fields)
                return fail(r, -EINVAL, row_line, 1, "row has %zu fields, the first row has %zu", n,
                            r->expected_fields);

        for (size_t i = 0; i < n; i++)
                r->fields[i] = r->buf + r->offsets[i];
        ret->line = row_line;
        ret->n_fields = n;
        ret->fields = r->fields;
        ret->lengths = r->lengths;
        return 1;
}
