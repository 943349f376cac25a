/* files.c — see files.h.
 *
 * Paths are absolute, with no empty, "." or ".." component and no control
 * character, and valid UTF-8 (they go into JSON); the caller has already
 * checked them against its allowed roots.  Symlinks in the directories
 * above are followed, the final component never is: a symlink is a state
 * of its own, read with readlink and replaced, not written through.
 *
 * Everything below works on a descriptor of the parent directory and the
 * last component (fstatat, openat, renameat), so what was looked at is what
 * is changed; regular files are opened with O_NOFOLLOW and checked again
 * with fstat after opening, in case the name was swapped in between.
 *
 * Content is text: a regular file of at most FILE_STATE_MAX bytes, valid
 * UTF-8 without NUL bytes (else -EILSEQ), and a link target likewise.
 * Anything that is not a regular file, a symlink or absent (a directory, a
 * device, a FIFO, a socket) is refused with -EINVAL, for reading, writing
 * and removal alike.
 *
 * Writes go to a temp name in the same directory (".NAME.XXXXXXXXXXXXXXXX.tmp",
 * hidden and with a suffix that *.conf include globs do not match), get
 * their owner and mode before they are renamed over the old name, and the
 * directory is fsync'ed after the rename.  A failure removes the temp name
 * and leaves the old file as it was.  A write killed mid-way (kill -9, a
 * power cut) leaves its temp name behind; file_remove_stale_temps() takes
 * those away at the next start, recognising only our own two patterns. */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TMP_BASE_MAX 200 /* bytes of the name kept in a temp name */

/* Checks path and splits it into a malloc'ed parent directory and a pointer
 * to the last component inside path. */
static int path_split(const char *path, char **ret_dir, const char **ret_base) {
        const char *slash;
        size_t n, start = 1;
        char *dir;

        if (!path)
                return -EINVAL;
        n = strnlen(path, PATH_MAX);
        if (n == PATH_MAX)
                return -ENAMETOOLONG;
        if (n < 2 || path[0] != '/' || path[n - 1] == '/' || !utf8_valid(path, n))
                return -EINVAL;
        for (size_t i = 1; i <= n; i++) {
                if (i < n && path[i] != '/') {
                        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
                                return -EINVAL;
                        continue;
                }
                size_t len = i - start;
                if (len == 0 || (len == 1 && path[start] == '.') ||
                    (len == 2 && path[start] == '.' && path[start + 1] == '.'))
                        return -EINVAL;
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                start = i + 1;
        }
        slash = strrchr(path, '/');
        dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        *ret_dir = dir;
        *ret_base = slash + 1;
        return 0;
}

static int open_parent(const char *dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int file_state_read(const char *path, json_t **ret) {
        _cleanup_free_ char *dir = NULL, *content = NULL;
        _cleanup_close_ int dfd = -1;
        const char *base, *type;
        struct stat st;
        size_t len = 0;
        json_t *o;
        int r;

        if (!ret)
                return -EINVAL;
        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        dfd = open_parent(dir);
        if (dfd == -ENOENT)
                goto absent;
        if (dfd < 0)
                return dfd;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        goto absent;
                return -errno;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dfd, base, target, sizeof target);
                if (n < 0)
                        return -errno;
                if ((size_t)n >= sizeof target)
                        return -ENAMETOOLONG;
                content = strndup(target, (size_t)n);
                if (!content)
                        return -ENOMEM;
                len = (size_t)n;
                type = "symlink";
        } else if (S_ISREG(st.st_mode)) {
                r = read_regular_at(dfd, base, O_NOFOLLOW, FILE_STATE_MAX, &content, &len, NULL);
                if (r < 0)
                        return r;
                type = "file";
        } else
                return -EINVAL;
        if (!utf8_valid(content, len))
                return -EILSEQ;
        o = json_pack("{s:s, s:s, s:s%}", "path", path, "type", type, "content", content, len);
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;

absent:
        o = json_pack("{s:s, s:s, s:s}", "path", path, "type", "absent", "content", "");
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

static int tmp_name(const char *base, char **ret) {
        char *t;
        uint8_t raw[8];
        char rnd[17];
        size_t n = strlen(base);
        int r;

        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        hex_encode(raw, sizeof raw, rnd);
        if (asprintf(&t, ".%.*s.%s.tmp", (int)(n > TMP_BASE_MAX ? TMP_BASE_MAX : n), base, rnd) < 0)
                return -ENOMEM;
        *ret = t;
        return 0;
}

static int write_all(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The new regular file under tmp, with the old one's owner and mode when
 * there was a regular file (old != NULL), else ours and `mode`. */
static int make_file(int dfd, const char *tmp, const char *content, size_t len,
                     const struct stat *old, mode_t mode) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                    0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, content, len);
        if (r < 0)
                goto fail;
        if (old) {
                if (fstat(fd, &st) < 0 || ((st.st_uid != old->st_uid || st.st_gid != old->st_gid) &&
                                           fchown(fd, old->st_uid, old->st_gid) < 0)) {
                        r = -errno;
                        goto fail;
                }
                mode = old->st_mode & 07777;
        }
        /* After fchown, which clears the set-id bits. */
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(TAKE_FD(fd)) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void)unlinkat(dfd, tmp, 0);
        return r;
}

static int make_symlink(int dfd, const char *tmp, const char *content, size_t len,
                        const struct stat *old) {
        _cleanup_free_ char *target = NULL;

        if (len == 0 || memchr(content, '\0', len))
                return -EINVAL;
        if (len >= PATH_MAX)
                return -ENAMETOOLONG;
        target = strndup(content, len);
        if (!target)
                return -ENOMEM;
        if (symlinkat(target, dfd, tmp) < 0)
                return -errno;
        if (old && fchownat(dfd, tmp, old->st_uid, old->st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = -errno;
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

int file_state_write(const char *path, const char *type, const char *content, size_t len,
                     unsigned mode) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int dfd = -1;
        const char *base;
        struct stat st;
        bool exists = true, is_file, is_link;
        int r;

        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        if (!type)
                return -EINVAL;
        is_file = STREQ(type, "file");
        is_link = STREQ(type, "symlink");
        if (!is_file && !is_link && !STREQ(type, "absent"))
                return -EINVAL;
        if ((!content && len > 0) || (mode & ~07777u))
                return -EINVAL;
        if (len > FILE_STATE_MAX)
                return -EFBIG;
        if (!content)
                content = "";

        dfd = open_parent(dir);
        if (dfd == -ENOENT && !is_file && !is_link)
                return 0; /* no directory, so no file: already absent */
        if (dfd < 0)
                return dfd;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                exists = false;
        }
        if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
                return -EINVAL;

        if (!is_file && !is_link) {
                if (!exists)
                        return 0;
                if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
                        return -errno;
                return fsync(dfd) < 0 ? -errno : 0;
        }

        r = tmp_name(base, &tmp);
        if (r < 0)
                return r;
        if (is_file)
                r = make_file(dfd, tmp, content, len, exists && S_ISREG(st.st_mode) ? &st : NULL,
                              (mode_t)mode);
        else
                r = make_symlink(dfd, tmp, content, len,
                                 exists && S_ISLNK(st.st_mode) ? &st : NULL);
        if (r < 0)
                return r;
        if (renameat(dfd, tmp, dfd, base) < 0) {
                r = -errno;
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        return fsync(dfd) < 0 ? -errno : 0;
}

/* name is base + ".<16 lowercase hex>.tmp", optionally with a leading '.'. */
static bool is_our_temp(const char *name, const char *base) {
        size_t nb = strlen(base), n;

        if (name[0] == '.' && strncmp(name + 1, base, nb) == 0 && name[1 + nb] == '.')
                name++;
        else if (strncmp(name, base, nb) != 0 || name[nb] != '.')
                return false;
        name += nb + 1;
        n = strlen(name);
        if (n != 16 + 4 || !STREQ(name + 16, ".tmp"))
                return false;
        for (size_t i = 0; i < 16; i++)
                if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
                        return false;
        return true;
}

int file_remove_stale_temps(const char *path, void (*removed)(const char *dir, const char *name)) {
        _cleanup_free_ char *dir = NULL;
        const char *base;
        DIR *d;
        struct dirent *de;
        int dfd, r = 0, n = 0;

        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        if (strlen(base) > TMP_BASE_MAX)
                return 0;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                return r;
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (!is_our_temp(de->d_name, base))
                        continue;
                /* A file or a link of ours; never a directory or a device. */
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
                        continue;
                if (unlinkat(dfd, de->d_name, 0) < 0)
                        continue;
                n++;
                if (removed)
                        removed(dir, de->d_name);
        }
        closedir(d);
        return n;
}
