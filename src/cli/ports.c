/* ports.c — `steward ports [PORT] [--all]`.
 *
 * Without a port: a table in the manner of `ss -ltnp` with the registered
 * service and the findings added.  With a port: one screen that answers
 * "what is this port, is anything listening on it, who, and what should I
 * make of it" — the registry's records, the legacy and trojan notes (once:
 * the server leaves them out of each listener's findings), the listeners
 * with their owners and every other finding spelled out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static void owners_text(json_t *procs, char *dst, size_t n) {
        size_t i, off = 0;
        json_t *p;

        dst[0] = '\0';
        json_array_foreach(procs, i, p) {
                const char *cmd = json_string_value(json_object_get(p, "command"));
                const char *unit = json_string_value(json_object_get(p, "unit"));
                int w = snprintf(dst + off, n - off, "%s%s[%lld]%s%s", i ? "," : "",
                                 cmd ? cmd : "?",
                                 (long long)json_integer_value(json_object_get(p, "pid")),
                                 unit ? " " : "", unit ? unit : "");
                if (w < 0 || (size_t)w >= n - off)
                        break;
                off += (size_t)w;
        }
}

static void findings_text(json_t *findings, char *dst, size_t n) {
        size_t i, off = 0;
        json_t *f;

        dst[0] = '\0';
        json_array_foreach(findings, i, f) {
                const char *code = json_string_value(json_object_get(f, "code"));
                int w = snprintf(dst + off, n - off, "%s%s", off ? "," : "", code ? code : "?");
                if (w < 0 || (size_t)w >= n - off)
                        break;
                off += (size_t)w;
        }
}

static const char *first_service(json_t *l) {
        json_t *r = json_array_get(json_object_get(l, "registry"), 0);
        return json_string_value(json_object_get(r, "service"));
}

static int print_table(json_t *listeners) {
        static const char *const header[] = {"PROTO",   "STATE",   "LOCAL",   "PEER",
                                             "PROCESS", "SERVICE", "FINDINGS"};
        struct table t;
        size_t i;
        json_t *l;
        int r = table_init(&t, header, ELEMENTSOF(header));

        json_array_foreach(listeners, i, l) {
                char local[96], peer[96], procs[256], findings[256];
                const char *addr = json_string_value(json_object_get(l, "address")) ?: "";
                const char *paddr = json_string_value(json_object_get(l, "peer_address"));
                bool v6 = strchr(addr, ':') != NULL;
                const char *svc = first_service(l);
                const char *row[] = {json_string_value(json_object_get(l, "protocol")) ?: "",
                                     json_string_value(json_object_get(l, "state")) ?: "",
                                     local,
                                     peer,
                                     procs,
                                     svc ? svc : "-",
                                     findings};

                if (r < 0)
                        break;
                snprintf(local, sizeof local, v6 ? "[%s]:%lld" : "%s:%lld", addr,
                         (long long)json_integer_value(json_object_get(l, "port")));
                if (paddr)
                        snprintf(peer, sizeof peer, strchr(paddr, ':') ? "[%s]:%lld" : "%s:%lld",
                                 paddr,
                                 (long long)json_integer_value(json_object_get(l, "peer_port")));
                else
                        snprintf(peer, sizeof peer, "*");
                /* "processes": a listener's owners, not the module */
                owners_text(json_object_get(l, "processes"), procs, sizeof procs);
                if (!procs[0])
                        snprintf(procs, sizeof procs, "-");
                findings_text(json_object_get(l, "findings"), findings, sizeof findings);
                r = table_add(&t, row);
        }
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        return r;
}

static void say(const char *label, const char *text) {
        if (!text || !*text)
                return;
        printf("  %-13s ", label);
        fputs_sanitized(text, stdout);
        putchar('\n');
}

/* One port, explained. */
static int print_port(json_t *a) {
        json_t *recs = json_object_get(a, "records"), *r, *l, *f;
        json_t *listeners = json_object_get(a, "listeners");
        size_t i, j;

        printf("Port %lld: %s range. ", (long long)json_integer_value(json_object_get(a, "port")),
               json_string_value(json_object_get(a, "range")) ?: "?");
        fputs_sanitized(json_string_value(json_object_get(a, "range_explanation")) ?: "", stdout);
        printf("\n\nIANA registry (%s):\n",
               json_string_value(json_object_get(a, "registry_date")) ?: "?");
        if (json_array_size(recs) == 0)
                printf("  no record: nothing is registered here\n");
        json_array_foreach(recs, i, r) {
                printf("- %s/%s", json_string_value(json_object_get(r, "service")) ?: "",
                       json_string_value(json_object_get(r, "protocol")) ?: "");
                if (json_object_get(r, "range"))
                        printf(" (range %s)", json_string_value(json_object_get(r, "range")));
                putchar('\n');
                say("description", json_string_value(json_object_get(r, "description")));
                say("assignee", json_string_value(json_object_get(r, "assignee")));
                say("registered", json_string_value(json_object_get(r, "registration_date")));
                say("modified", json_string_value(json_object_get(r, "modification_date")));
                say("unauthorized",
                    json_string_value(json_object_get(r, "unauthorized_use_reported")));
                say("notes", json_string_value(json_object_get(r, "notes")));
        }
        json_array_foreach(json_object_get(a, "legacy"), i, l) {
                printf("\nLegacy assignment (%s): %s is %s.\n  ",
                       json_string_value(json_object_get(l, "protocol")) ?: "",
                       json_string_value(json_object_get(l, "service")) ?: "",
                       json_string_value(json_object_get(l, "status")) ?: "");
                fputs_sanitized(json_string_value(json_object_get(l, "note")) ?: "", stdout);
                printf("\n  source: ");
                fputs_sanitized(json_string_value(json_object_get(l, "source")) ?: "", stdout);
                putchar('\n');
        }
        json_array_foreach(json_object_get(a, "trojan_history"), i, l) {
                const char *sev = json_string_value(json_object_get(l, "severity"));
                bool warn = sev && STREQ(sev, "warning");

                printf("\n%s (%s):\n  ", warn ? "Warning: malware history" : "Malware history",
                       json_string_value(json_object_get(l, "protocol")) ?: "");
                fputs_sanitized(json_string_value(json_object_get(l, "message")) ?: "", stdout);
                printf(".\n");
        }
        if (json_object_get(a, "trojan_attribution")) {
                printf("  ");
                fputs_sanitized(json_string_value(json_object_get(a, "trojan_attribution")),
                                stdout);
                putchar('\n');
        }
        printf("\nListening now: %s\n", json_array_size(listeners) ? "" : "nothing.");
        json_array_foreach(listeners, i, l) {
                char procs[256];
                /* "processes": a listener's owners, not the module */
                owners_text(json_object_get(l, "processes"), procs, sizeof procs);
                printf("- %s %s:%lld (%s) by %s\n",
                       json_string_value(json_object_get(l, "protocol")) ?: "",
                       json_string_value(json_object_get(l, "address")) ?: "",
                       (long long)json_integer_value(json_object_get(l, "port")),
                       json_string_value(json_object_get(l, "scope")) ?: "",
                       procs[0]                                           ? procs
                       : json_is_true(json_object_get(a, "owners_known")) ? "no process"
                                                                          : "(owner unknown)");
                json_array_foreach(json_object_get(l, "findings"), j, f) {
                        printf("    %-8s %-22s ",
                               json_string_value(json_object_get(f, "severity")) ?: "",
                               json_string_value(json_object_get(f, "code")) ?: "");
                        fputs_sanitized(json_string_value(json_object_get(f, "message")) ?: "",
                                        stdout);
                        putchar('\n');
                }
        }
        return 0;
}

int verb_ports(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "ports [PORT] [--all]";
        bool all = false;
        const struct verb_option opts[] = {{"all", 'a', NULL, &all}};
        char *pos[1];
        size_t npos = 0;
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL;
        unsigned port;
        int r;

        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos == 1) {
                if (safe_atou(pos[0], &port) < 0 || port > 65535)
                        return usage_error("\"%s\" is not a port (0-65535)", pos[0]);
                if (asprintf(&target, "/api/v1/ports/%u", port) < 0)
                        return -ENOMEM;
        } else if (asprintf(&target, "/api/v1/ports%s", all ? "?all=1" : "") < 0)
                return -ENOMEM;
        /* --json: the server's text as it came when it goes to a program
         * (a listing of thousands of sockets is a megabyte that a parse and
         * a re-encoding would only reformat); on a terminal, indented. */
        if (c->json)
                return cli_get_json(c, target);
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        if (npos == 1)
                r = print_port(answer);
        else
                r = print_table(json_object_get(answer, "listeners"));
        json_decref(answer);
        return r;
}
