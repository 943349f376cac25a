/* discovery.h — the UDP discovery datagrams (docs/discovery.md), shared by
 * the daemon's responder and `steward discover`.
 *
 * Pure functions: bytes in, structs out, and back.  Nothing here allocates,
 * logs or touches a socket.  Every read is bounded by the datagram's length
 * and every write by the caller's buffer; a field that does not fit is an
 * error, never a truncation.
 *
 * Invariants the responder relies on:
 *   - a request that parses is between DISCOVERY_REQUEST_MIN and
 *     DISCOVERY_DATAGRAM_MAX bytes long;
 *   - an answer is at most DISCOVERY_ANSWER_MAX bytes, which is smaller than
 *     DISCOVERY_REQUEST_MIN, so the answer to any valid request fits in a
 *     buffer the size of that request (discovery_answer_build() still
 *     refuses with -ENOBUFS rather than write past the buffer it is given).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISCOVERY_MAGIC        "STWD"
#define DISCOVERY_MAGIC_LEN    4
#define DISCOVERY_VERSION      1
#define DISCOVERY_TYPE_REQUEST 1
#define DISCOVERY_TYPE_ANSWER  2
#define DISCOVERY_NONCE_LEN    16
#define DISCOVERY_HEADER_LEN   (DISCOVERY_MAGIC_LEN + 1 + 1 + 2 + DISCOVERY_NONCE_LEN) /* 24 */

#define DISCOVERY_REQUEST_MIN  512  /* smaller requests are ignored */
#define DISCOVERY_DATAGRAM_MAX 1500 /* larger datagrams are ignored */
#define DISCOVERY_DEFAULT_PORT 660

/* Answer fields: type-length-value after the port. */
#define DISCOVERY_TLV_HOST        1
#define DISCOVERY_TLV_VERSION     2
#define DISCOVERY_TLV_FINGERPRINT 3

#define DISCOVERY_HOST_MAX        64
#define DISCOVERY_VERSION_MAX     32
#define DISCOVERY_FINGERPRINT_LEN 71 /* "SHA256:" + 64 lowercase hex digits */

/* Header, port, and the three fields at their largest. */
#define DISCOVERY_ANSWER_MAX                                                                       \
        (DISCOVERY_HEADER_LEN + 2 + (2 + DISCOVERY_HOST_MAX) + (2 + DISCOVERY_VERSION_MAX) +       \
         (2 + DISCOVERY_FINGERPRINT_LEN))

_Static_assert(DISCOVERY_ANSWER_MAX <= DISCOVERY_REQUEST_MIN,
               "an answer must always fit in the space of the smallest request");

struct discovery_request {
        uint8_t nonce[DISCOVERY_NONCE_LEN];
        uint16_t flags; /* senders send 0; receivers ignore the bits */
        size_t size;    /* the whole datagram, padding included */
};

struct discovery_answer {
        uint8_t nonce[DISCOVERY_NONCE_LEN];
        uint16_t flags;
        uint16_t port; /* the TCP port of the TLS API, 1..65535 */
        char host[DISCOVERY_HOST_MAX + 1];
        char version[DISCOVERY_VERSION_MAX + 1];
        char fingerprint[DISCOVERY_FINGERPRINT_LEN + 1];
};

/* Writes a request of req->size bytes (DISCOVERY_REQUEST_MIN ..
 * DISCOVERY_DATAGRAM_MAX, else -EINVAL) into buf; -ENOBUFS if cap is
 * smaller. */
int discovery_request_build(const struct discovery_request *req, uint8_t *buf, size_t cap,
                            size_t *ret_len);

/* Parses a datagram as a request.  Errors, all meaning "ignore it":
 *   -EMSGSIZE         shorter than DISCOVERY_REQUEST_MIN or longer than
 *                     DISCOVERY_DATAGRAM_MAX
 *   -EBADMSG          wrong magic, or a padding byte that is not zero
 *   -EPROTONOSUPPORT  a version other than DISCOVERY_VERSION
 *   -EPROTOTYPE       a type other than DISCOVERY_TYPE_REQUEST */
int discovery_request_parse(const uint8_t *p, size_t n, struct discovery_request *ret);

/* Writes the answer into buf (cap bytes).  -EINVAL if a field is not valid
 * (see discovery_host_valid() and friends, port 0), -ENOBUFS if it does not
 * fit in cap. */
int discovery_answer_build(const struct discovery_answer *a, uint8_t *buf, size_t cap,
                           size_t *ret_len);

/* Parses a datagram as an answer: the header, the port, then fields up to
 * the last byte.  The three known fields must each appear exactly once and be
 * valid; fields of unknown types are skipped.  -EMSGSIZE, -EBADMSG,
 * -EPROTONOSUPPORT or -EPROTOTYPE as for requests. */
int discovery_answer_parse(const uint8_t *p, size_t n, struct discovery_answer *ret);

/* Field grammars. */
bool discovery_host_valid(const char *s, size_t n);        /* 1..64 of 0x21..0x7e */
bool discovery_version_valid(const char *s, size_t n);     /* 1..32 of 0x21..0x7e */
bool discovery_fingerprint_valid(const char *s, size_t n); /* SHA256: + 64 lowercase hex */

/* Copies a host name into dst as a valid one: bytes outside 0x21..0x7e
 * become '-', and it is cut to DISCOVERY_HOST_MAX bytes; "localhost" when s
 * is empty. */
void discovery_host_sanitize(const char *s, char dst[DISCOVERY_HOST_MAX + 1]);
