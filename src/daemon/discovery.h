/* discovery.h — the UDP discovery responder (docs/discovery.md).
 *
 * Ownership: the root parent opens the sockets (discovery_socket_open(),
 * before the fork, so port 660 needs no privilege in the front) and keeps
 * them across restarts of the front; the unprivileged front serves them in
 * one thread of its own (discovery_start() … discovery_stop()).  The
 * datagrams themselves are encoded and decoded by common/discovery.c.
 *
 * The responder answers a valid request only when stewardd:discovery:enabled
 * is true at that moment, within the per-source rate
 * (stewardd:discovery:rate_per_source, read for each datagram) and a global
 * cap; it never answers anything else, and an answer is never larger than
 * the request that caused it.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DISCOVERY_MAX_SOCKETS 4
/* Answers per second, over all sources together. */
#define DISCOVERY_GLOBAL_RATE 200

/* Opens a non-blocking UDP socket bound to sa (IPv6 sockets are
 * IPV6_V6ONLY); writes its bound address ("0.0.0.0:660", "[::]:660") into
 * name.  On failure returns -errno with a message in err. */
int discovery_socket_open(const struct sockaddr *sa, socklen_t len, int *ret_fd, char *name,
                          size_t name_len, char *err, size_t err_len);

/* Starts the responder thread on fds (not owned: the caller closes them).
 * tcp_port and fingerprint are what answers advertise.  n == 0 starts
 * nothing. */
int discovery_start(const int *fds, size_t n, uint16_t tcp_port, const char *fingerprint, char *err,
                    size_t err_len);

/* Stops the thread and waits for it.  Safe when nothing was started. */
void discovery_stop(void);

/* The counters since this process started, as a new JSON object:
 * {"answered", "dropped_malformed", "dropped_rate_limited",
 *  "dropped_disabled", "send_failed"}. */
json_t *discovery_counters_json(void);
