/* series.h — the metric series Steward samples and keeps: their ids, wire
 * names and units.
 *
 * Neutral ground: the metrics module samples them and answers queries
 * (modules/metrics/history.h), the front streams them (events.c), and the
 * helper's store validates and keeps each minute of them (metricsdb.c)
 * without including any module.  The list is the one place a series is
 * declared; series_defs is indexed by series_t (designated initialisers).
 */
#pragma once

#include <stdint.h>

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
} series_t;

/* Points in one answer of a series query, whoever answers it. */
#define SERIES_MAX_POINTS 3600U

struct series_def {
        const char *name; /* "cpu.busy" … */
        const char *unit; /* "percent", "bytes", "bytes_per_second" or "count" */
};
extern const struct series_def series_defs[_HS_MAX];

/* NULL for a value that is no series. */
const char *series_name(series_t s);
const char *series_unit(series_t s);

/* The last sample of every series (NaN: none) and its unix time; 0 before
 * the first.  Thread-safe: the sampler sets, anyone reads a copy. */
void series_set_latest(int64_t t, const double values[_HS_MAX]);
int64_t series_latest(double ret[_HS_MAX]);
