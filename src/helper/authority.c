/* authority.c — see authority.h.
 *
 * The cache is a small fixed array searched linearly (a handful of users
 * act at once); a full array replaces its oldest entry.  It holds results,
 * "no such user" included, never secrets.  Its clock is the monotonic one,
 * so a clock step cannot keep an entry alive. */
#include "authority.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CACHE_ENTRIES 64

struct entry {
        char user[64]; /* "" = free */
        int r;         /* the lookup's result: 0 or -errno */
        struct account_now account;
        uint64_t at_usec;
};

struct authority {
        struct entry cache[CACHE_ENTRIES];
};

int authority_new(struct authority **ret) {
        struct authority *a = calloc(1, sizeof *a);

        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

void authority_free(struct authority *a) {
        free(a);
}

void authority_flush(struct authority *a) {
        if (a)
                memset(a->cache, 0, sizeof a->cache);
}

static int lookup(struct authority *a, const char *user, const struct role_map *map, int64_t now,
                  struct account_now *ret) {
        uint64_t t = now_usec();
        struct entry *slot = &a->cache[0];
        struct account_now acc = {0};
        int r;

        if (strlen(user) >= sizeof slot->user)
                return auth_account_now(user, map, now, ret);
        for (size_t i = 0; i < CACHE_ENTRIES; i++) {
                struct entry *e = &a->cache[i];
                if (e->user[0] && STREQ(e->user, user)) {
                        if (t - e->at_usec < AUTHORITY_CACHE_USEC) {
                                if (e->r >= 0)
                                        *ret = e->account;
                                return e->r;
                        }
                        slot = e;
                        break;
                }
                if (!e->user[0] || e->at_usec < slot->at_usec)
                        slot = e;
        }
        r = auth_account_now(user, map, now, &acc);
        if (r < 0 && r != -ENOENT) /* a failing directory is asked again next time */
                return r;
        *slot = (struct entry){.r = r, .account = acc, .at_usec = t};
        memcpy(slot->user, user, strlen(user) + 1);
        if (r >= 0)
                *ret = acc;
        return r;
}

int authority_check(struct authority *a, struct store *st, const struct role_map *map, int64_t now,
                    struct session *s, int *ret_revoked) {
        struct account_now acc;
        enum role role;
        int r;

        if (!a || !st || !s)
                return -EINVAL;
        if (s->uid == SESSION_UID_NONE)
                return 0;
        r = lookup(a, s->user, map, now, &acc);
        if (r == -ENOENT || (r >= 0 && s->uid >= 0 && s->uid != (int64_t)acc.uid)) {
                r = sessions_revoke_account(st, s->user, r == -ENOENT ? -1 : (int64_t)acc.uid);
                if (r < 0)
                        return r;
                if (ret_revoked)
                        *ret_revoked = r;
                return -ENOENT;
        }
        if (r < 0)
                return r;
        if (s->uid == SESSION_UID_UNBOUND) {
                /* A row from before uids were kept: the account it names now
                 * is the one it was made for, as far as anyone can tell. */
                r = sessions_bind_uid(st, s->id, acc.uid);
                if (r < 0)
                        return r;
                s->uid = acc.uid;
        }
        role = acc.role;
        /* A local peer is judged by its uid's groups alone; a token by
         * whether its account may still use one; a login session by whether
         * the account could log in now (root: only while root logins are
         * allowed, stewardd:auth:allow_root_login). */
        if (STREQ(s->kind, "token") && !acc.can_use_tokens)
                role = ROLE_NONE;
        else if (STREQ(s->kind, "session") &&
                 (!acc.can_log_in || (acc.uid == 0 && !map->allow_root_login)))
                role = ROLE_NONE;
        if (role == ROLE_NONE)
                return -EACCES;
        if (role < s->role)
                s->role = role;
        return 0;
}

int authority_sweep(struct authority *a, struct store *st, const struct role_map *map, int64_t now,
                    authority_revoked_fn revoked, void *data) {
        json_t *accounts = NULL, *it;
        size_t i;
        int total = 0, r;

        if (!a || !st)
                return -EINVAL;
        r = sessions_accounts(st, &accounts);
        if (r < 0)
                return r;
        json_array_foreach(accounts, i, it) {
                const char *user = json_string_value(json_array_get(it, 0));
                json_t *uidv = json_array_get(it, 1);
                int64_t uid =
                        json_is_integer(uidv) ? json_integer_value(uidv) : SESSION_UID_UNBOUND;
                struct account_now acc;
                int n;

                if (!user)
                        continue;
                r = lookup(a, user, map, now, &acc);
                if (r < 0 && r != -ENOENT)
                        continue;
                if (r >= 0 && (uid == SESSION_UID_UNBOUND || uid == (int64_t)acc.uid))
                        continue;
                n = sessions_revoke_account(st, user, r == -ENOENT ? -1 : (int64_t)acc.uid);
                if (n < 0) {
                        json_decref(accounts);
                        return n;
                }
                if (n > 0 && revoked)
                        revoked(user, uid, n, data);
                total += n;
        }
        json_decref(accounts);
        return total;
}
