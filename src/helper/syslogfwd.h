/* syslogfwd.h — the audit forwarder: every audit record also goes to each
 * syslog target of the setting audit:syslog_targets (syslog5424.h).
 *
 * It runs as a child process of the helper (root, like the helper: a
 * compromised front can neither suppress nor forge the central copy, and
 * never sees the targets' traffic), with its own connection to steward.db.
 * A process rather than a thread because the helper forks workers, and a
 * fork taken while a thread holds a lock (SQLite's, the allocator's) would
 * leave the worker stuck on it.  It is forked before the helper opens the
 * store: SQLite keeps per-process state about open files (their locks and
 * shared memory) that a child forked after an open inherits in a state it
 * must not use.
 *
 * A forwarder that dies (a crash, the OOM killer, kill -9) is started again
 * by the helper, which watches its pidfd: the exit is logged once with its
 * cause, and the new one starts after a back-off (SYSLOGFWD_RESTART_MIN
 * seconds, doubling up to SYSLOGFWD_BACKOFF_MAX; back to the minimum once one
 * has run SYSLOGFWD_RESTART_RESET seconds) so one that dies at once does not
 * spin.  It is not forked from the running helper: its store is open by then
 * (above).  The helper forks and at once executes a fresh image of this
 * program, `stewardd --audit-forwarder …` (syslogfwd_image_main; argv array,
 * empty environment but for JOURNAL_STREAM, the wake-up pipe as fd 3 and
 * nothing else beyond stdio), which carries on as the first one does: same
 * name, same dropped capabilities, its own connection, and the cursors in the
 * store, so it sends every record after the last one sent.  While the daemon
 * stops (syslogfwd_hold) nothing is started again.
 *
 * Nothing is lost: per target, the id of the last record delivered is
 * persisted (table audit_forward) and the forwarder sends every record after
 * it, in order, in batches of at most SYSLOGFWD_BATCH per wake-up; a target
 * that is down is retried with a doubling back-off capped at
 * SYSLOGFWD_BACKOFF_MAX seconds, so an outage or a restart delays records,
 * never drops them.  The targets are served side by side, each on its own
 * connection and deadline, so a slow one delays no other.  A new target
 * starts from the first record; the local
 * target catches up at one batch a second (journald's rate limit).  Delivery
 * is at least once: over TCP and TLS (RFC 5425: the certificate must
 * chain to audit:syslog_ca_file or the system's authorities and name the
 * target's address) the cursor moves only once the receiver's
 * kernel has acknowledged every byte of the batch (SIOCOUTQ is 0), so a
 * record whose acknowledgement was not seen is sent again after a
 * reconnection; receivers may de-duplicate by the id parameter.  UDP and
 * local targets move the cursor once the datagram is sent.
 *
 * The helper wakes the forwarder (a byte on a pipe) after every record it
 * appends; the forwarder also looks again every few seconds, and re-reads
 * the configuration file when it changed, so a settings change takes effect
 * without a restart.  Closing the pipe stops it; the helper waits a moment
 * and then kills it, so the daemon's stop never waits on a dead target
 * (connect and send time out after SYSLOGFWD_IO_TIMEOUT_MS anyway). */
#pragma once

#include <jansson.h>
#include <sys/types.h>

#include "store.h"

#define SYSLOGFWD_BATCH          100
#define SYSLOGFWD_BACKOFF_MAX    60 /* seconds */
#define SYSLOGFWD_IO_TIMEOUT_MS  5000
#define SYSLOGFWD_LOCAL_SOCKET   "/dev/log"
#define SYSLOGFWD_RESTART_MIN    1   /* seconds before the first restart */
#define SYSLOGFWD_RESTART_RESET  120 /* seconds of running that reset the back-off */

struct syslogfwd;

/* Forks the forwarder over the state directory's store; call it before
 * this process opens the store.  The forwarder opens its own connection at
 * the first syslogfwd_notify, which must come after the store is open here
 * (a new database is created and migrated by one process). */
int syslogfwd_start(const char *state_dir, struct syslogfwd **ret);

/* Wakes the forwarder (never blocks); f may be NULL. */
void syslogfwd_notify(struct syslogfwd *f);

/* Stops the forwarder and frees f (NULL: nothing). */
void syslogfwd_stop(struct syslogfwd *f);

/* The restarts, for the helper's poll loop (f may be NULL; only the
 * process that started the forwarder reaps or restarts it): the pidfd that
 * becomes readable when the forwarder exits (-1: none), how long until a
 * restart is due (ms; -1: none pending), and the check that reaps a dead
 * forwarder (logged once, with its cause) and starts a new one once due. */
int syslogfwd_watch_fd(const struct syslogfwd *f);
int syslogfwd_timeout_ms(const struct syslogfwd *f);
void syslogfwd_check(struct syslogfwd *f);

/* The daemon is stopping: a forwarder that exits is not started again. */
void syslogfwd_hold(struct syslogfwd *f);

/* The forwarder process for the API: {"state": "running|restarting|stopped",
 * "restarts", "last_exit": "signal KILL"|"status 1"|null, "last_exit_at":
 * UNIX|null} (f may be NULL: stopped); and its restarts for the metrics. */
json_t *syslogfwd_process(const struct syslogfwd *f);
unsigned syslogfwd_restarts(const struct syslogfwd *f);

/* `stewardd --audit-forwarder STATE_DIR CONFIG HELPER_PID LOG_TARGET LEVEL`: a
 * restarted forwarder in its fresh image (the wake-up pipe is fd 3); LEVEL
 * is the helper's --log-level override, a level's name or "-" for none.  Does
 * not return when the arguments hold; 2 when they do not. */
int syslogfwd_image_main(int argc, char **argv);

/* The forwarding state for the API: {"targets": [{"target", "last_id",
 * "backlog", "connected", "last_error", "updated"}], "head": N} for the
 * configured targets. */
int syslogfwd_status(struct store *s, json_t **ret);
