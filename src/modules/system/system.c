/* system.c — the `system` module: what the machine is and how it is doing.
 *
 * Two settings, the host name and the time zone, are read here and written
 * by settings.c (in the privileged helper).
 *
 * Status answers from /proc, /sys, uname(), statvfs(), getifaddrs() and utmpx
 * at request time; all text parsing is in common/procfs.c.  The one thing
 * that cannot be read at request time is CPU utilisation, which needs two
 * samples some time apart: the front's sampler thread (common/procsampler.c)
 * keeps the last two samples of /proc/stat, and this module holds a
 * subscription to it from init() to done().
 *
 * Invariants and ownership:
 *  - `cpustate` is written by init() and done() only, which run before and after
 *    every request handler.
 *  - cpuinfo is read once in init() and never changes afterwards: reading
 *    /proc/cpuinfo is slow on x86 (it samples every CPU's clock), and model
 *    and count do not change while the system runs.
 *  - The utmpx functions keep hidden global state; utmp_lock serialises them.
 *  - A data source that fails leaves its field null and the state "degraded";
 *    only running out of memory fails a whole request.
 *  - Strings from the system (mount points, device names, utmp, sysctl values)
 *    need not be UTF-8; json_str() replaces what JSON cannot carry.
 *
 * statvfs() can hang on a dead network file system, as df does; the request
 * then waits with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include "module.h"
#include "procfs.h"
#include "procsampler.h"
#include "modules/system/settings.h"
#include "util.h"

/* Large enough for PROCFS_MAX_CPUS lines plus a long "intr" line. */
#define PROC_STAT_MAX    (4UL * 1024 * 1024)
#define MEMINFO_MAX      (256UL * 1024)
#define SMALL_FILE_MAX   4096UL
#define CPUINFO_MAX      (32UL * 1024 * 1024)
#define NET_DEV_MAX      (4UL * 1024 * 1024)
#define MOUNTINFO_MAX    (64UL * 1024 * 1024)
#define OS_RELEASE_MAX   (64UL * 1024)
#define SYSCTL_VALUE_MAX (64UL * 1024)
#define SYSCTL_NAME_MAX  255
#define MAX_USERS        4096

/* json_decrefp() comes with jansson (>= 2.9). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- JSON helpers ----------------------------------------------------------- */

/* A JSON string from n bytes; each byte that is not part of valid UTF-8
 * becomes '?'.  NULL only when out of memory. */
static json_t *json_str_n(const char *s, size_t n) {
        json_t *j;

        j = json_stringn(s, n);
        if (j)
                return j;

        _cleanup_free_ char *copy = malloc(n + 1);
        if (!copy)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t l = utf8_char_len((const unsigned char *)s + i, n - i);

                if (l == 0) {
                        copy[i++] = '?';
                        continue;
                }
                memcpy(copy + i, s + i, l);
                i += l;
        }
        copy[n] = '\0';
        return json_stringn(copy, n);
}

/* As json_str_n() for a C string; JSON null for NULL. */
static json_t *json_str(const char *s) {
        return s ? json_str_n(s, strlen(s)) : json_null();
}

/* JSON integers are int64: larger counters are capped. */
static json_t *json_u64(uint64_t v) {
        return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Whole seconds of a non-negative duration, capped. */
static json_t *json_seconds(double v) {
        if (!(v >= 0.0))
                return json_integer(0);
        if (v >= 9e18)
                return json_integer(INT64_MAX);
        return json_integer((json_int_t)v);
}

/* Two decimals are enough for percentages and load averages. */
static json_t *json_round2(double v) {
        if (!(v >= 0.0) || v > 1e15)
                return json_real(v >= 0.0 ? v : 0.0);
        return json_real((double)(int64_t)(v * 100.0 + 0.5) / 100.0);
}

/* Sets o[key] = v, stealing v.  Any failure (v or o NULL, out of memory) is
 * recorded in *r, so a whole object is built first and checked once. */
static void put(json_t *o, const char *key, json_t *v, int *r) {
        if (!v || json_object_set_new(o, key, v) < 0)
                *r = -ENOMEM;
}

/* Why the state is "degraded": the fields whose source could not be read
 * are null (cpu_percent is null before the first sample, which is no
 * fault). */
static json_t *degraded_reason(json_t *o) {
        char text[512];
        size_t len = 0;
        const char *key;
        json_t *v;

        text[0] = '\0';
        json_object_foreach(o, key, v) {
                int n;

                if (!json_is_null(v) || STREQ(key, "cpu_percent"))
                        continue;
                n = snprintf(text + len, sizeof text - len, "%s%s", len ? ", " : "", key);
                if (n < 0 || (size_t)n >= sizeof text - len)
                        break;
                len += (size_t)n;
        }
        return json_sprintf("could not read the source of: %s", len ? text : "some fields");
}

static void append(json_t *a, json_t *v, int *r) {
        if (!v || json_array_append_new(a, v) < 0)
                *r = -ENOMEM;
}

static void iso8601(time_t t, char buf[static 32]) {
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                buf[0] = '\0';
}

static json_t *json_iso8601(time_t t) {
        char buf[32];

        iso8601(t, buf);
        return buf[0] ? json_string(buf) : json_null();
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *n) {
        while (*n > 0 && is_space(**s)) {
                (*s)++;
                (*n)--;
        }
        while (*n > 0 && is_space((*s)[*n - 1]))
                (*n)--;
}

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- CPU figures ---------------------------------------------------------------- */

/* Utilisation comes from the front's sampler (procsampler.h), which keeps
 * the last two samples of /proc/stat a second apart; this module only holds
 * a subscription while it runs. */
static struct {
        bool subscribed;
        struct cpuinfo cpuinfo; /* read once in init() */
        bool have_cpuinfo;
} cpustate = {};

static int system_init(void) {
        int r;

        if (cpustate.subscribed)
                return -EBUSY;
        r = procsampler_subscribe(/* fn= */ NULL);
        if (r < 0)
                return r;
        cpustate.subscribed = true;

        _cleanup_free_ char *text = NULL;
        size_t len;

        if (read_file("/proc/cpuinfo", CPUINFO_MAX, &text, &len) >= 0 &&
            cpuinfo_parse(text, len, &cpustate.cpuinfo) >= 0)
                cpustate.have_cpuinfo = true;
        return 0;
}

static void system_done(void) {
        if (!cpustate.subscribed)
                return;
        procsampler_unsubscribe(/* fn= */ NULL);
        cpustate.subscribed = false;
        cpuinfo_done(&cpustate.cpuinfo);
        cpustate.have_cpuinfo = false;
}

struct busy_arg {
        double busy;
        int r;
};

static void busy_of(const struct proc_stat *prev, const struct proc_stat *cur, void *userdata) {
        struct busy_arg *a = userdata;
        struct cpu_percent pc;

        a->r = prev ? cpu_percent_compute(&prev->total, &cur->total, &pc) : -ENODATA;
        if (a->r >= 0)
                a->busy = pc.busy;
}

/* Busy percentage of all CPUs over the last second; -ENODATA before the
 * second sample. */
static int cpu_busy_now(double *ret) {
        struct busy_arg a = {.r = -ENODATA};

        if (procsampler_cpu(busy_of, &a) < 0 || a.r < 0)
                return -ENODATA;
        *ret = a.busy;
        return 0;
}

/* Adds {"user": %, …, "guest_nice": %, "busy": %} to o, nulls when the two
 * samples give nothing to compare. */
static void put_cpu_percent(json_t *o, const struct cpu_times *prev, const struct cpu_times *cur,
                            int *r) {
        struct cpu_percent pc = {};
        bool ok = prev && cur && cpu_percent_compute(prev, cur, &pc) >= 0;

        for (size_t i = 0; i < _CPU_MODE_MAX; i++)
                put(o, cpu_mode_to_string(i), ok ? json_round2(pc.mode[i]) : json_null(), r);
        put(o, "busy", ok ? json_round2(pc.busy) : json_null(), r);
}

struct cpu_arg {
        json_t *total, *per;
        uint64_t btime;
        size_t n_online;
        int r;
};

/* Under the sampler's lock: JSON only, no I/O. */
static void cpu_rows(const struct proc_stat *prev, const struct proc_stat *cur, void *userdata) {
        struct cpu_arg *a = userdata;

        a->btime = cur->btime;
        a->n_online = cur->n_cpus;
        put_cpu_percent(a->total, prev ? &prev->total : NULL, &cur->total, &a->r);
        for (size_t i = 0; i < cur->n_cpus && a->r >= 0; i++) {
                const struct cpu_times *c = &cur->cpus[i];
                json_t *row = json_object();
                char name[32];

                (void)snprintf(name, sizeof(name), "cpu%u", c->id);
                put(row, "cpu", json_string(name), &a->r);
                put_cpu_percent(row, prev ? proc_stat_find_cpu(prev, c->id) : NULL, c, &a->r);
                append(a->per, row, &a->r);
        }
}

/* {"model", "count", "total": {...}, "per_cpu": [{"cpu": "cpu0", ...}]}, and
 * the boot time from the same /proc/stat sample.  -ENOMEM only. */
static int cpu_json(json_t **ret, uint64_t *ret_btime) {
        _cleanup_json_ json_t *o = json_object();
        struct cpu_arg a = {.total = json_object(), .per = json_array()};

        if (procsampler_cpu(cpu_rows, &a) < 0) {
                /* No sampler (init() not run or failed): one direct read. */
                _cleanup_free_ char *text = NULL;
                struct proc_stat s;
                size_t len;

                put_cpu_percent(a.total, NULL, NULL, &a.r);
                if (read_file("/proc/stat", PROC_STAT_MAX, &text, &len) >= 0 &&
                    proc_stat_parse(text, len, &s) >= 0) {
                        a.btime = s.btime;
                        a.n_online = s.n_cpus;
                        proc_stat_done(&s);
                }
        }

        put(o, "model", json_str(cpustate.have_cpuinfo ? cpustate.cpuinfo.model : NULL), &a.r);
        if (cpustate.have_cpuinfo && cpustate.cpuinfo.count > 0)
                put(o, "count", json_integer(cpustate.cpuinfo.count), &a.r);
        else
                put(o, "count", a.n_online > 0 ? json_integer((json_int_t)a.n_online) : json_null(),
                    &a.r);
        put(o, "total", a.total, &a.r);
        put(o, "per_cpu", a.per, &a.r);
        if (a.r < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        *ret_btime = a.btime;
        return 0;
}

/* ---- sources read per request -------------------------------------------- */

static int read_meminfo(struct meminfo *ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file("/proc/meminfo", MEMINFO_MAX, &text, &len);
        if (r < 0)
                return r;
        return meminfo_parse(text, len, ret);
}

static int read_loadavg(struct loadavg *ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file("/proc/loadavg", SMALL_FILE_MAX, &text, &len);
        if (r < 0)
                return r;
        return loadavg_parse(text, len, ret);
}

static int read_uptime(struct uptime *ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file("/proc/uptime", SMALL_FILE_MAX, &text, &len);
        if (r < 0)
                return r;
        return uptime_parse(text, len, ret);
}

static int get_hostname(char buf[static HOST_NAME_MAX + 1]) {
        if (gethostname(buf, HOST_NAME_MAX + 1) < 0)
                return -errno;
        buf[HOST_NAME_MAX] = '\0';
        return 0;
}

/* The zone name from the /etc/localtime link ("Europe/Berlin"), or "UTC",
 * which is also what the C library assumes without the file.  A "posix/" or
 * "right/" prefix is kept: it names another zone file, and the value must
 * read back as it was written. */
static void get_timezone(char *buf, size_t size) {
        char target[PATH_MAX];
        ssize_t n;
        const char *z;

        n = readlink("/etc/localtime", target, sizeof(target) - 1);
        if (n <= 0)
                goto utc;
        target[n] = '\0';

        z = strstr(target, "/zoneinfo/");
        if (!z)
                goto utc;
        z += strlen("/zoneinfo/");

        if (!*z || *z == '/' || strstr(z, "..") || strlen(z) >= size)
                goto utc;
        for (const char *c = z; *c; c++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/",
                            *c))
                        goto utc;

        memcpy(buf, z, strlen(z) + 1);
        return;
utc:
        (void)snprintf(buf, size, "UTC");
}

static json_t *os_json(void) {
        static const char *const paths[] = {"/etc/os-release", "/usr/lib/os-release"};
        struct os_release o = {};
        json_t *j;
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(paths) && r < 0; i++) {
                _cleanup_free_ char *text = NULL;
                size_t len;

                r = read_file(paths[i], OS_RELEASE_MAX, &text, &len);
                if (r >= 0)
                        r = os_release_parse(text, len, &o);
        }
        if (r < 0)
                return json_null();

        /* Defaults from os-release(5). */
        j = json_object();
        r = 0;
        put(j, "pretty_name", json_str(o.pretty_name ? o.pretty_name : "Linux"), &r);
        put(j, "name", json_str(o.name ? o.name : "Linux"), &r);
        put(j, "id", json_str(o.id ? o.id : "linux"), &r);
        put(j, "id_like", json_str(o.id_like), &r);
        put(j, "version", json_str(o.version), &r);
        put(j, "version_id", json_str(o.version_id), &r);
        put(j, "version_codename", json_str(o.version_codename), &r);
        put(j, "variant_id", json_str(o.variant_id), &r);
        put(j, "build_id", json_str(o.build_id), &r);
        os_release_done(&o);
        if (r < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

/* The ABI this daemon was built for, which is what installed software must
 * match; it can differ from kernel.machine (32-bit userland on a 64-bit
 * kernel). */
static const char *userland_architecture(void) {
#if defined(__x86_64__) && defined(__ILP32__)
        return "x32";
#elif defined(__x86_64__)
        return "x86_64";
#elif defined(__i386__)
        return "i686";
#elif defined(__aarch64__)
        return "aarch64";
#elif defined(__arm__)
        return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__powerpc64__)
        return "ppc64";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__loongarch64)
        return "loongarch64";
#else
        return NULL;
#endif
}

/* ---- filesystems ------------------------------------------------------------ */

static uint64_t mul_sat(uint64_t a, uint64_t b) {
        uint64_t v;
        return __builtin_mul_overflow(a, b, &v) ? UINT64_MAX : v;
}

struct mount_ref {
        const char *mount_point;
        size_t index;
};

static int mount_ref_cmp(const void *a, const void *b) {
        const struct mount_ref *x = a, *y = b;
        int c = strcmp(x->mount_point, y->mount_point);

        if (c != 0)
                return c;
        return x->index < y->index ? -1 : x->index > y->index;
}

static json_t *filesystem_json(const struct mount_entry *e, const struct statvfs *st) {
        uint64_t frsize = st->f_frsize ? st->f_frsize : st->f_bsize;
        uint64_t bavail = st->f_bavail;
        uint64_t used_blocks = st->f_blocks >= st->f_bfree ? st->f_blocks - st->f_bfree : 0;
        uint64_t inodes_used = st->f_files >= st->f_ffree ? st->f_files - st->f_ffree : 0;
        json_t *o = json_object();
        int r = 0;

        /* Some file systems report a "negative" f_bavail when root has used
         * the reserve; df shows that as negative, we as none. */
        if (bavail > st->f_blocks && (bavail >> 63))
                bavail = 0;

        put(o, "mountpoint", json_str(e->mount_point), &r);
        put(o, "device", json_str(e->source), &r);
        put(o, "fstype", json_str(e->fstype), &r);
        put(o, "size_bytes", json_u64(mul_sat(st->f_blocks, frsize)), &r);
        put(o, "used_bytes", json_u64(mul_sat(used_blocks, frsize)), &r);
        put(o, "available_bytes", json_u64(mul_sat(bavail, frsize)), &r);
        put(o, "free_bytes", json_u64(mul_sat(st->f_bfree, frsize)), &r);
        put(o, "inodes_total", json_u64(st->f_files), &r);
        put(o, "inodes_used", json_u64(inodes_used), &r);
        put(o, "inodes_free", json_u64(st->f_ffree), &r);
        put(o, "read_only", json_boolean(st->f_flag & ST_RDONLY), &r);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* Real file systems, one per mount point: where several are stacked on one
 * mount point, the last one in mountinfo is on top and is what statvfs()
 * sees.  Returns -ENOMEM, or another error for an unreadable mountinfo. */
static int filesystems_json(json_t **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ struct mount_ref *refs = NULL;
        _cleanup_free_ bool *keep = NULL;
        _cleanup_json_ json_t *a = NULL;
        struct mountinfo m = {};
        size_t len, n = 0;
        int r;

        r = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &text, &len);
        if (r < 0)
                return r;
        r = mountinfo_parse(text, len, &m);
        if (r < 0)
                return r;

        refs = calloc(m.n_entries ? m.n_entries : 1, sizeof(*refs));
        keep = calloc(m.n_entries ? m.n_entries : 1, sizeof(*keep));
        a = json_array();
        if (!refs || !keep || !a) {
                r = -ENOMEM;
                goto out;
        }

        for (size_t i = 0; i < m.n_entries; i++)
                if (!procfs_fstype_is_pseudo(m.entries[i].fstype))
                        refs[n++] = (struct mount_ref){m.entries[i].mount_point, i};
        qsort(refs, n, sizeof(*refs), mount_ref_cmp);
        for (size_t i = 0; i < n; i++)
                if (i + 1 == n || !STREQ(refs[i].mount_point, refs[i + 1].mount_point))
                        keep[refs[i].index] = true;

        r = 0;
        for (size_t i = 0; i < m.n_entries && r >= 0; i++) {
                struct statvfs st;

                if (!keep[i])
                        continue;
                /* Gone since, or not ours to see: not listed. */
                if (statvfs(m.entries[i].mount_point, &st) < 0)
                        continue;
                if (st.f_blocks == 0)
                        continue;
                append(a, filesystem_json(&m.entries[i], &st), &r);
        }
        if (r >= 0)
                *ret = TAKE_PTR(a);
out:
        mountinfo_done(&m);
        return r;
}

/* ---- network interfaces ------------------------------------------------------- */

/* The trimmed contents of /sys/class/net/NAME/ATTR, or -errno. */
static int read_sysfs_net(const char *ifname, const char *attr, char **ret, size_t *ret_len) {
        char path[128];
        char *text;
        const char *s;
        size_t len;
        int r;

        if (snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr) >= (int)sizeof(path))
                return -ENAMETOOLONG;

        r = read_file(path, SMALL_FILE_MAX, &text, &len);
        if (r < 0)
                return r;

        s = text;
        trim(&s, &len);
        memmove(text, s, len);
        text[len] = '\0';
        *ret = text;
        *ret_len = len;
        return 0;
}

static json_t *sysfs_string_json(const char *ifname, const char *attr) {
        _cleanup_free_ char *v = NULL;
        size_t len;

        if (read_sysfs_net(ifname, attr, &v, &len) < 0 || len == 0)
                return json_null();
        return json_str_n(v, len);
}

static json_t *sysfs_int_json(const char *ifname, const char *attr) {
        _cleanup_free_ char *v = NULL;
        size_t len;
        int64_t n;

        if (read_sysfs_net(ifname, attr, &v, &len) < 0 || safe_atoi64_n(v, len, &n) < 0)
                return json_null();
        return json_integer(n);
}

static unsigned prefix_len(const unsigned char *mask, size_t n) {
        unsigned bits = 0;

        for (size_t i = 0; i < n; i++)
                bits += (unsigned)__builtin_popcount(mask[i]);
        return bits;
}

/* IPv4 addresses may carry a label "eth0:1"; they belong to eth0. */
static bool ifa_belongs_to(const char *ifa_name, const char *ifname) {
        size_t n = strlen(ifname);

        return strncmp(ifa_name, ifname, n) == 0 && (ifa_name[n] == '\0' || ifa_name[n] == ':');
}

static json_t *addresses_json(const struct ifaddrs *list, const char *ifname) {
        json_t *a = json_array();
        int r = 0;

        for (const struct ifaddrs *i = list; i && r >= 0; i = i->ifa_next) {
                char buf[INET6_ADDRSTRLEN];
                const void *addr, *mask;
                size_t mask_len;
                const char *family;
                int af;

                if (!i->ifa_addr || !i->ifa_name || !ifa_belongs_to(i->ifa_name, ifname))
                        continue;

                af = i->ifa_addr->sa_family;
                if (af == AF_INET) {
                        const struct sockaddr_in *sa = (const void *)i->ifa_addr;
                        const struct sockaddr_in *nm = (const void *)i->ifa_netmask;

                        family = "ipv4";
                        addr = &sa->sin_addr;
                        mask = nm ? &nm->sin_addr : NULL;
                        mask_len = sizeof(struct in_addr);
                } else if (af == AF_INET6) {
                        const struct sockaddr_in6 *sa = (const void *)i->ifa_addr;
                        const struct sockaddr_in6 *nm = (const void *)i->ifa_netmask;

                        family = "ipv6";
                        addr = &sa->sin6_addr;
                        mask = nm ? &nm->sin6_addr : NULL;
                        mask_len = sizeof(struct in6_addr);
                } else
                        continue;

                if (!inet_ntop(af, addr, buf, sizeof(buf)))
                        continue;

                json_t *o = json_object();
                put(o, "family", json_string(family), &r);
                put(o, "address", json_string(buf), &r);
                put(o, "prefixlen", mask ? json_integer(prefix_len(mask, mask_len)) : json_null(),
                    &r);
                append(a, o, &r);
        }

        if (r < 0) {
                json_decref(a);
                return NULL;
        }
        return a;
}

static json_t *counters_json(uint64_t bytes, uint64_t packets, uint64_t errors, uint64_t dropped) {
        json_t *o = json_object();
        int r = 0;

        put(o, "bytes", json_u64(bytes), &r);
        put(o, "packets", json_u64(packets), &r);
        put(o, "errors", json_u64(errors), &r);
        put(o, "dropped", json_u64(dropped), &r);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static int interfaces_json(json_t **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ struct net_dev *devs = NULL;
        _cleanup_json_ json_t *a = NULL;
        struct ifaddrs *ifa = NULL;
        size_t len, n;
        int r;

        r = read_file("/proc/net/dev", NET_DEV_MAX, &text, &len);
        if (r < 0)
                return r;
        r = net_dev_parse(text, len, &devs, &n);
        if (r < 0)
                return r;

        /* Without getifaddrs() the interfaces are still worth listing. */
        bool have_addrs = getifaddrs(&ifa) >= 0;

        a = json_array();
        if (!a)
                r = -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const struct net_dev *d = &devs[i];
                json_t *o = json_object();

                put(o, "name", json_str(d->name), &r);
                put(o, "state", sysfs_string_json(d->name, "operstate"), &r);
                put(o, "mtu", sysfs_int_json(d->name, "mtu"), &r);
                put(o, "mac", sysfs_string_json(d->name, "address"), &r);
                put(o, "addresses", have_addrs ? addresses_json(ifa, d->name) : json_null(), &r);
                put(o, "rx", counters_json(d->rx_bytes, d->rx_packets, d->rx_errs, d->rx_drop), &r);
                put(o, "tx", counters_json(d->tx_bytes, d->tx_packets, d->tx_errs, d->tx_drop), &r);
                append(a, o, &r);
        }

        if (have_addrs)
                freeifaddrs(ifa);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- logged-in users -------------------------------------------------------- */

static pthread_mutex_t utmp_lock = PTHREAD_MUTEX_INITIALIZER;

static int users_json(json_t **ret) {
        _cleanup_json_ json_t *a = json_array();
        struct utmpx *u;
        size_t n = 0;
        int r = 0;

        if (!a)
                return -ENOMEM;

        pthread_mutex_lock(&utmp_lock);
        setutxent();
        while (r >= 0 && n < MAX_USERS && (u = getutxent())) {
                if (u->ut_type != USER_PROCESS)
                        continue;

                /* utmp fields are fixed-size and not always NUL-terminated. */
                size_t host_len = strnlen(u->ut_host, sizeof(u->ut_host));
                json_t *o = json_object();

                put(o, "user", json_str_n(u->ut_user, strnlen(u->ut_user, sizeof(u->ut_user))), &r);
                put(o, "tty", json_str_n(u->ut_line, strnlen(u->ut_line, sizeof(u->ut_line))), &r);
                put(o, "host", host_len > 0 ? json_str_n(u->ut_host, host_len) : json_null(), &r);
                put(o, "login_time", json_integer(u->ut_tv.tv_sec), &r);
                put(o, "login_time_iso", json_iso8601((time_t)u->ut_tv.tv_sec), &r);
                append(a, o, &r);
                n++;
        }
        endutxent();
        pthread_mutex_unlock(&utmp_lock);

        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- status ----------------------------------------------------------------- */

static json_t *hostname_json(void) {
        char h[HOST_NAME_MAX + 1];

        return get_hostname(h) < 0 ? json_null() : json_str(h);
}

static int system_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *o = json_object();
        struct uptime up;
        struct loadavg la;
        struct meminfo mem;
        double busy;
        bool degraded = false;
        int r = 0;

        if (!o)
                return oom(err);

        put(o, "state", json_string("running"), &r);
        put(o, "hostname", hostname_json(), &r);

        if (read_uptime(&up) >= 0)
                put(o, "uptime_seconds", json_seconds(up.uptime), &r);
        else {
                put(o, "uptime_seconds", json_null(), &r);
                degraded = true;
        }

        if (read_loadavg(&la) >= 0)
                /* Named by minutes, as in fullstatus: one key a value, not an
                 * array, so both print system:load:1 = … */
                put(o, "load",
                    json_pack("{s:o,s:o,s:o}", "1", json_round2(la.load1), "5",
                              json_round2(la.load5), "15", json_round2(la.load15)),
                    &r);
        else {
                put(o, "load", json_null(), &r);
                degraded = true;
        }

        /* Null during the first second, before there are two samples. */
        put(o, "cpu_percent", cpu_busy_now(&busy) >= 0 ? json_round2(busy) : json_null(), &r);

        if (read_meminfo(&mem) >= 0 && mem.total > 0) {
                uint64_t used = mem.total > mem.available ? mem.total - mem.available : 0;
                double pct = (double)used * 100.0 / (double)mem.total;

                put(o, "memory_used_percent", json_round2(pct), &r);
        } else {
                put(o, "memory_used_percent", json_null(), &r);
                degraded = true;
        }

        if (degraded) { /* replaces the value in place, keeping "state" first */
                put(o, "state", json_string("degraded"), &r);
                put(o, "reason", degraded_reason(o), &r);
        }
        if (r < 0)
                return oom(err);

        *ret = TAKE_PTR(o);
        return 0;
}

static json_t *kernel_json(const struct utsname *u) {
        json_t *o = json_object();
        int r = 0;

        put(o, "sysname", json_str(u->sysname), &r);
        put(o, "release", json_str(u->release), &r);
        put(o, "version", json_str(u->version), &r);
        put(o, "machine", json_str(u->machine), &r);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *memory_json(const struct meminfo *m) {
        json_t *o = json_object();
        int r = 0;

        put(o, "total_bytes", json_u64(m->total), &r);
        put(o, "free_bytes", json_u64(m->free), &r);
        put(o, "available_bytes", json_u64(m->available), &r);
        put(o, "buffers_bytes", json_u64(m->buffers), &r);
        put(o, "cached_bytes", json_u64(m->cached), &r);
        put(o, "shared_bytes", json_u64(m->shmem), &r);
        put(o, "used_bytes", json_u64(m->total > m->available ? m->total - m->available : 0), &r);
        put(o, "swap_total_bytes", json_u64(m->swap_total), &r);
        put(o, "swap_free_bytes", json_u64(m->swap_free), &r);
        put(o, "swap_used_bytes",
            json_u64(m->swap_total > m->swap_free ? m->swap_total - m->swap_free : 0), &r);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* Puts the result of a section builder, or null (and degraded) if its source
 * failed; only -ENOMEM is fatal. */
static void put_section(json_t *o, const char *key, int (*build)(json_t **), bool *degraded,
                        int *r) {
        json_t *v = NULL;
        int k;

        k = build(&v);
        if (k == -ENOMEM) {
                *r = -ENOMEM;
                return;
        }
        if (k < 0) {
                *degraded = true;
                v = json_null();
        }
        put(o, key, v, r);
}

static int system_fullstatus(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *o = json_object();
        json_t *cpu = NULL;
        struct utsname u;
        struct uptime up;
        struct loadavg la;
        struct meminfo mem;
        uint64_t btime = 0;
        bool degraded = false;
        const char *arch;
        int r = 0;

        if (!o)
                return oom(err);

        put(o, "state", json_string("running"), &r);
        put(o, "hostname", hostname_json(), &r);
        put(o, "os", os_json(), &r);

        if (uname(&u) >= 0) {
                put(o, "kernel", kernel_json(&u), &r);
                arch = userland_architecture();
                put(o, "architecture", json_str(arch ? arch : u.machine), &r);
        } else {
                put(o, "kernel", json_null(), &r);
                put(o, "architecture", json_str(userland_architecture()), &r);
                degraded = true;
        }

        if (cpu_json(&cpu, &btime) < 0)
                r = -ENOMEM;
        if (btime > 0 && btime <= INT64_MAX) {
                put(o, "boot_time", json_integer((json_int_t)btime), &r);
                put(o, "boot_time_iso", json_iso8601((time_t)btime), &r);
        } else {
                put(o, "boot_time", json_null(), &r);
                put(o, "boot_time_iso", json_null(), &r);
                degraded = true;
        }

        if (read_uptime(&up) >= 0)
                put(o, "uptime_seconds", json_seconds(up.uptime), &r);
        else {
                put(o, "uptime_seconds", json_null(), &r);
                degraded = true;
        }

        if (read_loadavg(&la) >= 0)
                put(o, "load",
                    json_pack("{s:o,s:o,s:o,s:I,s:I}", "1", json_round2(la.load1), "5",
                              json_round2(la.load5), "15", json_round2(la.load15), "running",
                              (json_int_t)(la.running > INT64_MAX ? INT64_MAX : la.running),
                              "total", (json_int_t)(la.total > INT64_MAX ? INT64_MAX : la.total)),
                    &r);
        else {
                put(o, "load", json_null(), &r);
                degraded = true;
        }

        put(o, "cpu", cpu, &r);

        if (read_meminfo(&mem) >= 0)
                put(o, "memory", memory_json(&mem), &r);
        else {
                put(o, "memory", json_null(), &r);
                degraded = true;
        }

        put_section(o, "filesystems", filesystems_json, &degraded, &r);
        put_section(o, "interfaces", interfaces_json, &degraded, &r);
        put_section(o, "users", users_json, &degraded, &r);

        if (degraded) { /* replaces the value in place, keeping "state" first */
                put(o, "state", json_string("degraded"), &r);
                put(o, "reason", degraded_reason(o), &r);
        }
        if (r < 0)
                return oom(err);

        *ret = TAKE_PTR(o);
        return 0;
}

/* ---- settings ---------------------------------------------------------------- */

/* Read here, in the front; written by settings.c, in the helper. */
static const setting_def_t system_settings[] = {
        {
                .key = "hostname",
                .type = SETTING_STRING,
                .min = 1,
                .max = HOST_NAME_MAX,
                .description = "The host name, as gethostname() reports it; a change is written "
                               "to /etc/hostname and made live.  RFC 1123: dot-separated labels "
                               "of letters, digits and '-'",
                .valid_string = hostname_valid,
        },
        {
                .key = "timezone",
                .type = SETTING_STRING,
                .min = 1,
                .max = TIMEZONE_MAX,
                .description = "The system time zone: the target of /etc/localtime under "
                               "zoneinfo, or UTC.  A change links /etc/localtime to the zone "
                               "and writes /etc/timezone; the zone must exist under "
                               "/usr/share/zoneinfo",
                .valid_string = timezone_name_valid,
                .choices_from = "timezones",
        },
};

static int system_settings_read(json_t **ret, struct module_error *err) {
        char h[HOST_NAME_MAX + 1], tz[256];
        json_t *o;
        int r;

        r = get_hostname(h);
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", "hostname",
                                 "Failed to get the host name: %m");
                return r;
        }
        get_timezone(tz, sizeof(tz));

        r = 0;
        o = json_object();
        put(o, "hostname", json_str(h), &r);
        put(o, "timezone", json_str(tz), &r);
        if (r < 0) {
                json_decref(o);
                return oom(err);
        }

        *ret = o;
        return 0;
}

/* ---- commands -------------------------------------------------------------- */

/* Components [A-Za-z0-9_-]+ separated by '.' or '/', at most 255 bytes.  No
 * empty component, hence no leading, trailing or doubled separator, and no
 * "..". */
static bool sysctl_name_valid(const char *s) {
        size_t n, comp = 0;

        if (!s)
                return false;
        n = strnlen(s, SYSCTL_NAME_MAX + 1);
        if (n == 0 || n > SYSCTL_NAME_MAX)
                return false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.' || c == '/') {
                        if (comp == 0)
                                return false;
                        comp = 0;
                } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-')
                        comp++;
                else
                        return false;
        }
        return comp > 0;
}

/* sysctl_open's answer for a key others may not read. */
#define SYSCTL_SECRET (-EKEYREJECTED)

static int sysctl_open_error(int r, const char *name, struct module_error *err) {
        switch (r) {
        case SYSCTL_SECRET:
                module_error_set(err, 403, "forbidden", "name",
                                 "Sysctl key \"%s\" is not readable by everyone (root only "
                                 "or write-only); not shown",
                                 name);
                break;
        case -ENOENT:
        case -ENOTDIR:
                module_error_set(err, 404, "not_found", "name", "No sysctl key \"%s\"", name);
                break;
        case -EACCES:
        case -EPERM:
                module_error_set(err, 403, "forbidden", "name", "Sysctl key \"%s\" is not readable",
                                 name);
                break;
        case -EXDEV:
                module_error_set(err, 403, "forbidden", "name",
                                 "\"%s\" is not a kernel parameter (another file system)", name);
                break;
        case -ELOOP:
                module_error_set(err, 403, "forbidden", "name",
                                 "Sysctl key \"%s\" is a symbolic link, which is not followed",
                                 name);
                break;
        default:
                errno = -r;
                module_error_set(err, 500, "internal", "name",
                                 "Failed to open sysctl key \"%s\": %m", name);
        }
        return r;
}

/* Opens /proc/sys/<rel> for reading one component at a time, refusing
 * symbolic links on the way (O_NOFOLLOW alone only covers the last one) and
 * anything on another file system (binfmt_misc is mounted under
 * /proc/sys/fs). */
static int sysctl_open(char *rel, int *ret_fd) {
        _cleanup_close_ int dir = -1, fd = -1;
        char *comp = rel, *slash;
        struct stat root, st;

        dir = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        if (fstat(dir, &root) < 0)
                return -errno;

        while ((slash = strchr(comp, '/'))) {
                int next;

                *slash = '\0';
                next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                *slash = '/';
                if (next < 0)
                        return errno == ENOTDIR ? -ENOENT : -errno;
                close(dir);
                dir = next;
                comp = slash + 1;
        }

        /* Keys only root may read are secrets (net.ipv4.tcp_fastopen_key,
         * …): refused by their mode, whichever process asks — the front,
         * which could not open them anyway, or root. */
        if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            !(st.st_mode & S_IROTH))
                return SYSCTL_SECRET;
        fd = openat(dir, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_dev != root.st_dev)
                return -EXDEV;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int sysctl_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                      struct module_error *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        char rel[SYSCTL_NAME_MAX + 1];
        const char *name, *value;
        size_t len = 0, vlen;
        struct stat st;
        bool truncated;
        json_t *o;
        int r;

        name = json_string_value(json_object_get(args, "name"));
        if (!sysctl_name_valid(name)) {
                module_error_set(err, 422, "invalid_argument", "name",
                                 "name: expected a sysctl key such as net.ipv4.ip_forward");
                return -EINVAL;
        }

        for (size_t i = 0;; i++) {
                rel[i] = name[i] == '.' ? '/' : name[i];
                if (!name[i])
                        break;
        }

        r = sysctl_open(rel, &fd);
        if (r < 0)
                return sysctl_open_error(r, name, err);

        if (fstat(fd, &st) < 0)
                return sysctl_open_error(-errno, name, err);
        if (S_ISDIR(st.st_mode)) {
                module_error_set(err, 404, "not_found", "name",
                                 "\"%s\" is a group of sysctl keys, not a key", name);
                return -EISDIR;
        }
        if (!S_ISREG(st.st_mode)) {
                module_error_set(err, 403, "forbidden", "name", "\"%s\" is not a regular file",
                                 name);
                return -EPERM;
        }

        /* One byte more than we return, to know whether there was more. */
        buf = malloc(SYSCTL_VALUE_MAX + 1);
        if (!buf)
                return oom(err);
        while (len < SYSCTL_VALUE_MAX + 1) {
                ssize_t n = read(fd, buf + len, SYSCTL_VALUE_MAX + 1 - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        if (r == -EACCES || r == -EPERM)
                                return sysctl_open_error(r, name, err);
                        errno = -r;
                        module_error_set(err, 500, "internal", "name",
                                         "Failed to read sysctl key \"%s\": %m", name);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        truncated = len > SYSCTL_VALUE_MAX;
        if (truncated)
                len = SYSCTL_VALUE_MAX;

        value = buf;
        vlen = len;
        trim(&value, &vlen);

        r = 0;
        o = json_object();
        put(o, "name", json_string(name), &r);
        put(o, "value", json_str_n(value, vlen), &r);
        if (truncated)
                put(o, "truncated", json_true(), &r);
        if (r < 0) {
                json_decref(o);
                return oom(err);
        }

        *ret = o;
        return 0;
}

static const command_arg_t sysctl_args[] = {
        {
                .name = "name",
                .type = SETTING_STRING,
                .min = 1,
                .max = SYSCTL_NAME_MAX,
                .required = true,
                .description = "The key, as sysctl(8) names it: net.ipv4.ip_forward",
                .valid_string = sysctl_name_valid,
        },
};

static const command_def_t system_commands[] = {
        {
                .name = "sysctl",
                .summary = "Read one kernel parameter from /proc/sys",
                .changes_state = false,
                .args = sysctl_args,
                .n_args = ELEMENTSOF(sysctl_args),
                .run = sysctl_run,
        },
};

const module_t module_system = {
        .name = "system",
        .summary = "The machine: host, OS, kernel, CPU, memory, filesystems, network interfaces, "
                   "logged-in users",
        .init = system_init,
        .done = system_done,
        .status = system_status,
        .fullstatus = system_fullstatus,
        .settings = system_settings,
        .n_settings = ELEMENTSOF(system_settings),
        .settings_read = system_settings_read,
        .settings_apply = system_settings_apply,
        .files = system_files,
        .make_live = system_make_live,
        .commands = system_commands,
        .n_commands = ELEMENTSOF(system_commands),
};
