/* csv.h — a small, strict, bounded RFC 4180 reader with a pull API.
 *
 * The reader works on a buffer the caller owns and hands back one row at a
 * time.  It accepts exactly RFC 4180 plus LF-only line ends: fields separated
 * by ',', rows ended by CRLF or LF (the last row may end at end of input),
 * quoted fields that may hold ',', CR, LF and doubled quotes.  Everything
 * else is an error with the line and column where it was found:
 *   - a '"' inside an unquoted field, or anything but ',' or a line end after
 *     a closing quote;
 *   - a quoted field still open at end of input;
 *   - a CR not followed by LF outside quotes;
 *   - a NUL byte, invalid UTF-8 (overlong forms, surrogates, > U+10FFFF), or a
 *     UTF-8 byte order mark at the start;
 *   - a field longer than CSV_FIELD_MAX bytes, a row with more than
 *     CSV_FIELDS_MAX fields, or a row whose field count differs from the
 *     first row's.
 * An empty line is a row with one empty field (RFC 4180 has no blank lines),
 * so a stray blank line fails the field-count check rather than vanishing.
 *
 * Ownership: the row's field pointers point into the reader's own buffer and
 * stay valid until the next csv_read_row() or csv_reader_free().  Fields are
 * NUL-terminated; since NUL bytes are refused, strlen() of a field equals its
 * length.  Memory use is bounded by CSV_FIELDS_MAX * (CSV_FIELD_MAX + 1).
 * After an error the reader stays failed and returns the same error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CSV_FIELD_MAX  (8u * 1024)
#define CSV_FIELDS_MAX 64u

struct csv_error {
        unsigned line, column; /* 1-based; where the problem was found */
        char message[160];
};

struct csv_row {
        unsigned line; /* the physical line the row starts on */
        size_t n_fields;
        const char *const *fields;
        const size_t *lengths;
};

struct csv_reader {
        const char *data;
        size_t size, pos;
        unsigned line;     /* current physical line, 1-based */
        size_t line_start; /* offset of the current line's first byte */
        size_t expected_fields;
        int failed; /* 0, or the error every later call returns */

        char *buf; /* the current row's fields, each NUL-terminated */
        size_t buf_len, buf_cap;
        size_t offsets[CSV_FIELDS_MAX];
        size_t lengths[CSV_FIELDS_MAX];
        const char *fields[CSV_FIELDS_MAX];

        struct csv_error error;
};

void csv_reader_init(struct csv_reader *r, const char *data, size_t size);
void csv_reader_free(struct csv_reader *r);

/* Reads the next row into *ret.  Returns 1 for a row, 0 at end of input,
 * -EINVAL for malformed input, -E2BIG past a limit, -ENOMEM; on failure
 * r->error says where and why. */
int csv_read_row(struct csv_reader *r, struct csv_row *ret);
