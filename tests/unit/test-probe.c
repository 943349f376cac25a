/* test-probe.c — the probe child (modules/network/probe.h) for real: a
 * fork, the drop to nobody, the lines back, the parent's bounds and its
 * deadline.  Needs root (the drop); skipped otherwise.
 *
 * Each case runs probe_run() with a small probe function that does one
 * thing a diagnostic — or a hostile one — might do: report who it is (and
 * try to regain root), stream progress, fail with an error, overrun its
 * time, write more than a line may hold, nest too deep.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "modules/network/probe.h"
#include "util.h"

static char state_dir[] = "/tmp/steward-test-probe-XXXXXX";
static json_t *seen; /* the progress events the parent handed on */

static int record_progress(const struct module_ctx *ctx, json_t *event) {
        (void)ctx;
        json_array_append(seen, event);
        return 0;
}

static const struct module_ctx ctx = {
        .user = "alice", .role = "operator", .source = "test", .progress = record_progress};

static const struct probe_diag *diag_of(probe_fn fn);

static int run_args(probe_fn fn, json_t *args, uint64_t limit_usec, json_t **ret,
                    struct module_error *err) {
        *err = (struct module_error){0};
        *ret = NULL;
        json_array_clear(seen);
        return probe_run(&ctx, 0, diag_of(fn), args, limit_usec, ret, err);
}

static int run(probe_fn fn, uint64_t limit_usec, json_t **ret, struct module_error *err) {
        json_t *args = json_object();
        *err = (struct module_error){0};
        *ret = NULL;
        json_array_clear(seen);
        int r = probe_run(&ctx, 0, diag_of(fn), args, limit_usec, ret, err);
        json_decref(args);
        return r;
}

/* ---- probe functions (in the child) ------------------------------------------------ */

static int who(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)err;
        int root = setuid(0);
        *ret = json_pack("{s:i, s:i, s:b, s:i, s:i}", "uid", (int)getuid(), "gid", (int)getgid(),
                         "could_setuid", root == 0, "nnp", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
                         "dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
        return 0;
}

/* What a child taken over would try: run a program, signal another process
 * of nobody's (args "pid"), regain a capability through the bounding set. */
static int escapes(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)err;
        char *const argv[] = {"/bin/true", NULL};
        pid_t other = (pid_t)json_integer_value(json_object_get(args, "pid"));
        int ex = execve(argv[0], argv, argv + 1) < 0 ? errno : 0;
        int k = kill(other, 0) < 0 ? errno : 0;
        int self = kill(getpid(), 0) < 0 ? errno : 0;
        int bnd = prctl(PR_CAPBSET_READ, 0 /* CAP_CHOWN */, 0, 0, 0);
        *ret = json_pack("{s:i, s:i, s:i, s:i}", "execve", ex, "kill_other", k, "kill_self", self,
                         "bounding_chown", bnd);
        return 0;
}

#define ERRNO_OF(call) ((call) < 0 ? errno : 0)

/* Other ways to reach another process of nobody's (args "pid"), or the
 * kernel's less common doors; each one's errno under "name". */
static int reaches(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)err;
        pid_t other = (pid_t)json_integer_value(json_object_get(args, "pid"));
        siginfo_t si = {.si_code = SI_QUEUE};
        struct rlimit rl = {0, 0};
        cpu_set_t set;
        struct sched_param sp = {0};
        char b[8];
        struct iovec local = {b, sizeof b}, remote = {(void *)0x1000, sizeof b};
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        *ret = json_object();
        json_object_set_new(*ret, "rt_sigqueueinfo",
                            json_integer(ERRNO_OF(syscall(SYS_rt_sigqueueinfo, other, SIGTERM, &si))));
        json_object_set_new(*ret, "rt_tgsigqueueinfo",
                            json_integer(ERRNO_OF(
                                    syscall(SYS_rt_tgsigqueueinfo, other, other, SIGTERM, &si))));
        json_object_set_new(*ret, "pidfd_open",
                            json_integer(ERRNO_OF(syscall(SYS_pidfd_open, other, 0))));
        json_object_set_new(*ret, "prlimit64",
                            json_integer(ERRNO_OF(prlimit(other, RLIMIT_NOFILE, &rl, NULL))));
        json_object_set_new(*ret, "setpriority",
                            json_integer(ERRNO_OF(setpriority(PRIO_PROCESS, (id_t)other, 19))));
        json_object_set_new(*ret, "sched_setaffinity",
                            json_integer(ERRNO_OF(sched_setaffinity(other, sizeof set, &set))));
        json_object_set_new(*ret, "sched_setscheduler",
                            json_integer(ERRNO_OF(sched_setscheduler(other, SCHED_BATCH, &sp))));
        json_object_set_new(*ret, "ioprio_set",
                            json_integer(ERRNO_OF(syscall(SYS_ioprio_set, 1, other, 7))));
        json_object_set_new(*ret, "process_vm_readv",
                            json_integer(ERRNO_OF(process_vm_readv(other, &local, 1, &remote, 1, 0))));
        json_object_set_new(*ret, "io_uring_setup",
                            json_integer(ERRNO_OF(syscall(SYS_io_uring_setup, 1, b))));
        json_object_set_new(*ret, "netlink",
                            json_integer(ERRNO_OF(socket(AF_NETLINK, SOCK_RAW, 0))));
        json_object_set_new(*ret, "alg", json_integer(ERRNO_OF(socket(AF_ALG, SOCK_SEQPACKET, 0))));
        json_object_set_new(*ret, "packet",
                            json_integer(ERRNO_OF(socket(AF_PACKET, SOCK_DGRAM, 0))));
        /* what a diagnostic does need stays open */
        json_object_set_new(*ret, "own_rlimit", json_integer(ERRNO_OF(getrlimit(RLIMIT_NOFILE, &rl))));
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        json_object_set_new(*ret, "udp", json_integer(fd < 0 ? errno : 0));
        if (fd >= 0)
                close(fd);
        return 0;
}

/* What a ping child taken over would try with its raw sockets: forge
 * headers, set hop limits, send with control data, bind or connect; what
 * ping itself sets must still work. */
static int raw_doors(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)err;
        int on = 1, hops = 255;
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        uint8_t pkt[8] = {8};
        struct iovec iov = {pkt, sizeof pkt};
        struct msghdr msg = {.msg_name = &a4, .msg_namelen = sizeof a4, .msg_iov = &iov,
                             .msg_iovlen = 1};
        struct icmp6_filter f6;
        ICMP6_FILTER_SETPASSALL(&f6);
        *ret = json_object();
        json_object_set_new(*ret, "have4", json_boolean(p->icmp4 >= 0));
        json_object_set_new(*ret, "have6", json_boolean(p->icmp6 >= 0));
#define TRY(name, call) json_object_set_new(*ret, name, json_integer(ERRNO_OF(call)))
        TRY("ip_hdrincl", setsockopt(p->icmp4, IPPROTO_IP, IP_HDRINCL, &on, sizeof on));
        TRY("ip_ttl", setsockopt(p->icmp4, IPPROTO_IP, IP_TTL, &hops, sizeof hops));
        TRY("so_broadcast", setsockopt(p->icmp4, SOL_SOCKET, SO_BROADCAST, &on, sizeof on));
        TRY("sendmsg", sendmsg(p->icmp4, &msg, 0));
        TRY("bind", bind(p->icmp4, (struct sockaddr *)&a4, sizeof a4));
        TRY("connect", connect(p->icmp4, (struct sockaddr *)&a4, sizeof a4));
        TRY("ipv6_hdrincl", setsockopt(p->icmp6, IPPROTO_IPV6, 36 /* IPV6_HDRINCL */, &on,
                                       sizeof on));
        TRY("ipv6_unicast_hops",
            setsockopt(p->icmp6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops));
        TRY("ipv6_multicast_hops",
            setsockopt(p->icmp6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops));
        TRY("connect6", connect(p->icmp6, (struct sockaddr *)&a6, sizeof a6));
        /* ping's own */
        TRY("ipv6_recvhoplimit",
            setsockopt(p->icmp6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on));
        TRY("icmp6_filter", setsockopt(p->icmp6, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof f6));
        TRY("sendto", sendto(p->icmp4, pkt, sizeof pkt, 0, (struct sockaddr *)&a4, sizeof a4));
#undef TRY
        return 0;
}

/* What a child taken over would do to a file nobody owns (args "dir",
 * "file": a directory and a file in it, both nobody's): each errno. */
static int files(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)err;
        const char *dir = json_string_value(json_object_get(args, "dir"));
        const char *file = json_string_value(json_object_get(args, "file"));
        char other[4096];
        int fd;
        snprintf(other, sizeof other, "%s/new", dir);
        *ret = json_object();
#define TRY(name, call) json_object_set_new(*ret, name, json_integer(ERRNO_OF(call)))
        fd = open(file, O_WRONLY | O_CLOEXEC);
        json_object_set_new(*ret, "open_write", json_integer(fd < 0 ? errno : 0));
        if (fd >= 0)
                close(fd);
        fd = open(file, O_RDONLY | O_TRUNC | O_CLOEXEC);
        json_object_set_new(*ret, "open_trunc", json_integer(fd < 0 ? errno : 0));
        if (fd >= 0)
                close(fd);
        fd = open(other, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        json_object_set_new(*ret, "create", json_integer(fd < 0 ? errno : 0));
        if (fd >= 0)
                close(fd);
        TRY("truncate", truncate(file, 0));
        TRY("chmod", chmod(file, 0));
        TRY("rename", rename(file, other));
        TRY("unlink", unlink(file));
        TRY("rmdir", rmdir(dir));
        /* what a diagnostic reads stays readable */
        fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
        json_object_set_new(*ret, "read_etc", json_integer(fd < 0 ? errno : 0));
        if (fd >= 0)
                close(fd);
#undef TRY
        return 0;
}

/* A child that claims a status, code and field of its choosing. */
static int lies(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)ret;
        module_error_set(err, 599, "Evil code", "a field!", "whatever");
        return -ENOENT;
}

/* A child that puts its own words into the audit record's summary. */
static int summarizes(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)err;
        *ret = json_pack("{s:s, s:b}", "summary", "all is well", "done", true);
        return 0;
}

/* A child that closes its end (end of file for the parent) and lives on. */
static int lingers(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)ret, (void)err;
        syscall(SYS_close_range, 3u, ~0u, 0u);
        for (;;)
                pause();
        return 0;
}

static int streams(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)err;
        for (int i = 1; i <= 3; i++) {
                json_t *e = json_pack("{s:i}", "hop", i);
                int r = i == 2 ? probe_progress(p, e) : p->ctx->progress(p->ctx, e);
                json_decref(e);
                if (r < 0)
                        return r;
        }
        *ret = json_pack("{s:b}", "done", true);
        return 0;
}

static int fails(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)ret;
        module_error_set(err, 422, "unresolved", "host", "nothere.example does not resolve");
        return -ENOENT;
}

static int sleeps(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)ret, (void)err;
        for (;;)
                pause();
        return 0;
}

static int too_big(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)err;
        char *s = malloc(PROBE_RESULT_MAX + 10);
        memset(s, 'x', PROBE_RESULT_MAX + 9);
        s[PROBE_RESULT_MAX + 9] = '\0';
        *ret = json_pack("{s:s}", "x", s);
        free(s);
        return 0;
}

static int big_progress(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)err;
        char s[PROBE_LINE_MAX + 10];
        memset(s, 'x', sizeof s - 1);
        s[sizeof s - 1] = '\0';
        json_t *e = json_pack("{s:s}", "x", s);
        int r = probe_progress(p, e);
        json_decref(e);
        *ret = json_pack("{s:i}", "progress", r);
        return 0;
}

static int deep(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)err;
        json_t *j = json_object();
        for (int i = 0; i < 20; i++)
                j = json_pack("{s:o}", "a", j);
        *ret = j;
        return 0;
}

/* What the parent held in memory when it started the probe: a fresh
 * image has its initial value. */
static char secret[64] = "nothing";

static int remembers(struct probe *p, json_t *args, json_t **ret, struct module_error *err) {
        (void)p, (void)args, (void)err;
        *ret = json_pack("{s:s}", "secret", secret);
        return 0;
}

#define DIAG(fn) {#fn, fn}
static const struct probe_diag diags[] = {
        DIAG(who),      DIAG(escapes),    DIAG(reaches), DIAG(raw_doors),    DIAG(files),
        DIAG(lies),     DIAG(summarizes), DIAG(lingers), DIAG(streams),      DIAG(fails),
        DIAG(sleeps),   DIAG(too_big),    DIAG(big_progress), DIAG(deep),    DIAG(remembers),
};
#define N_DIAGS (sizeof diags / sizeof *diags)

static const struct probe_diag *diag_of(probe_fn fn) {
        for (size_t i = 0; i < N_DIAGS; i++)
                if (diags[i].fn == fn)
                        return &diags[i];
        return NULL;
}

/* ---- cases ---------------------------------------------------------------------------- */

static void test_drops_to_nobody(void **state) {
        struct passwd *pw = getpwnam("nobody");
        struct module_error err;
        json_t *ret;
        (void)state;

        assert_non_null(pw);
        assert_int_equal(run(who, 5000000, &ret, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "uid")), pw->pw_uid);
        assert_int_equal(json_integer_value(json_object_get(ret, "gid")), pw->pw_gid);
        assert_false(json_is_true(json_object_get(ret, "could_setuid")));
        assert_int_equal(json_integer_value(json_object_get(ret, "nnp")), 1);
        assert_int_equal(json_integer_value(json_object_get(ret, "dumpable")), 0);
        json_decref(ret);
}

static void test_cannot_escape(void **state) {
        struct passwd *pw = getpwnam("nobody");
        struct module_error err;
        json_t *ret, *args;
        int p[2];
        pid_t other;
        (void)state;

        /* another process of nobody's, waiting for its pipe to close */
        assert_int_equal(pipe(p), 0);
        other = fork();
        assert_true(other >= 0);
        if (other == 0) {
                char c;
                close(p[1]);
                if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                        _exit(1);
                (void)!read(p[0], &c, 1);
                _exit(0);
        }
        close(p[0]);
        args = json_pack("{s:i}", "pid", (int)other);
        assert_int_equal(run_args(escapes, args, 5000000, &ret, &err), 0);
        json_decref(args);
        assert_int_equal(json_integer_value(json_object_get(ret, "execve")), EPERM);
        assert_int_equal(json_integer_value(json_object_get(ret, "kill_other")), EPERM);
        assert_int_equal(json_integer_value(json_object_get(ret, "kill_self")), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "bounding_chown")), 0);
        json_decref(ret);

        /* the same process through every other door */
        args = json_pack("{s:i}", "pid", (int)other);
        assert_int_equal(run_args(reaches, args, 5000000, &ret, &err), 0);
        json_decref(args);
        close(p[1]);
        waitpid(other, NULL, 0);
        static const char *const denied[] = {
                "rt_sigqueueinfo",    "rt_tgsigqueueinfo", "pidfd_open", "prlimit64",
                "setpriority",        "sched_setaffinity", "sched_setscheduler", "ioprio_set",
                "process_vm_readv",   "io_uring_setup",    "netlink",    "alg",
                "packet",
        };
        for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
                int e = (int)json_integer_value(json_object_get(ret, denied[i]));
                if (e != EPERM)
                        fail_msg("%s: errno %d, not EPERM", denied[i], e);
        }
        assert_int_equal(json_integer_value(json_object_get(ret, "own_rlimit")), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "udp")), 0);
        json_decref(ret);
}

static void test_raw_sockets_stay_ping_sockets(void **state) {
        struct module_error err = {0};
        json_t *ret = NULL, *args = json_object();
        (void)state;

        json_array_clear(seen);
        assert_int_equal(probe_run(&ctx, PROBE_RAW_ICMP4 | PROBE_RAW_ICMP6, diag_of(raw_doors), args,
                                   5000000, &ret, &err),
                         0);
        json_decref(args);
        assert_true(json_is_true(json_object_get(ret, "have4")));
        assert_true(json_is_true(json_object_get(ret, "have6")));
        static const char *const denied[] = {
                "ip_hdrincl",   "ip_ttl",            "so_broadcast",        "sendmsg",
                "bind",         "connect",           "ipv6_hdrincl",        "ipv6_unicast_hops",
                "ipv6_multicast_hops", "connect6",
        };
        for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
                int e = (int)json_integer_value(json_object_get(ret, denied[i]));
                if (e != EPERM)
                        fail_msg("%s: errno %d, not EPERM", denied[i], e);
        }
        assert_int_equal(json_integer_value(json_object_get(ret, "ipv6_recvhoplimit")), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "icmp6_filter")), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "sendto")), 0);
        json_decref(ret);
}

static void test_files_of_nobody_are_safe(void **state) {
        struct passwd *pw = getpwnam("nobody");
        char dir[] = "/tmp/steward-test-probe-files-XXXXXX", file[64];
        struct module_error err;
        json_t *ret, *args;
        struct stat st;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof file, "%s/data", dir);
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "keep", 4), 4);
        close(fd);
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(chown(dir, pw->pw_uid, pw->pw_gid), 0);
        assert_int_equal(chown(file, pw->pw_uid, pw->pw_gid), 0);
        args = json_pack("{s:s, s:s}", "dir", dir, "file", file);
        assert_int_equal(run_args(files, args, 5000000, &ret, &err), 0);
        json_decref(args);
        static const char *const denied[] = {"open_write", "open_trunc", "create", "truncate",
                                             "chmod",      "rename",     "unlink", "rmdir"};
        for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
                int e = (int)json_integer_value(json_object_get(ret, denied[i]));
                if (e != EPERM && e != EACCES)
                        fail_msg("%s: errno %d, not EPERM or EACCES", denied[i], e);
        }
        assert_int_equal(json_integer_value(json_object_get(ret, "read_etc")), 0);
        json_decref(ret);
        /* and the file is as it was */
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_size, 4);
        assert_int_equal(st.st_mode & 07777, 0644);
        unlink(file);
        char other[64];
        snprintf(other, sizeof other, "%s/new", dir);
        unlink(other);
        assert_int_equal(rmdir(dir), 0);
}

static void test_child_says_only_what_it_may(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        assert_int_equal(run(lies, 5000000, &ret, &err), -ENOENT);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.code, "probe_failed");
        assert_int_equal(err.field[0], 0);
        assert_int_equal(run(summarizes, 5000000, &ret, &err), 0);
        assert_true(json_is_true(json_object_get(ret, "done")));
        assert_null(json_object_get(ret, "summary"));
        json_decref(ret);
        /* its end of file ends the run: a child that lingers is not waited
         * for (without the kill, this case never returns) */
        assert_int_equal(run(lingers, 60000000, &ret, &err), -EIO);
        assert_int_equal(err.status, 502);
}

static void test_child_is_a_fresh_image(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        snprintf(secret, sizeof secret, "stw_%s", "0123456789abcdef");
        assert_int_equal(run(remembers, 5000000, &ret, &err), 0);
        assert_string_equal(json_string_value(json_object_get(ret, "secret")), "nothing");
        json_decref(ret);
        snprintf(secret, sizeof secret, "nothing");
}

static void test_progress_is_handed_on(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        assert_int_equal(run(streams, 5000000, &ret, &err), 0);
        assert_true(json_is_true(json_object_get(ret, "done")));
        assert_int_equal(json_array_size(seen), 3);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(
                        json_integer_value(json_object_get(json_array_get(seen, i), "hop")),
                        (json_int_t)i + 1);
        json_decref(ret);
}

static void test_error_comes_back(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        assert_int_equal(run(fails, 5000000, &ret, &err), -ENOENT);
        assert_null(ret);
        assert_int_equal(err.status, 422);
        assert_string_equal(err.code, "unresolved");
        assert_string_equal(err.field, "host");
        assert_string_equal(err.message, "nothere.example does not resolve");
}

static void test_deadline_kills(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        assert_int_equal(run(sleeps, 300000, &ret, &err), -ETIMEDOUT);
        assert_int_equal(err.status, 504);
        assert_string_equal(err.code, "timeout");
}

static void test_bounds(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        assert_int_equal(run(too_big, 5000000, &ret, &err), -EPERM);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.code, "too_large");
        /* a progress event over a line is not sent; the run goes on */
        assert_int_equal(run(big_progress, 5000000, &ret, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "progress")), -E2BIG);
        assert_int_equal(json_array_size(seen), 0);
        json_decref(ret);
        assert_int_equal(run(deep, 5000000, &ret, &err), -EPROTO);
        assert_int_equal(err.status, 502);
}

static void test_lock_is_per_user(void **state) {
        struct module_error err;
        json_t *ret;
        (void)state;

        /* runs one after the other take and leave the lock */
        for (int i = 0; i < 3; i++) {
                assert_int_equal(run(who, 5000000, &ret, &err), 0);
                json_decref(ret);
        }
}

/* A user's diagnostics are rated: 120 at once, then 429 rate_limited with
 * the seconds to wait; another user keeps its own rate. */
static void test_rate_is_per_user(void **state) {
        const struct module_ctx bob = {.user = "bob", .role = "operator", .source = "test",
                                       .progress = record_progress};
        struct module_error err = {0};
        json_t *ret = NULL, *args = json_object();
        int r = 0, runs = 0;
        (void)state;

        for (; runs < 200; runs++) {
                err = (struct module_error){0};
                r = probe_run(&bob, 0, diag_of(who), args, 5000000, &ret, &err);
                if (r < 0)
                        break;
                json_decref(ret);
        }
        json_decref(args);
        /* 120, and one more per 0.5 s the runs took (a slow machine) */
        assert_true(runs >= 120 && runs < 200);
        assert_int_equal(r, -EBUSY);
        assert_int_equal(err.status, 429);
        assert_string_equal(err.code, "rate_limited");
        assert_string_equal(err.field, "1"); /* the seconds to wait */
        /* alice's own rate is not bob's */
        assert_int_equal(run(who, 5000000, &ret, &err), 0);
        json_decref(ret);
}

static int setup(void **state) {
        (void)state;
        if (geteuid() != 0)
                return 0;
        assert_non_null(mkdtemp(state_dir));
        steward_set_facts(json_pack("{s:s}", "state_dir", state_dir));
        seen = json_array();
        return 0;
}

static int teardown(void **state) {
        char cmd[256];
        (void)state;
        json_decref(seen);
        steward_set_facts(NULL);
        snprintf(cmd, sizeof cmd, "%s/probe-locks", state_dir);
        /* the lock files: one per user that ran */
        DIR *d = opendir(cmd);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.')
                                unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        rmdir(cmd);
        rmdir(state_dir);
        return 0;
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_drops_to_nobody),
                cmocka_unit_test(test_cannot_escape),
                cmocka_unit_test(test_raw_sockets_stay_ping_sockets),
                cmocka_unit_test(test_files_of_nobody_are_safe),
                cmocka_unit_test(test_child_says_only_what_it_may),
                cmocka_unit_test(test_child_is_a_fresh_image),
                cmocka_unit_test(test_progress_is_handed_on),
                cmocka_unit_test(test_error_comes_back),
                cmocka_unit_test(test_deadline_kills),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_lock_is_per_user),
                cmocka_unit_test(test_rate_is_per_user),
        };
        /* the probe's fresh image: this program again (probe.h) */
        if (argc >= 3 && STREQ(argv[1], "--module-child")) {
                const struct probe_diag *table[N_DIAGS];
                for (size_t i = 0; i < N_DIAGS; i++)
                        table[i] = &diags[i];
                return probe_child_main(table, N_DIAGS, argc, argv);
        }
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (the probe drops to nobody)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, setup, teardown);
}
