/* api.c — routes and handlers of API version 1 (docs/api.md).
 *
 * One table maps path patterns to a handler per method; a path that matches
 * with the wrong method is 405 with Allow, no match is 404.  Handlers are
 * generic over the module tables: nothing here names a module.  Every error
 * leaves through api_error() so the body always follows the contract. */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "jsonutil.h"
#include "kv.h"
#include "registry.h"
#include "util.h"

#define MAX_SEGMENTS    8
#define MAX_SEGMENT_LEN 128

typedef void (*handler_t)(const struct api_request *req, char **params, struct api_response *resp);

struct route {
        const char *pattern; /* "api/v1/modules/ * /schema" with '*' segments */
        handler_t get, patch, post;
        const char *allow;
};

void api_response_clear(struct api_response *resp) {
        json_decref(resp->body);
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

static bool query_flag(const struct api_request *req, const char *key) {
        const char *v = req->query ? req->query(req->opaque, key) : NULL;
        return v && (STREQ(v, "1") || STREQ(v, "true") || STREQ(v, "yes") || STREQ(v, ""));
}

static const module_t *find_module(char *name, struct api_response *resp) {
        const module_t *m = module_find(name);
        if (!m)
                api_error(resp, 404, "unknown_module", NULL, "no module named \"%.64s\"", name);
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

static void h_whoami(const struct api_request *req, char **p, struct api_response *resp) {
        ok(resp, json_pack("{s:s, s:s, s:s, s:s}", "user", req->ctx.user, "role", req->ctx.role,
                           "auth", req->auth, "source", req->ctx.source));
}

static json_t *module_status(const module_t *m, bool full) {
        struct module_error e = {0};
        json_t *st = NULL, *o;
        int r;

        r = full && m->fullstatus ? m->fullstatus(&st, &e) : m->status ? m->status(&st, &e) : 0;
        o = json_pack("{s:s, s:s}", "name", m->name, "summary", m->summary);
        if (!o) {
                json_decref(st);
                return NULL;
        }
        if (r < 0 || (!st && m->status)) {
                json_object_set_new(o, "state", json_string("unavailable"));
                json_object_set_new(o, "error",
                                    json_string(e.message[0] ? e.message : strerror(-r)));
        } else if (st) {
                json_object_update(o, st);
        } else {
                json_object_set_new(o, "state", json_string("n/a"));
        }
        json_decref(st);
        return o;
}

static void h_modules(const struct api_request *req, char **p, struct api_response *resp) {
        json_t *list = json_array();
        for (size_t i = 0; i < steward_modules_count; i++)
                json_array_append_new(list, module_status(steward_modules[i], false));
        ok(resp, json_pack("{s:o}", "modules", list));
}

static void h_module(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        if (m)
                ok(resp, module_status(m, query_flag(req, "full")));
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
        if (!m->settings_read) {
                ok(resp, json_object());
                return;
        }
        r = m->settings_read(&tree, &e);
        if (r < 0) {
                from_module_error(resp, &e, r);
                return;
        }
        key = req->query ? req->query(req->opaque, "key") : NULL;
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

static void h_settings_patch(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        struct module_error e = {0};
        json_t *body = NULL, *flat = NULL, *current = NULL, *changes = NULL, *plan = NULL;
        bool dry_run = query_flag(req, "dry_run");
        int r;

        if (!m || !(body = body_object(req, resp)))
                return;
        r = settings_flatten(m, body, &flat, &e);
        if (r >= 0 && m->settings_read)
                r = m->settings_read(&current, &e);
        if (r >= 0)
                r = settings_changes(m, flat, current, &changes, &e);
        if (r < 0) {
                from_module_error(resp, &e, r);
                goto out;
        }
        if (json_object_size(changes) == 0) {
                ok(resp, json_pack("{s:b, s:[], s:b, s:[]}", "dry_run", dry_run, "changed",
                                   "restart_required", false, "files"));
                goto out;
        }
        if (!m->settings_apply) {
                api_error(resp, 422, "read_only", NULL, "the settings of %s are read-only",
                          m->name);
                goto out;
        }
        r = m->settings_apply(&req->ctx, changes, dry_run, &plan, &e);
        if (r < 0)
                from_module_error(resp, &e, r);
        else
                ok(resp, plan);
out:
        json_decref(body);
        json_decref(flat);
        json_decref(current);
        json_decref(changes);
}

static void h_command(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        const command_def_t *c;
        struct module_error e = {0};
        json_t *args, *ret = NULL;
        int r;

        if (!m)
                return;
        c = module_find_command(m, p[1]);
        if (!c) {
                api_error(resp, 404, "unknown_command", NULL, "%s has no command \"%.64s\"",
                          m->name, p[1]);
                return;
        }
        if (!(args = body_object(req, resp)))
                return;
        r = command_check_args(c, args, &e);
        if (r >= 0)
                r = c->run(&req->ctx, args, &ret, &e);
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

static void h_action(const struct api_request *req, char **p, struct api_response *resp) {
        const module_t *m = find_module(p[0], resp);
        int (*fn)(const struct module_ctx *, struct module_error *) = NULL;
        struct module_error e = {0};
        int r;

        if (!m)
                return;
        if (STREQ(p[1], "start"))
                fn = m->start;
        else if (STREQ(p[1], "stop"))
                fn = m->stop;
        else if (STREQ(p[1], "restart"))
                fn = m->restart;
        else {
                api_error(resp, 404, "not_found", NULL, "no such action \"%.64s\"", p[1]);
                return;
        }
        if (!fn) {
                api_error(resp, 405, "not_supported", NULL, "%s cannot be %sed", m->name,
                          STREQ(p[1], "stop") ? "stopp" : p[1]);
                resp->allow = "";
                return;
        }
        r = fn(&req->ctx, &e);
        if (r < 0)
                from_module_error(resp, &e, r);
        else
                ok(resp, json_pack("{s:s}", "result", "ok"));
}

static const struct route routes[] = {
        {"api/v1/whoami", .get = h_whoami, .allow = "GET, HEAD"},
        {"api/v1/modules", .get = h_modules, .allow = "GET, HEAD"},
        {"api/v1/modules/*", .get = h_module, .allow = "GET, HEAD"},
        {"api/v1/modules/*/schema", .get = h_schema, .allow = "GET, HEAD"},
        {"api/v1/modules/*/settings", .get = h_settings_get, .patch = h_settings_patch,
         .allow = "GET, HEAD, PATCH"},
        {"api/v1/modules/*/commands/*", .post = h_command, .allow = "POST"},
        {"api/v1/modules/*/*", .post = h_action, .allow = "POST"},
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
                else if (strlen(seg[i]) != len || memcmp(seg[i], s, len) != 0)
                        return false;
                i++;
                s += len;
                if (*s == '/')
                        s++;
        }
        return i == n;
}

void api_handle(const struct api_request *req, struct api_response *resp) {
        char seg[MAX_SEGMENTS][MAX_SEGMENT_LEN + 1];
        char *params[MAX_SEGMENTS] = {0};
        size_t n;

        *resp = (struct api_response){0};
        if (split_path(req->path, seg, &n) < 0) {
                api_error(resp, 404, "not_found", NULL, "no such resource");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct route *rt = &routes[i];
                handler_t h = NULL;

                if (!match(rt->pattern, seg, n, params))
                        continue;
                if (STREQ(req->method, "GET") || STREQ(req->method, "HEAD"))
                        h = rt->get;
                else if (STREQ(req->method, "PATCH"))
                        h = rt->patch;
                else if (STREQ(req->method, "POST"))
                        h = rt->post;
                if (!h) {
                        api_error(resp, 405, "method_not_allowed", NULL,
                                  "%.16s is not allowed here; use %s", req->method, rt->allow);
                        resp->allow = rt->allow;
                        return;
                }
                h(req, params, resp);
                if (!resp->body)
                        api_error(resp, 500, "internal", NULL, "out of memory");
                return;
        }
        api_error(resp, 404, "not_found", NULL, "no such resource");
}
