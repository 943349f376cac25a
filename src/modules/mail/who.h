/* who.h — the parser behind who_list (who.c), exposed for the unit tests. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* `doveadm -f json who -1`'s text (a JSON array of {"username", "service",
 * "pid", "ip"}, every value a string) → one {"user", "service", "client",
 * "pid"} per session appended to list, at most max; entries that lack a
 * user or a valid pid are skipped.  -EBADMSG when the text is no JSON
 * array, -E2BIG past max, -ENOMEM. */
int who_parse_doveadm(const char *text, size_t len, json_t *list, size_t max);

/* The user-name grammar of kick: 1–256 bytes of valid UTF-8, no control
 * character, no leading '-', none of doveadm's mask characters ('*', '?',
 * '/') and not an IP address (doveadm kick reads one as an address mask). */
bool who_user_valid(const char *s);
