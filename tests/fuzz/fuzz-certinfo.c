/* fuzz-certinfo.c — libFuzzer target for the certificate date reader
 * (certinfo_not_after in src/common/certinfo.c, GnuTLS underneath).
 *
 * Any bytes are read without a crash, a leak or undefined behaviour; what
 * is read as a certificate has a subject that is a terminated string
 * within its buffer (a broken property aborts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char subject[64];
        int64_t na = 0;

        memset(subject, 'x', sizeof subject);
        if (certinfo_not_after(data, size, &na, subject, sizeof subject) == 0 &&
            memchr(subject, '\0', sizeof subject) == NULL)
                abort();
        return 0;
}
