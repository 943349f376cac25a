/* test-mail-who.c — the mail module's connected users (src/modules/mail/who.c):
 * the parser of `doveadm -f json who -1` on a real Dovecot 2.3.19 answer
 * (captured from tests/integration/mail_ns.py: two IMAP sessions of one
 * user, an IMAP and a POP3 session of another), hostile and broken
 * answers, the user-name grammar of kick, and the lines of /proc/PID/net/tcp
 * and tcp6 behind the SMTP sessions (real lines from that fixture). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "modules/mail/who.h"
#include "util.h"

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static json_int_t iget(json_t *o, const char *k) {
        return json_integer_value(json_object_get(o, k));
}

static void test_doveadm_who(void **state) {
        json_t *list = json_array(), *c;
        char *txt;
        size_t len;

        (void)state;
        load("doveadm-who-2.3.json", &txt, &len);
        assert_int_equal(who_parse_doveadm(txt, len, list, 100), 0);
        assert_int_equal(json_array_size(list), 4);
        c = json_array_get(list, 0);
        assert_string_equal(sget(c, "user"), "bob");
        assert_string_equal(sget(c, "service"), "imap");
        assert_string_equal(sget(c, "client"), "10.125.76.1");
        assert_int_equal(iget(c, "pid"), 13924);
        assert_true(json_is_integer(json_object_get(c, "pid")));
        c = json_array_get(list, 2);
        assert_string_equal(sget(c, "user"), "alice");
        assert_int_equal(iget(c, "pid"), 13920);
        c = json_array_get(list, 3);
        assert_string_equal(sget(c, "service"), "pop3");
        /* No more than max. */
        json_array_clear(list);
        assert_int_equal(who_parse_doveadm(txt, len, list, 3), -E2BIG);
        free(txt);
        json_decref(list);
}

static void test_doveadm_who_empty_and_bad(void **state) {
        json_t *list = json_array();
        char *txt;
        size_t len;

        (void)state;
        txt = exact("[]", &len);
        assert_int_equal(who_parse_doveadm(txt, len, list, 10), 0);
        assert_int_equal(json_array_size(list), 0);
        free(txt);
        txt = exact("", &len);
        assert_int_equal(who_parse_doveadm(txt, len, list, 10), -EBADMSG);
        free(txt);
        txt = exact("{\"username\":\"a\"}", &len);
        assert_int_equal(who_parse_doveadm(txt, len, list, 10), -EBADMSG);
        free(txt);
        /* doveadm's output without -1: two values, not one array. */
        txt = exact("[{\"username\":\"b\",\"connections\":\"1\",\"pids\":\"(1)\"}],"
                    "{\"username\":\"a\"}",
                    &len);
        assert_int_equal(who_parse_doveadm(txt, len, list, 10), -EBADMSG);
        free(txt);
        json_decref(list);
}

static void test_doveadm_who_hostile(void **state) {
        json_t *list = json_array(), *c;
        char *txt;
        size_t len;

        (void)state;
        /* No user, a pid that is no pid, pid 1, a pid past pid_max:
         * skipped.  A service of odd characters: "".  An ip that is
         * no address (a local session): client null. */
        txt = exact("[{\"service\":\"imap\",\"pid\":\"10\",\"ip\":\"192.0.2.1\"},"
                    "{\"username\":\"a\",\"service\":\"imap\",\"pid\":\"12x\"},"
                    "{\"username\":\"a\",\"service\":\"imap\",\"pid\":\"1\"},"
                    "{\"username\":\"a\",\"service\":\"imap\",\"pid\":\"99999999999\"},"
                    "{\"username\":\"carol\",\"service\":\"im ap\\n\",\"pid\":\"77\","
                    "\"ip\":\"<script>\"},"
                    "{\"username\":\"dave\",\"service\":\"pop3\",\"pid\":\"78\","
                    "\"ip\":\"2001:db8::7\"}, 5, null]",
                    &len);
        assert_int_equal(who_parse_doveadm(txt, len, list, 10), 0);
        assert_int_equal(json_array_size(list), 2);
        c = json_array_get(list, 0);
        assert_string_equal(sget(c, "user"), "carol");
        assert_string_equal(sget(c, "service"), "");
        assert_true(json_is_null(json_object_get(c, "client")));
        c = json_array_get(list, 1);
        assert_string_equal(sget(c, "client"), "2001:db8::7");
        free(txt);
        json_decref(list);
}

static void test_user_grammar(void **state) {
        char big[300];

        (void)state;
        assert_true(who_user_valid("alice"));
        assert_true(who_user_valid("alice@example.org"));
        assert_true(who_user_valid("Jörg.Müller"));
        assert_false(who_user_valid(NULL));
        assert_false(who_user_valid(""));
        assert_false(who_user_valid("-a"));
        assert_false(who_user_valid("--"));
        assert_false(who_user_valid("al*"));
        assert_false(who_user_valid("al?ce"));
        assert_false(who_user_valid("10.0.0.0/8"));
        assert_false(who_user_valid("192.0.2.7"));
        assert_false(who_user_valid("::1"));
        assert_false(who_user_valid("a\nb"));
        assert_false(who_user_valid("a\x7f"));
        assert_false(who_user_valid("\xff\xfe"));
        memset(big, 'a', 256);
        big[256] = '\0';
        assert_true(who_user_valid(big));
        big[256] = 'a';
        big[257] = '\0';
        assert_false(who_user_valid(big));
}

static void test_tcp_line(void **state) {
        struct who_tcp t;
        const char *est = "   5: 02FF7D0A:0019 01FF7D0A:DA6E 01 00000000:00000000 02:000AFC70 "
                          "00000000   106        0 45887197 3 000000007e982ea7 20 4 31 12 -1";
        const char *lis = "   1: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 "
                          "00000000     0        0 45886896 1 000000006ae5ed4b 100 0 0 10 0";
        /* ::ffff:192.0.2.7 port 587 → 2001:db8::1 */
        const char *v6 = "   0: 0000000000000000FFFF00000702000C:024B "
                         "B80D0120000000000000000001000000:C350 01 00000000:00000000 00:00000000 "
                         "00000000     0        0 777 1 0000000000000000 20 4 30 10 -1";

        (void)state;
        assert_int_equal(who_parse_tcp_line(est, strlen(est), false, &t), 0);
        assert_int_equal(t.local_port, 25);
        assert_int_equal(t.state, 1);
        assert_string_equal(t.remote, "10.125.255.1");
        assert_int_equal(t.inode, 45887197);
        assert_int_equal(who_parse_tcp_line(lis, strlen(lis), false, &t), 0);
        assert_int_equal(t.state, 0x0A);
        assert_int_equal(t.inode, 45886896);
        assert_int_equal(who_parse_tcp_line(v6, strlen(v6), true, &t), 0);
        assert_int_equal(t.local_port, 587);
        assert_string_equal(t.remote, "2001:db8::1");
        /* The header, short lines, bad hex, a v6 line read as v4. */
        static const char header[] = "  sl  local_address rem_address   st tx_queue rx_queue "
                                     "tr tm->when retrnsmt   uid  timeout inode";
        const char *bad[] = {
                header,
                "   5: 02FF7D0A:0019",
                "   5: 02FF7D0G:0019 01FF7D0A:DA6E 01 0:0 0:0 0 0 0 1",
                "   5: 02FF7D0A:019 01FF7D0A:DA6E 01 0:0 0:0 0 0 0 1",
                "   5: 02FF7D0A:0019 01FF7D0A:DA6E 1 0:0 0:0 0 0 0 1",
                "   5: 02FF7D0A:0019 01FF7D0A:DA6E 01 0:0 0:0 0 0 0 x",
                "",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(who_parse_tcp_line(bad[i], strlen(bad[i]), false, &t), -EBADMSG);
        assert_int_equal(who_parse_tcp_line(v6, strlen(v6), false, &t), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_doveadm_who),
                cmocka_unit_test(test_doveadm_who_empty_and_bad),
                cmocka_unit_test(test_doveadm_who_hostile),
                cmocka_unit_test(test_user_grammar),
                cmocka_unit_test(test_tcp_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
