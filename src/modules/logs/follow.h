/* follow.h — `logs` events: new journal entries for each event stream that
 * asked for them, with its own filters and resume cursor.
 *
 * One thread in the front (started with the first follower, ended with
 * the hub) holds one sd_journal per follower and waits on all their
 * descriptors at once; see follow.c.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "module.h"

#define LOGS_FOLLOWERS_MAX 64 /* streams following the journal at once */
#define LOGS_EVENT_ENTRIES 200 /* entries per event at most */
/* How far back a stream may start (since=, or a cursor's entry): 1 h. */
#define LOGS_FOLLOW_BACK_USEC (3600ull * 1000000)

/* event_def_t hooks of the `logs` type. */
int logs_follow_subscribe(json_t *params, uint64_t *ret_filter, struct module_error *err);
void logs_follow_unsubscribe(uint64_t filter);
/* events_attach: the hub starts (hub) or stops (NULL; joins the thread). */
void logs_follow_attach(const struct event_hub *hub);
