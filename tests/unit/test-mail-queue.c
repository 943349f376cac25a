/* test-mail-queue.c — the mail module's parsers (src/modules/mail/queue.c,
 * activity.c): Postfix's queue id grammar; lines of `postqueue -j` captured
 * from Postfix 3.7.11 (tests/unit/fixtures/postqueue-j-3.7.txt, with a held
 * message of two recipients, an active one with a long id and no delay
 * reason, and lines that must be refused); the filters and their grammar;
 * the grouping of delay reasons; the lines of a mail log as postlogd writes
 * them (fixtures/maillog-3.7.txt) and the messages the journal holds; the
 * runner that hands postqueue's lines over as they come (change_exec_lines);
 * the activity read from a journal file made by systemd-journal-remote. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "module.h"
#include "modules/change.h"
#include "modules/mail/activity.h"
#include "modules/mail/mail.h"
#include "modules/mail/queue.h"
#include "util.h"

#define NOW INT64_C(1796391100) /* 2026-12-04T13:31:40Z, after every fixture line */

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static void test_queue_id_grammar(void **state) {
        static const char *const good[] = {
                "30517A747CB", "ABCDEF", "0123456789ABCDEF01234", /* short: 6..21 hex */
                "4bVq7N2Ys8zJ3K", "4bVq7N2Ys8zzJ", /* long: the last 'z' separates */
        };
        static const char *const bad[] = {
                "", "ABCDE", "abcdef", "30517a747cb", "0123456789ABCDEF012345", "-d", "ABC DEF",
                "ABCDEF\n", "../ABCDEF", "4bVq7N2Ys8z", /* nothing after the z */
                "4bVq7N2Yzs8J3K",                      /* the z too early */
                "4bVq7N2Ys8zJ3Ka",                     /* a vowel */
                "ALL", "NOQUEUE",
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!queue_id_valid(good[i]))
                        fail_msg("refused %s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (queue_id_valid(bad[i]))
                        fail_msg("accepted %s", bad[i]);
        assert_false(queue_id_valid(NULL));
}

/* Every line of the fixture: the good ones parsed, the bad ones refused. */
static void test_postqueue_lines(void **state) {
        char *txt;
        size_t len, good = 0, refused = 0;
        json_t *msgs[8] = {0};
        int queues[8];

        (void)state;
        load("postqueue-j-3.7.txt", &txt, &len);
        for (const char *p = txt, *end = txt + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                json_t *m = NULL;
                int64_t arrival;
                int q;
                int r = queue_parse_line(p, n, NOW, &m, &q, &arrival);
                if (r == 0) {
                        assert_true(good < 8);
                        queues[good] = q;
                        msgs[good++] = m;
                } else {
                        assert_int_equal(r, -EBADMSG);
                        refused++;
                }
                p += n + 1;
        }
        free(txt);
        assert_int_equal(good, 5);
        assert_int_equal(refused, 5);

        assert_string_equal(sget(msgs[0], "id"), "30517A747CB");
        assert_string_equal(sget(msgs[0], "queue"), "deferred");
        assert_int_equal(queues[0], QUEUE_DEFERRED);
        assert_string_equal(sget(msgs[0], "arrival_time"), "2026-12-04T13:30:30Z");
        assert_int_equal(json_integer_value(json_object_get(msgs[0], "age_seconds")), 70);
        assert_int_equal(json_integer_value(json_object_get(msgs[0], "size")), 251);
        assert_string_equal(sget(msgs[0], "sender"), "alice@sender.test");
        json_t *r0 = json_array_get(json_object_get(msgs[0], "recipients"), 0);
        assert_string_equal(sget(r0, "address"), "bob1@example.com");
        assert_string_equal(sget(r0, "delay_reason"),
                            "connect to 127.0.0.1[127.0.0.1]:2526: Connection refused");
        /* No queue_name/queue_id/message_size: the answer's own names. */
        assert_null(json_object_get(msgs[0], "queue_id"));

        assert_int_equal(queues[3], QUEUE_HOLD);
        assert_int_equal(json_array_size(json_object_get(msgs[3], "recipients")), 2);
        assert_int_equal(queues[4], QUEUE_ACTIVE);
        assert_string_equal(sget(msgs[4], "id"), "4bVq7N2Ys8zJ3K");
        assert_true(json_is_true(json_object_get(msgs[4], "forced_expire")));
        assert_null(json_object_get(json_array_get(json_object_get(msgs[4], "recipients"), 0),
                                    "delay_reason"));
        for (size_t i = 0; i < good; i++)
                json_decref(msgs[i]);
}

static json_t *parse_one(const char *line, int *q) {
        json_t *m = NULL;
        int64_t arrival;
        size_t n;
        char *buf = exact(line, &n);

        assert_int_equal(queue_parse_line(buf, n, NOW, &m, q, &arrival), 0);
        free(buf);
        return m;
}

static int filter(const char *json_args, struct queue_filter *f) {
        static const char *const keys[] = {"queue",      "sender", "recipient", "domain",
                                           "older_than", "reason", "limit",     "id",
                                           "all",        NULL};
        struct module_error err = {0};
        json_t *a = json_loads(json_args, 0, NULL);
        int r;

        assert_non_null(a);
        r = queue_filter_parse(a, keys, f, &err);
        json_decref(a);
        if (r < 0)
                assert_int_equal(err.status, 400);
        return r;
}

static bool matches(const char *json_args, json_t *m, int q) {
        struct queue_filter f;
        int64_t arrival_age = json_integer_value(json_object_get(m, "age_seconds"));

        assert_int_equal(filter(json_args, &f), 0);
        return queue_filter_match(&f, m, q, arrival_age);
}

static void test_filters(void **state) {
        int q;
        json_t *m = parse_one(
                "{\"queue_name\": \"deferred\", \"queue_id\": \"36E44A747C9\", \"arrival_time\": "
                "1796383900, \"message_size\": 251, \"sender\": \"Alice@Sender.test\", "
                "\"recipients\": [{\"address\": \"bob2@Example.COM\", \"delay_reason\": \"connect "
                "to mx.example.com[192.0.2.25]:25: Connection refused\"}, {\"address\": "
                "\"x@other.test\"}]}",
                &q);
        (void)state;
        /* age 7200 s */
        assert_true(matches("{}", m, q));
        assert_true(matches("{\"queue\": \"deferred\"}", m, q));
        assert_false(matches("{\"queue\": \"hold\"}", m, q));
        assert_true(matches("{\"sender\": \"Alice@sender.TEST\"}", m, q)); /* domain: any case */
        assert_false(matches("{\"sender\": \"alice@sender.test\"}", m, q)); /* local: exact */
        assert_true(matches("{\"sender\": \"@SENDER.test\"}", m, q));
        assert_true(matches("{\"recipient\": \"bob2@example.com\"}", m, q));
        assert_true(matches("{\"recipient\": \"@other.test\"}", m, q));
        assert_false(matches("{\"recipient\": \"bob@example.com\"}", m, q));
        assert_true(matches("{\"domain\": \"example.com\"}", m, q));
        assert_false(matches("{\"domain\": \"mple.com\"}", m, q)); /* exact, not a suffix */
        assert_true(matches("{\"older_than\": \"1h\"}", m, q));
        assert_true(matches("{\"older_than\": 7000}", m, q));
        assert_false(matches("{\"older_than\": \"2h\"}", m, q));
        assert_true(matches("{\"reason\": \"connection REFUSED\"}", m, q));
        assert_false(matches("{\"reason\": \"timed out\"}", m, q));
        assert_true(matches("{\"id\": \"36E44A747C9\"}", m, q));
        assert_false(matches("{\"id\": \"36E44A747CA\"}", m, q));
        assert_true(matches("{\"domain\": \"example.com\", \"queue\": \"deferred\", "
                            "\"older_than\": \"30m\"}",
                            m, q));
        assert_false(matches("{\"domain\": \"example.com\", \"queue\": \"active\"}", m, q));
        json_decref(m);

        m = parse_one("{\"queue_name\": \"deferred\", \"queue_id\": \"5212BA747D0\", "
                      "\"arrival_time\": 1796391032, \"message_size\": 260, \"sender\": "
                      "\"MAILER-DAEMON\", \"recipients\": [{\"address\": \"c@example.org\"}]}",
                      &q);
        assert_true(matches("{\"sender\": \"<>\"}", m, q));
        assert_false(matches("{\"sender\": \"@example.org\"}", m, q));
        json_decref(m);
}

static void test_filter_grammar(void **state) {
        static const char *const refused[] = {
                "{\"queue\": \"corrupt\"}",
                "{\"sender\": \"-oQ/tmp\"}",
                "{\"sender\": \"a b@example.com\"}",
                "{\"sender\": \"alice\"}",
                "{\"recipient\": \"<>\"}",
                "{\"recipient\": \"a@exa mple.com\"}",
                "{\"domain\": \"-example.com\"}",
                "{\"domain\": \"@example.com\"}",
                "{\"older_than\": \"2x\"}",
                "{\"older_than\": \"-5\"}",
                "{\"older_than\": \"h\"}",
                "{\"older_than\": \"99999999999d\"}",
                "{\"reason\": \"\"}",
                "{\"reason\": \"a\\nb\"}",
                "{\"limit\": \"100001\"}",
                "{\"limit\": \"-1\"}",
                "{\"limit\": \"ten\"}",
                "{\"id\": \"not-an-id\"}",
                "{\"all\": \"maybe\"}",
                "{\"colour\": \"red\"}",
                "{\"queue\": 5}",
        };
        struct queue_filter f;
        char reason[260];
        int64_t s;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                if (filter(refused[i], &f) != -EINVAL)
                        fail_msg("accepted %s", refused[i]);
        memset(reason, 'x', 201);
        snprintf(reason + 201, sizeof reason - 201, "%s", "");
        {
                char args[300];
                snprintf(args, sizeof args, "{\"reason\": \"%s\"}", reason);
                assert_int_equal(filter(args, &f), -EINVAL);
                reason[200] = '\0';
                snprintf(args, sizeof args, "{\"reason\": \"%s\"}", reason);
                assert_int_equal(filter(args, &f), 0);
        }
        assert_int_equal(filter("{\"limit\": \"0\", \"all\": true}", &f), 0);
        assert_int_equal(f.limit, 0);
        assert_true(f.all);
        assert_false(queue_filter_any(&f));
        assert_int_equal(filter("{\"what\": \"queue\", \"limit\": 100000}", &f), 0);
        assert_int_equal(filter("{\"domain\": \"example.com\"}", &f), 0);
        assert_true(queue_filter_any(&f));

        assert_int_equal(queue_age_parse("90", &s), 0);
        assert_int_equal(s, 90);
        assert_int_equal(queue_age_parse("30m", &s), 0);
        assert_int_equal(s, 1800);
        assert_int_equal(queue_age_parse("3d", &s), 0);
        assert_int_equal(s, 259200);
        assert_int_equal(queue_age_parse("1w", &s), 0);
        assert_int_equal(s, 604800);
        assert_true(queue_age_parse("+5", &s) < 0);
        assert_true(queue_age_parse("5 m", &s) < 0);
}

static void group_is(const char *reason, const char *want) {
        char g[QUEUE_REASON_MAX + 1];

        queue_reason_group(reason, g, sizeof g);
        if (!STREQ(g, want))
                fail_msg("\"%s\" grouped as \"%s\", not \"%s\"", reason, g, want);
}

static void test_reason_groups(void **state) {
        char g[16];

        (void)state;
        group_is("connect to 127.0.0.1[127.0.0.1]:2526: Connection refused",
                 "connect to *[*]:*: Connection refused");
        group_is("connect to mx.example.com[192.0.2.25]:25: Connection refused",
                 "connect to *[*]:*: Connection refused");
        group_is("delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2526: "
                 "Connection refused",
                 "connect to *[*]:*: Connection refused");
        group_is("connect to [2001:db8::1]:25: Network is unreachable",
                 "connect to [*]:*: Network is unreachable");
        group_is("host mx.example.net[198.51.100.7] said: 450 4.2.0 <dave@example.net>: Recipient "
                 "address rejected: Greylisted (in reply to RCPT TO command)",
                 "host *[*] said: 450 4.2.0 <*>: Recipient address rejected: Greylisted (in reply "
                 "to RCPT TO command)");
        group_is("Host or domain name not found. Name service error for name=example.invalid "
                 "type=MX: Host not found, try again",
                 "Host or domain name not found. Name service error for name=* type=MX: Host not "
                 "found, try again");
        group_is("mail for bob@example.com loops back to myself",
                 "mail for * loops back to myself");
        group_is("deferred transport", "deferred transport");
        group_is("", "");
        /* Cut to the room, at a character boundary. */
        queue_reason_group("héhéhéhéhéhéhé", g, sizeof g);
        assert_true(strlen(g) < sizeof g);
        assert_true(utf8_valid(g, strlen(g)));
}

/* ---- activity ---------------------------------------------------------------------------- */

static int line(const char *text, int64_t *when, struct activity_event *ev) {
        size_t n;
        char *buf = exact(text, &n);
        int r = activity_parse_line(buf, n, NOW, when, ev);

        free(buf);
        return r;
}

static void test_maillog_lines(void **state) {
        char *txt;
        size_t len, i = 0;
        struct activity_event evs[16];
        int64_t times[16];

        (void)state;
        load("maillog-3.7.txt", &txt, &len);
        for (const char *p = txt, *end = txt + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                int64_t t;
                struct activity_event ev;
                int r = activity_parse_line(p, n, NOW, &t, &ev);
                if (r > 0) {
                        assert_true(i < 16);
                        evs[i] = ev;
                        times[i++] = t;
                }
                p += n + 1;
        }
        free(txt);
        assert_int_equal(i, 8);
        assert_int_equal(evs[0].kind, ACT_DEFERRED);
        assert_string_equal(evs[0].queue_id, "70675A742CD");
        assert_string_equal(evs[0].to, "bob1@example.com");
        assert_string_equal(evs[0].status, "deferred");
        assert_string_equal(evs[0].reason, "connect to 127.0.0.1[127.0.0.1]:2526: Connection refused");
        assert_int_equal(evs[1].kind, ACT_DEFERRED);
        assert_string_equal(evs[1].to, "carol@example.org");
        assert_int_equal(evs[2].kind, ACT_DELIVERED);
        assert_string_equal(evs[2].to, "alice@mx.test");
        assert_string_equal(evs[2].reason, "delivered to mailbox");
        assert_int_equal(evs[3].kind, ACT_BOUNCED);
        assert_string_equal(evs[3].reason, "unknown user: \"nobody\"");
        assert_int_equal(evs[4].kind, ACT_REJECTED);
        assert_string_equal(evs[4].queue_id, "NOQUEUE");
        assert_string_equal(evs[4].to, "x@elsewhere.test");
        assert_string_equal(evs[4].reason,
                            "RCPT from unknown[192.0.2.9]: 554 5.7.1 <x@elsewhere.test>: Relay "
                            "access denied");
        assert_int_equal(evs[5].kind, ACT_BOUNCED);
        assert_string_equal(evs[5].status, "expired");
        assert_string_equal(evs[5].to, "");
        assert_int_equal(evs[6].kind, ACT_REJECTED);
        assert_string_equal(evs[6].to, "c@d.test");
        assert_int_equal(evs[7].kind, ACT_DELIVERED);
        assert_string_equal(evs[7].queue_id, "4bVq7N2Ys8zJ3K");
        /* RFC 3339 with its offset: 12:30:00 UTC. */
        assert_int_equal(times[7], INT64_C(1796387400));
        /* Syslog's local time, in this year: one second apart. */
        assert_int_equal(times[1] - times[0], 2);
}

static void test_maillog_refused(void **state) {
        int64_t t;
        struct activity_event ev;

        (void)state;
        assert_int_equal(line("Xyz 04 13:31:02 mx postfix/smtp[1]: 70675A742CD: to=<a@b.c>, "
                              "status=sent (x)",
                              &t, &ev),
                         -EBADMSG);
        assert_int_equal(line("Dec 04 25:31:02 mx postfix/smtp[1]: 70675A742CD: status=sent (x)",
                              &t, &ev),
                         -EBADMSG);
        assert_int_equal(line("Dec 04 13:31:02 mx sshd[1]: 70675A742CD: status=sent (x)", &t, &ev),
                         0);
        assert_int_equal(line("Dec 04 13:31:02 mx postfix/smtp[1]: connect to x[1.2.3.4]:25: "
                              "Connection refused",
                              &t, &ev),
                         0);
        assert_int_equal(line("Dec 04 13:31:02 mx postfix/smtp[1]: 70675A742CD: to=<a@b.c>, "
                              "status=weird (x)",
                              &t, &ev),
                         0);
        assert_int_equal(line("Dec 04 13:31:02", &t, &ev), -EBADMSG);
        assert_int_equal(line("", &t, &ev), -EBADMSG);
        assert_int_equal(line("2026-12-04T13:30:00 mx postfix/smtp[1]: x", &t, &ev), -EBADMSG);
}

/* The journal's MESSAGE with its SYSLOG_IDENTIFIER, not NUL-terminated. */
static void test_journal_message(void **state) {
        const char *m = "70675A742CD: to=<bob1@example.com>, relay=none, delay=0.57, dsn=4.4.1, "
                        "status=deferred (connect to 127.0.0.1[127.0.0.1]:2526: Connection "
                        "refused)";
        struct activity_event ev;
        size_t n, in;
        char *buf = exact(m, &n), *ident = exact("postfix/smtp", &in);

        (void)state;
        assert_int_equal(activity_parse_message(ident, in, buf, n, &ev), 1);
        assert_int_equal(ev.kind, ACT_DEFERRED);
        assert_string_equal(ev.queue_id, "70675A742CD");
        /* Cut before the closing parenthesis: no reason, still the event. */
        assert_int_equal(activity_parse_message(ident, in, buf, n - 1, &ev), 1);
        assert_int_equal(activity_parse_message(ident, 7, buf, n, &ev), 0); /* "postfix" */
        assert_int_equal(activity_parse_message(ident, in, buf, 12, &ev), 0);
        free(buf);
        free(ident);
}

/* ---- the journal ---------------------------------------------------------------------------- */

#define JOURNAL_REMOTE "/usr/lib/systemd/systemd-journal-remote"

/* Postfix's lines of the maillog fixture as journal entries (export
 * format), 13:30:00Z on, one a second, plus one of another program. */
static const char *const journal_entries[][2] = {
        {"postfix/smtp", "70675A742CD: to=<bob1@example.com>, relay=none, delay=0.57, "
                         "delays=0.29/0.28/0/0, dsn=4.4.1, status=deferred (connect to "
                         "127.0.0.1[127.0.0.1]:2526: Connection refused)"},
        {"postfix/local", "9BC3CA742D7: to=<alice@mx.test>, relay=local, delay=0.1, dsn=2.0.0, "
                          "status=sent (delivered to mailbox)"},
        {"postfix/smtpd", "NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 "
                          "<x@elsewhere.test>: Relay access denied; from=<spam@bad.test> "
                          "to=<x@elsewhere.test> proto=ESMTP helo=<bad>"},
        {"sshd", "70675A742CD: to=<bob1@example.com>, status=sent (not postfix)"},
        {"postfix/local", "E2C97A742CF: to=<nobody@mx.test>, relay=local, delay=0.02, "
                          "dsn=5.1.1, status=bounced (unknown user: \"nobody\")"},
};

static void test_journal(void **state) {
        char dir[] = "/tmp/test-mail-journal.XXXXXX", path[64], msg[256];
        const char *argv[] = {JOURNAL_REMOTE, "-o", path, "-", NULL};
        const char *files[] = {path, NULL};
        struct buf b;
        sd_journal *j = NULL;
        json_t *a = NULL, *h, *e;

        (void)state;
        if (access(JOURNAL_REMOTE, X_OK) < 0)
                skip(); /* scripts/install-deps.sh test */
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/postfix.journal", dir);
        buf_init(&b, 1 << 16);
        for (size_t i = 0; i < ELEMENTSOF(journal_entries); i++)
                assert_true(buf_printf(&b,
                                       "__REALTIME_TIMESTAMP=%" PRIu64 "\n__MONOTONIC_TIMESTAMP=%zu\n"
                                       "_BOOT_ID=0123456789abcdef0123456789abcdef\n"
                                       "SYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n\n",
                                       (uint64_t)1796391000 * 1000000 + i * 1000000, 1000000 + i,
                                       journal_entries[i][0], journal_entries[i][1]) >= 0);
        assert_int_equal(change_exec(argv, b.data, msg, sizeof msg), 0);
        buf_free(&b);
        assert_int_equal(sd_journal_open_files(&j, files, 0), 0);
        assert_int_equal(activity_journal_tally(j, NOW, 2, &a), 0);
        sd_journal_close(j);
        assert_string_equal(sget(a, "source"), "journal");
        h = json_object_get(a, "hours");
        assert_int_equal(json_array_size(h), 2);
        assert_string_equal(sget(json_array_get(h, 0), "start"), "2026-12-04T12:00:00Z");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "deferred")), 0);
        h = json_array_get(h, 1);
        assert_string_equal(sget(h, "start"), "2026-12-04T13:00:00Z");
        assert_int_equal(json_integer_value(json_object_get(h, "delivered")), 1); /* not sshd's */
        assert_int_equal(json_integer_value(json_object_get(h, "deferred")), 1);
        assert_int_equal(json_integer_value(json_object_get(h, "bounced")), 1);
        assert_int_equal(json_integer_value(json_object_get(h, "rejected")), 1);
        e = json_object_get(a, "errors"); /* newest first */
        assert_int_equal(json_array_size(e), 3);
        assert_string_equal(sget(json_array_get(e, 0), "status"), "bounced");
        assert_string_equal(sget(json_array_get(e, 0), "time"), "2026-12-04T13:30:04Z");
        assert_string_equal(sget(json_array_get(e, 1), "queue_id"), "NOQUEUE");
        assert_string_equal(sget(json_array_get(e, 2), "queue_id"), "70675A742CD");
        assert_string_equal(sget(json_array_get(e, 2), "to"), "bob1@example.com");
        json_decref(a);
        /* A window that ends before the entries: nothing. */
        assert_int_equal(sd_journal_open_files(&j, files, 0), 0);
        assert_int_equal(activity_journal_tally(j, NOW - 7200, 1, &a), 0);
        sd_journal_close(j);
        assert_int_equal(json_array_size(json_object_get(a, "errors")), 0);
        json_decref(a);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* ---- change_exec_lines: postqueue -j's reader ------------------------------------------- */

struct lines {
        char got[8][16];
        size_t n;
        int fail_at;
};

static int collect(const char *line, size_t len, void *data) {
        struct lines *l = data;

        if (l->fail_at >= 0 && (size_t)l->fail_at == l->n)
                return -EBADMSG;
        assert_true(l->n < 8 && len < 16);
        memcpy(l->got[l->n], line, len);
        l->got[l->n++][len] = '\0';
        return 0;
}

static void test_exec_lines(void **state) {
        const char *argv[] = {"/usr/bin/printf", "a\n\nbb\nccc", NULL};
        struct lines l = {.fail_at = -1};
        char msg[64];

        (void)state;
        assert_int_equal(change_exec_lines(argv, 16, 1024, collect, &l, msg, sizeof msg), 0);
        assert_int_equal(l.n, 4); /* the empty line too, and the last one without '\n' */
        assert_string_equal(l.got[0], "a");
        assert_string_equal(l.got[1], "");
        assert_string_equal(l.got[2], "bb");
        assert_string_equal(l.got[3], "ccc");
        l = (struct lines){.fail_at = 2};
        assert_int_equal(change_exec_lines(argv, 16, 1024, collect, &l, msg, sizeof msg), -EBADMSG);
        assert_int_equal(l.n, 2);
        l = (struct lines){.fail_at = -1};
        assert_int_equal(change_exec_lines(argv, 2, 1024, collect, &l, msg, sizeof msg), -E2BIG);
        l = (struct lines){.fail_at = -1};
        assert_int_equal(change_exec_lines(argv, 16, 5, collect, &l, msg, sizeof msg), -E2BIG);
        const char *fails[] = {"/bin/sh", "-c", "echo x; echo oops >&2; exit 3", NULL};
        l = (struct lines){.fail_at = -1};
        assert_int_equal(change_exec_lines(fails, 16, 1024, collect, &l, msg, sizeof msg), 3);
        assert_string_equal(msg, "oops");
        assert_int_equal(l.n, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_queue_id_grammar), cmocka_unit_test(test_postqueue_lines),
                cmocka_unit_test(test_filters),          cmocka_unit_test(test_filter_grammar),
                cmocka_unit_test(test_reason_groups),    cmocka_unit_test(test_maillog_lines),
                cmocka_unit_test(test_maillog_refused),  cmocka_unit_test(test_journal_message),
                cmocka_unit_test(test_exec_lines),       cmocka_unit_test(test_journal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
