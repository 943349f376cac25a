/* fuzz-metrics.c — libFuzzer target for the metrics collectors (sampler.h)
 * and the label escaping of the exposition writer (expo.h).
 *
 * The first byte of the input picks the collector, the rest is the text of
 * its /proc file.  Any text may be rejected, but never with a crash, a leak,
 * a read past the end or undefined behaviour.  Beyond that, properties the
 * scrape relies on abort when broken: a collector that fails leaves the
 * output exactly as it was; one that succeeds leaves it ending in a newline,
 * with every line a comment or a sample whose name is valid, and never in
 * the middle of a sample.  The same bytes are also escaped as a label value,
 * which must then hold no raw newline and no unescaped double quote, and be
 * valid UTF-8.  The corpus holds captures of a real machine's files, each
 * with its selector byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/metrics/collectors.h"
#include "modules/metrics/expo.h"
#include "modules/metrics/sampler.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int stat100(struct expo *e, const char *t, size_t n) {
        return collect_stat(e, t, n, 100);
}

static int sockstat4k(struct expo *e, const char *t, size_t n) {
        return collect_sockstat(e, t, n, 4096);
}

static int udp_both(struct expo *e, const char *t, size_t n) {
        return collect_udp_queues(e, t, n, t, n);
}

static int clocksources(struct expo *e, const char *t, size_t n) {
        return collect_clocksources(e, t, n, t, n);
}

static int disk_info(struct expo *e, const char *t, size_t n) {
        return collect_disk_info(e, t, n, NULL);
}

/* New collectors go at the end: a corpus file's selector byte keeps its
 * collector. */
static int (*const collectors[])(struct expo *, const char *, size_t) = {
        stat100,        collect_meminfo,       collect_loadavg,         collect_netdev,
        collect_diskstats, collect_filefd,     sockstat4k,              collect_netstat,
        collect_snmp6,  collect_arp,           collect_conntrack_count, collect_conntrack_stat,
        collect_entropy_avail, collect_psi_io, collect_softnet,         collect_vmstat,
        collect_schedstat, udp_both,           clocksources,            collect_os,
        collect_selinux, disk_info,
};

static void check_output(const struct buf *b) {
        const char *p = b->data, *end = b->data + b->len;

        if (b->len == 0)
                return;
        if (end[-1] != '\n')
                abort();
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *n = p;
                if (!nl)
                        abort();
                if (*p != '#') {
                        while (n < nl && *n != '{' && *n != ' ')
                                n++;
                        if (!expo_metric_name_valid(p, (size_t)(n - p)))
                                abort();
                }
                p = nl + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data + 1;
        struct buf b, esc;
        struct expo e;
        int r;

        if (size < 1)
                return 0;
        buf_init(&b, 16u << 20);
        expo_init(&e, &b);
        r = collectors[data[0] % (sizeof collectors / sizeof collectors[0])](&e, text, size - 1);
        if (e.error < 0 || e.in_sample || (r < 0 && b.len != 0))
                abort();
        check_output(&b);
        buf_free(&b);

        buf_init(&esc, 16u << 20);
        if (expo_escape_label_value(&esc, text, size - 1) == 0 && esc.len > 0) {
                for (size_t i = 0; i < esc.len; i++) {
                        if (esc.data[i] == '\n')
                                abort();
                        if (esc.data[i] == '\\')
                                i++; /* an escape: the next byte is its letter */
                        else if (esc.data[i] == '"')
                                abort();
                }
                if (!utf8_valid(esc.data, strlen(esc.data)))
                        abort();
        }
        buf_free(&esc);
        return 0;
}
