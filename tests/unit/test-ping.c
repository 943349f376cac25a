/* test-ping.c — the ping command's packets (src/modules/network/ping.c):
 * the checksum against RFC 1071's own example, the echo request as built
 * (v4 with a checksum that verifies, v6 left to the kernel), and the
 * judgement of what a raw socket hands over: our echo reply, another
 * program's (other id, other cookie), our own request looped back, errors
 * that quote our request (v4 and v6) or someone else's, and truncated or
 * malformed packets. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "modules/network/ping.h"

static const uint8_t cookie[PING_COOKIE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t other_cookie[PING_COOKIE_LEN] = {1, 2, 3, 4, 5, 6, 7, 9};

#define ID 0x1234

static void test_checksum(void **state) {
        /* RFC 1071, 3: the words 0001 f203 f4f5 f6f7 sum to ddf2. */
        static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
        uint8_t odd[] = {0x12, 0x34, 0x56};
        assert_int_equal(ping_checksum(b, sizeof b), (uint16_t)~0xddf2);
        /* An odd byte counts as the high half of a last word. */
        assert_int_equal(ping_checksum(odd, sizeof odd), (uint16_t)~(0x1234 + 0x5600));
        assert_int_equal(ping_checksum(NULL, 0), 0xffff);
}

static void test_build(void **state) {
        uint8_t p[PING_PACKET_LEN], small[PING_PACKET_LEN - 1];

        assert_int_equal(ping_echo_build(p, sizeof p, AF_INET, ID, 7, cookie), PING_PACKET_LEN);
        assert_int_equal(p[0], 8);
        assert_int_equal(p[1], 0);
        assert_int_equal(p[4] << 8 | p[5], ID);
        assert_int_equal(p[6] << 8 | p[7], 7);
        assert_memory_equal(p + 8, cookie, PING_COOKIE_LEN);
        assert_int_equal(ping_checksum(p, sizeof p), 0); /* it verifies */

        assert_int_equal(ping_echo_build(p, sizeof p, AF_INET6, ID, 9, cookie), PING_PACKET_LEN);
        assert_int_equal(p[0], 128);
        assert_int_equal(p[2] | p[3], 0); /* the kernel's to fill */
        assert_int_equal(p[6] << 8 | p[7], 9);

        assert_int_equal(ping_echo_build(small, sizeof small, AF_INET, ID, 1, cookie), -EINVAL);
        assert_int_equal(ping_echo_build(p, sizeof p, AF_UNIX, ID, 1, cookie), -EINVAL);
}

/* An IPv4 packet around an ICMP message (checksum filled in). */
static size_t ip4_wrap(uint8_t *out, const uint8_t *icmp, size_t n, uint8_t ttl,
                       const char *src, const char *dst) {
        memset(out, 0, 20);
        out[0] = 0x45;
        out[8] = ttl;
        out[9] = IPPROTO_ICMP;
        inet_pton(AF_INET, src, out + 12);
        inet_pton(AF_INET, dst, out + 16);
        memcpy(out + 20, icmp, n);
        out[22] = out[23] = 0;
        uint16_t c = ping_checksum(out + 20, n);
        out[22] = (uint8_t)(c >> 8);
        out[23] = (uint8_t)c;
        return 20 + n;
}

/* Our request turned into a reply, as the peer sends it back. */
static size_t reply4(uint8_t *out, uint16_t id, uint16_t seq, const uint8_t *ck, uint8_t ttl) {
        uint8_t icmp[PING_PACKET_LEN];
        ping_echo_build(icmp, sizeof icmp, AF_INET, id, seq, ck);
        icmp[0] = 0; /* echo reply */
        return ip4_wrap(out, icmp, sizeof icmp, ttl, "192.0.2.1", "192.0.2.9");
}

static void test_parse_reply4(void **state) {
        uint8_t pkt[128];
        struct ping_packet pk = {0};
        size_t n;

        n = reply4(pkt, ID, 3, cookie, 61);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 1);
        assert_int_equal(pk.kind, PING_REPLY);
        assert_int_equal(pk.seq, 3);
        assert_int_equal(pk.ttl, 61);

        /* Another program's: another id, or our id with another cookie. */
        n = reply4(pkt, ID + 1, 3, cookie, 61);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 0);
        n = reply4(pkt, ID, 3, other_cookie, 61);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 0);

        /* Our own request, looped back on lo: not a reply. */
        uint8_t req[PING_PACKET_LEN];
        ping_echo_build(req, sizeof req, AF_INET, ID, 3, cookie);
        n = ip4_wrap(pkt, req, sizeof req, 64, "127.0.0.1", "127.0.0.1");
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 0);

        /* A bad checksum, a cut header, a cut message, not v4. */
        n = reply4(pkt, ID, 3, cookie, 61);
        pkt[40] ^= 0xff;
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), -EBADMSG);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, 19, ID, cookie, &pk), -EBADMSG);
        n = reply4(pkt, ID, 3, cookie, 61);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, 27, ID, cookie, &pk), -EBADMSG);
        pkt[0] = 0x65;
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), -EBADMSG);
        pkt[0] = 0x44; /* IHL 16 bytes */
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), -EBADMSG);
        assert_int_equal(ping_packet_parse(AF_INET, NULL, 0, ID, cookie, &pk), -EBADMSG);
}

/* A router's error quoting the request we sent to dst (or its first
 * quoted bytes only: RFC 792's 8 bytes of the datagram). */
static size_t error4(uint8_t *out, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
                     const char *dst, size_t quoted_icmp) {
        uint8_t icmp[8 + 20 + PING_PACKET_LEN] = {0}, req[PING_PACKET_LEN];
        icmp[0] = type;
        icmp[1] = code;
        ping_echo_build(req, sizeof req, AF_INET, id, seq, cookie);
        icmp[8] = 0x45;
        icmp[8 + 9] = IPPROTO_ICMP;
        inet_pton(AF_INET, "192.0.2.9", icmp + 8 + 12);
        inet_pton(AF_INET, dst, icmp + 8 + 16);
        memcpy(icmp + 28, req, quoted_icmp);
        return ip4_wrap(out, icmp, 28 + quoted_icmp, 250, "198.51.100.1", "192.0.2.9");
}

static void test_parse_error4(void **state) {
        uint8_t pkt[256], dst[4];
        struct ping_packet pk = {0};
        size_t n;

        inet_pton(AF_INET, "203.0.113.5", dst);
        n = error4(pkt, 3, 1, ID, 5, "203.0.113.5", 8);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 1);
        assert_int_equal(pk.kind, PING_ERROR);
        assert_int_equal(pk.seq, 5);
        assert_int_equal(pk.type, 3);
        assert_int_equal(pk.code, 1);
        assert_int_equal(pk.quoted_dst_len, 4);
        assert_memory_equal(pk.quoted_dst, dst, 4);
        assert_string_equal(ping_error_text(AF_INET, pk.type, pk.code),
                            "destination host unreachable");

        n = error4(pkt, 11, 0, ID, 6, "203.0.113.5", PING_PACKET_LEN);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 1);
        assert_string_equal(ping_error_text(AF_INET, pk.type, pk.code), "time to live exceeded");

        /* About another program's echo. */
        n = error4(pkt, 3, 1, ID ^ 0xff, 5, "203.0.113.5", 8);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 0);
        /* A redirect (type 5) is not an answer. */
        n = error4(pkt, 5, 1, ID, 5, "203.0.113.5", 8);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), 0);
        /* Quoting less than the 8 bytes of ICMP. */
        n = error4(pkt, 3, 1, ID, 5, "203.0.113.5", 4);
        assert_int_equal(ping_packet_parse(AF_INET, pkt, n, ID, cookie, &pk), -EBADMSG);
}

static void test_parse_v6(void **state) {
        uint8_t pkt[256], req[PING_PACKET_LEN], dst[16];
        struct ping_packet pk = {0};

        /* A reply as the raw socket hands it: the ICMPv6 message alone. */
        ping_echo_build(pkt, sizeof pkt, AF_INET6, ID, 2, cookie);
        pkt[0] = 129;
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, PING_PACKET_LEN, ID, cookie, &pk), 1);
        assert_int_equal(pk.kind, PING_REPLY);
        assert_int_equal(pk.seq, 2);
        assert_int_equal(pk.ttl, -1);
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, PING_PACKET_LEN, ID, other_cookie, &pk),
                         0);
        pkt[0] = 128; /* our own request */
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, PING_PACKET_LEN, ID, cookie, &pk), 0);
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, 7, ID, cookie, &pk), -EBADMSG);

        /* Address unreachable, quoting our request to 2001:db8::5. */
        memset(pkt, 0, sizeof pkt);
        pkt[0] = 1;
        pkt[1] = 3;
        pkt[8] = 0x60;
        pkt[8 + 6] = IPPROTO_ICMPV6;
        inet_pton(AF_INET6, "2001:db8::5", dst);
        memcpy(pkt + 8 + 24, dst, 16);
        ping_echo_build(req, sizeof req, AF_INET6, ID, 4, cookie);
        memcpy(pkt + 48, req, 8);
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, 56, ID, cookie, &pk), 1);
        assert_int_equal(pk.kind, PING_ERROR);
        assert_int_equal(pk.seq, 4);
        assert_int_equal(pk.quoted_dst_len, 16);
        assert_memory_equal(pk.quoted_dst, dst, 16);
        assert_string_equal(ping_error_text(AF_INET6, pk.type, pk.code),
                            "destination address unreachable");
        /* Cut inside the quoted ICMPv6 header; a quoted UDP datagram. */
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, 55, ID, cookie, &pk), -EBADMSG);
        pkt[8 + 6] = IPPROTO_UDP;
        assert_int_equal(ping_packet_parse(AF_INET6, pkt, 56, ID, cookie, &pk), 0);
        assert_int_equal(ping_packet_parse(AF_UNIX, pkt, 56, ID, cookie, &pk), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_checksum),     cmocka_unit_test(test_build),
                cmocka_unit_test(test_parse_reply4), cmocka_unit_test(test_parse_error4),
                cmocka_unit_test(test_parse_v6),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
