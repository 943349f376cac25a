/* helperclient.c — see helperclient.h. */
#include "helperclient.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/helperops.h"
#include "log.h"
#include "proto.h"
#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static struct {
        int fd;
        bool busy;
} chans[HELPER_CHANNELS];
static size_t n_chans;
static unsigned slow_busy; /* channels held by slow calls */
static int64_t next_id = 1;

void helper_client_init(const int *socks, size_t n) {
        pthread_mutex_lock(&lock);
        n_chans = n < HELPER_CHANNELS ? n : HELPER_CHANNELS;
        for (size_t i = 0; i < n_chans; i++)
                chans[i].fd = socks[i];
        pthread_mutex_unlock(&lock);
}

/* Takes a free channel (waiting for one); -1 if there is none at all.
 * The caller holds lock. */
static int channel_take(bool slow) {
        for (;;) {
                if (n_chans == 0)
                        return -1;
                if (!slow || slow_busy < HELPER_SLOW_CHANNELS)
                        for (size_t i = 0; i < n_chans; i++)
                                if (!chans[i].busy) {
                                        chans[i].busy = true;
                                        slow_busy += slow;
                                        return (int)i;
                                }
                pthread_cond_wait(&freed, &lock);
        }
}

static void channel_give(int i, bool slow) {
        pthread_mutex_lock(&lock);
        chans[i].busy = false;
        slow_busy -= slow;
        pthread_cond_broadcast(&freed);
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

int helper_call(enum helper_op op, const char *session, const char *source, json_t *args, int fd,
                json_t **ret, json_t **ret_details, struct module_error *e) {
        json_t *req, *answer = NULL;
        /* An action's worker may wait as long as a slow call (a service's
         * job, ACTION_WAIT_SEC): it holds one of the slow channels too. */
        bool slow = helper_op_has(op, HELPER_OPF_SLOW) || helper_op_has(op, HELPER_OPF_WORKER);
        int64_t id;
        int r, rfd = -1, ch;

        if ((unsigned)op >= HELPER_OP__COUNT) {
                json_decref(args);
                module_error_set(e, 500, "internal", NULL, "no such helper operation");
                return -EINVAL;
        }
        req = json_pack("{s:s, s:s?, s:s?, s:o}", "op", helper_ops[op].name, "session", session,
                        "source", source, "args", args ? args : json_object());
        if (!req) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        pthread_mutex_lock(&lock);
        id = next_id++;
        ch = channel_take(slow);
        pthread_mutex_unlock(&lock);
        json_object_set_new(req, "id", json_integer(id));
        r = ch < 0 ? -ENOTCONN : proto_send(chans[ch].fd, req, fd);
        if (r >= 0)
                r = proto_recv(chans[ch].fd, &answer, &rfd);
        if (r >= 0 && json_integer_value(json_object_get(answer, "id")) != id) {
                log_error("the privileged helper answered out of turn");
                r = -EPROTO;
        }
        if (ch >= 0 && r < 0) {
                /* Out of step with the helper: the channel is never used
                 * again but closed, which the helper takes as a broken front
                 * and restarts it (main.c), rather than leave it half served. */
                close(chans[ch].fd);
                chans[ch].fd = -1;
        } else if (ch >= 0)
                channel_give(ch, slow);
        json_decref(req);
        if (r < 0) {
                json_decref(answer);
                if (rfd >= 0)
                        close(rfd);
                if (r != -EPROTO)
                        log_error("the privileged helper cannot be reached: %s", strerror(-r));
                module_error_set(e, 503, "unavailable", NULL,
                                 "the privileged helper is not available; retry shortly");
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
