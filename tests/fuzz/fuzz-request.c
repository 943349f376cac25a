/* fuzz-request.c — the API request path below HTTP: routing, query
 * arguments, JSON bodies, schema validation, settings patches (written to a
 * scratch config file), commands.
 *
 * Input: "METHOD\nPATH[?QUERY]\nCONTENT-TYPE\nBODY…".  Every answer must be a
 * status from the error contract with a JSON body, and every error body must
 * carry error.code and error.message. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/api.h"
#include "log.h"
#include "modules/stewardd/stewardd.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct query {
        char keys[8][64];
        char values[8][256];
        size_t n;
};

static const char *lookup(void *opaque, const char *key) {
        struct query *q = opaque;
        for (size_t i = 0; i < q->n; i++)
                if (strcmp(q->keys[i], key) == 0)
                        return q->values[i];
        return NULL;
}

static void parse_query(char *s, struct query *q) {
        char *save = NULL;
        for (char *p = strtok_r(s, "&", &save); p && q->n < 8; p = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(p, '=');
                if (eq)
                        *eq = '\0';
                snprintf(q->keys[q->n], sizeof q->keys[0], "%s", p);
                snprintf(q->values[q->n], sizeof q->values[0], "%s", eq ? eq + 1 : "");
                q->n++;
        }
}

/* Splits off the next line of the input as a NUL-terminated copy. */
static char *next_line(const uint8_t **p, size_t *left) {
        const uint8_t *nl = memchr(*p, '\n', *left);
        size_t n = nl ? (size_t)(nl - *p) : *left;
        char *s = strndup((const char *)*p, n);
        *p += nl ? n + 1 : n;
        *left -= nl ? n + 1 : n;
        return s;
}

static char scratch_dir[] = "/tmp/steward-fuzz-XXXXXX";
static char scratch_conf[64];

static void cleanup(void) {
        (void)unlink(scratch_conf);
        (void)rmdir(scratch_dir);
}

static void setup(void) {
        static bool done;
        char err[256];

        if (done)
                return;
        done = true;
        log_open(true);
        if (!mkdtemp(scratch_dir))
                abort();
        snprintf(scratch_conf, sizeof scratch_conf, "%s/stewardd.conf", scratch_dir);
        atexit(cleanup);
        if (stewardd_config_init(scratch_conf, LOG_LEVEL_ERROR, err, sizeof err) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *p = data;
        size_t left = size;
        struct query q = {0};
        struct api_response resp;
        char *method, *path, *ctype, *qs;
        struct api_request req;

        if (size > 65536)
                return 0;
        setup();
        method = next_line(&p, &left);
        path = next_line(&p, &left);
        ctype = next_line(&p, &left);
        qs = strchr(path, '?');
        if (qs) {
                *qs++ = '\0';
                parse_query(qs, &q);
        }
        req = (struct api_request){
                .method = method,
                .path = path,
                .query = lookup,
                .opaque = &q,
                .body = (const char *)p,
                .body_len = left,
                .content_type = ctype,
                .auth = "peer",
                .max_json_depth = 32,
                .ctx = {.user = "fuzz", .role = "admin", .source = "fuzz"},
        };
        api_handle(&req, &resp);
        if (resp.status < 200 || resp.status > 599 || !json_is_object(resp.body))
                abort();
        if (resp.status >= 400) {
                json_t *e = json_object_get(resp.body, "error");
                if (!json_is_string(json_object_get(e, "code")) ||
                    !json_is_string(json_object_get(e, "message")))
                        abort();
        }
        api_response_clear(&resp);
        free(method);
        free(path);
        free(ctype);
        return 0;
}
