/* acctdb.h — a read-only snapshot of the account databases for the users
 * and groups modules: every passwd and group entry NSS gives (files, LDAP,
 * SSSD…), which of them /etc/passwd and /etc/group hold (local), and the
 * shadow data of local users.  Taken in the helper (shadow is root's); the
 * snapshot is sorted by name so that lists page by name.
 *
 * Also the rules that need the databases: login.defs ranges, /etc/shells,
 * the admin set for the guards. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/users/accounts.h"
#include "modules/users/engine.h"

/* Every string of a snapshot lives in its arena (or, for the password
 * field, in its copy of /etc/shadow): entries own nothing. */
struct acct_user {
        char *name, *gecos, *home, *shell;
        uint32_t uid, gid;
        bool local;
        /* shadow (local users): */
        bool has_shadow;
        char *pw; /* the password field: only its form is used, never shown */
        int64_t lastchg, min, max, warn, inactive, expire; /* -1: empty */
};

struct acct_group {
        char *name;
        uint32_t gid;
        bool local;
        char **members; /* NULL-terminated, a slice of acctdb.member_names */
        size_t n_members;
        size_t members_at; /* where that slice starts (it moves while loading) */
};

/* An open-addressing hash index: slots hold an entry's position + 1. */
struct acct_index {
        uint32_t *slot;
        size_t mask;
};

struct acctdb {
        struct acct_user *users; /* in NSS order, first of each name only */
        size_t n_users;
        struct acct_group *groups;
        size_t n_groups;
        struct login_defs defs;
        /* indexes: users and groups by name, groups by gid, and the
         * memberships by member name (chains through members[].next) */
        struct acct_index user_by_name, group_by_name, group_by_gid, member_by_name;
        struct acct_member {
                const char *member;
                uint32_t group, next; /* next: position + 1 in the chain, 0 at its end */
        } * members;
        size_t n_members;
        /* storage: the strings (bump-allocated blocks), every group's
         * member list in one array, and /etc/shadow's text (wiped at the
         * end: the password fields point into it) */
        char **arena;
        size_t n_arena, arena_left;
        char *arena_next;
        char **member_names;
        size_t n_member_names;
        char *shadow_text;
        size_t shadow_len;
        /* while loading: /etc/passwd and /etc/group as read, uncut */
        char *pristine[2];
        size_t pristine_len[2];
};

/* The users (or groups) sorted by name, for lists that page by name: an
 * array of pointers into db, malloc'ed. */
int acctdb_sorted_users(const struct acctdb *db, const struct acct_user ***ret);
int acctdb_sorted_groups(const struct acctdb *db, const struct acct_group ***ret);

/* The names of the groups user is a member of (not the primary one), as
 * views into db, in *ret (count in *ret_n); *ret malloc'ed. */
int acctdb_member_of(const struct acctdb *db, const char *user, const char ***ret, size_t *ret_n);

/* The same without a copy: the first membership of user (0: none), then
 * db->members[e - 1].next; each names db->groups[db->members[e - 1].group]. */
uint32_t acctdb_member_chain(const struct acctdb *db, const char *user);

int acctdb_load(struct acctdb *db, bool with_shadow);
void acctdb_done(struct acctdb *db);
const struct acct_user *acctdb_user(const struct acctdb *db, const char *name);
const struct acct_group *acctdb_group(const struct acctdb *db, const char *name);
const struct acct_group *acctdb_group_by_gid(const struct acctdb *db, uint32_t gid);

/* "set", "locked", "none" or "expired". */
const char *acct_password_state(const struct acct_user *u, int64_t today);

int acct_login_defs(struct login_defs *ret);
bool acct_shell_allowed(const char *shell);

/* Why an account cannot log in (the guards' predicate, on a state). */
enum login_block {
        LOGIN_OK,
        LOGIN_NO_ACCOUNT,
        LOGIN_LOCKED,
        LOGIN_NO_PASSWORD,
        LOGIN_EXPIRED,          /* the account: sp_expire <= today */
        LOGIN_PASSWORD_EXPIRED, /* lastchg 0, or lastchg + max < today */
};

/* The shared guard of every account change (account_guard_fn), evaluated on
 * the state the change leaves: the caller (data: const char *user) may not
 * delete or rename their own account, make it unable to log in (lock,
 * expiry of the account or the password, "*") nor lose their own admin
 * role; and the change may not leave no admin who can log in. */
int acct_guard(const struct account_state *before, const struct account_state *after, void *data,
               struct module_error *err);

/* Query helpers: limit (1..ACCT_LIST_MAX, default ACCT_LIST_DEFAULT). */
#define ACCT_LIST_DEFAULT 1000
#define ACCT_LIST_MAX     20000
int acct_query_limit(json_t *query, size_t *ret, struct module_error *err);
bool acct_query_flag(json_t *query, const char *key);
