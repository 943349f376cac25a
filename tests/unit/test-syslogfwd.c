/* test-syslogfwd.c — the audit forwarder's restarts, on the parent side:
 * the exit's cause as the API shows it, the back-off (doubling from
 * SYSLOGFWD_RESTART_MIN to SYSLOGFWD_BACKOFF_MAX, back to the minimum after
 * a long run), the states, no restart once held, nothing done by a process
 * that did not start the forwarder, and a real forwarder killed and noticed
 * through its pidfd.
 *
 * The .c is included so the parent's state (the back-off, the start time)
 * can be set and read without waiting on any clock.  The forwarder forked
 * here is never woken, so it never opens a store or sends anything. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helper/syslogfwd.c"

#define SIGNALED(sig) (sig)         /* a wait status: killed by sig */
#define EXITED(code)  ((code) << 8) /* a wait status: exit(code) */

static struct syslogfwd *fake(void) {
        struct syslogfwd *f = calloc(1, sizeof *f);

        assert_non_null(f);
        f->pidfd = f->wr = -1;
        f->owner = getpid();
        f->state_dir = strdup("/nonexistent");
        return f;
}

static const char *state_of(const struct syslogfwd *f, json_t **keep) {
        *keep = syslogfwd_process(f);
        assert_non_null(*keep);
        return json_string_value(json_object_get(*keep, "state"));
}

static void test_exit_causes(void **state) {
        char buf[EXIT_CAUSE_MAX];

        (void)state;
        exit_cause(SIGNALED(SIGKILL), buf, sizeof buf);
        assert_string_equal(buf, "signal KILL");
        exit_cause(SIGNALED(SIGSEGV), buf, sizeof buf);
        assert_string_equal(buf, "signal SEGV");
        exit_cause(EXITED(1), buf, sizeof buf);
        assert_string_equal(buf, "status 1");
        exit_cause(EXITED(127), buf, sizeof buf);
        assert_string_equal(buf, "status 127");
}

/* Dies at once, again and again: 1, 2, 4 … up to the cap, never beyond;
 * one that ran long enough starts over from the minimum. */
static void test_backoff_doubles_to_the_cap_and_resets_after_a_long_run(void **state) {
        static const unsigned want[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
        struct syslogfwd *f = fake();
        json_t *o;

        (void)state;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                f->started_usec = now_usec();
                reaped(f, SIGNALED(SIGKILL));
                assert_int_equal(f->backoff, want[i]);
                assert_true(f->restart_usec > 0);
                assert_string_equal(state_of(f, &o), "restarting");
                json_decref(o);
                f->restart_usec = 0; /* as restart() leaves it */
        }
        f->started_usec = now_usec() - (SYSLOGFWD_RESTART_RESET + 1) * 1000000ull;
        reaped(f, EXITED(1));
        assert_int_equal(f->backoff, SYSLOGFWD_RESTART_MIN);
        assert_string_equal(f->last_exit, "status 1");
        syslogfwd_stop(f);
}

static void test_the_states_and_fields(void **state) {
        struct syslogfwd *f = fake();
        json_t *o;

        (void)state;
        assert_string_equal(state_of(NULL, &o), "stopped");
        assert_int_equal(json_integer_value(json_object_get(o, "restarts")), 0);
        assert_true(json_is_null(json_object_get(o, "last_exit")));
        assert_true(json_is_null(json_object_get(o, "last_exit_at")));
        json_decref(o);

        f->pid = 12345; /* never waited for: f->owner is not this test's child's */
        f->restarts = 3;
        assert_string_equal(state_of(f, &o), "running");
        assert_int_equal(json_integer_value(json_object_get(o, "restarts")), 3);
        assert_true(json_is_null(json_object_get(o, "last_exit")));
        json_decref(o);
        assert_int_equal(syslogfwd_restarts(f), 3);
        f->pid = 0;

        f->started_usec = now_usec();
        reaped(f, SIGNALED(SIGKILL));
        assert_string_equal(state_of(f, &o), "restarting");
        assert_string_equal(json_string_value(json_object_get(o, "last_exit")), "signal KILL");
        assert_true(json_integer_value(json_object_get(o, "last_exit_at")) > 0);
        json_decref(o);
        assert_true(syslogfwd_timeout_ms(f) >= 0);
        assert_true(syslogfwd_timeout_ms(f) <= (int)SYSLOGFWD_BACKOFF_MAX * 1000 + 1);

        /* the daemon stops: nothing is due any more */
        syslogfwd_hold(f);
        assert_string_equal(state_of(f, &o), "stopped");
        json_decref(o);
        assert_int_equal(syslogfwd_timeout_ms(f), -1);
        syslogfwd_stop(f);
}

static void test_held_before_the_exit_schedules_nothing(void **state) {
        struct syslogfwd *f = fake();

        (void)state;
        syslogfwd_hold(f);
        f->started_usec = now_usec();
        reaped(f, SIGNALED(SIGTERM));
        assert_int_equal(f->restart_usec, 0);
        assert_int_equal(syslogfwd_timeout_ms(f), -1);
        f->restart_usec = 1; /* even if one were due */
        syslogfwd_check(f);
        assert_int_equal(f->pid, 0);
        assert_int_equal(f->restarts, 0);
        syslogfwd_stop(f);
}

/* A process that did not start the forwarder (a worker forked from the
 * helper) neither reaps nor restarts it nor watches it. */
static void test_only_the_owner_acts(void **state) {
        struct syslogfwd *f = fake();

        (void)state;
        f->owner = getpid() + 1;
        f->restart_usec = 1; /* due long ago */
        assert_int_equal(syslogfwd_timeout_ms(f), -1);
        syslogfwd_check(f);
        assert_int_equal(f->pid, 0);
        assert_int_equal(f->restarts, 0);
        f->pid = 12345;
        f->pidfd = 99;
        assert_int_equal(syslogfwd_watch_fd(f), -1);
        f->pid = 0;
        f->pidfd = -1;
        syslogfwd_stop(f);
}

/* A real forwarder (forked, never woken): killed through its pidfd, its
 * exit is noticed there and reaped once, with the cause; held, it is not
 * started again, and stopping it is then only freeing. */
static void test_a_killed_forwarder_is_noticed_on_its_pidfd(void **state) {
        struct syslogfwd *f = NULL;
        struct pollfd p;
        json_t *o;
        int fd;

        (void)state;
        assert_int_equal(syslogfwd_start("/nonexistent", &f), 0);
        fd = syslogfwd_watch_fd(f);
        assert_true(fd >= 0);
        assert_string_equal(state_of(f, &o), "running");
        json_decref(o);
        assert_int_equal(syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0), 0);
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, -1), 1);
        syslogfwd_hold(f); /* so that no image of this test program is run */
        syslogfwd_check(f);
        assert_int_equal(f->pid, 0);
        assert_int_equal(syslogfwd_watch_fd(f), -1);
        assert_string_equal(state_of(f, &o), "stopped");
        assert_string_equal(json_string_value(json_object_get(o, "last_exit")), "signal KILL");
        json_decref(o);
        syslogfwd_stop(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_causes),
                cmocka_unit_test(test_backoff_doubles_to_the_cap_and_resets_after_a_long_run),
                cmocka_unit_test(test_the_states_and_fields),
                cmocka_unit_test(test_held_before_the_exit_schedules_nothing),
                cmocka_unit_test(test_only_the_owner_acts),
                cmocka_unit_test(test_a_killed_forwarder_is_noticed_on_its_pidfd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
