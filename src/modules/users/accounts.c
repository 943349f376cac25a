/* accounts.c — see accounts.h.  Pure functions: no I/O, no globals. */
#include "modules/users/accounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gnutls/crypto.h>

#include "util.h"

bool account_name_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, ACCOUNT_NAME_MAX + 1);
        if (n == 0 || n > ACCOUNT_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
                        continue;
                if (c == '$' && i == n - 1)
                        continue;
                return false;
        }
        return true;
}

/* UTF-8 of at most max bytes without C0/C1 control characters or DEL. */
static bool text_printable(const char *s, size_t max) {
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, max + 1);
        if (n > max || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c == 0x7f)
                        return false;
                /* C1 controls: U+0080..U+009F are 0xC2 0x80..0x9F */
                if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0)
                        return false;
        }
        return true;
}

bool gecos_valid(const char *s) {
        return text_printable(s, GECOS_MAX) && !strchr(s, ':');
}

bool password_valid(const char *s) {
        return text_printable(s, PASSWORD_MAX) && s[0] != '\0';
}

bool text_next_line(const char *text, size_t len, size_t *pos, const char **ret_line,
                    size_t *ret_len) {
        const char *nl;

        if (*pos >= len)
                return false;
        *ret_line = text + *pos;
        nl = memchr(text + *pos, '\n', len - *pos);
        *ret_len = nl ? (size_t)(nl - (text + *pos)) : len - *pos;
        *pos += *ret_len + 1;
        return true;
}

bool shells_contains(const char *text, size_t len, const char *shell) {
        size_t pos = 0, n, sl;
        const char *line;

        if (!text || !shell || shell[0] != '/')
                return false;
        sl = strlen(shell);
        while (text_next_line(text, len, &pos, &line, &n)) {
                while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
                        n--;
                while (n > 0 && (*line == ' ' || *line == '\t')) {
                        line++;
                        n--;
                }
                if (n == sl && memcmp(line, shell, n) == 0)
                        return true;
        }
        return false;
}

/* Path grammar of accounts.h; n is strlen(path). */
static bool path_grammar(const char *path, size_t n) {
        return n <= HOME_MAX && path_plain_absolute(path, n);
}

bool home_path_valid(const char *path, const char *const *roots) {
        size_t n;

        if (!path || !roots)
                return false;
        n = strnlen(path, HOME_MAX + 1);
        if (!path_grammar(path, n))
                return false;
        for (size_t i = 0; roots[i]; i++) {
                size_t rn = strlen(roots[i]);
                if (!path_grammar(roots[i], rn))
                        continue;
                if (n > rn + 1 && memcmp(path, roots[i], rn) == 0 && path[rn] == '/')
                        return true;
        }
        return false;
}

void login_defs_default(struct login_defs *d) {
        *d = (struct login_defs){
                .uid_min = 1000,
                .uid_max = 60000,
                .gid_min = 1000,
                .gid_max = 60000,
                .sys_uid_min = 100,
                .sys_uid_max = 999,
                .sys_gid_min = 100,
                .sys_gid_max = 999,
        };
}

int login_defs_parse(const char *text, size_t len, struct login_defs *ret) {
        static const struct {
                const char *key;
                size_t off;
        } keys[] = {
                {"UID_MIN", offsetof(struct login_defs, uid_min)},
                {"UID_MAX", offsetof(struct login_defs, uid_max)},
                {"GID_MIN", offsetof(struct login_defs, gid_min)},
                {"GID_MAX", offsetof(struct login_defs, gid_max)},
                {"SYS_UID_MIN", offsetof(struct login_defs, sys_uid_min)},
                {"SYS_UID_MAX", offsetof(struct login_defs, sys_uid_max)},
                {"SYS_GID_MIN", offsetof(struct login_defs, sys_gid_min)},
                {"SYS_GID_MAX", offsetof(struct login_defs, sys_gid_max)},
        };
        struct login_defs d;
        size_t pos = 0, n;
        const char *line;

        login_defs_default(&d);
        while (text && text_next_line(text, len, &pos, &line, &n)) {
                size_t k = 0, v, ve;
                int64_t value;

                while (k < n && (line[k] == ' ' || line[k] == '\t'))
                        k++;
                if (k == n || line[k] == '#')
                        continue;
                v = k;
                while (v < n && line[v] != ' ' && line[v] != '\t')
                        v++;
                ve = v;
                while (ve < n && (line[ve] == ' ' || line[ve] == '\t'))
                        ve++;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        size_t kl = strlen(keys[i].key), e = n;
                        if (v - k != kl || memcmp(line + k, keys[i].key, kl) != 0)
                                continue;
                        while (e > ve &&
                               (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r'))
                                e--;
                        if (e == ve || safe_atoi64_n(line + ve, e - ve, &value) < 0 || value < 0 ||
                            value > UINT32_MAX - 1 || line[ve] == '+' || line[ve] == '-')
                                break;
                        *(uint32_t *)((char *)&d + keys[i].off) = (uint32_t)value;
                }
        }
        if (d.uid_min == 0 || d.uid_min > d.uid_max || d.gid_min == 0 || d.gid_min > d.gid_max ||
            d.sys_uid_min > d.sys_uid_max || d.sys_gid_min > d.sys_gid_max)
                return -EINVAL;
        *ret = d;
        return 0;
}

int colon_split(const char *line, size_t len, size_t min, size_t max, struct colon_line *ret) {
        struct colon_line l = {0};
        size_t start = 0;

        if (max > COLON_FIELDS_MAX || min > max)
                return -EINVAL;
        for (;;) {
                const char *c = start < len ? memchr(line + start, ':', len - start) : NULL;
                size_t end = c ? (size_t)(c - line) : len;
                if (l.n == max)
                        return -EINVAL;
                l.f[l.n] = line + start;
                l.len[l.n] = end - start;
                l.n++;
                if (!c)
                        break;
                start = end + 1;
        }
        if (l.n < min)
                return -EINVAL;
        *ret = l;
        return 0;
}

int colon_u32(const struct colon_line *l, size_t i, uint32_t *ret) {
        int64_t v;

        if (i >= l->n || l->len[i] == 0)
                return -ENODATA;
        if (l->len[i] > 10)
                return -EINVAL;
        v = 0;
        for (size_t k = 0; k < l->len[i]; k++) {
                if (l->f[i][k] < '0' || l->f[i][k] > '9')
                        return -EINVAL;
                v = v * 10 + (l->f[i][k] - '0');
        }
        if (v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

/* ---- SSH keys ---------------------------------------------------------------- */

static const char *const key_types[] = {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
};

static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Strict base64 with padding into dst (cap bytes); -EINVAL if malformed. */
static int b64_decode(const char *s, size_t n, unsigned char *dst, size_t cap, size_t *ret_len) {
        size_t out = 0;

        if (n == 0 || n % 4 != 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i += 4) {
                int v[4];
                size_t pad = 0;
                for (size_t j = 0; j < 4; j++) {
                        if (s[i + j] == '=' && i + 4 == n && j >= 2) {
                                v[j] = 0;
                                pad++;
                                continue;
                        }
                        if (pad > 0 || (v[j] = b64_value(s[i + j])) < 0)
                                return -EINVAL;
                }
                uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                             (uint32_t)v[3];
                if (out + 3 - pad > cap)
                        return -EINVAL;
                dst[out++] = (unsigned char)(w >> 16);
                if (pad < 2)
                        dst[out++] = (unsigned char)(w >> 8);
                if (pad < 1)
                        dst[out++] = (unsigned char)w;
                /* Non-canonical padding bits. */
                if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
                        return -EINVAL;
        }
        *ret_len = out;
        return 0;
}

int ssh_key_parse(const char *line, char **ret, const char **why) {
        const char *p, *type, *b64, *comment = "";
        size_t n, tl, bl, cl = 0, blen;
        const char *type_name = NULL;
        unsigned char *blob = NULL;
        uint32_t slen;
        int r;

        *why = "not a key";
        if (!line)
                return -EINVAL;
        n = strnlen(line, SSH_KEY_LINE_MAX + 1);
        if (n > SSH_KEY_LINE_MAX) {
                *why = "the line is too long";
                return -EINVAL;
        }
        if (!utf8_valid(line, n)) {
                *why = "not UTF-8 text";
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
                        *why = "control characters (one key per string, no newlines)";
                        return -EINVAL;
                }
        p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        type = p;
        while (*p && *p != ' ' && *p != '\t')
                p++;
        tl = (size_t)(p - type);
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (strlen(key_types[i]) == tl && memcmp(type, key_types[i], tl) == 0)
                        type_name = key_types[i];
        if (!type_name) {
                *why = tl > 0 && memchr(type, '=', tl)
                               ? "options before the key type are not accepted"
                               : "unknown key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/"
                                 "521, sk-ssh-ed25519@openssh.com, "
                                 "sk-ecdsa-sha2-nistp256@openssh.com)";
                return -EINVAL;
        }
        while (*p == ' ' || *p == '\t')
                p++;
        b64 = p;
        while (*p && *p != ' ' && *p != '\t')
                p++;
        bl = (size_t)(p - b64);
        while (*p == ' ' || *p == '\t')
                p++;
        if (*p) {
                comment = p;
                cl = strlen(p);
                while (cl > 0 && (comment[cl - 1] == ' ' || comment[cl - 1] == '\t'))
                        cl--;
        }
        blob = malloc(SSH_KEY_BLOB_MAX);
        if (!blob)
                return -ENOMEM;
        r = b64_decode(b64, bl, blob, SSH_KEY_BLOB_MAX, &blen);
        if (r < 0) {
                *why = "the key data is not valid base64";
                goto out;
        }
        r = -EINVAL;
        if (blen < 4) {
                *why = "the key data is too short";
                goto out;
        }
        slen = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
        if (slen != tl || blen - 4 < slen || memcmp(blob + 4, type_name, tl) != 0) {
                *why = "the key data does not hold a key of the type named before it";
                goto out;
        }
        if (blen - 4 - slen < 4 + 1) {
                *why = "the key data holds no key";
                goto out;
        }
        if (asprintf(ret, "%s %.*s%s%.*s", type_name, (int)bl, b64, cl ? " " : "", (int)cl,
                     comment) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = 0;
out:
        free(blob);
        return r;
}

/* OpenSSH's fingerprint of a key line (ssh-keygen -l): "SHA256:" and the
 * unpadded base64 of the SHA-256 of the decoded key blob, the second field. */
int ssh_key_fingerprint(const char *line, char ret[SSH_KEY_FP_LEN + 1]) {
        static const char set[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p, *b64;
        unsigned char *blob, d[32];
        size_t bl, blen, o;
        int r;

        if (!line)
                return -EINVAL;
        p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        while (*p && *p != ' ' && *p != '\t')
                p++;
        while (*p == ' ' || *p == '\t')
                p++;
        b64 = p;
        while (*p && *p != ' ' && *p != '\t')
                p++;
        bl = (size_t)(p - b64);
        blob = malloc(SSH_KEY_BLOB_MAX);
        if (!blob)
                return -ENOMEM;
        r = b64_decode(b64, bl, blob, SSH_KEY_BLOB_MAX, &blen);
        if (r >= 0 && gnutls_hash_fast(GNUTLS_DIG_SHA256, blob, blen, d) < 0)
                r = -EIO;
        free(blob);
        if (r < 0)
                return r;
        memcpy(ret, "SHA256:", 7);
        o = 7;
        for (size_t i = 0; i < sizeof d; i += 3) {
                uint32_t w = (uint32_t)d[i] << 16;
                if (i + 1 < sizeof d)
                        w |= (uint32_t)d[i + 1] << 8;
                if (i + 2 < sizeof d)
                        w |= d[i + 2];
                ret[o++] = set[w >> 18 & 63];
                ret[o++] = set[w >> 12 & 63];
                if (i + 1 < sizeof d)
                        ret[o++] = set[w >> 6 & 63];
                if (i + 2 < sizeof d)
                        ret[o++] = set[w & 63];
        }
        ret[o] = '\0';
        return 0;
}

int shadow_redact(const char *text, size_t len, char **ret) {
        struct buf b;
        size_t pos = 0, n;
        const char *line;
        int r = 0;

        buf_init(&b, len + len / 2 + 64);
        while (r >= 0 && text_next_line(text, len, &pos, &line, &n)) {
                const char *c1 = memchr(line, ':', n), *c2;
                if (!c1) {
                        r = buf_append(&b, line, n);
                } else {
                        /* A line cut short still hides its second field. */
                        c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line));
                        if (!c2)
                                c2 = line + n;
                        const char *pw = c1 + 1;
                        size_t pl = (size_t)(c2 - pw), bang = 0;
                        while (bang < pl && pw[bang] == '!')
                                bang++;
                        /* "", "!", "*", "!*": no hash to hide. */
                        bool hash = pl - bang > 1 || (pl - bang == 1 && pw[bang] != '*');
                        r = buf_append(&b, line, (size_t)(pw - line));
                        if (r >= 0)
                                r = buf_append(&b, pw, hash ? bang : pl);
                        if (r >= 0 && hash)
                                r = buf_puts(&b, "[redacted]");
                        if (r >= 0)
                                r = buf_append(&b, c2, n - (size_t)(c2 - line));
                }
                if (r >= 0 && pos <= len)
                        r = buf_append(&b, "\n", 1);
        }
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- /etc/passwd and /etc/group as the files service reads them --------------- */

/* The next line the files service would parse, NUL-terminated in place
 * (at its '\n' or its first NUL byte), leading white space skipped. */
static char *files_next_line(char *text, size_t len, size_t *pos) {
        while (*pos < len) {
                char *line = text + *pos, *nl = memchr(line, '\n', len - *pos);
                size_t ll = nl ? (size_t)(nl - line) : len - *pos;

                *pos += ll + (nl ? 1 : 0);
                line[ll] = '\0';
                while (*line == ' ' || (*line >= '\t' && *line <= '\r'))
                        line++;
                if (*line != '\0' && *line != '#')
                        return line;
        }
        return NULL;
}

/* A field up to ':' (cut there) or to the end of the line. */
static char *files_field(char **line) {
        char *f = *line, *c = strchr(f, ':');

        if (c) {
                *c = '\0';
                *line = c + 1;
        } else
                *line = f + strlen(f);
        return f;
}

/* A number as glibc reads these (strtoul's grammar: white space, a sign,
 * decimal digits; a minus negates modulo 2^64): -EINVAL, with nothing
 * read, when there are no digits or the value does not fit 32 bits, which
 * is where glibc refuses the line. */
static int files_u32(char **line, uint32_t *ret) {
        const char *p = *line;
        uint64_t v = 0;
        bool neg = false, big = false;
        const char *digits;

        while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
                p++;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        for (digits = p; *p >= '0' && *p <= '9'; p++) {
                unsigned d = (unsigned)(*p - '0');
                /* v * 10 + d > UINT64_MAX, without a division per digit */
                if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
                        big = true;
                else
                        v = v * 10 + d;
        }
        if (p == digits || big)
                return -EINVAL;
        if (neg)
                v = -v;
        if (v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        *line += p - *line;
        return 0;
}

/* INT_FIELD of files-parse.c: a number then ':' or the end; with
 * maybe_empty (compat names), no digits reads as 0 but the line may not
 * end before it. */
static bool files_int_field(char **line, bool maybe_empty, uint32_t *ret) {
        if (maybe_empty && **line == '\0')
                return false;
        if (files_u32(line, ret) < 0) {
                if (!maybe_empty)
                        return false;
                *ret = 0;
        }
        if (**line == ':')
                (*line)++;
        else if (**line != '\0')
                return false;
        return true;
}

bool files_next_pwent(char *text, size_t len, size_t *pos, struct files_pwent *ret) {
        char *line;

        while ((line = files_next_line(text, len, pos))) {
                struct files_pwent e = {0};
                bool compat;

                e.name = files_field(&line);
                compat = e.name[0] == '+' || e.name[0] == '-';
                if (*line == '\0' && compat) {
                        *ret = e;
                        return true;
                }
                e.passwd = files_field(&line);
                if (!files_int_field(&line, compat, &e.uid) ||
                    !files_int_field(&line, compat, &e.gid))
                        continue;
                e.gecos = files_field(&line);
                e.dir = files_field(&line);
                e.shell = line;
                *ret = e;
                return true;
        }
        return false;
}

bool files_next_grent(char *text, size_t len, size_t *pos, struct files_grent *ret) {
        char *line;

        while ((line = files_next_line(text, len, pos))) {
                struct files_grent e = {0};
                bool compat;

                e.name = files_field(&line);
                compat = e.name[0] == '+' || e.name[0] == '-';
                if (!(*line == '\0' && compat)) {
                        e.passwd = files_field(&line);
                        if (!files_int_field(&line, compat, &e.gid))
                                continue;
                }
                e.members = line;
                *ret = e;
                return true;
        }
        return false;
}

char *files_next_member(char **list) {
        char *p = *list;

        while (*p) {
                char *m;
                while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
                        p++;
                m = p;
                while (*p && *p != ',')
                        p++;
                if (*p)
                        *p++ = '\0';
                if (*m) {
                        *list = p;
                        return m;
                }
        }
        *list = p;
        return NULL;
}

/* ---- nsswitch.conf ---------------------------------------------------------------- */

int nsswitch_services(const char *text, size_t len, const char *db,
                      char names[NSS_SERVICES_MAX][NSS_SERVICE_NAME_MAX + 1], size_t *ret_n) {
        size_t pos = 0, ll, dl = strlen(db), n = 0;
        const char *line;
        bool found = false, last = false;

        while (text && text_next_line(text, len, &pos, &line, &ll)) {
                const char *hash = memchr(line, '#', ll), *end;
                size_t i = 0;

                if (hash)
                        ll = (size_t)(hash - line);
                while (i < ll && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                        i++;
                if (last && i > 0 && i < ll)
                        return -EINVAL; /* what may be a continuation of our line */
                last = false;
                if (ll - i < dl || strncasecmp(line + i, db, dl) != 0)
                        continue;
                i += dl;
                while (i < ll && (line[i] == ' ' || line[i] == '\t'))
                        i++;
                if (i >= ll || line[i] != ':')
                        continue; /* another database whose name starts the same */
                if (found || strncmp(line + i - dl, db, dl) != 0)
                        return -EINVAL; /* twice, or not in lower case: leave it to NSS */
                found = last = true;
                for (i++, end = line + ll; line + i < end;) {
                        size_t s;
                        while (line + i < end &&
                               (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                                i++;
                        if (line + i >= end)
                                break;
                        for (s = i;
                             line + i < end && line[i] != ' ' && line[i] != '\t' && line[i] != '\r';
                             i++) {
                                char c = line[i];
                                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                      (c >= '0' && c <= '9') || c == '_' || c == '-'))
                                        return -EINVAL; /* "[NOTFOUND=return]" and the like */
                        }
                        if (n == NSS_SERVICES_MAX || i - s > NSS_SERVICE_NAME_MAX)
                                return -EINVAL;
                        memcpy(names[n], line + s, i - s);
                        names[n][i - s] = '\0';
                        n++;
                }
        }
        if (!found)
                return -ENOENT;
        if (n == 0)
                return -EINVAL;
        *ret_n = n;
        return 0;
}
