/* ports.c — `steward ports [PORT] [--all]`.
 *
 * Without a port: a table in the manner of `ss -ltnp` with the registered
 * service and the findings added.  With a port: one screen that answers
 * "what is this port, is anything listening on it, who, and what should I
 * make of it" — the registry's records, the legacy and trojan notes (once:
 * the server leaves them out of each listener's findings), the listeners
 * with their owners and every other finding spelled out.
 *
 * The table reads the listing with the pull reader (jsonpull.h) rather
 * than a jansson tree: with thousands of listeners the answer is a
 * megabyte of which the table shows eight fields a listener, and the
 * tree's parse was most of the command's own time.  The rows are the same
 * text either way; an answer that is not the listing's shape is refused. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonpull.h"
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

/* ---- the table from the answer's text ---------------------------------- */

struct row {
        char protocol[16], state[24], address[64], peer[64], service[96];
        char procs[256], findings[256];
        long long port, peer_port;
        bool has_peer, has_service;
        size_t nprocs, procs_off, nfindings, findings_off;
};

/* A string value into dst (decoded, cut to fit): 0; null: 1, dst as it
 * was (json_string_value's NULL); another type is refused. */
static int pull_string(struct jpull *j, char *dst, size_t n) {
        struct jpull_tok t;
        int r = jpull_next(j, &t);

        if (r < 0)
                return r;
        if (t.type == JP_NULL)
                return 1;
        return t.type == JP_STRING && jpull_string(&t, dst, n) >= 0 ? 0 : -EBADMSG;
}

static int pull_int(struct jpull *j, long long *ret) {
        struct jpull_tok t;
        int r = jpull_next(j, &t);

        if (r < 0)
                return r;
        return t.type == JP_NUMBER && jpull_int(&t, ret) >= 0 ? 0 : -EBADMSG;
}

/* Skips the value whose first token is next. */
static int pull_skip(struct jpull *j) {
        struct jpull_tok t;
        int r = jpull_next(j, &t);

        return r < 0 ? r : jpull_skip(j, &t);
}

/* The next key of the object being read, or 0 at its end. */
static int pull_key(struct jpull *j, struct jpull_tok *t) {
        int r = jpull_next(j, t);

        if (r < 0)
                return r;
        if (t->type == JP_END)
                return 0;
        return t->type == JP_KEY ? 1 : -EBADMSG;
}

/* Each element of an array must be an object: calls fn for each with the
 * reader inside it (fn reads to its end). */
static int pull_objects(struct jpull *j, int (*fn)(struct jpull *j, struct row *w, size_t i),
                        struct row *w) {
        struct jpull_tok t;
        size_t i = 0;
        int r = jpull_next(j, &t);

        if (r < 0)
                return r;
        if (t.type != JP_ARRAY)
                return -EBADMSG;
        for (;; i++) {
                r = jpull_next(j, &t);
                if (r < 0)
                        return r;
                if (t.type == JP_END)
                        return 0;
                if (t.type != JP_OBJECT)
                        return -EBADMSG;
                r = fn(j, w, i);
                if (r < 0)
                        return r;
        }
}

/* One owner: "command[pid] unit" appended to the row, as owners_text. */
static int pull_process(struct jpull *j, struct row *w, size_t i) {
        char cmd[64] = "?", unit[128] = "";
        bool has_unit = false;
        long long pid = 0;
        struct jpull_tok k;
        int r, wr;

        while ((r = pull_key(j, &k)) > 0) {
                if (jpull_is(&k, "command"))
                        r = pull_string(j, cmd, sizeof cmd);
                else if (jpull_is(&k, "unit")) {
                        r = pull_string(j, unit, sizeof unit);
                        has_unit = r == 0;
                } else if (jpull_is(&k, "pid"))
                        r = pull_int(j, &pid);
                else
                        r = pull_skip(j);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (w->procs_off >= sizeof w->procs)
                return 0;
        wr = snprintf(w->procs + w->procs_off, sizeof w->procs - w->procs_off, "%s%s[%lld]%s%s",
                      i ? "," : "", cmd, pid, has_unit ? " " : "", unit);
        if (wr < 0 || (size_t)wr >= sizeof w->procs - w->procs_off)
                w->procs_off = sizeof w->procs; /* full, the last one cut, as owners_text */
        else
                w->procs_off += (size_t)wr;
        return 0;
}

static int pull_finding(struct jpull *j, struct row *w, size_t i) {
        char code[64] = "?";
        struct jpull_tok k;
        int r, wr;

        while ((r = pull_key(j, &k)) > 0) {
                r = jpull_is(&k, "code") ? pull_string(j, code, sizeof code) : pull_skip(j);
                if (r < 0)
                        return r;
        }
        if (r < 0 || w->findings_off >= sizeof w->findings)
                return r;
        wr = snprintf(w->findings + w->findings_off, sizeof w->findings - w->findings_off, "%s%s",
                      w->findings_off ? "," : "", code);
        if (wr < 0 || (size_t)wr >= sizeof w->findings - w->findings_off)
                w->findings_off = sizeof w->findings;
        else
                w->findings_off += (size_t)wr;
        return 0;
}

/* The first registry record's service. */
static int pull_record(struct jpull *j, struct row *w, size_t i) {
        struct jpull_tok k;
        int r;

        while ((r = pull_key(j, &k)) > 0) {
                if (i == 0 && jpull_is(&k, "service")) {
                        r = pull_string(j, w->service, sizeof w->service);
                        w->has_service = r == 0;
                } else
                        r = pull_skip(j);
                if (r < 0)
                        return r;
        }
        return r;
}

static int pull_listener(struct jpull *j, struct row *w, size_t i) {
        struct jpull_tok k;
        int r;

        memset(w, 0, sizeof *w);
        while ((r = pull_key(j, &k)) > 0) {
                if (jpull_is(&k, "protocol"))
                        r = pull_string(j, w->protocol, sizeof w->protocol);
                else if (jpull_is(&k, "state"))
                        r = pull_string(j, w->state, sizeof w->state);
                else if (jpull_is(&k, "address"))
                        r = pull_string(j, w->address, sizeof w->address);
                else if (jpull_is(&k, "port"))
                        r = pull_int(j, &w->port);
                else if (jpull_is(&k, "peer_address")) {
                        r = pull_string(j, w->peer, sizeof w->peer);
                        w->has_peer = r == 0;
                } else if (jpull_is(&k, "peer_port"))
                        r = pull_int(j, &w->peer_port);
                /* "processes": a listener's owners, not the module */
                else if (jpull_is(&k, "processes"))
                        r = pull_objects(j, pull_process, w);
                else if (jpull_is(&k, "registry"))
                        r = pull_objects(j, pull_record, w);
                else if (jpull_is(&k, "findings"))
                        r = pull_objects(j, pull_finding, w);
                else
                        r = pull_skip(j);
                if (r < 0)
                        return r;
        }
        return r;
}

static int add_row(struct table *t, const struct row *w) {
        char local[96], peer[96];
        const char *row[] = {w->protocol, w->state, local, peer,
                             w->procs[0] ? w->procs : "-",
                             w->has_service ? w->service : "-", w->findings};

        snprintf(local, sizeof local, strchr(w->address, ':') ? "[%s]:%lld" : "%s:%lld",
                 w->address, w->port);
        if (w->has_peer)
                snprintf(peer, sizeof peer, strchr(w->peer, ':') ? "[%s]:%lld" : "%s:%lld",
                         w->peer, w->peer_port);
        else
                snprintf(peer, sizeof peer, "*");
        return table_add(t, row);
}

/* {"listeners": [listener…], …} → the table, the same as print_table's. */
static int print_table_text(const char *text, size_t len) {
        static const char *const header[] = {"PROTO",   "STATE",   "LOCAL",   "PEER",
                                             "PROCESS", "SERVICE", "FINDINGS"};
        struct jpull j;
        struct jpull_tok k;
        struct table t;
        struct row w;
        bool seen = false;
        int r = table_init(&t, header, ELEMENTSOF(header));

        jpull_init(&j, text, len);
        if (r >= 0)
                r = jpull_next(&j, &k) < 0 || k.type != JP_OBJECT ? -EBADMSG : 0;
        while (r >= 0 && (r = pull_key(&j, &k)) > 0) {
                if (!jpull_is(&k, "listeners")) {
                        r = pull_skip(&j);
                        continue;
                }
                seen = true;
                r = jpull_next(&j, &k) < 0 || k.type != JP_ARRAY ? -EBADMSG : 0;
                while (r >= 0 && (r = jpull_next(&j, &k)) >= 0 && k.type != JP_END) {
                        r = k.type == JP_OBJECT ? pull_listener(&j, &w, 0) : -EBADMSG;
                        if (r >= 0)
                                r = add_row(&t, &w);
                }
        }
        if (r >= 0)
                r = jpull_next(&j, &k) < 0 || k.type != JP_EOF || !seen ? -EBADMSG : 0;
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        return r;
}

/* GET the listing and print the table from its text; a refusal as
 * cli_call reports it. */
static int list_table(struct cli *c, const char *target) {
        _cleanup_free_ char *resp = NULL;
        size_t resp_len = 0;
        int r;

        r = cli_get_raw(c, target, &resp, &resp_len);
        if (r < 0)
                return r;
        r = print_table_text(resp, resp_len);
        if (r == -EBADMSG)
                fprintf(stderr, "steward: %s: the answer to GET %s is not a listing\n", c->where,
                        target);
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
        if (npos == 0)
                return list_table(c, target);
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        r = print_port(answer);
        json_decref(answer);
        return r;
}
