/* fuzz-hosts.c — the hosts file and -H parser (src/cli/hosts.c): any bytes
 * as a hosts file, checked whole and expanded through @all and one group,
 * and as a discovered list; must never crash, leak or exceed its bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../src/cli/hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data;
        struct hosts_sources src = {.hosts_text = text,
                                    .hosts_len = size,
                                    .hosts_file = "hosts",
                                    .discovered_text = text,
                                    .discovered_len = size,
                                    .discovered_file = "discovered"};
        static const char *const args[] = {"@all", "@a", "@discovered", "x,@a,[::1]:1"};
        char err[256];

        (void)hosts_file_check(text, size, "hosts", err, sizeof err);
        for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
                struct host_list l = {};
                if (hosts_resolve(args[i], &src, &l, err, sizeof err) >= 0 && l.n > HOSTS_MAX)
                        __builtin_trap();
                host_list_free(&l);
        }
        return 0;
}
