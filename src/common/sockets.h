/* sockets.h — the machine's TCP and UDP sockets, IPv4 and IPv6, as the kernel
 * reports them over netlink sock_diag (what `ss` reads), not /proc/net text.
 *
 * Two layers:
 *  - sockets_list() talks to the kernel: one NETLINK_SOCK_DIAG socket, one
 *    SOCK_DIAG_BY_FAMILY dump per (protocol, family), read until NLMSG_DONE.
 *    Listing needs no privilege: an unprivileged process sees every socket
 *    of its network namespace, with uid and inode (not the owning process:
 *    that is procmap.h, which needs root to see everyone).
 *  - sockdiag_parse() turns the bytes of received datagrams into entries.  It
 *    is pure (no I/O, no global state), reads nothing past len, and is fuzzed
 *    (tests/fuzz/fuzz-sockdiag.c).
 *
 * What is listed: by default the sockets that accept traffic, as `ss -ltu`
 * shows them: TCP in LISTEN and UDP in CLOSE (bound, unconnected: "unconn").
 * With `all`, every TCP state ss -ta shows and connected UDP too.
 *
 * Entries are plain values (no pointers inside), so a vector of them is one
 * allocation; sockets_free() releases it and accepts NULL.
 */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOCKETS_MAX 1000000u /* entries in one listing; -E2BIG past it */

typedef enum {
        SOCK_SCOPE_LOOPBACK, /* 127.0.0.0/8, ::1 (and ::ffff:127.0.0.0/104) */
        SOCK_SCOPE_ALL,      /* 0.0.0.0, :: */
        SOCK_SCOPE_ADDRESS,  /* one other address */
        _SOCK_SCOPE_MAX,
} sock_scope_t;

struct sock_entry {
        uint64_t inode;   /* 0 for sockets without one (time-wait, syn-recv) */
        uint32_t uid;     /* owner uid as the kernel records it */
        uint32_t rqueue;  /* listen: current accept backlog; else bytes queued */
        uint32_t wqueue;  /* listen: backlog limit; else bytes queued */
        uint32_t ifindex; /* bound device (SO_BINDTODEVICE, link-local), or 0 */
        uint16_t local_port, peer_port;
        uint8_t protocol;             /* IPPROTO_TCP or IPPROTO_UDP */
        uint8_t family;               /* AF_INET or AF_INET6 */
        uint8_t state;                /* the kernel's TCP_* number (UDP uses 1 and 7 too) */
        uint8_t scope;                /* sock_scope_t of the local address */
        bool connected;               /* peer and peer_port are meaningful */
        char local[INET6_ADDRSTRLEN]; /* inet_ntop() text; mapped v6 as is */
        char peer[INET6_ADDRSTRLEN];  /* "" when not connected */
        char ifname[IF_NAMESIZE];     /* "" when ifindex is 0 or gone */
};

/* "tcp", "udp"; NULL for anything else. */
const char *sock_protocol_to_string(int protocol);
/* "ipv4", "ipv6"; NULL for anything else. */
const char *sock_family_to_string(int family);
/* "established", "syn-sent", …, "listen", "unconn" (TCP_CLOSE, as ss says);
 * NULL for a number the kernel does not use. */
const char *sock_state_to_string(int state);
/* "loopback", "all", "address"; NULL out of range. */
const char *sock_scope_to_string(sock_scope_t s);

/* A growable vector of entries with a hard maximum, filled by
 * sockdiag_parse().  Zero-initialize it; max 0 means SOCKETS_MAX. */
struct sock_vec {
        struct sock_entry *v;
        size_t n, cap, max;
};
void sock_vec_done(struct sock_vec *vec);

/* Parses one datagram (or several concatenated) of a SOCK_DIAG_BY_FAMILY
 * dump reply for `protocol` (IPPROTO_TCP or IPPROTO_UDP; the reply does not
 * say) and appends its sockets to out.  Messages of other types and families
 * are skipped; so is everything after NLMSG_DONE.
 *
 * Returns 1 when the dump is complete (NLMSG_DONE seen), 0 when more
 * datagrams are to come; the kernel's error from an NLMSG_ERROR (or a failed
 * NLMSG_DONE) as is; -EBADMSG for a message whose length fields do not fit
 * the buffer or whose payload is too short; -E2BIG when out would pass its
 * maximum; -ENOMEM; -EINVAL for a bad protocol.  On failure out is left as
 * it was (entries appended by this call are dropped). */
int sockdiag_parse(const void *buf, size_t len, int protocol, struct sock_vec *out);

/* Lists the sockets of this network namespace (see the top of this file for
 * which).  On success *ret is an array of *ret_n entries (NULL when 0) to
 * release with sockets_free().  A protocol or family the kernel does not
 * support (UDP diag not built, IPv6 disabled) lists as empty; only TCP over
 * IPv4 is required. */
int sockets_list(bool all, struct sock_entry **ret, size_t *ret_n);
void sockets_free(struct sock_entry *v, size_t n);
