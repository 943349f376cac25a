/* images.c — see images.h. */
#include "images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sqlutil.h"

int images_put(struct store *s, int64_t audit_id, const char *path, const char *before,
               const char *after) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        bool own;
        int r;

        if (!s || audit_id <= 0 || !path || !after)
                return -EINVAL;
        r = tx_begin(s, &own);
        if (r < 0)
                return r;
        r = sql_prepare(s,
                        "INSERT OR REPLACE INTO audit_images (audit_id, path, before, after) "
                        "VALUES (?1, ?2, ?3, ?4)",
                        &st);
        if (r >= 0 && (r = sql_bind_int64(st, 1, audit_id)) >= 0 &&
            (r = sql_bind_text(st, 2, path)) >= 0 && (r = sql_bind_text(st, 3, before)) >= 0 &&
            (r = sql_bind_text(st, 4, after)) >= 0) {
                int rc = sqlite3_step(st);
                r = rc == SQLITE_DONE ? 0 : sql_fail(rc);
        }
        return tx_end(s, own, r);
}

int images_get(struct store *s, int64_t audit_id, const char *path, char **ret_before,
               char **ret_after) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char *before = NULL, *after;
        int r;

        r = sql_prepare(
                s, "SELECT before, after FROM audit_images WHERE audit_id = ?1 AND path = ?2", &st);
        if (r >= 0 && (r = sql_bind_int64(st, 1, audit_id)) >= 0 &&
            (r = sql_bind_text(st, 2, path)) >= 0)
                r = sql_step_one(st);
        if (r < 0)
                return r;
        if (sqlite3_column_type(st, 0) != SQLITE_NULL && !(before = strdup(sql_column_text(st, 0))))
                return -ENOMEM;
        after = strdup(sql_column_text(st, 1));
        if (!after) {
                free(before);
                return -ENOMEM;
        }
        *ret_before = before;
        *ret_after = after;
        return 0;
}
