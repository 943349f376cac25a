/* stewardd.c — the `stewardd` module: the daemon's own status, commands,
 * and its settings published under the module's name.
 *
 * The configuration itself is core (common/config.c: struct
 * steward_config, its rows, the live copy and its getter); it is a settings
 * file of the registry, so this module only points at it.  The counters it
 * reports are the front's (common/stats.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "module.h"
#include "registry.h"
#include "roles.h"
#include "settingsfile.h"
#include "stats.h"
#include "util.h"

/* The HTTP layer's connection budgets: what counts now, what was closed. */
static json_t *budgets_json(void) {
        static const struct {
                const char *reason;
                _Atomic uint64_t *n;
        } closed[] = {
                {"source_cap", &stats_closed_source_cap},
                {"budget_full", &stats_closed_budget_full},
                {"displaced", &stats_closed_displaced},
                {"header_timeout", &stats_closed_header_timeout},
                {"local_no_role", &stats_closed_local_no_role},
                {"local_cap", &stats_closed_local_cap},
        };
        json_t *c = json_object();

        for (size_t i = 0; c && i < ELEMENTSOF(closed); i++)
                json_object_set_new(c, closed[i].reason,
                                    json_integer((json_int_t)atomic_load(closed[i].n)));
        return json_pack("{s:I, s:o*}", "unauthenticated",
                         (json_int_t)atomic_load(&stats_connections_unauthenticated), "closed", c);
}

/* Each syslog target's backlog as the front's poll last saw it (events.c):
 * [{"target", "backlog"}], null until it has. */
static json_t *forwarding_json(void) {
        struct stats_forward f[STATS_FORWARD_MAX];
        size_t n;
        json_t *a;

        if (!atomic_load(&stats_counters_known))
                return json_null();
        n = stats_forward_get(f);
        a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_pack("{s:s, s:I}", "target", f[i].target, "backlog",
                                                   (json_int_t)f[i].backlog));
        return a ? a : json_null();
}

static json_t *status_object(bool full) {
        struct steward_config c;
        const char *config_path = steward_config_path();
        uint64_t up, started_usec, started_realtime;
        json_t *o, *facts = steward_facts(&started_usec, &started_realtime);

        steward_config_get(&c);
        up = started_usec ? (now_usec() - started_usec) / 1000000u : 0;
        o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "state", "running", "version",
                      STEWARD_VERSION, "pid", (int)getpid(), "uptime_seconds", (json_int_t)up,
                      "connections", (json_int_t)atomic_load(&stats_connections_open), "requests",
                      (json_int_t)atomic_load(&stats_requests_total));
        if (full && o) {
                char when[32] = "";
                time_t t = (time_t)(started_realtime / 1000000u);
                struct tm tm;
                json_t *l;
                if (gmtime_r(&t, &tm))
                        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                json_object_set_new(o, "started", json_string(when));
                json_object_set_new(o, "config_file", json_string(config_path ? config_path : ""));
                if (facts)
                        json_object_update(o, facts);
                l = steward_live_facts();
                if (json_is_object(l))
                        json_object_update(o, l);
                json_decref(l);
                json_object_set_new(o, "settings", settings_file_tree(&steward_config_file, &c));
                json_object_set_new(o, "connection_budgets", budgets_json());
                /* As the front's poll last saw them (events.c); null until
                 * it has. */
                if (atomic_load(&stats_counters_known))
                        json_object_set_new(
                                o, "logins",
                                json_pack("{s:I, s:I, s:I, s:I}", "ok",
                                          (json_int_t)atomic_load(&stats_logins_ok), "failed",
                                          (json_int_t)atomic_load(&stats_logins_failed),
                                          "sources_throttled",
                                          (json_int_t)atomic_load(&stats_sources_throttled),
                                          "sources_blocked",
                                          (json_int_t)atomic_load(&stats_sources_blocked)));
                else
                        json_object_set_new(o, "logins", json_null());
                json_object_set_new(o, "audit_forwarding", forwarding_json());
        }
        json_decref(facts);
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

/* Runs in the helper (it changes state); the front follows on SIGHUP. */
static int cmd_reload(const struct module_ctx *ctx, json_t *args, json_t **ret,
                      struct module_error *err) {
        char msg[512];
        int r = steward_config_reload(/* helper= */ true, msg, sizeof msg);
        if (r < 0) {
                module_error_set(err, 409, "conflict", NULL, "reload refused: %s", msg);
                return r;
        }
        *ret = json_pack("{s:s, s:s}", "result", "ok", "config_file", steward_config_path());
        return 0;
}

static int cmd_check_config(const struct module_ctx *ctx, json_t *args, json_t **ret,
                            struct module_error *err) {
        char msg[512] = "";
        int r = settings_file_check_file(&steward_config_file, NULL, msg, sizeof msg);
        const char *path = steward_config_path();

        *ret = json_pack("{s:s, s:b, s:s}", "config_file", path ? path : "", "valid", r >= 0,
                         "message", r >= 0 ? "the config file is valid" : msg);
        return *ret ? 0 : -ENOMEM;
}

static const command_def_t commands[] = {
        {.name = "reload",
         .summary = "Re-read the config file (as SIGHUP does); an invalid file is refused",
         .changes_state = true,
         .helper_process = true,
         .run = cmd_reload},
        {.name = "check_config",
         .summary = "Check that the config file parses and every value is valid",
         .changes_state = false,
         .run = cmd_check_config},
};

/* The settings are the daemon's configuration file (common/config.c): the
 * registry reads, writes and makes it live. */

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
        .settings_file = &steward_config_file,
        .commands = commands,
        .n_commands = ELEMENTSOF(commands),
        .events = events,
        .n_events = ELEMENTSOF(events),
};
