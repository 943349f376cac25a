/* fuzz-sockdiag.c — libFuzzer target for sockdiag_parse() (sockets.h).
 *
 * The input is one received datagram of a sock_diag dump; the reply does not
 * name its protocol, so every input is parsed as TCP and as UDP.  Any input
 * may be rejected, but never with a crash, a leak, a read past the end or
 * undefined behaviour.  Beyond that, properties the callers rely on abort
 * when broken: on failure the vector is as it was; on success every entry
 * has NUL-terminated texts, a known family and scope, and a state name the
 * kernel's number maps to or NULL; a vector that cannot take one more entry
 * either fails with -E2BIG or gets nothing.  The corpus holds datagrams
 * captured from a real machine (listeners, an established pair, connected
 * UDP, a dump split into two datagrams, an unknown protocol's NLMSG_DONE
 * with -ENOENT).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockets.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, int protocol) {
        struct sock_vec vec = {}, small = {.max = 1};
        struct sock_entry first;
        int r;

        r = sockdiag_parse(data, size, protocol, &vec);
        if (r < 0 && vec.n != 0)
                abort();
        if (r > 1)
                abort();
        for (size_t i = 0; i < vec.n; i++) {
                const struct sock_entry *e = &vec.v[i];
                if (memchr(e->local, '\0', sizeof e->local) == NULL ||
                    memchr(e->peer, '\0', sizeof e->peer) == NULL ||
                    memchr(e->ifname, '\0', sizeof e->ifname) == NULL)
                        abort();
                if (!sock_family_to_string(e->family) || !sock_scope_to_string(e->scope))
                        abort();
                if (e->protocol != protocol || e->ifname[0] != '\0')
                        abort();
                if (!e->connected && (e->peer[0] != '\0' || e->peer_port != 0))
                        abort();
                (void)sock_state_to_string(e->state);
        }

        /* Appending to a full vector: all or nothing. */
        if (r >= 0 && vec.n > 0) {
                memcpy(&first, &vec.v[0], sizeof first);
                small.v = malloc(sizeof *small.v);
                if (!small.v)
                        abort();
                memcpy(&small.v[0], &first, sizeof first);
                small.n = small.cap = 1;
                r = sockdiag_parse(data, size, protocol, &small);
                if (small.n != 1 || memcmp(&small.v[0], &first, sizeof first) != 0)
                        abort();
                if (r != -E2BIG)
                        abort();
        }

        sock_vec_done(&small);
        sock_vec_done(&vec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Real datagrams are at most a few tens of KiB. */
        if (size > 1024 * 1024)
                return 0;

        check(data, size, IPPROTO_TCP);
        check(data, size, IPPROTO_UDP);
        return 0;
}
