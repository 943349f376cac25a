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
 * The plan is the change engine's (change.h): it reads each file's state,
 * leaves out what is already as wanted, writes the rest atomically, then
 * sets the running host name (the engine's commit).  If any step fails,
 * every file written so far is put back as it was: a change is applied
 * whole or not at all.  After a rollback restored
 * /etc/hostname (or on SIGHUP), system_make_live() sets the running host name
 * from it.
 *
 * A zone must be a TZif file under /usr/share/zoneinfo reached without
 * leaving that tree (zone_open() of common/zoneinfo.h).
 *
 * `lock` serialises apply and restore, which both read the current state,
 * decide, and write.
 */
#include "modules/system/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change.h"
#include "util.h"
#include "zoneinfo.h"

/* /etc/hostname and /etc/timezone hold one short line; anything much larger
 * is not what we think it is and is left alone. */
#define ETC_FILE_MAX (64UL * 1024)
#define HOSTNAME_HINT                                                                              \
        "a host name is dot-separated labels of letters, digits and '-', each 1 to 63 "            \
        "characters and not starting or ending with '-', at most 64 characters in all"
#define TIMEZONE_HINT                                                                              \
        "a time zone is an IANA name such as \"Europe/Paris\", \"UTC\" or "                        \
        "\"America/Argentina/Buenos_Aires\" (see timedatectl list-timezones)"

#define _cleanup_json_ _cleanup_(json_decrefp)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- grammars --------------------------------------------------------------- */

bool hostname_valid(const char *s) {
        return dns_name_valid(s, HOST_NAME_MAX);
}

bool timezone_name_valid(const char *s) {
        return strnlen(s ? s : "", TIMEZONE_MAX + 1) <= TIMEZONE_MAX && zone_name_valid(s);
}

/* ---- zoneinfo ---------------------------------------------------------------- */

/* 0 if name (already grammar-checked) is a time zone file under
 * ZONEINFO_DIR; -ENOENT/-ENOTDIR (no such zone), -EISDIR (a region, not a
 * zone), -EXDEV (leads out of the tree), -ELOOP (a link not followed),
 * -EBADMSG (not a TZif file) or another -errno. */
static int zone_check(const char *name) {
        _cleanup_close_ int dir = -1, fd = -1;
        struct stat st;
        char magic[4];
        ssize_t n;

        dir = open(ZONEINFO_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        fd = zone_open(dir, name);
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

/* ---- apply ------------------------------------------------------------------ */

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
static void add_file(struct change_plan *p, const char *field, const char *path, change_type_t type,
                     const char *prefix, const char *value, const char *suffix) {
        _cleanup_free_ char *content = NULL;
        struct change_file *f;

        if (asprintf(&content, "%s%s%s", prefix, value, suffix) < 0) {
                content = NULL;
                p->oom = p->oom ?: -ENOMEM;
                return;
        }
        f = change_edit(p, path, type, content, 0644);
        f->field = field;
        f->max = ETC_FILE_MAX;
}

/* The engine's commit: the running host name follows the file, or the
 * files are put back. */
static int set_hostname(void *data, struct module_error *err) {
        const char *hostname = data;
        int r;

        if (!hostname || sethostname(hostname, strlen(hostname)) >= 0)
                return 0;
        r = -errno;
        module_error_set(err, 500, "internal", "hostname",
                         "Failed to set the host name to \"%s\": %s", hostname, strerror(-r));
        return r;
}

static int apply_locked(json_t *changes, const char *hostname, const char *zone, bool dry_run,
                        json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *plan = json_object(), *done = NULL;
        json_t *changed = json_array();
        struct change_plan p;
        const char *k;
        json_t *v;
        int r = 0;

        if (!plan || !changed || json_object_set_new(plan, "changed", changed) < 0)
                goto oom;
        json_object_foreach(changes, k, v) {
                if (json_array_append_new(changed, json_string(k)) < 0)
                        goto oom;
        }

        change_plan_init(&p);
        if (hostname)
                add_file(&p, "hostname", ETC_HOSTNAME, CHANGE_FILE, "", hostname, "\n");
        if (zone) {
                add_file(&p, "timezone", ETC_TIMEZONE, CHANGE_FILE, "", zone, "\n");
                add_file(&p, "timezone", ETC_LOCALTIME, CHANGE_SYMLINK, ZONEINFO_DIR "/", zone, "");
        }
        r = change_run(&p,
                       &(struct change_opts){
                               .dry_run = dry_run,
                               .commit = set_hostname,
                               .data = (void *)hostname,
                       },
                       &done, err);
        change_plan_done(&p);
        if (r < 0)
                return r;
        if (json_object_set_new(plan, "dry_run", json_boolean(dry_run)) < 0 ||
            json_object_set_new(plan, "restart_required", json_false()) < 0 ||
            json_object_set(plan, "files", json_object_get(done, "files")) < 0)
                goto oom;
        *ret = TAKE_PTR(plan);
        return 0;

oom:
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

int system_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                          json_t **plan, struct module_error *err) {
        const char *hostname = NULL, *zone = NULL, *k;
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
        r = apply_locked(changes, hostname, zone, dry_run, plan, err);
        pthread_mutex_unlock(&lock);
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
