/* actions.c — the processes collection's item actions, signal and renice
 * (see actions.h for the order of the checks and why).
 *
 * Ownership: every descriptor (the pidfd, the /proc/PID directory) lives
 * for one run() and is closed by cleanup attributes.  The system calls go
 * through `pact_sys` (hold, identity, alive, send) so that the unit tests
 * can replay the order of the checks with a fake process table; nothing
 * else is global.
 */
#include "modules/processes/actions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/processes/proclist.h"
#include "modules/processes/procread.h"
#include "procfs.h"
#include "roles.h"
#include "util.h"

#define PACT_PID_MAX       4194304 /* PID_MAX_LIMIT on 64-bit kernels */
#define PACT_PROC_FILE_MAX (64u * 1024)
#define PACT_ANCESTRY_MAX  64    /* parent hops walked to find Steward */
#define PACT_TASKS_MAX     65536 /* threads reniced at most */
#define PACT_WAIT_MSEC     300   /* for a signal's effect to show, at most */
#define PF_KTHREAD_FLAG    0x00200000u

static const struct {
        const char *name;
        int sig;
} signals[] = {
        {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"HUP", SIGHUP},   {"INT", SIGINT},
        {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

int pact_signal_from_name(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(signals); i++)
                if (STREQ(signals[i].name, name))
                        return signals[i].sig;
        return -EINVAL;
}

const char *pact_signal_name(int sig) {
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (signals[i].sig == sig)
                        return signals[i].name;
        return NULL;
}

int pact_parse_pid(const char *id, pid_t *ret) {
        unsigned v = 0;
        size_t n = id ? strlen(id) : 0;

        if (n == 0 || n > 7 || id[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (id[i] < '0' || id[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(id[i] - '0');
        }
        if (v > PACT_PID_MAX)
                return -EINVAL;
        *ret = (pid_t)v;
        return 0;
}

static bool has_suffix(const char *s, size_t n, const char *suffix) {
        size_t l = strlen(suffix);
        return n > l && memcmp(s + n - l, suffix, l) == 0;
}

/* ---- the checks (pure) ------------------------------------------------------------ */

int pact_check(const struct pact_identity *id, const struct pact_actor *who, int64_t start_ticks,
               bool lower, struct module_error *err) {
        if (start_ticks >= 0 && (uint64_t)start_ticks != id->start_ticks) {
                module_error_set(err, 409, "process_changed", "start_ticks",
                                 "PID %d is another process now (it started at tick %llu, not "
                                 "%lld): list the processes again",
                                 id->pid, (unsigned long long)id->start_ticks,
                                 (long long)start_ticks);
                return -ESTALE;
        }
        if (id->pid == 1) {
                module_error_set(err, 403, "forbidden", NULL,
                                 "PID 1 is the init process: the whole system depends on it");
                return -EPERM;
        }
        if (id->kernel_thread) {
                module_error_set(err, 403, "forbidden", NULL,
                                 "PID %d (%s) is a kernel thread: it takes no signals or "
                                 "priorities from here",
                                 id->pid, id->comm);
                return -EPERM;
        }
        if (id->steward) {
                module_error_set(err, 403, "forbidden", NULL,
                                 "PID %d (%s) is part of Steward itself (the daemon, its helper, "
                                 "front or workers): this API would go away with it",
                                 id->pid, id->comm);
                return -EPERM;
        }
        if (who->role >= ROLE_ADMIN)
                return 0;
        if (who->role < ROLE_OPERATOR) {
                module_error_set(err, 403, "forbidden", NULL,
                                 "acting on a process needs the role "
                                 "operator");
                return -EPERM;
        }
        if (who->uid < 0 || id->ruid != (uint64_t)who->uid || id->euid != (uint64_t)who->uid ||
            id->suid != (uint64_t)who->uid) {
                module_error_set(err, 403, "forbidden", NULL,
                                 "PID %d (%s) does not run as your account alone (uid %u, "
                                 "effective %u, saved %u): another user's process needs the "
                                 "role admin",
                                 id->pid, id->comm, id->ruid, id->euid, id->suid);
                return -EPERM;
        }
        if (lower) {
                module_error_set(err, 403, "forbidden", "nice",
                                 "lowering the nice value of PID %d (raising its priority) "
                                 "needs the role admin",
                                 id->pid);
                return -EPERM;
        }
        return 0;
}

/* ---- reading a process -------------------------------------------------------------- */

/* The parent of pid, or -errno. */
static int read_ppid(pid_t pid, struct procfs_buf *b) {
        char path[32];
        struct proc_pid_stat st;
        const char *t;
        size_t n;
        int r;

        snprintf(path, sizeof path, "/proc/%d", (int)pid);
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        r = procfs_read_at(dfd, "stat", PACT_PROC_FILE_MAX, b, &t, &n);
        if (r < 0)
                return r;
        r = proc_pid_stat_parse(t, n, &st);
        return r < 0 ? r : st.ppid;
}

static bool same_exe(pid_t pid, const struct stat *self) {
        char path[40];
        struct stat st;

        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
        return stat(path, &st) == 0 && st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

/* Steward's daemon: the topmost of this process and its ancestors that run
 * this executable (the action runs in the helper, which is the daemon, or
 * in one of its forked workers). */
static pid_t steward_root(struct procfs_buf *b) {
        struct stat self;
        pid_t p = getpid();

        if (stat("/proc/self/exe", &self) < 0)
                return p;
        for (unsigned i = 0; i < PACT_ANCESTRY_MAX; i++) {
                int pp = read_ppid(p, b);
                if (pp <= 1 || !same_exe(pp, &self))
                        break;
                p = pp;
        }
        return p;
}

/* Whether pid is Steward's daemon or a descendant of it.  A chain longer
 * than PACT_ANCESTRY_MAX counts as Steward's: refusing is the safe side. */
static bool steward_descendant(pid_t pid, pid_t ppid, struct procfs_buf *b) {
        pid_t root = steward_root(b);

        if (pid == root || ppid == root)
                return true;
        for (unsigned i = 0; i < PACT_ANCESTRY_MAX; i++) {
                if (ppid <= 1)
                        return false;
                int pp = read_ppid(ppid, b);
                if (pp < 0)
                        return false;
                if (pp == root)
                        return true;
                ppid = pp;
        }
        return true;
}

/* The cgroup v2 path of /proc/PID/cgroup into ret ("" if none), and its
 * unit into unit if not NULL ("" if none). */
static void read_cgroup(int dfd, struct procfs_buf *b, char *ret, size_t size, char *unit,
                        size_t unit_size) {
        struct cgroup_hint hint;
        const char *t, *path;
        size_t n, plen;

        ret[0] = '\0';
        if (unit)
                unit[0] = '\0';
        if (procfs_read_at(dfd, "cgroup", PACT_PROC_FILE_MAX, b, &t, &n) < 0)
                return;
        if (unit) {
                cgroup_parse(t, n, &hint);
                snprintf(unit, unit_size, "%s", hint.unit);
        }
        if (cgroup_v2_path(t, n, &path, &plen) < 0 || plen >= size)
                return;
        memcpy(ret, path, plen);
        ret[plen] = '\0';
}

/* Whether the parent of a .service's process runs outside that cgroup: then
 * the process is the service's first, the one systemd started (its main
 * process, or the one that forked it). */
static bool unit_main(const struct pact_identity *id, struct procfs_buf *b) {
        char path[32], parent[sizeof id->cgroup];

        if (!has_suffix(id->unit, strlen(id->unit), ".service") ||
            !has_suffix(id->cgroup, strlen(id->cgroup), id->unit))
                return false;
        snprintf(path, sizeof path, "/proc/%d", id->ppid);
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return true; /* its parent is gone: it was reparented to init */
        read_cgroup(dfd, b, parent, sizeof parent, NULL, 0);
        return !STREQ(parent, id->cgroup);
}

static int identity_read(int dfd, pid_t pid, struct pact_identity *ret) {
        _cleanup_(procfs_buf_free) struct procfs_buf b = {0};
        struct pact_identity id = {.pid = pid};
        struct proc_pid_stat st;
        struct proc_pid_status ss;
        const char *t;
        size_t n;
        int r;

        r = procfs_read_at(dfd, "stat", PACT_PROC_FILE_MAX, &b, &t, &n);
        if (r < 0)
                return r;
        r = proc_pid_stat_parse(t, n, &st);
        if (r < 0)
                return r;
        r = procfs_read_at(dfd, "status", PACT_PROC_FILE_MAX, &b, &t, &n);
        if (r < 0)
                return r;
        r = proc_pid_status_parse(t, n, &ss);
        if (r < 0)
                return r;
        if (st.pid != pid || ss.tgid != pid)
                return -ESRCH; /* not a thread group's leader: a thread's id */
        id.ppid = st.ppid;
        id.ruid = ss.uid[0];
        id.euid = ss.uid[1];
        id.suid = ss.uid[2];
        id.start_ticks = st.starttime;
        id.kernel_thread = (st.flags & PF_KTHREAD_FLAG) || pid == 2 || st.ppid == 2;
        id.state = st.state;
        id.nice = (int)st.nice;
        id.threads = (int)st.num_threads;
        snprintf(id.comm, sizeof id.comm, "%s", st.comm);
        utf8_sanitize(id.comm); /* it goes into messages and JSON */
        read_cgroup(dfd, &b, id.cgroup, sizeof id.cgroup, id.unit, sizeof id.unit);
        id.unit_main = unit_main(&id, &b);
        id.steward = steward_descendant(pid, id.ppid, &b);
        *ret = id;
        return 0;
}

/* ---- the system, replaceable by the unit tests -------------------------------------------- */

struct pact_sys {
        /* A pidfd for pid (-ESRCH when there is none) and its /proc/PID
         * directory. */
        int (*hold)(pid_t pid, int *ret_pidfd, int *ret_dirfd);
        int (*identity)(int dirfd, pid_t pid, struct pact_identity *ret);
        /* 0 while the held process lives (a zombie too), -ESRCH after. */
        int (*alive)(int pidfd);
        int (*send)(int pidfd, int sig);
};

static int sys_hold(pid_t pid, int *ret_pidfd, int *ret_dirfd) {
        char path[32];
        _cleanup_close_ int pidfd = (int)pidfd_open(pid, 0);

        /* EINVAL: the id of a thread that leads no thread group. */
        if (pidfd < 0)
                return errno == EINVAL ? -ESRCH : -errno;
        snprintf(path, sizeof path, "/proc/%d", (int)pid);
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        *ret_pidfd = TAKE_FD(pidfd);
        *ret_dirfd = dfd;
        return 0;
}

static int sys_alive(int pidfd) {
        return pidfd_send_signal(pidfd, 0, NULL, 0) < 0 ? -errno : 0;
}

static int sys_send(int pidfd, int sig) {
        return pidfd_send_signal(pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

static const struct pact_sys real_sys = {
        .hold = sys_hold,
        .identity = identity_read,
        .alive = sys_alive,
        .send = sys_send,
};
static const struct pact_sys *pact_sys = &real_sys;

/* ---- the actions -------------------------------------------------------------------------- */

struct pact_target {
        pid_t pid;
        int pidfd, dirfd;
        struct pact_identity id;
};

static void target_done(struct pact_target *t) {
        if (t->pidfd >= 0)
                close(t->pidfd);
        if (t->dirfd >= 0)
                close(t->dirfd);
        t->pidfd = t->dirfd = -1;
}

static int no_process(const char *id, struct module_error *err) {
        module_error_set(err, 404, "not_found", NULL, "no process %.16s", id);
        return -ENOENT;
}

static void actor_of(const struct module_ctx *ctx, struct pact_actor *ret) {
        struct passwd pw, *found = NULL;
        char buf[4096];
        int role = ctx->role ? role_from_string(ctx->role) : -EINVAL;

        ret->role = role < 0 ? ROLE_NONE : role;
        ret->uid = -1;
        if (ctx->user && getpwnam_r(ctx->user, &pw, buf, sizeof buf, &found) == 0 && found)
                ret->uid = pw.pw_uid;
}

/* Steps 1–4 of actions.h: the held process and its identity, checked
 * against what the caller saw.  The guards and the role come after. */
static int target_hold(const char *id, json_t *args, struct pact_target *t,
                       struct module_error *err) {
        json_t *ticks = json_object_get(args, "start_ticks");
        int r;

        *t = (struct pact_target){.pidfd = -1, .dirfd = -1};
        if (pact_parse_pid(id, &t->pid) < 0)
                return no_process(id, err);
        r = pact_sys->hold(t->pid, &t->pidfd, &t->dirfd);
        if (r == -ESRCH || r == -ENOENT)
                return no_process(id, err);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot hold PID %d: %s", t->pid,
                                 strerror(-r));
                return r;
        }
        r = pact_sys->identity(t->dirfd, t->pid, &t->id);
        /* Alive after the read: the pid was never free, the read is the
         * held process's. */
        if (r >= 0)
                r = pact_sys->alive(t->pidfd);
        if (r < 0) {
                target_done(t);
                if (r == -ESRCH || r == -ENOENT)
                        return no_process(id, err);
                module_error_set(err, 500, "internal", NULL, "cannot read PID %d: %s", t->pid,
                                 strerror(-r));
                return r;
        }
        if (ticks && json_integer_value(ticks) >= 0 &&
            (uint64_t)json_integer_value(ticks) != t->id.start_ticks) {
                struct pact_actor any = {.role = ROLE_ADMIN};
                r = pact_check(&t->id, &any, json_integer_value(ticks), false, err);
                target_done(t);
                return r;
        }
        return 0;
}

static json_t *item_json(const struct pact_identity *id) {
        struct passwd pw, *found = NULL;
        char buf[4096], state[2] = {id->state, '\0'};
        const char *user = getpwuid_r(id->ruid, &pw, buf, sizeof buf, &found) == 0 && found
                                   ? pw.pw_name
                                   : NULL;

        return json_pack("{s:i, s:i, s:s?, s:i, s:s, s:s, s:i, s:I, s:i, s:s?, s:s?, s:b}", "pid",
                         id->pid, "ppid", id->ppid, "user", user, "uid", (int)id->ruid, "command",
                         id->comm, "state", state, "nice", id->nice, "start_ticks",
                         (json_int_t)id->start_ticks, "threads", id->threads, "unit",
                         id->unit[0] ? id->unit : NULL, "cgroup", id->cgroup[0] ? id->cgroup : NULL,
                         "kernel_thread", id->kernel_thread);
}

/* The process as the list shows it (its CPU the lifetime average: an
 * action samples nothing), read through the held /proc/PID directory;
 * the identity's fields when that read fails. */
static json_t *process_json(const struct module_ctx *ctx, const struct pact_target *t,
                            const struct pact_identity *id) {
        struct proclist_ctx lc;
        struct proc_item it = {0};
        bool admin = ctx->role && role_from_string(ctx->role) == ROLE_ADMIN;
        json_t *j = NULL;

        if (t->dirfd >= 0 && proclist_ctx_init(&lc, admin) >= 0 &&
            procread_at(t->dirfd, admin ? PROCREAD_CMDLINE : 0, &it) >= 0) {
                it.cpu_percent = proclist_lifetime_cpu(&lc, &it);
                j = proclist_item_json(&lc, &it);
        }
        proc_item_done(&it);
        return j ?: item_json(id);
}

/* The item as it is now, or null once the held process is gone. */
static json_t *item_after(const struct module_ctx *ctx, const struct pact_target *t) {
        struct pact_identity id;

        if (pact_sys->identity(t->dirfd, t->pid, &id) < 0 || pact_sys->alive(t->pidfd) < 0)
                return json_null();
        return process_json(ctx, t, &id) ?: json_null();
}

/* The warnings of an action on the process; after: what the action does
 * to the unit ("signalling TERM may make systemd restart it …"). */
static json_t *warnings_for(const struct pact_identity *id, const char *after) {
        json_t *w = json_array();

        if (w && id->unit_main)
                json_array_append_new(
                        w, json_sprintf("PID %d is the main process of %s: steward services "
                                        "restart %s (or stop) is the unit's own action; %s",
                                        id->pid, id->unit, id->unit, after));
        return w;
}

/* Waits a little for what the signal does to show (an exit, a stop), so
 * that the item in the answer is the process after it. */
static void signal_settle(const struct pact_target *t, int sig) {
        if (pact_sys != &real_sys)
                return; /* the unit tests' fake table: no process to watch */
        if (sig == SIGSTOP || sig == SIGCONT) {
                for (unsigned i = 0; i < PACT_WAIT_MSEC / 10; i++) {
                        struct pact_identity id;
                        if (identity_read(t->dirfd, t->pid, &id) < 0)
                                return;
                        if ((sig == SIGSTOP) == (id.state == 'T' || id.state == 't'))
                                return;
                        (void)poll(NULL, 0, 10);
                }
                return;
        }
        struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
        (void)poll(&p, 1, PACT_WAIT_MSEC);
}

static int act_signal(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                      json_t **ret, struct module_error *err) {
        _cleanup_(target_done) struct pact_target t = {.pidfd = -1, .dirfd = -1};
        const char *name = json_string_value(json_object_get(args, "signal"));
        int sig = pact_signal_from_name(name);
        struct pact_actor who;
        char what[128];
        int r;

        if (sig < 0) {
                module_error_set(err, 400, "invalid_argument", "signal",
                                 "signal is one of TERM, KILL, HUP, INT, STOP, CONT, USR1, USR2");
                return -EINVAL;
        }
        r = target_hold(id, args, &t, err);
        if (r < 0)
                return r;
        actor_of(ctx, &who);
        r = pact_check(&t.id, &who, -1, false, err);
        if (r < 0)
                return r;
        snprintf(what, sizeof what,
                 "signalling %s directly may make systemd restart it or mark the unit failed",
                 name);
        if (dry_run) {
                *ret = json_pack("{s:{s:o, s:[]}, s:o, s:s, s:b}", "plan", "warnings",
                                 warnings_for(&t.id, what), "commands", "process",
                                 process_json(ctx, &t, &t.id), "signal", name, "delivered", false);
                return *ret ? 0 : -ENOMEM;
        }
        r = pact_sys->send(t.pidfd, sig);
        if (r < 0) {
                if (r == -ESRCH)
                        return no_process(id, err);
                module_error_set(err, 500, "internal", NULL, "cannot signal PID %d: %s", t.pid,
                                 strerror(-r));
                return r;
        }
        signal_settle(&t, sig);
        *ret = json_pack("{s:o, s:s, s:b, s:{s:o, s:[]}}", "process", item_after(ctx, &t), "signal",
                         name, "delivered", true, "plan", "warnings", warnings_for(&t.id, what),
                         "commands");
        return *ret ? 0 : -ENOMEM;
}

/* setpriority() on every thread of the held process.  The window: a thread
 * listed in task/ may exit and its id be taken by a new thread or process
 * before setpriority() reaches it; each id is checked to still be a task of
 * the held process (task/TID under its /proc directory, which stops
 * resolving once the process is gone) just before, which leaves that window
 * at a few microseconds.  The pidfd is checked alive before and after. */
static int renice_threads(const struct pact_target *t, int nice, unsigned *ret_n) {
        int tfd = openat(t->dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
        struct dirent *de;
        unsigned n = 0;
        int r = 0;

        if (!d) {
                r = -errno;
                if (tfd >= 0)
                        close(tfd);
                return r;
        }
        while ((de = readdir(d)) && n < PACT_TASKS_MAX) {
                pid_t tid;
                struct stat st;
                if (pact_parse_pid(de->d_name, &tid) < 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* the thread is gone */
                if (setpriority(PRIO_PROCESS, (id_t)tid, nice) < 0) {
                        if (errno == ESRCH)
                                continue;
                        r = -errno;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0)
                return r;
        *ret_n = n;
        return 0;
}

/* The highest nice value among the process's threads (a thread may have
 * been reniced on its own): lowering any of them raises its priority.  The
 * identity's (the main thread's) when task/ cannot be read. */
static int threads_max_nice(const struct pact_target *t) {
        _cleanup_(procfs_buf_free) struct procfs_buf b = {0};
        int tfd = t->dirfd >= 0 ? openat(t->dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
        int max = t->id.nice;
        struct dirent *de;
        unsigned n = 0;

        if (!d) {
                if (tfd >= 0)
                        close(tfd);
                return max;
        }
        while ((de = readdir(d)) && n++ < PACT_TASKS_MAX) {
                struct proc_pid_stat st;
                const char *text;
                char name[300];
                size_t len;
                pid_t tid;
                if (pact_parse_pid(de->d_name, &tid) < 0)
                        continue;
                snprintf(name, sizeof name, "%s/stat", de->d_name);
                if (procfs_read_at(dirfd(d), name, PACT_PROC_FILE_MAX, &b, &text, &len) >= 0 &&
                    proc_pid_stat_parse(text, len, &st) >= 0 && st.nice > max)
                        max = (int)st.nice;
        }
        closedir(d);
        return max;
}

static int act_renice(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                      json_t **ret, struct module_error *err) {
        _cleanup_(target_done) struct pact_target t = {.pidfd = -1, .dirfd = -1};
        json_t *jn = json_object_get(args, "nice");
        struct pact_actor who;
        unsigned n = 0;
        int nice, r;

        if (!json_is_integer(jn) || json_integer_value(jn) < -20 || json_integer_value(jn) > 19) {
                module_error_set(err, 400, "invalid_argument", "nice", "nice is -20 to 19");
                return -EINVAL;
        }
        nice = (int)json_integer_value(jn);
        r = target_hold(id, args, &t, err);
        if (r < 0)
                return r;
        actor_of(ctx, &who);
        r = pact_check(&t.id, &who, -1, nice < threads_max_nice(&t), err);
        if (r < 0)
                return r;
        if (dry_run) {
                *ret = json_pack(
                        "{s:{s:o, s:[]}, s:o, s:i, s:i}", "plan", "warnings",
                        warnings_for(&t.id,
                                     "a renice lasts until the unit restarts (the unit's Nice= "
                                     "setting is its own)"),
                        "commands", "process", process_json(ctx, &t, &t.id), "nice", nice,
                        "previous_nice", t.id.nice);
                return *ret ? 0 : -ENOMEM;
        }
        r = pact_sys->alive(t.pidfd);
        /* (the unit tests' fake table has no threads to renice) */
        if (r >= 0 && pact_sys == &real_sys)
                r = renice_threads(&t, nice, &n);
        if (r >= 0)
                r = pact_sys->alive(t.pidfd);
        if (r < 0) {
                if (r == -ESRCH || r == -ENOENT)
                        return no_process(id, err);
                module_error_set(err, 500, "internal", NULL, "cannot renice PID %d: %s", t.pid,
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:o, s:i, s:i, s:i}", "process", item_after(ctx, &t), "nice", nice,
                         "previous_nice", t.id.nice, "threads", (int)n);
        return *ret ? 0 : -ENOMEM;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const char *const signal_choices[] = {"TERM", "KILL", "HUP",  "INT", "STOP",
                                             "CONT", "USR1", "USR2", NULL};

static const command_arg_t signal_args[] = {
        {.name = "signal",
         .type = SETTING_ENUM,
         .choices = signal_choices,
         .required = true,
         .description = "the signal to send"},
        {.name = "start_ticks",
         .type = SETTING_INTEGER,
         .min = 0,
         .max = INT64_MAX,
         .description = "the process's start_ticks as listed: refused (409) if PID is another "
                        "process now"},
};

static const command_arg_t renice_args[] = {
        {.name = "nice",
         .type = SETTING_INTEGER,
         .min = -20,
         .max = 19,
         .required = true,
         .description = "the new nice value, -20 (first) to 19 (last); lowering it needs admin"},
        {.name = "start_ticks",
         .type = SETTING_INTEGER,
         .min = 0,
         .max = INT64_MAX,
         .description = "the process's start_ticks as listed: refused (409) if PID is another "
                        "process now"},
};

const collection_action_t processes_actions[PROCESSES_N_ACTIONS] = {
        {.name = "signal",
         .summary = "send a signal (TERM, KILL, HUP, INT, STOP, CONT, USR1, USR2) to the process",
         .min_role = ROLE_OPERATOR,
         .changes_state = true,
         .args = signal_args,
         .n_args = ELEMENTSOF(signal_args),
         .run = act_signal},
        {.name = "renice",
         .summary = "set the nice value of every thread of the process",
         .min_role = ROLE_OPERATOR,
         .changes_state = true,
         .args = renice_args,
         .n_args = ELEMENTSOF(renice_args),
         .run = act_renice},
};
