/* proto.h — the framing between the network front and the privileged helper.
 *
 * A frame is a 4-byte big-endian payload length followed by the payload, a
 * JSON object in UTF-8.  The length is capped at PROTO_MAX_FRAME; a frame
 * over the cap, a short read, or a payload that is not a JSON object is a
 * framing error, after which the connection is closed: neither side tries to
 * resynchronise.  A frame may carry one file descriptor (SCM_RIGHTS), sent
 * with its first byte.
 *
 * Request:  {"op": "NAME", "id": N, "session": "stw_…"?, "args": {…}?}
 * Answer:   {"id": N, "ok": true, "result": {…}}
 *           {"id": N, "ok": false, "error": {"status", "code", "message", "field"?}}
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#define PROTO_MAX_FRAME (16u << 20)

/* Sends one frame; fd >= 0 is passed along.  -EPIPE etc. on failure. */
int proto_send(int sock, json_t *msg, int fd);

/* Receives one frame.  *ret_fd gets a passed descriptor or -1 (ret_fd may be
 * NULL: a descriptor that arrives anyway is closed).  Returns 0, -ECONNRESET
 * at a clean end of stream, -EBADMSG on a framing error, -E2BIG past the cap,
 * other -errno on I/O errors. */
int proto_recv(int sock, json_t **ret, int *ret_fd);
