/* procfs.h — pure parsers for the kernel's text interfaces the system module
 * reports: /proc/stat, /proc/meminfo, /proc/loadavg, /proc/uptime,
 * /proc/net/dev, /proc/self/mountinfo, /proc/cpuinfo and /etc/os-release.
 *
 * Every parser takes a view (text, len): the text need not be NUL-terminated
 * nor end with a newline, and nothing past len is ever read.  None of them does
 * I/O, so each one is tested against fixture files and fuzzed.
 *
 * Conventions:
 *  - Return 0 on success; -EINVAL for malformed input (a missing required
 *    field, a token that is not what the format says, a NUL byte where text is
 *    expected); -ERANGE for a number that does not fit (a counter past
 *    UINT64_MAX, kB * 1024 past UINT64_MAX); -E2BIG past one of the hard limits
 *    below; -ENOMEM.  The result is written only on success.
 *  - Results that own memory are released with the matching *_done()
 *    function, which accepts a zeroed or already released struct.
 *  - Unknown keys and lines are ignored where the kernel may add new ones
 *    (meminfo keys, /proc/stat lines, extra CPU columns, cpuinfo keys); known
 *    ones are checked strictly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCFS_MAX_CPUS   4096
#define PROCFS_MAX_IFACES 4096
#define PROCFS_MAX_MOUNTS 65536
#define PROCFS_MAX_VALUE  4096 /* one os-release value or cpuinfo model, bytes */

/* ---- /proc/stat ---------------------------------------------------------- */

/* Columns of a "cpu" line, in the kernel's order.  guest and guest_nice are
 * already included in user and nice. */
typedef enum {
        CPU_USER,
        CPU_NICE,
        CPU_SYSTEM,
        CPU_IDLE,
        CPU_IOWAIT,
        CPU_IRQ,
        CPU_SOFTIRQ,
        CPU_STEAL,
        CPU_GUEST,
        CPU_GUEST_NICE,
        _CPU_MODE_MAX,
} cpu_mode_t;

/* "user", "nice", "system", …, "guest_nice"; NULL out of range. */
const char *cpu_mode_to_string(cpu_mode_t m);

struct cpu_times {
        unsigned id; /* N of "cpuN"; unused for the total line */
        uint64_t jiffies[_CPU_MODE_MAX];
};

struct proc_stat {
        struct cpu_times total; /* the "cpu" line */
        struct cpu_times *cpus; /* "cpuN" lines, strictly ascending by id */
        size_t n_cpus;
        uint64_t ctxt, btime, processes, procs_running, procs_blocked; /* 0 if absent */
};

/* The "cpu" line is required, before any "cpuN" line; all need at least the
 * four original columns (user nice system idle), missing later columns read
 * as 0 and columns past guest_nice are ignored.  More than PROCFS_MAX_CPUS
 * "cpuN" lines: -E2BIG. */
int proc_stat_parse(const char *text, size_t len, struct proc_stat *ret);
void proc_stat_done(struct proc_stat *s);
/* The CPU with that id, or NULL (CPUs come and go with hotplug). */
const struct cpu_times *proc_stat_find_cpu(const struct proc_stat *s, unsigned id);

/* Utilisation between two samples of one CPU (or of the totals), in percent
 * of the elapsed jiffies.  The base is user+nice+system+idle+iowait+irq+
 * softirq+steal (guest time is inside user/nice, so it is not added twice).
 * A counter that went backwards (iowait does on some kernels, and a CPU that
 * went offline and came back restarts) counts as no progress for that mode.
 * busy = 100 - idle - iowait, clamped to [0, 100].  -ENODATA when no time
 * elapsed between the samples. */
struct cpu_percent {
        double mode[_CPU_MODE_MAX];
        double busy;
};
int cpu_percent_compute(const struct cpu_times *prev, const struct cpu_times *cur,
                        struct cpu_percent *ret);

/* ---- /proc/meminfo ------------------------------------------------------- */

/* All in bytes.  MemTotal and MemFree are required; a missing MemAvailable
 * (kernels before 3.14) is estimated as MemFree + Buffers + Cached +
 * SReclaimable and has_available is false.  Other absent keys read as 0. */
struct meminfo {
        uint64_t total, free, available, buffers, cached, swap_cached, active, inactive, swap_total,
                swap_free, dirty, writeback, shmem, slab, sreclaimable, sunreclaim;
        bool has_available;
};
int meminfo_parse(const char *text, size_t len, struct meminfo *ret);

/* ---- /proc/loadavg, /proc/uptime ----------------------------------------- */

struct loadavg {
        double load1, load5, load15;
        uint64_t running, total; /* "running/total" scheduling entities */
        uint64_t last_pid;
};
int loadavg_parse(const char *text, size_t len, struct loadavg *ret);

struct uptime {
        double uptime; /* seconds since boot */
        double idle;   /* summed over CPUs */
};
int uptime_parse(const char *text, size_t len, struct uptime *ret);

/* ---- /proc/net/dev ------------------------------------------------------- */

#define PROCFS_IFNAMSIZ 16 /* IFNAMSIZ, NUL included */

struct net_dev {
        char name[PROCFS_IFNAMSIZ];
        uint64_t rx_bytes, rx_packets, rx_errs, rx_drop, rx_fifo, rx_frame, rx_compressed,
                rx_multicast;
        uint64_t tx_bytes, tx_packets, tx_errs, tx_drop, tx_fifo, tx_colls, tx_carrier,
                tx_compressed;
};

/* Two header lines, then "NAME: 16 counters" per interface.  Names follow the
 * kernel's rules (1..15 bytes, no '/', ':' or whitespace, not "." or ".."), so
 * a parsed name is safe as a /sys/class/net/ path component. */
int net_dev_parse(const char *text, size_t len, struct net_dev **ret, size_t *ret_n);

/* ---- /proc/self/mountinfo ------------------------------------------------ */

struct mount_entry {
        unsigned mount_id, parent_id;
        unsigned major, minor;
        /* Octal escapes (\040 …) decoded; all non-NULL, source may be "". */
        char *root, *mount_point, *options, *fstype, *source, *super_options;
};

struct mountinfo {
        struct mount_entry *entries; /* in file order */
        size_t n_entries;
};

int mountinfo_parse(const char *text, size_t len, struct mountinfo *ret);
void mountinfo_done(struct mountinfo *m);

/* Kernel and virtual file systems that hold no data of their own (proc,
 * sysfs, cgroup, …): left out wherever file systems are listed. */
bool procfs_fstype_is_pseudo(const char *fstype);

/* ---- /etc/os-release ----------------------------------------------------- */

/* NULL for a key that is absent.  Values use shell quoting: 'single',
 * "double" (with \" \\ \$ \` escapes) and backslash escapes outside quotes;
 * segments concatenate (A="x"'y'z is "xyz").  The last assignment wins. */
struct os_release {
        char *pretty_name, *name, *id, *id_like, *version, *version_id, *version_codename,
                *variant_id, *build_id;
};
int os_release_parse(const char *text, size_t len, struct os_release *ret);
void os_release_done(struct os_release *o);

/* ---- /proc/cpuinfo ------------------------------------------------------- */

/* model: the first "model name" (x86, recent arm/riscv), else "Processor"
 * (old arm), "cpu model" (mips), "cpu" (powerpc), "uarch" (riscv),
 * "vendor_id" (s390); NULL if none.  count: the number of "processor"
 * stanzas, or "# processors" (s390); 0 if the file says neither. */
struct cpuinfo {
        char *model;
        unsigned count;
};
int cpuinfo_parse(const char *text, size_t len, struct cpuinfo *ret);
void cpuinfo_done(struct cpuinfo *c);
