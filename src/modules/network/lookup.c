/* lookup.c — ask DNS servers about a name, as dig would.
 *
 * The question is sent from a probe child to one server at a time, so the
 * answer names the server that gave it: the one given (an IP literal), or
 * else the system resolver's servers from /etc/resolv.conf in order (at
 * most RESOLVER_MAXNS, as glibc; 127.0.0.1 when it names none), moving on
 * only when a server does not answer.  UDP with EDNS0, two tries of
 * ASK_WAIT_MS each; a truncated answer is asked again over TCP.  The
 * answer is decoded by dnswire.c; the answer's ID and the question's
 * server must match (a connected socket), anything else is dropped.
 *
 * Names: a DNS name whose labels may hold '_' besides [A-Za-z0-9-]
 * (_sip._tcp.example.org, _dmarc.example.org) or "."; for PTR also an IP
 * literal, turned into its in-addr.arpa / ip6.arpa name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "modules/network/dnswire.h"
#include "modules/network/network.h"
#include "modules/network/probe.h"
#include "util.h"

#define RESOLVER_MAXNS    3
#define ASK_WAIT_MS       2000
#define ASK_TRIES         2
#define LOOKUP_LIMIT_USEC (25u * 1000000u)

static const char *const types[] = {"A",   "AAAA", "MX",  "TXT",   "NS", "SOA",
                                    "PTR", "SRV",  "CAA", "CNAME", NULL};

static bool ip_literal(const char *s, int *ret_family) {
        unsigned char b[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, s, b) == 1)
                return *ret_family = AF_INET, true;
        if (inet_pton(AF_INET6, s, b) == 1)
                return *ret_family = AF_INET6, true;
        return false;
}

static bool server_valid(const char *s) {
        int f;
        return s && strnlen(s, 64) < 64 && ip_literal(s, &f);
}

bool lookup_name_valid(const char *s) {
        size_t n;
        int f;

        if (!s)
                return false;
        n = strnlen(s, 256);
        if (n == 0 || n > 254 || s[0] == '-')
                return false;
        if ((n == 1 && s[0] == '.') || ip_literal(s, &f))
                return true;
        return dns_name_valid_opts(s, 253, DNS_NAME_FINAL_DOT | DNS_NAME_UNDERSCORE);
}

const command_arg_t lookup_args[LOOKUP_N_ARGS] = {
        {.name = "name",
         .type = SETTING_STRING,
         .min = 1,
         .max = 254,
         .required = true,
         .valid_string = lookup_name_valid,
         .description = "the name to look up (a DNS name; for PTR also an IP address)"},
        {.name = "type",
         .type = SETTING_ENUM,
         .choices = types,
         .description = "the record type (default A)"},
        {.name = "server",
         .type = SETTING_STRING,
         .min = 2,
         .max = 45,
         .valid_string = server_valid,
         .description = "the DNS server to ask, an IP address (default: the system's, in order)"},
};

/* The name asked for: name itself, or for PTR of an IP literal its
 * reverse name. */
static int question_name(const char *name, const char *type, char *buf, size_t len) {
        unsigned char a[16];
        int f, n = 0;

        if (!STREQ(type, "PTR") || !ip_literal(name, &f))
                return snprintf(buf, len, "%s", name) < (int)len ? 0 : -ENAMETOOLONG;
        inet_pton(f, name, a);
        if (f == AF_INET)
                n = snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa.", a[3], a[2], a[1], a[0]);
        else
                for (int i = 15; i >= 0 && n >= 0 && (size_t)n < len; i--)
                        n += snprintf(buf + n, len - (size_t)n, "%x.%x.", a[i] & 0xf, a[i] >> 4);
        if (f == AF_INET6 && n >= 0 && (size_t)n < len)
                n += snprintf(buf + n, len - (size_t)n, "ip6.arpa.");
        return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* ---- in the probe child ------------------------------------------------------------ */

static int server_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len) {
        char a[64];
        const char *pct = strchr(s, '%');
        size_t n = pct ? (size_t)(pct - s) : strlen(s);

        memset(ss, 0, sizeof *ss);
        if (n >= sizeof a)
                return -EINVAL;
        memcpy(a, s, n);
        a[n] = '\0';
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET, s4->sin_port = htons(53), *len = sizeof *s4;
                return 0;
        }
        if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6, s6->sin6_port = htons(53), *len = sizeof *s6;
                return 0; /* a %scope is dropped: the kernel's route decides */
        }
        return -EINVAL;
}

static int wait_fd(int fd, short events, int ms) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int r;
        while ((r = poll(&pfd, 1, ms)) < 0 && errno == EINTR)
                ;
        return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

static int read_full(int fd, uint8_t *p, size_t n, int ms) {
        while (n > 0) {
                int r = wait_fd(fd, POLLIN, ms);
                if (r < 0)
                        return r;
                ssize_t k = read(fd, p, n);
                if (k <= 0)
                        return k < 0 ? -errno : -ECONNRESET;
                p += k, n -= (size_t)k;
        }
        return 0;
}

/* Whether ans answers q: an answer (QR), the same ID, and the same one
 * question (the name compared without case).  q is dns_query_build()'s:
 * its question ends DNS_OPT_LEN bytes before its end.  An error answer
 * without a question section matches on its ID. */
#define DNS_OPT_LEN 11
static bool answers_query(const uint8_t *q, size_t qlen, const uint8_t *ans, size_t alen) {
        size_t qsize = qlen - 12 - DNS_OPT_LEN;

        if (alen < 12 || ans[0] != q[0] || ans[1] != q[1] || !(ans[2] & 0x80))
                return false;
        /* an error (FORMERR, NOTIMP) may come without the question */
        if (ans[4] == 0 && ans[5] == 0 && (ans[3] & 0x0f) != 0)
                return true;
        if (alen < 12 + qsize || ans[4] != 0 || ans[5] != 1)
                return false;
        for (size_t i = 12; i < 12 + qsize; i++) {
                uint8_t a = ans[i], b = q[i];
                if (a >= 'A' && a <= 'Z')
                        a = (uint8_t)(a - 'A' + 'a');
                if (b >= 'A' && b <= 'Z')
                        b = (uint8_t)(b - 'A' + 'a');
                if (a != b)
                        return false;
        }
        return true;
}

/* The question over TCP (after a truncated answer). */
static int ask_tcp(const struct sockaddr_storage *ss, socklen_t slen, const uint8_t *q, size_t qlen,
                   uint8_t *ans, size_t *ret_len) {
        _cleanup_close_ int fd =
                socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        uint8_t out[2 + 600], l[2];
        int e = 0, r;
        socklen_t el = sizeof e;

        if (fd < 0 || qlen > sizeof out - 2)
                return -EIO;
        if (connect(fd, (const struct sockaddr *)ss, slen) < 0 && errno != EINPROGRESS)
                return -errno;
        r = wait_fd(fd, POLLOUT, ASK_WAIT_MS);
        if (r < 0)
                return r;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e)
                return -(e ? e : errno);
        out[0] = (uint8_t)(qlen >> 8), out[1] = (uint8_t)qlen;
        memcpy(out + 2, q, qlen);
        if (send(fd, out, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
                return -EIO;
        r = read_full(fd, l, 2, ASK_WAIT_MS);
        if (r < 0)
                return r;
        size_t n = (size_t)l[0] << 8 | l[1];
        r = read_full(fd, ans, n, ASK_WAIT_MS);
        if (r < 0)
                return r;
        if (!answers_query(q, qlen, ans, n))
                return -EBADMSG;
        *ret_len = n;
        return 0;
}

/* The question to one server: its answer's bytes, or -ETIMEDOUT & co. */
static int ask(const struct sockaddr_storage *ss, socklen_t slen, const uint8_t *q, size_t qlen,
               uint8_t *ans, size_t *ret_len) {
        _cleanup_close_ int fd =
                socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int r = -ETIMEDOUT;

        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *)ss, slen) < 0)
                return -errno;
        for (int t = 0; t < ASK_TRIES && r == -ETIMEDOUT; t++) {
                if (send(fd, q, qlen, 0) < 0)
                        return -errno;
                uint64_t until = now_usec() + ASK_WAIT_MS * 1000u;
                for (;;) {
                        uint64_t now = now_usec();
                        if (now >= until) {
                                r = -ETIMEDOUT;
                                break;
                        }
                        r = wait_fd(fd, POLLIN, (int)((until - now + 999) / 1000));
                        if (r < 0)
                                break;
                        ssize_t k = recv(fd, ans, DNS_MSG_MAX, 0);
                        if (k < 0) {
                                r = -errno; /* ECONNREFUSED: nothing listens there */
                                if (r == -EAGAIN)
                                        continue;
                                return r;
                        }
                        /* ours: an answer to this question (else: not counted) */
                        if (answers_query(q, qlen, ans, (size_t)k)) {
                                if (ans[2] & 0x02) /* TC: again over TCP */
                                        return ask_tcp(ss, slen, q, qlen, ans, ret_len);
                                *ret_len = (size_t)k;
                                return 0;
                        }
                }
        }
        return r;
}

/* The servers to ask, in order. */
static json_t *servers_to_ask(json_t *args) {
        const char *s = json_string_value(json_object_get(args, "server"));
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        json_t *list = json_array(), *conf;

        if (s) {
                json_array_append_new(list, json_string(s));
                return list;
        }
        if (read_file("/etc/resolv.conf", RESOLV_CONF_MAX, &text, &n) >= 0 &&
            (conf = resolv_conf_parse(text, n, "/etc/resolv.conf"))) {
                json_t *v;
                size_t i;
                json_array_foreach(json_object_get(conf, "servers"), i, v) if (i < RESOLVER_MAXNS)
                        json_array_append(list, v);
                json_decref(conf);
        }
        if (json_array_size(list) == 0)
                json_array_append_new(list, json_string("127.0.0.1"));
        return list;
}

static int answer_result(json_t *args, const char *qname, const char *server_text,
                         const uint8_t *ans, size_t alen, double ms, json_t **ret,
                         struct module_error *err) {
        json_t *d = NULL;

        if (dns_answer_decode(ans, alen, &d) < 0) {
                module_error_set(err, 502, "bad_answer", NULL,
                                 "the answer of %s does not parse as DNS", server_text);
                return -EBADMSG;
        }
        json_object_del(d, "id");
        json_object_set(d, "name", json_object_get(args, "name"));
        json_object_set_new(d, "question", json_string(qname));
        json_object_set_new(d, "type",
                            json_string(json_string_value(json_object_get(args, "type")) ?: "A"));
        json_object_set_new(d, "server", json_string(server_text));
        json_object_set_new(d, "time_ms", json_real(ms));
        *ret = d;
        return 0;
}

static int lookup_probe(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        const char *name = json_string_value(json_object_get(args, "name"));
        const char *type = json_string_value(json_object_get(args, "type")) ?: "A";
        _cleanup_(json_decrefp) json_t *servers = servers_to_ask(args);
        _cleanup_free_ uint8_t *ans = malloc(DNS_MSG_MAX);
        char qname[300], tried[512] = "";
        uint8_t q[600];
        size_t qlen, alen = 0, i;
        uint16_t id;
        json_t *v;

        (void)p;
        if (!servers || !ans || question_name(name, type, qname, sizeof qname) < 0 ||
            getrandom(&id, sizeof id, 0) != sizeof id ||
            dns_query_build(id, qname, (uint16_t)dns_type_from_name(type), q, sizeof q, &qlen) <
                    0) {
                module_error_set(err, 400, "bad_request", "name", "cannot ask for %s", name);
                return -EINVAL;
        }
        json_array_foreach(servers, i, v) {
                struct sockaddr_storage ss;
                socklen_t slen;
                char text[80];
                const char *s = json_string_value(v);
                if (server_addr(s, &ss, &slen) < 0)
                        continue;
                snprintf(text, sizeof text, "%s#53", s);
                uint64_t t0 = now_usec();
                int r = ask(&ss, slen, q, qlen, ans, &alen);
                if (r >= 0)
                        return answer_result(args, qname, text, ans, alen, probe_ms(t0, now_usec()),
                                             ret, err);
                size_t l = strlen(tried);
                snprintf(tried + l, sizeof tried - l, "%s%s (%s)", l ? ", " : "", text,
                         r == -ETIMEDOUT ? "no answer" : strerror(-r));
        }
        module_error_set(err, 504, "no_answer", NULL, "no DNS server answered: %s", tried);
        return -ETIMEDOUT;
}

const struct probe_diag lookup_diag = {"lookup", lookup_probe};

int lookup_run(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err) {
        const char *name = json_string_value(json_object_get(args, "name"));
        const char *type = json_string_value(json_object_get(args, "type")) ?: "A";

        if (name && strchr(name, ':') && !STREQ(type, "PTR")) {
                module_error_set(err, 422, "invalid_argument", "name",
                                 "name: an IPv6 address is a name only for PTR");
                return -EINVAL;
        }
        return probe_run(ctx, 0, &lookup_diag, args, LOOKUP_LIMIT_USEC, ret, err);
}
