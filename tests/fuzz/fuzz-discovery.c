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
 *   - building an answer into any smaller buffer fails cleanly;
 *   - an answer that parses always becomes a peer of GET /api/v1/sd's table
 *     (common/sdpeers.c) and a target group whose labels are its fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/discovery.h"
#include "common/sdpeers.h"

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

/* What a sweep does with an answer: a row, then a target group. */
static void check_peer(const uint8_t *data, size_t size) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer a;
        json_t *list;
        const char *host;

        if (discovery_answer_parse(data, size, &a) < 0)
                return;
        if (sd_peers_found(&sweep, &a, "192.0.2.1:660", 0) < 0 || sweep.n != 1)
                abort();
        sweep.p[0].check = SD_VERIFIED;
        if (sd_peers_merge(&table, &sweep) < 0 || table.n != 1)
                abort();
        list = json_array();
        if (!list || sd_peers_append_json(&table, list, false) < 0 || json_array_size(list) != 1)
                abort();
        host = json_string_value(json_object_get(json_object_get(json_array_get(list, 0), "labels"),
                                                 "__meta_steward_host"));
        if (!host || strcmp(host, a.host) != 0)
                abort();
        json_decref(list);
        sd_peers_clear(&sweep);
        sd_peers_clear(&table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_request(data, size);
        check_answer(data, size);
        check_peer(data, size);
        return 0;
}
