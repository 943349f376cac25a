/* test-cookie.c — the session cookie is found by its exact name only, in
 * any position and spacing, and every copy of it is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cookie.h"

static void expect(const char *header, size_t want_count, const char *want_value) {
        const char *v = NULL;
        size_t len = 0, n = cookie_find(header, SESSION_COOKIE, &v, &len);

        assert_int_equal(n, want_count);
        if (want_value) {
                assert_int_equal(len, strlen(want_value));
                assert_memory_equal(v, want_value, len);
        }
}

static void test_found(void **state) {
        expect("__Host-steward_session=stw_1", 1, "stw_1");
        expect("a=1; __Host-steward_session=stw_2; b=2", 1, "stw_2");
        expect("a=1;__Host-steward_session=stw_3 ;b=2", 1, "stw_3");
        expect("  __Host-steward_session=", 1, "");
        expect("__Host-steward_session=x=y", 1, "x=y");
}

static void test_other_names_ignored(void **state) {
        expect(NULL, 0, NULL);
        expect("", 0, NULL);
        expect("steward_session=stw_1", 0, NULL);
        expect("__host-steward_session=stw_1", 0, NULL);
        expect("__Host-steward_session2=stw_1", 0, NULL);
        expect("x__Host-steward_session=stw_1", 0, NULL);
        expect("__Host-steward_session", 0, NULL); /* no value at all */
        expect("a=__Host-steward_session=stw_1", 0, NULL);
}

static void test_duplicates_counted(void **state) {
        expect("__Host-steward_session=one; __Host-steward_session=two", 2, "one");
        expect("__Host-steward_session=one;;; a=b; __Host-steward_session=one", 2, "one");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_found),
                cmocka_unit_test(test_other_names_ignored),
                cmocka_unit_test(test_duplicates_counted),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
