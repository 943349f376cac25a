/* test-kv.c — the settings grammar (kv.h): what parses to what, what prints
 * as what, that printing and parsing are inverse, and that every malformed
 * form is rejected with the line, the column and the reason.
 *
 * The rejection cases are one table: adding a case is one line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv.h"
#include "util.h"

static json_t *json(const char *s) {
        json_error_t err;
        json_t *v = json_loads(s, JSON_DECODE_ANY, &err);

        if (!v)
                fail_msg("bad test JSON: %s: %s", err.text, s);
        return v;
}

static json_t *parse_ok(const char *text) {
        struct kv_error e = {};
        json_t *tree = NULL;
        int r = kv_parse(text, strlen(text), &tree, &e);

        if (r < 0)
                fail_msg("kv_parse failed: line %u, column %u: %s\n%s", e.line, e.column, e.message,
                         text);
        return tree;
}

static void assert_tree(json_t *got, const char *want_json) {
        json_t *want = json(want_json);

        if (!json_equal(got, want)) {
                char *g = json_dumps(got, JSON_ENCODE_ANY), *w = json_dumps(want, JSON_ENCODE_ANY);

                fail_msg("trees differ:\n got: %s\nwant: %s", g, w);
        }
        json_decref(want);
}

static void assert_format(const char *prefix, const char *tree_json, const char *want) {
        json_t *tree = json(tree_json);
        char *text = NULL;

        assert_int_equal(kv_format(prefix, tree, &text), 0);
        assert_string_equal(text, want);
        free(text);
        json_decref(tree);
}

static void test_parse_basic(void **state) {
        json_t *t = parse_ok("stewardd:limits:max_connections = 256\n"
                             "stewardd:log_level = \"info\"\n"
                             "system:dns:_array_index:0 = \"10.0.0.1\"\n"
                             "system:dns:_array_index:1 = \"10.0.0.2\"\n"
                             "stewardd:feature = yes\n"
                             "stewardd:off = no\n"
                             "stewardd:list = _empty_array\n"
                             "stewardd:dict = _empty_dictionary\n"
                             "stewardd:none = _null\n"
                             "stewardd:ratio = 0.5\n"
                             "stewardd:neg = -12\n");

        assert_tree(t, "{\"stewardd\": {\"limits\": {\"max_connections\": 256},"
                       " \"log_level\": \"info\", \"feature\": true, \"off\": false, \"list\": [],"
                       " \"dict\": {}, \"none\": null, \"ratio\": 0.5, \"neg\": -12},"
                       " \"system\": {\"dns\": [\"10.0.0.1\", \"10.0.0.2\"]}}");
        json_decref(t);
}

static void test_parse_layout(void **state) {
        json_t *t;

        /* Comments, blank lines, spaces and tabs around tokens, CRLF, no final newline. */
        t = parse_ok("# a comment\n"
                     "\n"
                     "   \t\n"
                     "  # indented comment\n"
                     "\ta:b=1\r\n"
                     "a:c\t =\t \"x y\"   \n"
                     "a:d = \"#not a comment\"");
        assert_tree(t, "{\"a\": {\"b\": 1, \"c\": \"x y\", \"d\": \"#not a comment\"}}");
        json_decref(t);

        t = parse_ok("");
        assert_tree(t, "{}");
        json_decref(t);

        /* Component characters; "0" is a valid dictionary key. */
        t = parse_ok("A-z_9.x:0:_x = 1\n");
        assert_tree(t, "{\"A-z_9.x\": {\"0\": {\"_x\": 1}}}");
        json_decref(t);
}

static void test_parse_arrays(void **state) {
        json_t *t = parse_ok("u:_array_index:0:name = \"ann\"\n"
                             "u:_array_index:0:groups:_array_index:0 = \"adm\"\n"
                             "u:_array_index:0:groups:_array_index:1 = \"wheel\"\n"
                             "u:_array_index:1:name = \"bob\"\n"
                             "u:_array_index:0:uid = 1000\n"
                             "m:_array_index:0:_array_index:0 = 1\n"
                             "m:_array_index:1 = _empty_array\n");

        assert_tree(t,
                    "{\"u\": [{\"name\": \"ann\", \"groups\": [\"adm\", \"wheel\"], \"uid\": 1000},"
                    " {\"name\": \"bob\"}], \"m\": [[1], []]}");
        json_decref(t);
}

static void test_parse_strings(void **state) {
        json_t *t = parse_ok("a = \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"\n"
                             "b = \"\\u00e9\\u00E9 \\u2713 \\ud83d\\ude00\"\n"
                             "c = \"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"\n"
                             "d = \"\"\n"
                             "e = \"\\u0001\\u007f\"\n");

        assert_tree(t, "{\"a\": \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t\","
                       " \"b\": \"\\u00e9\\u00e9 \\u2713 \\ud83d\\ude00\","
                       " \"c\": \"h\\u00e9llo \\u2713 \\ud83d\\ude00\", \"d\": \"\","
                       " \"e\": \"\\u0001\\u007f\"}");
        json_decref(t);
}

static void test_parse_numbers(void **state) {
        json_t *t = parse_ok("max = 9223372036854775807\n"
                             "min = -9223372036854775808\n"
                             "zero = 0\n"
                             "negzero = -0\n"
                             "r1 = 1.5\n"
                             "r2 = -0.25\n"
                             "r3 = 1e3\n"
                             "r4 = 2.5E-3\n"
                             "r5 = 1.0\n"
                             "r6 = 1e-400\n");

        assert_true(json_is_integer(json_object_get(t, "max")));
        assert_true(json_integer_value(json_object_get(t, "max")) == INT64_MAX);
        assert_true(json_integer_value(json_object_get(t, "min")) == INT64_MIN);
        assert_true(json_is_integer(json_object_get(t, "zero")));
        assert_true(json_is_integer(json_object_get(t, "negzero")));
        assert_true(json_is_real(json_object_get(t, "r1")));
        assert_true(json_real_value(json_object_get(t, "r1")) == 1.5);
        assert_true(json_real_value(json_object_get(t, "r2")) == -0.25);
        assert_true(json_real_value(json_object_get(t, "r3")) == 1000.0);
        assert_true(json_real_value(json_object_get(t, "r4")) == 0.0025);
        assert_true(json_is_real(json_object_get(t, "r5")));
        assert_true(json_is_real(json_object_get(t, "r6")));
        json_decref(t);
}

static void test_parse_value(void **state) {
        struct kv_error e = {};
        json_t *v = NULL;

        assert_int_equal(kv_parse_value("42", 2, &v, &e), 0);
        assert_true(json_is_integer(v) && json_integer_value(v) == 42);
        json_decref(v);

        assert_int_equal(kv_parse_value("\"a b\"", 5, &v, &e), 0);
        assert_string_equal(json_string_value(v), "a b");
        json_decref(v);

        assert_int_equal(kv_parse_value("yes", 3, &v, &e), 0);
        assert_true(json_is_true(v));
        json_decref(v);

        /* Exactly n bytes: the rest of the buffer is not looked at. */
        assert_int_equal(kv_parse_value("nothing", 2, &v, &e), 0);
        assert_true(json_is_false(v));
        json_decref(v);

        v = NULL;
        assert_int_equal(kv_parse_value("debug", 5, &v, &e), -EINVAL);
        assert_null(v);
        assert_int_equal(e.line, 0);
        assert_int_equal(e.column, 1);
        assert_string_equal(e.message, "string values must be quoted (\"debug\")");

        assert_int_equal(kv_parse_value(" 1", 2, &v, &e), -EINVAL);
        assert_int_equal(kv_parse_value("", 0, &v, &e), -EINVAL);
        assert_int_equal(kv_parse_value("\"x\" ", 4, &v, &e), -EINVAL);
        assert_int_equal(e.column, 4);
        assert_null(v);
}

static void test_format_basic(void **state) {
        assert_format(
                "stewardd",
                "{\"log_level\": \"info\", \"limits\": {\"max_connections\": 256, \"ratio\": 0.75},"
                " \"feature\": true, \"off\": false, \"none\": null, \"list\": [], \"dict\": {},"
                " \"dns\": [\"10.0.0.1\", \"10.0.0.2\"]}",
                "stewardd:log_level = \"info\"\n"
                "stewardd:limits:max_connections = 256\n"
                "stewardd:limits:ratio = 0.75\n"
                "stewardd:feature = yes\n"
                "stewardd:off = no\n"
                "stewardd:none = _null\n"
                "stewardd:list = _empty_array\n"
                "stewardd:dict = _empty_dictionary\n"
                "stewardd:dns:_array_index:0 = \"10.0.0.1\"\n"
                "stewardd:dns:_array_index:1 = \"10.0.0.2\"\n");

        /* Keys print in the tree's order, not sorted. */
        assert_format(NULL, "{\"z\": 1, \"a\": 2, \"m\": {\"y\": 3, \"b\": 4}}",
                      "z = 1\na = 2\nm:y = 3\nm:b = 4\n");
        assert_format("", "{}", "");
        assert_format("m:name", "{}", "m:name = _empty_dictionary\n");
        assert_format("m", "5", "m = 5\n");
        assert_format("m:_array_index:3", "\"x\"", "m:_array_index:3 = \"x\"\n");
        assert_format(NULL, "{\"a\": [{\"b\": [1, []]}, [[2]]]}",
                      "a:_array_index:0:b:_array_index:0 = 1\n"
                      "a:_array_index:0:b:_array_index:1 = _empty_array\n"
                      "a:_array_index:1:_array_index:0:_array_index:0 = 2\n");
}

static void test_format_values(void **state) {
        assert_format(NULL, "{\"s\": \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f\"}",
                      "s = \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f\"\n");
        /* Non-ASCII is printed as is. */
        assert_format(NULL, "{\"s\": \"\\u00e9 \\u2713 \\ud83d\\ude00\"}",
                      "s = \"\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\"\n");
        assert_format(NULL, "{\"max\": 9223372036854775807, \"min\": -9223372036854775808}",
                      "max = 9223372036854775807\nmin = -9223372036854775808\n");
        /* Reals: shortest exact form, always recognisable as a real. */
        assert_format(
                NULL,
                "{\"a\": 1.0, \"b\": 0.1, \"c\": 1e300, \"d\": -0.0, \"e\": 100000.0, \"f\": 1e-7}",
                "a = 1.0\nb = 0.1\nc = 1e+300\nd = -0.0\ne = 100000.0\nf = 1e-07\n");

        char *s = NULL;
        json_t *v = json("\"x\\ny\"");
        assert_int_equal(kv_format_value(v, &s), 0);
        assert_string_equal(s, "\"x\\ny\"");
        free(s);
        json_decref(v);

        v = json("[]");
        assert_int_equal(kv_format_value(v, &s), 0);
        assert_string_equal(s, "_empty_array");
        free(s);
        json_decref(v);

        v = json("[1]");
        s = NULL;
        assert_int_equal(kv_format_value(v, &s), -EINVAL);
        assert_null(s);
        json_decref(v);
}

static void test_format_refuses(void **state) {
        static const char *const bad[] = {
                "{\"a b\": 1}",
                "{\"\": 1}",
                "{\".a\": 1}",
                "{\"a:b\": 1}",
                "{\"_array_index\": 1}",
                "{\"\\u00e9\": 1}",
                "{\"x\": {\"_array_index\": {\"0\": 1}}}",
                "[1, 2]",
                "\"scalar\"",
        };
        char *s = NULL;
        json_t *v;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = json(bad[i]);
                assert_int_equal(kv_format(NULL, v, &s), -EINVAL);
                assert_null(s);
                json_decref(v);
        }

        /* A string with a NUL byte cannot be read back. */
        v = json_pack("{s:s#}", "a", "x\0y", (int)3);
        assert_int_equal(kv_format(NULL, v, &s), -EINVAL);
        json_decref(v);

        /* Bad prefixes. */
        v = json("{\"a\": 1}");
        assert_int_equal(kv_format("a b", v, &s), -EINVAL);
        assert_int_equal(kv_format("a:", v, &s), -EINVAL);
        assert_int_equal(kv_format("_array_index", v, &s), -EINVAL);
        json_decref(v);

        /* Deeper than KV_MAX_DEPTH components. */
        v = json("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
                 "\"a\":"
                 "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\": 1}}}}}}}}}}}}}}}}}");
        assert_int_equal(kv_format(NULL, v, &s), -E2BIG);
        json_decref(v);
        v = json("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
                 "\"a\":"
                 "{\"a\":{\"a\":{\"a\":{\"a\": 1}}}}}}}}}}}}}}}}");
        assert_int_equal(kv_format(NULL, v, &s), 0);
        free(s);
        s = NULL;
        assert_int_equal(kv_format("p", v, &s), -E2BIG);
        json_decref(v);

        /* More elements than an index can address. */
        v = json_array();
        for (int i = 0; i <= KV_MAX_INDEX + 1; i++)
                json_array_append_new(v, json_integer(i));
        assert_int_equal(kv_format("a", v, &s), -E2BIG);
        json_decref(v);

        /* A line longer than kv_parse() accepts. */
        char *big = malloc(KV_MAX_LINE + 1);
        memset(big, 'x', KV_MAX_LINE);
        big[KV_MAX_LINE] = '\0';
        v = json_pack("{s:s}", "a", big);
        assert_int_equal(kv_format(NULL, v, &s), -E2BIG);
        json_decref(v);
        free(big);
        assert_null(s);
}

static void round_trip(json_t *tree) {
        char *text = NULL, *text2 = NULL;
        json_t *back = NULL;
        struct kv_error e = {};
        int r;

        assert_int_equal(kv_format(NULL, tree, &text), 0);
        r = kv_parse(text, strlen(text), &back, &e);
        if (r < 0)
                fail_msg("re-parse failed: line %u, column %u: %s\n%s", e.line, e.column, e.message,
                         text);
        if (!json_equal(tree, back))
                fail_msg("round trip changed the tree:\n%s", text);
        assert_int_equal(kv_format(NULL, back, &text2), 0);
        assert_string_equal(text, text2);
        free(text);
        free(text2);
        json_decref(back);
}

static void test_round_trip(void **state) {
        static const char *const trees[] = {
                "{}",
                "{\"stewardd\": {\"log_level\": \"info\", \"limits\": {\"max_connections\": 256,"
                " \"ratio\": 0.75}, \"feature\": true, \"off\": false, \"nothing\": null, "
                "\"list\": [],"
                " \"dict\": {}}}",
                "{\"users\": [{\"name\": \"ann\", \"groups\": [\"x\", \"y\"], \"meta\": {}},"
                " {\"name\": \"bob\", \"uid\": 1001, \"keys\": []}, {}, []]}",
                "{\"matrix\": [[1, 2], [], [[3, [4, [5]]]], [{\"a\": [{\"b\": {\"c\": "
                "[null]}}]}]]}",
                "{\"u\": \"h\\u00e9llo w\\u00f6rld \\u2713 \\ud83d\\ude00 \\u2028\\u2029 "
                "\\ufeff\"}",
                "{\"e\": \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001 \\u001f \\u007f \\\\u0041\"}",
                "{\"big\": 9223372036854775807, \"small\": -9223372036854775808, \"zero\": 0, "
                "\"m1\": -1}",
                "{\"r\": [0.1, 1e300, -0.0, 5.0, 1e-7, 123456789.123456789, 2.5e-308, 4.9e-324,"
                " 1.7976931348623157e308, -2.2250738585072014e-308, 0.30000000000000004, 1e16, "
                "1e22]}",
                "{\"A-z_9.x\": {\"0\": {\"_x\": {\"-\": \"\"}}}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(trees); i++) {
                json_t *t = json(trees[i]);

                round_trip(t);
                json_decref(t);
        }

        /* The biggest array, and a long string, within the limits. */
        json_t *t = json_object(), *a = json_array();
        char *s = malloc(8001);
        memset(s, 'y', 8000);
        s[8000] = '\0';
        for (int i = 0; i <= KV_MAX_INDEX; i++)
                json_array_append_new(a, json_integer(i * 1000003LL));
        json_object_set_new(t, "a", a);
        round_trip(t);
        json_decref(t);
        t = json_object();
        json_object_set_new(t, "s", json_string(s));
        free(s);
        round_trip(t);
        json_decref(t);
}

struct bad_case {
        const char *text;
        int error;
        unsigned line, column;
        const char *message; /* a substring of the message */
};

static const struct bad_case bad_cases[] = {
        /* Structure of a line. */
        {"a:b 5\n", -EINVAL, 1, 5, "expected '=' after the key"},
        {"a:b\n", -EINVAL, 1, 4, "missing '=' after the key"},
        {"x = 1\na:b", -EINVAL, 2, 4, "missing '='"},
        {"= 5\n", -EINVAL, 1, 1, "empty key"},
        {"   = 5\n", -EINVAL, 1, 4, "empty key"},
        {"a =\n", -EINVAL, 1, 4, "missing value after '='"},
        {"a =   \n", -EINVAL, 1, 7, "missing value after '='"},
        /* Key components. */
        {"a::b = 1\n", -EINVAL, 1, 3, "empty key component"},
        {"a: = 1\n", -EINVAL, 1, 3, "empty key component"},
        {":a = 1\n", -EINVAL, 1, 1, "empty key component"},
        {"a$b = 1\n", -EINVAL, 1, 2, "invalid character '$' in key"},
        {"a/b = 1\n", -EINVAL, 1, 2, "invalid character '/' in key"},
        {"a.b:\xc3\xa9 = 1\n", -EINVAL, 1, 5, "invalid byte 0xc3 in key"},
        {"a b = 1\n", -EINVAL, 1, 3, "expected '=' after the key"},
        {"a:.b = 1\n", -EINVAL, 1, 3, "must not start with '.'"},
        {"a:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = 1\n", -EINVAL, 1, 3,
         "longer than 64 bytes"},
        {"a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a = 1\n", -EINVAL, 1, 33, "more than 16 components"},
        {"a:_array_index:0:a:a:a:a:a:a:a:a:a:a:a:a:a:a = 1\n", -EINVAL, 1, 44, "more than 16"},
        /* Array indices. */
        {"a:_array_index:1 = 1\n", -EINVAL, 1, 16, "array index 1 skips index 0"},
        {"a:_array_index:0 = 1\na:_array_index:2 = 2\n", -EINVAL, 2, 16, "skips index 1"},
        {"a:_array_index:0 = 1\na:_array_index:0 = 2\n", -EINVAL, 2, 1,
         "\"a:_array_index:0\" is assigned twice"},
        {"a:_array_index:0:x = 1\na:_array_index:0:x = 2\n", -EINVAL, 2, 1, "assigned twice"},
        {"a:_array_index:01 = 1\n", -EINVAL, 1, 16, "leading zero"},
        {"a:_array_index:00 = 1\n", -EINVAL, 1, 16, "leading zero"},
        {"a:_array_index:10000 = 1\n", -EINVAL, 1, 16, "array index above 9999"},
        {"a:_array_index:99999999999999999999999 = 1\n", -EINVAL, 1, 16, "above 9999"},
        {"a:_array_index:x = 1\n", -EINVAL, 1, 16, "must be a decimal number"},
        {"a:_array_index:-1 = 1\n", -EINVAL, 1, 16, "must be a decimal number"},
        {"a:_array_index = 1\n", -EINVAL, 1, 15, "_array_index must be followed by an index"},
        {"a:_array_index:_array_index:0 = 1\n", -EINVAL, 1, 16, "must be a decimal number"},
        {"_array_index:0 = 1\n", -EINVAL, 1, 1, "cannot start with _array_index"},
        /* Duplicates and leaf-versus-parent conflicts. */
        {"a:b = 1\na:b = 2\n", -EINVAL, 2, 1, "\"a:b\" is assigned twice"},
        {"a:b = 1\n  a:b = \"x\"\n", -EINVAL, 2, 3, "assigned twice"},
        {"a = _empty_array\na = _empty_array\n", -EINVAL, 2, 1, "assigned twice"},
        {"a = 1\na:b = 2\n", -EINVAL, 2, 3,
         "\"a\" already has a value, it cannot also have sub-keys"},
        {"a = _empty_dictionary\na:b = 1\n", -EINVAL, 2, 3, "already has a value"},
        {"a = _empty_array\na:_array_index:0 = 1\n", -EINVAL, 2, 3, "already has a value"},
        {"a:b = 1\na = 2\n", -EINVAL, 2, 1,
         "\"a\" already has sub-keys, it cannot also have a value"},
        {"a:b:c = 1\na:b = _empty_dictionary\n", -EINVAL, 2, 1, "\"a:b\" already has sub-keys"},
        {"a:b = 1\na:_array_index:0 = 1\n", -EINVAL, 2, 3, "\"a\" is a dictionary, not an array"},
        {"a:_array_index:0 = 1\na:b = 2\n", -EINVAL, 2, 3, "\"a\" is an array"},
        /* Strings. */
        {"a = \"abc\n", -EINVAL, 1, 5, "unterminated string"},
        {"a = \"abc\\\"\n", -EINVAL, 1, 5, "unterminated string"},
        {"a = \"abc\\\n", -EINVAL, 1, 5, "unterminated string"},
        {"a = \"\n", -EINVAL, 1, 5, "unterminated string"},
        {"a = \"x\\qy\"\n", -EINVAL, 1, 7, "invalid escape '\\q'"},
        {"a = \"x\\'\"\n", -EINVAL, 1, 7, "invalid escape"},
        {"a = \"\\u12G4\"\n", -EINVAL, 1, 6, "invalid \\u escape (4 hex digits expected)"},
        {"a = \"\\u12\"\n", -EINVAL, 1, 6, "4 hex digits expected"},
        {"a = \"\\ud800\"\n", -EINVAL, 1, 6, "unpaired high surrogate"},
        {"a = \"\\ud800\\u0041\"\n", -EINVAL, 1, 6, "unpaired high surrogate"},
        {"a = \"\\ud800\\uzzzz\"\n", -EINVAL, 1, 12, "4 hex digits expected"},
        {"a = \"\\udc00\"\n", -EINVAL, 1, 6, "unpaired low surrogate"},
        {"a = \"\\u0000\"\n", -EINVAL, 1, 6, "\\u0000 is not allowed"},
        {"a = \"x\ty\"\n", -EINVAL, 1, 7, "raw control character 0x09"},
        {"a = \"x\x01\"\n", -EINVAL, 1, 7, "raw control character 0x01"},
        {"a = \"x\x7f\"\n", -EINVAL, 1, 7, "raw control character 0x7f"},
        {"a = \"x\ry\"\n", -EINVAL, 1, 7, "raw control character 0x0d"},
        {"a = \"\xc3\x28\"\n", -EINVAL, 1, 6, "invalid UTF-8"},
        {"a = \"\xc0\xaf\"\n", -EINVAL, 1, 6, "invalid UTF-8"},
        {"a = \"\xed\xa0\x80\"\n", -EINVAL, 1, 6, "invalid UTF-8"},
        {"a = \"ok\xe2\x82\"\n", -EINVAL, 1, 8, "invalid UTF-8"},
        {"a = \"\xf4\x90\x80\x80\"\n", -EINVAL, 1, 6, "invalid UTF-8"},
        {"a = \"\xff\"\n", -EINVAL, 1, 6, "invalid UTF-8"},
        {"a = \"x\" y\n", -EINVAL, 1, 9, "unexpected text after the string"},
        {"a = \"x\"\"y\"\n", -EINVAL, 1, 8, "unexpected text after the string"},
        /* Unquoted words. */
        {"x = 1\ny = 2\nsys:log_levels = debug\n", -EINVAL, 3, 18,
         "string values must be quoted (\"debug\")"},
        {"a = hello world\n", -EINVAL, 1, 5, "string values must be quoted (\"hello world\")"},
        {"a = true\n", -EINVAL, 1, 5, "booleans are written yes or no"},
        {"a = Yes\n", -EINVAL, 1, 5, "must be quoted"},
        {"a = _empty\n", -EINVAL, 1, 5, "must be quoted"},
        {"a = 'x'\n", -EINVAL, 1, 5, "must be quoted"},
        /* Numbers. */
        {"a = 9223372036854775808\n", -EINVAL, 1, 5, "integer out of range"},
        {"a = -9223372036854775809\n", -EINVAL, 1, 5, "integer out of range"},
        {"a = 99999999999999999999999999\n", -EINVAL, 1, 5, "integer out of range"},
        {"a = 1e999\n", -EINVAL, 1, 5, "number out of range"},
        {"a = 1.2.3\n", -EINVAL, 1, 5, "\"1.2.3\" is not a number"},
        {"a = 01\n", -EINVAL, 1, 5, "is not a number"},
        {"a = 1.\n", -EINVAL, 1, 5, "is not a number"},
        {"a = .5\n", -EINVAL, 1, 5, "must be quoted"},
        {"a = 1e\n", -EINVAL, 1, 5, "is not a number"},
        {"a = -\n", -EINVAL, 1, 5, "is not a number"},
        {"a = 0x10\n", -EINVAL, 1, 5, "is not a number"},
        {"a = +1\n", -EINVAL, 1, 5, "must be quoted"},
        {"a = 12 34\n", -EINVAL, 1, 5, "is not a number"},
};

static void test_rejects(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                struct kv_error e = {};
                json_t *t = NULL;
                int r = kv_parse(c->text, strlen(c->text), &t, &e);

                if (r != c->error || e.line != c->line || e.column != c->column ||
                    !strstr(e.message, c->message))
                        fail_msg("case %zu: %s\n  got r=%d line %u, column %u: %s\n want r=%d line "
                                 "%u, column %u: %s",
                                 i, c->text, r, e.line, e.column, e.message, c->error, c->line,
                                 c->column, c->message);
                assert_null(t);
        }
}

static void test_limits(void **state) {
        struct kv_error e = {};
        json_t *t = NULL;
        size_t n;
        char *text;

        /* A line of exactly KV_MAX_LINE bytes is fine; one more is not. */
        text = malloc(KV_MAX_LINE + 2);
        memcpy(text, "a = \"", 5);
        memset(text + 5, 'x', KV_MAX_LINE - 6);
        text[KV_MAX_LINE - 1] = '"';
        text[KV_MAX_LINE] = '\n';
        assert_int_equal(kv_parse(text, KV_MAX_LINE + 1, &t, &e), 0);
        json_decref(t);
        t = NULL;
        text[KV_MAX_LINE] = '"';
        text[KV_MAX_LINE - 1] = 'x';
        text[KV_MAX_LINE + 1] = '\n';
        assert_int_equal(kv_parse(text, KV_MAX_LINE + 2, &t, &e), -E2BIG);
        assert_int_equal(e.line, 1);
        assert_int_equal(e.column, KV_MAX_LINE + 1);
        assert_non_null(strstr(e.message, "line longer than 16384 bytes"));
        assert_null(t);
        free(text);

        /* KV_MAX_LINES lines are fine; one more is not, even a comment. */
        n = (size_t)(KV_MAX_LINES + 1) * 4;
        text = malloc(n + 1);
        for (size_t i = 0; i < KV_MAX_LINES + 1; i++)
                memcpy(text + 4 * i, "# x\n", 4);
        assert_int_equal(kv_parse(text, n - 4, &t, &e), 0);
        json_decref(t);
        t = NULL;
        assert_int_equal(kv_parse(text, n, &t, &e), -E2BIG);
        assert_int_equal(e.line, KV_MAX_LINES + 1);
        assert_non_null(strstr(e.message, "more than 10000 lines"));
        assert_null(t);
        /* A final newline does not start another line. */
        memcpy(text + n - 4, "a=1\n", 4);
        assert_int_equal(kv_parse(text + 4, n - 4, &t, &e), 0);
        json_decref(t);
        free(text);

        /* The deepest path and the biggest index are accepted. */
        t = parse_ok("a:a:a:a:a:a:a:a:a:a:a:a:a:a:a:a = 1\n");
        json_decref(t);

        /* NUL bytes are not text. */
        t = NULL;
        assert_int_equal(kv_parse("a = \"x\0\"\n", 9, &t, &e), -EINVAL);
        assert_int_equal(e.column, 7);
        assert_int_equal(kv_parse("a\0 = 1\n", 7, &t, &e), -EINVAL);
        assert_int_equal(e.column, 2);
        assert_null(t);

        assert_int_equal(kv_parse(NULL, 1, &t, &e), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_basic),    cmocka_unit_test(test_parse_layout),
                cmocka_unit_test(test_parse_arrays),   cmocka_unit_test(test_parse_strings),
                cmocka_unit_test(test_parse_numbers),  cmocka_unit_test(test_parse_value),
                cmocka_unit_test(test_format_basic),   cmocka_unit_test(test_format_values),
                cmocka_unit_test(test_format_refuses), cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_rejects),        cmocka_unit_test(test_limits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
