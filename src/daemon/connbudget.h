/* connbudget.h — who may hold a connection while it has not authenticated,
 * and how long anyone may take to send a request's headers.
 *
 * Every accepted connection is an entry, embedded in the HTTP layer's
 * connection context, on one list in accept order under one lock.  Budgets
 * (limits:* settings):
 *   max_unauthenticated_connections   connections that have not
 *       authenticated yet, all sources together; authenticated ones never
 *       count here (they count in max_connections only);
 *   max_unauthenticated_per_source    the same, from one address;
 *   header_timeout                    seconds from the accept (a connection
 *       that has not authenticated: also from its previous request's end)
 *       or, for an authenticated one, from its request line, to the end of
 *       the headers — for a connection that has not authenticated, to the
 *       end of the whole request, body included.
 * Who loses when a budget is full:
 *   - a source at its own cap: the new connection (closed at once).  A slow
 *     source then only waits for its own connections to finish or miss
 *     their deadline; it never costs another source a connection.
 *   - all sources at the global cap: the oldest connection still waiting
 *     for its request is cut to make room.  A connection being served (its
 *     request in: a login answering, say) is never cut; if every one is, the
 *     new connection is refused.  So slow clients cannot keep a new client
 *     out, whatever their number: each arrival displaces the slowest of them,
 *     and a client that sends its request promptly is served.
 * A cut is shutdown(2) on the descriptor: libmicrohttpd then sees the end of
 * the stream and closes the connection itself, and the entry leaves the list
 * only when it reports the close (before it closes the descriptor), so the
 * descriptor cut is always the one of this connection. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONNBUDGET_SOURCE_MAX 48

struct connbudget_entry {
        struct connbudget_entry *prev, *next;
        int fd;
        char source[CONNBUDGET_SOURCE_MAX]; /* the peer's address, or "uid=N" */
        bool listed;
        bool authenticated;
        bool cut;               /* shut down by us: counted nowhere any more */
        uint64_t deadline_usec; /* the headers are due by then; 0: none armed */
        uint64_t timeout_usec;  /* header_timeout when the connection came */
};

struct connbudget_limits {
        unsigned unauthenticated; /* all sources */
        unsigned per_source;
        unsigned header_timeout; /* seconds */
};

struct sockaddr;

/* Whose per-source budget a peer address counts against: an IPv4 address
 * (IPv4-mapped ones included), or an IPv6 peer's /64 — one host is routinely
 * given a whole /64, so a cap per IPv6 address would be none.  Leaves key
 * empty for another family. */
void connbudget_source_key(const struct sockaddr *sa, char *key, size_t size);

/* Lists a new connection.  An authenticated one (a local peer with a role)
 * is only listed; otherwise the budgets apply: -EMFILE when this source is
 * at its cap or every unauthenticated connection is being served (the entry
 * is listed, cut, and the caller should expect the close), 0 when admitted,
 * possibly after cutting the oldest waiting connection of another. */
int connbudget_admit(struct connbudget_entry *e, int fd, const char *source, bool authenticated,
                     const struct connbudget_limits *lim, uint64_t now);

/* The connection authenticated: it leaves the unauthenticated budgets. */
void connbudget_authenticated(struct connbudget_entry *e);

/* A request line arrived: arms the deadline unless it already runs.  The
 * header_timeout is the one in force when the connection was accepted, like
 * libmicrohttpd's idle timeout. */
void connbudget_request_started(struct connbudget_entry *e, uint64_t now);
/* The headers are in: the deadline is met for an authenticated
 * connection; a connection that has not authenticated must send its body
 * within the same deadline (connbudget_request_received). */
void connbudget_headers_done(struct connbudget_entry *e);
/* The whole request (headers and body) is in and being answered: no
 * deadline, and never displaced, until the next request. */
void connbudget_request_received(struct connbudget_entry *e);
/* A request ended: a connection that has not authenticated must send the
 * next one's headers within the deadline too (it may not idle on a slot). */
void connbudget_request_done(struct connbudget_entry *e, uint64_t now);

/* The connection is closing; safe on an entry never listed. */
void connbudget_remove(struct connbudget_entry *e);

/* Cuts every connection past its deadline; returns how many. */
unsigned connbudget_expire(uint64_t now);

/* Connections listed under key now, authenticated or not (not those cut). */
unsigned connbudget_count(const char *key);

/* Connections counted in the unauthenticated budget now. */
unsigned connbudget_unauthenticated(void);

/* A thread that calls connbudget_expire() every second, while the HTTP
 * servers run. */
int connbudget_start_reaper(void);
void connbudget_stop_reaper(void);
