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
 */
#include "sandbox.h"

#include <errno.h>
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
        "adjtimex",
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
        if (r >= 0) {
                r = seccomp_load(ctx);
                if (r < 0)
                        snprintf(err, err_len, "cannot load the seccomp filter: %s", strerror(-r));
        }
        seccomp_release(ctx);
        return r < 0 ? r : 0;
}
