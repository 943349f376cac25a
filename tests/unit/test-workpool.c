/* test-workpool.c — the pool for slow requests: a job past the bound is
 * refused at once (never queued without bound), every admitted job is
 * called, those still queued when the pool stops with stopping set (so they
 * can answer at once), and nothing is taken after.
 *
 * The .c is included: the pool is part of the daemon, not of a library. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/workpool.c"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static int ran, cancelled, started;

/* A job that waits until the gate opens, then counts itself; one called
 * with stopping set counts itself as cancelled at once. */
static void gated(void *arg, bool stopping) {
        (void)arg;
        pthread_mutex_lock(&gate_lock);
        if (stopping)
                cancelled++;
        else {
                started++;
                pthread_cond_broadcast(&gate_cond);
                while (!gate_open)
                        pthread_cond_wait(&gate_cond, &gate_lock);
                ran++;
        }
        pthread_mutex_unlock(&gate_lock);
}

static void open_gate(void) {
        pthread_mutex_lock(&gate_lock);
        gate_open = true;
        pthread_cond_broadcast(&gate_cond);
        pthread_mutex_unlock(&gate_lock);
}

static void test_bound_and_drain(void **state) {
        (void)state;
        gate_open = false;
        ran = cancelled = 0;
        assert_int_equal(workpool_start(2, 5), 0);
        /* Two run (blocked at the gate), three wait: five in all. */
        for (int i = 0; i < 5; i++)
                assert_int_equal(workpool_submit(gated, NULL), 0);
        assert_int_equal(workpool_jobs(), 5);
        assert_int_equal(workpool_submit(gated, NULL), -EBUSY);
        open_gate();
        /* Stopping lets what was admitted finish; every job is called. */
        workpool_stop();
        assert_int_equal(ran + cancelled, 5);
        assert_int_equal(workpool_jobs(), 0);
        assert_int_equal(workpool_submit(gated, NULL), -ESHUTDOWN);
}

/* Jobs still queued when the pool stops are called with stopping set,
 * while those already running finish their work. */
static void *stop_pool(void *unused) {
        (void)unused;
        workpool_stop();
        return NULL;
}

static void test_queued_jobs_are_cancelled_at_stop(void **state) {
        pthread_t t;

        (void)state;
        gate_open = false;
        ran = cancelled = started = 0;
        assert_int_equal(workpool_start(1, 4), 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(workpool_submit(gated, NULL), 0);
        pthread_mutex_lock(&gate_lock);
        while (started == 0)
                pthread_cond_wait(&gate_cond, &gate_lock);
        pthread_mutex_unlock(&gate_lock);
        assert_int_equal(pthread_create(&t, NULL, stop_pool, NULL), 0);
        /* The pool refuses new jobs once stopping: then the queued ones are
         * cancelled by the time the running one is let go. */
        while (workpool_submit(gated, NULL) != -ESHUTDOWN)
                ;
        open_gate();
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(ran, 1);
        assert_int_equal(cancelled, 3);
}

static void test_restart_and_limits(void **state) {
        (void)state;
        assert_int_equal(workpool_start(0, 4), -EINVAL);
        assert_int_equal(workpool_start(WORKPOOL_THREADS_MAX + 1, 4), -EINVAL);
        assert_int_equal(workpool_start(1, 0), -EINVAL);
        assert_int_equal(workpool_start(1, 1), 0);
        assert_int_equal(workpool_start(1, 1), -EALREADY);
        gate_open = true;
        ran = cancelled = 0;
        assert_int_equal(workpool_submit(gated, NULL), 0);
        workpool_stop();
        assert_int_equal(ran + cancelled, 1);
        workpool_stop(); /* twice is harmless */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bound_and_drain),
                cmocka_unit_test(test_queued_jobs_are_cancelled_at_stop),
                cmocka_unit_test(test_restart_and_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
