/* timex.h — node_timex_* for /metrics, read in the front (timex.c). */
#pragma once

#include <sys/timex.h>

#include "modules/metrics/expo.h"

/* The families of one adjtimex() answer (state: its return value). */
void timex_families(struct expo *e, const struct timex *tx, int state);

/* Reads the clock discipline (adjtimex, modes 0) and writes its families;
 * -errno when the call fails (nothing written). */
int timex_collect(struct expo *e);
