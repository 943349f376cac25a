/* test-settingsfile.c — the settings rows and the one kv-file backend
 * (src/modules/settingsfile.c): the start-up check of a table against its
 * struct, defaults, parsing, the in-place rewrite, and a whole change (plan,
 * dry run, write, make live, a file that does not parse) on a scratch
 * directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "jsonutil.h"
#include "module.h"
#include "registry.h"
#include "settingsfile.h"
#include "util.h"

/* ---- a small table of every type ------------------------------------------ */

struct t_config {
        unsigned count;
        int64_t big;
        bool on;
        int color; /* ENUM: index in colors */
        char name[16];
        struct setting_list list;
};

static const char *const colors[] = {"red", "green", "blue", NULL};

#define F(m) SETTING_FIELD(struct t_config, m)
static const setting_def_t t_rows[] = {
        {.key = "count", .type = SETTING_INTEGER, .min = 1, .max = 100, .def_int = 7, F(count)},
        {.key = "a:big",
         .type = SETTING_INTEGER,
         .min = -5,
         .max = 5000000000LL,
         .def_int = -1,
         .restart = true,
         F(big)},
        {.key = "a:on", .type = SETTING_BOOLEAN, .def_int = true, F(on)},
        {.key = "color", .type = SETTING_ENUM, .choices = colors, .def_string = "green", F(color)},
        {.key = "name", .type = SETTING_STRING, .min = 0, .max = 15, .def_string = "x", F(name)},
        {.key = "list",
         .type = SETTING_STRING_ARRAY,
         .max = 4,
         .def_list = (const char *const[]){"one", "two", NULL},
         F(list)},
};

static int hook_calls;
static bool hook_helper;
static unsigned hook_count;

static void t_made_live(const void *config, bool helper) {
        const struct t_config *c = config;
        hook_calls++;
        hook_helper = helper;
        hook_count = c->count;
}

/* A check of the combination: a name only with a count above 1. */
static int t_check(const void *config, char *err, size_t err_len) {
        const struct t_config *c = config;

        if (c->count == 1 && c->name[0]) {
                snprintf(err, err_len, "a name needs a count above 1");
                return -EINVAL;
        }
        return 0;
}

static struct t_config t_live;
static struct settings_file_state t_state;

static const settings_file_t t_file = {
        .module = "t",
        .rows = t_rows,
        .n_rows = ELEMENTSOF(t_rows),
        .file = "t.conf",
        .header = "# t\n",
        .size = sizeof(struct t_config),
        .live = &t_live,
        .state = &t_state,
        .check = t_check,
        .made_live = t_made_live,
};

/* A copy of t_file with one row replaced. */
static int check_with_row(const setting_def_t *row, char *err, size_t len) {
        setting_def_t rows[ELEMENTSOF(t_rows)];
        settings_file_t f = t_file;

        memcpy(rows, t_rows, sizeof rows);
        rows[0] = *row;
        f.rows = rows;
        return settings_file_check(&f, err, len);
}

static void test_every_table_agrees_with_its_struct(void **state) {
        char err[256] = "";

        assert_int_equal(settings_file_check(&steward_config_file, err, sizeof err), 0);
        assert_int_equal(settings_file_check(&t_file, err, sizeof err), 0);
        assert_int_equal(modules_check(err, sizeof err), 0);
        for (size_t i = 0; i < steward_modules_count; i++)
                if (steward_modules[i]->settings_file)
                        assert_int_equal(settings_file_check(steward_modules[i]->settings_file, err,
                                                             sizeof err),
                                         0);
}

static void test_check_refuses_what_disagrees(void **state) {
        char err[256];
        /* a bool row over an unsigned field */
        assert_int_equal(
                check_with_row(&(setting_def_t){.key = "count", .type = SETTING_BOOLEAN, F(count)},
                               err, sizeof err),
                -EINVAL);
        assert_non_null(strstr(err, "t:count"));
        /* an unsigned field with a negative bound */
        assert_int_equal(check_with_row(&(setting_def_t){.key = "count",
                                                         .type = SETTING_INTEGER,
                                                         .min = -1,
                                                         .max = 3,
                                                         F(count)},
                                        err, sizeof err),
                         -EINVAL);
        /* two rows over one field */
        assert_int_equal(check_with_row(&(setting_def_t){.key = "count",
                                                         .type = SETTING_INTEGER,
                                                         .min = -5,
                                                         .max = 5,
                                                         F(big)},
                                        err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "overlap"));
        /* a default outside the bounds */
        assert_int_equal(check_with_row(&(setting_def_t){.key = "count",
                                                         .type = SETTING_INTEGER,
                                                         .min = 1,
                                                         .max = 100,
                                                         .def_int = 0,
                                                         F(count)},
                                        err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "default"));
        /* a string longer than its array */
        assert_int_equal(check_with_row(&(setting_def_t){.key = "count",
                                                         .type = SETTING_STRING,
                                                         .max = 16,
                                                         F(name)},
                                        err, sizeof err),
                         -EINVAL);
        /* a field past the struct's end */
        assert_int_equal(check_with_row(&(setting_def_t){.key = "count",
                                                         .type = SETTING_BOOLEAN,
                                                         .offset = sizeof(struct t_config),
                                                         .size = sizeof(bool)},
                                        err, sizeof err),
                         -EINVAL);
        /* a key twice */
        assert_int_equal(check_with_row(&(setting_def_t){.key = "color",
                                                         .type = SETTING_INTEGER,
                                                         .min = 1,
                                                         .max = 100,
                                                         .def_int = 7,
                                                         F(count)},
                                        err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "twice"));
}

static void test_defaults_and_parse(void **state) {
        struct t_config c;
        char err[256];
        json_t *tree;
        const char *text = "# a comment\ncount = 9\na:big = 5000000000\ncolor = \"blue\"\n"
                           "list:_array_index:0 = \"z\"\n";

        settings_file_defaults(&t_file, &c);
        assert_int_equal(c.count, 7);
        assert_int_equal(c.big, -1);
        assert_true(c.on);
        assert_int_equal(c.color, 1);
        assert_string_equal(c.name, "x");
        assert_int_equal(c.list.n, 2);
        assert_string_equal(c.list.name[1], "two");

        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         0);
        assert_int_equal(c.count, 9);
        assert_int_equal(c.big, 5000000000LL);
        assert_int_equal(c.color, 2);
        assert_int_equal(c.list.n, 1);
        assert_string_equal(c.list.name[0], "z");
        assert_true(c.on); /* default kept */

        tree = settings_file_tree(&t_file, &c);
        assert_int_equal(json_integer_value(json_tree_get(tree, "a:big")), 5000000000LL);
        assert_string_equal(json_string_value(json_object_get(tree, "color")), "blue");
        assert_true(json_is_true(json_tree_get(tree, "a:on")));
        json_decref(tree);

        text = "count = 0\n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "count"));
        /* A NUL, even in a comment, is not text: a rewrite would cut there. */
        assert_int_equal(settings_file_parse(&t_file, "# a\0b\ncount = 9\n", 16, "f", &c, err,
                                             sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "NUL"));
        text = "name = \"a name that is far too long\"\n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         -EINVAL);
        text = "count = 3\ncount = \n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "f:2"));
        text = "count = 1\n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "needs a count"));
        text = "count = 1\nname = \"\"\n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         0);
        text = "nope = 1\n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "nope"));
        /* an item longer than a list item can hold is refused, not cut */
        text = "list:_array_index:0 = \"0123456789012345678901234567890123456789012345678\"\n";
        assert_int_equal(settings_file_parse(&t_file, text, strlen(text), "f", &c, err, sizeof err),
                         -EINVAL);
}

static void test_rewrite_keeps_the_rest_of_the_file(void **state) {
        const char *old = "# head\ncount = 3\n\n  list:_array_index:0 = \"a\"\n"
                          "list:_array_index:1 = \"b\"\n# count = 1\nname = \"n\"\n";
        json_t *changes = json_pack("{s:i, s:[s], s:b}", "count", 4, "list", "c", "a:on", 0);
        char *out = NULL;

        assert_int_equal(settings_text_rewrite(old, strlen(old), changes, &out), 0);
        assert_string_equal(out, "# head\ncount = 4\n\nlist:_array_index:0 = \"c\"\n"
                                 "# count = 1\nname = \"n\"\na:on = no\n");
        free(out);
        json_decref(changes);
}

static char dir[] = "/tmp/test-settingsfile.XXXXXX";

static char *path_in(const char *name) {
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static void test_change_plan_write_and_make_live(void **state) {
        _cleanup_free_ char *cfg = NULL, *t = NULL, *text = NULL;
        struct module_error e = {0};
        struct t_config c;
        json_t *plan = NULL, *changes = json_pack("{s:i}", "count", 42);
        size_t len;

        assert_non_null(mkdtemp(dir));
        cfg = path_in("stewardd.conf");
        t = path_in("t.conf");
        assert_int_equal(settings_config_path_set(cfg), 0);
        settings_file_get(&t_file, &c, sizeof c); /* no file: the defaults */
        assert_int_equal(c.count, 7);
        assert_string_equal(settings_file_files(&t_file, NULL)[0], t);

        assert_int_equal(settings_file_apply(&t_file, changes, /* dry_run= */ true, &plan, &e), 0);
        assert_true(json_is_true(json_object_get(plan, "dry_run")));
        json_t *f0 = json_array_get(json_object_get(plan, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(f0, "path")), t);
        assert_string_equal(json_string_value(json_object_get(f0, "before_type")), "absent");
        assert_non_null(strstr(json_string_value(json_object_get(f0, "diff")), "+count = 42"));
        assert_false(json_is_true(json_object_get(plan, "restart_required")));
        assert_int_equal(access(t, F_OK), -1);
        json_decref(plan);

        hook_calls = 0;
        assert_int_equal(settings_file_apply(&t_file, changes, /* dry_run= */ false, &plan, &e), 0);
        assert_int_equal(read_file(t, 1 << 16, &text, &len), 0);
        assert_string_equal(text, "# t\ncount = 42\n");
        assert_int_equal(hook_calls, 1);
        assert_true(hook_helper);
        assert_int_equal(hook_count, 42);
        settings_file_get(&t_file, &c, sizeof c);
        assert_int_equal(c.count, 42);
        json_decref(plan);
        json_decref(changes);

        /* restart_required follows the rows */
        changes = json_pack("{s:I}", "a:big", (json_int_t)3);
        assert_int_equal(settings_file_apply(&t_file, changes, /* dry_run= */ true, &plan, &e), 0);
        assert_true(json_is_true(json_object_get(plan, "restart_required")));
        json_decref(plan);
        json_decref(changes);

        /* a hand edit that does not parse is never made live */
        assert_int_equal(write_file_atomic(t, "count = 1000\n", 13, 0644), 0);
        assert_int_equal(settings_file_make_live(&t_file, /* helper= */ false, &e), -EINVAL);
        assert_int_equal(e.status, 409);
        assert_string_equal(e.code, "invalid_config");
        assert_non_null(strstr(e.message, "not valid"));
        settings_file_get(&t_file, &c, sizeof c);
        assert_int_equal(c.count, 42);
        /* ... and a change on top of it is refused, the file untouched */
        changes = json_pack("{s:b}", "a:on", 0);
        assert_int_equal(settings_file_apply(&t_file, changes, /* dry_run= */ false, &plan, &e),
                         -EINVAL);
        assert_int_equal(e.status, 409);
        json_decref(changes);

        /* a good hand edit goes live in the front */
        assert_int_equal(write_file_atomic(t, "count = 5\n", 10, 0644), 0);
        assert_int_equal(settings_file_make_live(&t_file, /* helper= */ false, &e), 0);
        assert_false(hook_helper);
        assert_int_equal(hook_count, 5);

        unlink(t);
        rmdir(dir);
}

/* The registry's entry points reach a settings file (stewardd) or report
 * that a module has none (ports). */
static void test_registry_entry_points(void **state) {
        const module_t *d = module_find("stewardd"), *p = module_find("ports");
        struct module_error e = {0};
        struct steward_config c;
        unsigned small;
        json_t *tree = NULL;
        size_t n;

        assert_non_null(d);
        assert_non_null(p);
        assert_ptr_equal(module_settings_rows(d, &n), steward_config_file.rows);
        assert_int_equal(n, steward_config_file.n_rows);
        assert_non_null(module_find_setting(d, "users:home_roots"));
        assert_int_equal(module_settings_read(d, &tree, &e), 0);
        assert_int_equal(json_integer_value(json_tree_get(tree, "limits:max_connections")), 256);
        assert_string_equal(json_string_value(json_object_get(tree, "log_level")), "info");
        json_decref(tree);
        assert_int_equal(module_config_get(d, &c, sizeof c), 0);
        assert_string_equal(c.home_roots.name[0], "/home");
        assert_int_equal(module_settings_read(p, &tree, &e), -ENOENT);
        assert_int_equal(module_config_get(p, &small, sizeof small), -ENOENT);
        json_t *changes = json_object(), *plan = NULL;
        assert_int_equal(module_settings_apply(p, NULL, changes, false, &plan, &e), -EPERM);
        assert_null(plan);
        json_decref(changes);
        assert_string_equal(e.code, "read_only");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_table_agrees_with_its_struct),
                cmocka_unit_test(test_check_refuses_what_disagrees),
                cmocka_unit_test(test_defaults_and_parse),
                cmocka_unit_test(test_rewrite_keeps_the_rest_of_the_file),
                cmocka_unit_test(test_registry_entry_points),
                cmocka_unit_test(test_change_plan_write_and_make_live),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
