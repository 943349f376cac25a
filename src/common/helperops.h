/* helperops.h — the helper protocol's operations, one table shared by the
 * front (which sends them through the typed stubs of daemon/helperstubs.h) and
 * the privileged helper (which dispatches them, helper.c).
 *
 * An operation is a value of enum helper_op and one row of helper_ops[]:
 * its wire name, the lowest role that may call it, its flags, and the schema
 * of its arguments.  The helper checks a request against its row before any
 * handler runs — the session (HELPER_OPF_SESSION), the role, then every
 * argument (known name, JSON type, bounds, required) — and writes the audit
 * record of an operation flagged HELPER_OPF_AUDITED itself.  Nothing else
 * names an operation by its string: the name is what goes on the wire.
 *
 * Adding an operation: a value here, a row in helperops.c, a handler in
 * helper.c's handlers[], a stub in daemon/helperstubs.c, and a probe in
 * tests/unit/test-helper.c (test_every_op_checks_the_role walks this table
 * and fails for an operation without one).
 *
 * Invariants: rows are indexed by their enum value (designated
 * initialisers); HELPER_OPF_SESSION is set exactly when min_role is not
 * ROLE_NONE; only an operation that reads, and reads neither the store nor
 * the throttle table, is HELPER_OPF_SLOW (it runs in a forked worker that
 * answers itself); an operation flagged HELPER_OPF_WORKER is audited and not
 * slow (its worker leaves the record and the answer to the helper).  The
 * unit tests check these for every row.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "roles.h"

enum helper_op {
        HELPER_OP_SESSION_CHECK,
        HELPER_OP_CSRF_CHECK,
        HELPER_OP_CSRF_RENEW,
        HELPER_OP_PEER_SESSION,
        HELPER_OP_PEER_END,
        HELPER_OP_LOGIN,
        HELPER_OP_LOGIN_BOOTSTRAP,
        HELPER_OP_LOGOUT,
        HELPER_OP_TOKEN_CREATE,
        HELPER_OP_TOKEN_LIST,
        HELPER_OP_TOKEN_REVOKE,
        HELPER_OP_SESSION_LIST,
        HELPER_OP_SESSION_END,
        HELPER_OP_SETTINGS_APPLY,
        HELPER_OP_COMMAND,
        HELPER_OP_ACTION,
        HELPER_OP_MODULE_READ,
        HELPER_OP_AUDIT_LIST,
        HELPER_OP_AUDIT_GET,
        HELPER_OP_AUDIT_VERIFY,
        HELPER_OP_AUDIT_ROLLBACK,
        HELPER_OP_AUDIT_SINCE,
        HELPER_OP_AUDIT_REFUSED,
        HELPER_OP_METRICS_STORE,
        HELPER_OP_METRICS_QUERY,
        HELPER_OP_METRICS_RECENT,
        HELPER_OP_FRONT_POLL,
        HELPER_OP_COLLECTION_READ,
        HELPER_OP_COLLECTION_WRITE,
        HELPER_OP_COLLECTION_ACTION,
        HELPER_OP_MODULE_GAUGES,
        HELPER_OP_MODULE_STATE_PUT,
        HELPER_OP_MODULE_STATE_GET,
        HELPER_OP_MODULE_LOG_APPEND,
        HELPER_OP_MODULE_LOG_LIST,
        HELPER_OP_MONITOR_READ,
        HELPER_OP_AUDIT_CHECK,
        HELPER_OP_MODULE_TASK,
        HELPER_OP_AUDIT_FORWARDING,
        HELPER_OP__COUNT,
};

enum {
        HELPER_OPF_SESSION = 1u << 0,          /* needs a live session (min_role applies) */
        HELPER_OPF_BOOTSTRAP_OK = 1u << 1,     /* the bootstrap token may act here */
        HELPER_OPF_AUDITED = 1u << 2,          /* the dispatcher writes the handler's record */
        HELPER_OPF_SLOW = 1u << 3,             /* runs in a forked worker (helper.h) */
        HELPER_OPF_READS_ONLY = 1u << 4,       /* changes nothing an account's authority hangs on */
        HELPER_OPF_CHANGES_ACCOUNTS = 1u << 5, /* may delete or rename an account */
        /* Audited, and may wait long (an item action): runs in a forked
         * worker that leaves its outcome; the helper writes the record and
         * answers (helper.c). */
        HELPER_OPF_WORKER = 1u << 6,
};

enum helper_arg_type {
        HELPER_ARG_STRING,  /* bounds: length in bytes */
        HELPER_ARG_INTEGER, /* bounds: value */
        HELPER_ARG_BOOLEAN,
        HELPER_ARG_OBJECT, /* bounds: number of members */
        HELPER_ARG_ARRAY,  /* bounds: number of items */
        HELPER_ARG_ID,     /* a record id: an integer, or a string (bounds: its length) */
        HELPER_ARG_ANY,    /* any value, checked by the handler (a client's own field) */
};

struct helper_arg {
        const char *name;
        enum helper_arg_type type;
        bool required;
        int64_t min, max; /* see the type; min = max = 0: no bound but the frame's */
};

struct helper_op_def {
        const char *name;   /* on the wire */
        enum role min_role; /* ROLE_NONE: no session */
        unsigned flags;     /* HELPER_OPF_* */
        const struct helper_arg *args;
        size_t n_args;
};

extern const struct helper_op_def helper_ops[HELPER_OP__COUNT];

static inline bool helper_op_has(enum helper_op op, unsigned flag) {
        return (unsigned)op < HELPER_OP__COUNT && (helper_ops[op].flags & flag) != 0;
}

/* The operation named name; -EINVAL when there is none. */
int helper_op_from_name(const char *name, enum helper_op *ret);

/* Checks args (an object, or NULL for none) against the operation's schema:
 * every member known, of its type and within its bounds, every required one
 * present.  -EINVAL with e filled (400 bad_request, the field named). */
int helper_op_check_args(enum helper_op op, json_t *args, struct module_error *e);
