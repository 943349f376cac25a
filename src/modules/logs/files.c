/* files.c — classic log files under /var/log (see files.h).
 *
 * Every open goes through openat2() beneath a descriptor of the root with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, so neither
 * a ".." nor a symbolic link planted by a service that owns a directory
 * under /var/log can take a read elsewhere; O_NONBLOCK keeps a FIFO from
 * hanging the helper, and only regular files are read.  A file is listed
 * when it is text: not a journal, not wtmp/btmp/lastlog/faillog (binary
 * records), not compressed (rotated .gz and friends), and no NUL byte in its
 * first block.
 *
 * What the helper reads as root is limited to what the system already
 * shows to log readers: a file readable by others or by the group adm (the
 * group Debian, Ubuntu and Fedora give their log readers), in directories
 * that others or adm may list and enter.  A file of mode 0600 (the
 * installer's answers, audit.log) or one in a closed directory
 * (/var/log/private, for DynamicUser= services) is neither listed nor
 * read: an operator must not reach through Steward what the host keeps
 * from its own log readers.  The check is on the opened descriptors
 * (fstat), each directory of a path opened in turn, so no rename between a
 * check and an open can change what is read.
 */
#include "modules/logs/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define SNIFF_BYTES 512

static int open_beneath(int dirfd, const char *name, int flags) {
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        return fd < 0 ? -errno : (int)fd;
}

bool logs_file_name_valid(const char *name) {
        size_t n = name ? strlen(name) : 0;
        const char *c = name;

        if (n == 0 || n > LOGS_FILE_NAME_MAX || name[0] == '/')
                return false;
        while (*c) {
                size_t len = strcspn(c, "/");
                if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                for (size_t i = 0; i < len; i++) {
                        char ch = c[i];
                        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
                              ch == '@' || ch == '+'))
                                return false;
                }
                c += len;
                if (*c == '/')
                        c++;
        }
        return name[n - 1] != '/';
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && STREQ(s + a - b, suffix);
}

/* Names that are never text logs. */
static bool excluded(const char *base) {
        static const char *const names[] = {"wtmp", "btmp", "lastlog", "faillog", "utmp"};
        static const char *const suffixes[] = {".journal", ".journal~", ".gz", ".xz", ".bz2",
                                               ".zst", ".lz4", ".zip", ".db"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (STREQ(base, names[i]) || (strncmp(base, names[i], strlen(names[i])) == 0 &&
                                              base[strlen(names[i])] == '.'))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (ends_with(base, suffixes[i]))
                        return true;
        return false;
}

static bool looks_text(int fd) {
        char b[SNIFF_BYTES];
        ssize_t n = pread(fd, b, sizeof b, 0);
        return n >= 0 && !memchr(b, '\0', (size_t)n);
}

/* The gid of the group adm, or (gid_t)-1 where there is none. */
static gid_t adm_gid(void) {
        const struct group *g = getgrnam("adm");
        return g && g->gr_gid != 0 ? g->gr_gid : (gid_t)-1;
}

/* Whether log readers see st: others may read it (a directory: read and
 * enter it), or its group is adm and the group may. */
static bool shown(const struct stat *st, gid_t adm) {
        mode_t other = S_ISDIR(st->st_mode) ? S_IROTH | S_IXOTH : S_IROTH;
        mode_t group = S_ISDIR(st->st_mode) ? S_IRGRP | S_IXGRP : S_IRGRP;

        return (st->st_mode & other) == other ||
               (adm != (gid_t)-1 && st->st_gid == adm && (st->st_mode & group) == group);
}

struct walk {
        int root;
        gid_t adm;
        json_t *files;
};

static void walk_dir(struct walk *w, const char *rel, int depth) {
        int dfd = rel[0] ? open_beneath(w->root, rel, O_RDONLY | O_DIRECTORY) : dup(w->root);
        DIR *d;
        struct dirent *de;
        struct stat dst;

        /* Below the root, only directories log readers may enter. */
        if (dfd >= 0 && rel[0] && (fstat(dfd, &dst) < 0 || !shown(&dst, w->adm))) {
                close(dfd);
                return;
        }
        if (dfd < 0 || !(d = fdopendir(dfd))) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        while ((de = readdir(d)) && json_array_size(w->files) < LOGS_FILES_MAX) {
                char path[LOGS_FILE_NAME_MAX + 1];
                struct stat st;
                int fd;

                if (de->d_name[0] == '.' ||
                    snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
                            (int)sizeof path ||
                    !logs_file_name_valid(path))
                        continue;
                if (de->d_type == DT_DIR) {
                        if (depth > 0 && !STREQ(path, "journal"))
                                walk_dir(w, path, depth - 1);
                        continue;
                }
                if ((de->d_type != DT_REG && de->d_type != DT_UNKNOWN) || excluded(de->d_name))
                        continue;
                fd = open_beneath(w->root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
                if (fd < 0)
                        continue;
                if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && shown(&st, w->adm) &&
                    looks_text(fd))
                        json_array_append_new(w->files,
                                              json_pack("{s:s, s:I, s:I}", "name", path, "size",
                                                        (json_int_t)st.st_size, "mtime",
                                                        (json_int_t)st.st_mtime));
                close(fd);
        }
        closedir(d);
}

static int by_name(const void *a, const void *b) {
        return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

int logs_files_list(const char *root, json_t **ret, struct module_error *err) {
        struct walk w = {.files = json_array(), .adm = adm_gid()};
        size_t n;
        json_t **items;

        w.root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w.root < 0 || !w.files) {
                int r = w.root < 0 ? -errno : -ENOMEM;
                json_decref(w.files);
                if (w.root >= 0)
                        close(w.root);
                module_error_set(err, 503, "unavailable", NULL, "cannot read %s: %s", root,
                                 strerror(-r));
                return r;
        }
        walk_dir(&w, "", LOGS_FILES_DEPTH - 1);
        close(w.root);
        n = json_array_size(w.files);
        items = calloc(n + 1, sizeof *items);
        if (!items) {
                json_decref(w.files);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                items[i] = json_incref(json_array_get(w.files, i));
        qsort(items, n, sizeof *items, by_name);
        json_array_clear(w.files);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(w.files, items[i]);
        free(items);
        *ret = json_pack("{s:o}", "files", w.files);
        return *ret ? 0 : -ENOMEM;
}

/* The last `lines` lines of the buffer b (n bytes, NUL after them),
 * oldest first.  whole: b starts at the file's start (else its first line
 * may be cut, and is dropped). */
static json_t *last_lines(char *b, size_t n, unsigned lines, bool whole, bool *ret_cut) {
        _cleanup_free_ size_t *starts = calloc(lines, sizeof *starts);
        json_t *out = json_array();
        size_t end = n, p, count = 0;

        *ret_cut = false;
        if (!starts || !out || n == 0) {
                if (!starts)
                        json_decref(out);
                return starts ? out : NULL;
        }
        if (b[end - 1] == '\n')
                end--;
        for (p = end; count < lines;) {
                size_t s = p;
                while (s > 0 && b[s - 1] != '\n')
                        s--;
                if (s == 0 && !whole) {
                        *ret_cut = true;
                        break;
                }
                starts[count++] = s;
                if (s == 0)
                        break;
                p = s - 1;
        }
        for (size_t i = count; i-- > 0;) {
                size_t q = starts[i];
                while (q < end && b[q] != '\n')
                        q++;
                b[q] = '\0';
                for (size_t k = starts[i]; k < q; k++)
                        if (b[k] == '\0')
                                b[k] = '?';
                utf8_sanitize(b + starts[i]);
                json_array_append_new(out, json_string(b + starts[i]));
        }
        return out;
}

/* Opens name beneath rfd one directory at a time, each one shown (above)
 * before the next is opened in it; the file itself is checked by the
 * caller.  A descriptor, or -errno. */
static int open_shown(int rfd, const char *name, gid_t adm) {
        char path[LOGS_FILE_NAME_MAX + 1];
        _cleanup_close_ int dfd = -1;
        char *c = path, *slash;

        if (snprintf(path, sizeof path, "%s", name) >= (int)sizeof path)
                return -ENAMETOOLONG;
        while ((slash = strchr(c, '/'))) {
                struct stat st;
                int next;

                *slash = '\0';
                next = open_beneath(dfd >= 0 ? dfd : rfd, c, O_RDONLY | O_DIRECTORY);
                if (next < 0)
                        return next;
                if (dfd >= 0)
                        close(dfd);
                dfd = next;
                if (fstat(dfd, &st) < 0)
                        return -errno;
                if (!shown(&st, adm))
                        return -EACCES;
                c = slash + 1;
        }
        return open_beneath(dfd >= 0 ? dfd : rfd, c, O_RDONLY | O_NONBLOCK | O_NOCTTY);
}

int logs_file_tail(const char *root, const char *name, unsigned lines, json_t **ret,
                   struct module_error *err) {
        _cleanup_close_ int rfd = -1, fd = -1;
        _cleanup_free_ char *b = NULL;
        struct stat st;
        size_t want, got = 0;
        off_t from;
        bool cut = false;
        json_t *out;
        gid_t adm;

        if (!logs_file_name_valid(name)) {
                module_error_set(err, 400, "invalid_argument", "name",
                                 "name: a path relative to /var/log without \"..\"");
                return -EINVAL;
        }
        if (lines < 1 || lines > LOGS_TAIL_LINES_MAX) {
                module_error_set(err, 400, "invalid_argument", "lines",
                                 "lines: a number from 1 to %u", LOGS_TAIL_LINES_MAX);
                return -EINVAL;
        }
        adm = adm_gid();
        rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fd = rfd < 0 ? -errno : open_shown(rfd, name, adm);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !shown(&st, adm) ||
            excluded(strrchr(name, '/') ? strrchr(name, '/') + 1 : name) || !looks_text(fd)) {
                module_error_set(err, 404, "not_found", "name",
                                 "no text log file \"%s\" under /var/log that log readers "
                                 "(others, or the group adm) may read",
                                 name);
                return -ENOENT;
        }
        want = st.st_size > (off_t)LOGS_TAIL_BYTES_MAX ? LOGS_TAIL_BYTES_MAX : (size_t)st.st_size;
        from = st.st_size - (off_t)want;
        b = malloc(want + 1);
        if (!b)
                return -ENOMEM;
        while (got < want) {
                ssize_t r = pread(fd, b + got, want - got, from + (off_t)got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        b[got] = '\0';
        out = json_pack("{s:s, s:I, s:o}", "name", name, "size", (json_int_t)st.st_size, "lines",
                        last_lines(b, got, lines, from == 0, &cut));
        if (out && cut)
                json_object_set_new(out, "truncated", json_true());
        *ret = out;
        return out ? 0 : -ENOMEM;
}
