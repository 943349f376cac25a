/* userwrite.c — creating, changing and deleting users (see users.c).
 *
 * A request is checked field by field against the body's schema below
 * (unknown fields are refused: a typo must not be silently ignored), then
 * turned into tool commands for account_change_run().  authorized_keys is written
 * after the tools ran, by the helper itself, as the file's owner would
 * (mode 0600 in a 0700 .ssh, owned by the user), without following links. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pwd.h>
#include <sys/pidfd.h>

#include "config.h"
#include "modules/users/acctdb.h"
#include "modules/users/users.h"
#include "util.h"

#define USERADD          "/usr/sbin/useradd"
#define USERMOD          "/usr/sbin/usermod"
#define USERDEL          "/usr/sbin/userdel"
#define CHPASSWD         "/usr/sbin/chpasswd"
#define CHAGE            "/usr/bin/chage"
#define GEN_PASSWORD_LEN 20
#define AUTH_KEYS_MAX    (1u << 20)

enum ftype { F_STR, F_INT, F_BOOL, F_STRS, F_OBJ };

struct field {
        const char *name;
        enum ftype type;
        unsigned ops; /* 1: create, 2: modify */
};

static const struct field fields[] = {
        {"name", F_STR, 1},
        {"uid", F_INT, 1},
        {"group", F_STR, 3},
        {"groups", F_STRS, 3},
        {"full_name", F_STR, 3},
        {"home", F_STR, 3},
        {"shell", F_STR, 3},
        {"create_home", F_BOOL, 1},
        {"password", F_STR, 3},
        {"generate_password", F_BOOL, 3},
        {"locked", F_BOOL, 3},
        {"ssh_keys", F_STRS, 3},
        {"new_name", F_STR, 2},
        {"move_home", F_BOOL, 2},
        {"add_groups", F_STRS, 2},
        {"remove_groups", F_STRS, 2},
        {"expire_password", F_BOOL, 2},
        {"add_ssh_keys", F_STRS, 2},
        {"remove_ssh_keys", F_STRS, 2},
        {"aging", F_OBJ, 2},
        {"force", F_BOOL, 2},
};

static int check_body(json_t *body, unsigned op, struct module_error *err) {
        const char *k;
        json_t *v;

        json_object_foreach(body, k, v) {
                const struct field *f = NULL;
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (STREQ(fields[i].name, k) && (fields[i].ops & op))
                                f = &fields[i];
                if (!f)
                        return account_invalid(err, 400, k, "unknown field \"%.64s\"", k);
                switch (f->type) {
                case F_STR:
                        if (!json_is_string(v))
                                return account_invalid(err, 400, k, "%s must be a string", k);
                        break;
                case F_INT:
                        if (!json_is_integer(v))
                                return account_invalid(err, 400, k, "%s must be an integer", k);
                        break;
                case F_BOOL:
                        if (!json_is_boolean(v))
                                return account_invalid(err, 400, k, "%s must be true or false", k);
                        break;
                case F_OBJ:
                        if (!json_is_object(v))
                                return account_invalid(err, 400, k, "%s must be an object", k);
                        break;
                case F_STRS: {
                        size_t i;
                        json_t *s;
                        if (!json_is_array(v) || json_array_size(v) > SSH_KEYS_MAX)
                                return account_invalid(err, 400, k, "%s must be a list of strings",
                                                       k);
                        json_array_foreach(v, i, s) if (!json_is_string(s)) return account_invalid(
                                err, 400, k, "%s must be a list of strings", k);
                        break;
                }
                }
        }
        return 0;
}

static const char *sget(json_t *body, const char *k) {
        return json_string_value(json_object_get(body, k));
}

static int check_group_names(const struct acctdb *db, json_t *list, const char *field,
                             struct module_error *err) {
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) {
                const char *g = json_string_value(v);
                if (!account_name_valid(g))
                        return account_invalid(err, 422, field,
                                               "\"%.64s\" is not a valid group name", g);
                if (!acctdb_group(db, g))
                        return account_invalid(err, 422, field, "no group \"%.64s\"", g);
        }
        return 0;
}

/* The keys of list, each parsed and normalised, in *ret (an array). */
static int parse_keys(json_t *list, const char *field, json_t **ret, struct module_error *err) {
        json_t *out = json_array(), *v;
        size_t i;

        json_array_foreach(list, i, v) {
                char *norm = NULL;
                const char *why;
                if (ssh_key_parse(json_string_value(v), &norm, &why) < 0) {
                        json_decref(out);
                        module_error_set(err, 422, "invalid_argument", field,
                                         "%s[%zu] is not a valid public key: %s", field, i, why);
                        return -EINVAL;
                }
                json_array_append_new(out, json_string(norm));
                free(norm);
        }
        *ret = out;
        return 0;
}

static bool fingerprint_like(const char *s) {
        if (!s || strlen(s) != SSH_KEY_FP_LEN || strncmp(s, "SHA256:", 7) != 0)
                return false;
        for (const char *p = s + 7; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= '0' && *p <= '9') || *p == '+' || *p == '/'))
                        return false;
        return true;
}

/* remove_ssh_keys: each a key (parsed and normalised) or a fingerprint
 * ("SHA256:...", kept as it is), in *ret (an array). */
static int parse_removals(json_t *list, json_t **ret, struct module_error *err) {
        json_t *out = json_array(), *v;
        size_t i;

        json_array_foreach(list, i, v) {
                const char *s = json_string_value(v), *why;
                char *norm = NULL;
                if (fingerprint_like(s)) {
                        json_array_append_new(out, json_string(s));
                        continue;
                }
                if (ssh_key_parse(s, &norm, &why) < 0) {
                        json_decref(out);
                        module_error_set(err, 422, "invalid_argument", "remove_ssh_keys",
                                         "remove_ssh_keys[%zu] is neither a public key nor a "
                                         "SHA256: fingerprint: %s",
                                         i, why);
                        return -EINVAL;
                }
                json_array_append_new(out, json_string(norm));
                free(norm);
        }
        *ret = out;
        return 0;
}

static int gen_password(char out[GEN_PASSWORD_LEN + 1]) {
        static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        size_t n = 0;

        while (n < GEN_PASSWORD_LEN) {
                unsigned char b[32];
                int r = random_bytes(b, sizeof b);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < sizeof b && n < GEN_PASSWORD_LEN; i++)
                        if (b[i] < 256 - 256 % (sizeof set - 1))
                                out[n++] = set[b[i] % (sizeof set - 1)];
        }
        out[n] = '\0';
        return 0;
}

/* Whether real (a canonical path) and every directory above it are owned by
 * root and writable by nobody else: a home made below it cannot then be
 * swapped for a link between the check and useradd by another account. */
static bool trusted_dirs(const char *real) {
        char p[4096];
        struct stat st;
        char *slash;

        snprintf(p, sizeof p, "%s", real);
        for (;;) {
                if (lstat(p[0] ? p : "/", &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
                    (st.st_mode & (S_IWGRP | S_IWOTH)))
                        return false;
                if (!p[0])
                        return true;
                slash = strrchr(p, '/');
                if (!slash)
                        return false;
                *slash = '\0';
        }
}

static int check_home(const char *home, struct module_error *err) {
        char parent[HOME_MAX + 1], real[4096];
        struct steward_config cfg;
        const char *roots[HOME_ROOTS_MAX + 1];
        char *slash;

        users_home_roots(&cfg, roots);
        if (!home_path_valid(home, roots))
                return account_invalid(
                        err, 422, "home",
                        "\"%.128s\" is not an absolute path of letters, digits, '.', '_' and "
                        "'-' under a home root (stewardd:users:home_roots: %s…)",
                        home, roots[0] ? roots[0] : "none");
        /* The part that exists must not lead out of the root through a link. */
        snprintf(parent, sizeof parent, "%s", home);
        while ((slash = strrchr(parent, '/')) && slash != parent) {
                *slash = '\0';
                if (realpath(parent, real)) {
                        bool ok = false;
                        for (size_t i = 0; roots[i]; i++) {
                                char root[4096];
                                size_t rl;
                                if (!realpath(roots[i], root))
                                        continue;
                                rl = strlen(root);
                                ok |= strncmp(real, root, rl) == 0 &&
                                      (real[rl] == '\0' || real[rl] == '/');
                        }
                        if (!ok)
                                return account_invalid(err, 422, "home",
                                                       "\"%.128s\" leads out of /home", home);
                        if (!trusted_dirs(real))
                                return account_invalid(
                                        err, 422, "home",
                                        "\"%.128s\" is inside a directory that someone other "
                                        "than root can change (\"%.128s\" or above)",
                                        home, real);
                        break;
                }
        }
        return 0;
}

/* Whether path is dir or lies inside it (dir "/" excepted: system
 * accounts have it, and it is no one's home). */
static bool path_within(const char *path, const char *dir) {
        size_t n = strlen(dir);

        while (n > 1 && dir[n - 1] == '/')
                n--;
        if (n <= 1 || strncmp(path, dir, n) != 0)
                return false;
        return path[n] == '\0' || path[n] == '/';
}

/* A home must be a home of its own: not a symbolic link (useradd and
 * usermod take an existing path as it is, and the account would live
 * wherever the link points), and not another account's home, inside one,
 * or around one.  self: the account being changed (its own home is no
 * conflict), or NULL. */
static int check_home_free(const struct acctdb *db, const char *home, const char *self,
                           struct module_error *err) {
        struct stat st;

        if (lstat(home, &st) == 0 && S_ISLNK(st.st_mode))
                return account_invalid(err, 422, "home",
                                       "\"%.128s\" is a symbolic link; a home must be a "
                                       "directory of its own",
                                       home);
        for (size_t i = 0; i < db->n_users; i++) {
                const struct acct_user *o = &db->users[i];
                if ((self && STREQ(o->name, self)) || !o->home || o->home[0] != '/')
                        continue;
                if (path_within(home, o->home) || path_within(o->home, home)) {
                        module_error_set(err, 409, "exists", "home",
                                         "\"%.128s\" is, or lies inside or around, the home of "
                                         "%s (%.128s)",
                                         home, o->name, o->home);
                        return -EEXIST;
                }
        }
        return 0;
}

/* ---- authorized_keys ------------------------------------------------------------ */

static int read_keys_file(const char *home, char **ret) {
        int h, s, f, r;
        struct stat st;
        size_t len;

        *ret = NULL;
        h = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (h < 0)
                return errno == ENOENT ? 0 : -errno;
        s = openat(h, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(h);
        if (s < 0)
                return errno == ENOENT ? 0 : -errno;
        f = openat(s, "authorized_keys", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        close(s);
        if (f < 0)
                return errno == ENOENT ? 0 : -errno;
        /* A second name may be the user's link to a file they cannot
         * read: what is read here goes into the new file and the audit log. */
        if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
                close(f);
                return -EINVAL;
        }
        r = read_fd(f, AUTH_KEYS_MAX, ret, &len);
        close(f);
        return r;
}

/* Writes content to home/.ssh/authorized_keys as uid:gid (absent: removes
 * it), atomically, following no link. */
static int write_keys_file(const char *home, uid_t uid, gid_t gid, const char *content) {
        _cleanup_close_ int h = -1, s = -1, f = -1;
        _cleanup_free_ char *hex = NULL, *tmp = NULL;
        size_t len, off = 0;
        int r;

        h = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (h < 0)
                return -errno;
        s = openat(h, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 && errno == ENOENT && content) {
                if (mkdirat(h, ".ssh", 0700) < 0)
                        return -errno;
                s = openat(h, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s >= 0 && fchown(s, uid, gid) < 0)
                        return -errno;
        }
        if (s < 0)
                return errno == ENOENT && !content ? 0 : -errno;
        if (!content) {
                if (unlinkat(s, "authorized_keys", 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        r = random_hex(8, &hex);
        if (r < 0)
                return r;
        if (asprintf(&tmp, ".authorized_keys.%s", hex) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        f = openat(s, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (f < 0)
                return -errno;
        len = strlen(content);
        while (off < len) {
                ssize_t w = write(f, content + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        goto fail;
                off += (size_t)w;
        }
        if (fchown(f, uid, gid) < 0 || fchmod(f, 0600) < 0 || fsync(f) < 0 ||
            renameat(s, tmp, s, "authorized_keys") < 0)
                goto fail;
        (void)fsync(s);
        return 0;
fail:
        r = -errno;
        (void)unlinkat(s, tmp, 0);
        return r ? r : -EIO;
}

int users_file_restore(const char *path, const char *type, const char *content,
                       struct module_error *err) {
        char home[HOME_MAX + 1];
        static const char tail[] = "/.ssh/authorized_keys";
        size_t n = strlen(path), tl = sizeof tail - 1;
        struct passwd *pw = NULL;
        struct steward_config cfg;
        const char *roots[HOME_ROOTS_MAX + 1];
        struct stat st;
        int r;

        users_home_roots(&cfg, roots);
        if (n <= tl || n - tl > HOME_MAX || !STREQ(path + n - tl, tail)) {
                module_error_set(err, 422, "invalid_argument", NULL, "%s is not a users file",
                                 path);
                return -EINVAL;
        }
        memcpy(home, path, n - tl);
        home[n - tl] = '\0';
        if (!home_path_valid(home, roots) || lstat(home, &st) < 0 || !S_ISDIR(st.st_mode)) {
                module_error_set(err, 409, "conflict", NULL, "%s is gone; cannot restore %s", home,
                                 path);
                return -ENOENT;
        }
        pw = getpwuid(st.st_uid);
        r = write_keys_file(home, st.st_uid, pw ? pw->pw_gid : st.st_gid,
                            STREQ(type, "absent") ? NULL : content);
        if (r < 0)
                module_error_set(err, 500, "internal", NULL, "cannot restore %s: %s", path,
                                 strerror(-r));
        return r;
}

/* ---- processes ------------------------------------------------------------------ */

/* Whether /proc/<pid>/status says the process runs as uid (real,
 * effective or saved). */
static bool runs_as(const char *pid, uid_t uid) {
        char path[300], buf[4096], *line;
        unsigned long u[4];
        ssize_t len;
        int fd;

        snprintf(path, sizeof path, "/proc/%s/status", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
                return false;
        buf[len] = '\0';
        line = strstr(buf, "\nUid:");
        return line && sscanf(line + 5, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) == 4 &&
               (u[0] == uid || u[1] == uid || u[2] == uid);
}

/* The pids running as uid. */
static size_t procs_of(uid_t uid, pid_t *pids, size_t max) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)) && n < max) {
                uint64_t pid;
                if (safe_atou64(de->d_name, &pid) < 0 || pid > INT32_MAX)
                        continue;
                if (runs_as(de->d_name, uid))
                        pids[n++] = (pid_t)pid;
        }
        closedir(d);
        return n;
}

/* Kills the processes running as uid.  Each is held by a pidfd while its
 * owner is checked, so a pid that was reused meanwhile (by a process of
 * someone else) is never signalled. */
static void kill_procs_of(uid_t uid) {
        pid_t pids[256];
        size_t n = procs_of(uid, pids, ELEMENTSOF(pids));

        for (size_t i = 0; i < n; i++) {
                char name[16];
                int fd = pidfd_open(pids[i], 0);
                if (fd < 0)
                        continue;
                snprintf(name, sizeof name, "%d", (int)pids[i]);
                /* Alive before and after the check: the check was of it. */
                if (runs_as(name, uid) && pidfd_send_signal(fd, 0, NULL, 0) == 0)
                        (void)pidfd_send_signal(fd, SIGKILL, NULL, 0);
                close(fd);
        }
}

/* ---- the writes ------------------------------------------------------------------ */

struct keys_change {
        bool touched;
        json_t *keys; /* the new list, or NULL: remove the file */
};

static json_t *keys_of_text(const char *text) {
        json_t *a = json_array();
        size_t pos = 0, len = text ? strlen(text) : 0, ll;
        const char *line;

        while (a && text && text_next_line(text, len, &pos, &line, &ll)) {
                _cleanup_free_ char *l = strndup(line, ll), *norm = NULL;
                const char *why;
                if (l && ssh_key_parse(l, &norm, &why) >= 0)
                        json_array_append_new(a, json_string(norm));
                else if (l && ll > 0)
                        json_array_append_new(a, json_string(l)); /* kept as it is */
        }
        return a;
}

static char *keys_text(json_t *keys) {
        struct buf b;
        size_t i;
        json_t *k;

        buf_init(&b, AUTH_KEYS_MAX);
        json_array_foreach(keys, i, k) {
                if (buf_puts(&b, json_string_value(k)) < 0 || buf_puts(&b, "\n") < 0) {
                        buf_free(&b);
                        return NULL;
                }
        }
        return buf_steal(&b);
}

static bool in_list(json_t *list, const char *s) {
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) if (STREQ(json_string_value(v), s)) return true;
        return false;
}

static int apply_keys(json_t *plan, const char *name, const struct keys_change *kc, bool dry_run,
                      const char *home_hint, struct module_error *err) {
        struct passwd *pw;
        _cleanup_free_ char *before = NULL, *after = NULL, *path = NULL;
        const char *home;
        int r;

        if (!kc->touched)
                return 0;
        pw = dry_run ? NULL : getpwnam(name);
        home = pw ? pw->pw_dir : home_hint;
        if (!home)
                return 0;
        if (asprintf(&path, "%s/.ssh/authorized_keys", home) < 0)
                return -ENOMEM;
        r = read_keys_file(home, &before);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
                module_error_set(err, 409, "conflict", "ssh_keys",
                                 "%s is not a regular file with one name in a plain directory; "
                                 "not touching it",
                                 path);
                return r;
        }
        after = kc->keys && json_array_size(kc->keys) ? keys_text(kc->keys) : NULL;
        if (kc->keys && json_array_size(kc->keys) && !after)
                return -ENOMEM;
        if ((!before && !after) || (before && after && STREQ(before, after)))
                return 0;
        if (!dry_run) {
                r = write_keys_file(home, pw->pw_uid, pw->pw_gid, after);
                if (r < 0) {
                        module_error_set(err, 500, "internal", "ssh_keys", "cannot write %s: %s",
                                         path, strerror(-r));
                        return r;
                }
        }
        return change_plan_add_file(plan, path, before, after, true);
}

static const char *caller(const struct module_ctx *ctx) {
        return ctx && ctx->user ? ctx->user : NULL;
}

static int finish(struct change_plan *e, const struct module_ctx *ctx, bool dry_run,
                  const char *name, const struct keys_change *kc, const char *home_hint,
                  const char *password, json_t **ret, struct module_error *err) {
        json_t *plan = NULL, *result = NULL, *user = NULL;
        int r;

        r = account_change_run(e, dry_run, acct_guard, (void *)caller(ctx), &plan, err);
        if (r >= 0)
                r = apply_keys(plan, name, kc, dry_run, home_hint, err);
        if (r >= 0 && !dry_run && users_show_json(name, false, &user, err) >= 0) {
                result = json_pack("{s:o}", "user", user);
                if (result && password)
                        json_object_set_new(result, "password", json_string(password));
        }
        if (!plan) {
                return r;
        }
        *ret = json_pack("{s:o, s:o?}", "plan", plan, "result", result);
        return *ret ? r : -ENOMEM;
}

static int password_cmds(struct change_plan *e, const char *name, json_t *body, char gen[],
                         const char **ret_password, struct module_error *err) {
        const char *pw = sget(body, "password");
        bool generate = json_is_true(json_object_get(body, "generate_password"));
        int n = (pw != NULL) + generate + json_is_true(json_object_get(body, "locked"));

        *ret_password = NULL;
        if (n > 1)
                return account_invalid(err, 422, pw ? "password" : "generate_password",
                                       "give one of password, generate_password and locked%s", "");
        if (pw && !password_valid(pw))
                return account_invalid(err, 422, "password",
                                       "a password is 1 to 256 characters of text without control "
                                       "characters%s",
                                       "");
        if (generate) {
                if (gen_password(gen) < 0)
                        return account_invalid(err, 500, NULL, "cannot generate a password%s", "");
                pw = gen;
                *ret_password = gen;
        }
        if (pw) {
                _cleanup_free_ char *line = NULL;
                struct change_cmd *c = change_cmd(e, CHPASSWD);
                if (asprintf(&line, "%s:%s\n", name, pw) < 0)
                        return -ENOMEM;
                change_input(e, c, line, true);
                explicit_bzero(line, strlen(line));
        }
        return 0;
}

static int common_checks(json_t *body, const struct acctdb *db, const char *self,
                         struct module_error *err) {
        const char *s;

        if ((s = sget(body, "full_name")) && !gecos_valid(s))
                return account_invalid(
                        err, 422, "full_name",
                        "a full name is at most 255 characters without ':' or control "
                        "characters: \"%.64s\"",
                        s);
        if ((s = sget(body, "shell")) && !acct_shell_allowed(s))
                return account_invalid(err, 422, "shell", "\"%.128s\" is not listed in /etc/shells",
                                       s);
        if ((s = sget(body, "home")) &&
            (check_home(s, err) < 0 || check_home_free(db, s, self, err) < 0))
                return -EINVAL;
        if ((s = sget(body, "group")) && (!account_name_valid(s) || !acctdb_group(db, s)))
                return account_invalid(err, 422, "group", "no group \"%.64s\"", s);
        if (check_group_names(db, json_object_get(body, "groups"), "groups", err) < 0 ||
            check_group_names(db, json_object_get(body, "add_groups"), "add_groups", err) < 0 ||
            check_group_names(db, json_object_get(body, "remove_groups"), "remove_groups", err) < 0)
                return -EINVAL;
        return 0;
}

static void join_groups(struct change_plan *e, struct change_cmd *c, json_t *list) {
        /* At most SSH_KEYS_MAX-sized lists (the field check) of names. */
        change_arg_joined(e, c, list, 65536);
}

/* The name of a new user: valid, and no user has it yet. */
static int create_name_check(const struct acctdb *db, const char *name, struct module_error *err) {
        if (!name)
                return account_invalid(err, 422, "name", "a user needs a name%s", "");
        if (!account_name_valid(name))
                return account_invalid(
                        err, 422, "name",
                        "\"%.64s\" is not a valid user name: 1 to 32 characters, a lowercase "
                        "letter first, then lowercase letters, digits, '-' or '_' (and an "
                        "optional final '$')",
                        name);
        if (acctdb_user(db, name)) {
                module_error_set(err, 409, "exists", "name", "a user \"%s\" exists", name);
                return -EEXIST;
        }
        return 0;
}

/* The uid a new user asks for, when it asks for one: within UID_MIN..UID_MAX
 * and nobody's yet. */
static int create_uid_check(const struct acctdb *db, json_t *uid, struct module_error *err) {
        json_int_t v;

        if (!uid)
                return 0;
        v = json_integer_value(uid);
        if (v < db->defs.uid_min || v > db->defs.uid_max) {
                module_error_set(err, 422, "invalid_argument", "uid",
                                 "uid %lld is outside UID_MIN..UID_MAX (%u..%u) of "
                                 "/etc/login.defs",
                                 (long long)v, db->defs.uid_min, db->defs.uid_max);
                return -EINVAL;
        }
        for (size_t i = 0; i < db->n_users; i++)
                if (db->users[i].uid == (uint32_t)v) {
                        module_error_set(err, 409, "exists", "uid", "uid %lld belongs to %s",
                                         (long long)v, db->users[i].name);
                        return -EEXIST;
                }
        return 0;
}

/* What a create may not ask for: the name, the uid, the fields it shares
 * with a modify, and a group of the user's name when no "group" is given
 * (useradd would make one of that name). */
static int create_checks(json_t *body, const struct acctdb *db, const char *name,
                         struct module_error *err) {
        int r;

        r = create_name_check(db, name, err);
        if (r < 0)
                return r;
        r = create_uid_check(db, json_object_get(body, "uid"), err);
        if (r < 0)
                return r;
        r = common_checks(body, db, NULL, err);
        if (r < 0)
                return r;
        if (!sget(body, "group") && acctdb_group(db, name)) {
                module_error_set(err, 409, "exists", "name",
                                 "a group \"%s\" exists: give \"group\" to use it as the primary "
                                 "group",
                                 name);
                return -EEXIST;
        }
        return 0;
}

/* The SSH keys of a new user, when the body gives them (kc->touched). */
static int create_keys(json_t *body, struct keys_change *kc, struct module_error *err) {
        int r;

        if (!json_object_get(body, "ssh_keys"))
                return 0;
        r = parse_keys(json_object_get(body, "ssh_keys"), "ssh_keys", &kc->keys, err);
        if (r < 0)
                return r;
        kc->touched = true;
        return 0;
}

/* The home of a new user into home (HOME_MAX + 1 bytes): "home", or the
 * name under the first home root, which no account may have yet. */
static int create_home_dir(json_t *body, const struct acctdb *db, const char *name, char *home,
                           struct module_error *err) {
        struct steward_config cfg;
        const char *roots[HOME_ROOTS_MAX + 1];
        const char *s;

        if ((s = sget(body, "home"))) {
                snprintf(home, HOME_MAX + 1, "%s", s);
                return 0;
        }
        users_home_roots(&cfg, roots);
        if (!roots[0] || strlen(roots[0]) + 1 + strlen(name) > HOME_MAX)
                return account_invalid(
                        err, 422, "home",
                        "no home root to put the home in (stewardd:users:home_roots); "
                        "give \"home\"%s",
                        "");
        if (snprintf(home, HOME_MAX + 1, "%.64s/%.32s", roots[0], name) < 0)
                home[0] = '\0';
        if (check_home_free(db, home, NULL, err) < 0)
                return -EEXIST;
        return 0;
}

/* SSH keys need a home to go in: refused when the home does not exist and
 * create_home is false. */
static int create_keys_home_check(json_t *body, const struct keys_change *kc, const char *home,
                                  struct module_error *err) {
        if (kc->touched && json_array_size(kc->keys) > 0 &&
            json_is_false(json_object_get(body, "create_home")) && access(home, F_OK) < 0)
                return account_invalid(
                        err, 422, "ssh_keys",
                        "SSH keys need a home directory: %s does not exist and create_home "
                        "is false",
                        home);
        return 0;
}

/* useradd with what the body asks of the new account; the home is created
 * for real but not in the staging run. */
static void useradd_cmd(struct change_plan *e, json_t *body, const char *name, const char *home) {
        struct change_cmd *c = change_cmd(e, USERADD);
        json_t *uid = json_object_get(body, "uid");
        const char *s;

        if (uid)
                change_argf(e, c, "--uid=%lld", (long long)json_integer_value(uid));
        if ((s = sget(body, "group")))
                change_argf(e, c, "--gid=%s", s);
        if (json_array_size(json_object_get(body, "groups"))) {
                change_arg(e, c, "--groups");
                join_groups(e, c, json_object_get(body, "groups"));
        }
        if ((s = sget(body, "full_name"))) {
                change_arg(e, c, "--comment");
                change_arg(e, c, s);
        }
        change_arg(e, c, "--home-dir");
        change_arg(e, c, home);
        change_arg(e, c, "--shell");
        change_arg(e, c, (s = sget(body, "shell")) ? s : "/bin/bash");
        if (json_is_false(json_object_get(body, "create_home")))
                change_arg(e, c, "--no-create-home");
        else {
                change_arg_where(e, c, "--create-home", CHANGE_ARG_REAL);
                change_arg_where(e, c, "--no-create-home", CHANGE_ARG_STAGE);
        }
        change_arg(e, c, "--");
        change_arg(e, c, name);
}

static int user_create(const struct module_ctx *ctx, json_t *body, bool dry_run,
                       const struct acctdb *db, json_t **ret, struct module_error *err) {
        const char *name = sget(body, "name"), *password = NULL;
        struct keys_change kc = {0};
        struct change_plan e;
        char gen[GEN_PASSWORD_LEN + 1], home[HOME_MAX + 1];
        int r;

        r = create_checks(body, db, name, err);
        if (r < 0)
                return r;
        r = create_keys(body, &kc, err);
        if (r < 0)
                return r;
        r = create_home_dir(body, db, name, home, err);
        if (r >= 0)
                r = create_keys_home_check(body, &kc, home, err);
        if (r < 0) {
                json_decref(kc.keys);
                return r;
        }

        change_plan_init(&e);
        useradd_cmd(&e, body, name, home);
        r = password_cmds(&e, name, body, gen, &password, err);
        if (r >= 0)
                r = finish(&e, ctx, dry_run, name, &kc, home, password, ret, err);
        change_plan_done(&e);
        json_decref(kc.keys);
        explicit_bzero(gen, sizeof gen);
        return r;
}

/* What a modify may not combine, and the new name (*ret_final: the name the
 * account has afterwards). */
static int modify_checks(json_t *body, const struct acctdb *db, const char *name,
                         const char **ret_final, struct module_error *err) {
        const char *s;
        int r;

        r = common_checks(body, db, name, err);
        if (r < 0)
                return r;
        *ret_final = name;
        if ((s = sget(body, "new_name"))) {
                if (!account_name_valid(s))
                        return account_invalid(err, 422, "new_name",
                                               "\"%.64s\" is not a valid user name", s);
                if (acctdb_user(db, s)) {
                        module_error_set(err, 409, "exists", "new_name", "a user \"%s\" exists", s);
                        return -EEXIST;
                }
                *ret_final = s;
        }
        if (json_object_get(body, "groups") &&
            (json_object_get(body, "add_groups") || json_object_get(body, "remove_groups")))
                return account_invalid(err, 422, "groups",
                                       "give groups (the whole list) or add_groups/remove_groups%s",
                                       "");
        if (json_object_get(body, "ssh_keys") &&
            (json_object_get(body, "add_ssh_keys") || json_object_get(body, "remove_ssh_keys")))
                return account_invalid(
                        err, 422, "ssh_keys",
                        "give ssh_keys (the whole list) or add_ssh_keys/remove_ssh_keys%s", "");
        if (json_object_get(body, "locked") && json_object_get(body, "password"))
                return account_invalid(err, 422, "locked", "give password or locked, not both%s",
                                       "");
        return 0;
}

/* The current keys of home less rem (keys or fingerprints) plus add, into
 * kc->keys.  A fingerprint to remove that matches no key is refused. */
static int keys_edited(const char *home, json_t *add, json_t *rem, struct keys_change *kc,
                       struct module_error *err) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_decrefp) json_t *hit = json_array(), *cur = NULL;
        json_t *v;
        size_t i;

        (void)read_keys_file(home, &text);
        cur = keys_of_text(text);
        kc->keys = json_array();
        json_array_foreach(cur, i, v) {
                char fp[SSH_KEY_FP_LEN + 1];
                bool has_fp = ssh_key_fingerprint(json_string_value(v), fp) >= 0;
                if (rem && has_fp && in_list(rem, fp)) {
                        json_array_append_new(hit, json_string(fp));
                        continue;
                }
                if (!rem || !in_list(rem, json_string_value(v)))
                        json_array_append(kc->keys, v);
        }
        json_array_foreach(rem, i, v) {
                const char *f = json_string_value(v);
                if (!fingerprint_like(f) || in_list(hit, f))
                        continue;
                account_invalid(err, 422, "remove_ssh_keys", "no key with the fingerprint %s", f);
                json_decref(kc->keys);
                kc->keys = NULL;
                return -EINVAL;
        }
        json_array_foreach(add, i, v) {
                if (!in_list(kc->keys, json_string_value(v)))
                        json_array_append(kc->keys, v);
        }
        return 0;
}

/* The new list of SSH keys, when the body changes it (kc->touched). */
static int modify_keys(json_t *body, const struct acct_user *u, struct keys_change *kc,
                       struct module_error *err) {
        _cleanup_(json_decrefp) json_t *set = NULL, *add = NULL, *rem = NULL;

        if ((json_object_get(body, "ssh_keys") &&
             parse_keys(json_object_get(body, "ssh_keys"), "ssh_keys", &set, err) < 0) ||
            (json_object_get(body, "add_ssh_keys") &&
             parse_keys(json_object_get(body, "add_ssh_keys"), "add_ssh_keys", &add, err) < 0) ||
            (json_object_get(body, "remove_ssh_keys") &&
             parse_removals(json_object_get(body, "remove_ssh_keys"), &rem, err) < 0))
                return -EINVAL;
        if (!set && !add && !rem)
                return 0;
        kc->touched = true;
        if (set) {
                kc->keys = json_incref(set);
                return 0;
        }
        return keys_edited(u->home, add, rem, kc, err);
}

/* The whole list of supplementary groups after groups, or the current
 * ones with remove_groups taken out and add_groups added. */
static json_t *groups_after(json_t *body, const struct acctdb *db, const char *name) {
        json_t *list = json_array(), *rem = json_object_get(body, "remove_groups"), *v;
        const char **cur = NULL;
        size_t n = 0, i;

        if (!list)
                return NULL;
        if (json_object_get(body, "groups")) {
                json_array_extend(list, json_object_get(body, "groups"));
                return list;
        }
        if (acctdb_member_of(db, name, &cur, &n) < 0) {
                json_decref(list);
                return NULL;
        }
        for (i = 0; i < n; i++)
                if (!in_list(rem, cur[i]) && !in_list(list, cur[i]))
                        json_array_append_new(list, json_string(cur[i]));
        free(cur);
        json_array_foreach(json_object_get(body, "add_groups"), i, v) {
                if (!in_list(list, json_string_value(v)))
                        json_array_append(list, v);
        }
        return list;
}

/* usermod with what the body changes of the passwd entry and the groups;
 * no command when it changes none of them. */
static int usermod_cmd(struct change_plan *e, json_t *body, const struct acctdb *db,
                       const char *name) {
        struct change_cmd *c = change_cmd(e, USERMOD);
        bool usermod = false;
        const char *s;

        if ((s = sget(body, "new_name"))) {
                change_argf(e, c, "--login=%s", s);
                usermod = true;
        }
        if ((s = sget(body, "full_name"))) {
                change_arg(e, c, "--comment");
                change_arg(e, c, s);
                usermod = true;
        }
        if ((s = sget(body, "shell"))) {
                change_arg(e, c, "--shell");
                change_arg(e, c, s);
                usermod = true;
        }
        if ((s = sget(body, "home"))) {
                change_arg(e, c, "--home");
                change_arg(e, c, s);
                if (json_is_true(json_object_get(body, "move_home")))
                        change_arg_where(e, c, "--move-home", CHANGE_ARG_REAL);
                usermod = true;
        }
        if ((s = sget(body, "group"))) {
                change_argf(e, c, "--gid=%s", s);
                usermod = true;
        }
        if (json_object_get(body, "groups") || json_object_get(body, "remove_groups") ||
            json_object_get(body, "add_groups")) {
                json_t *list = groups_after(body, db, name);
                if (!list)
                        return -ENOMEM;
                change_arg(e, c, "--groups");
                join_groups(e, c, list);
                json_decref(list);
                usermod = true;
        }
        if (json_object_get(body, "locked")) {
                change_arg(e, c,
                           json_is_true(json_object_get(body, "locked")) ? "--lock" : "--unlock");
                usermod = true;
        }
        change_arg(e, c, "--");
        change_arg(e, c, name);
        if (!usermod)
                change_cmd_drop(e); /* nothing for usermod */
        return 0;
}

/* Whether s is a date as chage takes it: YYYY-MM-DD. */
static bool chage_date_valid(const char *s) {
        return strlen(s) == 10 && strspn(s, "0123456789-") == 10 && s[4] == '-' && s[7] == '-';
}

/* chage with the body's "aging" object. */
static int aging_cmd(struct change_plan *e, json_t *aging, const char *final,
                     struct module_error *err) {
        static const struct {
                const char *key, *opt;
        } am[] = {{"min_days", "--mindays"},
                  {"max_days", "--maxdays"},
                  {"warn_days", "--warndays"},
                  {"inactive_days", "--inactive"}};
        struct change_cmd *c = change_cmd(e, CHAGE);
        const char *k;
        json_t *v;

        json_object_foreach(aging, k, v) {
                const char *opt = NULL;
                for (size_t i = 0; i < ELEMENTSOF(am); i++)
                        if (STREQ(am[i].key, k))
                                opt = am[i].opt;
                if (opt && json_is_integer(v) && json_integer_value(v) >= -1 &&
                    json_integer_value(v) <= 99999) {
                        change_arg(e, c, opt);
                        change_argf(e, c, "%lld", (long long)json_integer_value(v));
                } else if ((STREQ(k, "expires") || STREQ(k, "last_change")) &&
                           (json_is_null(v) ||
                            (json_is_string(v) && chage_date_valid(json_string_value(v))))) {
                        change_arg(e, c, STREQ(k, "expires") ? "--expiredate" : "--lastday");
                        change_arg(e, c, json_is_null(v) ? "-1" : json_string_value(v));
                } else {
                        module_error_set(err, 422, "invalid_argument", "aging",
                                         "aging.%.32s: min_days, max_days, warn_days and "
                                         "inactive_days are -1 to 99999; expires and "
                                         "last_change are YYYY-MM-DD or null",
                                         k);
                        return -EINVAL;
                }
        }
        change_arg(e, c, "--");
        change_arg(e, c, final);
        return 0;
}

/* The password, the expiry and the aging: commands after usermod, for
 * the account's final name. */
static int password_and_aging_cmds(struct change_plan *e, json_t *body, const char *final,
                                   char gen[], const char **ret_password,
                                   struct module_error *err) {
        json_t *aging = json_object_get(body, "aging"), *b2 = json_deep_copy(body);
        struct change_cmd *c;
        int r;

        if (!b2)
                return -ENOMEM;
        json_object_del(b2, "locked"); /* usermod's, not chpasswd's */
        r = password_cmds(e, final, b2, gen, ret_password, err);
        json_decref(b2);
        if (r < 0)
                return r;
        if (json_is_true(json_object_get(body, "expire_password"))) {
                c = change_cmd(e, CHAGE);
                change_arg(e, c, "--lastday");
                change_arg(e, c, "0");
                change_arg(e, c, "--");
                change_arg(e, c, final);
        }
        return aging ? aging_cmd(e, aging, final, err) : 0;
}

static int user_modify(const struct module_ctx *ctx, const char *name, json_t *body, bool dry_run,
                       const struct acctdb *db, const struct acct_user *u, json_t **ret,
                       struct module_error *err) {
        const char *password = NULL, *final = name;
        struct keys_change kc = {0};
        struct change_plan e;
        char gen[GEN_PASSWORD_LEN + 1];
        int r;

        r = modify_checks(body, db, name, &final, err);
        if (r < 0)
                return r;
        r = modify_keys(body, u, &kc, err);
        if (r < 0)
                return r;
        change_plan_init(&e);
        r = usermod_cmd(&e, body, db, name);
        if (r >= 0)
                r = password_and_aging_cmds(&e, body, final, gen, &password, err);
        if (r >= 0 && e.n_cmds == 0 && !kc.touched)
                r = account_invalid(err, 422, NULL, "nothing to change%s", "");
        if (r >= 0)
                r = finish(&e, ctx, dry_run, final, &kc, u->home, password, ret, err);
        change_plan_done(&e);
        json_decref(kc.keys);
        explicit_bzero(gen, sizeof gen);
        return r;
}

/* Whether /etc/passwd (not NSS: a directory may know the name too) still
 * holds name. */
static bool local_account_exists(const char *name) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, pos = 0, ll, nl = strlen(name);
        const char *line;

        if (read_file("/etc/passwd", 64u << 20, &text, &len) < 0)
                return true; /* unknown: do not claim it is gone */
        while (text_next_line(text, len, &pos, &line, &ll))
                if (ll > nl && line[nl] == ':' && memcmp(line, name, nl) == 0)
                        return true;
        return false;
}

/* What a delete did, said as it is.  userdel removes the account first and
 * the home and mail spool after: when it fails at that point (exit 12,
 * "error removing directory"), the account is gone all the same, and the
 * change is reported as done, with what was kept. */
static int delete_outcome(const char *name, const char *home, bool remove_home, int r, json_t *out,
                          struct module_error *err) {
        struct stat st;
        bool home_kept = remove_home && home && lstat(home, &st) == 0;
        json_t *res, *warnings;

        if (!json_object_get(json_object_get(out, "plan"), "applied"))
                return r;
        if (r < 0 && local_account_exists(name))
                return r; /* nothing was deleted: the error says why */
        warnings = json_array();
        if (r < 0)
                json_array_append_new(
                        warnings, json_sprintf("the account %s is deleted, but then %s%s%s", name,
                                               err->message,
                                               home_kept ? "; the home directory was kept: " : "",
                                               home_kept ? home : ""));
        res = json_pack("{s:b, s:b, s:o}", "deleted", true, "home_removed",
                        remove_home && !home_kept, "warnings", warnings);
        if (!res || json_object_set_new(out, "result", res) < 0)
                return -ENOMEM;
        *err = (struct module_error){0};
        return 0;
}

static int user_delete(const struct module_ctx *ctx, const char *name, json_t *query, bool dry_run,
                       const struct acct_user *u, json_t **ret, struct module_error *err) {
        bool remove_home = acct_query_flag(query, "remove_home");
        bool kill_procs = acct_query_flag(query, "kill_processes");
        pid_t pids[256];
        size_t n = procs_of(u->uid, pids, ELEMENTSOF(pids));
        struct change_plan e;
        struct change_cmd *c;
        int r;

        if (n > 0 && !kill_procs) {
                module_error_set(err, 409, "busy", "kill_processes",
                                 "%s has %zu running process%s (pid %d…); pass kill_processes=1 "
                                 "to end them",
                                 name, n, n == 1 ? "" : "es", (int)pids[0]);
                return -EBUSY;
        }
        change_plan_init(&e);
        if (n > 0)
                change_warn(&e, "%zu running process%s of %s will be killed", n, n == 1 ? "" : "es",
                            name);
        if (remove_home)
                change_warn(&e,
                            "the home directory %s and its contents will be deleted: this cannot "
                            "be undone (a rollback restores the account, not the files)",
                            u->home);
        c = change_cmd(&e, USERDEL);
        if (remove_home)
                change_arg_where(&e, c, "--remove", CHANGE_ARG_REAL);
        /* The processes are still there while planning; they are gone
         * before the real run. */
        if (n > 0)
                change_arg_where(&e, c, "--force", CHANGE_ARG_STAGE);
        change_arg(&e, c, "--");
        change_arg(&e, c, name);
        if (!dry_run && n > 0) {
                /* The guards first: a refused delete must kill nothing. */
                json_t *probe = NULL;
                r = account_change_run(&e, true, acct_guard, (void *)caller(ctx), &probe, err);
                json_decref(probe);
                if (r < 0) {
                        change_plan_done(&e);
                        return r;
                }
                /* Until they are gone (bounded: a process in D state may
                 * linger, and userdel then says so). */
                for (int tries = 0; tries < 50 && procs_of(u->uid, pids, 1) > 0; tries++) {
                        if (tries % 10 == 0)
                                kill_procs_of(u->uid);
                        usleep(20000);
                }
        }
        r = finish(&e, ctx, dry_run, name, &(struct keys_change){0}, NULL, NULL, ret, err);
        if (*ret)
                json_object_del(*ret, "result");
        if (*ret && !dry_run)
                r = delete_outcome(name, u->home, remove_home, r, *ret, err);
        change_plan_done(&e);
        return r;
}

int users_write(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                json_t *query, bool dry_run, json_t **ret, struct module_error *err) {
        struct acctdb db;
        const struct acct_user *u = NULL;
        int r;

        *ret = NULL;
        r = check_body(body, op == COLLECTION_CREATE ? 1 : op == COLLECTION_MODIFY ? 2 : 0, err);
        if (r < 0)
                return r;
        if (op == COLLECTION_DELETE && json_object_size(body) > 0)
                return account_invalid(err, 400, NULL, "delete takes no body%s", "");
        r = acctdb_load(&db, false);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read the accounts: %s",
                                 strerror(-r));
                return r;
        }
        /* "group" may be a number, as useradd's --gid takes one. */
        {
                const char *gs = sget(body, "group");
                uint64_t v;
                const struct acct_group *pg;
                if (gs && gs[0] >= '0' && gs[0] <= '9' && safe_atou64(gs, &v) >= 0 &&
                    v <= UINT32_MAX && (pg = acctdb_group_by_gid(&db, (uint32_t)v)))
                        json_object_set_new(body, "group", json_string(pg->name));
        }
        if (op != COLLECTION_CREATE) {
                bool force = json_is_true(json_object_get(body, "force")) ||
                             acct_query_flag(query, "force");
                u = account_name_valid(id) ? acctdb_user(&db, id) : NULL;
                if (!u) {
                        module_error_set(err, 404, "not_found", NULL, "no user \"%.64s\"", id);
                        r = -ENOENT;
                        goto out;
                }
                if (!u->local) {
                        module_error_set(err, 409, "not_local", NULL,
                                         "%s comes from a directory service (NSS), not the local "
                                         "files: change it there",
                                         id);
                        r = -EPERM;
                        goto out;
                }
                if ((u->uid == 0 || u->uid < db.defs.uid_min) && !force) {
                        module_error_set(err, 409, "system_account", "force",
                                         "%s is %s (uid %u, below UID_MIN %u): pass force to "
                                         "change it",
                                         id, u->uid == 0 ? "root" : "a system account", u->uid,
                                         db.defs.uid_min);
                        r = -EPERM;
                        goto out;
                }
        }
        if (op == COLLECTION_CREATE)
                r = user_create(ctx, body, dry_run, &db, ret, err);
        else if (op == COLLECTION_MODIFY)
                r = user_modify(ctx, id, body, dry_run, &db, u, ret, err);
        else
                r = user_delete(ctx, id, query, dry_run, u, ret, err);
out:
        acctdb_done(&db);
        return r;
}
