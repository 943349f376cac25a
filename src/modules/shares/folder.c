/* folder.c — a share's folder: who owns it, its mode and POSIX ACLs, who of
 * a share's allowed users can write it, changing them (the share action
 * `folder`) and putting them back (audit rollback), and the folders under
 * the roots for the console's folder picker.
 *
 * Everything here runs in the privileged helper, as root, on folders that
 * ordinary users may own.  So every folder is opened once, with
 * O_DIRECTORY|O_NOFOLLOW, and everything is read and changed through that
 * descriptor (fstat, fchown, fchmod, acl_get_fd/acl_set_fd, and the default
 * ACL through /proc/self/fd/N, which names the same inode): a link swapped
 * in after the checks cannot redirect a write.  A path that must be
 * canonical (a share's folder, the picker's `under`) is checked after the
 * open: /proc/self/fd/N must read back as exactly that path, so no
 * component of it was a link when it was opened.  The descriptor is
 * O_RDONLY rather than O_PATH because fchown, fchmod and acl_set_fd take
 * it as it is; O_DIRECTORY refuses anything that is not a directory before
 * it is opened, so opening has no side effect (no FIFO, no device).
 *
 * The change is made with these system calls rather than by running
 * chown/chmod/setfacl: those tools take a path and resolve it again, after
 * our checks (setfacl follows links in every component), while a checked
 * descriptor cannot be redirected.  The ACL text grammar is setfacl's
 * --set (a whole ACL: u::, g:: and o:: required, mask computed when
 * absent, the default ACL's base entries copied from the access ACL's),
 * parsed strictly here and built with libacl's entry API.  libacl rather
 * than the raw system.posix_acl_* attributes: reading a folder's two ACLs
 * cost the same either way here (about 13-18 µs with the open and fstat),
 * and libacl owns that binary format.
 *
 * A folder's state is one text, getfacl's form with the mode:
 *
 *     # folder: /srv/projects
 *     # owner: alice
 *     # group: staff
 *     # mode: 2775
 *     user::rwx
 *     group:staff:rwx
 *     …
 *     default:user::rwx
 *
 * The action's plan carries it as one file entry for the folder's path
 * (before → after, "module_restore": true), which the audit record keeps;
 * a rollback reads the folder's state now with folder_read (the change
 * engine's conflict check, module_t.file_read) and puts the "before" state
 * back with folder_restore (module_t.file_restore).  Owner, group and
 * named entries are recorded by name (a number when there is none), so a
 * rollback after such a name was removed is refused (422), never applied
 * to whoever has the number now.
 *
 * Mode rule: a mode or ACL that leaves the folder writable by everyone
 * (other::w) without the sticky bit is refused: in a shared folder anyone
 * could then delete or replace anyone's files.  With the sticky bit set
 * (1777, as /tmp) it is allowed.
 */
#include <acl/libacl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change.h"
#include "modules/shares/folder.h"
#include "modules/shares/names.h"
#include "modules/shares/shares.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define FOLDER_ACL_MAX   64     /* entries of one ACL that we handle */
#define FOLDER_LIST_MAX  1000   /* folders the picker answers */
#define FOLDER_SCAN_MAX  100000 /* directory entries the picker reads */
#define FOLDER_NAME_MAX  32     /* a user or group name (Debian's useradd) */
#define FOLDER_WHO_MAX   64     /* allowed users and groups judged */
#define FOLDER_STATE_MAX 8192   /* a state text */
#define NSS_BUF          16384

enum { P_R = 4, P_W = 2, P_X = 1 };

struct acl_ent {
        acl_tag_t tag;
        unsigned id; /* ACL_USER, ACL_GROUP */
        unsigned perm;
};

struct acl_list {
        struct acl_ent e[FOLDER_ACL_MAX];
        size_t n;
};

struct folder_state {
        uid_t uid;
        gid_t gid;
        mode_t mode; /* 07777 */
        struct acl_list acc, def;
};

static void acl_freep(acl_t *a) {
        if (*a)
                acl_free(*a);
}
#define _cleanup_acl_ _cleanup_(acl_freep)

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "out of memory");
        return -ENOMEM;
}

/* ---- names ------------------------------------------------------------------------- */

/* A decimal id below 2^31 - 1 (the invalid (uid_t)-1 excluded). */
static bool id_parse(const char *s, size_t n, unsigned *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 10)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v >= INT32_MAX)
                return false;
        *ret = (unsigned)v;
        return true;
}

static int user_id(const char *name, uid_t *ret) {
        char buf[NSS_BUF];
        struct passwd pw, *res = NULL;
        int e = getpwnam_r(name, &pw, buf, sizeof buf, &res);

        if (e != 0 && e != ENOENT && e != ESRCH)
                return -e;
        if (!res)
                return -ENOENT;
        *ret = res->pw_uid;
        return 0;
}

static int group_id(const char *name, gid_t *ret) {
        char buf[NSS_BUF];
        struct group gr, *res = NULL;
        int e = getgrnam_r(name, &gr, buf, sizeof buf, &res);

        if (e != 0 && e != ENOENT && e != ESRCH)
                return -e;
        if (!res)
                return -ENOENT;
        *ret = res->gr_gid;
        return 0;
}

/* The name of a uid or gid, or its number when it has none. */
static void id_name(bool user, unsigned id, char *out, size_t len) {
        char buf[NSS_BUF];
        const char *name = NULL;

        if (user) {
                struct passwd pw, *res = NULL;
                if (getpwuid_r((uid_t)id, &pw, buf, sizeof buf, &res) == 0 && res)
                        name = res->pw_name;
        } else {
                struct group gr, *res = NULL;
                if (getgrgid_r((gid_t)id, &gr, buf, sizeof buf, &res) == 0 && res)
                        name = res->gr_name;
        }
        if (name && account_name_valid_n(name, strlen(name)))
                snprintf(out, len, "%s", name);
        else
                snprintf(out, len, "%u", id);
}

/* A user (user true) or group by name of the grammar, or by number. */
static int qualifier_parse(bool user, const char *s, size_t n, unsigned *ret) {
        char name[FOLDER_NAME_MAX + 1];
        uid_t uid;
        gid_t gid;
        int r;

        if (id_parse(s, n, ret))
                return 0;
        if (!account_name_valid_n(s, n))
                return -EINVAL;
        memcpy(name, s, n);
        name[n] = '\0';
        r = user ? user_id(name, &uid) : group_id(name, &gid);
        if (r < 0)
                return r;
        *ret = user ? (unsigned)uid : (unsigned)gid;
        return 0;
}

/* ---- the grammars -------------------------------------------------------------- */

/* An octal mode of 1 to 4 digits, 0 to 7777. */
static bool folder_mode_parse(const char *s, mode_t *ret) {
        size_t n = s ? strnlen(s, 5) : 0;
        mode_t m = 0;

        if (n == 0 || n > 4)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '7')
                        return false;
                m = (mode_t)(m * 8 + (mode_t)(s[i] - '0'));
        }
        *ret = m;
        return true;
}

/* Permissions: r, w, x or -, each letter at most once, 1 to 3 of them, in
 * any order ("rwx", "r-x", "rx", "-"). */
static bool perm_parse(const char *s, size_t n, unsigned *ret) {
        unsigned p = 0;

        if (n == 0 || n > 3)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned bit = s[i] == 'r' ? P_R : s[i] == 'w' ? P_W : s[i] == 'x' ? P_X : 0;
                if (s[i] == '-')
                        continue;
                if (!bit || (p & bit))
                        return false;
                p |= bit;
        }
        *ret = p;
        return true;
}

static const struct {
        const char *s, *l;
        acl_tag_t named, obj;
} tags[] = {
        {"u", "user", ACL_USER, ACL_USER_OBJ},
        {"g", "group", ACL_GROUP, ACL_GROUP_OBJ},
        {"m", "mask", ACL_UNDEFINED_TAG, ACL_MASK},
        {"o", "other", ACL_UNDEFINED_TAG, ACL_OTHER},
};

static bool word_is(const char *s, size_t n, const char *w) {
        return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* One entry, [d:|default:](u|user|g|group|m|mask|o|other):[QUALIFIER]:PERMS,
 * QUALIFIER a name of the grammar (that exists) or a number, only for u
 * and g.  -EINVAL for the grammar, -ENOENT for an unknown name. */
static int folder_entry_parse(const char *s, size_t n, bool *ret_default, struct acl_ent *ret) {
        const char *f[4];
        size_t len[4], k = 0, start = 0;
        bool def = false;
        unsigned id = 0, perm;
        int r;

        for (size_t i = 0; i <= n; i++)
                if (i == n || s[i] == ':') {
                        if (k == 4)
                                return -EINVAL;
                        f[k] = s + start;
                        len[k++] = i - start;
                        start = i + 1;
                }
        if (k == 4 && (word_is(f[0], len[0], "d") || word_is(f[0], len[0], "default"))) {
                def = true;
                memmove(f, f + 1, 3 * sizeof f[0]);
                memmove(len, len + 1, 3 * sizeof len[0]);
                k = 3;
        }
        if (k != 3 || !perm_parse(f[2], len[2], &perm))
                return -EINVAL;
        for (size_t t = 0; t < ELEMENTSOF(tags); t++) {
                if (!word_is(f[0], len[0], tags[t].s) && !word_is(f[0], len[0], tags[t].l))
                        continue;
                if (len[1] == 0) {
                        *ret = (struct acl_ent){.tag = tags[t].obj, .perm = perm};
                        *ret_default = def;
                        return 0;
                }
                if (tags[t].named == ACL_UNDEFINED_TAG)
                        return -EINVAL;
                r = qualifier_parse(tags[t].named == ACL_USER, f[1], len[1], &id);
                if (r < 0)
                        return r;
                *ret = (struct acl_ent){.tag = tags[t].named, .id = id, .perm = perm};
                *ret_default = def;
                return 0;
        }
        return -EINVAL;
}

/* The entry of tag (and id, for a named one); like strchr, from a const
 * list too. */
static struct acl_ent *acl_find(const struct acl_list *l, acl_tag_t tag, unsigned id) {
        for (size_t i = 0; i < l->n; i++)
                if (l->e[i].tag == tag &&
                    ((tag != ACL_USER && tag != ACL_GROUP) || l->e[i].id == id))
                        return (struct acl_ent *)&l->e[i];
        return NULL;
}

static int acl_add(struct acl_list *l, struct acl_ent e) {
        if (acl_find(l, e.tag, e.id))
                return -EEXIST;
        if (l->n == FOLDER_ACL_MAX)
                return -E2BIG;
        l->e[l->n++] = e;
        return 0;
}

/* The mask setfacl computes when none is given: the union of the group
 * class (named users, the owning group, named groups). */
static void acl_complete_mask(struct acl_list *l) {
        unsigned m = 0;
        bool named = false;

        for (size_t i = 0; i < l->n; i++) {
                if (l->e[i].tag == ACL_USER || l->e[i].tag == ACL_GROUP)
                        named = true;
                if (l->e[i].tag == ACL_USER || l->e[i].tag == ACL_GROUP ||
                    l->e[i].tag == ACL_GROUP_OBJ)
                        m |= l->e[i].perm;
        }
        if (named && !acl_find(l, ACL_MASK, 0))
                (void)acl_add(l, (struct acl_ent){.tag = ACL_MASK, .perm = m});
}

static int tag_rank(acl_tag_t t) {
        switch (t) {
        case ACL_USER_OBJ:
                return 0;
        case ACL_USER:
                return 1;
        case ACL_GROUP_OBJ:
                return 2;
        case ACL_GROUP:
                return 3;
        case ACL_MASK:
                return 4;
        default:
                return 5;
        }
}

static int ent_cmp(const void *a, const void *b) {
        const struct acl_ent *x = a, *y = b;

        if (tag_rank(x->tag) != tag_rank(y->tag))
                return tag_rank(x->tag) - tag_rank(y->tag);
        return x->id < y->id ? -1 : x->id > y->id;
}

/* setfacl --set's text: comma-separated entries (whitespace around them
 * allowed) that make a whole ACL.  The access part needs u::, g:: and o::
 * once each; a mask is computed when named entries need one; a default
 * part with entries gets its missing base entries from the access part
 * and its mask likewise.  -EINVAL/-ENOENT with the reason in err (field
 * "acl"). */
static int folder_acl_parse(const char *text, struct acl_list *acc, struct acl_list *def,
                            struct module_error *err) {
        size_t n = strnlen(text, 4097), i = 0;

        *acc = (struct acl_list){0};
        *def = (struct acl_list){0};
        if (n > 4096) {
                module_error_set(err, 422, "invalid_argument", "acl", "the ACL is too long");
                return -EINVAL;
        }
        while (i < n) {
                size_t j = i, a, b;
                struct acl_ent e;
                bool d = false;
                int r;

                while (j < n && text[j] != ',' && text[j] != '\n')
                        j++;
                for (a = i; a < j && (text[a] == ' ' || text[a] == '\t'); a++)
                        ;
                for (b = j; b > a && (text[b - 1] == ' ' || text[b - 1] == '\t'); b--)
                        ;
                i = j + 1;
                if (a == b)
                        continue;
                r = folder_entry_parse(text + a, b - a, &d, &e);
                if (r == 0)
                        r = acl_add(d ? def : acc, e);
                if (r < 0) {
                        module_error_set(err, 422, "invalid_argument", "acl",
                                         r == -ENOENT   ? "no such user or group in \"%.*s\""
                                         : r == -EEXIST ? "\"%.*s\" repeats an entry"
                                         : r == -E2BIG  ? "too many entries at \"%.*s\""
                                                        : "\"%.*s\" is not an ACL entry "
                                                          "([d:]u|g|m|o:[NAME]:rwx)",
                                         (int)(b - a > 64 ? 64 : b - a), text + a);
                        return r == -ENOENT ? -ENOENT : -EINVAL;
                }
        }
        if (!acl_find(acc, ACL_USER_OBJ, 0) || !acl_find(acc, ACL_GROUP_OBJ, 0) ||
            !acl_find(acc, ACL_OTHER, 0)) {
                module_error_set(err, 422, "invalid_argument", "acl",
                                 "the ACL needs the entries u::, g:: and o:: (it replaces the "
                                 "whole ACL)");
                return -EINVAL;
        }
        acl_complete_mask(acc);
        if (def->n > 0) {
                static const acl_tag_t base[] = {ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER};
                for (size_t k = 0; k < ELEMENTSOF(base); k++)
                        if (!acl_find(def, base[k], 0) &&
                            acl_add(def, *acl_find(acc, base[k], 0)) < 0) {
                                module_error_set(err, 422, "invalid_argument", "acl",
                                                 "too many default entries");
                                return -EINVAL;
                        }
                acl_complete_mask(def);
        }
        qsort(acc->e, acc->n, sizeof acc->e[0], ent_cmp);
        qsort(def->e, def->n, sizeof def->e[0], ent_cmp);
        return 0;
}

/* ---- state: read, render, parse ------------------------------------------------- */

/* Opens the directory path without following a link at its end; with
 * canonical, /proc/self/fd/N must read back as path itself (no link on
 * the way, not removed).  404/409/500 with field in err. */
static int folder_open(const char *path, bool canonical, const char *field, int *ret_fd,
                       struct module_error *err) {
        _cleanup_close_ int fd = -1;
        char proc[64], real[PATH_MAX];
        ssize_t n;

        if (!path || path[0] != '/' || strnlen(path, PATH_MAX) >= PATH_MAX) {
                module_error_set(err, 400, "invalid_argument", field, "not an absolute path");
                return -EINVAL;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                if (r == -ENOENT)
                        module_error_set(err, 404, "not_found", field, "%s does not exist", path);
                else if (r == -ENOTDIR || r == -ELOOP)
                        module_error_set(err, 409, "conflict", field,
                                         "%s is not a folder (or is a link)", path);
                else
                        module_error_set(err, 500, "internal", field, "cannot open %s: %s", path,
                                         strerror(-r));
                return r;
        }
        if (canonical) {
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                n = readlink(proc, real, sizeof real - 1);
                if (n < 0 || (size_t)n != strlen(path) || memcmp(real, path, (size_t)n) != 0) {
                        module_error_set(err, 409, "conflict", field,
                                         "%s is reached through a link or was moved; not "
                                         "following it",
                                         path);
                        return -ELOOP;
                }
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int acl_to_list(acl_t acl, struct acl_list *l) {
        acl_entry_t e;
        int w = ACL_FIRST_ENTRY;

        *l = (struct acl_list){0};
        for (int r; (r = acl_get_entry(acl, w, &e)) > 0; w = ACL_NEXT_ENTRY) {
                struct acl_ent x = {0};
                acl_permset_t ps;
                void *q;

                if (acl_get_tag_type(e, &x.tag) < 0 || acl_get_permset(e, &ps) < 0)
                        return -errno;
                x.perm = (acl_get_perm(ps, ACL_READ) > 0 ? P_R : 0) |
                         (acl_get_perm(ps, ACL_WRITE) > 0 ? P_W : 0) |
                         (acl_get_perm(ps, ACL_EXECUTE) > 0 ? P_X : 0);
                if (x.tag == ACL_USER || x.tag == ACL_GROUP) {
                        q = acl_get_qualifier(e);
                        if (!q)
                                return -errno;
                        x.id = x.tag == ACL_USER ? (unsigned)*(uid_t *)q : (unsigned)*(gid_t *)q;
                        acl_free(q);
                }
                if (l->n == FOLDER_ACL_MAX)
                        return -E2BIG;
                l->e[l->n++] = x;
        }
        qsort(l->e, l->n, sizeof l->e[0], ent_cmp);
        return 0;
}

/* The three base entries a mode stands for (a folder without an ACL). */
static void acl_from_mode_list(mode_t m, struct acl_list *l) {
        *l = (struct acl_list){.n = 3};
        l->e[0] = (struct acl_ent){.tag = ACL_USER_OBJ, .perm = (m >> 6) & 7};
        l->e[1] = (struct acl_ent){.tag = ACL_GROUP_OBJ, .perm = (m >> 3) & 7};
        l->e[2] = (struct acl_ent){.tag = ACL_OTHER, .perm = m & 7};
}

static int state_read_fd(int fd, struct folder_state *st, struct module_error *err) {
        _cleanup_acl_ acl_t a = NULL, d = NULL;
        char proc[64];
        struct stat s;
        int r;

        if (fstat(fd, &s) < 0 || !S_ISDIR(s.st_mode)) {
                module_error_set(err, 500, "internal", NULL, "cannot inspect the folder");
                return -EIO;
        }
        *st = (struct folder_state){.uid = s.st_uid, .gid = s.st_gid, .mode = s.st_mode & 07777};
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        a = acl_get_fd(fd);
        d = a ? acl_get_file(proc, ACL_TYPE_DEFAULT) : NULL;
        if (!a && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
                acl_from_mode_list(st->mode, &st->acc); /* no ACLs on this filesystem */
                return 0;
        }
        if (!a || !d) {
                r = -errno;
                module_error_set(err, 500, "internal", NULL, "cannot read the folder's ACL: %s",
                                 strerror(-r));
                return r;
        }
        r = acl_to_list(a, &st->acc);
        if (r >= 0)
                r = acl_to_list(d, &st->def);
        if (r < 0) {
                module_error_set(err, r == -E2BIG ? 422 : 500,
                                 r == -E2BIG ? "invalid_argument" : "internal", NULL,
                                 "the folder's ACL %s",
                                 r == -E2BIG ? "has too many entries" : "cannot be read");
                return r;
        }
        return 0;
}

static void perm_text(unsigned p, char out[4]) {
        out[0] = p & P_R ? 'r' : '-';
        out[1] = p & P_W ? 'w' : '-';
        out[2] = p & P_X ? 'x' : '-';
        out[3] = '\0';
}

/* getfacl's form of one entry: "user:alice:rwx", "mask::r-x". */
static void entry_text(const struct acl_ent *e, bool def, char *out, size_t len) {
        char q[FOLDER_NAME_MAX + 16] = "", p[4];
        const char *tag = e->tag == ACL_USER_OBJ || e->tag == ACL_USER     ? "user"
                          : e->tag == ACL_GROUP_OBJ || e->tag == ACL_GROUP ? "group"
                          : e->tag == ACL_MASK                             ? "mask"
                                                                           : "other";

        if (e->tag == ACL_USER || e->tag == ACL_GROUP)
                id_name(e->tag == ACL_USER, e->id, q, sizeof q);
        perm_text(e->perm, p);
        snprintf(out, len, "%s%s:%s:%s", def ? "default:" : "", tag, q, p);
}

static json_t *acl_json(const struct acl_list *l, bool def) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < l->n; i++) {
                char t[96];
                entry_text(&l->e[i], def, t, sizeof t);
                if (json_array_append_new(a, json_string(t)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

/* An access ACL of the three base entries only: the mode says it all. */
static bool acl_minimal(const struct acl_list *l) {
        return l->n == 3 && !acl_find(l, ACL_USER, 0) && !acl_find(l, ACL_MASK, 0);
}

static json_t *state_json(const struct folder_state *st) {
        char owner[FOLDER_NAME_MAX + 16], group[FOLDER_NAME_MAX + 16], mode[8];

        id_name(true, st->uid, owner, sizeof owner);
        id_name(false, st->gid, group, sizeof group);
        snprintf(mode, sizeof mode, "%04o", (unsigned)st->mode);
        return json_pack("{s:s, s:s, s:s, s:o*, s:o*}", "owner", owner, "group", group, "mode",
                         mode, "acl",
                         acl_minimal(&st->acc) ? json_array() : acl_json(&st->acc, false),
                         "default_acl", acl_json(&st->def, true));
}

static char *state_text(const char *path, const struct folder_state *st) {
        char owner[FOLDER_NAME_MAX + 16], group[FOLDER_NAME_MAX + 16], t[96];
        struct buf b;

        buf_init(&b, FOLDER_STATE_MAX);
        id_name(true, st->uid, owner, sizeof owner);
        id_name(false, st->gid, group, sizeof group);
        if (buf_printf(&b, "# folder: %s\n# owner: %s\n# group: %s\n# mode: %04o\n", path, owner,
                       group, (unsigned)st->mode) < 0)
                goto fail;
        for (size_t i = 0; i < st->acc.n; i++) {
                entry_text(&st->acc.e[i], false, t, sizeof t);
                if (buf_printf(&b, "%s\n", t) < 0)
                        goto fail;
        }
        for (size_t i = 0; i < st->def.n; i++) {
                entry_text(&st->def.e[i], true, t, sizeof t);
                if (buf_printf(&b, "%s\n", t) < 0)
                        goto fail;
        }
        return buf_steal(&b);
fail:
        buf_free(&b);
        return NULL;
}

/* The next line of text at *p (without its newline) into line; false at
 * the end or for a line too long. */
static bool next_line(const char **p, char *line, size_t len) {
        const char *nl;
        size_t n;

        if (!**p)
                return false;
        nl = strchr(*p, '\n');
        n = nl ? (size_t)(nl - *p) : strlen(*p);
        if (n >= len)
                return false;
        memcpy(line, *p, n);
        line[n] = '\0';
        *p += n + (nl ? 1 : 0);
        return true;
}

/* A header line "# KEY: VALUE" into value. */
static bool header(const char **p, const char *key, char *value, size_t len) {
        char line[PATH_MAX + 16];
        size_t k = strlen(key);

        if (!next_line(p, line, sizeof line) || strncmp(line, "# ", 2) != 0 ||
            strncmp(line + 2, key, k) != 0 || strncmp(line + 2 + k, ": ", 2) != 0 ||
            strlen(line + 4 + k) >= len)
                return false;
        snprintf(value, len, "%s", line + 4 + k);
        return true;
}

/* A state text (state_text's form) of the folder path back into st. */
static int state_parse(const char *path, const char *text, struct folder_state *st,
                       struct module_error *err) {
        char v[PATH_MAX], line[128];
        const char *p = text;
        unsigned id;
        mode_t m;

        *st = (struct folder_state){0};
        if (!header(&p, "folder", v, sizeof v) || !STREQ(v, path))
                goto bad;
        if (!header(&p, "owner", v, sizeof v) || qualifier_parse(true, v, strlen(v), &id) < 0)
                goto bad;
        st->uid = (uid_t)id;
        if (!header(&p, "group", v, sizeof v) || qualifier_parse(false, v, strlen(v), &id) < 0)
                goto bad;
        st->gid = (gid_t)id;
        if (!header(&p, "mode", v, sizeof v) || !folder_mode_parse(v, &m))
                goto bad;
        st->mode = m;
        while (next_line(&p, line, sizeof line)) {
                struct acl_ent e;
                bool d;
                if (folder_entry_parse(line, strlen(line), &d, &e) < 0 ||
                    acl_add(d ? &st->def : &st->acc, e) < 0)
                        goto bad;
        }
        if (*p || !acl_find(&st->acc, ACL_USER_OBJ, 0) || !acl_find(&st->acc, ACL_GROUP_OBJ, 0) ||
            !acl_find(&st->acc, ACL_OTHER, 0))
                goto bad;
        return 0;
bad:
        module_error_set(err, 422, "invalid_argument", NULL,
                         "the recorded state of %s is not understood (or names a user or "
                         "group that no longer exists)",
                         path);
        return -EINVAL;
}

/* ---- applying a state ------------------------------------------------------------ */

static acl_t acl_build(const struct acl_list *l) {
        acl_t a = acl_init((int)l->n);

        for (size_t i = 0; a && i < l->n; i++) {
                acl_entry_t e;
                acl_permset_t ps;
                uid_t uid = (uid_t)l->e[i].id;
                gid_t gid = (gid_t)l->e[i].id;

                if (acl_create_entry(&a, &e) < 0 || acl_set_tag_type(e, l->e[i].tag) < 0 ||
                    (l->e[i].tag == ACL_USER && acl_set_qualifier(e, &uid) < 0) ||
                    (l->e[i].tag == ACL_GROUP && acl_set_qualifier(e, &gid) < 0) ||
                    acl_get_permset(e, &ps) < 0 || acl_clear_perms(ps) < 0 ||
                    ((l->e[i].perm & P_R) && acl_add_perm(ps, ACL_READ) < 0) ||
                    ((l->e[i].perm & P_W) && acl_add_perm(ps, ACL_WRITE) < 0) ||
                    ((l->e[i].perm & P_X) && acl_add_perm(ps, ACL_EXECUTE) < 0) ||
                    acl_set_permset(e, ps) < 0) {
                        acl_free(a);
                        return NULL;
                }
        }
        return a;
}

/* Whether the ACL is one the kernel takes: libacl's own check. */
static bool acl_list_valid(const struct acl_list *l) {
        _cleanup_acl_ acl_t a = l->n ? acl_build(l) : NULL;

        return l->n == 0 || (a && acl_valid(a) == 0);
}

static int apply_error(const char *what, int r, struct module_error *err) {
        bool unsupported = r == -ENOTSUP || r == -EOPNOTSUPP;

        module_error_set(err, unsupported ? 409 : 500, unsupported ? "conflict" : "internal", NULL,
                         "cannot %s the folder: %s%s", what, strerror(-r),
                         unsupported ? " (the filesystem has no POSIX ACLs)" : "");
        return r;
}

/* Makes the folder open at fd what st says: owner and group, then the
 * mode, then the access ACL (its base entries agree with the mode) and
 * the default ACL.  with_acl false: the ACLs stay as the mode leaves them
 * (a chmod moves the mask, as the plan shows). */
static int state_apply(int fd, const struct folder_state *st, bool with_acl,
                       struct module_error *err) {
        _cleanup_acl_ acl_t a = NULL, d = NULL;
        char proc[64];
        struct stat s;
        const char *what = "inspect";

        if (fstat(fd, &s) < 0)
                goto fail;
        what = "change the owner of";
        if ((s.st_uid != st->uid || s.st_gid != st->gid) && fchown(fd, st->uid, st->gid) < 0)
                goto fail;
        what = "change the mode of";
        if (fchmod(fd, st->mode) < 0)
                goto fail;
        if (!with_acl)
                return 0;
        what = "set the ACL of";
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        a = acl_build(&st->acc);
        if (!a || acl_set_fd(fd, a) < 0)
                goto fail;
        what = "set the default ACL of";
        if (st->def.n > 0) {
                d = acl_build(&st->def);
                if (!d || acl_set_file(proc, ACL_TYPE_DEFAULT, d) < 0)
                        goto fail;
        } else if (acl_delete_def_file(proc) < 0 && errno != ENOTSUP && errno != EOPNOTSUPP)
                goto fail;
        return 0;
fail:
        return apply_error(what, errno ? -errno : -EIO, err);
}

/* The mode's rwx bits as the access ACL says them (user::, mask:: or
 * group::, other::), the special bits kept. */
static mode_t mode_of_acl(mode_t mode, struct acl_list *acc) {
        struct acl_ent *u = acl_find(acc, ACL_USER_OBJ, 0), *o = acl_find(acc, ACL_OTHER, 0);
        struct acl_ent *g = acl_find(acc, ACL_MASK, 0) ?: acl_find(acc, ACL_GROUP_OBJ, 0);

        return (mode & 07000) | (mode_t)((u ? u->perm : 0) << 6) |
               (mode_t)((g ? g->perm : 0) << 3) | (mode_t)(o ? o->perm : 0);
}

/* What a chmod does to the access ACL: user::, mask:: (group:: when there
 * is no mask) and other:: take the mode's bits. */
static void acl_take_mode(struct acl_list *acc, mode_t m) {
        struct acl_ent *u = acl_find(acc, ACL_USER_OBJ, 0), *o = acl_find(acc, ACL_OTHER, 0);
        struct acl_ent *g = acl_find(acc, ACL_MASK, 0) ?: acl_find(acc, ACL_GROUP_OBJ, 0);

        if (u)
                u->perm = (m >> 6) & 7;
        if (g)
                g->perm = (m >> 3) & 7;
        if (o)
                o->perm = m & 7;
}

/* ---- describe and who can write ------------------------------------------------- */

int folder_describe(const char *path, json_t **ret, struct module_error *err) {
        _cleanup_close_ int fd = -1;
        struct folder_state st;
        json_t *o;
        int r;

        /* Canonical: smb.conf's own shares are not checked as Steward's
         * are, and a link on the way must not make root describe some
         * other folder to a monitor. */
        r = folder_open(path, /* canonical= */ true, "path", &fd, err);
        if (r < 0)
                return r;
        r = state_read_fd(fd, &st, err);
        if (r < 0)
                return r;
        o = state_json(&st);
        if (!o)
                return oom(err);
        *ret = o;
        return 0;
}

static bool in_groups(gid_t g, const gid_t *groups, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (groups[i] == g)
                        return true;
        return false;
}

/* Whether someone with uid and groups may create files in the folder (w
 * and x), by POSIX.1e's access check: owner, named user (masked), the
 * group class (any matching group entry, masked, decides), other.  Root
 * may always. */
static bool may_write(const struct folder_state *st, uid_t uid, bool named_user,
                      const gid_t *groups, size_t ng) {
        const unsigned need = P_W | P_X;
        const struct acl_ent *mask = acl_find(&st->acc, ACL_MASK, 0), *e;
        unsigned m = mask ? mask->perm : 7;
        bool matched = false;

        if (named_user && uid == 0)
                return true;
        if (named_user && uid == st->uid)
                return (((st->mode >> 6) & 7) & need) == need;
        if (named_user && (e = acl_find(&st->acc, ACL_USER, uid)))
                return (e->perm & m & need) == need;
        for (size_t i = 0; i < st->acc.n; i++) {
                e = &st->acc.e[i];
                if (!((e->tag == ACL_GROUP_OBJ && in_groups(st->gid, groups, ng)) ||
                      (e->tag == ACL_GROUP && in_groups((gid_t)e->id, groups, ng))))
                        continue;
                matched = true;
                if ((e->perm & m & need) == need)
                        return true;
        }
        if (matched)
                return false;
        return ((st->mode & 7) & need) == need;
}

static bool user_may_write(const struct folder_state *st, const char *name) {
        char buf[NSS_BUF];
        struct passwd pw, *res = NULL;
        gid_t groups[256];
        int ng = (int)ELEMENTSOF(groups);

        if (getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || !res)
                return false;
        if (getgrouplist(name, res->pw_gid, groups, &ng) < 0)
                ng = (int)ELEMENTSOF(groups); /* more groups than that: judge by these */
        return may_write(st, res->pw_uid, true, groups, (size_t)ng);
}

/* A group may write when its entries (or other::, when it has none) let a
 * member who is neither the owner nor named in the ACL write, or when one
 * of its listed members may. */
static bool group_may_write(const struct folder_state *st, const char *name) {
        char buf[NSS_BUF];
        struct group gr, *res = NULL;
        gid_t gid;

        if (getgrnam_r(name, &gr, buf, sizeof buf, &res) != 0 || !res)
                return false;
        gid = res->gr_gid;
        if (may_write(st, (uid_t)-1, false, &gid, 1))
                return true;
        for (size_t i = 0; res->gr_mem && res->gr_mem[i] && i < FOLDER_WHO_MAX; i++)
                if (user_may_write(st, res->gr_mem[i]))
                        return true;
        return false;
}

/* Samba's forms of a group in valid users: @NAME, +NAME, &NAME (and their
 * combinations); else a user's name. */
static bool who_may_write(const struct folder_state *st, const char *who) {
        const char *name = who;

        while (*name == '@' || *name == '+' || *name == '&')
                name++;
        if (!account_name_valid_n(name, strlen(name)))
                return false;
        return name == who ? user_may_write(st, name) : group_may_write(st, name);
}

int folder_writable_by(const char *path, json_t *who, json_t **ret_writers,
                       struct module_error *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_json_ json_t *out = json_array();
        struct folder_state st;
        json_t *w;
        size_t i;
        int r;

        if (!out)
                return oom(err);
        /* Canonical: smb.conf's own shares are not checked as Steward's
         * are, and a link on the way must not make root describe some
         * other folder to a monitor. */
        r = folder_open(path, /* canonical= */ true, "path", &fd, err);
        if (r < 0)
                return r;
        r = state_read_fd(fd, &st, err);
        if (r < 0)
                return r;
        json_array_foreach(who, i, w) {
                if (i >= FOLDER_WHO_MAX)
                        break;
                if (json_is_string(w) && who_may_write(&st, json_string_value(w)) &&
                    json_array_append(out, w) < 0)
                        return oom(err);
        }
        *ret_writers = TAKE_PTR(out);
        return 0;
}

/* ---- the action -------------------------------------------------------------------- */

struct folder_request {
        const char *owner, *group, *mode, *acl;
        uid_t uid;
        gid_t gid;
        mode_t m;
        struct acl_list acc, def;
};

static int request_parse(json_t *args, struct folder_request *q, struct module_error *err) {
        static const char *const keys[] = {"owner", "group", "mode", "acl"};
        const char *k;
        json_t *v;
        int r;

        *q = (struct folder_request){0};
        if (!json_is_object(args) || json_object_size(args) == 0) {
                module_error_set(err, 400, "invalid_argument", NULL,
                                 "nothing to change: give owner, group, mode or acl");
                return -EINVAL;
        }
        json_object_foreach(args, k, v) {
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        known |= STREQ(k, keys[i]);
                if (!known || !json_is_string(v)) {
                        module_error_set(err, 422, "invalid_argument", known ? k : NULL,
                                         known ? "%s is a string" : "no argument \"%.64s\"", k);
                        return -EINVAL;
                }
        }
        q->owner = json_string_value(json_object_get(args, "owner"));
        q->group = json_string_value(json_object_get(args, "group"));
        q->mode = json_string_value(json_object_get(args, "mode"));
        q->acl = json_string_value(json_object_get(args, "acl"));
        if (q->owner &&
            (!account_name_valid_n(q->owner, strlen(q->owner)) || user_id(q->owner, &q->uid) < 0)) {
                module_error_set(err, 422, "invalid_argument", "owner",
                                 "owner is the name of an existing user");
                return -EINVAL;
        }
        if (q->group &&
            (!account_name_valid_n(q->group, strlen(q->group)) || group_id(q->group, &q->gid) < 0)) {
                module_error_set(err, 422, "invalid_argument", "group",
                                 "group is the name of an existing group");
                return -EINVAL;
        }
        if (q->mode && !folder_mode_parse(q->mode, &q->m)) {
                module_error_set(err, 422, "invalid_argument", "mode",
                                 "mode is octal, 0 to 7777 (e.g. 2775)");
                return -EINVAL;
        }
        if (q->mode && (q->m & S_ISUID)) {
                module_error_set(err, 422, "invalid_argument", "mode",
                                 "mode: the setuid bit (4000) means nothing on a folder and is "
                                 "not set (setgid, 2000, keeps new files in the folder's group)");
                return -EINVAL;
        }
        if (q->acl) {
                r = folder_acl_parse(q->acl, &q->acc, &q->def, err);
                if (r < 0)
                        return -EINVAL;
        }
        return 0;
}

/* The folder's state after the request: owner and group, then the mode
 * (moving the mask as chmod does), then the ACL, whose base entries set
 * the rwx bits of the mode.  Refuses what the kernel would not take and a
 * folder everyone may write without the sticky bit. */
static int request_apply(const struct folder_request *q, struct folder_state *st,
                         struct module_error *err) {
        if (q->owner)
                st->uid = q->uid;
        if (q->group)
                st->gid = q->gid;
        if (q->mode) {
                st->mode = q->m;
                acl_take_mode(&st->acc, q->m);
        }
        if (q->acl) {
                st->acc = q->acc;
                st->def = q->def;
                st->mode = mode_of_acl(st->mode, &st->acc);
                if (!acl_list_valid(&st->acc) || !acl_list_valid(&st->def)) {
                        module_error_set(err, 422, "invalid_argument", "acl",
                                         "the ACL is not valid (an entry repeated, or a "
                                         "mask missing)");
                        return -EINVAL;
                }
        }
        if ((q->mode || q->acl) && (st->mode & S_IWOTH) && !(st->mode & S_ISVTX)) {
                module_error_set(err, 422, "invalid_argument", q->acl ? "acl" : "mode",
                                 "everyone could write the folder and delete each other's files: "
                                 "add the sticky bit (1777) or take away other's w");
                return -EINVAL;
        }
        return 0;
}

/* The share's folder, open: canonical, a directory reached through no
 * link, under the roots. */
static int share_folder_open(const char *path, int *ret_fd, struct module_error *err) {
        int r;

        if (!shares_under_roots(path)) {
                module_error_set(err, 403, "forbidden", "path",
                                 "%s is not under the roots (shares:roots)", path);
                return -EPERM;
        }
        r = folder_open(path, /* canonical= */ true, "path", ret_fd, err);
        return r;
}

static int answer(json_t *plan, const char *id, const char *path, const struct folder_state *st,
                  json_t **ret, struct module_error *err) {
        json_t *o = json_pack("{s:O, s:{s:s, s:s, s:o*}}", "plan", plan, "share", "name", id,
                              "path", path, "folder", st ? state_json(st) : NULL);

        if (!o)
                return oom(err);
        *ret = o;
        return 0;
}

/* A change that failed half-way: put the folder back as it was; if even
 * that fails, the plan says what the folder is now ("applied"), so that
 * the record shows it. */
static void undo(int fd, const char *path, const struct folder_state *before,
                 const char *before_text, json_t *plan, json_t **ret) {
        struct module_error lerr = {0};
        struct folder_state now;
        _cleanup_free_ char *now_text = NULL;

        if (state_apply(fd, before, true, &lerr) >= 0)
                return;
        if (state_read_fd(fd, &now, &lerr) < 0 || !(now_text = state_text(path, &now)))
                return;
        json_array_clear(json_object_get(plan, "files"));
        if (change_plan_add_file(plan, path, before_text, now_text, true) < 0 ||
            json_object_set_new(plan, "applied", json_true()) < 0)
                return;
        *ret = json_pack("{s:O}", "plan", plan);
}

int folder_action(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                  json_t **ret, struct module_error *err) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        _cleanup_json_ json_t *plan = NULL;
        _cleanup_free_ char *before_text = NULL, *after_text = NULL;
        struct folder_request q;
        struct folder_state before, after;
        int r;

        (void)ctx;
        r = request_parse(args, &q, err);
        if (r < 0)
                return r;
        r = shares_find_path(id, path, sizeof path, err);
        if (r < 0)
                return r;
        r = share_folder_open(path, &fd, err);
        if (r >= 0)
                r = state_read_fd(fd, &before, err);
        if (r < 0)
                return r;
        after = before;
        r = request_apply(&q, &after, err);
        if (r < 0)
                return r;
        plan = json_pack("{s:[], s:[], s:[]}", "commands", "files", "warnings");
        before_text = state_text(path, &before);
        after_text = state_text(path, &after);
        if (!plan || !before_text || !after_text)
                return oom(err);
        if (STREQ(before_text, after_text))
                return answer(plan, id, path, &before, ret, err); /* nothing changes */
        if (change_plan_add_file(plan, path, before_text, after_text, true) < 0)
                return oom(err);
        if (dry_run)
                return answer(plan, id, path, &after, ret, err);
        r = state_apply(fd, &after, q.acl != NULL, err);
        if (r < 0) {
                undo(fd, path, &before, before_text, plan, ret);
                return r;
        }
        /* The record keeps the state as it is now, read back: what a
         * rollback will find (folder_read) if nothing changed since. */
        free(after_text);
        after_text = NULL;
        if (state_read_fd(fd, &after, err) < 0 || !(after_text = state_text(path, &after)))
                return oom(err);
        json_array_clear(json_object_get(plan, "files"));
        if (change_plan_add_file(plan, path, before_text, after_text, true) < 0)
                return oom(err);
        return answer(plan, id, path, &after, ret, err);
}

/* ---- rollback -------------------------------------------------------------------- */

int folder_read(const char *path, char **ret, struct module_error *err) {
        _cleanup_close_ int fd = -1;
        struct folder_state st;
        struct module_error lerr = {0};
        struct stat s;
        char *text;
        int r;

        if (!path || path[0] != '/' || lstat(path, &s) < 0 || !S_ISDIR(s.st_mode))
                return 0; /* not a folder (any more): the engine reads it as a file */
        r = folder_open(path, /* canonical= */ true, "path", &fd, &lerr);
        if (r == -ELOOP) {
                /* Reached through a link now: a conflict, shown as such. */
                if (asprintf(&text, "# folder: %s\n# reached through a link\n", path) < 0)
                        return oom(err);
                *ret = text;
                return 1;
        }
        if (r >= 0)
                r = state_read_fd(fd, &st, &lerr);
        if (r < 0) {
                *err = lerr;
                return r;
        }
        text = state_text(path, &st);
        if (!text)
                return oom(err);
        *ret = text;
        return 1;
}

int folder_restore(const char *path, const char *type, const char *content,
                   struct module_error *err) {
        _cleanup_close_ int fd = -1;
        struct folder_state st;
        int r;

        if (!type || !STREQ(type, "file") || !content) {
                module_error_set(err, 422, "invalid_argument", NULL,
                                 "%s: a folder is put back from its recorded state only",
                                 path ? path : "");
                return -EINVAL;
        }
        r = share_folder_open(path, &fd, err);
        if (r < 0)
                return r;
        r = state_parse(path, content, &st, err);
        if (r < 0)
                return r;
        if (!acl_list_valid(&st.acc) || !acl_list_valid(&st.def)) {
                module_error_set(err, 422, "invalid_argument", NULL,
                                 "the recorded ACL of %s is not valid", path);
                return -EINVAL;
        }
        return state_apply(fd, &st, /* with_acl= */ true, err);
}

/* ---- the folder picker ----------------------------------------------------------- */

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* The names of the directories directly in dfd (not hidden, not links,
 * UTF-8), sorted; at most FOLDER_SCAN_MAX entries are read. */
static int dir_names(int dfd, char ***ret, size_t *ret_n, bool *ret_truncated) {
        int fd2 = dup(dfd);
        DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        char **names = NULL;
        size_t n = 0, cap = 0, seen = 0;
        struct dirent *de;
        int r = 0;

        if (!d) {
                r = -errno;
                if (fd2 >= 0)
                        close(fd2);
                return r;
        }
        *ret_truncated = false;
        while ((errno = 0, de = readdir(d))) {
                struct stat s;
                if (++seen > FOLDER_SCAN_MAX) {
                        *ret_truncated = true;
                        break;
                }
                if (de->d_name[0] == '.' || !utf8_valid(de->d_name, strlen(de->d_name)) ||
                    fstatat(dfd, de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(s.st_mode))
                        continue;
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 64;
                        char **nn = realloc(names, nc * sizeof *names);
                        if (!nn)
                                goto oom;
                        names = nn;
                        cap = nc;
                }
                if (!(names[n] = strdup(de->d_name)))
                        goto oom;
                n++;
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof *names, name_cmp);
        *ret = names;
        *ret_n = n;
        return 0;
oom:
        closedir(d);
        names_free(names, n);
        return -ENOMEM;
}

static json_t *folder_json(const char *path, const struct stat *s) {
        char owner[FOLDER_NAME_MAX + 16], group[FOLDER_NAME_MAX + 16], mode[8];

        id_name(true, s->st_uid, owner, sizeof owner);
        id_name(false, s->st_gid, group, sizeof group);
        snprintf(mode, sizeof mode, "%04o", (unsigned)(s->st_mode & 07777));
        return json_pack("{s:s, s:s, s:s, s:s}", "path", path, "owner", owner, "group", group,
                         "mode", mode);
}

static json_t *folder_entry(int dfd, const char *under, const char *name) {
        _cleanup_free_ char *path = NULL;
        struct stat s;

        if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(s.st_mode))
                return json_null(); /* gone since: skipped */
        if (asprintf(&path, "%s/%s", STREQ(under, "/") ? "" : under, name) < 0)
                return NULL;
        return folder_json(path, &s);
}

/* Without `under`: the roots that are folders (reached through no link),
 * where a picker starts. */
static int roots_list(json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *out = json_array();
        struct setting_list roots;

        if (!out)
                return oom(err);
        if (shares_roots(&roots) < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read shares:roots");
                return -EIO;
        }
        for (size_t i = 0; i < roots.n; i++) {
                struct module_error lerr = {0};
                _cleanup_close_ int fd = -1;
                struct stat s;

                if (folder_open(roots.name[i], /* canonical= */ true, "under", &fd, &lerr) < 0 ||
                    fstat(fd, &s) < 0)
                        continue;
                if (json_array_append_new(out, folder_json(roots.name[i], &s)) < 0)
                        return oom(err);
        }
        *ret = json_pack("{s:n, s:O, s:b}", "under", "folders", out, "truncated", false);
        return *ret ? 0 : oom(err);
}

/* `under` by grammar: absolute, UTF-8, no control characters, no empty,
 * "." or ".." component, no trailing '/'. */
static bool under_valid(const char *s) {
        size_t n = strnlen(s, PATH_MAX);

        if (n == 0 || n >= PATH_MAX || s[0] != '/' || (n > 1 && s[n - 1] == '/') ||
            !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return !strstr(s, "//") && !strstr(s, "/./") && !strstr(s, "/../") &&
               !(n >= 2 && STREQ(s + n - 2, "/.")) && !(n >= 3 && STREQ(s + n - 3, "/.."));
}

int folder_list(json_t *args, json_t **ret, struct module_error *err) {
        json_t *u = json_object_get(args, "under");
        const char *under = json_string_value(u);
        _cleanup_close_ int fd = -1;
        _cleanup_json_ json_t *out = json_array();
        char **names = NULL;
        size_t n = 0;
        bool truncated = false;
        int r;

        if (!out)
                return oom(err);
        if (!u)
                return roots_list(ret, err);
        if (!under || !under_valid(under)) {
                module_error_set(err, 400, "invalid_argument", "under",
                                 "under is an absolute, canonical path (a root or a folder "
                                 "under one)");
                return -EINVAL;
        }
        if (!shares_under_roots(under)) {
                module_error_set(err, 403, "forbidden", "under",
                                 "%s is not under the roots (shares:roots)", under);
                return -EPERM;
        }
        r = folder_open(under, /* canonical= */ true, "under", &fd, err);
        if (r < 0)
                return r;
        r = dir_names(fd, &names, &n, &truncated);
        if (r < 0) {
                module_error_set(err, 500, "internal", "under", "cannot read %s: %s", under,
                                 strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n && json_array_size(out) < FOLDER_LIST_MAX; i++) {
                json_t *e = folder_entry(fd, under, names[i]);
                if (!e || (!json_is_null(e) && json_array_append(out, e) < 0)) {
                        json_decref(e);
                        names_free(names, n);
                        return oom(err);
                }
                json_decref(e);
        }
        truncated |= n > FOLDER_LIST_MAX;
        names_free(names, n);
        *ret = json_pack("{s:s, s:O, s:b}", "under", under, "folders", out, "truncated", truncated);
        return *ret ? 0 : oom(err);
}
