/* client.c — the `steward` client's connection to one server, shared by
 * every verb: the credentials, the connection (cli_connect), one request
 * (cli_call, cli_request) and how a refusal or a transport failure is
 * reported.
 *
 * Credentials over TCP.  The token is, in this order: --token, --token-file,
 * $STEWARD_TOKEN, else the session `steward login` stored for the host.  The
 * pin is --fingerprint or $STEWARD_FINGERPRINT, else the host's line in
 * known_hosts; without either, the system's CAs and the host name decide.  A
 * stored session is sent only to a server pinned to the certificate it was
 * obtained from (or verified by a CA), never under a different
 * --fingerprint, and never once it has expired.  The token is never printed.
 *
 * A library file below the verbs: it calls no verb (steward.c and the verb
 * files call it).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jsonutil.h"
#include "sse.h"
#include "util.h"

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
        case HTTP_FAILURE_MALFORMED:
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
                        "steward: the session stored for %s has ended (it expired or was "
                        "ended, or its account is locked or has no Steward role now): log in "
                        "again with 'steward login %s'\n",
                        c->where, c->where);
                break;
        case TOKEN_OPTION:
                fprintf(stderr,
                        "steward: the access token is wrong, expired or revoked, or its "
                        "account is locked or has no Steward role now; check it, or log in with "
                        "'steward login %s'\n",
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
                const char *option = NULL;
                size_t i;
                json_t *o;

                json_array_foreach(c->field_options, i, o) {
                        const char *f = json_string_value(json_object_get(o, "field"));
                        if (f && STREQ(f, field) && !option)
                                option = json_string_value(json_object_get(o, "name"));
                }
                /* A part of an option's field ("nfs.clients[1]" of
                 * --nfs-client's "nfs.clients"). */
                json_array_foreach(c->field_options, i, o) {
                        const char *f = json_string_value(json_object_get(o, "field"));
                        size_t n = f ? strlen(f) : 0;
                        if (!option && n > 0 && strncmp(field, f, n) == 0 &&
                            (field[n] == '.' || field[n] == '['))
                                option = json_string_value(json_object_get(o, "name"));
                }
                fputs(option ? " (option --" : " (field: ", stderr);
                fputs_sanitized(option ? option : field, stderr);
                fputc(')', stderr);
        }
        /* Where to look instead, in the same sentence. */
        if (code && STREQ(code, "unknown_module"))
                fputs("; 'steward list' shows the modules", stderr);
        fputc('\n', stderr);

        /* A refusal on the local socket is the server's one sentence: it
         * says who may, or what role the request needed. */
        if (status == 401 && c->tcp && !c->logging_in)
                hint_unauthenticated(c);
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

int cli_get_raw(struct cli *c, const char *target, char **ret, size_t *ret_len) {
        json_t *answer;
        char *resp = NULL;
        size_t resp_len = 0;
        long status = 0;
        int r;

        r = http_request(c->http, "GET", target, NULL, 0, &status, &resp, &resp_len);
        if (r == -ECOMM || r == -EBADMSG) {
                cli_report_transport(c);
                return r;
        }
        if (r < 0)
                return r;
        if (status < 200 || status > 299) {
                answer = json_loadb(resp, resp_len, JSON_REJECT_DUPLICATES, NULL);
                free(resp);
                cli_report_refusal(c, status, answer);
                json_decref(answer);
                return -EREMOTEIO;
        }
        *ret = resp;
        *ret_len = resp_len;
        return (int)status;
}

int cli_get_json(struct cli *c, const char *target) {
        _cleanup_free_ char *resp = NULL;
        json_t *answer = NULL;
        size_t resp_len = 0;
        long status;
        int r;

        if (isatty(STDOUT_FILENO)) {
                r = cli_call(c, "GET", target, NULL, &answer);
                if (r >= 0)
                        r = print_json(answer);
                json_decref(answer);
                return r;
        }
        status = cli_get_raw(c, target, &resp, &resp_len);
        if (status < 0)
                return (int)status;
        if (resp_len > 0 && resp[0] == '{') {
                if (fwrite(resp, 1, resp_len, stdout) != resp_len || putchar('\n') == EOF)
                        return -EIO;
                return 0;
        }
        fprintf(stderr, "steward: %s: the answer to GET %s is not a JSON object (HTTP %ld)\n",
                c->where, target, status);
        return -EBADMSG;
}

/* ---- a streaming command's events ------------------------------------------------ */

#define STREAM_LINE_MAX ((size_t)1 << 20) /* one event's data: a result up to 1 MiB */

struct command_stream {
        struct sse_reader sse;
        json_t *last; /* the "result" or "error" event's data */
        bool last_is_error;
        int (*on_progress)(json_t *event, void *arg);
        void *arg;
};

/* One event: progress goes to the caller as it comes; the last is kept. */
static int command_stream_event(const char *event, const char *data, void *arg) {
        struct command_stream *s = arg;
        /* An event nested too deep is dropped before it is parsed (http.c
         * says why for whole answers). */
        json_t *v = json_scan_depth(data, strlen(data), ANSWER_DEPTH_MAX + 1) >
                                    (int)ANSWER_DEPTH_MAX
                            ? NULL
                            : json_loads(data, JSON_REJECT_DUPLICATES, NULL);
        int r = 0;

        if (!json_is_object(v) || s->last) {
                json_decref(v);
                return -EBADMSG;
        }
        if (STREQ(event, "progress"))
                r = s->on_progress(v, s->arg);
        else if (STREQ(event, "result") || STREQ(event, "error")) {
                s->last = json_incref(v);
                s->last_is_error = STREQ(event, "error");
        }
        json_decref(v);
        return r;
}

static int command_stream_data(const char *p, size_t n, void *arg) {
        struct command_stream *s = arg;
        return sse_reader_feed(&s->sse, p, n);
}

int cli_command_stream(struct cli *c, const char *module, const char *name, json_t *args,
                       int (*on_progress)(json_t *event, void *arg), void *arg, json_t **ret) {
        struct command_stream s = {.on_progress = on_progress, .arg = arg};
        _cleanup_free_ char *target = NULL, *req = NULL, *body = NULL;
        long status = 0;
        size_t len = 0;
        int r;

        req = args ? json_dumps(args, JSON_COMPACT) : strdup("{}");
        json_decref(args);
        if (!req || asprintf(&target, "/api/v1/modules/%s/commands/%s?stream=1", module, name) < 0)
                return -ENOMEM;
        sse_reader_init(&s.sse, STREAM_LINE_MAX, command_stream_event, &s);
        r = http_stream_request(c->http, "POST", target, req, strlen(req), command_stream_data,
                                &s, &status, &body, &len);
        sse_reader_free(&s.sse);
        if (r < 0 && !s.last) {
                /* The transport, or our own reader ending it (a malformed
                 * event; the caller's on_progress: it said why). */
                if (http_client_failure(c->http) != HTTP_FAILURE_NONE)
                        cli_report_transport(c);
                return r == -ECOMM ? r : -EBADMSG;
        }
        if (status < 200 || status > 299) {
                json_t *answer = json_loadb(body ? body : "", len, 0, NULL);
                cli_report_refusal(c, status, answer);
                json_decref(answer);
                return -EREMOTEIO;
        }
        if (!s.last) {
                fprintf(stderr, "steward: %s: the stream ended before the command did\n",
                        c->where);
                return -EBADMSG;
        }
        if (s.last_is_error) {
                cli_report_refusal(c, status, s.last);
                json_decref(s.last);
                return -EREMOTEIO;
        }
        *ret = s.last;
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
