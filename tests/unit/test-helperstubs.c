/* test-helperstubs.c — the front's typed stubs against the operation table:
 * every stub sends the operation it is named after, with arguments its row
 * of helper_ops accepts (the helper's own check, helper_op_check_args), so
 * a stub and the table cannot drift apart; and every operation of the
 * table is sent by some stub (or, for the metrics history's three, by the
 * history's backend through helper_op_call), so an operation added without
 * its stub fails here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/helperstubs.h"
#include "util.h"

static bool sent[HELPER_OP__COUNT];
static enum helper_op last_op;
static int last_fd;

/* A transport that checks what it is given as the helper would. */
static int checking_call(enum helper_op op, const char *session, const char *source, json_t *args,
                         int fd, json_t **ret, json_t **ret_details, struct module_error *e) {
        int r;

        assert_true((unsigned)op < HELPER_OP__COUNT);
        r = helper_op_check_args(op, args, e);
        if (r < 0)
                fail_msg("the stub of %s sends what its row refuses: %s", helper_ops[op].name,
                         e->message);
        sent[op] = true;
        last_op = op;
        last_fd = fd;
        json_decref(args);
        *ret = json_object();
        return 0;
}

static const struct helper_link checking = {.call = checking_call, .session = "s", .source = "t"};

#define SENDS(expected, call)                                                                      \
        do {                                                                                       \
                struct module_error e_ = {0};                                                      \
                json_t *ret = NULL;                                                                \
                (void)ret;                                                                         \
                assert_int_equal((call), 0);                                                       \
                assert_int_equal(last_op, (expected));                                             \
                json_decref(ret);                                                                  \
        } while (0)

static void test_every_stub_fits_its_row(void **state) {
        memset(sent, 0, sizeof sent);
        SENDS(HELPER_OP_SESSION_CHECK, helper_op_session_check(&checking, "stw_x", &ret, &e_));
        SENDS(HELPER_OP_CSRF_CHECK, helper_op_csrf_check(&checking, "c", &e_));
        SENDS(HELPER_OP_CSRF_RENEW, helper_op_csrf_renew(&checking, &ret, &e_));
        SENDS(HELPER_OP_PEER_SESSION, helper_op_peer_session(&checking, 5, &ret, &e_));
        assert_int_equal(last_fd, 5);
        SENDS(HELPER_OP_PEER_END, helper_op_peer_end(&checking, &e_));
        SENDS(HELPER_OP_LOGIN, helper_op_login(&checking, "alice", "pw", 6, &ret, &e_));
        assert_int_equal(last_fd, 6);
        SENDS(HELPER_OP_LOGIN_BOOTSTRAP,
              helper_op_login_bootstrap(&checking, "stw_b", -1, &ret, &e_));
        SENDS(HELPER_OP_LOGOUT, helper_op_logout(&checking, &ret, &e_));
        SENDS(HELPER_OP_TOKEN_CREATE,
              helper_op_token_create(&checking,
                                     json_pack("{s:s, s:s, s:i}", "name", "n", "role", "monitor",
                                               "expires_in", 3600),
                                     &ret, &e_));
        SENDS(HELPER_OP_TOKEN_LIST, helper_op_token_list(&checking, &ret, &e_));
        SENDS(HELPER_OP_TOKEN_REVOKE, helper_op_token_revoke(&checking, 7, &ret, &e_));
        SENDS(HELPER_OP_SESSION_LIST, helper_op_session_list(&checking, NULL, &ret, &e_));
        SENDS(HELPER_OP_SESSION_LIST, helper_op_session_list(&checking, "bob", &ret, &e_));
        SENDS(HELPER_OP_SESSION_END, helper_op_session_end(&checking, 8, &ret, &e_));
        SENDS(HELPER_OP_SETTINGS_APPLY,
              helper_op_settings_apply(&checking, "stewardd",
                                       json_pack("{s:s}", "log_level", "info"), true, &ret, &e_));
        SENDS(HELPER_OP_COMMAND,
              helper_op_command(&checking, "stewardd", "reload", json_object(), false, &ret, &e_));
        SENDS(HELPER_OP_ACTION, helper_op_action(&checking, "system", "restart", &ret, &e_));
        SENDS(HELPER_OP_MODULE_READ,
              helper_op_module_read(&checking, "ports", json_pack("{s:[]}", "inodes"), &ret, &e_));
        SENDS(HELPER_OP_AUDIT_LIST,
              helper_op_audit_list(&checking, NULL, 0, NULL, NULL, &ret, &e_));
        SENDS(HELPER_OP_AUDIT_LIST,
              helper_op_audit_list(&checking, "12", 500, "users", "alice", &ret, &e_));
        SENDS(HELPER_OP_AUDIT_GET, helper_op_audit_get(&checking, "12", &ret, &e_));
        SENDS(HELPER_OP_AUDIT_VERIFY, helper_op_audit_verify(&checking, &ret, &e_));
        SENDS(HELPER_OP_AUDIT_FORWARDING, helper_op_audit_forwarding(&checking, &ret, &e_));
        SENDS(HELPER_OP_AUDIT_ROLLBACK,
              helper_op_audit_rollback(&checking, "12", false, &ret, &e_));
        SENDS(HELPER_OP_AUDIT_SINCE, helper_op_audit_since(&checking, 0, &ret, &e_));
        SENDS(HELPER_OP_AUDIT_REFUSED,
              helper_op_audit_refused(&checking, "PATCH", "/api/v1/modules/system/settings",
                                      "this needs the role admin", &e_));
        SENDS(HELPER_OP_FRONT_POLL, helper_op_front_poll(&checking, &ret, &e_));
        SENDS(HELPER_OP_MODULE_GAUGES, helper_op_module_gauges(&checking, &ret, &e_));
        SENDS(HELPER_OP_MONITOR_READ,
              helper_op_monitor_read(&checking, json_pack("{s:s}", "collection", "shares"), &ret,
                                     &e_));
        SENDS(HELPER_OP_MONITOR_READ,
              helper_op_monitor_read(&checking,
                                     json_pack("{s:s, s:{s:[]}}", "module", "ports", "args",
                                               "inodes"),
                                     &ret, &e_));
        SENDS(HELPER_OP_AUDIT_CHECK, helper_op_audit_check(&checking, &ret, &e_));
        SENDS(HELPER_OP_MODULE_TASK,
              helper_op_module_task(&checking, "alerts", json_object(), &ret, &e_));
        SENDS(HELPER_OP_COLLECTION_READ,
              helper_op_collection_read(&checking, "users", NULL, json_object(), &ret, &e_));
        SENDS(HELPER_OP_COLLECTION_READ,
              helper_op_collection_read(&checking, "users", "root",
                                        json_pack("{s:s}", "home_size", "1"), &ret, &e_));
        SENDS(HELPER_OP_COLLECTION_WRITE,
              helper_op_collection_write(&checking, "users", "create", NULL,
                                         json_pack("{s:s}", "name", "x"), json_object(), true, &ret,
                                         &e_));
        SENDS(HELPER_OP_COLLECTION_WRITE,
              helper_op_collection_write(&checking, "groups", "delete", "g", json_object(),
                                         json_object(), false, &ret, &e_));
        SENDS(HELPER_OP_COLLECTION_ACTION,
              helper_op_collection_action(&checking, "users", "alice", "expire-password",
                                          json_pack("{s:b}", "force", true), true, &ret, &e_));
        SENDS(HELPER_OP_COLLECTION_ACTION,
              helper_op_collection_action(&checking, "users", "alice", "expire-password", NULL,
                                          false, &ret, &e_));
        /* The metrics history's backend (history.h), in the shapes it sends. */
        SENDS(HELPER_OP_METRICS_STORE,
              helper_op_call(&checking, HELPER_OP_METRICS_STORE,
                             json_pack("{s:[{s:i, s:{}}]}", "points", "t", 60, "series"), -1, &ret,
                             &e_));
        SENDS(HELPER_OP_METRICS_QUERY,
              helper_op_call(&checking, HELPER_OP_METRICS_QUERY,
                             json_pack("{s:s, s:s, s:i, s:i, s:i}", "series", "cpu.busy", "tier",
                                       "minute", "from", 60, "step", 60, "points", 10),
                             -1, &ret, &e_));
        SENDS(HELPER_OP_METRICS_RECENT,
              helper_op_call(&checking, HELPER_OP_METRICS_RECENT, json_pack("{s:i}", "from", 0), -1,
                             &ret, &e_));
        /* Modules' own background state (module.h modules_helper_call). */
        SENDS(HELPER_OP_MODULE_STATE_PUT,
              helper_op_call(&checking, HELPER_OP_MODULE_STATE_PUT,
                             json_pack("{s:s, s:s, s:{}}", "module", "alerts", "key", "engine",
                                       "value"),
                             -1, &ret, &e_));
        SENDS(HELPER_OP_MODULE_STATE_GET,
              helper_op_call(&checking, HELPER_OP_MODULE_STATE_GET,
                             json_pack("{s:s, s:s}", "module", "alerts", "key", "engine"), -1,
                             &ret, &e_));
        SENDS(HELPER_OP_MODULE_LOG_APPEND,
              helper_op_call(&checking, HELPER_OP_MODULE_LOG_APPEND,
                             json_pack("{s:s, s:[{}]}", "module", "alerts", "records"), -1, &ret,
                             &e_));
        SENDS(HELPER_OP_MODULE_LOG_LIST,
              helper_op_call(&checking, HELPER_OP_MODULE_LOG_LIST,
                             json_pack("{s:s, s:i, s:i, s:{s:s}}", "module", "alerts", "before",
                                       10, "limit", 5, "match", "rule", "x"),
                             -1, &ret, &e_));

        for (size_t i = 0; i < HELPER_OP__COUNT; i++)
                if (!sent[i])
                        fail_msg("no stub sends %s: add one (helperstubs.h) and a line here",
                                 helper_ops[i].name);
}

/* Without a helper, every stub is a 503, and json arguments are still
 * taken over (the leak checker sees it otherwise). */
static void test_no_helper_is_unavailable(void **state) {
        const struct helper_link none = {0};
        struct module_error e = {0};
        json_t *ret = NULL;

        assert_int_equal(
                helper_op_settings_apply(&none, "stewardd", json_object(), false, &ret, &e),
                -EPIPE);
        assert_int_equal(e.status, 503);
        assert_null(ret);
}

/* A refusal's details reach the caller only when it asks for them. */
static int refusing_call(enum helper_op op, const char *session, const char *source, json_t *args,
                         int fd, json_t **ret, json_t **ret_details, struct module_error *e) {
        json_decref(args);
        module_error_set(e, 409, "conflict", NULL, "changed since");
        if (ret_details)
                *ret_details = json_pack("{s:[]}", "files");
        return -EACCES;
}

static void test_details_of_a_refusal(void **state) {
        json_t *details = NULL, *ret = NULL;
        struct helper_link l = {.call = refusing_call, .details = &details};
        struct module_error e = {0};

        assert_int_equal(helper_op_audit_rollback(&l, "3", false, &ret, &e), -EACCES);
        assert_int_equal(e.status, 409);
        assert_non_null(json_object_get(details, "files"));
        json_decref(details);
        l.details = NULL;
        assert_int_equal(helper_op_audit_rollback(&l, "3", false, &ret, &e), -EACCES);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_stub_fits_its_row),
                cmocka_unit_test(test_no_helper_is_unavailable),
                cmocka_unit_test(test_details_of_a_refusal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
