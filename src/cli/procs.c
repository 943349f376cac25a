/* procs.c — `steward ps`, `steward kill` and `steward renice`: the
 * processes collection as ps and top show it, and its two item actions.
 *
 * ps prints one row a process with human units (RSS "12.3 MiB", CPU
 * "3.4 %", a start time "16:02" today or "Dec 03" before), the tree (the
 * server's depth-first order with "depth") indented under its parents;
 * --json prints the server's answer as it is.  kill takes a signal name
 * with or without "SIG", in any case, or one of the numbers the names
 * have on Linux, and refuses any other signal before asking the server
 * (exit 2): the server offers only the signals of its table.
 *
 * Every query value goes through url_escape(); every text from the server
 * reaches the terminal through table_print()/fputs_sanitized().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "util.h"

#define PS_LIMIT_MAX 100000u
#define PS_DEPTH_MAX 32u /* indentation levels shown; deeper ones line up */

/* ---- human units ---------------------------------------------------------------- */

static void human_bytes(json_t *v, char *dst, size_t n) {
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double b;
        size_t u = 0;

        if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(dst, n, "-");
                return;
        }
        if (json_integer_value(v) < 1024) {
                snprintf(dst, n, "%lld B", (long long)json_integer_value(v));
                return;
        }
        b = (double)json_integer_value(v) / 1024.0;
        while (b >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                b /= 1024.0;
                u++;
        }
        snprintf(dst, n, b < 10.0 ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void human_cpu(json_t *v, char *dst, size_t n) {
        if (json_is_number(v))
                snprintf(dst, n, "%.1f %%", json_number_value(v));
        else
                snprintf(dst, n, "-");
}

/* "16:02" when it started today (local time), "Dec 03" this year, "2025"
 * before. */
static void human_start(json_t *v, char *dst, size_t n) {
        const char *s = json_string_value(v);
        struct tm tm = {0}, now_tm, local;
        time_t t, now = time(NULL);
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

        if (!end || *end || (t = timegm(&tm)) == (time_t)-1 || !localtime_r(&t, &local) ||
            !localtime_r(&now, &now_tm)) {
                snprintf(dst, n, "-");
                return;
        }
        if (local.tm_year == now_tm.tm_year && local.tm_yday == now_tm.tm_yday)
                strftime(dst, n, "%H:%M", &local);
        else if (local.tm_year == now_tm.tm_year)
                strftime(dst, n, "%b %d", &local);
        else
                strftime(dst, n, "%Y", &local);
}

static void text_cell(json_t *v, char *dst, size_t n, const char *none) {
        const char *s = json_string_value(v);
        snprintf(dst, n, "%s", s ? s : none);
}

/* "tcp/22,udp/53" of a "listening" array. */
static void listening_text(json_t *l, char *dst, size_t n) {
        size_t i, off = 0;
        json_t *e;

        snprintf(dst, n, "-");
        json_array_foreach(l, i, e) {
                int w = snprintf(dst + off, n - off, "%s%s/%lld", i ? "," : "",
                                 json_string_value(json_object_get(e, "protocol")) ?: "?",
                                 (long long)json_integer_value(json_object_get(e, "port")));
                if (w < 0 || (size_t)w >= n - off)
                        break;
                off += (size_t)w;
        }
}

/* The command, indented by its depth in the tree as `ps f` does. */
static void command_text(json_t *p, bool tree, char *dst, size_t n) {
        json_t *cmd = json_object_get(p, "command");
        json_int_t depth = tree ? json_integer_value(json_object_get(p, "depth")) : 0;
        size_t off = 0;

        if (depth > (json_int_t)PS_DEPTH_MAX)
                depth = PS_DEPTH_MAX;
        for (json_int_t d = 1; d < depth && off + 4 < n; d++) {
                memcpy(dst + off, "   ", 3);
                off += 3;
        }
        if (depth > 0 && off + 4 < n) {
                memcpy(dst + off, "\\_ ", 3);
                off += 3;
        }
        snprintf(dst + off, n - off, "%s", json_string_value(cmd) ?: "?");
        if (json_is_true(json_object_get(p, "kernel_thread")) && off + 2 < n)
                snprintf(dst + off, n - off, "[%s]", json_string_value(cmd) ?: "?");
}

/* ---- ps --------------------------------------------------------------------------- */

enum {
        C_PID,
        C_USER,
        C_STATE,
        C_CPU,
        C_RSS,
        C_SWAP,
        C_THR,
        C_NI,
        C_START,
        C_UNIT,
        C_PSS,
        C_FILES,
        C_LISTEN,
        C_COMMAND,
        _C_MAX
};

static int print_processes(json_t *answer, bool tree, bool detail) {
        static const char *const header[_C_MAX] = {
                [C_PID] = "PID",       [C_USER] = "USER",      [C_STATE] = "S", [C_CPU] = "CPU",
                [C_RSS] = "RSS",       [C_SWAP] = "SWAP",      [C_THR] = "THR", [C_NI] = "NI",
                [C_START] = "START",   [C_UNIT] = "UNIT",      [C_PSS] = "PSS", [C_FILES] = "FILES",
                [C_LISTEN] = "LISTEN", [C_COMMAND] = "COMMAND"};
        const char *hdr[_C_MAX];
        char cells[_C_MAX][256];
        const char *row[_C_MAX];
        size_t ncols = 0, i;
        struct table t;
        json_t *p;
        int r;

        /* Without --detail the detail columns are left out. */
        for (size_t k = 0; k < _C_MAX; k++)
                if (detail || (k != C_PSS && k != C_FILES && k != C_LISTEN))
                        hdr[ncols++] = header[k];
        r = table_init(&t, hdr, ncols);
        json_array_foreach(json_object_get(answer, "processes"), i, p) {
                if (r < 0)
                        break;
                snprintf(cells[C_PID], sizeof cells[C_PID], "%lld",
                         (long long)json_integer_value(json_object_get(p, "pid")));
                text_cell(json_object_get(p, "user"), cells[C_USER], sizeof cells[C_USER], "?");
                if (!json_string_value(json_object_get(p, "user")))
                        snprintf(cells[C_USER], sizeof cells[C_USER], "%lld",
                                 (long long)json_integer_value(json_object_get(p, "uid")));
                text_cell(json_object_get(p, "state"), cells[C_STATE], sizeof cells[C_STATE], "?");
                human_cpu(json_object_get(p, "cpu_percent"), cells[C_CPU], sizeof cells[C_CPU]);
                human_bytes(json_object_get(p, "rss_bytes"), cells[C_RSS], sizeof cells[C_RSS]);
                human_bytes(json_object_get(p, "swap_bytes"), cells[C_SWAP], sizeof cells[C_SWAP]);
                format_cell(json_object_get(p, "threads"), cells[C_THR]);
                format_cell(json_object_get(p, "nice"), cells[C_NI]);
                human_start(json_object_get(p, "start_time"), cells[C_START],
                            sizeof cells[C_START]);
                text_cell(json_object_get(p, "unit"), cells[C_UNIT], sizeof cells[C_UNIT], "-");
                human_bytes(json_object_get(p, "pss_bytes"), cells[C_PSS], sizeof cells[C_PSS]);
                format_cell(json_object_get(p, "open_files"), cells[C_FILES]);
                listening_text(json_object_get(p, "listening"), cells[C_LISTEN],
                               sizeof cells[C_LISTEN]);
                command_text(p, tree, cells[C_COMMAND], sizeof cells[C_COMMAND]);
                ncols = 0;
                for (size_t k = 0; k < _C_MAX; k++)
                        if (detail || (k != C_PSS && k != C_FILES && k != C_LISTEN))
                                row[ncols++] = cells[k];
                r = table_add(&t, row);
        }
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        return r;
}

/* Appends "&key=escaped value" (or "?…" first) to the query. */
static int query_add(struct buf *q, bool *any, const char *key, const char *value) {
        _cleanup_free_ char *esc = NULL;

        if (!value)
                return 0;
        if (url_escape(value, &esc) < 0)
                return -ENOMEM;
        int r = buf_printf(q, "%s%s=%s", *any ? "&" : "?", key, esc);
        *any = true;
        return r;
}

int verb_ps(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "ps [--sort cpu|mem|pid|start|name] [--tree] [-u USER] "
                                       "[--unit UNIT] [--name TEXT] [-n N] [--detail]";
        static const char *const sorts[] = {"cpu", "mem", "pid", "start", "name"};
        const char *sort = NULL, *user = NULL, *unit = NULL, *name = NULL, *limit = NULL;
        bool tree = false, detail = false, sort_ok = false, any = false;
        const struct verb_option opts[] = {
                {"sort", 0, &sort},
                {"user", 'u', &user},
                {"unit", 0, &unit},
                {"name", 0, &name},
                {"limit", 'n', &limit},
                {"tree", 't', NULL, &tree},
                {"detail", 'd', NULL, &detail},
        };
        _cleanup_(buf_free) struct buf q;
        json_t *answer = NULL;
        char *pos[1];
        size_t npos = 0;
        unsigned n;
        int r;

        buf_init(&q, 4096);
        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 0, &npos);
        if (r < 0)
                return r;
        for (size_t i = 0; sort && i < ELEMENTSOF(sorts); i++)
                sort_ok = sort_ok || STREQ(sort, sorts[i]);
        if (sort && !sort_ok)
                return usage_error("--sort is cpu, mem, pid, start or name, not \"%s\"", sort);
        if (limit && (safe_atou(limit, &n) < 0 || n < 1 || n > PS_LIMIT_MAX))
                return usage_error("-n is a number of processes, 1 to %u", PS_LIMIT_MAX);
        r = buf_puts(&q, "/api/v1/processes");
        if (r >= 0)
                r = query_add(&q, &any, "sort", sort);
        if (r >= 0)
                r = query_add(&q, &any, "limit", limit);
        if (r >= 0)
                r = query_add(&q, &any, "user", user);
        if (r >= 0)
                r = query_add(&q, &any, "unit", unit);
        if (r >= 0)
                r = query_add(&q, &any, "name", name);
        if (r >= 0 && tree)
                r = query_add(&q, &any, "tree", "1");
        if (r >= 0 && detail)
                r = query_add(&q, &any, "detail", "1");
        if (r >= 0)
                r = buf_append(&q, "", 1);
        if (r < 0)
                return r == -E2BIG ? usage_error("the filters are too long") : r;
        if (c->json)
                return cli_get_json(c, q.data);
        r = cli_call(c, "GET", q.data, NULL, &answer);
        if (r < 0)
                return r;
        r = print_processes(answer, tree, detail);
        json_decref(answer);
        return r;
}

/* ---- kill, renice ------------------------------------------------------------------- */

static const struct {
        const char *name;
        int sig;
} kill_signals[] = {
        {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"HUP", SIGHUP},   {"INT", SIGINT},
        {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

/* "TERM", "SIGTERM", "term", "15" → "TERM"; NULL for any other signal. */
static const char *signal_name(const char *s) {
        unsigned num;
        bool is_num = safe_atou(s, &num) == 0;

        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(kill_signals); i++)
                if (is_num ? (unsigned)kill_signals[i].sig == num
                           : strcasecmp(s, kill_signals[i].name) == 0)
                        return kill_signals[i].name;
        return NULL;
}

static int pid_arg(const char *s, unsigned *ret) {
        if (safe_atou(s, ret) < 0 || *ret < 1 || *ret > 4194304)
                return usage_error("\"%s\" is not a process id", s);
        return 0;
}

/* What an action's answer says of the process, on one line. */
static void print_outcome(const char *what, json_t *answer, bool dry_run) {
        json_t *p = json_object_get(answer, "process");
        json_t *w = json_object_get(json_object_get(answer, "plan"), "warnings");
        json_t *e;
        size_t i;

        json_array_foreach(w, i, e) {
                fputs("steward: warning: ", stderr);
                fputs_sanitized(json_string_value(e) ?: "", stderr);
                fputc('\n', stderr);
        }
        fputs(what, stdout);
        if (json_is_object(p)) {
                fputs(" (", stdout);
                fputs_sanitized(json_string_value(json_object_get(p, "command")) ?: "?", stdout);
                if (json_string_value(json_object_get(p, "user"))) {
                        fputs(", ", stdout);
                        fputs_sanitized(json_string_value(json_object_get(p, "user")), stdout);
                }
                if (json_string_value(json_object_get(p, "unit"))) {
                        fputs(", ", stdout);
                        fputs_sanitized(json_string_value(json_object_get(p, "unit")), stdout);
                }
                fputs(")", stdout);
        }
        if (dry_run)
                printf(": nothing done (dry run).\n");
        else if (!json_is_object(p))
                printf(": it is gone.\n");
        else {
                printf(": state ");
                fputs_sanitized(json_string_value(json_object_get(p, "state")) ?: "?", stdout);
                printf(", nice %lld.\n", (long long)json_integer_value(json_object_get(p, "nice")));
        }
}

static int post_action(struct cli *c, unsigned pid, const char *action, json_t *body, bool dry_run,
                       json_t **ret) {
        char target[96];

        snprintf(target, sizeof target, "/api/v1/processes/%u/%s%s", pid, action,
                 dry_run ? "?dry_run=1" : "");
        return cli_call(c, "POST", target, body, ret);
}

int verb_kill(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "kill [-s SIGNAL] [--dry-run] PID";
        const char *sig = NULL, *name;
        bool dry_run = false;
        const struct verb_option opts[] = {{"signal", 's', &sig}, {"dry-run", 0, NULL, &dry_run}};
        json_t *answer = NULL, *body;
        char *pos[1], verb[64];
        size_t npos = 0;
        unsigned pid;
        int r;

        /* kill(1)'s own form: `kill -9 PID`, `kill -KILL PID`. */
        if (argc > 0 && argv[0][0] == '-' && argv[0][1] && argv[0][1] != '-' &&
            !STREQ(argv[0], "-s")) {
                sig = argv[0] + 1;
                argc--;
                argv++;
        }
        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward %s", synopsis);
        name = sig ? signal_name(sig) : "TERM";
        if (!name)
                return usage_error("signal \"%s\" is not one of TERM, KILL, HUP, INT, STOP, CONT, "
                                   "USR1, USR2 (or their numbers)",
                                   sig);
        r = pid_arg(pos[0], &pid);
        if (r < 0)
                return r;
        body = json_pack("{s:s}", "signal", name);
        if (!body)
                return -ENOMEM;
        r = post_action(c, pid, "signal", body, dry_run, &answer);
        json_decref(body);
        if (r < 0)
                return r;
        if (c->json)
                r = print_json(answer);
        else {
                snprintf(verb, sizeof verb, "%s %s to PID %u",
                         dry_run || c->dry_run ? "Would send" : "Sent", name, pid);
                print_outcome(verb, answer, dry_run || c->dry_run);
        }
        json_decref(answer);
        return r;
}

int verb_renice(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "renice [-n] NICE PID [--dry-run]";
        const char *nice_opt = NULL;
        bool dry_run = false;
        const struct verb_option opts[] = {{"nice", 'n', &nice_opt},
                                           {"dry-run", 0, NULL, &dry_run}};
        json_t *answer = NULL, *body;
        char *pos[2], verb[64];
        size_t npos = 0;
        int64_t nice;
        unsigned pid;
        int r;

        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 2, &npos);
        if (r < 0)
                return r;
        if (npos != (nice_opt ? 1u : 2u))
                return usage_error("usage: steward %s", synopsis);
        if (safe_atoi64(nice_opt ? nice_opt : pos[0], &nice) < 0 || nice < -20 || nice > 19)
                return usage_error("NICE is -20 to 19 (negative values: -n -5 or -- -5)");
        r = pid_arg(pos[npos - 1], &pid);
        if (r < 0)
                return r;
        body = json_pack("{s:I}", "nice", (json_int_t)nice);
        if (!body)
                return -ENOMEM;
        r = post_action(c, pid, "renice", body, dry_run, &answer);
        json_decref(body);
        if (r < 0)
                return r;
        if (c->json)
                r = print_json(answer);
        else {
                snprintf(verb, sizeof verb, "%s PID %u to nice %lld",
                         dry_run || c->dry_run ? "Would renice" : "Reniced", pid,
                         (long long)nice);
                print_outcome(verb, answer, dry_run || c->dry_run);
        }
        json_decref(answer);
        return r;
}
