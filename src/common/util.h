/* util.h — small shared helpers: cleanup attributes, checked number parsing,
 * bounded growable buffers, file reading with a cap, atomic file writes.
 *
 * Conventions (see STYLE.md): functions return >= 0 on success and -errno on
 * failure, write out-parameters only on success, and never log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f)  __attribute__((cleanup(f)))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) {
        free(*(void **)p);
}
static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_free_  _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Moves ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp = (p);                                                           \
                (p) = NULL;                                                                        \
                _tp;                                                                               \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tf = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _tf;                                                                               \
        })

#define STREQ(a, b) (strcmp((a), (b)) == 0)

/* Strict decimal parsing: the whole string, no sign for unsigned, no leading
 * '+', no surrounding space, range-checked.  -EINVAL or -ERANGE. */
int safe_atou64(const char *s, uint64_t *ret);
/* The one grammar of a flag in a query (docs/api.md): a bare key (value
 * NULL), "1" or "true" is true; "0" or "false" is false; anything else is
 * -EINVAL.  Absent and repeated are the caller's to tell apart. */
int flag_parse(const char *v, bool *ret);
int safe_atoi64(const char *s, int64_t *ret);
/* A TCP/UDP port written as n bytes of s: digits only, no leading zero,
 * 1..65535; -EINVAL otherwise. */
int port_parse(const char *s, size_t n, uint16_t *ret);
int safe_atou(const char *s, unsigned *ret);
/* Same on a length-delimited view. */
int safe_atoi64_n(const char *s, size_t n, int64_t *ret);

/* A growable byte buffer with a hard maximum.  Always NUL-terminated. */
struct buf {
        char *data;
        size_t len, cap, max;
};
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n); /* -E2BIG past max */
/* Room for n more bytes and the NUL, for a writer that fills data + len
 * itself (then sets len and the NUL): -E2BIG past max. */
int buf_reserve(struct buf *b, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Gives the data away (malloc'ed, NUL-terminated) and resets the buffer. */
char *buf_steal(struct buf *b);

/* Reads a whole file of at most max bytes (-EFBIG past it). */
int read_fd(int fd, size_t max, char **ret, size_t *ret_len);
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Closes every descriptor from 3 up for which keep(fd, data) is false
 * (listed from /proc/self/fd first, then closed).  Returns 0, or -errno
 * (-EMFILE past 4,096 descriptors) with nothing closed. */
int fds_close_except(bool (*keep)(int fd, void *data), void *data);

/* Opens name under dirfd (or AT_FDCWD) without blocking — a FIFO or a
 * device put where a file is expected can never hold the caller — with
 * extra_flags added (O_NOFOLLOW, say), checks on the descriptor itself that
 * it is a regular file of at most max bytes, and reads it whole.  Errors:
 * -errno of the open, -EINVAL not a regular file, -EFBIG over max.
 * ret_st (may be NULL) gets the file's fstat. */
int read_regular_at(int dirfd, const char *name, int extra_flags, size_t max, char **ret,
                    size_t *ret_len, struct stat *ret_st);
/* pread()s a whole small file from an already open descriptor, from offset 0. */
int pread_all(int fd, char *dst, size_t cap, size_t *ret_len);

/* Writes path atomically: a temp file in the same directory, fsync, rename,
 * fsync of the directory.  mode is applied to the new file. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Whether the address text addr (IPv4 or IPv6, optionally "[v6]") lies in the
 * network "ADDR/PREFIX" (or a single "ADDR").  Returns 1 or 0; -EINVAL when
 * the network is malformed (addr may be NULL to only check that). */
int network_contains(const char *network, const char *addr);

/* Constant-time comparison of two equal-length byte strings. */
bool memeq_consttime(const void *a, const void *b, size_t n);

/* Fills p with n bytes from getrandom(). */
int random_bytes(void *p, size_t n);
/* n random bytes as 2n lowercase hex chars into a malloc'ed string. */
int random_hex(size_t n, char **ret);

/* Lowercase hex of n bytes into dst (2n+1 bytes). */
void hex_encode(const uint8_t *p, size_t n, char *dst);

/* Monotonic and real clocks in microseconds. */
uint64_t now_usec(void);
uint64_t realtime_usec(void);

/* Length of the one valid UTF-8 character at p (n >= 1 bytes available): no
 * overlong forms, no surrogates, nothing past U+10FFFF; 0 if invalid. */
size_t utf8_char_len(const unsigned char *p, size_t n);

/* Valid UTF-8 with no NUL byte. */
bool utf8_valid(const char *s, size_t n);

/* A DNS name per RFC 1123: labels of [A-Za-z0-9-], 1..63 bytes each, not
 * starting or ending with '-', separated by single dots, 1..max bytes in
 * all (a host name, an NTP server's name). */
bool dns_name_valid(const char *s, size_t max);
/* The same with options: DNS_NAME_FINAL_DOT also takes the root's dot at
 * the end ("example.org.", not counted in max); DNS_NAME_UNDERSCORE also
 * takes '_' in labels ("_sip._tcp.example.org", as DNS records are named). */
enum {
        DNS_NAME_FINAL_DOT = 1u << 0,
        DNS_NAME_UNDERSCORE = 1u << 1,
};
bool dns_name_valid_opts(const char *s, size_t max, unsigned flags);

/* An absolute path of [A-Za-z0-9._-] components, none empty, "." or "..",
 * without a trailing '/', not "/" itself; n is strlen(s).  Such a path needs
 * no canonicalisation and cannot climb out of where it names. */
bool path_plain_absolute(const char *s, size_t n);
/* Replaces, in place, every byte that is not part of valid UTF-8 with '?' and
 * control characters with ' ', so that text quoting a peer's bytes (possibly
 * cut in the middle of a character) can go into JSON and logs. */
void utf8_sanitize(char *s);
