/* kinds_fs.c — the alert kinds about file systems: disk (used % like df),
 * disk_fill (hours until full by a linear fit) and share_disk (the used %
 * of the file system holding each share's folder).
 *
 * File systems are those node_exporter's filesystem collector lists: the
 * mounts of /proc/self/mountinfo (parsed by procfs.c) that are not pseudo
 * file systems nor under its default excluded mount points, one per mount
 * point (the last mounted there, which statvfs() sees), and without a
 * match one per device (bind mounts are the same disk).  Read-only mounts
 * are left out: a full squashfs or ISO image is full by design, and nobody
 * can act on it.  statvfs() runs at each evaluation (cheap: no I/O).
 *
 * disk_fill keeps, per mount point, a ring of (time, used bytes) samples
 * taken at each evaluation of a disk_fill rule (kinds_ring: bounded, it
 * thins itself instead of forgetting its start).  The rings live in this
 * process only: a restart of the front costs the history, and a
 * prediction starts again once a twentieth of the rule's window has been
 * sampled.  At most FS_RINGS_MAX file systems are followed; the one not
 * seen for longest makes room.
 *
 * share_disk asks the helper for the shares (the monitor's view, through
 * the sessionless monitor_read operation) once a minute and after each new
 * audit record (a share made or moved is one), and maps
 * each share's folder to the mount that holds it, so that the front never
 * needs to walk into a folder it may not enter.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "modules/alerts/kinds_int.h"
#include "procfs.h"
#include "stats.h"
#include "util.h"

#define _cleanup_json_      _cleanup_(json_decrefp)
#define MOUNTINFO_MAX       (4u << 20)
#define FS_RINGS_MAX        64
#define FILL_WINDOW_DEFAULT (6 * 3600)
#define SHARES_TTL          60

struct fs_now {
        const char *mount_point; /* into the mountinfo */
        unsigned major, minor;   /* the device: bind mounts share it */
        double used, avail;      /* bytes: used = blocks - free; avail for non-root */
};

struct fs_set {
        struct mountinfo mi;
        struct fs_now *v;
        size_t n;
};

static void fs_set_done(struct fs_set *s) {
        mountinfo_done(&s->mi);
        free(s->v);
        *s = (struct fs_set){0};
}

/* The real, writable file systems now, with their usage. */
static int fs_set_read(struct fs_set *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ const struct mount_entry **m = NULL;
        struct fs_set s = {0};
        size_t len = 0, n = 0;
        int r;

        r = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &text, &len);
        if (r < 0)
                return r;
        r = mountinfo_parse(text, len, &s.mi);
        if (r < 0)
                return r;
        r = mountinfo_real(&s.mi, &m, &n);
        s.v = r < 0 ? NULL : calloc(n + 1, sizeof *s.v);
        if (!s.v) {
                fs_set_done(&s);
                return r < 0 ? r : -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct statvfs st;
                if (procfs_mount_option_set(m[i]->options, "ro") ||
                    statvfs(m[i]->mount_point, &st) < 0 || st.f_blocks == 0 ||
                    (st.f_flag & ST_RDONLY))
                        continue;
                s.v[s.n++] = (struct fs_now){
                        .mount_point = m[i]->mount_point,
                        .major = m[i]->major,
                        .minor = m[i]->minor,
                        .used = (double)(st.f_blocks - st.f_bfree) * (double)st.f_frsize,
                        .avail = (double)st.f_bavail * (double)st.f_frsize,
                };
        }
        *ret = s;
        return 0;
}

/* Whether the rule looks at s->v[i]: its match, or with none each file
 * system once (a bind mount of one already seen, such as /run/netns on
 * some hosts, is the same disk: one alert, under the first mount point). */
static bool fs_wanted(const struct fs_set *s, size_t i, const char *match) {
        if (*match)
                return STREQ(match, s->v[i].mount_point);
        for (size_t k = 0; k < i; k++)
                if (s->v[k].major == s->v[i].major && s->v[k].minor == s->v[i].minor)
                        return false;
        return true;
}

static double used_percent(const struct fs_now *f) {
        return f->used + f->avail > 0 ? 100.0 * f->used / (f->used + f->avail) : 0.0;
}

static void add_usage(struct kind_req *q, const char *instance, const struct fs_now *f,
                      const char *where) {
        char avail[32];

        kinds_bytes_text(f->avail, avail, sizeof avail);
        kind_obs_add(q, instance, used_percent(f), "%.1f %% used, %s free%s%.200s", used_percent(f),
                     avail, where ? " on " : "", where ? where : "");
}

int kind_disk(struct kind_req *q) {
        struct fs_set s;
        int r = fs_set_read(&s);

        if (r < 0)
                return kind_unavailable(q, r, "cannot list the file systems: %s", strerror(-r));
        for (size_t i = 0; i < s.n; i++)
                if (fs_wanted(&s, i, q->r->match))
                        add_usage(q, s.v[i].mount_point, &s.v[i], NULL);
        fs_set_done(&s);
        return 0;
}

/* ---- disk_fill ---------------------------------------------------------- */

struct fs_ring {
        char mount_point[256];
        int64_t seen;
        int64_t keep; /* twice the longest window a rule asked of it */
        struct kinds_ring ring;
};

static pthread_mutex_t rings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fs_ring *rings[FS_RINGS_MAX];

static struct fs_ring *ring_for(const char *mount_point, int64_t now) {
        size_t free_slot = FS_RINGS_MAX, oldest = 0;

        for (size_t i = 0; i < FS_RINGS_MAX; i++) {
                if (!rings[i]) {
                        if (free_slot == FS_RINGS_MAX)
                                free_slot = i;
                        continue;
                }
                if (STREQ(rings[i]->mount_point, mount_point)) {
                        rings[i]->seen = now;
                        return rings[i];
                }
                if (!rings[oldest] || rings[i]->seen < rings[oldest]->seen)
                        oldest = i;
        }
        if (free_slot == FS_RINGS_MAX) {
                free(rings[oldest]);
                rings[oldest] = NULL;
                free_slot = oldest;
        }
        rings[free_slot] = calloc(1, sizeof *rings[free_slot]);
        if (!rings[free_slot])
                return NULL;
        snprintf(rings[free_slot]->mount_point, sizeof rings[free_slot]->mount_point, "%s",
                 mount_point);
        rings[free_slot]->seen = now;
        return rings[free_slot];
}

int kind_disk_fill(struct kind_req *q) {
        int64_t window = q->r->window_seconds > 0 ? q->r->window_seconds : FILL_WINDOW_DEFAULT;
        struct fs_set s;
        int r = fs_set_read(&s);

        if (r < 0)
                return kind_unavailable(q, r, "cannot list the file systems: %s", strerror(-r));
        pthread_mutex_lock(&rings_lock);
        for (size_t i = 0; i < s.n; i++) {
                struct fs_ring *g;
                double hours, cap = s.v[i].used + s.v[i].avail;
                char avail[32];

                if (!fs_wanted(&s, i, q->r->match))
                        continue;
                if (!(g = ring_for(s.v[i].mount_point, q->now)))
                        continue;
                /* Twice the longest window any rule on it asked for: a
                 * rule with a short window must not drop what a longer one
                 * fits. */
                if (g->keep < 2 * window)
                        g->keep = 2 * window;
                kinds_ring_add(&g->ring, q->now, s.v[i].used, g->keep);
                if (kinds_fill_hours(&g->ring, q->now, window, cap, &hours) <= 0)
                        continue;
                kinds_bytes_text(s.v[i].avail, avail, sizeof avail);
                kind_obs_add(q, s.v[i].mount_point, hours,
                             "full in %.1f h at the rate of the last %lld min (%s free)", hours,
                             (long long)(window / 60), avail);
        }
        pthread_mutex_unlock(&rings_lock);
        fs_set_done(&s);
        return 0;
}

/* ---- share_disk ---------------------------------------------------------- */

static pthread_mutex_t shares_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *shares_cache; /* {"shares": [{name, path, …}]} */
static int64_t shares_at;
static uint64_t shares_head; /* the audit head when they were read */

static int shares_get(int64_t now, json_t **ret) {
        uint64_t head = atomic_load(&stats_audit_records);
        json_t *ans = NULL;
        int r = 0;

        pthread_mutex_lock(&shares_lock);
        /* A share made or changed is audited: a new record, a new look. */
        if (!shares_cache || now - shares_at >= SHARES_TTL || now < shares_at ||
            head != shares_head) {
                r = kinds_helper_call("monitor_read", json_pack("{s:s}", "collection", "shares"),
                                      &ans);
                if (r >= 0) {
                        json_decref(shares_cache);
                        shares_cache = ans;
                        shares_at = now;
                        shares_head = head;
                }
        }
        if (r >= 0)
                *ret = json_incref(shares_cache);
        pthread_mutex_unlock(&shares_lock);
        return r;
}

int kind_share_disk(struct kind_req *q) {
        _cleanup_json_ json_t *shares = NULL;
        _cleanup_free_ const char **mounts = NULL;
        struct fs_set s;
        json_t *sh;
        size_t i;
        int r;

        r = shares_get(q->now, &shares);
        if (r < 0)
                return kind_unavailable(q, r,
                                        "cannot list the shares (the helper refused or is "
                                        "away; see the daemon's log)");
        r = fs_set_read(&s);
        if (r < 0)
                return kind_unavailable(q, r, "cannot list the file systems: %s", strerror(-r));
        mounts = calloc(s.n + 1, sizeof *mounts);
        for (i = 0; mounts && i < s.n; i++)
                mounts[i] = s.v[i].mount_point;
        json_array_foreach(mounts ? json_object_get(shares, "shares") : NULL, i, sh) {
                const char *name = json_string_value(json_object_get(sh, "name"));
                const char *path = json_string_value(json_object_get(sh, "path"));
                const char *mp;

                if (!name || !path || (q->r->match[0] && !STREQ(q->r->match, name)))
                        continue;
                mp = kinds_mount_of(path, mounts, s.n);
                for (size_t k = 0; mp && k < s.n; k++)
                        if (s.v[k].mount_point == mp)
                                add_usage(q, name, &s.v[k], path);
        }
        fs_set_done(&s);
        return mounts ? 0 : kind_unavailable(q, -ENOMEM, "out of memory");
}

void kinds_fs_reset(void) {
        pthread_mutex_lock(&rings_lock);
        for (size_t i = 0; i < FS_RINGS_MAX; i++) {
                free(rings[i]);
                rings[i] = NULL;
        }
        pthread_mutex_unlock(&rings_lock);
        pthread_mutex_lock(&shares_lock);
        json_decref(shares_cache);
        shares_cache = NULL;
        shares_at = 0;
        pthread_mutex_unlock(&shares_lock);
}
