/* ping.c — a placeholder for the ping command until its implementation
 * lands: the arguments as the contract gives them, and a run that says it
 * is not there yet.  Replaced whole by the real one. */
#include <errno.h>

#include "modules/network/ping.h"
#include "modules/network/probe.h"

static const char *const families[] = {"any", "ipv4", "ipv6", NULL};

const command_arg_t network_ping_args[NETWORK_PING_N_ARGS] = {
        {.name = "host",
         .type = SETTING_STRING,
         .min = 1,
         .max = 254,
         .required = true,
         .valid_string = probe_host_valid,
         .description = "the host to ping: an IP address or a DNS name"},
        {.name = "count",
         .type = SETTING_INTEGER,
         .min = 1,
         .max = 20,
         .description = "echo requests to send (default 4)"},
        {.name = "interval_ms",
         .type = SETTING_INTEGER,
         .min = 200,
         .max = 5000,
         .description = "milliseconds between requests (default 1000)"},
        {.name = "family",
         .type = SETTING_ENUM,
         .choices = families,
         .description = "any (default), ipv4 or ipv6"},
};

int network_ping_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err) {
        (void)ctx;
        (void)args;
        (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "ping is not there yet");
        return -EOPNOTSUPP;
}
