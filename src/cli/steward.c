/* steward.c — the `steward` command line client: its options, the dispatch
 * through the table of verbs (verbs.c, which also prints every usage text
 * and the man page's verb list), and the verbs that are one request each
 * (list, status, fullstatus, start, stop, restart).  `settings` and `command` live in
 * settings.c, `login` and `logout` in login.c, `token` in tokens.c,
 * `sessions` in sessions.c, `audit` in audit.c, `discover` in discover.c,
 * `history` (and `status system --history`) in history.c; any other word
 * names a collection (users, groups, …), whose verbs collections.c builds
 * from the schema the server publishes.
 *
 * The layering is one way: this file dispatches to the verb files, and
 * every verb file (this one included) builds on the shared library below
 * them — client.c (the connection, credentials, cli_call and the reporting
 * of refusals) and output.c (usage errors, verb options, text, tables, kv
 * lines, JSON).  Neither library file calls a verb.
 *
 * Everything that can be checked locally (options, names, argument shapes)
 * is checked before the first byte goes to the server, so a usage error
 * never depends on the network — except a collection's verbs, which are
 * known only from the schema the server publishes: they are checked after
 * that one read, before anything that changes something is sent.  Output follows serveradmin: text as
 * MODULE:KEY = VALUE lines (kv.h), which `settings` reads back; --json prints
 * the server's answers instead.  Text that comes from the server is
 * sanitised before it reaches a terminal; the token is never printed.
 *
 * Exit status: 0 success, 1 the server refused (or answered nonsense),
 * 2 usage error, 3 the server could not be reached or its certificate did not
 * verify / match the pin (see cli.h for how errors map to these).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "util.h"
#include "verbs.h"

int verb_list(struct cli *c, int argc, char **argv) {
        json_t *answer = NULL, *modules, *m;
        size_t i, name_w = 4, state_w = 5;
        int r;

        r = cli_call(c, "GET", "/api/v1/modules", NULL, &answer);
        if (r < 0)
                return r;
        if (c->json) {
                r = print_json(answer);
                json_decref(answer);
                return r;
        }

        modules = json_object_get(answer, "modules");
        if (!json_is_array(modules)) {
                fprintf(stderr, "steward: %s: malformed answer: no \"modules\" list\n", c->where);
                json_decref(answer);
                return -EBADMSG;
        }

        json_array_foreach(modules, i, m) {
                const char *name = json_string_value(json_object_get(m, "name"));
                const char *state = json_string_value(json_object_get(m, "state"));

                if (name && strlen(name) > name_w)
                        name_w = strlen(name) < 32 ? strlen(name) : 32;
                if (state && strlen(state) > state_w)
                        state_w = strlen(state) < 16 ? strlen(state) : 16;
        }

        printf("%-*s  %-*s  %s\n", (int)name_w, "NAME", (int)state_w, "STATE", "SUMMARY");
        json_array_foreach(modules, i, m) {
                const char *name = json_string_value(json_object_get(m, "name"));
                const char *state = json_string_value(json_object_get(m, "state"));
                const char *summary = json_string_value(json_object_get(m, "summary"));
                const char *reason = json_string_value(json_object_get(m, "reason"));
                size_t n;

                name = name ? name : "-";
                state = state ? state : "-";
                fputs_sanitized(name, stdout);
                for (n = strlen(name); n < name_w + 2; n++)
                        fputc(' ', stdout);
                fputs_sanitized(state, stdout);
                for (n = strlen(state); n < state_w + 2; n++)
                        fputc(' ', stdout);
                fputs_sanitized(summary ? summary : "", stdout);
                fputc('\n', stdout);
                /* Why it is degraded, n/a, stopped…: a line of its own under
                 * the state, so the table stays greppable by name. */
                if (reason && reason[0]) {
                        printf("%*s", (int)name_w + 2, "");
                        fputs("why: ", stdout);
                        fputs_sanitized(reason, stdout);
                        fputc('\n', stdout);
                }
        }
        json_decref(answer);
        return 0;
}

static int check_module(const char *m) {
        if (!valid_name(m))
                return usage_error("invalid module name \"%s\"", m);
        return 0;
}

static int show_module(struct cli *c, const char *module, bool full) {
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL;
        int r;

        r = check_module(module);
        if (r < 0)
                return r;
        if (asprintf(&target, "/api/v1/modules/%s%s", module, full ? "?full=1" : "") < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "GET", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer) : print_kv(module, answer);
        json_decref(answer);
        return r;
}

int verb_status(struct cli *c, int argc, char **argv) {
        if (argc == 0)
                return verb_list(c, argc, argv);
        if (argc > 1)
                return history_status(c, argc, argv);
        return show_module(c, argv[0], false);
}

int verb_fullstatus(struct cli *c, int argc, char **argv) {
        return show_module(c, argv[0], true);
}

static int verb_action(struct cli *c, const char *action, const char *module) {
        _cleanup_free_ char *target = NULL;
        json_t *answer = NULL;
        int r;

        r = check_module(module);
        if (r < 0)
                return r;
        if (asprintf(&target, "/api/v1/modules/%s/%s", module, action) < 0) {
                target = NULL;
                return -ENOMEM;
        }
        r = cli_call(c, "POST", target, NULL, &answer);
        if (r < 0)
                return r;
        r = c->json ? print_json(answer) : print_kv(module, answer);
        json_decref(answer);
        return r;
}

int verb_start(struct cli *c, int argc, char **argv) {
        return verb_action(c, "start", argv[0]);
}

int verb_stop(struct cli *c, int argc, char **argv) {
        return verb_action(c, "stop", argv[0]);
}

int verb_restart(struct cli *c, int argc, char **argv) {
        return verb_action(c, "restart", argv[0]);
}

enum {
        OPT_SOCKET = 0x100,
        OPT_TOKEN,
        OPT_TOKEN_FILE,
        OPT_FINGERPRINT,
        OPT_JSON,
        OPT_VERSION,
        OPT_ROFF_PAGE,
        OPT_JSONL,
        OPT_YES,
        OPT_DRY_RUN,
        OPT_PARALLEL,
        OPT_TIMEOUT,
};

/* --parallel N, --timeout SECONDS: 1..max. */
static int parse_bound(const char *opt, const char *s, unsigned max, unsigned *ret) {
        unsigned v;

        if (safe_atou(s, &v) < 0 || v == 0 || v > max)
                return usage_error("%s takes a number from 1 to %u", opt, max);
        *ret = v;
        return 0;
}

/* Returns 1 to go on, 0 when done (--help, --version), -EINVAL on error. */
static int parse_argv(int argc, char **argv, struct cli_options *o) {
        static const struct option longopts[] = {
                {"host", required_argument, NULL, 'H'},
                {"socket", required_argument, NULL, OPT_SOCKET},
                {"token", required_argument, NULL, OPT_TOKEN},
                {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
                {"fingerprint", required_argument, NULL, OPT_FINGERPRINT},
                {"json", no_argument, NULL, OPT_JSON},
                {"jsonl", no_argument, NULL, OPT_JSONL},
                {"yes", no_argument, NULL, OPT_YES},
                {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                {"parallel", required_argument, NULL, OPT_PARALLEL},
                {"timeout", required_argument, NULL, OPT_TIMEOUT},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                /* Not in --help: the build writes the man page with it. */
                {"roff-page", required_argument, NULL, OPT_ROFF_PAGE},
                {},
        };
        int opt, r;

        opterr = 0;
        /* '+': options end at the command, so VALUEs such as -1 stay arguments. */
        while ((opt = getopt_long(argc, argv, "+:H:h", longopts, NULL)) >= 0) {
                switch (opt) {
                case 'H':
                        o->host_arg = optarg;
                        break;
                case OPT_SOCKET:
                        o->socket_path = optarg;
                        break;
                case OPT_TOKEN:
                        o->token_arg = optarg;
                        break;
                case OPT_TOKEN_FILE:
                        o->token_file = optarg;
                        break;
                case OPT_FINGERPRINT:
                        o->fingerprint = optarg;
                        break;
                case OPT_JSON:
                        o->json = true;
                        break;
                case OPT_JSONL:
                        o->jsonl = true;
                        break;
                case OPT_YES:
                        o->yes = true;
                        break;
                case OPT_DRY_RUN:
                        o->dry_run = true;
                        break;
                case OPT_PARALLEL:
                        r = parse_bound("--parallel", optarg, 1024, &o->parallel);
                        if (r < 0)
                                return r;
                        break;
                case OPT_TIMEOUT:
                        r = parse_bound("--timeout", optarg, 3600, &o->timeout_s);
                        if (r < 0)
                                return r;
                        break;
                case 'h':
                        verbs_print_help(stdout);
                        return 0;
                case OPT_ROFF_PAGE:
                        r = verbs_print_roff(optarg, stdout);
                        return r < 0 ? r : 0;
                case OPT_VERSION:
                        puts("steward " STEWARD_VERSION);
                        return 0;
                case ':':
                        return usage_error("option %s needs an argument", argv[optind - 1]);
                default:
                        if (optopt)
                                return usage_error("unknown option -%c", optopt);
                        return usage_error("unknown option %s", argv[optind - 1]);
                }
        }
        return 1;
}

/* `steward VERB --help` or `steward VERB SUBCOMMAND --help` (-h too): the
 * verb's usage, before anything is checked or sent.  Later arguments are
 * the verb's (a setting's value may be "--help"). */
static bool wants_help(int nargs, char **args) {
        for (int i = 0; i < nargs && i < 2; i++) {
                if (STREQ(args[i], "--"))
                        return false;
                if (STREQ(args[i], "--help") || STREQ(args[i], "-h"))
                        return true;
        }
        return false;
}

static int exit_status(int r) {
        if (r >= 0)
                return EXIT_SUCCESS;
        if (r == -EINVAL)
                return EXIT_USAGE;
        if (r == -ECOMM)
                return EXIT_UNREACHABLE;
        return EXIT_REFUSED;
}

static int run(int argc, char **argv) {
        struct cli_options o = {};
        struct cli c = {};
        const struct verb_def *verb = NULL;
        _cleanup_free_ char *single = NULL;
        int nargs, r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r;

        if (optind >= argc)
                return usage_error("missing command");
        verb = verb_find(argv[optind]);
        /* Any other word names a collection the server may have
         * (collections.c). */
        nargs = argc - optind - 1;
        /* `command MODULE:NAME --help` is the named command's own help,
         * from the server's schema (verb_command). */
        if (verb && wants_help(nargs, argv + optind + 1) &&
            !(STREQ(verb->name, "command") && nargs >= 1 && strchr(argv[optind + 1], ':'))) {
                verb_print_usage(verb, stdout);
                return 0;
        }
        if (verb && (nargs < verb->min_args || (verb->max_args >= 0 && nargs > verb->max_args)))
                return usage_error("usage: steward %s%s%s%s", verb->forms[0].synopsis,
                                   verb->forms[1].synopsis ? " (all its forms: steward " : "",
                                   verb->forms[1].synopsis ? verb->name : "",
                                   verb->forms[1].synopsis ? " --help)" : "");
        if (o.host_arg && o.socket_path)
                return usage_error("-H and --socket exclude each other");

        if (o.json && o.jsonl)
                return usage_error("--json and --jsonl exclude each other");
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fputs("steward: cannot initialise libcurl\n", stderr);
                return -ENOMEM;
        }
        if (fanout_wanted(o.host_arg)) {
                r = fanout_run(&o, verb, argv[optind], nargs, argv + optind + 1, &single);
                if (r < 0 || !single)
                        goto out;
                o.host_arg = single;
        }
        /* One host: --jsonl is --json; --yes and --dry-run are the verb's. */
        o.json = o.json || o.jsonl;
        if (o.dry_run) {
                r = usage_error("--dry-run before the command is for several hosts; give the "
                                "command's own --dry-run");
                goto out;
        }

        c.opts = &o;
        c.json = o.json;
        if (!verb || !verb->own_connection)
                r = cli_connect(&c, o.host_arg, 0);
        if (r >= 0)
                r = verb ? verb->run(&c, nargs, argv + optind + 1)
                         : cli_collection(&c, argv[optind], nargs, argv + optind + 1);
        cli_disconnect(&c);
out:
        curl_global_cleanup();
        if (r == -ENOMEM)
                fputs("steward: out of memory\n", stderr);
        return r;
}

int main(int argc, char **argv) {
        int r = run(argc, argv);

        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "steward: cannot write the output: %s\n", strerror(errno));
                if (r >= 0)
                        r = -EIO;
        }
        return exit_status(r);
}
