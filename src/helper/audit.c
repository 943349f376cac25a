/* audit.c — see audit.h.
 *
 * The chain.  A record's canonical form is the JSON object
 *   {"args", "files", "id", "message", "module", "operation", "prev_hash",
 *    "result", "role", "rollback_of", "session_id", "source", "time", "user"}
 * ("time" in unix seconds, "message" null when there is none, "rollback_of"
 * and "session_id" 0 when there is none) dumped by jansson with
 * JSON_COMPACT | JSON_SORT_KEYS (keys sorted at every level), and
 *   hash = lowercase hex SHA-256 of  prev_hash "\n" canonical
 * where prev_hash is the previous record's hash, or 64 zeros for the first.
 * "args" and "files" are stored in their canonical dump, so parsing and
 * dumping them again reproduces the hashed bytes exactly.  time_iso is only
 * a convenience for people reading the table by hand: it is derived from
 * "time", not hashed, and never read back.
 *
 * Ids come from AUTOINCREMENT and are assigned inside the append's
 * transaction, so they run 1, 2, 3… with no gaps (a rolled-back append
 * rolls the sequence back too).  audit_verify() therefore also treats a gap
 * in the ids as a break: that catches the removal of the newest records
 * once another record has been appended after them.  Removing only the
 * newest records, with nothing after them, cannot be seen from the table
 * alone; comparing the "head" that verify reports with a copy kept
 * elsewhere (the records forwarded to syslog, say) can.
 *
 * What a record may hold is bounded: each text field, the number of files,
 * and the whole canonical form (AUDIT_RECORD_MAX).  Text that is not valid
 * UTF-8 is made so ('?') rather than refused, and an over-long message is
 * cut: losing the record of a change would be worse than a mangled byte.
 *
 * Files: audit_append() copies each entry, checks the types of the fields it
 * knows (path, type, before, after, diff, redacted; others are kept as
 * given), computes "diff" when absent, and, when "redacted" is true, stores
 * "[redacted]" in place of before, after and diff whatever the caller
 * passed. */
#include "audit.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diff.h"
#include "sqlutil.h"
#include "util.h"

#define AUDIT_TEXT_MAX    1024 /* user, role, source, module, operation */
#define AUDIT_MESSAGE_MAX 4096
#define AUDIT_FILES_MAX   256
#define AUDIT_RECORD_MAX  (64u << 20)
#define AUDIT_LIST_MAX    500
#define AUDIT_AFTER_BYTES (4u << 20) /* audit_list_after: stored JSON in one answer */
#define REDACT_DEPTH_MAX  64
#define AUDIT_TIME_MAX    INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define REDACTED          "[redacted]"
#define JSON_CANON        (JSON_COMPACT | JSON_SORT_KEYS)

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

#define AUDIT_COLUMNS                                                                              \
        "id, time, user, role, source, session_id, module, operation, args, result, message,"      \
        " files, rollback_of, prev_hash, hash"
enum {
        COL_ID,
        COL_TIME,
        COL_USER,
        COL_ROLE,
        COL_SOURCE,
        COL_SESSION_ID,
        COL_MODULE,
        COL_OPERATION,
        COL_ARGS,
        COL_RESULT,
        COL_MESSAGE,
        COL_FILES,
        COL_ROLLBACK_OF,
        COL_PREV_HASH,
        COL_HASH,
};

#define _cleanup_json_ _cleanup_(json_decrefp) /* jansson's, accepts NULL */

static void (*appended_hook)(void);

/* ---- redaction ---- */

static bool key_is_secret(const char *key) {
        static const char *const words[] = {"password",    "passwd",  "secret", "token",
                                            "private_key", "key_pem", "hash"};

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasestr(key, words[i]))
                        return true;
        return false;
}

static json_t *redacted_value(void) {
        json_t *v = json_string(REDACTED);
        return v ? v : json_null(); /* never leave the secret in place */
}

static void redact(json_t *v, unsigned depth) {
        if (json_is_object(v)) {
                for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                        json_t *val = json_object_iter_value(it);
                        if (key_is_secret(json_object_iter_key(it)) ||
                            ((json_is_object(val) || json_is_array(val)) &&
                             depth >= REDACT_DEPTH_MAX))
                                json_object_iter_set_new(v, it, redacted_value());
                        else
                                redact(val, depth + 1);
                }
        } else if (json_is_array(v)) {
                for (size_t i = 0; i < json_array_size(v); i++) {
                        json_t *val = json_array_get(v, i);
                        if ((json_is_object(val) || json_is_array(val)) &&
                            depth >= REDACT_DEPTH_MAX)
                                json_array_set_new(v, i, redacted_value());
                        else
                                redact(val, depth + 1);
                }
        }
}

void audit_redact(json_t *v) {
        redact(v, 0);
}

/* ---- helpers ---- */

static int iso_time(int64_t t, char out[static 32]) {
        struct tm tm;
        time_t tt = (time_t)t;

        if (t < 0 || t > AUDIT_TIME_MAX || !gmtime_r(&tt, &tm))
                return -EINVAL;
        if (strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;
        return 0;
}

/* A JSON string from text that may have been edited by hand: invalid UTF-8
 * is shown with '?' rather than failing the whole answer. */
static json_t *json_text(const char *s) {
        json_t *v;
        char *c;

        if (utf8_valid(s, strlen(s)))
                return json_string(s);
        c = strdup(s);
        if (!c)
                return NULL;
        utf8_sanitize(c);
        v = json_string(c);
        free(c);
        return v;
}

/* Copies an entry's text field, bounded; see the top of the file. */
static int text_copy(const char *s, size_t max, bool cut, char **ret) {
        size_t n;
        char *c;

        if (!s)
                return -EINVAL;
        n = strnlen(s, max + 1);
        if (n > max) {
                if (!cut)
                        return -EINVAL;
                n = max;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        c = strndup(s, n);
        if (!c)
                return -ENOMEM;
        if (!utf8_valid(c, n))
                utf8_sanitize(c);
        *ret = c;
        return 0;
}

static bool is_string_or_null(json_t *v) {
        return !v || json_is_string(v) || json_is_null(v);
}

/* A checked, normalised copy of one file entry. */
static int file_normalize(json_t *f, json_t **ret) {
        _cleanup_json_ json_t *c = NULL;
        json_t *path, *type, *before, *after, *diff, *red;
        const char *t;

        if (!json_is_object(f))
                return -EINVAL;
        c = json_deep_copy(f);
        if (!c)
                return -ENOMEM;
        path = json_object_get(c, "path");
        type = json_object_get(c, "type");
        before = json_object_get(c, "before");
        after = json_object_get(c, "after");
        diff = json_object_get(c, "diff");
        red = json_object_get(c, "redacted");
        if (!json_is_string(path) || json_string_length(path) == 0)
                return -EINVAL;
        if (type) {
                t = json_string_value(type);
                if (!t || !(STREQ(t, "file") || STREQ(t, "symlink") || STREQ(t, "absent")))
                        return -EINVAL;
        }
        if (!is_string_or_null(before) || !is_string_or_null(after) ||
            (diff && !json_is_string(diff)) || (red && !json_is_boolean(red)))
                return -EINVAL;

        if (json_is_true(red)) {
                if (json_is_string(before) && json_object_set_new(c, "before", redacted_value()))
                        return -ENOMEM;
                if (json_is_string(after) && json_object_set_new(c, "after", redacted_value()))
                        return -ENOMEM;
                if (json_object_set_new(c, "diff", redacted_value()) < 0)
                        return -ENOMEM;
        } else if (!diff) {
                _cleanup_free_ char *d = NULL;
                const char *b = json_is_string(before) ? json_string_value(before) : "";
                const char *a = json_is_string(after) ? json_string_value(after) : "";
                size_t bl = json_is_string(before) ? json_string_length(before) : 0;
                size_t al = json_is_string(after) ? json_string_length(after) : 0;
                int r = diff_unified(json_string_value(path), b, bl, a, al, &d);
                if (r < 0)
                        return r;
                if (json_object_set_new(c, "diff", json_text(d)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static int files_normalize(json_t *in, json_t **ret) {
        _cleanup_json_ json_t *out = json_array();
        size_t i;
        json_t *f;

        if (!out)
                return -ENOMEM;
        if (!in) {
                *ret = TAKE_PTR(out);
                return 0;
        }
        if (!json_is_array(in))
                return -EINVAL;
        if (json_array_size(in) > AUDIT_FILES_MAX)
                return -E2BIG;
        json_array_foreach(in, i, f) {
                json_t *c;
                int r = file_normalize(f, &c);
                if (r < 0)
                        return r;
                if (json_array_append_new(out, c) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

struct record {
        int64_t id, time, session_id, rollback_of;
        const char *user, *role, *source, *module, *operation, *result, *message, *prev_hash;
        json_t *args, *files;
        const char *hash; /* the stored hash of a row read back; not part of what is hashed */
};

/* SHA-256 of prev_hash "\n" canonical-JSON(record). */
static int record_hash(const struct record *rec, char out[static SHA256_HEX_LEN + 1]) {
        _cleanup_json_ json_t *canon = NULL;
        _cleanup_free_ char *text = NULL;
        gnutls_hash_hd_t h;
        uint8_t digest[32];
        size_t len;

        canon = json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:O, s:s, s:s?, s:O, s:I, s:s}",
                          /* "time": a field, not the module */
                          "id", (json_int_t)rec->id, "time", (json_int_t)rec->time, "user",
                          rec->user, "role", rec->role, "source", rec->source, "session_id",
                          (json_int_t)rec->session_id, "module", rec->module, "operation",
                          rec->operation, "args", rec->args, "result", rec->result, "message",
                          rec->message, "files", rec->files, "rollback_of",
                          (json_int_t)rec->rollback_of, "prev_hash", rec->prev_hash);
        if (!canon)
                return -EINVAL; /* text that is not UTF-8, or out of memory */
        text = json_dumps(canon, JSON_CANON);
        if (!text)
                return -ENOMEM;
        len = strlen(text);
        if (len > AUDIT_RECORD_MAX)
                return -E2BIG;
        if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
                return -EIO;
        if (gnutls_hash(h, rec->prev_hash, strlen(rec->prev_hash)) < 0 ||
            gnutls_hash(h, "\n", 1) < 0 || gnutls_hash(h, text, len) < 0) {
                gnutls_hash_deinit(h, NULL);
                return -EIO;
        }
        gnutls_hash_deinit(h, digest);
        hex_encode(digest, sizeof digest, out);
        return 0;
}

/* ---- append ---- */

/* The newest record's id and hash (zeros before the first), and the next id
 * AUTOINCREMENT will hand out. */
static int chain_head(struct store *s, int64_t *ret_next, char **ret_prev) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *prev = NULL;
        int64_t last = 0, seq = 0;
        int r, rc;

        r = sql_prepare(s, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                last = sqlite3_column_int64(st, 0);
                prev = strdup(sql_column_text(st, 1));
        } else if (rc == SQLITE_DONE)
                prev = strdup(zero_hash);
        else
                return sql_fail(rc);
        if (!prev)
                return -ENOMEM;
        sqlite3_finalize(TAKE_PTR(st));

        r = sql_prepare(s, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'", &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                seq = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
                return sql_fail(rc);
        if (seq > last)
                last = seq;
        if (last == INT64_MAX)
                return -EOVERFLOW;
        *ret_next = last + 1;
        *ret_prev = TAKE_PTR(prev);
        return 0;
}

static int record_exists(struct store *s, int64_t id) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_prepare(s, "SELECT 1 FROM audit WHERE id = ?1", &st);
        if (r >= 0)
                r = sql_bind_int64(st, 1, id);
        if (r < 0)
                return r;
        return sql_step_one(st);
}

static int insert_record(struct store *s, const struct record *rec, const char *time_iso,
                         const char *args_text, const char *files_text, const char *hash) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc;

        r = sql_prepare(s,
                        "INSERT INTO audit (id, time, time_iso, user, role, source, session_id,"
                        " module, operation, args, result, message, files, rollback_of,"
                        " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                        " ?11, ?12, ?13, ?14, ?15, ?16)",
                        &st);
        if (r >= 0)
                r = sql_bind_int64(st, 1, rec->id);
        if (r >= 0)
                r = sql_bind_int64(st, 2, rec->time);
        if (r >= 0)
                r = sql_bind_text(st, 3, time_iso);
        if (r >= 0)
                r = sql_bind_text(st, 4, rec->user);
        if (r >= 0)
                r = sql_bind_text(st, 5, rec->role);
        if (r >= 0)
                r = sql_bind_text(st, 6, rec->source);
        if (r >= 0)
                r = sql_bind_int64(st, 7, rec->session_id);
        if (r >= 0)
                r = sql_bind_text(st, 8, rec->module);
        if (r >= 0)
                r = sql_bind_text(st, 9, rec->operation);
        if (r >= 0)
                r = sql_bind_text(st, 10, args_text);
        if (r >= 0)
                r = sql_bind_text(st, 11, rec->result);
        if (r >= 0)
                r = sql_bind_text(st, 12, rec->message);
        if (r >= 0)
                r = sql_bind_text(st, 13, files_text);
        if (r >= 0)
                r = sql_bind_int64(st, 14, rec->rollback_of);
        if (r >= 0)
                r = sql_bind_text(st, 15, rec->prev_hash);
        if (r >= 0)
                r = sql_bind_text(st, 16, hash);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : sql_fail(rc);
}

int audit_append(struct store *s, const struct audit_entry *e, int64_t now, int64_t *ret_id) {
        _cleanup_free_ char *user = NULL, *role = NULL, *source = NULL, *module = NULL,
                            *operation = NULL, *message = NULL, *prev = NULL, *args_text = NULL,
                            *files_text = NULL;
        _cleanup_json_ json_t *args = NULL, *files = NULL;
        char hash[SHA256_HEX_LEN + 1], time_iso[32];
        struct record rec = {};
        bool own;
        int r;

        if (!s || !e || e->session_id < 0 || e->rollback_of < 0)
                return -EINVAL;
        if (!e->result ||
            !(STREQ(e->result, "ok") || STREQ(e->result, "error") || STREQ(e->result, "refused")))
                return -EINVAL;
        if (e->args && !json_is_object(e->args))
                return -EINVAL;
        r = iso_time(now, time_iso);
        if (r < 0)
                return r;
        if ((r = text_copy(e->user, AUDIT_TEXT_MAX, false, &user)) < 0 ||
            (r = text_copy(e->role, AUDIT_TEXT_MAX, false, &role)) < 0 ||
            (r = text_copy(e->source, AUDIT_TEXT_MAX, false, &source)) < 0 ||
            (r = text_copy(e->module, AUDIT_TEXT_MAX, false, &module)) < 0 ||
            (r = text_copy(e->operation, AUDIT_TEXT_MAX, false, &operation)) < 0 ||
            (e->message && (r = text_copy(e->message, AUDIT_MESSAGE_MAX, true, &message)) < 0))
                return r;

        args = e->args ? json_deep_copy(e->args) : json_object();
        if (!args)
                return -ENOMEM;
        audit_redact(args);
        r = files_normalize(e->files, &files);
        if (r < 0)
                return r;
        args_text = json_dumps(args, JSON_CANON);
        files_text = json_dumps(files, JSON_CANON);
        if (!args_text || !files_text)
                return -EINVAL; /* strings that are not UTF-8, or out of memory */
        if (strlen(args_text) + strlen(files_text) > AUDIT_RECORD_MAX)
                return -E2BIG;

        r = tx_begin(s, &own);
        if (r < 0)
                return r;
        r = chain_head(s, &rec.id, &prev);
        if (r >= 0 && e->rollback_of != 0)
                r = record_exists(s, e->rollback_of);
        if (r >= 0) {
                rec = (struct record){
                        .id = rec.id,
                        .time = now,
                        .session_id = e->session_id,
                        .rollback_of = e->rollback_of,
                        .user = user,
                        .role = role,
                        .source = source,
                        .module = module,
                        .operation = operation,
                        .result = e->result,
                        .message = message,
                        .prev_hash = prev,
                        .args = args,
                        .files = files,
                };
                r = record_hash(&rec, hash);
        }
        if (r >= 0)
                r = insert_record(s, &rec, time_iso, args_text, files_text, hash);
        r = tx_end(s, own, r);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = rec.id;
        if (appended_hook && own) /* else the caller's commit is still to come */
                appended_hook();
        return 0;
}

void audit_set_appended_hook(void (*fn)(void)) {
        appended_hook = fn;
}

/* ---- reading ---- */

static json_t *load_json(sqlite3_stmt *st, int col) {
        const char *t = (const char *)sqlite3_column_text(st, col);
        return t ? json_loads(t, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL) : NULL;
}

/* A row's columns (AUDIT_COLUMNS) as stored: the one place that knows
 * which column holds what.  The strings point into st and last until its
 * next step; a NULL text column reads as "", except message, which stays
 * NULL.  args and files are left NULL: parsing them is the caller's choice,
 * and the caller owns what it parses. */
static void record_from_row(sqlite3_stmt *st, struct record *ret) {
        *ret = (struct record){
                .id = sqlite3_column_int64(st, COL_ID),
                .time = sqlite3_column_int64(st, COL_TIME),
                .session_id = sqlite3_column_int64(st, COL_SESSION_ID),
                .rollback_of = sqlite3_column_int64(st, COL_ROLLBACK_OF),
                .user = sql_column_text(st, COL_USER),
                .role = sql_column_text(st, COL_ROLE),
                .source = sql_column_text(st, COL_SOURCE),
                .module = sql_column_text(st, COL_MODULE),
                .operation = sql_column_text(st, COL_OPERATION),
                .result = sql_column_text(st, COL_RESULT),
                .message = (const char *)sqlite3_column_text(st, COL_MESSAGE),
                .prev_hash = sql_column_text(st, COL_PREV_HASH),
                .hash = sql_column_text(st, COL_HASH),
        };
}

/* The list form of the files: path and diff only. */
static json_t *files_summary(json_t *files) {
        json_t *out = json_array(), *f;
        size_t i;

        if (!out)
                return NULL;
        json_array_foreach(files, i, f) {
                json_t *o = json_object();
                json_t *path = json_object_get(f, "path"), *diff = json_object_get(f, "diff");
                if (!o || json_array_append_new(out, o) < 0) {
                        json_decref(o);
                        json_decref(out);
                        return NULL;
                }
                if (json_object_set(o, "path", path ? path : json_null()) < 0 ||
                    json_object_set(o, "diff", diff ? diff : json_null()) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

/* One row as the API shows it; full adds each file's contents. */
static int record_json(sqlite3_stmt *st, bool full, json_t **ret) {
        _cleanup_json_ json_t *o = NULL, *files = NULL;
        json_t *args, *fv;
        struct record rec;
        char iso[32];

        record_from_row(st, &rec);
        if (iso_time(rec.time, iso) < 0)
                iso[0] = '\0';
        o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "id",
                      /* "time": a field, not the module */
                      (json_int_t)rec.id, "time", iso, "user", json_text(rec.user), "role",
                      json_text(rec.role), "source", json_text(rec.source), "session_id",
                      (json_int_t)rec.session_id, "module", json_text(rec.module), "operation",
                      json_text(rec.operation), "result", json_text(rec.result), "message",
                      rec.message ? json_text(rec.message) : json_null(), "rollback_of",
                      (json_int_t)rec.rollback_of, "hash", json_text(rec.hash), "prev_hash",
                      json_text(rec.prev_hash));
        if (!o)
                return -ENOMEM;
        /* A row whose JSON was damaged by hand still lists, with nulls;
         * audit_verify says what is wrong with it. */
        args = load_json(st, COL_ARGS);
        if (json_object_set_new(o, "args", args ? args : json_null()) < 0)
                return -ENOMEM;
        files = load_json(st, COL_FILES);
        if (!json_is_array(files))
                fv = json_array();
        else if (full)
                fv = json_incref(files);
        else
                fv = files_summary(files);
        if (!fv || json_object_set_new(o, "files", fv) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

int audit_list(struct store *s, int64_t before_id, unsigned limit, const char *module,
               const char *user, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_json_ json_t *root = NULL;
        json_t *records;
        struct buf sql;
        int64_t last_id = 0;
        unsigned n = 0;
        int r, rc;

        if (!s || !ret || before_id < 0 || limit < 1 || limit > AUDIT_LIST_MAX)
                return -EINVAL;

        /* Only fixed fragments go into the SQL; the values are bound. */
        buf_init(&sql, 1024);
        r = buf_puts(&sql, "SELECT " AUDIT_COLUMNS " FROM audit WHERE id < :before");
        if (r >= 0 && module)
                r = buf_puts(&sql, " AND module = :module");
        if (r >= 0 && user)
                r = buf_puts(&sql, " AND user = :user");
        if (r >= 0)
                r = buf_puts(&sql, " ORDER BY id DESC LIMIT :limit");
        if (r >= 0)
                r = sql_prepare(s, sql.data, &st);
        buf_free(&sql);
        if (r < 0)
                return r;
        r = sql_bind_int64(st, sqlite3_bind_parameter_index(st, ":before"),
                           before_id ? before_id : INT64_MAX);
        if (r >= 0 && module)
                r = sql_bind_text(st, sqlite3_bind_parameter_index(st, ":module"), module);
        if (r >= 0 && user)
                r = sql_bind_text(st, sqlite3_bind_parameter_index(st, ":user"), user);
        if (r >= 0) /* one more than asked, to know whether there is a next page */
                r = sql_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
                                   (int64_t)limit + 1);
        if (r < 0)
                return r;

        root = json_object();
        records = json_array();
        if (!root || !records || json_object_set_new(root, "records", records) < 0)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *rec;
                if (n == limit) {
                        char next[24];
                        snprintf(next, sizeof next, "%lld", (long long)last_id);
                        if (json_object_set_new(root, "next", json_string(next)) < 0)
                                return -ENOMEM;
                        rc = SQLITE_DONE;
                        break;
                }
                r = record_json(st, false, &rec);
                if (r < 0)
                        return r;
                if (json_array_append_new(records, rec) < 0)
                        return -ENOMEM;
                last_id = sqlite3_column_int64(st, COL_ID);
                n++;
        }
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        *ret = TAKE_PTR(root);
        return 0;
}

/* The records after after_id, in order, at most limit of them. */
static int prepare_after(struct store *s, int64_t after_id, unsigned limit, sqlite3_stmt **ret) {
        int r = sql_prepare(s, "SELECT " AUDIT_COLUMNS " FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
                            ret);
        if (r >= 0)
                r = sql_bind_int64(*ret, 1, after_id);
        if (r >= 0)
                r = sql_bind_int64(*ret, 2, limit);
        return r;
}

int audit_list_after(struct store *s, int64_t after_id, unsigned limit, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_json_ json_t *records = NULL;
        size_t bytes = 0;
        int r, rc;

        if (!s || !ret || after_id < 0 || limit < 1 || limit > AUDIT_LIST_MAX)
                return -EINVAL;
        r = prepare_after(s, after_id, limit, &st);
        if (r < 0)
                return r;
        records = json_array();
        if (!records)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *rec;
                /* The whole answer must fit in one helper frame. */
                bytes += (size_t)sqlite3_column_bytes(st, COL_ARGS) +
                         (size_t)sqlite3_column_bytes(st, COL_MESSAGE) +
                         (size_t)sqlite3_column_bytes(st, COL_FILES);
                if (json_array_size(records) > 0 && bytes > AUDIT_AFTER_BYTES)
                        break;
                r = record_json(st, false, &rec);
                if (r < 0)
                        return r;
                if (json_array_append_new(records, rec) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return sql_fail(rc);
        *ret = TAKE_PTR(records);
        return 0;
}

int audit_each_after(struct store *s, int64_t after_id, unsigned limit, audit_brief_fn fn,
                     void *data) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r, rc, n = 0;

        if (!s || !fn || after_id < 0 || limit < 1 || limit > AUDIT_LIST_MAX)
                return -EINVAL;
        r = prepare_after(s, after_id, limit, &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                _cleanup_json_ json_t *args = load_json(st, COL_ARGS);
                struct record rec;
                record_from_row(st, &rec);
                const struct audit_brief b = {
                        .id = rec.id,
                        .time = rec.time,
                        .user = rec.user,
                        .role = rec.role,
                        .source = rec.source,
                        .module = rec.module,
                        .operation = rec.operation,
                        .result = rec.result,
                        .message = rec.message,
                        .hash = rec.hash,
                        .prev_hash = rec.prev_hash,
                        .args = args,
                };
                r = fn(&b, data);
                if (r < 0)
                        return r;
                n++;
        }
        if (rc != SQLITE_DONE)
                return sql_fail(rc);
        return n;
}

int audit_head(struct store *s, int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_prepare(s, "SELECT coalesce(max(id), 0) FROM audit", &st);
        if (r >= 0)
                r = sql_step_one(st);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

int audit_get(struct store *s, int64_t id, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (!s || !ret)
                return -EINVAL;
        if (id <= 0)
                return -ENOENT;
        r = sql_prepare(s, "SELECT " AUDIT_COLUMNS " FROM audit WHERE id = ?1", &st);
        if (r >= 0)
                r = sql_bind_int64(st, 1, id);
        if (r < 0)
                return r;
        r = sql_step_one(st);
        if (r < 0)
                return r;
        return record_json(st, true, ret);
}

/* ---- verification ---- */

/* Checks one row against the chain so far; on a break fills msg. */
static int verify_row(sqlite3_stmt *st, int64_t expect_id, const char *prev, char *msg,
                      size_t msg_len) {
        _cleanup_json_ json_t *args = NULL, *files = NULL;
        char hash[SHA256_HEX_LEN + 1];
        struct record rec;
        long long id;
        int r;

        record_from_row(st, &rec);
        id = rec.id;

        if (id != expect_id) {
                if (id == expect_id + 1)
                        snprintf(msg, msg_len, "record %lld: record %lld is missing", id,
                                 (long long)expect_id);
                else
                        snprintf(msg, msg_len, "record %lld: records %lld to %lld are missing", id,
                                 (long long)expect_id, id - 1);
                return 1;
        }
        if (!STREQ(rec.prev_hash, prev)) {
                snprintf(msg, msg_len,
                         "record %lld: prev_hash does not match the hash of the record before "
                         "it (that record was changed or removed)",
                         id);
                return 1;
        }
        args = load_json(st, COL_ARGS);
        files = load_json(st, COL_FILES);
        if (!args || !files) {
                snprintf(msg, msg_len, "record %lld: its %s are not valid JSON", id,
                         !args ? "args" : "files");
                return 1;
        }
        rec.args = args;
        rec.files = files;
        r = record_hash(&rec, hash);
        if (r == -ENOMEM || r == -EIO)
                return r;
        if (r < 0 || !STREQ(hash, rec.hash)) {
                snprintf(msg, msg_len, "record %lld: its contents do not match its hash", id);
                return 1;
        }
        return 0;
}

int audit_verify(struct store *s, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char prev[SHA256_HEX_LEN + 1], msg[256];
        int64_t count = 0, expect_id = 1, broken = 0;
        json_t *o;
        bool own = false;
        int r, rc;

        if (!s || !ret)
                return -EINVAL;
        /* One read transaction: the count and the walk see the same rows. */
        if (sqlite3_get_autocommit(store_db(s))) {
                r = sql_exec(s, "BEGIN");
                if (r < 0)
                        return r;
                own = true;
        }
        r = sql_prepare(s, "SELECT count(*) FROM audit", &st);
        if (r >= 0) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        count = sqlite3_column_int64(st, 0);
                else
                        r = sql_fail(rc);
                sqlite3_finalize(TAKE_PTR(st));
        }
        if (r >= 0)
                r = sql_prepare(s, "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY id", &st);
        if (r < 0)
                goto out;

        memcpy(prev, zero_hash, sizeof prev);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *h;
                r = verify_row(st, expect_id, prev, msg, sizeof msg);
                if (r < 0)
                        goto out;
                if (r > 0) {
                        broken = sqlite3_column_int64(st, COL_ID);
                        break;
                }
                h = sql_column_text(st, COL_HASH);
                /* verify_row matched it against a 64-digit hash. */
                memcpy(prev, h, SHA256_HEX_LEN + 1);
                expect_id++;
        }
        if (!broken && rc != SQLITE_DONE) {
                r = sql_fail(rc);
                goto out;
        }
        if (broken)
                o = json_pack("{s:b, s:I, s:I, s:s}", "ok", 0, "records", (json_int_t)count,
                              "first_broken", (json_int_t)broken, "message", msg);
        else
                o = json_pack("{s:b, s:I, s:s}", "ok", 1, "records", (json_int_t)count, "head",
                              prev);
        if (!o) {
                r = -ENOMEM;
                goto out;
        }
        *ret = o;
        r = 0;
out:
        sqlite3_finalize(TAKE_PTR(st));
        if (own)
                (void)sql_exec(s, "ROLLBACK");
        return r;
}
