/* log.h — the daemon's log.  One owner per message: library code returns
 * errors, the caller logs once with the cause.
 *
 * Where a line goes is decided once, by log_open:
 *   journal  when stderr is the journal's stream (systemd sets JOURNAL_STREAM
 *            to its st_dev:st_ino for a service), or when the journal's
 *            socket exists and stewardd is not in the foreground: each line is
 *            one journal entry (sd_journal_sendv) with MESSAGE, PRIORITY,
 *            SYSLOG_IDENTIFIER=stewardd and the STEWARD_* fields below;
 *   stderr   with --foreground and no journal behind stderr: one line,
 *            "TIME stewardd[LEVEL]: MESSAGE";
 *   syslog   otherwise (no journal on this machine).
 * The level can be changed at run time (the stewardd:log_level setting).
 *
 * Structured fields: callers pass what they know as a struct log_fields and
 * never format "FIELD=value" strings themselves.  Every value (and the
 * message) is cut to a bounded length and has its control characters
 * replaced, so a peer-controlled string cannot forge a field or a line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_NOTICE,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG
};

enum log_target {
        LOG_TARGET_STDERR,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_SYSLOG,
};

/* What a line is about; NULL (or 0) where not known.  Journal fields:
 * STEWARD_USER, STEWARD_SOURCE (a client's "ADDR:PORT", or "socket" for the
 * local socket: a source "unix:…" is written "socket", the message keeps it),
 * STEWARD_MODULE, STEWARD_OPERATION, STEWARD_AUDIT_ID. */
struct log_fields {
        const char *user;
        const char *source;
        const char *module;
        const char *operation;
        int64_t audit_id;
};

#define LOG_MESSAGE_MAX 2048 /* bytes of a message, its terminator included */
#define LOG_FIELD_MAX   256  /* bytes of a STEWARD_* value, its terminator included */
#define LOG_IOV_MAX     8    /* iovecs of one journal entry */

/* foreground: --foreground was given.  Picks the target as above. */
void log_open(bool foreground);
/* The target log_open would pick, from the environment (for tests). */
enum log_target log_target_detect(bool foreground, const char *journal_stream,
                                  const char *journal_socket);
enum log_target log_get_target(void);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
int log_level_from_string(const char *s); /* -EINVAL if unknown */
const char *log_level_to_string(enum log_level l);

/* The journal sink: sd_journal_sendv by default.  Tests swap in their own
 * with the journal target to see the entries (NULL restores the default). */
typedef void (*log_journal_sink_t)(const struct iovec *iov, int n);
void log_set_journal_sink(enum log_target target, log_journal_sink_t sink);

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like log_msg, appending ": strerror(-err)"; returns err for `return log_…`. */
int log_errno(enum log_level l, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Like log_msg, with the structured fields f (may be NULL). */
void log_fields(enum log_level l, const struct log_fields *f, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_error(...)            log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...)          log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)           log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)             log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)            log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_error_errno(e, ...)   log_errno(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
/* Whether fd is a datagram socket to the system log (syslog(3)'s or
 * libsystemd's): a process that closes what it inherited keeps these, since
 * both libraries keep their descriptor's number and would write to
 * whatever took it. */
bool log_is_log_socket(int fd);

