/* test-mail-aliases.c — the parser of /etc/aliases and the grammars of the
 * collection mail_aliases (src/modules/mail/aliases.c): entries with their
 * byte spans (continuation lines, comments inside, quoted names and
 * targets), what is not editable (pipes, files, includes, a name written
 * twice), hostile input, and the name and target grammars. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "modules/mail/aliases.h"
#include "util.h"

static const char *target(const struct alias_entry *e, size_t i) {
        return json_string_value(json_array_get(e->targets, i));
}

static void test_parse(void **state) {
        const char *s = "# comment\n"
                        "postmaster:    root\n"
                        "\n"
                        "team: alice,\n"
                        "\tbob , \"carol@example.org\"\n"
                        "  # a comment inside\n"
                        "  dave\n"
                        "\"quoted: name\" : alice\n"
                        "pipe: \"|/usr/bin/x, y\", alice\n"
                        "file: /var/tmp/out\n"
                        "incl: :include:/etc/list\n"
                        "no colon here\n"
                        "dup: a\n"
                        "DUP: b\n"
                        "last: alice";
        size_t len, n;
        char *t = exact(s, &len);
        struct alias_file f;
        struct alias_entry *e;

        (void)state;
        assert_int_equal(aliases_parse(t, len, &f), 0);
        assert_int_equal(f.n, 9);
        e = aliases_find(&f, t, "POSTMASTER", &n);
        assert_non_null(e);
        assert_int_equal(n, 1);
        assert_true(e->editable);
        assert_string_equal(target(e, 0), "root");
        assert_int_equal(e->start, strlen("# comment\n"));
        assert_int_equal(e->end, e->start + strlen("postmaster:    root\n"));

        e = aliases_find(&f, t, "team", NULL);
        assert_int_equal(json_array_size(e->targets), 4);
        assert_string_equal(target(e, 1), "bob");
        assert_string_equal(target(e, 2), "\"carol@example.org\"");
        assert_string_equal(target(e, 3), "dave");
        assert_memory_equal(t + e->end - 7, "  dave\n", 7); /* the comment inside is in it */
        assert_int_equal(t[e->end], '"');
        assert_true(e->editable);

        e = aliases_find(&f, t, "quoted: name", NULL);
        assert_non_null(e);
        assert_string_equal(target(e, 0), "alice");
        assert_int_equal(t[e->colon], ':');

        e = aliases_find(&f, t, "pipe", NULL);
        assert_false(e->editable);
        assert_int_equal(json_array_size(e->targets), 2); /* the quoted comma does not split */
        assert_false(aliases_find(&f, t, "file", NULL)->editable);
        assert_false(aliases_find(&f, t, "incl", NULL)->editable);
        assert_null(aliases_find(&f, t, "no colon here", NULL));
        e = aliases_find(&f, t, "dup", &n);
        assert_int_equal(n, 2);
        assert_false(e->editable);
        e = aliases_find(&f, t, "last", NULL);
        assert_int_equal(e->end, len); /* no newline at the end */
        alias_file_done(&f);
        free(t);
}

static void test_parse_hostile(void **state) {
        const char *cases[] = {
                "",
                "\n\n\n",
                "\tcontinuation without entry\n",
                ":\n",
                "\"unterminated: x\n",
                "\"\": x\n",
                "a:\n",
                "a:,,,\n",
                "\"a\\\"b\": x\n",
                "x: \"\\",
                "x: \"unterminated, quote\n",
                "\xff\xfe: \xff\n",
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                size_t len;
                char *t = exact(cases[i], &len);
                struct alias_file f;
                assert_int_equal(aliases_parse(t, len, &f), 0);
                alias_file_done(&f);
                free(t);
        }
        /* Not UTF-8: listed, shown sanitised, not editable. */
        {
                size_t len;
                char *t = exact("ok: \xff\n", &len);
                struct alias_file f;
                assert_int_equal(aliases_parse(t, len, &f), 0);
                assert_int_equal(f.n, 1);
                assert_false(f.entries[0].editable);
                alias_file_done(&f);
                free(t);
        }
}

static void test_too_many(void **state) {
        struct buf b;
        struct alias_file f;
        char *t;

        (void)state;
        buf_init(&b, 1u << 20);
        for (int i = 0; i <= ALIASES_MAX; i++)
                assert_int_equal(buf_printf(&b, "a%d: x\n", i), 0);
        t = buf_steal(&b);
        assert_int_equal(aliases_parse(t, strlen(t), &f), -E2BIG);
        free(t);
}

static void test_grammars(void **state) {
        (void)state;
        assert_true(alias_name_valid("postmaster"));
        assert_true(alias_name_valid("Sales.Team+x-1"));
        assert_false(alias_name_valid(NULL));
        assert_false(alias_name_valid(""));
        assert_false(alias_name_valid("-x"));
        assert_false(alias_name_valid(".x"));
        assert_false(alias_name_valid("a b"));
        assert_false(alias_name_valid("a:b"));
        assert_false(alias_name_valid("a@b"));
        assert_false(alias_name_valid(
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

        assert_null(alias_target_problem("alice"));
        assert_null(alias_target_problem("bob@example.org"));
        assert_null(alias_target_problem("first.last+tag@mail.example.org"));
        assert_non_null(strstr(alias_target_problem("|/bin/sh"), "pipes"));
        assert_non_null(strstr(alias_target_problem("\"|/bin/sh\""), "pipes"));
        assert_non_null(strstr(alias_target_problem("/tmp/x"), "file"));
        assert_non_null(strstr(alias_target_problem(":include:/x"), "includes"));
        assert_non_null(strstr(alias_target_problem(":Include:/x"), "includes"));
        assert_non_null(alias_target_problem(""));
        assert_non_null(alias_target_problem("-alice"));
        assert_non_null(alias_target_problem("a b"));
        assert_non_null(alias_target_problem("a,b"));
        assert_non_null(alias_target_problem("a\nb"));
        assert_non_null(alias_target_problem("a@"));
        assert_non_null(alias_target_problem("a@b"));
        assert_non_null(alias_target_problem("@example.org"));
        assert_non_null(alias_target_problem("a@-x.org"));
        assert_non_null(alias_target_problem("a@b@example.org"));
        assert_non_null(alias_target_problem("\"quoted\"@example.org"));

        assert_true(alias_target_special("|x", 2));
        assert_true(alias_target_special("\"/x\"", 4));
        assert_false(alias_target_special("alice", 5));
        assert_false(alias_target_special("\"", 1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_hostile),
                cmocka_unit_test(test_too_many),
                cmocka_unit_test(test_grammars),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
