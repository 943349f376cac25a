/* helperclient.c — see helperclient.h. */
#include "helperclient.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int helper_sock = -1;
static int64_t next_id = 1;

void helper_client_init(int sock) {
        pthread_mutex_lock(&lock);
        helper_sock = sock;
        pthread_mutex_unlock(&lock);
}

/* A body the helper passed in a sealed memfd: the descriptor itself goes
 * to the caller (the HTTP layer sends the file as it is, without copying
 * it into this process).  The seals are checked: nobody can change or
 * shrink the file while it is sent. */
static int body_fd(int *fd, json_t *answer, struct module_error *e) {
        int seals = fcntl(*fd, F_GET_SEALS);

        if (seals < 0 ||
            (seals & (F_SEAL_WRITE | F_SEAL_SHRINK)) != (F_SEAL_WRITE | F_SEAL_SHRINK) ||
            json_object_set_new(answer, "body_fd", json_integer(*fd)) < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot read the helper's answer");
                return -EINVAL;
        }
        *fd = -1;
        return 0;
}

int helper_call(const char *op, const char *session, const char *source, json_t *args, int fd,
                json_t **ret, json_t **ret_details, struct module_error *e) {
        json_t *req, *answer = NULL;
        int64_t id;
        int r, rfd = -1;

        req = json_pack("{s:s, s:s?, s:s?, s:o}", "op", op, "session", session, "source", source,
                        "args", args ? args : json_object());
        if (!req) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        pthread_mutex_lock(&lock);
        id = next_id++;
        json_object_set_new(req, "id", json_integer(id));
        r = helper_sock < 0 ? -ENOTCONN : proto_send(helper_sock, req, fd);
        if (r >= 0)
                r = proto_recv(helper_sock, &answer, &rfd);
        pthread_mutex_unlock(&lock);
        json_decref(req);
        if (r < 0) {
                log_error("the privileged helper cannot be reached: %s", strerror(-r));
                module_error_set(e, 503, "unavailable", NULL,
                                 "the privileged helper is not available; retry shortly");
                return -EPIPE;
        }
        if (json_integer_value(json_object_get(answer, "id")) != id) {
                json_decref(answer);
                log_error("the privileged helper answered out of turn");
                module_error_set(e, 503, "unavailable", NULL, "the privileged helper misbehaved");
                return -EPIPE;
        }
        r = helper_answer_parse(answer, ret, ret_details, e);
        json_decref(answer);
        if (rfd >= 0) {
                if (r >= 0 && json_is_true(json_object_get(*ret, "body_fd")) &&
                    (r = body_fd(&rfd, *ret, e)) < 0) {
                        json_decref(*ret);
                        *ret = NULL;
                }
                if (rfd >= 0)
                        close(rfd);
        }
        return r;
}

int helper_answer_parse(json_t *answer, json_t **ret, json_t **ret_details,
                        struct module_error *e) {
        json_t *err;
        const char *code, *message;

        if (json_is_true(json_object_get(answer, "ok"))) {
                *ret = json_incref(json_object_get(answer, "result"));
                return *ret ? 0 : -ENOMEM;
        }
        err = json_object_get(answer, "error");
        code = json_string_value(json_object_get(err, "code"));
        message = json_string_value(json_object_get(err, "message"));
        module_error_set(e, (int)json_integer_value(json_object_get(err, "status")),
                         code ? code : "internal", json_string_value(json_object_get(err, "field")),
                         "%s", message ? message : "refused");
        if (e->status < 400 || e->status > 599)
                e->status = 500;
        if (ret_details) {
                json_t *d = json_is_object(err) ? json_deep_copy(err) : json_object();
                json_object_del(d, "status");
                json_object_del(d, "code");
                json_object_del(d, "message");
                json_object_del(d, "field");
                *ret_details = d;
        }
        return -EACCES;
}
