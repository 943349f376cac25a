/* test-jsonpull.c — the pull reader: the token sequence of a document,
 * skipping values, decoding strings (escapes, surrogate pairs, cuts at a
 * character boundary), integers and their range, and the grammar: every
 * malformed text of a list is refused, every valid one read to JP_EOF,
 * in agreement with jansson. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsonpull.h"
#include "util.h"

static int read_to_eof(const char *s) {
        struct jpull j;
        struct jpull_tok t;
        int r;

        jpull_init(&j, s, strlen(s));
        do {
                r = jpull_next(&j, &t);
                if (r < 0)
                        return r;
        } while (t.type != JP_EOF);
        return 0;
}

static void test_tokens(void **state) {
        static const char doc[] = " {\"a\": [1, \"x\", true, false, null, {}], \"b\\n\": -2.5e3 } ";
        static const enum jpull_type want[] = {JP_OBJECT, JP_KEY,   JP_ARRAY,  JP_NUMBER, JP_STRING,
                                               JP_TRUE,   JP_FALSE, JP_NULL,   JP_OBJECT, JP_END,
                                               JP_END,    JP_KEY,   JP_NUMBER, JP_END,    JP_EOF};
        struct jpull j;
        struct jpull_tok t;
        char buf[16];

        jpull_init(&j, doc, strlen(doc));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(jpull_next(&j, &t), 0);
                assert_int_equal(t.type, want[i]);
                if (i == 1)
                        assert_true(jpull_is(&t, "a"));
                if (i == 11) {
                        assert_false(jpull_is(&t, "b"));
                        assert_int_equal(jpull_string(&t, buf, sizeof buf), 2);
                        assert_string_equal(buf, "b\n");
                }
                if (i == 12)
                        assert_int_equal(jpull_int(&t, &(long long){0}), -EINVAL);
        }
        assert_int_equal(jpull_next(&j, &t), 0); /* EOF again */
        assert_int_equal(t.type, JP_EOF);

        /* A scalar at the top. */
        assert_int_equal(read_to_eof(" 42 "), 0);
        assert_int_equal(read_to_eof("\"s\""), 0);
}

static void test_skip(void **state) {
        static const char doc[] = "{\"skip\": {\"x\": [1, [2, {\"y\": 3}]]}, \"keep\": 7}";
        struct jpull j;
        struct jpull_tok t;
        long long v = 0;

        jpull_init(&j, doc, strlen(doc));
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_true(jpull_is(&t, "skip"));
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_int_equal(t.type, JP_OBJECT);
        assert_int_equal(jpull_skip(&j, &t), 0);
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_true(jpull_is(&t, "keep"));
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_int_equal(jpull_skip(&j, &t), 0); /* a scalar: nothing to skip */
        assert_int_equal(jpull_int(&t, &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_int_equal(t.type, JP_END);
        assert_int_equal(jpull_next(&j, &t), 0);
        assert_int_equal(t.type, JP_EOF);
}

static void test_strings(void **state) {
        struct jpull_tok t = {.type = JP_STRING};
        char buf[64], small[4];

#define DECODE(raw, out)                                                                           \
        do {                                                                                       \
                t.s = raw;                                                                         \
                t.n = strlen(raw);                                                                 \
                assert_int_equal(jpull_string(&t, buf, sizeof buf), (int)strlen(out));             \
                assert_string_equal(buf, out);                                                     \
        } while (0)
        DECODE("plain", "plain");
        DECODE("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t");
        DECODE("caf\\u00e9 \\u2603", "caf\xc3\xa9 \xe2\x98\x83");
        DECODE("\\ud83d\\ude00", "\xf0\x9f\x98\x80");
        DECODE("\\ud800x", "\xef\xbf\xbdx"); /* a lone surrogate */
        DECODE("a\\u0000b", "a\xef\xbf\xbd" "b");
        DECODE("\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
#undef DECODE
        /* Cut at a character boundary, the full length returned. */
        t.s = "\xc3\xa9\xc3\xa9";
        t.n = 4;
        assert_int_equal(jpull_string(&t, small, sizeof small), 4);
        assert_string_equal(small, "\xc3\xa9");
        t.s = "\\q";
        t.n = 2;
        assert_int_equal(jpull_string(&t, buf, sizeof buf), -EINVAL);
        t.type = JP_NUMBER;
        assert_int_equal(jpull_string(&t, buf, sizeof buf), -EINVAL);
}

static void test_ints(void **state) {
        struct jpull_tok t = {.type = JP_NUMBER};
        long long v;

        t.s = "9223372036854775807";
        t.n = strlen(t.s);
        assert_int_equal(jpull_int(&t, &v), 0);
        assert_true(v == INT64_MAX);
        t.s = "-9223372036854775808";
        t.n = strlen(t.s);
        assert_int_equal(jpull_int(&t, &v), 0);
        assert_true(v == INT64_MIN);
        t.s = "9223372036854775808";
        t.n = strlen(t.s);
        assert_int_equal(jpull_int(&t, &v), -ERANGE);
        t.s = "1.0";
        t.n = 3;
        assert_int_equal(jpull_int(&t, &v), -EINVAL);
}

static void test_grammar(void **state) {
        static const char *const good[] = {
                "{}", "[]", "[[]]", "{\"a\":{}}", "[1,2]", "0", "-0", "0.5", "1e5", "1E+5",
                "1e-5", "\"\\u0041\"", "[\"\xc3\xa9\"]", " \t\r\n[ 1 , 2 ] \n", "{\"a\":1,\"a\":2}",
        };
        static const char *const bad[] = {
                "", " ", "{", "}", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
                "{,}", "{1:2}", "{\"a\" 1}", "[1 2]", "01", "1.", ".5", "-", "1e", "+1", "tru",
                "nul", "True", "\"abc", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\xff\"",
                "\"\xc3\"", "[1]]", "{} {}", "[1] x", "\"a\" \"b\"", "[\"a\":1]", "{\"a\":1 \"b\":2}",
        };
        char deep[2 * JPULL_MAX_DEPTH + 8];

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                json_t *v = json_loads(good[i], JSON_DECODE_ANY, NULL);
                assert_non_null(v);
                json_decref(v);
                if (read_to_eof(good[i]) != 0)
                        fail_msg("refused valid JSON: %s", good[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_null(json_loads(bad[i], JSON_DECODE_ANY, NULL));
                if (read_to_eof(bad[i]) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
        }
        /* An embedded NUL ends nothing: the view's length counts. */
        {
                struct jpull j;
                struct jpull_tok t;
                jpull_init(&j, "[1]\0", 4);
                assert_int_equal(jpull_next(&j, &t), 0);
                assert_int_equal(jpull_next(&j, &t), 0);
                assert_int_equal(jpull_next(&j, &t), 0);
                assert_int_equal(jpull_next(&j, &t), -EBADMSG);
                assert_int_equal(jpull_next(&j, &t), -EBADMSG); /* sticky */
        }
        /* The depth limit. */
        memset(deep, '[', JPULL_MAX_DEPTH);
        memset(deep + JPULL_MAX_DEPTH, ']', JPULL_MAX_DEPTH);
        deep[2 * JPULL_MAX_DEPTH] = '\0';
        assert_int_equal(read_to_eof(deep), 0);
        memset(deep, '[', JPULL_MAX_DEPTH + 1);
        memset(deep + JPULL_MAX_DEPTH + 1, ']', JPULL_MAX_DEPTH + 1);
        deep[2 * JPULL_MAX_DEPTH + 2] = '\0';
        assert_int_equal(read_to_eof(deep), -E2BIG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tokens),  cmocka_unit_test(test_skip),
                cmocka_unit_test(test_strings), cmocka_unit_test(test_ints),
                cmocka_unit_test(test_grammar),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
