/* httpstats.h — counters of the requests the API answered: how many by
 * route and status, and how long they took by route (a histogram).
 *
 * A front-neutral facility: the HTTP layer records, whoever publishes the
 * figures (the metrics module's GET /metrics) takes a snapshot.  Neither
 * side knows the other.
 *
 * The HTTP layer calls httpstats_record() once per request that reached the
 * API, with the route pattern that matched ("api/v1/modules/ * /settings"),
 * so the label set is bounded by the route tables, never by what clients
 * send; a path that matched no route counts as "other".  Refusals decided
 * before the API (401, 431, 503 on the first call) are not counted here.
 *
 * Thread-safe: one mutex around a fixed table (HTTPSTATS_MAX_ROUTES routes;
 * past it, new routes count as "other").  The route string must outlive the
 * process (the patterns are static tables).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HTTPSTATS_MAX_ROUTES   64
#define HTTPSTATS_MAX_STATUSES 16 /* per route; past it a status counts as "other" */
#define HTTPSTATS_BUCKETS      14

/* The histogram's upper bounds in microseconds, ascending; a request past
 * the last one counts only in a route's count (+Inf). */
extern const uint64_t httpstats_bucket_usec[HTTPSTATS_BUCKETS];

struct httpstats_route {
        const char *route; /* a route pattern, or "other" */
        struct {
                int status; /* 0: "other" */
                uint64_t count;
        } statuses[HTTPSTATS_MAX_STATUSES];
        size_t n_statuses;
        uint64_t bucket[HTTPSTATS_BUCKETS +
                        1]; /* per bucket, not cumulative; the last: past every bound */
        uint64_t sum_usec, count;
};

/* route NULL: "other". */
void httpstats_record(const char *route, int status, uint64_t usec);

/* Copies the routes recorded so far into dst (room for
 * HTTPSTATS_MAX_ROUTES) in the order they were first seen; returns how
 * many. */
size_t httpstats_snapshot(struct httpstats_route dst[static HTTPSTATS_MAX_ROUTES]);

/* Forgets everything (for the tests). */
void httpstats_reset(void);
