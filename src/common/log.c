/* log.c — see log.h.  The level is an atomic so request threads can read it
 * without a lock while the settings thread changes it; the target and the
 * sink are set once at start (log_open), before any thread exists.
 *
 * A journal entry is built on the stack (struct entry): fixed buffers, one
 * iovec each, so logging never allocates and a value is cut, never grown. */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static _Atomic int current_level = LOG_LEVEL_INFO;
static enum log_target target = LOG_TARGET_STDERR;

static void journal_sendv(const struct iovec *iov, int n) {
        (void)sd_journal_sendv(iov, n);
}

static log_journal_sink_t journal_sink = journal_sendv;

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

static const int syslog_prio[] = {
        [LOG_LEVEL_ERROR] = LOG_ERR,     [LOG_LEVEL_WARNING] = LOG_WARNING,
        [LOG_LEVEL_NOTICE] = LOG_NOTICE, [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected to stdout and
 * stderr; it names ours only if stderr still is that stream (a child whose
 * stderr was redirected inherits the variable, not the stream). */
static bool stderr_is_journal(const char *journal_stream) {
        char dev[32];
        const char *colon;
        uint64_t d, i;
        struct stat st;

        if (!journal_stream || !(colon = strchr(journal_stream, ':')) ||
            (size_t)(colon - journal_stream) >= sizeof dev)
                return false;
        memcpy(dev, journal_stream, (size_t)(colon - journal_stream));
        dev[colon - journal_stream] = '\0';
        if (safe_atou64(dev, &d) < 0 || safe_atou64(colon + 1, &i) < 0)
                return false;
        return fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == d &&
               (uint64_t)st.st_ino == i;
}

enum log_target log_target_detect(bool foreground, const char *journal_stream,
                                  const char *journal_socket) {
        if (stderr_is_journal(journal_stream))
                return LOG_TARGET_JOURNAL;
        if (foreground)
                return LOG_TARGET_STDERR;
        if (journal_socket && access(journal_socket, W_OK) == 0)
                return LOG_TARGET_JOURNAL;
        return LOG_TARGET_SYSLOG;
}

void log_open(bool foreground) {
        target = log_target_detect(foreground, getenv("JOURNAL_STREAM"), JOURNAL_SOCKET);
        if (target == LOG_TARGET_SYSLOG)
                openlog("stewardd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

enum log_target log_get_target(void) {
        return target;
}

void log_set_journal_sink(enum log_target t, log_journal_sink_t sink) {
        target = t;
        journal_sink = sink ? sink : journal_sendv;
}

void log_set_level(enum log_level l) {
        atomic_store(&current_level, (int)l);
}

enum log_level log_get_level(void) {
        return (enum log_level)atomic_load(&current_level);
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *log_level_to_string(enum log_level l) {
        return (unsigned)l < sizeof level_names / sizeof level_names[0] ? level_names[l] : "info";
}

/* Control characters (newlines above all) become repl, so one message is
 * one line and one value one field.  Text that fills cap - 1 bytes was
 * probably cut: a UTF-8 character left incomplete at its end is dropped. */
static void sanitize(char *s, size_t cap, char repl) {
        size_t n = strnlen(s, cap - 1), lead = n;

        if (n == cap - 1) {
                while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
                        lead--;
                if (lead > 0) {
                        unsigned char c = (unsigned char)s[lead - 1];
                        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                        if (n - (lead - 1) < want)
                                n = lead - 1;
                }
        }
        s[n] = '\0';
        for (char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = repl;
}

/* One journal entry: "NAME=value" buffers and their iovecs. */
struct entry {
        struct iovec iov[LOG_IOV_MAX];
        int n;
        char priority[16];
        char user[sizeof "STEWARD_USER=" + LOG_FIELD_MAX];
        char source[sizeof "STEWARD_SOURCE=" + LOG_FIELD_MAX];
        char module[sizeof "STEWARD_MODULE=" + LOG_FIELD_MAX];
        char operation[sizeof "STEWARD_OPERATION=" + LOG_FIELD_MAX];
        char audit_id[48];
};

static void entry_add(struct entry *en, char *buf, size_t cap, const char *name,
                      const char *value) {
        size_t nl = strlen(name);

        if (!value || !*value || nl + 2 > cap)
                return;
        memcpy(buf, name, nl);
        buf[nl] = '=';
        snprintf(buf + nl + 1, cap - nl - 1, "%.*s", LOG_FIELD_MAX - 1, value);
        sanitize(buf + nl + 1, LOG_FIELD_MAX, '?');
        en->iov[en->n++] = (struct iovec){.iov_base = buf, .iov_len = strlen(buf)};
}

static void journal_entry(enum log_level l, const struct log_fields *f, const char *message) {
        static const char ident[] = "SYSLOG_IDENTIFIER=stewardd";
        struct entry en = {.n = 0};

        en.iov[en.n++] = (struct iovec){.iov_base = (void *)message, .iov_len = strlen(message)};
        snprintf(en.priority, sizeof en.priority, "PRIORITY=%d", syslog_prio[l]);
        en.iov[en.n++] = (struct iovec){.iov_base = en.priority, .iov_len = strlen(en.priority)};
        en.iov[en.n++] = (struct iovec){.iov_base = (void *)ident, .iov_len = sizeof ident - 1};
        if (f) {
                entry_add(&en, en.user, sizeof en.user, "STEWARD_USER", f->user);
                /* "unix:uid=0,pid=7" (the message keeps the peer) */
                entry_add(&en, en.source, sizeof en.source, "STEWARD_SOURCE",
                          f->source && strncmp(f->source, "unix:", 5) == 0 ? "socket" : f->source);
                entry_add(&en, en.module, sizeof en.module, "STEWARD_MODULE", f->module);
                entry_add(&en, en.operation, sizeof en.operation, "STEWARD_OPERATION",
                          f->operation);
                if (f->audit_id > 0) {
                        snprintf(en.audit_id, sizeof en.audit_id, "STEWARD_AUDIT_ID=%" PRId64,
                                 f->audit_id);
                        en.iov[en.n++] = (struct iovec){.iov_base = en.audit_id,
                                                        .iov_len = strlen(en.audit_id)};
                }
        }
        journal_sink(en.iov, en.n);
}

__attribute__((format(printf, 4, 0))) static void
log_v(enum log_level l, const struct log_fields *f, int err, const char *fmt, va_list ap) {
        char msg[sizeof "MESSAGE=" - 1 + LOG_MESSAGE_MAX], *text = msg + sizeof "MESSAGE=" - 1;
        size_t cap = LOG_MESSAGE_MAX;
        int n;

        if ((unsigned)l >= sizeof level_names / sizeof level_names[0] ||
            (int)l > atomic_load(&current_level))
                return;
        memcpy(msg, "MESSAGE=", sizeof "MESSAGE=" - 1);
        n = vsnprintf(text, cap, fmt, ap);
        if (n < 0)
                return;
        if (err != 0 && (size_t)n < cap)
                snprintf(text + n, cap - (size_t)n, ": %s", strerror(err < 0 ? -err : err));
        /* Never let a peer-controlled string break the one-line format. */
        sanitize(text, cap, ' ');
        if (target == LOG_TARGET_JOURNAL)
                journal_entry(l, f, msg);
        else if (target == LOG_TARGET_STDERR) {
                struct timespec ts;
                struct tm tm;
                char when[32];
                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                fprintf(stderr, "%s stewardd[%s]: %s\n", when, level_names[l], text);
        } else
                syslog(syslog_prio[l], "%s", text);
}

void log_msg(enum log_level l, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_v(l, NULL, 0, fmt, ap);
        va_end(ap);
}

int log_errno(enum log_level l, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_v(l, NULL, err, fmt, ap);
        va_end(ap);
        return err < 0 ? err : -err;
}

void log_fields(enum log_level l, const struct log_fields *f, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_v(l, f, 0, fmt, ap);
        va_end(ap);
}

/* Whether fd is a datagram socket to the system log: libsystemd and
 * syslog(3) keep theirs open across the fork and would write to whatever
 * took its number if it were closed.  syslog(3)'s is connected to /dev/log;
 * libsystemd's journal socket is neither bound nor connected (each send
 * names the journal), which gives nothing a front could not make itself. */
bool log_is_log_socket(int fd) {
        static const char *const paths[] = {"/run/systemd/journal/socket",
                                            "/run/systemd/journal/dev-log", "/dev/log"};
        struct sockaddr_un sa = {0};
        socklen_t len = sizeof sa;
        int domain = 0, type = 0;
        socklen_t ol = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0 || domain != AF_UNIX)
                return false;
        ol = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) < 0 || type != SOCK_DGRAM)
                return false;
        if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0) {
                len = sizeof sa;
                return errno == ENOTCONN &&
                       getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
                       len <= sizeof(sa_family_t);
        }
        if (len <= sizeof(sa_family_t))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (strncmp(sa.sun_path, paths[i], sizeof sa.sun_path) == 0)
                        return true;
        return false;
}
