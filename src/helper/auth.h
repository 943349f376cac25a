/* auth.h — password checks through PAM (service "steward", shipped as
 * data/pam.d/steward) and the mapping of a Unix account to a role.
 *
 * The role comes from the account's groups (primary and supplementary, via
 * getgrouplist): uid 0 and members of any admin group → admin; else any
 * operator group → operator; else any monitor group → monitor; else none. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "roles.h"

/* What a client is told of every refused login. */
#define AUTH_MSG_WRONG "wrong user or password"

/* Checks user/password with PAM (pam_authenticate, then pam_acct_mgmt).
 * PAM's own failure delay is switched off: throttling is ours.  Returns 0;
 * -EACCES wrong user or password; -EPERM the account is expired, locked or
 * not allowed; -EIO PAM failed.  msg gets a message fit to show the client
 * (never saying which of user or password was wrong). */
int auth_pam(const char *service, const char *user, const char *password, char *msg,
             size_t msg_len);

struct role_map {
        const char *const *admin_groups; /* NULL-terminated lists of group names */
        const char *const *operator_groups;
        const char *const *monitor_groups;
        /* stewardd:auth:allow_root_login: when false, a password login
         * session of root loses its role (tokens and local peers keep it). */
        bool allow_root_login;
};

/* Pure: the role of an account from its uid and group names. */
enum role role_from_groups(uid_t uid, const char *const *groups, size_t n,
                           const struct role_map *map);

/* Looks the account up (getpwnam_r, getgrouplist, getgrgid_r) and maps it.
 * -ENOENT if there is no such user. */
int auth_role_for_user(const char *user, const struct role_map *map, enum role *ret,
                       uid_t *ret_uid);
/* Same for a uid (the peer of the unix socket); fills the user name. */
int auth_role_for_uid(uid_t uid, const struct role_map *map, enum role *ret, char *user,
                      size_t user_len);

/* What an account may do now, for a credential issued to it earlier. */
struct account_now {
        uid_t uid;
        enum role role;  /* from its groups, as auth_role_for_user */
        bool can_log_in; /* false: password locked, to be changed, aged out, or account expired */
        /* For API tokens: false when the account expired, or its password
         * was locked, must be changed or aged out; an account that never had
         * a password ("*", "!", "!!", "!*", "") keeps its tokens, which only
         * a local peer session could have made. */
        bool can_use_tokens;
};

/* Pure: whether a shadow entry still lets its account log in on day
 * `today` (days since the epoch), by pam_unix's rules: a password locked
 * ('!' or '*' first) or empty, an account past sp_expire, a password that
 * must be changed (lastchg 0, or older than max days; past max plus the
 * inactive days it has expired, which is no better).  A password that merely must be changed cannot
 * log in over Steward either, which offers no way to change it. */
bool shadow_can_log_in(const char *pwdp, long lstchg, long max, long expire, long today);

/* Pure: whether the shadow entry leaves the account's API tokens working
 * (account_now.can_use_tokens). */
bool shadow_can_use_tokens(const char *pwdp, long lstchg, long max, long expire, long today);

/* Looks the account up now (getpwnam_r, its groups, getspnam_r).  An
 * account without a shadow entry (some directory services) is judged by
 * its groups alone.  -ENOENT if there is no such user. */
int auth_account_now(const char *user, const struct role_map *map, int64_t now,
                     struct account_now *ret);
