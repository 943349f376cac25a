/* follow.c — the journal follower behind `logs` events (see follow.h).
 *
 * subscribe() runs on an HTTP thread under the hub's lock: it only parses
 * the stream's parameters (query.c) and queues a follower; the follower
 * thread opens the follower's sd_journal itself (an sd_journal belongs to
 * the thread that opened it), seeks to the stream's cursor (the entry after
 * it) or to the end, and from then on publishes every new matching entry,
 * in order, in events of up to LOGS_EVENT_ENTRIES entries and about
 * FOLLOW_EVENT_BYTES of JSON:
 *   {"entries": [entry…]}   (entries as in GET /api/v1/logs, oldest first)
 *
 * One thread serves every stream, so a stream may start at most
 * LOGS_FOLLOW_BACK_USEC before it asked: since= earlier is refused, and a
 * cursor of an older entry resumes from that far back (older entries are
 * GET /api/v1/logs's).  Without the bound, since=@0 with a grep that
 * matches nothing would keep the thread scanning the whole journal.
 *
 * Waking: the thread poll()s the followers' journal descriptors (inotify)
 * and an eventfd that subscribe/unsubscribe/stop write.  journald tells
 * readers about appends only every so often (it coalesces its inotify
 * notifications), so while anyone follows the thread also looks every
 * FOLLOW_TICK_MSEC: reading the journal's tail when nothing is new costs a
 * few microseconds.
 *
 * Locking: follow.lock guards the follower list and each follower's state
 * flags.  The thread never holds it while it publishes (publish takes the
 * hub's lock, and subscribe/unsubscribe run under the hub's lock and take
 * follow.lock: one order, hub then follow).
 */
#include "modules/logs/follow.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "modules/logs/journal.h"
#include "modules/logs/query.h"
#include "util.h"

#define FOLLOW_TICK_MSEC  20
#define FOLLOW_ROUND_MAX  1000 /* entries per follower per round (catching up from a cursor) */
/* An event is published once its entries pass this many bytes of JSON, so
 * with one more entry (below LOGS_ENTRY_BYTES_MAX) it stays below the hub's
 * 1 MiB per event, which drops a bigger one. */
#define FOLLOW_EVENT_BYTES (512u * 1024)

struct follower {
        struct follower *next;
        uint64_t id;
        struct logs_query q;
        uint64_t asked; /* when the stream asked: where it starts without a cursor */
        sd_journal *j; /* the thread's; NULL until it opened it */
        bool gone;     /* unsubscribed: the thread frees it */
        bool failed;   /* its journal could not be opened: it gets nothing */
};

static struct {
        pthread_mutex_t lock;
        struct follower *list;
        unsigned n;
        uint64_t next_id;
        const struct event_hub *hub;
        pthread_t thread;
        bool running, stop;
        int wake_fd;
} follow = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .next_id = 1,
        .wake_fd = -1,
};

static void wake(void) {
        uint64_t one = 1;
        if (follow.wake_fd >= 0)
                (void)!write(follow.wake_fd, &one, sizeof one);
}

static const char *param(void *opaque, const char *key) {
        return json_string_value(json_object_get(opaque, key));
}

int logs_follow_subscribe(json_t *params, uint64_t *ret_filter, struct module_error *err) {
        struct follower *f;
        int r;

        char reason[256];
        const char *state;

        logs_journal_state(&state, reason, sizeof reason);
        if (!STREQ(state, "running")) {
                module_error_set(err, 503, "unavailable", NULL, "%s", reason);
                return -EAGAIN;
        }
        f = calloc(1, sizeof *f);
        if (!f) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        /* One clock reading: since=-1h is then exactly the bound. */
        f->asked = realtime_usec();
        r = logs_query_parse(param, params, f->asked, &f->q, err);
        if (r < 0) {
                free(f);
                return r;
        }
        f->q.asc = true;
        f->q.has_until = false;
        if (f->q.has_since && f->q.since + LOGS_FOLLOW_BACK_USEC < f->asked) {
                free(f);
                module_error_set(err, 400, "invalid_argument", "since",
                                 "since: a stream starts at most %llu minutes back; read older "
                                 "entries with GET /api/v1/logs",
                                 (unsigned long long)(LOGS_FOLLOW_BACK_USEC / 60000000ull));
                return -EINVAL;
        }
        pthread_mutex_lock(&follow.lock);
        if (!follow.running || follow.n >= LOGS_FOLLOWERS_MAX) {
                bool running = follow.running;
                pthread_mutex_unlock(&follow.lock);
                free(f);
                if (running)
                        module_error_set(err, 503, "too_many_subscribers", NULL,
                                         "%u streams already follow the journal; retry later",
                                         LOGS_FOLLOWERS_MAX);
                else
                        module_error_set(err, 503, "unavailable", NULL,
                                         "the journal cannot be followed now");
                return -EBUSY;
        }
        f->id = follow.next_id++;
        f->next = follow.list;
        follow.list = f;
        follow.n++;
        *ret_filter = f->id;
        pthread_mutex_unlock(&follow.lock);
        wake();
        return 0;
}

void logs_follow_unsubscribe(uint64_t filter) {
        pthread_mutex_lock(&follow.lock);
        for (struct follower *f = follow.list; f; f = f->next)
                if (f->id == filter && !f->gone) {
                        f->gone = true;
                        follow.n--;
                }
        pthread_mutex_unlock(&follow.lock);
        wake();
}

/* ---- the thread ----------------------------------------------------------------- */

/* Opens a new follower's journal and puts it where its stream resumes. */
static void open_follower(struct follower *f) {
        uint64_t oldest = f->asked - LOGS_FOLLOW_BACK_USEC, rt;
        struct module_error e = {0};
        sd_journal *j = NULL;

        if (logs_journal_open(&f->q, &j, &e) < 0) {
                f->failed = true;
                return;
        }
        if (f->q.cursor[0] && sd_journal_seek_cursor(j, f->q.cursor) >= 0) {
                /* Step onto the cursor's entry when it still matches, so the
                 * next read gives the one after it; from no further back than
                 * oldest. */
                if (sd_journal_next(j) > 0) {
                        if (sd_journal_get_realtime_usec(j, &rt) >= 0 && rt < oldest)
                                (void)sd_journal_seek_realtime_usec(j, oldest);
                        else if (sd_journal_test_cursor(j, f->q.cursor) <= 0)
                                (void)sd_journal_previous(j);
                }
        } else {
                /* From the moment the stream asked (not the journal's tail
                 * when the thread gets here, which may be later). */
                (void)sd_journal_seek_realtime_usec(j, f->q.has_since ? f->q.since : f->asked);
        }
        (void)sd_journal_get_fd(j); /* start watching before the first wait */
        f->j = j;
}

/* Publishes the batch (if any) as one event and empties it. */
static void flush(const struct event_hub *hub, struct follower *f, json_t *entries,
                  size_t *bytes) {
        json_t *ev;

        if (json_array_size(entries) == 0)
                return;
        ev = json_pack("{s:O}", "entries", entries);
        if (ev)
                hub->publish_to("logs", f->id, ev);
        json_decref(ev);
        json_array_clear(entries);
        *bytes = 0;
}

/* New entries of one follower, published in batches; more: there may be
 * more than one round takes. */
static void drain(const struct event_hub *hub, struct follower *f, char *buf, bool *more) {
        json_t *entries = json_array();
        size_t n = 0, bytes = 0;

        (void)sd_journal_process(f->j);
        while (entries && n < FOLLOW_ROUND_MAX) {
                bool skip;
                size_t eb;
                json_t *e;
                int r = sd_journal_next(f->j);
                if (r <= 0)
                        break;
                n++;
                e = logs_entry_json(f->j, &f->q, buf, &skip);
                if (!e)
                        continue;
                eb = logs_entry_bytes(e);
                if (bytes + eb > FOLLOW_EVENT_BYTES)
                        flush(hub, f, entries, &bytes);
                json_array_append_new(entries, e);
                bytes += eb;
                if (json_array_size(entries) == LOGS_EVENT_ENTRIES)
                        flush(hub, f, entries, &bytes);
        }
        if (entries)
                flush(hub, f, entries, &bytes);
        json_decref(entries);
        *more = *more || n == FOLLOW_ROUND_MAX;
}

/* Frees the followers that are gone; opens the new ones.  Fills fds with
 * the live ones' descriptors (after the wake fd). */
static size_t tend(struct pollfd *fds, size_t max) {
        struct follower **pp, *f, *dead = NULL;
        size_t n = 1;

        pthread_mutex_lock(&follow.lock);
        for (pp = &follow.list; (f = *pp);) {
                if (f->gone) {
                        *pp = f->next;
                        f->next = dead;
                        dead = f;
                        continue;
                }
                pp = &f->next;
        }
        pthread_mutex_unlock(&follow.lock);
        while ((f = dead)) {
                dead = f->next;
                if (f->j)
                        sd_journal_close(f->j);
                free(f);
        }
        /* Only this thread adds journals or frees followers: the list can
         * grow at its head meanwhile, never lose what we walk. */
        pthread_mutex_lock(&follow.lock);
        f = follow.list;
        pthread_mutex_unlock(&follow.lock);
        for (; f; f = f->next) {
                int fd;
                if (!f->j && !f->failed)
                        open_follower(f);
                if (f->j && n < max && (fd = sd_journal_get_fd(f->j)) >= 0)
                        fds[n++] = (struct pollfd){.fd = fd, .events = (short)sd_journal_get_events(f->j)};
        }
        return n;
}

static void *follow_main(void *arg) {
        struct pollfd fds[LOGS_FOLLOWERS_MAX + 1];
        char *buf = malloc(LOGS_MESSAGE_MAX);
        bool more = false;

        (void)arg;
        (void)pthread_setname_np(pthread_self(), "logs-follow");
        while (buf) {
                struct follower *f;
                bool any;
                size_t n;

                pthread_mutex_lock(&follow.lock);
                if (follow.stop) {
                        pthread_mutex_unlock(&follow.lock);
                        break;
                }
                any = follow.list != NULL;
                pthread_mutex_unlock(&follow.lock);
                fds[0] = (struct pollfd){.fd = follow.wake_fd, .events = POLLIN};
                n = tend(fds, ELEMENTSOF(fds));
                (void)poll(fds, n, more ? 0 : any ? FOLLOW_TICK_MSEC : -1);
                if (fds[0].revents & POLLIN) {
                        uint64_t v;
                        (void)!read(follow.wake_fd, &v, sizeof v);
                }
                more = false;
                pthread_mutex_lock(&follow.lock);
                f = follow.list;
                pthread_mutex_unlock(&follow.lock);
                for (; f; f = f->next) {
                        bool gone;
                        pthread_mutex_lock(&follow.lock);
                        gone = f->gone;
                        pthread_mutex_unlock(&follow.lock);
                        if (!gone && f->j)
                                drain(follow.hub, f, buf, &more);
                }
        }
        free(buf);
        return NULL;
}

static void stop_thread(void) {
        struct follower *f;

        pthread_mutex_lock(&follow.lock);
        if (!follow.running) {
                pthread_mutex_unlock(&follow.lock);
                return;
        }
        follow.stop = true;
        pthread_mutex_unlock(&follow.lock);
        wake();
        pthread_join(follow.thread, NULL);
        pthread_mutex_lock(&follow.lock);
        while ((f = follow.list)) {
                follow.list = f->next;
                if (f->j)
                        sd_journal_close(f->j);
                free(f);
        }
        follow.n = 0;
        follow.running = false;
        follow.hub = NULL;
        pthread_mutex_unlock(&follow.lock);
        close(follow.wake_fd);
        follow.wake_fd = -1;
}

void logs_follow_attach(const struct event_hub *hub) {
        sigset_t all, old;
        int r;

        if (!hub) {
                stop_thread();
                return;
        }
        if (follow.running)
                return;
        follow.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (follow.wake_fd < 0)
                return;
        follow.hub = hub;
        follow.stop = false;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = pthread_create(&follow.thread, NULL, follow_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
                close(follow.wake_fd);
                follow.wake_fd = -1;
                return;
        }
        pthread_mutex_lock(&follow.lock);
        follow.running = true;
        pthread_mutex_unlock(&follow.lock);
}
