/* cli.h — the parts of the `steward` client shared by its files.
 *
 * steward.c parses the command line and dispatches to the verbs, running
 * the simple ones itself; client.c opens the connection and makes the
 * requests; output.c prints (tables, kv lines, JSON) and parses verb
 * options — both are below every verb and call none; settings.c runs
 * `settings` and `command`; login.c runs `login` and `logout` (trust on
 * first use, password prompts); tokens.c and audit.c run `token` and
 * `audit`; discover.c runs `discover` (UDP, no connection to a server);
 * store.c keeps the files under ~/.config/steward (known_hosts, sessions,
 * hosts, discovered); fanout.c runs one command on many hosts (-H a,b,@group,
 * whose lists hosts.c expands);
 * http.c is the transport
 * (libcurl, with the certificate pinning done inside the TLS handshake).
 *
 * Errors: functions return 0 or a negative errno and print their own message
 * (once, where the cause is known).  Only a few errno values leave a verb,
 * because main() turns them into the exit status:
 *   -EINVAL     a usage error: bad arguments or bad input text  → exit 2
 *   -ECOMM      the server could not be reached, TLS failed, the
 *               certificate did not verify or did not match the pin → exit 3
 *   anything else (-EREMOTEIO: the server refused; -EBADMSG: a
 *               malformed answer; -ENOMEM, -EIO …)               → exit 1
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_REFUSED     1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3

#define RESPONSE_MAX      ((size_t)64 * 1024 * 1024)
/* In a fan-out: the cap of one answer, and of all the answers being
 * received at once (--parallel hosts must not make the client hold GBs). */
#define FANOUT_ANSWER_MAX ((size_t)16 * 1024 * 1024)
#define FANOUT_HELD_MAX   ((size_t)256 * 1024 * 1024)
/* A server's answer nested deeper than this is refused before it is parsed
 * (jansson recurses once per level). */
#define ANSWER_DEPTH_MAX  64u
#define STDIN_MAX         ((size_t)16 * 1024 * 1024)
#define TOKEN_MAX         4096
#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S   60L
#define STREAM_SILENCE_S  60L /* an event stream with no byte for this long is dead */

#define DEFAULT_SOCKET "/run/steward/stewardd.sock"
#define DEFAULT_PORT   660

/* "SHA256:" + 64 hex digits + NUL */
#define FINGERPRINT_STRLEN (7 + 64 + 1)

/* --- http.c --- */

struct http_config {
        const char *socket_path; /* plain HTTP over this unix socket, or … */
        const char *host;        /* … HTTPS to host:port (an IPv6 literal without brackets) */
        unsigned port;
        const char *token; /* bearer token, sent only over HTTPS; may be NULL */
        bool have_pin;
        uint8_t pin[32]; /* SHA-256 of the server certificate's DER */
};

enum http_failure {
        HTTP_FAILURE_NONE,
        HTTP_FAILURE_CONNECT,     /* no connection, timeout, broken transfer */
        HTTP_FAILURE_TLS,         /* TLS failed for a reason other than the certificate */
        HTTP_FAILURE_CERTIFICATE, /* CA/host name verification failed (no pin given) */
        HTTP_FAILURE_PIN,         /* the certificate does not match the pin */
        HTTP_FAILURE_TOO_BIG,     /* the answer is over RESPONSE_MAX */
        HTTP_FAILURE_MALFORMED,   /* the answer is nested too deep to be parsed */
};

struct http_client;

int http_client_new(const struct http_config *cfg, struct http_client **ret);
void http_client_free(struct http_client *c);

/* Pins the server to this certificate from now on (HTTPS only). */
void http_client_set_pin(struct http_client *c, const uint8_t pin[32]);

/* Learns the server's certificate without trusting it: a TLS handshake whose
 * certificate check records the fingerprint and then fails on purpose, so
 * the handshake never completes and nothing is sent.  Returns 0 when a
 * certificate was seen (read it with http_client_peer_fingerprint()), or
 * -ECOMM with http_client_failure()/http_client_error() set. */
int http_probe(struct http_client *c);

/* Sends one request.  target is the path and query ("/api/v1/modules").
 * body may be NULL (no body).  On any HTTP answer returns 0 with the status
 * and the body (malloc'ed, NUL-terminated).  On a transport failure returns
 * -ECOMM (or -EBADMSG for an answer over the size limit); then
 * http_client_failure() and http_client_error() say what happened. */
int http_request(struct http_client *c, const char *method, const char *target, const char *body,
                 size_t body_len, long *ret_status, char **ret_body, size_t *ret_len);

/* A GET whose 2xx answer is a stream (Server-Sent Events): its bytes go to
 * on_data as they arrive, until the server ends it, the connection stays
 * silent for STREAM_SILENCE_S, or on_data returns < 0 (then -ECOMM).  An
 * answer of another status is returned as http_request() does. */
int http_stream(struct http_client *c, const char *target,
                int (*on_data)(const char *p, size_t n, void *arg), void *arg, long *ret_status,
                char **ret_body, size_t *ret_len);

/* The same for any method, with a body (POST …?stream=1 of a streaming
 * command). */
int http_stream_request(struct http_client *c, const char *method, const char *target,
                        const char *body, size_t body_len,
                        int (*on_data)(const char *p, size_t n, void *arg), void *arg,
                        long *ret_status, char **ret_body, size_t *ret_len);

/* Fan-out (fanout.c): while a host runs, its transfers go through perform
 * (a CURL easy handle, its error buffer; returns a CURLcode) instead of
 * curl_easy_perform, and in a plan every request but a GET gets dry_run=1. */
struct http_fanout {
        int (*perform)(void *curl, char *errbuf, void *arg);
        void *arg;
        bool plan;          /* add dry_run=1 to the requests that change something */
        bool sent_change;   /* a request that changes something was made (as a dry run) */
        bool added_dry_run; /* … and dry_run=1 was added to it */
        bool no_dry_run;    /* … and its route refused the dry run */
        char change[256];   /* "METHOD TARGET" of the last such request */
        size_t answer_max;  /* the cap of one answer */
        size_t *held;       /* bytes all hosts' transfers hold now (shared) */
        size_t held_max;    /* … at most */
        bool over_budget;   /* the last transfer was cut by answer_max or held_max */
};
void http_set_fanout(struct http_fanout *f);

enum http_failure http_client_failure(const struct http_client *c);
const char *http_client_error(const struct http_client *c);
/* The fingerprint of the certificate the server presented in the last
 * handshake, as "SHA256:hex"; false if none was seen. */
bool http_client_peer_fingerprint(const struct http_client *c, char dst[FINGERPRINT_STRLEN]);

/* Parses "SHA256:AB:CD:…", "ab cd…" forms: an optional "SHA256:" or
 * "SHA256 Fingerprint=" prefix (any case), then 32 bytes as hex pairs, either
 * all separated by ':' or not separated at all. */
int fingerprint_parse(const char *s, uint8_t ret[32]);
void fingerprint_format(const uint8_t fp[32], char dst[FINGERPRINT_STRLEN]);

/* Percent-encodes s for a query value (unreserved characters kept). */
int url_escape(const char *s, char **ret);

/* --- client.c --- */

/* The global options (before the command). */
struct cli_options {
        const char *host_arg;
        const char *socket_path;
        const char *token_arg;
        const char *token_file;
        const char *fingerprint;
        bool json;
        /* Fan-out (several hosts): fanout.c. */
        bool jsonl, yes, dry_run;
        unsigned parallel, timeout_s;
        /* The host came from @discovered, which anyone on the LAN can
         * answer: --yes and STEWARD_ACCEPT_NEW do not trust its certificate. */
        bool discovered;
};

enum pin_source {
        PIN_NONE,        /* CA and host name verification */
        PIN_OPTION,      /* --fingerprint or STEWARD_FINGERPRINT */
        PIN_KNOWN_HOSTS, /* the host's line in known_hosts */
};

enum token_source {
        TOKEN_NONE,
        TOKEN_OPTION,  /* --token, --token-file or STEWARD_TOKEN */
        TOKEN_SESSION, /* the session stored by `steward login` */
};

struct cli {
        struct http_client *http;
        const struct cli_options *opts;
        bool json;       /* --json */
        bool tcp;        /* over TLS (-H, or the host of login/logout) */
        bool logging_in; /* a 401 is a failed login, not a missing token */
        bool dry_run;    /* a plan across hosts (fanout.c): http.c sends each change
                          * with dry_run=1; print what would change */
        char *where;     /* for messages: the socket path, or the host's key
                          * "host:port" / "[v6]:port" (lowercase), which is
                          * also how known_hosts and sessions name it */

        /* TCP only: what the files under ~/.config/steward say of the host. */
        bool known; /* known_hosts has a line for it */
        unsigned known_line;
        uint8_t known_pin[32];
        enum pin_source pin_source;
        uint8_t pin[32]; /* the pin in use, unless PIN_NONE */
        enum token_source token_source;
        int64_t session_expired_at; /* a stored session too old to send, else 0 */
        bool session_withheld;      /* a stored session not sent under --fingerprint */

        /* A collection's verb being run: its options ({"name", "field"}), so
         * a refusal naming a field names the option that sets it. */
        json_t *field_options;
};

enum {
        /* login: no token at all (the password is the credential). */
        CONNECT_NO_TOKEN = 1 << 0,
        /* logout: only the stored session, never --token / STEWARD_TOKEN. */
        CONNECT_SESSION_ONLY = 1 << 1,
};

/* Opens c->http to host_arg ("HOST[:PORT]") over TLS, or to the local socket
 * when host_arg is NULL, with the credentials and pin the options and the
 * stored files give (see client.c).  Usage errors return -EINVAL. */
int cli_connect(struct cli *c, const char *host_arg, unsigned flags);
void cli_disconnect(struct cli *c);

/* One API call: sends body (if not NULL) as JSON, and on a 2xx answer
 * returns 0 and the parsed answer.  Otherwise prints why (the server's error
 * message, or the transport failure) and returns -EREMOTEIO, -EBADMSG or
 * -ECOMM.  With --json an error answer is also printed on stdout. */
int cli_call(struct cli *c, const char *method, const char *target, json_t *body, json_t **ret);

/* The same with a body already serialised (body_len bytes, or NULL).  When
 * ret_error is not NULL, a refusal is not reported: the caller gets
 * -EREMOTEIO, the HTTP status and the answer (NULL if it was not JSON), and
 * reports it with cli_report_refusal().  The answer's raw bytes are wiped
 * after parsing, as they may hold a secret. */
int cli_request(struct cli *c, const char *method, const char *target, const char *body,
                size_t body_len, json_t **ret, long *ret_status, json_t **ret_error);
/* GET target and, with --json, print the server's answer as it is when
 * standard output is not a terminal (a long list is never parsed and
 * dumped again: `steward --json ps` of thousands of processes); on a
 * terminal, or for a refusal, as cli_call() and print_json() do.  Only for
 * answers that hold no secret. */
int cli_get_json(struct cli *c, const char *target);
/* GET target and hand back the answer's bytes as they came (*ret, malloc'ed,
 * *ret_len of them), for a caller that reads them itself (cli_get_json
 * passes them on; `steward ports` pull-parses them).  Returns the HTTP
 * status (200..299).  A transport failure is reported as
 * cli_report_transport() does (-ECOMM, -EBADMSG), a refusal as cli_call()
 * does (-EREMOTEIO); nothing is returned then.  The bytes are not wiped:
 * only for answers that hold no secret. */
int cli_get_raw(struct cli *c, const char *target, char **ret, size_t *ret_len);
/* A module's streaming command (docs/api.md, "Streaming commands"): POST
 * /api/v1/modules/MODULE/commands/NAME?stream=1 with args (taken over).
 * on_progress gets each progress event's data (borrowed) as it arrives; a
 * return < 0 ends the stream (the server then stops the command).  On the
 * final "result" event returns 0 and *ret its data ({"result", "audit_id"}).
 * A refusal, before the stream or as its "error" event, is reported as
 * cli_call() does (-EREMOTEIO); a stream that ends without its last event
 * is -EBADMSG. */
int cli_command_stream(struct cli *c, const char *module, const char *name, json_t *args,
                       int (*on_progress)(json_t *event, void *arg), void *arg, json_t **ret);

/* Prints the server's refusal: the message (and with --json the answer). */
void cli_report_refusal(struct cli *c, long status, json_t *answer);
/* Prints why the last request (or probe) got no answer. */
void cli_report_transport(struct cli *c);

/* The SSH-style warning for a server whose certificate is not the one
 * known_hosts recorded for it. */
void report_changed_certificate(const struct cli *c, const char *presented);

/* `… ID`: DELETE collection/ID (collection like "/api/v1/tokens"); prints the
 * answer with --json, else "Token ID revoked." (what = "token", done =
 * "revoked").  usage is the verb's usage line. */
int cli_delete_id(struct cli *c, int argc, char **argv, const char *usage, const char *what,
                  const char *collection, const char *done);

/* --- output.c --- */

/* A verb's own options, after the verb's name: --NAME VALUE, --NAME=VALUE,
 * -X [VALUE]; anywhere among the operands, up to "--". */
struct verb_option {
        const char *name;
        char short_name;        /* 0: none */
        const char **ret_value; /* an option with a value, or … */
        bool *ret_flag;         /* … a flag, or … */
        /* … an option that may be given several times, each value appended
         * to ret_values (at most max_values; *ret_n counts them). */
        const char **ret_values;
        size_t *ret_n, max_values;
};
/* Sorts argv into options and at most max_pos operands (pos[]); synopsis is
 * what a usage error shows ("token create NAME [--role ROLE]"). */
int parse_verb_args(const char *synopsis, int argc, char **argv, const struct verb_option *opts,
                    size_t n_opts, char **pos, size_t max_pos, size_t *ret_npos);

/* A table of text cells, printed with columns aligned. */
struct table {
        size_t ncols, nrows, cap;
        char **cells; /* nrows × ncols, malloc'ed */
};
int table_init(struct table *t, const char *const *header, size_t ncols);
int table_add(struct table *t, const char *const *row);
int table_print(const struct table *t);
void table_free(struct table *t);

/* A time from the server (unix seconds, or text) as local "YYYY-MM-DD
 * HH:MM:SS"; none_text when it is null or absent. */
void format_time(json_t *v, const char *none_text, char dst[64]);
/* A JSON scalar as table text ("" for null or absent). */
void format_cell(json_t *v, char dst[128]);

/* Prints v as MODULE:KEY = VALUE lines under prefix, or as JSON when the tree
 * cannot be written in that form. */
int print_kv(const char *prefix, json_t *v);
/* Prints v as indented JSON. */
int print_json(json_t *v);
/* Prints one or several answers for --json: one as is, several as an array. */
int print_json_answers(json_t *answers);

/* Writes s to f with control characters and invalid UTF-8 replaced by '?':
 * text from the server never reaches the terminal raw. */
void fputs_sanitized(const char *s, FILE *f);

/* Prints "steward: MESSAGE" and a hint to use --help; returns -EINVAL. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if s is a valid module, command or argument name. */
bool valid_name(const char *s);

/* Prints each unified diff of a "files" array ([{"path", "diff"}]) as is;
 * returns how many it printed. */
size_t print_file_diffs(json_t *files);

/* Prints each string of an answer's "warnings" to stderr as
 * "steward: warning: …". */
void print_warnings(json_t *answer);

/* --- steward.c: the verbs that are one request each --- */

int verb_list(struct cli *c, int argc, char **argv);
int verb_status(struct cli *c, int argc, char **argv);
int verb_fullstatus(struct cli *c, int argc, char **argv);
int verb_start(struct cli *c, int argc, char **argv);
int verb_stop(struct cli *c, int argc, char **argv);
int verb_restart(struct cli *c, int argc, char **argv);

/* --- settings.c --- */

int verb_settings(struct cli *c, int argc, char **argv);
int verb_command(struct cli *c, int argc, char **argv);

/* --- store.c --- */

/* Each of these prints its own message on failure (naming the file). */

/* How to show a file of the store in messages: "~/.config/steward/NAME"
 * when it is under $HOME. */
int store_display_path(const char *name, char **ret);

/* Looks key up in known_hosts: 0 and *ret_found false when absent (or when
 * there is no store: $HOME unset). */
int known_hosts_find(const char *key, bool *ret_found, uint8_t ret_pin[32], unsigned *ret_line);
/* Appends "key SHA256:HEX" and returns the line's number.  If a line for
 * key appeared meanwhile, nothing is written: its number is returned when it
 * holds the same pin, else -EEXIST (quietly). */
int known_hosts_add(const char *key, const uint8_t pin[32], unsigned *ret_line);

/* The stored session for key: 0 with *ret_token NULL when there is none. */
int session_find(const char *key, char **ret_token, int64_t *ret_expires_at);
/* Stores the session for key, replacing the one there was. */
int session_save(const char *key, const char *token, int64_t expires_at);
/* Between these two, session_save() only keeps the sessions, and
 * store_batch_end() writes them all in one locked update (a fan-out's
 * logins). */
void store_batch_begin(void);
int store_batch_end(void);
/* Removes the session for key; *ret_removed says whether there was one. */
int session_remove(const char *key, bool *ret_removed);

/* Reads the store file name whole ("hosts", "discovered"): 0 with *ret
 * NULL when it does not exist. */
int store_read(const char *name, char **ret, size_t *ret_len);
/* Replaces the store file name with text, atomically, under the lock. */
int store_replace(const char *name, const char *text, size_t len);

/* True if t can be a bearer token: 1..TOKEN_MAX printable ASCII, no space. */
bool token_chars_ok(const char *t);

/* --- login.c --- */

int verb_login(struct cli *c, int argc, char **argv);
/* A secret: asked on the terminal without echo when stdin is one, else
 * read as one line from stdin.  Usage errors for none, empty or too long. */
int read_secret(const char *prompt, char *dst, size_t cap);
/* Shows text on the terminal and asks question: 1 for y/yes, 0 for anything
 * else, -ENOTTY without a terminal. */
int tty_confirm(const char *text, const char *question);

/* --- accounts.c --- */

/* `steward COLLECTION VERB …` for a collection the server describes
 * (collections.c); "unknown command" when it has none of that name. */
int cli_collection(struct cli *c, const char *collection, int argc, char **argv);
int verb_logout(struct cli *c, int argc, char **argv);

/* --- tokens.c, sessions.c, audit.c --- */

int verb_token(struct cli *c, int argc, char **argv);
int verb_sessions(struct cli *c, int argc, char **argv);
int verb_audit(struct cli *c, int argc, char **argv);

/* --- discover.c --- */

int verb_discover(struct cli *c, int argc, char **argv);
int verb_ports(struct cli *c, int argc, char **argv);
/* logs.c */
int verb_logs(struct cli *c, int argc, char **argv);
/* procs.c */
int verb_ps(struct cli *c, int argc, char **argv);
int verb_kill(struct cli *c, int argc, char **argv);
int verb_renice(struct cli *c, int argc, char **argv);

/* --- netdiag.c: the network module's diagnostics --- */

int verb_ping(struct cli *c, int argc, char **argv);
int verb_traceroute(struct cli *c, int argc, char **argv);
int verb_lookup(struct cli *c, int argc, char **argv);
int verb_portcheck(struct cli *c, int argc, char **argv);
int verb_netinfo(struct cli *c, int argc, char **argv);

/* --- fanout.c --- */

struct verb_def;
/* True when -H names more than one host or any @group. */
bool fanout_wanted(const char *host_arg);
/* Expands o->host_arg; with exactly one host, *ret_single is its key (run
 * as today) and 0 is returned; else runs the command on every host (verb
 * NULL: the collection word) and returns the worst host's result. */
int fanout_run(struct cli_options *o, const struct verb_def *verb, const char *word, int nargs,
               char **args, char **ret_single);

/* --- history.c --- */

int verb_history(struct cli *c, int argc, char **argv);
/* `status system --history cpu|mem|net|load [RANGE]` (argv from "system"). */
int history_status(struct cli *c, int argc, char **argv);
