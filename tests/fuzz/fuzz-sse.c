/* fuzz-sse.c — libFuzzer target for the client's reader of Server-Sent
 * Events (src/cli/sse.c), what `steward ping` and `traceroute` read.
 *
 * The first byte is a chunk size (1 to 256); the rest is the stream, fed
 * once whole and once in chunks of that size.  Any input may be refused
 * (-E2BIG), never with a crash, a leak or undefined behaviour; the two
 * feedings must dispatch the same events (name and data) in the same order,
 * and every event must have a name without a newline and non-empty data.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sse.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 4096

struct record {
        struct buf seen;
};

static int on_event(const char *event, const char *data, void *arg) {
        struct record *rec = arg;

        if (!event[0] || strchr(event, '\n') || strlen(event) >= 32 || !data[0])
                abort();
        if (buf_puts(&rec->seen, event) < 0 || buf_append(&rec->seen, "", 1) < 0 ||
            buf_puts(&rec->seen, data) < 0 || buf_append(&rec->seen, "", 1) < 0)
                return -E2BIG;
        return 0;
}

static int feed(const char *p, size_t n, size_t chunk, struct record *rec) {
        struct sse_reader r;
        int q = 0;

        sse_reader_init(&r, MAX_LINE, on_event, rec);
        for (size_t off = 0; off < n && q >= 0; off += chunk)
                q = sse_reader_feed(&r, p + off, n - off < chunk ? n - off : chunk);
        sse_reader_free(&r);
        return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct record whole = {0}, parts = {0};
        size_t chunk;
        int a, b;

        if (size < 1)
                return 0;
        chunk = (size_t)data[0] % 256 + 1;
        buf_init(&whole.seen, 1u << 22);
        buf_init(&parts.seen, 1u << 22);
        a = feed((const char *)data + 1, size - 1, size, &whole);
        b = feed((const char *)data + 1, size - 1, chunk, &parts);
        /* The same events up to the first error, and the same verdict. */
        if ((a < 0) != (b < 0))
                abort();
        if (a >= 0 && (whole.seen.len != parts.seen.len ||
                       (whole.seen.len && memcmp(whole.seen.data, parts.seen.data,
                                                 whole.seen.len) != 0)))
                abort();
        buf_free(&whole.seen);
        buf_free(&parts.seen);
        return 0;
}
