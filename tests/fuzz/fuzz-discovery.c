/* fuzz-discovery.c — libFuzzer target for the UDP discovery datagrams
 * (common/discovery.h).
 *
 * Any input may be rejected, but never with a crash, a leak, an
 * out-of-bounds access or undefined behaviour.  What is accepted must keep
 * the properties the responder and the CLI rely on; a broken property aborts,
 * which the fuzzer reports as a crash:
 *   - a request that parses is rebuilt byte for byte from what was parsed;
 *   - the answer to any request that parses fits in a buffer the size of
 *     that request (the responder's "never larger than the request");
 *   - an answer that parses is rebuilt (without the fields of unknown types
 *     it skipped) no larger than the input, and parses back to the same
 *     fields;
 *   - building an answer into any smaller buffer fails cleanly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/discovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_answer(const struct discovery_answer *a, const struct discovery_answer *b) {
        return memcmp(a->nonce, b->nonce, sizeof a->nonce) == 0 && a->flags == b->flags &&
               a->port == b->port && strcmp(a->host, b->host) == 0 &&
               strcmp(a->version, b->version) == 0 && strcmp(a->fingerprint, b->fingerprint) == 0;
}

static void check_request(const uint8_t *data, size_t size) {
        static const struct discovery_answer largest = {
                .port = 65535,
                .host = "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
                .version = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
                .fingerprint =
                        "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        };
        struct discovery_request req;
        uint8_t out[DISCOVERY_DATAGRAM_MAX];
        size_t len = 0;

        if (discovery_request_parse(data, size, &req) < 0)
                return;
        if (req.size != size || size < DISCOVERY_REQUEST_MIN || size > DISCOVERY_DATAGRAM_MAX)
                abort();
        if (discovery_request_build(&req, out, sizeof out, &len) < 0 || len != size ||
            memcmp(out, data, size) != 0)
                abort();
        if (discovery_answer_build(&largest, out, req.size, &len) < 0 || len > size)
                abort();
}

static void check_answer(const uint8_t *data, size_t size) {
        struct discovery_answer a, back;
        uint8_t out[DISCOVERY_DATAGRAM_MAX];
        size_t len = 0, cap;

        if (discovery_answer_parse(data, size, &a) < 0)
                return;
        if (discovery_answer_build(&a, out, size, &len) < 0 || len > size ||
            len > DISCOVERY_ANSWER_MAX)
                abort();
        if (discovery_answer_parse(out, len, &back) < 0 || !same_answer(&a, &back))
                abort();
        /* Any smaller buffer: a clean refusal, and nothing written past it
         * (ASan watches the heap copy). */
        cap = size > 0 ? data[0] % len : 0;
        {
                uint8_t *small = malloc(cap ? cap : 1);
                size_t l2 = 0;

                if (!small)
                        return;
                if (discovery_answer_build(&a, small, cap, &l2) != -ENOBUFS)
                        abort();
                free(small);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_request(data, size);
        check_answer(data, size);
        return 0;
}
