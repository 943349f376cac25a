/* auth.c — see auth.h.  Runs in the helper (root): PAM modules such as
 * pam_unix read /etc/shadow directly only when the caller is root.
 *
 * Inputs are bounded before PAM sees them: a user name of the account-name
 * grammar (as useradd accepts: [a-z_][a-z0-9_.-]*[$]?, at most 32 chars) and
 * a password of 1..4096 bytes.  Anything else is answered exactly like a
 * wrong password, so a malformed name says no more than a missing one.
 *
 * Secrets: the password is copied once into a buffer owned here, handed to
 * PAM through the conversation as separate heap copies that PAM takes over
 * (and overwrites when it is done with them), and the copy here is wiped
 * with explicit_bzero on every path.  Responses built by a conversation that
 * fails half way are wiped and freed before returning.
 *
 * Messages for the client never tell a wrong user from a wrong password;
 * only after a successful pam_authenticate may they say why the account
 * itself was refused.  Success also requires that PAM_USER is still the name
 * asked for, since the caller derives the role from that name.  `msg` is a message buffer, not a
 * result: it is filled on every return once the arguments are valid ("" on success).
 *
 * Account lookups use the reentrant NSS calls with buffers that grow on
 * ERANGE up to a cap, so one huge group cannot make the helper allocate
 * without bound.
 *
 * PAM modules stay loaded: pam_end dlcloses every module of the stack and
 * the next pam_start maps and relocates them again (with their libraries),
 * which was most of what a login cost besides the password hash (measured
 * with a cheap hash: bench/login.py's "fast" column).  After a login the
 * modules PAM loaded are marked RTLD_NODELETE, as a daemon that keeps one
 * PAM handle keeps them; PAM still reads the configuration and runs every
 * module on every login.  A module upgraded on disk is used once the
 * daemon restarts, as for any library it links. */
#include "auth.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <link.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>

#include "cryptmemo.h"
#include "util.h"

#define USER_MAX_BYTES  64 /* the bound on what we even look at */
#define USER_NAME_MAX   32 /* the grammar's limit */
#define PASSWORD_MAX    4096
#define SERVICE_MAX     64
#define NSS_BUF_INITIAL 4096
#define NSS_BUF_MAX     (4U << 20)
#define GROUPS_INITIAL  64
#define GROUPS_MAX      65536 /* NGROUPS_MAX on Linux */

#define MSG_WRONG    AUTH_MSG_WRONG
#define MSG_EXPIRED  "account expired"
#define MSG_PW_OLD   "password expired; change it before logging in"
#define MSG_REFUSED  "account locked or not allowed to log in"
#define MSG_PAM_FAIL "authentication failed (server error)"

static bool user_name_valid(const char *user) {
        size_t n;

        if (!user)
                return false;
        n = strnlen(user, USER_MAX_BYTES + 1);
        if (n == 0 || n > USER_MAX_BYTES || n > USER_NAME_MAX)
                return false;
        if (!((user[0] >= 'a' && user[0] <= 'z') || user[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++) {
                char ch = user[i];
                if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '.' || ch == '-')
                        continue;
                if (ch == '$' && i == n - 1)
                        continue;
                return false;
        }
        return true;
}

/* PAM service names are file names under /etc/pam.d. */
static bool service_valid(const char *s) {
        size_t n = strnlen(s, SERVICE_MAX + 1);

        if (n == 0 || n > SERVICE_MAX || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
                        return false;
        }
        return true;
}

static void set_msg(char *msg, size_t msg_len, const char *text) {
        size_t n = strlen(text);

        if (n >= msg_len)
                n = msg_len - 1;
        memcpy(msg, text, n);
        msg[n] = '\0';
}

/* ---- Secret buffers. ---- */

struct secret {
        char *data;
        size_t len;
};

static void secret_wipe(struct secret *s) {
        if (s->data) {
                explicit_bzero(s->data, s->len);
                free(s->data);
        }
        s->data = NULL;
        s->len = 0;
}

static char *memdup_str(const char *s, size_t n) {
        char *p = malloc(n + 1);
        if (!p)
                return NULL;
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

/* ---- Conversation. ---- */

struct conv_data {
        const char *user;
        size_t user_len;
        const char *password;
        size_t password_len;
};

static void responses_free(struct pam_response *resp, int n) {
        if (!resp)
                return;
        for (int i = 0; i < n; i++)
                if (resp[i].resp) {
                        explicit_bzero(resp[i].resp, strlen(resp[i].resp));
                        free(resp[i].resp);
                }
        free(resp);
}

/* Linux-PAM passes msg as an array of num_msg pointers.  Anything outside
 * the documented shape (no messages, too many, NULL pointers, an unknown
 * style) is a conversation error, never a guess. */
static int conversation(int num_msg, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata) {
        const struct conv_data *d = appdata;
        struct pam_response *out;

        if (!resp)
                return PAM_CONV_ERR;
        *resp = NULL;
        if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG || !msg || !d)
                return PAM_CONV_ERR;

        out = calloc((size_t)num_msg, sizeof(*out));
        if (!out)
                return PAM_BUF_ERR;

        for (int i = 0; i < num_msg; i++) {
                if (!msg[i])
                        goto fail;
                switch (msg[i]->msg_style) {
                case PAM_PROMPT_ECHO_OFF:
                        out[i].resp = memdup_str(d->password, d->password_len);
                        if (!out[i].resp)
                                goto fail_mem;
                        break;
                case PAM_PROMPT_ECHO_ON:
                        out[i].resp = memdup_str(d->user, d->user_len);
                        if (!out[i].resp)
                                goto fail_mem;
                        break;
                case PAM_ERROR_MSG:
                case PAM_TEXT_INFO:
                        /* Module chatter ("password will expire in…") is
                         * not shown to a remote client. */
                        break;
                default:
                        goto fail;
                }
        }
        *resp = out;
        return PAM_SUCCESS;

fail_mem:
        responses_free(out, num_msg);
        return PAM_BUF_ERR;
fail:
        responses_free(out, num_msg);
        return PAM_CONV_ERR;
}

/* ---- Keeping the PAM modules loaded. ---- */

#define PINNED_MAX 64

static char *pinned[PINNED_MAX];
static size_t n_pinned;

static bool is_pam_module(const char *path) {
        const char *base = strrchr(path, '/');
        size_t n;

        if (!base || base - path < 9 || strncmp(base - 9, "/security", 9) != 0)
                return false;
        n = strlen(++base);
        return n > 7 && strncmp(base, "pam_", 4) == 0 && STREQ(base + n - 3, ".so");
}

static int pin_one(struct dl_phdr_info *info, size_t size, void *data) {
        const char *path = info->dlpi_name;
        void *h;

        if (!path || !is_pam_module(path) || n_pinned >= PINNED_MAX)
                return 0;
        for (size_t i = 0; i < n_pinned; i++)
                if (STREQ(pinned[i], path))
                        return 0;
        /* Already loaded (RTLD_NOLOAD): only marked, never opened anew. */
        h = dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        if (!h)
                return 0;
        pinned[n_pinned] = strdup(path);
        if (pinned[n_pinned])
                n_pinned++;
        return 0;
}

/* While the handle is open: every PAM module in the process stays. */
static void pin_pam_modules(void) {
        (void)dl_iterate_phdr(pin_one, NULL);
}

/* PAM_FAIL_DELAY: throttling is ours, so PAM's own delay does nothing. */
static void no_fail_delay(int retval, unsigned usec_delay, void *appdata) {
}

static int map_authenticate(int pr, char *msg, size_t msg_len) {
        switch (pr) {
        case PAM_SUCCESS:
                return 0;
        case PAM_AUTH_ERR:
        case PAM_USER_UNKNOWN:
        case PAM_CRED_INSUFFICIENT:
        case PAM_MAXTRIES:
        case PAM_PERM_DENIED:
                set_msg(msg, msg_len, MSG_WRONG);
                return -EACCES;
        default: /* PAM_AUTHINFO_UNAVAIL, PAM_CONV_ERR, PAM_BUF_ERR, PAM_SYSTEM_ERR… */
                set_msg(msg, msg_len, MSG_PAM_FAIL);
                return -EIO;
        }
}

static int map_acct_mgmt(int pr, char *msg, size_t msg_len) {
        switch (pr) {
        case PAM_SUCCESS:
                return 0;
        case PAM_ACCT_EXPIRED:
                set_msg(msg, msg_len, MSG_EXPIRED);
                return -EPERM;
        case PAM_NEW_AUTHTOK_REQD:
                set_msg(msg, msg_len, MSG_PW_OLD);
                return -EPERM;
        case PAM_PERM_DENIED:
        case PAM_AUTH_ERR:
        case PAM_USER_UNKNOWN:
                set_msg(msg, msg_len, MSG_REFUSED);
                return -EPERM;
        default:
                set_msg(msg, msg_len, MSG_PAM_FAIL);
                return -EIO;
        }
}

int auth_pam(const char *service, const char *user, const char *password, char *msg,
             size_t msg_len) {
        _cleanup_(secret_wipe) struct secret pw = {};
        struct conv_data d;
        struct pam_conv conv;
        pam_handle_t *pamh = NULL;
        const void *item = NULL;
        size_t plen;
        int pr, r;

        if (!service || !user || !password || !msg || msg_len == 0)
                return -EINVAL;
        if (!service_valid(service)) {
                set_msg(msg, msg_len, MSG_PAM_FAIL);
                return -EINVAL;
        }

        plen = strnlen(password, PASSWORD_MAX + 1);
        if (!user_name_valid(user) || plen == 0 || plen > PASSWORD_MAX) {
                set_msg(msg, msg_len, MSG_WRONG);
                return -EACCES;
        }

        pw.data = memdup_str(password, plen);
        if (!pw.data) {
                set_msg(msg, msg_len, MSG_PAM_FAIL);
                return -EIO; /* out of memory: a server error, like PAM's own */
        }
        pw.len = plen;

        d = (struct conv_data){
                .user = user,
                .user_len = strlen(user),
                .password = pw.data,
                .password_len = pw.len,
        };
        conv = (struct pam_conv){.conv = conversation, .appdata_ptr = &d};

        pr = pam_start(service, user, &conv, &pamh);
        if (pr != PAM_SUCCESS) {
                if (pamh)
                        pam_end(pamh, pr);
                set_msg(msg, msg_len, MSG_PAM_FAIL);
                return -EIO;
        }

        pr = pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_fail_delay);
        if (pr != PAM_SUCCESS) {
                set_msg(msg, msg_len, MSG_PAM_FAIL);
                r = -EIO;
                goto out;
        }

        /* pam_unix hashes the password twice (cryptmemo.c): once here. */
        crypt_memo_begin();
        pr = pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
        if (crypt_memo_end() == 0 && pr != PAM_SUCCESS)
                crypt_memo_equalize(pw.data);
        r = map_authenticate(pr, msg, msg_len);
        if (r < 0)
                goto out;

        pr = pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
        r = map_acct_mgmt(pr, msg, msg_len);
        if (r < 0)
                goto out;

        /* The role is looked up for `user`: a module that mapped the login
         * to another account (PAM_USER changed) must not lend it that
         * account's groups or its own. */
        pr = pam_get_item(pamh, PAM_USER, &item);
        if (pr != PAM_SUCCESS || !item || !STREQ((const char *)item, user)) {
                set_msg(msg, msg_len, MSG_REFUSED);
                pr = PAM_PERM_DENIED;
                r = -EPERM;
                goto out;
        }

        set_msg(msg, msg_len, "");
out:
        pin_pam_modules();
        pam_end(pamh, pr);
        return r;
}

/* ---- Roles. ---- */

static bool in_list(const char *const *list, const char *name) {
        if (!list)
                return false;
        for (; *list; list++)
                if (STREQ(*list, name))
                        return true;
        return false;
}

enum role role_from_groups(uid_t uid, const char *const *groups, size_t n,
                           const struct role_map *map) {
        enum role best = ROLE_NONE;

        if (uid == 0)
                return ROLE_ADMIN;
        if (!map || !groups)
                return ROLE_NONE;
        for (size_t i = 0; i < n; i++) {
                const char *g = groups[i];
                if (!g)
                        continue;
                if (in_list(map->admin_groups, g))
                        return ROLE_ADMIN;
                if (best < ROLE_OPERATOR && in_list(map->operator_groups, g))
                        best = ROLE_OPERATOR;
                else if (best < ROLE_MONITOR && in_list(map->monitor_groups, g))
                        best = ROLE_MONITOR;
        }
        return best;
}

/* Grows *buf (of *size bytes) for another NSS try; -ERANGE past the cap. */
static int nss_buf_grow(char **buf, size_t *size) {
        size_t n = *size ? *size * 2 : NSS_BUF_INITIAL;
        char *p;

        if (n > NSS_BUF_MAX)
                return -ERANGE;
        p = realloc(*buf, n);
        if (!p)
                return -ENOMEM;
        *buf = p;
        *size = n;
        return 0;
}

static void strv_free(char **v, size_t n) {
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* The names of the account's groups (primary first), as a malloc'ed array
 * of malloc'ed strings.  Gids without a group entry are left out. */
static int group_names(const char *user, gid_t primary, char ***ret, size_t *ret_n) {
        _cleanup_free_ gid_t *gids = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t bufsize = 0, n = 0;
        char **names = NULL;
        int ngroups = GROUPS_INITIAL, r;

        for (;;) {
                int want = ngroups;
                gid_t *p = realloc(gids, (size_t)want * sizeof(gid_t));
                if (!p)
                        return -ENOMEM;
                gids = p;
                if (getgrouplist(user, primary, gids, &ngroups) >= 0)
                        break;
                /* glibc stores the count it needs; others may not. */
                if (ngroups <= want)
                        ngroups = want > GROUPS_MAX / 2 ? GROUPS_MAX + 1 : want * 2;
                if (ngroups > GROUPS_MAX)
                        return -E2BIG;
        }
        if (ngroups < 0)
                return -EIO;

        names = calloc((size_t)ngroups + 1, sizeof(char *));
        if (!names)
                return -ENOMEM;

        r = nss_buf_grow(&buf, &bufsize);
        if (r < 0)
                goto fail;
        for (int i = 0; i < ngroups; i++) {
                struct group gr, *res = NULL;
                int e;

                while ((e = getgrgid_r(gids[i], &gr, buf, bufsize, &res)) == ERANGE) {
                        r = nss_buf_grow(&buf, &bufsize);
                        if (r < 0)
                                goto fail;
                }
                if (e == ENOENT || e == ESRCH || (e == 0 && !res))
                        continue; /* a gid with no name */
                if (e != 0) {
                        r = -e;
                        goto fail;
                }
                names[n] = strdup(res->gr_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        goto fail;
                }
                n++;
        }
        *ret = names;
        *ret_n = n;
        return 0;
fail:
        strv_free(names, n);
        return r;
}

static int role_for_passwd(const struct passwd *pw, const struct role_map *map, enum role *ret) {
        char **names = NULL;
        size_t n = 0;
        int r;

        if (pw->pw_uid == 0) {
                *ret = ROLE_ADMIN;
                return 0;
        }
        r = group_names(pw->pw_name, pw->pw_gid, &names, &n);
        if (r < 0)
                return r;
        *ret = role_from_groups(pw->pw_uid, (const char *const *)names, n, map);
        strv_free(names, n);
        return 0;
}

/* Any name up to USER_MAX_BYTES: a session row may name an account that
 * NSS gave a name outside the login grammar (a peer on the socket). */
static int role_for_name(const char *user, const struct role_map *map, enum role *ret,
                         uid_t *ret_uid) {
        _cleanup_free_ char *buf = NULL;
        size_t bufsize = 0;
        struct passwd pwd, *res = NULL;
        enum role role;
        int e, r;

        if (strnlen(user, USER_MAX_BYTES + 1) > USER_MAX_BYTES)
                return -ENOENT;
        do {
                r = nss_buf_grow(&buf, &bufsize);
                if (r < 0)
                        return r;
        } while ((e = getpwnam_r(user, &pwd, buf, bufsize, &res)) == ERANGE);
        if (e == ENOENT || e == ESRCH || (e == 0 && !res))
                return -ENOENT;
        if (e != 0)
                return -e;

        r = role_for_passwd(res, map, &role);
        if (r < 0)
                return r;
        *ret = role;
        if (ret_uid)
                *ret_uid = res->pw_uid;
        return 0;
}

int auth_role_for_user(const char *user, const struct role_map *map, enum role *ret,
                       uid_t *ret_uid) {
        if (!user || !ret)
                return -EINVAL;
        if (!user_name_valid(user))
                return -EINVAL;
        return role_for_name(user, map, ret, ret_uid);
}

int auth_role_for_uid(uid_t uid, const struct role_map *map, enum role *ret, char *user,
                      size_t user_len) {
        _cleanup_free_ char *buf = NULL;
        size_t bufsize = 0, n;
        struct passwd pwd, *res = NULL;
        enum role role;
        int e, r;

        if (!ret || !user || user_len == 0)
                return -EINVAL;

        do {
                r = nss_buf_grow(&buf, &bufsize);
                if (r < 0)
                        return r;
        } while ((e = getpwuid_r(uid, &pwd, buf, bufsize, &res)) == ERANGE);
        if (e == ENOENT || e == ESRCH || (e == 0 && !res))
                return -ENOENT;
        if (e != 0)
                return -e;

        n = strnlen(res->pw_name, user_len);
        if (n >= user_len)
                return -ENOBUFS;

        r = role_for_passwd(res, map, &role);
        if (r < 0)
                return r;
        memcpy(user, res->pw_name, n + 1);
        *ret = role;
        return 0;
}

/* ---- The account as it is now. ---- */

bool shadow_can_log_in(const char *pwdp, long lstchg, long max, long expire, long today) {
        if (!pwdp || pwdp[0] == '\0' || pwdp[0] == '!' || pwdp[0] == '*')
                return false;
        if (expire != -1 && today >= expire)
                return false;
        if (lstchg == 0)
                return false; /* must change it now */
        if (lstchg < 0 || today < lstchg)
                return true; /* no aging, or changed "in the future": pam_unix lets it be */
        /* Past max days it must be changed (and past max + inactive days it
         * has expired): either way no login here. */
        if (max != -1 && today - lstchg > max)
                return false;
        return true;
}

bool shadow_can_use_tokens(const char *pwdp, long lstchg, long max, long expire, long today) {
        static const char *const no_password[] = {"", "*", "!", "!!", "!*"};

        if (expire != -1 && today >= expire)
                return false;
        for (size_t i = 0; pwdp && i < ELEMENTSOF(no_password); i++)
                if (STREQ(pwdp, no_password[i]))
                        return true;
        return shadow_can_log_in(pwdp, lstchg, max, expire, today);
}

/* The account's shadow entry: 1 and *ret_ok / *ret_tokens when there is
 * one, 0 when there is none. */
static int shadow_state(const char *user, int64_t now, bool *ret_ok, bool *ret_tokens) {
        _cleanup_free_ char *buf = NULL;
        size_t bufsize = 0;
        struct spwd sp, *res = NULL;
        int e, r;

        do {
                r = nss_buf_grow(&buf, &bufsize);
                if (r < 0)
                        return r;
        } while ((e = getspnam_r(user, &sp, buf, bufsize, &res)) == ERANGE);
        if (e == ENOENT || e == ESRCH || (e == 0 && !res))
                return 0;
        if (e != 0)
                return -e;
        *ret_ok = shadow_can_log_in(res->sp_pwdp, res->sp_lstchg, res->sp_max, res->sp_expire,
                                    (long)(now / 86400));
        *ret_tokens = shadow_can_use_tokens(res->sp_pwdp, res->sp_lstchg, res->sp_max,
                                            res->sp_expire, (long)(now / 86400));
        explicit_bzero(buf, bufsize);
        return 1;
}

int auth_account_now(const char *user, const struct role_map *map, int64_t now,
                     struct account_now *ret) {
        struct account_now a = {.can_log_in = true, .can_use_tokens = true};
        int r;

        if (!user || !ret || now <= 0)
                return -EINVAL;
        r = role_for_name(user, map, &a.role, &a.uid);
        if (r < 0)
                return r;
        r = shadow_state(user, now, &a.can_log_in, &a.can_use_tokens);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}
