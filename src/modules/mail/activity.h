/* activity.h — the parsers of activity.c, exposed for the unit test
 * (tests/unit/test-mail-queue.c) and the fuzz target
 * (tests/fuzz/fuzz-mail-queue.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-journal.h>

#include <jansson.h>

enum activity_kind {
        ACT_NONE,
        ACT_DELIVERED, /* status=sent */
        ACT_DEFERRED,  /* status=deferred */
        ACT_BOUNCED,   /* status=bounced, and status=expired (returned to sender) */
        ACT_REJECTED,  /* smtpd's or cleanup's "reject:", "milter-reject:" */
};

#define ACTIVITY_ID_MAX     32
#define ACTIVITY_TO_MAX     320
#define ACTIVITY_REASON_MAX 500

struct activity_event {
        enum activity_kind kind;
        char queue_id[ACTIVITY_ID_MAX + 1]; /* "NOQUEUE" for a rejection before queueing */
        char status[16];                    /* "sent", "deferred", "bounced", "expired", "reject" */
        char to[ACTIVITY_TO_MAX + 1];       /* may be empty */
        char reason[ACTIVITY_REASON_MAX + 1];
};

/* One Postfix log message (what follows "postfix/smtp[123]: "), n bytes,
 * from the program ident ("postfix/smtp"): 1 with *ev filled when it is a
 * delivery, a deferral, a bounce or a rejection, 0 when it is something
 * else.  Text taken from the message is valid UTF-8 (else '?'). */
int activity_parse_message(const char *ident, size_t ident_n, const char *msg, size_t n,
                           struct activity_event *ev);

/* One line of a mail log file, as postlogd (maillog_file) or syslog writes
 * it: "Dec  4 13:28:45 host postfix/smtp[7299]: MESSAGE" (local time, the
 * year the one that puts it at most a day after now) or with an RFC 3339
 * time ("2026-12-04T13:28:45.123456+00:00 host …").  1 with *ret_time
 * (epoch seconds) and *ev, 0 for a line that is not a Postfix event,
 * -EBADMSG for one whose time does not parse. */
int activity_parse_line(const char *line, size_t n, int64_t now, int64_t *ret_time,
                        struct activity_event *ev);

/* The answer of activity_read for the window of hours (1..168) ending at
 * now, from the Postfix entries of an open journal (the helper opens the
 * system's; the unit test a file it made): {"hours", "errors", "source":
 * "journal", "truncated"}.  The journal gets matches added; -errno. */
int activity_journal_tally(sd_journal *j, int64_t now, int hours, json_t **ret);
