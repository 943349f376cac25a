/* test-expo.c — the exposition writer (escaping, numbers, names, sticky
 * errors), the metrics collectors against fixtures, and the request
 * counters.
 *
 * Collectors get their text in a buffer of exactly its size with no NUL
 * after it, so AddressSanitizer catches any read past len.  Every good
 * fixture is also fed to every collector cut at every length: whatever a
 * collector returns, the output must stay well formed (ending in a newline)
 * and a failing collector must leave it as it was.
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

#include "modules/metrics/expo.h"
#include "modules/metrics/httpstats.h"
#include "modules/metrics/sampler.h"
#include "procfs.h"
#include "util.h"

#include "fixture.h"

/* True if `line` (without its newline) is a whole line of text. */
static bool has_line(const char *text, const char *line) {
        size_t l = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && p[l] == '\n')
                        return true;
        return false;
}

#define assert_line(text, line)                                                                    \
        do {                                                                                       \
                if (!has_line((text), (line)))                                                     \
                        fail_msg("no line \"%s\" in:\n%s", (line), (text));                        \
        } while (0)

/* ---- escaping and names ------------------------------------------------------ */

static void escaped(const char *in, size_t n, const char *want) {
        struct buf b;

        buf_init(&b, 1 << 20);
        assert_int_equal(expo_escape_label_value(&b, in, n), 0);
        assert_non_null(b.data ? b.data : "");
        assert_string_equal(b.data ? b.data : "", want);
        buf_free(&b);
}

static void test_escape_label_value(void **state) {
        escaped("", 0, "");
        escaped("plain", 5, "plain");
        escaped("a\\b", 3, "a\\\\b");
        escaped("say \"hi\"", 8, "say \\\"hi\\\"");
        escaped("two\nlines", 9, "two\\nlines");
        escaped("\\\"\n", 3, "\\\\\\\"\\n");
        /* Tabs and other controls are legal in label values. */
        escaped("a\tb\rc", 5, "a\tb\rc");
        /* Valid UTF-8 is kept, invalid bytes become U+FFFD one by one. */
        escaped("caf\xc3\xa9", 5, "caf\xc3\xa9");
        escaped("\xe2\x82\xac", 3, "\xe2\x82\xac");
        escaped("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
        escaped("a\xff"
                "b",
                3,
                "a\xef\xbf\xbd"
                "b");
        escaped("\xc3", 1, "\xef\xbf\xbd");                                 /* cut sequence */
        escaped("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");                 /* overlong '/' */
        escaped("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
}

static void test_escape_round_trip_in_sample(void **state) {
        struct buf b;
        struct expo e;

        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_family(&e, "x_info", "gauge", "Help with a \\ backslash\nand a newline.");
        expo_sample(&e, "x_info");
        expo_label(&e, "mountpoint", "/mnt/a \"b\"\\c\nd");
        expo_label(&e, "empty", "");
        expo_u64(&e, 1);
        assert_int_equal(e.error, 0);
        assert_string_equal(b.data,
                            "# HELP x_info Help with a \\\\ backslash\\nand a newline.\n"
                            "# TYPE x_info gauge\n"
                            "x_info{mountpoint=\"/mnt/a \\\"b\\\"\\\\c\\nd\",empty=\"\"} 1\n");
        buf_free(&b);
}

static void test_names(void **state) {
        char d[32];

        assert_true(expo_metric_name_valid("node_cpu_seconds_total", 22));
        assert_true(expo_metric_name_valid("a:b_c", 5));
        assert_false(expo_metric_name_valid("1abc", 4));
        assert_false(expo_metric_name_valid("a-b", 3));
        assert_false(expo_metric_name_valid("", 0));

        assert_int_equal(expo_name_component("Active(anon)", 12, d, sizeof d), 0);
        assert_string_equal(d, "Active_anon");
        assert_int_equal(expo_name_component("HugePages_Total", 15, d, sizeof d), 0);
        assert_string_equal(d, "HugePages_Total");
        assert_int_equal(expo_name_component("a-b.c", 5, d, sizeof d), 0);
        assert_string_equal(d, "a_b_c");
        assert_int_equal(expo_name_component(")", 1, d, sizeof d), -EINVAL);
        assert_int_equal(expo_name_component("abcdefgh", 8, d, 8), -ENAMETOOLONG);
        assert_int_equal(expo_name_component("abcdefg", 7, d, 8), 0);
}

/* ---- numbers ------------------------------------------------------------------ */

static char *one_value(void (*fn)(struct expo *, const void *), const void *arg) {
        static char out[128];
        struct buf b;
        struct expo e;

        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_sample(&e, "v");
        fn(&e, arg);
        assert_int_equal(e.error, 0);
        assert_true(b.len > 3 && b.len < sizeof out);
        /* "v VALUE\n" */
        memcpy(out, b.data + 2, b.len - 3);
        out[b.len - 3] = '\0';
        buf_free(&b);
        return out;
}

struct ratio {
        uint64_t num, den;
};

static void put_ratio(struct expo *e, const void *a) {
        const struct ratio *r = a;
        expo_ratio(e, r->num, r->den);
}

static void put_double(struct expo *e, const void *a) {
        expo_double(e, *(const double *)a);
}

static void put_u64(struct expo *e, const void *a) {
        expo_u64(e, *(const uint64_t *)a);
}

static void put_i64(struct expo *e, const void *a) {
        expo_i64(e, *(const int64_t *)a);
}

static void test_numbers(void **state) {
        static const struct {
                struct ratio r;
                const char *want;
        } ratios[] = {
                {{333001, 100}, "3330.01"},
                {{333000, 100}, "3330"},
                {{7, 100}, "0.07"},
                {{5, 1000}, "0.005"},
                {{1, 3}, "0.333333333"},
                {{0, 100}, "0"},
                {{UINT64_MAX, 1}, "18446744073709551615"},
                {{1795669262038444960ULL, 1000000000}, "1795669262.03844496"},
        };
        uint64_t u = UINT64_MAX, z = 0;
        int64_t i = -1, m = INT64_MIN;
        double d;

        for (size_t k = 0; k < sizeof ratios / sizeof ratios[0]; k++)
                assert_string_equal(one_value(put_ratio, &ratios[k].r), ratios[k].want);
        assert_string_equal(one_value(put_u64, &u), "18446744073709551615");
        assert_string_equal(one_value(put_u64, &z), "0");
        assert_string_equal(one_value(put_i64, &i), "-1");
        assert_string_equal(one_value(put_i64, &m), "-9223372036854775808");
        d = 0.29;
        assert_string_equal(one_value(put_double, &d), "0.29");
        d = 1.0;
        assert_string_equal(one_value(put_double, &d), "1");
        d = 1e300;
        assert_string_equal(one_value(put_double, &d), "1e+300");
        d = 0.1 + 0.2; /* needs 17 digits to read back */
        assert_string_equal(one_value(put_double, &d), "0.30000000000000004");
        d = 1.0 / 0.0;
        assert_string_equal(one_value(put_double, &d), "+Inf");
        d = -1.0 / 0.0;
        assert_string_equal(one_value(put_double, &d), "-Inf");
        d = 0.0 / 0.0;
        assert_string_equal(one_value(put_double, &d), "NaN");
}

static void test_sticky_errors(void **state) {
        struct buf b;
        struct expo e;

        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_family(&e, "bad-name", "gauge", "x");
        assert_int_equal(e.error, -EINVAL);
        expo_family(&e, "good", "gauge", "x");
        assert_int_equal(b.len, 0); /* nothing after the first error */
        buf_free(&b);

        /* A value without a sample, a label without a sample. */
        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_u64(&e, 1);
        assert_int_equal(e.error, -EINVAL);
        buf_free(&b);
        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_label(&e, "a", "b");
        assert_int_equal(e.error, -EINVAL);
        buf_free(&b);
        /* Bad label names; a raw value that is no integer. */
        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_sample(&e, "m");
        expo_label(&e, "a:b", "x");
        assert_int_equal(e.error, -EINVAL);
        buf_free(&b);
        buf_init(&b, 1 << 20);
        expo_init(&e, &b);
        expo_sample(&e, "m");
        expo_raw_value(&e, "1e3", 3);
        assert_int_equal(e.error, -EINVAL);
        buf_free(&b);

        /* The output cap. */
        buf_init(&b, 64);
        expo_init(&e, &b);
        for (int k = 0; k < 10; k++)
                expo_family(&e, "some_long_metric_name", "gauge", "Some help text.");
        assert_int_equal(e.error, -E2BIG);
        buf_free(&b);
}

/* ---- collectors ------------------------------------------------------------------ */

typedef int (*collector_fn)(struct expo *e, const char *text, size_t len);

static int stat100(struct expo *e, const char *t, size_t n) {
        return collect_stat(e, t, n, 100);
}

static int sockstat4k(struct expo *e, const char *t, size_t n) {
        return collect_sockstat(e, t, n, 4096);
}

/* Runs fn on text; returns its result, the output in *ret (malloc'ed). */
static int run(collector_fn fn, const char *text, size_t len, char **ret) {
        struct buf b;
        struct expo e;
        int r;

        buf_init(&b, 16 << 20);
        expo_init(&e, &b);
        r = fn(&e, text, len);
        assert_int_equal(e.error, 0);
        assert_false(e.in_sample);
        *ret = buf_steal(&b);
        return r;
}

static char *run_fixture(collector_fn fn, const char *fixture) {
        _cleanup_free_ char *t = NULL;
        char *out;
        size_t len;

        load(fixture, &t, &len);
        assert_int_equal(run(fn, t, len, &out), 0);
        return out;
}

static int run_text(collector_fn fn, const char *text, char **ret) {
        _cleanup_free_ char *t = NULL;
        size_t len;

        t = exact(text, &len);
        return run(fn, t, len, ret);
}

static void test_meminfo(void **state) {
        _cleanup_free_ char *out = NULL, *bad = NULL;

        assert_int_equal(run_text(collect_meminfo,
                                  "MemTotal:       24683656 kB\n"
                                  "Active(anon):      12 kB\n"
                                  "HugePages_Total:       0\n"
                                  "Hugepagesize:       2048 kB",
                                  &out),
                         0);
        assert_line(out, "# HELP node_memory_MemTotal_bytes Memory information field "
                         "MemTotal_bytes.");
        assert_line(out, "# TYPE node_memory_MemTotal_bytes gauge");
        assert_line(out, "node_memory_MemTotal_bytes 25276063744");
        assert_line(out, "node_memory_Active_anon_bytes 12288");
        assert_line(out, "# TYPE node_memory_HugePages_Total gauge");
        assert_line(out, "node_memory_HugePages_Total 0");
        assert_line(out, "node_memory_Hugepagesize_bytes 2097152");

        /* Malformed: nothing is written. */
        assert_int_equal(run_text(collect_meminfo, "MemTotal: 1 kB\nMemFree: x kB\n", &bad),
                         -EINVAL);
        assert_string_equal(bad, "");
        free(bad);
        assert_int_equal(run_text(collect_meminfo, "MemTotal: 1 MB\n", &bad), -EINVAL);
        assert_string_equal(bad, "");
        free(bad);
        assert_int_equal(run_text(collect_meminfo, "Big: 18446744073709551615 kB\n", &bad),
                         -EINVAL);
        assert_string_equal(bad, "");

        free(out);
        out = run_fixture(collect_meminfo, "meminfo");
        assert_line(out, "node_memory_MemTotal_bytes 25276063744");
}

static void test_stat(void **state) {
        _cleanup_free_ char *out = run_fixture(stat100, "stat");

        assert_line(out, "# TYPE node_cpu_seconds_total counter");
        assert_line(out, "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 18.54");
        assert_line(out, "node_cpu_seconds_total{cpu=\"1\",mode=\"iowait\"} 4.18");
        assert_line(out, "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 0");
        assert_line(out, "node_boot_time_seconds 1795663528");
        assert_line(out, "node_context_switches_total 237171");
        assert_line(out, "node_forks_total 3846");
        assert_line(out, "node_intr_total 122493");
        assert_line(out, "node_procs_running 2");
        assert_line(out, "node_procs_blocked 0");
        /* The total "cpu" line is not a CPU of its own. */
        assert_null(strstr(out, "cpu=\"\""));
}

static void test_loadavg_netdev_filefd(void **state) {
        _cleanup_free_ char *la = run_fixture(collect_loadavg, "loadavg");
        _cleanup_free_ char *nd = run_fixture(collect_netdev, "net-dev");
        _cleanup_free_ char *fd = run_fixture(collect_filefd, "file-nr");
        _cleanup_free_ char *bad = NULL;

        assert_line(la, "# TYPE node_load1 gauge");
        assert_non_null(strstr(la, "\nnode_load15 "));
        assert_line(nd, "# TYPE node_network_receive_bytes_total counter");
        assert_non_null(strstr(nd, "node_network_receive_bytes_total{device=\"lo\"} "));
        assert_non_null(strstr(nd, "node_network_transmit_carrier_total{device=\"lo\"} "));
        assert_line(fd, "node_filefd_allocated 134");
        assert_line(fd, "node_filefd_maximum 2466174");
        assert_int_equal(run_text(collect_filefd, "1 2\n", &bad), -EINVAL);
        free(bad);
        assert_int_equal(run_text(collect_filefd, "1 2 3 4\n", &bad), -EINVAL);
}

static void test_diskstats(void **state) {
        _cleanup_free_ char *out = run_fixture(collect_diskstats, "diskstats-mixed");
        _cleanup_free_ char *real = run_fixture(collect_diskstats, "diskstats");
        _cleanup_free_ char *bad = NULL;

        assert_line(out, "node_disk_read_bytes_total{device=\"sda\"} 1024000");
        assert_line(out, "node_disk_read_time_seconds_total{device=\"sda\"} 0.03");
        assert_line(out, "node_disk_io_time_weighted_seconds_total{device=\"sda\"} 0.07");
        assert_line(out, "node_disk_io_now{device=\"nvme0n1\"} 1");
        assert_line(out, "node_disk_read_time_seconds_total{device=\"dm-0\"} 1.5");
        assert_line(out, "node_disk_discarded_sectors_total{device=\"dm-0\"} 24");
        assert_line(out, "node_disk_flush_requests_total{device=\"dm-0\"} 5");
        assert_line(out, "node_disk_flush_requests_time_seconds_total{device=\"dm-0\"} 1.234");
        /* Columns a kernel did not print are not invented. */
        assert_null(strstr(out, "node_disk_discards_completed_total{device=\"sda\"}"));
        assert_null(strstr(out, "node_disk_flush_requests_total{device=\"nvme0n1\"}"));
        /* node_exporter's default exclusions. */
        assert_null(strstr(out, "\"sda1\""));
        assert_null(strstr(out, "\"nvme0n1p1\""));
        assert_null(strstr(out, "\"ram0\""));
        assert_null(strstr(out, "\"loop0\""));
        assert_null(strstr(out, "\"xvda1\""));
        assert_null(strstr(real, "loop"));
        assert_line(real, "node_disk_written_bytes_total{device=\"vda\"} 6215860224");

        assert_int_equal(run_text(collect_diskstats, "8 0 sda 1 2 3\n", &bad), -EINVAL);
        free(bad);
        assert_int_equal(run_text(collect_diskstats, "8 0 sda 1 2 3 4 5 6 7 8 9 x 11\n", &bad),
                         -EINVAL);
}

static void test_device_exclusions(void **state) {
        static const char *const excluded[] = {"ram0",  "loop12", "fd0",       "sda1",       "hdb3",
                                               "vda15", "xvdf2",  "nvme0n1p1", "nvme12n3p45"};
        static const char *const kept[] = {"sda",   "vda",   "xvda",     "nvme0n1", "dm-0",
                                           "md127", "zram0", "sr0",      "loop",    "mmcblk0p1",
                                           "sdaa1", "nvme0", "nvme0n1p", "ram"};

        for (size_t i = 0; i < sizeof excluded / sizeof excluded[0]; i++)
                if (!diskstats_device_excluded(excluded[i], strlen(excluded[i])))
                        fail_msg("%s should be excluded", excluded[i]);
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
                if (diskstats_device_excluded(kept[i], strlen(kept[i])))
                        fail_msg("%s should be kept", kept[i]);
}

static void test_sockstat(void **state) {
        _cleanup_free_ char *v4 = run_fixture(sockstat4k, "sockstat");
        _cleanup_free_ char *v6 = run_fixture(sockstat4k, "sockstat6");
        _cleanup_free_ char *bad = NULL;

        assert_line(v4, "# HELP node_sockstat_sockets_used Number of IPv4 sockets in use.");
        assert_line(v4, "node_sockstat_sockets_used 9");
        assert_line(v4, "# HELP node_sockstat_TCP_inuse Number of TCP sockets in state inuse.");
        assert_line(v4, "node_sockstat_TCP_tw 42");
        assert_line(v4, "node_sockstat_UDP_mem 256");
        assert_line(v4, "node_sockstat_UDP_mem_bytes 1048576");
        assert_line(v4, "node_sockstat_FRAG_memory 0");
        assert_line(v6, "node_sockstat_TCP6_inuse 0");
        assert_int_equal(run_text(sockstat4k, "TCP: inuse\n", &bad), -EINVAL);
        assert_string_equal(bad, "");
}

static void test_netstat(void **state) {
        _cleanup_free_ char *snmp = run_fixture(collect_netstat, "net-snmp");
        _cleanup_free_ char *ext = run_fixture(collect_netstat, "net-netstat");
        _cleanup_free_ char *six = run_fixture(collect_snmp6, "net-snmp6");
        _cleanup_free_ char *bad = NULL;

        assert_line(snmp, "# HELP node_netstat_Tcp_CurrEstab Statistic TcpCurrEstab.");
        assert_line(snmp, "# TYPE node_netstat_Tcp_CurrEstab untyped");
        assert_line(snmp, "node_netstat_Ip_Forwarding 2");
        assert_line(snmp, "node_netstat_Icmp_InMsgs 2");
        assert_null(strstr(snmp, "MaxConn")); /* not a default field */
        assert_null(strstr(snmp, "DefaultTTL"));
        assert_non_null(strstr(ext, "\nnode_netstat_TcpExt_ListenDrops "));
        assert_non_null(strstr(ext, "\nnode_netstat_IpExt_InOctets "));
        assert_null(strstr(ext, "TCPOFOQueue"));
        assert_non_null(strstr(six, "\nnode_netstat_Ip6_InOctets "));
        assert_non_null(strstr(six, "\nnode_netstat_Udp6_InDatagrams "));
        assert_non_null(strstr(six, "\nnode_netstat_Icmp6_InErrors "));
        assert_null(strstr(six, "InType"));

        /* Negative values are kept as the kernel prints them. */
        free(bad);
        assert_int_equal(run_text(collect_netstat, "Tcp: InErrs MaxConn\nTcp: -1 -1\n", &bad), 0);
        assert_line(bad, "node_netstat_Tcp_InErrs -1");
        /* A name line without its values, a count mismatch, another prefix. */
        free(bad);
        assert_int_equal(run_text(collect_netstat, "Tcp: InErrs\n", &bad), -EINVAL);
        assert_string_equal(bad, "");
        free(bad);
        assert_int_equal(run_text(collect_netstat, "Tcp: InErrs CurrEstab\nTcp: 1\n", &bad),
                         -EINVAL);
        assert_string_equal(bad, "");
        free(bad);
        assert_int_equal(run_text(collect_netstat, "Tcp: InErrs\nUdp: 1\n", &bad), -EINVAL);
        assert_string_equal(bad, "");
        free(bad);
        assert_int_equal(run_text(collect_netstat, "Tcp: InErrs\nTcp: 1x\n", &bad), -EINVAL);

        assert_true(netstat_field_wanted("Tcp", "CurrEstab"));
        assert_true(netstat_field_wanted("UdpLite", "InErrors"));
        assert_true(netstat_field_wanted("TcpExt", "ListenOverflows"));
        assert_true(netstat_field_wanted("TcpExt", "SyncookiesSent"));
        assert_true(netstat_field_wanted("Ip6", "OutOctets"));
        assert_false(netstat_field_wanted("Ip", "DefaultTTL"));
        assert_false(netstat_field_wanted("TcpExt", "TCPOFOQueue"));
        assert_false(netstat_field_wanted("Udp", "InCsumErrors"));
}

static void test_filesystems_strict(void **state) {
        _cleanup_free_ char *out = NULL;
        _cleanup_free_ char *t = NULL;
        size_t len;

        /* Pseudo file systems and node_exporter's excluded mount points go;
         * of two mounts on one point only the top one is listed. */
        t = exact("20 1 0:1 / / rw - ext4 /dev/root rw\n"
                  "21 20 0:2 / /proc rw - proc proc rw\n"
                  "22 20 0:3 / /dev rw - devtmpfs udev rw\n"
                  "23 22 0:4 / /dev/shm rw - tmpfs tmpfs rw\n"
                  "24 20 0:5 / /tmp rw - tmpfs first rw\n"
                  "25 20 0:6 / /tmp ro - tmpfs second ro\n",
                  &len);
        assert_int_equal(run(collect_filesystems, t, len, &out), 0);
        assert_non_null(strstr(out, "mountpoint=\"/\"}"));
        assert_null(strstr(out, "mountpoint=\"/proc"));
        assert_null(strstr(out, "mountpoint=\"/dev"));
        assert_null(strstr(out, "device=\"first\""));
        assert_non_null(strstr(out, "device=\"second\""));
        assert_line(out, "# TYPE node_filesystem_size_bytes gauge");
}

/* Every good fixture, cut at every length, through every collector. */
static void test_every_prefix(void **state) {
        static const struct {
                const char *fixture;
                collector_fn fn;
        } cases[] = {
                {"stat", stat100},
                {"meminfo", collect_meminfo},
                {"loadavg", collect_loadavg},
                {"net-dev", collect_netdev},
                {"diskstats-mixed", collect_diskstats},
                {"file-nr", collect_filefd},
                {"sockstat", sockstat4k},
                {"net-snmp", collect_netstat},
                {"net-netstat", collect_netstat},
                {"net-snmp6", collect_snmp6},
        };
        collector_fn all[] = {stat100,        collect_meminfo,   collect_loadavg,
                              collect_netdev, collect_diskstats, collect_filefd,
                              sockstat4k,     collect_netstat,   collect_snmp6};

        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                _cleanup_free_ char *t = NULL;
                size_t len;

                load(cases[c].fixture, &t, &len);
                for (size_t cut = 0; cut <= len; cut++) {
                        char *p = malloc(cut ? cut : 1);
                        assert_non_null(p);
                        memcpy(p, t, cut);
                        for (size_t f = 0; f < sizeof all / sizeof all[0]; f++) {
                                char *out = NULL;
                                int r = run(all[f], p, cut, &out);
                                if (r < 0)
                                        assert_string_equal(out, "");
                                else
                                        assert_true(out[0] == '\0' || out[strlen(out) - 1] == '\n');
                                free(out);
                        }
                        free(p);
                }
        }
}

/* ---- the request counters ------------------------------------------------------- */

static void test_httpstats(void **state) {
        _cleanup_free_ char *out = NULL;
        struct buf b;
        struct expo e;
        char *routes[HTTPSTATS_MAX_ROUTES + 10];

        httpstats_reset();
        buf_init(&b, 16 << 20);
        expo_init(&e, &b);
        httpstats_write(&e);
        assert_int_equal(b.len, 0); /* nothing before the first request */

        httpstats_record("metrics", 200, 300);      /* ≤ 0.0005 */
        httpstats_record("metrics", 200, 3000);     /* ≤ 0.005 */
        httpstats_record("metrics", 401, 20000000); /* past 10 s */
        httpstats_record(NULL, 404, 100);
        httpstats_record("api/v1/modules", 7, 100); /* no HTTP status: "other" */
        httpstats_write(&e);
        assert_int_equal(e.error, 0);
        out = buf_steal(&b);
        assert_line(out, "# TYPE steward_http_requests_total counter");
        assert_line(out, "steward_http_requests_total{route=\"/metrics\",status=\"200\"} 2");
        assert_line(out, "steward_http_requests_total{route=\"/metrics\",status=\"401\"} 1");
        assert_line(out, "steward_http_requests_total{route=\"other\",status=\"404\"} 1");
        assert_line(out,
                    "steward_http_requests_total{route=\"/api/v1/modules\",status=\"other\"} 1");
        assert_line(out, "# TYPE steward_http_request_duration_seconds histogram");
        assert_line(out, "steward_http_request_duration_seconds_bucket{route=\"/metrics\","
                         "le=\"0.0005\"} 1");
        assert_line(out, "steward_http_request_duration_seconds_bucket{route=\"/metrics\","
                         "le=\"0.005\"} 2");
        assert_line(out, "steward_http_request_duration_seconds_bucket{route=\"/metrics\","
                         "le=\"10\"} 2");
        assert_line(out, "steward_http_request_duration_seconds_bucket{route=\"/metrics\","
                         "le=\"+Inf\"} 3");
        assert_line(out, "steward_http_request_duration_seconds_sum{route=\"/metrics\"} 20.0033");
        assert_line(out, "steward_http_request_duration_seconds_count{route=\"/metrics\"} 3");

        /* Bounded: routes past the table and statuses past a route's slots
         * count as "other". */
        httpstats_reset();
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
                assert_true(asprintf(&routes[i], "r%zu", i) > 0);
                httpstats_record(routes[i], 200, 1);
        }
        for (int s = 100; s < 140; s++)
                httpstats_record("r0", s, 1);
        free(out);
        buf_init(&b, 16 << 20);
        expo_init(&e, &b);
        httpstats_write(&e);
        assert_int_equal(e.error, 0);
        out = buf_steal(&b);
        assert_line(out, "steward_http_requests_total{route=\"other\",status=\"200\"} 11");
        assert_line(out, "steward_http_requests_total{route=\"/r0\",status=\"other\"} 26");
        assert_null(strstr(out, "route=\"/r63\""));
        assert_non_null(strstr(out, "route=\"/r62\""));
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
                free(routes[i]);
        httpstats_reset();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_label_value),
                cmocka_unit_test(test_escape_round_trip_in_sample),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_sticky_errors),
                cmocka_unit_test(test_meminfo),
                cmocka_unit_test(test_stat),
                cmocka_unit_test(test_loadavg_netdev_filefd),
                cmocka_unit_test(test_diskstats),
                cmocka_unit_test(test_device_exclusions),
                cmocka_unit_test(test_sockstat),
                cmocka_unit_test(test_netstat),
                cmocka_unit_test(test_filesystems_strict),
                cmocka_unit_test(test_every_prefix),
                cmocka_unit_test(test_httpstats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
