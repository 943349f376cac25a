/* helperstubs.c — see helperstubs.h.  Each stub packs its C arguments into
 * the object its row of helper_ops declares and goes through
 * helper_op_call(); the helper checks that object against the same row, so
 * a stub out of step with the table is refused (400) and shows in the
 * tests at once.  Optional arguments are left out rather than sent as
 * null. */
#include "helperstubs.h"

#include <errno.h>

#include "util.h"

int helper_op_call(const struct helper_link *l, enum helper_op op, json_t *args, int fd,
                   json_t **ret, struct module_error *e) {
        json_t *details = NULL, *res = NULL;
        int r;

        if (!l->call) {
                json_decref(args);
                module_error_set(e, 503, "unavailable", NULL, "the privileged helper is not here");
                return -EPIPE;
        }
        r = l->call(op, l->session, l->source, args, fd, &res, l->details ? &details : NULL, e);
        if (r < 0) {
                if (l->details) {
                        json_decref(*l->details);
                        *l->details = details;
                }
                return r;
        }
        if (ret)
                *ret = res;
        else
                json_decref(res);
        return r;
}

/* Packs with json_pack; a pack that fails (out of memory) is an error
 * before anything is sent. */
static int call_packed(const struct helper_link *l, enum helper_op op, json_t *args, int fd,
                       json_t **ret, struct module_error *e) {
        if (!args) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return helper_op_call(l, op, args, fd, ret, e);
}

/* Sets key to a string when s is not NULL. */
static json_t *with_string(json_t *o, const char *key, const char *s) {
        if (o && s && json_object_set_new(o, key, json_string(s)) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int helper_op_session_check(const struct helper_link *l, const char *secret, json_t **ret,
                            struct module_error *e) {
        return call_packed(l, HELPER_OP_SESSION_CHECK, json_pack("{s:s}", "secret", secret), -1,
                           ret, e);
}

int helper_op_csrf_check(const struct helper_link *l, const char *csrf, struct module_error *e) {
        return call_packed(l, HELPER_OP_CSRF_CHECK, json_pack("{s:s}", "csrf", csrf), -1, NULL, e);
}

int helper_op_csrf_renew(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_CSRF_RENEW, NULL, -1, ret, e);
}

int helper_op_peer_session(const struct helper_link *l, int conn_fd, json_t **ret,
                           struct module_error *e) {
        return helper_op_call(l, HELPER_OP_PEER_SESSION, NULL, conn_fd, ret, e);
}

int helper_op_peer_end(const struct helper_link *l, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_PEER_END, NULL, -1, NULL, e);
}

int helper_op_login(const struct helper_link *l, const char *user, const char *password, int fd,
                    json_t **ret, struct module_error *e) {
        return call_packed(l, HELPER_OP_LOGIN,
                           json_pack("{s:s, s:s}", "user", user, "password", password), fd, ret, e);
}

int helper_op_login_bootstrap(const struct helper_link *l, const char *token, int fd, json_t **ret,
                              struct module_error *e) {
        return call_packed(l, HELPER_OP_LOGIN_BOOTSTRAP, with_string(json_object(), "token", token),
                           fd, ret, e);
}

int helper_op_logout(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_LOGOUT, NULL, -1, ret, e);
}

int helper_op_token_create(const struct helper_link *l, json_t *fields, json_t **ret,
                           struct module_error *e) {
        return call_packed(l, HELPER_OP_TOKEN_CREATE, fields, -1, ret, e);
}

int helper_op_token_list(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_TOKEN_LIST, NULL, -1, ret, e);
}

int helper_op_token_revoke(const struct helper_link *l, int64_t id, json_t **ret,
                           struct module_error *e) {
        return call_packed(l, HELPER_OP_TOKEN_REVOKE, json_pack("{s:I}", "id", (json_int_t)id), -1,
                           ret, e);
}

int helper_op_session_list(const struct helper_link *l, const char *user, json_t **ret,
                           struct module_error *e) {
        return call_packed(l, HELPER_OP_SESSION_LIST, with_string(json_object(), "user", user), -1,
                           ret, e);
}

int helper_op_session_end(const struct helper_link *l, int64_t id, json_t **ret,
                          struct module_error *e) {
        return call_packed(l, HELPER_OP_SESSION_END, json_pack("{s:I}", "id", (json_int_t)id), -1,
                           ret, e);
}

int helper_op_settings_apply(const struct helper_link *l, const char *module, json_t *patch,
                             bool dry_run, json_t **ret, struct module_error *e) {
        return call_packed(l, HELPER_OP_SETTINGS_APPLY,
                           json_pack("{s:s, s:o, s:b}", "module", module, "patch",
                                     patch ? patch : json_object(), "dry_run", dry_run),
                           -1, ret, e);
}

int helper_op_command(const struct helper_link *l, const char *module, const char *name,
                      json_t *args, bool dry_run, json_t **ret, struct module_error *e) {
        return call_packed(l, HELPER_OP_COMMAND,
                           json_pack("{s:s, s:s, s:o, s:b}", "module", module, "name", name, "args",
                                     args ? args : json_object(), "dry_run", dry_run),
                           -1, ret, e);
}

int helper_op_command_stream(const struct helper_link *l, const char *module, const char *name,
                             json_t *args, bool dry_run, json_t **ret, struct module_error *e) {
        json_t *a = json_pack("{s:s, s:s, s:o, s:b}", "module", module, "name", name, "args",
                              args ? args : json_object(), "dry_run", dry_run);
        json_t *details = NULL, *res = NULL;
        int r;

        if (!a) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        if (!l->call_stream || !l->line) {
                json_decref(a);
                module_error_set(e, 400, "bad_request", "stream", "this connection cannot stream");
                return -EINVAL;
        }
        r = l->call_stream(HELPER_OP_COMMAND, l->session, l->source, a, l->line, l->line_opaque,
                           &res, l->details ? &details : NULL, e);
        if (r < 0) {
                if (l->details) {
                        json_decref(*l->details);
                        *l->details = details;
                }
                return r;
        }
        if (ret)
                *ret = res;
        else
                json_decref(res);
        return r;
}

int helper_op_action(const struct helper_link *l, const char *module, const char *action,
                     json_t **ret, struct module_error *e) {
        return call_packed(l, HELPER_OP_ACTION,
                           json_pack("{s:s, s:s}", "module", module, "action", action), -1, ret, e);
}

int helper_op_module_read(const struct helper_link *l, const char *module, json_t *args,
                          json_t **ret, struct module_error *e) {
        return call_packed(
                l, HELPER_OP_MODULE_READ,
                json_pack("{s:s, s:o}", "module", module, "args", args ? args : json_object()), -1,
                ret, e);
}

int helper_op_audit_list(const struct helper_link *l, const char *before, int64_t limit,
                         const char *module, const char *user, json_t **ret,
                         struct module_error *e) {
        json_t *args = with_string(json_object(), "before", before);

        args = with_string(with_string(args, "module", module), "user", user);
        if (args && limit > 0 && json_object_set_new(args, "limit", json_integer(limit)) < 0) {
                json_decref(args);
                args = NULL;
        }
        return call_packed(l, HELPER_OP_AUDIT_LIST, args, -1, ret, e);
}

int helper_op_audit_get(const struct helper_link *l, const char *id, json_t **ret,
                        struct module_error *e) {
        return call_packed(l, HELPER_OP_AUDIT_GET, json_pack("{s:s}", "id", id), -1, ret, e);
}

int helper_op_audit_verify(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_AUDIT_VERIFY, NULL, -1, ret, e);
}

int helper_op_audit_forwarding(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_AUDIT_FORWARDING, NULL, -1, ret, e);
}

int helper_op_audit_rollback(const struct helper_link *l, const char *id, bool dry_run,
                             json_t **ret, struct module_error *e) {
        return call_packed(l, HELPER_OP_AUDIT_ROLLBACK,
                           json_pack("{s:s, s:b}", "id", id, "dry_run", dry_run), -1, ret, e);
}

int helper_op_audit_since(const struct helper_link *l, int64_t after, json_t **ret,
                          struct module_error *e) {
        return call_packed(l, HELPER_OP_AUDIT_SINCE, json_pack("{s:I}", "after", (json_int_t)after),
                           -1, ret, e);
}

int helper_op_audit_refused(const struct helper_link *l, const char *method, const char *path,
                            const char *message, struct module_error *e) {
        return call_packed(
                l, HELPER_OP_AUDIT_REFUSED,
                json_pack("{s:s, s:s, s:s}", "method", method, "path", path, "message", message),
                -1, NULL, e);
}

int helper_op_front_poll(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_FRONT_POLL, NULL, -1, ret, e);
}

int helper_op_module_gauges(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_MODULE_GAUGES, NULL, -1, ret, e);
}

int helper_op_monitor_read(const struct helper_link *l, json_t *args, json_t **ret,
                           struct module_error *e) {
        return helper_op_call(l, HELPER_OP_MONITOR_READ, args, -1, ret, e);
}

int helper_op_audit_check(const struct helper_link *l, json_t **ret, struct module_error *e) {
        return helper_op_call(l, HELPER_OP_AUDIT_CHECK, NULL, -1, ret, e);
}

int helper_op_module_task(const struct helper_link *l, const char *module, json_t *args,
                          json_t **ret, struct module_error *e) {
        return call_packed(l, HELPER_OP_MODULE_TASK,
                           json_pack("{s:s, s:o}", "module", module, "args",
                                     args ? args : json_object()),
                           -1, ret, e);
}

int helper_op_collection_read(const struct helper_link *l, const char *collection, const char *id,
                              json_t *query, json_t **ret, struct module_error *e) {
        json_t *args = json_pack("{s:s, s:o}", "collection", collection, "query",
                                 query ? query : json_object());

        return call_packed(l, HELPER_OP_COLLECTION_READ, with_string(args, "id", id), -1, ret, e);
}

int helper_op_collection_write(const struct helper_link *l, const char *collection, const char *op,
                               const char *id, json_t *body, json_t *query, bool dry_run,
                               json_t **ret, struct module_error *e) {
        json_t *args = json_pack("{s:s, s:s, s:o, s:o, s:b}", "collection", collection, "op", op,
                                 "body", body ? body : json_object(), "query",
                                 query ? query : json_object(), "dry_run", dry_run);

        return call_packed(l, HELPER_OP_COLLECTION_WRITE, with_string(args, "id", id), -1, ret, e);
}

int helper_op_collection_action(const struct helper_link *l, const char *collection, const char *id,
                                const char *action, json_t *args, bool dry_run, json_t **ret,
                                struct module_error *e) {
        return call_packed(l, HELPER_OP_COLLECTION_ACTION,
                           json_pack("{s:s, s:s, s:s, s:o, s:b}", "collection", collection, "id",
                                     id, "action", action, "args", args ? args : json_object(),
                                     "dry_run", dry_run),
                           -1, ret, e);
}
