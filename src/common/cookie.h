/* cookie.h — finding one cookie in a request's Cookie header, by its exact
 * name.
 *
 * The session cookie is named with the `__Host-` prefix, which browsers set
 * only from a secure origin, with Path=/ and no Domain, so a neighbouring
 * host or a plain-HTTP page cannot plant it.  Names are matched byte for
 * byte: a cookie whose name differs only in case, or has the old name, is
 * somebody else's and is ignored.  The caller counts the matches over every
 * Cookie header and refuses a request carrying the session cookie more than
 * once, since which one a server picks is then up to whoever planted the
 * other. */
#pragma once

#include <stddef.h>

#define SESSION_COOKIE "__Host-steward_session"

/* Counts the cookies named exactly `name` in one Cookie header value
 * ("a=1; b=2", RFC 6265 section 4.2.1, tolerating missing or extra
 * spaces).  When the count is not 0, *ret_value and *ret_len view the first
 * one's value (not NUL-terminated, inside header). */
size_t cookie_find(const char *header, const char *name, const char **ret_value, size_t *ret_len);
