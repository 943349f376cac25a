/* sd.h — Prometheus HTTP service discovery in the front: what
 * GET /api/v1/sd answers (this server, then the peers its own sweeps found),
 * and the thread that sweeps (docs/fleet.md, "Prometheus").
 *
 * The thread runs for the front's life (sd_start … sd_stop) and sweeps only
 * while stewardd:discovery:sd_peers is true, every discovery:sd_interval
 * seconds; both are read once a second, so turning the setting on starts the
 * sweeps within a second and turning it off forgets every peer.  A sweep
 * sends one discovery request (common/discoverysweep.c: broadcasts, all-nodes,
 * loopback) from UDP sockets of its own, never the responder's, to the port
 * this server answers discovery on (660 when it answers none), and keeps for
 * one second every answer that carries its nonce, except this server's own
 * (same certificate fingerprint); then it verifies the claims that need it
 * with a TLS handshake (sd.c), and lists verified peers only.  The peer
 * table (common/sdpeers.c) is
 * guarded by a mutex: the sweeper writes it, HTTP threads read it.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Starts the sweeper.  ls are the front's listeners (the unix socket's
 * ignored), udp_port the port discovery answers on (0: none),
 * fingerprint this server's certificate's.  Not thread-safe: the front's
 * main thread calls it once. */
int sd_start(const struct listener *ls, size_t n, uint16_t udp_port, const char *fingerprint,
             char *err, size_t err_len);

/* Stops the thread and forgets the peers.  Safe when nothing was started. */
void sd_stop(void);

/* GET /api/v1/sd's answer for a request that came on the connection
 * conn_fd, as a new JSON array; NULL on allocation failure.  For an
 * anonymous caller (no token: a network of metrics:allow_from) no group has
 * the __meta_steward_version label. */
json_t *sd_targets_json(int conn_fd, bool anonymous);

/* For stewardd's full status, as a new JSON object: {"peers" (listed now),
 * "sweeps" (since the front started), "sweeps_unsent" (of those, the ones
 * that could send no request)}. */
json_t *sd_counters_json(void);
