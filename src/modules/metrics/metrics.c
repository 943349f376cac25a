/* metrics.c — the `metrics` module: GET /metrics, the Prometheus text
 * exposition (0.0.4) on the daemon's own port, authenticated like every
 * route (monitor and up).
 *
 * A scrape is produced when it is asked for, from the kernel's counters read
 * at that moment (sampler.c: node_exporter's names, so existing dashboards
 * work) and the daemon's own figures (steward_*).  Nothing is kept between
 * scrapes except the open descriptors and the request counters.
 *
 * The steward_* families are what the front knows cheaply: its build, its
 * open connections, the API's requests (httpstats.c) and the discovery
 * counters.  Figures that live in the helper's store (sessions, audit
 * records, logins) are not here: the module's code cannot reach the store,
 * and a helper round trip per scrape is not cheap.  Nor are the listener
 * count and the ports findings: listing sockets costs more than all the
 * /proc files together (~120 µs of netlink dumps), and findings need the
 * helper's walk over /proc; they belong with the sampled history.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "helper/roles.h"
#include "module.h"
#include "modules/metrics/expo.h"
#include "modules/metrics/httpstats.h"
#include "modules/metrics/sampler.h"
#include "modules/stewardd/stewardd.h"
#include "util.h"

#define METRICS_MAX_BYTES (64UL << 20)
#define CONTENT_TYPE      "text/plain; version=0.0.4; charset=utf-8"

static _Atomic uint64_t scrapes, scrape_failures, last_bytes, last_usec;

static void discovery_families(struct expo *e) {
        json_t *facts = stewardd_live_facts();
        json_t *c = json_object_get(facts, "discovery_counters"), *v;
        const char *key;
        bool any = false;

        if (!json_is_object(c))
                goto out;
        if (json_is_integer(v = json_object_get(c, "answered"))) {
                expo_family(e, "steward_discovery_answers_total", "counter",
                            "Discovery requests answered on UDP.");
                expo_sample(e, "steward_discovery_answers_total");
                expo_i64(e, json_integer_value(v));
        }
        json_object_foreach(c, key, v) {
                if (strncmp(key, "dropped_", 8) != 0 || !json_is_integer(v))
                        continue;
                if (!any)
                        expo_family(e, "steward_discovery_dropped_total", "counter",
                                    "Discovery datagrams dropped, by reason.");
                any = true;
                expo_sample(e, "steward_discovery_dropped_total");
                expo_label(e, "reason", key + 8);
                expo_i64(e, json_integer_value(v));
        }
        if (json_is_integer(v = json_object_get(c, "send_failed"))) {
                expo_family(e, "steward_discovery_send_failures_total", "counter",
                            "Discovery answers that could not be sent.");
                expo_sample(e, "steward_discovery_send_failures_total");
                expo_i64(e, json_integer_value(v));
        }
out:
        json_decref(facts);
}

static void steward_families(struct expo *e) {
        expo_family(e, "steward_build_info", "gauge", "The running stewardd's version.");
        expo_sample(e, "steward_build_info");
        expo_label(e, "version", STEWARD_VERSION);
        expo_u64(e, 1);

        expo_family(e, "steward_connections_open", "gauge",
                    "HTTP connections open now (TLS and the unix socket).");
        expo_sample(e, "steward_connections_open");
        expo_u64(e, atomic_load(&stewardd_connections_open));

        discovery_families(e);
        httpstats_write(e);
}

static int route_metrics(const struct module_ctx *ctx, char **params, char **ret_body,
                         size_t *ret_len, const char **ret_content_type, struct module_error *err) {
        uint64_t t0 = now_usec();
        struct buf b;
        struct expo e;
        int r;

        buf_init(&b, METRICS_MAX_BYTES);
        expo_init(&e, &b);
        (void)sampler_collect(&e);
        steward_families(&e);
        r = e.error;
        if (r < 0) {
                buf_free(&b);
                atomic_fetch_add(&scrape_failures, 1);
                if (r == -ENOMEM)
                        module_error_set(err, 500, "internal", NULL, "out of memory");
                else
                        module_error_set(err, 500, "internal", NULL,
                                         "cannot produce the metrics: %s", strerror(-r));
                return r;
        }
        *ret_len = b.len;
        *ret_body = buf_steal(&b);
        if (!*ret_body) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        *ret_content_type = CONTENT_TYPE;
        atomic_fetch_add(&scrapes, 1);
        atomic_store(&last_bytes, *ret_len);
        atomic_store(&last_usec, now_usec() - t0);
        return 0;
}

static int metrics_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        *ret = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "state", "running", "path", "/metrics",
                         "scrapes", (json_int_t)atomic_load(&scrapes), "scrape_failures",
                         (json_int_t)atomic_load(&scrape_failures), "last_scrape_bytes",
                         (json_int_t)atomic_load(&last_bytes), "last_scrape_usec",
                         (json_int_t)atomic_load(&last_usec));
        return *ret ? 0 : -ENOMEM;
}

static int metrics_init(void) {
        return sampler_init();
}

static void metrics_done(void) {
        sampler_done();
}

static const module_route_t routes[] = {
        {"GET", "metrics", ROLE_MONITOR, .text_handler = route_metrics},
};

const module_t module_metrics = {
        .name = "metrics",
        .summary = "Prometheus metrics at GET /metrics, with node_exporter's names",
        .init = metrics_init,
        .done = metrics_done,
        .status = metrics_status,
        .fullstatus = metrics_status,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
};
