/* modstate.c — see modstate.h.
 *
 * Values and records are stored as compact JSON text, bound, never
 * formatted into SQL; a match field's name is checked against [a-z_]{1,32}
 * before it becomes part of a JSON path, and its value is bound.
 */
#include "modstate.h"

#include <errno.h>
#include <string.h>

#include "jsonutil.h"
#include "sqlutil.h"
#include "util.h"

#define KEY_MAX 64

static int bad(struct module_error *e, const char *field, const char *what) {
        module_error_set(e, 400, "invalid_argument", field, "%s", what);
        return -EINVAL;
}

static int db_error(struct module_error *e, int r) {
        module_error_set(e, r == -ENOSPC ? 507 : 500, "store_error", NULL,
                         "the state database failed: %s", strerror(-r));
        return r;
}

static bool key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
}

/* The module named by args, which must exist. */
static int module_arg(json_t *args, const char **ret, struct module_error *e) {
        const char *m = json_string_value(json_object_get(args, "module"));

        if (!m || !module_find(m))
                return bad(e, "module", "module must name a module");
        *ret = m;
        return 0;
}

/* The module named by args, which must keep state here (module.h
 * keeps_state): no other module's name takes room in the store. */
static int writer_arg(json_t *args, const char **ret, struct module_error *e) {
        const module_t *mod;
        int r = module_arg(args, ret, e);

        if (r < 0)
                return r;
        mod = module_find(*ret);
        if (!mod || !mod->keeps_state) {
                module_error_set(e, 403, "forbidden", "module", "%s keeps no state here", *ret);
                return -EPERM;
        }
        return 0;
}

static int key_arg(json_t *args, const char **ret, struct module_error *e) {
        const char *k = json_string_value(json_object_get(args, "key"));
        size_t n = k ? strnlen(k, KEY_MAX + 1) : 0;

        if (n == 0 || n > KEY_MAX)
                return bad(e, "key", "key must be 1 to 64 of [a-z0-9_.-]");
        for (size_t i = 0; i < n; i++)
                if (!key_char(k[i]))
                        return bad(e, "key", "key must be 1 to 64 of [a-z0-9_.-]");
        *ret = k;
        return 0;
}

/* Module m's keys and bytes of values other than key k's: what a put of
 * k would add to. */
static int state_usage(struct store *s, const char *m, const char *k, int64_t *ret_keys,
                       int64_t *ret_bytes) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = sql_prepare(s,
                            "SELECT count(*), coalesce(sum(length(CAST(value AS BLOB))), 0)"
                            " FROM module_state WHERE module = ? AND key <> ?",
                            &st);

        if (r >= 0 && (r = sql_bind_text(st, 1, m)) >= 0 && (r = sql_bind_text(st, 2, k)) >= 0)
                r = sql_step_one(st);
        if (r < 0)
                return r;
        *ret_keys = sqlite3_column_int64(st, 0);
        *ret_bytes = sqlite3_column_int64(st, 1);
        return 0;
}

/* In the caller's transaction: the quota, then the write (-EDQUOT: past
 * the module's share). */
static int state_write(struct store *s, const char *m, const char *k, const char *text,
                       size_t len, int64_t now) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t keys = 0, bytes = 0;
        int r = state_usage(s, m, k, &keys, &bytes);

        if (r < 0)
                return r;
        if (keys + 1 > MODSTATE_KEYS_MAX || bytes + (int64_t)len > (int64_t)MODSTATE_BYTES_MAX)
                return -EDQUOT;
        r = sql_prepare(s,
                        "INSERT INTO module_state (module, key, value, updated) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (module, key) DO UPDATE SET value = excluded.value,"
                        " updated = excluded.updated",
                        &st);
        if (r >= 0 && (r = sql_bind_text(st, 1, m)) >= 0 && (r = sql_bind_text(st, 2, k)) >= 0 &&
            (r = sql_bind_text(st, 3, text)) >= 0 && (r = sql_bind_int64(st, 4, now)) >= 0)
                r = sql_errno(sqlite3_step(st));
        return r;
}

int modstate_put(struct store *s, json_t *args, int64_t now, struct module_error *e) {
        _cleanup_free_ char *text = NULL;
        json_t *value = json_object_get(args, "value");
        const char *m, *k;
        size_t len = 0;
        bool own;
        int r;

        if ((r = writer_arg(args, &m, e)) < 0 || (r = key_arg(args, &k, e)) < 0)
                return r;
        if (!value)
                return bad(e, "value", "value is required");
        text = json_dump_compact(value, &len);
        if (!text)
                return bad(e, "value", "value cannot be written as JSON");
        if (len > MODSTATE_VALUE_MAX) {
                module_error_set(e, 413, "too_large", "value", "value is larger than 1 MiB");
                return -E2BIG;
        }
        r = tx_begin(s, &own);
        if (r < 0)
                return db_error(e, r);
        r = tx_end(s, own, state_write(s, m, k, text, len, now));
        if (r == -EDQUOT) {
                module_error_set(e, 507, "state_full", "value",
                                 "a module keeps at most %d keys and %u bytes of state",
                                 MODSTATE_KEYS_MAX, MODSTATE_BYTES_MAX);
                return r;
        }
        return r < 0 ? db_error(e, r) : 0;
}

int modstate_get(struct store *s, json_t *args, struct module_error *e, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *m, *k;
        json_t *v;
        int r;

        if ((r = module_arg(args, &m, e)) < 0 || (r = key_arg(args, &k, e)) < 0)
                return r;
        r = sql_prepare(s, "SELECT value, updated FROM module_state WHERE module = ? AND key = ?",
                        &st);
        if (r >= 0 && ((r = sql_bind_text(st, 1, m)) < 0 || (r = sql_bind_text(st, 2, k)) < 0))
                return db_error(e, r);
        if (r < 0)
                return db_error(e, r);
        r = sql_step_one(st);
        if (r == -ENOENT) {
                *ret = json_pack("{s:n, s:i}", "value", "updated", 0);
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return db_error(e, r);
        v = json_loads(sql_column_text(st, 0), JSON_DECODE_ANY, NULL);
        if (!v)
                return db_error(e, -EIO);
        *ret = json_pack("{s:o, s:I}", "value", v, "updated",
                         (json_int_t)sqlite3_column_int64(st, 1));
        return *ret ? 0 : -ENOMEM;
}

/* Keeps the newest MODLOG_KEEP records of module m, and of those the
 * newest that fit in MODLOG_BYTES_MAX (a record is at most
 * MODLOG_RECORD_MAX: the newest is always kept). */
static int log_trim(struct store *s, const char *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *st2 = NULL;
        int r = sql_prepare(s,
                            "DELETE FROM module_log WHERE module = ?1 AND id <= (SELECT id FROM"
                            " module_log WHERE module = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                            &st);

        if (r >= 0 && (r = sql_bind_text(st, 1, m)) >= 0 &&
            (r = sql_bind_int64(st, 2, MODLOG_KEEP)) >= 0)
                r = sql_errno(sqlite3_step(st));
        if (r < 0)
                return r;
        r = sql_prepare(s,
                        "DELETE FROM module_log WHERE id IN (SELECT id FROM (SELECT id,"
                        " sum(length(CAST(record AS BLOB))) OVER (ORDER BY id DESC) AS total"
                        " FROM module_log WHERE module = ?1) WHERE total > ?2)",
                        &st2);
        if (r >= 0 && (r = sql_bind_text(st2, 1, m)) >= 0 &&
            (r = sql_bind_int64(st2, 2, MODLOG_BYTES_MAX)) >= 0)
                r = sql_errno(sqlite3_step(st2));
        return r;
}

static int log_insert(struct store *s, const char *m, json_t *records, int64_t now, json_t *ids) {
        json_t *rec;
        size_t i;
        int r = 0;

        json_array_foreach(records, i, rec) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                _cleanup_free_ char *text = json_dump_compact(rec, NULL);

                if (!text)
                        return -ENOMEM;
                r = sql_prepare(s, "INSERT INTO module_log (module, time, record) VALUES (?, ?, ?)",
                                &st);
                if (r >= 0 && (r = sql_bind_text(st, 1, m)) >= 0 &&
                    (r = sql_bind_int64(st, 2, now)) >= 0 && (r = sql_bind_text(st, 3, text)) >= 0)
                        r = sql_errno(sqlite3_step(st));
                if (r < 0)
                        return r;
                if (json_array_append_new(
                            ids, json_integer(sqlite3_last_insert_rowid(store_db(s)))) < 0)
                        return -ENOMEM;
        }
        return log_trim(s, m);
}

int modlog_append(struct store *s, json_t *args, int64_t now, struct module_error *e,
                  json_t **ret) {
        json_t *records = json_object_get(args, "records"), *rec, *ids;
        const char *m;
        bool own;
        size_t i;
        int r;

        if ((r = writer_arg(args, &m, e)) < 0)
                return r;
        if (!json_is_array(records) || json_array_size(records) == 0 ||
            json_array_size(records) > MODLOG_APPEND_MAX)
                return bad(e, "records", "records must be 1 to 64 objects");
        json_array_foreach(records, i, rec) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                if (!json_is_object(rec) || !(text = json_dump_compact(rec, &len)) ||
                    len > MODLOG_RECORD_MAX)
                        return bad(e, "records", "a record is an object of at most 16 KiB");
        }
        ids = json_array();
        if (!ids)
                return -ENOMEM;
        r = tx_begin(s, &own);
        if (r >= 0)
                r = tx_end(s, own, log_insert(s, m, records, now, ids));
        if (r < 0) {
                json_decref(ids);
                return r == -ENOMEM ? r : db_error(e, r);
        }
        *ret = json_pack("{s:o}", "ids", ids);
        return *ret ? 0 : -ENOMEM;
}

/* The match object: at most MODLOG_MATCH_MAX fields [a-z_]{1,32} of
 * string values (at most 256 bytes). */
static int match_check(json_t *match, struct module_error *e) {
        const char *k;
        json_t *v;

        if (!match)
                return 0;
        if (!json_is_object(match) || json_object_size(match) > MODLOG_MATCH_MAX)
                return bad(e, "match", "match is an object of at most 4 fields");
        json_object_foreach(match, k, v) {
                size_t n = strlen(k);
                if (n == 0 || n > 32 || strspn(k, "abcdefghijklmnopqrstuvwxyz_") != n ||
                    !json_is_string(v) || json_string_length(v) > 256)
                        return bad(e, "match", "a match field is [a-z_]{1,32} with a string");
        }
        return 0;
}

static int list_prepare(struct store *s, const char *m, json_t *match, int64_t before,
                        int64_t limit, sqlite3_stmt **ret) {
        char sql[1024];
        size_t off;
        const char *k;
        json_t *v;
        int idx = 4, r;

        off = (size_t)snprintf(sql, sizeof sql,
                               "SELECT id, time, record FROM module_log WHERE module = ?1 AND"
                               " id < ?2");
        json_object_foreach(match, k, v) {
                off += (size_t)snprintf(sql + off, sizeof sql - off,
                                        " AND json_extract(record, '$.%s') = ?%d", k, idx++);
                if (off >= sizeof sql)
                        return -E2BIG;
        }
        if ((size_t)snprintf(sql + off, sizeof sql - off, " ORDER BY id DESC LIMIT ?3") >=
            sizeof sql - off)
                return -E2BIG;
        r = sql_prepare(s, sql, ret);
        if (r < 0)
                return r;
        if ((r = sql_bind_text(*ret, 1, m)) < 0 || (r = sql_bind_int64(*ret, 2, before)) < 0 ||
            (r = sql_bind_int64(*ret, 3, limit + 1)) < 0)
                return r;
        idx = 4;
        json_object_foreach(match, k, v) {
                r = sql_bind_text(*ret, idx++, json_string_value(v));
                if (r < 0)
                        return r;
        }
        return 0;
}

int modlog_list(struct store *s, json_t *args, struct module_error *e, json_t **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        json_t *jb = json_object_get(args, "before"), *jl = json_object_get(args, "limit");
        json_t *match = json_object_get(args, "match"), *list, *next = json_null();
        int64_t before = INT64_MAX, limit = 100, n = 0;
        const char *m;
        int r;

        if ((r = module_arg(args, &m, e)) < 0 || (r = match_check(match, e)) < 0)
                return r;
        if (jb && (!json_is_integer(jb) || json_integer_value(jb) < 1))
                return bad(e, "before", "before must be a record id");
        if (jb)
                before = json_integer_value(jb);
        if (jl && (!json_is_integer(jl) || json_integer_value(jl) < 1 ||
                   json_integer_value(jl) > MODLOG_LIST_MAX))
                return bad(e, "limit", "limit must be 1 to 500");
        if (jl)
                limit = json_integer_value(jl);
        r = list_prepare(s, m, match, before, limit, &st);
        if (r < 0)
                return db_error(e, r);
        list = json_array();
        while (list && (r = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *rec = json_loads(sql_column_text(st, 2), 0, NULL);
                int64_t id = sqlite3_column_int64(st, 0);
                if (n++ == limit) {
                        json_decref(rec);
                        next = json_integer(id + 1);
                        break;
                }
                json_array_append_new(list, json_pack("{s:I, s:I, s:o*}", "id", (json_int_t)id,
                                                      "at",
                                                      (json_int_t)sqlite3_column_int64(st, 1),
                                                      "record", rec));
        }
        if (!list || (r != SQLITE_ROW && sql_errno(r) < 0)) {
                json_decref(list);
                json_decref(next);
                return list ? db_error(e, sql_errno(r)) : -ENOMEM;
        }
        *ret = json_pack("{s:o, s:o}", "records", list, "next", next);
        return *ret ? 0 : -ENOMEM;
}
