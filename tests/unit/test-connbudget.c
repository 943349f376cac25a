/* test-connbudget.c — the budgets of connections that have not
 * authenticated: the per-source cap refuses the newcomer, the global budget
 * cuts the oldest connection still waiting for its headers (never one being
 * answered, never an authenticated one), and the header deadline.  Each
 * connection is one end of a socketpair; a cut shows as the end of the stream
 * on the other end.
 *
 * The .c is included so the list can be checked empty at the end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/connbudget.c"

#define SEC 1000000ull

struct pair {
        struct connbudget_entry e;
        int ours, theirs;
};

static void open_pair(struct pair *p) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        p->ours = sv[0];
        p->theirs = sv[1];
}

static void close_pair(struct pair *p) {
        connbudget_remove(&p->e);
        close(p->ours);
        close(p->theirs);
}

/* Whether the daemon's end was shut: the client reads the end of the stream. */
static bool was_cut(const struct pair *p) {
        char c;
        return recv(p->theirs, &c, 1, MSG_DONTWAIT) == 0;
}

static int admit(struct pair *p, const char *source, const struct connbudget_limits *lim,
                 uint64_t now) {
        open_pair(p);
        return connbudget_admit(&p->e, p->ours, source, false, lim, now);
}

static void test_per_source_cap_refuses_the_newcomer(void **state) {
        const struct connbudget_limits lim = {
                .unauthenticated = 10, .per_source = 2, .header_timeout = 10};
        struct pair a, b, c, d, e;

        assert_int_equal(admit(&a, "192.0.2.1", &lim, 1 * SEC), 0);
        assert_int_equal(admit(&b, "192.0.2.1", &lim, 2 * SEC), 0);
        assert_int_equal(admit(&c, "192.0.2.1", &lim, 3 * SEC), -EMFILE);
        assert_true(was_cut(&c));
        assert_false(was_cut(&a) || was_cut(&b));
        /* Another address is not affected. */
        assert_int_equal(admit(&d, "192.0.2.2", &lim, 4 * SEC), 0);
        assert_int_equal(connbudget_unauthenticated(), 3);
        assert_int_equal(atomic_load(&stats_closed_source_cap), 1);
        /* Authenticating frees the source's slot. */
        connbudget_authenticated(&a.e);
        assert_int_equal(connbudget_unauthenticated(), 2);
        assert_int_equal(admit(&e, "192.0.2.1", &lim, 5 * SEC), 0);
        close_pair(&a);
        close_pair(&b);
        close_pair(&c);
        close_pair(&d);
        close_pair(&e);
        assert_int_equal(connbudget_unauthenticated(), 0);
        assert_null(head);
}

static void test_a_full_budget_cuts_the_oldest_waiting(void **state) {
        const struct connbudget_limits lim = {
                .unauthenticated = 2, .per_source = 10, .header_timeout = 10};
        struct pair auth, x, y, z, w;

        open_pair(&auth);
        assert_int_equal(connbudget_admit(&auth.e, auth.ours, "uid=0", true, &lim, 0), 0);
        assert_int_equal(admit(&x, "192.0.2.1", &lim, 1 * SEC), 0);
        assert_int_equal(admit(&y, "192.0.2.2", &lim, 2 * SEC), 0);
        /* x's whole request is in: it is being answered, so y is the one
         * to go. */
        connbudget_headers_done(&x.e);
        connbudget_request_received(&x.e);
        assert_int_equal(admit(&z, "192.0.2.3", &lim, 3 * SEC), 0);
        assert_true(was_cut(&y));
        assert_false(was_cut(&x) || was_cut(&z) || was_cut(&auth));
        /* Everyone counted is being answered: the newcomer is refused. */
        connbudget_headers_done(&z.e);
        connbudget_request_received(&z.e);
        assert_int_equal(admit(&w, "192.0.2.4", &lim, 4 * SEC), -EMFILE);
        assert_true(was_cut(&w));
        assert_false(was_cut(&x) || was_cut(&z) || was_cut(&auth));
        assert_int_equal(connbudget_unauthenticated(), 2);
        close_pair(&auth);
        close_pair(&x);
        close_pair(&y);
        close_pair(&z);
        close_pair(&w);
        assert_int_equal(connbudget_unauthenticated(), 0);
        assert_null(head);
}

static void test_header_deadline(void **state) {
        const struct connbudget_limits lim = {
                .unauthenticated = 10, .per_source = 10, .header_timeout = 5};
        struct pair slow, quick, body, auth;

        assert_int_equal(admit(&slow, "192.0.2.1", &lim, 0), 0);
        assert_int_equal(admit(&quick, "192.0.2.2", &lim, 0), 0);
        assert_int_equal(admit(&body, "192.0.2.3", &lim, 0), 0);
        open_pair(&auth);
        assert_int_equal(connbudget_admit(&auth.e, auth.ours, "uid=0", true, &lim, 0), 0);
        connbudget_headers_done(&quick.e);
        connbudget_request_received(&quick.e);
        /* A stranger whose headers are in but whose body is not yet: the
         * deadline still runs. */
        connbudget_headers_done(&body.e);
        assert_int_equal(connbudget_expire(5 * SEC - 1), 0);
        assert_int_equal(connbudget_expire(5 * SEC), 2);
        assert_true(was_cut(&slow) && was_cut(&body));
        assert_false(was_cut(&quick) || was_cut(&auth));
        /* A stranger's next request is due from the end of its last one;
         * an authenticated connection may idle, its clock starts with the
         * request line. */
        connbudget_request_done(&quick.e, 10 * SEC);
        connbudget_request_done(&auth.e, 10 * SEC);
        assert_int_equal(connbudget_expire(100 * SEC), 1);
        assert_true(was_cut(&quick));
        assert_false(was_cut(&auth));
        connbudget_request_started(&auth.e, 200 * SEC);
        connbudget_request_started(&auth.e, 203 * SEC); /* already running */
        assert_int_equal(connbudget_expire(204 * SEC), 0);
        assert_int_equal(connbudget_expire(205 * SEC), 1);
        assert_true(was_cut(&auth));
        close_pair(&slow);
        close_pair(&quick);
        close_pair(&body);
        close_pair(&auth);
        assert_null(head);
}

static void key_of(const char *addr, const char *want) {
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
        struct sockaddr_in s4 = {.sin_family = AF_INET};
        char key[CONNBUDGET_SOURCE_MAX];

        if (strchr(addr, ':')) {
                assert_int_equal(inet_pton(AF_INET6, addr, &s6.sin6_addr), 1);
                connbudget_source_key((struct sockaddr *)&s6, key, sizeof key);
        } else {
                assert_int_equal(inet_pton(AF_INET, addr, &s4.sin_addr), 1);
                connbudget_source_key((struct sockaddr *)&s4, key, sizeof key);
        }
        assert_string_equal(key, want);
}

/* One budget per IPv4 address (mapped or not) and per IPv6 /64. */
static void test_source_keys(void **state) {
        struct sockaddr_un su = {.sun_family = AF_UNIX};
        char key[CONNBUDGET_SOURCE_MAX] = "x";

        key_of("192.0.2.7", "192.0.2.7");
        key_of("::ffff:192.0.2.7", "192.0.2.7");
        key_of("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64");
        key_of("2001:db8:1:2::1", "2001:db8:1:2::/64");
        key_of("2001:db8:1:3::1", "2001:db8:1:3::/64");
        key_of("::1", "::/64");
        key_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64");
        connbudget_source_key((struct sockaddr *)&su, key, sizeof key);
        assert_string_equal(key, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_source_keys),
                cmocka_unit_test(test_per_source_cap_refuses_the_newcomer),
                cmocka_unit_test(test_a_full_budget_cuts_the_oldest_waiting),
                cmocka_unit_test(test_header_deadline),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
