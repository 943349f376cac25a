/* test-activation.c — the sockets systemd passes are sorted by what they
 * are: a listening TCP socket is a TLS listener, a listening unix stream
 * socket the control socket, a UDP socket discovery; anything else (a
 * stream socket that is not listening, an unnamed socket, a second unix
 * socket, a unix datagram socket) is refused with a message.  The whole
 * hand-over (LISTEN_PID, LISTEN_FDS from descriptor 3) runs when
 * descriptors 3 to 5 are free in the test process, and the LISTEN_*
 * variables are gone afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/activation.c"

static struct activation empty(void) {
        return (struct activation){.unix_socket = {.fd = -1}};
}

static int inet_socket(int type, bool do_listen) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        if (do_listen)
                assert_int_equal(listen(fd, 4), 0);
        return fd;
}

static int unix_socket(int type, const char *path, bool do_listen) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        (void)unlink(path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        if (do_listen)
                assert_int_equal(listen(fd, 4), 0);
        return fd;
}

static char *temp_path(const char *leaf) {
        static char path[108];
        snprintf(path, sizeof path, "/tmp/test-activation-%d-%s", (int)getpid(), leaf);
        return path;
}

static void sorted_by_kind(void **state) {
        struct activation a = empty();
        char err[256] = "";
        int tcp = inet_socket(SOCK_STREAM, true), udp = inet_socket(SOCK_DGRAM, false);
        int un = unix_socket(SOCK_STREAM, temp_path("ctl"), true);

        assert_int_equal(activation_classify(&a, tcp, err, sizeof err), 0);
        assert_int_equal(activation_classify(&a, udp, err, sizeof err), 0);
        assert_int_equal(activation_classify(&a, un, err, sizeof err), 0);
        assert_int_equal(a.n_tcp, 1);
        assert_int_equal(a.tcp[0].fd, tcp);
        assert_false(a.tcp[0].unix_socket);
        assert_true(strncmp(a.tcp[0].name, "127.0.0.1:", 10) == 0);
        assert_int_equal(a.udp.n, 1);
        assert_int_equal(a.udp.fds[0], udp);
        assert_true(strncmp(a.udp.names[0], "127.0.0.1:", 10) == 0);
        assert_int_equal(a.unix_socket.fd, un);
        assert_true(a.unix_socket.unix_socket);
        assert_string_equal(a.unix_socket.name, temp_path("ctl"));
        close(tcp);
        close(udp);
        close(un);
        unlink(temp_path("ctl"));
}

static void refused(void **state) {
        struct activation a = empty();
        char err[256] = "";
        int sv[2];
        int idle = inet_socket(SOCK_STREAM, false);
        int un1 = unix_socket(SOCK_STREAM, temp_path("a"), true);
        int un2 = unix_socket(SOCK_STREAM, temp_path("b"), true);
        int dg = unix_socket(SOCK_DGRAM, temp_path("d"), false);
        int file = open("/dev/null", O_RDONLY | O_CLOEXEC);

        assert_int_equal(activation_classify(&a, idle, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "not listening"));
        assert_int_equal(activation_classify(&a, un1, err, sizeof err), 0);
        assert_int_equal(activation_classify(&a, un2, err, sizeof err), -EEXIST);
        assert_non_null(strstr(err, "two unix sockets"));
        assert_int_equal(activation_classify(&a, dg, err, sizeof err), -EPROTOTYPE);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(activation_classify(&a, sv[0], err, sizeof err), -EAFNOSUPPORT);
        assert_true(activation_classify(&a, file, err, sizeof err) < 0);
        assert_non_null(strstr(err, "not a socket"));
        assert_int_equal(a.n_tcp, 0);
        assert_int_equal(a.udp.n, 0);
        close(idle);
        close(un1);
        close(un2);
        close(dg);
        close(sv[0]);
        close(sv[1]);
        close(file);
        unlink(temp_path("a"));
        unlink(temp_path("b"));
        unlink(temp_path("d"));
}

static void not_activated(void **state) {
        struct activation a;
        char err[256] = "";

        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        assert_int_equal(activation_take(&a, err, sizeof err), 0);
        assert_int_equal(a.n_total, 0);
        assert_int_equal(a.n_tcp, 0);
        assert_int_equal(a.unix_socket.fd, -1);
}

/* Moves fd to exactly `want`, which must be free. */
static bool move_to(int fd, int want) {
        if (fd == want)
                return true;
        if (fcntl(want, F_GETFD) >= 0 || errno != EBADF)
                return false;
        assert_int_equal(dup2(fd, want), want);
        close(fd);
        return true;
}

static void handed_over(void **state) {
        struct activation a;
        char err[256] = "", pid[32];

        if (fcntl(3, F_GETFD) >= 0 || fcntl(4, F_GETFD) >= 0 || fcntl(5, F_GETFD) >= 0) {
                skip(); /* the runner holds low descriptors open */
                return;
        }
        assert_true(move_to(inet_socket(SOCK_STREAM, true), 3));
        assert_true(move_to(unix_socket(SOCK_STREAM, temp_path("h"), true), 4));
        assert_true(move_to(inet_socket(SOCK_DGRAM, false), 5));
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "3", 1);
        setenv("LISTEN_FDNAMES", "tls:control:discovery", 1);

        assert_int_equal(activation_take(&a, err, sizeof err), 0);
        assert_int_equal(a.n_total, 3);
        assert_int_equal(a.n_tcp, 1);
        assert_int_equal(a.tcp[0].fd, 3);
        assert_int_equal(a.unix_socket.fd, 4);
        assert_int_equal(a.udp.n, 1);
        assert_int_equal(a.udp.fds[0], 5);
        assert_null(getenv("LISTEN_PID"));
        assert_null(getenv("LISTEN_FDS"));
        assert_null(getenv("LISTEN_FDNAMES"));
        for (int fd = 3; fd <= 5; fd++) {
                assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
                close(fd);
        }
        unlink(temp_path("h"));
}

/* A wrong descriptor fails the start, and every passed one is closed. */
static void wrong_descriptor_closes_all(void **state) {
        struct activation a;
        char err[256] = "", pid[32];

        if (fcntl(3, F_GETFD) >= 0 || fcntl(4, F_GETFD) >= 0) {
                skip();
                return;
        }
        assert_true(move_to(inet_socket(SOCK_STREAM, true), 3));
        assert_true(move_to(open("/dev/null", O_RDONLY), 4));
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "2", 1);
        setenv("LISTEN_FDNAMES", "tls:oops", 1);

        assert_true(activation_take(&a, err, sizeof err) < 0);
        assert_non_null(strstr(err, "not a socket"));
        assert_non_null(strstr(err, "(passed as \"oops\")"));
        assert_true(fcntl(3, F_GETFD) < 0 && errno == EBADF);
        assert_true(fcntl(4, F_GETFD) < 0 && errno == EBADF);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sorted_by_kind),
                cmocka_unit_test(refused),
                cmocka_unit_test(not_activated),
                cmocka_unit_test(handed_over),
                cmocka_unit_test(wrong_descriptor_closes_all),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
