/* portevents.h — the ports module's events (portevents.c). */
#pragma once

#include "module.h"

extern const event_def_t ports_events[1];
void ports_events_poll(const struct event_hub *hub, bool changed);
void ports_events_attach(const struct event_hub *hub);
