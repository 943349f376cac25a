/* ping.h — the ping command of the network module: ICMP echo from a probe
 * child that holds a raw socket opened before its drop (probe.h). */
#pragma once

#include <jansson.h>

#include "module.h"

int network_ping_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err);
extern const command_arg_t network_ping_args[];
#define NETWORK_PING_N_ARGS 4
