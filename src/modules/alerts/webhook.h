/* webhook.h — what the notifier sends over HTTP: Alertmanager's webhook
 * body (version 4) for a webhook receiver, the alert list of
 * Alertmanager's API v2 for a real Alertmanager, and the one POST that
 * carries either.
 *
 * The builders are pure (alerts in, a body out): alert objects as
 * notify.h describes them ({"rule", "fingerprint", "status", "labels",
 * "annotations", "starts_at", "ends_at", "value"}), borrowed.  Nothing
 * they build holds a secret: labels and annotations are the engine's.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A webhook URL's scheme, host and port ("https://hooks.example:8443"),
 * without the path, for status and messages (a path may hold a token).
 * buf gets "" when url is not http(s). */
void webhook_url_host(const char *url, char *buf, size_t len);

/* An instant as Alertmanager writes it: RFC 3339 in UTC
 * ("2026-12-04T19:52:08Z"); 0 (or less) is Go's zero time
 * "0001-01-01T00:00:00Z", which Alertmanager sends for "not ended". */
void webhook_time(int64_t t, char buf[static 32]);

/* The batch split by rule, in the order rules first appear: an array of
 * arrays of the alerts (borrowed references made new), one per rule, as
 * Alertmanager groups by alertname.  NULL on allocation failure. */
json_t *webhook_groups(json_t *alerts);

/* The webhook body (version 4) of one group (alerts of one rule):
 * groupKey {}:{alertname="RULE"}, status firing when any alert fires,
 * commonLabels/commonAnnotations the pairs every alert shares, receiver
 * "steward", externalURL (the console's alerts page) also each alert's
 * generatorURL.  NULL for an empty group or on allocation failure. */
json_t *webhook_body(json_t *group, const char *external_url);

/* The body of POST BASE/api/v2/alerts: [{"labels", "annotations",
 * "startsAt", "endsAt", "generatorURL"}] for every alert of the array.  A
 * firing alert's endsAt is valid_until (unix; 0: left out), as Prometheus
 * does: Alertmanager keeps it firing that long without depending on its
 * resolve_timeout, and resolves it then unless it is sent again. */
json_t *webhook_alertmanager_body(json_t *alerts, const char *external_url, int64_t valid_until);

/* BASE/api/v2/alerts for an Alertmanager base URL (a trailing '/' of BASE
 * is not doubled).  -ENAMETOOLONG when it does not fit. */
int webhook_alertmanager_url(const char *base, char *buf, size_t len);

/* What a POST came to. */
enum webhook_outcome {
        WEBHOOK_OK,     /* 2xx */
        WEBHOOK_RETRY,  /* 5xx, 429 or no answer (network, timeout): try again later */
        WEBHOOK_FAILED, /* any other status: trying again would not help */
};

/* POSTs body (JSON) to url: TLS verified, no redirects, no proxy, 10 s in
 * all, at most 4 KiB of the answer read (the rest is not).  msg gets a
 * one-line reason when it is not WEBHOOK_OK ("HTTP 503", curl's words). */
enum webhook_outcome webhook_post(const char *url, const char *body, char *msg, size_t msg_len);

/* curl's global state: once in the front's init(), before any thread
 * posts, and once at done(). */
int webhook_global_init(void);
void webhook_global_done(void);
