/* avahi.h — the mDNS advertisement of Time Machine shares (avahi.c). */
#pragma once

#include <jansson.h>

/* Avahi's service file for the Time Machine destinations among shares
 * (SMB on and time_machine true); NULL in *ret when there are none. */
int avahi_render(json_t *shares, char **ret);
