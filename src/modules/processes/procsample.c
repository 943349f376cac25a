/* procsample.c — per-process CPU sampling; see procsample.h.
 *
 * State (under `lock`):
 *  - cur[n]: one entry per process seen at the last tick, sorted by pid:
 *    pid, start_ticks, cpu ticks (and nanoseconds for a process of one
 *    thread) and rss pages, the percentage over the last interval (valid
 *    when has_pct), the open stat and schedstat descriptors or -1.
 *  - last_usec: when that tick was taken; interval 1 s (the procsampler's).
 * A tick builds the next array from a readdir of /proc, taking the old
 * entry of each pid (binary search) for its previous figures and
 * descriptors, then closes what was not seen again.  The tick reads /proc
 * without the lock and swaps the arrays under it, so readers wait only for
 * the swap.
 *
 * The cost is the kernel's printing of /proc/PID/stat (~3.4 us a process
 * here, against ~0.7 us for schedstat): a process of one thread is read in
 * full one tick in FULL_EVERY (its pid staggers which) and otherwise only
 * through its kept schedstat descriptor, which gives the leader's CPU time
 * to the nanosecond.  So its resident memory in the memory top ten is at
 * most FULL_EVERY - 1 seconds old, and a thread it starts counts from its
 * next full read; a process of several threads is read in full each tick.
 * With 2,100 processes that takes the 1-s event from 1.3-1.5 % of a core
 * to 0.96-1.2 % in runs side by side (bench/processes.sh): what is left is
 * mostly the kernel's listing of /proc.
 *
 * The event: after a tick, when the hub says a stream wants `processes`,
 * the top ten by CPU and by resident memory are built as full items (the
 * module's item_fn reads status and cgroup of those twenty at most) and
 * published from the sampler's thread.
 */
#include "modules/processes/procsample.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "modules/processes/procread.h"
#include "procfs.h"
#include "procsampler.h"
#include "util.h"

#define TOP_N      10
#define STAT_MAX   4096u
#define FRESH_USEC (2500ull * 1000) /* a sample older than this is stale */
#define EVENT_TYPE "processes"

struct sample {
        int pid;
        int fd;  /* /proc/PID/stat, or -1 */
        int sfd; /* /proc/PID/schedstat (one-thread processes), or -1 */
        uint64_t start_ticks, ticks, run_ns;
        int64_t rss_pages;
        unsigned threads;
        double pct;
        bool has_pct;
        bool has_ns;    /* run_ns is the process's CPU time (one thread) */
        bool ticks_now; /* ticks was read at this tick (a full read) */
};

/* A process of one thread is read in full (stat) one tick in FULL_EVERY,
 * else only its schedstat (see the file's comment). */
#define FULL_EVERY 5u

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sample *cur;
static size_t n_cur;
static uint64_t last_usec, prev_usec;
static unsigned n_fds, fds_cap, tick_no;
static _Atomic uint64_t touched_usec;
static _Atomic(const struct event_hub *) hub;
static _Atomic(procsample_item_fn) item_fn;
static long clk_tck;
static char buf[STAT_MAX];

static int cmp_pid(const void *a, const void *b) {
        const struct sample *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct sample *find(struct sample *v, size_t n, int pid) {
        struct sample key = {.pid = pid};

        if (!v || n == 0)
                return NULL;
        return bsearch(&key, v, n, sizeof *v, cmp_pid);
}

static void drop_all_locked(void) {
        for (size_t i = 0; i < n_cur; i++)
                for (int *f = &cur[i].fd; f; f = f == &cur[i].fd ? &cur[i].sfd : NULL)
                        if (*f >= 0)
                                close(*f);
        free(cur);
        cur = NULL;
        n_cur = 0;
        n_fds = 0;
        last_usec = prev_usec = 0;
}

static bool wanted(uint64_t now) {
        const struct event_hub *h = atomic_load(&hub);
        uint64_t t = atomic_load(&touched_usec);

        if (t && now - t < PROCSAMPLE_WANTED_USEC)
                return true;
        return h && h->wanted(EVENT_TYPE);
}

static void fd_drop(int *fd) {
        if (*fd >= 0) {
                close(*fd);
                n_fds--;
        }
        *fd = -1;
}

/* Reads /proc/PID/NAME through *fd (kept) or, when that fails or there is
 * none, by path, keeping the new descriptor while the cap allows. */
static int read_kept(int procfd, int pid, const char *name, int *fd, size_t *ret_len) {
        char path[32];
        int f, r;

        if (*fd >= 0) {
                if (pread_all(*fd, buf, sizeof buf, ret_len) >= 0)
                        return 0;
                fd_drop(fd); /* gone, or the pid is another process's now */
        }
        snprintf(path, sizeof path, "%d/%s", pid, name);
        f = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (f < 0)
                return -errno;
        r = pread_all(f, buf, sizeof buf, ret_len);
        if (r >= 0 && n_fds < fds_cap) {
                *fd = f;
                n_fds++;
        } else
                close(f);
        return r;
}

/* The quick read of a one-thread process: its schedstat through the
 * descriptor kept since its last full read, never reopened (a reopened path
 * could be another process's by now).  false: read it in full. */
static bool sample_quick(const struct sample *o, struct sample *s) {
        struct proc_schedstat ss;
        size_t len;

        if (!o || o->threads != 1 || !o->has_ns || s->fd < 0 || s->sfd < 0 ||
            (tick_no + (unsigned)o->pid) % FULL_EVERY == 0)
                return false;
        if (pread_all(s->sfd, buf, sizeof buf, &len) < 0 ||
            proc_schedstat_parse(buf, len, &ss) < 0) {
                fd_drop(&s->sfd);
                return false;
        }
        s->start_ticks = o->start_ticks;
        s->ticks = o->ticks;
        s->rss_pages = o->rss_pages;
        s->threads = 1;
        s->run_ns = ss.run_ns;
        s->has_ns = true;
        return true;
}

/* The full read: stat, and schedstat too for a process of one thread. */
static int sample_full(int procfd, struct sample *s) {
        struct proc_pid_stat st;
        struct proc_schedstat ss;
        size_t len;
        int r;

        r = read_kept(procfd, s->pid, "stat", &s->fd, &len);
        if (r >= 0)
                r = proc_pid_stat_parse(buf, len, &st);
        if (r < 0)
                return r;
        s->start_ticks = st.starttime;
        s->ticks = st.utime + st.stime;
        s->rss_pages = st.rss_pages;
        s->threads = st.num_threads > 0 ? (unsigned)st.num_threads : 0;
        s->ticks_now = true;
        if (s->threads == 1 && s->fd >= 0 &&
            read_kept(procfd, s->pid, "schedstat", &s->sfd, &len) >= 0 &&
            proc_schedstat_parse(buf, len, &ss) >= 0) {
                s->run_ns = ss.run_ns;
                s->has_ns = true;
        } else
                fd_drop(&s->sfd);
        return 0;
}

/* CPU over the interval from o (the last tick's sample of the same pid):
 * nanoseconds when both have them, else clock ticks when both were full
 * reads; a process that changed meanwhile has none this tick. */
static void sample_pct(const struct sample *o, struct sample *s, double secs) {
        if (!o || o->start_ticks != s->start_ticks || secs <= 0)
                return;
        if (s->has_ns && o->has_ns && s->run_ns >= o->run_ns) {
                s->pct = (double)(s->run_ns - o->run_ns) / 1e9 / secs * 100.0;
                s->has_pct = true;
        } else if (s->ticks_now && o->ticks_now && s->ticks >= o->ticks) {
                s->pct = (double)(s->ticks - o->ticks) / (double)clk_tck / secs * 100.0;
                s->has_pct = true;
        }
}

/* One pass: the next array from the old one (taken over). */
static int sample_pass(struct sample *old, size_t n_old, uint64_t now, uint64_t prev,
                       struct sample **ret, size_t *ret_n) {
        DIR *d = opendir("/proc");
        double secs = prev && now > prev ? (double)(now - prev) / 1e6 : 0;
        struct sample *next = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (!d)
                return -errno;
        tick_no++;
        while ((de = readdir(d))) {
                struct sample s = {.fd = -1, .sfd = -1}, *o;
                int pid;

                if (!procread_pid_name(de->d_name, &pid))
                        continue;
                s.pid = pid;
                o = find(old, n_old, pid);
                if (o) {
                        s.fd = o->fd;
                        s.sfd = o->sfd;
                        o->fd = o->sfd = -2; /* taken */
                }
                if (!sample_quick(o, &s) && sample_full(dirfd(d), &s) < 0) {
                        fd_drop(&s.fd);
                        fd_drop(&s.sfd);
                        continue;
                }
                sample_pct(o, &s, secs);
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 1024;
                        struct sample *nv;
                        if (n >= PROCREAD_MAX_PROCS || !(nv = reallocarray(next, nc, sizeof *nv))) {
                                fd_drop(&s.fd);
                                fd_drop(&s.sfd);
                                break;
                        }
                        next = nv;
                        cap = nc;
                }
                next[n++] = s;
        }
        closedir(d);
        for (size_t i = 0; i < n_old; i++) {
                fd_drop(&old[i].fd);
                fd_drop(&old[i].sfd);
        }
        if (n > 1)
                qsort(next, n, sizeof *next, cmp_pid);
        *ret = next;
        *ret_n = n;
        return 0;
}

static void publish_top(const struct event_hub *h, int64_t t);

static void on_tick(const struct procsampler_tick *tick) {
        uint64_t now = now_usec();
        struct sample *old, *next = NULL;
        size_t n_old, n_next = 0;
        uint64_t prev;

        if (tick->prime)
                return;
        if (!wanted(now)) {
                pthread_mutex_lock(&lock);
                if (cur)
                        drop_all_locked();
                pthread_mutex_unlock(&lock);
                return;
        }
        /* Only this thread changes cur: read it without the lock, swap
         * under it. */
        old = cur;
        n_old = n_cur;
        prev = last_usec;
        if (sample_pass(old, n_old, now, prev, &next, &n_next) < 0)
                return;
        pthread_mutex_lock(&lock);
        cur = next;
        n_cur = n_next;
        prev_usec = prev;
        last_usec = now;
        pthread_mutex_unlock(&lock);
        free(old);

        const struct event_hub *h = atomic_load(&hub);
        if (h && prev && h->wanted(EVENT_TYPE))
                publish_top(h, tick->t);
}

static unsigned fd_cap(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return 256;
        return rl.rlim_cur / 4 > PROCSAMPLE_FDS_MAX ? PROCSAMPLE_FDS_MAX
                                                    : (unsigned)(rl.rlim_cur / 4);
}

int procsample_start(void) {
        clk_tck = sysconf(_SC_CLK_TCK);
        if (clk_tck <= 0)
                return -EINVAL;
        fds_cap = fd_cap();
        return procsampler_subscribe(on_tick);
}

void procsample_stop(void) {
        procsampler_unsubscribe(on_tick);
        pthread_mutex_lock(&lock);
        drop_all_locked();
        pthread_mutex_unlock(&lock);
}

void procsample_attach(const struct event_hub *h) {
        atomic_store(&hub, h);
}

void procsample_set_item_fn(procsample_item_fn fn) {
        atomic_store(&item_fn, fn);
}

void procsample_touch(void) {
        atomic_store(&touched_usec, now_usec());
}

static bool fresh_locked(uint64_t now) {
        return last_usec && prev_usec && now - last_usec < FRESH_USEC;
}

int procsample_cpu(int pid, uint64_t start_ticks, double *ret) {
        int r = -ENODATA;

        pthread_mutex_lock(&lock);
        if (fresh_locked(now_usec())) {
                struct sample *s = find(cur, n_cur, pid);
                if (s && s->has_pct && s->start_ticks == start_ticks) {
                        *ret = s->pct;
                        r = 0;
                }
        }
        pthread_mutex_unlock(&lock);
        return r;
}

unsigned procsample_window(void) {
        unsigned w;

        pthread_mutex_lock(&lock);
        w = fresh_locked(now_usec()) ? 1 : 0;
        pthread_mutex_unlock(&lock);
        return w;
}

/* ---- top N ------------------------------------------------------------------- */

struct top {
        int pid;
        double key, pct;
};

/* Keeps the n largest by key in t (descending), ties by pid. */
static void top_insert(struct top *t, size_t *n, struct top e) {
        size_t i = *n;

        if (i == TOP_N) {
                if (e.key <= t[TOP_N - 1].key)
                        return;
                i = TOP_N - 1;
        } else
                (*n)++;
        while (i > 0 && t[i - 1].key < e.key) {
                t[i] = t[i - 1];
                i--;
        }
        t[i] = e;
}

static json_t *top_json(const struct top *t, size_t n) {
        procsample_item_fn fn = atomic_load(&item_fn);
        json_t *a = json_array();

        for (size_t i = 0; a && fn && i < n; i++) {
                json_t *it = fn(t[i].pid, t[i].pct);
                if (it)
                        json_array_append_new(a, it); /* gone meanwhile: left out */
        }
        return a;
}

static int top_build(int64_t t, json_t **ret) {
        struct top by_cpu[TOP_N], by_mem[TOP_N];
        size_t n_cpu = 0, n_mem = 0, total;

        pthread_mutex_lock(&lock);
        if (!fresh_locked(now_usec())) {
                pthread_mutex_unlock(&lock);
                return -ENODATA;
        }
        total = n_cur;
        for (size_t i = 0; i < n_cur; i++) {
                double pct = cur[i].has_pct ? cur[i].pct : 0.0;
                top_insert(by_cpu, &n_cpu, (struct top){cur[i].pid, pct, pct});
                top_insert(by_mem, &n_mem, (struct top){cur[i].pid, (double)cur[i].rss_pages, pct});
        }
        pthread_mutex_unlock(&lock);

        char when[32];
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        *ret = json_pack("{s:s, s:i, s:I, s:o, s:o}", "time", when, "interval_seconds", 1, "total",
                         (json_int_t)total, "by_cpu", top_json(by_cpu, n_cpu), "by_memory",
                         top_json(by_mem, n_mem));
        return *ret ? 0 : -ENOMEM;
}

static void publish_top(const struct event_hub *h, int64_t t) {
        json_t *o = NULL;

        if (top_build(t, &o) >= 0)
                h->publish(EVENT_TYPE, o);
        json_decref(o);
}

int procsample_top(json_t **ret) {
        return top_build((int64_t)(realtime_usec() / 1000000), ret);
}
