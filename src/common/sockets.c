/* sockets.c — socket listing over netlink sock_diag; see sockets.h.
 *
 * The parser never dereferences the buffer through a struct pointer: every
 * header and payload is memcpy()ed out after its length has been checked
 * against what is left, because datagrams (and fuzz inputs) carry no
 * alignment promise and the length fields are data, not trust.
 *
 * The reader loop owns one netlink socket for the whole listing and one
 * receive buffer, SOCKDIAG_RCVBUF bytes to start with: each datagram's size is
 * peeked first (MSG_PEEK | MSG_TRUNC, as iproute2 does) and the buffer grows
 * to fit, up to SOCKDIAG_RCVBUF_MAX; a datagram past that is an error rather
 * than silently cut.  Each dump is read until
 * its NLMSG_DONE, so the next request on the same socket starts clean; the
 * number of datagrams per dump is bounded so that a reply that never ends
 * cannot keep us here.
 */
#include "sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* The kernel's socket states (include/net/tcp_states.h).  Named here rather
 * than taken from <netinet/tcp.h>, which lacks the newer ones. */
enum {
        ST_ESTABLISHED = 1,
        ST_SYN_SENT,
        ST_SYN_RECV,
        ST_FIN_WAIT1,
        ST_FIN_WAIT2,
        ST_TIME_WAIT,
        ST_CLOSE,
        ST_CLOSE_WAIT,
        ST_LAST_ACK,
        ST_LISTEN,
        ST_CLOSING,
        ST_NEW_SYN_RECV,
        ST_BOUND_INACTIVE,
        _ST_MAX,
};

/* `all`: what ss -a asks for, states 1..12.  Bound-but-inactive TCP sockets
 * (13) are left out, as ss does unless asked for them by name. */
#define STATES_ALL ((1u << (ST_NEW_SYN_RECV + 1)) - 2u)

#define SOCKDIAG_RCVBUF     ((size_t)32 * 1024) /* the kernel's usual dump skb */
#define SOCKDIAG_RCVBUF_MAX ((size_t)1024 * 1024)
#define SOCKDIAG_MAX_DGRAM  (SOCKETS_MAX + 1024u)

_Static_assert(NLMSG_HDRLEN == sizeof(struct nlmsghdr), "netlink header is padded");

const char *sock_protocol_to_string(int protocol) {
        switch (protocol) {
        case IPPROTO_TCP:
                return "tcp";
        case IPPROTO_UDP:
                return "udp";
        default:
                return NULL;
        }
}

const char *sock_family_to_string(int family) {
        switch (family) {
        case AF_INET:
                return "ipv4";
        case AF_INET6:
                return "ipv6";
        default:
                return NULL;
        }
}

const char *sock_state_to_string(int state) {
        static const char *const names[_ST_MAX] = {
                [ST_ESTABLISHED] = "established",
                [ST_SYN_SENT] = "syn-sent",
                [ST_SYN_RECV] = "syn-recv",
                [ST_FIN_WAIT1] = "fin-wait-1",
                [ST_FIN_WAIT2] = "fin-wait-2",
                [ST_TIME_WAIT] = "time-wait",
                [ST_CLOSE] = "unconn",
                [ST_CLOSE_WAIT] = "close-wait",
                [ST_LAST_ACK] = "last-ack",
                [ST_LISTEN] = "listen",
                [ST_CLOSING] = "closing",
                [ST_NEW_SYN_RECV] = "syn-recv",
                [ST_BOUND_INACTIVE] = "bound-inactive",
        };
        if (state < 0 || state >= _ST_MAX)
                return NULL;
        return names[state];
}

const char *sock_scope_to_string(sock_scope_t s) {
        static const char *const names[_SOCK_SCOPE_MAX] = {
                [SOCK_SCOPE_LOOPBACK] = "loopback",
                [SOCK_SCOPE_ALL] = "all",
                [SOCK_SCOPE_ADDRESS] = "address",
        };
        if ((unsigned)s >= _SOCK_SCOPE_MAX)
                return NULL;
        return names[s];
}

void sock_vec_done(struct sock_vec *vec) {
        if (!vec)
                return;
        free(vec->v);
        *vec = (struct sock_vec){.max = vec->max};
}

void sockets_free(struct sock_entry *v, size_t n) {
        (void)n; /* entries own nothing */
        free(v);
}

/* ---- parsing --------------------------------------------------------------- */

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* a: 4 bytes for AF_INET, 16 for AF_INET6, network order. */
static sock_scope_t addr_scope(int family, const uint8_t *a) {
        if (family == AF_INET6) {
                static const uint8_t loop6[16] = {[15] = 1};
                if (memcmp(a, loop6, 16) == 0)
                        return SOCK_SCOPE_LOOPBACK;
                if (all_zero(a, 16))
                        return SOCK_SCOPE_ALL;
                if (memcmp(a, v4mapped_prefix, 12) != 0)
                        return SOCK_SCOPE_ADDRESS;
                a += 12; /* ::ffff:a.b.c.d is a.b.c.d for reachability */
        }
        if (a[0] == 127)
                return SOCK_SCOPE_LOOPBACK;
        if (all_zero(a, 4))
                return SOCK_SCOPE_ALL;
        return SOCK_SCOPE_ADDRESS;
}

static int vec_push(struct sock_vec *out, struct sock_entry **ret) {
        size_t max = out->max ? out->max : SOCKETS_MAX;

        if (out->n >= max)
                return -E2BIG;
        if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 64;
                struct sock_entry *v;

                if (cap > max)
                        cap = max;
                v = reallocarray(out->v, cap, sizeof *v);
                if (!v)
                        return -ENOMEM;
                out->v = v;
                out->cap = cap;
        }
        *ret = &out->v[out->n++];
        return 0;
}

static int parse_diag_msg(const uint8_t *p, size_t len, int protocol, struct sock_vec *out) {
        struct inet_diag_msg m;
        struct sock_entry *e;
        uint8_t src[16], dst[16];
        size_t alen;
        int r;

        if (len < sizeof m)
                return -EBADMSG;
        memcpy(&m, p, sizeof m);
        if (m.idiag_family == AF_INET)
                alen = 4;
        else if (m.idiag_family == AF_INET6)
                alen = 16;
        else
                return 0; /* not ours to show */

        memcpy(src, m.id.idiag_src, sizeof src);
        memcpy(dst, m.id.idiag_dst, sizeof dst);

        r = vec_push(out, &e);
        if (r < 0)
                return r;
        *e = (struct sock_entry){
                .inode = m.idiag_inode,
                .uid = m.idiag_uid,
                .rqueue = m.idiag_rqueue,
                .wqueue = m.idiag_wqueue,
                .ifindex = m.id.idiag_if,
                .local_port = ntohs(m.id.idiag_sport),
                .peer_port = ntohs(m.id.idiag_dport),
                .protocol = (uint8_t)protocol,
                .family = m.idiag_family,
                .state = m.idiag_state,
                .scope = (uint8_t)addr_scope(m.idiag_family, src),
        };
        /* inet_ntop() cannot fail for these families and buffer sizes. */
        (void)inet_ntop(m.idiag_family, src, e->local, sizeof e->local);
        e->connected = e->peer_port != 0 || !all_zero(dst, alen);
        if (e->connected)
                (void)inet_ntop(m.idiag_family, dst, e->peer, sizeof e->peer);
        return 0;
}

/* The errno of an NLMSG_ERROR or NLMSG_DONE payload: a negative int. */
static int payload_error(const uint8_t *p, size_t len, bool required, int *ret) {
        int32_t err;

        if (len < sizeof err) {
                if (required)
                        return -EBADMSG;
                *ret = 0; /* old kernels send an empty NLMSG_DONE */
                return 0;
        }
        memcpy(&err, p, sizeof err);
        if (err > 0 || err < -4095)
                return -EBADMSG;
        *ret = err;
        return 0;
}

int sockdiag_parse(const void *buf, size_t len, int protocol, struct sock_vec *out) {
        const uint8_t *p = buf;
        size_t n0 = out->n;
        int r = 0;

        if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)
                return -EINVAL;
        if (len > 0 && !buf)
                return -EINVAL;

        while (len > 0) {
                struct nlmsghdr h;
                size_t mlen, step;
                int err;

                if (len < sizeof h) {
                        r = -EBADMSG;
                        break;
                }
                memcpy(&h, p, sizeof h);
                mlen = h.nlmsg_len;
                if (mlen < sizeof h || mlen > len) {
                        r = -EBADMSG;
                        break;
                }

                /* NLMSG_HDRLEN == sizeof h: the payload starts right after. */
                const uint8_t *pl = p + NLMSG_HDRLEN;
                size_t pllen = mlen - NLMSG_HDRLEN;

                if (h.nlmsg_type == NLMSG_DONE) {
                        r = payload_error(pl, pllen, false, &err);
                        r = r < 0 ? r : err < 0 ? err : 1;
                        break;
                }
                if (h.nlmsg_type == NLMSG_ERROR) {
                        r = payload_error(pl, pllen, true, &err);
                        if (r < 0)
                                break;
                        if (err < 0) {
                                r = err;
                                break;
                        }
                        /* error 0 is an acknowledgement: nothing to add */
                } else if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
                        r = parse_diag_msg(pl, pllen, protocol, out);
                        if (r < 0)
                                break;
                }
                /* NLMSG_NOOP, NLMSG_OVERRUN and unknown types: skipped. */

                step = NLMSG_ALIGN(mlen);
                if (step > len)
                        step = len; /* the last message may lack its padding */
                p += step;
                len -= step;
                r = 0;
        }

        if (r < 0)
                out->n = n0;
        return r;
}

/* ---- talking to the kernel --------------------------------------------------- */

static int send_request(int fd, int family, int protocol, uint32_t states, uint32_t seq) {
        struct {
                struct nlmsghdr h;
                struct inet_diag_req_v2 req;
        } msg = {
                .h =
                        {
                                .nlmsg_len = sizeof msg,
                                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                                .nlmsg_seq = seq,
                        },
                .req =
                        {
                                .sdiag_family = (uint8_t)family,
                                .sdiag_protocol = (uint8_t)protocol,
                                .idiag_states = states,
                        },
        };
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

        for (;;) {
                ssize_t n =
                        sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel);
                if (n >= 0)
                        return n == (ssize_t)sizeof msg ? 0 : -EIO;
                if (errno != EINTR)
                        return -errno;
        }
}

static ssize_t recv_retry(int fd, struct msghdr *mh, int flags) {
        for (;;) {
                ssize_t n = recvmsg(fd, mh, flags);
                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return -errno;
        }
}

/* Reads one dump to its end.  *buf (of *bufsize bytes) may be replaced by a
 * larger one; it stays the caller's. */
static int recv_dump(int fd, uint8_t **buf, size_t *bufsize, int protocol, struct sock_vec *out) {
        size_t n0 = out->n;
        int r;

        for (size_t dgrams = 0; dgrams < SOCKDIAG_MAX_DGRAM; dgrams++) {
                struct sockaddr_nl from;
                struct iovec iov = {.iov_base = *buf, .iov_len = *bufsize};
                struct msghdr mh = {
                        .msg_name = &from,
                        .msg_namelen = sizeof from,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                };
                ssize_t n = recv_retry(fd, &mh, MSG_PEEK | MSG_TRUNC);

                if (n < 0) {
                        r = (int)n;
                        goto fail;
                }
                if ((size_t)n > *bufsize) {
                        uint8_t *b;
                        if ((size_t)n > SOCKDIAG_RCVBUF_MAX) {
                                r = -EMSGSIZE;
                                goto fail;
                        }
                        b = realloc(*buf, (size_t)n);
                        if (!b) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        *buf = b;
                        *bufsize = (size_t)n;
                        iov = (struct iovec){.iov_base = *buf, .iov_len = *bufsize};
                }
                mh.msg_namelen = sizeof from;
                mh.msg_flags = 0;
                n = recv_retry(fd, &mh, 0);
                if (n < 0) {
                        r = (int)n;
                        goto fail;
                }
                if (mh.msg_flags & MSG_TRUNC) {
                        r = -EMSGSIZE;
                        goto fail;
                }
                if (mh.msg_namelen != sizeof from || from.nl_pid != 0)
                        continue; /* not from the kernel */
                if (n == 0) {
                        r = -EBADMSG;
                        goto fail;
                }
                r = sockdiag_parse(*buf, (size_t)n, protocol, out);
                if (r < 0)
                        goto fail;
                if (r > 0)
                        return 0;
        }
        r = -EBADMSG;
fail:
        out->n = n0;
        return r;
}

static void resolve_ifnames(struct sock_entry *v, size_t n) {
        /* Sockets bound to a device are few and share a handful of devices:
         * remember the last answer instead of asking once per socket. */
        uint32_t last = 0;
        char name[IF_NAMESIZE] = "";

        for (size_t i = 0; i < n; i++) {
                if (v[i].ifindex == 0)
                        continue;
                if (v[i].ifindex != last) {
                        last = v[i].ifindex;
                        if (!if_indextoname(last, name))
                                name[0] = '\0'; /* gone since: keep the index */
                }
                memcpy(v[i].ifname, name, sizeof name);
        }
}

int sockets_list(bool all, struct sock_entry **ret, size_t *ret_n) {
        static const struct {
                int protocol, family;
        } kinds[] = {
                {IPPROTO_TCP, AF_INET},
                {IPPROTO_TCP, AF_INET6},
                {IPPROTO_UDP, AF_INET},
                {IPPROTO_UDP, AF_INET6},
        };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t bufsize = SOCKDIAG_RCVBUF;
        struct sock_vec vec = {.max = SOCKETS_MAX};
        int r;

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0)
                return -errno;
        buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                uint32_t states;

                if (all)
                        states = STATES_ALL;
                else if (kinds[i].protocol == IPPROTO_TCP)
                        states = 1u << ST_LISTEN;
                else
                        states = 1u << ST_CLOSE;

                r = send_request(fd, kinds[i].family, kinds[i].protocol, states, (uint32_t)i + 1);
                if (r < 0)
                        goto fail;
                r = recv_dump(fd, &buf, &bufsize, kinds[i].protocol, &vec);
                if (r == -ENOENT || r == -EAFNOSUPPORT || r == -EOPNOTSUPP) {
                        if (i == 0)
                                goto fail; /* TCP over IPv4 must be there */
                        continue;
                }
                if (r < 0)
                        goto fail;
        }

        resolve_ifnames(vec.v, vec.n);
        *ret_n = vec.n;
        if (vec.n == 0)
                sock_vec_done(&vec);
        *ret = vec.v;
        return 0;
fail:
        sock_vec_done(&vec);
        return r;
}
