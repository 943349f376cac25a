/* log.h — the daemon's log.  One owner per message: library code returns
 * errors, the caller logs once with the cause.  Lines go to stderr with
 * --foreground, else to syslog (the journal picks them up).  The level can be
 * changed at run time (the stewardd:log_level setting). */
#pragma once

#include <stdbool.h>

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_NOTICE,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG
};

void log_open(bool to_stderr);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
int log_level_from_string(const char *s); /* -EINVAL if unknown */
const char *log_level_to_string(enum log_level l);

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like log_msg, appending ": strerror(-err)"; returns err for `return log_…`. */
int log_errno(enum log_level l, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_error(...)            log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...)          log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)           log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)             log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)            log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_error_errno(e, ...)   log_errno(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
