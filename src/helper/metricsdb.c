/* metricsdb.c — see metricsdb.h.
 *
 * Rows are keyed (series, t) WITHOUT ROWID, so a series' range is one index
 * walk; retention and roll-ups therefore run per series (a delete by time
 * alone would scan the whole table).  Values are bound, never formatted into
 * SQL.
 */
#include "metricsdb.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "series.h"
#include "sqlutil.h"
#include "util.h"

static int bad(struct module_error *e, const char *field, const char *what) {
        module_error_set(e, 400, "invalid_argument", field, "%s", what);
        return -EINVAL;
}

static int series_index(const char *name) {
        for (int s = 0; name && s < _HS_MAX; s++)
                if (STREQ(name, series_name((series_t)s)))
                        return s;
        return -1;
}

static bool get_int(json_t *v, int64_t *ret) {
        if (!json_is_integer(v))
                return false;
        *ret = json_integer_value(v);
        return true;
}

/* One series' [avg, min, max, n] of a point, checked. */
static bool valid_values(json_t *v, double out[3], int64_t *n) {
        if (!json_is_array(v) || json_array_size(v) != 4)
                return false;
        for (size_t i = 0; i < 3; i++) {
                json_t *x = json_array_get(v, i);
                if (!json_is_number(x))
                        return false;
                out[i] = json_number_value(x);
                if (!isfinite(out[i]) || fabs(out[i]) > 1e18)
                        return false;
        }
        if (!get_int(json_array_get(v, 3), n) || *n < 1 || *n > METRICSDB_MAX_PER_MIN)
                return false;
        /* avg lies between min and max, up to the rounding of a float. */
        double slack = 1e-6 * (fabs(out[1]) + fabs(out[2])) + 1e-9;
        return out[1] <= out[2] && out[0] >= out[1] - slack && out[0] <= out[2] + slack;
}

/* Checks the whole batch before anything is written. */
static int check_batch(json_t *batch, int64_t now, struct module_error *e) {
        json_t *points = json_object_get(batch, "points"), *p;
        size_t i;

        if (!json_is_object(batch) || json_object_size(batch) != 1 || !json_is_array(points) ||
            json_array_size(points) == 0 || json_array_size(points) > METRICSDB_MAX_BATCH)
                return bad(e, "points", "points must be an array of 1 to 180 minutes");
        json_array_foreach(points, i, p) {
                json_t *series = json_object_get(p, "series"), *v;
                const char *name;
                int64_t t;

                if (!json_is_object(p) || json_object_size(p) != 2 ||
                    !get_int(json_object_get(p, "t"), &t) || !json_is_object(series) ||
                    json_object_size(series) > _HS_MAX)
                        return bad(e, "points", "a point is {\"t\": minute, \"series\": {…}}");
                if (t % 60 != 0 || t < now - METRICSDB_MAX_PAST || t > now + METRICSDB_MAX_FUTURE)
                        return bad(e, "t", "a point's time must be a minute of the last 3 hours");
                json_object_foreach(series, name, v) {
                        double vals[3];
                        int64_t n;
                        if (series_index(name) < 0)
                                return bad(e, "series", "unknown series");
                        if (!valid_values(v, vals, &n))
                                return bad(e, "series",
                                           "values must be [avg, min, max, n]: finite numbers, "
                                           "min <= avg <= max, 1 <= n <= 120");
                }
        }
        return 0;
}

static int roll_hour(struct store *s, const char *series, int64_t hour) {
        static const char sql[] =
                "INSERT OR REPLACE INTO metrics_hour (series, t, avg, min, max, n) "
                "SELECT series, ?2, sum(avg * n) / sum(n), min(min), max(max), sum(n) "
                "FROM metrics_minute WHERE series = ?1 AND t >= ?2 AND t < ?2 + 3600 "
                "GROUP BY series";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = sql_prepare(s, sql, &st);

        if (r >= 0)
                r = sql_bind_text(st, 1, series);
        if (r >= 0)
                r = sql_bind_int64(st, 2, hour);
        if (r >= 0)
                r = sql_errno(sqlite3_step(st));
        return r;
}

static int expire(struct store *s, const char *series, int64_t now) {
        static const char *const sql[] = {
                "DELETE FROM metrics_minute WHERE series = ?1 AND t < ?2",
                "DELETE FROM metrics_hour WHERE series = ?1 AND t < ?2",
        };
        const int64_t keep[] = {METRICSDB_MINUTE_KEEP, METRICSDB_HOUR_KEEP};
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(sql) && r >= 0; i++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                r = sql_prepare(s, sql[i], &st);
                if (r >= 0)
                        r = sql_bind_text(st, 1, series);
                if (r >= 0)
                        r = sql_bind_int64(st, 2, now - keep[i]);
                if (r >= 0)
                        r = sql_errno(sqlite3_step(st));
        }
        return r;
}

int metricsdb_store(struct store *s, json_t *batch, int64_t now, struct module_error *e) {
        static const char sql[] =
                "INSERT INTO metrics_minute (series, t, avg, min, max, n) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (series, t) DO UPDATE SET "
                "avg = (avg * n + excluded.avg * excluded.n) / (n + excluded.n), "
                "min = min(min, excluded.min), max = max(max, excluded.max), "
                "n = n + excluded.n";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* The hours each series touched: at most a batch's span of them. */
        int64_t hours[METRICSDB_MAX_BATCH];
        size_t nhours = 0, i;
        json_t *p;
        bool own;
        int r;

        r = check_batch(batch, now, e);
        if (r < 0)
                return r;
        r = tx_begin(s, &own);
        if (r >= 0)
                r = sql_prepare(s, sql, &st);
        json_array_foreach(json_object_get(batch, "points"), i, p) {
                int64_t t = json_integer_value(json_object_get(p, "t")), h = t - t % 3600;
                const char *name;
                json_t *v;
                bool seen = false;

                if (r < 0)
                        break;
                json_object_foreach(json_object_get(p, "series"), name, v) {
                        double vals[3];
                        int64_t n;
                        (void)valid_values(v, vals, &n);
                        sqlite3_reset(st);
                        r = sql_bind_text(st, 1, name);
                        if (r >= 0)
                                r = sql_bind_int64(st, 2, t);
                        for (int k = 0; k < 3 && r >= 0; k++)
                                r = sql_errno(sqlite3_bind_double(st, 3 + k, vals[k]));
                        if (r >= 0)
                                r = sql_bind_int64(st, 6, n);
                        if (r >= 0)
                                r = sql_errno(sqlite3_step(st));
                        if (r < 0)
                                break;
                }
                for (size_t k = 0; k < nhours; k++)
                        seen = seen || hours[k] == h;
                if (!seen)
                        hours[nhours++] = h;
        }
        for (int sidx = 0; sidx < _HS_MAX && r >= 0; sidx++) {
                const char *name = series_name((series_t)sidx);
                for (size_t k = 0; k < nhours && r >= 0; k++)
                        r = roll_hour(s, name, hours[k]);
                if (r >= 0)
                        r = expire(s, name, now);
        }
        r = tx_end(s, own, r);
        if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot store the metrics: %s",
                                 strerror(-r));
        return r;
}

static json_t *num(double v) {
        return isfinite(v) ? json_real(v) : json_null();
}

int metricsdb_query(struct store *s, json_t *args, struct module_error *e, json_t **ret) {
        static const char *const sql[] = {
                "SELECT (t - ?2) / ?3, sum(avg * n) / sum(n), min(min), max(max) "
                "FROM metrics_minute WHERE series = ?1 AND t >= ?2 AND t < ?4 GROUP BY 1 ORDER BY "
                "1",
                "SELECT (t - ?2) / ?3, sum(avg * n) / sum(n), min(min), max(max) "
                "FROM metrics_hour WHERE series = ?1 AND t >= ?2 AND t < ?4 GROUP BY 1 ORDER BY 1",
        };
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *series = json_string_value(json_object_get(args, "series"));
        const char *tier = json_string_value(json_object_get(args, "tier"));
        int64_t from, step, npoints, res;
        json_t *points;
        int r, rc, which;

        if (series_index(series) < 0)
                return bad(e, "series", "unknown series");
        if (!tier || (!STREQ(tier, "minute") && !STREQ(tier, "hour")))
                return bad(e, "tier", "tier is minute or hour");
        which = STREQ(tier, "hour");
        res = which ? 3600 : 60;
        if (!get_int(json_object_get(args, "from"), &from) ||
            !get_int(json_object_get(args, "step"), &step) ||
            !get_int(json_object_get(args, "points"), &npoints) || json_object_size(args) != 5)
                return bad(e, NULL, "give series, tier, from, step and points");
        if (step < res || step % res != 0 || step > 63072000 || npoints < 1 ||
            npoints > SERIES_MAX_POINTS || from % res != 0 || from < 0 || from > INT64_MAX / 2)
                return bad(e, "step", "step must be a multiple of the tier's resolution");
        r = sql_prepare(s, sql[which], &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, series);
        if (r >= 0)
                r = sql_bind_int64(st, 2, from);
        if (r >= 0)
                r = sql_bind_int64(st, 3, step);
        if (r >= 0)
                r = sql_bind_int64(st, 4, from + step * npoints);
        points = r >= 0 ? json_array() : NULL;
        if (!points) {
                module_error_set(e, 500, "internal", NULL, "cannot read the metrics");
                return r < 0 ? r : -ENOMEM;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t k = sqlite3_column_int64(st, 0);
                json_t *pt = json_pack("[I, o, o, o]", (json_int_t)(from + k * step),
                                       num(sqlite3_column_double(st, 1)),
                                       num(sqlite3_column_double(st, 2)),
                                       num(sqlite3_column_double(st, 3)));
                if (!pt || json_array_append_new(points, pt) < 0) {
                        rc = SQLITE_NOMEM;
                        break;
                }
        }
        r = sql_errno(rc);
        if (r < 0) {
                json_decref(points);
                module_error_set(e, 500, "internal", NULL, "cannot read the metrics: %s",
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:o}", "points", points);
        return *ret ? 0 : -ENOMEM;
}

int metricsdb_recent(struct store *s, json_t *args, int64_t now, struct module_error *e,
                     json_t **ret) {
        static const char sql[] = "SELECT t, avg, min, max, n FROM metrics_minute "
                                  "WHERE series = ?1 AND t >= ?2 ORDER BY t";
        json_t *out;
        int64_t from;

        if (!get_int(json_object_get(args, "from"), &from) || json_object_size(args) != 1)
                return bad(e, "from", "give from (unix time)");
        if (from < now - METRICSDB_RECENT_SPAN)
                from = now - METRICSDB_RECENT_SPAN;
        out = json_object();
        if (!out)
                return -ENOMEM;
        for (int sidx = 0; sidx < _HS_MAX; sidx++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                const char *name = series_name((series_t)sidx);
                json_t *rows = json_array();
                int r, rc;

                r = rows ? sql_prepare(s, sql, &st) : -ENOMEM;
                if (r >= 0)
                        r = sql_bind_text(st, 1, name);
                if (r >= 0)
                        r = sql_bind_int64(st, 2, from);
                while (r >= 0 && (rc = sqlite3_step(st)) != SQLITE_DONE) {
                        json_t *row;
                        if (rc != SQLITE_ROW) {
                                r = sql_fail(rc);
                                break;
                        }
                        row = json_pack("[I, f, f, f, I]", (json_int_t)sqlite3_column_int64(st, 0),
                                        sqlite3_column_double(st, 1), sqlite3_column_double(st, 2),
                                        sqlite3_column_double(st, 3),
                                        (json_int_t)sqlite3_column_int64(st, 4));
                        if (!row || json_array_append_new(rows, row) < 0)
                                r = -ENOMEM;
                }
                if (r >= 0 && json_object_set_new(out, name, rows) < 0)
                        r = -ENOMEM;
                else if (r < 0)
                        json_decref(rows);
                if (r < 0) {
                        json_decref(out);
                        module_error_set(e, 500, "internal", NULL, "cannot read the metrics: %s",
                                         strerror(-r));
                        return r;
                }
        }
        *ret = json_pack("{s:o}", "series", out);
        return *ret ? 0 : -ENOMEM;
}
