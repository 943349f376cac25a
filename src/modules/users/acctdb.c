/* acctdb.c — see acctdb.h.
 *
 * Lookups are hash indexes (FNV-1a, open addressing, at most half full):
 * a list of ten thousand users makes some fifty thousand lookups, and
 * sorted arrays with strcmp made that the most expensive part of a list.
 * Only the lists sort, once, by name. */
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
#define ENTRIES_MAX    (1u << 24)

static uint32_t hash_bytes(const char *s, size_t n) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        return h;
}

static uint32_t hash_u32(uint32_t v) {
        v ^= v >> 16;
        v *= 0x7feb352du;
        v ^= v >> 15;
        v *= 0x846ca68bu;
        return v ^ (v >> 16);
}

static int index_init(struct acct_index *x, size_t n) {
        size_t cap = 16;
        while (cap < 2 * n + 2)
                cap *= 2;
        x->slot = calloc(cap, sizeof *x->slot);
        x->mask = cap - 1;
        return x->slot ? 0 : -ENOMEM;
}

static bool name_is(const char *name, const char *s, size_t n) {
        return strncmp(name, s, n) == 0 && name[n] == '\0';
}

static const struct acct_user *user_n(const struct acctdb *db, const char *s, size_t n) {
        if (!db->user_by_name.slot)
                return NULL;
        for (size_t i = hash_bytes(s, n) & db->user_by_name.mask;;
             i = (i + 1) & db->user_by_name.mask) {
                uint32_t v = db->user_by_name.slot[i];
                if (v == 0)
                        return NULL;
                if (name_is(db->users[v - 1].name, s, n))
                        return &db->users[v - 1];
        }
}

static const struct acct_group *group_n(const struct acctdb *db, const char *s, size_t n) {
        if (!db->group_by_name.slot)
                return NULL;
        for (size_t i = hash_bytes(s, n) & db->group_by_name.mask;;
             i = (i + 1) & db->group_by_name.mask) {
                uint32_t v = db->group_by_name.slot[i];
                if (v == 0)
                        return NULL;
                if (name_is(db->groups[v - 1].name, s, n))
                        return &db->groups[v - 1];
        }
}

const struct acct_user *acctdb_user(const struct acctdb *db, const char *name) {
        return name ? user_n(db, name, strlen(name)) : NULL;
}

const struct acct_group *acctdb_group(const struct acctdb *db, const char *name) {
        return name ? group_n(db, name, strlen(name)) : NULL;
}

const struct acct_group *acctdb_group_by_gid(const struct acctdb *db, uint32_t gid) {
        if (!db->group_by_gid.slot)
                return NULL;
        for (size_t i = hash_u32(gid) & db->group_by_gid.mask;;
             i = (i + 1) & db->group_by_gid.mask) {
                uint32_t v = db->group_by_gid.slot[i];
                if (v == 0)
                        return NULL;
                if (db->groups[v - 1].gid == gid)
                        return &db->groups[v - 1];
        }
}

int acctdb_member_of(const struct acctdb *db, const char *user, const char ***ret, size_t *ret_n) {
        size_t n = 0, len = strlen(user);
        uint32_t head = 0;
        const char **v;

        if (db->member_by_name.slot)
                for (size_t i = hash_bytes(user, len) & db->member_by_name.mask;;
                     i = (i + 1) & db->member_by_name.mask) {
                        uint32_t s = db->member_by_name.slot[i];
                        if (s == 0)
                                break;
                        if (STREQ(db->members[s - 1].member, user)) {
                                head = s;
                                break;
                        }
                }
        for (uint32_t e = head; e; e = db->members[e - 1].next)
                n++;
        v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        n = 0;
        for (uint32_t e = head; e; e = db->members[e - 1].next)
                v[n++] = db->groups[db->members[e - 1].group].name;
        *ret = v;
        *ret_n = n;
        return 0;
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

/* Builds the indexes; drops entries whose name came before (NSS gives the
 * first), keeping the others in order. */
static int index_db(struct acctdb *db) {
        size_t k = 0, m = 0;
        int r;

        if ((r = index_init(&db->user_by_name, db->n_users)) < 0)
                return r;
        for (size_t i = 0; i < db->n_users; i++) {
                struct acct_user *u = &db->users[i];
                size_t len = strlen(u->name), s;
                bool dup = false;
                for (s = hash_bytes(u->name, len) & db->user_by_name.mask; db->user_by_name.slot[s];
                     s = (s + 1) & db->user_by_name.mask)
                        if (STREQ(db->users[db->user_by_name.slot[s] - 1].name, u->name)) {
                                dup = true;
                                break;
                        }
                if (dup) {
                        free_user(u);
                        continue;
                }
                db->users[k] = *u;
                db->user_by_name.slot[s] = (uint32_t)++k;
        }
        db->n_users = k;

        k = 0;
        if ((r = index_init(&db->group_by_name, db->n_groups)) < 0 ||
            (r = index_init(&db->group_by_gid, db->n_groups)) < 0)
                return r;
        for (size_t i = 0; i < db->n_groups; i++) {
                struct acct_group *g = &db->groups[i];
                size_t len = strlen(g->name), s;
                bool dup = false;
                for (s = hash_bytes(g->name, len) & db->group_by_name.mask;
                     db->group_by_name.slot[s]; s = (s + 1) & db->group_by_name.mask)
                        if (STREQ(db->groups[db->group_by_name.slot[s] - 1].name, g->name)) {
                                dup = true;
                                break;
                        }
                if (dup) {
                        free_group(g);
                        continue;
                }
                db->groups[k] = *g;
                db->group_by_name.slot[s] = (uint32_t)++k;
                m += db->groups[k - 1].n_members;
        }
        db->n_groups = k;
        for (size_t i = 0; i < db->n_groups; i++) {
                size_t s = hash_u32(db->groups[i].gid) & db->group_by_gid.mask;
                bool seen = false;
                for (; db->group_by_gid.slot[s]; s = (s + 1) & db->group_by_gid.mask)
                        if (db->groups[db->group_by_gid.slot[s] - 1].gid == db->groups[i].gid) {
                                seen = true; /* the first group with a gid names it */
                                break;
                        }
                if (!seen)
                        db->group_by_gid.slot[s] = (uint32_t)(i + 1);
        }

        if (m > ENTRIES_MAX)
                return -E2BIG;
        db->members = calloc(m + 1, sizeof *db->members);
        if (!db->members || (r = index_init(&db->member_by_name, m)) < 0)
                return -ENOMEM;
        /* Chains keep the groups' order: append at each chain's tail, found
         * through a per-chain tail kept in a second pass-free way (walk). */
        for (size_t i = 0; i < db->n_groups; i++)
                for (size_t j = 0; j < db->groups[i].n_members; j++) {
                        const char *name = db->groups[i].members[j];
                        size_t s = hash_bytes(name, strlen(name)) & db->member_by_name.mask;
                        uint32_t e = (uint32_t)++db->n_members;
                        db->members[e - 1] = (struct acct_member){name, (uint32_t)i, 0};
                        for (; db->member_by_name.slot[s]; s = (s + 1) & db->member_by_name.mask)
                                if (STREQ(db->members[db->member_by_name.slot[s] - 1].member, name))
                                        break;
                        if (!db->member_by_name.slot[s])
                                db->member_by_name.slot[s] = e;
                        else {
                                uint32_t t = db->member_by_name.slot[s];
                                bool again = false;
                                for (;; t = db->members[t - 1].next) {
                                        again |= db->members[t - 1].group == (uint32_t)i;
                                        if (!db->members[t - 1].next)
                                                break;
                                }
                                if (again) /* listed twice in one group */
                                        db->n_members--;
                                else
                                        db->members[t - 1].next = e;
                        }
                }
        return 0;
}

static int64_t field_i64(const struct colon_line *l, size_t i) {
        uint32_t v;
        return colon_u32(l, i, &v) < 0 ? -1 : (int64_t)v;
}

/* Marks the entries a local file names (its lines' first field). */
static int mark_local(struct acctdb *db, const char *path, bool users) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, pos = 0, ll;
        const char *line;
        int r = read_file(path, TEXT_MAX, &text, &len);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        while (text_next_line(text, len, &pos, &line, &ll)) {
                const char *c = memchr(line, ':', ll);
                if (!c || c == line)
                        continue;
                if (users) {
                        struct acct_user *u =
                                (struct acct_user *)user_n(db, line, (size_t)(c - line));
                        if (u)
                                u->local = true;
                } else {
                        struct acct_group *g =
                                (struct acct_group *)group_n(db, line, (size_t)(c - line));
                        if (g)
                                g->local = true;
                }
        }
        return 0;
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
                struct acct_user *u;

                if (colon_split(line, ll, 2, 9, &l) < 0)
                        continue;
                u = (struct acct_user *)user_n(db, l.f[0], l.len[0]);
                if (!u || !u->local || u->has_shadow)
                        continue;
                u->pw = strndup(l.f[1], l.len[1]);
                if (!u->pw) {
                        r = -ENOMEM;
                        break;
                }
                u->has_shadow = true;
                u->lastchg = field_i64(&l, 2);
                u->min = field_i64(&l, 3);
                u->max = field_i64(&l, 4);
                u->warn = field_i64(&l, 5);
                u->inactive = field_i64(&l, 6);
                u->expire = field_i64(&l, 7);
        }
        explicit_bzero(text, len);
        return r < 0 ? r : 0;
}

int acctdb_load(struct acctdb *db, bool with_shadow) {
        size_t cap = 0;
        struct passwd *pw;
        struct group *gr;
        int r = 0;

        *db = (struct acctdb){0};
        (void)acct_login_defs(&db->defs);
        setpwent();
        while ((pw = getpwent())) {
                struct acct_user *u;
                if (db->n_users == cap) {
                        struct acct_user *nu;
                        if (cap >= ENTRIES_MAX ||
                            !(nu = reallocarray(db->users, cap = cap ? cap * 2 : 256,
                                                sizeof *nu))) {
                                r = -ENOMEM;
                                break;
                        }
                        db->users = nu;
                }
                u = &db->users[db->n_users++];
                *u = (struct acct_user){.uid = pw->pw_uid, .gid = pw->pw_gid};
                u->name = strdup(pw->pw_name);
                u->gecos = strdup(pw->pw_gecos ? pw->pw_gecos : "");
                u->home = strdup(pw->pw_dir ? pw->pw_dir : "");
                u->shell = strdup(pw->pw_shell ? pw->pw_shell : "");
                u->lastchg = u->min = u->max = u->warn = u->inactive = u->expire = -1;
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
                        struct acct_group *ng;
                        if (cap >= ENTRIES_MAX ||
                            !(ng = reallocarray(db->groups, cap = cap ? cap * 2 : 256,
                                                sizeof *ng))) {
                                r = -ENOMEM;
                                break;
                        }
                        db->groups = ng;
                }
                g = &db->groups[db->n_groups++];
                *g = (struct acct_group){.gid = gr->gr_gid};
                g->name = strdup(gr->gr_name);
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
        if (r >= 0)
                r = mark_local(db, "/etc/passwd", true);
        if (r >= 0)
                r = mark_local(db, "/etc/group", false);
        if (r >= 0 && with_shadow)
                r = load_shadow(db);
out:
        if (r < 0)
                acctdb_done(db);
        return r;
}

void acctdb_done(struct acctdb *db) {
        for (size_t i = 0; i < db->n_users; i++)
                free_user(&db->users[i]);
        for (size_t i = 0; i < db->n_groups; i++)
                free_group(&db->groups[i]);
        free(db->user_by_name.slot);
        free(db->group_by_name.slot);
        free(db->group_by_gid.slot);
        free(db->member_by_name.slot);
        free(db->members);
        free(db->users);
        free(db->groups);
        *db = (struct acctdb){0};
}

static int cmp_user_ptr(const void *a, const void *b) {
        return strcmp((*(struct acct_user *const *)a)->name, (*(struct acct_user *const *)b)->name);
}

static int cmp_group_ptr(const void *a, const void *b) {
        return strcmp((*(struct acct_group *const *)a)->name,
                      (*(struct acct_group *const *)b)->name);
}

int acctdb_sorted_users(const struct acctdb *db, const struct acct_user ***ret) {
        const struct acct_user **v = calloc(db->n_users + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < db->n_users; i++)
                v[i] = &db->users[i];
        if (db->n_users)
                qsort(v, db->n_users, sizeof *v, cmp_user_ptr);
        *ret = v;
        return 0;
}

int acctdb_sorted_groups(const struct acctdb *db, const struct acct_group ***ret) {
        const struct acct_group **v = calloc(db->n_groups + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < db->n_groups; i++)
                v[i] = &db->groups[i];
        if (db->n_groups)
                qsort(v, db->n_groups, sizeof *v, cmp_group_ptr);
        *ret = v;
        return 0;
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
