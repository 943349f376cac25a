/* hosts.h — the hosts a fanned-out `steward -H …` runs on: the -H list, the
 * groups of ~/.config/steward/hosts and the list `steward discover` saved.
 *
 * Pure functions on texts (no files, no printing): store.c reads the files,
 * fanout.c runs the hosts.  Unit-tested (tests/unit/test-hosts.c) and fuzzed
 * (tests/fuzz/fuzz-hosts.c).
 *
 * The hosts file, one entry a line:
 *     # a comment                          (a line whose first non-blank is #)
 *     GROUP: HOST[:PORT] [v6]:PORT @OTHER  (a group: hosts and other groups)
 * GROUP is 1..63 of [A-Za-z0-9_.-], starting with a letter or digit, defined
 * once; "all" and "discovered" are built in and cannot be defined.  Items are
 * separated by blanks; a reference names a group defined anywhere in the file,
 * and references have no cycles.  Any other line is an error naming the file
 * and line.  @all is every host the file names; @discovered is every
 * "ADDRESS:PORT [SHA256:…]" line of the discovered file.
 *
 * A host is named by its key, "host:port" or "[v6]:port" in lowercase, the
 * spelling of known_hosts and sessions; duplicates (by key) are dropped,
 * first occurrence kept.  Bounds: HOSTS_MAX hosts, HOSTS_GROUPS_MAX groups,
 * HOSTS_FILE_MAX bytes, HOSTS_LINE_MAX bytes a line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HOSTS_MAX         10000
#define HOSTS_GROUPS_MAX  1024
#define HOSTS_FILE_MAX    ((size_t)1024 * 1024)
#define HOSTS_LINE_MAX    65536
#define HOSTS_NAME_MAX    63
#define HOST_KEY_MAX      272 /* "[" + 253 + "]:" + 5 + NUL, rounded up */
#define HOSTS_DEFAULT_PORT 660

struct host_entry {
        char key[HOST_KEY_MAX];  /* "host:port", "[v6]:port" */
        char name[HOST_KEY_MAX]; /* for output: the key without ":660" */
        bool discovered;         /* only @discovered named it (not authenticated) */
};

struct host_list {
        struct host_entry *hosts;
        size_t n, cap;
};

/* The texts -H may need (NULL when the file does not exist). */
struct hosts_sources {
        const char *hosts_text;
        size_t hosts_len;
        const char *hosts_file; /* its name in messages */
        const char *discovered_text;
        size_t discovered_len;
        const char *discovered_file;
};

/* One host "HOST[:PORT]", "[v6][:PORT]" or a bare IPv6 address, n bytes:
 * its key and name.  -EINVAL when it is not one. */
int host_key(const char *s, size_t n, struct host_entry *ret);

/* Expands a -H argument (comma-separated hosts and @groups) into ret
 * (appended, duplicates dropped).  On -EINVAL err says why ("FILE:LINE: …"
 * for a bad line of a file). */
int hosts_resolve(const char *arg, const struct hosts_sources *src, struct host_list *ret,
                  char *err, size_t err_cap);

/* Checks a whole hosts file (every line, every reference): 0 or -EINVAL with
 * err. */
int hosts_file_check(const char *text, size_t len, const char *file, char *err, size_t err_cap);

void host_list_free(struct host_list *l);
