/* helper.h — the privileged helper: the only code that changes the system,
 * reads secrets or writes the audit log.
 *
 * It runs as root in the daemon's parent process, single-threaded, and
 * serves the front over a few socketpairs ("channels", all of the same
 * trust) with the frames of proto.h, one request at a time per channel.
 * An operation that may take long and only reads (marked slow in the
 * table) runs in a forked worker that answers on the request's channel and
 * exits, so the helper's own loop answers the other channels meanwhile;
 * the worker never touches the store or the throttle table, so no state
 * that changes is forked into a copy that diverges.  Requests
 * form a closed set (the table of helperops.h); each names the session it acts
 * for, and the helper itself looks the session up, checks its expiry and
 * that its role is high enough for the operation — it trusts nothing the
 * front says about who is asking.  Anything unknown or malformed is refused
 * and logged. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>

#include "helperops.h"

struct helper;

/* Opens the store under state_dir and imports the bootstrap token from
 * bootstrap_path (if that file exists). */
int helper_new(const char *state_dir, const char *bootstrap_path, struct helper **ret, char *err,
               size_t err_len);
void helper_free(struct helper *h);

/* The path of the local unix socket whose accepted connections may become
 * peer sessions.  Without it, peer_session refuses everything. */
int helper_set_peer_socket(struct helper *h, const char *path);

/* A TCP listening socket of the daemon's: logins are accepted only over
 * connections accepted on one of these (loginsrc.h). */
int helper_add_listener(struct helper *h, int fd);

/* The uid the network front runs as: a login over a connection the front
 * made to itself is refused (loginsrc.h). */
void helper_set_front_uid(struct helper *h, uid_t uid);

/* Handles one request; fd is a passed descriptor or -1 (always consumed).
 * Returns the answer frame, or NULL under helper_serve when a worker took
 * the request over and answers it itself. */
json_t *helper_dispatch(struct helper *h, json_t *req, int fd);

/* At most this many channels; a worker per channel at most. */
#define HELPER_CHANNELS_MAX 16
/* A worker still running after this long is killed and its request
 * answered 503. */
#define HELPER_WORKER_TIMEOUT_USEC (60u * 1000u * 1000u)
/* … and a streaming command's (module.h): after this long. */
#define HELPER_STREAM_TIMEOUT_USEC ((uint64_t)COMMAND_STREAM_SECONDS_MAX * 1000000u)

/* Serves requests on the n channels socks until the front hangs up on one
 * (returns 0) or breaks the framing on any (returns -EBADMSG / -E2BIG: the
 * caller must drop this front); either way the workers still running are
 * killed first.  Returns -EINTR when a signal is pending on sigfd (which
 * the caller handles before calling again with the same channels: the
 * workers keep running meanwhile). */
int helper_serve(struct helper *h, const int *socks, size_t n, int sigfd);

/* Housekeeping: purges expired sessions. */
void helper_tick(struct helper *h);

/* Gives the helper the audit forwarder (syslogfwd.h, started before
 * helper_new): every record appended from now on wakes it, and
 * helper_free stops it.  Tests that speak to the helper directly have
 * none. */
struct syslogfwd;
void helper_set_forwarder(struct helper *h, struct syslogfwd *f);

/* The daemon is stopping: the audit forwarder, should it exit now, is not
 * started again (helper_free stops it). */
void helper_stopping(struct helper *h);

/* A front is starting: the local connections of any earlier one are gone,
 * and so are their sessions. */
int helper_front_started(struct helper *h);
/* Whether the helper has a handler for op (every row of helper_ops,
 * helperops.h, must have one; the unit tests check it). */
bool helper_op_handled(enum helper_op op);
