/* test-helper.c — the privilege boundary, tested by speaking the helper
 * protocol directly, as a compromised front could: a real helper serves a
 * socketpair from a child process, with its store in a scratch directory. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "helper/helper.h"
#include "log.h"
#include "modules/stewardd/stewardd.h"
#include "proto.h"
#include "util.h"

#define BOOTSTRAP "stw_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fixture {
        char dir[64];
        pid_t pid;
        int sock;
        int sock2; /* a second channel to the same helper */
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        char conf[128], token[128], err[256];
        struct helper *h = NULL;
        int sp[2], sp2[2];

        snprintf(f->dir, sizeof f->dir, "/tmp/steward-helper-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(conf, sizeof conf, "%s/stewardd.conf", f->dir);
        snprintf(token, sizeof token, "%s/bootstrap-token", f->dir);
        log_open(true);
        log_set_level(LOG_LEVEL_ERROR);
        assert_int_equal(stewardd_config_init(conf, LOG_LEVEL_ERROR, err, sizeof err), 0);
        assert_int_equal(write_file_atomic(token, BOOTSTRAP, strlen(BOOTSTRAP), 0600), 0);
        assert_int_equal(helper_new(f->dir, token, &h, err, sizeof err), 0);
        snprintf(conf, sizeof conf, "%s/stewardd.sock", f->dir);
        assert_int_equal(helper_set_peer_socket(h, conf), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2), 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                const int socks[2] = {sp[1], sp2[1]};
                close(sp[0]);
                close(sp2[0]);
                int r = helper_serve(h, socks, 2, -1);
                helper_free(h);
                _exit(r < 0 ? 3 : 0);
        }
        close(sp[1]);
        close(sp2[1]);
        helper_free(h);
        f->sock = sp[0];
        f->sock2 = sp2[0];
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char cmd[256];
        int st;

        close(f->sock);
        close(f->sock2);
        if (f->pid > 0)
                waitpid(f->pid, &st, 0);
        /* Scratch files only; names are fixed. */
        static const char *const names[] = {"stewardd.conf",  "bootstrap-token", "steward.db",
                                            "steward.db-wal", "steward.db-shm",  "stewardd.sock"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                snprintf(cmd, sizeof cmd, "%s/%s", f->dir, names[i]);
                unlink(cmd);
        }
        rmdir(f->dir);
        free(f);
        return 0;
}

static void send_on(int sock, int id, const char *op, const char *session, json_t *args) {
        json_t *req = json_pack("{s:s, s:i, s:s?, s:s, s:o*}", "op", op, "id", id, "session",
                                session, "source", "127.0.0.1:1", "args", args);

        assert_int_equal(proto_send(sock, req, -1), 0);
        json_decref(req);
}

static json_t *answer_on(int sock, int id) {
        json_t *ans = NULL;
        int fd = -1;

        assert_int_equal(proto_recv(sock, &ans, &fd), 0);
        if (fd >= 0)
                close(fd);
        assert_int_equal(json_integer_value(json_object_get(ans, "id")), id);
        return ans;
}

/* One request/answer; returns the answer (owned). */
static json_t *call(struct fixture *f, const char *op, const char *session, json_t *args) {
        send_on(f->sock, 7, op, session, args);
        return answer_on(f->sock, 7);
}

static int status_of(json_t *ans) {
        if (json_is_true(json_object_get(ans, "ok")))
                return 200;
        return (int)json_integer_value(json_object_get(json_object_get(ans, "error"), "status"));
}

static char *admin_session(struct fixture *f) {
        json_t *ans = call(f, "login_bootstrap", NULL, json_pack("{s:s}", "token", BOOTSTRAP));
        char *s;
        assert_int_equal(status_of(ans), 200);
        s = strdup(json_string_value(json_object_get(json_object_get(ans, "result"), "token")));
        json_decref(ans);
        return s;
}

static char *make_token(struct fixture *f, const char *admin, const char *role) {
        json_t *ans =
                call(f, "token_create", admin, json_pack("{s:s, s:s}", "name", "t", "role", role));
        char *s;
        assert_int_equal(status_of(ans), 200);
        s = strdup(json_string_value(json_object_get(json_object_get(ans, "result"), "token")));
        json_decref(ans);
        return s;
}

/* Every operation that needs a session, tried with none and with garbage. */
static void test_no_session_gets_nothing(void **state) {
        struct fixture *f = *state;
        static const char *const ops[] = {
                "settings_apply", "command",    "action",       "token_create", "token_list",
                "token_revoke",   "audit_list", "audit_get",    "audit_verify", "audit_rollback",
                "logout",         "csrf_check", "session_list", "session_end"};
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
                json_t *a = call(f, ops[i], NULL, json_object());
                json_t *b = call(f, ops[i],
                                 "stw_"
                                 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                                 json_object());
                assert_int_equal(status_of(a), 401);
                assert_int_equal(status_of(b), 401);
                json_decref(a);
                json_decref(b);
        }
}

static void test_unknown_and_malformed_refused(void **state) {
        struct fixture *f = *state;
        json_t *a = call(f, "become_root", NULL, json_object());
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "settings_apply", NULL, json_string("not an object"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "login", NULL, json_pack("{s:i}", "user", 1));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
}

static void test_bootstrap_is_single_use(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *a = call(f, "login_bootstrap", NULL, json_pack("{s:s}", "token", BOOTSTRAP));
        assert_int_equal(status_of(a), 401);
        json_decref(a);
        /* The admin session it made works. */
        a = call(f, "audit_verify", admin, NULL);
        assert_int_equal(status_of(a), 200);
        json_decref(a);
}

static void test_monitor_cannot_change(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        _cleanup_free_ char *mon = make_token(f, admin, "monitor");
        json_t *a;

        a = call(f, "settings_apply", mon,
                 json_pack("{s:s, s:{s:s}}", "module", "stewardd", "patch", "log_level", "debug"));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        a = call(f, "command", mon,
                 json_pack("{s:s, s:s, s:{}}", "module", "stewardd", "name", "reload", "args"));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        a = call(f, "audit_rollback", mon, json_pack("{s:s}", "id", "1"));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        a = call(f, "token_create", mon, json_pack("{s:s, s:s}", "name", "x", "role", "admin"));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        /* Reading is fine. */
        a = call(f, "audit_list", mon, NULL);
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        /* And the admin can change things, which are audited. */
        a = call(f, "settings_apply", admin,
                 json_pack("{s:s, s:{s:s}}", "module", "stewardd", "patch", "log_level", "debug"));
        assert_int_equal(status_of(a), 200);
        assert_true(json_integer_value(json_object_get(json_object_get(a, "result"), "audit_id")) >
                    0);
        json_decref(a);
}

static void test_helper_revalidates_settings(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *a = call(f, "settings_apply", admin,
                         json_pack("{s:s, s:{s:i}}", "module", "stewardd", "patch",
                                   "limits:max_connections", 0));
        assert_int_equal(status_of(a), 422);
        json_decref(a);
        a = call(f, "settings_apply", admin,
                 json_pack("{s:s, s:{s:i}}", "module", "nope", "patch", "x", 1));
        assert_int_equal(status_of(a), 404);
        json_decref(a);
}

/* What a monitor may create is audited: only the fields that mean
 * something get there, so nobody fills the audit log (and every event
 * stream) with megabytes of their choosing. */
static void test_token_fields_are_closed(void **state) {
        struct fixture *f = *state;
        char *admin = admin_session(f);
        char *mon = make_token(f, admin, "monitor");
        json_t *a;

        a = call(f, "token_create", mon, json_pack("{s:s, s:s}", "name", "t", "pad", "xxxx"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "token_revoke", mon, json_pack("{s:s, s:s}", "id", "1", "pad", "xxxx"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "token_create", mon,
                 json_pack("{s:s, s:s, s:n}", "name", "t", "role", "monitor", "expires_in"));
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        free(admin);
        free(mon);
}

/* Only live login sessions can be ended, with closed arguments; which one is
 * the caller's own the helper says from the session it checked. */
static void test_session_list_and_end(void **state) {
        struct fixture *f = *state;
        char *admin = admin_session(f);
        char *mon = make_token(f, admin, "monitor");
        json_t *a, *list, *s;
        char *text;
        int64_t own = 0, token_id;
        size_t i;

        a = call(f, "session_list", admin, NULL);
        assert_int_equal(status_of(a), 200);
        list = json_object_get(json_object_get(a, "result"), "sessions");
        assert_int_equal(json_array_size(list), 1);
        json_array_foreach(list, i, s) {
                assert_true(json_is_true(json_object_get(s, "current")));
                assert_int_equal(safe_atoi64(json_string_value(json_object_get(s, "id")), &own), 0);
        }
        text = json_dumps(a, 0);
        assert_null(strstr(text, admin + 4));
        free(text);
        json_decref(a);

        /* A token of the same account sees that account's login sessions,
         * none of them its current one; a token is not ended here. */
        a = call(f, "session_list", mon, NULL);
        assert_int_equal(status_of(a), 200);
        list = json_object_get(json_object_get(a, "result"), "sessions");
        assert_int_equal(json_array_size(list), 1);
        assert_true(json_is_false(json_object_get(json_array_get(list, 0), "current")));
        json_decref(a);
        a = call(f, "token_list", admin, NULL);
        s = json_array_get(json_object_get(json_object_get(a, "result"), "tokens"), 0);
        assert_int_equal(safe_atoi64(json_string_value(json_object_get(s, "id")), &token_id), 0);
        json_decref(a);
        a = call(f, "session_end", admin, json_pack("{s:I}", "id", (json_int_t)token_id));
        assert_int_equal(status_of(a), 404);
        json_decref(a);
        a = call(f, "session_end", admin, json_pack("{s:I}", "id", (json_int_t)own + 1000));
        assert_int_equal(status_of(a), 404);
        json_decref(a);

        /* Closed arguments. */
        a = call(f, "session_end", admin,
                 json_pack("{s:I, s:s}", "id", (json_int_t)own, "pad", "x"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "session_end", admin, json_pack("{s:s}", "id", "-1"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "session_list", admin, json_pack("{s:i}", "user", 1));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "session_list", admin, json_pack("{s:s}", "pad", "x"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);

        /* Ending one's own current session: it is gone. */
        a = call(f, "session_end", admin, json_pack("{s:I}", "id", (json_int_t)own));
        assert_int_equal(status_of(a), 200);
        assert_true(json_is_true(json_object_get(json_object_get(a, "result"), "current")));
        json_decref(a);
        a = call(f, "session_list", admin, NULL);
        assert_int_equal(status_of(a), 401);
        json_decref(a);
        free(admin);
        free(mon);
}

/* peer_session with a descriptor passed by the front. */
static int peer_status(struct fixture *f, int fd) {
        json_t *req = json_pack("{s:s, s:i, s:s, s:{}}", "op", "peer_session", "id", 7, "source",
                                "unix", "args");
        json_t *ans = NULL;
        int st;

        assert_int_equal(proto_send(f->sock, req, fd), 0);
        json_decref(req);
        assert_int_equal(proto_recv(f->sock, &ans, NULL), 0);
        st = status_of(ans);
        json_decref(ans);
        return st;
}

/* A compromised front holds the listening unix socket, which root bound:
 * the listener itself, a socket connected to it, or a socketpair all carry
 * SO_PEERCRED of root (this test runs as root, or of whoever made them) and
 * must not become a session.  Only the accepted end of a real client's
 * connection does. */
static void test_peer_session_needs_an_accepted_connection(void **state) {
        struct fixture *f = *state;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int lis, cli, acc, sp[2];

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/stewardd.sock", f->dir);
        lis = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lis >= 0);
        assert_int_equal(bind(lis, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(listen(lis, 4), 0);
        cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(cli >= 0);
        assert_int_equal(connect(cli, (struct sockaddr *)&sa, sizeof sa), 0);
        acc = accept4(lis, NULL, NULL, SOCK_CLOEXEC);
        assert_true(acc >= 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);

        assert_int_equal(peer_status(f, lis), 403);
        assert_int_equal(peer_status(f, cli), 403);
        assert_int_equal(peer_status(f, sp[0]), 403);
        assert_int_equal(peer_status(f, acc), getuid() == 0 ? 200 : 403);

        close(lis);
        close(cli);
        close(acc);
        close(sp[0]);
        close(sp[1]);
}

/* An answer past the frame cap (here a page of audit records whose args
 * are large) is an error for that request, not a reason for the helper to
 * drop the front. */
static void test_oversized_answer_is_an_error(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        _cleanup_free_ char *pad = malloc(1u << 20);
        json_t *ans;

        assert_non_null(pad);
        memset(pad, 'x', (1u << 20) - 1);
        pad[(1u << 20) - 1] = '\0';
        for (int i = 0; i < 20; i++) {
                ans = call(f, "command", admin,
                           json_pack("{s:s, s:s, s:{s:s}}", "module", "stewardd", "name", "reload",
                                     "args", "pad", pad));
                assert_int_not_equal(status_of(ans), 200);
                json_decref(ans);
        }
        ans = call(f, "audit_list", admin, json_pack("{s:i}", "limit", 500));
        assert_int_equal(status_of(ans), 500);
        json_decref(ans);
        ans = call(f, "audit_verify", admin, json_object());
        assert_int_equal(status_of(ans), 200);
        json_decref(ans);
}

static void test_broken_framing_drops_the_front(void **state) {
        struct fixture *f = *state;
        const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
        json_t *ans = NULL;
        int st;

        assert_int_equal(write(f->sock, huge, 4), 4);
        assert_int_equal(proto_recv(f->sock, &ans, NULL), -ECONNRESET);
        assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
        f->pid = -1;
}

/* A slow read (collection_read) is answered by a worker on its own
 * channel; the other channel is served meanwhile and afterwards, and the
 * slow one is served again once its worker is gone. */
static void test_slow_read_on_its_own_channel(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *ans;

        for (int round = 0; round < 3; round++) {
                send_on(f->sock2, 20 + round, "collection_read", admin,
                        json_pack("{s:s, s:s}", "collection", "groups", "id", "root"));
                send_on(f->sock, 40 + round, "session_check", NULL,
                        json_pack("{s:s}", "secret", admin));
                ans = answer_on(f->sock, 40 + round);
                assert_int_equal(status_of(ans), 200);
                json_decref(ans);
                ans = answer_on(f->sock2, 20 + round);
                assert_int_equal(status_of(ans), 200);
                assert_string_equal(
                        json_string_value(json_object_get(json_object_get(ans, "result"), "name")),
                        "root");
                json_decref(ans);
        }
        /* The session and role are checked before any worker runs. */
        send_on(f->sock2, 60, "collection_read", "stw_nope",
                json_pack("{s:s, s:s}", "collection", "groups", "id", "root"));
        ans = answer_on(f->sock2, 60);
        assert_int_equal(status_of(ans), 401);
        json_decref(ans);
}

/* Every channel is held to the framing: breaking it on the second drops
 * the front just the same. */
static void test_broken_framing_on_any_channel_drops_the_front(void **state) {
        struct fixture *f = *state;
        const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
        json_t *ans = NULL;
        int st;

        assert_int_equal(write(f->sock2, huge, 4), 4);
        assert_int_equal(proto_recv(f->sock, &ans, NULL), -ECONNRESET);
        assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
        f->pid = -1;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_no_session_gets_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_and_malformed_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_bootstrap_is_single_use, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_cannot_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_helper_revalidates_settings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_token_fields_are_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_session_list_and_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_peer_session_needs_an_accepted_connection,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_oversized_answer_is_an_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_framing_drops_the_front, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_slow_read_on_its_own_channel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_framing_on_any_channel_drops_the_front,
                                                setup, teardown),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
