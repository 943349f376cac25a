/* sessions.c — `steward sessions [list] [--user NAME]` and `steward sessions
 * end ID`: the live login sessions (password logins and local peers) of the
 * caller, or of everyone for an administrator, and ending one of them.
 *
 * The server decides which sessions the caller may see and end, and which
 * one is the caller's own; nothing here is a secret (the API never lists
 * one), so the answer is printed as it comes, sanitized for the terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char list_synopsis[] = "sessions [list] [--user NAME]";

static int sessions_list(struct cli *c, int argc, char **argv) {
        static const char *const header[] = {"ID",      "USER",      "KIND",    "SOURCE",
                                             "CREATED", "LAST_USED", "EXPIRES", "CURRENT"};
        const char *user = NULL;
        const struct verb_option opts[] = {
                {"user", 'u', &user, NULL},
        };
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL, *sessions, *s;
        struct table table;
        size_t i, npos = 0;
        char *pos[1];
        int r;

        r = parse_verb_args(list_synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 0, &npos);
        if (r < 0)
                return r;
        if (user && !valid_name(user))
                return usage_error("invalid user name \"%s\"", user);
        if (asprintf(&target, "/api/v1/sessions%s%s", user ? "?user=" : "", user ? user : "") < 0) {
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
        sessions = json_object_get(answer, "sessions");
        if (!json_is_array(sessions)) {
                fprintf(stderr, "steward: %s: malformed answer: no \"sessions\" list\n", c->where);
                json_decref(answer);
                return -EBADMSG;
        }

        r = table_init(&table, header, ELEMENTSOF(header));
        json_array_foreach(sessions, i, s) {
                char id[128], name[128], kind[128], source[128], created[64], used[64], expires[64];
                const char *current = json_is_true(json_object_get(s, "current")) ? "yes" : "no";
                const char *row[] = {id, name, kind, source, created, used, expires, current};

                if (r < 0)
                        break;
                format_cell(json_object_get(s, "id"), id);
                format_cell(json_object_get(s, "user"), name);
                format_cell(json_object_get(s, "kind"), kind);
                format_cell(json_object_get(s, "source"), source);
                format_time(json_object_get(s, "created"), "-", created);
                format_time(json_object_get(s, "last_used"), "-", used);
                format_time(json_object_get(s, "expires_at"), "never", expires);
                r = table_add(&table, row);
        }
        if (r >= 0)
                r = table_print(&table);
        table_free(&table);
        json_decref(answer);
        return r;
}

static int sessions_end(struct cli *c, int argc, char **argv) {
        return cli_delete_id(c, argc, argv, "steward sessions end ID", "session",
                             "/api/v1/sessions", "ended");
}

int verb_sessions(struct cli *c, int argc, char **argv) {
        if (argc == 0 || argv[0][0] == '-')
                return sessions_list(c, argc, argv);
        if (STREQ(argv[0], "list"))
                return sessions_list(c, argc - 1, argv + 1);
        if (STREQ(argv[0], "end"))
                return sessions_end(c, argc - 1, argv + 1);
        return usage_error("unknown sessions command \"%s\" (list or end)", argv[0]);
}
