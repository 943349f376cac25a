/* ping.c — ICMP echo, v4 and v6, from a probe child (ping.h, probe.h).
 *
 * network_ping_run() runs two probe children: the first resolves the name
 * and holds no raw socket (a DNS answer is a stranger's text); the second
 * gets the numeric address and the raw socket of its family only, and
 * after its drop (where seccomp leaves that socket sendto and recvmsg and
 * the ICMP filters, no IP option: probe.c) each request is sent on time
 * (count of them, interval_ms apart), and each one ends exactly once — by its reply, by an ICMP
 * error about it, or by its timeout — with one progress event as it ends.  The child's state (what
 * was sent when, what came back) is this file's struct ping_run, on the child's stack; nothing
 * outlives the run.
 *
 * Bounds: count <= 20, interval 200..5000 ms (the kit checks the args), a
 * reply waited for PING_TIMEOUT_MS or one interval, whichever is longer; so
 * a run lasts at most 19 * 5 + 5 s, plus the name's resolution, within the
 * limit given to probe_run.  A packet read is at most PING_RECV_MAX bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "modules/network/ping.h"
#include "modules/network/probe.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define PING_COUNT_MAX    20
#define PING_TIMEOUT_MS   2000
#define PING_RECV_MAX     2048
#define PING_RESOLVE_USEC (10u * 1000000u)
#define PING_SLACK_USEC   (2u * 1000000u) /* the child's start and last report */

/* ICMP types (RFC 792, RFC 4443): named here, as <netinet/ip_icmp.h> and
 * <linux/icmp.h> cannot both be included and <netinet/icmp6.h> names its
 * own as macros. */
enum {
        V4_ECHO_REPLY = 0,
        V4_UNREACH = 3,
        V4_ECHO = 8,
        V4_TIME_EXCEEDED = 11,
        V4_PARAM_PROBLEM = 12,
        V6_UNREACH = 1,
        V6_TOO_BIG = 2,
        V6_TIME_EXCEEDED = 3,
        V6_PARAM_PROBLEM = 4,
        V6_ECHO = 128,
        V6_ECHO_REPLY = 129,
};

const command_arg_t network_ping_args[NETWORK_PING_N_ARGS] = {
        PROBE_HOST_ARG("the host to ping: an IP address or a DNS name"),
        {.name = "count",
         .type = SETTING_INTEGER,
         .min = 1,
         .max = PING_COUNT_MAX,
         .description = "echo requests to send (default 4)"},
        {.name = "interval_ms",
         .type = SETTING_INTEGER,
         .min = 200,
         .max = 5000,
         .description = "milliseconds between requests (default 1000)"},
        PROBE_FAMILY_ARG,
};

/* ---- packets: pure functions ------------------------------------------------- */

uint16_t ping_checksum(const void *p, size_t n) {
        const uint8_t *b = p;
        uint32_t sum = 0;

        for (; n > 1; b += 2, n -= 2)
                sum += (uint32_t)b[0] << 8 | b[1];
        if (n)
                sum += (uint32_t)b[0] << 8;
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) {
        return (uint16_t)(p[0] << 8 | p[1]);
}

int ping_echo_build(uint8_t *buf, size_t len, int family, uint16_t id, uint16_t seq,
                    const uint8_t cookie[PING_COOKIE_LEN]) {
        if (len < PING_PACKET_LEN || (family != AF_INET && family != AF_INET6))
                return -EINVAL;
        memset(buf, 0, PING_PACKET_LEN);
        buf[0] = family == AF_INET ? V4_ECHO : V6_ECHO;
        put16(buf + 4, id);
        put16(buf + 6, seq);
        memcpy(buf + 8, cookie, PING_COOKIE_LEN);
        for (size_t i = 8 + PING_COOKIE_LEN; i < PING_PACKET_LEN; i++)
                buf[i] = (uint8_t)i;
        if (family == AF_INET)
                put16(buf + 2, ping_checksum(buf, PING_PACKET_LEN));
        return PING_PACKET_LEN;
}

/* An echo reply's ICMP message (m bytes): ours when id and cookie match. */
static int parse_reply(const uint8_t *icmp, size_t m, uint16_t id,
                       const uint8_t cookie[PING_COOKIE_LEN], struct ping_packet *ret) {
        if (m < 8)
                return -EBADMSG;
        if (get16(icmp + 4) != id)
                return 0;
        if (m < 8 + PING_COOKIE_LEN || memcmp(icmp + 8, cookie, PING_COOKIE_LEN) != 0)
                return 0;
        ret->kind = PING_REPLY;
        ret->seq = get16(icmp + 6);
        return 1;
}

/* The v4 request an error quotes (q bytes: its IP header and at least 8
 * bytes of ICMP). */
static int parse_quoted4(const uint8_t *q, size_t qn, uint16_t id, struct ping_packet *ret) {
        size_t ihl;

        if (qn < 20 || q[0] >> 4 != 4)
                return -EBADMSG;
        ihl = (size_t)(q[0] & 0x0f) * 4;
        if (ihl < 20 || qn < ihl + 8)
                return -EBADMSG;
        if (q[9] != IPPROTO_ICMP || q[ihl] != V4_ECHO || get16(q + ihl + 4) != id)
                return 0;
        ret->kind = PING_ERROR;
        ret->seq = get16(q + ihl + 6);
        memcpy(ret->quoted_dst, q + 16, 4);
        ret->quoted_dst_len = 4;
        return 1;
}

/* The v6 request an error quotes: its fixed header (no extension header:
 * we send none) and at least 8 bytes of ICMPv6. */
static int parse_quoted6(const uint8_t *q, size_t qn, uint16_t id, struct ping_packet *ret) {
        if (qn < 40 + 8 || q[0] >> 4 != 6)
                return qn < 40 + 8 ? -EBADMSG : 0;
        if (q[6] != IPPROTO_ICMPV6 || q[40] != V6_ECHO || get16(q + 44) != id)
                return 0;
        ret->kind = PING_ERROR;
        ret->seq = get16(q + 46);
        memcpy(ret->quoted_dst, q + 24, 16);
        ret->quoted_dst_len = 16;
        return 1;
}

static int parse4(const uint8_t *pkt, size_t n, uint16_t id, const uint8_t *cookie,
                  struct ping_packet *ret) {
        const uint8_t *icmp;
        size_t ihl, m;
        int r;

        if (n < 20 || pkt[0] >> 4 != 4)
                return -EBADMSG;
        ihl = (size_t)(pkt[0] & 0x0f) * 4;
        if (ihl < 20 || n < ihl + 8)
                return -EBADMSG;
        if (pkt[9] != IPPROTO_ICMP)
                return 0;
        icmp = pkt + ihl;
        m = n - ihl;
        if (ping_checksum(icmp, m) != 0)
                return -EBADMSG;
        switch (icmp[0]) {
        case V4_ECHO_REPLY:
                r = parse_reply(icmp, m, id, cookie, ret);
                break;
        case V4_UNREACH:
        case V4_TIME_EXCEEDED:
        case V4_PARAM_PROBLEM:
                r = parse_quoted4(icmp + 8, m - 8, id, ret);
                break;
        default:
                return 0;
        }
        if (r > 0) {
                ret->ttl = pkt[8];
                ret->type = icmp[0];
                ret->code = icmp[1];
        }
        return r;
}

static int parse6(const uint8_t *icmp, size_t n, uint16_t id, const uint8_t *cookie,
                  struct ping_packet *ret) {
        int r;

        if (n < 8)
                return -EBADMSG;
        switch (icmp[0]) {
        case V6_ECHO_REPLY:
                r = parse_reply(icmp, n, id, cookie, ret);
                break;
        case V6_UNREACH:
        case V6_TOO_BIG:
        case V6_TIME_EXCEEDED:
        case V6_PARAM_PROBLEM:
                r = parse_quoted6(icmp + 8, n - 8, id, ret);
                break;
        default:
                return 0;
        }
        if (r > 0) {
                ret->ttl = -1;
                ret->type = icmp[0];
                ret->code = icmp[1];
        }
        return r;
}

int ping_packet_parse(int family, const uint8_t *pkt, size_t n, uint16_t id,
                      const uint8_t cookie[PING_COOKIE_LEN], struct ping_packet *ret) {
        struct ping_packet p = {0};
        int r;

        if (!pkt)
                return -EBADMSG;
        if (family == AF_INET)
                r = parse4(pkt, n, id, cookie, &p);
        else if (family == AF_INET6)
                r = parse6(pkt, n, id, cookie, &p);
        else
                return -EINVAL;
        if (r > 0)
                *ret = p;
        return r;
}

const char *ping_error_text(int family, uint8_t type, uint8_t code) {
        if (family == AF_INET) {
                if (type == V4_TIME_EXCEEDED)
                        return "time to live exceeded";
                if (type == V4_PARAM_PROBLEM)
                        return "parameter problem";
                switch (code) {
                case 0:
                        return "destination network unreachable";
                case 1:
                        return "destination host unreachable";
                case 2:
                        return "destination protocol unreachable";
                case 3:
                        return "destination port unreachable";
                case 4:
                        return "fragmentation needed";
                case 9:
                case 10:
                case 13:
                        return "communication administratively prohibited";
                default:
                        return "destination unreachable";
                }
        }
        if (type == V6_TOO_BIG)
                return "packet too big";
        if (type == V6_TIME_EXCEEDED)
                return "hop limit exceeded";
        if (type == V6_PARAM_PROBLEM)
                return "parameter problem";
        switch (code) {
        case 0:
                return "no route to destination";
        case 1:
                return "communication administratively prohibited";
        case 3:
                return "destination address unreachable";
        case 4:
                return "destination port unreachable";
        case 5:
        case 6:
                return "source address failed policy";
        default:
                return "destination unreachable";
        }
}

/* ---- the run, in the probe child -------------------------------------------- */

struct ping_run {
        struct probe *p;
        int fd, family;
        struct sockaddr_storage dst;
        socklen_t dst_len;
        uint16_t id;
        uint8_t cookie[PING_COOKIE_LEN];
        unsigned count, interval_ms, timeout_ms;
        uint64_t start;
        unsigned next; /* requests sent or tried so far */
        uint64_t sent_at[PING_COUNT_MAX];
        bool ended[PING_COUNT_MAX];
        json_t *events[PING_COUNT_MAX]; /* each request's end, as reported */
        unsigned transmitted, received;
        double rtt_min, rtt_max, rtt_sum;
        bool stopped; /* the client went away */
};

static uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Request seq (1-based) ends with ev (taken over): reported, and kept. */
static void request_end(struct ping_run *run, unsigned seq, json_t *ev) {
        unsigned i = seq - 1;

        if (!ev)
                return;
        run->ended[i] = true;
        run->events[i] = ev;
        if (!run->stopped && probe_progress(run->p, ev) == -EPIPE)
                run->stopped = true;
}

static const uint8_t *addr_bytes(const struct sockaddr_storage *ss, size_t *ret_len) {
        if (ss->ss_family == AF_INET6) {
                *ret_len = 16;
                return ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
        }
        *ret_len = 4;
        return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr.s_addr;
}

static bool same_addr(const struct sockaddr_storage *a, const uint8_t *b, size_t blen) {
        size_t n;
        const uint8_t *x = addr_bytes(a, &n);
        return n == blen && memcmp(x, b, n) == 0;
}

static void send_next(struct ping_run *run) {
        uint8_t pkt[PING_PACKET_LEN];
        unsigned seq = ++run->next;
        ssize_t k;

        (void)ping_echo_build(pkt, sizeof pkt, run->family, run->id, (uint16_t)seq, run->cookie);
        run->sent_at[seq - 1] = mono_usec();
        do
                k = sendto(run->fd, pkt, sizeof pkt, 0, (const struct sockaddr *)&run->dst,
                           run->dst_len);
        while (k < 0 && errno == EINTR);
        if (k == (ssize_t)sizeof pkt) {
                run->transmitted++;
                return;
        }
        request_end(run, seq,
                    json_pack("{s:i, s:s}", "seq", (int)seq, "error",
                              k < 0 ? strerror(errno) : "the request was cut short"));
}

/* One packet read off the socket: the end of a request when it is ours. */
static void packet_seen(struct ping_run *run, const uint8_t *buf, size_t n,
                        const struct sockaddr_storage *from, int hoplimit, uint64_t at) {
        struct ping_packet pk;
        char text[INET6_ADDRSTRLEN];
        size_t flen;
        const uint8_t *fb = addr_bytes(from, &flen);

        if (from->ss_family != run->family ||
            ping_packet_parse(run->family, buf, n, run->id, run->cookie, &pk) != 1 || pk.seq < 1 ||
            pk.seq > run->next || run->ended[pk.seq - 1])
                return;
        probe_address_text((const struct sockaddr *)from, text, sizeof text);
        if (pk.kind == PING_ERROR) {
                if (!same_addr(&run->dst, pk.quoted_dst, pk.quoted_dst_len))
                        return;
                request_end(run, pk.seq,
                            json_pack("{s:i, s:s, s:s}", "seq", (int)pk.seq, "from", text, "error",
                                      ping_error_text(run->family, pk.type, pk.code)));
                return;
        }
        if (!same_addr(&run->dst, fb, flen))
                return; /* our id and cookie, but not from whom we asked */
        double ms = probe_ms(run->sent_at[pk.seq - 1], at);
        int ttl = run->family == AF_INET ? pk.ttl : hoplimit;
        run->received++;
        run->rtt_sum += ms;
        if (run->received == 1 || ms < run->rtt_min)
                run->rtt_min = ms;
        if (ms > run->rtt_max)
                run->rtt_max = ms;
        request_end(run, pk.seq,
                    ttl >= 0 ? json_pack("{s:i, s:s, s:i, s:f}", "seq", (int)pk.seq, "from", text,
                                         "ttl", ttl, "time_ms", ms)
                             : json_pack("{s:i, s:s, s:n, s:f}", "seq", (int)pk.seq, "from", text,
                                         "ttl", "time_ms", ms));
}

/* Reads every packet waiting on the socket. */
static void receive_all(struct ping_run *run) {
        for (;;) {
                uint8_t buf[PING_RECV_MAX];
                union {
                        struct cmsghdr h;
                        uint8_t b[CMSG_SPACE(sizeof(int))];
                } ctl;
                struct sockaddr_storage from = {0};
                struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
                struct msghdr msg = {.msg_name = &from,
                                     .msg_namelen = sizeof from,
                                     .msg_iov = &iov,
                                     .msg_iovlen = 1,
                                     .msg_control = &ctl,
                                     .msg_controllen = sizeof ctl};
                ssize_t k = recvmsg(run->fd, &msg, MSG_DONTWAIT);
                int hoplimit = -1;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT &&
                            c->cmsg_len >= CMSG_LEN(sizeof(int)))
                                memcpy(&hoplimit, CMSG_DATA(c), sizeof hoplimit);
                if (!(msg.msg_flags & MSG_TRUNC))
                        packet_seen(run, buf, (size_t)k, &from, hoplimit, mono_usec());
        }
}

/* Requests whose time is up end as timeouts; the next moment something is
 * due (a send or a timeout), or 0 when every request has ended. */
static uint64_t timeouts_and_next(struct ping_run *run, uint64_t now) {
        uint64_t wake = 0;

        for (unsigned i = 0; i < run->next; i++) {
                uint64_t due = run->sent_at[i] + (uint64_t)run->timeout_ms * 1000u;
                if (run->ended[i])
                        continue;
                if (now >= due)
                        request_end(run, i + 1,
                                    json_pack("{s:i, s:b}", "seq", (int)i + 1, "timeout", true));
                else if (!wake || due < wake)
                        wake = due;
        }
        if (run->next < run->count) {
                uint64_t send = run->start + (uint64_t)run->next * run->interval_ms * 1000u;
                if (!wake || send < wake)
                        wake = send;
        }
        return wake;
}

static void run_loop(struct ping_run *run) {
        run->start = mono_usec();
        while (!run->stopped) {
                uint64_t now = mono_usec(), wake;
                if (run->next < run->count &&
                    now >= run->start + (uint64_t)run->next * run->interval_ms * 1000u) {
                        send_next(run);
                        continue;
                }
                wake = timeouts_and_next(run, now);
                if (!wake)
                        break;
                now = mono_usec();
                struct pollfd pfd = {.fd = run->fd, .events = POLLIN};
                int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
                if (poll(&pfd, 1, ms) > 0)
                        receive_all(run);
        }
}

static json_t *run_result(struct ping_run *run, const char *host) {
        char text[INET6_ADDRSTRLEN];
        json_t *replies = json_array(), *o;
        double loss = run->transmitted
                              ? 100.0 * (run->transmitted - run->received) / run->transmitted
                              : 100.0;

        for (unsigned i = 0; replies && i < run->count; i++)
                if (run->events[i])
                        json_array_append(replies, run->events[i]);
        probe_address_text((const struct sockaddr *)&run->dst, text, sizeof text);
        o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:o, s:o, s:o, s:o, s:b}", "host", host,
                      "address", text, "family", run->family == AF_INET ? "ipv4" : "ipv6",
                      "transmitted", (int)run->transmitted, "received", (int)run->received,
                      "loss_percent", loss, "rtt_min_ms",
                      run->received ? json_real(run->rtt_min) : json_null(), "rtt_avg_ms",
                      run->received ? json_real(run->rtt_sum / run->received) : json_null(),
                      "rtt_max_ms", run->received ? json_real(run->rtt_max) : json_null(),
                      "replies", replies, "stopped", run->stopped);
        return o;
}

static int socket_ready(struct ping_run *run, struct module_error *err) {
        if (run->family == AF_INET) {
                /* Only replies and the errors that may quote us. */
                struct icmp_filter f = {.data = ~((1u << V4_ECHO_REPLY) | (1u << V4_UNREACH) |
                                                  (1u << V4_TIME_EXCEEDED) |
                                                  (1u << V4_PARAM_PROBLEM))};
                if (setsockopt(run->fd, SOL_RAW, ICMP_FILTER, &f, sizeof f) < 0)
                        goto fail;
        } else {
                struct icmp6_filter f;
                int on = 1;
                ICMP6_FILTER_SETBLOCKALL(&f);
                ICMP6_FILTER_SETPASS(V6_ECHO_REPLY, &f);
                ICMP6_FILTER_SETPASS(V6_UNREACH, &f);
                ICMP6_FILTER_SETPASS(V6_TOO_BIG, &f);
                ICMP6_FILTER_SETPASS(V6_TIME_EXCEEDED, &f);
                ICMP6_FILTER_SETPASS(V6_PARAM_PROBLEM, &f);
                if (setsockopt(run->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) < 0 ||
                    setsockopt(run->fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) < 0)
                        goto fail;
        }
        return 0;
fail:
        module_error_set(err, 500, "probe_failed", NULL, "cannot set up the ICMP socket: %s",
                         strerror(errno));
        return -errno;
}

static int ping_probe(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        const char *host = json_string_value(json_object_get(args, "host"));
        json_t *jc = json_object_get(args, "count"), *ji = json_object_get(args, "interval_ms");
        struct ping_run run = {.p = p, .fd = -1};
        uint16_t rnd[1 + PING_COOKIE_LEN / 2];
        int r;

        run.count = jc ? (unsigned)json_integer_value(jc) : 4;
        run.interval_ms = ji ? (unsigned)json_integer_value(ji) : 1000;
        if (!host || run.count < 1 || run.count > PING_COUNT_MAX || run.interval_ms < 200 ||
            run.interval_ms > 5000) {
                module_error_set(err, 400, "bad_request", NULL, "bad ping arguments");
                return -EINVAL;
        }
        run.timeout_ms = run.interval_ms > PING_TIMEOUT_MS ? run.interval_ms : PING_TIMEOUT_MS;
        /* the address the first child resolved: a literal, no resolver here */
        r = probe_resolve(json_string_value(json_object_get(args, "address")),
                          probe_family_arg(args), &run.dst, &run.dst_len, err);
        if (r < 0)
                return r;
        run.family = run.dst.ss_family;
        run.fd = run.family == AF_INET ? p->icmp4 : p->icmp6;
        if (run.fd < 0) {
                module_error_set(err, 503, "probe_failed", NULL,
                                 "no raw ICMP%s socket here (is the protocol available?)",
                                 run.family == AF_INET ? "" : "v6");
                return -EAFNOSUPPORT;
        }
        r = socket_ready(&run, err);
        if (r < 0)
                return r;
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
                module_error_set(err, 500, "internal", NULL, "no random bytes");
                return -EIO;
        }
        /* The process id keeps two pings of this host apart; the random
         * part and the cookie, anyone else's echo with the same id. */
        run.id = (uint16_t)(getpid() ^ rnd[0]);
        memcpy(run.cookie, rnd + 1, PING_COOKIE_LEN);
        run_loop(&run);
        *ret = run_result(&run, host);
        for (unsigned i = 0; i < PING_COUNT_MAX; i++)
                json_decref(run.events[i]);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

const struct probe_diag ping_diag = {"ping", ping_probe};

/* The first child: the name to one address, without any raw socket (the
 * resolver reads answers a DNS server's owner writes).  Its result is
 * {"address": text}, which the parent reads again as an IP literal. */
static int resolve_probe(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        const char *host = json_string_value(json_object_get(args, "host"));
        struct sockaddr_storage ss;
        socklen_t len;
        char text[INET6_ADDRSTRLEN];
        int r;

        (void)p;
        r = probe_resolve(host, probe_family_arg(args), &ss, &len, err);
        if (r < 0)
                return r;
        *ret = json_pack("{s:s}", "address",
                         probe_address_text((const struct sockaddr *)&ss, text, sizeof text));
        return *ret ? 0 : -ENOMEM;
}

const struct probe_diag ping_resolve_diag = {"ping_resolve", resolve_probe};

/* What the first child answered, as the second one's args: the address
 * (an IP literal of the family asked for, checked here) in "address". */
static int resolved_args(json_t *args, json_t *res, int family, json_t **ret_args,
                         unsigned *ret_flags, struct module_error *err) {
        const char *a = json_string_value(json_object_get(res, "address"));
        unsigned char b[sizeof(struct in6_addr)];
        int f = a && strlen(a) < INET6_ADDRSTRLEN && inet_pton(AF_INET, a, b) == 1    ? AF_INET
                : a && strlen(a) < INET6_ADDRSTRLEN && inet_pton(AF_INET6, a, b) == 1 ? AF_INET6
                                                                                      : AF_UNSPEC;

        if (f == AF_UNSPEC || (family != AF_UNSPEC && f != family)) {
                module_error_set(err, 502, "probe_failed", NULL,
                                 "the resolver's probe answered no address");
                return -EPROTO;
        }
        *ret_args = json_deep_copy(args);
        if (!*ret_args || json_object_set_new(*ret_args, "address", json_string(a)) < 0) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        *ret_flags = (f == AF_INET ? PROBE_RAW_ICMP4 : PROBE_RAW_ICMP6) | PROBE_CONTINUES;
        return 0;
}

/* The audit record's summary (module.h), composed here from the child's
 * counts (bounded again) and the parent's own host and address: the child
 * says nothing into the record in words of its choosing. */
static int ping_summary(json_t *args, json_t *pargs, json_t *res, struct module_error *err) {
        json_int_t sent = json_integer_value(json_object_get(res, "transmitted"));
        json_int_t got = json_integer_value(json_object_get(res, "received"));
        json_t *summary;

        if (sent < 0 || sent > PING_COUNT_MAX || got < 0 || got > sent) {
                module_error_set(err, 502, "probe_failed", NULL, "the probe's counts are wrong");
                return -EPROTO;
        }
        summary = json_sprintf("%s (%s): %d sent, %d received, %.0f%% loss%s",
                               json_string_value(json_object_get(args, "host")),
                               json_string_value(json_object_get(pargs, "address")), (int)sent,
                               (int)got, sent ? 100.0 * (double)(sent - got) / (double)sent : 100.0,
                               json_is_true(json_object_get(res, "stopped"))
                                       ? "; stopped when the client left"
                                       : "");
        if (!summary || json_object_set_new(res, "summary", summary) < 0) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

int network_ping_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err) {
        json_t *jc = json_object_get(args, "count"), *ji = json_object_get(args, "interval_ms");
        uint64_t count = jc ? (uint64_t)json_integer_value(jc) : 4;
        uint64_t interval = ji ? (uint64_t)json_integer_value(ji) : 1000;
        uint64_t wait = interval > PING_TIMEOUT_MS ? interval : PING_TIMEOUT_MS;
        _cleanup_json_ json_t *res = NULL, *pargs = NULL;
        unsigned flags = 0;
        int r;

        if (count < 1 || count > PING_COUNT_MAX || interval < 200 || interval > 5000) {
                module_error_set(err, 400, "bad_request", NULL, "bad ping arguments");
                return -EINVAL;
        }
        /* two children: one resolves with no raw socket, the other pings
         * the address with the raw socket of its family only */
        r = probe_run(ctx, 0, &ping_resolve_diag, args, PING_RESOLVE_USEC, &res, err);
        if (r < 0)
                return r;
        r = resolved_args(args, res, probe_family_arg(args), &pargs, &flags, err);
        if (r < 0)
                return r;
        r = probe_run(ctx, flags, &ping_diag, pargs,
                      ((count - 1) * interval + wait) * 1000u + PING_SLACK_USEC, ret, err);
        if (r < 0)
                return r;
        r = ping_summary(args, pargs, *ret, err);
        if (r < 0) {
                json_decref(*ret);
                *ret = NULL;
        }
        return r;
}
