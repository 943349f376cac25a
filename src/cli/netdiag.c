/* netdiag.c — the network module's diagnostics from the command line:
 *
 *   steward ping [-c N] [-i SECONDS] [-4|-6] HOST
 *   steward traceroute [-m MAXHOPS] [-4|-6] HOST
 *   steward lookup NAME [TYPE] [@SERVER]
 *   steward portcheck [-t SECONDS] HOST PORT
 *   steward netinfo
 *
 * ping and traceroute are streaming commands (docs/api.md): each reply or
 * hop prints as it arrives, in the manner of ping(8) and traceroute(8).
 * lookup prints dig's answer section, portcheck one line, netinfo the
 * interfaces as `ip addr` does, then the routes and the resolvers.
 *
 * Exit status: 0 when the diagnostic succeeded — a reply came back, the
 * trace reached the host, the name has records (NOERROR), the port is open,
 * netinfo answered; 1 when it did not (no reply, not reached, NXDOMAIN or
 * any other rcode, closed or filtered), and when the server refused; 2 for
 * a usage error; 3 when the server could not be reached.
 *
 * --json: ping and traceroute print each progress event as one line of
 * compact JSON as it arrives, then the final answer ({"result", "audit_id"})
 * as the last line; the others print the server's answer.  Text from the
 * server never reaches the terminal raw (fputs_sanitized).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

/* "No reply", "not reached", "closed": the diagnostic's own failure, exit
 * status 1 without a message of its own (the output says it). */
#define DIAG_FAILED (-EHOSTUNREACH)

/* ---- small things ------------------------------------------------------------- */

static const char *str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static void put(const char *s) {
        fputs_sanitized(s ? s : "", stdout);
}

/* "HOST (ADDRESS)", or the address alone when HOST is it. */
static void put_host(json_t *res) {
        const char *h = str(res, "host"), *a = str(res, "address");

        put(h);
        if (a && (!h || !STREQ(h, a))) {
                printf(" (");
                put(a);
                putchar(')');
        }
}

/* Milliseconds with as many decimals as mean something: 0.052, 1.25, 12.3. */
static void put_ms(double ms) {
        printf(ms < 1.0 ? "%.3f ms" : ms < 10.0 ? "%.2f ms" : "%.1f ms", ms);
}

/* Bytes in binary units: 512 B, 1.5 KiB, 12.0 MiB. */
static void human_bytes(json_t *v, char dst[32]) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double b = json_number_value(v);
        size_t u = 0;

        if (!json_is_number(v)) {
                snprintf(dst, 32, "-");
                return;
        }
        while (b >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                b /= 1024.0;
                u++;
        }
        snprintf(dst, 32, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
}

/* SECONDS as milliseconds within [min_ms, max_ms]: "1", "0.2", "2.5" (at
 * most three decimals). */
static int parse_seconds(const char *opt, const char *s, unsigned min_ms, unsigned max_ms,
                         unsigned *ret) {
        unsigned long ms = 0;
        size_t i = 0, dec = 0;

        for (; s[i] >= '0' && s[i] <= '9' && i < 6; i++)
                ms = ms * 10 + (unsigned long)(s[i] - '0');
        if (i == 0 && s[i] != '.')
                goto bad;
        ms *= 1000;
        if (s[i] == '.') {
                unsigned long scale = 100;
                for (i++; s[i] >= '0' && s[i] <= '9'; i++, dec++) {
                        if (dec == 3)
                                goto bad;
                        ms += (unsigned long)(s[i] - '0') * scale;
                        scale /= 10;
                }
                if (dec == 0)
                        goto bad;
        }
        if (s[i] != '\0' || ms < min_ms || ms > max_ms)
                goto bad;
        *ret = (unsigned)ms;
        return 0;
bad:
        return usage_error("%s takes seconds from %u.%03u to %u.%03u, not \"%s\"", opt,
                           min_ms / 1000, min_ms % 1000, max_ms / 1000, max_ms % 1000, s);
}

static int parse_count(const char *opt, const char *s, int64_t min, int64_t max, int64_t *ret) {
        if (safe_atoi64(s, ret) < 0 || *ret < min || *ret > max)
                return usage_error("%s takes a number from %lld to %lld, not \"%s\"", opt,
                                   (long long)min, (long long)max, s);
        return 0;
}

/* -4 / -6 into the family argument. */
static int family_arg(json_t *args, bool v4, bool v6) {
        if (v4 && v6)
                return usage_error("-4 and -6 exclude each other");
        if ((v4 || v6) && json_object_set_new(args, "family", json_string(v4 ? "ipv4" : "ipv6")))
                return -ENOMEM;
        return 0;
}

/* --json: one compact line. */
static int put_json_line(json_t *v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (!s)
                return -ENOMEM;
        puts(s);
        free(s);
        fflush(stdout);
        return 0;
}

/* ---- the streaming diagnostics ---------------------------------------------------- */

struct diag_stream {
        struct cli *c;
        void (*put_event)(json_t *ev); /* one event as text, without its newline */
};

static int diag_progress(json_t *ev, void *arg) {
        struct diag_stream *s = arg;

        if (s->c->json)
                return put_json_line(ev);
        s->put_event(ev);
        putchar('\n');
        fflush(stdout);
        return 0;
}

/* Runs the network module's streaming command name (args borrowed): each
 * progress event is printed as it arrives, a line of compact JSON with
 * --json, else put_event's text on a line of its own; with --json the
 * final answer is the last line.  0 and the answer ({"result",
 * "audit_id"}) for the caller's summary and exit status, or the refusal
 * reported. */
static int diag_stream_run(struct cli *c, const char *name, json_t *args,
                           void (*put_event)(json_t *ev), json_t **ret) {
        struct diag_stream s = {.c = c, .put_event = put_event};
        json_t *ans = NULL;
        int r;

        r = cli_command_stream(c, "network", name, json_incref(args), diag_progress, &s, &ans);
        if (r < 0)
                return r;
        if (c->json && (r = put_json_line(ans)) < 0) {
                json_decref(ans);
                return r;
        }
        *ret = ans;
        return 0;
}

/* ---- ping ------------------------------------------------------------------------ */

static void put_reply(json_t *ev) {
        json_t *t = json_object_get(ev, "time_ms");

        if (json_is_number(t)) {
                printf("reply from ");
                put(str(ev, "from"));
                printf(": seq=%lld", (long long)json_integer_value(json_object_get(ev, "seq")));
                if (json_is_integer(json_object_get(ev, "ttl")))
                        printf(" ttl=%lld",
                               (long long)json_integer_value(json_object_get(ev, "ttl")));
                printf(" time=");
                put_ms(json_number_value(t));
        } else if (json_is_true(json_object_get(ev, "timeout"))) {
                printf("seq=%lld: no reply", (long long)json_integer_value(json_object_get(ev, "seq")));
        } else {
                printf("seq=%lld: ", (long long)json_integer_value(json_object_get(ev, "seq")));
                put(str(ev, "error"));
                if (str(ev, "from")) {
                        printf(" (from ");
                        put(str(ev, "from"));
                        printf(")");
                }
        }
}

static void ping_summary(json_t *res) {
        json_t *mn = json_object_get(res, "rtt_min_ms");

        printf("\n--- ");
        put_host(res);
        printf(" ping statistics ---\n%lld sent, %lld received, %.0f%% loss\n",
               (long long)json_integer_value(json_object_get(res, "transmitted")),
               (long long)json_integer_value(json_object_get(res, "received")),
               json_number_value(json_object_get(res, "loss_percent")));
        if (json_is_number(mn)) {
                printf("rtt min/avg/max = ");
                put_ms(json_number_value(mn));
                printf(" / ");
                put_ms(json_number_value(json_object_get(res, "rtt_avg_ms")));
                printf(" / ");
                put_ms(json_number_value(json_object_get(res, "rtt_max_ms")));
                putchar('\n');
        }
}

int verb_ping(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "ping [-c N] [-i SECONDS] [-4|-6] HOST";
        const char *count = NULL, *interval = NULL;
        bool v4 = false, v6 = false;
        const struct verb_option opts[] = {
                {"count", 'c', &count, NULL},
                {"interval", 'i', &interval, NULL},
                {"ipv4", '4', NULL, &v4},
                {"ipv6", '6', NULL, &v6},
        };
        _cleanup_(json_decrefp) json_t *args = json_object(), *ans = NULL;
        char *pos[1];
        size_t npos = 0;
        int64_t n;
        unsigned ms;
        int r;

        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", synopsis);
        if (!args || json_object_set_new(args, "host", json_string(pos[0])) < 0)
                return -ENOMEM;
        if (count && ((r = parse_count("-c", count, 1, 20, &n)) < 0 ||
                      json_object_set_new(args, "count", json_integer(n)) < 0))
                return r < 0 ? r : -ENOMEM;
        if (interval && ((r = parse_seconds("-i", interval, 200, 5000, &ms)) < 0 ||
                         json_object_set_new(args, "interval_ms", json_integer(ms)) < 0))
                return r < 0 ? r : -ENOMEM;
        r = family_arg(args, v4, v6);
        if (r < 0)
                return r;
        if (!c->json) {
                printf("PING ");
                put(pos[0]);
                putchar('\n');
                fflush(stdout);
        }
        r = diag_stream_run(c, "ping", args, put_reply, &ans);
        if (r < 0)
                return r;
        if (!c->json)
                ping_summary(json_object_get(ans, "result"));
        if (json_integer_value(json_object_get(json_object_get(ans, "result"), "received")) < 1)
                return DIAG_FAILED;
        return 0;
}

/* ---- traceroute ---------------------------------------------------------------- */

static void put_hop(json_t *ev) {
        json_t *rtts = json_object_get(ev, "rtt_ms"), *t;
        size_t i;

        printf("%2lld  ", (long long)json_integer_value(json_object_get(ev, "hop")));
        if (str(ev, "address"))
                put(str(ev, "address"));
        else
                putchar('*');
        json_array_foreach(rtts, i, t) {
                printf("  ");
                if (json_is_number(t))
                        put_ms(json_number_value(t));
                else
                        putchar('*');
        }
        for (i = json_array_size(rtts); i < 3 && str(ev, "address"); i++)
                printf("  *");
        if (str(ev, "error")) {
                printf("  (");
                put(str(ev, "error"));
                putchar(')');
        }
}

int verb_traceroute(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "traceroute [-m MAXHOPS] [-4|-6] HOST";
        const char *max = NULL;
        bool v4 = false, v6 = false;
        const struct verb_option opts[] = {
                {"max-hops", 'm', &max, NULL},
                {"ipv4", '4', NULL, &v4},
                {"ipv6", '6', NULL, &v6},
        };
        _cleanup_(json_decrefp) json_t *args = json_object(), *ans = NULL;
        json_t *res;
        char *pos[1];
        size_t npos = 0;
        int64_t n = 30;
        int r;

        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", synopsis);
        if (!args || json_object_set_new(args, "host", json_string(pos[0])) < 0)
                return -ENOMEM;
        if (max && ((r = parse_count("-m", max, 1, 30, &n)) < 0 ||
                    json_object_set_new(args, "max_hops", json_integer(n)) < 0))
                return r < 0 ? r : -ENOMEM;
        r = family_arg(args, v4, v6);
        if (r < 0)
                return r;
        if (!c->json) {
                printf("traceroute to ");
                put(pos[0]);
                printf(", %lld hops max\n", (long long)n);
                fflush(stdout);
        }
        r = diag_stream_run(c, "traceroute", args, put_hop, &ans);
        if (r < 0)
                return r;
        res = json_object_get(ans, "result");
        if (json_is_true(json_object_get(res, "reached")))
                return 0;
        if (!c->json) {
                printf("not reached: ");
                put_host(res);
                printf(" after %zu hops\n", json_array_size(json_object_get(res, "hops")));
        }
        return DIAG_FAILED;
}

/* ---- lookup, portcheck ------------------------------------------------------------ */

/* Runs a command that does not stream (args borrowed): 0 and its answer, or
 * the refusal reported. */
static int run_command(struct cli *c, const char *name, json_t *args, json_t **ret) {
        _cleanup_free_ char *target = NULL;

        if (asprintf(&target, "/api/v1/modules/network/commands/%s", name) < 0)
                return -ENOMEM;
        return cli_call(c, "POST", target, args, ret);
}

static void put_records(json_t *records) {
        json_t *a;
        size_t i;

        json_array_foreach(records, i, a) {
                put(str(a, "name"));
                printf("\t%lld\tIN\t", (long long)json_integer_value(json_object_get(a, "ttl")));
                put(str(a, "type"));
                putchar('\t');
                put(str(a, "data"));
                putchar('\n');
        }
}

int verb_lookup(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "lookup NAME [TYPE] [@SERVER]";
        _cleanup_(json_decrefp) json_t *args = json_object(), *ans = NULL;
        char *pos[3];
        size_t npos = 0;
        const char *rcode;
        int r;

        r = parse_verb_args(synopsis, argc, argv, NULL, 0, pos, 3, &npos);
        if (r < 0)
                return r;
        if (npos < 1 || !args || json_object_set_new(args, "name", json_string(pos[0])) < 0)
                return npos < 1 ? usage_error("usage: steward %s", synopsis) : -ENOMEM;
        for (size_t i = 1; i < npos; i++) {
                bool server = pos[i][0] == '@';
                const char *key = server ? "server" : "type";
                if (json_object_get(args, key))
                        return usage_error("usage: steward %s", synopsis);
                if (json_object_set_new(args, key, json_string(pos[i] + server)) < 0)
                        return -ENOMEM;
        }
        r = run_command(c, "lookup", args, &ans);
        if (r < 0)
                return r;
        rcode = str(ans, "rcode");
        if (c->json)
                r = print_json(ans);
        else {
                printf(";; ");
                put(str(ans, "name"));
                putchar(' ');
                put(str(ans, "type"));
                printf(" @");
                put(str(ans, "server"));
                printf(": ");
                put(rcode);
                printf(", ");
                put_ms(json_number_value(json_object_get(ans, "time_ms")));
                putchar('\n');
                put_records(json_object_get(ans, "answers"));
                if (json_array_size(json_object_get(ans, "authority")) > 0) {
                        printf(";; authority\n");
                        put_records(json_object_get(ans, "authority"));
                }
                if (rcode && STREQ(rcode, "NOERROR") &&
                    json_array_size(json_object_get(ans, "answers")) == 0)
                        printf(";; no records of that type\n");
        }
        if (r >= 0 && !(rcode && STREQ(rcode, "NOERROR")))
                r = DIAG_FAILED;
        return r;
}

int verb_portcheck(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "portcheck [-t SECONDS] HOST PORT";
        const char *timeout = NULL;
        const struct verb_option opts[] = {{"timeout", 't', &timeout, NULL}};
        _cleanup_(json_decrefp) json_t *args = json_object(), *ans = NULL;
        char *pos[2];
        size_t npos = 0;
        const char *state;
        unsigned ms;
        int64_t port;
        int r;

        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 2, &npos);
        if (r < 0)
                return r;
        if (npos != 2)
                return usage_error("usage: steward %s", synopsis);
        r = parse_count("PORT", pos[1], 1, 65535, &port);
        if (r < 0)
                return r;
        if (!args || json_object_set_new(args, "host", json_string(pos[0])) < 0 ||
            json_object_set_new(args, "port", json_integer(port)) < 0)
                return -ENOMEM;
        if (timeout && ((r = parse_seconds("-t", timeout, 100, 10000, &ms)) < 0 ||
                        json_object_set_new(args, "timeout_ms", json_integer(ms)) < 0))
                return r < 0 ? r : -ENOMEM;
        r = run_command(c, "portcheck", args, &ans);
        if (r < 0)
                return r;
        state = str(ans, "state");
        if (c->json)
                r = print_json(ans);
        else {
                put_host(ans);
                printf(" port %lld: ", (long long)port);
                put(state);
                printf(" (");
                if (str(ans, "reason")) {
                        put(str(ans, "reason"));
                        printf(", ");
                }
                put_ms(json_number_value(json_object_get(ans, "time_ms")));
                printf(")\n");
        }
        if (r >= 0 && !(state && STREQ(state, "open")))
                r = DIAG_FAILED;
        return r;
}

/* ---- netinfo ---------------------------------------------------------------------- */

static void put_list(json_t *a, const char *sep) {
        json_t *v;
        size_t i;

        json_array_foreach(a, i, v) {
                if (i)
                        fputs(sep, stdout);
                put(json_string_value(v));
        }
}

static void put_interface(json_t *ifc) {
        json_t *cnt = json_object_get(ifc, "counters"), *a;
        char rx[32], tx[32];
        size_t i;

        printf("%lld: ", (long long)json_integer_value(json_object_get(ifc, "index")));
        put(str(ifc, "name"));
        printf(" <");
        put_list(json_object_get(ifc, "flags"), ",");
        printf("> mtu %lld state ", (long long)json_integer_value(json_object_get(ifc, "mtu")));
        put(str(ifc, "state"));
        if (json_is_integer(json_object_get(ifc, "speed_mbps")))
                printf(" speed %lld Mb/s",
                       (long long)json_integer_value(json_object_get(ifc, "speed_mbps")));
        if (str(ifc, "duplex")) {
                putchar(' ');
                put(str(ifc, "duplex"));
        }
        if (json_is_false(json_object_get(ifc, "carrier")))
                printf(" no-carrier");
        printf("\n    link/");
        put(str(ifc, "type"));
        putchar(' ');
        put(str(ifc, "mac") ? str(ifc, "mac") : "-");
        putchar('\n');
        json_array_foreach(json_object_get(ifc, "addresses"), i, a) {
                printf("    %s ", STREQ(str(a, "family") ?: "", "ipv6") ? "inet6" : "inet");
                put(str(a, "address"));
                printf("/%lld scope ",
                       (long long)json_integer_value(json_object_get(a, "prefix_length")));
                put(str(a, "scope"));
                putchar('\n');
        }
        human_bytes(json_object_get(cnt, "rx_bytes"), rx);
        human_bytes(json_object_get(cnt, "tx_bytes"), tx);
        printf("    RX %s, %lld packets, %lld errors, %lld dropped\n", rx,
               (long long)json_integer_value(json_object_get(cnt, "rx_packets")),
               (long long)json_integer_value(json_object_get(cnt, "rx_errors")),
               (long long)json_integer_value(json_object_get(cnt, "rx_dropped")));
        printf("    TX %s, %lld packets, %lld errors, %lld dropped\n", tx,
               (long long)json_integer_value(json_object_get(cnt, "tx_packets")),
               (long long)json_integer_value(json_object_get(cnt, "tx_errors")),
               (long long)json_integer_value(json_object_get(cnt, "tx_dropped")));
}

static void put_route(json_t *rt) {
        put(str(rt, "destination"));
        if (str(rt, "gateway")) {
                printf(" via ");
                put(str(rt, "gateway"));
        }
        if (str(rt, "interface")) {
                printf(" dev ");
                put(str(rt, "interface"));
        }
        if (str(rt, "protocol")) {
                printf(" proto ");
                put(str(rt, "protocol"));
        }
        if (str(rt, "scope")) {
                printf(" scope ");
                put(str(rt, "scope"));
        }
        if (json_is_integer(json_object_get(rt, "metric")))
                printf(" metric %lld", (long long)json_integer_value(json_object_get(rt, "metric")));
        if (json_is_string(json_object_get(rt, "table")) && !STREQ(str(rt, "table"), "main")) {
                printf(" table ");
                put(str(rt, "table"));
        }
        putchar('\n');
}

int verb_netinfo(struct cli *c, int argc, char **argv) {
        _cleanup_(json_decrefp) json_t *ans = NULL;
        json_t *v, *dns;
        size_t i;
        int r;

        if (argc > 0)
                return usage_error("usage: steward netinfo");
        r = cli_call(c, "GET", "/api/v1/modules/network/info", NULL, &ans);
        if (r < 0)
                return r;
        if (c->json)
                return print_json(ans);
        printf("host ");
        put(str(ans, "hostname"));
        if (str(ans, "fqdn")) {
                printf(" (");
                put(str(ans, "fqdn"));
                putchar(')');
        }
        putchar('\n');
        json_array_foreach(json_object_get(ans, "interfaces"), i, v) put_interface(v);
        printf("routes:\n");
        json_array_foreach(json_object_get(ans, "routes"), i, v) {
                printf("    %s ", STREQ(str(v, "family") ?: "", "ipv6") ? "inet6" : "inet ");
                put_route(v);
        }
        dns = json_object_get(ans, "dns");
        printf("dns (");
        put(str(dns, "source"));
        printf("%s):\n    servers ",
               json_is_true(json_object_get(dns, "resolved")) ? ", systemd-resolved's stub" : "");
        put_list(json_object_get(dns, "servers"), " ");
        if (json_array_size(json_object_get(dns, "search"))) {
                printf("\n    search ");
                put_list(json_object_get(dns, "search"), " ");
        }
        if (json_array_size(json_object_get(dns, "options"))) {
                printf("\n    options ");
                put_list(json_object_get(dns, "options"), " ");
        }
        putchar('\n');
        return 0;
}
