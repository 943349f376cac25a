/* sessions.h — login sessions, API tokens and the bootstrap token, in the
 * store.  A secret is 32 random bytes shown once as "stw_" + 64 hex digits;
 * only its SHA-256 is stored.  Lookups go by that digest.
 *
 * Kinds:
 *   "session"   made by a password login; expires after the idle timeout
 *               or the absolute lifetime, whichever comes first; carries a
 *               CSRF token (also stored hashed) for browser use
 *   "token"     an API token: a name, a role no higher than its creator's,
 *               an expiry (the helper gives every token one); no idle timeout
 *   "bootstrap" the one-time admin token of a new installation: consumed by
 *               its first successful use
 *
 * Every row belongs to an account, named by user and uid: the helper acts
 * for it with the lower of the row's role and the account's role now, and
 * deletes the account's rows when the account is gone or its name now
 * belongs to another uid (sessions_revoke_account).  uid is
 * SESSION_UID_UNBOUND for rows from before uids were kept (bound at their
 * next use) and SESSION_UID_NONE for the bootstrap token and what it made.
 *
 * Ids are never reused (the table is AUTOINCREMENT), so an id in an audit
 * record or a "revoke 30" names one credential forever.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "roles.h"
#include "store.h"

#define SESSION_SECRET_PREFIX "stw_"
#define SESSION_SECRET_LEN    (4 + 64)
#define SESSION_UID_NONE      (-1) /* the bootstrap token's, and what it made */
#define SESSION_UID_UNBOUND   (-2) /* not bound yet */

struct session {
        int64_t id;
        char kind[16];
        char user[64];
        enum role role;
        char name[128];     /* tokens: the name given at creation */
        char source[96];    /* where it was created from */
        int64_t created;    /* unix seconds */
        int64_t expires_at; /* absolute expiry, 0 = none */
        int64_t last_used;
        int64_t created_by; /* session id of the creator, 0 = none */
        int64_t uid;        /* the account's uid, or SESSION_UID_NONE / _UNBOUND */
};

struct session_limits {
        int64_t idle_timeout; /* seconds; applies to kind "session" only */
        int64_t lifetime;     /* seconds; absolute, kind "session" only */
};

/* Creates a session or token.  expires_at 0 = none (for "session" the
 * lifetime limit is applied by sessions_check).  Returns the secret (and for
 * "session" a CSRF secret) malloc'ed; the caller shows them once. */
int sessions_create(struct store *s, const char *kind, const char *user, enum role role,
                    const char *name, int64_t expires_at, const char *source, int64_t created_by,
                    int64_t now, char **ret_secret, char **ret_csrf, struct session *ret);

/* Looks a secret up.  -ENOENT: unknown (or malformed); -ETIMEDOUT: expired
 * (the row is deleted).  Updates last_used (at most once a second).  Does not
 * consume a bootstrap token: see sessions_consume. */
int sessions_check(struct store *s, const char *secret, const struct session_limits *lim,
                   int64_t now, struct session *ret);

/* Checks a CSRF secret against the session's, in constant time. */
bool sessions_csrf_ok(struct store *s, int64_t session_id, const char *csrf);

/* Gives a login session a new CSRF secret (the old one stops working) and
 * returns it: a browser that reloaded the console has lost the one it got at
 * login, and only the digest is stored.  -ENOENT for anything but a login
 * session. */
int sessions_csrf_renew(struct store *s, int64_t session_id, char **ret_csrf);

/* Binds a row to its account's uid (>= 0) or to none (SESSION_UID_NONE).
 * -ENOENT if there is no such row. */
int sessions_bind_uid(struct store *s, int64_t id, int64_t uid);

/* Deletes the rows of an account that is gone (uid_now < 0) or whose name
 * now belongs to uid_now: every row of that user bound to another uid, or
 * unbound when the account is gone.  Rows of no account are kept.  Returns
 * how many were deleted. */
int sessions_revoke_account(struct store *s, const char *user, int64_t uid_now);

/* The accounts that rows belong to: [[user, uid or null], …], each once;
 * rows of no account are left out. */
int sessions_accounts(struct store *s, json_t **ret);

/* Deletes one session/token by id (-ENOENT if none). */
int sessions_delete(struct store *s, int64_t id);
/* Deletes a bootstrap token after its one use. */
int sessions_consume(struct store *s, int64_t id);

/* Lists API tokens (never secrets): {"tokens": [{"id", "name", "role",
 * "user", "created", "expires_at", "last_used"}]}; with user non-NULL only
 * that user's. */
int sessions_list_tokens(struct store *s, const char *user, json_t **ret);

/* Lists live login sessions (kinds "session" and "peer", never secrets):
 * {"sessions": [{"id", "kind", "user", "role", "source", "created",
 * "last_used", "expires_at", "current"}]}; expires_at is when the row stops
 * being valid by whichever limit comes first (null: never); current marks
 * current_id.  With user non-NULL only that user's. */
int sessions_list_logins(struct store *s, const char *user, const struct session_limits *lim,
                         int64_t now, int64_t current_id, json_t **ret);

/* Deletes every "peer" session (a local connection's, which lives as long as
 * the connection); returns how many. */
int sessions_delete_peers(struct store *s);

/* Deletes expired rows; returns how many. */
int sessions_purge(struct store *s, const struct session_limits *lim, int64_t now);

/* Live login sessions (kinds "session" and "peer", not expired). */
int sessions_count(struct store *s, const struct session_limits *lim, int64_t now, int64_t *ret);

/* Whether the bootstrap token is still unused (its row exists). */
int sessions_bootstrap_pending(struct store *s, bool *ret);

/* Imports the bootstrap token file's secret as a "bootstrap" row if no
 * admin session, token or bootstrap row exists yet. */
int sessions_import_bootstrap(struct store *s, const char *secret, int64_t now);
