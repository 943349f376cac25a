/* engine.h — the alerts' evaluation (engine.c): in the front, a thread
 * woken at each sampler tick evaluates every enabled rule once per new
 * history sample (the sampling interval, metrics:interval), keeps the state
 * of each (rule, instance), persists it through the helper's store and
 * tells the notifier, the event stream and the history.
 *
 * The state machine (alert_step) and the notification decision
 * (alert_should_notify) are pure functions, tested apart.
 *
 * Invariants: at most ALERT_RULES_MAX rules and ALERT_INSTANCES_MAX
 * instances in all (a rule that would need more gets an error, nothing
 * grows); everything the engine holds is under its one lock, which is
 * never held across a kind's observation, a helper call or a publish.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "module.h"
#include "modules/alerts/alerts.h"
#include "modules/alerts/model.h"

#define ALERT_INSTANCES_MAX 1024
#define ALERT_OBS_MAX       64   /* observations of one rule in one evaluation */
#define ALERT_RESOLVED_KEEP 3600 /* seconds a resolved alert stays listed */
#define ALERTS_STATE_KEY    "instances"

/* One (rule, instance): what the engine keeps and persists. */
struct alert_inst {
        char fingerprint[17];
        char rule[ALERT_NAME_MAX + 1];
        char instance[256];
        enum alert_state state;
        int64_t since;     /* the last change of state */
        int64_t active_at; /* pending (or firing) since */
        int64_t starts_at; /* firing since; 0 before */
        int64_t ends_at;   /* resolved at; 0 before */
        double value;
        char detail[256];
        bool critical;
        bool notified;         /* a firing notification went out for this episode */
        int64_t last_notified; /* its time */
        bool seen;             /* observed in this evaluation */
};

/* The fingerprint of (rule, instance): 16 hex digits. */
void alert_fingerprint(const char *rule, const char *instance, char ret[17]);

/* One evaluation of a for one rule: have is false when the rule's
 * observation succeeded without this instance (not matching).  Returns
 * the state it left (a transition happened when it differs from
 * a->state after the call), and updates a's times and value. */
enum alert_state alert_step(struct alert_inst *a, const struct alert_rule *r, bool have,
                            double value, int64_t now);
/* Whether a firing alert is to be notified now: not silenced, and never
 * notified in this episode or last notified repeat seconds ago. */
bool alert_should_notify(const struct alert_inst *a, bool silenced, unsigned repeat,
                         int64_t now);

/* The front's engine: start (loads the persisted states, subscribes to the
 * sampler, starts the thread) and stop. */
int alerts_engine_start(void);
void alerts_engine_stop(void);
/* Takes over rs (the live rules) and marks (silences and acks, the
 * marks file's JSON; taken over; NULL: none). */
void alerts_engine_set_rules(struct alert_rules *rs);
void alerts_engine_set_marks(json_t *marks);
void alerts_engine_events_attach(const struct event_hub *hub);

/* The front's reads: GET /api/v1/alerts (state, rule: filters or NULL),
 * one alert, the rules with their state and error, one rule, the
 * silences, the status. */
int alerts_engine_list(const char *state, const char *rule, json_t **ret);
int alerts_engine_show(const char *fingerprint, json_t **ret);
int alerts_engine_rules(json_t **ret);
int alerts_engine_rule(const char *name, json_t **ret);
int alerts_engine_silences(json_t **ret);
json_t *alerts_engine_status(void);

/* The alert object of a (labels, annotations…), for notifications and
 * events and as the API shows it (with ack and silence). */
json_t *alert_inst_json(const struct alert_inst *a, const struct alert_rule *r, bool api,
                        json_t *marks, int64_t now);
