/* sse.h — a reader of Server-Sent Events (text/event-stream) as bytes
 * arrive in pieces: the `steward` client's view of a streaming command's
 * answer (docs/api.md, "Streaming commands").
 *
 * Lines end at '\n' (a '\r' before it is dropped); "event: NAME" names the
 * event, each "data: TEXT" line adds to its data (joined with '\n', as the
 * standard says), a line starting with ':' is a comment, other fields are
 * ignored; a blank line dispatches the event, when it has data, to
 * on_event(name, data, arg) ("message" when unnamed).  A line, or an
 * event's data, over max_line bytes is an error (-E2BIG), as is what
 * on_event returns below 0.  The reader owns its buffers; nothing of the
 * input is kept past a call but an unfinished line.  A pure function of its
 * input: fuzzed (tests/fuzz/fuzz-sse.c).
 */
#pragma once

#include <stddef.h>

#include "util.h"

struct sse_reader {
        struct buf line, data;
        char event[32];
        int (*on_event)(const char *event, const char *data, void *arg);
        void *arg;
};

void sse_reader_init(struct sse_reader *r, size_t max_line,
                     int (*on_event)(const char *event, const char *data, void *arg), void *arg);
/* Feeds n bytes; 0, or the first error (the reader is then spent). */
int sse_reader_feed(struct sse_reader *r, const char *p, size_t n);
void sse_reader_free(struct sse_reader *r);
