/* collections.c — `steward COLLECTION VERB …` for every collection a
 * server has (users, groups, …): GET|POST|PATCH|DELETE
 * /api/v1/{collection}[/{id}].
 *
 * The CLI knows no collection.  It asks the server for the collection's
 * schema (GET /api/v1/modules/{m}/schema, "collection_schemas": module.h),
 * and builds the verb from it: which request it makes, which options it
 * takes and which field or query argument each fills, the columns of the
 * list table.  A collection that declares no verb of a name gets the
 * generic one (list, show, add, modify, delete) with an option per field it
 * may write (--full-name for full_name) or per query argument.  So usage
 * errors of a collection verb come after that one read-only request, before
 * anything that changes something is sent.
 *
 * Passwords: `--password=SECRET` sends it as given (visible to ps: for
 * scripts that have no better way); `--password` alone asks for it on the
 * terminal without echo, or reads one line from stdin when stdin is not a
 * terminal.  A generated password is printed once; answers holding one are
 * wiped before they are freed. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kv.h"
#include "util.h"

#define PASSWORD_CAP   258
#define ARGS_MAX       64
#define NAME_MAX_LEN   32
#define SYNOPSIS_MAX   1024
#define COLUMNS_MAX    32
#define LIST_PAGES_MAX 10000
/* A dotted field ("nfs.clients.host"): components, and the length of one. */
#define FIELD_DEPTH_MAX 4
#define FIELD_PART_MAX  64
/* How many times one item option (--nfs-client) may be given. */
#define ITEMS_MAX 64

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* Collection names are route segments: lowercase letters, digits, '_'. */
static bool name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > NAME_MAX_LEN || !islower((unsigned char)s[0]))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* The schema of one collection in a module's schema, or NULL. */
static json_t *schema_in(json_t *module_schema, const char *collection) {
        json_t *s;
        size_t i;

        json_array_foreach(json_object_get(module_schema, "collection_schemas"), i, s) {
                if (STREQ(sget(s, "name") ?: "", collection))
                        return json_incref(s);
        }
        return NULL;
}

static int module_schema(struct cli *c, const char *module, json_t **ret) {
        _cleanup_free_ char *target = NULL, *esc = NULL;
        json_t *err = NULL;
        long status = 0;
        int r;

        if (url_escape(module, &esc) < 0 || asprintf(&target, "/api/v1/modules/%s/schema", esc) < 0)
                return -ENOMEM;
        r = cli_request(c, "GET", target, NULL, 0, ret, &status, &err);
        if (r == -EREMOTEIO && status == 404) {
                json_decref(err);
                *ret = NULL;
                return 0;
        }
        if (r == -EREMOTEIO)
                cli_report_refusal(c, status, err);
        json_decref(err);
        return r;
}

/* The schema's text reaches the terminal (usage, help, table headers):
 * no control characters anywhere in it. */
static bool text_clean(const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static bool schema_clean(json_t *v, unsigned depth) {
        const char *k;
        json_t *x;
        size_t i;

        if (depth > 8)
                return false;
        if (json_is_string(v))
                return text_clean(json_string_value(v));
        json_object_foreach(v, k, x) {
                if (!text_clean(k) || !schema_clean(x, depth + 1))
                        return false;
        }
        json_array_foreach(v, i, x) {
                if (!schema_clean(x, depth + 1))
                        return false;
        }
        return true;
}

/* The collection's schema: first in the module of the same name (the usual
 * case), else in any module.  *ret NULL when the server has no such
 * collection. */
static int fetch_schema(struct cli *c, const char *collection, json_t **ret) {
        json_t *ms = NULL, *list = NULL, *m;
        size_t i;
        int r;

        *ret = NULL;
        r = module_schema(c, collection, &ms);
        if (r < 0)
                return r;
        *ret = schema_in(ms, collection);
        json_decref(ms);
        if (*ret)
                return 0;
        r = cli_call(c, "GET", "/api/v1/modules", NULL, &list);
        if (r < 0)
                return r;
        json_array_foreach(json_object_get(list, "modules"), i, m) {
                const char *name = sget(m, "name");
                if (!name || STREQ(name, collection))
                        continue;
                ms = NULL;
                r = module_schema(c, name, &ms);
                if (r < 0)
                        break;
                *ret = schema_in(ms, collection);
                json_decref(ms);
                if (*ret)
                        break;
        }
        json_decref(list);
        return r < 0 ? r : 0;
}

/* ---- verbs: declared, or the generic ones built from the fields ------------------------ */

/* The field that name names: a top-level one, or a member of an object
 * field through the members the schema describes ("smb.read_only",
 * "nfs.clients.host"); NULL when the schema has none of that name. */
static json_t *field_of(json_t *schema, const char *name) {
        json_t *fields = json_object_get(schema, "fields");
        const char *part = name;

        for (unsigned depth = 0; depth < FIELD_DEPTH_MAX; depth++) {
                const char *dot = strchr(part, '.');
                size_t len = dot ? (size_t)(dot - part) : strlen(part), i;
                json_t *f, *found = NULL;

                json_array_foreach(fields, i, f) {
                        const char *n = sget(f, "name") ?: "";
                        if (strlen(n) == len && strncmp(n, part, len) == 0) {
                                found = f;
                                break;
                        }
                }
                if (!found || !dot)
                        return found;
                fields = json_object_get(found, "fields");
                part = dot + 1;
        }
        return NULL;
}

/* "full_name" → "full-name". */
static json_t *option_name(const char *field) {
        char n[256];

        snprintf(n, sizeof n, "%s", field);
        for (char *p = n; *p; p++)
                if (*p == '_')
                        *p = '-';
        return json_string(n);
}

static json_t *generic_option(const char *field, const char *kind, const char *metavar) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "short", "", "field", field, "kind", kind,
                              "metavar", metavar);
        if (o)
                json_object_set_new(o, "name", option_name(field));
        return o;
}

/* The options of an object field's described members in a generic verb:
 * --smb-read-only for "smb.read_only" (objects within it are left to the
 * module's own verbs or the API). */
static void member_options(json_t *opts, json_t *object_field, const char *op) {
        const char *parent = sget(object_field, "name") ?: "";
        json_t *m;
        size_t i;

        json_array_foreach(json_object_get(object_field, "fields"), i, m) {
                const char *name = sget(m, "name") ?: "", *t = sget(m, "type") ?: "";
                char field[2 * FIELD_PART_MAX];
                bool flag = STREQ(t, "boolean");
                json_t *o;

                if (!json_is_true(json_object_get(m, op)) || STREQ(t, "object") ||
                    STREQ(t, "object_array") || json_is_true(json_object_get(m, "secret")))
                        continue;
                snprintf(field, sizeof field, "%s.%s", parent, name);
                o = generic_option(field, flag ? "true" : "value", flag ? "" : "VALUE");
                if (o) {
                        for (char *p = field; *p; p++)
                                if (*p == '.' || *p == '_')
                                        *p = '-';
                        json_object_set_new(o, "name", json_string(field));
                }
                json_array_append_new(opts, o);
        }
}

/* A generic verb: list and show take the query arguments, add and modify
 * the fields they may write (not the id; a password through its prompt),
 * delete the flags. */
static json_t *generic_verb(json_t *schema, const char *name) {
        static const char *const ops[][2] = {
                {"list", "list"},     {"show", "show"},     {"add", "create"},
                {"modify", "modify"}, {"delete", "delete"},
        };
        const char *op = NULL, *id = sget(schema, "id") ?: "name";
        json_t *opts = json_array(), *x;
        bool password = false;
        size_t i;

        for (i = 0; i < ELEMENTSOF(ops); i++)
                if (STREQ(ops[i][0], name))
                        op = ops[i][1];
        /* A collection that says it has no writes (the mail queue) has
         * no generic add, modify or delete. */
        if (op && json_is_false(json_object_get(schema, "writable")) && !STREQ(op, "list") &&
            !STREQ(op, "show"))
                op = NULL;
        if (!op || !opts) {
                json_decref(opts);
                return NULL;
        }
        if (STREQ(op, "create") || STREQ(op, "modify")) {
                json_array_foreach(json_object_get(schema, "fields"), i, x) {
                        const char *f = sget(x, "name") ?: "", *t = sget(x, "type") ?: "";
                        if (!json_is_true(json_object_get(x, STREQ(op, "create") ? "create"
                                                                                 : "modify")) ||
                            (STREQ(op, "create") && STREQ(f, id)) || STREQ(t, "object_array"))
                                continue;
                        if (STREQ(t, "object")) {
                                member_options(opts, x, op);
                                continue;
                        }
                        /* A password is asked for (--password without a
                         * value prompts); another secret field (a service's
                         * environment) is an option like any other. */
                        if (json_is_true(json_object_get(x, "secret")) && STREQ(f, "password")) {
                                password = true;
                                continue;
                        }
                        json_array_append_new(
                                opts, generic_option(f, STREQ(t, "boolean") ? "true" : "value",
                                                     STREQ(t, "boolean") ? "" : "VALUE"));
                }
        } else {
                json_array_foreach(json_object_get(schema, "query"), i, x) {
                        bool flag = STREQ(sget(x, "type") ?: "", "boolean");
                        const char *f = sget(x, "name") ?: "";
                        if (STREQ(f, "cursor") || (STREQ(op, "list") == flag))
                                continue;
                        json_array_append_new(opts, generic_option(f, flag ? "query_flag" : "query",
                                                                   flag ? "" : "VALUE"));
                }
        }
        return json_pack("{s:s, s:s, s:o, s:b, s:b}", "name", name, "op", op, "options", opts,
                         "password", password, "bare_show", false);
}

/* An action of the collection (schema "actions") as a verb of op
 * "action": an option per argument (--NAME VALUE, a boolean a flag), its
 * ids one request each. */
static json_t *action_verb(json_t *action) {
        json_t *opts = json_array(), *a;
        size_t i;

        json_array_foreach(json_object_get(action, "args"), i, a) {
                const char *name = sget(a, "name") ?: "", *type = sget(a, "type") ?: "string";
                bool flag = STREQ(type, "boolean");
                json_t *o = generic_option(name, flag ? "true" : "value",
                                           flag                     ? ""
                                           : STREQ(type, "integer") ? "N"
                                                                    : "VALUE");
                if (o) {
                        json_object_set_new(o, "type", json_string(type));
                        json_object_set_new(o, "description",
                                            json_string(sget(a, "description") ?: ""));
                        if (json_is_true(json_object_get(a, "required")))
                                json_object_set_new(o, "required", json_true());
                }
                json_array_append_new(opts, o);
        }
        return json_pack("{s:s?, s:s, s:s, s:o, s:b, s:b, s:s, s:b}", "name", sget(action, "name"),
                         "op", "action", "summary", sget(action, "summary") ?: "", "options",
                         opts ? opts : json_array(), "password", false, "bare_show", false,
                         "min_role", sget(action, "min_role") ?: "admin", "changes_state",
                         !json_is_false(json_object_get(action, "changes_state")));
}

/* A declared verb of op "action" (`alerts ack FP -m TEXT`): the action of
 * its name as action_verb() makes it, with the verb's own options, each
 * taking the type, description and need of the argument it fills. */
static json_t *declared_action_verb(json_t *schema, json_t *declared) {
        const char *name = sget(declared, "name") ?: "";
        json_t *a, *verb = NULL, *opts, *o;
        size_t i, k;

        json_array_foreach(json_object_get(schema, "actions"), i, a) {
                if (STREQ(sget(a, "name") ?: "", name))
                        verb = action_verb(a);
        }
        if (!verb)
                return NULL;
        opts = json_deep_copy(json_object_get(declared, "options"));
        if (!opts) {
                json_decref(verb);
                return NULL;
        }
        json_array_foreach(opts, i, o) {
                json_t *arg;
                json_array_foreach(json_object_get(verb, "options"), k, arg) {
                        if (!STREQ(sget(arg, "field") ?: "", sget(o, "field") ?: "-"))
                                continue;
                        json_object_set(o, "type", json_object_get(arg, "type"));
                        json_object_set(o, "description", json_object_get(arg, "description"));
                        if (json_object_get(arg, "required"))
                                json_object_set_new(o, "required", json_true());
                }
        }
        json_object_set_new(verb, "options", opts);
        if (sget(declared, "summary") && *sget(declared, "summary"))
                json_object_set(verb, "summary", json_object_get(declared, "summary"));
        return verb;
}

static json_t *find_verb(json_t *schema, const char *name) {
        json_t *v;
        size_t i;

        json_array_foreach(json_object_get(schema, "verbs"), i, v) {
                if (STREQ(sget(v, "name") ?: "", name))
                        return STREQ(sget(v, "op") ?: "", "action")
                                       ? declared_action_verb(schema, v)
                                       : json_incref(v);
        }
        json_array_foreach(json_object_get(schema, "actions"), i, v) {
                if (STREQ(sget(v, "name") ?: "", name))
                        return action_verb(v);
        }
        return generic_verb(schema, name);
}

/* The collection's verbs: the generic ones, then its own in schema order
 * (names point into the schema); returns how many. */
static size_t collection_verbs(json_t *schema, const char *names[static ARGS_MAX]) {
        static const char *const generic[] = {"list", "show", "add", "modify", "delete"};
        size_t n = 0, i;
        json_t *v;

        for (i = 0; i < ELEMENTSOF(generic); i++)
                if (i < 2 || !json_is_false(json_object_get(schema, "writable")))
                        names[n++] = generic[i];
        /* Declared verbs, then item actions, each name once. */
        for (int list = 0; list < 2; list++)
                json_array_foreach(json_object_get(schema, list ? "actions" : "verbs"), i, v) {
                        const char *s = sget(v, "name");
                        bool seen = false;
                        for (size_t k = 0; s && k < n; k++)
                                seen |= STREQ(names[k], s);
                        if (s && !seen && n < ARGS_MAX)
                                names[n++] = s;
                }
        return n;
}

/* "list, show, add, modify, delete or members". */
static void verb_names(json_t *schema, char *dst, size_t cap) {
        const char *names[ARGS_MAX];
        size_t n = collection_verbs(schema, names), i, off = 0;

        dst[0] = '\0';
        for (i = 0; i < n; i++) {
                const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
                int w = snprintf(dst + off, cap - off, "%s%s", sep, names[i]);
                if (w < 0 || (size_t)w >= cap - off)
                        break;
                off += (size_t)w;
        }
}

/* "users add NAME [--uid N] … [--dry-run]". */
static void synopsis_of(const char *collection, json_t *verb, char *dst, size_t cap) {
        const char *op = sget(verb, "op") ?: "";
        struct buf b;
        json_t *o;
        size_t i;

        buf_init(&b, cap - 1);
        char arg[40] = " NAME";
        bool command = STREQ(op, "command");
        if (command) {
                bool optional = json_is_true(json_object_get(verb, "arg_optional"));
                snprintf(arg, sizeof arg, optional ? " [%s]" : " %s", sget(verb, "arg") ?: "ARG");
                for (char *q = arg; *q; q++)
                        *q = (char)toupper((unsigned char)*q);
        }
        (void)buf_printf(&b, "%s %s%s", collection, sget(verb, "name") ?: "",
                         STREQ(op, "list") || STREQ(op, "route_list") ? ""
                         : STREQ(op, "action")                        ? " NAME…"
                                                                      : arg);
        json_array_foreach(json_object_get(verb, "options"), i, o) {
                const char *mv = sget(o, "metavar") ?: "";
                (void)buf_printf(&b, " [--%s%s%s]", sget(o, "name") ?: "", *mv ? " " : "", mv);
        }
        if (json_is_true(json_object_get(verb, "password")))
                (void)buf_puts(&b, STREQ(op, "command") ? " [--password=PW|--password-stdin]"
                                                        : " [--password[=PW]]");
        if (STREQ(op, "list"))
                (void)buf_puts(&b, " [--all]");
        else if ((!STREQ(op, "show") && !STREQ(op, "route_list") && !command) ||
                 (command && json_is_true(json_object_get(verb, "dry_run"))))
                (void)buf_puts(&b, " [--dry-run]");
        snprintf(dst, cap, "%s", b.data ? b.data : "");
        buf_free(&b);
}

/* ---- requests ---------------------------------------------------------------------------- */

static int append_query(char **target, const char *key, const char *value) {
        _cleanup_free_ char *esc = NULL;
        char *n = NULL;

        if (url_escape(value, &esc) < 0)
                return -ENOMEM;
        if (asprintf(&n, "%s%s%s=%s", *target, strchr(*target, '?') ? "&" : "?", key, esc) < 0)
                return -ENOMEM;
        free(*target);
        *target = n;
        return 0;
}

/* The object of body that a dotted field's last component goes into, made on
 * the way ({"smb": {}} for "smb.read_only"), that component in key; NULL
 * when the field is no path or a step is no object. */
static json_t *body_slot(json_t *body, const char *field, char key[static FIELD_PART_MAX]) {
        const char *part = field;
        json_t *o = body;

        for (unsigned depth = 0; depth < FIELD_DEPTH_MAX; depth++) {
                const char *dot = strchr(part, '.');
                size_t len = dot ? (size_t)(dot - part) : strlen(part);
                json_t *next;

                if (len == 0 || len >= FIELD_PART_MAX)
                        return NULL;
                memcpy(key, part, len);
                key[len] = '\0';
                if (!dot)
                        return o;
                next = json_object_get(o, key);
                if (!next) {
                        next = json_object();
                        if (!next || json_object_set_new(o, key, next) < 0)
                                return NULL;
                } else if (!json_is_object(next))
                        return NULL;
                o = next;
                part = dot + 1;
        }
        return NULL;
}

static int put_list(json_t *body, const char *field, const char *value, bool whole) {
        json_t *list = json_object_get(body, field);
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        if (!list) {
                list = json_array();
                if (!list || json_object_set_new(body, field, list) < 0)
                        return -ENOMEM;
        }
        if (whole)
                return json_array_append_new(list, json_string(value)) < 0 ? -ENOMEM : 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (json_array_append_new(list, json_string(t)) < 0)
                        return -ENOMEM;
        return 0;
}

/* A decimal number ("90", "-2.5", "1e3"): all of s, finite, at most 64
 * characters. */
static int parse_number(const char *s, double *ret) {
        char *end = NULL;
        double x;

        if (!*s || strlen(s) > 64 || isspace((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        x = strtod(s, &end);
        if (errno != 0 || !end || *end != '\0' || !isfinite(x))
                return -EINVAL;
        *ret = x;
        return 0;
}

/* One option's value into the body or the target; -EINVAL after a usage
 * error. */
static int apply_option(json_t *schema, json_t *o, const char *value, bool flag, json_t *body,
                        char **target) {
        const char *kind = sget(o, "kind") ?: "", *path = sget(o, "field") ?: "";
        /* An action's option carries its argument's type; a verb's is its
         * field's, a member's ("smb.read_only") as the schema describes it. */
        const char *type = sget(o, "type") ?: sget(field_of(schema, path), "type") ?: "string";
        char field[FIELD_PART_MAX];

        if (STREQ(kind, "query") || STREQ(kind, "query_flag"))
                return append_query(target, path, flag ? "1" : value);
        /* A member goes into its object: {"smb": {"read_only": true}}. */
        body = body_slot(body, path, field);
        if (!body)
                return usage_error("--%s: the server names no field \"%s\"", sget(o, "name") ?: "",
                                   path);
        if (STREQ(kind, "true") || STREQ(kind, "false"))
                return json_object_set_new(body, field, json_boolean(STREQ(kind, "true"))) < 0
                               ? -ENOMEM
                               : 0;
        if (STREQ(kind, "item") || STREQ(type, "string_array"))
                return put_list(body, field, value, STREQ(kind, "item"));
        if (STREQ(type, "integer")) {
                int64_t x;
                if (safe_atoi64(value, &x) < 0)
                        return usage_error("--%s takes a number", sget(o, "name") ?: "");
                return json_object_set_new(body, field, json_integer(x)) < 0 ? -ENOMEM : 0;
        }
        if (STREQ(type, "number")) {
                double x;
                if (parse_number(value, &x) < 0)
                        return usage_error("--%s takes a number", sget(o, "name") ?: "");
                return json_object_set_new(body, field, json_real(x)) < 0 ? -ENOMEM : 0;
        }
        if (STREQ(type, "boolean")) {
                bool yes = STREQ(value, "yes") || STREQ(value, "true");
                if (!yes && !STREQ(value, "no") && !STREQ(value, "false"))
                        return usage_error("--%s takes yes or no", sget(o, "name") ?: "");
                return json_object_set_new(body, field, json_boolean(yes)) < 0 ? -ENOMEM : 0;
        }
        if (STREQ(type, "object") || STREQ(type, "object_array"))
                /* An item of a list of objects is given as text the module
                 * reads (kind item, above: "HOST(OPTIONS)"); a whole object
                 * is not. */
                return usage_error("--%s: give this field in a JSON body through the API",
                                   sget(o, "name") ?: "");
        return json_object_set_new(body, field, json_string(value)) < 0 ? -ENOMEM : 0;
}

struct parsed {
        const char *values[ARGS_MAX];
        /* An item option's values, in order (values[] holds the first). */
        const char **items[ARGS_MAX];
        size_t n_items[ARGS_MAX];
        bool flags[ARGS_MAX];
        bool dry_run, all, password_flag, password_stdin;
        const char *password_value;
        char *pos[ARGS_MAX];
        size_t npos;
};

/* Sorts argv by the verb's options (and the generic ones). */
static int parse(json_t *verb, const char *synopsis, int argc, char **argv, struct parsed *p) {
        const char *op = sget(verb, "op") ?: "";
        bool takes_password = json_is_true(json_object_get(verb, "password"));
        struct verb_option opts[ARGS_MAX + 3];
        char *args[256];
        size_t n = 0, i;
        int nargs = 0;
        json_t *o;

        /* --password=VALUE is taken here; --password alone is a flag. */
        for (int k = 0; k < argc; k++) {
                if (takes_password && strncmp(argv[k], "--password=", 11) == 0)
                        p->password_value = argv[k] + 11;
                else if (nargs < (int)ELEMENTSOF(args))
                        args[nargs++] = argv[k];
                else
                        return usage_error("too many arguments");
        }
        json_array_foreach(json_object_get(verb, "options"), i, o) {
                const char *kind = sget(o, "kind") ?: "", *sn = sget(o, "short") ?: "";
                bool flag =
                        STREQ(kind, "true") || STREQ(kind, "false") || STREQ(kind, "query_flag");
                if (n >= ARGS_MAX)
                        break;
                opts[n] = (struct verb_option){.name = sget(o, "name") ?: "?",
                                               .short_name = sn[0],
                                               .ret_value = flag ? NULL : &p->values[n],
                                               .ret_flag = flag ? &p->flags[n] : NULL};
                /* An item option appends one more item each time. */
                if (STREQ(kind, "item")) {
                        p->items[n] = calloc(ITEMS_MAX, sizeof *p->items[n]);
                        if (!p->items[n])
                                return -ENOMEM;
                        opts[n].ret_values = p->items[n];
                        opts[n].ret_n = &p->n_items[n];
                        opts[n].max_values = ITEMS_MAX;
                }
                n++;
        }
        bool command = STREQ(op, "command");
        if (STREQ(op, "list"))
                opts[n++] = (struct verb_option){"all", 'A', NULL, &p->all};
        else if ((!STREQ(op, "show") && !STREQ(op, "route_list") && !command) ||
                 (command && json_is_true(json_object_get(verb, "dry_run"))))
                opts[n++] = (struct verb_option){"dry-run", 'n', NULL, &p->dry_run};
        if (takes_password && command)
                opts[n++] = (struct verb_option){"password-stdin", 0, NULL, &p->password_stdin};
        else if (takes_password)
                opts[n++] = (struct verb_option){"password", 'p', NULL, &p->password_flag};
        return parse_verb_args(synopsis, nargs, args, opts, n, p->pos,
                               STREQ(op, "list") || STREQ(op, "route_list") ? 0
                               : STREQ(op, "action")                        ? ARGS_MAX
                                                                            : 1,
                               &p->npos);
}

static int item_target(const char *collection, const char *id, char **ret) {
        _cleanup_free_ char *esc = NULL;

        if (!id)
                return asprintf(ret, "/api/v1/%s", collection) < 0 ? -ENOMEM : 0;
        if (url_escape(id, &esc) < 0 || asprintf(ret, "/api/v1/%s/%s", collection, esc) < 0)
                return -ENOMEM;
        return 0;
}

/* The options given, into body and target. */
static int fill(json_t *schema, json_t *verb, const struct parsed *p, json_t *body, char **target) {
        json_t *o;
        size_t i;
        int r;

        json_array_foreach(json_object_get(verb, "options"), i, o) {
                if (i >= ARGS_MAX)
                        break;
                for (size_t k = 0; k < p->n_items[i]; k++) {
                        r = apply_option(schema, o, p->items[i][k], false, body, target);
                        if (r < 0)
                                return r;
                }
                if (!p->values[i] && !p->flags[i])
                        continue;
                r = apply_option(schema, o, p->values[i], p->flags[i], body, target);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void print_plan(json_t *plan) {
        json_t *v, *a;
        size_t i, j;

        json_array_foreach(json_object_get(plan, "commands"), i, v) {
                fputs("would run:", stdout);
                json_array_foreach(v, j, a) {
                        fputc(' ', stdout);
                        fputs_sanitized(json_string_value(a) ?: "", stdout);
                }
                fputc('\n', stdout);
        }
        json_array_foreach(json_object_get(plan, "warnings"), i, v) {
                fputs("warning: ", stdout);
                fputs_sanitized(json_string_value(v) ?: "", stdout);
                fputc('\n', stdout);
        }
        print_file_diffs(json_object_get(plan, "files"));
}

/* Whether id is one or more KEY components ("alice", "Europe:Paris"). */
static bool id_is_path(const char *id) {
        const char *p = id;

        for (;;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t)(colon - p) : strlen(p);
                if (!kv_valid_component(p, len))
                        return false;
                if (!colon)
                        return true;
                p = colon + 1;
        }
}

/* The item as show prints it: a member name that is no KEY component (an
 * smb.conf parameter such as "create mask") reads with '_' for each byte
 * the KEY grammar has no place for ("create_mask"), so that the item still
 * prints as lines rather than as JSON.  A new reference, or NULL. */
static json_t *show_tree(json_t *v, unsigned depth) {
        const char *k;
        json_t *x, *out;
        size_t i;

        if (depth > 16)
                return NULL;
        if (json_is_array(v)) {
                out = json_array();
                json_array_foreach(v, i, x) {
                        if (!out || json_array_append_new(out, show_tree(x, depth + 1)) < 0) {
                                json_decref(out);
                                return NULL;
                        }
                }
                return out;
        }
        if (!json_is_object(v))
                return json_incref(v);
        out = json_object();
        json_object_foreach(v, k, x) {
                char key[FIELD_PART_MAX];
                size_t n;

                snprintf(key, sizeof key, "%s%s", k[0] == '.' || !k[0] ? "_" : "", k);
                n = strlen(key);
                for (char *p = key; *p; p++)
                        if (!kv_valid_component(p, 1))
                                *p = '_';
                if (!kv_valid_component(key, n))
                        snprintf(key, sizeof key, "_%s", k);
                if (!out || json_object_set_new(out, key, show_tree(x, depth + 1)) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

static int print_item(const char *collection, json_t *schema, json_t *answer) {
        char prefix[NAME_MAX_LEN + 160];
        /* The answer is {"ITEM": {…}} (module.h): the lines are the item's. */
        json_t *inner = sget(schema, "item") ? json_object_get(answer, sget(schema, "item")) : NULL;
        json_t *item = json_is_object(inner) ? inner : answer;
        json_t *id = json_object_get(item, sget(schema, "id") ?: "name"), *shown;
        char idtext[128];
        int r;

        format_cell(id, idtext);
        /* An id that is no KEY path ("Team files", "ipc$") is in the lines
         * as the id field's value: the lines go under COLLECTION alone rather
         * than fall back to JSON. */
        if (!id_is_path(idtext))
                snprintf(prefix, sizeof prefix, "%s", collection);
        else
                snprintf(prefix, sizeof prefix, "%s:%s", collection, idtext);
        shown = show_tree(item, 0);
        r = shown ? print_kv(prefix, shown) : print_kv(prefix, item);
        json_decref(shown);
        return r;
}

/* A table cell: a list of strings is "a,b". */
static void cell(json_t *v, char dst[128]) {
        struct buf b;
        json_t *x;
        size_t i;

        if (!json_is_array(v)) {
                format_cell(v, dst);
                return;
        }
        buf_init(&b, 127);
        json_array_foreach(v, i, x) {
                if (i)
                        (void)buf_puts(&b, ",");
                (void)buf_puts(&b, json_string_value(x) ?: "");
        }
        snprintf(dst, 128, "%s", b.data ? b.data : "");
        buf_free(&b);
}

/* "12 min ago", "in 2 h 5 min": a column of unit "timestamp" (unix seconds); 0
 * or none: "-". */
static void relative_cell(json_t *v, char dst[128]) {
        int64_t t = json_is_integer(v) ? (int64_t)json_integer_value(v)
                    : json_is_real(v)  ? (int64_t)json_real_value(v)
                                       : 0;
        int64_t d = t - (int64_t)time(NULL), a = d < 0 ? -d : d;
        char span[48];

        if (t <= 0) {
                snprintf(dst, 128, "-");
                return;
        }
        if (a < 5) {
                snprintf(dst, 128, "just now");
                return;
        }
        /* Two units at most, the second left out when nought ("2 h"). */
        if (a >= 86400 && a % 86400 / 3600)
                snprintf(span, sizeof span, "%lld d %lld h", (long long)(a / 86400),
                         (long long)(a % 86400 / 3600));
        else if (a >= 86400)
                snprintf(span, sizeof span, "%lld d", (long long)(a / 86400));
        else if (a >= 3600 && a % 3600 / 60)
                snprintf(span, sizeof span, "%lld h %lld min", (long long)(a / 3600),
                         (long long)(a % 3600 / 60));
        else if (a >= 3600)
                snprintf(span, sizeof span, "%lld h", (long long)(a / 3600));
        else if (a >= 60)
                snprintf(span, sizeof span, "%lld min", (long long)(a / 60));
        else
                snprintf(span, sizeof span, "%lld s", (long long)a);
        snprintf(dst, 128, d < 0 ? "%s ago" : "in %s", span);
}

/* The list table, its headers the columns' labels ("Full name" → FULL_NAME). */
static int print_table(json_t *schema, json_t *items) {
        char headers[COLUMNS_MAX][64], cells[COLUMNS_MAX][128];
        const char *hp[COLUMNS_MAX], *row[COLUMNS_MAX];
        json_t *cols = json_object_get(schema, "columns"), *col, *item;
        size_t n = 0, i;
        struct table t;
        int r;

        json_array_foreach(cols, i, col) {
                if (n == COLUMNS_MAX)
                        break;
                snprintf(headers[n], sizeof headers[n], "%s", sget(col, "label") ?: "?");
                for (char *p = headers[n]; *p; p++)
                        *p = *p == ' ' ? '_' : (char)toupper((unsigned char)*p);
                hp[n] = headers[n];
                n++;
        }
        r = table_init(&t, hp, n);
        json_array_foreach(items, i, item) {
                if (r < 0)
                        break;
                for (size_t k = 0; k < n; k++) {
                        json_t *col_k = json_array_get(cols, k);
                        json_t *v = json_object_get(item, sget(col_k, "field") ?: "");
                        if (STREQ(sget(col_k, "unit") ?: "", "timestamp"))
                                relative_cell(v, cells[k]);
                        else
                                cell(v, cells[k]);
                        row[k] = cells[k];
                }
                r = table_add(&t, row);
        }
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        return r;
}

/* ---- the verbs --------------------------------------------------------------------------- */

static int run_list(struct cli *c, const char *collection, json_t *schema, json_t *verb,
                    const struct parsed *p) {
        _cleanup_free_ char *base = NULL;
        json_t *merged = json_array(), *body = json_object();
        char cur[256];
        int r;

        if (!merged || !body || item_target(collection, NULL, &base) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = fill(schema, verb, p, body, &base);
        if (r < 0)
                goto out;
        for (size_t page = 0; page < LIST_PAGES_MAX; page++) {
                _cleanup_free_ char *target = strdup(base);
                json_t *answer = NULL, *next;
                if (!target || (page > 0 && append_query(&target, "cursor", cur) < 0)) {
                        r = -ENOMEM;
                        goto out;
                }
                r = cli_call(c, "GET", target, NULL, &answer);
                if (r < 0)
                        goto out;
                /* One page asked for, in JSON: the answer as it is, with
                 * what it says beside the items (the queue's counts). */
                if (c->json && !p->all) {
                        r = print_json(answer);
                        json_decref(answer);
                        goto out;
                }
                json_array_extend(merged, json_object_get(answer, collection));
                next = json_object_get(answer, "next");
                if (!p->all || !json_is_string(next)) {
                        json_decref(answer);
                        break;
                }
                snprintf(cur, sizeof cur, "%s", json_string_value(next));
                json_decref(answer);
        }
        if (c->json) {
                json_t *out = json_pack("{s:O}", collection, merged);
                r = out ? print_json(out) : -ENOMEM;
                json_decref(out);
        } else
                r = print_table(schema, merged);
out:
        json_decref(merged);
        json_decref(body);
        return r;
}

static int run_show(struct cli *c, const char *collection, json_t *schema, json_t *verb,
                    const struct parsed *p) {
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL, *body = json_object();
        int r;

        if (!body || item_target(collection, p->pos[0], &target) < 0) {
                json_decref(body);
                return -ENOMEM;
        }
        r = fill(schema, verb, p, body, &target);
        json_decref(body);
        if (r < 0)
                return r;
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer) : print_item(collection, schema, answer);
        json_decref(answer);
        return r;
}

/* The password of a write: given, typed, or none. */
static int take_password(const struct parsed *p, json_t *body, char *buf, size_t cap) {
        const char *value = p->password_value;
        int r;

        if (p->password_flag && p->password_value)
                return usage_error("give --password or --password=VALUE, not both");
        if (p->password_flag) {
                char prompt[128];
                snprintf(prompt, sizeof prompt, "New password for %s: ", p->pos[0]);
                r = read_secret(prompt, buf, cap);
                if (r < 0)
                        return r;
                value = buf;
        }
        if (value && json_object_set_new(body, "password", json_string(value)) < 0)
                return -ENOMEM;
        return 0;
}

static void print_written(const char *collection, json_t *schema, json_t *answer) {
        json_t *item = json_object_get(answer, sget(schema, "item") ?: "");
        const char *secret = sget(answer, "password");
        json_t *w;
        size_t i;

        if (item)
                print_item(collection, schema, item);
        printf("audit record %lld\n",
               (long long)json_integer_value(json_object_get(answer, "audit_id")));
        json_array_foreach(json_object_get(answer, "warnings"), i, w)
                fprintf(stderr, "steward: warning: %s\n", json_string_value(w));
        if (secret) {
                fputs("password: ", stdout);
                fputs(secret, stdout);
                fputc('\n', stdout);
                fputs("steward: the password is shown only this once\n", stderr);
        }
}

static int run_write(struct cli *c, const char *collection, json_t *schema, json_t *verb,
                     const struct parsed *p) {
        const char *op = sget(verb, "op") ?: "";
        bool create = STREQ(op, "create"), del = STREQ(op, "delete");
        const char *method = create ? "POST" : del ? "DELETE" : "PATCH";
        _cleanup_free_ char *target = NULL;
        char password[PASSWORD_CAP];
        json_t *body, *answer = NULL, *pw;
        const char *secret;
        int r;

        body = json_is_object(json_object_get(verb, "body"))
                       ? json_deep_copy(json_object_get(verb, "body"))
                       : json_object();
        if (!body || item_target(collection, create ? NULL : p->pos[0], &target) < 0) {
                json_decref(body);
                return -ENOMEM;
        }
        r = fill(schema, verb, p, body, &target);
        if (r >= 0 && create &&
            json_object_set_new(body, sget(schema, "id") ?: "name", json_string(p->pos[0])) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = take_password(p, body, password, sizeof password);
        explicit_bzero(password, sizeof password);
        if (r >= 0 && p->dry_run && append_query(&target, "dry_run", "1") < 0)
                r = -ENOMEM;
        c->field_options = json_object_get(verb, "options");
        if (r >= 0)
                r = cli_call(c, method, target, del ? NULL : body, &answer);
        c->field_options = NULL;
        if ((pw = json_object_get(body, "password")) && json_is_string(pw))
                explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
        json_decref(body);
        if (r < 0)
                return r;
        secret = sget(answer, "password");
        if (c->json)
                r = print_json(answer);
        else if (p->dry_run || c->dry_run)
                print_plan(json_object_get(answer, "plan"));
        else
                print_written(collection, schema, answer);
        if (secret)
                explicit_bzero((char *)secret, strlen(secret));
        json_decref(answer);
        return r;
}

/* An action's answer as lines: its own scalars (job_result = "done") under
 * COLLECTION:ID, the item as a show prints it, the audit record's id. */
static int print_action(const char *collection, const char *id, json_t *schema, json_t *answer,
                        bool dry_run) {
        const char *item_key = sget(schema, "item") ?: "";
        json_t *item = json_object_get(answer, item_key), *rest;
        char prefix[NAME_MAX_LEN + 160];
        int r = 0;

        if (dry_run && json_is_object(json_object_get(answer, "plan")))
                print_plan(json_object_get(answer, "plan"));
        rest = json_deep_copy(answer);
        if (!rest)
                return -ENOMEM;
        json_object_del(rest, item_key);
        json_object_del(rest, "plan");
        json_object_del(rest, "audit_id");
        /* A "result" that only repeats members of the answer is said once. */
        json_t *result = json_object_get(rest, "result");
        if (json_is_object(result)) {
                const char *k;
                json_t *v;
                bool repeated = true;
                json_object_foreach(result, k, v) {
                        repeated &= json_equal(v, json_object_get(answer, k)) != 0;
                }
                if (repeated)
                        json_object_del(rest, "result");
        }
        snprintf(prefix, sizeof prefix, "%s:%s", collection, id);
        if (json_object_size(rest) > 0)
                r = print_kv(prefix, rest);
        json_decref(rest);
        if (r >= 0 && json_is_object(item))
                r = print_item(collection, schema, item);
        if (json_is_integer(json_object_get(answer, "audit_id")))
                printf("audit record %lld\n",
                       (long long)json_integer_value(json_object_get(answer, "audit_id")));
        return r;
}

/* `steward COLLECTION ACTION ID… [--ARG VALUE|--FLAG] [--dry-run]`: POST
 * /api/v1/COLLECTION/ID/ACTION for each id in order, stopping at the first
 * failure.  --json: the answer, or an array of the answers for several. */
static int run_action(struct cli *c, const char *collection, json_t *schema, json_t *verb,
                      const struct parsed *p) {
        _cleanup_free_ char *suffix = NULL;
        json_t *body = json_object(), *all = json_array();
        int r;

        if (!body || !all) {
                r = -ENOMEM;
                goto out;
        }
        r = fill(schema, verb, p, body, &suffix);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < p->npos && r >= 0; i++) {
                _cleanup_free_ char *item = NULL, *target = NULL, *esc = NULL;
                json_t *answer = NULL;

                if (item_target(collection, p->pos[i], &item) < 0 ||
                    url_escape(sget(verb, "name") ?: "", &esc) < 0 ||
                    asprintf(&target, "%s/%s%s", item, esc, p->dry_run ? "?dry_run=1" : "") < 0) {
                        target = NULL;
                        r = -ENOMEM;
                        break;
                }
                c->field_options = json_object_get(verb, "options");
                r = cli_call(c, "POST", target, body, &answer);
                c->field_options = NULL;
                if (r < 0)
                        break;
                if (c->json && p->npos > 1)
                        r = json_array_append(all, answer) < 0 ? -ENOMEM : 0;
                else if (c->json)
                        r = print_json(answer);
                else
                        r = print_action(collection, p->pos[i], schema, answer,
                                         p->dry_run || c->dry_run);
                json_decref(answer);
        }
        if (c->json && p->npos > 1 && json_array_size(all) > 0) {
                int q = print_json(all);
                if (r >= 0)
                        r = q;
        }
out:
        json_decref(body);
        json_decref(all);
        return r;
}

/* A route-list verb (`shares sessions`): GET its path with the query its
 * options fill; the array under its list key as a table of its columns;
 * --json: the answer as it is. */
static int run_route_list(struct cli *c, json_t *schema, json_t *verb, const struct parsed *p) {
        const char *path = sget(verb, "path");
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL, *unused;
        int r;

        if (!path || strncmp(path, "/api/v1/", 8) != 0)
                return usage_error("%s: the server describes no path", sget(verb, "name") ?: "");
        if (!(target = strdup(path)) || !(unused = json_object()))
                return -ENOMEM;
        r = fill(schema, verb, p, unused, &target);
        json_decref(unused);
        if (r < 0)
                return r;
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer)
                    : print_table(verb, json_object_get(answer, sget(verb, "list_key") ?: ""));
        json_decref(answer);
        return r;
}

/* The password of a command verb: --password=PW, one line of stdin
 * (--password-stdin, or stdin not a terminal), or asked twice. */
static int command_password(const struct parsed *p, json_t *body, char *buf, size_t cap) {
        char again[PASSWORD_CAP];
        int r;

        if (p->password_value && p->password_stdin)
                return usage_error("give --password=PW or --password-stdin, not both");
        if (p->password_value)
                return json_object_set_new(body, "password", json_string(p->password_value)) < 0
                               ? -ENOMEM
                               : 0;
        r = read_secret("New password: ", buf, cap);
        if (r >= 0 && !p->password_stdin && isatty(STDIN_FILENO)) {
                r = read_secret("Again: ", again, sizeof again);
                if (r >= 0 && !STREQ(buf, again))
                        r = usage_error("the passwords differ");
                explicit_bzero(again, sizeof again);
        }
        if (r >= 0 && json_object_set_new(body, "password", json_string(buf)) < 0)
                r = -ENOMEM;
        return r;
}

/* A command verb (`shares disconnect ID`): POST its path with the
 * positional argument as its arg, the options and its body; the answer as
 * COLLECTION:VERB:KEY = VALUE lines, or --json. */
static int run_command(struct cli *c, const char *collection, json_t *schema, json_t *verb,
                       const struct parsed *p) {
        const char *path = sget(verb, "path"), *arg = sget(verb, "arg");
        _cleanup_free_ char *unused = NULL, *target = NULL;
        char password[PASSWORD_CAP] = "", prefix[NAME_MAX_LEN + 80];
        json_t *body, *answer = NULL, *pw;
        int r;

        if (!path || !arg || strncmp(path, "/api/v1/", 8) != 0)
                return usage_error("%s: the server describes no command", sget(verb, "name") ?: "");
        body = json_is_object(json_object_get(verb, "body"))
                       ? json_deep_copy(json_object_get(verb, "body"))
                       : json_object();
        if (!body || !(unused = strdup("")))
                r = -ENOMEM;
        else
                r = fill(schema, verb, p, body, &unused);
        if (r >= 0 && p->npos > 0 && json_object_set_new(body, arg, json_string(p->pos[0])) < 0)
                r = -ENOMEM;
        if (r >= 0 && asprintf(&target, "%s%s", path, p->dry_run ? "?dry_run=1" : "") < 0) {
                target = NULL;
                r = -ENOMEM;
        }
        if (r >= 0 && json_is_true(json_object_get(verb, "password")))
                r = command_password(p, body, password, sizeof password);
        explicit_bzero(password, sizeof password);
        c->field_options = json_object_get(verb, "options");
        if (r >= 0)
                r = cli_call(c, "POST", target, body, &answer);
        c->field_options = NULL;
        if ((pw = json_object_get(body, "password")) && json_is_string(pw))
                explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
        json_decref(body);
        if (r < 0)
                return r;
        snprintf(prefix, sizeof prefix, "%s:%s", collection, sget(verb, "name") ?: "");
        r = c->json ? print_json(answer) : print_kv(prefix, answer);
        json_decref(answer);
        if (r >= 0 && (p->dry_run || c->dry_run) && !c->json)
                fprintf(stderr, "steward: dry run: nothing was changed\n");
        return r;
}

/* `steward COLLECTION VERB --help`: the synopsis and what each option
 * fills, as the schema describes it. */
static int print_help(json_t *schema, json_t *verb, const char *synopsis) {
        json_t *o;
        size_t i;

        printf("usage: steward %s\n", synopsis);
        if (*(sget(verb, "summary") ?: ""))
                printf("%s\n", sget(verb, "summary"));
        if (sget(verb, "min_role") && STREQ(sget(verb, "op") ?: "", "command"))
                printf("Needs the role %s (or higher).\n", sget(verb, "min_role"));
        else if (sget(verb, "min_role"))
                printf("Needs the role %s (or higher)%s; several names: one request each, "
                       "in order, stopping at the first failure.\n",
                       sget(verb, "min_role"),
                       json_is_true(json_object_get(verb, "changes_state"))
                               ? "; --dry-run shows the plan"
                               : "");
        json_array_foreach(json_object_get(verb, "options"), i, o) {
                const char *field = sget(o, "field") ?: "", *kind = sget(o, "kind") ?: "";
                json_t *f = field_of(schema, field);
                const char *what = sget(o, "description") ?: sget(f, "description");
                if (STREQ(kind, "query") || STREQ(kind, "query_flag")) {
                        json_t *q;
                        size_t k;
                        json_array_foreach(json_object_get(schema, "query"), k, q) {
                                if (STREQ(sget(q, "name") ?: "", field))
                                        what = sget(q, "description");
                        }
                }
                char opt[64], sn = (sget(o, "short") ?: "")[0];
                snprintf(opt, sizeof opt, "%c%c%s--%s %s", sn ? '-' : ' ', sn ? sn : ' ',
                         sn ? ", " : "  ", sget(o, "name") ?: "", sget(o, "metavar") ?: "");
                const char *set = STREQ(kind, "true")    ? " = true"
                                  : STREQ(kind, "false") ? " = false"
                                                         : "";
                /* How a list is given: each item an option of its own, or
                 * one comma-separated value. */
                const char *how =
                        STREQ(kind, "item") ? " (once per item)"
                        : STREQ(kind, "value") && STREQ(sget(f, "type") ?: "", "string_array")
                                ? " (comma-separated)"
                                : "";
                printf("  %-28s %s%s%s%s%s\n", opt, field, set, how, what && *what ? ": " : "",
                       what ? what : "");
        }
        return 0;
}

/* `steward COLLECTION --help`: every verb of the collection, each with its
 * synopsis and what it does. */
static int print_collection_help(const char *collection, json_t *schema) {
        const char *names[ARGS_MAX];
        char synopsis[SYNOPSIS_MAX];
        size_t n = collection_verbs(schema, names), i;

        for (i = 0; i < n; i++) {
                json_t *verb = find_verb(schema, names[i]);
                const char *summary;

                if (!verb)
                        continue;
                synopsis_of(collection, verb, synopsis, sizeof synopsis);
                summary = sget(verb, "summary");
                printf("%s steward %s\n", i == 0 ? "Usage:" : "      ", synopsis);
                if (summary && *summary)
                        printf("         %s\n", summary);
                json_decref(verb);
        }
        printf("\nsteward %s VERB --help: a verb's options and the fields they fill.\n",
               collection);
        return 0;
}

static void parsed_free(struct parsed *p) {
        for (size_t i = 0; i < ARGS_MAX; i++)
                free(p->items[i]);
}

static int dispatch(struct cli *c, const char *collection, json_t *schema, json_t *verb,
                    const char *synopsis, int argc, const struct parsed *p) {
        const char *op = sget(verb, "op") ?: "";

        bool optional = STREQ(op, "command") && json_is_true(json_object_get(verb, "arg_optional"));

        if (STREQ(op, "route_list"))
                return run_route_list(c, schema, verb, p);
        if (!STREQ(op, "list") && (STREQ(op, "action") ? p->npos < 1
                                   : optional          ? p->npos > 1
                                                       : p->npos != 1))
                return usage_error("usage: steward %s", synopsis);
        if (STREQ(op, "list"))
                return run_list(c, collection, schema, verb, p);
        if (STREQ(op, "command"))
                return run_command(c, collection, schema, verb, p);
        if (STREQ(op, "show") || (json_is_true(json_object_get(verb, "bare_show")) && argc == 1))
                return run_show(c, collection, schema, verb, p);
        if (STREQ(op, "create") || STREQ(op, "modify") || STREQ(op, "delete"))
                return run_write(c, collection, schema, verb, p);
        if (STREQ(op, "action"))
                return run_action(c, collection, schema, verb, p);
        return usage_error("%s %s: the server describes an unknown operation", collection,
                           sget(verb, "name") ?: "");
}

/* shown: how the user named the collection ("mail queue" for mail_queue). */
static int run_verb(struct cli *c, const char *collection, const char *shown, json_t *schema,
                    json_t *verb, int argc, char **argv) {
        char synopsis[SYNOPSIS_MAX];
        struct parsed p = {0};
        int r;

        synopsis_of(shown, verb, synopsis, sizeof synopsis);
        for (int i = 0; i < argc && !STREQ(argv[i], "--"); i++)
                if (STREQ(argv[i], "--help"))
                        return print_help(schema, verb, synopsis);
        r = parse(verb, synopsis, argc, argv, &p);
        if (r >= 0)
                r = dispatch(c, collection, schema, verb, synopsis, argc, &p);
        parsed_free(&p);
        return r;
}

/* The verbs of a collection whose schema is known. */
static int collection_main(struct cli *c, const char *collection, const char *shown,
                           json_t *schema, int argc, char **argv) {
        json_t *verb;
        char names[256];
        int r;

        verb_names(schema, names, sizeof names);
        /* A collection named alone lists it (`steward alerts`). */
        if (argc < 1) {
                char *list[] = {(char *)"list", NULL};
                return collection_main(c, collection, shown, schema, 1, list);
        }
        if (STREQ(argv[0], "--help") || STREQ(argv[0], "-h"))
                return print_collection_help(shown, schema);
        verb = find_verb(schema, argv[0]);
        if (!verb)
                return usage_error("unknown %s command \"%s\" (%s)", shown, argv[0], names);
        r = run_verb(c, collection, shown, schema, verb, argc - 1, argv + 1);
        json_decref(verb);
        return r;
}

/* `steward MODULE --help`: the module's own verbs, then its collections
 * under their short names. */
static int print_module_help(const char *module, json_t *ms) {
        char synopsis[SYNOPSIS_MAX];
        size_t i, len = strlen(module);
        json_t *v;
        bool first = true;

        json_array_foreach(json_object_get(ms, "verbs"), i, v) {
                synopsis_of(module, v, synopsis, sizeof synopsis);
                printf("%s steward %s\n", first ? "Usage:" : "      ", synopsis);
                if (*(sget(v, "summary") ?: ""))
                        printf("         %s\n", sget(v, "summary"));
                first = false;
        }
        json_array_foreach(json_object_get(ms, "collection_schemas"), i, v) {
                const char *name = sget(v, "name") ?: "";
                if (strncmp(name, module, len) != 0 || name[len] != '_')
                        continue;
                printf("%s steward %s %s VERB …\n", first ? "Usage:" : "      ", module,
                       name + len + 1);
                if (*(sget(v, "summary") ?: ""))
                        printf("         %s\n", sget(v, "summary"));
                first = false;
        }
        printf("\nsteward %s WORD --help: what each takes.\n", module);
        return 0;
}

/* `steward MODULE VERB …` (a module's own verbs: `mail who`) and `steward
 * MODULE WORD …` (its collection MODULE_WORD: `mail queue list`).  ms: the
 * module's schema. */
static int module_main(struct cli *c, const char *module, json_t *ms, int argc, char **argv) {
        char sub[NAME_MAX_LEN * 2 + 2], shown[NAME_MAX_LEN * 2 + 2];
        json_t *v, *schema;
        size_t i;
        int r;

        if (argc < 1)
                return usage_error("usage: steward %s WORD ... (steward %s --help)", module,
                                   module);
        if (STREQ(argv[0], "--help") || STREQ(argv[0], "-h"))
                return print_module_help(module, ms);
        json_array_foreach(json_object_get(ms, "verbs"), i, v) {
                if (STREQ(sget(v, "name") ?: "", argv[0]))
                        return run_verb(c, module, module, ms, v, argc - 1, argv + 1);
        }
        if (!name_valid(argv[0]) || strlen(module) + strlen(argv[0]) + 1 > NAME_MAX_LEN)
                return usage_error("unknown %s command \"%s\" (steward %s --help)", module,
                                   argv[0], module);
        snprintf(sub, sizeof sub, "%s_%s", module, argv[0]);
        snprintf(shown, sizeof shown, "%s %s", module, argv[0]);
        schema = schema_in(ms, sub);
        if (!schema)
                return usage_error("unknown %s command \"%s\" (steward %s --help)", module,
                                   argv[0], module);
        r = collection_main(c, sub, shown, schema, argc - 1, argv + 1);
        json_decref(schema);
        return r;
}

static bool module_words_clean(json_t *ms) {
        json_t *v;
        size_t i;

        json_array_foreach(json_object_get(ms, "collection_schemas"), i, v) {
                if (!schema_clean(v, 0))
                        return false;
        }
        return schema_clean(json_object_get(ms, "verbs"), 0);
}

static bool module_has_words(json_t *ms) {
        return json_array_size(json_object_get(ms, "verbs")) > 0 ||
               json_array_size(json_object_get(ms, "collection_schemas")) > 0;
}

int cli_collection(struct cli *c, const char *collection, int argc, char **argv) {
        json_t *schema = NULL, *ms = NULL;
        int r;

        if (!name_valid(collection))
                return usage_error("unknown command \"%s\"", collection);
        /* The module of that name first: its collection of the same name,
         * else its own words; else a collection of another module. */
        r = module_schema(c, collection, &ms);
        if (r < 0)
                return r;
        /* What reaches the terminal from it: the verbs and the collections'
         * schemas (checked below, or in module_main). */
        if (ms && !module_words_clean(ms)) {
                json_decref(ms);
                fprintf(stderr, "steward: the server's schema of %s holds control characters\n",
                        collection);
                return -EBADMSG;
        }
        schema = ms ? schema_in(ms, collection) : NULL;
        if (!schema && ms && module_has_words(ms)) {
                r = module_main(c, collection, ms, argc, argv);
                json_decref(ms);
                return r;
        }
        json_decref(ms);
        if (!schema) {
                r = fetch_schema(c, collection, &schema);
                if (r < 0)
                        return r;
        }
        if (schema && !schema_clean(schema, 0)) {
                json_decref(schema);
                fprintf(stderr, "steward: the server's schema of %s holds control characters\n",
                        collection);
                return -EBADMSG;
        }
        if (!schema)
                return usage_error("unknown command \"%s\"", collection);
        r = collection_main(c, collection, collection, schema, argc, argv);
        json_decref(schema);
        return r;
}
