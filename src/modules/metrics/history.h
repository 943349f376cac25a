/* history.h — the metrics module's history: a fixed set of series sampled
 * every `metrics:interval` seconds (default 1) and kept in tiers of
 * decreasing resolution, like an RRD.
 *
 * A tier is a resolution (seconds a point covers) and a capacity (points
 * per series); each point holds avg, min and max.  The first tier holds the
 * raw samples (avg = min = max), every later tier aggregates the raw samples
 * of its own buckets:
 *
 *      tier 0: 1 s    × 3600   in memory (the last hour)
 *      tier 1: 60 s   × 1440   in memory (the last day)
 *      tier 2: 60 s   × 43200  in the helper's database (30 days)
 *      tier 3: 3600 s × 17520  in the helper's database (2 years)
 *
 * Each completed minute of tier 1 is also queued for the database and handed
 * to the helper by a writer thread of its own (a helper call may wait behind
 * a slow PAM login; the sampler must not), through the backend the front
 * sets; the helper rolls the hours up and enforces retention.  At start the
 * writer refills tier 1 from the database, so a restart keeps the day; the
 * raw hour starts empty.  A query picks the finest tier whose resolution
 * divides its step and whose span covers its range; the stored tiers are
 * answered by the helper.
 *
 * Invariants:
 *  - Every buffer is allocated once by history_setup() and never grows; all
 *    of it is guarded by one mutex.  Slots carry the unix time they hold, so
 *    a slot overwritten by a newer round of its ring, or never written, reads
 *    as "no sample" (null), never as wrong data.
 *  - history_add() is the only writer of samples, for the sampler thread and
 *    the tests alike.  A value that is NaN (a source that failed, a counter
 *    that went backwards) is no sample.
 *  - The queue of minutes for the database is bounded
 *    (HISTORY_PENDING_MAX); past it the oldest minute is dropped.
 *  - Functions return >= 0 or -errno; none of them logs.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "series.h"

/* The series themselves are neutral ground (series.h): the helper's store
 * keeps them too. */
typedef series_t history_series_t;

#define HISTORY_TIERS        4
#define HISTORY_MEM_TIERS    2               /* tiers 0 and 1 are in memory */
#define HISTORY_MAX_RANGE    (730U * 86400U) /* seconds: 2 years */
#define HISTORY_MAX_POINTS   SERIES_MAX_POINTS /* in one answer */
#define HISTORY_DEF_POINTS   1000U           /* at most, when the step is not given */
#define HISTORY_PENDING_MAX  180U            /* minutes waiting for the database */
#define HISTORY_MIN_INTERVAL 1U
#define HISTORY_MAX_INTERVAL 60U

struct history_tier_def {
        unsigned resolution; /* seconds a point covers */
        unsigned capacity;   /* points per series */
        const char *stored;  /* NULL: in memory; else the helper's tier ("minute", "hour") */
};
extern const struct history_tier_def history_tiers[HISTORY_TIERS];

/* "cpu.busy" …, and "percent", "bytes", "bytes_per_second" or "count". */
static inline const char *history_series_name(history_series_t s) {
        return series_name(s);
}
static inline const char *history_series_unit(history_series_t s) {
        return series_unit(s);
}

/* A checked query: what GET /api/v1/metrics/history answers. */
struct history_query {
        history_series_t series;
        unsigned range; /* seconds */
        unsigned step;  /* seconds, a multiple of the tier's resolution */
        unsigned tier;
};

/* Parses the three query arguments (NULL: absent; range defaults to 1h, step
 * to the finest one giving at most HISTORY_DEF_POINTS points).  range is
 * N followed by s, m, h, d or y (365 days), 1 s to 2 years; step is whole
 * seconds dividing the range.  On failure fills err (400 invalid_argument,
 * naming the field and the accepted forms) and returns -EINVAL. */
int history_parse_query(const char *series, const char *range, const char *step,
                        struct history_query *ret, struct module_error *err);

/* Allocates the memory tiers (idempotent) / frees them.  Memory: 13 series
 * × (3600 × 4 bytes + 1440 × 12 bytes) + the slot times, about 440 KiB. */
int history_setup(void);
void history_teardown(void);
/* Forgets every sample and every queued minute (tests). */
void history_clear(void);

/* One sample of every series at unix time now (seconds); NaN: none. */
void history_add(int64_t now, const double values[_HS_MAX]);

/* The answer to q at unix time now:
 * {"series", "unit", "range", "step", "points": [[t, avg, min, max], …]},
 * oldest first, each point covering [t, t + step), the last one the step in
 * progress.  A stored tier asks the backend; without one, -ENODATA. */
int history_query(const struct history_query *q, int64_t now, json_t **ret);

/* How the history reaches the helper: call(op, args, &ret) runs a helper
 * operation (metrics_store, metrics_query, metrics_recent; args taken
 * over) and returns >= 0 or -errno.  Set by the front before
 * history_start(); NULL: no database (tests, and the memory tiers only). */
typedef int (*history_call_fn)(const char *op, json_t *args, json_t **ret);
void history_set_backend(history_call_fn call);

/* Called on the sampler thread after every sample (t, the interval, the
 * values; NaN: none).  Must not block.  NULL: none. */
typedef void (*history_observer_fn)(int64_t t, unsigned interval, const double values[_HS_MAX]);
void history_set_observer(history_observer_fn fn);

/* The sampling interval in seconds (HISTORY_MIN_INTERVAL..MAX); a change
 * takes effect at the next sample. */
void history_set_interval(unsigned seconds);
unsigned history_interval(void);

/* The queued minutes as a metrics_store batch
 * ({"points": [{"t", "series": {NAME: [avg, min, max, n]}}]}, at most
 * HISTORY_PENDING_MAX), and the sequence number of the last one; NULL when
 * none is queued.  history_pending_ack() drops them once stored.  The
 * writer thread's path, and the tests'. */
json_t *history_pending_batch(uint64_t *ret_last);
void history_pending_ack(uint64_t last);
/* Closes the minute in progress as it is (at shutdown), so that it can be
 * stored. */
void history_close_minute(void);
/* Puts stored minutes ({"series": {NAME: [[t, avg, min, max, n], …]}}, what
 * metrics_recent answers) back into tier 1; slots holding something newer
 * are kept. */
int history_refill(json_t *recent);

/* Opens its /proc files and subscribes to the front's sampler thread
 * (procsampler.h), and starts the writer thread when there is a backend;
 * stop leaves the sampler and joins the writer, storing the minute in
 * progress first.  The tiers stay until history_teardown(). */
int history_start(void);
void history_stop(void);

/* /proc/diskstats summed over the devices node_exporter counts, in bytes
 * (pure: text in, totals out). */
int history_diskstats_sum(const char *text, size_t len, uint64_t *ret_read, uint64_t *ret_written);
