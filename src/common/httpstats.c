/* httpstats.c — request counters by route and status, and duration
 * histograms by route (see httpstats.h).
 *
 * A request costs one uncontended mutex and a linear search over the routes
 * seen so far (a few dozen at most); a snapshot copies the table under the
 * mutex.  Histogram buckets are stored per bucket; whoever publishes them
 * makes them cumulative.
 */
#include "common/httpstats.h"

#include <pthread.h>
#include <string.h>

#include "util.h"

const uint64_t httpstats_bucket_usec[HTTPSTATS_BUCKETS] = {
        500,    1000,   2500,   5000,    10000,   25000,   50000,
        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static struct {
        pthread_mutex_t lock;
        struct httpstats_route routes[HTTPSTATS_MAX_ROUTES];
        size_t n;
} stats = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static struct httpstats_route *route_locked(const char *route) {
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
        struct httpstats_route *r;
        size_t b, s;

        for (b = 0; b < HTTPSTATS_BUCKETS && usec > httpstats_bucket_usec[b]; b++)
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

size_t httpstats_snapshot(struct httpstats_route dst[static HTTPSTATS_MAX_ROUTES]) {
        size_t n;

        pthread_mutex_lock(&stats.lock);
        n = stats.n;
        memcpy(dst, stats.routes, n * sizeof dst[0]);
        pthread_mutex_unlock(&stats.lock);
        return n;
}

void httpstats_reset(void) {
        pthread_mutex_lock(&stats.lock);
        memset(stats.routes, 0, sizeof stats.routes);
        stats.n = 0;
        pthread_mutex_unlock(&stats.lock);
}
