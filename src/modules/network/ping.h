/* ping.h — the ping command of the network module: ICMP echo from a probe
 * child that holds a raw socket opened before its drop (probe.h).
 *
 * The packet side is pure functions on bytes (the echo request built, a
 * received packet judged), unit-tested (tests/unit/test-ping.c) and fuzzed
 * (tests/fuzz/fuzz-ping.c); ping.c's loop only sends, waits and reports.
 *
 * A raw ICMP socket sees every ICMP packet the host receives, so a packet is
 * ours only when everything we sent comes back: an echo reply with our
 * identifier and a sequence we sent, carrying our random cookie, from the
 * address we pinged (the loop checks the source); an error (unreachable,
 * time exceeded, too big) quoting an echo request of ours, with our
 * identifier and a sequence we sent, to the address we pinged.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "modules/network/probe.h"

int network_ping_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err);
extern const command_arg_t network_ping_args[];
#define NETWORK_PING_N_ARGS 4
/* The two probe children of a ping: resolution, then the echo requests. */
extern const struct probe_diag ping_resolve_diag, ping_diag;

#define PING_COOKIE_LEN  8
#define PING_PAYLOAD_LEN 56 /* as ping(8): 64 bytes of ICMP in all */
#define PING_PACKET_LEN  (8 + PING_PAYLOAD_LEN)

/* The Internet checksum (RFC 1071) of n bytes. */
uint16_t ping_checksum(const void *p, size_t n);

/* An ICMP (v4: family AF_INET) or ICMPv6 (AF_INET6) echo request into buf
 * (at least PING_PACKET_LEN bytes): identifier id, sequence seq, the
 * cookie then a fixed pattern as payload.  The v4 checksum is filled in;
 * the kernel fills ICMPv6's (it covers the pseudo-header).  Returns the
 * length, or -EINVAL. */
int ping_echo_build(uint8_t *buf, size_t len, int family, uint16_t id, uint16_t seq,
                    const uint8_t cookie[PING_COOKIE_LEN]);

enum ping_kind {
        PING_REPLY = 1, /* an echo reply of ours */
        PING_ERROR,     /* an ICMP error about an echo request of ours */
};

struct ping_packet {
        enum ping_kind kind;
        uint16_t seq;
        int ttl;            /* v4: the reply's IP TTL; -1 when the packet has no IP header (v6) */
        uint8_t type, code; /* PING_ERROR: the error's */
        /* PING_ERROR: the destination of the request it quotes (4 or 16
         * bytes), which the caller compares with the address it pinged. */
        uint8_t quoted_dst[16];
        size_t quoted_dst_len;
};

/* Judges one packet as a raw socket of family hands it over (v4: with its
 * IP header; v6: the ICMPv6 message alone).  1 with *ret filled when it is
 * ours (see above; the source is the caller's to check), 0 when it is not
 * (another program's, another type), -EBADMSG when it is malformed. */
int ping_packet_parse(int family, const uint8_t *pkt, size_t n, uint16_t id,
                      const uint8_t cookie[PING_COOKIE_LEN], struct ping_packet *ret);

/* What an ICMP error says, in words ("destination host unreachable"). */
const char *ping_error_text(int family, uint8_t type, uint8_t code);
