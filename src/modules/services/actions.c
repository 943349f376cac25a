/* actions.c — the services collection's item actions (see actions.h). */
#include "modules/services/actions.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/services/unitname.h"
#include "modules/services/units.h"
#include "roles.h"
#include "util.h"

#define _cleanup_json_    _cleanup_(json_decrefp)
#define _cleanup_bus_     _cleanup_(sd_bus_flush_close_unrefp)
#define _cleanup_bus_msg_ _cleanup_(sd_bus_message_unrefp)
#define SEEN_MAX          32
#define LINKS_MAX         64

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

typedef enum { ACT_JOB, ACT_FILES, ACT_RESET } act_kind_t;

static const struct action {
        const char *name, *method;
        act_kind_t kind;
        bool guarded;
} actions[] = {
        {"start", "StartUnit", ACT_JOB, false},
        {"stop", "StopUnit", ACT_JOB, true},
        {"restart", "RestartUnit", ACT_JOB, true},
        {"reload", "ReloadUnit", ACT_JOB, false},
        {"try-restart", "TryRestartUnit", ACT_JOB, true},
        {"reset-failed", "ResetFailedUnit", ACT_RESET, false},
        {"enable", "EnableUnitFiles", ACT_FILES, false},
        {"disable", "DisableUnitFiles", ACT_FILES, true},
        {"mask", "MaskUnitFiles", ACT_FILES, true},
        {"unmask", "UnmaskUnitFiles", ACT_FILES, false},
};

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- guards --------------------------------------------------------------------- */

/* The unit this process runs in (its cgroup's last unit-named directory). */
static bool own_unit(const char *unit) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        char *p;

        if (read_file("/proc/self/cgroup", 4096, &text, &len) < 0)
                return false;
        text[strcspn(text, "\n")] = '\0';
        for (char *s = text; (p = strsep(&s, "/"));)
                if (STREQ(p, unit))
                        return true;
        return false;
}

static bool source_is_remote(const char *source) {
        if (!source || strncmp(source, "unix:", 5) == 0)
                return false;
        return strncmp(source, "127.", 4) != 0 && strncmp(source, "[::1]", 5) != 0 &&
               strncmp(source, "::1", 3) != 0 && strncmp(source, "[::ffff:127.", 12) != 0;
}

const char *svc_guard_reason(const char *action, const char *unit, const char *source) {
        static const char *const daemon[] = {"stewardd.service", "stewardd.socket", NULL};
        static const char *const bus[] = {"dbus.service", "dbus.socket", "dbus-broker.service",
                                          NULL};
        static const char *const journal[] = {"systemd-journald.service", "systemd-journald.socket",
                                              "systemd-journald-dev-log.socket", NULL};
        static const char *const ssh[] = {"ssh.service", "sshd.service", "ssh.socket", NULL};
        const struct action *a = NULL;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (STREQ(actions[i].name, action))
                        a = &actions[i];
        if (!a || !a->guarded || !unit)
                return NULL;
        for (size_t i = 0; daemon[i]; i++)
                if (STREQ(unit, daemon[i]))
                        return "it is Steward's own daemon: this API would go away with it";
        if (own_unit(unit))
                return "Steward runs in this unit: this API would go away with it";
        for (size_t i = 0; bus[i]; i++)
                if (STREQ(unit, bus[i]))
                        return "it is the system bus: systemd, logins and Steward's own "
                               "service control depend on it";
        for (size_t i = 0; journal[i]; i++)
                if (STREQ(unit, journal[i]))
                        return "it is the journal: every service's logs go through it";
        for (size_t i = 0; ssh[i]; i++)
                if (STREQ(unit, ssh[i]) && source_is_remote(source))
                        return "it is the SSH server and this request comes from the network: "
                               "an administrator may be connected through it";
        return NULL;
}

/* ---- what operators may act on ----------------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Why a role below admin may not act on the unit named name (one of its
 * names), or NULL.  Operators run the server's services: start, stop,
 * restart, reload them, their sockets and timers.  What changes the state
 * of the whole system stays with admins: targets (poweroff.target,
 * rescue.target…), slices, scopes, mounts, swaps, devices, paths; systemd's
 * own units (systemd-*, whose stop or start reboots, suspends or cuts the
 * journal); shells and logins (debug-shell, emergency, rescue, the gettys);
 * templates whose instance name is an argument to something privileged
 * (modprobe@MODULE loads a kernel module, user@UID runs a user's manager). */
const char *svc_operator_refusal(const char *name) {
        static const char *const shells[] = {"debug-shell.service",   "emergency.service",
                                             "rescue.service",        "console-getty.service",
                                             "console-shell.service", NULL};
        static const char *const templates[] = {
                "modprobe@",         "getty@",           "serial-getty@",
                "autovt@",           "container-getty@", "user@",
                "user-runtime-dir@", "capsule@",         NULL};
        const char *type = unit_name_type(name);

        if (!type)
                return "its name is not a unit name";
        if (!STREQ(type, "service") && !STREQ(type, "socket") && !STREQ(type, "timer"))
                return "operators act on services, sockets and timers; other units change what "
                       "the whole system runs";
        if (has_prefix(name, "systemd-") || has_prefix(name, "initrd-"))
                return "it is part of systemd itself";
        for (size_t i = 0; shells[i]; i++)
                if (STREQ(name, shells[i]))
                        return "it opens a root shell or login";
        for (size_t i = 0; templates[i]; i++)
                if (has_prefix(name, templates[i]))
                        return "its instance is an argument to a privileged tool (a login, a "
                               "kernel module, a user's manager)";
        return NULL;
}

/* The first of the unit's names (an alias reaches the same unit) that a
 * role below admin may not act on: 403 with the reason. */
static int operator_check(const char *action, const char *id, json_t *names,
                          struct module_error *err) {
        const char *why = svc_operator_refusal(id), *name = id;
        json_t *n;
        size_t i;

        json_array_foreach(names, i, n) {
                if (why)
                        break;
                name = json_string_value(n);
                why = name ? svc_operator_refusal(name) : NULL;
        }
        if (!why)
                return 0;
        module_error_set(err, 403, "forbidden", NULL, "%s %s needs the role admin: %s%s%s", action,
                         id, STREQ(name, id) ? "" : name, STREQ(name, id) ? "" : ": ", why);
        return -EPERM;
}

/* Starting a unit stops what it conflicts with: below admin, not a unit
 * whose stop is guarded (svc_guard_reason), which force alone may stop. */
static int conflicts_check(const struct action *a, const char *id, json_t *unit, const char *source,
                           struct module_error *err) {
        json_t *conflicts = json_object_get(json_object_get(unit, "dependencies"), "conflicts");
        json_t *c;
        size_t i;

        if (a->kind != ACT_JOB || STREQ(a->name, "stop"))
                return 0;
        json_array_foreach(conflicts, i, c) {
                const char *other = json_string_value(c);
                const char *why = other ? svc_guard_reason("stop", other, source) : NULL;
                if (why) {
                        module_error_set(err, 403, "forbidden", NULL,
                                         "%s %s needs the role admin: it conflicts with %s, "
                                         "which would stop, and %s",
                                         a->name, id, other, why);
                        return -EPERM;
                }
        }
        return 0;
}

/* ---- jobs ---------------------------------------------------------------------- */

struct job_wait {
        char seen_path[SEEN_MAX][128];
        char seen_result[SEEN_MAX][16];
        size_t n;
};

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *e) {
        struct job_wait *w = data;
        const char *path, *unit, *result;
        uint32_t id;

        (void)e;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || w->n >= SEEN_MAX)
                return 0;
        snprintf(w->seen_path[w->n], sizeof w->seen_path[0], "%s", path);
        snprintf(w->seen_result[w->n], sizeof w->seen_result[0], "%s", result);
        w->n++;
        return 0;
}

static const char *job_seen(const struct job_wait *w, const char *path) {
        for (size_t i = 0; i < w->n; i++)
                if (STREQ(w->seen_path[i], path))
                        return w->seen_result[i];
        return NULL;
}

static int manager_call(sd_bus *bus, const char *method, sd_bus_message **reply,
                        struct module_error *err, const char *types, ...) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_msg_ sd_bus_message *call = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, SD_DEST, SD_PATH, SD_MANAGER, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(call, types, ap);
                va_end(ap);
        }
        units_bus_count();
        if (r >= 0)
                r = sd_bus_call(bus, call, 0, &e, reply);
        if (r < 0) {
                r = units_bus_error(r, &e, method, err);
                sd_bus_error_free(&e);
        }
        return r;
}

static int run_job(sd_bus *bus, const struct action *a, const char *unit, char *result, size_t size,
                   struct module_error *err) {
        struct job_wait w = {0};
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_bus_msg_ sd_bus_message *reply = NULL;
        const char *job, *seen;
        uint64_t deadline = now_usec() + ACTION_WAIT_SEC * 1000000ULL;
        int r;

        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
        if (r >= 0)
                r = manager_call(bus, "Subscribe", NULL, err, NULL);
        else
                return units_bus_error(r, NULL, "subscribing to jobs", err);
        if (r >= 0)
                r = manager_call(bus, a->method, &reply, err, "ss", unit, "replace");
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return units_bus_error(r, NULL, "reading the job", err);
        while (!(seen = job_seen(&w, job))) {
                uint64_t now = now_usec();
                if (now >= deadline) {
                        snprintf(result, size, "timeout");
                        return 0;
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return units_bus_error(r, NULL, "waiting for the job", err);
                if (r == 0 && (r = sd_bus_wait(bus, deadline - now)) < 0)
                        return units_bus_error(r, NULL, "waiting for the job", err);
        }
        snprintf(result, size, "%s", seen);
        return 0;
}

/* ---- unit files ------------------------------------------------------------------ */

/* The links under /etc/systemd/system named unit (in *.wants, *.requires,
 * *.upholds, or the unit itself) and where they point, before a change:
 * what a rollback of their removal puts back. */
static json_t *links_before(const char *unit) {
        json_t *out = json_object();
        _cleanup_(closedirp) DIR *d = opendir("/etc/systemd/system");
        struct dirent *de;
        char path[PATH_MAX], target[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof path, "/etc/systemd/system/%s", unit);
        if ((n = readlink(path, target, sizeof target - 1)) > 0) {
                target[n] = '\0';
                json_object_set_new(out, path, json_string(target));
        }
        while (d && (de = readdir(d)) && json_object_size(out) < LINKS_MAX) {
                const char *dot = strrchr(de->d_name, '.');
                if (!dot ||
                    !(STREQ(dot, ".wants") || STREQ(dot, ".requires") || STREQ(dot, ".upholds")))
                        continue;
                if (snprintf(path, sizeof path, "/etc/systemd/system/%s/%s", de->d_name, unit) >=
                    (int)sizeof path)
                        continue;
                if ((n = readlink(path, target, sizeof target - 1)) > 0) {
                        target[n] = '\0';
                        json_object_set_new(out, path, json_string(target));
                }
        }
        return out;
}

/* A plan file for one link systemd made or removed; was_default: where a
 * removed link pointed when it was not seen before (the unit's file). */
static json_t *change_file(const char *type, const char *path, const char *dest, json_t *before,
                           const char *was_default) {
        bool link = STREQ(type, "symlink");
        const char *was = json_string_value(json_object_get(before, path));
        _cleanup_free_ char *diff = NULL;
        int r;

        if (!link && !was)
                was = was_default;
        if (link)
                r = asprintf(&diff, "--- %s\n+++ %s\n@@ -1 +1 @@\n%s%s%s+symlink -> %s\n", path,
                             path, was ? "-symlink -> " : "", was ? was : "", was ? "\n" : "",
                             dest);
        else
                r = asprintf(&diff, "--- %s\n+++ %s\n@@ -1 +0,0 @@\n-symlink -> %s\n", path, path,
                             was ? was : "?");
        if (r < 0)
                return NULL;
        return json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:b, s:s}", "path", path, "type",
                         link ? "symlink" : "absent", "after", link ? dest : NULL, "before_type",
                         was ? "symlink" : "absent", "before", was, "module_restore", true, "diff",
                         diff);
}

static int run_files(sd_bus *bus, const struct action *a, const char *unit, bool force,
                     const char *fragment, json_t *changes, json_t *files,
                     struct module_error *err) {
        _cleanup_bus_msg_ sd_bus_message *reply = NULL;
        _cleanup_json_ json_t *before = links_before(unit);
        const char *type, *path, *dest;
        int carries, r;

        if (STREQ(a->name, "enable") || STREQ(a->name, "mask"))
                r = manager_call(bus, a->method, &reply, err, "asbb", 1, unit, false, force);
        else
                r = manager_call(bus, a->method, &reply, err, "asb", 1, unit, false);
        if (r < 0)
                return r;
        if (STREQ(a->name, "enable"))
                (void)sd_bus_message_read(reply, "b", &carries);
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sss)", &type, &path, &dest)) > 0) {
                json_array_append_new(changes, json_pack("{s:s, s:s, s:s}", "type", type, "path",
                                                         path, "destination", dest));
                if (STREQ(type, "symlink") || STREQ(type, "unlink"))
                        json_array_append_new(
                                files,
                                change_file(type, path, dest, before,
                                            STREQ(a->name, "unmask") ? "/dev/null" : fragment));
        }
        if (r < 0)
                return units_bus_error(r, NULL, "reading the unit file changes", err);
        if (json_array_size(changes) > 0)
                return manager_call(bus, "Reload", NULL, err, NULL);
        return 0;
}

int svc_daemon_reload(struct module_error *err) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = units_bus_open(&bus, err);
        return r < 0 ? r : manager_call(bus, "Reload", NULL, err, NULL);
}

/* ---- the action ------------------------------------------------------------------ */

static int check_args(json_t *args, bool *force, struct module_error *err) {
        const char *key;
        json_t *v;

        *force = false;
        json_object_foreach(args, key, v) {
                if (!STREQ(key, "force") || !json_is_boolean(v)) {
                        module_error_set(err, 400, "invalid_argument", key,
                                         STREQ(key, "force") ? "force is true or false"
                                                             : "unknown argument \"%.64s\"",
                                         key);
                        return -EINVAL;
                }
                *force = json_is_true(v);
        }
        return 0;
}

int svc_action(const char *name, const struct module_ctx *ctx, const char *id, json_t *args,
               bool dry_run, json_t **ret, struct module_error *err) {
        const struct action *a = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_json_ json_t *before = NULL, *after = NULL, *changes = json_array(),
                              *files = json_array(), *warnings = json_array();
        const char *guard;
        char result[32] = "done";
        bool force;
        int role = ctx ? role_from_string(ctx->role) : -EINVAL;
        bool admin = role == ROLE_ADMIN;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (STREQ(actions[i].name, name))
                        a = &actions[i];
        if (!a || !changes || !files || !warnings)
                return a ? oom(err) : -EINVAL;
        if (!unit_name_valid(id)) {
                module_error_set(err, 400, "invalid_argument", "name", "%s", unit_name_problem(id));
                return -EINVAL;
        }
        r = check_args(args, &force, err);
        if (r < 0)
                return r;
        /* Force acts on what keeps the server reachable: an admin's call. */
        if (force && !admin) {
                module_error_set(err, 403, "forbidden", "force",
                                 "%s %s with force needs the role admin: force acts on units that "
                                 "keep Steward or the server reachable",
                                 a->name, id);
                return -EPERM;
        }
        if (!admin && (r = operator_check(a->name, id, NULL, err)) < 0)
                return r;
        guard = svc_guard_reason(a->name, id, ctx ? ctx->source : NULL);
        if (guard && !force && !dry_run) {
                module_error_set(err, 409, "needs_force", "force", "%s %s needs force: %s", a->name,
                                 id, guard);
                return -EPERM;
        }
        r = units_bus_open(&bus, err);
        if (r >= 0)
                r = units_show_on(bus, id, &before, err);
        if (r >= 0 && !admin)
                r = operator_check(a->name, id, json_object_get(before, "names"), err);
        if (r >= 0 && !admin)
                r = conflicts_check(a, id, before, ctx ? ctx->source : NULL, err);
        if (r < 0)
                return r;
        if (!admin)
                units_redact(before);
        if (guard)
                json_array_append_new(warnings,
                                      json_sprintf("%s %s %s: %s", a->name, id,
                                                   force ? "is forced" : "needs force", guard));
        if (dry_run) {
                *ret = json_pack("{s:O, s:{s:[], s:[], s:O}}", "service", before, "plan",
                                 "commands", "files", "warnings", warnings);
                return *ret ? 0 : oom(err);
        }
        if (a->kind == ACT_JOB)
                r = run_job(bus, a, id, result, sizeof result, err);
        else if (a->kind == ACT_FILES)
                r = run_files(bus, a, id, force,
                              json_string_value(json_object_get(before, "fragment_path")), changes,
                              files, err);
        else
                r = manager_call(bus, a->method, NULL, err, "s", id);
        if (r < 0 && json_array_size(files) == 0)
                return r;
        if (units_show_on(bus, id, &after, err) < 0)
                after = json_incref(before);
        else if (!admin)
                units_redact(after);
        *ret = json_pack("{s:s, s:O, s:O, s:{s:[], s:O, s:O, s:b}}", "job_result", result,
                         "service", after, "changes", changes, "plan", "commands", "files", files,
                         "warnings", warnings, "applied", json_array_size(files) > 0);
        if (!*ret)
                return oom(err);
        return r < 0 ? r : 0;
}
