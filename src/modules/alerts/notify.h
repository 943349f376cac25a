/* notify.h — telling people about alerts (notify.c): webhooks, a real
 * Alertmanager, mail through the helper.
 *
 * The engine hands over batches; a thread of the notifier sends them, so
 * that a slow or failing receiver never holds the evaluation.
 */
#pragma once

#include <jansson.h>

/* A change worth telling: alerts is a JSON array of alert objects
 * {"rule", "fingerprint", "status": "firing|resolved", "labels": {…},
 *  "annotations": {"summary", "description"}, "starts_at": unix,
 *  "ends_at": unix or 0, "value": number}; labels always hold
 * alertname (= rule), severity, instance (when not "") and host (the host
 * name).  Taken over.  Never blocks: queued for the notifier thread; a
 * full queue drops the oldest batch and counts it. */
void alerts_notify(json_t *alerts);
/* Starts/stops the notifier thread (front init()/done()); settings are read
 * through module_config_get() at each send. */
int alerts_notify_start(void);
void alerts_notify_stop(void);
/* {"webhooks": [{"url_host": "…", "sent": n, "failed": n, "last_error": "…"|null, "queued": n}], "mail": {…}, "alertmanager": {…}} for fullstatus. */
json_t *alerts_notify_status(void);
/* In the helper, for the module's gauges: the family
 * steward_alert_notifications_total{receiver="webhook|mail|alertmanager",
 * result="ok|failed|dropped"} (a counter) from the totals the front's
 * notifier keeps in the module's state.  NULL on allocation failure. */
json_t *alerts_notify_gauges(void);
