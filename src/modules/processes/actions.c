/* actions.c — the processes collection's actions (see actions.h).  Until
 * their implementation lands, both rows exist (so the schema, the CLI and
 * the API know them) and refuse with 501 "not_implemented", changing
 * nothing.
 */
#include "modules/processes/actions.h"

#include <errno.h>

#include "roles.h"
#include "util.h"

static int not_yet(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                   json_t **ret, struct module_error *err) {
        (void)ctx;
        (void)id;
        (void)args;
        (void)dry_run;
        (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

static const command_arg_t signal_args[] = {
        {.name = "signal",
         .type = SETTING_STRING,
         .min = 1,
         .max = 8,
         .required = true,
         .description = "TERM, KILL, HUP, INT, STOP, CONT, USR1 or USR2"},
        {.name = "start_ticks",
         .type = SETTING_INTEGER,
         .min = 0,
         .max = INT64_MAX,
         .description = "the process's start_ticks as listed"},
};

static const command_arg_t renice_args[] = {
        {.name = "nice",
         .type = SETTING_INTEGER,
         .min = -20,
         .max = 19,
         .required = true,
         .description = "the new nice value"},
        {.name = "start_ticks",
         .type = SETTING_INTEGER,
         .min = 0,
         .max = INT64_MAX,
         .description = "the process's start_ticks as listed"},
};

const collection_action_t processes_actions[PROCESSES_N_ACTIONS] = {
        {.name = "signal",
         .summary = "send a signal to the process",
         .min_role = ROLE_OPERATOR,
         .changes_state = true,
         .args = signal_args,
         .n_args = ELEMENTSOF(signal_args),
         .run = not_yet},
        {.name = "renice",
         .summary = "change the process's nice value",
         .min_role = ROLE_OPERATOR,
         .changes_state = true,
         .args = renice_args,
         .n_args = ELEMENTSOF(renice_args),
         .run = not_yet},
};
