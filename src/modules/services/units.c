/* units.c — systemd's units read through sd-bus (see units.h).
 *
 * Bus values become JSON through one generic reader (busvalue_read):
 * basic types as themselves, arrays as arrays, structs as arrays, a{sv}
 * as objects; systemd's "unset" for a 64-bit quantity (UINT64_MAX) is null.
 * The collection's items are then picked from those objects by name, so a
 * property systemd does not have (an older version) is simply absent.
 *
 * The cgroup walk reads directory names only: a directory ending in a unit
 * type's suffix is that unit's cgroup; ".slice" directories are descended
 * into (at most CG_DEPTH levels, CG_UNITS_MAX units).  Every file read is
 * capped.
 */
#include "modules/services/units.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "modules/services/dropin.h"
#include "modules/services/unitname.h"
#include "util.h"

#define _cleanup_json_    _cleanup_(json_decrefp)
#define _cleanup_bus_     _cleanup_(sd_bus_flush_close_unrefp)
#define _cleanup_bus_msg_ _cleanup_(sd_bus_message_unrefp)
#define CG_ROOT           "/sys/fs/cgroup"
#define CG_DEPTH          4
#define CG_UNITS_MAX      8192
#define CG_PROCS_MAX      256
#define VALUE_DEPTH_MAX   8
#define LIST_UNITS_MAX    20000
#define BUS_TIMEOUT_USEC  (10 * 1000000ULL)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static _Atomic uint64_t bus_calls;

uint64_t units_bus_calls(void) {
        return atomic_load(&bus_calls);
}

void units_bus_count(void) {
        atomic_fetch_add(&bus_calls, 1);
}

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

bool units_available(const char **ret_reason) {
        sd_bus *bus = NULL;
        int r;

        if (sd_booted() <= 0) {
                *ret_reason = "systemd is not the service manager here (not PID 1, e.g. a "
                              "container or a chroot): there are no units to manage";
                return false;
        }
        r = sd_bus_open_system(&bus);
        sd_bus_flush_close_unref(bus);
        if (r < 0) {
                *ret_reason = "the system bus (D-Bus) does not answer, so systemd cannot be "
                              "reached";
                return false;
        }
        *ret_reason = NULL;
        return true;
}

int units_bus_open(sd_bus **ret, struct module_error *err) {
        const char *reason;
        sd_bus *bus = NULL;
        int r;

        if (sd_booted() <= 0) {
                (void)units_available(&reason);
                module_error_set(err, 503, "unavailable", NULL, "%s", reason);
                return -EHOSTDOWN;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                module_error_set(err, 503, "unavailable", NULL,
                                 "cannot connect to the system bus: %s", strerror(-r));
                return r;
        }
        (void)sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC);
        *ret = bus;
        return 0;
}

int units_bus_error(int r, const sd_bus_error *e, const char *what, struct module_error *err) {
        const char *name = e && e->name ? e->name : "";

        if (STREQ(name, "org.freedesktop.systemd1.NoSuchUnit") ||
            STREQ(name, "org.freedesktop.systemd1.LoadFailed"))
                module_error_set(err, 404, "not_found", NULL, "%s: %s", what,
                                 e->message ? e->message : "no such unit");
        else if (STREQ(name, "org.freedesktop.DBus.Error.AccessDenied") ||
                 STREQ(name, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
                module_error_set(err, 403, "forbidden", NULL, "%s: %s", what,
                                 e->message ? e->message : "access denied");
        else if (sd_bus_error_is_set(e))
                module_error_set(err, 409, "refused", NULL, "%s: %s", what,
                                 e->message ? e->message : name);
        else
                module_error_set(err, 500, "internal", NULL, "%s: %s", what, strerror(-r));
        return r < 0 ? r : -EIO;
}

/* ---- bus values as JSON ------------------------------------------------------ */

static int busvalue_read(sd_bus_message *m, int depth, json_t **ret);

static int read_container(sd_bus_message *m, char type, const char *contents, int depth,
                          json_t **ret) {
        bool dict = type == SD_BUS_TYPE_ARRAY && contents[0] == '{';
        json_t *out = dict ? json_object() : json_array();
        int r;

        if (!out)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, type, contents);
        while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
                json_t *v = NULL, *k = NULL;

                if (dict) {
                        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, NULL);
                        if (r >= 0)
                                r = busvalue_read(m, depth + 1, &k);
                        if (r >= 0)
                                r = busvalue_read(m, depth + 1, &v);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0 && json_is_string(k))
                                json_object_set(out, json_string_value(k), v ? v : json_null());
                        json_decref(k);
                        json_decref(v);
                } else {
                        r = busvalue_read(m, depth + 1, &v);
                        if (r >= 0 && json_array_append_new(out, v ? v : json_null()) < 0)
                                r = -ENOMEM;
                }
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                json_decref(out);
                return r;
        }
        *ret = out;
        return 0;
}

static int busvalue_read(sd_bus_message *m, int depth, json_t **ret) {
        const char *contents = NULL;
        char type;
        union {
                int b;
                uint8_t y;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                int h;
        } v;
        int r;

        if (depth > VALUE_DEPTH_MAX)
                return -E2BIG;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        switch (type) {
        case SD_BUS_TYPE_ARRAY:
        case SD_BUS_TYPE_STRUCT:
                return read_container(m, type, contents, depth, ret);
        case SD_BUS_TYPE_VARIANT:
                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
                if (r >= 0)
                        r = busvalue_read(m, depth + 1, ret);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                return r;
        default:
                break;
        }
        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case SD_BUS_TYPE_BOOLEAN:
                *ret = json_boolean(v.b);
                break;
        case SD_BUS_TYPE_BYTE:
                *ret = json_integer(v.y);
                break;
        case SD_BUS_TYPE_INT16:
                *ret = json_integer(v.n);
                break;
        case SD_BUS_TYPE_UINT16:
                *ret = json_integer(v.q);
                break;
        case SD_BUS_TYPE_INT32:
                *ret = json_integer(v.i);
                break;
        case SD_BUS_TYPE_UINT32:
                *ret = json_integer(v.u);
                break;
        case SD_BUS_TYPE_INT64:
                *ret = json_integer(v.x);
                break;
        case SD_BUS_TYPE_UINT64:
                *ret = v.t >= (uint64_t)INT64_MAX ? json_null() : json_integer((json_int_t)v.t);
                break;
        case SD_BUS_TYPE_DOUBLE:
                *ret = json_real(v.d);
                break;
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                *ret = json_string(v.s);
                break;
        default:
                *ret = json_null();
                break; /* a descriptor: nothing to show */
        }
        return *ret ? 0 : -ENOMEM;
}

int units_bus_value(sd_bus_message *m, json_t **ret) {
        return busvalue_read(m, 0, ret);
}

/* ---- calls -------------------------------------------------------------------- */

int units_path(sd_bus *bus, const char *name, char **ret, struct module_error *err) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_msg_ sd_bus_message *reply = NULL;
        const char *path;
        int r;

        units_bus_count();
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &e, &reply, "s",
                               name);
        if (r < 0) {
                r = units_bus_error(r, &e, name, err);
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0 || !(*ret = strdup(path)))
                return r < 0 ? units_bus_error(r, NULL, name, err) : oom(err);
        return 0;
}

static int get_all(sd_bus *bus, const char *path, const char *iface, json_t **ret,
                   struct module_error *err) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_msg_ sd_bus_message *reply = NULL;
        int r;

        units_bus_count();
        r = sd_bus_call_method(bus, SD_DEST, path, "org.freedesktop.DBus.Properties", "GetAll", &e,
                               &reply, "s", iface);
        if (r < 0) {
                r = units_bus_error(r, &e, iface, err);
                sd_bus_error_free(&e);
                return r;
        }
        r = busvalue_read(reply, 0, ret);
        if (r < 0)
                return units_bus_error(r, NULL, "reading the unit's properties", err);
        return 0;
}

/* ---- cgroups -------------------------------------------------------------------- */

static bool unit_dir_name(const char *n) {
        const char *dot = strrchr(n, '.');
        return dot && dot != n && unit_type_known(dot + 1);
}

/* Where the units' cgroups are: the unified hierarchy at CG_ROOT (cgroup
 * v2, Debian 12's default), or under CG_ROOT/unified with the numbers in
 * the v1 controllers' trees (hybrid), or the name=systemd tree (legacy). */
struct cg_layout {
        const char *tree; /* where the unit directories are */
        bool v1;          /* numbers from memory/, cpuacct/, pids/ */
};

static struct cg_layout cg_layout(void) {
        if (access(CG_ROOT "/cgroup.controllers", F_OK) == 0)
                return (struct cg_layout){.tree = CG_ROOT};
        if (access(CG_ROOT "/unified/cgroup.procs", F_OK) == 0)
                return (struct cg_layout){.tree = CG_ROOT "/unified", .v1 = true};
        return (struct cg_layout){.tree = CG_ROOT "/systemd", .v1 = true};
}

/* name → path relative to the tree of every unit's cgroup. */
static void cg_walk(const char *tree, const char *rel, int depth, json_t *map) {
        char path[PATH_MAX];
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (depth > CG_DEPTH ||
            snprintf(path, sizeof path, "%s%s%s", tree, *rel ? "/" : "", rel) >= (int)sizeof path)
                return;
        d = opendir(path);
        while (d && (de = readdir(d)) && json_object_size(map) < CG_UNITS_MAX) {
                char sub[PATH_MAX];
                const char *dot;

                if (de->d_type != DT_DIR || de->d_name[0] == '.' || !unit_dir_name(de->d_name))
                        continue;
                if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
                    (int)sizeof sub)
                        continue;
                json_object_set_new(map, de->d_name, json_string(sub));
                dot = strrchr(de->d_name, '.');
                if (STREQ(dot, ".slice"))
                        cg_walk(tree, sub, depth + 1, map);
        }
}

static int cg_read(const char *base, const char *rel, const char *file, char *buf, size_t size) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (snprintf(path, sizeof path, "%s/%s/%s", base, rel, file) >= (int)sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static json_t *cg_u64(const char *base, const char *rel, const char *file) {
        char buf[64];
        uint64_t v;

        if (cg_read(base, rel, file, buf, sizeof buf) < 0)
                return NULL;
        buf[strcspn(buf, "\n")] = '\0';
        return safe_atou64(buf, &v) < 0 || v > INT64_MAX ? NULL : json_integer((json_int_t)v);
}

static json_t *cg_cpu_seconds(const struct cg_layout *l, const char *rel) {
        char buf[1024];
        const char *p;
        uint64_t v;

        if (l->v1) {
                json_t *ns = cg_u64(CG_ROOT "/cpuacct", rel, "cpuacct.usage");
                json_t *s = ns ? json_real((double)json_integer_value(ns) / 1e9) : NULL;
                json_decref(ns);
                return s;
        }
        if (cg_read(l->tree, rel, "cpu.stat", buf, sizeof buf) < 0 ||
            strncmp(buf, "usage_usec ", 11) != 0)
                return NULL;
        p = buf + 11;
        buf[11 + strcspn(p, "\n")] = '\0';
        return safe_atou64(p, &v) < 0 ? NULL : json_real((double)v / 1e6);
}

static pid_t proc_ppid(pid_t pid) {
        char path[64], buf[512];
        _cleanup_close_ int fd = -1;
        const char *p;
        ssize_t n;
        int64_t v;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (n = read(fd, buf, sizeof buf - 1)) <= 0)
                return -1;
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (!p || strlen(p) < 5)
                return -1;
        p += 4; /* ") S " */
        return safe_atoi64_n(p, strcspn(p, " "), &v) < 0 ? -1 : (pid_t)v;
}

/* The service's main process as the cgroup shows it: the one process whose
 * parent is outside the cgroup (what systemd started), when there is
 * exactly one; else unknown (null).  show has systemd's own MainPID. */
static json_t *cg_main_pid(const struct cg_layout *l, const char *rel) {
        char buf[4096];
        pid_t pids[CG_PROCS_MAX], found = 0;
        size_t n = 0;

        if (cg_read(l->tree, rel, "cgroup.procs", buf, sizeof buf) < 0)
                return NULL;
        for (char *s = buf, *t; n < CG_PROCS_MAX && (t = strsep(&s, "\n"));) {
                int64_t v;
                if (*t && safe_atoi64(t, &v) >= 0 && v > 0 && v <= INT32_MAX)
                        pids[n++] = (pid_t)v;
        }
        for (size_t i = 0; i < n; i++) {
                pid_t pp = proc_ppid(pids[i]);
                bool inside = false;
                for (size_t j = 0; j < n && !inside; j++)
                        inside = pids[j] == pp;
                if (inside)
                        continue;
                if (found)
                        return NULL;
                found = pids[i];
        }
        return found ? json_integer(found) : NULL;
}

/* ---- list ------------------------------------------------------------------------- */

struct list_filter {
        const char *type, *state, *enabled, *name;
};

static int filter_parse(json_t *query, struct list_filter *f, struct module_error *err) {
        static const char *const states[] = {"active",       "failed",    "inactive", "activating",
                                             "deactivating", "reloading", NULL};
        const char *key;
        json_t *v;

        *f = (struct list_filter){0};
        json_object_foreach(query, key, v) {
                const char *s = json_string_value(v);
                if (!s) {
                        module_error_set(err, 400, "invalid_argument", key, "%s is a string", key);
                        return -EINVAL;
                }
                if (STREQ(key, "type"))
                        f->type = s;
                else if (STREQ(key, "state"))
                        f->state = s;
                else if (STREQ(key, "enabled"))
                        f->enabled = s;
                else if (STREQ(key, "name"))
                        f->name = s;
                else {
                        module_error_set(err, 400, "invalid_argument", key,
                                         "unknown query argument \"%.32s\"", key);
                        return -EINVAL;
                }
        }
        if (f->type && !STREQ(f->type, "all") && !unit_type_known(f->type)) {
                module_error_set(err, 400, "invalid_argument", "type",
                                 "type is all or a unit type (service, socket, timer, mount, "
                                 "path, target, …)");
                return -EINVAL;
        }
        if (f->state) {
                bool ok = STREQ(f->state, "all");
                for (size_t i = 0; !ok && states[i]; i++)
                        ok = STREQ(f->state, states[i]);
                if (!ok) {
                        module_error_set(err, 400, "invalid_argument", "state",
                                         "state is active, failed, inactive, activating, "
                                         "deactivating, reloading or all");
                        return -EINVAL;
                }
        }
        if (f->enabled && !unit_file_state_valid(f->enabled)) {
                module_error_set(err, 400, "invalid_argument", "enabled",
                                 "enabled is a unit file state (enabled, disabled, static, "
                                 "masked, indirect, generated, transient, alias…)");
                return -EINVAL;
        }
        if (f->name && !unit_pattern_valid(f->name)) {
                module_error_set(err, 400, "invalid_argument", "name",
                                 "name is a pattern of unit names (letters, digits, "
                                 ":_.@-, and * ? [ ] as in fnmatch), at most 255 bytes");
                return -EINVAL;
        }
        return 0;
}

static bool type_wanted(const struct list_filter *f, const char *type) {
        if (f->type)
                return STREQ(f->type, "all") || STREQ(f->type, type);
        for (size_t i = 0; unit_list_types[i]; i++)
                if (STREQ(unit_list_types[i], type))
                        return true;
        return false;
}

/* basename → unit file state, from ListUnitFilesByPatterns, for the
 * units named by patterns (NULL: every unit file).  systemd works out the
 * state of every file the patterns match: about 1.5 ms a file here, half a
 * second for a whole system, hence the cache below. */
static int file_states_call(sd_bus *bus, char **patterns, json_t **ret, struct module_error *err) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_msg_ sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_json_ json_t *map = json_object();
        const char *path, *state;
        int r;

        if (!map)
                return oom(err);
        r = sd_bus_message_new_method_call(bus, &call, SD_DEST, SD_PATH, SD_MANAGER,
                                           "ListUnitFilesByPatterns");
        if (r >= 0)
                r = sd_bus_message_append(call, "as", 0);
        if (r >= 0)
                r = sd_bus_message_append_strv(call, patterns);
        units_bus_count();
        if (r >= 0)
                r = sd_bus_call(bus, call, 0, &e, &reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &path, &state)) > 0) {
                const char *base = strrchr(path, '/');
                json_object_set_new(map, base ? base + 1 : path, json_string(state));
        }
        if (r < 0) {
                r = units_bus_error(r, &e, "listing unit files", err);
                sd_bus_error_free(&e);
                return r;
        }
        *ret = TAKE_PTR(map);
        return 0;
}

/* The states of every unit file, kept between listings while the event
 * thread watches systemd (units_file_states_watch(true)): it drops them
 * when systemd says unit files changed (UnitFilesChanged, after an enable,
 * a mask…) or reloads, which is when systemd itself looks at them again.
 * A cached object is never modified, so threads share it by reference. */
static pthread_mutex_t fs_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *fs_cache;
static bool fs_watched;

void units_file_states_watch(bool watched) {
        pthread_mutex_lock(&fs_lock);
        fs_watched = watched;
        json_decref(fs_cache);
        fs_cache = NULL;
        pthread_mutex_unlock(&fs_lock);
}

void units_file_states_changed(void) {
        pthread_mutex_lock(&fs_lock);
        json_decref(fs_cache);
        fs_cache = NULL;
        pthread_mutex_unlock(&fs_lock);
}

static int file_states(sd_bus *bus, const struct list_filter *f, json_t **ret,
                       struct module_error *err);

void units_file_states_warm(sd_bus *bus) {
        struct module_error err = {0};
        json_t *map = NULL;

        if (file_states(bus, &(struct list_filter){0}, &map, &err) >= 0)
                json_decref(map);
}

static int file_states(sd_bus *bus, const struct list_filter *f, json_t **ret,
                       struct module_error *err) {
        char *pattern[] = {(char *)f->name, NULL};
        json_t *map = NULL;
        bool watched;
        int r;

        if (f->name) /* few files to look at: no cache needed */
                return file_states_call(bus, pattern, ret, err);
        pthread_mutex_lock(&fs_lock);
        watched = fs_watched;
        if (watched && fs_cache)
                map = json_incref(fs_cache);
        pthread_mutex_unlock(&fs_lock);
        if (map) {
                *ret = map;
                return 0;
        }
        r = file_states_call(bus, NULL, &map, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&fs_lock);
        if (fs_watched && !fs_cache)
                fs_cache = json_incref(map);
        pthread_mutex_unlock(&fs_lock);
        *ret = map;
        return 0;
}

static json_t *file_state_of(json_t *states, const char *name) {
        json_t *s = json_object_get(states, name);
        const char *at = strchr(name, '@');
        char tmpl[UNIT_NAME_MAX + 1];

        if (s || !at)
                return s;
        /* An instance's state is its template's. */
        snprintf(tmpl, sizeof tmpl, "%.*s%s", (int)(at - name + 1), name, strrchr(name, '.'));
        return json_object_get(states, tmpl);
}

static json_t *list_item(const struct cg_layout *l, const char *name, const char *type,
                         const char *desc, const char *load, const char *active, const char *sub,
                         const char *job_type, json_t *file_state, json_t *cgroups) {
        const char *rel = json_string_value(json_object_get(cgroups, name));
        bool running = rel && !STREQ(active, "inactive") && !STREQ(active, "failed");
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:s?}", "name", name, "type",
                              type, "description", desc, "load_state", load, "active_state", active,
                              "sub_state", sub, "unit_file_state", file_state, "job",
                              *job_type ? job_type : NULL);
        if (!o)
                return NULL;
        if (!json_object_get(o, "unit_file_state"))
                json_object_set_new(o, "unit_file_state", json_null());
        json_object_set_new(o, "main_pid",
                            running && STREQ(type, "service") ? cg_main_pid(l, rel) ?: json_null()
                                                              : json_null());
        json_object_set_new(o, "memory_bytes",
                            !running ? json_null()
                            : l->v1  ? cg_u64(CG_ROOT "/memory", rel, "memory.usage_in_bytes")
                                              ?: json_null()
                                     : cg_u64(l->tree, rel, "memory.current") ?: json_null());
        json_object_set_new(o, "cpu_seconds",
                            running ? cg_cpu_seconds(l, rel) ?: json_null() : json_null());
        json_object_set_new(o, "tasks",
                            !running ? json_null()
                                     : cg_u64(l->v1 ? CG_ROOT "/pids" : l->tree, rel,
                                              "pids.current")
                                               ?: json_null());
        return o;
}

static int list_call(sd_bus *bus, const struct list_filter *f, sd_bus_message **ret,
                     struct module_error *err) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_msg_ sd_bus_message *call = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, SD_DEST, SD_PATH, SD_MANAGER,
                                           "ListUnitsByPatterns");
        if (r >= 0)
                r = f->state && !STREQ(f->state, "all")
                            ? sd_bus_message_append(call, "as", 1, f->state)
                            : sd_bus_message_append(call, "as", 0);
        if (r >= 0)
                r = f->name ? sd_bus_message_append(call, "as", 1, f->name)
                            : sd_bus_message_append(call, "as", 0);
        units_bus_count();
        if (r >= 0)
                r = sd_bus_call(bus, call, 0, &e, ret);
        if (r < 0) {
                r = units_bus_error(r, &e, "listing units", err);
                sd_bus_error_free(&e);
        }
        return r;
}

static int cmp_name(const void *a, const void *b) {
        return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* In name order, as systemctl lists them. */
static void sort_by_name(json_t *items) {
        size_t n = json_array_size(items);
        _cleanup_free_ json_t **v = n ? calloc(n, sizeof *v) : NULL;

        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(items, i));
        qsort(v, n, sizeof *v, cmp_name);
        json_array_clear(items);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(items, v[i]);
}

int units_list(json_t *query, json_t **ret, struct module_error *err) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_msg_ sd_bus_message *reply = NULL;
        _cleanup_json_ json_t *items = json_array(), *states = NULL, *cgroups = json_object();
        const char *name, *desc, *load, *active, *sub, *follow, *path, *jtype, *jpath;
        struct list_filter f;
        struct cg_layout layout;
        uint32_t jid;
        int r;

        if (!items || !cgroups)
                return oom(err);
        r = filter_parse(query, &f, err);
        if (r < 0)
                return r;
        r = units_bus_open(&bus, err);
        if (r >= 0)
                r = list_call(bus, &f, &reply, err);
        if (r >= 0)
                r = file_states(bus, &f, &states, err);
        if (r < 0)
                return r;
        layout = cg_layout();
        cg_walk(layout.tree, "", 0, cgroups);
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        while (r >= 0 &&
               (r = sd_bus_message_read(reply, "(ssssssouso)", &name, &desc, &load, &active, &sub,
                                        &follow, &path, &jid, &jtype, &jpath)) > 0) {
                const char *type = unit_name_type(name);
                json_t *fs, *item;

                if (!type || !type_wanted(&f, type) || json_array_size(items) >= LIST_UNITS_MAX)
                        continue;
                fs = file_state_of(states, name);
                if (f.enabled && !(json_is_string(fs) && STREQ(json_string_value(fs), f.enabled)))
                        continue;
                item = list_item(&layout, name, type, desc, load, active, sub, jtype, fs, cgroups);
                if (!item || json_array_append_new(items, item) < 0)
                        return oom(err);
        }
        if (r < 0)
                return units_bus_error(r, NULL, "reading the unit list", err);
        sort_by_name(items);
        *ret = json_pack("{s:O}", "services", items);
        return *ret ? 0 : oom(err);
}

/* ---- show --------------------------------------------------------------------------- */

static const char *type_interface(const char *type) {
        static const struct {
                const char *type, *iface;
        } t[] = {
                {"service", "org.freedesktop.systemd1.Service"},
                {"socket", "org.freedesktop.systemd1.Socket"},
                {"timer", "org.freedesktop.systemd1.Timer"},
                {"mount", "org.freedesktop.systemd1.Mount"},
                {"path", "org.freedesktop.systemd1.Path"},
                {"automount", "org.freedesktop.systemd1.Automount"},
                {"swap", "org.freedesktop.systemd1.Swap"},
                {"slice", "org.freedesktop.systemd1.Slice"},
                {"scope", "org.freedesktop.systemd1.Scope"},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (STREQ(t[i].type, type))
                        return t[i].iface;
        return NULL;
}

/* A realtime in µs (0: never) as "2026-12-04T05:00:00Z", or null. */
static json_t *usec_time(json_t *v) {
        time_t s;
        struct tm tm;
        char buf[32];

        if (!json_is_integer(v) || json_integer_value(v) <= 0)
                return json_null();
        s = (time_t)(json_integer_value(v) / 1000000);
        if (!gmtime_r(&s, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return json_null();
        return json_string(buf);
}

/* A timer's next run: its calendar time, or its monotonic one (OnBootSec=,
 * OnUnitActiveSec=…) moved onto the realtime clock. */
static json_t *next_elapse(json_t *t) {
        json_t *rt = json_object_get(t, "NextElapseUSecRealtime");
        json_t *mono = json_object_get(t, "NextElapseUSecMonotonic");
        struct timespec now_rt, now_mono;
        json_t *v, *out;

        if (json_is_integer(rt) && json_integer_value(rt) > 0)
                return usec_time(rt);
        if (!json_is_integer(mono) || json_integer_value(mono) <= 0 ||
            clock_gettime(CLOCK_REALTIME, &now_rt) < 0 ||
            clock_gettime(CLOCK_MONOTONIC, &now_mono) < 0)
                return json_null();
        v = json_integer((json_int_t)now_rt.tv_sec * 1000000 + now_rt.tv_nsec / 1000 +
                         json_integer_value(mono) -
                         ((json_int_t)now_mono.tv_sec * 1000000 + now_mono.tv_nsec / 1000));
        out = usec_time(v);
        json_decref(v);
        return out;
}

static json_t *get_or_null(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        return v ? json_incref(v) : json_null();
}

/* ExecStart's a(sasbttttuii) as [{"path", "argv"}]. */
static json_t *exec_list(json_t *v) {
        json_t *out = json_array(), *e;
        size_t i;

        json_array_foreach(v, i, e) {
                json_array_append_new(out, json_pack("{s:O?, s:O?}", "path", json_array_get(e, 0),
                                                     "argv", json_array_get(e, 1)));
        }
        return out;
}

static void add_service_facts(json_t *o, json_t *t) {
        json_t *mem = json_object_get(t, "MemoryCurrent"),
               *cpu = json_object_get(t, "CPUUsageNSec");
        json_t *quota = json_object_get(t, "CPUQuotaPerSecUSec");
        json_t *rsec = json_object_get(t, "RestartUSec");

        json_object_set_new(o, "main_pid", get_or_null(t, "MainPID"));
        json_object_set_new(o, "memory_bytes",
                            json_is_integer(mem) ? json_incref(mem) : json_null());
        json_object_set_new(o, "cpu_seconds",
                            json_is_integer(cpu) ? json_real((double)json_integer_value(cpu) / 1e9)
                                                 : json_null());
        json_object_set_new(o, "tasks", get_or_null(t, "TasksCurrent"));
        json_object_set_new(o, "restarts", get_or_null(t, "NRestarts"));
        json_object_set_new(o, "result", get_or_null(t, "Result"));
        json_object_set_new(o, "exec_main_status", get_or_null(t, "ExecMainStatus"));
        json_object_set_new(o, "exec_main_code", get_or_null(t, "ExecMainCode"));
        json_object_set_new(o, "exec_start", exec_list(json_object_get(t, "ExecStart")));
        json_object_set_new(o, "control_group", get_or_null(t, "ControlGroup"));
        /* The settings a drop-in may change, as systemd has them now. */
        json_object_set_new(
                o, "settings",
                json_pack("{s:O?, s:o, s:O?, s:o, s:O?, s:O?, s:O?}", "restart",
                          json_object_get(t, "Restart"), "restart_sec",
                          json_is_integer(rsec) ? json_real((double)json_integer_value(rsec) / 1e6)
                                                : json_null(),
                          "memory_max", json_object_get(t, "MemoryMax"), "cpu_quota",
                          json_is_integer(quota) ? json_integer(json_integer_value(quota) / 10000)
                                                 : json_null(),
                          "tasks_max", json_object_get(t, "TasksMax"), "nice",
                          json_object_get(t, "Nice"), "environment",
                          json_object_get(t, "Environment")));
}

static void add_type_facts(json_t *o, const char *type, json_t *t) {
        if (STREQ(type, "service")) {
                add_service_facts(o, t);
                return;
        }
        json_object_set_new(o, "result", get_or_null(t, "Result"));
        if (STREQ(type, "timer")) {
                json_object_set_new(o, "last_trigger",
                                    usec_time(json_object_get(t, "LastTriggerUSec")));
                json_object_set_new(o, "next_elapse", next_elapse(t));
                json_object_set_new(o, "triggers", get_or_null(t, "Unit"));
        } else if (STREQ(type, "socket")) {
                json_object_set_new(o, "listen", get_or_null(t, "Listen"));
                json_object_set_new(o, "accepted", get_or_null(t, "NAccepted"));
                json_object_set_new(o, "connections", get_or_null(t, "NConnections"));
        } else if (STREQ(type, "mount")) {
                json_object_set_new(o, "what", get_or_null(t, "What"));
                json_object_set_new(o, "where", get_or_null(t, "Where"));
        }
}

static json_t *show_item(const char *name, const char *type, json_t *u, json_t *t) {
        json_t *o = json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "name", name,
                              "type", type, "description", json_object_get(u, "Description"),
                              "load_state", json_object_get(u, "LoadState"), "active_state",
                              json_object_get(u, "ActiveState"), "sub_state",
                              json_object_get(u, "SubState"), "unit_file_state",
                              json_object_get(u, "UnitFileState"), "fragment_path",
                              json_object_get(u, "FragmentPath"), "drop_in_paths",
                              json_object_get(u, "DropInPaths"));
        json_t *names = json_object_get(u, "Names");
        static const char *const deps[][2] = {
                {"requires", "Requires"},
                {"wants", "Wants"},
                {"after", "After"},
                {"required_by", "RequiredBy"},
                {"wanted_by", "WantedBy"},
                {"before", "Before"},
                {"triggered_by", "TriggeredBy"},
                {"triggers", "Triggers"},
                {"conflicts", "Conflicts"},
        };

        if (!o)
                return NULL;
        /* Every name of the unit, its aliases too (what an action's rules
         * check: an alias reaches the same unit). */
        json_object_set_new(o, "names",
                            json_is_array(names) ? json_incref(names) : json_pack("[s]", name));
        json_object_set_new(o, "main_pid", json_null());
        json_object_set_new(o, "memory_bytes", json_null());
        json_object_set_new(o, "cpu_seconds", json_null());
        json_object_set_new(o, "since", usec_time(json_object_get(u, "StateChangeTimestamp")));
        json_object_set_new(o, "active_enter",
                            usec_time(json_object_get(u, "ActiveEnterTimestamp")));
        json_object_set_new(o, "can_reload", get_or_null(u, "CanReload"));
        json_object_set_new(o, "dependencies", json_object());
        for (size_t i = 0; i < ELEMENTSOF(deps); i++)
                json_object_set_new(json_object_get(o, "dependencies"), deps[i][0],
                                    json_object_get(u, deps[i][1])
                                            ? json_incref(json_object_get(u, deps[i][1]))
                                            : json_array());
        if (t)
                add_type_facts(o, type, t);
        return o;
}

int units_show_on(sd_bus *bus, const char *name, json_t **ret, struct module_error *err) {
        const char *type = unit_name_type(name), *iface;
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ json_t *u = NULL, *t = NULL, *item = NULL;
        int r;

        if (!type) {
                module_error_set(err, 400, "invalid_argument", "name", "%s",
                                 unit_name_problem(name));
                return -EINVAL;
        }
        r = units_path(bus, name, &path, err);
        if (r >= 0)
                r = get_all(bus, path, SD_UNIT, &u, err);
        if (r < 0)
                return r;
        if (STREQ(json_string_value(json_object_get(u, "LoadState")) ?: "", "not-found")) {
                module_error_set(err, 404, "not_found", NULL, "no unit \"%s\"", name);
                return -ENOENT;
        }
        iface = type_interface(type);
        if (iface && get_all(bus, path, iface, &t, err) < 0)
                t = NULL; /* the unit's own facts still answer */
        item = show_item(name, type, u, t);
        if (!item)
                return oom(err);
        if (STREQ(type, "service"))
                json_object_set_new(item, "steward_settings", dropin_read_json(name));
        /* Where the unit's journal is, and its live stream: the console's
         * log pane follows these links and names no other module.  Of a
         * unit name's characters only the backslash of an \xHH escape needs
         * escaping in a query. */
        char q[UNIT_NAME_MAX * 3 + 1], *w = q;
        for (const char *c = name; *c && w < q + sizeof q - 4; c++) {
                if (*c == '\\') {
                        memcpy(w, "%5C", 3);
                        w += 3;
                } else
                        *w++ = *c;
        }
        *w = '\0';
        json_object_set_new(item, "logs", json_sprintf("/api/v1/logs?unit=%s", q));
        json_object_set_new(item, "log_events",
                            json_pack("{s:s, s:o}", "type", "logs", "url",
                                      json_sprintf("/api/v1/events?types=logs&unit=%s", q)));
        *ret = TAKE_PTR(item);
        return 0;
}

int units_show(const char *name, json_t **ret, struct module_error *err) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int r;

        /* Without systemd, every unit is unavailable, a bad name too. */
        r = units_bus_open(&bus, err);
        if (r < 0)
                return r;
        if (!unit_name_valid(name)) {
                module_error_set(err, 400, "invalid_argument", "name", "%s",
                                 unit_name_problem(name));
                return -EINVAL;
        }
        return units_show_on(bus, name, ret, err);
}

/* ---- what roles below admin see -------------------------------------------------- */

/* ["KEY=VALUE"…] → ["KEY"…] in place. */
static void env_names_only(json_t *env) {
        size_t i;
        json_t *e;

        json_array_foreach(env, i, e) {
                const char *s = json_string_value(e);
                const char *eq = s ? strchr(s, '=') : NULL;
                if (eq)
                        json_array_set_new(env, i, json_stringn(s, (size_t)(eq - s)));
                else if (!s)
                        json_array_set_new(env, i, json_string(""));
        }
}

void units_redact(json_t *item) {
        json_t *x;
        size_t i;

        env_names_only(json_object_get(json_object_get(item, "settings"), "environment"));
        env_names_only(json_object_get(json_object_get(item, "steward_settings"), "environment"));
        json_array_foreach(json_object_get(item, "exec_start"), i, x) {
                json_t *argv = json_object_get(x, "argv");
                while (json_array_size(argv) > 1)
                        json_array_remove(argv, json_array_size(argv) - 1);
        }
        json_object_set_new(item, "redacted", json_true());
}
