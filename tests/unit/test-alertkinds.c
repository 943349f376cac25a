/* test-alertkinds.c — the alert kinds' pure parts (kinds_pure.c: the fit
 * behind disk_fill, the bounded rings, status paths, listener names, globs,
 * dates), the certificate reader (common/certinfo.c), the mount point
 * exclusion (procfs.c), and the dispatch of alert_kind_observe() on what
 * needs no helper (the disk kind on this machine, a threshold rule on an
 * unknown series, a status: rule).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certinfo.h"
#include "modules/alerts/kinds_int.h"
#include "procfs.h"
#include "stats.h"
#include "util.h"

/* Made with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
 * -subj /CN=alerts.test -days 30; notAfter Jan  3 19:57:42 2027 GMT. */
static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBgDCCASegAwIBAgIUAR327YUCRJklvzY8KTxZm37r4WMwCgYIKoZIzj0EAwIw\n"
                               "FjEUMBIGA1UEAwwLYWxlcnRzLnRlc3QwHhcNMjYxMjA0MTk1NzQyWhcNMjcwMTAz\n"
                               "MTk1NzQyWjAWMRQwEgYDVQQDDAthbGVydHMudGVzdDBZMBMGByqGSM49AgEGCCqG\n"
                               "SM49AwEHA0IABM7CsPDyZL98LBhY2a64eZ7wASAGWw70Zbx/kr1ZLI5GcOXXPWhB\n"
                               "Ya+W9kO8/B+swq3AvHHAfvJhQOXmuxThQ46jUzBRMB0GA1UdDgQWBBQ34uhPMQLy\n"
                               "xJV+NDidTrLKxVSsJzAfBgNVHSMEGDAWgBQ34uhPMQLyxJV+NDidTrLKxVSsJzAP\n"
                               "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIH1L6e98x7K4Z0w7kUld\n"
                               "CluXZlO+PdDllQkSVwSOHFPTAiAdgWSQ3hIRBaFX8ATT0TGw9OW15Stl4G82cnOV\n"
                               "iTEiow==\n"
                               "-----END CERTIFICATE-----\n";
#define CERT_NOT_AFTER INT64_C(1799006262)

static void test_fit(void **state) {
        const double x[] = {0, 1, 2, 3, 4}, y[] = {10, 12, 14, 16, 18}, flat[] = {5, 5, 5, 5, 5};
        const double same_x[] = {3, 3, 3};
        double a = 0, b = 0;

        (void)state;
        assert_int_equal(kinds_linear_fit(x, y, 5, &a, &b), 0);
        assert_true(fabs(a - 10) < 1e-9 && fabs(b - 2) < 1e-9);
        assert_int_equal(kinds_linear_fit(x, flat, 5, &a, &b), 0);
        assert_true(fabs(b) < 1e-12);
        assert_int_equal(kinds_linear_fit(x, y, 1, &a, &b), -EDOM);
        assert_int_equal(kinds_linear_fit(same_x, y, 3, &a, &b), -EDOM);
        /* Noise around a slope of 3: the fit finds it. */
        {
                const double nx[] = {0, 1, 2, 3, 4, 5}, ny[] = {1, 3.9, 7.1, 10, 12.9, 16.1};
                assert_int_equal(kinds_linear_fit(nx, ny, 6, &a, &b), 0);
                assert_true(fabs(b - 3) < 0.1);
        }
}

static void test_ring(void **state) {
        static struct kinds_ring g;
        double v = 0;

        (void)state;
        assert_false(kinds_ring_at(&g, 100, &v));
        kinds_ring_add(&g, 100, 1, 0);
        kinds_ring_add(&g, 100, 2, 0); /* same second: skipped */
        kinds_ring_add(&g, 110, 3, 0);
        kinds_ring_add(&g, 120, NAN, 0); /* not a value: skipped */
        assert_int_equal(g.n, 2);
        assert_true(kinds_ring_at(&g, 105, &v) && v == 1);
        assert_true(kinds_ring_at(&g, 50, &v) && v == 1); /* before all: the oldest */
        assert_true(kinds_ring_at(&g, 999, &v) && v == 3);
        /* The clock went back: start again. */
        kinds_ring_add(&g, 90, 7, 0);
        assert_int_equal(g.n, 1);
        /* keep drops what is older. */
        kinds_ring_add(&g, 200, 8, 50);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.t[0], 200);
        /* Full: it thins itself and keeps its start and its end. */
        g = (struct kinds_ring){0};
        for (int64_t t = 0; t < 3 * (int64_t)KINDS_RING_MAX; t++)
                kinds_ring_add(&g, 1000 + t, (double)t, 0);
        assert_true(g.n <= KINDS_RING_MAX);
        assert_int_equal(g.t[0], 1000);
        assert_true(g.t[g.n - 1] >= 1000 + 3 * (int64_t)KINDS_RING_MAX - 1 - g.spacing);
        assert_true(g.spacing >= 2);
        for (size_t i = 1; i < g.n; i++)
                assert_true(g.t[i] > g.t[i - 1]);
}

static void test_fill_hours(void **state) {
        static struct kinds_ring g;
        double h = -1;

        (void)state;
        /* 1 MiB a minute into 60 MiB of capacity, 10 MiB used at t=600. */
        for (int64_t t = 0; t <= 600; t += 60)
                kinds_ring_add(&g, t, (double)(t / 60) * 1048576.0, 0);
        assert_int_equal(kinds_fill_hours(&g, 600, 3600, 60 * 1048576.0, &h), 1);
        assert_true(fabs(h - 50.0 / 60.0) < 1e-6); /* 50 MiB left at 1 MiB/min */
        /* Past full already: 0. */
        assert_int_equal(kinds_fill_hours(&g, 600, 3600, 5 * 1048576.0, &h), 1);
        assert_true(h == 0);
        /* Too short a span for the window (< window/20). */
        assert_int_equal(kinds_fill_hours(&g, 600, 6 * 3600 * 10, 60 * 1048576.0, &h), 0);
        /* Only what is inside the window counts: two samples are too few. */
        assert_int_equal(kinds_fill_hours(&g, 600, 60, 60 * 1048576.0, &h), 0);
        /* Not growing: nothing. */
        g = (struct kinds_ring){0};
        for (int64_t t = 0; t <= 600; t += 60)
                kinds_ring_add(&g, t, 1e9 - (double)t, 0);
        assert_int_equal(kinds_fill_hours(&g, 600, 3600, 2e9, &h), 0);
}

static void test_json_path(void **state) {
        json_t *j = json_loads("{\"state\": \"running\", \"queue\": {\"deferred\": 3, \"ok\": "
                               "true}, \"servers\": [{\"up\": false}], \"x\": null}",
                               0, NULL);
        double v = -1;

        (void)state;
        assert_non_null(j);
        assert_int_equal(kinds_json_path(j, "queue.deferred", &v), 1);
        assert_true(v == 3);
        assert_int_equal(kinds_json_path(j, "queue.ok", &v), 1);
        assert_true(v == 1);
        assert_int_equal(kinds_json_path(j, "servers.0.up", &v), 1);
        assert_true(v == 0);
        assert_int_equal(kinds_json_path(j, "servers.1.up", &v), 0);
        assert_int_equal(kinds_json_path(j, "servers.x", &v), 0);
        assert_int_equal(kinds_json_path(j, "nothing", &v), 0);
        assert_int_equal(kinds_json_path(j, "state", &v), -EINVAL);
        assert_int_equal(kinds_json_path(j, "queue", &v), -EINVAL);
        assert_int_equal(kinds_json_path(j, "x", &v), -EINVAL);
        assert_int_equal(kinds_json_path(j, "queue..ok", &v), -EINVAL);
        assert_int_equal(kinds_json_path(j, "state.deeper", &v), 0);
        json_decref(j);
}

static void test_listener_names(void **state) {
        char b[128];

        (void)state;
        kinds_listener_key("tcp", "ipv4", "0.0.0.0", 660, b, sizeof b);
        assert_string_equal(b, "tcp ipv4 0.0.0.0 660");
        kinds_listener_instance("tcp", "ipv4", "0.0.0.0", 8080, b, sizeof b);
        assert_string_equal(b, "tcp 0.0.0.0:8080");
        kinds_listener_instance("udp", "ipv6", "::", 53, b, sizeof b);
        assert_string_equal(b, "udp [::]:53");
}

static void test_glob_days_mounts(void **state) {
        const char *const mounts[] = {"/", "/srv", "/srv/data", "/srvx"};
        char b[32];

        (void)state;
        assert_true(kinds_glob_match("", "anything.service"));
        assert_true(kinds_glob_match("nginx*.service", "nginx-debug.service"));
        assert_false(kinds_glob_match("nginx*.service", "apache2.service"));
        assert_true(kinds_glob_match("*@*.service", "getty@tty1.service"));
        assert_true(fabs(kinds_days_left(86400 * 3 + 100, 100) - 3) < 1e-9);
        assert_true(kinds_days_left(0, 86400) < 0);
        assert_string_equal(kinds_mount_of("/srv/data/x", mounts, 4), "/srv/data");
        assert_string_equal(kinds_mount_of("/srv/datax", mounts, 4), "/srv");
        assert_string_equal(kinds_mount_of("/srvx", mounts, 4), "/srvx");
        assert_string_equal(kinds_mount_of("/home/a", mounts, 4), "/");
        assert_null(kinds_mount_of("relative", mounts, 4));
        assert_null(kinds_mount_of("/home", mounts + 1, 3));
        kinds_bytes_text(512, b, sizeof b);
        assert_string_equal(b, "512 B");
        kinds_bytes_text(1.5 * 1073741824.0, b, sizeof b);
        assert_string_equal(b, "1.5 GiB");
        assert_true(procfs_mount_point_excluded("/proc"));
        assert_true(procfs_mount_point_excluded("/sys/fs/cgroup"));
        assert_true(procfs_mount_point_excluded("/var/lib/docker/overlay2/x"));
        assert_false(procfs_mount_point_excluded("/var/lib/docker"));
        assert_false(procfs_mount_point_excluded("/devices"));
        assert_false(procfs_mount_point_excluded("/"));
}

static void test_certinfo(void **state) {
        int64_t na = 0;
        char subject[64];
        char chain[sizeof cert_pem * 2];

        (void)state;
        assert_int_equal(
                certinfo_not_after(cert_pem, strlen(cert_pem), &na, subject, sizeof subject), 0);
        assert_int_equal(na, CERT_NOT_AFTER);
        assert_string_equal(subject, "CN=alerts.test");
        /* A chain: the first (the leaf) is the one. */
        snprintf(chain, sizeof chain, "%s%s", cert_pem, cert_pem);
        assert_int_equal(certinfo_not_after(chain, strlen(chain), &na, NULL, 0), 0);
        assert_int_equal(na, CERT_NOT_AFTER);
        assert_int_equal(certinfo_not_after("not a certificate", 17, &na, NULL, 0), -EINVAL);
        assert_int_equal(certinfo_not_after(cert_pem, 40, &na, NULL, 0), -EINVAL);
        assert_int_equal(certinfo_not_after(NULL, 0, &na, NULL, 0), -EINVAL);
        /* Every cut of it is refused or read, never a crash. */
        for (size_t n = 1; n < strlen(cert_pem); n += 7)
                (void)certinfo_not_after(cert_pem, n, &na, NULL, 0);
}

static void test_observe(void **state) {
        struct alert_rule r = {.kind = AK_DISK, .threshold = 90, .enabled = true};
        struct alert_obs obs[8];
        struct module_error e = {0};
        size_t n = 99;

        (void)state;
        snprintf(r.name, sizeof r.name, "disk-root");
        snprintf(r.match, sizeof r.match, "/");
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 8, &n, &e), 0);
        assert_true(n <= 1); /* "/" may be read-only in a build sandbox */
        if (n == 1) {
                assert_string_equal(obs[0].instance, "/");
                assert_true(obs[0].value >= 0 && obs[0].value <= 100);
                assert_non_null(strstr(obs[0].detail, "% used"));
        }
        /* A mount point that is none: no observation, no error. */
        snprintf(r.match, sizeof r.match, "/no/such/mount");
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 8, &n, &e), 0);
        assert_int_equal(n, 0);
        /* A history series that does not exist is the rule's error. */
        r.kind = AK_THRESHOLD;
        snprintf(r.series, sizeof r.series, "cpu.nonsense");
        assert_true(alert_kind_observe(&r, 1000, obs, 8, &n, &e) < 0);
        assert_int_equal(e.status, 503);
        /* Before the first sample, a real series has nothing to say. */
        snprintf(r.series, sizeof r.series, "cpu.busy");
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 8, &n, &e), 0);
        assert_int_equal(n, 0);
        /* No metric source in this process. */
        snprintf(r.series, sizeof r.series, "metric:node_load1");
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 8, &n, &e), -ENOSYS);
        /* status: of a module that does not exist, and a malformed one. */
        snprintf(r.series, sizeof r.series, "status:nosuchmodule:state");
        assert_true(alert_kind_observe(&r, 1000, obs, 8, &n, &e) < 0);
        snprintf(r.series, sizeof r.series, "status:stewardd");
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 8, &n, &e), -EINVAL);
        /* The helper is not here: the kinds that need it say so. */
        r.kind = AK_MAIL_QUEUE;
        assert_true(alert_kind_observe(&r, 1000, obs, 8, &n, &e) < 0);
        r.kind = _AK_MAX;
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 8, &n, &e), -EINVAL);
        alert_kinds_reset();
}

/* login_failures: the helper's count sampled into a ring; a rule with a
 * short window must not drop what a longer one needs. */
static double failures(int64_t now, unsigned window, uint64_t count) {
        struct alert_rule r = {.kind = AK_LOGIN_FAILURES, .window_seconds = window};
        struct alert_obs obs[2];
        struct module_error e = {0};
        size_t n = 0;

        atomic_store(&stats_logins_failed, count);
        assert_int_equal(alert_kind_observe(&r, now, obs, 2, &n, &e), 0);
        assert_int_equal(n, 1);
        assert_string_equal(obs[0].instance, "");
        return obs[0].value;
}

static void test_login_failures(void **state) {
        struct alert_rule r = {.kind = AK_LOGIN_FAILURES, .window_seconds = 300};
        struct alert_obs obs[2];
        struct module_error e = {0};
        size_t n = 9;

        (void)state;
        alert_kinds_reset();
        atomic_store(&stats_counters_known, false);
        assert_int_equal(alert_kind_observe(&r, 1000, obs, 2, &n, &e), 0);
        assert_int_equal(n, 0); /* the helper was not asked yet */
        atomic_store(&stats_counters_known, true);
        assert_true(failures(1000, 300, 5) == 0); /* nothing before: none counted */
        assert_true(failures(1100, 300, 8) == 3);
        assert_true(failures(1500, 300, 9) == 1); /* since 1200: the sample of 1100 */
        assert_true(failures(1501, 60, 9) == 1);
        assert_true(failures(1502, 300, 9) == 1); /* the short window dropped nothing */
        assert_true(failures(1503, 300, 2) == 0); /* the helper restarted: count again */
        assert_true(failures(1600, 300, 6) == 4);
        atomic_store(&stats_counters_known, false);
        atomic_store(&stats_logins_failed, 0);
        alert_kinds_reset();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fit),
                cmocka_unit_test(test_ring),
                cmocka_unit_test(test_fill_hours),
                cmocka_unit_test(test_json_path),
                cmocka_unit_test(test_listener_names),
                cmocka_unit_test(test_glob_days_mounts),
                cmocka_unit_test(test_certinfo),
                cmocka_unit_test(test_observe),
                cmocka_unit_test(test_login_failures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
