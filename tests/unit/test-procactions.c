/* test-procactions.c — the processes actions' pure parts and the order of
 * their checks (src/modules/processes/actions.c, included): the signal
 * names and pid grammars, the guard and role decisions on fixture
 * identities (a table: one line a case), and, with a fake process table in
 * place of the system (pact_sys), that the process is held before it is
 * read, that a read of a pid reused meanwhile or a start_ticks that
 * differs never reaches the signal, and that a dry run sends nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../src/modules/processes/actions.c"

static void test_signal_names(void **state) {
        static const struct {
                const char *name;
                int sig;
        } good[] = {
                {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"HUP", SIGHUP},   {"INT", SIGINT},
                {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
        };
        static const char *const bad[] = {"",     "term", "SIGTERM", "TERM ", "9",
                                          "QUIT", "SEGV", "ABRT",    "KILL\n"};

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(pact_signal_from_name(good[i].name), good[i].sig);
                assert_string_equal(pact_signal_name(good[i].sig), good[i].name);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(pact_signal_from_name(bad[i]), -EINVAL);
        assert_int_equal(pact_signal_from_name(NULL), -EINVAL);
        assert_null(pact_signal_name(SIGSEGV));
        /* The table offers exactly what the API's enum offers. */
        for (size_t i = 0; signal_choices[i]; i++)
                assert_true(pact_signal_from_name(signal_choices[i]) > 0);
}

static void test_pid_grammar(void **state) {
        static const char *const good[] = {"1", "2", "42", "4194304"};
        static const char *const bad[] = {"",   "0",  "01",   "-1",         "+1",  "4194305",
                                          "1a", " 1", "1 ",   "99999999",   "0x1", "1.0",
                                          "١",  "..", "self", "thread-self"};
        pid_t p;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(pact_parse_pid(good[i], &p), 0);
                assert_int_equal((long)p, strtol(good[i], NULL, 10));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(pact_parse_pid(bad[i], &p), -EINVAL);
        assert_int_equal(pact_parse_pid(NULL, &p), -EINVAL);
}

/* ---- guard and role decisions ------------------------------------------------ */

#define OWN 1000u /* the operator's account */

static const struct pact_identity plain = {.pid = 4242,
                                           .ppid = 1,
                                           .ruid = OWN,
                                           .euid = OWN,
                                           .suid = OWN,
                                           .start_ticks = 777,
                                           .state = 'S',
                                           .nice = 5,
                                           .comm = "sleep"};

static void test_check_table(void **state) {
        static const struct {
                const char *what;
                void (*fix)(struct pact_identity *id);
                int role;
                int64_t ticks;
                bool lower;
                int status; /* 0: allowed */
        } cases[] = {
                {"own process, operator", NULL, ROLE_OPERATOR, -1, false, 0},
                {"own process, admin", NULL, ROLE_ADMIN, -1, false, 0},
                {"own process, monitor", NULL, ROLE_MONITOR, -1, false, 403},
                {"own process, no role", NULL, ROLE_NONE, -1, false, 403},
                {"same start_ticks", NULL, ROLE_OPERATOR, 777, false, 0},
                {"other start_ticks", NULL, ROLE_ADMIN, 776, false, 409},
                {"lower nice, operator", NULL, ROLE_OPERATOR, -1, true, 403},
                {"lower nice, admin", NULL, ROLE_ADMIN, -1, true, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct pact_identity id = plain;
                struct pact_actor who = {.role = cases[i].role, .uid = OWN};
                struct module_error e = {0};
                int r = pact_check(&id, &who, cases[i].ticks, cases[i].lower, &e);
                print_message("%s\n", cases[i].what);
                assert_int_equal(r < 0 ? e.status : 0, cases[i].status);
        }
}

static void fix_pid1(struct pact_identity *id) {
        id->pid = 1;
        id->ppid = 0;
}
static void fix_kthread(struct pact_identity *id) {
        id->kernel_thread = true;
}
static void fix_steward(struct pact_identity *id) {
        id->steward = true;
}
static void fix_other_user(struct pact_identity *id) {
        id->ruid = id->euid = id->suid = 1001;
}
static void fix_setuid(struct pact_identity *id) {
        id->euid = 0; /* a set-uid program the operator started */
}
static void fix_saved_root(struct pact_identity *id) {
        id->suid = 0;
}
static void fix_root(struct pact_identity *id) {
        id->ruid = id->euid = id->suid = 0;
}

static void test_guards(void **state) {
        static const struct {
                const char *what;
                void (*fix)(struct pact_identity *id);
                int role, status;
        } cases[] = {
                /* Guards hold for every role, admin included. */
                {"PID 1, admin", fix_pid1, ROLE_ADMIN, 403},
                {"kernel thread, admin", fix_kthread, ROLE_ADMIN, 403},
                {"Steward itself, admin", fix_steward, ROLE_ADMIN, 403},
                {"PID 1, operator", fix_pid1, ROLE_OPERATOR, 403},
                /* Ownership, below admin. */
                {"another user's, operator", fix_other_user, ROLE_OPERATOR, 403},
                {"another user's, admin", fix_other_user, ROLE_ADMIN, 0},
                {"set-uid, operator", fix_setuid, ROLE_OPERATOR, 403},
                {"saved uid root, operator", fix_saved_root, ROLE_OPERATOR, 403},
                {"root's, operator", fix_root, ROLE_OPERATOR, 403},
                {"root's, admin", fix_root, ROLE_ADMIN, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct pact_identity id = plain;
                struct pact_actor who = {.role = cases[i].role, .uid = OWN};
                struct module_error e = {0};
                cases[i].fix(&id);
                int r = pact_check(&id, &who, -1, false, &e);
                print_message("%s: %s\n", cases[i].what, e.message);
                assert_int_equal(r < 0 ? e.status : 0, cases[i].status);
                if (r < 0)
                        assert_string_equal(e.code, "forbidden");
        }
        /* An operator whose account has no uid owns nothing. */
        struct pact_actor nobody = {.role = ROLE_OPERATOR, .uid = -1};
        struct module_error e = {0};
        assert_int_equal(pact_check(&plain, &nobody, -1, false, &e), -EPERM);
}

/* ---- the order of the checks, on a fake process table ------------------------------- */

static char calls[256];
static struct pact_identity fake_id;
static int fake_alive_r, fake_hold_r;

static void called(const char *what) {
        size_t n = strlen(calls);
        snprintf(calls + n, sizeof calls - n, "%s%s", n ? "," : "", what);
}

static int fake_hold(pid_t pid, int *ret_pidfd, int *ret_dirfd) {
        called("hold");
        if (fake_hold_r < 0)
                return fake_hold_r;
        *ret_pidfd = -1; /* nothing to close */
        *ret_dirfd = -1;
        return 0;
}

static int fake_identity(int dirfd, pid_t pid, struct pact_identity *ret) {
        called("read");
        *ret = fake_id;
        ret->pid = pid;
        return 0;
}

static int fake_alive(int pidfd) {
        called("alive");
        return fake_alive_r;
}

static int fake_send(int pidfd, int sig) {
        char s[32];
        snprintf(s, sizeof s, "send %d", sig);
        called(s);
        return 0;
}

static const struct pact_sys fake_sys = {
        .hold = fake_hold, .identity = fake_identity, .alive = fake_alive, .send = fake_send};

static int setup_fake(void **state) {
        pact_sys = &fake_sys;
        calls[0] = '\0';
        fake_id = plain;
        fake_alive_r = 0;
        fake_hold_r = 0;
        return 0;
}

static int teardown_fake(void **state) {
        pact_sys = &real_sys;
        return 0;
}

static const struct module_ctx admin = {.user = "root", .role = "admin", .source = "test"};

static int run_signal(const char *id, const char *args, bool dry_run, json_t **ret,
                      struct module_error *e) {
        json_t *a = json_loads(args, 0, NULL);
        int r;

        assert_non_null(a);
        *ret = NULL;
        r = act_signal(&admin, id, a, dry_run, ret, e);
        json_decref(a);
        return r;
}

static void test_order_delivered(void **state) {
        struct module_error e = {0};
        json_t *ret;

        assert_int_equal(
                run_signal("4242", "{\"signal\": \"TERM\", \"start_ticks\": 777}", false, &ret, &e),
                0);
        /* Held first, read, seen alive after the read, then signalled
         * through the pidfd; the answer's item is read again. */
        assert_string_equal(calls, "hold,read,alive,send 15,read,alive");
        assert_true(json_is_true(json_object_get(ret, "delivered")));
        assert_string_equal(json_string_value(json_object_get(ret, "signal")), "TERM");
        json_decref(ret);
}

static void test_order_reused_pid(void **state) {
        struct module_error e = {0};
        json_t *ret;

        /* The held process died before the read: what /proc/PID said may
         * be another process's.  Nothing is sent. */
        fake_alive_r = -ESRCH;
        assert_int_equal(run_signal("4242", "{\"signal\": \"KILL\"}", false, &ret, &e), -ENOENT);
        assert_int_equal(e.status, 404);
        assert_string_equal(calls, "hold,read,alive");
        assert_null(ret);
}

static void test_order_gone(void **state) {
        struct module_error e = {0};
        json_t *ret;

        fake_hold_r = -ESRCH;
        assert_int_equal(run_signal("4242", "{\"signal\": \"KILL\"}", false, &ret, &e), -ENOENT);
        assert_int_equal(e.status, 404);
        assert_string_equal(calls, "hold");
        /* A bad id is not even held. */
        calls[0] = '\0';
        assert_int_equal(run_signal("self", "{\"signal\": \"KILL\"}", false, &ret, &e), -ENOENT);
        assert_string_equal(calls, "");
}

static void test_order_changed(void **state) {
        struct module_error e = {0};
        json_t *ret;

        /* Another process under the pid the caller listed: 409, no signal,
         * even for a process a guard would also refuse. */
        fake_id.pid = 1;
        assert_int_equal(
                run_signal("4242", "{\"signal\": \"TERM\", \"start_ticks\": 1}", false, &ret, &e),
                -ESTALE);
        assert_int_equal(e.status, 409);
        assert_string_equal(e.code, "process_changed");
        assert_string_equal(calls, "hold,read,alive");
}

static void test_order_guard_and_dry_run(void **state) {
        struct module_error e = {0};
        json_t *ret;

        fake_id.steward = true;
        assert_int_equal(run_signal("4242", "{\"signal\": \"TERM\"}", false, &ret, &e), -EPERM);
        assert_int_equal(e.status, 403);
        assert_null(strstr(calls, "send"));

        /* A dry run makes the checks, shows the plan and the warning for a
         * unit's main process, and sends nothing. */
        setup_fake(state);
        fake_id.unit_main = true;
        snprintf(fake_id.unit, sizeof fake_id.unit, "nginx.service");
        assert_int_equal(run_signal("4242", "{\"signal\": \"HUP\"}", true, &ret, &e), 0);
        assert_null(strstr(calls, "send"));
        json_t *w = json_object_get(json_object_get(ret, "plan"), "warnings");
        assert_int_equal(json_array_size(w), 1);
        assert_non_null(strstr(json_string_value(json_array_get(w, 0)),
                               "steward services restart nginx.service"));
        assert_false(json_is_true(json_object_get(ret, "delivered")));
        assert_int_equal(
                json_integer_value(json_object_get(json_object_get(ret, "process"), "start_ticks")),
                777);
        json_decref(ret);
}

/* ---- the real system: this process's own identity ----------------------------------- */

static void test_identity_of_self(void **state) {
        struct pact_identity id;
        char path[32];
        int dfd;

        snprintf(path, sizeof path, "/proc/%d", (int)getpid());
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(identity_read(dfd, getpid(), &id), 0);
        close(dfd);
        assert_int_equal(id.pid, getpid());
        assert_int_equal(id.ppid, getppid());
        assert_int_equal(id.ruid, getuid());
        assert_false(id.kernel_thread);
        assert_true(id.start_ticks > 0);
        /* This test is the topmost process running its own executable:
         * "Steward" here is the test itself. */
        assert_true(id.steward);

        /* A child of this test descends from "Steward" (this process, the
         * topmost running this executable); the test's parent, another
         * executable, does not. */
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        struct procfs_buf b = {0};
        assert_true(steward_descendant(child, getpid(), &b));
        assert_int_equal(steward_root(&b), getpid());
        assert_false(steward_descendant(getppid(), (pid_t)read_ppid(getppid(), &b), &b));
        procfs_buf_free(&b);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);

        /* kthreadd (pid 2) is a kernel thread, where there is one. */
        dfd = open("/proc/2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0 && identity_read(dfd, 2, &id) == 0) {
                assert_true(id.kernel_thread);
                close(dfd);
        } else if (dfd >= 0)
                close(dfd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signal_names),
                cmocka_unit_test(test_pid_grammar),
                cmocka_unit_test(test_check_table),
                cmocka_unit_test(test_guards),
                cmocka_unit_test_setup_teardown(test_order_delivered, setup_fake, teardown_fake),
                cmocka_unit_test_setup_teardown(test_order_reused_pid, setup_fake, teardown_fake),
                cmocka_unit_test_setup_teardown(test_order_gone, setup_fake, teardown_fake),
                cmocka_unit_test_setup_teardown(test_order_changed, setup_fake, teardown_fake),
                cmocka_unit_test_setup_teardown(test_order_guard_and_dry_run, setup_fake,
                                                teardown_fake),
                cmocka_unit_test(test_identity_of_self),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
