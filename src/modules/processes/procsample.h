/* procsample.h — CPU per process over the sampler's interval, in the front.
 *
 * A hook on the kit's procsampler (procsampler.h) reads, once a tick, the
 * CPU time of every process (/proc/PID/stat, or schedstat for a process of
 * one thread between its full reads: procsample.c), while it is wanted: a list or
 * show was asked in the last PROCSAMPLE_WANTED_USEC, or a stream subscribes
 * to the `processes` event.  Otherwise the hook does nothing and keeps
 * nothing.  It keeps per pid (pid, start_ticks, cpu ticks, sample time) and
 * the percentage of one CPU over the last interval.
 *
 * Descriptors of /proc/PID/stat (and schedstat) stay open between ticks (a
 * pread makes the kernel print afresh), at most procsample's cap (a quarter
 * of RLIMIT_NOFILE, the HTTP layer keeping half for connections, and
 * PROCSAMPLE_FDS_MAX); processes past it are opened and closed each tick.  An fd names its process, not the pid: a reused pid
 * fails to read (ESRCH) and is opened anew, and start_ticks must match.
 *
 * Thread-safety: the tick runs on the sampler's thread; the lookups on any
 * thread, under the module's one lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "module.h"

#define PROCSAMPLE_WANTED_USEC (60ull * 1000 * 1000)
#define PROCSAMPLE_FDS_MAX     16384u

/* Subscribes the hook (from the module's init) and leaves (done). */
int procsample_start(void);
void procsample_stop(void);
/* The event hub (events_attach); NULL detaches. */
void procsample_attach(const struct event_hub *hub);

/* A request wants CPU figures: keeps the sampler going for another minute. */
void procsample_touch(void);

/* The percentage of one CPU that process (pid, start_ticks) used over the
 * last interval: 0 with *ret; -ENODATA when there is no fresh sample of it
 * (the sampler was idle, or the process is newer than the last tick). */
int procsample_cpu(int pid, uint64_t start_ticks, double *ret);
/* The sampler's interval when its figures are fresh, else 0. */
unsigned procsample_window(void);

/* The `processes` event's data now ({time, interval_seconds, total, by_cpu,
 * by_memory}), for the route that shows it without a stream; -ENODATA when
 * the sampler has not taken two samples yet.  item_json builds one item. */
typedef json_t *(*procsample_item_fn)(int pid, double cpu_percent);
void procsample_set_item_fn(procsample_item_fn fn);
int procsample_top(json_t **ret);
