/* stats.c — the storage of the daemon's counters (stats.h). */
#include "stats.h"

#include <pthread.h>
#include <string.h>

_Atomic uint64_t stats_connections_open;
_Atomic uint64_t stats_requests_total;
_Atomic uint64_t stats_event_subscribers;
_Atomic uint64_t stats_connections_unauthenticated;
_Atomic uint64_t stats_closed_source_cap;
_Atomic uint64_t stats_closed_budget_full;
_Atomic uint64_t stats_closed_displaced;
_Atomic uint64_t stats_closed_header_timeout;
_Atomic uint64_t stats_closed_local_no_role;
_Atomic uint64_t stats_closed_local_cap;
_Atomic bool stats_counters_known;
_Atomic uint64_t stats_sessions_open;
_Atomic uint64_t stats_audit_records;
_Atomic uint64_t stats_logins_ok;
_Atomic uint64_t stats_logins_failed;
_Atomic uint64_t stats_sources_throttled;
_Atomic uint64_t stats_sources_blocked;
_Atomic uint64_t stats_audit_forward_restarts;

static pthread_mutex_t forward_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stats_forward forward[STATS_FORWARD_MAX];
static size_t n_forward;

void stats_forward_set(const struct stats_forward *f, size_t n) {
        if (n > STATS_FORWARD_MAX)
                n = STATS_FORWARD_MAX;
        pthread_mutex_lock(&forward_lock);
        memcpy(forward, f, n * sizeof *f);
        n_forward = n;
        pthread_mutex_unlock(&forward_lock);
}

size_t stats_forward_get(struct stats_forward out[static STATS_FORWARD_MAX]) {
        size_t n;

        pthread_mutex_lock(&forward_lock);
        n = n_forward;
        memcpy(out, forward, n * sizeof *out);
        pthread_mutex_unlock(&forward_lock);
        return n;
}
