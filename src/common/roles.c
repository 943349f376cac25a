/* roles.c — see roles.h.  The strings are the wire names of the roles; "none"
 * is printable (for logs) but never parsed, so no request can name it. */
#include "roles.h"

#include <errno.h>
#include <string.h>

const char *role_to_string(enum role r) {
        switch (r) {
        case ROLE_MONITOR:
                return "monitor";
        case ROLE_OPERATOR:
                return "operator";
        case ROLE_ADMIN:
                return "admin";
        case ROLE_NONE:
        default:
                return "none";
        }
}

int role_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        if (strcmp(s, "monitor") == 0)
                return ROLE_MONITOR;
        if (strcmp(s, "operator") == 0)
                return ROLE_OPERATOR;
        if (strcmp(s, "admin") == 0)
                return ROLE_ADMIN;
        return -EINVAL;
}
