/* steward.c — the `steward` command line client: options, the connection,
 * and the verbs that are one request each (list, status, fullstatus, start,
 * stop, restart).  `settings` and `command` live in settings.c, `login` and
 * `logout` in login.c, `token` in tokens.c, `sessions` in sessions.c,
 * `audit` in audit.c, `discover` in discover.c; any other word names a
 * collection (users, groups, …), whose verbs collections.c builds from the
 * schema the server publishes.
 *
 * Credentials over TCP.  The token is, in this order: --token, --token-file,
 * $STEWARD_TOKEN, else the session `steward login` stored for the host.  The
 * pin is --fingerprint or $STEWARD_FINGERPRINT, else the host's line in
 * known_hosts; without either, the system's CAs and the host name decide.  A
 * stored session is sent only to a server pinned to the certificate it was
 * obtained from (or verified by a CA), never under a different
 * --fingerprint, and never once it has expired.
 *
 * Everything that can be checked locally (options, names, argument shapes)
 * is checked before the first byte goes to the server, so a usage error
 * never depends on the network — except a collection's verbs, which are
 * known only from the schema the server publishes: they are checked after
 * that one read, before anything that changes something is sent.  Output follows serveradmin: text as
 * MODULE:KEY = VALUE lines (kv.h), which `settings` reads back; --json prints
 * the server's answers instead.  Text that comes from the server is
 * sanitised before it reaches a terminal; the token is never printed.
 *
 * Exit status: 0 success, 1 the server refused (or answered nonsense),
 * 2 usage error, 3 the server could not be reached or its certificate did not
 * verify / match the pin (see cli.h for how errors map to these).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli.h"
#include "kv.h"
#include "util.h"

static const char usage_text[] =
        "Usage: steward [OPTIONS] COMMAND [ARGUMENTS...]\n"
        "\n"
        "Administer a server through stewardd, on this machine (the local socket) or\n"
        "over the network (-H, TLS on port 660).\n"
        "\n"
        "Commands:\n"
        "  list                               modules and their state\n"
        "  status [MODULE]                    a module's status (no MODULE: like list)\n"
        "  status system --history cpu|mem|net|load [RANGE]\n"
        "                                     the chart of history for that series\n"
        "  fullstatus MODULE                  everything the module reports\n"
        "  settings MODULE[:KEY] ...          print settings as MODULE:KEY = VALUE lines\n"
        "  settings MODULE:KEY = VALUE ...    change settings (MODULE:KEY=VALUE works too)\n"
        "  settings [-]                       read MODULE:KEY = VALUE lines from stdin\n"
        "  settings --dry-run ...             show the changes as a diff, change nothing\n"
        "  command MODULE:NAME [ARG=VALUE ...]\n"
        "                                     run one of a module's commands\n"
        "  start|stop|restart MODULE          start, stop or restart a module's service\n"
        "  login [HOST[:PORT]] [--user NAME] [--yes]\n"
        "                                     log in to HOST (or -H) with a password and keep\n"
        "                                     the session; trusts the server's certificate on\n"
        "                                     first use, as ssh does (--yes: without asking)\n"
        "  logout [HOST[:PORT]]               end the stored session for HOST (or -H)\n"
        "  token create NAME [--role monitor|operator|admin] [--expires SECONDS]\n"
        "                                     create an API token (its secret is shown once)\n"
        "  token list                         the API tokens\n"
        "  token revoke ID                    revoke an API token\n"
        "  sessions [list] [--user NAME]      the live login sessions (an admin's: everyone's)\n"
        "  sessions end ID                    end a login session (one's own: a logout)\n"
        "  audit list [--module M] [--user U] [--limit N] [--all]\n"
        "                                     the audit log, newest first (--all: every page)\n"
        "  audit show ID                      one audit record, with the diffs of its files\n"
        "  audit verify                       check the audit log's hash chain\n"
        "  audit rollback ID [--dry-run]      restore the files a change modified\n"
        "  COLLECTION list [OPTIONS] [--all]  the items of a collection of the server\n"
        "  COLLECTION show|add|modify|delete NAME [OPTIONS] [--dry-run]\n"
        "                                     one item; the collections, their options and\n"
        "                                     their own verbs come from the server's schema\n"
        "                                     (steward COLLECTION VERB --help lists them)\n"
        "  discover [--timeout SECONDS] [--port N]\n"
        "                                     find stewardd servers on the local networks\n"
        "                                     (UDP broadcast; default 2 seconds, port 660)\n"
        "  history SERIES [RANGE] [--step SECONDS]\n"
        "                                     a chart of a metric over the last RANGE (90s,\n"
        "                                     15m, 1h: the default, up to 24h); series: cpu.busy,\n"
        "                                     mem.used, net.rx, … (GET /api/v1/metrics/series)\n"
        "\n"
        "Options (before the command):\n"
        "  -H, --host HOST[:PORT]             connect to HOST over TLS (default port 660);\n"
        "                                     IPv6 addresses as [ADDRESS]:PORT\n"
        "      --socket PATH                  the local socket (default " DEFAULT_SOCKET ")\n"
        "      --token TOKEN                  access token for -H (other users can see it in\n"
        "                                     ps: prefer --token-file or STEWARD_TOKEN)\n"
        "      --token-file FILE              read the access token from FILE\n"
        "      --fingerprint SHA256:HEX       trust only the server certificate with this\n"
        "                                     SHA-256 fingerprint\n"
        "                                     (after login, -H HOST alone uses the stored\n"
        "                                     session and the certificate pinned for HOST)\n"
        "      --json                         print the server's JSON answers\n"
        "  -h, --help                         show this help\n"
        "      --version                      show the version\n"
        "\n"
        "Environment: STEWARD_SOCKET, STEWARD_TOKEN, STEWARD_FINGERPRINT,\n"
        "STEWARD_ACCEPT_NEW=1 (login: trust a new server's certificate without asking).\n"
        "Files: ~/.config/steward/known_hosts and sessions ($XDG_CONFIG_HOME/steward).\n"
        "Exit status: 0 success, 1 the server refused, 2 usage error,\n"
        "3 no connection, or the server's certificate did not verify or has changed.\n"
        "See steward(1).\n";

int usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("steward: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'steward --help' for more information.\n", stderr);
        return -EINVAL;
}

bool valid_name(const char *s) {
        return kv_valid_component(s, strlen(s));
}

/* Length of the printable UTF-8 character at s, or 0 if s does not start
 * with one (invalid UTF-8, C0 or C1 control, DEL). */
static size_t printable_char(const unsigned char *s) {
        size_t len;

        if (s[0] >= 0x20 && s[0] < 0x7f)
                return 1;
        if (s[0] < 0xc2 || s[0] > 0xf4)
                return 0;
        len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
        for (size_t i = 1; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        if (s[0] == 0xc2 && s[1] < 0xa0) /* C1 controls */
                return 0;
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
            (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                return 0;
        return len;
}

void fputs_sanitized(const char *s, FILE *f) {
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                size_t len = printable_char(p);

                if (len > 0) {
                        fwrite(p, 1, len, f);
                        p += len;
                } else {
                        fputc(*p == '\n' || *p == '\t' ? ' ' : '?', f);
                        p++;
                }
        }
}

int cli_delete_id(struct cli *c, int argc, char **argv, const char *usage, const char *what,
                  const char *collection, const char *done) {
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL;
        int r;

        if (argc != 1)
                return usage_error("usage: %s", usage);
        if (!valid_name(argv[0]))
                return usage_error("invalid %s id \"%s\"", what, argv[0]);
        if (asprintf(&target, "%s/%s", collection, argv[0]) < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "DELETE", target, NULL, &answer);
        if (r < 0)
                return r;
        if (c->json)
                r = print_json(answer);
        else
                printf("%c%s %s %s.\n", toupper((unsigned char)what[0]), what + 1, argv[0], done);
        json_decref(answer);
        return r;
}

int print_json(json_t *v) {
        _cleanup_free_ char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

        if (!s)
                return -ENOMEM;
        fputs(s, stdout);
        fputc('\n', stdout);
        return 0;
}

int print_json_answers(json_t *answers) {
        if (json_array_size(answers) == 1)
                return print_json(json_array_get(answers, 0));
        return print_json(answers);
}

int print_kv(const char *prefix, json_t *v) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = kv_format(prefix, v, &text);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fprintf(stderr,
                        "steward: this answer cannot be written as %s:KEY = VALUE lines, "
                        "printing it as JSON\n",
                        prefix);
                return print_json(v);
        }
        fputs(text, stdout);
        return 0;
}

void cli_report_transport(struct cli *c) {
        const char *error = http_client_error(c->http);
        char fp[FINGERPRINT_STRLEN];
        bool seen = http_client_peer_fingerprint(c->http, fp);

        switch (http_client_failure(c->http)) {
        case HTTP_FAILURE_PIN:
                if (c->pin_source == PIN_KNOWN_HOSTS) {
                        report_changed_certificate(c, seen ? fp : NULL);
                        break;
                }
                fprintf(stderr, "steward: %s: ", c->where);
                fputs_sanitized(error, stderr);
                fputc('\n', stderr);
                if (seen)
                        fprintf(stderr, "steward: the server presented %s\n", fp);
                fputs("steward: nothing was sent.  If the server's certificate was replaced on "
                      "purpose,\n"
                      "         read its new fingerprint on the server and pin that one.\n",
                      stderr);
                break;

        case HTTP_FAILURE_CERTIFICATE:
                fprintf(stderr, "steward: %s: cannot verify the server's certificate: ", c->where);
                fputs_sanitized(error, stderr);
                fputc('\n', stderr);
                if (seen)
                        fprintf(stderr,
                                "steward: its SHA-256 fingerprint is %s\n"
                                "steward: if that is the fingerprint stewardd logged when it "
                                "created its certificate\n"
                                "         (check on the server, not from this output alone), pin "
                                "it:\n"
                                "    steward -H %s --fingerprint %s COMMAND ...\n"
                                "steward: or log in, which asks to trust it and remembers it:\n"
                                "    steward login %s\n",
                                fp, c->where, fp, c->where);
                else
                        fputs("steward: to trust the server's own certificate, read its "
                              "fingerprint on the server\n"
                              "         (stewardd logs it when it creates the certificate) and "
                              "pass it with\n"
                              "         --fingerprint SHA256:HEX\n",
                              stderr);
                break;

        case HTTP_FAILURE_TOO_BIG:
                fprintf(stderr, "steward: %s: %s\n", c->where, error);
                break;

        case HTTP_FAILURE_TLS:
                fprintf(stderr, "steward: %s: TLS failed: ", c->where);
                fputs_sanitized(error, stderr);
                fputc('\n', stderr);
                break;

        default:
                fprintf(stderr, "steward: cannot connect to %s: ", c->where);
                fputs_sanitized(error, stderr);
                fputc('\n', stderr);
                if (!c->tcp)
                        fputs("steward: is stewardd running?  (Use -H HOST to reach another "
                              "machine.)\n",
                              stderr);
                break;
        }
}

void report_changed_certificate(const struct cli *c, const char *presented) {
        static const char bar[] =
                "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
        _cleanup_free_ char *file = NULL;
        char recorded[FINGERPRINT_STRLEN];

        (void)store_display_path("known_hosts", &file);
        fingerprint_format(c->known_pin, recorded);
        fputs(bar, stderr);
        fprintf(stderr, "@    WARNING: THE CERTIFICATE OF %s HAS CHANGED!\n", c->where);
        fputs(bar, stderr);
        fprintf(stderr,
                "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n"
                "It is also possible that the server's certificate was just replaced.\n"
                "The certificate recorded for %s is %s,\n"
                "the server presented %s.\n"
                "Nothing was sent to the server.\n"
                "Remove the line %u of %s if you trust the new certificate (%s);\n"
                "check its fingerprint on the server first (stewardd logs it when it creates "
                "its certificate).\n",
                c->where, recorded, presented ? presented : "another one", c->known_line,
                file ? file : "~/.config/steward/known_hosts", presented ? presented : "see above");
}

static void hint_unauthenticated(struct cli *c) {
        char when[64];

        switch (c->token_source) {
        case TOKEN_SESSION:
                fprintf(stderr,
                        "steward: the session stored for %s has ended: log in again with "
                        "'steward login %s'\n",
                        c->where, c->where);
                break;
        case TOKEN_OPTION:
                fprintf(stderr,
                        "steward: check the access token, or log in with 'steward login %s'\n",
                        c->where);
                break;
        default:
                if (c->session_expired_at > 0) {
                        json_t *t = json_integer(c->session_expired_at);

                        format_time(t, "?", when);
                        json_decref(t);
                        fprintf(stderr,
                                "steward: the session stored for %s expired at %s: log in again "
                                "with 'steward login %s'\n",
                                c->where, when, c->where);
                } else
                        fprintf(stderr,
                                "steward: log in with 'steward login %s', or give an access token "
                                "with --token-file FILE or STEWARD_TOKEN\n",
                                c->where);
                break;
        }
}

static void report_refusal(struct cli *c, long status, json_t *answer) {
        json_t *err = json_object_get(answer, "error");
        const char *message = json_string_value(json_object_get(err, "message"));
        const char *field = json_string_value(json_object_get(err, "field"));
        const char *code = json_string_value(json_object_get(err, "code"));

        fputs("steward: ", stderr);
        if (message && message[0])
                fputs_sanitized(message, stderr);
        else {
                fprintf(stderr, "the server refused the request (HTTP %ld", status);
                if (code) {
                        fputc(' ', stderr);
                        fputs_sanitized(code, stderr);
                }
                fputc(')', stderr);
        }
        if (field && field[0]) {
                fputs(" (field: ", stderr);
                fputs_sanitized(field, stderr);
                fputc(')', stderr);
        }
        fputc('\n', stderr);

        if (status == 401 && c->tcp && !c->logging_in)
                hint_unauthenticated(c);
        else if (status == 403 && !c->tcp)
                fputs("steward: on the local socket only root is admitted\n", stderr);
}

void cli_report_refusal(struct cli *c, long status, json_t *answer) {
        if (answer && c->json)
                (void)print_json(answer);
        report_refusal(c, status, answer);
}

int cli_request(struct cli *c, const char *method, const char *target, const char *body,
                size_t body_len, json_t **ret, long *ret_status, json_t **ret_error) {
        char *resp = NULL;
        size_t resp_len = 0;
        json_error_t jerr;
        json_t *answer;
        long status = 0;
        int r;

        r = http_request(c->http, method, target, body, body_len, &status, &resp, &resp_len);
        if (r == -ECOMM || r == -EBADMSG) {
                cli_report_transport(c);
                return r;
        }
        if (r < 0)
                return r;

        answer = json_loadb(resp, resp_len, JSON_REJECT_DUPLICATES, &jerr);
        explicit_bzero(resp, resp_len);
        free(resp);

        if (status < 200 || status > 299) {
                if (ret_error) {
                        *ret_error = answer;
                        if (ret_status)
                                *ret_status = status;
                        return -EREMOTEIO;
                }
                cli_report_refusal(c, status, answer);
                json_decref(answer);
                return -EREMOTEIO;
        }
        if (!json_is_object(answer)) {
                fprintf(stderr,
                        "steward: %s: the answer to %s %s is not a JSON object (HTTP %ld)\n",
                        c->where, method, target, status);
                json_decref(answer);
                return -EBADMSG;
        }
        *ret = answer;
        if (ret_status)
                *ret_status = status;
        return 0;
}

int cli_call(struct cli *c, const char *method, const char *target, json_t *body, json_t **ret) {
        _cleanup_free_ char *req = NULL;

        if (body) {
                req = json_dumps(body, JSON_COMPACT);
                if (!req)
                        return -ENOMEM;
        }
        return cli_request(c, method, target, req, req ? strlen(req) : 0, ret, NULL, NULL);
}

size_t print_file_diffs(json_t *files) {
        size_t i, printed = 0;
        json_t *f;

        json_array_foreach(files, i, f) {
                const char *diff = json_string_value(json_object_get(f, "diff"));

                if (!diff || !diff[0])
                        continue;
                /* A diff is file content: printed as is, like diff(1) does. */
                fputs(diff, stdout);
                if (diff[strlen(diff) - 1] != '\n')
                        fputc('\n', stdout);
                printed++;
        }
        return printed;
}

void print_warnings(json_t *answer) {
        json_t *w;
        size_t i;

        json_array_foreach(json_object_get(answer, "warnings"), i, w) {
                fputs("steward: warning: ", stderr);
                fputs_sanitized(json_string_value(w) ?: "?", stderr);
                fputc('\n', stderr);
        }
}

int parse_verb_args(const char *synopsis, int argc, char **argv, const struct verb_option *opts,
                    size_t n_opts, char **pos, size_t max_pos, size_t *ret_npos) {
        bool operands_only = false;
        size_t npos = 0;

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *value = NULL;
                const struct verb_option *o = NULL;

                if (operands_only || a[0] != '-' || STREQ(a, "-")) {
                        if (npos >= max_pos)
                                return usage_error("usage: steward %s", synopsis);
                        pos[npos++] = argv[i];
                        continue;
                }
                if (STREQ(a, "--")) {
                        operands_only = true;
                        continue;
                }
                if (a[1] == '-') {
                        const char *eq = strchr(a + 2, '=');
                        size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

                        for (size_t k = 0; k < n_opts && !o; k++)
                                if (strlen(opts[k].name) == n &&
                                    strncmp(opts[k].name, a + 2, n) == 0)
                                        o = &opts[k];
                        if (eq)
                                value = eq + 1;
                } else if (a[2] == '\0') {
                        for (size_t k = 0; k < n_opts && !o; k++)
                                if (opts[k].short_name && opts[k].short_name == a[1])
                                        o = &opts[k];
                }
                if (!o)
                        return usage_error("unknown option %s (usage: steward %s)", a, synopsis);

                if (o->ret_flag) {
                        if (value)
                                return usage_error("option --%s takes no value", o->name);
                        *o->ret_flag = true;
                        continue;
                }
                if (!value) {
                        if (i + 1 >= argc)
                                return usage_error("option %s needs a value", a);
                        value = argv[++i];
                }
                *o->ret_value = value;
        }
        *ret_npos = npos;
        return 0;
}

int table_init(struct table *t, const char *const *header, size_t ncols) {
        *t = (struct table){.ncols = ncols};
        return table_add(t, header);
}

int table_add(struct table *t, const char *const *row) {
        size_t need;

        if (t->nrows == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 16;
                char **cells;

                if (__builtin_mul_overflow(cap, t->ncols, &need) || need > SIZE_MAX / sizeof *cells)
                        return -ENOMEM;
                cells = realloc(t->cells, need * sizeof *cells);
                if (!cells)
                        return -ENOMEM;
                t->cells = cells;
                t->cap = cap;
        }
        for (size_t k = 0; k < t->ncols; k++) {
                char *cell = strdup(row[k] ? row[k] : "");

                if (!cell) {
                        for (size_t j = 0; j < k; j++)
                                free(t->cells[t->nrows * t->ncols + j]);
                        return -ENOMEM;
                }
                t->cells[t->nrows * t->ncols + k] = cell;
        }
        t->nrows++;
        return 0;
}

/* Characters (UTF-8 sequences) in s, for alignment. */
static size_t display_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        n++;
        return n;
}

#define TABLE_COLUMN_MAX 40

int table_print(const struct table *t) {
        _cleanup_free_ size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);

        if (!width)
                return -ENOMEM;
        for (size_t i = 0; i < t->nrows; i++)
                for (size_t k = 0; k < t->ncols; k++) {
                        size_t w = display_width(t->cells[i * t->ncols + k]);

                        if (w > width[k])
                                width[k] = w < TABLE_COLUMN_MAX ? w : TABLE_COLUMN_MAX;
                }
        for (size_t i = 0; i < t->nrows; i++) {
                for (size_t k = 0; k < t->ncols; k++) {
                        const char *cell = t->cells[i * t->ncols + k];

                        fputs_sanitized(cell, stdout);
                        if (k + 1 == t->ncols)
                                break;
                        for (size_t w = display_width(cell); w < width[k] + 2; w++)
                                fputc(' ', stdout);
                        if (display_width(cell) >= width[k] + 2)
                                fputc(' ', stdout);
                }
                fputc('\n', stdout);
        }
        return 0;
}

void table_free(struct table *t) {
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        *t = (struct table){};
}

/* Copies s into dst (cap bytes), cut on a character boundary. */
static void copy_text(const char *s, char *dst, size_t cap) {
        size_t n = strlen(s);

        if (n >= cap) {
                n = cap - 1;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(dst, s, n);
        dst[n] = '\0';
}

void format_time(json_t *v, const char *none_text, char dst[64]) {
        struct tm tm;
        time_t t;

        if (json_is_string(v)) {
                copy_text(json_string_value(v), dst, 64);
                return;
        }
        if (json_is_integer(v))
                t = (time_t)json_integer_value(v);
        else if (json_is_real(v))
                t = (time_t)json_real_value(v);
        else
                t = 0;
        if (t <= 0 || !localtime_r(&t, &tm) || strftime(dst, 64, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                copy_text(none_text, dst, 64);
}

void format_cell(json_t *v, char dst[128]) {
        if (json_is_string(v))
                copy_text(json_string_value(v), dst, 128);
        else if (json_is_integer(v))
                (void)snprintf(dst, 128, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                (void)snprintf(dst, 128, "%g", json_real_value(v));
        else if (json_is_boolean(v))
                copy_text(json_is_true(v) ? "yes" : "no", dst, 128);
        else
                dst[0] = '\0';
}

static int verb_list(struct cli *c, int argc, char **argv) {
        json_t *answer = NULL, *modules, *m;
        size_t i, name_w = 4, state_w = 5;
        int r;

        r = cli_call(c, "GET", "/api/v1/modules", NULL, &answer);
        if (r < 0)
                return r;
        if (c->json) {
                r = print_json(answer);
                json_decref(answer);
                return r;
        }

        modules = json_object_get(answer, "modules");
        if (!json_is_array(modules)) {
                fprintf(stderr, "steward: %s: malformed answer: no \"modules\" list\n", c->where);
                json_decref(answer);
                return -EBADMSG;
        }

        json_array_foreach(modules, i, m) {
                const char *name = json_string_value(json_object_get(m, "name"));
                const char *state = json_string_value(json_object_get(m, "state"));

                if (name && strlen(name) > name_w)
                        name_w = strlen(name) < 32 ? strlen(name) : 32;
                if (state && strlen(state) > state_w)
                        state_w = strlen(state) < 16 ? strlen(state) : 16;
        }

        printf("%-*s  %-*s  %s\n", (int)name_w, "NAME", (int)state_w, "STATE", "SUMMARY");
        json_array_foreach(modules, i, m) {
                const char *name = json_string_value(json_object_get(m, "name"));
                const char *state = json_string_value(json_object_get(m, "state"));
                const char *summary = json_string_value(json_object_get(m, "summary"));
                size_t n;

                name = name ? name : "-";
                state = state ? state : "-";
                fputs_sanitized(name, stdout);
                for (n = strlen(name); n < name_w + 2; n++)
                        fputc(' ', stdout);
                fputs_sanitized(state, stdout);
                for (n = strlen(state); n < state_w + 2; n++)
                        fputc(' ', stdout);
                fputs_sanitized(summary ? summary : "", stdout);
                fputc('\n', stdout);
        }
        json_decref(answer);
        return 0;
}

static int check_module(const char *m) {
        if (!valid_name(m))
                return usage_error("invalid module name \"%s\"", m);
        return 0;
}

static int show_module(struct cli *c, const char *module, bool full) {
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL;
        int r;

        r = check_module(module);
        if (r < 0)
                return r;
        if (asprintf(&target, "/api/v1/modules/%s%s", module, full ? "?full=1" : "") < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer) : print_kv(module, answer);
        json_decref(answer);
        return r;
}

/* `status system --history cpu|mem|net|load [RANGE]`: the chart of
 * `history` for the series most asked about. */
static int status_history(struct cli *c, int argc, char **argv) {
        static const struct {
                const char *alias, *series;
        } aliases[] = {
                {"cpu", "cpu.busy"},
                {"mem", "mem.used"},
                {"net", "net.rx"},
                {"load", "load.1"},
        };

        if (argc < 3 || argc > 4 || !STREQ(argv[0], "system") || !STREQ(argv[1], "--history"))
                return usage_error("status [MODULE] | status system --history cpu|mem|net|load "
                                   "[RANGE]");
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (STREQ(argv[2], aliases[i].alias))
                        return history_show(c, aliases[i].series, argc > 3 ? argv[3] : NULL, NULL);
        return usage_error("--history takes cpu, mem, net or load, not \"%s\"", argv[2]);
}

static int verb_status(struct cli *c, int argc, char **argv) {
        if (argc == 0)
                return verb_list(c, argc, argv);
        if (argc > 1)
                return status_history(c, argc, argv);
        return show_module(c, argv[0], false);
}

static int verb_fullstatus(struct cli *c, int argc, char **argv) {
        return show_module(c, argv[0], true);
}

static int verb_action(struct cli *c, const char *action, const char *module) {
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL;
        int r;

        r = check_module(module);
        if (r < 0)
                return r;
        if (asprintf(&target, "/api/v1/modules/%s/%s", module, action) < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "POST", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer) : print_kv(module, answer);
        json_decref(answer);
        return r;
}

static int verb_start(struct cli *c, int argc, char **argv) {
        return verb_action(c, "start", argv[0]);
}

static int verb_stop(struct cli *c, int argc, char **argv) {
        return verb_action(c, "stop", argv[0]);
}

static int verb_restart(struct cli *c, int argc, char **argv) {
        return verb_action(c, "restart", argv[0]);
}

static const struct verb {
        const char *name;
        int min_args, max_args; /* max -1: any number */
        int (*run)(struct cli *c, int argc, char **argv);
        const char *synopsis;
        bool own_connection; /* the verb calls cli_connect() itself */
} verbs[] = {
        {"list", 0, 0, verb_list, "list"},
        {"status", 0, 4, verb_status,
         "status [MODULE] | status system --history cpu|mem|net|load [RANGE]"},
        {"fullstatus", 1, 1, verb_fullstatus, "fullstatus MODULE"},
        {"settings", 0, -1, verb_settings, "settings MODULE[:KEY]... | MODULE:KEY = VALUE... | -"},
        {"command", 1, -1, verb_command, "command MODULE:NAME [ARG=VALUE...]"},
        {"start", 1, 1, verb_start, "start MODULE"},
        {"stop", 1, 1, verb_stop, "stop MODULE"},
        {"restart", 1, 1, verb_restart, "restart MODULE"},
        {"login", 0, -1, verb_login, "login [HOST[:PORT]] [--user NAME] [--yes]", true},
        {"logout", 0, 1, verb_logout, "logout [HOST[:PORT]]", true},
        {"token", 1, -1, verb_token, "token create|list|revoke ..."},
        {"sessions", 0, -1, verb_sessions, "sessions [list] [--user NAME] | sessions end ID"},
        {"audit", 1, -1, verb_audit, "audit list|show|verify|rollback ..."},
        {"discover", 0, -1, verb_discover, "discover [--timeout SECONDS] [--port N]", true},
        {"ports", 0, -1, verb_ports, "ports [PORT] [--all]"},
        {"history", 1, -1, verb_history, "history SERIES [RANGE] [--step SECONDS]"},
};

enum {
        OPT_SOCKET = 0x100,
        OPT_TOKEN,
        OPT_TOKEN_FILE,
        OPT_FINGERPRINT,
        OPT_JSON,
        OPT_VERSION,
};

/* Returns 1 to go on, 0 when done (--help, --version), -EINVAL on error. */
static int parse_argv(int argc, char **argv, struct cli_options *o) {
        static const struct option longopts[] = {
                {"host", required_argument, NULL, 'H'},
                {"socket", required_argument, NULL, OPT_SOCKET},
                {"token", required_argument, NULL, OPT_TOKEN},
                {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
                {"fingerprint", required_argument, NULL, OPT_FINGERPRINT},
                {"json", no_argument, NULL, OPT_JSON},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {},
        };
        int opt;

        opterr = 0;
        /* '+': options end at the command, so VALUEs such as -1 stay arguments. */
        while ((opt = getopt_long(argc, argv, "+:H:h", longopts, NULL)) >= 0) {
                switch (opt) {
                case 'H':
                        o->host_arg = optarg;
                        break;
                case OPT_SOCKET:
                        o->socket_path = optarg;
                        break;
                case OPT_TOKEN:
                        o->token_arg = optarg;
                        break;
                case OPT_TOKEN_FILE:
                        o->token_file = optarg;
                        break;
                case OPT_FINGERPRINT:
                        o->fingerprint = optarg;
                        break;
                case OPT_JSON:
                        o->json = true;
                        break;
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                case OPT_VERSION:
                        puts("steward " STEWARD_VERSION);
                        return 0;
                case ':':
                        return usage_error("option %s needs an argument", argv[optind - 1]);
                default:
                        if (optopt)
                                return usage_error("unknown option -%c", optopt);
                        return usage_error("unknown option %s", argv[optind - 1]);
                }
        }
        return 1;
}

/* Splits HOST[:PORT] / [IPV6]:PORT / bare IPv6.  *ret_host is malloc'ed,
 * without brackets. */
static int parse_host(const char *arg, char **ret_host, unsigned *ret_port) {
        _cleanup_free_ char *host = NULL;
        const char *port_s = NULL, *colon;
        unsigned port = DEFAULT_PORT;
        bool v6 = false;

        if (strchr(arg, ','))
                return usage_error("-H takes one host (several hosts are not supported yet)");

        if (arg[0] == '[') {
                const char *end = strchr(arg, ']');

                if (!end || (end[1] != '\0' && end[1] != ':'))
                        return usage_error("invalid host \"%s\" (IPv6 as [ADDRESS]:PORT)", arg);
                host = strndup(arg + 1, (size_t)(end - arg - 1));
                if (end[1] == ':')
                        port_s = end + 2;
                v6 = true;
        } else if ((colon = strchr(arg, ':')) && !strchr(colon + 1, ':')) {
                host = strndup(arg, (size_t)(colon - arg));
                port_s = colon + 1;
        } else {
                host = strdup(arg);
                v6 = colon != NULL;
        }
        if (!host)
                return -ENOMEM;

        if (host[0] == '\0' || strlen(host) > 253)
                return usage_error("invalid host \"%s\"", arg);
        for (const char *p = host; *p; p++) {
                bool ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                          (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.';

                if (!v6)
                        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9') || *p == '.' || *p == '-';
                if (!ok)
                        return usage_error("invalid host \"%s\"", arg);
        }
        if (v6 && !strchr(host, ':'))
                return usage_error("invalid IPv6 address \"%s\"", arg);

        if (port_s && (safe_atou(port_s, &port) < 0 || port == 0 || port > 65535))
                return usage_error("invalid port in \"%s\"", arg);

        /* One spelling per host, for known_hosts and sessions. */
        for (char *p = host; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');

        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        return 0;
}

static int check_token(const char *t, const char *origin) {
        size_t n = strlen(t);

        if (n == 0 || n > TOKEN_MAX)
                return usage_error("the token from %s is empty or too long", origin);
        if (!token_chars_ok(t))
                return usage_error("the token from %s contains invalid characters", origin);
        return 0;
}

/* Finds the token: --token, --token-file, then $STEWARD_TOKEN.  *ret is
 * malloc'ed (the caller wipes it) or NULL when there is none. */
static int load_token(const struct cli_options *o, char **ret) {
        _cleanup_free_ char *t = NULL;
        const char *env = getenv("STEWARD_TOKEN");
        const char *origin;
        size_t len = 0;
        int r;

        if (o->token_arg && o->token_file)
                return usage_error("--token and --token-file exclude each other");

        if (o->token_file) {
                r = read_file(o->token_file, TOKEN_MAX + 2, &t, &len);
                if (r < 0) {
                        fprintf(stderr, "steward: cannot read the token file %s: %s\n",
                                o->token_file, strerror(r == -EFBIG ? E2BIG : -r));
                        return -EINVAL;
                }
                while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
                        t[--len] = '\0';
                if (memchr(t, '\0', len)) {
                        explicit_bzero(t, len);
                        return usage_error("the token file %s is not text", o->token_file);
                }
                origin = o->token_file;
        } else if (o->token_arg || (env && env[0])) {
                t = strdup(o->token_arg ? o->token_arg : env);
                if (!t)
                        return -ENOMEM;
                origin = o->token_arg ? "--token" : "STEWARD_TOKEN";
        } else {
                *ret = NULL;
                return 0;
        }

        r = check_token(t, origin);
        if (r < 0) {
                explicit_bzero(t, strlen(t));
                return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

static int exit_status(int r) {
        if (r >= 0)
                return EXIT_SUCCESS;
        if (r == -EINVAL)
                return EXIT_USAGE;
        if (r == -ECOMM)
                return EXIT_UNREACHABLE;
        return EXIT_REFUSED;
}

static void free_token(char *t) {
        if (!t)
                return;
        explicit_bzero(t, strlen(t));
        free(t);
}

/* The stored session for c->where, if it may be sent to this server. */
static int stored_session(struct cli *c, const struct http_config *cfg, char **ret) {
        char *token = NULL;
        int64_t expires_at = 0;
        int r;

        r = session_find(c->where, &token, &expires_at);
        if (r < 0 || !token)
                return r;

        if (expires_at > 0 && expires_at <= (int64_t)time(NULL)) {
                c->session_expired_at = expires_at;
                free_token(token);
                return 0;
        }
        if (c->pin_source == PIN_OPTION &&
            !(c->known && memeq_consttime(cfg->pin, c->known_pin, sizeof c->known_pin))) {
                fprintf(stderr,
                        "steward: not sending the session stored for %s: --fingerprint is not "
                        "the certificate it was made with\n",
                        c->where);
                c->session_withheld = true;
                free_token(token);
                return 0;
        }
        *ret = token;
        return 0;
}

int cli_connect(struct cli *c, const char *host_arg, unsigned flags) {
        const struct cli_options *o = c->opts;
        struct http_config cfg = {};
        _cleanup_free_ char *host = NULL;
        char *token = NULL;
        const char *fp;
        int r;

        if (!host_arg) {
                cfg.socket_path = o->socket_path ? o->socket_path : getenv("STEWARD_SOCKET");
                if (!cfg.socket_path || !cfg.socket_path[0])
                        cfg.socket_path = DEFAULT_SOCKET;
                c->where = strdup(cfg.socket_path);
                if (!c->where)
                        return -ENOMEM;
                c->tcp = false;
                return http_client_new(&cfg, &c->http);
        }

        if (o->socket_path)
                return usage_error("a host and --socket exclude each other");
        r = parse_host(host_arg, &host, &cfg.port);
        if (r < 0)
                return r;
        cfg.host = host;
        if (asprintf(&c->where, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, cfg.port) < 0) {
                c->where = NULL;
                return -ENOMEM;
        }
        c->tcp = true;

        fp = o->fingerprint ? o->fingerprint : getenv("STEWARD_FINGERPRINT");
        if (fp && fp[0]) {
                if (fingerprint_parse(fp, cfg.pin) < 0)
                        return usage_error("invalid fingerprint \"%s\" (expected SHA256: "
                                           "and 64 hex digits)",
                                           fp);
                cfg.have_pin = true;
                c->pin_source = PIN_OPTION;
        }

        if (!(flags & (CONNECT_NO_TOKEN | CONNECT_SESSION_ONLY))) {
                r = load_token(o, &token);
                if (r < 0)
                        return r;
                if (token)
                        c->token_source = TOKEN_OPTION;
        }

        /* With both a pin and a token given, the stored files have no say. */
        if (!(cfg.have_pin && token)) {
                r = known_hosts_find(c->where, &c->known, c->known_pin, &c->known_line);
                if (r < 0)
                        goto out;
        }
        if (!cfg.have_pin && c->known) {
                memcpy(cfg.pin, c->known_pin, sizeof cfg.pin);
                cfg.have_pin = true;
                c->pin_source = PIN_KNOWN_HOSTS;
        }

        if (!token && !(flags & CONNECT_NO_TOKEN)) {
                r = stored_session(c, &cfg, &token);
                if (r < 0)
                        goto out;
                if (token)
                        c->token_source = TOKEN_SESSION;
        }

        memcpy(c->pin, cfg.pin, sizeof c->pin);
        cfg.token = token;
        r = http_client_new(&cfg, &c->http);
out:
        free_token(token);
        return r;
}

void cli_disconnect(struct cli *c) {
        http_client_free(c->http);
        c->http = NULL;
        free(c->where);
        c->where = NULL;
}

static int run(int argc, char **argv) {
        struct cli_options o = {};
        struct cli c = {};
        const struct verb *verb = NULL;
        int nargs, r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r;

        if (optind >= argc)
                return usage_error("missing command");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (STREQ(verbs[i].name, argv[optind]))
                        verb = &verbs[i];
        /* Any other word names a collection the server may have
         * (collections.c). */
        nargs = argc - optind - 1;
        if (verb && (nargs < verb->min_args || (verb->max_args >= 0 && nargs > verb->max_args)))
                return usage_error("usage: steward %s", verb->synopsis);
        if (o.host_arg && o.socket_path)
                return usage_error("-H and --socket exclude each other");

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fputs("steward: cannot initialise libcurl\n", stderr);
                r = -ENOMEM;
                goto out;
        }

        c.opts = &o;
        c.json = o.json;
        if (!verb || !verb->own_connection)
                r = cli_connect(&c, o.host_arg, 0);
        if (r >= 0)
                r = verb ? verb->run(&c, nargs, argv + optind + 1)
                         : cli_collection(&c, argv[optind], nargs, argv + optind + 1);
        cli_disconnect(&c);

        curl_global_cleanup();
out:
        if (r == -ENOMEM)
                fputs("steward: out of memory\n", stderr);
        return r;
}

int main(int argc, char **argv) {
        int r = run(argc, argv);

        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "steward: cannot write the output: %s\n", strerror(errno));
                if (r >= 0)
                        r = -EIO;
        }
        return exit_status(r);
}
