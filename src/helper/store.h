/* store.h — the helper's persistent state: one SQLite database,
 * STATE_DIR/steward.db (mode 0600, owned by root, WAL journal), holding
 * sessions and API tokens (hashed), the audit log and the stored tiers of
 * the metrics history.  Only the privileged
 * helper opens it; the network front never sees the file.
 *
 * The schema is versioned with PRAGMA user_version and migrated forward on
 * open; a database from a newer version is refused rather than guessed at. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct store;

/* Opens (creating if needed) STATE_DIR/steward.db.  On failure fills err. */
int store_open(const char *state_dir, struct store **ret, char *err, size_t err_len);
void store_close(struct store *s);
sqlite3 *store_db(struct store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK helpers; return -EIO on SQLite errors
 * (-ENOSPC when the disk is full). */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* sql_prepare_db()/sql_exec_db() (sqlutil.h) on the store's connection. */
int sql_prepare(struct store *s, const char *sql, sqlite3_stmt **ret);
int sql_exec(struct store *s, const char *sql);

/* Starts a write transaction unless the caller already holds one; *own says
 * whether tx_end must finish it.  tx_end commits (r >= 0) or rolls back and
 * returns r, or the commit's error. */
int tx_begin(struct store *s, bool *own);
int tx_end(struct store *s, bool own, int r);
