/* users.c — the `users` module: local accounts as a collection
 * (module.h), read through NSS and /etc/shadow, changed with the shadow
 * tools through engine.c.
 *
 * Everything here runs in the privileged helper.  Every field of a write is
 * validated before anything runs (each error names its field); then the
 * change is planned in an overlay, guarded (acct_guard: self and last
 * admin), and applied.  Non-local (NSS-only) accounts are read-only; root
 * and system accounts (uid below UID_MIN) need "force".  Passwords reach
 * chpasswd on its stdin only.
 *
 * authorized_keys: written by the helper itself (never through a path a
 * user controls: openat with O_NOFOLLOW from the home directory, owner and
 * mode set on the descriptor), and put back the same way on rollback
 * (users_file_restore).  It is read the same way for the count and for
 * the list of keys with their fingerprints that a user's record shows. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <lastlog.h>

#include "module.h"
#include "config.h"
#include "modules/users/acctdb.h"
#include "modules/users/users.h"
#include "util.h"

int account_invalid(struct module_error *err, int status, const char *field, const char *fmt, ...) {
        char msg[sizeof err->message];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        module_error_set(err, status, "invalid_argument", field, "%s", msg);
        return -EINVAL;
}

#define USERADD          "/usr/sbin/useradd"
#define USERMOD          "/usr/sbin/usermod"
#define USERDEL          "/usr/sbin/userdel"
#define CHPASSWD         "/usr/sbin/chpasswd"
#define CHAGE            "/usr/bin/chage"
#define AUTH_KEYS_MAX    (1u << 20)
#define GEN_PASSWORD_LEN 20

void users_home_roots(struct steward_config *cfg, const char *roots[HOME_ROOTS_MAX + 1]) {
        size_t n = 0;

        steward_config_get(cfg);
        for (size_t i = 0; i < cfg->home_roots.n && n < HOME_ROOTS_MAX; i++)
                roots[n++] = cfg->home_roots.name[i];
        roots[n] = NULL;
}

/* ---- reading ------------------------------------------------------------------- */

static int64_t today(void) {
        return (int64_t)(time(NULL) / 86400);
}

/* Opens dir/.ssh/authorized_keys of a home without following links. */
static int open_auth_keys(const char *home, int flags, int *ret_sshdir) {
        int h, s, f;

        h = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (h < 0)
                return -errno;
        s = openat(h, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(h);
        if (s < 0)
                return -errno;
        f = openat(s, "authorized_keys", flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (f < 0) {
                int r = -errno;
                close(s);
                return r;
        }
        if (ret_sshdir)
                *ret_sshdir = s;
        else
                close(s);
        return f;
}

static int read_auth_keys(const char *home, char **ret) {
        struct stat st;
        size_t len;
        int fd = open_auth_keys(home, O_RDONLY, NULL), r;

        *ret = NULL;
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
                close(fd);
                return -EINVAL;
        }
        r = read_fd(fd, AUTH_KEYS_MAX, ret, &len);
        close(fd);
        return r;
}

static unsigned count_keys(const char *text) {
        unsigned n = 0;
        size_t pos = 0, len = text ? strlen(text) : 0, ll;
        const char *line;

        while (text && text_next_line(text, len, &pos, &line, &ll)) {
                while (ll && (*line == ' ' || *line == '\t'))
                        line++, ll--;
                if (ll && *line != '#')
                        n++;
        }
        return n;
}

/* The public keys of an authorized_keys text, each as {type, comment,
 * fingerprint, key}; lines that are not plain keys (comments, options) are
 * left out. */
static json_t *key_list(const char *text) {
        json_t *a = json_array();
        size_t pos = 0, len = text ? strlen(text) : 0, ll;
        const char *line;

        while (a && text && text_next_line(text, len, &pos, &line, &ll)) {
                _cleanup_free_ char *l = strndup(line, ll), *norm = NULL;
                char fp[SSH_KEY_FP_LEN + 1];
                const char *why, *sp1, *sp2;
                json_t *k;
                if (!l || ssh_key_parse(l, &norm, &why) < 0 || ssh_key_fingerprint(norm, fp) < 0)
                        continue;
                sp1 = strchr(norm, ' ');
                sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
                k = json_pack("{s:s%, s:s, s:s, s:s}", "type", norm,
                              sp1 ? (size_t)(sp1 - norm) : strlen(norm), "comment",
                              sp2 ? sp2 + 1 : "", "fingerprint", fp, "key", norm);
                if (!k || json_array_append_new(a, k) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static void home_size_json(json_t *o, const char *home);

static json_t *user_json(const struct acctdb *db, const struct acct_user *u, bool full,
                         bool home_size) {
        const struct acct_group *pg = acctdb_group_by_gid(db, u->gid);
        const char **groups = NULL;
        size_t ng = 0;
        _cleanup_free_ char *keys = NULL;
        int keys_r = -ENODATA;
        bool system = u->uid < db->defs.uid_min || u->uid > db->defs.uid_max;
        json_t *o, *ga;

        if (acctdb_member_of(db, u->name, &groups, &ng) < 0)
                return NULL;
        ga = json_array();
        for (size_t i = 0; ga && i < ng; i++)
                json_array_append_new(ga, json_string(groups[i]));
        free(groups);
        if (u->local && u->home[0] == '/')
                keys_r = read_auth_keys(u->home, &keys);
        o = json_pack("{s:s, s:I, s:I, s:s?, s:o, s:s, s:s, s:s, s:s, s:b, s:i, s:b}", "name",
                      u->name, "uid", (json_int_t)u->uid, "gid", (json_int_t)u->gid, "group",
                      pg ? pg->name : NULL, "groups", ga ? ga : json_array(), "full_name", u->gecos,
                      "home", u->home, "shell", u->shell, "password_state",
                      u->local ? acct_password_state(u, today()) : "none", "local", u->local,
                      "ssh_keys", (int)count_keys(keys), "system", system);
        if (!o || !full)
                return o;
        /* No file is no keys; a file not safe to read (a link, several
         * names, not a regular file) or an account not read is null. */
        {
                json_t *kl = keys_r >= 0 ? key_list(keys) : keys_r == -ENOENT ? json_array() : NULL;
                json_object_set_new(o, "ssh_key_list", kl ? kl : json_null());
        }
        {
                json_t *aging = json_object();
                char day[16];
                const struct {
                        const char *k;
                        int64_t v;
                } f[] = {{"min_days", u->min},
                         {"max_days", u->max},
                         {"warn_days", u->warn},
                         {"inactive_days", u->inactive}};
                for (size_t i = 0; i < ELEMENTSOF(f); i++)
                        json_object_set_new(aging, f[i].k,
                                            f[i].v < 0 ? json_null() : json_integer(f[i].v));
                for (int k = 0; k < 2; k++) {
                        int64_t d = k == 0 ? u->lastchg : u->expire;
                        time_t t = (time_t)(d * 86400);
                        struct tm tm;
                        if (d < 0 || !gmtime_r(&t, &tm)) {
                                json_object_set_new(aging, k ? "expires" : "last_change",
                                                    json_null());
                                continue;
                        }
                        strftime(day, sizeof day, "%Y-%m-%d", &tm);
                        json_object_set_new(aging, k ? "expires" : "last_change", json_string(day));
                }
                json_object_set_new(o, "aging", aging);
        }
        {
                struct lastlog ll;
                int fd = open("/var/log/lastlog", O_RDONLY | O_CLOEXEC);
                json_t *last = json_null();
                if (fd >= 0) {
                        if (pread(fd, &ll, sizeof ll, (off_t)u->uid * (off_t)sizeof ll) ==
                                    (ssize_t)sizeof ll &&
                            ll.ll_time > 0) {
                                char line[sizeof ll.ll_line + 1], host[sizeof ll.ll_host + 1];
                                snprintf(line, sizeof line, "%.*s", (int)sizeof ll.ll_line,
                                         ll.ll_line);
                                snprintf(host, sizeof host, "%.*s", (int)sizeof ll.ll_host,
                                         ll.ll_host);
                                utf8_sanitize(line);
                                utf8_sanitize(host);
                                json_decref(last);
                                last = json_pack("{s:I, s:s, s:s}", "time", (json_int_t)ll.ll_time,
                                                 "line", line, "host", host);
                        }
                        close(fd);
                }
                json_object_set_new(o, "last_login", last ? last : json_null());
        }
        {
                struct stat st;
                bool exists = u->home[0] == '/' && lstat(u->home, &st) == 0 && S_ISDIR(st.st_mode);
                json_object_set_new(o, "home_exists", json_boolean(exists));
                if (home_size && exists)
                        home_size_json(o, u->home);
        }
        return o;
}

/* "home_size" in bytes, with "home_size_partial": true when the walk ran
 * out of time (the size is then a lower bound); null if it failed. */
static void home_size_json(json_t *o, const char *home) {
        uint64_t size = 0;
        int r = users_dir_size(home, HOME_SIZE_BUDGET_USEC, &size);

        json_object_set_new(o, "home_size", r >= 0 ? json_integer((json_int_t)size) : json_null());
        if (r > 0)
                json_object_set_new(o, "home_size_partial", json_true());
}

static __thread uint64_t size_total, size_entries, size_deadline;

static int size_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)path;
        (void)type;
        (void)ftw;
        size_total += (uint64_t)st->st_blocks * 512u;
        /* A huge tree must not hold a worker (and a channel to the
         * helper) for long: what was counted by then is a lower bound. */
        if (++size_entries % 64 == 0 && now_usec() > size_deadline)
                return 1;
        return 0;
}

int users_dir_size(const char *dir, uint64_t budget_usec, uint64_t *ret) {
        int r;

        size_total = size_entries = 0;
        size_deadline = now_usec() + budget_usec;
        r = nftw(dir, size_entry, 32, FTW_PHYS | FTW_MOUNT);
        if (r < 0)
                return -errno;
        *ret = size_total;
        return r > 0 ? 1 : 0;
}

/* ---- the list as JSON text ------------------------------------------------------ */

/* The list is written straight into the buffer: each user's room is
 * reserved once, for the longest form its fields can take (a byte becomes
 * at most six: \u00XX), then filled without further checks. */
#define JT_STR_MAX(n) (6 * (n) + 2)

/* Writes s (n bytes) as a JSON string at p, which has JT_STR_MAX(n) bytes
 * of room; returns the end.  Bytes that are not UTF-8 become '?'. */
static char *jt_str_at(char *p, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *u = (const unsigned char *)s, *end = u + n;

        *p++ = '"';
        while (u < end) {
                unsigned char c;
                size_t cl;
                if (end - u >= 8) {
                        /* Eight bytes at a time while none is a control
                         * character, '"', '\\' or not ASCII: the high bit
                         * of a byte of m is set for each such byte (and may
                         * be for bytes after one), never for none. */
                        const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
                        uint64_t x, q, b, m;
                        memcpy(&x, u, 8);
                        q = x ^ (ones * '"');
                        b = x ^ (ones * '\\');
                        m = (x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) &
                            highs;
                        if (m == 0) {
                                memcpy(p, u, 8);
                                p += 8;
                                u += 8;
                                continue;
                        }
                }
                c = *u;
                if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                        *p++ = (char)c;
                        u++;
                } else if (c >= 0x80) {
                        cl = utf8_char_len(u, (size_t)(end - u));
                        if (cl == 0) {
                                *p++ = '?';
                                u++;
                        } else {
                                memcpy(p, u, cl);
                                p += cl;
                                u += cl;
                        }
                } else if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char)c;
                        u++;
                } else {
                        memcpy(p, "\\u00", 4);
                        p[4] = hex[c >> 4];
                        p[5] = hex[c & 15];
                        p += 6;
                        u++;
                }
        }
        *p++ = '"';
        return p;
}

static char *jt_lit_at(char *p, const char *s, size_t n) {
        memcpy(p, s, n);
        return p + n;
}

#define JT_LIT(p, s) jt_lit_at(p, s, sizeof(s) - 1)

static char *jt_u32_at(char *p, uint32_t v) {
        char d[10];
        size_t n = 0;

        do
                d[sizeof d - ++n] = (char)('0' + v % 10);
        while ((v /= 10) && n < sizeof d);
        return jt_lit_at(p, d + sizeof d - n, n);
}

/* Appends s as a JSON string. */
static void jt_str(struct buf *b, const char *s, int *r) {
        size_t n = strlen(s);

        if (*r >= 0)
                *r = buf_reserve(b, JT_STR_MAX(n));
        if (*r < 0)
                return;
        b->len = (size_t)(jt_str_at(b->data + b->len, s, n) - b->data);
        b->data[b->len] = '\0';
}

static void jt_raw(struct buf *b, const char *s, int *r) {
        if (*r >= 0)
                *r = buf_puts(b, s);
}

/* The names in each home root (/home): a home under a root that is not
 * there has no authorized_keys to count, without a failed open per user. */
struct home_set {
        char root[STEWARD_LIST_ITEM_MAX + 1]; /* the first home root */
        char **names;
        size_t n;
};

static int cmp_name(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void home_set_load(struct home_set *hs) {
        DIR *d;
        struct dirent *de;
        size_t cap = 0;

        struct steward_config cfg;
        const char *roots[HOME_ROOTS_MAX + 1];

        *hs = (struct home_set){0};
        users_home_roots(&cfg, roots);
        if (!roots[0])
                return;
        snprintf(hs->root, sizeof hs->root, "%s", roots[0]);
        d = opendir(hs->root);
        if (!d)
                return;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (hs->n == cap) {
                        char **nv = reallocarray(hs->names, cap = cap ? cap * 2 : 64, sizeof *nv);
                        if (!nv)
                                break;
                        hs->names = nv;
                }
                if (!(hs->names[hs->n] = strdup(de->d_name)))
                        break;
                hs->n++;
        }
        closedir(d);
        if (hs->n)
                qsort(hs->names, hs->n, sizeof *hs->names, cmp_name);
}

static void home_set_done(struct home_set *hs) {
        for (size_t i = 0; i < hs->n; i++)
                free(hs->names[i]);
        free(hs->names);
}

/* False only when home is directly under the root and absent from it. */
static bool home_may_exist(const struct home_set *hs, const char *home) {
        size_t rl = strlen(hs->root), nl;
        const char *name = home + rl + 1, *slash;
        char first[256];
        const char *key = first;

        if (rl == 0 || strncmp(home, hs->root, rl) != 0 || home[rl] != '/')
                return true;
        if (hs->n == 0)
                return false;
        slash = strchr(name, '/');
        nl = slash ? (size_t)(slash - name) : strlen(name);
        if (nl >= sizeof first) /* longer than any name in a directory */
                return false;
        memcpy(first, name, nl);
        first[nl] = '\0';
        return bsearch(&key, hs->names, hs->n, sizeof *hs->names, cmp_name) != NULL;
}

static void jt_user(struct buf *b, const struct acctdb *db, const struct acct_user *u, int64_t day,
                    const struct home_set *hs, int *r) {
        const struct acct_group *pg = acctdb_group_by_gid(db, u->gid);
        uint32_t chain = acctdb_member_chain(db, u->name);
        _cleanup_free_ char *keys = NULL;
        size_t ln = strlen(u->name), lg = strlen(u->gecos), lh = strlen(u->home),
               ls = strlen(u->shell), room = 256, first;
        bool system = u->uid < db->defs.uid_min || u->uid > db->defs.uid_max;
        char *p;

        if (*r < 0)
                return;
        if (u->local && u->home[0] == '/' && home_may_exist(hs, u->home))
                (void)read_auth_keys(u->home, &keys);
        room += JT_STR_MAX(ln) + JT_STR_MAX(lg) + JT_STR_MAX(lh) + JT_STR_MAX(ls) +
                (pg ? JT_STR_MAX(strlen(pg->name)) : 0);
        for (uint32_t e = chain; e; e = db->members[e - 1].next)
                room += JT_STR_MAX(strlen(db->groups[db->members[e - 1].group].name)) + 1;
        if ((*r = buf_reserve(b, room)) < 0)
                return;
        p = b->data + b->len;
        p = JT_LIT(p, "{\"name\":");
        p = jt_str_at(p, u->name, ln);
        p = JT_LIT(p, ",\"uid\":");
        p = jt_u32_at(p, u->uid);
        p = JT_LIT(p, ",\"gid\":");
        p = jt_u32_at(p, u->gid);
        p = JT_LIT(p, ",\"group\":");
        p = pg ? jt_str_at(p, pg->name, strlen(pg->name)) : JT_LIT(p, "null");
        p = JT_LIT(p, ",\"groups\":[");
        first = (size_t)(p - b->data);
        for (uint32_t e = chain; e; e = db->members[e - 1].next) {
                const char *g = db->groups[db->members[e - 1].group].name;
                if ((size_t)(p - b->data) != first)
                        *p++ = ',';
                p = jt_str_at(p, g, strlen(g));
        }
        p = JT_LIT(p, "],\"full_name\":");
        p = jt_str_at(p, u->gecos, lg);
        p = JT_LIT(p, ",\"home\":");
        p = jt_str_at(p, u->home, lh);
        p = JT_LIT(p, ",\"shell\":");
        p = jt_str_at(p, u->shell, ls);
        p = JT_LIT(p, ",\"password_state\":\"");
        {
                const char *st = u->local ? acct_password_state(u, day) : "none";
                p = jt_lit_at(p, st, strlen(st));
        }
        p = u->local ? JT_LIT(p, "\",\"local\":true,\"ssh_keys\":")
                     : JT_LIT(p, "\",\"local\":false,\"ssh_keys\":");
        p = jt_u32_at(p, count_keys(keys));
        p = system ? JT_LIT(p, ",\"system\":true}") : JT_LIT(p, ",\"system\":false}");
        b->len = (size_t)(p - b->data);
        b->data[b->len] = '\0';
}

int users_list_text(const struct module_ctx *ctx, json_t *query, char **ret, size_t *ret_len,
                    struct module_error *err) {
        const char *type = json_string_value(json_object_get(query, "type"));
        const char *group = json_string_value(json_object_get(query, "group"));
        const char *prefix = json_string_value(json_object_get(query, "prefix"));
        const char *cursor = json_string_value(json_object_get(query, "cursor"));
        const struct acct_group *g = NULL;
        const struct acct_user **sorted = NULL;
        struct home_set homes;
        const char *last = "";
        struct acctdb db;
        struct buf b;
        size_t limit, i = 0, n = 0, pl = prefix ? strlen(prefix) : 0;
        int64_t day = today();
        int r;

        if (type && !STREQ(type, "regular") && !STREQ(type, "system") && !STREQ(type, "all")) {
                module_error_set(err, 400, "invalid_argument", "type",
                                 "type is regular, system or all");
                return -EINVAL;
        }
        if (cursor && !account_name_valid(cursor) && cursor[0]) {
                module_error_set(err, 400, "invalid_argument", "cursor", "not a cursor");
                return -EINVAL;
        }
        r = acct_query_limit(query, &limit, err);
        if (r < 0)
                return r;
        r = acctdb_load(&db, true);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read the accounts: %s",
                                 strerror(-r));
                return r;
        }
        if (group && !(g = acctdb_group(&db, group))) {
                acctdb_done(&db);
                module_error_set(err, 404, "not_found", "group", "no group \"%.64s\"", group);
                return -ENOENT;
        }
        r = acctdb_sorted_users(&db, &sorted);
        if (r < 0) {
                acctdb_done(&db);
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return r;
        }
        home_set_load(&homes);
        buf_init(&b, 1u << 30);
        /* Room for the usual size of an entry, so the text is not copied as
         * it grows. */
        if (db.n_users < (1u << 20) && (b.data = malloc(256 * db.n_users + 64))) {
                b.cap = 256 * db.n_users + 64;
                b.data[0] = '\0';
        }
        jt_raw(&b, "{\"users\":[", &r);
        if (cursor)
                while (i < db.n_users && strcmp(sorted[i]->name, cursor) <= 0)
                        i++;
        for (; r >= 0 && i < db.n_users; i++) {
                const struct acct_user *u = sorted[i];
                bool system = u->uid < db.defs.uid_min || u->uid > db.defs.uid_max;
                if (type &&
                    ((STREQ(type, "regular") && system) || (STREQ(type, "system") && !system)))
                        continue;
                if (pl && strncmp(u->name, prefix, pl) != 0)
                        continue;
                if (g && u->gid != g->gid) {
                        bool member = false;
                        for (size_t k = 0; k < g->n_members && !member; k++)
                                member = STREQ(g->members[k], u->name);
                        if (!member)
                                continue;
                }
                if (n == limit) {
                        jt_raw(&b, "],\"next\":", &r);
                        jt_str(&b, last, &r);
                        jt_raw(&b, "}", &r);
                        break;
                }
                if (n++)
                        jt_raw(&b, ",", &r);
                jt_user(&b, &db, u, day, &homes, &r);
                last = u->name;
        }
        if (i >= db.n_users)
                jt_raw(&b, "]}", &r);
        free(sorted);
        home_set_done(&homes);
        acctdb_done(&db);
        if (r < 0) {
                buf_free(&b);
                module_error_set(err, 500, "internal", NULL, "cannot make the list: %s",
                                 strerror(-r));
                return r;
        }
        *ret_len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

int users_show_json(const char *name, bool home_size, json_t **ret, struct module_error *err) {
        struct acctdb db;
        const struct acct_user *u;
        int r;

        if (!account_name_valid(name)) {
                module_error_set(err, 404, "not_found", NULL, "no user \"%.64s\"", name);
                return -ENOENT;
        }
        r = acctdb_load(&db, true);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read the accounts: %s",
                                 strerror(-r));
                return r;
        }
        u = acctdb_user(&db, name);
        *ret = u ? user_json(&db, u, true, home_size) : NULL;
        acctdb_done(&db);
        if (!u) {
                module_error_set(err, 404, "not_found", NULL, "no user \"%.64s\"", name);
                return -ENOENT;
        }
        return *ret ? 0 : -ENOMEM;
}

int users_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
               struct module_error *err) {
        return users_show_json(id, acct_query_flag(query, "home_size"), ret, err);
}

static int status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        struct steward_config cfg;
        const char *roots[HOME_ROOTS_MAX + 1];
        struct login_defs d;
        json_t *r = json_array();

        (void)acct_login_defs(&d);
        users_home_roots(&cfg, roots);
        for (size_t i = 0; r && roots[i]; i++)
                json_array_append_new(r, json_string(roots[i]));
        *ret = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "state", "running", "uid_min",
                         (json_int_t)d.uid_min, "uid_max", (json_int_t)d.uid_max, "gid_min",
                         (json_int_t)d.gid_min, "gid_max", (json_int_t)d.gid_max, "home_roots",
                         r ? r : json_array());
        return *ret ? 0 : -ENOMEM;
}

const module_t module_users = {
        .name = "users",
        .summary = "Local user accounts: list, show, create, modify, lock, delete",
        .console_title = "Users & groups",
        .status = status,
        .collections = users_collections,
        .n_collections = ELEMENTSOF(users_collections),
        .file_restore = users_file_restore,
        .change = &account_change_hooks,
};
