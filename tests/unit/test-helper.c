/* test-helper.c — the privilege boundary, tested by speaking the helper
 * protocol directly, as a compromised front could: a real helper serves a
 * socketpair from a child process, with its store in a scratch directory. */
#include <errno.h>
#include <fcntl.h>
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
#include "helper/modstate.h"
#include "log.h"
#include "config.h"
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
        assert_int_equal(steward_config_init(conf, LOG_LEVEL_ERROR, err, sizeof err), 0);
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

/* The same with the source the front claims and a descriptor to pass. */
static json_t *call_from(struct fixture *f, const char *op, const char *source, json_t *args,
                         int fd) {
        json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "op", op, "id", 7, "source", source, "args",
                                args);
        json_t *ans = NULL;

        assert_int_equal(proto_send(f->sock, req, fd), 0);
        json_decref(req);
        assert_int_equal(proto_recv(f->sock, &ans, NULL), 0);
        return ans;
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

/* Once checked, the session's secret is wiped from the request, so that a
 * worker forked for it (and what that worker forks: a network probe) does
 * not hold it.  In-process, on a helper of its own. */
static void test_checked_secret_is_wiped(void **state) {
        char dir[] = "/tmp/steward-helper-wipe-XXXXXX", token[128], err[256];
        struct helper *h = NULL;
        json_t *req, *ans;
        char *secret;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(token, sizeof token, "%s/bootstrap-token", dir);
        assert_int_equal(write_file_atomic(token, BOOTSTRAP, strlen(BOOTSTRAP), 0600), 0);
        assert_int_equal(helper_new(dir, token, &h, err, sizeof err), 0);
        req = json_pack("{s:s, s:i, s:s, s:{s:s}}", "op", "login_bootstrap", "id", 1, "source",
                        "127.0.0.1:1", "args", "token", BOOTSTRAP);
        ans = helper_dispatch(h, req, -1);
        json_decref(req);
        assert_true(json_is_true(json_object_get(ans, "ok")));
        secret = strdup(json_string_value(json_object_get(json_object_get(ans, "result"), "token")));
        json_decref(ans);
        req = json_pack("{s:s, s:i, s:s, s:s}", "op", "session_list", "id", 2, "session", secret,
                        "source", "127.0.0.1:1");
        ans = helper_dispatch(h, req, -1);
        assert_true(json_is_true(json_object_get(ans, "ok")));
        const char *left = json_string_value(json_object_get(req, "session"));
        assert_non_null(left);
        for (size_t i = 0; i < strlen(secret); i++)
                if (left[i] != '\0')
                        fail_msg("byte %zu of the secret is still in the request", i);
        json_decref(ans);
        json_decref(req);
        free(secret);
        helper_free(h);
        char cmd[128];
        const char *names[] = {"bootstrap-token", "steward.db", "steward.db-wal",
                               "steward.db-shm"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
                snprintf(cmd, sizeof cmd, "%s/%s", dir, names[i]);
                unlink(cmd);
        }
        assert_int_equal(rmdir(dir), 0);
}

/* Every operation that needs a session (its row in helper_ops says so),
 * tried with none and with garbage. */
static void test_no_session_gets_nothing(void **state) {
        struct fixture *f = *state;
        size_t n = 0;

        for (size_t i = 0; i < HELPER_OP__COUNT; i++) {
                const char *op = helper_ops[i].name;
                if (!(helper_ops[i].flags & HELPER_OPF_SESSION))
                        continue;
                n++;
                json_t *a = call(f, op, NULL, json_object());
                json_t *b = call(f, op,
                                 "stw_"
                                 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                                 json_object());
                if (status_of(a) != 401 || status_of(b) != 401)
                        fail_msg("%s without a live session: %d and %d, expected 401", op,
                                 status_of(a), status_of(b));
                json_decref(a);
                json_decref(b);
        }
        assert_true(n >= 20);
}

/* The table itself: one row per operation, a name each (unique), a
 * handler each, a session exactly where a role is needed, slow only for
 * reads. */
static void test_op_table_is_whole(void **state) {
        for (size_t i = 0; i < HELPER_OP__COUNT; i++) {
                const struct helper_op_def *d = &helper_ops[i];
                enum helper_op back;

                if (!d->name)
                        fail_msg("operation %zu has no row", i);
                if (!helper_op_handled((enum helper_op)i))
                        fail_msg("%s has no handler", d->name);
                assert_int_equal(helper_op_from_name(d->name, &back), 0);
                assert_int_equal(back, i);
                if (!(d->flags & HELPER_OPF_SESSION) != (d->min_role == ROLE_NONE))
                        fail_msg("%s: a session is needed exactly when a role is", d->name);
                if ((d->flags & HELPER_OPF_SLOW) && !(d->flags & HELPER_OPF_READS_ONLY))
                        fail_msg("%s: only reads may be slow", d->name);
                if ((d->flags & HELPER_OPF_AUDITED) && (d->flags & HELPER_OPF_READS_ONLY))
                        fail_msg("%s: audited yet reads only", d->name);
                /* An audited worker leaves its record to the helper; it is
                 * never also a slow read's worker, which answers itself. */
                if ((d->flags & HELPER_OPF_WORKER) &&
                    (!(d->flags & HELPER_OPF_AUDITED) || (d->flags & HELPER_OPF_SLOW)))
                        fail_msg("%s: a worker's operation is audited and not slow", d->name);
                for (size_t k = 0; k < d->n_args; k++)
                        for (size_t j = k + 1; j < d->n_args; j++)
                                if (STREQ(d->args[k].name, d->args[j].name))
                                        fail_msg("%s: argument %s twice", d->name, d->args[k].name);
        }
        enum helper_op none;
        assert_int_equal(helper_op_from_name("become_root", &none), -EINVAL);
        assert_int_equal(helper_op_from_name(NULL, &none), -EINVAL);
}

/* The dispatcher checks the arguments against the row before any handler
 * runs: for every operation an argument it does not declare is refused,
 * and so is one of the wrong type. */
static void test_arguments_follow_the_schema(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *a;

        for (size_t i = 0; i < HELPER_OP__COUNT; i++) {
                const char *op = helper_ops[i].name;
                a = call(f, op, admin, json_pack("{s:i}", "not_an_argument", 1));
                if (status_of(a) != 400 ||
                    !STREQ(json_string_value(json_object_get(json_object_get(a, "error"), "code")),
                           "bad_request"))
                        fail_msg("%s with an unknown argument: %d, expected 400 bad_request", op,
                                 status_of(a));
                json_decref(a);
                for (size_t k = 0; k < helper_ops[i].n_args; k++) {
                        const struct helper_arg *arg = &helper_ops[i].args[k];
                        json_t *bad;
                        if (arg->type == HELPER_ARG_ANY)
                                continue;
                        /* An array is of no type but ARRAY; for that, an object. */
                        bad = arg->type == HELPER_ARG_ARRAY ? json_object() : json_array();
                        a = call(f, op, admin, json_pack("{s:o}", arg->name, bad));
                        if (status_of(a) != 400)
                                fail_msg("%s with %s ill-typed: %d, expected 400", op, arg->name,
                                         status_of(a));
                        json_decref(a);
                }
        }
        /* Bounds: a string past its length, an integer out of range. */
        a = call(f, "action", admin,
                 json_pack("{s:s, s:s}", "module", "system", "action", "restart-everything-now"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "audit_list", admin, json_pack("{s:i}", "limit", 501));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        /* A required one missing. */
        a = call(f, "audit_get", admin, json_object());
        assert_int_equal(status_of(a), 400);
        json_decref(a);
}

/* The record of an audited operation is written by the dispatcher from
 * what the handler returns: the module and operation it names, the caller,
 * the result — ok, refused — and the new record's id in the answer. */
static void test_dispatcher_writes_the_record(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        _cleanup_free_ char *mon = make_token(f, admin, "monitor");
        json_t *a, *rec;

        a = call(f, "token_create", mon, json_pack("{s:s, s:s}", "name", "up", "role", "admin"));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        a = call(f, "audit_list", admin, json_pack("{s:i}", "limit", 1));
        rec = json_array_get(json_object_get(json_object_get(a, "result"), "records"), 0);
        assert_string_equal(json_string_value(json_object_get(rec, "module")), "tokens");
        assert_string_equal(json_string_value(json_object_get(rec, "operation")), "create");
        assert_string_equal(json_string_value(json_object_get(rec, "result")), "refused");
        assert_string_equal(json_string_value(json_object_get(rec, "role")), "monitor");
        json_decref(a);

        a = call(f, "settings_apply", admin,
                 json_pack("{s:s, s:{s:s}}", "module", "stewardd", "patch", "log_level", "debug"));
        assert_int_equal(status_of(a), 200);
        int64_t id = json_integer_value(json_object_get(json_object_get(a, "result"), "audit_id"));
        json_decref(a);
        a = call(f, "audit_get", admin, json_pack("{s:I}", "id", (json_int_t)id));
        rec = json_object_get(a, "result");
        assert_string_equal(json_string_value(json_object_get(rec, "module")), "stewardd");
        assert_string_equal(json_string_value(json_object_get(rec, "operation")), "settings");
        assert_string_equal(json_string_value(json_object_get(rec, "result")), "ok");
        assert_true(json_array_size(json_object_get(rec, "files")) > 0);
        json_decref(a);

        /* A dry run writes none. */
        a = call(f, "settings_apply", admin,
                 json_pack("{s:s, s:{s:s}, s:b}", "module", "stewardd", "patch", "log_level",
                           "info", "dry_run", true));
        assert_int_equal(status_of(a), 200);
        assert_null(json_object_get(json_object_get(a, "result"), "audit_id"));
        json_decref(a);
        a = call(f, "audit_list", admin, json_pack("{s:i}", "limit", 1));
        rec = json_array_get(json_object_get(json_object_get(a, "result"), "records"), 0);
        assert_int_equal(json_integer_value(json_object_get(rec, "id")), id);
        json_decref(a);
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

/* The source a login is throttled by is not the front's word: claiming a
 * new one for every attempt gains nothing (without a connection they all
 * count as one), and a descriptor that is no client's connection is
 * refused. */
static void test_login_sources_are_not_the_fronts_word(void **state) {
        struct fixture *f = *state;
        char source[32], user[32];
        bool throttled = false;
        int sp[2];
        json_t *a;

        for (int i = 0; i < 5 && !throttled; i++) {
                snprintf(source, sizeof source, "192.0.2.%d:1", i + 1);
                snprintf(user, sizeof user, "ghost%d", i);
                a = call_from(f, "login", source,
                              json_pack("{s:s, s:s}", "user", user, "password", "guess"), -1);
                throttled = status_of(a) == 429;
                if (!throttled)
                        assert_int_equal(status_of(a), 401);
                json_decref(a);
        }
        assert_true(throttled);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        a = call_from(f, "login", "203.0.113.9:1",
                      json_pack("{s:s, s:s}", "user", "ghost", "password", "guess"), sp[0]);
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        close(sp[0]);
        close(sp[1]);
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

/* The forwarding state: one entry per configured target (the default is
 * the host's own log), its backlog counted from the newest record, even
 * before any forwarder ran (none runs here). */
static void test_audit_forwarding_state(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *a = call(f, "audit_forwarding", admin, NULL), *t;

        assert_int_equal(status_of(a), 200);
        t = json_array_get(json_object_get(json_object_get(a, "result"), "targets"), 0);
        assert_string_equal(json_string_value(json_object_get(t, "target")), "local");
        assert_int_equal(json_integer_value(json_object_get(t, "last_id")), 0);
        assert_true(json_integer_value(json_object_get(t, "backlog")) >= 1); /* the login */
        assert_true(json_is_false(json_object_get(t, "connected")));
        assert_true(json_integer_value(json_object_get(t, "backlog")) ==
                    json_integer_value(json_object_get(json_object_get(a, "result"), "head")));
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

/* A local connection's session ends with the connection: the front sends
 * peer_end with that session, and only a peer session can be ended so. */
static void test_peer_end_ends_only_a_peer_session(void **state) {
        struct fixture *f = *state;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_free_ char *admin = admin_session(f), *peer = NULL;
        json_t *req, *ans = NULL;
        int lis, cli, acc;

        if (getuid() != 0)
                skip(); /* a peer session needs a uid with a role: root */
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
        req = json_pack("{s:s, s:i, s:s, s:{}}", "op", "peer_session", "id", 7, "source", "unix",
                        "args");
        assert_int_equal(proto_send(f->sock, req, acc), 0);
        json_decref(req);
        assert_int_equal(proto_recv(f->sock, &ans, NULL), 0);
        assert_int_equal(status_of(ans), 200);
        peer = strdup(json_string_value(json_object_get(json_object_get(ans, "result"), "secret")));
        json_decref(ans);

        /* A login session is not a connection's. */
        ans = call(f, "peer_end", admin, NULL);
        assert_int_equal(status_of(ans), 400);
        json_decref(ans);
        ans = call(f, "peer_end", peer, NULL);
        assert_int_equal(status_of(ans), 200);
        json_decref(ans);
        /* Gone: the same secret no longer works, the admin's still does. */
        ans = call(f, "peer_end", peer, NULL);
        assert_int_equal(status_of(ans), 401);
        json_decref(ans);
        ans = call(f, "session_list", admin, NULL);
        assert_int_equal(status_of(ans), 200);
        json_decref(ans);
        close(lis);
        close(cli);
        close(acc);
}

/* A streaming command's progress pipe, as the front passes it: the helper
 * takes nothing but the write end of a pipe, and only for a command that
 * streams (module.h); anything else is refused before the command runs. */
static void test_progress_pipe_is_checked(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        int p[2], sp[2];
        json_t *ans, *err;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        const struct {
                const char *module, *name;
                int fd;
        } bad[] = {
                {"network", "ping", p[0]},  /* the read end */
                {"network", "ping", sp[0]}, /* a socket */
                {"ports", "baseline_save", p[1]}, /* a command that does not stream */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                json_t *req = json_pack("{s:s, s:i, s:s, s:s, s:{s:s, s:s, s:{s:s*}}}", "op",
                                        "command", "id", 7, "session", admin, "source", "test",
                                        "args", "module", bad[i].module, "name", bad[i].name,
                                        "args", "host",
                                        STREQ(bad[i].name, "ping") ? "127.0.0.1" : NULL);
                assert_int_equal(proto_send(f->sock, req, bad[i].fd), 0);
                json_decref(req);
                ans = answer_on(f->sock, 7);
                err = json_object_get(ans, "error");
                assert_int_equal(status_of(ans), 400);
                assert_string_equal(json_string_value(json_object_get(err, "field")), "stream");
                json_decref(ans);
        }
        /* Nothing was written to the pipe. */
        assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
        char c;
        assert_int_equal(read(p[0], &c, 1), -1);
        assert_int_equal(errno, EAGAIN);
        close(p[0]);
        close(p[1]);
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
                           /* A name, not a value: the values of what a
                            * command does not declare are not recorded. */
                           json_pack("{s:s, s:s, s:{s:s}}", "module", "stewardd", "name", "reload",
                                     "args", pad, "x"));
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

/* Every operation of the helper's table, spoken to directly with a
 * monitor, an operator and an admin session: what each role may do here
 * must be what the API lets it do, since a compromised front can send
 * anything.  One row or more per operation; an operation without a row
 * fails the test.  expect[i] for monitor, operator, admin: 'R' refused
 * (401/403), 'A' not refused (the operation ran or refused its arguments).
 * "$SELF" in args is replaced by the session's own secret. */
static const struct probe {
        const char *op;
        const char *args; /* JSON text, or NULL */
        const char *expect;
} probes[] = {
        {"session_check", "{\"secret\": \"$SELF\"}", "AAA"},
        {"csrf_check", "{\"csrf\": \"x\"}", "RRR"}, /* tokens have no CSRF token */
        {"csrf_renew", NULL, "AAA"},
        {"peer_session", NULL, "AAA"}, /* no descriptor: 400 */
        {"peer_end", NULL, "AAA"},     /* not a peer session: 400 */
        {"login", "{\"user\": 1}", "AAA"},
        {"login_bootstrap", "{\"token\": \"stw_nope\"}", "RRR"}, /* a wrong token */
        {"logout", NULL, "AAA"},
        {"token_create", "{\"name\": \"p\", \"role\": \"monitor\"}", "AAA"},
        {"token_create", "{\"name\": \"p\", \"role\": \"operator\"}", "RAA"},
        {"token_create", "{\"name\": \"p\", \"role\": \"admin\"}", "RRA"},
        {"token_list", NULL, "AAA"},
        {"token_revoke", "{\"id\": \"999999\"}", "AAA"},
        {"session_list", NULL, "AAA"},
        {"session_end", "{\"id\": 999999}", "AAA"},
        {"settings_apply",
         "{\"module\": \"stewardd\", \"patch\": {\"log_level\": \"debug\"}, \"dry_run\": true}",
         "RRA"},
        {"command", "{\"module\": \"stewardd\", \"name\": \"reload\", \"args\": {}}", "RRA"},
        /* Read-only commands run in the front, as the front: a key only
         * root may read is refused there, and must not be read here. */
        {"command",
         "{\"module\": \"system\", \"name\": \"sysctl\", \"args\": {\"name\": "
         "\"net.ipv4.tcp_fastopen_key\"}}",
         "RRR"},
        {"command",
         "{\"module\": \"system\", \"name\": \"sysctl\", \"args\": {\"name\": \"kernel.ostype\"}}",
         "RRR"},
        {"action", "{\"module\": \"system\", \"action\": \"start\"}", "RAA"},
        {"module_read", "{\"module\": \"ports\", \"args\": {\"inodes\": []}}", "AAA"},
        /* The module's lowest route is a monitor's; its folder scan is an
         * admin's, as its own route. */
        {"module_read", "{\"module\": \"shares\", \"args\": {\"what\": \"connections\"}}", "AAA"},
        {"module_read", "{\"module\": \"shares\", \"args\": {\"what\": \"folders\"}}", "RRA"},
        {"module_read", "{\"module\": \"shares\", \"args\": {\"what\": \"nothing\"}}", "RRR"},
        /* A process's detail is a monitor's; its environment an admin's
         * alone, whatever the front asks. */
        {"module_read",
         "{\"module\": \"processes\", \"args\": {\"what\": \"detail\", \"pids\": []}}", "AAA"},
        {"module_read", "{\"module\": \"processes\", \"args\": {\"what\": \"show\", \"pid\": 1}}",
         "AAA"},
        {"module_read",
         "{\"module\": \"processes\", \"args\": {\"what\": \"show\", \"pid\": 1, \"environ\": "
         "true}}",
         "RRA"},
        /* Its open files, sockets and maps are an operator's. */
        {"module_read",
         "{\"module\": \"processes\", \"args\": {\"what\": \"show\", \"pid\": 1, \"files\": "
         "true}}",
         "RAA"},
        {"module_read", "{\"module\": \"processes\", \"args\": {\"what\": \"environ\"}}", "RRR"},
        {"audit_list", NULL, "AAA"},
        {"audit_get", "{\"id\": \"1\"}", "AAA"},
        {"audit_verify", NULL, "AAA"},
        /* The syslog targets are the admins' business, like their setting. */
        {"audit_forwarding", NULL, "RRA"},
        {"audit_rollback", "{\"id\": \"999999\"}", "RRA"},
        {"audit_since", "{\"after\": 0}", "AAA"},
        /* A session records its own refusal, nobody else's. */
        {"audit_refused",
         "{\"method\": \"PATCH\", \"path\": \"/api/v1/modules/stewardd/settings\", "
         "\"message\": \"this needs the role admin\"}",
         "AAA"},
        /* The front's own data (its metric history, its counters). */
        {"metrics_store", "{}", "AAA"},
        {"metrics_query", "{}", "AAA"},
        {"metrics_recent", "{}", "AAA"},
        {"front_poll", NULL, "AAA"},
        {"module_gauges", NULL, "AAA"},
        {"module_state_put", "{\"module\": \"alerts\", \"key\": \"probe\", \"value\": 1}",
         "AAA"},
        {"module_state_get", "{\"module\": \"alerts\", \"key\": \"probe\"}", "AAA"},
        {"module_log_append", "{\"module\": \"alerts\", \"records\": [{\"a\": 1}]}", "AAA"},
        {"module_log_list", "{\"module\": \"alerts\"}", "AAA"},
        /* The front's background reads: a monitor's view, whoever asks. */
        {"monitor_read", "{\"collection\": \"services\"}", "AAA"},
        {"audit_check", NULL, "AAA"},
        /* A module's own task: no session, the module bounds it (a module
         * without one answers 404 to every caller alike). */
        {"module_task", "{\"module\": \"ports\", \"args\": {}}", "AAA"},
        {"collection_read", "{\"collection\": \"users\", \"id\": \"root\"}", "AAA"},
        {"collection_read",
         "{\"collection\": \"users\", \"id\": \"nobody\", \"query\": {\"home_size\": \"1\"}}",
         "AAA"},
        {"collection_write",
         "{\"collection\": \"users\", \"op\": \"modify\", \"id\": \"nosuchuser-probe\", "
         "\"body\": {\"full_name\": \"x\"}}",
         "RRA"},
        {"collection_write",
         "{\"collection\": \"groups\", \"op\": \"delete\", \"id\": \"nosuchgroup-probe\", "
         "\"body\": {}}",
         "RRA"},
        /* The action's own role (admin), checked by the handler. */
        {"collection_action",
         "{\"collection\": \"users\", \"id\": \"nosuchuser-probe\", \"action\": "
         "\"expire-password\", \"args\": {}, \"dry_run\": true}",
         "RRA"},
};

static json_t *probe_args(const char *text, const char *self) {
        _cleanup_free_ char *t = NULL;
        const char *at;
        json_t *v;

        if (!text)
                return NULL;
        at = strstr(text, "$SELF");
        if (at)
                assert_true(asprintf(&t, "%.*s%s%s", (int)(at - text), text, self, at + 5) > 0);
        v = json_loads(t ? t : text, 0, NULL);
        assert_non_null(v);
        return v;
}

/* module_task has no session behind it: a front that floods it gets a
 * burst of 10, then 429 (too_many_tasks: "later", not a verdict), whatever
 * the module (here one without a task: 404 until then). */
static void test_module_task_is_bounded(void **state) {
        struct fixture *f = *state;
        json_t *a;

        for (int i = 0; i < 10; i++) {
                a = call(f, "module_task", NULL,
                         json_pack("{s:s, s:{}}", "module", "ports", "args"));
                assert_int_equal(status_of(a), 404);
                json_decref(a);
        }
        a = call(f, "module_task", NULL, json_pack("{s:s, s:{}}", "module", "ports", "args"));
        assert_int_equal(status_of(a), 429);
        assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "code")),
                            "too_many_tasks");
        json_decref(a);
}

static void test_alerts_task_takes_no_recipient(void **state) {
        struct fixture *f = *state;
        json_t *a = call(f, "module_task", NULL,
                         json_pack("{s:s, s:{s:s, s:s, s:s}}", "module", "alerts", "args",
                                   "subject", "s", "body", "b", "to", "evil@example.org"));

        assert_int_equal(status_of(a), 400);
        json_decref(a);
}

/* A live session of role roles[k] in tok[k]: the one from before if a
 * probe (logout…) did not end it. */
static const char *live_token(struct fixture *f, const char *admin, char *tok[], size_t k) {
        static const char *const roles[] = {"monitor", "operator", "admin"};
        json_t *a;

        if (tok[k]) {
                a = call(f, "session_check", NULL, json_pack("{s:s}", "secret", tok[k]));
                if (status_of(a) != 200) {
                        free(tok[k]);
                        tok[k] = NULL;
                }
                json_decref(a);
        }
        if (!tok[k])
                tok[k] = make_token(f, admin, roles[k]);
        return tok[k];
}

static void test_every_op_checks_the_role(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        static const char *const roles[] = {"monitor", "operator", "admin"};
        char *tok[3] = {NULL, NULL, NULL};

        for (size_t i = 0; i < HELPER_OP__COUNT; i++) {
                const char *name = helper_ops[i].name;
                size_t rows = 0;

                for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
                        if (!STREQ(probes[p].op, name))
                                continue;
                        rows++;
                        for (size_t k = 0; k < 3; k++) {
                                const char *s = live_token(f, admin, tok, k);
                                json_t *a = call(f, name, s, probe_args(probes[p].args, s));
                                int st = status_of(a);
                                bool refused = st == 401 || st == 403;
                                if (refused != (probes[p].expect[k] == 'R'))
                                        fail_msg("%s %s as %s: status %d, expected %s", name,
                                                 probes[p].args ? probes[p].args : "", roles[k], st,
                                                 probes[p].expect[k] == 'R' ? "a refusal"
                                                                            : "no refusal");
                                json_decref(a);
                        }
                }
                if (rows == 0)
                        fail_msg("the operation %s has no row in probes[]", name);
        }
        for (size_t k = 0; k < 3; k++)
                free(tok[k]);
}

/* Modules' own state (modstate.h), spoken to directly: a value comes back
 * as it was put, per module and key; an unknown module, a bad key, an
 * oversized value or record, a bad match field are refused; the log pages
 * newest first and filters on a field. */
static void test_module_state_and_log(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *big = malloc(MODSTATE_VALUE_MAX + 16);
        json_t *a, *recs;

        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:{s:i}}", "module", "alerts", "key", "engine", "value",
                           "n", 3));
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        a = call(f, "module_state_get", NULL,
                 json_pack("{s:s, s:s}", "module", "alerts", "key", "engine"));
        assert_int_equal(status_of(a), 200);
        assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(json_object_get(a, "result"), "value"), "n")),
                         3);
        json_decref(a);
        /* Another module's key of the same name is another value. */
        a = call(f, "module_state_get", NULL,
                 json_pack("{s:s, s:s}", "module", "metrics", "key", "engine"));
        assert_int_equal(status_of(a), 200);
        assert_true(json_is_null(json_object_get(json_object_get(a, "result"), "value")));
        json_decref(a);
        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:i}", "module", "nosuchmodule", "key", "k", "value", 1));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:i}", "module", "alerts", "key", "../x", "value", 1));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        assert_non_null(big);
        memset(big, 'x', MODSTATE_VALUE_MAX + 8);
        big[MODSTATE_VALUE_MAX + 8] = '\0';
        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:s}", "module", "alerts", "key", "k", "value", big));
        assert_int_equal(status_of(a), 413);
        json_decref(a);
        big[MODLOG_RECORD_MAX] = '\0';
        a = call(f, "module_log_append", NULL,
                 json_pack("{s:s, s:[{s:s}]}", "module", "alerts", "records", "x", big));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        a = call(f, "module_log_append", NULL,
                 json_pack("{s:s, s:[{s:s}, {s:s}, {s:s}]}", "module", "alerts", "records", "rule",
                           "a", "rule", "b", "rule", "a"));
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        a = call(f, "module_log_list", NULL,
                 json_pack("{s:s, s:{s:s}, s:i}", "module", "alerts", "match", "rule", "a", "limit",
                           1));
        assert_int_equal(status_of(a), 200);
        recs = json_object_get(json_object_get(a, "result"), "records");
        assert_int_equal(json_array_size(recs), 1);
        assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(json_array_get(recs, 0), "record"), "rule")),
                            "a");
        assert_true(json_is_integer(json_object_get(json_object_get(a, "result"), "next")));
        json_decref(a);
        a = call(f, "module_log_list", NULL,
                 json_pack("{s:s, s:{s:s}}", "module", "alerts", "match", "rule') OR (1", "a"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
}

/* A module's share of the store is bounded: only a module that keeps
 * state (alerts) writes; at most MODSTATE_KEYS_MAX keys and
 * MODSTATE_BYTES_MAX bytes of values (507), a key already there may be
 * rewritten; the log keeps no more than MODLOG_BYTES_MAX bytes. */
static void test_module_state_is_bounded(void **state) {
        struct fixture *f = *state;
        size_t n = MODSTATE_VALUE_MAX - 1024, kept = 0;
        _cleanup_free_ char *big = malloc(n + 1);
        json_t *a, *recs, *next = NULL;
        char key[16];

        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:i}", "module", "ports", "key", "k", "value", 1));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        a = call(f, "module_log_append", NULL,
                 json_pack("{s:s, s:[{s:i}]}", "module", "metrics", "records", "a", 1));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        for (int i = 0; i < MODSTATE_KEYS_MAX + 1; i++) {
                snprintf(key, sizeof key, "k%d", i);
                a = call(f, "module_state_put", NULL,
                         json_pack("{s:s, s:s, s:i}", "module", "alerts", "key", key, "value", i));
                assert_int_equal(status_of(a), i < MODSTATE_KEYS_MAX ? 200 : 507);
                json_decref(a);
        }
        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:i}", "module", "alerts", "key", "k0", "value", 7));
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        for (int i = 0; i < MODSTATE_KEYS_MAX; i++) {
                snprintf(key, sizeof key, "k%d", i);
                a = call(f, "module_state_put", NULL,
                         json_pack("{s:s, s:s, s:n}", "module", "alerts", "key", key, "value"));
                json_decref(a);
        }
        assert_non_null(big);
        memset(big, 'x', n);
        big[n] = '\0';
        /* The 64 small values take 4 bytes each: four big ones fit, a
         * fifth does not; rewriting one of them does. */
        for (int i = 0; i < 4; i++) {
                snprintf(key, sizeof key, "k%d", i);
                a = call(f, "module_state_put", NULL,
                         json_pack("{s:s, s:s, s:s}", "module", "alerts", "key", key, "value", big));
                if (status_of(a) != 200)
                        fail_msg("put %s: %s", key, json_dumps(a, 0));
                json_decref(a);
        }
        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:s}", "module", "alerts", "key", "k4", "value", big));
        assert_int_equal(status_of(a), 507);
        json_decref(a);
        a = call(f, "module_state_put", NULL,
                 json_pack("{s:s, s:s, s:s}", "module", "alerts", "key", "k1", "value", big));
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        /* The log: records of 16000 bytes, more than MODLOG_BYTES_MAX of
         * them appended; the newest that fit are kept. */
        big[16000] = '\0';
        for (size_t total = 0; total <= MODLOG_BYTES_MAX + (1u << 20); total += 64 * 16000) {
                json_t *batch = json_array();
                for (int i = 0; i < MODLOG_APPEND_MAX; i++)
                        json_array_append_new(batch, json_pack("{s:s}", "x", big));
                a = call(f, "module_log_append", NULL,
                         json_pack("{s:s, s:o}", "module", "alerts", "records", batch));
                assert_int_equal(status_of(a), 200);
                json_decref(a);
        }
        do {
                json_t *args = json_pack("{s:s, s:i}", "module", "alerts", "limit", MODLOG_LIST_MAX);
                if (next)
                        json_object_set_new(args, "before", next);
                a = call(f, "module_log_list", NULL, args);
                assert_int_equal(status_of(a), 200);
                recs = json_object_get(json_object_get(a, "result"), "records");
                kept += json_array_size(recs);
                next = json_object_get(json_object_get(a, "result"), "next");
                next = json_is_integer(next) ? json_integer(json_integer_value(next)) : NULL;
                json_decref(a);
        } while (next);
        assert_true(kept > 0);
        assert_true(kept * 16008 <= MODLOG_BYTES_MAX);
}

/* The helper takes the query arguments the collection declares, and no
 * other. */
static void test_collection_query_keys_are_closed(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *a;

        a = call(f, "collection_read", admin,
                 json_pack("{s:s, s:s, s:{s:s}}", "collection", "users", "id", "root", "query",
                           "home_size", "0"));
        assert_int_equal(status_of(a), 200);
        json_decref(a);
        a = call(f, "collection_read", admin,
                 json_pack("{s:s, s:s, s:{s:s}}", "collection", "users", "id", "root", "query",
                           "shadow", "1"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
        /* Each collection takes its own: groups have no home to measure. */
        a = call(f, "collection_read", admin,
                 json_pack("{s:s, s:s, s:{s:s}}", "collection", "groups", "id", "root", "query",
                           "home_size", "0"));
        assert_int_equal(status_of(a), 400);
        json_decref(a);
}

static json_t *result_of(json_t *ans) {
        return json_object_get(ans, "result");
}

/* An item action: the helper checks the action's own role (a lying front
 * gains nothing), records the refusal with the action, the collection and
 * the id, checks the arguments against the action's table, and writes no
 * record for a dry run. */
static void test_collection_action_is_checked_here(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        _cleanup_free_ char *op = make_token(f, admin, "operator");
        json_t *a, *recs, *rec;
        int64_t before;

        a = call(f, "audit_list", admin, NULL);
        before = json_integer_value(
                json_object_get(json_array_get(json_object_get(result_of(a), "records"), 0), "id"));
        json_decref(a);
        a = call(f, "collection_action", op,
                 json_pack("{s:s, s:s, s:s, s:{}}", "collection", "users", "id", "nosuchuser-x",
                           "action", "expire-password", "args"));
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        a = call(f, "audit_list", admin, NULL);
        recs = json_object_get(result_of(a), "records");
        rec = json_array_get(recs, 0);
        assert_true(json_integer_value(json_object_get(rec, "id")) > before);
        assert_string_equal(json_string_value(json_object_get(rec, "operation")),
                            "action:expire-password");
        assert_string_equal(json_string_value(json_object_get(rec, "module")), "users");
        assert_string_equal(json_string_value(json_object_get(rec, "result")), "refused");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "args"), "id")),
                            "nosuchuser-x");
        before = json_integer_value(json_object_get(rec, "id"));
        json_decref(a);
        /* The arguments against the action's table, here too. */
        a = call(f, "collection_action", admin,
                 json_pack("{s:s, s:s, s:s, s:{s:s}}", "collection", "users", "id", "nosuchuser-x",
                           "action", "expire-password", "args", "force", "yes"));
        assert_int_equal(status_of(a), 422);
        json_decref(a);
        a = call(f, "collection_action", admin,
                 json_pack("{s:s, s:s, s:s}", "collection", "users", "id", "nosuchuser-x", "action",
                           "frobnicate"));
        assert_int_equal(status_of(a), 404);
        json_decref(a);
        /* A dry run (of an unknown account: 404) leaves no record. */
        a = call(f, "collection_action", admin,
                 json_pack("{s:s, s:s, s:s, s:b}", "collection", "users", "id", "nosuchuser-x",
                           "action", "expire-password", "dry_run", true));
        assert_int_equal(status_of(a), 404);
        json_decref(a);
        a = call(f, "audit_list", admin, NULL);
        assert_int_equal(
                json_integer_value(json_object_get(
                        json_array_get(json_object_get(result_of(a), "records"), 0), "id")),
                before);
        json_decref(a);
}

/* A process action spoken to the helper directly, as a compromised front
 * could: the helper's worker makes the action's own checks.  Everything
 * this test forks descends from the test process, which runs the same
 * executable as the helper: Steward, here, so its own pids are guarded;
 * the test's parent (the test runner) stands for another process. */
static json_t *process_action(struct fixture *f, const char *session, long pid, const char *body,
                              bool dry_run) {
        char id[24];

        snprintf(id, sizeof id, "%ld", pid);
        return call(f, "collection_action", session,
                    json_pack("{s:s, s:s, s:s, s:o, s:b}", "collection", "processes", "id", id,
                              "action", "signal", "args", json_loads(body, 0, NULL), "dry_run",
                              dry_run));
}

static const char *last_result(struct fixture *f, const char *admin) {
        static char result[16];
        json_t *a = call(f, "audit_list", admin, NULL);
        json_t *rec = json_array_get(json_object_get(result_of(a), "records"), 0);
        snprintf(result, sizeof result, "%s", json_string_value(json_object_get(rec, "result")));
        json_decref(a);
        return result;
}

static void test_process_actions_are_checked_here(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        _cleanup_free_ char *op = make_token(f, admin, "operator");
        _cleanup_free_ char *mon = make_token(f, admin, "monitor");
        const long guarded[] = {1, 2, (long)f->pid, (long)getpid()};
        json_t *a;

        /* The guards, for an admin: PID 1, kthreadd, the helper, Steward. */
        for (size_t i = 0; i < ELEMENTSOF(guarded); i++) {
                a = process_action(f, admin, guarded[i], "{\"signal\": \"KILL\"}", false);
                assert_int_equal(status_of(a), 403);
                json_decref(a);
                assert_string_equal(last_result(f, admin), "refused");
        }
        /* A monitor at the helper's door; an operator on a process of
         * another account (this token's account has none). */
        a = process_action(f, mon, (long)getppid(), "{\"signal\": \"STOP\"}", false);
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        assert_string_equal(last_result(f, admin), "refused");
        a = process_action(f, op, (long)getppid(), "{\"signal\": \"STOP\"}", false);
        assert_int_equal(status_of(a), 403);
        json_decref(a);
        assert_string_equal(last_result(f, admin), "refused");
        /* Arguments against the action's table: a signal it does not offer. */
        a = process_action(f, admin, (long)getppid(), "{\"signal\": \"QUIT\"}", false);
        assert_int_equal(status_of(a), 422);
        json_decref(a);
        /* Another process than the caller saw: refused, nothing sent. */
        a = process_action(f, admin, (long)getppid(), "{\"signal\": \"STOP\", \"start_ticks\": 1}",
                           false);
        assert_int_equal(status_of(a), 409);
        json_decref(a);
        /* An admin's dry run on the runner: the plan, nothing sent. */
        a = process_action(f, admin, (long)getppid(), "{\"signal\": \"STOP\"}", true);
        assert_int_equal(status_of(a), 200);
        assert_false(json_is_true(json_object_get(result_of(a), "delivered")));
        assert_int_equal(json_integer_value(
                                 json_object_get(json_object_get(result_of(a), "process"), "pid")),
                         (long)getppid());
        json_decref(a);
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

/* Every token expires (the maximum lifetime by default, no more when asked
 * for more), one made by a token not after its maker, and a token ends only
 * credentials whose role is not above its own. */
static void test_token_expiry_and_revocation_bounds(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        json_t *a, *b, *c, *list;
        int64_t now = (int64_t)(realtime_usec() / 1000000u), parent_exp;
        const char *parent, *mon, *admin_id;

        a = call(f, "token_create", admin, json_pack("{s:s, s:s}", "name", "d", "role", "admin"));
        assert_int_equal(status_of(a), 200);
        assert_true(json_integer_value(json_object_get(result_of(a), "expires_at")) >=
                    now + 7776000 - 5);
        json_decref(a);
        a = call(f, "token_create", admin,
                 json_pack("{s:s, s:I}", "name", "x", "expires_in", (json_int_t)7776001));
        assert_int_equal(status_of(a), 422);
        json_decref(a);

        a = call(f, "token_create", admin,
                 json_pack("{s:s, s:s, s:i}", "name", "p", "role", "admin", "expires_in", 600));
        assert_int_equal(status_of(a), 200);
        parent = json_string_value(json_object_get(result_of(a), "token"));
        admin_id = json_string_value(json_object_get(result_of(a), "id"));
        parent_exp = json_integer_value(json_object_get(result_of(a), "expires_at"));
        b = call(f, "token_create", parent,
                 json_pack("{s:s, s:s, s:i}", "name", "c", "role", "monitor", "expires_in", 3600));
        assert_int_equal(status_of(b), 200);
        assert_true(json_integer_value(json_object_get(result_of(b), "expires_at")) <= parent_exp);
        mon = json_string_value(json_object_get(result_of(b), "token"));

        /* The monitor token cannot revoke the admin token, nor end the
         * admin login session; it may revoke itself. */
        c = call(f, "token_revoke", mon, json_pack("{s:s}", "id", admin_id));
        assert_int_equal(status_of(c), 403);
        json_decref(c);
        list = call(f, "session_list", mon, NULL);
        assert_int_equal(status_of(list), 200);
        c = call(f, "session_end", mon,
                 json_pack("{s:O}", "id",
                           json_object_get(
                                   json_array_get(json_object_get(result_of(list), "sessions"), 0),
                                   "id")));
        assert_int_equal(status_of(c), 403);
        json_decref(c);
        json_decref(list);
        c = call(f, "token_revoke", mon,
                 json_pack("{s:O}", "id", json_object_get(result_of(b), "id")));
        assert_int_equal(status_of(c), 200);
        json_decref(c);
        c = call(f, "token_revoke", admin, json_pack("{s:s}", "id", admin_id));
        assert_int_equal(status_of(c), 200);
        json_decref(c);
        json_decref(b);
        json_decref(a);
}

/* A slow read (collection_read) is answered by a worker on its own
 * channel; the other channel is served meanwhile and afterwards, and the
 * slow one is served again once its worker is gone. */
/* monitor_read and audit_check need no session: they answer only what a
 * monitor could read, and refuse what only an admin may see. */
static void test_monitor_read_is_a_monitors_view(void **state) {
        struct fixture *f = *state;
        static const struct {
                const char *args;
                int status;
        } rows[] = {
                {"{\"collection\": \"groups\"}", 200},
                /* exactly one source, args only with a module */
                {"{}", 400},
                {"{\"collection\": \"groups\", \"module\": \"ports\"}", 400},
                {"{\"collection\": \"groups\", \"args\": {}}", 400},
                {"{\"collection\": \"groups\", \"query\": {}}", 400},
                {"{\"collection\": \"nosuchcollection\"}", 404},
                /* an admin's view stays an admin's */
                {"{\"module\": \"processes\", \"args\": {\"what\": \"environ\"}}", 403},
                /* certificates: under /etc only, after every link */
                {"{\"certificate\": \"/etc/ssl/certs/ca-certificates.crt\"}", 200},
                {"{\"certificate\": \"/etc/ssl/certs/../../../proc/self/environ\"}", 403},
                {"{\"certificate\": \"/usr/share/ca-certificates\"}", 403},
                {"{\"certificate\": \"/etc/nosuchfile.pem\"}", 403},
                {"{\"certificate\": \"relative.pem\"}", 403},
                {"{\"certificate\": \"/etc/passwd\"}", 422},
                /* refused before any look at the file system: nothing
                 * tells whether a directory outside /etc exists */
                {"{\"certificate\": \"/root/../etc/passwd\"}", 403},
                {"{\"certificate\": \"/tmp/../etc/passwd\"}", 403},
                {"{\"certificate\": \"/etc/./passwd\"}", 403},
                {"{\"certificate\": \"/etc//passwd\"}", 403},
                {"{\"certificate\": \"/etc/passwd/\"}", 403},
                {"{\"certificate\": \"//etc/passwd\"}", 403},
                {"{\"certificate\": \"/etc/ssl\"}", 404},
        };

        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                json_t *a = call(f, "monitor_read", NULL, json_loads(rows[i].args, 0, NULL));
                if (status_of(a) != rows[i].status)
                        fail_msg("monitor_read %s: status %d, expected %d", rows[i].args,
                                 status_of(a), rows[i].status);
                if (rows[i].status == 200 && strstr(rows[i].args, "certificate"))
                        assert_true(json_integer_value(json_object_get(
                                            json_object_get(a, "result"), "not_after")) > 0);
                json_decref(a);
        }
        {
                json_t *a = call(f, "audit_check", NULL, NULL), *res;
                assert_int_equal(status_of(a), 200);
                res = json_object_get(a, "result");
                assert_true(json_is_true(json_object_get(res, "ok")));
                assert_true(json_is_integer(json_object_get(res, "records")));
                json_decref(a);
                a = call(f, "audit_check", NULL, json_pack("{s:i}", "after", 1));
                assert_int_equal(status_of(a), 400);
                json_decref(a);
        }
}

/* audit_check answers from its last verdict while the chain is the same,
 * and verifies again once it has grown: the same answer while nothing
 * changes, a new count after an audited operation. */
static int64_t audit_records(struct fixture *f) {
        json_t *a = call(f, "audit_check", NULL, NULL);
        int64_t n;

        assert_int_equal(status_of(a), 200);
        assert_true(json_is_true(json_object_get(json_object_get(a, "result"), "ok")));
        n = json_integer_value(json_object_get(json_object_get(a, "result"), "records"));
        json_decref(a);
        return n;
}

static void test_audit_check_follows_the_chain(void **state) {
        struct fixture *f = *state;
        _cleanup_free_ char *admin = admin_session(f);
        _cleanup_free_ char *tok = NULL;
        int64_t n = audit_records(f);

        assert_true(n > 0);
        assert_int_equal(audit_records(f), n);
        assert_int_equal(audit_records(f), n);
        tok = make_token(f, admin, "monitor");
        assert_true(audit_records(f) > n);
}

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
                cmocka_unit_test_setup_teardown(test_checked_secret_is_wiped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_and_malformed_refused, setup,
                                                teardown),
                cmocka_unit_test(test_op_table_is_whole),
                cmocka_unit_test_setup_teardown(test_module_task_is_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_audit_check_follows_the_chain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_module_state_is_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_alerts_task_takes_no_recipient, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_arguments_follow_the_schema, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dispatcher_writes_the_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bootstrap_is_single_use, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_cannot_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_helper_revalidates_settings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_token_fields_are_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_session_list_and_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_peer_session_needs_an_accepted_connection,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_peer_end_ends_only_a_peer_session, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_oversized_answer_is_an_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_login_sources_are_not_the_fronts_word, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_every_op_checks_the_role, setup, teardown),
                cmocka_unit_test_setup_teardown(test_collection_action_is_checked_here, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_process_actions_are_checked_here, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_collection_query_keys_are_closed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_token_expiry_and_revocation_bounds, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_broken_framing_drops_the_front, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_slow_read_on_its_own_channel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_read_is_a_monitors_view, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_progress_pipe_is_checked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_module_state_and_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_audit_forwarding_state, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_framing_on_any_channel_drops_the_front,
                                                setup, teardown),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
