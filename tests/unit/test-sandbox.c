/* test-sandbox.c — the front's seccomp filter, installed in a child process
 * of the test (the filter cannot be taken off again): no namespace can be
 * made by any call that makes one, and threads and fork still work;
 * adjtimex reads but cannot write for an unprivileged process. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/sandbox.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* clone3's argument (linux/sched.h), spelled out for older headers. */
struct clone3_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

/* Raw clone(flags | SIGCHLD) without a new stack: fork-like.  Returns the
 * errno of a refusal, or 0 when a child was made (reaped here). */
static int try_clone(unsigned long flags) {
        long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
        int st;

        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(0);
        waitpid((pid_t)pid, &st, 0);
        return 0;
}

static int try_clone3(uint64_t flags) {
        struct clone3_args a = {.flags = flags, .exit_signal = SIGCHLD};
        long pid = syscall(SYS_clone3, &a, sizeof a);
        int st;

        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(0);
        waitpid((pid_t)pid, &st, 0);
        return 0;
}

static void *thread_main(void *arg) {
        return arg;
}

/* Runs in the child, under the filter; its exit status is the number of
 * the first check that failed (0: all held). */
static int checks(void) {
        static const unsigned long ns[] = {CLONE_NEWUSER,  CLONE_NEWNET, CLONE_NEWNS,
                                           CLONE_NEWPID,   CLONE_NEWUTS, CLONE_NEWIPC,
                                           CLONE_NEWCGROUP};
        char err[256];
        pthread_t t;
        void *out = NULL;
        int n = 1;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sandbox_front(err, sizeof err) < 0)
                return 100;
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++, n++) {
                if (try_clone(ns[i]) != EPERM)
                        return n;
                if (unshare((int)ns[i]) == 0 || errno != EPERM)
                        return n + 20;
        }
        if (try_clone(CLONE_NEWUSER | CLONE_NEWNET) != EPERM)
                return 40;
        if (unshare(CLONE_NEWTIME) == 0 || errno != EPERM)
                return 41;
        if (try_clone3(CLONE_NEWUSER) != ENOSYS || try_clone3(0) != ENOSYS)
                return 42;
        if (setns(0, 0) == 0 || errno != EPERM)
                return 43;
        /* What the front does need. */
        if (pthread_create(&t, NULL, thread_main, (void *)0x1) != 0 || pthread_join(t, &out) != 0 ||
            out != (void *)0x1)
                return 50;
        if (try_clone(0) != 0)
                return 51;
        {
                pid_t pid = fork();
                int st;
                if (pid < 0)
                        return 52;
                if (pid == 0)
                        _exit(7);
                if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
                        return 53;
        }
        return 0;
}

/* adjtimex: allowed (the metrics module reads node_timex_* with modes 0),
 * and a write is the kernel's to refuse: the child first becomes an
 * unprivileged user, as the front is, so a mode bit fails with EPERM and the
 * clock is never changed.  clock_adjtime stays denied. */
static int timex_checks(void) {
        char err[256];
        struct timex tx = {.modes = 0};

        if (getuid() == 0 && setresgid(65534, 65534, 65534) < 0)
                return 60;
        if (getuid() == 0 && setresuid(65534, 65534, 65534) < 0)
                return 61;
        if (sandbox_front(err, sizeof err) < 0)
                return 62;
        if (syscall(SYS_adjtimex, &tx) < 0)
                return 63;
        tx = (struct timex){.modes = ADJ_MAXERROR, .maxerror = tx.maxerror};
        if (syscall(SYS_adjtimex, &tx) >= 0 || errno != EPERM)
                return 64;
        tx = (struct timex){.modes = 0};
        if (syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) >= 0 || errno != EPERM)
                return 65;
        return 0;
}

static void test_front_reads_timex_only(void **state) {
        int st;
        pid_t pid;

        (void)state;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(timex_checks());
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_front_cannot_make_namespaces(void **state) {
        int st;
        pid_t pid;

        (void)state;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(checks());
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_front_cannot_make_namespaces),
                cmocka_unit_test(test_front_reads_timex_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
