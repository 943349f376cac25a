/* test-guard.c — the guards of account changes (acct_guard in
 * src/modules/users/acctdb.c) on states made here: whichever field makes an
 * account unable to log in (lock, account expiry, a password to change
 * first), it may not happen to oneself nor to the last admin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "config.h"
#include "modules/users/acctdb.h"

#define PASSWD                                                                                     \
        "root:x:0:0:root:/root:/bin/bash\n"                                                        \
        "alice:x:1000:1000::/home/alice:/bin/sh\n"                                                 \
        "amy:x:1001:1001::/home/amy:/bin/sh\n"

/* What alice's shadow entry says; amy's is always fine. */
enum alice { OK, LOCKED, EXPIRED, EXPIRES_LATER, MUST_CHANGE, AGED, STAR };

static char *shadow_text(enum alice a, long long today) {
        char *s = NULL;
        const char *pw = a == LOCKED ? "!$y$j9T$x" : a == STAR ? "*" : "$y$j9T$x";
        long long lastchg = a == MUST_CHANGE ? 0 : a == AGED ? today - 100 : today - 1;
        long long max = a == AGED ? 30 : 99999;
        char expire[24] = "";

        if (a == EXPIRED || a == EXPIRES_LATER)
                snprintf(expire, sizeof expire, "%lld", a == EXPIRED ? today : today + 10);
        assert_true(asprintf(&s,
                             "root:*:%lld:0:99999:7:::\n"
                             "alice:%s:%lld:0:%lld:7::%s:\n"
                             "amy:$y$j9T$y:%lld:0:99999:7:::\n",
                             today, pw, lastchg, max, expire, today) > 0);
        return s;
}

static void state(struct account_state *s, enum alice a, const char *sudo_members) {
        long long today = (long long)(time(NULL) / 86400);

        *s = (struct account_state){0};
        s->text[0] = strdup(PASSWD);
        s->text[1] = shadow_text(a, today);
        assert_true(asprintf(&s->text[2], "root:x:0:\nsudo:x:27:%s\nalice:x:1000:\namy:x:1001:\n",
                             sudo_members) > 0);
        for (size_t i = 0; i < 3; i++)
                s->len[i] = strlen(s->text[i]);
}

static const struct row {
        const char *self;
        const char *members_before, *members_after;
        enum alice before, after;
        const char *code; /* "" allowed */
} rows[] = {
        /* oneself, with another admin left */
        {"alice", "alice,amy", "alice,amy", OK, LOCKED, "self"},
        {"alice", "alice,amy", "alice,amy", OK, EXPIRED, "self"},
        {"alice", "alice,amy", "alice,amy", OK, MUST_CHANGE, "self"},
        {"alice", "alice,amy", "alice,amy", OK, AGED, "self"},
        {"alice", "alice,amy", "alice,amy", OK, STAR, "self"},
        {"alice", "alice,amy", "amy", OK, OK, "self"},
        {"alice", "alice,amy", "alice,amy", OK, EXPIRES_LATER, ""},
        /* another admin may, while one is left */
        {"amy", "alice,amy", "alice,amy", OK, EXPIRED, ""},
        {"amy", "alice,amy", "alice,amy", OK, MUST_CHANGE, ""},
        {"amy", "alice,amy", "alice,amy", OK, LOCKED, ""},
        /* the last admin (root does not count) */
        {NULL, "alice", "alice", OK, LOCKED, "last_admin"},
        {NULL, "alice", "alice", OK, EXPIRED, "last_admin"},
        {NULL, "alice", "alice", OK, MUST_CHANGE, "last_admin"},
        {NULL, "alice", "alice", OK, AGED, "last_admin"},
        {NULL, "alice", "", OK, OK, "last_admin"},
        {NULL, "alice", "alice", OK, EXPIRES_LATER, ""},
        /* an admin who could not log in before is not lost by a change */
        {"amy", "alice,amy", "alice,amy", EXPIRED, LOCKED, ""},
        {NULL, "alice", "alice", AGED, LOCKED, ""},
};

static void test_guard_rows(void **unused) {
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                const struct row *r = &rows[i];
                struct account_state before, after;
                struct module_error e = {0};
                int ret;

                state(&before, r->before, r->members_before);
                state(&after, r->after, r->members_after);
                ret = acct_guard(&before, &after, (void *)r->self, &e);
                if (r->code[0] ? ret >= 0 || strcmp(e.code, r->code) != 0 : ret < 0)
                        fail_msg("row %zu: got %d \"%s\" (%s), expected \"%s\"", i, ret, e.code,
                                 e.message, r->code);
                account_state_done(&before);
                account_state_done(&after);
        }
}

int main(void) {
        char dir[] = "/tmp/steward-guard-XXXXXX", conf[64], err[256];
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_guard_rows),
        };
        int r;

        assert_non_null(mkdtemp(dir));
        snprintf(conf, sizeof conf, "%s/stewardd.conf", dir);
        log_open(true);
        log_set_level(LOG_LEVEL_ERROR);
        if (steward_config_init(conf, LOG_LEVEL_ERROR, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        r = cmocka_run_group_tests(tests, NULL, NULL);
        unlink(conf);
        rmdir(dir);
        return r;
}
