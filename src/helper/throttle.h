/* throttle.h — login throttling by key ("ip:192.0.2.7", "user:alice").
 *
 * Each key counts consecutive failures.  The first `free_attempts` cost
 * nothing; after that each further attempt must wait base_delay · 2^(k-1)
 * seconds (capped at max_delay) since the last failure; at `block_after`
 * failures the key is blocked for block_seconds.  A success resets the key.
 * Entries forget themselves after block_seconds without failures.
 *
 * The table is bounded (max_entries); when full, the entry with the oldest
 * last failure is evicted, so an attacker spraying keys cannot exhaust
 * memory, only shorten other keys' memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct throttle_config {
        unsigned free_attempts; /* default 3 */
        unsigned base_delay;    /* seconds, default 1 */
        unsigned max_delay;     /* seconds, default 60 */
        unsigned block_after;   /* failures, default 10 */
        unsigned block_seconds; /* default 900 */
};

struct throttle;

int throttle_new(unsigned max_entries, struct throttle **ret);
void throttle_free(struct throttle *t);

/* 0: go ahead.  -EAGAIN: too soon, *ret_retry_after (seconds, >= 1) says
 * when.  -EACCES: blocked, *ret_retry_after says for how long. */
int throttle_check(struct throttle *t, const char *key, const struct throttle_config *c,
                   int64_t now_ms, int64_t *ret_retry_after);
void throttle_failure(struct throttle *t, const char *key, const struct throttle_config *c,
                      int64_t now_ms);
void throttle_success(struct throttle *t, const char *key);

/* Whether key was recorded (throttle_failure) within the last block_seconds.
 * With a table of its own, this makes a bounded set that forgets: the
 * helper keeps the pairs of user and source that logged in there. */
bool throttle_has(struct throttle *t, const char *key, const struct throttle_config *c,
                  int64_t now_ms);

/* How many keys starting with prefix ("ip:") must wait before their next
 * attempt, and how many are blocked, now.  Walks the keys in use: at most
 * max_entries. */
void throttle_count(struct throttle *t, const char *prefix, const struct throttle_config *c,
                    int64_t now_ms, size_t *ret_delayed, size_t *ret_blocked);
