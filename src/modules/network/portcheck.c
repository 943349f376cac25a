/* portcheck.c — is a TCP port of a host open, closed or filtered.
 *
 * One non-blocking connect() from a probe child, waited for at most
 * timeout_ms: established is "open"; ECONNREFUSED (the host answered with
 * a reset) is "closed"; no answer within the time, or an ICMP error on the
 * way (host or network unreachable, administratively prohibited), is
 * "filtered", and "reason" says which.  One port per run: no ranges, this
 * is not a scanner.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "modules/network/network.h"
#include "modules/network/probe.h"
#include "util.h"

#define PORTCHECK_TIMEOUT_DEFAULT 3000

const command_arg_t portcheck_args[PORTCHECK_N_ARGS] = {
        PROBE_HOST_ARG("the host: an IP address or a DNS name"),
        {.name = "port",
         .type = SETTING_INTEGER,
         .min = 1,
         .max = 65535,
         .required = true,
         .description = "the TCP port"},
        {.name = "timeout_ms",
         .type = SETTING_INTEGER,
         .min = 100,
         .max = 10000,
         .description = "how long to wait for an answer (default 3000)"},
};

/* The state and reason of a connect that ended with error e (0: open). */
static void classify(int e, const char **state, const char **reason) {
        switch (e) {
        case 0:
                *state = "open", *reason = "connected";
                break;
        case ECONNREFUSED:
                *state = "closed", *reason = "connection refused (reset)";
                break;
        case ETIMEDOUT:
                *state = "filtered", *reason = "no answer within the timeout";
                break;
        case EHOSTUNREACH:
                *state = "filtered", *reason = "host unreachable";
                break;
        case ENETUNREACH:
                *state = "filtered", *reason = "network unreachable";
                break;
        case EACCES:
        case EPERM:
                *state = "filtered", *reason = "administratively prohibited";
                break;
        default:
                *state = "filtered", *reason = strerror(e);
                break;
        }
}

/* The ICMP error the kernel queued for the socket (IP_RECVERR), if any:
 * prohibited by a filter is told apart from a plain unreachable. */
static bool icmp_prohibited(int fd) {
        char control[512];
        struct msghdr mh = {.msg_control = control, .msg_controllen = sizeof control};

        if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
                return false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_len < CMSG_LEN(sizeof(struct sock_extended_err)))
                        continue;
                const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
                if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR &&
                    ee->ee_origin == SO_EE_ORIGIN_ICMP && ee->ee_type == ICMP_DEST_UNREACH)
                        return ee->ee_code == ICMP_NET_ANO || ee->ee_code == ICMP_HOST_ANO ||
                               ee->ee_code == ICMP_PKT_FILTERED;
                if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR &&
                    ee->ee_origin == SO_EE_ORIGIN_ICMP6 && ee->ee_type == ICMP6_DST_UNREACH)
                        return ee->ee_code == ICMP6_DST_UNREACH_ADMIN ||
                               ee->ee_code == 5 /* failed ingress/egress policy */ ||
                               ee->ee_code == 6 /* reject route */;
        }
        return false;
}

/* In the probe child: the connect, with its outcome as errno (0: open;
 * EACCES for an ICMP "administratively prohibited"). */
static int connect_within(const struct sockaddr *sa, socklen_t len, int timeout_ms) {
        int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0,
            on = 1;
        socklen_t elen = sizeof e;

        if (fd < 0)
                return errno;
        if (sa->sa_family == AF_INET)
                setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on);
        else
                setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
        if (connect(fd, sa, len) == 0)
                e = 0;
        else if (errno != EINPROGRESS)
                e = errno;
        else {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                int r;
                while ((r = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
                        ;
                if (r == 0)
                        e = ETIMEDOUT;
                else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
                        e = errno;
        }
        if ((e == EHOSTUNREACH || e == ENETUNREACH) && icmp_prohibited(fd))
                e = EACCES;
        close(fd);
        return e;
}

static int portcheck_probe(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        const char *host = json_string_value(json_object_get(args, "host")), *state, *reason;
        json_int_t port = json_integer_value(json_object_get(args, "port"));
        json_t *t = json_object_get(args, "timeout_ms");
        int timeout = t ? (int)json_integer_value(t) : PORTCHECK_TIMEOUT_DEFAULT;
        struct sockaddr_storage ss;
        socklen_t len;
        char addr[INET6_ADDRSTRLEN];
        int r, e;

        (void)p;
        r = probe_resolve(host, AF_UNSPEC, &ss, &len, err);
        if (r < 0)
                return r;
        if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        else
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        uint64_t t0 = now_usec();
        e = connect_within((struct sockaddr *)&ss, len, timeout);
        double ms = probe_ms(t0, now_usec());
        classify(e, &state, &reason);
        *ret = json_pack("{s:s, s:s, s:I, s:s, s:s, s:f}", "host", host, "address",
                         probe_address_text((struct sockaddr *)&ss, addr, sizeof addr), "port",
                         port, "state", state, "reason", reason, "time_ms", ms);
        return *ret ? 0 : -ENOMEM;
}

const struct probe_diag portcheck_diag = {"portcheck", portcheck_probe};

int portcheck_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err) {
        json_t *t = json_object_get(args, "timeout_ms");
        uint64_t timeout = t ? (uint64_t)json_integer_value(t) : PORTCHECK_TIMEOUT_DEFAULT;

        /* the connect's time, and as much again for the name's resolution */
        return probe_run(ctx, 0, &portcheck_diag, args, timeout * 1000u + 12000000u, ret, err);
}
