/* test-alertnotify.c — what the alerts' notifier sends (src/modules/alerts/
 * webhook.c, mailer.c): Alertmanager's webhook body v4 field by field,
 * grouping by rule, common labels, times as Alertmanager writes them, the
 * API v2 alert list, a webhook's host without its path; the mail's
 * subject and text, and the message the helper builds: headers that
 * nothing can inject into, addresses checked again, long lines broken. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/alerts/mailer.h"
#include "modules/alerts/webhook.h"
#include "util.h"

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static json_t *alert(const char *rule, const char *instance, const char *status, int64_t starts,
                     int64_t ends, const char *severity) {
        json_t *a = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:I, s:I, s:f}",
                              "rule", rule, "fingerprint", "0123456789abcdef", "status", status,
                              "labels", "alertname", rule, "severity", severity, "host", "web1",
                              "annotations", "summary", "92.1 % used", "description",
                              "the filesystem is nearly full", "starts_at", (json_int_t)starts,
                              "ends_at", (json_int_t)ends, "value", 92.1);
        assert_non_null(a);
        if (instance[0])
                json_object_set_new(json_object_get(a, "labels"), "instance",
                                    json_string(instance));
        return a;
}

static void test_time(void **state) {
        char b[32];

        (void)state;
        webhook_time(0, b);
        assert_string_equal(b, "0001-01-01T00:00:00Z");
        webhook_time(-5, b);
        assert_string_equal(b, "0001-01-01T00:00:00Z");
        webhook_time(1796413928, b);
        assert_string_equal(b, "2026-12-04T19:52:08Z");
}

static void test_url_host(void **state) {
        char b[128];

        (void)state;
        webhook_url_host("https://hooks.example:8443/T0K3N/secret?x=1", b, sizeof b);
        assert_string_equal(b, "https://hooks.example:8443");
        webhook_url_host("http://[::1]:9/x", b, sizeof b);
        assert_string_equal(b, "http://[::1]:9");
        webhook_url_host("ftp://x/y", b, sizeof b);
        assert_string_equal(b, "");
        assert_int_equal(webhook_alertmanager_url("http://am:9093/", b, sizeof b), 0);
        assert_string_equal(b, "http://am:9093/api/v2/alerts");
        assert_int_equal(webhook_alertmanager_url("http://am:9093", b, sizeof b), 0);
        assert_string_equal(b, "http://am:9093/api/v2/alerts");
        assert_int_equal(webhook_alertmanager_url("http://am:9093", b, 10), -ENAMETOOLONG);
}

static void test_groups_by_rule(void **state) {
        json_t *batch = json_array(), *groups;

        (void)state;
        json_array_append_new(batch, alert("disk-full", "/srv", "firing", 100, 0, "warning"));
        json_array_append_new(batch,
                              alert("unit-failed", "x.service", "firing", 100, 0, "warning"));
        json_array_append_new(batch, alert("disk-full", "/var", "resolved", 50, 120, "critical"));
        groups = webhook_groups(batch);
        assert_int_equal(json_array_size(groups), 2);
        assert_int_equal(json_array_size(json_array_get(groups, 0)), 2);
        assert_int_equal(json_array_size(json_array_get(groups, 1)), 1);
        assert_string_equal(sget(json_array_get(json_array_get(groups, 0), 1), "status"),
                            "resolved");
        assert_string_equal(sget(json_array_get(json_array_get(groups, 1), 0), "rule"),
                            "unit-failed");
        json_decref(groups);
        json_decref(batch);
}

/* Every member of Alertmanager's webhook Message and template Data, no
 * other. */
static void test_webhook_body_v4(void **state) {
        static const char *const top[] = {
                "version",     "groupKey",     "truncatedAlerts",   "status",      "receiver",
                "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "alerts"};
        static const char *const each[] = {"status", "labels",       "annotations", "startsAt",
                                           "endsAt", "generatorURL", "fingerprint"};
        const char *ext = "https://web1:660/#/alerts";
        json_t *group = json_array(), *b, *a, *cl;

        (void)state;
        json_array_append_new(group,
                              alert("disk-full", "/srv", "firing", 1796413928, 0, "warning"));
        json_array_append_new(
                group, alert("disk-full", "/var", "resolved", 1796413000, 1796413928, "critical"));
        b = webhook_body(group, ext);
        assert_non_null(b);
        assert_int_equal(json_object_size(b), ELEMENTSOF(top));
        for (size_t i = 0; i < ELEMENTSOF(top); i++)
                assert_non_null(json_object_get(b, top[i]));
        assert_string_equal(sget(b, "version"), "4");
        assert_string_equal(sget(b, "groupKey"), "{}:{alertname=\"disk-full\"}");
        assert_int_equal(json_integer_value(json_object_get(b, "truncatedAlerts")), 0);
        assert_string_equal(sget(b, "status"), "firing"); /* one of them fires */
        assert_string_equal(sget(b, "receiver"), "steward");
        assert_string_equal(sget(b, "externalURL"), ext);
        assert_int_equal(json_object_size(json_object_get(b, "groupLabels")), 1);
        assert_string_equal(sget(json_object_get(b, "groupLabels"), "alertname"), "disk-full");
        /* Common: alertname and host; not severity nor instance (they differ). */
        cl = json_object_get(b, "commonLabels");
        assert_int_equal(json_object_size(cl), 2);
        assert_string_equal(sget(cl, "alertname"), "disk-full");
        assert_string_equal(sget(cl, "host"), "web1");
        assert_int_equal(json_object_size(json_object_get(b, "commonAnnotations")), 2);
        assert_int_equal(json_array_size(json_object_get(b, "alerts")), 2);
        a = json_array_get(json_object_get(b, "alerts"), 0);
        assert_int_equal(json_object_size(a), ELEMENTSOF(each));
        for (size_t i = 0; i < ELEMENTSOF(each); i++)
                assert_non_null(json_object_get(a, each[i]));
        assert_string_equal(sget(a, "status"), "firing");
        assert_string_equal(sget(a, "startsAt"), "2026-12-04T19:52:08Z");
        assert_string_equal(sget(a, "endsAt"), "0001-01-01T00:00:00Z");
        assert_string_equal(sget(a, "generatorURL"), ext);
        assert_string_equal(sget(a, "fingerprint"), "0123456789abcdef");
        assert_string_equal(sget(json_object_get(a, "labels"), "instance"), "/srv");
        /* labels and annotations are string maps: value is not among them */
        assert_null(json_object_get(json_object_get(a, "annotations"), "value"));
        a = json_array_get(json_object_get(b, "alerts"), 1);
        assert_string_equal(sget(a, "status"), "resolved");
        assert_string_equal(sget(a, "endsAt"), "2026-12-04T19:52:08Z");
        json_decref(b);

        /* All resolved: the group is resolved. */
        json_array_remove(group, 0);
        b = webhook_body(group, ext);
        assert_string_equal(sget(b, "status"), "resolved");
        json_decref(b);
        json_array_clear(group);
        assert_null(webhook_body(group, ext));
        json_decref(group);
}

static void test_alertmanager_body(void **state) {
        json_t *batch = json_array(), *b, *a;

        (void)state;
        json_array_append_new(batch,
                              alert("disk-full", "/srv", "firing", 1796413928, 0, "warning"));
        json_array_append_new(
                batch, alert("disk-full", "/var", "resolved", 1796413000, 1796413928, "warning"));
        b = webhook_alertmanager_body(batch, "https://web1:660/#/alerts", 0);
        assert_int_equal(json_array_size(b), 2);
        a = json_array_get(b, 0);
        assert_int_equal(json_object_size(a), 4); /* no endsAt while it fires */
        assert_null(json_object_get(a, "endsAt"));
        assert_string_equal(sget(a, "startsAt"), "2026-12-04T19:52:08Z");
        assert_string_equal(sget(json_object_get(a, "labels"), "alertname"), "disk-full");
        a = json_array_get(b, 1);
        assert_string_equal(sget(a, "endsAt"), "2026-12-04T19:52:08Z");
        assert_null(json_object_get(a, "status"));
        json_decref(b);
        /* With a validity: a firing alert ends then unless sent again. */
        b = webhook_alertmanager_body(batch, "x", 1796414168);
        assert_string_equal(sget(json_array_get(b, 0), "endsAt"), "2026-12-04T19:56:08Z");
        assert_string_equal(sget(json_array_get(b, 1), "endsAt"), "2026-12-04T19:52:08Z");
        json_decref(b);
        json_decref(batch);
}

static void test_mail_compose(void **state) {
        json_t *group = json_array();
        char *subject, *body;

        (void)state;
        json_array_append_new(group,
                              alert("disk-full", "/srv", "firing", 1796413928, 0, "warning"));
        assert_int_equal(mail_compose(group, "web1", "https://web1:660/#/alerts", &subject, &body),
                         0);
        assert_string_equal(subject, "[FIRING] disk-full on web1: 92.1 % used");
        assert_non_null(strstr(body, "[FIRING] /srv\n"));
        assert_non_null(strstr(body, "the filesystem is nearly full"));
        assert_non_null(strstr(body, "https://web1:660/#/alerts"));
        free(subject);
        free(body);
        json_array_append_new(
                group, alert("disk-full", "/var", "resolved", 1796413000, 1796413928, "warning"));
        assert_int_equal(mail_compose(group, "web1", "x", &subject, &body), 0);
        assert_string_equal(subject, "[FIRING:1] disk-full on web1");
        assert_non_null(strstr(body, "1 firing, 1 resolved"));
        free(subject);
        free(body);
        json_array_remove(group, 0);
        assert_int_equal(mail_compose(group, "web1", "x", &subject, &body), 0);
        assert_string_equal(subject, "[RESOLVED] disk-full on web1: 92.1 % used");
        free(subject);
        free(body);
        json_decref(group);
}

/* The headers are the helper's alone: a subject cannot add a header
 * line, an address cannot carry a second recipient or a header. */
static void test_mail_message_headers(void **state) {
        const char *to[] = {"root@localhost", "ops@example.org"};
        const char *bad_to[] = {"root@localhost\nBcc: evil@example.org"};
        const char *bad_to2[] = {"a@b, evil@example.org"};
        char *m, *end;

        (void)state;
        assert_int_equal(mail_message("steward@web1", to, 2,
                                      "[FIRING] x\r\nBcc: evil@example.org\nX: y",
                                      "line 1\r\n\nBcc: not-a-header\n", &m),
                         0);
        end = strstr(m, "\n\n");
        assert_non_null(end);
        *end = '\0'; /* the headers alone */
        assert_null(strstr(m, "\nBcc:"));
        assert_null(strstr(m, "\nX:"));
        assert_null(strchr(m, '\r'));
        assert_non_null(strstr(m, "Subject: [FIRING] x  Bcc: evil@example.org X: y\n"));
        assert_non_null(strstr(m, "From: steward@web1\nTo: root@localhost,\n ops@example.org\n"));
        assert_non_null(strstr(m, "Content-Type: text/plain; charset=UTF-8\n"));
        assert_string_equal(end + 2, "line 1\n\nBcc: not-a-header\n");
        free(m);

        assert_int_equal(mail_message("steward@web1", bad_to, 1, "s", "b", &m), -EINVAL);
        assert_int_equal(mail_message("steward@web1", bad_to2, 1, "s", "b", &m), -EINVAL);
        assert_int_equal(mail_message("steward@web1\nBcc: x@y", to, 1, "s", "b", &m), -EINVAL);
        assert_int_equal(mail_message("steward@web1", to, 0, "s", "b", &m), -EINVAL);
        assert_int_equal(mail_message("", to, 1, "s", "b", &m), -EINVAL);
}

static void test_mail_message_bounds(void **state) {
        const char *to[] = {"root@localhost"};
        char *subject = malloc(1000), *body = malloc(MAIL_BODY_MAX + 2), *m, *p;

        (void)state;
        /* Non-ASCII: one '?' a character; at most MAIL_SUBJECT_MAX bytes. */
        assert_int_equal(mail_message("a@b", to, 1, "/srv/d\xc3\xa9j\xc3\xa0", "b", &m), 0);
        assert_non_null(strstr(m, "Subject: /srv/d?j?\n"));
        free(m);
        memset(subject, 'x', 999);
        subject[999] = '\0';
        assert_int_equal(mail_message("a@b", to, 1, subject, "b", &m), 0);
        p = strstr(m, "Subject: ");
        assert_int_equal(strcspn(p + 9, "\n"), MAIL_SUBJECT_MAX);
        free(m);
        /* A line of 3000 bytes is broken at 998. */
        memset(body, 'y', 3000);
        body[3000] = '\0';
        assert_int_equal(mail_message("a@b", to, 1, "s", body, &m), 0);
        p = strstr(m, "\n\n") + 2;
        assert_int_equal(strcspn(p, "\n"), 998);
        assert_int_equal(strlen(p), 3000 + 4); /* three breaks and the last newline */
        free(m);
        memset(body, 'z', MAIL_BODY_MAX + 1);
        body[MAIL_BODY_MAX + 1] = '\0';
        assert_int_equal(mail_message("a@b", to, 1, "s", body, &m), -E2BIG);
        free(subject);
        free(body);
}

/* The task refuses anything but {subject, body}, before it reads any
 * setting. */
static void test_mail_task_args(void **state) {
        struct module_error e = {0};
        json_t *ret = NULL, *a;

        (void)state;
        a = json_pack("{s:s, s:s, s:s}", "subject", "s", "body", "b", "to", "evil@example.org");
        assert_int_equal(alerts_mail_task(a, &ret, &e), -EINVAL);
        assert_int_equal(e.status, 400);
        json_decref(a);
        a = json_pack("{s:s, s:i}", "subject", "s", "body", 1);
        assert_int_equal(alerts_mail_task(a, &ret, &e), -EINVAL);
        json_decref(a);
        a = json_pack("{s:s}", "subject", "s");
        assert_int_equal(alerts_mail_task(a, &ret, &e), -EINVAL);
        json_decref(a);
        /* Without a settings file: nobody to send to. */
        a = json_pack("{s:s, s:s}", "subject", "s", "body", "b");
        assert_int_equal(alerts_mail_task(a, &ret, &e), -ENOENT);
        assert_int_equal(e.status, 409);
        json_decref(a);
        assert_null(ret);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_url_host),
                cmocka_unit_test(test_groups_by_rule),
                cmocka_unit_test(test_webhook_body_v4),
                cmocka_unit_test(test_alertmanager_body),
                cmocka_unit_test(test_mail_compose),
                cmocka_unit_test(test_mail_message_headers),
                cmocka_unit_test(test_mail_message_bounds),
                cmocka_unit_test(test_mail_task_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
