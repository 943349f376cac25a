/* settings.c — `steward settings` (read, change, dry run, from stdin) and
 * `steward command`.
 *
 * Assignments on the command line arrive without the quotes the shell
 * removed, so a VALUE is first read as kv value syntax (42, yes, "x",
 * _empty_array…) and, when it is not valid syntax, taken as a plain string.
 * The module's schema then decides: a string or enum setting gets the text as
 * typed even if it looked like a number; an integer setting accepts a string
 * of digits; a boolean accepts yes/no/true/false/on/off/1/0.  Anything the
 * schema does not know is sent as read, and the server's validation has the
 * last word.
 *
 * The coerced assignments are then written as kv lines and parsed by
 * kv_parse(), which builds the nested body and rejects duplicate or
 * conflicting paths exactly as it does for stdin; the line number of an error
 * is the position of the assignment.  Paths are checked to contain only key
 * characters before they are written into a line, and values are written
 * with kv_format_value(), so an argument cannot inject a line.
 *
 * One PATCH per module, in the order the modules first appear; each PATCH is
 * all-or-nothing on the server, but a later module's failure does not undo
 * an earlier module's change (the changes made are printed before the error).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "kv.h"
#include "util.h"

struct assignment {
        char *path;       /* MODULE:KEY… (settings) or ARG… (command), trimmed */
        const char *word; /* the value as given */
        char *word_copy;  /* when the value had to be trimmed */
};

static void assignments_free(struct assignment *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].path);
                free(a[i].word_copy);
        }
        free(a);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static char *strndup_trimmed(const char *s, size_t n) {
        while (n > 0 && is_blank(*s)) {
                s++;
                n--;
        }
        while (n > 0 && is_blank(s[n - 1]))
                n--;
        return strndup(s, n);
}

/* Key characters and ':' only, so that a path cannot escape its kv line. */
static bool path_chars_ok(const char *p) {
        if (!p[0])
                return false;
        for (; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
                        return false;
        return true;
}

/* Reads the forms  PATH = VALUE,  PATH =VALUE,  PATH=VALUE  and one word
 * "PATH = VALUE"; in the one-word forms the value ends at the end of the word
 * (trimmed), so PATH= is an empty value. */
static int parse_assignments(int argc, char **argv, struct assignment **ret, size_t *ret_n) {
        struct assignment *a;
        size_t n = 0;
        int i = 0;

        a = calloc((size_t)argc + 1, sizeof *a);
        if (!a)
                return -ENOMEM;

        while (i < argc) {
                const char *w = argv[i], *eq = strchr(w, '=');
                struct assignment *x = &a[n++];

                if (eq) {
                        x->path = strndup_trimmed(w, (size_t)(eq - w));
                        x->word_copy = strndup_trimmed(eq + 1, strlen(eq + 1));
                        x->word = x->word_copy;
                        i++;
                } else {
                        const char *next = i + 1 < argc ? argv[i + 1] : NULL;

                        x->path = strdup(w);
                        if (!next || next[0] != '=') {
                                assignments_free(a, n);
                                return usage_error("expected '=' after \"%s\"", w);
                        }
                        if (next[1] == '\0') {
                                if (i + 2 >= argc) {
                                        assignments_free(a, n);
                                        return usage_error("missing value after \"%s =\"", w);
                                }
                                x->word = argv[i + 2];
                                i += 3;
                        } else {
                                x->word_copy = strndup_trimmed(next + 1, strlen(next + 1));
                                x->word = x->word_copy;
                                i += 2;
                        }
                }
                if (!x->path || !x->word) {
                        assignments_free(a, n);
                        return -ENOMEM;
                }
                if (!path_chars_ok(x->path)) {
                        int r = usage_error("invalid key \"%s\"", x->path);
                        assignments_free(a, n);
                        return r;
                }
        }

        *ret = a;
        *ret_n = n;
        return 0;
}

/* The value of a command-line word: kv syntax if it is, else the text. */
static int word_value(const char *word, json_t **ret) {
        json_t *v = NULL;

        if (kv_parse_value(word, strlen(word), &v, NULL) >= 0) {
                *ret = v;
                return 0;
        }
        if (!utf8_valid(word, strlen(word)))
                return usage_error("the value \"%s\" is not valid UTF-8 text", word);
        v = json_string(word);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static bool all_digits(const char *s) {
        if (*s == '-')
                s++;
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Applies the schema type to a value read from a command-line word. */
static int coerce(const char *type, bool element, const char *word, json_t **v) {
        const char *text = json_is_string(*v) ? json_string_value(*v) : word;
        json_t *n = NULL;

        if (!type)
                return 0;
        if (element && STREQ(type, "string_array"))
                type = "string";

        if (STREQ(type, "string") || STREQ(type, "enum")) {
                if (json_is_string(*v))
                        return 0;
                if (!utf8_valid(word, strlen(word)))
                        return usage_error("the value \"%s\" is not valid UTF-8 text", word);
                n = json_string(word);
        } else if (STREQ(type, "integer")) {
                int64_t i;

                if (!json_is_string(*v) || !all_digits(text) || safe_atoi64(text, &i) < 0)
                        return 0;
                n = json_integer(i);
        } else if (STREQ(type, "boolean")) {
                static const char *const yes[] = {"yes", "true", "on", "1"};
                static const char *const no[] = {"no", "false", "off", "0"};

                if (json_is_boolean(*v))
                        return 0;
                for (size_t i = 0; i < ELEMENTSOF(yes) && !n; i++) {
                        if (strcasecmp(text, yes[i]) == 0)
                                n = json_true();
                        else if (strcasecmp(text, no[i]) == 0)
                                n = json_false();
                }
                if (!n)
                        return 0;
        } else
                return 0;

        if (!n)
                return -ENOMEM;
        json_decref(*v);
        *v = n;
        return 0;
}

/* The schema key an assignment addresses: the path up to the first
 * _array_index (then *ret_element is true). */
static char *base_key(const char *key, bool *ret_element) {
        const char *idx = strstr(key, "_array_index");

        while (idx && !(idx == key || idx[-1] == ':'))
                idx = strstr(idx + 1, "_array_index");
        *ret_element = idx != NULL;
        if (!idx)
                return strdup(key);
        return strndup(key, idx > key ? (size_t)(idx - key - 1) : 0);
}

static json_t *find_by(json_t *list, const char *field, const char *value) {
        size_t i;
        json_t *item;

        json_array_foreach(list, i, item) {
                const char *s = json_string_value(json_object_get(item, field));

                if (s && STREQ(s, value))
                        return item;
        }
        return NULL;
}

static int get_schema(struct cli *c, const char *module, json_t **ret) {
        _cleanup_free_ char *target = NULL;

        if (asprintf(&target, "/api/v1/modules/%s/schema", module) < 0) {
                target = NULL;
                return -ENOMEM;
        }
        return cli_call(c, "GET", target, NULL, ret);
}

/* Writes "PATH = VALUE" lines and parses them into one tree.  values[i] are
 * borrowed. */
static int build_tree(const struct assignment *a, json_t *const *values, size_t n, json_t **ret) {
        struct buf text;
        struct kv_error e = {};
        json_t *tree = NULL;
        int r = 0;

        buf_init(&text, STDIN_MAX);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *v = NULL;

                r = kv_format_value(values[i], &v);
                if (r >= 0)
                        r = buf_printf(&text, "%s = %s\n", a[i].path, v);
        }
        if (r < 0) {
                buf_free(&text);
                return r == -ENOMEM ? r : usage_error("the assignments are too long");
        }

        r = kv_parse(text.data ? text.data : "", text.len, &tree, &e);
        buf_free(&text);
        if (r < 0) {
                /* Conflict messages already quote the path. */
                if (e.line >= 1 && e.line <= n && e.message[0] != '"')
                        return usage_error("%s: %s", a[e.line - 1].path, e.message);
                return usage_error("%s", e.message);
        }
        *ret = tree;
        return 0;
}

/* A settings key: valid components joined by ':'. */
static bool valid_key(const char *key) {
        const char *p = key;

        for (;;) {
                const char *end = strchrnul(p, ':');

                if (!kv_valid_component(p, (size_t)(end - p)))
                        return false;
                if (!*end)
                        return true;
                p = end + 1;
        }
}

static json_t *tree_lookup(json_t *tree, const char *key) {
        _cleanup_free_ char *copy = strdup(key);
        char *save = NULL;

        if (!copy)
                return NULL;
        for (char *p = strtok_r(copy, ":", &save); p && tree; p = strtok_r(NULL, ":", &save))
                tree = json_object_get(tree, p);
        return tree;
}

/* After a real change: prints the new values of what changed. */
static int print_changes(struct cli *c, const char *module, json_t *answer) {
        _cleanup_free_ char *target = NULL;
        json_t *changed = json_object_get(answer, "changed"), *settings = NULL, *k;
        size_t i;
        int r;

        if (json_is_true(json_object_get(answer, "restart_required")))
                fprintf(stderr,
                        "steward: %s: the change takes effect after a restart (steward restart "
                        "%s)\n",
                        module, module);

        print_warnings(answer);
        if (json_array_size(changed) == 0) {
                /* Exit 0: what was asked for is what is set. */
                fprintf(stderr,
                        "steward: %s: nothing changed (the settings already have these "
                        "values)\n",
                        module);
                return 0;
        }

        if (asprintf(&target, "/api/v1/modules/%s/settings", module) < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "GET", target, NULL, &settings);
        if (r < 0)
                return r;

        json_array_foreach(changed, i, k) {
                const char *key = json_string_value(k);
                _cleanup_free_ char *prefix = NULL;
                json_t *sub;

                if (!key || !valid_key(key))
                        continue;
                sub = tree_lookup(settings, key);
                if (!sub)
                        continue; /* write-only, such as a secret */
                if (asprintf(&prefix, "%s:%s", module, key) < 0) {
                        prefix = NULL;
                        json_decref(settings);
                        return -ENOMEM;
                }
                r = print_kv(prefix, sub);
                if (r < 0) {
                        json_decref(settings);
                        return r;
                }
        }
        json_decref(settings);
        return 0;
}

static void print_plan(const char *module, json_t *answer) {
        json_t *changed = json_object_get(answer, "changed"), *k;
        size_t i;

        if (print_file_diffs(json_object_get(answer, "files")) > 0)
                return;

        if (json_array_size(changed) == 0) {
                printf("%s: no changes\n", module);
                return;
        }
        printf("%s: would change", module);
        json_array_foreach(changed, i, k) {
                const char *key = json_string_value(k);

                fputs(i == 0 ? " " : ", ", stdout);
                fputs_sanitized(key ? key : "?", stdout);
        }
        fputs(" (no file changes)\n", stdout);
}

/* Sends tree[module] to each module, one PATCH each. */
static int patch_modules(struct cli *c, json_t *tree, bool dry_run) {
        json_t *answers = json_array(), *body;
        const char *module;
        int r = 0;

        if (!answers)
                return -ENOMEM;

        json_object_foreach(tree, module, body) {
                _cleanup_free_ char *target = NULL;
                json_t *answer = NULL;

                if (!valid_name(module)) {
                        r = usage_error("invalid module name \"%s\"", module);
                        break;
                }
                if (asprintf(&target, "/api/v1/modules/%s/settings%s", module,
                             dry_run ? "?dry_run=1" : "") < 0) {
                        target = NULL;
                        r = -ENOMEM;
                        break;
                }
                r = cli_call(c, "PATCH", target, body, &answer);
                if (r < 0)
                        break;

                if (c->json)
                        json_array_append_new(answers, answer);
                else {
                        if (dry_run || c->dry_run)
                                print_plan(module, answer);
                        else
                                r = print_changes(c, module, answer);
                        json_decref(answer);
                        if (r < 0)
                                break;
                }
        }

        if (c->json && json_array_size(answers) > 0) {
                int k = print_json_answers(answers);
                if (r >= 0)
                        r = k;
        }
        json_decref(answers);
        return r;
}

static int read_stdin(char **ret, size_t *ret_len) {
        struct buf b;
        char chunk[65536];

        buf_init(&b, STDIN_MAX);
        for (;;) {
                ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        buf_free(&b);
                        fprintf(stderr, "steward: cannot read stdin: %s\n", strerror(-r));
                        return -EIO;
                }
                if (n == 0)
                        break;
                r = buf_append(&b, chunk, (size_t)n);
                if (r < 0) {
                        buf_free(&b);
                        if (r == -E2BIG) {
                                fprintf(stderr, "steward: stdin is larger than %zu MiB\n",
                                        STDIN_MAX / 1024 / 1024);
                                return -EINVAL;
                        }
                        return r;
                }
        }
        *ret_len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int settings_from_stdin(struct cli *c, bool dry_run) {
        _cleanup_free_ char *text = NULL;
        struct kv_error e = {};
        json_t *tree = NULL, *v;
        const char *module;
        size_t len = 0;
        int r;

        if (isatty(STDIN_FILENO))
                fputs("steward: reading MODULE:KEY = VALUE lines from stdin (end with Ctrl-D)\n",
                      stderr);

        r = read_stdin(&text, &len);
        if (r < 0)
                return r;

        r = kv_parse(text, len, &tree, &e);
        if (r < 0) {
                if (r == -ENOMEM)
                        return r;
                fprintf(stderr, "steward: stdin: line %u, column %u: ", e.line, e.column);
                fputs_sanitized(e.message, stderr);
                fputc('\n', stderr);
                return -EINVAL;
        }

        json_object_foreach(tree, module, v) if (!json_is_object(v)) {
                fprintf(stderr, "steward: stdin: \"%s\" has no key: write %s:KEY = VALUE\n", module,
                        module);
                json_decref(tree);
                return -EINVAL;
        }

        r = patch_modules(c, tree, dry_run);
        json_decref(tree);
        return r;
}

static int settings_from_args(struct cli *c, int argc, char **argv, bool dry_run) {
        struct assignment *a = NULL;
        json_t **values = NULL, *schemas = NULL, *tree = NULL;
        size_t n = 0;
        int r;

        r = parse_assignments(argc, argv, &a, &n);
        if (r < 0)
                return r;

        /* Everything local first: module names and keys. */
        for (size_t i = 0; i < n; i++) {
                char *colon = strchr(a[i].path, ':');

                if (!colon || colon[1] == '\0') {
                        r = usage_error("\"%s\": expected MODULE:KEY = VALUE", a[i].path);
                        goto out;
                }
                *colon = '\0';
                if (!valid_name(a[i].path)) {
                        r = usage_error("invalid module name \"%s\"", a[i].path);
                        *colon = ':';
                        goto out;
                }
                *colon = ':';
        }

        values = calloc(n + 1, sizeof *values);
        schemas = json_object();
        if (!values || !schemas) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                r = word_value(a[i].word, &values[i]);
                if (r < 0)
                        goto out;
        }

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *module = NULL, *key = NULL;
                char *colon = strchr(a[i].path, ':');
                json_t *schema, *setting;
                bool element;

                module = strndup(a[i].path, (size_t)(colon - a[i].path));
                key = module ? base_key(colon + 1, &element) : NULL;
                if (!key) {
                        r = -ENOMEM;
                        goto out;
                }
                schema = json_object_get(schemas, module);
                if (!schema) {
                        r = get_schema(c, module, &schema);
                        if (r < 0)
                                goto out;
                        json_object_set_new(schemas, module, schema);
                }
                setting = find_by(json_object_get(schema, "settings"), "key", key);
                r = coerce(json_string_value(json_object_get(setting, "type")), element, a[i].word,
                           &values[i]);
                if (r < 0)
                        goto out;
        }

        r = build_tree(a, values, n, &tree);
        if (r < 0)
                goto out;
        r = patch_modules(c, tree, dry_run);

out:
        json_decref(tree);
        json_decref(schemas);
        for (size_t i = 0; values && i < n; i++)
                json_decref(values[i]);
        free(values);
        assignments_free(a, n);
        return r;
}

/* Prints settings: each argument is MODULE or MODULE:KEY. */
static int settings_show(struct cli *c, int argc, char **argv) {
        json_t *answers = json_array();
        int r = 0;

        if (!answers)
                return -ENOMEM;

        for (int i = 0; i < argc; i++) {
                const char *colon = strchr(argv[i], ':');
                _cleanup_free_ char *module =
                        strndup(argv[i], colon ? (size_t)(colon - argv[i]) : strlen(argv[i]));

                if (!module) {
                        r = -ENOMEM;
                        goto out;
                }
                if (!valid_name(module)) {
                        r = usage_error("invalid module name \"%s\"", module);
                        goto out;
                }
                if (colon && !valid_key(colon + 1)) {
                        r = usage_error("invalid key \"%s\"", colon + 1);
                        goto out;
                }
        }

        for (int i = 0; i < argc; i++) {
                const char *colon = strchr(argv[i], ':');
                _cleanup_free_ char *module = NULL, *target = NULL, *escaped = NULL;
                json_t *answer = NULL;

                module = strndup(argv[i], colon ? (size_t)(colon - argv[i]) : strlen(argv[i]));
                if (!module || (colon && url_escape(colon + 1, &escaped) < 0)) {
                        r = -ENOMEM;
                        goto out;
                }
                if (asprintf(&target, "/api/v1/modules/%s/settings%s%s", module,
                             escaped ? "?key=" : "", escaped ? escaped : "") < 0) {
                        target = NULL;
                        r = -ENOMEM;
                        goto out;
                }
                r = cli_call(c, "GET", target, NULL, &answer);
                if (r < 0)
                        goto out;
                if (c->json)
                        json_array_append_new(answers, answer);
                else {
                        r = print_kv(module, answer);
                        json_decref(answer);
                        if (r < 0)
                                goto out;
                }
        }

out:
        if (c->json && json_array_size(answers) > 0) {
                int k = print_json_answers(answers);
                if (r >= 0)
                        r = k;
        }
        json_decref(answers);
        return r;
}

int verb_settings(struct cli *c, int argc, char **argv) {
        bool dry_run = false, assign = false;
        int i = 0;

        for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
                if (STREQ(argv[i], "--")) {
                        i++;
                        break;
                }
                if (STREQ(argv[i], "--dry-run") || STREQ(argv[i], "-n"))
                        dry_run = true;
                else
                        return usage_error("unknown settings option \"%s\"", argv[i]);
        }
        argc -= i;
        argv += i;

        if (argc == 0 || (argc == 1 && STREQ(argv[0], "-")))
                return settings_from_stdin(c, dry_run);

        for (int k = 0; k < argc; k++) {
                if (STREQ(argv[k], "-"))
                        return usage_error("'-' (stdin) cannot be combined with other arguments");
                if (strchr(argv[k], '='))
                        assign = true;
        }
        if (assign)
                return settings_from_args(c, argc, argv, dry_run);
        if (dry_run)
                return usage_error("--dry-run needs assignments (MODULE:KEY = VALUE) or stdin");
        return settings_show(c, argc, argv);
}

/* `steward command MODULE:NAME --help`: what the command does, who may run
 * it and its arguments, from the module's schema. */
static int command_help(struct cli *c, const char *module, const char *name) {
        json_t *schema = NULL, *cmd, *a;
        size_t i;
        int r;

        r = get_schema(c, module, &schema);
        if (r < 0)
                return r;
        cmd = find_by(json_object_get(schema, "commands"), "name", name);
        if (!cmd) {
                json_decref(schema);
                return usage_error("%s has no command \"%s\"", module, name);
        }
        printf("usage: steward command %s:%s [ARG=VALUE ...]\n", module, name);
        fputs_sanitized(json_string_value(json_object_get(cmd, "summary")) ?: "", stdout);
        printf("\nNeeds the role %s (or higher); %s.\n",
               json_string_value(json_object_get(cmd, "min_role")) ?: "admin",
               json_is_true(json_object_get(cmd, "changes_state")) ? "changes state, audited"
                                                                   : "reads only");
        json_array_foreach(json_object_get(cmd, "args"), i, a) {
                printf("  %s=%s%s  ", json_string_value(json_object_get(a, "name")) ?: "?",
                       json_string_value(json_object_get(a, "type")) ?: "?",
                       json_is_true(json_object_get(a, "required")) ? " (required)" : "");
                fputs_sanitized(json_string_value(json_object_get(a, "description")) ?: "", stdout);
                fputc('\n', stdout);
        }
        json_decref(schema);
        return 0;
}

int verb_command(struct cli *c, int argc, char **argv) {
        _cleanup_free_ char *module = NULL, *target = NULL, *prefix = NULL;
        const char *colon = strchr(argv[0], ':'), *name;
        struct assignment *a = NULL;
        json_t **values = NULL, *schema = NULL, *body = NULL, *answer = NULL, *cmd;
        size_t n = 0;
        int r;

        if (!colon)
                return usage_error("expected MODULE:NAME, not \"%s\"", argv[0]);
        module = strndup(argv[0], (size_t)(colon - argv[0]));
        if (!module)
                return -ENOMEM;
        name = colon + 1;
        if (!valid_name(module))
                return usage_error("invalid module name \"%s\"", module);
        if (!valid_name(name))
                return usage_error("invalid command name \"%s\"", name);
        if (argc == 2 && (STREQ(argv[1], "--help") || STREQ(argv[1], "-h")))
                return command_help(c, module, name);

        r = parse_assignments(argc - 1, argv + 1, &a, &n);
        if (r < 0)
                return r;
        values = calloc(n + 1, sizeof *values);
        if (!values) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                r = word_value(a[i].word, &values[i]);
                if (r < 0)
                        goto out;
        }

        if (n > 0) {
                r = get_schema(c, module, &schema);
                if (r < 0)
                        goto out;
                cmd = find_by(json_object_get(schema, "commands"), "name", name);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *arg = NULL;
                        bool element;
                        json_t *spec;

                        arg = base_key(a[i].path, &element);
                        if (!arg) {
                                r = -ENOMEM;
                                goto out;
                        }
                        spec = find_by(json_object_get(cmd, "args"), "name", arg);
                        r = coerce(json_string_value(json_object_get(spec, "type")), element,
                                   a[i].word, &values[i]);
                        if (r < 0)
                                goto out;
                }
        }

        r = build_tree(a, values, n, &body);
        if (r < 0)
                goto out;

        if (asprintf(&target, "/api/v1/modules/%s/commands/%s", module, name) < 0) {
                target = NULL;
                r = -ENOMEM;
                goto out;
        }
        if (asprintf(&prefix, "%s:%s", module, name) < 0) {
                prefix = NULL;
                r = -ENOMEM;
                goto out;
        }
        r = cli_call(c, "POST", target, body, &answer);
        if (r < 0)
                goto out;
        r = c->json ? print_json(answer) : print_kv(prefix, answer);

out:
        json_decref(answer);
        json_decref(body);
        json_decref(schema);
        for (size_t i = 0; values && i < n; i++)
                json_decref(values[i]);
        free(values);
        assignments_free(a, n);
        return r;
}
