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

#include "module.h"

struct api_request {
        const char *method;
        const char *path; /* decoded path, no query */
        /* Query argument lookup; NULL if absent. */
        const char *(*query)(void *opaque, const char *key);
        void *opaque;
        const char *body;
        size_t body_len;
        const char *content_type; /* may be NULL */
        const char *auth;         /* "peer" or "token" */
        unsigned max_json_depth;
        struct module_ctx ctx;
};

struct api_response {
        int status;
        json_t *body;      /* owned */
        const char *allow; /* for 405: the Allow header */
};

void api_handle(const struct api_request *req, struct api_response *resp);

/* Fills resp with the error contract's body. */
void api_error(struct api_response *resp, int status, const char *code, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void api_response_clear(struct api_response *resp);
