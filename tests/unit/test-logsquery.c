/* test-logsquery.c — the logs module's query grammar (src/modules/logs/
 * query.h): time expressions, priority levels and ranges, unit names, the
 * text filter, the whole query with the parameter each refusal names, and
 * the /var/log name grammar and tail of files.h on a scratch directory.
 *
 * Times are checked in UTC (TZ=UTC is set before the first local-time
 * call), so "2026-12-04 06:00:00" is a fixed number.  The cases are tables:
 * one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "module.h"
#include "modules/logs/files.h"
#include "modules/logs/query.h"
#include "util.h"

#define S           1000000ull
#define NOW         (1796364000ull * S) /* 2026-12-04 06:00:00 UTC */
#define MIDNIGHT    (1796342400ull * S) /* 2026-12-04 00:00:00 UTC */

static void test_times(void **state) {
        static const struct {
                const char *text;
                uint64_t want;
        } good[] = {
                {"now", NOW},
                {"today", MIDNIGHT},
                {"yesterday", MIDNIGHT - 86400 * S},
                {"tomorrow", MIDNIGHT + 86400 * S},
                {"-1h", NOW - 3600 * S},
                {"-30m", NOW - 1800 * S},
                {"-2d", NOW - 2 * 86400 * S},
                {"-45s", NOW - 45 * S},
                {"+1w", NOW + 7 * 86400 * S},
                {"-1h 30min", NOW - 5400 * S},
                {"-2 days", NOW - 2 * 86400 * S},
                {"@1700000000", 1700000000ull * S},
                {"2026-12-04", MIDNIGHT},
                {"2026-12-04 06:00", NOW},
                {"2026-12-04 06:00:00", NOW},
                {"2026-12-04T06:00:00Z", NOW},
                {"2026-12-04 06:00:00 UTC", NOW},
                {"2026-12-04T06:00:00.25", NOW + 250000},
                {"2026-12-04 06:00:00.000001", NOW + 1},
                {"2024-02-29", 1709164800ull * S},
        };
        static const char *const bad[] = {
                "",           "never",         "-1",          "-h",          "-1parsec",
                "1h",         "- 1h",          "-1h-2h",      "2026-12-4",   "2026-13-01",
                "2026-02-30", "2025-02-29",    "2026-12-04 24:00", "2026-12-04 06:60",
                "2026-12-04 06:00:00.",        "2026-12-04 06:00:00.1234567", "1969-12-31",
                "2026-12-04 06:00:00+02:00",   "@",           "@-1",         "@99999999999999",
                "-9999999999d", "-1000000000h", "today ",     " today",
                "2026-12-04  06:00", "-1h\n",
        };
        uint64_t t;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                t = 0;
                if (logs_parse_time(good[i].text, NOW, &t) < 0 || t != good[i].want)
                        fail_msg("\"%s\": %llu, want %llu", good[i].text, (unsigned long long)t,
                                 (unsigned long long)good[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (logs_parse_time(bad[i], NOW, &t) == 0)
                        fail_msg("\"%s\" was taken", bad[i]);
}

static void test_priorities(void **state) {
        static const struct {
                const char *text;
                int min, max;
        } good[] = {
                {"emerg", 0, 0},       {"err", 0, 3},           {"3", 0, 3},
                {"debug", 0, 7},       {"warning", 0, 4},       {"err..warning", 3, 4},
                {"warning..err", 3, 4}, {"0..7", 0, 7},         {"info..info", 6, 6},
        };
        static const char *const bad[] = {"", "8", "-1", "error", "ERR", "err..", "..err",
                                          "err...warning", "err..warning..info", "3 ", "03"};
        int a, b;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(logs_parse_priority(good[i].text, &a, &b), 0);
                assert_int_equal(a, good[i].min);
                assert_int_equal(b, good[i].max);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (logs_parse_priority(bad[i], &a, &b) == 0)
                        fail_msg("\"%s\" was taken", bad[i]);
        assert_string_equal(logs_priority_name(4), "warning");
        assert_string_equal(logs_priority_name(9), "unknown");
}

static void test_units(void **state) {
        static const struct {
                const char *text, *want;
        } good[] = {
                {"nginx", "nginx.service"},
                {"nginx.service", "nginx.service"},
                {"getty@tty1.service", "getty@tty1.service"},
                {"steward-test-tick.timer", "steward-test-tick.timer"},
                {"sys-devices-x\\x2dy.device", "sys-devices-x\\x2dy.device"},
                {"user-1000.slice", "user-1000.slice"},
                {"foo.bar", "foo.bar.service"},
        };
        static const char *const bad[] = {"", "-x", ".service", "a/b", "../etc", "a..b", "a b",
                                          "a*", "a.", "a\n"};
        char out[LOGS_UNIT_MAX + 1], long_name[LOGS_UNIT_MAX + 2];

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(logs_parse_unit(good[i].text, out), 0);
                assert_string_equal(out, good[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (logs_parse_unit(bad[i], out) == 0)
                        fail_msg("\"%s\" was taken", bad[i]);
        memset(long_name, 'a', LOGS_UNIT_MAX + 1);
        long_name[LOGS_UNIT_MAX + 1] = '\0';
        assert_int_equal(logs_parse_unit(long_name, out), -EINVAL);
        /* Room for the ".service" it would get: refused, not cut. */
        long_name[LOGS_UNIT_MAX - 4] = '\0';
        assert_int_equal(logs_parse_unit(long_name, out), -EINVAL);
}

static void test_grep(void **state) {
        char buf[64];
        assert_true(logs_grep_match("needle", 6, "a NeEdLe b", 10, buf));
        assert_true(logs_grep_match("", 0, "x", 1, buf));
        assert_false(logs_grep_match("needle", 6, "needl", 5, buf));
        assert_false(logs_grep_match("b*c", 3, "abbbc", 5, buf));
        assert_true(logs_grep_match("b*c", 3, "a.b*c", 5, buf));
        /* A NUL inside the message does not end it. */
        assert_true(logs_grep_match("tail", 4, "x\0tail", 6, buf));
}

/* The parameters of a query, from a NULL-terminated list of pairs. */
static const char *pairs_get(void *opaque, const char *key) {
        const char *const *p = opaque;
        for (; p[0]; p += 2)
                if (STREQ(p[0], key))
                        return p[1];
        return NULL;
}

static void test_query(void **state) {
        static const struct {
                const char *key, *value;
        } bad[] = {
                {"unit", "a/b"},      {"priority", "loud"},  {"since", "soon"},
                {"until", "later"},   {"boot", "-0"},        {"boot", "-101"},
                {"boot", "xyz"},      {"identifier", ""},    {"identifier", "a\tb"},
                {"grep", ""},         {"limit", "0"},        {"limit", "10001"},
                {"limit", "-1"},      {"limit", "1e3"},      {"cursor", "a b"},
                {"cursor", ""},       {"order", "ASC"},
        };
        const char *all[] = {"unit", "ssh", "priority", "err..warning", "since", "-1h", "until",
                             "now", "boot", "-1", "identifier", "sshd", "grep", "Failed",
                             "limit", "10000", "cursor", "s=1;i=2", "order", "asc", NULL};
        const char *none[] = {NULL};
        struct module_error e = {0};
        struct logs_query q;

        assert_int_equal(logs_query_parse(pairs_get, all, NOW, &q, &e), 0);
        assert_string_equal(q.unit, "ssh.service");
        assert_int_equal(q.prio_min, 3);
        assert_int_equal(q.prio_max, 4);
        assert_true(q.has_since && q.since == NOW - 3600 * S);
        assert_true(q.has_until && q.until == NOW);
        assert_true(q.has_boot && !q.boot_is_id && q.boot_back == 1);
        assert_string_equal(q.identifier, "sshd");
        assert_string_equal(q.grep, "failed");
        assert_int_equal(q.limit, 10000);
        assert_string_equal(q.cursor, "s=1;i=2");
        assert_true(q.asc);

        assert_int_equal(logs_query_parse(pairs_get, none, NOW, &q, &e), 0);
        assert_int_equal(q.limit, LOGS_LIMIT_DEFAULT);
        assert_false(q.asc);
        assert_true(q.prio_max < 0 && !q.has_since && !q.has_boot && !q.unit[0]);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *one[] = {bad[i].key, bad[i].value, NULL};
                e = (struct module_error){0};
                if (logs_query_parse(pairs_get, one, NOW, &q, &e) != -EINVAL)
                        fail_msg("%s=\"%s\" was taken", bad[i].key, bad[i].value);
                assert_int_equal(e.status, 400);
                assert_string_equal(e.field, bad[i].key);
        }
        {
                const char *backwards[] = {"since", "now", "until", "-1h", NULL};
                assert_int_equal(logs_query_parse(pairs_get, backwards, NOW, &q, &e), -EINVAL);
                assert_string_equal(e.field, "until");
        }
        {
                const char *id[] = {"boot", "0123456789ABCDEF0123456789abcdef", NULL};
                assert_int_equal(logs_query_parse(pairs_get, id, NOW, &q, &e), 0);
                assert_true(q.boot_is_id);
                assert_string_equal(q.boot_id, "0123456789abcdef0123456789abcdef");
        }
}

static void test_file_names(void **state) {
        static const char *const good[] = {"syslog", "nginx/error.log", "a/b/c.log", "x@y+z_1-2.log",
                                           ".hidden"};
        static const char *const bad[] = {"",      "/etc/passwd", "..",     "../x",  "a/../b",
                                          "a/./b", "a//b",        "a/",     "a b",   "a\\b",
                                          ".",     "a/..",        "x\n"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!logs_file_name_valid(good[i]))
                        fail_msg("\"%s\" was refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (logs_file_name_valid(bad[i]))
                        fail_msg("\"%s\" was taken", bad[i]);
}

static void write_file(const char *path, const char *text, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, n), (ssize_t)n);
        close(fd);
}

static void test_tail(void **state) {
        char dir[] = "/tmp/test-logsquery-XXXXXX", path[128];
        struct module_error e = {0};
        json_t *t = NULL;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/a.log", dir);
        write_file(path, "one\ntwo\nthree\n", 14);
        snprintf(path, sizeof path, "%s/partial.log", dir);
        write_file(path, "one\ntwo", 7);
        snprintf(path, sizeof path, "%s/bin.log", dir);
        write_file(path, "a\0b\n", 4);
        snprintf(path, sizeof path, "%s/empty.log", dir);
        write_file(path, "", 0);
        snprintf(path, sizeof path, "%s/wtmp", dir);
        write_file(path, "x\n", 2);
        snprintf(path, sizeof path, "%s/link.log", dir);
        assert_int_equal(symlink("/etc/passwd", path), 0);

        assert_int_equal(logs_file_tail(dir, "a.log", 2, &t, &e), 0);
        assert_int_equal(json_array_size(json_object_get(t, "lines")), 2);
        assert_string_equal(json_string_value(json_array_get(json_object_get(t, "lines"), 0)), "two");
        assert_string_equal(json_string_value(json_array_get(json_object_get(t, "lines"), 1)), "three");
        json_decref(t);
        assert_int_equal(logs_file_tail(dir, "a.log", 10, &t, &e), 0);
        assert_int_equal(json_array_size(json_object_get(t, "lines")), 3);
        json_decref(t);
        assert_int_equal(logs_file_tail(dir, "partial.log", 10, &t, &e), 0);
        assert_string_equal(json_string_value(json_array_get(json_object_get(t, "lines"), 1)), "two");
        json_decref(t);
        assert_int_equal(logs_file_tail(dir, "empty.log", 10, &t, &e), 0);
        assert_int_equal(json_array_size(json_object_get(t, "lines")), 0);
        json_decref(t);
        assert_int_equal(logs_file_tail(dir, "bin.log", 10, &t, &e), -ENOENT);
        assert_int_equal(logs_file_tail(dir, "wtmp", 10, &t, &e), -ENOENT);
        assert_int_equal(logs_file_tail(dir, "link.log", 10, &t, &e), -ENOENT);
        assert_int_equal(logs_file_tail(dir, "../etc/passwd", 10, &t, &e), -EINVAL);
        assert_string_equal(e.field, "name");
        assert_int_equal(logs_file_tail(dir, "a.log", 0, &t, &e), -EINVAL);
        assert_string_equal(e.field, "lines");

        assert_int_equal(logs_files_list(dir, &t, &e), 0);
        {
                json_t *files = json_object_get(t, "files");
                assert_int_equal(json_array_size(files), 3); /* a, empty, partial */
                assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "name")),
                                    "a.log");
        }
        json_decref(t);

        for (const char *n = "a.log\0partial.log\0bin.log\0empty.log\0wtmp\0link.log\0"; *n;
             n += strlen(n) + 1) {
                snprintf(path, sizeof path, "%s/%s", dir, n);
                unlink(path);
        }
        rmdir(dir);
}

/* Only what the host shows its log readers: others may read it, or the
 * group adm; in directories they may enter. */
static void test_tail_only_what_log_readers_see(void **state) {
        static const char *const files[] = {"open.log", "secret.log", "adm.log", "root640.log",
                                            "sub/ok.log", "private/open.log"};
        const struct group *adm = getgrnam("adm");
        char dir[] = "/tmp/test-logsquery-XXXXXX", path[128];
        struct module_error e = {0};
        json_t *t = NULL, *names;
        size_t i;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/sub", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/private", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        for (i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[i]);
                write_file(path, "line\n", 5);
        }
        snprintf(path, sizeof path, "%s/secret.log", dir);
        assert_int_equal(chmod(path, 0600), 0);
        snprintf(path, sizeof path, "%s/root640.log", dir);
        assert_int_equal(chown(path, 0, 0), 0);
        assert_int_equal(chmod(path, 0640), 0);
        snprintf(path, sizeof path, "%s/adm.log", dir);
        assert_int_equal(chmod(path, 0640), 0);
        if (adm)
                assert_int_equal(chown(path, 0, adm->gr_gid), 0);

        assert_int_equal(logs_file_tail(dir, "open.log", 10, &t, &e), 0);
        json_decref(t);
        assert_int_equal(logs_file_tail(dir, "sub/ok.log", 10, &t, &e), 0);
        json_decref(t);
        assert_int_equal(logs_file_tail(dir, "adm.log", 10, &t, &e), adm ? 0 : -ENOENT);
        if (adm)
                json_decref(t);
        assert_int_equal(logs_file_tail(dir, "secret.log", 10, &t, &e), -ENOENT);
        assert_int_equal(e.status, 404);
        assert_int_equal(logs_file_tail(dir, "root640.log", 10, &t, &e), -ENOENT);
        assert_int_equal(logs_file_tail(dir, "private/open.log", 10, &t, &e), -ENOENT);

        assert_int_equal(logs_files_list(dir, &t, &e), 0);
        names = json_object_get(t, "files");
        assert_int_equal(json_array_size(names), adm ? 3 : 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(names, 0), "name")),
                            adm ? "adm.log" : "open.log");
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(names, json_array_size(names) - 1), "name")),
                            "sub/ok.log");
        json_decref(t);

        for (i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[i]);
                unlink(path);
        }
        snprintf(path, sizeof path, "%s/sub", dir);
        rmdir(path);
        snprintf(path, sizeof path, "%s/private", dir);
        rmdir(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_times),      cmocka_unit_test(test_priorities),
                cmocka_unit_test(test_units),      cmocka_unit_test(test_grep),
                cmocka_unit_test(test_query),      cmocka_unit_test(test_file_names),
                cmocka_unit_test(test_tail),       cmocka_unit_test(test_tail_only_what_log_readers_see),
        };

        setenv("TZ", "UTC", 1);
        tzset();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
