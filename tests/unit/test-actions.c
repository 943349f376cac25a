/* test-actions.c — the module kit's rules for who may run what and with
 * which arguments (module.h, registry.c): a command's lowest role
 * (min_role, else changes_state decides), an item action's (min_role, else
 * admin), the check of an action's arguments against its table, the
 * lookup of an action, and the schema that publishes them.  The tables
 * here are the test's own and never reach the product's module list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "module.h"
#include "registry.h"
#include "roles.h"
#include "util.h"

static const char *const colours[] = {"red", "green", NULL};

static const command_arg_t args[] = {
        {.name = "force", .type = SETTING_BOOLEAN, .description = "past a guard"},
        {.name = "seconds", .type = SETTING_INTEGER, .min = 1, .max = 60},
        {.name = "colour", .type = SETTING_ENUM, .choices = colours},
        {.name = "why", .type = SETTING_STRING, .max = 8, .required = true},
};

static int run_nothing(const struct module_ctx *ctx, const char *id, json_t *a, bool dry_run,
                       json_t **ret, struct module_error *err) {
        *ret = json_object();
        return 0;
}

static const collection_action_t actions[] = {
        {.name = "poke", .summary = "poke it", .run = run_nothing},
        {.name = "restart",
         .summary = "restart it",
         .min_role = ROLE_OPERATOR,
         .changes_state = true,
         .args = args,
         .n_args = ELEMENTSOF(args),
         .run = run_nothing},
        {.name = "peek", .summary = "look", .min_role = ROLE_MONITOR, .run = run_nothing},
};

static const collection_field_t fields[] = {
        {.name = "name", .type = FIELD_STRING, .flags = FIELD_SHOWN},
};

static const collection_def_t coll = {
        .name = "things",
        .item = "thing",
        .id_field = "name",
        .fields = fields,
        .n_fields = ELEMENTSOF(fields),
        .actions = actions,
        .n_actions = ELEMENTSOF(actions),
        .front_reads = true,
};

static void test_command_roles(void **state) {
        command_def_t c = {.name = "c"};

        assert_int_equal(command_min_role(&c), ROLE_MONITOR);
        c.changes_state = true;
        assert_int_equal(command_min_role(&c), ROLE_ADMIN);
        c.min_role = ROLE_OPERATOR;
        assert_int_equal(command_min_role(&c), ROLE_OPERATOR);
        c.changes_state = false;
        c.min_role = ROLE_ADMIN;
        assert_int_equal(command_min_role(&c), ROLE_ADMIN);
}

static void test_action_roles_and_lookup(void **state) {
        assert_int_equal(collection_action_min_role(&actions[0]), ROLE_ADMIN); /* 0: admin */
        assert_int_equal(collection_action_min_role(&actions[1]), ROLE_OPERATOR);
        assert_int_equal(collection_action_min_role(&actions[2]), ROLE_MONITOR);
        assert_ptr_equal(collection_find_action(&coll, "restart"), &actions[1]);
        assert_null(collection_find_action(&coll, "Restart"));
        assert_null(collection_find_action(&coll, NULL));
        assert_null(collection_find_action(NULL, "restart"));
}

/* The status and field of checking text (a JSON value) against restart's
 * arguments; 0 when accepted. */
static int check(const char *text, const char **ret_field) {
        static struct module_error e;
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        int r;

        assert_non_null(v);
        e = (struct module_error){0};
        r = collection_action_check_args(&actions[1], v, &e);
        json_decref(v);
        *ret_field = e.field;
        return r < 0 ? e.status : 0;
}

static void test_action_args(void **state) {
        static const struct {
                const char *body;
                int status;
                const char *field;
        } cases[] = {
                {"{\"why\": \"x\"}", 0, ""},
                {"{\"why\": \"x\", \"force\": true, \"seconds\": 60, \"colour\": \"red\"}", 0, ""},
                {"[]", 400, ""},
                {"\"why\"", 400, ""},
                {"{}", 422, "why"},
                {"{\"why\": \"x\", \"nope\": 1}", 422, "nope"},
                {"{\"why\": \"x\", \"force\": \"yes\"}", 422, "force"},
                {"{\"why\": \"x\", \"force\": 1}", 422, "force"},
                {"{\"why\": \"x\", \"seconds\": 0}", 422, "seconds"},
                {"{\"why\": \"x\", \"seconds\": 61}", 422, "seconds"},
                {"{\"why\": \"x\", \"seconds\": \"5\"}", 422, "seconds"},
                {"{\"why\": \"x\", \"colour\": \"blue\"}", 422, "colour"},
                {"{\"why\": \"far too long\"}", 422, "why"},
                {"{\"why\": null}", 422, "why"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *field = NULL;
                int status = check(cases[i].body, &field);
                if (status != cases[i].status || !STREQ(field, cases[i].field))
                        fail_msg("%s: status %d field \"%s\", expected %d \"%s\"", cases[i].body,
                                 status, field, cases[i].status, cases[i].field);
        }
        /* An action without arguments takes {} and nothing else. */
        {
                struct module_error e = {0};
                json_t *empty = json_object(), *one = json_pack("{s:b}", "force", 1);
                assert_int_equal(collection_action_check_args(&actions[0], empty, &e), 0);
                assert_true(collection_action_check_args(&actions[0], one, &e) < 0);
                assert_string_equal(e.field, "force");
                json_decref(empty);
                json_decref(one);
        }
}

static void test_schema_publishes_actions(void **state) {
        json_t *s = collection_schema_json(&coll), *a;

        assert_non_null(s);
        assert_true(json_is_true(json_object_get(s, "front_reads")));
        a = json_object_get(s, "actions");
        assert_int_equal(json_array_size(a), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "min_role")),
                            "admin");
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "min_role")),
                            "operator");
        assert_true(json_is_true(json_object_get(json_array_get(a, 1), "changes_state")));
        assert_int_equal(json_array_size(json_object_get(json_array_get(a, 1), "args")), 4);
        assert_string_equal(
                json_string_value(json_object_get(
                        json_array_get(json_object_get(json_array_get(a, 1), "args"), 3), "name")),
                "why");
        json_decref(s);
}

/* The product's modules: every action and command table passes the
 * start-up check, and each schema says who may run each command. */
static void test_product_tables(void **state) {
        char err[256] = "";

        if (modules_check(err, sizeof err) < 0)
                fail_msg("%s", err);
        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                json_t *s = module_schema_json(m), *c;
                size_t k;
                json_array_foreach(json_object_get(s, "commands"), k, c) {
                        assert_string_equal(
                                json_string_value(json_object_get(c, "min_role")),
                                role_to_string((enum role)command_min_role(&m->commands[k])));
                }
                json_decref(s);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_command_roles),
                cmocka_unit_test(test_action_roles_and_lookup),
                cmocka_unit_test(test_action_args),
                cmocka_unit_test(test_schema_publishes_actions),
                cmocka_unit_test(test_product_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
