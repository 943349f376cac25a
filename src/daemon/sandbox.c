/* sandbox.c — a seccomp filter for the network front.
 *
 * The front already runs as an unprivileged user with no capabilities and
 * no_new_privs; this filter takes away the kernel interfaces such a process
 * could still use to attack the machine or its neighbours, and which the
 * front never needs: debugging other processes, namespaces, mounts, kernel
 * modules and keys, BPF, perf events, clock and system changes.  It is a
 * deny list on purpose: an allow list would have to follow every system call
 * libmicrohttpd, GnuTLS, glibc and the sanitizers make, and break on the next
 * library update; the calls below are ones the front has no business making
 * whatever its libraries do.  A denied call fails with EPERM (not a kill), so
 * a library probing for a feature degrades instead of taking the front down.
 *
 * Namespaces: unshare and setns are denied whole; clone is denied when its
 * flags ask for any new namespace, so threads and fork still work.  clone3
 * takes its flags in a structure in memory, which seccomp cannot read: it
 * fails with ENOSYS, as on a kernel without it, and glibc then falls back to
 * clone, whose flags are checked.
 *
 * Still a deny list, after weighing an allow list again once the code had
 * settled: the front's calls are those of glibc, libmicrohttpd, GnuTLS (its
 * random source, its PKCS#11 probing), jansson, the sanitizers in
 * test builds and libraries loaded by NSS; each update of any of them may
 * add a call, and an allow list that misses one breaks a running front (or
 * makes a library take a worse path silently).  Traced under the API and
 * events tests, the front made 48 distinct calls; the metrics sampler's
 * statfs was not among them, which is the point: a list drawn from what
 * the tests exercise misses what they do not.  What the deny list leaves
 * open is the ordinary file, socket and memory calls an unprivileged
 * process has anyway.
 */
#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const char *const denied[] = {
        /* other processes' memory and execution */
        "process_vm_readv",
        "process_vm_writev",
        "kcmp",
        "pidfd_getfd",
#if !defined(__SANITIZE_ADDRESS__)
        /* LeakSanitizer stops the world with ptrace at exit: test builds only */
        "ptrace",
#endif
        /* namespaces and mounts */
        "unshare",
        "setns",
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        /* the kernel itself */
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "reboot",
        "swapon",
        "swapoff",
        "acct",
        "syslog",
        "quotactl",
        "lookup_dcookie",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "add_key",
        "request_key",
        "keyctl",
        "iopl",
        "ioperm",
        "personality",
        "uselib",
        "nfsservctl",
        /* clocks and names */
        "settimeofday",
        "clock_settime",
        "clock_adjtime",
        /* adjtimex is not here: the metrics module reads the clock
         * discipline with it (modes 0, node_timex_*).  A filter cannot
         * see the modes (they are in memory behind the pointer), but the
         * kernel refuses every mode bit to a caller without CAP_SYS_TIME,
         * and the front has no capability and cannot gain one (no setuid,
         * no capset, no_new_privs): for the front adjtimex only reads.
         * clock_adjtime, the same call on any clock, stays denied. */
        "sethostname",
        "setdomainname",
        /* identity: the front has dropped its privileges and stays there */
        "setuid",
        "setgid",
        "setreuid",
        "setregid",
        "setresuid",
        "setresgid",
        "setgroups",
        "setfsuid",
        "setfsgid",
        "capset",
};

/* The flags of clone(2) that make a new namespace.  (CLONE_NEWTIME exists
 * only for unshare and clone3: in clone's flags its bit is the exit
 * signal's.) */
static const unsigned long clone_namespace_flags[] = {
        CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
        CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
};

/* clone with any namespace flag: EPERM (one rule per flag; rules OR). */
static int deny_clone_namespaces(scmp_filter_ctx ctx, char *err, size_t err_len) {
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(clone_namespace_flags) && r >= 0; i++) {
                unsigned long f = clone_namespace_flags[i];
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
        }
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        if (r < 0)
                snprintf(err, err_len, "cannot restrict clone: %s", strerror(-r));
        return r;
}

int sandbox_front(char *err, size_t err_len) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r = 0;

        if (!ctx) {
                snprintf(err, err_len, "cannot create the seccomp filter");
                return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(denied) && r >= 0; i++) {
                int nr = seccomp_syscall_resolve_name(denied[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0)
                        snprintf(err, err_len, "cannot deny %s: %s", denied[i], strerror(-r));
        }
        if (r >= 0)
                r = deny_clone_namespaces(ctx, err, err_len);
        if (r >= 0) {
                r = seccomp_load(ctx);
                if (r < 0)
                        snprintf(err, err_len, "cannot load the seccomp filter: %s", strerror(-r));
        }
        seccomp_release(ctx);
        return r < 0 ? r : 0;
}
