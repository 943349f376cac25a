/* metricsdb.h — the stored tiers of the metrics history, in the helper's
 * database (STATE/steward.db, tables metrics_minute and metrics_hour).
 *
 * The front samples (it runs unprivileged and owns the sampler) and hands
 * each completed minute to the helper; only the helper opens the database.
 * Everything the front sends is validated here as if it came from a
 * stranger: known series names only, finite numbers with min <= avg <= max,
 * sample counts within what one minute can hold, timestamps on a minute
 * boundary and near the helper's own clock, and a bounded batch.
 *
 *      metrics_minute  one row per series and minute: avg, min, max, n
 *                      (samples in the minute); kept METRICSDB_MINUTE_KEEP
 *      metrics_hour    one row per series and hour, rolled up from the
 *                      minutes (avg weighted by n); kept METRICSDB_HOUR_KEEP
 *
 * A minute stored twice (a front that stopped mid-minute hands over the part
 * it had, and the next front the rest) is merged, not replaced: the averages
 * are weighted by their sample counts.  Every store re-rolls the hours it
 * touched and deletes rows past retention, in one transaction.
 *
 * Functions return >= 0 or -errno and fill a module_error; none logs.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "module.h"
#include "store.h"

#define METRICSDB_MINUTE_KEEP (30LL * 86400)
#define METRICSDB_HOUR_KEEP   (730LL * 86400)
#define METRICSDB_MAX_BATCH   180          /* minutes in one store */
#define METRICSDB_MAX_PAST    (3LL * 3600) /* how old a stored minute may be */
#define METRICSDB_MAX_FUTURE  120LL
#define METRICSDB_MAX_PER_MIN 120 /* samples in one minute (1 s interval, jitter) */
#define METRICSDB_RECENT_SPAN (25LL * 3600)

/* {"points": [{"t": T, "series": {"cpu.busy": [avg, min, max, n], …}}, …]} */
int metricsdb_store(struct store *s, json_t *batch, int64_t now, struct module_error *e);

/* {"series": NAME, "tier": "minute"|"hour", "from": T, "step": S, "points": N}
 * → {"points": [[t, avg, min, max], …]}: the buckets [from + k·step,
 * from + (k+1)·step) for k < N that hold data, oldest first. */
int metricsdb_query(struct store *s, json_t *args, struct module_error *e, json_t **ret);

/* {"from": T} → {"series": {NAME: [[t, avg, min, max, n], …], …}}: every
 * stored minute since T (at most METRICSDB_RECENT_SPAN ago), for the front to
 * refill its day of minutes after a restart. */
int metricsdb_recent(struct store *s, json_t *args, int64_t now, struct module_error *e,
                     json_t **ret);
