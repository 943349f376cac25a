/* workpool.h — a few threads for requests whose handler waits long.
 *
 * libmicrohttpd's threads each serve many connections, so a handler that
 * waits seconds for the helper stalls every connection of its thread.  The
 * HTTP layer suspends such a request's connection, hands the request to
 * this pool and resumes the connection when the answer is ready (http.c).
 * The pool holds at most max_jobs requests, running and queued; past that a
 * submission is refused at once (the caller answers 503) instead of queuing
 * without bound. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define WORKPOOL_THREADS_MAX 16

/* Starts `threads` threads (1 to WORKPOOL_THREADS_MAX) taking at most
 * max_jobs jobs at a time. */
int workpool_start(unsigned threads, size_t max_jobs);

/* A job: stopping is true for a job still queued when the pool was told to
 * stop, which should then finish at once (answer 503) rather than work. */
typedef void (*workpool_fn)(void *arg, bool stopping);

/* Queues fn(arg) for a pool thread.  -EBUSY when max_jobs are in the pool,
 * -ESHUTDOWN once stopping (or never started): fn is then not called. */
int workpool_submit(workpool_fn fn, void *arg);

/* Jobs in the pool now (running and queued), for tests of the bound. */
size_t workpool_jobs(void);

/* Refuses new jobs, calls those queued with stopping set, waits for those
 * running, and joins the threads. */
void workpool_stop(void);
