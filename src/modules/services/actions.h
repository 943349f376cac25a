/* actions.h — the services collection's item actions: start, stop,
 * restart, reload, try-restart, reset-failed (jobs and state, operators),
 * enable, disable, mask, unmask (unit files, admins).
 *
 * Each runs in the privileged helper, through systemd's D-Bus API:
 *  - a job (start…try-restart) is queued with mode "replace" after the
 *    connection subscribed to JobRemoved; the action waits for its job's
 *    JobRemoved (matched by the job's path) at most ACTION_WAIT_SEC and
 *    answers systemd's result ("done", "failed", "canceled", "timeout",
 *    "dependency", "skipped"…), or "timeout" when it waited longer;
 *  - a unit file change reports the symlinks systemd made or removed, then
 *    reloads the manager (as systemctl does); those changes are the plan's
 *    files ({"path", "type": "symlink|absent", "after", "before_type",
 *    "before", "module_restore": true}), so an audit rollback puts the links
 *    back through the module's file_restore, which reloads again.
 * The answer: {"job_result", "service": {the unit after}, "changes":
 * [{"type", "path", "destination"}], "plan": {"files", "commands",
 * "warnings"}}.
 *
 * Guards: stopping, restarting, disabling or masking a unit that keeps
 * Steward or the server reachable — stewardd itself (and whatever unit
 * this process runs in), D-Bus, systemd-journald, and the SSH server when
 * the request comes from the network — needs the argument force; without
 * it the action is refused (409 "needs_force", field "force") and a dry run
 * says why in its warnings.  Force itself is for admins (403 below).
 *
 * Roles: below admin (operators: the jobs and reset-failed), an action
 * acts only on services, sockets and timers, and not on systemd's own
 * units, shells and logins, or templates whose instance is an argument to
 * something privileged (svc_operator_refusal); the rule is checked on the
 * name asked for and on every name of the unit it reaches (its aliases),
 * and a refusal is 403 with the reason.  Below admin, the unit in the
 * answer is redacted as a show is (units_redact).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

#define ACTION_WAIT_SEC 25

/* Runs the action named name on unit id (see above). */
int svc_action(const char *name, const struct module_ctx *ctx, const char *id, json_t *args,
               bool dry_run, json_t **ret, struct module_error *err);
/* Why action on unit needs force, or NULL (source: the request's, as in
 * module_ctx). */
const char *svc_guard_reason(const char *action, const char *unit, const char *source);
/* Why a role below admin may not act on the unit named name, or NULL. */
const char *svc_operator_refusal(const char *name);
/* Reloads the manager (daemon-reload); err filled on failure. */
int svc_daemon_reload(struct module_error *err);
