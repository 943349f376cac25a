/* processes.c — the processes module: the machine's processes as the
 * collection `processes` (item `process`, id the pid), their actions
 * (actions.c), the live top-N event `processes`, and the route
 * GET /api/v1/modules/processes/top.
 *
 * This file is the module's table and glue; the substance is beside it:
 *
 *     procread.c    one pass over /proc (stat, status, cgroup, cmdline)
 *     proclist.c    the list's query, filters, sort, tree, an item's JSON
 *     procsample.c  CPU per process over the sampler's interval; the event
 *     procdetail.c  root-only reads (fds, sockets, io, smaps, maps, environ)
 *     actions.c     signal and renice, in the helper
 *
 * Where things run: list and show in the front (front_reads: as _steward,
 * several threads at once, each call with its own buffers), reading only
 * world-readable files; ?detail=1 and show's root-only members through the
 * module's privileged read in the helper (procdetail.c), which re-checks
 * the role (the environment is admin-only) and each process's identity.
 * cmdline and environment are shown to admins only: they hold secrets that
 * programs were given on their command lines.
 *
 * CPU: a list takes cpu_percent from the sampler when it has a fresh sample
 * (cpu_window_seconds: its interval), else the lifetime average
 * (cpu_window_seconds null); every list or show keeps the sampler going for
 * a minute, so the next one has fresh figures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"
#include "modules/processes/actions.h"
#include "modules/processes/procdetail.h"
#include "modules/processes/proclist.h"
#include "modules/processes/procread.h"
#include "modules/processes/procsample.h"
#include "procfs.h"
#include "roles.h"
#include "util.h"

#define THREADS_MAX    10000u /* threads listed per process */
#define LIMITS_MAX     8192u
#define CGROUP_VAL_MAX 64u

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

static bool is_admin(const struct module_ctx *ctx) {
        return ctx && ctx->role && STREQ(ctx->role, "admin");
}

/* Open files, socket peers and mapped files of another account's process
 * are more than a monitor's view (/proc shows them to root only): the
 * operators and admins who may act on a process see them. */
static bool sees_files(const struct module_ctx *ctx) {
        return is_admin(ctx) || (ctx && ctx->role && STREQ(ctx->role, "operator"));
}

/* ---- status ------------------------------------------------------------------ */

static int count_processes(size_t *ret) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        size_t n = 0;
        int pid;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (procread_pid_name(de->d_name, &pid))
                        n++;
        closedir(d);
        *ret = n;
        return 0;
}

static int processes_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        size_t n = 0;

        (void)ctx;
        if (count_processes(&n) < 0)
                *ret = json_pack("{s:s, s:s}", "state", "unavailable", "reason",
                                 "/proc cannot be read");
        else
                *ret = json_pack("{s:s, s:I}", "state", "running", "processes", (json_int_t)n);
        return *ret ? 0 : oom(err);
}

/* ---- threads, limits, cgroup limits (front, world-readable) ------------------ */

static json_t *threads_json(struct proclist_ctx *c, int pid) {
        char path[40];
        DIR *d;
        struct dirent *de;
        struct procfs_buf b = {};
        json_t *a = json_array();

        snprintf(path, sizeof path, "/proc/%d/task", pid);
        d = opendir(path);
        if (!d || !a) {
                if (d)
                        closedir(d);
                return a;
        }
        while ((de = readdir(d)) && json_array_size(a) < THREADS_MAX) {
                struct proc_pid_stat st;
                struct proc_item it = {};
                const char *text;
                size_t len;
                char state[2];
                int tid;

                if (!procread_pid_name(de->d_name, &tid))
                        continue;
                char name[24];
                snprintf(name, sizeof name, "%d/stat", tid);
                if (procfs_read_at(dirfd(d), name, 4096, &b, &text, &len) < 0 ||
                    proc_pid_stat_parse(text, len, &st) < 0)
                        continue;
                it.cpu_ticks = st.utime + st.stime;
                it.start_ticks = st.starttime;
                state[0] = st.state;
                state[1] = '\0';
                json_array_append_new(a, json_pack("{s:i, s:o, s:s, s:f}", "tid", tid, "command",
                                                   proclist_text(st.comm, strlen(st.comm)), "state",
                                                   state, "cpu_percent",
                                                   proclist_lifetime_cpu(c, &it)));
        }
        closedir(d);
        procfs_buf_free(&b);
        return a;
}

static json_t *limits_json(int pid) {
        char path[32];
        _cleanup_free_ char *text = NULL;
        struct proc_limits l;
        size_t len;
        json_t *a;

        snprintf(path, sizeof path, "/proc/%d/limits", pid);
        if (read_file(path, LIMITS_MAX, &text, &len) < 0 || proc_limits_parse(text, len, &l) < 0)
                return json_null();
        a = json_array();
        for (size_t i = 0; a && i < l.n; i++) {
                const struct proc_limit *e = &l.v[i];
                json_array_append_new(
                        a,
                        json_pack(
                                "{s:s, s:o, s:o, s:o}", "name", e->name, "soft",
                                e->soft_unlimited ? json_null() : json_integer((json_int_t)e->soft),
                                "hard",
                                e->hard_unlimited ? json_null() : json_integer((json_int_t)e->hard),
                                "unit", e->unit[0] ? json_string(e->unit) : json_null()));
        }
        return a;
}

/* A cgroup v2 path as the kernel gives it, safe to join under CGROUP_ROOT. */
static bool cgroup_path_ok(const char *p) {
        size_t n = strlen(p);

        if (n == 0 || p[0] != '/' || n > 4000)
                return false;
        return !strstr(p, "/../") && !(n >= 3 && STREQ(p + n - 3, "/..")) && !strstr(p, "//");
}

/* One cgroup file's value: a number, null for "max" or when absent. */
static json_t *cgroup_value(const char *dir, const char *file, bool pair) {
        char path[4200];
        _cleanup_free_ char *text = NULL;
        size_t len;
        uint64_t v;

        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (read_file(path, CGROUP_VAL_MAX, &text, &len) < 0)
                return json_null();
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
                text[--len] = '\0';
        if (pair) /* cpu.max: "QUOTA PERIOD", "max PERIOD" for none */
                return strncmp(text, "max", 3) == 0 || !utf8_valid(text, len) ? json_null()
                                                                              : json_string(text);
        if (STREQ(text, "max") || tv_to_u64(text, len, &v) < 0)
                return json_null();
        return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *cgroup_limits_json(const char *cg) {
        char dir[4200];

        const char *root = procread_cgroup_root();

        if (!cg || !root || !cgroup_path_ok(cg))
                return json_null();
        snprintf(dir, sizeof dir, "%s%s", root, cg);
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "memory_max",
                         cgroup_value(dir, "memory.max", false), "memory_current",
                         cgroup_value(dir, "memory.current", false), "memory_swap_max",
                         cgroup_value(dir, "memory.swap.max", false), "cpu_max",
                         cgroup_value(dir, "cpu.max", true), "pids_max",
                         cgroup_value(dir, "pids.max", false), "pids_current",
                         cgroup_value(dir, "pids.current", false));
}

/* ---- the helper's part ------------------------------------------------------- */

static int via_helper(const struct module_ctx *ctx, json_t *args, json_t **ret,
                      struct module_error *err) {
        if (!args)
                return oom(err);
        if (!ctx->privileged_read) {
                json_decref(args);
                module_error_set(err, 503, "unavailable", NULL,
                                 "the detail of processes needs the helper");
                return -EHOSTDOWN;
        }
        return ctx->privileged_read(ctx, "processes", args, ret, err);
}

/* Adds the helper's detail to each item of items (by pid). */
static int add_detail(const struct module_ctx *ctx, json_t *items, struct module_error *err) {
        json_t *pids = json_array(), *out = NULL, *it, *by_pid;
        size_t i;
        int r;

        if (!pids)
                return oom(err);
        json_array_foreach(items, i, it)
                json_array_append_new(pids, json_pack("[O, O]", json_object_get(it, "pid"),
                                                      json_object_get(it, "start_ticks")));
        r = via_helper(ctx, json_pack("{s:s, s:o}", "what", "detail", "pids", pids), &out, err);
        if (r < 0)
                return r;
        by_pid = json_object_get(out, "processes");
        json_array_foreach(items, i, it) {
                char key[16];
                json_t *d;
                snprintf(key, sizeof key, "%d",
                         (int)json_integer_value(json_object_get(it, "pid")));
                d = json_object_get(by_pid, key);
                if (json_is_object(d))
                        json_object_update(it, d);
                else /* gone since the list was read */
                        json_object_update_new(it,
                                               json_pack("{s:n, s:n, s:n, s:n, s:[]}", "pss_bytes",
                                                         "open_files", "io_read_bytes",
                                                         "io_write_bytes", "listening"));
        }
        json_decref(out);
        return 0;
}

/* ---- list -------------------------------------------------------------------- */

/* Keeps the items that pass q's filters, with their CPU figures. */
static void filter_and_cpu(struct proc_list *l, const struct proclist_query *q,
                           const struct proclist_ctx *c) {
        size_t m = 0;

        for (size_t i = 0; i < l->n; i++) {
                struct proc_item *it = &l->v[i];
                if (!proclist_match(q, it)) {
                        proc_item_done(it);
                        continue;
                }
                it->cpu_sampled = procsample_cpu(it->pid, it->start_ticks, &it->cpu_percent) == 0;
                if (!it->cpu_sampled)
                        it->cpu_percent = proclist_lifetime_cpu(c, it);
                l->v[m++] = *it;
        }
        l->n = m;
}

static int items_json(struct proc_list *l, const size_t *order, size_t n, bool tree, bool threads,
                      struct proclist_ctx *c, json_t **ret) {
        json_t *a = json_array();

        for (size_t k = 0; a && k < n; k++) {
                const struct proc_item *it = &l->v[order ? order[k] : k];
                json_t *o = proclist_item_json(c, it);
                if (o && tree)
                        json_object_set_new(o, "depth", json_integer(it->depth));
                if (o && threads)
                        json_object_set_new(o, "threads_list", threads_json(c, it->pid));
                if (!o || json_array_append_new(a, o) < 0) {
                        json_decref(a);
                        return -ENOMEM;
                }
        }
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

static int processes_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                          struct module_error *err) {
        struct proclist_query q;
        struct proclist_ctx c;
        struct proc_list l = {};
        _cleanup_free_ size_t *order = NULL;
        json_t *items = NULL;
        size_t n, total;
        unsigned window;
        int r;

        r = proclist_query_parse(query, &q, err);
        if (r < 0)
                return r;
        procsample_touch();
        r = proclist_ctx_init(&c, is_admin(ctx));
        if (r >= 0)
                r = procread_all(c.admin ? PROCREAD_CMDLINE : 0, &l);
        if (r == -ENOMEM)
                return oom(err);
        if (r < 0) {
                module_error_set(err, 503, "unavailable", NULL, "cannot read /proc: %s",
                                 strerror(-r));
                return r;
        }
        window = procsample_window();
        filter_and_cpu(&l, &q, &c);
        proclist_sort(&l, q.sort);
        if (q.tree && proclist_tree(&l, &order) < 0) {
                proc_list_done(&l);
                return oom(err);
        }
        total = l.n;
        n = q.limit && q.limit < l.n ? q.limit : l.n;
        if (q.detail && n > PROCDETAIL_PIDS_MAX) {
                proc_list_done(&l);
                module_error_set(err, 400, "invalid_argument", "detail",
                                 "detail is for at most %u processes: add a limit or a filter",
                                 PROCDETAIL_PIDS_MAX);
                return -E2BIG;
        }
        r = items_json(&l, order, n, q.tree, q.threads, &c, &items);
        proc_list_done(&l);
        if (r < 0)
                return oom(err);
        if (q.detail && (r = add_detail(ctx, items, err)) < 0) {
                json_decref(items);
                return r;
        }
        *ret = json_pack("{s:o, s:I, s:o}", "processes", items, "total", (json_int_t)total,
                         "cpu_window_seconds", window ? json_integer(window) : json_null());
        return *ret ? 0 : oom(err);
}

/* ---- show -------------------------------------------------------------------- */

static int show_extras(const struct module_ctx *ctx, const struct proc_item *it,
                       struct proclist_ctx *c, json_t *o, struct module_error *err) {
        json_t *d = NULL;
        int r;

        r = via_helper(ctx,
                       json_pack("{s:s, s:i, s:I, s:b, s:b}", "what", "show", "pid", it->pid,
                                 "start_ticks", (json_int_t)it->start_ticks, "environ", c->admin,
                                 "files", sees_files(ctx)),
                       &d, err);
        if (r < 0)
                return r;
        json_object_update(o, d);
        json_decref(d);
        json_object_set_new(o, "limits", limits_json(it->pid));
        json_object_set_new(o, "cgroup_limits", cgroup_limits_json(it->cgroup));
        json_object_set_new(o, "threads_list", threads_json(c, it->pid));
        return 0;
}

static int processes_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                          struct module_error *err) {
        struct proclist_ctx c;
        struct proc_item it = {};
        json_t *o;
        int pid, r;

        (void)query;
        if (!procread_pid_name(id, &pid)) {
                module_error_set(err, 404, "not_found", NULL, "a process is named by its pid");
                return -ENOENT;
        }
        procsample_touch();
        r = proclist_ctx_init(&c, is_admin(ctx));
        if (r >= 0)
                r = procread_pid(pid, c.admin ? PROCREAD_CMDLINE : 0, &it);
        if (r == -ENOMEM)
                return oom(err);
        if (r < 0) {
                module_error_set(err, 404, "not_found", NULL, "no process %d", pid);
                return -ENOENT;
        }
        it.cpu_sampled = procsample_cpu(it.pid, it.start_ticks, &it.cpu_percent) == 0;
        if (!it.cpu_sampled)
                it.cpu_percent = proclist_lifetime_cpu(&c, &it);
        o = proclist_item_json(&c, &it);
        if (!o) {
                proc_item_done(&it);
                return oom(err);
        }
        json_object_set_new(o, "cpu_window_seconds",
                            it.cpu_sampled ? json_integer(1) : json_null());
        r = show_extras(ctx, &it, &c, o, err);
        proc_item_done(&it);
        if (r < 0) {
                json_decref(o);
                return r;
        }
        *ret = json_pack("{s:o}", "process", o);
        return *ret ? 0 : oom(err);
}

/* ---- the top N: the event, and its route ------------------------------------- */

static json_t *event_item(int pid, double cpu_percent) {
        struct proclist_ctx c;
        struct proc_item it = {};
        json_t *o;

        if (proclist_ctx_init(&c, false) < 0 || procread_pid(pid, 0, &it) < 0)
                return NULL;
        it.cpu_percent = cpu_percent;
        o = proclist_item_json(&c, &it);
        proc_item_done(&it);
        return o;
}

/* Without fresh samples: the top by lifetime CPU and by memory now. */
static int top_now(json_t **ret, struct module_error *err) {
        json_t *q = json_pack("{s:s, s:s}", "sort", "cpu", "limit", "10"), *by_cpu = NULL,
               *by_mem = NULL;
        struct module_ctx ctx = {.role = "monitor"};
        int r;

        r = q ? processes_list(&ctx, q, &by_cpu, err) : oom(err);
        if (r >= 0) {
                json_object_set_new(q, "sort", json_string("mem"));
                r = processes_list(&ctx, q, &by_mem, err);
        }
        json_decref(q);
        if (r < 0) {
                json_decref(by_cpu);
                return r;
        }
        *ret = json_pack("{s:n, s:n, s:O, s:O, s:O}", "time", "interval_seconds", "total",
                         json_object_get(by_cpu, "total"), "by_cpu",
                         json_object_get(by_cpu, "processes"), "by_memory",
                         json_object_get(by_mem, "processes"));
        json_decref(by_cpu);
        json_decref(by_mem);
        return *ret ? 0 : oom(err);
}

static int route_top(const struct module_ctx *ctx, char **params, json_t **ret,
                     struct module_error *err) {
        (void)ctx;
        (void)params;
        procsample_touch();
        if (procsample_top(ret) == 0)
                return 0;
        return top_now(ret, err);
}

#define TOP_ITEMS "{\"type\": \"array\", \"items\": {\"type\": \"object\"}}"
static const char top_schema[] =
        "{\"type\": \"object\", \"required\": [\"by_cpu\", \"by_memory\"], "
        "\"properties\": {\"time\": {\"type\": [\"string\", \"null\"]}, "
        "\"interval_seconds\": {\"type\": [\"integer\", \"null\"]}, "
        "\"total\": {\"type\": \"integer\"}, \"by_cpu\": " TOP_ITEMS ", \"by_memory\": " TOP_ITEMS
        "}}";

/* Named routes[] and written {method, pattern, role, handler}: the route
 * walk of tests/integration/test_security.py reads module tables so. */
static const module_route_t routes[] = {
        {"GET", "api/v1/modules/processes/top", ROLE_MONITOR, route_top,
         .summary = "The ten processes that use the most CPU and the most memory now",
         .response = top_schema},
};

/* ---- the table --------------------------------------------------------------- */

static int processes_privileged_read(json_t *args, json_t **ret, struct module_error *err) {
        return procdetail_read(args, ret, err);
}

static int processes_init(void) {
        procsample_set_item_fn(event_item);
        return procsample_start();
}

static void processes_done(void) {
        procsample_stop();
}

#define SHOWN(n, t, l, d)                                                                          \
        { .name = n, .type = t, .flags = FIELD_SHOWN, .label = l, .description = d }
#define SHOWN_OR_NULL(n, t, l, d)                                                                  \
        {                                                                                          \
                .name = n, .type = t, .flags = FIELD_SHOWN | FIELD_NULLABLE, .label = l,           \
                .description = d                                                                   \
        }
static const collection_field_t process_fields[] = {
        SHOWN("pid", FIELD_INTEGER, "PID", "the process id"),
        SHOWN("ppid", FIELD_INTEGER, "Parent", "the parent's process id"),
        SHOWN("user", FIELD_STRING, "User", "the real user's name (or uid)"),
        SHOWN("uid", FIELD_INTEGER, "UID", "the real user id"),
        SHOWN("command", FIELD_STRING, "Command", "the command name (comm, 15 bytes at most)"),
        SHOWN("state", FIELD_STRING, "State",
              "R running, S sleeping, D disk wait, Z zombie, "
              "T stopped, I idle…"),
        SHOWN("cpu_percent", FIELD_NUMBER, "CPU %",
              "percent of one CPU over cpu_window_seconds (else since the process started)"),
        SHOWN("rss_bytes", FIELD_INTEGER, "Memory", "resident memory"),
        SHOWN("swap_bytes", FIELD_INTEGER, "Swap", "memory swapped out"),
        SHOWN("threads", FIELD_INTEGER, "Threads", "the number of threads"),
        SHOWN("nice", FIELD_INTEGER, "Nice", "the nice value, -20 to 19"),
        SHOWN("priority", FIELD_INTEGER, "Priority", "the kernel's priority"),
        SHOWN("start_time", FIELD_STRING, "Started", "when it started (UTC)"),
        SHOWN("start_ticks", FIELD_INTEGER, "Start ticks",
              "its start in clock ticks since boot: with the pid, the process's identity"),
        SHOWN_OR_NULL("unit", FIELD_STRING, "Unit", "the systemd unit it runs in, or null"),
        SHOWN_OR_NULL("cgroup", FIELD_STRING, "Cgroup", "its cgroup v2 path"),
        SHOWN_OR_NULL("container", FIELD_STRING, "Container", "the container or machine, or null"),
        SHOWN("kernel_thread", FIELD_BOOLEAN, "Kernel thread", "a kernel thread"),
        SHOWN("cmdline", FIELD_STRING_ARRAY, "Command line", "its arguments (admins only)"),
};

static const collection_query_t process_query[] = {
        {"sort", FIELD_ENUM, "list: the order: cpu, mem (resident memory), pid, start or name",
         (const char *const[]){"pid", "cpu", "mem", "start", "name", NULL}},
        {"limit", FIELD_STRING, "list: the first N only (top N), 1 to 100000"},
        {"user", FIELD_STRING, "list: processes of this user (a name or a uid)"},
        {"unit", FIELD_STRING, "list: processes of this systemd unit"},
        {"name", FIELD_STRING, "list: processes whose command holds this text"},
        {"tree", FIELD_BOOLEAN, "list: parents before their children, with depth"},
        {"detail", FIELD_BOOLEAN,
         "list: add pss_bytes, open_files, io_read_bytes, io_write_bytes and listening"},
        {"threads", FIELD_BOOLEAN, "list: add threads_list to each process"},
};

static const collection_column_t process_columns[] = {
        {"pid", "PID", NULL},          {"user", "USER", NULL}, {"cpu_percent", "CPU%", NULL},
        {"rss_bytes", "RSS", "bytes"}, {"state", "S", NULL},   {"command", "COMMAND", NULL},
        {"unit", "UNIT", NULL},
};

static const collection_def_t processes_collections[] = {
        {.name = "processes",
         .item = "process",
         .summary = "the machine's processes: CPU, memory, owner, unit and container",
         .id_field = "pid",
         .fields = process_fields,
         .n_fields = ELEMENTSOF(process_fields),
         .query = process_query,
         .n_query = ELEMENTSOF(process_query),
         .columns = process_columns,
         .n_columns = ELEMENTSOF(process_columns),
         .list = processes_list,
         .show = processes_show,
         .actions = processes_actions,
         .n_actions = PROCESSES_N_ACTIONS,
         .front_reads = true},
};

static const event_def_t processes_events[] = {
        {.name = "processes",
         .description = "each sampler tick while subscribed: {time, interval_seconds, total, "
                        "by_cpu: [10 processes], by_memory: [10 processes]}",
         .min_role = ROLE_MONITOR},
};

const module_t module_processes = {
        .name = "processes",
        .summary = "The machine's processes: what uses the CPU and the memory, who runs it, "
                   "its unit, files and ports; signal and renice",
        .init = processes_init,
        .done = processes_done,
        .status = processes_status,
        .privileged_read = processes_privileged_read,
        .privileged_read_role = procdetail_role,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .collections = processes_collections,
        .n_collections = ELEMENTSOF(processes_collections),
        .events = processes_events,
        .n_events = ELEMENTSOF(processes_events),
        .events_attach = procsample_attach,
        .console_title = "Processes",
};
