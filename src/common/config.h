/* config.h — the daemon's own configuration: core, not a module.
 *
 * struct steward_config holds the settings of the --config file
 * (/etc/steward/stewardd.conf); its rows (config.c) are a settings file of
 * the registry (settingsfile.c), published through the stewardd module's API.
 * The live configuration is one struct guarded by the registry; readers take
 * a copy (steward_config_get), so request threads never see a half-applied
 * change.  The config file is the source of truth: every change through the
 * API is written to it atomically first and only then made live, and SIGHUP
 * re-reads it.  A file that fails to parse is never made live.
 *
 * Also here: facts about the running daemon (listeners, TLS fingerprint,
 * paths) that the front, the helper and the modules read.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "module.h"

#define STEWARD_MAX_GROUPS     SETTING_LIST_MAX
#define STEWARD_GROUP_NAME_MAX 32
#define STEWARD_LIST_ITEM_MAX  SETTING_LIST_ITEM_MAX
#define STEWARD_PATH_MAX       255

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
        struct setting_list admin_groups;
        struct setting_list operator_groups;
        struct setting_list monitor_groups;
        unsigned throttle_free_attempts;
        unsigned throttle_base_delay;
        unsigned throttle_max_delay;
        unsigned throttle_block_after;
        unsigned throttle_block_seconds;
        bool discovery_enabled;
        unsigned discovery_rate_per_source;
        struct setting_list scrape_allow_from;
        unsigned max_event_subscribers;
        struct setting_list home_roots; /* where the users module may put homes */
        bool sd_peers;        /* GET /api/v1/sd lists the peers a sweep finds */
        unsigned sd_interval; /* seconds between two sweeps */
        /* Where every audit record is also sent (syslog5424.h's targets),
         * and the syslog facility (an index in syslog_facility_names). */
        struct setting_wide_list syslog_targets;
        int syslog_facility;
        char syslog_ca_file[STEWARD_PATH_MAX + 1]; /* "": the system's CAs */
};

/* The config file's rows and struct, for the module that publishes them. */
extern const settings_file_t steward_config_file;

/* Built-in defaults (the rows' defaults). */
void steward_config_defaults(struct steward_config *c);

/* A consistent copy of the live configuration. */
void steward_config_get(struct steward_config *ret);

/* Sets the config file path and loads it (a missing file means defaults).
 * level_override >= 0 (the --log-level option) wins over the file's log_level,
 * at this load and later ones, until a change through the API sets log_level.  On a parse error
 * returns -EINVAL and a message "FILE:LINE: …" in err. */
int steward_config_init(const char *path, int level_override, char *err, size_t err_len);

/* Re-reads the config file (the reload command; SIGHUP goes through
 * modules_make_live).  On error the live configuration is unchanged. */
int steward_config_reload(bool helper, char *err, size_t err_len);

/* Parses config text into *ret without touching the live configuration. */
int steward_config_parse(const char *text, size_t len, const char *path, struct steward_config *ret,
                         char *err, size_t err_len);

/* The config file's path (as given with --config), or NULL before init.
 * Modules with files of their own keep them next to it. */
const char *steward_config_path(void);

/* The --log-level override in force (as steward_config_init took it, -1 when
 * none or when a change through the API has set log_level since). */
int steward_config_level_override(void);

/* Facts about this daemon for status/fullstatus: set once at start-up
 * (listeners, TLS fingerprint, paths); takes the reference. */
void steward_set_facts(json_t *facts);
/* A new reference to the facts (NULL before they are set), and when they
 * were set (monotonic and real time, µs), either pointer may be NULL. */
json_t *steward_facts(uint64_t *ret_started_usec, uint64_t *ret_started_realtime);

/* A function returning facts that change while the daemon runs (e.g. the
 * discovery counters), merged into fullstatus; it returns a new object. */
void steward_set_live_facts(json_t *(*fn)(void));
/* Calls that function: a new object, or NULL when none was set. */
json_t *steward_live_facts(void);

/* The state directory (from the facts), or NULL before they are set. */
const char *steward_state_dir(void);
