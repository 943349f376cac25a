/* procdetail.c — root-only reads of processes, in the helper; see
 * procdetail.h.
 *
 * Per process, every file is read through a descriptor of its /proc/PID
 * directory, opened once and checked against the start_ticks asked for, so
 * that a pid reused meanwhile answers for nobody rather than for another
 * process.  The machine's sockets are listed once a request (sock_diag:
 * listeners for a list, every socket for a show) and kept sorted by inode;
 * a process's socket descriptors are matched against them.
 */
#include "modules/processes/procdetail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/processes/proclist.h"
#include "modules/processes/procread.h"
#include "procfs.h"
#include "roles.h"
#include "sockets.h"
#include "util.h"

#define STAT_MAX    4096u
#define SMAPS_MAX   (16u * 1024)
#define IO_MAX      4096u
#define TOP_MAPS    10u
#define MAP_ENTRIES 65536u

struct sockset {
        struct sock_entry *v;
        size_t n;
};

static int cmp_inode(const void *a, const void *b) {
        const struct sock_entry *x = a, *y = b;
        return (x->inode > y->inode) - (x->inode < y->inode);
}

static int sockset_load(bool all, struct sockset *ret) {
        struct sock_entry *v = NULL;
        size_t n = 0;
        int r = sockets_list(all, &v, &n);

        if (r < 0)
                return r;
        if (n > 1)
                qsort(v, n, sizeof *v, cmp_inode);
        *ret = (struct sockset){v, n};
        return 0;
}

static const struct sock_entry *sockset_find(const struct sockset *s, uint64_t inode) {
        struct sock_entry key = {.inode = inode};

        if (!s->v || inode == 0)
                return NULL;
        return bsearch(&key, s->v, s->n, sizeof key, cmp_inode);
}

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- one process ------------------------------------------------------------- */

/* Opens /proc/PID and checks that it is the process started at start_ticks
 * (any when start_ticks < 0).  -ENOENT: gone; -ESTALE: another process. */
static int open_checked(int pid, int64_t start_ticks, struct procfs_buf *b) {
        struct proc_pid_stat st;
        const char *text;
        size_t len;
        char path[32];
        int fd, r;

        snprintf(path, sizeof path, "/proc/%d", pid);
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -ENOENT;
        r = procfs_read_at(fd, "stat", STAT_MAX, b, &text, &len);
        if (r >= 0)
                r = proc_pid_stat_parse(text, len, &st);
        if (r < 0) {
                close(fd);
                return -ENOENT;
        }
        if (start_ticks >= 0 && st.starttime != (uint64_t)start_ticks) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

static json_t *socket_json(const struct sock_entry *e, bool full, int fd) {
        char local[INET6_ADDRSTRLEN + 8], peer[INET6_ADDRSTRLEN + 8];
        bool v6 = e->family == AF_INET6;

        if (!full)
                return json_pack("{s:s, s:s, s:s, s:i}", "protocol",
                                 sock_protocol_to_string(e->protocol), "family",
                                 sock_family_to_string(e->family), "address", e->local, "port",
                                 (int)e->local_port);
        snprintf(local, sizeof local, v6 ? "[%s]:%u" : "%s:%u", e->local, e->local_port);
        snprintf(peer, sizeof peer, v6 ? "[%s]:%u" : "%s:%u", e->peer, e->peer_port);
        const char *state = sock_state_to_string(e->state);
        return json_pack("{s:i, s:s, s:s, s:s?, s:s}", "fd", fd, "protocol",
                         sock_protocol_to_string(e->protocol), "local", local, "peer",
                         e->connected ? peer : NULL, "state", state ? state : "unknown");
}

static const char *fd_type(const char *link) {
        if (strncmp(link, "socket:[", 8) == 0)
                return "socket";
        if (strncmp(link, "pipe:[", 6) == 0)
                return "pipe";
        if (strncmp(link, "anon_inode:", 11) == 0)
                return "anon";
        if (link[0] == '/')
                return "file";
        return "other";
}

static bool socket_inode(const char *link, uint64_t *ret) {
        size_t n = strlen(link);

        if (n < 10 || strncmp(link, "socket:[", 8) != 0 || link[n - 1] != ']')
                return false;
        return tv_to_u64(link + 8, n - 9, ret) == 0;
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

struct fd_walk {
        const struct sockset *listen, *all; /* all: NULL unless a show */
        json_t *listening, *files, *sockets;
        size_t count;
        bool files_truncated;
};

static int fd_one(struct fd_walk *w, int fdfd, const char *name) {
        char link[PATH_MAX + 1];
        uint64_t inode;
        ssize_t n;
        int fd;

        if (!procread_pid_name(name, &fd) && !STREQ(name, "0"))
                return 0;
        if (STREQ(name, "0"))
                fd = 0;
        n = readlinkat(fdfd, name, link, sizeof link - 1);
        if (n < 0)
                return 0; /* closed meanwhile */
        link[n] = '\0';
        w->count++;
        if (socket_inode(link, &inode)) {
                const struct sock_entry *e = sockset_find(w->listen, inode);
                if (e && json_array_size(w->listening) < PROCDETAIL_FILES_MAX &&
                    json_array_append_new(w->listening, socket_json(e, false, fd)) < 0)
                        return -ENOMEM;
                if (w->all && (e = sockset_find(w->all, inode)) &&
                    json_array_size(w->sockets) < PROCDETAIL_FILES_MAX &&
                    json_array_append_new(w->sockets, socket_json(e, true, fd)) < 0)
                        return -ENOMEM;
        }
        if (w->files) {
                if (json_array_size(w->files) >= PROCDETAIL_FILES_MAX) {
                        w->files_truncated = true;
                        return 0;
                }
                if (json_array_append_new(w->files, json_pack("{s:i, s:s, s:o}", "fd", fd, "type",
                                                              fd_type(link), "path",
                                                              proclist_text(link, (size_t)n))) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int walk_fds(int pdir, struct fd_walk *w) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fdfd, r;

        fdfd = openat(pdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fdfd < 0)
                return -errno;
        d = fdopendir(fdfd);
        if (!d) {
                close(fdfd);
                return -errno;
        }
        while ((de = readdir(d)) && w->count < PROCDETAIL_FDS_MAX)
                if ((r = fd_one(w, dirfd(d), de->d_name)) < 0)
                        return r;
        return 0;
}

static int add_u64(json_t *o, const char *key, uint64_t v) {
        return json_object_set_new(o, key, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

/* PSS and swap; I/O bytes: null when unreadable (a kernel thread). */
static int memory_io(int dirfd, struct procfs_buf *b, json_t *o) {
        struct proc_smaps_rollup sm;
        struct proc_pid_io io;
        const char *text;
        size_t len;
        int r = 0;

        if (procfs_read_at(dirfd, "smaps_rollup", SMAPS_MAX, b, &text, &len) >= 0 &&
            proc_smaps_rollup_parse(text, len, &sm) >= 0)
                r |= add_u64(o, "pss_bytes", sm.pss) | add_u64(o, "swap_pss_bytes", sm.swap_pss);
        else
                r |= json_object_set_new(o, "pss_bytes", json_null());
        if (procfs_read_at(dirfd, "io", IO_MAX, b, &text, &len) >= 0 &&
            proc_pid_io_parse(text, len, &io) >= 0 && io.has_bytes)
                r |= add_u64(o, "io_read_bytes", io.read_bytes) |
                     add_u64(o, "io_write_bytes", io.write_bytes);
        else
                r |= json_object_set_new(o, "io_read_bytes", json_null()) |
                     json_object_set_new(o, "io_write_bytes", json_null());
        return r ? -ENOMEM : 0;
}

static int detail_one(int dirfd, struct procfs_buf *b, const struct sockset *listen,
                      const struct sockset *all, json_t **ret) {
        struct fd_walk w = {.listen = listen, .all = all};
        json_t *o = json_object();
        int r;

        w.listening = json_array();
        if (all) {
                w.files = json_array();
                w.sockets = json_array();
        }
        if (!o || !w.listening || (all && (!w.files || !w.sockets))) {
                r = -ENOMEM;
                goto fail;
        }
        r = memory_io(dirfd, b, o);
        if (r < 0)
                goto fail;
        r = walk_fds(dirfd, &w);
        if (r == -ENOMEM)
                goto fail;
        json_object_set_new(o, "open_files",
                            r < 0 ? json_null() : json_integer((json_int_t)w.count));
        json_object_set_new(o, "listening", TAKE_PTR(w.listening));
        if (all) {
                json_object_set_new(o, "files", TAKE_PTR(w.files));
                json_object_set_new(o, "files_truncated", json_boolean(w.files_truncated));
                json_object_set_new(o, "sockets", TAKE_PTR(w.sockets));
        }
        *ret = o;
        return 0;
fail:
        json_decref(w.listening);
        json_decref(w.files);
        json_decref(w.sockets);
        json_decref(o);
        return r;
}

/* ---- maps and environ (show) ------------------------------------------------- */

struct map_path {
        const char *path;
        size_t len;
        uint64_t bytes;
};

static int cmp_path(const void *a, const void *b) {
        const struct map_path *x = a, *y = b;
        size_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(x->path, y->path, n);
        return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int cmp_bytes_desc(const void *a, const void *b) {
        const struct map_path *x = a, *y = b;
        return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

static json_t *maps_json(const char *text, size_t len) {
        const char *p = text, *end = text + len;
        _cleanup_free_ struct map_path *v = calloc(MAP_ENTRIES, sizeof *v);
        uint64_t file = 0, anon = 0;
        size_t n = 0, regions = 0, m = 0;
        struct proc_map e;
        json_t *top;

        if (!v)
                return NULL;
        while (proc_maps_next(&p, end, &e) > 0) {
                uint64_t sz = e.end - e.start;
                regions++;
                if (e.inode != 0 && e.path_len > 0) {
                        file += sz;
                        if (n < MAP_ENTRIES)
                                v[n++] = (struct map_path){e.path, e.path_len, sz};
                } else
                        anon += sz;
        }
        qsort(v, n, sizeof *v, cmp_path);
        for (size_t i = 0; i < n; i++) {
                if (m > 0 && cmp_path(&v[m - 1], &v[i]) == 0)
                        v[m - 1].bytes += v[i].bytes;
                else
                        v[m++] = v[i];
        }
        qsort(v, m, sizeof *v, cmp_bytes_desc);
        top = json_array();
        for (size_t i = 0; top && i < m && i < TOP_MAPS; i++)
                json_array_append_new(top, json_pack("{s:o, s:I}", "path",
                                                     proclist_text(v[i].path, v[i].len), "bytes",
                                                     (json_int_t)v[i].bytes));
        return json_pack("{s:I, s:I, s:I, s:o}", "regions", (json_int_t)regions, "file_bytes",
                         (json_int_t)file, "anon_bytes", (json_int_t)anon, "top", top);
}

static json_t *environ_json(const char *text, size_t len) {
        const char *p = text, *end = text + len, *arg;
        json_t *o = json_object();
        size_t n;

        while (o && proc_cmdline_next(&p, end, &arg, &n)) {
                const char *eq = memchr(arg, '=', n);
                _cleanup_free_ char *key = NULL;

                if (!eq || eq == arg)
                        continue;
                key = strndup(arg, (size_t)(eq - arg));
                if (!key)
                        break;
                utf8_sanitize(key);
                if (json_object_get(o, key))
                        continue; /* the first wins, as getenv() finds it */
                json_object_set_new(o, key, proclist_text(eq + 1, n - (size_t)(eq - arg) - 1));
        }
        return o;
}

static int show_extras(int dirfd, struct procfs_buf *b, bool env, json_t *o) {
        const char *text;
        size_t len;

        if (procfs_read_at(dirfd, "maps", PROCDETAIL_MAPS_MAX, b, &text, &len) >= 0)
                json_object_set_new(o, "maps", maps_json(text, len));
        else
                json_object_set_new(o, "maps", json_null());
        if (env) {
                int r = procfs_read_at(dirfd, "environ", PROCDETAIL_ENV_MAX, b, &text, &len);
                json_object_set_new(o, "environment",
                                    r >= 0 ? environ_json(text, len) : json_null());
        }
        return 0;
}

/* ---- requests ---------------------------------------------------------------- */

static int pid_arg(json_t *v, int *ret) {
        json_int_t x = json_integer_value(v);

        if (!json_is_integer(v) || x <= 0 || x > INT32_MAX)
                return -EINVAL;
        *ret = (int)x;
        return 0;
}

static int read_detail(json_t *args, json_t **ret, struct module_error *err) {
        json_t *pids = json_object_get(args, "pids"), *out, *v;
        struct sockset listen = {};
        struct procfs_buf b = {};
        size_t i;
        int r = 0;

        if (!json_is_array(pids) || json_array_size(pids) > PROCDETAIL_PIDS_MAX) {
                module_error_set(err, 400, "bad_request", "pids",
                                 "pids is an array of at most %u [pid, start_ticks] pairs",
                                 PROCDETAIL_PIDS_MAX);
                return -EINVAL;
        }
        json_array_foreach(pids, i, v) {
                int pid;
                if (!json_is_array(v) || json_array_size(v) != 2 ||
                    pid_arg(json_array_get(v, 0), &pid) < 0 ||
                    !json_is_integer(json_array_get(v, 1)) ||
                    json_integer_value(json_array_get(v, 1)) < 0) {
                        module_error_set(err, 400, "bad_request", "pids",
                                         "each of pids is [pid, start_ticks]");
                        return -EINVAL;
                }
        }
        out = json_object();
        if (!out)
                return oom(err);
        (void)sockset_load(false, &listen); /* no sock_diag: no ports, the rest stands */
        json_array_foreach(pids, i, v) {
                char key[16];
                json_t *one = NULL;
                int pid = 0, fd;

                if (pid_arg(json_array_get(v, 0), &pid) < 0)
                        continue; /* checked above */
                fd = open_checked(pid, json_integer_value(json_array_get(v, 1)), &b);
                if (fd < 0)
                        continue;
                r = detail_one(fd, &b, &listen, NULL, &one);
                close(fd);
                if (r < 0)
                        break;
                snprintf(key, sizeof key, "%d", pid);
                json_object_set_new(out, key, one);
        }
        sockets_free(listen.v, listen.n);
        procfs_buf_free(&b);
        if (r < 0) {
                json_decref(out);
                return oom(err);
        }
        *ret = json_pack("{s:o}", "processes", out);
        return *ret ? 0 : oom(err);
}

static int read_show(json_t *args, json_t **ret, struct module_error *err) {
        json_t *st = json_object_get(args, "start_ticks"), *o = NULL;
        struct sockset listen = {}, all = {};
        struct procfs_buf b = {};
        bool files;
        int pid, fd, r;

        if (pid_arg(json_object_get(args, "pid"), &pid) < 0 ||
            (st && (!json_is_integer(st) || json_integer_value(st) < 0))) {
                module_error_set(err, 400, "bad_request", "pid",
                                 "pid and start_ticks are integers");
                return -EINVAL;
        }
        fd = open_checked(pid, st ? json_integer_value(st) : -1, &b);
        if (fd == -ESTALE) {
                procfs_buf_free(&b);
                module_error_set(err, 409, "process_changed", "start_ticks",
                                 "process %d is another process now", pid);
                return -ESTALE;
        }
        if (fd < 0) {
                procfs_buf_free(&b);
                module_error_set(err, 404, "not_found", NULL, "no process %d", pid);
                return -ENOENT;
        }
        files = json_is_true(json_object_get(args, "files"));
        (void)sockset_load(false, &listen);
        if (files)
                (void)sockset_load(true, &all);
        r = detail_one(fd, &b, &listen, files ? &all : NULL, &o);
        if (r >= 0 && files)
                r = show_extras(fd, &b, json_is_true(json_object_get(args, "environ")), o);
        close(fd);
        sockets_free(listen.v, listen.n);
        sockets_free(all.v, all.n);
        procfs_buf_free(&b);
        if (r < 0) {
                json_decref(o);
                return oom(err);
        }
        *ret = o;
        return 0;
}

int procdetail_role(json_t *args) {
        const char *what = json_string_value(json_object_get(args, "what"));

        if (!what)
                return -1;
        if (STREQ(what, "detail"))
                return ROLE_MONITOR;
        if (STREQ(what, "show"))
                return json_is_true(json_object_get(args, "environ")) ? ROLE_ADMIN
                       : json_is_true(json_object_get(args, "files")) ? ROLE_OPERATOR
                                                                       : ROLE_MONITOR;
        return -1;
}

int procdetail_read(json_t *args, json_t **ret, struct module_error *err) {
        const char *what = json_string_value(json_object_get(args, "what"));

        if (what && STREQ(what, "detail"))
                return read_detail(args, ret, err);
        if (what && STREQ(what, "show"))
                return read_show(args, ret, err);
        module_error_set(err, 400, "bad_request", "what", "what is detail or show");
        return -EINVAL;
}
