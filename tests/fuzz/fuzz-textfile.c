/* fuzz-textfile.c — libFuzzer target for the textfile collector's parser,
 * merge, writer and selectors (modules/metrics/textfile.h).
 *
 * The input is a .prom text.  Any text may be refused, but never with a
 * crash, a leak, a read past the end or undefined behaviour.  Beyond that:
 * a refused text leaves the set empty; an accepted one, written out, is
 * parsed again to the same number of samples (the writer's output is
 * valid exposition), merges into an empty set, and merges a second time
 * not at all (every series would be there twice).  The text is also tried
 * as a selector.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/metrics/expo.h"
#include "modules/metrics/textfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok) {
        if (!ok)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct tf_set s = {0}, again = {0}, all = {0}, copy = {0};
        char err[256], *sel;
        struct buf b;
        struct expo e;
        double v;
        size_t n;

        if (size > TEXTFILE_MAX_FILE_BYTES)
                return 0;
        if (textfile_parse((const char *)data, size, 1000, &s, err, sizeof err) < 0) {
                check(s.n == 0 && s.n_samples == 0);
                goto selector;
        }
        n = s.n_samples;
        buf_init(&b, 64u << 20);
        expo_init(&e, &b);
        textfile_write(&e, &s);
        check(e.error == 0 && !e.in_sample);
        check(b.len == 0 || b.data[b.len - 1] == '\n');
        check(textfile_parse(b.data, b.len, 100000, &again, err, sizeof err) == 0);
        check(again.n_samples <= n); /* families without samples are not written */
        (void)textfile_parse((const char *)data, size, 1000, &copy, err, sizeof err);
        check(textfile_merge(&all, &s, NULL, NULL, "/f", err, sizeof err) == 0);
        if (n > 0)
                check(textfile_merge(&all, &copy, NULL, NULL, "/g", err, sizeof err) < 0);
        textfile_set_done(&copy);
        textfile_set_done(&again);
        textfile_set_done(&all);
        buf_free(&b);
selector:
        textfile_set_done(&s);
        sel = strndup((const char *)data, size);
        if (sel) {
                (void)textfile_set_lookup(&all, sel, &v);
                free(sel);
        }
        return 0;
}
