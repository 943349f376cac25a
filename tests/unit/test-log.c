/* test-log.c — the log's targets and its journal entries (log.h): which
 * target the environment picks, and what a line sent to the journal
 * carries, through a sink swapped in for sd_journal_sendv.  The packaged
 * container test checks the same fields end to end with journalctl. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define MAX_FIELDS 16

static char fields[MAX_FIELDS][4096];
static int n_fields, n_entries;

static void sink(const struct iovec *iov, int n) {
        n_entries++;
        n_fields = 0;
        for (int i = 0; i < n && i < MAX_FIELDS; i++) {
                assert_true(iov[i].iov_len < sizeof fields[i]);
                memcpy(fields[i], iov[i].iov_base, iov[i].iov_len);
                fields[i][iov[i].iov_len] = '\0';
                n_fields++;
        }
}

/* The value of NAME in the last entry, or NULL. */
static const char *field(const char *name) {
        size_t nl = strlen(name);
        for (int i = 0; i < n_fields; i++)
                if (strncmp(fields[i], name, nl) == 0 && fields[i][nl] == '=')
                        return fields[i] + nl + 1;
        return NULL;
}

static int setup(void **state) {
        (void)state;
        n_entries = n_fields = 0;
        log_set_level(LOG_LEVEL_INFO);
        log_set_journal_sink(LOG_TARGET_JOURNAL, sink);
        return 0;
}

static int teardown(void **state) {
        (void)state;
        log_set_journal_sink(LOG_TARGET_STDERR, NULL);
        return 0;
}

/* The sample the container test looks for: a failed login. */
static void test_failed_login_fields(void **state) {
        (void)state;
        log_fields(LOG_LEVEL_WARNING,
                   &(struct log_fields){.user = "alice",
                                        .source = "192.0.2.7:51234",
                                        .module = "auth",
                                        .operation = "login"},
                   "login failed for user \"%s\" from %s: %s", "alice", "192.0.2.7:51234",
                   "wrong user or password");
        assert_int_equal(n_entries, 1);
        assert_string_equal(field("MESSAGE"), "login failed for user \"alice\" from "
                                              "192.0.2.7:51234: wrong user or password");
        assert_string_equal(field("PRIORITY"), "4");
        assert_string_equal(field("SYSLOG_IDENTIFIER"), "stewardd");
        assert_string_equal(field("STEWARD_USER"), "alice");
        assert_string_equal(field("STEWARD_SOURCE"), "192.0.2.7:51234");
        assert_string_equal(field("STEWARD_MODULE"), "auth");
        assert_string_equal(field("STEWARD_OPERATION"), "login");
        assert_null(field("STEWARD_AUDIT_ID"));
}

static void test_audit_id_and_socket_source(void **state) {
        (void)state;
        log_fields(LOG_LEVEL_NOTICE,
                   &(struct log_fields){.user = "root",
                                        .source = "unix:uid=0,pid=42",
                                        .module = "system",
                                        .operation = "settings",
                                        .audit_id = 17},
                   "audit record %d", 17);
        assert_string_equal(field("PRIORITY"), "5");
        assert_string_equal(field("STEWARD_AUDIT_ID"), "17");
        assert_string_equal(field("STEWARD_SOURCE"), "socket");
        assert_string_equal(field("MESSAGE"), "audit record 17");
}

/* Lines without fields carry only the three standard ones; unknown
 * fields are left out, not sent empty. */
static void test_plain_line(void **state) {
        (void)state;
        log_error("cannot open %s", "/x");
        assert_int_equal(n_fields, 3);
        assert_string_equal(field("PRIORITY"), "3");
        log_fields(LOG_LEVEL_INFO, &(struct log_fields){.user = "", .module = "ports"}, "x");
        assert_int_equal(n_fields, 4);
        assert_null(field("STEWARD_USER"));
        assert_string_equal(field("STEWARD_MODULE"), "ports");
}

/* A peer-chosen value cannot add a field or a line: control characters
 * are replaced, and a long value is cut without splitting a character. */
static void test_values_sanitised(void **state) {
        char longname[600];
        (void)state;

        log_fields(LOG_LEVEL_WARNING,
                   &(struct log_fields){.user = "eve\nSTEWARD_USER=root", .source = "a\tb"},
                   "login failed for user \"%s\"", "eve\nlogin failed from 6.6.6.6:1: x");
        assert_string_equal(field("STEWARD_USER"), "eve?STEWARD_USER=root");
        assert_string_equal(field("STEWARD_SOURCE"), "a?b");
        assert_null(strchr(field("MESSAGE"), '\n'));
        assert_int_equal(n_fields, 5);

        memset(longname, 'a', sizeof longname);
        memcpy(longname + LOG_FIELD_MAX - 2, "\xc3\xa9", 2); /* é across the cut */
        longname[sizeof longname - 1] = '\0';
        log_fields(LOG_LEVEL_WARNING, &(struct log_fields){.user = longname}, "x");
        assert_int_equal(strlen(field("STEWARD_USER")), LOG_FIELD_MAX - 2);
}

static void test_message_bounded(void **state) {
        static char big[3 * LOG_MESSAGE_MAX];
        (void)state;

        memset(big, 'm', sizeof big - 1);
        log_fields(LOG_LEVEL_WARNING, NULL, "%s", big);
        assert_int_equal(strlen(field("MESSAGE")), LOG_MESSAGE_MAX - 1);
}

static void test_level_filters(void **state) {
        (void)state;
        log_fields(LOG_LEVEL_DEBUG, &(struct log_fields){.user = "a"}, "hidden");
        assert_int_equal(n_entries, 0);
}

/* stderr is the journal only if JOURNAL_STREAM names stderr itself. */
static void test_target_detect(void **state) {
        struct stat st;
        char mine[64];
        (void)state;

        assert_int_equal(fstat(STDERR_FILENO, &st), 0);
        snprintf(mine, sizeof mine, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        assert_int_equal(log_target_detect(true, mine, NULL), LOG_TARGET_JOURNAL);
        assert_int_equal(log_target_detect(false, mine, NULL), LOG_TARGET_JOURNAL);
        snprintf(mine, sizeof mine, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino + 1);
        assert_int_equal(log_target_detect(true, mine, NULL), LOG_TARGET_STDERR);
        assert_int_equal(log_target_detect(true, "x:1", NULL), LOG_TARGET_STDERR);
        assert_int_equal(log_target_detect(true, NULL, NULL), LOG_TARGET_STDERR);
        /* Not in the foreground: the journal's socket decides. */
        assert_int_equal(log_target_detect(false, NULL, "/nonexistent/socket"), LOG_TARGET_SYSLOG);
        assert_int_equal(log_target_detect(false, NULL, "/dev/null"), LOG_TARGET_JOURNAL);
        assert_int_equal(log_target_detect(true, NULL, "/dev/null"), LOG_TARGET_STDERR);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_failed_login_fields, setup, teardown),
                cmocka_unit_test_setup_teardown(test_audit_id_and_socket_source, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plain_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_values_sanitised, setup, teardown),
                cmocka_unit_test_setup_teardown(test_message_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_level_filters, setup, teardown),
                cmocka_unit_test(test_target_detect),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
