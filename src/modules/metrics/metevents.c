/* metevents.c — the metrics module's event type "sample" (GET
 * /api/v1/events): one event a sampler tick, the history's values of that
 * tick, pushed from the sampler's thread through the hub the front gives
 * (module.h, struct event_hub).  Nothing is built when no stream asks for
 * samples: the hub keeps only what someone may resume. */
#include <math.h>
#include <stdatomic.h>

#include "module.h"
#include "modules/metrics/history.h"
#include "modules/metrics/metevents.h"
#include "roles.h"

static _Atomic(const struct event_hub *) sample_hub;

const event_def_t metrics_events[1] = {
        {.name = "sample",
         .description = "one sampler tick: {time, interval, values: {series: value|null}}",
         .min_role = ROLE_MONITOR},
};

static void on_sample(int64_t t, unsigned every, const double values[_HS_MAX]) {
        const struct event_hub *h = atomic_load(&sample_hub);
        json_t *vals, *o;

        if (!h || !h->wanted("sample"))
                return;
        vals = json_object();
        for (size_t s = 0; vals && s < _HS_MAX; s++)
                json_object_set_new(vals, history_series_name((history_series_t)s),
                                    isfinite(values[s]) ? json_real(values[s]) : json_null());
        o = json_pack("{s:I, s:I, s:o}", "time", (json_int_t)t, "interval", (json_int_t)every,
                      "values", vals);
        if (o)
                h->publish("sample", o);
        json_decref(o);
}

void metrics_events_attach(const struct event_hub *hub) {
        if (hub) {
                atomic_store(&sample_hub, hub);
                history_set_observer(on_sample);
        } else {
                history_set_observer(NULL);
                atomic_store(&sample_hub, NULL);
        }
}
