/* procread.c — one pass over /proc; see procread.h.
 *
 * Per process: openat(/proc, "PID", O_PATH|O_DIRECTORY), then stat, status,
 * cgroup (and cmdline when asked) relative to that descriptor with
 * procfs_read_at(), parsed by procfs.h.  One read buffer serves a whole pass.
 * No global state but the boot time, read once under pthread_once.
 */
#include "modules/processes/procread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int read_at_buf(int dirfd, unsigned flags, struct procfs_buf *b, struct proc_item *ret) {
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
        int r = read_at_buf(dirfd, flags, &b, ret);
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
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        d = opendir(PROC_ROOT);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -1;
                struct proc_item it;
                int pid;

                if (!procread_pid_name(de->d_name, &pid))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue; /* gone */
                r = read_at_buf(fd, flags, &b, &it);
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
        *ret = l;
        return 0;
fail:
        procfs_buf_free(&b);
        proc_list_done(&l);
        return r;
}

int procread_identity(int pid, struct proc_identity *ret) {
        _cleanup_close_ int fd = -1;
        struct procfs_buf b = {};
        struct proc_identity id = {.pid = pid};
        struct proc_pid_stat st;
        struct proc_pid_status status;
        struct cgroup_hint h;
        const char *text;
        size_t len;
        int r;

        if (pid <= 0)
                return -ENOENT;
        fd = open_pid_dir(pid);
        if (fd < 0)
                return -errno;
        r = procfs_read_at(fd, "stat", STAT_MAX, &b, &text, &len);
        if (r >= 0)
                r = proc_pid_stat_parse(text, len, &st);
        if (r >= 0)
                r = procfs_read_at(fd, "status", STATUS_MAX, &b, &text, &len);
        if (r >= 0)
                r = proc_pid_status_parse(text, len, &status);
        if (r < 0)
                goto out;
        id.ppid = st.ppid;
        id.uid = status.uid[0];
        id.euid = status.uid[1];
        id.start_ticks = st.starttime;
        id.kernel_thread = (st.flags & PF_KTHREAD_FLAG) != 0;
        memcpy(id.comm, st.comm, sizeof id.comm);
        if (procfs_read_at(fd, "cgroup", PROCREAD_CGROUP_MAX, &b, &text, &len) >= 0) {
                cgroup_parse(text, len, &h);
                memcpy(id.unit, h.unit, sizeof h.unit);
        }
        *ret = id;
out:
        procfs_buf_free(&b);
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
