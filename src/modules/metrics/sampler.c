/* sampler.c — reads the kernel's counters for a scrape and writes them as
 * node_exporter names them (see sampler.h).
 *
 * Why descriptors kept open and pread(): the floor of a scrape is the cost
 * of the /proc files themselves.  DESIGN.md measured ~0.33–0.40 ms for
 * opening and reading the usual set, at least 7 µs per open+read+close, and
 * ~80 µs for /proc/sys/fs/file-nr.  Opening each file once and reading it
 * with pread() from offset 0 (which makes a seq_file start over) leaves only
 * the kernel's work of printing the text: measured on the same machine,
 * /proc/net/dev 10 µs by pread against 25 µs by open+read+close,
 * /proc/net/sockstat 3.5 against 18, /proc/net/netstat 57 against 136.  The
 * 80 µs of file-nr are something else: a /proc/sys read makes the kernel
 * allocate and zero a buffer as large as the read asked for, and a reader
 * that asks for a megabyte pays for it; asked for 4 KiB it costs ~4 µs.  So
 * a read never asks for more than its source's own cap (4 KiB for file-nr)
 * nor more than the buffer holds, and the buffer starts small and grows
 * only when a file does not fit.
 *
 * Invariants and ownership:
 *  - `sampler` (descriptors, read buffer, the parsed mount table) is used
 *    only under sampler.lock: one scrape at a time reads, the others wait
 *    (a scrape takes a fraction of a millisecond).
 *  - Descriptors are opened in the front, after it dropped privilege, so
 *    /proc/self is the front and nothing read here needs root.  A source
 *    that cannot be opened stays closed for the daemon's life; its
 *    collector then reports failure.
 *  - The mount table is kept parsed and read again only after the kernel
 *    flagged a change on its descriptor (collect_mounts_locked()).
 *  - Collectors write whole families or nothing: on malformed text the
 *    output is cut back to where the collector started (rollback()).
 *  - `collectors[]` is the one list of collectors: the order of the output
 *    and the rows of node_scrape_collector_success both come from it.
 *  - All reading and parsing goes through common/procfs.h (the reader,
 *    the tokenizer, the parsers); the collectors only name families.
 */
#include "modules/metrics/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "modules/metrics/collectors.h"
#include "modules/metrics/textfile.h"
#include "modules/metrics/timex.h"
#include "procfs.h"
#include "util.h"

#define NAME_MAX_LEN 128 /* a metric name built from kernel keys */

enum source {
        SRC_STAT,
        SRC_MEMINFO,
        SRC_LOADAVG,
        SRC_NETDEV,
        SRC_DISKSTATS,
        SRC_MOUNTINFO,
        SRC_FILENR,
        SRC_SOCKSTAT,
        SRC_SOCKSTAT6,
        SRC_SNMP,
        SRC_NETSTAT,
        SRC_SNMP6,
        SRC_VMSTAT,
        SRC_SOFTNET,
        SRC_ARP,
        SRC_PSI_CPU,
        SRC_PSI_IO,
        SRC_PSI_MEMORY,
        SRC_CT_COUNT,
        SRC_CT_MAX,
        SRC_CT_STAT,
        SRC_ENTROPY,
        SRC_POOLSIZE,
        SRC_UDP,
        SRC_UDP6,
        SRC_CLOCKSRC_AVAIL,
        SRC_CLOCKSRC_CUR,
        SRC_SELINUX,
        SRC_SCHEDSTAT,
        SRC_MDSTAT,
        _SRC_MAX,
};

/* The sources, closed until open_all_locked().  SOURCE: a file printed in
 * one piece or in records shorter than PROCFS_SHORT_READ, read without the
 * extra call that finds its end (procfs.h); LONG_SOURCE: one whose records
 * may be longer (mount points, a CPU's scheduling domains, an array's
 * status), read to the end. */
#define SOURCE(p, m)                                                                               \
        { .path = (p), .max = (m), .fd = -1, .short_read_ends = true }
#define LONG_SOURCE(p, m)                                                                          \
        { .path = (p), .max = (m), .fd = -1 }
static const struct procfs_source sources[_SRC_MAX] = {
        /* PROCFS_MAX_CPUS lines and a long "intr" line. */
        [SRC_STAT] = SOURCE("/proc/stat", 4UL << 20),
        [SRC_MEMINFO] = SOURCE("/proc/meminfo", 256UL << 10),
        [SRC_LOADAVG] = SOURCE("/proc/loadavg", 4UL << 10),
        [SRC_NETDEV] = SOURCE("/proc/net/dev", 4UL << 20),
        [SRC_DISKSTATS] = SOURCE("/proc/diskstats", 4UL << 20),
        [SRC_MOUNTINFO] = LONG_SOURCE("/proc/self/mountinfo", 64UL << 20),
        [SRC_FILENR] = SOURCE("/proc/sys/fs/file-nr", 4UL << 10),
        [SRC_SOCKSTAT] = SOURCE("/proc/net/sockstat", 64UL << 10),
        [SRC_SOCKSTAT6] = SOURCE("/proc/net/sockstat6", 64UL << 10),
        [SRC_SNMP] = SOURCE("/proc/net/snmp", 256UL << 10),
        [SRC_NETSTAT] = SOURCE("/proc/net/netstat", 256UL << 10),
        [SRC_SNMP6] = SOURCE("/proc/net/snmp6", 256UL << 10),
        [SRC_VMSTAT] = SOURCE("/proc/vmstat", 256UL << 10),
        [SRC_SOFTNET] = SOURCE("/proc/net/softnet_stat", 4UL << 20),
        [SRC_ARP] = SOURCE("/proc/net/arp", 4UL << 20),
        [SRC_PSI_CPU] = SOURCE("/proc/pressure/cpu", 4UL << 10),
        [SRC_PSI_IO] = SOURCE("/proc/pressure/io", 4UL << 10),
        [SRC_PSI_MEMORY] = SOURCE("/proc/pressure/memory", 4UL << 10),
        [SRC_CT_COUNT] = SOURCE("/proc/sys/net/netfilter/nf_conntrack_count", 4UL << 10),
        [SRC_CT_MAX] = SOURCE("/proc/sys/net/netfilter/nf_conntrack_max", 4UL << 10),
        [SRC_CT_STAT] = SOURCE("/proc/net/stat/nf_conntrack", 1UL << 20),
        [SRC_ENTROPY] = SOURCE("/proc/sys/kernel/random/entropy_avail", 4UL << 10),
        [SRC_POOLSIZE] = SOURCE("/proc/sys/kernel/random/poolsize", 4UL << 10),
        /* a line of 128 bytes a socket */
        [SRC_UDP] = SOURCE("/proc/net/udp", 64UL << 20),
        [SRC_UDP6] = SOURCE("/proc/net/udp6", 64UL << 20),
        [SRC_CLOCKSRC_AVAIL] = SOURCE(
                "/sys/devices/system/clocksource/clocksource0/available_clocksource", 4UL << 10),
        [SRC_CLOCKSRC_CUR] = SOURCE(
                "/sys/devices/system/clocksource/clocksource0/current_clocksource", 4UL << 10),
        [SRC_SELINUX] = SOURCE("/sys/fs/selinux/enforce", 4UL << 10),
        /* a line of some 100 bytes a CPU and a few a scheduling domain */
        [SRC_SCHEDSTAT] = LONG_SOURCE("/proc/schedstat", 16UL << 20),
        [SRC_MDSTAT] = LONG_SOURCE("/proc/mdstat", 4UL << 20),
};
#undef SOURCE
#undef LONG_SOURCE

/* The file systems worth listing, from one mountinfo text: real ones (not
 * pseudo, not under node_exporter's excluded mount points), one per mount
 * point.  Built when the mount table changed, used by every scrape. */
struct fs_list {
        struct mountinfo mi;
        const struct mount_entry **v; /* into mi */
        size_t n;
};

static struct {
        pthread_mutex_t lock;
        bool opened;
        struct procfs_source src[_SRC_MAX];
        struct procfs_buf buf;
        unsigned long hz, pagesize;
        struct fs_list mounts; /* valid when have_mounts */
        bool have_mounts;
        char *os_release; /* the text of os-release, read once at open; NULL: none */
        int sysfd;        /* /sys, for the sysfs collectors; -1: none */
        struct sysfs_layout layout; /* cpufreq's, thermal_zone's and edac's listings */
        uint64_t hwmon_absent;      /* when class/hwmon was found absent; 0: present */
        uint64_t ps_none;           /* when no power supply was found; 0: some */
        int ps_none_r;              /* and the collector's answer then */
        size_t os_release_len;
} sampler = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .sysfd = -1,
};

/* udev's properties of the block devices, /run/udev/data/bMAJ:MIN, for
 * node_disk_info's labels (path, wwn, model, serial, revision: what the
 * device is, not what it does).  Each device's text (or the error reading
 * it) is kept and read again when SYSFS_RELIST_USEC old, like the sysfs
 * listings; UDEV_CACHED devices at most, the others read at each call. */
#define UDEV_CACHED 64
struct udev_entry {
        unsigned major, minor;
        uint64_t read_at; /* 0: unused */
        char *text;       /* NULL when error < 0 */
        size_t len;
        int error;
};
static struct { /* under sampler.lock */
        struct procfs_buf buf;
        struct udev_entry e[UDEV_CACHED];
        struct udev_entry one; /* past UDEV_CACHED: buf's text, not kept */
        uint64_t now;          /* of the scrape */
} udev;

static void udev_free(void) {
        for (size_t i = 0; i < UDEV_CACHED; i++)
                free(udev.e[i].text);
        procfs_buf_free(&udev.buf);
        memset(&udev, 0, sizeof udev);
}

/* ---- small text helpers ------------------------------------------------- */

/* Cuts the output back to `mark` after a malformed source. */
static void rollback(struct expo *e, size_t mark) {
        if (e->error < 0 || e->out->len < mark)
                return;
        e->out->len = mark;
        if (e->out->data)
                e->out->data[mark] = '\0';
        e->in_sample = false;
        e->labels = false;
        e->line_len = 0;
}

/* Concatenates the strings up to NULL into dst; -ENAMETOOLONG (and dst
 * empty) if they do not fit.  Names and help texts are built this way rather
 * than with snprintf(), which costs more than the rest of a sample. */
static int join(char *dst, size_t size, ...) {
        const char *part;
        size_t n = 0;
        va_list ap;

        va_start(ap, size);
        while ((part = va_arg(ap, const char *))) {
                size_t l = strlen(part);
                if (l >= size - n) {
                        va_end(ap);
                        dst[0] = '\0';
                        return -ENAMETOOLONG;
                }
                memcpy(dst + n, part, l);
                n += l;
        }
        va_end(ap);
        dst[n] = '\0';
        return 0;
}

/* JOIN(array, "a", b, …): join() into a char array, with the end marker. */
#define JOIN(dst, ...) join((dst), sizeof(dst), __VA_ARGS__, (const char *)NULL)

/* One family of one sample without labels. */
static void single_u64(struct expo *e, const char *name, const char *type, const char *help,
                       uint64_t v) {
        expo_family(e, name, type, help);
        expo_sample(e, name);
        expo_u64(e, v);
}

/* ---- /proc/stat ----------------------------------------------------------- */

int collect_stat(struct expo *e, const char *text, size_t len, unsigned long hz) {
        /* node_exporter: guest time is inside user and nice, and reported
         * again on its own. */
        static const struct {
                cpu_mode_t mode;
                const char *name;
        } modes[] = {
                {CPU_IDLE, "idle"},     {CPU_IOWAIT, "iowait"},   {CPU_IRQ, "irq"},
                {CPU_NICE, "nice"},     {CPU_SOFTIRQ, "softirq"}, {CPU_STEAL, "steal"},
                {CPU_SYSTEM, "system"}, {CPU_USER, "user"},
        };
        struct proc_stat st;
        int r;

        if (hz == 0)
                return -EINVAL;
        r = proc_stat_parse(text, len, &st);
        if (r < 0)
                return r;

        expo_family(e, "node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
        for (size_t i = 0; i < st.n_cpus; i++) {
                char id[16];
                snprintf(id, sizeof id, "%u", st.cpus[i].id);
                for (size_t m = 0; m < ELEMENTSOF(modes); m++) {
                        expo_sample(e, "node_cpu_seconds_total");
                        expo_label(e, "cpu", id);
                        expo_label(e, "mode", modes[m].name);
                        expo_ratio(e, st.cpus[i].jiffies[modes[m].mode], hz);
                }
        }
        expo_family(e, "node_cpu_guest_seconds_total", "counter",
                    "Seconds the CPUs spent in guests (VMs) for each mode.");
        for (size_t i = 0; i < st.n_cpus; i++) {
                char id[16];
                snprintf(id, sizeof id, "%u", st.cpus[i].id);
                expo_sample(e, "node_cpu_guest_seconds_total");
                expo_label(e, "cpu", id);
                expo_label(e, "mode", "nice");
                expo_ratio(e, st.cpus[i].jiffies[CPU_GUEST_NICE], hz);
                expo_sample(e, "node_cpu_guest_seconds_total");
                expo_label(e, "cpu", id);
                expo_label(e, "mode", "user");
                expo_ratio(e, st.cpus[i].jiffies[CPU_GUEST], hz);
        }

        single_u64(e, "node_boot_time_seconds", "gauge", "Node boot time, in unixtime.", st.btime);
        single_u64(e, "node_context_switches_total", "counter", "Total number of context switches.",
                   st.ctxt);
        single_u64(e, "node_forks_total", "counter", "Total number of forks.", st.processes);
        if (st.has_intr)
                single_u64(e, "node_intr_total", "counter", "Total number of interrupts serviced.",
                           st.intr);
        single_u64(e, "node_procs_blocked", "gauge",
                   "Number of processes blocked waiting for I/O to complete.", st.procs_blocked);
        single_u64(e, "node_procs_running", "gauge", "Number of processes in runnable state.",
                   st.procs_running);
        proc_stat_done(&st);
        return 0;
}

/* ---- /proc/meminfo ---------------------------------------------------------- */

int collect_meminfo(struct expo *e, const char *text, size_t len) {
        const char *p, *end, *k;
        size_t mark = e->out->len, k_len;
        uint64_t v;
        bool any = false, kb;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = len > 0 ? text : "";
        end = p + len;
        while ((r = meminfo_next(&p, end, &k, &k_len, &v, &kb)) > 0) {
                char key[NAME_MAX_LEN], name[NAME_MAX_LEN], help[NAME_MAX_LEN + 40];

                if (expo_name_component(k, k_len, key, sizeof key) < 0 ||
                    JOIN(name, "node_memory_", key, kb ? "_bytes" : "") < 0 ||
                    JOIN(help, "Memory information field ", key, kb ? "_bytes" : "", ".") < 0)
                        goto bad;
                single_u64(e, name, "gauge", help, v);
                any = true;
        }
        if (r < 0)
                goto bad;
        return any ? 0 : -EINVAL;
bad:
        rollback(e, mark);
        return -EINVAL;
}

/* ---- /proc/loadavg ---------------------------------------------------------- */

int collect_loadavg(struct expo *e, const char *text, size_t len) {
        struct loadavg la;
        int r = loadavg_parse(text, len, &la);

        if (r < 0)
                return r;
        expo_family(e, "node_load1", "gauge", "1m load average.");
        expo_sample(e, "node_load1");
        expo_double(e, la.load1);
        expo_family(e, "node_load15", "gauge", "15m load average.");
        expo_sample(e, "node_load15");
        expo_double(e, la.load15);
        expo_family(e, "node_load5", "gauge", "5m load average.");
        expo_sample(e, "node_load5");
        expo_double(e, la.load5);
        return 0;
}

/* ---- /proc/net/dev ---------------------------------------------------------- */

int collect_netdev(struct expo *e, const char *text, size_t len) {
#define NETDEV(field, stat)                                                                        \
        { #stat, offsetof(struct net_dev, field) }
        static const struct {
                const char *stat;
                size_t offset;
        } counters[] = {
                NETDEV(rx_bytes, receive_bytes),         NETDEV(rx_compressed, receive_compressed),
                NETDEV(rx_drop, receive_drop),           NETDEV(rx_errs, receive_errs),
                NETDEV(rx_fifo, receive_fifo),           NETDEV(rx_frame, receive_frame),
                NETDEV(rx_multicast, receive_multicast), NETDEV(rx_packets, receive_packets),
                NETDEV(tx_bytes, transmit_bytes),        NETDEV(tx_carrier, transmit_carrier),
                NETDEV(tx_colls, transmit_colls),        NETDEV(tx_compressed, transmit_compressed),
                NETDEV(tx_drop, transmit_drop),          NETDEV(tx_errs, transmit_errs),
                NETDEV(tx_fifo, transmit_fifo),          NETDEV(tx_packets, transmit_packets),
        };
#undef NETDEV
        _cleanup_free_ struct net_dev *devs = NULL;
        size_t n = 0;
        int r;

        r = net_dev_parse(text, len, &devs, &n);
        if (r < 0)
                return r;
        for (size_t c = 0; c < ELEMENTSOF(counters); c++) {
                char name[NAME_MAX_LEN], help[NAME_MAX_LEN];

                (void)JOIN(name, "node_network_", counters[c].stat, "_total");
                (void)JOIN(help, "Network device statistic ", counters[c].stat, ".");
                expo_family(e, name, "counter", help);
                for (size_t i = 0; i < n; i++) {
                        expo_sample(e, name);
                        expo_label(e, "device", devs[i].name);
                        expo_u64(e,
                                 *(const uint64_t *)((const char *)&devs[i] + counters[c].offset));
                }
        }
        return 0;
}

/* ---- /proc/diskstats -------------------------------------------------------- */

int collect_diskstats(struct expo *e, const char *text, size_t len) {
        /* unit: 1 as is, 512 sectors to bytes, 1000 ms to seconds */
        static const struct {
                const char *name, *type, *help;
                unsigned col, unit;
        } fams[] = {
                {"node_disk_discard_time_seconds_total", "counter",
                 "This is the total number of seconds spent by all discards.", DS_DISCARD_MS, 1000},
                {"node_disk_discarded_sectors_total", "counter",
                 "The total number of sectors discarded successfully.", DS_SECTORS_DISCARDED, 1},
                {"node_disk_discards_completed_total", "counter",
                 "The total number of discards completed successfully.", DS_DISCARDS, 1},
                {"node_disk_discards_merged_total", "counter",
                 "The total number of discards merged.", DS_DISCARDS_MERGED, 1},
                {"node_disk_flush_requests_time_seconds_total", "counter",
                 "This is the total number of seconds spent by all flush requests.", DS_FLUSH_MS,
                 1000},
                {"node_disk_flush_requests_total", "counter",
                 "The total number of flush requests completed successfully", DS_FLUSHES, 1},
                {"node_disk_io_now", "gauge", "The number of I/Os currently in progress.",
                 DS_IO_NOW, 1},
                {"node_disk_io_time_seconds_total", "counter", "Total seconds spent doing I/Os.",
                 DS_IO_MS, 1000},
                {"node_disk_io_time_weighted_seconds_total", "counter",
                 "The weighted # of seconds spent doing I/Os.", DS_IO_WEIGHTED_MS, 1000},
                {"node_disk_read_bytes_total", "counter",
                 "The total number of bytes read successfully.", DS_SECTORS_READ, 512},
                {"node_disk_read_time_seconds_total", "counter",
                 "The total number of seconds spent by all reads.", DS_READ_MS, 1000},
                {"node_disk_reads_completed_total", "counter",
                 "The total number of reads completed successfully.", DS_READS, 1},
                {"node_disk_reads_merged_total", "counter", "The total number of reads merged.",
                 DS_READS_MERGED, 1},
                {"node_disk_write_time_seconds_total", "counter",
                 "This is the total number of seconds spent by all writes.", DS_WRITE_MS, 1000},
                {"node_disk_writes_completed_total", "counter",
                 "The total number of writes completed successfully.", DS_WRITES, 1},
                {"node_disk_writes_merged_total", "counter", "The number of writes merged.",
                 DS_WRITES_MERGED, 1},
                {"node_disk_written_bytes_total", "counter",
                 "The total number of bytes written successfully.", DS_SECTORS_WRITTEN, 512},
        };
        _cleanup_free_ struct diskstat *disks = NULL;
        size_t n = 0, kept = 0;
        int r;

        r = diskstats_parse(text, len, &disks, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!diskstats_device_excluded(disks[i].name, strlen(disks[i].name)))
                        disks[kept++] = disks[i];
        n = kept;

        for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
                bool any = false;

                for (size_t i = 0; i < n && !any; i++)
                        any = disks[i].n > fams[f].col;
                if (!any)
                        continue;
                expo_family(e, fams[f].name, fams[f].type, fams[f].help);
                for (size_t i = 0; i < n; i++) {
                        uint64_t v;
                        if (disks[i].n <= fams[f].col)
                                continue;
                        v = disks[i].v[fams[f].col];
                        expo_sample(e, fams[f].name);
                        expo_label(e, "device", disks[i].name);
                        if (fams[f].unit == 1000)
                                expo_ratio(e, v, 1000);
                        else if (__builtin_mul_overflow(v, fams[f].unit, &v))
                                expo_double(e, (double)disks[i].v[fams[f].col] * fams[f].unit);
                        else
                                expo_u64(e, v);
                }
        }
        return 0;
}

/* ---- /proc/sys/fs/file-nr --------------------------------------------------- */

int collect_filefd(struct expo *e, const char *text, size_t len) {
        struct file_nr f;
        int r = file_nr_parse(text, len, &f);

        if (r < 0)
                return r;
        single_u64(e, "node_filefd_allocated", "gauge", "File descriptor statistics: allocated.",
                   f.allocated);
        single_u64(e, "node_filefd_maximum", "gauge", "File descriptor statistics: maximum.",
                   f.maximum);
        return 0;
}

/* ---- /proc/net/sockstat, sockstat6 ------------------------------------------ */

int collect_sockstat(struct expo *e, const char *text, size_t len, unsigned long pagesize) {
        const char *p = text, *end = text + len, *line;
        size_t line_len, mark = e->out->len;

        if (tv_has_nul(text, len))
                return -EINVAL;
        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *proto, *key, *val;
                size_t proto_len, key_len, val_len;
                char pname[32];

                if (!tv_next_token(&lp, lend, &proto, &proto_len))
                        continue;
                if (proto_len < 2 || proto[proto_len - 1] != ':' ||
                    expo_name_component(proto, proto_len - 1, pname, sizeof pname) < 0)
                        goto bad;
                while (tv_next_token(&lp, lend, &key, &key_len)) {
                        char k[32], name[NAME_MAX_LEN], help[NAME_MAX_LEN + 40];
                        uint64_t v;

                        if (!tv_next_token(&lp, lend, &val, &val_len) ||
                            tv_to_u64(val, val_len, &v) < 0 ||
                            expo_name_component(key, key_len, k, sizeof k) < 0)
                                goto bad;
                        if (STREQ(pname, "sockets")) {
                                /* "sockets: used N" */
                                if (JOIN(name, "node_sockstat_sockets_", k) < 0)
                                        goto bad;
                                /* node_exporter's text for the one key, "used" */
                                (void)JOIN(help, "Number of IPv4 sockets in ",
                                           STREQ(k, "used") ? "use" : k, ".");
                                single_u64(e, name, "gauge", help, v);
                                continue;
                        }
                        if (JOIN(name, "node_sockstat_", pname, "_", k) < 0)
                                goto bad;
                        (void)JOIN(help, "Number of ", pname, " sockets in state ", k, ".");
                        single_u64(e, name, "gauge", help, v);
                        if (STREQ(k, "mem")) {
                                uint64_t b;
                                if (__builtin_mul_overflow(v, (uint64_t)pagesize, &b) ||
                                    JOIN(name, "node_sockstat_", pname, "_mem_bytes") < 0)
                                        goto bad;
                                (void)JOIN(help, "Number of ", pname,
                                           " sockets in state mem_bytes.");
                                single_u64(e, name, "gauge", help, b);
                        }
                }
        }
        return 0;
bad:
        rollback(e, mark);
        return -EINVAL;
}

/* ---- /proc/net/snmp, netstat, snmp6 ------------------------------------------- */

/* The protocols of node_exporter's default field list, so that a field is
 * judged by one comparison of its protocol per line and a few of its name. */
enum nproto {
        NP_OTHER,
        NP_IP,     /* Forwarding */
        NP_OCTETS, /* Ip6, IpExt: InOctets, OutOctets */
        NP_ICMP,   /* Icmp, Icmp6: InMsgs, OutMsgs */
        NP_TCPEXT, /* Listen*, Syncookies*, TCPSynRetrans, TCPTimeouts */
        NP_TCP,    /* the connection counters */
        NP_UDP,    /* Udp, Udp6: the datagram counters */
};

static enum nproto classify(const char *p, size_t n) {
        if (tv_eq(p, n, "Ip"))
                return NP_IP;
        if (tv_eq(p, n, "Ip6") || tv_eq(p, n, "IpExt"))
                return NP_OCTETS;
        if (tv_eq(p, n, "Icmp") || tv_eq(p, n, "Icmp6"))
                return NP_ICMP;
        if (tv_eq(p, n, "TcpExt"))
                return NP_TCPEXT;
        if (tv_eq(p, n, "Tcp"))
                return NP_TCP;
        if (tv_eq(p, n, "Udp") || tv_eq(p, n, "Udp6"))
                return NP_UDP;
        return NP_OTHER;
}

static bool view_in(const char *s, size_t n, const char *const *list) {
        for (; *list; list++)
                if (tv_eq(s, n, *list))
                        return true;
        return false;
}

static bool field_wanted(enum nproto p, const char *f, size_t n) {
        static const char *const tcp[] = {"ActiveOpens",  "InSegs",      "OutSegs",   "OutRsts",
                                          "PassiveOpens", "RetransSegs", "CurrEstab", NULL};
        static const char *const udp[] = {"InDatagrams",  "OutDatagrams", "NoPorts",
                                          "RcvbufErrors", "SndbufErrors", NULL};
        static const char *const octets[] = {"InOctets", "OutOctets", NULL};
        static const char *const msgs[] = {"InMsgs", "OutMsgs", NULL};
        static const char *const tcpext[] = {"TCPSynRetrans", "TCPTimeouts", NULL};

        if (tv_eq(f, n, "InErrors") || tv_eq(f, n, "InErrs"))
                return true;
        switch (p) {
        case NP_IP:
                return tv_eq(f, n, "Forwarding");
        case NP_OCTETS:
                return view_in(f, n, octets);
        case NP_ICMP:
                return view_in(f, n, msgs);
        case NP_TCPEXT:
                return tv_starts(f, n, "Listen") || tv_starts(f, n, "Syncookies") ||
                       view_in(f, n, tcpext);
        case NP_TCP:
                return view_in(f, n, tcp);
        case NP_UDP:
                return view_in(f, n, udp);
        default:
                return false;
        }
}

bool netstat_field_wanted(const char *proto, const char *field) {
        return field_wanted(classify(proto, strlen(proto)), field, strlen(field));
}

/* node_netstat_<proto>_<field> of one value the kernel printed. */
static int netstat_sample(struct expo *e, const char *proto, const char *f, size_t fl,
                          const char *v, size_t vl) {
        char field[64], name[NAME_MAX_LEN], help[NAME_MAX_LEN];

        if (expo_name_component(f, fl, field, sizeof field) < 0 ||
            JOIN(name, "node_netstat_", proto, "_", field) < 0 ||
            JOIN(help, "Statistic ", proto, field, ".") < 0)
                return -EINVAL;
        expo_family(e, name, "untyped", help);
        expo_sample(e, name);
        expo_raw_value(e, v, vl);
        return 0;
}

int collect_netstat(struct expo *e, const char *text, size_t len) {
        const char *p = text, *end = text + len, *names, *values;
        size_t names_len, values_len, mark = e->out->len;

        if (tv_has_nul(text, len))
                return -EINVAL;
        /* "Tcp: RtoAlgorithm RtoMin …" then "Tcp: 1 200 …" */
        while (tv_next_line(&p, end, &names, &names_len)) {
                const char *np = names, *nend = names + names_len, *vp, *vend, *nt, *vt;
                size_t nt_len, vt_len;
                enum nproto cls;
                char proto[32];

                if (!tv_next_token(&np, nend, &nt, &nt_len))
                        continue;
                if (!tv_next_line(&p, end, &values, &values_len))
                        goto bad;
                vp = values;
                vend = values + values_len;
                if (!tv_next_token(&vp, vend, &vt, &vt_len) || nt_len < 2 ||
                    nt[nt_len - 1] != ':' || vt_len != nt_len || memcmp(nt, vt, nt_len) != 0 ||
                    expo_name_component(nt, nt_len - 1, proto, sizeof proto) < 0)
                        goto bad;
                cls = classify(nt, nt_len - 1);
                for (;;) {
                        bool more_n = tv_next_token(&np, nend, &nt, &nt_len);
                        bool more_v = tv_next_token(&vp, vend, &vt, &vt_len);

                        if (more_n != more_v)
                                goto bad;
                        if (!more_n)
                                break;
                        if (!tv_is_integer(vt, vt_len))
                                goto bad;
                        if (field_wanted(cls, nt, nt_len) &&
                            netstat_sample(e, proto, nt, nt_len, vt, vt_len) < 0)
                                goto bad;
                }
        }
        return 0;
bad:
        rollback(e, mark);
        return -EINVAL;
}

int collect_snmp6(struct expo *e, const char *text, size_t len) {
        const char *p = text, *end = text + len, *line;
        size_t line_len, mark = e->out->len;

        if (tv_has_nul(text, len))
                return -EINVAL;
        /* "Ip6InReceives   2": the protocol is the name up to its first '6'. */
        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *key, *val, *six, *extra;
                size_t key_len, val_len, extra_len, proto_len;
                char proto[32];

                if (!tv_next_token(&lp, lend, &key, &key_len))
                        continue;
                if (!tv_next_token(&lp, lend, &val, &val_len) || !tv_is_integer(val, val_len) ||
                    tv_next_token(&lp, lend, &extra, &extra_len))
                        goto bad;
                six = memchr(key, '6', key_len);
                if (!six || six + 1 == key + key_len)
                        continue;
                proto_len = (size_t)(six + 1 - key);
                if (!field_wanted(classify(key, proto_len), six + 1, key_len - proto_len))
                        continue;
                if (expo_name_component(key, proto_len, proto, sizeof proto) < 0 ||
                    netstat_sample(e, proto, six + 1, key_len - proto_len, val, val_len) < 0)
                        goto bad;
        }
        return 0;
bad:
        rollback(e, mark);
        return -EINVAL;
}

/* ---- file systems ------------------------------------------------------------ */

static void fs_list_done(struct fs_list *l) {
        mountinfo_done(&l->mi);
        free(l->v);
        *l = (struct fs_list){0};
}

static int fs_list_build(const char *text, size_t len, struct fs_list *ret) {
        struct fs_list l = {0};
        int r;

        r = mountinfo_parse(text, len, &l.mi);
        if (r < 0)
                return r;
        r = mountinfo_real(&l.mi, &l.v, &l.n);
        if (r < 0) {
                fs_list_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

static uint64_t mul_sat(uint64_t a, uint64_t b) {
        uint64_t v;
        return __builtin_mul_overflow(a, b, &v) ? UINT64_MAX : v;
}

struct fs_stat {
        struct statvfs st;
        bool ok, ro;
};

/* statvfs() of every listed file system now, and the families. */
static int fs_write(struct expo *e, const struct fs_list *l) {
        enum { F_AVAIL, F_ERROR, F_FILES, F_FILES_FREE, F_FREE, F_READONLY, F_SIZE };
        static const struct {
                const char *name, *help;
                bool always; /* also for a file system statvfs() failed on */
        } fams[] = {
                [F_AVAIL] = {"node_filesystem_avail_bytes",
                             "Filesystem space available to non-root users in bytes.", false},
                [F_ERROR] = {"node_filesystem_device_error",
                             "Whether an error occurred while getting statistics for the given "
                             "device.",
                             true},
                [F_FILES] = {"node_filesystem_files", "Filesystem total file nodes.", false},
                [F_FILES_FREE] = {"node_filesystem_files_free", "Filesystem total free file nodes.",
                                  false},
                [F_FREE] = {"node_filesystem_free_bytes", "Filesystem free space in bytes.", false},
                [F_READONLY] = {"node_filesystem_readonly", "Filesystem read-only status.", true},
                [F_SIZE] = {"node_filesystem_size_bytes", "Filesystem size in bytes.", false},
        };
        _cleanup_free_ struct fs_stat *st = calloc(l->n ? l->n : 1, sizeof *st);

        if (!st)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                st[i].ok = statvfs(l->v[i]->mount_point, &st[i].st) == 0;
                st[i].ro = st[i].ok ? (st[i].st.f_flag & ST_RDONLY) != 0
                                    : procfs_mount_option_set(l->v[i]->options, "ro");
        }
        for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
                expo_family(e, fams[f].name, "gauge", fams[f].help);
                for (size_t i = 0; i < l->n; i++) {
                        const struct statvfs *s = &st[i].st;
                        uint64_t frsize = s->f_frsize ? s->f_frsize : s->f_bsize;
                        uint64_t val = 0, bavail = s->f_bavail;

                        if (!st[i].ok && !fams[f].always)
                                continue;
                        /* A "negative" f_bavail (root used the reserve) is none. */
                        if (bavail > s->f_blocks && (bavail >> 63))
                                bavail = 0;
                        switch (f) {
                        case F_AVAIL:
                                val = mul_sat(bavail, frsize);
                                break;
                        case F_ERROR:
                                val = !st[i].ok;
                                break;
                        case F_FILES:
                                val = s->f_files;
                                break;
                        case F_FILES_FREE:
                                val = s->f_ffree;
                                break;
                        case F_FREE:
                                val = mul_sat(s->f_bfree, frsize);
                                break;
                        case F_READONLY:
                                val = st[i].ro;
                                break;
                        case F_SIZE:
                                val = mul_sat(s->f_blocks, frsize);
                                break;
                        }
                        expo_sample(e, fams[f].name);
                        expo_label(e, "device", l->v[i]->source);
                        expo_label(e, "fstype", l->v[i]->fstype);
                        expo_label(e, "mountpoint", l->v[i]->mount_point);
                        expo_u64(e, val);
                }
        }
        return 0;
}

int collect_filesystems(struct expo *e, const char *text, size_t len) {
        struct fs_list l;
        int r;

        r = fs_list_build(text, len, &l);
        if (r < 0)
                return r;
        r = fs_write(e, &l);
        fs_list_done(&l);
        return r;
}

/* ---- time and uname ----------------------------------------------------------- */

static int collect_time(struct expo *e) {
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
                return -errno;
        expo_family(e, "node_time_seconds", "gauge", "System time in seconds since epoch (1970).");
        expo_sample(e, "node_time_seconds");
        expo_ratio(e, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, 1000000000u);
        return 0;
}

static int collect_uname(struct expo *e) {
        struct utsname u;

        if (uname(&u) < 0)
                return -errno;
        expo_family(e, "node_uname_info", "gauge",
                    "Labeled system information as provided by the uname system call.");
        expo_sample(e, "node_uname_info");
        expo_label(e, "domainname", u.domainname);
        expo_label(e, "machine", u.machine);
        expo_label(e, "nodename", u.nodename);
        expo_label(e, "release", u.release);
        expo_label(e, "sysname", u.sysname);
        expo_label(e, "version", u.version);
        expo_u64(e, 1);
        return 0;
}

/* ---- the descriptors ------------------------------------------------------------ */

/* os-release changes with an upgrade only: read once, as node_exporter
 * caches it. */
static void read_os_release_locked(void) {
        static const char *const paths[] = {"/etc/os-release", "/usr/lib/os-release"};

        for (size_t i = 0; i < ELEMENTSOF(paths) && !sampler.os_release; i++) {
                struct procfs_source s = {.path = paths[i], .max = 64UL << 10, .fd = -1};
                const char *text;
                size_t len;

                if (procfs_source_open(&s) < 0)
                        continue;
                if (procfs_source_read(&s, &sampler.buf, &text, &len) >= 0 &&
                    (sampler.os_release = strndup(text, len)))
                        sampler.os_release_len = len;
                procfs_source_close(&s);
        }
}

static void open_all_locked(void) {
        long hz = sysconf(_SC_CLK_TCK), ps = sysconf(_SC_PAGESIZE);

        sampler.hz = hz > 0 ? (unsigned long)hz : 100;
        sampler.pagesize = ps > 0 ? (unsigned long)ps : 4096;
        for (size_t i = 0; i < _SRC_MAX; i++) {
                sampler.src[i] = sources[i];
                (void)procfs_source_open(&sampler.src[i]);
        }
        read_os_release_locked();
        sampler.sysfd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        sampler.opened = true;
}

int sampler_init(void) {
        pthread_mutex_lock(&sampler.lock);
        if (!sampler.opened)
                open_all_locked();
        pthread_mutex_unlock(&sampler.lock);
        return 0;
}

void sampler_done(void) {
        pthread_mutex_lock(&sampler.lock);
        for (size_t i = 0; sampler.opened && i < _SRC_MAX; i++)
                procfs_source_close(&sampler.src[i]);
        sampler.opened = false;
        procfs_buf_free(&sampler.buf);
        fs_list_done(&sampler.mounts);
        sampler.have_mounts = false;
        free(sampler.os_release);
        sampler.os_release = NULL;
        if (sampler.opened && sampler.sysfd >= 0)
                close(sampler.sysfd);
        sampler.sysfd = -1;
        udev_free();
        netclass_done();
        sysfs_layout_free(&sampler.layout);
        pthread_mutex_unlock(&sampler.lock);
}

/* The whole file from offset 0 into sampler.buf; the view is valid until the
 * next read. */
static int read_source_locked(enum source s, const char **ret, size_t *ret_len) {
        return procfs_source_read(&sampler.src[s], &sampler.buf, ret, ret_len);
}

/* The mount table is parsed again only when it changed: a mount or unmount
 * in the namespace marks the open mountinfo descriptor with POLLPRI
 * (proc(5)), and printing that text is the dearest of the sources (~50 µs
 * for thirty mounts here).  statvfs() runs on every scrape. */
static int collect_mounts_locked(struct expo *e) {
        struct pollfd pfd = {.fd = sampler.src[SRC_MOUNTINFO].fd, .events = POLLPRI};
        const char *text = NULL;
        size_t len = 0;
        int r;

        if (!sampler.have_mounts || pfd.fd < 0 || poll(&pfd, 1, 0) != 0) {
                struct fs_list l;

                r = read_source_locked(SRC_MOUNTINFO, &text, &len);
                if (r >= 0)
                        r = fs_list_build(text, len, &l);
                if (r < 0)
                        return r;
                fs_list_done(&sampler.mounts);
                sampler.mounts = l;
                sampler.have_mounts = true;
        }
        return fs_write(e, &sampler.mounts);
}

static int collect_stat_hz(struct expo *e, const char *text, size_t len) {
        return collect_stat(e, text, len, sampler.hz);
}

static int collect_sockstat_ps(struct expo *e, const char *text, size_t len) {
        return collect_sockstat(e, text, len, sampler.pagesize);
}

/* The entry of a device: kept and fresh, else (re)read into a free or
 * stale slot, else into `one`. */
static const struct udev_entry *udev_entry(unsigned major, unsigned minor) {
        struct udev_entry *slot = NULL;
        const char *text = NULL;
        char path[64];
        size_t len = 0;
        int r;

        if (udev.one.read_at == udev.now && udev.one.major == major && udev.one.minor == minor)
                return &udev.one; /* read already in this scrape */
        for (size_t i = 0; i < UDEV_CACHED; i++) {
                struct udev_entry *u = &udev.e[i];
                bool fresh = u->read_at && udev.now - u->read_at < SYSFS_RELIST_USEC;
                if (u->read_at && u->major == major && u->minor == minor) {
                        if (fresh)
                                return u;
                        slot = u;
                        break;
                }
                if (!slot && !fresh)
                        slot = u;
        }
        snprintf(path, sizeof path, "/run/udev/data/b%u:%u", major, minor);
        r = procfs_read_at(AT_FDCWD, path, 64UL << 10, &udev.buf, &text, &len);
        if (!slot) {
                udev.one = (struct udev_entry){.major = major, .minor = minor, .error = r,
                                               .read_at = udev.now, .len = len,
                                               .text = r >= 0 ? (char *)text : NULL};
                return &udev.one;
        }
        free(slot->text);
        *slot = (struct udev_entry){.major = major, .minor = minor, .error = r,
                                    .read_at = udev.now ? udev.now : 1};
        if (r >= 0 && !(slot->text = malloc(len + 1)))
                slot->error = -ENOMEM;
        if (slot->text)
                memcpy(slot->text, text, len + 1);
        slot->len = len;
        return slot;
}

static int udev_lookup(unsigned major, unsigned minor, const char *key, const char **ret,
                       size_t *ret_len) {
        const struct udev_entry *u = udev_entry(major, minor);

        if (u->error < 0)
                return u->error;
        return udev_data_property(u->text, u->len, key, ret, ret_len);
}

static int collect_disks_locked(struct expo *e) {
        const char *text = NULL;
        size_t len = 0, mark;
        int r;

        r = read_source_locked(SRC_DISKSTATS, &text, &len);
        if (r < 0)
                return r;
        r = collect_diskstats(e, text, len);
        if (r < 0)
                return r;
        mark = e->out->len;
        udev.now = now_usec();
        r = collect_disk_info(e, text, len, udev_lookup);
        if (r < 0)
                rollback(e, mark);
        return r;
}

static int collect_time_locked(struct expo *e) {
        const char *avail = NULL, *cur = NULL;
        _cleanup_free_ char *copy = NULL;
        size_t avail_len = 0, cur_len = 0, mark;
        int r;

        r = collect_time(e);
        if (r >= 0)
                r = collect_time_zone(e);
        if (r < 0)
                return r;
        /* The clock sources are a sysfs pair: absent in some containers. */
        if (sampler.src[SRC_CLOCKSRC_CUR].open_error == -ENOENT)
                return 0;
        r = read_source_locked(SRC_CLOCKSRC_AVAIL, &avail, &avail_len);
        if (r >= 0 && !(copy = strndup(avail, avail_len)))
                r = -ENOMEM;
        if (r >= 0)
                r = read_source_locked(SRC_CLOCKSRC_CUR, &cur, &cur_len);
        mark = e->out->len;
        if (r >= 0)
                r = collect_clocksources(e, copy, avail_len, cur, cur_len);
        if (r < 0)
                rollback(e, mark);
        return r;
}

static int collect_udp_locked(struct expo *e) {
        const char *v4 = NULL, *v6 = NULL;
        _cleanup_free_ char *copy = NULL;
        size_t v4_len = 0, v6_len = 0;
        int r;

        r = read_source_locked(SRC_UDP, &v4, &v4_len);
        if (r < 0)
                return r;
        if (sampler.src[SRC_UDP6].open_error != -ENOENT) {
                copy = strndup(v4, v4_len);
                if (!copy)
                        return -ENOMEM;
                v4 = copy;
                r = read_source_locked(SRC_UDP6, &v6, &v6_len);
                if (r < 0)
                        return r;
        }
        return collect_udp_queues(e, v4, v4_len, v6, v6_len);
}

static int collect_cpufreq_locked(struct expo *e) {
        return sampler.sysfd < 0 ? -ENOENT
                                 : collect_cpufreq_cached(e, sampler.sysfd, &sampler.layout, now_usec());
}

static int collect_thermal_locked(struct expo *e) {
        return sampler.sysfd < 0 ? -ENOENT
                                 : collect_thermal_cached(e, sampler.sysfd, &sampler.layout, now_usec());
}

static int collect_dmi_locked(struct expo *e) {
        return sampler.sysfd < 0 ? -ENOENT : collect_dmi_at(e, sampler.sysfd);
}

/* A host without /sys/class/hwmon (a failure, as node_exporter's) is
 * looked at again once a minute, like the sysfs listings (collectors.h). */
static int collect_hwmon_locked(struct expo *e) {
        uint64_t now = now_usec();
        int r;

        if (sampler.sysfd < 0)
                return -ENOENT;
        if (sampler.hwmon_absent && now - sampler.hwmon_absent < SYSFS_RELIST_USEC)
                return -ENODATA;
        r = collect_hwmon_at(e, sampler.sysfd);
        sampler.hwmon_absent = r == -ENODATA ? (now ? now : 1) : 0;
        return r;
}

static int collect_edac_locked(struct expo *e) {
        return sampler.sysfd < 0 ? -ENOENT
                                 : collect_edac_cached(e, sampler.sysfd, &sampler.layout, now_usec());
}

/* A host with no power supply (none listed, or no class/power_supply) is
 * looked at again once a minute; supplies present are read at every
 * scrape. */
static int collect_power_supply_locked(struct expo *e) {
        uint64_t now = now_usec();
        size_t mark = e->out->len;
        int r;

        if (sampler.sysfd < 0)
                return -ENOENT;
        if (sampler.ps_none && now - sampler.ps_none < SYSFS_RELIST_USEC)
                return sampler.ps_none_r;
        r = collect_power_supply_at(e, sampler.sysfd);
        sampler.ps_none = (r == -ENODATA || (r >= 0 && e->out->len == mark)) ? (now ? now : 1) : 0;
        sampler.ps_none_r = r;
        return r;
}

static int collect_os_locked(struct expo *e) {
        if (!sampler.os_release)
                return -ENOENT;
        return collect_os(e, sampler.os_release, sampler.os_release_len);
}

static int collect_selinux_locked(struct expo *e) {
        const char *text = NULL;
        size_t len = 0;
        int r;

        if (sampler.src[SRC_SELINUX].open_error == -ENOENT)
                return collect_selinux(e, NULL, 0);
        r = read_source_locked(SRC_SELINUX, &text, &len);
        if (r < 0)
                return r;
        return collect_selinux(e, text, len);
}

#define COLLECTOR_MAX_PARTS 3

/* One collector: the sources it reads, each given to its function, or a
 * function that gathers by itself.  It succeeds only if every part that
 * exists worked; an optional source that does not exist (no IPv6: no
 * sockstat6, no snmp6) is no failure. */
struct collector {
        const char *name; /* node_scrape_collector_success{collector} */
        struct {
                enum source src;
                int (*fn)(struct expo *e, const char *text, size_t len);
                bool optional;
        } parts[COLLECTOR_MAX_PARTS]; /* up to the first NULL fn */
        int (*own)(struct expo *e);
};

/* In the order of the output; textfile last, since it refuses a family
 * that is already in the output.  Then the duration and success families. */
static const struct collector collectors[] = {
        {"arp", {{SRC_ARP, collect_arp}}},
        {"conntrack",
         {{SRC_CT_COUNT, collect_conntrack_count},
          {SRC_CT_MAX, collect_conntrack_max},
          {SRC_CT_STAT, collect_conntrack_stat, .optional = true}}},
        {"cpu", {{SRC_STAT, collect_stat_hz}}},
        {"cpufreq", .own = collect_cpufreq_locked},
        {"diskstats", .own = collect_disks_locked},
        {"dmi", .own = collect_dmi_locked},
        {"edac", .own = collect_edac_locked},
        {"entropy", {{SRC_ENTROPY, collect_entropy_avail}, {SRC_POOLSIZE, collect_entropy_pool}}},
        {"filefd", {{SRC_FILENR, collect_filefd}}},
        {"filesystem", .own = collect_mounts_locked},
        {"hwmon", .own = collect_hwmon_locked},
        {"loadavg", {{SRC_LOADAVG, collect_loadavg}}},
        {"mdadm", {{SRC_MDSTAT, collect_mdadm}}},
        {"meminfo", {{SRC_MEMINFO, collect_meminfo}}},
        {"netclass", .own = netclass_collect},
        {"netdev", {{SRC_NETDEV, collect_netdev}}},
        {"netstat",
         {{SRC_SNMP, collect_netstat},
          {SRC_NETSTAT, collect_netstat},
          {SRC_SNMP6, collect_snmp6, .optional = true}}},
        {"os", .own = collect_os_locked},
        {"powersupplyclass", .own = collect_power_supply_locked},
        {"pressure",
         {{SRC_PSI_CPU, collect_psi_cpu},
          {SRC_PSI_IO, collect_psi_io},
          {SRC_PSI_MEMORY, collect_psi_memory}}},
        {"schedstat", {{SRC_SCHEDSTAT, collect_schedstat}}},
        {"selinux", .own = collect_selinux_locked},
        {"sockstat",
         {{SRC_SOCKSTAT, collect_sockstat_ps},
          {SRC_SOCKSTAT6, collect_sockstat_ps, .optional = true}}},
        {"softnet", {{SRC_SOFTNET, collect_softnet}}},
        {"time", .own = collect_time_locked},
        {"timex", .own = timex_collect},
        {"udp_queues", .own = collect_udp_locked},
        {"uname", .own = collect_uname},
        {"vmstat", {{SRC_VMSTAT, collect_vmstat}}},
        {"thermal_zone", .own = collect_thermal_locked},
        {"textfile", .own = textfile_collect},
};

/* One collector's families; false when a part failed (its families are
 * then cut back, the others' kept). */
static bool run_collector_locked(struct expo *e, const struct collector *k) {
        bool ok = true;

        if (k->own) {
                size_t mark = e->out->len;

                if (k->own(e) >= 0)
                        return true;
                rollback(e, mark);
                return false;
        }
        for (size_t i = 0; i < COLLECTOR_MAX_PARTS && k->parts[i].fn && e->error >= 0; i++) {
                enum source src = k->parts[i].src;
                size_t mark = e->out->len, len = 0;
                const char *text = NULL;
                int r;

                if (k->parts[i].optional && sampler.src[src].open_error == -ENOENT)
                        continue;
                r = read_source_locked(src, &text, &len);
                if (r >= 0)
                        r = k->parts[i].fn(e, text, len);
                if (r < 0) {
                        rollback(e, mark);
                        ok = false;
                }
        }
        return ok;
}

static uint64_t mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sampler_collect(struct expo *e) {
        bool ok[ELEMENTSOF(collectors)];
        uint64_t ns[ELEMENTSOF(collectors)];

        pthread_mutex_lock(&sampler.lock);
        if (!sampler.opened)
                open_all_locked();
        for (size_t c = 0; c < ELEMENTSOF(collectors); c++) {
                uint64_t t0 = mono_ns();
                ok[c] = run_collector_locked(e, &collectors[c]);
                ns[c] = mono_ns() - t0;
        }
        pthread_mutex_unlock(&sampler.lock);

        expo_family(e, "node_scrape_collector_duration_seconds", "gauge",
                    "node_exporter: Duration of a collector scrape.");
        for (size_t c = 0; c < ELEMENTSOF(collectors); c++) {
                expo_sample(e, "node_scrape_collector_duration_seconds");
                expo_label(e, "collector", collectors[c].name);
                expo_ratio(e, ns[c], 1000000000u);
        }
        expo_family(e, "node_scrape_collector_success", "gauge",
                    "node_exporter: Whether a collector succeeded.");
        for (size_t c = 0; c < ELEMENTSOF(collectors); c++) {
                expo_sample(e, "node_scrape_collector_success");
                expo_label(e, "collector", collectors[c].name);
                expo_u64(e, ok[c]);
        }
        return e->error;
}
