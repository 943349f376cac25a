/* httpstats.h — the API's request counters (common/httpstats.h, recorded by
 * the HTTP layer) as GET /metrics publishes them:
 * steward_http_requests_total{route,status} and the histogram
 * steward_http_request_duration_seconds{route}.
 */
#pragma once

#include "common/httpstats.h"
#include "modules/metrics/expo.h"

/* Writes both families (nothing when no request was recorded yet). */
void httpstats_write(struct expo *e);
