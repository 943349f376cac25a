/* discover.c — `steward discover`: finds stewardd servers on the local
 * networks over UDP (docs/discovery.md).
 *
 * One request, with one random nonce, goes to every place a server may
 * listen from here (common/discoverysweep.c, shared with the daemon's own
 * sweep): the IPv4 limited broadcast, the broadcast address of each
 * interface that is up, IPv6 all-nodes (ff02::1) on each interface that has
 * IPv6, and this machine's own 127.0.0.1 and ::1.  Until the timeout, every
 * datagram that parses as an answer carrying that nonce counts; the rest is
 * ignored.  A server reached several ways answers several times: answers
 * are merged by certificate fingerprint and host name, keeping the address
 * most useful to log in to (a routable one over loopback, loopback over
 * IPv6 link-local, whose scope cannot be written in a HOST argument).
 *
 * Nothing in an answer is authenticated: anyone on the link can answer.
 * The fingerprint is what a later `steward login` pins, so the hint says to
 * check it on the server first.  Everything printed from an answer has
 * passed the parser's grammars (printable ASCII) before it reaches the
 * terminal.
 *
 * Exit status: 0 whether or not a server answered, 2 on a usage error, 3
 * when no socket could be opened or no request could be sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "common/discovery.h"
#include "common/discoverysweep.h"
#include "hosts.h"
#include "util.h"

#define DISCOVER_TIMEOUT_MS_DEFAULT 2000
#define DISCOVER_TIMEOUT_MS_MAX     600000
#define DISCOVER_SERVERS_MAX        1024

static const char discover_synopsis[] = "discover [--timeout SECONDS] [--port N]";

struct server {
        struct discovery_answer a;
        char address[NI_MAXHOST];
        int rank; /* lower is better to log in to */
};

/* "N" or "N.DDD" seconds, more than 0, as milliseconds. */
static int parse_timeout(const char *s, unsigned *ret_ms) {
        const char *dot = strchr(s, '.');
        unsigned whole = 0, frac = 0, scale = 100;
        char buf[16];

        if (strlen(s) >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, strlen(s) + 1);
        if (dot) {
                const char *d = dot + 1;

                buf[dot - s] = '\0';
                if (!*d || strlen(d) > 3)
                        return -EINVAL;
                for (; *d; d++, scale /= 10) {
                        if (*d < '0' || *d > '9')
                                return -EINVAL;
                        frac += (unsigned)(*d - '0') * scale;
                }
        }
        if (safe_atou(buf, &whole) < 0 || whole > DISCOVER_TIMEOUT_MS_MAX / 1000)
                return -EINVAL;
        if (whole * 1000 + frac == 0 || whole * 1000 + frac > DISCOVER_TIMEOUT_MS_MAX)
                return -EINVAL;
        *ret_ms = whole * 1000 + frac;
        return 0;
}

/* 0: a routable address; 1: loopback; 2: IPv6 link-local. */
static int address_rank(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET) {
                uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
                return (a >> 24) == 127 ? 1 : 0;
        }
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
                return 1;
        if (IN6_IS_ADDR_LINKLOCAL(a))
                return 2;
        return 0;
}

struct found {
        struct server *s;
        size_t n;
};

static int record(struct found *f, const struct discovery_answer *a,
                  const struct sockaddr_storage *src, socklen_t src_len) {
        char address[NI_MAXHOST];
        int rank = address_rank(src);
        struct server *s = NULL;

        if (getnameinfo((const struct sockaddr *)src, src_len, address, sizeof address, NULL, 0,
                        NI_NUMERICHOST) != 0)
                return 0;
        for (size_t i = 0; i < f->n; i++)
                if (STREQ(f->s[i].a.fingerprint, a->fingerprint) && STREQ(f->s[i].a.host, a->host))
                        s = &f->s[i];
        if (s) {
                if (rank < s->rank) {
                        s->a = *a;
                        s->rank = rank;
                        memcpy(s->address, address, sizeof address);
                }
                return 0;
        }
        if (f->n == DISCOVER_SERVERS_MAX)
                return 0;
        if (!f->s) {
                f->s = calloc(DISCOVER_SERVERS_MAX, sizeof *f->s);
                if (!f->s)
                        return -ENOMEM;
        }
        s = &f->s[f->n++];
        s->a = *a;
        s->rank = rank;
        memcpy(s->address, address, sizeof address);
        return 0;
}

static void receive(int fd, const uint8_t nonce[DISCOVERY_NONCE_LEN], struct found *f, int *r) {
        uint8_t buf[DISCOVERY_DATAGRAM_MAX];

        for (;;) {
                struct sockaddr_storage src = {0};
                socklen_t src_len = sizeof src;
                struct discovery_answer a;
                ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
                                     (struct sockaddr *)&src, &src_len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* EAGAIN, or an ICMP error queued on the socket */
                }
                if ((size_t)n > sizeof buf || discovery_answer_parse(buf, (size_t)n, &a) < 0 ||
                    memcmp(a.nonce, nonce, DISCOVERY_NONCE_LEN) != 0)
                        continue;
                if (*r >= 0)
                        *r = record(f, &a, &src, src_len);
        }
}

static int compare_servers(const void *x, const void *y) {
        const struct server *a = x, *b = y;
        int c = strcmp(a->a.host, b->a.host);

        return c ? c : strcmp(a->address, b->address);
}

/* HOST[:PORT] as `steward login` reads it. */
static void login_target(const struct server *s, char *dst, size_t cap) {
        const char *host = s->rank == 2 ? s->a.host : s->address;
        bool v6 = strchr(host, ':') != NULL;

        if (s->a.port == DEFAULT_PORT)
                snprintf(dst, cap, "%s", host);
        else
                snprintf(dst, cap, v6 ? "[%s]:%u" : "%s:%u", host, s->a.port);
}

static int print_servers(struct cli *c, struct found *f) {
        struct table t;
        int r;

        if (f->n > 1)
                qsort(f->s, f->n, sizeof *f->s, compare_servers);
        if (c->json) {
                json_t *list = json_array();

                if (!list)
                        return -ENOMEM;
                for (size_t i = 0; i < f->n; i++) {
                        const struct server *s = &f->s[i];

                        if (json_array_append_new(
                                    list, json_pack("{s:s, s:s, s:i, s:s, s:s}", "host", s->a.host,
                                                    "address", s->address, "port", (int)s->a.port,
                                                    "fingerprint", s->a.fingerprint, "version",
                                                    s->a.version)) < 0) {
                                json_decref(list);
                                return -ENOMEM;
                        }
                }
                r = print_json(list);
                json_decref(list);
                return r;
        }
        if (f->n == 0) {
                puts("no stewardd found");
                return 0;
        }

        r = table_init(&t, (const char *const[]){"HOST", "ADDRESS", "PORT", "FINGERPRINT"}, 4);
        for (size_t i = 0; r >= 0 && i < f->n; i++) {
                char port[8];

                snprintf(port, sizeof port, "%u", f->s[i].a.port);
                r = table_add(&t, (const char *const[]){f->s[i].a.host, f->s[i].address, port,
                                                        f->s[i].a.fingerprint});
        }
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        if (r < 0)
                return r;

        fputs("\nAnyone on the network can answer: check a fingerprint on the server itself\n"
              "(stewardd logs it) before you log in with it:\n",
              stderr);
        for (size_t i = 0; i < f->n; i++) {
                char target[NI_MAXHOST + 16];

                login_target(&f->s[i], target, sizeof target);
                fprintf(stderr, "    steward --fingerprint %s login %s\n", f->s[i].a.fingerprint,
                        target);
        }
        return 0;
}

/* ~/.config/steward/discovered, for -H @discovered: "ADDRESS:PORT
 * FINGERPRINT HOST" lines.  The fingerprint is what the answer claimed, not a
 * pin: `steward login` still asks (trust on first use). */
static int save_servers(const struct found *f) {
        struct buf b;
        int r;

        buf_init(&b, (size_t)1024 * 1024);
        r = buf_puts(&b, "# the servers the last 'steward discover' found (-H @discovered);\n"
                         "# ADDRESS:PORT, the fingerprint it claimed (not trusted), its name\n");
        for (size_t i = 0; r >= 0 && i < f->n; i++) {
                char target[NI_MAXHOST + 16];
                struct host_entry e;

                login_target(&f->s[i], target, sizeof target);
                if (host_key(target, strlen(target), &e) < 0)
                        continue;
                r = buf_printf(&b, "%s %s %s\n", e.key, f->s[i].a.fingerprint, f->s[i].a.host);
        }
        if (r >= 0)
                r = store_replace("discovered", b.data ? b.data : "", b.len);
        buf_free(&b);
        return r;
}

int verb_discover(struct cli *c, int argc, char **argv) {
        const char *timeout_arg = NULL, *port_arg = NULL;
        const struct verb_option opts[] = {
                {"timeout", 't', &timeout_arg, NULL},
                {"port", 'p', &port_arg, NULL},
        };
        struct discovery_request req = {.size = DISCOVERY_REQUEST_MIN};
        _cleanup_free_ struct discovery_destinations *d = NULL;
        _cleanup_close_ int fd4 = -1, fd6 = -1;
        uint8_t packet[DISCOVERY_REQUEST_MIN];
        unsigned timeout_ms = DISCOVER_TIMEOUT_MS_DEFAULT, port = DISCOVERY_DEFAULT_PORT;
        struct found f = {0};
        size_t npos = 0, len = 0, sent = 0;
        int r, last_error = 0;
        uint64_t deadline;

        r = parse_verb_args(discover_synopsis, argc, argv, opts, ELEMENTSOF(opts), NULL, 0, &npos);
        if (r < 0)
                return r;
        if (c->opts->host_arg || c->opts->socket_path)
                return usage_error("discover takes neither -H nor --socket: it asks the local "
                                   "networks");
        if (timeout_arg && parse_timeout(timeout_arg, &timeout_ms) < 0)
                return usage_error("invalid --timeout \"%s\" (seconds, more than 0 and at most "
                                   "%u, up to 3 decimals)",
                                   timeout_arg, DISCOVER_TIMEOUT_MS_MAX / 1000);
        if (port_arg && (safe_atou(port_arg, &port) < 0 || port == 0 || port > 65535))
                return usage_error("invalid --port \"%s\" (1 to 65535)", port_arg);

        r = random_bytes(req.nonce, sizeof req.nonce);
        if (r < 0) {
                fprintf(stderr, "steward: cannot get random bytes: %s\n", strerror(-r));
                return r;
        }
        r = discovery_request_build(&req, packet, sizeof packet, &len);
        if (r < 0)
                return r;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        discovery_destinations_find(d, (uint16_t)port);

        fd4 = discovery_sweep_socket(AF_INET);
        fd6 = discovery_sweep_socket(AF_INET6);
        if (fd4 < 0 && fd6 < 0) {
                fprintf(stderr, "steward: cannot open a UDP socket: %s\n", strerror(-fd4));
                return -ECOMM;
        }
        for (size_t i = 0; i < d->n; i++) {
                int fd = d->ss[i].ss_family == AF_INET ? fd4 : fd6;

                if (fd < 0)
                        continue;
                if (sendto(fd, packet, len, MSG_NOSIGNAL, (struct sockaddr *)&d->ss[i],
                           d->len[i]) == (ssize_t)len)
                        sent++;
                else
                        last_error = errno;
        }
        if (sent == 0) {
                fprintf(stderr, "steward: cannot send a discovery request: %s\n",
                        strerror(last_error ? last_error : ENETUNREACH));
                return -ECOMM;
        }

        deadline = now_usec() + (uint64_t)timeout_ms * 1000;
        r = 0;
        for (;;) {
                struct pollfd pfd[2] = {{.fd = fd4, .events = POLLIN},
                                        {.fd = fd6, .events = POLLIN}};
                uint64_t now = now_usec();
                int n;

                if (now >= deadline || r < 0)
                        break;
                n = poll(pfd, 2, (int)((deadline - now + 999) / 1000));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "steward: poll failed: %s\n", strerror(errno));
                        r = -ECOMM;
                        break;
                }
                for (size_t i = 0; i < 2; i++)
                        if (pfd[i].revents)
                                receive(pfd[i].fd, req.nonce, &f, &r);
        }
        if (r >= 0)
                r = print_servers(c, &f);
        if (r >= 0 && save_servers(&f) < 0)
                fputs("steward: warning: the list for -H @discovered was not saved\n", stderr);
        free(f.s);
        return r;
}
