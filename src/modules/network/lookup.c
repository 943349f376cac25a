/* lookup.c — DNS lookups (placeholder: arguments only, the run comes next). */
#include <errno.h>

#include "modules/network/network.h"
#include "modules/network/probe.h"

static const char *const types[] = {"A",   "AAAA", "MX",  "TXT", "NS", "SOA",
                                    "PTR", "SRV",  "CAA", "CNAME", NULL};

bool lookup_name_valid(const char *s) {
        return probe_host_valid(s);
}

const command_arg_t lookup_args[LOOKUP_N_ARGS] = {
        {.name = "name",
         .type = SETTING_STRING,
         .min = 1,
         .max = 254,
         .required = true,
         .valid_string = lookup_name_valid,
         .description = "the name to look up (for PTR also an IP address)"},
        {.name = "type", .type = SETTING_ENUM, .choices = types, .description = "the record type (default A)"},
        {.name = "server", .type = SETTING_STRING, .min = 2, .max = 45, .description = "the DNS server's IP address"},
};

int lookup_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
               struct module_error *err) {
        (void)ctx;
        (void)args;
        (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "lookup is not there yet");
        return -EOPNOTSUPP;
}
