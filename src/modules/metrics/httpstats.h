/* httpstats.h — counters of the requests the API answered, for GET /metrics:
 * steward_http_requests_total{route,status} and the histogram
 * steward_http_request_duration_seconds{route}.
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

#include <stdint.h>

#include "modules/metrics/expo.h"

#define HTTPSTATS_MAX_ROUTES   64
#define HTTPSTATS_MAX_STATUSES 16 /* per route; past it a status counts as "other" */

/* route NULL: "other". */
void httpstats_record(const char *route, int status, uint64_t usec);

/* Writes both families (nothing when no request was recorded yet). */
void httpstats_write(struct expo *e);

/* Forgets everything (for the tests). */
void httpstats_reset(void);
