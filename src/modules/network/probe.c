/* probe.c — the probe child (probe.h): fork, drop, run, report in lines.
 *
 * The parent side (probe_run) owns the lock file, the pipe's read end, the
 * child's pidfd and the deadline; it trusts nothing the child writes beyond
 * "lines of JSON objects within the bounds".  The child side owns the
 * pipe's write end and the sockets opened for it before the drop; it never
 * returns from probe_run (it _exits), so nothing of the caller's state (the
 * helper's store, its channel) is touched by it after the fork: every
 * descriptor but those is closed first.
 *
 * The order in the child matters: raw sockets (root) first, then every
 * other descriptor closed, then groups, gid, uid; the drop is checked
 * (setuid(0) fails, no capability left) before anything of the peer's is
 * read; then no_new_privs, not dumpable, a Landlock domain that leaves it
 * reading the resolver's files and nothing else (child_landlock), resource
 * limits, and a seccomp filter that keeps even nobody from executing a
 * program, touching another process or changing a file (child_seccomp).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "jsonutil.h"
#include "modules/network/probe.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define PROBE_USER       "nobody"
#define LOCK_DIR_NAME    "probe-locks"
#define CHILD_NOFILE     16
#define PROBE_RATE_BURST 120
#define PROBE_RATE_USEC  500000u /* a token back every 0.5 s: 120 a minute */
#define PROBE_DEPTH_MAX  8       /* {"result": {"hops": [{"rtt_ms": [ … ]}]}} is 5 */

#if defined(__SANITIZE_ADDRESS__)
#define PROBE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROBE_ASAN 1
#endif
#endif

/* The child's end of the pipe (only ever set in a probe child). */
static int child_fd = -1;

/* ---- the grammar and small helpers ------------------------------------------ */

const char *const probe_families[] = {"any", "ipv4", "ipv6", NULL};

bool probe_host_valid(const char *s) {
        struct in6_addr a6;
        struct in_addr a4;
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, 256);
        if (n == 0 || n > 254 || s[0] == '-' || s[0] == '.')
                return false;
        if (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1)
                return true;
        return dns_name_valid_opts(s, 253, DNS_NAME_FINAL_DOT);
}

int probe_family_arg(json_t *args) {
        const char *f = json_string_value(json_object_get(args, "family"));

        if (f && STREQ(f, "ipv4"))
                return AF_INET;
        if (f && STREQ(f, "ipv6"))
                return AF_INET6;
        return AF_UNSPEC;
}

double probe_ms(uint64_t from_usec, uint64_t to_usec) {
        uint64_t d = to_usec > from_usec ? to_usec - from_usec : 0;
        return (double)d / 1000.0;
}

const char *probe_address_text(const struct sockaddr *sa, char *buf, size_t len) {
        const void *a = sa->sa_family == AF_INET6
                                ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        if (!inet_ntop(sa->sa_family, a, buf, (socklen_t)len))
                snprintf(buf, len, "?");
        return buf;
}

int probe_resolve(const char *host, int family, struct sockaddr_storage *ret, socklen_t *ret_len,
                  struct module_error *err) {
        struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM};
        struct addrinfo *res = NULL;
        int r;

        if (!probe_host_valid(host)) {
                module_error_set(err, 400, "bad_request", "host",
                                 "host is an IP address or a DNS name");
                return -EINVAL;
        }
        hints.ai_flags = AI_NUMERICHOST;
        r = getaddrinfo(host, NULL, &hints, &res);
        if (r == EAI_NONAME) {
                hints.ai_flags = 0;
                r = getaddrinfo(host, NULL, &hints, &res);
        }
        if (r != 0 || !res) {
                module_error_set(err, 422, "unresolved", "host", "%s does not resolve%s: %s", host,
                                 family == AF_INET    ? " to an IPv4 address"
                                 : family == AF_INET6 ? " to an IPv6 address"
                                                      : "",
                                 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
                if (res)
                        freeaddrinfo(res);
                return -ENOENT;
        }
        if (res->ai_addrlen > sizeof *ret) {
                freeaddrinfo(res);
                module_error_set(err, 500, "internal", NULL, "an address too long");
                return -EINVAL;
        }
        memset(ret, 0, sizeof *ret);
        memcpy(ret, res->ai_addr, res->ai_addrlen);
        *ret_len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

/* ---- the per-user lock ---------------------------------------------------------- */

/* The user's token bucket, kept in the lock file (read and written under
 * the lock): PROBE_RATE_BURST diagnostics at once, one more every
 * PROBE_RATE_USEC, so that port checks cannot scan a network fast.  The
 * file holds {at (CLOCK_REALTIME µs), tokens (1/1000ths)}; an empty or
 * short file is a full bucket, a clock gone back refills nothing. */
struct bucket {
        uint64_t at_usec;
        uint64_t milli;
};

static int bucket_take(int fd, unsigned flags, struct module_error *err) {
        struct bucket b = {0};
        uint64_t now = realtime_usec(), full = (uint64_t)PROBE_RATE_BURST * 1000u;

        if (flags & PROBE_CONTINUES)
                return 0; /* the same diagnostic's next child */
        if (pread(fd, &b, sizeof b, 0) != (ssize_t)sizeof b || b.milli > full)
                b = (struct bucket){.at_usec = now, .milli = full};
        if (now > b.at_usec) {
                uint64_t add = (now - b.at_usec) / (PROBE_RATE_USEC / 1000u);
                b.milli = add >= full - b.milli ? full : b.milli + add;
        }
        b.at_usec = now;
        if (b.milli < 1000) {
                uint64_t wait = ((1000 - b.milli) * (PROBE_RATE_USEC / 1000u) + 999999u) / 1000000u;
                /* "throttled" style: the seconds to wait in the field (Retry-After) */
                module_error_set(err, 429, "rate_limited", NULL,
                                 "at most %u diagnostics a minute: wait %llu s",
                                 (unsigned)(60000000u / PROBE_RATE_USEC), (unsigned long long)wait);
                snprintf(err->field, sizeof err->field, "%llu", (unsigned long long)wait);
                (void)!pwrite(fd, &b, sizeof b, 0);
                return -EBUSY;
        }
        b.milli -= 1000;
        if (pwrite(fd, &b, sizeof b, 0) != (ssize_t)sizeof b) {
                module_error_set(err, 500, "internal", NULL, "cannot keep the rate: %s",
                                 strerror(errno));
                return -EIO;
        }
        return 0;
}

/* STATE/probe-locks/u-HEX-FNV: the user's name in hex (its first 64 bytes)
 * and a hash of all of it, so that no name can reach another's file. */
static int lock_take(const char *user, unsigned flags, int *ret_fd, struct module_error *err) {
        const char *dir = steward_state_dir();
        char name[64 * 2 + 1], path[4096];
        uint64_t h = 1469598103934665603ull;
        size_t n;
        int fd, r;

        if (!user || !dir) {
                module_error_set(err, 500, "internal", NULL, "no state directory for the lock");
                return -ENOENT;
        }
        for (const unsigned char *p = (const unsigned char *)user; *p; p++)
                h = (h ^ *p) * 1099511628211ull;
        n = strnlen(user, 64);
        hex_encode((const uint8_t *)user, n, name);
        if (snprintf(path, sizeof path, "%s/%s", dir, LOCK_DIR_NAME) >= (int)sizeof path)
                return -ENAMETOOLONG;
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                module_error_set(err, 500, "internal", NULL, "cannot make %s: %s", path,
                                 strerror(errno));
                return -errno;
        }
        if (snprintf(path, sizeof path, "%s/%s/u-%s-%016llx", dir, LOCK_DIR_NAME, name,
                     (unsigned long long)h) >= (int)sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot open the lock: %s",
                                 strerror(errno));
                return -errno;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                close(fd);
                if (r == -EWOULDBLOCK) {
                        module_error_set(err, 429, "busy", NULL,
                                         "%s runs a diagnostic already: one at a time", user);
                        return -EBUSY;
                }
                module_error_set(err, 500, "internal", NULL, "cannot lock: %s", strerror(-r));
                return r;
        }
        r = bucket_take(fd, flags, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* ---- the child ------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* One line: {key: value}, compact (no newline inside), at most max bytes. */
static int child_send(const char *key, json_t *value, size_t max) {
        _cleanup_json_ json_t *o = json_pack("{s:O}", key, value);
        _cleanup_free_ char *s = NULL;
        size_t n;

        if (!o || child_fd < 0)
                return -ENOMEM;
        s = json_dumps(o, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        n = strlen(s);
        if (n + 1 > max)
                return -E2BIG;
        s[n] = '\n'; /* the NUL's place: the line as written */
        return write_all(child_fd, s, n + 1) < 0 ? -EPIPE : 0;
}

/* The child's ctx->progress: one line to the parent, which hands it to the
 * kit's own progress (the stream's pipe is closed in the child).  Every
 * diagnostic's progress (ping's replies, traceroute's hops) is written
 * here, whichever way it calls. */
static int child_progress(const struct module_ctx *ctx, json_t *event) {
        (void)ctx;
        if (!json_is_object(event))
                return -EINVAL;
        return child_send("progress", event, PROBE_LINE_MAX);
}

int probe_progress(struct probe *p, json_t *event) {
        return child_progress(p->ctx, event);
}

static int cmp_int(const void *a, const void *b) {
        return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor from 3 on but keep[] (which it sorts). */
static void close_all_but(int *keep, size_t n) {
        int from = 3;

        qsort(keep, n, sizeof *keep, cmp_int);
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < from)
                        continue;
                if (keep[i] > from)
                        syscall(SYS_close_range, (unsigned)from, (unsigned)keep[i] - 1, 0u);
                from = keep[i] + 1;
        }
        syscall(SYS_close_range, (unsigned)from, ~0u, 0u);
}

static bool caps_none(void) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {0};

        if (syscall(SYS_capget, &h, d) < 0)
                return false;
        for (size_t i = 0; i < 2; i++)
                if (d[i].effective || d[i].permitted || d[i].inheritable)
                        return false;
        return true;
}

/* What the child may not do even as nobody: run another program, look into,
 * signal, re-limit or reschedule another process (other processes run as
 * nobody too), enter or make namespaces, reach the kernel's keyrings, BPF,
 * perf or io_uring, open a socket of another family than unix, IPv4 and
 * IPv6 (netlink, AF_ALG, packet…: glibc's resolver does without netlink,
 * taking both families as present).  Signals to itself stay allowed
 * (abort, a sanitizer's report), and its own resource limits (glibc's
 * getrlimit is prlimit64 on pid 0).  Any other call behaves as for any
 * unprivileged process. */
static const int child_denied[] = {
        SCMP_SYS(execve),
        SCMP_SYS(execveat),
        SCMP_SYS(ptrace),
        SCMP_SYS(process_vm_readv),
        SCMP_SYS(process_vm_writev),
        SCMP_SYS(process_madvise),
        SCMP_SYS(kcmp),
        SCMP_SYS(pidfd_open),
        SCMP_SYS(pidfd_getfd),
        SCMP_SYS(pidfd_send_signal),
        SCMP_SYS(setpriority),
        SCMP_SYS(ioprio_set),
        SCMP_SYS(sched_setaffinity),
        SCMP_SYS(sched_setscheduler),
        SCMP_SYS(sched_setparam),
        SCMP_SYS(sched_setattr),
        SCMP_SYS(migrate_pages),
        SCMP_SYS(move_pages),
        SCMP_SYS(setns),
        SCMP_SYS(unshare),
        SCMP_SYS(mount),
        SCMP_SYS(bpf),
        SCMP_SYS(perf_event_open),
        SCMP_SYS(keyctl),
        SCMP_SYS(add_key),
        SCMP_SYS(request_key),
        SCMP_SYS(userfaultfd),
        SCMP_SYS(io_uring_setup),
        SCMP_SYS(io_uring_enter),
        SCMP_SYS(io_uring_register),
};

/* Calls whose first argument names a process: refused unless it is this
 * one (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo: the child
 * is single-threaded, its tid is its pid) or 0 (prlimit64: "myself"). */
static int child_seccomp_pids(scmp_filter_ctx f) {
        static const int to_self[] = {SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill),
                                      SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo)};
        uint64_t self = (uint64_t)getpid();
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(to_self); i++)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), to_self[i], 1,
                                     SCMP_A0(SCMP_CMP_NE, self));
        if (r >= 0)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prlimit64), 1,
                                     SCMP_A0(SCMP_CMP_NE, 0));
        return r;
}

/* socket(domain, …): only AF_UNIX (1), AF_INET (2) and AF_INET6 (10). */
static int child_seccomp_sockets(scmp_filter_ctx f) {
        int r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                                 SCMP_A0(SCMP_CMP_EQ, AF_UNSPEC));
        for (uint64_t d = AF_INET + 1; r >= 0 && d < AF_INET6; d++)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_EQ, d));
        if (r >= 0)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_GT, AF_INET6));
        if (r >= 0)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socketpair), 0);
        return r;
}

/* A child that holds a raw ICMP socket sends echo requests with sendto()
 * and reads with recvmsg(), nothing else: no IP-level option (IP_HDRINCL
 * would let it forge whole packets, source included; IP_TTL, IP_OPTIONS),
 * no IPv6-level one but IPV6_RECVHOPLIMIT (IPV6_HDRINCL, hop limits: an
 * RA with hop limit 255), no socket-level one (SO_BROADCAST…), no
 * sendmsg (its control data sets a hop limit or a source per packet), no
 * bind or connect.  ICMP_FILTER (SOL_RAW) and ICMP6_FILTER stay. */
static int child_seccomp_raw(scmp_filter_ctx f) {
        static const int calls[] = {SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg), SCMP_SYS(bind),
                                    SCMP_SYS(connect)};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(calls); i++)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), calls[i], 0);
        if (r >= 0)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt), 1,
                                     SCMP_A1(SCMP_CMP_EQ, IPPROTO_IP));
        if (r >= 0)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt), 1,
                                     SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
        if (r >= 0)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt), 2,
                                     SCMP_A1(SCMP_CMP_EQ, IPPROTO_IPV6),
                                     SCMP_A2(SCMP_CMP_NE, IPV6_RECVHOPLIMIT));
        return r;
}

/* Every call that changes a file or its metadata (Landlock does not cover
 * chmod, chown, times or xattrs, nor truncate before ABI 3): a diagnostic
 * changes no file. */
static const int child_denied_fs[] = {
        SCMP_SYS(unlink),       SCMP_SYS(unlinkat),     SCMP_SYS(rename),    SCMP_SYS(renameat),
        SCMP_SYS(renameat2),    SCMP_SYS(link),         SCMP_SYS(linkat),    SCMP_SYS(symlink),
        SCMP_SYS(symlinkat),    SCMP_SYS(mkdir),        SCMP_SYS(mkdirat),   SCMP_SYS(rmdir),
        SCMP_SYS(mknod),        SCMP_SYS(mknodat),      SCMP_SYS(chmod),     SCMP_SYS(fchmod),
        SCMP_SYS(fchmodat),     SCMP_SYS(chown),        SCMP_SYS(fchown),    SCMP_SYS(fchownat),
        SCMP_SYS(lchown),       SCMP_SYS(truncate),     SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
        SCMP_SYS(utime),        SCMP_SYS(utimes),       SCMP_SYS(utimensat), SCMP_SYS(futimesat),
        SCMP_SYS(setxattr),     SCMP_SYS(lsetxattr),    SCMP_SYS(fsetxattr), SCMP_SYS(removexattr),
        SCMP_SYS(lremovexattr), SCMP_SYS(fremovexattr),
};

static int child_seccomp(bool raw) {
        scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
        int r = f ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(child_denied); i++)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), child_denied[i], 0);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(child_denied_fs); i++)
                r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), child_denied_fs[i], 0);
        if (r >= 0)
                r = child_seccomp_pids(f);
        if (r >= 0)
                r = child_seccomp_sockets(f);
        if (r >= 0 && raw)
                r = child_seccomp_raw(f);
        if (r >= 0)
                r = seccomp_load(f);
        seccomp_release(f);
        return r;
}

/* ---- Landlock: what the child may open -------------------------------------------- */

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL               (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6 (the headers here stop at 2);
 * the kernel reads the size it is given, so an older one gets the first
 * member only. */
struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

/* What the diagnostics read: the resolver's and NSS's configuration, the
 * libraries NSS loads, systemd-resolved's resolv.conf.  A sanitizer's
 * report also reads /proc/self (test builds only). */
static const char *const landlock_readable[] = {
        "/etc",        "/usr", "/lib", "/lib64", "/run/systemd/resolve", "/run/resolvconf",
#if defined(PROBE_ASAN)
        "/proc/self/",
#endif
};

/* After the drop, the child may read (files and directories) under
 * landlock_readable and nothing more: no write, truncate, make, remove,
 * rename or link anywhere, so a child taken over cannot harm the files
 * nobody owns (an NFS root_squash export, a Samba guest share); with ABI 6
 * it may neither signal nor reach an abstract unix socket outside itself.
 * 0 also when the kernel has no Landlock (ENOSYS, EOPNOTSUPP: disabled at
 * boot): the child is then as before it, held by its uid, seccomp's
 * refusal of every call that changes a file (child_denied_fs) and
 * RLIMIT_FSIZE. */
static int child_landlock(void) {
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        struct ll_ruleset_attr attr = {0};
        size_t attr_size = sizeof attr.handled_access_fs;
        int rs, r = 0;

        if (abi < 0)
                return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -errno;
        attr.handled_access_fs = (LANDLOCK_ACCESS_FS_REFER << 1) - 1; /* ABI 1 and 2 */
        if (abi < 2)
                attr.handled_access_fs &= ~LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        if (abi >= 6) {
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
                attr_size = sizeof attr;
        }
        rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0u);
        if (rs < 0)
                return -errno;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(landlock_readable); i++) {
                struct landlock_path_beneath_attr pb = {.allowed_access =
                                                                LANDLOCK_ACCESS_FS_READ_FILE |
                                                                LANDLOCK_ACCESS_FS_READ_DIR};
                pb.parent_fd = open(landlock_readable[i], O_PATH | O_CLOEXEC);
                if (pb.parent_fd < 0)
                        continue; /* not on this system */
                if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0u) < 0)
                        r = -errno;
                close(pb.parent_fd);
        }
        if (r >= 0 && syscall(SYS_landlock_restrict_self, rs, 0u) < 0)
                r = -errno;
        close(rs);
        return r;
}

/* Becomes uid:gid with nothing of root left; false if any step fails. */
static bool child_drop(uid_t uid, gid_t gid, uint64_t limit_usec, bool raw) {
        rlim_t cpu = (rlim_t)(limit_usec / 1000000u + 2);

        /* no capability may come back through an exec or the ambient set */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return false;
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return false;
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return false;
        if (uid == 0 || setuid(0) == 0 || geteuid() == 0 || getegid() == 0 || !caps_none())
                return false;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return false;
        if (child_landlock() < 0)
                return false;
        struct {
                int what;
                rlim_t v;
        } lim[] = {
                {RLIMIT_CPU, cpu},
                {RLIMIT_FSIZE, 0},
                {RLIMIT_CORE, 0},
                {RLIMIT_NOFILE, CHILD_NOFILE},
                {RLIMIT_NPROC, 0},
                {RLIMIT_MEMLOCK, 0},
#if !defined(PROBE_ASAN)
                /* ASan reserves terabytes of shadow: test builds go without. */
                {RLIMIT_AS, (rlim_t)512 << 20},
#endif
        };
        for (size_t i = 0; i < ELEMENTSOF(lim); i++) {
                struct rlimit rl = {lim[i].v, lim[i].v};
                if (setrlimit(lim[i].what, &rl) < 0)
                        return false;
        }
        return child_seccomp(raw) >= 0;
}

static json_t *error_json(int r, const struct module_error *e) {
        return json_pack("{s:i, s:i, s:s, s:s, s:s}", "r", r, "status", e->status ? e->status : 500,
                         "code", e->code[0] ? e->code : "internal", "message", e->message, "field",
                         e->field);
}

static void child_fail(int status, const char *code, const char *message) {
        struct module_error e = {0};
        _cleanup_json_ json_t *j = NULL;

        module_error_set(&e, status, code, NULL, "%s", message);
        j = error_json(-EPERM, &e);
        if (j)
                child_send("error", j, PROBE_RESULT_MAX);
}

/* The helper's handlers and mask are not the child's: defaults, nothing
 * blocked, SIGPIPE ignored (a write to a parent gone is -EPIPE). */
static void child_signals(void) {
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static int icmp_open(int family) {
        return socket(family, SOCK_RAW | SOCK_CLOEXEC,
                      family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

static int probe_account(uid_t *ret_uid, gid_t *ret_gid, struct module_error *err);

/* The descriptors of the fresh image (probe_child_main): the result pipe,
 * the request pipe, the raw sockets when asked for. */
enum { FD_RESULT = 3, FD_REQUEST = 4, FD_ICMP4 = 5, FD_ICMP6 = 6, FD_FIRST_FREE = 7 };
#define PROBE_REQUEST_MAX (60u << 10) /* below a pipe's 64 KiB: written before exec */
#define PROBE_MODULE      "network"

/* fd to exactly `to` (close-on-exec cleared), from a copy above the
 * targets so that no target is overwritten; -1 stays closed. */
static int fd_place(int fd, int to) {
        if (fd < 0)
                return 0;
        return dup2(fd, to) == to ? 0 : -errno;
}

/* In the forked child, as root: the raw sockets, the request in a pipe of
 * its own, the descriptors in their places, then a fresh image of this
 * program with an empty environment (module_t.child_main): nothing of the
 * helper's memory (sessions, requests, the store) goes on. */
static _Noreturn void child_start(unsigned flags, const struct probe_diag *diag, json_t *args,
                                  uint64_t limit_usec, int wfd) {
        _cleanup_json_ json_t *req = NULL;
        _cleanup_free_ char *text = NULL;
        int q[2], fds[4] = {-1, -1, -1, -1}, icmp4 = -1, icmp6 = -1;
        char *const argv[] = {"stewardd", "--module-child", PROBE_MODULE, NULL};
        char *const envp[] = {NULL};

        child_fd = wfd;
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        child_signals();
        if (flags & PROBE_RAW_ICMP4)
                icmp4 = icmp_open(AF_INET);
        if (flags & PROBE_RAW_ICMP6)
                icmp6 = icmp_open(AF_INET6);
        req = json_pack("{s:s, s:I, s:b, s:b, s:O}", "diag", diag->name, "limit_usec",
                        (json_int_t)limit_usec, "icmp4", icmp4 >= 0, "icmp6", icmp6 >= 0, "args",
                        args);
        text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        if (!text || strlen(text) > PROBE_REQUEST_MAX || pipe2(q, O_CLOEXEC) < 0 ||
            write_all(q[1], text, strlen(text)) < 0) {
                child_fail(500, "probe_failed", "the probe could not be started");
                _exit(1);
        }
        close(q[1]);
        /* above every target first, then each in its place */
        int from[4] = {wfd, q[0], icmp4, icmp6};
        for (size_t i = 0; i < 4; i++)
                fds[i] = from[i] >= 0 ? fcntl(from[i], F_DUPFD_CLOEXEC, 16) : -1;
        if (fds[0] < 0 || fds[1] < 0 || fd_place(fds[0], FD_RESULT) < 0 ||
            fd_place(fds[1], FD_REQUEST) < 0 || fd_place(fds[2], FD_ICMP4) < 0 ||
            fd_place(fds[3], FD_ICMP6) < 0) {
                child_fail(500, "probe_failed", "the probe could not be started");
                _exit(1);
        }
        child_fd = FD_RESULT;
        if (fds[2] < 0)
                close(FD_ICMP4);
        if (fds[3] < 0)
                close(FD_ICMP6);
        syscall(SYS_close_range, (unsigned)FD_FIRST_FREE, ~0u, 0u);
        execve("/proc/self/exe", argv, envp);
        child_fail(500, "probe_failed", "the probe could not be started");
        _exit(1);
}

/* The request the image was started with (FD_REQUEST), parsed. */
static json_t *child_request(void) {
        _cleanup_free_ char *buf = malloc(PROBE_REQUEST_MAX + 1);
        size_t n = 0;
        struct stat st;

        if (!buf || fstat(FD_REQUEST, &st) < 0 || !S_ISFIFO(st.st_mode))
                return NULL;
        for (;;) {
                ssize_t k = read(FD_REQUEST, buf + n, PROBE_REQUEST_MAX + 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return NULL;
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > PROBE_REQUEST_MAX)
                        return NULL;
        }
        close(FD_REQUEST);
        return json_loadb(buf, n, JSON_REJECT_DUPLICATES, NULL);
}

/* A raw socket handed over at fd, when the request says there is one. */
static int child_socket(json_t *req, const char *key, int fd) {
        struct stat st;
        if (!json_is_true(json_object_get(req, key)))
                return -1;
        return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? fd : -1;
}

static void child_report(int r, json_t *result, const struct module_error *err) {
        if (r >= 0 && json_is_object(result)) {
                if (child_send("result", result, PROBE_RESULT_MAX) == -E2BIG)
                        child_fail(502, "too_large",
                                   "the answer is too large to show (over 256 KiB as JSON)");
        } else {
                _cleanup_json_ json_t *j = error_json(r < 0 ? r : -EIO, err);
                if (j && child_send("error", j, PROBE_RESULT_MAX) == -E2BIG)
                        child_fail(500, "internal", "the probe's error is too long");
        }
}

int probe_child_main(const struct probe_diag *const *diags, size_t n_diags, int argc, char **argv) {
        static const struct module_ctx cctx = {
                .user = "", .role = "", .source = "probe", .progress = child_progress};
        struct probe p = {.ctx = &cctx, .icmp4 = -1, .icmp6 = -1};
        struct module_error err = {0};
        _cleanup_json_ json_t *req = NULL;
        json_t *result = NULL;
        const char *name;
        const struct probe_diag *diag = NULL;
        struct stat st;
        uid_t uid;
        gid_t gid;
        int r;

        (void)argc, (void)argv;
        if (fstat(FD_RESULT, &st) < 0 || !S_ISFIFO(st.st_mode))
                return 1; /* not started by child_start */
        child_fd = FD_RESULT;
        req = child_request();
        name = json_string_value(json_object_get(req, "diag"));
        for (size_t i = 0; name && i < n_diags; i++)
                if (STREQ(diags[i]->name, name))
                        diag = diags[i];
        json_int_t limit = json_integer_value(json_object_get(req, "limit_usec"));
        if (!diag || limit <= 0 || limit > PROBE_LIMIT_MAX ||
            !json_is_object(json_object_get(req, "args")) || probe_account(&uid, &gid, &err) < 0) {
                child_fail(500, "probe_failed", "the probe was started without a request");
                return 1;
        }
        p.icmp4 = child_socket(req, "icmp4", FD_ICMP4);
        p.icmp6 = child_socket(req, "icmp6", FD_ICMP6);
        /* nothing of the helper's environment (LOCALDOMAIN, HOSTALIASES) for
         * the resolver; a name's resolution waits 2 s a server, once, so
         * that an unreachable resolver is "unresolved" within the limit */
        clearenv();
        setenv("RES_OPTIONS", "timeout:2 attempts:1", 1);
        int keep[3] = {FD_RESULT, p.icmp4 >= 0 ? p.icmp4 : FD_RESULT,
                       p.icmp6 >= 0 ? p.icmp6 : FD_RESULT};
        close_all_but(keep, 3);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
#if !defined(PROBE_ASAN)
                dup2(null, 2); /* a test build keeps it: a sanitizer's report reaches the log */
#endif
                close(null);
        }
        if (chdir("/") < 0 ||
            !child_drop(uid, gid, (uint64_t)limit, p.icmp4 >= 0 || p.icmp6 >= 0)) {
                child_fail(500, "probe_failed", "the probe could not drop its privileges");
                return 1;
        }
        r = diag->fn(&p, json_object_get(req, "args"), &result, &err);
        child_report(r, result, &err);
        _exit(0);
}

/* ---- the parent ------------------------------------------------------------------ */

struct run {
        const struct module_ctx *ctx;
        pid_t pid;
        int pidfd, rfd;
        char *buf;
        size_t len;
        json_t *final; /* {"result": …} or {"error": …} */
        bool gone;     /* the client went away (progress said -EPIPE) */
};

/* Hands one progress event to the caller's stream (a no-op when the
 * request does not stream). */
static int forward_progress(const struct module_ctx *ctx, json_t *event) {
        return ctx->progress ? ctx->progress(ctx, event) : 0;
}

/* One complete line from the child: progress is forwarded, the final line
 * kept; -EPROTO for anything else. */
static int run_line(struct run *run, const char *line, size_t n) {
        json_error_t jerr;
        json_t *j, *v;

        if (run->final)
                return -EPROTO; /* nothing after the final line */
        /* what the helper and the front pass on is shallow: a child that
         * nests deeper is refused before jansson recurses into it */
        int depth = json_scan_depth(line, n, PROBE_DEPTH_MAX);
        if (depth < 0 || depth > PROBE_DEPTH_MAX)
                return -EPROTO;
        j = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(j) || json_object_size(j) != 1) {
                json_decref(j);
                return -EPROTO;
        }
        if ((v = json_object_get(j, "progress"))) {
                int r = 0;
                if (!json_is_object(v) || n > PROBE_LINE_MAX)
                        r = -EPROTO;
                else if (forward_progress(run->ctx, v) == -EPIPE)
                        run->gone = true;
                json_decref(j);
                return r;
        }
        v = json_object_get(j, "result");
        if (!v)
                v = json_object_get(j, "error");
        if (!json_is_object(v)) {
                json_decref(j);
                return -EPROTO;
        }
        run->final = j;
        return 0;
}

/* Reads what there is; 1 at end of file, 0 for more, -errno on a breach. */
static int run_read(struct run *run) {
        ssize_t k;
        size_t start = 0;
        int r = 0;

        k = read(run->rfd, run->buf + run->len, PROBE_RESULT_MAX + 1 - run->len);
        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (k == 0)
                return run->len > 0 ? -EPROTO : 1; /* a line cut short */
        run->len += (size_t)k;
        for (size_t i = 0; i < run->len && r >= 0; i++)
                if (run->buf[i] == '\n') {
                        r = run_line(run, run->buf + start, i - start);
                        start = i + 1;
                }
        if (r < 0)
                return r;
        memmove(run->buf, run->buf + start, run->len - start);
        run->len -= start;
        if (run->len > PROBE_RESULT_MAX)
                return -E2BIG;
        return 0;
}

static void run_kill(struct run *run) {
        if (run->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, run->pidfd, SIGKILL, NULL, 0);
        else
                kill(run->pid, SIGKILL);
}

/* Until the child's end of file, the deadline or a breach of the bounds. */
static int run_wait(struct run *run, uint64_t deadline, struct module_error *err) {
        for (;;) {
                uint64_t now = now_usec();
                struct pollfd pfd = {.fd = run->rfd, .events = POLLIN};
                int r;

                if (now >= deadline) {
                        run_kill(run);
                        module_error_set(err, 504, "timeout", NULL,
                                         "the diagnostic ran out of time and was stopped");
                        return -ETIMEDOUT;
                }
                r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                r = run_read(run);
                if (r == 1)
                        return 0;
                if (r < 0 || run->gone) {
                        run_kill(run);
                        if (run->gone) {
                                module_error_set(err, 499, "gone", NULL, "the client went away");
                                return -EPIPE;
                        }
                        module_error_set(err, 502, "probe_failed", NULL,
                                         "the probe answered out of bounds: %s", strerror(-r));
                        return r;
                }
        }
}

/* The statuses a diagnostic fails with; anything else the child claims is
 * 502 (the probe is not believed). */
static bool status_allowed(json_int_t status) {
        static const int allowed[] = {400, 404, 408, 422, 429, 500, 502, 503, 504};
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (status == allowed[i])
                        return true;
        return false;
}

/* An error's code or field from the child: [a-z0-9_], 1..32 bytes. */
static bool word_valid(const char *s) {
        size_t n = s ? strnlen(s, 33) : 0;
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

/* The result, less what is the parent's to say: "summary" goes into the
 * audit record (module.h), so the caller composes it, not the child. */
static int run_outcome(json_t *final, json_t **ret, struct module_error *err) {
        json_t *res = final ? json_object_get(final, "result") : NULL;
        json_t *e = final ? json_object_get(final, "error") : NULL;
        json_int_t r;

        if (res) {
                json_object_del(res, "summary");
                *ret = json_incref(res);
                return 0;
        }
        if (!e) {
                module_error_set(err, 502, "probe_failed", NULL,
                                 "the probe ended without an answer");
                return -EIO;
        }
        r = json_integer_value(json_object_get(e, "r"));
        json_int_t status = json_integer_value(json_object_get(e, "status"));
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *field = json_string_value(json_object_get(e, "field"));
        module_error_set(err, status_allowed(status) ? (int)status : 502,
                         word_valid(code) ? code : "probe_failed", word_valid(field) ? field : NULL,
                         "%s", json_string_value(json_object_get(e, "message")) ?: "");
        return r < 0 && r > -4096 ? (int)r : -EIO;
}

static int probe_account(uid_t *ret_uid, gid_t *ret_gid, struct module_error *err) {
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (getpwnam_r(PROBE_USER, &pw, buf, sizeof buf, &res) != 0 || !res || pw.pw_uid == 0 ||
            pw.pw_gid == 0) {
                module_error_set(err, 500, "internal", NULL,
                                 "no unprivileged account \"%s\" to run the probe as", PROBE_USER);
                return -ENOENT;
        }
        *ret_uid = pw.pw_uid;
        *ret_gid = pw.pw_gid;
        return 0;
}

int probe_run(const struct module_ctx *ctx, unsigned flags, const struct probe_diag *diag,
              json_t *args, uint64_t limit_usec, json_t **ret, struct module_error *err) {
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *buf = NULL;
        struct run run = {.ctx = ctx, .pidfd = -1, .rfd = -1};
        int p[2], r, status;
        uid_t uid;
        gid_t gid;

        if (limit_usec == 0 || limit_usec > PROBE_LIMIT_MAX)
                limit_usec = PROBE_LIMIT_MAX;
        r = probe_account(&uid, &gid, err);
        if (r < 0)
                return r;
        r = lock_take(ctx->user, flags, &lock, err);
        if (r < 0)
                return r;
        buf = malloc(PROBE_RESULT_MAX + 1);
        if (!buf || pipe2(p, O_CLOEXEC) < 0)
                return -ENOMEM;
        uint64_t deadline = now_usec() + limit_usec;
        run.pid = fork();
        if (run.pid < 0) {
                r = -errno;
                close(p[0]);
                close(p[1]);
                module_error_set(err, 500, "internal", NULL, "cannot fork: %s", strerror(-r));
                return r;
        }
        if (run.pid == 0) {
                close(p[0]);
                child_start(flags, diag, args, limit_usec, p[1]);
        }
        close(p[1]);
        run.rfd = p[0];
        run.buf = buf;
        run.pidfd = (int)syscall(SYS_pidfd_open, run.pid, 0);
        r = run_wait(&run, deadline, err);
        close(run.rfd);
        /* its answer is in (or it is out of bounds or time): whatever it
         * still does after its end of file is not waited for */
        run_kill(&run);
        if (run.pidfd >= 0)
                close(run.pidfd);
        while (waitpid(run.pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r >= 0)
                r = run_outcome(run.final, ret, err);
        json_decref(run.final);
        return r;
}
