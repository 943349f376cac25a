/* procsample.c — per-process CPU sampling; see procsample.h.
 *
 * State (under `lock`):
 *  - cur[n]: one entry per process seen at the last tick, sorted by pid:
 *    pid, start_ticks, cpu ticks and rss pages now, the percentage over the
 *    last interval (valid when has_pct), the open stat descriptor or -1.
 *  - last_usec: when that tick was taken; interval 1 s (the procsampler's).
 * A tick builds the next array from a readdir of /proc, taking the old
 * entry of each pid (binary search) for its previous ticks and descriptor,
 * then closes what was not seen again.  The tick reads /proc without the
 * lock and swaps the arrays under it, so readers wait only for the swap.
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
        int fd; /* /proc/PID/stat, or -1 */
        uint64_t start_ticks, ticks, prev_ticks;
        int64_t rss_pages;
        double pct;
        bool has_pct;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sample *cur;
static size_t n_cur;
static uint64_t last_usec, prev_usec;
static unsigned n_fds, fds_cap;
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
                if (cur[i].fd >= 0)
                        close(cur[i].fd);
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

/* Reads one stat through fd (kept) or by path; fills ticks, start, rss. */
static int read_stat(int procfd, const char *name, int *fd, struct proc_pid_stat *ret) {
        size_t len;
        int r;

        if (*fd >= 0) {
                r = pread_all(*fd, buf, sizeof buf, &len);
                if (r >= 0 && proc_pid_stat_parse(buf, len, ret) >= 0)
                        return 0;
                close(*fd);
                *fd = -1;
                n_fds--;
        }
        char path[24];
        snprintf(path, sizeof path, "%s/stat", name);
        int f = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (f < 0)
                return -errno;
        r = pread_all(f, buf, sizeof buf, &len);
        if (r >= 0)
                r = proc_pid_stat_parse(buf, len, ret);
        if (r >= 0 && n_fds < fds_cap) {
                *fd = f;
                n_fds++;
        } else
                close(f);
        return r;
}

/* One pass: the next array from the old one (taken over). */
static int sample_pass(struct sample *old, size_t n_old, uint64_t now, uint64_t prev,
                       struct sample **ret, size_t *ret_n) {
        DIR *d = opendir("/proc");
        struct sample *next = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                struct proc_pid_stat st;
                struct sample s = {.fd = -1}, *o;
                int pid;

                if (!procread_pid_name(de->d_name, &pid))
                        continue;
                o = find(old, n_old, pid);
                if (o) {
                        s.fd = o->fd;
                        o->fd = -2; /* taken */
                }
                if (read_stat(dirfd(d), de->d_name, &s.fd, &st) < 0)
                        continue;
                s.pid = pid;
                s.start_ticks = st.starttime;
                s.ticks = st.utime + st.stime;
                s.rss_pages = st.rss_pages;
                if (o && o->start_ticks == s.start_ticks && prev && now > prev &&
                    s.ticks >= o->ticks) {
                        double secs = (double)(now - prev) / 1e6;
                        s.prev_ticks = o->ticks;
                        s.pct = (double)(s.ticks - o->ticks) / (double)clk_tck / secs * 100.0;
                        s.has_pct = true;
                }
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 1024;
                        struct sample *nv;
                        if (n >= PROCREAD_MAX_PROCS || !(nv = reallocarray(next, nc, sizeof *nv))) {
                                if (s.fd >= 0) {
                                        close(s.fd);
                                        n_fds--;
                                }
                                break;
                        }
                        next = nv;
                        cap = nc;
                }
                next[n++] = s;
        }
        closedir(d);
        for (size_t i = 0; i < n_old; i++)
                if (old[i].fd >= 0) {
                        close(old[i].fd);
                        n_fds--;
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
        return rl.rlim_cur / 8 > PROCSAMPLE_FDS_MAX ? PROCSAMPLE_FDS_MAX
                                                    : (unsigned)(rl.rlim_cur / 8);
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
