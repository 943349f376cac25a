/* sqlutil.h — internal to src/helper: plain SQLite helpers on a connection
 * and its statements.  The mapping of SQLite result codes to -errno
 * (SQLITE_FULL is always -ENOSPC, so a full disk reads as such all the way
 * up), statement cleanup, binding and reading, and the SHA-256 hex digest
 * under which secrets and audit records are stored.
 *
 * The lowest layer of the state: it knows nothing of struct store.  store.h
 * builds on it (the connection, transactions, and sql_prepare/sql_exec on a
 * store), never the other way round. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SHA256_HEX_LEN 64

/* 0 for SQLITE_OK/ROW/DONE; -ENOSPC full; -ENOMEM; -E2BIG too big;
 * -EEXIST constraint; anything else -EIO. */
int sql_errno(int rc);
/* The same for a call known to have failed: never 0. */
int sql_fail(int rc);

static inline void sql_finalizep(sqlite3_stmt **st) {
        sqlite3_finalize(*st); /* accepts NULL */
}
#define _cleanup_stmt_ _cleanup_(sql_finalizep)

int sql_prepare_db(sqlite3 *db, const char *sql, sqlite3_stmt **ret);

/* Steps a query expected to give one row: 0 with the row current, -ENOENT
 * when there is none, -errno on a SQLite error. */
int sql_step_one(sqlite3_stmt *st);
/* Runs statements that return no rows we need. */
int sql_exec_db(sqlite3 *db, const char *sql);
/* Binds text (copied), or NULL when v is NULL. */
int sql_bind_text(sqlite3_stmt *st, int idx, const char *v);
int sql_bind_int64(sqlite3_stmt *st, int idx, int64_t v);
/* Column text, "" for NULL; valid until the next step. */
const char *sql_column_text(sqlite3_stmt *st, int col);

/* Lowercase hex SHA-256 of p[0..n) into dst (65 bytes). */
int store_sha256_hex(const void *p, size_t n, char dst[static SHA256_HEX_LEN + 1]);
