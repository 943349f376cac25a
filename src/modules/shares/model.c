/* model.c — the share points as the files say they are, and a share point
 * checked whole before anything is written.
 *
 * The files are the truth: there is no database beside them.  Steward's
 * share points are the sections of its Samba include file (a share whose
 * SMB is off stays there with `available = no`, so that it keeps its name,
 * folder and comment), joined by name with their NFS exports from
 * /etc/exports.d/steward.exports; smb.conf's own shares are listed beside
 * them, read-only.  The roots come from /etc/steward/shares.conf (one
 * `root = PATH` line each; none: /srv).
 *
 * share_merge checks what a request may say (types, grammars, members);
 * share_check_system checks what depends on the machine (the folder,
 * Samba's modules, the NFS tools).  Both fill a 422 naming the field. */
#include "modules/shares/model.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/shares/exports.h"
#include "modules/shares/folder.h"
#include "modules/shares/names.h"
#include "modules/shares/shares.h"
#include "modules/shares/smbconf.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* Folders never shared, nor any folder inside them: the system's own, and
 * the state of Steward, Samba and the NFS server (their databases would be
 * served to whoever the share admits). */
static const char *const never_shared[] = {
        "/etc",         "/root",          "/proc",        "/sys",         "/dev",
        "/boot",        "/run",           "/usr",         "/bin",         "/sbin",
        "/lib",         "/lib32",         "/lib64",       "/libx32",      "/tmp",
        "/var/tmp",     "/var/lib/steward", "/var/lib/samba", "/var/lib/nfs", "/var/cache",
        "/var/log",     "/var/spool",     "/var/mail",
};

static bool under(const char *path, const char *dir);

const char *share_path_forbidden(const char *path) {
        if (STREQ(path, "/") || STREQ(path, "/var") || STREQ(path, "/var/lib"))
                return path;
        for (size_t i = 0; i < ELEMENTSOF(never_shared); i++)
                if (under(path, never_shared[i]))
                        return never_shared[i];
        return NULL;
}

bool share_root_valid(const char *s) {
        size_t n = strlen(s);

        return path_plain_absolute(s, n) && n < SETTING_LIST_ITEM_MAX && !share_path_forbidden(s);
}

static int read_opt(const char *path, size_t max, char **ret, struct module_error *err) {
        int r = read_file(path, max, ret, NULL);

        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0) {
                errno = -r;
                module_error_set(err, r == -E2BIG ? 409 : 500, "invalid_config", NULL,
                                 "cannot read %s: %m", path);
        }
        return r;
}

static int roots_parse(const char *text, json_t *roots) {
        _cleanup_free_ char *copy = text ? strdup(text) : NULL;
        char *save = NULL;

        if (text && !copy)
                return -ENOMEM;
        if (copy)
                for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char *eq = strchr(l, '='), *v;
                        size_t n;
                        if (*l == '#' || !eq || strncmp(l, "root", 4) != 0 ||
                            strspn(l + 4, " \t") != (size_t)(eq - l - 4))
                                continue;
                        v = eq + 1;
                        v += strspn(v, " \t");
                        n = strlen(v);
                        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                                v[--n] = '\0';
                        if (share_root_valid(v) && json_array_size(roots) < SHARE_ROOTS_MAX &&
                            json_array_append_new(roots, json_string(v)) < 0)
                                return -ENOMEM;
                }
        if (json_array_size(roots) == 0 && json_array_append_new(roots, json_string("/srv")) < 0)
                return -ENOMEM;
        return 0;
}

void state_done(struct shares_state *s) {
        free(s->smbconf);
        free(s->include);
        free(s->exports);
        free(s->avahi);
        free(s->conf);
        json_decref(s->smb_sections);
        json_decref(s->globals);
        json_decref(s->shares);
        json_decref(s->foreign);
        json_decref(s->roots);
        *s = (struct shares_state){0};
}

static int load_shares(struct shares_state *s, json_t *inc, json_t *nfs) {
        size_t i;
        json_t *sec;

        json_array_foreach(inc, i, sec) {
                const char *name = json_string_value(json_object_get(sec, "name"));
                json_t *share, *e;

                if (strcasecmp(name, "global") == 0) {
                        const char *k;
                        json_t *v, *names = json_object_get(sec, "names");
                        json_object_foreach(json_object_get(sec, "params"), k, v)
                                json_object_set(s->globals,
                                                json_string_value(json_object_get(names, k)) ?: k,
                                                v);
                        continue;
                }
                share = share_from_section(sec, "steward");
                if (!share)
                        return -ENOMEM;
                e = json_object_get(nfs, name);
                json_object_set_new(share, "nfs",
                                    e ? json_pack("{s:b, s:O}", "enabled", true, "clients",
                                                  json_object_get(e, "clients"))
                                      : json_pack("{s:b, s:[]}", "enabled", false, "clients"));
                if (json_array_append_new(s->shares, share) < 0)
                        return -ENOMEM;
        }
        json_array_foreach(s->smb_sections, i, sec) {
                const char *name = json_string_value(json_object_get(sec, "name"));
                json_t *share;

                if (strcasecmp(name, "global") == 0)
                        continue;
                share = share_from_section(sec, "smb.conf");
                if (!share)
                        return -ENOMEM;
                json_object_set_new(share, "nfs", json_pack("{s:b, s:[]}", "enabled", false,
                                                            "clients"));
                if (json_array_append_new(s->foreign, share) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int state_load(struct shares_state *s, struct module_error *err) {
        _cleanup_json_ json_t *inc = NULL, *nfs = NULL;
        int r;

        *s = (struct shares_state){0};
        if ((r = read_opt(SMB_CONF, SMBCONF_MAX, &s->smbconf, err)) < 0 ||
            (r = read_opt(SMB_INCLUDE, SMBCONF_MAX, &s->include, err)) < 0 ||
            (r = read_opt(EXPORTS_FILE, EXPORTS_MAX, &s->exports, err)) < 0 ||
            (r = read_opt(AVAHI_FILE, 256 * 1024, &s->avahi, err)) < 0 ||
            (r = read_opt(SHARES_CONF, 64 * 1024, &s->conf, err)) < 0)
                goto fail;
        s->globals = json_object();
        s->shares = json_array();
        s->foreign = json_array();
        s->roots = json_array();
        if (!s->globals || !s->shares || !s->foreign || !s->roots ||
            smbconf_parse(s->smbconf, &s->smb_sections) < 0 || smbconf_parse(s->include, &inc) < 0 ||
            exports_parse(s->exports, &nfs) < 0 || roots_parse(s->conf, s->roots) < 0 ||
            load_shares(s, inc, nfs) < 0) {
                r = oom(err);
                goto fail;
        }
        return 0;
fail:
        state_done(s);
        return r;
}

json_t *state_find(const struct shares_state *s, const char *name, bool *ret_foreign,
                   size_t *ret_index) {
        json_t *lists[] = {s->shares, s->foreign}, *x;
        size_t i;

        for (size_t l = 0; l < 2; l++)
                json_array_foreach(lists[l], i, x)
                        if (strcasecmp(json_string_value(json_object_get(x, "name")), name) == 0) {
                                if (ret_foreign)
                                        *ret_foreign = l == 1;
                                if (ret_index)
                                        *ret_index = i;
                                return x;
                        }
        return NULL;
}

/* ---- a request's fields --------------------------------------------------------------- */

static int bad(struct module_error *err, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int bad(struct module_error *err, const char *field, const char *fmt, ...) {
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        module_error_set(err, 422, "invalid_value", field, "%s: %s", field, msg);
        return -EINVAL;
}

static int check_names(json_t *list, const char *field, size_t max,
                       bool (*valid)(const char *), const char *what,
                       struct module_error *err) {
        size_t i;
        json_t *v;

        if (!json_is_array(list) || json_array_size(list) > max)
                return bad(err, field, "a list of at most %zu %ss", max, what);
        json_array_foreach(list, i, v) {
                const char *s = json_string_value(v);
                if (!s || !valid(s))
                        return bad(err, field, "not a valid %s", what);
                for (size_t j = 0; j < i; j++)
                        if (STREQ(json_string_value(json_array_get(list, j)), s))
                                return bad(err, field, "%s named twice", what);
        }
        return 0;
}

static const char *const smb_bools[] = {"enabled",  "read_only",      "guest_ok",
                                        "browseable", "hide_dot_files", "encryption_required",
                                        "time_machine"};

static int merge_smb(json_t *smb, json_t *patch, struct module_error *err) {
        const char *k;
        json_t *v;
        char field[64];

        if (!json_is_object(patch))
                return bad(err, "smb", "%s", "an object of SMB settings");
        json_object_foreach(patch, k, v) {
                bool known = false;
                snprintf(field, sizeof field, "smb.%.50s", k);
                for (size_t i = 0; i < ELEMENTSOF(smb_bools); i++)
                        if (STREQ(k, smb_bools[i])) {
                                if (!json_is_boolean(v))
                                        return bad(err, field, "%s", "true or false");
                                known = true;
                        }
                if (STREQ(k, "valid_users") || STREQ(k, "write_list")) {
                        if (check_names(v, field, 64, share_principal_valid,
                                        "user or @group name", err) < 0)
                                return -EINVAL;
                        known = true;
                } else if (STREQ(k, "veto_files")) {
                        if (check_names(v, field, 32, share_veto_valid,
                                        "name pattern (no /, \\, % or \")", err) < 0)
                                return -EINVAL;
                        known = true;
                } else if (STREQ(k, "case_sensitive")) {
                        const char *s = json_string_value(v);
                        if (!s || !(STREQ(s, "auto") || STREQ(s, "yes") || STREQ(s, "no")))
                                return bad(err, field, "%s", "auto, yes or no");
                        known = true;
                } else if (STREQ(k, "time_machine_max_size")) {
                        const char *s = json_string_value(v);
                        if (!s || (*s && share_size_parse(s, NULL) < 0))
                                return bad(err, field, "%s",
                                           "a size such as 500G or 2T (1–6 digits and K, M, G, "
                                           "T or P), or empty for no limit");
                        known = true;
                }
                if (!known) {
                        module_error_set(err, 422, "unknown_field", field,
                                         "a share's SMB settings have no member %.50s", k);
                        return -EINVAL;
                }
                if (json_object_set(smb, k, v) < 0)
                        return oom(err);
        }
        return 0;
}

static int merge_nfs(json_t *nfs, json_t *patch, struct module_error *err) {
        const char *k;
        json_t *v;

        if (!json_is_object(patch))
                return bad(err, "nfs", "%s", "an object of NFS settings");
        json_object_foreach(patch, k, v) {
                if (STREQ(k, "enabled")) {
                        if (!json_is_boolean(v))
                                return bad(err, "nfs.enabled", "%s", "true or false");
                        json_object_set(nfs, k, v);
                } else if (STREQ(k, "clients")) {
                        _cleanup_json_ json_t *out = json_array();
                        size_t i;
                        json_t *c;
                        if (!json_is_array(v) || json_array_size(v) > 64)
                                return bad(err, "nfs.clients", "%s",
                                           "a list of at most 64 clients");
                        json_array_foreach(v, i, c) {
                                const char *member = "host";
                                char why[200], field[64];
                                json_t *n = NULL;
                                int r = exports_client_norm(c, &n, &member, why, sizeof why);
                                if (r == -ENOMEM)
                                        return oom(err);
                                snprintf(field, sizeof field, "nfs.clients[%zu].%s", i, member);
                                if (r < 0)
                                        return bad(err, field, "%s", why);
                                for (size_t j = 0; j < json_array_size(out); j++)
                                        if (STREQ(json_string_value(json_object_get(
                                                          json_array_get(out, j), "host")),
                                                  json_string_value(json_object_get(n, "host")))) {
                                                json_decref(n);
                                                return bad(err, field, "%s",
                                                           "this client is listed twice");
                                        }
                                json_array_append_new(out, n);
                        }
                        json_object_set(nfs, k, out);
                } else {
                        char field[64];
                        snprintf(field, sizeof field, "nfs.%.50s", k);
                        module_error_set(err, 422, "unknown_field", field,
                                         "a share's NFS settings have no member %.50s", k);
                        return -EINVAL;
                }
        }
        return 0;
}

static json_t *share_defaults(void) {
        return json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:b, s:[], s:[], s:b, s:b, s:b, s:[], "
                         "s:b, s:s, s:b, s:s}, s:{s:b, s:[]}, s:{}}",
                         "name", "", "path", "", "comment", "", "source", "steward", "smb",
                         "enabled", true, "read_only", true, "valid_users", "write_list",
                         "guest_ok", false, "browseable", true, "hide_dot_files", true,
                         "veto_files", "encryption_required", false, "case_sensitive", "auto",
                         "time_machine", false, "time_machine_max_size", "", "nfs", "enabled",
                         false, "clients", "extra");
}

int share_merge(json_t *share, json_t *body, bool create, json_t **ret,
                struct module_error *err) {
        _cleanup_json_ json_t *out = create ? share_defaults() : json_deep_copy(share);
        const char *k;
        json_t *v;

        if (!out)
                return oom(err);
        if (!json_is_object(body)) {
                module_error_set(err, 400, "bad_request", NULL, "the body is a JSON object");
                return -EINVAL;
        }
        json_object_foreach(body, k, v) {
                if (STREQ(k, "name")) {
                        const char *s = json_string_value(v);
                        if (!create) {
                                if (!s || strcasecmp(s, json_string_value(json_object_get(
                                                                out, "name"))) != 0)
                                        return bad(err, "name", "%s",
                                                   "a share is renamed by deleting it and "
                                                   "adding it under the new name");
                                continue;
                        }
                        if (!s || !share_name_valid(s))
                                return bad(err, "name", "%s",
                                           "1–80 bytes, none of []/\\:*?\"<>|%,;=#, no space "
                                           "at either end, no leading -, not global, homes, "
                                           "printers, ipc$ or print$");
                        json_object_set(out, "name", v);
                } else if (STREQ(k, "path")) {
                        const char *s = json_string_value(v);
                        if (!s || !share_path_valid(s))
                                return bad(err, "path", "%s",
                                           "an absolute path without ., .., // or a trailing "
                                           "/ or space (and no %, \\, \" or control "
                                           "characters)");
                        json_object_set(out, "path", v);
                } else if (STREQ(k, "comment")) {
                        const char *s = json_string_value(v);
                        if (!s || !share_comment_valid(s))
                                return bad(err, "comment", "%s",
                                           "at most 255 bytes of printable text, no %");
                        json_object_set(out, "comment", v);
                } else if (STREQ(k, "smb")) {
                        if (merge_smb(json_object_get(out, "smb"), v, err) < 0)
                                return -EINVAL;
                } else if (STREQ(k, "nfs")) {
                        if (merge_nfs(json_object_get(out, "nfs"), v, err) < 0)
                                return -EINVAL;
                } else if (STREQ(k, "source")) {
                        if (!json_is_string(v) || !STREQ(json_string_value(v), "steward"))
                                return bad(err, "source", "%s",
                                           "only \"steward\" (import a share from smb.conf)");
                        json_object_set(out, "source", v);
                } else {
                        module_error_set(err, 422, "unknown_field", k,
                                         "a share has no writable field %.60s", k);
                        return -EINVAL;
                }
        }
        if (create && !*json_string_value(json_object_get(out, "name")))
                return bad(err, "name", "%s", "required");
        if (!*json_string_value(json_object_get(out, "path")))
                return bad(err, "path", "%s", "required");
        *ret = json_incref(out);
        return 0;
}

/* ---- the system ------------------------------------------------------------------------ */

bool samba_installed(void) {
        return access("/usr/sbin/smbd", X_OK) == 0 && access("/usr/bin/testparm", X_OK) == 0;
}

bool samba_vfs_fruit_installed(void) {
        glob_t g;
        bool found;

        found = glob("/usr/lib/*/samba/vfs/fruit.so", GLOB_NOSORT, NULL, &g) == 0 ||
                glob("/usr/lib/samba/vfs/fruit.so", GLOB_NOSORT, NULL, &g) == 0;
        globfree(&g);
        return found;
}

bool smbd_may_run(void) {
        /* smbd writes its pid file in its pid directory as it starts (even
         * in the foreground); without one there is nothing to talk to, and
         * smbcontrol would only leave its sockets behind. */
        return access("/run/samba/smbd.pid", F_OK) == 0 &&
               access("/usr/bin/smbcontrol", X_OK) == 0;
}

bool nfs_tools_installed(void) {
        return access("/usr/sbin/exportfs", X_OK) == 0;
}

static bool under(const char *path, const char *dir) {
        size_t n = strlen(dir);

        if (STREQ(dir, "/"))
                return true;
        return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* A login user's home directory that holds path (uid ≥ 1000), in *ret_user. */
static bool in_a_home(const char *path, char *ret_user, size_t len) {
        struct passwd *pw;
        bool found = false;

        setpwent();
        while (!found && (pw = getpwent()))
                if (pw->pw_uid >= 1000 && pw->pw_uid != 65534 && pw->pw_dir &&
                    !STREQ(pw->pw_dir, "/") && pw->pw_dir[0] == '/' && under(path, pw->pw_dir)) {
                        snprintf(ret_user, len, "%s", pw->pw_name);
                        found = true;
                }
        endpwent();
        return found;
}

/* Whether every folder above path is root's and writable by root alone,
 * so that nobody else can replace the shared folder (or one above it) by
 * a link after it was checked: Samba and the NFS server follow the path
 * anew at each connection.  The first that is not, in ret. */
static bool ancestors_safe(const char *path, char *ret, size_t len) {
        char dir[PATH_MAX];
        struct stat st;

        snprintf(dir, sizeof dir, "%s", path);
        for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
                if (slash == dir)
                        slash[1] = '\0';
                else
                        *slash = '\0';
                if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
                    (st.st_mode & 022)) {
                        snprintf(ret, len, "%s", dir);
                        return false;
                }
                if (slash == dir)
                        break;
        }
        return true;
}

static int check_folder(const struct shares_state *s, json_t *share, struct module_error *err) {
        const char *path = json_string_value(json_object_get(share, "path"));
        _cleanup_free_ char *real = NULL;
        json_t *smb = json_object_get(share, "smb"), *vu = json_object_get(smb, "valid_users");
        char user[64], above[PATH_MAX];
        struct stat st;
        bool inside = false;
        size_t i;
        json_t *root;

        if (STREQ(path, "/"))
                return bad(err, "path", "%s", "the root folder is never shared");
        if (share_path_forbidden(path))
                return bad(err, "path", "%s is a system folder and is never shared",
                           share_path_forbidden(path));
        json_array_foreach(s->roots, i, root)
                inside |= under(path, json_string_value(root));
        if (!inside)
                return bad(err, "path", "%s",
                           "not under the folders shares may be made in (shares:roots)");
        if (lstat(path, &st) < 0)
                return bad(err, "path", "%s",
                           errno == ENOENT ? "no such folder (make it first)"
                                           : "cannot be looked at");
        if (S_ISLNK(st.st_mode))
                return bad(err, "path", "%s", "a symbolic link: give the folder it points to");
        if (!S_ISDIR(st.st_mode))
                return bad(err, "path", "%s", "not a folder");
        real = realpath(path, NULL);
        if (!real || !STREQ(real, path))
                return bad(err, "path", "%s",
                           "goes through a symbolic link: give the folder's real path");
        if (!ancestors_safe(path, above, sizeof above))
                return bad(err, "path",
                           "%.200s is not root's or may be written by others: whoever can write "
                           "it could swap the folder for a link to any other one",
                           above);
        if (in_a_home(path, user, sizeof user) &&
            !(json_array_size(vu) == 1 && STREQ(json_string_value(json_array_get(vu, 0)), user) &&
              !json_is_true(json_object_get(json_object_get(share, "nfs"), "enabled"))))
                return bad(err, "path", "%s",
                           "inside a user's home folder: only that user's own SMB share (allowed "
                           "users: that user alone, no NFS) may be made there");
        return 0;
}

int share_check_system(const struct shares_state *s, json_t *share, struct module_error *err) {
        json_t *smb = json_object_get(share, "smb"), *nfs = json_object_get(share, "nfs");
        const char *name = json_string_value(json_object_get(share, "name"));
        const char *path = json_string_value(json_object_get(share, "path"));
        size_t i;
        json_t *x;

        if (check_folder(s, share, err) < 0)
                return -EINVAL;
        if (json_is_true(json_object_get(smb, "enabled")) && !samba_installed())
                return bad(err, "smb.enabled", "%s",
                           "Samba is not installed (apt install samba)");
        if (json_is_true(json_object_get(smb, "enabled")) &&
            json_is_true(json_object_get(smb, "time_machine")) && !samba_vfs_fruit_installed())
                return bad(err, "smb.time_machine", "%s",
                           "Samba's Apple modules are missing: without them Macs cannot "
                           "connect (apt install samba-vfs-modules)");
        if (json_is_true(json_object_get(nfs, "enabled"))) {
                if (!nfs_tools_installed())
                        return bad(err, "nfs.enabled", "%s",
                                   "the NFS server is not installed (apt install "
                                   "nfs-kernel-server)");
                if (json_array_size(json_object_get(nfs, "clients")) == 0)
                        return bad(err, "nfs.clients", "%s",
                                   "an NFS export needs at least one client");
                json_array_foreach(s->shares, i, x)
                        if (strcasecmp(json_string_value(json_object_get(x, "name")), name) &&
                            json_is_true(json_object_get(json_object_get(x, "nfs"), "enabled")) &&
                            STREQ(json_string_value(json_object_get(x, "path")), path)) {
                                module_error_set(err, 409, "conflict", "path",
                                                 "path: %s is already exported over NFS by the "
                                                 "share %s",
                                                 path, json_string_value(json_object_get(x, "name")));
                                return -EEXIST;
                        }
        }
        return 0;
}

/* ---- as the API answers ------------------------------------------------------------------ */

json_t *share_decorate(json_t *share) {
        json_t *out = json_deep_copy(share), *smb, *nfs, *warnings, *folder = NULL, *writers = NULL;
        struct module_error e = {0};
        const char *path;
        char protocols[32];
        bool s, n, tm;

        if (!out)
                return NULL;
        smb = json_object_get(out, "smb");
        nfs = json_object_get(out, "nfs");
        path = json_string_value(json_object_get(out, "path"));
        s = json_is_true(json_object_get(smb, "enabled"));
        n = json_is_true(json_object_get(nfs, "enabled"));
        tm = s && json_is_true(json_object_get(smb, "time_machine"));
        snprintf(protocols, sizeof protocols, "%s%s", s && n ? "smb+nfs" : s ? "smb" : n ? "nfs" : "none",
                 tm ? "+tm" : "");
        warnings = json_array();
        if (s && json_is_true(json_object_get(smb, "guest_ok")))
                json_array_append_new(warnings,
                                      json_string("guest access is on: anyone who reaches the "
                                                  "server can connect without a password"));
        if (!*path) {
                /* [homes]: each user's own home, no one folder. */
        } else if (folder_describe(path, &folder, &e) < 0) {
                json_array_append_new(warnings, json_string(e.message[0] ? e.message
                                                                         : "the folder cannot "
                                                                           "be read"));
                folder = NULL; /* no "folder": the warning says why */
        } else if (s && !json_is_true(json_object_get(smb, "read_only")) &&
                   json_array_size(json_object_get(smb, "valid_users")) > 0 &&
                   folder_writable_by(path, json_object_get(smb, "valid_users"), &writers, &e) >= 0 &&
                   json_array_size(writers) == 0)
                json_array_append_new(warnings,
                                      json_string("a read-write share on a folder none of its "
                                                  "allowed users can write: change the folder's "
                                                  "owner, group, mode or ACL"));
        json_decref(writers);
        if (tm && !samba_vfs_fruit_installed())
                json_array_append_new(warnings,
                                      json_string("Time Machine needs Samba's Apple modules: "
                                                  "apt install samba-vfs-modules"));
        if (n) {
                size_t i;
                json_t *c;
                json_array_foreach(json_object_get(nfs, "clients"), i, c) {
                        const char *host = json_string_value(json_object_get(c, "host"));
                        char w[400];
                        json_t *o;
                        size_t k;
                        bool rw = false, no_squash = false;
                        json_array_foreach(json_object_get(c, "options"), k, o) {
                                rw |= STREQ(json_string_value(o), "rw");
                                no_squash |= STREQ(json_string_value(o), "no_root_squash");
                        }
                        if (STREQ(host, "*")) {
                                snprintf(w, sizeof w, "exported over NFS to every host%s",
                                         rw ? ", writable" : "");
                                json_array_append_new(warnings, json_string(w));
                        }
                        if (no_squash) {
                                snprintf(w, sizeof w,
                                         "no_root_squash for %s: root on that client is root on "
                                         "the folder",
                                         host);
                                json_array_append_new(warnings, json_string(w));
                        }
                }
        }
        if (n && !nfs_tools_installed())
                json_array_append_new(warnings,
                                      json_string("the NFS server is not installed"));
        if (STREQ(json_string_value(json_object_get(out, "source")) ?: "", "smb.conf"))
                /* [homes], [printers], [print$]: Samba's own, not share points. */
                json_object_set_new(out, "importable",
                                    json_boolean(*path && share_name_valid(json_string_value(
                                                                  json_object_get(out, "name")))));
        json_object_set_new(out, "protocols", json_string(protocols));
        if (folder)
                json_object_set_new(out, "folder", folder);
        json_object_set_new(out, "warnings", warnings);
        if (json_object_size(json_object_get(out, "extra")) == 0)
                json_object_del(out, "extra");
        return out;
}
