/* loginsrc.h — where a login comes from, decided by the helper from the
 * client's connection itself rather than from the front's word.
 *
 * Throttling blocks sources, so a source the front could name freely would
 * let a compromised front rotate it and never be blocked.  The front passes
 * the descriptor of the client's TCP connection with a login; the helper
 * accepts it only if it is the accepted end of a connection to one of the
 * daemon's own listening sockets (registered here by the parent, which
 * bound them) and reads the peer's address with getpeername().
 *
 * A compromised front holds the listening sockets (it runs libmicrohttpd)
 * and may connect to them itself, from any address of this host (all of
 * 127.0.0.0/8, ::1, the host's own addresses: its seccomp filter does not
 * stop socket/bind/connect, which webhooks need), accept that connection
 * and pass it, to make a login come from a fresh local source each time.
 * So when the peer is on this host, the helper looks its socket up
 * (sock_diag, by the exact address pair) and refuses a connection whose
 * client socket belongs to the front's uid.  What remains: a front could
 * still pass connections other local processes made, which it does not
 * choose; and everything here holds in the daemon's network namespace
 * only (a peer in another one is not found, so it counts as remote).
 *
 * The throttle key of an IPv4 source is its address; of an IPv6 source, its
 * /64 (one host usually holds a whole /64, so per-address keys would cost an
 * attacker nothing to rotate). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define LOGINSRC_LISTENERS_MAX 16
#define LOGINSRC_SOURCE_MAX    64 /* "[IPv6]:PORT" and a NUL */
#define LOGINSRC_KEY_MAX       64 /* "ip:" and an address or /64 */

struct loginsrc_listeners {
        struct sockaddr_storage addr[LOGINSRC_LISTENERS_MAX];
        size_t n;
        bool has_front_uid; /* refuse connections whose client socket is its */
        uid_t front_uid;
};

/* Remembers the local address of a listening TCP socket.  -EINVAL if fd is
 * not one; -ENOSPC past LOGINSRC_LISTENERS_MAX. */
int loginsrc_add_listener(struct loginsrc_listeners *l, int fd);

/* The uid the network front runs as: connections it made itself are not
 * clients'. */
void loginsrc_set_front_uid(struct loginsrc_listeners *l, uid_t uid);

/* The source ("192.0.2.7:51234", "[2001:db8::1]:51234") and throttle key
 * ("ip:192.0.2.7", "ip:2001:db8::/64") of a connection passed with a login.
 * -EPERM when fd is not the accepted end of a TCP connection to one of the
 * listeners, or its client socket is the front's; other -errno when it
 * cannot be read. */
int loginsrc_from_fd(const struct loginsrc_listeners *l, int fd, char source[LOGINSRC_SOURCE_MAX],
                     char key[LOGINSRC_KEY_MAX]);

/* The same from a socket address (pure; for the tests). */
int loginsrc_format(const struct sockaddr *sa, socklen_t len, char source[LOGINSRC_SOURCE_MAX],
                    char key[LOGINSRC_KEY_MAX]);
