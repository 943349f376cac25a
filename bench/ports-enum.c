/* ports-enum.c — benchmark and check driver for the ports module's socket
 * enumeration: what `ss -ltnup` does, through sockets_list() and
 * procmap_build(), outside the daemon.
 *
 *   ports-enum            lists listening TCP and bound UDP sockets, maps
 *                         all their inodes to processes, prints
 *                         "<sockets> sockets, <owned> with an owner"
 *   ports-enum --all      the same with every TCP state and connected UDP
 *   ports-enum --list     one "proto address port" line per listening TCP
 *                         socket and bound UDP socket (no procmap), for
 *                         tests/integration/ports_ss.py to compare with ss
 *
 * Built by hand (bench/ports.sh) against the module's sources and
 * src/common/util.c; it is not part of the meson build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/ports/procmap.h"
#include "sockets.h"
#include "util.h"

int main(int argc, char **argv) {
        bool all = false, list = false;
        struct sock_entry *v = NULL;
        struct procmap *m = NULL;
        _cleanup_free_ uint64_t *inodes = NULL;
        size_t n, owned = 0;
        int r;

        for (int i = 1; i < argc; i++) {
                if (STREQ(argv[i], "--all"))
                        all = true;
                else if (STREQ(argv[i], "--list"))
                        list = true;
                else {
                        fprintf(stderr, "usage: %s [--all] [--list]\n", argv[0]);
                        return 2;
                }
        }

        r = sockets_list(all, &v, &n);
        if (r < 0) {
                fprintf(stderr, "ports-enum: cannot list sockets: %s\n", strerror(-r));
                return 1;
        }
        if (list) {
                for (size_t i = 0; i < n; i++)
                        printf("%s %s %u\n", sock_protocol_to_string(v[i].protocol), v[i].local,
                               (unsigned)v[i].local_port);
                sockets_free(v, n);
                return 0;
        }

        inodes = calloc(n ? n : 1, sizeof *inodes);
        if (!inodes) {
                sockets_free(v, n);
                return 1;
        }
        for (size_t i = 0; i < n; i++)
                inodes[i] = v[i].inode;
        r = procmap_build(inodes, n, &m);
        if (r < 0) {
                fprintf(stderr, "ports-enum: cannot map sockets to processes: %s\n", strerror(-r));
                sockets_free(v, n);
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                const struct proc_owner *o;
                size_t k;
                if (procmap_lookup(m, v[i].inode, &o, &k) == 0)
                        owned++;
        }
        printf("%zu sockets, %zu with an owner\n", n, owned);
        procmap_free(m);
        sockets_free(v, n);
        return 0;
}
