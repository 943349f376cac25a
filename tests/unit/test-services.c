/* test-services.c — the services module's pure parts: the unit name,
 * pattern and environment grammars (unitname.h), the bus path back to a
 * name, the drop-in's merge bounds and its render/parse round trip
 * (dropin.h) and what its plan shows of it, the guards and what operators
 * may act on (actions.h).  Grammar cases are tables:
 * adding a case is one line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "module.h"
#include "modules/services/actions.h"
#include "modules/services/dropin.h"
#include "modules/services/unitname.h"
#include "util.h"

static void test_unit_names(void **state) {
        static const char *const good[] = {
                "nginx.service",     "foo@.service",  "foo@bar.service",   "a.socket",
                "tmp.mount",         "x-y_z:1.timer", "multi-user.target", "dev-sda1.device",
                "run-x\\x2dy.mount", "system.slice",
        };
        static const char *const bad[] = {
                "",
                "nginx",
                "nginx.bogus",
                "-x.service",
                "a/b.service",
                "..service",
                "a..b.service",
                ".service",
                "a b.service",
                "a\\q.service",
                "a\\x2.service",
                "@x.service",
                "a@b@c.service",
                "a;b.service",
                "a$b.service",
                "x.service\n",
        };
        char long_name[300];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_true(unit_name_valid(good[i]));
                assert_null(unit_name_problem(good[i]));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_false(unit_name_valid(bad[i]));
                assert_non_null(unit_name_problem(bad[i]));
        }
        memset(long_name, 'x', sizeof long_name);
        strcpy(long_name + 247, ".service"); /* 255 bytes */
        assert_true(unit_name_valid(long_name));
        memset(long_name, 'x', sizeof long_name);
        strcpy(long_name + 248, ".service"); /* 256 */
        assert_false(unit_name_valid(long_name));
        assert_string_equal(unit_name_type("a.timer"), "timer");
}

static void test_patterns_and_states(void **state) {
        (void)state;
        assert_true(unit_pattern_valid("steward-*"));
        assert_true(unit_pattern_valid("*.service"));
        assert_true(unit_pattern_valid("ss[hd]?.s*"));
        assert_false(unit_pattern_valid(""));
        assert_false(unit_pattern_valid("/etc/*"));
        assert_false(unit_pattern_valid("-x*"));
        assert_false(unit_pattern_valid("a b"));
        assert_false(unit_pattern_valid("a/../b"));
        assert_true(unit_file_state_valid("enabled"));
        assert_true(unit_file_state_valid("masked-runtime"));
        assert_false(unit_file_state_valid("Enabled"));
        assert_false(unit_file_state_valid(""));
}

static void test_environment(void **state) {
        static const char *const good[] = {"A=b", "_X=1", "PATH=/usr/bin:/bin", "G=hello world",
                                           "E="};
        static const char *const bad[] = {"=b",      "1A=b",   "A",     "A-B=c", "A=$(id)", "A=%h",
                                          "A=\"q\"", "A=b\\c", "A=`x`", "A=b;c", "A=\tb"};
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(unit_env_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(unit_env_valid(bad[i]));
}

static void test_name_from_path(void **state) {
        char name[UNIT_NAME_MAX + 1];

        (void)state;
        assert_int_equal(unit_name_from_path("/org/freedesktop/systemd1/unit/nginx_2eservice", name,
                                             sizeof name),
                         0);
        assert_string_equal(name, "nginx.service");
        assert_int_equal(unit_name_from_path("/org/freedesktop/systemd1/unit/a_2d1_2etimer", name,
                                             sizeof name),
                         0);
        assert_string_equal(name, "a-1.timer");
        assert_int_equal(
                unit_name_from_path("/org/freedesktop/systemd1/unit/x_2", name, sizeof name),
                -EINVAL);
        assert_int_equal(unit_name_from_path("/org/freedesktop/systemd1/unit/_2e_2e_2fx_2eservice",
                                             name, sizeof name),
                         -EINVAL);
}

static void test_dropin_round_trip(void **state) {
        json_t *cur = json_object(), *after = NULL, *back;
        struct module_error err = {0};
        char *text;

        (void)state;
        json_t *body =
                json_pack("{s:s, s:i, s:I, s:i, s:i, s:i, s:[s, s]}", "restart", "on-failure",
                          "restart_sec", 5, "memory_max", (json_int_t)536870912, "cpu_quota", 150,
                          "tasks_max", 64, "nice", -5, "environment", "A=b c", "D=e");
        assert_int_equal(dropin_merge(cur, body, &after, &err), 0);
        text = dropin_render(after);
        assert_non_null(text);
        assert_non_null(strstr(text, "[Service]\nRestart=on-failure\nRestartSec=5\n"));
        assert_non_null(strstr(text, "CPUQuota=150%\n"));
        assert_non_null(strstr(text, "Environment=\"A=b c\" \"D=e\"\n"));
        back = dropin_parse(text);
        assert_true(json_equal(back, after));
        json_decref(back);
        free(text);
        json_decref(body);
        /* null removes a key; all removed: no file */
        body = json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:[]}", "restart", "restart_sec",
                         "memory_max", "cpu_quota", "tasks_max", "nice", "environment");
        json_decref(cur);
        cur = after;
        assert_int_equal(dropin_merge(cur, body, &after, &err), 0);
        assert_int_equal(json_object_size(after), 0);
        assert_null(dropin_render(after));
        json_decref(after);
        json_decref(body);
        json_decref(cur);
}

static void test_dropin_bounds(void **state) {
        static const char *const bad[][2] = {
                {"{\"restart\": \"sometimes\"}", "restart"},
                {"{\"restart_sec\": 86401}", "restart_sec"},
                {"{\"memory_max\": 1000}", "memory_max"},
                {"{\"cpu_quota\": 0}", "cpu_quota"},
                {"{\"tasks_max\": 4194305}", "tasks_max"},
                {"{\"nice\": -21}", "nice"},
                {"{\"nice\": 1.5}", "nice"},
                {"{\"environment\": [\"A=$x\"]}", "environment"},
                {"{\"environment\": [1]}", "environment"},
                {"{\"Restart\": \"no\"}", "Restart"},
        };
        json_t *cur = json_object();

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct module_error err = {0};
                json_t *after = NULL, *body = json_loads(bad[i][0], 0, NULL);
                assert_non_null(body);
                assert_int_equal(dropin_merge(cur, body, &after, &err), -EINVAL);
                assert_string_equal(err.field, bad[i][1]);
                assert_null(after);
                json_decref(body);
        }
        json_decref(cur);
        /* A file edited by hand: only what Steward writes is read back. */
        json_t *p = dropin_parse("[Unit]\nNice=3\n[Service]\nNice=4\nRestart=bogus\n"
                                 "CPUQuota=50\nExecStart=/bin/x\n");
        assert_int_equal(json_object_size(p), 1);
        assert_int_equal(json_integer_value(json_object_get(p, "nice")), 4);
        json_decref(p);
}

static void test_guards(void **state) {
        (void)state;
        assert_non_null(svc_guard_reason("stop", "dbus.service", "unix:uid=0,pid=1"));
        assert_non_null(svc_guard_reason("mask", "systemd-journald.service", "127.0.0.1:5"));
        assert_non_null(svc_guard_reason("restart", "stewardd.service", "127.0.0.1:5"));
        assert_non_null(svc_guard_reason("stop", "ssh.service", "192.0.2.7:51234"));
        assert_null(svc_guard_reason("stop", "ssh.service", "127.0.0.1:51234"));
        assert_null(svc_guard_reason("stop", "ssh.service", "unix:uid=0,pid=1"));
        assert_null(svc_guard_reason("start", "dbus.service", "192.0.2.7:1"));
        assert_null(svc_guard_reason("enable", "ssh.service", "192.0.2.7:1"));
        assert_null(svc_guard_reason("stop", "nginx.service", "192.0.2.7:1"));
}

/* What operators may act on: a table, one line a case. */
static void test_operator_refusal(void **state) {
        static const struct {
                const char *unit;
                bool refused;
        } cases[] = {
                {"nginx.service", false},
                {"ssh.socket", false},
                {"logrotate.timer", false},
                {"foo@bar.service", false},
                {"poweroff.target", true},
                {"rescue.target", true},
                {"system.slice", true},
                {"session-1.scope", true},
                {"tmp.mount", true},
                {"swapfile.swap", true},
                {"dev-sda.device", true},
                {"foo.path", true},
                {"debug-shell.service", true},
                {"emergency.service", true},
                {"rescue.service", true},
                {"systemd-poweroff.service", true},
                {"systemd-journald.socket", true},
                {"systemd-tmpfiles-clean.timer", true},
                {"modprobe@dccp.service", true},
                {"getty@tty3.service", true},
                {"serial-getty@ttyS0.service", true},
                {"autovt@tty4.service", true},
                {"container-getty@1.service", true},
                {"user@0.service", true},
                {"user-runtime-dir@0.service", true},
                {"initrd-switch-root.service", true},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if ((svc_operator_refusal(cases[i].unit) != NULL) != cases[i].refused)
                        fail_msg("%s: expected %s", cases[i].unit,
                                 cases[i].refused ? "refused" : "allowed");
}

/* A plan shows every Environment= value redacted, the rest as it is. */
static void test_dropin_redact(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"[Service]\nNice=5\n", "[Service]\nNice=5\n"},
                {"Environment=\"A=b c\" \"D=e=f\"\n",
                 "Environment=\"A=(redacted)\" \"D=(redacted)\"\n"},
                {"Environment=\"A=\"\nNice=1", "Environment=\"A=(redacted)\"\nNice=1"},
                {"Nice=1\nEnvironment=\"PW=x\"", "Nice=1\nEnvironment=\"PW=(redacted)\""},
                {"", ""},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = NULL;
                assert_int_equal(dropin_redact(cases[i].in, strlen(cases[i].in), &out), 0);
                assert_string_equal(out, cases[i].out);
                free(out);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unit_names),
                cmocka_unit_test(test_patterns_and_states),
                cmocka_unit_test(test_environment),
                cmocka_unit_test(test_name_from_path),
                cmocka_unit_test(test_dropin_round_trip),
                cmocka_unit_test(test_dropin_bounds),
                cmocka_unit_test(test_guards),
                cmocka_unit_test(test_operator_refusal),
                cmocka_unit_test(test_dropin_redact),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
