/* engine.c — the alerts' evaluation in the front (engine.h).
 *
 * The sampler's hook only signals a condition variable; the engine's own
 * thread then looks at series_latest(): each new history sample (one per
 * sampling interval) is one evaluation of every enabled rule.  For each
 * rule the kind observes (kinds.c, without the lock), then, under the
 * lock, each observation steps the state machine of its (rule, instance)
 * and the instances the rule did not report step as not matching (a
 * filesystem gone resolves its alert).  A rule whose observation fails
 * keeps its instances as they are and shows the error.
 *
 * After the evaluation, without the lock: the transitions go to the
 * helper's log (module_log_append) and to the event stream, the states
 * (whenever something changed, notifications included) to the helper's
 * store (module_state_put), and what is worth telling to the notifier.
 * At start the persisted states are loaded, so that a restart keeps
 * `since`, does not re-notify what was notified, and resolves what
 * resolved meanwhile at the first evaluation.
 *
 * Owns: the live rules (set by make_live), the marks (silences and acks,
 * the helper's file), the instances.  All under `lock`.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "module.h"
#include "modules/alerts/engine.h"
#include "modules/alerts/kinds.h"
#include "modules/alerts/notify.h"
#include "procsampler.h"
#include "series.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static struct {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t thread;
        bool running, stop, wake, loaded;
        struct alert_rules rules;
        char (*errors)[512]; /* per rule: the last observation's error, "" none */
        json_t *marks;
        struct alert_inst *inst; /* ALERT_INSTANCES_MAX */
        size_t n_inst;
        int64_t last_t;   /* the sample last evaluated */
        int64_t last_eval; /* its unix time */
        uint64_t evaluations;
        uint64_t last_usec, max_usec; /* how long the last and the longest took */
} eng = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static _Atomic(const struct event_hub *) hub;

/* ---- pure parts ---------------------------------------------------------------- */

void alert_fingerprint(const char *rule, const char *instance, char ret[17]) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
        const char *parts[2] = {rule, instance};

        for (size_t p = 0; p < 2; p++) {
                for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++) {
                        h ^= *c;
                        h *= 1099511628211ULL;
                }
                h ^= 0xff; /* a separator no name holds */
                h *= 1099511628211ULL;
        }
        snprintf(ret, 17, "%016llx", (unsigned long long)h);
}

enum alert_state alert_step(struct alert_inst *a, const struct alert_rule *r, bool have,
                            double value, int64_t now) {
        bool over = have && alert_compare(r->op, value, r->threshold);
        double clear = isnan(r->clear) ? r->threshold : r->clear;

        if (have)
                a->value = value;
        switch (a->state) {
        case AS_INACTIVE:
        case AS_RESOLVED:
                if (!over)
                        return a->state;
                a->active_at = now;
                a->ends_at = 0;
                a->starts_at = 0;
                a->notified = false;
                if (r->for_seconds == 0) {
                        a->starts_at = now;
                        return AS_FIRING;
                }
                return AS_PENDING;
        case AS_PENDING:
                if (!over)
                        return AS_INACTIVE;
                if (now - a->active_at >= (int64_t)r->for_seconds) {
                        a->starts_at = now;
                        return AS_FIRING;
                }
                return AS_PENDING;
        case AS_FIRING:
                /* Hysteresis: firing until the value no longer passes clear. */
                if (have && alert_compare(r->op, value, clear))
                        return AS_FIRING;
                a->ends_at = now;
                return AS_RESOLVED;
        }
        return a->state;
}

bool alert_should_notify(const struct alert_inst *a, bool silenced, unsigned repeat,
                         int64_t now) {
        if (a->state != AS_FIRING || silenced)
                return false;
        return !a->notified || now - a->last_notified >= (int64_t)repeat;
}

/* ---- marks: silences and acks --------------------------------------------------- */

/* The id of the silence that holds a now, or NULL. */
static const char *silenced_by(json_t *marks, const struct alert_inst *a, int64_t now) {
        json_t *list = json_object_get(marks, "silences"), *s;
        size_t i;

        json_array_foreach(list, i, s) {
                const char *rule = json_string_value(json_object_get(s, "rule"));
                const char *inst = json_string_value(json_object_get(s, "instance"));
                json_int_t from = json_integer_value(json_object_get(s, "created_at"));
                json_int_t until = json_integer_value(json_object_get(s, "ends_at"));
                if (rule && STREQ(rule, a->rule) && (!inst || !*inst || STREQ(inst, a->instance)) &&
                    from <= now && now < until)
                        return json_string_value(json_object_get(s, "id"));
        }
        return NULL;
}

/* The ack of a's current episode (an ack made before it began is stale). */
static json_t *ack_of(json_t *marks, const struct alert_inst *a) {
        json_t *ack = json_object_get(json_object_get(marks, "acks"), a->fingerprint);

        if (!json_is_object(ack) ||
            json_integer_value(json_object_get(ack, "time")) < a->active_at)
                return NULL;
        return ack;
}

/* ---- alert objects ------------------------------------------------------------------ */

static const struct alert_rule *rule_find_locked(const char *name) {
        int i = alert_rules_find(&eng.rules, name);
        return i >= 0 ? &eng.rules.rule[i] : NULL;
}

/* The value as text: integers without a fraction. */
static void value_text(double v, char *buf, size_t len) {
        if (isnan(v))
                snprintf(buf, len, "n/a");
        else if (fabs(v) < 1e15 && v == (double)(long long)v)
                snprintf(buf, len, "%lld", (long long)v);
        else
                snprintf(buf, len, "%.2f", v);
}

/* The summary template with {instance}, {value}, {series}, {threshold}. */
static void summary_text(const struct alert_rule *r, const struct alert_inst *a, const char *tmpl,
                         char *out, size_t len) {
        struct buf b;
        char v[64];

        buf_init(&b, len);
        for (const char *p = tmpl; *p;) {
                if (strncmp(p, "{instance}", 10) == 0) {
                        buf_append(&b, a->instance[0] ? a->instance : r->name,
                                   strlen(a->instance[0] ? a->instance : r->name));
                        p += 10;
                } else if (strncmp(p, "{value}", 7) == 0) {
                        value_text(a->value, v, sizeof v);
                        buf_append(&b, v, strlen(v));
                        p += 7;
                } else if (strncmp(p, "{series}", 8) == 0) {
                        buf_append(&b, r->series, strlen(r->series));
                        p += 8;
                } else if (strncmp(p, "{threshold}", 11) == 0) {
                        value_text(r->threshold, v, sizeof v);
                        buf_append(&b, v, strlen(v));
                        p += 11;
                } else
                        buf_append(&b, p++, 1);
        }
        snprintf(out, len, "%.*s", (int)b.len, b.data ? b.data : "");
        buf_free(&b);
}

static const char *default_summary(enum alert_kind k);

json_t *alert_inst_json(const struct alert_inst *a, const struct alert_rule *r, bool api,
                        json_t *marks, int64_t now) {
        char host[256] = "", summary[512], desc[512], v[64], t[64];
        const char *sev = a->critical ? "critical" : "warning", *sil;
        json_t *labels, *o, *ack;

        if (gethostname(host, sizeof host - 1) < 0)
                snprintf(host, sizeof host, "localhost");
        labels = json_pack("{s:s, s:s, s:s}", "alertname", a->rule, "severity", sev, "host", host);
        if (labels && a->instance[0])
                json_object_set_new(labels, "instance", json_string(a->instance));
        summary_text(r, a, r->summary[0] ? r->summary : default_summary(r->kind), summary,
                     sizeof summary);
        value_text(a->value, v, sizeof v);
        value_text(r->threshold, t, sizeof t);
        if (a->detail[0])
                snprintf(desc, sizeof desc, "%s (rule %s: value %s %s %s)", a->detail, r->name, v,
                         alert_op_name(r->op), t);
        else
                snprintf(desc, sizeof desc, "rule %s: value %s %s %s", r->name, v,
                         alert_op_name(r->op), t);
        o = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}, s:I, s:I, s:o}", "rule", a->rule,
                      "fingerprint", a->fingerprint, "labels", labels, "annotations", "summary",
                      summary, "description", desc, "starts_at",
                      (json_int_t)(a->starts_at ? a->starts_at : a->active_at), "ends_at",
                      (json_int_t)a->ends_at, "value",
                      isfinite(a->value) ? json_real(a->value) : json_null());
        if (!o)
                return NULL;
        if (!api) {
                json_object_set_new(o, "status", json_string(a->state == AS_RESOLVED
                                                                     ? "resolved"
                                                                     : "firing"));
                return o;
        }
        ack = ack_of(marks, a);
        sil = silenced_by(marks, a, now);
        json_object_set_new(o, "state", json_string(alert_state_name(a->state)));
        json_object_set_new(o, "since", json_integer(a->since));
        json_object_set_new(o, "severity", json_string(sev));
        json_object_set_new(o, "instance", json_string(a->instance));
        json_object_set_new(o, "summary", json_string(summary));
        json_object_set_new(o, "description", json_string(desc));
        json_object_set_new(o, "acknowledged", ack ? json_deep_copy(ack) : json_null());
        json_object_set_new(o, "silenced_by", sil ? json_string(sil) : json_null());
        return o;
}

static const char *default_summary(enum alert_kind k) {
        switch (k) {
        case AK_THRESHOLD:
                return "{series} is {value}";
        case AK_DISK:
                return "Filesystem {instance} is {value} % full";
        case AK_DISK_FILL:
                return "Filesystem {instance} fills within {value} hours";
        case AK_UNIT_FAILED:
                return "Unit {instance} failed";
        case AK_NEW_LISTENER:
                return "New listener {instance} not in the ports baseline";
        case AK_LOGIN_FAILURES:
                return "{value} failed logins ({instance})";
        case AK_AUDIT_CHAIN:
                return "The audit log's chain fails verification";
        case AK_CERT_EXPIRY:
                return "Certificate {instance} expires in {value} days";
        case AK_MAIL_QUEUE:
                return "{value} messages in the mail queue";
        case AK_SHARE_DISK:
                return "The filesystem of share {instance} is {value} % full";
        case _AK_MAX:
                break;
        }
        return "{value}";
}

/* ---- persistence ------------------------------------------------------------------- */

static json_t *inst_to_json(const struct alert_inst *a) {
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:s, s:b, s:b, s:I}", "fp",
                         a->fingerprint, "rule", a->rule, "instance", a->instance, "state",
                         alert_state_name(a->state), "since", (json_int_t)a->since, "active_at",
                         (json_int_t)a->active_at, "starts_at", (json_int_t)a->starts_at,
                         "ends_at", (json_int_t)a->ends_at, "value",
                         isfinite(a->value) ? json_real(a->value) : json_null(), "detail",
                         a->detail, "critical", a->critical, "notified", a->notified,
                         "last_notified", (json_int_t)a->last_notified);
}

static bool copy_str(char *dst, size_t size, json_t *v) {
        const char *s = json_string_value(v);

        if (!s || json_string_length(v) >= size)
                return false;
        memcpy(dst, s, json_string_length(v) + 1);
        return true;
}

/* One persisted instance, checked (the store gives back what we put, but a
 * state from another version must not crash the engine). */
static bool inst_from_json(json_t *o, struct alert_inst *a) {
        const char *st = json_string_value(json_object_get(o, "state"));
        json_t *v = json_object_get(o, "value");

        *a = (struct alert_inst){.value = NAN};
        if (!copy_str(a->rule, sizeof a->rule, json_object_get(o, "rule")) ||
            !copy_str(a->instance, sizeof a->instance, json_object_get(o, "instance")) ||
            !copy_str(a->detail, sizeof a->detail, json_object_get(o, "detail")) || !st ||
            !alert_rule_name_valid(a->rule))
                return false;
        if (STREQ(st, "pending"))
                a->state = AS_PENDING;
        else if (STREQ(st, "firing"))
                a->state = AS_FIRING;
        else if (STREQ(st, "resolved"))
                a->state = AS_RESOLVED;
        else
                return false;
        alert_fingerprint(a->rule, a->instance, a->fingerprint);
        a->since = json_integer_value(json_object_get(o, "since"));
        a->active_at = json_integer_value(json_object_get(o, "active_at"));
        a->starts_at = json_integer_value(json_object_get(o, "starts_at"));
        a->ends_at = json_integer_value(json_object_get(o, "ends_at"));
        a->value = json_is_number(v) ? json_number_value(v) : NAN;
        a->critical = json_is_true(json_object_get(o, "critical"));
        a->notified = json_is_true(json_object_get(o, "notified"));
        a->last_notified = json_integer_value(json_object_get(o, "last_notified"));
        return true;
}

static void load_persisted(void) {
        module_helper_call_fn call = modules_helper_call();
        _cleanup_json_ json_t *ret = NULL;
        json_t *list, *o;
        size_t i;

        if (!call || call("module_state_get",
                          json_pack("{s:s, s:s}", "module", "alerts", "key", ALERTS_STATE_KEY),
                          &ret) < 0)
                return;
        list = json_object_get(json_object_get(ret, "value"), "instances");
        pthread_mutex_lock(&eng.lock);
        json_array_foreach(list, i, o) {
                struct alert_inst a;
                if (eng.n_inst < ALERT_INSTANCES_MAX && inst_from_json(o, &a))
                        eng.inst[eng.n_inst++] = a;
        }
        eng.loaded = true;
        pthread_mutex_unlock(&eng.lock);
}

static json_t *persisted_locked(void) {
        json_t *list = json_array();

        for (size_t i = 0; list && i < eng.n_inst; i++)
                if (eng.inst[i].state != AS_INACTIVE)
                        json_array_append_new(list, inst_to_json(&eng.inst[i]));
        return list ? json_pack("{s:o}", "instances", list) : NULL;
}

/* ---- evaluation ------------------------------------------------------------------ */

struct eval_out {
        json_t *transitions; /* log records */
        json_t *events;      /* alert objects with from and to */
        json_t *notify;      /* alert objects for the notifier */
        bool dirty;          /* the persisted state changed */
};

static struct alert_inst *inst_get_locked(const struct alert_rule *r, const char *instance,
                                          bool create) {
        char fp[17];

        alert_fingerprint(r->name, instance, fp);
        for (size_t i = 0; i < eng.n_inst; i++)
                if (STREQ(eng.inst[i].fingerprint, fp))
                        return &eng.inst[i];
        if (!create || eng.n_inst >= ALERT_INSTANCES_MAX)
                return NULL;
        eng.inst[eng.n_inst] = (struct alert_inst){.state = AS_INACTIVE, .value = NAN};
        memcpy(eng.inst[eng.n_inst].fingerprint, fp, sizeof fp);
        snprintf(eng.inst[eng.n_inst].rule, sizeof eng.inst[0].rule, "%s", r->name);
        snprintf(eng.inst[eng.n_inst].instance, sizeof eng.inst[0].instance, "%s", instance);
        return &eng.inst[eng.n_inst++];
}

static void record_transition_locked(struct alert_inst *a, const struct alert_rule *r,
                                     enum alert_state to, int64_t now, struct eval_out *out) {
        enum alert_state from = a->state;
        json_t *ev;

        a->state = to;
        a->since = now;
        a->critical = r->critical;
        out->dirty = true;
        json_array_append_new(
                out->transitions,
                json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "time", (json_int_t)now,
                          "rule", a->rule, "fingerprint", a->fingerprint, "instance", a->instance,
                          "from", alert_state_name(from), "to", alert_state_name(to), "value",
                          isfinite(a->value) ? json_real(a->value) : json_null(), "severity",
                          r->critical ? "critical" : "warning"));
        ev = alert_inst_json(a, r, true, eng.marks, now);
        if (ev) {
                json_object_set_new(ev, "from", json_string(alert_state_name(from)));
                json_object_set_new(ev, "to", json_string(alert_state_name(to)));
                json_array_append_new(out->events, ev);
        }
}

/* Notifications of a after its step (the config decides repeat and
 * resolved). */
static void notify_locked(struct alert_inst *a, const struct alert_rule *r, enum alert_state from,
                          const struct alerts_config *c, int64_t now, struct eval_out *out) {
        bool silenced = silenced_by(eng.marks, a, now) != NULL;

        if (a->state == AS_RESOLVED && from == AS_FIRING) {
                if (a->notified && !silenced && c->send_resolved)
                        json_array_append_new(out->notify,
                                              alert_inst_json(a, r, false, eng.marks, now));
                a->notified = false;
                out->dirty = true;
                return;
        }
        if (alert_should_notify(a, silenced, c->repeat_interval, now)) {
                json_array_append_new(out->notify, alert_inst_json(a, r, false, eng.marks, now));
                a->notified = true;
                a->last_notified = now;
                out->dirty = true;
        }
}

static void step_locked(struct alert_inst *a, const struct alert_rule *r, bool have, double value,
                        const struct alerts_config *c, int64_t now, struct eval_out *out) {
        enum alert_state from = a->state, to = alert_step(a, r, have, value, now);

        if (to != from)
                record_transition_locked(a, r, to, now, out);
        notify_locked(a, r, from, c, now, out);
}

/* Applies one rule's observations (under the lock). */
static void apply_rule_locked(size_t ri, const struct alert_obs *obs, size_t n, int rc,
                              const struct module_error *e, const struct alerts_config *c,
                              int64_t now, struct eval_out *out) {
        const struct alert_rule *r = &eng.rules.rule[ri];
        bool full = false;

        if (rc < 0) {
                snprintf(eng.errors[ri], sizeof eng.errors[ri], "%s",
                         e->message[0] ? e->message : strerror(-rc));
                return;
        }
        eng.errors[ri][0] = '\0';
        for (size_t i = 0; i < eng.n_inst; i++)
                if (STREQ(eng.inst[i].rule, r->name))
                        eng.inst[i].seen = false;
        for (size_t k = 0; k < n; k++) {
                bool over = alert_compare(r->op, obs[k].value, r->threshold);
                /* An instance is made only for a value that matches. */
                struct alert_inst *a = inst_get_locked(r, obs[k].instance, over);
                if (!a) {
                        full = full || over;
                        continue;
                }
                a->seen = true;
                snprintf(a->detail, sizeof a->detail, "%s", obs[k].detail);
                step_locked(a, r, true, obs[k].value, c, now, out);
        }
        for (size_t i = 0; i < eng.n_inst; i++)
                if (STREQ(eng.inst[i].rule, r->name) && !eng.inst[i].seen)
                        step_locked(&eng.inst[i], r, false, NAN, c, now, out);
        if (full)
                snprintf(eng.errors[ri], sizeof eng.errors[ri],
                         "more than %u alerts in all: some instances are not followed",
                         ALERT_INSTANCES_MAX);
}

/* Instances of rules gone or disabled resolve; resolved ones past their
 * hour and inactive ones are dropped. */
static void sweep_locked(const struct alerts_config *c, int64_t now, struct eval_out *out) {
        size_t w = 0;

        for (size_t i = 0; i < eng.n_inst; i++) {
                struct alert_inst *a = &eng.inst[i];
                const struct alert_rule *r = rule_find_locked(a->rule);
                if (!r || !r->enabled) {
                        struct alert_rule gone = {.op = AOP_GT, .threshold = 0, .clear = NAN};
                        snprintf(gone.name, sizeof gone.name, "%s", a->rule);
                        gone.critical = a->critical;
                        if (r)
                                gone = *r;
                        step_locked(a, &gone, false, NAN, c, now, out);
                        if (a->state == AS_PENDING)
                                a->state = AS_INACTIVE;
                }
                if (a->state == AS_INACTIVE ||
                    (a->state == AS_RESOLVED && now - a->ends_at > ALERT_RESOLVED_KEEP)) {
                        out->dirty = true;
                        continue;
                }
                eng.inst[w++] = *a;
        }
        eng.n_inst = w;
}

static void evaluate(int64_t now) {
        struct eval_out out = {json_array(), json_array(), json_array(), false};
        struct alerts_config c;
        struct alert_obs *obs = calloc(ALERT_OBS_MAX, sizeof *obs);
        struct alert_rules rs = {0};
        uint64_t t0 = now_usec();
        json_t *state = NULL;
        const struct event_hub *h;

        if (!obs || !out.transitions || !out.events || !out.notify)
                goto out;
        if (module_config_get(&module_alerts, &c, sizeof c) < 0)
                c = (struct alerts_config){.send_resolved = true, .repeat_interval = 14400};
        pthread_mutex_lock(&eng.lock);
        rs.n = eng.rules.n;
        rs.rule = rs.n ? malloc(rs.n * sizeof *rs.rule) : NULL;
        if (rs.n && !rs.rule) {
                pthread_mutex_unlock(&eng.lock);
                goto out;
        }
        if (rs.n)
                memcpy(rs.rule, eng.rules.rule, rs.n * sizeof *rs.rule);
        pthread_mutex_unlock(&eng.lock);

        for (size_t i = 0; i < rs.n; i++) {
                struct module_error e = {0};
                size_t n = 0;
                int rc;
                if (!rs.rule[i].enabled)
                        continue;
                rc = alert_kind_observe(&rs.rule[i], now, obs, ALERT_OBS_MAX, &n, &e);
                if (n > ALERT_OBS_MAX)
                        n = ALERT_OBS_MAX;
                pthread_mutex_lock(&eng.lock);
                /* The rules may have changed meanwhile: by name. */
                int ri = alert_rules_find(&eng.rules, rs.rule[i].name);
                if (ri >= 0 && memcmp(&eng.rules.rule[ri], &rs.rule[i], sizeof rs.rule[i]) == 0)
                        apply_rule_locked((size_t)ri, obs, n, rc, &e, &c, now, &out);
                pthread_mutex_unlock(&eng.lock);
        }
        pthread_mutex_lock(&eng.lock);
        sweep_locked(&c, now, &out);
        eng.last_eval = now;
        eng.evaluations++;
        eng.last_usec = now_usec() - t0;
        if (eng.last_usec > eng.max_usec)
                eng.max_usec = eng.last_usec;
        if (out.dirty)
                state = persisted_locked();
        pthread_mutex_unlock(&eng.lock);

        if (state) {
                module_helper_call_fn call = modules_helper_call();
                json_t *ret = NULL;
                if (call)
                        (void)call("module_state_put",
                                   json_pack("{s:s, s:s, s:O}", "module", "alerts", "key",
                                             ALERTS_STATE_KEY, "value", state),
                                   &ret);
                json_decref(ret);
        }
        for (size_t off = 0; off < json_array_size(out.transitions); off += 64) {
                module_helper_call_fn call = modules_helper_call();
                json_t *chunk = json_array(), *ret = NULL;
                for (size_t k = off; chunk && k < off + 64 && k < json_array_size(out.transitions);
                     k++)
                        json_array_append(chunk, json_array_get(out.transitions, k));
                if (call && chunk)
                        (void)call("module_log_append",
                                   json_pack("{s:s, s:o}", "module", "alerts", "records", chunk),
                                   &ret);
                else
                        json_decref(chunk);
                json_decref(ret);
        }
        h = atomic_load(&hub);
        for (size_t k = 0; h && k < json_array_size(out.events); k++)
                h->publish("alert", json_array_get(out.events, k));
        if (json_array_size(out.notify) > 0)
                alerts_notify(json_incref(out.notify));
out:
        json_decref(state);
        json_decref(out.transitions);
        json_decref(out.events);
        json_decref(out.notify);
        alert_rules_done(&rs);
        free(obs);
}

/* ---- the thread ------------------------------------------------------------------- */

static void on_tick(const struct procsampler_tick *tick) {
        (void)tick;
        pthread_mutex_lock(&eng.lock);
        eng.wake = true;
        pthread_cond_signal(&eng.cond);
        pthread_mutex_unlock(&eng.lock);
}

static void *engine_main(void *arg) {
        double values[_HS_MAX];

        (void)arg;
        load_persisted();
        for (;;) {
                int64_t t;
                pthread_mutex_lock(&eng.lock);
                while (!eng.wake && !eng.stop)
                        pthread_cond_wait(&eng.cond, &eng.lock);
                eng.wake = false;
                if (eng.stop) {
                        pthread_mutex_unlock(&eng.lock);
                        break;
                }
                pthread_mutex_unlock(&eng.lock);
                t = series_latest(values);
                if (t <= 0 || t == eng.last_t)
                        continue;
                eng.last_t = t;
                evaluate(t);
        }
        return NULL;
}

int alerts_engine_start(void) {
        int r;

        pthread_mutex_lock(&eng.lock);
        if (!eng.inst)
                eng.inst = calloc(ALERT_INSTANCES_MAX, sizeof *eng.inst);
        eng.stop = false;
        pthread_mutex_unlock(&eng.lock);
        if (!eng.inst)
                return -ENOMEM;
        r = -pthread_create(&eng.thread, NULL, engine_main, NULL);
        if (r < 0)
                return r;
        eng.running = true;
        r = procsampler_subscribe(on_tick);
        if (r < 0) {
                alerts_engine_stop();
                return r;
        }
        return 0;
}

void alerts_engine_stop(void) {
        if (!eng.running)
                return;
        procsampler_unsubscribe(on_tick);
        pthread_mutex_lock(&eng.lock);
        eng.stop = true;
        pthread_cond_signal(&eng.cond);
        pthread_mutex_unlock(&eng.lock);
        pthread_join(eng.thread, NULL);
        eng.running = false;
        pthread_mutex_lock(&eng.lock);
        free(eng.inst);
        eng.inst = NULL;
        eng.n_inst = 0;
        eng.last_t = 0;
        alert_rules_done(&eng.rules);
        free(eng.errors);
        eng.errors = NULL;
        json_decref(eng.marks);
        eng.marks = NULL;
        pthread_mutex_unlock(&eng.lock);
}

void alerts_engine_set_rules(struct alert_rules *rs) {
        char(*errors)[512] = calloc(rs->n ? rs->n : 1, sizeof *errors);

        pthread_mutex_lock(&eng.lock);
        alert_rules_done(&eng.rules);
        free(eng.errors);
        eng.rules = *rs;
        eng.errors = errors;
        if (!errors)
                eng.rules.n = 0; /* no room to report: follow nothing rather than crash */
        *rs = (struct alert_rules){0};
        pthread_mutex_unlock(&eng.lock);
}

void alerts_engine_set_marks(json_t *marks) {
        pthread_mutex_lock(&eng.lock);
        json_decref(eng.marks);
        eng.marks = marks;
        pthread_mutex_unlock(&eng.lock);
}

void alerts_engine_events_attach(const struct event_hub *h) {
        atomic_store(&hub, h);
}

/* ---- reads ------------------------------------------------------------------------ */

static int64_t now_unix(void) {
        return (int64_t)time(NULL);
}

int alerts_engine_list(const char *state, const char *rule, json_t **ret) {
        json_t *list = json_array();
        int64_t now = now_unix();

        if (!list)
                return -ENOMEM;
        pthread_mutex_lock(&eng.lock);
        for (size_t i = 0; i < eng.n_inst; i++) {
                const struct alert_inst *a = &eng.inst[i];
                const struct alert_rule *r = rule_find_locked(a->rule);
                if (!r || a->state == AS_INACTIVE ||
                    (state && !STREQ(state, alert_state_name(a->state))) ||
                    (rule && !STREQ(rule, a->rule)))
                        continue;
                json_array_append_new(list, alert_inst_json(a, r, true, eng.marks, now));
        }
        pthread_mutex_unlock(&eng.lock);
        *ret = json_pack("{s:o}", "alerts", list);
        return *ret ? 0 : -ENOMEM;
}

int alerts_engine_show(const char *fingerprint, json_t **ret) {
        int r = -ENOENT;

        pthread_mutex_lock(&eng.lock);
        for (size_t i = 0; i < eng.n_inst; i++) {
                const struct alert_inst *a = &eng.inst[i];
                const struct alert_rule *r2 = rule_find_locked(a->rule);
                if (!r2 || a->state == AS_INACTIVE || !STREQ(a->fingerprint, fingerprint))
                        continue;
                *ret = json_pack("{s:o}", "alert",
                                 alert_inst_json(a, r2, true, eng.marks, now_unix()));
                r = *ret ? 0 : -ENOMEM;
                break;
        }
        pthread_mutex_unlock(&eng.lock);
        return r;
}

/* The worst state of a rule's alerts: firing, pending, resolved, or null. */
static json_t *rule_state_locked(const char *name) {
        enum alert_state worst = AS_INACTIVE;
        static const int rank[] = {[AS_INACTIVE] = 0, [AS_RESOLVED] = 1, [AS_PENDING] = 2,
                                   [AS_FIRING] = 3};

        for (size_t i = 0; i < eng.n_inst; i++)
                if (STREQ(eng.inst[i].rule, name) && rank[eng.inst[i].state] > rank[worst])
                        worst = eng.inst[i].state;
        return worst == AS_INACTIVE ? json_null() : json_string(alert_state_name(worst));
}

static json_t *rule_json_locked(size_t i) {
        json_t *o = alert_rule_to_json(&eng.rules.rule[i]);

        if (o) {
                json_object_set_new(o, "state", rule_state_locked(eng.rules.rule[i].name));
                json_object_set_new(o, "error", eng.errors && eng.errors[i][0]
                                                        ? json_string(eng.errors[i])
                                                        : json_null());
        }
        return o;
}

int alerts_engine_rules(json_t **ret) {
        json_t *list = json_array();

        if (!list)
                return -ENOMEM;
        pthread_mutex_lock(&eng.lock);
        for (size_t i = 0; i < eng.rules.n; i++)
                json_array_append_new(list, rule_json_locked(i));
        pthread_mutex_unlock(&eng.lock);
        *ret = json_pack("{s:o}", "alert_rules", list);
        return *ret ? 0 : -ENOMEM;
}

int alerts_engine_rule(const char *name, json_t **ret) {
        int i, r = -ENOENT;

        pthread_mutex_lock(&eng.lock);
        i = alert_rules_find(&eng.rules, name);
        if (i >= 0) {
                *ret = json_pack("{s:o}", "alert_rule", rule_json_locked((size_t)i));
                r = *ret ? 0 : -ENOMEM;
        }
        pthread_mutex_unlock(&eng.lock);
        return r;
}

int alerts_engine_silences(json_t **ret) {
        json_t *list = json_array(), *s;
        int64_t now = now_unix();
        size_t i;

        if (!list)
                return -ENOMEM;
        pthread_mutex_lock(&eng.lock);
        json_array_foreach(json_object_get(eng.marks, "silences"), i, s) {
                json_int_t until = json_integer_value(json_object_get(s, "ends_at"));
                json_t *c;
                if (until < now - 86400)
                        continue;
                c = json_deep_copy(s);
                if (c)
                        json_object_set_new(c, "active", json_boolean(until > now));
                json_array_append_new(list, c);
        }
        pthread_mutex_unlock(&eng.lock);
        *ret = json_pack("{s:o}", "alert_silences", list);
        return *ret ? 0 : -ENOMEM;
}

json_t *alerts_engine_status(void) {
        unsigned firing = 0, pending = 0, errors = 0;
        json_t *o;

        pthread_mutex_lock(&eng.lock);
        for (size_t i = 0; i < eng.n_inst; i++) {
                firing += eng.inst[i].state == AS_FIRING;
                pending += eng.inst[i].state == AS_PENDING;
        }
        for (size_t i = 0; eng.errors && i < eng.rules.n; i++)
                errors += eng.errors[i][0] != '\0';
        o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:I, s:I, s:f, s:f}", "state",
                      eng.running ? "running" : "stopped", "rules", (int)eng.rules.n, "firing",
                      (int)firing, "pending", (int)pending, "rule_errors", (int)errors,
                      "last_evaluation", (json_int_t)eng.last_eval, "evaluations",
                      (json_int_t)eng.evaluations, "evaluation_seconds",
                      (double)eng.last_usec / 1e6, "evaluation_seconds_max",
                      (double)eng.max_usec / 1e6);
        pthread_mutex_unlock(&eng.lock);
        return o;
}
