/* engine.c — see engine.h. */
#include "modules/users/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"
#include "modules/users/accounts.h"
#include "util.h"

#define ACCOUNT_FILE_MAX  (64u << 20)
#define PLAN_DIR_TEMPLATE "/tmp/steward-plan-XXXXXX"

const char *const ACCOUNT_FILES[ACCOUNT_FILES_N] = {
        "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid",
};

static bool file_is_secret(size_t i) {
        return i == 1 || i == 3;
}

void account_state_done(struct account_state *s) {
        for (size_t i = 0; i < ACCOUNT_FILES_N; i++) {
                if (s->text[i])
                        explicit_bzero(s->text[i], s->len[i]);
                free(s->text[i]);
                s->text[i] = NULL;
        }
}

static int read_account_file(const char *path, char **ret, size_t *ret_len) {
        int r = read_file(path, ACCOUNT_FILE_MAX, ret, ret_len);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        return r;
}

int account_state_read(struct account_state *s) {
        *s = (struct account_state){0};
        for (size_t i = 0; i < ACCOUNT_FILES_N; i++) {
                int r = read_account_file(ACCOUNT_FILES[i], &s->text[i], &s->len[i]);
                if (r < 0) {
                        account_state_done(s);
                        return r;
                }
        }
        return 0;
}

void engine_init(struct engine *e) {
        *e = (struct engine){0};
        e->warnings = json_array();
        if (!e->warnings)
                e->oom = -ENOMEM;
}

void engine_done(struct engine *e) {
        for (size_t i = 0; i < e->n; i++) {
                struct engine_cmd *c = &e->cmds[i];
                for (size_t j = 0; j < c->argc; j++)
                        free(c->owned[j]);
                if (c->input) {
                        explicit_bzero(c->input, strlen(c->input));
                        free(c->input);
                }
        }
        json_decref(e->warnings);
        *e = (struct engine){0};
}

static struct engine_cmd dummy;

struct engine_cmd *engine_cmd(struct engine *e, const char *tool) {
        struct engine_cmd *c;

        if (e->n == ENGINE_CMDS_MAX) {
                e->oom = -E2BIG;
                return &dummy;
        }
        c = &e->cmds[e->n++];
        *c = (struct engine_cmd){0};
        c->argv[c->argc++] = tool;
        return c;
}

static void add_arg(struct engine *e, struct engine_cmd *c, const char *arg, char *owned,
                    int where) {
        if (c == &dummy || c->argc == ENGINE_ARGS_MAX || !arg) {
                free(owned);
                e->oom = e->oom ?: (arg ? -E2BIG : -ENOMEM);
                return;
        }
        c->where[c->argc] = (unsigned char)where;
        c->owned[c->argc] = owned;
        c->argv[c->argc++] = arg;
}

void engine_arg(struct engine *e, struct engine_cmd *c, const char *arg) {
        add_arg(e, c, arg, NULL, ARG_BOTH);
}

void engine_arg_where(struct engine *e, struct engine_cmd *c, const char *arg, int where) {
        add_arg(e, c, arg, NULL, where);
}

void engine_argf(struct engine *e, struct engine_cmd *c, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        add_arg(e, c, s, s, ARG_BOTH);
}

void engine_arg_joined(struct engine *e, struct engine_cmd *c, json_t *names, size_t max) {
        struct buf b;
        size_t i;
        json_t *v;
        int r = 0;

        buf_init(&b, max);
        json_array_foreach(names, i, v) {
                if (r >= 0 && i)
                        r = buf_puts(&b, ",");
                if (r >= 0)
                        r = buf_puts(&b, json_string_value(v));
        }
        if (r < 0) {
                buf_free(&b);
                e->oom = e->oom ?: r;
                return;
        }
        char *s = buf_steal(&b);
        if (!s)
                s = strdup("");
        add_arg(e, c, s, s, ARG_BOTH); /* NULL: out of memory, recorded there */
}

void engine_input(struct engine *e, struct engine_cmd *c, const char *input, bool secret) {
        if (c == &dummy)
                return;
        c->input = strdup(input);
        c->input_secret = secret;
        if (!c->input)
                e->oom = -ENOMEM;
}

void engine_warn(struct engine *e, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s || json_array_append_new(e->warnings, json_string(s)) < 0)
                e->oom = -ENOMEM;
        free(s);
}

/* ---- running tools ------------------------------------------------------------ */

int engine_exec(const char *const *argv, const char *input, char *msg, size_t msg_len) {
        static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
        int in[2] = {-1, -1}, out[2] = {-1, -1}, status, r = 0;
        size_t got = 0;
        pid_t pid;

        if (msg_len)
                msg[0] = '\0';
        if (pipe2(out, O_CLOEXEC) < 0 || (input && pipe2(in, O_CLOEXEC) < 0)) {
                r = -errno;
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0) {
                sigset_t all;
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                signal(SIGPIPE, SIG_DFL);
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                if (dup2(input ? in[0] : null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
                        _exit(126);
                if (close_range(3, ~0U, 0) < 0)
                        for (int fd = 3; fd < 65536; fd++)
                                (void)close(fd);
                execve(argv[0], (char *const *)argv, envp);
                _exit(127);
        }
        close(out[1]);
        out[1] = -1;
        if (input) {
                size_t n = strlen(input), off = 0;
                close(in[0]);
                in[0] = -1;
                while (off < n) {
                        ssize_t w = write(in[1], input + off, n - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break; /* EPIPE: the tool's status says why */
                        off += (size_t)w;
                }
                close(in[1]);
                in[1] = -1;
        }
        for (;;) {
                char buf[1024];
                ssize_t n = read(out[0], buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n && got + 1 < msg_len; i++)
                        msg[got++] = buf[i] == '\n' || (unsigned char)buf[i] < 0x20 ? ' ' : buf[i];
        }
        if (msg_len)
                msg[got] = '\0';
        while (got > 0 && msg[got - 1] == ' ')
                msg[--got] = '\0';
        close(out[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (msg_len)
                utf8_sanitize(msg);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
fail:
        for (size_t i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (out[i] >= 0)
                        close(out[i]);
        }
        return r;
}

static const char *tool_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Runs command c for the plan (plan true) or for real. */
static int cmd_run(const struct engine_cmd *c, bool plan, char *msg, size_t msg_len) {
        const char *argv[ENGINE_ARGS_MAX + 1];
        size_t n = 0;

        for (size_t i = 0; i < c->argc; i++)
                if (c->where[i] == ARG_BOTH || c->where[i] == (plan ? ARG_PLAN : ARG_REAL))
                        argv[n++] = c->argv[i];
        argv[n] = NULL;
        return engine_exec(argv, c->input, msg, msg_len);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        (void)(type == FTW_DP ? rmdir(path) : unlink(path));
        return 0;
}

/* Runs every command in an overlay over /etc and reads the files as they
 * end up there. */
static int plan_in_overlay(struct engine *e, const struct account_state *before,
                           struct account_state *after, struct module_error *err) {
        char dir[] = PLAN_DIR_TEMPLATE, upper[64], work[64], opts[256], msg[512] = "";
        int p[2], status, r = 0;
        ssize_t n;
        pid_t pid;

        if (!mkdtemp(dir)) {
                r = -errno;
                module_error_set(err, 500, "internal", NULL,
                                 "cannot make a planning directory: %m");
                return r;
        }
        snprintf(upper, sizeof upper, "%s/upper", dir);
        snprintf(work, sizeof work, "%s/work", dir);
        snprintf(opts, sizeof opts, "lowerdir=/etc,upperdir=%s,workdir=%s", upper, work);
        if (mkdir(upper, 0700) < 0 || mkdir(work, 0700) < 0 || pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                module_error_set(err, 500, "internal", NULL, "cannot prepare the plan: %m");
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(p[0]);
                close(p[1]);
                module_error_set(err, 500, "internal", NULL, "cannot fork: %m");
                goto out;
        }
        if (pid == 0) {
                close(p[0]);
                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("overlay", "/etc", "overlay", 0, opts) < 0) {
                        dprintf(p[1], "cannot set up the planning overlay: %s", strerror(errno));
                        _exit(2);
                }
                /* useradd and userdel write lastlog and faillog records, and
                 * may make or remove a mail spool: all out of sight here. */
                (void)mount("tmpfs", "/var/log", "tmpfs", MS_NOSUID | MS_NODEV,
                            "size=4m,mode=0755");
                (void)mount("tmpfs", "/var/mail", "tmpfs", MS_NOSUID | MS_NODEV,
                            "size=1m,mode=2775");
                (void)mount("tmpfs", "/var/spool/mail", "tmpfs", MS_NOSUID | MS_NODEV,
                            "size=1m,mode=2775");
                for (size_t i = 0; i < e->n; i++) {
                        int s = cmd_run(&e->cmds[i], true, msg, sizeof msg);
                        if (s != 0) {
                                dprintf(p[1], "%s failed (%d): %s", tool_name(e->cmds[i].argv[0]),
                                        s, msg);
                                _exit(1);
                        }
                }
                _exit(0);
        }
        close(p[1]);
        n = read(p[0], msg, sizeof msg - 1);
        msg[n > 0 ? n : 0] = '\0';
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                utf8_sanitize(msg);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
                        module_error_set(err, 409, "conflict", NULL, "%s", msg);
                else
                        module_error_set(err, 500, "internal", NULL, "%s",
                                         msg[0] ? msg : "planning failed");
                r = -EIO;
                goto out;
        }
        *after = (struct account_state){0};
        for (size_t i = 0; i < ACCOUNT_FILES_N && r >= 0; i++) {
                char path[96];
                struct stat st;
                const char *base = strrchr(ACCOUNT_FILES[i], '/') + 1;

                snprintf(path, sizeof path, "%s/%s", upper, base);
                if (lstat(path, &st) < 0) {
                        if (before->text[i] && !(after->text[i] = strdup(before->text[i])))
                                r = -ENOMEM;
                        after->len[i] = before->len[i];
                } else if (S_ISREG(st.st_mode))
                        r = read_account_file(path, &after->text[i], &after->len[i]);
                /* else a whiteout: the file is gone */
        }
        if (r < 0) {
                account_state_done(after);
                module_error_set(err, 500, "internal", NULL, "cannot read the plan: %s",
                                 strerror(-r));
        }
out:
        (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        return r;
}

/* ---- the plan ---------------------------------------------------------------- */

static bool same(const struct account_state *a, const struct account_state *b, size_t i) {
        if (!a->text[i] || !b->text[i])
                return !a->text[i] && !b->text[i];
        return a->len[i] == b->len[i] && memcmp(a->text[i], b->text[i], a->len[i]) == 0;
}

static char *shown(const struct account_state *s, size_t i) {
        char *t = NULL;
        if (!s->text[i])
                return strdup("");
        if (!file_is_secret(i))
                return strdup(s->text[i]);
        return shadow_redact(s->text[i], s->len[i], &t) < 0 ? NULL : t;
}

int engine_plan_file(json_t *plan, const char *path, const char *before, const char *after,
                     bool module_restore) {
        _cleanup_free_ char *d = NULL;
        json_t *f;

        if (diff_unified(path, before ? before : "", before ? strlen(before) : 0,
                         after ? after : "", after ? strlen(after) : 0, &d) < 0)
                return -ENOMEM;
        f = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:b, s:b}", "path", path, "diff", d, "type",
                      after ? "file" : "absent", "before_type", before ? "file" : "absent",
                      "before", before, "after", after, "redacted", false, "module_restore",
                      module_restore);
        if (!f || json_array_append_new(json_object_get(plan, "files"), f) < 0)
                return -ENOMEM;
        return 0;
}

static json_t *plan_json(const struct engine *e, const struct account_state *before,
                         const struct account_state *after) {
        json_t *plan = json_pack("{s:[], s:[], s:O}", "commands", "files", "warnings", e->warnings);
        json_t *cmds = json_object_get(plan, "commands"), *files = json_object_get(plan, "files");

        for (size_t i = 0; plan && i < e->n; i++) {
                const struct engine_cmd *c = &e->cmds[i];
                json_t *argv = json_array();
                json_array_append_new(argv, json_string(tool_name(c->argv[0])));
                for (size_t j = 1; j < c->argc; j++)
                        if (c->where[j] != ARG_PLAN)
                                json_array_append_new(argv, json_string(c->argv[j]));
                json_array_append_new(cmds, argv);
        }
        for (size_t i = 0; plan && i < ACCOUNT_FILES_N; i++) {
                _cleanup_free_ char *b = NULL, *a = NULL, *d = NULL;
                json_t *f;

                if (same(before, after, i))
                        continue;
                b = shown(before, i);
                a = shown(after, i);
                if (!a || !b || diff_unified(ACCOUNT_FILES[i], b, strlen(b), a, strlen(a), &d) < 0)
                        goto oom;
                f = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:b, s:b, s:s?, s:s}", "path",
                              ACCOUNT_FILES[i], "diff", d, "type",
                              after->text[i] ? "file" : "absent", "before_type",
                              before->text[i] ? "file" : "absent", "before",
                              before->text[i] ? b : NULL, "after", a, "redacted", false, "image",
                              true, "image_before", before->text[i], "image_after",
                              after->text[i] ? after->text[i] : "");
                if (!f || json_array_append_new(files, f) < 0)
                        goto oom;
        }
        return plan;
oom:
        json_decref(plan);
        return NULL;
}

int engine_run(struct engine *e, bool dry_run, engine_guard_fn guard, void *data, json_t **ret_plan,
               struct module_error *err) {
        struct account_state before = {0}, planned = {0}, after = {0};
        char msg[512];
        int r;

        if (e->oom < 0) {
                module_error_set(err, 500, "internal", NULL, "the change is too large");
                return e->oom;
        }
        r = account_state_read(&before);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read the account files: %s",
                                 strerror(-r));
                return r;
        }
        r = plan_in_overlay(e, &before, &planned, err);
        if (r >= 0 && guard)
                r = guard(&before, &planned, data, err);
        if (r < 0)
                goto out;
        if (dry_run) {
                *ret_plan = plan_json(e, &before, &planned);
                r = *ret_plan ? 0 : -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < e->n; i++) {
                int s = cmd_run(&e->cmds[i], false, msg, sizeof msg);
                if (s != 0) {
                        /* Say that what ran before it was done: those
                         * changes stay (the audit record shows them). */
                        char done[64] = "";
                        if (i > 0)
                                snprintf(done, sizeof done, "%zu command%s ran (%s%s); then ", i,
                                         i == 1 ? "" : "s", tool_name(e->cmds[0].argv[0]),
                                         i > 1 ? "…" : "");
                        module_error_set(err, s < 0 ? 500 : 409, s < 0 ? "internal" : "conflict",
                                         NULL, "%s%s failed (%d): %s", done,
                                         tool_name(e->cmds[i].argv[0]), s,
                                         s < 0 ? strerror(-s) : msg);
                        r = -EIO;
                        break;
                }
        }
        if (account_state_read(&after) < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read the account files back");
                r = -EIO;
                goto out;
        }
        *ret_plan = plan_json(e, &before, &after);
        if (!*ret_plan) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                r = -ENOMEM;
                goto out;
        }
        json_object_set_new(*ret_plan, "applied", json_true());
out:
        account_state_done(&before);
        account_state_done(&planned);
        account_state_done(&after);
        return r;
}
