/* verbs.c — the table of the `steward` client's verbs (verbs.h), and what is
 * printed from it: `steward --help`, `steward VERB --help`, and the verb
 * list and synopsis of the man page.
 *
 * The table is data only; the verbs' code is in the files cli.h names.
 * A verb's options are spelled in its forms' synopses exactly as its
 * parser takes them (parse_verb_args), and the short forms (-n, -u, …) in
 * the text; a test runs `steward VERB --help` for every row and checks the
 * man page's list against this table.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "verbs.h"

const struct verb_def cli_verbs[] = {
        {
                .name = "list",
                .summary = "the modules and their state",
                .needs_session = true,
                .min_args = 0,
                .max_args = 0,
                .run = verb_list,
                .forms = {{"list", "the modules, their state, and why one is degraded or n/a"}},
        },
        {
                .name = "status",
                .summary = "a module's status",
                .needs_session = true,
                .min_args = 0,
                .max_args = 4,
                .run = verb_status,
                .forms = {{"status [MODULE]", "a module's status (no MODULE: like list)"},
                          {"status system --history cpu|mem|net|load [RANGE]",
                           "the chart of that series, as history draws it"}},
        },
        {
                .name = "fullstatus",
                .summary = "everything a module reports",
                .needs_session = true,
                .min_args = 1,
                .max_args = 1,
                .run = verb_fullstatus,
                .forms = {{"fullstatus MODULE", "everything the module reports"}},
        },
        {
                .name = "settings",
                .summary = "print or change settings",
                .needs_session = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_settings,
                .forms = {{"settings MODULE[:KEY] ...",
                           "print settings as MODULE:KEY = VALUE lines"},
                          {"settings MODULE:KEY = VALUE ...",
                           "change settings (MODULE:KEY=VALUE works too)"},
                          {"settings [-]", "read MODULE:KEY = VALUE lines from stdin"},
                          {"settings --dry-run ...",
                           "(-n) show the changes as a diff, change nothing"}},
        },
        {
                .name = "command",
                .summary = "run one of a module's commands",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_command,
                .forms = {{"command MODULE:NAME [ARG=VALUE ...]", "run one of a module's commands"},
                          {"command MODULE:NAME --help",
                           "what it does, who may run it, its arguments"}},
        },
        {
                .name = "start",
                .summary = "start a module's service",
                .needs_session = true,
                .min_args = 1,
                .max_args = 1,
                .run = verb_start,
                .forms = {{"start MODULE", "start the module's service"}},
        },
        {
                .name = "stop",
                .summary = "stop a module's service",
                .needs_session = true,
                .min_args = 1,
                .max_args = 1,
                .run = verb_stop,
                .forms = {{"stop MODULE", "stop the module's service"}},
        },
        {
                .name = "restart",
                .summary = "restart a module's service",
                .needs_session = true,
                .min_args = 1,
                .max_args = 1,
                .run = verb_restart,
                .forms = {{"restart MODULE", "restart the module's service"}},
        },
        {
                .name = "login",
                .summary = "log in to a server and keep the session",
                .own_connection = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_login,
                .forms = {{"login [HOST[:PORT]] [--user NAME] [--yes]",
                           "log in to HOST (or -H) with a password and keep the session; "
                           "trusts the server's certificate on first use, as ssh does "
                           "(--yes, -y: without asking; -u: --user)"},
                          {"login --bootstrap [HOST[:PORT]] [--bootstrap-file FILE] [--yes]",
                           "the first login of a new server, with its one-time bootstrap "
                           "token: read from FILE, else from /var/lib/steward/bootstrap-token "
                           "when HOST is this machine, else from stdin"}},
        },
        {
                .name = "logout",
                .summary = "end the stored session for a server",
                .needs_session = true,
                .own_connection = true,
                .min_args = 0,
                .max_args = 1,
                .run = verb_logout,
                .forms = {{"logout [HOST[:PORT]]", "end the stored session for HOST (or -H)"}},
        },
        {
                .name = "token",
                .summary = "create, list and revoke API tokens",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_token,
                .forms = {{"token create NAME [--role monitor|operator|admin] [--expires SECONDS]",
                           "create an API token (its secret is shown once; -r, -e)"},
                          {"token list", "the API tokens"},
                          {"token revoke ID", "revoke an API token"}},
        },
        {
                .name = "sessions",
                .summary = "list and end login sessions",
                .needs_session = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_sessions,
                .forms = {{"sessions [list] [--user NAME]",
                           "the live login sessions (an admin's: everyone's; -u)"},
                          {"sessions end ID", "end a login session (one's own: a logout)"}},
        },
        {
                .name = "audit",
                .summary = "read, verify and roll back the audit log",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_audit,
                .forms = {{"audit list [--module M] [--user U] [--limit N] [--all]",
                           "the audit log, newest first: changes, refusals and errors; of the "
                           "logins, the refused and the bootstrap token's (--all: every page; "
                           "-m, -u, -l, -a)"},
                          {"audit show ID", "one audit record, with the diffs of its files"},
                          {"audit verify", "check the audit log's hash chain"},
                          {"audit rollback ID [--dry-run]",
                           "restore the files a change modified (-n)"}},
        },
        {
                .name = "discover",
                .summary = "find stewardd servers on the local networks",
                .own_connection = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_discover,
                .forms = {{"discover [--timeout SECONDS] [--port N]",
                           "find stewardd servers on the local networks (UDP broadcast; default "
                           "2 seconds, port 660; -t, -p)"}},
        },
        {
                .name = "ports",
                .summary = "what is listening, who owns it, what IANA says",
                .needs_session = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_ports,
                .forms = {{"ports [PORT] [--all]",
                           "the listening sockets with their owners, registered services and "
                           "findings; PORT: that port explained (--all, -a: connections too)"}},
        },
        {
                .name = "ps",
                .summary = "the processes, like ps and top",
                .needs_session = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_ps,
                .forms = {{"ps [--sort cpu|mem|pid|start|name] [--tree] [-u USER] [--unit UNIT] "
                           "[--name TEXT] [-n N] [--detail]",
                           "the processes with their user, state, CPU, memory, start and unit: "
                           "--sort (default pid), -n the first N, -u, --unit and --name (part "
                           "of the command) filter, --tree (-t) under their parents, --detail "
                           "(-d) adds PSS, open files and listening ports"}},
        },
        {
                .name = "kill",
                .summary = "send a signal to a process",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_kill,
                .forms = {{"kill [-s SIGNAL] [--dry-run] PID",
                           "send SIGNAL (TERM, KILL, HUP, INT, STOP, CONT, USR1, USR2, with or "
                           "without SIG, or its number; default TERM; also kill -9 PID) to the "
                           "process; --dry-run shows what would be signalled and the warnings"}},
        },
        {
                .name = "renice",
                .summary = "change the nice value of a process",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_renice,
                .forms = {{"renice [-n] NICE PID [--dry-run]",
                           "set the nice value (-20 to 19) of every thread of the process; "
                           "lowering it needs the role admin"}},
        },
        {
                .name = "logs",
                .summary = "the journal, like journalctl; log files under /var/log",
                .needs_session = true,
                .min_args = 0,
                .max_args = -1,
                .run = verb_logs,
                .follows = true,
                .forms = {{"logs [UNIT] [-p PRIORITY] [--since TIME] [--until TIME] [-n N] "
                           "[-g TEXT] [-b BOOT] [-t IDENTIFIER] [-r] [-f]",
                           "journal entries in journalctl's short format, oldest first: the "
                           "last N (-n, default 100; with --since and no -n: all since), "
                           "-p a level or LEVEL..LEVEL, -g a text (any case), -b 0, -1 or a boot "
                           "id, -r newest first, -f then follow (--json: JSON)"},
                          {"logs files", "the text log files under /var/log"},
                          {"logs file NAME [-n N]",
                           "the last N lines (default 100) of /var/log/NAME"}},
        },
        {
                .name = "history",
                .summary = "a chart of a metric's history",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_history,
                .forms = {{"history SERIES [RANGE] [--step SECONDS]",
                           "a chart of a metric over the last RANGE (90s, 15m, 1h (the default), "
                           "7d, 30d; at most 2y); series: cpu.busy, mem.used, net.rx, load.1, … "
                           "(GET /api/v1/metrics/series; -s)"}},
        },
        {
                .name = "ping",
                .summary = "ICMP echo from the server to a host, reply by reply",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_ping,
                .forms = {{"ping [-c N] [-i SECONDS] [-4|-6] HOST",
                           "N echo requests (1 to 20, default 4) SECONDS apart (0.2 to 5, "
                           "default 1) from the server to HOST, each reply printed as it comes, "
                           "then the loss and round-trip times; exit status 1 when no reply "
                           "came (operators and admins; audited)"}},
        },
        {
                .name = "traceroute",
                .summary = "the routers between the server and a host, hop by hop",
                .needs_session = true,
                .min_args = 1,
                .max_args = -1,
                .run = verb_traceroute,
                .forms = {{"traceroute [-m MAXHOPS] [-4|-6] HOST",
                           "each hop (at most MAXHOPS, 1 to 30, default 30) with the times of "
                           "its three probes, printed as it is found; exit status 1 when HOST "
                           "was not reached (operators and admins; audited)"}},
        },
        {
                .name = "lookup",
                .summary = "ask DNS about a name, from the server",
                .needs_session = true,
                .min_args = 1,
                .max_args = 3,
                .run = verb_lookup,
                .forms = {{"lookup NAME [TYPE] [@SERVER]",
                           "the records of NAME (TYPE: A (the default), AAAA, MX, TXT, NS, SOA, "
                           "PTR (NAME may be an address), SRV, CAA, CNAME) as the server's "
                           "resolvers or SERVER (an address) answer; exit status 1 for any "
                           "answer but NOERROR (operators and admins; audited)"}},
        },
        {
                .name = "portcheck",
                .summary = "whether a TCP port of a host is open, from the server",
                .needs_session = true,
                .min_args = 2,
                .max_args = -1,
                .run = verb_portcheck,
                .forms = {{"portcheck [-t SECONDS] HOST PORT",
                           "open, closed (refused) or filtered (no answer within SECONDS, 0.1 to "
                           "10, default 3, or refused by a filter) with the reason; exit status "
                           "1 unless open (operators and admins; audited)"}},
        },
        {
                .name = "netinfo",
                .summary = "the server's interfaces, routes and resolvers",
                .needs_session = true,
                .min_args = 0,
                .max_args = 0,
                .run = verb_netinfo,
                .forms = {{"netinfo",
                           "the host name, each interface as ip addr shows it (state, speed, "
                           "addresses, traffic), the routes and the DNS resolvers"}},
        },
        {
                .name = "COLLECTION",
                .summary = "a collection of the server: users, groups, timezones and others",
                .needs_session = true,
                .forms = {{"COLLECTION list [OPTIONS] [--all]",
                           "the items of a collection of the server (users, groups, …)"},
                          {"COLLECTION show|add|modify|delete|VERB NAME [OPTIONS] [--dry-run]",
                           "one item; the collections, their verbs and options come from the "
                           "server's schema: steward COLLECTION VERB --help lists them; a "
                           "module's own verbs too (steward mail who) and its collections by "
                           "their short names (steward mail queue list is the collection "
                           "mail_queue): steward MODULE --help lists them"}},
        },
};

const size_t cli_verbs_n = ELEMENTSOF(cli_verbs);

const struct verb_def *verb_find(const char *name) {
        for (size_t i = 0; i < cli_verbs_n; i++)
                if (cli_verbs[i].run && STREQ(cli_verbs[i].name, name))
                        return &cli_verbs[i];
        return NULL;
}

#define HELP_WIDTH    79
#define HELP_TEXT_COL 37

/* Writes text from column col (the cursor is there) to HELP_WIDTH, breaking
 * at spaces and indenting continuation lines to col. */
static void print_wrapped(FILE *f, const char *text, size_t col) {
        size_t at = col;

        while (*text) {
                size_t word = strcspn(text, " ");

                if (at > col && at + 1 + word > HELP_WIDTH) {
                        fprintf(f, "\n%*s", (int)col, "");
                        at = col;
                } else if (at > col) {
                        fputc(' ', f);
                        at++;
                }
                fwrite(text, 1, word, f);
                at += word;
                text += word;
                text += strspn(text, " ");
        }
        fputc('\n', f);
}

static void print_form(FILE *f, const struct verb_form *form) {
        size_t len = strlen(form->synopsis);

        fprintf(f, "  %s", form->synopsis);
        if (2 + len + 2 > HELP_TEXT_COL)
                fprintf(f, "\n%*s", HELP_TEXT_COL, "");
        else
                fprintf(f, "%*s", (int)(HELP_TEXT_COL - 2 - len), "");
        print_wrapped(f, form->text, HELP_TEXT_COL);
}

static const char help_head[] =
        "Usage: steward [OPTIONS] COMMAND [ARGUMENTS...]\n"
        "\n"
        "Administer a server through stewardd, on this machine (the local socket) or\n"
        "over the network (-H, TLS on port 660).\n"
        "\n"
        "Commands (steward COMMAND --help: one command's usage):\n";

static const char help_tail[] =
        "\n"
        "Options (before the command):\n"
        "  -H, --host HOST[:PORT]             connect to HOST over TLS (default port 660);\n"
        "                                     IPv6 addresses as [ADDRESS]:PORT\n"
        "  -H HOST,HOST,@GROUP,...            run on every host at once (groups from\n"
        "                                     ~/.config/steward/hosts, @all, @discovered)\n"
        "      --socket PATH                  the local socket (default " DEFAULT_SOCKET ")\n"
        "      --token TOKEN                  access token for -H (other users can see it in\n"
        "                                     ps: prefer --token-file or STEWARD_TOKEN)\n"
        "      --token-file FILE              read the access token from FILE\n"
        "      --fingerprint SHA256:HEX       trust only the server certificate with this\n"
        "                                     SHA-256 fingerprint\n"
        "                                     (after login, -H HOST alone uses the stored\n"
        "                                     session and the certificate pinned for HOST)\n"
        "      --json                         print the server's JSON answers\n"
        "  -h, --help                         show this help\n"
        "      --version                      show the version\n"
        "With several hosts: --jsonl (a JSON line per host as it finishes), --yes (apply\n"
        "a change after the plans), --dry-run (plans only), --parallel N (default 64),\n"
        "--timeout SECONDS (per host, default 30); exit status: the worst host's (3,\n"
        "then 1, then 2).\n"
        "\n"
        "Environment: STEWARD_SOCKET, STEWARD_TOKEN, STEWARD_FINGERPRINT,\n"
        "STEWARD_ACCEPT_NEW=1 (login: trust a new server's certificate without asking).\n"
        "Files: ~/.config/steward/known_hosts, sessions, hosts, discovered\n"
        "($XDG_CONFIG_HOME/steward).\n"
        "Exit status: 0 success, 1 the server refused, 2 usage error,\n"
        "3 no connection, or the server's certificate did not verify or has changed.\n"
        "See steward(1).\n";

void verbs_print_help(FILE *f) {
        fputs(help_head, f);
        for (size_t i = 0; i < cli_verbs_n; i++)
                for (const struct verb_form *form = cli_verbs[i].forms; form->synopsis; form++)
                        print_form(f, form);
        fputs(help_tail, f);
}

void verb_print_usage(const struct verb_def *v, FILE *f) {
        bool first = true;

        for (const struct verb_form *form = v->forms; form->synopsis; form++) {
                fprintf(f, "%s steward [OPTIONS] %s\n", first ? "Usage:" : "      ",
                        form->synopsis);
                first = false;
        }
        fputc('\n', f);
        for (const struct verb_form *form = v->forms; form->synopsis; form++)
                print_form(f, form);
        fputc('\n', f);
        if (v->needs_session)
                fputs("Acts on a server as a user: on the local socket as the account running\n"
                      "steward, with -H as the session of 'steward login' or a token.\n",
                      f);
        else
                fputs("Needs no session on a server.\n", f);
        fputs("The options before the command: steward --help.  See steward(1).\n", f);
}

/* ---- The man page ---------------------------------------------------------- */

#define ROFF_TEMPLATE_MAX ((size_t)1024 * 1024)

/* Text for a roff text line: backslashes and hyphens escaped; a line is
 * started with \& by the caller where it could begin with '.' or '\''. */
static void roff_text(FILE *f, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\')
                        fputs("\\e", f);
                else if (s[i] == '-')
                        fputs("\\-", f);
                else
                        fputc(s[i], f);
        }
}

static void roff_synopsis(FILE *f) {
        for (size_t i = 0; i < cli_verbs_n; i++)
                for (const struct verb_form *form = cli_verbs[i].forms; form->synopsis; form++) {
                        size_t word = strcspn(form->synopsis, " ");
                        bool placeholder = !cli_verbs[i].run;

                        fputs(".br\n\\fBsteward\\fR ", f);
                        fputs(placeholder ? "\\fI" : "\\fB", f);
                        roff_text(f, form->synopsis, word);
                        fputs("\\fR", f);
                        roff_text(f, form->synopsis + word, strlen(form->synopsis + word));
                        fputc('\n', f);
                }
}

static void roff_list(FILE *f) {
        fputs(".PD 0\n", f);
        for (size_t i = 0; i < cli_verbs_n; i++) {
                const struct verb_def *v = &cli_verbs[i];

                fprintf(f, ".TP 14\n%s", v->run ? "\\fB" : "\\fI");
                roff_text(f, v->name, strlen(v->name));
                fputs("\\fR\n\\&", f);
                roff_text(f, v->summary, strlen(v->summary));
                fputs(v->needs_session ? "\n" : " (needs no session)\n", f);
        }
        fputs(".PD\n", f);
}

/* Whether a .TP or .TQ entry of the template names the verb: its name as
 * a word (not after '-', so \-\-token is not the verb token) on the line
 * after the macro. */
static bool has_entry(const char *text, const char *name) {
        size_t n = strlen(name);

        for (const char *p = text; (p = strstr(p, "\n.T")); p++) {
                const char *line, *end;

                if (!(p[3] == 'P' || p[3] == 'Q') || !(p[4] == '\n' || p[4] == ' '))
                        continue;
                line = strchr(p + 1, '\n');
                if (!line)
                        break;
                line++;
                end = strchrnul(line, '\n');
                for (const char *w = line; (w = memmem(w, (size_t)(end - w), name, n)); w++) {
                        char before = w > line ? w[-1] : ' ', after = w[n];

                        if (!isalnum((unsigned char)before) && before != '-' &&
                            !isalnum((unsigned char)after) && after != '_')
                                return true;
                }
        }
        return false;
}

int verbs_print_roff(const char *template_path, FILE *f) {
        static const char synopsis_marker[] = ".\\\" @VERB_SYNOPSIS@";
        static const char list_marker[] = ".\\\" @VERB_LIST@";
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file(template_path, ROFF_TEMPLATE_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "steward: cannot read %s: %s\n", template_path, strerror(-r));
                return r;
        }
        if (strlen(text) != len || !strstr(text, synopsis_marker) || !strstr(text, list_marker)) {
                fprintf(stderr, "steward: %s: no %s and %s lines (or a NUL byte)\n", template_path,
                        synopsis_marker, list_marker);
                return -EINVAL;
        }
        for (size_t i = 0; i < cli_verbs_n; i++)
                if (!has_entry(text, cli_verbs[i].name)) {
                        fprintf(stderr, "steward: %s: the verb %s has no .TP entry\n",
                                template_path, cli_verbs[i].name);
                        return -EINVAL;
                }

        for (const char *line = text; *line;) {
                const char *end = strchrnul(line, '\n');
                size_t n = (size_t)(end - line);

                if (n == strlen(synopsis_marker) && memcmp(line, synopsis_marker, n) == 0)
                        roff_synopsis(f);
                else if (n == strlen(list_marker) && memcmp(line, list_marker, n) == 0)
                        roff_list(f);
                else {
                        fwrite(line, 1, n, f);
                        fputc('\n', f);
                }
                line = *end ? end + 1 : end;
        }
        return 0;
}
