/* sqlutil.h — internal to src/helper: what the store's users share.  The
 * mapping of SQLite result codes to -errno (SQLITE_FULL is always -ENOSPC,
 * so a full disk reads as such all the way up), statement cleanup, a
 * transaction that joins the caller's when there is one, and the SHA-256 hex
 * digest under which secrets and audit records are stored. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
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

int sql_prepare(struct store *s, const char *sql, sqlite3_stmt **ret);

/* Steps a query expected to give one row: 0 with the row current, -ENOENT
 * when there is none, -errno on a SQLite error. */
int sql_step_one(sqlite3_stmt *st);
/* Runs statements that return no rows we need. */
int sql_exec(struct store *s, const char *sql);
/* Binds text (copied), or NULL when v is NULL. */
int sql_bind_text(sqlite3_stmt *st, int idx, const char *v);
int sql_bind_int64(sqlite3_stmt *st, int idx, int64_t v);
/* Column text, "" for NULL; valid until the next step. */
const char *sql_column_text(sqlite3_stmt *st, int col);

/* Starts a write transaction unless the caller already holds one; *own says
 * whether tx_end must finish it.  tx_end commits (r >= 0) or rolls back and
 * returns r, or the commit's error. */
int tx_begin(struct store *s, bool *own);
int tx_end(struct store *s, bool own, int r);

/* Lowercase hex SHA-256 of p[0..n) into dst (65 bytes). */
int store_sha256_hex(const void *p, size_t n, char dst[static SHA256_HEX_LEN + 1]);
