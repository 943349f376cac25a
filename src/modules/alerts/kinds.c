/* kinds.c — what each kind of alert rule observes (kinds.h): the dispatch
 * by kind, and the threshold kind's three forms of series.
 *
 *   "cpu.busy"                 a history series: its last sample
 *                              (series_latest()); nothing before the first
 *                              sample or when the last is stale
 *   "metric:SELECTOR"          a /metrics sample through the neutral value
 *                              registry (valuesrc_metric()); nothing when no
 *                              sample matches
 *   "status:MODULE:a.b.c"      a number or boolean (1/0) in MODULE's
 *                              status(), called in the front as a monitor
 *                              would see it
 *
 * The other kinds live in kinds_fs.c (file systems: disk, disk_fill,
 * share_disk) and kinds_sys.c (the rest).  Each of those owns its caches;
 * alert_kinds_reset() frees them all.  Everything runs on the engine's
 * thread in the front (user _steward, under seccomp: no exec).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "modules/alerts/kinds_int.h"
#include "series.h"
#include "util.h"
#include "valuesrc.h"

#define _cleanup_json_ _cleanup_(json_decrefp)
#define STATUS_PREFIX  "status:"
#define METRIC_PREFIX  "metric:"
/* A history sample older than this is not "now" (the sampler stopped). */
#define SERIES_STALE_SECONDS 600

void kind_obs_add(struct kind_req *q, const char *instance, double value, const char *fmt, ...) {
        struct alert_obs *o;
        va_list ap;

        if (q->n >= q->max || !isfinite(value))
                return;
        o = &q->obs[q->n++];
        snprintf(o->instance, sizeof o->instance, "%s", instance);
        o->value = value;
        va_start(ap, fmt);
        vsnprintf(o->detail, sizeof o->detail, fmt, ap);
        va_end(ap);
}

int kind_unavailable(struct kind_req *q, int r, const char *fmt, ...) {
        char msg[sizeof q->err->message];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        module_error_set(q->err, 503, "unavailable", NULL, "%s", msg);
        return r < 0 ? r : -EIO;
}

int kinds_helper_call(const char *op, json_t *args, json_t **ret) {
        module_helper_call_fn call = modules_helper_call();

        if (!call) {
                json_decref(args);
                return -ENOTCONN;
        }
        return call(op, args, ret);
}

static int threshold_series(struct kind_req *q, const char *name) {
        double v[_HS_MAX];
        int64_t t;

        for (size_t s = 0; s < _HS_MAX; s++) {
                if (!series_name((series_t)s) || !STREQ(series_name((series_t)s), name))
                        continue;
                t = series_latest(v);
                if (t == 0 || t < q->now - SERIES_STALE_SECONDS || isnan(v[s]))
                        return 0;
                kind_obs_add(q, "", v[s], "%s = %g %s", name, v[s], series_unit((series_t)s));
                return 0;
        }
        return kind_unavailable(q, -ENOENT, "there is no history series \"%.64s\"", name);
}

static int threshold_metric(struct kind_req *q, const char *sel) {
        double v;
        int r = valuesrc_metric(sel, &v);

        if (r == -ENOSYS)
                return kind_unavailable(q, r, "no metric source runs in this process");
        if (r < 0)
                return kind_unavailable(q, r, "cannot read the metric %.200s: %s", sel,
                                        strerror(-r));
        if (r > 0)
                kind_obs_add(q, "", v, "%.200s = %g", sel, v);
        return 0;
}

/* "MODULE:a.b.c" of "status:MODULE:a.b.c". */
static int threshold_status(struct kind_req *q, const char *spec) {
        const struct module_ctx ctx = {.user = "stewardd", .role = "monitor", .source = "alerts"};
        const char *colon = strchr(spec, ':');
        _cleanup_json_ json_t *st = NULL;
        struct module_error me = {0};
        const module_t *m;
        char name[65];
        double v;
        int r;

        if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof name || !colon[1])
                return kind_unavailable(q, -EINVAL, "a status series is status:MODULE:PATH");
        memcpy(name, spec, (size_t)(colon - spec));
        name[colon - spec] = '\0';
        m = module_find(name);
        if (!m || !m->status)
                return kind_unavailable(q, -ENOENT, "there is no module \"%s\" with a status",
                                        name);
        r = m->status(&ctx, &st, &me);
        if (r < 0)
                return kind_unavailable(q, r, "the status of %s: %s", name, me.message);
        r = kinds_json_path(st, colon + 1, &v);
        if (r < 0)
                return kind_unavailable(q, r, "%.200s in the status of %s is not a number",
                                        colon + 1, name);
        if (r == 0)
                return kind_unavailable(q, -ENOENT, "the status of %s has no %.200s", name,
                                        colon + 1);
        kind_obs_add(q, "", v, "%s %.200s = %g", name, colon + 1, v);
        return 0;
}

static int kind_threshold(struct kind_req *q) {
        const char *s = q->r->series;

        if (strncmp(s, METRIC_PREFIX, strlen(METRIC_PREFIX)) == 0)
                return threshold_metric(q, s + strlen(METRIC_PREFIX));
        if (strncmp(s, STATUS_PREFIX, strlen(STATUS_PREFIX)) == 0)
                return threshold_status(q, s + strlen(STATUS_PREFIX));
        return threshold_series(q, s);
}

int alert_kind_observe(const struct alert_rule *r, int64_t now, struct alert_obs *obs, size_t max,
                       size_t *ret_n, struct module_error *err) {
        static int (*const observers[_AK_MAX])(struct kind_req * q) = {
                [AK_THRESHOLD] = kind_threshold,       [AK_DISK] = kind_disk,
                [AK_DISK_FILL] = kind_disk_fill,       [AK_UNIT_FAILED] = kind_unit_failed,
                [AK_NEW_LISTENER] = kind_new_listener, [AK_LOGIN_FAILURES] = kind_login_failures,
                [AK_AUDIT_CHAIN] = kind_audit_chain,   [AK_CERT_EXPIRY] = kind_cert_expiry,
                [AK_MAIL_QUEUE] = kind_mail_queue,     [AK_SHARE_DISK] = kind_share_disk,
        };
        struct kind_req q = {.r = r, .now = now, .obs = obs, .max = max, .err = err};
        int k;

        if ((unsigned)r->kind >= _AK_MAX || !observers[r->kind]) {
                module_error_set(err, 500, "internal", NULL, "rule %s: unknown kind", r->name);
                return -EINVAL;
        }
        k = observers[r->kind](&q);
        if (k < 0)
                return k;
        *ret_n = q.n;
        return 0;
}

void alert_kinds_reset(void) {
        kinds_fs_reset();
        kinds_sys_reset();
}
