/* httpstats.c — request counters by route and status, and duration
 * histograms by route (see httpstats.h).
 *
 * A request costs one uncontended mutex and a linear search over the routes
 * seen so far (a few dozen at most); a scrape copies the table under the
 * mutex and formats the copy outside it.  Histogram buckets are stored
 * per bucket and made cumulative when written.
 */
#include "modules/metrics/httpstats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Upper bounds in microseconds, and the same as Prometheus "le" labels. */
static const struct {
        uint64_t usec;
        const char *le;
} buckets[] = {
        {500, "0.0005"},  {1000, "0.001"},  {2500, "0.0025"}, {5000, "0.005"},  {10000, "0.01"},
        {25000, "0.025"}, {50000, "0.05"},  {100000, "0.1"},  {250000, "0.25"}, {500000, "0.5"},
        {1000000, "1"},   {2500000, "2.5"}, {5000000, "5"},   {10000000, "10"},
};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct route_stats {
        const char *route;
        struct {
                int status; /* 0: "other" */
                uint64_t count;
        } statuses[HTTPSTATS_MAX_STATUSES];
        size_t n_statuses;
        uint64_t bucket[N_BUCKETS + 1]; /* the last: past every bound (+Inf only) */
        uint64_t sum_usec, count;
};

static struct {
        pthread_mutex_t lock;
        struct route_stats routes[HTTPSTATS_MAX_ROUTES];
        size_t n;
} stats = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static struct route_stats *route_locked(const char *route) {
        size_t i;

        for (i = 0; i < stats.n; i++)
                if (STREQ(stats.routes[i].route, route))
                        return &stats.routes[i];
        if (stats.n < HTTPSTATS_MAX_ROUTES - 1 || STREQ(route, "other")) {
                stats.routes[stats.n].route = route;
                return &stats.routes[stats.n++];
        }
        /* The last slot is kept for "other". */
        return route_locked("other");
}

void httpstats_record(const char *route, int status, uint64_t usec) {
        struct route_stats *r;
        size_t b, s;

        for (b = 0; b < N_BUCKETS && usec > buckets[b].usec; b++)
                ;
        if (status < 100 || status > 999)
                status = 0;

        pthread_mutex_lock(&stats.lock);
        r = route_locked(route ? route : "other");
        for (s = 0; s < r->n_statuses && r->statuses[s].status != status; s++)
                ;
        if (s == r->n_statuses) {
                /* The last slot is kept for "other" (status 0). */
                if (status != 0 && r->n_statuses >= HTTPSTATS_MAX_STATUSES - 1) {
                        status = 0;
                        for (s = 0; s < r->n_statuses && r->statuses[s].status != 0; s++)
                                ;
                }
                if (s == r->n_statuses)
                        r->statuses[r->n_statuses++].status = status;
        }
        r->statuses[s].count++;
        r->bucket[b]++;
        r->sum_usec += usec;
        r->count++;
        pthread_mutex_unlock(&stats.lock);
}

static void route_label(struct expo *e, const char *route) {
        char label[256];

        /* Patterns are written without the leading slash. */
        snprintf(label, sizeof label, "%s%s", STREQ(route, "other") ? "" : "/", route);
        expo_label(e, "route", label);
}

void httpstats_write(struct expo *e) {
        static struct route_stats copy[HTTPSTATS_MAX_ROUTES];
        static pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;
        size_t n;

        /* The copy is large for a stack; scrapes are few, so one static copy
         * under its own lock. */
        pthread_mutex_lock(&copy_lock);
        pthread_mutex_lock(&stats.lock);
        n = stats.n;
        memcpy(copy, stats.routes, n * sizeof copy[0]);
        pthread_mutex_unlock(&stats.lock);

        if (n == 0)
                goto out;
        expo_family(e, "steward_http_requests_total", "counter",
                    "Requests answered by the API, by route pattern and HTTP status.");
        for (size_t i = 0; i < n; i++)
                for (size_t s = 0; s < copy[i].n_statuses; s++) {
                        char status[8];
                        if (copy[i].statuses[s].status)
                                snprintf(status, sizeof status, "%d", copy[i].statuses[s].status);
                        else
                                snprintf(status, sizeof status, "other");
                        expo_sample(e, "steward_http_requests_total");
                        route_label(e, copy[i].route);
                        expo_label(e, "status", status);
                        expo_u64(e, copy[i].statuses[s].count);
                }
        expo_family(e, "steward_http_request_duration_seconds", "histogram",
                    "Time from a request's headers to its answer, by route pattern.");
        for (size_t i = 0; i < n; i++) {
                uint64_t cum = 0;
                for (size_t b = 0; b < N_BUCKETS; b++) {
                        cum += copy[i].bucket[b];
                        expo_sample(e, "steward_http_request_duration_seconds_bucket");
                        route_label(e, copy[i].route);
                        expo_label(e, "le", buckets[b].le);
                        expo_u64(e, cum);
                }
                expo_sample(e, "steward_http_request_duration_seconds_bucket");
                route_label(e, copy[i].route);
                expo_label(e, "le", "+Inf");
                expo_u64(e, copy[i].count);
                expo_sample(e, "steward_http_request_duration_seconds_sum");
                route_label(e, copy[i].route);
                expo_ratio(e, copy[i].sum_usec, 1000000);
                expo_sample(e, "steward_http_request_duration_seconds_count");
                route_label(e, copy[i].route);
                expo_u64(e, copy[i].count);
        }
out:
        pthread_mutex_unlock(&copy_lock);
}

void httpstats_reset(void) {
        pthread_mutex_lock(&stats.lock);
        memset(stats.routes, 0, sizeof stats.routes);
        stats.n = 0;
        pthread_mutex_unlock(&stats.lock);
}
