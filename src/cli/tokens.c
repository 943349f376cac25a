/* tokens.c — `steward token create|list|revoke`: API tokens, for scripts
 * and monitoring, made by a logged-in user with a role no higher than their
 * own.
 *
 * The secret of a new token exists only in the server's answer to create:
 * it is printed once, on its own line, and the answer is wiped before it is
 * freed.  Everything else about a token (id, name, role, owner, times) can
 * be listed at any time; revoking takes the id.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define TOKEN_NAME_MAX 128

static const char create_synopsis[] =
        "token create NAME [--role monitor|operator|admin] [--expires SECONDS]";

static bool valid_token_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > TOKEN_NAME_MAX || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
                        return false;
        return true;
}

static bool valid_role(const char *s) {
        return STREQ(s, "monitor") || STREQ(s, "operator") || STREQ(s, "admin");
}

static int token_create(struct cli *c, int argc, char **argv) {
        const char *role = NULL, *expires = NULL, *secret;
        const struct verb_option opts[] = {
                {"role", 'r', &role, NULL},
                {"expires", 'e', &expires, NULL},
        };
        char *pos[1], cell[128], when[64];
        size_t npos = 0;
        uint64_t seconds = 0;
        json_t *body, *answer = NULL;
        int r;

        r = parse_verb_args(create_synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", create_synopsis);
        if (!valid_token_name(pos[0]))
                return usage_error("invalid token name \"%s\" (1 to %d characters, no control "
                                   "characters)",
                                   pos[0], TOKEN_NAME_MAX);
        if (role && !valid_role(role))
                return usage_error("invalid role \"%s\" (monitor, operator or admin)", role);
        if (expires && (safe_atou64(expires, &seconds) < 0 || seconds == 0 ||
                        seconds > (uint64_t)INT64_MAX / 2))
                return usage_error("invalid --expires \"%s\" (a number of seconds)", expires);

        body = json_pack("{s:s}", "name", pos[0]);
        if (!body)
                return -ENOMEM;
        if ((role && json_object_set_new(body, "role", json_string(role)) < 0) ||
            (expires &&
             json_object_set_new(body, "expires_in", json_integer((json_int_t)seconds)) < 0)) {
                json_decref(body);
                return -ENOMEM;
        }
        r = cli_call(c, "POST", "/api/v1/tokens", body, &answer);
        json_decref(body);
        if (r < 0)
                return r;

        secret = json_string_value(json_object_get(answer, "token"));
        if (c->json)
                r = print_json(answer);
        else if (!secret || !token_chars_ok(secret)) {
                fprintf(stderr, "steward: %s: malformed answer: no token secret\n", c->where);
                r = -EBADMSG;
        } else {
                format_cell(json_object_get(answer, "id"), cell);
                fputs("id:      ", stdout);
                fputs_sanitized(cell, stdout);
                format_cell(json_object_get(answer, "name"), cell);
                fputs("\nname:    ", stdout);
                fputs_sanitized(cell[0] ? cell : pos[0], stdout);
                format_cell(json_object_get(answer, "role"), cell);
                fputs("\nrole:    ", stdout);
                fputs_sanitized(cell, stdout);
                format_time(json_object_get(answer, "expires_at"), "never", when);
                fputs("\nexpires: ", stdout);
                fputs_sanitized(when, stdout);
                fputs("\nsecret:  ", stdout);
                fputs(secret, stdout);
                fputc('\n', stdout);
                fputs("steward: the secret is shown only this once: store it now (for example in "
                      "a file\n"
                      "         of mode 600 for --token-file)\n",
                      stderr);
        }

        if (secret)
                explicit_bzero((char *)secret, strlen(secret));
        json_decref(answer);
        return r;
}

static int token_list(struct cli *c, int argc, char **argv) {
        static const char *const header[] = {"ID", "NAME", "ROLE", "USER", "EXPIRES", "LAST_USED"};
        json_t *answer = NULL, *tokens, *t;
        struct table table;
        size_t i;
        int r;

        if (argc > 0)
                return usage_error("usage: steward token list");
        r = cli_call(c, "GET", "/api/v1/tokens", NULL, &answer);
        if (r < 0)
                return r;
        if (c->json) {
                r = print_json(answer);
                json_decref(answer);
                return r;
        }
        tokens = json_object_get(answer, "tokens");
        if (!json_is_array(tokens)) {
                fprintf(stderr, "steward: %s: malformed answer: no \"tokens\" list\n", c->where);
                json_decref(answer);
                return -EBADMSG;
        }

        r = table_init(&table, header, ELEMENTSOF(header));
        json_array_foreach(tokens, i, t) {
                char id[128], name[128], role[128], user[128], expires[64], used[64];
                const char *row[] = {id, name, role, user, expires, used};

                if (r < 0)
                        break;
                format_cell(json_object_get(t, "id"), id);
                format_cell(json_object_get(t, "name"), name);
                format_cell(json_object_get(t, "role"), role);
                format_cell(json_object_get(t, "user"), user);
                format_time(json_object_get(t, "expires_at"), "never", expires);
                format_time(json_object_get(t, "last_used"), "never", used);
                r = table_add(&table, row);
        }
        if (r >= 0)
                r = table_print(&table);
        table_free(&table);
        json_decref(answer);
        return r;
}

static int token_revoke(struct cli *c, int argc, char **argv) {
        return cli_delete_id(c, argc, argv, "steward token revoke ID", "token", "/api/v1/tokens",
                             "revoked");
}

int verb_token(struct cli *c, int argc, char **argv) {
        if (STREQ(argv[0], "create"))
                return token_create(c, argc - 1, argv + 1);
        if (STREQ(argv[0], "list"))
                return token_list(c, argc - 1, argv + 1);
        if (STREQ(argv[0], "revoke"))
                return token_revoke(c, argc - 1, argv + 1);
        return usage_error("unknown token command \"%s\" (create, list or revoke)", argv[0]);
}
