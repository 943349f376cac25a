/* who.h — the parser behind who_list (who.c), exposed for the unit tests. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `doveadm -f json who -1`'s text (a JSON array of {"username", "service",
 * "pid", "ip"}, every value a string) → one {"user", "service", "client",
 * "pid"} per session appended to list, at most max; entries that lack a
 * user or a valid pid are skipped.  -EBADMSG when the text is no JSON
 * array, -E2BIG past max, -ENOMEM. */
int who_parse_doveadm(const char *text, size_t len, json_t *list, size_t max);

/* The user-name grammar of kick: 1–256 bytes of valid UTF-8, no control
 * character, no leading '-', none of doveadm's mask characters ('*', '?',
 * '/') and not an IP address (doveadm kick reads one as an address mask). */
bool who_user_valid(const char *s);

/* One line of /proc/PID/net/tcp or tcp6 (the kernel's "%08X:%04X" raw
 * address words and host-order port): the local port, the remote address
 * as text, the state (0x01 established, 0x0A listening) and the socket's
 * inode.  -EBADMSG for a line that is not one (the header). */
struct who_tcp {
        unsigned local_port, state;
        char remote[46]; /* INET6_ADDRSTRLEN */
        uint64_t inode;
};
int who_parse_tcp_line(const char *line, size_t n, bool v6, struct who_tcp *ret);
