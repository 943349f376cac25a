/* probe.h — the probe child: where every network diagnostic runs.
 *
 * A diagnostic (ping, traceroute, lookup, port check) reads what a remote
 * peer sends, so it never runs with the helper's privileges.  probe_run()
 * forks a child from the caller (the helper or its worker), which opens what
 * needs root first (raw ICMP sockets, for ping only) and then becomes a
 * fresh image of stewardd (nothing of the helper's memory: sessions,
 * requests) with the request in a pipe; that image drops everything:
 * no supplementary groups, the uid and gid of an unprivileged account
 * (`nobody`), no capabilities, no_new_privs, not dumpable, small resource
 * limits.  The drop is verified (setuid(0) must fail) before fn runs.
 *
 * The child speaks to its parent through one pipe, in lines of JSON (each
 * one object, at most PROBE_LINE_MAX bytes for progress and
 * PROBE_RESULT_MAX for the final line): {"progress": {…}} per progress
 * event, which the parent hands to the caller's ctx->progress, and one
 * final {"result": {…}} or {"error": {…}}.  The parent enforces limit_usec
 * (SIGKILL through a pidfd) and the bounds; anything else the child writes
 * ends the run as an error.
 *
 * One diagnostic at a time per user: the parent holds a lock file in the
 * state directory (flock) for the whole run; a second run of the same user
 * meanwhile is refused with 429 "busy".  And at most 120 a minute per user
 * (a token bucket of 120, one back every 0.5 s, kept in the lock file):
 * past it 429 "rate_limited", with the seconds to wait (Retry-After), so
 * that port checks are no scanner.
 *
 * Ownership: args stay the caller's; *ret is the caller's on success.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "module.h"

enum {
        PROBE_RAW_ICMP4 = 1u << 0,
        PROBE_RAW_ICMP6 = 1u << 1,
        /* the second child of one diagnostic (ping's, after the resolving
         * one): it takes no token of the user's rate */
        PROBE_CONTINUES = 1u << 2,
};

#define PROBE_LINE_MAX   4096u        /* one progress line */
#define PROBE_RESULT_MAX (256u << 10) /* the final line */
#define PROBE_LIMIT_MAX  (120u * 1000000u)

struct probe {
        const struct module_ctx *ctx; /* ctx->progress works in the child */
        int icmp4, icmp6;             /* raw sockets asked for, else -1 */
};

typedef int (*probe_fn)(struct probe *p, json_t *args, json_t **ret, struct module_error *err);

/* A diagnostic as the probe child finds it: by name, in the table its
 * fresh image is given (probe_child_main). */
struct probe_diag {
        const char *name;
        probe_fn fn;
};

/* Runs diag in a probe child; *ret is its result.  limit_usec: the whole
 * run (at most PROBE_LIMIT_MAX).  The child is a fresh image of this
 * program (module_t.child_main, "--module-child network"), whose main
 * calls probe_child_main with a table that holds diag. */
int probe_run(const struct module_ctx *ctx, unsigned flags, const struct probe_diag *diag,
              json_t *args, uint64_t limit_usec, json_t **ret, struct module_error *err);

/* The fresh image's side: reads the request it was started with, drops,
 * runs the diagnostic of that name from diags[], reports, exits. */
int probe_child_main(const struct probe_diag *const *diags, size_t n_diags, int argc, char **argv);

/* In the child: one progress event (borrowed), sent to the parent as a
 * line.  0, or -EPIPE once the parent or the client is gone (stop then);
 * -E2BIG for an event over PROBE_LINE_MAX (not sent).  The same as
 * p->ctx->progress(p->ctx, event) where the kit has it. */
int probe_progress(struct probe *p, json_t *event);

/* The host grammar: an IPv4 or IPv6 literal, or a DNS name (labels of
 * [A-Za-z0-9-], 1..63 bytes, not starting or ending with '-', at most 253
 * bytes in all, an optional final '.'). */
bool probe_host_valid(const char *s);
/* The argument rows the diagnostics share: the host (probe_host_valid's
 * grammar), and the address family ("any", "ipv4", "ipv6"). */
extern const char *const probe_families[];
#define PROBE_HOST_ARG(what)                                                                       \
        {                                                                                          \
                .name = "host", .type = SETTING_STRING, .min = 1, .max = 254, .required = true,    \
                .valid_string = probe_host_valid, .description = (what)                            \
        }
#define PROBE_FAMILY_ARG                                                                           \
        {                                                                                          \
                .name = "family", .type = SETTING_ENUM, .choices = probe_families,                 \
                .description = "any (default), ipv4 or ipv6"                                       \
        }

/* Resolution, in the child: host (valid by the grammar) to one address of
 * family (AF_UNSPEC: the first the resolver gives).  An IP literal is taken
 * as it is.  422 "unresolved" (field "host") when the name does not
 * resolve. */
int probe_resolve(const char *host, int family, struct sockaddr_storage *ret, socklen_t *ret_len,
                  struct module_error *err);

/* The text of an address (no port); buf of at least INET6_ADDRSTRLEN. */
const char *probe_address_text(const struct sockaddr *sa, char *buf, size_t len);

/* family of the "family" argument ("any|ipv4|ipv6", absent: any). */
int probe_family_arg(json_t *args);

/* Milliseconds between two CLOCK_MONOTONIC microsecond stamps, to 0.001. */
double probe_ms(uint64_t from_usec, uint64_t to_usec);
