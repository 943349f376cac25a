/* test-sessions.c — the store (store.h) and sessions, tokens and the
 * bootstrap token (sessions.h): what a secret looks like and that only its
 * digest is kept, expiry by idle time, lifetime and expires_at, CSRF checks,
 * listings that never show a secret, refusal of malformed secrets, purging,
 * and the store's file mode and schema-version check.
 *
 * Each test gets a fresh state directory under /tmp, removed afterwards. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helper/authority.h"
#include "helper/sessions.h"
#include "helper/store.h"
#include "util.h"

#define T0 INT64_C(1764151200)

struct fixture {
        char dir[64];
        struct store *s;
};

static void remove_dir(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (!STREQ(de->d_name, ".") && !STREQ(de->d_name, ".."))
                        (void)unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void)rmdir(path);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        char err[256];

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-sessions-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(store_open(f->dir, &f->s, err, sizeof err), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        store_close(f->s);
        remove_dir(f->dir);
        free(f);
        return 0;
}

static void sha256_hex_of(const char *s, char out[65]) {
        uint8_t d[32];

        assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), d), 0);
        hex_encode(d, sizeof d, out);
}

static bool lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdef", s[i]) || !s[i])
                        return false;
        return true;
}

static int64_t count_where(struct store *s, const char *sql, const char *arg) {
        sqlite3_stmt *st;
        int64_t n;

        assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
        if (arg)
                sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

static const struct session_limits limits = {.idle_timeout = 100, .lifetime = 1000};

static void test_create_check(void **state) {
        struct fixture *f = *state;
        char *secret = NULL, *csrf = NULL, hash[65];
        struct session s, c;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_OPERATOR, NULL, 0,
                                         "192.0.2.7:5000", 0, T0, &secret, &csrf, &s),
                         0);
        assert_int_equal(strlen(secret), SESSION_SECRET_LEN);
        assert_memory_equal(secret, "stw_", 4);
        assert_true(lower_hex(secret + 4, 64));
        assert_int_equal(strlen(csrf), 64);
        assert_true(lower_hex(csrf, 64));
        assert_true(s.id > 0);
        assert_string_equal(s.kind, "session");
        assert_string_equal(s.user, "alice");
        assert_int_equal(s.role, ROLE_OPERATOR);
        assert_string_equal(s.source, "192.0.2.7:5000");
        assert_true(s.created == T0 && s.last_used == T0 && s.expires_at == 0);

        /* Only the digest of the whole secret string is stored. */
        sha256_hex_of(secret, hash);
        assert_int_equal(
                count_where(f->s, "SELECT count(*) FROM sessions WHERE secret_hash = ?1", hash), 1);
        assert_int_equal(count_where(f->s,
                                     "SELECT count(*) FROM sessions WHERE secret_hash = ?1"
                                     " OR csrf_hash = ?1 OR instr(name || source, ?1)",
                                     secret),
                         0);
        assert_int_equal(
                count_where(f->s, "SELECT count(*) FROM sessions WHERE csrf_hash = ?1", csrf), 0);

        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 5, &c), 0);
        assert_int_equal(c.id, s.id);
        assert_string_equal(c.user, "alice");
        assert_int_equal(c.role, ROLE_OPERATOR);
        assert_true(c.last_used == T0 + 5);
        /* Same second: no update needed, still fine. */
        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 5, &c), 0);

        /* Two secrets are never the same. */
        char *secret2 = NULL;
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_MONITOR, "t", 0, "", 0, T0,
                                         &secret2, NULL, NULL),
                         0);
        assert_string_not_equal(secret, secret2);
        free(secret2);
        free(secret);
        free(csrf);
}

static void test_expiry_idle(void **state) {
        struct fixture *f = *state;
        char *secret = NULL, *csrf = NULL;
        struct session s;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &secret, &csrf, &s),
                         0);
        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 50, &s), 0);
        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 149, &s), 0);
        assert_true(s.last_used == T0 + 149);
        /* 100 s without use. */
        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 249, &s), -ETIMEDOUT);
        /* The row is gone. */
        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 250, &s), -ENOENT);
        free(secret);
        free(csrf);
}

static void test_expiry_absolute(void **state) {
        struct fixture *f = *state;
        const struct session_limits lim = {.idle_timeout = 0, .lifetime = 100};
        char *a = NULL, *b = NULL, *csrf = NULL;
        struct session s;

        /* The lifetime limit, however busy the session. */
        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0, &a,
                                         &csrf, &s),
                         0);
        free(csrf);
        for (int64_t t = T0; t < T0 + 100; t += 10)
                assert_int_equal(sessions_check(f->s, a, &lim, t, &s), 0);
        assert_int_equal(sessions_check(f->s, a, &lim, T0 + 99, &s), 0);
        assert_int_equal(sessions_check(f->s, a, &lim, T0 + 100, &s), -ETIMEDOUT);

        /* An explicit expires_at, earlier than the lifetime. */
        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", T0 + 10, "", 0,
                                         T0, &b, &csrf, &s),
                         0);
        free(csrf);
        assert_true(s.expires_at == T0 + 10);
        assert_int_equal(sessions_check(f->s, b, &lim, T0 + 9, &s), 0);
        assert_int_equal(sessions_check(f->s, b, &lim, T0 + 10, &s), -ETIMEDOUT);
        free(a);
        free(b);
}

static void test_tokens_never_idle(void **state) {
        struct fixture *f = *state;
        const struct session_limits lim = {.idle_timeout = 10, .lifetime = 20};
        char *forever = NULL, *limited = NULL, *csrf = (char *)"untouched";
        struct session s;

        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_MONITOR, "grafana", 0,
                                         "192.0.2.1:1", 0, T0, &forever, &csrf, &s),
                         0);
        assert_null(csrf); /* tokens have no CSRF secret */
        assert_string_equal(s.name, "grafana");
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_MONITOR, "ci", T0 + 500, "",
                                         0, T0, &limited, NULL, &s),
                         0);
        assert_int_equal(sessions_check(f->s, forever, &lim, T0 + 100000, &s), 0);
        assert_string_equal(s.kind, "token");
        assert_int_equal(sessions_check(f->s, limited, &lim, T0 + 499, &s), 0);
        assert_int_equal(sessions_check(f->s, limited, &lim, T0 + 500, &s), -ETIMEDOUT);
        assert_int_equal(sessions_check(f->s, forever, &lim, T0 + 200000, &s), 0);
        free(forever);
        free(limited);
}

static void test_bootstrap(void **state) {
        struct fixture *f = *state;
        const char *boot = "stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        const char *other = "stw_ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
        char *secret = NULL;
        struct session s;

        assert_int_equal(sessions_import_bootstrap(f->s, "stw_short", T0), -EINVAL);
        assert_int_equal(sessions_import_bootstrap(f->s, boot, T0), 1);
        /* Only one bootstrap token at a time. */
        assert_int_equal(sessions_import_bootstrap(f->s, other, T0), 0);
        assert_int_equal(sessions_check(f->s, other, &limits, T0, &s), -ENOENT);

        /* Usable, repeatedly, until consumed; never idle-expires. */
        assert_int_equal(sessions_check(f->s, boot, &limits, T0 + 100000, &s), 0);
        assert_string_equal(s.kind, "bootstrap");
        assert_string_equal(s.user, "bootstrap");
        assert_int_equal(s.role, ROLE_ADMIN);
        assert_int_equal(sessions_check(f->s, boot, &limits, T0 + 100001, &s), 0);

        /* Consuming is for bootstrap rows only. */
        assert_int_equal(sessions_create(f->s, "token", "bob", ROLE_MONITOR, "x", 0, "", 0, T0,
                                         &secret, NULL, NULL),
                         0);
        {
                struct session t;
                assert_int_equal(sessions_check(f->s, secret, &limits, T0, &t), 0);
                assert_int_equal(sessions_consume(f->s, t.id), -ENOENT);
                assert_int_equal(sessions_check(f->s, secret, &limits, T0, &t), 0);
        }
        free(secret);
        assert_int_equal(sessions_consume(f->s, s.id), 0);
        assert_int_equal(sessions_check(f->s, boot, &limits, T0 + 100002, &s), -ENOENT);
        assert_int_equal(sessions_consume(f->s, s.id), -ENOENT);

        /* Once an administrator exists, the bootstrap token is not imported. */
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "admin", 0, "", 0, T0,
                                         &secret, NULL, NULL),
                         0);
        free(secret);
        assert_int_equal(sessions_import_bootstrap(f->s, boot, T0), 0);
        assert_int_equal(sessions_check(f->s, boot, &limits, T0, &s), -ENOENT);
}

static void test_bootstrap_after_admin_session(void **state) {
        struct fixture *f = *state;
        const char *boot = "stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        char *secret = NULL, *csrf = NULL;
        struct session s;

        /* A monitor does not count as an administrator... */
        assert_int_equal(sessions_create(f->s, "session", "mon", ROLE_MONITOR, "", 0, "", 0, T0,
                                         &secret, &csrf, NULL),
                         0);
        free(secret);
        free(csrf);
        /* ...an admin login session does. */
        assert_int_equal(sessions_create(f->s, "session", "root", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &secret, &csrf, NULL),
                         0);
        free(secret);
        free(csrf);
        assert_int_equal(sessions_import_bootstrap(f->s, boot, T0), 0);
        assert_int_equal(sessions_check(f->s, boot, &limits, T0, &s), -ENOENT);
}

static void test_csrf(void **state) {
        struct fixture *f = *state;
        char *a = NULL, *csrf_a = NULL, *b = NULL, *csrf_b = NULL, *tok = NULL;
        struct session sa, sb, st;
        char upper[65];

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0, &a,
                                         &csrf_a, &sa),
                         0);
        assert_int_equal(sessions_create(f->s, "session", "bob", ROLE_ADMIN, "", 0, "", 0, T0, &b,
                                         &csrf_b, &sb),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "t", 0, "", 0, T0,
                                         &tok, NULL, &st),
                         0);
        assert_true(sessions_csrf_ok(f->s, sa.id, csrf_a));
        assert_true(sessions_csrf_ok(f->s, sb.id, csrf_b));
        assert_false(sessions_csrf_ok(f->s, sa.id, csrf_b));
        assert_false(sessions_csrf_ok(f->s, sb.id, csrf_a));
        assert_false(sessions_csrf_ok(f->s, sa.id, a)); /* the bearer secret is not it */
        assert_false(sessions_csrf_ok(f->s, sa.id, NULL));
        assert_false(sessions_csrf_ok(f->s, sa.id, ""));
        assert_false(sessions_csrf_ok(f->s, st.id, csrf_a)); /* tokens have none */
        assert_false(sessions_csrf_ok(f->s, 999999, csrf_a));
        for (size_t i = 0; i < 64; i++)
                upper[i] =
                        (char)((csrf_a[i] >= 'a' && csrf_a[i] <= 'f') ? csrf_a[i] - 32 : csrf_a[i]);
        upper[64] = '\0';
        if (!STREQ(upper, csrf_a))
                assert_false(sessions_csrf_ok(f->s, sa.id, upper));
        csrf_a[63] = csrf_a[63] == '0' ? '1' : '0';
        assert_false(sessions_csrf_ok(f->s, sa.id, csrf_a));
        free(a);
        free(b);
        free(csrf_a);
        free(csrf_b);
        free(tok);
}

static void test_csrf_renew(void **state) {
        struct fixture *f = *state;
        char *a = NULL, *csrf = NULL, *renewed = NULL, *tok = NULL, *none = NULL;
        struct session sa, st;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0, &a,
                                         &csrf, &sa),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "t", 0, "", 0, T0,
                                         &tok, NULL, &st),
                         0);
        assert_int_equal(sessions_csrf_renew(f->s, sa.id, &renewed), 0);
        assert_int_equal(strlen(renewed), 64);
        assert_string_not_equal(renewed, csrf);
        assert_true(sessions_csrf_ok(f->s, sa.id, renewed));
        assert_false(sessions_csrf_ok(f->s, sa.id, csrf)); /* the old one stops working */
        /* Only login sessions have one. */
        assert_int_equal(sessions_csrf_renew(f->s, st.id, &none), -ENOENT);
        assert_int_equal(sessions_csrf_renew(f->s, 999999, &none), -ENOENT);
        assert_null(none);
        assert_false(sessions_csrf_ok(f->s, st.id, renewed));
        free(a);
        free(csrf);
        free(renewed);
        free(tok);
}

static void test_list_tokens(void **state) {
        struct fixture *f = *state;
        char *secrets[4] = {}, *csrf = NULL, *text;
        struct session sess;
        json_t *list = NULL, *t;
        size_t i;
        const char *key;
        json_t *v;

        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_MONITOR, "grafana", 0, "", 0,
                                         T0, &secrets[0], NULL, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_OPERATOR, "ci", T0 + 86400,
                                         "", 0, T0, &secrets[1], NULL, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "bob", ROLE_ADMIN, "backup", 0, "", 0, T0,
                                         &secrets[2], NULL, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &secrets[3], &csrf, &sess),
                         0);

        assert_int_equal(sessions_list_tokens(f->s, NULL, &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "tokens")), 3);
        text = json_dumps(list, 0);
        for (i = 0; i < 4; i++) {
                char hash[65];
                sha256_hex_of(secrets[i], hash);
                assert_null(strstr(text, secrets[i]));
                assert_null(strstr(text, secrets[i] + 4));
                assert_null(strstr(text, hash));
        }
        assert_null(strstr(text, csrf));
        assert_null(strstr(text, "stw_"));
        free(text);
        json_array_foreach(json_object_get(list, "tokens"), i, t) {
                assert_int_equal(json_object_size(t), 7);
                json_object_foreach(t, key, v)
                        assert_true(STREQ(key, "id") || STREQ(key, "name") || STREQ(key, "role") ||
                                    STREQ(key, "user") || STREQ(key, "created") ||
                                    STREQ(key, "expires_at") || STREQ(key, "last_used"));
                assert_true(json_is_string(json_object_get(t, "id")));
        }
        t = json_array_get(json_object_get(list, "tokens"), 1);
        assert_string_equal(json_string_value(json_object_get(t, "name")), "ci");
        assert_string_equal(json_string_value(json_object_get(t, "role")), "operator");
        assert_string_equal(json_string_value(json_object_get(t, "user")), "alice");
        assert_true(json_integer_value(json_object_get(t, "expires_at")) == T0 + 86400);
        assert_true(json_integer_value(json_object_get(t, "created")) == T0);
        assert_true(json_is_null(
                json_object_get(json_array_get(json_object_get(list, "tokens"), 0), "expires_at")));
        json_decref(list);

        assert_int_equal(sessions_list_tokens(f->s, "alice", &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "tokens")), 2);
        json_decref(list);
        assert_int_equal(sessions_list_tokens(f->s, "nobody", &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "tokens")), 0);
        json_decref(list);

        for (i = 0; i < 4; i++)
                free(secrets[i]);
        free(csrf);
}

static void test_list_logins(void **state) {
        struct fixture *f = *state;
        const struct session_limits lim = {.idle_timeout = 600, .lifetime = 3600};
        char *secrets[5] = {}, *csrfs[2] = {}, *text;
        struct session a1, a2, b;
        json_t *list = NULL, *t, *v;
        const char *key;
        size_t i;

        assert_int_equal(sessions_import_bootstrap(f->s,
                                                   "stw_00112233445566778899aabbccddeeff"
                                                   "00112233445566778899aabbccddeeff",
                                                   T0),
                         1);
        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "10.0.0.1", 0,
                                         T0, &secrets[0], &csrfs[0], &a1),
                         0);
        assert_int_equal(sessions_create(f->s, "peer", "alice", ROLE_ADMIN, "", T0 + 100, "local",
                                         0, T0 + 10, &secrets[1], NULL, &a2),
                         0);
        assert_int_equal(sessions_create(f->s, "session", "bob", ROLE_MONITOR, "", 0, "10.0.0.2", 0,
                                         T0 + 20, &secrets[2], &csrfs[1], &b),
                         0);
        /* Tokens and the bootstrap token are not login sessions. */
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_MONITOR, "grafana", 0, "", 0,
                                         T0, &secrets[3], NULL, NULL),
                         0);

        assert_int_equal(sessions_list_logins(f->s, NULL, &lim, T0 + 30, a1.id, &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "sessions")), 3);
        text = json_dumps(list, 0);
        for (i = 0; i < 4; i++) {
                char hash[65];
                sha256_hex_of(secrets[i], hash);
                assert_null(strstr(text, secrets[i] + 4));
                assert_null(strstr(text, hash));
        }
        for (i = 0; i < 2; i++)
                assert_null(strstr(text, csrfs[i]));
        assert_null(strstr(text, "grafana"));
        assert_null(strstr(text, "bootstrap"));
        free(text);
        json_array_foreach(json_object_get(list, "sessions"), i, t) {
                assert_int_equal(json_object_size(t), 9);
                json_object_foreach(t, key, v)
                        assert_true(STREQ(key, "id") || STREQ(key, "kind") || STREQ(key, "user") ||
                                    STREQ(key, "role") || STREQ(key, "source") ||
                                    STREQ(key, "created") || STREQ(key, "last_used") ||
                                    STREQ(key, "expires_at") || STREQ(key, "current"));
                assert_true(json_is_string(json_object_get(t, "id")));
                assert_true(json_is_true(json_object_get(t, "current")) == (i == 0));
        }
        t = json_array_get(json_object_get(list, "sessions"), 0);
        assert_string_equal(json_string_value(json_object_get(t, "kind")), "session");
        assert_string_equal(json_string_value(json_object_get(t, "source")), "10.0.0.1");
        /* The idle timeout comes first. */
        assert_true(json_integer_value(json_object_get(t, "expires_at")) == T0 + 600);
        t = json_array_get(json_object_get(list, "sessions"), 1);
        assert_string_equal(json_string_value(json_object_get(t, "kind")), "peer");
        assert_true(json_integer_value(json_object_get(t, "expires_at")) == T0 + 100);
        json_decref(list);

        /* One user's; expired ones are gone. */
        assert_int_equal(sessions_list_logins(f->s, "alice", &lim, T0 + 30, 0, &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "sessions")), 2);
        json_decref(list);
        assert_int_equal(sessions_list_logins(f->s, "alice", &lim, T0 + 200, 0, &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "sessions")), 1);
        json_decref(list);
        assert_int_equal(sessions_list_logins(f->s, "", &lim, T0 + 30, 0, &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "sessions")), 0);
        json_decref(list);
        assert_int_equal(sessions_list_logins(f->s, NULL, &lim, 0, 0, &list), -EINVAL);

        for (i = 0; i < 5; i++)
                free(secrets[i]);
        for (i = 0; i < 2; i++)
                free(csrfs[i]);
}

static void test_malformed(void **state) {
        struct fixture *f = *state;
        static const char *const bad[] = {
                "",
                "stw_",
                "stw",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                "STW_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                "stx_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                "stw_00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
                "stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
                "stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
                "stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
                " stw_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                "stw_0011223344556677889gaabbccddeeff00112233445566778899aabbccddeeff",
                "stw_00112233445566778899aabbccddeeff00112233' OR 1=1 --bbccddeeffff",
        };
        char *secret = NULL, *csrf = NULL, *upper;
        struct session s;

        /* A real session exists, so a lookup that ignored the format could hit it. */
        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &secret, &csrf, &s),
                         0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(sessions_check(f->s, bad[i], &limits, T0, &s), -ENOENT);
        assert_int_equal(sessions_check(f->s, NULL, &limits, T0, &s), -ENOENT);
        upper = strdup(secret);
        for (char *p = upper + 4; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                        *p = (char)(*p - 32);
        if (!STREQ(upper, secret))
                assert_int_equal(sessions_check(f->s, upper, &limits, T0, &s), -ENOENT);
        free(upper);
        assert_int_equal(sessions_check(f->s, secret, &limits, T0, &s), 0);
        assert_int_equal(sessions_check(f->s, secret, NULL, T0, &s), -EINVAL);

        /* What sessions_create refuses. */
        char *x = NULL;
        char longname[65];
        memset(longname, 'a', 64);
        longname[64] = '\0';
        assert_int_equal(
                sessions_create(f->s, "admin", "a", ROLE_ADMIN, "", 0, "", 0, T0, &x, NULL, NULL),
                -EINVAL);
        assert_int_equal(
                sessions_create(f->s, "token", "a", ROLE_NONE, "", 0, "", 0, T0, &x, NULL, NULL),
                -EINVAL);
        assert_int_equal(
                sessions_create(f->s, "token", "", ROLE_ADMIN, "", 0, "", 0, T0, &x, NULL, NULL),
                -EINVAL);
        assert_int_equal(sessions_create(f->s, "token", longname, ROLE_ADMIN, "", 0, "", 0, T0, &x,
                                         NULL, NULL),
                         -EINVAL);
        assert_int_equal(sessions_create(f->s, "token", "a\nb", ROLE_ADMIN, "", 0, "", 0, T0, &x,
                                         NULL, NULL),
                         -EINVAL);
        assert_int_equal(
                sessions_create(f->s, "token", "a", ROLE_ADMIN, "", T0, "", 0, T0, &x, NULL, NULL),
                -EINVAL);
        assert_int_equal(sessions_create(f->s, "bootstrap", "a", ROLE_MONITOR, "", 0, "", 0, T0, &x,
                                         NULL, NULL),
                         -EINVAL);
        assert_null(x);
        free(secret);
        free(csrf);
}

static void test_token_role_and_limits(void **state) {
        struct fixture *f = *state;
        char *mon = NULL, *csrf = NULL, *x = NULL;
        struct session ms, s;

        assert_int_equal(sessions_create(f->s, "session", "carol", ROLE_MONITOR, "", 0, "", 0, T0,
                                         &mon, &csrf, &ms),
                         0);
        free(mon);
        free(csrf);
        /* No higher than the creator. */
        assert_int_equal(sessions_create(f->s, "token", "carol", ROLE_ADMIN, "t", 0, "", ms.id, T0,
                                         &x, NULL, NULL),
                         -EPERM);
        assert_null(x);
        assert_int_equal(sessions_create(f->s, "token", "carol", ROLE_MONITOR, "t", 0, "", ms.id,
                                         T0, &x, NULL, &s),
                         0);
        assert_true(s.created_by == ms.id);
        free(x);
        x = NULL;
        assert_int_equal(sessions_create(f->s, "token", "carol", ROLE_MONITOR, "t", 0, "", 424242,
                                         T0, &x, NULL, NULL),
                         -EPERM);

        /* Login sessions per user are bounded: the least recently used goes. */
        char *first = NULL;
        struct session fs;
        assert_int_equal(sessions_create(f->s, "session", "dave", ROLE_MONITOR, "", 0, "", 0, T0,
                                         &first, &csrf, &fs),
                         0);
        free(csrf);
        for (int i = 0; i < 64; i++) {
                assert_int_equal(sessions_create(f->s, "session", "dave", ROLE_MONITOR, "", 0, "",
                                                 0, T0 + 1 + i, &x, &csrf, NULL),
                                 0);
                free(x);
                free(csrf);
        }
        assert_int_equal(sessions_check(f->s, first, &limits, T0 + 70, &s), -ENOENT);
        assert_int_equal(count_where(f->s, "SELECT count(*) FROM sessions WHERE user = ?1", "dave"),
                         64);
        free(first);

        /* Tokens per user are bounded: the next one is refused. */
        for (int i = 0; i < 100; i++) {
                assert_int_equal(sessions_create(f->s, "token", "erin", ROLE_MONITOR, "t", 0, "", 0,
                                                 T0, &x, NULL, NULL),
                                 0);
                free(x);
        }
        x = NULL;
        assert_int_equal(sessions_create(f->s, "token", "erin", ROLE_MONITOR, "t", 0, "", 0, T0, &x,
                                         NULL, NULL),
                         -EDQUOT);
        assert_null(x);
}

static void test_delete_purge(void **state) {
        struct fixture *f = *state;
        char *sess = NULL, *csrf = NULL, *tok_exp = NULL, *tok = NULL, *peer = NULL;
        struct session s, t;
        json_t *list;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &sess, &csrf, &s),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "a", T0 + 150, "", 0,
                                         T0, &tok_exp, NULL, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "b", 0, "", 0, T0,
                                         &tok, NULL, &t),
                         0);
        assert_int_equal(sessions_create(f->s, "peer", "root", ROLE_ADMIN, "", T0 + 3600, "unix", 0,
                                         T0, &peer, NULL, NULL),
                         0);
        assert_int_equal(sessions_purge(f->s, &limits, T0 + 99), 0);
        /* The session idled out, the first token expired; the peer session
         * is not subject to the idle timeout. */
        assert_int_equal(sessions_purge(f->s, &limits, T0 + 200), 2);
        assert_int_equal(sessions_check(f->s, sess, &limits, T0 + 200, &s), -ENOENT);
        assert_int_equal(sessions_check(f->s, tok_exp, &limits, T0 + 200, &s), -ENOENT);
        assert_int_equal(sessions_check(f->s, peer, &limits, T0 + 200, &s), 0);
        assert_int_equal(sessions_list_tokens(f->s, NULL, &list), 0);
        assert_int_equal(json_array_size(json_object_get(list, "tokens")), 1);
        json_decref(list);
        assert_int_equal(sessions_purge(f->s, &limits, T0 + 3600), 1);

        assert_int_equal(sessions_delete(f->s, t.id), 0);
        assert_int_equal(sessions_delete(f->s, t.id), -ENOENT);
        assert_int_equal(sessions_check(f->s, tok, &limits, T0 + 200, &s), -ENOENT);
        assert_int_equal(count_where(f->s, "SELECT count(*) FROM sessions", NULL), 0);
        free(sess);
        free(csrf);
        free(tok_exp);
        free(tok);
        free(peer);
}

/* The sessions of local connections end together when a front starts;
 * nothing else does. */
static void test_delete_peers(void **state) {
        struct fixture *f = *state;
        char *sess = NULL, *csrf = NULL, *tok = NULL, *p1 = NULL, *p2 = NULL;
        struct session s;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &sess, &csrf, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "t", 0, "", 0, T0,
                                         &tok, NULL, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "peer", "root", ROLE_ADMIN, "", T0 + 3600, "unix", 0,
                                         T0, &p1, NULL, NULL),
                         0);
        assert_int_equal(sessions_create(f->s, "peer", "alice", ROLE_ADMIN, "", T0 + 3600, "unix",
                                         0, T0, &p2, NULL, NULL),
                         0);
        assert_int_equal(sessions_delete_peers(f->s), 2);
        assert_int_equal(sessions_delete_peers(f->s), 0);
        assert_int_equal(sessions_check(f->s, p1, &limits, T0 + 1, &s), -ENOENT);
        assert_int_equal(sessions_check(f->s, p2, &limits, T0 + 1, &s), -ENOENT);
        assert_int_equal(sessions_check(f->s, sess, &limits, T0 + 1, &s), 0);
        assert_int_equal(sessions_check(f->s, tok, &limits, T0 + 1, &s), 0);
        free(sess);
        free(csrf);
        free(tok);
        free(p1);
        free(p2);
}

/* A full disk reads as -ENOSPC; existing sessions keep working. */
static void test_disk_full(void **state) {
        struct fixture *f = *state;
        char *secret = NULL, *csrf = NULL, *x = NULL, sql[64];
        sqlite3_stmt *st;
        struct session s;
        int r = 0;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0,
                                         &secret, &csrf, NULL),
                         0);
        assert_int_equal(sqlite3_prepare_v2(store_db(f->s), "PRAGMA page_count", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %d", sqlite3_column_int(st, 0));
        sqlite3_finalize(st);
        assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);

        for (int i = 0; i < 10000 && r == 0; i++) {
                char user[16];
                snprintf(user, sizeof user, "user%d", i);
                r = sessions_create(f->s, "token", user, ROLE_MONITOR, "t", 0, "", 0, T0, &x, NULL,
                                    NULL);
                if (r == 0) {
                        free(x);
                        x = NULL;
                }
        }
        assert_int_equal(r, -ENOSPC);
        assert_null(x);
        assert_int_equal(sessions_check(f->s, secret, &limits, T0 + 1, &s), 0);
        free(secret);
        free(csrf);
}

static void test_store_file(void **state) {
        struct fixture *f = *state;
        char path[128], err[256] = "";
        struct store *s2 = NULL;
        struct stat st;

        snprintf(path, sizeof path, "%s/steward.db", f->dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        snprintf(path, sizeof path, "%s/steward.db-wal", f->dir);
        if (stat(path, &st) == 0)
                assert_int_equal(st.st_mode & 077, 0);

        /* A second connection to the same file works (WAL). */
        assert_int_equal(store_open(f->dir, &s2, err, sizeof err), 0);
        store_close(s2);

        /* A database from a newer version is refused, with a clear message. */
        assert_int_equal(sqlite3_exec(store_db(f->s), "PRAGMA user_version = 99", NULL, NULL, NULL),
                         SQLITE_OK);
        s2 = NULL;
        assert_int_equal(store_open(f->dir, &s2, err, sizeof err), -EPROTONOSUPPORT);
        assert_null(s2);
        assert_non_null(strstr(err, "newer"));
        assert_non_null(strstr(err, "99"));
        /* Back to the current version. */
        assert_int_equal(sqlite3_exec(store_db(f->s), "PRAGMA user_version = 6", NULL, NULL, NULL),
                         SQLITE_OK);

        /* A state directory others can write to is refused. */
        assert_int_equal(chmod(f->dir, 0777), 0);
        assert_int_equal(store_open(f->dir, &s2, err, sizeof err), -EPERM);
        assert_int_equal(chmod(f->dir, 0700), 0);

        /* A database file with a wide mode is made private again. */
        snprintf(path, sizeof path, "%s/steward.db", f->dir);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(store_open(f->dir, &s2, err, sizeof err), 0);
        store_close(s2);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* No such directory. */
        assert_int_equal(store_open("/nonexistent/steward", &s2, err, sizeof err), -ENOENT);
}

static void test_store_foreign_file(void **state) {
        char dir[] = "/tmp/steward-test-foreign-XXXXXX", path[128], err[256];
        struct store *s = NULL;
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/steward.db", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "not a database, just some text that is long enough\n", 51), 51);
        close(fd);
        assert_true(store_open(dir, &s, err, sizeof err) < 0);
        assert_null(s);
        assert_non_null(strstr(err, "database"));

        /* A symlink in place of the database is refused. */
        unlink(path);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_true(store_open(dir, &s, err, sizeof err) < 0);
        assert_non_null(strstr(err, "symbolic link"));
        remove_dir(dir);
}

/* Ids are never handed out twice, not even the largest one after it was
 * deleted (a plain rowid table would reuse it). */
static void test_ids_never_reused(void **state) {
        struct fixture *f = *state;
        int64_t last = 0;

        for (int i = 0; i < 4; i++) {
                _cleanup_free_ char *secret = NULL;
                struct session s;

                assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "t", T0 + 100,
                                                 "", 0, T0, &secret, NULL, &s),
                                 0);
                assert_true(s.id > last);
                last = s.id;
                assert_int_equal(sessions_delete(f->s, s.id), 0);
        }
}

/* A row keeps its account's uid; a gone account takes its rows (bound or
 * not), a name now of another uid takes those bound to the old one, and
 * rows of no account stay. */
static void test_uid_binding_and_revocation(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        struct session sa, sb, sc, sd, x;

        assert_int_equal(sessions_create(f->s, "session", "alice", ROLE_ADMIN, "", 0, "", 0, T0, &a,
                                         NULL, &sa),
                         0);
        assert_int_equal(sa.uid, SESSION_UID_UNBOUND);
        assert_int_equal(sessions_check(f->s, a, &limits, T0 + 1, &x), 0);
        assert_int_equal(x.uid, SESSION_UID_UNBOUND);
        assert_int_equal(sessions_bind_uid(f->s, sa.id, 1000), 0);
        assert_int_equal(sessions_check(f->s, a, &limits, T0 + 1, &x), 0);
        assert_int_equal(x.uid, 1000);
        assert_int_equal(sessions_bind_uid(f->s, 9999, 1000), -ENOENT);
        assert_int_equal(sessions_bind_uid(f->s, sa.id, -3), -EINVAL);

        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "t", T0 + 500, "", 0,
                                         T0, &b, NULL, &sb),
                         0);
        assert_int_equal(sessions_bind_uid(f->s, sb.id, 1001), 0);
        assert_int_equal(sessions_create(f->s, "token", "alice", ROLE_ADMIN, "u", T0 + 500, "", 0,
                                         T0, &c, NULL, &sc),
                         0); /* unbound */
        assert_int_equal(sessions_create(f->s, "token", "bob", ROLE_ADMIN, "t", T0 + 500, "", 0, T0,
                                         &d, NULL, &sd),
                         0);
        assert_int_equal(sessions_bind_uid(f->s, sd.id, SESSION_UID_NONE), 0);

        /* "alice" is uid 1001 now: the row bound to 1000 goes, the others stay. */
        assert_int_equal(sessions_revoke_account(f->s, "alice", 1001), 1);
        assert_int_equal(sessions_check(f->s, a, &limits, T0 + 2, &x), -ENOENT);
        assert_int_equal(sessions_check(f->s, b, &limits, T0 + 2, &x), 0);
        assert_int_equal(sessions_check(f->s, c, &limits, T0 + 2, &x), 0);
        /* "alice" is gone: every row of hers goes. */
        assert_int_equal(sessions_revoke_account(f->s, "alice", -1), 2);
        assert_int_equal(sessions_check(f->s, b, &limits, T0 + 2, &x), -ENOENT);
        assert_int_equal(sessions_check(f->s, c, &limits, T0 + 2, &x), -ENOENT);
        /* Rows of no account are not an account's. */
        assert_int_equal(sessions_revoke_account(f->s, "bob", -1), 0);
        assert_int_equal(sessions_check(f->s, d, &limits, T0 + 2, &x), 0);
        assert_int_equal(x.uid, SESSION_UID_NONE);
}

/* A database of schema 3 (before uids and AUTOINCREMENT): its tokens get
 * an expiry, its rows are unbound but for the bootstrap user's, and new ids
 * start past every id its tables or its audit log named. */
static void test_migration_from_v3(void **state) {
        char dir[] = "/tmp/steward-test-migrate-XXXXXX", path[128], err[256];
        _cleanup_free_ char *secret = NULL;
        struct store *s = NULL;
        struct session x;
        sqlite3 *db;
        int64_t now = (int64_t)time(NULL);

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/steward.db", dir);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(
                sqlite3_exec(
                        db,
                        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
                        " secret_hash TEXT NOT NULL UNIQUE, csrf_hash TEXT, user TEXT NOT NULL,"
                        " role TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
                        " source TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL,"
                        " expires_at INTEGER NOT NULL DEFAULT 0, last_used INTEGER NOT NULL,"
                        " created_by INTEGER NOT NULL DEFAULT 0);"
                        "CREATE INDEX sessions_user ON sessions (user, kind);"
                        "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER,"
                        " time_iso TEXT, user TEXT, role TEXT, source TEXT, session_id INTEGER,"
                        " module TEXT, operation TEXT, args TEXT, result TEXT, message TEXT,"
                        " files TEXT, rollback_of INTEGER, prev_hash TEXT, hash TEXT);"
                        "INSERT INTO sessions VALUES (3, 'token', printf('%064d', 3), NULL,"
                        " 'alice', 'admin', 'ci', '', 1, 0, 1, 0);"
                        "INSERT INTO sessions VALUES (5, 'session', printf('%064d', 5), NULL,"
                        " 'bootstrap', 'admin', '', '', 1, 0, 1, 0);"
                        "INSERT INTO audit (session_id, module, operation, args) VALUES"
                        " (40, 'system', 'settings', '{}'), (5, 'tokens', 'revoke', '{\"id\": "
                        "\"57\"}'),"
                        " (5, 'tokens', 'revoke', 'not json');"
                        "PRAGMA application_id = 1398036292; PRAGMA user_version = 3;",
                        NULL, NULL, NULL),
                SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(store_open(dir, &s, err, sizeof err), 0);
        {
                sqlite3_stmt *st;
                assert_int_equal(sqlite3_prepare_v2(store_db(s),
                                                    "SELECT expires_at, uid IS NULL FROM sessions"
                                                    " WHERE id = 3",
                                                    -1, &st, NULL),
                                 SQLITE_OK);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_true(sqlite3_column_int64(st, 0) >= now + 7776000 - 60);
                assert_int_equal(sqlite3_column_int(st, 1), 1);
                sqlite3_finalize(st);
        }
        assert_int_equal(
                count_where(s, "SELECT count(*) FROM sessions WHERE id = 5 AND uid = -1", NULL), 1);
        assert_int_equal(sessions_create(s, "token", "alice", ROLE_ADMIN, "t", now + 100, "", 0,
                                         now, &secret, NULL, &x),
                         0);
        assert_true(x.id > 57);
        store_close(s);
        remove_dir(dir);
}

static void count_revoked(const char *user, int64_t uid, int n, void *data) {
        *(int *)data += n;
}

/* authority.h against this machine's accounts: root exists with uid 0 and
 * the admin role (its password may well be locked, so its rows here are
 * "peer" ones, judged by groups alone); "steward-no-such-user" does not.  Rows of a gone account
 * are deleted when presented or swept; a row bound to another uid than the
 * name's now goes; the bootstrap's rows stay; an unbound row is bound. */
static void test_authority(void **state) {
        struct fixture *f = *state;
        static const char *const none[] = {NULL};
        const struct role_map map = {none, none, none};
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *g = NULL;
        struct session sa, sb, sc, sd, sg, x;
        struct authority *au = NULL;
        int revoked = 0, swept = 0;
        int64_t now = (int64_t)time(NULL);

        assert_int_equal(authority_new(&au), 0);
        assert_int_equal(sessions_create(f->s, "peer", "root", ROLE_MONITOR, "", now + 100, "", 0,
                                         now, &a, NULL, &sa),
                         0);
        assert_int_equal(sessions_check(f->s, a, &limits, now, &x), 0);
        assert_int_equal(authority_check(au, f->s, &map, now, &x, &revoked), 0);
        assert_int_equal(x.role, ROLE_MONITOR); /* never raised */
        assert_int_equal(x.uid, 0);             /* bound at its first use */
        assert_int_equal(count_where(f->s, "SELECT count(*) FROM sessions WHERE uid = 0", NULL), 1);

        assert_int_equal(sessions_create(f->s, "peer", "root", ROLE_ADMIN, "", now + 100, "", 0,
                                         now, &b, NULL, &sb),
                         0);
        assert_int_equal(sessions_bind_uid(f->s, sb.id, 4242), 0); /* root was another uid */
        assert_int_equal(sessions_check(f->s, b, &limits, now, &x), 0);
        assert_int_equal(authority_check(au, f->s, &map, now, &x, &revoked), -ENOENT);
        assert_int_equal(revoked, 1);
        assert_int_equal(sessions_check(f->s, a, &limits, now, &x), 0); /* uid 0's stays */

        assert_int_equal(sessions_create(f->s, "session", "steward-no-such-user", ROLE_ADMIN, "", 0,
                                         "", 0, now, &c, NULL, &sc),
                         0);
        assert_int_equal(sessions_check(f->s, c, &limits, now, &x), 0);
        assert_int_equal(authority_check(au, f->s, &map, now, &x, &revoked), -ENOENT);
        assert_int_equal(sessions_check(f->s, c, &limits, now, &x), -ENOENT);

        /* The sweep finds the dead ones nobody presents. */
        assert_int_equal(sessions_create(f->s, "token", "steward-no-such-user", ROLE_ADMIN, "t",
                                         now + 100, "", 0, now, &d, NULL, &sd),
                         0);
        assert_int_equal(sessions_bind_uid(f->s, sd.id, 4243), 0);
        assert_int_equal(sessions_create(f->s, "token", "bootstrap", ROLE_ADMIN, "t", now + 100, "",
                                         0, now, &g, NULL, &sg),
                         0);
        assert_int_equal(sessions_bind_uid(f->s, sg.id, SESSION_UID_NONE), 0);
        assert_int_equal(authority_sweep(au, f->s, &map, now, count_revoked, &swept), 1);
        assert_int_equal(swept, 1);
        assert_int_equal(sessions_check(f->s, d, &limits, now, &x), -ENOENT);
        assert_int_equal(sessions_check(f->s, g, &limits, now, &x), 0);
        assert_int_equal(authority_check(au, f->s, &map, now, &x, &revoked), 0);
        assert_int_equal(x.role, ROLE_ADMIN);
        assert_int_equal(sessions_check(f->s, a, &limits, now, &x), 0);
        authority_free(au);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_check, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expiry_idle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expiry_absolute, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tokens_never_idle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bootstrap_after_admin_session, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
                cmocka_unit_test_setup_teardown(test_csrf_renew, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_tokens, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_logins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_token_role_and_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_purge, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_peers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_file, setup, teardown),
                cmocka_unit_test(test_store_foreign_file),
                cmocka_unit_test_setup_teardown(test_ids_never_reused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_uid_binding_and_revocation, setup, teardown),
                cmocka_unit_test(test_migration_from_v3),
                cmocka_unit_test_setup_teardown(test_authority, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
