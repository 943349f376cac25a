/* sdpeers.h — Prometheus HTTP service discovery (GET /api/v1/sd): the table
 * of peers a daemon's own discovery sweeps found, and the target groups it
 * answers with (docs/fleet.md, "Prometheus").
 *
 * Pure code: no socket, no clock, no lock, no log.  The caller (the front's
 * sweeper, src/daemon/sd.c) owns a table, feeds it one sweep's answers and
 * serialises access to it.
 *
 * A sweep's answers are collected in a table of their own (sd_peers_found):
 * the candidates, one row per claim (certificate fingerprint, host name,
 * target), so that a claim copied by someone else does not hide the real
 * one.  One source address gets at most SD_PER_SOURCE_MAX candidates per
 * sweep, so one host cannot fill the sweep's table; when the table is full
 * anyway, an answer that matches a listed peer takes the place of a
 * candidate that matches none (sd_peers_found_known).
 *
 * Nothing a datagram says is authenticated.  The caller (src/daemon/sd.c)
 * therefore verifies candidates before they count: a TLS handshake with the
 * target whose server certificate's SHA-256 is the claimed fingerprint
 * (state SD_VERIFIED, else SD_REFUSED).  sd_peers_needs_check() tells which
 * candidates need it: a new identity; a listed peer's own target once every
 * SD_REVERIFY_SWEEPS sweeps.  A claim of a listed peer's identity from
 * another target is never checked and never replaces it; it can only be
 * listed once the listed one has expired.
 *
 * At the end of the sweep sd_peers_merge() folds the candidates into the
 * lasting table, which holds verified peers only: a listed peer whose target
 * answered is refreshed (version) and its miss count reset, and dropped if
 * its re-verification failed; one whose target did not answer has missed
 * one more sweep and is dropped after SD_PEER_MISSES of them in a row;
 * verified candidates of a new identity are added (the best-ranked target
 * when one server verified on several).  Neither table ever holds more
 * than SD_PEERS_MAX rows: past that, new servers are ignored (the ones
 * already listed stay until they stop answering).
 *
 * So a listed peer's fingerprint means "the server at this target proved it
 * holds this certificate's key" — not that the certificate is trusted; its
 * host name and version are still only what it said.  The address is the
 * datagram's source, the port its field.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "discovery.h"

#define SD_PEERS_MAX   1024
#define SD_PEER_MISSES 3
#define SD_PER_SOURCE_MAX   4  /* candidates per source address per sweep */
#define SD_REVERIFY_SWEEPS 10 /* a listed peer's target is verified again this often */
/* "[" + an IPv6 address (45) + "]:" + a port (5) + NUL. */
#define SD_TARGET_MAX 56

enum sd_check { SD_UNCHECKED, SD_VERIFIED, SD_REFUSED };

struct sd_peer {
        char target[SD_TARGET_MAX]; /* "10.0.0.5:660", "[2001:db8::5]:660" */
        char host[DISCOVERY_HOST_MAX + 1];
        char version[DISCOVERY_VERSION_MAX + 1];
        char fingerprint[DISCOVERY_FINGERPRINT_LEN + 1];
        int rank;        /* sd_address_rank() of target's address */
        unsigned missed; /* sweeps in a row without an answer */
        unsigned age;    /* listed: sweeps since its target was last verified */
        enum sd_check check; /* candidates: the verification's outcome */
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
 * of its source address and its port) of the given rank, as a candidate
 * (SD_UNCHECKED); the same claim again is one candidate.  -EDQUOT when its
 * source address has SD_PER_SOURCE_MAX candidates already, -ENOSPC when the
 * sweep's table is full, -ENOMEM, -EINVAL on a target that is empty or too
 * long. */
int sd_peers_found(struct sd_peers *sweep, const struct discovery_answer *a, const char *target,
                   int rank);

/* As sd_peers_found(), but an answer that matches a peer of known (same
 * fingerprint, host and target) is recorded even when the sweep's table is
 * full or its source has its quota, in place of the last candidate that
 * matches no known peer.  -ENOSPC when there is none. */
int sd_peers_found_known(struct sd_peers *sweep, const struct sd_peers *known,
                         const struct discovery_answer *a, const char *target, int rank);

/* Whether candidate c needs a verification before the merge (see above):
 * 0 not, SD_CHECK_LISTED for a listed peer's target that is due,
 * SD_CHECK_NEW for a new identity. */
#define SD_CHECK_LISTED 1
#define SD_CHECK_NEW    2
int sd_peers_needs_check(const struct sd_peers *known, const struct sd_peer *c);

/* Folds a finished sweep's candidates into table (see above); -ENOMEM
 * leaves table as it was. */
int sd_peers_merge(struct sd_peers *table, const struct sd_peers *sweep);

/* Empties t and frees its rows. */
void sd_peers_clear(struct sd_peers *t);

/* One target group: {"targets": [target], "labels": {"__scheme__": "https",
 * "__metrics_path__": "/metrics", "__meta_steward_host": host,
 * "__meta_steward_fingerprint": fingerprint, "__meta_steward_version":
 * version, "__meta_steward_source": source}}, without the version label
 * when version is NULL.  NULL on allocation failure. */
json_t *sd_group_json(const char *target, const char *host, const char *fingerprint,
                      const char *version, const char *source);

/* Appends a group (source "discovery") for every peer of t to list; without
 * the version labels when anonymous. */
int sd_peers_append_json(const struct sd_peers *t, json_t *list, bool anonymous);
