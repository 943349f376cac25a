/* test-processes.c — the processes list's pure parts (proclist.h): the
 * query's grammar with a 400 naming each bad field, the filters, the sorts
 * and the tree order (depth-first by ppid, a filter's orphans as roots where
 * they stand, siblings in the sort's order); and the reader on this very
 * process (procread.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/processes/proclist.h"
#include "modules/processes/procread.h"
#include "util.h"

static json_t *q1(const char *k, const char *v) {
        return json_pack("{s:s}", k, v);
}

static void test_query_good(void **state) {
        struct proclist_query q;
        struct module_error e = {};
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "sort", "mem", "limit", "10",
                              "user", "0", "unit", "nginx.service", "name", "ngin", "tree", "1");

        assert_int_equal(proclist_query_parse(o, &q, &e), 0);
        assert_int_equal(q.sort, PROCLIST_SORT_MEM);
        assert_int_equal(q.limit, 10);
        assert_true(q.has_uid);
        assert_int_equal(q.uid, 0);
        assert_string_equal(q.unit, "nginx.service");
        assert_string_equal(q.name, "ngin");
        assert_true(q.tree);
        assert_false(q.detail);
        json_decref(o);

        o = q1("user", "root"); /* a name, looked up */
        assert_int_equal(proclist_query_parse(o, &q, &e), 0);
        assert_int_equal(q.uid, 0);
        json_decref(o);

        assert_int_equal(proclist_query_parse(NULL, &q, &e), 0);
        assert_int_equal(q.sort, PROCLIST_SORT_PID);
        assert_int_equal(q.limit, 0);
        assert_false(q.has_uid);
}

static void test_query_bad(void **state) {
        static const struct {
                const char *key, *value;
        } bad[] = {
                {"sort", "size"},  {"sort", ""},
                {"limit", "0"},    {"limit", "100001"},
                {"limit", "-1"},   {"limit", "1e3"},
                {"limit", " 1"},   {"user", "no-such-user-8d1f"},
                {"user", "a b"},   {"user", "-rf"},
                {"user", ""},      {"unit", "../x"},
                {"unit", ""},      {"unit", "a b.service"},
                {"name", ""},      {"name", "a\tb"},
                {"name", "a\x7f"}, {"tree", "maybe"},
                {"detail", "2"},   {"threads", "yes"},
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct proclist_query q;
                struct module_error e = {};
                json_t *o = q1(bad[i].key, bad[i].value);

                assert_non_null(o);
                if (proclist_query_parse(o, &q, &e) != -EINVAL || e.status != 400 ||
                    strcmp(e.field, bad[i].key) != 0)
                        fail_msg("%s=%s: status %d field \"%s\"", bad[i].key, bad[i].value,
                                 e.status, e.field);
                json_decref(o);
        }

        char longname[PROCLIST_NAME_MAX + 2];
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        struct proclist_query q;
        struct module_error e = {};
        json_t *o = q1("name", longname);
        assert_int_equal(proclist_query_parse(o, &q, &e), -EINVAL);
        assert_string_equal(e.field, "name");
        json_decref(o);
}

static struct proc_item item(int pid, int ppid, const char *comm, uint64_t rss, double cpu) {
        struct proc_item it = {.pid = pid,
                               .ppid = ppid,
                               .rss_bytes = rss,
                               .cpu_percent = cpu,
                               .start_ticks = (uint64_t)pid * 10};
        snprintf(it.comm, sizeof it.comm, "%s", comm);
        return it;
}

static void test_match(void **state) {
        struct proclist_query q = {};
        struct proc_item it = item(5, 1, "nginx", 0, 0);

        snprintf(it.unit, sizeof it.unit, "nginx.service");
        it.uid = 33;
        assert_true(proclist_match(&q, &it));
        q.has_uid = true;
        q.uid = 33;
        assert_true(proclist_match(&q, &it));
        q.uid = 0;
        assert_false(proclist_match(&q, &it));
        q.has_uid = false;
        snprintf(q.unit, sizeof q.unit, "nginx.service");
        assert_true(proclist_match(&q, &it));
        snprintf(q.unit, sizeof q.unit, "nginx");
        assert_false(proclist_match(&q, &it)); /* a unit is named whole */
        q.unit[0] = '\0';
        snprintf(q.name, sizeof q.name, "gin");
        assert_true(proclist_match(&q, &it));
        snprintf(q.name, sizeof q.name, "apache");
        assert_false(proclist_match(&q, &it));
}

static void test_sorts(void **state) {
        struct proc_item v[] = {
                item(30, 1, "b", 100, 5.0),
                item(10, 1, "c", 300, 5.0),
                item(20, 1, "a", 200, 9.0),
        };
        struct proc_list l = {.v = v, .n = 3, .cap = 3};

        proclist_sort(&l, PROCLIST_SORT_PID);
        assert_int_equal(v[0].pid, 10);
        assert_int_equal(v[2].pid, 30);
        proclist_sort(&l, PROCLIST_SORT_CPU); /* descending, ties by pid */
        assert_int_equal(v[0].pid, 20);
        assert_int_equal(v[1].pid, 10);
        assert_int_equal(v[2].pid, 30);
        proclist_sort(&l, PROCLIST_SORT_MEM);
        assert_int_equal(v[0].pid, 10);
        assert_int_equal(v[2].pid, 30);
        proclist_sort(&l, PROCLIST_SORT_NAME);
        assert_string_equal(v[0].comm, "a");
        assert_string_equal(v[2].comm, "c");
        proclist_sort(&l, PROCLIST_SORT_START);
        assert_int_equal(v[0].pid, 10);
}

static void test_tree(void **state) {
        /* 1 ─ 2 ─ 4
         *   └ 3 ─ 5        7 (parent 6, not in the list: an orphan root)
         * listed in pid order; 8 is its own parent (a cycle root). */
        struct proc_item v[] = {
                item(1, 0, "init", 0, 0), item(2, 1, "a", 0, 0), item(3, 1, "b", 0, 0),
                item(4, 2, "c", 0, 0),    item(5, 3, "d", 0, 0), item(7, 6, "e", 0, 0),
                item(8, 8, "f", 0, 0),
        };
        struct proc_list l = {.v = v, .n = ELEMENTSOF(v), .cap = ELEMENTSOF(v)};
        static const int want_pid[] = {1, 2, 4, 3, 5, 7, 8};
        static const unsigned want_depth[] = {0, 1, 2, 1, 2, 0, 0};
        size_t *order = NULL;

        assert_int_equal(proclist_tree(&l, &order), 0);
        for (size_t i = 0; i < ELEMENTSOF(want_pid); i++) {
                assert_int_equal(v[order[i]].pid, want_pid[i]);
                assert_int_equal(v[order[i]].depth, want_depth[i]);
        }
        free(order);

        /* Siblings follow the list's order: by memory, 3 before 2. */
        v[1].rss_bytes = 1;
        v[2].rss_bytes = 2;
        proclist_sort(&l, PROCLIST_SORT_MEM);
        assert_int_equal(proclist_tree(&l, &order), 0);
        size_t pos2 = 0, pos3 = 0;
        for (size_t i = 0; i < l.n; i++) {
                if (v[order[i]].pid == 2)
                        pos2 = i;
                if (v[order[i]].pid == 3)
                        pos3 = i;
        }
        assert_true(pos3 < pos2);
        free(order);

        struct proc_list empty = {};
        assert_int_equal(proclist_tree(&empty, &order), 0);
        free(order);
}

static void test_read_self(void **state) {
        struct proc_item it = {};
        struct proc_list all = {};
        bool found = false, agreed = false;

        assert_int_equal(procread_pid(getpid(), PROCREAD_CMDLINE, &it), 0);
        assert_int_equal(it.pid, getpid());
        assert_int_equal(it.ppid, getppid());
        assert_int_equal(it.uid, getuid());
        assert_false(it.kernel_thread);
        assert_true(it.rss_bytes > 0);
        assert_non_null(it.cmdline);
        assert_true(strstr(it.cmdline, "test-processes") != NULL);
        proc_item_done(&it);

        /* The listing takes cgroups from the cgroup tree where it can: each
         * must be what the process's own /proc/PID/cgroup says.  A process
         * may move between the walk and its own read (a unit starting, a
         * container's scope): a listing with a mismatch is taken again, and
         * one of three must agree throughout. */
        for (int attempt = 0; attempt < 3 && !agreed; attempt++) {
                found = false;
                agreed = true;
                assert_int_equal(procread_all(0, &all), 0);
                for (size_t i = 0; i < all.n; i++) {
                        struct proc_item one = {};

                        if (all.v[i].pid == getpid())
                                found = true;
                        assert_null(all.v[i].cmdline); /* not asked for */
                        if (procread_pid(all.v[i].pid, 0, &one) < 0)
                                continue; /* gone */
                        if (one.start_ticks == all.v[i].start_ticks &&
                            ((one.cgroup == NULL) != (all.v[i].cgroup == NULL) ||
                             (one.cgroup && strcmp(one.cgroup, all.v[i].cgroup) != 0) ||
                             strcmp(one.unit, all.v[i].unit) != 0)) {
                                print_message(
                                        "pid %d: cgroup \"%s\" unit \"%s\" against \"%s\" \"%s\"\n",
                                        one.pid, all.v[i].cgroup ? all.v[i].cgroup : "(null)",
                                        all.v[i].unit, one.cgroup ? one.cgroup : "(null)",
                                        one.unit);
                                agreed = false;
                        }
                        proc_item_done(&one);
                }
                assert_true(found);
                proc_list_done(&all);
        }
        assert_true(agreed);

        assert_true(procread_pid(0, 0, &it) < 0);

        int pid;
        assert_true(procread_pid_name("123", &pid) && pid == 123);
        assert_false(procread_pid_name("0", &pid));
        assert_false(procread_pid_name("0123", &pid));
        assert_false(procread_pid_name("self", &pid));
        assert_false(procread_pid_name("99999999999", &pid));
}

static void test_item_json(void **state) {
        struct proclist_ctx c;
        struct proc_item it = item(42, 1, "bad\xff\x01name", 4096, 1.5);
        json_t *o;

        it.cmdline = malloc(7);
        assert_non_null(it.cmdline);
        memcpy(it.cmdline, "a\0b c\0", 6);
        it.cmdline_len = 6;
        assert_int_equal(proclist_ctx_init(&c, false), 0);
        o = proclist_item_json(&c, &it);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "command")), "bad? name");
        assert_null(json_object_get(o, "cmdline")); /* not an admin */
        assert_true(json_is_null(json_object_get(o, "unit")));
        json_decref(o);

        c.admin = true;
        o = proclist_item_json(&c, &it);
        assert_int_equal(json_array_size(json_object_get(o, "cmdline")), 2);
        assert_string_equal(json_string_value(json_array_get(json_object_get(o, "cmdline"), 1)),
                            "b c");
        json_decref(o);
        proc_item_done(&it);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_query_good), cmocka_unit_test(test_query_bad),
                cmocka_unit_test(test_match),      cmocka_unit_test(test_sorts),
                cmocka_unit_test(test_tree),       cmocka_unit_test(test_read_self),
                cmocka_unit_test(test_item_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
