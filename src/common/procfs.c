/* procfs.c — the /proc reader and parsers (see procfs.h).
 *
 * Everything but the reader works on (text, len) views and reads nothing
 * past len: tv_next_line() and tv_next_token() are the only code that walks
 * the text, and they stop at `end`; tv_to_*() are the only number parsers.
 * No global state, so the functions are safe on any thread and are tested
 * against fixtures (tests/unit/test-procfs.c).
 *
 * Strictness: a field the caller relies on is checked exactly (digits only,
 * range-checked, right count of columns); lines and keys that the kernel may
 * add in future versions are skipped.  A NUL byte anywhere is malformed: these
 * are text files, and a NUL would silently truncate the C strings we hand out.
 *
 * Ownership: results with strings own them and are released with *_done();
 * on failure nothing is written to *ret and everything allocated so far is
 * freed here.
 */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* ---- views ---------------------------------------------------------------- */

static bool is_blank(char c) {
        return tv_is_blank(c);
}

bool tv_starts(const char *s, size_t n, const char *lit) {
        size_t l = strlen(lit);
        return n >= l && memcmp(s, lit, l) == 0;
}

void tv_trim(const char **s, size_t *n) {
        while (*n > 0 && (is_blank(**s) || **s == '\r')) {
                (*s)++;
                (*n)--;
        }
        while (*n > 0 && (is_blank((*s)[*n - 1]) || (*s)[*n - 1] == '\r'))
                (*n)--;
}

/* Text files hold no NUL; a NUL would also truncate the C strings handed
 * out.  A NULL text is only valid when empty. */
bool tv_has_nul(const char *text, size_t len) {
        if (!text)
                return len > 0;
        return len > 0 && memchr(text, '\0', len);
}

/* Lets callers pass (NULL, 0) without forming NULL + 0. */
#define TEXT_OR_EMPTY(t) ((t) ? (t) : "")

/* Decimal digits only, at least one; -ERANGE past UINT64_MAX. */
int tv_to_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
                        return -ERANGE;
        }

        *ret = v;
        return 0;
}

int tv_to_unsigned(const char *s, size_t n, unsigned *ret) {
        uint64_t v;
        int r;

        r = tv_to_u64(s, n, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;

        *ret = (unsigned)v;
        return 0;
}

int tv_to_i64(const char *s, size_t n, int64_t *ret) {
        bool neg = n > 0 && s[0] == '-';
        uint64_t v;
        int r;

        r = tv_to_u64(s + neg, n - neg, &v);
        if (r < 0)
                return r;
        if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
                return -ERANGE;

        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

bool tv_is_integer(const char *s, size_t n) {
        if (n > 0 && s[0] == '-') {
                s++;
                n--;
        }
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* "123" or "123.45" (at most 9 fractional digits), as the kernel prints
 * load averages and uptimes. */
int tv_to_decimal(const char *s, size_t n, double *ret) {
        const char *dot = memchr(s, '.', n);
        size_t int_len = dot ? (size_t)(dot - s) : n;
        uint64_t ip, fp = 0;
        double scale = 1.0;
        int r;

        r = tv_to_u64(s, int_len, &ip);
        if (r < 0)
                return r;

        if (dot) {
                size_t frac_len = n - int_len - 1;

                if (frac_len == 0 || frac_len > 9)
                        return -EINVAL;
                r = tv_to_u64(dot + 1, frac_len, &fp);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < frac_len; i++)
                        scale *= 10.0;
        }

        *ret = (double)ip + (double)fp / scale;
        return 0;
}

/* Grows *array (of *cap elements of size sz) to hold at least n+1 elements,
 * never past max elements. */
static int grow(void **array, size_t *cap, size_t n, size_t sz, size_t max) {
        size_t new_cap;
        void *p;

        if (n < *cap)
                return 0;
        if (n >= max)
                return -E2BIG;

        new_cap = *cap > 0 ? *cap * 2 : 16;
        if (new_cap > max)
                new_cap = max;

        p = reallocarray(*array, new_cap, sz);
        if (!p)
                return -ENOMEM;

        *array = p;
        *cap = new_cap;
        return 0;
}

/* ---- reading --------------------------------------------------------------- */

int procfs_source_open(struct procfs_source *s) {
        s->fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        s->open_error = s->fd < 0 ? -errno : 0;
        return s->open_error;
}

void procfs_source_close(struct procfs_source *s) {
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        s->open_error = 0;
}

void procfs_buf_free(struct procfs_buf *b) {
        free(b->data);
        *b = (struct procfs_buf){};
}

bool procfs_read_ended(size_t got, size_t asked) {
        return got < asked && got < PROCFS_SHORT_READ;
}

/* pread_all(), which stops at a short read when short_ends (see
 * procfs_read_ended()). */
static int pread_whole(int fd, char *dst, size_t cap, bool short_ends, size_t *ret_len) {
        size_t len = 0;

        if (cap == 0)
                return -EINVAL;
        while (len < cap - 1) {
                size_t asked = cap - 1 - len;
                ssize_t n = pread(fd, dst + len, asked, (off_t)len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (short_ends && procfs_read_ended((size_t)n, asked))
                        break;
        }
        if (len == cap - 1)
                return -EFBIG;
        dst[len] = '\0';
        *ret_len = len;
        return 0;
}

int procfs_source_read(const struct procfs_source *s, struct procfs_buf *b, const char **ret,
                       size_t *ret_len) {
        size_t len = 0;
        int r;

        if (s->fd < 0)
                return s->open_error ? s->open_error : -EBADF;
        if (s->max < 2)
                return -EINVAL;
        for (;;) {
                if (!b->data) {
                        b->data = malloc(PROCFS_BUF_START);
                        if (!b->data)
                                return -ENOMEM;
                        b->cap = PROCFS_BUF_START;
                }
                /* Within the source's own cap, not only the buffer's (see
                 * procfs.h on /proc/sys). */
                r = pread_whole(s->fd, b->data, b->cap < s->max ? b->cap : s->max,
                                s->short_read_ends, &len);
                if (r != -EFBIG || b->cap >= s->max)
                        break;

                size_t nc;
                if (__builtin_mul_overflow(b->cap, 2, &nc))
                        return -EFBIG;
                char *nb = realloc(b->data, nc);
                if (!nb)
                        return -ENOMEM;
                b->data = nb;
                b->cap = nc;
        }
        if (r < 0)
                return r;
        *ret = b->data;
        *ret_len = len;
        return 0;
}

int procfs_read_at(int dirfd, const char *name, size_t max, struct procfs_buf *b, const char **ret,
                   size_t *ret_len) {
        struct procfs_source s = {.path = name, .max = max};
        int r;

        s.fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (s.fd < 0)
                return -errno;
        r = procfs_source_read(&s, b, ret, ret_len);
        procfs_source_close(&s);
        return r;
}

/* ---- /proc/stat ----------------------------------------------------------- */

static const char *const cpu_mode_names[_CPU_MODE_MAX] = {
        [CPU_USER] = "user",       [CPU_NICE] = "nice",
        [CPU_SYSTEM] = "system",   [CPU_IDLE] = "idle", /* a CPU mode, not the module */
        [CPU_IOWAIT] = "iowait",   [CPU_IRQ] = "irq",
        [CPU_SOFTIRQ] = "softirq", [CPU_STEAL] = "steal",
        [CPU_GUEST] = "guest",     [CPU_GUEST_NICE] = "guest_nice",
};

const char *cpu_mode_to_string(cpu_mode_t m) {
        if ((unsigned)m >= _CPU_MODE_MAX)
                return NULL;
        return cpu_mode_names[m];
}

/* The columns after "cpu"/"cpuN": at least 4, extras past guest_nice are
 * checked to be numbers and dropped. */
static int parse_cpu_columns(const char *p, const char *end, struct cpu_times *ret) {
        struct cpu_times t = {.id = ret->id};
        const char *tok;
        size_t tok_len, n = 0;
        int r;

        while (tv_next_token(&p, end, &tok, &tok_len)) {
                uint64_t v;

                r = tv_to_u64(tok, tok_len, &v);
                if (r < 0)
                        return r;
                if (n < _CPU_MODE_MAX)
                        t.jiffies[n] = v;
                n++;
        }
        if (n < 4)
                return -EINVAL;

        *ret = t;
        return 0;
}

static int parse_single_u64(const char *p, const char *end, uint64_t *ret) {
        const char *tok, *extra;
        size_t tok_len, extra_len;
        uint64_t v;
        int r;

        if (!tv_next_token(&p, end, &tok, &tok_len))
                return -EINVAL;
        if (tv_next_token(&p, end, &extra, &extra_len))
                return -EINVAL;

        r = tv_to_u64(tok, tok_len, &v);
        if (r < 0)
                return r;

        *ret = v;
        return 0;
}

void proc_stat_done(struct proc_stat *s) {
        if (!s)
                return;
        free(s->cpus);
        s->cpus = NULL;
        s->n_cpus = 0;
}

/* A line of /proc/stat other than the cpu lines: the single-value keys
 * (each once) and the total of "intr"; anything else (softirq, newer keys)
 * is skipped.  seen has a bit per single-value key. */
static int parse_stat_key(const char *key, size_t key_len, const char *lp, const char *lend,
                          struct proc_stat *s, unsigned *seen) {
        static const struct {
                const char *key;
                size_t offset;
        } keys[] = {
                {"ctxt", offsetof(struct proc_stat, ctxt)},
                {"btime", offsetof(struct proc_stat, btime)},
                {"processes", offsetof(struct proc_stat, processes)}, /* a key, not the module */
                {"procs_running", offsetof(struct proc_stat, procs_running)},
                {"procs_blocked", offsetof(struct proc_stat, procs_blocked)},
        };
        const char *tok;
        size_t tok_len;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (!tv_eq(key, key_len, keys[i].key))
                        continue;
                if (*seen & (1u << i))
                        return -EINVAL;
                r = parse_single_u64(lp, lend, (uint64_t *)((char *)s + keys[i].offset));
                if (r < 0)
                        return r;
                *seen |= 1u << i;
                return 0;
        }
        if (!tv_eq(key, key_len, "intr"))
                return 0;
        /* "intr TOTAL per-irq…": the total only. */
        if (s->has_intr || !tv_next_token(&lp, lend, &tok, &tok_len))
                return -EINVAL;
        r = tv_to_u64(tok, tok_len, &s->intr);
        if (r < 0)
                return r;
        s->has_intr = true;
        return 0;
}

int proc_stat_parse(const char *text, size_t len, struct proc_stat *ret) {
        struct proc_stat s = {};
        const char *p, *end, *line;
        size_t line_len, cap = 0;
        bool seen_total = false;
        unsigned seen = 0; /* bit per single-value key */
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *key;
                size_t key_len;

                if (!tv_next_token(&lp, lend, &key, &key_len))
                        continue; /* blank line */

                if (tv_eq(key, key_len, "cpu")) {
                        if (seen_total) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = parse_cpu_columns(lp, lend, &s.total);
                        if (r < 0)
                                goto fail;
                        seen_total = true;

                } else if (key_len > 3 && tv_starts(key, key_len, "cpu")) {
                        struct cpu_times t = {};

                        if (!seen_total) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = tv_to_unsigned(key + 3, key_len - 3, &t.id);
                        if (r < 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        if (s.n_cpus > 0 && t.id <= s.cpus[s.n_cpus - 1].id) {
                                r = -EINVAL; /* duplicate or out of order */
                                goto fail;
                        }
                        r = parse_cpu_columns(lp, lend, &t);
                        if (r < 0)
                                goto fail;
                        r = grow((void **)&s.cpus, &cap, s.n_cpus, sizeof(*s.cpus),
                                 PROCFS_MAX_CPUS);
                        if (r < 0)
                                goto fail;
                        s.cpus[s.n_cpus++] = t;

                } else {
                        r = parse_stat_key(key, key_len, lp, lend, &s, &seen);
                        if (r < 0)
                                goto fail;
                }
        }

        if (!seen_total) {
                r = -EINVAL;
                goto fail;
        }

        *ret = s;
        return 0;

fail:
        proc_stat_done(&s);
        return r;
}

int proc_stat_copy(const struct proc_stat *s, struct proc_stat *ret) {
        struct proc_stat c = *s;

        c.cpus = NULL;
        if (s->n_cpus > 0) {
                c.cpus = reallocarray(NULL, s->n_cpus, sizeof(*c.cpus));
                if (!c.cpus)
                        return -ENOMEM;
                memcpy(c.cpus, s->cpus, s->n_cpus * sizeof(*c.cpus));
        }
        *ret = c;
        return 0;
}

const struct cpu_times *proc_stat_find_cpu(const struct proc_stat *s, unsigned id) {
        size_t lo = 0, hi;

        if (!s || !s->cpus)
                return NULL;

        hi = s->n_cpus;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->cpus[mid].id == id)
                        return &s->cpus[mid];
                if (s->cpus[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static double clamp_percent(double v) {
        if (!(v >= 0.0)) /* also NaN */
                return 0.0;
        if (v > 100.0)
                return 100.0;
        return v;
}

int cpu_percent_compute(const struct cpu_times *prev, const struct cpu_times *cur,
                        struct cpu_percent *ret) {
        struct cpu_percent pc = {};
        double delta[_CPU_MODE_MAX], total = 0.0;

        if (!prev || !cur)
                return -EINVAL;

        for (size_t i = 0; i < _CPU_MODE_MAX; i++) {
                uint64_t a = prev->jiffies[i], b = cur->jiffies[i];

                /* Backwards counts as no progress; doubles keep the sum from
                 * overflowing whatever the counters hold. */
                delta[i] = b > a ? (double)(b - a) : 0.0;
                if (i <= CPU_STEAL)
                        total += delta[i];
        }

        if (total <= 0.0)
                return -ENODATA;

        for (size_t i = 0; i < _CPU_MODE_MAX; i++)
                pc.mode[i] = clamp_percent(delta[i] * 100.0 / total);
        pc.busy = clamp_percent(100.0 - pc.mode[CPU_IDLE] - pc.mode[CPU_IOWAIT]);

        *ret = pc;
        return 0;
}

/* ---- /proc/meminfo -------------------------------------------------------- */

int meminfo_next(const char **p, const char *end, const char **ret_key, size_t *ret_key_len,
                 uint64_t *ret_value, bool *ret_kb) {
        const char *line;
        size_t line_len;

        while (tv_next_line(p, end, &line, &line_len)) {
                const char *lend, *colon, *lp, *num, *unit, *extra;
                size_t key_len, num_len, unit_len, extra_len;
                uint64_t v;
                bool kb = false;
                int r;

                tv_trim(&line, &line_len);
                if (line_len == 0)
                        continue;
                lend = line + line_len;

                /* "Key:   123 kB" or "HugePages_Total:   0" */
                colon = memchr(line, ':', line_len);
                if (!colon || colon == line)
                        return -EINVAL;
                key_len = (size_t)(colon - line);
                for (size_t i = 0; i < key_len; i++)
                        if (is_blank(line[i]))
                                return -EINVAL;

                lp = colon + 1;
                if (!tv_next_token(&lp, lend, &num, &num_len))
                        return -EINVAL;
                r = tv_to_u64(num, num_len, &v);
                if (r < 0)
                        return r;
                if (tv_next_token(&lp, lend, &unit, &unit_len)) {
                        if (!tv_eq(unit, unit_len, "kB"))
                                return -EINVAL;
                        if (tv_next_token(&lp, lend, &extra, &extra_len))
                                return -EINVAL;
                        if (__builtin_mul_overflow(v, UINT64_C(1024), &v))
                                return -ERANGE;
                        kb = true;
                }

                *ret_key = line;
                *ret_key_len = key_len;
                *ret_value = v;
                *ret_kb = kb;
                return 1;
        }
        return 0;
}

int meminfo_parse(const char *text, size_t len, struct meminfo *ret) {
        static const struct {
                const char *key;
                size_t offset;
        } keys[] = {
                {"MemTotal", offsetof(struct meminfo, total)},
                {"MemFree", offsetof(struct meminfo, free)},
                {"MemAvailable", offsetof(struct meminfo, available)},
                {"Buffers", offsetof(struct meminfo, buffers)},
                {"Cached", offsetof(struct meminfo, cached)},
                {"SwapCached", offsetof(struct meminfo, swap_cached)},
                {"Active", offsetof(struct meminfo, active)},
                {"Inactive", offsetof(struct meminfo, inactive)},
                {"SwapTotal", offsetof(struct meminfo, swap_total)},
                {"SwapFree", offsetof(struct meminfo, swap_free)},
                {"Dirty", offsetof(struct meminfo, dirty)},
                {"Writeback", offsetof(struct meminfo, writeback)},
                {"Shmem", offsetof(struct meminfo, shmem)},
                {"Slab", offsetof(struct meminfo, slab)},
                {"SReclaimable", offsetof(struct meminfo, sreclaimable)},
                {"SUnreclaim", offsetof(struct meminfo, sunreclaim)},
        };
        enum { I_TOTAL = 0, I_FREE = 1, I_AVAILABLE = 2 };
        struct meminfo m = {};
        const char *p, *end;
        uint32_t seen = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        for (;;) {
                const char *key;
                size_t key_len;
                uint64_t v;
                bool kb;

                r = meminfo_next(&p, end, &key, &key_len, &v, &kb);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        if (!tv_eq(key, key_len, keys[i].key))
                                continue;
                        if (!kb || (seen & (UINT32_C(1) << i)))
                                return -EINVAL;
                        *(uint64_t *)((char *)&m + keys[i].offset) = v;
                        seen |= UINT32_C(1) << i;
                        break;
                }
        }

        if (!(seen & (UINT32_C(1) << I_TOTAL)) || !(seen & (UINT32_C(1) << I_FREE)))
                return -EINVAL;

        m.has_available = seen & (UINT32_C(1) << I_AVAILABLE);
        if (!m.has_available) {
                uint64_t a = m.free;

                /* The same rough estimate tools used before MemAvailable. */
                if (__builtin_add_overflow(a, m.buffers, &a) ||
                    __builtin_add_overflow(a, m.cached, &a) ||
                    __builtin_add_overflow(a, m.sreclaimable, &a))
                        a = UINT64_MAX;
                m.available = a < m.total ? a : m.total;
        }

        *ret = m;
        return 0;
}

/* ---- /proc/loadavg, /proc/uptime ------------------------------------------ */

/* Splits the whole text into at most max whitespace-separated tokens; the
 * text must hold exactly `want` of them. */
static int split_exact(const char *text, size_t len, const char **toks, size_t *lens, size_t want) {
        const char *p, *end, *line;
        size_t line_len, n = 0;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *tok;
                size_t tok_len;

                while (tv_next_token(&lp, lend, &tok, &tok_len)) {
                        if (n >= want)
                                return -EINVAL;
                        toks[n] = tok;
                        lens[n] = tok_len;
                        n++;
                }
        }

        return n == want ? 0 : -EINVAL;
}

int loadavg_parse(const char *text, size_t len, struct loadavg *ret) {
        const char *t[5], *slash;
        size_t l[5];
        struct loadavg la = {};
        int r;

        /* "0.29 0.18 0.07 1/80 3043" */
        r = split_exact(text, len, t, l, ELEMENTSOF(t));
        if (r < 0)
                return r;

        r = tv_to_decimal(t[0], l[0], &la.load1);
        if (r < 0)
                return r;
        r = tv_to_decimal(t[1], l[1], &la.load5);
        if (r < 0)
                return r;
        r = tv_to_decimal(t[2], l[2], &la.load15);
        if (r < 0)
                return r;

        slash = memchr(t[3], '/', l[3]);
        if (!slash)
                return -EINVAL;
        r = tv_to_u64(t[3], (size_t)(slash - t[3]), &la.running);
        if (r < 0)
                return r;
        r = tv_to_u64(slash + 1, l[3] - (size_t)(slash - t[3]) - 1, &la.total);
        if (r < 0)
                return r;

        r = tv_to_u64(t[4], l[4], &la.last_pid);
        if (r < 0)
                return r;

        *ret = la;
        return 0;
}

int uptime_parse(const char *text, size_t len, struct uptime *ret) {
        const char *t[2];
        size_t l[2];
        struct uptime u = {};
        int r;

        /* "160.77 271.65" */
        r = split_exact(text, len, t, l, ELEMENTSOF(t));
        if (r < 0)
                return r;

        r = tv_to_decimal(t[0], l[0], &u.uptime);
        if (r < 0)
                return r;
        r = tv_to_decimal(t[1], l[1], &u.idle);
        if (r < 0)
                return r;

        *ret = u;
        return 0;
}

/* ---- /proc/net/dev -------------------------------------------------------- */

/* The kernel's dev_valid_name(), so that a name is a safe path component. */
static bool ifname_valid(const char *s, size_t n) {
        if (n == 0 || n >= PROCFS_IFNAMSIZ)
                return false;
        if (tv_eq(s, n, ".") || tv_eq(s, n, ".."))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
                        return false;
        }
        return true;
}

int net_dev_parse(const char *text, size_t len, struct net_dev **ret, size_t *ret_n) {
        _cleanup_free_ struct net_dev *devs = NULL;
        const char *p, *end, *line;
        size_t line_len, n = 0, cap = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        /* "Inter-|   Receive  …|  Transmit" and " face |bytes    packets …" */
        if (!tv_next_line(&p, end, &line, &line_len) || !tv_starts(line, line_len, "Inter-|"))
                return -EINVAL;
        if (!tv_next_line(&p, end, &line, &line_len) || !tv_starts(line, line_len, " face |"))
                return -EINVAL;

        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *colon, *name, *lp, *lend, *tok;
                size_t name_len, tok_len, k = 0;
                uint64_t v[16];
                struct net_dev *d;

                tv_trim(&line, &line_len);
                if (line_len == 0)
                        continue;

                /* "  eth0: 25482524     896 …"; old kernels glued the first
                 * counter to the colon. */
                colon = memchr(line, ':', line_len);
                if (!colon)
                        return -EINVAL;
                name = line;
                name_len = (size_t)(colon - line);
                if (!ifname_valid(name, name_len))
                        return -EINVAL;

                lp = colon + 1;
                lend = line + line_len;
                while (tv_next_token(&lp, lend, &tok, &tok_len)) {
                        if (k >= ELEMENTSOF(v))
                                return -EINVAL;
                        r = tv_to_u64(tok, tok_len, &v[k]);
                        if (r < 0)
                                return r;
                        k++;
                }
                if (k != ELEMENTSOF(v))
                        return -EINVAL;

                r = grow((void **)&devs, &cap, n, sizeof(*devs), PROCFS_MAX_IFACES);
                if (r < 0)
                        return r;

                d = &devs[n++];
                *d = (struct net_dev){
                        .rx_bytes = v[0],
                        .rx_packets = v[1],
                        .rx_errs = v[2],
                        .rx_drop = v[3],
                        .rx_fifo = v[4],
                        .rx_frame = v[5],
                        .rx_compressed = v[6],
                        .rx_multicast = v[7],
                        .tx_bytes = v[8],
                        .tx_packets = v[9],
                        .tx_errs = v[10],
                        .tx_drop = v[11],
                        .tx_fifo = v[12],
                        .tx_colls = v[13],
                        .tx_carrier = v[14],
                        .tx_compressed = v[15],
                };
                memcpy(d->name, name, name_len);
                d->name[name_len] = '\0';
        }

        *ret = TAKE_PTR(devs);
        *ret_n = n;
        return 0;
}

/* ---- /proc/diskstats ------------------------------------------------------- */

static bool digits_to(const char *s, const char *end) {
        return s < end && tv_is_integer(s, (size_t)(end - s)) && s[0] != '-';
}

bool diskstats_device_excluded(const char *s, size_t n) {
        static const char *const prefixes[] = {"ram", "loop", "fd"};
        const char *end = s + n, *p;

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                size_t l = strlen(prefixes[i]);
                if (n > l && memcmp(s, prefixes[i], l) == 0 && digits_to(s + l, end))
                        return true;
        }
        /* (h|s|v|xv)d[a-z]\d+ : partitions of the classic disks */
        p = n >= 2 && s[0] == 'x' && s[1] == 'v'                    ? s + 2
            : n >= 1 && (s[0] == 'h' || s[0] == 's' || s[0] == 'v') ? s + 1
                                                                    : NULL;
        if (p && end - p >= 3 && p[0] == 'd' && p[1] >= 'a' && p[1] <= 'z' && digits_to(p + 2, end))
                return true;
        /* nvme\d+n\d+p\d+ : NVMe partitions */
        if (n > 4 && memcmp(s, "nvme", 4) == 0) {
                const char *q = s + 4, *d;
                for (d = q; d < end && *d >= '0' && *d <= '9'; d++)
                        ;
                if (d == q || d >= end || *d != 'n')
                        return false;
                q = d + 1;
                for (d = q; d < end && *d >= '0' && *d <= '9'; d++)
                        ;
                if (d == q || d >= end || *d != 'p')
                        return false;
                return digits_to(d + 1, end);
        }
        return false;
}

static int parse_disk_line(const char *line, size_t line_len, struct diskstat *ret) {
        const char *lp = line, *lend = line + line_len, *tok, *name;
        size_t tok_len, name_len;
        struct diskstat d = {};
        int r;

        /* "   8       0 sda 100 0 10 0 200 0 20 0 0 0 0" */
        if (!tv_next_token(&lp, lend, &tok, &tok_len))
                return 0; /* blank line */
        r = tv_to_unsigned(tok, tok_len, &d.major);
        if (r < 0)
                return -EINVAL;
        if (!tv_next_token(&lp, lend, &tok, &tok_len) || tv_to_unsigned(tok, tok_len, &d.minor) < 0)
                return -EINVAL;
        if (!tv_next_token(&lp, lend, &name, &name_len) || name_len >= sizeof(d.name))
                return -EINVAL;
        while (tv_next_token(&lp, lend, &tok, &tok_len)) {
                uint64_t v;

                r = tv_to_u64(tok, tok_len, &v);
                if (r < 0)
                        return r;
                if (d.n < _DS_MAX)
                        d.v[d.n++] = v;
        }
        if (d.n <= DS_IO_WEIGHTED_MS)
                return -EINVAL;
        memcpy(d.name, name, name_len);
        *ret = d;
        return 1;
}

int diskstats_parse(const char *text, size_t len, struct diskstat **ret, size_t *ret_n) {
        _cleanup_free_ struct diskstat *disks = NULL;
        const char *p, *end, *line;
        size_t line_len, n = 0, cap = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                struct diskstat d;

                r = parse_disk_line(line, line_len, &d);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = grow((void **)&disks, &cap, n, sizeof(*disks), PROCFS_MAX_DISKS);
                if (r < 0)
                        return r;
                disks[n++] = d;
        }

        *ret = TAKE_PTR(disks);
        *ret_n = n;
        return 0;
}

/* ---- /proc/sys/fs/file-nr --------------------------------------------------- */

int file_nr_parse(const char *text, size_t len, struct file_nr *ret) {
        const char *t[3];
        size_t l[3];
        struct file_nr f;
        int r;

        /* "1344\t0\t9223372036854775807\n" */
        r = split_exact(text, len, t, l, ELEMENTSOF(t));
        if (r < 0)
                return r;
        r = tv_to_u64(t[0], l[0], &f.allocated);
        if (r < 0)
                return r;
        r = tv_to_u64(t[1], l[1], &f.unused);
        if (r < 0)
                return r;
        r = tv_to_u64(t[2], l[2], &f.maximum);
        if (r < 0)
                return r;

        *ret = f;
        return 0;
}

/* ---- /proc/PID/stat --------------------------------------------------------- */

static int to_int(const char *s, size_t n, int *ret) {
        int64_t v;
        int r;

        r = tv_to_i64(s, n, &v);
        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int)v;
        return 0;
}

/* The numeric fields of proc(5) from 4 (ppid) to 24 (rss), in order: the
 * type each is parsed as and where it goes (SKIP: checked, not kept). */
enum pid_field_type { PF_INT, PF_UNSIGNED, PF_U64, PF_I64, PF_SKIP };

static const struct {
        enum pid_field_type type;
        size_t offset;
} pid_fields[] = {
#define PF(t, f)                                                                                   \
        { PF_##t, offsetof(struct proc_pid_stat, f) }
        PF(INT, ppid),        PF(INT, pgrp),       PF(INT, session),   PF(INT, tty_nr),
        PF(INT, tpgid),       PF(UNSIGNED, flags), PF(U64, minflt),    PF(U64, cminflt),
        PF(U64, majflt),      PF(U64, cmajflt),    PF(U64, utime),     PF(U64, stime),
        PF(I64, cutime),      PF(I64, cstime),     PF(I64, priority),  PF(I64, nice),
        PF(I64, num_threads), {PF_SKIP, 0}, /* 21, itrealvalue: always 0 since 2.6.17 */
        PF(U64, starttime),   PF(U64, vsize),      PF(I64, rss_pages),
#undef PF
};

static int parse_pid_field(const char *tok, size_t tok_len, size_t i, struct proc_pid_stat *st) {
        void *dst = (char *)st + pid_fields[i].offset;

        switch (pid_fields[i].type) {
        case PF_INT:
                return to_int(tok, tok_len, dst);
        case PF_UNSIGNED:
                return tv_to_unsigned(tok, tok_len, dst);
        case PF_U64:
                return tv_to_u64(tok, tok_len, dst);
        case PF_I64:
                return tv_to_i64(tok, tok_len, dst);
        case PF_SKIP:
                return tv_is_integer(tok, tok_len) ? 0 : -EINVAL;
        }
        return -EINVAL;
}

/* The fields after "pid (comm) ": the state, the table above, then any
 * number of later fields, which must be numbers. */
static int parse_pid_fields(const char *p, const char *end, struct proc_pid_stat *st) {
        const char *tok;
        size_t tok_len;
        int r;

        if (!tv_next_token(&p, end, &tok, &tok_len) || tok_len != 1)
                return -EINVAL;
        st->state = tok[0];
        for (size_t i = 0; i < ELEMENTSOF(pid_fields); i++) {
                if (!tv_next_token(&p, end, &tok, &tok_len))
                        return -EINVAL; /* truncated */
                r = parse_pid_field(tok, tok_len, i, st);
                if (r < 0)
                        return r;
        }
        while (tv_next_token(&p, end, &tok, &tok_len))
                if (!tv_is_integer(tok, tok_len))
                        return -EINVAL;
        return 0;
}

_Static_assert(sizeof(((struct proc_pid_stat *)0)->ppid) == sizeof(int), "PF_INT fields are int");

int proc_pid_stat_parse(const char *text, size_t len, struct proc_pid_stat *ret) {
        struct proc_pid_stat st = {};
        const char *p, *end, *open, *close, *nl;
        size_t comm_len;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        /* One line; the newline at its end is optional. */
        nl = memchr(p, '\n', len);
        if (nl) {
                if (nl + 1 != end)
                        return -EINVAL;
                end = nl;
        }

        open = memchr(p, '(', (size_t)(end - p));
        if (!open || open == p || open[-1] != ' ')
                return -EINVAL;
        r = to_int(p, (size_t)(open - 1 - p), &st.pid);
        if (r < 0)
                return -EINVAL;
        if (st.pid <= 0)
                return -EINVAL;
        /* The last ')' closes comm: the command chose everything before. */
        close = NULL;
        for (const char *c = end; c > open + 1;) {
                c--;
                if (*c == ')') {
                        close = c;
                        break;
                }
        }
        if (!close || close + 1 >= end || close[1] != ' ')
                return -EINVAL;
        comm_len = (size_t)(close - open - 1);
        if (comm_len >= sizeof(st.comm))
                return -EINVAL;
        memcpy(st.comm, open + 1, comm_len);
        st.comm[comm_len] = '\0';

        r = parse_pid_fields(close + 2, end, &st);
        if (r < 0)
                return r;

        *ret = st;
        return 0;
}

/* ---- /proc/PID/status, /proc/PID/cmdline ------------------------------------ */

enum {
        ST_NAME,
        ST_STATE,
        ST_TGID,
        ST_PID,
        ST_PPID,
        ST_UID,
        ST_GID,
        ST_THREADS,
        ST_VMRSS,
        ST_VMSWAP,
        _ST_MAX,
};

static int status_ids(const char *p, const char *end, unsigned ret[4]) {
        const char *tok;
        size_t tok_len;
        unsigned ids[4];
        int r;

        for (size_t i = 0; i < 4; i++) {
                if (!tv_next_token(&p, end, &tok, &tok_len))
                        return -EINVAL;
                r = tv_to_unsigned(tok, tok_len, &ids[i]);
                if (r < 0)
                        return r;
        }
        if (tv_next_token(&p, end, &tok, &tok_len))
                return -EINVAL;
        memcpy(ret, ids, sizeof(ids));
        return 0;
}

static int status_int(const char *p, const char *end, int *ret) {
        const char *tok, *extra;
        size_t tok_len, extra_len;

        if (!tv_next_token(&p, end, &tok, &tok_len) || tv_next_token(&p, end, &extra, &extra_len))
                return -EINVAL;
        return to_int(tok, tok_len, ret);
}

/* One known line's value (after "Key:"). */
static int status_field(unsigned k, const char *v, const char *end, struct proc_pid_status *st) {
        const char *tok;
        size_t tok_len, v_len = (size_t)(end - v);
        uint64_t kb;
        int r;

        switch (k) {
        case ST_NAME:
                /* A tab, then the name, which may hold blanks of its own. */
                if (v_len == 0 || v[0] != '\t' || v_len - 1 >= sizeof(st->name))
                        return -EINVAL;
                memcpy(st->name, v + 1, v_len - 1);
                st->name[v_len - 1] = '\0';
                return 0;
        case ST_STATE: /* "S (sleeping)" */
                if (!tv_next_token(&v, end, &tok, &tok_len) || tok_len != 1)
                        return -EINVAL;
                st->state = tok[0];
                return 0;
        case ST_TGID:
                return status_int(v, end, &st->tgid);
        case ST_PID:
                return status_int(v, end, &st->pid);
        case ST_PPID:
                return status_int(v, end, &st->ppid);
        case ST_UID:
                return status_ids(v, end, st->uid);
        case ST_GID:
                return status_ids(v, end, st->gid);
        case ST_THREADS:
                if (!tv_next_token(&v, end, &tok, &tok_len))
                        return -EINVAL;
                return tv_to_unsigned(tok, tok_len, &st->threads);
        case ST_VMRSS: /* "   1234 kB" */
        case ST_VMSWAP:
                if (!tv_next_token(&v, end, &tok, &tok_len))
                        return -EINVAL;
                r = tv_to_u64(tok, tok_len, &kb);
                if (r < 0)
                        return r;
                if (!tv_next_token(&v, end, &tok, &tok_len) || !tv_eq(tok, tok_len, "kB"))
                        return -EINVAL;
                if (__builtin_mul_overflow(kb, UINT64_C(1024),
                                           k == ST_VMRSS ? &st->vm_rss : &st->vm_swap))
                        return -ERANGE;
                if (k == ST_VMRSS)
                        st->has_vm_rss = true;
                else
                        st->has_vm_swap = true;
                return 0;
        }
        return -EINVAL;
}

int proc_pid_status_parse(const char *text, size_t len, struct proc_pid_status *ret) {
        static const char *const keys[_ST_MAX] = {
                [ST_NAME] = "Name",     [ST_STATE] = "State",     [ST_TGID] = "Tgid",
                [ST_PID] = "Pid",       [ST_PPID] = "PPid",       [ST_UID] = "Uid",
                [ST_GID] = "Gid",       [ST_THREADS] = "Threads", [ST_VMRSS] = "VmRSS",
                [ST_VMSWAP] = "VmSwap",
        };
        const unsigned required = (1u << ST_NAME) | (1u << ST_STATE) | (1u << ST_PID) |
                                  (1u << ST_PPID) | (1u << ST_UID) | (1u << ST_GID) |
                                  (1u << ST_THREADS);
        struct proc_pid_status st = {};
        const char *p, *end, *line;
        size_t line_len;
        unsigned seen = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *colon = memchr(line, ':', line_len);

                if (line_len == 0)
                        continue;
                if (!colon)
                        return -EINVAL;
                for (unsigned k = 0; k < _ST_MAX; k++) {
                        if (!tv_eq(line, (size_t)(colon - line), keys[k]))
                                continue;
                        if (seen & (1u << k))
                                return -EINVAL;
                        r = status_field(k, colon + 1, line + line_len, &st);
                        if (r < 0)
                                return r;
                        seen |= 1u << k;
                        break;
                }
        }
        if ((seen & required) != required || st.pid <= 0)
                return -EINVAL;

        *ret = st;
        return 0;
}

bool proc_cmdline_next(const char **p, const char *end, const char **ret_arg, size_t *ret_len) {
        const char *nul;

        if (*p >= end)
                return false;
        nul = memchr(*p, '\0', (size_t)(end - *p));
        *ret_arg = *p;
        *ret_len = (size_t)((nul ? nul : end) - *p);
        *p = nul ? nul + 1 : end;
        return true;
}

/* ---- /proc/PID/cgroup ------------------------------------------------------ */

static bool has_prefix(const char *s, size_t n, const char *prefix) {
        size_t k = strlen(prefix);
        return n >= k && memcmp(s, prefix, k) == 0;
}

static bool has_suffix(const char *s, size_t n, const char *suffix) {
        size_t k = strlen(suffix);
        return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool is_eq(const char *s, size_t n, const char *word) {
        return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* The characters systemd allows in unit names (unit_name_is_valid()). */
static bool is_unit_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

/* A unit that processes can live in (slices are only containers). */
static bool is_process_unit(const char *s, size_t n) {
        static const char *const suffixes[] = {".service", ".scope", ".socket", ".mount", ".swap"};

        if (n == 0 || n > CGROUP_UNIT_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_unit_char(s[i]))
                        return false;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t k = strlen(suffixes[i]);
                if (n > k && has_suffix(s, n, suffixes[i]))
                        return true;
        }
        return false;
}

static bool is_hex_id(const char *s, size_t n) {
        if (n < 12 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        return true;
}

static bool is_name(const char *s, size_t n) {
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

static void set_str(char *dst, size_t cap, const char *a, const char *b, size_t blen) {
        size_t alen = strlen(a);

        /* Callers bound blen so that this always fits; keep it safe anyway. */
        if (alen + blen + 1 > cap) {
                dst[0] = '\0';
                return;
        }
        memcpy(dst, a, alen);
        memcpy(dst + alen, b, blen);
        dst[alen + blen] = '\0';
}

/* An id between prefix and suffix ("" for none): "docker-<id>.scope". */
static bool match_id(const char *c, size_t n, const char *prefix, const char *suffix,
                     const char **ret, size_t *ret_n) {
        size_t p = strlen(prefix), s = strlen(suffix);

        if (n < p + s || !has_prefix(c, n, prefix) || !has_suffix(c, n, suffix))
                return false;
        if (!is_hex_id(c + p, n - p - s))
                return false;
        *ret = c + p;
        *ret_n = n - p - s;
        return true;
}

/* The container a path component (and the one before it) shows, if any. */
static bool container_of(const char *prev, size_t prev_n, const char *c, size_t n, char *dst,
                         size_t cap) {
        /* systemd cgroup drivers name a scope per container; podman's
         * cgroupfs manager uses /libpod_parent/libpod-<id> (the last row). */
        static const struct {
                const char *prefix, *suffix, *kind;
        } scopes[] = {
                {"docker-", ".scope", "docker:"}, {"cri-containerd-", ".scope", "containerd:"},
                {"crio-", ".scope", "crio:"},     {"libpod-", ".scope", "podman:"},
                {"libpod-", "", "podman:"},
        };
        const char *id;
        size_t idn;

        for (size_t i = 0; i < ELEMENTSOF(scopes); i++)
                if (match_id(c, n, scopes[i].prefix, scopes[i].suffix, &id, &idn)) {
                        set_str(dst, cap, scopes[i].kind, id, 12);
                        return true;
                }
        /* cgroupfs drivers: /docker/<id>, /containerd/<id>, /lxc/<name> */
        if (prev && is_eq(prev, prev_n, "docker") && is_hex_id(c, n)) {
                set_str(dst, cap, "docker:", c, 12);
                return true;
        }
        if (prev && is_eq(prev, prev_n, "lxc") && is_name(c, n)) {
                set_str(dst, cap, "lxc:", c, n);
                return true;
        }
        /* systemd-machined's machines (systemd-nspawn, libvirt with
         * machined): /machine.slice/machine-<name>.scope, the name as
         * systemd escapes it. */
        if (prev && is_eq(prev, prev_n, "machine.slice") && has_prefix(c, n, "machine-") &&
            has_suffix(c, n, ".scope") && n > 14 && n - 14 <= 64) {
                for (size_t i = 8; i < n - 6; i++)
                        if (!is_unit_char(c[i]))
                                return false;
                set_str(dst, cap, "machine:", c + 8, n - 14);
                return true;
        }
        /* LXC 4 and later: /lxc.payload.<name> (lxc.monitor.<name> is the
         * monitor, outside the container). */
        if (has_prefix(c, n, "lxc.payload.") && is_name(c + 12, n - 12)) {
                set_str(dst, cap, "lxc:", c + 12, n - 12);
                return true;
        }
        return false;
}

int cgroup_parse_line(const char *line, size_t len, struct cgroup_hint *ret) {
        const char *c1, *c2, *path, *end, *p;
        const char *prev = NULL;
        size_t prev_n = 0;
        struct cgroup_hint h = {};
        cgroup_line_t kind;
        bool unit_done = false, in_user_manager = false;

        if (len > 0 && line[len - 1] == '\n')
                len--;
        if (len == 0 || memchr(line, '\0', len))
                return -EINVAL;
        end = line + len;

        c1 = memchr(line, ':', len);
        if (!c1 || c1 == line)
                return -EINVAL;
        for (p = line; p < c1; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
        if (!c2)
                return -EINVAL;
        path = c2 + 1;
        if (path >= end || *path != '/')
                return -EINVAL;

        if (is_eq(line, (size_t)(c1 - line), "0") && c2 == c1 + 1)
                kind = CGROUP_LINE_V2;
        else {
                kind = CGROUP_LINE_OTHER;
                /* controllers: comma-separated, "name=systemd" among them */
                for (p = c1 + 1; p < c2;) {
                        const char *comma = memchr(p, ',', (size_t)(c2 - p));
                        const char *e = comma ? comma : c2;
                        if (is_eq(p, (size_t)(e - p), "name=systemd"))
                                kind = CGROUP_LINE_SYSTEMD_V1;
                        p = comma ? comma + 1 : c2;
                }
        }
        if (kind == CGROUP_LINE_OTHER)
                unit_done = true;

        for (p = path; p < end;) {
                const char *slash = memchr(p, '/', (size_t)(end - p));
                const char *e = slash ? slash : end;
                size_t n = (size_t)(e - p);

                if (n > 0) {
                        if (!unit_done && !has_suffix(p, n, ".slice")) {
                                if (!is_process_unit(p, n))
                                        unit_done = true; /* a delegated subtree */
                                else if (in_user_manager) {
                                        /* The manager itself sits in init.scope. */
                                        if (!is_eq(p, n, "init.scope"))
                                                set_str(h.unit, sizeof h.unit, "", p, n);
                                        unit_done = true;
                                } else {
                                        set_str(h.unit, sizeof h.unit, "", p, n);
                                        if (has_prefix(p, n, "user@") &&
                                            has_suffix(p, n, ".service"))
                                                in_user_manager = true;
                                        else
                                                unit_done = true;
                                }
                        }
                        /* The innermost container wins (docker inside lxc). */
                        (void)container_of(prev, prev_n, p, n, h.container, sizeof h.container);
                        prev = p;
                        prev_n = n;
                }
                p = slash ? slash + 1 : end;
        }

        *ret = h;
        return (int)kind;
}

void cgroup_parse(const char *text, size_t len, struct cgroup_hint *ret) {
        struct cgroup_hint v2 = {}, v1 = {}, other = {};
        bool have_v2 = false, have_v1 = false;
        const char *p = text, *end = text + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end;
                struct cgroup_hint h;
                int r = cgroup_parse_line(p, (size_t)(e - p), &h);

                p = nl ? nl + 1 : end;
                if (r < 0)
                        continue;
                if (r == CGROUP_LINE_V2 && !have_v2) {
                        v2 = h;
                        have_v2 = true;
                } else if (r == CGROUP_LINE_SYSTEMD_V1 && !have_v1) {
                        v1 = h;
                        have_v1 = true;
                }
                if (!other.container[0] && h.container[0])
                        memcpy(other.container, h.container, sizeof h.container);
        }

        *ret = (struct cgroup_hint){};
        memcpy(ret->unit, v2.unit[0] ? v2.unit : v1.unit, sizeof ret->unit);
        memcpy(ret->container, v2.container[0] ? v2.container : other.container,
               sizeof ret->container);
}

int cgroup_v2_path(const char *text, size_t len, const char **ret, size_t *ret_len) {
        const char *p = TEXT_OR_EMPTY(text), *end = p + len, *line;
        size_t line_len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                if (line_len < 4 || !tv_starts(line, line_len, "0::/"))
                        continue;
                if (memchr(line, '\0', line_len))
                        return -EINVAL;
                *ret = line + 3;
                *ret_len = line_len - 3;
                return 0;
        }
        return -ENOENT;
}

/* ---- /proc/PID/io, smaps_rollup, limits, maps ------------------------------ */

/* "Key: N" or "Key: N kB" lines: calls fn's table.  keys[i] goes to
 * dst[i] (scaled by 1024 when kb); seen gets a bit per key; a key twice is
 * malformed.  Lines not in the table are skipped. */
static int parse_key_values(const char *p, const char *end, const char *const *keys, size_t n_keys,
                            uint64_t *const *dst, bool kb, unsigned *seen) {
        const char *line;
        size_t line_len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *colon = memchr(line, ':', line_len), *v, *le = line + line_len;
                const char *tok;
                size_t tok_len;
                uint64_t x;
                int r;

                if (line_len == 0)
                        continue;
                if (!colon)
                        return -EINVAL;
                for (size_t k = 0; k < n_keys; k++) {
                        if (!tv_eq(line, (size_t)(colon - line), keys[k]))
                                continue;
                        if (*seen & (1u << k))
                                return -EINVAL;
                        v = colon + 1;
                        if (!tv_next_token(&v, le, &tok, &tok_len))
                                return -EINVAL;
                        r = tv_to_u64(tok, tok_len, &x);
                        if (r < 0)
                                return r;
                        if (kb) {
                                if (!tv_next_token(&v, le, &tok, &tok_len) ||
                                    !tv_eq(tok, tok_len, "kB"))
                                        return -EINVAL;
                                if (__builtin_mul_overflow(x, UINT64_C(1024), &x))
                                        return -ERANGE;
                        }
                        if (tv_next_token(&v, le, &tok, &tok_len))
                                return -EINVAL;
                        *dst[k] = x;
                        *seen |= 1u << k;
                        break;
                }
        }
        return 0;
}

int proc_schedstat_parse(const char *text, size_t len, struct proc_schedstat *ret) {
        const char *p = TEXT_OR_EMPTY(text), *end = p + len, *line, *tok;
        struct proc_schedstat st = {};
        size_t line_len, tok_len, i = 0;

        if (tv_has_nul(text, len) || !tv_next_line(&p, end, &line, &line_len) || p != end)
                return -EINVAL;
        for (const char *q = line, *qe = line + line_len; tv_next_token(&q, qe, &tok, &tok_len);
             i++) {
                uint64_t *v = i == 0   ? &st.run_ns
                              : i == 1 ? &st.wait_ns
                              : i == 2 ? &st.timeslices
                                       : NULL;
                int r;
                if (!v)
                        return -EINVAL;
                r = tv_to_u64(tok, tok_len, v);
                if (r < 0)
                        return r;
        }
        if (i != 3)
                return -EINVAL;
        *ret = st;
        return 0;
}

int proc_pid_io_parse(const char *text, size_t len, struct proc_pid_io *ret) {
        static const char *const keys[] = {"rchar",
                                           "wchar",
                                           "syscr",
                                           "syscw",
                                           "read_bytes",
                                           "write_bytes",
                                           "cancelled_write_bytes"};
        struct proc_pid_io io = {};
        uint64_t *const dst[] = {&io.rchar,
                                 &io.wchar,
                                 &io.syscr,
                                 &io.syscw,
                                 &io.read_bytes,
                                 &io.write_bytes,
                                 &io.cancelled_write_bytes};
        unsigned seen = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        r = parse_key_values(TEXT_OR_EMPTY(text), TEXT_OR_EMPTY(text) + len, keys, ELEMENTSOF(keys),
                             dst, false, &seen);
        if (r < 0)
                return r;
        if ((seen & 3u) != 3u)
                return -EINVAL;
        io.has_bytes = (seen & (1u << 4)) && (seen & (1u << 5));
        *ret = io;
        return 0;
}

int proc_smaps_rollup_parse(const char *text, size_t len, struct proc_smaps_rollup *ret) {
        static const char *const keys[] = {"Rss",       "Pss",  "Pss_Anon", "Pss_File",
                                           "Pss_Shmem", "Swap", "SwapPss"};
        struct proc_smaps_rollup s = {};
        uint64_t *const dst[] = {&s.rss,       &s.pss,  &s.pss_anon, &s.pss_file,
                                 &s.pss_shmem, &s.swap, &s.swap_pss};
        const char *p, *end, *line;
        size_t line_len;
        unsigned seen = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        /* The header: the address range and "[rollup]". */
        if (!tv_next_line(&p, end, &line, &line_len) || line_len < 8 ||
            !tv_eq(line + line_len - 8, 8, "[rollup]"))
                return -EINVAL;
        r = parse_key_values(p, end, keys, ELEMENTSOF(keys), dst, true, &seen);
        if (r < 0)
                return r;
        if ((seen & 3u) != 3u)
                return -EINVAL;
        *ret = s;
        return 0;
}

static int limit_value(const char *tok, size_t n, uint64_t *ret, bool *ret_unlimited) {
        if (tv_eq(tok, n, "unlimited")) {
                *ret = 0;
                *ret_unlimited = true;
                return 0;
        }
        *ret_unlimited = false;
        return tv_to_u64(tok, n, ret);
}

#define LIMIT_NAME_COLS 26 /* "%-25s " */

int proc_limits_parse(const char *text, size_t len, struct proc_limits *ret) {
        _cleanup_free_ struct proc_limits *l = calloc(1, sizeof *l);
        const char *p, *end, *line;
        size_t line_len;
        bool header = false;
        int r;

        if (!l)
                return -ENOMEM;
        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *name = line, *q, *qe = line + line_len, *tok[4];
                size_t name_len, tok_len[4], n_tok = 0;
                struct proc_limit *e;

                if (line_len == 0)
                        continue;
                if (!header) {
                        if (!tv_starts(line, line_len, "Limit "))
                                return -EINVAL;
                        header = true;
                        continue;
                }
                if (line_len <= LIMIT_NAME_COLS || line[LIMIT_NAME_COLS - 1] != ' ')
                        return -EINVAL;
                name_len = LIMIT_NAME_COLS - 1;
                tv_trim(&name, &name_len);
                q = line + LIMIT_NAME_COLS;
                while (n_tok < 4 && tv_next_token(&q, qe, &tok[n_tok], &tok_len[n_tok]))
                        n_tok++;
                if (name_len == 0 || name_len >= sizeof l->v[0].name || n_tok < 2 || n_tok > 3)
                        return -EINVAL;
                if (l->n >= PROCFS_MAX_LIMITS)
                        return -E2BIG;
                e = &l->v[l->n];
                memcpy(e->name, name, name_len);
                e->name[name_len] = '\0';
                r = limit_value(tok[0], tok_len[0], &e->soft, &e->soft_unlimited);
                if (r < 0)
                        return r;
                r = limit_value(tok[1], tok_len[1], &e->hard, &e->hard_unlimited);
                if (r < 0)
                        return r;
                if (n_tok == 3) {
                        if (tok_len[2] >= sizeof e->unit)
                                return -EINVAL;
                        memcpy(e->unit, tok[2], tok_len[2]);
                        e->unit[tok_len[2]] = '\0';
                }
                l->n++;
        }
        if (!header)
                return -EINVAL;
        *ret = *l;
        return 0;
}

static int hex_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 16)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                unsigned d;
                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else
                        return -EINVAL;
                v = v << 4 | d;
        }
        *ret = v;
        return 0;
}

int proc_maps_next(const char **p, const char *end, struct proc_map *ret) {
        const char *line, *q, *qe, *tok, *dash;
        size_t line_len, tok_len;
        struct proc_map m = {};

        do {
                if (!tv_next_line(p, end, &line, &line_len))
                        return 0;
        } while (line_len == 0);
        if (memchr(line, '\0', line_len))
                return -EINVAL;
        q = line;
        qe = line + line_len;
        if (!tv_next_token(&q, qe, &tok, &tok_len) || !(dash = memchr(tok, '-', tok_len)) ||
            hex_u64(tok, (size_t)(dash - tok), &m.start) < 0 ||
            hex_u64(dash + 1, tok_len - (size_t)(dash - tok) - 1, &m.end) < 0 || m.end < m.start)
                return -EINVAL;
        if (!tv_next_token(&q, qe, &tok, &tok_len) || tok_len != 4)
                return -EINVAL;
        memcpy(m.perms, tok, 4);
        if (!tv_next_token(&q, qe, &tok, &tok_len) || hex_u64(tok, tok_len, &m.offset) < 0)
                return -EINVAL;
        if (!tv_next_token(&q, qe, &tok, &tok_len) || !memchr(tok, ':', tok_len))
                return -EINVAL; /* the device, not kept */
        if (!tv_next_token(&q, qe, &tok, &tok_len) || tv_to_u64(tok, tok_len, &m.inode) < 0)
                return -EINVAL;
        while (q < qe && tv_is_blank(*q))
                q++;
        m.path = q;
        m.path_len = (size_t)(qe - q);
        *ret = m;
        return 1;
}

/* ---- /proc/self/mountinfo ------------------------------------------------- */

/* Decodes the kernel's \ooo escapes of s[0..n) into dst (which has room for
 * n+1 bytes); returns the decoded length.  A backslash that does not start a
 * three-digit octal escape, or an escaped NUL, is malformed. */
static int unoctal(const char *s, size_t n, char *dst, size_t *ret_len) {
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] != '\\') {
                        dst[o++] = s[i];
                        continue;
                }
                if (n - i < 4 || s[i + 1] < '0' || s[i + 1] > '3' || s[i + 2] < '0' ||
                    s[i + 2] > '7' || s[i + 3] < '0' || s[i + 3] > '7')
                        return -EINVAL;

                unsigned v = (unsigned)(s[i + 1] - '0') * 64 + (unsigned)(s[i + 2] - '0') * 8 +
                             (unsigned)(s[i + 3] - '0');
                if (v == 0)
                        return -EINVAL;
                dst[o++] = (char)v;
                i += 3;
        }

        dst[o] = '\0';
        *ret_len = o;
        return 0;
}

void mountinfo_done(struct mountinfo *m) {
        if (!m)
                return;
        /* All strings of an entry live in one block that starts at root. */
        for (size_t i = 0; i < m->n_entries; i++)
                free(m->entries[i].root);
        free(m->entries);
        m->entries = NULL;
        m->n_entries = 0;
}

static int parse_mount_line(const char *line, size_t line_len, struct mount_entry *ret) {
        /* Fields are separated by exactly one space; the kernel escapes spaces
         * inside fields.  Only the source may be empty. */
        enum { F_ID, F_PARENT, F_DEV, F_ROOT, F_MOUNT_POINT, F_OPTIONS, _F_PRE };
        enum { G_FSTYPE, G_SOURCE, G_SUPER, _G_POST };
        const char *pre[_F_PRE], *post[_G_POST];
        size_t pre_len[_F_PRE], post_len[_G_POST];
        const char *p = line, *end = line + line_len;
        size_t field = 0, n_post = 0;
        bool after_sep = false;
        struct mount_entry e = {};
        int r;

        for (;;) {
                const char *sp = memchr(p, ' ', (size_t)(end - p));
                const char *fe = sp ? sp : end;
                size_t fl = (size_t)(fe - p);

                if (!after_sep) {
                        if (field < _F_PRE) {
                                pre[field] = p;
                                pre_len[field] = fl;
                        } else if (tv_eq(p, fl, "-")) {
                                after_sep = true;
                        } else if (fl == 0) {
                                return -EINVAL; /* empty optional field */
                        }
                        field++;
                } else {
                        if (n_post >= _G_POST)
                                return -EINVAL;
                        post[n_post] = p;
                        post_len[n_post] = fl;
                        n_post++;
                }

                if (!sp)
                        break;
                p = sp + 1;
        }

        if (!after_sep || n_post != _G_POST)
                return -EINVAL;
        for (size_t i = 0; i < _F_PRE; i++)
                if (pre_len[i] == 0)
                        return -EINVAL;
        if (post_len[G_FSTYPE] == 0 || post_len[G_SUPER] == 0)
                return -EINVAL;

        r = tv_to_unsigned(pre[F_ID], pre_len[F_ID], &e.mount_id);
        if (r < 0)
                return -EINVAL;
        r = tv_to_unsigned(pre[F_PARENT], pre_len[F_PARENT], &e.parent_id);
        if (r < 0)
                return -EINVAL;

        const char *colon = memchr(pre[F_DEV], ':', pre_len[F_DEV]);
        if (!colon)
                return -EINVAL;
        size_t maj_len = (size_t)(colon - pre[F_DEV]);
        r = tv_to_unsigned(pre[F_DEV], maj_len, &e.major);
        if (r < 0)
                return -EINVAL;
        r = tv_to_unsigned(colon + 1, pre_len[F_DEV] - maj_len - 1, &e.minor);
        if (r < 0)
                return -EINVAL;

        /* One block for the six strings: decoding never makes them longer. */
        const char *src[6] = {pre[F_ROOT],    pre[F_MOUNT_POINT], pre[F_OPTIONS],
                              post[G_FSTYPE], post[G_SOURCE],     post[G_SUPER]};
        size_t src_len[6] = {pre_len[F_ROOT],    pre_len[F_MOUNT_POINT], pre_len[F_OPTIONS],
                             post_len[G_FSTYPE], post_len[G_SOURCE],     post_len[G_SUPER]};
        char **dst[6] = {&e.root,   &e.mount_point, &e.options,
                         &e.fstype, &e.source,      &e.super_options};
        size_t total = 0;

        for (size_t i = 0; i < 6; i++)
                total += src_len[i] + 1; /* bounded by line_len + 6 */

        _cleanup_free_ char *block = malloc(total);
        if (!block)
                return -ENOMEM;

        char *w = block;
        for (size_t i = 0; i < 6; i++) {
                size_t l;

                r = unoctal(src[i], src_len[i], w, &l);
                if (r < 0)
                        return r;
                *dst[i] = w;
                w += l + 1;
        }

        (void)TAKE_PTR(block); /* now owned through e.root */
        *ret = e;
        return 0;
}

int mountinfo_parse(const char *text, size_t len, struct mountinfo *ret) {
        struct mountinfo m = {};
        const char *p, *end, *line;
        size_t line_len, cap = 0;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                struct mount_entry e;

                if (line_len == 0)
                        continue;

                r = grow((void **)&m.entries, &cap, m.n_entries, sizeof(*m.entries),
                         PROCFS_MAX_MOUNTS);
                if (r < 0)
                        goto fail;

                r = parse_mount_line(line, line_len, &e);
                if (r < 0)
                        goto fail;

                m.entries[m.n_entries++] = e;
        }

        *ret = m;
        return 0;

fail:
        mountinfo_done(&m);
        return r;
}

bool procfs_fstype_is_pseudo(const char *t) {
        static const char *const pseudo[] = {
                "proc",       "sysfs",    "devtmpfs",  "devpts", "cgroup",      "cgroup2",
                "securityfs", "debugfs",  "tracefs",   "pstore", "bpf",         "mqueue",
                "hugetlbfs",  "configfs", "fusectl",   "autofs", "binfmt_misc", "nsfs",
                "rpc_pipefs", "efivarfs", "selinuxfs", "ramfs",
        };

        for (size_t i = 0; i < ELEMENTSOF(pseudo); i++)
                if (STREQ(t, pseudo[i]))
                        return true;
        return false;
}

bool procfs_mount_point_excluded(const char *m) {
        static const char *const whole[] = {"/dev", "/proc", "/sys"};
        static const char *const below[] = {"/run/credentials/", "/var/lib/docker/",
                                            "/var/lib/containers/storage/"};

        for (size_t i = 0; i < ELEMENTSOF(whole); i++) {
                size_t l = strlen(whole[i]);
                if (strncmp(m, whole[i], l) == 0 && (m[l] == '\0' || m[l] == '/'))
                        return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(below); i++) {
                size_t l = strlen(below[i]);
                if (strncmp(m, below[i], l) == 0 && m[l] != '\0')
                        return true;
        }
        return false;
}

static int mount_cmp(const void *a, const void *b) {
        const struct mount_entry *x = *(const struct mount_entry *const *)a;
        const struct mount_entry *y = *(const struct mount_entry *const *)b;
        int c = strcmp(x->mount_point, y->mount_point);

        if (c != 0)
                return c;
        return x < y ? -1 : x > y; /* file order: the later is on top */
}

int mountinfo_real(const struct mountinfo *m, const struct mount_entry ***ret, size_t *ret_n) {
        const struct mount_entry **v;
        size_t n = 0, k = 0;

        v = calloc(m->n_entries ? m->n_entries : 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_entries; i++)
                if (!procfs_fstype_is_pseudo(m->entries[i].fstype) &&
                    !procfs_mount_point_excluded(m->entries[i].mount_point))
                        v[n++] = &m->entries[i];
        qsort(v, n, sizeof *v, mount_cmp);
        for (size_t i = 0; i < n; i++)
                if (i + 1 == n || !STREQ(v[i]->mount_point, v[i + 1]->mount_point))
                        v[k++] = v[i];
        *ret = v;
        *ret_n = k;
        return 0;
}

bool procfs_mount_option_set(const char *options, const char *opt) {
        size_t l = strlen(opt);

        for (const char *p = options; p && *p;) {
                const char *c = strchr(p, ',');
                size_t n = c ? (size_t)(c - p) : strlen(p);
                if (n == l && memcmp(p, opt, l) == 0)
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

/* ---- /etc/os-release ------------------------------------------------------ */

void os_release_done(struct os_release *o) {
        if (!o)
                return;
        free(o->pretty_name);
        free(o->name);
        free(o->id);
        free(o->id_like);
        free(o->version);
        free(o->version_id);
        free(o->version_codename);
        free(o->variant_id);
        free(o->build_id);
        free(o->variant);
        free(o->image_id);
        free(o->image_version);
        *o = (struct os_release){};
}

static bool is_key_start(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_key_char(char c) {
        return is_key_start(c) || (c >= '0' && c <= '9');
}

struct value_buf {
        char data[PROCFS_MAX_VALUE + 1];
        size_t len;
};

static int value_put(struct value_buf *v, char c) {
        if (v->len >= PROCFS_MAX_VALUE)
                return -E2BIG;
        v->data[v->len++] = c;
        return 0;
}

/* Parses one shell word starting at *p: unquoted runs, '…' and "…"
 * concatenated, up to unquoted whitespace or the end of the text. */
static int parse_shell_word(const char **p, const char *end, struct value_buf *v) {
        const char *s = *p;
        int r;

        v->len = 0;
        while (s < end && !is_blank(*s) && *s != '\n' && *s != '\r') {
                char c = *s++;

                if (c == '\'') {
                        for (;;) {
                                if (s >= end)
                                        return -EINVAL; /* unterminated */
                                c = *s++;
                                if (c == '\'')
                                        break;
                                r = value_put(v, c);
                                if (r < 0)
                                        return r;
                        }
                } else if (c == '"') {
                        for (;;) {
                                if (s >= end)
                                        return -EINVAL;
                                c = *s++;
                                if (c == '"')
                                        break;
                                if (c == '\\') {
                                        if (s >= end)
                                                return -EINVAL;
                                        if (*s == '\n') { /* line continuation */
                                                s++;
                                                continue;
                                        }
                                        if (strchr("\"\\$`", *s))
                                                c = *s++;
                                        /* else: the backslash stays literal */
                                }
                                r = value_put(v, c);
                                if (r < 0)
                                        return r;
                        }
                } else if (c == '\\') {
                        if (s >= end)
                                return -EINVAL;
                        c = *s++;
                        if (c == '\n')
                                continue;
                        r = value_put(v, c);
                        if (r < 0)
                                return r;
                } else {
                        r = value_put(v, c);
                        if (r < 0)
                                return r;
                }
        }

        v->data[v->len] = '\0';
        *p = s;
        return 0;
}

int os_release_parse(const char *text, size_t len, struct os_release *ret) {
        struct os_release o = {};
        const struct {
                const char *key;
                char **field;
        } keys[] = {
                {"PRETTY_NAME", &o.pretty_name},
                {"NAME", &o.name},
                {"ID", &o.id},
                {"ID_LIKE", &o.id_like},
                {"VERSION", &o.version},
                {"VERSION_ID", &o.version_id},
                {"VERSION_CODENAME", &o.version_codename},
                {"VARIANT_ID", &o.variant_id},
                {"BUILD_ID", &o.build_id},
                {"VARIANT", &o.variant},
                {"IMAGE_ID", &o.image_id},
                {"IMAGE_VERSION", &o.image_version},
        };
        const char *p, *end;
        _cleanup_free_ struct value_buf *v = NULL;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        v = malloc(sizeof(*v));
        if (!v)
                return -ENOMEM;

        for (;;) {
                const char *key;
                size_t key_len;

                /* Between assignments: whitespace, blank lines, comments. */
                while (p < end && (is_blank(*p) || *p == '\n' || *p == '\r'))
                        p++;
                if (p >= end)
                        break;
                if (*p == '#') {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        p = nl ? nl + 1 : end;
                        continue;
                }

                if (!is_key_start(*p)) {
                        r = -EINVAL;
                        goto fail;
                }
                key = p;
                while (p < end && is_key_char(*p))
                        p++;
                key_len = (size_t)(p - key);
                if (p >= end || *p != '=') {
                        r = -EINVAL;
                        goto fail;
                }
                p++;

                r = parse_shell_word(&p, end, v);
                if (r < 0)
                        goto fail;

                /* After the value: blanks, then an optional comment, then the
                 * end of the line. */
                while (p < end && (is_blank(*p) || *p == '\r'))
                        p++;
                if (p < end && *p == '#') {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        p = nl ? nl : end;
                }
                if (p < end && *p != '\n') {
                        r = -EINVAL;
                        goto fail;
                }

                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        if (!tv_eq(key, key_len, keys[i].key))
                                continue;

                        char *copy = strndup(v->data, v->len);
                        if (!copy) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        free(*keys[i].field);
                        *keys[i].field = copy;
                        break;
                }
        }

        *ret = o;
        return 0;

fail:
        os_release_done(&o);
        return r;
}

/* ---- /proc/cpuinfo -------------------------------------------------------- */

void cpuinfo_done(struct cpuinfo *c) {
        if (!c)
                return;
        free(c->model);
        c->model = NULL;
}

int cpuinfo_parse(const char *text, size_t len, struct cpuinfo *ret) {
        /* Model keys, best first. */
        static const char *const model_keys[] = {
                "model name", "Processor", "cpu model", "cpu", "uarch", "vendor_id",
        };
        const char *p, *end, *line;
        const char *model = NULL;
        size_t line_len, model_len = 0, model_rank = ELEMENTSOF(model_keys);
        uint64_t hash_count = 0;
        unsigned count = 0;
        char *copy;
        int r;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;

        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *colon, *key, *val;
                size_t key_len, val_len;

                tv_trim(&line, &line_len);
                if (line_len == 0)
                        continue;

                colon = memchr(line, ':', line_len);
                if (!colon)
                        return -EINVAL;
                key = line;
                key_len = (size_t)(colon - line);
                tv_trim(&key, &key_len);
                if (key_len == 0)
                        return -EINVAL;
                val = colon + 1;
                val_len = (size_t)(line + line_len - val);
                tv_trim(&val, &val_len);

                if (tv_eq(key, key_len, "processor")) {
                        if (count >= PROCFS_MAX_CPUS)
                                return -E2BIG;
                        count++;
                        continue;
                }
                if (tv_eq(key, key_len, "# processors")) {
                        r = tv_to_u64(val, val_len, &hash_count);
                        if (r < 0)
                                return r;
                        if (hash_count > PROCFS_MAX_CPUS)
                                return -E2BIG;
                        continue;
                }

                for (size_t i = 0; i < model_rank; i++) {
                        if (!tv_eq(key, key_len, model_keys[i]))
                                continue;
                        if (val_len == 0)
                                break;
                        if (val_len > PROCFS_MAX_VALUE)
                                return -E2BIG;
                        model = val;
                        model_len = val_len;
                        model_rank = i;
                        break;
                }
        }

        if (model) {
                copy = strndup(model, model_len);
                if (!copy)
                        return -ENOMEM;
        } else
                copy = NULL;

        *ret = (struct cpuinfo){
                .model = copy,
                .count = count > 0 ? count : (unsigned)hash_count,
        };
        return 0;
}

/* ---- node_exporter's smaller sources -------------------------------------------- */

int tv_to_hex_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 16)
                return n == 0 ? -EINVAL : -ERANGE;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                unsigned d;

                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        d = (unsigned)(c - 'A' + 10);
                else
                        return -EINVAL;
                v = v << 4 | d;
        }
        *ret = v;
        return 0;
}

/* "total=N" among the tokens of one PSI line. */
static int psi_line_total(const char *lp, const char *lend, uint64_t *ret) {
        const char *tok;
        size_t tok_len;
        bool found = false;

        while (tv_next_token(&lp, lend, &tok, &tok_len)) {
                if (!tv_starts(tok, tok_len, "total="))
                        continue;
                if (found || tv_to_u64(tok + 6, tok_len - 6, ret) < 0)
                        return -EINVAL;
                found = true;
        }
        return found ? 0 : -EINVAL;
}

int psi_parse(const char *text, size_t len, struct psi *ret) {
        struct psi v = {0};
        const char *p, *end, *line;
        size_t line_len;
        bool some = false;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *kind;
                size_t kind_len;
                uint64_t *dst;
                bool *seen;

                if (!tv_next_token(&lp, lend, &kind, &kind_len))
                        continue;
                if (tv_eq(kind, kind_len, "some")) {
                        dst = &v.some_total;
                        seen = &some;
                } else if (tv_eq(kind, kind_len, "full")) {
                        dst = &v.full_total;
                        seen = &v.has_full;
                } else
                        return -EINVAL;
                if (*seen || psi_line_total(lp, lend, dst) < 0)
                        return -EINVAL;
                *seen = true;
        }
        if (!some)
                return -EINVAL;
        *ret = v;
        return 0;
}

int softnet_next(const char **p, const char *end, struct softnet_row *ret) {
        const char *line;
        size_t line_len;

        while (tv_next_line(p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *tok;
                size_t tok_len;
                uint64_t v[3];
                size_t n = 0;

                if (memchr(line, '\0', line_len))
                        return -EINVAL;
                while (n < 3 && tv_next_token(&lp, lend, &tok, &tok_len))
                        if (tv_to_hex_u64(tok, tok_len, &v[n++]) < 0)
                                return -EINVAL;
                if (n == 0)
                        continue;
                if (n < 3)
                        return -EINVAL;
                *ret = (struct softnet_row){.processed = v[0], .dropped = v[1], .squeezed = v[2]};
                return 1;
        }
        return 0;
}

int kv_line_next(const char **p, const char *end, const char **ret_key, size_t *ret_key_len,
                 uint64_t *ret_value) {
        const char *line;
        size_t line_len;

        while (tv_next_line(p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *key, *val, *extra;
                size_t key_len, val_len, extra_len;
                uint64_t v;

                if (memchr(line, '\0', line_len))
                        return -EINVAL;
                if (!tv_next_token(&lp, lend, &key, &key_len))
                        continue;
                if (!tv_next_token(&lp, lend, &val, &val_len) ||
                    tv_next_token(&lp, lend, &extra, &extra_len) ||
                    tv_to_u64(val, val_len, &v) < 0)
                        return -EINVAL;
                *ret_key = key;
                *ret_key_len = key_len;
                *ret_value = v;
                return 1;
        }
        return 0;
}

int arp_next(const char **p, const char *end, const char **ret_dev, size_t *ret_dev_len) {
        const char *line;
        size_t line_len;

        while (tv_next_line(p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *tok[7];
                size_t tok_len[7], n = 0;

                if (memchr(line, '\0', line_len))
                        return -EINVAL;
                if (tv_starts(line, line_len, "IP address"))
                        continue; /* the header */
                while (n < ELEMENTSOF(tok) && tv_next_token(&lp, lend, &tok[n], &tok_len[n]))
                        n++;
                if (n == 0)
                        continue;
                if (n != 6 || tok_len[5] >= PROCFS_IFNAMSIZ)
                        return -EINVAL;
                *ret_dev = tok[5];
                *ret_dev_len = tok_len[5];
                return 1;
        }
        return 0;
}

#define NET_STAT_MAX_COLS 64

int net_stat_table_sum(const char *text, size_t len, const char *const *names, size_t n,
                       uint64_t *sums, uint64_t *ret_found) {
        const char *p, *end, *line, *tok;
        size_t line_len, tok_len, cols = 0;
        int col_of[NET_STAT_MAX_COLS]; /* column -> index in names, or -1 */
        uint64_t found = 0;

        if (n > 64 || tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        if (!tv_next_line(&p, end, &line, &line_len))
                return -EINVAL;
        for (const char *lp = line; tv_next_token(&lp, line + line_len, &tok, &tok_len);) {
                if (cols >= NET_STAT_MAX_COLS)
                        return -E2BIG;
                col_of[cols] = -1;
                for (size_t i = 0; i < n; i++)
                        if (tv_eq(tok, tok_len, names[i])) {
                                col_of[cols] = (int)i;
                                found |= UINT64_C(1) << i;
                        }
                cols++;
        }
        if (cols == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                sums[i] = 0;
        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line;
                size_t c = 0;

                while (tv_next_token(&lp, line + line_len, &tok, &tok_len)) {
                        uint64_t v;

                        if (c >= cols || tv_to_hex_u64(tok, tok_len, &v) < 0)
                                return -EINVAL;
                        if (col_of[c] >= 0)
                                sums[col_of[c]] += v;
                        c++;
                }
                if (c != 0 && c != cols)
                        return -EINVAL;
        }
        *ret_found = found;
        return 0;
}

int udp_queues_parse(const char *text, size_t len, uint64_t *ret_tx, uint64_t *ret_rx) {
        const char *p, *end, *line;
        size_t line_len;
        uint64_t tx = 0, rx = 0;
        bool header = false;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        while (tv_next_line(&p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *tok = NULL, *colon;
                size_t tok_len = 0;
                uint64_t t, r;

                if (!header) {
                        if (!tv_next_token(&lp, lend, &tok, &tok_len) || !tv_eq(tok, tok_len, "sl"))
                                return -EINVAL;
                        header = true;
                        continue;
                }
                /* "sl local_address rem_address st tx_queue:rx_queue …" */
                for (int i = 0; i < 5; i++)
                        if (!tv_next_token(&lp, lend, &tok, &tok_len)) {
                                if (i == 0)
                                        goto next;
                                return -EINVAL;
                        }
                colon = memchr(tok, ':', tok_len);
                if (!colon || tv_to_hex_u64(tok, (size_t)(colon - tok), &t) < 0 ||
                    tv_to_hex_u64(colon + 1, tok_len - (size_t)(colon + 1 - tok), &r) < 0 ||
                    __builtin_add_overflow(tx, t, &tx) || __builtin_add_overflow(rx, r, &rx))
                        return -EINVAL;
        next:;
        }
        if (!header)
                return -EINVAL;
        *ret_tx = tx;
        *ret_rx = rx;
        return 0;
}

int udev_data_property(const char *text, size_t len, const char *key, const char **ret,
                       size_t *ret_len) {
        const char *p, *end, *line;
        size_t line_len, key_len = strlen(key);

        p = TEXT_OR_EMPTY(text);
        end = p + len;
        while (tv_next_line(&p, end, &line, &line_len)) {
                if (line_len < 3 + key_len || memcmp(line, "E:", 2) != 0 ||
                    memcmp(line + 2, key, key_len) != 0 || line[2 + key_len] != '=')
                        continue;
                if (memchr(line, '\0', line_len))
                        return -EINVAL;
                *ret = line + 3 + key_len;
                *ret_len = line_len - 3 - key_len;
                return 0;
        }
        return -ENOENT;
}

int schedstat_next(const char **p, const char *end, struct schedstat_cpu *ret) {
        const char *line;
        size_t line_len;

        while (tv_next_line(p, end, &line, &line_len)) {
                const char *lp = line, *lend = line + line_len, *tok;
                size_t tok_len, n = 0;
                uint64_t v[9];
                unsigned cpu;

                if (!tv_next_token(&lp, lend, &tok, &tok_len) || tok_len < 4 ||
                    memcmp(tok, "cpu", 3) != 0)
                        continue;
                if (memchr(line, '\0', line_len) || tv_to_unsigned(tok + 3, tok_len - 3, &cpu) < 0)
                        return -EINVAL;
                while (tv_next_token(&lp, lend, &tok, &tok_len)) {
                        if (n < ELEMENTSOF(v) && tv_to_u64(tok, tok_len, &v[n]) < 0)
                                return -EINVAL;
                        n++;
                }
                if (n < ELEMENTSOF(v))
                        return -EINVAL;
                *ret = (struct schedstat_cpu){
                        .cpu = cpu, .running_ns = v[6], .waiting_ns = v[7], .timeslices = v[8]};
                return 1;
        }
        return 0;
}

/* ---- /proc/mdstat -------------------------------------------------------------------- */

/* The length of the run at s[0..n) of bytes in set. */
static size_t strspn_n(const char *s, size_t n, const char *set) {
        size_t i = 0;

        while (i < n && s[i] && strchr(set, s[i]))
                i++;
        return i;
}

static size_t count_in(const char *s, size_t n, const char *what) {
        size_t c = 0, l = strlen(what);

        for (size_t i = 0; i + l <= n; i++)
                if (memcmp(s + i, what, l) == 0)
                        c++;
        return c;
}

static bool contains(const char *s, size_t n, const char *what) {
        return count_in(s, n, what) > 0;
}

/* The last "[T/A] [U_…]" of a status line: total, active and the '_'s. */
static int md_status_counts(const char *s, size_t n, uint64_t *total, uint64_t *active,
                            uint64_t *down) {
        for (size_t i = n; i-- > 0;) {
                const char *p = s + i, *end = s + n, *slash, *close, *q;
                size_t k;

                if (*p != '[')
                        continue;
                slash = memchr(p, '/', (size_t)(end - p));
                close = memchr(p, ']', (size_t)(end - p));
                if (!slash || !close || slash > close || slash == p + 1 || close == slash + 1 ||
                    tv_to_u64(p + 1, (size_t)(slash - p - 1), total) < 0 ||
                    tv_to_u64(slash + 1, (size_t)(close - slash - 1), active) < 0)
                        continue;
                q = close + 1;
                if (q + 2 > end || q[0] != ' ' || q[1] != '[')
                        continue;
                q += 2;
                k = strspn_n(q, (size_t)(end - q), "U_");
                if (k == 0 || q + k >= end || q[k] != ']')
                        continue;
                *down = count_in(q, k, "_");
                return 0;
        }
        return -EINVAL;
}

/* The first "(DONE/TOTAL)" of a sync line. */
static int md_synced(const char *s, size_t n, uint64_t *ret) {
        for (size_t i = 0; i < n; i++) {
                const char *p = s + i + 1, *end = s + n, *slash, *close;

                if (s[i] != '(')
                        continue;
                slash = memchr(p, '/', (size_t)(end - p));
                close = slash ? memchr(slash, ')', (size_t)(end - slash)) : NULL;
                if (!close || slash == p || close == slash + 1)
                        continue;
                if (tv_to_u64(p, (size_t)(slash - p), ret) == 0 &&
                    strspn_n(slash + 1, (size_t)(close - slash - 1), "0123456789") ==
                            (size_t)(close - slash - 1))
                        return 0;
        }
        return -EINVAL;
}

struct md_line {
        const char *s;
        size_t n;
};

static int md_device_parse(const struct md_line *l, size_t i, size_t nl, struct md_device *d) {
        const char *p = l[i].s, *end = p + l[i].n, *tok[3];
        size_t tl[3], k = 0, sync;
        const char *st = l[i + 1].s;
        size_t stn = l[i + 1].n;
        const char *size_tok, *sp = st;
        size_t size_len;

        (void)nl;
        *d = (struct md_device){0};
        while (k < 3 && tv_next_token(&p, end, &tok[k], &tl[k]))
                k++;
        if (k < 3 || tl[0] >= sizeof d->name || tl[2] >= sizeof d->state)
                return -EINVAL;
        memcpy(d->name, tok[0], tl[0]);
        memcpy(d->state, tok[2], tl[2]);
        d->disks_failed = count_in(l[i].s, l[i].n, "(F)");
        d->disks_spare = count_in(l[i].s, l[i].n, "(S)");
        if (!tv_next_token(&sp, st + stn, &size_tok, &size_len) ||
            tv_to_u64(size_tok, size_len, &d->blocks_total) < 0)
                return -EINVAL;
        if (contains(l[i].s, l[i].n, "raid0") || contains(l[i].s, l[i].n, "linear")) {
                d->disks_total = d->disks_active = count_in(l[i].s, l[i].n, "[");
        } else if (!contains(l[i].s, l[i].n, "inactive")) {
                if (md_status_counts(st, stn, &d->disks_total, &d->disks_active, &d->disks_down) < 0)
                        return -EINVAL;
        }
        d->blocks_synced = d->blocks_total;
        sync = i + 2;
        if (contains(l[sync].s, l[sync].n, "bitmap"))
                sync++;
        if (sync < nl) {
                bool rec = contains(l[sync].s, l[sync].n, "recovery"),
                     res = contains(l[sync].s, l[sync].n, "resync"),
                     chk = contains(l[sync].s, l[sync].n, "check");
                if (rec || res || chk) {
                        const char *now = rec ? "recovering" : chk ? "checking" : "resyncing";
                        memcpy(d->state, now, strlen(now) + 1); /* < sizeof d->state */
                        if (contains(l[sync].s, l[sync].n, "PENDING") ||
                            contains(l[sync].s, l[sync].n, "DELAYED"))
                                d->blocks_synced = 0;
                        else if (md_synced(l[sync].s, l[sync].n, &d->blocks_synced) < 0)
                                return -EINVAL;
                }
        }
        return 0;
}

int mdstat_parse(const char *text, size_t len, struct md_device **ret, size_t *ret_n) {
        const char *p, *end, *line;
        size_t line_len, nl = 0, cap = 0, n = 0;
        struct md_line *l = NULL;
        struct md_device *v = NULL;
        int r = 0;

        if (tv_has_nul(text, len))
                return -EINVAL;
        p = TEXT_OR_EMPTY(text);
        end = p + len;
        while (tv_next_line(&p, end, &line, &line_len)) {
                if (nl == cap) {
                        void *q = cap < (1u << 20) ? reallocarray(l, cap ? cap * 2 : 64, sizeof *l) : NULL;
                        if (!q) {
                                free(l);
                                return cap < (1u << 20) ? -ENOMEM : -E2BIG;
                        }
                        l = q;
                        cap = cap ? cap * 2 : 64;
                }
                l[nl++] = (struct md_line){line, line_len};
        }
        /* As Go's strings.Split: text ending in a newline has an empty last line. */
        if (len > 0 && TEXT_OR_EMPTY(text)[len - 1] == '\n') {
                void *q = nl == cap ? reallocarray(l, cap + 1, sizeof *l) : l;
                if (!q) {
                        free(l);
                        return -ENOMEM;
                }
                l = q;
                l[nl++] = (struct md_line){end, 0};
        }
        for (size_t i = 0; i < nl && r >= 0; i++) {
                const char *s = l[i].s;
                size_t sn = l[i].n, t = sn;
                const char *ts = s;

                tv_trim(&ts, &t);
                if (t == 0 || s[0] == ' ' || tv_starts(s, sn, "Personalities") || tv_starts(s, sn, "unused"))
                        continue;
                if (nl <= i + 3 || n >= PROCFS_MAX_MD) {
                        r = n >= PROCFS_MAX_MD ? -E2BIG : -EINVAL;
                        break;
                }
                if (n % 16 == 0) {
                        void *q = reallocarray(v, n + 16, sizeof *v);
                        if (!q) {
                                r = -ENOMEM;
                                break;
                        }
                        v = q;
                }
                r = md_device_parse(l, i, nl, &v[n]);
                if (r >= 0)
                        n++;
        }
        free(l);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
