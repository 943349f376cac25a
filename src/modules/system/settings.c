/* settings.c — writing the host name and the time zone (see settings.h).
 *
 * A change is planned as the files it rewrites:
 *
 *     hostname   /etc/hostname    "NAME\n"                        regular file
 *     timezone   /etc/timezone    "Zone/Name\n" (Debian)          regular file
 *                /etc/localtime   -> /usr/share/zoneinfo/Zone/Name symbolic link
 *
 * each with its state before and after (type, and content or link target)
 * and a unified diff; a link's diff has one line "-> TARGET" on each side.
 * Files already in the wanted state are left out of the plan.
 *
 * Applying writes the files atomically (write_file_atomic(); a temp link in
 * the same directory plus rename() for a link), then sets the running host
 * name.  If any step fails, every file written so far is put back as it was:
 * a change is applied whole or not at all.  After a rollback restored
 * /etc/hostname (or on SIGHUP), system_make_live() sets the running host name
 * from it.
 *
 * A zone must be a TZif file under /usr/share/zoneinfo reached without
 * leaving that tree.  It is opened with openat2(RESOLVE_BENEATH) relative to
 * the zoneinfo directory, which follows the tree's own relative links ("UTC"
 * -> "Etc/UTC") but refuses absolute ones (Debian ships "localtime" ->
 * "/etc/localtime") and anything that climbs out.  Kernels without openat2
 * get a walk that follows no link at all.
 *
 * `lock` serialises apply and restore, which both read the current state,
 * decide, and write.
 */
#include "modules/system/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diff.h"
#include "util.h"

/* /etc/hostname and /etc/timezone hold one short line; anything much larger
 * is not what we think it is and is left alone. */
#define ETC_FILE_MAX (64UL * 1024)
#define MAX_FILES    3
#define HOSTNAME_HINT                                                                              \
        "a host name is dot-separated labels of letters, digits and '-', each 1 to 63 "            \
        "characters and not starting or ending with '-', at most 64 characters in all"
#define TIMEZONE_HINT                                                                              \
        "a time zone is an IANA name such as \"Europe/Paris\", \"UTC\" or "                        \
        "\"America/Argentina/Buenos_Aires\" (see timedatectl list-timezones)"

#define _cleanup_json_ _cleanup_(json_decrefp)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- grammars --------------------------------------------------------------- */

static bool is_alnum(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool hostname_valid(const char *s) {
        size_t n, label = 0;

        if (!s)
                return false;
        n = strnlen(s, HOST_NAME_MAX + 1);
        if (n == 0 || n > HOST_NAME_MAX)
                return false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if (is_alnum(c) || c == '-') {
                        if (c == '-' && label == 0)
                                return false;
                        if (++label > 63)
                                return false;
                } else
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
}

bool timezone_name_valid(const char *s) {
        size_t n, comp = 0;

        if (!s)
                return false;
        n = strnlen(s, TIMEZONE_MAX + 1);
        if (n == 0 || n > TIMEZONE_MAX)
                return false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '/') {
                        if (comp == 0)
                                return false;
                        comp = 0;
                } else if (is_alnum(c) || c == '_' || c == '+' || c == '-')
                        comp++;
                else
                        return false;
        }
        return comp > 0;
}

/* ---- zoneinfo ---------------------------------------------------------------- */

/* Opens ZONEINFO_DIR/name for reading one component at a time, following no
 * link: for kernels without openat2. */
static int zone_open_nofollow(int dir, const char *name) {
        _cleanup_free_ char *copy = strdup(name);
        _cleanup_close_ int cur = -1;
        char *comp, *slash;
        int fd;

        if (!copy)
                return -ENOMEM;
        cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (comp = copy; (slash = strchr(comp, '/')); comp = slash + 1) {
                int next;

                *slash = '\0';
                next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                close(cur);
                cur = next;
        }
        fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

/* 0 if name (already grammar-checked) is a time zone file under
 * ZONEINFO_DIR; -ENOENT/-ENOTDIR (no such zone), -EISDIR (a region, not a
 * zone), -EXDEV (leads out of the tree), -ELOOP (a link not followed),
 * -EBADMSG (not a TZif file) or another -errno. */
static int zone_check(const char *name) {
        _cleanup_close_ int dir = -1, fd = -1;
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        struct stat st;
        char magic[4];
        ssize_t n;

        dir = open(ZONEINFO_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS)
                fd = zone_open_nofollow(dir, name);
        else if (fd < 0)
                fd = -errno;
        if (fd < 0)
                return fd;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        n = pread(fd, magic, sizeof magic, 0);
        if (n < 0)
                return -errno;
        if (n != sizeof magic || memcmp(magic, "TZif", sizeof magic) != 0)
                return -EBADMSG;
        return 0;
}

static int zone_error(int r, const char *name, struct module_error *err) {
        switch (r) {
        case -ENOENT:
        case -ENOTDIR:
                module_error_set(err, 422, "invalid_setting", "timezone",
                                 "system:timezone: unknown time zone \"%s\": there is no such "
                                 "zone under " ZONEINFO_DIR "; " TIMEZONE_HINT,
                                 name);
                return -EINVAL;
        case -EISDIR:
                module_error_set(err, 422, "invalid_setting", "timezone",
                                 "system:timezone: \"%s\" is a region (a directory of zones), not "
                                 "a zone; name one of its zones, such as \"%s/…\"",
                                 name, name);
                return -EINVAL;
        case -EXDEV:
        case -ELOOP:
                module_error_set(err, 422, "invalid_setting", "timezone",
                                 "system:timezone: \"%s\" is a link that leads out of " ZONEINFO_DIR
                                 " or cannot be followed safely; name the zone it points to",
                                 name);
                return -EINVAL;
        case -EBADMSG:
                module_error_set(err, 422, "invalid_setting", "timezone",
                                 "system:timezone: " ZONEINFO_DIR
                                 "/%s is not a time zone file; " TIMEZONE_HINT,
                                 name);
                return -EINVAL;
        default:
                errno = -r;
                module_error_set(err, 500, "internal", "timezone",
                                 "Failed to look up time zone \"%s\" under " ZONEINFO_DIR ": %m",
                                 name);
                return r;
        }
}

/* ---- file states --------------------------------------------------------- */

struct file_change {
        const char *path;
        const char *field; /* the setting it belongs to, for errors */
        const char *type;  /* after the change: "file" or "symlink" */
        char *after;       /* content, or link target */
        mode_t mode;       /* of the new regular file */

        const char *before_type; /* "file", "symlink" or "absent" */
        char *before;            /* NULL when absent */
        mode_t before_mode;

        bool skip;    /* already in the wanted state */
        bool written; /* by this change, not yet undone */
};

static void file_change_done(struct file_change *f) {
        free(f->after);
        free(f->before);
        f->after = f->before = NULL;
}

static int conflict(struct module_error *err, const char *field, const char *path,
                    const char *why) {
        module_error_set(err, 409, "conflict", field, "%s %s; it is left alone", path, why);
        return -EBUSY;
}

/* Fills the before* fields of f from what is at f->path now. */
static int state_read(struct file_change *f, const char *field, struct module_error *err) {
        struct stat st;
        size_t len;
        int r;

        if (lstat(f->path, &st) < 0) {
                if (errno == ENOENT) {
                        f->before_type = "absent";
                        return 0;
                }
                r = -errno;
                module_error_set(err, 500, "internal", field, "Failed to inspect %s: %m", f->path);
                return r;
        }

        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(f->path, target, sizeof target - 1);

                if (n < 0) {
                        r = -errno;
                        module_error_set(err, 500, "internal", field, "Failed to read link %s: %m",
                                         f->path);
                        return r;
                }
                if (!utf8_valid(target, (size_t)n))
                        return conflict(err, field, f->path, "is a link whose target is not UTF-8");
                target[n] = '\0';
                f->before = strdup(target);
                if (!f->before)
                        goto oom;
                f->before_type = "symlink";
                return 0;
        }

        if (!S_ISREG(st.st_mode))
                return conflict(err, field, f->path,
                                "is neither a regular file nor a symbolic link");

        r = read_file(f->path, ETC_FILE_MAX, &f->before, &len);
        if (r == -EFBIG)
                return conflict(err, field, f->path, "is unexpectedly large");
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", field, "Failed to read %s: %m", f->path);
                return r;
        }
        if (!utf8_valid(f->before, len)) {
                free(f->before);
                f->before = NULL;
                return conflict(err, field, f->path, "is not UTF-8 text");
        }
        f->before_type = "file";
        f->before_mode = st.st_mode & 07777;
        return 0;

oom:
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* What a diff shows of a state: the content of a file, "-> TARGET" for a
 * link, nothing for an absent file. */
static char *state_text(const char *type, const char *content) {
        char *s;

        if (STREQ(type, "symlink"))
                return asprintf(&s, "-> %s\n", content) < 0 ? NULL : s;
        return strdup(STREQ(type, "file") ? content : "");
}

static int fsync_dir_of(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -1;
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        slash[slash == dir] = '\0'; /* "/x" -> "/" */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Replaces path with a link to target: a temp link in the same directory,
 * renamed over it. */
static int symlink_atomic(const char *path, const char *target) {
        _cleanup_free_ char *hex = NULL, *tmp = NULL;
        int r;

        r = random_hex(8, &hex);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s.%s.tmp", path, hex) < 0)
                return -ENOMEM;
        if (symlink(target, tmp) < 0)
                return -errno;
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return fsync_dir_of(path);
}

/* Makes path be a regular file with content, a link to content, or absent. */
static int state_write(const char *path, const char *type, const char *content, mode_t mode) {
        if (STREQ(type, "symlink"))
                return symlink_atomic(path, content);
        if (STREQ(type, "file"))
                return write_file_atomic(path, content, strlen(content), mode);
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return fsync_dir_of(path);
}

/* Puts back, last first, every file this change wrote.  On failure, the
 * first error and the path it concerns. */
static int undo(struct file_change *fs, size_t n, const char **ret_path) {
        int first = 0;

        for (size_t i = n; i-- > 0;) {
                int r;

                if (!fs[i].written)
                        continue;
                r = state_write(fs[i].path, fs[i].before_type, fs[i].before, fs[i].before_mode);
                if (r >= 0)
                        fs[i].written = false;
                else if (first == 0) {
                        first = r;
                        *ret_path = fs[i].path;
                }
        }
        return first;
}

/* Appends to *msg what undo() achieved, for an error message. */
static void undo_report(struct file_change *fs, size_t n, char *msg, size_t size) {
        const char *path = NULL;
        int r = undo(fs, n, &path);

        if (r >= 0)
                (void)snprintf(msg, size, "nothing was changed");
        else
                (void)snprintf(msg, size, "putting back %s also failed (%s), fix it by hand", path,
                               strerror(-r));
}

/* ---- apply ------------------------------------------------------------------ */

static void put(json_t *o, const char *key, json_t *v, int *r) {
        if (!v || json_object_set_new(o, key, v) < 0)
                *r = -ENOMEM;
}

static json_t *state_json(const char *type, const char *content) {
        return STREQ(type, "absent") ? json_null() : json_string(content);
}

/* The plan's entry for f: {"path", "diff", "type", "before", "after",
 * "redacted", "before_type"}.  NULL when out of memory. */
static json_t *file_json(const struct file_change *f) {
        _cleanup_free_ char *old = state_text(f->before_type, f->before);
        _cleanup_free_ char *new = state_text(f->type, f->after);
        _cleanup_free_ char *diff = NULL;
        json_t *o;
        int r = 0;

        if (!old || !new)
                return NULL;
        if (diff_unified(f->path, old, strlen(old), new, strlen(new), &diff) < 0)
                return NULL;

        o = json_object();
        if (!o)
                return NULL;
        put(o, "path", json_string(f->path), &r);
        put(o, "diff", json_string(diff), &r);
        put(o, "type", json_string(f->type), &r);
        put(o, "before", state_json(f->before_type, f->before), &r);
        put(o, "after", json_string(f->after), &r);
        put(o, "redacted", json_false(), &r);
        put(o, "before_type", json_string(f->before_type), &r);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static int invalid(struct module_error *err, const char *key, const char *s, const char *hint) {
        if (s)
                module_error_set(err, 422, "invalid_setting", key,
                                 "system:%s: \"%.128s\" is not valid: %s", key, s, hint);
        else
                module_error_set(err, 422, "invalid_setting", key,
                                 "system:%s: expected a string: %s", key, hint);
        return -EINVAL;
}

/* A file to bring to type with content prefix + value + suffix. */
static int add_file(struct file_change *f, const char *field, const char *path, const char *type,
                    const char *prefix, const char *value, const char *suffix) {
        *f = (struct file_change){.path = path, .field = field, .type = type};
        if (asprintf(&f->after, "%s%s%s", prefix, value, suffix) < 0) {
                f->after = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int apply_locked(json_t *changes, const char *hostname, const char *zone, bool dry_run,
                        struct file_change *fs, size_t *n, json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *plan = json_object();
        json_t *files = json_array(), *changed = json_array();
        char undone[512];
        const char *k;
        json_t *v;
        int r = 0;

        put(plan, "dry_run", json_boolean(dry_run), &r);
        put(plan, "changed", changed, &r);
        put(plan, "restart_required", json_false(), &r);
        put(plan, "files", files, &r);
        json_object_foreach(changes, k, v) {
                if (r < 0 || json_array_append_new(changed, json_string(k)) < 0)
                        r = -ENOMEM;
        }
        if (r < 0)
                goto oom;

        if (hostname &&
            add_file(&fs[(*n)++], "hostname", ETC_HOSTNAME, "file", "", hostname, "\n") < 0)
                goto oom;
        if (zone && (add_file(&fs[(*n)++], "timezone", ETC_TIMEZONE, "file", "", zone, "\n") < 0 ||
                     add_file(&fs[(*n)++], "timezone", ETC_LOCALTIME, "symlink", ZONEINFO_DIR "/",
                              zone, "") < 0))
                goto oom;

        for (size_t i = 0; i < *n; i++) {
                struct file_change *f = &fs[i];

                r = state_read(f, f->field, err);
                if (r < 0)
                        return r;
                f->skip = STREQ(f->before_type, f->type) && STREQ(f->before, f->after);
                f->mode = STREQ(f->before_type, "file") ? f->before_mode : 0644;
                if (!f->skip && json_array_append_new(files, file_json(f)) < 0)
                        goto oom;
        }

        if (!dry_run) {
                for (size_t i = 0; i < *n; i++) {
                        struct file_change *f = &fs[i];

                        if (f->skip)
                                continue;
                        r = state_write(f->path, f->type, f->after, f->mode);
                        if (r < 0) {
                                undo_report(fs, *n, undone, sizeof undone);
                                module_error_set(err, 500, "internal", f->field,
                                                 "Failed to write %s: %s; %s", f->path,
                                                 strerror(-r), undone);
                                return r;
                        }
                        f->written = true;
                }
                if (hostname && sethostname(hostname, strlen(hostname)) < 0) {
                        r = -errno;
                        undo_report(fs, *n, undone, sizeof undone);
                        module_error_set(err, 500, "internal", "hostname",
                                         "Failed to set the host name to \"%s\": %s; %s", hostname,
                                         strerror(-r), undone);
                        return r;
                }
        }

        *ret = TAKE_PTR(plan);
        return 0;

oom:
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

int system_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                          json_t **plan, struct module_error *err) {
        struct file_change fs[MAX_FILES] = {};
        const char *hostname = NULL, *zone = NULL, *k;
        size_t n = 0;
        json_t *v;
        int r;

        if (!json_is_object(changes)) {
                module_error_set(err, 400, "bad_request", NULL, "settings must be an object");
                return -EINVAL;
        }

        /* The front has checked these against the schema; the helper trusts
         * nothing it is sent. */
        json_object_foreach(changes, k, v) {
                const char *s = json_string_value(v);

                if (STREQ(k, "hostname")) {
                        if (!hostname_valid(s))
                                return invalid(err, k, s, HOSTNAME_HINT);
                        hostname = s;
                } else if (STREQ(k, "timezone")) {
                        if (!timezone_name_valid(s))
                                return invalid(err, k, s, TIMEZONE_HINT);
                        zone = s;
                } else {
                        module_error_set(err, 422, "unknown_setting", k,
                                         "system has no writable setting \"%.128s\"", k);
                        return -ENOENT;
                }
        }
        if (zone) {
                r = zone_check(zone);
                if (r < 0)
                        return zone_error(r, zone, err);
        }

        pthread_mutex_lock(&lock);
        r = apply_locked(changes, hostname, zone, dry_run, fs, &n, plan, err);
        pthread_mutex_unlock(&lock);

        for (size_t i = 0; i < n; i++)
                file_change_done(&fs[i]);
        return r;
}

/* ---- after a rollback ------------------------------------------------------- */

/* The host name in /etc/hostname: its first line that is neither empty nor
 * a comment, without surrounding blanks (as systemd and Debian read it).
 * -ENODATA when there is none, -EINVAL when it is not a valid host name. */
static int hostname_parse(const char *text, size_t len, char name[static HOST_NAME_MAX + 1]) {
        size_t i = 0;

        while (i < len) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t e = nl ? (size_t)(nl - text) : len, s = i;

                i = e + 1;
                while (s < e && (text[s] == ' ' || text[s] == '\t'))
                        s++;
                while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
                        e--;
                if (s == e || text[s] == '#')
                        continue;
                if (e - s > HOST_NAME_MAX || memchr(text + s, '\0', e - s))
                        return -EINVAL;
                memcpy(name, text + s, e - s);
                name[e - s] = '\0';
                return hostname_valid(name) ? 0 : -EINVAL;
        }
        return -ENODATA;
}

static int hostname_from_file(struct module_error *err) {
        _cleanup_free_ char *text = NULL;
        char name[HOST_NAME_MAX + 1], current[HOST_NAME_MAX + 1] = "";
        size_t len;
        int r;

        r = read_file(ETC_HOSTNAME, ETC_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return 0; /* nothing to follow: the running name stays */
        if (r < 0) {
                errno = -r;
                module_error_set(err, 500, "internal", "hostname",
                                 "Failed to read " ETC_HOSTNAME ": %m");
                return r;
        }
        r = hostname_parse(text, len, name);
        if (r == -ENODATA)
                return 0;
        if (r < 0) {
                module_error_set(err, 409, "invalid_config", "hostname",
                                 ETC_HOSTNAME " holds no valid host name; the running host name "
                                              "is unchanged");
                return r;
        }
        if (gethostname(current, sizeof current) == 0 && STREQ(current, name))
                return 0;
        if (sethostname(name, strlen(name)) < 0) {
                r = -errno;
                module_error_set(err, 500, "internal", "hostname",
                                 "Failed to set the host name to \"%s\": %m", name);
                return r;
        }
        return 0;
}

const char *const *system_files(void) {
        static const char *const owned[] = {ETC_HOSTNAME, ETC_TIMEZONE, ETC_LOCALTIME, NULL};
        return owned;
}

/* The time zone is read from /etc/localtime by everyone, so the file is what
 * runs; the host name is the kernel's, set here (in the helper) when the
 * file says otherwise.  The front can and need not set it. */
int system_make_live(bool helper, struct module_error *err) {
        int r;

        if (!helper)
                return 0;
        pthread_mutex_lock(&lock);
        r = hostname_from_file(err);
        pthread_mutex_unlock(&lock);
        return r;
}
