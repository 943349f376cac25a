/* logs.c — `steward logs`: the journal in journalctl's short format, and
 * the files under /var/log.
 *
 *   steward logs [UNIT] [-p PRIORITY] [--since T] [--until T] [-n N]
 *                [-g TEXT] [-b BOOT] [-t IDENTIFIER] [-r] [-f]
 *   steward logs files
 *   steward logs file NAME [-n N]
 *
 * Lines print oldest first ("Dec 04 06:01:02 host ident[pid]: message", the
 * time local), -r newest first.  -n N (default 100): the last N entries;
 * with --since and no -n, every entry from then on, page by page.  -f
 * then follows: it opens GET /api/v1/events?types=logs with the same
 * filters and the cursor of the last line printed, so nothing is missed or
 * printed twice between the two.  --json prints {"entries": [...]}: for the
 * last N the server's answer as it came (compact, not parsed and printed
 * again: a thousand entries are half a megabyte); with -f one entry object
 * a line.  Server text never reaches the terminal
 * raw: lines through fputs_sanitized, JSON through put_json_ascii (the
 * server's JSON leaves DEL and the C1 controls, U+009B CSI among them, as
 * they are: jansson escapes only below U+0020).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jsonutil.h"
#include "util.h"

#define SYNOPSIS                                                                                   \
        "logs [UNIT] [-p PRIORITY] [--since TIME] [--until TIME] [-n N] [-g TEXT] [-b BOOT] "      \
        "[-t IDENTIFIER] [-r] [-f]"
#define LINE_MAX_BYTES (1u << 20) /* one SSE line (an event of up to 200 entries) */
#define PAGE_MAX       10000
#define LOGS_DEFAULT_LINES 100

struct filters {
        const char *unit, *priority, *since, *until, *lines, *grep, *boot, *identifier;
        bool reverse, follow;
};

/* The next UTF-8 character of s (n > 0 bytes) into *cp; its length, or 0
 * when the bytes are not one (overlong, a surrogate, cut short). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp) {
        size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        uint32_t c;

        if (len == 0 || len > n || s[0] > 0xf4)
                return 0;
        c = s[0] & (0x7f >> len);
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}

/* JSON text (n bytes) onto stdout in ASCII only: DEL and every character
 * above it as \uXXXX (a surrogate pair above U+FFFF), bytes that are not
 * UTF-8 as \ufffd.  Outside its strings JSON text is ASCII, and within
 * them a backslash is always followed by ASCII, so the result is the same
 * JSON value, and no byte of it is a control to a terminal. */
static int put_json_ascii(const char *text, size_t n) {
        const unsigned char *s = (const unsigned char *)text;

        for (size_t i = 0; i < n;) {
                uint32_t cp = 0xfffd;
                size_t len = 1;

                if (s[i] < 0x7f) {
                        putchar(s[i++]);
                        continue;
                }
                if (s[i] > 0x7f && (len = utf8_char(s + i, n - i, &cp)) == 0) {
                        len = 1;
                        cp = 0xfffd;
                } else if (s[i] == 0x7f)
                        cp = 0x7f;
                i += len;
                if (cp > 0xffff) {
                        cp -= 0x10000;
                        printf("\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
                } else
                        printf("\\u%04x", cp);
        }
        return ferror(stdout) ? -EIO : 0;
}

/* One value as JSON text (flags for json_dumps), ASCII only, and a newline. */
static int print_json_ascii(const json_t *v, size_t flags) {
        _cleanup_free_ char *t = json_dumps(v, flags | JSON_ENCODE_ANY);
        int r;

        if (!t)
                return -ENOMEM;
        r = put_json_ascii(t, strlen(t));
        putchar('\n');
        return r;
}

/* "&key=value" onto b, value escaped. */
static int add_param(struct buf *b, const char *key, const char *value) {
        _cleanup_free_ char *esc = NULL;
        if (!value)
                return 0;
        if (url_escape(value, &esc) < 0)
                return -ENOMEM;
        if (buf_append(b, "&", 1) < 0 || buf_append(b, key, strlen(key)) < 0 ||
            buf_append(b, "=", 1) < 0 || buf_append(b, esc, strlen(esc)) < 0)
                return -ENOMEM;
        return 0;
}

/* The filters both the query and the stream take. */
static int add_filters(struct buf *b, const struct filters *f) {
        if (add_param(b, "unit", f->unit) < 0 || add_param(b, "priority", f->priority) < 0 ||
            add_param(b, "boot", f->boot) < 0 || add_param(b, "grep", f->grep) < 0 ||
            add_param(b, "identifier", f->identifier) < 0)
                return -ENOMEM;
        return 0;
}

static void print_entry(json_t *e) {
        json_t *rt = json_object_get(e, "realtime_usec");
        time_t t = (time_t)(json_integer_value(rt) / 1000000);
        const char *ident = json_string_value(json_object_get(e, "identifier"));
        json_int_t pid = json_integer_value(json_object_get(e, "pid"));
        char when[32] = "";
        struct tm tm;

        if (localtime_r(&t, &tm))
                (void)strftime(when, sizeof when, "%b %d %H:%M:%S", &tm);
        fputs(when, stdout);
        putchar(' ');
        fputs_sanitized(json_string_value(json_object_get(e, "hostname")) ?: "", stdout);
        putchar(' ');
        fputs_sanitized(ident && *ident ? ident : "?", stdout);
        if (pid > 0)
                printf("[%lld]", (long long)pid);
        fputs(": ", stdout);
        fputs_sanitized(json_string_value(json_object_get(e, "message")) ?: "", stdout);
        putchar('\n');
}

/* One page of GET /api/v1/logs. */
/* The target of one page of GET /api/v1/logs (a NUL-terminated b). */
static int page_target(struct buf *b, const struct filters *f, const char *order, bool tail,
                       unsigned limit, const char *cursor) {
        char num[16];
        int r;

        snprintf(num, sizeof num, "%u", limit);
        r = buf_append(b, "/api/v1/logs?order=", 19);
        if (r >= 0)
                r = buf_append(b, order, strlen(order));
        if (r >= 0 && tail)
                r = buf_append(b, "&tail=1", 7);
        if (r >= 0)
                r = add_filters(b, f);
        if (r >= 0 && (r = add_param(b, "since", f->since)) >= 0 &&
            (r = add_param(b, "until", f->until)) >= 0 && (r = add_param(b, "limit", num)) >= 0)
                r = add_param(b, "cursor", cursor);
        if (r >= 0)
                r = buf_append(b, "", 1);
        return r < 0 ? -ENOMEM : 0;
}

static int fetch(struct cli *c, const struct filters *f, const char *order, bool tail,
                 unsigned limit, const char *cursor, json_t **ret) {
        struct buf b;
        int r;

        buf_init(&b, 16384);
        r = page_target(&b, f, order, tail, limit, cursor);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        r = cli_call(c, "GET", b.data, NULL, ret);
        buf_free(&b);
        return r;
}

static int parse_lines(const struct filters *f, unsigned *ret) {
        *ret = LOGS_DEFAULT_LINES;
        if (f->lines && (safe_atou(f->lines, ret) < 0 || *ret < 1 || *ret > PAGE_MAX))
                return usage_error("-n takes a number from 1 to %u", PAGE_MAX);
        return 0;
}

/* The entries to print, oldest first (newest first with -r): the last N
 * (the server's tail: its newest page, oldest first), or with --since and
 * no -n every entry since then, page by page.  *ret_last: the cursor of
 * the newest. */
static int query(struct cli *c, const struct filters *f, json_t **ret, char **ret_last) {
        json_t *all = json_array(), *page = NULL, *e;
        bool every = f->since && !f->lines;
        _cleanup_free_ char *cursor = NULL;
        const char *next;
        unsigned n;
        size_t i;
        int r = parse_lines(f, &n);

        if (r < 0 || !all) {
                json_decref(all);
                return r < 0 ? r : -ENOMEM;
        }
        do {
                json_decref(page);
                page = NULL;
                r = fetch(c, f, every ? "asc" : "desc", !every && !f->reverse, every ? PAGE_MAX : n,
                          cursor, &page);
                if (r < 0)
                        break;
                json_array_foreach(json_object_get(page, "entries"), i, e)
                        json_array_append(all, e);
                next = json_string_value(json_object_get(page, "next"));
                free(cursor);
                cursor = next ? strdup(next) : NULL;
        } while (every && cursor && json_array_size(json_object_get(page, "entries")) > 0);
        json_decref(page);
        if (r < 0) {
                json_decref(all);
                return r;
        }
        e = json_array_get(all, f->reverse ? 0 : json_array_size(all) - 1);
        *ret_last = e ? strdup(json_string_value(json_object_get(e, "cursor")) ?: "") : NULL;
        *ret = all;
        return 0;
}

/* --json for the last N: the server's answer as it came (one line of JSON,
 * {"entries": [...], "next"}), not parsed and printed again. */
static int query_raw(struct cli *c, const struct filters *f) {
        _cleanup_free_ char *body = NULL;
        struct buf b;
        long status = 0;
        size_t len = 0;
        unsigned n;
        int r = parse_lines(f, &n);

        if (r < 0)
                return r;
        buf_init(&b, 16384);
        r = page_target(&b, f, "desc", !f->reverse, n, NULL);
        if (r >= 0)
                r = http_request(c->http, "GET", b.data, NULL, 0, &status, &body, &len);
        buf_free(&b);
        if (r == -ECOMM || r == -EBADMSG) {
                cli_report_transport(c);
                return r;
        }
        if (r < 0)
                return r;
        if (status != 200) {
                json_t *answer = json_loadb(body ? body : "", len, 0, NULL);
                cli_report_refusal(c, status, answer);
                json_decref(answer);
                return -EREMOTEIO;
        }
        if (len == 0 || body[0] != '{') {
                fprintf(stderr, "steward: %s: the answer to GET /api/v1/logs is not a JSON object\n",
                        c->where);
                return -EBADMSG;
        }
        return put_json_ascii(body, len);
}

/* ---- follow: the event stream ---------------------------------------------------- */

struct stream {
        struct cli *c;
        struct buf line;
        bool is_logs; /* the current event is "logs" */
};

static void stream_line(struct stream *s, const char *l) {
        json_error_t jerr;
        json_t *v, *e;
        size_t i;

        if (strncmp(l, "event: ", 7) == 0) {
                s->is_logs = STREQ(l + 7, "logs");
                return;
        }
        if (strncmp(l, "data: ", 6) != 0 || !s->is_logs)
                return;
        /* Nested too deep: dropped before it is parsed (see http.c). */
        if (json_scan_depth(l + 6, strlen(l + 6), ANSWER_DEPTH_MAX + 1) > (int)ANSWER_DEPTH_MAX)
                return;
        v = json_loads(l + 6, 0, &jerr);
        json_array_foreach(json_object_get(v, "entries"), i, e) {
                if (s->c->json)
                        (void)print_json_ascii(e, JSON_COMPACT);
                else
                        print_entry(e);
        }
        json_decref(v);
        fflush(stdout);
}

static int stream_data(const char *p, size_t n, void *arg) {
        struct stream *s = arg;

        for (size_t i = 0; i < n; i++) {
                if (p[i] != '\n') {
                        if (buf_append(&s->line, &p[i], 1) < 0)
                                return -E2BIG;
                        continue;
                }
                if (buf_append(&s->line, "", 1) < 0)
                        return -E2BIG;
                stream_line(s, s->line.data);
                s->line.len = 0;
        }
        return 0;
}

static int follow(struct cli *c, const struct filters *f, const char *cursor) {
        struct stream s = {.c = c};
        _cleanup_free_ char *body = NULL;
        struct buf b;
        long status = 0;
        size_t len = 0;
        int r;

        buf_init(&b, 16384);
        r = buf_append(&b, "/api/v1/events?types=logs", 25);
        if (r >= 0)
                r = add_filters(&b, f);
        if (r >= 0 && cursor && *cursor)
                r = add_param(&b, "cursor", cursor);
        else if (r >= 0)
                r = add_param(&b, "since", f->since);
        if (r >= 0)
                r = buf_append(&b, "", 1);
        if (r < 0) {
                buf_free(&b);
                return -ENOMEM;
        }
        buf_init(&s.line, LINE_MAX_BYTES);
        r = http_stream(c->http, b.data, stream_data, &s, &status, &body, &len);
        buf_free(&b);
        buf_free(&s.line);
        if (r < 0) {
                cli_report_transport(c);
                return r;
        }
        if (status < 200 || status > 299) {
                json_t *answer = json_loadb(body ? body : "", len, 0, NULL);
                cli_report_refusal(c, status, answer);
                json_decref(answer);
                return -EREMOTEIO;
        }
        return 0;
}

/* ---- files -------------------------------------------------------------------- */

static int files_list(struct cli *c) {
        static const char *const header[] = {"NAME", "SIZE", "MODIFIED"};
        json_t *ans = NULL, *f;
        struct table t;
        size_t i;
        int r = cli_call(c, "GET", "/api/v1/logs/files", NULL, &ans);

        if (r < 0)
                return r;
        if (c->json) {
                r = print_json(ans);
                json_decref(ans);
                return r;
        }
        r = table_init(&t, header, ELEMENTSOF(header));
        json_array_foreach(json_object_get(ans, "files"), i, f) {
                char size[32], when[64];
                const char *row[] = {json_string_value(json_object_get(f, "name")) ?: "", size,
                                     when};
                if (r < 0)
                        break;
                snprintf(size, sizeof size, "%lld",
                         (long long)json_integer_value(json_object_get(f, "size")));
                format_time(json_object_get(f, "mtime"), "-", when);
                r = table_add(&t, row);
        }
        if (r >= 0)
                r = table_print(&t);
        table_free(&t);
        json_decref(ans);
        return r;
}

static int file_tail(struct cli *c, int argc, char **argv) {
        const char *lines = NULL;
        const struct verb_option opts[] = {{"lines", 'n', &lines, NULL}};
        char *pos[1];
        size_t npos = 0, i;
        struct buf b;
        json_t *ans = NULL, *l;
        int r = parse_verb_args("logs file NAME [-n N]", argc, argv, opts, ELEMENTSOF(opts), pos,
                                1, &npos);

        if (r < 0)
                return r;
        if (npos != 1)
                return usage_error("usage: steward logs file NAME [-n N]");
        buf_init(&b, 4096);
        /* The name's '/' stay path separators: the route takes up to three segments. */
        r = buf_append(&b, "/api/v1/logs/files/", 19);
        for (const char *p = pos[0]; r >= 0 && *p; p++) {
                char one[2] = {*p, 0};
                _cleanup_free_ char *esc = NULL;
                if (*p == '/')
                        r = buf_append(&b, "/", 1);
                else if ((r = url_escape(one, &esc)) >= 0)
                        r = buf_append(&b, esc, strlen(esc));
        }
        if (r >= 0 && lines)
                r = buf_append(&b, "?lines=", 7) < 0 ? -ENOMEM : 0;
        if (r >= 0 && lines) {
                _cleanup_free_ char *esc = NULL;
                r = url_escape(lines, &esc) < 0 ? -ENOMEM : buf_append(&b, esc, strlen(esc));
        }
        if (r >= 0)
                r = buf_append(&b, "", 1);
        if (r < 0) {
                buf_free(&b);
                return -ENOMEM;
        }
        r = cli_call(c, "GET", b.data, NULL, &ans);
        buf_free(&b);
        if (r < 0)
                return r;
        if (c->json)
                r = print_json(ans);
        else
                json_array_foreach(json_object_get(ans, "lines"), i, l) {
                        fputs_sanitized(json_string_value(l) ?: "", stdout);
                        putchar('\n');
                }
        json_decref(ans);
        return r;
}

/* ---- the verb ------------------------------------------------------------------ */

int verb_logs(struct cli *c, int argc, char **argv) {
        struct filters f = {0};
        const struct verb_option opts[] = {
                {"priority", 'p', &f.priority, NULL}, {"since", 'S', &f.since, NULL},
                {"until", 'U', &f.until, NULL},       {"lines", 'n', &f.lines, NULL},
                {"grep", 'g', &f.grep, NULL},         {"boot", 'b', &f.boot, NULL},
                {"identifier", 't', &f.identifier, NULL}, {"unit", 'u', &f.unit, NULL},
                {"reverse", 'r', NULL, &f.reverse},   {"follow", 'f', NULL, &f.follow},
        };
        _cleanup_free_ char *last = NULL;
        json_t *entries = NULL, *e;
        char *pos[1];
        size_t npos = 0, i;
        int r;

        if (argc > 0 && STREQ(argv[0], "files"))
                return argc == 1 ? files_list(c) : usage_error("usage: steward logs files");
        if (argc > 0 && STREQ(argv[0], "file"))
                return file_tail(c, argc - 1, argv + 1);
        r = parse_verb_args(SYNOPSIS, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        if (npos == 1) {
                if (f.unit)
                        return usage_error("give the unit once (UNIT or -u UNIT)");
                f.unit = pos[0];
        }
        if (f.follow && f.reverse)
                return usage_error("-f and -r do not go together");
        if (c->json && !f.follow && !(f.since && !f.lines))
                return query_raw(c, &f);
        r = query(c, &f, &entries, &last);
        if (r < 0)
                return r;
        if (c->json && !f.follow) {
                json_t *o = json_pack("{s:O}", "entries", entries);
                r = o ? print_json_ascii(o, JSON_INDENT(2)) : -ENOMEM;
                json_decref(o);
        } else
                json_array_foreach(entries, i, e) {
                        if (c->json)
                                (void)print_json_ascii(e, JSON_COMPACT);
                        else
                                print_entry(e);
                }
        json_decref(entries);
        fflush(stdout);
        if (r < 0 || !f.follow)
                return r;
        return follow(c, &f, last);
}
