/* helperops.c — the operation table of helperops.h and its argument check.
 *
 * The bounds are the protocol's outer limits, not the grammar of a value:
 * a handler still checks what a value means (a name's characters, an id
 * that parses, a role that exists) and answers with its own codes.  Fields
 * a client sends as they are (a token's name, role and lifetime) are
 * HELPER_ARG_ANY, so their errors stay those of the handler.
 */
#include "helperops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define NAME_MAX_LEN  64   /* module, collection, command, action names */
#define TEXT_MAX_LEN  4096 /* query values, ids from a path, paths */
#define TOKEN_MAX_LEN 512  /* secrets: session tokens, CSRF tokens */

#define ARGS(...)                                                                                  \
        .args = (const struct helper_arg[]){__VA_ARGS__},                                          \
        .n_args = sizeof((const struct helper_arg[]){__VA_ARGS__}) / sizeof(struct helper_arg)

#define STR(n, req, maxlen)                                                                        \
        { .name = (n), .type = HELPER_ARG_STRING, .required = (req), .max = (maxlen) }
#define INT(n, req, lo, hi)                                                                        \
        { .name = (n), .type = HELPER_ARG_INTEGER, .required = (req), .min = (lo), .max = (hi) }
#define BOOL(n)                                                                                    \
        { .name = (n), .type = HELPER_ARG_BOOLEAN }
#define OBJ(n, req)                                                                                \
        { .name = (n), .type = HELPER_ARG_OBJECT, .required = (req) }
#define ARR(n, req, maxn)                                                                          \
        { .name = (n), .type = HELPER_ARG_ARRAY, .required = (req), .max = (maxn) }
#define ID(n)                                                                                      \
        { .name = (n), .type = HELPER_ARG_ID, .required = true, .max = TEXT_MAX_LEN }
#define ANY(n)                                                                                     \
        { .name = (n), .type = HELPER_ARG_ANY }

#define S  HELPER_OPF_SESSION
#define RO HELPER_OPF_READS_ONLY
#define AU HELPER_OPF_AUDITED

const struct helper_op_def helper_ops[HELPER_OP__COUNT] = {
        [HELPER_OP_SESSION_CHECK] = {.name = "session_check",
                                     .flags = RO,
                                     ARGS(STR("secret", true, TOKEN_MAX_LEN))},
        [HELPER_OP_CSRF_CHECK] = {.name = "csrf_check",
                                  .min_role = ROLE_MONITOR,
                                  .flags = S | RO,
                                  ARGS(STR("csrf", false, TOKEN_MAX_LEN))},
        [HELPER_OP_CSRF_RENEW] = {.name = "csrf_renew", .min_role = ROLE_MONITOR, .flags = S},
        /* The connection is the passed descriptor. */
        [HELPER_OP_PEER_SESSION] = {.name = "peer_session"},
        [HELPER_OP_PEER_END] = {.name = "peer_end", .min_role = ROLE_MONITOR, .flags = S},
        [HELPER_OP_LOGIN] = {.name = "login",
                             ARGS(STR("user", true, TEXT_MAX_LEN), STR("password", true, 65536))},
        [HELPER_OP_LOGIN_BOOTSTRAP] = {.name = "login_bootstrap",
                                       ARGS(STR("token", false, TOKEN_MAX_LEN))},
        [HELPER_OP_LOGOUT] = {.name = "logout", .min_role = ROLE_MONITOR, .flags = S},
        [HELPER_OP_TOKEN_CREATE] = {.name = "token_create",
                                    .min_role = ROLE_MONITOR,
                                    .flags = S | HELPER_OPF_BOOTSTRAP_OK | AU,
                                    ARGS(ANY("name"), ANY("role"), ANY("expires_in"))},
        [HELPER_OP_TOKEN_LIST] = {.name = "token_list", .min_role = ROLE_MONITOR, .flags = S | RO},
        [HELPER_OP_TOKEN_REVOKE] = {.name = "token_revoke",
                                    .min_role = ROLE_MONITOR,
                                    .flags = S | AU,
                                    ARGS(ID("id"))},
        [HELPER_OP_SESSION_LIST] = {.name = "session_list",
                                    .min_role = ROLE_MONITOR,
                                    .flags = S | RO,
                                    ARGS(STR("user", false, 255))},
        [HELPER_OP_SESSION_END] = {.name = "session_end",
                                   .min_role = ROLE_MONITOR,
                                   .flags = S | AU,
                                   ARGS(ID("id"))},
        [HELPER_OP_SETTINGS_APPLY] = {.name = "settings_apply",
                                      .min_role = ROLE_ADMIN,
                                      .flags = S | AU,
                                      ARGS(STR("module", true, NAME_MAX_LEN), OBJ("patch", true),
                                           BOOL("dry_run"))},
        /* The command's own role is checked by the handler.  It runs in
         * a worker (a ping, a queue's flush may take long); a streaming
         * command's progress pipe comes with the request (its write end). */
        [HELPER_OP_COMMAND] = {.name = "command",
                               .min_role = ROLE_MONITOR,
                               .flags = S | AU | HELPER_OPF_CHANGES_ACCOUNTS | HELPER_OPF_WORKER,
                               ARGS(STR("module", true, NAME_MAX_LEN),
                                    STR("name", true, NAME_MAX_LEN), ANY("args"),
                                    BOOL("dry_run"))},
        [HELPER_OP_ACTION] = {.name = "action",
                              .min_role = ROLE_OPERATOR,
                              .flags = S | AU | HELPER_OPF_CHANGES_ACCOUNTS,
                              ARGS(STR("module", true, NAME_MAX_LEN), STR("action", true, 16))},
        /* Slow: a module's read runs tools (smbstatus, pdbedit) that may
         * hang on a wedged service; the helper's loop must not wait. */
        [HELPER_OP_MODULE_READ] = {.name = "module_read",
                                   .min_role = ROLE_MONITOR,
                                   .flags = S | RO | HELPER_OPF_SLOW,
                                   ARGS(STR("module", true, NAME_MAX_LEN), OBJ("args", false))},
        [HELPER_OP_AUDIT_LIST] =
                {.name = "audit_list",
                 .min_role = ROLE_MONITOR,
                 .flags = S | RO,
                 ARGS({.name = "before", .type = HELPER_ARG_ID, .max = TEXT_MAX_LEN},
                      INT("limit", false, 1, 500), STR("module", false, TEXT_MAX_LEN),
                      STR("user", false, TEXT_MAX_LEN))},
        [HELPER_OP_AUDIT_GET] = {.name = "audit_get",
                                 .min_role = ROLE_MONITOR,
                                 .flags = S | RO,
                                 ARGS(ID("id"))},
        [HELPER_OP_AUDIT_VERIFY] = {.name = "audit_verify",
                                    .min_role = ROLE_MONITOR,
                                    .flags = S | RO},
        /* The syslog targets and their state: admins only (the targets are
         * the admins' business, like the settings that name them). */
        [HELPER_OP_AUDIT_FORWARDING] = {.name = "audit_forwarding",
                                        .min_role = ROLE_ADMIN,
                                        .flags = S | RO},
        [HELPER_OP_AUDIT_ROLLBACK] = {.name = "audit_rollback",
                                      .min_role = ROLE_ADMIN,
                                      .flags = S | AU | HELPER_OPF_CHANGES_ACCOUNTS,
                                      ARGS(ID("id"), BOOL("dry_run"))},
        [HELPER_OP_AUDIT_SINCE] = {.name = "audit_since",
                                   .min_role = ROLE_MONITOR,
                                   .flags = S | RO,
                                   ARGS(INT("after", true, 0, INT64_MAX))},
        /* A session records its own refusal by the front, nobody else's. */
        [HELPER_OP_AUDIT_REFUSED] = {.name = "audit_refused",
                                     .min_role = ROLE_MONITOR,
                                     .flags = S | AU,
                                     ARGS(STR("method", true, 16), STR("path", true, TEXT_MAX_LEN),
                                          STR("message", true, 1024))},
        /* The front's own data: its metric history (metricsdb.h checks the
         * values) and its counters. */
        [HELPER_OP_METRICS_STORE] = {.name = "metrics_store",
                                     .flags = RO,
                                     ARGS(ARR("points", true, 4096))},
        [HELPER_OP_METRICS_QUERY] = {.name = "metrics_query",
                                     .flags = RO,
                                     ARGS(STR("series", true, NAME_MAX_LEN), STR("tier", true, 16),
                                          INT("from", true, 0, INT64_MAX),
                                          INT("step", true, 1, INT64_MAX),
                                          INT("points", true, 1, INT64_MAX))},
        [HELPER_OP_METRICS_RECENT] = {.name = "metrics_recent",
                                      .flags = RO,
                                      ARGS(INT("from", true, INT64_MIN, INT64_MAX))},
        [HELPER_OP_FRONT_POLL] = {.name = "front_poll", .flags = RO},
        [HELPER_OP_COLLECTION_READ] = {.name = "collection_read",
                                       .min_role = ROLE_MONITOR,
                                       .flags = S | RO | HELPER_OPF_SLOW,
                                       ARGS(STR("collection", true, NAME_MAX_LEN),
                                            STR("id", false, TEXT_MAX_LEN), OBJ("query", false))},
        [HELPER_OP_COLLECTION_WRITE] = {.name = "collection_write",
                                        .min_role = ROLE_ADMIN,
                                        .flags = S | AU | HELPER_OPF_CHANGES_ACCOUNTS,
                                        ARGS(STR("collection", true, NAME_MAX_LEN),
                                             STR("op", true, 16), STR("id", false, TEXT_MAX_LEN),
                                             OBJ("body", false), OBJ("query", false),
                                             BOOL("dry_run"))},
        /* The action's own role (collection_action_t.min_role) is checked
         * by the handler, its args against the action's table. */
        [HELPER_OP_COLLECTION_ACTION] = {.name = "collection_action",
                                         .min_role = ROLE_MONITOR,
                                         .flags = S | AU | HELPER_OPF_CHANGES_ACCOUNTS |
                                                  HELPER_OPF_WORKER,
                                         ARGS(STR("collection", true, NAME_MAX_LEN),
                                              STR("id", true, TEXT_MAX_LEN),
                                              STR("action", true, NAME_MAX_LEN), OBJ("args", false),
                                              BOOL("dry_run"))},
        /* The front's /metrics: every module's own gauges (module.h
         * metrics), read as root. */
        [HELPER_OP_MODULE_GAUGES] = {.name = "module_gauges", .flags = RO},
        /* Modules' own background state (helper/modstate.h checks the
         * values): the front's, no session. */
        [HELPER_OP_MODULE_STATE_PUT] = {.name = "module_state_put",
                                        .flags = RO,
                                        ARGS(STR("module", true, NAME_MAX_LEN),
                                             STR("key", true, NAME_MAX_LEN), ANY("value"))},
        [HELPER_OP_MODULE_STATE_GET] = {.name = "module_state_get",
                                        .flags = RO,
                                        ARGS(STR("module", true, NAME_MAX_LEN),
                                             STR("key", true, NAME_MAX_LEN))},
        [HELPER_OP_MODULE_LOG_APPEND] = {.name = "module_log_append",
                                         .flags = RO,
                                         ARGS(STR("module", true, NAME_MAX_LEN),
                                              ARR("records", true, 64))},
        [HELPER_OP_MODULE_LOG_LIST] = {.name = "module_log_list",
                                       .flags = RO,
                                       ARGS(STR("module", true, NAME_MAX_LEN),
                                            INT("before", false, 1, INT64_MAX),
                                            INT("limit", false, 1, 500), OBJ("match", false))},
        /* The front's own background reads (alert rules): what a monitor
         * session could read, with no session — one collection's list, one
         * module's privileged view (at the monitor's role), or the dates of
         * a certificate under /etc.  Exactly one of collection, module,
         * certificate. */
        [HELPER_OP_MONITOR_READ] = {.name = "monitor_read",
                                    .flags = RO | HELPER_OPF_SLOW,
                                    ARGS(STR("collection", false, NAME_MAX_LEN),
                                         STR("module", false, NAME_MAX_LEN), OBJ("args", false),
                                         STR("certificate", false, 4096))},
        /* Whether the audit chain verifies: {ok, records, first_broken?},
         * the verdict of audit_verify without its message's detail. */
        [HELPER_OP_AUDIT_CHECK] = {.name = "audit_check", .flags = RO},
        /* A module's own background work that needs root, asked for by
         * its part in the front (module.h helper_task: the alerts' mail
         * through sendmail), in a worker with the workers' time limit.  No
         * session: what it may do is the module's to bound, from its own
         * settings, never from args. */
        [HELPER_OP_MODULE_TASK] = {.name = "module_task",
                                   .flags = RO | HELPER_OPF_SLOW,
                                   ARGS(STR("module", true, NAME_MAX_LEN), OBJ("args", true))},
};

int helper_op_from_name(const char *name, enum helper_op *ret) {
        for (size_t i = 0; name && i < HELPER_OP__COUNT; i++)
                if (helper_ops[i].name && STREQ(helper_ops[i].name, name)) {
                        *ret = (enum helper_op)i;
                        return 0;
                }
        return -EINVAL;
}

static int arg_error(struct module_error *e, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Fills e as module_error_set() does (that lives with the modules, above
 * this library). */
static int arg_error(struct module_error *e, const char *field, const char *fmt, ...) {
        va_list ap;

        *e = (struct module_error){.status = 400};
        snprintf(e->code, sizeof e->code, "bad_request");
        snprintf(e->field, sizeof e->field, "%.64s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static const char *type_name(enum helper_arg_type t) {
        static const char *const names[] = {
                [HELPER_ARG_STRING] = "a string",   [HELPER_ARG_INTEGER] = "an integer",
                [HELPER_ARG_BOOLEAN] = "a boolean", [HELPER_ARG_OBJECT] = "an object",
                [HELPER_ARG_ARRAY] = "an array",    [HELPER_ARG_ID] = "an id",
                [HELPER_ARG_ANY] = "a value",
        };
        return (unsigned)t < ELEMENTSOF(names) ? names[t] : "?";
}

/* Whether v has the type a and is within its bounds. */
static bool arg_fits(const struct helper_arg *a, json_t *v) {
        int64_t n;

        switch (a->type) {
        case HELPER_ARG_STRING:
                n = (int64_t)json_string_length(v);
                return json_is_string(v) && n >= a->min && (a->max == 0 || n <= a->max);
        case HELPER_ARG_INTEGER:
                n = json_integer_value(v);
                return json_is_integer(v) &&
                       (a->min == 0 && a->max == 0 ? true : n >= a->min && n <= a->max);
        case HELPER_ARG_BOOLEAN:
                return json_is_boolean(v);
        case HELPER_ARG_OBJECT:
                return json_is_object(v) && (a->max == 0 || json_object_size(v) <= (size_t)a->max);
        case HELPER_ARG_ARRAY:
                return json_is_array(v) && (a->max == 0 || json_array_size(v) <= (size_t)a->max);
        case HELPER_ARG_ID:
                return json_is_integer(v) ||
                       (json_is_string(v) &&
                        (a->max == 0 || json_string_length(v) <= (size_t)a->max));
        case HELPER_ARG_ANY:
                return true;
        }
        return false;
}

int helper_op_check_args(enum helper_op op, json_t *args, struct module_error *e) {
        const struct helper_op_def *d;
        const char *k;
        json_t *v;

        if ((unsigned)op >= HELPER_OP__COUNT)
                return arg_error(e, NULL, "unknown operation");
        d = &helper_ops[op];
        if (args && !json_is_object(args))
                return arg_error(e, NULL, "malformed arguments");
        json_object_foreach(args, k, v) {
                const struct helper_arg *a = NULL;
                for (size_t i = 0; i < d->n_args && !a; i++)
                        if (STREQ(d->args[i].name, k))
                                a = &d->args[i];
                if (!a)
                        return arg_error(e, k, "%s takes no argument \"%.32s\"", d->name, k);
                if (!arg_fits(a, v))
                        return arg_error(e, a->name, "%s: %s must be %s%s", d->name, a->name,
                                         type_name(a->type), a->max ? " within its bounds" : "");
        }
        for (size_t i = 0; i < d->n_args; i++)
                if (d->args[i].required && !json_object_get(args, d->args[i].name))
                        return arg_error(e, d->args[i].name, "%s needs %s", d->name,
                                         d->args[i].name);
        return 0;
}
