/* logs.c — the logs module: the systemd journal and classic log files.
 *
 * This file is the module's glue (its module_t table, routes, status and
 * the helper's privileged view); the substance is beside it:
 *
 *     query.c    the query grammar (unit, priority, since/until, boot,
 *                identifier, grep, limit, cursor, order): pure parsers
 *     journal.c  sd-journal reads with journalctl's matches; entries as JSON
 *     follow.c   `logs` events: one thread following the journal for every
 *                stream that asked, each with its own filters and cursor
 *     files.c    /var/log files: the list and a bounded tail
 *
 * Where things run (docs/architecture.md, "The logs module"): the journal
 * is read in the front, as the daemon's unprivileged user, which is a
 * member of the group systemd-journal; no root code parses journal files.
 * Classic files are often readable by root and adm only, so their list and
 * tail are the helper's privileged_read: bounded reads beneath /var/log of
 * what others or adm may read, never more (files.c).
 *
 * Roles: every route and the `logs` events need an operator.  Logs hold
 * what services chose to print, and that is sometimes a secret (a token in
 * a URL, a password typed as a user name); a monitor account, such as a
 * dashboard's, sees states and numbers but not the text of logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "modules/logs/files.h"
#include "modules/logs/follow.h"
#include "modules/logs/journal.h"
#include "modules/logs/query.h"
#include "roles.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- status ------------------------------------------------------------------- */

static int logs_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        char reason[256];
        const char *state;
        json_t *o;

        logs_journal_state(&state, reason, sizeof reason);
        o = json_pack("{s:s}", "state", state);
        if (o && reason[0])
                json_object_set_new(o, "reason", json_string(reason));
        if (!o) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

/* ---- routes (the front) --------------------------------------------------------- */

static const char *ctx_param(void *opaque, const char *key) {
        const struct module_ctx *ctx = opaque;
        return ctx->query ? ctx->query(ctx, key) : NULL;
}

static int route_query(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        struct logs_query q;
        char reason[256];
        const char *state;
        int r;

        r = logs_query_parse(ctx_param, (void *)ctx, realtime_usec(), &q, err);
        if (r < 0)
                return r;
        if (ctx->query_flag && (r = ctx->query_flag(ctx, "tail", &q.tail, err)) < 0)
                return r;
        if (q.tail && q.asc) {
                module_error_set(err, 400, "invalid_argument", "tail",
                                 "tail: the newest entries oldest first; not with order=asc");
                return -EINVAL;
        }
        logs_journal_state(&state, reason, sizeof reason);
        if (!STREQ(state, "running")) {
                module_error_set(err, 503, "unavailable", NULL, "%s", reason);
                return -EAGAIN;
        }
        return logs_journal_query(&q, ret, err);
}

static int route_files(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        if (!ctx->privileged_read) {
                module_error_set(err, 503, "unavailable", NULL, "no helper to read /var/log");
                return -EAGAIN;
        }
        return ctx->privileged_read(ctx, "logs", json_pack("{s:s}", "op", "files"), ret, err);
}

/* GET /api/v1/logs/files/A[/B[/C]]: the name is the segments joined. */
static int route_file(const struct module_ctx *ctx, char **params, size_t n, json_t **ret,
                      struct module_error *err) {
        char name[LOGS_FILE_NAME_MAX + 1] = "";
        const char *v = ctx->query ? ctx->query(ctx, "lines") : NULL;
        unsigned lines = LOGS_TAIL_LINES_DEF;
        size_t off = 0;

        for (size_t i = 0; i < n; i++) {
                int w = snprintf(name + off, sizeof name - off, "%s%s", i ? "/" : "", params[i]);
                if (w < 0 || (size_t)w >= sizeof name - off) {
                        module_error_set(err, 400, "invalid_argument", "name", "name: too long");
                        return -EINVAL;
                }
                off += (size_t)w;
        }
        if (!logs_file_name_valid(name)) {
                module_error_set(err, 400, "invalid_argument", "name",
                                 "name: a path relative to /var/log of letters, digits and "
                                 "._@+-, without \"..\"");
                return -EINVAL;
        }
        if (v && (safe_atou(v, &lines) < 0 || lines < 1 || lines > LOGS_TAIL_LINES_MAX)) {
                module_error_set(err, 400, "invalid_argument", "lines",
                                 "lines: \"%.16s\" is not a number from 1 to %u", v,
                                 LOGS_TAIL_LINES_MAX);
                return -EINVAL;
        }
        if (!ctx->privileged_read) {
                module_error_set(err, 503, "unavailable", NULL, "no helper to read /var/log");
                return -EAGAIN;
        }
        return ctx->privileged_read(ctx, "logs",
                                    json_pack("{s:s, s:s, s:i}", "op", "tail", "name", name,
                                              "lines", (int)lines),
                                    ret, err);
}

static int route_file1(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        return route_file(ctx, params, 1, ret, err);
}

static int route_file2(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        return route_file(ctx, params, 2, ret, err);
}

static int route_file3(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        return route_file(ctx, params, 3, ret, err);
}

/* ---- the helper's view: /var/log files ------------------------------------------ */

static int logs_privileged_read(json_t *args, json_t **ret, struct module_error *err) {
        const char *op = json_string_value(json_object_get(args, "op"));
        json_t *lines = json_object_get(args, "lines");

        if (op && STREQ(op, "files"))
                return logs_files_list(LOGS_FILES_ROOT, ret, err);
        if (op && STREQ(op, "tail")) {
                const char *name = json_string_value(json_object_get(args, "name"));
                if (!json_is_integer(lines) || json_integer_value(lines) < 1 ||
                    json_integer_value(lines) > LOGS_TAIL_LINES_MAX) {
                        module_error_set(err, 400, "invalid_argument", "lines",
                                         "lines: a number from 1 to %u", LOGS_TAIL_LINES_MAX);
                        return -EINVAL;
                }
                return logs_file_tail(LOGS_FILES_ROOT, name ? name : "",
                                      (unsigned)json_integer_value(lines), ret, err);
        }
        module_error_set(err, 400, "bad_request", "op", "op: files or tail");
        return -EINVAL;
}

/* ---- the table ------------------------------------------------------------------ */

static const char entries_schema[] =
        "{\"type\": \"object\", \"required\": [\"entries\"], \"properties\": {"
        "\"next\": {\"type\": \"string\"}, \"truncated\": {\"type\": \"boolean\"},"
        "\"entries\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
        " \"required\": [\"time\", \"cursor\", \"priority\", \"unit\", \"identifier\", \"pid\","
        "  \"message\"],"
        " \"properties\": {"
        "  \"time\": {\"type\": \"string\"}, \"cursor\": {\"type\": \"string\"},"
        "  \"priority\": {\"type\": [\"integer\", \"null\"]}, \"unit\": {\"type\": \"string\"},"
        "  \"identifier\": {\"type\": \"string\"}, \"pid\": {\"type\": \"integer\"},"
        "  \"message\": {\"type\": \"string\"}, \"hostname\": {\"type\": \"string\"},"
        "  \"boot_id\": {\"type\": \"string\"}, \"realtime_usec\": {\"type\": \"integer\"},"
        "  \"transport\": {\"type\": \"string\"}}}}}}";

static const char files_schema[] =
        "{\"type\": \"object\", \"required\": [\"files\"], \"properties\": {"
        "\"files\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
        " \"name\": {\"type\": \"string\"}, \"size\": {\"type\": \"integer\"},"
        " \"mtime\": {\"type\": \"integer\"}}}}}}";

static const char tail_schema[] =
        "{\"type\": \"object\", \"required\": [\"name\", \"lines\"], \"properties\": {"
        "\"name\": {\"type\": \"string\"}, \"size\": {\"type\": \"integer\"},"
        "\"truncated\": {\"type\": \"boolean\"},"
        "\"lines\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}}";

#define QUERY_ARGS "unit priority since until boot identifier grep limit cursor order"

static const module_route_t routes[] = {
        {"GET", "api/v1/logs", ROLE_OPERATOR, route_query, .response = entries_schema,
         .query = QUERY_ARGS, .flags = "tail", .slow = true,
         .summary = "Journal entries, newest first, filtered and paged by cursor"},
        {"GET", "api/v1/logs/files", ROLE_OPERATOR, route_files, .response = files_schema,
         .slow = true,
         .summary = "Text log files under /var/log"},
        {"GET", "api/v1/logs/files/*", ROLE_OPERATOR, route_file1, .params = "name",
         .response = tail_schema, .query = "lines",
         .summary = "The last lines of a file under /var/log (?lines=N)"},
        {"GET", "api/v1/logs/files/*/*", ROLE_OPERATOR, route_file2, .params = "dir name",
         .response = tail_schema, .query = "lines",
         .summary = "The last lines of a file in a directory under /var/log"},
        {"GET", "api/v1/logs/files/*/*/*", ROLE_OPERATOR, route_file3,
         .params = "dir subdir name", .response = tail_schema, .query = "lines",
         .summary = "The last lines of a file two directories down under /var/log"},
};

static const event_def_t logs_events[] = {
        {.name = "logs",
         .description = "new journal entries matching the stream's own unit, priority, boot, "
                        "identifier, grep and since, after its cursor: {\"entries\": [entry…]}",
         .min_role = ROLE_OPERATOR,
         .params = "unit priority since boot identifier grep cursor",
         .subscribe = logs_follow_subscribe,
         .unsubscribe = logs_follow_unsubscribe},
};

const module_t module_logs = {
        .name = "logs",
        .summary = "The systemd journal and the log files under /var/log",
        .console_title = "Logs",
        .status = logs_status,
        .privileged_read = logs_privileged_read,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .events = logs_events,
        .n_events = ELEMENTSOF(logs_events),
        .events_attach = logs_follow_attach,
};
