/* test-alertengine.c — the alerts' state machine and notification decision
 * (src/modules/alerts/engine.c, alert_step and alert_should_notify): pending
 * before firing for the rule's for, at once with for 0, back to inactive
 * when a pending alert stops matching, firing kept inside the hysteresis
 * and resolved below clear or when the observation is gone, a new episode
 * after a resolution; notified once, again after repeat, never while
 * silenced; fingerprints stable and distinct; the alert object's labels. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/alerts/engine.h"
#include "util.h"

static struct alert_rule rule(unsigned for_s, double thr, double clear) {
        struct alert_rule r = {.kind = AK_THRESHOLD, .op = AOP_GT, .threshold = thr,
                               .clear = clear, .for_seconds = for_s, .enabled = true};
        snprintf(r.name, sizeof r.name, "r");
        snprintf(r.series, sizeof r.series, "cpu.busy");
        return r;
}

/* One step as the engine takes it: the state it leaves becomes current. */
static enum alert_state step(struct alert_inst *a, const struct alert_rule *r, bool have,
                             double v, int64_t now) {
        a->state = alert_step(a, r, have, v, now);
        return a->state;
}

static void test_pending_then_firing_then_resolved(void **state) {
        struct alert_rule r = rule(60, 90, 80);
        struct alert_inst a = {.state = AS_INACTIVE, .value = NAN};

        (void)state;
        assert_int_equal(step(&a, &r, true, 50, 1000), AS_INACTIVE);
        assert_int_equal(step(&a, &r, true, 95, 1010), AS_PENDING);
        assert_int_equal(a.active_at, 1010);
        assert_int_equal(step(&a, &r, true, 95, 1069), AS_PENDING);
        assert_int_equal(step(&a, &r, true, 95, 1070), AS_FIRING);
        assert_int_equal(a.starts_at, 1070);
        /* Hysteresis: under the threshold, over clear: still firing. */
        assert_int_equal(step(&a, &r, true, 85, 1080), AS_FIRING);
        assert_int_equal(step(&a, &r, true, 80, 1090), AS_RESOLVED);
        assert_int_equal(a.ends_at, 1090);
        assert_true(a.value == 80);
        /* A new episode. */
        assert_int_equal(step(&a, &r, true, 91, 1100), AS_PENDING);
        assert_int_equal(a.ends_at, 0);
        assert_int_equal(a.active_at, 1100);
}

static void test_pending_that_stops_matching_goes_back(void **state) {
        struct alert_rule r = rule(60, 90, NAN);
        struct alert_inst a = {.state = AS_INACTIVE, .value = NAN};

        (void)state;
        assert_int_equal(step(&a, &r, true, 95, 0), AS_PENDING);
        assert_int_equal(step(&a, &r, true, 90, 10), AS_INACTIVE); /* > 90 only */
        assert_int_equal(step(&a, &r, true, 95, 20), AS_PENDING);
        assert_int_equal(a.active_at, 20);
        assert_int_equal(step(&a, &r, false, NAN, 30), AS_INACTIVE);
}

static void test_for_zero_fires_at_once_and_a_gone_obs_resolves(void **state) {
        struct alert_rule r = rule(0, 90, NAN);
        struct alert_inst a = {.state = AS_INACTIVE, .value = NAN};

        (void)state;
        assert_int_equal(step(&a, &r, true, 91, 5), AS_FIRING);
        assert_int_equal(a.starts_at, 5);
        /* No clear: the threshold is the clear value. */
        assert_int_equal(step(&a, &r, true, 90.5, 6), AS_FIRING);
        assert_int_equal(step(&a, &r, false, NAN, 7), AS_RESOLVED);
        assert_true(a.value == 90.5); /* the last value seen */
        /* A NaN value matches nothing. */
        assert_int_equal(step(&a, &r, true, NAN, 8), AS_RESOLVED);
}

static void test_lower_is_worse(void **state) {
        struct alert_rule r = rule(0, 14, 20);
        struct alert_inst a = {.state = AS_INACTIVE, .value = NAN};

        (void)state;
        r.op = AOP_LE;
        assert_int_equal(step(&a, &r, true, 15, 0), AS_INACTIVE);
        assert_int_equal(step(&a, &r, true, 14, 1), AS_FIRING);
        assert_int_equal(step(&a, &r, true, 19, 2), AS_FIRING);
        assert_int_equal(step(&a, &r, true, 21, 3), AS_RESOLVED);
}

static void test_notification_decision(void **state) {
        struct alert_inst a = {.state = AS_FIRING};

        (void)state;
        assert_true(alert_should_notify(&a, false, 3600, 100));
        assert_false(alert_should_notify(&a, true, 3600, 100));
        a.notified = true;
        a.last_notified = 100;
        assert_false(alert_should_notify(&a, false, 3600, 3699));
        assert_true(alert_should_notify(&a, false, 3600, 3700));
        assert_false(alert_should_notify(&a, true, 3600, 3700));
        a.state = AS_PENDING;
        a.notified = false;
        assert_false(alert_should_notify(&a, false, 3600, 3700));
        a.state = AS_RESOLVED;
        assert_false(alert_should_notify(&a, false, 3600, 3700));
}

static void test_fingerprints(void **state) {
        char a[17], b[17], c[17], d[17];

        (void)state;
        alert_fingerprint("disk-full", "/srv", a);
        alert_fingerprint("disk-full", "/srv", b);
        alert_fingerprint("disk-full", "/", c);
        alert_fingerprint("disk-ful", "l/srv", d);
        assert_int_equal(strlen(a), 16);
        assert_int_equal(strspn(a, "0123456789abcdef"), 16);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_string_not_equal(a, d);
}

static void test_alert_object(void **state) {
        struct alert_rule r = rule(0, 90, 85);
        struct alert_inst a = {.state = AS_FIRING, .value = 92.5, .starts_at = 50,
                               .active_at = 50, .critical = true};
        json_t *o, *labels;

        (void)state;
        snprintf(a.rule, sizeof a.rule, "r");
        snprintf(a.instance, sizeof a.instance, "/srv");
        snprintf(r.summary, sizeof r.summary, "{instance} at {value} (over {threshold})");
        alert_fingerprint(a.rule, a.instance, a.fingerprint);
        o = alert_inst_json(&a, &r, false, NULL, 60);
        assert_non_null(o);
        labels = json_object_get(o, "labels");
        assert_string_equal(json_string_value(json_object_get(labels, "alertname")), "r");
        assert_string_equal(json_string_value(json_object_get(labels, "severity")), "critical");
        assert_string_equal(json_string_value(json_object_get(labels, "instance")), "/srv");
        assert_non_null(json_object_get(labels, "host"));
        assert_string_equal(json_string_value(json_object_get(o, "status")), "firing");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(o, "annotations"), "summary")),
                "/srv at 92.50 (over 90)");
        assert_int_equal(json_integer_value(json_object_get(o, "starts_at")), 50);
        assert_int_equal(json_integer_value(json_object_get(o, "ends_at")), 0);
        json_decref(o);
        /* The API's view: state, ack and silence from the marks. */
        json_t *marks = json_pack("{s:[{s:s, s:s, s:s, s:I, s:I}], s:{s:{s:s, s:I, s:s}}}",
                                  "silences", "id", "7", "rule", "r", "instance", "", "created_at",
                                  (json_int_t)0, "ends_at", (json_int_t)100, "acks",
                                  a.fingerprint, "user", "ann", "time", (json_int_t)55,
                                  "comment", "on it");
        o = alert_inst_json(&a, &r, true, marks, 60);
        assert_string_equal(json_string_value(json_object_get(o, "state")), "firing");
        assert_string_equal(json_string_value(json_object_get(o, "silenced_by")), "7");
        assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(o, "acknowledged"), "user")),
                            "ann");
        json_decref(o);
        /* An ack older than the episode, a silence that ended: none. */
        o = alert_inst_json(&a, &r, true, marks, 100);
        assert_true(json_is_null(json_object_get(o, "silenced_by")));
        json_decref(o);
        a.active_at = 56;
        o = alert_inst_json(&a, &r, true, marks, 60);
        assert_true(json_is_null(json_object_get(o, "acknowledged")));
        json_decref(o);
        json_decref(marks);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pending_then_firing_then_resolved),
                cmocka_unit_test(test_pending_that_stops_matching_goes_back),
                cmocka_unit_test(test_for_zero_fires_at_once_and_a_gone_obs_resolves),
                cmocka_unit_test(test_lower_is_worse),
                cmocka_unit_test(test_notification_decision),
                cmocka_unit_test(test_fingerprints),
                cmocka_unit_test(test_alert_object),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
