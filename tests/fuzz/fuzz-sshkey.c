/* fuzz-sshkey.c — libFuzzer target for the authorized_keys line parser
 * (ssh_key_parse in src/modules/users/accounts.c).
 *
 * Any input may be refused, never with a crash, a leak or undefined
 * behaviour; what is accepted is normalised, the normal form parses
 * again to itself, and the fingerprint of the input and of its normal form
 * is the same (a broken property aborts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/users/accounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *line = malloc(size + 1), *out = NULL, *again = NULL;
        const char *why;

        if (!line)
                return 0;
        memcpy(line, data, size);
        line[size] = '\0';
        if (ssh_key_parse(line, &out, &why) == 0) {
                char fp1[SSH_KEY_FP_LEN + 1], fp2[SSH_KEY_FP_LEN + 1];
                if (ssh_key_parse(out, &again, &why) != 0 || strcmp(out, again) != 0)
                        abort();
                if (ssh_key_fingerprint(line, fp1) != 0 || ssh_key_fingerprint(out, fp2) != 0 ||
                    strcmp(fp1, fp2) != 0 || strlen(fp1) != SSH_KEY_FP_LEN)
                        abort();
                free(again);
                free(out);
        } else if (!why)
                abort();
        free(line);
        return 0;
}
