/* procmap.h — which processes hold which sockets: socket inodes (from
 * sockets.h) to their owners, found in one pass over /proc/PID/fd.
 *
 * procmap_build() walks every process once and readlink()s each of its file
 * descriptors; only links "socket:[INODE]" whose inode was asked for count,
 * the others are skipped after a bounded text check and a binary search.  For
 * each process that holds at least one wanted socket it reads, once, comm,
 * exe, the real uid (with its user name) and the cgroup (systemd unit and
 * container hint).
 *
 * Privilege: as root every process is seen.  Otherwise /proc/PID/fd of other
 * users' processes cannot be read and those sockets simply have no owner.
 * Processes that exit during the walk are normal and skipped; a process that
 * exits after its socket was seen keeps the fields read so far.
 *
 * Ownership: the map owns everything; the owners and strings returned by
 * procmap_lookup() live until procmap_free(), which accepts NULL.
 *
 * The cgroup of each owner is read with procfs.h's cgroup parser.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"

#define PROCMAP_MAX_INODES   1000000u /* wanted inodes; -E2BIG past it */
#define PROCMAP_MAX_OWNERS   16u      /* owners kept per socket (fork, SO_REUSEPORT) */

struct proc_owner {
        pid_t pid;
        uid_t uid;             /* real uid from /proc/PID/status; (uid_t)-1 unknown */
        const char *comm;      /* /proc/PID/comm; "" when unreadable */
        const char *exe;       /* readlink /proc/PID/exe; "" when unreadable */
        bool exe_root;         /* the executable is root's, writable by no one else */
        const char *user;      /* user name of uid, or the uid in decimal; "" unknown */
        const char *unit;      /* systemd unit, "nginx.service"; "" when none */
        const char *container; /* "docker:<12 hex>", "podman:…", "lxc:<name>"; "" */
};

struct procmap;

/* Looks up the owners of n inodes (any order, duplicates and 0 allowed).
 * -E2BIG past PROCMAP_MAX_INODES; -ENOMEM; -errno when /proc cannot be
 * listed.  Unreadable or vanishing processes are not errors. */
int procmap_build(const uint64_t *inodes, size_t n, struct procmap **ret);
/* The same over another proc root (a fixture tree in the tests). */
int procmap_build_at(const char *proc_root, const uint64_t *inodes, size_t n, struct procmap **ret);

/* The owners of inode, ascending by pid: 0 and *ret_n >= 1 when there are
 * some; -ENOENT when the inode was not asked for or nobody visible holds it. */
int procmap_lookup(const struct procmap *m, uint64_t inode, const struct proc_owner **ret,
                   size_t *ret_n);
void procmap_free(struct procmap *m);
