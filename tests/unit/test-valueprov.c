/* test-valueprov.c — the metrics module's provider of common/valuesrc.h
 * (modules/metrics/valueprov.h) against this machine's /proc and a
 * textfile directory of the test's own: values by selector, the answers
 * for none, several and bad selectors, and one scrape kept for an
 * interval (set to its maximum, 60 s, so the test does not race it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/metrics/history.h"
#include "modules/metrics/sampler.h"
#include "modules/metrics/textfile.h"
#include "modules/metrics/valueprov.h"
#include "util.h"

static char dir[] = "/tmp/test-valueprov.XXXXXX";

static void put(const char *name, const char *text) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void test_values(void **state) {
        double v = -1;

        assert_non_null(mkdtemp(dir));
        textfile_set_dir(dir);
        history_set_interval(HISTORY_MAX_INTERVAL);
        put("a.prom", "# TYPE backup_age_seconds gauge\nbackup_age_seconds{job=\"db\"} 5\n"
                      "backup_age_seconds{job=\"www\"} 7\n");

        assert_int_equal(valueprov_metric("backup_age_seconds{job=\"db\"}", &v), 1);
        assert_true(v == 5);
        assert_int_equal(valueprov_metric("backup_age_seconds", &v), -ENOTUNIQ);
        assert_int_equal(valueprov_metric("backup_age_seconds{job=\"none\"}", &v), 0);
        assert_int_equal(valueprov_metric("node_load1", &v), 1);
        assert_true(v >= 0);
        assert_int_equal(valueprov_metric("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}", &v), 1);
        assert_int_equal(valueprov_metric("node_cpu_seconds_total", &v), -ENOTUNIQ);
        assert_int_equal(valueprov_metric("no_such_metric", &v), 0);
        assert_int_equal(valueprov_metric("bad selector", &v), -EINVAL);
        assert_int_equal(valueprov_metric("x{a=\"1\"", &v), -EINVAL);
        assert_int_equal(valueprov_metric(NULL, &v), -EINVAL);

        /* Within the interval the kept scrape answers; dropped, a new one. */
        put("a.prom", "backup_age_seconds{job=\"db\"} 6\n");
        assert_int_equal(valueprov_metric("backup_age_seconds{job=\"db\"}", &v), 1);
        assert_true(v == 5);
        valueprov_done();
        assert_int_equal(valueprov_metric("backup_age_seconds{job=\"db\"}", &v), 1);
        assert_true(v == 6);

        valueprov_done();
        sampler_done();
        textfile_done();
        {
                char path[256];
                snprintf(path, sizeof path, "%s/a.prom", dir);
                (void)unlink(path);
                (void)rmdir(dir);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
