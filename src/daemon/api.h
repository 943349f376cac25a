/* api.h — the JSON API, independent of the HTTP library.
 *
 * The HTTP layer (http.c) authenticates the caller, reads the body within its
 * limits and hands an api_request to api_handle(); api_handle() routes it
 * through one table, validates, calls the module tables and fills an
 * api_response.  Keeping this free of libmicrohttpd lets the fuzz target and
 * the unit tests drive the whole request path directly. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helperstubs.h"
#include "module.h"

/* How the API reaches the privileged helper (helper_call() in the daemon;
 * an in-process dispatcher in the fuzz target), through the typed stubs of
 * helperstubs.h. */
typedef helper_call_fn api_helper_fn;

struct api_request {
        const char *method;
        const char *path; /* decoded path, no query */
        /* Query arguments: how many times key occurs (0: absent) and, through
         * ret_value if not NULL, the first one's value: NULL for a bare key
         * ("?dry_run"), "" for "?dry_run=". */
        size_t (*query)(void *opaque, const char *key, const char **ret_value);
        void *opaque;
        const char *body;
        size_t body_len;
        const char *content_type; /* may be NULL */
        const char *auth;         /* "peer", "token", "cookie" or NULL (not authenticated) */
        int role;                 /* enum role of the caller; ROLE_NONE when not authenticated */
        bool bootstrap;           /* the caller holds the one-time bootstrap token */
        const char *session;      /* the caller's secret, passed on to the helper */
        int64_t session_id;
        unsigned max_json_depth;
        unsigned session_lifetime; /* for the login cookie's Max-Age */
        bool secure;               /* TLS (the cookie is Secure either way: __Host-) */
        const char *last_event_id; /* the Last-Event-ID header, or NULL */
        /* The client's connection, passed to the helper with a login so that
         * it reads the source itself (-1: none; every initialiser sets it). */
        int conn_fd;
        api_helper_fn helper;
        /* ?stream=1 on a command that streams (module.h): the streaming
         * call (helper_call_stream) and the sink its progress lines go to,
         * each one of compact JSON without its newline.  NULL where the
         * transport cannot stream (400). */
        helper_call_stream_fn helper_stream;
        helper_line_fn stream_line;
        void *stream_opaque;
        struct module_ctx ctx;
};

#define API_CHANGED_MODULES_MAX 8

struct api_response {
        int status;
        json_t *body;           /* owned */
        char allow[64];         /* for 405: the Allow header */
        char *set_cookie;       /* owned; a Set-Cookie header to send */
        int64_t forget_session; /* a session id the front must drop from its cache */
        /* Modules whose files the helper wrote or restored: the front calls
         * their make_live() too. */
        const module_t *changed_modules[API_CHANGED_MODULES_MAX];
        size_t n_changed_modules;
        char retry_after[24]; /* for 429 and 503 */
        char *text;           /* owned; a non-JSON body (then body is NULL) */
        size_t text_len;      /* of text, or of the file text_fd */
        bool has_text_fd;     /* the body is the file text_fd (owned), from offset 0 */
        int text_fd;
        const char *content_type; /* of text */
        /* The matched route's pattern (static), or NULL: a bounded label for
         * the request counters. */
        const char *route;
        /* GET /api/v1/events: the HTTP layer opens a stream of these types
         * (bits of event types, registry.h) instead of sending body; resuming after
         * events_last_id when events_resume. */
        unsigned events_mask;
        bool events_resume;
        uint64_t events_last_id;
        /* And for the types filtered per stream (event_def_t.subscribe):
         * {"TYPE": {"PARAM": "value", …}}, owned. */
        json_t *events_params;
};

/* The lowest role a request needs: -1 when no route matches (404/405 are
 * decided by api_handle), ROLE_NONE for the login route. */
int api_route_role(const char *method, const char *path);

/* Whether the request's handler may take long (a collection read: the
 * helper runs it in a worker, or the front runs a front_reads collection's
 * own; an item action, which may wait for what it started; a command): the
 * HTTP layer then runs it off its own threads (workpool.h).  A streaming
 * command's request is always one of these. */
bool api_route_slow(const char *method, const char *path);

void api_handle(const struct api_request *req, struct api_response *resp);

/* One route as the dispatcher matches it, with its documentation: what
 * tools/gen-openapi.c builds the OpenAPI document from. */
struct api_route_doc {
        const char *method;
        const char *pattern; /* as matched: '*' segments, "{collection}" */
        int min_role;        /* enum role */
        const char *params;  /* names of the '*' segments, space-separated; NULL: none */
        const char *summary;
        const char *request;       /* a schema component's name, or NULL */
        const char *response;      /* a schema component's name, or NULL */
        const char *response_json; /* a module route's: JSON Schema text, or NULL */
        const char *query; /* query arguments it reads, space-separated; NULL: none */
        const char *flags; /* query flags it reads (the API's one grammar) */
        bool text;                 /* answers text/plain, not JSON */
        const module_t *module;    /* the module whose route it is, or NULL */
        const char *command;       /* a module route that runs this command of module */
        bool collection;           /* a route of every collection ("{collection}") */
};

/* Calls fn for every route in the order find_route() tries them: the API's
 * own, each module's, then the collections'. */
void api_route_walk(void (*fn)(const struct api_route_doc *r, void *userdata), void *userdata);

/* The OpenAPI document GET /api/v1/openapi.json answers (static, not
 * copied); until it is set that route answers 404. */
void api_set_openapi(const char *doc, size_t len);

/* GET /api/v1/sd: the target groups for a request that came on the
 * connection conn_fd (-1: none known), as a new JSON array (NULL: out of
 * memory); anonymous: the caller holds no token (a network of
 * metrics:allow_from), whose groups carry no version label.  Set by the
 * front (sd.c); until then the route answers 404. */
typedef json_t *(*api_sd_fn)(int conn_fd, bool anonymous);
void api_set_sd(api_sd_fn fn);

/* Fills resp with the error contract's body. */
void api_error(struct api_response *resp, int status, const char *code, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void api_response_clear(struct api_response *resp);
