/* discoverysweep.c — the destinations of a discovery request (see
 * discoverysweep.h).  Reads the interfaces with getifaddrs(); sends nothing.
 */
#include "discoverysweep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

static void add_destination(struct discovery_destinations *d, const void *sa, socklen_t len) {
        for (size_t i = 0; i < d->n; i++)
                if (d->len[i] == len && memcmp(&d->ss[i], sa, len) == 0)
                        return;
        if (d->n == DISCOVERY_DESTINATIONS_MAX)
                return;
        memset(&d->ss[d->n], 0, sizeof d->ss[d->n]);
        memcpy(&d->ss[d->n], sa, len);
        d->len[d->n++] = len;
}

static void add_v4(struct discovery_destinations *d, in_addr_t addr, uint16_t port) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

        a.sin_addr.s_addr = addr;
        add_destination(d, &a, sizeof a);
}

static void add_v6(struct discovery_destinations *d, const char *addr, unsigned scope,
                   uint16_t port) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

        if (inet_pton(AF_INET6, addr, &a.sin6_addr) != 1)
                return;
        a.sin6_scope_id = scope;
        add_destination(d, &a, sizeof a);
}

/* The interface address's broadcast address: the one configured, else the
 * address with its host part all ones.  (For an address added without one,
 * as `ip addr add` does, getifaddrs() reports the address itself.)
 * INADDR_ANY when there is none (/31, /32). */
static in_addr_t broadcast_of(const struct ifaddrs *i) {
        in_addr_t self = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
        uint32_t addr, mask;

        if (i->ifa_broadaddr && i->ifa_broadaddr->sa_family == AF_INET) {
                in_addr_t b = ((struct sockaddr_in *)i->ifa_broadaddr)->sin_addr.s_addr;

                if (b != htonl(INADDR_ANY) && b != self)
                        return b;
        }
        if (!i->ifa_netmask || i->ifa_netmask->sa_family != AF_INET)
                return htonl(INADDR_ANY);
        addr = ntohl(self);
        mask = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
        if (~mask < 3) /* /31 and /32 have no broadcast address */
                return htonl(INADDR_ANY);
        return htonl(addr | ~mask);
}

void discovery_destinations_find(struct discovery_destinations *d, uint16_t port) {
        struct ifaddrs *ifs = NULL;

        d->n = 0;
        add_v4(d, htonl(INADDR_BROADCAST), port);
        if (getifaddrs(&ifs) == 0) {
                for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) ||
                            (i->ifa_flags & IFF_LOOPBACK))
                                continue;
                        if (i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_BROADCAST)) {
                                in_addr_t b = broadcast_of(i);

                                if (b != htonl(INADDR_ANY))
                                        add_v4(d, b, port);
                        } else if (i->ifa_addr->sa_family == AF_INET6 &&
                                   (i->ifa_flags & IFF_MULTICAST)) {
                                unsigned scope = if_nametoindex(i->ifa_name);

                                if (scope > 0)
                                        add_v6(d, "ff02::1", scope, port);
                        }
                }
                freeifaddrs(ifs);
        }
        add_v4(d, htonl(INADDR_LOOPBACK), port);
        add_v6(d, "::1", 0, port);
}

int discovery_sweep_socket(int family) {
        int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

        if (fd < 0)
                return -errno;
        if (family == AF_INET && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        return fd;
}
