/* registry.c — the generic half of the module registry: lookup, schema export,
 * validation of values against the schema, flattening of settings patches,
 * command argument checking, and the settings entry points that dispatch to
 * a module's settings file (settingsfile.c) or to its own functions.  The
 * API layer and the helper call only these, so they hold no module-specific
 * code. */
#include "module.h"
#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "roles.h"
#include "settingsfile.h"
#include "util.h"

void module_error_set(struct module_error *e, int status, const char *code, const char *field,
                      const char *fmt, ...) {
        va_list ap;

        if (!e)
                return;
        e->status = status;
        snprintf(e->code, sizeof e->code, "%s", code);
        snprintf(e->field, sizeof e->field, "%s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
}

static _Atomic(module_helper_call_fn) helper_call_fn;

void modules_set_helper_call(module_helper_call_fn call) {
        atomic_store(&helper_call_fn, call);
}

module_helper_call_fn modules_helper_call(void) {
        return atomic_load(&helper_call_fn);
}

static _Atomic(module_state_read_fn) state_read_fn;

void modules_set_state_read(module_state_read_fn read) {
        atomic_store(&state_read_fn, read);
}

int module_state_read(const char *module, const char *key, json_t **ret) {
        module_state_read_fn fn = atomic_load(&state_read_fn);
        return fn ? fn(module, key, ret) : -ENOSYS;
}

const module_t *module_find(const char *name) {
        for (size_t i = 0; i < steward_modules_count; i++)
                if (STREQ(steward_modules[i]->name, name))
                        return steward_modules[i];
        return NULL;
}

bool module_owns_file(const module_t *m, const char *path) {
        const char *const *f = module_files(m);

        for (; f && *f; f++)
                if (STREQ(*f, path))
                        return true;
        return false;
}

int modules_make_live(bool helper,
                      void (*failed)(const module_t *m, const struct module_error *e)) {
        int ret = 0;

        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                struct module_error e = {0};
                int r;

                if (!m->make_live && !m->settings_file)
                        continue;
                r = module_make_live(m, helper, &e);
                if (r < 0) {
                        if (failed)
                                failed(m, &e);
                        if (ret == 0)
                                ret = r;
                }
        }
        return ret;
}

const setting_def_t *module_settings_rows(const module_t *m, size_t *ret_n) {
        if (m->settings_file) {
                *ret_n = m->settings_file->n_rows;
                return m->settings_file->rows;
        }
        *ret_n = m->n_settings;
        return m->settings;
}

const setting_def_t *settings_rows_find(const setting_def_t *rows, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (STREQ(rows[i].key, key))
                        return &rows[i];
        return NULL;
}

const setting_def_t *module_find_setting(const module_t *m, const char *key) {
        size_t n;
        const setting_def_t *rows = module_settings_rows(m, &n);

        return settings_rows_find(rows, n, key);
}

int module_settings_read(const module_t *m, json_t **ret, struct module_error *err) {
        if (m->settings_file)
                return settings_file_read(m->settings_file, ret, err);
        if (!m->settings_read)
                return -ENOENT;
        return m->settings_read(ret, err);
}

/* url as scheme://host[:port]/… (no user info, no path, no query): what a
 * confidential setting shows below admin; "" stays "", anything that is not
 * scheme://authority is "[redacted]". */
static json_t *url_redacted(const char *url) {
        const char *sep = strstr(url, "://"), *host, *end, *at;
        _cleanup_free_ char *s = NULL;

        if (!*url)
                return json_string("");
        if (!sep || sep == url)
                return json_string("[redacted]");
        host = sep + 3;
        end = host + strcspn(host, "/?#");
        at = memrchr(host, '@', (size_t)(end - host));
        if (at)
                host = at + 1;
        if (asprintf(&s, "%.*s://%.*s%s", (int)(sep - url), url, (int)(end - host), host,
                     *end ? "/…" : "") < 0)
                return NULL;
        return json_string(s);
}

void module_settings_redact(const module_t *m, json_t *tree) {
        size_t n, j;
        const setting_def_t *rows = module_settings_rows(m, &n);
        json_t *v, *item;

        for (size_t i = 0; rows && i < n; i++) {
                if (!rows[i].confidential || !(v = json_tree_get(tree, rows[i].key)))
                        continue;
                if (json_is_string(v))
                        json_tree_set(tree, rows[i].key, url_redacted(json_string_value(v)));
                else if (json_is_array(v))
                        json_array_foreach(v, j, item) json_array_set_new(
                                v, j, url_redacted(json_string_value(item) ?: ""));
        }
}

int module_settings_apply(const module_t *m, const struct module_ctx *ctx, json_t *changes,
                          bool dry_run, json_t **plan, struct module_error *err) {
        if (m->settings_file)
                return settings_file_apply(m->settings_file, changes, dry_run, plan, err);
        if (!m->settings_apply) {
                module_error_set(err, 422, "read_only", NULL, "the settings of %s are read-only",
                                 m->name);
                return -EPERM;
        }
        return m->settings_apply(ctx, changes, dry_run, plan, err);
}

const char *const *module_files(const module_t *m) {
        if (m->settings_file)
                return settings_file_files(m->settings_file, m->files ? m->files() : NULL);
        return m->files ? m->files() : NULL;
}

int module_make_live(const module_t *m, bool helper, struct module_error *err) {
        if (m->settings_file) {
                int r = settings_file_make_live(m->settings_file, helper, err);
                struct module_error e2 = {0};
                int r2 = m->make_live ? m->make_live(helper, r < 0 ? &e2 : err) : 0;
                return r < 0 ? r : r2;
        }
        return m->make_live ? m->make_live(helper, err) : 0;
}

int module_config_get(const module_t *m, void *ret, size_t size) {
        if (!m->settings_file)
                return -ENOENT;
        settings_file_get(m->settings_file, ret, size);
        return 0;
}

/* An action's name is a route segment and a CLI verb: [a-z0-9_-], a
 * letter first, unique, not a generic verb; its role one of roles.h. */
/* A route-list verb names a GET route of the module without '*', a command
 * verb one of its commands and the argument it fills; owner names the
 * table for messages ("collection shares", "module mail").  A module's own
 * verbs are only these two kinds, and none is named like one of its
 * collections' short names (`mail queue` is the collection mail_queue). */
static int verbs_check(const module_t *m, const char *owner, const collection_verb_t *verbs,
                       size_t n, bool module_level, char *err, size_t err_len) {
        for (size_t i = 0; i < n; i++) {
                const collection_verb_t *v = &verbs[i];
                bool ok = true;
                if (v->op == VERB_ROUTE_LIST) {
                        ok = false;
                        for (size_t k = 0; v->route && v->list_key && k < m->n_routes; k++)
                                ok |= STREQ(m->routes[k].pattern, v->route) &&
                                      STREQ(m->routes[k].method, "GET") && !strchr(v->route, '*');
                        /* or the list of one of its collections */
                        for (size_t k = 0; v->route && v->list_key && k < m->n_collections; k++)
                                ok |= strncmp(v->route, "api/v1/", 7) == 0 &&
                                      STREQ(v->route + 7, m->collections[k].name);
                } else if (v->op == VERB_COMMAND)
                        ok = v->command && v->arg && module_find_command(m, v->command);
                else
                        ok = !module_level;
                for (size_t k = 0; ok && module_level && k < m->n_collections; k++) {
                        const char *cn = m->collections[k].name;
                        size_t len = strlen(m->name);
                        ok = !(strncmp(cn, m->name, len) == 0 && cn[len] == '_' &&
                               STREQ(cn + len + 1, v->name));
                }
                for (size_t k = 0; ok && k < i; k++)
                        ok = !STREQ(verbs[k].name, v->name);
                if (!ok) {
                        snprintf(err, err_len,
                                 "%s of module %s: verb %s names no route or command of the "
                                 "module, or is not one a module may have, or is twice",
                                 owner, m->name, v->name);
                        return -EINVAL;
                }
        }
        return 0;
}

static int collection_check(const module_t *m, const collection_def_t *c, char *err,
                            size_t err_len) {
        static const char *const reserved[] = {"list", "show", "add", "modify", "delete"};

        if (c->front_reads && !c->list) {
                snprintf(err, err_len,
                         "collection %s of module %s reads in the front: it needs list", c->name,
                         m->name);
                return -EINVAL;
        }
        for (size_t i = 0; i < c->n_actions; i++) {
                const collection_action_t *a = &c->actions[i];
                bool bad = !a->name || !a->run || strlen(a->name) > 32 || a->min_role < ROLE_NONE ||
                           a->min_role > ROLE_ADMIN || !(a->name[0] >= 'a' && a->name[0] <= 'z') ||
                           strspn(a->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
                                   strlen(a->name);
                for (size_t k = 0; !bad && k < ELEMENTSOF(reserved); k++)
                        bad = STREQ(a->name, reserved[k]);
                for (size_t k = 0; !bad && k < i; k++)
                        bad = STREQ(a->name, c->actions[k].name);
                if (bad) {
                        snprintf(err, err_len, "collection %s of module %s: action %s is malformed",
                                 c->name, m->name, a->name ? a->name : "(null)");
                        return -EINVAL;
                }
        }
        /* An action verb is one of the collection's actions, its options
         * the action's arguments. */
        for (size_t i = 0; i < c->n_verbs; i++) {
                const collection_verb_t *v = &c->verbs[i];
                const collection_action_t *a = NULL;
                bool ok = true;
                if (v->op != VERB_ACTION)
                        continue;
                for (size_t k = 0; k < c->n_actions; k++)
                        if (STREQ(c->actions[k].name, v->name))
                                a = &c->actions[k];
                for (size_t k = 0; a && k < v->n_options; k++) {
                        bool found = false;
                        for (size_t j = 0; j < a->n_args; j++)
                                found |= STREQ(a->args[j].name, v->options[k].field);
                        ok &= found && v->options[k].kind == COPT_VALUE;
                }
                if (!a || !ok) {
                        snprintf(err, err_len,
                                 "collection %s of module %s: verb %s names no action, or an "
                                 "option names no argument of it",
                                 c->name, m->name, v->name);
                        return -EINVAL;
                }
        }
        char owner[96];
        snprintf(owner, sizeof owner, "collection %s", c->name);
        return verbs_check(m, owner, c->verbs, c->n_verbs, false, err, err_len);
}

int modules_check(char *err, size_t err_len) {
        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                int r;

                if (m->settings_file &&
                    (m->settings || m->settings_read || m->settings_apply)) {
                        snprintf(err, err_len,
                                 "module %s has a settings file and settings functions of its own",
                                 m->name);
                        return -EINVAL;
                }
                for (size_t j = 0; j < m->n_collections; j++) {
                        const collection_def_t *c = &m->collections[j];
                        if (!c->show || (!c->list && !c->list_text) || !c->id_field) {
                                snprintf(err, err_len,
                                         "collection %s of module %s needs show, list and its "
                                         "id field",
                                         c->name, m->name);
                                return -EINVAL;
                        }
                        r = collection_check(m, c, err, err_len);
                        if (r < 0)
                                return r;
                }
                r = verbs_check(m, "the verbs", m->verbs, m->n_verbs, true, err, err_len);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < m->n_routes; j++) {
                        const module_route_t *rt = &m->routes[j];
                        const command_def_t *cmd =
                                rt->command ? module_find_command(m, rt->command) : NULL;
                        /* Its row's role is its command's, so that the row
                         * says what the route checks. */
                        if (rt->command && (!cmd || rt->handler || rt->text_handler ||
                                            rt->min_role != command_min_role(cmd))) {
                                snprintf(err, err_len,
                                         "route %s %s of module %s: its command %s is not one "
                                         "of the module's, has another role, or it has a "
                                         "handler too",
                                         rt->method, rt->pattern, m->name, rt->command);
                                return -EINVAL;
                        }
                }
                for (size_t j = 0; j < m->n_commands; j++)
                        if (m->commands[j].min_role < ROLE_NONE ||
                            m->commands[j].min_role > ROLE_ADMIN) {
                                snprintf(err, err_len, "command %s of module %s: bad min_role",
                                         m->commands[j].name, m->name);
                                return -EINVAL;
                        }
                if (!m->settings_file)
                        continue;
                r = settings_file_check(m->settings_file, err, err_len);
                if (r < 0)
                        return r;
        }
        return 0;
}

const command_def_t *module_find_command(const module_t *m, const char *name) {
        for (size_t i = 0; i < m->n_commands; i++)
                if (STREQ(m->commands[i].name, name))
                        return &m->commands[i];
        return NULL;
}

int command_min_role(const command_def_t *cmd) {
        if (cmd->min_role > ROLE_NONE)
                return cmd->min_role;
        return cmd->changes_state ? ROLE_ADMIN : ROLE_MONITOR;
}

int module_route_min_role(const module_t *m, const module_route_t *r) {
        const command_def_t *cmd = r->command ? module_find_command(m, r->command) : NULL;

        /* A route whose command is missing is refused by modules_check();
         * until then it is admin's. */
        if (r->command)
                return cmd ? command_min_role(cmd) : ROLE_ADMIN;
        return r->min_role;
}

const collection_action_t *collection_find_action(const collection_def_t *coll, const char *name) {
        for (size_t i = 0; coll && name && i < coll->n_actions; i++)
                if (STREQ(coll->actions[i].name, name))
                        return &coll->actions[i];
        return NULL;
}

int collection_action_min_role(const collection_action_t *a) {
        return a->min_role > ROLE_NONE ? a->min_role : ROLE_ADMIN;
}

const collection_def_t *collection_find(const char *name, const module_t **ret_module) {
        for (size_t i = 0; name && i < steward_modules_count; i++)
                for (size_t j = 0; j < steward_modules[i]->n_collections; j++)
                        if (STREQ(steward_modules[i]->collections[j].name, name)) {
                                if (ret_module)
                                        *ret_module = steward_modules[i];
                                return &steward_modules[i]->collections[j];
                        }
        return NULL;
}

const collection_query_t *collection_find_query(const collection_def_t *coll, const char *key) {
        for (size_t i = 0; coll && key && i < coll->n_query; i++)
                if (STREQ(coll->query[i].name, key))
                        return &coll->query[i];
        return NULL;
}

const char *field_type_name(field_type_t t) {
        switch (t) {
        case FIELD_STRING:
                return "string";
        case FIELD_INTEGER:
                return "integer";
        case FIELD_BOOLEAN:
                return "boolean";
        case FIELD_ENUM:
                return "enum";
        case FIELD_STRING_ARRAY:
                return "string_array";
        case FIELD_OBJECT:
                return "object";
        case FIELD_OBJECT_ARRAY:
                return "object_array";
        case FIELD_NUMBER:
                return "number";
        }
        return "unknown";
}

const char *setting_type_name(setting_type_t t) {
        switch (t) {
        case SETTING_STRING:
                return "string";
        case SETTING_INTEGER:
                return "integer";
        case SETTING_BOOLEAN:
                return "boolean";
        case SETTING_ENUM:
                return "enum";
        case SETTING_STRING_ARRAY:
                return "string_array";
        }
        return "unknown";
}

static int check_string(const char *what, const char *field, const char *s, size_t len, int64_t min,
                        int64_t max, bool (*valid)(const char *), int status,
                        struct module_error *e) {
        if (!utf8_valid(s, len)) {
                module_error_set(e, status, "invalid_setting", field, "%s: not valid UTF-8 text",
                                 what);
                return -EINVAL;
        }
        if ((int64_t)len < min || (max > 0 && (int64_t)len > max)) {
                module_error_set(e, status, "invalid_setting", field,
                                 "%s: length %zu is outside %lld..%lld", what, len, (long long)min,
                                 (long long)max);
                return -EINVAL;
        }
        if (valid && !valid(s)) {
                module_error_set(e, status, "invalid_setting", field, "%s: \"%.64s\" is not valid",
                                 what, s);
                return -EINVAL;
        }
        return 0;
}

int value_check(const struct value_rule *rule, const char *field, json_t *v, const char *code,
                struct module_error *e) {
        const int st = 422;

        switch (rule->type) {
        case SETTING_INTEGER: {
                json_int_t x;
                if (!json_is_integer(v)) {
                        module_error_set(e, st, code, field, "%s: expected an integer", field);
                        return -EINVAL;
                }
                x = json_integer_value(v);
                if (x < rule->min || x > rule->max) {
                        module_error_set(e, st, code, field, "%s: %lld is outside %lld..%lld",
                                         field, (long long)x, (long long)rule->min,
                                         (long long)rule->max);
                        return -ERANGE;
                }
                return 0;
        }
        case SETTING_BOOLEAN:
                if (!json_is_boolean(v)) {
                        module_error_set(e, st, code, field, "%s: expected yes or no", field);
                        return -EINVAL;
                }
                return 0;
        case SETTING_ENUM:
                if (json_is_string(v))
                        for (const char *const *c = rule->choices; c && *c; c++)
                                if (STREQ(*c, json_string_value(v)))
                                        return 0;
                {
                        struct buf b;
                        buf_init(&b, 400);
                        for (const char *const *c = rule->choices; c && *c; c++)
                                (void)buf_printf(&b, "%s\"%s\"", c == rule->choices ? "" : ", ",
                                                 *c);
                        module_error_set(e, st, code, field, "%s: expected one of %s", field,
                                         b.data ? b.data : "");
                        buf_free(&b);
                }
                return -EINVAL;
        case SETTING_STRING:
                if (!json_is_string(v)) {
                        module_error_set(e, st, code, field, "%s: expected a string", field);
                        return -EINVAL;
                }
                return check_string(field, field, json_string_value(v), json_string_length(v),
                                    rule->min, rule->max, rule->valid_string, st, e);
        case SETTING_STRING_ARRAY: {
                size_t i;
                json_t *item;
                if (!json_is_array(v)) {
                        module_error_set(e, st, code, field, "%s: expected a list of strings",
                                         field);
                        return -EINVAL;
                }
                if ((int64_t)json_array_size(v) > (rule->max > 0 ? rule->max : 1024)) {
                        module_error_set(e, st, code, field, "%s: too many items (%zu)", field,
                                         json_array_size(v));
                        return -E2BIG;
                }
                json_array_foreach(v, i, item) {
                        if (!json_is_string(item)) {
                                module_error_set(e, st, code, field, "%s: item %zu is not a string",
                                                 field, i);
                                return -EINVAL;
                        }
                        int r = check_string(field, field, json_string_value(item),
                                             json_string_length(item), 0,
                                             rule->item_max > 0 ? rule->item_max : 4096,
                                             rule->valid_string, st, e);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        }
        module_error_set(e, 500, "internal", field, "%s: unknown type", field);
        return -EINVAL;
}

struct value_rule setting_rule(const setting_def_t *d) {
        return (struct value_rule){
                .type = d->type,
                .min = d->min,
                .max = d->max,
                .choices = d->choices,
                .valid_string = d->valid_string,
                /* A list kept in a struct setting_list (or a wide one): each
                 * item must fit. */
                .item_max = d->type != SETTING_STRING_ARRAY || !d->size ? 0
                            : d->size == sizeof(struct setting_wide_list)
                                    ? SETTING_WIDE_LIST_ITEM_MAX
                                    : SETTING_LIST_ITEM_MAX,
        };
}

/* The rows being flattened against, and their owner's name for messages. */
struct rows {
        const char *name;
        const setting_def_t *rows;
        size_t n;
};

static int flatten(const struct rows *m, const char *prefix, json_t *obj, json_t *flat,
                   struct module_error *e) {
        const char *k;
        json_t *v;

        json_object_foreach(obj, k, v) {
                _cleanup_free_ char *path = NULL;
                const setting_def_t *d;
                size_t plen;

                if (asprintf(&path, "%s%s%s", prefix, *prefix ? ":" : "", k) < 0)
                        return -ENOMEM;
                d = settings_rows_find(m->rows, m->n, path);
                if (d) {
                        if (json_object_get(flat, path)) {
                                module_error_set(e, 422, "invalid_setting", path,
                                                 "%s:%s is given twice", m->name, path);
                                return -EINVAL;
                        }
                        if (json_object_set(flat, path, v) < 0)
                                return -ENOMEM;
                        continue;
                }
                plen = strlen(path);
                bool parent = false;
                for (size_t i = 0; i < m->n && !parent; i++)
                        parent = strncmp(m->rows[i].key, path, plen) == 0 &&
                                 m->rows[i].key[plen] == ':';
                if (!parent) {
                        module_error_set(e, 422, "unknown_setting", path,
                                         "%s has no setting \"%.128s\"", m->name, path);
                        return -ENOENT;
                }
                if (!json_is_object(v)) {
                        module_error_set(e, 422, "invalid_setting", path,
                                         "%s:%s is a group of settings; give its keys", m->name,
                                         path);
                        return -EINVAL;
                }
                int r = flatten(m, path, v, flat, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

int settings_flatten(const module_t *m, json_t *patch, json_t **ret, struct module_error *e) {
        size_t n;
        const setting_def_t *rows = module_settings_rows(m, &n);

        return settings_rows_flatten(m->name, rows, n, patch, ret, e);
}

int settings_rows_flatten(const char *name, const setting_def_t *rows, size_t n, json_t *patch,
                          json_t **ret, struct module_error *e) {
        const struct rows m = {.name = name, .rows = rows, .n = n};
        json_t *flat = json_object();
        int r;

        if (!flat)
                return -ENOMEM;
        if (!json_is_object(patch)) {
                json_decref(flat);
                module_error_set(e, 400, "invalid_json", NULL, "settings must be a JSON object");
                return -EINVAL;
        }
        r = flatten(&m, "", patch, flat, e);
        if (r < 0) {
                json_decref(flat);
                return r;
        }
        *ret = flat;
        return 0;
}

int settings_changes(const module_t *m, json_t *flat, json_t *current, json_t **ret,
                     struct module_error *e) {
        json_t *changes = json_object();
        const char *k;
        json_t *v;

        if (!changes)
                return -ENOMEM;
        json_object_foreach(flat, k, v) {
                const setting_def_t *d = module_find_setting(m, k);
                json_t *cur = json_tree_get(current, k);
                struct value_rule rule;
                int r;

                if (!d) {
                        module_error_set(e, 422, "unknown_setting", k,
                                         "%s has no setting \"%.128s\"", m->name, k);
                        json_decref(changes);
                        return -ENOENT;
                }
                if (cur && json_equal(cur, v))
                        continue;
                if (d->read_only) {
                        module_error_set(e, 422, "read_only", k, "%s:%s is read-only", m->name, k);
                        json_decref(changes);
                        return -EPERM;
                }
                rule = setting_rule(d);
                r = value_check(&rule, k, v, "invalid_setting", e);
                if (r < 0) {
                        json_decref(changes);
                        return r;
                }
                if (json_object_set(changes, k, v) < 0) {
                        json_decref(changes);
                        return -ENOMEM;
                }
        }
        *ret = changes;
        return 0;
}

int command_check_args(const command_def_t *c, json_t *args, struct module_error *e) {
        return args_check("command", c->name, c->args, c->n_args, args, e);
}

int collection_action_check_args(const collection_action_t *a, json_t *args,
                                 struct module_error *e) {
        return args_check("action", a->name, a->args, a->n_args, args, e);
}

int args_check(const char *what, const char *name, const command_arg_t *table, size_t n,
               json_t *args, struct module_error *e) {
        const char *k;
        json_t *v;

        if (!json_is_object(args)) {
                module_error_set(e, 400, "bad_request", NULL,
                                 "the arguments of %s %s must be a JSON object", what, name);
                return -EINVAL;
        }
        json_object_foreach(args, k, v) {
                const command_arg_t *a = NULL;
                for (size_t i = 0; i < n; i++)
                        if (STREQ(table[i].name, k))
                                a = &table[i];
                if (!a) {
                        module_error_set(e, 422, "invalid_argument", k,
                                         "%s %s has no argument \"%.64s\"", what, name, k);
                        return -EINVAL;
                }
                struct value_rule rule = {
                        .type = a->type,
                        .min = a->min,
                        .max = a->max,
                        .choices = a->choices,
                        .valid_string = a->valid_string,
                };
                int r = value_check(&rule, k, v, "invalid_argument", e);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++)
                if (table[i].required && !json_object_get(args, table[i].name)) {
                        module_error_set(e, 422, "invalid_argument", table[i].name,
                                         "%s %s needs the argument %s", what, name, table[i].name);
                        return -EINVAL;
                }
        return 0;
}

json_t *args_redacted(const command_arg_t *table, size_t n, json_t *args) {
        json_t *copy = json_deep_copy(args), *v;
        const char *k;

        json_object_foreach(copy, k, v) {
                /* A member the table does not declare is refused, and may
                 * be a secret under a mistyped name ("passwd"): its value
                 * is not recorded either. */
                bool secret = true;
                for (size_t i = 0; i < n; i++)
                        if (STREQ(table[i].name, k))
                                secret = table[i].secret;
                if (secret && json_object_set_new(copy, k, json_string("[redacted]")) < 0) {
                        json_decref(copy);
                        return NULL;
                }
        }
        return copy;
}

static json_t *rule_json(const char *name_key, const char *name, setting_type_t type, int64_t min,
                         int64_t max, const char *const *choices, const char *description) {
        json_t *o = json_pack("{s:s, s:s, s:s}", name_key, name, "type", setting_type_name(type),
                              "description", description ? description : "");
        if (!o)
                return NULL;
        if (type == SETTING_INTEGER || max > 0) {
                json_object_set_new(o, "min", json_integer(min));
                json_object_set_new(o, "max", json_integer(max));
        }
        if (choices) {
                json_t *a = json_array();
                for (const char *const *c = choices; *c; c++)
                        json_array_append_new(a, json_string(*c));
                json_object_set_new(o, "choices", a);
        }
        return o;
}

/* The schema of a table of arguments (a command's, an action's). */
static json_t *args_json(const command_arg_t *table, size_t n) {
        json_t *args = json_array();

        for (size_t j = 0; args && j < n; j++) {
                const command_arg_t *a = &table[j];
                json_t *o = rule_json("name", a->name, a->type, a->min, a->max, a->choices,
                                      a->description);
                json_object_set_new(o, "required", json_boolean(a->required));
                json_object_set_new(o, "secret", json_boolean(a->secret));
                json_array_append_new(args, o);
        }
        return args;
}

static json_t *verb_json(const module_t *m, const collection_verb_t *v);

json_t *module_schema_json(const module_t *m) {
        json_t *settings = json_array(), *commands = json_array(), *actions = json_array();

        size_t n_rows;
        const setting_def_t *rows = module_settings_rows(m, &n_rows);

        for (size_t i = 0; i < n_rows; i++) {
                const setting_def_t *d = &rows[i];
                json_t *o = rule_json("key", d->key, d->type, d->min, d->max, d->choices,
                                      d->description);
                json_object_set_new(o, "restart", json_boolean(d->restart));
                json_object_set_new(o, "read_only", json_boolean(d->read_only));
                if (d->choices_from)
                        json_object_set_new(o, "choices_from", json_string(d->choices_from));
                json_array_append_new(settings, o);
        }
        for (size_t i = 0; i < m->n_commands; i++) {
                const command_def_t *c = &m->commands[i];
                json_array_append_new(commands,
                                      json_pack("{s:s, s:s, s:b, s:s, s:o, s:b, s:b}", "name",
                                                c->name, "summary", c->summary, "changes_state",
                                                c->changes_state, "min_role",
                                                role_to_string((enum role)command_min_role(c)),
                                                "args", args_json(c->args, c->n_args), "dry_run",
                                                c->dry_run, "streams", c->streams));
        }
        if (m->start)
                json_array_append_new(actions, json_string("start"));
        if (m->stop)
                json_array_append_new(actions, json_string("stop"));
        if (m->restart)
                json_array_append_new(actions, json_string("restart"));
        json_t *collections = json_array(), *schemas = json_array(), *events = json_array();
        for (size_t i = 0; i < m->n_collections; i++) {
                json_array_append_new(collections,
                                      json_pack("{s:s, s:s}", "name", m->collections[i].name,
                                                "item", m->collections[i].item));
                json_array_append_new(schemas, collection_schema_json(&m->collections[i]));
        }
        for (size_t i = 0; i < m->n_events; i++) {
                json_t *ev = json_pack("{s:s, s:s, s:s}", "name", m->events[i].name,
                                       "description", m->events[i].description, "min_role",
                                       role_to_string(m->events[i].min_role));
                /* A type filtered per stream: its parameters, and it is
                 * not part of a stream unless named in ?types=. */
                if (ev && m->events[i].subscribe)
                        json_object_set_new(ev, "params",
                                            json_string(m->events[i].params ? m->events[i].params
                                                                            : ""));
                json_array_append_new(events, ev);
        }
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", m->name,
                              "summary", m->summary, "settings", settings, "commands", commands,
                              "actions", actions, "collections", collections,
                              "collection_schemas", schemas, "events", events);
        if (o && m->console_title)
                json_object_set_new(o, "console",
                                    json_pack("{s:s, s:b}", "title", m->console_title, "overview",
                                              m->console_overview));
        if (o && m->n_verbs > 0) {
                json_t *verbs = json_array();
                for (size_t i = 0; verbs && i < m->n_verbs; i++)
                        json_array_append_new(verbs, verb_json(m, &m->verbs[i]));
                json_object_set_new(o, "verbs", verbs ? verbs : json_array());
        }
        return o;
}

/* ---- collection schemas -------------------------------------------------------- */

static const char *const verb_op_names[] = {
        [VERB_LIST] = "list",       [VERB_SHOW] = "show",     [VERB_CREATE] = "create",
        [VERB_MODIFY] = "modify",   [VERB_DELETE] = "delete", [VERB_ROUTE_LIST] = "route_list",
        [VERB_COMMAND] = "command", [VERB_ACTION] = "action",
};

static const char *const opt_kind_names[] = {
        [COPT_VALUE] = "value", [COPT_ITEM] = "item",   [COPT_TRUE] = "true",
        [COPT_FALSE] = "false", [COPT_QUERY] = "query", [COPT_QUERY_FLAG] = "query_flag",
};

static json_t *field_json(const collection_field_t *f) {
        json_t *o = json_pack(
                "{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b}", "name", f->name, "type",
                field_type_name(f->type), "label", f->label ? f->label : f->name, "description",
                f->description ? f->description : "", "create", (f->flags & FIELD_CREATE) != 0,
                "modify", (f->flags & FIELD_MODIFY) != 0, "shown", (f->flags & FIELD_SHOWN) != 0,
                "secret", (f->flags & FIELD_SECRET) != 0);
        if (o && (f->type == FIELD_INTEGER || f->max > 0)) {
                json_object_set_new(o, "min", json_integer(f->min));
                json_object_set_new(o, "max", json_integer(f->max));
        }
        if (o && f->choices) {
                json_t *a = json_array();
                for (const char *const *c = f->choices; *c; c++)
                        json_array_append_new(a, json_string(*c));
                json_object_set_new(o, "choices", a);
        }
        /* The members of an object (of each item of an object array), so
         * that the CLI can name "smb.read_only" and the console build the
         * sub-form; the tables are static and shallow, the recursion ends. */
        if (o && f->fields && f->n_fields > 0) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < f->n_fields; i++)
                        json_array_append_new(a, field_json(&f->fields[i]));
                json_object_set_new(o, "fields", a ? a : json_array());
        }
        return o;
}

static json_t *columns_json(const collection_column_t *cols, size_t n) {
        json_t *columns = json_array();

        for (size_t i = 0; columns && i < n; i++)
                json_array_append_new(columns,
                                      json_pack("{s:s, s:s, s:s?}", "field", cols[i].field, "label",
                                                cols[i].label, "unit", cols[i].unit));
        return columns;
}

/* What a route-list or command verb requests: its path, and for a
 * command its argument's name. */
static void verb_request_json(const module_t *m, const collection_verb_t *v, json_t *o) {
        if (v->op == VERB_ROUTE_LIST && m) {
                json_object_set_new(o, "path", json_sprintf("/%s", v->route));
                json_object_set_new(o, "list_key", json_string(v->list_key));
                json_object_set_new(o, "columns", columns_json(v->columns, v->n_columns));
        } else if (v->op == VERB_COMMAND && m) {
                const command_def_t *c = module_find_command(m, v->command);
                json_object_set_new(
                        o, "path",
                        json_sprintf("/api/v1/modules/%s/commands/%s", m->name, v->command));
                json_object_set_new(o, "arg", json_string(v->arg));
                json_object_set_new(o, "arg_optional", json_boolean(v->arg_optional));
                json_object_set_new(o, "min_role",
                                    json_string(role_to_string((enum role)command_min_role(c))));
                json_object_set_new(o, "dry_run", json_boolean(c->dry_run));
                json_object_set_new(o, "args", args_json(c->args, c->n_args));
        }
}

/* The type of the argument a command verb's option fills (the CLI reads
 * its value so); NULL for other verbs. */
static const char *option_arg_type(const module_t *m, const collection_verb_t *v,
                                   const collection_option_t *op) {
        const command_def_t *c =
                v->op == VERB_COMMAND && m && v->command ? module_find_command(m, v->command) : NULL;

        for (size_t k = 0; c && k < c->n_args; k++)
                if (STREQ(c->args[k].name, op->field))
                        return setting_type_name(c->args[k].type);
        return NULL;
}

static json_t *verb_json(const module_t *m, const collection_verb_t *v) {
        json_t *opts = json_array(), *o;

        for (size_t i = 0; opts && i < v->n_options; i++) {
                const collection_option_t *op = &v->options[i];
                char sn[2] = {op->short_name, '\0'};
                json_array_append_new(opts, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "name",
                                                      op->name, "short", sn, "field", op->field,
                                                      "kind", opt_kind_names[op->kind], "metavar",
                                                      op->metavar ? op->metavar : "", "type",
                                                      option_arg_type(m, v, op)));
        }
        o = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "name", v->name, "op", verb_op_names[v->op],
                      "summary", v->summary ? v->summary : "", "options",
                      opts ? opts : json_array(), "password", v->password, "bare_show",
                      v->bare_show);
        if (o && v->body)
                json_object_set_new(o, "body", json_loads(v->body, 0, NULL));
        if (o)
                verb_request_json(m, v, o);
        return o;
}

json_t *collection_schema_json(const collection_def_t *c) {
        json_t *fields = json_array(), *query = json_array(), *columns = json_array(),
               *verbs = json_array(), *actions = json_array();

        for (size_t i = 0; i < c->n_fields; i++)
                json_array_append_new(fields, field_json(&c->fields[i]));
        for (size_t i = 0; i < c->n_query; i++) {
                const collection_query_t *q = &c->query[i];
                json_t *o = json_pack("{s:s, s:s, s:s}", "name", q->name, "type",
                                      field_type_name(q->type), "description",
                                      q->description ? q->description : "");
                if (o && q->choices) {
                        json_t *a = json_array();
                        for (const char *const *ch = q->choices; *ch; ch++)
                                json_array_append_new(a, json_string(*ch));
                        json_object_set_new(o, "choices", a);
                }
                json_array_append_new(query, o);
        }
        for (size_t i = 0; i < c->n_columns; i++)
                json_array_append_new(columns,
                                      json_pack("{s:s, s:s, s:s?}", "field", c->columns[i].field,
                                                "label", c->columns[i].label, "unit",
                                                c->columns[i].unit));
        const module_t *m = NULL;
        (void)collection_find(c->name, &m);
        for (size_t i = 0; i < c->n_verbs; i++)
                json_array_append_new(verbs, verb_json(m, &c->verbs[i]));
        for (size_t i = 0; i < c->n_actions; i++) {
                const collection_action_t *a = &c->actions[i];
                json_array_append_new(
                        actions, json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", a->name, "summary",
                                           a->summary ? a->summary : "", "min_role",
                                           role_to_string((enum role)collection_action_min_role(a)),
                                           "changes_state", a->changes_state, "args",
                                           args_json(a->args, a->n_args)));
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:b}", "name",
                         c->name, "item", c->item, "summary", c->summary ? c->summary : "", "id",
                         c->id_field ? c->id_field : "name", "fields", fields, "query", query,
                         "columns", columns, "verbs", verbs, "actions", actions, "front_reads",
                         c->front_reads, "writable", c->write != NULL);
}

/* ---- event types ---------------------------------------------------------------- */

/* The event types of every module in module order; a type's bit in a mask
 * is 1 << its place here. */
const event_def_t *event_type_at(size_t index, const module_t **ret_module) {
        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                if (index < m->n_events) {
                        if (ret_module)
                                *ret_module = m;
                        return &m->events[index];
                }
                index -= m->n_events;
        }
        return NULL;
}

size_t event_types_count(void) {
        size_t n = 0;

        for (size_t i = 0; i < steward_modules_count; i++)
                n += steward_modules[i]->n_events;
        return n < EVENT_TYPES_MAX ? n : EVENT_TYPES_MAX;
}

int event_type_bit(const char *name, size_t len, unsigned *ret) {
        for (size_t i = 0; i < event_types_count(); i++) {
                const event_def_t *d = event_type_at(i, NULL);
                if (strlen(d->name) == len && memcmp(d->name, name, len) == 0) {
                        *ret = 1u << i;
                        return 0;
                }
        }
        return -ENOENT;
}

int event_types_parse(const char *s, int role, unsigned *ret, struct module_error *e) {
        unsigned mask = 0, bit;
        size_t n_types = event_types_count();

        if (!s || !*s) {
                /* Every type the role may have, but those filtered per
                 * stream (a journal follow), which are asked for by name. */
                for (size_t i = 0; i < n_types; i++)
                        if (role >= event_type_at(i, NULL)->min_role &&
                            !event_type_at(i, NULL)->subscribe)
                                mask |= 1u << i;
                *ret = mask;
                return 0;
        }
        if (strlen(s) > 64)
                goto bad;
        while (*s) {
                const char *c = strchr(s, ',');
                size_t n = c ? (size_t)(c - s) : strlen(s);
                if (event_type_bit(s, n, &bit) < 0)
                        goto bad;
                if (role < event_type_at((size_t)__builtin_ctz(bit), NULL)->min_role) {
                        module_error_set(e, 403, "forbidden", "types",
                                         "the events \"%.*s\" need a higher role", (int)n, s);
                        return -EPERM;
                }
                mask |= bit;
                s += n;
                if (*s == ',' && *++s == '\0')
                        goto bad;
        }
        *ret = mask;
        return 0;
bad : {
        char names[256] = "";
        size_t off = 0;
        for (size_t i = 0; i < n_types && off < sizeof names; i++) {
                int w = snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                                 event_type_at(i, NULL)->name);
                if (w < 0)
                        break;
                off += (size_t)w;
        }
        module_error_set(e, 400, "invalid_argument", "types",
                         "types is a comma-separated list of: %s", names);
        return -EINVAL;
}
}
