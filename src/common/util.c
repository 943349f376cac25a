/* util.c — see util.h.  Nothing here logs or aborts on bad input. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

int safe_atoi64_n(const char *s, size_t n, int64_t *ret) {
        bool neg = false;
        uint64_t v = 0, limit;
        size_t i = 0;

        if (n == 0)
                return -EINVAL;
        if (s[0] == '-') {
                neg = true;
                i = 1;
                if (n == 1)
                        return -EINVAL;
        }
        limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; i < n; i++) {
                unsigned d;
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                d = (unsigned)(s[i] - '0');
                if (v > (limit - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        return safe_atoi64_n(s, strlen(s), ret);
}

int flag_parse(const char *v, bool *ret) {
        if (!v || STREQ(v, "1") || STREQ(v, "true")) {
                *ret = true;
                return 0;
        }
        if (STREQ(v, "0") || STREQ(v, "false")) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

int safe_atou64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                unsigned d;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

void buf_init(struct buf *b, size_t max) {
        *b = (struct buf){.max = max};
}

void buf_free(struct buf *b) {
        free(b->data);
        *b = (struct buf){.max = b->max};
}

int buf_reserve(struct buf *b, size_t n) {
        size_t need;

        if (__builtin_add_overflow(b->len, n, &need) || need > b->max)
                return -E2BIG;
        if (need + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                char *d;
                while (cap < need + 1)
                        if (__builtin_mul_overflow(cap, 2, &cap))
                                return -E2BIG;
                d = realloc(b->data, cap);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->cap = cap;
        }
        return 0;
}

int buf_append(struct buf *b, const void *p, size_t n) {
        int r = buf_reserve(b, n);

        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int buf_puts(struct buf *b, const char *s) {
        return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...) {
        char small[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof small, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        if ((size_t)n < sizeof small)
                return buf_append(b, small, (size_t)n);

        _cleanup_free_ char *big = malloc((size_t)n + 1);
        if (!big)
                return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return buf_append(b, big, (size_t)n);
}

char *buf_steal(struct buf *b) {
        char *p = b->data;
        if (!p)
                p = strdup("");
        *b = (struct buf){.max = b->max};
        return p;
}

int port_parse(const char *s, size_t n, uint16_t *ret) {
        unsigned v = 0;

        if (n == 0 || n > 5 || s[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t)v;
        return 0;
}

int read_regular_at(int dirfd, const char *name, int extra_flags, size_t max, char **ret,
                    size_t *ret_len, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | extra_flags);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        if (ret_st)
                *ret_st = st;
        return read_fd(fd, max, ret, ret_len);
}

int read_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        struct stat st;
        struct buf b;
        char chunk[16384];
        int r;

        buf_init(&b, max);
        /* A regular file's size is known: one allocation, not a doubling. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (uint64_t)st.st_size <= max)
                (void)buf_reserve(&b, (size_t)st.st_size);
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        buf_free(&b);
                        return r;
                }
                if (n == 0)
                        break;
                r = buf_append(&b, chunk, (size_t)n);
                if (r < 0) {
                        buf_free(&b);
                        return r == -E2BIG ? -EFBIG : r;
                }
        }
        if (ret_len)
                *ret_len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_fd(fd, max, ret, ret_len);
}

int pread_all(int fd, char *dst, size_t cap, size_t *ret_len) {
        size_t len = 0;

        if (cap == 0)
                return -EINVAL;
        while (len < cap - 1) {
                ssize_t n = pread(fd, dst + len, cap - 1 - len, (off_t)len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len == cap - 1)
                return -EFBIG;
        dst[len] = '\0';
        *ret_len = len;
        return 0;
}

static int fsync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -1;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        char rnd[17];
        uint8_t raw[8];
        size_t done = 0;
        int r;

        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        hex_encode(raw, sizeof raw, rnd);
        if (asprintf(&tmp, "%s.%s.tmp", path, rnd) < 0)
                return -ENOMEM;

        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        while (done < len) {
                ssize_t n = write(fd, (const char *)data + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                done += (size_t)n;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        r = close(TAKE_FD(fd));
        if (r < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return fsync_parent(path);
fail:
        (void)unlink(tmp);
        return r;
}

static int parse_ip(const char *s, size_t n, uint8_t out[16], int *family) {
        char buf[INET6_ADDRSTRLEN + 2];

        if (n > 0 && s[0] == '[' && s[n - 1] == ']') {
                s++;
                n -= 2;
        }
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, out) == 1) {
                *family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, buf, out) == 1) {
                *family = AF_INET6;
                return 0;
        }
        return -EINVAL;
}

int network_contains(const char *network, const char *addr) {
        const char *slash = strchr(network, '/');
        uint8_t net[16], a[16];
        int nf, af, bits;
        unsigned prefix;

        if (parse_ip(network, slash ? (size_t)(slash - network) : strlen(network), net, &nf) < 0)
                return -EINVAL;
        bits = nf == AF_INET ? 32 : 128;
        if (!slash)
                prefix = (unsigned)bits;
        else if (safe_atou(slash + 1, &prefix) < 0 || prefix > (unsigned)bits ||
                 (slash[1] == '0' && slash[2]))
                return -EINVAL;
        if (!addr)
                return 0;
        if (parse_ip(addr, strlen(addr), a, &af) < 0)
                return 0;
        if (af == AF_INET6 && nf == AF_INET && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
                memmove(a, a + 12, 4); /* an IPv4-mapped address */
                af = AF_INET;
        }
        if (af != nf)
                return 0;
        for (unsigned i = 0; i < prefix; i++)
                if (((net[i / 8] ^ a[i / 8]) >> (7 - i % 8)) & 1)
                        return 0;
        return 1;
}

bool memeq_consttime(const void *a, const void *b, size_t n) {
        const volatile uint8_t *x = a, *y = b;
        uint8_t d = 0;
        for (size_t i = 0; i < n; i++)
                d |= x[i] ^ y[i];
        return d == 0;
}

int random_bytes(void *p, size_t n) {
        size_t got = 0;
        while (got < n) {
                ssize_t k = getrandom((uint8_t *)p + got, n - got, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)k;
        }
        return 0;
}

void hex_encode(const uint8_t *p, size_t n, char *dst) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                dst[2 * i] = hex[p[i] >> 4];
                dst[2 * i + 1] = hex[p[i] & 15];
        }
        dst[2 * n] = '\0';
}

int random_hex(size_t n, char **ret) {
        _cleanup_free_ uint8_t *raw = malloc(n ? n : 1);
        char *s = malloc(2 * n + 1);
        int r;

        if (!raw || !s) {
                free(s);
                return -ENOMEM;
        }
        r = random_bytes(raw, n);
        if (r < 0) {
                free(s);
                return r;
        }
        hex_encode(raw, n, s);
        *ret = s;
        return 0;
}

static uint64_t clock_usec(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_usec(void) {
        return clock_usec(CLOCK_MONOTONIC);
}

uint64_t realtime_usec(void) {
        return clock_usec(CLOCK_REALTIME);
}

size_t utf8_char_len(const unsigned char *p, size_t n) {
        unsigned c = p[0];
        size_t len;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t k = 1; k < len; k++) {
                if ((p[k] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool dns_name_valid(const char *s, size_t max) {
        return dns_name_valid_opts(s, max, 0);
}

bool dns_name_valid_opts(const char *s, size_t max, unsigned flags) {
        size_t n, label = 0;

        if (!s)
                return false;
        n = strnlen(s, max + 2);
        if ((flags & DNS_NAME_FINAL_DOT) && n > 1 && s[n - 1] == '.')
                n--; /* the root's dot */
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' ||
                           (c == '_' && (flags & DNS_NAME_UNDERSCORE))) {
                        if ((c == '-' && label == 0) || ++label > 63)
                                return false;
                } else
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
}

bool utf8_valid(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *)s;

        for (size_t i = 0; i < n;) {
                size_t k = p[i] ? utf8_char_len(p + i, n - i) : 0;
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

void utf8_sanitize(char *s) {
        unsigned char *p = (unsigned char *)s;
        size_t n = strlen(s);

        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_len(p + i, n - i);
                if (k == 0) {
                        p[i++] = '?';
                        continue;
                }
                if (k == 1 && p[i] < 0x20)
                        p[i] = ' ';
                i += k;
        }
}

bool path_plain_absolute(const char *s, size_t n) {
        size_t comp = 0;

        if (n < 2 || s[0] != '/' || s[n - 1] == '/')
                return false;
        for (size_t i = 1; i <= n; i++) {
                char c = i < n ? s[i] : '/';
                if (c == '/') {
                        const char *start = s + i - comp;
                        if (comp == 0 || (comp == 1 && start[0] == '.') ||
                            (comp == 2 && start[0] == '.' && start[1] == '.'))
                                return false;
                        comp = 0;
                } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
                        comp++;
                else
                        return false;
        }
        return true;
}

int fds_close_except(bool (*keep)(int fd, void *data), void *data) {
        int fds[4096];
        size_t n = 0;
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                int64_t v;
                if (de->d_name[0] == '.' || safe_atoi64(de->d_name, &v) < 0 || v < 3 ||
                    v > INT_MAX || v == dirfd(d))
                        continue;
                if (n == ELEMENTSOF(fds)) {
                        closedir(d);
                        return -EMFILE;
                }
                fds[n++] = (int)v;
        }
        closedir(d);
        for (size_t i = 0; i < n; i++)
                if (!keep(fds[i], data))
                        close(fds[i]);
        return 0;
}
