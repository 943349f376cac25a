/* smbusers.c — Samba's own password database: who has an SMB account,
 * whether it is enabled, and the command that changes it.
 *
 * Samba keeps its accounts apart from /etc/shadow (passdb.tdb); an account
 * belongs to a system user of the same name.  The list is `pdbedit -L -v`
 * (not -w, which prints the password hashes: they never enter this
 * process); a system user without a Samba account is not in it (the users
 * collection lists those).  The command `smb_account` {user, password?,
 * enabled?, remove?} does one kind of change: a password (smbpasswd -s -a
 * USER, the password twice on stdin, never in argv), possibly with enabled;
 * enabled alone (smbpasswd -e|-d); or remove (smbpasswd -x).  The user must
 * be a system account now (getpwnam).  The password is an argument marked
 * secret in the module's table: the kit redacts it in the audit record,
 * and no answer or message here repeats it.
 *
 * Everything here runs in the privileged helper. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/change.h"
#include "modules/shares/connections.h"
#include "modules/shares/names.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define PDBEDIT       "/usr/bin/pdbedit"
#define SMBPASSWD     "/usr/bin/smbpasswd"
#define PDBEDIT_MAX   (16u << 20)
#define SMB_USERS_MAX 65536
#define USER_NAME_MAX 32

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* "[UX         ]" → the letters. */
static void flags_of(const char *v, char *dst, size_t cap) {
        size_t n = 0;

        for (; *v && n + 1 < cap; v++)
                if ((*v >= 'A' && *v <= 'Z'))
                        dst[n++] = *v;
        dst[n] = '\0';
}

static json_t *smb_user(const char *name, const char *flags, const char *full_name) {
        struct passwd pw, *found = NULL;
        char buf[1024];
        json_t *uid = json_null();

        if (getpwnam_r(name, &pw, buf, sizeof buf, &found) == 0 && found)
                uid = json_integer((json_int_t)found->pw_uid);
        return json_pack("{s:s, s:o, s:b, s:s, s:s}", "name", name, "uid", uid, "enabled",
                         !strchr(flags, 'D'), "flags", flags, "full_name", full_name);
}

/* Whether the n bytes at s are all '-' (pdbedit's line between accounts). */
static bool dashes(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] != '-')
                        return false;
        return true;
}

int smbusers_parse_pdbedit(const char *txt, size_t len, json_t *list) {
        char line[512], name[USER_NAME_MAX + 1] = "", flags[16] = "", full[256] = "";
        size_t off = 0;
        bool have = false;

        for (;;) {
                const char *nl = off < len ? memchr(txt + off, '\n', len - off) : NULL;
                size_t n = off < len ? (nl ? (size_t)(nl - (txt + off)) : len - off) : 0;
                bool end = off >= len;

                if (end || (n >= 3 && dashes(txt + off, n))) {
                        /* A block ends: one account, if it named a valid user. */
                        if (have && account_name_valid_n(name, strlen(name)) &&
                            json_array_size(list) < SMB_USERS_MAX &&
                            json_array_append_new(list, smb_user(name, flags, full)) < 0)
                                return -ENOMEM;
                        have = false;
                        name[0] = flags[0] = full[0] = '\0';
                        if (end)
                                return 0;
                } else if (n < sizeof line) {
                        const char *colon, *v;
                        memcpy(line, txt + off, n);
                        line[n] = '\0';
                        colon = strchr(line, ':');
                        if (colon) {
                                line[colon - line] = '\0';
                                for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
                                        ;
                                if (STREQ(line, "Unix username")) {
                                        snprintf(name, sizeof name, "%s", v);
                                        have = strlen(v) <= USER_NAME_MAX;
                                } else if (STREQ(line, "Account Flags"))
                                        flags_of(v, flags, sizeof flags);
                                else if (STREQ(line, "Full Name") && utf8_valid(v, strlen(v)))
                                        snprintf(full, sizeof full, "%s", v);
                        }
                }
                off += n + (nl ? 1 : 0);
                if (!nl)
                        off = len;
        }
}

static int accounts(json_t **ret, struct module_error *err) {
        const char *argv[] = {PDBEDIT, "-L", "-v", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[256];
        size_t len = 0;
        json_t *list;
        int r;

        if (access(PDBEDIT, X_OK) < 0) {
                module_error_set(err, 503, "unavailable", NULL, "Samba is not installed (no %s)",
                                 PDBEDIT);
                return -ENOENT;
        }
        /* pdbedit makes Samba's password database when there is none: a
         * read must not, so no database is no accounts. */
        if (access("/var/lib/samba/private/passdb.tdb", F_OK) < 0) {
                *ret = json_array();
                return *ret ? 0 : -ENOMEM;
        }
        r = change_exec_output(argv, PDBEDIT_MAX, &out, &len, msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 500, "tool_failed", NULL, "pdbedit -L -v failed: %s",
                                 msg[0]  ? msg
                                 : r < 0 ? strerror(-r)
                                         : "error");
                return r < 0 ? r : -EIO;
        }
        list = json_array();
        if (!list || smbusers_parse_pdbedit(out, len, list) < 0) {
                json_decref(list);
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        *ret = list;
        return 0;
}

int smbusers_list(json_t **ret, struct module_error *err) {
        json_t *list = NULL;
        int r = accounts(&list, err);

        if (r < 0)
                return r;
        *ret = json_pack("{s:o}", "smb_users", list);
        return *ret ? 0 : -ENOMEM;
}

static json_t *account_of(json_t *list, const char *user) {
        json_t *a;
        size_t i;

        json_array_foreach(list, i, a) {
                if (STREQ(sget(a, "name") ?: "", user))
                        return a;
        }
        return NULL;
}

/* Runs smbpasswd with one option, the user, and input (the password, or
 * NULL). */
static int smbpasswd(const char *opt, const char *user, const char *input,
                     struct module_error *err) {
        const char *argv[] = {SMBPASSWD, "-s", opt, "--", user, NULL};
        char msg[256];
        int r;

        r = change_exec(argv, input, msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 500, "tool_failed", NULL, "smbpasswd %s %s failed: %s",
                                 argv[2], user,
                                 msg[0]  ? msg
                                 : r < 0 ? strerror(-r)
                                         : "error");
                return r < 0 ? r : -EIO;
        }
        return 0;
}

static int check_args(json_t *args, const char **ret_user, const char **ret_password,
                      struct module_error *err) {
        const char *user = sget(args, "user") ?: "", *password = sget(args, "password");
        json_t *enabled = json_object_get(args, "enabled"),
               *remove = json_object_get(args, "remove");
        struct passwd pw, *found = NULL;
        char buf[1024];

        if (!account_name_valid_n(user, strlen(user))) {
                module_error_set(err, 422, "invalid_argument", "user",
                                 "a user name is [a-z_][a-z0-9_-]*, at most %d bytes",
                                 USER_NAME_MAX);
                return -EINVAL;
        }
        if (getpwnam_r(user, &pw, buf, sizeof buf, &found) != 0 || !found) {
                module_error_set(err, 404, "not_found", "user", "no system user \"%s\"", user);
                return -ENOENT;
        }
        if (password)
                for (const unsigned char *p = (const unsigned char *)password; *p; p++)
                        if (*p < 0x20 || *p == 0x7f) {
                                module_error_set(err, 422, "invalid_argument", "password",
                                                 "the password may hold no control characters");
                                return -EINVAL;
                        }
        if ((password || json_is_true(enabled)) && (found->pw_uid < 1000 || found->pw_uid == 65534)) {
                /* An SMB login as root would pass every folder's
                 * permissions; system accounts log in nowhere. */
                module_error_set(err, 422, "invalid_argument", "user",
                                 "SMB accounts are for people's accounts (uid 1000 and up), "
                                 "not root or system users");
                return -EINVAL;
        }
        if (json_is_true(remove) && (password || enabled)) {
                module_error_set(err, 422, "invalid_argument", "remove",
                                 "remove takes no password and no enabled");
                return -EINVAL;
        }
        if (!password && !enabled && !json_is_true(remove)) {
                module_error_set(err, 422, "invalid_argument", "password",
                                 "give a password, enabled or remove");
                return -EINVAL;
        }
        *ret_user = user;
        *ret_password = password;
        return 0;
}

int smbusers_command(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err) {
        json_t *enabled = json_object_get(args, "enabled"), *changed = NULL;
        bool remove = json_is_true(json_object_get(args, "remove"));
        const char *user, *password;
        _cleanup_json_ json_t *before = NULL, *after = NULL;
        int r;

        (void)ctx;
        r = check_args(args, &user, &password, err);
        if (r < 0)
                return r;
        if (access(SMBPASSWD, X_OK) < 0) {
                module_error_set(err, 503, "unavailable", NULL, "Samba is not installed (no %s)",
                                 SMBPASSWD);
                return -ENOENT;
        }
        r = accounts(&before, err);
        if (r < 0)
                return r;
        if (!password && !account_of(before, user)) {
                module_error_set(err, 404, "not_found", "user",
                                 "%s has no Samba account: set an SMB password first", user);
                return -ENOENT;
        }
        changed = json_array();
        if (password) {
                _cleanup_free_ char *input = NULL;
                size_t n = strlen(password);
                if (!(input = malloc(2 * n + 3)))
                        r = -ENOMEM;
                else {
                        memcpy(input, password, n);
                        input[n] = '\n';
                        memcpy(input + n + 1, password, n);
                        input[2 * n + 1] = '\n';
                        input[2 * n + 2] = '\0';
                        r = smbpasswd("-a", user, input, err);
                        explicit_bzero(input, 2 * n + 2);
                }
                json_array_append_new(changed, json_string("password"));
        }
        if (r >= 0 && enabled) {
                r = smbpasswd(json_is_true(enabled) ? "-e" : "-d", user, NULL, err);
                json_array_append_new(changed, json_string("enabled"));
        }
        if (r >= 0 && remove) {
                r = smbpasswd("-x", user, NULL, err);
                json_array_append_new(changed, json_string("removed"));
        }
        if (r == -ENOMEM)
                module_error_set(err, 500, "internal", NULL, "out of memory");
        if (r < 0 || (r = accounts(&after, err)) < 0) {
                json_decref(changed);
                return r;
        }
        *ret = json_pack("{s:O?, s:o}", "smb_user", account_of(after, user), "changed", changed);
        return *ret ? 0 : -ENOMEM;
}
