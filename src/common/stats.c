/* stats.c — the storage of the daemon's counters (stats.h). */
#include "stats.h"

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
