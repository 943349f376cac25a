/* stewardd.h — the `stewardd` module owns the daemon's own configuration.
 *
 * The live configuration is one struct guarded by a lock; readers take a
 * copy (stewardd_config_get), so request threads never see a half-applied
 * change.  The config file is the source of truth: every change through the
 * API is written to it atomically first and only then made live, and SIGHUP
 * re-reads it.  A file that fails to parse is never made live.
 */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define STEWARD_MAX_GROUPS     16
#define STEWARD_GROUP_NAME_MAX 32
#define STEWARD_LIST_ITEM_MAX  48 /* a group name, or a network like "2001:db8::/32" */

/* A short list of short strings (group names, networks), copyable by value. */
struct steward_groups {
        char name[STEWARD_MAX_GROUPS][STEWARD_LIST_ITEM_MAX + 1];
        size_t n;
};

struct steward_config {
        enum log_level log_level;
        unsigned max_connections;
        unsigned max_connections_per_ip;
        unsigned max_unauthenticated_connections;
        unsigned max_unauthenticated_per_source;
        unsigned max_local_connections_per_uid;
        unsigned max_header_bytes;
        unsigned max_body_bytes;
        unsigned max_json_depth;
        unsigned idle_timeout;   /* seconds */
        unsigned header_timeout; /* seconds, to the end of a request's headers */
        unsigned session_idle_timeout;
        unsigned session_lifetime;
        unsigned max_token_lifetime; /* seconds; every token expires within it */
        bool allow_root_login;
        struct steward_groups admin_groups;
        struct steward_groups operator_groups;
        struct steward_groups monitor_groups;
        unsigned throttle_free_attempts;
        unsigned throttle_base_delay;
        unsigned throttle_max_delay;
        unsigned throttle_block_after;
        unsigned throttle_block_seconds;
        bool discovery_enabled;
        unsigned discovery_rate_per_source;
        struct steward_groups metrics_allow_from;
        unsigned max_event_subscribers;
        struct steward_groups home_roots; /* where the users module may put homes */
};

/* Built-in defaults. */
void stewardd_config_defaults(struct steward_config *c);

/* A consistent copy of the live configuration. */
void stewardd_config_get(struct steward_config *ret);

/* Sets the config file path and loads it (a missing file means defaults).
 * level_override >= 0 (the --log-level option) wins over the file's log_level,
 * at this load and later ones, until a change through the API sets log_level.  On a parse error
 * returns -EINVAL and a message "FILE:LINE: …" in err. */
int stewardd_config_init(const char *path, int level_override, char *err, size_t err_len);

/* Re-reads the config file (SIGHUP, the reload command).  On error the live
 * configuration is unchanged. */
int stewardd_config_reload(char *err, size_t err_len);

/* Parses config text into *ret without touching the live configuration. */
int stewardd_config_parse(const char *text, size_t len, const char *path,
                          struct steward_config *ret, char *err, size_t err_len);

/* Facts about this daemon for status/fullstatus: set once at start-up
 * (listeners, TLS fingerprint, paths); the module takes the reference. */
void stewardd_set_facts(json_t *facts);

/* A function returning facts that change while the daemon runs (e.g. the
 * discovery counters), merged into fullstatus; it returns a new object. */
void stewardd_set_live_facts(json_t *(*fn)(void));
/* Calls that function: a new object, or NULL when none was set. */
json_t *stewardd_live_facts(void);

/* The state directory (from the facts), or NULL before they are set. */
const char *stewardd_state_dir(void);

/* Counters kept by the HTTP layer. */
extern _Atomic uint64_t stewardd_connections_open;
extern _Atomic uint64_t stewardd_requests_total;
extern _Atomic uint64_t stewardd_event_subscribers;
/* The connection budgets (src/daemon/connbudget.c): connections that have
 * not authenticated now, and since start the connections closed because
 * their address was at its cap, because every stranger was being answered,
 * to make room for a new one, at the header deadline, local peers without
 * a role, and local peers whose uid was at its cap. */
extern _Atomic uint64_t stewardd_connections_unauthenticated;
extern _Atomic uint64_t stewardd_closed_source_cap;
extern _Atomic uint64_t stewardd_closed_budget_full;
extern _Atomic uint64_t stewardd_closed_displaced;
extern _Atomic uint64_t stewardd_closed_header_timeout;
extern _Atomic uint64_t stewardd_closed_local_no_role;
extern _Atomic uint64_t stewardd_closed_local_cap;
/* Figures of the helper's store, refreshed by the front's poll
 * (src/daemon/events.c) every few seconds and after every change;
 * stewardd_counters_known stays false until the first answer. */
extern _Atomic bool stewardd_counters_known;
extern _Atomic uint64_t stewardd_sessions_open;
extern _Atomic uint64_t stewardd_audit_records;
extern _Atomic uint64_t stewardd_logins_ok;
extern _Atomic uint64_t stewardd_logins_failed;
extern _Atomic uint64_t stewardd_sources_throttled;
extern _Atomic uint64_t stewardd_sources_blocked;

/* The config file's path (as given with --config), or NULL before init.
 * Modules with files of their own keep them next to it. */
const char *stewardd_config_path(void);
