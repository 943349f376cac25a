/* cli.h — the parts of the `steward` client shared by its files.
 *
 * steward.c parses the command line and runs the simple verbs; settings.c
 * runs `settings` and `command`; http.c is the transport (libcurl, with the
 * certificate pinning done inside the TLS handshake).
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
#define STDIN_MAX         ((size_t)16 * 1024 * 1024)
#define TOKEN_MAX         4096
#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S   60L

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
};

struct http_client;

int http_client_new(const struct http_config *cfg, struct http_client **ret);
void http_client_free(struct http_client *c);

/* Sends one request.  target is the path and query ("/api/v1/modules").
 * body may be NULL (no body).  On any HTTP answer returns 0 with the status
 * and the body (malloc'ed, NUL-terminated).  On a transport failure returns
 * -ECOMM (or -EBADMSG for an answer over the size limit); then
 * http_client_failure() and http_client_error() say what happened. */
int http_request(struct http_client *c, const char *method, const char *target, const char *body,
                 size_t body_len, long *ret_status, char **ret_body, size_t *ret_len);

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

/* --- steward.c --- */

struct cli {
        struct http_client *http;
        bool json;         /* --json */
        bool tcp;          /* -H was given */
        const char *where; /* for messages: "host:port" or the socket path */
};

/* One API call: sends body (if not NULL) as JSON, and on a 2xx answer
 * returns 0 and the parsed answer.  Otherwise prints why (the server's error
 * message, or the transport failure) and returns -EREMOTEIO, -EBADMSG or
 * -ECOMM.  With --json an error answer is also printed on stdout. */
int cli_call(struct cli *c, const char *method, const char *target, json_t *body, json_t **ret);

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

/* --- settings.c --- */

int verb_settings(struct cli *c, int argc, char **argv);
int verb_command(struct cli *c, int argc, char **argv);
