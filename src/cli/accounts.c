/* accounts.c — `steward users …` and `steward groups …`: the users and
 * groups collections (GET|POST|PATCH|DELETE /api/v1/{collection}[/{id}]).
 *
 * Each verb is a row of a table: its name, which request it makes, and the
 * options it takes; each option is a row too, naming the JSON field it
 * fills and how (a string, a number, true/false, a comma-separated list).
 * Option names follow useradd/usermod/groupadd where they overlap.
 *
 * Passwords: `--password=SECRET` sends it as given (visible to ps: for
 * scripts that have no better way); `--password` alone asks for it on the
 * terminal without echo, or reads one line from stdin when stdin is not a
 * terminal.  A generated password is printed once; answers holding one are
 * wiped before they are freed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define PASSWORD_CAP 258
#define ARGS_MAX     64

enum kind {
        K_STR,   /* "field": "value" */
        K_INT,   /* "field": 123 */
        K_TRUE,  /* "field": true */
        K_FALSE, /* "field": false */
        K_LIST,  /* "field": ["a", "b"] from "a,b" */
        K_QUERY, /* ?field=1 */
};

struct opt {
        const char *name;
        char short_name;
        const char *field;
        enum kind kind;
};

struct verb {
        const char *collection, *name, *method;
        bool takes_id;
        const struct opt *opts;
        size_t n_opts;
        json_t *fixed; /* set by the verb's code: fields always sent */
        const char *synopsis;
};

static const struct opt user_add_opts[] = {
        {"uid", 'u', "uid", K_INT},
        {"gid", 'g', "group", K_STR},
        {"groups", 'G', "groups", K_LIST},
        {"comment", 'c', "full_name", K_STR},
        {"home-dir", 'd', "home", K_STR},
        {"shell", 's', "shell", K_STR},
        {"create-home", 'm', "create_home", K_TRUE},
        {"no-create-home", 'M', "create_home", K_FALSE},
        {"generate-password", 0, "generate_password", K_TRUE},
        {"lock", 'L', "locked", K_TRUE},
        {"ssh-key", 'k', "ssh_keys", K_LIST},
};

static const struct opt user_modify_opts[] = {
        {"login", 'l', "new_name", K_STR},
        {"comment", 'c', "full_name", K_STR},
        {"home-dir", 'd', "home", K_STR},
        {"move-home", 'm', "move_home", K_TRUE},
        {"shell", 's', "shell", K_STR},
        {"gid", 'g', "group", K_STR},
        {"groups", 'G', "groups", K_LIST},
        {"append-groups", 'a', "add_groups", K_LIST},
        {"remove-groups", 'r', "remove_groups", K_LIST},
        {"lock", 'L', "locked", K_TRUE},
        {"unlock", 'U', "locked", K_FALSE},
        {"generate-password", 0, "generate_password", K_TRUE},
        {"expire", 'e', "expire_password", K_TRUE},
        {"ssh-key", 'k', "add_ssh_keys", K_LIST},
        {"remove-ssh-key", 0, "remove_ssh_keys", K_LIST},
        {"force", 'f', "force", K_TRUE},
};

static const struct opt user_delete_opts[] = {
        {"remove", 'r', "remove_home", K_QUERY},
        {"kill", 0, "kill_processes", K_QUERY},
        {"force", 'f', "force", K_QUERY},
};

static const struct opt user_passwd_opts[] = {
        {"generate", 0, "generate_password", K_TRUE},
        {"expire", 'e', "expire_password", K_TRUE},
        {"force", 'f', "force", K_TRUE},
};

static const struct opt user_lock_opts[] = {
        {"force", 'f', "force", K_TRUE},
};

static const struct opt group_delete_opts[] = {
        {"force", 'f', "force", K_QUERY},
};

static const struct opt group_add_opts[] = {
        {"gid", 'g', "gid", K_INT},
        {"members", 'U', "members", K_LIST},
};

static const struct opt group_modify_opts[] = {
        {"new-name", 'n', "new_name", K_STR},
        {"force", 'f', "force", K_TRUE},
};

static const struct opt group_members_opts[] = {
        {"add", 'a', "add_members", K_LIST},
        {"remove", 'd', "remove_members", K_LIST},
        {"set", 'M', "members", K_LIST},
        {"force", 'f', "force", K_TRUE},
};

static const struct opt list_opts[] = {
        {"type", 't', "type", K_QUERY},
        {"group", 'g', "group", K_QUERY},
        {"prefix", 'p', "prefix", K_QUERY},
        {"limit", 'n', "limit", K_QUERY},
};

#define V(c, n, m, id, o, syn)                                                                     \
        { c, n, m, id, o, ELEMENTSOF(o), NULL, syn }

static const struct verb verbs[] = {
        V("users", "add", "POST", false, user_add_opts,
          "users add NAME [--uid N] [--gid GROUP] [--groups G,…] [--comment TEXT] [--home-dir DIR] "
          "[--shell SHELL] [--create-home|--no-create-home] [--password[=PW]|--generate-password|"
          "--lock] [--ssh-key KEY] [--dry-run]"),
        V("users", "modify", "PATCH", true, user_modify_opts,
          "users modify NAME [--login NEW] [--comment TEXT] [--home-dir DIR [--move-home]] "
          "[--shell SHELL] [--gid GROUP] [--groups G,…|--append-groups G,…|--remove-groups G,…] "
          "[--lock|--unlock] [--password[=PW]|--generate-password] [--expire] [--ssh-key KEY] "
          "[--remove-ssh-key KEY] [--force] [--dry-run]"),
        V("users", "delete", "DELETE", true, user_delete_opts,
          "users delete NAME [--remove] [--kill] [--force] [--dry-run]"),
        V("users", "passwd", "PATCH", true, user_passwd_opts,
          "users passwd NAME [--password[=PW]|--generate] [--expire] [--force] [--dry-run]"),
        V("users", "lock", "PATCH", true, user_lock_opts, "users lock NAME [--force] [--dry-run]"),
        V("users", "unlock", "PATCH", true, user_lock_opts,
          "users unlock NAME [--force] [--dry-run]"),
        V("groups", "add", "POST", false, group_add_opts,
          "groups add NAME [--gid N] [--members U,…] [--dry-run]"),
        V("groups", "modify", "PATCH", true, group_modify_opts,
          "groups modify NAME --new-name NEW [--force] [--dry-run]"),
        V("groups", "delete", "DELETE", true, group_delete_opts,
          "groups delete NAME [--force] [--dry-run]"),
        V("groups", "members", "PATCH", true, group_members_opts,
          "groups members NAME [--add U,…] [--remove U,…] [--set U,…] [--force] [--dry-run]"),
};

static int put_list(json_t *body, const char *field, const char *value) {
        json_t *list = json_object_get(body, field);
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        if (!list) {
                list = json_array();
                if (!list || json_object_set_new(body, field, list) < 0)
                        return -ENOMEM;
        }
        /* A key has spaces but no commas; a list of names has commas. */
        if (STREQ(field, "ssh_keys") || STREQ(field, "add_ssh_keys") ||
            STREQ(field, "remove_ssh_keys"))
                return json_array_append_new(list, json_string(value)) < 0 ? -ENOMEM : 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (json_array_append_new(list, json_string(t)) < 0)
                        return -ENOMEM;
        return 0;
}

static int append_query(char **target, const char *key, const char *value) {
        _cleanup_free_ char *esc = NULL;
        char *n = NULL;

        if (url_escape(value, &esc) < 0)
                return -ENOMEM;
        if (asprintf(&n, "%s%s%s=%s", *target, strchr(*target, '?') ? "&" : "?", key, esc) < 0)
                return -ENOMEM;
        free(*target);
        *target = n;
        return 0;
}

static void print_plan(json_t *plan) {
        json_t *v, *a;
        size_t i, j;

        json_array_foreach(json_object_get(plan, "commands"), i, v) {
                fputs("would run:", stdout);
                json_array_foreach(v, j, a) {
                        fputc(' ', stdout);
                        fputs_sanitized(json_string_value(a) ?: "", stdout);
                }
                fputc('\n', stdout);
        }
        json_array_foreach(json_object_get(plan, "warnings"), i, v) {
                fputs("warning: ", stdout);
                fputs_sanitized(json_string_value(v) ?: "", stdout);
                fputc('\n', stdout);
        }
        print_file_diffs(json_object_get(plan, "files"));
}

static int print_item(const char *collection, json_t *item) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s:%s", collection,
                 json_string_value(json_object_get(item, "name")) ?: "?");
        return print_kv(prefix, item);
}

static int run_write(struct cli *c, const struct verb *v, int argc, char **argv) {
        const char *values[ARGS_MAX] = {0}, *password_value = NULL;
        bool flags[ARGS_MAX] = {0}, dry_run = false, password_flag = false;
        struct verb_option opts[ARGS_MAX];
        size_t n = 0, npos = 0;
        char *pos[1], *args[256], password[PASSWORD_CAP];
        _cleanup_free_ char *target = NULL, *esc = NULL;
        json_t *body = NULL, *answer = NULL;
        const char *secret;
        bool takes_password =
                STREQ(v->collection, "users") &&
                (STREQ(v->name, "add") || STREQ(v->name, "modify") || STREQ(v->name, "passwd"));
        int nargs = 0, r;

        /* --password=VALUE is taken here; --password alone is a flag. */
        for (int i = 0; i < argc && nargs < (int)ELEMENTSOF(args); i++) {
                if (takes_password && strncmp(argv[i], "--password=", 11) == 0)
                        password_value = argv[i] + 11;
                else
                        args[nargs++] = argv[i];
        }
        for (size_t i = 0; i < v->n_opts; i++) {
                /* Query options of a write are flags (?remove_home=1). */
                bool flag = v->opts[i].kind != K_STR && v->opts[i].kind != K_INT &&
                            v->opts[i].kind != K_LIST;
                opts[n++] = (struct verb_option){v->opts[i].name, v->opts[i].short_name,
                                                 flag ? NULL : &values[i], flag ? &flags[i] : NULL};
        }
        opts[n++] = (struct verb_option){"dry-run", 'n', NULL, &dry_run};
        if (takes_password)
                opts[n++] = (struct verb_option){"password", 'p', NULL, &password_flag};
        r = parse_verb_args(v->synopsis, nargs, args, opts, n, pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", v->synopsis);

        body = json_object();
        if (!body)
                return -ENOMEM;
        if (asprintf(&target, "/api/v1/%s", v->collection) < 0)
                goto oom;
        if (v->takes_id) {
                char *t = NULL;
                if (url_escape(pos[0], &esc) < 0 || asprintf(&t, "%s/%s", target, esc) < 0)
                        goto oom;
                free(target);
                target = t;
        } else if (json_object_set_new(body, "name", json_string(pos[0])) < 0)
                goto oom;
        for (size_t i = 0; i < v->n_opts; i++) {
                const struct opt *o = &v->opts[i];
                if (!values[i] && !flags[i])
                        continue;
                switch (o->kind) {
                case K_STR:
                        r = json_object_set_new(body, o->field, json_string(values[i]));
                        break;
                case K_INT: {
                        int64_t x;
                        if (safe_atoi64(values[i], &x) < 0) {
                                json_decref(body);
                                return usage_error("--%s takes a number", o->name);
                        }
                        r = json_object_set_new(body, o->field, json_integer(x));
                        break;
                }
                case K_TRUE:
                case K_FALSE:
                        r = json_object_set_new(body, o->field, json_boolean(o->kind == K_TRUE));
                        break;
                case K_LIST:
                        r = put_list(body, o->field, values[i]);
                        break;
                case K_QUERY:
                        r = append_query(&target, o->field, flags[i] ? "1" : values[i]);
                        break;
                }
                if (r < 0)
                        goto oom;
        }
        if (STREQ(v->name, "lock") || STREQ(v->name, "unlock"))
                json_object_set_new(body, "locked", json_boolean(STREQ(v->name, "lock")));
        if (password_flag && password_value) {
                json_decref(body);
                return usage_error("give --password or --password=VALUE, not both");
        }
        if (password_flag) {
                char prompt[128];
                snprintf(prompt, sizeof prompt, "New password for %s: ", pos[0]);
                r = read_secret(prompt, password, sizeof password);
                if (r < 0) {
                        json_decref(body);
                        return r;
                }
                password_value = password;
        }
        if (password_value)
                json_object_set_new(body, "password", json_string(password_value));
        if (password_flag)
                explicit_bzero(password, sizeof password);
        if (dry_run && append_query(&target, "dry_run", "1") < 0)
                goto oom;

        r = cli_call(c, v->method, target, STREQ(v->method, "DELETE") ? NULL : body, &answer);
        {
                json_t *pw = json_object_get(body, "password");
                if (json_is_string(pw))
                        explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
        }
        json_decref(body);
        if (r < 0)
                return r;
        secret = json_string_value(json_object_get(answer, "password"));
        if (c->json)
                r = print_json(answer);
        else if (dry_run)
                print_plan(json_object_get(answer, "plan"));
        else {
                json_t *item =
                        json_object_get(answer, STREQ(v->collection, "users") ? "user" : "group");
                if (item)
                        print_item(v->collection, item);
                printf("audit record %lld\n",
                       (long long)json_integer_value(json_object_get(answer, "audit_id")));
                {
                        size_t i;
                        json_t *w;
                        json_array_foreach(json_object_get(answer, "warnings"), i, w)
                                fprintf(stderr, "steward: warning: %s\n", json_string_value(w));
                }
                if (secret) {
                        fputs("password: ", stdout);
                        fputs(secret, stdout);
                        fputc('\n', stdout);
                        fputs("steward: the password is shown only this once\n", stderr);
                }
        }
        if (secret)
                explicit_bzero((char *)secret, strlen(secret));
        json_decref(answer);
        return r;
oom:
        json_decref(body);
        return -ENOMEM;
}

static int run_list(struct cli *c, const char *collection, int argc, char **argv) {
        static const char *const user_header[] = {"NAME", "UID",   "GID",      "GROUP", "FULL_NAME",
                                                  "HOME", "SHELL", "PASSWORD", "LOCAL"};
        static const char *const group_header[] = {"NAME", "GID", "MEMBERS", "LOCAL"};
        const char *values[ELEMENTSOF(list_opts)] = {0};
        struct verb_option opts[ELEMENTSOF(list_opts) + 1];
        bool all = false, users = STREQ(collection, "users");
        char synopsis[160], *pos[1];
        _cleanup_free_ char *base = NULL;
        json_t *merged = json_array(), *item;
        struct table t;
        size_t npos = 0, i;
        int r;

        snprintf(synopsis, sizeof synopsis,
                 "%s list [--type regular|system|all]%s [--prefix P] [--limit N] [--all]",
                 collection, users ? " [--group G]" : "");
        for (i = 0; i < ELEMENTSOF(list_opts); i++)
                opts[i] = (struct verb_option){list_opts[i].name, list_opts[i].short_name,
                                               &values[i], NULL};
        opts[i] = (struct verb_option){"all", 'A', NULL, &all};
        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 0, &npos);
        if (r < 0 || !merged) {
                json_decref(merged);
                return r < 0 ? r : -ENOMEM;
        }
        if (asprintf(&base, "/api/v1/%s", collection) < 0)
                return -ENOMEM;
        for (i = 0; i < ELEMENTSOF(list_opts); i++)
                if (values[i] && (users || !STREQ(list_opts[i].name, "group")) &&
                    append_query(&base, list_opts[i].field, values[i]) < 0)
                        return -ENOMEM;
        for (const char *cursor = NULL;;) {
                _cleanup_free_ char *target = strdup(base);
                json_t *answer = NULL;
                if (!target || (cursor && append_query(&target, "cursor", cursor) < 0))
                        return -ENOMEM;
                r = cli_call(c, "GET", target, NULL, &answer);
                if (r < 0) {
                        json_decref(merged);
                        return r;
                }
                json_array_extend(merged, json_object_get(answer, collection));
                json_t *next = json_object_get(answer, "next");
                static char cur[256];
                if (!all || !json_is_string(next)) {
                        json_decref(answer);
                        break;
                }
                snprintf(cur, sizeof cur, "%s", json_string_value(next));
                cursor = cur;
                json_decref(answer);
        }
        if (c->json) {
                r = print_json(json_pack("{s:o}", collection, merged));
                return r;
        }
        r = users ? table_init(&t, user_header, ELEMENTSOF(user_header))
                  : table_init(&t, group_header, ELEMENTSOF(group_header));
        json_array_foreach(merged, i, item) {
                char cells[9][128];
                const char *row[9];
                if (r < 0)
                        break;
                if (users) {
                        static const char *const keys[] = {
                                "name",      "uid",  "gid",   "group",
                                "full_name", "home", "shell", "password_state",
                                "local"};
                        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                                format_cell(json_object_get(item, keys[k]), cells[k]);
                                row[k] = cells[k];
                        }
                } else {
                        struct buf b;
                        json_t *m;
                        size_t k;
                        buf_init(&b, 127);
                        json_array_foreach(json_object_get(item, "members"), k, m) {
                                if (k)
                                        (void)buf_puts(&b, ",");
                                (void)buf_puts(&b, json_string_value(m) ?: "");
                        }
                        format_cell(json_object_get(item, "name"), cells[0]);
                        format_cell(json_object_get(item, "gid"), cells[1]);
                        snprintf(cells[2], sizeof cells[2], "%s", b.data ? b.data : "");
                        buf_free(&b);
                        format_cell(json_object_get(item, "local"), cells[3]);
                        for (k = 0; k < 4; k++)
                                row[k] = cells[k];
                }
                r = table_add(&t, row);
        }
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        json_decref(merged);
        return r;
}

static int run_show(struct cli *c, const char *collection, int argc, char **argv) {
        bool home_size = false, users = STREQ(collection, "users");
        const struct verb_option opts[] = {{"home-size", 0, NULL, &home_size}};
        _cleanup_free_ char *target = NULL, *esc = NULL;
        json_t *answer = NULL;
        char *pos[1], synopsis[64];
        size_t npos = 0;
        int r;

        snprintf(synopsis, sizeof synopsis, "%s show NAME%s", collection,
                 users ? " [--home-size]" : "");
        r = parse_verb_args(synopsis, argc, argv, opts, users ? 1 : 0, pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", synopsis);
        if (url_escape(pos[0], &esc) < 0 || asprintf(&target, "/api/v1/%s/%s%s", collection, esc,
                                                     home_size ? "?home_size=1" : "") < 0)
                return -ENOMEM;
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer) : print_item(collection, answer);
        json_decref(answer);
        return r;
}

static int run(struct cli *c, const char *collection, int argc, char **argv) {
        if (STREQ(argv[0], "list"))
                return run_list(c, collection, argc - 1, argv + 1);
        if (STREQ(argv[0], "show"))
                return run_show(c, collection, argc - 1, argv + 1);
        if (STREQ(collection, "groups") && STREQ(argv[0], "members") && argc == 2)
                return run_show(c, collection, argc - 1, argv + 1);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (STREQ(verbs[i].collection, collection) && STREQ(verbs[i].name, argv[0]))
                        return run_write(c, &verbs[i], argc - 1, argv + 1);
        return usage_error("unknown %s command \"%s\" (%s)", collection, argv[0],
                           STREQ(collection, "users")
                                   ? "list, show, add, modify, delete, lock, unlock or passwd"
                                   : "list, show, add, modify, delete or members");
}

int verb_users(struct cli *c, int argc, char **argv) {
        return run(c, "users", argc, argv);
}

int verb_groups(struct cli *c, int argc, char **argv) {
        return run(c, "groups", argc, argv);
}
