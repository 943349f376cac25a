/* kinds.h — what each kind of alert rule observes (kinds.c).
 *
 * The engine (engine.c) owns the rules and the states; a kind only answers
 * "what does this rule see now", as a list of observations.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "modules/alerts/alerts.h"

/* Observes what rule r looks at now: fills obs[0..*ret_n) (at most max).
 * Runs on the engine's thread in the front (user _steward, seccomp), once
 * per evaluation; a slow source (a helper call, the audit chain, the mail
 * queue, certificates) caches its answer and refreshes it at its own
 * cadence, so that one evaluation of all rules takes well under the
 * sampling interval.  Returns 0 (possibly no obs), or -errno with err
 * filled when the source is unavailable (the engine keeps the rule's state
 * and reports the error on the rule). */
int alert_kind_observe(const struct alert_rule *r, int64_t now, struct alert_obs *obs, size_t max,
                       size_t *ret_n, struct module_error *err);
/* Frees caches (module done()). */
void alert_kinds_reset(void);
