/* http.c — libmicrohttpd glue: limits, authentication, body collection, and
 * turning api_response into HTTP.
 *
 * Request life cycle (libmicrohttpd calls on_request several times):
 *  1. first call, headers complete: take a snapshot of the limits, check the
 *     connection count, header size and Content-Length, authenticate.  A
 *     refusal is queued at once (the connection then closes, which is what we
 *     want for a client we refuse).  Otherwise only allocate the request and
 *     return — queuing a success response on the first call would make
 *     libmicrohttpd 0.9.75 close every keep-alive connection.
 *  2. body chunks: appended to a buffer capped at max_body_bytes.
 *  3. last call: api_handle() and the answer.  A request whose handler may
 *     wait long for the helper (api_route_slow: collection reads) goes to
 *     the pool (workpool.h) instead, its connection suspended so that this
 *     thread serves its other connections meanwhile; the pool thread
 *     resumes it with the answer ready, and libmicrohttpd calls again to
 *     send it.  Past SLOW_JOBS_MAX such requests at once: 503 and
 *     Retry-After.
 * GET and HEAD outside /api/ and /metrics are the web console: its files are
 * in memory (console.c), public, and served without authentication, with
 * their ETag (304 on If-None-Match), "Cache-Control: no-cache" (always
 * revalidated, so an upgraded daemon is seen at once) and the console's
 * Content-Security-Policy; any other path there is 404.
 * The connection context (peer address or credentials) is made once per
 * connection in on_connection(), which also applies the budgets of
 * connections that have not authenticated (connbudget.h) and, on the unix
 * socket, settles the peer's role and session: a peer with no role is
 * answered and shut there, and a peer's session ends with its connection.
 * The header deadline is armed by on_request_line() (and at the accept),
 * met at the first call of on_request(), and re-armed by on_completed() for
 * a connection that has not authenticated.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "api.h"
#include "connbudget.h"
#include "console.h"
#include "cookie.h"
#include "events.h"
#include "frontauth.h"
#include "roles.h"
#include "helperclient.h"
#include "common/httpstats.h"
#include "helperstubs.h"
#include "jsonutil.h"
#include "log.h"
#include "proto.h"
#include "config.h"
#include "stats.h"
#include "util.h"
#include "workpool.h"

#define MAX_HEADER_COUNT 100
/* Threads for slow requests, and how many such requests (running or
 * waiting) at most: as many threads as the helper takes slow and streaming
 * calls at once (more would only wait for a channel there).  Past
 * HELPER_STREAM_CHANNELS streams at once a new one is answered 503 at once:
 * a stream holds its thread for its command's whole run. */
#define SLOW_THREADS  (HELPER_SLOW_CHANNELS + HELPER_STREAM_CHANNELS)
#define SLOW_JOBS_MAX 64
/* libmicrohttpd keeps a connection's request line, headers and buffers in a
 * per-connection pool, and zeroes what it used after every request, so the
 * whole pool stays resident: measured with bench/run.sh, 1,000 idle TLS
 * connections cost 49 MB with a 32 KiB pool, 81 MB with 64 KiB and 177 MB with
 * 160 KiB.  32 KiB holds the largest max_header_bytes allowed (16 KiB) with
 * room to spare; headers past about 30 KiB get libmicrohttpd's own 431 page
 * instead of our JSON body. */
#define MHD_POOL_BYTES (32u << 10)

/* The console's policy: its own files only, no inline script or style, no
 * framing, no plugins; data: images for uPlot's and the CSS's icons. */
#define CONSOLE_CSP                                                                                \
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "        \
        "object-src 'none'"

struct conn {
        const struct listener *l;
        char source[96];
        char host[INET6_ADDRSTRLEN];            /* TCP: the peer's address without the port */
        char budget_key[CONNBUDGET_SOURCE_MAX]; /* TCP: whose budget (connbudget.h) */
        unsigned uid;   /* unix socket: the peer's uid, for the log and the budget */
        bool refused;   /* unix socket: no role, said by the first answer */
        bool lingering; /* refused, and waiting (a second at most) for its request */
        bool uncounted; /* not in stats_connections_open */
        struct connbudget_entry budget;
        char peer_secret[FRONTAUTH_SECRET_MAX + 1]; /* unix socket: the peer's session */
        int64_t peer_id;                            /* and its id */
        struct module_error *refusal;               /* unix socket: why it was refused */
};

struct request {
        struct steward_config cfg;
        struct buf body;
        struct api_response early; /* a refusal decided before the body was read */
        struct caller caller;
        const char *auth;   /* "peer", "token", "cookie", or NULL for the login route */
        size_t discarded;   /* body bytes dropped after a refusal */
        bool answered;      /* the refusal went out on the first call */
        bool answer_at_end; /* refuse after reading (and dropping) the body */
        bool console;       /* a GET or HEAD for the web console */
        /* The first call, for the duration histogram. */
        uint64_t start_usec;
        /* A slow request: run in the pool while its connection is
         * suspended; slow_resp holds the answer once slow is SLOW_DONE. */
        _Atomic int slow;
        struct MHD_Connection *conn;
        const struct conn *cn;
        const char *method, *url;
        struct api_response slow_resp;
        /* The connection's and, while it runs, the pool job's: the last
         * to let go frees the request (a stream's client may leave while
         * its command runs on). */
        _Atomic unsigned refs;
        struct stream *stream; /* ?stream=1: the stream's state, else NULL */
};

/* A streaming command's answer (?stream=1; module.h).  The request runs in
 * the pool as any slow one, its connection suspended.  Its first progress
 * line resumes the connection in the state SLOW_STREAMING: on_request then
 * answers 200 text/event-stream with stream_read() over the queue, and the
 * pool thread queues each line as an event as it comes, then the result or
 * the error as the last one.  An answer that comes before any progress (a
 * refusal, a bad host) goes out as an ordinary answer.  lock guards the
 * queue and the flags, and is held while the reader suspends the connection
 * and while the pool thread resumes it, so that no wake-up is lost (as in
 * events.c); once gone (the response is destroyed: the client left or the
 * stream ended), nobody touches the connection again. */
struct stream {
        pthread_mutex_t lock;
        struct buf q; /* event text not yet sent, from off */
        size_t off;
        bool started; /* the first event came: the answer is a stream */
        bool done;    /* the last event is queued */
        bool waits;   /* the reader suspended the connection */
        bool gone;
};

enum { SLOW_NO, SLOW_RUNNING, SLOW_DONE, SLOW_STREAMING };

/* What a stream queues at most: every event (bounded by the kit: 1 MiB of
 * progress in all) and the result (an answer of the helper's, under a frame). */
#define STREAM_QUEUE_MAX ((size_t)COMMAND_PROGRESS_TOTAL_MAX * 4 + PROTO_MAX_FRAME)

/* Set when the daemon stops: every stream's command is told its client is
 * gone, so that the pool's jobs end soon. */
static _Atomic bool streams_stopping;
static _Atomic unsigned streams_running;

static void add_security_headers(struct MHD_Response *r, bool tls, const char *csp) {
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Content-Security-Policy", csp);
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        if (tls)
                MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result add_common_headers(struct MHD_Response *r, bool tls,
                                          const char *content_type) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type ? content_type : "application/json");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        add_security_headers(r, tls, "default-src 'none'; frame-ancestors 'none'");
        return MHD_YES;
}

/* A console file, or 304 when the client holds this version. */
static enum MHD_Result send_console(struct MHD_Connection *c, const struct conn *cn,
                                    const struct console_asset *a, int *ret_status) {
        const char *inm =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        bool fresh = inm && (STREQ(inm, a->etag) || STREQ(inm, "*"));
        struct MHD_Response *r;
        enum MHD_Result ret;

        r = MHD_create_response_from_buffer(fresh ? 0 : a->len, fresh ? NULL : (void *)a->data,
                                            MHD_RESPMEM_PERSISTENT);
        if (!r)
                return MHD_NO;
        if (!fresh)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        add_security_headers(r, !cn->l->unix_socket, CONSOLE_CSP);
        *ret_status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
        ret = MHD_queue_response(c, (unsigned)*ret_status, r);
        MHD_destroy_response(r);
        return ret;
}

struct text_map {
        void *data;
        size_t len;
};

static void text_unmap(void *cls) {
        struct text_map *m = cls;
        munmap(m->data, m->len);
        free(m);
}

static enum MHD_Result send_response(struct MHD_Connection *c, const struct conn *cn,
                                     struct api_response *resp, bool close) {
        struct MHD_Response *r;
        enum MHD_Result ret;
        size_t len = 0;
        char *data = resp->text   ? TAKE_PTR(resp->text)
                     : resp->body ? json_dump_compact(resp->body, &len)
                                  : NULL;

        if (data && !resp->body)
                len = resp->text_len;
        if (resp->has_text_fd) {
                /* The helper's sealed memfd, sent from a read-only mapping:
                 * libmicrohttpd reads a file response through a 4 KiB
                 * buffer, one TLS record and one system call per block
                 * (measured: a 2 MB list took 8 ms more over TLS than over
                 * the unix socket; from the mapping 4 to 6 ms).  The seals
                 * (helperclient.c) keep the mapping whole while it is sent;
                 * the descriptor is closed by api_response_clear(). */
                struct text_map *m = resp->text_len ? malloc(sizeof *m) : NULL;
                if (m) {
                        m->len = resp->text_len;
                        m->data = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                                       resp->text_fd, 0);
                        if (m->data == MAP_FAILED) {
                                free(m);
                                return MHD_NO;
                        }
                }
                r = m ? MHD_create_response_from_buffer_with_free_callback_cls(m->len, m->data,
                                                                               text_unmap, m)
                      : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
                if (!r) {
                        if (m)
                                text_unmap(m);
                        return MHD_NO;
                }
        } else if (!data) {
                static const char oom[] =
                        "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";
                r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                                    MHD_RESPMEM_PERSISTENT);
                resp->status = 500;
        } else
                r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r) {
                free(data);
                return MHD_NO;
        }
        add_common_headers(r, cn && !cn->l->unix_socket, resp->body ? NULL : resp->content_type);
        if (resp->status == 401)
                MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                        "Bearer realm=\"steward\"");
        if (resp->status == 405)
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
        if ((resp->status == 429 || resp->status == 503) && resp->retry_after[0])
                MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, resp->retry_after);
        if (resp->set_cookie)
                MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
        if (close)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        ret = MHD_queue_response(c, (unsigned)resp->status, r);
        MHD_destroy_response(r);
        return ret;
}

struct header_sum {
        size_t bytes, count;
};

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
        struct header_sum *s = cls;
        s->bytes += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
        s->count++;
        return MHD_YES;
}

/* Every occurrence of a query argument, not only the first (which is all
 * MHD_lookup_connection_value() sees), so that a repeated flag can be
 * refused; a bare key ("?dry_run") comes with the value NULL. */
struct query_count {
        const char *key;
        const char *first;
        size_t n;
};

static enum MHD_Result count_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value) {
        struct query_count *q = cls;
        /* Case-insensitive, as libmicrohttpd's own lookup: "DRY_RUN" is
         * the same flag, and counts as a repeat of "dry_run". */
        if (key && strcasecmp(key, q->key) == 0 && q->n++ == 0)
                q->first = value;
        return MHD_YES;
}

static size_t query_lookup(void *opaque, const char *key, const char **ret_value) {
        struct query_count q = {.key = key};

        (void)MHD_get_connection_values(opaque, MHD_GET_ARGUMENT_KIND, count_query_arg, &q);
        if (ret_value)
                *ret_value = q.first;
        return q.n;
}

static bool network_allowed(const struct setting_list *nets, const char *host) {
        for (size_t i = 0; i < nets->n; i++)
                if (network_contains(nets->name[i], host) == 1)
                        return true;
        return false;
}

static bool state_changing(const char *method) {
        return !STREQ(method, "GET") && !STREQ(method, "HEAD");
}

static void mark_authenticated(struct conn *cn) {
        connbudget_authenticated(&cn->budget);
}

static void refuse(struct request *req, const struct module_error *e) {
        api_error(&req->early, e->status ? e->status : 500, e->code[0] ? e->code : "internal",
                  e->field, "%s", e->message);
}

/* The unix socket: the helper reads the peer's credentials from the
 * connection itself (passed as a descriptor), so the front cannot lie about
 * who is on the other end. */
static int peer_session(struct MHD_Connection *c, struct conn *cn, struct module_error *e) {
        const union MHD_ConnectionInfo *fi =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        json_t *res = NULL;
        int r;

        if (cn->peer_secret[0])
                return 0;
        if (!fi) {
                module_error_set(e, 500, "internal", NULL, "no connection descriptor");
                return -EIO;
        }
        r = helper_op_peer_session(
                &(const struct helper_link){.call = helper_call, .source = cn->source},
                fi->connect_fd, &res, e);
        if (r < 0)
                return r;
        snprintf(cn->peer_secret, sizeof cn->peer_secret, "%s",
                 json_string_value(json_object_get(res, "secret")) ?: "");
        cn->peer_id = json_integer_value(json_object_get(res, "id"));
        json_decref(res);
        return 0;
}

/* The peer's session lives as long as its connection: the helper ends it
 * when the connection closes (and ends them all when a front starts, for a
 * front that died with connections open). */
static void end_peer_session(struct conn *cn) {
        const struct helper_link l = {
                .call = helper_call,
                .session = cn->peer_secret,
                .source = cn->source,
        };
        struct module_error e = {0};

        if (!cn->peer_secret[0])
                return;
        if (helper_op_peer_end(&l, &e) < 0)
                log_debug("%s: the local session was not ended: %s", cn->source, e.message);
        if (cn->peer_id > 0)
                frontauth_forget(cn->peer_id);
        explicit_bzero(cn->peer_secret, sizeof cn->peer_secret);
}

/* A local peer without a role (or over its uid's cap) is refused at the accept.  It holds no slot:
 * it does not count in max_connections, and waits a second at most for its
 * request, to be told why in a 403 (a client such as curl cannot read an
 * answer written before it has sent); past REFUSED_LINGER_MAX such peers
 * waiting at once, the connection is shut straight away, so a loop of
 * connections cannot pile up descriptors. */
#define REFUSED_LINGER_MAX 16
static _Atomic unsigned refused_lingering;

static void refuse_local_peer(struct MHD_Connection *c, struct conn *cn, int fd,
                              const struct module_error *e) {
        cn->refused = true;
        cn->refusal = malloc(sizeof *cn->refusal);
        if (cn->refusal)
                *cn->refusal = *e;
        cn->uncounted = true;
        atomic_fetch_sub(&stats_connections_open, 1);
        if (atomic_fetch_add(&refused_lingering, 1) < REFUSED_LINGER_MAX) {
                cn->lingering = true;
                MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
        } else {
                atomic_fetch_sub(&refused_lingering, 1);
                (void)shutdown(fd, SHUT_RDWR);
        }
        log_debug("%s: refused at accept: %s", cn->source, e->message);
}

/* The session cookie over every Cookie header (cookie.h). */
struct session_cookie {
        size_t count;
        const char *value;
        size_t len;
};

static enum MHD_Result find_session_cookie(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value) {
        struct session_cookie *sc = cls;
        const char *v = NULL;
        size_t len = 0, n;

        if (strcasecmp(key, MHD_HTTP_HEADER_COOKIE) != 0)
                return MHD_YES;
        n = cookie_find(value, SESSION_COOKIE, &v, &len);
        if (n > 0 && sc->count == 0) {
                sc->value = v;
                sc->len = len;
        }
        sc->count += n;
        return MHD_YES;
}

/* Decides who the caller is; fills req->early with a refusal otherwise. */
static void authenticate(struct MHD_Connection *c, struct conn *cn, struct request *req,
                         const char *method, const char *url) {
        struct module_error e = {0};
        const char *h, *secret = NULL;
        char cookie_secret[FRONTAUTH_SECRET_MAX + 1];
        bool cookie = false;

        if ((STREQ(method, "POST") && STREQ(url, "/api/v1/login")) ||
            ((STREQ(method, "GET") || STREQ(method, "HEAD")) && STREQ(url, "/api/v1/login-info")))
                return; /* the two routes open to anyone */
        if (cn->l->unix_socket) {
                if (peer_session(c, cn, &e) < 0 ||
                    frontauth_check(cn->peer_secret, cn->source, req->cfg.session_idle_timeout,
                                    &req->caller, &e) < 0) {
                        cn->peer_secret[0] = '\0';
                        refuse(req, &e);
                        return;
                }
                req->auth = "peer";
                mark_authenticated(cn);
                return;
        }
        h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (h) {
                if (strncasecmp(h, "Bearer ", 7) != 0) {
                        log_fields(LOG_LEVEL_WARNING,
                                   &(struct log_fields){.source = cn->source,
                                                        .module = "auth",
                                                        .operation = "authenticate"},
                                   "authentication failed from %s: not a bearer token", cn->source);
                        api_error(&req->early, 401, "unauthenticated", NULL,
                                  "use Authorization: Bearer TOKEN");
                        return;
                }
                secret = h + 7;
                while (*secret == ' ')
                        secret++;
        } else {
                struct session_cookie sc = {0};
                MHD_get_connection_values(c, MHD_HEADER_KIND, find_session_cookie, &sc);
                if (sc.count > 1) {
                        api_error(&req->early, 400, "bad_request", NULL,
                                  "the session cookie is sent more than once");
                        return;
                }
                if (sc.count == 1) {
                        /* Longer than any secret: it is not one. */
                        snprintf(cookie_secret, sizeof cookie_secret, "%.*s",
                                 (int)(sc.len < sizeof cookie_secret ? sc.len : 0), sc.value);
                        secret = cookie_secret;
                        cookie = true;
                }
        }
        if ((!secret || !*secret) && STREQ(method, "GET") &&
            (STREQ(url, "/metrics") || STREQ(url, "/api/v1/sd")) &&
            network_allowed(&req->cfg.scrape_allow_from, cn->host)) {
                /* Prometheus servers on networks the admin listed scrape
                 * (and find what to scrape) without a token; they get
                 * nothing but these two routes. */
                snprintf(req->caller.user, sizeof req->caller.user, "anonymous");
                /* a kind of caller, not the module */
                snprintf(req->caller.kind, sizeof req->caller.kind, "network");
                req->caller.role = ROLE_MONITOR;
                /* an authentication by address, not the module */
                req->auth = "network";
                /* A network the admin listed: not a stranger's connection. */
                mark_authenticated(cn);
                return;
        }
        if (!secret || !*secret) {
                api_error(&req->early, 401, "unauthenticated", NULL,
                          "authentication required: log in (POST /api/v1/login) and send "
                          "Authorization: Bearer TOKEN");
                return;
        }
        if (frontauth_check(secret, cn->source, req->cfg.session_idle_timeout, &req->caller, &e) <
            0) {
                if (e.status == 401)
                        log_fields(LOG_LEVEL_WARNING,
                                   &(struct log_fields){.source = cn->source,
                                                        .module = "auth",
                                                        .operation = "authenticate"},
                                   "authentication failed from %s: %s", cn->source, e.message);
                refuse(req, &e);
                return;
        }
        if (cookie) {
                /* Browsers: an Origin (when sent) naming us, and no request
                 * made by another site's page — SameSite=Strict keeps the
                 * cookie from other sites, but a page on another port of
                 * this host is the same "site"; Sec-Fetch-Site tells. */
                const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
                const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
                const char *fetch_site =
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
                char want[300];
                snprintf(want, sizeof want, "https://%s", host ? host : "");
                if ((origin && !STREQ(origin, want)) ||
                    (fetch_site && !STREQ(fetch_site, "same-origin") &&
                     !STREQ(fetch_site, "none"))) {
                        api_error(&req->early, 403, "bad_origin", NULL,
                                  "the request does not come from this server's pages");
                        return;
                }
        }
        if (cookie && state_changing(method)) {
                /* Browsers: the CSRF token on every change. */
                if (frontauth_check_csrf(
                            &req->caller,
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
                            cn->source, &e) < 0) {
                        refuse(req, &e);
                        return;
                }
        }
        req->auth = cookie ? "cookie" : "token";
        mark_authenticated(cn);
}

static void early_checks(struct MHD_Connection *c, struct conn *cn, struct request *req,
                         const char *method, const char *url) {
        struct header_sum hs = {strlen(url), 0};
        const char *cl;

        if (cn->refused) {
                refuse(req, cn->refusal ? cn->refusal
                                        : &(struct module_error){.status = 403,
                                                                 .code = "forbidden",
                                                                 .message = "no Steward role"});
                return;
        }
        /* Event streams have a limit of their own (max_event_subscribers);
         * the two counters change at different moments, hence the care. */
        uint64_t open = atomic_load(&stats_connections_open),
                 streams = atomic_load(&stats_event_subscribers);
        if ((open > streams ? open - streams : 0) > req->cfg.max_connections) {
                api_error(&req->early, 503, "too_many_connections", NULL,
                          "the server has too many connections (limit %u); retry later",
                          req->cfg.max_connections);
                return;
        }
        MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &hs);
        if (hs.bytes > req->cfg.max_header_bytes || hs.count > MAX_HEADER_COUNT) {
                api_error(&req->early, 431, "headers_too_large", NULL,
                          "request headers too large (%zu bytes in %zu fields; limits %u bytes, "
                          "%d fields)",
                          hs.bytes, hs.count, req->cfg.max_header_bytes, MAX_HEADER_COUNT);
                return;
        }
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
                uint64_t n;
                if (safe_atou64(cl, &n) < 0) {
                        api_error(&req->early, 400, "bad_request", NULL, "invalid Content-Length");
                        return;
                }
                if (n > req->cfg.max_body_bytes) {
                        api_error(&req->early, 413, "body_too_large", NULL,
                                  "request body of %llu bytes is over the limit of %u",
                                  (unsigned long long)n, req->cfg.max_body_bytes);
                        /* A client that is sending the body would see the
                         * connection reset before it reads an answer queued
                         * now; up to twice the limit, read the body and drop
                         * it, then answer. */
                        req->answer_at_end = n <= 2ull * req->cfg.max_body_bytes;
                        return;
                }
        }
        if (!req->console)
                authenticate(c, cn, req, method, url);
}

/* GET /api/v1/events: a stream the hub feeds (events.c).  HEAD gets the
 * headers only. */
static enum MHD_Result send_events(struct MHD_Connection *c, const struct conn *cn,
                                   struct request *req, struct api_response *resp,
                                   const char *method) {
        struct events_who who = {
                .secret = req->caller.secret,
                .session_id = req->caller.session_id,
                .role = req->caller.role,
                .user = req->caller.user,
                .source = cn->source,
        };
        struct module_error e = {0};
        struct events_sub *sub = NULL;
        struct MHD_Response *r;
        enum MHD_Result ret;

        if (STREQ(method, "HEAD")) {
                r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        } else {
                if (events_subscribe(resp->events_mask, resp->events_resume, resp->events_last_id,
                                     resp->events_params, &who, req->cfg.max_event_subscribers,
                                     &sub, &e) < 0) {
                        struct api_response err = {0};
                        enum MHD_Result q;
                        api_error(&err, e.status, e.code, e.field[0] ? e.field : NULL, "%s",
                                  e.message);
                        q = send_response(c, cn, &err, false);
                        api_response_clear(&err);
                        return q;
                }
                r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, events_read, sub,
                                                      events_release);
                if (!r) {
                        events_release(sub);
                        return MHD_NO;
                }
                events_attach(sub, c);
        }
        if (!r)
                return MHD_NO;
        add_common_headers(r, !cn->l->unix_socket, "text/event-stream");
        ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r); /* a failed queue releases the subscriber here */
        return ret;
}

static int connection_fd(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *fi =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        return fi ? fi->connect_fd : -1;
}

/* The API's view of a request whose body is complete. */
static void api_request_make(struct MHD_Connection *c, const struct conn *cn, struct request *req,
                             const char *method, const char *url, struct api_request *ar) {
        *ar = (struct api_request){
                .method = method,
                .path = url,
                .query = query_lookup,
                .opaque = c,
                .body = req->body.data ? req->body.data : "",
                .body_len = req->body.len,
                .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_CONTENT_TYPE),
                .auth = req->auth,
                .role = req->auth ? req->caller.role : ROLE_NONE,
                .bootstrap = req->auth && STREQ(req->caller.kind, "bootstrap"),
                .session = req->auth ? req->caller.secret : NULL,
                .session_id = req->caller.session_id,
                .max_json_depth = req->cfg.max_json_depth,
                .session_lifetime = req->cfg.session_lifetime,
                .secure = !cn->l->unix_socket,
                .last_event_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID"),
                .conn_fd = connection_fd(c),
                .helper = helper_call,
                .ctx = {.user = req->auth ? req->caller.user : "",
                        .role = role_to_string(req->auth ? req->caller.role : ROLE_NONE),
                        .source = cn->source},
        };
}

/* What an answer asks of the front, whether it goes out or not. */
static void answer_effects(const struct api_response *resp, bool changing) {
        if (resp->forget_session) {
                frontauth_forget(resp->forget_session);
                events_forget_session(resp->forget_session);
        }
        for (size_t i = 0; i < resp->n_changed_modules; i++) {
                const module_t *m = resp->changed_modules[i];
                struct module_error e = {0};
                if (module_make_live(m, /* helper= */ false, &e) < 0)
                        log_error("%s: %s", m->name, e.message);
        }
        /* A login or a change: counters and audit events follow now, and
         * every cached role is asked for again (the change may have been
         * to an account); the event streams' sessions are checked at once. */
        if (changing) {
                if (resp->status < 400)
                        frontauth_forget_all();
                events_poke();
        }
}

/* Sends the API's answer, and does what it asks of the front. */
static enum MHD_Result answer(struct MHD_Connection *c, const struct conn *cn, struct request *req,
                              const char *method, const char *url, struct api_response *resp) {
        enum MHD_Result ret;

        httpstats_record(resp->route, resp->status, now_usec() - req->start_usec);
        log_debug("%s %s %s %.200s -> %d", cn->source, req->auth ? req->caller.user : "", method,
                  url, resp->status);
        answer_effects(resp, state_changing(method));
        if (resp->status == 200 && resp->events_mask)
                ret = send_events(c, cn, req, resp, method);
        else
                ret = send_response(c, cn, resp, false);
        api_response_clear(resp);
        return ret;
}

static void request_unref(struct request *req) {
        if (atomic_fetch_sub(&req->refs, 1) != 1)
                return;
        buf_free(&req->body);
        api_response_clear(&req->early);
        api_response_clear(&req->slow_resp);
        if (req->stream) {
                pthread_mutex_destroy(&req->stream->lock);
                buf_free(&req->stream->q);
                free(req->stream);
        }
        free(req);
}

/* ---- streams ---------------------------------------------------------------- */

/* Whether the request asks for a stream (?stream=1 or any other value: the
 * API judges the flag; only "absent" means no). */
static bool stream_asked(struct MHD_Connection *c) {
        return query_lookup(c, "stream", NULL) > 0;
}

/* Whether the request may be a streaming command: a POST of
 * /api/v1/modules/M/commands/C.  Only those take one of the few stream
 * slots; a read that merely carries ?stream holds none. */
static bool stream_route(const char *method, const char *url) {
        static const char prefix[] = "/api/v1/modules/";
        const char *p;

        if (strcmp(method, "POST") != 0 || strncmp(url, prefix, sizeof prefix - 1) != 0)
                return false;
        p = strchr(url + sizeof prefix - 1, '/');
        return p && strncmp(p, "/commands/", 10) == 0 && p[10] && !strchr(p + 10, '/');
}

static int stream_new(struct request *req) {
        struct stream *st = calloc(1, sizeof *st);

        if (!st)
                return -ENOMEM;
        pthread_mutex_init(&st->lock, NULL);
        buf_init(&st->q, STREAM_QUEUE_MAX);
        req->stream = st;
        return 0;
}

/* Under st->lock: the reader is woken if it waits. */
static void stream_wake_locked(struct request *req) {
        struct stream *st = req->stream;

        if (st->waits && !st->gone) {
                st->waits = false;
                MHD_resume_connection(req->conn);
        }
}

/* The pool thread's sink of progress lines (helper_line_fn): each one,
 * checked to be a JSON object and written anew (nothing of it can end the
 * event early), is queued as one event. */
static int stream_line(void *opaque, const char *line, size_t len) {
        struct request *req = opaque;
        struct stream *st = req->stream;
        _cleanup_free_ char *text = NULL;
        int r = 0;

        if (line) {
                json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
                text = json_is_object(j) ? json_dumps(j, JSON_COMPACT) : NULL;
                json_decref(j);
                if (!text)
                        return -EBADMSG; /* not an event: the relay stops */
        }
        pthread_mutex_lock(&st->lock);
        if (st->gone || atomic_load(&streams_stopping))
                r = -EPIPE;
        else if (text && buf_printf(&st->q, "event: progress\ndata: %s\n\n", text) < 0)
                r = -E2BIG;
        else if (text && !st->started) {
                /* The answer is a stream: on_request sends its head. */
                st->started = true;
                atomic_store(&req->slow, SLOW_STREAMING);
                MHD_resume_connection(req->conn);
        } else if (text)
                stream_wake_locked(req);
        pthread_mutex_unlock(&st->lock);
        return r;
}

/* The last event, from the API's answer: {"result": …, "audit_id": N} or
 * the error's body. */
static int stream_finish_locked(struct stream *st, struct api_response *resp) {
        _cleanup_free_ char *text = NULL;
        json_t *o;

        if (resp->status == 200 && json_is_object(resp->body)) {
                json_t *id = json_incref(json_object_get(resp->body, "audit_id"));
                json_object_del(resp->body, "audit_id");
                o = json_pack("{s:O, s:o?}", "result", resp->body, "audit_id", id);
        } else if (json_is_object(resp->body))
                o = json_incref(resp->body);
        else
                o = json_pack("{s:{s:s, s:s}}", "error", "code", "internal", "message",
                              "the command's answer is not JSON");
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text)
                return -ENOMEM;
        return buf_printf(&st->q, "event: %s\ndata: %s\n\n",
                          resp->status == 200 ? "result" : "error", text);
}

/* In the pool thread, once the command has answered: true when the answer
 * is a stream (then its last event is queued and the reader woken), false
 * when no event came, and the answer goes out as an ordinary one. */
static bool stream_end(struct request *req) {
        struct stream *st = req->stream;
        struct api_response *resp = &req->slow_resp;

        if (!st)
                return false;
        pthread_mutex_lock(&st->lock);
        if (!st->started) {
                pthread_mutex_unlock(&st->lock);
                return false;
        }
        if (!st->gone && stream_finish_locked(st, resp) < 0) {
                /* Past the queue's bound: the client still learns it ended. */
                st->q.len = st->off;
                (void)buf_puts(&st->q, "event: error\ndata: {\"error\": {\"code\": "
                                       "\"answer_too_large\", \"message\": \"the answer is "
                                       "too large\"}}\n\n");
        }
        st->done = true;
        stream_wake_locked(req);
        pthread_mutex_unlock(&st->lock);
        httpstats_record(resp->route, 200, now_usec() - req->start_usec);
        answer_effects(resp, /* changing= */ true);
        api_response_clear(resp);
        return true;
}

/* libmicrohttpd's reader of a stream's answer. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        struct request *req = cls;
        struct stream *st = req->stream;
        size_t n;

        pthread_mutex_lock(&st->lock);
        if (st->off < st->q.len) {
                n = st->q.len - st->off < max ? st->q.len - st->off : max;
                memcpy(buf, st->q.data + st->off, n);
                st->off += n;
                if (st->off == st->q.len)
                        st->q.len = st->off = 0;
                pthread_mutex_unlock(&st->lock);
                return (ssize_t)n;
        }
        if (st->done || st->gone) {
                pthread_mutex_unlock(&st->lock);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        /* Nothing yet: off the event loop until stream_line() wakes us. */
        st->waits = true;
        MHD_suspend_connection(req->conn);
        pthread_mutex_unlock(&st->lock);
        return 0;
}

/* The stream's response is destroyed (sent, or its client left). */
static void stream_release(void *cls) {
        struct request *req = cls;
        struct stream *st = req->stream;

        pthread_mutex_lock(&st->lock);
        st->gone = true;
        st->waits = false;
        pthread_mutex_unlock(&st->lock);
        request_unref(req);
}

/* The head of a stream's answer, once its first event came. */
static enum MHD_Result stream_answer(struct MHD_Connection *c, const struct conn *cn,
                                     struct request *req) {
        struct MHD_Response *r;
        enum MHD_Result ret;

        atomic_fetch_add(&req->refs, 1); /* the response's */
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, req,
                                              stream_release);
        if (!r) {
                stream_release(req);
                return MHD_NO;
        }
        add_common_headers(r, !cn->l->unix_socket, "text/event-stream");
        ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r); /* a failed queue releases it here */
        return ret;
}

/* In a pool thread: the request's handler, then the connection resumed
 * (libmicrohttpd then calls on_request again, which sends slow_resp).  A
 * request still waiting when the daemon stops is answered 503 instead.  A
 * stream's sink is stream_line(), its end stream_end(). */
static void slow_run(void *arg, bool stopping) {
        struct request *req = arg;
        struct api_request ar;

        if (stopping) {
                api_error(&req->slow_resp, 503, "unavailable", NULL,
                          "the server is stopping; retry shortly");
                snprintf(req->slow_resp.retry_after, sizeof req->slow_resp.retry_after, "1");
        } else {
                api_request_make(req->conn, req->cn, req, req->method, req->url, &ar);
                if (req->stream) {
                        ar.helper_stream = helper_call_stream;
                        ar.stream_line = stream_line;
                        ar.stream_opaque = req;
                }
                api_handle(&ar, &req->slow_resp);
        }
        if (req->stream)
                atomic_fetch_sub(&streams_running, 1);
        if (!stream_end(req)) {
                atomic_store(&req->slow, SLOW_DONE);
                MHD_resume_connection(req->conn);
        }
        request_unref(req);
}

/* Suspends the connection and queues the request for the pool, or answers
 * 503 when the pool is full.  The connection is suspended first, so that
 * the pool thread never resumes a connection that is not suspended yet. */
static enum MHD_Result slow_start(struct MHD_Connection *c, const struct conn *cn,
                                  struct request *req, const char *method, const char *url) {
        int r;

        req->conn = c;
        req->cn = cn;
        req->method = method;
        req->url = url;
        if (stream_asked(c) && stream_route(method, url) && !req->stream) {
                if (atomic_fetch_add(&streams_running, 1) >= HELPER_STREAM_CHANNELS) {
                        struct api_response resp = {0};
                        atomic_fetch_sub(&streams_running, 1);
                        api_error(&resp, 503, "too_many_streams", NULL,
                                  "too many streaming commands at once; retry shortly");
                        snprintf(resp.retry_after, sizeof resp.retry_after, "5");
                        return answer(c, cn, req, method, url, &resp);
                }
                if (stream_new(req) < 0) {
                        atomic_fetch_sub(&streams_running, 1);
                        return MHD_NO;
                }
        }
        atomic_store(&req->slow, SLOW_RUNNING);
        atomic_fetch_add(&req->refs, 1); /* the job's */
        MHD_suspend_connection(c);
        r = workpool_submit(slow_run, req);
        if (r < 0) {
                atomic_fetch_sub(&req->refs, 1);
                if (req->stream)
                        atomic_fetch_sub(&streams_running, 1);
                log_warning("%s: refused %s %.200s: %s", cn->source, method, url,
                            r == -EBUSY ? "too many slow requests at once" : "shutting down");
                api_error(&req->slow_resp, 503, "too_many_slow_requests", NULL,
                          "too many slow requests at once; retry shortly");
                snprintf(req->slow_resp.retry_after, sizeof req->slow_resp.retry_after, "1");
                atomic_store(&req->slow, SLOW_DONE);
                MHD_resume_connection(c);
        }
        return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn *cn = ci ? ci->socket_context : NULL;
        struct request *req = *req_cls;
        struct api_request ar;
        struct api_response resp = {0};
        enum MHD_Result ret;

        if (!cn)
                return MHD_NO;
        if (!req) {
                connbudget_headers_done(&cn->budget);
                req = calloc(1, sizeof *req);
                if (!req)
                        return MHD_NO;
                atomic_init(&req->refs, 1); /* the connection's */
                *req_cls = req;
                req->start_usec = now_usec();
                atomic_fetch_add(&stats_requests_total, 1);
                steward_config_get(&req->cfg);
                buf_init(&req->body, req->cfg.max_body_bytes);
                req->console = (STREQ(method, "GET") || STREQ(method, "HEAD")) && console_path(url);
                early_checks(c, cn, req, method, url);
                if (req->early.status && !req->answer_at_end) {
                        log_debug("%s %s %.200s -> %d", cn->source, method, url, req->early.status);
                        req->answered = true;
                        return send_response(c, cn, &req->early, true);
                }
                return MHD_YES;
        }
        if (*upload_size) {
                /* libmicrohttpd 0.9.75 cannot queue an answer while a body is
                 * still arriving, so a body over the limit is read and dropped
                 * (up to twice the limit in all) to answer 413 at its end; a
                 * client that keeps sending past that is cut off. */
                if (!req->early.status && buf_append(&req->body, upload_data, *upload_size) < 0) {
                        api_error(&req->early, 413, "body_too_large", NULL,
                                  "request body over the limit of %u bytes",
                                  req->cfg.max_body_bytes);
                        buf_free(&req->body);
                }
                if (req->early.status) {
                        req->discarded += *upload_size;
                        if (req->discarded > 2ull * req->cfg.max_body_bytes)
                                return MHD_NO;
                }
                *upload_size = 0;
                return MHD_YES;
        }
        /* The whole request is in: no deadline while it is answered. */
        connbudget_request_received(&cn->budget);
        if (req->early.status)
                return req->answered ? MHD_YES : send_response(c, cn, &req->early, true);
        if (req->console) {
                const struct console_asset *a = console_find(url);
                if (a) {
                        int status = 0;
                        ret = send_console(c, cn, a, &status);
                        /* Route "" is labelled "/": the console. */
                        httpstats_record("", status, now_usec() - req->start_usec);
                        return ret;
                }
                api_error(&resp, 404, "not_found", NULL, "no such resource");
                httpstats_record(NULL, resp.status, now_usec() - req->start_usec);
                ret = send_response(c, cn, &resp, false);
                api_response_clear(&resp);
                return ret;
        }

        if (atomic_load(&req->slow) == SLOW_DONE) {
                resp = req->slow_resp;
                req->slow_resp = (struct api_response){0};
                return answer(c, cn, req, method, url, &resp);
        }
        if (atomic_load(&req->slow) == SLOW_STREAMING)
                return stream_answer(c, cn, req);
        if (atomic_load(&req->slow) == SLOW_RUNNING)
                return MHD_YES; /* not expected: suspended until it is done */
        if (api_route_slow(method, url))
                return slow_start(c, cn, req, method, url);
        api_request_make(c, cn, req, method, url, &ar);
        api_handle(&ar, &resp);
        return answer(c, cn, req, method, url, &resp);
}

/* libmicrohttpd has the request line: the clock for the headers runs (for a
 * connection that has not authenticated, it already runs since the accept
 * or the previous request's end). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn *cn = ci ? ci->socket_context : NULL;

        if (cn)
                connbudget_request_started(&cn->budget, now_usec());
        return NULL; /* *req_cls stays NULL until on_request */
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn *cn = ci ? ci->socket_context : NULL;
        struct request *req = *req_cls;

        if (cn && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
                connbudget_request_done(&cn->budget, now_usec());
        if (!req)
                return;
        *req_cls = NULL;
        if (req->stream) {
                /* Its command may run on: it is told at its next event. */
                pthread_mutex_lock(&req->stream->lock);
                req->stream->gone = true;
                req->stream->waits = false;
                pthread_mutex_unlock(&req->stream->lock);
        }
        request_unref(req);
}

static void describe_peer(struct MHD_Connection *c, struct conn *cn) {
        if (cn->l->unix_socket) {
                /* For the log only: the helper decides with the descriptor. */
                const union MHD_ConnectionInfo *fi =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                struct ucred cred;
                socklen_t len = sizeof cred;
                cn->uid = (unsigned)-1;
                if (!fi || getsockopt(fi->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                        snprintf(cn->source, sizeof cn->source, "unix:unknown");
                else {
                        cn->uid = (unsigned)cred.uid;
                        snprintf(cn->source, sizeof cn->source, "unix:uid=%u,pid=%d",
                                 (unsigned)cred.uid, (int)cred.pid);
                }
                return;
        }
        const union MHD_ConnectionInfo *ai =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char host[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;
        if (ai && ai->client_addr) {
                const struct sockaddr *sa = ai->client_addr;
                connbudget_source_key(sa, cn->budget_key, sizeof cn->budget_key);
                if (sa->sa_family == AF_INET) {
                        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
                        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
                        port = ntohs(s4->sin_port);
                } else if (sa->sa_family == AF_INET6) {
                        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
                        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
                        port = ntohs(s6->sin6_port);
                }
        }
        snprintf(cn->source, sizeof cn->source, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
                 port);
        snprintf(cn->host, sizeof cn->host, "%s", host);
        if (!cn->budget_key[0])
                snprintf(cn->budget_key, sizeof cn->budget_key, "%s", host);
}

/* A uid the helper found without a role is refused again for a second
 * without asking it, so an account cannot keep the helper busy by
 * connecting in a loop; a role granted meanwhile counts a second later. */
#define REFUSED_UIDS          32
#define REFUSED_UID_HOLD_USEC 1000000u

static struct refused_uid {
        unsigned uid;
        uint64_t until_usec;
        struct module_error e;
} refused_uids[REFUSED_UIDS];
static pthread_mutex_t refused_lock = PTHREAD_MUTEX_INITIALIZER;

static bool refused_lately(unsigned uid, uint64_t now, struct module_error *ret) {
        bool found = false;

        pthread_mutex_lock(&refused_lock);
        for (size_t i = 0; i < REFUSED_UIDS && !found; i++)
                if (refused_uids[i].uid == uid && refused_uids[i].until_usec > now) {
                        *ret = refused_uids[i].e;
                        found = true;
                }
        pthread_mutex_unlock(&refused_lock);
        return found;
}

static void remember_refused(unsigned uid, uint64_t now, const struct module_error *e) {
        struct refused_uid *slot = &refused_uids[0];

        pthread_mutex_lock(&refused_lock);
        for (size_t i = 0; i < REFUSED_UIDS; i++) {
                if (refused_uids[i].uid == uid) {
                        slot = &refused_uids[i];
                        break;
                }
                if (refused_uids[i].until_usec < slot->until_usec)
                        slot = &refused_uids[i];
        }
        *slot = (struct refused_uid){
                .uid = uid, .until_usec = now + REFUSED_UID_HOLD_USEC, .e = *e};
        pthread_mutex_unlock(&refused_lock);
}

/* The unix socket: who the peer is, decided once, at the accept — a peer
 * with a role gets its session (the connection is then authenticated); one
 * without is answered 403 and shut before it can hold anything. */
static void admit_local(struct MHD_Connection *c, struct conn *cn, int fd,
                        const struct connbudget_limits *lim, unsigned per_uid) {
        struct module_error e = {0};
        char key[CONNBUDGET_SOURCE_MAX];
        uint64_t now = now_usec();
        bool known = cn->uid != (unsigned)-1, cached = known && refused_lately(cn->uid, now, &e);

        snprintf(key, sizeof key, "uid=%u", cn->uid);
        /* An account with a role may not fill the server with idle local
         * connections either (root may: it owns the machine). */
        if (!cached && cn->uid != 0 && connbudget_count(key) >= per_uid) {
                module_error_set(&e, 503, "too_many_connections", NULL,
                                 "uid %u has %u connections open on the local socket (limit %u)",
                                 cn->uid, per_uid, per_uid);
                atomic_fetch_add(&stats_closed_local_cap, 1);
                refuse_local_peer(c, cn, fd, &e);
                return;
        }
        if (cached || (peer_session(c, cn, &e) < 0 && e.status == 403)) {
                if (known && !cached) /* the helper's word, held for a second from now */
                        remember_refused(cn->uid, now, &e);
                atomic_fetch_add(&stats_closed_local_no_role, 1);
                refuse_local_peer(c, cn, fd, &e);
                return;
        }
        /* Another failure (the helper busy restarting) is retried at the
         * first request, which answers it. */
        (void)connbudget_admit(&cn->budget, fd, key, true, lim, now_usec());
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        const struct listener *l = cls;

        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *fi =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                struct steward_config cfg;
                struct connbudget_limits lim;
                struct conn *cn = calloc(1, sizeof *cn);
                atomic_fetch_add(&stats_connections_open, 1);
                if (!cn || !fi) {
                        free(cn);
                        return; /* on_request refuses a connection without context */
                }
                cn->l = l;
                describe_peer(c, cn);
                steward_config_get(&cfg);
                MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, cfg.idle_timeout);
                lim = (struct connbudget_limits){
                        .unauthenticated = cfg.max_unauthenticated_connections,
                        .per_source = cfg.max_unauthenticated_per_source,
                        .header_timeout = cfg.header_timeout,
                };
                if (l->unix_socket)
                        admit_local(c, cn, fi->connect_fd, &lim, cfg.max_local_connections_per_uid);
                else if (connbudget_admit(&cn->budget, fi->connect_fd, cn->budget_key, false, &lim,
                                          now_usec()) < 0)
                        log_debug("%s: refused: too many connections from there (limit %u) or "
                                  "in all (limit %u) that have not authenticated",
                                  cn->source, lim.per_source, lim.unauthenticated);
                *socket_context = cn;
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                struct conn *cn = *socket_context;
                if (!cn || !cn->uncounted)
                        atomic_fetch_sub(&stats_connections_open, 1);
                if (cn) {
                        if (cn->lingering)
                                atomic_fetch_sub(&refused_lingering, 1);
                        connbudget_remove(&cn->budget);
                        end_peer_session(cn);
                        free(cn->refusal);
                }
                free(*socket_context);
                *socket_context = NULL;
        }
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        log_debug("http: %s", msg);
}

static unsigned hard_connection_limit(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 256)
                return 128;
        return rl.rlim_cur > 200000 ? 100000 : (unsigned)(rl.rlim_cur / 2);
}

int http_start(struct listener *ls, size_t n, const struct http_options *opt, char *err,
               size_t err_len) {
        struct steward_config cfg;
        int r;

        steward_config_get(&cfg);
        if (connbudget_start_reaper() < 0) {
                snprintf(err, err_len, "cannot start the connection reaper");
                return -EIO;
        }
        r = workpool_start(SLOW_THREADS, SLOW_JOBS_MAX);
        if (r < 0) {
                snprintf(err, err_len, "cannot start the threads for slow requests: %s",
                         strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                struct listener *l = &ls[i];
                /* Suspend/resume: an event stream waiting for its next
                 * event holds no thread and is not polled (events.c). */
                unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
                struct MHD_OptionItem ops[16];
                size_t k = 0;

                /* The logger must come first to catch messages about the others. */
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log,
                                                   NULL};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, l->fd, NULL};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                                   hard_connection_limit(), NULL};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, cfg.idle_timeout,
                                                   NULL};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                                   MHD_POOL_BYTES, NULL};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                                   (intptr_t)on_connection, l};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                                   (intptr_t)on_completed, NULL};
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK,
                                                   (intptr_t)on_request_line, NULL};
                if (!l->unix_socket) {
                        flags |= MHD_USE_TLS;
                        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                                           opt->tls->key_pem};
                        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                                           opt->tls->cert_pem};
                        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                                           (void *)TLS_PRIORITIES};
                        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                                           cfg.max_connections_per_ip, NULL};
                        if (opt->threads > 1)
                                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                                                   opt->threads, NULL};
                }
                ops[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

                l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_ARRAY,
                                          ops, MHD_OPTION_END);
                if (!l->mhd) {
                        snprintf(err, err_len, "cannot start the HTTP server on %s", l->name);
                        http_stop(ls, i);
                        return -EIO;
                }
        }
        return 0;
}

void http_stop(struct listener *ls, size_t n) {
        /* First: every slow request resumes its connection, which
         * libmicrohttpd needs before it stops; new ones get 503.  A
         * stream's command is told its client is gone, and stops. */
        atomic_store(&streams_stopping, true);
        workpool_stop();
        for (size_t i = 0; i < n; i++)
                if (ls[i].mhd) {
                        /* Take the listening socket back first and only close
                         * it: MHD_stop_daemon would shutdown() it, which ends
                         * listening for every holder of the socket, systemd's
                         * socket unit included (and a restart would then be
                         * handed a dead socket).  MHD_ALLOW_SUSPEND_RESUME
                         * implies the ITC that quiescing needs. */
                        MHD_socket fd = MHD_quiesce_daemon(ls[i].mhd);
                        if (fd != MHD_INVALID_SOCKET)
                                close(fd);
                        MHD_stop_daemon(ls[i].mhd);
                        ls[i].mhd = NULL;
                        ls[i].fd = -1;
                }
        connbudget_stop_reaper();
}
