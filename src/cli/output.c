/* output.c — what every verb of the `steward` client shares for its input
 * and output: usage errors, the verbs' option parser, text sanitised for
 * a terminal, MODULE:KEY = VALUE lines (kv.h), JSON, tables, times, file
 * diffs and warnings.  Text that comes from the server is sanitised before
 * it reaches a terminal.
 *
 * A library file below the verbs: it calls no verb and makes no request.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kv.h"
#include "util.h"

int usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("steward: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'steward --help' for more information.\n", stderr);
        return -EINVAL;
}

bool valid_name(const char *s) {
        return kv_valid_component(s, strlen(s));
}

/* Length of the printable UTF-8 character at s, or 0 if s does not start
 * with one (invalid UTF-8, C0 or C1 control, DEL). */
static size_t printable_char(const unsigned char *s) {
        size_t len;

        if (s[0] >= 0x20 && s[0] < 0x7f)
                return 1;
        if (s[0] < 0xc2 || s[0] > 0xf4)
                return 0;
        len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
        for (size_t i = 1; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        if (s[0] == 0xc2 && s[1] < 0xa0) /* C1 controls */
                return 0;
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
            (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                return 0;
        return len;
}

void fputs_sanitized(const char *s, FILE *f) {
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                size_t len = printable_char(p);

                if (len > 0) {
                        fwrite(p, 1, len, f);
                        p += len;
                } else {
                        fputc(*p == '\n' || *p == '\t' ? ' ' : '?', f);
                        p++;
                }
        }
}

/* JSON as the server gave it.  On a terminal every non-ASCII character is
 * a \u escape: a string the server holds (a process's name, a DNS TXT
 * record) may carry C1 controls (U+009B, CSI) that a terminal would obey;
 * piped, the text stays UTF-8 for the program that reads it. */
int print_json(json_t *v) {
        size_t flags = JSON_INDENT(2) | JSON_ENCODE_ANY | (isatty(STDOUT_FILENO) ? JSON_ENSURE_ASCII : 0);
        _cleanup_free_ char *s = json_dumps(v, flags);

        if (!s)
                return -ENOMEM;
        fputs(s, stdout);
        fputc('\n', stdout);
        return 0;
}

int print_json_answers(json_t *answers) {
        if (json_array_size(answers) == 1)
                return print_json(json_array_get(answers, 0));
        return print_json(answers);
}

int print_kv(const char *prefix, json_t *v) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = kv_format(prefix, v, &text);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fprintf(stderr,
                        "steward: this answer cannot be written as %s:KEY = VALUE lines, "
                        "printing it as JSON\n",
                        prefix);
                return print_json(v);
        }
        fputs(text, stdout);
        return 0;
}

size_t print_file_diffs(json_t *files) {
        size_t i, printed = 0;
        json_t *f;

        json_array_foreach(files, i, f) {
                const char *diff = json_string_value(json_object_get(f, "diff"));

                if (!diff || !diff[0])
                        continue;
                /* A diff is file content: printed as is, like diff(1) does. */
                fputs(diff, stdout);
                if (diff[strlen(diff) - 1] != '\n')
                        fputc('\n', stdout);
                printed++;
        }
        return printed;
}

void print_warnings(json_t *answer) {
        json_t *w;
        size_t i;

        json_array_foreach(json_object_get(answer, "warnings"), i, w) {
                fputs("steward: warning: ", stderr);
                fputs_sanitized(json_string_value(w) ?: "?", stderr);
                fputc('\n', stderr);
        }
}

int parse_verb_args(const char *synopsis, int argc, char **argv, const struct verb_option *opts,
                    size_t n_opts, char **pos, size_t max_pos, size_t *ret_npos) {
        bool operands_only = false;
        size_t npos = 0;

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *value = NULL;
                const struct verb_option *o = NULL;

                if (operands_only || a[0] != '-' || STREQ(a, "-")) {
                        if (npos >= max_pos)
                                return usage_error("usage: steward %s", synopsis);
                        pos[npos++] = argv[i];
                        continue;
                }
                if (STREQ(a, "--")) {
                        operands_only = true;
                        continue;
                }
                if (a[1] == '-') {
                        const char *eq = strchr(a + 2, '=');
                        size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

                        for (size_t k = 0; k < n_opts && !o; k++)
                                if (strlen(opts[k].name) == n &&
                                    strncmp(opts[k].name, a + 2, n) == 0)
                                        o = &opts[k];
                        if (eq)
                                value = eq + 1;
                } else if (a[2] == '\0') {
                        for (size_t k = 0; k < n_opts && !o; k++)
                                if (opts[k].short_name && opts[k].short_name == a[1])
                                        o = &opts[k];
                }
                if (!o)
                        return usage_error("unknown option %s (usage: steward %s)", a, synopsis);

                if (o->ret_flag) {
                        if (value)
                                return usage_error("option --%s takes no value", o->name);
                        *o->ret_flag = true;
                        continue;
                }
                if (!value) {
                        if (i + 1 >= argc)
                                return usage_error("option %s needs a value", a);
                        value = argv[++i];
                }
                if (o->ret_values) {
                        if (*o->ret_n >= o->max_values)
                                return usage_error("option --%s given more than %zu times", o->name,
                                                   o->max_values);
                        o->ret_values[(*o->ret_n)++] = value;
                        continue;
                }
                *o->ret_value = value;
        }
        *ret_npos = npos;
        return 0;
}

int table_init(struct table *t, const char *const *header, size_t ncols) {
        *t = (struct table){.ncols = ncols};
        return table_add(t, header);
}

int table_add(struct table *t, const char *const *row) {
        size_t need;

        if (t->nrows == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 16;
                char **cells;

                if (__builtin_mul_overflow(cap, t->ncols, &need) || need > SIZE_MAX / sizeof *cells)
                        return -ENOMEM;
                cells = realloc(t->cells, need * sizeof *cells);
                if (!cells)
                        return -ENOMEM;
                t->cells = cells;
                t->cap = cap;
        }
        for (size_t k = 0; k < t->ncols; k++) {
                char *cell = strdup(row[k] ? row[k] : "");

                if (!cell) {
                        for (size_t j = 0; j < k; j++)
                                free(t->cells[t->nrows * t->ncols + j]);
                        return -ENOMEM;
                }
                t->cells[t->nrows * t->ncols + k] = cell;
        }
        t->nrows++;
        return 0;
}

/* Characters (UTF-8 sequences) in s, for alignment. */
static size_t display_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        n++;
        return n;
}

#define TABLE_COLUMN_MAX 40

int table_print(const struct table *t) {
        _cleanup_free_ size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);

        if (!width)
                return -ENOMEM;
        for (size_t i = 0; i < t->nrows; i++)
                for (size_t k = 0; k < t->ncols; k++) {
                        size_t w = display_width(t->cells[i * t->ncols + k]);

                        if (w > width[k])
                                width[k] = w < TABLE_COLUMN_MAX ? w : TABLE_COLUMN_MAX;
                }
        for (size_t i = 0; i < t->nrows; i++) {
                for (size_t k = 0; k < t->ncols; k++) {
                        const char *cell = t->cells[i * t->ncols + k];

                        fputs_sanitized(cell, stdout);
                        if (k + 1 == t->ncols)
                                break;
                        for (size_t w = display_width(cell); w < width[k] + 2; w++)
                                fputc(' ', stdout);
                        if (display_width(cell) >= width[k] + 2)
                                fputc(' ', stdout);
                }
                fputc('\n', stdout);
        }
        return 0;
}

void table_free(struct table *t) {
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        *t = (struct table){};
}

/* Copies s into dst (cap bytes), cut on a character boundary. */
static void copy_text(const char *s, char *dst, size_t cap) {
        size_t n = strlen(s);

        if (n >= cap) {
                n = cap - 1;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(dst, s, n);
        dst[n] = '\0';
}

void format_time(json_t *v, const char *none_text, char dst[64]) {
        struct tm tm;
        time_t t;

        if (json_is_string(v)) {
                copy_text(json_string_value(v), dst, 64);
                return;
        }
        if (json_is_integer(v))
                t = (time_t)json_integer_value(v);
        else if (json_is_real(v))
                t = (time_t)json_real_value(v);
        else
                t = 0;
        if (t <= 0 || !localtime_r(&t, &tm) || strftime(dst, 64, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                copy_text(none_text, dst, 64);
}

void format_cell(json_t *v, char dst[128]) {
        if (json_is_string(v))
                copy_text(json_string_value(v), dst, 128);
        else if (json_is_integer(v))
                (void)snprintf(dst, 128, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                (void)snprintf(dst, 128, "%g", json_real_value(v));
        else if (json_is_boolean(v))
                copy_text(json_is_true(v) ? "yes" : "no", dst, 128);
        else
                dst[0] = '\0';
}
