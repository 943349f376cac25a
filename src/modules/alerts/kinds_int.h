/* kinds_int.h — what the alert kinds' files share (kinds.c, kinds_fs.c,
 * kinds_sys.c, kinds_pure.c); nothing outside src/modules/alerts/ reads it.
 *
 * A kind's observer gets a `struct kind_req` (the rule, the time, the
 * engine's array of observations) and adds to it with kind_obs_add(); it
 * returns 0 or -errno with q->err filled.  Observers run on the engine's
 * one thread; the caches they keep are their own, guarded by their own
 * lock only where alert_kinds_reset() (module done()) may race with them.
 *
 * The pure helpers below (fit, rings, paths, globs, dates) touch no global
 * state, so the unit tests call them directly.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/alerts/kinds.h"

struct kind_req {
        const struct alert_rule *r;
        int64_t now; /* unix seconds */
        struct alert_obs *obs;
        size_t max, n;
        struct module_error *err;
};

/* Adds one observation (silently nothing past max: the engine's bound). */
void kind_obs_add(struct kind_req *q, const char *instance, double value, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Fills q->err (503 unavailable) and returns r (< 0). */
int kind_unavailable(struct kind_req *q, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The observers, by kind (kinds_fs.c, kinds_sys.c). */
int kind_disk(struct kind_req *q);
int kind_disk_fill(struct kind_req *q);
int kind_share_disk(struct kind_req *q);
int kind_unit_failed(struct kind_req *q);
int kind_new_listener(struct kind_req *q);
int kind_login_failures(struct kind_req *q);
int kind_audit_chain(struct kind_req *q);
int kind_cert_expiry(struct kind_req *q);
int kind_mail_queue(struct kind_req *q);
void kinds_fs_reset(void);
void kinds_sys_reset(void);

/* A helper operation for the front's own reads (module.h
 * modules_helper_call); -ENOTCONN where there is no helper. */
int kinds_helper_call(const char *op, json_t *args, json_t **ret);

/* ---- pure helpers (kinds_pure.c) ---------------------------------------- */

/* Least squares fit y = a + b·x over n points.  -EDOM for fewer than two
 * points or x all equal.  x should be small (times relative to the first). */
int kinds_linear_fit(const double *x, const double *y, size_t n, double *ret_a, double *ret_b);

/* A bounded series of (time, value) samples, oldest first.  When full, every
 * second sample is dropped and the spacing between kept samples doubles, so
 * that a ring of KINDS_RING_MAX samples covers ever longer spans at a coarser
 * grain instead of forgetting its start. */
#define KINDS_RING_MAX 512u
struct kinds_ring {
        int64_t t[KINDS_RING_MAX];
        double v[KINDS_RING_MAX];
        size_t n;
        int64_t spacing; /* seconds between kept samples (0: keep all) */
};
/* Adds a sample at t (a sample closer than spacing to the last is skipped;
 * one older than the last resets the ring: the clock went back) and drops
 * samples older than t - keep. */
void kinds_ring_add(struct kinds_ring *g, int64_t t, double v, int64_t keep);
/* The value at or just before t (the oldest when all are later); false for
 * an empty ring. */
bool kinds_ring_at(const struct kinds_ring *g, int64_t t, double *ret);

/* Hours until a filesystem is full by a linear fit of used bytes over the
 * ring's samples within [now - window, now]: 1 with *ret_hours (0 when the
 * fit says it is full already), 0 when it is not growing or there is too
 * little to fit (fewer than 3 samples, or spanning less than window/20). */
int kinds_fill_hours(const struct kinds_ring *g, int64_t now, int64_t window, double capacity,
                     double *ret_hours);

/* The value at a dotted path ("queue.deferred", "servers.0.up") of a JSON
 * tree: 1 with *ret for a number or a boolean (1/0), 0 when the path is
 * absent, -EINVAL when it names something else (a string, an object). */
int kinds_json_path(json_t *root, const char *path, double *ret);

/* "tcp ipv4 0.0.0.0 660": how a listener is known in the ports baseline;
 * and how an alert names it: "tcp 0.0.0.0:660", "udp [::]:53". */
void kinds_listener_key(const char *proto, const char *family, const char *addr, unsigned port,
                        char *buf, size_t len);
void kinds_listener_instance(const char *proto, const char *family, const char *addr, unsigned port,
                             char *buf, size_t len);

/* Whether name matches the glob (fnmatch, no special treatment of '/');
 * "" matches everything. */
bool kinds_glob_match(const char *glob, const char *name);

/* Days from now until not_after (negative once expired). */
double kinds_days_left(int64_t not_after, int64_t now);

/* The mount point, among n mount points, that holds path: the longest that
 * is path or a parent of it; NULL if none ("/" holds every absolute path). */
const char *kinds_mount_of(const char *path, const char *const *mounts, size_t n);

/* "1.2 GiB": bytes for people. */
void kinds_bytes_text(double bytes, char *buf, size_t len);
