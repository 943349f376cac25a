/* sse.c — see sse.h.  One line at a time into r->line (bounded), each
 * complete line handled at once; the event's data builds up in r->data
 * (bounded) until the blank line. */
#include "sse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void sse_reader_init(struct sse_reader *r, size_t max_line,
                     int (*on_event)(const char *event, const char *data, void *arg), void *arg) {
        *r = (struct sse_reader){.on_event = on_event, .arg = arg};
        buf_init(&r->line, max_line + 1);
        buf_init(&r->data, max_line + 1);
}

void sse_reader_free(struct sse_reader *r) {
        buf_free(&r->line);
        buf_free(&r->data);
}

/* "field: value" or "field:value": the value, when the line is that field. */
static const char *field_value(const char *l, const char *field) {
        size_t n = strlen(field);

        if (strncmp(l, field, n) != 0 || l[n] != ':')
                return NULL;
        return l + n + 1 + (l[n + 1] == ' ');
}

static int dispatch(struct sse_reader *r) {
        int q = 0;

        if (r->data.len > 0 && r->data.data)
                q = r->on_event(r->event[0] ? r->event : "message", r->data.data, r->arg);
        r->data.len = 0;
        if (r->data.data)
                r->data.data[0] = '\0';
        r->event[0] = '\0';
        return q < 0 ? q : 0;
}

static int line_done(struct sse_reader *r) {
        const char *l = r->line.data ? r->line.data : "", *v;
        size_t n = r->line.len;

        if (n > 0 && l[n - 1] == '\r')
                r->line.data[--n] = '\0';
        if (n == 0)
                return dispatch(r);
        if (l[0] == ':')
                return 0;
        if ((v = field_value(l, "event"))) {
                if (strlen(v) >= sizeof r->event)
                        return -E2BIG;
                snprintf(r->event, sizeof r->event, "%s", v);
                return 0;
        }
        if ((v = field_value(l, "data"))) {
                if (r->data.len > 0 && buf_append(&r->data, "\n", 1) < 0)
                        return -E2BIG;
                return buf_puts(&r->data, v) < 0 ? -E2BIG : 0;
        }
        return 0; /* id:, retry:, anything else */
}

int sse_reader_feed(struct sse_reader *r, const char *p, size_t n) {
        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t k = nl ? (size_t)(nl - p) : n;
                int q;

                if (buf_append(&r->line, p, k) < 0)
                        return -E2BIG;
                if (!nl)
                        return 0;
                q = line_done(r);
                r->line.len = 0;
                if (r->line.data)
                        r->line.data[0] = '\0';
                if (q < 0)
                        return q;
                p += k + 1;
                n -= k + 1;
        }
        return 0;
}
