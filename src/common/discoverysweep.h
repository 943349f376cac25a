/* discoverysweep.h — where a discovery request goes, and the sockets it
 * goes from: shared by `steward discover` (src/cli/discover.c) and the
 * daemon's own sweep for Prometheus service discovery (src/daemon/sd.c).
 *
 * One request goes to every place a server may listen from here: the IPv4
 * limited broadcast, the broadcast address of each interface that is up,
 * IPv6 all-nodes (ff02::1) on each interface that has IPv6, and this
 * machine's own 127.0.0.1 and ::1.  The list is bounded
 * (DISCOVERY_DESTINATIONS_MAX) and free of duplicates.  The caller owns the
 * list and the sockets.
 */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#define DISCOVERY_DESTINATIONS_MAX 256

struct discovery_destinations {
        struct sockaddr_storage ss[DISCOVERY_DESTINATIONS_MAX];
        socklen_t len[DISCOVERY_DESTINATIONS_MAX];
        size_t n;
};

/* Fills d (emptied first) with the destinations above, on UDP port. */
void discovery_destinations_find(struct discovery_destinations *d, uint16_t port);

/* A non-blocking, close-on-exec UDP socket of family, allowed to broadcast
 * (AF_INET) or IPv6-only (AF_INET6), bound to an ephemeral port; the
 * descriptor, or -errno. */
int discovery_sweep_socket(int family);
