/* fuzz-jsonpull.c — libFuzzer target for the pull reader (jsonpull.h).
 *
 * Any input may be refused, never with a crash, a read past the input or
 * undefined behaviour.  The reader and jansson agree on what is JSON: what
 * the reader reads to JP_EOF jansson parses (unless jansson refuses a
 * number it cannot hold, a \u escape that is no character, or \u0000 in
 * a key: the grammar allows all three), and what jansson parses within the
 * reader's depth the reader reads to JP_EOF (unless the input holds a raw
 * NUL byte, where jansson stops reading).  Every string decodes, into a small buffer too,
 * and skipping a value from its first token ends where reading it would.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpull.h"
#include "jsonutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool read_all(const char *text, size_t size, bool skip_first) {
        struct jpull j;
        struct jpull_tok t;
        bool first = true;
        char small[5], big[256];

        jpull_init(&j, text, size);
        for (;;) {
                if (jpull_next(&j, &t) < 0)
                        return false;
                if (t.type == JP_EOF)
                        return true;
                if (t.type == JP_KEY || t.type == JP_STRING) {
                        int n = jpull_string(&t, big, sizeof big);
                        if (n < 0 || jpull_string(&t, small, sizeof small) != n ||
                            strlen(small) >= sizeof small)
                                abort();
                }
                if (t.type == JP_NUMBER) {
                        long long v;
                        (void)jpull_int(&t, &v);
                }
                if (skip_first && first && jpull_skip(&j, &t) < 0)
                        return false;
                first = false;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data;
        json_error_t err;
        json_t *v;
        bool ours = read_all(text, size, false);

        if (read_all(text, size, true) != ours)
                abort();
        v = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (ours && !v && !strstr(err.text, "nteger") && !strstr(err.text, "real") &&
            !strstr(err.text, "nicode") && !strstr(err.text, "\\u") &&
            !strstr(err.text, "NUL byte in object key"))
                abort();
        /* jansson ends its input at a raw NUL byte after a whole value
         * ("1\0" parses); the reader refuses any byte after the value. */
        if (!ours && v && !memchr(text, '\0', size) &&
            json_scan_depth(text, size, JPULL_MAX_DEPTH + 1) <= JPULL_MAX_DEPTH)
                abort();
        json_decref(v);
        return 0;
}
