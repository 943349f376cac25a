/* history.h — the metrics module's recent history: a fixed set of series
 * sampled once a second and kept in tiers of decreasing resolution.
 *
 * A tier is a resolution (seconds a point covers) and a capacity (points
 * per series); each point holds avg, min and max.  The first tier holds the
 * raw samples (avg = min = max), every later tier aggregates the raw samples
 * of its own buckets.  The tiers in memory today:
 *
 *      tier 0: 1 s  × 3600 (the last hour)
 *      tier 1: 60 s × 1440 (the last day)
 *
 * Tiers kept on disk would be further rows of the same table, fed the same
 * way.  A query picks the finest tier whose resolution divides its step and
 * whose span covers its range.
 *
 * Invariants:
 *  - Every buffer is allocated once by history_setup() and never grows; all
 *    of it is guarded by one mutex.  Slots carry the unix time they hold, so
 *    a slot overwritten by a newer round of its ring, or never written, reads
 *    as "no sample" (null), never as wrong data.
 *  - history_add() is the only writer, for the sampler thread and the tests
 *    alike.  A value that is NaN (a source that failed, a counter that went
 *    backwards) is no sample.
 *  - Functions return >= 0 or -errno; none of them logs.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

typedef enum {
        HS_CPU_BUSY,
        HS_CPU_USER,
        HS_CPU_SYSTEM,
        HS_CPU_IOWAIT,
        HS_MEM_USED,
        HS_MEM_AVAILABLE,
        HS_SWAP_USED,
        HS_LOAD1,
        HS_NET_RX,
        HS_NET_TX,
        HS_DISK_READ,
        HS_DISK_WRITE,
        HS_PROCS_RUNNING,
        _HS_MAX,
} history_series_t;

#define HISTORY_TIERS      2
#define HISTORY_MAX_RANGE  86400U /* seconds */
#define HISTORY_MAX_POINTS 3600U  /* in one answer */
#define HISTORY_DEF_POINTS 1000U  /* at most, when the step is not given */

struct history_tier_def {
        unsigned resolution; /* seconds a point covers */
        unsigned capacity;   /* points per series */
};
extern const struct history_tier_def history_tiers[HISTORY_TIERS];

/* "cpu.busy" …, and "percent", "bytes", "bytes_per_second" or "count". */
const char *history_series_name(history_series_t s);
const char *history_series_unit(history_series_t s);

/* A checked query: what GET /api/v1/metrics/history answers. */
struct history_query {
        history_series_t series;
        unsigned range; /* seconds */
        unsigned step;  /* seconds, a multiple of the tier's resolution */
        unsigned tier;
};

/* Parses the three query arguments (NULL: absent; range defaults to 1h, step
 * to the finest one giving at most HISTORY_DEF_POINTS points).  range is
 * N followed by s, m or h, 1 s to 24 h; step is whole seconds dividing the
 * range.  On failure fills err (400 invalid_argument, naming the field and
 * the accepted forms) and returns -EINVAL. */
int history_parse_query(const char *series, const char *range, const char *step,
                        struct history_query *ret, struct module_error *err);

/* Allocates the tiers (idempotent) / frees them.  Memory: 13 series ×
 * (3600 × 4 bytes + 1440 × 12 bytes) + the slot times, about 440 KiB. */
int history_setup(void);
void history_teardown(void);
/* Forgets every sample (tests). */
void history_clear(void);

/* One sample of every series at unix time now (seconds); NaN: none. */
void history_add(int64_t now, const double values[_HS_MAX]);

/* The answer to q at unix time now:
 * {"series", "unit", "range", "step", "points": [[t, avg, min, max], …]},
 * oldest first, each point covering [t, t + step), the last one the step in
 * progress. */
int history_query(const struct history_query *q, int64_t now, json_t **ret);

/* The sampler thread: opens its /proc files and starts sampling once a
 * second; stop joins it.  The tiers stay until history_teardown(). */
int history_start(void);
void history_stop(void);

/* /proc/diskstats summed over the devices node_exporter counts, in bytes
 * (pure: text in, totals out). */
int history_diskstats_sum(const char *text, size_t len, uint64_t *ret_read, uint64_t *ret_written);
