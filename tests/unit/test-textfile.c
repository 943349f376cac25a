/* test-textfile.c — the textfile collector's parser, merge, writer and
 * selector lookup (modules/metrics/textfile.h).
 *
 * Texts are given in buffers of exactly their size with no NUL after them,
 * so AddressSanitizer catches a read past len.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

#include "modules/metrics/expo.h"
#include "modules/metrics/textfile.h"
#include "util.h"

static int parse(const char *text, struct tf_set *ret, char *err) {
        size_t n = strlen(text);
        char *copy = malloc(n ? n : 1);
        int r;

        assert_non_null(copy);
        memcpy(copy, text, n);
        r = textfile_parse(copy, n, TEXTFILE_MAX_SAMPLES, ret, err, 256);
        free(copy);
        return r;
}

static char *write_set(const struct tf_set *s) {
        struct buf b;
        struct expo e;

        buf_init(&b, 1UL << 20);
        expo_init(&e, &b);
        textfile_write(&e, s);
        assert_int_equal(e.error, 0);
        return buf_steal(&b) ?: strdup("");
}

static void test_parse_good(void **state) {
        static const char text[] =
                "# HELP backup_age_seconds Age of \\\\ the\\n last backup.\n"
                "# TYPE backup_age_seconds gauge\n"
                "backup_age_seconds{job=\"db\",host=\"a\\\"b\"} 42.5\n"
                "backup_age_seconds{job=\"www\",} 7\n"
                "\n"
                "# a comment\n"
                "plain_total +Inf\n"
                "neg -1e3\n"
                "nan NaN\n"
                "# TYPE lat histogram\n"
                "lat_bucket{le=\"1\"} 1\n"
                "lat_bucket{le=\"+Inf\"} 2\n"
                "lat_sum 3\n"
                "lat_count 2\n";
        struct tf_set s = {0};
        char err[256];
        double v;
        _cleanup_free_ char *out = NULL;

        assert_int_equal(parse(text, &s, err), 0);
        assert_int_equal(s.n_samples, 9);
        assert_int_equal(s.n, 5);
        assert_int_equal(textfile_set_lookup(&s, "backup_age_seconds{job=\"db\"}", &v), 1);
        assert_true(v == 42.5);
        assert_int_equal(textfile_set_lookup(&s, "backup_age_seconds{host=\"a\\\"b\"}", &v), 1);
        assert_int_equal(textfile_set_lookup(&s, "backup_age_seconds", &v), -ENOTUNIQ);
        assert_int_equal(textfile_set_lookup(&s, "backup_age_seconds{job=\"x\"}", &v), 0);
        assert_int_equal(textfile_set_lookup(&s, "plain_total", &v), 1);
        assert_true(isinf(v) && v > 0);
        assert_int_equal(textfile_set_lookup(&s, "neg{job=\"\"}", &v), 1);
        assert_true(v == -1000);
        assert_int_equal(textfile_set_lookup(&s, "lat_count", &v), 1);
        assert_true(v == 2);
        assert_int_equal(textfile_set_lookup(&s, "bad name", &v), -EINVAL);
        assert_int_equal(textfile_set_lookup(&s, "x{a=\"1\"", &v), -EINVAL);

        out = write_set(&s);
        assert_non_null(strstr(out, "# HELP backup_age_seconds Age of \\\\ the\\n last backup.\n"
                                    "# TYPE backup_age_seconds gauge\n"
                                    "backup_age_seconds{job=\"db\",host=\"a\\\"b\"} 42.5\n"));
        assert_non_null(strstr(out, "# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\n"));
        assert_non_null(strstr(out, "# TYPE plain_total untyped\nplain_total +Inf\n"));
        /* families in name order */
        assert_true(strstr(out, "backup_age") < strstr(out, "lat_bucket"));
        assert_true(strstr(out, "lat_bucket") < strstr(out, "nan NaN"));
        assert_true(strstr(out, "nan NaN") < strstr(out, "neg -1000"));
        textfile_set_done(&s);
}

static void test_parse_bad(void **state) {
        static const char *const bad[] = {
                "x{a=\"1\" 2\n",                      /* unterminated labels */
                "x 1 1700000000000\n",                /* a timestamp */
                "x 1\nx 2\n",                         /* a series twice */
                "x{a=\"1\",a=\"2\"} 1\n",             /* a label twice */
                "x{a=\"\\q\"} 1\n",                   /* a bad escape */
                "x abc\n",                            /* a bad value */
                "x\n",                                /* no value */
                "1x 1\n",                             /* a bad name */
                "x{1a=\"1\"} 1\n",                    /* a bad label name */
                "# TYPE x gauge\n# TYPE x gauge\nx 1\n", /* TYPE twice */
                "# TYPE x nonsense\nx 1\n",           /* an unknown type */
                "x 1\n# TYPE x gauge\n",              /* TYPE after samples */
                "# HELP x a\n# HELP x b\nx 1\n",      /* HELP twice */
                "x{a=\"1\"}1\n",                      /* no blank before the value */
                "x{a=\"\xff\"} 1\n",                  /* a label value not UTF-8 */
                "# HELP x bad \xc3\x28\nx 1\n",         /* a HELP text not UTF-8 */
        };
        char err[256];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct tf_set s = {0};
                int r = parse(bad[i], &s, err);
                if (r >= 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(s.n, 0);
                assert_true(err[0] != '\0');
        }
}

static bool reserve_node_load1(const char *name, void *userdata) {
        return STREQ(name, "node_load1");
}

static void test_merge(void **state) {
        struct tf_set all = {0}, a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
        char err[256];
        double v;
        _cleanup_free_ char *out = NULL;

        assert_int_equal(parse("# TYPE m gauge\nm{f=\"a\"} 1\n", &a, err), 0);
        assert_int_equal(textfile_merge(&all, &a, reserve_node_load1, NULL, "/d/a.prom", err,
                                        sizeof err),
                         0);
        assert_int_equal(parse("m{f=\"b\"} 2\nonly_here 3\n", &b, err), 0);
        /* untyped here, gauge in a.prom: refused whole */
        assert_int_equal(textfile_merge(&all, &b, reserve_node_load1, NULL, "/d/b.prom", err,
                                        sizeof err),
                         -EEXIST);
        textfile_set_done(&b);
        assert_int_equal(textfile_set_lookup(&all, "only_here", &v), 0);

        assert_int_equal(parse("# TYPE m gauge\nm{f=\"b\"} 2\nother 4\n", &c, err), 0);
        assert_int_equal(textfile_merge(&all, &c, reserve_node_load1, NULL, "/d/c.prom", err,
                                        sizeof err),
                         0);
        assert_int_equal(textfile_set_lookup(&all, "m{f=\"b\"}", &v), 1);
        assert_true(v == 2);
        assert_int_equal(textfile_set_lookup(&all, "other", &v), 1);

        /* the same series in two files */
        assert_int_equal(parse("# TYPE m gauge\nm{f=\"a\"} 9\n", &d, err), 0);
        assert_int_equal(textfile_merge(&all, &d, reserve_node_load1, NULL, "/d/d.prom", err,
                                        sizeof err),
                         -EEXIST);
        textfile_set_done(&d);
        /* a reserved family */
        assert_int_equal(parse("node_load1 9\nfine 1\n", &e, err), 0);
        assert_int_equal(textfile_merge(&all, &e, reserve_node_load1, NULL, "/d/e.prom", err,
                                        sizeof err),
                         -EEXIST);
        textfile_set_done(&e);
        assert_int_equal(textfile_set_lookup(&all, "fine", &v), 0);

        out = write_set(&all);
        assert_non_null(strstr(out, "# HELP other Metric read from /d/c.prom\n"));
        assert_non_null(strstr(out, "# TYPE m gauge\nm{f=\"a\"} 1\nm{f=\"b\"} 2\n"));
        textfile_set_done(&all);
}

/* Every prefix of a good text: parsed or refused, never a crash or a leak. */
static void test_prefixes(void **state) {
        static const char text[] = "# HELP a x\n# TYPE a counter\na{b=\"c\\n\"} 1.5e3\n"
                                   "# TYPE h summary\nh{quantile=\"0.5\"} 1\nh_sum 2\nh_count 3\n";
        char err[256];

        for (size_t n = 0; n <= strlen(text); n++) {
                char *copy = malloc(n ? n : 1);
                struct tf_set s = {0};
                assert_non_null(copy);
                memcpy(copy, text, n);
                if (textfile_parse(copy, n, TEXTFILE_MAX_SAMPLES, &s, err, sizeof err) == 0)
                        textfile_set_done(&s);
                free(copy);
        }
}

static void test_bounds(void **state) {
        struct buf b;
        struct tf_set s = {0};
        char err[256], line[64];

        buf_init(&b, 1UL << 20);
        for (int i = 0; i < 11; i++) {
                int n = snprintf(line, sizeof line, "s{i=\"%d\"} %d\n", i, i);
                assert_int_equal(buf_append(&b, line, (size_t)n), 0);
        }
        assert_int_equal(textfile_parse(b.data, b.len, 10, &s, err, sizeof err), -E2BIG);
        assert_int_equal(s.n, 0);
        assert_int_equal(textfile_parse(b.data, b.len, 11, &s, err, sizeof err), 0);
        textfile_set_done(&s);
        buf_free(&b);
}

/* A selector with more labels than the caller's array holds is refused
 * before any is stored past it (the array is sized as asked, 16 or less). */
static void test_selector_labels(void **state) {
        struct tf_label labels[4];
        struct tf_set s = {0};
        char name[128], sel[1024], err[256];
        size_t n = 0, o;
        double v;

        o = (size_t)snprintf(sel, sizeof sel, "x{");
        for (int i = 0; i < 20; i++)
                o += (size_t)snprintf(sel + o, sizeof sel - o, "%sl%d=\"v\"", i ? "," : "", i);
        snprintf(sel + o, sizeof sel - o, "}");
        assert_int_equal(textfile_selector_parse(sel, name, sizeof name, labels, 4, &n), -EINVAL);
        assert_int_equal(textfile_parse("x 1\n", 4, 10, &s, err, sizeof err), 0);
        assert_int_equal(textfile_set_lookup(&s, sel, &v), -EINVAL);
        assert_int_equal(textfile_set_lookup(&s, "x", &v), 1);
        textfile_set_done(&s);
}

/* Families without samples count: past TEXTFILE_MAX_FAMILIES a file is
 * refused, and a file at the bound parses (a lookup per line, not a scan:
 * this is the case that took seconds). */
static void test_families(void **state) {
        struct buf b;
        struct tf_set s = {0};
        char err[256], line[64];
        double v;

        buf_init(&b, 1UL << 20);
        for (int i = 0; i < TEXTFILE_MAX_FAMILIES; i++) {
                int n = snprintf(line, sizeof line, "# TYPE f%d gauge\n", i);
                assert_int_equal(buf_append(&b, line, (size_t)n), 0);
        }
        assert_int_equal(buf_append(&b, "f9999 7\n", 8), 0);
        assert_int_equal(textfile_parse(b.data, b.len, 10, &s, err, sizeof err), 0);
        assert_int_equal(s.n, TEXTFILE_MAX_FAMILIES);
        assert_int_equal(textfile_set_lookup(&s, "f9999", &v), 1);
        assert_true(v == 7);
        textfile_set_done(&s);
        assert_int_equal(buf_append(&b, "# TYPE g gauge\n", 15), 0);
        assert_int_equal(textfile_parse(b.data, b.len, 10, &s, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "families"));
        buf_free(&b);
}

static void test_dir_trust(void **state) {
        char dir[] = "/tmp/tf-trust-XXXXXX";
        int fd;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(textfile_dir_trusted(fd));
        assert_int_equal(chmod(dir, 01777), 0);
        assert_false(textfile_dir_trusted(fd));
        close(fd);
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good), cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_merge),      cmocka_unit_test(test_prefixes),
                cmocka_unit_test(test_bounds),     cmocka_unit_test(test_selector_labels),
                cmocka_unit_test(test_families),   cmocka_unit_test(test_dir_trust),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
