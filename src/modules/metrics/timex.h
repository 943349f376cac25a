/* timex.h — node_timex_* for /metrics, read in the helper (timex.c). */
#pragma once

#include <jansson.h>

#include "module.h"

/* The module's gauges (module.h): {"families": [{"name", "type", "help",
 * "samples": [{"value"}]}]}. */
int timex_gauges(json_t **ret, struct module_error *err);
