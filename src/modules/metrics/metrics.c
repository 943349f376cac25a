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
 * open connections and event streams, the API's requests (httpstats.c),
 * the discovery counters, and the figures of the helper's store (sessions,
 * audit records, logins) as the front's poll last saw them (events.c: every
 * few seconds and right after every change) — never a helper round trip per
 * scrape.  The listener count and the ports findings are not here: listing
 * sockets costs more than all the /proc files together (~120 µs of netlink
 * dumps), and findings need the helper's walk over /proc.
 *
 * The module's one setting, `interval` (seconds between samples of the
 * history and the event stream), lives in its own file, metrics.conf next to
 * stewardd.conf (/etc/steward/metrics.conf): a settings file of the registry
 * (settingsfile.c), which reads, plans, writes and makes it live in both
 * processes; the module declares the row, its struct and the hook that
 * hands the interval to the sampler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "roles.h"
#include "log.h"
#include "module.h"
#include "modules/metrics/expo.h"
#include "modules/metrics/history.h"
#include "modules/metrics/httpstats.h"
#include "modules/metrics/metevents.h"
#include "modules/metrics/sampler.h"
#include "modules/metrics/textfile.h"
#include "modules/metrics/valueprov.h"
#include "settingsfile.h"
#include "stats.h"
#include "valuesrc.h"
#include "util.h"

#define METRICS_MAX_BYTES (64UL << 20)
#define CONTENT_TYPE      "text/plain; version=0.0.4; charset=utf-8"

static _Atomic uint64_t scrapes, scrape_failures, last_bytes, last_usec;

static void discovery_families(struct expo *e) {
        json_t *facts = steward_live_facts();
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

static void closed_sample(struct expo *e, const char *reason, _Atomic uint64_t *n) {
        expo_sample(e, "steward_connections_closed_total");
        expo_label(e, "reason", reason);
        expo_u64(e, atomic_load(n));
}

/* The audit records each syslog target has still to receive
 * (stewardd:audit:syslog_targets), and the forwarder's restarts. */
static void forward_family(struct expo *e) {
        struct stats_forward f[STATS_FORWARD_MAX];
        size_t n = stats_forward_get(f);

        expo_family(e, "steward_audit_forward_backlog", "gauge",
                    "Audit records not yet delivered to each syslog target.");
        for (size_t i = 0; i < n; i++) {
                expo_sample(e, "steward_audit_forward_backlog");
                expo_label(e, "target", f[i].target);
                expo_u64(e, f[i].backlog);
        }
        expo_family(e, "steward_audit_forward_restarts_total", "counter",
                    "Times the audit forwarder was started again after it died.");
        expo_sample(e, "steward_audit_forward_restarts_total");
        expo_u64(e, atomic_load(&stats_audit_forward_restarts));
}

static void steward_families(struct expo *e) {
        expo_family(e, "steward_build_info", "gauge", "The running stewardd's version.");
        expo_sample(e, "steward_build_info");
        expo_label(e, "version", STEWARD_VERSION);
        expo_u64(e, 1);

        expo_family(e, "steward_connections_open", "gauge",
                    "HTTP connections open now (TLS and the unix socket).");
        expo_sample(e, "steward_connections_open");
        expo_u64(e, atomic_load(&stats_connections_open));

        expo_family(e, "steward_connections_unauthenticated", "gauge",
                    "TLS connections that have not authenticated yet.");
        expo_sample(e, "steward_connections_unauthenticated");
        expo_u64(e, atomic_load(&stats_connections_unauthenticated));

        expo_family(e, "steward_connections_closed_total", "counter",
                    "Connections the daemon closed to keep its connection budgets, by reason.");
        closed_sample(e, "source_cap", &stats_closed_source_cap);
        closed_sample(e, "budget_full", &stats_closed_budget_full);
        closed_sample(e, "displaced", &stats_closed_displaced);
        closed_sample(e, "header_timeout", &stats_closed_header_timeout);
        closed_sample(e, "local_no_role", &stats_closed_local_no_role);
        closed_sample(e, "local_cap", &stats_closed_local_cap);

        expo_family(e, "steward_event_subscribers", "gauge",
                    "Open event streams (GET /api/v1/events).");
        expo_sample(e, "steward_event_subscribers");
        expo_u64(e, atomic_load(&stats_event_subscribers));

        if (atomic_load(&stats_counters_known)) {
                expo_family(e, "steward_sessions", "gauge",
                            "Login sessions open now (password logins and local peers).");
                expo_sample(e, "steward_sessions");
                expo_u64(e, atomic_load(&stats_sessions_open));
                expo_family(e, "steward_audit_records_total", "counter",
                            "Records written to the audit log.");
                expo_sample(e, "steward_audit_records_total");
                expo_u64(e, atomic_load(&stats_audit_records));
                expo_family(e, "steward_logins_total", "counter",
                            "Logins since the daemon started, by result.");
                expo_sample(e, "steward_logins_total");
                expo_label(e, "result", "ok");
                expo_u64(e, atomic_load(&stats_logins_ok));
                expo_sample(e, "steward_logins_total");
                expo_label(e, "result", "failed");
                expo_u64(e, atomic_load(&stats_logins_failed));
                forward_family(e);
        }

        discovery_families(e);
        httpstats_write(e);
}

static bool label_name_ok(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 64 && !(s[0] >= '0' && s[0] <= '9') &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n &&
               strncmp(s, "__", 2) != 0;
}

/* The modules' own gauges (module.h gauges), read as root by the helper
 * at each scrape; a sample whose labels or value do not fit is left out,
 * so one module cannot spoil the scrape. */
static void module_families(struct expo *e) {
        module_helper_call_fn call = modules_helper_call();
        json_t *ret = NULL, *fam, *smp, *v;
        const char *k;
        size_t i, j;

        if (!call || call("module_gauges", NULL, &ret) < 0)
                return;
        json_array_foreach(json_object_get(ret, "families"), i, fam) {
                const char *name = json_string_value(json_object_get(fam, "name"));
                const char *help = json_string_value(json_object_get(fam, "help"));
                const char *type = json_string_value(json_object_get(fam, "type"));
                if (!name)
                        continue;
                if (!type || (!STREQ(type, "counter") && !STREQ(type, "untyped")))
                        type = "gauge";
                expo_family(e, name, type, help ? help : "");
                json_array_foreach(json_object_get(fam, "samples"), j, smp) {
                        json_t *labels = json_object_get(smp, "labels"), *value;
                        bool ok = json_is_number(value = json_object_get(smp, "value")) &&
                                  (!labels || json_is_object(labels));
                        json_object_foreach(labels, k, v) ok = ok && label_name_ok(k) &&
                                                               json_is_string(v);
                        if (!ok)
                                continue;
                        expo_sample(e, name);
                        json_object_foreach(labels, k, v) expo_label(e, k, json_string_value(v));
                        expo_double(e, json_number_value(value));
                }
        }
        json_decref(ret);
}

static int route_metrics(const struct module_ctx *ctx, char **params, char **ret_body,
                         size_t *ret_len, const char **ret_content_type, struct module_error *err) {
        uint64_t t0 = now_usec(), room;
        struct buf b;
        struct expo e;
        int r;

        buf_init(&b, METRICS_MAX_BYTES);
        /* Room for what the last scrape wrote, and some: the text is not
         * copied again and again as it grows.  (Failing here fails later.) */
        room = atomic_load(&last_bytes) + 4096;
        (void)buf_reserve(&b, room < METRICS_MAX_BYTES ? (size_t)room : METRICS_MAX_BYTES);
        expo_init(&e, &b);
        (void)sampler_collect(&e);
        steward_families(&e);
        module_families(&e);
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
        *ret = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "state", "running", "path",
                         "/metrics", "interval", (json_int_t)history_interval(), "scrapes",
                         (json_int_t)atomic_load(&scrapes), "scrape_failures",
                         (json_int_t)atomic_load(&scrape_failures), "last_scrape_bytes",
                         (json_int_t)atomic_load(&last_bytes), "last_scrape_usec",
                         (json_int_t)atomic_load(&last_usec));
        return *ret ? 0 : -ENOMEM;
}

static const char *arg(const struct module_ctx *ctx, const char *key) {
        return ctx->query ? ctx->query(ctx, key) : NULL;
}

/* GET /api/v1/metrics/history?series=NAME&range=1h&step=60 */
static int route_history(const struct module_ctx *ctx, char **params, json_t **ret,
                         struct module_error *err) {
        struct history_query q;
        int r;

        r = history_parse_query(arg(ctx, "series"), arg(ctx, "range"), arg(ctx, "step"), &q, err);
        if (r < 0)
                return r;
        r = history_query(&q, (int64_t)(realtime_usec() / 1000000), ret);
        if (r == -ENODATA) {
                module_error_set(err, 503, "unavailable", NULL,
                                 history_tiers[q.tier].stored
                                         ? "the stored history cannot be read now"
                                         : "the history is not sampled");
                return r;
        }
        if (r < 0)
                module_error_set(err, 500, "internal", NULL, "out of memory");
        return r;
}

/* GET /api/v1/metrics/series */
static int route_series(const struct module_ctx *ctx, char **params, json_t **ret,
                        struct module_error *err) {
        json_t *list = json_array(), *tiers = json_array();

        for (size_t s = 0; list && s < _HS_MAX; s++)
                if (json_array_append_new(list,
                                          json_pack("{s:s, s:s}", "name", history_series_name(s),
                                                    "unit", history_series_unit(s))) < 0)
                        goto fail;
        for (size_t t = 0; tiers && t < HISTORY_TIERS; t++)
                if (json_array_append_new(
                            tiers, json_pack("{s:I, s:I, s:b}", "resolution",
                                             (json_int_t)history_tiers[t].resolution, "capacity",
                                             (json_int_t)history_tiers[t].capacity, "stored",
                                             history_tiers[t].stored != NULL)) < 0)
                        goto fail;
        if (!list || !tiers)
                goto fail;
        *ret = json_pack("{s:o, s:o}", "series", list, "tiers", tiers);
        if (*ret)
                return 0;
        list = tiers = NULL;
fail:
        json_decref(list);
        json_decref(tiers);
        module_error_set(err, 500, "internal", NULL, "out of memory");
        return -ENOMEM;
}

/* ---- the interval setting (metrics.conf) ------------------------------------ */

struct metrics_config {
        unsigned interval;     /* seconds between samples */
        char textfile_dir[256]; /* the textfile collector's *.prom files */
};

/* An absolute path without "." or ".." components, empty components or
 * control characters. */
static bool textfile_dir_valid(const char *s) {
        if (s[0] != '/')
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        for (const char *p = s; *p;) {
                const char *c = p + 1, *n = strchr(c, '/');
                size_t l = n ? (size_t)(n - c) : strlen(c);
                if ((l == 0 && n) || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                p = n ? n : c + l;
        }
        return true;
}

static const setting_def_t settings[] = {
        {.key = "interval",
         .type = SETTING_INTEGER,
         .min = HISTORY_MIN_INTERVAL,
         .max = HISTORY_MAX_INTERVAL,
         .def_int = 1,
         .description = "Seconds between two samples of the history and the event stream",
         SETTING_FIELD(struct metrics_config, interval)},
        {.key = "textfile_dir",
         .type = SETTING_STRING,
         .min = 1,
         .max = 255,
         .def_string = TEXTFILE_DEFAULT_DIR,
         .valid_string = textfile_dir_valid,
         .description = "Directory of *.prom files merged into /metrics (node_exporter's textfile "
                        "collector); readable by the daemon's unprivileged user",
         SETTING_FIELD(struct metrics_config, textfile_dir)},
};

/* The file changed (the API, a rollback, SIGHUP): in the front the sampler
 * takes the new interval at its next tick and the next scrape reads the
 * new textfile directory; the helper samples nothing. */
static void interval_live(const void *config, bool helper) {
        const struct metrics_config *c = config;

        if (!helper) {
                history_set_interval(c->interval);
                textfile_set_dir(c->textfile_dir);
        }
}

static struct metrics_config live;
static struct settings_file_state state;

static const settings_file_t settings_file = {
        .module = "metrics",
        .rows = settings,
        .n_rows = ELEMENTSOF(settings),
        .file = "metrics.conf",
        .header = "# Settings of the metrics module (steward settings metrics:…), written by "
                  "stewardd.\n",
        .size = sizeof(struct metrics_config),
        .live = &live,
        .state = &state,
        .made_live = interval_live,
};

static int metrics_init(void) {
        struct module_error e = {0};
        int r = sampler_init();

        if (r < 0)
                return r;
        r = settings_file_make_live(&settings_file, /* helper= */ false, &e);
        if (r < 0)
                log_error("%s", e.message);
        /* The history stores its minutes through the front's helper channel,
         * when there is one (not in the tests). */
        history_set_backend(modules_helper_call());
        r = history_start();
        if (r < 0) {
                history_set_backend(NULL);
                sampler_done();
                return r;
        }
        valuesrc_set_metric_provider(valueprov_metric);
        return 0;
}

static void metrics_done(void) {
        valuesrc_set_metric_provider(NULL);
        history_stop();
        history_set_backend(NULL);
        history_teardown();
        valueprov_done();
        sampler_done();
        textfile_done();
}

static const module_route_t routes[] = {
        {"GET", "metrics", ROLE_MONITOR, .text_handler = route_metrics,
         .summary = "Prometheus text exposition (node_exporter names)"},
        {"GET", "api/v1/metrics/history", ROLE_MONITOR, .handler = route_history,
         .summary = "Stored history of series", .query = "series range step"},
        {"GET", "api/v1/metrics/series", ROLE_MONITOR, .handler = route_series,
         .summary = "The series the history holds, with their units"},
};

const module_t module_metrics = {
        .name = "metrics",
        .summary = "Prometheus metrics at GET /metrics, with node_exporter's names",
        .init = metrics_init,
        .done = metrics_done,
        .status = metrics_status,
        .fullstatus = metrics_status,
        .settings_file = &settings_file,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .events = metrics_events,
        .n_events = ELEMENTSOF(metrics_events),
        .events_attach = metrics_events_attach,
};
