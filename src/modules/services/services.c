/* services.c — the services module: systemd's units as the collection
 * `services` (item `service`, id its name), their actions, Steward's
 * drop-in settings per service, and live `services` events.
 *
 * This file is the module's table and glue; the substance is beside it:
 *
 *     unitname.c   the grammars: unit names, patterns, environment entries
 *     units.c      reads over sd-bus: list (a constant number of bus calls,
 *                  cgroup numbers from /sys/fs/cgroup) and show
 *     actions.c    start/stop/…/enable/mask…: jobs waited for, guards
 *     dropin.c     /etc/systemd/system/UNIT.d/50-steward.conf: parse,
 *                  merge a change, render
 *     svcevents.c  the event thread of the front
 *
 * Where things run: the collection's list and show in the front
 * (front_reads: as _steward, several threads at once — every call opens its
 * own bus connection, so nothing is shared); modify (the drop-in) and the
 * actions in the privileged helper.  The drop-in goes through the change
 * engine: planned as a file edit, staged and checked with `systemd-analyze
 * verify` on the staged /etc, written, then the manager reloaded (the
 * commit callback).  Rolling it back goes through file_restore, which
 * writes the file back and reloads too.
 *
 * The validate hook gets only the staged /etc, not the request: the unit
 * being changed is kept in `staged_unit`, set by the write just before
 * change_run() in the helper's single thread of changes, and read in the
 * staging child (a fork, so a copy).
 *
 * Secrets: services keep passwords in Environment= and in their command
 * lines.  Below admin, show (and an action's answer) gives the
 * environment's names without values and each command's argv[0]
 * (units_redact); the environment field is FIELD_SECRET, so the audit
 * records a change of it as "(redacted)"; the drop-in's plan file shows
 * Environment= values redacted (dropin_redact) and keeps the full text as
 * images for rollback.
 *
 * Where systemd is not PID 1 (a container without it, a chroot) the status
 * is "unavailable" with the reason, every read answers 503 and the rest of
 * Steward is unaffected.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "module.h"
#include "modules/change.h"
#include "modules/services/actions.h"
#include "modules/services/dropin.h"
#include "modules/services/svcevents.h"
#include "modules/services/unitname.h"
#include "modules/services/units.h"
#include "roles.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static char staged_unit[UNIT_NAME_MAX + 1];

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- status ------------------------------------------------------------------ */

static int services_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        const char *reason;

        (void)ctx;
        if (!units_available(&reason))
                *ret = json_pack("{s:s, s:s}", "state", "unavailable", "reason", reason);
        else
                *ret = json_pack("{s:s}", "state", "running");
        return *ret ? 0 : oom(err);
}

static int services_fullstatus(const struct module_ctx *ctx, json_t **ret,
                               struct module_error *err) {
        _cleanup_json_ json_t *failed = NULL,
                              *q = json_pack("{s:s, s:s}", "state", "failed", "type", "all");
        /* Read before this answer's own listing: the benchmark takes the
         * difference over a listing (bench/services-list). */
        uint64_t calls = units_bus_calls();
        int r = services_status(ctx, ret, err);

        if (r < 0 || !STREQ(json_string_value(json_object_get(*ret, "state")), "running"))
                return r;
        if (units_list(q, &failed, err) >= 0)
                json_object_set(*ret, "failed", json_object_get(failed, "services"));
        json_object_set_new(*ret, "bus_calls", json_integer((json_int_t)calls));
        return 0;
}

/* ---- collection reads (in the front) -------------------------------------------- */

static int services_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                         struct module_error *err) {
        (void)ctx;
        return units_list(query, ret, err);
}

static int services_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                         struct module_error *err) {
        _cleanup_json_ json_t *item = NULL;
        int r;

        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL,
                                 "a service takes no query arguments");
                return -EINVAL;
        }
        r = units_show(id, &item, err);
        if (r < 0)
                return r;
        /* Environment values and command arguments hold passwords and
         * keys: below admin, names and argv[0] only. */
        if (!ctx || role_from_string(ctx->role) != ROLE_ADMIN)
                units_redact(item);
        *ret = json_pack("{s:O}", "service", item);
        return *ret ? 0 : oom(err);
}

/* ---- the drop-in (modify, in the helper) ------------------------------------------ */

static int validate_staged(const char *etc, struct module_error *err) {
        const char *argv[] = {
                "/usr/bin/systemd-analyze", "verify", "--man=no", "--", staged_unit, NULL};
        char msg[400] = "";
        int r;

        (void)etc; /* the overlay is mounted on /etc itself */
        if (!*staged_unit)
                return 0;
        r = change_exec(argv, NULL, msg, sizeof msg);
        if (r == 0)
                return 0;
        module_error_set(err, 422, "invalid_value", NULL,
                         "systemd-analyze verify %s refused the new settings (%d): %s", staged_unit,
                         r, msg);
        return r < 0 ? r : -EINVAL;
}

static const change_hooks_t services_hooks = {
        .validate = validate_staged,
};

static int reload_commit(void *data, struct module_error *err) {
        (void)data;
        return svc_daemon_reload(err);
}

/* Restores a drop-in or a unit file link for an audit rollback, then
 * reloads the manager so that it is in force. */
static int services_file_restore(const char *path, const char *type, const char *content,
                                 struct module_error *err) {
        int r;

        if (!path || strncmp(path, DROPIN_DIR_ROOT "/", strlen(DROPIN_DIR_ROOT) + 1) != 0 ||
            strstr(path, "/../") || strstr(path, "/./") ||
            !path_plain_absolute(path, strlen(path))) {
                module_error_set(err, 422, "invalid_argument", NULL,
                                 "%s is not a file the services module restores", path ?: "");
                return -EINVAL;
        }
        r = file_state_write(path, type, content, content ? strlen(content) : 0, 0644);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot restore %s: %s", path,
                                 strerror(-r));
                return r;
        }
        return svc_daemon_reload(err);
}

static int modify_check(const char *id, json_t *body, json_t *query, struct module_error *err) {
        const char *type = unit_name_type(id);

        if (!type) {
                module_error_set(err, 400, "invalid_argument", "name", "%s", unit_name_problem(id));
                return -EINVAL;
        }
        if (!STREQ(type, "service")) {
                module_error_set(err, 422, "invalid_argument", "name",
                                 "settings are for services; %s is a %s", id, type);
                return -EINVAL;
        }
        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL,
                                 "a change of settings takes no query arguments");
                return -EINVAL;
        }
        if (json_object_size(body) == 0) {
                module_error_set(err, 400, "invalid_argument", NULL,
                                 "nothing to change: give restart, restart_sec, memory_max, "
                                 "cpu_quota, tasks_max, nice or environment");
                return -EINVAL;
        }
        return 0;
}

static int services_modify(const char *id, json_t *body, json_t *query, bool dry_run, json_t **ret,
                           struct module_error *err) {
        _cleanup_json_ json_t *current = NULL, *after = NULL, *plan = NULL, *item = NULL;
        _cleanup_free_ char *text = NULL;
        struct change_plan p;
        struct change_file *f;
        char path[PATH_MAX];
        int r;

        r = modify_check(id, body, query, err);
        if (r < 0)
                return r;
        current = dropin_read_json(id);
        r = dropin_merge(current, body, &after, err);
        if (r < 0)
                return r;
        r = units_show(id, &item, err); /* the unit exists */
        if (r < 0)
                return r;
        json_decref(TAKE_PTR(item));
        if (dropin_path(id, path, sizeof path) < 0) {
                module_error_set(err, 400, "invalid_argument", "name", "the unit name is too long");
                return -ENAMETOOLONG;
        }
        text = dropin_render(after);
        if (json_object_size(after) > 0 && !text)
                return oom(err);
        change_plan_init(&p);
        f = change_edit(&p, path, text ? CHANGE_FILE : CHANGE_ABSENT, text, 0644);
        /* Environment= values are secrets (DB_PASSWORD=…): the plan shows
         * them redacted, the full text travels as images for rollback. */
        if (f) {
                f->flags |= CHANGE_MODULE_RESTORE | CHANGE_IMAGE | CHANGE_MAKE_DIR;
                f->redact = dropin_redact;
        }
        snprintf(staged_unit, sizeof staged_unit, "%s", id);
        r = change_run(&p,
                       &(struct change_opts){
                               .dry_run = dry_run,
                               .hooks = &services_hooks,
                               .commit = reload_commit,
                       },
                       &plan, err);
        staged_unit[0] = '\0';
        change_plan_done(&p);
        if (r < 0 && !plan)
                return r;
        if (!dry_run && r >= 0)
                (void)units_show(id, &item, err);
        *ret = json_pack("{s:{s:O?, s:O}, s:O}", "result", "service", item, "settings", after,
                         "plan", plan);
        if (!*ret)
                return oom(err);
        return r;
}

static int services_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                          json_t *body, json_t *query, bool dry_run, json_t **ret,
                          struct module_error *err) {
        (void)ctx;
        if (op != COLLECTION_MODIFY) {
                module_error_set(err, 405, "method_not_allowed", NULL,
                                 "units are not created or deleted through Steward; change a "
                                 "service's settings (PATCH) or use its actions");
                return -EPERM;
        }
        return services_modify(id, body, query, dry_run, ret, err);
}

/* ---- the table --------------------------------------------------------------------- */

static const char *const restart_choices[] = {
        "no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always", NULL,
};
static const char *const state_choices[] = {"all",        "active",       "failed",    "inactive",
                                            "activating", "deactivating", "reloading", NULL};
static const char *const type_choices[] = {"service", "socket", "timer", "mount",
                                           "path",    "target", "all",   NULL};

#define SHOWN(n, t, l, d)                                                                          \
        { .name = n, .type = t, .flags = FIELD_SHOWN, .label = l, .description = d }
static const collection_field_t service_fields[] = {
        SHOWN("name", FIELD_STRING, "Unit", "the unit's name, e.g. nginx.service"),
        SHOWN("type", FIELD_STRING, "Type", "service, socket, timer, mount, path, target…"),
        SHOWN("description", FIELD_STRING, "Description", "the unit's Description="),
        SHOWN("load_state", FIELD_STRING, "Load", "loaded, not-found, masked, error…"),
        SHOWN("active_state", FIELD_STRING, "Active",
              "active, inactive, failed, activating, deactivating, reloading"),
        SHOWN("sub_state", FIELD_STRING, "Sub", "the type's own state: running, exited, dead…"),
        SHOWN("unit_file_state", FIELD_STRING, "Enabled",
              "enabled, disabled, static, masked, indirect, generated, transient…"),
        SHOWN("main_pid", FIELD_INTEGER, "Main PID", "the main process (list: from the cgroup)"),
        SHOWN("memory_bytes", FIELD_INTEGER, "Memory", "memory in use by the unit's cgroup"),
        SHOWN("cpu_seconds", FIELD_STRING, "CPU", "CPU time used by the unit's cgroup"),
        SHOWN("tasks", FIELD_INTEGER, "Tasks", "tasks (processes and threads) in the cgroup"),
        {.name = "restart",
         .type = FIELD_ENUM,
         .choices = restart_choices,
         .flags = FIELD_MODIFY,
         .label = "Restart",
         .description = "Restart= in Steward's drop-in (null removes it)"},
        {.name = "restart_sec",
         .type = FIELD_INTEGER,
         .min = 0,
         .max = 86400,
         .flags = FIELD_MODIFY,
         .label = "Restart delay (s)",
         .description = "RestartSec=, in seconds"},
        {.name = "memory_max",
         .type = FIELD_INTEGER,
         .min = 1 << 20,
         .max = INT64_C(1) << 50,
         .flags = FIELD_MODIFY,
         .label = "Memory limit (bytes)",
         .description = "MemoryMax=, in bytes"},
        {.name = "cpu_quota",
         .type = FIELD_INTEGER,
         .min = 1,
         .max = 10000,
         .flags = FIELD_MODIFY,
         .label = "CPU quota (%)",
         .description = "CPUQuota=, in percent of one CPU"},
        {.name = "tasks_max",
         .type = FIELD_INTEGER,
         .min = 1,
         .max = 4194304,
         .flags = FIELD_MODIFY,
         .label = "Tasks limit",
         .description = "TasksMax="},
        {.name = "nice",
         .type = FIELD_INTEGER,
         .min = -20,
         .max = 19,
         .flags = FIELD_MODIFY,
         .label = "Nice",
         .description = "Nice=, -20 to 19"},
        {.name = "environment",
         .type = FIELD_STRING_ARRAY,
         .max = UNIT_ENV_MAX,
         .flags = FIELD_MODIFY | FIELD_SECRET,
         .label = "Environment",
         .description = "Environment= entries, KEY=VALUE (an empty list removes them)"},
};

static const collection_query_t service_query[] = {
        {"type", FIELD_ENUM,
         "list: units of this type (default: service, socket, timer, mount, "
         "path and target)",
         type_choices},
        {"state", FIELD_ENUM, "list: units in this active state", state_choices},
        {"enabled", FIELD_STRING,
         "list: units whose unit file state is this (enabled, "
         "disabled, masked, static…)"},
        {"name", FIELD_STRING, "list: units whose name matches this pattern (* ? [ ])"},
};

static const collection_column_t service_columns[] = {
        {"name", "UNIT", NULL},
        {"load_state", "LOAD", NULL},
        {"active_state", "ACTIVE", NULL},
        {"sub_state", "SUB", NULL},
        {"unit_file_state", "ENABLED", NULL},
        {"memory_bytes", "MEMORY", "bytes"},
        {"description", "DESCRIPTION", NULL},
};

/* ---- actions (actions.c) ----------------------------------------------------------- */

static const command_arg_t force_arg[] = {
        {.name = "force",
         .type = SETTING_BOOLEAN,
         .description = "act even on a unit that keeps Steward or the server reachable "
                        "(stewardd, dbus, systemd-journald, the SSH server from the network)"},
};

#define ACTION_FN(fn, action)                                                                      \
        static int fn(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,    \
                      json_t **ret, struct module_error *err) {                                    \
                return svc_action(action, ctx, id, args, dry_run, ret, err);                       \
        }
ACTION_FN(act_start, "start")
ACTION_FN(act_stop, "stop")
ACTION_FN(act_restart, "restart")
ACTION_FN(act_reload, "reload")
ACTION_FN(act_try_restart, "try-restart")
ACTION_FN(act_reset_failed, "reset-failed")
ACTION_FN(act_enable, "enable")
ACTION_FN(act_disable, "disable")
ACTION_FN(act_mask, "mask")
ACTION_FN(act_unmask, "unmask")

#define ACTION(n, fn, s, role, changes)                                                            \
        {                                                                                          \
                .name = n, .summary = s, .min_role = role, .changes_state = changes,               \
                .args = force_arg, .n_args = ELEMENTSOF(force_arg), .run = fn                      \
        }
static const collection_action_t service_actions[] = {
        ACTION("start", act_start, "start the unit and wait for the job's result", ROLE_OPERATOR,
               false),
        ACTION("stop", act_stop, "stop the unit and wait for the job's result", ROLE_OPERATOR,
               false),
        ACTION("restart", act_restart, "restart the unit (start it if stopped)", ROLE_OPERATOR,
               false),
        ACTION("reload", act_reload, "have the unit reload its configuration", ROLE_OPERATOR,
               false),
        ACTION("try-restart", act_try_restart, "restart the unit if it runs", ROLE_OPERATOR, false),
        ACTION("reset-failed", act_reset_failed, "forget that the unit failed", ROLE_OPERATOR,
               false),
        ACTION("enable", act_enable, "start the unit at boot (the links its [Install] names)",
               ROLE_ADMIN, true),
        ACTION("disable", act_disable, "no longer start the unit at boot", ROLE_ADMIN, true),
        ACTION("mask", act_mask, "make the unit impossible to start (a link to /dev/null)",
               ROLE_ADMIN, true),
        ACTION("unmask", act_unmask, "undo a mask", ROLE_ADMIN, true),
};

static const collection_def_t services_collections[] = {
        {.name = "services",
         .item = "service",
         .summary = "systemd's units: services, sockets, timers, mounts, paths and targets",
         .id_field = "name",
         .fields = service_fields,
         .n_fields = ELEMENTSOF(service_fields),
         .query = service_query,
         .n_query = ELEMENTSOF(service_query),
         .columns = service_columns,
         .n_columns = ELEMENTSOF(service_columns),
         .list = services_list,
         .show = services_show,
         .write = services_write,
         .actions = service_actions,
         .n_actions = ELEMENTSOF(service_actions),
         .front_reads = true},
};

static const event_def_t services_events[] = {
        {.name = "services",
         .description = "a unit's state changed (coalesced per unit): {name, active_state, "
                        "sub_state, job_result?}; a manager reload: {manager}",
         .min_role = ROLE_MONITOR},
};

const module_t module_services = {
        .name = "services",
        .summary = "systemd's units: state, start and stop, enablement, per-service settings "
                   "as drop-ins",
        .status = services_status,
        .fullstatus = services_fullstatus,
        .collections = services_collections,
        .n_collections = ELEMENTSOF(services_collections),
        .events = services_events,
        .n_events = ELEMENTSOF(services_events),
        .events_attach = svc_events_attach,
        .file_restore = services_file_restore,
        .change = &services_hooks,
        .console_title = "Services",
        .console_overview = true,
};
