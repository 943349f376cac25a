/* kinds_sys.c — the alert kinds about the system's state: unit_failed,
 * new_listener, login_failures, audit_chain, cert_expiry and mail_queue.
 *
 * Where each looks, and how often (the engine calls every evaluation):
 *   unit_failed     the services collection's list, state "failed", in the
 *                   front (it reads systemd over D-Bus as _steward), each
 *                   evaluation
 *   new_listener    the sockets now (sock_diag, each evaluation) against the
 *                   ports baseline, which lives in the root-only state
 *                   directory: read through the helper's monitor_read
 *                   (the ports module's privileged view, as a monitor sees
 *                   it) once a minute and after each new audit record
 *                   (saving a baseline is one).  No baseline: no obs.
 *   login_failures  the helper's count of failed logins (stats.h, which the
 *                   front polls anyway) sampled into a ring each
 *                   evaluation: the failures within the window are the
 *                   difference.  A helper restart resets its count: the
 *                   ring starts again.
 *   audit_chain     the helper verifies the chain (audit_check) every 5 min
 *                   and within 10 s of a new audit record (the front learns of
 *                   one within 5 s): a check costs a hash per record.
 *   cert_expiry     every hour per certificate: "" is stewardd's own (its
 *                   notAfter is one of the daemon's facts); a path is read
 *                   in the front, or by the helper's monitor_read when the
 *                   front may not (only files under /etc).
 *   mail_queue      the mail module's gauges through the helper
 *                   (module_gauges, what /metrics shows) every 30 s.
 * Caches are this file's, under one lock; alert_kinds_reset() frees them.
 * No file is read while the lock is held (a certificate is read, without
 * blocking, before its cache entry is updated).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certinfo.h"
#include "config.h"
#include "modules/alerts/kinds_int.h"
#include "sockets.h"
#include "stats.h"
#include "util.h"

#define _cleanup_json_     _cleanup_(json_decrefp)
#define BASELINE_TTL       60
#define AUDIT_TTL          300
#define AUDIT_CHANGED_WAIT 10
#define MAIL_TTL           30
#define CERT_TTL           3600
#define CERTS_MAX          32
#define LOGIN_WINDOW_DEF   300
#define LISTENERS_MAX      4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- unit_failed ---------------------------------------------------------- */

int kind_unit_failed(struct kind_req *q) {
        const struct module_ctx ctx = {.user = "stewardd", .role = "monitor", .source = "alerts"};
        const collection_def_t *c = collection_find("services", NULL);
        _cleanup_json_ json_t *query = json_pack("{s:s}", "state", "failed"), *ans = NULL;
        struct module_error me = {0};
        json_t *u;
        size_t i;
        int r;

        if (!c || !c->list || !c->front_reads)
                return kind_unavailable(q, -ENOENT, "there is no list of units here");
        if (!query)
                return kind_unavailable(q, -ENOMEM, "out of memory");
        r = c->list(&ctx, query, &ans, &me);
        if (r < 0)
                return kind_unavailable(q, r, "cannot list the units: %s", me.message);
        json_array_foreach(json_object_get(ans, "services"), i, u) {
                const char *name = json_string_value(json_object_get(u, "name"));
                const char *sub = json_string_value(json_object_get(u, "sub_state"));
                const char *desc = json_string_value(json_object_get(u, "description"));
                if (!name || !kinds_glob_match(q->r->match, name))
                        continue;
                kind_obs_add(q, name, 1, "%s failed (%s)%s%.160s", name, sub ? sub : "failed",
                             desc && *desc ? ": " : "", desc ? desc : "");
        }
        return 0;
}

/* ---- new_listener --------------------------------------------------------- */

static json_t *baseline; /* {key: true} of its keys, or json_null(): none saved */
static int64_t baseline_at;
static uint64_t baseline_head; /* the audit head when it was read */

static int baseline_get(int64_t now, json_t **ret) {
        uint64_t head = atomic_load(&stats_audit_records);
        json_t *ans = NULL;
        int r = 0;

        pthread_mutex_lock(&lock);
        /* Saving a baseline is audited: a new record, a new look. */
        if (!baseline || now - baseline_at >= BASELINE_TTL || now < baseline_at ||
            head != baseline_head) {
                r = kinds_helper_call(
                        "monitor_read",
                        json_pack("{s:s, s:{s:[]}}", "module", "ports", "args", "inodes"), &ans);
                if (r >= 0) {
                        json_t *b = json_object_get(ans, "baseline"), *k;
                        size_t i;
                        json_decref(baseline);
                        baseline = json_is_array(b) ? json_object() : json_null();
                        json_array_foreach(json_is_array(b) ? b : NULL, i, k) if (json_is_string(k))
                                json_object_set_new(baseline, json_string_value(k), json_true());
                        baseline_at = now;
                        baseline_head = head;
                        json_decref(ans);
                }
        }
        if (r >= 0)
                *ret = json_incref(baseline);
        pthread_mutex_unlock(&lock);
        return r;
}

int kind_new_listener(struct kind_req *q) {
        _cleanup_json_ json_t *keys = NULL, *seen = json_object();
        struct sock_entry *v = NULL;
        size_t n = 0;
        int r;

        r = baseline_get(q->now, &keys);
        if (r < 0)
                return kind_unavailable(q, r,
                                        "cannot read the ports baseline (the helper refused "
                                        "or is away; see the daemon's log)");
        if (!json_is_object(keys))
                return 0; /* no baseline saved: nothing is "new" */
        r = sockets_list(false, &v, &n);
        if (r < 0)
                return kind_unavailable(q, r, "cannot list the sockets: %s", strerror(-r));
        for (size_t i = 0; seen && i < n && i < LISTENERS_MAX; i++) {
                const struct sock_entry *s = &v[i];
                const char *proto = sock_protocol_to_string(s->protocol);
                const char *fam = sock_family_to_string(s->family);
                char key[128], inst[96];

                if (!(s->state == 10 || !s->connected))
                        continue; /* TCP: listening only; UDP: unconnected */
                kinds_listener_key(proto, fam, s->local, s->local_port, key, sizeof key);
                if (json_object_get(keys, key) || json_object_get(seen, key))
                        continue;
                json_object_set_new(seen, key, json_true());
                kinds_listener_instance(proto, fam, s->local, s->local_port, inst, sizeof inst);
                kind_obs_add(q, inst, 1, "%s listens, not in the ports baseline", inst);
        }
        sockets_free(v, n);
        return 0;
}

/* ---- login_failures ------------------------------------------------------- */

static struct kinds_ring logins; /* the helper's failed-login count over time */
static int64_t logins_keep;      /* twice the longest window a rule asked for */

int kind_login_failures(struct kind_req *q) {
        int64_t window = q->r->window_seconds > 0 ? q->r->window_seconds : LOGIN_WINDOW_DEF;
        double now_count, then;

        if (!atomic_load(&stats_counters_known))
                return 0;
        now_count = (double)atomic_load(&stats_logins_failed);
        pthread_mutex_lock(&lock);
        if (logins.n > 0 && now_count < logins.v[logins.n - 1])
                logins = (struct kinds_ring){0}; /* the helper restarted */
        if (logins_keep < 2 * window)
                logins_keep = 2 * window;
        /* Past KINDS_RING_MAX samples the ring thins: "then" may then be up
         * to its spacing older than the window's start (a few more
         * failures counted, never fewer). */
        kinds_ring_add(&logins, q->now, now_count, logins_keep);
        if (!kinds_ring_at(&logins, q->now - window, &then))
                then = now_count;
        pthread_mutex_unlock(&lock);
        kind_obs_add(q, "", now_count - then, "%.0f failed logins in the last %lld min",
                     now_count - then, (long long)(window / 60));
        return 0;
}

/* ---- audit_chain ----------------------------------------------------------- */

static json_t *audit_result;
static int64_t audit_at;
static uint64_t audit_head_seen;

int kind_audit_chain(struct kind_req *q) {
        uint64_t head = atomic_load(&stats_audit_records);
        json_t *ans = NULL;
        int r = 0;
        double bad;

        pthread_mutex_lock(&lock);
        if (!audit_result || q->now - audit_at >= AUDIT_TTL || q->now < audit_at ||
            (head != audit_head_seen && q->now - audit_at >= AUDIT_CHANGED_WAIT)) {
                r = kinds_helper_call("audit_check", NULL, &ans);
                if (r >= 0) {
                        json_decref(audit_result);
                        audit_result = ans;
                        audit_at = q->now;
                        audit_head_seen = head;
                }
        }
        if (r < 0) {
                pthread_mutex_unlock(&lock);
                return kind_unavailable(q, r, "cannot verify the audit chain: %s", strerror(-r));
        }
        bad = json_is_true(json_object_get(audit_result, "ok")) ? 0 : 1;
        if (bad)
                kind_obs_add(q, "", 1, "the audit chain fails verification at record %lld",
                             (long long)json_integer_value(
                                     json_object_get(audit_result, "first_broken")));
        else
                kind_obs_add(
                        q, "", 0, "the audit chain of %lld records verifies",
                        (long long)json_integer_value(json_object_get(audit_result, "records")));
        pthread_mutex_unlock(&lock);
        return 0;
}

/* ---- mail_queue ------------------------------------------------------------- */

static double mail_count = NAN; /* NaN: no queue here */
static int64_t mail_at;
static bool mail_known;

int kind_mail_queue(struct kind_req *q) {
        _cleanup_json_ json_t *ans = NULL;
        json_t *fam, *smp;
        size_t i, j;
        double n;
        int r = 0;

        pthread_mutex_lock(&lock);
        if (!mail_known || q->now - mail_at >= MAIL_TTL || q->now < mail_at) {
                r = kinds_helper_call("module_gauges", NULL, &ans);
                if (r >= 0) {
                        mail_count = NAN;
                        json_array_foreach(json_object_get(ans, "families"), i, fam) {
                                if (!STREQ(json_string_value(json_object_get(fam, "name")) ?: "",
                                           "steward_mail_queue_messages"))
                                        continue;
                                mail_count = 0;
                                json_array_foreach(json_object_get(fam, "samples"), j, smp)
                                        mail_count +=
                                        json_number_value(json_object_get(smp, "value"));
                        }
                        mail_at = q->now;
                        mail_known = true;
                }
        }
        n = mail_count;
        pthread_mutex_unlock(&lock);
        if (r < 0)
                return kind_unavailable(q, r, "cannot read the mail queue: %s", strerror(-r));
        if (isnan(n))
                return kind_unavailable(q, -ENOENT, "there is no mail queue here (no Postfix)");
        kind_obs_add(q, "", n, "%.0f messages in the mail queue", n);
        return 0;
}

/* ---- cert_expiry -------------------------------------------------------------- */

struct cert_seen {
        char path[256]; /* "" : stewardd's own */
        int64_t at, not_after;
        int error;
        char subject[128];
};
static struct cert_seen certs[CERTS_MAX];

/* Our own certificate's notAfter, from the daemon's facts. */
static int own_cert(int64_t *ret) {
        _cleanup_json_ json_t *f = steward_facts(NULL, NULL);
        json_t *v = json_object_get(json_object_get(f, "tls"), "not_after");

        if (!json_is_integer(v))
                return -ENOENT;
        *ret = json_integer_value(v);
        return 0;
}

/* A certificate file as the front may read it: never blocks (a FIFO or a
 * device named by a rule is refused, not waited on), a regular file only,
 * at most CERTINFO_MAX bytes. */
static int cert_read(const char *path, int64_t *ret, char *subject, size_t subject_len) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *ans = NULL;
        size_t len = 0;
        int r;

        if (!*path)
                return own_cert(ret);
        r = read_regular_at(AT_FDCWD, path, 0, CERTINFO_MAX, &text, &len, NULL);
        if (r >= 0)
                return certinfo_not_after(text, len, ret, subject, subject_len);
        if (r != -EACCES && r != -EPERM)
                return r;
        r = kinds_helper_call("monitor_read", json_pack("{s:s}", "certificate", path), &ans);
        if (r < 0)
                return r;
        if (!json_is_integer(json_object_get(ans, "not_after")))
                return -EINVAL;
        *ret = json_integer_value(json_object_get(ans, "not_after"));
        snprintf(subject, subject_len, "%s",
                 json_string_value(json_object_get(ans, "subject")) ?: "");
        return 0;
}

int kind_cert_expiry(struct kind_req *q) {
        const char *path = q->r->match;
        struct cert_seen *c = NULL, *oldest = &certs[0];
        struct cert_seen now = {0};
        bool fresh = false;

        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < CERTS_MAX && !c; i++)
                if (certs[i].at != 0 && STREQ(certs[i].path, path))
                        c = &certs[i];
        if (c && q->now - c->at < CERT_TTL && q->now >= c->at) {
                now = *c;
                fresh = true;
        }
        pthread_mutex_unlock(&lock);
        if (!fresh) {
                /* The file (or the helper) is read without the lock, which
                 * kinds_sys_reset() and the other kinds take too. */
                snprintf(now.path, sizeof now.path, "%s", path);
                now.error = cert_read(path, &now.not_after, now.subject, sizeof now.subject);
                /* A failure is tried again within a minute, not an hour. */
                now.at = now.error < 0 ? q->now - CERT_TTL + 60 : q->now;
                pthread_mutex_lock(&lock);
                c = NULL;
                for (size_t i = 0; i < CERTS_MAX && !c; i++) {
                        if (certs[i].at != 0 && STREQ(certs[i].path, path))
                                c = &certs[i];
                        else if (certs[i].at < oldest->at)
                                oldest = &certs[i];
                }
                *(c ?: oldest) = now;
                pthread_mutex_unlock(&lock);
        }
        if (now.error == -EACCES && *path)
                return kind_unavailable(q, now.error,
                                        "cannot read the certificate %s: the front may not open "
                                        "it, and the helper reads certificate files under /etc "
                                        "only",
                                        path);
        if (now.error < 0)
                return kind_unavailable(q, now.error, "cannot read the certificate %s: %s",
                                        *path ? path : "of stewardd", strerror(-now.error));
        kind_obs_add(q, *path ? path : "stewardd", kinds_days_left(now.not_after, q->now),
                     "%.1f days left (%.150s)", kinds_days_left(now.not_after, q->now),
                     now.subject[0] ? now.subject
                     : *path        ? path
                                    : "stewardd's certificate");
        return 0;
}

void kinds_sys_reset(void) {
        pthread_mutex_lock(&lock);
        json_decref(baseline);
        baseline = NULL;
        baseline_at = 0;
        logins = (struct kinds_ring){0};
        logins_keep = 0;
        json_decref(audit_result);
        audit_result = NULL;
        audit_at = 0;
        mail_known = false;
        mail_count = NAN;
        memset(certs, 0, sizeof certs);
        pthread_mutex_unlock(&lock);
}
