/* events.h — GET /api/v1/events: Server-Sent Events for the console and any
 * HTTP client (docs/api.md, "Events").
 *
 * One hub in the front: every event is formatted once
 * ("id: N\nevent: TYPE\ndata: JSON\n\n"), reference-counted, kept in a ring of
 * the last EVENTS_RING events (for Last-Event-ID) and queued by pointer to
 * every subscriber that asked for its type.  The hub knows no module: the
 * types are what the modules declare (module.h, event_def_t; registry.h
 * gives each its bit), and events come in through the hooks the modules
 * give (struct event_hub): a module pushes from its own thread (the metrics
 * module's "sample", one per sampler tick) or is polled by the hub's thread
 * (the ports module's "ports").  A type may be filtered per stream (the
 * journal's "logs": each stream its unit, priority and cursor): the module
 * validates a stream's parameters when it opens and publishes to the
 * filter id it gave, and such events skip the ring.  The hub itself reads the audit records
 * ("audit", declared by the stewardd module): front_poll says whether there
 * are new ones, audit_since reads them for a subscriber's session, so
 * records made by any client reach every stream; an audit record of a module
 * tells that module's poll that something changed.
 * The poll thread also keeps the daemon's counters for GET /metrics
 * (steward_sessions, steward_audit_records_total, steward_logins_total),
 * writes ": keepalive" to streams silent for EVENTS_KEEPALIVE_SECONDS and
 * ends streams whose session expired or was revoked.
 *
 * Subscribers cost no thread: a stream with nothing to send suspends its
 * connection (libmicrohttpd suspend/resume) and the hub resumes it when it
 * queues something.  Each queue holds at most EVENTS_QUEUE events; a
 * subscriber that lets it overflow is dropped (one log line) and its events
 * released at once, so memory is bounded by the ring plus the queues.
 *
 * Ids start at the daemon's start time in milliseconds, so they keep
 * growing across restarts and an id from before a restart is older than the
 * ring (the client gets "reset").
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "module.h"

#define EVENTS_RING               1024
#define EVENTS_QUEUE              256
#define EVENTS_KEEPALIVE_SECONDS  15
#define EVENTS_SESSION_CHECK_SECS 5
#define EVENTS_SNDBUF             (32 * 1024) /* kernel buffer per stream */
/* Streams of a type filtered per stream (a module's subscribe hook, such as
 * `logs`, whose followers are few and shared) one user may hold at once. */
#define EVENTS_FILTERED_PER_USER 8

/* Starts the hub and its poll thread; attaches the modules' event hooks. */
int events_start(void);
/* Ends every stream (they finish with the events they have) and waits a
 * moment for them to go; call before stopping the HTTP server. */
void events_shutdown(void);
/* Stops the poll thread and frees the ring. */
void events_stop(void);

struct events_who {
        const char *secret; /* the session's secret, to re-check it */
        int64_t session_id;
        int role;
        const char *user;
        const char *source;
};

struct events_sub;
struct MHD_Connection;

/* A new subscriber for types `mask`, resuming after last_id when
 * `resume`.  params: {"TYPE": {…}} for the types in mask filtered per
 * stream (event_def_t.subscribe), whose modules get them; borrowed, may be
 * NULL.  -EBUSY with a 503 when max_subscribers are open; what a module's
 * subscribe() answers (a 400 naming the parameter) when it refuses. */
int events_subscribe(unsigned mask, bool resume, uint64_t last_id, json_t *params,
                     const struct events_who *who, unsigned max_subscribers,
                     struct events_sub **ret, struct module_error *e);
/* Binds the subscriber to its connection (before the response is queued). */
void events_attach(struct events_sub *s, struct MHD_Connection *c);
/* libmicrohttpd's content reader and its free callback for the stream. */
ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max);
void events_release(void *cls);

/* Ends the streams of a session (logout, revocation). */
void events_forget_session(int64_t session_id);

/* Wakes the poll thread now (after a request that may have changed
 * something: a login, a change), so counters and audit events follow at
 * once rather than at the next poll. */
void events_poke(void);

/* Open streams now (for GET /metrics and the stewardd status). */
unsigned events_subscribers(void);
