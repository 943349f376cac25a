/* engine.h — the users and groups modules as clients of the change engine
 * (change.h).
 *
 * An account change is a plan of tool commands (useradd, usermod,
 * chpasswd…: absolute paths, argv arrays, secrets on stdin only) built with
 * change_cmd()/change_arg().  account_change_run() watches the account
 * files (ACCOUNT_FILES) for it, /etc/shadow and /etc/gshadow with their
 * hashes redacted and every one of them kept as images for rollback, and
 * runs it through the engine: staged in an overlay first (arguments flagged
 * CHANGE_ARG_REAL, such as creating or removing a home directory, are left
 * out there), the guard called with the account files before and as
 * planned, then (unless dry_run) the same tools for real.
 *
 * account_change_hooks are the engine hooks of both modules: the engine
 * takes the shadow suite's lock (lckpwdf) around its own writes of the
 * account files (a rollback); the tools take it themselves. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "change.h"
#include "module.h"

#define ACCOUNT_FILES_N 6
extern const char *const ACCOUNT_FILES[ACCOUNT_FILES_N];

/* The state of the account files: contents (NULL: absent). */
struct account_state {
        char *text[ACCOUNT_FILES_N];
        size_t len[ACCOUNT_FILES_N];
};
void account_state_done(struct account_state *s);

typedef int (*account_guard_fn)(const struct account_state *before,
                                const struct account_state *after, void *data,
                                struct module_error *err);

/* Runs the plan (see above).  *ret_plan is set whenever anything ran for
 * real, also on failure (with "applied": true), so that it can be audited. */
int account_change_run(struct change_plan *p, bool dry_run, account_guard_fn guard, void *data,
                       json_t **ret_plan, struct module_error *err);

extern const change_hooks_t account_change_hooks;
