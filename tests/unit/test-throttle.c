/* test-throttle.c — login throttling: free attempts, the doubling back-off
 * and its cap, the block and its end, resets, key independence, the bounded
 * table and its eviction order, and times at the ends of int64 (run under
 * UBSan, so any signed overflow fails the test).
 *
 * The .c is included so the table's internals (entry count) can be checked. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helper/throttle.c"

static const struct throttle_config defaults = {
        .free_attempts = 3,
        .base_delay = 1,
        .max_delay = 60,
        .block_after = 10,
        .block_seconds = 900,
};

#define S(x) ((int64_t)(x)*1000)

static void fail_n(struct throttle *t, const char *key, const struct throttle_config *c, unsigned n,
                   int64_t now) {
        for (unsigned i = 0; i < n; i++)
                throttle_failure(t, key, c, now);
}

/* Asserts what check says at `now`: the result and, when refused, the wait. */
static void expect(struct throttle *t, const char *key, const struct throttle_config *c,
                   int64_t now, int want_r, int64_t want_retry) {
        int64_t retry = -12345;
        int r = throttle_check(t, key, c, now, &retry);

        assert_int_equal(r, want_r);
        if (want_r == 0)
                assert_true(retry == -12345); /* untouched on success */
        else
                assert_true(retry == want_retry);
}

static void test_new_args(void **state) {
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(0, &t), -EINVAL);
        assert_int_equal(throttle_new(MAX_ENTRIES_MAX + 1, &t), -EINVAL);
        assert_null(t);
        assert_int_equal(throttle_new(1, &t), 0);
        throttle_free(t);
        throttle_free(NULL);
}

static void test_free_attempts(void **state) {
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(16, &t), 0);
        expect(t, "ip:192.0.2.7", &defaults, 0, 0, 0);
        throttle_failure(t, "ip:192.0.2.7", &defaults, 0);
        expect(t, "ip:192.0.2.7", &defaults, 0, 0, 0);
        throttle_failure(t, "ip:192.0.2.7", &defaults, 0);
        expect(t, "ip:192.0.2.7", &defaults, 0, 0, 0);
        throttle_failure(t, "ip:192.0.2.7", &defaults, 0);
        /* Three failures were free; the fourth attempt waits base_delay. */
        expect(t, "ip:192.0.2.7", &defaults, 0, -EAGAIN, 1);
        expect(t, "ip:192.0.2.7", &defaults, 999, -EAGAIN, 1);
        expect(t, "ip:192.0.2.7", &defaults, 1000, 0, 0);
        throttle_free(t);
}

static void test_backoff_doubles_and_caps(void **state) {
        struct throttle_config c = defaults;
        const int64_t want[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
        struct throttle *t = NULL;
        int64_t now = S(100);

        c.block_after = 0; /* no block: watch the cap */
        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, "user:alice", &c, 2, now);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                int64_t d = S(want[i]);

                throttle_failure(t, "user:alice", &c, now);
                expect(t, "user:alice", &c, now, -EAGAIN, want[i]);
                expect(t, "user:alice", &c, now + d - 1001, -EAGAIN, i == 0 ? 1 : 2);
                expect(t, "user:alice", &c, now + d - 1, -EAGAIN, 1);
                expect(t, "user:alice", &c, now + d, 0, 0);
                now += d;
        }
        throttle_free(t);
}

static void test_block_and_lift(void **state) {
        struct throttle *t = NULL;
        int64_t now = S(5000);

        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, "ip:192.0.2.7", &defaults, 9, now);
        expect(t, "ip:192.0.2.7", &defaults, now, -EAGAIN, 60);
        throttle_failure(t, "ip:192.0.2.7", &defaults, now);
        expect(t, "ip:192.0.2.7", &defaults, now, -EACCES, 900);
        expect(t, "ip:192.0.2.7", &defaults, now + S(60), -EACCES, 840);
        expect(t, "ip:192.0.2.7", &defaults, now + S(900) - 500, -EACCES, 1);
        expect(t, "ip:192.0.2.7", &defaults, now + S(900), 0, 0);
        assert_int_equal(t->used, 0); /* forgotten */
        /* After the block the count starts again from zero. */
        throttle_failure(t, "ip:192.0.2.7", &defaults, now + S(900));
        expect(t, "ip:192.0.2.7", &defaults, now + S(900), 0, 0);
        throttle_free(t);
}

static void test_forgets_after_quiet(void **state) {
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, "user:bob", &defaults, 5, 0);
        expect(t, "user:bob", &defaults, S(899), 0, 0); /* delay (4 s) long past */
        throttle_failure(t, "user:bob", &defaults, S(899));
        expect(t, "user:bob", &defaults, S(899), -EAGAIN, 8); /* still counting: 6 */
        throttle_failure(t, "user:bob", &defaults, S(1799) + 1);
        /* 900 s quiet: the old count was dropped, this is failure 1. */
        expect(t, "user:bob", &defaults, S(1799) + 1, 0, 0);
        throttle_free(t);
}

static void test_success_resets(void **state) {
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, "user:alice", &defaults, 10, 0);
        expect(t, "user:alice", &defaults, 0, -EACCES, 900);
        throttle_success(t, "user:alice");
        expect(t, "user:alice", &defaults, 0, 0, 0);
        assert_int_equal(t->used, 0);
        throttle_success(t, "user:alice"); /* unknown key: nothing */
        throttle_success(t, "user:nobody");
        fail_n(t, "user:alice", &defaults, 3, 0);
        expect(t, "user:alice", &defaults, 0, -EAGAIN, 1);
        throttle_free(t);
}

static void test_keys_independent(void **state) {
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, "ip:192.0.2.7", &defaults, 10, 0);
        fail_n(t, "user:alice", &defaults, 4, 0);
        expect(t, "ip:192.0.2.7", &defaults, 0, -EACCES, 900);
        expect(t, "user:alice", &defaults, 0, -EAGAIN, 2);
        expect(t, "ip:192.0.2.8", &defaults, 0, 0, 0);
        expect(t, "user:alicf", &defaults, 0, 0, 0);
        expect(t, "user:alic", &defaults, 0, 0, 0);
        expect(t, "", &defaults, 0, 0, 0);
        throttle_success(t, "ip:192.0.2.7");
        expect(t, "user:alice", &defaults, 0, -EAGAIN, 2);
        throttle_free(t);
}

static void test_long_keys_share_prefix(void **state) {
        char a[512], b[512];
        struct throttle *t = NULL;

        memset(a, 'x', sizeof(a) - 1);
        a[sizeof(a) - 1] = '\0';
        memcpy(b, a, sizeof(b));
        b[300] = 'y'; /* differs only past the stored prefix */
        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, a, &defaults, 3, 0);
        expect(t, b, &defaults, 0, -EAGAIN, 1);
        b[10] = 'y';
        expect(t, b, &defaults, 0, 0, 0);
        throttle_free(t);
}

static void test_table_full_evicts_oldest(void **state) {
        char key[32];
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(4, &t), 0);
        for (int i = 0; i < 4; i++) {
                snprintf(key, sizeof(key), "ip:k%d", i);
                fail_n(t, key, &defaults, 3, i);
        }
        assert_int_equal(t->used, 4);
        /* k0 failed again last: now k1 holds the oldest last failure. */
        throttle_failure(t, "ip:k0", &defaults, 10);
        throttle_failure(t, "ip:new1", &defaults, 11);
        assert_int_equal(t->used, 4);
        expect(t, "ip:k1", &defaults, 11, 0, 0); /* evicted */
        expect(t, "ip:k0", &defaults, 11, -EAGAIN, 2);
        expect(t, "ip:k2", &defaults, 11, -EAGAIN, 1);
        expect(t, "ip:k3", &defaults, 11, -EAGAIN, 1);
        throttle_failure(t, "ip:new2", &defaults, 12);
        expect(t, "ip:k2", &defaults, 12, 0, 0);
        expect(t, "ip:k3", &defaults, 12, -EAGAIN, 1);

        /* Failures reported with an earlier time are ordered by that time,
         * not by arrival: "late" arrives last but is the next victim. */
        fail_n(t, "ip:late", &defaults, 3, 0); /* evicts k3 */
        expect(t, "ip:k3", &defaults, 12, 0, 0);
        expect(t, "ip:late", &defaults, 12, -EAGAIN, 1);
        throttle_failure(t, "ip:new3", &defaults, 13);
        assert_int_equal(t->used, 4);
        expect(t, "ip:late", &defaults, 13, 0, 0);
        expect(t, "ip:k0", &defaults, 13, -EAGAIN, 2);
        expect(t, "ip:new1", &defaults, 13, 0, 0); /* one failure: free */
        assert_non_null(lookup(t, "ip:new1", 7));
        throttle_free(t);
}

static void test_spray(void **state) {
        char key[32];
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(1000, &t), 0);
        fail_n(t, "ip:victim", &defaults, 10, 0);
        for (int i = 0; i < 20000; i++) {
                snprintf(key, sizeof(key), "ip:spray%d", i);
                throttle_failure(t, key, &defaults, 1 + i);
                assert_true(t->used <= 1000);
        }
        assert_int_equal(t->used, 1000);
        /* The victim's memory was shortened, nothing worse. */
        expect(t, "ip:victim", &defaults, 20001, 0, 0);
        snprintf(key, sizeof(key), "ip:spray%d", 19999);
        throttle_success(t, key);
        assert_int_equal(t->used, 999);
        for (int i = 0; i < 19000; i++) {
                snprintf(key, sizeof(key), "ip:spray%d", i);
                throttle_success(t, key);
        }
        assert_int_equal(t->used, 999);
        throttle_free(t);
}

static void test_count(void **state) {
        struct throttle *t = NULL;
        size_t delayed = 99, blocked = 99;

        assert_int_equal(throttle_new(16, &t), 0);
        throttle_count(t, "ip:", &defaults, S(100), &delayed, &blocked);
        assert_int_equal(delayed, 0);
        assert_int_equal(blocked, 0);
        fail_n(t, "ip:192.0.2.1", &defaults, 2, S(100));  /* still free */
        fail_n(t, "ip:192.0.2.2", &defaults, 3, S(100));  /* must wait 1 s */
        fail_n(t, "ip:192.0.2.3", &defaults, 10, S(100)); /* blocked */
        fail_n(t, "user:alice", &defaults, 10, S(100));   /* not a source */
        throttle_count(t, "ip:", &defaults, S(100), &delayed, &blocked);
        assert_int_equal(delayed, 1);
        assert_int_equal(blocked, 1);
        throttle_count(t, "user:", &defaults, S(100), &delayed, &blocked);
        assert_int_equal(delayed, 0);
        assert_int_equal(blocked, 1);
        /* The wait is over; the block is not. */
        throttle_count(t, "ip:", &defaults, S(102), &delayed, &blocked);
        assert_int_equal(delayed, 0);
        assert_int_equal(blocked, 1);
        /* Everything is forgotten after block_seconds. */
        throttle_count(t, "ip:", &defaults, S(100 + 900), &delayed, &blocked);
        assert_int_equal(delayed, 0);
        assert_int_equal(blocked, 0);
        throttle_count(NULL, "ip:", &defaults, S(100), &delayed, &blocked);
        assert_int_equal(delayed + blocked, 0);
        throttle_free(t);
}

static void test_huge_times(void **state) {
        struct throttle_config big = {
                .free_attempts = 0,
                .base_delay = UINT_MAX,
                .max_delay = UINT_MAX,
                .block_after = UINT_MAX,
                .block_seconds = UINT_MAX,
        };
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(8, &t), 0);

        /* Near the top of the clock: no wrap when adding the delay. */
        fail_n(t, "a", &defaults, 3, INT64_MAX - 10);
        expect(t, "a", &defaults, INT64_MAX, -EAGAIN, 1);
        expect(t, "a", &defaults, INT64_MIN, -EAGAIN, 1); /* went backwards: no time passed */

        /* From the bottom to the top of the clock: a quiet period of 2^64 ms. */
        throttle_failure(t, "b", &defaults, INT64_MIN);
        fail_n(t, "b", &defaults, 10, INT64_MIN);
        expect(t, "b", &defaults, INT64_MIN, -EACCES, 900);
        expect(t, "b", &defaults, INT64_MAX, 0, 0);

        /* Extreme configuration: 2^k far past 32 bits, capped. */
        throttle_success(t, "a");
        fail_n(t, "c", &big, 40, 0);
        expect(t, "c", &big, 0, -EAGAIN, (int64_t)UINT_MAX);
        expect(t, "c", &big, S(UINT_MAX) - 1, -EAGAIN, 1);
        expect(t, "c", &big, S(UINT_MAX), 0, 0);
        throttle_failure(t, "c", &big, INT64_MAX);
        expect(t, "c", &big, INT64_MAX, -EAGAIN, (int64_t)UINT_MAX);

        /* A shift that would carry base · 2^k out of 64 bits is capped,
         * not wrapped to a small (here: zero) delay. */
        {
                struct throttle_config shift = big;
                shift.base_delay = 1U << 31;
                fail_n(t, "s", &shift, 34, 0); /* k = 33: 2^31 · 2^33 = 2^64 */
                expect(t, "s", &shift, 0, -EAGAIN, (int64_t)UINT_MAX);
                throttle_success(t, "s");
        }

        /* Failure counter saturates instead of wrapping to "free". */
        {
                struct entry *e = lookup(t, "c", 1);
                assert_non_null(e);
                e->fails = UINT_MAX - 1;
        }
        fail_n(t, "c", &big, 3, INT64_MAX);
        expect(t, "c", &big, INT64_MAX, -EACCES, (int64_t)UINT_MAX);
        assert_true(lookup(t, "c", 1)->fails == UINT_MAX);

        /* Zero configuration: nothing is ever delayed or kept. */
        {
                struct throttle_config zero = {0};
                fail_n(t, "z", &zero, 100, 0);
                expect(t, "z", &zero, 0, 0, 0);
        }
        throttle_free(t);
}

/* throttle_has: a set of keys that forgets each one block_seconds after it
 * was last recorded. */
static void test_has(void **state) {
        const struct throttle_config c = {.block_seconds = 60};
        struct throttle *t = NULL;

        assert_int_equal(throttle_new(4, &t), 0);
        assert_false(throttle_has(t, "alice ip:192.0.2.7", &c, 0));
        throttle_failure(t, "alice ip:192.0.2.7", &c, 0);
        assert_true(throttle_has(t, "alice ip:192.0.2.7", &c, S(59)));
        assert_false(throttle_has(t, "bob ip:192.0.2.7", &c, S(59)));
        throttle_failure(t, "alice ip:192.0.2.7", &c, S(59)); /* seen again: kept longer */
        assert_true(throttle_has(t, "alice ip:192.0.2.7", &c, S(118)));
        assert_false(throttle_has(t, "alice ip:192.0.2.7", &c, S(119)));
        assert_false(throttle_has(NULL, "x", &c, 0));
        throttle_free(t);
}

/* A key with block_after 0 (the helper's per-user keys) is only ever
 * delayed, up to max_delay, however many failures it collects. */
static void test_no_block_without_block_after(void **state) {
        struct throttle_config c = defaults;
        struct throttle *t = NULL;

        c.block_after = 0;
        assert_int_equal(throttle_new(16, &t), 0);
        fail_n(t, "user:monty", &c, 1000, S(10));
        expect(t, "user:monty", &c, S(10), -EAGAIN, 60);
        expect(t, "user:monty", &c, S(70), 0, 0);
        throttle_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_args),
                cmocka_unit_test(test_free_attempts),
                cmocka_unit_test(test_backoff_doubles_and_caps),
                cmocka_unit_test(test_block_and_lift),
                cmocka_unit_test(test_forgets_after_quiet),
                cmocka_unit_test(test_success_resets),
                cmocka_unit_test(test_keys_independent),
                cmocka_unit_test(test_long_keys_share_prefix),
                cmocka_unit_test(test_table_full_evicts_oldest),
                cmocka_unit_test(test_spray),
                cmocka_unit_test(test_huge_times),
                cmocka_unit_test(test_count),
                cmocka_unit_test(test_has),
                cmocka_unit_test(test_no_block_without_block_after),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
