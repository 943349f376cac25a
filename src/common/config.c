/* config.c — the daemon's own configuration (config.h): the rows of the
 * --config file, each naming its field of struct steward_config and its
 * default, and the facts about the running daemon.
 *
 * The rows are a settings file of the registry (src/modules/settingsfile.c),
 * which reads, checks, writes and keeps the struct live; this file adds only
 * what is the daemon's own: the --log-level override and setting the log
 * level when a configuration goes live.  It is built with the registry (it
 * needs it), not into the CLI.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "settingsfile.h"
#include "syslog5424.h"
#include "util.h"

/* --log-level wins over the file until a change through the API sets
 * log_level explicitly.  Read and written under the registry's file lock
 * (the adjust hook) or before any thread exists (init). */
static int log_level_override = -1;

static pthread_mutex_t facts_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *facts;
static const char *state_dir;
static json_t *(*live_facts)(void);
static uint64_t started_usec, started_realtime;

/* In enum log_level's order: a setting's ENUM field is the index. */
static const char *const log_levels[] = {"error", "warning", "notice", "info", "debug", NULL};
_Static_assert(LOG_LEVEL_ERROR == 0 && LOG_LEVEL_DEBUG == 4, "log_levels[] is in enum order");

static bool valid_group_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > STEWARD_GROUP_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
                      s[i] == '-'))
                        return false;
        return true;
}

static bool valid_network(const char *s) {
        return network_contains(s, NULL) >= 0;
}

/* An absolute directory path of [A-Za-z0-9._-] components, none "." or
 * "..", without a trailing '/', not "/" itself. */
static bool valid_home_root(const char *s) {
        return path_plain_absolute(s, strlen(s));
}

/* Empty, or an absolute path of plain components (as home roots). */
/* Empty (the system's authorities) or a plain absolute path under /etc:
 * the root forwarder reads it, so it cannot be pointed at the rest of the
 * host (a FIFO in /tmp, a device, another program's state). */
static bool valid_ca_file(const char *s) {
        size_t n = strlen(s);

        return n == 0 || (n > 5 && strncmp(s, "/etc/", 5) == 0 && path_plain_absolute(s, n));
}

#define FIELD(m) SETTING_FIELD(struct steward_config, m)
#define UINT_SETTING(k, m, lo, hi, def, desc, rst)                                                 \
        {                                                                                          \
                .key = k, .type = SETTING_INTEGER, .min = lo, .max = hi, .def_int = def,           \
                .description = desc, .restart = rst, FIELD(m)                                      \
        }
#define GROUPS_SETTING(k, m, def, desc)                                                            \
        {                                                                                          \
                .key = k, .type = SETTING_STRING_ARRAY, .min = 0, .max = STEWARD_MAX_GROUPS,       \
                .def_list = def, .description = desc, .valid_string = valid_group_name, FIELD(m)   \
        }
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const setting_def_t rows[] = {
        {.key = "log_level",
         .type = SETTING_ENUM,
         .choices = log_levels,
         .def_string = "info",
         .description = "Lowest severity that is logged",
         FIELD(log_level)},
        UINT_SETTING("limits:max_connections", max_connections, 1, 100000, 256,
                     "Concurrent client connections; past it requests are answered 503", false),
        UINT_SETTING("limits:max_connections_per_ip", max_connections_per_ip, 1, 100000, 256,
                     "Concurrent connections from one address, authenticated or not; past it new "
                     "ones are refused",
                     true),
        UINT_SETTING("limits:max_unauthenticated_connections", max_unauthenticated_connections, 1,
                     100000, 128,
                     "Concurrent connections that have not authenticated yet, from all addresses; "
                     "past it a new one displaces the oldest still sending its request",
                     false),
        UINT_SETTING("limits:max_unauthenticated_per_source", max_unauthenticated_per_source, 1,
                     100000, 32,
                     "Concurrent connections that have not authenticated yet from one address; "
                     "past it new ones from there are refused",
                     false),
        UINT_SETTING("limits:max_local_connections_per_uid", max_local_connections_per_uid, 1,
                     100000, 32,
                     "Concurrent connections on the unix socket from one account other than "
                     "root; past it new ones are answered 503",
                     false),
        UINT_SETTING("limits:max_header_bytes", max_header_bytes, 1024, 16384, 16384,
                     "Total size of a request's header fields; past it the answer is 431", false),
        UINT_SETTING("limits:max_body_bytes", max_body_bytes, 1024, 268435456, 1048576,
                     "Size of a request body; past it the answer is 413", false),
        UINT_SETTING("limits:max_json_depth", max_json_depth, 2, 1000, 32,
                     "Nesting depth of a JSON body; past it the answer is 400", false),
        UINT_SETTING("limits:idle_timeout", idle_timeout, 1, 3600, 15,
                     "Seconds a connection may stay silent before it is closed", false),
        UINT_SETTING("limits:header_timeout", header_timeout, 1, 3600, 10,
                     "Seconds a client has to send a request's headers, counted from the "
                     "connection's start (or, before it authenticates, the previous request's "
                     "end); past it the connection is closed",
                     false),
        UINT_SETTING("auth:session_idle_timeout", session_idle_timeout, 5, 604800, 900,
                     "Seconds a login session lives without being used", false),
        UINT_SETTING("auth:session_lifetime", session_lifetime, 10, 2592000, 43200,
                     "Seconds a login session lives at most, used or not", false),
        UINT_SETTING("auth:max_token_lifetime", max_token_lifetime, 60, 315360000,
                     7776000 /* 90 days */,
                     "Seconds an API token lives at most; a token created without expires_in "
                     "gets this",
                     false),
        {.key = "auth:allow_root_login",
         .type = SETTING_BOOLEAN,
         .def_int = false,
         .description = "Whether root may log in with a password over the network",
         FIELD(allow_root_login)},
        GROUPS_SETTING("auth:admin_groups", admin_groups, LIST("sudo", "steward-admin"),
                       "Unix groups whose members are admins"),
        GROUPS_SETTING("auth:operator_groups", operator_groups, LIST("steward-operator"),
                       "Unix groups whose members are operators"),
        GROUPS_SETTING("auth:monitor_groups", monitor_groups, LIST("steward-monitor"),
                       "Unix groups whose members are monitors"),
        UINT_SETTING("auth:throttle:free_attempts", throttle_free_attempts, 1, 100, 3,
                     "Failed logins (per address and per user) before back-off starts", false),
        UINT_SETTING("auth:throttle:base_delay", throttle_base_delay, 1, 3600, 1,
                     "Seconds of the first back-off; each further failure doubles it", false),
        UINT_SETTING("auth:throttle:max_delay", throttle_max_delay, 1, 86400, 60,
                     "Longest back-off, in seconds", false),
        UINT_SETTING("auth:throttle:block_after", throttle_block_after, 2, 1000, 10,
                     "Failed logins after which the address is blocked (a user is only delayed)",
                     false),
        UINT_SETTING("auth:throttle:block_seconds", throttle_block_seconds, 1, 604800, 900,
                     "How long a block lasts", false),
        {.key = "discovery:enabled",
         .type = SETTING_BOOLEAN,
         .def_int = true,
         .description = "Whether this server answers discovery requests on UDP (steward discover)",
         FIELD(discovery_enabled)},
        UINT_SETTING("discovery:rate_per_source", discovery_rate_per_source, 1, 1000, 2,
                     "Discovery answers per second to one source address", false),
        {.key = "metrics:allow_from",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = STEWARD_MAX_GROUPS,
         .description = "Networks (CIDR, e.g. \"10.0.0.5/32\") whose clients may read GET /metrics "
                        "and GET /api/v1/sd without a token; empty: none",
         .valid_string = valid_network,
         FIELD(scrape_allow_from)},
        UINT_SETTING("limits:max_event_subscribers", max_event_subscribers, 0, 100000, 1024,
                     "Open event streams (GET /api/v1/events); they do not count against "
                     "max_connections; past it 503",
                     false),
        {.key = "users:home_roots",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = STEWARD_MAX_GROUPS,
         .def_list = LIST("/home"),
         .description = "Directories under which the users module may place home directories "
                        "(the first is where new homes go by default); empty: none",
         .valid_string = valid_home_root,
         FIELD(home_roots)},
        {.key = "discovery:sd_peers",
         .type = SETTING_BOOLEAN,
         .def_int = false,
         .description = "Whether this server sweeps the local networks for other stewardd servers "
                        "(as steward discover does) and lists those that answer in GET "
                        "/api/v1/sd, for Prometheus; their answers are not authenticated",
         FIELD(sd_peers)},
        UINT_SETTING("discovery:sd_interval", sd_interval, 2, 86400, 60,
                     "Seconds between two sweeps for GET /api/v1/sd's peers; a peer missing "
                     "from 3 sweeps in a row is dropped",
                     false),
        {.key = "audit:syslog_targets",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = SETTING_WIDE_LIST_MAX,
         .def_list = LIST("local"),
         .description = "Where every audit record is also sent as a syslog message: "
                        "\"tcp://ADDR:PORT\" (RFC 5424, octet-counted), \"udp://ADDR:PORT\" "
                        "(RFC 5424, one datagram each, no delivery guarantee), \"tls://ADDR:PORT\" "
                        "(RFC 5425, the certificate verified) or \"local\" "
                        "(this host's /dev/log); ADDR an IP literal, IPv6 in brackets; empty: none",
         .valid_string = syslog_target_valid,
         FIELD(syslog_targets)},
        {.key = "audit:syslog_facility",
         .type = SETTING_ENUM,
         .choices = syslog_facility_names,
         .def_string = "authpriv",
         .description = "Syslog facility of the audit messages (severity: notice for a "
                        "success, warning for an error or a refusal)",
         FIELD(syslog_facility)},
        {.key = "audit:syslog_ca_file",
         .type = SETTING_STRING,
         .min = 0,
         .max = STEWARD_PATH_MAX,
         .def_string = "",
         .description = "PEM file of the certificate authorities that tls:// syslog targets' "
                        "certificates must chain to (each must also name the target's address), "
                        "a plain absolute path under /etc/ of a regular file of at most 1 MiB; "
                        "empty: the system's",
         .valid_string = valid_ca_file,
         FIELD(syslog_ca_file)},
};

static void adjust(void *config, json_t *changes) {
        struct steward_config *c = config;

        if (changes && json_object_get(changes, "log_level"))
                log_level_override = -1;
        else if (log_level_override >= 0)
                c->log_level = (enum log_level)log_level_override;
}

static void made_live(const void *config, bool helper) {
        const struct steward_config *c = config;

        log_set_level(c->log_level);
}

static struct steward_config live;
static struct settings_file_state state;

const settings_file_t steward_config_file = {
        .module = "stewardd",
        .rows = rows,
        .n_rows = ELEMENTSOF(rows),
        .file = NULL, /* the --config file itself */
        .size = sizeof(struct steward_config),
        .live = &live,
        .state = &state,
        .adjust = adjust,
        .made_live = made_live,
};

void steward_config_defaults(struct steward_config *c) {
        settings_file_defaults(&steward_config_file, c);
}

void steward_config_get(struct steward_config *ret) {
        settings_file_get(&steward_config_file, ret, sizeof *ret);
}

int steward_config_init(const char *path, int level_override, char *err, size_t err_len) {
        int r = settings_file_check(&steward_config_file, err, err_len);

        if (r < 0)
                return r;
        r = settings_config_path_set(path);
        if (r < 0) {
                snprintf(err, err_len, "out of memory");
                return r;
        }
        log_level_override = level_override;
        return settings_file_load(&steward_config_file, /* helper= */ false, err, err_len);
}

int steward_config_level_override(void) {
        return log_level_override;
}

int steward_config_reload(bool helper, char *err, size_t err_len) {
        if (!settings_config_path()) {
                snprintf(err, err_len, "no configuration file");
                return -ENOENT;
        }
        return settings_file_load(&steward_config_file, helper, err, err_len);
}

int steward_config_parse(const char *text, size_t len, const char *path, struct steward_config *ret,
                         char *err, size_t err_len) {
        return settings_file_parse(&steward_config_file, text, len, path, ret, err, err_len);
}

const char *steward_config_path(void) {
        return settings_config_path();
}

void steward_set_facts(json_t *f) {
        pthread_mutex_lock(&facts_lock);
        json_decref(facts);
        facts = f;
        state_dir = facts ? json_string_value(json_object_get(facts, "state_dir")) : NULL;
        started_usec = now_usec();
        started_realtime = realtime_usec();
        pthread_mutex_unlock(&facts_lock);
}

json_t *steward_facts(uint64_t *ret_started_usec, uint64_t *ret_started_realtime) {
        json_t *f;

        pthread_mutex_lock(&facts_lock);
        f = json_incref(facts);
        if (ret_started_usec)
                *ret_started_usec = started_usec;
        if (ret_started_realtime)
                *ret_started_realtime = started_realtime;
        pthread_mutex_unlock(&facts_lock);
        return f;
}

void steward_set_live_facts(json_t *(*fn)(void)) {
        pthread_mutex_lock(&facts_lock);
        live_facts = fn;
        pthread_mutex_unlock(&facts_lock);
}

json_t *steward_live_facts(void) {
        json_t *(*fn)(void);

        pthread_mutex_lock(&facts_lock);
        fn = live_facts;
        pthread_mutex_unlock(&facts_lock);
        return fn ? fn() : NULL;
}

const char *steward_state_dir(void) {
        /* Set once before any thread or child exists, never changed after. */
        return state_dir;
}
