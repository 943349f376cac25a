/* frontauth.c — see frontauth.h.  The cache is a fixed array with open
 * addressing by digest, under a mutex; its size bounds memory whatever
 * clients send, and a full neighbourhood evicts its oldest entry. */
#include "frontauth.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "roles.h"
#include "helperclient.h"
#include "helperstubs.h"
#include "tls.h"
#include "util.h"

#define CACHE_SIZE 512

struct entry {
        char digest[65]; /* SHA-256 of the secret; "" = free */
        struct caller c;
        int64_t expires_at;
        uint64_t checked_usec;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry cache[CACHE_SIZE];

/* Entries live near the slot their digest names (open addressing, PROBE
 * slots at most), so a lookup touches a handful of entries. */
#define PROBE 8

static size_t home_slot(const char *digest) {
        size_t h = 0;
        for (size_t i = 0; i < 8; i++)
                h = h * 16 + (size_t)(digest[i] <= '9' ? digest[i] - '0' : digest[i] - 'a' + 10);
        return h % CACHE_SIZE;
}

static struct entry *lookup(const char *digest) {
        size_t h = home_slot(digest);
        /* A digest of a secret, not the secret: comparing it in variable
         * time tells a client nothing it could use. */
        for (size_t i = 0; i < PROBE; i++) {
                struct entry *e = &cache[(h + i) % CACHE_SIZE];
                if (e->digest[0] && memcmp(e->digest, digest, 64) == 0)
                        return e;
        }
        return NULL;
}

static struct entry *slot(const char *digest) {
        size_t h = home_slot(digest);
        struct entry *oldest = &cache[h];
        for (size_t i = 0; i < PROBE; i++) {
                struct entry *e = &cache[(h + i) % CACHE_SIZE];
                if (!e->digest[0])
                        return e;
                if (e->checked_usec < oldest->checked_usec)
                        oldest = e;
        }
        return oldest;
}

static bool well_formed(const char *secret) {
        size_t n = strlen(secret);
        if (n < 8 || n > FRONTAUTH_SECRET_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((secret[i] >= '0' && secret[i] <= '9') ||
                      (secret[i] >= 'a' && secret[i] <= 'z') || secret[i] == '_'))
                        return false;
        return true;
}

static int check(const char *secret, const char *source, unsigned idle_timeout, bool fresh,
                 struct caller *ret, struct module_error *e) {
        char digest[65];
        struct entry *en;
        json_t *res = NULL;
        uint64_t now = now_usec(), recheck = FRONTAUTH_RECHECK_SECONDS * 1000000ull;
        int r;

        if (idle_timeout && idle_timeout * 250000ull < recheck)
                recheck = idle_timeout * 250000ull;
        if (!well_formed(secret) || sha256_hex(secret, strlen(secret), digest) < 0) {
                module_error_set(e, 401, "unauthenticated", NULL, "invalid token");
                return -EACCES;
        }
        pthread_mutex_lock(&lock);
        en = lookup(digest);
        if (en && !fresh && now - en->checked_usec < recheck &&
            (en->expires_at == 0 || en->expires_at > (int64_t)(realtime_usec() / 1000000u))) {
                *ret = en->c;
                pthread_mutex_unlock(&lock);
                return 0;
        }
        pthread_mutex_unlock(&lock);

        r = helper_op_session_check(
                &(const struct helper_link){.call = helper_call, .source = source}, secret, &res,
                e);
        if (r < 0) {
                pthread_mutex_lock(&lock);
                en = lookup(digest);
                if (en)
                        en->digest[0] = '\0';
                pthread_mutex_unlock(&lock);
                return r;
        }
        struct caller c = {0};
        snprintf(c.user, sizeof c.user, "%s",
                 json_string_value(json_object_get(res, "user")) ?: "");
        snprintf(c.kind, sizeof c.kind, "%s",
                 json_string_value(json_object_get(res, "kind")) ?: "");
        c.role = role_from_string(json_string_value(json_object_get(res, "role")) ?: "");
        if (c.role < 0)
                c.role = ROLE_NONE;
        c.session_id = json_integer_value(json_object_get(res, "id"));
        snprintf(c.secret, sizeof c.secret, "%s", secret);
        pthread_mutex_lock(&lock);
        en = lookup(digest);
        if (en)
                memcpy(c.csrf_digest, en->c.csrf_digest, sizeof c.csrf_digest);
        else
                en = slot(digest);
        memcpy(en->digest, digest, sizeof en->digest);
        en->c = c;
        en->expires_at = json_integer_value(json_object_get(res, "expires_at"));
        en->checked_usec = now;
        pthread_mutex_unlock(&lock);
        json_decref(res);
        *ret = c;
        return 0;
}

int frontauth_check(const char *secret, const char *source, unsigned idle_timeout,
                    struct caller *ret, struct module_error *e) {
        return check(secret, source, idle_timeout, false, ret, e);
}

int frontauth_check_fresh(const char *secret, const char *source, unsigned idle_timeout,
                          struct caller *ret, struct module_error *e) {
        return check(secret, source, idle_timeout, true, ret, e);
}

int frontauth_check_csrf(struct caller *c, const char *csrf, const char *source,
                         struct module_error *e) {
        char digest[65], csrf_digest[65];
        struct entry *en;
        int r;

        if (!csrf || !*csrf || strlen(csrf) > FRONTAUTH_SECRET_MAX) {
                module_error_set(e, 403, "csrf", NULL,
                                 "a cookie-authenticated change needs the X-CSRF-Token header");
                return -EACCES;
        }
        if (sha256_hex(csrf, strlen(csrf), csrf_digest) < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot hash the CSRF token");
                return -EIO;
        }
        /* Digests of secrets: comparing them in variable time tells nothing. */
        if (c->csrf_digest[0] && STREQ(c->csrf_digest, csrf_digest))
                return 0;
        r = helper_op_csrf_check(&(const struct helper_link){.call = helper_call,
                                                             .session = c->secret,
                                                             .source = source},
                                 csrf, e);
        if (r < 0)
                return r;
        memcpy(c->csrf_digest, csrf_digest, sizeof c->csrf_digest);
        if (sha256_hex(c->secret, strlen(c->secret), digest) >= 0) {
                pthread_mutex_lock(&lock);
                en = lookup(digest);
                if (en)
                        memcpy(en->c.csrf_digest, csrf_digest, sizeof csrf_digest);
                pthread_mutex_unlock(&lock);
        }
        return 0;
}

void frontauth_forget(int64_t session_id) {
        if (session_id <= 0)
                return;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < CACHE_SIZE; i++)
                if (cache[i].digest[0] && cache[i].c.session_id == session_id)
                        cache[i].digest[0] = '\0';
        pthread_mutex_unlock(&lock);
}

void frontauth_forget_all(void) {
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < CACHE_SIZE; i++)
                cache[i].digest[0] = '\0';
        pthread_mutex_unlock(&lock);
}
