/* timesyncd.c — reading and rewriting systemd-timesyncd's configuration (see
 * timesyncd.h).
 *
 * Lines are taken one at a time, as systemd's own parser does: "[Section]",
 * "# comment" or "; comment", "Key=Value" with blanks around either side
 * trimmed.  Continuation lines (a trailing backslash) are not joined: none
 * of the keys we manage needs them, and a line we do not understand is kept
 * as it is by the rewrite and skipped by the reader.
 *
 * `lock` serialises tsync_apply(): it reads the drop-in, decides and writes.
 */
#include "modules/time/timesyncd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const dropin_dirs[] = {
        TSYNC_DROPIN_DIR,
        "/run/systemd/timesyncd.conf.d",
        "/usr/local/lib/systemd/timesyncd.conf.d",
        "/usr/lib/systemd/timesyncd.conf.d",
};

const struct tsync_key tsync_keys[] = {
        {"ntp:servers", "NTP", TSYNC_LIST, offsetof(struct tsync_conf, servers),
         offsetof(struct tsync_conf, n_servers)},
        {"ntp:fallback_servers", "FallbackNTP", TSYNC_LIST, offsetof(struct tsync_conf, fallback),
         offsetof(struct tsync_conf, n_fallback)},
        {"ntp:root_distance_max_sec", "RootDistanceMaxSec", TSYNC_SPAN,
         offsetof(struct tsync_conf, root_distance_max_sec), 0},
        {"ntp:poll_interval_min_sec", "PollIntervalMinSec", TSYNC_SPAN,
         offsetof(struct tsync_conf, poll_interval_min_sec), 0},
        {"ntp:poll_interval_max_sec", "PollIntervalMaxSec", TSYNC_SPAN,
         offsetof(struct tsync_conf, poll_interval_max_sec), 0},
};
const size_t tsync_keys_count = ELEMENTSOF(tsync_keys);

const struct tsync_key *tsync_key_find(const char *setting) {
        for (size_t i = 0; setting && i < tsync_keys_count; i++)
                if (STREQ(tsync_keys[i].setting, setting))
                        return &tsync_keys[i];
        return NULL;
}

static char **list_of(struct tsync_conf *c, const struct tsync_key *k, size_t **ret_n) {
        *ret_n = (size_t *)((char *)c + k->count_offset);
        return (char **)((char *)c + k->offset);
}

static int64_t *span_of(struct tsync_conf *c, const struct tsync_key *k) {
        return (int64_t *)((char *)c + k->offset);
}

/* ---- grammars ---------------------------------------------------------------- */

bool ntp_server_valid(const char *s) {
        unsigned char addr[16];
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, NTP_SERVER_LEN + 1);
        if (n == 0 || n > NTP_SERVER_LEN)
                return false;
        if (strchr(s, ':'))
                return n <= 45 && inet_pton(AF_INET6, s, addr) == 1;
        if (!dns_name_valid(s, NTP_SERVER_LEN))
                return false;
        /* "999.1.2.3" is neither a name nor an address. */
        return strspn(s, "0123456789.") != n || inet_pton(AF_INET, s, addr) == 1;
}

static const struct {
        const char *name;
        int64_t seconds;
} span_units[] = {
        {"", 1},         {"s", 1},       {"sec", 1},       {"second", 1},     {"seconds", 1},
        {"m", 60},       {"min", 60},    {"minute", 60},   {"minutes", 60},   {"h", 3600},
        {"hr", 3600},    {"hour", 3600}, {"hours", 3600},  {"d", 86400},      {"day", 86400},
        {"days", 86400}, {"w", 604800},  {"week", 604800}, {"weeks", 604800},
};

int tsync_span_parse(const char *s, int64_t *ret) {
        int64_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        for (;;) {
                int64_t n = 0, mult = -1;
                size_t ulen = 0, digits = 0;

                while (*s == ' ' || *s == '\t')
                        s++;
                if (!*s)
                        break;
                for (; *s >= '0' && *s <= '9'; s++, digits++)
                        if (digits >= 9 || (n = n * 10 + (*s - '0')) > TSYNC_SPAN_MAX)
                                return -EINVAL;
                if (digits == 0)
                        return -EINVAL;
                while (*s == ' ' || *s == '\t')
                        s++;
                while ((s[ulen] >= 'a' && s[ulen] <= 'z') && ulen < 8)
                        ulen++;
                for (size_t i = 0; i < ELEMENTSOF(span_units); i++)
                        if (strlen(span_units[i].name) == ulen &&
                            memcmp(span_units[i].name, s, ulen) == 0)
                                mult = span_units[i].seconds;
                if (mult < 0)
                        return -EINVAL;
                s += ulen;
                total += n * mult;
                if (total > TSYNC_SPAN_MAX)
                        return -EINVAL;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

/* ---- reading ----------------------------------------------------------------- */

void tsync_conf_init(struct tsync_conf *c) {
        *c = (struct tsync_conf){
                .root_distance_max_sec = 5,
                .poll_interval_min_sec = 32,
                .poll_interval_max_sec = 2048,
        };
        /* The compiled-in fallback list, replaced by any FallbackNTP=. */
        (void)tsync_parse("[Time]\nFallbackNTP=" TSYNC_DEFAULT_FALLBACK "\n",
                          strlen("[Time]\nFallbackNTP=" TSYNC_DEFAULT_FALLBACK "\n"), c);
}

static void list_clear(char **list, size_t *n) {
        for (size_t i = 0; i < *n; i++) {
                free(list[i]);
                list[i] = NULL;
        }
        *n = 0;
}

void tsync_conf_done(struct tsync_conf *c) {
        list_clear(c->servers, &c->n_servers);
        list_clear(c->fallback, &c->n_fallback);
}

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

/* A line as [s, e) without surrounding blanks. */
static void trim(const char **s, const char **e) {
        while (*s < *e && blank(**s))
                (*s)++;
        while (*e > *s && blank((*e)[-1]))
                (*e)--;
}

/* Adds the blank-separated names of [s, e) to a list; "" resets it. */
static int list_assign(struct tsync_conf *c, char **list, size_t *n, const char *s, const char *e) {
        if (s == e) {
                list_clear(list, n);
                return 0;
        }
        while (s < e) {
                const char *w = s;
                char name[NTP_SERVER_LEN + 1];

                while (w < e && !blank(*w))
                        w++;
                if ((size_t)(w - s) > NTP_SERVER_LEN || *n == NTP_SERVERS_MAX)
                        c->n_dropped++;
                else {
                        memcpy(name, s, (size_t)(w - s));
                        name[w - s] = '\0';
                        if (!ntp_server_valid(name))
                                c->n_dropped++;
                        else if (!(list[*n] = strdup(name)))
                                return -ENOMEM;
                        else
                                (*n)++;
                }
                for (s = w; s < e && blank(*s); s++)
                        ;
        }
        return 0;
}

static const struct tsync_key *ini_key_find(const char *s, size_t len) {
        for (size_t i = 0; i < tsync_keys_count; i++)
                if (strlen(tsync_keys[i].ini) == len && memcmp(tsync_keys[i].ini, s, len) == 0)
                        return &tsync_keys[i];
        return NULL;
}

/* The key of an assignment line [s, e) in the [Time] section, or NULL. */
static const struct tsync_key *line_key(const char *s, const char *e, const char **ret_value) {
        const char *eq, *ke;

        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';' || *s == '[')
                return NULL;
        eq = memchr(s, '=', (size_t)(e - s));
        if (!eq)
                return NULL;
        ke = eq;
        while (ke > s && blank(ke[-1]))
                ke--;
        *ret_value = eq + 1;
        return ini_key_find(s, (size_t)(ke - s));
}

/* Whether [s, e) is a section header, and whether it is [Time]. */
static bool line_section(const char *s, const char *e, bool *ret_time) {
        trim(&s, &e);
        if (s == e || *s != '[')
                return false;
        *ret_time = e - s == 6 && memcmp(s, "[Time]", 6) == 0;
        return true;
}

int tsync_parse(const char *text, size_t len, struct tsync_conf *c) {
        const char *p = text, *end = text + len;
        bool in_time = false;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end, *v;
                const struct tsync_key *k;
                bool t;

                if (line_section(p, e, &t))
                        in_time = t;
                else if (in_time && (k = line_key(p, e, &v))) {
                        const char *ve = e;

                        trim(&v, &ve);
                        if (k->kind == TSYNC_LIST) {
                                size_t *n;
                                char **list = list_of(c, k, &n);
                                if (list_assign(c, list, n, v, ve) < 0)
                                        return -ENOMEM;
                        } else {
                                char buf[64];
                                int64_t sec;

                                if ((size_t)(ve - v) < sizeof buf) {
                                        memcpy(buf, v, (size_t)(ve - v));
                                        buf[ve - v] = '\0';
                                        if (tsync_span_parse(buf, &sec) == 0)
                                                *span_of(c, k) = sec;
                                }
                        }
                }
                p = e + 1;
        }
        return 0;
}

/* Marks in set[] (indexed like tsync_keys) each key the text assigns in
 * [Time]. */
static void keys_set(const char *text, size_t len, bool *set) {
        const char *p = text, *end = text + len;
        bool in_time = false;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end, *v;
                const struct tsync_key *k;
                bool t;

                if (line_section(p, e, &t))
                        in_time = t;
                else if (in_time && (k = line_key(p, e, &v)))
                        set[k - tsync_keys] = true;
                p = e + 1;
        }
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(strrchr(*(char *const *)a, '/') + 1, strrchr(*(char *const *)b, '/') + 1);
}

/* The drop-ins in the order timesyncd reads them: by name, a name in an
 * earlier directory of dropin_dirs hiding the same name in a later one. */
static int dropins_list(char **paths, size_t *ret_n) {
        size_t n = 0;

        for (size_t d = 0; d < ELEMENTSOF(dropin_dirs); d++) {
                DIR *dir = opendir(dropin_dirs[d]);
                struct dirent *de;

                if (!dir)
                        continue;
                while ((de = readdir(dir)) && n < TSYNC_DROPINS_MAX) {
                        size_t l = strlen(de->d_name);
                        bool hidden = false;

                        if (l < 6 || de->d_name[0] == '.' || !STREQ(de->d_name + l - 5, ".conf"))
                                continue;
                        for (size_t i = 0; i < n; i++)
                                hidden |= STREQ(strrchr(paths[i], '/') + 1, de->d_name);
                        if (hidden)
                                continue;
                        if (asprintf(&paths[n], "%s/%s", dropin_dirs[d], de->d_name) < 0) {
                                closedir(dir);
                                return -ENOMEM;
                        }
                        n++;
                }
                closedir(dir);
        }
        qsort(paths, n, sizeof *paths, cmp_names);
        *ret_n = n;
        return 0;
}

static int read_one(const char *path, struct tsync_conf *c, json_t *files) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file(path, TSYNC_FILE_MAX, &text, &len);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (files && json_array_append_new(files, json_string(path)) < 0)
                return -ENOMEM;
        return tsync_parse(text, len, c);
}

int tsync_read(struct tsync_conf *ret, json_t **ret_files, struct module_error *err) {
        _cleanup_json_ json_t *files = json_array();
        char *paths[TSYNC_DROPINS_MAX] = {0};
        const char *failed = TSYNC_MAIN;
        struct tsync_conf c;
        size_t n = 0;
        int r;

        tsync_conf_init(&c);
        r = files ? read_one(TSYNC_MAIN, &c, files) : -ENOMEM;
        if (r >= 0)
                r = dropins_list(paths, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                failed = paths[i];
                r = read_one(paths[i], &c, files);
        }
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", NULL, "Failed to read %s: %m", failed);
                tsync_conf_done(&c);
        } else {
                *ret = c;
                if (ret_files)
                        *ret_files = TAKE_PTR(files);
        }
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        return r;
}

/* ---- rewriting --------------------------------------------------------------- */

static int put_edit(struct buf *b, const struct tsync_edit *ed) {
        int r = 0;

        if (ed->key->kind == TSYNC_LIST)
                r = buf_printf(b, "%s=\n", ed->key->ini); /* reset what came before */
        if (r >= 0 && (ed->key->kind != TSYNC_LIST || ed->value[0]))
                r = buf_printf(b, "%s=%s\n", ed->key->ini, ed->value);
        return r;
}

/* Writes every edit not yet written. */
static int flush_edits(struct buf *b, const struct tsync_edit *edits, size_t n, bool *done) {
        for (size_t i = 0; i < n; i++) {
                if (done[i])
                        continue;
                done[i] = true;
                int r = put_edit(b, &edits[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char header[] = "# Managed by Steward: the NTP settings of its time module (ntp:*).\n"
                             "# Steward rewrites the keys it manages here; other lines are kept.\n";

int tsync_rewrite(const char *old, const struct tsync_edit *edits, size_t n, char **ret) {
        bool done[16] = {false}, in_time = false, seen_time = false, first_time = false;
        const char *p = old, *end;
        struct buf b;
        int r = 0;

        if (n > ELEMENTSOF(done))
                return -E2BIG;
        buf_init(&b, TSYNC_FILE_MAX);
        if (!old || !*old) {
                r = buf_puts(&b, header);
                if (r >= 0)
                        r = buf_puts(&b, "\n[Time]\n");
                if (r >= 0)
                        r = flush_edits(&b, edits, n, done);
                goto out;
        }
        end = old + strlen(old);
        while (r >= 0 && p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end, *v;
                const struct tsync_key *k;
                bool t;

                if (line_section(p, e, &t)) {
                        if (first_time) /* leaving the first [Time]: missing keys go here */
                                r = flush_edits(&b, edits, n, done);
                        first_time = t && !seen_time;
                        seen_time |= t;
                        in_time = t;
                } else if (in_time && (k = line_key(p, e, &v))) {
                        size_t i;

                        for (i = 0; i < n && edits[i].key != k; i++)
                                ;
                        if (i < n) { /* replaced at its first place, dropped elsewhere */
                                if (!done[i]) {
                                        done[i] = true;
                                        r = put_edit(&b, &edits[i]);
                                }
                                p = e + 1;
                                continue;
                        }
                }
                if (r >= 0)
                        r = buf_append(&b, p, (size_t)(e - p));
                if (r >= 0)
                        r = buf_puts(&b, "\n");
                p = e + 1;
        }
        if (r >= 0 && !seen_time)
                r = buf_puts(&b, "\n[Time]\n");
        if (r >= 0)
                r = flush_edits(&b, edits, n, done);
out:
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        *ret = buf_steal(&b);
        if (!*ret)
                *ret = strdup("");
        return *ret ? 0 : -ENOMEM;
}

/* ---- planning and writing the drop-in ---------------------------------------- */

/* The drop-in as it is: its text (NULL when absent) and mode. */
static int dropin_read(char **ret, mode_t *ret_mode, struct module_error *err) {
        struct stat st;
        size_t len;
        int r;

        *ret = NULL;
        *ret_mode = 0644;
        if (lstat(TSYNC_DROPIN, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                r = -errno;
                module_error_set(err, 500, "internal", NULL,
                                 "Failed to inspect " TSYNC_DROPIN ": %m");
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                module_error_set(err, 409, "conflict", NULL,
                                 TSYNC_DROPIN " is not a regular file; it is left alone");
                return -EBUSY;
        }
        r = read_file(TSYNC_DROPIN, TSYNC_FILE_MAX, ret, &len);
        if (r == -EFBIG) {
                module_error_set(err, 409, "conflict", NULL,
                                 TSYNC_DROPIN " is unexpectedly large; it is left alone");
                return -EBUSY;
        }
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", NULL, "Failed to read " TSYNC_DROPIN ": %m");
                return r;
        }
        if (!utf8_valid(*ret, len) || strlen(*ret) != len) {
                free(*ret);
                *ret = NULL;
                module_error_set(err, 409, "conflict", NULL,
                                 TSYNC_DROPIN " is not UTF-8 text; it is left alone");
                return -EBUSY;
        }
        *ret_mode = st.st_mode & 07777;
        return 0;
}

/* The text after '=' for a change, into value (a list joined by blanks). */
static int edit_value(const struct tsync_key *k, json_t *v, char *value, size_t size,
                      struct module_error *err) {
        size_t used = 0, i;
        json_t *item;

        if (k->kind == TSYNC_SPAN) {
                if (!json_is_integer(v))
                        goto bad;
                (void)snprintf(value, size, "%lld", (long long)json_integer_value(v));
                return 0;
        }
        if (!json_is_array(v) || json_array_size(v) > NTP_SERVERS_MAX)
                goto bad;
        value[0] = '\0';
        json_array_foreach(v, i, item) {
                const char *s = json_string_value(item);
                int n;

                if (!ntp_server_valid(s)) {
                        module_error_set(err, 422, "invalid_setting", k->setting,
                                         "%s: item %zu is not a host name or an address",
                                         k->setting, i);
                        return -EINVAL;
                }
                n = snprintf(value + used, size - used, "%s%s", i ? " " : "", s);
                if (n < 0 || (size_t)n >= size - used)
                        goto bad;
                used += (size_t)n;
        }
        return 0;
bad:
        module_error_set(err, 422, "invalid_setting", k->setting, "%s: not a valid value",
                         k->setting);
        return -EINVAL;
}

/* The poll interval bounds as they would be after the change. */
static int check_poll(json_t *changes, struct module_error *err) {
        struct tsync_conf c;
        json_t *mn = json_object_get(changes, "ntp:poll_interval_min_sec");
        json_t *mx = json_object_get(changes, "ntp:poll_interval_max_sec");
        int64_t lo, hi;
        int r;

        if (!mn && !mx)
                return 0;
        r = tsync_read(&c, NULL, err);
        if (r < 0)
                return r;
        lo = mn ? json_integer_value(mn) : c.poll_interval_min_sec;
        hi = mx ? json_integer_value(mx) : c.poll_interval_max_sec;
        tsync_conf_done(&c);
        if (hi <= lo) {
                module_error_set(err, 422, "invalid_setting",
                                 mx ? "ntp:poll_interval_max_sec" : "ntp:poll_interval_min_sec",
                                 "ntp:poll_interval_max_sec (%lld) must be larger than "
                                 "ntp:poll_interval_min_sec (%lld)",
                                 (long long)hi, (long long)lo);
                return -EINVAL;
        }
        return 0;
}

/* Warns of each changed key that a drop-in read after ours assigns again:
 * timesyncd would use that file's value instead (a number) or as well (a
 * list adds up, unless it resets). */
static int later_overrides(json_t *changes, json_t *warnings) {
        const char *ours = strrchr(TSYNC_DROPIN, '/') + 1;
        char *paths[TSYNC_DROPINS_MAX] = {0};
        size_t n = 0;
        int r = dropins_list(paths, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *text = NULL;
                bool set[ELEMENTSOF(tsync_keys)] = {false};
                size_t len;

                if (strcmp(strrchr(paths[i], '/') + 1, ours) <= 0 ||
                    read_file(paths[i], TSYNC_FILE_MAX, &text, &len) < 0)
                        continue;
                keys_set(text, len, set);
                for (size_t k = 0; r >= 0 && k < tsync_keys_count; k++) {
                        json_t *w;

                        if (!set[k] || !json_object_get(changes, tsync_keys[k].setting))
                                continue;
                        w = json_sprintf("%s also sets %s= and is read after Steward's drop-in, so "
                                         "what systemd-timesyncd uses for %s is not only "
                                         "what is set here",
                                         paths[i], tsync_keys[k].ini, tsync_keys[k].setting);
                        if (json_array_append_new(warnings, w) < 0)
                                r = -ENOMEM;
                }
        }
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        return r;
}

static json_t *plan_json(json_t *changes, bool dry_run, const char *before, const char *after) {
        _cleanup_free_ char *diff = NULL;
        json_t *changed = json_array(), *v;
        const char *k;

        if (!changed ||
            diff_unified(TSYNC_DROPIN, before ? before : "", before ? strlen(before) : 0, after,
                         strlen(after), &diff) < 0) {
                json_decref(changed);
                return NULL;
        }
        json_object_foreach(changes, k, v) json_array_append_new(changed, json_string(k));
        return json_pack("{s:b, s:o, s:b, s:[], s:[{s:s, s:s, s:s, s:s, s:s?, s:s, s:b}]}",
                         "dry_run", dry_run, "changed", changed, "restart_required", false,
                         "warnings", "files", "path", TSYNC_DROPIN, "diff", diff, "type", "file",
                         "before_type", before ? "file" : "absent", "before", before, "after",
                         after, "redacted", false);
}

static int apply_locked(json_t *changes, bool dry_run, json_t **ret_plan,
                        struct module_error *err) {
        char values[8][NTP_SERVERS_MAX * (NTP_SERVER_LEN + 1) + 1];
        struct tsync_edit edits[8];
        _cleanup_free_ char *before = NULL, *after = NULL;
        _cleanup_json_ json_t *plan = NULL;
        size_t n = 0;
        mode_t mode;
        const char *key;
        json_t *v;
        int r;

        json_object_foreach(changes, key, v) {
                const struct tsync_key *k = tsync_key_find(key);

                if (!k || n == ELEMENTSOF(edits)) {
                        module_error_set(err, 422, "unknown_setting", key,
                                         "time has no writable setting \"%.128s\"", key);
                        return -ENOENT;
                }
                r = edit_value(k, v, values[n], sizeof values[n], err);
                if (r < 0)
                        return r;
                edits[n] = (struct tsync_edit){.key = k, .value = values[n]};
                n++;
        }
        r = check_poll(changes, err);
        if (r >= 0)
                r = dropin_read(&before, &mode, err);
        if (r < 0)
                return r;
        r = tsync_rewrite(before, edits, n, &after);
        if (r >= 0 && !(plan = plan_json(changes, dry_run, before, after)))
                r = -ENOMEM;
        if (r >= 0)
                r = later_overrides(changes, json_object_get(plan, "warnings"));
        if (r < 0) {
                module_error_set(err, 500, "internal", NULL, "Failed to plan " TSYNC_DROPIN ": %s",
                                 strerror(-r));
                return r;
        }
        if (!dry_run) {
                if (mkdir(TSYNC_DROPIN_DIR, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        if (r == -ENOENT) {
                                module_error_set(err, 409, "conflict", NULL,
                                                 "/etc/systemd does not exist: systemd-timesyncd "
                                                 "is not installed here; nothing was changed");
                                return -EBUSY;
                        }
                }
                if (r >= 0)
                        r = write_file_atomic(TSYNC_DROPIN, after, strlen(after), mode);
                if (r < 0) {
                        module_error_set(err, 500, "internal", NULL,
                                         "Failed to write " TSYNC_DROPIN
                                         ": %s; nothing was changed",
                                         strerror(-r));
                        return r;
                }
        }
        *ret_plan = TAKE_PTR(plan);
        return 0;
}

int tsync_apply(json_t *changes, bool dry_run, json_t **ret_plan, struct module_error *err) {
        int r;

        if (!json_is_object(changes)) {
                module_error_set(err, 400, "bad_request", NULL, "settings must be an object");
                return -EINVAL;
        }
        pthread_mutex_lock(&lock);
        r = apply_locked(changes, dry_run, ret_plan, err);
        pthread_mutex_unlock(&lock);
        return r;
}

/* ---- the service --------------------------------------------------------------- */

static const char *const tsync_binaries[] = {
        "/usr/lib/systemd/systemd-timesyncd",
        "/lib/systemd/systemd-timesyncd",
        "/usr/lib/systemd/system/" TSYNC_UNIT,
        "/lib/systemd/system/" TSYNC_UNIT,
};
static const char *const systemctl_paths[] = {"/usr/bin/systemctl", "/bin/systemctl"};

bool tsync_installed(void) {
        for (size_t i = 0; i < ELEMENTSOF(tsync_binaries); i++)
                if (access(tsync_binaries[i], F_OK) == 0)
                        return true;
        return false;
}

int tsync_pid(int *ret) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int found = -ESRCH;

        if (!d)
                return -errno;
        while (found < 0 && (de = readdir(d))) {
                _cleanup_close_ int fd = -1;
                char path[64], comm[32];
                size_t len;
                unsigned pid;

                if (safe_atou(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                        continue;
                (void)snprintf(path, sizeof path, "/proc/%u/comm", pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || pread_all(fd, comm, sizeof comm - 1, &len) < 0)
                        continue;
                comm[len] = '\0';
                /* comm is cut to 15 bytes: "systemd-timesyn". */
                if (STREQ(comm, "systemd-timesyn\n")) {
                        *ret = (int)pid;
                        found = 0;
                }
        }
        closedir(d);
        return found;
}

static const char *systemctl_path(void) {
        for (size_t i = 0; i < ELEMENTSOF(systemctl_paths); i++)
                if (access(systemctl_paths[i], X_OK) == 0)
                        return systemctl_paths[i];
        return NULL;
}

bool tsync_can_reload(void) {
        struct stat st;
        return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode) && systemctl_path();
}

int tsync_systemctl(const char *verb, char *msg, size_t size) {
        static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
        const char *argv[] = {systemctl_path(), "--no-block", verb, "--", TSYNC_UNIT, NULL};
        int out[2], status;
        size_t got = 0;
        pid_t pid;

        msg[0] = '\0';
        if (!argv[0])
                return -ENOENT;
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(out[0]);
                close(out[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                sigset_t none;

                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
                        _exit(126);
                if (close_range(3, ~0U, 0) < 0)
                        _exit(126);
                execve(argv[0], (char *const *)argv, envp);
                _exit(127);
        }
        close(out[1]);
        for (;;) {
                char buf[512];
                ssize_t n = read(out[0], buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n && got + 1 < size; i++)
                        msg[got++] = (unsigned char)buf[i] < 0x20 ? ' ' : buf[i];
        }
        msg[got] = '\0';
        utf8_sanitize(msg);
        close(out[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
