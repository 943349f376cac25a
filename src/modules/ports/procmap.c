/* procmap.c — socket inodes to owning processes; see procmap.h.
 *
 * One walk over PROC/[0-9]*, and in each process over fd/.  Per process, all
 * reads go through a descriptor of its /proc directory, so a pid reused during
 * the walk fails to read rather than answering for another process.
 *
 * Data, all owned by struct procmap:
 *  - inodes[n]: the wanted inodes, sorted, unique, non-zero (bsearch key);
 *  - first[n + 1]: owners of inodes[i] are owners[first[i] .. first[i+1]);
 *  - owners[]: flat, grouped by inode, ascending pid within a group, at most
 *    PROCMAP_MAX_OWNERS per inode;
 *  - blocks[]: one allocation per owning process holding its strings
 *    back to back; the owners' const char * point into them.
 * While walking, hits are collected as (inode index, process index) pairs,
 * deduplicated per (inode, process) with last[] (a socket held twice by the
 * same process, after dup(), is one owner), then sorted into the layout above.
 *
 * Bounds: inodes <= PROCMAP_MAX_INODES, pairs <= PROCMAP_MAX_OWNERS per
 * inode, each file read from /proc is capped (a longer one is cut at its last
 * complete line), link texts are cut at PATH_MAX.
 */
#include "modules/ports/procmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define COMM_READ_MAX   64u
#define STATUS_READ_MAX 4096u  /* Uid: is within the first lines */
#define CGROUP_READ_MAX 16384u /* v1 lists a line per controller */
#define USER_CACHE_MAX  64u
#define PWBUF_MAX       ((size_t)1024 * 1024)

struct proc_rec {
        pid_t pid;
        uid_t uid;
        bool exe_root; /* see struct proc_owner */
        char *block;   /* comm\0exe\0user\0unit\0container\0 */
};

struct pair {
        uint32_t inode_idx, proc_idx;
        pid_t pid; /* sort key within an inode */
};

struct procmap {
        uint64_t *inodes;
        size_t n;
        uint32_t *first;
        struct proc_owner *owners;
        size_t n_owners;
        char **blocks;
        size_t n_blocks;
};

void procmap_free(struct procmap *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_blocks; i++)
                free(m->blocks[i]);
        free(m->blocks);
        free(m->owners);
        free(m->first);
        free(m->inodes);
        free(m);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static const uint64_t *find_inode(const uint64_t *v, size_t n, uint64_t key) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (v[mid] < key)
                        lo = mid + 1;
                else if (v[mid] > key)
                        hi = mid;
                else
                        return &v[mid];
        }
        return NULL;
}

int procmap_lookup(const struct procmap *m, uint64_t inode, const struct proc_owner **ret,
                   size_t *ret_n) {
        const uint64_t *p;
        size_t i;

        if (!m)
                return -EINVAL;
        p = find_inode(m->inodes, m->n, inode);
        if (!p)
                return -ENOENT;
        i = (size_t)(p - m->inodes);
        if (m->first[i] == m->first[i + 1])
                return -ENOENT;
        *ret = &m->owners[m->first[i]];
        *ret_n = m->first[i + 1] - m->first[i];
        return 0;
}

/* ---- reading /proc ------------------------------------------------------------- */

/* Reads at most cap - 1 bytes of dirfd/name and NUL-terminates them.
 * Returns 1 when the file was longer (cut), 0 when read whole. */
static int read_at(int dirfd, const char *name, char *buf, size_t cap, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = 0;

        if (fd < 0)
                return -errno;
        while (len < cap - 1) {
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret_len = len;
        if (len == cap - 1) {
                char extra;
                ssize_t n;
                do
                        n = read(fd, &extra, 1);
                while (n < 0 && errno == EINTR);
                return n > 0;
        }
        return 0;
}

/* "Uid:\t<real>\t<effective>…" of /proc/PID/status. */
static int parse_status_uid(const char *text, size_t len, uid_t *ret) {
        const char *p = text, *end = text + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end;

                if (tv_starts(p, (size_t)(e - p), "Uid:")) {
                        const char *q = p + 4, *t;
                        int64_t v;

                        while (q < e && (*q == '\t' || *q == ' '))
                                q++;
                        for (t = q; t < e && *t >= '0' && *t <= '9'; t++)
                                ;
                        if (t == q || safe_atoi64_n(q, (size_t)(t - q), &v) < 0 || v < 0 ||
                            v >= (int64_t)UINT32_MAX)
                                return -EINVAL;
                        *ret = (uid_t)v;
                        return 0;
                }
                p = nl ? nl + 1 : end;
        }
        return -ENOENT;
}

struct user_cache {
        struct {
                uid_t uid;
                char *name;
        } v[USER_CACHE_MAX];
        size_t n;
};

static void user_cache_done(struct user_cache *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].name);
        c->n = 0;
}

/* The user name of uid, or its decimal form when it has none.  The name
 * belongs to the cache and stays valid until the next call (a full cache
 * recycles its last slot); callers copy it right away. */
static int user_name(struct user_cache *c, uid_t uid, char **ret) {
        _cleanup_free_ char *buf = NULL, *name = NULL;
        size_t size = 1024;
        struct passwd pw, *res = NULL;
        int e;

        for (size_t i = 0; i < c->n; i++)
                if (c->v[i].uid == uid) {
                        *ret = c->v[i].name;
                        return 0;
                }

        for (;;) {
                buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                e = getpwuid_r(uid, &pw, buf, size, &res);
                if (e != ERANGE || size >= PWBUF_MAX)
                        break;
                free(buf);
                buf = NULL;
                size *= 4;
        }
        if (e == 0 && res && res->pw_name && res->pw_name[0])
                name = strdup(res->pw_name);
        else if (asprintf(&name, "%u", (unsigned)uid) < 0)
                name = NULL;
        if (!name)
                return -ENOMEM;
        utf8_sanitize(name);

        if (c->n == USER_CACHE_MAX)
                free(c->v[--c->n].name);
        c->v[c->n].uid = uid;
        c->v[c->n].name = name;
        c->n++;
        *ret = TAKE_PTR(name);
        return 0;
}

/* Reads what we show about one process through its /proc directory. */
static int proc_info(int pdir, pid_t pid, struct user_cache *users, struct proc_rec *ret) {
        char comm[COMM_READ_MAX], exe[PATH_MAX], status[STATUS_READ_MAX];
        _cleanup_free_ char *cg = NULL;
        struct cgroup_hint hint = {};
        const char *user = "";
        size_t len = 0, lens[5];
        uid_t uid = (uid_t)-1;
        ssize_t k;
        int r;

        if (read_at(pdir, "comm", comm, sizeof comm, &len) >= 0) {
                if (len > 0 && comm[len - 1] == '\n')
                        comm[--len] = '\0';
                utf8_sanitize(comm);
        } else
                comm[0] = '\0';

        k = readlinkat(pdir, "exe", exe, sizeof exe);
        if (k < 0 || (size_t)k >= sizeof exe)
                k = 0; /* kernel thread, gone, or not ours to read */
        exe[k] = '\0';
        utf8_sanitize(exe);
        /* The running executable itself (the link followed; a name that
         * was replaced since does not matter). */
        struct stat est;
        bool exe_root = k > 0 && fstatat(pdir, "exe", &est, 0) == 0 && S_ISREG(est.st_mode) &&
                        est.st_uid == 0 && (est.st_mode & (S_IWGRP | S_IWOTH)) == 0;

        if (read_at(pdir, "status", status, sizeof status, &len) >= 0 &&
            parse_status_uid(status, len, &uid) >= 0) {
                char *name = NULL;
                r = user_name(users, uid, &name);
                if (r < 0)
                        return r;
                user = name;
        }

        cg = malloc(CGROUP_READ_MAX);
        if (!cg)
                return -ENOMEM;
        r = read_at(pdir, "cgroup", cg, CGROUP_READ_MAX, &len);
        if (r >= 0) {
                if (r > 0) { /* cut: keep complete lines only */
                        char *nl = memrchr(cg, '\n', len);
                        len = nl ? (size_t)(nl - cg) : 0;
                }
                cgroup_parse(cg, len, &hint);
        }

        const char *parts[5] = {comm, exe, user, hint.unit, hint.container};
        size_t total = 0;
        for (size_t i = 0; i < 5; i++) {
                lens[i] = strlen(parts[i]);
                total += lens[i] + 1; /* each bounded by its buffer: no overflow */
        }
        char *block = malloc(total), *w = block;
        if (!block)
                return -ENOMEM;
        for (size_t i = 0; i < 5; i++) {
                memcpy(w, parts[i], lens[i] + 1);
                w += lens[i] + 1;
        }

        *ret = (struct proc_rec){.pid = pid, .uid = uid, .exe_root = exe_root, .block = block};
        return 0;
}

static void owner_from_rec(const struct proc_rec *p, struct proc_owner *o) {
        const char *s = p->block;

        o->pid = p->pid;
        o->uid = p->uid;
        o->exe_root = p->exe_root;
        o->comm = s;
        s += strlen(s) + 1;
        o->exe = s;
        s += strlen(s) + 1;
        o->user = s;
        s += strlen(s) + 1;
        o->unit = s;
        s += strlen(s) + 1;
        o->container = s;
}

/* "socket:[12345]" → 12345. */
static bool parse_socket_link(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n < 10 || n > 8 + 20 + 1 || memcmp(s, "socket:[", 8) != 0 || s[n - 1] != ']')
                return false;
        for (size_t i = 8; i < n - 1; i++) {
                unsigned d;
                if (s[i] < '0' || s[i] > '9')
                        return false;
                d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

struct walk {
        struct procmap *m;
        uint8_t *count; /* owners seen per inode, capped */
        uint32_t *last; /* 1 + last process recorded per inode, 0 none */
        struct pair *pairs;
        size_t n_pairs, cap_pairs;
        struct proc_rec *procs;
        size_t n_procs, cap_procs;
        struct user_cache users;
};

static void walk_done(struct walk *w) {
        for (size_t i = 0; i < w->n_procs; i++)
                free(w->procs[i].block);
        free(w->procs);
        free(w->pairs);
        free(w->last);
        free(w->count);
        user_cache_done(&w->users);
}

static int grow(void **v, size_t *cap, size_t need, size_t size) {
        size_t c;
        void *p;

        if (need <= *cap)
                return 0;
        c = *cap ? *cap : 16;
        while (c < need)
                if (__builtin_mul_overflow(c, 2, &c))
                        return -ENOMEM;
        p = reallocarray(*v, c, size);
        if (!p)
                return -ENOMEM;
        *v = p;
        *cap = c;
        return 0;
}

static bool vanished(int r) {
        return r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM || r == -ENOTDIR;
}

/* Walks the descriptors of one process; adds its record when it holds a
 * wanted socket. */
static int walk_process(struct walk *w, int pdir, pid_t pid) {
        _cleanup_close_ int fdfd = -1;
        DIR *d;
        struct dirent *de;
        long proc_idx = -1;
        int r = 0;

        fdfd = openat(pdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fdfd < 0)
                return vanished(-errno) ? 0 : -errno;
        d = fdopendir(fdfd);
        if (!d)
                return -errno;
        (void)TAKE_FD(fdfd); /* now d's */

        while ((errno = 0, de = readdir(d))) {
                char link[64];
                const uint64_t *hit;
                uint64_t ino;
                size_t idx;
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, link, sizeof link);
                if (n < 0 || (size_t)n >= sizeof link)
                        continue; /* closed meanwhile, or not a socket */
                if (!parse_socket_link(link, (size_t)n, &ino))
                        continue;
                hit = find_inode(w->m->inodes, w->m->n, ino);
                if (!hit)
                        continue;
                idx = (size_t)(hit - w->m->inodes);

                if (proc_idx < 0) {
                        r = grow((void **)&w->procs, &w->cap_procs, w->n_procs + 1,
                                 sizeof *w->procs);
                        if (r < 0)
                                break;
                        r = proc_info(pdir, pid, &w->users, &w->procs[w->n_procs]);
                        if (r < 0)
                                break;
                        proc_idx = (long)w->n_procs++;
                }
                if (w->last[idx] == (uint32_t)proc_idx + 1 || w->count[idx] >= PROCMAP_MAX_OWNERS)
                        continue;
                r = grow((void **)&w->pairs, &w->cap_pairs, w->n_pairs + 1, sizeof *w->pairs);
                if (r < 0)
                        break;
                w->pairs[w->n_pairs++] = (struct pair){(uint32_t)idx, (uint32_t)proc_idx, pid};
                w->last[idx] = (uint32_t)proc_idx + 1;
                w->count[idx]++;
        }
        /* A readdir() error means the process went away: keep what we saw. */
        closedir(d);
        return r;
}

static int cmp_pair(const void *a, const void *b) {
        const struct pair *x = a, *y = b;

        if (x->inode_idx != y->inode_idx)
                return x->inode_idx < y->inode_idx ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Moves the walk's results into the map's final layout. */
static int finish(struct walk *w) {
        struct procmap *m = w->m;
        size_t j = 0;

        m->first = calloc(m->n + 1, sizeof *m->first);
        m->owners = calloc(w->n_pairs ? w->n_pairs : 1, sizeof *m->owners);
        m->blocks = calloc(w->n_procs ? w->n_procs : 1, sizeof *m->blocks);
        if (!m->first || !m->owners || !m->blocks)
                return -ENOMEM;

        if (w->n_pairs > 0)
                qsort(w->pairs, w->n_pairs, sizeof *w->pairs, cmp_pair);

        for (size_t i = 0; i < m->n; i++) {
                m->first[i] = (uint32_t)j;
                while (j < w->n_pairs && w->pairs[j].inode_idx == i) {
                        owner_from_rec(&w->procs[w->pairs[j].proc_idx], &m->owners[j]);
                        j++;
                }
        }
        m->first[m->n] = (uint32_t)j;
        m->n_owners = j;

        for (size_t i = 0; i < w->n_procs; i++)
                m->blocks[i] = TAKE_PTR(w->procs[i].block);
        m->n_blocks = w->n_procs;
        return 0;
}

int procmap_build_at(const char *proc_root, const uint64_t *inodes, size_t n,
                     struct procmap **ret) {
        struct procmap *m = NULL;
        struct walk w = {};
        DIR *proc = NULL;
        struct dirent *de;
        size_t k = 0;
        int r;

        if (n > PROCMAP_MAX_INODES)
                return -E2BIG;
        if (n > 0 && !inodes)
                return -EINVAL;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->inodes = malloc((n ? n : 1) * sizeof *m->inodes);
        if (!m->inodes) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                if (inodes[i] != 0)
                        m->inodes[k++] = inodes[i];
        qsort(m->inodes, k, sizeof *m->inodes, cmp_u64);
        m->n = 0;
        for (size_t i = 0; i < k; i++)
                if (m->n == 0 || m->inodes[m->n - 1] != m->inodes[i])
                        m->inodes[m->n++] = m->inodes[i];

        w.m = m;
        w.count = calloc(m->n ? m->n : 1, sizeof *w.count);
        w.last = calloc(m->n ? m->n : 1, sizeof *w.last);
        if (!w.count || !w.last) {
                r = -ENOMEM;
                goto out;
        }

        if (m->n > 0) {
                proc = opendir(proc_root);
                if (!proc) {
                        r = -errno;
                        goto out;
                }
                while ((errno = 0, de = readdir(proc))) {
                        _cleanup_close_ int pdir = -1;
                        unsigned pid;

                        if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
                            safe_atou(de->d_name, &pid) < 0 || pid > INT_MAX)
                                continue;
                        pdir = openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (pdir < 0) {
                                if (vanished(-errno))
                                        continue;
                                r = -errno;
                                goto out;
                        }
                        r = walk_process(&w, pdir, (pid_t)pid);
                        if (r < 0)
                                goto out;
                }
                if (errno != 0) {
                        r = -errno;
                        goto out;
                }
        }

        r = finish(&w);
        if (r < 0)
                goto out;
        *ret = TAKE_PTR(m);
        r = 0;
out:
        if (proc)
                closedir(proc);
        walk_done(&w);
        procmap_free(m);
        return r;
}

int procmap_build(const uint64_t *inodes, size_t n, struct procmap **ret) {
        return procmap_build_at("/proc", inodes, n, ret);
}
