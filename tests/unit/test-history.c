/* test-history.c — the metrics history: the one-minute aggregation, the
 * rings wrapping around, queries with steps, nulls for gaps, the strict
 * parsing of the query arguments and the diskstats totals.
 *
 * Samples go through history_add(), the function the sampler thread calls,
 * at made-up unix times, so every case is exact and instant.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/metrics/history.h"
#include "util.h"

static int setup(void **state) {
        (void)state;
        assert_int_equal(history_setup(), 0);
        history_clear();
        return 0;
}

static int teardown(void **state) {
        (void)state;
        history_teardown();
        return 0;
}

/* Every series set to v (NaN: no sample). */
static void add(int64_t t, double v) {
        double values[_HS_MAX];

        for (size_t i = 0; i < _HS_MAX; i++)
                values[i] = v;
        history_add(t, values);
}

static json_t *query(const char *series, const char *range, const char *step, int64_t now) {
        struct history_query q;
        struct module_error err = {0};
        json_t *ret = NULL;

        assert_int_equal(history_parse_query(series, range, step, &q, &err), 0);
        assert_int_equal(history_query(&q, now, &ret), 0);
        return ret;
}

static json_t *point(json_t *a, size_t i) {
        return json_array_get(json_object_get(a, "points"), i);
}

static void assert_point(json_t *a, size_t i, int64_t t, double avg, double min, double max) {
        json_t *p = point(a, i);

        assert_non_null(p);
        assert_int_equal(json_integer_value(json_array_get(p, 0)), t);
        assert_true(fabs(json_number_value(json_array_get(p, 1)) - avg) < 1e-3);
        assert_true(fabs(json_number_value(json_array_get(p, 2)) - min) < 1e-3);
        assert_true(fabs(json_number_value(json_array_get(p, 3)) - max) < 1e-3);
}

static void assert_null_point(json_t *a, size_t i, int64_t t) {
        json_t *p = point(a, i);

        assert_non_null(p);
        assert_int_equal(json_integer_value(json_array_get(p, 0)), t);
        for (size_t k = 1; k <= 3; k++)
                assert_true(json_is_null(json_array_get(p, k)));
}

static void test_minute_aggregation(void **state) {
        json_t *a;

        (void)state;
        for (int i = 0; i < 60; i++)
                add(6000 + i, i);
        /* Over an hour: the minute tier, its bucket still in progress. */
        a = query("cpu.busy", "2h", NULL, 6059);
        assert_int_equal(json_integer_value(json_object_get(a, "step")), 60);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 120);
        assert_string_equal(json_string_value(json_object_get(a, "unit")), "percent");
        assert_point(a, 119, 6000, 29.5, 0, 59);
        assert_null_point(a, 118, 5940);
        json_decref(a);

        /* The next minute flushes it into the ring. */
        add(6060, 100);
        a = query("mem.used", "2h", "120", 6060);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 60);
        assert_point(a, 59, 6000, (29.5 + 100) / 2, 0, 100);
        json_decref(a);

        /* The same minute from the raw tier: exact min and max too. */
        a = query("mem.used", "1h", "60", 6060);
        assert_point(a, 58, 6000, 29.5, 0, 59);
        assert_point(a, 59, 6060, 100, 100, 100);
        json_decref(a);
}

static void test_raw_wraps(void **state) {
        json_t *a;

        (void)state;
        for (int t = 0; t < 3610; t++)
                add(t, t);
        a = query("load.1", "1h", "1", 3609);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 3600);
        assert_point(a, 0, 10, 10, 10, 10);
        assert_point(a, 3599, 3609, 3609, 3609, 3609);
        json_decref(a);

        /* Steps: each point covers [t, t + step). */
        a = query("load.1", "60s", "10", 3609);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 6);
        assert_point(a, 0, 3550, 3554.5, 3550, 3559);
        assert_point(a, 5, 3600, 3604.5, 3600, 3609);
        json_decref(a);

        /* Default step for 1h: 4 s, 900 points. */
        a = query("load.1", "1h", NULL, 3609);
        assert_int_equal(json_integer_value(json_object_get(a, "step")), 4);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 900);
        json_decref(a);

        /* Asking further back than the ring holds gives nulls, never the
         * newer samples that reuse those slots. */
        a = query("load.1", "1h", "1", 3609 + 1800);
        assert_null_point(a, 3599, 5409);
        assert_point(a, 0, 1810, 1810, 1810, 1810);
        json_decref(a);
}

static void test_minute_tier_wraps(void **state) {
        json_t *a;

        (void)state;
        for (int m = 0; m < 1500; m++)
                add((int64_t)m * 60, m);
        add(1500 * 60, 1500); /* flushes minute 1499 */
        a = query("net.rx", "24h", "60", 1500 * 60);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 1440);
        assert_point(a, 0, 61 * 60, 61, 61, 61);
        assert_point(a, 1438, 1499 * 60, 1499, 1499, 1499);
        assert_point(a, 1439, 1500 * 60, 1500, 1500, 1500);
        json_decref(a);

        /* Default step over a day: 2 minutes, 720 points. */
        a = query("net.rx", "24h", NULL, 1500 * 60);
        assert_int_equal(json_integer_value(json_object_get(a, "step")), 120);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 720);
        json_decref(a);
}

static void test_gaps_are_null(void **state) {
        json_t *a;
        double values[_HS_MAX];

        (void)state;
        add(100, 1);
        add(105, 2);
        for (size_t i = 0; i < _HS_MAX; i++)
                values[i] = NAN;
        values[HS_CPU_USER] = 7;
        history_add(106, values);

        a = query("cpu.busy", "10s", NULL, 106);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 10);
        assert_null_point(a, 0, 97);
        assert_point(a, 3, 100, 1, 1, 1);
        assert_null_point(a, 4, 101);
        assert_point(a, 8, 105, 2, 2, 2);
        assert_null_point(a, 9, 106); /* NaN: no sample */
        json_decref(a);

        a = query("cpu.user", "10s", "5", 106);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 2);
        assert_point(a, 0, 100, 1, 1, 1);   /* [100, 105) */
        assert_point(a, 1, 105, 4.5, 2, 7); /* [105, 110), in progress */
        json_decref(a);

        /* Right after start: all null, nothing fails. */
        history_clear();
        a = query("disk.read", "1h", NULL, 106);
        assert_null_point(a, 899, 104);
        json_decref(a);
}

static void test_parse(void **state) {
        static const char *const bad_ranges[] = {
                "",
                "1",
                "h",
                "1h5",
                "-1h",
                "0s",
                "+1h",
                "1 h",
                "731d",
                "86401s",
                "3y",
                "01h",
                "1H",
                "1hh",
                "1.5h",
                "99999999999999999999h",
                "1d1h",
                "3601s",
                "1w",
                "2592001s",
                "1000000000s",
                "17521h",
        };
        static const char *const bad_steps[] = {
                "", "0", "-1", "7", "1.5", "01", "4s", "3601", "99999999999999999999",
        };
        struct history_query q;
        struct module_error err = {0};

        (void)state;
        assert_int_equal(history_parse_query("cpu.busy", NULL, NULL, &q, &err), 0);
        assert_int_equal(q.range, 3600);
        assert_int_equal(q.step, 4);
        assert_int_equal(q.tier, 0);
        assert_int_equal(history_parse_query("procs.running", "90s", NULL, &q, &err), 0);
        assert_int_equal(q.range, 90);
        assert_int_equal(q.step, 1);
        assert_int_equal(history_parse_query("swap.used", "24h", "3600", &q, &err), 0);
        assert_int_equal(q.tier, 1);
        assert_int_equal(history_parse_query("swap.used", "1440m", NULL, &q, &err), 0);
        assert_int_equal(q.range, 86400);
        /* Past a day: the stored tiers, minutes up to 30 days, then hours. */
        assert_int_equal(history_parse_query("swap.used", "25h", NULL, &q, &err), 0);
        assert_int_equal(q.tier, 2);
        assert_int_equal(history_parse_query("swap.used", "7d", NULL, &q, &err), 0);
        assert_int_equal(q.tier, 2);
        assert_int_equal(q.range, 7 * 86400);
        assert_int_equal(q.step % 60, 0);
        assert_true(q.range / q.step <= HISTORY_DEF_POINTS);
        assert_int_equal(history_parse_query("swap.used", "30d", NULL, &q, &err), 0);
        assert_int_equal(q.tier, 2);
        assert_int_equal(history_parse_query("swap.used", "31d", NULL, &q, &err), 0);
        assert_int_equal(q.tier, 3);
        assert_int_equal(history_parse_query("swap.used", "1y", NULL, &q, &err), 0);
        assert_int_equal(q.tier, 3);
        assert_int_equal(history_parse_query("swap.used", "2y", NULL, &q, &err), 0);
        assert_int_equal(q.range, 730 * 86400);
        assert_int_equal(q.step % 3600, 0);
        assert_true(q.range / q.step <= HISTORY_DEF_POINTS);
        assert_int_equal(history_parse_query("swap.used", "2y", "21600", &q, &err), 0);
        assert_int_equal(history_parse_query("swap.used", "31d", "60", &q, &err), -EINVAL);

        for (size_t i = 0; i < ELEMENTSOF(bad_ranges); i++) {
                err = (struct module_error){0};
                assert_int_equal(history_parse_query("cpu.busy", bad_ranges[i], NULL, &q, &err),
                                 -EINVAL);
                assert_int_equal(err.status, 400);
                assert_string_equal(err.field, "range");
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_steps); i++) {
                err = (struct module_error){0};
                assert_int_equal(history_parse_query("cpu.busy", "1h", bad_steps[i], &q, &err),
                                 -EINVAL);
                assert_string_equal(err.field, "step");
        }
        /* Over an hour the step is in whole minutes. */
        assert_int_equal(history_parse_query("cpu.busy", "2h", "30", &q, &err), -EINVAL);
        assert_non_null(strstr(err.message, "multiple of 60"));

        err = (struct module_error){0};
        assert_int_equal(history_parse_query("cpu.bogus", NULL, NULL, &q, &err), -EINVAL);
        assert_string_equal(err.code, "invalid_argument");
        assert_non_null(strstr(err.message, "cpu.busy"));
        assert_non_null(strstr(err.message, "procs.running"));
        assert_int_equal(history_parse_query(NULL, NULL, NULL, &q, &err), -EINVAL);
}

static void test_diskstats(void **state) {
        static const char text[] = "   8       0 sda 100 0 10 0 200 0 20 0 0 0 0\n"
                                   "   8       1 sda1 100 0 10 0 200 0 20 0 0 0 0\n"
                                   "   7       0 loop0 5 0 1000 0 5 0 1000 0 0 0 0\n"
                                   " 259       0 nvme0n1 1 0 1 0 1 0 2 0 0 0 0 0 0 0 0 0 0\n";
        uint64_t rd = 0, wr = 0;

        (void)state;
        assert_int_equal(history_diskstats_sum(text, sizeof text - 1, &rd, &wr), 0);
        assert_int_equal(rd, (10 + 1) * 512);
        assert_int_equal(wr, (20 + 2) * 512);
        assert_int_equal(history_diskstats_sum("8 0 sda 1 2 x 4 5 6 7\n", 22, &rd, &wr), -EINVAL);
        assert_int_equal(history_diskstats_sum("8 0 sda 1 2\n", 12, &rd, &wr), -EINVAL);
        assert_int_equal(history_diskstats_sum("", 0, &rd, &wr), 0);
        assert_int_equal(rd, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_minute_aggregation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_raw_wraps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_minute_tier_wraps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gaps_are_null, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
                cmocka_unit_test(test_diskstats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
