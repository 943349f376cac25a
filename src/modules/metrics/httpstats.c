/* httpstats.c — the API's request counters in the exposition format (see
 * httpstats.h).  The counting is common/httpstats.c's; this file only
 * formats a snapshot of it.
 */
#include "modules/metrics/httpstats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* The Prometheus "le" labels of httpstats_bucket_usec[], in the same order. */
static const char *const bucket_le[HTTPSTATS_BUCKETS] = {
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
        "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "10",
};

static void route_label(struct expo *e, const char *route) {
        char label[256];

        /* Patterns are written without the leading slash. */
        snprintf(label, sizeof label, "%s%s", STREQ(route, "other") ? "" : "/", route);
        expo_label(e, "route", label);
}

static void write_requests(struct expo *e, const struct httpstats_route *copy, size_t n) {
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
}

static void write_durations(struct expo *e, const struct httpstats_route *copy, size_t n) {
        expo_family(e, "steward_http_request_duration_seconds", "histogram",
                    "Time from a request's headers to its answer, by route pattern.");
        for (size_t i = 0; i < n; i++) {
                uint64_t cum = 0;
                for (size_t b = 0; b < HTTPSTATS_BUCKETS; b++) {
                        cum += copy[i].bucket[b];
                        expo_sample(e, "steward_http_request_duration_seconds_bucket");
                        route_label(e, copy[i].route);
                        expo_label(e, "le", bucket_le[b]);
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
}

void httpstats_write(struct expo *e) {
        static struct httpstats_route copy[HTTPSTATS_MAX_ROUTES];
        static pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;
        size_t n;

        /* The copy is large for a stack; scrapes are few, so one static copy
         * under its own lock. */
        pthread_mutex_lock(&copy_lock);
        n = httpstats_snapshot(copy);
        if (n > 0) {
                write_requests(e, copy, n);
                write_durations(e, copy, n);
        }
        pthread_mutex_unlock(&copy_lock);
}
