/* test-loginsrc.c — the source of a login is read off the client's
 * connection, and only off the accepted end of a connection to one of the
 * daemon's listeners: never off the listener, a socket the front connected
 * itself, another listener's connection or a socketpair, nor off a
 * connection whose client socket is the front's own.  IPv6 sources are
 * keyed by their /64. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "helper/loginsrc.h"

static int listener(const char *addr) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(fd, 8), 0);
        return fd;
}

/* Connects from `from` to the listener; returns the client's end and, in
 * *ret_accepted, the listener's. */
static int connect_from(int lfd, const char *from, int *ret_accepted) {
        struct sockaddr_in to, src = {.sin_family = AF_INET};
        socklen_t len = sizeof to;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(getsockname(lfd, (struct sockaddr *)&to, &len), 0);
        assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
        *ret_accepted = accept(lfd, NULL, NULL);
        assert_true(*ret_accepted >= 0);
        return fd;
}

static void test_accepted_connection(void **state) {
        struct loginsrc_listeners ls = {0};
        char source[LOGINSRC_SOURCE_MAX], key[LOGINSRC_KEY_MAX], want[32];
        struct sockaddr_in me;
        socklen_t len = sizeof me;
        int lfd = listener("127.0.0.1"), other = listener("127.0.0.1"), afd, cfd, ofd, oafd;
        int sp[2];

        assert_int_equal(loginsrc_add_listener(&ls, lfd), 0);
        cfd = connect_from(lfd, "127.0.0.7", &afd);
        assert_int_equal(getsockname(cfd, (struct sockaddr *)&me, &len), 0);
        snprintf(want, sizeof want, "127.0.0.7:%u", ntohs(me.sin_port));

        assert_int_equal(loginsrc_from_fd(&ls, afd, source, key), 0);
        assert_string_equal(source, want);
        assert_string_equal(key, "ip:127.0.0.7");

        /* Not the accepted end of a connection to a listener of ours. */
        assert_int_equal(loginsrc_from_fd(&ls, cfd, source, key), -EPERM);
        assert_int_equal(loginsrc_from_fd(&ls, lfd, source, key), -EPERM);
        ofd = connect_from(other, "127.0.0.8", &oafd);
        assert_int_equal(loginsrc_from_fd(&ls, oafd, source, key), -EPERM);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        assert_int_equal(loginsrc_from_fd(&ls, sp[0], source, key), -EPERM);
        assert_int_equal(loginsrc_from_fd(&ls, -1, source, key), -EBADF);
        /* Only listening sockets can be registered. */
        assert_int_equal(loginsrc_add_listener(&ls, afd), -EINVAL);
        assert_int_equal(loginsrc_add_listener(&ls, sp[0]), -EINVAL);

        close(sp[0]);
        close(sp[1]);
        close(ofd);
        close(oafd);
        close(cfd);
        close(afd);
        close(other);
        close(lfd);
}

/* A connection the front made to itself (its client socket is the
 * front's uid's) is no client's; one made by anyone else is. */
static void test_front_connecting_to_itself(void **state) {
        struct loginsrc_listeners ls = {0};
        char source[LOGINSRC_SOURCE_MAX], key[LOGINSRC_KEY_MAX];
        int lfd = listener("127.0.0.1"), afd, cfd;

        assert_int_equal(loginsrc_add_listener(&ls, lfd), 0);
        cfd = connect_from(lfd, "127.0.0.9", &afd);
        loginsrc_set_front_uid(&ls, getuid()); /* the test made it: as if the front */
        assert_int_equal(loginsrc_from_fd(&ls, afd, source, key), -EPERM);
        loginsrc_set_front_uid(&ls, getuid() + 4242); /* someone else */
        assert_int_equal(loginsrc_from_fd(&ls, afd, source, key), 0);
        assert_string_equal(key, "ip:127.0.0.9");
        close(cfd);
        close(afd);
        close(lfd);
}

static void test_format(void **state) {
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(4431)};
        struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(1)};
        char source[LOGINSRC_SOURCE_MAX], key[LOGINSRC_KEY_MAX];

        assert_int_equal(inet_pton(AF_INET6, "2001:db8:0:1:aaaa:bbbb:cccc:dddd", &s6.sin6_addr), 1);
        assert_int_equal(loginsrc_format((struct sockaddr *)&s6, sizeof s6, source, key), 0);
        assert_string_equal(source, "[2001:db8:0:1:aaaa:bbbb:cccc:dddd]:4431");
        assert_string_equal(key, "ip:2001:db8:0:1::/64");
        assert_int_equal(
                inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &s6.sin6_addr), 1);
        s6.sin6_port = htons(65535);
        assert_int_equal(loginsrc_format((struct sockaddr *)&s6, sizeof s6, source, key), 0);
        assert_string_equal(source, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
        assert_string_equal(key, "ip:ffff:ffff:ffff:ffff::/64");

        assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr), 1);
        assert_int_equal(loginsrc_format((struct sockaddr *)&s4, sizeof s4, source, key), 0);
        assert_string_equal(source, "192.0.2.7:1");
        assert_string_equal(key, "ip:192.0.2.7");
        assert_int_equal(loginsrc_format((struct sockaddr *)&s4, 4, source, key), -EAFNOSUPPORT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accepted_connection),
                cmocka_unit_test(test_front_connecting_to_itself),
                cmocka_unit_test(test_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
