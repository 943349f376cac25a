/* test-cryptmemo.c — the helper's crypt_r (src/helper/cryptmemo.c): the
 * same result as libcrypt's crypt_rn whether computed or kept; a repeated
 * call is answered from the memo only between begin and end and only for
 * the same phrase and setting, byte for byte; a wrong phrase is always
 * computed (never answered with a right one's result); end forgets. */
#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helper/cryptmemo.h"

/* The hash libcrypt itself makes of phrase with a fresh salt of method. */
static void make_hash(const char *method, const char *phrase, char *hash) {
        struct crypt_data d = {0};
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];

        assert_non_null(crypt_gensalt_rn(method, 0, NULL, 0, salt, sizeof salt));
        assert_non_null(crypt_rn(phrase, salt, &d, (int)sizeof d));
        memcpy(hash, d.output, sizeof d.output);
}

static const char *check(const char *phrase, const char *hash, struct crypt_data *d) {
        memset(d, 0, sizeof *d);
        return crypt_r(phrase, hash, d);
}

static void test_memo(const char *method) {
        char hash[CRYPT_OUTPUT_SIZE], other[CRYPT_OUTPUT_SIZE];
        struct crypt_data d;
        unsigned long h0;

        make_hash(method, "right phrase", hash);
        make_hash(method, "right phrase", other); /* another salt */

        /* Outside a login: computed every time. */
        h0 = crypt_memo_hits();
        assert_string_equal(check("right phrase", hash, &d), hash);
        assert_string_equal(check("right phrase", hash, &d), hash);
        assert_int_equal(crypt_memo_hits(), h0);

        crypt_memo_begin();
        assert_string_equal(check("right phrase", hash, &d), hash);
        assert_string_equal(check("right phrase", hash, &d), hash); /* pam_unix's 2nd */
        assert_int_equal(crypt_memo_hits(), h0 + 1);
        /* A wrong phrase, a longer one, the same phrase on another salt:
         * computed, and wrong stays wrong. */
        assert_string_not_equal(check("wrong phrase", hash, &d), hash);
        assert_string_not_equal(check("right phrase!", hash, &d), hash);
        assert_string_not_equal(check("right phras", hash, &d), hash);
        assert_int_equal(crypt_memo_hits(), h0 + 1);
        assert_string_equal(check("right phrase", other, &d), other);
        assert_int_equal(crypt_memo_hits(), h0 + 1);
        /* The wrong phrase's result is kept now, never given to the right. */
        assert_string_not_equal(check("wrong phrase", hash, &d), hash);
        assert_int_equal(crypt_memo_hits(), h0 + 1);
        assert_string_not_equal(check("wrong phrase", hash, &d), hash);
        assert_int_equal(crypt_memo_hits(), h0 + 2);
        assert_string_equal(check("right phrase", hash, &d), hash);
        assert_int_equal(crypt_memo_hits(), h0 + 2);
        assert_int_equal(crypt_memo_end(), 7); /* the two answers from the memo excluded */

        /* After the login: forgotten. */
        assert_string_equal(check("right phrase", hash, &d), hash);
        assert_int_equal(crypt_memo_hits(), h0 + 2);
}

static void test_yescrypt(void **state) {
        test_memo("$y$");
}

static void test_sha512(void **state) {
        test_memo("$6$");
}

/* A locked account's "!…" or an unknown method: libcrypt's failure token,
 * kept or not. */
static void test_refused_setting(void **state) {
        struct crypt_data d;
        const char *r;

        crypt_memo_begin();
        r = check("phrase", "!$y$j9T$locked", &d);
        assert_true(r[0] == '*');
        r = check("phrase", "!$y$j9T$locked", &d);
        assert_true(r[0] == '*');
        memset(&d, 0, sizeof d);
        r = crypt_r(NULL, "$6$x$", &d);
        assert_string_equal(r, "*0");
        assert_null(crypt_r("phrase", "$6$x$", NULL));
        assert_int_equal(crypt_memo_end(), 0); /* nothing was hashed: auth.c equalizes */
        crypt_memo_begin();
        assert_int_equal(crypt_memo_end(), 0);
        crypt_memo_equalize("phrase");
        crypt_memo_equalize(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_yescrypt),
                cmocka_unit_test(test_sha512),
                cmocka_unit_test(test_refused_setting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
