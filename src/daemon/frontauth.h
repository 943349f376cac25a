/* frontauth.h — who is calling, as far as the front can tell.
 *
 * The helper owns sessions; the front keeps a small cache of the answers to
 * "whose secret is this, with which role now?" so that read requests do not
 * cross into the helper every time.  An entry is re-checked with the helper
 * after FRONTAUTH_RECHECK_SECONDS or a quarter of the idle timeout,
 * whichever is shorter; the whole cache is dropped after every change made
 * through this front (a change may alter anyone's role), and an entry at
 * once when this front logs the session out or revokes the token.  So a
 * change to an account made outside Steward reaches a cached reader within
 * FRONTAUTH_RECHECK_SECONDS plus the helper's own AUTHORITY_CACHE_USEC,
 * and one made through Steward at its next request.  The cache only ever
 * speeds up reads: every change is checked again by the helper against its
 * own store and the account as it is now. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "module.h"

#define FRONTAUTH_RECHECK_SECONDS 5
#define FRONTAUTH_SECRET_MAX      80

struct caller {
        char user[64];
        int role; /* enum role */
        char kind[16];
        int64_t session_id;
        char secret[FRONTAUTH_SECRET_MAX + 1];
        char csrf_digest[65]; /* SHA-256 of the CSRF token the helper accepted, or "" */
};

/* Checks a secret; on success fills *ret.  -EACCES with e filled (401) for an
 * unknown or expired secret; -EPIPE when the helper is unreachable (503).
 * idle_timeout (seconds) is the sessions' idle limit: the cache re-checks at
 * least every quarter of it, which keeps an active session's idle timer
 * fresh in the helper (the helper sees a gap of at most a quarter of the
 * limit plus the client's own pause) and notices an idle one soon after it
 * expired. */
int frontauth_check(const char *secret, const char *source, unsigned idle_timeout,
                    struct caller *ret, struct module_error *e);

/* The same, always asking the helper (and refreshing the cache). */
int frontauth_check_fresh(const char *secret, const char *source, unsigned idle_timeout,
                          struct caller *ret, struct module_error *e);

/* Checks the CSRF token of the caller's session.  The digest of the token
 * the helper accepted is cached with the session, so later requests compare
 * against it; a request without the token, or with another one, is never
 * let through by the cache. */
int frontauth_check_csrf(struct caller *c, const char *csrf, const char *source,
                         struct module_error *e);

/* Drops a session from the cache (logout, revocation). */
void frontauth_forget(int64_t session_id);
/* Drops every entry: after a change, which may have changed any role. */
void frontauth_forget_all(void);
