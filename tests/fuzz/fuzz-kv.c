/* fuzz-kv.c — libFuzzer target for the settings grammar (kv.h).
 *
 * Any input may be rejected, but never with a crash, a leak or undefined
 * behaviour.  What kv_parse() accepts must survive the round trip the CLI
 * relies on: kv_format() prints it, kv_parse() reads the text back to an
 * equal tree, and printing that tree gives the same text.  The same holds for
 * a single value through kv_parse_value()/kv_format_value().  A broken
 * property aborts, which the fuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *text, size_t size) {
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        struct kv_error e;
        json_t *tree = NULL, *back = NULL;

        if (kv_parse(text, size, &tree, &e) < 0)
                return;

        if (kv_format(NULL, tree, &out) < 0)
                abort();
        if (kv_parse(out, strlen(out), &back, &e) < 0)
                abort();
        if (!json_equal(tree, back))
                abort();
        if (kv_format(NULL, back, &out2) < 0 || strcmp(out, out2) != 0)
                abort();

        json_decref(tree);
        json_decref(back);
}

static void check_value(const char *text, size_t size) {
        _cleanup_free_ char *out = NULL;
        struct kv_error e;
        json_t *v = NULL, *back = NULL;

        if (kv_parse_value(text, size, &v, &e) < 0)
                return;
        if (kv_format_value(v, &out) < 0)
                abort();
        if (kv_parse_value(out, strlen(out), &back, &e) < 0)
                abort();
        if (!json_equal(v, back))
                abort();
        json_decref(v);
        json_decref(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Bigger inputs only repeat what the line and line-count limits
         * already cover, and slow the fuzzer down. */
        if (size > 1024 * 1024)
                return 0;

        check_text((const char *)data, size);
        check_value((const char *)data, size);
        return 0;
}
