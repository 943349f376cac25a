/* change.c — the change engine (see change.h).
 *
 * Invariants: a plan owns its command arguments and its files' contents
 * (wiped when they may hold secrets); a file edit is written only after
 * every file's state was read, so an undo always knows what to put back;
 * nothing here logs: errors go to the caller in a module_error. */
#include "change.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"
#include "files.h"
#include "util.h"

#define STAGE_DIR_TEMPLATE "/tmp/steward-plan-XXXXXX"
#define ETC                "/etc/"

const char *change_type_name(change_type_t t) {
        return t == CHANGE_FILE ? "file" : t == CHANGE_SYMLINK ? "symlink" : "absent";
}

int change_type_parse(const char *s, change_type_t *ret) {
        if (!s)
                return -EINVAL;
        if (STREQ(s, "file"))
                *ret = CHANGE_FILE;
        else if (STREQ(s, "symlink"))
                *ret = CHANGE_SYMLINK;
        else if (STREQ(s, "absent"))
                *ret = CHANGE_ABSENT;
        else
                return -EINVAL;
        return 0;
}

/* ---- building a plan --------------------------------------------------------- */

static void wipe_free(char *s, size_t len) {
        if (s)
                explicit_bzero(s, len);
        free(s);
}

void change_plan_init(struct change_plan *p) {
        *p = (struct change_plan){0};
        p->warnings = json_array();
        if (!p->warnings)
                p->oom = -ENOMEM;
}

void change_plan_done(struct change_plan *p) {
        for (size_t i = 0; i < p->n_cmds; i++) {
                struct change_cmd *c = &p->cmds[i];
                for (size_t j = 0; j < c->argc; j++)
                        free(c->owned[j]);
                if (c->input)
                        wipe_free(c->input, strlen(c->input));
        }
        for (size_t i = 0; i < p->n_files; i++) {
                wipe_free(p->files[i].after, p->files[i].after_len);
                wipe_free(p->files[i].before, p->files[i].before_len);
        }
        json_decref(p->warnings);
        *p = (struct change_plan){0};
}

static struct change_file dummy_file;
static struct change_cmd dummy_cmd;

static struct change_file *file_add(struct change_plan *p, const char *path) {
        if (!path || path[0] != '/') {
                p->oom = p->oom ?: -EINVAL;
                return &dummy_file;
        }
        if (p->n_files == CHANGE_FILES_MAX) {
                p->oom = p->oom ?: -E2BIG;
                return &dummy_file;
        }
        struct change_file *f = &p->files[p->n_files++];
        *f = (struct change_file){.path = path};
        return f;
}

struct change_file *change_edit(struct change_plan *p, const char *path, change_type_t type,
                                const char *content, unsigned mode) {
        struct change_file *f = file_add(p, path);

        if (f == &dummy_file)
                return f;
        f->edit = true;
        f->type = type;
        f->mode = mode;
        if (type != CHANGE_ABSENT) {
                f->after = strdup(content ? content : "");
                if (!f->after)
                        p->oom = p->oom ?: -ENOMEM;
                else
                        f->after_len = strlen(f->after);
        }
        return f;
}

struct change_file *change_watch(struct change_plan *p, const char *path, unsigned flags,
                                 change_redact_fn redact) {
        struct change_file *f = file_add(p, path);

        if (f == &dummy_file)
                return f;
        if (strncmp(path, ETC, strlen(ETC)) != 0)
                p->oom = p->oom ?: -EINVAL; /* only /etc is staged */
        f->flags = flags;
        f->redact = redact;
        return f;
}

struct change_cmd *change_cmd(struct change_plan *p, const char *tool) {
        struct change_cmd *c;

        if (p->n_cmds == CHANGE_CMDS_MAX || !tool || tool[0] != '/') {
                p->oom = p->oom ?: (tool && tool[0] == '/' ? -E2BIG : -EINVAL);
                return &dummy_cmd;
        }
        c = &p->cmds[p->n_cmds++];
        *c = (struct change_cmd){0};
        c->argv[c->argc++] = tool;
        return c;
}

void change_cmd_drop(struct change_plan *p) {
        struct change_cmd *c;

        if (p->n_cmds == 0)
                return;
        c = &p->cmds[--p->n_cmds];
        for (size_t j = 0; j < c->argc; j++)
                free(c->owned[j]);
        if (c->input)
                wipe_free(c->input, strlen(c->input));
        *c = (struct change_cmd){0};
}

static void add_arg(struct change_plan *p, struct change_cmd *c, const char *arg, char *owned,
                    int where) {
        if (c == &dummy_cmd || c->argc == CHANGE_ARGS_MAX || !arg) {
                free(owned);
                p->oom = p->oom ?: (arg ? -E2BIG : -ENOMEM);
                return;
        }
        c->where[c->argc] = (unsigned char)where;
        c->owned[c->argc] = owned;
        c->argv[c->argc++] = arg;
}

void change_arg(struct change_plan *p, struct change_cmd *c, const char *arg) {
        add_arg(p, c, arg, NULL, CHANGE_ARG_BOTH);
}

void change_arg_where(struct change_plan *p, struct change_cmd *c, const char *arg, int where) {
        add_arg(p, c, arg, NULL, where);
}

void change_argf(struct change_plan *p, struct change_cmd *c, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        add_arg(p, c, s, s, CHANGE_ARG_BOTH);
}

void change_arg_joined(struct change_plan *p, struct change_cmd *c, json_t *names, size_t max) {
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
                p->oom = p->oom ?: r;
                return;
        }
        char *s = buf_steal(&b);
        if (!s)
                s = strdup("");
        add_arg(p, c, s, s, CHANGE_ARG_BOTH); /* NULL: out of memory, recorded there */
}

void change_input(struct change_plan *p, struct change_cmd *c, const char *input, bool secret) {
        if (c == &dummy_cmd)
                return;
        c->input = strdup(input);
        c->input_secret = secret;
        if (!c->input)
                p->oom = p->oom ?: -ENOMEM;
}

void change_warn(struct change_plan *p, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s || json_array_append_new(p->warnings, json_string(s)) < 0)
                p->oom = p->oom ?: -ENOMEM;
        free(s);
}

/* ---- running tools ------------------------------------------------------------ */

/* In a forked child: the tool argv with stdin from in (-1: /dev/null),
 * stdout and stderr to out and err, every other descriptor closed, the
 * default signal mask and a fixed environment. */
static void __attribute__((noreturn)) exec_child(const char *const *argv, int in, int out, int err) {
        static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
        sigset_t all;
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (dup2(in >= 0 ? in : null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                _exit(126);
        if (close_range(3, ~0U, 0) < 0)
                for (int fd = 3; fd < 65536; fd++)
                        (void)close(fd);
        execve(argv[0], (char *const *)argv, envp);
        _exit(127);
}

/* Keeps the first bytes of a tool's message in msg, on one line. */
static void msg_add(char *msg, size_t msg_len, size_t *got, const char *buf, size_t n) {
        for (size_t i = 0; i < n && *got + 1 < msg_len; i++)
                msg[(*got)++] = buf[i] == '\n' || (unsigned char)buf[i] < 0x20 ? ' ' : buf[i];
}

int change_exec_timeout(const char *const *argv, const char *input, char *msg, size_t msg_len,
                        uint64_t timeout_usec) {
        int in[2] = {-1, -1}, out[2] = {-1, -1}, status, r = 0;
        uint64_t deadline = now_usec() + timeout_usec;
        size_t got = 0, off = 0, n_in = input ? strlen(input) : 0;
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
        if (pid == 0)
                exec_child(argv, input ? in[0] : -1, out[1], out[1]);
        close(out[1]);
        out[1] = -1;
        if (input) {
                close(in[0]);
                in[0] = -1;
                /* Written as the tool reads it, beside its output, so that
                 * neither a full pipe nor a tool that never reads hangs us. */
                (void)fcntl(in[1], F_SETFL, O_NONBLOCK);
                if (n_in == 0) {
                        close(in[1]);
                        in[1] = -1;
                }
        }
        for (struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN},
                                    {.fd = in[1], .events = POLLOUT}};
             pf[0].fd >= 0;) {
                int64_t left = (int64_t)(deadline - now_usec()) / 1000;
                int ready = left > 0 ? poll(pf, 2, (int)left) : 0;
                char buf[1024];
                ssize_t n;

                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready <= 0) {
                        /* A tool that hangs (a wedged Postfix behind
                         * postqueue) must not hold the helper. */
                        r = ready < 0 ? -errno : -ETIME;
                        (void)kill(pid, SIGKILL);
                        break;
                }
                if (pf[1].fd >= 0 && pf[1].revents) {
                        n = write(pf[1].fd, input + off, n_in - off);
                        if (n > 0)
                                off += (size_t)n;
                        if ((n < 0 && errno != EINTR && errno != EAGAIN) || off == n_in ||
                            (pf[1].revents & (POLLERR | POLLHUP))) {
                                close(in[1]); /* EPIPE: the tool's status says why */
                                in[1] = pf[1].fd = -1;
                        }
                }
                if (!pf[0].revents)
                        continue;
                n = read(out[0], buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                msg_add(msg, msg_len, &got, buf, (size_t)n);
        }
        if (msg_len)
                msg[got] = '\0';
        while (got > 0 && msg[got - 1] == ' ')
                msg[--got] = '\0';
        close(out[0]);
        out[0] = -1;
        if (in[1] >= 0) {
                close(in[1]);
                in[1] = -1;
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (msg_len)
                utf8_sanitize(msg);
        if (r < 0)
                return r;
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

int change_exec(const char *const *argv, const char *input, char *msg, size_t msg_len) {
        return change_exec_timeout(argv, input, msg, msg_len, CHANGE_EXEC_TIMEOUT_USEC);
}

int change_units_control(const char *verb, const char *const *units, size_t n,
                         const char *servers, struct module_error *err) {
        const char *argv[3 + CHANGE_UNITS_MAX + 1] = {"/usr/bin/systemctl", verb, "--"};
        char msg[400];
        int r;

        if (access("/run/systemd/system", F_OK) < 0) {
                module_error_set(err, 503, "unavailable", NULL,
                                 "systemd is not running here: start %s the way this system "
                                 "starts services",
                                 servers);
                return -EOPNOTSUPP;
        }
        if (n == 0) {
                module_error_set(err, 503, "unavailable", NULL, "%s: none is installed", servers);
                return -EOPNOTSUPP;
        }
        if (n > CHANGE_UNITS_MAX) {
                module_error_set(err, 500, "internal", NULL, "too many units");
                return -E2BIG;
        }
        for (size_t i = 0; i < n; i++)
                argv[3 + i] = units[i];
        r = change_exec(argv, NULL, msg, sizeof msg);
        if (r == 0)
                return 0;
        module_error_set(err, 500, "failed", NULL, "systemctl %s failed (%d): %s", verb, r, msg);
        return -EIO;
}

/* Standard output handed over a line at a time (change_exec_lines). */
struct line_sink {
        change_line_fn fn;
        void *data;
        size_t total, max_total;
};

/* Appends a chunk to b (at most one line's room) and hands each complete
 * line to the sink; the rest stays in b for the next chunk. */
static int sink_add(struct line_sink *s, struct buf *b, const char *chunk, size_t n) {
        size_t start = 0;
        char *nl;
        int r;

        if (__builtin_add_overflow(s->total, n, &s->total) || s->total > s->max_total)
                return -E2BIG;
        r = buf_append(b, chunk, n);
        if (r < 0)
                return r;
        while ((nl = memchr(b->data + start, '\n', b->len - start))) {
                r = s->fn(b->data + start, (size_t)(nl - (b->data + start)), s->data);
                if (r < 0)
                        return r;
                start = (size_t)(nl - b->data) + 1;
        }
        memmove(b->data, b->data + start, b->len - start);
        b->len -= start;
        b->data[b->len] = '\0';
        return 0;
}

static int exec_output(const char *const *argv, size_t max, struct line_sink *sink, char **ret_out,
                       size_t *ret_len, char *msg, size_t msg_len) {
        int out[2] = {-1, -1}, errp[2] = {-1, -1}, status, r = 0;
        uint64_t deadline = now_usec() + CHANGE_EXEC_OUTPUT_TIMEOUT_USEC;
        struct buf b;
        size_t got = 0;
        pid_t pid;

        buf_init(&b, max);
        if (msg_len)
                msg[0] = '\0';
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                exec_child(argv, -1, out[1], errp[1]);
        close(out[1]);
        close(errp[1]);
        out[1] = errp[1] = -1;
        for (struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
             pf[0].fd >= 0 || pf[1].fd >= 0;) {
                char chunk[4096];

                int64_t left = (int64_t)(deadline - now_usec()) / 1000;
                int ready = left > 0 ? poll(pf, 2, (int)left) : 0;

                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready <= 0) {
                        /* A tool that hangs (smbstatus on a wedged
                         * lock) must not hold the helper. */
                        r = ready < 0 ? -errno : -ETIME;
                        (void)kill(pid, SIGKILL);
                        break;
                }
                for (size_t i = 0; i < 2; i++) {
                        ssize_t n;

                        if (pf[i].fd < 0 || !pf[i].revents)
                                continue;
                        n = read(pf[i].fd, chunk, sizeof chunk);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                pf[i].fd = -1;
                                continue;
                        }
                        if (i == 1)
                                msg_add(msg, msg_len, &got, chunk, (size_t)n);
                        else if (r == 0 && sink)
                                r = sink_add(sink, &b, chunk, (size_t)n); /* read on after an error */
                        else if (r == 0 && buf_append(&b, chunk, (size_t)n) < 0)
                                r = -E2BIG; /* read on, so that the tool is not blocked */
                }
        }
        if (msg_len) {
                msg[got] = '\0';
                while (got > 0 && msg[got - 1] == ' ')
                        msg[--got] = '\0';
                utf8_sanitize(msg);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        goto fail;
                }
        if (r == 0 && sink && b.len > 0) /* a last line without its newline */
                r = sink->fn(b.data, b.len, sink->data);
        if (r < 0)
                goto fail;
        if (sink) {
                buf_free(&b);
                close(out[0]);
                close(errp[0]);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (buf_append(&b, "", 1) < 0) {
                r = -E2BIG;
                goto fail;
        }
        b.len--; /* the NUL is not content */
        if (ret_len)
                *ret_len = b.len;
        *ret_out = buf_steal(&b);
        if (!*ret_out) {
                r = -ENOMEM;
                goto fail;
        }
        close(out[0]);
        close(errp[0]);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
fail:
        buf_free(&b);
        for (size_t i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        return r;
}

int change_exec_output(const char *const *argv, size_t max, char **ret_out, size_t *ret_len,
                       char *msg, size_t msg_len) {
        return exec_output(argv, max, NULL, ret_out, ret_len, msg, msg_len);
}

int change_exec_lines(const char *const *argv, size_t max_line, size_t max_total,
                      change_line_fn fn, void *data, char *msg, size_t msg_len) {
        struct line_sink sink = {.fn = fn, .data = data, .max_total = max_total};

        return exec_output(argv, max_line, &sink, NULL, NULL, msg, msg_len);
}

static const char *tool_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Runs command c for the staged run (stage true) or for real. */
static int cmd_run(const struct change_cmd *c, bool stage, char *msg, size_t msg_len) {
        const char *argv[CHANGE_ARGS_MAX + 1];
        size_t n = 0;

        for (size_t i = 0; i < c->argc; i++)
                if (c->where[i] == CHANGE_ARG_BOTH ||
                    c->where[i] == (stage ? CHANGE_ARG_STAGE : CHANGE_ARG_REAL))
                        argv[n++] = c->argv[i];
        argv[n] = NULL;
        return change_exec(argv, c->input, msg, msg_len);
}

/* ---- file states ---------------------------------------------------------------- */

static int conflict(struct module_error *err, const struct change_file *f, const char *path,
                    const char *why) {
        module_error_set(err, 409, "conflict", f->field, "%s %s; it is left alone", path, why);
        return -EBUSY;
}

/* Reads the regular file at path that lstat() saw as *seen, without
 * following a link in its last component or blocking on a FIFO swapped in
 * meanwhile (a file under a directory its user controls): -ESTALE if what
 * opened is not that file. */
static int read_regular_nofollow(const char *path, const struct stat *seen, size_t max,
                                 char **text, size_t *len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
                                                   O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return errno == ELOOP || errno == ENXIO ? -ESTALE : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino)
                return -ESTALE;
        return read_fd(fd, max, text, len);
}

/* Reads what is at path (which may be a staged copy of f->path) into
 * the type, the text, its length and the mode. */
static int state_read(const struct change_file *f, const char *path, change_type_t *type,
                      char **text, size_t *len, unsigned *mode, struct module_error *err) {
        size_t max = f->max ? f->max : FILE_STATE_MAX;
        struct stat st;
        int r;

        *text = NULL;
        *len = 0;
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR) {
                        *type = CHANGE_ABSENT;
                        return 0;
                }
                r = -errno;
                module_error_set(err, 500, "internal", f->field, "Failed to inspect %s: %m",
                                 f->path);
                return r;
        }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                *type = CHANGE_ABSENT; /* an overlay's whiteout: removed in the stage */
                return 0;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof target - 1);

                if (n < 0) {
                        r = -errno;
                        module_error_set(err, 500, "internal", f->field,
                                         "Failed to read link %s: %m", f->path);
                        return r;
                }
                if (!utf8_valid(target, (size_t)n))
                        return conflict(err, f, f->path, "is a link whose target is not UTF-8");
                *text = strndup(target, (size_t)n);
                *len = (size_t)n;
                *type = CHANGE_SYMLINK;
                if (!*text)
                        goto oom;
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return conflict(err, f, f->path, "is neither a regular file nor a symbolic link");
        r = read_regular_nofollow(path, &st, max, text, len);
        if (r == -ESTALE)
                return conflict(err, f, f->path, "was replaced while it was read");
        if (r == -EFBIG)
                return conflict(err, f, f->path, "is unexpectedly large");
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", f->field, "Failed to read %s: %m", f->path);
                return r;
        }
        if (!utf8_valid(*text, *len) || strlen(*text) != *len) {
                wipe_free(*text, *len);
                *text = NULL;
                return conflict(err, f, f->path, "is not UTF-8 text");
        }
        *type = CHANGE_FILE;
        *mode = st.st_mode & 07777;
        return 0;
oom:
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

static bool same_state(change_type_t ta, const char *a, size_t la, change_type_t tb, const char *b,
                       size_t lb) {
        if (ta != tb)
                return false;
        if (ta == CHANGE_ABSENT)
                return true;
        return la == lb && memcmp(a, b, la) == 0;
}

static int read_befores(struct change_plan *p, struct module_error *err) {
        for (size_t i = 0; i < p->n_files; i++) {
                struct change_file *f = &p->files[i];
                unsigned mode = 0;
                int r;

                wipe_free(f->before, f->before_len); /* a plan run again */
                f->before = NULL;
                r = state_read(f, f->path, &f->before_type, &f->before, &f->before_len, &mode, err);
                if (r < 0)
                        return r;
                f->before_mode = mode;
                if (f->edit)
                        f->skip = same_state(f->before_type, f->before, f->before_len, f->type,
                                             f->after, f->after_len);
        }
        return 0;
}

/* Reads the watched files again (at prefix + path: the stage's upper
 * directory, or the live tree with prefix ""); a file not in the upper
 * directory is as before. */
static int read_afters(struct change_plan *p, const char *upper, struct module_error *err) {
        for (size_t i = 0; i < p->n_files; i++) {
                struct change_file *f = &p->files[i];
                char path[PATH_MAX];
                struct stat st;
                unsigned mode;
                int r;

                if (f->edit)
                        continue;
                wipe_free(f->after, f->after_len);
                f->after = NULL;
                f->after_len = 0;
                if (snprintf(path, sizeof path, "%s%s", upper ? upper : "",
                             upper ? f->path + strlen(ETC) - 1 : f->path) >= (int)sizeof path)
                        return -ENAMETOOLONG;
                if (upper && lstat(path, &st) < 0) {
                        f->type = f->before_type;
                        if (f->before && !(f->after = strdup(f->before)))
                                return -ENOMEM;
                        f->after_len = f->before_len;
                } else {
                        r = state_read(f, path, &f->type, &f->after, &f->after_len, &mode, err);
                        if (r < 0)
                                return r;
                }
                f->skip = same_state(f->before_type, f->before, f->before_len, f->type, f->after,
                                     f->after_len);
        }
        return 0;
}

/* With no command to run, the watched files stay as they are. */
static int unchanged_afters(struct change_plan *p, struct module_error *err) {
        for (size_t i = 0; i < p->n_files; i++) {
                struct change_file *f = &p->files[i];

                if (f->edit)
                        continue;
                wipe_free(f->after, f->after_len);
                f->after = NULL;
                f->type = f->before_type;
                f->after_len = f->before_len;
                f->skip = true;
                if (f->before && !(f->after = strdup(f->before))) {
                        module_error_set(err, 500, "internal", NULL, "Out of memory");
                        return -ENOMEM;
                }
        }
        return 0;
}

static int state_write(const char *path, change_type_t type, const char *text, size_t len,
                       unsigned mode) {
        return file_state_write(path, change_type_name(type), text, len, mode);
}

/* The directory of path (made by the write: a unit's drop-in directory),
 * removed again; fails when it is not empty. */
static int rmdir_parent(const char *path) {
        char dir[PATH_MAX];

        if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir || !strrchr(dir, '/'))
                return -ENAMETOOLONG;
        *strrchr(dir, '/') = '\0';
        return rmdir(dir) < 0 ? -errno : 0;
}

/* Writes a file edit; with CHANGE_MAKE_DIR, a file whose directory is
 * missing (a unit's drop-in directory) gets it, one level, mode 0755: made
 * only now that the change is checked and applied, never for a refused or
 * dry-run change. */
static int edit_write(struct change_file *f) {
        char dir[PATH_MAX];
        int r = state_write(f->path, f->type, f->after, f->after_len,
                            f->before_type == CHANGE_FILE ? f->before_mode : f->mode);

        if (r != -ENOENT || f->type == CHANGE_ABSENT || !(f->flags & CHANGE_MAKE_DIR) ||
            snprintf(dir, sizeof dir, "%s", f->path) >= (int)sizeof dir || !strrchr(dir, '/'))
                return r;
        *strrchr(dir, '/') = '\0';
        if (mkdir(dir, 0755) < 0)
                return errno == EEXIST ? r : -errno;
        f->made_dir = true;
        return state_write(f->path, f->type, f->after, f->after_len, f->mode);
}

/* Puts back, last first, every file this change wrote.  On failure, the
 * first error and the path it concerns. */
static int undo(struct change_plan *p, const char **ret_path) {
        int first = 0;

        for (size_t i = p->n_files; i-- > 0;) {
                struct change_file *f = &p->files[i];
                int r;

                if (!f->written)
                        continue;
                r = state_write(f->path, f->before_type, f->before, f->before_len,
                                f->before_mode ? f->before_mode : 0644);
                if (r >= 0) {
                        f->written = false;
                        if (f->made_dir && f->before_type == CHANGE_ABSENT)
                                (void)rmdir_parent(f->path); /* only if empty */
                } else if (first == 0) {
                        first = r;
                        *ret_path = f->path;
                }
        }
        return first;
}

/* Undoes the writes and appends what that achieved to err's message. */
static void undo_report(struct change_plan *p, const change_hooks_t *h, struct module_error *err) {
        const char *path = NULL;
        struct module_error lerr = {0};
        size_t n = strlen(err->message);
        bool locked, any = false;
        int r;

        for (size_t i = 0; i < p->n_files; i++)
                any = any || p->files[i].written;
        if (!any)
                return; /* no file edit was written: commands say for themselves */
        locked = h && h->lock && h->lock(&lerr) >= 0;
        r = undo(p, &path);

        if (locked && h->unlock)
                h->unlock();
        if (r >= 0)
                (void)snprintf(err->message + n, sizeof err->message - n, "; nothing was changed");
        else
                (void)snprintf(err->message + n, sizeof err->message - n,
                               "; putting back %s also failed (%s), fix it by hand", path,
                               strerror(-r));
}

static int write_edits(struct change_plan *p, const change_hooks_t *h, struct module_error *err) {
        bool locked = false;
        int r = 0;

        for (size_t i = 0; i < p->n_files; i++) {
                struct change_file *f = &p->files[i];

                if (!f->edit || f->skip)
                        continue;
                if (!locked && h && h->lock) {
                        r = h->lock(err);
                        if (r < 0)
                                return r;
                        locked = true;
                }
                r = edit_write(f);
                if (r < 0) {
                        module_error_set(err, 500, "internal", f->field, "Failed to write %s: %s",
                                         f->path, strerror(-r));
                        break;
                }
                f->written = true;
        }
        if (r < 0)
                undo_report(p, NULL, err); /* still under the lock */
        if (locked && h->unlock)
                h->unlock();
        return r;
}

/* ---- the stage ------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        (void)(type == FTW_DP ? rmdir(path) : unlink(path));
        return 0;
}

static void child_fail(int fd, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void child_fail(int fd, int status, const char *code, const char *fmt, ...) {
        struct module_error e = {.status = status};
        va_list ap;

        snprintf(e.code, sizeof e.code, "%s", code);
        va_start(ap, fmt);
        vsnprintf(e.message, sizeof e.message, fmt, ap);
        va_end(ap);
        (void)!write(fd, &e, sizeof e);
        _exit(1);
}

/* In the child, in its own mount namespace: an overlay over each of the
 * hooks' stage_overlays, its upper layer on a tmpfs over /mnt (hidden from
 * nothing but this child), so what the checker writes there is dropped
 * with the stage.  A directory that does not exist is left alone. */
static void stage_overlays(const change_hooks_t *h, int fd) {
        char opts[3 * PATH_MAX], dir[64];
        struct stat st;

        if (!h || !h->stage_overlays || !h->stage_overlays[0])
                return;
        if (mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0700") < 0)
                child_fail(fd, 500, "internal", "cannot stage the service's directories: %s",
                           strerror(errno));
        for (size_t i = 0; i < CHANGE_OVERLAYS_MAX && h->stage_overlays[i]; i++) {
                const char *path = h->stage_overlays[i];
                if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                snprintf(dir, sizeof dir, "/mnt/%zu", i);
                if (mkdir(dir, 0700) < 0 ||
                    snprintf(opts, sizeof opts, "%s/u", dir) < 0 || mkdir(opts, 0755) < 0 ||
                    snprintf(opts, sizeof opts, "%s/w", dir) < 0 || mkdir(opts, 0700) < 0)
                        child_fail(fd, 500, "internal", "cannot stage %s: %s", path,
                                   strerror(errno));
                snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/u,workdir=%s/w", path, dir,
                         dir);
                if (mount("overlay", path, "overlay", 0, opts) < 0)
                        child_fail(fd, 500, "internal", "cannot stage %s: %s", path,
                                   strerror(errno));
        }
}

/* In the child: the stage, the edits, the commands, the checker. */
static void __attribute__((noreturn))
stage_child(const struct change_plan *p, const change_hooks_t *h, const char *opts, int fd) {
        struct module_error e = {0};
        char msg[512] = "";

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("overlay", "/etc", "overlay", 0, opts) < 0)
                child_fail(fd, 500, "internal", "cannot set up the planning overlay: %s",
                           strerror(errno));
        /* Tools write lastlog and faillog records, and may make or remove a
         * mail spool: all out of sight here. */
        (void)mount("tmpfs", "/var/log", "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755");
        (void)mount("tmpfs", "/var/mail", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=2775");
        (void)mount("tmpfs", "/var/spool/mail", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=2775");
        stage_overlays(h, fd);
        for (size_t i = 0; i < p->n_files; i++) {
                const struct change_file *f = &p->files[i];
                int r;

                if (!f->edit || f->skip || strncmp(f->path, ETC, strlen(ETC)) != 0)
                        continue;
                r = state_write(f->path, f->type, f->after, f->after_len,
                                f->before_type == CHANGE_FILE ? f->before_mode : f->mode);
                if (r == -ENOENT && f->type != CHANGE_ABSENT) {
                        /* A file in a directory the real run makes as it
                         * writes (edit_write): made here in the overlay. */
                        char dir[PATH_MAX];
                        snprintf(dir, sizeof dir, "%s", f->path);
                        *strrchr(dir, '/') = '\0';
                        if (mkdir(dir, 0755) == 0)
                                r = state_write(f->path, f->type, f->after, f->after_len, f->mode);
                }
                if (r < 0)
                        child_fail(fd, 500, "internal", "cannot stage %s: %s", f->path,
                                   strerror(-r));
        }
        for (size_t i = 0; i < p->n_cmds; i++) {
                int s = cmd_run(&p->cmds[i], true, msg, sizeof msg);
                if (s != 0)
                        child_fail(fd, 409, "conflict", "%s failed (%d): %s",
                                   tool_name(p->cmds[i].argv[0]), s, msg);
        }
        if (h && h->validate && h->validate("/etc", &e) < 0) {
                if (!e.status)
                        e.status = 422;
                (void)!write(fd, &e, sizeof e);
                _exit(1);
        }
        _exit(0);
}

/* Stages the change and reads the watched files as they end up there. */
static int stage(struct change_plan *p, const change_hooks_t *h, struct module_error *err) {
        char dir[] = STAGE_DIR_TEMPLATE, upper[64], work[64], opts[256];
        struct module_error ce = {0};
        int fds[2], status, r = 0;
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
        if (mkdir(upper, 0700) < 0 || mkdir(work, 0700) < 0 || pipe2(fds, O_CLOEXEC) < 0) {
                r = -errno;
                module_error_set(err, 500, "internal", NULL, "cannot prepare the plan: %m");
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(fds[0]);
                close(fds[1]);
                module_error_set(err, 500, "internal", NULL, "cannot fork: %m");
                goto out;
        }
        if (pid == 0) {
                close(fds[0]);
                stage_child(p, h, opts, fds[1]);
        }
        close(fds[1]);
        do
                n = read(fds[0], &ce, sizeof ce);
        while (n < 0 && errno == EINTR);
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (n == (ssize_t)sizeof ce) {
                        ce.code[sizeof ce.code - 1] = ce.message[sizeof ce.message - 1] = '\0';
                        ce.field[sizeof ce.field - 1] = '\0';
                        utf8_sanitize(ce.message);
                        *err = ce;
                } else
                        module_error_set(err, 500, "internal", NULL, "planning failed");
                r = -EIO;
                goto out;
        }
        r = read_afters(p, upper, err);
        if (r < 0 && !err->status)
                module_error_set(err, 500, "internal", NULL, "cannot read the plan: %s",
                                 strerror(-r));
out:
        (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        return r;
}

/* ---- the plan as JSON ------------------------------------------------------------ */

/* What a diff shows of a state: the content of a file, "-> TARGET" for a
 * link, nothing for an absent file. */
static char *state_text(change_type_t type, const char *content) {
        char *s;

        if (type == CHANGE_SYMLINK)
                return asprintf(&s, "-> %s\n", content) < 0 ? NULL : s;
        return strdup(type == CHANGE_FILE && content ? content : "");
}

static char *shown(const struct change_file *f, change_type_t type, const char *text, size_t len) {
        char *t = NULL;

        if (type == CHANGE_ABSENT)
                return NULL;
        if (!f->redact)
                return strdup(text);
        return f->redact(text, len, &t) < 0 ? NULL : t;
}

static int file_json(const struct change_file *f, json_t *files) {
        _cleanup_free_ char *b = shown(f, f->before_type, f->before, f->before_len);
        _cleanup_free_ char *a = shown(f, f->type, f->after, f->after_len);
        _cleanup_free_ char *tb = NULL, *ta = NULL, *d = NULL;
        bool image = f->flags & CHANGE_IMAGE;
        json_t *o;

        if ((f->before_type != CHANGE_ABSENT && !b) || (f->type != CHANGE_ABSENT && !a))
                return -ENOMEM;
        tb = state_text(f->before_type, b);
        ta = state_text(f->type, a);
        if (!tb || !ta || diff_unified(f->path, tb, strlen(tb), ta, strlen(ta), &d) < 0)
                return -ENOMEM;
        if (!a && image)
                a = strdup(""); /* an image's absent file shows as empty */
        o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:b}", "path", f->path, "diff", d, "type",
                      change_type_name(f->type), "before_type", change_type_name(f->before_type),
                      "before", b, "after", a, "redacted", false);
        if (o && image &&
            (json_object_set_new(o, "image", json_true()) < 0 ||
             json_object_set_new(o, "image_before",
                                 f->before ? json_string(f->before) : json_null()) < 0 ||
             json_object_set_new(o, "image_after", json_string(f->after ? f->after : "")) < 0))
                goto oom;
        if (o && (f->flags & CHANGE_MODULE_RESTORE) &&
            json_object_set_new(o, "module_restore", json_true()) < 0)
                goto oom;
        if (!o || json_array_append_new(files, o) < 0)
                return -ENOMEM;
        return 0;
oom:
        json_decref(o);
        return -ENOMEM;
}

static json_t *plan_json(const struct change_plan *p) {
        json_t *plan = json_pack("{s:[], s:[], s:O}", "commands", "files", "warnings", p->warnings);
        json_t *cmds = json_object_get(plan, "commands"), *files = json_object_get(plan, "files");

        for (size_t i = 0; plan && i < p->n_cmds; i++) {
                const struct change_cmd *c = &p->cmds[i];
                json_t *argv = json_array();
                json_array_append_new(argv, json_string(tool_name(c->argv[0])));
                for (size_t j = 1; j < c->argc; j++)
                        if (c->where[j] != CHANGE_ARG_STAGE)
                                json_array_append_new(argv, json_string(c->argv[j]));
                if (json_array_append_new(cmds, argv) < 0)
                        goto oom;
        }
        for (size_t i = 0; plan && i < p->n_files; i++)
                if (!p->files[i].skip && file_json(&p->files[i], files) < 0)
                        goto oom;
        return plan;
oom:
        json_decref(plan);
        return NULL;
}

int change_plan_add_file(json_t *plan, const char *path, const char *before, const char *after,
                         bool module_restore) {
        struct change_file f = {
                .path = path,
                .flags = module_restore ? CHANGE_MODULE_RESTORE : 0,
                .type = after ? CHANGE_FILE : CHANGE_ABSENT,
                .after = (char *)after,
                .after_len = after ? strlen(after) : 0,
                .before_type = before ? CHANGE_FILE : CHANGE_ABSENT,
                .before = (char *)before,
                .before_len = before ? strlen(before) : 0,
        };
        return file_json(&f, json_object_get(plan, "files"));
}

/* ---- running a plan --------------------------------------------------------------- */

/* The commands for real, stopping at the first failure. */
static int run_commands(const struct change_plan *p, struct module_error *err) {
        char msg[512];

        for (size_t i = 0; i < p->n_cmds; i++) {
                int s = cmd_run(&p->cmds[i], false, msg, sizeof msg);
                if (s != 0) {
                        /* Say that what ran before it was done: those
                         * changes stay (the audit record shows them). */
                        char done[64] = "";
                        if (i > 0)
                                snprintf(done, sizeof done, "%zu command%s ran (%s%s); then ", i,
                                         i == 1 ? "" : "s", tool_name(p->cmds[0].argv[0]),
                                         i > 1 ? "…" : "");
                        module_error_set(err, s < 0 ? 500 : 409, s < 0 ? "internal" : "conflict",
                                         NULL, "%s%s failed (%d): %s", done,
                                         tool_name(p->cmds[i].argv[0]), s,
                                         s < 0 ? strerror(-s) : msg);
                        return -EIO;
                }
        }
        return 0;
}

static int apply(struct change_plan *p, const struct change_opts *o, json_t **ret_plan,
                 struct module_error *err) {
        int r, q;

        r = write_edits(p, o->hooks, err);
        if (r < 0)
                return r;
        r = run_commands(p, err);
        if (r >= 0 && o->commit)
                r = o->commit(o->data, err);
        if (r < 0)
                undo_report(p, o->hooks, err);
        if (p->n_cmds == 0)
                goto done;
        /* Commands ran: whatever happened is described and audited. */
        q = read_afters(p, NULL, err);
        if (q < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read the changed files back");
                r = -EIO;
        }
done:
        if (r < 0 && p->n_cmds == 0)
                return r;
        *ret_plan = plan_json(p);
        if (!*ret_plan) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        if (p->n_cmds > 0)
                json_object_set_new(*ret_plan, "applied", json_true());
        return r;
}

int change_run(struct change_plan *p, const struct change_opts *o, json_t **ret_plan,
               struct module_error *err) {
        const change_hooks_t *h = o->hooks;
        int r;

        if (p->oom < 0) {
                module_error_set(err, 500, "internal", NULL, "the change is too large");
                return p->oom;
        }
        r = read_befores(p, err);
        if (r < 0)
                return r;
        if (p->n_cmds > 0 || (h && h->validate)) {
                r = stage(p, h, err);
                if (r < 0)
                        return r;
        } else {
                r = unchanged_afters(p, err); /* nothing changes a watched file */
                if (r < 0)
                        return r;
        }
        if (o->guard) {
                r = o->guard(p, o->data, err);
                if (r < 0)
                        return r;
        }
        if (!o->dry_run)
                return apply(p, o, ret_plan, err);
        *ret_plan = plan_json(p);
        if (!*ret_plan) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

int change_write_files(struct change_plan *p, bool dry_run, json_t **ret_files,
                       struct module_error *err) {
        _cleanup_(json_decrefp) json_t *plan = NULL;
        int r = change_run(p, &(struct change_opts){.dry_run = dry_run}, &plan, err);

        if (r < 0)
                return r;
        *ret_files = json_incref(json_object_get(plan, "files"));
        return 0;
}

/* ---- rollback -------------------------------------------------------------------- */

void change_rollback_result_done(struct change_rollback_result *res) {
        json_decref(res->files);
        json_decref(res->conflicts);
        *res = (struct change_rollback_result){0};
}

static int diff_states(const char *path, change_type_t ta, const char *a, change_type_t tb,
                       const char *b, char **ret) {
        _cleanup_free_ char *sa = state_text(ta, a), *sb = state_text(tb, b);

        if (!sa || !sb)
                return -ENOMEM;
        return diff_unified(path, sa, strlen(sa), sb, strlen(sb), ret);
}

/* Whether f still holds what the change left; else a conflict entry.  A
 * module that restores f itself may read it too (module_t.file_read: a
 * folder's permissions are not a file's content). */
static int rollback_check(const module_t *m, const struct change_restore *f, json_t *conflicts,
                          struct module_error *err) {
        struct change_file cf = {.path = f->path};
        struct module_error lerr = {0};
        const char *was;
        change_type_t want, cur;
        _cleanup_free_ char *text = NULL, *d = NULL;
        size_t len;
        unsigned mode;
        int r;

        if (change_type_parse(f->type, &want) < 0) {
                module_error_set(err, 422, "invalid_argument", NULL,
                                 "the record's state of %s is not understood", f->path);
                return -EINVAL;
        }
        r = f->module_restore && m && m->file_read ? m->file_read(f->path, &text, err) : 0;
        if (r < 0)
                return r;
        if (r > 0)
                cur = CHANGE_FILE;
        else
                r = state_read(&cf, f->path, &cur, &text, &len, &mode, &lerr);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read %s: %s", f->path,
                                 r == -EBUSY ? lerr.message : strerror(-r));
                return r;
        }
        if (cur == want && (want == CHANGE_ABSENT || (f->content && STREQ(f->content, text))))
                return 0;
        /* Never show the full image of a redacted file. */
        was = f->image || !f->content ? "" : f->content;
        r = diff_states(f->path, want, was, cur,
                        f->image ? "(changed since; contents not shown)\n" : text, &d);
        if (json_array_append_new(conflicts, json_pack("{s:s, s:s}", "path", f->path, "diff",
                                                       r >= 0 && d ? d : "")) < 0)
                return -ENOMEM;
        return 0;
}

/* The rollback's own plan entry for f: from the state the change left back
 * to the one before it. */
static int rollback_entry(const struct change_restore *f, json_t *files, struct module_error *err) {
        change_type_t ta = CHANGE_ABSENT, tb = CHANGE_ABSENT;
        _cleanup_free_ char *d = NULL;
        json_t *o;

        if (change_type_parse(f->type, &ta) < 0 || change_type_parse(f->before_type, &tb) < 0 ||
            diff_states(f->path, ta, f->shown_after ? f->shown_after : "", tb,
                        f->shown_before ? f->shown_before : "", &d) < 0) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:b}", "path", f->path, "type",
                      f->before_type, "before_type", f->type, "before", f->shown_after, "after",
                      f->shown_before, "diff", d, "redacted", false);
        if (o && f->image) {
                json_object_set_new(o, "image", json_true());
                json_object_set_new(o, "image_before", json_string(f->content));
                /* Put back to absent: an empty image, as file_json shows one
                 * (the record keeps an image for every such file). */
                json_object_set_new(o, "image_after", json_string(f->before ? f->before : ""));
        }
        if (o && f->module_restore)
                json_object_set_new(o, "module_restore", json_true());
        if (!o || json_array_append_new(files, o) < 0) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

static int rollback_one(const module_t *m, const struct change_restore *f,
                        struct module_error *err) {
        const char *b = f->before ? f->before : "";
        int r;

        if (f->module_restore && m && m->file_restore)
                return m->file_restore(f->path, f->before_type, b, err);
        r = file_state_write(f->path, f->before_type, b, strlen(b), 0644);
        if (r < 0)
                module_error_set(err, 500, "internal", NULL, "cannot restore %s: %s", f->path,
                                 strerror(-r));
        return r;
}

/* After a failed restore: the files restored before it go back to what
 * the change left, last first, so a rollback too is whole or not at all. */
static void rollback_undo(const module_t *m, const struct change_restore *fs, size_t n,
                          struct module_error *err) {
        size_t len = strlen(err->message);
        const char *failed = NULL;
        int first = 0;

        for (size_t i = n; i-- > 0;) {
                const struct change_restore *f = &fs[i];
                const char *c = f->content ? f->content : "";
                struct module_error lerr = {0};
                int r;

                if (f->module_restore && m && m->file_restore)
                        r = m->file_restore(f->path, f->type, c, &lerr);
                else
                        r = file_state_write(f->path, f->type, c, strlen(c), 0644);
                if (r < 0 && !first) {
                        first = r;
                        failed = f->path;
                }
        }
        if (n == 0)
                return;
        if (first == 0)
                (void)snprintf(err->message + len, sizeof err->message - len,
                               "; nothing was rolled back");
        else
                (void)snprintf(err->message + len, sizeof err->message - len,
                               "; putting %s back as the change left it also failed (%s), fix "
                               "it by hand",
                               failed, strerror(-first));
}

int change_rollback(const module_t *m, const struct change_restore *fs, size_t n, bool dry_run,
                    struct change_rollback_result *res, struct module_error *err) {
        const change_hooks_t *h = m ? m->change : NULL;
        bool locked = false;
        int r = 0;

        *res = (struct change_rollback_result){.files = json_array(), .conflicts = json_array()};
        if (!res->files || !res->conflicts) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        /* The module's tools take this lock too: nothing changes its files
         * between the check and the restore. */
        if (!dry_run && h && h->lock) {
                r = h->lock(err);
                if (r < 0)
                        return r;
                locked = true;
        }
        for (size_t i = 0; i < n && r >= 0; i++)
                r = rollback_check(m, &fs[i], res->conflicts, err);
        if (r >= 0 && json_array_size(res->conflicts) > 0) {
                module_error_set(err, 409, "conflict", NULL, "the files changed since");
                r = -ESTALE;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = rollback_entry(&fs[i], res->files, err);
                if (r >= 0 && !dry_run) {
                        res->touched = true;
                        r = rollback_one(m, &fs[i], err);
                        if (r < 0)
                                rollback_undo(m, fs, i, err);
                }
        }
        if (locked && h->unlock)
                h->unlock();
        return r;
}
