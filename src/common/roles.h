/* roles.h — the three roles and their order: monitor < operator < admin.
 * Shared by the front (route minimums), the modules (their routes and
 * commands) and the helper (the real check). */
#pragma once

enum role {
        ROLE_NONE = 0,
        ROLE_MONITOR = 1,  /* read everything, change nothing */
        ROLE_OPERATOR = 2, /* + start/stop/restart, commands that change no configuration */
        ROLE_ADMIN = 3,    /* everything */
};

const char *role_to_string(enum role r); /* "monitor", "operator", "admin", "none" */
int role_from_string(const char *s);     /* -EINVAL when unknown; "none" is unknown */
