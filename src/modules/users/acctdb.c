/* acctdb.c — see acctdb.h. */
#include "modules/users/acctdb.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/stewardd/stewardd.h"
#include "util.h"

#define SMALL_FILE_MAX (1u << 20)
#define TEXT_MAX       (64u << 20)

static int cmp_user(const void *a, const void *b) {
        return strcmp(((const struct acct_user *)a)->name, ((const struct acct_user *)b)->name);
}
static int cmp_group(const void *a, const void *b) {
        return strcmp(((const struct acct_group *)a)->name, ((const struct acct_group *)b)->name);
}
static int cmp_user_order(const void *a, const void *b) {
        const struct acct_user *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : x->order < y->order ? -1 : x->order > y->order;
}
static int cmp_group_order(const void *a, const void *b) {
        const struct acct_group *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : x->order < y->order ? -1 : x->order > y->order;
}
static int cmp_gid(const void *a, const void *b) {
        const struct acct_group *x = *(struct acct_group *const *)a,
                                *y = *(struct acct_group *const *)b;
        return x->gid < y->gid ? -1 : x->gid > y->gid ? 1 : x->order < y->order ? -1 : 1;
}
static int cmp_member(const void *a, const void *b) {
        const struct acct_member *x = a, *y = b;
        int c = strcmp(x->member, y->member);
        return c ? c : strcmp(x->group, y->group);
}

static void free_user(struct acct_user *u) {
        free(u->name);
        free(u->gecos);
        free(u->home);
        free(u->shell);
        if (u->pw)
                explicit_bzero(u->pw, strlen(u->pw));
        free(u->pw);
}

static void free_group(struct acct_group *g) {
        for (size_t j = 0; j < g->n_members; j++)
                free(g->members[j]);
        free(g->members);
        free(g->name);
}

/* Sorts by name; of entries with the same name keeps the first NSS gave. */
static int index_db(struct acctdb *db) {
        size_t k = 0, m = 0;

        if (db->n_users) {
                qsort(db->users, db->n_users, sizeof *db->users, cmp_user_order);
                for (size_t i = 0; i < db->n_users; i++) {
                        if (k && STREQ(db->users[k - 1].name, db->users[i].name))
                                free_user(&db->users[i]);
                        else
                                db->users[k++] = db->users[i];
                }
                db->n_users = k;
        }
        k = 0;
        if (db->n_groups) {
                qsort(db->groups, db->n_groups, sizeof *db->groups, cmp_group_order);
                for (size_t i = 0; i < db->n_groups; i++) {
                        if (k && STREQ(db->groups[k - 1].name, db->groups[i].name))
                                free_group(&db->groups[i]);
                        else
                                db->groups[k++] = db->groups[i];
                }
                db->n_groups = k;
        }
        db->by_gid = calloc(db->n_groups + 1, sizeof *db->by_gid);
        if (!db->by_gid)
                return -ENOMEM;
        for (size_t i = 0; i < db->n_groups; i++) {
                db->by_gid[i] = &db->groups[i];
                m += db->groups[i].n_members;
        }
        if (db->n_groups)
                qsort(db->by_gid, db->n_groups, sizeof *db->by_gid, cmp_gid);
        db->by_member = calloc(m + 1, sizeof *db->by_member);
        if (!db->by_member)
                return -ENOMEM;
        for (size_t i = 0; i < db->n_groups; i++)
                for (size_t j = 0; j < db->groups[i].n_members; j++)
                        db->by_member[db->n_by_member++] =
                                (struct acct_member){db->groups[i].members[j], db->groups[i].name};
        if (db->n_by_member)
                qsort(db->by_member, db->n_by_member, sizeof *db->by_member, cmp_member);
        return 0;
}

int acctdb_member_of(const struct acctdb *db, const char *user, const char ***ret, size_t *ret_n) {
        size_t lo = 0, hi = db->n_by_member, n = 0;
        const char **v;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(db->by_member[mid].member, user) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < db->n_by_member && STREQ(db->by_member[i].member, user); i++)
                n++;
        v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = db->by_member[lo + i].group;
        /* a member listed twice in one group shows once */
        *ret = v;
        *ret_n = n;
        return 0;
}
static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of a colon file's entries (first field). */
static int names_of(const char *path, char ***ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, pos = 0, n = 0, cap = 0, ll;
        const char *line;
        char **v = NULL;
        int r = read_file(path, TEXT_MAX, &text, &len);

        if (r == -ENOENT)
                r = 0, len = 0;
        if (r < 0)
                return r;
        while (text && text_next_line(text, len, &pos, &line, &ll)) {
                const char *c = memchr(line, ':', ll);
                if (!c || c == line)
                        continue;
                if (n == cap) {
                        char **nv = reallocarray(v, cap = cap ? cap * 2 : 64, sizeof *v);
                        if (!nv)
                                goto oom;
                        v = nv;
                }
                if (!(v[n] = strndup(line, (size_t)(c - line))))
                        goto oom;
                n++;
        }
        if (n)
                qsort(v, n, sizeof *v, cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
oom:
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
        return -ENOMEM;
}

static bool in_names(char **v, size_t n, const char *name) {
        return n && bsearch(&name, v, n, sizeof *v, cmp_str);
}

static void free_names(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int64_t field_i64(const struct colon_line *l, size_t i) {
        uint32_t v;
        return colon_u32(l, i, &v) < 0 ? -1 : (int64_t)v;
}

static int load_shadow(struct acctdb *db) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, pos = 0, ll;
        const char *line;
        int r = read_file("/etc/shadow", TEXT_MAX, &text, &len);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        while (text_next_line(text, len, &pos, &line, &ll)) {
                struct colon_line l;
                _cleanup_free_ char *name = NULL;
                struct acct_user *u;

                if (colon_split(line, ll, 2, 9, &l) < 0)
                        continue;
                name = strndup(l.f[0], l.len[0]);
                if (!name)
                        return -ENOMEM;
                u = (struct acct_user *)acctdb_user(db, name);
                if (!u || !u->local || u->has_shadow)
                        continue;
                u->pw = strndup(l.f[1], l.len[1]);
                if (!u->pw)
                        return -ENOMEM;
                u->has_shadow = true;
                u->lastchg = field_i64(&l, 2);
                u->min = field_i64(&l, 3);
                u->max = field_i64(&l, 4);
                u->warn = field_i64(&l, 5);
                u->inactive = field_i64(&l, 6);
                u->expire = field_i64(&l, 7);
        }
        explicit_bzero(text, len);
        return 0;
}

int acctdb_load(struct acctdb *db, bool with_shadow) {
        char **lp = NULL, **lg = NULL;
        size_t nlp = 0, nlg = 0, cap = 0;
        struct passwd *pw;
        struct group *gr;
        int r;

        *db = (struct acctdb){0};
        (void)acct_login_defs(&db->defs);
        r = names_of("/etc/passwd", &lp, &nlp);
        if (r >= 0)
                r = names_of("/etc/group", &lg, &nlg);
        if (r < 0)
                goto out;
        setpwent();
        while ((pw = getpwent())) {
                struct acct_user *u;
                if (db->n_users == cap) {
                        struct acct_user *nu =
                                reallocarray(db->users, cap = cap ? cap * 2 : 256, sizeof *nu);
                        if (!nu) {
                                r = -ENOMEM;
                                break;
                        }
                        db->users = nu;
                }
                u = &db->users[db->n_users];
                *u = (struct acct_user){.uid = pw->pw_uid, .gid = pw->pw_gid};
                u->name = strdup(pw->pw_name);
                u->gecos = strdup(pw->pw_gecos ? pw->pw_gecos : "");
                u->home = strdup(pw->pw_dir ? pw->pw_dir : "");
                u->shell = strdup(pw->pw_shell ? pw->pw_shell : "");
                u->local = in_names(lp, nlp, pw->pw_name);
                u->lastchg = u->min = u->max = u->warn = u->inactive = u->expire = -1;
                u->order = db->n_users;
                db->n_users++;
                if (!u->name || !u->gecos || !u->home || !u->shell) {
                        r = -ENOMEM;
                        break;
                }
        }
        endpwent();
        if (r < 0)
                goto out;
        cap = 0;
        setgrent();
        while ((gr = getgrent())) {
                struct acct_group *g;
                size_t m = 0;
                if (db->n_groups == cap) {
                        struct acct_group *ng =
                                reallocarray(db->groups, cap = cap ? cap * 2 : 256, sizeof *ng);
                        if (!ng) {
                                r = -ENOMEM;
                                break;
                        }
                        db->groups = ng;
                }
                g = &db->groups[db->n_groups];
                *g = (struct acct_group){.gid = gr->gr_gid, .order = db->n_groups};
                db->n_groups++;
                g->name = strdup(gr->gr_name);
                g->local = in_names(lg, nlg, gr->gr_name);
                while (gr->gr_mem && gr->gr_mem[m])
                        m++;
                g->members = calloc(m + 1, sizeof *g->members);
                if (!g->name || !g->members) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t i = 0; i < m; i++)
                        if (!(g->members[g->n_members++] = strdup(gr->gr_mem[i]))) {
                                r = -ENOMEM;
                                break;
                        }
        }
        endgrent();
        if (r >= 0)
                r = index_db(db);
        if (r >= 0 && with_shadow)
                r = load_shadow(db);
out:
        free_names(lp, nlp);
        free_names(lg, nlg);
        if (r < 0)
                acctdb_done(db);
        return r;
}

void acctdb_done(struct acctdb *db) {
        for (size_t i = 0; i < db->n_users; i++)
                free_user(&db->users[i]);
        for (size_t i = 0; i < db->n_groups; i++)
                free_group(&db->groups[i]);
        free(db->by_gid);
        free(db->by_member);
        free(db->users);
        free(db->groups);
        *db = (struct acctdb){0};
}

const struct acct_user *acctdb_user(const struct acctdb *db, const char *name) {
        struct acct_user key = {.name = (char *)name};
        return db->n_users ? bsearch(&key, db->users, db->n_users, sizeof key, cmp_user) : NULL;
}

const struct acct_group *acctdb_group(const struct acctdb *db, const char *name) {
        struct acct_group key = {.name = (char *)name};
        return db->n_groups ? bsearch(&key, db->groups, db->n_groups, sizeof key, cmp_group) : NULL;
}

const struct acct_group *acctdb_group_by_gid(const struct acctdb *db, uint32_t gid) {
        size_t lo = 0, hi = db->n_groups;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (db->by_gid[mid]->gid < gid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < db->n_groups && db->by_gid[lo]->gid == gid ? db->by_gid[lo] : NULL;
}

const char *acct_password_state(const struct acct_user *u, int64_t today) {
        const char *pw = u->pw;

        if (!u->has_shadow || !pw)
                return "none";
        if (pw[0] == '!')
                return "locked";
        if (pw[0] == '\0' || STREQ(pw, "*") || STREQ(pw, "x"))
                return "none";
        if (u->lastchg == 0 ||
            (u->max >= 0 && u->lastchg > 0 && u->max < 99999 && u->lastchg + u->max < today))
                return "expired";
        return "set";
}

int acct_login_defs(struct login_defs *ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file("/etc/login.defs", SMALL_FILE_MAX, &text, &len);

        if (r < 0) {
                login_defs_default(ret);
                return r == -ENOENT ? 0 : r;
        }
        r = login_defs_parse(text, len, ret);
        if (r < 0)
                login_defs_default(ret);
        return r;
}

bool acct_shell_allowed(const char *shell) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        return read_file("/etc/shells", SMALL_FILE_MAX, &text, &len) >= 0 &&
               shells_contains(text, len, shell);
}

bool acct_query_flag(json_t *query, const char *key) {
        const char *v = json_string_value(json_object_get(query, key));
        return v && (STREQ(v, "1") || STREQ(v, "true") || STREQ(v, "yes") || STREQ(v, ""));
}

int acct_query_limit(json_t *query, size_t *ret, struct module_error *err) {
        const char *v = json_string_value(json_object_get(query, "limit"));
        uint64_t n;

        if (!v) {
                *ret = ACCT_LIST_DEFAULT;
                return 0;
        }
        if (safe_atou64(v, &n) < 0 || n < 1 || n > ACCT_LIST_MAX) {
                module_error_set(err, 400, "invalid_argument", "limit", "limit is 1 to %d",
                                 ACCT_LIST_MAX);
                return -EINVAL;
        }
        *ret = (size_t)n;
        return 0;
}

/* ---- guards ------------------------------------------------------------------- */

/* Field 0 of every line whose field `idx` equals value (or all when value
 * is NULL) is not needed; instead: does text hold an entry named name, and
 * its field idx as a view. */
static bool entry_field(const char *text, size_t len, const char *name, size_t idx,
                        const char **ret, size_t *ret_len) {
        size_t pos = 0, ll, nl = strlen(name);
        const char *line;

        while (text && text_next_line(text, len, &pos, &line, &ll)) {
                struct colon_line l;
                if (colon_split(line, ll, 1, 9, &l) < 0 || l.len[0] != nl ||
                    memcmp(l.f[0], name, nl) != 0)
                        continue;
                if (idx >= l.n)
                        return false;
                *ret = l.f[idx];
                *ret_len = l.len[idx];
                return true;
        }
        return false;
}

static bool list_has(const char *list, size_t len, const char *name) {
        size_t nl = strlen(name), s = 0;
        for (size_t i = 0; i <= len; i++)
                if (i == len || list[i] == ',') {
                        if (i - s == nl && memcmp(list + s, name, nl) == 0)
                                return true;
                        s = i + 1;
                }
        return false;
}

/* Is user an admin in this state: not root, has the account, not locked,
 * and in an admin group (as a member or by primary group). */
static bool is_admin(const struct account_state *s, const char *user,
                     const struct steward_config *cfg) {
        const char *v, *pw;
        size_t vl, pl;
        uint32_t gid = UINT32_MAX;
        struct colon_line l = {.n = 1};

        if (!entry_field(s->text[0], s->len[0], user, 3, &v, &vl))
                return false;
        l.f[0] = v;
        l.len[0] = vl;
        (void)colon_u32(&l, 0, &gid);
        if (entry_field(s->text[0], s->len[0], user, 2, &v, &vl) && vl == 1 && v[0] == '0')
                return false; /* root is always admin; it does not count */
        if (entry_field(s->text[1], s->len[1], user, 1, &pw, &pl) && pl > 0 &&
            (pw[0] == '!' || pw[0] == '*'))
                return false;
        for (size_t i = 0; i < cfg->admin_groups.n; i++) {
                const char *g = cfg->admin_groups.name[i];
                if (entry_field(s->text[2], s->len[2], g, 3, &v, &vl) && list_has(v, vl, user))
                        return true;
                if (entry_field(s->text[2], s->len[2], g, 2, &v, &vl)) {
                        struct colon_line k = {.n = 1, .f = {v}, .len = {vl}};
                        uint32_t ggid;
                        if (colon_u32(&k, 0, &ggid) >= 0 && ggid == gid)
                                return true;
                }
        }
        return false;
}

static size_t count_admins(const struct account_state *s, const struct steward_config *cfg) {
        size_t pos = 0, ll, n = 0;
        const char *line;

        while (s->text[0] && text_next_line(s->text[0], s->len[0], &pos, &line, &ll)) {
                const char *c = memchr(line, ':', ll);
                char name[ACCOUNT_NAME_MAX + 1];
                if (!c || (size_t)(c - line) > ACCOUNT_NAME_MAX || c == line)
                        continue;
                memcpy(name, line, (size_t)(c - line));
                name[c - line] = '\0';
                if (is_admin(s, name, cfg))
                        n++;
        }
        return n;
}

static bool is_locked(const struct account_state *s, const char *user) {
        const char *pw;
        size_t pl;
        return entry_field(s->text[1], s->len[1], user, 1, &pw, &pl) && pl > 0 && pw[0] == '!';
}

int acct_guard(const struct account_state *before, const struct account_state *after, void *data,
               struct module_error *err) {
        const char *self = data;
        struct steward_config cfg;
        const char *v;
        size_t vl;

        stewardd_config_get(&cfg);
        if (self && entry_field(before->text[0], before->len[0], self, 0, &v, &vl)) {
                if (!entry_field(after->text[0], after->len[0], self, 0, &v, &vl)) {
                        module_error_set(err, 409, "self", NULL,
                                         "you cannot delete or rename your own account (%s) "
                                         "through Steward",
                                         self);
                        return -EPERM;
                }
                if (!is_locked(before, self) && is_locked(after, self)) {
                        module_error_set(err, 409, "self", "locked",
                                         "you cannot lock your own account (%s) through Steward",
                                         self);
                        return -EPERM;
                }
                if (is_admin(before, self, &cfg) && !is_admin(after, self, &cfg)) {
                        module_error_set(err, 409, "self", NULL,
                                         "this would take your own admin role (%s) away; another "
                                         "administrator can do it",
                                         self);
                        return -EPERM;
                }
        }
        if (count_admins(before, &cfg) > 0 && count_admins(after, &cfg) == 0) {
                module_error_set(err, 409, "last_admin", NULL,
                                 "this would leave no administrator: the last member of an "
                                 "admin group (stewardd:auth:admin_groups) must stay");
                return -EPERM;
        }
        return 0;
}
