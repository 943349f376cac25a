/* procsampler.h — the front's one sampler thread.
 *
 * Once a second, half-way into each wall-clock second (so that jitter never
 * puts two samples in one second nor skips one, and samples of different
 * daemons line up), the thread reads /proc/stat through the procfs reader,
 * keeps the last two parsed samples for whoever wants CPU utilisation (the
 * system module), and calls the hooks that subscribed with the tick (the
 * metrics history, which reads its other sources and feeds the event
 * publisher through its observer).  No module reads /proc/stat on a timer of
 * its own, and no module names another: a module subscribes from its own
 * init() and leaves from its done().
 *
 * Invariants:
 *  - The thread runs while at least one subscription exists: the first
 *    subscribe starts it (after a first sample, so the first reader one
 *    second later has a utilisation to show), the last unsubscribe joins it.
 *  - Hooks run on the sampler thread, one tick at a time, in subscription
 *    order; they must not block (a helper call, a lock held across I/O) and
 *    must not call procsampler_*().  A hook that has been unsubscribed is
 *    never called again once procsampler_unsubscribe() returned.
 *  - subscribe and unsubscribe are serialised among themselves; the readers
 *    (procsampler_cpu) may run on any thread.
 *  - Functions return >= 0 or -errno; none of them logs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "procfs.h"

#define PROCSAMPLER_MAX_HOOKS 8

struct procsampler_tick {
        int64_t t;     /* the unix second this tick stands for */
        uint64_t usec; /* monotonic time of the sample (now_usec()) */
        /* /proc/stat of this tick; NULL when it could not be read or
         * parsed.  Valid during the call only. */
        const struct proc_stat *stat;
        /* The call made once at subscription, in the subscriber's thread:
         * for a hook that needs a first set of counters to take rates
         * from.  t is then the current second and stat the last sample. */
        bool prime;
};

typedef void (*procsampler_fn)(const struct procsampler_tick *tick);

/* Adds a hook (NULL: none, only keeps the sampler running for a reader)
 * and starts the thread if it is the first; a hook is called once with
 * prime set before this returns.  -E2BIG past PROCSAMPLER_MAX_HOOKS.  An
 * unreadable /proc/stat is no error: ticks then carry no stat. */
int procsampler_subscribe(procsampler_fn fn);
/* Removes one subscription of fn; the last one stops and joins the thread
 * and frees the samples. */
void procsampler_unsubscribe(procsampler_fn fn);

/* Calls fn with the last two samples of /proc/stat (prev NULL until there
 * are two; they are a second apart) under the sampler's lock: fn must be
 * quick and must copy what it keeps.  -ENODATA (fn not called) before the
 * first sample or when the sampler does not run. */
typedef void (*procsampler_stat_fn)(const struct proc_stat *prev, const struct proc_stat *cur,
                                    void *userdata);
int procsampler_cpu(procsampler_stat_fn fn, void *userdata);
