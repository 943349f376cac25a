/* network.c — the `network` module: "can this machine reach that one".
 *
 * What the machine's network is (interfaces, addresses, routes, resolver)
 * is a read for monitors, answered in the front (netinfo.c).  The
 * diagnostics — ping, traceroute, lookup, port check — are commands that
 * change nothing but speak to other machines on the operator's behalf, so
 * they are declared changes_state: they run in the helper, which checks the
 * role and audits each run, and the helper runs each in a probe child
 * (probe.h) that holds no privilege while it reads what a peer sends.
 *
 * The module keeps no state of its own: the per-user lock of the probes is
 * a file in the state directory.
 */
#include <errno.h>

#include "module.h"
#include "modules/network/network.h"
#include "modules/network/ping.h"
#include "roles.h"
#include "util.h"

static int network_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        (void)ctx;
        return netinfo_status(ret, err);
}

static const command_def_t network_commands[] = {
        {.name = "ping",
         .summary = "send ICMP echo requests to a host and report each reply",
         .changes_state = true,
         .args = network_ping_args,
         .n_args = NETWORK_PING_N_ARGS,
         .run = network_ping_run,
         .min_role = ROLE_OPERATOR,
         .streams = true},
        {.name = "traceroute",
         .summary = "the routers on the way to a host, hop by hop (UDP probes)",
         .changes_state = true,
         .args = traceroute_args,
         .n_args = TRACEROUTE_N_ARGS,
         .run = traceroute_run,
         .min_role = ROLE_OPERATOR,
         .streams = true},
        {.name = "lookup",
         .summary = "ask DNS servers about a name (A, AAAA, MX, TXT, NS, SOA, PTR, SRV, CAA, "
                    "CNAME)",
         .changes_state = true,
         .args = lookup_args,
         .n_args = LOOKUP_N_ARGS,
         .run = lookup_run,
         .min_role = ROLE_OPERATOR},
        {.name = "portcheck",
         .summary = "whether a TCP port of a host is open, closed or filtered",
         .changes_state = true,
         .args = portcheck_args,
         .n_args = PORTCHECK_N_ARGS,
         .run = portcheck_run,
         .min_role = ROLE_OPERATOR},
};

#define INFO_SCHEMA                                                                                \
        "{\"type\": \"object\", \"required\": [\"hostname\", \"interfaces\", \"routes\", "         \
        "\"dns\"], \"properties\": {\"hostname\": {\"type\": \"string\"}, \"fqdn\": {\"type\": "   \
        "[\"string\", \"null\"]}, \"interfaces\": {\"type\": \"array\", \"items\": {\"type\": "    \
        "\"object\"}}, \"routes\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}}, "     \
        "\"dns\": {\"type\": \"object\"}}}"

/* Named routes[] and written {method, pattern, role, handler}: the route
 * walk of tests/integration/test_security.py reads module tables so. */
static const module_route_t routes[] = {
        {"GET", "api/v1/modules/network/info", ROLE_MONITOR, netinfo_route,
         .summary = "host name, interfaces with addresses and counters, routes, DNS resolvers",
         .response = INFO_SCHEMA, .slow = true},
};

/* Every diagnostic a probe child may be asked for, by name. */
static const struct probe_diag *const diags[] = {&ping_resolve_diag, &ping_diag, &lookup_diag,
                                                 &portcheck_diag, &traceroute_diag};

static int network_child_main(int argc, char **argv) {
        return probe_child_main(diags, ELEMENTSOF(diags), argc, argv);
}

const module_t module_network = {
        .name = "network",
        .summary = "network: interfaces, routes and resolvers; ping, traceroute, DNS lookup and "
                   "port check from this machine",
        .status = network_status,
        .commands = network_commands,
        .n_commands = ELEMENTSOF(network_commands),
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .console_title = "Network",
        .child_main = network_child_main,
};
