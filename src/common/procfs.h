/* procfs.h — the one reader and parser of the kernel's text interfaces:
 * /proc/stat, /proc/meminfo, /proc/loadavg, /proc/uptime, /proc/net/dev,
 * /proc/diskstats, /proc/sys/fs/file-nr, /proc/self/mountinfo,
 * /proc/cpuinfo, /proc/PID/{stat,status,cmdline,cgroup,io,limits,
 * smaps_rollup,environ} and /etc/os-release, with
 * the text views and the number tokenizer they are built from.  Modules and
 * the daemon read /proc through this file and nothing else: one tokenizer,
 * one place where a format is understood.
 *
 * Every parser takes a view (text, len): the text need not be NUL-terminated
 * nor end with a newline, and nothing past len is ever read.  None of them does
 * I/O, so each one is tested against fixture files and fuzzed.  The I/O is
 * the small reader below (descriptors kept open, pread from offset 0 into a
 * bounded buffer), kept apart so that the parsers stay pure.
 *
 * Conventions:
 *  - Return 0 on success; -EINVAL for malformed input (a missing required
 *    field, a token that is not what the format says, a NUL byte where text is
 *    expected); -ERANGE for a number that does not fit (a counter past
 *    UINT64_MAX, kB * 1024 past UINT64_MAX); -E2BIG past one of the hard limits
 *    below; -ENOMEM.  The result is written only on success.
 *  - Results that own memory are released with the matching *_done()
 *    function (or free() for plain arrays), which accepts a zeroed or
 *    already released struct.
 *  - Unknown keys and lines are ignored where the kernel may add new ones
 *    (meminfo keys, /proc/stat lines, extra CPU and disk columns, cpuinfo
 *    keys); known ones are checked strictly.
 *  - No global state: every function is safe on any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PROCFS_MAX_CPUS   4096
#define PROCFS_MAX_IFACES 4096
#define PROCFS_MAX_MOUNTS 65536
#define PROCFS_MAX_VALUE  4096 /* one os-release value or cpuinfo model, bytes */
#define PROCFS_MAX_DISKS  4096

/* ---- text views ------------------------------------------------------------
 *
 * A view is (pointer, length) into text someone else owns; nothing here
 * copies.  A cursor is a pointer advanced towards `end`.  Blanks are ' ' and
 * '\t'; a '\r' is text except where tv_trim() takes it off. */

/* The iterators are inline: the collectors call them for every token of
 * every scrape, and a call across files would cost more than their work. */

static inline bool tv_is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* The next line of [*p, end) without its '\n' (the last line may lack one);
 * false at the end. */
static inline bool tv_next_line(const char **p, const char *end, const char **ret_line,
                                size_t *ret_len) {
        const char *nl;

        if (*p >= end)
                return false;
        nl = memchr(*p, '\n', (size_t)(end - *p));
        *ret_line = *p;
        *ret_len = (size_t)((nl ? nl : end) - *p);
        *p = nl ? nl + 1 : end;
        return true;
}

/* The next run of non-blank bytes of [*p, end); false when only blanks are
 * left. */
static inline bool tv_next_token(const char **p, const char *end, const char **ret_tok,
                                 size_t *ret_len) {
        const char *s = *p, *t;

        while (s < end && tv_is_blank(*s))
                s++;
        if (s >= end) {
                *p = s;
                return false;
        }
        for (t = s; t < end && !tv_is_blank(*t); t++)
                ;
        *ret_tok = s;
        *ret_len = (size_t)(t - s);
        *p = t;
        return true;
}

static inline bool tv_eq(const char *s, size_t n, const char *lit) {
        size_t l = strlen(lit);
        return n == l && memcmp(s, lit, l) == 0;
}

bool tv_starts(const char *s, size_t n, const char *lit);
/* Takes blanks and '\r' off both ends. */
void tv_trim(const char **s, size_t *n);
/* Whether the text holds a NUL (a NULL text is valid only when empty). */
bool tv_has_nul(const char *text, size_t len);

/* The number tokenizer: the whole view must be the number, with no sign,
 * blank or prefix unless said; -EINVAL for empty or junk, -ERANGE for a
 * value that does not fit.  Nothing is written on failure. */
int tv_to_u64(const char *s, size_t n, uint64_t *ret);      /* decimal digits */
int tv_to_unsigned(const char *s, size_t n, unsigned *ret); /* ≤ UINT_MAX */
int tv_to_i64(const char *s, size_t n, int64_t *ret);       /* an optional '-' */
/* "123" or "123.45" (1 to 9 fractional digits), as the kernel prints load
 * averages and uptimes. */
int tv_to_decimal(const char *s, size_t n, double *ret);
/* Whether the view is an integer as the kernel prints one ("-1", "42"),
 * of any length: for values passed through as text. */
bool tv_is_integer(const char *s, size_t n);

/* ---- reading ----------------------------------------------------------------
 *
 * A source is one kernel file opened once and read with pread() from offset
 * 0, which makes a seq_file print afresh: that saves the open and close of
 * every read (≥ 7 µs each on a small machine).  A read never asks for more
 * than the source's own max nor more than the buffer holds, because a
 * /proc/sys read makes the kernel allocate and zero as much as was asked
 * (file-nr: ~80 µs asked for a megabyte, ~4 µs asked for 4 KiB); the buffer
 * starts at PROCFS_BUF_START and doubles when a file does not fit. */

#define PROCFS_BUF_START (16UL * 1024)

/* The read that tells the end of a file is a second system call, and for
 * some seq_files not a cheap one: a read at an offset starts the iterator
 * again, and /proc/net/udp's start walks the whole UDP hash table (measured
 * ~10 µs of /proc/net/udp's ~18).  A seq_file read stops short of what was
 * asked only at the end of the file or when the next record does not fit in
 * the kernel's page-sized (4 KiB) buffer, which leaves more than
 * PROCFS_SHORT_READ bytes when every record is shorter than that; a
 * single_open seq_file, a /proc/sys file and a sysfs attribute print whole
 * in one read.  For a source whose records are known to be short
 * (`short_read_ends`), a read of fewer than PROCFS_SHORT_READ bytes and
 * fewer than asked is taken as the end, without the extra call.  Not for a
 * file whose lines may be long (mountinfo: paths up to PATH_MAX). */
#define PROCFS_SHORT_READ 2048

struct procfs_source {
        const char *path;
        size_t max;     /* bytes; a file of max - 1 bytes or more fails with -EFBIG */
        int fd;         /* -1: closed */
        int open_error; /* -errno of the failed open, 0 */
        bool short_read_ends; /* records < PROCFS_SHORT_READ bytes (see above) */
};

/* Whether a read of `got` bytes out of `asked` ended a short-record
 * source. */
bool procfs_read_ended(size_t got, size_t asked);

/* One growable read buffer, shared by the sources its owner reads in turn. */
struct procfs_buf {
        char *data;
        size_t cap;
};

/* Opens s->path read-only (close-on-exec); on failure fd is -1 and
 * open_error says why.  Returns 0 or that error. */
int procfs_source_open(struct procfs_source *s);
void procfs_source_close(struct procfs_source *s);
/* The whole file, NUL-terminated, into b; the view is valid until the next
 * read into b.  -EBADF (or the open error) for a source that is not open. */
int procfs_source_read(const struct procfs_source *s, struct procfs_buf *b, const char **ret,
                       size_t *ret_len);
void procfs_buf_free(struct procfs_buf *b);
/* One read of a file relative to a directory descriptor (a /proc/PID
 * directory opened once, so that every file read is that process's even if
 * the pid is reused meanwhile): opened without following a symlink, read
 * whole into b as above (max as in procfs_source), closed. */
int procfs_read_at(int dirfd, const char *name, size_t max, struct procfs_buf *b, const char **ret,
                   size_t *ret_len);

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
        uint64_t intr; /* the first number of "intr": interrupts since boot */
        bool has_intr;
};

/* The "cpu" line is required, before any "cpuN" line; all need at least the
 * four original columns (user nice system idle), missing later columns read
 * as 0 and columns past guest_nice are ignored.  More than PROCFS_MAX_CPUS
 * "cpuN" lines: -E2BIG. */
int proc_stat_parse(const char *text, size_t len, struct proc_stat *ret);
void proc_stat_done(struct proc_stat *s);
/* A deep copy (-ENOMEM). */
int proc_stat_copy(const struct proc_stat *s, struct proc_stat *ret);
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

/* Every "Key: N [kB]" line in turn, for a reader that wants all keys (the
 * metrics scrape): 1 and the entry (the key is a view, without the colon;
 * the value in bytes when the line said kB, else as printed), 0 at the end,
 * or an error as above.  Blank lines are skipped; a key holds no blank. */
int meminfo_next(const char **p, const char *end, const char **ret_key, size_t *ret_key_len,
                 uint64_t *ret_value, bool *ret_kb);

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

/* ---- /proc/diskstats ----------------------------------------------------- */

/* Columns after major, minor and name (Documentation/admin-guide/iostats). */
typedef enum {
        DS_READS,
        DS_READS_MERGED,
        DS_SECTORS_READ,
        DS_READ_MS,
        DS_WRITES,
        DS_WRITES_MERGED,
        DS_SECTORS_WRITTEN,
        DS_WRITE_MS,
        DS_IO_NOW,
        DS_IO_MS,
        DS_IO_WEIGHTED_MS,
        DS_DISCARDS, /* 4.18 */
        DS_DISCARDS_MERGED,
        DS_SECTORS_DISCARDED,
        DS_DISCARD_MS,
        DS_FLUSHES, /* 5.5 */
        DS_FLUSH_MS,
        _DS_MAX,
} diskstat_col_t;

#define PROCFS_DISK_NAME_MAX 64 /* NUL included */

struct diskstat {
        char name[PROCFS_DISK_NAME_MAX];
        unsigned major, minor;
        uint64_t v[_DS_MAX]; /* sectors are of 512 bytes, times in ms */
        unsigned n;          /* columns present: 11, 15 or 17 (more are dropped) */
};

/* One line per device, at least the 11 columns of every kernel since 2.6;
 * a device name of PROCFS_DISK_NAME_MAX bytes or more is malformed.  More
 * than PROCFS_MAX_DISKS lines: -E2BIG.  *ret may be NULL when n is 0. */
int diskstats_parse(const char *text, size_t len, struct diskstat **ret, size_t *ret_n);

/* node_exporter's default --collector.diskstats.device-exclude,
 * ^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$: partitions and
 * pseudo devices, whose I/O is counted again in their disk's. */
bool diskstats_device_excluded(const char *name, size_t n);

/* ---- /proc/sys/fs/file-nr ------------------------------------------------- */

/* "allocated unused maximum", blank-separated (tabs on Linux). */
struct file_nr {
        uint64_t allocated, unused, maximum;
};
int file_nr_parse(const char *text, size_t len, struct file_nr *ret);

/* ---- /proc/PID/stat ------------------------------------------------------- */

#define PROCFS_COMM_MAX 64 /* NUL included; the kernel's comm is 16 */

/* proc(5)'s fields 1–24.  comm is between the first '(' and the LAST ')' of
 * the line, since a command may name itself "a) R (b"; it must be valid for
 * the kernel (< PROCFS_COMM_MAX bytes, no NUL or newline).  Later fields
 * (kernels add them) are ignored; fewer than rss is malformed.  Times are
 * in clock ticks (sysconf(_SC_CLK_TCK)), starttime since boot. */
struct proc_pid_stat {
        int pid, ppid, pgrp, session, tty_nr, tpgid;
        char comm[PROCFS_COMM_MAX];
        char state; /* R S D Z T t X I P W K … as printed */
        unsigned flags;
        uint64_t minflt, cminflt, majflt, cmajflt;
        uint64_t utime, stime;
        int64_t cutime, cstime, priority, nice;
        int64_t num_threads;
        uint64_t starttime;
        uint64_t vsize;    /* bytes */
        int64_t rss_pages; /* pages */
};
int proc_pid_stat_parse(const char *text, size_t len, struct proc_pid_stat *ret);

/* ---- /proc/PID/status, /proc/PID/cmdline --------------------------------- */

/* The fields of status a process listing needs.  Name is as the kernel
 * prints it (spaces and backslashes escaped); Name, State, Pid, PPid, Uid,
 * Gid and Threads are required, each once; Uid and Gid hold real,
 * effective, saved and file-system ids.  Kernel threads have no VmRSS nor
 * VmSwap (has_vm_rss, has_vm_swap false).  Other keys are ignored. */
struct proc_pid_status {
        char name[PROCFS_COMM_MAX];
        char state;
        int tgid, pid, ppid;
        unsigned uid[4], gid[4];
        unsigned threads;
        uint64_t vm_rss;  /* bytes */
        uint64_t vm_swap; /* bytes; VmSwap, absent for kernel threads */
        bool has_vm_rss, has_vm_swap;
};
int proc_pid_status_parse(const char *text, size_t len, struct proc_pid_status *ret);

/* The arguments of a cmdline text in turn: NUL-separated, the last NUL
 * optional (a process may rewrite its arguments); false at the end.  An
 * empty argument between two NULs is returned as such. */
bool proc_cmdline_next(const char **p, const char *end, const char **ret_arg, size_t *ret_len);

/* ---- /proc/PID/cgroup ------------------------------------------------------ */

#define CGROUP_UNIT_MAX      255u /* a systemd unit name, bytes */
#define CGROUP_CONTAINER_MAX 79u  /* "docker:0123456789ab", "lxc:<name>", bytes */

struct cgroup_hint {
        char unit[CGROUP_UNIT_MAX + 1];           /* "" when none */
        char container[CGROUP_CONTAINER_MAX + 1]; /* "" when none */
};

typedef enum {
        CGROUP_LINE_OTHER,      /* a v1 controller line: container only */
        CGROUP_LINE_V2,         /* "0::/path" */
        CGROUP_LINE_SYSTEMD_V1, /* "N:name=systemd:/path" */
} cgroup_line_t;

/* Parses one line of /proc/PID/cgroup, "ID:CONTROLLERS:PATH" (no newline
 * needed, nothing past len read).  Fills the unit for V2 and SYSTEMD_V1
 * lines — the first unit after the slices, or for a user manager's units
 * ("user@1000.service/app.slice/x.service") the unit inside it — and the
 * container hint for any line whose path shows docker, containerd, cri-o,
 * podman, lxc or a machine of systemd-machined ("machine:<name>" for
 * /machine.slice/machine-<name>.scope).  Returns the cgroup_line_t, or -EINVAL for a line that is
 * not three colon-separated fields, has a NUL byte, or no absolute path. */
int cgroup_parse_line(const char *line, size_t len, struct cgroup_hint *ret);

/* A whole /proc/PID/cgroup: the unit of the v2 line, else of name=systemd;
 * the container of the v2 line, else of the first line that has one.
 * Malformed lines are skipped.  Always succeeds (an empty hint when nothing
 * is known). */
void cgroup_parse(const char *text, size_t len, struct cgroup_hint *ret);

/* The path of the cgroup v2 line ("0::/system.slice/x.service"), a view
 * into text; -ENOENT when there is none (a v1-only system), -EINVAL for a
 * NUL byte in it. */
int cgroup_v2_path(const char *text, size_t len, const char **ret, size_t *ret_len);

/* ---- /proc/PID/schedstat ------------------------------------------------ */

/* "RUN_NS WAIT_NS TIMESLICES\n" (sched_info of the thread-group leader):
 * the CPU time it ran, in nanoseconds, and the time it waited to run.  A
 * fifth of what /proc/PID/stat costs the kernel to print, and to the
 * nanosecond; but the leader's alone, so a process's CPU time only when it
 * has one thread. */
struct proc_schedstat {
        uint64_t run_ns, wait_ns, timeslices;
};
int proc_schedstat_parse(const char *text, size_t len, struct proc_schedstat *ret);

/* ---- /proc/PID/io, smaps_rollup, limits, maps, environ ------------------- */

/* /proc/PID/io ("key: N" lines): rchar and wchar are required; the others
 * (task I/O accounting) read as 0 when absent (has_bytes false). */
struct proc_pid_io {
        uint64_t rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes;
        bool has_bytes;
};
int proc_pid_io_parse(const char *text, size_t len, struct proc_pid_io *ret);

/* /proc/PID/smaps_rollup: the "[rollup]" header line, then "Key: N kB"
 * lines; Rss and Pss are required.  Bytes. */
struct proc_smaps_rollup {
        uint64_t rss, pss, pss_anon, pss_file, pss_shmem, swap, swap_pss;
};
int proc_smaps_rollup_parse(const char *text, size_t len, struct proc_smaps_rollup *ret);

/* /proc/PID/limits: a header line, then one line a limit in the kernel's
 * columns ("%-25s %-20s %-20s %-10s"): the name, soft, hard ("unlimited"
 * or a number) and an optional unit.  At most PROCFS_MAX_LIMITS lines. */
#define PROCFS_MAX_LIMITS 32
struct proc_limit {
        char name[32];
        uint64_t soft, hard;
        bool soft_unlimited, hard_unlimited;
        char unit[16]; /* "" when none */
};
struct proc_limits {
        struct proc_limit v[PROCFS_MAX_LIMITS];
        size_t n;
};
int proc_limits_parse(const char *text, size_t len, struct proc_limits *ret);

/* One line of /proc/PID/maps in turn: "START-END PERMS OFFSET MAJ:MIN INODE
 * [PATH]".  1 with the entry (path a view into the text, possibly empty;
 * a path may hold blanks), 0 at the end, -EINVAL for a malformed line. */
struct proc_map {
        uint64_t start, end, offset, inode;
        char perms[5];
        const char *path;
        size_t path_len;
};
int proc_maps_next(const char **p, const char *end, struct proc_map *ret);

/* /proc/PID/environ is read with proc_cmdline_next() (NUL-separated
 * KEY=VALUE entries). */

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
/* Mount points that node_exporter's default mount-points-exclude leaves out:
 * ^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/) */
bool procfs_mount_point_excluded(const char *mount_point);
/* The real file systems of m, as every file system list shows them: not
 * pseudo, not excluded, one per mount point — the last mounted there, which
 * is on top and what statvfs() sees — sorted by mount point.  *ret is a
 * malloc'ed array of pointers into m (free() it; m must outlive it). */
int mountinfo_real(const struct mountinfo *m, const struct mount_entry ***ret, size_t *ret_n);
/* Whether a comma-separated mount option list holds opt ("ro", …) exactly. */
bool procfs_mount_option_set(const char *options, const char *opt);

/* ---- /etc/os-release ----------------------------------------------------- */

/* NULL for a key that is absent.  Values use shell quoting: 'single',
 * "double" (with \" \\ \$ \` escapes) and backslash escapes outside quotes;
 * segments concatenate (A="x"'y'z is "xyz").  The last assignment wins. */
struct os_release {
        char *pretty_name, *name, *id, *id_like, *version, *version_id, *version_codename,
                *variant_id, *build_id, *variant, *image_id, *image_version;
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

/* ---- node_exporter's smaller sources ----------------------------------------
 *
 * The parsers below serve the metrics scrape's collectors (pressure,
 * softnet, vmstat, arp, conntrack, udp_queues, disk info). */

/* A number in hexadecimal digits (no prefix, either case). */
int tv_to_hex_u64(const char *s, size_t n, uint64_t *ret);

/* /proc/pressure/{cpu,io,memory}: "some avg10=… avg60=… avg300=… total=N"
 * and, since 5.13 for cpu, "full …"; total is in microseconds.  "some" is
 * required. */
struct psi {
        uint64_t some_total, full_total;
        bool has_full;
};
int psi_parse(const char *text, size_t len, struct psi *ret);

/* /proc/net/softnet_stat, one line a CPU in turn: at least three hex
 * columns (processed, dropped, time_squeeze).  1 with the row, 0 at the
 * end, -EINVAL for a malformed line. */
struct softnet_row {
        uint64_t processed, dropped, squeezed;
};
int softnet_next(const char **p, const char *end, struct softnet_row *ret);

/* "key value" lines in turn (/proc/vmstat): 1 with the key (a view) and
 * the value, 0 at the end, -EINVAL for a malformed line.  Blank lines are
 * skipped. */
int kv_line_next(const char **p, const char *end, const char **ret_key, size_t *ret_key_len,
                 uint64_t *ret_value);

/* /proc/net/arp: the header line, then "IP HWTYPE FLAGS HWADDR MASK DEVICE"
 * per entry: 1 with the device (a view, 1..15 bytes), 0 at the end,
 * -EINVAL for a malformed line or a missing header. */
int arp_next(const char **p, const char *end, const char **ret_dev, size_t *ret_dev_len);

/* /proc/net/stat/FILE (nf_conntrack, arp_cache, …): a header of column
 * names, then one line of hex numbers a CPU.  Sums the columns named in
 * names[0..n) into sums[] and sets bit i of *ret_found for each column
 * present (n ≤ 64).  -EINVAL for a malformed table. */
int net_stat_table_sum(const char *text, size_t len, const char *const *names, size_t n,
                       uint64_t *sums, uint64_t *ret_found);

/* /proc/net/udp and udp6: the header, then one line a socket; the sums of
 * the tx_queue and rx_queue columns ("TX:RX" in hex). */
int udp_queues_parse(const char *text, size_t len, uint64_t *ret_tx, uint64_t *ret_rx);

/* /run/udev/data/bMAJ:MIN: the value of property KEY ("E:KEY=VALUE"
 * lines), a view; -ENOENT when absent. */
int udev_data_property(const char *text, size_t len, const char *key, const char **ret,
                       size_t *ret_len);

/* /proc/schedstat: the "cpuN" lines in turn (other lines skipped): 1 with
 * the CPU and its 7th to 9th numbers (time running and waiting, in ns, and
 * timeslices), 0 at the end, -EINVAL for a malformed cpu line. */
struct schedstat_cpu {
        unsigned cpu;
        uint64_t running_ns, waiting_ns, timeslices;
};
int schedstat_next(const char **p, const char *end, struct schedstat_cpu *ret);

/* ---- /proc/mdstat ------------------------------------------------------------ */

#define PROCFS_MAX_MD 1024

/* One md device as node_exporter 1.5 (procfs 0.8) reads it: state is the
 * third word of its line ("active", "inactive"), or "recovering",
 * "resyncing" or "checking" while its sync line says so; failed and spare
 * disks are the (F) and (S) marks of its line; total, active and down come
 * from "[total/active] [UU_]" of the status line (for raid0 and linear:
 * every member is active; inactive: none); blocks_synced is the size but
 * while syncing (the "(done/total)" of the sync line; 0 when PENDING or
 * DELAYED). */
struct md_device {
        char name[32];
        char state[16];
        uint64_t disks_active, disks_failed, disks_spare, disks_total, disks_down;
        uint64_t blocks_total, blocks_synced;
};
int mdstat_parse(const char *text, size_t len, struct md_device **ret, size_t *ret_n);
