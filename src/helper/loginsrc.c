/* loginsrc.c — see loginsrc.h.
 *
 * A descriptor the front passes is checked before anything is read from
 * it: a TCP stream socket, not listening, whose local address is that of
 * one of the registered listeners (the same port, and the same address
 * unless the listener is bound to the wildcard).  A socket the front made
 * and connected to a listener has an ephemeral local port, and binding one
 * to a listener's port and address fails (the port is taken; below 1024 it
 * also needs a capability the front lacks), so only an end accepted on a
 * listener passes.  When the client's end is a socket of this host too, its
 * owner is looked up, and the front's own are refused (loginsrc.h). */
#include "loginsrc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int sockopt_int(int fd, int level, int name, int *ret) {
        socklen_t len = sizeof *ret;
        return getsockopt(fd, level, name, ret, &len) < 0 ? -errno : 0;
}

int loginsrc_add_listener(struct loginsrc_listeners *l, int fd) {
        struct sockaddr_storage ss = {0};
        socklen_t len = sizeof ss;
        int v;

        if (sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) < 0 || v != 1 ||
            getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
            (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
                return -EINVAL;
        if (l->n == LOGINSRC_LISTENERS_MAX)
                return -ENOSPC;
        l->addr[l->n++] = ss;
        return 0;
}

/* Whether local (a connection's own address) is on listener la. */
static bool on_listener(const struct sockaddr_storage *la, const struct sockaddr_storage *local) {
        if (la->ss_family != local->ss_family)
                return false;
        if (la->ss_family == AF_INET) {
                const struct sockaddr_in *a = (const void *)la, *b = (const void *)local;
                return a->sin_port == b->sin_port && (a->sin_addr.s_addr == htonl(INADDR_ANY) ||
                                                      a->sin_addr.s_addr == b->sin_addr.s_addr);
        }
        const struct sockaddr_in6 *a = (const void *)la, *b = (const void *)local;
        return a->sin6_port == b->sin6_port && (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ||
                                                IN6_ARE_ADDR_EQUAL(&a->sin6_addr, &b->sin6_addr));
}

void loginsrc_set_front_uid(struct loginsrc_listeners *l, uid_t uid) {
        l->has_front_uid = true;
        l->front_uid = uid;
}

/* The owner of the client's end of the connection local <- peer, when that
 * end is a socket of this host: one exact sock_diag lookup (the id is the
 * client's view: source peer, destination local).  -ENOENT when there is no
 * such socket here (the peer is remote). */
static int client_socket_uid(const struct sockaddr_storage *local,
                             const struct sockaddr_storage *peer, uid_t *ret, uint8_t *ret_state) {
        struct {
                struct nlmsghdr h;
                struct inet_diag_req_v2 req;
        } msg = {
                .h =
                        {
                                .nlmsg_len = sizeof msg,
                                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                                .nlmsg_flags = NLM_F_REQUEST,
                                .nlmsg_seq = 1,
                        },
                .req =
                        {
                                .sdiag_family = (uint8_t)local->ss_family,
                                .sdiag_protocol = IPPROTO_TCP,
                                .idiag_states = ~0u,
                                .id.idiag_cookie = {INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE},
                        },
        };
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
        union {
                struct nlmsghdr h;
                uint8_t bytes[1024];
        } answer;
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (local->ss_family == AF_INET) {
                const struct sockaddr_in *l = (const void *)local, *p = (const void *)peer;
                msg.req.id.idiag_sport = p->sin_port;
                msg.req.id.idiag_dport = l->sin_port;
                memcpy(msg.req.id.idiag_src, &p->sin_addr, 4);
                memcpy(msg.req.id.idiag_dst, &l->sin_addr, 4);
        } else {
                const struct sockaddr_in6 *l = (const void *)local, *p = (const void *)peer;
                msg.req.id.idiag_sport = p->sin6_port;
                msg.req.id.idiag_dport = l->sin6_port;
                memcpy(msg.req.id.idiag_src, &p->sin6_addr, 16);
                memcpy(msg.req.id.idiag_dst, &l->sin6_addr, 16);
        }
        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0)
                return -errno;
        if (sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) !=
            (ssize_t)sizeof msg)
                return -EIO;
        do
                n = recv(fd, &answer, sizeof answer, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t)n < sizeof answer.h || answer.h.nlmsg_len > (size_t)n)
                return -EBADMSG;
        if (answer.h.nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *err = NLMSG_DATA(&answer.h);
                if (answer.h.nlmsg_len < NLMSG_LENGTH(sizeof *err))
                        return -EBADMSG;
                return err->error < 0 ? err->error : -EBADMSG;
        }
        if (answer.h.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
            answer.h.nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                return -EBADMSG;
        *ret = ((const struct inet_diag_msg *)NLMSG_DATA(&answer.h))->idiag_uid;
        *ret_state = ((const struct inet_diag_msg *)NLMSG_DATA(&answer.h))->idiag_state;
        return 0;
}

int loginsrc_format(const struct sockaddr *sa, socklen_t len, char source[LOGINSRC_SOURCE_MAX],
                    char key[LOGINSRC_KEY_MAX]) {
        char host[INET6_ADDRSTRLEN];

        if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *s4 = (const void *)sa;
                if (!inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host))
                        return -EINVAL;
                snprintf(source, LOGINSRC_SOURCE_MAX, "%s:%u", host, ntohs(s4->sin_port));
                snprintf(key, LOGINSRC_KEY_MAX, "ip:%s", host);
                return 0;
        }
        if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *s6 = (const void *)sa;
                struct in6_addr net = s6->sin6_addr;
                char prefix[INET6_ADDRSTRLEN];

                memset(net.s6_addr + 8, 0, 8);
                if (!inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host) ||
                    !inet_ntop(AF_INET6, &net, prefix, sizeof prefix))
                        return -EINVAL;
                snprintf(source, LOGINSRC_SOURCE_MAX, "[%s]:%u", host, ntohs(s6->sin6_port));
                snprintf(key, LOGINSRC_KEY_MAX, "ip:%s/64", prefix);
                return 0;
        }
        return -EAFNOSUPPORT;
}

int loginsrc_from_fd(const struct loginsrc_listeners *l, int fd, char source[LOGINSRC_SOURCE_MAX],
                     char key[LOGINSRC_KEY_MAX]) {
        struct sockaddr_storage local = {0}, peer = {0};
        socklen_t llen = sizeof local, plen = sizeof peer;
        bool known = false;
        int v;

        if (fd < 0)
                return -EBADF;
        if (sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &v) < 0 || (v != AF_INET && v != AF_INET6) ||
            sockopt_int(fd, SOL_SOCKET, SO_TYPE, &v) < 0 || v != SOCK_STREAM ||
            sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &v) < 0 || v != IPPROTO_TCP ||
            sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) < 0 || v != 0)
                return -EPERM;
        if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
                return -errno;
        for (size_t i = 0; i < l->n && !known; i++)
                known = on_listener(&l->addr[i], &local);
        if (!known)
                return -EPERM;
        if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
                return -errno; /* ENOTCONN: the client is gone already */
        /* A client waiting for its login's answer has the connection open
         * both ways.  One that closed its end (CLOSE_WAIT here) could be the
         * front's own, closed so that the lookup below finds only a
         * TIME_WAIT remnant, which has no owner. */
        {
                struct tcp_info ti = {0};
                socklen_t tl = sizeof ti;
                if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
                        return -errno;
                if (ti.tcpi_state != TCP_ESTABLISHED)
                        return -EPERM;
        }
        if (l->has_front_uid) {
                uid_t owner = (uid_t)-1;
                uint8_t state = 0;
                int r = client_socket_uid(&local, &peer, &owner, &state);
                if (r >= 0 && (owner == l->front_uid || state != TCP_ESTABLISHED))
                        return -EPERM; /* the front connected to itself */
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return loginsrc_format((const struct sockaddr *)&peer, plen, source, key);
}
