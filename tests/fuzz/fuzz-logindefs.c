/* fuzz-logindefs.c — libFuzzer target for the login.defs parser
 * (login_defs_parse in src/modules/users/accounts.c): never a crash, and an
 * accepted file gives ranges that make sense (min <= max, UID_MIN > 0). */
#include <stdint.h>
#include <stdlib.h>

#include "modules/users/accounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct login_defs d;

        if (login_defs_parse((const char *)data, size, &d) == 0 &&
            (d.uid_min == 0 || d.uid_min > d.uid_max || d.gid_min == 0 || d.gid_min > d.gid_max ||
             d.sys_uid_min > d.sys_uid_max || d.sys_gid_min > d.sys_gid_max))
                abort();
        return 0;
}
