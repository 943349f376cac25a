/* api.c — routes and handlers of API version 1 (docs/api.md).
 *
 * One table maps path patterns to a handler per method; a path that matches
 * with the wrong method is 405 with Allow, no match is 404.  Handlers are
 * generic over the module tables: nothing here names a module.  Every error
 * leaves through api_error() so the body always follows the contract. */
#include "api.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cookie.h"
#include "events.h"
#include "jsonutil.h"
#include "kv.h"
#include "roles.h"
#include "registry.h"
#include "util.h"

#define MAX_SEGMENTS    8
/* Long enough for any item id a module may want to judge itself (a systemd
 * unit name is up to 255 bytes; one over 256 is the module's 422 naming the
 * field, not the router's 404). */
#define MAX_SEGMENT_LEN 512
#define LIST_BODY_MAX   (64u << 20) /* a collection list sent from the helper's memfd */

typedef void (*handler_t)(const struct api_request *req, char **params, struct api_response *resp);

/* A route row is also the route's documentation: the OpenAPI generator
 * (tools/gen-openapi.c) reads these rows through api_route_walk(), so the
 * document and the dispatcher cannot disagree on what is served. */
struct route {
        const char *method;
        const char *pattern; /* "api/v1/modules/ * /schema" with '*' segments */
        int min_role;        /* enum role */
        handler_t handler;
        const char *params;   /* the '*' segments' names, space-separated */
        const char *summary;  /* one line, for the document */
        const char *request;  /* the body's schema (a component's name), or NULL */
        const char *response; /* the answer's schema (a component's name) */
        const char *query;    /* the query arguments it reads, space-separated */
        const char *flags;    /* the query flags it reads (query_flag()) */
};

void api_response_clear(struct api_response *resp) {
        json_decref(resp->body);
        json_decref(resp->events_params);
        free(resp->set_cookie);
        free(resp->text);
        if (resp->has_text_fd)
                close(resp->text_fd);
        *resp = (struct api_response){0};
}

void api_error(struct api_response *resp, int status, const char *code, const char *field,
               const char *fmt, ...) {
        char msg[600], fld[160];
        va_list ap;
        json_t *err;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        /* Messages quote what the client sent, possibly cut mid-character. */
        utf8_sanitize(msg);
        json_decref(resp->body);
        err = json_pack("{s:s, s:s}", "code", code, "message", msg);
        if (err && field && *field) {
                snprintf(fld, sizeof fld, "%s", field);
                utf8_sanitize(fld);
                json_object_set_new(err, "field", json_string(fld));
        }
        resp->status = status;
        resp->body = json_pack("{s:o*}", "error", err);
}

static void from_module_error(struct api_response *resp, const struct module_error *e, int r) {
        if (e->status)
                api_error(resp, e->status, e->code, e->field, "%s", e->message);
        else
                api_error(resp, 500, "internal", NULL, "internal error: %s",
                          strerror(r < 0 ? -r : r));
}

static void ok(struct api_response *resp, json_t *body) {
        if (!body) {
                api_error(resp, 500, "internal", NULL, "out of memory");
                return;
        }
        resp->status = 200;
        resp->body = body;
}

/* The first value of a query argument; NULL if absent or bare. */
static const char *query_value(const struct api_request *req, const char *key) {
        const char *v = NULL;
        return req->query && req->query(req->opaque, key, &v) > 0 ? v : NULL;
}

/* Every flag of every route is read here, in one grammar (flag_parse():
 * bare, 1, true, 0, false); absent is false; anything else, or the flag
 * given twice, is 400 — never a guess, so that "?dry_run=on" or
 * "?dry_run=0&dry_run=1" cannot apply what was meant as a dry run. */
static int query_flag_get(const struct api_request *req, const char *key, bool *ret,
                          struct module_error *e) {
        const char *v = NULL;
        size_t n = req->query ? req->query(req->opaque, key, &v) : 0;

        if (n == 0) {
                *ret = false;
                return 0;
        }
        if (n > 1) {
                module_error_set(e, 400, "invalid_argument", key,
                                 "%s is given more than once; give a flag once", key);
                return -EINVAL;
        }
        if (flag_parse(v, ret) < 0) {
                module_error_set(e, 400, "invalid_argument", key,
                                 "%s is a flag: give %s, %s=1, %s=true, %s=0 or %s=false", key, key,
                                 key, key, key, key);
                return -EINVAL;
        }
        return 0;
}

static void from_module_error(struct api_response *resp, const struct module_error *e, int r);

/* query_flag_get() for a handler: false with resp filled on a bad flag. */
static bool query_flag(const struct api_request *req, const char *key, bool *ret,
                       struct api_response *resp) {
        struct module_error e = {0};
        int r = query_flag_get(req, key, ret, &e);
        if (r < 0)
                from_module_error(resp, &e, r);
        return r >= 0;
}

static const module_t *find_module(char *name, struct api_response *resp) {
        const module_t *m = module_find(name);
        if (!m)
                api_error(resp, 404, "unknown_module", NULL, "unknown module \"%.64s\"", name);
        return m;
}

/* Parses an optional JSON object body; an empty body is an empty object. */
static json_t *body_object(const struct api_request *req, struct api_response *resp) {
        char code[32], msg[300];
        json_t *v = NULL;

        if (req->body_len == 0)
                return json_object();
        if (!req->content_type || strncasecmp(req->content_type, "application/json", 16) != 0 ||
            (req->content_type[16] != '\0' && req->content_type[16] != ';')) {
                api_error(resp, 415, "unsupported_media_type", NULL,
                          "the body must be application/json");
                return NULL;
        }
        if (json_parse_body(req->body, req->body_len, (int)req->max_json_depth, &v, code,
                            sizeof code, msg, sizeof msg) < 0) {
                api_error(resp, 400, code, NULL, "%s", msg);
                return NULL;
        }
        return v;
}

static const char *ctx_query(const struct module_ctx *ctx, const char *key) {
        const struct api_request *req = ctx->opaque;
        return query_value(req, key);
}

static int ctx_query_flag(const struct module_ctx *ctx, const char *key, bool *ret,
                          struct module_error *e) {
        return query_flag_get(ctx->opaque, key, ret, e);
}

/* The way to the helper for the caller of req. */
static struct helper_link request_link(const struct api_request *req) {
        return (struct helper_link){
                .call = req->helper,
                .call_stream = req->helper_stream,
                .line = req->stream_line,
                .line_opaque = req->stream_opaque,
                .session = req->session,
                .source = req->ctx.source,
        };
}

static int ctx_privileged_read(const struct module_ctx *ctx, const char *module, json_t *args,
                               json_t **ret, struct module_error *e) {
        const struct helper_link l = request_link(ctx->opaque);
        return helper_op_module_read(&l, module, args, ret, e);
}

/* One helper call of a request: its link, and what the helper answered. */
struct hcall {
        struct helper_link l;
        json_t *ret, *details;
        struct module_error e;
};

static void hcall_init(struct hcall *c, const struct api_request *req) {
        *c = (struct hcall){.l = request_link(req)};
        c->l.details = &c->details;
}

static json_t *hcall_done(struct hcall *c, int r, struct api_response *resp);
static void audit_refused(const struct api_request *req, const struct api_response *refusal);

/* The context modules see for this request. */
static struct module_ctx request_ctx(const struct api_request *req) {
        struct module_ctx c = req->ctx;
        c.query = ctx_query;
        c.query_flag = ctx_query_flag;
        c.privileged_read = ctx_privileged_read;
        c.opaque = req;
        return c;
}

/* With ?csrf=1 a browser session (cookie) also gets a fresh CSRF token: the
 * console keeps it in memory only, so after a reload this is where it gets
 * one.  The old one stops working, and the front forgets what it had
 * checked.  Without the flag whoami changes nothing. */
static void h_whoami(const struct api_request *req, char **p, struct api_response *resp) {
        json_t *o;
        bool csrf;

        if (!query_flag(req, "csrf", &csrf, resp))
                return;
        o = json_pack("{s:s, s:s, s:s, s:s}", "user", req->ctx.user, "role", req->ctx.role, "auth",
                      req->auth ? req->auth : "none", "source", req->ctx.source);
        if (o && req->auth && STREQ(req->auth, "cookie") && csrf) {
                struct hcall c;
                json_t *ret;

                hcall_init(&c, req);
                ret = hcall_done(&c, helper_op_csrf_renew(&c.l, &c.ret, &c.e), resp);
                if (!ret) {
                        json_decref(o);
                        return;
                }
                json_object_set(o, "csrf_token", json_object_get(ret, "csrf_token"));
                json_decref(ret);
                resp->forget_session = req->session_id;
        }
        ok(resp, o);
}

static json_t *module_status(const struct api_request *req, const module_t *m, bool full) {
        struct module_ctx ctx = request_ctx(req);
        struct module_error e = {0};
        json_t *st = NULL, *o;
        int r;

        r = full && m->fullstatus ? m->fullstatus(&ctx, &st, &e)
            : m->status           ? m->status(&ctx, &st, &e)
                                  : 0;
        o = json_pack("{s:s, s:s}", "name", m->name, "summary", m->summary);
        if (!o) {
                json_decref(st);
                return NULL;
        }
        /* "reason": why a module is not running, for the CLI's list and the
         * console; a module's own status may set it. */
        if (r < 0 || (!st && m->status)) {
                const char *why = e.message[0] ? e.message : strerror(-r);

                json_object_set_new(o, "state", json_string("unavailable"));
                json_object_set_new(o, "error", json_string(why));
                json_object_set_new(o, "reason", json_string(why));
        } else if (st) {
                json_object_update(o, st);
        } else {
                json_object_set_new(o, "state", json_string("n/a"));
                json_object_set_new(o, "reason",
                                    json_string("the module has no status of its own: it "
                                                "manages data (steward settings, or its "
                                                "collections), not a service"));
        }
        json_decref(st);
        return o;
}

static void h_modules(const struct api_request *req, char **p, struct api_response *resp) {
        json_t *list = json_array();
        for (size_t i = 0; i < steward_modules_count; i++)
                json_array_append_new(list, module_status(req, steward_modules[i], false));
        ok(resp, json_pack("{s:o}", "modules", list));
}

static void h_module(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        bool full;
        if (m && query_flag(req, "full", &full, resp))
                ok(resp, module_status(req, m, full));
}

static void h_schema(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        if (m)
                ok(resp, module_schema_json(m));
}

static bool valid_key_path(const char *key) {
        const char *s = key;
        unsigned depth = 0;

        if (!*key)
                return false;
        for (;;) {
                const char *c = strchr(s, ':');
                size_t n = c ? (size_t)(c - s) : strlen(s);
                if (!kv_valid_component(s, n) || ++depth > KV_MAX_DEPTH)
                        return false;
                if (!c)
                        return true;
                s = c + 1;
        }
}

static void h_settings_get(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        struct module_error e = {0};
        const char *key;
        json_t *tree = NULL, *sub, *out;
        int r;

        if (!m)
                return;
        r = module_settings_read(m, &tree, &e);
        if (r == -ENOENT) {
                ok(resp, json_object());
                return;
        }
        if (r < 0) {
                from_module_error(resp, &e, r);
                return;
        }
        if (req->role < ROLE_ADMIN)
                module_settings_redact(m, tree);
        key = query_value(req, "key");
        if (!key) {
                ok(resp, tree);
                return;
        }
        if (!valid_key_path(key)) {
                json_decref(tree);
                api_error(resp, 400, "invalid_argument", "key",
                          "\"%.128s\" is not a settings key (components of letters, digits, "
                          "'_', '-', '.', joined by ':')",
                          key);
                return;
        }
        sub = json_tree_get(tree, key);
        if (!sub) {
                json_decref(tree);
                api_error(resp, 404, "unknown_setting", key, "%s has no setting \"%.128s\"",
                          m->name, key);
                return;
        }
        out = json_object();
        json_tree_set(out, key, json_incref(sub));
        json_decref(tree);
        ok(resp, out);
}

/* The result of a helper call that returned r; or NULL, with resp filled
 * with the helper's refusal and its details (e.g. the files of a conflict). */
static json_t *hcall_done(struct hcall *c, int r, struct api_response *resp) {
        if (r >= 0) {
                json_decref(c->details);
                return c->ret ? c->ret : json_object();
        }
        if (STREQ(c->e.code, "throttled") || STREQ(c->e.code, "rate_limited")) {
                /* The helper puts the seconds to wait in the field. */
                int64_t secs;
                if (safe_atoi64(c->e.field, &secs) >= 0 && secs > 0)
                        snprintf(resp->retry_after, sizeof resp->retry_after, "%lld",
                                 (long long)secs);
                c->e.field[0] = '\0';
        }
        from_module_error(resp, &c->e, r);
        if (json_is_object(c->details))
                json_object_update_missing(json_object_get(resp->body, "error"), c->details);
        json_decref(c->details);
        return NULL;
}

/* Takes the helper's "changed_modules" out of its answer (it is for this
 * process, not for clients) into resp->changed_modules. */
static void take_changed_modules(json_t *ret, struct api_response *resp) {
        json_t *names = json_object_get(ret, "changed_modules"), *v;
        size_t i;

        json_array_foreach(names, i, v) {
                const module_t *m = module_find(json_string_value(v) ?: "");
                if (m && resp->n_changed_modules < API_CHANGED_MODULES_MAX)
                        resp->changed_modules[resp->n_changed_modules++] = m;
        }
        json_object_del(ret, "changed_modules");
}

static void h_settings_patch(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        bool dry_run;
        struct hcall c;
        json_t *body, *ret;

        if (!m || !query_flag(req, "dry_run", &dry_run, resp) || !(body = body_object(req, resp)))
                return;
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_settings_apply(&c.l, m->name, body, dry_run, &c.ret, &c.e),
                         resp);
        if (!ret)
                return;
        take_changed_modules(ret, resp);
        ok(resp, ret);
}

/* A command run here (one that changes nothing) does not stream: the
 * streams are the helper's workers' (module.h).  Its progress goes
 * nowhere. */
static int front_progress_none(const struct module_ctx *ctx, json_t *event) {
        (void)ctx;
        (void)event;
        return 0;
}

/* Runs command c of m with args (taken over): the role pre-check, then in
 * the helper (which checks and audits) for a command that changes state,
 * else here.  With ?stream=1 (a command that streams) its progress goes to
 * the request's sink as it comes. */
static void command_run(const struct api_request *req, const module_t *m, const command_def_t *c,
                        json_t *args, struct api_response *resp) {
        struct module_error e = {0};
        json_t *ret = NULL;
        bool dry_run = false, stream = false;
        int r;

        /* ?dry_run=1 only for a command that declares it: elsewhere it
         * would run for real what was meant as a dry run. */
        if (!query_flag(req, "dry_run", &dry_run, resp) ||
            !query_flag(req, "stream", &stream, resp)) {
                json_decref(args);
                return;
        }
        if (dry_run && !c->dry_run) {
                json_decref(args);
                api_error(resp, 400, "bad_request", "dry_run", "%s:%s has no dry run", m->name,
                          c->name);
                return;
        }
        if (stream && (!c->streams || !c->changes_state)) {
                json_decref(args);
                api_error(resp, 400, "bad_request", "stream",
                          "%s:%s does not stream (no ?stream=1)", m->name, c->name);
                return;
        }
        /* A pre-check: the helper is the authority for a command that
         * changes state, and checks the role again. */
        if (req->role < command_min_role(c)) {
                json_decref(args);
                api_error(resp, 403, "forbidden", NULL, "%s:%s needs the role %s", m->name, c->name,
                          role_to_string((enum role)command_min_role(c)));
                audit_refused(req, resp);
                return;
        }
        if (c->changes_state) {
                /* Changes go through the helper, which checks and audits them. */
                struct hcall hc;
                hcall_init(&hc, req);
                ret = hcall_done(&hc,
                                 stream ? helper_op_command_stream(&hc.l, m->name, c->name, args,
                                                                   dry_run, &hc.ret, &hc.e)
                                        : helper_op_command(&hc.l, m->name, c->name, args,
                                                            dry_run, &hc.ret, &hc.e),
                                 resp);
                if (!ret)
                        return;
                if (!json_is_object(ret))
                        ret = json_pack("{s:o}", "result", ret);
                if (!dry_run)
                        resp->changed_modules[resp->n_changed_modules++] = m;
                ok(resp, ret);
                return;
        }
        r = command_check_args(c, args, &e);
        if (r >= 0) {
                struct module_ctx ctx = request_ctx(req);
                ctx.dry_run = dry_run;
                ctx.progress = front_progress_none;
                r = c->run(&ctx, args, &ret, &e);
        }
        json_decref(args);
        if (r < 0) {
                json_decref(ret);
                from_module_error(resp, &e, r);
                return;
        }
        if (ret && !json_is_object(ret))
                ret = json_pack("{s:o}", "result", ret);
        ok(resp, ret ? ret : json_pack("{s:s}", "result", "ok"));
}

static void h_command(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        const command_def_t *c;
        json_t *args;

        if (!m)
                return;
        c = module_find_command(m, p[1]);
        if (!c) {
                api_error(resp, 404, "unknown_command", NULL, "%s has no command \"%.64s\"",
                          m->name, p[1]);
                return;
        }
        if (req->role < command_min_role(c)) {
                command_run(req, m, c, NULL, resp);
                return;
        }
        if (!(args = body_object(req, resp)))
                return;
        command_run(req, m, c, args, resp);
}

static void h_action(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        struct hcall c;
        json_t *ret;

        if (!m)
                return;
        if (!STREQ(p[1], "start") && !STREQ(p[1], "stop") && !STREQ(p[1], "restart")) {
                api_error(resp, 404, "not_found", NULL, "no such action \"%.64s\"", p[1]);
                return;
        }
        if ((STREQ(p[1], "start") && !m->start) || (STREQ(p[1], "stop") && !m->stop) ||
            (STREQ(p[1], "restart") && !m->restart)) {
                api_error(resp, 405, "not_supported", NULL, "%s has no %s action", m->name, p[1]);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_action(&c.l, m->name, p[1], &c.ret, &c.e), resp);
        if (ret)
                ok(resp, ret);
}

static void set_session_cookie(const struct api_request *req, struct api_response *resp,
                               const char *token, unsigned max_age) {
        free(resp->set_cookie);
        resp->set_cookie = NULL;
        /* The __Host- prefix needs Secure, Path=/ and no Domain (cookie.h). */
        if (asprintf(&resp->set_cookie,
                     SESSION_COOKIE "=%s; Path=/; Max-Age=%u; HttpOnly; Secure; SameSite=Strict",
                     token, max_age) < 0)
                resp->set_cookie = NULL;
}

static void h_login(const struct api_request *req, char **p, struct api_response *resp) {
        json_t *body = body_object(req, resp), *ret;
        const char *token;
        struct hcall c;
        bool bootstrap;
        int r;

        if (!body)
                return;
        bootstrap = json_object_get(body, "bootstrap_token") != NULL;
        if (bootstrap ? !json_is_string(json_object_get(body, "bootstrap_token")) ||
                                json_object_size(body) != 1
                      : !json_is_string(json_object_get(body, "user")) ||
                                !json_is_string(json_object_get(body, "password")) ||
                                json_object_size(body) != 2) {
                json_decref(body);
                api_error(resp, 400, "bad_request", NULL,
                          "give {\"user\": …, \"password\": …} or {\"bootstrap_token\": …}");
                return;
        }
        /* The helper reads where the login comes from off the connection. */
        hcall_init(&c, req);
        r = bootstrap ? helper_op_login_bootstrap(
                                &c.l, json_string_value(json_object_get(body, "bootstrap_token")),
                                req->conn_fd, &c.ret, &c.e)
                      : helper_op_login(&c.l, json_string_value(json_object_get(body, "user")),
                                        json_string_value(json_object_get(body, "password")),
                                        req->conn_fd, &c.ret, &c.e);
        json_decref(body);
        ret = hcall_done(&c, r, resp);
        if (!ret)
                return;
        token = json_string_value(json_object_get(ret, "token"));
        if (token)
                set_session_cookie(req, resp, token, req->session_lifetime);
        json_object_del(ret, "session_id");
        ok(resp, ret);
}

/* What the login page shows before anyone logs in: the host name (which
 * server this tab is; discovery and the certificate tell as much) and
 * whether the one-time bootstrap token is still unused.  Open to anyone;
 * the connection stays unauthenticated, within its budget (connbudget.h). */
static void h_login_info(const struct api_request *req, char **p, struct api_response *resp) {
        const struct helper_link l = {.call = req->helper, .source = req->ctx.source};
        struct module_error e = {0};
        char host[HOST_NAME_MAX + 1] = "";
        json_t *poll = NULL;
        int r;

        if (gethostname(host, sizeof host) < 0)
                host[0] = '\0';
        host[sizeof host - 1] = '\0';
        utf8_sanitize(host);
        r = helper_op_front_poll(&l, &poll, &e);
        if (r < 0) {
                from_module_error(resp, &e, r);
                return;
        }
        ok(resp, json_pack("{s:s, s:b}", "hostname", host, "bootstrap",
                           json_is_true(json_object_get(poll, "bootstrap"))));
        json_decref(poll);
}

static void h_logout(const struct api_request *req, char **p, struct api_response *resp) {
        struct hcall c;
        json_t *ret;

        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_logout(&c.l, &c.ret, &c.e), resp);
        if (!ret)
                return;
        resp->forget_session = req->session_id;
        set_session_cookie(req, resp, "", 0);
        ok(resp, ret);
}

static void h_tokens_create(const struct api_request *req, char **p, struct api_response *resp) {
        json_t *body = body_object(req, resp), *ret;
        struct hcall c;

        if (!body)
                return;
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_token_create(&c.l, body, &c.ret, &c.e), resp);
        if (ret && req->bootstrap)
                resp->forget_session = req->session_id;
        if (ret)
                ok(resp, ret);
}

static void h_tokens_list(const struct api_request *req, char **p, struct api_response *resp) {
        struct hcall c;
        json_t *ret;

        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_token_list(&c.l, &c.ret, &c.e), resp);
        if (ret)
                ok(resp, ret);
}

static void h_token_revoke(const struct api_request *req, char **p, struct api_response *resp) {
        struct hcall c;
        int64_t id;
        json_t *ret;

        if (safe_atoi64(p[0], &id) < 0 || id <= 0) {
                api_error(resp, 404, "not_found", NULL, "no token \"%.32s\"", p[0]);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_token_revoke(&c.l, id, &c.ret, &c.e), resp);
        if (!ret)
                return;
        resp->forget_session = id;
        ok(resp, ret);
}

static void h_sessions_list(const struct api_request *req, char **p, struct api_response *resp) {
        const char *user = query_value(req, "user");
        struct hcall c;
        json_t *ret;

        if (user && (!*user || strlen(user) > 63 || !utf8_valid(user, strlen(user)))) {
                api_error(resp, 400, "invalid_argument", "user", "user is an account name");
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_session_list(&c.l, user, &c.ret, &c.e), resp);
        if (ret)
                ok(resp, ret);
}

/* Ending the caller's own current session is a logout: the cookie goes too.
 * The helper says whether it was the current one. */
static void h_session_end(const struct api_request *req, char **p, struct api_response *resp) {
        struct hcall c;
        int64_t id;
        json_t *ret;

        if (safe_atoi64(p[0], &id) < 0 || id <= 0) {
                api_error(resp, 404, "not_found", NULL, "no session \"%.32s\"", p[0]);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_session_end(&c.l, id, &c.ret, &c.e), resp);
        if (!ret)
                return;
        resp->forget_session = id;
        if (json_is_true(json_object_get(ret, "current")) && req->auth &&
            STREQ(req->auth, "cookie"))
                set_session_cookie(req, resp, "", 0);
        ok(resp, ret);
}

static void h_audit_list(const struct api_request *req, char **p, struct api_response *resp) {
        const char *module = query_value(req, "module"), *user = query_value(req, "user");
        const char *v;
        int64_t limit = 0;
        struct hcall c;
        json_t *ret;

        if ((v = query_value(req, "limit")) &&
            (safe_atoi64(v, &limit) < 0 || limit < 1 || limit > 500)) {
                api_error(resp, 400, "invalid_argument", "limit", "limit is 1 to 500");
                return;
        }
        if ((module && !utf8_valid(module, strlen(module))) ||
            (user && !utf8_valid(user, strlen(user)))) {
                const char *k = module && !utf8_valid(module, strlen(module)) ? "module" : "user";
                api_error(resp, 400, "invalid_argument", k, "%s is not valid text", k);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c,
                         helper_op_audit_list(&c.l, query_value(req, "before"), limit, module, user,
                                              &c.ret, &c.e),
                         resp);
        if (ret)
                ok(resp, ret);
}

static void h_audit_verify(const struct api_request *req, char **p, struct api_response *resp) {
        struct hcall c;
        json_t *ret;

        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_audit_verify(&c.l, &c.ret, &c.e), resp);
        if (ret)
                ok(resp, ret);
}

static void h_audit_forwarding(const struct api_request *req, char **p,
                               struct api_response *resp) {
        struct hcall c;
        json_t *ret;

        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_audit_forwarding(&c.l, &c.ret, &c.e), resp);
        if (ret)
                ok(resp, ret);
}

static void h_audit_get(const struct api_request *req, char **p, struct api_response *resp) {
        struct hcall c;
        json_t *ret;

        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_audit_get(&c.l, p[0], &c.ret, &c.e), resp);
        if (ret)
                ok(resp, ret);
}

static void h_audit_rollback(const struct api_request *req, char **p, struct api_response *resp) {
        bool dry_run;
        struct hcall c;
        json_t *ret;

        if (!query_flag(req, "dry_run", &dry_run, resp))
                return;
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_audit_rollback(&c.l, p[0], dry_run, &c.ret, &c.e), resp);
        if (!ret)
                return;
        take_changed_modules(ret, resp);
        ok(resp, ret);
}

/* The query arguments each type filtered per stream reads (event_def_t
 * params), as {"TYPE": {"PARAM": "value"}}: the hub hands them to the
 * module, which validates them. */
static json_t *events_params(const struct api_request *req, unsigned mask) {
        json_t *all = json_object();

        for (size_t i = 0; all && i < event_types_count() && i < EVENT_TYPES_MAX; i++) {
                const event_def_t *d = event_type_at(i, NULL);
                const char *s = d->params;
                json_t *o;

                if (!(mask & (1u << i)) || !d->subscribe)
                        continue;
                o = json_object();
                while (o && s && *s) {
                        char name[64];
                        size_t n = strcspn(s, " ");
                        const char *v;
                        if (n > 0 && n < sizeof name) {
                                memcpy(name, s, n);
                                name[n] = '\0';
                                if ((v = query_value(req, name)) && utf8_valid(v, strlen(v)))
                                        json_object_set_new(o, name, json_string(v));
                        }
                        s += n;
                        s += strspn(s, " ");
                }
                if (o)
                        json_object_set_new(all, d->name, o);
        }
        return all;
}

/* GET /api/v1/events: checks the arguments; the HTTP layer opens the
 * stream (events.c). */
static void h_events(const struct api_request *req, char **p, struct api_response *resp) {
        const char *types = query_value(req, "types");
        const char *last = req->last_event_id;
        struct module_error e = {0};
        unsigned mask;
        uint64_t id = 0;
        int r;

        if (!last)
                last = query_value(req, "last_event_id");
        if (!req->session || !*req->session) {
                api_error(resp, 401, "unauthenticated", NULL,
                          "the event stream needs a session or token");
                return;
        }
        r = event_types_parse(types, req->role, &mask, &e);
        if (r < 0) {
                from_module_error(resp, &e, r);
                return;
        }
        if (last && (!*last || strlen(last) > 19 || safe_atou64(last, &id) < 0)) {
                api_error(resp, 400, "invalid_argument", "last_event_id",
                          "the last event id is a decimal number");
                return;
        }
        resp->events_mask = mask;
        resp->events_resume = last != NULL;
        resp->events_last_id = id;
        ok(resp, json_object());
        resp->events_params = events_params(req, mask);
}

/* ---- collections ------------------------------------------------------------ */

/* The query arguments a collection route passes on, as an object of
 * strings: exactly those the collection declares (module.h), others are
 * ignored here and refused by the helper; the module validates the values.
 * Flags (FIELD_BOOLEAN) are parsed here, in the one grammar, and passed on
 * as "1" or "0" (absent ones are left out).  NULL with resp filled on a bad
 * query. */
static json_t *collection_query(const struct api_request *req, const char *collection,
                                struct api_response *resp) {
        const collection_def_t *coll = collection_find(collection, NULL);
        json_t *q = json_object();
        const char *v;
        bool f;

        for (size_t i = 0; q && coll && i < coll->n_query; i++) {
                const char *k = coll->query[i].name;
                if (coll->query[i].type != FIELD_BOOLEAN) {
                        if ((v = query_value(req, k)) &&
                            (!utf8_valid(v, strlen(v)) ||
                             json_object_set_new(q, k, json_string(v)) < 0)) {
                                json_decref(q);
                                api_error(resp, 400, "invalid_argument", NULL,
                                          "the query is not valid text");
                                return NULL;
                        }
                        continue;
                }
                if (!req->query || req->query(req->opaque, k, NULL) == 0)
                        continue;
                if (!query_flag(req, k, &f, resp)) {
                        json_decref(q);
                        return NULL;
                }
                json_object_set_new(q, k, json_string(f ? "1" : "0"));
        }
        if (!q)
                api_error(resp, 500, "internal", NULL, "out of memory");
        return q;
}

/* A read of a collection whose list() and show() run here, in the front
 * (front_reads), with the request's context and the query object the
 * helper would have had; q is taken over. */
static void front_read(const struct api_request *req, const collection_def_t *coll, const char *id,
                       json_t *q, struct api_response *resp) {
        struct module_ctx ctx = request_ctx(req);
        struct module_error e = {0};
        json_t *ret = NULL;
        int r;

        r = id ? coll->show(&ctx, id, q, &ret, &e) : coll->list(&ctx, q, &ret, &e);
        json_decref(q);
        if (r < 0) {
                json_decref(ret);
                from_module_error(resp, &e, r);
                return;
        }
        ok(resp, ret ? ret : json_object());
}

static void collection_read(const struct api_request *req, const char *collection, const char *id,
                            struct api_response *resp) {
        const collection_def_t *coll = collection_find(collection, NULL);
        json_t *q = collection_query(req, collection, resp);
        struct hcall c;
        json_t *ret;

        if (!q)
                return;
        if (coll && coll->front_reads) {
                front_read(req, coll, id, q, resp);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c, helper_op_collection_read(&c.l, collection, id, q, &c.ret, &c.e),
                         resp);
        if (!ret)
                return;
        if (json_is_integer(json_object_get(ret, "body_fd"))) {
                /* A large list, already JSON text in a sealed memfd: sent as
                 * it is, from the file. */
                int fd = (int)json_integer_value(json_object_get(ret, "body_fd"));
                struct stat st;
                json_decref(ret);
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
                    (uint64_t)st.st_size > LIST_BODY_MAX) {
                        close(fd);
                        api_error(resp, 500, "internal", NULL, "cannot read the helper's answer");
                        return;
                }
                resp->text_fd = fd;
                resp->has_text_fd = true;
                resp->text_len = (size_t)st.st_size;
                resp->content_type = "application/json";
                resp->status = 200;
                return;
        }
        ok(resp, ret);
}

static void collection_write(const struct api_request *req, const char *collection, const char *op,
                             const char *id, struct api_response *resp) {
        json_t *q, *body, *ret;
        struct hcall c;
        bool dry_run;

        if (!query_flag(req, "dry_run", &dry_run, resp))
                return;
        if (STREQ(op, "delete")) {
                if (req->body_len > 0) {
                        api_error(resp, 400, "bad_request", NULL,
                                  "DELETE takes no body; options go in the query");
                        return;
                }
                body = json_object();
        } else if (!(body = body_object(req, resp)))
                return;
        if (!json_is_object(body)) {
                json_decref(body);
                api_error(resp, 400, "bad_request", NULL, "the body must be a JSON object");
                return;
        }
        q = collection_query(req, collection, resp);
        if (!q) {
                json_decref(body);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c,
                         helper_op_collection_write(&c.l, collection, op, id, body, q, dry_run,
                                                    &c.ret, &c.e),
                         resp);
        if (!ret)
                return;
        take_changed_modules(ret, resp);
        ok(resp, ret);
        if (STREQ(op, "create") && !dry_run)
                resp->status = 201;
}

/* An action whose plan wrote a file its module owns (the alerts'
 * silences): that module makes it live in this process too. */
static void owned_files_changed(const collection_def_t *coll, json_t *ret,
                                struct api_response *resp) {
        const module_t *m = NULL;
        json_t *f;
        size_t i;

        if (!collection_find(coll->name, &m) || !m)
                return;
        json_array_foreach(json_object_get(json_object_get(ret, "plan"), "files"), i, f) {
                const char *p = json_string_value(json_object_get(f, "path"));
                if (p && module_owns_file(m, p)) {
                        if (resp->n_changed_modules < API_CHANGED_MODULES_MAX)
                                resp->changed_modules[resp->n_changed_modules++] = m;
                        return;
                }
        }
}

/* "users, groups or lock" into dst: the names of coll's actions. */
static void action_names(const collection_def_t *coll, char *dst, size_t cap) {
        size_t off = 0;

        dst[0] = '\0';
        for (size_t i = 0; i < coll->n_actions; i++) {
                const char *sep = i == 0 ? "" : i + 1 == coll->n_actions ? " or " : ", ";
                int w = snprintf(dst + off, cap - off, "%s%s", sep, coll->actions[i].name);
                if (w < 0 || (size_t)w >= cap - off)
                        break;
                off += (size_t)w;
        }
}

/* POST /api/v1/{collection}/{id}/{action}: the args are the body, an
 * object checked against the action's table here and again in the helper,
 * which runs it, checks the role as the account has it now, and audits. */
/* Actions running now, per session: an action may wait ACTION_WAIT_SEC
 * for a job in one of the few slow threads, so one session may run at most
 * ACTIONS_PER_SESSION at once (more are 429), and at most ACTION_SLOTS
 * sessions run actions at once. */
#define ACTIONS_PER_SESSION 2
#define ACTION_SLOTS        32

static pthread_mutex_t actions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        int64_t session;
        unsigned running;
} action_slots[ACTION_SLOTS];

static bool action_begin(int64_t session) {
        int free_slot = -1;
        bool ok = false;

        pthread_mutex_lock(&actions_lock);
        for (int i = 0; i < ACTION_SLOTS; i++) {
                if (action_slots[i].running > 0 && action_slots[i].session == session) {
                        ok = action_slots[i].running < ACTIONS_PER_SESSION;
                        action_slots[i].running += ok;
                        goto out;
                }
                if (action_slots[i].running == 0 && free_slot < 0)
                        free_slot = i;
        }
        if (free_slot >= 0) {
                action_slots[free_slot].session = session;
                action_slots[free_slot].running = 1;
                ok = true;
        }
out:
        pthread_mutex_unlock(&actions_lock);
        return ok;
}

static void action_end(int64_t session) {
        pthread_mutex_lock(&actions_lock);
        for (int i = 0; i < ACTION_SLOTS; i++)
                if (action_slots[i].running > 0 && action_slots[i].session == session) {
                        action_slots[i].running--;
                        break;
                }
        pthread_mutex_unlock(&actions_lock);
}

static void h_coll_action(const struct api_request *req, char **p, struct api_response *resp) {
        const collection_def_t *coll = collection_find(p[0], NULL);
        const collection_action_t *a = collection_find_action(coll, p[2]);
        struct module_error e = {0};
        char names[512];
        json_t *args, *ret;
        struct hcall c;
        bool dry_run;
        int r;

        if (!a) {
                action_names(coll, names, sizeof names);
                api_error(resp, 404, "unknown_action", NULL,
                          "%s has no action \"%.64s\"; its actions are %s", coll->name, p[2],
                          names);
                return;
        }
        if (req->role < collection_action_min_role(a)) {
                api_error(resp, 403, "forbidden", NULL, "%s %s needs the role %s; you are %s",
                          coll->name, a->name,
                          role_to_string((enum role)collection_action_min_role(a)),
                          role_to_string(req->role));
                audit_refused(req, resp);
                return;
        }
        if (!utf8_valid(p[1], strlen(p[1]))) {
                api_error(resp, 400, "invalid_argument", coll->id_field, "the %s is not valid text",
                          coll->id_field);
                return;
        }
        if (!query_flag(req, "dry_run", &dry_run, resp) || !(args = body_object(req, resp)))
                return;
        r = collection_action_check_args(a, args, &e);
        if (r < 0) {
                json_decref(args);
                from_module_error(resp, &e, r);
                return;
        }
        if (!action_begin(req->session_id)) {
                json_decref(args);
                snprintf(resp->retry_after, sizeof resp->retry_after, "%d", 5);
                api_error(resp, 429, "too_many_actions", NULL,
                          "this session already runs %d actions; wait for one to finish",
                          ACTIONS_PER_SESSION);
                return;
        }
        hcall_init(&c, req);
        ret = hcall_done(&c,
                         helper_op_collection_action(&c.l, coll->name, p[1], a->name, args, dry_run,
                                                     &c.ret, &c.e),
                         resp);
        action_end(req->session_id);
        if (ret && !dry_run)
                owned_files_changed(coll, ret, resp);
        if (ret)
                ok(resp, ret);
}

static void h_coll_list(const struct api_request *req, char **p, struct api_response *resp) {
        collection_read(req, p[0], NULL, resp);
}

static void h_coll_show(const struct api_request *req, char **p, struct api_response *resp) {
        collection_read(req, p[0], p[1], resp);
}

static void h_coll_create(const struct api_request *req, char **p, struct api_response *resp) {
        collection_write(req, p[0], "create", NULL, resp);
}

static void h_coll_modify(const struct api_request *req, char **p, struct api_response *resp) {
        collection_write(req, p[0], "modify", p[1], resp);
}

static void h_coll_delete(const struct api_request *req, char **p, struct api_response *resp) {
        collection_write(req, p[0], "delete", p[1], resp);
}

/* The OpenAPI document embedded at build time (api_set_openapi()); the
 * routes' own rows are its source. */
static const char *openapi_doc;
static size_t openapi_len;

void api_set_openapi(const char *doc, size_t len) {
        openapi_doc = doc;
        openapi_len = len;
}

/* GET /api/v1/sd's answer (api_set_sd()); until it is set that route
 * answers 404. */
static api_sd_fn sd_targets;

void api_set_sd(api_sd_fn fn) {
        sd_targets = fn;
}

/* Prometheus HTTP service discovery: a list of target groups. */
static void h_sd(const struct api_request *req, char **p, struct api_response *resp) {
        (void)p;
        if (!sd_targets) {
                api_error(resp, 404, "not_found", NULL, "service discovery is not served here");
                return;
        }
        /* No version for a caller let in by address alone (or any other
         * way than a credential). */
        bool anonymous = !req->auth || !(STREQ(req->auth, "token") || STREQ(req->auth, "cookie") ||
                                         STREQ(req->auth, "peer"));

        ok(resp, sd_targets(req->conn_fd, anonymous));
}

static void h_openapi(const struct api_request *req, char **p, struct api_response *resp) {
        if (!openapi_doc) {
                api_error(resp, 404, "not_found", NULL, "this build carries no API document");
                return;
        }
        resp->text = malloc(openapi_len ? openapi_len : 1);
        if (!resp->text)
                return; /* api_handle answers 500 */
        memcpy(resp->text, openapi_doc, openapi_len);
        resp->text_len = openapi_len;
        resp->content_type = "application/json";
        resp->status = 200;
}

/* Every route with its lowest role; the route walk test reads this through
 * the API's answers, so a route missing here is a 404, never an open door. */
static const struct route routes[] = {
        {"POST", "api/v1/login", ROLE_NONE, h_login,
         .summary = "Log in: a session (cookie and CSRF token) and its bearer token",
         .request = "LoginRequest", .response = "Session"},
        {"GET", "api/v1/login-info", ROLE_NONE, h_login_info,
         .summary = "For the login page: the host name, and whether the bootstrap token is unused",
         .response = "Object"},
        {"POST", "api/v1/logout", ROLE_MONITOR, h_logout, .summary = "End the caller's session",
         .response = "Object"},
        {"GET", "api/v1/whoami", ROLE_MONITOR, h_whoami,
         .summary = "Who the caller is: user, role, how authenticated", .response = "Whoami", .flags = "csrf"},
        {"GET", "api/v1/openapi.json", ROLE_MONITOR, h_openapi, .summary = "This document",
         .response = "Object"},
        {"GET", "api/v1/modules", ROLE_MONITOR, h_modules,
         .summary = "Every module with its status", .response = "ModuleList"},
        {"GET", "api/v1/modules/*", ROLE_MONITOR, h_module, .params = "module",
         .summary = "A module's status (?full=1: its full status)", .response = "ModuleStatus", .flags = "full"},
        {"GET", "api/v1/modules/*/schema", ROLE_MONITOR, h_schema, .params = "module",
         .summary = "A module's settings, commands, collections and events",
         .response = "ModuleSchema"},
        {"GET", "api/v1/modules/*/settings", ROLE_MONITOR, h_settings_get, .params = "module",
         .summary = "A module's settings as a tree (?key=a:b for a subtree)",
         .response = "Settings", .query = "key"},
        {"PATCH", "api/v1/modules/*/settings", ROLE_ADMIN, h_settings_patch, .params = "module",
         .summary = "Change settings (?dry_run=1: the plan only)", .request = "SettingsChange",
         .response = "Plan", .flags = "dry_run"},
        {"POST", "api/v1/modules/*/commands/*", ROLE_MONITOR, h_command, .params = "module command",
         .summary = "Run a module's command (?dry_run=1 for one whose schema says dry_run; ?stream=1: its progress as text/event-stream, for one whose schema says streams)",
         .request = "CommandArgs", .response = "CommandResult", .flags = "dry_run stream"},
        {"POST", "api/v1/modules/*/*", ROLE_OPERATOR, h_action, .params = "module action",
         .summary = "Start, stop or restart a module's service", .response = "Object"},
        {"GET", "api/v1/tokens", ROLE_MONITOR, h_tokens_list,
         .summary = "API tokens (never their secrets)", .response = "TokenList"},
        {"POST", "api/v1/tokens", ROLE_MONITOR, h_tokens_create,
         .summary = "Create an API token; its secret appears only in this answer",
         .request = "TokenRequest", .response = "Token"},
        {"DELETE", "api/v1/tokens/*", ROLE_MONITOR, h_token_revoke, .params = "id",
         .summary = "Revoke an API token", .response = "Object"},
        {"GET", "api/v1/sessions", ROLE_MONITOR, h_sessions_list,
         .summary = "Open sessions (?user=)", .response = "SessionList", .query = "user"},
        {"DELETE", "api/v1/sessions/*", ROLE_MONITOR, h_session_end, .params = "id",
         .summary = "End a session", .response = "Object"},
        {"GET", "api/v1/audit", ROLE_MONITOR, h_audit_list,
         .summary = "Audit records, newest first (?before=&limit=&module=&user=)",
         .response = "AuditList", .query = "before limit module user"},
        {"GET", "api/v1/audit/verify", ROLE_MONITOR, h_audit_verify,
         .summary = "Verify the audit log's hash chain", .response = "Object"},
        {"GET", "api/v1/audit/forwarding", ROLE_ADMIN, h_audit_forwarding,
         .summary = "Each audit:syslog_targets target: last id delivered, backlog, connected, error",
         .response = "Object"},
        {"GET", "api/v1/audit/*", ROLE_MONITOR, h_audit_get, .params = "id",
         .summary = "One audit record", .response = "AuditRecord"},
        {"POST", "api/v1/audit/*/rollback", ROLE_ADMIN, h_audit_rollback, .params = "id",
         .summary = "Roll a change back (?dry_run=1: the plan only)", .response = "Plan", .flags = "dry_run"},
        {"GET", "api/v1/sd", ROLE_MONITOR, h_sd,
         .summary = "Prometheus HTTP service discovery: this server, then the peers its discovery found (stewardd:discovery:sd_peers)",
         .response = "SdTargetGroups"},
        {"GET", "api/v1/events", ROLE_MONITOR, h_events,
         .summary = "Server-Sent Events (?types=a,b&last_event_id=; a filtered type's own arguments)", .response = "EventStream", .query = "types last_event_id"},
};

/* The collections of every module (module.h), matched after all other
 * routes so that a module's own routes win: "{collection}" matches only the
 * name of a registered collection. */
static const struct route collection_routes[] = {
        {"GET", "api/v1/{collection}", ROLE_MONITOR, h_coll_list, .summary = "List",
         .response = "List"},
        {"POST", "api/v1/{collection}", ROLE_ADMIN, h_coll_create, .summary = "Create",
         .request = "Item", .response = "Change", .flags = "dry_run"},
        {"GET", "api/v1/{collection}/*", ROLE_MONITOR, h_coll_show, .params = "id",
         .summary = "Show", .response = "Item"},
        {"PATCH", "api/v1/{collection}/*", ROLE_ADMIN, h_coll_modify, .params = "id",
         .summary = "Modify", .request = "Item", .response = "Change", .flags = "dry_run"},
        {"DELETE", "api/v1/{collection}/*", ROLE_ADMIN, h_coll_delete, .params = "id",
         .summary = "Delete", .response = "Change", .flags = "dry_run"},
        /* The action's own role is checked by the handler and the helper. */
        {"POST", "api/v1/{collection}/*/*", ROLE_MONITOR, h_coll_action, .params = "id action",
         .summary = "An action on one item", .request = "ActionArgs", .response = "ActionResult",
         .flags = "dry_run"},
};

/* Splits "/a/b/c" into segments; rejects empty, overlong or too many. */
static int split_path(const char *path, char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1], size_t *n) {
        const char *s = path;

        *n = 0;
        if (*s != '/')
                return -EINVAL;
        s++;
        while (*s) {
                const char *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len == 0 || len > MAX_SEGMENT_LEN || *n == MAX_SEGMENTS)
                        return -EINVAL;
                memcpy(seg[*n], s, len);
                seg[*n][len] = '\0';
                (*n)++;
                s += len;
                if (*s == '/')
                        s++;
        }
        return 0;
}

static bool match(const char *pattern, char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1], size_t n,
                  char **params) {
        const char *s = pattern;
        size_t i = 0, np = 0;

        while (*s) {
                const char *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (i == n)
                        return false;
                if (len == 1 && *s == '*')
                        params[np++] = seg[i];
                else if (len == 12 && memcmp(s, "{collection}", 12) == 0) {
                        if (!collection_find(seg[i], NULL))
                                return false;
                        params[np++] = seg[i];
                } else if (strlen(seg[i]) != len || memcmp(seg[i], s, len) != 0)
                        return false;
                i++;
                s += len;
                if (*s == '/')
                        s++;
        }
        return i == n;
}

static bool method_is(const char *route_method, const char *method) {
        return STREQ(route_method, method) || (STREQ(route_method, "GET") && STREQ(method, "HEAD"));
}

/* A resolved route: one of ours, or one a module added. */
struct resolved {
        const char *method, *pattern;
        int min_role;
        handler_t handler;
        const module_t *module;
        const module_route_t *mroute;
};

/* The variable segments of a pattern ("*", "{collection}"). */
static size_t pattern_variables(const char *pattern) {
        size_t v = 0;

        for (const char *s = pattern; *s; s++)
                v += (*s == '*' || *s == '{') && (s == pattern || s[-1] == '/');
        return v;
}

/* Finds the route.  The matching pattern with the fewest variable segments
 * names the resource, the first of those on a tie (so "modules/x/settings"
 * is never taken for an action named "settings", and a module's
 * "modules/shares/folders" is not taken for one either); allow gets that
 * resource's methods for a 405.  The API's own routes come first, then the
 * modules' in module order. */
static bool find_route(const char *method, const char *path, char **params,
                       char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1], char *allow, size_t allow_len,
                       struct resolved *ret) {
        const char *pattern = NULL;
        bool found = false;
        size_t n;

        allow[0] = '\0';
        if (split_path(path, seg, &n) < 0)
                return false;
        /* Pass 0 picks the pattern, pass 1 its methods.  mi 0: the API's
         * own; 1..n: each module's; n+1: the collections. */
        for (int pass = 0; pass < 2; pass++)
        for (size_t mi = 0; mi <= steward_modules_count + 1; mi++) {
                const module_t *m =
                        mi == 0 || mi > steward_modules_count ? NULL : steward_modules[mi - 1];
                const struct route *table = mi == 0 ? routes : collection_routes;
                size_t count = m         ? m->n_routes
                               : mi == 0 ? ELEMENTSOF(routes)
                                         : ELEMENTSOF(collection_routes);
                for (size_t i = 0; i < count; i++) {
                        struct resolved c = m ? (struct resolved){m->routes[i].method,
                                                                  m->routes[i].pattern,
                                                                  module_route_min_role(m, &m->routes[i]),
                                                                  NULL,
                                                                  m,
                                                                  &m->routes[i]}
                                              : (struct resolved){table[i].method,
                                                                  table[i].pattern,
                                                                  table[i].min_role,
                                                                  table[i].handler,
                                                                  NULL,
                                                                  NULL};
                        char *p[MAX_SEGMENTS];
                        if (pass == 0) {
                                if ((!pattern || pattern_variables(c.pattern) <
                                                         pattern_variables(pattern)) &&
                                    match(c.pattern, seg, n, p)) {
                                        pattern = c.pattern;
                                        memcpy(params, p, sizeof p);
                                }
                                continue;
                        }
                        if (!pattern || !STREQ(c.pattern, pattern))
                                continue;
                        /* A read-only collection (no write()) has no write
                         * methods: they answer 405 with its Allow; one
                         * without actions has no action route. */
                        if (!m && mi > 0 && !STREQ(c.method, "GET") &&
                            !(c.handler == h_coll_action
                                      ? collection_find(params[0], NULL)->n_actions > 0
                                      : collection_find(params[0], NULL)->write != NULL))
                                continue;
                        if (!found && method_is(c.method, method)) {
                                *ret = c;
                                found = true;
                        }
                        size_t l = strlen(allow);
                        snprintf(allow + l, allow_len - l, "%s%s%s", l ? ", " : "", c.method,
                                 STREQ(c.method, "GET") ? ", HEAD" : "");
                }
        }
        return found;
}

int api_route_role(const char *method, const char *path) {
        char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1], allow[64];
        char *params[MAX_SEGMENTS] = {0};
        struct resolved rt;
        return find_route(method, path, params, seg, allow, sizeof allow, &rt) ? rt.min_role : -1;
}

bool api_route_slow(const char *method, const char *path) {
        char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1], allow[64];
        char *params[MAX_SEGMENTS] = {0};
        struct resolved rt;

        /* Reads of a collection (a walk of every account; a front_reads
         * collection's own work), actions, which may wait for what they
         * start (a service's job), and commands (a ping's seconds; a
         * stream's whole run). */
        return find_route(method, path, params, seg, allow, sizeof allow, &rt) &&
               (rt.handler == h_coll_list || rt.handler == h_coll_show ||
                rt.handler == h_coll_action || rt.handler == h_command ||
                (rt.mroute && (rt.mroute->slow || rt.mroute->command)));
}

void api_route_walk(void (*fn)(const struct api_route_doc *r, void *userdata), void *userdata) {
        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                fn(&(struct api_route_doc){.method = routes[i].method,
                                           .pattern = routes[i].pattern,
                                           .min_role = routes[i].min_role,
                                           .params = routes[i].params,
                                           .summary = routes[i].summary,
                                           .request = routes[i].request,
                                           .response = routes[i].response,
                                           .query = routes[i].query,
                                           .flags = routes[i].flags},
                   userdata);
        for (size_t mi = 0; mi < steward_modules_count; mi++) {
                const module_t *m = steward_modules[mi];
                for (size_t i = 0; i < m->n_routes; i++)
                        fn(&(struct api_route_doc){.method = m->routes[i].method,
                                                   .pattern = m->routes[i].pattern,
                                                   .min_role =
                                                           module_route_min_role(m, &m->routes[i]),
                                                   .command = m->routes[i].command,
                                                   .params = m->routes[i].params,
                                                   .summary = m->routes[i].summary,
                                                   .response_json = m->routes[i].response,
                                                   .query = m->routes[i].query,
                                                   .flags = m->routes[i].flags,
                                                   .text = m->routes[i].text_handler != NULL,
                                                   .module = m},
                           userdata);
        }
        for (size_t i = 0; i < ELEMENTSOF(collection_routes); i++)
                fn(&(struct api_route_doc){.method = collection_routes[i].method,
                                           .pattern = collection_routes[i].pattern,
                                           .min_role = collection_routes[i].min_role,
                                           .params = collection_routes[i].params,
                                           .summary = collection_routes[i].summary,
                                           .request = collection_routes[i].request,
                                           .response = collection_routes[i].response,
                                           .query = collection_routes[i].query,
                                           .flags = collection_routes[i].flags,
                                           .collection = true},
                   userdata);
}

/* A module route that runs a command: its '*' segments, named by the
 * route's params, are the command's arguments. */
static void route_command(const struct api_request *req, const struct resolved *rt, char **params,
                          struct api_response *resp) {
        const command_def_t *c = module_find_command(rt->module, rt->mroute->command);
        const char *s = rt->mroute->params ? rt->mroute->params : "";
        json_t *args = json_object();

        for (size_t i = 0; args && *s && i < MAX_SEGMENTS && params[i]; i++) {
                size_t n = strcspn(s, " ");
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1),
                         s);
                json_t *v = json_string(params[i]);
                if (!v) {
                        json_decref(args);
                        api_error(resp, 400, "bad_request", name, "%s is not UTF-8", name);
                        return;
                }
                if (json_object_set_new(args, name, v) < 0) {
                        json_decref(args);
                        args = NULL;
                }
                s += n;
                s += strspn(s, " ");
        }
        if (!c || !args) {
                json_decref(args);
                api_error(resp, 500, "internal", NULL, "the route's command cannot run");
                return;
        }
        command_run(req, rt->module, c, args, resp);
}

/* Runs a module's own route. */
static void module_route(const struct api_request *req, const struct resolved *rt, char **params,
                         struct api_response *resp) {
        struct module_ctx ctx = request_ctx(req);
        struct module_error e = {0};
        json_t *ret = NULL;
        int r;

        if (rt->mroute->command) {
                route_command(req, rt, params, resp);
                return;
        }

        if (rt->mroute->text_handler) {
                char *body = NULL;
                size_t len = 0;
                const char *type = "text/plain; charset=utf-8";
                r = rt->mroute->text_handler(&ctx, params, &body, &len, &type, &e);
                if (r < 0) {
                        free(body);
                        from_module_error(resp, &e, r);
                        return;
                }
                resp->status = 200;
                resp->text = body;
                resp->text_len = len;
                resp->content_type = type;
                return;
        }
        r = rt->mroute->handler(&ctx, params, &ret, &e);

        if (r < 0) {
                json_decref(ret);
                from_module_error(resp, &e, r);
                return;
        }
        ok(resp, ret ? ret : json_object());
}

/* A change refused here for the caller's role never reaches the helper,
 * which keeps the audit log: ask it to record the refusal.  The answer
 * stays the refusal whatever the helper says. */
static void audit_refused(const struct api_request *req, const struct api_response *refusal) {
        const struct helper_link l = request_link(req);
        struct module_error e = {0};
        json_t *err = json_object_get(refusal->body, "error");

        if (STREQ(req->method, "GET") || STREQ(req->method, "HEAD") || !req->session)
                return;
        (void)helper_op_audit_refused(
                &l, req->method, req->path,
                json_string_value(json_object_get(err, "message")) ?: "forbidden", &e);
}

void api_handle(const struct api_request *req, struct api_response *resp) {
        char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1], allow[64];
        char *params[MAX_SEGMENTS] = {0};
        struct resolved rt;

        *resp = (struct api_response){0};
        if (!find_route(req->method, req->path, params, seg, allow, sizeof allow, &rt)) {
                if (allow[0]) {
                        api_error(resp, 405, "method_not_allowed", NULL,
                                  "%.16s is not allowed here; use %s", req->method, allow);
                        snprintf(resp->allow, sizeof resp->allow, "%s", allow);
                } else
                        api_error(resp, 404, "not_found", NULL, "no such resource");
                return;
        }
        resp->route = rt.pattern;
        if (rt.min_role > req->role) {
                if (req->role == ROLE_NONE)
                        api_error(resp, 401, "unauthenticated", NULL, "authentication required");
                else {
                        api_error(resp, 403, "forbidden", NULL, "%s needs the role %s; you are %s",
                                  req->path, role_to_string(rt.min_role),
                                  role_to_string(req->role));
                        audit_refused(req, resp);
                }
                return;
        }
        if (req->bootstrap && !(STREQ(rt.pattern, "api/v1/tokens") && STREQ(rt.method, "POST"))) {
                api_error(resp, 401, "unauthenticated", NULL,
                          "the bootstrap token can only log in (POST /api/v1/login with "
                          "{\"bootstrap_token\"}) or create the first API token (POST "
                          "/api/v1/tokens)");
                return;
        }
        if (rt.mroute)
                module_route(req, &rt, params, resp);
        else
                rt.handler(req, params, resp);
        if (!resp->body && !resp->text && !resp->has_text_fd)
                api_error(resp, 500, "internal", NULL, "out of memory");
}
