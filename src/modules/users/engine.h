/* engine.h — how the users and groups modules change the account files:
 * plan in a throw-away overlay, check the guards on the planned result,
 * then run the same tools for real.
 *
 * A change is a list of commands (absolute tool paths, argv arrays, an
 * optional stdin that may hold a secret).  engine_run():
 *  1. reads the account files (ACCOUNT_FILES) as they are;
 *  2. runs the commands in a child with a private mount namespace where an
 *     overlay over /etc catches every write and a tmpfs hides /var/log
 *     (arguments flagged ARG_REAL, such as creating or removing a home
 *     directory, are left out there), and reads the files as they would be;
 *  3. calls the guard with both states: it may refuse the change;
 *  4. unless dry_run, runs the commands for real, in order, stopping at the
 *     first failure, and reads the files again.
 * The plan ("commands", "files", "warnings") lists each changed file with
 * a diff for display, /etc/shadow and /etc/gshadow with their hashes
 * redacted, and the full contents as images (module.h) for rollback.
 *
 * Tools run with fork and execve: a fixed PATH, an environment of PATH and
 * LC_ALL=C only, every other descriptor closed, secrets on stdin only. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

#define ENGINE_ARGS_MAX 40
#define ENGINE_CMDS_MAX 24

#define ACCOUNT_FILES_N 6
extern const char *const ACCOUNT_FILES[ACCOUNT_FILES_N];

enum { ARG_BOTH, ARG_REAL, ARG_PLAN }; /* where an argument is used */

struct engine_cmd {
        const char *argv[ENGINE_ARGS_MAX + 1];
        unsigned char where[ENGINE_ARGS_MAX]; /* ARG_BOTH, ARG_REAL, ARG_PLAN */
        char *owned[ENGINE_ARGS_MAX];         /* argv strings this command frees */
        size_t argc;
        char *input; /* stdin, or NULL; wiped and freed with the command */
        bool input_secret;
};

struct engine {
        struct engine_cmd cmds[ENGINE_CMDS_MAX];
        size_t n;
        json_t *warnings;
        int oom;
};

/* The state of the account files: contents (NULL: absent). */
struct account_state {
        char *text[ACCOUNT_FILES_N];
        size_t len[ACCOUNT_FILES_N];
};
void account_state_done(struct account_state *s);
int account_state_read(struct account_state *s);

void engine_init(struct engine *e);
void engine_done(struct engine *e);
/* Starts a command with the tool's path; then engine_arg() each argument. */
struct engine_cmd *engine_cmd(struct engine *e, const char *tool);
void engine_arg(struct engine *e, struct engine_cmd *c, const char *arg);
/* An argument only for the real run or only for the planning run. */
void engine_arg_where(struct engine *e, struct engine_cmd *c, const char *arg, int where);
void engine_argf(struct engine *e, struct engine_cmd *c, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* One argument: the strings of names joined by ','.  Callers bound the list
 * so that it fits max bytes; past it the command fails rather than
 * run with a list cut short (E2BIG). */
void engine_arg_joined(struct engine *e, struct engine_cmd *c, json_t *names, size_t max);
void engine_input(struct engine *e, struct engine_cmd *c, const char *input, bool secret);
void engine_warn(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef int (*engine_guard_fn)(const struct account_state *before,
                               const struct account_state *after, void *data,
                               struct module_error *err);

/* Runs the change (see above).  *ret_plan is set whenever anything ran for
 * real, also on failure (with "applied": true), so that it can be audited. */
int engine_run(struct engine *e, bool dry_run, engine_guard_fn guard, void *data, json_t **ret_plan,
               struct module_error *err);

/* Runs one tool now (for reads that need one); its exit status, or -errno.
 * The first bytes of its stderr go to msg. */
int engine_exec(const char *const *argv, const char *input, char *msg, size_t msg_len);

/* Adds to plan's files an entry for a file the module wrote itself. */
int engine_plan_file(json_t *plan, const char *path, const char *before, const char *after,
                     bool module_restore);
