/* test-auth.c — the pure parts of auth.c: the role mapping and its
 * precedence, the account-name grammar, the bounds auth_pam applies before
 * PAM is ever called, and the PAM conversation function fed directly with
 * well-formed and malformed message arrays.  Real PAM runs need an account
 * to log into and belong to the integration tests.
 *
 * The .c is included so that its static functions can be covered. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helper/auth.c"

static const char *const admins[] = {"sudo", "steward-admin", NULL};
static const char *const operators[] = {"steward-operator", "wheel", NULL};
static const char *const monitors[] = {"steward-monitor", "adm", NULL};
static const struct role_map map = {
        .admin_groups = admins,
        .operator_groups = operators,
        .monitor_groups = monitors,
};

#define ROLE(uid, ...)                                                                             \
        ({                                                                                         \
                const char *const _g[] = {__VA_ARGS__};                                            \
                role_from_groups((uid), _g, ELEMENTSOF(_g), &map);                                 \
        })

static void test_role_root(void **state) {
        assert_int_equal(role_from_groups(0, NULL, 0, &map), ROLE_ADMIN);
        assert_int_equal(role_from_groups(0, NULL, 0, NULL), ROLE_ADMIN);
        assert_int_equal(ROLE(0, "users"), ROLE_ADMIN);
}

static void test_role_each_list(void **state) {
        assert_int_equal(ROLE(1000, "sudo"), ROLE_ADMIN);
        assert_int_equal(ROLE(1000, "steward-admin"), ROLE_ADMIN);
        assert_int_equal(ROLE(1000, "steward-operator"), ROLE_OPERATOR);
        assert_int_equal(ROLE(1000, "wheel"), ROLE_OPERATOR);
        assert_int_equal(ROLE(1000, "steward-monitor"), ROLE_MONITOR);
        assert_int_equal(ROLE(1000, "adm"), ROLE_MONITOR);
}

static void test_role_precedence(void **state) {
        /* Whatever the order of the groups, the highest role wins. */
        assert_int_equal(ROLE(1000, "adm", "wheel", "sudo"), ROLE_ADMIN);
        assert_int_equal(ROLE(1000, "sudo", "wheel", "adm"), ROLE_ADMIN);
        assert_int_equal(ROLE(1000, "wheel", "adm"), ROLE_OPERATOR);
        assert_int_equal(ROLE(1000, "adm", "wheel"), ROLE_OPERATOR);
        assert_int_equal(ROLE(1000, "users", "adm", "plugdev"), ROLE_MONITOR);
        assert_int_equal(ROLE(1000, "users", "steward-monitor", "steward-admin"), ROLE_ADMIN);

        /* A group in several lists counts as the highest of them. */
        static const char *const both[] = {"ops", NULL};
        struct role_map m2 = {
                .admin_groups = NULL, .operator_groups = both, .monitor_groups = both};
        const char *const g[] = {"ops"};
        assert_int_equal(role_from_groups(1000, g, 1, &m2), ROLE_OPERATOR);
}

static void test_role_none(void **state) {
        const struct role_map empty = {0};

        assert_int_equal(ROLE(1000, "users", "plugdev"), ROLE_NONE);
        assert_int_equal(role_from_groups(1000, NULL, 0, &map), ROLE_NONE);
        assert_int_equal(ROLE(1000, NULL, "users"), ROLE_NONE);
        assert_int_equal(ROLE(1000, "Sudo", "sudo ", "sud", ""), ROLE_NONE); /* exact names */
        {
                const char *const g[] = {"sudo"};
                assert_int_equal(role_from_groups(1000, g, 1, &empty), ROLE_NONE);
                assert_int_equal(role_from_groups(1000, g, 1, NULL), ROLE_NONE);
                assert_int_equal(role_from_groups(1000, g, 0, &map), ROLE_NONE); /* n counts */
        }
}

static void test_user_name_grammar(void **state) {
        char name[80];

        assert_true(user_name_valid("alice"));
        assert_true(user_name_valid("_steward"));
        assert_true(user_name_valid("a"));
        assert_true(user_name_valid("build-bot.2"));
        assert_true(user_name_valid("host$"));
        assert_false(user_name_valid(""));
        assert_false(user_name_valid(NULL));
        assert_false(user_name_valid("Alice"));
        assert_false(user_name_valid("1alice"));
        assert_false(user_name_valid("-alice"));
        assert_false(user_name_valid(".alice"));
        assert_false(user_name_valid("al ice"));
        assert_false(user_name_valid("al:ice"));
        assert_false(user_name_valid("al$ice"));
        assert_false(user_name_valid("alice$$"));
        assert_false(user_name_valid("alice\n"));
        assert_false(user_name_valid("al\xc3\xa9"));

        memset(name, 'a', sizeof(name));
        name[32] = '\0';
        assert_true(user_name_valid(name));
        name[32] = 'a';
        name[33] = '\0';
        assert_false(user_name_valid(name));
        name[79] = '\0';
        assert_false(user_name_valid(name));
}

static void test_pam_bounds(void **state) {
        char msg[128], big[5000];

        /* Refused before PAM is started, with the same words as a wrong
         * password. */
        assert_int_equal(auth_pam("steward", "Bad User", "pw", msg, sizeof msg), -EACCES);
        assert_string_equal(msg, "wrong user or password");
        assert_int_equal(auth_pam("steward", "alice", "", msg, sizeof msg), -EACCES);
        assert_string_equal(msg, "wrong user or password");
        memset(big, 'p', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(auth_pam("steward", "alice", big, msg, sizeof msg), -EACCES);
        assert_string_equal(msg, "wrong user or password");

        /* Programming errors. */
        assert_int_equal(auth_pam(NULL, "alice", "pw", msg, sizeof msg), -EINVAL);
        assert_int_equal(auth_pam("steward", NULL, "pw", msg, sizeof msg), -EINVAL);
        assert_int_equal(auth_pam("steward", "alice", NULL, msg, sizeof msg), -EINVAL);
        assert_int_equal(auth_pam("steward", "alice", "pw", NULL, 0), -EINVAL);
        assert_int_equal(auth_pam("../shadow", "alice", "pw", msg, sizeof msg), -EINVAL);
        assert_int_equal(auth_pam("", "alice", "pw", msg, sizeof msg), -EINVAL);

        /* A short message buffer gets a truncated, terminated message. */
        assert_int_equal(auth_pam("steward", "Bad", "pw", msg, 6), -EACCES);
        assert_string_equal(msg, "wrong");
}

static void test_conversation(void **state) {
        struct conv_data d = {
                .user = "alice", .user_len = 5, .password = "s3cret", .password_len = 6};
        struct pam_message m_off = {.msg_style = PAM_PROMPT_ECHO_OFF, .msg = "Password: "};
        struct pam_message m_on = {.msg_style = PAM_PROMPT_ECHO_ON, .msg = "login: "};
        struct pam_message m_err = {.msg_style = PAM_ERROR_MSG, .msg = "oops"};
        struct pam_message m_info = {.msg_style = PAM_TEXT_INFO, .msg = "hello"};
        struct pam_message m_bad = {.msg_style = 4242, .msg = "?"};
        const struct pam_message *four[] = {&m_info, &m_on, &m_err, &m_off};
        struct pam_response *resp = (void *)1;

        assert_int_equal(conversation(4, four, &resp, &d), PAM_SUCCESS);
        assert_non_null(resp);
        assert_null(resp[0].resp);
        assert_string_equal(resp[1].resp, "alice");
        assert_null(resp[2].resp);
        assert_string_equal(resp[3].resp, "s3cret");
        responses_free(resp, 4);

        /* Malformed arrays: a conversation error, *resp left NULL, and the
         * responses already built freed (ASan's leak check sees the rest). */
        const struct pam_message *with_null[] = {&m_off, NULL};
        const struct pam_message *with_bad[] = {&m_off, &m_on, &m_bad};
        const struct pam_message *many[PAM_MAX_NUM_MSG + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = &m_info;

        resp = (void *)1;
        assert_int_equal(conversation(2, with_null, &resp, &d), PAM_CONV_ERR);
        assert_null(resp);
        resp = (void *)1;
        assert_int_equal(conversation(3, with_bad, &resp, &d), PAM_CONV_ERR);
        assert_null(resp);
        resp = (void *)1;
        assert_int_equal(conversation(0, four, &resp, &d), PAM_CONV_ERR);
        assert_null(resp);
        resp = (void *)1;
        assert_int_equal(conversation(-1, four, &resp, &d), PAM_CONV_ERR);
        assert_null(resp);
        resp = (void *)1;
        assert_int_equal(conversation(1, NULL, &resp, &d), PAM_CONV_ERR);
        assert_null(resp);
        resp = (void *)1;
        assert_int_equal(conversation(1, four, &resp, NULL), PAM_CONV_ERR);
        assert_null(resp);
        resp = (void *)1;
        assert_int_equal(conversation(PAM_MAX_NUM_MSG + 1, many, &resp, &d), PAM_CONV_ERR);
        assert_null(resp);
        assert_int_equal(conversation(1, four, NULL, &d), PAM_CONV_ERR);

        assert_int_equal(conversation(PAM_MAX_NUM_MSG, many, &resp, &d), PAM_SUCCESS);
        responses_free(resp, PAM_MAX_NUM_MSG);
}

static void test_role_lookup(void **state) {
        char user[64], small[4];
        enum role role = ROLE_NONE;
        uid_t uid = 4242;

        /* Read-only look-ups of accounts every Linux system has. */
        assert_int_equal(auth_role_for_user("root", &map, &role, &uid), 0);
        assert_int_equal(role, ROLE_ADMIN);
        assert_int_equal(uid, 0);
        assert_int_equal(auth_role_for_uid(0, &map, &role, user, sizeof user), 0);
        assert_string_equal(user, "root");
        assert_int_equal(auth_role_for_uid(0, &map, &role, small, sizeof small), -ENOBUFS);

        role = ROLE_MONITOR;
        assert_int_equal(auth_role_for_user("no-such-user-steward", &map, &role, &uid), -ENOENT);
        assert_int_equal(role, ROLE_MONITOR); /* untouched */
        assert_int_equal(auth_role_for_user("Not Valid", &map, &role, &uid), -EINVAL);
        assert_int_equal(auth_role_for_uid((uid_t)-2, &map, &role, user, sizeof user), -ENOENT);

        /* nobody (65534) is in no Steward group. */
        if (auth_role_for_user("nobody", &map, &role, &uid) == 0) {
                assert_int_equal(role, ROLE_NONE);
                assert_int_equal(uid, 65534);
        }
}

/* pam_unix's rules for whether a shadow entry may still log in, day by day. */
static void test_shadow_can_log_in(void **state) {
        static const struct {
                const char *pw;
                long lstchg, max, expire, today;
                bool ok;
        } cases[] = {
                {"$y$j9T$abc", 20000, -1, -1, 20100, true},   /* no aging */
                {"$y$j9T$abc", -1, -1, -1, 20100, true},      /* no last change at all */
                {"!$y$j9T$abc", 20000, -1, -1, 20100, false}, /* usermod -L */
                {"*", 20000, -1, -1, 20100, false},
                {"!", 20000, -1, -1, 20100, false},
                {"", 20000, -1, -1, 20100, false},            /* no password */
                {"$y$j9T$abc", 0, -1, -1, 20100, false},      /* chage -d 0: change it now */
                {"$y$j9T$abc", 20000, 100, -1, 20100, true},  /* the last day it is good */
                {"$y$j9T$abc", 20000, 100, -1, 20101, false}, /* aged out */
                {"$y$j9T$abc", 20200, 100, -1, 20100, true},  /* changed "in the future" */
                {"$y$j9T$abc", 20000, -1, 20101, 20100, true},
                {"$y$j9T$abc", 20000, -1, 20100, 20100, false}, /* account expired today */
                {"$y$j9T$abc", 20000, -1, 0, 20100, false},     /* chage -E 0 */
                {NULL, 20000, -1, -1, 20100, false},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(shadow_can_log_in(cases[i].pw, cases[i].lstchg, cases[i].max,
                                                   cases[i].expire, cases[i].today),
                                 cases[i].ok);
}

/* A token outlives no lock, no forced change and no account expiry, but an
 * account that never had a password (root on a sudo-only host) keeps the
 * tokens its local sessions made. */
static void test_shadow_can_use_tokens(void **state) {
        static const struct {
                const char *pw;
                long lstchg, max, expire, today;
                bool ok;
        } cases[] = {
                {"$y$j9T$abc", 20000, -1, -1, 20100, true},
                {"!$y$j9T$abc", 20000, -1, -1, 20100, false}, /* usermod -L */
                {"$y$j9T$abc", 0, -1, -1, 20100, false},      /* chage -d 0 */
                {"$y$j9T$abc", 20000, 100, -1, 20101, false}, /* aged out */
                {"$y$j9T$abc", 20000, -1, 0, 20100, false},   /* chage -E 0 */
                {"*", 20000, -1, -1, 20100, true},            /* never had a password */
                {"!", 20000, -1, -1, 20100, true},
                {"!*", 20000, -1, -1, 20100, true},
                {"", 0, -1, -1, 20100, true},
                {"*", 20000, -1, 0, 20100, false}, /* expired all the same */
                {NULL, 20000, -1, -1, 20100, false},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(shadow_can_use_tokens(cases[i].pw, cases[i].lstchg, cases[i].max,
                                                       cases[i].expire, cases[i].today),
                                 cases[i].ok);
}

/* The account as it is now: root always exists, with the admin role; no
 * such user is -ENOENT, and so is a name no account can have. */
static void test_account_now(void **state) {
        struct account_now a;

        (void)state;
        assert_int_equal(auth_account_now("root", &map, 1764151200, &a), 0);
        assert_int_equal(a.uid, 0);
        assert_int_equal(a.role, ROLE_ADMIN);
        assert_int_equal(auth_account_now("no-such-user-here", &map, 1764151200, &a), -ENOENT);
        assert_int_equal(auth_account_now("Not An Account", &map, 1764151200, &a), -ENOENT);
        assert_int_equal(auth_account_now("root", &map, 0, &a), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_role_root),         cmocka_unit_test(test_role_each_list),
                cmocka_unit_test(test_role_precedence),   cmocka_unit_test(test_role_none),
                cmocka_unit_test(test_user_name_grammar), cmocka_unit_test(test_pam_bounds),
                cmocka_unit_test(test_conversation),      cmocka_unit_test(test_role_lookup),
                cmocka_unit_test(test_shadow_can_log_in), cmocka_unit_test(test_shadow_can_use_tokens),
                cmocka_unit_test(test_account_now),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
