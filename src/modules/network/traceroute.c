/* traceroute.c — the routers on the way to a host, hop by hop.
 *
 * UDP probes to ports 33434 and up with a growing TTL (hop limit), sent
 * from a probe child without any privilege: the ICMP errors they cause come
 * back on each socket's error queue (IP_RECVERR / IPV6_RECVERR, read with
 * MSG_ERRQUEUE), with the address of the router that sent them.  Time
 * exceeded is a hop on the way; port unreachable is the destination itself
 * (reached); another unreachable (host, network, prohibited) ends the
 * trace with that error.
 *
 * Each hop sends TRACE_PROBES probes at once, one socket each (a socket
 * tells its probe apart from the others without relying on how much of the
 * datagram a router quotes back), and waits at most TRACE_WAIT_USEC for
 * their answers, so a trace of 30 silent hops still ends within 30 s.  One
 * progress event per hop, the hop object of the result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "modules/network/network.h"
#include "modules/network/probe.h"
#include "util.h"

#define TRACE_PROBES    3
#define TRACE_PORT_BASE 33434
#define TRACE_WAIT_USEC 1000000u
#define TRACE_HOPS_MAX  30

const command_arg_t traceroute_args[TRACEROUTE_N_ARGS] = {
        PROBE_HOST_ARG("the host to trace the way to: an IP address or a DNS name"),
        {.name = "max_hops",
         .type = SETTING_INTEGER,
         .min = 1,
         .max = TRACE_HOPS_MAX,
         .description = "the most routers to go through (default 30)"},
        PROBE_FAMILY_ARG,
};

struct probe_slot {
        int fd;
        uint64_t sent;
        bool answered;
        double rtt_ms;
        char from[INET6_ADDRSTRLEN];
        int verdict; /* 0 time exceeded, 1 reached, -1 an unreachable: error */
        const char *error;
};

/* What an ICMP error says for the trace: its verdict and, for an error, the
 * words (traceroute's !H, !N, !X). */
static int icmp_verdict(int family, const struct sock_extended_err *ee, const char **error) {
        bool v6 = family == AF_INET6;

        *error = NULL;
        if (ee->ee_origin == SO_EE_ORIGIN_LOCAL) {
                *error = strerror((int)ee->ee_errno);
                return -1;
        }
        if ((!v6 && ee->ee_type == ICMP_TIME_EXCEEDED) ||
            (v6 && ee->ee_type == ICMP6_TIME_EXCEEDED))
                return 0;
        if ((!v6 && ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code == ICMP_PORT_UNREACH) ||
            (v6 && ee->ee_type == ICMP6_DST_UNREACH && ee->ee_code == ICMP6_DST_UNREACH_NOPORT))
                return 1;
        if (!v6 && ee->ee_type == ICMP_DEST_UNREACH)
                *error = ee->ee_code == ICMP_NET_UNREACH    ? "network unreachable"
                         : ee->ee_code == ICMP_HOST_UNREACH ? "host unreachable"
                         : ee->ee_code == ICMP_PROT_UNREACH ? "protocol unreachable"
                         : ee->ee_code >= ICMP_NET_ANO      ? "administratively prohibited"
                                                            : "destination unreachable";
        else if (v6 && ee->ee_type == ICMP6_DST_UNREACH)
                *error = ee->ee_code == ICMP6_DST_UNREACH_NOROUTE ? "network unreachable"
                         : ee->ee_code == ICMP6_DST_UNREACH_ADMIN ? "administratively prohibited"
                         : ee->ee_code == ICMP6_DST_UNREACH_ADDR  ? "host unreachable"
                                                                  : "destination unreachable";
        else
                *error = "unexpected ICMP error";
        return -1;
}

/* Reads one error from a probe's socket into its slot; 1 when it did. */
static int slot_read(struct probe_slot *s, int family) {
        char data[64], control[512];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control,
                            .msg_controllen = sizeof control};

        if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
                        continue;
                if (c->cmsg_len < CMSG_LEN(sizeof(struct sock_extended_err)))
                        continue;
                const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
                const struct sockaddr *off = SO_EE_OFFENDER(ee);
                size_t room = c->cmsg_len - CMSG_LEN(sizeof *ee);
                s->rtt_ms = probe_ms(s->sent, now_usec());
                s->verdict = icmp_verdict(family, ee, &s->error);
                s->answered = true;
                if (off->sa_family == AF_INET && room >= sizeof(struct sockaddr_in))
                        probe_address_text(off, s->from, sizeof s->from);
                else if (off->sa_family == AF_INET6 && room >= sizeof(struct sockaddr_in6))
                        probe_address_text(off, s->from, sizeof s->from);
                return 1;
        }
        return 0;
}

static int slot_open(struct probe_slot *s, int family, int ttl) {
        int on = 1;

        s->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->fd < 0)
                return -errno;
        if (family == AF_INET) {
                if (setsockopt(s->fd, SOL_IP, IP_RECVERR, &on, sizeof on) < 0 ||
                    setsockopt(s->fd, SOL_IP, IP_TTL, &ttl, sizeof ttl) < 0)
                        return -errno;
        } else if (setsockopt(s->fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on) < 0 ||
                   setsockopt(s->fd, SOL_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) < 0)
                return -errno;
        return 0;
}

/* Sends the probes of one hop; a probe that cannot be sent (no route) is
 * answered at once with its error. */
static void hop_send(struct probe_slot *s, int hop, struct sockaddr_storage *dst, socklen_t len) {
        int family = dst->ss_family;

        for (int i = 0; i < TRACE_PROBES; i++) {
                uint16_t port = (uint16_t)(TRACE_PORT_BASE + (hop - 1) * TRACE_PROBES + i);
                char payload[32] = "steward traceroute";
                s[i] = (struct probe_slot){.fd = -1};
                if (family == AF_INET)
                        ((struct sockaddr_in *)dst)->sin_port = htons(port);
                else
                        ((struct sockaddr_in6 *)dst)->sin6_port = htons(port);
                int r = slot_open(&s[i], family, hop);
                s[i].sent = now_usec();
                if (r >= 0 &&
                    sendto(s[i].fd, payload, sizeof payload, 0, (struct sockaddr *)dst, len) < 0)
                        r = -errno;
                if (r < 0) {
                        s[i].answered = true;
                        s[i].verdict = -1;
                        s[i].error = strerror(-r);
                }
        }
}

/* Waits up to TRACE_WAIT_USEC for the probes' answers.  A socket in error
 * with nothing on its queue is that error (it would poll ready forever). */
static void hop_wait(struct probe_slot *s, int family) {
        uint64_t until = now_usec() + TRACE_WAIT_USEC;

        for (;;) {
                struct pollfd pfd[TRACE_PROBES];
                int n = 0, idx[TRACE_PROBES];
                uint64_t now = now_usec();
                for (int i = 0; i < TRACE_PROBES; i++)
                        if (!s[i].answered && s[i].fd >= 0) {
                                pfd[n] = (struct pollfd){.fd = s[i].fd, .events = POLLERR};
                                idx[n++] = i;
                        }
                if (n == 0 || now >= until)
                        return;
                if (poll(pfd, (nfds_t)n, (int)((until - now + 999) / 1000)) <= 0)
                        continue;
                for (int k = 0; k < n; k++) {
                        struct probe_slot *sl = &s[idx[k]];
                        int e = 0;
                        socklen_t el = sizeof e;
                        if (!pfd[k].revents || slot_read(sl, family) > 0)
                                continue;
                        getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &e, &el);
                        sl->answered = true;
                        sl->verdict = -1;
                        sl->error = strerror(e ? e : EIO);
                }
        }
}

/* Sends the probes of one hop and waits for their answers: the hop object. */
static json_t *hop_run(int hop, struct sockaddr_storage *dst, socklen_t len, bool *ret_stop) {
        struct probe_slot s[TRACE_PROBES];
        json_t *rtts = json_array(), *o;
        const char *from = NULL, *error = NULL;
        char want[INET6_ADDRSTRLEN];
        bool reached = false;

        hop_send(s, hop, dst, len);
        hop_wait(s, dst->ss_family);
        probe_address_text((struct sockaddr *)dst, want, sizeof want);
        for (int i = 0; i < TRACE_PROBES; i++) {
                if (s[i].fd >= 0)
                        close(s[i].fd);
                if (!s[i].answered)
                        continue;
                /* the destination's own "port unreachable" only: from anyone
                 * else it is a filter's answer on the way */
                if (s[i].verdict == 1 && !STREQ(s[i].from, want)) {
                        s[i].verdict = -1;
                        s[i].error = "port unreachable from a host on the way";
                }
                if (s[i].from[0] && !from)
                        from = s[i].from;
                if (s[i].verdict == 1)
                        reached = true;
                if (s[i].verdict < 0 && !error)
                        error = s[i].error;
                if (s[i].verdict >= 0 || s[i].from[0])
                        json_array_append_new(rtts, json_real(s[i].rtt_ms));
        }
        o = json_pack("{s:i, s:s?, s:o, s:b}", "hop", hop, "address", from, "rtt_ms", rtts,
                      "reached", reached);
        if (o && !from)
                json_object_set_new(o, "address", json_null());
        if (o && error && !reached)
                json_object_set_new(o, "error", json_string(error));
        *ret_stop = reached || (error && !reached);
        return o;
}

static int traceroute_probe(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        const char *host = json_string_value(json_object_get(args, "host"));
        json_t *m = json_object_get(args, "max_hops");
        int max = m ? (int)json_integer_value(m) : TRACE_HOPS_MAX;
        struct sockaddr_storage dst;
        socklen_t len;
        char addr[INET6_ADDRSTRLEN];
        bool reached = false, stop = false;
        json_t *hops;
        int r;

        r = probe_resolve(host, probe_family_arg(args), &dst, &len, err);
        if (r < 0)
                return r;
        hops = json_array();
        for (int hop = 1; hop <= max && hops && !stop; hop++) {
                json_t *h = hop_run(hop, &dst, len, &stop);
                if (!h)
                        break;
                reached = json_is_true(json_object_get(h, "reached"));
                json_array_append_new(hops, h);
                if (probe_progress(p, h) == -EPIPE)
                        break;
        }
        *ret = json_pack("{s:s, s:s, s:s, s:b, s:o}", "host", host, "address",
                         probe_address_text((struct sockaddr *)&dst, addr, sizeof addr), "family",
                         dst.ss_family == AF_INET ? "ipv4" : "ipv6", "reached", reached, "hops",
                         hops);
        return *ret ? 0 : -ENOMEM;
}

const struct probe_diag traceroute_diag = {"traceroute", traceroute_probe};

int traceroute_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                   struct module_error *err) {
        /* 30 hops of at most 1 s each, and the name's resolution: within
         * the minute the helper gives a command */
        return probe_run(ctx, 0, &traceroute_diag, args, 55u * 1000000u, ret, err);
}
