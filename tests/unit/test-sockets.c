/* test-sockets.c — socket listing (sockets.h) and socket owners (procmap.h).
 *
 * Against the live kernel: the test opens its own sockets on loopback and the
 * wildcard address (port 0, so runs never collide), lists, and finds each one
 * by port and inode with the right address, scope and state.  Nothing here
 * needs root; the parts that do (binding to a device) skip themselves.
 *
 * Against bytes: sockdiag_parse() gets hand-made dumps in heap buffers of
 * exactly their size, cut at every length and shifted off alignment, so that
 * AddressSanitizer and UBSan catch any read past the end or misaligned access.
 *
 * procmap is checked on this very process (and a forked child sharing the
 * socket), then on a fake proc tree built in a temporary directory, which is
 * how the cap per inode, duplicates and unreadable entries are reached.  The
 * cgroup parser is checked line by line on the shapes systemd, docker,
 * containerd, cri-o, podman and lxc produce.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/ports/procmap.h"
#include "sockets.h"
#include "util.h"

/* ---- helpers ---------------------------------------------------------------- */

struct probe {
        int fd;
        int protocol, family;
        uint16_t port;
        uint64_t inode;
};

static bool have_ipv6(void) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool ok;

        if (fd < 0)
                return false;
        ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        return ok;
}

static uint64_t inode_of(int fd) {
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        return (uint64_t)st.st_ino;
}

/* A socket of protocol on text address, port 0, listening for TCP. */
static struct probe open_probe(int protocol, const char *addr, bool v6only) {
        struct sockaddr_storage ss = {};
        socklen_t sl;
        struct probe p = {.protocol = protocol};
        int one = 1;

        if (strchr(addr, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
                sl = sizeof *a;
                p.family = AF_INET6;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
                sl = sizeof *a;
                p.family = AF_INET;
        }
        p.fd = socket(p.family, (protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
                      0);
        assert_true(p.fd >= 0);
        if (p.family == AF_INET6)
                assert_int_equal(
                        setsockopt(p.fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){v6only}, sizeof(int)),
                        0);
        assert_int_equal(setsockopt(p.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
        assert_int_equal(bind(p.fd, (struct sockaddr *)&ss, sl), 0);
        if (protocol == IPPROTO_TCP)
                assert_int_equal(listen(p.fd, 7), 0);

        sl = sizeof ss;
        assert_int_equal(getsockname(p.fd, (struct sockaddr *)&ss, &sl), 0);
        p.port = ntohs(p.family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                           : ((struct sockaddr_in6 *)&ss)->sin6_port);
        p.inode = inode_of(p.fd);
        return p;
}

static const struct sock_entry *find(const struct sock_entry *v, size_t n, uint64_t inode) {
        for (size_t i = 0; i < n; i++)
                if (v[i].inode == inode)
                        return &v[i];
        return NULL;
}

static void check_entry(const struct sock_entry *v, size_t n, const struct probe *p,
                        const char *local, const char *scope, const char *state) {
        const struct sock_entry *e = find(v, n, p->inode);

        if (!e)
                fail_msg("socket %s port %u (inode %llu) not listed", local, p->port,
                         (unsigned long long)p->inode);
        assert_int_equal(e->protocol, p->protocol);
        assert_int_equal(e->family, p->family);
        assert_int_equal(e->local_port, p->port);
        assert_string_equal(e->local, local);
        assert_string_equal(sock_scope_to_string(e->scope), scope);
        assert_string_equal(sock_state_to_string(e->state), state);
        assert_int_equal(e->uid, getuid());
        assert_false(e->connected);
        assert_string_equal(e->peer, "");
        assert_int_equal(e->peer_port, 0);
        assert_int_equal(e->ifindex, 0);
        assert_string_equal(e->ifname, "");
        if (p->protocol == IPPROTO_TCP) {
                assert_int_equal(e->rqueue, 0);
                assert_int_equal(e->wqueue, 7); /* the listen() backlog */
        }
}

/* ---- sockets_list ------------------------------------------------------------- */

static void test_list_listeners(void **state) {
        struct probe p[12];
        size_t np = 0, n;
        struct sock_entry *v = NULL;
        bool v6 = have_ipv6();

        p[np++] = open_probe(IPPROTO_TCP, "127.0.0.1", false);
        p[np++] = open_probe(IPPROTO_TCP, "0.0.0.0", false);
        p[np++] = open_probe(IPPROTO_UDP, "127.0.0.1", false);
        p[np++] = open_probe(IPPROTO_UDP, "0.0.0.0", false);
        p[np++] = open_probe(IPPROTO_TCP, "127.0.0.2", false);
        if (v6) {
                p[np++] = open_probe(IPPROTO_TCP, "::1", true);
                p[np++] = open_probe(IPPROTO_UDP, "::1", true);
                p[np++] = open_probe(IPPROTO_TCP, "::", false);
                p[np++] = open_probe(IPPROTO_UDP, "::", true);
                p[np++] = open_probe(IPPROTO_TCP, "::ffff:127.0.0.1", false);
        }

        assert_int_equal(sockets_list(false, &v, &n), 0);
        assert_true(n >= np);
        check_entry(v, n, &p[0], "127.0.0.1", "loopback", "listen");
        check_entry(v, n, &p[1], "0.0.0.0", "all", "listen");
        check_entry(v, n, &p[2], "127.0.0.1", "loopback", "unconn");
        check_entry(v, n, &p[3], "0.0.0.0", "all", "unconn");
        check_entry(v, n, &p[4], "127.0.0.2", "loopback", "listen");
        if (v6) {
                check_entry(v, n, &p[5], "::1", "loopback", "listen");
                check_entry(v, n, &p[6], "::1", "loopback", "unconn");
                check_entry(v, n, &p[7], "::", "all", "listen");
                check_entry(v, n, &p[8], "::", "all", "unconn");
                check_entry(v, n, &p[9], "::ffff:127.0.0.1", "loopback", "listen");
        } else
                print_message("IPv6 unavailable: IPv6 cases skipped\n");

        for (size_t i = 0; i < n; i++) {
                /* the default list is listeners and unconnected UDP only */
                assert_false(v[i].connected);
                assert_non_null(sock_protocol_to_string(v[i].protocol));
                assert_non_null(sock_family_to_string(v[i].family));
                assert_string_equal(sock_state_to_string(v[i].state),
                                    v[i].protocol == IPPROTO_TCP ? "listen" : "unconn");
        }
        sockets_free(v, n);

        /* A closed socket is gone from the next listing. */
        close(p[0].fd);
        assert_int_equal(sockets_list(false, &v, &n), 0);
        assert_null(find(v, n, p[0].inode));
        sockets_free(v, n);
        for (size_t i = 1; i < np; i++)
                close(p[i].fd);
}

static void test_list_all(void **state) {
        struct probe srv = open_probe(IPPROTO_TCP, "127.0.0.1", false);
        struct probe udp = open_probe(IPPROTO_UDP, "127.0.0.1", false);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(srv.port)};
        struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(udp.port)};
        const struct sock_entry *e;
        struct sock_entry *v = NULL;
        size_t n;
        int cli, acc, cu;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(cli >= 0);
        assert_int_equal(connect(cli, (struct sockaddr *)&a, sizeof a), 0);
        acc = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
        assert_true(acc >= 0);
        cu = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(cu >= 0);
        assert_int_equal(connect(cu, (struct sockaddr *)&ua, sizeof ua), 0);
        /* Bytes waiting in the accepted socket's receive queue. */
        assert_int_equal(write(cli, "hello", 5), 5);
        usleep(20000);

        /* Not in the default listing. */
        assert_int_equal(sockets_list(false, &v, &n), 0);
        assert_null(find(v, n, inode_of(cli)));
        assert_null(find(v, n, inode_of(acc)));
        assert_null(find(v, n, inode_of(cu)));
        assert_non_null(find(v, n, srv.inode));
        sockets_free(v, n);

        assert_int_equal(sockets_list(true, &v, &n), 0);
        assert_non_null(find(v, n, srv.inode));
        assert_non_null(find(v, n, udp.inode));

        e = find(v, n, inode_of(cli));
        assert_non_null(e);
        assert_string_equal(sock_state_to_string(e->state), "established");
        assert_true(e->connected);
        assert_string_equal(e->peer, "127.0.0.1");
        assert_int_equal(e->peer_port, srv.port);
        assert_string_equal(sock_scope_to_string(e->scope), "loopback");

        e = find(v, n, inode_of(acc));
        assert_non_null(e);
        assert_string_equal(sock_state_to_string(e->state), "established");
        assert_int_equal(e->local_port, srv.port);
        assert_true(e->connected);
        assert_int_equal(e->rqueue, 5);

        e = find(v, n, inode_of(cu));
        assert_non_null(e);
        assert_int_equal(e->protocol, IPPROTO_UDP);
        assert_string_equal(sock_state_to_string(e->state), "established");
        assert_true(e->connected);
        assert_int_equal(e->peer_port, udp.port);
        assert_string_equal(e->peer, "127.0.0.1");
        sockets_free(v, n);

        close(cu);
        close(acc);
        close(cli);
        close(udp.fd);
        close(srv.fd);
}

static void test_list_bound_device(void **state) {
        struct probe p = open_probe(IPPROTO_UDP, "127.0.0.1", false);
        struct sock_entry *v = NULL;
        const struct sock_entry *e;
        size_t n;

        if (setsockopt(p.fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0) {
                close(p.fd);
                skip(); /* needs CAP_NET_RAW */
        }
        assert_int_equal(sockets_list(false, &v, &n), 0);
        e = find(v, n, p.inode);
        assert_non_null(e);
        assert_int_equal(e->ifindex, if_nametoindex("lo"));
        assert_string_equal(e->ifname, "lo");
        sockets_free(v, n);
        close(p.fd);
}

static void test_strings(void **state) {
        assert_string_equal(sock_protocol_to_string(IPPROTO_TCP), "tcp");
        assert_string_equal(sock_protocol_to_string(IPPROTO_UDP), "udp");
        assert_null(sock_protocol_to_string(IPPROTO_SCTP));
        assert_string_equal(sock_family_to_string(AF_INET), "ipv4");
        assert_string_equal(sock_family_to_string(AF_INET6), "ipv6");
        assert_null(sock_family_to_string(AF_UNIX));
        assert_string_equal(sock_state_to_string(1), "established");
        assert_string_equal(sock_state_to_string(6), "time-wait");
        assert_string_equal(sock_state_to_string(7), "unconn");
        assert_string_equal(sock_state_to_string(10), "listen");
        assert_null(sock_state_to_string(0));
        assert_null(sock_state_to_string(14));
        assert_null(sock_state_to_string(-1));
        assert_null(sock_state_to_string(255));
        assert_string_equal(sock_scope_to_string(SOCK_SCOPE_ALL), "all");
        assert_null(sock_scope_to_string(_SOCK_SCOPE_MAX));
}

/* ---- sockdiag_parse ------------------------------------------------------------- */

struct msgbuf {
        uint8_t b[4096];
        size_t len;
};

static void put_msg(struct msgbuf *m, uint16_t type, uint16_t flags, const void *payload,
                    size_t plen) {
        struct nlmsghdr h = {
                .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + plen),
                .nlmsg_type = type,
                .nlmsg_flags = flags,
                .nlmsg_seq = 1,
        };
        size_t total = NLMSG_ALIGN(NLMSG_HDRLEN + plen);

        assert_true(m->len + total <= sizeof m->b);
        memset(m->b + m->len, 0, total);
        memcpy(m->b + m->len, &h, sizeof h);
        if (plen)
                memcpy(m->b + m->len + NLMSG_HDRLEN, payload, plen);
        m->len += total;
}

static struct inet_diag_msg diag4(uint8_t state, const char *src, uint16_t sport, const char *dst,
                                  uint16_t dport, uint32_t inode) {
        struct inet_diag_msg d = {
                .idiag_family = AF_INET,
                .idiag_state = state,
                .idiag_rqueue = 3,
                .idiag_wqueue = 128,
                .idiag_uid = 1000,
                .idiag_inode = inode,
        };
        d.id.idiag_sport = htons(sport);
        d.id.idiag_dport = htons(dport);
        assert_int_equal(inet_pton(AF_INET, src, d.id.idiag_src), 1);
        assert_int_equal(inet_pton(AF_INET, dst, d.id.idiag_dst), 1);
        return d;
}

static struct inet_diag_msg diag6(uint8_t state, const char *src, uint16_t sport, uint32_t ifindex,
                                  uint32_t inode) {
        struct inet_diag_msg d = {
                .idiag_family = AF_INET6,
                .idiag_state = state,
                .idiag_inode = inode,
        };
        d.id.idiag_sport = htons(sport);
        d.id.idiag_if = ifindex;
        assert_int_equal(inet_pton(AF_INET6, src, d.id.idiag_src), 1);
        return d;
}

/* A dump as the kernel sends it: sockets, then NLMSG_DONE with 0. */
static void sample_dump(struct msgbuf *m) {
        struct inet_diag_msg d;
        int32_t zero = 0;
        uint8_t rta[8] = {8, 0, 5, 0, 0, 0, 0, 0}; /* an INET_DIAG_SHUTDOWN-like attribute */
        uint8_t withattr[sizeof(struct inet_diag_msg) + sizeof rta];

        *m = (struct msgbuf){};
        d = diag4(10, "127.0.0.1", 8080, "0.0.0.0", 0, 111);
        put_msg(m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        d = diag4(1, "10.0.0.5", 22, "10.0.0.9", 51000, 112);
        memcpy(withattr, &d, sizeof d);
        memcpy(withattr + sizeof d, rta, sizeof rta);
        put_msg(m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, withattr, sizeof withattr);
        d = diag6(10, "fe80::1", 53, 1, 113);
        put_msg(m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        d = diag6(10, "::", 443, 0, 114);
        put_msg(m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        put_msg(m, NLMSG_NOOP, NLM_F_MULTI, NULL, 0);
        put_msg(m, NLMSG_DONE, NLM_F_MULTI, &zero, sizeof zero);
}

/* An exact-size heap copy at an odd address, to catch over-reads and
 * misaligned struct access. */
static uint8_t *exact_copy(const void *p, size_t n, uint8_t **ret_base) {
        uint8_t *base = malloc(n + 1);
        assert_non_null(base);
        /* ASan: bytes [0, n] are valid; use [1, n]. */
        memcpy(base + 1, p, n);
        *ret_base = base;
        return base + 1;
}

static void test_parse_sample(void **state) {
        struct msgbuf m;
        struct sock_vec vec = {};
        uint8_t *base, *p;

        sample_dump(&m);
        p = exact_copy(m.b, m.len, &base);
        assert_int_equal(sockdiag_parse(p, m.len, IPPROTO_TCP, &vec), 1);
        assert_int_equal(vec.n, 4);

        assert_string_equal(vec.v[0].local, "127.0.0.1");
        assert_int_equal(vec.v[0].local_port, 8080);
        assert_int_equal(vec.v[0].protocol, IPPROTO_TCP);
        assert_int_equal(vec.v[0].family, AF_INET);
        assert_string_equal(sock_state_to_string(vec.v[0].state), "listen");
        assert_int_equal(vec.v[0].scope, SOCK_SCOPE_LOOPBACK);
        assert_false(vec.v[0].connected);
        assert_string_equal(vec.v[0].peer, "");
        assert_int_equal(vec.v[0].inode, 111);
        assert_int_equal(vec.v[0].uid, 1000);
        assert_int_equal(vec.v[0].rqueue, 3);
        assert_int_equal(vec.v[0].wqueue, 128);

        assert_string_equal(vec.v[1].local, "10.0.0.5");
        assert_int_equal(vec.v[1].scope, SOCK_SCOPE_ADDRESS);
        assert_true(vec.v[1].connected);
        assert_string_equal(vec.v[1].peer, "10.0.0.9");
        assert_int_equal(vec.v[1].peer_port, 51000);
        assert_string_equal(sock_state_to_string(vec.v[1].state), "established");

        assert_string_equal(vec.v[2].local, "fe80::1");
        assert_int_equal(vec.v[2].family, AF_INET6);
        assert_int_equal(vec.v[2].ifindex, 1);
        assert_int_equal(vec.v[2].scope, SOCK_SCOPE_ADDRESS);
        assert_string_equal(vec.v[2].ifname, ""); /* the parser does no lookups */

        assert_string_equal(vec.v[3].local, "::");
        assert_int_equal(vec.v[3].scope, SOCK_SCOPE_ALL);

        /* The same bytes as UDP. */
        sock_vec_done(&vec);
        assert_int_equal(sockdiag_parse(p, m.len, IPPROTO_UDP, &vec), 1);
        assert_int_equal(vec.n, 4);
        assert_int_equal(vec.v[3].protocol, IPPROTO_UDP);
        sock_vec_done(&vec);
        sock_vec_done(&vec); /* idempotent */
        sock_vec_done(NULL);

        assert_int_equal(sockdiag_parse(p, m.len, IPPROTO_SCTP, &vec), -EINVAL);
        assert_int_equal(sockdiag_parse(NULL, 0, IPPROTO_TCP, &vec), 0);
        assert_int_equal(vec.n, 0);
        free(base);
}

static void test_parse_parts(void **state) {
        struct msgbuf m = {};
        struct sock_vec vec = {};
        struct inet_diag_msg d = diag4(10, "0.0.0.0", 1, "0.0.0.0", 0, 5);

        /* A part without NLMSG_DONE: more to come. */
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 0);
        assert_int_equal(vec.n, 1);
        /* The next part appends. */
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 0);
        assert_int_equal(vec.n, 2);

        /* An empty NLMSG_DONE (old kernels) ends it too; what follows is ignored. */
        m = (struct msgbuf){};
        put_msg(&m, NLMSG_DONE, NLM_F_MULTI, NULL, 0);
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 1);
        assert_int_equal(vec.n, 2);

        /* The last message may lack its alignment padding. */
        m = (struct msgbuf){};
        put_msg(&m, NLMSG_DONE, NLM_F_MULTI, "\0\0\0\0\0", 5);
        {
                struct nlmsghdr h;
                memcpy(&h, m.b, sizeof h);
                assert_int_equal(sockdiag_parse(m.b, h.nlmsg_len, IPPROTO_TCP, &vec), 1);
        }
        sock_vec_done(&vec);
}

static void test_parse_errors(void **state) {
        struct msgbuf m = {};
        struct sock_vec vec = {};
        struct inet_diag_msg d = diag4(10, "0.0.0.0", 1, "0.0.0.0", 0, 5);
        struct nlmsgerr err = {.error = -EPERM};
        int32_t done_err = -EINTR;
        struct nlmsghdr h;

        /* NLMSG_ERROR: its errno, and the entries of this call dropped. */
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        put_msg(&m, NLMSG_ERROR, 0, &err, sizeof err);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EPERM);
        assert_int_equal(vec.n, 0);

        /* ... but not those of earlier calls. */
        m = (struct msgbuf){};
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 0);
        put_msg(&m, NLMSG_ERROR, 0, &err, sizeof err);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EPERM);
        assert_int_equal(vec.n, 1);

        /* An acknowledgement (error 0) is not an error. */
        m = (struct msgbuf){};
        err.error = 0;
        put_msg(&m, NLMSG_ERROR, 0, &err, sizeof err);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 0);

        /* A positive or absurd error, or a short error payload. */
        m = (struct msgbuf){};
        err.error = 5;
        put_msg(&m, NLMSG_ERROR, 0, &err, sizeof err);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);
        m = (struct msgbuf){};
        err.error = INT32_MIN;
        put_msg(&m, NLMSG_ERROR, 0, &err, sizeof err);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);
        m = (struct msgbuf){};
        put_msg(&m, NLMSG_ERROR, 0, &err, 2);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);

        /* A failed NLMSG_DONE. */
        m = (struct msgbuf){};
        put_msg(&m, NLMSG_DONE, NLM_F_MULTI, &done_err, sizeof done_err);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EINTR);

        /* A socket message too short for its struct. */
        m = (struct msgbuf){};
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d - 1);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);

        /* Length fields: below the header, past the buffer. */
        m = (struct msgbuf){};
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        memcpy(&h, m.b, sizeof h);
        h.nlmsg_len = 8;
        memcpy(m.b, &h, sizeof h);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);
        h.nlmsg_len = (uint32_t)m.len + 4;
        memcpy(m.b, &h, sizeof h);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);
        h.nlmsg_len = UINT32_MAX;
        memcpy(m.b, &h, sizeof h);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -EBADMSG);
        /* Trailing bytes shorter than a header. */
        assert_int_equal(sockdiag_parse(m.b, 7, IPPROTO_TCP, &vec), -EBADMSG);

        /* Other families and message types are skipped. */
        m = (struct msgbuf){};
        d.idiag_family = AF_UNIX;
        put_msg(&m, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, &d, sizeof d);
        put_msg(&m, 0x77, NLM_F_MULTI, &d, sizeof d);
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 0);
        assert_int_equal(vec.n, 1);
        sock_vec_done(&vec);
}

static void test_parse_cap(void **state) {
        struct msgbuf m;
        struct sock_vec vec = {.max = 3};

        sample_dump(&m); /* four sockets */
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), -E2BIG);
        assert_int_equal(vec.n, 0);
        vec.max = 4;
        assert_int_equal(sockdiag_parse(m.b, m.len, IPPROTO_TCP, &vec), 1);
        assert_int_equal(vec.n, 4);
        assert_int_equal(vec.max, 4);
        sock_vec_done(&vec);
        assert_int_equal(vec.max, 4);
}

/* Every prefix of a good dump, and every single-byte change: never a crash,
 * never a read past the end, and the vector is unchanged on failure. */
static void test_parse_truncated(void **state) {
        struct msgbuf m;

        sample_dump(&m);
        for (size_t cut = 0; cut <= m.len; cut++) {
                struct sock_vec vec = {};
                uint8_t *base, *p = exact_copy(m.b, cut, &base);
                int r = sockdiag_parse(p, cut, IPPROTO_UDP, &vec);

                if (r < 0)
                        assert_int_equal(vec.n, 0);
                else
                        assert_true(r == 1 ? cut == m.len : cut < m.len);
                for (size_t i = 0; i < vec.n; i++)
                        assert_true(strlen(vec.v[i].local) < sizeof vec.v[i].local);
                sock_vec_done(&vec);
                free(base);
        }
        for (size_t i = 0; i < m.len; i++) {
                static const uint8_t flips[] = {0x00, 0xff, 0x80, 0x01};
                for (size_t f = 0; f < ELEMENTSOF(flips); f++) {
                        struct sock_vec vec = {};
                        uint8_t *base, *p = exact_copy(m.b, m.len, &base);
                        p[i] = flips[f];
                        if (sockdiag_parse(p, m.len, IPPROTO_TCP, &vec) < 0)
                                assert_int_equal(vec.n, 0);
                        sock_vec_done(&vec);
                        free(base);
                }
        }
}

/* ---- procmap: this process ------------------------------------------------------ */

static void read_self(const char *name, char *buf, size_t cap) {
        size_t len = 0;
        FILE *f = fopen(name, "re");

        assert_non_null(f);
        len = fread(buf, 1, cap - 1, f);
        fclose(f);
        buf[len] = '\0';
        if (len > 0 && buf[len - 1] == '\n')
                buf[len - 1] = '\0';
}

static void test_procmap_self(void **state) {
        struct probe p = open_probe(IPPROTO_TCP, "127.0.0.1", false);
        struct probe q = open_probe(IPPROTO_UDP, "127.0.0.1", false);
        uint64_t wanted[] = {q.inode, 0, p.inode, p.inode, 424242424242ULL};
        struct procmap *m = NULL;
        const struct proc_owner *o;
        char comm[64], exe[PATH_MAX];
        struct passwd *pw = getpwuid(getuid());
        ssize_t k;
        size_t n;
        int dup_fd = dup(p.fd), pipefd[2];
        pid_t child;

        assert_true(dup_fd >= 0);
        read_self("/proc/self/comm", comm, sizeof comm);
        k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        assert_true(k > 0);
        exe[k] = '\0';

        assert_int_equal(procmap_build(wanted, ELEMENTSOF(wanted), &m), 0);
        assert_int_equal(procmap_lookup(m, p.inode, &o, &n), 0);
        assert_int_equal(n, 1); /* the dup()ed descriptor is the same owner */
        assert_int_equal(o[0].pid, getpid());
        assert_int_equal(o[0].uid, getuid());
        assert_string_equal(o[0].comm, comm);
        assert_string_equal(o[0].exe, exe);
        if (pw)
                assert_string_equal(o[0].user, pw->pw_name);
        assert_non_null(o[0].unit);
        assert_non_null(o[0].container);
        assert_int_equal(procmap_lookup(m, q.inode, &o, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(procmap_lookup(m, 424242424242ULL, &o, &n), -ENOENT);
        assert_int_equal(procmap_lookup(m, 0, &o, &n), -ENOENT);
        assert_int_equal(procmap_lookup(m, 12345, &o, &n), -ENOENT);
        procmap_free(m);

        /* A forked child holds the same socket: two owners, by pid. */
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                char c;
                close(pipefd[1]);
                /* Wait for the parent to close its end; the result does not matter. */
                _exit(read(pipefd[0], &c, 1) < 0 ? 1 : 0);
        }
        close(pipefd[0]);
        assert_int_equal(procmap_build(wanted, ELEMENTSOF(wanted), &m), 0);
        assert_int_equal(procmap_lookup(m, p.inode, &o, &n), 0);
        assert_int_equal(n, 2);
        assert_true(o[0].pid < o[1].pid);
        assert_true((o[0].pid == getpid() && o[1].pid == child) ||
                    (o[1].pid == getpid() && o[0].pid == child));
        procmap_free(m);
        close(pipefd[1]);
        assert_int_equal(waitpid(child, NULL, 0), child);

        /* Nothing asked, nothing found; bounds. */
        assert_int_equal(procmap_build(NULL, 0, &m), 0);
        assert_int_equal(procmap_lookup(m, p.inode, &o, &n), -ENOENT);
        procmap_free(m);
        procmap_free(NULL);
        assert_int_equal(procmap_build(wanted, PROCMAP_MAX_INODES + 1, &m), -E2BIG);
        assert_int_equal(procmap_build(NULL, 3, &m), -EINVAL);

        close(dup_fd);
        close(q.fd);
        close(p.fd);
}

/* ---- procmap: a fake proc tree ----------------------------------------------- */

/* snprintf() into a path buffer; the test fails rather than truncate. */
static void __attribute__((format(printf, 3, 4)))
xpath(char *buf, size_t cap, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, cap, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t)n < cap);
}

static void mkfile(const char *dir, const char *name, const char *text) {
        char path[PATH_MAX];
        FILE *f;

        xpath(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void mkproc(const char *root, unsigned pid, const char *comm, const char *cgroup,
                   unsigned uid, const unsigned *fd_inodes, size_t n_fds) {
        char dir[PATH_MAX], path[PATH_MAX], link[64], status[128];

        xpath(dir, sizeof dir, "%s/%u", root, pid);
        assert_int_equal(mkdir(dir, 0755), 0);
        mkfile(dir, "comm", comm);
        mkfile(dir, "cgroup", cgroup);
        snprintf(status, sizeof status, "Name:\t%s\nUmask:\t0022\nUid:\t%u\t%u\t%u\t%u\n", comm,
                 uid, uid, uid, uid);
        mkfile(dir, "status", status);
        xpath(path, sizeof path, "%s/exe", dir);
        assert_int_equal(symlink("/usr/sbin/fake", path), 0);
        xpath(path, sizeof path, "%s/fd", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        for (size_t i = 0; i < n_fds; i++) {
                xpath(path, sizeof path, "%s/fd/%zu", dir, i + 3);
                if (fd_inodes[i])
                        snprintf(link, sizeof link, "socket:[%u]", fd_inodes[i]);
                else
                        snprintf(link, sizeof link, "/dev/null");
                assert_int_equal(symlink(link, path), 0);
        }
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *root) {
        assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_procmap_tree(void **state) {
        char root[] = "/tmp/test-sockets.XXXXXX", path[PATH_MAX];
        const unsigned nginx_fds[] = {500, 0, 501, 500};
        const unsigned worker_fds[] = {500, 501};
        const unsigned other_fds[] = {999, 0};
        const uint64_t wanted[] = {501, 500, 777, 600};
        struct procmap *m = NULL;
        const struct proc_owner *o;
        size_t n;

        assert_non_null(mkdtemp(root));
        mkproc(root, 40, "nginx", "0::/system.slice/nginx.service\n", 0, nginx_fds,
               ELEMENTSOF(nginx_fds));
        mkproc(root, 41, "nginx", "0::/system.slice/nginx.service\n", 33, worker_fds,
               ELEMENTSOF(worker_fds));
        mkproc(root, 7, "other", "0::/user.slice\n", 0, other_fds, ELEMENTSOF(other_fds));
        /* 20 holders of inode 600: only PROCMAP_MAX_OWNERS are kept. */
        for (unsigned i = 0; i < 20; i++) {
                const unsigned fds[] = {600};
                mkproc(root, 1000 + i, "app",
                       "0::/system.slice/docker-0123456789abcdef0123456789abcdef.scope\n",
                       4000000000u, fds, 1);
        }
        /* Not processes, or unreadable: skipped. */
        xpath(path, sizeof path, "%s/self", root);
        assert_int_equal(symlink("40", path), 0);
        xpath(path, sizeof path, "%s/sys", root);
        assert_int_equal(mkdir(path, 0755), 0);
        xpath(path, sizeof path, "%s/55", root);
        assert_int_equal(mkdir(path, 0755), 0); /* no fd/ */
        xpath(path, sizeof path, "%s/0", root);
        assert_int_equal(mkdir(path, 0755), 0);

        assert_int_equal(procmap_build_at(root, wanted, ELEMENTSOF(wanted), &m), 0);

        assert_int_equal(procmap_lookup(m, 500, &o, &n), 0);
        assert_int_equal(n, 2); /* pid 40 holds it twice: one owner */
        assert_int_equal(o[0].pid, 40);
        assert_int_equal(o[1].pid, 41);
        assert_string_equal(o[0].comm, "nginx");
        assert_string_equal(o[0].exe, "/usr/sbin/fake");
        assert_string_equal(o[0].unit, "nginx.service");
        assert_string_equal(o[0].container, "");
        assert_int_equal(o[0].uid, 0);
        assert_string_equal(o[0].user, "root");
        assert_int_equal(o[1].uid, 33);

        assert_int_equal(procmap_lookup(m, 501, &o, &n), 0);
        assert_int_equal(n, 2);

        assert_int_equal(procmap_lookup(m, 600, &o, &n), 0);
        assert_int_equal(n, PROCMAP_MAX_OWNERS);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        assert_true(o[i - 1].pid < o[i].pid);
                assert_string_equal(o[i].container, "docker:0123456789ab");
                assert_string_equal(o[i].unit, "docker-0123456789abcdef0123456789abcdef.scope");
                /* no such user: the uid in decimal */
                assert_string_equal(o[i].user, "4000000000");
        }

        assert_int_equal(procmap_lookup(m, 777, &o, &n), -ENOENT);
        assert_int_equal(procmap_lookup(m, 999, &o, &n), -ENOENT); /* not asked */
        procmap_free(m);

        assert_int_equal(procmap_build_at("/nonexistent-proc", wanted, 1, &m), -ENOENT);
        rm_tree(root);
}

/* ---- cgroup ---------------------------------------------------------------------- */

struct cg_case {
        const char *line;
        int kind;
        const char *unit, *container;
};

static void test_cgroup_lines(void **state) {
        static const struct cg_case cases[] = {
                {"0::/system.slice/nginx.service", CGROUP_LINE_V2, "nginx.service", ""},
                {"0::/system.slice/nginx.service\n", CGROUP_LINE_V2, "nginx.service", ""},
                {"0::/init.scope", CGROUP_LINE_V2, "init.scope", ""},
                {"0::/", CGROUP_LINE_V2, "", ""},
                {"0::/user.slice/user-1000.slice/session-3.scope", CGROUP_LINE_V2,
                 "session-3.scope", ""},
                {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service",
                 CGROUP_LINE_V2, "x.service", ""},
                {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                 "app-gnome-firefox-1234.scope",
                 CGROUP_LINE_V2, "app-gnome-firefox-1234.scope", ""},
                {"0::/user.slice/user-1000.slice/user@1000.service/init.scope", CGROUP_LINE_V2,
                 "user@1000.service", ""},
                {"0::/user.slice/user-1000.slice/user@1000.service", CGROUP_LINE_V2,
                 "user@1000.service", ""},
                {"0::/system.slice/getty.slice/getty@tty1.service", CGROUP_LINE_V2,
                 "getty@tty1.service", ""},
                {"0::/system.slice/system-foo\\x2dbar.slice/foo-bar@1.service", CGROUP_LINE_V2,
                 "foo-bar@1.service", ""},
                /* a delegated subtree inside a service */
                {"0::/system.slice/containerd.service/some/sub", CGROUP_LINE_V2,
                 "containerd.service", ""},
                {"0::/system.slice/docker-"
                 "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b.scope",
                 CGROUP_LINE_V2,
                 "docker-4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b.scope",
                 "docker:4f3c2b1a0e9d"},
                /* seen from inside a docker container's cgroup namespace */
                {"0::/", CGROUP_LINE_V2, "", ""},
                {"12:pids:/docker/"
                 "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b",
                 CGROUP_LINE_OTHER, "", "docker:4f3c2b1a0e9d"},
                {"1:name=systemd:/docker/"
                 "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b",
                 CGROUP_LINE_SYSTEMD_V1, "", "docker:4f3c2b1a0e9d"},
                {"0::/kubepods.slice/kubepods-besteffort.slice/"
                 "kubepods-besteffort-pod1234_5678.slice/cri-containerd-"
                 "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899.scope",
                 CGROUP_LINE_V2,
                 "cri-containerd-"
                 "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899.scope",
                 "containerd:aabbccddeeff"},
                {"0::/kubepods.slice/kubepods-pod1.slice/crio-0011223344556677.scope",
                 CGROUP_LINE_V2, "crio-0011223344556677.scope", "crio:001122334455"},
                {"0::/machine.slice/libpod-"
                 "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed.scope/"
                 "container",
                 CGROUP_LINE_V2,
                 "libpod-f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed.scope",
                 "podman:f00dfeedf00d"},
                {"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-"
                 "f00dfeedf00dfeedf00dfeed.scope",
                 CGROUP_LINE_V2, "libpod-f00dfeedf00dfeedf00dfeed.scope", "podman:f00dfeedf00d"},
                {"5:memory:/libpod_parent/libpod-f00dfeedf00dfeedf00dfeed", CGROUP_LINE_OTHER, "",
                 "podman:f00dfeedf00d"},
                /* conmon, podman's monitor, runs outside the container */
                {"0::/machine.slice/libpod-conmon-f00dfeedf00dfeed.scope", CGROUP_LINE_V2,
                 "libpod-conmon-f00dfeedf00dfeed.scope", ""},
                {"0::/lxc.payload.web1/system.slice/nginx.service", CGROUP_LINE_V2, "", "lxc:web1"},
                {"0::/lxc.monitor.web1", CGROUP_LINE_V2, "", ""},
                {"3:cpu,cpuacct:/lxc/db-2", CGROUP_LINE_OTHER, "", "lxc:db-2"},
                {"0::/lxc.payload.c1/system.slice/docker-0123456789abcdef.scope", CGROUP_LINE_V2,
                 "", "docker:0123456789ab"},
                {"1:name=systemd:/system.slice/ssh.service", CGROUP_LINE_SYSTEMD_V1, "ssh.service",
                 ""},
                {"10:cpuset,name=systemd:/system.slice/ssh.service", CGROUP_LINE_SYSTEMD_V1,
                 "ssh.service", ""},
                {"4:memory:/system.slice/ssh.service", CGROUP_LINE_OTHER, "", ""},
                /* paths may hold colons */
                {"0::/a:b/c.service", CGROUP_LINE_V2, "", ""},
                /* not hex, too short: no container */
                {"0::/system.slice/docker-xyz.scope", CGROUP_LINE_V2, "docker-xyz.scope", ""},
                {"0::/docker/0123", CGROUP_LINE_V2, "", ""},
                {"0::/lxc/bad name", CGROUP_LINE_V2, "", ""},
                {"0::/system.slice/a b.service", CGROUP_LINE_V2, "", ""},
        };
        static const char *const bad[] = {
                "", "\n", "0:", "0::", "0::relative", ":x:/", "a::/", "0:/", "-1::/",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct cgroup_hint h;
                size_t len = strlen(cases[i].line);
                uint8_t *base, *p = exact_copy(cases[i].line, len, &base);
                int r = cgroup_parse_line((const char *)p, len, &h);

                if (r != cases[i].kind)
                        fail_msg("%s: kind %d, expected %d", cases[i].line, r, cases[i].kind);
                if (strcmp(h.unit, cases[i].unit) != 0 ||
                    strcmp(h.container, cases[i].container) != 0)
                        fail_msg("%s: unit \"%s\" container \"%s\"", cases[i].line, h.unit,
                                 h.container);
                /* every prefix: no crash, no over-read */
                for (size_t cut = 0; cut < len; cut++)
                        (void)cgroup_parse_line((const char *)p, cut, &h);
                free(base);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct cgroup_hint h = {.unit = "untouched"};
                assert_int_equal(cgroup_parse_line(bad[i], strlen(bad[i]), &h), -EINVAL);
                assert_string_equal(h.unit, "untouched");
        }
        {
                struct cgroup_hint h;
                assert_int_equal(cgroup_parse_line("0::/a\0b", 7, &h), -EINVAL);
        }
        {
                /* A unit name past CGROUP_UNIT_MAX is not a unit. */
                char line[400] = "0::/system.slice/";
                size_t k = strlen(line);
                memset(line + k, 'a', 300);
                memcpy(line + k + 300, ".service", 9);
                struct cgroup_hint h;
                assert_int_equal(cgroup_parse_line(line, strlen(line), &h), CGROUP_LINE_V2);
                assert_string_equal(h.unit, "");
        }
}

static void test_cgroup_files(void **state) {
        struct cgroup_hint h;
        const char *v1 = "12:pids:/system.slice/docker-0123456789abcdef.scope\n"
                         "11:memory:/system.slice/docker-0123456789abcdef.scope\n"
                         "1:name=systemd:/system.slice/docker-0123456789abcdef.scope\n";
        const char *hybrid = "5:cpu:/\n"
                             "1:name=systemd:/system.slice/old.service\n"
                             "0::/system.slice/cron.service\n";
        const char *hybrid_root = "1:name=systemd:/system.slice/cron.service\n"
                                  "0::/\n";
        const char *junk = "garbage\n\n0::/system.slice/a.service";

        cgroup_parse(v1, strlen(v1), &h);
        assert_string_equal(h.unit, "docker-0123456789abcdef.scope");
        assert_string_equal(h.container, "docker:0123456789ab");
        cgroup_parse(hybrid, strlen(hybrid), &h);
        assert_string_equal(h.unit, "cron.service");
        assert_string_equal(h.container, "");
        cgroup_parse(hybrid_root, strlen(hybrid_root), &h);
        assert_string_equal(h.unit, "cron.service");
        cgroup_parse(junk, strlen(junk), &h);
        assert_string_equal(h.unit, "a.service");
        cgroup_parse("", 0, &h);
        assert_string_equal(h.unit, "");
        assert_string_equal(h.container, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_list_listeners),    cmocka_unit_test(test_list_all),
                cmocka_unit_test(test_list_bound_device), cmocka_unit_test(test_strings),
                cmocka_unit_test(test_parse_sample),      cmocka_unit_test(test_parse_parts),
                cmocka_unit_test(test_parse_errors),      cmocka_unit_test(test_parse_cap),
                cmocka_unit_test(test_parse_truncated),   cmocka_unit_test(test_procmap_self),
                cmocka_unit_test(test_procmap_tree),      cmocka_unit_test(test_cgroup_lines),
                cmocka_unit_test(test_cgroup_files),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
