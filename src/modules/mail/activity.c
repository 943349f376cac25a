/* activity.c — delivery activity: how much mail was delivered, deferred,
 * bounced and rejected in each hour of the last N (1..168, default 24),
 * and the last ACTIVITY_ERRORS errors with their reasons, from Postfix's
 * own log lines:
 *   QUEUEID: to=<ADDR>, [orig_to=<…>,] relay=…, …, status=sent|deferred|bounced (REASON)
 *   QUEUEID: from=<ADDR>, status=expired, returned to sender           (qmgr)
 *   NOQUEUE: reject: RCPT from HOST[ADDR]: 554 5.7.1 …; from=<…> to=<…> …   (smtpd)
 *   QUEUEID: reject: … / milter-reject: …                               (cleanup)
 * (a message of several recipients counts once per recipient, as Postfix
 * logs it).
 *
 * Where the lines are.  When main.cf's maillog_file names a file (postconf
 * -h maillog_file), Postfix writes there through postlogd and not to syslog:
 * that file is read ("source": "file").  Otherwise the journal
 * ("source": "journal"): the entries whose SYSLOG_IDENTIFIER is one of
 * Postfix's delivery, smtpd, cleanup and qmgr programs, from the first
 * hour of the window on, at most ACTIVITY_ENTRIES_MAX entries and
 * ACTIVITY_SCAN_USEC of scanning ("truncated": true past either).  When the
 * journal has none and /var/log/mail.log exists (rsyslog), that file.  A
 * file is read from its last ACTIVITY_FILE_TAIL bytes (the window is
 * hours, a busy server's day fits).  None of these: "source": "none" and
 * zeros.  Runs in the helper: the journal's system files and the mail log
 * are root's. */
#include "modules/mail/activity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "modules/change.h"
#include "modules/mail/mail.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define ACTIVITY_HOURS_MAX   168
#define ACTIVITY_HOURS_DEF   24
#define ACTIVITY_ERRORS      20
#define ACTIVITY_ENTRIES_MAX 200000
#define ACTIVITY_SCAN_USEC   (3ULL * 1000 * 1000)
#define ACTIVITY_FILE_TAIL   (32u << 20)
#define MAIL_LOG             "/var/log/mail.log"

/* ---- one message -------------------------------------------------------------------- */

/* Copies n bytes of src as text: cut to fit, NULs and invalid UTF-8 '?'. */
static void copy_text(char *dst, size_t cap, const char *src, size_t n) {
        if (n >= cap)
                n = cap - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (dst[i] == '\0')
                        dst[i] = '?';
        utf8_sanitize(dst);
}

/* The value of "key<…>" in msg (to=<a@b>): its bytes, or NULL. */
static const char *angle_value(const char *msg, size_t n, const char *key, size_t *ret_n) {
        size_t k = strlen(key);

        for (size_t i = 0; i + k < n; i++) {
                const char *close;
                if ((i > 0 && msg[i - 1] != ' ') || memcmp(msg + i, key, k) != 0)
                        continue;
                close = memchr(msg + i + k, '>', n - i - k);
                if (!close)
                        return NULL;
                *ret_n = (size_t)(close - (msg + i + k));
                return msg + i + k;
        }
        return NULL;
}

static const char *find(const char *s, size_t n, const char *what) {
        size_t w = strlen(what);

        for (size_t i = 0; i + w <= n; i++)
                if (memcmp(s + i, what, w) == 0)
                        return s + i;
        return NULL;
}

/* strcspn within n bytes (the journal's data has no NUL). */
static size_t span_not(const char *s, size_t n, const char *reject) {
        size_t i = 0;

        while (i < n && !strchr(reject, s[i]))
                i++;
        return i;
}

static bool postfix_ident(const char *ident, size_t n) {
        return n > 8 && n < 64 && memcmp(ident, "postfix", 7) == 0 && memchr(ident, '/', n);
}

/* "status=WORD (REASON)" of a delivery agent's line. */
static int parse_status(const char *msg, size_t n, struct activity_event *ev) {
        const char *st = find(msg, n, " status="), *end, *open;
        size_t w;

        if (!st)
                return 0;
        st += 8;
        w = span_not(st, (size_t)(msg + n - st), " ,");
        if (w == 4 && memcmp(st, "sent", 4) == 0)
                ev->kind = ACT_DELIVERED;
        else if (w == 8 && memcmp(st, "deferred", 8) == 0)
                ev->kind = ACT_DEFERRED;
        else if ((w == 7 && memcmp(st, "bounced", 7) == 0) ||
                 (w == 7 && memcmp(st, "expired", 7) == 0))
                ev->kind = ACT_BOUNCED;
        else
                return 0;
        copy_text(ev->status, sizeof ev->status, st, w);
        open = st + w;
        end = msg + n;
        if (open < end && *open == ' ' && open + 1 < end && open[1] == '(') {
                const char *close = end;
                while (close > open + 2 && close[-1] != ')')
                        close--;
                if (close > open + 2)
                        copy_text(ev->reason, sizeof ev->reason, open + 2,
                                  (size_t)(close - 1 - (open + 2)));
        } else if (open < end && *open == ',')
                copy_text(ev->reason, sizeof ev->reason, open + 2 < end ? open + 2 : end,
                          open + 2 < end ? (size_t)(end - open - 2) : 0);
        return 1;
}

/* "reject: …; from=<…> to=<…> …" of smtpd or cleanup. */
static int parse_reject(const char *rest, size_t n, struct activity_event *ev) {
        const char *semi = find(rest, n, "; from=<");
        size_t r = semi ? (size_t)(semi - rest) : n;

        ev->kind = ACT_REJECTED;
        snprintf(ev->status, sizeof ev->status, "reject");
        copy_text(ev->reason, sizeof ev->reason, rest, r);
        return 1;
}

int activity_parse_message(const char *ident, size_t ident_n, const char *msg, size_t n,
                           struct activity_event *ev) {
        char id[ACTIVITY_ID_MAX + 1];
        const char *colon = memchr(msg, ':', n < ACTIVITY_ID_MAX + 1 ? n : ACTIVITY_ID_MAX + 1);
        const char *rest, *to;
        size_t idn, rn, ton = 0;

        *ev = (struct activity_event){0};
        if (!postfix_ident(ident, ident_n) || !colon || colon + 2 > msg + n || colon[1] != ' ')
                return 0;
        idn = (size_t)(colon - msg);
        memcpy(id, msg, idn);
        id[idn] = '\0';
        if (!STREQ(id, "NOQUEUE") && !queue_id_valid(id))
                return 0;
        rest = colon + 2;
        rn = (size_t)(msg + n - rest);
        if (rn > 8 && memcmp(rest, "reject: ", 8) == 0)
                parse_reject(rest + 8, rn - 8, ev);
        else if (rn > 15 && memcmp(rest, "milter-reject: ", 15) == 0)
                parse_reject(rest + 15, rn - 15, ev);
        else if (STREQ(id, "NOQUEUE") || !parse_status(rest, rn, ev))
                return 0;
        snprintf(ev->queue_id, sizeof ev->queue_id, "%s", id);
        to = angle_value(rest, rn, "to=<", &ton);
        if (to)
                copy_text(ev->to, sizeof ev->to, to, ton);
        return 1;
}

/* ---- one line of a log file ----------------------------------------------------------- */

static int two_digits(const char *s, int *ret) {
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return -EINVAL;
        *ret = (s[0] - '0') * 10 + (s[1] - '0');
        return 0;
}

/* "Dec  4 13:28:45 " (local time, no year): 16 bytes. */
static int syslog_time(const char *s, size_t n, int64_t now, int64_t *ret) {
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        struct tm tm = {0}, nowtm;
        time_t nt = (time_t)now, t;
        const char *m;

        if (n < 16 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' || s[15] != ' ')
                return -EBADMSG;
        m = strstr(months, (char[4]){s[0], s[1], s[2], '\0'});
        if (!m || (m - months) % 3 != 0)
                return -EBADMSG;
        tm.tm_mon = (int)(m - months) / 3;
        if ((s[4] == ' ' ? (tm.tm_mday = s[5] - '0', s[5] < '1' || s[5] > '9')
                         : two_digits(s + 4, &tm.tm_mday) < 0) ||
            two_digits(s + 7, &tm.tm_hour) < 0 || two_digits(s + 10, &tm.tm_min) < 0 ||
            two_digits(s + 13, &tm.tm_sec) < 0 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60 || !localtime_r(&nt, &nowtm))
                return -EBADMSG;
        tm.tm_year = nowtm.tm_year;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t != (time_t)-1 && t > nt + 86400) { /* December's lines read in January */
                tm.tm_year--;
                tm.tm_isdst = -1;
                t = mktime(&tm);
        }
        if (t == (time_t)-1)
                return -EBADMSG;
        *ret = (int64_t)t;
        return 16;
}

/* "2026-12-04T13:28:45[.123456](Z|+01:00) ": its length. */
static int rfc3339_time(const char *s, size_t n, int64_t *ret) {
        struct tm tm = {0};
        int y1, y2, off = 0, oh, om;
        size_t i = 19;

        if (n < 21 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
            two_digits(s, &y1) < 0 || two_digits(s + 2, &y2) < 0 ||
            two_digits(s + 5, &tm.tm_mon) < 0 || two_digits(s + 8, &tm.tm_mday) < 0 ||
            two_digits(s + 11, &tm.tm_hour) < 0 || two_digits(s + 14, &tm.tm_min) < 0 ||
            two_digits(s + 17, &tm.tm_sec) < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
            tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
            tm.tm_sec > 60)
                return -EBADMSG;
        tm.tm_year = y1 * 100 + y2 - 1900;
        tm.tm_mon--;
        if (s[i] == '.')
                for (i++; i < n && s[i] >= '0' && s[i] <= '9' && i < 40; i++)
                        ;
        if (i < n && s[i] == 'Z')
                i++;
        else if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
                 two_digits(s + i + 1, &oh) == 0 && two_digits(s + i + 4, &om) == 0 && oh < 24 &&
                 om < 60) {
                off = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
                i += 6;
        } else
                return -EBADMSG;
        if (i >= n || s[i] != ' ')
                return -EBADMSG;
        *ret = (int64_t)timegm(&tm) - off;
        return (int)i + 1;
}

int activity_parse_line(const char *line, size_t n, int64_t now, int64_t *ret_time,
                        struct activity_event *ev) {
        const char *p, *end = line + n, *ident, *msg;
        size_t ident_n;
        int64_t t;
        int k;

        *ev = (struct activity_event){0};
        k = n > 4 && line[4] == '-' ? rfc3339_time(line, n, &t) : syslog_time(line, n, now, &t);
        if (k < 0)
                return k;
        p = line + k;
        p += span_not(p, (size_t)(end - p), " "); /* the host */
        if (p >= end)
                return 0;
        ident = ++p;
        while (p < end && *p != '[' && *p != ':' && *p != ' ')
                p++;
        ident_n = (size_t)(p - ident);
        if (p < end && *p == '[')
                while (p < end && *p != ']')
                        p++;
        if (p < end && *p == ']')
                p++;
        if (p + 2 > end || p[0] != ':' || p[1] != ' ')
                return 0;
        msg = p + 2;
        if (activity_parse_message(ident, ident_n, msg, (size_t)(end - msg), ev) <= 0)
                return 0;
        *ret_time = t;
        return 1;
}

/* ---- the tally ------------------------------------------------------------------------ */

struct tally {
        int64_t start, now;
        int hours;
        unsigned counts[ACTIVITY_HOURS_MAX][4];
        struct activity_event errors[ACTIVITY_ERRORS];
        int64_t error_time[ACTIVITY_ERRORS];
        size_t n_errors; /* ever added: the ring's next slot is n_errors % ACTIVITY_ERRORS */
        size_t events;
        bool truncated;
};

static void tally_add(struct tally *t, int64_t when, const struct activity_event *ev) {
        int64_t h;

        if (when < t->start || when > t->now + 3600 || ev->kind == ACT_NONE)
                return;
        h = (when - t->start) / 3600;
        if (h >= t->hours)
                h = t->hours - 1;
        t->counts[h][ev->kind - ACT_DELIVERED]++;
        t->events++;
        if (ev->kind != ACT_DELIVERED) {
                size_t slot = t->n_errors++ % ACTIVITY_ERRORS;
                t->errors[slot] = *ev;
                t->error_time[slot] = when;
        }
}

static json_t *time_json(int64_t t) {
        struct tm tm;
        time_t tt = (time_t)t;
        char buf[40];

        if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return json_string("1970-01-01T00:00:00Z");
        return json_string(buf);
}

static json_t *tally_json(const struct tally *t, const char *source, const char *path) {
        json_t *hours = json_array(), *errors = json_array(), *o;
        size_t n = t->n_errors < ACTIVITY_ERRORS ? t->n_errors : ACTIVITY_ERRORS;

        for (int h = 0; hours && h < t->hours; h++)
                json_array_append_new(
                        hours, json_pack("{s:o, s:i, s:i, s:i, s:i}", "start",
                                         time_json(t->start + (int64_t)h * 3600), "delivered",
                                         t->counts[h][0], "deferred", t->counts[h][1], "bounced",
                                         t->counts[h][2], "rejected", t->counts[h][3]));
        for (size_t i = 0; errors && i < n; i++) { /* newest first */
                size_t slot = (t->n_errors - 1 - i) % ACTIVITY_ERRORS;
                const struct activity_event *e = &t->errors[slot];
                o = json_pack("{s:o, s:s, s:s, s:s}", "time", time_json(t->error_time[slot]),
                              "queue_id", e->queue_id, "status", e->status, "reason", e->reason);
                if (o && e->to[0])
                        json_object_set_new(o, "to", json_string(e->to));
                json_array_append_new(errors, o);
        }
        o = json_pack("{s:o?, s:o?, s:s, s:b}", "hours", hours, "errors", errors, "source", source,
                      "truncated", t->truncated);
        if (o && path)
                json_object_set_new(o, "path", json_string(path));
        return o;
}

/* ---- sources ---------------------------------------------------------------------------- */

static void read_lines(struct tally *t, const char *text, size_t len) {
        for (const char *p = text, *end = text + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                struct activity_event ev;
                int64_t when;
                if (activity_parse_line(p, n, t->now, &when, &ev) > 0)
                        tally_add(t, when, &ev);
                p += n + 1;
        }
}

/* The last ACTIVITY_FILE_TAIL bytes of path, from its first whole line. */
static int read_file_tail(struct tally *t, const char *path) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        off_t off;
        size_t want, got = 0;
        const char *start;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        off = st.st_size > (off_t)ACTIVITY_FILE_TAIL ? st.st_size - (off_t)ACTIVITY_FILE_TAIL : 0;
        want = (size_t)(st.st_size - off);
        buf = malloc(want + 1);
        if (!buf)
                return -ENOMEM;
        while (got < want) {
                ssize_t r = pread(fd, buf + got, want - got, off + (off_t)got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        t->truncated = off > 0;
        start = buf;
        if (off > 0) {
                const char *nl = memchr(buf, '\n', got);
                start = nl ? nl + 1 : buf + got;
        }
        read_lines(t, start, got - (size_t)(start - buf));
        return 0;
}

/* main.cf's maillog_file, when it names a file: 1 with the path. */
static int maillog_file(char *path, size_t cap) {
        static const char *const argv[] = {"/usr/sbin/postconf", "-h", "maillog_file", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[256];
        size_t len = 0;

        if (!mail_postfix_installed() ||
            change_exec_output(argv, 4096, &out, &len, msg, sizeof msg) != 0)
                return 0;
        out[strcspn(out, "\n")] = '\0';
        if (out[0] != '/' || strlen(out) >= cap || strstr(out, "/../") || !utf8_valid(out, strlen(out)))
                return 0;
        snprintf(path, cap, "%s", out);
        return 1;
}

static const char *const idents[] = {
        "postfix/smtp",   "postfix/lmtp", "postfix/local",   "postfix/virtual",
        "postfix/pipe",   "postfix/error", "postfix/retry",  "postfix/discard",
        "postfix/smtpd",  "postfix/cleanup", "postfix/qmgr", "postfix/postscreen",
};

static int journal_field(sd_journal *j, const char *field, const char **ret, size_t *ret_n) {
        const void *d;
        size_t l, f = strlen(field);
        int r = sd_journal_get_data(j, field, &d, &l);

        if (r < 0)
                return r;
        if (l <= f || ((const char *)d)[f] != '=')
                return -EBADMSG;
        *ret = (const char *)d + f + 1;
        *ret_n = l - f - 1;
        return 0;
}

/* The journal's Postfix entries of the window into t: the number seen, or
 * -errno. */
static int scan_journal(sd_journal *j, struct tally *t) {
        uint64_t deadline = now_usec() + ACTIVITY_SCAN_USEC;
        size_t seen = 0;
        int r = 0;

        (void)sd_journal_set_data_threshold(j, 4096);
        for (size_t i = 0; i < ELEMENTSOF(idents) && r >= 0; i++) {
                char m[64];
                int n = snprintf(m, sizeof m, "SYSLOG_IDENTIFIER=%s", idents[i]);
                r = sd_journal_add_match(j, m, (size_t)n);
        }
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, (uint64_t)t->start * 1000000);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                const char *msg, *ident;
                size_t mn, in;
                uint64_t usec;
                struct activity_event ev;

                if (++seen > ACTIVITY_ENTRIES_MAX || (seen % 256 == 0 && now_usec() > deadline)) {
                        t->truncated = true;
                        break;
                }
                if (sd_journal_get_realtime_usec(j, &usec) < 0 ||
                    journal_field(j, "MESSAGE", &msg, &mn) < 0 ||
                    journal_field(j, "SYSLOG_IDENTIFIER", &ident, &in) < 0)
                        continue;
                if (activity_parse_message(ident, in, msg, mn, &ev) > 0)
                        tally_add(t, (int64_t)(usec / 1000000), &ev);
        }
        return r < 0 ? r : (int)(seen < INT32_MAX ? seen : INT32_MAX);
}

static int read_journal(struct tally *t) {
        sd_journal *j = NULL;
        int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);

        if (r < 0)
                return r;
        r = scan_journal(j, t);
        sd_journal_close(j);
        return r;
}

static void tally_window(struct tally *t, int64_t now, int hours) {
        t->now = now;
        t->hours = hours;
        t->start = (now / 3600 - (hours - 1)) * 3600;
}

int activity_journal_tally(sd_journal *j, int64_t now, int hours, json_t **ret) {
        _cleanup_free_ struct tally *t = calloc(1, sizeof *t);
        int r;

        if (!t)
                return -ENOMEM;
        if (hours < 1 || hours > ACTIVITY_HOURS_MAX)
                return -EINVAL;
        tally_window(t, now, hours);
        r = scan_journal(j, t);
        if (r < 0)
                return r;
        *ret = tally_json(t, "journal", NULL);
        return *ret ? 0 : -ENOMEM;
}

static int hours_arg(json_t *args, int *ret, struct module_error *err) {
        json_t *v = json_object_get(args, "hours");
        const char *k;
        json_t *x;
        int64_t h = ACTIVITY_HOURS_DEF;

        json_object_foreach(args, k, x) {
                if (!STREQ(k, "what") && !STREQ(k, "hours")) {
                        module_error_set(err, 400, "bad_request", k, "%s: not an argument here", k);
                        return -EINVAL;
                }
        }
        if (v && (json_is_integer(v) ? (h = json_integer_value(v), false)
                                     : !json_is_string(v) || json_string_length(v) > 4 ||
                                               safe_atoi64(json_string_value(v), &h) < 0))
                h = -1;
        if (h < 1 || h > ACTIVITY_HOURS_MAX) {
                module_error_set(err, 400, "bad_request", "hours", "hours: a number, 1 to %d",
                                 ACTIVITY_HOURS_MAX);
                return -EINVAL;
        }
        *ret = (int)h;
        return 0;
}

int activity_read(json_t *args, json_t **ret, struct module_error *err) {
        _cleanup_free_ struct tally *t = calloc(1, sizeof *t);
        char path[512];
        const char *source = "none", *shown = NULL;
        int hours, r;

        if (!t) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        if (args && !json_is_object(args)) {
                module_error_set(err, 400, "bad_request", NULL, "the arguments must be an object");
                return -EINVAL;
        }
        r = hours_arg(args, &hours, err);
        if (r < 0)
                return r;
        tally_window(t, (int64_t)(realtime_usec() / 1000000), hours);
        if (maillog_file(path, sizeof path)) {
                source = "file";
                shown = path;
                (void)read_file_tail(t, path); /* not written yet: nothing happened */
        } else if (read_journal(t) > 0)
                source = "journal";
        else if (read_file_tail(t, MAIL_LOG) >= 0) {
                source = "file";
                shown = MAIL_LOG;
        }
        *ret = tally_json(t, source, shown);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        return 0;
}
