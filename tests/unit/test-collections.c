/* test-collections.c — every collection's schema (module.h) holds together:
 * its verbs' options name fields the verb may write or query arguments the
 * collection declares, its columns name fields an item shows, names are
 * unique, and the users module's field table (userwrite.c, the authority on
 * what a request may carry) lets through exactly the fields the schema calls
 * writable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "module.h"
#include "registry.h"
#include "modules/users/users.h"
#include "util.h"

/* The field name names in fields, a member's path ("smb.read_only") through
 * the described members of objects. */
static const collection_field_t *field_in(const collection_field_t *fields, size_t n,
                                          const char *name) {
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);

        for (size_t i = 0; i < n; i++) {
                if (strlen(fields[i].name) != len || strncmp(fields[i].name, name, len) != 0)
                        continue;
                if (!dot)
                        return &fields[i];
                return fields[i].fields ? field_in(fields[i].fields, fields[i].n_fields, dot + 1)
                                        : NULL;
        }
        return NULL;
}

static const collection_field_t *field(const collection_def_t *c, const char *name) {
        return field_in(c->fields, c->n_fields, name);
}

/* A command verb's options fill the command's arguments. */
static void check_command_verb(const collection_def_t *c, const collection_verb_t *v) {
        const module_t *m = NULL;
        const command_def_t *cmd;

        assert_non_null(collection_find(c->name, &m));
        cmd = module_find_command(m, v->command);
        if (!cmd)
                fail_msg("%s %s: no command %s", c->name, v->name, v->command);
        for (size_t i = 0; i < v->n_options; i++) {
                const collection_option_t *o = &v->options[i];
                const command_arg_t *a = NULL;
                for (size_t k = 0; k < cmd->n_args; k++)
                        if (STREQ(cmd->args[k].name, o->field))
                                a = &cmd->args[k];
                if (!a)
                        fail_msg("%s %s --%s: %s takes no argument %s", c->name, v->name, o->name,
                                 cmd->name, o->field);
                if ((o->kind == COPT_TRUE || o->kind == COPT_FALSE) != (a->type == SETTING_BOOLEAN))
                        fail_msg("%s %s --%s: a flag fills a boolean argument", c->name, v->name,
                                 o->name);
                if (o->kind != COPT_TRUE && o->kind != COPT_FALSE && o->kind != COPT_VALUE)
                        fail_msg("%s %s --%s: a command's option is a value or a flag", c->name,
                                 v->name, o->name);
        }
}

/* An action verb is an action of the collection, its options (values)
 * the action's arguments, each once. */
static void check_action_verb(const collection_def_t *c, const collection_verb_t *v) {
        const collection_action_t *a = NULL;

        for (size_t k = 0; k < c->n_actions; k++)
                if (STREQ(c->actions[k].name, v->name))
                        a = &c->actions[k];
        if (!a)
                fail_msg("%s %s: no action of that name", c->name, v->name);
        for (size_t i = 0; i < v->n_options; i++) {
                const collection_option_t *o = &v->options[i];
                bool found = false;
                for (size_t k = 0; k < a->n_args; k++)
                        found |= STREQ(a->args[k].name, o->field);
                if (!found || o->kind != COPT_VALUE)
                        fail_msg("%s %s --%s: fills no argument of the action", c->name, v->name,
                                 o->name);
                for (size_t j = 0; j < i; j++)
                        if (STREQ(v->options[j].name, o->name) ||
                            (o->short_name && v->options[j].short_name == o->short_name))
                                fail_msg("%s %s: option --%s twice", c->name, v->name, o->name);
        }
}

static void check_verb(const collection_def_t *c, const collection_verb_t *v) {
        unsigned want = v->op == VERB_CREATE ? FIELD_CREATE : FIELD_MODIFY;

        if (v->op == VERB_COMMAND) {
                check_command_verb(c, v);
                return;
        }
        if (v->op == VERB_ACTION) {
                check_action_verb(c, v);
                return;
        }
        for (size_t i = 0; i < v->n_options; i++) {
                const collection_option_t *o = &v->options[i];
                const collection_field_t *f = field(c, o->field);
                for (size_t j = 0; j < i; j++)
                        if (STREQ(v->options[j].name, o->name) ||
                            (o->short_name && v->options[j].short_name == o->short_name))
                                fail_msg("%s %s: option --%s twice", c->name, v->name, o->name);
                if (o->kind == COPT_QUERY || o->kind == COPT_QUERY_FLAG) {
                        const collection_query_t *q = collection_find_query(c, o->field);
                        if (!q)
                                fail_msg("%s %s --%s: no query argument %s", c->name, v->name,
                                         o->name, o->field);
                        if ((q->type == FIELD_BOOLEAN) != (o->kind == COPT_QUERY_FLAG))
                                fail_msg("%s %s --%s: a flag is a boolean query argument", c->name,
                                         v->name, o->name);
                        continue;
                }
                if (v->op != VERB_CREATE && v->op != VERB_MODIFY)
                        fail_msg("%s %s --%s: only writes fill a body", c->name, v->name, o->name);
                if (!f || !(f->flags & want))
                        fail_msg("%s %s --%s: %s is not writable there", c->name, v->name, o->name,
                                 o->field);
                if ((o->kind == COPT_TRUE || o->kind == COPT_FALSE) && f->type != FIELD_BOOLEAN)
                        fail_msg("%s %s --%s: a flag fills a boolean", c->name, v->name, o->name);
                /* A list of objects whose module also takes an item in a
                 * string's form (an NFS client as "HOST(OPTIONS)"). */
                if (o->kind == COPT_ITEM && f->type != FIELD_STRING_ARRAY &&
                    f->type != FIELD_OBJECT_ARRAY)
                        fail_msg("%s %s --%s: an item goes into a list", c->name, v->name, o->name);
        }
}

static void test_schemas_hold_together(void **state) {
        size_t n = 0;

        for (size_t m = 0; m < steward_modules_count; m++)
                for (size_t k = 0; k < steward_modules[m]->n_collections; k++) {
                        const collection_def_t *c = &steward_modules[m]->collections[k];
                        json_t *j = collection_schema_json(c);
                        n++;
                        assert_non_null(j);
                        json_decref(j);
                        assert_non_null(c->id_field);
                        assert_non_null(field(c, c->id_field));
                        assert_true(c->n_fields > 0 && c->n_columns > 0);
                        for (size_t i = 0; i < c->n_fields; i++)
                                for (size_t j2 = 0; j2 < i; j2++)
                                        assert_string_not_equal(c->fields[i].name,
                                                                c->fields[j2].name);
                        for (size_t i = 0; i < c->n_columns; i++) {
                                const collection_field_t *f = field(c, c->columns[i].field);
                                if (!f || !(f->flags & FIELD_SHOWN))
                                        fail_msg("%s: column %s is no shown field", c->name,
                                                 c->columns[i].field);
                        }
                        for (size_t i = 0; i < c->n_verbs; i++) {
                                for (size_t j2 = 0; j2 < i; j2++)
                                        assert_string_not_equal(c->verbs[i].name,
                                                                c->verbs[j2].name);
                                check_verb(c, &c->verbs[i]);
                        }
                }
        assert_true(n >= 2);
}

/* A value of no field's type: every field refuses it, a writable one as
 * badly typed, any other as unknown. */
static bool refused_as_unknown(collection_op_t op, const char *name) {
        struct module_error e = {0};
        json_t *body = json_pack("{s:[[]]}", name), *ret = NULL;
        int r = users_write(NULL, op, op == COLLECTION_CREATE ? NULL : "nosuchuser", body, NULL,
                            true, &ret, &e);

        json_decref(body);
        json_decref(ret);
        assert_true(r < 0);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, name);
        return strncmp(e.message, "unknown field", 13) == 0;
}

static void test_users_schema_is_what_userwrite_takes(void **state) {
        const collection_def_t *c = collection_find("users", NULL);

        assert_non_null(c);
        for (size_t i = 0; i < c->n_fields; i++) {
                const collection_field_t *f = &c->fields[i];
                if (refused_as_unknown(COLLECTION_CREATE, f->name) != !(f->flags & FIELD_CREATE))
                        fail_msg("users: create and the schema disagree on %s", f->name);
                if (refused_as_unknown(COLLECTION_MODIFY, f->name) != !(f->flags & FIELD_MODIFY))
                        fail_msg("users: modify and the schema disagree on %s", f->name);
        }
        assert_true(refused_as_unknown(COLLECTION_CREATE, "shadow"));
}

/* The schema's JSON of a field holds its described members, recursively,
 * with their names and types, so that the CLI and the console can name
 * "smb.read_only" and "nfs.clients.host". */
static void check_members(const collection_field_t *f, json_t *j, unsigned depth) {
        json_t *members = json_object_get(j, "fields");

        assert_true(depth < 4);
        assert_string_equal(json_string_value(json_object_get(j, "name")), f->name);
        if (!f->fields || f->n_fields == 0) {
                assert_null(members);
                return;
        }
        assert_true(f->type == FIELD_OBJECT || f->type == FIELD_OBJECT_ARRAY);
        assert_int_equal(json_array_size(members), f->n_fields);
        for (size_t i = 0; i < f->n_fields; i++)
                check_members(&f->fields[i], json_array_get(members, i), depth + 1);
}

static void test_schema_exports_members(void **state) {
        const collection_def_t *shares = collection_find("shares", NULL);
        size_t described = 0;

        for (size_t m = 0; m < steward_modules_count; m++)
                for (size_t k = 0; k < steward_modules[m]->n_collections; k++) {
                        const collection_def_t *c = &steward_modules[m]->collections[k];
                        json_t *j = collection_schema_json(c);
                        for (size_t i = 0; i < c->n_fields; i++) {
                                check_members(&c->fields[i],
                                              json_array_get(json_object_get(j, "fields"), i), 0);
                                described += c->fields[i].fields != NULL;
                        }
                        json_decref(j);
                }
        assert_true(described >= 3);
        /* One by name: the NFS clients' members, two levels down. */
        assert_non_null(shares);
        json_t *j = collection_schema_json(shares), *f, *nfs = NULL, *clients = NULL;
        size_t i;
        json_array_foreach(json_object_get(j, "fields"), i, f) {
                if (STREQ(json_string_value(json_object_get(f, "name")), "nfs"))
                        nfs = f;
        }
        assert_non_null(nfs);
        json_array_foreach(json_object_get(nfs, "fields"), i, f) {
                if (STREQ(json_string_value(json_object_get(f, "name")), "clients"))
                        clients = f;
        }
        assert_non_null(clients);
        assert_string_equal(json_string_value(json_object_get(clients, "type")), "object_array");
        f = json_array_get(json_object_get(clients, "fields"), 0);
        assert_string_equal(json_string_value(json_object_get(f, "name")), "host");
        assert_true(json_is_true(json_object_get(f, "create")));
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_schemas_hold_together),
                cmocka_unit_test(test_users_schema_is_what_userwrite_takes),
                cmocka_unit_test(test_schema_exports_members),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
