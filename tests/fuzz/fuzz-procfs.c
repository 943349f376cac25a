/* fuzz-procfs.c — libFuzzer target for the /proc parsers of common/procfs.h.
 *
 * The first byte of the input picks the parser, the rest is the text of
 * its file.  Any text may be rejected, but never with a crash, a leak, a
 * read past the end or undefined behaviour.  Beyond that, what callers rely
 * on aborts when broken: an accepted result keeps its own invariants (CPU
 * ids strictly ascending, interface and disk names within their size and
 * NUL-terminated, a process's comm and name terminated, its pid positive),
 * and every view the key and argument iterators hand out lies inside the
 * text (maps paths, the cgroup v2 path).  The corpus holds the fixtures
 * of tests/unit, each with its selector byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok) {
        if (!ok)
                abort();
}

static void in_text(const char *v, size_t n, const char *text, size_t len) {
        check(v >= text && n <= len && v + n <= text + len);
}

static void stat_(const char *t, size_t n) {
        struct proc_stat s, c;

        if (proc_stat_parse(t, n, &s) < 0)
                return;
        for (size_t i = 1; i < s.n_cpus; i++)
                check(s.cpus[i - 1].id < s.cpus[i].id);
        if (proc_stat_copy(&s, &c) == 0) {
                check(c.n_cpus == s.n_cpus);
                proc_stat_done(&c);
        }
        proc_stat_done(&s);
}

static void meminfo_(const char *t, size_t n) {
        struct meminfo m;
        const char *p, *end, *k;
        size_t kl;
        uint64_t v;
        bool kb;

        if (meminfo_parse(t, n, &m) == 0)
                check(m.available <= m.total || m.has_available);
        if (tv_has_nul(t, n))
                return;
        p = t;
        end = t + n;
        while (meminfo_next(&p, end, &k, &kl, &v, &kb) > 0)
                in_text(k, kl, t, n);
}

static void small(const char *t, size_t n) {
        struct loadavg la;
        struct uptime up;
        struct file_nr f;

        (void)loadavg_parse(t, n, &la);
        (void)uptime_parse(t, n, &up);
        (void)file_nr_parse(t, n, &f);
}

static void net_dev(const char *t, size_t n) {
        struct net_dev *d = NULL;
        size_t k = 0;

        if (net_dev_parse(t, n, &d, &k) < 0)
                return;
        for (size_t i = 0; i < k; i++)
                check(strnlen(d[i].name, sizeof d[i].name) < sizeof d[i].name);
        free(d);
}

static void diskstats(const char *t, size_t n) {
        struct diskstat *d = NULL;
        size_t k = 0;

        if (diskstats_parse(t, n, &d, &k) < 0)
                return;
        for (size_t i = 0; i < k; i++) {
                size_t l = strnlen(d[i].name, sizeof d[i].name);
                check(l > 0 && l < sizeof d[i].name);
                check(d[i].n > DS_IO_WEIGHTED_MS && d[i].n <= _DS_MAX);
                (void)diskstats_device_excluded(d[i].name, l);
        }
        free(d);
}

static void pid(const char *t, size_t n) {
        struct proc_pid_stat s;
        struct proc_pid_status st;
        const char *p = t, *end = t + n, *a;
        size_t al;

        if (proc_pid_stat_parse(t, n, &s) == 0)
                check(s.pid > 0 && strnlen(s.comm, sizeof s.comm) < sizeof s.comm);
        if (proc_pid_status_parse(t, n, &st) == 0)
                check(st.pid > 0 && strnlen(st.name, sizeof st.name) < sizeof st.name);
        while (proc_cmdline_next(&p, end, &a, &al))
                in_text(a, al, t, n);
}

static void text_files(const char *t, size_t n) {
        struct mountinfo m;
        struct os_release o;
        struct cpuinfo c;

        if (mountinfo_parse(t, n, &m) == 0)
                mountinfo_done(&m);
        if (os_release_parse(t, n, &o) == 0)
                os_release_done(&o);
        if (cpuinfo_parse(t, n, &c) == 0)
                cpuinfo_done(&c);
}

static void pid_more(const char *t, size_t n) {
        struct proc_pid_io io;
        struct proc_smaps_rollup sm;
        struct proc_limits *l = malloc(sizeof *l);
        struct cgroup_hint h;
        struct proc_map m;
        const char *p = t, *end = t + n, *v;
        size_t vl;

        struct proc_schedstat ss;
        (void)proc_pid_io_parse(t, n, &io);
        (void)proc_schedstat_parse(t, n, &ss);
        (void)proc_smaps_rollup_parse(t, n, &sm);
        if (l && proc_limits_parse(t, n, l) == 0) {
                check(l->n <= PROCFS_MAX_LIMITS);
                for (size_t i = 0; i < l->n; i++)
                        check(strnlen(l->v[i].name, sizeof l->v[i].name) < sizeof l->v[i].name &&
                              strnlen(l->v[i].unit, sizeof l->v[i].unit) < sizeof l->v[i].unit);
        }
        free(l);
        while (proc_maps_next(&p, end, &m) > 0) {
                in_text(m.path, m.path_len, t, n);
                check(m.start <= m.end);
        }
        cgroup_parse(t, n, &h);
        check(strnlen(h.unit, sizeof h.unit) < sizeof h.unit);
        check(strnlen(h.container, sizeof h.container) < sizeof h.container);
        if (cgroup_v2_path(t, n, &v, &vl) == 0)
                in_text(v, vl, t, n);
}

/* The smaller sources of the metrics collectors: every view handed out
 * lies inside the text. */
static void node_sources(const char *t, size_t n) {
        static const char *const names[] = {"found", "drop", "insert", "search_restart"};
        const char *p, *end = t + n, *k;
        size_t kl;
        uint64_t v, w, sums[4], found;
        struct psi ps;
        struct softnet_row row;
        struct schedstat_cpu c;

        (void)psi_parse(t, n, &ps);
        (void)net_stat_table_sum(t, n, names, ELEMENTSOF(names), sums, &found);
        (void)udp_queues_parse(t, n, &v, &w);
        (void)tv_to_hex_u64(t, n, &v);
        if (udev_data_property(t, n, "ID_MODEL", &k, &kl) == 0)
                in_text(k, kl, t, n);
        for (p = t; softnet_next(&p, end, &row) > 0;)
                ;
        for (p = t; kv_line_next(&p, end, &k, &kl, &v) > 0;)
                in_text(k, kl, t, n);
        for (p = t; arp_next(&p, end, &k, &kl) > 0;) {
                in_text(k, kl, t, n);
                check(kl > 0 && kl < PROCFS_IFNAMSIZ);
        }
        for (p = t; schedstat_next(&p, end, &c) > 0;)
                ;
}

/* New parsers go at the end: a corpus file's selector byte keeps its
 * parser. */
static void (*const parsers[])(const char *, size_t) = {
        stat_, meminfo_, small, net_dev, diskstats, pid, text_files, pid_more, node_sources,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        parsers[data[0] % ELEMENTSOF(parsers)]((const char *)data + 1, size - 1);
        return 0;
}
