/* netinfo.c — the machine's network (placeholder: the host name only). */
#include <errno.h>
#include <unistd.h>

#include "modules/network/network.h"

int netinfo_route(const struct module_ctx *ctx, char **params, json_t **ret,
                  struct module_error *err) {
        char host[256] = "";
        (void)ctx;
        (void)params;
        (void)err;
        gethostname(host, sizeof host - 1);
        *ret = json_pack("{s:s, s:n, s:[], s:[], s:{}}", "hostname", host, "fqdn", "interfaces",
                         "routes", "dns");
        return *ret ? 0 : -ENOMEM;
}
