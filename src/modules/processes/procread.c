/* procread.c — one pass over /proc; see procread.h.
 *
 * Per process: openat(/proc, "PID", O_PATH|O_DIRECTORY), then stat, status
 * (and cmdline when asked) relative to that descriptor with
 * procfs_read_at(), parsed by procfs.h.  The cgroup comes, for a whole
 * listing, from one walk of the cgroup v2 tree (the map below), and from
 * /proc/PID/cgroup for a single process or one the walk did not see.  One
 * read buffer serves a whole pass.  No global state but the boot time, read
 * once under pthread_once.
 */
#include "modules/processes/procread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "util.h"

#define STAT_MAX   4096u
#define STATUS_MAX (16u * 1024)
#define PROC_ROOT  "/proc"

void proc_item_done(struct proc_item *it) {
        if (!it)
                return;
        free(it->cgroup);
        free(it->cmdline);
        it->cgroup = NULL;
        it->cmdline = NULL;
        it->cmdline_len = 0;
}

void proc_list_done(struct proc_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                proc_item_done(&l->v[i]);
        free(l->v);
        *l = (struct proc_list){};
}

bool procread_pid_name(const char *s, int *ret) {
        int64_t v;

        if (!s || s[0] < '1' || s[0] > '9' || strlen(s) > 10)
                return false;
        if (safe_atoi64(s, &v) < 0 || v <= 0 || v > INT32_MAX)
                return false;
        *ret = (int)v;
        return true;
}

/* ---- the cgroup v2 tree: pid → cgroup in one walk ---------------------------
 *
 * Reading /proc/PID/cgroup costs an open and the kernel's formatting per
 * process (a sixth of a listing's time); the cgroup v2 tree answers the same
 * for every process with one read of cgroup.procs per cgroup, far fewer on
 * any system.  The walk is used only where it says the same as /proc: the
 * tree is cgroup2 (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid
 * system) and this very process is found in it under the path its own
 * /proc/self/cgroup names (else the tree is another cgroup namespace's).  A
 * process the walk did not see (started since) is read from /proc.  Bounded:
 * CGMAP_DIRS_MAX cgroups, CGMAP_DEPTH_MAX deep, PROCREAD_MAX_PROCS pids. */

#define CGMAP_DIRS_MAX  100000u
#define CGMAP_DEPTH_MAX 64u
#define CGMAP_PROCS_MAX (8u << 20) /* bytes of one cgroup.procs */

struct cgmap_pid {
        int pid;
        uint32_t path;
};

struct cgmap {
        struct cgmap_pid *pids;
        size_t n_pids, cap_pids;
        char **paths; /* "/system.slice/x.service" */
        struct cgroup_hint *hints;
        size_t n_paths, cap_paths;
};

static void cgmap_done(struct cgmap *m) {
        for (size_t i = 0; i < m->n_paths; i++)
                free(m->paths[i]);
        free(m->paths);
        free(m->hints);
        free(m->pids);
        *m = (struct cgmap){};
}

static int cmp_cgmap_pid(const void *a, const void *b) {
        const struct cgmap_pid *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cgmap_add_path(struct cgmap *m, const char *path, uint32_t *ret) {
        struct cgroup_hint h;
        char line[4100];
        int n;

        if (m->n_paths >= CGMAP_DIRS_MAX)
                return -E2BIG;
        if (m->n_paths == m->cap_paths) {
                size_t nc = m->cap_paths ? m->cap_paths * 2 : 64;
                char **np = reallocarray(m->paths, nc, sizeof *np);
                if (!np)
                        return -ENOMEM;
                m->paths = np;
                struct cgroup_hint *nh = reallocarray(m->hints, nc, sizeof *nh);
                if (!nh)
                        return -ENOMEM;
                m->hints = nh;
                m->cap_paths = nc;
        }
        n = snprintf(line, sizeof line, "0::%s", path);
        if (n < 0 || (size_t)n >= sizeof line || cgroup_parse_line(line, (size_t)n, &h) < 0)
                h = (struct cgroup_hint){};
        m->paths[m->n_paths] = strdup(path);
        if (!m->paths[m->n_paths])
                return -ENOMEM;
        m->hints[m->n_paths] = h;
        *ret = (uint32_t)m->n_paths++;
        return 0;
}

/* The pids of cgroup.procs in dirfd, under the path's index. */
static int cgmap_read_procs(struct cgmap *m, int dfd, uint32_t path, struct procfs_buf *b) {
        const char *text, *p, *end, *line;
        size_t len, line_len;

        if (procfs_read_at(dfd, "cgroup.procs", CGMAP_PROCS_MAX, b, &text, &len) < 0)
                return 0; /* a threaded cgroup, or gone: its processes are read from /proc */
        p = text;
        end = text + len;
        while (tv_next_line(&p, end, &line, &line_len)) {
                unsigned pid;

                if (tv_to_unsigned(line, line_len, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                        continue;
                if (m->n_pids >= PROCREAD_MAX_PROCS)
                        return -E2BIG;
                if (m->n_pids == m->cap_pids) {
                        size_t nc = m->cap_pids ? m->cap_pids * 2 : 1024;
                        struct cgmap_pid *np = reallocarray(m->pids, nc, sizeof *np);
                        if (!np)
                                return -ENOMEM;
                        m->pids = np;
                        m->cap_pids = nc;
                }
                m->pids[m->n_pids++] = (struct cgmap_pid){(int)pid, path};
        }
        return 0;
}

/* Depth first from dirfd (taken over), whose path is path. */
static int cgmap_walk(struct cgmap *m, int dfd, const char *path, unsigned depth,
                      struct procfs_buf *b) {
        DIR *d;
        struct dirent *de;
        uint32_t idx;
        int r;

        r = cgmap_add_path(m, path, &idx);
        if (r >= 0)
                r = cgmap_read_procs(m, dfd, idx, b);
        if (r < 0 || depth >= CGMAP_DEPTH_MAX) {
                close(dfd);
                return r;
        }
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                char sub[4096];
                int fd, n;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                n = snprintf(sub, sizeof sub, "%s%s%s", path, path[1] ? "/" : "", de->d_name);
                if (n < 0 || (size_t)n >= sizeof sub)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                r = cgmap_walk(m, fd, sub, depth + 1, b);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r < 0 ? r : 0;
}

static const struct cgmap_pid *cgmap_find(const struct cgmap *m, int pid) {
        struct cgmap_pid key = {.pid = pid};

        if (!m->pids || m->n_pids == 0)
                return NULL;
        return bsearch(&key, m->pids, m->n_pids, sizeof key, cmp_cgmap_pid);
}

/* The root of the cgroup v2 tree as this process sees it, or NULL. */
const char *procread_cgroup_root(void) {
        static const char *const roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
        struct statfs sf;

        for (size_t i = 0; i < ELEMENTSOF(roots); i++)
                if (statfs(roots[i], &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC)
                        return roots[i];
        return NULL;
}

/* 0 with the map, or an error: then every process is read from /proc. */
static int cgmap_build(struct procfs_buf *b, struct cgmap *ret) {
        struct cgmap m = {};
        const char *root = procread_cgroup_root(), *text, *self;
        const struct cgmap_pid *me;
        size_t len, self_len;
        int fd, r;

        if (!root)
                return -EOPNOTSUPP;
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = cgmap_walk(&m, fd, "/", 0, b);
        if (r < 0)
                goto fail;
        if (m.n_pids > 1)
                qsort(m.pids, m.n_pids, sizeof *m.pids, cmp_cgmap_pid);
        /* The tree is ours only if it puts this process where /proc does. */
        r = -EXDEV;
        me = cgmap_find(&m, getpid());
        if (!me ||
            procfs_read_at(AT_FDCWD, "/proc/self/cgroup", PROCREAD_CGROUP_MAX, b, &text, &len) <
                    0 ||
            cgroup_v2_path(text, len, &self, &self_len) < 0 ||
            !tv_eq(self, self_len, m.paths[me->path]))
                goto fail;
        *ret = m;
        return 0;
fail:
        cgmap_done(&m);
        return r;
}

static int read_cgroup(int dirfd, struct procfs_buf *b, struct proc_item *it) {
        struct cgroup_hint h;
        const char *text, *path;
        size_t len, plen;
        int r;

        r = procfs_read_at(dirfd, "cgroup", PROCREAD_CGROUP_MAX, b, &text, &len);
        if (r < 0)
                return r;
        cgroup_parse(text, len, &h);
        memcpy(it->unit, h.unit, sizeof it->unit);
        memcpy(it->container, h.container, sizeof it->container);
        if (cgroup_v2_path(text, len, &path, &plen) == 0) {
                it->cgroup = strndup(path, plen);
                if (!it->cgroup)
                        return -ENOMEM;
        }
        return 0;
}

static int read_cmdline(int dirfd, struct procfs_buf *b, struct proc_item *it) {
        const char *text;
        size_t len;
        int r;

        r = procfs_read_at(dirfd, "cmdline", PROCREAD_CMDLINE_MAX, b, &text, &len);
        if (r == -EFBIG)
                return 0; /* longer than we keep: shown as absent rather than cut */
        if (r < 0)
                return r;
        if (len == 0)
                return 0; /* kernel threads, zombies */
        it->cmdline = malloc(len);
        if (!it->cmdline)
                return -ENOMEM;
        memcpy(it->cmdline, text, len);
        it->cmdline_len = len;
        return 0;
}

static int read_at_buf(int dirfd, unsigned flags, const struct cgmap *cgm, struct procfs_buf *b,
                       struct proc_item *ret) {
        struct proc_item it = {};
        struct proc_pid_stat st;
        struct proc_pid_status status;
        const char *text;
        size_t len;
        long page = sysconf(_SC_PAGESIZE);
        int r;

        r = procfs_read_at(dirfd, "stat", STAT_MAX, b, &text, &len);
        if (r < 0)
                return r;
        r = proc_pid_stat_parse(text, len, &st);
        if (r < 0)
                return r;
        r = procfs_read_at(dirfd, "status", STATUS_MAX, b, &text, &len);
        if (r < 0)
                return r;
        r = proc_pid_status_parse(text, len, &status);
        if (r < 0)
                return r;

        it.pid = st.pid;
        it.ppid = st.ppid;
        it.uid = status.uid[0];
        it.state = st.state;
        it.kernel_thread = (st.flags & PF_KTHREAD_FLAG) != 0;
        it.nice = (int)st.nice;
        it.priority = (int)st.priority;
        it.threads = st.num_threads > 0 ? (unsigned)st.num_threads : status.threads;
        if (__builtin_add_overflow(st.utime, st.stime, &it.cpu_ticks))
                it.cpu_ticks = UINT64_MAX;
        it.start_ticks = st.starttime;
        if (st.rss_pages > 0 && page > 0 &&
            __builtin_mul_overflow((uint64_t)st.rss_pages, (uint64_t)page, &it.rss_bytes))
                it.rss_bytes = UINT64_MAX;
        it.swap_bytes = status.has_vm_swap ? status.vm_swap : 0;
        memcpy(it.comm, st.comm, sizeof it.comm);

        const struct cgmap_pid *cp = cgm ? cgmap_find(cgm, it.pid) : NULL;
        if (cp) {
                memcpy(it.unit, cgm->hints[cp->path].unit, sizeof it.unit);
                memcpy(it.container, cgm->hints[cp->path].container, sizeof it.container);
                it.cgroup = strdup(cgm->paths[cp->path]);
                r = it.cgroup ? 0 : -ENOMEM;
        } else
                r = read_cgroup(dirfd, b, &it);
        if (r == -ENOMEM)
                goto fail;
        if (flags & PROCREAD_CMDLINE) {
                r = read_cmdline(dirfd, b, &it);
                if (r == -ENOMEM)
                        goto fail;
        }
        *ret = it;
        return 0;
fail:
        proc_item_done(&it);
        return r;
}

int procread_at(int dirfd, unsigned flags, struct proc_item *ret) {
        struct procfs_buf b = {};
        int r = read_at_buf(dirfd, flags, NULL, &b, ret);
        procfs_buf_free(&b);
        return r;
}

static int open_pid_dir(int pid) {
        char path[32];

        snprintf(path, sizeof path, PROC_ROOT "/%d", pid);
        return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int procread_pid(int pid, unsigned flags, struct proc_item *ret) {
        _cleanup_close_ int fd = -1;

        if (pid <= 0)
                return -ENOENT;
        fd = open_pid_dir(pid);
        if (fd < 0)
                return -errno;
        return procread_at(fd, flags, ret);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

int procread_all(unsigned flags, struct proc_list *ret) {
        struct proc_list l = {};
        struct procfs_buf b = {};
        struct cgmap cgm = {};
        bool have_cgm;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        r = cgmap_build(&b, &cgm);
        if (r == -ENOMEM)
                goto fail;
        have_cgm = r >= 0;
        r = 0;
        d = opendir(PROC_ROOT);
        if (!d) {
                r = -errno;
                goto fail;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -1;
                struct proc_item it;
                int pid;

                if (!procread_pid_name(de->d_name, &pid))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue; /* gone */
                r = read_at_buf(fd, flags, have_cgm ? &cgm : NULL, &b, &it);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        r = 0;
                        continue; /* gone meanwhile, or a zombie's stat */
                }
                if (l.n == l.cap) {
                        size_t nc = l.cap ? l.cap * 2 : 512;
                        struct proc_item *nv;

                        if (l.n >= PROCREAD_MAX_PROCS) {
                                proc_item_done(&it);
                                r = -E2BIG;
                                goto fail;
                        }
                        if (nc > PROCREAD_MAX_PROCS)
                                nc = PROCREAD_MAX_PROCS;
                        nv = reallocarray(l.v, nc, sizeof *nv);
                        if (!nv) {
                                proc_item_done(&it);
                                r = -ENOMEM;
                                goto fail;
                        }
                        l.v = nv;
                        l.cap = nc;
                }
                l.v[l.n++] = it;
        }
        procfs_buf_free(&b);
        cgmap_done(&cgm);
        *ret = l;
        return 0;
fail:
        procfs_buf_free(&b);
        cgmap_done(&cgm);
        proc_list_done(&l);
        return r;
}

static struct {
        pthread_once_t once;
        uint64_t btime;
        long clk_tck;
        int error;
} boot = {.once = PTHREAD_ONCE_INIT};

static void boot_read(void) {
        struct procfs_source s = {.path = PROC_ROOT "/stat", .max = 4u << 20, .fd = -1};
        struct procfs_buf b = {};
        struct proc_stat st;
        const char *text;
        size_t len;
        int r;

        boot.clk_tck = sysconf(_SC_CLK_TCK);
        r = procfs_source_open(&s);
        if (r >= 0)
                r = procfs_source_read(&s, &b, &text, &len);
        if (r >= 0)
                r = proc_stat_parse(text, len, &st);
        if (r >= 0) {
                boot.btime = st.btime;
                proc_stat_done(&st);
        }
        if (r >= 0 && (boot.btime == 0 || boot.clk_tck <= 0))
                r = -EINVAL;
        boot.error = r < 0 ? r : 0;
        procfs_source_close(&s);
        procfs_buf_free(&b);
}

int procread_boot(uint64_t *ret_btime, long *ret_clk_tck) {
        pthread_once(&boot.once, boot_read);
        if (boot.error < 0)
                return boot.error;
        *ret_btime = boot.btime;
        *ret_clk_tck = boot.clk_tck;
        return 0;
}
