/* test-syslog5424.c — an audit record as an RFC 5424 message: the exact
 * layout (RFC 5424's own example shape), escaping of hostile values, the
 * bounds (one line, hostname, values, the whole message cut in MSG only),
 * and the strict target grammar. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "syslog5424.h"
#include "util.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"

static char buf[SYSLOG5424_MAX + 1];

static struct syslog_record base(void) {
        return (struct syslog_record){
                .id = 17,
                .time = 1065910455, /* 2003-10-11T22:14:15Z, RFC 5424's examples' date */
                .user = "alice",
                .role = "admin",
                .source = "10.0.0.5",
                .module = "stewardd",
                .operation = "settings",
                .result = "ok",
                .hash = H64,
                .prev_hash = Z64,
                .detail = "log_level",
        };
}

static void one_line(const char *m, int n) {
        assert_int_equal(strlen(m), (size_t)n);
        assert_true(n <= SYSLOG5424_MAX);
        for (int i = 0; i < n; i++)
                assert_false((unsigned char)m[i] < 0x20 || (unsigned char)m[i] == 0x7f);
        assert_true(utf8_valid(m, (size_t)n));
}

static void test_layout(void **state) {
        struct syslog_record r = base();
        int n = syslog5424_format(&r, 10, "mymachine.example.com", 4242, buf, sizeof buf);

        assert_true(n > 0);
        one_line(buf, n);
        assert_string_equal(buf, "<85>1 2003-10-11T22:14:15Z mymachine.example.com steward 4242 audit "
                                 "[steward@32473 user=\"alice\" role=\"admin\" source=\"10.0.0.5\" "
                                 "module=\"stewardd\" operation=\"settings\" result=\"ok\" id=\"17\" "
                                 "hash=\"" H64 "\" prev_hash=\"" Z64 "\"] "
                                 "alice did stewardd settings: log_level");
}

static void test_severity_and_nil(void **state) {
        struct syslog_record r = base();
        int n;

        r.result = "refused";
        r.message = "needs role admin";
        r.detail = NULL;
        n = syslog5424_format(&r, 4, NULL, 0, buf, sizeof buf);
        assert_true(n > 0);
        /* auth (4) * 8 + warning (4); nil hostname and procid */
        assert_true(strncmp(buf, "<36>1 2003-10-11T22:14:15Z - steward - audit [", 46) == 0);
        assert_non_null(strstr(buf, "] alice was refused: stewardd settings (needs role admin)"));
        r.result = "error";
        assert_true(syslog5424_format(&r, 23, "h", 1, buf, sizeof buf) > 0);
        assert_true(strncmp(buf, "<188>1 ", 7) == 0);
}

static void test_escaping(void **state) {
        struct syslog_record r = base();
        int n;

        r.user = "a\"b\\c]d";
        r.operation = "x\ny\rz\x7f";
        r.source = "\xff\xfe";
        r.message = "line1\nline2";
        n = syslog5424_format(&r, 10, "h", 1, buf, sizeof buf);
        assert_true(n > 0);
        one_line(buf, n);
        assert_non_null(strstr(buf, " user=\"a\\\"b\\\\c\\]d\" "));
        assert_non_null(strstr(buf, " operation=\"x?y?z?\" "));
        assert_non_null(strstr(buf, " source=\"??\" "));
        assert_non_null(strstr(buf, "(line1?line2)"));
        /* UTF-8 passes through */
        r.user = "jos\xc3\xa9";
        assert_true(syslog5424_format(&r, 10, "h", 1, buf, sizeof buf) > 0);
        assert_non_null(strstr(buf, " user=\"jos\xc3\xa9\" "));
}

/* Valid UTF-8 that a terminal or viewer acts on rather than shows becomes
 * '?' in MSG and in the values: each code point alone, at its UTF-8 length. */
static void test_unicode_controls(void **state) {
        static const char *const hostile[] = {
                "\xc2\x80", "\xc2\x85", "\xc2\x9b", "\xc2\x9f",                 /* C1 */
                "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", /* LRE..PDF */
                "\xe2\x80\xae",                                                 /* RLO */
                "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", /* isolates */
                "\xe2\x80\xa8", "\xe2\x80\xa9",                                 /* LS, PS */
                "\xef\xbb\xbf",                                                 /* BOM */
        };
        static const char *const kept[] = {
                "\xc2\xa0", "\xe2\x80\xa7", "\xe2\x80\xaf", "\xe2\x81\xa5", "\xe2\x81\xaa",
                "\xef\xbb\xbe", "\xc3\xa9",
        };
        struct syslog_record r = base();
        char in[32], want[64];

        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                snprintf(in, sizeof in, "a%sb", hostile[i]);
                r.message = in;
                r.user = in;
                int n = syslog5424_format(&r, 10, "h", 1, buf, sizeof buf);
                assert_true(n > 0);
                one_line(buf, n);
                if (!strstr(buf, "(a?b)") || !strstr(buf, " user=\"a?b\" "))
                        fail_msg("kept U+%zu: %s", i, buf);
                assert_true(syslog_local_format(&r, 10, 1, buf, sizeof buf) > 0);
                assert_non_null(strstr(buf, "(a?b)"));
        }
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                snprintf(in, sizeof in, "a%sb", kept[i]);
                snprintf(want, sizeof want, "(%s)", in);
                r.message = in;
                assert_true(syslog5424_format(&r, 10, "h", 1, buf, sizeof buf) > 0);
                assert_non_null(strstr(buf, want));
        }
}

static void test_hostname(void **state) {
        struct syslog_record r = base();
        char long_host[400];

        assert_true(syslog5424_format(&r, 10, "bad host", 1, buf, sizeof buf) > 0);
        assert_non_null(strstr(buf, "Z - steward 1 audit"));
        assert_true(syslog5424_format(&r, 10, "", 1, buf, sizeof buf) > 0);
        assert_non_null(strstr(buf, "Z - steward 1 audit"));
        memset(long_host, 'h', sizeof long_host - 1);
        long_host[sizeof long_host - 1] = '\0';
        assert_true(syslog5424_format(&r, 10, long_host, 1, buf, sizeof buf) > 0);
        assert_non_null(strstr(buf, "Z hhhh"));
        assert_int_equal(strchr(buf + 27, ' ') - (buf + 27), 255);
}

static void test_bounds(void **state) {
        struct syslog_record r = base();
        char *big = malloc(100000);
        char *sd_end;
        int n;

        assert_non_null(big);
        memset(big, ']', 99999);
        big[99999] = '\0';
        r.user = big;
        r.module = big;
        r.operation = big;
        r.role = big;
        r.source = big;
        r.message = big;
        n = syslog5424_format(&r, 10, "h", 1, buf, sizeof buf);
        assert_int_equal(n, SYSLOG5424_MAX);
        one_line(buf, n);
        /* every value is cut at SYSLOG5424_VALUE_MAX characters, escaped */
        sd_end = strstr(buf, "\" id=\"17\" hash=\"" H64 "\" prev_hash=\"" Z64 "\"] ");
        assert_non_null(sd_end);
        assert_non_null(strstr(buf, " user=\"\\]"));
        /* a multi-byte character at the cut is not split */
        memset(big, 'a', 99999);
        for (size_t i = 0; i + 2 < 99999; i += 2)
                big[i] = '\xc3', big[i + 1] = '\xa9';
        big[99998] = '\0';
        r.message = big;
        n = syslog5424_format(&r, 10, "h", 1, buf, sizeof buf);
        assert_true(n <= SYSLOG5424_MAX && n > SYSLOG5424_MAX - 2);
        one_line(buf, n);
        free(big);
}

static void test_bad_input(void **state) {
        struct syslog_record r = base();

        assert_int_equal(syslog5424_format(&r, 24, "h", 1, buf, sizeof buf), -EINVAL);
        assert_int_equal(syslog5424_format(&r, -1, "h", 1, buf, sizeof buf), -EINVAL);
        assert_int_equal(syslog5424_format(&r, 10, "h", 1, buf, 100), -EINVAL);
        r.time = -1;
        assert_int_equal(syslog5424_format(&r, 10, "h", 1, buf, sizeof buf), -EINVAL);
}

static void test_targets(void **state) {
        static const char *const good[] = {
                "tcp://127.0.0.1:514", "udp://10.1.2.3:65535", "tcp://[::1]:6514",
                "udp://[fe80::1]:1",   "local", "tls://10.0.0.9:6514", "tls://[::1]:6514",
                "udp://223.255.255.255:514", "udp://240.0.0.1:514", "tcp://[::ffff:10.0.0.1]:514",
                "udp://255.255.255.254:514", "tcp://[fe00::1]:514",
        };
        static const char *const bad[] = {
                "", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://127.0.0.1:0",
                "tcp://127.0.0.1:65536", "tcp://127.0.0.1:0514", "tcp://127.0.0.1:51a",
                "tcp://localhost:514", "tcp://1:514", "tcp://::1:514", "tcp://[::1:514",
                "tcp://[127.0.0.1]:514", "TCP://127.0.0.1:514", "tls://localhost:6514",
                "tcp://127.0.0.1:514 ", " local", "local:", "tcp:/127.0.0.1:514",
                "tcp://0127.0.0.1:514",
                /* not one receiver: unspecified, broadcast, multicast */
                "udp://0.0.0.0:514", "tcp://[::]:514", "udp://255.255.255.255:514",
                "udp://224.0.0.1:514", "udp://239.255.255.250:1900", "tls://[ff02::1]:6514",
                "udp://[ff05::2]:514", "udp://[::ffff:224.0.0.1]:514", "udp://[::ffff:0.0.0.0]:514",
                "udp://[::ffff:255.255.255.255]:514",
                "tcp://[1111:2222:3333:4444:5555:6666:7777:8888]:514xxxxxxxxxxxxxxxxxxxxxxxxxxx",
        };
        struct syslog_target t;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(syslog_target_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (syslog_target_valid(bad[i]))
                        fail_msg("accepted: %s", bad[i]);
        }
        assert_int_equal(syslog_target_parse("tcp://[::1]:6514", &t), 0);
        assert_int_equal(t.transport, SYSLOG_TCP);
        assert_int_equal(t.family, AF_INET6);
        assert_int_equal(t.port, 6514);
        assert_int_equal(t.addr[15], 1);
        assert_int_equal(syslog_target_parse("udp://10.1.2.3:514", &t), 0);
        assert_int_equal(t.transport, SYSLOG_UDP);
        assert_int_equal(t.family, AF_INET);
        assert_memory_equal(t.addr, "\x0a\x01\x02\x03", 4);
        assert_int_equal(syslog_target_parse("tls://10.0.0.9:6514", &t), 0);
        assert_int_equal(t.transport, SYSLOG_TLS);
        assert_int_equal(t.port, 6514);
        assert_int_equal(syslog_target_parse("local", &t), 0);
        assert_int_equal(t.transport, SYSLOG_LOCAL);
}

static void test_facilities(void **state) {
        assert_string_equal(syslog_facility_names[1], "authpriv");
        assert_int_equal(syslog_facility_number(1), 10);
        assert_int_equal(syslog_facility_number(11), 23);
        assert_null(syslog_facility_names[12]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout),       cmocka_unit_test(test_severity_and_nil),
                cmocka_unit_test(test_escaping),     cmocka_unit_test(test_hostname),
                cmocka_unit_test(test_bounds),       cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_targets),      cmocka_unit_test(test_facilities),
                cmocka_unit_test(test_unicode_controls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
