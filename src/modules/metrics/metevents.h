/* metevents.h — the metrics module's events (metevents.c). */
#pragma once

#include "module.h"

extern const event_def_t metrics_events[1];
void metrics_events_attach(const struct event_hub *hub);
