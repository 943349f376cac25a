/* history.c — the sampled history of the metrics module (see history.h).
 *
 * Sampling is a hook of the front's one sampler thread (procsampler.h),
 * which ticks in the middle of each wall-clock second and brings /proc/stat
 * parsed; on each tick whose second is a multiple of the interval (so that
 * samples of different daemons line up) the hook reads four more /proc
 * files through descriptors kept open (procfs_source_read()), turns them
 * into one value per series through the parsers of procfs.h, and hands them
 * to history_add() and then to the observer (the event publisher).  Rates
 * (cpu, net, disk) are differences of two samples over the monotonic time
 * between them; a counter that went backwards (a wrap, a reset, an
 * interface that went away) gives no sample for that second.
 *
 * The writer thread takes the queued minutes (history.h) and hands them to
 * the helper; a failed store keeps them queued and is retried after
 * WRITER_RETRY_SECONDS.  A store that worked drops exactly the minutes it
 * sent (by sequence number), so minutes queued meanwhile stay.
 *
 * Ownership: `hist` (tiers, accumulators, the queue) is guarded by hist.lock
 * and its samples are written only by history_add().  `smp` (descriptors,
 * read buffer, previous counters) belongs to the hook while it is
 * subscribed, and to history_start()/history_stop() otherwise.
 */
#include "modules/metrics/history.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "procsampler.h"
#include "util.h"

#define WRITER_RETRY_SECONDS 10
#define MINUTE_TIER          1

const struct history_tier_def history_tiers[HISTORY_TIERS] = {
        {1, 3600, NULL},
        {60, 1440, NULL},
        {60, 43200, "minute"},
        {3600, 17520, "hour"},
};

_Static_assert(HISTORY_MAX_RANGE == 3600U * 17520U, "the hour tier spans the longest range");

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

/* A completed minute waiting for the database. */
struct pending {
        uint64_t seq;
        int64_t start;
        float avg[_HS_MAX], min[_HS_MAX], max[_HS_MAX];
        uint16_t n[_HS_MAX]; /* samples; 0: none */
};

static struct {
        pthread_mutex_t lock;
        pthread_cond_t queued; /* a minute was queued, or the writer must stop */
        bool ready;
        struct tier tier[HISTORY_MEM_TIERS];
        struct acc acc[HISTORY_MEM_TIERS]; /* acc[0] unused: tier 0 is raw */
        struct pending *pending;           /* ring of HISTORY_PENDING_MAX */
        size_t pending_head, pending_n;
        uint64_t next_seq;
        bool writer_stop;
} hist = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .queued = PTHREAD_COND_INITIALIZER,
};

static _Atomic unsigned interval = 1;
static _Atomic(history_observer_fn) observer;
static _Atomic(history_call_fn) backend;

void history_set_backend(history_call_fn call) {
        atomic_store(&backend, call);
}

void history_set_observer(history_observer_fn fn) {
        atomic_store(&observer, fn);
}

unsigned history_interval(void) {
        return atomic_load(&interval);
}

static void acc_reset(struct acc *a) {
        *a = (struct acc){.start = INT64_MIN};
}

static void clear_locked(void) {
        hist.pending_head = hist.pending_n = 0;
        for (size_t t = 0; t < HISTORY_MEM_TIERS; t++) {
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
        hist.pending = calloc(HISTORY_PENDING_MAX, sizeof *hist.pending);
        if (!hist.pending) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t t = 0; t < HISTORY_MEM_TIERS; t++) {
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
                        free(hist.pending);
                        hist.pending = NULL;
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
        for (size_t t = 0; t < HISTORY_MEM_TIERS; t++)
                tier_free(&hist.tier[t]);
        free(hist.pending);
        hist.pending = NULL;
        hist.pending_head = hist.pending_n = 0;
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

/* Queues a completed minute for the database; a full queue drops its
 * oldest. */
static void pending_push_locked(const struct acc *a, const double avg[_HS_MAX]) {
        struct pending *p;
        bool any = false;

        for (size_t s = 0; s < _HS_MAX; s++)
                any = any || a->n[s];
        if (!any || !hist.pending)
                return;
        if (hist.pending_n == HISTORY_PENDING_MAX) {
                hist.pending_head = (hist.pending_head + 1) % HISTORY_PENDING_MAX;
                hist.pending_n--;
        }
        p = &hist.pending[(hist.pending_head + hist.pending_n) % HISTORY_PENDING_MAX];
        hist.pending_n++;
        p->seq = ++hist.next_seq;
        p->start = a->start;
        for (size_t s = 0; s < _HS_MAX; s++) {
                p->n[s] = (uint16_t)(a->n[s] > UINT16_MAX ? UINT16_MAX : a->n[s]);
                p->avg[s] = (float)avg[s];
                p->min[s] = (float)a->min[s];
                p->max[s] = (float)a->max[s];
        }
        pthread_cond_signal(&hist.queued);
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
        if (t == MINUTE_TIER)
                pending_push_locked(a, avg);
        acc_reset(a);
}

void history_close_minute(void) {
        pthread_mutex_lock(&hist.lock);
        if (hist.ready)
                acc_flush_locked(MINUTE_TIER);
        pthread_mutex_unlock(&hist.lock);
}

json_t *history_pending_batch(uint64_t *ret_last) {
        json_t *points = json_array(), *batch = NULL;
        uint64_t last = 0;

        if (!points)
                return NULL;
        pthread_mutex_lock(&hist.lock);
        for (size_t i = 0; hist.ready && i < hist.pending_n; i++) {
                const struct pending *p =
                        &hist.pending[(hist.pending_head + i) % HISTORY_PENDING_MAX];
                json_t *series = json_object(), *pt;
                for (size_t s = 0; series && s < _HS_MAX; s++) {
                        /* The float of a min/max can round past the avg's
                         * float: clamp, as the helper checks the order. */
                        double mn = p->min[s], mx = p->max[s], av = p->avg[s];
                        if (!p->n[s] || !isfinite(av) || !isfinite(mn) || !isfinite(mx))
                                continue;
                        av = av < mn ? mn : av > mx ? mx : av;
                        json_object_set_new(series, series_defs[s].name,
                                            json_pack("[f, f, f, i]", av, mn, mx, (int)p->n[s]));
                }
                pt = json_pack("{s:I, s:o}", "t", (json_int_t)p->start, "series", series);
                if (!pt || json_array_append_new(points, pt) < 0)
                        break;
                last = p->seq;
        }
        pthread_mutex_unlock(&hist.lock);
        if (json_array_size(points) == 0) {
                json_decref(points);
                return NULL;
        }
        batch = json_pack("{s:o}", "points", points);
        if (batch)
                *ret_last = last;
        return batch;
}

void history_pending_ack(uint64_t last) {
        pthread_mutex_lock(&hist.lock);
        while (hist.pending_n > 0 && hist.pending[hist.pending_head].seq <= last) {
                hist.pending_head = (hist.pending_head + 1) % HISTORY_PENDING_MAX;
                hist.pending_n--;
        }
        pthread_mutex_unlock(&hist.lock);
}

int history_refill(json_t *recent) {
        json_t *series = json_object_get(recent, "series"), *rows, *row;
        const char *name;
        size_t cap = history_tiers[MINUTE_TIER].capacity, i;

        if (!json_is_object(series))
                return -EINVAL;
        pthread_mutex_lock(&hist.lock);
        if (!hist.ready) {
                pthread_mutex_unlock(&hist.lock);
                return -ENODATA;
        }
        json_object_foreach(series, name, rows) {
                struct tier *ti = &hist.tier[MINUTE_TIER];
                size_t s = _HS_MAX;
                for (size_t k = 0; k < _HS_MAX; k++)
                        if (STREQ(name, series_defs[k].name))
                                s = k;
                if (s == _HS_MAX || !json_is_array(rows))
                        continue;
                json_array_foreach(rows, i, row) {
                        json_t *jt = json_array_get(row, 0);
                        int64_t t;
                        size_t slot;
                        if (!json_is_integer(jt) || json_array_size(row) != 5)
                                continue;
                        t = json_integer_value(jt);
                        if (t % 60 != 0 || (hist.acc[MINUTE_TIER].start != INT64_MIN &&
                                            t >= hist.acc[MINUTE_TIER].start))
                                continue;
                        slot = slot_of(MINUTE_TIER, t);
                        if (ti->time[slot] > t)
                                continue; /* something newer is there */
                        if (ti->time[slot] != t) {
                                ti->time[slot] = t;
                                for (size_t k = 0; k < _HS_MAX; k++)
                                        ti->avg[k * cap + slot] = ti->min[k * cap + slot] =
                                                ti->max[k * cap + slot] = NAN;
                        }
                        ti->avg[s * cap + slot] = (float)json_number_value(json_array_get(row, 1));
                        ti->min[s * cap + slot] = (float)json_number_value(json_array_get(row, 2));
                        ti->max[s * cap + slot] = (float)json_number_value(json_array_get(row, 3));
                }
        }
        pthread_mutex_unlock(&hist.lock);
        return 0;
}

void history_add(int64_t now, const double values[_HS_MAX]) {
        pthread_mutex_lock(&hist.lock);
        if (!hist.ready)
                goto out;
        tier_put_locked(0, now, values, values, values);
        for (unsigned t = 1; t < HISTORY_MEM_TIERS; t++) {
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

        if (n == 0 || n > 9 || s[0] == '0')
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
                "range must be N followed by s, m, h, d or y (e.g. 90s, 15m, 1h, 7d, 30d, 1y), "
                "from 1s to 2y; over 1h a whole number of minutes, over 30d a whole number of "
                "hours";
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
                case 'd':
                        mult = 86400;
                        break;
                case 'y':
                        mult = 365 * 86400;
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
                /* Raw samples come every interval: finer steps are gaps. */
                if (q.tier == 0 && min < history_interval())
                        min = history_interval();
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

/* A stored tier's points from the helper, with nulls where it had none. */
static int stored_points(const struct history_query *q, const struct history_tier_def *d,
                         int64_t first, unsigned npoints, json_t **ret) {
        history_call_fn call = atomic_load(&backend);
        json_t *answer = NULL, *got, *points;
        size_t k = 0;
        int r;

        if (!call)
                return -ENODATA;
        r = call("metrics_query",
                 json_pack("{s:s, s:s, s:I, s:I, s:I}", "series", series_defs[q->series].name,
                           "tier", d->stored, "from", (json_int_t)first, "step",
                           (json_int_t)q->step, "points", (json_int_t)npoints),
                 &answer);
        if (r < 0)
                return -ENODATA;
        got = json_object_get(answer, "points");
        points = json_array();
        for (unsigned i = 0; points && i < npoints; i++) {
                int64_t t = first + (int64_t)i * q->step;
                json_t *p = json_array_get(got, k);
                /* The helper's rows are in time order; anything else is a
                 * gap, never a misplaced value. */
                if (json_is_array(p) && json_integer_value(json_array_get(p, 0)) == t &&
                    json_array_size(p) == 4) {
                        k++;
                        p = json_pack("[I, O, O, O]", (json_int_t)t, json_array_get(p, 1),
                                      json_array_get(p, 2), json_array_get(p, 3));
                } else
                        p = json_pack("[I, n, n, n]", (json_int_t)t);
                if (!p || json_array_append_new(points, p) < 0) {
                        json_decref(points);
                        points = NULL;
                }
        }
        json_decref(answer);
        if (!points)
                return -ENOMEM;
        *ret = points;
        return 0;
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

        if (d->stored) {
                r = stored_points(q, d, first, npoints, &points);
                if (r < 0)
                        return r;
                goto answer;
        }
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
answer:
        answer = json_pack("{s:s, s:s, s:I, s:I, s:o}", "series", series_defs[s].name, "unit",
                           series_defs[s].unit, "range", (json_int_t)q->range, "step",
                           (json_int_t)q->step, "points", points);
        if (!answer)
                return -ENOMEM;
        *ret = answer;
        return 0;
}

/* ---- /proc/diskstats -------------------------------------------------------- */

int history_diskstats_sum(const char *text, size_t len, uint64_t *ret_read, uint64_t *ret_written) {
        _cleanup_free_ struct diskstat *disks = NULL;
        uint64_t rd = 0, wr = 0;
        size_t n = 0;
        int r;

        r = diskstats_parse(text, len, &disks, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                uint64_t a, b;

                if (diskstats_device_excluded(disks[i].name, strlen(disks[i].name)))
                        continue;
                if (__builtin_mul_overflow(disks[i].v[DS_SECTORS_READ], 512, &a) ||
                    __builtin_mul_overflow(disks[i].v[DS_SECTORS_WRITTEN], 512, &b) ||
                    __builtin_add_overflow(rd, a, &rd) || __builtin_add_overflow(wr, b, &wr))
                        return -ERANGE;
        }
        *ret_read = rd;
        *ret_written = wr;
        return 0;
}

/* ---- sampling ----------------------------------------------------------------
 *
 * A hook of the front's sampler thread (procsampler.h): it runs on every
 * tick, and samples on the ticks whose second is a multiple of the
 * interval.  /proc/stat comes with the tick; the other sources are read
 * here. */

enum hsrc { H_MEMINFO, H_LOADAVG, H_NETDEV, H_DISKSTATS, _H_MAX };

/* Counters of the previous sample, for the rates. */
struct counters {
        bool have_cpu, have_net, have_disk;
        struct cpu_times cpu;
        uint64_t rx, tx, rd, wr;
        uint64_t usec; /* monotonic */
};

/* Used by the hook only, one tick at a time; by history_start()/stop()
 * when no hook is subscribed. */
static struct {
        bool running, writing;
        pthread_t writer;
        struct procfs_source src[_H_MAX];
        struct procfs_buf buf;
        struct counters prev;
} smp = {
        .src =
                {
                        [H_MEMINFO] = {.path = "/proc/meminfo", .max = 256UL << 10, .fd = -1},
                        [H_LOADAVG] = {.path = "/proc/loadavg", .max = 4UL << 10, .fd = -1},
                        [H_NETDEV] = {.path = "/proc/net/dev", .max = 4UL << 20, .fd = -1},
                        [H_DISKSTATS] = {.path = "/proc/diskstats", .max = 4UL << 20, .fd = -1},
                },
};

static int read_src(enum hsrc s, const char **ret, size_t *ret_len) {
        return procfs_source_read(&smp.src[s], &smp.buf, ret, ret_len);
}

static double rate(uint64_t prev, uint64_t cur, double secs) {
        if (cur < prev || secs <= 0)
                return NAN; /* wrapped or reset: skip this delta */
        return (double)(cur - prev) / secs;
}

static void sample_cpu(const struct proc_stat *st, struct counters *cur, double values[_HS_MAX]) {
        struct cpu_percent pc;

        if (!st)
                return;
        cur->cpu = st->total;
        cur->have_cpu = true;
        values[HS_PROCS_RUNNING] = (double)st->procs_running;
        if (smp.prev.have_cpu && cpu_percent_compute(&smp.prev.cpu, &cur->cpu, &pc) >= 0) {
                values[HS_CPU_BUSY] = pc.busy;
                values[HS_CPU_USER] = pc.mode[CPU_USER] + pc.mode[CPU_NICE];
                values[HS_CPU_SYSTEM] =
                        pc.mode[CPU_SYSTEM] + pc.mode[CPU_IRQ] + pc.mode[CPU_SOFTIRQ];
                values[HS_CPU_IOWAIT] = pc.mode[CPU_IOWAIT];
        }
}

static void sample_net(struct counters *cur, double secs, double values[_HS_MAX]) {
        _cleanup_free_ struct net_dev *devs = NULL;
        const char *text;
        size_t len, n = 0;

        if (read_src(H_NETDEV, &text, &len) < 0 || net_dev_parse(text, len, &devs, &n) < 0)
                return;
        cur->have_net = true;
        for (size_t i = 0; i < n; i++) {
                if (STREQ(devs[i].name, "lo"))
                        continue;
                cur->rx += devs[i].rx_bytes;
                cur->tx += devs[i].tx_bytes;
        }
        if (smp.prev.have_net) {
                values[HS_NET_RX] = rate(smp.prev.rx, cur->rx, secs);
                values[HS_NET_TX] = rate(smp.prev.tx, cur->tx, secs);
        }
}

/* One sample: values[] filled (NaN where a source failed). */
static void sample(const struct procsampler_tick *tick, double values[_HS_MAX]) {
        struct counters cur = {.usec = tick->usec};
        double secs = smp.prev.usec && cur.usec > smp.prev.usec
                              ? (double)(cur.usec - smp.prev.usec) / 1e6
                              : 0;
        const char *text;
        size_t len;

        for (size_t i = 0; i < _HS_MAX; i++)
                values[i] = NAN;

        sample_cpu(tick->stat, &cur, values);
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
        sample_net(&cur, secs, values);
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

static void on_tick(const struct procsampler_tick *tick) {
        unsigned every = history_interval();
        double values[_HS_MAX];
        history_observer_fn obs;

        /* The priming call only takes the counters for the first rates. */
        if (!tick->prime && tick->t % (int64_t)every != 0)
                return;
        sample(tick, values);
        if (tick->prime)
                return;
        history_add(tick->t, values);
        series_set_latest(tick->t, values);
        obs = atomic_load(&observer);
        if (obs)
                obs(tick->t, every, values);
}

void history_set_interval(unsigned seconds) {
        /* The sampler ticks every second: the next tick on a multiple of
         * the new interval samples. */
        if (seconds < HISTORY_MIN_INTERVAL || seconds > HISTORY_MAX_INTERVAL)
                return;
        atomic_store(&interval, seconds);
}

/* Stores the queued minutes; false when the helper refused or is away. */
static bool store_pending(history_call_fn call) {
        uint64_t last = 0;
        json_t *batch = history_pending_batch(&last), *ret = NULL;
        int r;

        if (!batch)
                return true;
        r = call("metrics_store", batch, &ret);
        json_decref(ret);
        if (r < 0)
                return false;
        history_pending_ack(last);
        return true;
}

static void *writer_main(void *arg) {
        history_call_fn call = atomic_load(&backend);
        json_t *recent = NULL;
        int64_t now = (int64_t)time(NULL);

        (void)arg;
        (void)pthread_setname_np(pthread_self(), "history-writer");
        if (call("metrics_recent", json_pack("{s:I}", "from", (json_int_t)(now - 86400)),
                 &recent) >= 0)
                (void)history_refill(recent);
        json_decref(recent);

        pthread_mutex_lock(&hist.lock);
        for (;;) {
                bool stop;
                while (!hist.writer_stop && hist.pending_n == 0)
                        pthread_cond_wait(&hist.queued, &hist.lock);
                stop = hist.writer_stop;
                pthread_mutex_unlock(&hist.lock);
                if (!store_pending(call) && !stop) {
                        /* Retry later; the queue is bounded meanwhile. */
                        struct timespec until;
                        clock_gettime(CLOCK_REALTIME, &until);
                        until.tv_sec += WRITER_RETRY_SECONDS;
                        pthread_mutex_lock(&hist.lock);
                        if (!hist.writer_stop)
                                pthread_cond_timedwait(&hist.queued, &hist.lock, &until);
                        pthread_mutex_unlock(&hist.lock);
                }
                pthread_mutex_lock(&hist.lock);
                if (stop)
                        break;
        }
        pthread_mutex_unlock(&hist.lock);
        return NULL;
}

static void sampler_free(void) {
        for (size_t i = 0; i < _H_MAX; i++)
                procfs_source_close(&smp.src[i]);
        procfs_buf_free(&smp.buf);
        smp.prev = (struct counters){0};
}

/* The writer only builds small JSON: a small stack is plenty, and keeps the
 * untouched part of 8 MiB out of the address space. */
#define THREAD_STACK (256UL * 1024)

static int spawn(pthread_t *t, void *(*fn)(void *)) {
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        r = -pthread_attr_init(&attr);
        if (r < 0)
                return r;
        (void)pthread_attr_setstacksize(&attr, THREAD_STACK);
        /* Signals are for the main thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(t, &attr, fn, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        return r;
}

int history_start(void) {
        int r;

        if (smp.running)
                return -EBUSY;
        r = history_setup();
        if (r < 0)
                return r;
        /* A source that cannot be opened gives no samples; the rest work. */
        for (size_t i = 0; i < _H_MAX; i++)
                (void)procfs_source_open(&smp.src[i]);
        /* Takes the counters for the first rates, then samples every tick. */
        r = procsampler_subscribe(on_tick);
        if (r < 0) {
                sampler_free();
                return r;
        }
        smp.running = true;
        if (atomic_load(&backend)) {
                pthread_mutex_lock(&hist.lock);
                hist.writer_stop = false;
                pthread_mutex_unlock(&hist.lock);
                smp.writing = spawn(&smp.writer, writer_main) >= 0;
        }
        return 0;
}

void history_stop(void) {
        if (!smp.running)
                return;
        procsampler_unsubscribe(on_tick);
        if (smp.writing) {
                /* The minute in progress goes to the database too; the next
                 * start merges the rest of it in. */
                history_close_minute();
                pthread_mutex_lock(&hist.lock);
                hist.writer_stop = true;
                pthread_cond_signal(&hist.queued);
                pthread_mutex_unlock(&hist.lock);
                pthread_join(smp.writer, NULL);
                smp.writing = false;
        }
        smp.running = false;
        sampler_free();
}
