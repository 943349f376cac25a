/* workpool.c — see workpool.h.
 *
 * One mutex, two condition variables, and a ring of max_jobs slots: a job
 * is admitted only if the count of jobs running or queued is under
 * max_jobs, so the ring never overflows and a submission never waits.  A
 * thread exits only when told to stop and the ring is empty, so every
 * admitted job is called (each resumes a suspended connection, which
 * libmicrohttpd needs before it can stop); those still queued then are
 * called with stopping set, so that stopping does not wait for their work.
 */
#include "workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

struct job {
        workpool_fn fn;
        void *arg;
};

static struct {
        pthread_mutex_t lock;
        pthread_cond_t work;
        pthread_t threads[WORKPOOL_THREADS_MAX];
        size_t n_threads;
        struct job *ring;
        size_t cap, head, queued;
        size_t jobs; /* queued + running */
        bool running;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static void *worker(void *unused) {
        (void)unused;
        pthread_mutex_lock(&pool.lock);
        for (;;) {
                struct job j;
                bool stopping;

                while (pool.queued == 0 && pool.running)
                        pthread_cond_wait(&pool.work, &pool.lock);
                if (pool.queued == 0)
                        break;
                j = pool.ring[pool.head];
                pool.head = (pool.head + 1) % pool.cap;
                pool.queued--;
                stopping = !pool.running;
                pthread_mutex_unlock(&pool.lock);
                j.fn(j.arg, stopping);
                pthread_mutex_lock(&pool.lock);
                pool.jobs--;
        }
        pthread_mutex_unlock(&pool.lock);
        return NULL;
}

int workpool_start(unsigned threads, size_t max_jobs) {
        int r = 0;

        if (threads < 1 || threads > WORKPOOL_THREADS_MAX || max_jobs < 1)
                return -EINVAL;
        pthread_mutex_lock(&pool.lock);
        if (pool.running || pool.n_threads) {
                pthread_mutex_unlock(&pool.lock);
                return -EALREADY;
        }
        pool.ring = calloc(max_jobs, sizeof *pool.ring);
        if (!pool.ring) {
                pthread_mutex_unlock(&pool.lock);
                return -ENOMEM;
        }
        pool.cap = max_jobs;
        pool.head = pool.queued = pool.jobs = 0;
        pool.running = true;
        pthread_mutex_unlock(&pool.lock);
        for (unsigned i = 0; i < threads; i++) {
                r = -pthread_create(&pool.threads[i], NULL, worker, NULL);
                if (r < 0)
                        break;
                pool.n_threads++;
        }
        if (r < 0) {
                log_error_errno(r, "cannot start the request pool");
                workpool_stop();
        }
        return r;
}

int workpool_submit(workpool_fn fn, void *arg) {
        int r = 0;

        pthread_mutex_lock(&pool.lock);
        if (!pool.running)
                r = -ESHUTDOWN;
        else if (pool.jobs >= pool.cap)
                r = -EBUSY;
        else {
                pool.ring[(pool.head + pool.queued) % pool.cap] = (struct job){fn, arg};
                pool.queued++;
                pool.jobs++;
                pthread_cond_signal(&pool.work);
        }
        pthread_mutex_unlock(&pool.lock);
        return r;
}

size_t workpool_jobs(void) {
        size_t n;

        pthread_mutex_lock(&pool.lock);
        n = pool.jobs;
        pthread_mutex_unlock(&pool.lock);
        return n;
}

void workpool_stop(void) {
        pthread_mutex_lock(&pool.lock);
        pool.running = false;
        pthread_cond_broadcast(&pool.work);
        pthread_mutex_unlock(&pool.lock);
        for (size_t i = 0; i < pool.n_threads; i++)
                pthread_join(pool.threads[i], NULL);
        pthread_mutex_lock(&pool.lock);
        pool.n_threads = 0;
        free(pool.ring);
        pool.ring = NULL;
        pool.cap = 0;
        pthread_mutex_unlock(&pool.lock);
}
