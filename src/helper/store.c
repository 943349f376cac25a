/* store.c — see store.h.
 *
 * The database file is created by us, not by SQLite, with open(O_CREAT,
 * 0600) before SQLite sees it: SQLite would create it with 0644 less the
 * umask, and it gives its -wal and -shm files the mode of the main file, so
 * getting the main file right first keeps every file private from the
 * start.  An existing file must be a regular file owned by us; a wider mode
 * is narrowed to 0600.  The state directory must not be writable by anyone
 * else, since whoever can write there can swap the database.
 *
 * Settings of the connection: WAL journal (readers never block the writer),
 * synchronous=FULL (a committed audit record survives a power cut),
 * foreign keys on, a busy timeout, and SQLite's defensive mode (no writes to
 * the schema through SQL, no untrusted schema functions).
 *
 * Migrations: migrations[i] takes the schema from version i to i+1.  They
 * run in one IMMEDIATE transaction together with the version check, so two
 * processes opening a new database cannot both create it.  The file is
 * tagged with an application_id so that another program's SQLite file is
 * refused, not "migrated".
 *
 * A struct store is one connection, used by one thread at a time.  This file
 * builds on sqlutil.c (plain SQLite helpers), which knows nothing of it. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlutil.h"
#include "util.h"

#define STORE_FILE           "steward.db"
#define STORE_APPLICATION_ID 0x53545744 /* "STWD" */
#define STORE_BUSY_TIMEOUT   5000       /* ms */

struct store {
        sqlite3 *db;
};

static const char *const migrations[] = {
        /* 0 → 1 */
        "CREATE TABLE sessions ("
        " id          INTEGER PRIMARY KEY,"
        " kind        TEXT    NOT NULL CHECK (kind IN ('session', 'token', 'bootstrap', 'peer')),"
        " secret_hash TEXT    NOT NULL UNIQUE CHECK (length(secret_hash) = 64),"
        " csrf_hash   TEXT    CHECK (csrf_hash IS NULL OR length(csrf_hash) = 64),"
        " user        TEXT    NOT NULL,"
        " role        TEXT    NOT NULL CHECK (role IN ('monitor', 'operator', 'admin')),"
        " name        TEXT    NOT NULL DEFAULT '',"
        " source      TEXT    NOT NULL DEFAULT '',"
        " created     INTEGER NOT NULL,"
        " expires_at  INTEGER NOT NULL DEFAULT 0,"
        " last_used   INTEGER NOT NULL,"
        " created_by  INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX sessions_user ON sessions (user, kind);"
        "CREATE TABLE audit ("
        " id          INTEGER PRIMARY KEY AUTOINCREMENT,"
        " time        INTEGER NOT NULL,"
        " time_iso    TEXT    NOT NULL,"
        " user        TEXT    NOT NULL,"
        " role        TEXT    NOT NULL,"
        " source      TEXT    NOT NULL,"
        " session_id  INTEGER NOT NULL DEFAULT 0,"
        " module      TEXT    NOT NULL,"
        " operation   TEXT    NOT NULL,"
        " args        TEXT    NOT NULL,"
        " result      TEXT    NOT NULL,"
        " message     TEXT,"
        " files       TEXT    NOT NULL,"
        " rollback_of INTEGER NOT NULL DEFAULT 0,"
        " prev_hash   TEXT    NOT NULL,"
        " hash        TEXT    NOT NULL"
        ");"
        "CREATE INDEX audit_module ON audit (module, id);"
        "CREATE INDEX audit_user ON audit (user, id);",
        /* 1 → 2: the stored tiers of the metrics history (metricsdb.h) */
        "CREATE TABLE metrics_minute ("
        " series TEXT    NOT NULL,"
        " t      INTEGER NOT NULL CHECK (t % 60 = 0),"
        " avg    REAL    NOT NULL,"
        " min    REAL    NOT NULL,"
        " max    REAL    NOT NULL,"
        " n      INTEGER NOT NULL CHECK (n > 0),"
        " PRIMARY KEY (series, t)"
        ") WITHOUT ROWID;"
        "CREATE TABLE metrics_hour ("
        " series TEXT    NOT NULL,"
        " t      INTEGER NOT NULL CHECK (t % 3600 = 0),"
        " avg    REAL    NOT NULL,"
        " min    REAL    NOT NULL,"
        " max    REAL    NOT NULL,"
        " n      INTEGER NOT NULL CHECK (n > 0),"
        " PRIMARY KEY (series, t)"
        ") WITHOUT ROWID;",
        /* 2 → 3: full contents of files shown redacted (images.h) */
        "CREATE TABLE audit_images ("
        " audit_id INTEGER NOT NULL,"
        " path     TEXT    NOT NULL,"
        " before   TEXT,"
        " after    TEXT    NOT NULL,"
        " PRIMARY KEY (audit_id, path)"
        ");",
        /* 3 → 4: authority follows the account (sessions.h).  Ids are never
         * reused: AUTOINCREMENT, its counter started past every id this
         * table or the audit log ever named (a plain rowid table hands the
         * largest freed id out again).  Each row carries its account's uid:
         * NULL for rows from before, bound at their next use; -1 for the
         * bootstrap token and what it made, which belong to no account.
         * Every token expires: one without an expiry gets the default
         * maximum lifetime from now. */
        "CREATE TABLE sessions_v4 ("
        " id          INTEGER PRIMARY KEY AUTOINCREMENT,"
        " kind        TEXT    NOT NULL CHECK (kind IN ('session', 'token', 'bootstrap', 'peer')),"
        " secret_hash TEXT    NOT NULL UNIQUE CHECK (length(secret_hash) = 64),"
        " csrf_hash   TEXT    CHECK (csrf_hash IS NULL OR length(csrf_hash) = 64),"
        " user        TEXT    NOT NULL,"
        " role        TEXT    NOT NULL CHECK (role IN ('monitor', 'operator', 'admin')),"
        " name        TEXT    NOT NULL DEFAULT '',"
        " source      TEXT    NOT NULL DEFAULT '',"
        " created     INTEGER NOT NULL,"
        " expires_at  INTEGER NOT NULL DEFAULT 0,"
        " last_used   INTEGER NOT NULL,"
        " created_by  INTEGER NOT NULL DEFAULT 0,"
        " uid         INTEGER CHECK (uid IS NULL OR uid >= -1)"
        ");"
        "INSERT INTO sessions_v4 (id, kind, secret_hash, csrf_hash, user, role, name, source,"
        " created, expires_at, last_used, created_by, uid)"
        " SELECT id, kind, secret_hash, csrf_hash, user, role, name, source, created,"
        " CASE WHEN kind = 'token' AND expires_at = 0"
        "  THEN CAST(strftime('%s', 'now') AS INTEGER) + 7776000 ELSE expires_at END,"
        " last_used, created_by,"
        " CASE WHEN user = 'bootstrap' THEN -1 ELSE NULL END"
        " FROM sessions;"
        "DROP TABLE sessions;"
        "ALTER TABLE sessions_v4 RENAME TO sessions;"
        "CREATE INDEX sessions_user ON sessions (user, kind);"
        "DELETE FROM sqlite_sequence WHERE name = 'sessions';"
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'sessions', max("
        " (SELECT coalesce(max(id), 0) FROM sessions),"
        " (SELECT coalesce(max(session_id), 0) FROM audit),"
        " (SELECT coalesce(max(CAST(json_extract(args, '$.id') AS INTEGER)), 0) FROM audit"
        "  WHERE module IN ('tokens', 'sessions') AND json_valid(args)));",
        /* 4 → 5: modules' own state and records (modstate.h) */
        "CREATE TABLE module_state ("
        " module  TEXT    NOT NULL,"
        " key     TEXT    NOT NULL,"
        " value   TEXT    NOT NULL,"
        " updated INTEGER NOT NULL,"
        " PRIMARY KEY (module, key)"
        ") WITHOUT ROWID;"
        "CREATE TABLE module_log ("
        " id     INTEGER PRIMARY KEY AUTOINCREMENT,"
        " module TEXT    NOT NULL,"
        " time   INTEGER NOT NULL,"
        " record TEXT    NOT NULL"
        ");"
        "CREATE INDEX module_log_module ON module_log (module, id);",
        /* 5 → 6: the audit forwarder's cursor and state per syslog target
         * (syslogfwd.h) */
        "CREATE TABLE audit_forward ("
        " target     TEXT    PRIMARY KEY,"
        " last_id    INTEGER NOT NULL,"
        " updated    INTEGER NOT NULL,"
        " connected  INTEGER NOT NULL DEFAULT 0,"
        " last_error TEXT"
        ") WITHOUT ROWID;",
};

#define STORE_SCHEMA_VERSION ((int)ELEMENTSOF(migrations))

static void seterr(char *err, size_t err_len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t err_len, const char *fmt, ...) {
        va_list ap;

        if (!err || err_len == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
}

/* Makes sure an existing file of ours is private; creates it when asked. */
static int secure_file(const char *path, bool create, char *err, size_t err_len) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

        fd = open(path, flags | (create ? O_CREAT : 0), 0600);
        if (fd < 0) {
                int r = -errno;
                if (r == -ENOENT && !create)
                        return 0;
                seterr(err, err_len, "cannot open %s: %s", path,
                       r == -ELOOP ? "it is a symbolic link" : strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                seterr(err, err_len, "cannot stat %s: %s", path, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                seterr(err, err_len, "%s is not a regular file", path);
                return -EINVAL;
        }
        if (st.st_uid != geteuid()) {
                seterr(err, err_len, "%s is owned by uid %u, not by us (uid %u)", path,
                       (unsigned)st.st_uid, (unsigned)geteuid());
                return -EPERM;
        }
        if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
                int r = -errno;
                seterr(err, err_len, "cannot make %s private: %s", path, strerror(-r));
                return r;
        }
        return 0;
}

static int check_state_dir(const char *dir, char *err, size_t err_len) {
        struct stat st;

        if (stat(dir, &st) < 0) {
                int r = -errno;
                seterr(err, err_len, "state directory %s: %s", dir, strerror(-r));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                seterr(err, err_len, "state directory %s is not a directory", dir);
                return -ENOTDIR;
        }
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                seterr(err, err_len,
                       "state directory %s must be owned by uid %u and writable by no one else",
                       dir, (unsigned)geteuid());
                return -EPERM;
        }
        return 0;
}

static int pragma_int(struct store *s, const char *sql, int *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        r = sql_prepare(s, sql, &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return sql_fail(rc);
        *ret = sqlite3_column_int(st, 0);
        return 0;
}

static int db_error(struct store *s, int r, const char *what, const char *path, char *err,
                    size_t err_len) {
        int code = sqlite3_errcode(s->db) & 0xff;

        if (r == -ENOSPC)
                seterr(err, err_len, "%s %s: the disk is full", what, path);
        else if (code == SQLITE_NOTADB)
                seterr(err, err_len, "%s %s: not an SQLite database", what, path);
        else
                seterr(err, err_len, "%s %s: %s", what, path, sqlite3_errmsg(s->db));
        return r;
}

static int migrate(struct store *s, const char *path, char *err, size_t err_len) {
        char sql[96];
        int version = 0, app_id = 0, ntables = 0, r;

        r = store_begin(s);
        if (r < 0)
                return db_error(s, r, "cannot read", path, err, err_len);
        r = pragma_int(s, "PRAGMA user_version", &version);
        if (r >= 0)
                r = pragma_int(s, "PRAGMA application_id", &app_id);
        if (r >= 0)
                r = pragma_int(s, "SELECT count(*) FROM sqlite_master", &ntables);
        if (r < 0) {
                db_error(s, r, "cannot read", path, err, err_len);
                goto fail;
        }
        if (app_id != STORE_APPLICATION_ID && (app_id != 0 || version != 0 || ntables != 0)) {
                seterr(err, err_len, "%s is not a steward database", path);
                r = -EINVAL;
                goto fail;
        }
        if (version > STORE_SCHEMA_VERSION) {
                seterr(err, err_len,
                       "%s has schema version %d, newer than this version of steward "
                       "supports (%d); refusing to open it",
                       path, version, STORE_SCHEMA_VERSION);
                r = -EPROTONOSUPPORT;
                goto fail;
        }
        if (version < 0) {
                seterr(err, err_len, "%s has an invalid schema version %d", path, version);
                r = -EINVAL;
                goto fail;
        }
        if (version == STORE_SCHEMA_VERSION) {
                store_rollback(s);
                return 0;
        }
        for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
                r = sql_exec(s, migrations[v]);
                if (r < 0) {
                        db_error(s, r, "cannot migrate", path, err, err_len);
                        goto fail;
                }
        }
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
        r = sql_exec(s, sql);
        if (r >= 0)
                r = store_commit(s);
        if (r < 0) {
                db_error(s, r, "cannot migrate", path, err, err_len);
                goto fail;
        }
        return 0;
fail:
        store_rollback(s);
        return r;
}

static int configure(struct store *s, const char *path, char *err, size_t err_len) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *mode;
        int r, rc;

        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT);
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
#endif

        r = sql_prepare(s, "PRAGMA journal_mode = WAL", &st);
        if (r < 0)
                return db_error(s, r, "cannot open", path, err, err_len);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return db_error(s, sql_fail(rc), "cannot open", path, err, err_len);
        mode = sql_column_text(st, 0);
        if (strcmp(mode, "wal") != 0) {
                seterr(err, err_len, "cannot use a write-ahead log for %s (journal mode %s)", path,
                       mode);
                return -EIO;
        }
        r = sql_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
        if (r < 0)
                return db_error(s, r, "cannot configure", path, err, err_len);
        return 0;
}

int store_open(const char *state_dir, struct store **ret, char *err, size_t err_len) {
        static const char *const sidecars[] = {"-wal", "-shm", "-journal"};
        _cleanup_free_ char *path = NULL;
        struct store *s;
        int r, rc, n;

        if (!state_dir || !*state_dir || !ret) {
                seterr(err, err_len, "no state directory");
                return -EINVAL;
        }
        n = asprintf(&path, "%s/%s", state_dir, STORE_FILE);
        if (n < 0) {
                path = NULL;
                seterr(err, err_len, "out of memory");
                return -ENOMEM;
        }
        if ((size_t)n + sizeof "-journal" > PATH_MAX) {
                seterr(err, err_len, "state directory path too long");
                return -ENAMETOOLONG;
        }
        r = check_state_dir(state_dir, err, err_len);
        if (r < 0)
                return r;
        /* The descriptors are closed again before SQLite opens the file:
         * closing any descriptor of a file drops the process's POSIX locks on
         * it, SQLite's included. */
        r = secure_file(path, true, err, err_len);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(sidecars); i++) {
                _cleanup_free_ char *side = NULL;
                if (asprintf(&side, "%s%s", path, sidecars[i]) < 0) {
                        side = NULL;
                        seterr(err, err_len, "out of memory");
                        return -ENOMEM;
                }
                r = secure_file(side, false, err, err_len);
                if (r < 0)
                        return r;
        }

        s = calloc(1, sizeof *s);
        if (!s) {
                seterr(err, err_len, "out of memory");
                return -ENOMEM;
        }
        rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX
#ifdef SQLITE_OPEN_NOFOLLOW
                                     | SQLITE_OPEN_NOFOLLOW
#endif
                             ,
                             NULL);
        if (rc != SQLITE_OK) {
                r = sql_fail(rc);
                seterr(err, err_len, "cannot open %s: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
                store_close(s);
                return r;
        }
        r = configure(s, path, err, err_len);
        if (r >= 0)
                r = migrate(s, path, err, err_len);
        if (r < 0) {
                store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

void store_close(struct store *s) {
        if (!s)
                return;
        sqlite3_close_v2(s->db); /* accepts NULL */
        free(s);
}

sqlite3 *store_db(struct store *s) {
        return s->db;
}

int sql_prepare(struct store *s, const char *sql, sqlite3_stmt **ret) {
        return sql_prepare_db(s->db, sql, ret);
}

int sql_exec(struct store *s, const char *sql) {
        return sql_exec_db(s->db, sql);
}

int store_begin(struct store *s) {
        return sql_exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s) {
        return sql_exec(s, "COMMIT");
}

void store_rollback(struct store *s) {
        if (!sqlite3_get_autocommit(s->db))
                (void)sql_exec(s, "ROLLBACK");
}

int tx_begin(struct store *s, bool *own) {
        int r;

        if (!sqlite3_get_autocommit(s->db)) {
                *own = false;
                return 0;
        }
        r = store_begin(s);
        if (r < 0)
                return r;
        *own = true;
        return 0;
}

int tx_end(struct store *s, bool own, int r) {
        int k;

        if (!own)
                return r;
        if (r < 0) {
                store_rollback(s);
                return r;
        }
        k = store_commit(s);
        if (k < 0) {
                store_rollback(s);
                return k;
        }
        return r;
}
