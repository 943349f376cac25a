/* events.c — the event hub and the SSE streams (see events.h).
 *
 * Locking: hub.lock guards the ring, the subscriber list and every
 * subscriber's queue and flags.  It is held while a connection is suspended
 * (in the reader, on libmicrohttpd's thread) or resumed (by whoever queued
 * an event), so a stream can never miss its wake-up: either the reader sees
 * the event, or it suspended before the event was queued and the queuing
 * side resumes it.  Nothing blocking (helper calls, socket listings) runs
 * under hub.lock; the poll thread copies what it needs first.
 *
 * A subscriber lives from events_subscribe() to events_release(), which
 * libmicrohttpd calls when it destroys the stream's response; only then is
 * it unlinked, so the connection pointer it holds is valid while it is in
 * the list.
 */
#include "events.h"

#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"
#include "frontauth.h"
#include "roles.h"
#include "helperclient.h"
#include "helperstubs.h"
#include "jsonutil.h"
#include "log.h"
#include "config.h"
#include "registry.h"
#include "stats.h"
#include "util.h"

#define RETRY_TEXT      "retry: 3000\n\n"
#define KEEPALIVE_TEXT  ": keepalive\n\n"
#define POLL_IDLE_USEC  (5ull * 1000000) /* counters only */
#define POLL_BUSY_USEC  (1ull * 1000000) /* with audit subscribers */
#define MAX_EVENT_BYTES (1u << 20)       /* an audit record with big diffs is cut to a summary */

struct event {
        _Atomic unsigned refs;
        uint64_t id;
        unsigned type; /* the type's bit (registry.h); 0 for control text (retry, keepalive, reset)
                        */
        size_t len;
        char text[];
};

struct events_sub {
        struct events_sub *prev, *next;
        struct MHD_Connection *conn;
        unsigned mask;
        /* For each type filtered per stream: the filter its module gave
         * (0: none). */
        uint64_t filter[EVENT_TYPES_MAX];
        bool suspended, closed;
        /* A ring of qcap slots (grown on demand up to EVENTS_QUEUE: most
         * streams hold an event or two, and an idle stream should cost
         * little; docs/architecture.md "Memory per connection"). */
        struct event **q;
        size_t qcap, qhead, qn, off; /* off: bytes of q[qhead] already sent */
        uint64_t last_usec;          /* when something was last queued */
        char secret[FRONTAUTH_SECRET_MAX + 1];
        int64_t session_id;
        int role;
        char user[64];
        char source[96];
};

static struct {
        pthread_mutex_t lock;
        pthread_cond_t wake; /* the poll thread: stop, or poke */
        pthread_t thread;
        bool started, stop, poked;
        struct event *ring[EVENTS_RING];
        size_t ring_head, ring_n;
        uint64_t next_id;
        struct events_sub *subs;
        unsigned n_subs, n_by_type[EVENT_TYPES_MAX];
} hub = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .wake = PTHREAD_COND_INITIALIZER,
};

static struct event *keepalive_ev, *retry_ev;

static struct event *event_new(unsigned type, uint64_t id, const char *text, size_t len) {
        struct event *ev = malloc(sizeof *ev + len + 1);

        if (!ev)
                return NULL;
        atomic_init(&ev->refs, 1);
        ev->id = id;
        ev->type = type;
        ev->len = len;
        memcpy(ev->text, text, len);
        ev->text[len] = '\0';
        return ev;
}

static struct event *event_ref(struct event *ev) {
        atomic_fetch_add(&ev->refs, 1);
        return ev;
}

static void event_unref(struct event *ev) {
        if (ev && atomic_fetch_sub(&ev->refs, 1) == 1)
                free(ev);
}

static const char *type_name(unsigned type) {
        const event_def_t *d = type ? event_type_at((size_t)__builtin_ctz(type), NULL) : NULL;
        return d ? d->name : "";
}

static unsigned type_index(unsigned type) {
        return (unsigned)__builtin_ctz(type);
}

/* The bit of a type by name; 0 for none. */
static unsigned type_bit(const char *name) {
        unsigned bit = 0;
        return name && event_type_bit(name, strlen(name), &bit) == 0 ? bit : 0;
}

/* ---- queues ------------------------------------------------------------------ */

static void sub_clear_locked(struct events_sub *s) {
        for (size_t i = 0; i < s->qn; i++)
                event_unref(s->q[(s->qhead + i) % s->qcap]);
        s->qn = s->qhead = s->off = 0;
}

#define QUEUE_FIRST 4

/* Room for n more events in s's queue (n <= EVENTS_QUEUE - qn): false when
 * memory ran out.  The ring is unrolled into the new array, oldest first. */
static bool reserve_locked(struct events_sub *s, size_t n) {
        size_t cap = s->qcap ? s->qcap : QUEUE_FIRST;
        struct event **q;

        if (s->qn + n <= s->qcap)
                return true;
        while (cap < s->qn + n)
                cap *= 2;
        if (cap > EVENTS_QUEUE)
                cap = EVENTS_QUEUE;
        q = calloc(cap, sizeof *q);
        if (!q)
                return false;
        for (size_t i = 0; i < s->qn; i++)
                q[i] = s->q[(s->qhead + i) % s->qcap];
        free(s->q);
        s->q = q;
        s->qcap = cap;
        s->qhead = 0;
        return true;
}

/* Appends ev (its reference is the caller's, handed over): room reserved. */
static void append_locked(struct events_sub *s, struct event *ev) {
        s->q[(s->qhead + s->qn) % s->qcap] = ev;
        s->qn++;
}

static void wake_locked(struct events_sub *s) {
        if (s->suspended && s->conn) {
                s->suspended = false;
                MHD_resume_connection(s->conn);
        }
}

/* Ends a stream: what is queued is dropped, the reader ends it. */
static void close_locked(struct events_sub *s) {
        if (s->closed)
                return;
        s->closed = true;
        sub_clear_locked(s);
        for (unsigned i = 0; i < EVENT_TYPES_MAX; i++)
                if (s->mask & (1u << i))
                        hub.n_by_type[i]--;
        wake_locked(s);
}

static void push_locked(struct events_sub *s, struct event *ev) {
        if (s->closed)
                return;
        if (s->qn == EVENTS_QUEUE) {
                /* Too slow a reader: drop it rather than grow. */
                close_locked(s);
                log_warning("event stream of \"%s\" from %s dropped: it read too slowly "
                            "(%u events queued)",
                            s->user, s->source, EVENTS_QUEUE);
                return;
        }
        if (!reserve_locked(s, 1)) {
                close_locked(s);
                log_warning("event stream of \"%s\" from %s dropped: out of memory", s->user,
                            s->source);
                return;
        }
        append_locked(s, event_ref(ev));
        s->last_usec = now_usec();
        wake_locked(s);
}

/* Formats, keeps and fans out one event.  data: one line of JSON.  With a
 * filter (a type filtered per stream), only to the streams of that filter,
 * and not kept in the ring. */
static void publish(unsigned type, uint64_t filter, const char *data, size_t len) {
        char head[96];
        struct event *ev;
        struct buf b;
        int n;

        pthread_mutex_lock(&hub.lock);
        if (!hub.started) {
                pthread_mutex_unlock(&hub.lock);
                return;
        }
        n = snprintf(head, sizeof head,
                     "id: %llu\nevent: %s\ndata: ", (unsigned long long)hub.next_id,
                     type_name(type));
        buf_init(&b, MAX_EVENT_BYTES + sizeof head + 2);
        if (n < 0 || buf_append(&b, head, (size_t)n) < 0 || buf_append(&b, data, len) < 0 ||
            buf_append(&b, "\n\n", 2) < 0 || !(ev = event_new(type, hub.next_id, b.data, b.len))) {
                pthread_mutex_unlock(&hub.lock);
                buf_free(&b);
                return;
        }
        buf_free(&b);
        hub.next_id++;
        if (filter) {
                for (struct events_sub *s = hub.subs; s; s = s->next)
                        if ((s->mask & type) && s->filter[type_index(type)] == filter)
                                push_locked(s, ev);
                pthread_mutex_unlock(&hub.lock);
                event_unref(ev);
                return;
        }
        if (hub.ring_n == EVENTS_RING) {
                event_unref(hub.ring[hub.ring_head]);
                hub.ring_head = (hub.ring_head + 1) % EVENTS_RING;
                hub.ring_n--;
        }
        hub.ring[(hub.ring_head + hub.ring_n) % EVENTS_RING] = event_ref(ev);
        hub.ring_n++;
        for (struct events_sub *s = hub.subs; s; s = s->next)
                if (s->mask & type)
                        push_locked(s, ev);
        pthread_mutex_unlock(&hub.lock);
        event_unref(ev);
}

static void publish_json(unsigned type, uint64_t filter, json_t *v) {
        size_t len = 0;
        char *text = v ? json_dump_compact(v, &len) : NULL;

        /* json_dump_compact escapes control characters: one line (and a
         * final newline, which the frame adds itself). */
        while (text && len > 0 && text[len - 1] == '\n')
                text[--len] = '\0';
        if (text && len <= MAX_EVENT_BYTES)
                publish(type, filter, text, len);
        free(text);
}

/* ---- sources ------------------------------------------------------------------ */

/* A subscriber's session to act for (for reads it may do anyway). */
static bool pick_session(unsigned type, struct events_who *who, char *secret, char *user,
                         char *source) {
        bool found = false;

        pthread_mutex_lock(&hub.lock);
        for (struct events_sub *s = hub.subs; s && !found; s = s->next) {
                if (s->closed || !(s->mask & type))
                        continue;
                memcpy(secret, s->secret, sizeof s->secret);
                memcpy(user, s->user, sizeof s->user);
                memcpy(source, s->source, sizeof s->source);
                who->session_id = s->session_id;
                who->role = s->role;
                found = true;
        }
        pthread_mutex_unlock(&hub.lock);
        who->secret = secret;
        who->user = user;
        who->source = source;
        return found;
}

static struct {
        bool known;
        int64_t audit_seen; /* the last audit record published */
        /* Per module (steward_modules order): an audit record of it was seen
         * since its events_poll() last ran. */
        bool changed[64];
} poll_state;

/* The front's own calls: no session, the source "front". */
static const struct helper_link front_link = {.call = helper_call, .source = "front"};

/* An audit record of module name: its event poll hears of it. */
static void mark_changed(const char *name) {
        for (size_t i = 0; name && i < steward_modules_count && i < ELEMENTSOF(poll_state.changed);
             i++)
                if (STREQ(steward_modules[i]->name, name))
                        poll_state.changed[i] = true;
}

/* The syslog targets' backlogs ([{"target", "backlog"}]) for /metrics. */
static void forward_from_poll(json_t *list) {
        struct stats_forward f[STATS_FORWARD_MAX];
        size_t n = 0, i;
        json_t *t;

        json_array_foreach(list, i, t) {
                const char *name = json_string_value(json_object_get(t, "target"));
                json_int_t backlog = json_integer_value(json_object_get(t, "backlog"));
                if (n == STATS_FORWARD_MAX)
                        break;
                if (!name || strlen(name) > STATS_FORWARD_TARGET_MAX || backlog < 0)
                        continue;
                memcpy(f[n].target, name, strlen(name) + 1);
                f[n++].backlog = (uint64_t)backlog;
        }
        stats_forward_set(f, n);
}

static void poll_counters(bool audit_wanted) {
        struct module_error e = {0};
        json_t *res = NULL;
        int64_t head;

        if (helper_op_front_poll(&front_link, &res, &e) < 0)
                return;
        head = json_integer_value(json_object_get(res, "audit_head"));
        atomic_store(&stats_sessions_open,
                     (uint64_t)json_integer_value(json_object_get(res, "sessions")));
        atomic_store(&stats_audit_records, (uint64_t)head);
        atomic_store(&stats_logins_ok,
                     (uint64_t)json_integer_value(json_object_get(res, "logins_ok")));
        atomic_store(&stats_logins_failed,
                     (uint64_t)json_integer_value(json_object_get(res, "logins_failed")));
        atomic_store(&stats_sources_throttled,
                     (uint64_t)json_integer_value(json_object_get(res, "sources_throttled")));
        atomic_store(&stats_sources_blocked,
                     (uint64_t)json_integer_value(json_object_get(res, "sources_blocked")));
        forward_from_poll(json_object_get(res, "audit_forward"));
        atomic_store(&stats_audit_forward_restarts,
                     (uint64_t)json_integer_value(json_object_get(res, "audit_forward_restarts")));
        atomic_store(&stats_counters_known, true);
        json_decref(res);
        if (!poll_state.known || !audit_wanted) {
                poll_state.audit_seen = head;
                poll_state.known = true;
                return;
        }
        while (poll_state.audit_seen < head) {
                char secret[FRONTAUTH_SECRET_MAX + 1], user[64], source[96];
                struct events_who who;
                json_t *recs, *rec;
                size_t i;

                if (!pick_session(type_bit("audit"), &who, secret, user, source))
                        break;
                res = NULL;
                if (helper_op_audit_since(&(const struct helper_link){.call = helper_call,
                                                                      .session = who.secret,
                                                                      .source = who.source},
                                          poll_state.audit_seen, &res, &e) < 0)
                        break;
                recs = json_object_get(res, "records");
                if (json_array_size(recs) == 0) {
                        json_decref(res);
                        break;
                }
                json_array_foreach(recs, i, rec) {
                        int64_t id = json_integer_value(json_object_get(rec, "id"));
                        if (id <= poll_state.audit_seen)
                                continue;
                        poll_state.audit_seen = id;
                        publish_json(type_bit("audit"), 0, rec);
                        mark_changed(json_string_value(json_object_get(rec, "module")));
                }
                json_decref(res);
        }
}

/* ---- the hub as modules see it (module.h, struct event_hub) ------------------------ */

static size_t ctx_query_none(void *opaque, const char *key, const char **ret_value) {
        return 0;
}

static void hub_publish(const char *type, json_t *data) {
        unsigned bit = type_bit(type);
        const event_def_t *d = bit ? event_type_at(type_index(bit), NULL) : NULL;
        if (d && !d->subscribe)
                publish_json(bit, 0, data);
}

static void hub_publish_to(const char *type, uint64_t filter, json_t *data) {
        unsigned bit = type_bit(type);
        if (bit && filter)
                publish_json(bit, filter, data);
}

static bool hub_wanted(const char *type) {
        unsigned bit = type_bit(type);
        bool wanted;

        if (!bit)
                return false;
        pthread_mutex_lock(&hub.lock);
        wanted = hub.n_by_type[type_index(bit)] > 0;
        pthread_mutex_unlock(&hub.lock);
        return wanted;
}

static int hub_get(const char *type, const char *path, json_t **ret) {
        char secret[FRONTAUTH_SECRET_MAX + 1], user[64], source[96];
        struct events_who who;
        struct api_request rq;
        struct api_response resp;
        unsigned bit = type_bit(type);

        if (!bit || !pick_session(bit, &who, secret, user, source))
                return -ENOENT;
        rq = (struct api_request){
                .method = "GET",
                .path = path,
                .query = ctx_query_none,
                .auth = "token",
                .role = who.role,
                .session = who.secret,
                .session_id = who.session_id,
                .max_json_depth = 32,
                .conn_fd = -1,
                .helper = helper_call,
                .ctx = {.user = who.user, .role = role_to_string(who.role), .source = who.source},
        };
        api_handle(&rq, &resp);
        if (resp.status != 200 || !resp.body) {
                api_response_clear(&resp);
                return -EIO;
        }
        *ret = json_incref(resp.body);
        api_response_clear(&resp);
        return 0;
}

static const struct event_hub module_hub = {
        .publish = hub_publish,
        .wanted = hub_wanted,
        .get = hub_get,
        .publish_to = hub_publish_to,
};

/* Each module that polls for its events, with what changed for it. */
static void poll_modules(void) {
        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                bool changed = i < ELEMENTSOF(poll_state.changed) && poll_state.changed[i];
                if (!m->events_poll)
                        continue;
                if (i < ELEMENTSOF(poll_state.changed))
                        poll_state.changed[i] = false;
                m->events_poll(&module_hub, changed);
        }
}

static void attach_modules(const struct event_hub *h) {
        for (size_t i = 0; i < steward_modules_count; i++)
                if (steward_modules[i]->events_attach)
                        steward_modules[i]->events_attach(h);
}

/* Ends the streams of a session that were opened with a role above the
 * one it has now (its account left a role group, the role settings
 * changed): what a stream carries was allowed for the role it was opened
 * with, so a lowered role ends it, and a new subscription is checked
 * against the role the session has now. */
static void demote_session(int64_t session_id, int role) {
        unsigned n = 0;

        pthread_mutex_lock(&hub.lock);
        for (struct events_sub *s = hub.subs; s; s = s->next)
                if (!s->closed && s->session_id == session_id && s->role > role) {
                        close_locked(s);
                        n++;
                }
        pthread_mutex_unlock(&hub.lock);
        if (n > 0)
                log_info("%u event stream(s) of session %lld end: its role is %s now", n,
                         (long long)session_id, role_to_string(role));
}

/* Keepalives for silent streams; session checks for all: a session that
 * ended ends its streams, one whose role was lowered those opened above
 * it. */
static void tend_streams(bool check_sessions) {
        uint64_t now = now_usec();
        struct {
                int64_t id;
                char secret[FRONTAUTH_SECRET_MAX + 1];
                char source[96];
        } *ids = NULL;
        size_t n = 0, cap = 0;

        pthread_mutex_lock(&hub.lock);
        for (struct events_sub *s = hub.subs; s; s = s->next) {
                bool seen = false;
                if (s->closed)
                        continue;
                if (now - s->last_usec >= EVENTS_KEEPALIVE_SECONDS * 1000000ull && s->qn == 0)
                        push_locked(s, keepalive_ev);
                if (!check_sessions)
                        continue;
                for (size_t i = 0; i < n && !seen; i++)
                        seen = ids[i].id == s->session_id;
                if (seen)
                        continue;
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        void *p = realloc(ids, nc * sizeof *ids);
                        if (!p)
                                break;
                        ids = p;
                        cap = nc;
                }
                ids[n].id = s->session_id;
                memcpy(ids[n].secret, s->secret, sizeof s->secret);
                memcpy(ids[n].source, s->source, sizeof s->source);
                n++;
        }
        pthread_mutex_unlock(&hub.lock);
        for (size_t i = 0; i < n; i++) {
                struct steward_config cfg;
                struct module_error e = {0};
                struct caller c;
                steward_config_get(&cfg);
                int r = frontauth_check_fresh(ids[i].secret, ids[i].source,
                                              cfg.session_idle_timeout, &c, &e);
                if (r < 0 && e.status == 401) {
                        log_info("event streams of session %lld end: %s", (long long)ids[i].id,
                                 e.message);
                        events_forget_session(ids[i].id);
                } else if (r >= 0)
                        demote_session(ids[i].id, c.role);
        }
        free(ids);
}

static void *poll_main(void *arg) {
        uint64_t last_poll = 0, last_check = 0;

        (void)arg;
        (void)pthread_setname_np(pthread_self(), "events");
        for (;;) {
                struct timespec until;
                bool poked, audit_wanted, any;
                uint64_t now;

                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += 1;
                pthread_mutex_lock(&hub.lock);
                if (!hub.stop && !hub.poked)
                        pthread_cond_timedwait(&hub.wake, &hub.lock, &until);
                if (hub.stop) {
                        pthread_mutex_unlock(&hub.lock);
                        break;
                }
                poked = hub.poked;
                hub.poked = false;
                audit_wanted =
                        type_bit("audit") && hub.n_by_type[type_index(type_bit("audit"))] > 0;
                any = hub.n_subs > 0;
                pthread_mutex_unlock(&hub.lock);

                now = now_usec();
                if (poked || now - last_poll >= (audit_wanted ? POLL_BUSY_USEC : POLL_IDLE_USEC)) {
                        poll_counters(audit_wanted);
                        last_poll = now;
                }
                poll_modules();
                if (any) {
                        /* After a change (a logout, a revocation, an account
                         * changed through us) at once; for changes made
                         * outside, every EVENTS_SESSION_CHECK_SECS. */
                        bool check =
                                poked || now - last_check >= EVENTS_SESSION_CHECK_SECS * 1000000ull;
                        tend_streams(check);
                        if (check)
                                last_check = now;
                }
        }
        return NULL;
}

/* ---- streams ------------------------------------------------------------------ */

/* Ends the module filters of a stream (under hub.lock). */
static void unfilter_locked(struct events_sub *s) {
        for (unsigned i = 0; i < EVENT_TYPES_MAX; i++) {
                const event_def_t *d = s->filter[i] ? event_type_at(i, NULL) : NULL;
                if (d && d->unsubscribe)
                        d->unsubscribe(s->filter[i]);
                s->filter[i] = 0;
        }
}

/* The module filters of a new stream (under hub.lock): each type in its
 * mask filtered per stream gets its parameters checked and a filter. */
static int filter_locked(struct events_sub *s, json_t *params, struct module_error *e) {
        for (unsigned i = 0; i < EVENT_TYPES_MAX && i < event_types_count(); i++) {
                const event_def_t *d = event_type_at(i, NULL);
                json_t *p = d ? json_object_get(params, d->name) : NULL;
                _cleanup_(json_decrefp) json_t *none = NULL;
                int r;

                if (!(s->mask & (1u << i)) || !d->subscribe)
                        continue;
                if (!p)
                        p = none = json_object();
                r = d->subscribe(p, &s->filter[i], e);
                if (r < 0 || s->filter[i] == 0) {
                        s->filter[i] = 0;
                        unfilter_locked(s);
                        if (r >= 0)
                                module_error_set(e, 500, "internal", NULL, "no filter");
                        return r < 0 ? r : -EIO;
                }
        }
        return 0;
}

/* The bits of mask whose types are filtered per stream. */
static unsigned filtered_bits(unsigned mask) {
        unsigned bits = 0;

        for (unsigned i = 0; i < EVENT_TYPES_MAX && i < event_types_count(); i++) {
                const event_def_t *d = event_type_at(i, NULL);
                if ((mask & (1u << i)) && d && d->subscribe)
                        bits |= 1u << i;
        }
        return bits;
}

/* Whether user holds EVENTS_FILTERED_PER_USER open streams of a type in
 * bits already (under hub.lock): one user may not take every follower the
 * modules have (64 for `logs`), whatever sessions or tokens it opens. */
static bool user_full_locked(const char *user, unsigned bits) {
        unsigned n = 0;

        if (!bits)
                return false;
        for (struct events_sub *s = hub.subs; s; s = s->next)
                n += !s->closed && (s->mask & bits) && STREQ(s->user, user);
        return n >= EVENTS_FILTERED_PER_USER;
}

int events_subscribe(unsigned mask, bool resume, uint64_t last_id, json_t *params,
                     const struct events_who *who, unsigned max_subscribers,
                     struct events_sub **ret, struct module_error *e) {
        struct events_sub *s;
        int r;

        if (!mask || !who || !who->secret || strlen(who->secret) > FRONTAUTH_SECRET_MAX) {
                module_error_set(e, 500, "internal", NULL, "bad subscription");
                return -EINVAL;
        }
        s = calloc(1, sizeof *s);
        if (!s) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        s->mask = mask;
        s->session_id = who->session_id;
        s->role = who->role;
        snprintf(s->secret, sizeof s->secret, "%s", who->secret);
        snprintf(s->user, sizeof s->user, "%s", who->user ? who->user : "");
        snprintf(s->source, sizeof s->source, "%s", who->source ? who->source : "");
        s->last_usec = now_usec();

        pthread_mutex_lock(&hub.lock);
        if (!hub.started || hub.stop || hub.n_subs >= max_subscribers) {
                bool full = hub.started && !hub.stop;
                pthread_mutex_unlock(&hub.lock);
                free(s);
                if (full)
                        module_error_set(e, 503, "too_many_subscribers", NULL,
                                         "too many event streams are open (limit %u, "
                                         "stewardd:limits:max_event_subscribers); retry later",
                                         max_subscribers);
                else
                        module_error_set(e, 503, "unavailable", NULL,
                                         "the event stream is not available");
                return -EBUSY;
        }
        if (user_full_locked(s->user, filtered_bits(mask))) {
                pthread_mutex_unlock(&hub.lock);
                free(s);
                module_error_set(e, 503, "too_many_subscribers", NULL,
                                 "\"%s\" has %u filtered event streams open already (such as "
                                 "logs); close one first",
                                 who->user ? who->user : "", EVENTS_FILTERED_PER_USER);
                return -EBUSY;
        }
        r = filter_locked(s, params, e);
        if (r < 0) {
                pthread_mutex_unlock(&hub.lock);
                free(s);
                return r;
        }
        bool reset = false;
        size_t missed = 0;
        if (resume) {
                uint64_t oldest = hub.ring_n ? hub.ring[hub.ring_head]->id : hub.next_id;
                for (size_t i = 0; i < hub.ring_n; i++) {
                        const struct event *ev = hub.ring[(hub.ring_head + i) % EVENTS_RING];
                        missed += ev->id > last_id && (ev->type & mask);
                }
                /* An id we cannot continue from exactly: older than the
                 * ring, not one of ours (from before a restart, or made
                 * up), or more behind than a queue holds. */
                reset = last_id + 1 < oldest || last_id >= hub.next_id || missed > EVENTS_QUEUE - 2;
        }
        /* The retry line, then a reset or what the stream missed (at most
         * EVENTS_QUEUE - 2). */
        if (!reserve_locked(s, 1 + (reset ? 1 : missed))) {
                unfilter_locked(s);
                pthread_mutex_unlock(&hub.lock);
                free(s);
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        append_locked(s, event_ref(retry_ev));
        if (resume) {
                if (reset) {
                        char text[96];
                        int n = snprintf(text, sizeof text, "id: %llu\nevent: reset\ndata: {}\n\n",
                                         (unsigned long long)(hub.next_id - 1));
                        struct event *ev = event_new(0, hub.next_id - 1, text, (size_t)n);
                        if (ev)
                                append_locked(s, ev);
                } else {
                        for (size_t i = 0; i < hub.ring_n; i++) {
                                struct event *ev = hub.ring[(hub.ring_head + i) % EVENTS_RING];
                                if (ev->id > last_id && (ev->type & mask))
                                        append_locked(s, event_ref(ev));
                        }
                }
        }
        s->next = hub.subs;
        if (hub.subs)
                hub.subs->prev = s;
        hub.subs = s;
        hub.n_subs++;
        for (unsigned i = 0; i < EVENT_TYPES_MAX; i++)
                if (mask & (1u << i))
                        hub.n_by_type[i]++;
        atomic_store(&stats_event_subscribers, hub.n_subs);
        pthread_mutex_unlock(&hub.lock);
        *ret = s;
        return 0;
}

void events_attach(struct events_sub *s, struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *fi =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        int sndbuf = EVENTS_SNDBUF;

        /* A small kernel buffer: a stalled reader shows as a full queue
         * soon, and costs the kernel little meanwhile. */
        if (fi)
                (void)setsockopt(fi->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        pthread_mutex_lock(&hub.lock);
        s->conn = c;
        pthread_mutex_unlock(&hub.lock);
}

ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max) {
        struct events_sub *s = cls;
        size_t done = 0;

        pthread_mutex_lock(&hub.lock);
        while (s->qn > 0 && done < max) {
                struct event *ev = s->q[s->qhead];
                size_t n = ev->len - s->off;
                if (n > max - done)
                        n = max - done;
                memcpy(buf + done, ev->text + s->off, n);
                done += n;
                s->off += n;
                if (s->off == ev->len) {
                        event_unref(ev);
                        s->qhead = (s->qhead + 1) % s->qcap;
                        s->qn--;
                        s->off = 0;
                }
        }
        if (done > 0) {
                pthread_mutex_unlock(&hub.lock);
                return (ssize_t)done;
        }
        if (s->closed || !s->conn) {
                pthread_mutex_unlock(&hub.lock);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        /* Nothing to send: off the event loop until push_locked() wakes us. */
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        pthread_mutex_unlock(&hub.lock);
        return 0;
}

void events_release(void *cls) {
        struct events_sub *s = cls;

        pthread_mutex_lock(&hub.lock);
        if (!s->closed)
                close_locked(s);
        unfilter_locked(s);
        s->suspended = false;
        if (s->prev)
                s->prev->next = s->next;
        else
                hub.subs = s->next;
        if (s->next)
                s->next->prev = s->prev;
        hub.n_subs--;
        atomic_store(&stats_event_subscribers, hub.n_subs);
        pthread_mutex_unlock(&hub.lock);
        explicit_bzero(s->secret, sizeof s->secret);
        free(s->q);
        free(s);
}

void events_forget_session(int64_t session_id) {
        if (session_id <= 0)
                return;
        pthread_mutex_lock(&hub.lock);
        for (struct events_sub *s = hub.subs; s; s = s->next)
                if (s->session_id == session_id)
                        close_locked(s);
        pthread_mutex_unlock(&hub.lock);
}

unsigned events_subscribers(void) {
        return (unsigned)atomic_load(&stats_event_subscribers);
}

void events_poke(void) {
        pthread_mutex_lock(&hub.lock);
        hub.poked = true;
        pthread_cond_signal(&hub.wake);
        pthread_mutex_unlock(&hub.lock);
}

/* ---- start and stop ------------------------------------------------------------ */

int events_start(void) {
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        if (hub.started)
                return -EBUSY;
        keepalive_ev = event_new(0, 0, KEEPALIVE_TEXT, sizeof KEEPALIVE_TEXT - 1);
        retry_ev = event_new(0, 0, RETRY_TEXT, sizeof RETRY_TEXT - 1);
        if (!keepalive_ev || !retry_ev) {
                r = -ENOMEM;
                goto fail;
        }
        hub.next_id = realtime_usec() / 1000u;
        hub.stop = false;
        hub.started = true;
        r = -pthread_attr_init(&attr);
        if (r < 0)
                goto fail;
        (void)pthread_attr_setstacksize(&attr, 256UL * 1024);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&hub.thread, &attr, poll_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r < 0)
                goto fail;
        attach_modules(&module_hub);
        return 0;
fail:
        hub.started = false;
        event_unref(keepalive_ev);
        event_unref(retry_ev);
        keepalive_ev = retry_ev = NULL;
        return r;
}

void events_shutdown(void) {
        pthread_mutex_lock(&hub.lock);
        if (!hub.started) {
                pthread_mutex_unlock(&hub.lock);
                return;
        }
        hub.stop = true;
        pthread_cond_signal(&hub.wake);
        for (struct events_sub *s = hub.subs; s; s = s->next)
                close_locked(s);
        pthread_mutex_unlock(&hub.lock);
        /* libmicrohttpd must not be stopped with suspended connections: give
         * the resumed streams a moment to end. */
        for (int i = 0; i < 300; i++) {
                unsigned n;
                pthread_mutex_lock(&hub.lock);
                n = hub.n_subs;
                for (struct events_sub *s = hub.subs; s; s = s->next)
                        wake_locked(s);
                pthread_mutex_unlock(&hub.lock);
                if (n == 0)
                        break;
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

void events_stop(void) {
        if (!hub.started)
                return;
        pthread_mutex_lock(&hub.lock);
        hub.stop = true;
        pthread_cond_signal(&hub.wake);
        pthread_mutex_unlock(&hub.lock);
        pthread_join(hub.thread, NULL);
        pthread_mutex_lock(&hub.lock);
        for (size_t i = 0; i < hub.ring_n; i++)
                event_unref(hub.ring[(hub.ring_head + i) % EVENTS_RING]);
        hub.ring_n = hub.ring_head = 0;
        hub.started = false;
        pthread_mutex_unlock(&hub.lock);
        /* After the poll thread is gone (a module's poll state is its own
         * until then); a sample still on its way finds the hub stopped. */
        attach_modules(NULL);
        event_unref(keepalive_ev);
        event_unref(retry_ev);
        keepalive_ev = retry_ev = NULL;
}
