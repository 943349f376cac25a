/* helperclient.c — see helperclient.h. */
#include "helperclient.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
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
static unsigned slow_busy;   /* channels held by slow calls */
static unsigned stream_busy; /* … and by streaming calls */
static int64_t next_id = 1;

void helper_client_init(const int *socks, size_t n) {
        pthread_mutex_lock(&lock);
        n_chans = n < HELPER_CHANNELS ? n : HELPER_CHANNELS;
        for (size_t i = 0; i < n_chans; i++)
                chans[i].fd = socks[i];
        pthread_mutex_unlock(&lock);
}

/* Takes a free channel (waiting for one); -1 if there is none at all.
 * A slow call waits while HELPER_SLOW_CHANNELS are held by slow calls, a
 * streaming one while HELPER_STREAM_CHANNELS are held by streams: the
 * others stay free for the fast calls.  The caller holds lock. */
static int channel_take(bool slow, bool stream) {
        for (;;) {
                if (n_chans == 0)
                        return -1;
                if (stream ? stream_busy < HELPER_STREAM_CHANNELS
                           : !slow || slow_busy < HELPER_SLOW_CHANNELS)
                        for (size_t i = 0; i < n_chans; i++)
                                if (!chans[i].busy) {
                                        chans[i].busy = true;
                                        stream_busy += stream;
                                        slow_busy += slow && !stream;
                                        return (int)i;
                                }
                pthread_cond_wait(&freed, &lock);
        }
}

static void channel_give(int i, bool slow, bool stream) {
        pthread_mutex_lock(&lock);
        chans[i].busy = false;
        stream_busy -= stream;
        slow_busy -= slow && !stream;
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

/* ---- a streaming call's progress pipe -------------------------------------------
 * The read end is this thread's alone; lines are cut at '\n' in a buffer of
 * one line at most.  Once the sink says its client is gone, or a bound is
 * passed, the read end is closed: the helper's next write fails. */
struct relay {
        int fd; /* the read end, non-blocking; -1 once closed */
        helper_line_fn line;
        void *opaque;
        char buf[COMMAND_PROGRESS_LINE_MAX];
        size_t len, total;
};

static void relay_stop(struct relay *rl) {
        if (rl->fd >= 0)
                close(rl->fd);
        rl->fd = -1;
}

/* Reads what the pipe holds now and hands over each complete line. */
static void relay_read(struct relay *rl) {
        while (rl->fd >= 0) {
                ssize_t n = read(rl->fd, rl->buf + rl->len, sizeof rl->buf - rl->len);
                char *nl;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) { /* drained (EAGAIN), or every writer is gone */
                        if (n == 0)
                                relay_stop(rl);
                        return;
                }
                rl->len += (size_t)n;
                rl->total += (size_t)n;
                while (rl->fd >= 0 && (nl = memchr(rl->buf, '\n', rl->len))) {
                        size_t k = (size_t)(nl - rl->buf);
                        if (rl->line(rl->opaque, rl->buf, k) < 0)
                                relay_stop(rl);
                        memmove(rl->buf, nl + 1, rl->len - k - 1);
                        rl->len -= k + 1;
                }
                if (rl->len == sizeof rl->buf || rl->total > COMMAND_PROGRESS_TOTAL_MAX)
                        relay_stop(rl); /* a line or a stream past the bounds */
        }
}

/* Waits for the answer on fd, relaying meanwhile; then what is left. */
static int relay_wait(struct relay *rl, int fd) {
        for (;;) {
                struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                                      {.fd = rl->fd, .events = POLLIN}};
                int r = poll(p, rl->fd >= 0 ? 2 : 1, HELPER_STREAM_TICK_MS);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0 && rl->fd >= 0 && p[1].revents)
                        relay_read(rl);
                else if (r == 0 && rl->fd >= 0 && rl->line(rl->opaque, NULL, 0) < 0)
                        relay_stop(rl);
                if (r > 0 && p[0].revents)
                        break;
        }
        /* The worker that wrote is gone before the helper answers: what it
         * wrote is in the pipe. */
        relay_read(rl);
        relay_stop(rl);
        return 0;
}

static int call(enum helper_op op, const char *session, const char *source, json_t *args, int fd,
                struct relay *rl, json_t **ret, json_t **ret_details, struct module_error *e) {
        json_t *req, *answer = NULL;
        /* An action's worker may wait as long as a slow call (a service's
         * job, ACTION_WAIT_SEC): it holds one of the slow channels too. */
        bool slow = helper_op_has(op, HELPER_OPF_SLOW) || helper_op_has(op, HELPER_OPF_WORKER);
        int64_t id;
        int r, rfd = -1, ch;

        if ((unsigned)op >= HELPER_OP__COUNT) {
                json_decref(args);
                module_error_set(e, 500, "internal", NULL, "no such helper operation");
                r = -EINVAL;
                goto unsent;
        }
        req = json_pack("{s:s, s:s?, s:s?, s:o}", "op", helper_ops[op].name, "session", session,
                        "source", source, "args", args ? args : json_object());
        if (!req) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                r = -ENOMEM;
                goto unsent;
        }
        pthread_mutex_lock(&lock);
        id = next_id++;
        ch = channel_take(slow, rl != NULL);
        pthread_mutex_unlock(&lock);
        json_object_set_new(req, "id", json_integer(id));
        r = ch < 0 ? -ENOTCONN : proto_send(chans[ch].fd, req, fd);
        if (rl) {
                /* The helper has its own copy now: the pipe's end is
                 * when its writers are. */
                close(fd);
                if (r >= 0)
                        r = relay_wait(rl, chans[ch].fd);
                else
                        relay_stop(rl);
        }
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
                channel_give(ch, slow, rl != NULL);
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
unsent:
        if (rl) { /* a streaming call's pipe, both ends */
                close(fd);
                relay_stop(rl);
        }
        return r;
}

int helper_call(enum helper_op op, const char *session, const char *source, json_t *args, int fd,
                json_t **ret, json_t **ret_details, struct module_error *e) {
        return call(op, session, source, args, fd, NULL, ret, ret_details, e);
}

int helper_call_stream(enum helper_op op, const char *session, const char *source, json_t *args,
                       helper_line_fn line, void *opaque, json_t **ret, json_t **ret_details,
                       struct module_error *e) {
        _cleanup_free_ struct relay *rl = malloc(sizeof *rl);
        int p[2];

        if (!rl || pipe2(p, O_CLOEXEC) < 0) {
                json_decref(args);
                module_error_set(e, 503, "unavailable", NULL, "cannot make a progress pipe");
                return -EMFILE;
        }
        if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
                close(p[0]);
                close(p[1]);
                json_decref(args);
                module_error_set(e, 503, "unavailable", NULL, "cannot make a progress pipe");
                return -EIO;
        }
        *rl = (struct relay){.fd = p[0], .line = line, .opaque = opaque};
        return call(op, session, source, args, p[1], rl, ret, ret_details, e);
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
