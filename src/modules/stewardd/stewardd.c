/* stewardd.c — the daemon's own settings, status and commands.
 *
 * Settings live in the config file (default /etc/steward/stewardd.conf) in
 * the settings grammar of kv.h without the module prefix:
 *
 *     log_level = "info"
 *     limits:max_connections = 256
 *
 * A change rewrites only the lines of the keys it changes (comments and the
 * order of the file are kept; new keys are appended), checks that the new
 * text parses as a whole, writes it atomically and then makes it live.  The
 * plan — a unified diff of the file — is computed the same way for dry runs.
 * One mutex serialises every read-modify-write of the file and the live
 * struct.
 */
#include "stewardd.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"
#include "jsonutil.h"
#include "kv.h"
#include "module.h"
#include "roles.h"
#include "registry.h"
#include "util.h"

#define CONFIG_MAX_BYTES (1u << 20)

_Atomic uint64_t stewardd_connections_open;
_Atomic uint64_t stewardd_requests_total;
_Atomic uint64_t stewardd_event_subscribers;
_Atomic uint64_t stewardd_connections_unauthenticated;
_Atomic uint64_t stewardd_closed_source_cap;
_Atomic uint64_t stewardd_closed_budget_full;
_Atomic uint64_t stewardd_closed_displaced;
_Atomic uint64_t stewardd_closed_header_timeout;
_Atomic uint64_t stewardd_closed_local_no_role;
_Atomic uint64_t stewardd_closed_local_cap;
_Atomic bool stewardd_counters_known;
_Atomic uint64_t stewardd_sessions_open;
_Atomic uint64_t stewardd_audit_records;
_Atomic uint64_t stewardd_logins_ok;
_Atomic uint64_t stewardd_logins_failed;
_Atomic uint64_t stewardd_sources_throttled;
_Atomic uint64_t stewardd_sources_blocked;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct steward_config live;
static bool live_set;
static char *config_path;
/* --log-level wins over the file until a change through the API sets
 * log_level explicitly. */
static int log_level_override = -1;
static json_t *facts;
static uint64_t started_usec, started_realtime;

static const char *const log_levels[] = {"error", "warning", "notice", "info", "debug", NULL};

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

#define UINT_SETTING(k, lo, hi, desc, rst)                                                         \
        {                                                                                          \
                .key = k, .type = SETTING_INTEGER, .min = lo, .max = hi, .description = desc,      \
                .restart = rst                                                                     \
        }
#define GROUPS_SETTING(k, desc)                                                                    \
        {                                                                                          \
                .key = k, .type = SETTING_STRING_ARRAY, .min = 0, .max = STEWARD_MAX_GROUPS,       \
                .description = desc, .valid_string = valid_group_name                              \
        }
static const setting_def_t settings[] = {
        {.key = "log_level",
         .type = SETTING_ENUM,
         .choices = log_levels,
         .description = "Lowest severity that is logged"},
        UINT_SETTING("limits:max_connections", 1, 100000,
                     "Concurrent client connections; past it requests are answered 503", false),
        UINT_SETTING("limits:max_connections_per_ip", 1, 100000,
                     "Concurrent connections from one address, authenticated or not; past it new "
                     "ones are refused",
                     true),
        UINT_SETTING("limits:max_unauthenticated_connections", 1, 100000,
                     "Concurrent connections that have not authenticated yet, from all addresses; "
                     "past it a new one displaces the oldest still sending its request",
                     false),
        UINT_SETTING("limits:max_unauthenticated_per_source", 1, 100000,
                     "Concurrent connections that have not authenticated yet from one address; "
                     "past it new ones from there are refused",
                     false),
        UINT_SETTING("limits:max_local_connections_per_uid", 1, 100000,
                     "Concurrent connections on the unix socket from one account other than "
                     "root; past it new ones are answered 503",
                     false),
        UINT_SETTING("limits:max_header_bytes", 1024, 16384,
                     "Total size of a request's header fields; past it the answer is 431", false),
        UINT_SETTING("limits:max_body_bytes", 1024, 268435456,
                     "Size of a request body; past it the answer is 413", false),
        UINT_SETTING("limits:max_json_depth", 2, 1000,
                     "Nesting depth of a JSON body; past it the answer is 400", false),
        UINT_SETTING("limits:idle_timeout", 1, 3600,
                     "Seconds a connection may stay silent before it is closed", false),
        UINT_SETTING("limits:header_timeout", 1, 3600,
                     "Seconds a client has to send a request's headers, counted from the "
                     "connection's start (or, before it authenticates, the previous request's "
                     "end); past it the connection is closed",
                     false),
        UINT_SETTING("auth:session_idle_timeout", 5, 604800,
                     "Seconds a login session lives without being used", false),
        UINT_SETTING("auth:session_lifetime", 10, 2592000,
                     "Seconds a login session lives at most, used or not", false),
        UINT_SETTING("auth:max_token_lifetime", 60, 315360000,
                     "Seconds an API token lives at most; a token created without expires_in "
                     "gets this",
                     false),
        {.key = "auth:allow_root_login",
         .type = SETTING_BOOLEAN,
         .description = "Whether root may log in with a password over the network"},
        GROUPS_SETTING("auth:admin_groups", "Unix groups whose members are admins"),
        GROUPS_SETTING("auth:operator_groups", "Unix groups whose members are operators"),
        GROUPS_SETTING("auth:monitor_groups", "Unix groups whose members are monitors"),
        UINT_SETTING("auth:throttle:free_attempts", 1, 100,
                     "Failed logins (per address and per user) before back-off starts", false),
        UINT_SETTING("auth:throttle:base_delay", 1, 3600,
                     "Seconds of the first back-off; each further failure doubles it", false),
        UINT_SETTING("auth:throttle:max_delay", 1, 86400, "Longest back-off, in seconds", false),
        UINT_SETTING("auth:throttle:block_after", 2, 1000,
                     "Failed logins after which the address is blocked (a user is only delayed)",
                     false),
        UINT_SETTING("auth:throttle:block_seconds", 1, 604800, "How long a block lasts", false),
        {.key = "discovery:enabled",
         .type = SETTING_BOOLEAN,
         .description = "Whether this server answers discovery requests on UDP (steward discover)"},
        UINT_SETTING("discovery:rate_per_source", 1, 1000,
                     "Discovery answers per second to one source address", false),
        {.key = "metrics:allow_from",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = STEWARD_MAX_GROUPS,
         .description = "Networks (CIDR, e.g. \"10.0.0.5/32\") whose clients may read GET /metrics "
                        "without a token; empty: none",
         .valid_string = valid_network},
        UINT_SETTING("limits:max_event_subscribers", 0, 100000,
                     "Open event streams (GET /api/v1/events); they do not count against "
                     "max_connections; past it 503",
                     false),
        {.key = "users:home_roots",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = STEWARD_MAX_GROUPS,
         .description = "Directories under which the users module may place home directories "
                        "(the first is where new homes go by default); empty: none",
         .valid_string = valid_home_root},
};

/* Where each setting lives in struct steward_config, in table order. */
enum field_kind { F_LEVEL, F_UINT, F_BOOL, F_GROUPS };
struct field {
        enum field_kind kind;
        size_t offset;
};
#define FIELD(k, m)                                                                                \
        { k, offsetof(struct steward_config, m) }
static const struct field fields[] = {
        FIELD(F_LEVEL, log_level),
        FIELD(F_UINT, max_connections),
        FIELD(F_UINT, max_connections_per_ip),
        FIELD(F_UINT, max_unauthenticated_connections),
        FIELD(F_UINT, max_unauthenticated_per_source),
        FIELD(F_UINT, max_local_connections_per_uid),
        FIELD(F_UINT, max_header_bytes),
        FIELD(F_UINT, max_body_bytes),
        FIELD(F_UINT, max_json_depth),
        FIELD(F_UINT, idle_timeout),
        FIELD(F_UINT, header_timeout),
        FIELD(F_UINT, session_idle_timeout),
        FIELD(F_UINT, session_lifetime),
        FIELD(F_UINT, max_token_lifetime),
        FIELD(F_BOOL, allow_root_login),
        FIELD(F_GROUPS, admin_groups),
        FIELD(F_GROUPS, operator_groups),
        FIELD(F_GROUPS, monitor_groups),
        FIELD(F_UINT, throttle_free_attempts),
        FIELD(F_UINT, throttle_base_delay),
        FIELD(F_UINT, throttle_max_delay),
        FIELD(F_UINT, throttle_block_after),
        FIELD(F_UINT, throttle_block_seconds),
        FIELD(F_BOOL, discovery_enabled),
        FIELD(F_UINT, discovery_rate_per_source),
        FIELD(F_GROUPS, metrics_allow_from),
        FIELD(F_UINT, max_event_subscribers),
        FIELD(F_GROUPS, home_roots),
};

_Static_assert(ELEMENTSOF(fields) == ELEMENTSOF(settings),
               "every setting needs its field, in table order");

/* The two tables must line up; a mismatch is a programming error that
 * would silently map a setting onto the wrong field, so it stops the
 * daemon at start-up. */
static void check_tables(void) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                setting_type_t want = fields[i].kind == F_LEVEL  ? SETTING_ENUM
                                      : fields[i].kind == F_UINT ? SETTING_INTEGER
                                      : fields[i].kind == F_BOOL ? SETTING_BOOLEAN
                                                                 : SETTING_STRING_ARRAY;
                assert(settings[i].type == want);
        }
}

static void *field_ptr(const struct steward_config *c, size_t i) {
        return (char *)c + fields[i].offset;
}

static void groups_set(struct steward_groups *g, const char *const *names) {
        *g = (struct steward_groups){0};
        for (; *names && g->n < STEWARD_MAX_GROUPS; names++)
                snprintf(g->name[g->n++], sizeof g->name[0], "%s", *names);
}

extern const module_t module_stewardd;

void stewardd_config_defaults(struct steward_config *c) {
        *c = (struct steward_config){
                .log_level = LOG_LEVEL_INFO,
                .max_connections = 256,
                .max_connections_per_ip = 256,
                .max_unauthenticated_connections = 128,
                .max_unauthenticated_per_source = 32,
                .max_local_connections_per_uid = 32,
                .max_header_bytes = 16384,
                .max_body_bytes = 1048576,
                .max_json_depth = 32,
                .idle_timeout = 15,
                .header_timeout = 10,
                .session_idle_timeout = 900,
                .session_lifetime = 43200,
                .max_token_lifetime = 7776000, /* 90 days */
                .allow_root_login = false,
                .throttle_free_attempts = 3,
                .throttle_base_delay = 1,
                .throttle_max_delay = 60,
                .throttle_block_after = 10,
                .throttle_block_seconds = 900,
                .discovery_enabled = true,
                .discovery_rate_per_source = 2,
                .max_event_subscribers = 1024,
        };
        groups_set(&c->admin_groups, (const char *const[]){"sudo", "steward-admin", NULL});
        groups_set(&c->operator_groups, (const char *const[]){"steward-operator", NULL});
        groups_set(&c->monitor_groups, (const char *const[]){"steward-monitor", NULL});
        groups_set(&c->home_roots, (const char *const[]){"/home", NULL});
}

void stewardd_config_get(struct steward_config *ret) {
        pthread_mutex_lock(&lock);
        if (live_set)
                *ret = live;
        else
                stewardd_config_defaults(ret);
        pthread_mutex_unlock(&lock);
}

/* Applies one validated flat key to a config struct. */
static void config_set(struct steward_config *c, const char *key, json_t *v) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                if (!STREQ(settings[i].key, key))
                        continue;
                switch (fields[i].kind) {
                case F_LEVEL:
                        c->log_level = (enum log_level)log_level_from_string(json_string_value(v));
                        break;
                case F_UINT:
                        *(unsigned *)field_ptr(c, i) = (unsigned)json_integer_value(v);
                        break;
                case F_BOOL:
                        *(bool *)field_ptr(c, i) = json_is_true(v);
                        break;
                case F_GROUPS: {
                        struct steward_groups *g = field_ptr(c, i);
                        size_t k;
                        json_t *item;
                        *g = (struct steward_groups){0};
                        json_array_foreach(v, k, item) {
                                if (g->n == STEWARD_MAX_GROUPS)
                                        break;
                                snprintf(g->name[g->n++], sizeof g->name[0], "%s",
                                         json_string_value(item));
                        }
                        break;
                }
                }
                return;
        }
}

int stewardd_config_parse(const char *text, size_t len, const char *path,
                          struct steward_config *ret, char *err, size_t err_len) {
        struct steward_config c;
        struct kv_error kerr = {0};
        struct module_error merr = {0};
        json_t *tree = NULL, *flat = NULL, *v;
        const char *k;
        int r;

        stewardd_config_defaults(&c);
        r = kv_parse(text, len, &tree, &kerr);
        if (r < 0) {
                if (kerr.line)
                        snprintf(err, err_len, "%s:%u: %s", path, kerr.line, kerr.message);
                else
                        snprintf(err, err_len, "%s: %s", path, kerr.message);
                return -EINVAL;
        }
        r = settings_flatten(&module_stewardd, tree, &flat, &merr);
        json_decref(tree);
        if (r < 0) {
                snprintf(err, err_len, "%s: %s", path, merr.message);
                return -EINVAL;
        }
        json_object_foreach(flat, k, v) {
                const setting_def_t *d = module_find_setting(&module_stewardd, k);
                struct value_rule rule = {d->type, d->min, d->max, d->choices, d->valid_string};
                r = value_check(&rule, k, v, "invalid_setting", &merr);
                if (r < 0) {
                        snprintf(err, err_len, "%s: %s", path, merr.message);
                        json_decref(flat);
                        return -EINVAL;
                }
                config_set(&c, k, v);
        }
        json_decref(flat);
        *ret = c;
        return 0;
}

/* Reads the config file; a missing file is an empty one. */
static int config_read_text(char **ret, size_t *ret_len) {
        int r = read_file(config_path, CONFIG_MAX_BYTES, ret, ret_len);
        if (r == -ENOENT) {
                *ret = strdup("");
                *ret_len = 0;
                return *ret ? 0 : -ENOMEM;
        }
        return r;
}

static void make_live(const struct steward_config *c) {
        live = *c;
        live_set = true;
        log_set_level(c->log_level);
}

static int load_locked(char *err, size_t err_len) {
        _cleanup_free_ char *text = NULL;
        struct steward_config c;
        size_t len;
        int r;

        r = config_read_text(&text, &len);
        if (r < 0) {
                snprintf(err, err_len, "%s: %s", config_path, strerror(-r));
                return r;
        }
        r = stewardd_config_parse(text, len, config_path, &c, err, err_len);
        if (r < 0)
                return r;
        if (log_level_override >= 0)
                c.log_level = (enum log_level)log_level_override;
        make_live(&c);
        return 0;
}

int stewardd_config_init(const char *path, int level_override, char *err, size_t err_len) {
        int r;

        check_tables();
        pthread_mutex_lock(&lock);
        free(config_path);
        config_path = strdup(path);
        log_level_override = level_override;
        r = config_path ? load_locked(err, err_len) : -ENOMEM;
        pthread_mutex_unlock(&lock);
        return r;
}

int stewardd_config_reload(char *err, size_t err_len) {
        int r;

        pthread_mutex_lock(&lock);
        r = config_path ? load_locked(err, err_len) : -ENOENT;
        pthread_mutex_unlock(&lock);
        return r;
}

static json_t *(*live_facts)(void);

void stewardd_set_live_facts(json_t *(*fn)(void)) {
        live_facts = fn;
}

json_t *stewardd_live_facts(void) {
        json_t *(*fn)(void);

        pthread_mutex_lock(&lock);
        fn = live_facts;
        pthread_mutex_unlock(&lock);
        return fn ? fn() : NULL;
}

void stewardd_set_facts(json_t *f) {
        pthread_mutex_lock(&lock);
        json_decref(facts);
        facts = f;
        started_usec = now_usec();
        started_realtime = realtime_usec();
        pthread_mutex_unlock(&lock);
}

const char *stewardd_config_path(void) {
        /* Set by stewardd_config_init() before any thread or child exists. */
        return config_path;
}

const char *stewardd_state_dir(void) {
        /* Set once before any thread or child exists, never changed after. */
        return facts ? json_string_value(json_object_get(facts, "state_dir")) : NULL;
}

static json_t *config_tree(const struct steward_config *c) {
        json_t *t = json_object();
        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                json_t *v = NULL;
                switch (fields[i].kind) {
                case F_LEVEL:
                        v = json_string(log_level_to_string(c->log_level));
                        break;
                case F_UINT:
                        v = json_integer(*(unsigned *)field_ptr(c, i));
                        break;
                case F_BOOL:
                        v = json_boolean(*(bool *)field_ptr(c, i));
                        break;
                case F_GROUPS: {
                        const struct steward_groups *g = field_ptr(c, i);
                        v = json_array();
                        for (size_t k = 0; k < g->n; k++)
                                json_array_append_new(v, json_string(g->name[k]));
                        break;
                }
                }
                json_tree_set(t, settings[i].key, v);
        }
        return t;
}

static int settings_read(json_t **ret, struct module_error *err) {
        struct steward_config c;
        stewardd_config_get(&c);
        *ret = config_tree(&c);
        return *ret ? 0 : -ENOMEM;
}

/* Rewrites the lines of changed keys in place, drops their old array
 * element lines, and appends keys the file did not have. */
static int config_rewrite(const char *old, size_t old_len, json_t *changes, char **ret) {
        json_t *done = json_object();
        struct buf out;
        size_t i = 0;
        const char *k;
        json_t *v;
        int r = 0;

        buf_init(&out, CONFIG_MAX_BYTES * 2);
        while (i < old_len && r >= 0) {
                const char *nl = memchr(old + i, '\n', old_len - i);
                size_t e = nl ? (size_t)(nl - old) : old_len, ks = i, ke;
                const char *matched = NULL;

                while (ks < e && (old[ks] == ' ' || old[ks] == '\t'))
                        ks++;
                ke = ks;
                while (ke < e && old[ke] != '=' && old[ke] != ' ' && old[ke] != '\t')
                        ke++;
                if (ks < e && old[ks] != '#')
                        json_object_foreach(changes, k, v) {
                                size_t kl = strlen(k);
                                if (ke - ks >= kl && memcmp(old + ks, k, kl) == 0 &&
                                    (ke - ks == kl || old[ks + kl] == ':')) {
                                        matched = k;
                                        break;
                                }
                        }
                if (!matched) {
                        r = buf_append(&out, old + i, e - i);
                        if (r >= 0)
                                r = buf_puts(&out, "\n");
                } else if (!json_object_get(done, matched)) {
                        _cleanup_free_ char *line = NULL;
                        json_t *t = json_object();
                        json_tree_set(t, matched, json_incref(json_object_get(changes, matched)));
                        r = kv_format(NULL, t, &line);
                        json_decref(t);
                        if (r >= 0)
                                r = buf_puts(&out, line);
                        json_object_set_new(done, matched, json_true());
                }
                i = e + 1;
        }
        json_object_foreach(changes, k, v) {
                _cleanup_free_ char *line = NULL;
                json_t *t;
                if (r < 0 || json_object_get(done, k))
                        continue;
                t = json_object();
                json_tree_set(t, k, json_incref(v));
                r = kv_format(NULL, t, &line);
                json_decref(t);
                if (r >= 0)
                        r = buf_puts(&out, line);
        }
        json_decref(done);
        if (r < 0) {
                buf_free(&out);
                return r;
        }
        *ret = buf_steal(&out);
        return *ret ? 0 : -ENOMEM;
}

static int ensure_parent_dir(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                          json_t **plan, struct module_error *err) {
        _cleanup_free_ char *old = NULL, *new_text = NULL, *diff = NULL;
        struct steward_config c;
        char perr[512];
        size_t old_len;
        bool restart = false, config_existed;
        const char *k;
        json_t *v, *changed;
        int r;

        pthread_mutex_lock(&lock);
        config_existed = access(config_path, F_OK) == 0;
        r = config_read_text(&old, &old_len);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read %s: %s", config_path,
                                 strerror(-r));
                goto out;
        }
        r = config_rewrite(old, old_len, changes, &new_text);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot rewrite %s: %s", config_path,
                                 strerror(-r));
                goto out;
        }
        /* The whole new file must parse before it can go live. */
        r = stewardd_config_parse(new_text, strlen(new_text), config_path, &c, perr, sizeof perr);
        if (r < 0) {
                module_error_set(err, 409, "conflict", NULL,
                                 "the config file would not be valid after this change: %s", perr);
                goto out;
        }
        r = diff_unified(config_path, old, old_len, new_text, strlen(new_text), &diff);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot compute the diff: %s",
                                 strerror(-r));
                goto out;
        }
        if (!dry_run && *diff) {
                r = ensure_parent_dir(config_path);
                if (r >= 0)
                        r = write_file_atomic(config_path, new_text, strlen(new_text), 0644);
                if (r < 0) {
                        module_error_set(err, 500, "internal", NULL, "cannot write %s: %s%s",
                                         config_path, strerror(-r),
                                         r == -ENOSPC ? " (the file is unchanged)" : "");
                        goto out;
                }
                if (json_object_get(changes, "log_level"))
                        log_level_override = -1;
                else if (log_level_override >= 0)
                        c.log_level = (enum log_level)log_level_override;
                make_live(&c);
        }
        changed = json_array();
        json_object_foreach(changes, k, v) {
                const setting_def_t *d = module_find_setting(&module_stewardd, k);
                json_array_append_new(changed, json_string(k));
                restart = restart || (d && d->restart);
        }
        *plan = json_pack("{s:b, s:o, s:b, s:[{s:s, s:s, s:s, s:s, s:s?, s:s, s:b}]}", "dry_run",
                          dry_run, "changed", changed, "restart_required", restart, "files", "path",
                          config_path, "diff", diff, "type", "file", "before_type",
                          config_existed ? "file" : "absent", "before", config_existed ? old : NULL,
                          "after", new_text, "redacted", false);
        r = *plan ? 0 : -ENOMEM;
out:
        pthread_mutex_unlock(&lock);
        return r;
}

/* The HTTP layer's connection budgets: what counts now, what was closed. */
static json_t *budgets_json(void) {
        static const struct {
                const char *reason;
                _Atomic uint64_t *n;
        } closed[] = {
                {"source_cap", &stewardd_closed_source_cap},
                {"budget_full", &stewardd_closed_budget_full},
                {"displaced", &stewardd_closed_displaced},
                {"header_timeout", &stewardd_closed_header_timeout},
                {"local_no_role", &stewardd_closed_local_no_role},
                {"local_cap", &stewardd_closed_local_cap},
        };
        json_t *c = json_object();

        for (size_t i = 0; c && i < ELEMENTSOF(closed); i++)
                json_object_set_new(c, closed[i].reason,
                                    json_integer((json_int_t)atomic_load(closed[i].n)));
        return json_pack("{s:I, s:o*}", "unauthenticated",
                         (json_int_t)atomic_load(&stewardd_connections_unauthenticated), "closed",
                         c);
}

static json_t *status_object(bool full) {
        struct steward_config c;
        json_t *o;
        uint64_t up;

        stewardd_config_get(&c);
        pthread_mutex_lock(&lock);
        up = started_usec ? (now_usec() - started_usec) / 1000000u : 0;
        o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "state", "running", "version",
                      STEWARD_VERSION, "pid", (int)getpid(), "uptime_seconds", (json_int_t)up,
                      "connections", (json_int_t)atomic_load(&stewardd_connections_open),
                      "requests", (json_int_t)atomic_load(&stewardd_requests_total));
        if (full && o) {
                char when[32] = "";
                time_t t = (time_t)(started_realtime / 1000000u);
                struct tm tm;
                if (gmtime_r(&t, &tm))
                        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                json_object_set_new(o, "started", json_string(when));
                json_object_set_new(o, "config_file", json_string(config_path ? config_path : ""));
                if (facts)
                        json_object_update(o, facts);
                if (live_facts) {
                        json_t *l = live_facts();
                        if (json_is_object(l))
                                json_object_update(o, l);
                        json_decref(l);
                }
                json_object_set_new(o, "settings", config_tree(&c));
                json_object_set_new(o, "connection_budgets", budgets_json());
                /* As the front's poll last saw them (events.c); null until
                 * it has. */
                if (atomic_load(&stewardd_counters_known))
                        json_object_set_new(
                                o, "logins",
                                json_pack("{s:I, s:I, s:I, s:I}", "ok",
                                          (json_int_t)atomic_load(&stewardd_logins_ok), "failed",
                                          (json_int_t)atomic_load(&stewardd_logins_failed),
                                          "sources_throttled",
                                          (json_int_t)atomic_load(&stewardd_sources_throttled),
                                          "sources_blocked",
                                          (json_int_t)atomic_load(&stewardd_sources_blocked)));
                else
                        json_object_set_new(o, "logins", json_null());
        }
        pthread_mutex_unlock(&lock);
        return o;
}

static int status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        *ret = status_object(false);
        return *ret ? 0 : -ENOMEM;
}

static int fullstatus(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        *ret = status_object(true);
        return *ret ? 0 : -ENOMEM;
}

static int cmd_reload(const struct module_ctx *ctx, json_t *args, json_t **ret,
                      struct module_error *err) {
        char msg[512];
        int r = stewardd_config_reload(msg, sizeof msg);
        if (r < 0) {
                module_error_set(err, 409, "conflict", NULL, "reload refused: %s", msg);
                return r;
        }
        *ret = json_pack("{s:s, s:s}", "result", "ok", "config_file", config_path);
        return 0;
}

static int cmd_check_config(const struct module_ctx *ctx, json_t *args, json_t **ret,
                            struct module_error *err) {
        _cleanup_free_ char *text = NULL;
        struct steward_config c;
        char msg[512] = "";
        size_t len;
        int r;

        pthread_mutex_lock(&lock);
        r = config_read_text(&text, &len);
        if (r < 0)
                snprintf(msg, sizeof msg, "%s: %s", config_path, strerror(-r));
        else
                r = stewardd_config_parse(text, len, config_path, &c, msg, sizeof msg);
        *ret = json_pack("{s:s, s:b, s:s}", "config_file", config_path, "valid", r >= 0, "message",
                         r >= 0 ? "the config file is valid" : msg);
        pthread_mutex_unlock(&lock);
        return *ret ? 0 : -ENOMEM;
}

static const command_def_t commands[] = {
        {.name = "reload",
         .summary = "Re-read the config file (as SIGHUP does); an invalid file is refused",
         .changes_state = true,
         .run = cmd_reload},
        {.name = "check_config",
         .summary = "Check that the config file parses and every value is valid",
         .changes_state = false,
         .run = cmd_check_config},
};

/* The one file this module owns: the config file. */
static const char *owned[2];

static const char *const *files(void) {
        pthread_mutex_lock(&lock);
        owned[0] = config_path;
        pthread_mutex_unlock(&lock);
        return owned;
}

/* In both processes: what the file says becomes live (a change or a restore
 * by the helper, SIGHUP).  A file that does not parse is never made live. */
static int stewardd_make_live(bool helper, struct module_error *err) {
        char msg[512];
        int r = stewardd_config_reload(msg, sizeof msg);
        if (r < 0)
                module_error_set(err, 409, "invalid_config", NULL,
                                 "%s is not valid; the running configuration is kept: %s",
                                 config_path ? config_path : "the config file", msg);
        return r;
}

/* The audit records, as the front's event hub reads them from the helper
 * (events.c): every change and refusal, by any client. */
static const event_def_t events[] = {
        {.name = "audit",
         .description = "an audit record, as GET /api/v1/audit/{id} shows it",
         .min_role = ROLE_MONITOR},
};

const module_t module_stewardd = {
        .name = "stewardd",
        .summary = "The Steward daemon itself: limits, logging, listeners, TLS identity",
        .status = status,
        .fullstatus = fullstatus,
        .settings = settings,
        .n_settings = ELEMENTSOF(settings),
        .settings_read = settings_read,
        .settings_apply = settings_apply,
        .files = files,
        .make_live = stewardd_make_live,
        .commands = commands,
        .n_commands = ELEMENTSOF(commands),
        .events = events,
        .n_events = ELEMENTSOF(events),
};
