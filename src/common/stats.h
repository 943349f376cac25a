/* stats.h — the daemon's own counters, kept by the front (the HTTP layer,
 * the connection budgets, the event stream) and read by whatever reports
 * them (the stewardd module's status, the metrics exposition).  Plain
 * atomics: each is written in one place and read anywhere, without a lock.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counters kept by the HTTP layer. */
extern _Atomic uint64_t stats_connections_open;
extern _Atomic uint64_t stats_requests_total;
extern _Atomic uint64_t stats_event_subscribers;
/* The connection budgets (src/daemon/connbudget.c): connections that have
 * not authenticated now, and since start the connections closed because
 * their address was at its cap, because every stranger was being answered,
 * to make room for a new one, at the header deadline, local peers without
 * a role, and local peers whose uid was at its cap. */
extern _Atomic uint64_t stats_connections_unauthenticated;
extern _Atomic uint64_t stats_closed_source_cap;
extern _Atomic uint64_t stats_closed_budget_full;
extern _Atomic uint64_t stats_closed_displaced;
extern _Atomic uint64_t stats_closed_header_timeout;
extern _Atomic uint64_t stats_closed_local_no_role;
extern _Atomic uint64_t stats_closed_local_cap;
/* Figures of the helper's store, refreshed by the front's poll
 * (src/daemon/events.c) every few seconds and after every change;
 * stats_counters_known stays false until the first answer. */
extern _Atomic bool stats_counters_known;
extern _Atomic uint64_t stats_sessions_open;
extern _Atomic uint64_t stats_audit_records;
extern _Atomic uint64_t stats_logins_ok;
extern _Atomic uint64_t stats_logins_failed;
extern _Atomic uint64_t stats_sources_throttled;
extern _Atomic uint64_t stats_sources_blocked;
/* How often the audit forwarder was started again after it died. */
extern _Atomic uint64_t stats_audit_forward_restarts;

/* The audit forwarding's backlog per syslog target, from the same poll:
 * at most STATS_FORWARD_MAX targets (the setting's bound).  Kept under a
 * lock (strings); stats_forward_get copies them out. */
#define STATS_FORWARD_MAX        8
#define STATS_FORWARD_TARGET_MAX 64
struct stats_forward {
        char target[STATS_FORWARD_TARGET_MAX + 1];
        uint64_t backlog;
};
void stats_forward_set(const struct stats_forward *f, size_t n);
size_t stats_forward_get(struct stats_forward out[static STATS_FORWARD_MAX]);
