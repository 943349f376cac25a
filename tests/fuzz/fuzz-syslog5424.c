/* fuzz-syslog5424.c — libFuzzer target for the RFC 5424 formatter and the
 * target grammar (src/common/syslog5424.c).
 *
 * The input is split at NUL bytes into the record's fields and a hostname;
 * whatever they hold, the message is one line of valid UTF-8 within
 * SYSLOG5424_MAX bytes that starts with "<PRI>1 " and holds the SD-ID, and
 * every field is also tried as a target (a broken property aborts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syslog5424.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char buf[SYSLOG5424_MAX + 1];
        const char *f[10] = {0};
        char *copy = malloc(size + 1);
        size_t nf = 0;
        int n;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        for (char *p = copy; nf < ELEMENTSOF(f) && p <= copy + size; p += strlen(p) + 1)
                f[nf++] = p;
        struct syslog_record r = {
                .id = size, .time = (int64_t)size * 1000003, .user = f[0], .role = f[1],
                .source = f[2], .module = f[3], .operation = f[4], .result = f[5],
                .hash = f[6], .prev_hash = f[7], .message = f[8], .detail = f[9],
        };
        n = syslog5424_format(&r, (int)(size % 24), f[1], (int64_t)size, buf, sizeof buf);
        if (n < 0 || (size_t)n != strlen(buf) || n > SYSLOG5424_MAX || buf[0] != '<' ||
            !strstr(buf, "[" SYSLOG5424_SD_ID " user=\"") || !utf8_valid(buf, (size_t)n))
                abort();
        for (int i = 0; i < n; i++)
                if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] == 0x7f)
                        abort();
        for (size_t i = 0; i < nf; i++) {
                struct syslog_target t;
                if (syslog_target_parse(f[i], &t) == 0 && t.transport != SYSLOG_LOCAL &&
                    t.port == 0)
                        abort();
        }
        free(copy);
        return 0;
}
