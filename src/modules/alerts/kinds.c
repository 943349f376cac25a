/* kinds.c — what each kind of alert rule observes.  A stub until the kinds
 * are written: every kind reports that it cannot observe yet. */
#include <errno.h>

#include "modules/alerts/kinds.h"

int alert_kind_observe(const struct alert_rule *r, int64_t now, struct alert_obs *obs, size_t max,
                       size_t *ret_n, struct module_error *err) {
        (void)now;
        (void)obs;
        (void)max;
        *ret_n = 0;
        module_error_set(err, 503, "unavailable", NULL, "rule %s: this kind is not observed yet",
                         r->name);
        return -EOPNOTSUPP;
}

void alert_kinds_reset(void) {
}
