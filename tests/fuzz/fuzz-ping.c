/* fuzz-ping.c — libFuzzer target for the ping command's judgement of what a
 * raw ICMP socket hands over (ping_packet_parse, src/modules/network/ping.c).
 *
 * The first byte picks the family (even: v4 with its IP header, odd: the
 * ICMPv6 message alone); the rest is the packet.  Any packet may be
 * refused, never with a crash or undefined behaviour; one taken as ours
 * must be what the loop relies on: a reply carries our cookie, an error
 * quotes a destination of the family's length, and the result says which. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "modules/network/ping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t cookie[PING_COOKIE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ping_packet pk;
        int family, r;

        if (size < 1)
                return 0;
        family = data[0] & 1 ? AF_INET6 : AF_INET;
        r = ping_packet_parse(family, data + 1, size - 1, 0x1234, cookie, &pk);
        if (r != 1 && r != 0 && r != -EBADMSG)
                abort();
        if (r != 1)
                return 0;
        if (pk.kind == PING_ERROR) {
                if (pk.quoted_dst_len != (family == AF_INET ? 4u : 16u))
                        abort();
                if (!ping_error_text(family, pk.type, pk.code))
                        abort();
        } else if (pk.kind != PING_REPLY || (family == AF_INET6 && pk.ttl != -1) ||
                   (family == AF_INET && (pk.ttl < 0 || pk.ttl > 255)))
                abort();
        return 0;
}
