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
        {.name = "host",
         .type = SETTING_STRING,
         .min = 1,
         .max = 254,
         .required = true,
         .valid_string = probe_host_valid,
         .description = "the host: an IP address or a DNS name"},
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

/* In the probe child: the connect, with its outcome as errno (0: open). */
static int connect_within(const struct sockaddr *sa, socklen_t len, int timeout_ms) {
        int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
        socklen_t elen = sizeof e;

        if (fd < 0)
                return errno;
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
        close(fd);
        return e;
}

static int portcheck_probe(struct probe *p, json_t *args, json_t **ret,
                           struct module_error *err) {
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

int portcheck_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err) {
        json_t *t = json_object_get(args, "timeout_ms");
        uint64_t timeout = t ? (uint64_t)json_integer_value(t) : PORTCHECK_TIMEOUT_DEFAULT;

        /* the connect's time, and as much again for the name's resolution */
        return probe_run(ctx, 0, portcheck_probe, args, timeout * 1000u + 12000000u, ret, err);
}
