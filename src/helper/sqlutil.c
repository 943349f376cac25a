/* sqlutil.c — see sqlutil.h.  Nothing here logs: callers report errors once,
 * with their context. */
#include "sqlutil.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdint.h>

int sql_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        default:
                return -EIO;
        }
}

int sql_fail(int rc) {
        int r = sql_errno(rc);
        return r < 0 ? r : -EIO;
}

int sql_step_one(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 0;
        return rc == SQLITE_DONE ? -ENOENT : sql_fail(rc);
}

int sql_prepare_db(sqlite3 *db, const char *sql, sqlite3_stmt **ret) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK) {
                sqlite3_finalize(st);
                return sql_fail(rc);
        }
        *ret = st;
        return 0;
}

int sql_exec_db(sqlite3 *db, const char *sql) {
        return sql_errno(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

int sql_bind_text(sqlite3_stmt *st, int idx, const char *v) {
        int rc = v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, idx);
        return rc == SQLITE_OK ? 0 : sql_fail(rc);
}

int sql_bind_int64(sqlite3_stmt *st, int idx, int64_t v) {
        int rc = sqlite3_bind_int64(st, idx, v);
        return rc == SQLITE_OK ? 0 : sql_fail(rc);
}

const char *sql_column_text(sqlite3_stmt *st, int col) {
        const unsigned char *t = sqlite3_column_text(st, col);
        return t ? (const char *)t : "";
}

int store_sha256_hex(const void *p, size_t n, char dst[static SHA256_HEX_LEN + 1]) {
        uint8_t d[32];

        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, d) < 0)
                return -EIO;
        hex_encode(d, sizeof d, dst);
        return 0;
}
