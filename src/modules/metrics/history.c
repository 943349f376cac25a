/* history.c — the sampled history of the metrics module (see history.h).
 *
 * The sampler thread wakes in the middle of each wall-clock second (so that
 * jitter never puts two samples in one second or skips one), reads five
 * /proc files through descriptors kept open (pread from offset 0, as
 * sampler.c does and for the same reason), turns them into one value per
 * series through the pure parsers of procfs.h, and hands them to
 * history_add().  Rates (cpu, net, disk) are differences of two samples over
 * the monotonic time between them; a counter that went backwards (a wrap,
 * a reset, an interface that went away) gives no sample for that second.
 *
 * Ownership: `hist` (tiers, accumulators) is guarded by hist.lock and
 * written only by history_add().  `smp` (descriptors, read buffer, previous
 * counters) belongs to the sampler thread while it runs, and to
 * history_start()/history_stop() otherwise.
 */
#include "modules/metrics/history.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modules/metrics/sampler.h"
#include "modules/system/procfs.h"
#include "util.h"

#define READ_BUF_START (64UL * 1024)
#define READ_BUF_MAX   (4UL * 1024 * 1024)
#define WAKE_OFFSET_NS 500000000L /* into each wall-clock second */

const struct history_tier_def history_tiers[HISTORY_TIERS] = {
        {1, 3600},
        {60, 1440},
};

static const struct {
        const char *name, *unit;
} series_defs[_HS_MAX] = {
        [HS_CPU_BUSY] = {"cpu.busy", "percent"},
        [HS_CPU_USER] = {"cpu.user", "percent"},
        [HS_CPU_SYSTEM] = {"cpu.system", "percent"},
        [HS_CPU_IOWAIT] = {"cpu.iowait", "percent"},
        [HS_MEM_USED] = {"mem.used", "bytes"},
        [HS_MEM_AVAILABLE] = {"mem.available", "bytes"},
        [HS_SWAP_USED] = {"swap.used", "bytes"},
        [HS_LOAD1] = {"load.1", "count"},
        [HS_NET_RX] = {"net.rx", "bytes_per_second"},
        [HS_NET_TX] = {"net.tx", "bytes_per_second"},
        [HS_DISK_READ] = {"disk.read", "bytes_per_second"},
        [HS_DISK_WRITE] = {"disk.write", "bytes_per_second"},
        [HS_PROCS_RUNNING] = {"procs.running", "count"},
};

const char *history_series_name(history_series_t s) {
        return (unsigned)s < _HS_MAX ? series_defs[s].name : NULL;
}

const char *history_series_unit(history_series_t s) {
        return (unsigned)s < _HS_MAX ? series_defs[s].unit : NULL;
}

/* ---- the tiers -------------------------------------------------------------- */

/* One tier: capacity slots, each the unix time it holds (INT64_MIN: never
 * written) and per series avg, min, max (series-major: [series][slot]).  In
 * a raw tier min and max alias avg. */
struct tier {
        int64_t *time;
        float *avg, *min, *max;
        bool raw;
};

/* The bucket of an aggregating tier still being filled. */
struct acc {
        int64_t start; /* unix time of the bucket; INT64_MIN: empty */
        double sum[_HS_MAX], min[_HS_MAX], max[_HS_MAX];
        unsigned n[_HS_MAX];
};

static struct {
        pthread_mutex_t lock;
        bool ready;
        struct tier tier[HISTORY_TIERS];
        struct acc acc[HISTORY_TIERS]; /* acc[0] unused: tier 0 is raw */
} hist = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static void acc_reset(struct acc *a) {
        *a = (struct acc){.start = INT64_MIN};
}

static void clear_locked(void) {
        for (size_t t = 0; t < HISTORY_TIERS; t++) {
                for (size_t i = 0; i < history_tiers[t].capacity; i++)
                        hist.tier[t].time[i] = INT64_MIN;
                acc_reset(&hist.acc[t]);
        }
}

static void tier_free(struct tier *t) {
        free(t->time);
        free(t->avg);
        if (!t->raw) {
                free(t->min);
                free(t->max);
        }
        *t = (struct tier){0};
}

int history_setup(void) {
        int r = 0;

        pthread_mutex_lock(&hist.lock);
        if (hist.ready)
                goto out;
        for (size_t t = 0; t < HISTORY_TIERS; t++) {
                size_t cap = history_tiers[t].capacity;
                struct tier *ti = &hist.tier[t];

                ti->raw = t == 0;
                ti->time = calloc(cap, sizeof *ti->time);
                ti->avg = calloc(cap * _HS_MAX, sizeof *ti->avg);
                if (ti->raw) {
                        ti->min = ti->max = ti->avg;
                } else {
                        ti->min = calloc(cap * _HS_MAX, sizeof *ti->min);
                        ti->max = calloc(cap * _HS_MAX, sizeof *ti->max);
                }
                if (!ti->time || !ti->avg || !ti->min || !ti->max) {
                        for (size_t k = 0; k <= t; k++)
                                tier_free(&hist.tier[k]);
                        r = -ENOMEM;
                        goto out;
                }
        }
        hist.ready = true;
        clear_locked();
out:
        pthread_mutex_unlock(&hist.lock);
        return r;
}

void history_teardown(void) {
        pthread_mutex_lock(&hist.lock);
        for (size_t t = 0; t < HISTORY_TIERS; t++)
                tier_free(&hist.tier[t]);
        hist.ready = false;
        pthread_mutex_unlock(&hist.lock);
}

void history_clear(void) {
        pthread_mutex_lock(&hist.lock);
        if (hist.ready)
                clear_locked();
        pthread_mutex_unlock(&hist.lock);
}

static size_t slot_of(unsigned t, int64_t start) {
        const struct history_tier_def *d = &history_tiers[t];
        int64_t b = start / (int64_t)d->resolution;
        int64_t m = b % (int64_t)d->capacity;

        return (size_t)(m < 0 ? m + (int64_t)d->capacity : m);
}

/* Bucket start of time now in a tier (floor, also before 1970). */
static int64_t bucket_of(unsigned t, int64_t now) {
        int64_t res = history_tiers[t].resolution;
        int64_t q = now / res;

        if (now % res < 0)
                q--;
        return q * res;
}

static void tier_put_locked(unsigned t, int64_t start, const double avg[_HS_MAX],
                            const double min[_HS_MAX], const double max[_HS_MAX]) {
        struct tier *ti = &hist.tier[t];
        size_t cap = history_tiers[t].capacity, slot = slot_of(t, start);

        ti->time[slot] = start;
        for (size_t s = 0; s < _HS_MAX; s++) {
                ti->avg[s * cap + slot] = (float)avg[s];
                ti->min[s * cap + slot] = (float)min[s];
                ti->max[s * cap + slot] = (float)max[s];
        }
}

static void acc_flush_locked(unsigned t) {
        struct acc *a = &hist.acc[t];
        double avg[_HS_MAX];

        if (a->start == INT64_MIN)
                return;
        for (size_t s = 0; s < _HS_MAX; s++)
                avg[s] = a->n[s] ? a->sum[s] / a->n[s] : NAN;
        for (size_t s = 0; s < _HS_MAX; s++)
                if (!a->n[s])
                        a->min[s] = a->max[s] = NAN;
        tier_put_locked(t, a->start, avg, a->min, a->max);
        acc_reset(a);
}

void history_add(int64_t now, const double values[_HS_MAX]) {
        pthread_mutex_lock(&hist.lock);
        if (!hist.ready)
                goto out;
        tier_put_locked(0, now, values, values, values);
        for (unsigned t = 1; t < HISTORY_TIERS; t++) {
                struct acc *a = &hist.acc[t];
                int64_t b = bucket_of(t, now);

                /* A new bucket (or the clock went back): the old one is done. */
                if (a->start != b) {
                        acc_flush_locked(t);
                        a->start = b;
                }
                for (size_t s = 0; s < _HS_MAX; s++) {
                        double v = values[s];
                        if (isnan(v))
                                continue;
                        if (!a->n[s] || v < a->min[s])
                                a->min[s] = v;
                        if (!a->n[s] || v > a->max[s])
                                a->max[s] = v;
                        a->sum[s] += v;
                        a->n[s]++;
                }
        }
out:
        pthread_mutex_unlock(&hist.lock);
}

/* ---- queries ---------------------------------------------------------------- */

static bool parse_number(const char *s, size_t n, unsigned max, unsigned *ret) {
        unsigned v = 0;

        if (n == 0 || n > 6 || s[0] == '0')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v > max)
                return false;
        *ret = v;
        return true;
}

static int bad(struct module_error *err, const char *field, const char *what) {
        module_error_set(err, 400, "invalid_argument", field, "%s", what);
        return -EINVAL;
}

static int bad_series(struct module_error *err) {
        char names[512];
        size_t off = 0;

        names[0] = '\0';
        for (size_t s = 0; s < _HS_MAX; s++) {
                int w = snprintf(names + off, sizeof names - off, "%s%s", s ? ", " : "",
                                 series_defs[s].name);
                if (w < 0 || (size_t)w >= sizeof names - off)
                        break;
                off += (size_t)w;
        }
        module_error_set(err, 400, "invalid_argument", "series", "series must be one of: %s",
                         names);
        return -EINVAL;
}

/* The finest tier with a resolution dividing step that spans range. */
static bool tier_for(unsigned range, unsigned step, unsigned *ret) {
        for (unsigned t = 0; t < HISTORY_TIERS; t++) {
                const struct history_tier_def *d = &history_tiers[t];
                if (step % d->resolution == 0 && range % d->resolution == 0 &&
                    range <= d->resolution * d->capacity) {
                        *ret = t;
                        return true;
                }
        }
        return false;
}

int history_parse_query(const char *series, const char *range, const char *step,
                        struct history_query *ret, struct module_error *err) {
        static const char range_forms[] =
                "range must be N followed by s, m or h (e.g. 90s, 15m, 1h), from 1s to 24h; "
                "over 1h a whole number of minutes";
        struct history_query q = {.range = 3600};
        size_t n;
        unsigned mult = 1, v;
        bool found = false;

        if (!series)
                return bad_series(err);
        for (size_t s = 0; s < _HS_MAX && !found; s++)
                if (STREQ(series, series_defs[s].name)) {
                        q.series = (history_series_t)s;
                        found = true;
                }
        if (!found)
                return bad_series(err);

        if (range) {
                n = strlen(range);
                if (n < 2)
                        return bad(err, "range", range_forms);
                switch (range[n - 1]) {
                case 's':
                        mult = 1;
                        break;
                case 'm':
                        mult = 60;
                        break;
                case 'h':
                        mult = 3600;
                        break;
                default:
                        return bad(err, "range", range_forms);
                }
                if (!parse_number(range, n - 1, HISTORY_MAX_RANGE, &v) ||
                    v > HISTORY_MAX_RANGE / mult)
                        return bad(err, "range", range_forms);
                q.range = v * mult;
        }

        if (step) {
                if (!parse_number(step, strlen(step), HISTORY_MAX_RANGE, &q.step) ||
                    q.step > q.range || q.range % q.step != 0 ||
                    q.range / q.step > HISTORY_MAX_POINTS)
                        return bad(err, "step",
                                   "step must be whole seconds dividing the range, "
                                   "at most 3600 points");
                if (!tier_for(q.range, q.step, &q.tier)) {
                        if (!tier_for(q.range, q.range, &q.tier))
                                return bad(err, "range", range_forms);
                        module_error_set(err, 400, "invalid_argument", "step",
                                         "step must be a multiple of %u seconds for this range",
                                         history_tiers[q.tier].resolution);
                        return -EINVAL;
                }
        } else {
                /* The finest step of the coarsest-needed tier that gives at
                 * most HISTORY_DEF_POINTS points and divides the range. */
                if (!tier_for(q.range, q.range, &q.tier))
                        return bad(err, "range", range_forms);
                unsigned res = history_tiers[q.tier].resolution;
                unsigned min = (q.range + HISTORY_DEF_POINTS - 1) / HISTORY_DEF_POINTS;
                for (q.step = res; q.step < q.range; q.step += res)
                        if (q.step >= min && q.range % q.step == 0)
                                break;
                if (!tier_for(q.range, q.step, &q.tier))
                        return bad(err, "range", range_forms);
        }
        *ret = q;
        return 0;
}

static json_t *number_or_null(double v) {
        return isnan(v) ? json_null() : json_real(v);
}

int history_query(const struct history_query *q, int64_t now, json_t **ret) {
        const struct history_tier_def *d;
        size_t cap, s = q->series;
        unsigned npoints;
        int64_t step = q->step, last, first;
        json_t *points = NULL, *answer = NULL;
        int r = -ENOMEM;

        if (q->tier >= HISTORY_TIERS || (unsigned)q->series >= _HS_MAX || q->step == 0)
                return -EINVAL;
        d = &history_tiers[q->tier];
        cap = d->capacity;
        npoints = q->range / q->step;
        if (q->step % d->resolution != 0 || npoints == 0 || npoints > HISTORY_MAX_POINTS)
                return -EINVAL;
        last = now / step * step;
        if (now % step < 0)
                last -= step;
        first = last - (int64_t)(npoints - 1) * step;

        points = json_array();
        if (!points)
                return -ENOMEM;
        pthread_mutex_lock(&hist.lock);
        if (!hist.ready) {
                r = -ENODATA;
                goto unlock;
        }
        for (int64_t t = first; t <= last; t += step) {
                const struct tier *ti = &hist.tier[q->tier];
                const struct acc *a = &hist.acc[q->tier];
                double sum = 0, min = NAN, max = NAN;
                unsigned n = 0;
                json_t *p;

                for (int64_t u = t; u < t + step; u += d->resolution) {
                        size_t slot = slot_of(q->tier, u);
                        double av, mn, mx;

                        if (ti->time[slot] == u) {
                                av = ti->avg[s * cap + slot];
                                mn = ti->min[s * cap + slot];
                                mx = ti->max[s * cap + slot];
                        } else if (!ti->raw && a->start == u && a->n[s]) {
                                /* The bucket in progress counts already. */
                                av = a->sum[s] / a->n[s];
                                mn = a->min[s];
                                mx = a->max[s];
                        } else
                                continue;
                        if (isnan(av))
                                continue;
                        sum += av;
                        if (!n || mn < min)
                                min = mn;
                        if (!n || mx > max)
                                max = mx;
                        n++;
                }
                p = json_pack("[I, o, o, o]", (json_int_t)t, number_or_null(n ? sum / n : NAN),
                              number_or_null(min), number_or_null(max));
                if (!p || json_array_append_new(points, p) < 0)
                        goto unlock;
        }
        r = 0;
unlock:
        pthread_mutex_unlock(&hist.lock);
        if (r < 0) {
                json_decref(points);
                return r;
        }
        answer = json_pack("{s:s, s:s, s:I, s:I, s:o}", "series", series_defs[s].name, "unit",
                           series_defs[s].unit, "range", (json_int_t)q->range, "step",
                           (json_int_t)q->step, "points", points);
        if (!answer)
                return -ENOMEM;
        *ret = answer;
        return 0;
}

/* ---- /proc/diskstats -------------------------------------------------------- */

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

static bool u64_view(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned dg;
                if (s[i] < '0' || s[i] > '9')
                        return false;
                dg = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - dg) / 10)
                        return false;
                v = v * 10 + dg;
        }
        *ret = v;
        return true;
}

int history_diskstats_sum(const char *text, size_t len, uint64_t *ret_read, uint64_t *ret_written) {
        const char *p = text, *end = text + len;
        uint64_t rd = 0, wr = 0;

        if (memchr(text, '\0', len))
                return -EINVAL;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *lend = nl ? nl : end, *tok[10];
                size_t tl[10], nt = 0;
                uint64_t v[2];

                while (p < lend && nt < ELEMENTSOF(tok)) {
                        while (p < lend && blank(*p))
                                p++;
                        if (p >= lend)
                                break;
                        tok[nt] = p;
                        while (p < lend && !blank(*p))
                                p++;
                        tl[nt] = (size_t)(p - tok[nt]);
                        nt++;
                }
                p = nl ? nl + 1 : end;
                if (nt == 0)
                        continue;
                /* major minor name reads merged sectors_read ms writes
                 * merged sectors_written … */
                if (nt < 10 || !u64_view(tok[5], tl[5], &v[0]) || !u64_view(tok[9], tl[9], &v[1]))
                        return -EINVAL;
                if (diskstats_device_excluded(tok[2], tl[2]))
                        continue;
                if (__builtin_mul_overflow(v[0], 512, &v[0]) ||
                    __builtin_mul_overflow(v[1], 512, &v[1]) ||
                    __builtin_add_overflow(rd, v[0], &rd) || __builtin_add_overflow(wr, v[1], &wr))
                        return -ERANGE;
        }
        *ret_read = rd;
        *ret_written = wr;
        return 0;
}

/* ---- the sampler thread ----------------------------------------------------- */

enum hsrc { H_STAT, H_MEMINFO, H_LOADAVG, H_NETDEV, H_DISKSTATS, _H_MAX };

static const char *const hsrc_path[_H_MAX] = {
        [H_STAT] = "/proc/stat",           [H_MEMINFO] = "/proc/meminfo",
        [H_LOADAVG] = "/proc/loadavg",     [H_NETDEV] = "/proc/net/dev",
        [H_DISKSTATS] = "/proc/diskstats",
};

/* Counters of the previous sample, for the rates. */
struct counters {
        bool have_cpu, have_net, have_disk;
        struct cpu_times cpu;
        uint64_t rx, tx, rd, wr;
        uint64_t usec; /* monotonic */
};

static struct {
        pthread_mutex_t lock; /* for stop and the condition only */
        pthread_cond_t wake;  /* CLOCK_MONOTONIC */
        pthread_t thread;
        bool running, stop;
        int fd[_H_MAX];
        char *buf;
        size_t cap;
        struct counters prev;
} smp = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .fd = {-1, -1, -1, -1, -1},
};

static int read_src(enum hsrc s, const char **ret, size_t *ret_len) {
        size_t len;
        int r;

        if (smp.fd[s] < 0)
                return -EBADF;
        for (;;) {
                r = pread_all(smp.fd[s], smp.buf, smp.cap, &len);
                if (r != -EFBIG || smp.cap >= READ_BUF_MAX)
                        break;
                char *nb = realloc(smp.buf, smp.cap * 2);
                if (!nb)
                        return -ENOMEM;
                smp.buf = nb;
                smp.cap *= 2;
        }
        if (r < 0)
                return r;
        *ret = smp.buf;
        *ret_len = len;
        return 0;
}

static double rate(uint64_t prev, uint64_t cur, double secs) {
        if (cur < prev || secs <= 0)
                return NAN; /* wrapped or reset: skip this delta */
        return (double)(cur - prev) / secs;
}

/* One sample: values[] filled (NaN where a source failed). */
static void sample(double values[_HS_MAX]) {
        struct counters cur = {.usec = now_usec()};
        double secs = smp.prev.usec ? (double)(cur.usec - smp.prev.usec) / 1e6 : 0;
        const char *text;
        size_t len;

        for (size_t i = 0; i < _HS_MAX; i++)
                values[i] = NAN;

        if (read_src(H_STAT, &text, &len) >= 0) {
                struct proc_stat st;
                if (proc_stat_parse(text, len, &st) >= 0) {
                        struct cpu_percent pc;
                        cur.cpu = st.total;
                        cur.have_cpu = true;
                        values[HS_PROCS_RUNNING] = (double)st.procs_running;
                        if (smp.prev.have_cpu &&
                            cpu_percent_compute(&smp.prev.cpu, &cur.cpu, &pc) >= 0) {
                                values[HS_CPU_BUSY] = pc.busy;
                                values[HS_CPU_USER] = pc.mode[CPU_USER] + pc.mode[CPU_NICE];
                                values[HS_CPU_SYSTEM] = pc.mode[CPU_SYSTEM] + pc.mode[CPU_IRQ] +
                                                        pc.mode[CPU_SOFTIRQ];
                                values[HS_CPU_IOWAIT] = pc.mode[CPU_IOWAIT];
                        }
                        proc_stat_done(&st);
                }
        }
        if (read_src(H_MEMINFO, &text, &len) >= 0) {
                struct meminfo mi;
                if (meminfo_parse(text, len, &mi) >= 0) {
                        values[HS_MEM_USED] =
                                (double)(mi.total > mi.available ? mi.total - mi.available : 0);
                        values[HS_MEM_AVAILABLE] = (double)mi.available;
                        values[HS_SWAP_USED] =
                                (double)(mi.swap_total > mi.swap_free ? mi.swap_total - mi.swap_free
                                                                      : 0);
                }
        }
        if (read_src(H_LOADAVG, &text, &len) >= 0) {
                struct loadavg la;
                if (loadavg_parse(text, len, &la) >= 0)
                        values[HS_LOAD1] = la.load1;
        }
        if (read_src(H_NETDEV, &text, &len) >= 0) {
                struct net_dev *devs = NULL;
                size_t n = 0;
                if (net_dev_parse(text, len, &devs, &n) >= 0) {
                        cur.have_net = true;
                        for (size_t i = 0; i < n; i++) {
                                if (STREQ(devs[i].name, "lo"))
                                        continue;
                                cur.rx += devs[i].rx_bytes;
                                cur.tx += devs[i].tx_bytes;
                        }
                        free(devs);
                        if (smp.prev.have_net) {
                                values[HS_NET_RX] = rate(smp.prev.rx, cur.rx, secs);
                                values[HS_NET_TX] = rate(smp.prev.tx, cur.tx, secs);
                        }
                }
        }
        if (read_src(H_DISKSTATS, &text, &len) >= 0 &&
            history_diskstats_sum(text, len, &cur.rd, &cur.wr) >= 0) {
                cur.have_disk = true;
                if (smp.prev.have_disk) {
                        values[HS_DISK_READ] = rate(smp.prev.rd, cur.rd, secs);
                        values[HS_DISK_WRITE] = rate(smp.prev.wr, cur.wr, secs);
                }
        }
        smp.prev = cur;
}

/* The next wake-up: WAKE_OFFSET_NS into the next wall-clock second, as a
 * CLOCK_MONOTONIC deadline. */
static void next_deadline(struct timespec *ret) {
        struct timespec rt, mono;
        long wait_ns;

        clock_gettime(CLOCK_REALTIME, &rt);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        wait_ns = WAKE_OFFSET_NS - rt.tv_nsec;
        if (wait_ns < 100000000L) /* at least 0.1 s: never twice in one second */
                wait_ns += 1000000000L;
        mono.tv_nsec += wait_ns;
        while (mono.tv_nsec >= 1000000000L) {
                mono.tv_sec++;
                mono.tv_nsec -= 1000000000L;
        }
        *ret = mono;
}

static void *sampler_main(void *arg) {
        (void)arg;
        pthread_mutex_lock(&smp.lock);
        while (!smp.stop) {
                struct timespec deadline;
                double values[_HS_MAX];

                next_deadline(&deadline);
                while (!smp.stop &&
                       pthread_cond_timedwait(&smp.wake, &smp.lock, &deadline) != ETIMEDOUT)
                        ;
                if (smp.stop)
                        break;
                pthread_mutex_unlock(&smp.lock);
                sample(values);
                history_add((int64_t)time(NULL), values);
                pthread_mutex_lock(&smp.lock);
        }
        pthread_mutex_unlock(&smp.lock);
        return NULL;
}

static void sampler_free(void) {
        for (size_t i = 0; i < _H_MAX; i++) {
                if (smp.fd[i] >= 0)
                        close(smp.fd[i]);
                smp.fd[i] = -1;
        }
        free(smp.buf);
        smp.buf = NULL;
        smp.cap = 0;
        smp.prev = (struct counters){0};
}

int history_start(void) {
        pthread_condattr_t attr;
        sigset_t all, old;
        double values[_HS_MAX];
        int r;

        if (smp.running)
                return -EBUSY;
        r = history_setup();
        if (r < 0)
                return r;
        /* A source that cannot be opened gives no samples; the rest work. */
        for (size_t i = 0; i < _H_MAX; i++)
                smp.fd[i] = open(hsrc_path[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
        smp.buf = malloc(READ_BUF_START);
        if (!smp.buf) {
                r = -ENOMEM;
                goto fail;
        }
        smp.cap = READ_BUF_START;
        /* The counters for the first rates. */
        sample(values);

        r = -pthread_condattr_init(&attr);
        if (r < 0)
                goto fail;
        r = -pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (r >= 0)
                r = -pthread_cond_init(&smp.wake, &attr);
        pthread_condattr_destroy(&attr);
        if (r < 0)
                goto fail;

        smp.stop = false;
        /* Signals are for the main thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&smp.thread, NULL, sampler_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                pthread_cond_destroy(&smp.wake);
                goto fail;
        }
        smp.running = true;
        return 0;
fail:
        sampler_free();
        return r;
}

void history_stop(void) {
        if (!smp.running)
                return;
        pthread_mutex_lock(&smp.lock);
        smp.stop = true;
        pthread_cond_signal(&smp.wake);
        pthread_mutex_unlock(&smp.lock);
        pthread_join(smp.thread, NULL);
        pthread_cond_destroy(&smp.wake);
        smp.running = false;
        sampler_free();
}
