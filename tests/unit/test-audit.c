/* test-audit.c — the audit log (audit.h): appending, paging newest first
 * with filters, one record with its file contents, the hash chain
 * (recomputed here independently from the documented format), and that
 * verify names the first broken record after a field is edited, a record is
 * deleted in the middle, or the newest records are deleted and another is
 * appended; and redaction of secrets in arguments and files.
 *
 * Each test gets a fresh state directory under /tmp, removed afterwards. */
#include <dirent.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helper/audit.h"
#include "helper/store.h"
#include "util.h"

#define T0 INT64_C(1764151200) /* 2025-11-26T10:00:00Z */

static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";

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
        snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-audit-XXXXXX");
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

static json_t *json(const char *s) {
        json_error_t err;
        json_t *v = json_loads(s, 0, &err);

        if (!v)
                fail_msg("bad test JSON: %s: %s", err.text, s);
        return v;
}

static void exec_sql(struct store *s, const char *sql) {
        char *err = NULL;

        if (sqlite3_exec(store_db(s), sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", sql, err);
}

static int64_t append(struct store *s, const char *user, const char *module, const char *operation,
                      const char *args, const char *files, int64_t now) {
        json_t *a = args ? json(args) : NULL, *fl = files ? json(files) : NULL;
        struct audit_entry e = {
                .user = user,
                .role = "admin",
                .source = "192.0.2.7:40000",
                .session_id = 3,
                .module = module,
                .operation = operation,
                .args = a,
                .result = "ok",
                .files = fl,
        };
        int64_t id = 0;

        assert_int_equal(audit_append(s, &e, now, &id), 0);
        json_decref(a);
        json_decref(fl);
        return id;
}

/* Seven records: modules system, stewardd alternating; users alice, bob. */
static void fill(struct store *s) {
        for (int i = 1; i <= 7; i++) {
                char args[64];
                snprintf(args, sizeof args, "{\"n\": %d, \"x\": 1.5}", i);
                assert_int_equal(append(s, i % 3 ? "alice" : "bob", i % 2 ? "system" : "stewardd",
                                        "settings", args,
                                        "[{\"path\": \"/etc/hostname\", \"type\": \"file\","
                                        " \"before\": \"old\\n\", \"after\": \"new\\n\"}]",
                                        T0 + i),
                                 i);
        }
}

static json_t *verify(struct store *s) {
        json_t *v = NULL;

        assert_int_equal(audit_verify(s, &v), 0);
        assert_non_null(v);
        return v;
}

static void assert_broken_at(struct store *s, int64_t id) {
        json_t *v = verify(s);

        if (!json_is_false(json_object_get(v, "ok")) ||
            json_integer_value(json_object_get(v, "first_broken")) != id) {
                char *t = json_dumps(v, 0);
                fail_msg("expected the chain broken at %lld: %s", (long long)id, t);
        }
        assert_non_null(json_string_value(json_object_get(v, "message")));
        json_decref(v);
}

static void assert_ok(struct store *s, int64_t n) {
        json_t *v = verify(s);

        if (!json_is_true(json_object_get(v, "ok"))) {
                char *t = json_dumps(v, 0);
                fail_msg("expected an intact chain: %s", t);
        }
        assert_int_equal(json_integer_value(json_object_get(v, "records")), n);
        json_decref(v);
}

static void test_list_paging(void **state) {
        struct fixture *f = *state;
        json_t *page = NULL, *rec, *file;
        const char *key;
        json_t *val;
        size_t i;

        fill(f->s);
        assert_int_equal(audit_list(f->s, 0, 3, NULL, NULL, &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 3);
        for (i = 0; i < 3; i++)
                assert_int_equal(
                        json_integer_value(json_object_get(
                                json_array_get(json_object_get(page, "records"), i), "id")),
                        7 - i);
        assert_string_equal(json_string_value(json_object_get(page, "next")), "5");

        /* The shape of a record in a list. */
        rec = json_array_get(json_object_get(page, "records"), 0);
        assert_string_equal(json_string_value(json_object_get(rec, "time")),
                            "2025-11-26T10:00:07Z");
        assert_string_equal(json_string_value(json_object_get(rec, "user")), "alice");
        assert_string_equal(json_string_value(json_object_get(rec, "role")), "admin");
        assert_string_equal(json_string_value(json_object_get(rec, "source")), "192.0.2.7:40000");
        assert_string_equal(json_string_value(json_object_get(rec, "module")), "system");
        assert_string_equal(json_string_value(json_object_get(rec, "operation")), "settings");
        assert_string_equal(json_string_value(json_object_get(rec, "result")), "ok");
        assert_true(json_is_null(json_object_get(rec, "message")));
        assert_int_equal(json_integer_value(json_object_get(rec, "rollback_of")), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "args"), "n")), 7);
        assert_int_equal(strlen(json_string_value(json_object_get(rec, "hash"))), 64);
        assert_int_equal(strlen(json_string_value(json_object_get(rec, "prev_hash"))), 64);
        assert_int_equal(json_array_size(json_object_get(rec, "files")), 1);
        file = json_array_get(json_object_get(rec, "files"), 0);
        json_object_foreach(file, key, val) assert_true(STREQ(key, "path") || STREQ(key, "diff"));
        assert_string_equal(json_string_value(json_object_get(file, "path")), "/etc/hostname");
        assert_non_null(strstr(json_string_value(json_object_get(file, "diff")), "-old\n+new\n"));
        json_decref(page);

        assert_int_equal(audit_list(f->s, 5, 3, NULL, NULL, &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 3);
        assert_int_equal(json_integer_value(json_object_get(
                                 json_array_get(json_object_get(page, "records"), 0), "id")),
                         4);
        assert_string_equal(json_string_value(json_object_get(page, "next")), "2");
        json_decref(page);

        assert_int_equal(audit_list(f->s, 2, 3, NULL, NULL, &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 1);
        assert_null(json_object_get(page, "next"));
        json_decref(page);

        /* Exactly one page: no "next". */
        assert_int_equal(audit_list(f->s, 0, 7, NULL, NULL, &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 7);
        assert_null(json_object_get(page, "next"));
        json_decref(page);

        /* Filters. */
        assert_int_equal(audit_list(f->s, 0, 500, "stewardd", NULL, &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 3); /* 6, 4, 2 */
        json_array_foreach(json_object_get(page, "records"), i, rec)
                assert_string_equal(json_string_value(json_object_get(rec, "module")), "stewardd");
        json_decref(page);
        assert_int_equal(audit_list(f->s, 0, 1, "system", "bob", &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 1); /* 3 */
        assert_int_equal(json_integer_value(json_object_get(
                                 json_array_get(json_object_get(page, "records"), 0), "id")),
                         3);
        assert_null(json_object_get(page, "next"));
        json_decref(page);
        assert_int_equal(audit_list(f->s, 0, 10, "nosuch", NULL, &page), 0);
        assert_int_equal(json_array_size(json_object_get(page, "records")), 0);
        json_decref(page);

        page = NULL;
        assert_int_equal(audit_list(f->s, 0, 0, NULL, NULL, &page), -EINVAL);
        assert_int_equal(audit_list(f->s, 0, 501, NULL, NULL, &page), -EINVAL);
        assert_int_equal(audit_list(f->s, -1, 10, NULL, NULL, &page), -EINVAL);
        assert_null(page);
}

static void test_get(void **state) {
        struct fixture *f = *state;
        json_t *rec = NULL, *file;

        fill(f->s);
        assert_int_equal(audit_get(f->s, 4, &rec), 0);
        assert_int_equal(json_integer_value(json_object_get(rec, "id")), 4);
        assert_string_equal(json_string_value(json_object_get(rec, "time")),
                            "2025-11-26T10:00:04Z");
        file = json_array_get(json_object_get(rec, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(file, "path")), "/etc/hostname");
        assert_string_equal(json_string_value(json_object_get(file, "type")), "file");
        assert_string_equal(json_string_value(json_object_get(file, "before")), "old\n");
        assert_string_equal(json_string_value(json_object_get(file, "after")), "new\n");
        /* The diff was computed since the caller gave none. */
        assert_string_equal(
                json_string_value(json_object_get(file, "diff")),
                "--- a/etc/hostname\n+++ b/etc/hostname\n@@ -1,1 +1,1 @@\n-old\n+new\n");
        json_decref(rec);

        rec = NULL;
        assert_int_equal(audit_get(f->s, 8, &rec), -ENOENT);
        assert_int_equal(audit_get(f->s, 0, &rec), -ENOENT);
        assert_null(rec);
}

/* The chain recomputed from audit.h's definition, from what audit_get shows. */
static void test_chain_format(void **state) {
        struct fixture *f = *state;
        char prev[65];

        fill(f->s);
        memcpy(prev, zeros, sizeof prev);
        for (int64_t id = 1; id <= 7; id++) {
                json_t *rec = NULL, *canon;
                char *text, *input, hex[65];
                uint8_t d[32];

                assert_int_equal(audit_get(f->s, id, &rec), 0);
                assert_string_equal(json_string_value(json_object_get(rec, "prev_hash")), prev);
                canon = json_pack(
                        "{s:I, s:I, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, "
                        "s:O, s:O}",
                        "id", (json_int_t)id, "time", (json_int_t)(T0 + id), "user",
                        json_object_get(rec, "user"), "role", json_object_get(rec, "role"),
                        "source", json_object_get(rec, "source"), "session_id",
                        json_object_get(rec, "session_id"), "module",
                        json_object_get(rec, "module"), "operation",
                        json_object_get(rec, "operation"), "args", json_object_get(rec, "args"),
                        "result", json_object_get(rec, "result"), "message",
                        json_object_get(rec, "message"), "files", json_object_get(rec, "files"),
                        "rollback_of", json_object_get(rec, "rollback_of"), "prev_hash",
                        json_object_get(rec, "prev_hash"));
                assert_non_null(canon);
                text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
                assert_true(asprintf(&input, "%s\n%s", prev, text) > 0);
                assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, input, strlen(input), d), 0);
                hex_encode(d, sizeof d, hex);
                assert_string_equal(json_string_value(json_object_get(rec, "hash")), hex);
                memcpy(prev, hex, sizeof prev);
                free(text);
                free(input);
                json_decref(canon);
                json_decref(rec);
        }

        json_t *v = verify(f->s);
        assert_true(json_is_true(json_object_get(v, "ok")));
        assert_int_equal(json_integer_value(json_object_get(v, "records")), 7);
        assert_string_equal(json_string_value(json_object_get(v, "head")), prev);
        json_decref(v);
}

static void test_verify_empty(void **state) {
        struct fixture *f = *state;
        json_t *v = verify(f->s);

        assert_true(json_is_true(json_object_get(v, "ok")));
        assert_int_equal(json_integer_value(json_object_get(v, "records")), 0);
        assert_string_equal(json_string_value(json_object_get(v, "head")), zeros);
        json_decref(v);
}

static void test_tamper_field(void **state) {
        struct fixture *f = *state;

        fill(f->s);
        assert_ok(f->s, 7);
        exec_sql(f->s, "UPDATE audit SET user = 'mallory' WHERE id = 3");
        assert_broken_at(f->s, 3);
        exec_sql(f->s, "UPDATE audit SET user = 'bob' WHERE id = 3");
        assert_ok(f->s, 7);

        exec_sql(f->s, "UPDATE audit SET time = time + 1 WHERE id = 6");
        assert_broken_at(f->s, 6);
        exec_sql(f->s, "UPDATE audit SET time = time - 1 WHERE id = 6");

        exec_sql(f->s, "UPDATE audit SET args = '{\"n\":5,\"x\":1.25}' WHERE id = 5");
        assert_broken_at(f->s, 5);
        exec_sql(f->s, "UPDATE audit SET args = '{\"n\":5,\"x\":1.5}' WHERE id = 5");
        assert_ok(f->s, 7);

        exec_sql(f->s, "UPDATE audit SET files = replace(files, 'old', 'odd') WHERE id = 2");
        assert_broken_at(f->s, 2);
        exec_sql(f->s, "UPDATE audit SET files = replace(files, 'odd', 'old') WHERE id = 2");

        exec_sql(f->s, "UPDATE audit SET message = 'hidden' WHERE id = 7");
        assert_broken_at(f->s, 7);
        exec_sql(f->s, "UPDATE audit SET message = NULL WHERE id = 7");

        exec_sql(f->s, "UPDATE audit SET args = 'not json' WHERE id = 4");
        assert_broken_at(f->s, 4);
        exec_sql(f->s, "UPDATE audit SET args = '{\"n\":4,\"x\":1.5}' WHERE id = 4");
        assert_ok(f->s, 7);

        /* A hash copied from another record does not fit. */
        exec_sql(f->s,
                 "UPDATE audit SET hash = (SELECT hash FROM audit WHERE id = 1) WHERE id = 2");
        assert_broken_at(f->s, 2);
}

static void test_delete_middle(void **state) {
        struct fixture *f = *state;

        fill(f->s);
        exec_sql(f->s, "DELETE FROM audit WHERE id = 4");
        assert_broken_at(f->s, 5);
}

static void test_delete_first(void **state) {
        struct fixture *f = *state;

        fill(f->s);
        exec_sql(f->s, "DELETE FROM audit WHERE id = 1");
        assert_broken_at(f->s, 2);
}

static void test_delete_newest_then_append(void **state) {
        struct fixture *f = *state;

        fill(f->s);
        exec_sql(f->s, "DELETE FROM audit WHERE id >= 6");
        /* Not visible from the table alone... */
        assert_ok(f->s, 5);
        /* ...but the next record shows the gap. */
        assert_int_equal(append(f->s, "alice", "system", "settings", NULL, NULL, T0 + 100), 8);
        assert_broken_at(f->s, 8);
}

/* The records after an id come in pieces that fit a helper frame. */
static void test_list_after_is_bounded(void **state) {
        struct fixture *f = *state;
        size_t pad = 1u << 20, total = 0;
        char *args = malloc(pad + 16);
        json_t *recs = NULL;

        assert_non_null(args);
        memcpy(args, "{\"pad\": \"", 9);
        memset(args + 9, 'x', pad);
        memcpy(args + 9 + pad, "\"}", 3);
        for (int i = 0; i < 20; i++)
                append(f->s, "alice", "system", "settings", args, NULL, T0 + i);
        free(args);
        assert_int_equal(audit_list_after(f->s, 0, 100, &recs), 0);
        assert_true(json_array_size(recs) >= 1);
        assert_true(json_array_size(recs) < 20);
        total = json_array_size(recs);
        json_decref(recs);
        /* The rest follows from the last one seen. */
        assert_int_equal(audit_list_after(f->s, (int64_t)total, 100, &recs), 0);
        assert_true(json_array_size(recs) >= 1);
        json_decref(recs);
}

static void test_redact(void **state) {
        json_t *v = json("{\"user\": \"alice\", \"password\": \"hunter2\","
                         " \"nested\": {\"New_Password\": \"x\", \"api_token\": {\"a\": 1},"
                         "  \"list\": [{\"client_secret\": \"s\", \"keep\": \"k\"}, \"plain\"]},"
                         " \"PASSWD\": 1, \"private_key\": \"-----BEGIN\", \"tls_key_pem\": \"p\","
                         " \"password_hash\": \"$6$\", \"comment\": \"my password is\","
                         " \"keys\": [\"not secret\"]}");
        json_t *want = json("{\"user\": \"alice\", \"password\": \"[redacted]\","
                            " \"nested\": {\"New_Password\": \"[redacted]\","
                            "  \"api_token\": \"[redacted]\","
                            "  \"list\": [{\"client_secret\": \"[redacted]\", \"keep\": \"k\"},"
                            "   \"plain\"]},"
                            " \"PASSWD\": \"[redacted]\", \"private_key\": \"[redacted]\","
                            " \"tls_key_pem\": \"[redacted]\", \"password_hash\": \"[redacted]\","
                            " \"comment\": \"my password is\", \"keys\": [\"not secret\"]}");

        audit_redact(v);
        if (!json_equal(v, want)) {
                char *t = json_dumps(v, JSON_SORT_KEYS);
                fail_msg("redacted to %s", t);
        }
        json_decref(v);
        json_decref(want);
        audit_redact(NULL);
        v = json("[{\"token\": \"t\"}]");
        audit_redact(v);
        assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "token")),
                            "[redacted]");
        json_decref(v);
}

static void test_append_redacts(void **state) {
        struct fixture *f = *state;
        json_t *args = json("{\"user\": \"carol\", \"password\": \"hunter2\"}");
        json_t *files = json("[{\"path\": \"/etc/shadow\", \"type\": \"file\","
                             " \"before\": \"carol:$6$old:1\\n\", \"after\": \"carol:$6$new:1\\n\","
                             " \"diff\": \"-carol:$6$old\\n\", \"redacted\": true}]");
        struct audit_entry e = {.user = "root",
                                .role = "admin",
                                .source = "unix",
                                .module = "users",
                                .operation = "command:passwd",
                                .args = args,
                                .result = "error",
                                .message = "passwd failed",
                                .files = files};
        json_t *rec = NULL, *file, *list = NULL;
        int64_t id;
        char *text;

        assert_int_equal(audit_append(f->s, &e, T0, &id), 0);
        /* The caller's objects are left alone. */
        assert_string_equal(json_string_value(json_object_get(args, "password")), "hunter2");
        assert_int_equal(audit_get(f->s, id, &rec), 0);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(rec, "args"), "password")),
                "[redacted]");
        assert_string_equal(json_string_value(json_object_get(rec, "message")), "passwd failed");
        assert_string_equal(json_string_value(json_object_get(rec, "result")), "error");
        file = json_array_get(json_object_get(rec, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(file, "before")), "[redacted]");
        assert_string_equal(json_string_value(json_object_get(file, "after")), "[redacted]");
        assert_string_equal(json_string_value(json_object_get(file, "diff")), "[redacted]");
        assert_true(json_is_true(json_object_get(file, "redacted")));
        json_decref(rec);

        /* Nowhere in the table. */
        assert_int_equal(audit_list(f->s, 0, 10, NULL, NULL, &list), 0);
        text = json_dumps(list, 0);
        assert_null(strstr(text, "hunter2"));
        assert_null(strstr(text, "$6$"));
        free(text);
        json_decref(list);
        {
                sqlite3_stmt *st;
                assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
                                                    "SELECT count(*) FROM audit WHERE"
                                                    " instr(args || files, 'hunter2')"
                                                    " OR instr(files, '$6$')",
                                                    -1, &st, NULL),
                                 SQLITE_OK);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_int_equal(sqlite3_column_int(st, 0), 0);
                sqlite3_finalize(st);
        }
        json_decref(args);
        json_decref(files);
        assert_ok(f->s, 1);
}

static void test_append_checks(void **state) {
        struct fixture *f = *state;
        json_t *arr = json("[1]"), *badfiles = json("[{\"type\": \"file\"}]"),
               *badtype = json("[{\"path\": \"/x\", \"type\": \"dir\"}]");
        struct audit_entry e = {.user = "u",
                                .role = "admin",
                                .source = "s",
                                .module = "m",
                                .operation = "o",
                                .result = "ok"};
        struct audit_entry x;
        json_t *rec = NULL;
        char msg[6000];
        int64_t id = -1, first;

        x = e;
        x.result = "maybe";
        assert_int_equal(audit_append(f->s, &x, T0, &id), -EINVAL);
        x = e;
        x.user = NULL;
        assert_int_equal(audit_append(f->s, &x, T0, &id), -EINVAL);
        x = e;
        x.args = arr;
        assert_int_equal(audit_append(f->s, &x, T0, &id), -EINVAL);
        x = e;
        x.files = badfiles;
        assert_int_equal(audit_append(f->s, &x, T0, &id), -EINVAL);
        x = e;
        x.files = badtype;
        assert_int_equal(audit_append(f->s, &x, T0, &id), -EINVAL);
        x = e;
        x.rollback_of = 1; /* no such record yet */
        assert_int_equal(audit_append(f->s, &x, T0, &id), -ENOENT);
        assert_int_equal(audit_append(f->s, &e, -1, &id), -EINVAL);
        assert_int_equal(id, -1);

        /* The failed appends used no ids. */
        assert_int_equal(audit_append(f->s, &e, T0, &first), 0);
        assert_int_equal(first, 1);
        x = e;
        x.rollback_of = first;
        assert_int_equal(audit_append(f->s, &x, T0, &id), 0);
        assert_int_equal(id, 2);
        assert_int_equal(audit_get(f->s, id, &rec), 0);
        assert_int_equal(json_integer_value(json_object_get(rec, "rollback_of")), 1);
        assert_int_equal(json_object_size(json_object_get(rec, "args")), 0);
        assert_int_equal(json_array_size(json_object_get(rec, "files")), 0);
        json_decref(rec);

        /* Text that is not UTF-8 is repaired, an over-long message cut. */
        memset(msg, 'm', sizeof msg - 1);
        msg[sizeof msg - 1] = '\0';
        x = e;
        x.user = "caf\xe9";
        x.message = msg;
        assert_int_equal(audit_append(f->s, &x, T0, &id), 0);
        assert_int_equal(audit_get(f->s, id, &rec), 0);
        assert_string_equal(json_string_value(json_object_get(rec, "user")), "caf?");
        assert_int_equal(strlen(json_string_value(json_object_get(rec, "message"))), 4096);
        json_decref(rec);
        assert_ok(f->s, 3);

        json_decref(arr);
        json_decref(badfiles);
        json_decref(badtype);
}

/* A full disk reads as -ENOSPC, and the chain stays intact. */
static void test_disk_full(void **state) {
        struct fixture *f = *state;
        char *big = malloc(200001), sql[64];
        json_t *args;
        sqlite3_stmt *st;
        struct audit_entry e = {.user = "u",
                                .role = "admin",
                                .source = "s",
                                .module = "m",
                                .operation = "o",
                                .result = "ok"};
        int64_t id = 0;

        fill(f->s);
        assert_int_equal(sqlite3_prepare_v2(store_db(f->s), "PRAGMA page_count", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %d", sqlite3_column_int(st, 0));
        sqlite3_finalize(st);
        exec_sql(f->s, sql);

        memset(big, 'x', 200000);
        big[200000] = '\0';
        args = json_pack("{s:s}", "blob", big);
        e.args = args;
        assert_int_equal(audit_append(f->s, &e, T0 + 50, &id), -ENOSPC);
        assert_int_equal(id, 0);
        assert_ok(f->s, 7);
        exec_sql(f->s, "PRAGMA max_page_count = 1073741823");
        assert_int_equal(audit_append(f->s, &e, T0 + 51, &id), 0);
        assert_int_equal(id, 8);
        assert_ok(f->s, 8);
        json_decref(args);
        free(big);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_after_is_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get, setup, teardown),
                cmocka_unit_test_setup_teardown(test_chain_format, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tamper_field, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_middle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_newest_then_append, setup, teardown),
                cmocka_unit_test(test_redact),
                cmocka_unit_test_setup_teardown(test_append_redacts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_append_checks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
