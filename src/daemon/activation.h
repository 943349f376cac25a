/* activation.h — the sockets systemd hands stewardd (socket activation).
 *
 * With LISTEN_FDS set for this process, every passed descriptor is sorted
 * by what it is, not by its name: a listening stream socket of AF_INET or
 * AF_INET6 is a TLS listener, an AF_UNIX listening stream socket is the
 * control socket, an AF_INET/AF_INET6 datagram socket serves discovery.
 * Anything else is refused, so a unit that passes the wrong thing fails the
 * start with a message instead of serving something unexpected.  The
 * LISTEN_* variables are removed from the environment once read, so no
 * child (the front, the tools the helper runs) inherits them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "front.h"
#include "http.h"

#define ACTIVATION_MAX_TCP 16

struct activation {
        struct listener tcp[ACTIVATION_MAX_TCP];
        size_t n_tcp;
        struct listener unix_socket; /* .fd = -1 when none was passed */
        struct udp_sockets udp;
        size_t n_total; /* every descriptor passed; 0: not socket-activated */
};

/* Takes the passed descriptors (non-blocking, close-on-exec afterwards);
 * ret->n_total == 0 when the process was not socket-activated.  On error
 * every passed descriptor is closed and err says why. */
int activation_take(struct activation *ret, char *err, size_t err_len);

/* Sorts one descriptor into `a`; exposed for the unit tests. */
int activation_classify(struct activation *a, int fd, char *err, size_t err_len);

/* "0.0.0.0:660", "[::]:660" or the unix socket's path, from getsockname. */
int activation_socket_name(int fd, char *name, size_t name_len);
