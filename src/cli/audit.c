/* audit.c — `steward audit list|show|verify|rollback`: reading the daemon's
 * tamper-evident audit log, checking its hash chain, and undoing the file
 * changes of one record.
 *
 * The log is read newest first, a page at a time; --all follows the `next`
 * cursor the server gives until it gives none, refusing a cursor that does
 * not move backwards (a server bug would otherwise loop forever).  Rows are
 * collected and printed as one table at the end, so that the columns line up
 * across pages; with --json each page is an answer (one answer is printed as
 * is, several as an array, as for every command).
 *
 * Diffs are file content and are printed as they are, like diff(1) does;
 * every other text from the server goes through fputs_sanitized().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "util.h"

#define AUDIT_PAGE_MAX  500
#define AUDIT_PAGES_MAX 100000

static const char list_synopsis[] = "audit list [--module M] [--user U] [--limit N] [--all]";
static const char rollback_synopsis[] = "audit rollback ID [--dry-run]";

static bool valid_text_arg(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 256 || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
                        return false;
        return true;
}

static int check_id(const char *id) {
        uint64_t v;

        if (safe_atou64(id, &v) < 0 || v == 0)
                return usage_error("invalid audit record id \"%s\" (a number)", id);
        return 0;
}

/* Appends "&name=escaped(value)" to b. */
static int query_add(struct buf *b, const char *name, const char *value) {
        _cleanup_free_ char *escaped = NULL;
        int r;

        r = url_escape(value, &escaped);
        if (r < 0)
                return r;
        return buf_printf(b, "%c%s=%s", strchr(b->data, '?') ? '&' : '?', name, escaped);
}

static json_t *record_time(json_t *rec) {
        /* "time": a field, not the module */
        json_t *t = json_object_get(rec, "time");

        return t ? t : json_object_get(rec, "timestamp");
}

static int add_records(struct table *t, json_t *records) {
        json_t *rec;
        size_t i;
        int r;

        json_array_foreach(records, i, rec) {
                char id[128], user[128], role[128], module[128], op[128], result[128], when[64];
                const char *row[] = {id, when, user, role, module, op, result};

                format_cell(json_object_get(rec, "id"), id);
                format_time(record_time(rec), "-", when);
                format_cell(json_object_get(rec, "user"), user);
                format_cell(json_object_get(rec, "role"), role);
                format_cell(json_object_get(rec, "module"), module);
                format_cell(json_object_get(rec, "operation"), op);
                format_cell(json_object_get(rec, "result"), result);
                r = table_add(t, row);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The cursor for the next page, or NULL at the end.  It must be a record id
 * below the previous one. */
static int next_cursor(struct cli *c, json_t *answer, uint64_t *prev, char ret[32]) {
        json_t *next = json_object_get(answer, "next");
        uint64_t v;
        char cell[128];

        if (!next || json_is_null(next) || json_array_size(json_object_get(answer, "records")) == 0)
                return 0;
        format_cell(next, cell);
        if (safe_atou64(cell, &v) < 0 || v == 0 || (*prev != 0 && v >= *prev)) {
                fprintf(stderr, "steward: %s: malformed answer: bad \"next\" cursor\n", c->where);
                return -EBADMSG;
        }
        *prev = v;
        (void)snprintf(ret, 32, "%llu", (unsigned long long)v);
        return 1;
}

static int audit_list(struct cli *c, int argc, char **argv) {
        static const char *const header[] = {"ID",     "TIME",      "USER",  "ROLE",
                                             "MODULE", "OPERATION", "RESULT"};
        const char *module = NULL, *user = NULL, *limit = NULL;
        bool all = false;
        const struct verb_option opts[] = {
                {"module", 'm', &module, NULL},
                {"user", 'u', &user, NULL},
                {"limit", 'l', &limit, NULL},
                {"all", 'a', NULL, &all},
        };
        json_t *answers = NULL;
        struct table table = {};
        char *pos[1], cursor[32] = "";
        uint64_t prev = 0;
        unsigned n = 0;
        size_t npos = 0;
        int r;

        r = parse_verb_args(list_synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 0, &npos);
        if (r < 0)
                return r;
        if (module && !valid_name(module))
                return usage_error("invalid module name \"%s\"", module);
        if (user && !valid_text_arg(user))
                return usage_error("invalid user name \"%s\"", user);
        if (limit && (safe_atou(limit, &n) < 0 || n == 0 || n > AUDIT_PAGE_MAX))
                return usage_error("invalid --limit \"%s\" (1 to %d)", limit, AUDIT_PAGE_MAX);

        answers = json_array();
        if (!answers)
                return -ENOMEM;
        r = table_init(&table, header, ELEMENTSOF(header));

        for (unsigned page = 0; r >= 0 && page < AUDIT_PAGES_MAX; page++) {
                struct buf target;
                json_t *answer = NULL, *records;

                buf_init(&target, 4096);
                r = buf_puts(&target, "/api/v1/audit");
                if (r >= 0 && limit)
                        r = query_add(&target, "limit", limit);
                if (r >= 0 && module)
                        r = query_add(&target, "module", module);
                if (r >= 0 && user)
                        r = query_add(&target, "user", user);
                if (r >= 0 && cursor[0])
                        r = query_add(&target, "before", cursor);
                if (r >= 0)
                        r = cli_call(c, "GET", target.data, NULL, &answer);
                buf_free(&target);
                if (r < 0)
                        break;

                records = json_object_get(answer, "records");
                if (!json_is_array(records)) {
                        fprintf(stderr, "steward: %s: malformed answer: no \"records\" list\n",
                                c->where);
                        json_decref(answer);
                        r = -EBADMSG;
                        break;
                }
                r = add_records(&table, records);
                if (r >= 0)
                        r = next_cursor(c, answer, &prev, cursor);
                json_array_append_new(answers, answer);
                if (r <= 0 || !all)
                        break;
        }

        /* What was read is shown even when a later page failed. */
        if (c->json) {
                if (json_array_size(answers) > 0) {
                        int k = print_json_answers(answers);
                        if (r >= 0)
                                r = k;
                }
        } else if (json_array_size(answers) > 0) {
                int k = table_print(&table);
                if (r >= 0)
                        r = k;
        }
        table_free(&table);
        json_decref(answers);
        return r < 0 ? r : 0;
}

/* The record without file contents, for MODULE:KEY lines; the diffs are
 * printed after them. */
static json_t *record_summary(json_t *rec) {
        json_t *copy = json_deep_copy(rec), *files, *f;
        size_t i;

        if (!copy)
                return NULL;
        files = json_object_get(copy, "files");
        json_array_foreach(files, i, f) {
                (void)json_object_del(f, "before");
                (void)json_object_del(f, "after");
                (void)json_object_del(f, "diff");
        }
        return copy;
}

static const char *text_or_empty(json_t *v) {
        const char *s = json_string_value(v);

        return s ? s : "";
}

static int print_record_diffs(json_t *rec) {
        json_t *files = json_object_get(rec, "files"), *f;
        size_t i;

        json_array_foreach(files, i, f) {
                const char *diff = json_string_value(json_object_get(f, "diff"));
                const char *path = json_string_value(json_object_get(f, "path"));
                json_t *before = json_object_get(f, "before"), *after = json_object_get(f, "after");
                _cleanup_free_ char *computed = NULL;
                int r;

                if (!diff && path && (json_is_string(before) || json_is_null(before)) &&
                    (json_is_string(after) || json_is_null(after))) {
                        r = diff_unified(path, text_or_empty(before), json_string_length(before),
                                         text_or_empty(after), json_string_length(after),
                                         &computed);
                        if (r < 0)
                                return r;
                        diff = computed;
                }
                if (!diff || !diff[0])
                        continue;
                fputs(diff, stdout);
                if (diff[strlen(diff) - 1] != '\n')
                        fputc('\n', stdout);
        }
        return 0;
}

static int audit_show(struct cli *c, int argc, char **argv) {
        _cleanup_free_ char *target = NULL, *prefix = NULL;
        json_t *answer = NULL, *summary;
        int r;

        if (argc != 1)
                return usage_error("usage: steward audit show ID");
        r = check_id(argv[0]);
        if (r < 0)
                return r;
        if (asprintf(&target, "/api/v1/audit/%s", argv[0]) < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        if (c->json) {
                r = print_json(answer);
                json_decref(answer);
                return r;
        }

        summary = record_summary(answer);
        if (!summary || asprintf(&prefix, "audit:%s", argv[0]) < 0) {
                prefix = NULL;
                json_decref(summary);
                json_decref(answer);
                return -ENOMEM;
        }
        r = print_kv(prefix, summary);
        if (r >= 0)
                r = print_record_diffs(answer);
        json_decref(summary);
        json_decref(answer);
        return r;
}

static int audit_verify(struct cli *c, int argc, char **argv) {
        json_t *answer = NULL, *ok;
        char records[128], head[128], broken[128];
        const char *message;
        int r;

        if (argc > 0)
                return usage_error("usage: steward audit verify");
        r = cli_call(c, "GET", "/api/v1/audit/verify", NULL, &answer);
        if (r < 0)
                return r;

        ok = json_object_get(answer, "ok");
        if (!json_is_boolean(ok)) {
                fprintf(stderr, "steward: %s: malformed answer: no \"ok\"\n", c->where);
                json_decref(answer);
                return -EBADMSG;
        }
        if (c->json)
                r = print_json(answer);
        else if (json_is_true(ok)) {
                format_cell(json_object_get(answer, "records"), records);
                format_cell(json_object_get(answer, "head"), head);
                fputs("audit log intact: ", stdout);
                fputs_sanitized(records, stdout);
                fputs(" records, head ", stdout);
                fputs_sanitized(head[0] ? head : "-", stdout);
                fputc('\n', stdout);
        } else {
                format_cell(json_object_get(answer, "first_broken"), broken);
                message = json_string_value(json_object_get(answer, "message"));
                fputs("audit log BROKEN at record ", stdout);
                fputs_sanitized(broken[0] ? broken : "?", stdout);
                fputs(": ", stdout);
                fputs_sanitized(message ? message : "the hash chain does not match", stdout);
                fputc('\n', stdout);
        }
        if (r >= 0 && !json_is_true(ok))
                r = -EREMOTEIO;
        json_decref(answer);
        return r;
}

static int audit_rollback(struct cli *c, int argc, char **argv) {
        bool dry_run = false;
        const struct verb_option opts[] = {
                {"dry-run", 'n', NULL, &dry_run},
        };
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL, *error = NULL;
        char *pos[1], record[128];
        size_t npos = 0;
        long status = 0;
        int r;

        r = parse_verb_args(rollback_synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", rollback_synopsis);
        r = check_id(pos[0]);
        if (r < 0)
                return r;
        if (asprintf(&target, "/api/v1/audit/%s/rollback%s", pos[0], dry_run ? "?dry_run=1" : "") <
            0) {
                target = NULL;
                return -ENOMEM;
        }

        r = cli_request(c, "POST", target, NULL, 0, &answer, &status, &error);
        if (r == -EREMOTEIO) {
                cli_report_refusal(c, status, error);
                if (status == 409 && !c->json) {
                        json_t *files = json_object_get(json_object_get(error, "error"), "files");

                        if (print_file_diffs(files) > 0)
                                fputs("steward: the diff above goes from what the change left "
                                      "to what the files hold now\n",
                                      stderr);
                }
                json_decref(error);
                return r;
        }
        if (r < 0)
                return r;

        if (c->json)
                r = print_json(answer);
        else {
                size_t n = print_file_diffs(json_object_get(answer, "files"));

                format_cell(json_object_get(answer, "record"), record);
                if (dry_run || c->dry_run)
                        fprintf(stderr,
                                "steward: dry run: %zu file(s) would be restored; nothing was "
                                "changed\n",
                                n);
                else {
                        fprintf(stderr, "steward: record %s rolled back", pos[0]);
                        if (record[0]) {
                                fputs(" (audit record ", stderr);
                                fputs_sanitized(record, stderr);
                                fputc(')', stderr);
                        }
                        fputc('\n', stderr);
                }
                print_warnings(answer);
        }
        json_decref(answer);
        return r;
}

int verb_audit(struct cli *c, int argc, char **argv) {
        if (STREQ(argv[0], "list"))
                return audit_list(c, argc - 1, argv + 1);
        if (STREQ(argv[0], "show"))
                return audit_show(c, argc - 1, argv + 1);
        if (STREQ(argv[0], "verify"))
                return audit_verify(c, argc - 1, argv + 1);
        if (STREQ(argv[0], "rollback"))
                return audit_rollback(c, argc - 1, argv + 1);
        return usage_error("unknown audit command \"%s\" (list, show, verify or rollback)",
                           argv[0]);
}
