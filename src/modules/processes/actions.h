/* actions.h — the processes collection's item actions (signal, renice):
 * run in the privileged helper, audited.  This placeholder declares the
 * table the collection names; the actions themselves come with their own
 * implementation in actions.c.
 */
#pragma once

#include "module.h"

extern const collection_action_t processes_actions[];
#define PROCESSES_N_ACTIONS 2
