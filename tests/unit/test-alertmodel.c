/* test-alertmodel.c — alert rules as data (src/modules/alerts/model.c):
 * the grammar of each field and kind, the kinds' defaults, a modify that
 * keeps what it does not name, durations, the rules file's text both ways,
 * the shipped defaults when the file is absent, and a file that is not
 * valid refused whole. */
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

#include "modules/alerts/model.h"
#include "settingsfile.h"
#include "util.h"

static int parse(const char *text, struct alert_rule *r, struct module_error *e) {
        json_t *o = json_loads(text, 0, NULL);
        int rc;

        assert_non_null(o);
        rc = alert_rule_from_json(o, NULL, r, e);
        json_decref(o);
        return rc;
}

static void test_kind_defaults(void **state) {
        struct module_error e = {0};
        struct alert_rule r;

        (void)state;
        assert_int_equal(parse("{\"name\": \"d\", \"kind\": \"disk\"}", &r, &e), 0);
        assert_int_equal(r.op, AOP_GE);
        assert_true(r.threshold == 90 && r.clear == 85 && r.enabled && !r.critical);
        assert_int_equal(parse("{\"name\": \"f\", \"kind\": \"disk_fill\"}", &r, &e), 0);
        assert_true(r.op == AOP_LE && r.threshold == 24 && r.window_seconds == 6 * 3600);
        assert_true(isnan(r.clear));
        assert_int_equal(parse("{\"name\": \"l\", \"kind\": \"login_failures\", \"window\": "
                               "\"10m\"}",
                               &r, &e),
                         0);
        assert_true(r.threshold == 10 && r.window_seconds == 600);
        assert_int_equal(parse("{\"name\": \"c\", \"kind\": \"cert_expiry\", \"match\": "
                               "\"/etc/ssl/x.pem\"}",
                               &r, &e),
                         0);
        assert_true(r.op == AOP_LE && r.threshold == 14);
        assert_int_equal(parse("{\"name\": \"a\", \"kind\": \"audit_chain\"}", &r, &e), 0);
        assert_true(r.critical);
        assert_int_equal(parse("{\"name\": \"t\", \"kind\": \"threshold\", \"series\": "
                               "\"metric:node_load1{a=\\\"b\\\\\\\"c\\\"}\", \"threshold\": 2, "
                               "\"for\": \"5m\", \"enabled\": false}",
                               &r, &e),
                         0);
        assert_true(r.op == AOP_GT && r.for_seconds == 300 && !r.enabled);
        assert_int_equal(parse("{\"name\": \"s\", \"kind\": \"threshold\", \"series\": "
                               "\"status:mail:queue.total\", \"threshold\": 2}",
                               &r, &e),
                         0);
        assert_int_equal(parse("{\"name\": \"h\", \"kind\": \"threshold\", \"series\": "
                               "\"cpu.busy\", \"op\": \"<=\", \"threshold\": 2, \"clear\": 3}",
                               &r, &e),
                         0);
}

static void test_bad_rules(void **state) {
        static const struct {
                const char *text, *field;
        } bad[] = {
                {"{\"name\": \"\", \"kind\": \"disk\"}", "name"},
                {"{\"name\": \"-x\", \"kind\": \"disk\"}", "name"},
                {"{\"name\": \"UP\", \"kind\": \"disk\"}", "name"},
                {"{\"name\": \"a2345678901234567890123456789012345678901234567890123456789012345\","
                 " \"kind\": \"disk\"}",
                 "name"},
                {"{\"name\": \"x\"}", "kind"},
                {"{\"name\": \"x\", \"kind\": \"Disk\"}", "kind"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"extra\": 1}", "extra"},
                {"{\"name\": \"x\", \"kind\": \"threshold\", \"threshold\": 1}", "series"},
                {"{\"name\": \"x\", \"kind\": \"threshold\", \"series\": \"metric:1a\", "
                 "\"threshold\": 1}",
                 "series"},
                {"{\"name\": \"x\", \"kind\": \"threshold\", \"series\": \"metric:a{b=\\\"c\\\"\", "
                 "\"threshold\": 1}",
                 "series"},
                {"{\"name\": \"x\", \"kind\": \"threshold\", \"series\": \"status:mail\", "
                 "\"threshold\": 1}",
                 "series"},
                {"{\"name\": \"x\", \"kind\": \"threshold\", \"series\": \"status:mail:a..b\", "
                 "\"threshold\": 1}",
                 "series"},
                {"{\"name\": \"x\", \"kind\": \"threshold\", \"series\": \"cpu.busy\", "
                 "\"threshold\": 1, \"clear\": 2}",
                 "clear"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"threshold\": 1e300}", "threshold"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"threshold\": null}", "threshold"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"op\": \"=\"}", "op"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"match\": \"/a/../b\"}", "match"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"match\": \"/a/\"}", "match"},
                {"{\"name\": \"x\", \"kind\": \"unit_failed\", \"match\": \"a b\"}", "match"},
                {"{\"name\": \"x\", \"kind\": \"share_disk\", \"match\": \"../x\"}", "match"},
                {"{\"name\": \"x\", \"kind\": \"audit_chain\", \"match\": \"x\"}", "match"},
                {"{\"name\": \"x\", \"kind\": \"disk_fill\", \"window\": \"1m\"}", "window"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"window\": \"1h\"}", "window"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"for\": \"8d\"}", "for"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"for\": \"5\"}", "for"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"for\": \"-5m\"}", "for"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"severity\": \"page\"}", "severity"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"enabled\": 1}", "enabled"},
                {"{\"name\": \"x\", \"kind\": \"disk\", \"summary\": \"a\\u0007\"}", "summary"},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct module_error e = {0};
                struct alert_rule r;
                if (parse(bad[i].text, &r, &e) >= 0)
                        fail_msg("accepted: %s", bad[i].text);
                if (!STREQ(e.field, bad[i].field))
                        fail_msg("%s: field %s, expected %s (%s)", bad[i].text, e.field,
                                 bad[i].field, e.message);
        }
}

static void test_durations(void **state) {
        unsigned v;
        char buf[32];

        (void)state;
        assert_int_equal(alert_duration_parse("30s", 100, &v), 0);
        assert_int_equal(v, 30);
        assert_int_equal(alert_duration_parse("2h", 86400, &v), 0);
        assert_int_equal(v, 7200);
        assert_int_equal(alert_duration_parse("0", 1, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(alert_duration_parse("2h", 3600, &v), -ERANGE);
        assert_int_equal(alert_duration_parse("99999999d", UINT32_MAX, &v), -EINVAL);
        assert_int_equal(alert_duration_parse("1w", 1u << 30, &v), -EINVAL);
        assert_int_equal(alert_duration_parse("m", 100, &v), -EINVAL);
        assert_int_equal(alert_duration_parse("1m ", 100, &v), -EINVAL);
        assert_string_equal(alert_duration_format(90, buf, sizeof buf), "90s");
        assert_string_equal(alert_duration_format(300, buf, sizeof buf), "5m");
        assert_string_equal(alert_duration_format(86400, buf, sizeof buf), "1d");
        assert_string_equal(alert_duration_format(0, buf, sizeof buf), "0s");
}

static void test_modify_keeps_what_it_does_not_name(void **state) {
        struct module_error e = {0};
        struct alert_rule base, r;
        json_t *o;

        (void)state;
        assert_int_equal(parse("{\"name\": \"d\", \"kind\": \"disk\", \"match\": \"/srv\", "
                               "\"for\": \"5m\"}",
                               &base, &e),
                         0);
        o = json_pack("{s:i}", "threshold", 95);
        assert_int_equal(alert_rule_from_json(o, &base, &r, &e), 0);
        json_decref(o);
        assert_true(r.threshold == 95 && r.clear == 85 && r.for_seconds == 300);
        assert_string_equal(r.match, "/srv");
        /* Another kind starts from that kind's defaults. */
        o = json_pack("{s:s}", "kind", "mail_queue");
        assert_int_equal(alert_rule_from_json(o, &base, &r, &e), 0);
        json_decref(o);
        assert_true(r.kind == AK_MAIL_QUEUE && r.threshold == 100 && r.match[0] == '\0');
        assert_string_equal(r.name, "d");
        o = json_pack("{s:s}", "name", "e");
        assert_int_equal(alert_rule_from_json(o, &base, &r, &e), -EINVAL);
        json_decref(o);
        assert_string_equal(e.field, "name");
}

static void test_file_round_trip_and_defaults(void **state) {
        struct alert_rules rs = {0}, back = {0};
        struct module_error e = {0};
        char dir[] = "/tmp/test-alertmodel-XXXXXX", cfg[64], path[64];
        const char *text;
        char *made;
        FILE *f;

        (void)state;
        assert_int_equal(alert_rules_defaults(&rs), 0);
        assert_int_equal(rs.n, 3);
        assert_string_equal(rs.rule[0].name, "disk-full");
        made = alert_rules_format(&rs);
        assert_non_null(made);
        assert_int_equal(alert_rules_parse(made, strlen(made), &back, &e), 0);
        assert_int_equal(back.n, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(back.rule[i].name, rs.rule[i].name);
                assert_int_equal(back.rule[i].kind, rs.rule[i].kind);
                assert_true(back.rule[i].threshold == rs.rule[i].threshold);
                assert_int_equal(back.rule[i].critical, rs.rule[i].critical);
        }
        free(made);
        alert_rules_done(&back);
        alert_rules_done(&rs);

        /* A file with a rule twice, or one bad rule, is refused whole. */
        text = "{\"rules\": [{\"name\": \"a\", \"kind\": \"disk\"}, {\"name\": \"a\", "
               "\"kind\": \"disk\"}]}";
        assert_int_equal(alert_rules_parse(text, strlen(text), &back, &e), -EEXIST);
        text = "{\"rules\": [{\"name\": \"a\", \"kind\": \"disk\"}, {\"name\": \"b\"}]}";
        assert_int_equal(alert_rules_parse(text, strlen(text), &back, &e), -EINVAL);
        assert_non_null(strstr(e.message, "#2"));
        text = "{\"rules\": {}}";
        assert_int_equal(alert_rules_parse(text, strlen(text), &back, &e), -EINVAL);

        /* The file next to --config; absent: the defaults. */
        assert_non_null(mkdtemp(dir));
        snprintf(cfg, sizeof cfg, "%s/stewardd.conf", dir);
        snprintf(path, sizeof path, "%s/alert-rules.json", dir);
        assert_int_equal(settings_config_path_set(cfg), 0);
        assert_string_equal(alert_rules_path(), path);
        assert_int_equal(alert_rules_load(&rs, NULL, &e), 0);
        assert_int_equal(rs.n, 3);
        alert_rules_done(&rs);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("{\"rules\": []}\n", f);
        fclose(f);
        assert_int_equal(alert_rules_load(&rs, NULL, &e), 0);
        assert_int_equal(rs.n, 0);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kind_defaults),
                cmocka_unit_test(test_bad_rules),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_modify_keeps_what_it_does_not_name),
                cmocka_unit_test(test_file_round_trip_and_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
