/* fuzz-request.c — the API request path below HTTP: routing, query
 * arguments, JSON bodies, schema validation, settings patches (written to a
 * scratch config file), commands.
 *
 * Input: "METHOD\nPATH[?QUERY]\nCONTENT-TYPE\nBODY…".  Every answer must be a
 * status from the error contract with a JSON body, and every error body must
 * carry error.code and error.message.
 *
 * Changes go to a real helper dispatcher in this process, with its store in
 * a scratch directory and an admin session, so the helper's operations are
 * fuzzed too.  The system module's settings would change this machine's host
 * name, and writes to the users and groups collections its accounts: those
 * requests are forced to dry runs. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/api.h"
#include "daemon/helperclient.h"
#include "helper/helper.h"
#include "roles.h"
#include "log.h"
#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct helper *helper;
static char admin_secret[128];

static int in_process_helper(enum helper_op op, const char *session, const char *source,
                             json_t *args, int fd, json_t **ret, json_t **ret_details,
                             struct module_error *e) {
        json_t *req = json_pack("{s:s, s:i, s:s?, s:s?, s:O?}", "op", helper_ops[op].name, "id", 1,
                                "session", session, "source", source, "args", args);
        json_t *answer = req ? helper_dispatch(helper, req, -1) : NULL;
        int r;

        json_decref(req);
        json_decref(args);
        if (!answer) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        r = helper_answer_parse(answer, ret, ret_details, e);
        json_decref(answer);
        return r;
}

struct query {
        char keys[8][64];
        char values[8][256];
        size_t n;
};

static size_t lookup(void *opaque, const char *key, const char **ret_value) {
        struct query *q = opaque;
        size_t n = 0;
        for (size_t i = 0; i < q->n; i++)
                if (strcmp(q->keys[i], key) == 0 && n++ == 0 && ret_value)
                        *ret_value = q->values[i];
        return n;
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

static void cleanup(void) {
        static const char *const names[] = {"stewardd.conf", "bootstrap-token", "steward.db",
                                            "steward.db-wal", "steward.db-shm"};
        char p[128];
        helper_free(helper);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                snprintf(p, sizeof p, "%s/%s", scratch_dir, names[i]);
                (void)unlink(p);
        }
        (void)rmdir(scratch_dir);
}

static void setup(void) {
        static bool done;
        char err[256], conf[64], token_path[64];
        json_t *res = NULL;
        struct module_error e = {0};
        const char *token = "stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

        if (done)
                return;
        done = true;
        log_open(true);
        if (!mkdtemp(scratch_dir))
                abort();
        atexit(cleanup);
        snprintf(conf, sizeof conf, "%s/stewardd.conf", scratch_dir);
        snprintf(token_path, sizeof token_path, "%s/bootstrap-token", scratch_dir);
        if (steward_config_init(conf, LOG_LEVEL_ERROR, err, sizeof err) < 0 ||
            write_file_atomic(token_path, token, strlen(token), 0600) < 0 ||
            helper_new(scratch_dir, token_path, &helper, err, sizeof err) < 0 ||
            in_process_helper(HELPER_OP_LOGIN_BOOTSTRAP, NULL, "fuzz",
                              json_pack("{s:s}", "token", token), -1, &res, NULL, &e) < 0)
                abort();
        snprintf(admin_secret, sizeof admin_secret, "%s",
                 json_string_value(json_object_get(res, "token")));
        json_decref(res);
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
        /* Logging out would end the one admin session for every later input. */
        if (size >= 6 && memmem(data, size, "logout", 6))
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
        /* The network diagnostics would send packets off this machine
         * (and wait for them): not from a fuzzer. */
        if (strstr(path, "commands") && strcmp(method, "GET") != 0) {
                const char *const diag[] = {"ping", "traceroute", "lookup", "portcheck"};
                for (size_t i = 0; i < sizeof diag / sizeof diag[0]; i++)
                        if (strstr(path, diag[i])) {
                                free(method);
                                free(path);
                                free(ctype);
                                return 0;
                        }
        }
        /* Account changes would run useradd on this machine: dry runs too
         * (planned in a throw-away overlay). */
        if ((strstr(path, "system") && strcmp(method, "PATCH") == 0) ||
            ((strstr(path, "users") || strstr(path, "groups")) && strcmp(method, "GET") != 0 &&
             strcmp(method, "HEAD") != 0)) {
                bool set = false;
                for (size_t i = 0; i < q.n; i++)
                        if (strcmp(q.keys[i], "dry_run") == 0) {
                                snprintf(q.values[i], sizeof q.values[0], "1");
                                set = true;
                        }
                if (!set && q.n == 8) {
                        free(method);
                        free(path);
                        free(ctype);
                        return 0;
                }
                if (!set) {
                        snprintf(q.keys[q.n], sizeof q.keys[0], "dry_run");
                        snprintf(q.values[q.n], sizeof q.values[0], "1");
                        q.n++;
                }
        }
        req = (struct api_request){
                .method = method,
                .path = path,
                .query = lookup,
                .opaque = &q,
                .body = (const char *)p,
                .body_len = left,
                .content_type = ctype,
                .auth = "token",
                .role = ROLE_ADMIN,
                .session = admin_secret,
                .max_json_depth = 32,
                .session_lifetime = 3600,
                .conn_fd = -1,
                .helper = in_process_helper,
                .ctx = {.user = "fuzz", .role = "admin", .source = "fuzz"},
        };
        api_handle(&req, &resp);
        if (resp.status < 200 || resp.status > 599)
                abort();
        /* A success may be text (GET /metrics, a collection's list_text);
         * everything else is a JSON object. */
        if ((resp.text || resp.has_text_fd)
                    ? resp.body != NULL || resp.status >= 400 || !resp.content_type
                    : !json_is_object(resp.body))
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
