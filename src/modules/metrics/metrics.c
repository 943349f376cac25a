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
 * stewardd.conf (/etc/steward/metrics.conf): the stewardd module owns
 * stewardd.conf and refuses keys outside its schema, and one owner per file
 * keeps each read-modify-write under one lock.  Like stewardd.conf it is in
 * the settings grammar (kv.h), written atomically by the helper, readable by
 * the front (which re-reads it after a change, on SIGHUP and at start), and
 * its diff is the plan and the audit record, so rollback works as for any
 * file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "roles.h"
#include "kv.h"
#include "log.h"
#include "module.h"
#include "modules/metrics/expo.h"
#include "modules/metrics/history.h"
#include "modules/metrics/httpstats.h"
#include "modules/metrics/metevents.h"
#include "modules/metrics/sampler.h"
#include "modules/stewardd/stewardd.h"
#include "registry.h"
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

static void closed_sample(struct expo *e, const char *reason, _Atomic uint64_t *n) {
        expo_sample(e, "steward_connections_closed_total");
        expo_label(e, "reason", reason);
        expo_u64(e, atomic_load(n));
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

        expo_family(e, "steward_connections_unauthenticated", "gauge",
                    "TLS connections that have not authenticated yet.");
        expo_sample(e, "steward_connections_unauthenticated");
        expo_u64(e, atomic_load(&stewardd_connections_unauthenticated));

        expo_family(e, "steward_connections_closed_total", "counter",
                    "Connections the daemon closed to keep its connection budgets, by reason.");
        closed_sample(e, "source_cap", &stewardd_closed_source_cap);
        closed_sample(e, "budget_full", &stewardd_closed_budget_full);
        closed_sample(e, "displaced", &stewardd_closed_displaced);
        closed_sample(e, "header_timeout", &stewardd_closed_header_timeout);
        closed_sample(e, "local_no_role", &stewardd_closed_local_no_role);
        closed_sample(e, "local_cap", &stewardd_closed_local_cap);

        expo_family(e, "steward_event_subscribers", "gauge",
                    "Open event streams (GET /api/v1/events).");
        expo_sample(e, "steward_event_subscribers");
        expo_u64(e, atomic_load(&stewardd_event_subscribers));

        if (atomic_load(&stewardd_counters_known)) {
                expo_family(e, "steward_sessions", "gauge",
                            "Login sessions open now (password logins and local peers).");
                expo_sample(e, "steward_sessions");
                expo_u64(e, atomic_load(&stewardd_sessions_open));
                expo_family(e, "steward_audit_records_total", "counter",
                            "Records written to the audit log.");
                expo_sample(e, "steward_audit_records_total");
                expo_u64(e, atomic_load(&stewardd_audit_records));
                expo_family(e, "steward_logins_total", "counter",
                            "Logins since the daemon started, by result.");
                expo_sample(e, "steward_logins_total");
                expo_label(e, "result", "ok");
                expo_u64(e, atomic_load(&stewardd_logins_ok));
                expo_sample(e, "steward_logins_total");
                expo_label(e, "result", "failed");
                expo_u64(e, atomic_load(&stewardd_logins_failed));
        }

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

#define CONF_NAME      "metrics.conf"
#define CONF_MAX_BYTES (64u << 10)
#define CONF_HEADER                                                                                \
        "# Settings of the metrics module (steward settings metrics:…), written by stewardd.\n"

extern const module_t module_metrics;

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;

static const setting_def_t settings[] = {
        {.key = "interval",
         .type = SETTING_INTEGER,
         .min = HISTORY_MIN_INTERVAL,
         .max = HISTORY_MAX_INTERVAL,
         .description = "Seconds between two samples of the history and the event stream"},
};

/* metrics.conf next to the daemon's config file. */
static char *conf_path(void) {
        const char *cfg = stewardd_config_path(), *slash;
        char *p = NULL;

        if (!cfg)
                return NULL;
        slash = strrchr(cfg, '/');
        if (!slash)
                return strdup(CONF_NAME);
        if (asprintf(&p, "%.*s/%s", (int)(slash - cfg), cfg, CONF_NAME) < 0)
                return NULL;
        return p;
}

/* Parses metrics.conf text into the interval. */
static int conf_parse(const char *text, size_t len, unsigned *ret, struct module_error *e) {
        struct kv_error kerr = {0};
        json_t *tree = NULL, *flat = NULL, *v;
        unsigned every = 1;
        int r;

        r = kv_parse(text, len, &tree, &kerr);
        if (r < 0) {
                module_error_set(e, 409, "conflict", NULL, "%s: line %u: %s", CONF_NAME, kerr.line,
                                 kerr.message);
                return -EINVAL;
        }
        r = settings_flatten(&module_metrics, tree, &flat, e);
        json_decref(tree);
        if (r < 0)
                return r;
        v = json_object_get(flat, "interval");
        if (v) {
                const setting_def_t *d = &settings[0];
                struct value_rule rule = {d->type, d->min, d->max, NULL, NULL};
                r = value_check(&rule, "interval", v, "invalid_setting", e);
                if (r >= 0)
                        every = (unsigned)json_integer_value(v);
        }
        json_decref(flat);
        if (r < 0)
                return r;
        *ret = every;
        return 0;
}

/* Reads the file (missing: empty) and its interval. */
static int conf_load(char **ret_text, size_t *ret_len, bool *ret_existed, unsigned *ret_interval,
                     struct module_error *e) {
        _cleanup_free_ char *path = conf_path(), *text = NULL;
        size_t len = 0;
        int r;

        if (!path) {
                module_error_set(e, 500, "internal", NULL, "no configuration directory");
                return -ENOMEM;
        }
        r = read_file(path, CONF_MAX_BYTES, &text, &len);
        *ret_existed = r >= 0;
        if (r == -ENOENT) {
                text = strdup("");
                len = 0;
                r = text ? 0 : -ENOMEM;
        }
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot read %s: %s", path,
                                 strerror(-r));
                return r;
        }
        r = conf_parse(text, len, ret_interval, e);
        if (r < 0)
                return r;
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static int settings_read(json_t **ret, struct module_error *err) {
        unsigned every;
        bool existed;
        int r;

        pthread_mutex_lock(&conf_lock);
        r = conf_load(NULL, NULL, &existed, &every, err);
        pthread_mutex_unlock(&conf_lock);
        if (r < 0)
                return r;
        *ret = json_pack("{s:I}", "interval", (json_int_t)every);
        return *ret ? 0 : -ENOMEM;
}

/* In the helper: rewrites metrics.conf (it holds nothing else). */
static int settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                          json_t **plan, struct module_error *err) {
        _cleanup_free_ char *path = conf_path(), *old = NULL, *line = NULL, *new_text = NULL,
                            *diff = NULL;
        json_t *tree = NULL, *v = json_object_get(changes, "interval");
        size_t old_len = 0;
        unsigned every;
        bool existed;
        int r;

        if (!path || !json_is_integer(v) || json_object_size(changes) != 1) {
                module_error_set(err, 422, "invalid_setting", NULL, "only interval can be set");
                return -EINVAL;
        }
        pthread_mutex_lock(&conf_lock);
        r = conf_load(&old, &old_len, &existed, &every, err);
        if (r < 0)
                goto out;
        tree = json_pack("{s:O}", "interval", v);
        r = tree ? kv_format(NULL, tree, &line) : -ENOMEM;
        json_decref(tree);
        if (r >= 0 && asprintf(&new_text, "%s%s", CONF_HEADER, line) < 0) {
                new_text = NULL;
                r = -ENOMEM;
        }
        if (r >= 0)
                r = conf_parse(new_text, strlen(new_text), &every, err);
        if (r >= 0)
                r = diff_unified(path, old, old_len, new_text, strlen(new_text), &diff);
        if (r < 0) {
                if (!err->status)
                        module_error_set(err, 500, "internal", NULL, "cannot plan the change: %s",
                                         strerror(-r));
                goto out;
        }
        if (!dry_run && *diff) {
                r = write_file_atomic(path, new_text, strlen(new_text), 0644);
                if (r < 0) {
                        module_error_set(err, 500, "internal", NULL, "cannot write %s: %s", path,
                                         strerror(-r));
                        goto out;
                }
        }
        *plan = json_pack("{s:b, s:[s], s:b, s:[{s:s, s:s, s:s, s:s, s:s?, s:s, s:b}]}", "dry_run",
                          dry_run, "changed", "interval", "restart_required", false, "files",
                          "path", path, "diff", diff, "type", "file", "before_type",
                          existed ? "file" : "absent", "before", existed ? old : NULL, "after",
                          new_text, "redacted", false);
        r = *plan ? 0 : -ENOMEM;
out:
        pthread_mutex_unlock(&conf_lock);
        return r;
}

/* metrics.conf, computed once: the daemon's config path does not change
 * while it runs. */
static const char *const *files(void) {
        static char *path;
        static const char *owned[2];

        pthread_mutex_lock(&conf_lock);
        if (!path)
                path = conf_path();
        owned[0] = path;
        pthread_mutex_unlock(&conf_lock);
        return owned;
}

/* The file changed (the API, a rollback, SIGHUP).  In the front the sampler
 * takes the new interval at its next tick; the helper samples nothing, but
 * checks the file so that a restore of one that does not parse is reported. */
static int make_live(bool helper, struct module_error *e) {
        unsigned every;
        bool existed;
        int r;

        pthread_mutex_lock(&conf_lock);
        r = conf_load(NULL, NULL, &existed, &every, e);
        pthread_mutex_unlock(&conf_lock);
        if (r < 0) {
                char why[sizeof e->message];
                snprintf(why, sizeof why, "%s", e->message);
                module_error_set(e, 409, "invalid_config", NULL,
                                 "metrics: %s; the running sampling interval is kept", why);
                return r;
        }
        if (!helper)
                history_set_interval(every);
        return 0;
}

static int metrics_init(void) {
        struct module_error e = {0};
        int r = sampler_init();

        if (r < 0)
                return r;
        r = make_live(/* helper= */ false, &e);
        if (r < 0)
                log_error("%s", e.message);
        r = history_start();
        if (r < 0)
                sampler_done();
        return r;
}

static void metrics_done(void) {
        history_stop();
        history_teardown();
        sampler_done();
}

static const module_route_t routes[] = {
        {"GET", "metrics", ROLE_MONITOR, .text_handler = route_metrics},
        {"GET", "api/v1/metrics/history", ROLE_MONITOR, .handler = route_history},
        {"GET", "api/v1/metrics/series", ROLE_MONITOR, .handler = route_series},
};

const module_t module_metrics = {
        .name = "metrics",
        .summary = "Prometheus metrics at GET /metrics, with node_exporter's names",
        .init = metrics_init,
        .done = metrics_done,
        .status = metrics_status,
        .fullstatus = metrics_status,
        .settings = settings,
        .n_settings = ELEMENTSOF(settings),
        .settings_read = settings_read,
        .settings_apply = settings_apply,
        .files = files,
        .make_live = make_live,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .events = metrics_events,
        .n_events = ELEMENTSOF(metrics_events),
        .events_attach = metrics_events_attach,
};
