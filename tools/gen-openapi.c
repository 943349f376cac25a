/* gen-openapi.c — writes the OpenAPI 3.1 document of API version 1 at build
 * time, from the tables the daemon serves from: the route rows of
 * src/daemon/api.c and of every module (through api_route_walk()), and the
 * module registry (settings rows, commands, collections, events).
 *
 *   gen-openapi --json OUT.json --c OUT.c
 *
 * OUT.json is the document (installed under /usr/share/doc/steward/); OUT.c
 * holds the same bytes as a C array that stewardd embeds and answers at
 * GET /api/v1/openapi.json.
 *
 * A route's '*' segments expand by their names: "module" into every module,
 * "command" into that module's commands, "action" into the service actions
 * the module has, or after a collection into its item actions (with their
 * arguments' schema and their own lowest role); "{collection}" into every
 * collection (a read-only one gets no write methods, one without actions no
 * action route).  Other names stay path parameters.  So each path of the
 * document is one the daemon answers, and none it answers is missing: the
 * integration test test_openapi.py probes both ways.  A route whose params
 * do not name its '*' segments, or a schema name not defined here, stops
 * the build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api.h"
#include "roles.h"
#include "util.h"

#define MAX_PARAMS 4

struct gen {
        json_t *paths;
        json_t *schemas;
        size_t n_routes, n_operations;
        int error;
};

/* ---- JSON Schema from the registry's rows ----------------------------------- */

static json_t *setting_schema(const setting_def_t *d, bool with_default) {
        json_t *s = json_object();

        switch (d->type) {
        case SETTING_STRING:
                json_object_set_new(s, "type", json_string("string"));
                if (d->max > 0)
                        json_object_set_new(s, "maxLength", json_integer(d->max));
                if (d->min > 0)
                        json_object_set_new(s, "minLength", json_integer(d->min));
                if (with_default && d->def_string)
                        json_object_set_new(s, "default", json_string(d->def_string));
                break;
        case SETTING_INTEGER:
                json_object_set_new(s, "type", json_string("integer"));
                json_object_set_new(s, "minimum", json_integer(d->min));
                json_object_set_new(s, "maximum", json_integer(d->max));
                if (with_default)
                        json_object_set_new(s, "default", json_integer(d->def_int));
                break;
        case SETTING_BOOLEAN:
                json_object_set_new(s, "type", json_string("boolean"));
                if (with_default)
                        json_object_set_new(s, "default", json_boolean(d->def_int));
                break;
        case SETTING_ENUM: {
                json_t *e = json_array();
                for (const char *const *c = d->choices; c && *c; c++)
                        json_array_append_new(e, json_string(*c));
                json_object_set_new(s, "type", json_string("string"));
                json_object_set_new(s, "enum", e);
                if (with_default && d->def_string)
                        json_object_set_new(s, "default", json_string(d->def_string));
                break;
        }
        case SETTING_STRING_ARRAY: {
                json_t *def = json_array();
                json_object_set_new(s, "type", json_string("array"));
                json_object_set_new(s, "items", json_pack("{s:s}", "type", "string"));
                if (d->max > 0)
                        json_object_set_new(s, "maxItems", json_integer(d->max));
                for (const char *const *c = d->def_list; c && *c; c++)
                        json_array_append_new(def, json_string(*c));
                if (with_default)
                        json_object_set(s, "default", def);
                json_decref(def);
                break;
        }
        }
        if (d->description)
                json_object_set_new(s, "description", json_string(d->description));
        if (d->read_only)
                json_object_set_new(s, "readOnly", json_true());
        if (d->restart)
                json_object_set_new(s, "x-steward-restart", json_true());
        return s;
}

/* Places schema at the colon path key in a tree of object schemas. */
static void tree_put(json_t *root, const char *key, json_t *schema) {
        char part[128];
        const char *c;

        while ((c = strchr(key, ':'))) {
                json_t *props = json_object_get(root, "properties"), *sub;
                snprintf(part, sizeof part, "%.*s", (int)(c - key), key);
                sub = json_object_get(props, part);
                if (!sub) {
                        sub = json_pack("{s:s, s:{}}", "type", "object", "properties");
                        json_object_set_new(props, part, sub);
                }
                root = sub;
                key = c + 1;
        }
        json_object_set_new(json_object_get(root, "properties"), key, schema);
}

/* Two schemas of a module's settings: the tree GET answers, and the flat
 * object of keys a PATCH takes (read-only keys left out). */
static void settings_schemas(struct gen *g, const module_t *m) {
        size_t n;
        const setting_def_t *rows = module_settings_rows(m, &n);
        json_t *tree = json_pack("{s:s, s:{}}", "type", "object", "properties");
        json_t *flat = json_pack("{s:s, s:{}, s:b, s:i}", "type", "object", "properties",
                                 "additionalProperties", 0, "minProperties", 1);
        char name[96];

        for (size_t i = 0; i < n; i++) {
                tree_put(tree, rows[i].key, setting_schema(&rows[i], m->settings_file != NULL));
                if (!rows[i].read_only)
                        json_object_set_new(json_object_get(flat, "properties"), rows[i].key,
                                            setting_schema(&rows[i], false));
        }
        snprintf(name, sizeof name, "Settings_%s", m->name);
        json_object_set_new(g->schemas, name, tree);
        snprintf(name, sizeof name, "SettingsChange_%s", m->name);
        json_object_set_new(g->schemas, name, flat);
}

static json_t *args_schema(const command_arg_t *args, size_t n) {
        json_t *props = json_object(), *req = json_array();

        for (size_t i = 0; i < n; i++) {
                const command_arg_t *a = &args[i];
                setting_def_t d = {.type = a->type,
                                   .min = a->min,
                                   .max = a->max,
                                   .choices = a->choices,
                                   .description = a->description};
                json_object_set_new(props, a->name, setting_schema(&d, false));
                if (a->required)
                        json_array_append_new(req, json_string(a->name));
        }
        json_t *s = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
                              "additionalProperties", 0);
        if (json_array_size(req))
                json_object_set(s, "required", req);
        json_decref(req);
        return s;
}

static json_t *field_schema(const collection_field_t *f) {
        static const char *const types[] = {
                [FIELD_STRING] = "string",      [FIELD_INTEGER] = "integer",
                [FIELD_BOOLEAN] = "boolean",    [FIELD_ENUM] = "string",
                [FIELD_STRING_ARRAY] = "array", [FIELD_OBJECT] = "object",
                [FIELD_OBJECT_ARRAY] = "array", [FIELD_NUMBER] = "number",
        };
        json_t *s = f->flags & FIELD_NULLABLE
                            ? json_pack("{s:[s, s]}", "type", types[f->type], "null")
                            : json_pack("{s:s}", "type", types[f->type]);

        if (f->type == FIELD_STRING_ARRAY)
                json_object_set_new(s, "items", json_pack("{s:s}", "type", "string"));
        if (f->type == FIELD_OBJECT_ARRAY)
                json_object_set_new(s, "items", json_pack("{s:s}", "type", "object"));
        if (f->type == FIELD_INTEGER && (f->min || f->max)) {
                json_object_set_new(s, "minimum", json_integer(f->min));
                json_object_set_new(s, "maximum", json_integer(f->max));
        }
        if (f->type == FIELD_STRING && f->max > 0)
                json_object_set_new(s, "maxLength", json_integer(f->max));
        if ((f->type == FIELD_STRING_ARRAY || f->type == FIELD_OBJECT_ARRAY) && f->max > 0)
                json_object_set_new(s, "maxItems", json_integer(f->max));
        if (f->type == FIELD_ENUM) {
                json_t *e = json_array();
                for (const char *const *c = f->choices; c && *c; c++)
                        json_array_append_new(e, json_string(*c));
                json_object_set_new(s, "enum", e);
        }
        if (f->label)
                json_object_set_new(s, "title", json_string(f->label));
        if (f->description)
                json_object_set_new(s, "description", json_string(f->description));
        if (f->flags & FIELD_SECRET)
                json_object_set_new(s, "writeOnly", json_true());
        return s;
}

/* An object of the fields that carry flag. */
static json_t *fields_schema(const collection_def_t *c, unsigned flag) {
        json_t *props = json_object();
        for (size_t i = 0; i < c->n_fields; i++) {
                collection_field_t f = c->fields[i];
                if (!(f.flags & flag))
                        continue;
                if (flag == FIELD_SHOWN && (f.flags & FIELD_SHOWN_COUNT))
                        f = (collection_field_t){.name = f.name,
                                                 .type = FIELD_INTEGER,
                                                 .label = f.label,
                                                 .description = f.description};
                json_object_set_new(props, f.name, field_schema(&f));
        }
        return json_pack("{s:s, s:o}", "type", "object", "properties", props);
}

static json_t *ref(const char *name) {
        char r[160];
        snprintf(r, sizeof r, "#/components/schemas/%s", name);
        return json_pack("{s:s}", "$ref", r);
}

static void collection_schemas(struct gen *g, const collection_def_t *c) {
        char name[96], item[96];
        json_t *verbs = json_array();

        snprintf(item, sizeof item, "Item_%s", c->name);
        json_object_set_new(g->schemas, item, fields_schema(c, FIELD_SHOWN));
        json_object_set_new(json_object_get(g->schemas, item), "x-steward-id",
                            json_string(c->id_field));
        for (size_t i = 0; i < c->n_verbs; i++)
                json_array_append_new(verbs, json_pack("{s:s, s:s}", "name", c->verbs[i].name,
                                                       "summary", c->verbs[i].summary));
        json_object_set_new(json_object_get(g->schemas, item), "x-steward-verbs", verbs);
        if (c->write) {
                snprintf(name, sizeof name, "Create_%s", c->name);
                json_object_set_new(g->schemas, name, fields_schema(c, FIELD_CREATE));
                snprintf(name, sizeof name, "Modify_%s", c->name);
                json_object_set_new(g->schemas, name, fields_schema(c, FIELD_MODIFY));
        }
        snprintf(name, sizeof name, "List_%s", c->name);
        json_object_set_new(g->schemas, name,
                            json_pack("{s:s, s:{s:{s:s, s:o}}, s:[s]}", "type", "object",
                                      "properties", c->name, "type", "array", "items", ref(item),
                                      "required", c->name));
        /* A module answers a show with the item, or with the item under its
         * item name ({"timezone": {…}}). */
        snprintf(name, sizeof name, "Show_%s", c->name);
        json_object_set_new(g->schemas, name,
                            json_pack("{s:[o, {s:s, s:{s:o}, s:[s]}]}", "anyOf", ref(item), "type",
                                      "object", "properties", c->item, ref(item), "required",
                                      c->item));
}

/* ---- paths ------------------------------------------------------------------- */

/* What the '*' segments walked so far are bound to. */
struct binding {
        const struct api_route_doc *r;
        const module_t *module; /* "module", or the collection's, or the route's */
        const command_def_t *command;
        const collection_def_t *collection;
        const collection_action_t *action; /* a collection's, for its action route */
        const char *names[MAX_PARAMS];
        size_t n_names;
        json_t *parameters; /* path parameters so far */
};

static json_t *content(const char *type, json_t *schema) {
        return json_pack("{s:{s:o}}", type, "schema", schema);
}

/* The schema a route row names, for this binding; NULL: none. */
static json_t *schema_for(struct gen *g, const struct binding *b, const char *name, bool request) {
        char n[96];

        if (!name)
                return NULL;
        if (STREQ(name, "CommandArgs"))
                return args_schema(b->command->args, b->command->n_args);
        if (STREQ(name, "ActionArgs"))
                return args_schema(b->action->args, b->action->n_args);
        if (STREQ(name, "Settings") || STREQ(name, "SettingsChange"))
                snprintf(n, sizeof n, "%s_%s", name, b->module->name);
        else if (b->collection && STREQ(name, "List"))
                snprintf(n, sizeof n, "List_%s", b->collection->name);
        else if (b->collection && STREQ(name, "Item"))
                snprintf(n, sizeof n, "%s_%s",
                         !request                      ? "Show"
                         : STREQ(b->r->method, "POST") ? "Create"
                                                       : "Modify",
                         b->collection->name);
        else
                snprintf(n, sizeof n, "%s", name);
        if (!json_object_get(g->schemas, n)) {
                fprintf(stderr,
                        "gen-openapi: %s %s names the schema \"%s\", which is not defined\n",
                        b->r->method, b->r->pattern, n);
                g->error = -EINVAL;
        }
        return ref(n);
}

/* The answer's schema: a module route's own (JSON text in its row), or a
 * component. */
static json_t *response_schema(struct gen *g, const struct binding *b) {
        json_error_t err;
        json_t *s;

        if (!b->r->response_json)
                return schema_for(g, b, b->r->response ? b->r->response : "Object", false);
        s = json_loads(b->r->response_json, 0, &err);
        if (!json_is_object(s)) {
                fprintf(stderr, "gen-openapi: %s %s: its response schema: %s\n", b->r->method,
                        b->r->pattern, s ? "not an object" : err.text);
                g->error = -EINVAL;
                json_decref(s);
                return json_object();
        }
        return s;
}

static const char *tag_for(const struct binding *b) {
        static const char *const core[][2] = {
                {"login", "access"},  {"logout", "access"},   {"whoami", "access"},
                {"tokens", "access"}, {"sessions", "access"}, {"audit", "audit"},
                {"events", "events"}, {"modules", "modules"}, {"openapi.json", "modules"},
        };
        const char *seg = b->r->pattern + strlen("api/v1/");

        if (b->module)
                return b->module->name;
        for (size_t i = 0; i < ELEMENTSOF(core); i++)
                if (strncmp(seg, core[i][0], strlen(core[i][0])) == 0)
                        return core[i][1];
        return "modules";
}

static json_t *query_param(const char *name, const char *type, const char *description) {
        return json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", name, "in", "query", "description",
                         description, "schema", "type", type);
}

/* Each name of a space-separated list as a query parameter. */
static void add_names(json_t *params, const char *names, const char *type,
                      const char *description) {
        for (const char *s = names ? names : ""; *s;) {
                size_t n = strcspn(s, " ");
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)n, s);
                json_array_append_new(params, query_param(name, type, description));
                s += n;
                s += strspn(s, " ");
        }
}

/* Query arguments the route reads: its row's, and a collection's own (the
 * front passes those on for every method). */
static void add_query(json_t *params, const struct binding *b) {
        const struct api_route_doc *r = b->r;

        add_names(params, r->flags, "boolean",
                  "a flag: ?NAME, =1 or =true; =0 or =false (docs/api.md)");
        add_names(params, r->query, "string", "see the summary and docs/api.md");
        if (b->collection)
                for (size_t i = 0; i < b->collection->n_query; i++) {
                        const collection_query_t *q = &b->collection->query[i];
                        json_array_append_new(
                                params, query_param(q->name,
                                                    q->type == FIELD_BOOLEAN ? "boolean" : "string",
                                                    q->description ? q->description : ""));
                }
}

static void operation_id(char *buf, size_t len, const char *method, const char *path) {
        size_t o = 0;

        for (const char *s = method; *s && o + 1 < len; s++)
                buf[o++] = (char)(*s | 0x20);
        for (const char *s = path; *s && o + 1 < len; s++) {
                if (*s == '{' || *s == '}')
                        continue;
                buf[o++] = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ? *s : '_';
        }
        buf[o] = '\0';
}

static void emit(struct gen *g, const struct binding *b, const char *path) {
        const struct api_route_doc *r = b->r;
        json_t *item = json_object_get(g->paths, path), *op, *params, *responses, *ok;
        char id[512], summary[256], method[8];
        const char *role = role_to_string(r->min_role);

        if (!item) {
                item = json_object();
                json_object_set_new(g->paths, path, item);
        }
        operation_id(id, sizeof id, r->method, path);
        if (b->command)
                snprintf(summary, sizeof summary, "%s", b->command->summary);
        else if (b->action)
                snprintf(summary, sizeof summary, "%s %s: %s", b->collection->item, b->action->name,
                         b->action->summary ? b->action->summary : "");
        else if (b->collection)
                snprintf(summary, sizeof summary, "%s %s", r->summary,
                         STREQ(r->pattern, "api/v1/{collection}") && STREQ(r->method, "GET")
                                 ? b->collection->name
                                 : b->collection->item);
        else if (b->module && !r->module)
                snprintf(summary, sizeof summary, "%s: %s", b->module->name,
                         r->summary ? r->summary : "");
        else
                snprintf(summary, sizeof summary, "%s", r->summary ? r->summary : "");
        if (b->command)
                role = role_to_string((enum role)command_min_role(b->command));
        if (b->collection && !STREQ(r->method, "GET"))
                role = b->action ? role_to_string((enum role)collection_action_min_role(b->action))
                                 : "admin";
        params = json_deep_copy(b->parameters);
        add_query(params, b);
        if (r->text)
                ok = json_pack("{s:s, s:o}", "description", "OK", "content",
                               content("text/plain", json_pack("{s:s}", "type", "string")));
        else if (r->response && STREQ(r->response, "EventStream"))
                ok = json_pack("{s:s, s:o}", "description", "the stream", "content",
                               content("text/event-stream", json_pack("{s:s}", "type", "string")));
        else
                ok = json_pack("{s:s, s:o}", "description", "OK", "content",
                               content("application/json", response_schema(g, b)));
        /* A streaming command with ?stream=1: its events (docs/api.md). */
        if (ok && b->command && b->command->streams) {
                json_object_set_new(ok, "description",
                                    json_string("OK; with ?stream=1 the command's progress as "
                                                "Server-Sent Events (progress, then result or "
                                                "error)"));
                json_object_set_new(json_object_get(ok, "content"), "text/event-stream",
                                    json_pack("{s:{s:s}}", "schema", "type", "string"));
        }
        responses = json_pack("{s:o, s:{s:s}, s:{s:s}}", "200", ok, "4XX", "$ref",
                              "#/components/responses/Error", "5XX", "$ref",
                              "#/components/responses/Error");
        op = json_pack("{s:s, s:s, s:[s], s:o, s:s}", "operationId", id, "summary", summary, "tags",
                       tag_for(b), "responses", responses, "x-steward-min-role", role);
        if (b->command && b->command->summary)
                json_object_set_new(op, "description",
                                    json_sprintf("%s (command %s:%s)", b->command->summary,
                                                 b->module->name, b->command->name));
        if (json_array_size(params))
                json_object_set(op, "parameters", params);
        json_decref(params);
        if (r->request)
                json_object_set_new(
                        op, "requestBody",
                        json_pack("{s:b, s:o}", "required",
                                  STREQ(r->request, "LoginRequest") ||
                                          STREQ(r->request, "SettingsChange"),
                                  "content",
                                  content("application/json", schema_for(g, b, r->request, true))));
        if (r->min_role == ROLE_NONE)
                json_object_set_new(op, "security", json_array());
        snprintf(method, sizeof method, "%s", r->method);
        for (char *s = method; *s; s++)
                *s = (char)(*s | 0x20);
        json_object_set_new(item, method, op);
        g->n_operations++;
}

static void expand(struct gen *g, struct binding *b, const char *rest, const char *path);

/* Binds the '*' or "{collection}" segment seg (its rest after it) to each
 * value it takes. */
static void expand_star(struct gen *g, struct binding *b, const char *seg, size_t len,
                        const char *rest, const char *path) {
        char p[512];
        const char *name = b->n_names ? b->names[0] : NULL;
        struct binding sub = *b;

        if (len == 12 && memcmp(seg, "{collection}", 12) == 0) {
                for (size_t mi = 0; mi < steward_modules_count; mi++) {
                        const module_t *m = steward_modules[mi];
                        for (size_t i = 0; i < m->n_collections; i++) {
                                const collection_def_t *c = &m->collections[i];
                                bool action_route =
                                        strstr(b->r->params ? b->r->params : "", "action") != NULL;
                                if (action_route ? c->n_actions == 0
                                                 : !STREQ(b->r->method, "GET") && !c->write)
                                        continue;
                                sub.module = m;
                                sub.collection = c;
                                snprintf(p, sizeof p, "%s/%s", path, c->name);
                                expand(g, &sub, rest, p);
                        }
                }
                return;
        }
        if (!name) {
                fprintf(stderr, "gen-openapi: %s %s: its params do not name every '*'\n",
                        b->r->method, b->r->pattern);
                g->error = -EINVAL;
                return;
        }
        memmove(sub.names, sub.names + 1, sizeof sub.names - sizeof sub.names[0]);
        sub.n_names--;
        if (STREQ(name, "module")) {
                for (size_t mi = 0; mi < steward_modules_count; mi++) {
                        sub.module = steward_modules[mi];
                        snprintf(p, sizeof p, "%s/%s", path, sub.module->name);
                        expand(g, &sub, rest, p);
                }
        } else if (STREQ(name, "command")) {
                for (size_t i = 0; i < b->module->n_commands; i++) {
                        sub.command = &b->module->commands[i];
                        snprintf(p, sizeof p, "%s/%s", path, sub.command->name);
                        expand(g, &sub, rest, p);
                }
        } else if (STREQ(name, "action") && b->collection) {
                for (size_t i = 0; i < b->collection->n_actions; i++) {
                        sub.action = &b->collection->actions[i];
                        snprintf(p, sizeof p, "%s/%s", path, sub.action->name);
                        expand(g, &sub, rest, p);
                }
        } else if (STREQ(name, "action")) {
                const char *actions[] = {b->module->start ? "start" : NULL,
                                         b->module->stop ? "stop" : NULL,
                                         b->module->restart ? "restart" : NULL};
                for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                        if (!actions[i])
                                continue;
                        snprintf(p, sizeof p, "%s/%s", path, actions[i]);
                        expand(g, &sub, rest, p);
                }
        } else {
                const char *pname = b->collection ? b->collection->id_field : name;
                sub.parameters = json_deep_copy(b->parameters);
                json_array_append_new(sub.parameters,
                                      json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", pname, "in",
                                                "path", "required", 1, "schema", "type", "string"));
                snprintf(p, sizeof p, "%s/{%s}", path, pname);
                expand(g, &sub, rest, p);
                json_decref(sub.parameters);
        }
}

static void expand(struct gen *g, struct binding *b, const char *rest, const char *path) {
        const char *e;
        size_t len;
        char p[512];

        if (!*rest) {
                if (b->n_names) {
                        fprintf(stderr, "gen-openapi: %s %s: more params than '*' segments\n",
                                b->r->method, b->r->pattern);
                        g->error = -EINVAL;
                        return;
                }
                emit(g, b, path);
                return;
        }
        e = strchr(rest, '/');
        len = e ? (size_t)(e - rest) : strlen(rest);
        if ((len == 1 && *rest == '*') || (len == 12 && memcmp(rest, "{collection}", 12) == 0)) {
                expand_star(g, b, rest, len, e ? e + 1 : "", path);
                return;
        }
        snprintf(p, sizeof p, "%s/%.*s", path, (int)len, rest);
        expand(g, b, e ? e + 1 : "", p);
}

static void route(const struct api_route_doc *r, void *userdata) {
        struct gen *g = userdata;
        struct binding b = {.r = r, .module = r->module, .parameters = json_array()};
        const char *s = r->params ? r->params : "";

        g->n_routes++;
        /* A module route that runs a command: documented as that command. */
        if (r->command && !(b.command = module_find_command(r->module, r->command))) {
                fprintf(stderr, "gen-openapi: %s %s: no command %s\n", r->method, r->pattern,
                        r->command);
                g->error = -EINVAL;
        }
        while (*s) {
                size_t n = strcspn(s, " ");
                if (b.n_names == MAX_PARAMS) {
                        g->error = -E2BIG;
                        break;
                }
                b.names[b.n_names++] = strndup(s, n);
                s += n;
                s += strspn(s, " ");
        }
        expand(g, &b, r->pattern, "");
        for (size_t i = 0; i < b.n_names; i++)
                free((char *)b.names[i]);
        json_decref(b.parameters);
}

/* ---- what is not in the tables: the wire contract of DESIGN.md -------------- */

/* The error contract, the security schemes and the JSON shapes clients rely
 * on (docs/api.md).  Objects may carry more fields than listed. */
static const char core_components[] =
        "{\"securitySchemes\": {"
        "  \"bearer\": {\"type\": \"http\", \"scheme\": \"bearer\","
        "    \"description\": \"A session's token from POST /api/v1/login or an API token from "
        "POST /api/v1/tokens: Authorization: Bearer TOKEN.\"},"
        "  \"session\": {\"type\": \"apiKey\", \"in\": \"cookie\", \"name\": "
        "\"__Host-steward_session\","
        "    \"description\": \"The browser's session cookie set by POST /api/v1/login (HttpOnly, "
        "Secure, SameSite=Strict).\"},"
        "  \"csrf\": {\"type\": \"apiKey\", \"in\": \"header\", \"name\": \"X-CSRF-Token\","
        "    \"description\": \"With the session cookie, every request that changes state carries "
        "the csrf_token of the login's answer.\"}},"
        " \"responses\": {"
        "  \"Error\": {\"description\": \"An error: 400, 401, 403, 404, 405, 409, 413, 415, 422, "
        "429, 500 or 503\","
        "    \"content\": {\"application/json\": {\"schema\": {\"$ref\": "
        "\"#/components/schemas/Error\"}}}}},"
        " \"schemas\": {"
        "  \"Error\": {\"type\": \"object\", \"required\": [\"error\"], \"properties\": "
        "{\"error\": {"
        "    \"type\": \"object\", \"required\": [\"code\", \"message\"], \"properties\": {"
        "      \"code\": {\"type\": \"string\", \"description\": \"machine-readable: "
        "invalid_setting, unauthenticated, forbidden, not_found, …\"},"
        "      \"message\": {\"type\": \"string\", \"description\": \"for people\"},"
        "      \"field\": {\"type\": \"string\", \"description\": \"the setting, argument or field "
        "at fault, when there is one\"}}}}},"
        "  \"Object\": {\"type\": \"object\"},"
        "  \"SdTargetGroups\": {\"type\": \"array\", \"description\": \"Prometheus HTTP "
        "service discovery: this server first, then its discovery's peers\", \"items\": {"
        "    \"type\": \"object\", \"required\": [\"targets\", \"labels\"], \"properties\": {"
        "      \"targets\": {\"type\": \"array\", \"items\": {\"type\": \"string\", "
        "\"description\": \"ADDR:PORT\"}},"
        "      \"labels\": {\"type\": \"object\", \"additionalProperties\": {\"type\": "
        "\"string\"}}}}},"
        "  \"Role\": {\"type\": \"string\", \"enum\": [\"admin\", \"operator\", \"monitor\"]},"
        "  \"LoginRequest\": {\"oneOf\": ["
        "    {\"type\": \"object\", \"required\": [\"user\", \"password\"], "
        "\"additionalProperties\": false,"
        "     \"properties\": {\"user\": {\"type\": \"string\"}, \"password\": {\"type\": "
        "\"string\", \"writeOnly\": true}}},"
        "    {\"type\": \"object\", \"required\": [\"bootstrap_token\"], \"additionalProperties\": "
        "false,"
        "     \"properties\": {\"bootstrap_token\": {\"type\": \"string\", \"writeOnly\": "
        "true}}}]},"
        "  \"Session\": {\"type\": \"object\", \"required\": [\"token\", \"csrf_token\", \"user\", "
        "\"role\", \"expires_at\"],"
        "    \"properties\": {\"token\": {\"type\": \"string\"}, \"csrf_token\": {\"type\": "
        "\"string\"},"
        "      \"user\": {\"type\": \"string\"}, \"role\": {\"$ref\": "
        "\"#/components/schemas/Role\"},"
        "      \"expires_at\": {\"type\": \"integer\", \"description\": \"seconds since the "
        "epoch\"}}},"
        "  \"Whoami\": {\"type\": \"object\", \"required\": [\"user\", \"role\", \"auth\", "
        "\"source\"],"
        "    \"properties\": {\"user\": {\"type\": \"string\"}, \"role\": {\"$ref\": "
        "\"#/components/schemas/Role\"},"
        "      \"auth\": {\"type\": \"string\", \"enum\": [\"peer\", \"token\", \"cookie\", "
        "\"network\"]},"
        "      \"source\": {\"type\": \"string\"}, \"csrf_token\": {\"type\": \"string\"}}},"
        "  \"TokenRequest\": {\"type\": \"object\", \"required\": [\"name\"],"
        "    \"properties\": {\"name\": {\"type\": \"string\"}, \"role\": {\"$ref\": "
        "\"#/components/schemas/Role\"},"
        "      \"expires_in\": {\"type\": \"integer\", \"description\": \"seconds\"}}},"
        "  \"Token\": {\"type\": \"object\", \"required\": [\"id\", \"name\", \"role\", "
        "\"expires_at\"],"
        "    \"properties\": {\"id\": {\"type\": [\"string\", \"integer\"]}, \"token\": {\"type\": "
        "\"string\", \"description\": \"the secret: only in the answer to its creation\"},"
        "      \"name\": {\"type\": \"string\"}, \"role\": {\"$ref\": "
        "\"#/components/schemas/Role\"}, \"expires_at\": {\"type\": \"integer\"}}},"
        "  \"TokenList\": {\"type\": \"object\", \"required\": [\"tokens\"], \"properties\": "
        "{\"tokens\": {\"type\": \"array\", \"items\": {\"$ref\": "
        "\"#/components/schemas/Token\"}}}},"
        "  \"SessionList\": {\"type\": \"object\", \"required\": [\"sessions\"], \"properties\": "
        "{\"sessions\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}}}},"
        "  \"ModuleStatus\": {\"type\": \"object\", \"required\": [\"name\", \"summary\", "
        "\"state\"],"
        "    \"properties\": {\"name\": {\"type\": \"string\"}, \"summary\": {\"type\": "
        "\"string\"},"
        "      \"state\": {\"type\": \"string\", \"enum\": [\"running\", \"stopped\", "
        "\"degraded\", \"unavailable\", \"n/a\"]},"
        "      \"reason\": {\"type\": \"string\", \"description\": \"why the state is degraded or "
        "n/a\"}}},"
        "  \"ModuleList\": {\"type\": \"object\", \"required\": [\"modules\"], \"properties\": "
        "{\"modules\": {\"type\": \"array\", \"items\": {\"$ref\": "
        "\"#/components/schemas/ModuleStatus\"}}}},"
        "  \"ModuleSchema\": {\"type\": \"object\", \"required\": [\"name\", \"settings\", "
        "\"commands\"],"
        "    \"properties\": {\"name\": {\"type\": \"string\"}, \"summary\": {\"type\": "
        "\"string\"},"
        "      \"settings\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}}, "
        "\"commands\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}},"
        "      \"collections\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}}, "
        "\"collection_schemas\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}},"
        "      \"events\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}}}},"
        "  \"FileChange\": {\"type\": \"object\", \"required\": [\"path\"], \"properties\": "
        "{\"path\": {\"type\": \"string\"}, \"diff\": {\"type\": \"string\", \"description\": \"a "
        "unified diff, secrets redacted\"}}},"
        "  \"Plan\": {\"type\": \"object\", \"properties\": {\"dry_run\": {\"type\": \"boolean\"},"
        "      \"changed\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, "
        "\"restart_required\": {\"type\": \"boolean\"},"
        "      \"files\": {\"type\": \"array\", \"items\": {\"$ref\": "
        "\"#/components/schemas/FileChange\"}},"
        "      \"commands\": {\"type\": \"array\", \"items\": {\"type\": \"array\", \"items\": "
        "{\"type\": \"string\"}}}}},"
        "  \"Change\": {\"type\": \"object\", \"description\": \"the item as it is afterwards "
        "under the collection's item name; with ?dry_run=1 the plan\","
        "    \"properties\": {\"plan\": {\"$ref\": \"#/components/schemas/Plan\"}}},"
        "  \"ActionResult\": {\"type\": \"object\", \"description\": \"what the action "
        "answers, e.g. the item under the collection's item name; with ?dry_run=1 its plan\","
        "    \"properties\": {\"plan\": {\"$ref\": \"#/components/schemas/Plan\"}, "
        "\"audit_id\": {\"type\": \"integer\"}}},"
        "  \"CommandResult\": {\"type\": \"object\", \"properties\": {\"result\": "
        "{\"description\": \"the command's answer\"}}},"
        "  \"AuditRecord\": {\"type\": \"object\", \"required\": [\"id\", \"time\", \"user\", "
        "\"operation\", \"result\", \"hash\", \"prev_hash\"],"
        "    \"properties\": {\"id\": {\"type\": \"integer\"}, \"time\": {\"type\": \"string\", "
        "\"format\": \"date-time\"},"
        "      \"user\": {\"type\": \"string\"}, \"role\": {\"type\": \"string\"}, \"source\": "
        "{\"type\": \"string\"},"
        "      \"module\": {\"type\": \"string\"}, \"operation\": {\"type\": \"string\"}, "
        "\"result\": {\"type\": \"string\", \"enum\": [\"ok\", \"error\"]},"
        "      \"files\": {\"type\": \"array\", \"items\": {\"$ref\": "
        "\"#/components/schemas/FileChange\"}},"
        "      \"hash\": {\"type\": \"string\"}, \"prev_hash\": {\"type\": \"string\"}}},"
        "  \"AuditList\": {\"type\": \"object\", \"required\": [\"records\"], \"properties\": {"
        "    \"records\": {\"type\": \"array\", \"items\": {\"$ref\": "
        "\"#/components/schemas/AuditRecord\"}},"
        "    \"next\": {\"type\": \"string\", \"description\": \"the cursor of the next page "
        "(?before=)\"}}}"
        " }}";

static const char description[] =
        "The HTTP API of stewardd, version 1: one uniform model for every module (status, "
        "settings, commands, collections, events).  Generated at build time from the daemon's "
        "route tables and its module registry; served at GET /api/v1/openapi.json (any role) "
        "and installed as /usr/share/doc/steward/openapi.json.  Every answer that is not 2xx "
        "carries the error body.  On the unix socket the caller is known by its peer "
        "credentials and needs no token.  x-steward-min-role is the lowest role an operation "
        "needs; the helper checks it again.  docs/api.md says the rest.";

/* ---- the document ------------------------------------------------------------ */

/* The event types of every module, on GET /api/v1/events. */
static void events_doc(struct gen *g) {
        json_t *op = json_object_get(json_object_get(g->paths, "/api/v1/events"), "get");
        json_t *types = json_array(), *names = json_array();

        if (!op)
                return;
        for (size_t mi = 0; mi < steward_modules_count; mi++) {
                const module_t *m = steward_modules[mi];
                for (size_t i = 0; i < m->n_events; i++) {
                        json_t *t = json_pack("{s:s, s:s, s:s, s:s}", "name", m->events[i].name,
                                              "module", m->name, "description",
                                              m->events[i].description, "min_role",
                                              role_to_string(m->events[i].min_role));
                        if (t && m->events[i].subscribe)
                                json_object_set_new(t, "params",
                                                    json_string(m->events[i].params
                                                                        ? m->events[i].params
                                                                        : ""));
                        json_array_append_new(types, t);
                        json_array_append_new(names, json_string(m->events[i].name));
                }
        }
        json_object_set_new(op, "x-steward-events", types);
        /* Richer than the row's "types last_event_id": the event names. */
        json_object_set_new(
                op, "parameters",
                json_pack("[{s:s, s:s, s:s, s:{s:s, s:{s:s, s:o}}, s:s, s:b}, o]", "name", "types",
                          "in", "query", "description",
                          "the event types to receive, comma-separated (default: all the "
                          "caller's role may see)",
                          "schema", "type", "array", "items", "type", "string", "enum", names,
                          "style", "form", "explode", 0,
                          query_param("last_event_id", "string",
                                      "resume after this event id (or the Last-Event-ID "
                                      "header)")));
}

static json_t *tags(void) {
        json_t *t = json_pack(
                "[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", "access", "description",
                "Logging in and out, sessions and API tokens", "name", "modules", "description",
                "Every module's status, schema, settings, commands and actions", "name", "audit",
                "description", "The hash-chained audit log and rollback", "name", "events",
                "description", "Server-Sent Events");
        for (size_t mi = 0; mi < steward_modules_count; mi++)
                json_array_append_new(t, json_pack("{s:s, s:s}", "name", steward_modules[mi]->name,
                                                   "description", steward_modules[mi]->summary));
        return t;
}

static int build(json_t **ret, size_t *ret_routes, size_t *ret_ops) {
        json_error_t err;
        json_t *components = json_loads(core_components, 0, &err);
        struct gen g = {.paths = json_object()};

        if (!components) {
                fprintf(stderr, "gen-openapi: components, line %d: %s\n", err.line, err.text);
                json_decref(g.paths);
                return -EINVAL;
        }
        g.schemas = json_object_get(components, "schemas");
        for (size_t mi = 0; mi < steward_modules_count; mi++) {
                const module_t *m = steward_modules[mi];
                settings_schemas(&g, m);
                for (size_t i = 0; i < m->n_collections; i++)
                        collection_schemas(&g, &m->collections[i]);
        }
        api_route_walk(route, &g);
        events_doc(&g);
        if (g.error < 0) {
                json_decref(components);
                json_decref(g.paths);
                return g.error;
        }
        *ret = json_pack(
                "{s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:[{s:s, s:s}], s:o, s:[{s:[]}, {s:[], "
                "s:[]}], s:o, s:o}",
                "openapi", "3.1.0", "info", "title", "Steward API", "version", STEWARD_VERSION,
                "description", description, "license", "name", "GPL-3.0-or-later", "identifier",
                "GPL-3.0-or-later", "servers", "url", "/", "description",
                "the stewardd that serves this document (https://HOST:660, or plain HTTP on its "
                "unix socket)",
                "tags", tags(), "security", "bearer", "session", "csrf", "paths", g.paths,
                "components", components);
        *ret_routes = g.n_routes;
        *ret_ops = g.n_operations;
        return *ret ? 0 : -ENOMEM;
}

static int write_c(FILE *f, const char *doc, size_t len) {
        fputs("/* Generated by tools/gen-openapi.c: the OpenAPI document. */\n"
              "#include <stddef.h>\n"
              "extern const char openapi_document[];\n"
              "extern const size_t openapi_document_len;\n"
              "const char openapi_document[] = {",
              f);
        for (size_t i = 0; i < len; i++)
                fprintf(f, "%s%d,", i % 20 ? "" : "\n", (unsigned char)doc[i]);
        fprintf(f, "0};\nconst size_t openapi_document_len = %zu;\n", len);
        return ferror(f) ? -EIO : 0;
}

static int write_file(const char *path, const char *doc, size_t len, bool c) {
        FILE *f = fopen(path, "we");
        int r;

        if (!f)
                return -errno;
        r = c ? write_c(f, doc, len) : (fwrite(doc, 1, len, f) == len ? 0 : -EIO);
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

int main(int argc, char **argv) {
        const char *json_out = NULL, *c_out = NULL;
        size_t n_routes = 0, n_ops = 0;
        json_t *doc = NULL;
        char *text;
        int r;

        for (int i = 1; i < argc; i++) {
                if (STREQ(argv[i], "--json") && i + 1 < argc)
                        json_out = argv[++i];
                else if (STREQ(argv[i], "--c") && i + 1 < argc)
                        c_out = argv[++i];
                else {
                        fprintf(stderr, "usage: gen-openapi [--json OUT.json] [--c OUT.c]\n");
                        return 2;
                }
        }
        r = build(&doc, &n_routes, &n_ops);
        if (r < 0)
                return 1;
        text = json_dumps(doc, JSON_INDENT(1) | JSON_ENSURE_ASCII);
        json_decref(doc);
        if (!text)
                return 1;
        r = 0;
        if (json_out)
                r = write_file(json_out, text, strlen(text), false);
        if (r >= 0 && c_out)
                r = write_file(c_out, text, strlen(text), true);
        if (!json_out && !c_out)
                puts(text);
        free(text);
        if (r < 0) {
                fprintf(stderr, "gen-openapi: %s\n", strerror(-r));
                return 1;
        }
        fprintf(stderr, "gen-openapi: %zu routes, %zu operations\n", n_routes, n_ops);
        return 0;
}
