/* acctdb.c — see acctdb.h.
 *
 * Lookups are hash indexes (FNV-1a, open addressing, at most half full):
 * a list of ten thousand users makes some fifty thousand lookups, and
 * sorted arrays with strcmp made that the most expensive part of a list.
 * Only the lists sort, once, by name.
 *
 * A snapshot of ten thousand accounts is some fifty thousand strings: they
 * are copied into an arena of large blocks (one allocation per entry, not
 * per field, and one free per block), and every group's member list is a
 * slice of one array. */
#include "modules/users/acctdb.h"

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "util.h"

#define SMALL_FILE_MAX (1u << 20)
#define TEXT_MAX       (64u << 20)
#define ENTRIES_MAX    (1u << 24)
#define ARENA_BLOCK    (256u << 10)

/* n bytes from the snapshot's arena; NULL when out of memory. */
static char *arena_alloc(struct acctdb *db, size_t n) {
        char *p;

        if (n > db->arena_left) {
                size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
                char **nb = reallocarray(db->arena, db->n_arena + 1, sizeof *nb);
                if (!nb)
                        return NULL;
                db->arena = nb;
                if (!(p = malloc(size)))
                        return NULL;
                db->arena[db->n_arena++] = p;
                db->arena_next = p;
                db->arena_left = size;
        }
        p = db->arena_next;
        db->arena_next += n;
        db->arena_left -= n;
        return p;
}

/* Copies the strings s[0..n) into one piece of the arena, pointing ret[i]
 * at each; a NULL string becomes "". */
static int arena_strs(struct acctdb *db, const char *const *s, char **ret, size_t n) {
        size_t len[8], total = 0;
        char *p;

        assert(n <= ELEMENTSOF(len));
        for (size_t i = 0; i < n; i++) {
                len[i] = s[i] ? strlen(s[i]) : 0;
                if (len[i] > TEXT_MAX)
                        return -E2BIG;
                total += len[i] + 1;
        }
        if (!(p = arena_alloc(db, total)))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (len[i])
                        memcpy(p, s[i], len[i]);
                p[len[i]] = '\0';
                ret[i] = p;
                p += len[i] + 1;
        }
        return 0;
}

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

uint32_t acctdb_member_chain(const struct acctdb *db, const char *user) {
        size_t len = strlen(user);

        if (!db->member_by_name.slot)
                return 0;
        for (size_t i = hash_bytes(user, len) & db->member_by_name.mask;;
             i = (i + 1) & db->member_by_name.mask) {
                uint32_t s = db->member_by_name.slot[i];
                if (s == 0)
                        return 0;
                if (STREQ(db->members[s - 1].member, user))
                        return s;
        }
}

int acctdb_member_of(const struct acctdb *db, const char *user, const char ***ret, size_t *ret_n) {
        uint32_t head = acctdb_member_chain(db, user);
        size_t n = 0;
        const char **v;

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
                if (dup)
                        continue;
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
                if (dup)
                        continue;
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

/* Marks the entries a local file names (its lines' first field): from
 * the copy the files service's pass kept (db->pristine), or read now. */
static int mark_local(struct acctdb *db, const char *path, bool users) {
        _cleanup_free_ char *text = TAKE_PTR(db->pristine[users ? 0 : 1]);
        size_t len = db->pristine_len[users ? 0 : 1], pos = 0, ll;
        const char *line;
        int r = text ? 0 : read_file(path, TEXT_MAX, &text, &len);

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

/* The password fields point into db->shadow_text, which acctdb_done()
 * wipes: each is cut off there by a NUL over the colon after it. */
static int load_shadow(struct acctdb *db) {
        size_t len = 0, pos = 0, ll;
        const char *line;
        char *text = NULL;
        int r = read_file("/etc/shadow", TEXT_MAX, &text, &len);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        db->shadow_text = text;
        db->shadow_len = len;
        while (text_next_line(text, len, &pos, &line, &ll)) {
                struct colon_line l;
                struct acct_user *u;

                if (colon_split(line, ll, 2, 9, &l) < 0)
                        continue;
                u = (struct acct_user *)user_n(db, l.f[0], l.len[0]);
                if (!u || !u->local || u->has_shadow)
                        continue;
                u->has_shadow = true;
                u->lastchg = field_i64(&l, 2);
                u->min = field_i64(&l, 3);
                u->max = field_i64(&l, 4);
                u->warn = field_i64(&l, 5);
                u->inactive = field_i64(&l, 6);
                u->expire = field_i64(&l, 7);
                /* last: this ends the line's views at the password field */
                u->pw = text + (l.f[1] - text);
                u->pw[l.len[1]] = '\0';
        }
        return 0;
}

/* ---- loading ------------------------------------------------------------------- */

/* Capacities of the arrays being filled. */
struct load_state {
        size_t ucap, gcap, mcap;
};

static char empty[1]; /* "" for fields an entry lacks; never written */

static struct acct_user *new_user(struct acctdb *db, struct load_state *st) {
        struct acct_user *u;

        if (db->n_users == st->ucap) {
                size_t cap = st->ucap ? st->ucap * 2 : 256;
                if (st->ucap >= ENTRIES_MAX || !(u = reallocarray(db->users, cap, sizeof *u)))
                        return NULL;
                db->users = u;
                st->ucap = cap;
        }
        u = &db->users[db->n_users++];
        *u = (struct acct_user){.name = empty, .gecos = empty, .home = empty, .shell = empty};
        u->lastchg = u->min = u->max = u->warn = u->inactive = u->expire = -1;
        return u;
}

static struct acct_group *new_group(struct acctdb *db, struct load_state *st) {
        struct acct_group *g;

        if (db->n_groups == st->gcap) {
                size_t cap = st->gcap ? st->gcap * 2 : 256;
                if (st->gcap >= ENTRIES_MAX || !(g = reallocarray(db->groups, cap, sizeof *g)))
                        return NULL;
                db->groups = g;
                st->gcap = cap;
        }
        g = &db->groups[db->n_groups++];
        *g = (struct acct_group){.name = empty, .members_at = db->n_member_names};
        return g;
}

/* Appends one name (NULL ends a group's list) to db->member_names. */
static int push_member(struct acctdb *db, struct load_state *st, char *name) {
        if (db->n_member_names == st->mcap) {
                size_t cap = st->mcap ? st->mcap * 2 : 1024;
                char **nv;
                if (st->mcap >= ENTRIES_MAX ||
                    !(nv = reallocarray(db->member_names, cap, sizeof *nv)))
                        return -ENOMEM;
                db->member_names = nv;
                st->mcap = cap;
        }
        db->member_names[db->n_member_names++] = name;
        return 0;
}

/* An entry from NSS (its strings copied into the arena). */
static int add_passwd(struct acctdb *db, struct load_state *st, const struct passwd *pw) {
        const char *s[4] = {pw->pw_name, pw->pw_gecos, pw->pw_dir, pw->pw_shell};
        char *d[4];
        struct acct_user *u;
        int r = arena_strs(db, s, d, 4);

        if (r < 0)
                return r;
        if (!(u = new_user(db, st)))
                return -ENOMEM;
        u->uid = pw->pw_uid;
        u->gid = pw->pw_gid;
        u->name = d[0];
        u->gecos = d[1];
        u->home = d[2];
        u->shell = d[3];
        return 0;
}

static int add_group(struct acctdb *db, struct load_state *st, const struct group *gr) {
        const char *s[1] = {gr->gr_name};
        struct acct_group *g;
        char *d[1];
        int r = arena_strs(db, s, d, 1);

        if (r < 0)
                return r;
        if (!(g = new_group(db, st)))
                return -ENOMEM;
        g->gid = gr->gr_gid;
        g->name = d[0];
        for (size_t i = 0; gr->gr_mem && gr->gr_mem[i]; i++) {
                if ((r = arena_strs(db, (const char *const *)&gr->gr_mem[i], d, 1)) < 0 ||
                    (r = push_member(db, st, d[0])) < 0)
                        return r;
                g->n_members++;
        }
        return push_member(db, st, NULL);
}

/* Everything NSS enumerates, in its order. */
static int load_nss(struct acctdb *db, struct load_state *st) {
        struct passwd *pw;
        struct group *gr;
        int r = 0;

        setpwent();
        while (r >= 0 && (pw = getpwent()))
                r = add_passwd(db, st, pw);
        endpwent();
        if (r < 0)
                return r;
        setgrent();
        while (r >= 0 && (gr = getgrent()))
                r = add_group(db, st, gr);
        endgrent();
        return r;
}

/* A file read whole, kept as an arena block: entries point into it. */
static int adopt_file(struct acctdb *db, const char *path, char **ret, size_t *ret_len) {
        char *text = NULL, **nb;
        int r = read_file(path, TEXT_MAX, &text, ret_len);

        if (r < 0)
                return r;
        if (!(nb = reallocarray(db->arena, db->n_arena + 1, sizeof *nb))) {
                free(text);
                return -ENOMEM;
        }
        db->arena = nb;
        db->arena[db->n_arena++] = text;
        *ret = text;
        return 0;
}

/* The parse cuts the text up in place: mark_local() reads a copy. */
static int keep_pristine(struct acctdb *db, int i, const char *text, size_t len) {
        if (db->pristine[i])
                return 0; /* "files" twice in a line: the first copy is the file */
        if (!(db->pristine[i] = malloc(len + 1)))
                return -ENOMEM;
        memcpy(db->pristine[i], text, len + 1);
        db->pristine_len[i] = len;
        return 0;
}

/* The files service, read directly (accounts.h: the same grammar). */
static int files_passwd(struct acctdb *db, struct load_state *st) {
        struct files_pwent e;
        size_t len, pos = 0;
        char *text;
        int r = adopt_file(db, "/etc/passwd", &text, &len);

        if (r < 0)
                return r == -ENOENT ? 0 : r; /* the service has nothing */
        if ((r = keep_pristine(db, 0, text, len)) < 0)
                return r;
        while (files_next_pwent(text, len, &pos, &e)) {
                struct acct_user *u = new_user(db, st);
                if (!u)
                        return -ENOMEM;
                u->uid = e.uid;
                u->gid = e.gid;
                u->name = e.name;
                u->gecos = e.gecos ? e.gecos : empty;
                u->home = e.dir ? e.dir : empty;
                u->shell = e.shell ? e.shell : empty;
        }
        return 0;
}

static int files_group(struct acctdb *db, struct load_state *st) {
        struct files_grent e;
        size_t len, pos = 0;
        char *text;
        int r = adopt_file(db, "/etc/group", &text, &len);

        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if ((r = keep_pristine(db, 1, text, len)) < 0)
                return r;
        while (files_next_grent(text, len, &pos, &e)) {
                struct acct_group *g = new_group(db, st);
                char *m;
                if (!g)
                        return -ENOMEM;
                g->gid = e.gid;
                g->name = e.name;
                while ((m = files_next_member(&e.members))) {
                        if ((r = push_member(db, st, m)) < 0)
                                return r;
                        g->n_members++;
                }
                if ((r = push_member(db, st, NULL)) < 0)
                        return r;
        }
        return 0;
}

/* Another service, through its NSS module's enumeration functions (the
 * interface glibc itself calls, see "NSS Module Function Internals" in
 * its manual).  Modules stay loaded, as glibc keeps them.  -EAGAIN when
 * the module cannot be used: the caller then asks NSS for everything. */
typedef enum nss_status (*nss_setent_fn)(void);
typedef enum nss_status (*nss_getent_fn)(void *ent, char *buf, size_t len, int *errnop);
typedef enum nss_status (*nss_endent_fn)(void);

#define NSS_BUFFER_MAX (1u << 20)

static int module_entries(struct acctdb *db, struct load_state *st, const char *service,
                          bool users) {
        char name[sizeof "libnss_.so.2" + NSS_SERVICE_NAME_MAX], fn[NSS_SERVICE_NAME_MAX + 32];
        _cleanup_free_ char *buf = NULL;
        size_t cap = 16384;
        nss_setent_fn set;
        nss_getent_fn get;
        nss_endent_fn end;
        void *h;
        int r = 0;

        snprintf(name, sizeof name, "libnss_%s.so.2", service);
        if (!(h = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
                return -EAGAIN;
        snprintf(fn, sizeof fn, "_nss_%s_set%sent", service, users ? "pw" : "gr");
        set = (nss_setent_fn)dlsym(h, fn);
        snprintf(fn, sizeof fn, "_nss_%s_get%sent_r", service, users ? "pw" : "gr");
        get = (nss_getent_fn)dlsym(h, fn);
        snprintf(fn, sizeof fn, "_nss_%s_end%sent", service, users ? "pw" : "gr");
        end = (nss_endent_fn)dlsym(h, fn);
        if (!get)
                return 0; /* the service does not enumerate: glibc skips it too */
        if (!(buf = malloc(cap)))
                return -ENOMEM;
        if (set && set() != NSS_STATUS_SUCCESS)
                goto out;
        while (r >= 0) {
                struct passwd pw;
                struct group gr;
                int e = 0;
                enum nss_status s = get(users ? (void *)&pw : (void *)&gr, buf, cap, &e);
                if (s == NSS_STATUS_TRYAGAIN && e == ERANGE && cap < NSS_BUFFER_MAX) {
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = nb;
                        cap *= 2;
                        continue;
                }
                if (s == NSS_STATUS_TRYAGAIN && e == ERANGE) {
                        r = -EAGAIN;
                        break;
                }
                if (s != NSS_STATUS_SUCCESS)
                        break;
                r = users ? add_passwd(db, st, &pw) : add_group(db, st, &gr);
        }
out:
        if (end)
                (void)end();
        return r;
}

static pthread_mutex_t nss_lock = PTHREAD_MUTEX_INITIALIZER;

/* The plain case: nsswitch.conf's passwd and group lines list services
 * only.  "files" is read here, which is what makes a list of ten thousand
 * local accounts cheap (NSS would parse the files again, line by line,
 * behind a lock, and copy every entry twice); the other services are
 * enumerated in the same order through their modules.  -EAGAIN when it
 * is not that case. */
static int load_direct(struct acctdb *db, struct load_state *st) {
        char pw[NSS_SERVICES_MAX][NSS_SERVICE_NAME_MAX + 1],
                gr[NSS_SERVICES_MAX][NSS_SERVICE_NAME_MAX + 1];
        _cleanup_free_ char *conf = NULL;
        size_t len = 0, npw = 0, ngr = 0;
        int r = read_file("/etc/nsswitch.conf", SMALL_FILE_MAX, &conf, &len);

        if (r < 0 || nsswitch_services(conf, len, "passwd", pw, &npw) < 0 ||
            nsswitch_services(conf, len, "group", gr, &ngr) < 0)
                return -EAGAIN;
        pthread_mutex_lock(&nss_lock);
        for (size_t i = 0; r >= 0 && i < npw; i++)
                r = STREQ(pw[i], "files") ? files_passwd(db, st)
                                          : module_entries(db, st, pw[i], true);
        for (size_t i = 0; r >= 0 && i < ngr; i++)
                r = STREQ(gr[i], "files") ? files_group(db, st)
                                          : module_entries(db, st, gr[i], false);
        pthread_mutex_unlock(&nss_lock);
        return r;
}

int acctdb_load(struct acctdb *db, bool with_shadow) {
        struct load_state st = {0};
        int r;

        *db = (struct acctdb){0};
        r = load_direct(db, &st);
        if (r == -EAGAIN) {
                acctdb_done(db);
                st = (struct load_state){0};
                r = load_nss(db, &st);
        }
        (void)acct_login_defs(&db->defs);
        for (size_t i = 0; r >= 0 && i < db->n_groups; i++)
                db->groups[i].members = db->member_names + db->groups[i].members_at;
        if (r >= 0)
                r = index_db(db);
        if (r >= 0)
                r = mark_local(db, "/etc/passwd", true);
        if (r >= 0)
                r = mark_local(db, "/etc/group", false);
        if (r >= 0 && with_shadow)
                r = load_shadow(db);
        if (r < 0)
                acctdb_done(db);
        return r;
}

void acctdb_done(struct acctdb *db) {
        for (size_t i = 0; i < db->n_arena; i++)
                free(db->arena[i]);
        if (db->shadow_text)
                explicit_bzero(db->shadow_text, db->shadow_len);
        free(db->shadow_text);
        free(db->pristine[0]);
        free(db->pristine[1]);
        free(db->arena);
        free(db->member_names);
        free(db->user_by_name.slot);
        free(db->group_by_name.slot);
        free(db->group_by_gid.slot);
        free(db->member_by_name.slot);
        free(db->members);
        free(db->users);
        free(db->groups);
        *db = (struct acctdb){0};
}

/* Sorting by name: each entry with its name's first eight bytes as a
 * big-endian number, so that comparing numbers compares bytes as strcmp
 * does; strcmp only breaks ties, past those bytes. */
struct name_key {
        uint64_t key;
        const char *name;
        const void *entry;
};

static uint64_t name_prefix(const char *s) {
        uint64_t k = 0;

        for (int i = 0; i < 8; i++) {
                k <<= 8;
                if (*s)
                        k |= (unsigned char)*s++;
        }
        return k;
}

static int cmp_name_key(const void *a, const void *b) {
        const struct name_key *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        if ((x->key & 0xff) == 0) /* both names end within the eight bytes */
                return 0;
        return strcmp(x->name + 8, y->name + 8);
}

/* The n entries of size bytes from base, named by the char * at offset
 * name_at, sorted by name: *ret malloc'ed.  A radix sort of the eight-byte
 * prefixes (least significant byte first, stable; a byte all entries share
 * costs no pass), then qsort within each run of equal prefixes, which only
 * names longer than eight bytes can form: for ten thousand names this is a
 * tenth of a comparison sort's work. */
static int sort_by_name(const void *base, size_t n, size_t size, size_t name_at,
                        struct name_key **ret) {
        struct name_key *k = calloc(n + 1, sizeof *k), *tmp = calloc(n + 1, sizeof *tmp), *t;
        size_t(*count)[256] = calloc(8, sizeof *count);

        if (!k || !tmp || !count) {
                free(k);
                free(tmp);
                free(count);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *e = (const char *)base + i * size, *name;
                memcpy(&name, e + name_at, sizeof name);
                k[i] = (struct name_key){name_prefix(name), name, e};
                for (unsigned b = 0; b < 8; b++)
                        count[b][(k[i].key >> (8 * b)) & 0xff]++;
        }
        for (unsigned b = 0; b < 8; b++) {
                size_t sum = 0;
                bool shared = false;
                for (unsigned d = 0; d < 256; d++) {
                        size_t c = count[b][d];
                        shared |= c == n;
                        count[b][d] = sum;
                        sum += c;
                }
                if (shared)
                        continue;
                for (size_t i = 0; i < n; i++)
                        tmp[count[b][(k[i].key >> (8 * b)) & 0xff]++] = k[i];
                t = k;
                k = tmp;
                tmp = t;
        }
        for (size_t i = 0, j; i < n; i = j) {
                for (j = i + 1; j < n && k[j].key == k[i].key; j++)
                        ;
                if (j - i > 1)
                        qsort(k + i, j - i, sizeof *k, cmp_name_key);
        }
        free(tmp);
        free(count);
        *ret = k;
        return 0;
}

int acctdb_sorted_users(const struct acctdb *db, const struct acct_user ***ret) {
        const struct acct_user **v = calloc(db->n_users + 1, sizeof *v);
        _cleanup_free_ struct name_key *k = NULL;

        if (!v || sort_by_name(db->users, db->n_users, sizeof *db->users,
                               offsetof(struct acct_user, name), &k) < 0) {
                free(v);
                return -ENOMEM;
        }
        for (size_t i = 0; i < db->n_users; i++)
                v[i] = k[i].entry;
        *ret = v;
        return 0;
}

int acctdb_sorted_groups(const struct acctdb *db, const struct acct_group ***ret) {
        const struct acct_group **v = calloc(db->n_groups + 1, sizeof *v);
        _cleanup_free_ struct name_key *k = NULL;

        if (!v || sort_by_name(db->groups, db->n_groups, sizeof *db->groups,
                               offsetof(struct acct_group, name), &k) < 0) {
                free(v);
                return -ENOMEM;
        }
        for (size_t i = 0; i < db->n_groups; i++)
                v[i] = k[i].entry;
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
        json_t *j = json_object_get(query, key);
        bool f = false;

        /* The front passes flags as "1" or "0" (flag_parse()); anything else
         * is not a yes. */
        return json_is_string(j) && flag_parse(json_string_value(j), &f) >= 0 && f;
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

/* A number of user's shadow entry (field idx, days since the epoch or a
 * count of days): false when the field is empty or absent. */
static bool shadow_days(const struct account_state *s, const char *user, size_t idx, int64_t *ret) {
        const char *v;
        size_t vl;
        uint32_t n;

        if (!entry_field(s->text[1], s->len[1], user, idx, &v, &vl))
                return false;
        struct colon_line l = {.n = 1, .f = {v}, .len = {vl}};
        if (colon_u32(&l, 0, &n) < 0)
                return false;
        *ret = n;
        return true;
}

/* Why user cannot log in through Steward (PAM with pam_unix) in state s,
 * on day today (days since the epoch), or LOGIN_OK.  The one predicate of
 * the guards: a lock, a password that is not one, an expired account and a
 * password that must be changed first (pam_unix answers
 * PAM_NEW_AUTHTOK_REQD or PAM_ACCT_EXPIRED, which a Steward login refuses)
 * all keep the account out, whichever field or tool put them there. */
static enum login_block login_block(const struct account_state *s, const char *user,
                                    int64_t today) {
        const char *v, *pw;
        size_t vl, pl;
        int64_t lastchg, max, expire;

        if (!entry_field(s->text[0], s->len[0], user, 0, &v, &vl))
                return LOGIN_NO_ACCOUNT;
        if (!entry_field(s->text[1], s->len[1], user, 1, &pw, &pl))
                return LOGIN_OK; /* no shadow entry: nothing here says no */
        if (pl > 0 && pw[0] == '!')
                return LOGIN_LOCKED;
        if (pl > 0 && pw[0] == '*')
                return LOGIN_NO_PASSWORD;
        if (shadow_days(s, user, 7, &expire) && expire <= today)
                return LOGIN_EXPIRED;
        if (shadow_days(s, user, 2, &lastchg)) {
                if (lastchg == 0)
                        return LOGIN_PASSWORD_EXPIRED;
                if (shadow_days(s, user, 4, &max) && lastchg + max < today)
                        return LOGIN_PASSWORD_EXPIRED;
        }
        return LOGIN_OK;
}

/* Is user an admin in this state: not root, can log in, and in an admin
 * group (as a member or by primary group). */
static bool is_admin(const struct account_state *s, const char *user,
                     const struct steward_config *cfg, int64_t today) {
        const char *v;
        size_t vl;
        uint32_t gid = UINT32_MAX;
        struct colon_line l = {.n = 1};

        if (!entry_field(s->text[0], s->len[0], user, 3, &v, &vl))
                return false;
        l.f[0] = v;
        l.len[0] = vl;
        (void)colon_u32(&l, 0, &gid);
        if (entry_field(s->text[0], s->len[0], user, 2, &v, &vl) && vl == 1 && v[0] == '0')
                return false; /* root is always admin; it does not count */
        /* The groups first: few accounts are in them, and count_admins
         * asks this of every account. */
        for (size_t i = 0; i < cfg->admin_groups.n; i++) {
                const char *g = cfg->admin_groups.name[i];
                if (entry_field(s->text[2], s->len[2], g, 3, &v, &vl) && list_has(v, vl, user))
                        return login_block(s, user, today) == LOGIN_OK;
                if (entry_field(s->text[2], s->len[2], g, 2, &v, &vl)) {
                        struct colon_line k = {.n = 1, .f = {v}, .len = {vl}};
                        uint32_t ggid;
                        if (colon_u32(&k, 0, &ggid) >= 0 && ggid == gid)
                                return login_block(s, user, today) == LOGIN_OK;
                }
        }
        return false;
}

static size_t count_admins(const struct account_state *s, const struct steward_config *cfg,
                           int64_t today) {
        size_t pos = 0, ll, n = 0;
        const char *line;

        while (s->text[0] && text_next_line(s->text[0], s->len[0], &pos, &line, &ll)) {
                const char *c = memchr(line, ':', ll);
                char name[ACCOUNT_NAME_MAX + 1];
                if (!c || (size_t)(c - line) > ACCOUNT_NAME_MAX || c == line)
                        continue;
                memcpy(name, line, (size_t)(c - line));
                name[c - line] = '\0';
                if (is_admin(s, name, cfg, today))
                        n++;
        }
        return n;
}

static const char *const login_block_why[] = {
        [LOGIN_LOCKED] = "lock",
        [LOGIN_NO_PASSWORD] = "remove the password of",
        [LOGIN_EXPIRED] = "expire",
        [LOGIN_PASSWORD_EXPIRED] = "expire the password of",
};

static const char *const login_block_field[] = {
        [LOGIN_LOCKED] = "locked",
        [LOGIN_NO_PASSWORD] = "password",
        [LOGIN_EXPIRED] = "aging",
        [LOGIN_PASSWORD_EXPIRED] = "aging",
};

int acct_guard(const struct account_state *before, const struct account_state *after, void *data,
               struct module_error *err) {
        const char *self = data;
        struct steward_config cfg;
        int64_t today = (int64_t)(time(NULL) / 86400);
        enum login_block b;

        steward_config_get(&cfg);
        if (self && login_block(before, self, today) != LOGIN_NO_ACCOUNT) {
                b = login_block(after, self, today);
                if (b == LOGIN_NO_ACCOUNT) {
                        module_error_set(err, 409, "self", NULL,
                                         "you cannot delete or rename your own account (%s) "
                                         "through Steward",
                                         self);
                        return -EPERM;
                }
                if (login_block(before, self, today) == LOGIN_OK && b != LOGIN_OK) {
                        module_error_set(err, 409, "self", login_block_field[b],
                                         "you cannot %s your own account (%s) through Steward: "
                                         "you could not log in afterwards",
                                         login_block_why[b], self);
                        return -EPERM;
                }
                if (is_admin(before, self, &cfg, today) && !is_admin(after, self, &cfg, today)) {
                        module_error_set(err, 409, "self", NULL,
                                         "this would take your own admin role (%s) away; another "
                                         "administrator can do it",
                                         self);
                        return -EPERM;
                }
        }
        if (count_admins(before, &cfg, today) > 0 && count_admins(after, &cfg, today) == 0) {
                module_error_set(err, 409, "last_admin", NULL,
                                 "this would leave no administrator who can log in: the last "
                                 "member of an admin group (stewardd:auth:admin_groups) must stay "
                                 "in it, unlocked, unexpired and with a password that works");
                return -EPERM;
        }
        return 0;
}
