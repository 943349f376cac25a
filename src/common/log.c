/* log.c — see log.h.  The level is an atomic so request threads can read it
 * without a lock while the settings thread changes it. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static _Atomic int current_level = LOG_LEVEL_INFO;
static bool use_stderr = true;

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

static const int syslog_prio[] = {
        [LOG_LEVEL_ERROR] = LOG_ERR,     [LOG_LEVEL_WARNING] = LOG_WARNING,
        [LOG_LEVEL_NOTICE] = LOG_NOTICE, [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

void log_open(bool to_stderr) {
        use_stderr = to_stderr;
        if (!to_stderr)
                openlog("stewardd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
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

__attribute__((format(printf, 3, 0))) static void log_v(enum log_level l, int err, const char *fmt,
                                                        va_list ap) {
        char msg[2048];
        int n;

        if ((int)l > atomic_load(&current_level))
                return;
        n = vsnprintf(msg, sizeof msg, fmt, ap);
        if (n < 0)
                return;
        if (err != 0 && (size_t)n < sizeof msg)
                snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err < 0 ? -err : err));
        /* Never let a peer-controlled string break the one-line format. */
        for (char *p = msg; *p; p++)
                if ((unsigned char)*p < 0x20)
                        *p = ' ';
        if (use_stderr) {
                struct timespec ts;
                struct tm tm;
                char when[32];
                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                fprintf(stderr, "%s stewardd[%s]: %s\n", when, level_names[l], msg);
        } else
                syslog(syslog_prio[l], "%s", msg);
}

void log_msg(enum log_level l, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_v(l, 0, fmt, ap);
        va_end(ap);
}

int log_errno(enum log_level l, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_v(l, err, fmt, ap);
        va_end(ap);
        return err < 0 ? err : -err;
}
