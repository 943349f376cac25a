/* fuzz-history.c — libFuzzer target for the query arguments of
 * GET /api/v1/metrics/history (history_parse_query()).
 *
 * The input is up to three newline-separated fields, series, range and
 * step; a field that is the single byte '-' stands for an absent argument.
 * Any text may be rejected (-EINVAL with a 400 naming a field), never with
 * a crash or undefined behaviour.  An accepted query must satisfy what
 * history_query() relies on — a step that divides the range and is a
 * multiple of its tier's resolution, a range the tier spans, at most
 * HISTORY_MAX_POINTS points — and must then be answered (from memory; a
 * stored tier says it cannot be read without the helper).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/metrics/history.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *copy, *field[3] = {NULL, NULL, NULL}, *p;
        struct history_query q;
        struct module_error err = {0};
        int r;

        if (size > 4096)
                return 0;
        copy = malloc(size + 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        p = copy;
        for (size_t i = 0; i < 3 && p; i++) {
                char *nl = strchr(p, '\n');
                if (nl)
                        *nl = '\0';
                field[i] = STREQ(p, "-") ? NULL : p;
                p = nl ? nl + 1 : NULL;
        }

        r = history_parse_query(field[0], field[1], field[2], &q, &err);
        if (r < 0) {
                if (r != -EINVAL || err.status != 400 || !err.field[0])
                        abort();
        } else {
                const struct history_tier_def *d;
                json_t *answer = NULL;

                if (q.tier >= HISTORY_TIERS || q.step == 0 || q.range == 0)
                        abort();
                d = &history_tiers[q.tier];
                if (q.range % q.step || q.step % d->resolution ||
                    q.range > d->resolution * d->capacity || q.range > HISTORY_MAX_RANGE ||
                    q.range / q.step > HISTORY_MAX_POINTS ||
                    (!field[2] && q.range / q.step > HISTORY_DEF_POINTS))
                        abort();
                if (history_setup() < 0)
                        abort();
                /* Without a helper the stored tiers cannot answer. */
                if (d->stored) {
                        if (history_query(&q, 1700000000, &answer) != -ENODATA)
                                abort();
                } else if (history_query(&q, 1700000000, &answer) < 0 ||
                           json_array_size(json_object_get(answer, "points")) != q.range / q.step)
                        abort();
                json_decref(answer);
        }
        free(copy);
        return 0;
}
