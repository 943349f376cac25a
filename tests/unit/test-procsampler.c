/* test-procsampler.c — the front's one sampler thread (common/procsampler.h):
 * a hook is primed at once in the subscriber's thread, then called on the
 * sampler thread with /proc/stat parsed; the last two samples are there for
 * readers; an unsubscribed hook is never called again; the thread stops
 * with the last subscription and starts again with the next.
 *
 * Waiting for a tick waits for an event with a generous bound (the machine
 * may be busy), never asserts how long it took.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "procsampler.h"
#include "util.h"

static struct {
        pthread_mutex_t lock;
        unsigned primes, ticks;
        bool prime_had_stat, tick_had_stat, on_other_thread, out_of_order;
        int64_t last_t;
        pthread_t subscriber;
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void hook(const struct procsampler_tick *tick) {
        pthread_mutex_lock(&seen.lock);
        if (tick->prime) {
                seen.primes++;
                seen.prime_had_stat = tick->stat != NULL;
        } else {
                seen.ticks++;
                seen.tick_had_stat = tick->stat && tick->stat->n_cpus > 0;
                seen.on_other_thread = !pthread_equal(pthread_self(), seen.subscriber);
                /* Ticks stand for strictly increasing seconds (checked
                 * on the test's thread: cmocka asserts only there). */
                if (tick->t <= seen.last_t)
                        seen.out_of_order = true;
                seen.last_t = tick->t;
        }
        pthread_mutex_unlock(&seen.lock);
}

static void other_hook(const struct procsampler_tick *tick) {
        (void)tick;
}

static unsigned ticks_now(void) {
        unsigned n;

        pthread_mutex_lock(&seen.lock);
        n = seen.ticks;
        pthread_mutex_unlock(&seen.lock);
        return n;
}

/* Waits (up to 30 s) until at least n ticks were seen. */
static bool wait_ticks(unsigned n) {
        for (int i = 0; i < 3000; i++) {
                if (ticks_now() >= n)
                        return true;
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return false;
}

struct pair {
        bool had_prev;
        size_t n_cpus;
};

static void read_pair(const struct proc_stat *prev, const struct proc_stat *cur, void *userdata) {
        struct pair *p = userdata;

        p->had_prev = prev != NULL;
        p->n_cpus = cur->n_cpus;
}

static void test_hook_and_readers(void **state) {
        struct pair p = {};
        unsigned after;

        (void)state;
        assert_int_equal(procsampler_cpu(read_pair, &p), -ENODATA); /* not running */

        seen.subscriber = pthread_self();
        assert_int_equal(procsampler_subscribe(hook), 0);
        /* Primed before subscribe returned, with the first sample. */
        assert_int_equal(seen.primes, 1);
        assert_true(seen.prime_had_stat);
        assert_int_equal(procsampler_cpu(read_pair, &p), 0);
        assert_true(p.n_cpus > 0);

        assert_true(wait_ticks(2));
        assert_true(seen.tick_had_stat);
        assert_true(seen.on_other_thread);
        assert_false(seen.out_of_order);
        assert_int_equal(procsampler_cpu(read_pair, &p), 0);
        assert_true(p.had_prev);

        procsampler_unsubscribe(hook);
        after = ticks_now();
        /* The thread is gone with the last subscription. */
        assert_int_equal(procsampler_cpu(read_pair, &p), -ENODATA);
        sleep(2);
        assert_int_equal(ticks_now(), after);
        assert_int_equal(seen.primes, 1);
}

static void test_subscriptions(void **state) {
        unsigned before;

        (void)state;
        /* A reader's subscription without a hook keeps the sampler going. */
        assert_int_equal(procsampler_subscribe(NULL), 0);
        assert_int_equal(procsampler_subscribe(hook), 0);
        before = ticks_now();
        assert_true(wait_ticks(before + 1));
        procsampler_unsubscribe(hook);
        before = ticks_now();
        struct pair p = {};
        assert_int_equal(procsampler_cpu(read_pair, &p), 0); /* still running */

        /* Past the limit: refused, and the others stay. */
        for (size_t i = 1; i < PROCSAMPLER_MAX_HOOKS; i++)
                assert_int_equal(procsampler_subscribe(other_hook), 0);
        assert_int_equal(procsampler_subscribe(other_hook), -E2BIG);
        for (size_t i = 1; i < PROCSAMPLER_MAX_HOOKS; i++)
                procsampler_unsubscribe(other_hook);
        /* Leaving twice, or a hook never subscribed, changes nothing. */
        procsampler_unsubscribe(hook);
        assert_int_equal(procsampler_cpu(read_pair, &p), 0);
        procsampler_unsubscribe(NULL);
        assert_int_equal(procsampler_cpu(read_pair, &p), -ENODATA);
        assert_int_equal(ticks_now(), before);

        /* And it starts again. */
        assert_int_equal(procsampler_subscribe(hook), 0);
        assert_true(wait_ticks(before + 1));
        procsampler_unsubscribe(hook);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hook_and_readers),
                cmocka_unit_test(test_subscriptions),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
