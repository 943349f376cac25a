/* sessions.c — see sessions.h.
 *
 * Secrets never touch the database: a row holds the SHA-256 hex of the whole
 * secret string ("stw_…"), and of the CSRF secret (64 hex digits, no
 * prefix, so one is never mistaken for the other).  A presented secret is
 * checked against the strict grammar before it is hashed or looked up, so a
 * malformed one costs nothing and reaches no SQL.  The secret has 256 bits of
 * entropy; looking it up by its digest leaks nothing useful about it.
 *
 * Besides the kinds of sessions.h there is "peer": the session of one
 * connection on the unix socket, identified by its peer credentials; the
 * front ends it when the connection closes, the helper ends them all when a
 * front starts, and it expires by its expires_at, like a token, at the
 * latest; it carries no CSRF secret.
 *
 * Expiry (a row is valid while now < limit):
 *   every kind     expires_at, when not 0
 *   "session"      also last_used + idle_timeout and created + lifetime,
 *                  each when > 0
 * An expired row is deleted when it is presented, and by sessions_purge.
 *
 * last_used has one-second resolution and is written only when it changes,
 * so a busy client costs at most one write a second.  That write is best
 * effort: a full disk must not lock administrators out of a server they are
 * trying to repair.
 *
 * Limits: at most SESSIONS_PER_USER login sessions and PEERS_PER_USER peer
 * sessions per user (a new one evicts that user's least recently used one of
 * its kind) and TOKENS_PER_USER API tokens
 * per user (the next is refused with -EDQUOT), so the table stays bounded by
 * the number of accounts. */
#include "sessions.h"

#include <errno.h>
#include <string.h>

#include "sqlutil.h"
#include "util.h"

#define SESSIONS_PER_USER 64
#define PEERS_PER_USER    256
#define TOKENS_PER_USER   100
#define SECRET_BYTES      32
#define CSRF_LEN          (2 * SECRET_BYTES)

#define BOOTSTRAP_USER   "bootstrap"
#define BOOTSTRAP_SOURCE "bootstrap-token"

#define SESSION_COLUMNS                                                                            \
        "id, kind, user, role, name, source, created, expires_at, last_used, created_by, uid"

static bool is_lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool secret_valid(const char *s) {
        const size_t plen = strlen(SESSION_SECRET_PREFIX);

        if (!s || strnlen(s, SESSION_SECRET_LEN + 1) != SESSION_SECRET_LEN)
                return false;
        return memcmp(s, SESSION_SECRET_PREFIX, plen) == 0 &&
               is_lower_hex(s + plen, SESSION_SECRET_LEN - plen);
}

static bool csrf_valid(const char *s) {
        return s && strnlen(s, CSRF_LEN + 1) == CSRF_LEN && is_lower_hex(s, CSRF_LEN);
}

static bool kind_valid(const char *k) {
        return k && (STREQ(k, "session") || STREQ(k, "token") || STREQ(k, "bootstrap") ||
                     STREQ(k, "peer"));
}

/* Text that fits its field in struct session, is UTF-8 and has no control
 * characters (it ends up in logs and JSON). */
static bool field_valid(const char *s, size_t size, bool allow_empty) {
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, size);
        if (n == size || (n == 0 && !allow_empty) || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

static int copy_field(char *dst, size_t size, const char *src) {
        size_t n = strnlen(src, size);

        if (n == size)
                return -EBADMSG;
        memcpy(dst, src, n + 1);
        return 0;
}

/* Fills a struct session from a row selected with SESSION_COLUMNS. */
static int row_to_session(sqlite3_stmt *st, struct session *ret) {
        struct session x = {};
        int role, r;

        x.id = sqlite3_column_int64(st, 0);
        r = copy_field(x.kind, sizeof x.kind, sql_column_text(st, 1));
        if (r >= 0)
                r = copy_field(x.user, sizeof x.user, sql_column_text(st, 2));
        if (r >= 0)
                r = copy_field(x.name, sizeof x.name, sql_column_text(st, 4));
        if (r >= 0)
                r = copy_field(x.source, sizeof x.source, sql_column_text(st, 5));
        if (r < 0)
                return r;
        role = role_from_string(sql_column_text(st, 3));
        if (role < 0)
                return -EBADMSG;
        x.role = (enum role)role;
        x.created = sqlite3_column_int64(st, 6);
        x.expires_at = sqlite3_column_int64(st, 7);
        x.last_used = sqlite3_column_int64(st, 8);
        x.created_by = sqlite3_column_int64(st, 9);
        x.uid = sqlite3_column_type(st, 10) == SQLITE_NULL ? SESSION_UID_UNBOUND
                                                           : sqlite3_column_int64(st, 10);
        *ret = x;
        return 0;
}

static bool limits_valid(const struct session_limits *lim) {
        return lim && lim->idle_timeout >= 0 && lim->lifetime >= 0;
}

static bool expired(const struct session *x, const struct session_limits *lim, int64_t now) {
        if (x->expires_at != 0 && now >= x->expires_at)
                return true;
        if (!STREQ(x->kind, "session"))
                return false;
        /* now - t cannot overflow: both are >= 0 in any row we wrote. */
        if (lim->idle_timeout > 0 && now - x->last_used >= lim->idle_timeout)
                return true;
        if (lim->lifetime > 0 && now - x->created >= lim->lifetime)
                return true;
        return false;
}

/* "stw_" + 64 hex from fresh random bytes, and its digest. */
static int new_secret(bool prefixed, char **ret, char hash[static SHA256_HEX_LEN + 1]) {
        uint8_t raw[SECRET_BYTES];
        char text[SESSION_SECRET_LEN + 1];
        const char *prefix = prefixed ? SESSION_SECRET_PREFIX : "";
        size_t plen = strlen(prefix);
        char *s;
        int r;

        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        memcpy(text, prefix, plen);
        hex_encode(raw, sizeof raw, text + plen);
        explicit_bzero(raw, sizeof raw);
        r = store_sha256_hex(text, strlen(text), hash);
        if (r < 0) {
                explicit_bzero(text, sizeof text);
                return r;
        }
        s = strdup(text);
        explicit_bzero(text, sizeof text);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static void free_secret(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

static int count_rows(struct store *s, const char *user, const char *kind, int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        r = sql_prepare(s, "SELECT count(*) FROM sessions WHERE user = ?1 AND kind = ?2", &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, user);
        if (r >= 0)
                r = sql_bind_text(st, 2, kind);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return sql_fail(rc);
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

/* Makes room for one more row of user and kind: drops the least recently
 * used ones past max. */
static int evict_oldest(struct store *s, const char *user, const char *kind, int64_t max) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t n = 0;
        int r, rc;

        r = count_rows(s, user, kind, &n);
        if (r < 0 || n < max)
                return r;
        r = sql_prepare(s,
                        "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions"
                        " WHERE user = ?1 AND kind = ?2"
                        " ORDER BY last_used, id LIMIT ?3)",
                        &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, user);
        if (r >= 0)
                r = sql_bind_text(st, 2, kind);
        if (r >= 0)
                r = sql_bind_int64(st, 3, n - max + 1);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : sql_fail(rc);
}

/* The role of the creating session, for the "no higher than its creator"
 * rule.  A creator that no longer exists cannot vouch for anything. */
static int creator_role(struct store *s, int64_t id, enum role *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, role;

        r = sql_prepare(s, "SELECT role FROM sessions WHERE id = ?1", &st);
        if (r >= 0)
                r = sql_bind_int64(st, 1, id);
        if (r < 0)
                return r;
        r = sql_step_one(st);
        if (r < 0)
                return r == -ENOENT ? -EPERM : r;
        role = role_from_string(sql_column_text(st, 0));
        if (role < 0)
                return -EBADMSG;
        *ret = (enum role)role;
        return 0;
}

static int insert_row(struct store *s, const struct session *x, const char *secret_hash,
                      const char *csrf_hash, int64_t *ret_id) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        r = sql_prepare(s,
                        "INSERT INTO sessions (kind, secret_hash, csrf_hash, user, role, name,"
                        " source, created, expires_at, last_used, created_by, uid)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                        " nullif(?12, -2))",
                        &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, x->kind);
        if (r >= 0)
                r = sql_bind_text(st, 2, secret_hash);
        if (r >= 0)
                r = sql_bind_text(st, 3, csrf_hash);
        if (r >= 0)
                r = sql_bind_text(st, 4, x->user);
        if (r >= 0)
                r = sql_bind_text(st, 5, role_to_string(x->role));
        if (r >= 0)
                r = sql_bind_text(st, 6, x->name);
        if (r >= 0)
                r = sql_bind_text(st, 7, x->source);
        if (r >= 0)
                r = sql_bind_int64(st, 8, x->created);
        if (r >= 0)
                r = sql_bind_int64(st, 9, x->expires_at);
        if (r >= 0)
                r = sql_bind_int64(st, 10, x->last_used);
        if (r >= 0)
                r = sql_bind_int64(st, 11, x->created_by);
        if (r >= 0)
                r = sql_bind_int64(st, 12, x->uid);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        *ret_id = sqlite3_last_insert_rowid(store_db(s));
        return 0;
}

int sessions_create(struct store *s, const char *kind, const char *user, enum role role,
                    const char *name, int64_t expires_at, const char *source, int64_t created_by,
                    int64_t now, char **ret_secret, char **ret_csrf, struct session *ret) {
        char secret_hash[SHA256_HEX_LEN + 1], csrf_hash[SHA256_HEX_LEN + 1];
        char *secret = NULL, *csrf = NULL;
        struct session x = {};
        bool own, is_session;
        int r;

        if (!s || !kind_valid(kind) || !ret_secret || role < ROLE_MONITOR || role > ROLE_ADMIN)
                return -EINVAL;
        if (!name)
                name = "";
        if (!source)
                source = "";
        if (!field_valid(user, sizeof x.user, false) || !field_valid(name, sizeof x.name, true) ||
            !field_valid(source, sizeof x.source, true))
                return -EINVAL;
        if (now <= 0 || expires_at < 0 || created_by < 0 || (expires_at != 0 && expires_at <= now))
                return -EINVAL;
        if (STREQ(kind, "bootstrap") && role != ROLE_ADMIN)
                return -EINVAL;
        is_session = STREQ(kind, "session");

        memcpy(x.kind, kind, strlen(kind) + 1);
        memcpy(x.user, user, strlen(user) + 1);
        memcpy(x.name, name, strlen(name) + 1);
        memcpy(x.source, source, strlen(source) + 1);
        x.role = role;
        x.created = x.last_used = now;
        x.expires_at = expires_at;
        x.created_by = created_by;
        x.uid = SESSION_UID_UNBOUND;

        r = new_secret(true, &secret, secret_hash);
        if (r >= 0 && is_session)
                r = new_secret(false, &csrf, csrf_hash);
        if (r < 0)
                goto fail;

        r = tx_begin(s, &own);
        if (r < 0)
                goto fail;
        if (created_by != 0 && STREQ(kind, "token")) {
                enum role cr = ROLE_NONE;
                r = creator_role(s, created_by, &cr);
                if (r >= 0 && role > cr)
                        r = -EPERM;
        }
        if (r >= 0 && is_session)
                r = evict_oldest(s, user, "session", SESSIONS_PER_USER);
        if (r >= 0 && STREQ(kind, "peer"))
                r = evict_oldest(s, user, "peer", PEERS_PER_USER);
        if (r >= 0 && STREQ(kind, "token")) {
                int64_t n = 0;
                r = count_rows(s, user, "token", &n);
                if (r >= 0 && n >= TOKENS_PER_USER)
                        r = -EDQUOT;
        }
        if (r >= 0)
                r = insert_row(s, &x, secret_hash, is_session ? csrf_hash : NULL, &x.id);
        r = tx_end(s, own, r);
        if (r < 0)
                goto fail;

        *ret_secret = secret;
        if (ret_csrf)
                *ret_csrf = csrf;
        else
                free_secret(csrf);
        if (ret)
                *ret = x;
        return 0;
fail:
        free_secret(secret);
        free_secret(csrf);
        return r;
}

static int delete_row(struct store *s, int64_t id, const char *kind) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        if (!s || id <= 0)
                return -ENOENT;
        r = sql_prepare(s,
                        kind ? "DELETE FROM sessions WHERE id = ?1 AND kind = ?2"
                             : "DELETE FROM sessions WHERE id = ?1",
                        &st);
        if (r >= 0)
                r = sql_bind_int64(st, 1, id);
        if (r >= 0 && kind)
                r = sql_bind_text(st, 2, kind);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        return sqlite3_changes(store_db(s)) > 0 ? 0 : -ENOENT;
}

int sessions_check(struct store *s, const char *secret, const struct session_limits *lim,
                   int64_t now, struct session *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char hash[SHA256_HEX_LEN + 1];
        struct session x;
        int r;

        if (!s || !limits_valid(lim) || now <= 0)
                return -EINVAL;
        if (!secret_valid(secret))
                return -ENOENT;
        r = store_sha256_hex(secret, SESSION_SECRET_LEN, hash);
        if (r < 0)
                return r;

        r = sql_prepare(s, "SELECT " SESSION_COLUMNS " FROM sessions WHERE secret_hash = ?1", &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, hash);
        if (r < 0)
                return r;
        r = sql_step_one(st);
        if (r < 0)
                return r;
        r = row_to_session(st, &x);
        if (r < 0)
                return r;
        sqlite3_finalize(TAKE_PTR(st));

        if (expired(&x, lim, now)) {
                (void)delete_row(s, x.id, NULL);
                return -ETIMEDOUT;
        }
        if (now > x.last_used) {
                r = sql_prepare(s,
                                "UPDATE sessions SET last_used = ?1"
                                " WHERE id = ?2 AND last_used < ?1",
                                &st);
                if (r >= 0)
                        r = sql_bind_int64(st, 1, now);
                if (r >= 0)
                        r = sql_bind_int64(st, 2, x.id);
                if (r >= 0 && sqlite3_step(st) == SQLITE_DONE)
                        x.last_used = now;
        }
        if (ret)
                *ret = x;
        return 0;
}

bool sessions_csrf_ok(struct store *s, int64_t session_id, const char *csrf) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char hash[SHA256_HEX_LEN + 1];
        const unsigned char *stored;

        if (!s || session_id <= 0 || !csrf_valid(csrf))
                return false;
        if (store_sha256_hex(csrf, CSRF_LEN, hash) < 0)
                return false;
        if (sql_prepare(s,
                        "SELECT csrf_hash FROM sessions WHERE id = ?1 AND kind = 'session'"
                        " AND csrf_hash IS NOT NULL",
                        &st) < 0)
                return false;
        if (sql_bind_int64(st, 1, session_id) < 0 || sqlite3_step(st) != SQLITE_ROW)
                return false;
        stored = sqlite3_column_text(st, 0);
        if (!stored || sqlite3_column_bytes(st, 0) != SHA256_HEX_LEN)
                return false;
        return memeq_consttime(stored, hash, SHA256_HEX_LEN);
}

int sessions_csrf_renew(struct store *s, int64_t session_id, char **ret_csrf) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char hash[SHA256_HEX_LEN + 1];
        char *csrf = NULL;
        int r;

        if (!s || session_id <= 0 || !ret_csrf)
                return -EINVAL;
        r = new_secret(false, &csrf, hash);
        if (r < 0)
                return r;
        r = sql_prepare(s,
                        "UPDATE sessions SET csrf_hash = ?1 WHERE id = ?2 AND kind = 'session'"
                        " AND csrf_hash IS NOT NULL",
                        &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, hash);
        if (r >= 0)
                r = sql_bind_int64(st, 2, session_id);
        if (r >= 0) {
                int rc = sqlite3_step(st);
                r = rc != SQLITE_DONE                   ? sql_fail(rc)
                    : sqlite3_changes(store_db(s)) != 1 ? -ENOENT
                                                        : 0;
        }
        if (r < 0) {
                free_secret(csrf);
                return r;
        }
        *ret_csrf = csrf;
        return 0;
}

int sessions_bind_uid(struct store *s, int64_t id, int64_t uid) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        if (!s || id <= 0 || uid < SESSION_UID_NONE)
                return -EINVAL;
        r = sql_prepare(s, "UPDATE sessions SET uid = ?2 WHERE id = ?1", &st);
        if (r >= 0)
                r = sql_bind_int64(st, 1, id);
        if (r >= 0)
                r = sql_bind_int64(st, 2, uid);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        return sqlite3_changes(store_db(s)) > 0 ? 0 : -ENOENT;
}

int sessions_revoke_account(struct store *s, const char *user, int64_t uid_now) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        if (!s || !user)
                return -EINVAL;
        if (uid_now < 0)
                uid_now = -1;
        r = sql_prepare(s,
                        "DELETE FROM sessions WHERE user = ?1 AND (uid IS NULL OR uid >= 0)"
                        " AND (?2 < 0 OR uid != ?2)",
                        &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, user);
        if (r >= 0)
                r = sql_bind_int64(st, 2, uid_now);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        return sqlite3_changes(store_db(s));
}

int sessions_accounts(struct store *s, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        json_t *arr;
        int r, rc;

        if (!s || !ret)
                return -EINVAL;
        r = sql_prepare(s,
                        "SELECT DISTINCT user, uid FROM sessions WHERE uid IS NULL OR uid >= 0"
                        " ORDER BY user, uid",
                        &st);
        if (r < 0)
                return r;
        arr = json_array();
        if (!arr)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *uid = sqlite3_column_type(st, 1) == SQLITE_NULL
                                      ? json_null()
                                      : json_integer(sqlite3_column_int64(st, 1));
                if (json_array_append_new(arr, json_pack("[s, o]", sql_column_text(st, 0), uid)) <
                    0) {
                        json_decref(arr);
                        return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE) {
                json_decref(arr);
                return sql_fail(rc);
        }
        *ret = arr;
        return 0;
}

int sessions_delete(struct store *s, int64_t id) {
        return delete_row(s, id, NULL);
}

int sessions_consume(struct store *s, int64_t id) {
        return delete_row(s, id, "bootstrap");
}

int sessions_list_tokens(struct store *s, const char *user, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        json_t *root = NULL, *arr;
        int r, rc;

        if (!s || !ret)
                return -EINVAL;
        r = sql_prepare(s,
                        "SELECT id, name, role, user, created, expires_at, last_used"
                        " FROM sessions WHERE kind = 'token' AND (?1 IS NULL OR user = ?1)"
                        " ORDER BY id",
                        &st);
        if (r >= 0)
                r = sql_bind_text(st, 1, user);
        if (r < 0)
                return r;

        root = json_object();
        arr = json_array();
        if (!root || !arr || json_object_set_new(root, "tokens", arr) < 0) {
                json_decref(root);
                return -ENOMEM;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char id[24];
                int64_t exp = sqlite3_column_int64(st, 5);
                json_t *t;

                /* Ids are strings on the wire (docs/api.md). */
                snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
                t = json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:o, s:I}", "id", id, "name",
                              (const char *)sqlite3_column_text(st, 1), "role",
                              (const char *)sqlite3_column_text(st, 2), "user",
                              (const char *)sqlite3_column_text(st, 3), "created",
                              (json_int_t)sqlite3_column_int64(st, 4), "expires_at",
                              exp ? json_integer(exp) : json_null(), "last_used",
                              (json_int_t)sqlite3_column_int64(st, 6));
                if (!t || json_array_append_new(arr, t) < 0) {
                        json_decref(root);
                        return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE) {
                json_decref(root);
                return sql_fail(rc);
        }
        *ret = root;
        return 0;
}

/* A session or token past its expiry, idle timeout or lifetime, with ?1 = now,
 * ?2 = idle timeout and ?3 = lifetime (0: none), bound by bind_expiry(). */
#define SESSION_EXPIRED_SQL                                                                        \
        "((expires_at != 0 AND expires_at <= ?1)"                                                  \
        " OR (kind = 'session' AND ((?2 > 0 AND last_used <= ?1 - ?2)"                             \
        " OR (?3 > 0 AND created <= ?1 - ?3))))"

static int bind_expiry(sqlite3_stmt *st, const struct session_limits *lim, int64_t now) {
        int r = sql_bind_int64(st, 1, now);
        if (r >= 0)
                r = sql_bind_int64(st, 2, lim->idle_timeout);
        if (r >= 0)
                r = sql_bind_int64(st, 3, lim->lifetime);
        return r;
}

/* When a row stops being valid: the earliest of its limits, 0 = never. */
static int64_t effective_expiry(const char *kind, int64_t expires_at, int64_t created,
                                int64_t last_used, const struct session_limits *lim) {
        int64_t e = expires_at;

        if (!STREQ(kind, "session"))
                return e;
        if (lim->idle_timeout > 0 && (e == 0 || last_used + lim->idle_timeout < e))
                e = last_used + lim->idle_timeout;
        if (lim->lifetime > 0 && (e == 0 || created + lim->lifetime < e))
                e = created + lim->lifetime;
        return e;
}

int sessions_list_logins(struct store *s, const char *user, const struct session_limits *lim,
                         int64_t now, int64_t current_id, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        json_t *root = NULL, *arr;
        int r, rc;

        if (!s || !ret || !limits_valid(lim) || now <= 0)
                return -EINVAL;
        r = sql_prepare(s,
                        "SELECT id, kind, user, role, source, created, expires_at, last_used"
                        " FROM sessions WHERE kind IN ('session', 'peer')"
                        " AND (?4 IS NULL OR user = ?4) AND NOT " SESSION_EXPIRED_SQL
                        " ORDER BY id",
                        &st);
        if (r >= 0)
                r = bind_expiry(st, lim, now);
        if (r >= 0)
                r = sql_bind_text(st, 4, user);
        if (r < 0)
                return r;

        root = json_object();
        arr = json_array();
        if (!root || !arr || json_object_set_new(root, "sessions", arr) < 0) {
                json_decref(arr);
                json_decref(root);
                return -ENOMEM;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char id[24];
                int64_t rid = sqlite3_column_int64(st, 0);
                const char *kind = sql_column_text(st, 1);
                int64_t exp = effective_expiry(kind, sqlite3_column_int64(st, 6),
                                               sqlite3_column_int64(st, 5),
                                               sqlite3_column_int64(st, 7), lim);
                json_t *t;

                /* Ids are strings on the wire (docs/api.md). */
                snprintf(id, sizeof id, "%lld", (long long)rid);
                t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:b}", "id", id, "kind",
                              kind, "user", sql_column_text(st, 2), "role", sql_column_text(st, 3),
                              "source", sql_column_text(st, 4), "created",
                              (json_int_t)sqlite3_column_int64(st, 5), "last_used",
                              (json_int_t)sqlite3_column_int64(st, 7), "expires_at",
                              exp ? json_integer(exp) : json_null(), "current",
                              current_id > 0 && rid == current_id);
                if (!t || json_array_append_new(arr, t) < 0) {
                        json_decref(root);
                        return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE) {
                json_decref(root);
                return sql_fail(rc);
        }
        *ret = root;
        return 0;
}

int sessions_delete_peers(struct store *s) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        if (!s)
                return -EINVAL;
        r = sql_prepare(s, "DELETE FROM sessions WHERE kind = 'peer'", &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        return sqlite3_changes(store_db(s));
}

int sessions_purge(struct store *s, const struct session_limits *lim, int64_t now) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        if (!s || !limits_valid(lim) || now <= 0)
                return -EINVAL;
        r = sql_prepare(s, "DELETE FROM sessions WHERE " SESSION_EXPIRED_SQL, &st);
        if (r >= 0)
                r = bind_expiry(st, lim, now);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        return sqlite3_changes(store_db(s));
}

int sessions_count(struct store *s, const struct session_limits *lim, int64_t now, int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (!s || !limits_valid(lim) || now <= 0)
                return -EINVAL;
        r = sql_prepare(s,
                        "SELECT count(*) FROM sessions WHERE kind IN ('session', 'peer')"
                        " AND NOT " SESSION_EXPIRED_SQL,
                        &st);
        if (r >= 0)
                r = bind_expiry(st, lim, now);
        if (r >= 0)
                r = sql_step_one(st);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

int sessions_bootstrap_pending(struct store *s, bool *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = sql_prepare(s, "SELECT count(*) FROM sessions WHERE kind = 'bootstrap'", &st);
        if (r >= 0)
                r = sql_step_one(st);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0) > 0;
        return 0;
}

int sessions_import_bootstrap(struct store *s, const char *secret, int64_t now) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char hash[SHA256_HEX_LEN + 1];
        struct session x = {
                .role = ROLE_ADMIN, .created = now, .last_used = now, .uid = SESSION_UID_NONE};
        bool own, exists = false;
        int r, rc;

        if (!s || now <= 0 || !secret_valid(secret))
                return -EINVAL;
        r = store_sha256_hex(secret, SESSION_SECRET_LEN, hash);
        if (r < 0)
                return r;
        memcpy(x.kind, "bootstrap", sizeof "bootstrap");
        memcpy(x.user, BOOTSTRAP_USER, sizeof BOOTSTRAP_USER);
        memcpy(x.name, "bootstrap", sizeof "bootstrap");
        memcpy(x.source, BOOTSTRAP_SOURCE, sizeof BOOTSTRAP_SOURCE);

        r = tx_begin(s, &own);
        if (r < 0)
                return r;
        r = sql_prepare(s,
                        "SELECT 1 FROM sessions WHERE role = 'admin' OR kind = 'bootstrap'"
                        " LIMIT 1",
                        &st);
        if (r >= 0) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        exists = true;
                else if (rc != SQLITE_DONE)
                        r = sql_fail(rc);
                sqlite3_finalize(TAKE_PTR(st));
        }
        if (r >= 0 && !exists)
                r = insert_row(s, &x, hash, NULL, &x.id);
        r = tx_end(s, own, r);
        if (r < 0)
                return r;
        return exists ? 0 : 1;
}
