/* throttle.c — see throttle.h.
 *
 * Layout: every entry lives in one array allocated by throttle_new (so a
 * failure never allocates and the memory bound is fixed up front); entries
 * are taken from it in order, then recycled through a free list, so pages
 * of a large table are touched only when used.  Entries are reached two ways:
 *   - a chained hash table on the key, hashed with SipHash-2-4 under a random
 *     per-table key, so that keys chosen by a peer (user names) cannot be
 *     made to collide into one long chain;
 *   - a doubly linked "age" list ordered by last failure time, oldest first.
 *     The head is the next to expire and the victim when the table is full.
 *     Callers pass a monotonic clock, so a new failure normally goes to the
 *     tail; an earlier time is inserted in order by walking back from it.
 *
 * Invariants: an entry is unused (past `fresh`, or on the free list) or both
 * in its hash chain and on the age list; used + free + unused fresh == max;
 * `fails` >= 1 for every entry in use.  Keys longer than KEY_MAX-1 bytes are
 * cut there: two keys sharing that prefix share a counter, which can only
 * throttle more, never less.
 *
 * Arithmetic: times are int64 milliseconds supplied by the caller and may be
 * anything; differences of times saturate rather than wrap, and delays
 * are computed in 64 bits from 32-bit configuration values. */
#include "throttle.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define KEY_MAX         128
#define MAX_ENTRIES_MAX (1U << 20)

struct entry {
        struct entry *hnext;         /* hash chain, or free list */
        struct entry *older, *newer; /* age list */
        int64_t last_ms;             /* time of the last failure */
        unsigned fails;              /* consecutive failures, saturating */
        size_t key_len;
        char key[KEY_MAX];
};

struct throttle {
        struct entry *entries;
        struct entry **buckets;
        size_t nbuckets;    /* power of two */
        struct entry *free; /* entries released by drop() */
        size_t fresh;       /* entries[fresh..max) never used yet */
        struct entry *oldest, *newest;
        size_t used, max;
        uint8_t sipkey[16];
};

/* ---- SipHash-2-4 (Aumasson & Bernstein), 64-bit output. ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
        do {                                                                                       \
                v0 += v1;                                                                          \
                v1 = ROTL(v1, 13);                                                                 \
                v1 ^= v0;                                                                          \
                v0 = ROTL(v0, 32);                                                                 \
                v2 += v3;                                                                          \
                v3 = ROTL(v3, 16);                                                                 \
                v3 ^= v2;                                                                          \
                v0 += v3;                                                                          \
                v3 = ROTL(v3, 21);                                                                 \
                v3 ^= v0;                                                                          \
                v2 += v1;                                                                          \
                v1 = ROTL(v1, 17);                                                                 \
                v1 ^= v2;                                                                          \
                v2 = ROTL(v2, 32);                                                                 \
        } while (0)

static uint64_t load_le64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

static uint64_t siphash24(const void *data, size_t len, const uint8_t key[16]) {
        const uint8_t *in = data;
        uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
        uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
        uint64_t b = (uint64_t)len << 56;
        size_t i, left = len & 7;

        for (i = 0; i + 8 <= len; i += 8) {
                uint64_t m = load_le64(in + i);
                v3 ^= m;
                SIPROUND;
                SIPROUND;
                v0 ^= m;
        }
        for (size_t j = 0; j < left; j++)
                b |= (uint64_t)in[i + j] << (8 * j);
        v3 ^= b;
        SIPROUND;
        SIPROUND;
        v0 ^= b;
        v2 ^= 0xff;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- Saturating time arithmetic. ---- */

/* now - then, clamped to [0, INT64_MAX]: a clock that went backwards counts
 * as no time elapsed. */
static int64_t elapsed_ms(int64_t now, int64_t then) {
        int64_t r;
        if (__builtin_sub_overflow(now, then, &r))
                return now > then ? INT64_MAX : 0;
        return r < 0 ? 0 : r;
}

static int64_t seconds_to_ms(unsigned s) {
        return (int64_t)s * 1000; /* < 2^42, cannot overflow */
}

/* Whole seconds, rounded up, of a positive remainder in ms; at least 1. */
static int64_t ms_to_retry_after(int64_t ms) {
        int64_t s = ms / 1000 + (ms % 1000 != 0);
        return s < 1 ? 1 : s;
}

/* The wait, in ms, before the attempt that follows `fails` failures. */
static int64_t delay_ms(const struct throttle_config *c, unsigned fails) {
        uint64_t k, d;

        if (fails < c->free_attempts || c->base_delay == 0 || c->max_delay == 0)
                return 0;
        k = (uint64_t)fails - c->free_attempts; /* the attempt is the (k+1)-th paid one */
        /* base · 2^k, capped: base < 2^32, so a shift of 32 or more is past
         * any 32-bit cap already. */
        if (k >= 32)
                d = c->max_delay;
        else {
                d = (uint64_t)c->base_delay << k;
                if (d > c->max_delay)
                        d = c->max_delay;
        }
        return seconds_to_ms((unsigned)d);
}

static bool is_blocked(const struct throttle_config *c, unsigned fails) {
        return c->block_after > 0 && fails >= c->block_after;
}

/* ---- Table. ---- */

static size_t key_len(const char *key) {
        return strnlen(key, KEY_MAX - 1);
}

static struct entry **bucket_of(struct throttle *t, const char *key, size_t len) {
        uint64_t h = siphash24(key, len, t->sipkey);
        return &t->buckets[h & (t->nbuckets - 1)];
}

static struct entry *lookup(struct throttle *t, const char *key, size_t len) {
        for (struct entry *e = *bucket_of(t, key, len); e; e = e->hnext)
                if (e->key_len == len && memcmp(e->key, key, len) == 0)
                        return e;
        return NULL;
}

static void age_unlink(struct throttle *t, struct entry *e) {
        if (e->older)
                e->older->newer = e->newer;
        else
                t->oldest = e->newer;
        if (e->newer)
                e->newer->older = e->older;
        else
                t->newest = e->older;
        e->older = e->newer = NULL;
}

/* Inserts e into the age list by e->last_ms, after every entry with a time
 * not later than it (so equal times keep insertion order). */
static void age_insert(struct throttle *t, struct entry *e) {
        struct entry *p = t->newest;

        while (p && p->last_ms > e->last_ms)
                p = p->older;
        e->older = p;
        e->newer = p ? p->newer : t->oldest;
        if (e->newer)
                e->newer->older = e;
        else
                t->newest = e;
        if (p)
                p->newer = e;
        else
                t->oldest = e;
}

static void drop(struct throttle *t, struct entry *e) {
        struct entry **pp = bucket_of(t, e->key, e->key_len);

        while (*pp != e)
                pp = &(*pp)->hnext;
        *pp = e->hnext;
        age_unlink(t, e);
        e->hnext = t->free;
        t->free = e;
        t->used--;
}

static bool expired(const struct throttle_config *c, const struct entry *e, int64_t now_ms) {
        return elapsed_ms(now_ms, e->last_ms) >= seconds_to_ms(c->block_seconds);
}

/* Forgets the entries that have been quiet for block_seconds.  The age list
 * is ordered, so this stops at the first one still remembered. */
static void purge(struct throttle *t, const struct throttle_config *c, int64_t now_ms) {
        while (t->oldest && expired(c, t->oldest, now_ms))
                drop(t, t->oldest);
}

int throttle_new(unsigned max_entries, struct throttle **ret) {
        _cleanup_free_ struct throttle *t = NULL;
        size_t nb = 1;
        int r;

        if (!ret || max_entries == 0 || max_entries > MAX_ENTRIES_MAX)
                return -EINVAL;
        while (nb < max_entries)
                nb <<= 1; /* max_entries <= 2^20: no overflow */

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        r = random_bytes(t->sipkey, sizeof(t->sipkey));
        if (r < 0)
                return r;
        t->entries = calloc(max_entries, sizeof(struct entry));
        t->buckets = calloc(nb, sizeof(struct entry *));
        if (!t->entries || !t->buckets) {
                free(t->entries);
                free(t->buckets);
                return -ENOMEM;
        }
        t->nbuckets = nb;
        t->max = max_entries;
        *ret = TAKE_PTR(t);
        return 0;
}

void throttle_free(struct throttle *t) {
        if (!t)
                return;
        free(t->entries);
        free(t->buckets);
        free(t);
}

int throttle_check(struct throttle *t, const char *key, const struct throttle_config *c,
                   int64_t now_ms, int64_t *ret_retry_after) {
        struct entry *e;
        int64_t since, wait;
        size_t len;

        if (!t || !key || !c)
                return -EINVAL;
        purge(t, c, now_ms);
        len = key_len(key);
        e = lookup(t, key, len);
        if (!e)
                return 0;

        since = elapsed_ms(now_ms, e->last_ms);
        if (is_blocked(c, e->fails)) {
                /* Not expired (purge would have dropped it), so the block
                 * still runs: block_seconds from the last failure. */
                if (ret_retry_after)
                        *ret_retry_after =
                                ms_to_retry_after(seconds_to_ms(c->block_seconds) - since);
                return -EACCES;
        }
        wait = delay_ms(c, e->fails);
        if (since >= wait)
                return 0;
        if (ret_retry_after)
                *ret_retry_after = ms_to_retry_after(wait - since);
        return -EAGAIN;
}

void throttle_failure(struct throttle *t, const char *key, const struct throttle_config *c,
                      int64_t now_ms) {
        struct entry *e;
        size_t len;

        if (!t || !key || !c)
                return;
        purge(t, c, now_ms);
        len = key_len(key);
        e = lookup(t, key, len);
        if (e) {
                if (e->fails < UINT_MAX)
                        e->fails++;
                age_unlink(t, e);
        } else {
                struct entry **bucket;

                if (t->used == t->max)
                        drop(t, t->oldest); /* the oldest last failure */
                if (t->free) {
                        e = t->free;
                        t->free = e->hnext;
                } else
                        e = &t->entries[t->fresh++];
                t->used++;
                memcpy(e->key, key, len);
                e->key[len] = '\0';
                e->key_len = len;
                e->fails = 1;
                bucket = bucket_of(t, e->key, len);
                e->hnext = *bucket;
                *bucket = e;
        }
        e->last_ms = now_ms;
        age_insert(t, e);
}

void throttle_success(struct throttle *t, const char *key) {
        struct entry *e;
        size_t len;

        if (!t || !key)
                return;
        len = key_len(key);
        e = lookup(t, key, len);
        if (e)
                drop(t, e);
}

bool throttle_has(struct throttle *t, const char *key, const struct throttle_config *c,
                  int64_t now_ms) {
        if (!t || !key || !c)
                return false;
        purge(t, c, now_ms);
        return lookup(t, key, key_len(key)) != NULL;
}

void throttle_count(struct throttle *t, const char *prefix, const struct throttle_config *c,
                    int64_t now_ms, size_t *ret_delayed, size_t *ret_blocked) {
        size_t plen, delayed = 0, blocked = 0;

        if (t && prefix && c) {
                plen = strlen(prefix);
                purge(t, c, now_ms);
                for (struct entry *e = t->oldest; e; e = e->newer) {
                        if (e->key_len < plen || memcmp(e->key, prefix, plen) != 0)
                                continue;
                        if (is_blocked(c, e->fails))
                                blocked++;
                        else if (elapsed_ms(now_ms, e->last_ms) < delay_ms(c, e->fails))
                                delayed++;
                }
        }
        if (ret_delayed)
                *ret_delayed = delayed;
        if (ret_blocked)
                *ret_blocked = blocked;
}
