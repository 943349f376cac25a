/* notify.c — the notifier: from the engine's batches of changed alerts to
 * webhooks, an Alertmanager and mail, in the front.
 *
 * Shape: alerts_notify() only queues a batch (at most QUEUE_MAX; a full
 * queue drops its oldest batch, counted) and wakes the dispatcher thread,
 * so the engine never waits on a receiver.  The dispatcher reads the
 * settings (module_config_get, at each batch), renders what each
 * destination gets — one webhook body (Alertmanager's version 4) per rule
 * of the batch for every webhook URL, one mail per rule, the batch as
 * Alertmanager API v2 alerts — and appends it to that destination's own
 * queue (at most DEST_QUEUE_MAX deliveries; a full one drops its oldest
 * waiting delivery, counted).  Each destination has a thread of its own
 * that sends its queue in order: a receiver that is slow or failing holds
 * only its own queue, never another's nor the engine.
 *
 * Retries: a delivery that meets a 5xx, a 429, no answer (network,
 * timeout: 10 s an attempt) or a temporary failure of sendmail is tried
 * again after 1 s, 2 s, 4 s … at most 5 min apart, for at most an hour
 * since its first attempt; then it is dropped as failed.  Any other
 * answer (a 4xx) fails at once.  Order per destination is kept: later
 * deliveries wait behind one being retried (a resolved after its firing).
 *
 * Alertmanager: besides the changes, the alerts firing now are pushed again
 * every min(repeat_interval, 60 s), each valid four minutes ahead (endsAt,
 * as Prometheus sends it): Alertmanager resolves one not sent again by
 * then.  They are the
 * engine's own list (engine.h, its lock taken without ours), less the
 * silenced ones: so the refresh follows the engine across a restart, and
 * an alert that resolves while silenced or with send_resolved off (of
 * which the engine tells nobody) is no longer pushed and Alertmanager
 * resolves it.
 *
 * Mail: the front cannot exec; a delivery is {"subject", "body"} handed to
 * the helper's module_task (mailer.c), which adds the recipients from its
 * own settings and runs sendmail.
 *
 * Locking: one mutex (N.lock) over every queue and counter, and one
 * condition (monotonic clock) broadcast on any change; no
 * thread holds the lock while it sends.  Bodies and URLs are copied into
 * each delivery, so a change of the settings never touches one queued.
 * Nothing sent holds a secret: bodies carry the engine's labels and
 * annotations; status shows a webhook's scheme, host and port, never its
 * path (which may hold a token).
 */
#include "modules/alerts/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonutil.h"
#include "modules/alerts/alerts.h"
#include "modules/alerts/engine.h"
#include "modules/alerts/mailer.h"
#include "modules/alerts/webhook.h"
#include "util.h"

#define QUEUE_MAX          64u
#define DEST_QUEUE_MAX     64u
#define RETRY_FIRST_S      1u
#define RETRY_MAX_S        300u
#define RETRY_GIVE_UP_S    3600u
#define AM_REFRESH_S       60u
#define AM_FIRST_REFRESH_S 10u
#define URL_MAX            (SETTING_WIDE_LIST_ITEM_MAX + 32)
#define STEWARD_PORT       660

enum dest_kind { DEST_WEBHOOK, DEST_ALERTMANAGER, DEST_MAIL, _DEST_MAX };
enum result { RESULT_OK, RESULT_FAILED, RESULT_DROPPED, _RESULT_MAX };
static const char *const kind_names[_DEST_MAX] = {"webhook", "alertmanager", "mail"};
static const char *const result_names[_RESULT_MAX] = {"ok", "failed", "dropped"};
#define TOTALS_KEY "notify_totals"

/* One thing to send: an HTTP body to url, or a mail task's args. */
struct delivery {
        struct delivery *next;
        char *url;           /* HTTP: where (malloc'ed); mail: NULL */
        char *body;          /* HTTP: the JSON text */
        json_t *mail;        /* mail: {"subject", "body"} */
        uint64_t first_usec; /* monotonic: its first attempt, 0 before */
        unsigned attempts;
};

struct dest {
        enum dest_kind kind;
        char url[URL_MAX]; /* webhook: its URL (the slot's key); Alertmanager: BASE */
        pthread_t thread;
        bool started;
        struct delivery *head, *tail;
        size_t queued;
        bool head_busy; /* the head is being sent (the lock is not held) */
        uint64_t sent, failed, dropped;
        char last_error[256];
};

static struct {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool running, stopping;
        json_t *batches[QUEUE_MAX];
        size_t first, n;
        uint64_t dropped_batches;
        pthread_t dispatcher;
        struct dest webhooks[ALERTS_DESTINATIONS_MAX];
        struct dest am, mail;
        /* Since the start, per kind and result: /metrics reads them in the
         * helper from the module's state (alerts_notify_gauges), which the
         * destination threads put when they changed. */
        uint64_t totals[_DEST_MAX][_RESULT_MAX];
        bool totals_dirty;
        uint64_t am_next_usec; /* monotonic: the next refresh of the firing ones */
} N = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .am = {.kind = DEST_ALERTMANAGER},
        .mail = {.kind = DEST_MAIL},
};

/* ---- deliveries -------------------------------------------------------------------- */

static void delivery_free(struct delivery *d) {
        if (!d)
                return;
        free(d->url);
        free(d->body);
        json_decref(d->mail);
        free(d);
}

static struct delivery *http_delivery(const char *url, json_t *body) {
        struct delivery *d = calloc(1, sizeof *d);

        if (!d)
                return NULL;
        d->url = strdup(url);
        d->body = body ? json_dump_compact(body, NULL) : NULL;
        if (!d->url || !d->body) {
                delivery_free(d);
                return NULL;
        }
        return d;
}

/* Under the lock: appends d (taken over) to dest's queue, making room by
 * dropping the oldest delivery that is not being sent. */
static void dest_push(struct dest *dest, struct delivery *d) {
        if (!d)
                return;
        if (dest->queued >= DEST_QUEUE_MAX) {
                struct delivery **victim = dest->head_busy ? &dest->head->next : &dest->head;
                struct delivery *v = *victim;
                if (v) {
                        *victim = v->next;
                        if (dest->tail == v)
                                dest->tail = dest->head_busy ? dest->head : NULL;
                        delivery_free(v);
                        dest->queued--;
                        dest->dropped++;
                        N.totals[dest->kind][RESULT_DROPPED]++;
                        N.totals_dirty = true;
                }
        }
        if (dest->tail)
                dest->tail->next = d;
        else
                dest->head = d;
        dest->tail = d;
        dest->queued++;
}

/* Under the lock: the head is done with. */
static void dest_pop(struct dest *dest) {
        struct delivery *d = dest->head;

        dest->head = d->next;
        if (!dest->head)
                dest->tail = NULL;
        dest->queued--;
        delivery_free(d);
}

/* ---- sending ---------------------------------------------------------------------- */

static enum webhook_outcome mail_send(json_t *args, char *msg, size_t msg_len) {
        module_helper_call_fn call = modules_helper_call();
        json_t *ret = NULL;
        const char *outcome;
        enum webhook_outcome o;
        int r;

        if (!call) {
                snprintf(msg, msg_len, "no helper to send mail through");
                return WEBHOOK_FAILED;
        }
        r = call("module_task", json_pack("{s:s, s:O}", "module", module_alerts.name, "args", args),
                 &ret);
        if (r < 0) {
                /* The helper refused (its reason is in its log), is busy
                 * (-EBUSY: too many mails now, tried again later) or is
                 * gone. */
                snprintf(msg, msg_len, "the helper %s",
                         r == -EACCES  ? "refused the mail (see its log)"
                         : r == -EBUSY ? "sends no more mail for now (retried later)"
                                       : "did not answer");
                json_decref(ret);
                return r == -EACCES ? WEBHOOK_FAILED : WEBHOOK_RETRY;
        }
        outcome = json_string_value(json_object_get(ret, "outcome"));
        o = outcome && STREQ(outcome, "sent")    ? WEBHOOK_OK
            : outcome && STREQ(outcome, "retry") ? WEBHOOK_RETRY
                                                 : WEBHOOK_FAILED;
        if (o != WEBHOOK_OK)
                snprintf(msg, msg_len, "sendmail: exit %d: %s",
                         (int)json_integer_value(json_object_get(ret, "exit_status")),
                         json_string_value(json_object_get(ret, "message")) ?: "");
        json_decref(ret);
        return o;
}

static enum webhook_outcome deliver(struct dest *dest, struct delivery *d, char *msg,
                                    size_t msg_len) {
        if (dest->kind == DEST_MAIL)
                return mail_send(d->mail, msg, msg_len);
        return webhook_post(d->url, d->body, msg, msg_len);
}

static unsigned backoff_s(unsigned attempts) {
        unsigned s = RETRY_FIRST_S;

        for (unsigned i = 1; i < attempts && s < RETRY_MAX_S; i++)
                s *= 2;
        return s < RETRY_MAX_S ? s : RETRY_MAX_S;
}

/* Under the lock: waits until deadline (monotonic usec; 0: a change) or a
 * stop. */
static void wait_until(uint64_t deadline_usec) {
        struct timespec ts;

        if (deadline_usec == 0) {
                pthread_cond_wait(&N.cond, &N.lock);
                return;
        }
        ts.tv_sec = (time_t)(deadline_usec / 1000000u);
        ts.tv_nsec = (long)(deadline_usec % 1000000u) * 1000;
        (void)pthread_cond_timedwait(&N.cond, &N.lock, &ts);
}

static void external_url(json_t *batch, char *buf, size_t len);

/* Until when Alertmanager may take a firing alert as firing without hearing
 * of it again: four refreshes (Prometheus sends four resend delays). */
static int64_t am_valid_until(void) {
        return (int64_t)time(NULL) + 4 * (int64_t)AM_REFRESH_S;
}

/* Without the lock: the Alertmanager's refresh of the alerts firing now
 * (not silenced), as a delivery to the settings' Alertmanager; NULL when
 * there is none or nothing fires.  *ret_period: seconds to the next. */
static struct delivery *am_refresh(unsigned *ret_period) {
        _cleanup_(json_decrefp) json_t *all = NULL, *list = json_array(), *body = NULL;
        struct alerts_config c = {0};
        char url[URL_MAX], ext[300];
        json_t *a;
        size_t i;

        *ret_period = AM_REFRESH_S;
        if (!list || module_config_get(&module_alerts, &c, sizeof c) < 0)
                return NULL;
        if (c.repeat_interval > 0 && c.repeat_interval < AM_REFRESH_S)
                *ret_period = c.repeat_interval;
        if (!c.alertmanager_url[0] ||
            webhook_alertmanager_url(c.alertmanager_url, url, sizeof url) < 0 ||
            alerts_engine_list("firing", NULL, &all) < 0)
                return NULL;
        json_array_foreach(json_object_get(all, "alerts"), i,
                           a) if (!json_is_string(json_object_get(a, "silenced_by")))
                json_array_append(list, a);
        if (json_array_size(list) == 0)
                return NULL;
        external_url(list, ext, sizeof ext);
        body = webhook_alertmanager_body(list, ext, am_valid_until());
        return body ? http_delivery(url, body) : NULL;
}

/* Under the lock, with the head sent: counts, and retries or drops it. */
static void after_attempt(struct dest *dest, enum webhook_outcome o, const char *msg) {
        struct delivery *d = dest->head;
        uint64_t now = now_usec();

        dest->head_busy = false;
        if (o == WEBHOOK_OK) {
                dest->sent++;
                N.totals[dest->kind][RESULT_OK]++;
                N.totals_dirty = true;
                dest->last_error[0] = '\0';
                dest_pop(dest);
                return;
        }
        snprintf(dest->last_error, sizeof dest->last_error, "%s", msg);
        if (o == WEBHOOK_RETRY && now - d->first_usec < (uint64_t)RETRY_GIVE_UP_S * 1000000u) {
                uint64_t until = now + (uint64_t)backoff_s(d->attempts) * 1000000u;
                while (!N.stopping && now_usec() < until)
                        wait_until(until);
                return;
        }
        dest->failed++;
        N.totals[dest->kind][RESULT_FAILED]++;
        N.totals_dirty = true;
        dest_pop(dest);
}

/* Under the lock, which it lets go of meanwhile: the totals to the
 * helper's store when they changed (one small put per delivery at most). */
static void totals_persist(void) {
        module_helper_call_fn call = modules_helper_call();
        json_t *v, *ret = NULL;

        if (!N.totals_dirty || !call)
                return;
        N.totals_dirty = false;
        v = json_object();
        for (int k = 0; v && k < _DEST_MAX; k++) {
                json_t *per = json_object();
                for (int r = 0; per && r < _RESULT_MAX; r++)
                        json_object_set_new(per, result_names[r],
                                            json_integer((json_int_t)N.totals[k][r]));
                json_object_set_new(v, kind_names[k], per);
        }
        pthread_mutex_unlock(&N.lock);
        if (v)
                (void)call("module_state_put",
                           json_pack("{s:s, s:s, s:o}", "module", module_alerts.name, "key",
                                     TOTALS_KEY, "value", v),
                           &ret);
        json_decref(ret);
        pthread_mutex_lock(&N.lock);
}

static void *dest_main(void *data) {
        struct dest *dest = data;

        (void)pthread_setname_np(pthread_self(), dest->kind == DEST_MAIL ? "alerts-mail"
                                                 : dest->kind == DEST_ALERTMANAGER
                                                         ? "alerts-am"
                                                         : "alerts-webhook");
        pthread_mutex_lock(&N.lock);
        while (!N.stopping) {
                char msg[256] = "";
                struct delivery *d;
                enum webhook_outcome o;

                if (!dest->head && dest->kind == DEST_ALERTMANAGER &&
                    now_usec() >= N.am_next_usec) {
                        struct delivery *fresh;
                        unsigned period;

                        N.am_next_usec = now_usec() + (uint64_t)AM_REFRESH_S * 1000000u;
                        pthread_mutex_unlock(&N.lock);
                        fresh = am_refresh(&period);
                        pthread_mutex_lock(&N.lock);
                        N.am_next_usec = now_usec() + (uint64_t)period * 1000000u;
                        if (fresh && !dest->head)
                                dest_push(dest, fresh);
                        else
                                delivery_free(fresh);
                        continue;
                }
                if (!dest->head) {
                        wait_until(dest->kind == DEST_ALERTMANAGER ? N.am_next_usec : 0);
                        continue;
                }
                d = dest->head;
                dest->head_busy = true;
                if (d->attempts++ == 0)
                        d->first_usec = now_usec();
                pthread_mutex_unlock(&N.lock);
                o = deliver(dest, d, msg, sizeof msg);
                pthread_mutex_lock(&N.lock);
                after_attempt(dest, o, msg);
                totals_persist();
        }
        pthread_mutex_unlock(&N.lock);
        return NULL;
}

/* Under the lock: the destination's thread runs (started at its first
 * delivery).  A thread that cannot start leaves the queue to fill and
 * drop; status shows it queued. */
static void dest_start(struct dest *dest) {
        pthread_attr_t attr;

        if (dest->started || N.stopping)
                return;
        if (pthread_attr_init(&attr) != 0)
                return;
        (void)pthread_attr_setstacksize(&attr, 256u * 1024u);
        dest->started = pthread_create(&dest->thread, &attr, dest_main, dest) == 0;
        pthread_attr_destroy(&attr);
}

/* ---- dispatching -------------------------------------------------------------------- */

/* The console's alerts page on the host the alerts name. */
static void external_url(json_t *batch, char *buf, size_t len) {
        json_t *first = json_array_get(batch, 0);
        const char *host =
                json_string_value(json_object_get(json_object_get(first, "labels"), "host"));
        char name[256] = "localhost";

        if (!host || !dns_name_valid(host, 253)) {
                if (gethostname(name, sizeof name - 1) < 0 || !dns_name_valid(name, 253))
                        snprintf(name, sizeof name, "localhost");
                host = name;
        }
        snprintf(buf, len, "https://%s:%d/#/alerts", host, STEWARD_PORT);
}

static const char *host_of(json_t *group) {
        const char *h = json_string_value(
                json_object_get(json_object_get(json_array_get(group, 0), "labels"), "host"));
        return h ? h : "localhost";
}

/* The batch without its resolved alerts (send_resolved off). */
static json_t *only_firing(json_t *batch) {
        json_t *out = json_array(), *a;
        size_t i;

        json_array_foreach(batch, i, a) {
                const char *s = json_string_value(json_object_get(a, "status"));
                if (out && !(s && STREQ(s, "resolved")))
                        json_array_append(out, a);
        }
        return out;
}

/* Under the lock: the webhook slot of url, a free one, or one whose URL
 * left the settings and whose queue is empty; NULL when none. */
static struct dest *webhook_slot(const char *url, const struct alerts_config *c) {
        struct dest *free_slot = NULL;

        for (size_t i = 0; i < ELEMENTSOF(N.webhooks); i++) {
                struct dest *d = &N.webhooks[i];
                bool listed = false;
                if (STREQ(d->url, url))
                        return d;
                for (size_t k = 0; k < c->webhooks.n; k++)
                        listed |= STREQ(d->url, c->webhooks.name[k]);
                if (!free_slot && (!d->url[0] || (!listed && !d->head)))
                        free_slot = d;
        }
        if (free_slot) {
                snprintf(free_slot->url, sizeof free_slot->url, "%s", url);
                free_slot->sent = free_slot->failed = free_slot->dropped = 0;
                free_slot->last_error[0] = '\0';
        }
        return free_slot;
}

/* What each destination gets of one batch, rendered without the lock and
 * queued under it. */
struct rendered {
        struct delivery *webhook[ALERTS_DESTINATIONS_MAX][QUEUE_MAX];
        size_t n_webhook[ALERTS_DESTINATIONS_MAX];
        struct delivery *am;
        struct delivery *mail[QUEUE_MAX];
        size_t n_mail;
};

static void render_group(struct rendered *out, json_t *group, const struct alerts_config *c,
                         const char *ext) {
        _cleanup_(json_decrefp) json_t *body = webhook_body(group, ext);
        _cleanup_free_ char *subject = NULL, *text = NULL;

        for (size_t w = 0; body && w < c->webhooks.n && w < ALERTS_DESTINATIONS_MAX; w++)
                if (out->n_webhook[w] < QUEUE_MAX)
                        out->webhook[w][out->n_webhook[w]++] =
                                http_delivery(c->webhooks.name[w], body);
        if (c->mail_to.n == 0 || out->n_mail >= QUEUE_MAX ||
            mail_compose(group, host_of(group), ext, &subject, &text) < 0)
                return;
        struct delivery *d = calloc(1, sizeof *d);
        if (d && !(d->mail = json_pack("{s:s, s:s}", "subject", subject, "body", text))) {
                free(d);
                d = NULL;
        }
        if (d)
                out->mail[out->n_mail++] = d;
}

static void dispatch(json_t *batch) {
        struct alerts_config c = {0};
        _cleanup_(json_decrefp) json_t *told = NULL, *groups = NULL, *am_body = NULL;
        _cleanup_free_ struct rendered *out = calloc(1, sizeof *out);
        char ext[300], am_url[URL_MAX] = "";
        json_t *g;
        size_t i;

        if (!out || module_config_get(&module_alerts, &c, sizeof c) < 0)
                return;
        external_url(batch, ext, sizeof ext);
        told = c.send_resolved ? json_incref(batch) : only_firing(batch);
        groups = webhook_groups(told);
        json_array_foreach(groups, i, g) render_group(out, g, &c, ext);
        if (c.alertmanager_url[0] &&
            webhook_alertmanager_url(c.alertmanager_url, am_url, sizeof am_url) == 0 &&
            (am_body = webhook_alertmanager_body(batch, ext, am_valid_until())))
                out->am = http_delivery(am_url, am_body);

        pthread_mutex_lock(&N.lock);
        snprintf(N.am.url, sizeof N.am.url, "%s", c.alertmanager_url);
        for (size_t w = 0; w < ALERTS_DESTINATIONS_MAX; w++) {
                struct dest *d = out->n_webhook[w] ? webhook_slot(c.webhooks.name[w], &c) : NULL;
                for (size_t k = 0; k < out->n_webhook[w]; k++)
                        if (d)
                                dest_push(d, out->webhook[w][k]);
                        else { /* every slot busy draining a URL no longer set */
                                delivery_free(out->webhook[w][k]);
                                N.totals[DEST_WEBHOOK][RESULT_DROPPED]++;
                                N.totals_dirty = true;
                        }
                if (d)
                        dest_start(d);
        }
        if (out->am) {
                dest_push(&N.am, out->am);
                N.am_next_usec = now_usec() + (uint64_t)AM_REFRESH_S * 1000000u;
        }
        for (size_t k = 0; k < out->n_mail; k++)
                dest_push(&N.mail, out->mail[k]);
        if (out->n_mail)
                dest_start(&N.mail);
        pthread_cond_broadcast(&N.cond);
        pthread_mutex_unlock(&N.lock);
}

static void *dispatcher_main(void *data) {
        (void)data;
        (void)pthread_setname_np(pthread_self(), "alerts-notify");
        pthread_mutex_lock(&N.lock);
        while (!N.stopping) {
                json_t *batch;

                if (N.n == 0) {
                        pthread_cond_wait(&N.cond, &N.lock);
                        continue;
                }
                batch = N.batches[N.first];
                N.batches[N.first] = NULL;
                N.first = (N.first + 1) % QUEUE_MAX;
                N.n--;
                pthread_mutex_unlock(&N.lock);
                dispatch(batch);
                json_decref(batch);
                pthread_mutex_lock(&N.lock);
        }
        pthread_mutex_unlock(&N.lock);
        return NULL;
}

/* ---- the interface ---------------------------------------------------------------- */

void alerts_notify(json_t *alerts) {
        if (!json_is_array(alerts) || json_array_size(alerts) == 0) {
                json_decref(alerts);
                return;
        }
        pthread_mutex_lock(&N.lock);
        if (!N.running) {
                pthread_mutex_unlock(&N.lock);
                json_decref(alerts);
                return;
        }
        if (N.n == QUEUE_MAX) {
                json_decref(N.batches[N.first]);
                N.batches[N.first] = NULL;
                N.first = (N.first + 1) % QUEUE_MAX;
                N.n--;
                N.dropped_batches++;
        }
        N.batches[(N.first + N.n) % QUEUE_MAX] = alerts;
        N.n++;
        pthread_cond_broadcast(&N.cond);
        pthread_mutex_unlock(&N.lock);
}

int alerts_notify_start(void) {
        pthread_condattr_t ca;
        int r;

        if (N.running)
                return 0;
        r = webhook_global_init();
        if (r < 0)
                return r;
        if (pthread_condattr_init(&ca) != 0 ||
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
            pthread_cond_init(&N.cond, &ca) != 0) {
                webhook_global_done();
                return -ENOMEM;
        }
        pthread_condattr_destroy(&ca);
        N.stopping = false;
        /* Soon: what fired before a restart is fresh again once the engine
         * has loaded its states (at its start, from the helper). */
        N.am_next_usec = now_usec() + AM_FIRST_REFRESH_S * 1000000ull;
        if (pthread_create(&N.dispatcher, NULL, dispatcher_main, NULL) != 0) {
                pthread_cond_destroy(&N.cond);
                webhook_global_done();
                return -EAGAIN;
        }
        N.running = true;
        /* The Alertmanager's thread runs from the start, for the refresh
         * (it reads the settings itself; idle without an Alertmanager). */
        pthread_mutex_lock(&N.lock);
        dest_start(&N.am);
        pthread_mutex_unlock(&N.lock);
        return 0;
}

static void dest_stop(struct dest *dest) {
        if (dest->started)
                pthread_join(dest->thread, NULL);
        dest->started = false;
        while (dest->head)
                dest_pop(dest);
        dest->head_busy = false;
}

void alerts_notify_stop(void) {
        if (!N.running)
                return;
        pthread_mutex_lock(&N.lock);
        N.stopping = true;
        pthread_cond_broadcast(&N.cond);
        pthread_mutex_unlock(&N.lock);
        pthread_join(N.dispatcher, NULL);
        for (size_t i = 0; i < ELEMENTSOF(N.webhooks); i++) {
                dest_stop(&N.webhooks[i]);
                N.webhooks[i].url[0] = '\0';
        }
        dest_stop(&N.am);
        dest_stop(&N.mail);
        for (; N.n > 0; N.n--, N.first = (N.first + 1) % QUEUE_MAX)
                json_decref(TAKE_PTR(N.batches[N.first]));
        N.first = 0;
        pthread_cond_destroy(&N.cond);
        webhook_global_done();
        N.running = false;
}

/* Under the lock. */
static json_t *dest_json(const struct dest *d) {
        char host[URL_MAX];

        webhook_url_host(d->url, host, sizeof host);
        return json_pack("{s:s*, s:I, s:I, s:I, s:s?, s:I}", "url_host",
                         d->kind == DEST_MAIL ? NULL : host, "sent", (json_int_t)d->sent, "failed",
                         (json_int_t)d->failed, "dropped", (json_int_t)d->dropped, "last_error",
                         d->last_error[0] ? d->last_error : NULL, "queued", (json_int_t)d->queued);
}

json_t *alerts_notify_status(void) {
        json_t *hooks = json_array(), *out;

        pthread_mutex_lock(&N.lock);
        for (size_t i = 0; hooks && i < ELEMENTSOF(N.webhooks); i++)
                if (N.webhooks[i].url[0])
                        json_array_append_new(hooks, dest_json(&N.webhooks[i]));
        out = json_pack("{s:o*, s:o*, s:o*, s:I}", "webhooks", hooks, "mail", dest_json(&N.mail),
                        "alertmanager", dest_json(&N.am), "dropped_batches",
                        (json_int_t)N.dropped_batches);
        pthread_mutex_unlock(&N.lock);
        return out;
}

json_t *alerts_notify_gauges(void) {
        _cleanup_(json_decrefp) json_t *v = NULL;
        json_t *samples = json_array();

        if (!samples)
                return NULL;
        if (module_state_read(module_alerts.name, TOTALS_KEY, &v) < 0)
                v = NULL;
        for (int k = 0; k < _DEST_MAX; k++)
                for (int r = 0; r < _RESULT_MAX; r++) {
                        json_t *n =
                                json_object_get(json_object_get(v, kind_names[k]), result_names[r]);
                        json_array_append_new(
                                samples,
                                json_pack("{s:{s:s, s:s}, s:I}", "labels", "receiver",
                                          kind_names[k], "result", result_names[r], "value",
                                          json_is_integer(n) ? json_integer_value(n) : 0));
                }
        return json_pack("{s:s, s:s, s:s, s:o}", "name", "steward_alert_notifications_total",
                         "type", "counter", "help",
                         "Alert notifications by receiver and result since the daemon started",
                         "samples", samples);
}
