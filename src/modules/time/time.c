/* time.c — the time module: the clock, the time zone, and the NTP client.
 *
 * This file is only the module's glue: its module_t table, its settings
 * rows, and the thin functions the registry calls.  The substance lives
 * beside it, each piece usable and testable on its own:
 *
 *     timesyncd.c   systemd-timesyncd's INI configuration: read what is in
 *                   force, plan and write Steward's drop-in (the ntp:*
 *                   settings), find and reload the service
 *     clock.c       adjtimex(2): synchronised or not, error bounds, raw figures
 *     zones.c       the zones under /usr/share/zoneinfo and their TZif files;
 *                   the time now in the local zone; a timezones item
 *
 * Where things run: status, settings reads, the sync_status command and the
 * timezones collection's reads follow the registry's rules (status and
 * read-only commands in the front as _steward, collection reads and
 * settings_apply in the helper).  adjtimex() is refused by the front's
 * seccomp filter, so the clock is read in the helper through
 * time_privileged_read(), which the front reaches with ctx->privileged_read;
 * the helper lets a session call it at the lowest role of this module's
 * routes, so GET /api/v1/clock (monitor) is also what opens it to monitors.
 *
 * The time zone itself is a setting of the system module; this module only
 * reports it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "module.h"
#include "modules/time/clock.h"
#include "modules/time/timesyncd.h"
#include "modules/time/zones.h"
#include "roles.h"
#include "util.h"

#define _cleanup_json_  _cleanup_(json_decrefp)
#define ZONES_LIMIT_MAX ZONES_MAX

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- settings ---------------------------------------------------------------- */

static const setting_def_t time_settings[] = {
        {
                .key = "ntp:servers",
                .type = SETTING_STRING_ARRAY,
                .max = NTP_SERVERS_MAX,
                .description = "NTP servers (host names or addresses) systemd-timesyncd asks in "
                               "turn: its NTP= list, written to " TSYNC_DROPIN,
                .valid_string = ntp_server_valid,
        },
        {
                .key = "ntp:fallback_servers",
                .type = SETTING_STRING_ARRAY,
                .max = NTP_SERVERS_MAX,
                .description = "NTP servers used when no other is known (FallbackNTP=); "
                               "until set, the compiled-in Debian pool",
                .valid_string = ntp_server_valid,
        },
        {
                .key = "ntp:root_distance_max_sec",
                .type = SETTING_INTEGER,
                .min = 1,
                .max = 3600,
                .description = "The largest root distance, in seconds, of a server still "
                               "accepted (RootDistanceMaxSec=)",
        },
        {
                .key = "ntp:poll_interval_min_sec",
                .type = SETTING_INTEGER,
                .min = 16,
                .max = 131072,
                .description = "The shortest poll interval in seconds (PollIntervalMinSec=); "
                               "smaller than ntp:poll_interval_max_sec",
        },
        {
                .key = "ntp:poll_interval_max_sec",
                .type = SETTING_INTEGER,
                .min = 16,
                .max = 131072,
                .description = "The longest poll interval in seconds (PollIntervalMaxSec=); "
                               "larger than ntp:poll_interval_min_sec",
        },
};

static json_t *string_list(char *const *items, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(items[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* {"ntp": {"servers": […], …}} from what is in force. */
static json_t *conf_tree(struct tsync_conf *c) {
        return json_pack("{s:{s:o, s:o, s:I, s:I, s:I}}", "ntp", "servers",
                         string_list(c->servers, c->n_servers), "fallback_servers",
                         string_list(c->fallback, c->n_fallback), "root_distance_max_sec",
                         (json_int_t)c->root_distance_max_sec, "poll_interval_min_sec",
                         (json_int_t)c->poll_interval_min_sec, "poll_interval_max_sec",
                         (json_int_t)c->poll_interval_max_sec);
}

static int time_settings_read(json_t **ret, struct module_error *err) {
        struct tsync_conf c;
        int r = tsync_read(&c, NULL, err);

        if (r < 0)
                return r;
        *ret = conf_tree(&c);
        tsync_conf_done(&c);
        return *ret ? 0 : oom(err);
}

/* What the answer should say about when the change takes effect. */
static const char *client_warning(void) {
        int pid;

        if (!tsync_installed())
                return "systemd-timesyncd is not installed: the settings are written for it "
                       "but nothing uses them";
        if (tsync_pid(&pid) < 0)
                return "systemd-timesyncd is not running: the settings take effect when it "
                       "starts";
        if (!tsync_can_reload())
                return "systemd-timesyncd runs without systemd (or systemctl is missing), so it "
                       "is not reloaded: the settings take effect when it restarts";
        return NULL;
}

static int time_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                               json_t **plan, struct module_error *err) {
        const char *warning;
        int r = tsync_apply(changes, dry_run, plan, err);

        if (r < 0)
                return r;
        warning = client_warning();
        if (warning &&
            json_array_append_new(json_object_get(*plan, "warnings"), json_string(warning)) < 0)
                return oom(err);
        return 0;
}

static const char *const *time_files(void) {
        static const char *const owned[] = {TSYNC_DROPIN, NULL};
        return owned;
}

/* In the helper, after the drop-in was written or restored: a running
 * timesyncd rereads it.  Nothing runs when it is not running (it reads the
 * file when it starts) or when there is no systemd to ask (the settings
 * answer's warnings say so); the front caches nothing.  Only a reload that
 * fails is an error. */
static int time_make_live(bool helper, struct module_error *err) {
        char msg[256];
        int pid, r;

        if (!helper || tsync_pid(&pid) < 0 || !tsync_can_reload())
                return 0; /* nothing to ask; settings answers say so (client_warning) */
        r = tsync_systemctl("try-reload-or-restart", msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 500, "reload_failed", NULL,
                                 "systemctl try-reload-or-restart " TSYNC_UNIT " failed (%s): %s",
                                 r < 0 ? strerror(-r) : "exit status", msg);
                return r < 0 ? r : -EIO;
        }
        return 0;
}

/* ---- status ------------------------------------------------------------------ */

/* In the helper: {"clock": summary, "adjtimex": raw figures}. */
static int time_privileged_read(json_t *args, json_t **ret, struct module_error *err) {
        struct clock_state s;
        int r;

        if (args && (!json_is_object(args) || json_object_size(args) > 0)) {
                module_error_set(err, 400, "invalid_argument", NULL,
                                 "the clock takes no arguments");
                return -EINVAL;
        }
        r = clock_read(&s);
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", NULL, "adjtimex failed: %m");
                return r;
        }
        *ret = json_pack("{s:o, s:o}", "clock", clock_summary_json(&s), "adjtimex",
                         clock_raw_json(&s));
        return *ret ? 0 : oom(err);
}

/* The clock, read in the helper; NULL with err filled when it cannot be. */
static json_t *clock_via_helper(const struct module_ctx *ctx, struct module_error *err) {
        json_t *out = NULL;

        if (!ctx || !ctx->privileged_read) {
                module_error_set(err, 503, "unavailable", NULL, "the clock is read by the helper");
                return NULL;
        }
        if (ctx->privileged_read(ctx, "time", json_object(), &out, err) < 0) {
                json_decref(out);
                return NULL;
        }
        return out;
}

static json_t *client_json(bool *ret_running) {
        int pid = 0;
        bool running = tsync_pid(&pid) >= 0;

        *ret_running = running;
        return json_pack("{s:s, s:b, s:b, s:o, s:b, s:b}", "name", "systemd-timesyncd", "installed",
                         tsync_installed(), "running", running, "pid",
                         running ? json_integer(pid) : json_null(), "synchronized_flag",
                         access(TSYNC_SYNCHRONIZED, F_OK) == 0, "can_reload", tsync_can_reload());
}

/* The status; full adds the raw adjtimex figures and the files read. */
static int status_json(const struct module_ctx *ctx, bool full, json_t **ret,
                       struct module_error *err) {
        struct module_error cerr = {0};
        _cleanup_json_ json_t *clock = clock_via_helper(ctx, &cerr), *files = NULL, *o = NULL;
        struct tsync_conf c;
        bool running = false;
        int r;

        r = tsync_read(&c, &files, err);
        if (r < 0)
                return r;
        o = json_pack("{s:o, s:o, s:O, s:o, s:o}", "time", zone_now_json(), "ntp_client",
                      client_json(&running), "clock",
                      clock ? json_object_get(clock, "clock") : json_null(), "servers",
                      string_list(c.servers, c.n_servers), "fallback_servers",
                      string_list(c.fallback, c.n_fallback));
        tsync_conf_done(&c);
        if (!o)
                return oom(err);
        r = json_object_set_new(o, "state",
                                json_string(running             ? "running"
                                            : tsync_installed() ? "stopped"
                                                                : "unavailable"));
        if (!running)
                r |= json_object_set_new(
                        o, "reason",
                        json_string(tsync_installed() ? "systemd-timesyncd is not running: the "
                                                        "clock is not synchronised by NTP"
                                                      : "systemd-timesyncd is not installed "
                                                        "(Debian package systemd-timesyncd)"));
        if (!clock)
                r |= json_object_set_new(o, "clock_error", json_string(cerr.message));
        if (full) {
                r |= json_object_set(o, "config_files", files);
                if (clock)
                        r |= json_object_set(o, "adjtimex", json_object_get(clock, "adjtimex"));
        }
        if (r < 0)
                return oom(err);
        *ret = TAKE_PTR(o);
        return 0;
}

static int time_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        return status_json(ctx, false, ret, err);
}

static int time_fullstatus(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        return status_json(ctx, true, ret, err);
}

/* GET /api/v1/clock: what the kernel says of the clock, with units. */
static int clock_route(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        json_t *clock = clock_via_helper(ctx, err);

        if (!clock)
                return -EIO;
        *ret = clock;
        return 0;
}

/* Named routes[] and written {method, pattern, role, handler}: the route
 * walk of tests/integration/test_security.py reads module tables so. */
static const module_route_t routes[] = {
        {"GET", "api/v1/clock", ROLE_MONITOR, clock_route,
         .summary = "The clock: time, time zone and synchronisation"},
};

/* ---- commands ---------------------------------------------------------------- */

static int sync_status(const struct module_ctx *ctx, json_t *args, json_t **ret,
                       struct module_error *err) {
        _cleanup_json_ json_t *clock = clock_via_helper(ctx, err);

        if (!clock)
                return -EIO;
        *ret = json_pack("{s:O}", "result", json_object_get(clock, "clock"));
        return *ret ? 0 : oom(err);
}

static const command_def_t time_commands[] = {
        {
                .name = "sync_status",
                .summary = "Whether the clock is synchronised, in words, with the kernel's "
                           "estimated and maximum error",
                .changes_state = false,
                .run = sync_status,
        },
};

/* ---- the timezones collection (read-only) ------------------------------------ */

static int zones_query(json_t *query, const char **ret_prefix, size_t *ret_limit,
                       struct module_error *err) {
        const char *prefix = json_string_value(json_object_get(query, "prefix"));
        const char *limit = json_string_value(json_object_get(query, "limit"));
        const char *k;
        json_t *v;
        unsigned n = ZONES_LIMIT_MAX;

        json_object_foreach(query, k, v) {
                if (!STREQ(k, "prefix") && !STREQ(k, "limit")) {
                        module_error_set(err, 400, "invalid_argument", k,
                                         "timezones takes the query arguments prefix and limit");
                        return -EINVAL;
                }
        }
        if (prefix && *prefix) {
                char probe[ZONE_NAME_MAX + 2];
                size_t l = strlen(prefix);

                /* A prefix is the start of a name: "Europe/", "America/Arg". */
                if (l > ZONE_NAME_MAX ||
                    snprintf(probe, sizeof probe, "%s%s", prefix,
                             prefix[l - 1] == '/' ? "x" : "") >= (int)sizeof probe ||
                    !zone_name_valid(probe)) {
                        module_error_set(err, 400, "invalid_argument", "prefix",
                                         "prefix is the start of a zone name, such as "
                                         "\"Europe/\"");
                        return -EINVAL;
                }
        }
        if (limit && (safe_atou(limit, &n) < 0 || n == 0 || n > ZONES_LIMIT_MAX)) {
                module_error_set(err, 400, "invalid_argument", "limit", "limit is 1 to %d",
                                 ZONES_LIMIT_MAX);
                return -EINVAL;
        }
        *ret_prefix = prefix ? prefix : "";
        *ret_limit = n;
        return 0;
}

static int zones_list_json(const struct module_ctx *ctx, json_t *query, json_t **ret,
                           struct module_error *err) {
        _cleanup_json_ json_t *names = NULL, *items = json_array();
        int64_t now = (int64_t)time(NULL);
        const char *prefix;
        size_t limit, i;
        json_t *v;
        int r;

        r = zones_query(query, &prefix, &limit, err);
        if (r < 0)
                return r;
        r = zones_list(&names);
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", NULL, "Failed to list " ZONES_DIR ": %m");
                return r;
        }
        json_array_foreach(names, i, v) {
                const char *name = json_string_value(v);

                if (json_array_size(items) == limit)
                        break;
                if (strncmp(name, prefix, strlen(prefix)) != 0)
                        continue;
                if (!items || json_array_append_new(items, zone_item_json(name, now)) < 0)
                        return oom(err);
        }
        *ret = json_pack("{s:O}", "timezones", items);
        return *ret ? 0 : oom(err);
}

static int zones_show_json(const struct module_ctx *ctx, const char *id, json_t *query,
                           json_t **ret, struct module_error *err) {
        char name[ZONE_NAME_MAX + 1];
        struct zone_info z;
        int r;

        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL,
                                 "a time zone takes no query arguments");
                return -EINVAL;
        }
        if (!id || snprintf(name, sizeof name, "%s", id) >= (int)sizeof name)
                goto unknown;
        for (char *p = name; *p; p++)
                if (*p == ':')
                        *p = '/';
        r = zone_lookup(name, (int64_t)time(NULL), &z);
        if (r == -EINVAL || r == -ENOENT || r == -ENOTDIR || r == -EISDIR || r == -EBADMSG ||
            r == -EXDEV || r == -ELOOP)
                goto unknown;
        *ret = json_pack("{s:o}", "timezone", zone_item_json(name, (int64_t)time(NULL)));
        return *ret ? 0 : oom(err);
unknown:
        module_error_set(err, 404, "not_found", NULL,
                         "no time zone \"%.64s\" (an id is a zone name with ':' for '/', such as "
                         "\"Europe:Paris\")",
                         id ? id : "");
        return -ENOENT;
}

/* ---- service control ----------------------------------------------------------- */

/* POST /api/v1/modules/time/restart (operator): restarts the NTP client,
 * which then synchronises again from scratch. */
static int time_restart(const struct module_ctx *ctx, struct module_error *err) {
        char msg[256];
        int r;

        if (!tsync_installed()) {
                module_error_set(err, 409, "not_installed", NULL,
                                 "systemd-timesyncd is not installed here");
                return -ENOENT;
        }
        if (!tsync_can_reload()) {
                module_error_set(err, 409, "no_service_manager", NULL,
                                 "systemd is not running here (or systemctl is missing), so "
                                 "systemd-timesyncd cannot be restarted through it");
                return -EHOSTDOWN;
        }
        r = tsync_systemctl("restart", msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 500, "restart_failed", NULL,
                                 "systemctl restart " TSYNC_UNIT " failed (%s): %s",
                                 r < 0 ? strerror(-r) : "exit status", msg);
                return r < 0 ? r : -EIO;
        }
        return 0;
}

/* ---- the time zones collection: read-only, described for the API, the CLI
 * (`steward timezones list --prefix Europe/`) and the console. */
static const collection_field_t zone_fields[] = {
        {.name = "id",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "Id",
         .description = "the zone's name with ':' for '/' (one path segment)"},
        {.name = "name",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "Zone",
         .description = "the IANA name, e.g. Europe/Paris"},
        {.name = "region",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "Region",
         .description = "the name's first part (Europe, America, Etc…)"},
        {.name = "utc_offset_now",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "UTC offset",
         .description = "the offset from UTC now, e.g. +01:00"},
        {.name = "utc_offset_seconds",
         .type = FIELD_INTEGER,
         .flags = FIELD_SHOWN,
         .label = "Offset (s)",
         .description = "the same in seconds"},
        {.name = "abbreviation",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "Abbreviation",
         .description = "what the zone is called now, e.g. CET"},
        {.name = "dst",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_SHOWN,
         .label = "Summer time",
         .description = "whether daylight saving time is in effect now"},
};

static const collection_query_t zone_query[] = {
        {"prefix", FIELD_STRING, "list: zones whose name starts with this"},
        {"limit", FIELD_INTEGER, "list: at most this many"},
};

static const collection_column_t zone_columns[] = {
        {"name", "Zone", NULL},
        {"utc_offset_now", "UTC offset", NULL},
        {"abbreviation", "Abbreviation", NULL},
        {"dst", "Summer time", NULL},
};

static const collection_def_t time_collections[] = {
        {.name = "timezones",
         .item = "timezone",
         .summary = "the time zones this system knows (/usr/share/zoneinfo)",
         .id_field = "id",
         .fields = zone_fields,
         .n_fields = ELEMENTSOF(zone_fields),
         .query = zone_query,
         .n_query = ELEMENTSOF(zone_query),
         .columns = zone_columns,
         .n_columns = ELEMENTSOF(zone_columns),
         .list = zones_list_json,
         .show = zones_show_json,
         /* Public files, read without state: the front reads them itself. */
         .front_reads = true},
};

const module_t module_time = {
        .name = "time",
        .summary = "The clock: time and zone, synchronisation, and the NTP servers of "
                   "systemd-timesyncd",
        .status = time_status,
        .fullstatus = time_fullstatus,
        .settings = time_settings,
        .n_settings = ELEMENTSOF(time_settings),
        .settings_read = time_settings_read,
        .settings_apply = time_settings_apply,
        .files = time_files,
        .make_live = time_make_live,
        .commands = time_commands,
        .n_commands = ELEMENTSOF(time_commands),
        .privileged_read = time_privileged_read,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .collections = time_collections,
        .n_collections = ELEMENTSOF(time_collections),
        .restart = time_restart,
};
