/* test-hosts.c — the fan-out's host lists (src/cli/hosts.c): host keys, the
 * -H list, the hosts file's groups (references, cycles, strict lines with
 * file:line errors) and the discovered list. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/cli/hosts.h"

static char err[512];

/* The resolved keys joined by " ", or "ERR: message". */
static char *resolve(const char *arg, const char *hosts, const char *discovered) {
        struct hosts_sources src = {
                .hosts_text = hosts,
                .hosts_len = hosts ? strlen(hosts) : 0,
                .hosts_file = "hosts",
                .discovered_text = discovered,
                .discovered_len = discovered ? strlen(discovered) : 0,
                .discovered_file = "discovered",
        };
        struct host_list l = {};
        static char out[8192];
        int r;

        err[0] = '\0';
        r = hosts_resolve(arg, &src, &l, err, sizeof err);
        if (r < 0) {
                assert_int_equal(r, -EINVAL);
                snprintf(out, sizeof out, "ERR: %s", err);
        } else {
                out[0] = '\0';
                for (size_t i = 0; i < l.n; i++)
                        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "",
                                 l.hosts[i].key);
        }
        host_list_free(&l);
        return out;
}

static void test_keys(void **state) {
        struct host_entry e;

        assert_int_equal(host_key("Web1.Example", 12, &e), 0);
        assert_string_equal(e.key, "web1.example:660");
        assert_string_equal(e.name, "web1.example");
        assert_int_equal(host_key("10.0.0.1:6600", 13, &e), 0);
        assert_string_equal(e.key, "10.0.0.1:6600");
        assert_string_equal(e.name, "10.0.0.1:6600");
        assert_int_equal(host_key("[FE80::1]:661", 13, &e), 0);
        assert_string_equal(e.key, "[fe80::1]:661");
        assert_int_equal(host_key("::1", 3, &e), 0);
        assert_string_equal(e.key, "[::1]:660");
        assert_string_equal(e.name, "[::1]");
        /* One address, one spelling: IPv6 canonical, IPv4 only dotted quad. */
        assert_int_equal(host_key("[0:0::0001]:6601", 16, &e), 0);
        assert_string_equal(e.key, "[::1]:6601");
        assert_int_equal(host_key("[::FFFF:127.0.0.1]", 18, &e), 0);
        assert_string_equal(e.key, "[::ffff:127.0.0.1]:660");
        static const char *const aliases[] = {"127.1:6601", "0x7f.1", "0x7f000001", "2130706433",
                                              "0177.0.0.1", "127.0.0.01", "127.0.1", "1.2.3.4.5",
                                              "host.123"};
        for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
                assert_int_equal(host_key(aliases[i], strlen(aliases[i]), &e), -EINVAL);

        static const char *const bad[] = {"", "a:0", "a:65536", "a:01", "a:", "a b", "[::1",
                                          "[::1]x", "[host]:1", "a_b", "x:1:2x", "a/b", "[]:1"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(host_key(bad[i], strlen(bad[i]), &e), -EINVAL);
}

static void test_list(void **state) {
        assert_string_equal(resolve("a,B:661,a:660,b:661", NULL, NULL), "a:660 b:661");
        assert_string_equal(resolve("a,,b", NULL, NULL), "ERR: -H: empty host in \"a,,b\"");
        assert_string_equal(resolve("a,@web", NULL, NULL),
                            "ERR: no group \"web\": hosts does not exist");
}

static void test_groups(void **state) {
        const char *file = "# groups\n"
                           "\n"
                           "web: w1 w2:661  \n"
                           "  db:\tdb1 @web\r\n"
                           "all2: @db @web x\n";

        assert_string_equal(resolve("@web", file, NULL), "w1:660 w2:661");
        assert_string_equal(resolve("@db", file, NULL), "db1:660 w1:660 w2:661");
        assert_string_equal(resolve("@all", file, NULL), "w1:660 w2:661 db1:660 x:660");
        assert_string_equal(resolve("x,@web,w1", file, NULL), "x:660 w1:660 w2:661");
        assert_string_equal(resolve("@nope", file, NULL), "ERR: no group \"nope\" in hosts");
}

static void test_bad_files(void **state) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                {"web w1\n", "hosts:1: expected \"GROUP: HOST …\""},
                {"a: x\nweb : w1\n", "hosts:2: invalid group name"},
                {"a: x\nb: y\na: z\n", "hosts:3: the group \"a\" is defined twice"},
                {"all: x\n", "hosts:1: the group \"all\" is built in"},
                {"a: @b\n", "hosts:1: no group \"b\""},
                {"a: @b\nb: @c\nc: @a\n", "includes itself"},
                {"a: x\nb: x_y\n", "hosts:2: invalid host \"x_y\""},
                {"a: @\n", "hosts:1: invalid group reference \"@\""},
                {"a: x\x01\n", "hosts:1: invalid host"},
                {"a: x\rb\n", "hosts:1: control character"},
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *out = resolve("@a", cases[i].text, NULL);

                if (!strstr(out, cases[i].error))
                        fail_msg("%s → %s (expected %s)", cases[i].text, out, cases[i].error);
                assert_int_equal(hosts_file_check(cases[i].text, strlen(cases[i].text), "hosts",
                                                  err, sizeof err),
                                 -EINVAL);
        }
        /* Even a line the group does not use fails the run. */
        assert_non_null(strstr(resolve("@a", "a: x\n\nb c\n", NULL), "hosts:3:"));
}

static void test_discovered(void **state) {
        assert_string_equal(resolve("@discovered,y",
                                    NULL, "# c\n10.0.0.2:660 SHA256:00\n[::1]:661\n"),
                            "10.0.0.2:660 [::1]:661 y:660");
        assert_string_equal(resolve("@discovered", NULL, NULL),
                            "ERR: @discovered: discovered does not exist; run 'steward discover' "
                            "first");
        assert_string_equal(resolve("@discovered", NULL, "zz z\n1.2.3.4:0\n"),
                            "ERR: discovered:2: invalid address");
}

static void test_bounds(void **state) {
        /* Fan-in of references does not multiply the work or the hosts. */
        size_t cap = 1 << 20, len = 0;
        char *big = malloc(cap);
        struct host_list l = {};
        struct hosts_sources src = {.hosts_file = "hosts", .discovered_file = "discovered"};

        assert_non_null(big);
        for (int g = 0; g < 40; g++) {
                len += (size_t)snprintf(big + len, cap - len, "g%d:", g);
                for (int k = 0; k < 8 && g < 39; k++)
                        len += (size_t)snprintf(big + len, cap - len, " @g%d", g + 1);
                len += (size_t)snprintf(big + len, cap - len, " h%d\n", g);
        }
        src.hosts_text = big;
        src.hosts_len = len;
        assert_int_equal(hosts_resolve("@g0", &src, &l, err, sizeof err), 0);
        assert_int_equal(l.n, 40);
        host_list_free(&l);

        /* More than HOSTS_MAX hosts. */
        len = (size_t)snprintf(big, cap, "many:");
        for (int i = 0; i <= HOSTS_MAX; i++)
                len += (size_t)snprintf(big + len, cap - len, " h%d", i);
        src.hosts_text = big;
        src.hosts_len = len;
        assert_int_equal(hosts_resolve("@many", &src, &l, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "more than"));
        host_list_free(&l);
        free(big);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keys),      cmocka_unit_test(test_list),
                cmocka_unit_test(test_groups),    cmocka_unit_test(test_bad_files),
                cmocka_unit_test(test_discovered), cmocka_unit_test(test_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
