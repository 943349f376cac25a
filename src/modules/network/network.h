/* network.h — the network module's parts, between its own files only.
 *
 * netinfo.c reads interfaces, routes and resolver configuration (in the
 * front: rtnetlink dumps and /sys need no privilege); lookup.c,
 * portcheck.c and traceroute.c are commands that run their work in a probe
 * child (probe.h).  Each command's arguments are declared beside its code
 * so that bounds and grammar sit next to what relies on them.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "modules/network/probe.h"

/* GET api/v1/modules/network/info */
int netinfo_route(const struct module_ctx *ctx, char **params, json_t **ret,
                  struct module_error *err);

/* The module's status ({"state": "running|degraded", "reason"?,
 * "interfaces_up", "default_routes", "dns_servers"}). */
int netinfo_status(json_t **ret, struct module_error *err);

/* resolv.conf's text → {"source", "servers", "search", "options", "resolved"}
 * (a pure function on a view; unit-tested and fuzzed). */
#define RESOLV_CONF_MAX (64u << 10)
json_t *resolv_conf_parse(const char *text, size_t n, const char *source);

int lookup_run(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err);
extern const command_arg_t lookup_args[];
#define LOOKUP_N_ARGS 3
/* The lookup name grammar: a DNS name whose labels may also hold '_'
 * (_sip._tcp.example.org), or "."; for PTR also an IP literal. */
bool lookup_name_valid(const char *s);
int portcheck_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err);
extern const command_arg_t portcheck_args[];
#define PORTCHECK_N_ARGS 3

int traceroute_run(const struct module_ctx *ctx, json_t *args, json_t **ret,
                   struct module_error *err);
extern const command_arg_t traceroute_args[];
#define TRACEROUTE_N_ARGS 3

/* What each command runs in its probe child (probe.h), by name. */
extern const struct probe_diag lookup_diag, portcheck_diag, traceroute_diag;
