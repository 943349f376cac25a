/* kinds_pure.c — the alert kinds' pure helpers: the linear fit behind
 * disk_fill, the bounded sample rings, dotted paths into a status object,
 * listener names, globs, dates, sizes (declared in kinds_int.h).
 *
 * No global state, no I/O: tests/unit/test-alertkinds.c calls every one.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "modules/alerts/kinds_int.h"
#include "util.h"

int kinds_linear_fit(const double *x, const double *y, size_t n, double *ret_a, double *ret_b) {
        double mx = 0, my = 0, sxx = 0, sxy = 0;

        if (n < 2)
                return -EDOM;
        for (size_t i = 0; i < n; i++) {
                mx += x[i];
                my += y[i];
        }
        mx /= (double)n;
        my /= (double)n;
        for (size_t i = 0; i < n; i++) {
                sxx += (x[i] - mx) * (x[i] - mx);
                sxy += (x[i] - mx) * (y[i] - my);
        }
        if (!(sxx > 0) || !isfinite(sxy))
                return -EDOM;
        *ret_b = sxy / sxx;
        *ret_a = my - *ret_b * mx;
        return 0;
}

/* Keeps samples 0, 2, 4 … and the newest. */
static void ring_thin(struct kinds_ring *g) {
        size_t k = 0;

        for (size_t i = 0; i < g->n; i++)
                if (i % 2 == 0 || i + 1 == g->n) {
                        g->t[k] = g->t[i];
                        g->v[k] = g->v[i];
                        k++;
                }
        g->n = k;
}

void kinds_ring_add(struct kinds_ring *g, int64_t t, double v, int64_t keep) {
        size_t drop = 0;

        if (!isfinite(v))
                return;
        if (g->n > 0 && t < g->t[g->n - 1]) {
                g->n = 0;
                g->spacing = 0;
        }
        if (g->n > 0 && t - g->t[g->n - 1] < (g->spacing > 0 ? g->spacing : 1))
                return;
        while (drop < g->n && keep > 0 && g->t[drop] < t - keep)
                drop++;
        if (drop > 0) {
                memmove(g->t, g->t + drop, (g->n - drop) * sizeof g->t[0]);
                memmove(g->v, g->v + drop, (g->n - drop) * sizeof g->v[0]);
                g->n -= drop;
        }
        if (g->n == KINDS_RING_MAX) {
                ring_thin(g);
                g->spacing = g->spacing > 0 ? g->spacing * 2 : 2;
        }
        g->t[g->n] = t;
        g->v[g->n] = v;
        g->n++;
}

bool kinds_ring_at(const struct kinds_ring *g, int64_t t, double *ret) {
        size_t i;

        if (g->n == 0)
                return false;
        for (i = g->n; i > 0 && g->t[i - 1] > t; i--)
                ;
        *ret = g->v[i > 0 ? i - 1 : 0];
        return true;
}

int kinds_fill_hours(const struct kinds_ring *g, int64_t now, int64_t window, double capacity,
                     double *ret_hours) {
        double x[KINDS_RING_MAX], y[KINDS_RING_MAX], a, b, left;
        size_t n = 0, first = g->n;
        int64_t t0;

        for (size_t i = 0; i < g->n; i++)
                if (g->t[i] >= now - window && g->t[i] <= now) {
                        first = i;
                        break;
                }
        if (first == g->n)
                return 0;
        t0 = g->t[first];
        for (size_t i = first; i < g->n && g->t[i] <= now; i++) {
                x[n] = (double)(g->t[i] - t0);
                y[n] = g->v[i];
                n++;
        }
        if (n < 3 || (double)(g->t[first + n - 1] - t0) < (double)window / 20.0)
                return 0;
        if (kinds_linear_fit(x, y, n, &a, &b) < 0 || !(b > 0))
                return 0;
        left = capacity - (a + b * (double)(now - t0));
        *ret_hours = left > 0 ? left / b / 3600.0 : 0.0;
        return 1;
}

int kinds_json_path(json_t *root, const char *path, double *ret) {
        json_t *v = root;
        const char *p = path;

        while (v && *p) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                char key[128];

                if (len == 0 || len >= sizeof key)
                        return -EINVAL;
                memcpy(key, p, len);
                key[len] = '\0';
                if (json_is_object(v))
                        v = json_object_get(v, key);
                else if (json_is_array(v)) {
                        unsigned idx;
                        if (safe_atou(key, &idx) < 0)
                                return 0;
                        v = json_array_get(v, idx);
                } else
                        return 0;
                p = dot ? dot + 1 : p + len;
        }
        if (!v)
                return 0;
        if (json_is_number(v)) {
                *ret = json_number_value(v);
                return 1;
        }
        if (json_is_boolean(v)) {
                *ret = json_is_true(v) ? 1.0 : 0.0;
                return 1;
        }
        return -EINVAL;
}

void kinds_listener_key(const char *proto, const char *family, const char *addr, unsigned port,
                        char *buf, size_t len) {
        snprintf(buf, len, "%s %s %s %u", proto, family, addr, port);
}

void kinds_listener_instance(const char *proto, const char *family, const char *addr, unsigned port,
                             char *buf, size_t len) {
        bool v6 = STREQ(family, "ipv6");

        snprintf(buf, len, "%s %s%s%s:%u", proto, v6 ? "[" : "", addr, v6 ? "]" : "", port);
}

bool kinds_glob_match(const char *glob, const char *name) {
        return !*glob || fnmatch(glob, name, 0) == 0;
}

double kinds_days_left(int64_t not_after, int64_t now) {
        return (double)(not_after - now) / 86400.0;
}

const char *kinds_mount_of(const char *path, const char *const *mounts, size_t n) {
        const char *best = NULL;
        size_t best_len = 0;

        if (path[0] != '/')
                return NULL;
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(mounts[i]);
                bool holds = STREQ(mounts[i], "/") || (strncmp(path, mounts[i], l) == 0 &&
                                                       (path[l] == '\0' || path[l] == '/'));
                if (holds && (!best || l > best_len)) {
                        best = mounts[i];
                        best_len = l;
                }
        }
        return best;
}

void kinds_bytes_text(double bytes, char *buf, size_t len) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        size_t u = 0;

        while (bytes >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                bytes /= 1024.0;
                u++;
        }
        snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}
