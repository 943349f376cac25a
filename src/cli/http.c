/* http.c — the client's transport: one libcurl easy handle, reused for every
 * request of a run so that they share one connection (and one TLS handshake).
 *
 * Two ways to reach stewardd:
 *  - the unix socket: plain HTTP to http://localhost/…; the daemon knows who
 *    we are from the socket's peer credentials, so no token is sent;
 *  - TCP: HTTPS to host:port, with the bearer token.
 *
 * Trusting the server over TCP.  With a pin (--fingerprint) libcurl's own
 * checks are turned off and replaced, inside the handshake, by one check: the
 * SHA-256 of the leaf certificate's DER must equal the pin.  OpenSSL calls
 * that check before the handshake completes, so on a mismatch the connection
 * fails before a byte of the request (or of the token) is sent.  Without a pin
 * the normal CA and host name verification applies; the same callback then
 * only records the certificate's fingerprint (and runs OpenSSL's standard
 * verification), so that a failure can tell the user what to pin.  TLS
 * session resumption is off: a resumed session would skip the check.
 *
 * Trust on first use (`steward login`) needs the certificate before anything
 * is trusted: http_probe() makes a connection whose callback records the
 * fingerprint and then rejects the certificate, so the handshake fails by
 * design (and the transfer is CONNECT_ONLY besides: even a handshake that
 * completed would carry no request).  The caller decides, pins, and only then
 * sends a request, which the pin check guards like any other.
 *
 * Fan-out (fanout.c, several hosts): while a host runs, http_set_fanout()
 * gives its hook; transfers then go to the hook (the shared multi handle)
 * instead of curl_easy_perform(), and in a plan every request but a GET
 * carries dry_run=1, or is not sent at all when its route has no dry run
 * (route_has_dry_run: such routes ignore the flag).  The pin check is the
 * same callback either way; each host's connections are its own (fanout.c).
 *
 * Bounds: connect timeout, total timeout, answers over RESPONSE_MAX abort the
 * transfer, redirects are never followed, only http and https are allowed.
 * The token lives in one header string, wiped when the client is freed; it is
 * never part of an error message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cli.h"
#include "jsonutil.h"
#include "util.h"

struct http_client {
        CURL *curl;
        char *base; /* "http://localhost" or "https://host:port" */
        char *socket_path;
        char *auth_header; /* "Authorization: Bearer …", or NULL */
        bool tls;
        bool have_pin;
        uint8_t pin[32];
        bool probing; /* http_probe(): record the certificate, then reject it */

        /* What the handshake of the current connection saw. */
        bool cert_seen;
        uint8_t cert_sha256[32];
        bool pin_mismatch;

        struct buf body;
        bool too_big;
        bool fo_over_budget;
        struct http_fanout *fo; /* the fan-out host the transfer belongs to, or NULL */
        size_t held;            /* bytes of the answer counted in fo->held */

        /* http_stream(): a 2xx answer's bytes go here as they come. */
        int (*stream_cb)(const char *p, size_t n, void *arg);
        void *stream_arg;

        enum http_failure failure;
        char curl_error[CURL_ERROR_SIZE];
        char error[512];
};

/* The running host's fan-out state (fanout.c switches it with the host), or
 * NULL: a plain run, transfers made by curl_easy_perform(). */
static struct http_fanout *fanout;

void http_set_fanout(struct http_fanout *f) {
        fanout = f;
}

/* The bytes of c's answer leave the fan-out's budget (the transfer ended). */
static void release_held(struct http_client *c) {
        if (c->fo && c->fo->held)
                *c->fo->held -= c->held;
        c->held = 0;
}

static CURLcode perform(struct http_client *c) {
        CURLcode code;

        if (!fanout)
                return curl_easy_perform(c->curl);
        c->fo = fanout;
        code = (CURLcode)fanout->perform(c->curl, c->curl_error, fanout->arg);
        release_held(c);
        c->fo = NULL;
        return code;
}

/* Does the route take ?dry_run=1?  Routes that do not ignore the flag (a
 * token would be created for real), so a plan sends nothing to them.  The
 * fixed routes are listed; any other first segment is a collection, whose
 * writes and actions all take it; of a module's routes, its settings and its
 * commands take it (a command without a dry run refuses it: 400), the
 * others are treated as having none. */
static bool route_has_dry_run(const char *method, const char *path) {
        /* Those with a route that changes something (the others only
         * answer GETs, so a write there is refused whatever its query). */
        static const char *const fixed[] = {"tokens", "sessions", "login", "logout"};
        const char *seg = path, *slash;
        char mod[64];
        size_t n;

        if (strncmp(seg, "/api/v1/", 8) != 0)
                return false;
        seg += 8;
        slash = strchr(seg, '/');
        n = slash ? (size_t)(slash - seg) : strlen(seg);
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (strlen(fixed[i]) == n && strncmp(seg, fixed[i], n) == 0)
                        return false;
        if (n == 5 && strncmp(seg, "audit", 5) == 0)
                return STREQ(method, "POST") && slash && strchr(slash + 1, '/') &&
                       STREQ(strchr(slash + 1, '/'), "/rollback");
        if (n != 7 || strncmp(seg, "modules", 7) != 0)
                return n > 0; /* a collection */
        if (!slash || sscanf(slash + 1, "%63[a-z0-9_-]", mod) != 1)
                return false;
        path = slash + 1 + strlen(mod);
        if (STREQ(method, "PATCH"))
                return STREQ(path, "/settings");
        return STREQ(method, "POST") && strncmp(path, "/commands/", 10) == 0;
}

/* A plan: a request that would change something gets dry_run=1 (unless it
 * asks for a dry run already, then it is no change).  Returns 1 when the
 * route has no dry run: the request must not be sent. */
static int plan_target(const char *method, const char *target, char **ret) {
        const char *q = strchr(target, '?');
        _cleanup_free_ char *path = NULL;

        *ret = NULL;
        if (!fanout || !fanout->plan || STREQ(method, "GET"))
                return 0;
        if (q && (strstr(q, "?dry_run=") || strstr(q, "&dry_run=")))
                return 0;
        fanout->sent_change = true;
        fanout->added_dry_run = true;
        (void)snprintf(fanout->change, sizeof fanout->change, "%s %s", method, target);
        path = q ? strndup(target, (size_t)(q - target)) : strdup(target);
        if (!path)
                return -ENOMEM;
        if (!route_has_dry_run(method, path)) {
                fanout->no_dry_run = true;
                return 1;
        }
        if (asprintf(ret, "%s%sdry_run=1", target, q ? "&" : "?") < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* What a plan answers for a change that has no dry run, instead of sending
 * it: a refusal naming dry_run, as the server's own would. */
static int refuse_unplanned(long *ret_status, char **ret_body, size_t *ret_len) {
        static const char answer[] = "{\"error\": {\"code\": \"bad_request\", \"field\": "
                                     "\"dry_run\", \"message\": \"no dry run for this change: "
                                     "nothing was sent\"}}";
        char *b = strdup(answer);

        if (!b)
                return -ENOMEM;
        *ret_status = 400;
        *ret_body = b;
        if (ret_len)
                *ret_len = sizeof answer - 1;
        return 0;
}

void fingerprint_format(const uint8_t fp[32], char dst[FINGERPRINT_STRLEN]) {
        memcpy(dst, "SHA256:", 7);
        hex_encode(fp, 32, dst + 7);
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int fingerprint_parse(const char *s, uint8_t ret[32]) {
        static const char *const prefixes[] = {"SHA256 Fingerprint=", "SHA256:"};
        uint8_t fp[32];
        int sep = -1; /* unknown, 0: none, 1: ':' */

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0) {
                        s += strlen(prefixes[i]);
                        break;
                }

        for (size_t i = 0; i < 32; i++) {
                int hi = hex_value(s[0]), lo = hi < 0 ? -1 : hex_value(s[1]);

                if (hi < 0 || lo < 0)
                        return -EINVAL;
                fp[i] = (uint8_t)(hi << 4 | lo);
                s += 2;
                if (i == 31)
                        break;
                if (sep < 0)
                        sep = *s == ':';
                if (sep) {
                        if (*s != ':')
                                return -EINVAL;
                        s++;
                }
        }
        /* Tolerate the newline of a pasted `openssl x509 -fingerprint` line. */
        while (*s == '\n' || *s == '\r' || *s == ' ')
                s++;
        if (*s)
                return -EINVAL;
        memcpy(ret, fp, 32);
        return 0;
}

int url_escape(const char *s, char **ret) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out, *p;

        if (n > SIZE_MAX / 3 - 1)
                return -ENOMEM;
        out = p = malloc(3 * n + 1);
        if (!out)
                return -ENOMEM;
        for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
                if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                    (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' || *q == '.' || *q == '~')
                        *p++ = (char)*q;
                else {
                        *p++ = '%';
                        *p++ = hex[*q >> 4];
                        *p++ = hex[*q & 15];
                }
        }
        *p = '\0';
        *ret = out;
        return 0;
}

/* OpenSSL's certificate check for the connection (replaces the chain
 * verification it would otherwise run). */
static int verify_cert(X509_STORE_CTX *store, void *arg) {
        struct http_client *c = arg;
        X509 *cert = X509_STORE_CTX_get0_cert(store);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;

        if (!cert || !X509_digest(cert, EVP_sha256(), md, &md_len) || md_len != 32) {
                X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
                return 0;
        }
        memcpy(c->cert_sha256, md, 32);
        c->cert_seen = true;

        if (c->probing) {
                X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
                return 0;
        }
        if (c->have_pin) {
                if (CRYPTO_memcmp(md, c->pin, 32) != 0) {
                        c->pin_mismatch = true;
                        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
                        return 0;
                }
                return 1;
        }

        /* Record only: the standard verification decides. */
        return X509_verify_cert(store);
}

static CURLcode ssl_ctx_setup(CURL *curl, void *ssl_ctx, void *arg) {
        SSL_CTX *ctx = ssl_ctx;
        struct http_client *c = arg;

        /* With a pin libcurl was told not to verify (it would reject a
         * self-signed certificate), which also set SSL_VERIFY_NONE: turn
         * verification back on so that the callback's verdict counts. */
        if (c->have_pin || c->probing)
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(ctx, verify_cert, c);
        return CURLE_OK;
}

static size_t write_body(char *p, size_t size, size_t n, void *arg) {
        struct http_client *c = arg;
        size_t len;

        if (c->stream_cb && !__builtin_mul_overflow(size, n, &len)) {
                long status = 0;
                (void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && status <= 299)
                        return c->stream_cb(p, len, c->stream_arg) < 0 ? 0 : len;
        }
        if (__builtin_mul_overflow(size, n, &len))
                len = SIZE_MAX;
        /* In a fan-out: a smaller cap per answer, and one budget for what
         * all the hosts' transfers hold at once. */
        if (c->fo && (len > c->fo->answer_max - c->body.len ||
                      (c->fo->held && len > c->fo->held_max - *c->fo->held))) {
                c->fo->over_budget = true;
                c->too_big = true;
                return 0; /* aborts the transfer */
        }
        if (len == SIZE_MAX || buf_append(&c->body, p, len) < 0) {
                c->too_big = true;
                return 0; /* aborts the transfer */
        }
        if (c->fo && c->fo->held) {
                *c->fo->held += len;
                c->held += len;
        }
        return len;
}

int http_client_new(const struct http_config *cfg, struct http_client **ret) {
        struct http_client *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        buf_init(&c->body, RESPONSE_MAX);

        c->curl = curl_easy_init();
        if (!c->curl) {
                http_client_free(c);
                return -ENOMEM;
        }

        if (cfg->host) {
                bool v6 = strchr(cfg->host, ':') != NULL;

                c->tls = true;
                r = asprintf(&c->base, v6 ? "https://[%s]:%u" : "https://%s:%u", cfg->host,
                             cfg->port);
                if (r < 0) {
                        c->base = NULL;
                        http_client_free(c);
                        return -ENOMEM;
                }
                if (cfg->token &&
                    asprintf(&c->auth_header, "Authorization: Bearer %s", cfg->token) < 0) {
                        c->auth_header = NULL;
                        http_client_free(c);
                        return -ENOMEM;
                }
                c->have_pin = cfg->have_pin;
                memcpy(c->pin, cfg->pin, sizeof c->pin);
        } else {
                c->base = strdup("http://localhost");
                c->socket_path = strdup(cfg->socket_path ? cfg->socket_path : DEFAULT_SOCKET);
                if (!c->base || !c->socket_path) {
                        http_client_free(c);
                        return -ENOMEM;
                }
        }

        *ret = c;
        return 0;
}

void http_client_free(struct http_client *c) {
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        if (c->auth_header) {
                explicit_bzero(c->auth_header, strlen(c->auth_header));
                free(c->auth_header);
        }
        free(c->base);
        free(c->socket_path);
        buf_free(&c->body);
        free(c);
}

void http_client_set_pin(struct http_client *c, const uint8_t pin[32]) {
        memcpy(c->pin, pin, sizeof c->pin);
        c->have_pin = true;
}

enum http_failure http_client_failure(const struct http_client *c) {
        return c->failure;
}

const char *http_client_error(const struct http_client *c) {
        return c->error;
}

bool http_client_peer_fingerprint(const struct http_client *c, char dst[FINGERPRINT_STRLEN]) {
        if (!c->cert_seen)
                return false;
        fingerprint_format(c->cert_sha256, dst);
        return true;
}

/* Sets an option that must take effect: a TLS option that is silently
 * unavailable would weaken the connection. */
#define SETOPT(c, opt, val)                                                                        \
        do {                                                                                       \
                if (curl_easy_setopt((c)->curl, (opt), (val)) != CURLE_OK) {                       \
                        (void)snprintf((c)->error, sizeof(c)->error,                               \
                                       "libcurl does not support %s", #opt);                       \
                        (c)->failure = HTTP_FAILURE_TLS;                                           \
                        return -ECOMM;                                                             \
                }                                                                                  \
        } while (0)

static int setup(struct http_client *c, const char *method, const char *url, const char *body,
                 size_t body_len, struct curl_slist *headers) {
        curl_easy_reset(c->curl);

        SETOPT(c, CURLOPT_URL, url);
        SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
        SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
        SETOPT(c, CURLOPT_NOSIGNAL, 1L);
        SETOPT(c, CURLOPT_NOPROXY, "*");
        SETOPT(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        if (c->stream_cb) {
                /* A stream has no end; the server's keepalives (every 15 s)
                 * tell a live one from a dead one. */
                SETOPT(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
                SETOPT(c, CURLOPT_LOW_SPEED_TIME, STREAM_SILENCE_S);
        } else {
                SETOPT(c, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
                SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RESPONSE_MAX);
        }
        SETOPT(c, CURLOPT_WRITEFUNCTION, write_body);
        SETOPT(c, CURLOPT_WRITEDATA, c);
        SETOPT(c, CURLOPT_ERRORBUFFER, c->curl_error);
        SETOPT(c, CURLOPT_USERAGENT, "steward/" STEWARD_VERSION);
        SETOPT(c, CURLOPT_HTTPHEADER, headers);

        if (c->socket_path)
                SETOPT(c, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);

        if (c->tls) {
                SETOPT(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
                SETOPT(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
                if (c->have_pin || c->probing) {
                        SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
                        SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
                } else {
                        SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
                        SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
                }
                SETOPT(c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_setup);
                SETOPT(c, CURLOPT_SSL_CTX_DATA, c);
        }

        if (STREQ(method, "GET"))
                SETOPT(c, CURLOPT_HTTPGET, 1L);
        else {
                if (!STREQ(method, "POST"))
                        SETOPT(c, CURLOPT_CUSTOMREQUEST, method);
                SETOPT(c, CURLOPT_POST, 1L);
                SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
                SETOPT(c, CURLOPT_POSTFIELDS, body ? body : "");
        }
        return 0;
}

static void describe_failure(struct http_client *c, CURLcode code) {
        const char *detail = c->curl_error[0] ? c->curl_error : curl_easy_strerror(code);
        long os_errno = 0;

        if (c->fo_over_budget) {
                c->failure = HTTP_FAILURE_TOO_BIG;
                (void)snprintf(c->error, sizeof c->error,
                               "answer too large for a fan-out (over %zu MiB, or all hosts' "
                               "answers over %zu MiB at once)",
                               FANOUT_ANSWER_MAX >> 20, FANOUT_HELD_MAX >> 20);
                return;
        }
        if (c->too_big || code == CURLE_FILESIZE_EXCEEDED) {
                c->failure = HTTP_FAILURE_TOO_BIG;
                (void)snprintf(c->error, sizeof c->error, "the answer is larger than %zu MiB",
                               RESPONSE_MAX / 1024 / 1024);
                return;
        }
        if (c->pin_mismatch) {
                c->failure = HTTP_FAILURE_PIN;
                (void)snprintf(c->error, sizeof c->error,
                               "the server's certificate does not match the pinned fingerprint");
                return;
        }

        switch (code) {
        case CURLE_PEER_FAILED_VERIFICATION:
                c->failure = HTTP_FAILURE_CERTIFICATE;
                break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_USE_SSL_FAILED:
                c->failure = HTTP_FAILURE_TLS;
                break;
        default:
                c->failure = HTTP_FAILURE_CONNECT;
                break;
        }

        if (c->socket_path && code == CURLE_COULDNT_CONNECT &&
            curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno > 0) {
                (void)snprintf(c->error, sizeof c->error, "%s", strerror((int)os_errno));
                return;
        }
        (void)snprintf(c->error, sizeof c->error, "%s", detail);
}

int http_request(struct http_client *c, const char *method, const char *target, const char *body,
                 size_t body_len, long *ret_status, char **ret_body, size_t *ret_len) {
        _cleanup_free_ char *url = NULL, *planned = NULL;
        struct curl_slist *headers = NULL, *h;
        static const char *const fixed[] = {
                "Accept: application/json", "Expect:", /* no 100-continue round trip */
        };
        CURLcode code;
        long status = 0;
        size_t len;
        char *data;
        int r;

        c->failure = HTTP_FAILURE_NONE;
        c->error[0] = '\0';
        c->curl_error[0] = '\0';
        c->too_big = false;
        c->fo_over_budget = false;
        c->pin_mismatch = false;
        buf_free(&c->body);
        buf_init(&c->body, RESPONSE_MAX);

        r = plan_target(method, target, &planned);
        if (r < 0)
                return r;
        if (r > 0)
                return refuse_unplanned(ret_status, ret_body, ret_len);
        if (planned)
                target = planned;
        if (asprintf(&url, "%s%s", c->base, target) < 0) {
                url = NULL;
                return -ENOMEM;
        }

        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                h = curl_slist_append(headers, fixed[i]);
                if (!h)
                        goto oom;
                headers = h;
        }
        /* A body is always JSON; a bodiless POST says so by sending none. */
        h = curl_slist_append(headers, body ? "Content-Type: application/json" : "Content-Type:");
        if (!h)
                goto oom;
        headers = h;
        if (c->auth_header) {
                h = curl_slist_append(headers, c->auth_header);
                if (!h)
                        goto oom;
                headers = h;
        }

        r = setup(c, method, url, body, body_len, headers);
        if (r < 0) {
                curl_slist_free_all(headers);
                return r;
        }

        if (fanout)
                fanout->over_budget = false;
        code = perform(c);
        if (fanout && fanout->over_budget)
                c->fo_over_budget = true;
        /* The header list holds a copy of the token. */
        for (h = headers; h; h = h->next)
                explicit_bzero(h->data, strlen(h->data));
        curl_slist_free_all(headers);

        if (code != CURLE_OK) {
                describe_failure(c, code);
                buf_free(&c->body);
                return c->failure == HTTP_FAILURE_TOO_BIG ? -EBADMSG : -ECOMM;
        }

        /* Checked before any tree is built: jansson's parser and encoder
         * recurse once per level, and a server must not run the client (or a
         * fan-out host's stack) out of stack. */
        if (c->body.len > 0 &&
            json_scan_depth(c->body.data, c->body.len, ANSWER_DEPTH_MAX + 1) > (int)ANSWER_DEPTH_MAX) {
                c->failure = HTTP_FAILURE_MALFORMED;
                (void)snprintf(c->error, sizeof c->error,
                               "malformed answer (nested too deep: over %u levels)",
                               ANSWER_DEPTH_MAX);
                buf_free(&c->body);
                return -EBADMSG;
        }
        (void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        /* A route without a dry run refuses the one added for a plan. */
        if (planned && status == 400 && c->body.data &&
            memmem(c->body.data, c->body.len, "\"dry_run\"", 9))
                fanout->no_dry_run = true;
        len = c->body.len;
        data = buf_steal(&c->body);
        if (!data)
                return -ENOMEM;
        *ret_body = data;
        if (ret_len)
                *ret_len = len;
        *ret_status = status;
        return 0;

oom:
        curl_slist_free_all(headers);
        return -ENOMEM;
}

int http_stream_request(struct http_client *c, const char *method, const char *target,
                        const char *body, size_t body_len,
                        int (*on_data)(const char *p, size_t n, void *arg), void *arg,
                        long *ret_status, char **ret_body, size_t *ret_len) {
        int r;

        c->stream_cb = on_data;
        c->stream_arg = arg;
        r = http_request(c, method, target, body, body_len, ret_status, ret_body, ret_len);
        c->stream_cb = NULL;
        c->stream_arg = NULL;
        return r;
}

int http_stream(struct http_client *c, const char *target,
                int (*on_data)(const char *p, size_t n, void *arg), void *arg, long *ret_status,
                char **ret_body, size_t *ret_len) {
        return http_stream_request(c, "GET", target, NULL, 0, on_data, arg, ret_status, ret_body,
                                   ret_len);
}

int http_probe(struct http_client *c) {
        _cleanup_free_ char *url = NULL;
        CURLcode code;
        int r;

        if (!c->tls)
                return -EINVAL;

        c->failure = HTTP_FAILURE_NONE;
        c->error[0] = '\0';
        c->curl_error[0] = '\0';
        c->too_big = false;
        c->pin_mismatch = false;
        c->cert_seen = false;

        if (asprintf(&url, "%s/", c->base) < 0) {
                url = NULL;
                return -ENOMEM;
        }

        c->probing = true;
        r = setup(c, "GET", url, NULL, 0, NULL);
        if (r < 0) {
                c->probing = false;
                return r;
        }
        if (curl_easy_setopt(c->curl, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK) {
                c->probing = false;
                (void)snprintf(c->error, sizeof c->error,
                               "libcurl does not support CURLOPT_CONNECT_ONLY or FORBID_REUSE");
                c->failure = HTTP_FAILURE_TLS;
                return -ECOMM;
        }
        code = perform(c);
        c->probing = false;
        /* Drop the connection, should the handshake have completed after all. */
        curl_easy_reset(c->curl);

        if (c->cert_seen)
                return 0;
        describe_failure(c, code == CURLE_OK ? CURLE_SSL_CONNECT_ERROR : code);
        return -ECOMM;
}
