/* front.h — the network front's start-up: the child the root supervisor
 * (main.c) forks, which drops to the unprivileged user, loads its sandbox
 * and serves TLS, HTTP, the event stream and UDP discovery until SIGTERM.
 *
 * The supervisor hands it everything that needs root, already opened: the
 * listening sockets, the discovery sockets, the TLS identity, and its ends
 * of the helper channels.  The front opens nothing privileged itself.
 */
#pragma once

#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "discovery.h"
#include "http.h"
#include "tls.h"

/* The discovery sockets the parent bound for the front. */
struct udp_sockets {
        int fds[DISCOVERY_MAX_SOCKETS];
        char names[DISCOVERY_MAX_SOCKETS][64];
        size_t n;
};

struct front_args {
        struct listener *ls; /* the TCP listeners, then the unix socket (last) */
        size_t n;
        const struct tls_identity *tls;
        const struct passwd *pw; /* the user to become */
        const struct udp_sockets *udp;
        pid_t parent; /* the supervisor: the front exits if it is not its parent */
        bool first;   /* not a restart: log what is served */
        const char *guide; /* the next steps for stderr on the first start, or NULL */
};

/* Runs the front in the forked child: helper_socks are its HELPER_CHANNELS
 * ends of the helper channels, mask the signals it waits for (blocked in
 * every thread).  Exits 0 after SIGTERM or SIGINT, 1 when it cannot start. */
__attribute__((noreturn)) void front_main(const struct front_args *f, const int *helper_socks,
                                          const sigset_t *mask);
