/* sdpeers.h — Prometheus HTTP service discovery (GET /api/v1/sd): the table
 * of peers a daemon's own discovery sweeps found, and the target groups it
 * answers with (docs/fleet.md, "Prometheus").
 *
 * Pure code: no socket, no clock, no lock, no log.  The caller (the front's
 * sweeper, src/daemon/sd.c) owns a table, feeds it one sweep's answers and
 * serialises access to it.
 *
 * A sweep's answers are collected in a table of their own (sd_peers_found):
 * one row per server, a server being its certificate fingerprint and host
 * name, as `steward discover` merges them; a server that answered through
 * several addresses keeps the most useful one (sd_address_rank).  At the end
 * of the sweep sd_peers_merge() folds it into the lasting table: a server
 * that answered is refreshed (address, version) and its miss count reset;
 * one that did not answer has missed one more sweep and is dropped after
 * SD_PEER_MISSES of them in a row.  Neither table ever holds more than
 * SD_PEERS_MAX rows: past that, new servers are ignored (the ones already
 * known stay until they stop answering).
 *
 * Nothing in a peer's row is authenticated: it is what a datagram said,
 * after the discovery parser's grammars (printable ASCII, a well-formed
 * fingerprint); the address is the datagram's source, the port its field.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "discovery.h"

#define SD_PEERS_MAX   1024
#define SD_PEER_MISSES 3
/* "[" + an IPv6 address (45) + "]:" + a port (5) + NUL. */
#define SD_TARGET_MAX 56

struct sd_peer {
        char target[SD_TARGET_MAX]; /* "10.0.0.5:660", "[2001:db8::5]:660" */
        char host[DISCOVERY_HOST_MAX + 1];
        char version[DISCOVERY_VERSION_MAX + 1];
        char fingerprint[DISCOVERY_FINGERPRINT_LEN + 1];
        int rank;        /* sd_address_rank() of target's address */
        unsigned missed; /* sweeps in a row without an answer */
};

struct sd_peers {
        struct sd_peer *p; /* SD_PEERS_MAX rows, allocated at the first insert */
        size_t n;
};

/* 0: a routable address; 1: loopback; 2: IPv6 link-local (no Prometheus
 * target can name its scope); -1: not IPv4 or IPv6. */
int sd_address_rank(const struct sockaddr *sa);

/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6, IPv4-mapped IPv6 written as IPv4) of
 * sa's address and port; -EAFNOSUPPORT for another family, -ENOBUFS if it
 * does not fit cap. */
int sd_target_format(const struct sockaddr *sa, uint16_t port, char *dst, size_t cap);

/* Records an answer received during a sweep from target (sd_target_format
 * of its source address and its port) of the given rank.  -ENOSPC when the
 * sweep's table is full, -ENOMEM, -EINVAL on a target that is empty or too
 * long. */
int sd_peers_found(struct sd_peers *sweep, const struct discovery_answer *a, const char *target,
                   int rank);

/* Folds a finished sweep into table (see above); -ENOMEM leaves table as it
 * was. */
int sd_peers_merge(struct sd_peers *table, const struct sd_peers *sweep);

/* Empties t and frees its rows. */
void sd_peers_clear(struct sd_peers *t);

/* One target group: {"targets": [target], "labels": {"__scheme__": "https",
 * "__metrics_path__": "/metrics", "__meta_steward_host": host,
 * "__meta_steward_fingerprint": fingerprint, "__meta_steward_version":
 * version, "__meta_steward_source": source}}.  NULL on allocation failure. */
json_t *sd_group_json(const char *target, const char *host, const char *fingerprint,
                      const char *version, const char *source);

/* Appends a group (source "discovery") for every peer of t to list. */
int sd_peers_append_json(const struct sd_peers *t, json_t *list);
