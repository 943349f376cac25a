/* authority.h — the role a credential acts with now.
 *
 * A session or token was issued to an account with a role; every request
 * acts with the lower of that role and the role the account has now (its
 * groups, and for credentials that stand for a password login — kinds
 * "session" and "token" — whether the account could still log in: password
 * not locked, not to be changed, not aged out, account not expired).  A
 * "peer" session stands for a uid on the local socket: its groups alone
 * count.  The bootstrap token and what it made belong to no account and
 * keep their role until they expire.
 *
 * An account that is gone, or whose name now belongs to another uid
 * (deleted, renamed, deleted and re-created), takes its credentials with
 * it: their rows are deleted.  One with no role now is refused but keeps
 * its rows, so giving the role back gives the credentials back.
 *
 * Lookups are cached per user name for AUTHORITY_CACHE_USEC, so a burst of
 * requests costs one NSS lookup; the helper flushes the cache after every
 * change it makes, so its own changes count at the next request. */
#pragma once

#include <stdint.h>

#include "auth.h"
#include "sessions.h"
#include "store.h"

#define AUTHORITY_CACHE_USEC (2 * 1000000ull)

struct authority;

int authority_new(struct authority **ret);
void authority_free(struct authority *a);
/* Forgets every cached lookup. */
void authority_flush(struct authority *a);

/* Checks s (as sessions_check returned it) against its account now and
 * lowers s->role to what the account has now.  Returns 0; -EACCES when the
 * account has no role now or cannot log in; -ENOENT when the account is
 * gone or its name belongs to another uid: its credentials were deleted
 * and *ret_revoked says how many; another -errno when the account could
 * not be looked up (the credential is left alone). */
int authority_check(struct authority *a, struct store *st, const struct role_map *map, int64_t now,
                    struct session *s, int *ret_revoked);

/* Called for each account whose credentials a sweep deleted: its name, the
 * uid they were bound to (SESSION_UID_UNBOUND: none yet) and how many. */
typedef void (*authority_revoked_fn)(const char *user, int64_t uid, int n, void *data);

/* Deletes the credentials of every account that is gone or whose name has
 * another uid now, whether they are presented or not (so listings show no
 * dead tokens and a deleted account keeps none).  Accounts that cannot be
 * looked up now are left alone.  Returns how many rows went. */
int authority_sweep(struct authority *a, struct store *st, const struct role_map *map, int64_t now,
                    authority_revoked_fn revoked, void *data);
