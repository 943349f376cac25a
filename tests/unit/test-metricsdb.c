/* test-metricsdb.c — the stored tiers of the metrics history.
 *
 * Synthetic samples go the way the sampler's do: history_add() aggregates
 * them into minutes, history_pending_batch() turns the completed minutes
 * into the batch the front sends, and metricsdb_store() — what the
 * helper's metrics_store operation runs — checks and writes it, rolls the
 * hours up and enforces retention.  Then the tiers are read back through
 * metricsdb_query() and metricsdb_recent(), and the refill puts a day back
 * into memory.  Times are made up, so every case is exact and instant.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helper/metricsdb.h"
#include "helper/sqlutil.h"
#include "helper/store.h"
#include "modules/metrics/history.h"
#include "util.h"

#define T0 1700002800 /* a whole hour */

struct fixture {
        char dir[64];
        struct store *s;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        char err[256];

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-metricsdb-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(store_open(f->dir, &f->s, err, sizeof err), 0);
        assert_int_equal(history_setup(), 0);
        history_clear();
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char path[128];

        history_teardown();
        store_close(f->s);
        for (const char *const *x = (const char *const[]){"", "-wal", "-shm", NULL}; *x; x++) {
                snprintf(path, sizeof path, "%s/steward.db%s", f->dir, *x);
                unlink(path);
        }
        rmdir(f->dir);
        free(f);
        return 0;
}

static void add(int64_t t, double v) {
        double values[_HS_MAX];

        for (size_t i = 0; i < _HS_MAX; i++)
                values[i] = v;
        history_add(t, values);
}

/* Stores every completed minute, as the writer thread does. */
static void flush(struct fixture *f, int64_t now) {
        struct module_error e = {0};
        uint64_t last = 0;
        json_t *batch = history_pending_batch(&last);

        assert_non_null(batch);
        assert_int_equal(metricsdb_store(f->s, batch, now, &e), 0);
        history_pending_ack(last);
        json_decref(batch);
        assert_null(history_pending_batch(&last));
}

static json_t *dbquery(struct fixture *f, const char *tier, int64_t from, int64_t step,
                       int64_t points) {
        struct module_error e = {0};
        json_t *ret = NULL, *args = json_pack("{s:s, s:s, s:I, s:I, s:I}", "series", "cpu.busy",
                                              "tier", tier, "from", (json_int_t)from, "step",
                                              (json_int_t)step, "points", (json_int_t)points);
        assert_int_equal(metricsdb_query(f->s, args, &e, &ret), 0);
        json_decref(args);
        return json_object_get(ret, "points") ? ret : NULL;
}

static int64_t count(struct fixture *f, const char *table) {
        char sql[96];
        sqlite3_stmt *st = NULL;
        int64_t n;

        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
        assert_int_equal(sql_prepare(f->s, sql, &st), 0);
        assert_int_equal(sql_step_one(st), 0);
        n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

static void assert_point(json_t *p, int64_t t, double avg, double min, double max) {
        assert_int_equal(json_integer_value(json_array_get(p, 0)), t);
        assert_true(fabs(json_number_value(json_array_get(p, 1)) - avg) < 1e-4);
        assert_true(fabs(json_number_value(json_array_get(p, 2)) - min) < 1e-4);
        assert_true(fabs(json_number_value(json_array_get(p, 3)) - max) < 1e-4);
}

/* Two hours of one sample a second: minute k holds k·60 … k·60+59, so its
 * avg is k·60 + 29.5; the hours roll those minutes up. */
static void test_minutes_and_hours(void **state) {
        struct fixture *f = *state;
        json_t *a, *p;

        for (int64_t t = T0; t < T0 + 7200; t++)
                add(t, (double)(t - T0));
        add(T0 + 7200, 0); /* closes the last minute */
        flush(f, T0 + 7201);
        assert_int_equal(count(f, "metrics_minute"), 120 * _HS_MAX);
        assert_int_equal(count(f, "metrics_hour"), 2 * _HS_MAX);

        a = dbquery(f, "minute", T0, 60, 3);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 3);
        assert_point(json_array_get(json_object_get(a, "points"), 1), T0 + 60, 89.5, 60, 119);
        json_decref(a);
        /* 10-minute buckets of the minute tier: weighted by samples. */
        a = dbquery(f, "minute", T0, 600, 12);
        assert_point(json_array_get(json_object_get(a, "points"), 11), T0 + 6600, 6899.5, 6600,
                     7199);
        json_decref(a);
        a = dbquery(f, "hour", T0, 3600, 2);
        p = json_object_get(a, "points");
        assert_int_equal(json_array_size(p), 2);
        assert_point(json_array_get(p, 0), T0, 1799.5, 0, 3599);
        assert_point(json_array_get(p, 1), T0 + 3600, 5399.5, 3600, 7199);
        json_decref(a);
        /* An empty range: no points, not an error. */
        a = dbquery(f, "hour", T0 + 86400, 3600, 5);
        assert_int_equal(json_array_size(json_object_get(a, "points")), 0);
        json_decref(a);
}

/* A minute handed over in two parts (a restart in its middle) is merged. */
static void test_minute_merged(void **state) {
        struct fixture *f = *state;
        json_t *a;

        for (int64_t t = T0; t < T0 + 20; t++)
                add(t, 10);
        history_close_minute(); /* what history_stop() does */
        flush(f, T0 + 20);
        history_clear();
        for (int64_t t = T0 + 30; t < T0 + 60; t++)
                add(t, 40);
        add(T0 + 60, 0);
        flush(f, T0 + 61);
        a = dbquery(f, "minute", T0, 60, 1);
        /* (20·10 + 30·40) / 50 */
        assert_point(json_array_get(json_object_get(a, "points"), 0), T0, 28, 10, 40);
        json_decref(a);
        a = dbquery(f, "hour", T0, 3600, 1);
        assert_point(json_array_get(json_object_get(a, "points"), 0), T0, 28, 10, 40);
        json_decref(a);
}

/* Minutes past 30 days and hours past 2 years go at the next store. */
static void test_retention(void **state) {
        struct fixture *f = *state;
        const int64_t day = 86400;
        int64_t now;

        for (int64_t t = T0; t <= T0 + 120; t++)
                add(t, 1);
        flush(f, T0 + 121);
        assert_int_equal(count(f, "metrics_minute"), 2 * _HS_MAX);
        assert_int_equal(count(f, "metrics_hour"), _HS_MAX);

        now = T0 + 30 * day + 3600;
        history_clear();
        for (int64_t t = now - 100; t <= now - 30; t++)
                add(t, 2);
        flush(f, now);
        /* The old minutes are gone, their hour stays. */
        assert_int_equal(count(f, "metrics_minute"), _HS_MAX);
        assert_int_equal(count(f, "metrics_hour"), 2 * _HS_MAX);

        now = T0 + 731 * day;
        history_clear();
        for (int64_t t = now - 100; t <= now - 30; t++)
                add(t, 3);
        flush(f, now);
        /* Past two years: the first hour is gone too. */
        assert_int_equal(count(f, "metrics_minute"), _HS_MAX);
        assert_int_equal(count(f, "metrics_hour"), 2 * _HS_MAX);
}

/* What the helper refuses from a front it does not trust. */
static void test_refused(void **state) {
        static const char *const bad[] = {
                "{}",
                "{\"points\": []}",
                "{\"points\": [{\"t\": 1700002800}]}",
                "{\"points\": [{\"t\": 1700002801, \"series\": {}}]}",
                "{\"points\": [{\"t\": 1699990000, \"series\": {}}]}", /* too old */
                "{\"points\": [{\"t\": 1700006400, \"series\": {}}]}", /* in the future */
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.bogus\": [1, 1, 1, 1]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.busy\": [1, 2, 3]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.busy\": [5, 2, 3, 1]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.busy\": [1, 1, 1, 0]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.busy\": [1, 1, 1, 999]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.busy\": [\"1\", 1, 1, 1]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {\"cpu.busy\":[1e300,1,1e300,1]}}]}",
                "{\"points\": [{\"t\": 1700002800, \"series\": {}, \"x\": 1}]}",
                "{\"points\": [], \"more\": 1}",
        };
        struct fixture *f = *state;
        json_t *big = json_array();

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct module_error e = {0};
                json_t *b = json_loads(bad[i], 0, NULL);
                assert_non_null(b);
                assert_int_equal(metricsdb_store(f->s, b, T0 + 60, &e), -EINVAL);
                assert_int_equal(e.status, 400);
                json_decref(b);
        }
        for (int i = 0; i <= METRICSDB_MAX_BATCH; i++)
                json_array_append_new(big, json_pack("{s:I, s:{}}", "t", (json_int_t)T0, "series"));
        {
                struct module_error e = {0};
                json_t *b = json_pack("{s:o}", "points", big);
                assert_int_equal(metricsdb_store(f->s, b, T0 + 60, &e), -EINVAL);
                json_decref(b);
        }
        assert_int_equal(count(f, "metrics_minute"), 0);
}

/* After a restart the day of minutes comes back from the store. */
static void test_refill(void **state) {
        struct fixture *f = *state;
        struct history_query q;
        struct module_error e = {0};
        json_t *args, *recent = NULL, *a, *pts;

        for (int64_t t = T0; t < T0 + 180; t++)
                add(t, 7);
        add(T0 + 180, 7);
        flush(f, T0 + 181);
        history_clear(); /* a new front */
        args = json_pack("{s:I}", "from", (json_int_t)(T0 - 86400));
        assert_int_equal(metricsdb_recent(f->s, args, T0 + 200, &e, &recent), 0);
        json_decref(args);
        assert_int_equal(
                json_array_size(json_object_get(json_object_get(recent, "series"), "cpu.busy")), 3);
        assert_int_equal(history_refill(recent), 0);
        json_decref(recent);
        assert_int_equal(history_parse_query("cpu.busy", "2h", "60", &q, &e), 0);
        assert_int_equal(history_query(&q, T0 + 200, &a), 0);
        pts = json_object_get(a, "points");
        /* Points end at the minute of T0 + 200: the three stored minutes
         * are the 4th-, 3rd- and 2nd-last. */
        assert_point(json_array_get(pts, json_array_size(pts) - 4), T0, 7, 7, 7);
        assert_point(json_array_get(pts, json_array_size(pts) - 2), T0 + 120, 7, 7, 7);
        json_decref(a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_minutes_and_hours, setup, teardown),
                cmocka_unit_test_setup_teardown(test_minute_merged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refill, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
