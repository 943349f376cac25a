/* settingsfile.c — settings kept in a kv file, for every module that has
 * one: read, parse and check every row, fill the module's config struct,
 * keep it live, plan a change as a diff of the file, write it atomically,
 * make it live in both processes.  Modules only declare (module.h's
 * setting_def_t rows and settings_file_t); nothing here names a module.
 *
 * The file is in the settings grammar of kv.h without the module prefix:
 *
 *     log_level = "info"
 *     limits:max_connections = 256
 *
 * A change rewrites only the lines of the keys it changes (comments and the
 * order of the file are kept; new keys are appended), checks that the new
 * text parses as a whole, writes it atomically and then makes it live.  The
 * plan — a unified diff of the file — is computed the same way for dry runs.
 *
 * Invariants:
 *  - A row's field is written only through field_set() with a value that
 *    passed the row's checks, and read only through field_json(); the
 *    start-up check (settings_file_check) guarantees that each field has the
 *    size its type needs and that no two overlap, so those are the only
 *    places that cast.
 *  - file_lock serialises every read-modify-write of every file (and the
 *    hooks, which run under it); live_lock guards the live structs and the
 *    states and is held only for a copy.  Order: file_lock, then live_lock.
 *  - A file that does not parse is never made live.
 */
#include "settingsfile.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diff.h"
#include "jsonutil.h"
#include "kv.h"
#include "registry.h"
#include "util.h"

#define SETTINGS_FILE_MAX_BYTES (1u << 20)
#define STEWARD_FRONT_GROUP     "_steward" /* the --user default's group */

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static char *config_path;

int settings_config_path_set(const char *path) {
        char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        pthread_mutex_lock(&live_lock);
        free(config_path);
        config_path = p;
        pthread_mutex_unlock(&live_lock);
        return 0;
}

const char *settings_config_path(void) {
        /* Set before any thread or child exists, never changed after
         * (except by unit tests, between cases). */
        return config_path;
}

/* ---- rows and fields ------------------------------------------------------- */

/* The size a row's field must have, or 0 when any size in a range will do
 * (STRING: a char array; INTEGER: unsigned or int64_t, checked apart). */
static size_t type_size(setting_type_t t) {
        switch (t) {
        case SETTING_BOOLEAN:
                return sizeof(bool);
        case SETTING_ENUM:
                return sizeof(int);
        case SETTING_STRING_ARRAY: /* a list or a wide list, checked apart */
        case SETTING_INTEGER:
        case SETTING_STRING:
                return 0;
        }
        return 0;
}

/* A row's default as JSON (a new reference). */
static json_t *default_json(const setting_def_t *d) {
        json_t *a;

        switch (d->type) {
        case SETTING_INTEGER:
                return json_integer(d->def_int);
        case SETTING_BOOLEAN:
                return json_boolean(d->def_int != 0);
        case SETTING_ENUM:
        case SETTING_STRING:
                return json_string(d->def_string ? d->def_string : "");
        case SETTING_STRING_ARRAY:
                a = json_array();
                for (const char *const *s = d->def_list; a && s && *s; s++)
                        json_array_append_new(a, json_string(*s));
                return a;
        }
        return NULL;
}

/* Stores a value that passed the row's checks into its field. */
static void field_set(const setting_def_t *d, void *config, json_t *v) {
        char *p = (char *)config + d->offset;

        switch (d->type) {
        case SETTING_INTEGER:
                if (d->size == sizeof(int64_t)) {
                        int64_t x = json_integer_value(v);
                        memcpy(p, &x, sizeof x);
                } else {
                        unsigned x = (unsigned)json_integer_value(v);
                        memcpy(p, &x, sizeof x);
                }
                return;
        case SETTING_BOOLEAN: {
                bool b = json_is_true(v);
                memcpy(p, &b, sizeof b);
                return;
        }
        case SETTING_ENUM: {
                int idx = 0;
                for (int i = 0; d->choices && d->choices[i]; i++)
                        if (STREQ(d->choices[i], json_string_value(v)))
                                idx = i;
                memcpy(p, &idx, sizeof idx);
                return;
        }
        case SETTING_STRING:
                snprintf(p, d->size, "%s", json_string_value(v));
                return;
        case SETTING_STRING_ARRAY: {
                struct setting_list l = {0};
                size_t k;
                json_t *item;
                if (d->size == sizeof(struct setting_wide_list)) {
                        struct setting_wide_list w = {0};
                        json_array_foreach(v, k, item) {
                                if (w.n == SETTING_WIDE_LIST_MAX)
                                        break;
                                snprintf(w.name[w.n++], sizeof w.name[0], "%s",
                                         json_string_value(item));
                        }
                        memcpy(p, &w, sizeof w);
                        return;
                }
                json_array_foreach(v, k, item) {
                        if (l.n == SETTING_LIST_MAX)
                                break;
                        snprintf(l.name[l.n++], sizeof l.name[0], "%s", json_string_value(item));
                }
                memcpy(p, &l, sizeof l);
                return;
        }
        }
}

/* The field's value as JSON (a new reference). */
static json_t *field_json(const setting_def_t *d, const void *config) {
        const char *p = (const char *)config + d->offset;

        switch (d->type) {
        case SETTING_INTEGER:
                if (d->size == sizeof(int64_t)) {
                        int64_t x;
                        memcpy(&x, p, sizeof x);
                        return json_integer(x);
                } else {
                        unsigned x;
                        memcpy(&x, p, sizeof x);
                        return json_integer(x);
                }
        case SETTING_BOOLEAN: {
                bool b;
                memcpy(&b, p, sizeof b);
                return json_boolean(b);
        }
        case SETTING_ENUM: {
                int idx, n = 0;
                memcpy(&idx, p, sizeof idx);
                while (d->choices[n])
                        n++;
                return json_string(idx >= 0 && idx < n ? d->choices[idx] : "");
        }
        case SETTING_STRING:
                return json_stringn(p, strnlen(p, d->size));
        case SETTING_STRING_ARRAY: {
                struct setting_list l;
                json_t *a = json_array();
                if (d->size == sizeof(struct setting_wide_list)) {
                        const struct setting_wide_list *w = (const void *)p;
                        for (size_t k = 0; a && k < w->n && k < SETTING_WIDE_LIST_MAX; k++)
                                json_array_append_new(a, json_stringn(w->name[k],
                                                                      strnlen(w->name[k],
                                                                              sizeof w->name[k])));
                        return a;
                }
                memcpy(&l, p, sizeof l);
                for (size_t k = 0; a && k < l.n && k < SETTING_LIST_MAX; k++)
                        json_array_append_new(a, json_string(l.name[k]));
                return a;
        }
        }
        return NULL;
}

/* One row against its field and its own checks. */
static int row_check(const settings_file_t *f, const setting_def_t *d, char *err, size_t err_len) {
        struct module_error me = {0};
        struct value_rule rule = setting_rule(d);
        size_t want = type_size(d->type), n_choices = 0;
        json_t *def;
        int r;

        if (d->size == 0 || d->offset > f->size || d->size > f->size - d->offset) {
                snprintf(err, err_len, "%s:%s: its field is outside the config struct", f->module,
                         d->key);
                return -EINVAL;
        }
        for (const char *const *c = d->choices; d->type == SETTING_ENUM && c && *c; c++)
                n_choices++;
        if ((want && d->size != want) ||
            (d->type == SETTING_INTEGER && d->size != sizeof(unsigned) &&
             d->size != sizeof(int64_t)) ||
            (d->type == SETTING_INTEGER && d->size == sizeof(unsigned) &&
             (d->min < 0 || d->max > UINT_MAX)) ||
            (d->type == SETTING_INTEGER && d->min > d->max) ||
            (d->type == SETTING_STRING && (d->max <= 0 || (size_t)d->max >= d->size)) ||
            (d->type == SETTING_STRING_ARRAY && d->size == sizeof(struct setting_list) &&
             (d->max <= 0 || d->max > SETTING_LIST_MAX)) ||
            (d->type == SETTING_STRING_ARRAY && d->size == sizeof(struct setting_wide_list) &&
             (d->max <= 0 || d->max > SETTING_WIDE_LIST_MAX)) ||
            (d->type == SETTING_STRING_ARRAY && d->size != sizeof(struct setting_list) &&
             d->size != sizeof(struct setting_wide_list)) ||
            (d->type == SETTING_ENUM && (n_choices == 0 || n_choices > INT_MAX))) {
                snprintf(err, err_len,
                         "%s:%s: a %s setting cannot live in a field of %zu bytes with these "
                         "bounds",
                         f->module, d->key, setting_type_name(d->type), d->size);
                return -EINVAL;
        }
        def = default_json(d);
        if (!def)
                return -ENOMEM;
        r = value_check(&rule, d->key, def, "invalid_setting", &me);
        json_decref(def);
        if (r < 0) {
                snprintf(err, err_len, "%s:%s: the default is not valid: %s", f->module, d->key,
                         me.message);
                return -EINVAL;
        }
        return 0;
}

int settings_file_check(const settings_file_t *f, char *err, size_t err_len) {
        if (!f->module || !f->live || !f->state || f->size == 0 || (f->n_rows > 0 && !f->rows)) {
                snprintf(err, err_len, "a settings file is declared without %s",
                         !f->module  ? "its module"
                         : !f->live  ? "its live struct"
                         : !f->state ? "its state"
                                     : "its struct or rows");
                return -EINVAL;
        }
        for (size_t i = 0; i < f->n_rows; i++) {
                const setting_def_t *a = &f->rows[i];
                int r = row_check(f, a, err, err_len);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++) {
                        const setting_def_t *b = &f->rows[j];
                        if (STREQ(a->key, b->key)) {
                                snprintf(err, err_len, "%s:%s: the key is in the table twice",
                                         f->module, a->key);
                                return -EINVAL;
                        }
                        if (a->offset < b->offset + b->size && b->offset < a->offset + a->size) {
                                snprintf(err, err_len, "%s:%s and %s:%s: their fields overlap",
                                         f->module, b->key, f->module, a->key);
                                return -EINVAL;
                        }
                }
        }
        return 0;
}

void settings_file_defaults(const settings_file_t *f, void *ret) {
        memset(ret, 0, f->size);
        for (size_t i = 0; i < f->n_rows; i++) {
                json_t *v = default_json(&f->rows[i]);
                if (v)
                        field_set(&f->rows[i], ret, v);
                json_decref(v);
        }
}

json_t *settings_file_tree(const settings_file_t *f, const void *config) {
        json_t *t = json_object();

        for (size_t i = 0; t && i < f->n_rows; i++)
                if (json_tree_set(t, f->rows[i].key, field_json(&f->rows[i], config)) < 0) {
                        json_decref(t);
                        return NULL;
                }
        return t;
}

/* ---- parsing and reading ------------------------------------------------- */

int settings_file_parse(const settings_file_t *f, const char *text, size_t len, const char *path,
                        void *ret, char *err, size_t err_len) {
        _cleanup_free_ void *c = malloc(f->size);
        struct kv_error kerr = {0};
        struct module_error merr = {0};
        json_t *tree = NULL, *flat = NULL, *v;
        const char *k;
        int r;

        if (!c)
                return -ENOMEM;
        if (memchr(text, '\0', len)) {
                /* Not text: a rewrite would cut it at the NUL. */
                snprintf(err, err_len, "%s: holds a NUL byte", path);
                return -EINVAL;
        }
        settings_file_defaults(f, c);
        r = kv_parse(text, len, &tree, &kerr);
        if (r < 0) {
                if (kerr.line)
                        snprintf(err, err_len, "%s:%u: %s", path, kerr.line, kerr.message);
                else
                        snprintf(err, err_len, "%s: %s", path, kerr.message);
                return -EINVAL;
        }
        r = settings_rows_flatten(f->module, f->rows, f->n_rows, tree, &flat, &merr);
        json_decref(tree);
        if (r < 0) {
                snprintf(err, err_len, "%s: %s", path, merr.message);
                return -EINVAL;
        }
        json_object_foreach(flat, k, v) {
                const setting_def_t *d = settings_rows_find(f->rows, f->n_rows, k);
                struct value_rule rule = setting_rule(d);
                r = value_check(&rule, k, v, "invalid_setting", &merr);
                if (r < 0) {
                        snprintf(err, err_len, "%s: %s", path, merr.message);
                        json_decref(flat);
                        return -EINVAL;
                }
                field_set(d, c, v);
        }
        json_decref(flat);
        if (f->check) {
                char why[256] = "";
                r = f->check(c, why, sizeof why);
                if (r < 0) {
                        snprintf(err, err_len, "%s: %s", path, why);
                        return -EINVAL;
                }
        }
        memcpy(ret, c, f->size);
        return 0;
}

char *settings_file_path(const settings_file_t *f) {
        const char *cfg = settings_config_path(), *slash;
        char *p = NULL;

        if (!cfg)
                return NULL;
        if (!f->file)
                return strdup(cfg);
        slash = strrchr(cfg, '/');
        if (!slash)
                return strdup(f->file);
        if (asprintf(&p, "%.*s/%s", (int)(slash - cfg), cfg, f->file) < 0)
                return NULL;
        return p;
}

/* Reads the file; a missing one is empty (ret_existed false). */
static int text_read(const char *path, char **ret, size_t *ret_len, bool *ret_existed) {
        int r = read_file(path, SETTINGS_FILE_MAX_BYTES, ret, ret_len);

        *ret_existed = r >= 0;
        if (r == -ENOENT) {
                *ret = strdup("");
                *ret_len = 0;
                return *ret ? 0 : -ENOMEM;
        }
        return r;
}

/* Under file_lock. */
static int check_file_locked(const settings_file_t *f, void *ret, char *err, size_t err_len) {
        _cleanup_free_ char *path = settings_file_path(f), *text = NULL;
        _cleanup_free_ void *c = malloc(f->size);
        size_t len;
        bool existed;
        int r;

        if (!path || !c) {
                snprintf(err, err_len, "%s", path ? "out of memory" : "no configuration file");
                return path ? -ENOMEM : -ENOENT;
        }
        r = text_read(path, &text, &len, &existed);
        if (r < 0) {
                snprintf(err, err_len, "%s: %s", path, strerror(-r));
                return r;
        }
        r = settings_file_parse(f, text, len, path, c, err, err_len);
        if (r >= 0 && ret)
                memcpy(ret, c, f->size);
        return r;
}

int settings_file_check_file(const settings_file_t *f, void *ret, char *err, size_t err_len) {
        int r;

        pthread_mutex_lock(&file_lock);
        r = check_file_locked(f, ret, err, err_len);
        pthread_mutex_unlock(&file_lock);
        return r;
}

/* Under file_lock: c goes live in this process. */
static void go_live(const settings_file_t *f, void *c, json_t *changes, bool helper) {
        if (f->adjust)
                f->adjust(c, changes);
        pthread_mutex_lock(&live_lock);
        memcpy(f->live, c, f->size);
        f->state->loaded = true;
        pthread_mutex_unlock(&live_lock);
        if (f->made_live)
                f->made_live(c, helper);
}

int settings_file_load(const settings_file_t *f, bool helper, char *err, size_t err_len) {
        _cleanup_free_ void *c = malloc(f->size);
        int r;

        if (!c)
                return -ENOMEM;
        pthread_mutex_lock(&file_lock);
        r = check_file_locked(f, c, err, err_len);
        if (r >= 0)
                go_live(f, c, /* changes= */ NULL, helper);
        pthread_mutex_unlock(&file_lock);
        return r;
}

void settings_file_get(const settings_file_t *f, void *ret, size_t size) {
        bool loaded;

        if (size != f->size)
                abort(); /* a caller with another struct: a programming error */
        pthread_mutex_lock(&live_lock);
        loaded = f->state->loaded;
        if (loaded)
                memcpy(ret, f->live, size);
        pthread_mutex_unlock(&live_lock);
        if (loaded)
                return;
        /* Not read in this process yet (the helper reads a module's file
         * when it is first asked): the file if it parses, else the
         * defaults.  No hooks: nothing was live before. */
        char err[512];
        pthread_mutex_lock(&file_lock);
        if (check_file_locked(f, ret, err, sizeof err) >= 0) {
                pthread_mutex_lock(&live_lock);
                if (!f->state->loaded) {
                        memcpy(f->live, ret, size);
                        f->state->loaded = true;
                } else
                        memcpy(ret, f->live, size);
                pthread_mutex_unlock(&live_lock);
        } else
                settings_file_defaults(f, ret);
        pthread_mutex_unlock(&file_lock);
}

int settings_file_read(const settings_file_t *f, json_t **ret, struct module_error *err) {
        _cleanup_free_ void *c = malloc(f->size);

        if (!c) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        settings_file_get(f, c, f->size);
        *ret = settings_file_tree(f, c);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

const char *const *settings_file_files(const settings_file_t *f, const char *const *extra) {
        char *path = settings_file_path(f);
        size_t n = 1;

        pthread_mutex_lock(&live_lock);
        if (path && (!f->state->path || !STREQ(f->state->path, path))) {
                /* Only when the --config path changed: unit tests. */
                free(f->state->path);
                f->state->path = path;
                path = NULL;
        }
        f->state->owned[0] = f->state->path;
        for (; extra && *extra && n + 1 < ELEMENTSOF(f->state->owned); extra++)
                f->state->owned[n++] = *extra;
        f->state->owned[n] = NULL;
        pthread_mutex_unlock(&live_lock);
        free(path);
        return f->state->owned;
}

int settings_file_make_live(const settings_file_t *f, bool helper, struct module_error *err) {
        _cleanup_free_ char *path = settings_file_path(f);
        char msg[400];
        int r = settings_file_load(f, helper, msg, sizeof msg);

        if (r < 0)
                module_error_set(err, 409, "invalid_config", NULL,
                                 "%s is not valid; the running %s settings are kept: %s",
                                 path ? path : "the config file", f->module, msg);
        return r;
}

/* ---- a change ------------------------------------------------------------ */

/* The key a line assigns (without leading blanks), or an empty view. */
static void line_key(const char *line, size_t len, size_t *ret_start, size_t *ret_end) {
        size_t ks = 0, ke;

        while (ks < len && (line[ks] == ' ' || line[ks] == '\t'))
                ks++;
        ke = ks;
        if (ks < len && line[ks] == '#')
                ke = ks;
        else
                while (ke < len && line[ke] != '=' && line[ke] != ' ' && line[ke] != '\t')
                        ke++;
        *ret_start = ks;
        *ret_end = ke;
}

/* The formatted line(s) of one key: "key = value\n" or an array's lines. */
static int key_lines(const char *key, json_t *v, struct buf *out) {
        _cleanup_free_ char *line = NULL;
        json_t *t = json_object();
        int r;

        if (!t)
                return -ENOMEM;
        r = json_tree_set(t, key, json_incref(v));
        if (r >= 0)
                r = kv_format(NULL, t, &line);
        json_decref(t);
        if (r >= 0)
                r = buf_puts(out, line);
        return r;
}

int settings_text_rewrite(const char *old, size_t old_len, json_t *changes, char **ret) {
        json_t *done = json_object();
        struct buf out;
        size_t i = 0;
        const char *k;
        json_t *v;
        int r = done ? 0 : -ENOMEM;

        buf_init(&out, SETTINGS_FILE_MAX_BYTES * 2);
        while (i < old_len && r >= 0) {
                const char *nl = memchr(old + i, '\n', old_len - i);
                size_t e = nl ? (size_t)(nl - old) : old_len, ks, ke;
                const char *matched = NULL;

                line_key(old + i, e - i, &ks, &ke);
                json_object_foreach(changes, k, v) {
                        size_t kl = strlen(k);
                        if (ke - ks >= kl && memcmp(old + i + ks, k, kl) == 0 &&
                            (ke - ks == kl || old[i + ks + kl] == ':')) {
                                matched = k;
                                break;
                        }
                }
                if (!matched) {
                        r = buf_append(&out, old + i, e - i);
                        if (r >= 0)
                                r = buf_puts(&out, "\n");
                } else if (!json_object_get(done, matched)) {
                        /* The first line of a key carries all of its new
                         * lines; its other (array element) lines go. */
                        r = key_lines(matched, json_object_get(changes, matched), &out);
                        if (r >= 0 && json_object_set_new(done, matched, json_true()) < 0)
                                r = -ENOMEM;
                }
                i = e + 1;
        }
        json_object_foreach(changes, k, v) {
                if (r < 0 || json_object_get(done, k))
                        continue;
                r = key_lines(k, v, &out);
        }
        json_decref(done);
        if (r < 0) {
                buf_free(&out);
                return r;
        }
        *ret = buf_steal(&out);
        return *ret ? 0 : -ENOMEM;
}

static int ensure_parent_dir(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The new text of the file: old rewritten, or a new file with its header. */
static int new_text(const settings_file_t *f, const char *old, size_t old_len, json_t *changes,
                    char **ret) {
        _cleanup_free_ char *body = NULL;
        int r = settings_text_rewrite(old, old_len, changes, &body);

        if (r < 0)
                return r;
        if (old_len > 0 || !f->header) {
                *ret = TAKE_PTR(body);
                return 0;
        }
        if (asprintf(ret, "%s%s", f->header, body) < 0)
                return -ENOMEM;
        return 0;
}

/* A row is confidential (module.h): the file is not for every user. */
static bool file_confidential(const settings_file_t *f) {
        for (size_t i = 0; i < f->n_rows; i++)
                if (f->rows[i].confidential)
                        return true;
        return false;
}

/* The group of the front (STEWARD_FRONT_GROUP), which reads the settings
 * files: a confidential file is root:that 0640, so that no other user
 * reads it.  (gid_t)-1 when there is no such group. */
static gid_t front_gid(void) {
        struct group gr, *res = NULL;
        char buf[1024];

        if (getgrnam_r(STEWARD_FRONT_GROUP, &gr, buf, sizeof buf, &res) != 0 || !res)
                return (gid_t)-1;
        return res->gr_gid;
}

/* The plan of module.h (settings_apply) for one file. */
static json_t *plan_json(const settings_file_t *f, json_t *changes, bool dry_run, const char *path,
                         const char *diff, bool existed, const char *old, const char *after) {
        json_t *changed = json_array();
        bool restart = false, secret = false;
        const char *k;
        json_t *v;

        json_object_foreach(changes, k, v) {
                const setting_def_t *d = settings_rows_find(f->rows, f->n_rows, k);
                json_array_append_new(changed, json_string(k));
                restart = restart || (d && d->restart);
                /* The audit record (read by monitors) keeps no
                 * confidential value: "[redacted]" for the file's texts. */
                secret = secret || (d && d->confidential);
        }
        return json_pack("{s:b, s:o, s:b, s:[{s:s, s:s, s:s, s:s, s:s?, s:s, s:b}]}", "dry_run",
                         dry_run, "changed", changed, "restart_required", restart, "files", "path",
                         path, "diff", diff, "type", "file", "before_type",
                         existed ? "file" : "absent", "before", existed ? old : NULL, "after",
                         after, "redacted", secret);
}

/* In the helper: changes (flat, validated against the rows) are planned as
 * a diff of the file and, unless dry_run, written and made live. */
int settings_file_apply(const settings_file_t *f, json_t *changes, bool dry_run, json_t **plan,
                        struct module_error *err) {
        _cleanup_free_ char *path = settings_file_path(f), *old = NULL, *text = NULL, *diff = NULL;
        _cleanup_free_ void *c = malloc(f->size);
        char perr[400];
        size_t old_len;
        bool existed;
        int r;

        if (!path || !c) {
                module_error_set(err, 500, "internal", NULL, "%s",
                                 path ? "out of memory" : "no configuration file");
                return -ENOMEM;
        }
        pthread_mutex_lock(&file_lock);
        r = text_read(path, &old, &old_len, &existed);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot read %s: %s", path,
                                 strerror(-r));
                goto out;
        }
        if (memchr(old, '\0', old_len)) {
                /* Hand-edited and never live; rewriting it would drop what
                 * follows the NUL.  The file has to be fixed first. */
                module_error_set(err, 409, "conflict", NULL,
                                 "%s holds a NUL byte; fix the file by hand first", path);
                r = -EBADMSG;
                goto out;
        }
        r = new_text(f, old, old_len, changes, &text);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot rewrite %s: %s", path,
                                 strerror(-r));
                goto out;
        }
        /* The whole new file must parse before it can go live. */
        r = settings_file_parse(f, text, strlen(text), path, c, perr, sizeof perr);
        if (r < 0) {
                module_error_set(err, 409, "conflict", NULL,
                                 "the config file would not be valid after this change: %s", perr);
                goto out;
        }
        r = diff_unified(path, old, old_len, text, strlen(text), &diff);
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot compute the diff: %s",
                                 strerror(-r));
                goto out;
        }
        if (!dry_run && *diff) {
                struct stat st;
                /* The front's group, when the file is confidential and
                 * the group exists (else the file is written as any other). */
                gid_t gid = file_confidential(f) ? front_gid() : (gid_t)-1;
                /* A file its owner made private stays so. */
                mode_t mode = existed && stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
                r = ensure_parent_dir(path);
                if (r >= 0)
                        r = write_file_atomic(path, text, strlen(text),
                                              gid != (gid_t)-1 ? mode & 0750 : mode);
                if (r >= 0 && gid != (gid_t)-1 && chown(path, 0, gid) < 0)
                        r = -errno;
                if (r < 0) {
                        module_error_set(err, 500, "internal", NULL, "cannot write %s: %s%s", path,
                                         strerror(-r),
                                         r == -ENOSPC ? " (the file is unchanged)" : "");
                        goto out;
                }
                go_live(f, c, changes, /* helper= */ true);
        }
        *plan = plan_json(f, changes, dry_run, path, diff, existed, old, text);
        r = *plan ? 0 : -ENOMEM;
        if (r < 0)
                module_error_set(err, 500, "internal", NULL, "out of memory");
out:
        pthread_mutex_unlock(&file_lock);
        return r;
}
