/* store.c — the client's own files, in $XDG_CONFIG_HOME/steward, or
 * ~/.config/steward (~ is $HOME):
 *
 *   known_hosts   "HOST:PORT SHA256:<64 hex>": the certificate trusted for
 *                 each server, recorded on first use, as ssh does;
 *   sessions      "HOST:PORT TOKEN EXPIRES_AT": the session of the last
 *                 `steward login` to each server (EXPIRES_AT in unix
 *                 seconds, 0 when the server gave none).
 *
 * A host is named by its key as cli.where spells it: the host in lowercase,
 * IPv6 addresses in brackets, and always the port.
 *
 * Invariants.  The directory is 0700 and the files 0600, owned by the user;
 * a file that someone else owns or can write is not used, since it could
 * plant a pin or a session, and neither is a sessions file that others can
 * read.  Every change is a read-modify-write made under
 * an exclusive flock() on the directory and written to a temporary file
 * renamed over the old one, so concurrent runs do not lose each other's
 * lines and a crash leaves the old file or the new one, never a mix.  Lines
 * this code does not understand (comments, hand edits, damage) are kept as
 * they are and never match; line numbers count every line, as an editor
 * does, so that a message can say which line to remove.  Texts that held
 * session tokens are wiped before they are freed.
 *
 * Every function here prints its own message on failure, naming the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define STORE_FILE_MAX ((size_t)1024 * 1024)
#define FIELDS_MAX     4

struct view {
        const char *p;
        size_t n;
};

/* The directory, or -ENOENT when neither $XDG_CONFIG_HOME nor $HOME is set
 * to an absolute path. */
static int config_dir(char **ret) {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        int r;

        char *d;

        if (xdg && xdg[0] == '/')
                r = asprintf(&d, "%s/steward", xdg);
        else if (home && home[0] == '/')
                r = asprintf(&d, "%s/.config/steward", home);
        else
                return -ENOENT;
        if (r < 0)
                return -ENOMEM;
        *ret = d;
        return 0;
}

static int store_path(const char *name, char **ret) {
        _cleanup_free_ char *dir = NULL;
        char *p;
        int r;

        r = config_dir(&dir);
        if (r < 0)
                return r;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int store_display_path(const char *name, char **ret) {
        _cleanup_free_ char *path = NULL;
        const char *home = getenv("HOME");
        char *shown;
        size_t n;
        int r;

        r = store_path(name, &path);
        if (r == -ENOENT) {
                if (asprintf(&shown, "~/.config/steward/%s", name) < 0)
                        return -ENOMEM;
                *ret = shown;
                return 0;
        }
        if (r < 0)
                return r;
        n = home ? strlen(home) : 0;
        while (n > 1 && home[n - 1] == '/')
                n--;
        if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/') {
                if (asprintf(&shown, "~%s", path + n) < 0)
                        return -ENOMEM;
                *ret = shown;
                return 0;
        }
        *ret = TAKE_PTR(path);
        return 0;
}

static void print_store_error(const char *what, const char *name, int r) {
        _cleanup_free_ char *shown = NULL;

        (void)store_display_path(name, &shown);
        fprintf(stderr, "steward: cannot %s %s: %s\n", what, shown ? shown : name, strerror(-r));
}

/* mkdir -p, 0700 for what it creates; the last component must end up a
 * directory of ours that nobody else can enter. */
static int ensure_dir(const char *dir) {
        _cleanup_free_ char *copy = strdup(dir);
        struct stat st;

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (st.st_uid != geteuid())
                return -EPERM;
        if ((st.st_mode & 077) != 0 && chmod(dir, 0700) < 0)
                return -errno;
        return 0;
}

/* An exclusive lock on the directory, for a read-modify-write. */
static int lock_dir(const char *dir, int *ret_fd) {
        _cleanup_close_ int fd = -1;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno == ENOLCK || errno == EOPNOTSUPP)
                        break; /* a file system without locks: go on unlocked */
                return -errno;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Reads one of the files: -ENOENT (quietly) when it does not exist.  One
 * allocation of the file's size: the text may hold tokens, and a buffer
 * grown by realloc() would leave copies behind.  The files are only ever
 * replaced by rename, so the size of the open file does not change. */
static int read_store_file(const char *name, char **ret, size_t *ret_len) {
        /* Sessions are secrets; known_hosts only needs to be safe from edits. */
        mode_t forbidden = STREQ(name, "sessions") ? 077 : 022;
        _cleanup_free_ char *path = NULL, *shown = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len = 0;
        char *text;
        int r;

        r = store_path(name, &path);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                if (r != -ENOENT)
                        print_store_error("read", name, r);
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                print_store_error("read", name, r);
                return r;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & forbidden) != 0) {
                (void)store_display_path(name, &shown);
                fprintf(stderr,
                        "steward: not using %s: it must be a file of yours that only you can "
                        "%s (chmod 600 %s)\n",
                        shown ? shown : name, forbidden & 044 ? "read or write" : "write",
                        shown ? shown : name);
                return -EPERM;
        }
        if (st.st_size < 0 || (uint64_t)st.st_size > STORE_FILE_MAX) {
                print_store_error("read", name, -EFBIG);
                return -EFBIG;
        }

        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, text + len, (size_t)st.st_size - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        explicit_bzero(text, len);
                        free(text);
                        print_store_error("read", name, r);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        text[len] = '\0';
        *ret = text;
        *ret_len = len;
        return 0;
}

static void free_wiped(char *s, size_t len) {
        if (!s)
                return;
        explicit_bzero(s, len);
        free(s);
}

/* Iterates over the lines of text: line numbers from 1, without the '\n'. */
struct line_iter {
        const char *p, *end;
        unsigned no;
};

static bool next_line(struct line_iter *it, struct view *ret) {
        const char *nl;

        if (it->p >= it->end)
                return false;
        nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
        ret->p = it->p;
        ret->n = nl ? (size_t)(nl - it->p) : (size_t)(it->end - it->p);
        it->p = nl ? nl + 1 : it->end;
        it->no++;
        return true;
}

/* Splits a line at spaces and tabs; returns the number of fields, at most
 * FIELDS_MAX (more are not counted).  0 for a blank line or a comment. */
static size_t split_fields(struct view line, struct view f[FIELDS_MAX]) {
        size_t n = 0, i = 0;

        while (i < line.n && (line.p[i] == ' ' || line.p[i] == '\t' || line.p[i] == '\r'))
                i++;
        if (i < line.n && line.p[i] == '#')
                return 0;
        while (i < line.n && n < FIELDS_MAX) {
                size_t start = i;

                while (i < line.n && line.p[i] != ' ' && line.p[i] != '\t' && line.p[i] != '\r')
                        i++;
                f[n++] = (struct view){line.p + start, i - start};
                while (i < line.n && (line.p[i] == ' ' || line.p[i] == '\t' || line.p[i] == '\r'))
                        i++;
        }
        return n;
}

static bool view_is(struct view v, const char *key) {
        return v.n == strlen(key) && strncasecmp(v.p, key, v.n) == 0;
}

static int parse_pin(struct view v, uint8_t pin[32]) {
        char s[FINGERPRINT_STRLEN + 32];

        if (v.n >= sizeof s)
                return -EINVAL;
        memcpy(s, v.p, v.n);
        s[v.n] = '\0';
        return fingerprint_parse(s, pin);
}

/* The first well-formed line for key. */
static bool find_known(const char *text, size_t len, const char *key, uint8_t pin[32],
                       unsigned *ret_line) {
        struct line_iter it = {text, text + len, 0};
        struct view line, f[FIELDS_MAX];

        while (next_line(&it, &line))
                if (split_fields(line, f) == 2 && view_is(f[0], key) && parse_pin(f[1], pin) == 0) {
                        *ret_line = it.no;
                        return true;
                }
        return false;
}

int known_hosts_find(const char *key, bool *ret_found, uint8_t ret_pin[32], unsigned *ret_line) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        uint8_t pin[32];
        unsigned line = 0;
        int r;

        r = read_store_file("known_hosts", &text, &len);
        if (r == -ENOENT) {
                *ret_found = false;
                return 0;
        }
        if (r < 0)
                return r;
        if (!find_known(text, len, key, pin, &line)) {
                *ret_found = false;
                return 0;
        }
        memcpy(ret_pin, pin, 32);
        *ret_line = line;
        *ret_found = true;
        return 0;
}

/* Prepares a change: the directory exists and is locked, and the current
 * text is read (NULL and 0 when the file does not exist yet). */
static int begin_change(const char *name, int *ret_lock, char **ret_text, size_t *ret_len) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lock = -1;
        char *text = NULL;
        size_t len = 0;
        int r;

        r = config_dir(&dir);
        if (r == -ENOENT) {
                fprintf(stderr, "steward: cannot save the %s file: $HOME is not set\n", name);
                return -EIO;
        }
        if (r < 0)
                return r;
        r = ensure_dir(dir);
        if (r < 0) {
                fprintf(stderr, "steward: cannot use the directory %s: %s\n", dir,
                        r == -EPERM ? "it belongs to another user" : strerror(-r));
                return -EIO;
        }
        r = lock_dir(dir, &lock);
        if (r < 0) {
                fprintf(stderr, "steward: cannot lock %s: %s\n", dir, strerror(-r));
                return -EIO;
        }
        r = read_store_file(name, &text, &len);
        if (r < 0 && r != -ENOENT)
                return r == -ENOMEM ? r : -EIO;
        *ret_lock = TAKE_FD(lock);
        *ret_text = text;
        *ret_len = len;
        return 0;
}

static int commit_change(const char *name, const char *text, size_t len) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = store_path(name, &path);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, len, 0600);
        if (r < 0) {
                print_store_error("write", name, r);
                return r == -ENOMEM ? r : -EIO;
        }
        return 0;
}

int known_hosts_add(const char *key, const uint8_t pin[32], unsigned *ret_line) {
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *text = NULL;
        char fp[FINGERPRINT_STRLEN];
        uint8_t existing[32];
        unsigned line = 0;
        struct line_iter it;
        struct view v;
        struct buf b;
        size_t len = 0;
        int r;

        r = begin_change("known_hosts", &lock, &text, &len);
        if (r < 0)
                return r;

        /* Another run may have recorded it meanwhile: that line stands. */
        if (text && find_known(text, len, key, existing, &line)) {
                if (!memeq_consttime(existing, pin, sizeof existing))
                        return -EEXIST;
                *ret_line = line;
                return 0;
        }

        it = (struct line_iter){text, text + len, 0};
        while (next_line(&it, &v))
                ;
        fingerprint_format(pin, fp);
        buf_init(&b, STORE_FILE_MAX + 256);
        r = buf_append(&b, text ? text : "", len);
        if (r >= 0 && len > 0 && text[len - 1] != '\n')
                r = buf_puts(&b, "\n");
        if (r >= 0)
                r = buf_printf(&b, "%s %s\n", key, fp);
        if (r >= 0)
                r = commit_change("known_hosts", b.data, b.len);
        else if (r != -ENOMEM) {
                print_store_error("write", "known_hosts", -EFBIG);
                r = -EIO;
        }
        buf_free(&b);
        if (r < 0)
                return r;
        *ret_line = it.no + 1;
        return 0;
}

int session_find(const char *key, char **ret_token, int64_t *ret_expires_at) {
        char *text = NULL;
        size_t len = 0;
        struct line_iter it;
        struct view line, f[FIELDS_MAX];
        int r;

        r = read_store_file("sessions", &text, &len);
        if (r == -ENOENT) {
                *ret_token = NULL;
                return 0;
        }
        if (r < 0)
                return r;

        it = (struct line_iter){text, text + len, 0};
        while (next_line(&it, &line)) {
                _cleanup_free_ char *token = NULL;
                int64_t expires;

                if (split_fields(line, f) != 3 || !view_is(f[0], key) || f[1].n > TOKEN_MAX ||
                    safe_atoi64_n(f[2].p, f[2].n, &expires) < 0 || expires < 0)
                        continue;
                token = strndup(f[1].p, f[1].n);
                if (!token) {
                        free_wiped(text, len);
                        return -ENOMEM;
                }
                if (!token_chars_ok(token)) {
                        explicit_bzero(token, f[1].n);
                        continue;
                }
                free_wiped(text, len);
                *ret_token = TAKE_PTR(token);
                *ret_expires_at = expires;
                return 0;
        }
        free_wiped(text, len);
        *ret_token = NULL;
        return 0;
}

/* Writes text without the lines for key into dst, then (if token) the new
 * line.  dst (cap bytes) must hold len + 1 + the new line + 1 bytes. */
static size_t rewrite_sessions(const char *text, size_t len, const char *key, const char *token,
                               int64_t expires_at, char *dst, size_t cap, bool *ret_removed) {
        struct line_iter it = {text, text + len, 0};
        struct view line, f[FIELDS_MAX];
        size_t out = 0;

        *ret_removed = false;
        while (next_line(&it, &line)) {
                if (split_fields(line, f) >= 1 && view_is(f[0], key)) {
                        *ret_removed = true;
                        continue;
                }
                memcpy(dst + out, line.p, line.n);
                out += line.n;
                dst[out++] = '\n';
        }
        if (token) {
                int n = snprintf(dst + out, cap - out, "%s %s %lld\n", key, token,
                                 (long long)expires_at);

                if (n > 0 && (size_t)n < cap - out)
                        out += (size_t)n;
        }
        dst[out] = '\0';
        return out;
}

static int change_sessions(const char *key, const char *token, int64_t expires_at,
                           bool *ret_removed) {
        _cleanup_close_ int lock = -1;
        char *text = NULL, *out;
        size_t len = 0, cap, out_len;
        bool removed = false;
        int r;

        r = begin_change("sessions", &lock, &text, &len);
        if (r < 0)
                return r;

        /* The old text, a newline it may lack, the new line (the key is at
         * most a host name and a port), NUL. */
        cap = len + 1 + (token ? strlen(key) + strlen(token) + 32 : 0) + 1;
        out = malloc(cap);
        if (!out) {
                free_wiped(text, len);
                return -ENOMEM;
        }
        out_len =
                rewrite_sessions(text ? text : "", len, key, token, expires_at, out, cap, &removed);
        if (token || removed)
                r = commit_change("sessions", out, out_len);

        free_wiped(out, cap);
        free_wiped(text, len);
        if (r < 0)
                return r;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

/* A fan-out's logins (store_batch_begin): the sessions wait here and are
 * written by store_batch_end() in one locked update, not one each (each is
 * an fsync'ed rewrite of the file). */
struct pending_session {
        char *key, *token;
        int64_t expires_at;
};
static struct {
        bool on;
        struct pending_session *v;
        size_t n, cap;
} batch;

void store_batch_begin(void) {
        batch.on = true;
}

static void batch_free(void) {
        for (size_t i = 0; i < batch.n; i++) {
                free(batch.v[i].key);
                free_wiped(batch.v[i].token, strlen(batch.v[i].token));
        }
        free(batch.v);
        batch.v = NULL;
        batch.n = batch.cap = 0;
}

static int batch_add(const char *key, const char *token, int64_t expires_at) {
        struct pending_session p = {strdup(key), strdup(token), expires_at};

        if (batch.n == batch.cap) {
                size_t cap = batch.cap ? batch.cap * 2 : 16;
                struct pending_session *v = reallocarray(batch.v, cap, sizeof *v);

                if (!v)
                        goto oom;
                batch.v = v;
                batch.cap = cap;
        }
        if (!p.key || !p.token)
                goto oom;
        batch.v[batch.n++] = p;
        return 0;
oom:
        free(p.key);
        if (p.token)
                free_wiped(p.token, strlen(p.token));
        return -ENOMEM;
}

int store_batch_end(void) {
        _cleanup_close_ int lock = -1;
        char *text = NULL, *cur, *out;
        size_t len = 0, cur_len;
        bool removed;
        int r;

        batch.on = false;
        if (batch.n == 0)
                return 0;
        r = begin_change("sessions", &lock, &text, &len);
        if (r < 0) {
                batch_free();
                return r;
        }
        cur = text;
        cur_len = len;
        for (size_t i = 0; i < batch.n && r >= 0; i++) {
                size_t cap = cur_len + 1 + strlen(batch.v[i].key) + strlen(batch.v[i].token) +
                             32 + 1;

                out = malloc(cap);
                if (!out) {
                        r = -ENOMEM;
                        break;
                }
                cur_len = rewrite_sessions(cur ? cur : "", cur ? strlen(cur) : 0, batch.v[i].key,
                                           batch.v[i].token, batch.v[i].expires_at, out, cap,
                                           &removed);
                if (cur)
                        free_wiped(cur, strlen(cur));
                cur = out;
        }
        if (r >= 0)
                r = commit_change("sessions", cur, cur_len);
        if (cur)
                free_wiped(cur, strlen(cur));
        batch_free();
        return r;
}

int session_save(const char *key, const char *token, int64_t expires_at) {
        if (batch.on)
                return batch_add(key, token, expires_at);
        return change_sessions(key, token, expires_at, NULL);
}

int session_remove(const char *key, bool *ret_removed) {
        return change_sessions(key, NULL, 0, ret_removed);
}

bool token_chars_ok(const char *t) {
        size_t n = strlen(t);

        if (n == 0 || n > TOKEN_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
                        return false;
        return true;
}

int store_read(const char *name, char **ret, size_t *ret_len) {
        int r = read_store_file(name, ret, ret_len);

        if (r == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        return r;
}

int store_replace(const char *name, const char *text, size_t len) {
        _cleanup_close_ int lock = -1;
        char *old = NULL;
        size_t old_len = 0;
        int r;

        r = begin_change(name, &lock, &old, &old_len);
        if (r < 0)
                return r;
        free_wiped(old, old_len);
        return commit_change(name, text, len);
}
