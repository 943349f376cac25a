/* proclist.c — the processes list's query, filters, sort, tree and items;
 * see proclist.h.
 *
 * The tree: an index sorted by pid finds each item's parent; children are
 * chained in the list's (sorted) order; a stack walk from the roots gives
 * the depth-first order.  Every item is emitted once: one left unvisited
 * (a ppid cycle, which the kernel never makes) is appended as a root.
 */
#include "modules/processes/proclist.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static const char *const sort_choices[] = {"pid", "cpu", "mem", "start", "name", NULL};

const char *const *proclist_sort_choices(void) {
        return sort_choices;
}

static bool unit_name_ok(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= PROCREAD_UNIT_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr(":-_.\\@", c)))
                        return false;
        }
        return true;
}

static bool user_name_ok(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 32 || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1)))
                        return false;
        }
        return true;
}

static int parse_user(const char *v, struct proclist_query *q, struct module_error *err) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        unsigned uid;

        if (safe_atou(v, &uid) == 0) {
                q->uid = uid;
                q->has_uid = true;
                return 0;
        }
        if (!user_name_ok(v)) {
                module_error_set(err, 400, "invalid_argument", "user",
                                 "user is a user name or a uid");
                return -EINVAL;
        }
        if (getpwnam_r(v, &pw, buf, sizeof buf, &res) != 0 || !res) {
                module_error_set(err, 400, "invalid_argument", "user", "no user named \"%s\"", v);
                return -EINVAL;
        }
        q->uid = res->pw_uid;
        q->has_uid = true;
        return 0;
}

static int parse_flag(json_t *query, const char *key, bool *ret, struct module_error *err) {
        const char *v = json_string_value(json_object_get(query, key));

        *ret = false;
        if (!v)
                return 0;
        if (flag_parse(v, ret) < 0) {
                module_error_set(err, 400, "invalid_argument", key, "%s is a flag: 1 or 0", key);
                return -EINVAL;
        }
        return 0;
}

int proclist_query_parse(json_t *query, struct proclist_query *ret, struct module_error *err) {
        struct proclist_query q = {.sort = PROCLIST_SORT_PID};
        const char *sort, *limit, *user, *unit, *name;
        int r;

        if (query && !json_is_object(query)) {
                module_error_set(err, 400, "bad_request", NULL, "the query is an object");
                return -EINVAL;
        }
        sort = json_string_value(json_object_get(query, "sort"));
        limit = json_string_value(json_object_get(query, "limit"));
        user = json_string_value(json_object_get(query, "user"));
        unit = json_string_value(json_object_get(query, "unit"));
        name = json_string_value(json_object_get(query, "name"));

        if (sort) {
                size_t i;
                for (i = 0; sort_choices[i] && !STREQ(sort, sort_choices[i]); i++)
                        ;
                if (!sort_choices[i]) {
                        module_error_set(err, 400, "invalid_argument", "sort",
                                         "sort is cpu, mem, pid, start or name");
                        return -EINVAL;
                }
                q.sort = (proclist_sort_t)i;
        }
        if (limit) {
                unsigned n;
                if (safe_atou(limit, &n) < 0 || n == 0 || n > PROCLIST_LIMIT_MAX) {
                        module_error_set(err, 400, "invalid_argument", "limit", "limit is 1 to %u",
                                         PROCLIST_LIMIT_MAX);
                        return -EINVAL;
                }
                q.limit = n;
        }
        if (user && (r = parse_user(user, &q, err)) < 0)
                return r;
        if (unit) {
                if (!unit_name_ok(unit)) {
                        module_error_set(err, 400, "invalid_argument", "unit",
                                         "unit is a systemd unit name (nginx.service)");
                        return -EINVAL;
                }
                memcpy(q.unit, unit, strlen(unit) + 1);
        }
        if (name) {
                size_t n = strlen(name);
                if (n == 0 || n > PROCLIST_NAME_MAX || !utf8_valid(name, n)) {
                        module_error_set(err, 400, "invalid_argument", "name",
                                         "name is 1 to %u bytes of text", PROCLIST_NAME_MAX);
                        return -EINVAL;
                }
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
                                module_error_set(err, 400, "invalid_argument", "name",
                                                 "name holds a control character");
                                return -EINVAL;
                        }
                memcpy(q.name, name, n + 1);
        }
        if ((r = parse_flag(query, "tree", &q.tree, err)) < 0 ||
            (r = parse_flag(query, "detail", &q.detail, err)) < 0 ||
            (r = parse_flag(query, "threads", &q.threads, err)) < 0)
                return r;
        *ret = q;
        return 0;
}

bool proclist_match(const struct proclist_query *q, const struct proc_item *it) {
        if (q->has_uid && it->uid != q->uid)
                return false;
        if (q->unit[0] && !STREQ(it->unit, q->unit))
                return false;
        if (q->name[0] && !strstr(it->comm, q->name))
                return false;
        return true;
}

static int cmp_num(double a, double b) {
        return (a > b) - (a < b);
}

static int cmp_pid(const struct proc_item *a, const struct proc_item *b) {
        return (a->pid > b->pid) - (a->pid < b->pid);
}

static int cmp_cpu(const void *x, const void *y) {
        const struct proc_item *a = x, *b = y;
        int c = cmp_num(b->cpu_percent, a->cpu_percent);
        return c ? c : cmp_pid(a, b);
}

static int cmp_mem(const void *x, const void *y) {
        const struct proc_item *a = x, *b = y;
        int c = (a->rss_bytes < b->rss_bytes) - (a->rss_bytes > b->rss_bytes);
        return c ? c : cmp_pid(a, b);
}

static int cmp_start(const void *x, const void *y) {
        const struct proc_item *a = x, *b = y;
        int c = (a->start_ticks > b->start_ticks) - (a->start_ticks < b->start_ticks);
        return c ? c : cmp_pid(a, b);
}

static int cmp_name(const void *x, const void *y) {
        const struct proc_item *a = x, *b = y;
        int c = strcmp(a->comm, b->comm);
        return c ? c : cmp_pid(a, b);
}

static int cmp_pid_v(const void *x, const void *y) {
        return cmp_pid(x, y);
}

void proclist_sort(struct proc_list *l, proclist_sort_t sort) {
        static int (*const fns[])(const void *, const void *) = {
                [PROCLIST_SORT_PID] = cmp_pid_v, [PROCLIST_SORT_CPU] = cmp_cpu,
                [PROCLIST_SORT_MEM] = cmp_mem,   [PROCLIST_SORT_START] = cmp_start,
                [PROCLIST_SORT_NAME] = cmp_name,
        };

        if (l->n > 1)
                qsort(l->v, l->n, sizeof *l->v, fns[sort]);
}

struct by_pid {
        int pid;
        size_t idx;
};

static int cmp_by_pid(const void *x, const void *y) {
        const struct by_pid *a = x, *b = y;
        return (a->pid > b->pid) - (a->pid < b->pid);
}

/* Appends the subtree of root to out in depth-first order, siblings in list
 * order.  Each item is some parent's child at most once, so the stack never
 * holds more than n + 1 entries. */
static void walk(struct proc_list *l, size_t root, const size_t *first, const size_t *next,
                 bool *seen, size_t *stack, size_t *out, size_t *n_out) {
        size_t sp = 0;

        stack[sp++] = root;
        l->v[root].depth = 0;
        while (sp > 0) {
                size_t i = stack[--sp], count = 0, k;

                if (seen[i])
                        continue;
                seen[i] = true;
                out[(*n_out)++] = i;
                for (size_t c = first[i]; c != SIZE_MAX; c = next[c])
                        if (!seen[c])
                                count++;
                /* Pushed reversed, so that the first child is popped first. */
                sp += count;
                k = sp;
                for (size_t c = first[i]; c != SIZE_MAX; c = next[c])
                        if (!seen[c]) {
                                stack[--k] = c;
                                l->v[c].depth = l->v[i].depth + 1;
                        }
        }
}

int proclist_tree(struct proc_list *l, size_t **ret) {
        size_t n = l->n, n_out = 0;
        _cleanup_free_ struct by_pid *idx = calloc(n ? n : 1, sizeof *idx);
        _cleanup_free_ size_t *parent = calloc(n ? n : 1, sizeof(size_t));
        _cleanup_free_ size_t *first = calloc(n ? n : 1, sizeof(size_t));
        _cleanup_free_ size_t *last = calloc(n ? n : 1, sizeof(size_t));
        _cleanup_free_ size_t *next = calloc(n ? n : 1, sizeof(size_t));
        _cleanup_free_ size_t *stack = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ bool *seen = calloc(n ? n : 1, sizeof(bool));
        _cleanup_free_ size_t *out = calloc(n ? n : 1, sizeof(size_t));

        if (!idx || !parent || !first || !last || !next || !stack || !seen || !out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                idx[i] = (struct by_pid){l->v[i].pid, i};
                first[i] = last[i] = next[i] = SIZE_MAX;
        }
        qsort(idx, n, sizeof *idx, cmp_by_pid);
        for (size_t i = 0; i < n; i++) {
                struct by_pid key = {.pid = l->v[i].ppid}, *p;

                parent[i] = SIZE_MAX;
                if (l->v[i].ppid <= 0 || l->v[i].ppid == l->v[i].pid)
                        continue;
                p = bsearch(&key, idx, n, sizeof *idx, cmp_by_pid);
                if (!p)
                        continue;
                parent[i] = p->idx;
                if (last[p->idx] == SIZE_MAX)
                        first[p->idx] = i;
                else
                        next[last[p->idx]] = i;
                last[p->idx] = i;
        }
        for (size_t i = 0; i < n; i++)
                if (parent[i] == SIZE_MAX)
                        walk(l, i, first, next, seen, stack, out, &n_out);
        for (size_t i = 0; i < n; i++)
                if (!seen[i])
                        walk(l, i, first, next, seen, stack, out, &n_out);
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- items ------------------------------------------------------------------- */

int proclist_ctx_init(struct proclist_ctx *c, bool admin) {
        struct timespec ts;
        int r;

        *c = (struct proclist_ctx){.admin = admin};
        r = procread_boot(&c->btime, &c->clk_tck);
        if (r < 0)
                return r;
        if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
                return -errno;
        c->uptime = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        return 0;
}

double proclist_lifetime_cpu(const struct proclist_ctx *c, const struct proc_item *it) {
        double start = (double)it->start_ticks / (double)c->clk_tck;
        double alive = c->uptime - start;

        if (!(alive > 0.0))
                return 0.0;
        return (double)it->cpu_ticks / (double)c->clk_tck / alive * 100.0;
}

void proclist_start_time(const struct proclist_ctx *c, uint64_t start_ticks, char buf[32]) {
        time_t t = (time_t)(c->btime + start_ticks / (uint64_t)c->clk_tck);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *proclist_text(const char *s, size_t n) {
        _cleanup_free_ char *copy = strndup(s, n);

        if (!copy)
                return NULL;
        utf8_sanitize(copy);
        return json_string(copy);
}

static const char *user_name(struct proclist_ctx *c, uid_t uid, char tmp[16]) {
        struct passwd pw, *res = NULL;
        char buf[2048];

        for (size_t i = 0; i < c->n_users; i++)
                if (c->users[i].uid == uid)
                        return c->users[i].name;
        snprintf(tmp, 16, "%u", (unsigned)uid);
        const char *name = tmp;
        if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name &&
            strlen(res->pw_name) < sizeof c->users[0].name)
                name = res->pw_name;
        if (c->n_users < PROCLIST_USERS_MAX) {
                struct proclist_user *u = &c->users[c->n_users++];
                u->uid = uid;
                snprintf(u->name, sizeof u->name, "%s", name);
                return u->name;
        }
        return name == tmp ? tmp : (snprintf(tmp, 16, "%u", (unsigned)uid), tmp);
}

static json_t *cmdline_json(const struct proc_item *it) {
        const char *p = it->cmdline, *end = it->cmdline + it->cmdline_len, *arg;
        json_t *a = json_array();
        size_t n;

        if (!it->cmdline)
                return a;
        while (a && proc_cmdline_next(&p, end, &arg, &n))
                if (json_array_append_new(a, proclist_text(arg, n)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *or_null(const char *s) {
        return s && s[0] ? proclist_text(s, strlen(s)) : json_null();
}

json_t *proclist_item_json(struct proclist_ctx *c, const struct proc_item *it) {
        char start[32], state[2] = {it->state, 0}, tmp[16];
        json_t *o;

        proclist_start_time(c, it->start_ticks, start);
        o = json_pack("{s:i, s:i, s:s, s:I, s:o, s:s, s:f, s:I, s:I, s:I, s:i, s:i, s:s, s:I, "
                      "s:o, s:o, s:o, s:b}",
                      "pid", it->pid, "ppid", it->ppid, "user", user_name(c, it->uid, tmp), "uid",
                      (json_int_t)it->uid, "command", proclist_text(it->comm, strlen(it->comm)),
                      "state", state, "cpu_percent", it->cpu_percent, "rss_bytes",
                      (json_int_t)(it->rss_bytes > INT64_MAX ? INT64_MAX : it->rss_bytes),
                      "swap_bytes",
                      (json_int_t)(it->swap_bytes > INT64_MAX ? INT64_MAX : it->swap_bytes),
                      "threads", (json_int_t)it->threads, "nice", it->nice, "priority",
                      it->priority, "start_time", start, "start_ticks",
                      (json_int_t)(it->start_ticks > INT64_MAX ? INT64_MAX : it->start_ticks),
                      "unit", or_null(it->unit), "cgroup", or_null(it->cgroup), "container",
                      or_null(it->container), "kernel_thread", it->kernel_thread);
        if (o && c->admin) {
                json_t *cmd = cmdline_json(it);
                if (!cmd || json_object_set_new(o, "cmdline", cmd) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}
