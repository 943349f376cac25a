/* svcevents.h — the `services` event type: systemd's unit state changes,
 * job results and reloads, from a thread of the front with its own bus
 * connection (see svcevents.c). */
#pragma once

#include "module.h"

#define SVC_EVENT_WINDOW_USEC (150 * 1000ULL)

void svc_events_attach(const struct event_hub *hub);
