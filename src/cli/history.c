/* history.c — `steward history SERIES [RANGE] [--step SECONDS]` and
 * `steward status system --history cpu|mem|net|load [RANGE]`.
 *
 * Asks GET /api/v1/metrics/history and draws the answer as eight rows of
 * block characters (▁▂▃▄▅▆▇█, eight levels a row) as wide as the terminal
 * ($COLUMNS, else 80), the scale on the left, then one summary line: the
 * series, the span, min/avg/max over it.  Points are merged into columns
 * when there are more than the width holds; a column with no sample is
 * left blank.  With --json the server's answer is printed as it is.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

#define ROWS      8
#define LABEL_W   10 /* "1023.9 MiB" */
#define MIN_WIDTH 20
#define MAX_WIDTH 1000

static const char *const blocks[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

static void format_value(double v, const char *unit, char *dst, size_t n) {
        static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        bool rate = STREQ(unit, "bytes_per_second");
        size_t i = 0;

        if (STREQ(unit, "percent")) {
                snprintf(dst, n, "%.1f%%", v);
                return;
        }
        if (!rate && !STREQ(unit, "bytes")) {
                snprintf(dst, n, "%.2f", v);
                return;
        }
        while ((v >= 1024 || v <= -1024) && i + 1 < ELEMENTSOF(bin)) {
                v /= 1024;
                i++;
        }
        snprintf(dst, n, i ? "%.1f %s%s" : "%.0f %s%s", v, bin[i], rate ? "/s" : "");
}

static unsigned terminal_width(void) {
        const char *s = getenv("COLUMNS");
        unsigned w;

        if (!s || safe_atou(s, &w) < 0 || w < MIN_WIDTH)
                return 80;
        return w > MAX_WIDTH ? MAX_WIDTH : w;
}

/* The time of day; with the date for spans over a day. */
static void format_clock(json_int_t t, bool date, char dst[32]) {
        time_t tt = (time_t)t;
        struct tm tm;

        if (!localtime_r(&tt, &tm) ||
            strftime(dst, 32, date ? "%Y-%m-%d %H:%M" : "%H:%M:%S", &tm) == 0)
                snprintf(dst, 32, "%lld", (long long)t);
}

static int print_chart(const char *where, json_t *a) {
        json_t *points = json_object_get(a, "points"), *p;
        const char *series = json_string_value(json_object_get(a, "series"));
        const char *unit = json_string_value(json_object_get(a, "unit"));
        size_t npoints = json_array_size(points), ncols, i;
        unsigned width = terminal_width() - LABEL_W - 2;
        _cleanup_free_ double *col = NULL;
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        size_t nsum = 0;
        char a1[32], a2[32], a3[32], t1[32], t2[32];

        if (!series || !unit || !json_is_array(points) || npoints == 0) {
                fprintf(stderr, "steward: %s: malformed answer: no history points\n", where);
                return -EBADMSG;
        }
        ncols = npoints < width ? npoints : width;
        col = malloc(ncols * sizeof *col);
        if (!col)
                return -ENOMEM;

        /* Column c averages points [c*n/ncols, (c+1)*n/ncols). */
        for (size_t c = 0; c < ncols; c++) {
                size_t from = c * npoints / ncols, to = (c + 1) * npoints / ncols, n = 0;
                double s = 0;

                for (i = from; i < to; i++) {
                        p = json_array_get(points, i);
                        json_t *avg = json_array_get(p, 1), *mn = json_array_get(p, 2),
                               *mx = json_array_get(p, 3);
                        if (!json_is_number(avg))
                                continue;
                        s += json_number_value(avg);
                        n++;
                        sum += json_number_value(avg);
                        nsum++;
                        if (json_is_number(mn) && json_number_value(mn) < lo)
                                lo = json_number_value(mn);
                        if (json_is_number(mx) && json_number_value(mx) > hi)
                                hi = json_number_value(mx);
                }
                col[c] = n ? s / n : NAN;
        }

        bool date = json_integer_value(json_object_get(a, "range")) > 86400;
        format_clock(json_integer_value(json_array_get(json_array_get(points, 0), 0)), date, t1);
        format_clock(json_integer_value(json_array_get(json_array_get(points, npoints - 1), 0)) +
                             json_integer_value(json_object_get(a, "step")),
                     date, t2);
        if (nsum == 0) {
                printf("%s: no samples between %s and %s yet\n", series, t1, t2);
                return 0;
        }
        if (!(lo <= hi))
                lo = hi = sum / nsum;

        /* The scale: from 0 for non-negative series, so that small values
         * look small; flat series get some head room. */
        double base = lo >= 0 ? 0 : lo, top = hi;
        if (STREQ(unit, "percent") && top < 100 && top > 50)
                top = 100;
        if (top <= base)
                top = base + 1;

        format_value(top, unit, a1, sizeof a1);
        format_value(base, unit, a2, sizeof a2);
        for (int row = ROWS - 1; row >= 0; row--) {
                printf("%*s ┤", LABEL_W, row == ROWS - 1 ? a1 : row == 0 ? a2 : "");
                for (size_t c = 0; c < ncols; c++) {
                        long level, fill;
                        if (isnan(col[c])) {
                                fputs(" ", stdout);
                                continue;
                        }
                        /* col[c] >= lo >= base: the ratio is not negative. */
                        level = (long)((col[c] - base) / (top - base) * ROWS * 8 + 0.5);
                        if (level < 1 && row == 0)
                                level = 1; /* a sample, even a zero one, shows */
                        fill = level - row * 8;
                        fputs(blocks[fill < 0 ? 0 : fill > 8 ? 8 : fill], stdout);
                }
                putchar('\n');
        }
        format_value(lo, unit, a1, sizeof a1);
        format_value(sum / nsum, unit, a2, sizeof a2);
        format_value(hi, unit, a3, sizeof a3);
        printf("%*s  %s %s → %s (%llds, step %llds)  min %s  avg %s  max %s\n", LABEL_W, "", series,
               t1, t2, (long long)json_integer_value(json_object_get(a, "range")),
               (long long)json_integer_value(json_object_get(a, "step")), a1, a2, a3);
        return 0;
}

/* The chart (or with --json the answer) of one series; range NULL: 1h. */
static int history_show(struct cli *c, const char *series, const char *range, const char *step) {
        _cleanup_free_ char *s = NULL, *r = NULL, *st = NULL, *target = NULL;
        json_t *answer = NULL;
        int ret;

        if (url_escape(series, &s) < 0 || url_escape(range ? range : "1h", &r) < 0 ||
            (step && url_escape(step, &st) < 0))
                return -ENOMEM;
        if (asprintf(&target, "/api/v1/metrics/history?series=%s&range=%s%s%s", s, r,
                     st ? "&step=" : "", st ? st : "") < 0) {
                target = NULL;
                return -ENOMEM;
        }
        ret = cli_call(c, "GET", target, NULL, &answer);
        if (ret < 0)
                return ret;
        ret = c->json ? print_json(answer) : print_chart(c->where, answer);
        json_decref(answer);
        return ret;
}

int verb_history(struct cli *c, int argc, char **argv) {
        static const char synopsis[] = "history SERIES [RANGE] [--step SECONDS]";
        const char *step = NULL;
        const struct verb_option opts[] = {{"step", 's', &step, NULL}};
        char *pos[2];
        size_t npos = 0;
        int r;

        r = parse_verb_args(synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 2, &npos);
        if (r < 0)
                return r;
        if (npos < 1)
                return usage_error("a series is needed: %s (e.g. cpu.busy, mem.used)", synopsis);
        return history_show(c, pos[0], npos > 1 ? pos[1] : NULL, step);
}

/* `status system --history cpu|mem|net|load [RANGE]`: the chart of
 * `history` for the series most asked about. */
int history_status(struct cli *c, int argc, char **argv) {
        static const struct {
                const char *alias, *series;
        } aliases[] = {
                {"cpu", "cpu.busy"},
                {"mem", "mem.used"},
                {"net", "net.rx"},
                {"load", "load.1"},
        };

        if (argc < 3 || argc > 4 || !STREQ(argv[0], "system") || !STREQ(argv[1], "--history"))
                return usage_error("status [MODULE] | status system --history cpu|mem|net|load "
                                   "[RANGE]");
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (STREQ(argv[2], aliases[i].alias))
                        return history_show(c, aliases[i].series, argc > 3 ? argv[3] : NULL, NULL);
        return usage_error("--history takes cpu, mem, net or load, not \"%s\"", argv[2]);
}
