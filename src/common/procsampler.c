/* procsampler.c — the front's one sampler thread (see procsampler.h).
 *
 * Locks, always taken in this order:
 *  - ps.ctl serialises subscribe and unsubscribe, across the start and the
 *    join of the thread (which never takes it).
 *  - ps.run is held for one whole tick, the hooks' calls included, and by
 *    subscribe/unsubscribe while they change the hooks: so a hook is never
 *    called after it left, and the descriptor and read buffer (ps.src,
 *    ps.buf) are used by one sample at a time.
 *  - ps.lock guards the rest: stop, the hooks' list, prev/cur/n_samples.
 *    prev and cur change only under both run and lock, so a tick's hooks
 *    may read ps.cur without lock while readers read it under lock.
 *
 * /proc/stat stays open: a sample is then one pread(), where reopening
 * would cost an open() and close() every second for the daemon's life.
 */
#include "procsampler.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "util.h"

#define WAKE_OFFSET_NS (500L * 1000 * 1000) /* into each wall-clock second */
/* PROCFS_MAX_CPUS lines and a long "intr" line. */
#define STAT_MAX (4UL << 20)
/* The thread reads /proc and calls short hooks: a small stack is plenty, and
 * keeps the untouched part of 8 MiB out of the address space. */
#define THREAD_STACK (256UL * 1024)

static struct {
        pthread_mutex_t ctl, run, lock;
        pthread_cond_t wake; /* CLOCK_MONOTONIC */
        pthread_t thread;
        bool running, stop;

        procsampler_fn hooks[PROCSAMPLER_MAX_HOOKS]; /* NULL entries hold a place too */
        size_t n_hooks;

        struct procfs_source src;
        struct procfs_buf buf;

        struct proc_stat prev, cur;
        unsigned n_samples; /* saturates at 2 */
} ps = {
        .ctl = PTHREAD_MUTEX_INITIALIZER,
        .run = PTHREAD_MUTEX_INITIALIZER,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .src = {.path = "/proc/stat", .max = STAT_MAX, .fd = -1},
};

/* Reads and parses /proc/stat into cur (prev takes the old cur).  Under
 * ps.run. */
static bool sample_run_locked(void) {
        struct proc_stat s;
        const char *text;
        size_t len;

        if (procfs_source_read(&ps.src, &ps.buf, &text, &len) < 0 ||
            proc_stat_parse(text, len, &s) < 0)
                return false;
        pthread_mutex_lock(&ps.lock);
        proc_stat_done(&ps.prev);
        ps.prev = ps.cur;
        ps.cur = s;
        if (ps.n_samples < 2)
                ps.n_samples++;
        pthread_mutex_unlock(&ps.lock);
        return true;
}

/* One tick for the second t: the sample, then every hook.  Under ps.run. */
static void tick_run_locked(int64_t t) {
        procsampler_fn hooks[PROCSAMPLER_MAX_HOOKS];
        struct procsampler_tick tick = {.t = t};
        size_t n;

        tick.stat = sample_run_locked() ? &ps.cur : NULL;
        tick.usec = now_usec();
        pthread_mutex_lock(&ps.lock);
        n = ps.n_hooks;
        for (size_t i = 0; i < n; i++)
                hooks[i] = ps.hooks[i];
        pthread_mutex_unlock(&ps.lock);
        for (size_t i = 0; i < n; i++)
                if (hooks[i])
                        hooks[i](&tick);
}

/* The next wake-up: WAKE_OFFSET_NS into the next wall-clock second, at
 * least 0.1 s ahead (never twice in one second), as a CLOCK_MONOTONIC
 * deadline; and that second. */
static int64_t next_deadline(struct timespec *ret) {
        struct timespec rt, mono;
        int64_t target, wait_ns;

        clock_gettime(CLOCK_REALTIME, &rt);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        target = rt.tv_nsec < WAKE_OFFSET_NS - 100000000L ? rt.tv_sec : rt.tv_sec + 1;
        wait_ns = (target - rt.tv_sec) * 1000000000LL + WAKE_OFFSET_NS - rt.tv_nsec;
        mono.tv_sec += wait_ns / 1000000000LL;
        mono.tv_nsec += wait_ns % 1000000000LL;
        while (mono.tv_nsec >= 1000000000L) {
                mono.tv_sec++;
                mono.tv_nsec -= 1000000000L;
        }
        *ret = mono;
        return target;
}

static void *sampler_main(void *arg) {
        (void)arg;
        (void)pthread_setname_np(pthread_self(), "sampler"); /* for top -H and bench/ */
        pthread_mutex_lock(&ps.lock);
        while (!ps.stop) {
                struct timespec deadline;
                int64_t t = next_deadline(&deadline);

                while (!ps.stop &&
                       pthread_cond_timedwait(&ps.wake, &ps.lock, &deadline) != ETIMEDOUT)
                        ;
                if (ps.stop)
                        break;
                pthread_mutex_unlock(&ps.lock);
                pthread_mutex_lock(&ps.run);
                tick_run_locked(t);
                pthread_mutex_unlock(&ps.run);
                pthread_mutex_lock(&ps.lock);
        }
        pthread_mutex_unlock(&ps.lock);
        return NULL;
}

static void samples_free(void) {
        pthread_mutex_lock(&ps.lock);
        proc_stat_done(&ps.prev);
        proc_stat_done(&ps.cur);
        ps.n_samples = 0;
        pthread_mutex_unlock(&ps.lock);
        procfs_source_close(&ps.src);
        procfs_buf_free(&ps.buf);
}

/* Opens /proc/stat, takes the first sample and starts the thread.  Under
 * ps.ctl (not ps.run: the thread's first tick may wait for it). */
static int start_ctl_locked(void) {
        pthread_condattr_t cattr;
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        (void)procfs_source_open(&ps.src); /* unreadable: ticks carry no stat */
        pthread_mutex_lock(&ps.run);
        (void)sample_run_locked();
        pthread_mutex_unlock(&ps.run);

        r = -pthread_condattr_init(&cattr);
        if (r < 0)
                goto fail;
        r = -pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
        if (r >= 0)
                r = -pthread_cond_init(&ps.wake, &cattr);
        pthread_condattr_destroy(&cattr);
        if (r < 0)
                goto fail;

        r = -pthread_attr_init(&attr);
        if (r < 0) {
                pthread_cond_destroy(&ps.wake);
                goto fail;
        }
        (void)pthread_attr_setstacksize(&attr, THREAD_STACK);
        ps.stop = false;
        /* Signals are for the main thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&ps.thread, &attr, sampler_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                pthread_cond_destroy(&ps.wake);
                goto fail;
        }
        ps.running = true;
        return 0;
fail:
        samples_free();
        return r;
}

int procsampler_subscribe(procsampler_fn fn) {
        int r = 0;

        pthread_mutex_lock(&ps.ctl);
        if (ps.n_hooks >= PROCSAMPLER_MAX_HOOKS) {
                r = -E2BIG;
                goto out;
        }
        if (!ps.running) {
                r = start_ctl_locked();
                if (r < 0)
                        goto out;
        }
        pthread_mutex_lock(&ps.run);
        pthread_mutex_lock(&ps.lock);
        ps.hooks[ps.n_hooks++] = fn;
        pthread_mutex_unlock(&ps.lock);
        if (fn) {
                struct procsampler_tick tick = {
                        .t = (int64_t)time(NULL),
                        .usec = now_usec(),
                        .stat = ps.n_samples > 0 ? &ps.cur : NULL,
                        .prime = true,
                };
                fn(&tick);
        }
        pthread_mutex_unlock(&ps.run);
out:
        pthread_mutex_unlock(&ps.ctl);
        return r;
}

void procsampler_unsubscribe(procsampler_fn fn) {
        bool last = false;

        pthread_mutex_lock(&ps.ctl);
        pthread_mutex_lock(&ps.run);
        pthread_mutex_lock(&ps.lock);
        for (size_t i = 0; i < ps.n_hooks; i++) {
                if (ps.hooks[i] != fn)
                        continue;
                for (size_t k = i + 1; k < ps.n_hooks; k++)
                        ps.hooks[k - 1] = ps.hooks[k];
                ps.n_hooks--;
                last = ps.n_hooks == 0 && ps.running;
                break;
        }
        if (last) {
                ps.stop = true;
                pthread_cond_signal(&ps.wake);
        }
        pthread_mutex_unlock(&ps.lock);
        pthread_mutex_unlock(&ps.run);
        if (last) {
                pthread_join(ps.thread, NULL);
                pthread_cond_destroy(&ps.wake);
                ps.running = false;
                samples_free();
        }
        pthread_mutex_unlock(&ps.ctl);
}

int procsampler_cpu(procsampler_stat_fn fn, void *userdata) {
        int r = -ENODATA;

        pthread_mutex_lock(&ps.lock);
        if (ps.n_samples > 0) {
                fn(ps.n_samples >= 2 ? &ps.prev : NULL, &ps.cur, userdata);
                r = 0;
        }
        pthread_mutex_unlock(&ps.lock);
        return r;
}
