/* helperstubs.h — the front's typed stubs of the helper protocol: one
 * function per operation of common/helperops.h, in the spirit of OpenSSH's
 * monitor_wrap.c.  A stub builds the operation's arguments from C values
 * (the shape its row of helper_ops declares, which the helper checks) and
 * calls the helper through a link; no caller names an operation by its
 * string or builds its arguments by hand.
 *
 * Every stub returns what helper_call() returns: >= 0 with *ret the result
 * object (owned), or -errno with e filled (-EACCES: the helper refused;
 * -EPIPE: it cannot be reached, 503).  json_t arguments are taken over,
 * whatever the outcome.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/helperops.h"
#include "module.h"

/* How a caller reaches the helper: helper_call() in the daemon, an
 * in-process dispatcher in the fuzz target. */
typedef int (*helper_call_fn)(enum helper_op op, const char *session, const char *source,
                              json_t *args, int fd, json_t **ret, json_t **ret_details,
                              struct module_error *e);

/* A streaming call (daemon/helperclient.h: helper_call_stream): as
 * helper_call_fn, with the sink of its progress lines. */
typedef int (*helper_line_fn)(void *opaque, const char *line, size_t len);
typedef int (*helper_call_stream_fn)(enum helper_op op, const char *session, const char *source,
                                     json_t *args, helper_line_fn line, void *opaque,
                                     json_t **ret, json_t **ret_details, struct module_error *e);

struct helper_link {
        helper_call_fn call; /* NULL: no helper here (503) */
        /* For helper_op_command_stream: the streaming call and its sink
         * (NULL: the link cannot stream, 400). */
        helper_call_stream_fn call_stream;
        helper_line_fn line;
        void *line_opaque;
        const char *session; /* the caller's secret, or NULL */
        const char *source;  /* where the request came from, for the record */
        /* Optional: a refusal's extra fields (e.g. the "files" of a
         * conflict) go to *details (owned), else are dropped. */
        json_t **details;
};

/* The one way every stub goes: op with args (taken over; NULL = {}) and fd
 * (-1: none; stays the caller's). */
int helper_op_call(const struct helper_link *l, enum helper_op op, json_t *args, int fd,
                   json_t **ret, struct module_error *e);

/* Sessions and logins.  fd: the client's connection (the helper reads the
 * login's source off it), or -1. */
int helper_op_session_check(const struct helper_link *l, const char *secret, json_t **ret,
                            struct module_error *e);
int helper_op_csrf_check(const struct helper_link *l, const char *csrf, struct module_error *e);
int helper_op_csrf_renew(const struct helper_link *l, json_t **ret, struct module_error *e);
int helper_op_peer_session(const struct helper_link *l, int conn_fd, json_t **ret,
                           struct module_error *e);
int helper_op_peer_end(const struct helper_link *l, struct module_error *e);
int helper_op_login(const struct helper_link *l, const char *user, const char *password, int fd,
                    json_t **ret, struct module_error *e);
int helper_op_login_bootstrap(const struct helper_link *l, const char *token, int fd, json_t **ret,
                              struct module_error *e);
int helper_op_logout(const struct helper_link *l, json_t **ret, struct module_error *e);

/* Tokens: fields is the client's {name, role, expires_in} as sent (the
 * helper checks each and refuses any other). */
int helper_op_token_create(const struct helper_link *l, json_t *fields, json_t **ret,
                           struct module_error *e);
int helper_op_token_list(const struct helper_link *l, json_t **ret, struct module_error *e);
int helper_op_token_revoke(const struct helper_link *l, int64_t id, json_t **ret,
                           struct module_error *e);
/* user: whose sessions (NULL: the helper decides from the caller's role). */
int helper_op_session_list(const struct helper_link *l, const char *user, json_t **ret,
                           struct module_error *e);
int helper_op_session_end(const struct helper_link *l, int64_t id, json_t **ret,
                          struct module_error *e);

/* Modules. */
int helper_op_settings_apply(const struct helper_link *l, const char *module, json_t *patch,
                             bool dry_run, json_t **ret, struct module_error *e);
/* dry_run: a command that declares it (command_def_t.dry_run) reports what
 * it would do; the helper refuses it for any other. */
int helper_op_command(const struct helper_link *l, const char *module, const char *name,
                      json_t *args, bool dry_run, json_t **ret, struct module_error *e);
/* The same for a command that streams (module.h), its progress lines to
 * l->line as they come. */
int helper_op_command_stream(const struct helper_link *l, const char *module, const char *name,
                             json_t *args, bool dry_run, json_t **ret, struct module_error *e);
int helper_op_action(const struct helper_link *l, const char *module, const char *action,
                     json_t **ret, struct module_error *e);
int helper_op_module_read(const struct helper_link *l, const char *module, json_t *args,
                          json_t **ret, struct module_error *e);

/* The audit log.  before, module, user: NULL when not given; limit 0: the
 * helper's default. */
int helper_op_audit_list(const struct helper_link *l, const char *before, int64_t limit,
                         const char *module, const char *user, json_t **ret,
                         struct module_error *e);
int helper_op_audit_get(const struct helper_link *l, const char *id, json_t **ret,
                        struct module_error *e);
int helper_op_audit_verify(const struct helper_link *l, json_t **ret, struct module_error *e);
int helper_op_audit_forwarding(const struct helper_link *l, json_t **ret, struct module_error *e);
int helper_op_audit_rollback(const struct helper_link *l, const char *id, bool dry_run,
                             json_t **ret, struct module_error *e);
int helper_op_audit_since(const struct helper_link *l, int64_t after, json_t **ret,
                          struct module_error *e);
int helper_op_audit_refused(const struct helper_link *l, const char *method, const char *path,
                            const char *message, struct module_error *e);

/* The front's own: its counters. */
int helper_op_front_poll(const struct helper_link *l, json_t **ret, struct module_error *e);
/* Every module's own gauges for /metrics ({"families": […]}); the front's
 * modules reach it through modules_helper_call("module_gauges"). */
int helper_op_module_gauges(const struct helper_link *l, json_t **ret, struct module_error *e);
/* The front's own background reads as a monitor (the alert rules'
 * sources): args {"collection"} | {"module", "args"} | {"certificate"},
 * taken over; and the audit chain's verdict.  Modules reach both through
 * modules_helper_call("monitor_read" | "audit_check"). */
int helper_op_monitor_read(const struct helper_link *l, json_t *args, json_t **ret,
                           struct module_error *e);
int helper_op_audit_check(const struct helper_link *l, json_t **ret, struct module_error *e);
/* A module's own task in the helper (module.h helper_task); args taken
 * over.  The front's modules reach it through
 * modules_helper_call("module_task"). */
int helper_op_module_task(const struct helper_link *l, const char *module, json_t *args,
                          json_t **ret, struct module_error *e);

/* Collections.  id: NULL for the list (read) or a create (write); query: an
 * object of strings (taken over). */
int helper_op_collection_read(const struct helper_link *l, const char *collection, const char *id,
                              json_t *query, json_t **ret, struct module_error *e);
int helper_op_collection_write(const struct helper_link *l, const char *collection, const char *op,
                               const char *id, json_t *body, json_t *query, bool dry_run,
                               json_t **ret, struct module_error *e);
/* An action on one item; args: an object (taken over; NULL = {}). */
int helper_op_collection_action(const struct helper_link *l, const char *collection, const char *id,
                                const char *action, json_t *args, bool dry_run, json_t **ret,
                                struct module_error *e);
