/* firstrun.h — what stewardd tells the person who started it: the next
 * steps once it listens (the console's address and the certificate's
 * fingerprint, how to log in from the CLI and where the CLI is, who may log
 * in, how to use the bootstrap token), and, when a port is taken, which
 * process holds it.  Printed on stderr by the root process; nothing here
 * changes anything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct firstrun_facts {
        const char *listen;      /* the first TCP listener, "0.0.0.0:660" or "[::1]:6600" */
        const char *fingerprint; /* "SHA256:…" */
        const char *socket_path;
        const char *token_path;           /* the bootstrap token file */
        bool token_exists;                /* it is there (unused yet) */
        const char *cli;                  /* where the steward CLI is, or NULL when not found */
        bool cli_on_path;                 /* `steward` on $PATH is that binary */
        const char *host;                 /* this host's name */
        const struct steward_config *cfg; /* the role groups */
};

/* The next steps, as lines for stderr (malloc'ed); NULL when out of memory. */
char *firstrun_guide(const struct firstrun_facts *f);

/* Where the steward CLI beside this stewardd (or on $PATH) is: *ret_path
 * malloc'ed, or NULL when there is none; ret_on_path when `steward` found
 * through $PATH is that file. */
int firstrun_find_cli(char **ret_path, bool *ret_on_path);

/* The process listening on TCP port (IPv4 or IPv6), found through
 * /proc/net/tcp{,6} and the descriptors under /proc: its pid and command
 * name (comm, cap bytes).  -ENOENT when none is found (or /proc is not
 * readable). */
int firstrun_port_owner(uint16_t port, pid_t *ret_pid, char *comm, size_t cap);
