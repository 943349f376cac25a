/* accounts.h — the grammars of local accounts, as pure functions (text in,
 * answers out) shared by the users and groups modules, their unit tests and
 * their fuzz targets.
 *
 * Nothing here touches the system: callers read the files and pass their
 * text.  Every check is strict and total: a value either matches the
 * grammar exactly or is refused, with a reason fit for the API's message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCOUNT_NAME_MAX 32 /* Debian's useradd limit */
#define GECOS_MAX        255
#define PASSWORD_MAX     256
#define HOME_MAX         255
#define SSH_KEY_LINE_MAX 16384
#define SSH_KEY_BLOB_MAX 12288
#define SSH_KEYS_MAX     256
#define SSH_KEY_FP_LEN   50 /* "SHA256:" + 43 unpadded base64 digits */
#define COLON_FIELDS_MAX 9

/* Debian's NAME_REGEX ^[a-z][-a-z0-9_]*\$?$ and at most 32 bytes. */
bool account_name_valid(const char *s);

/* A GECOS (full name) field: UTF-8, at most GECOS_MAX bytes, no ':', no
 * control characters (newlines included).  Empty is allowed. */
bool gecos_valid(const char *s);

/* A password for chpasswd: 1..PASSWORD_MAX bytes of UTF-8, no control
 * characters (chpasswd reads one line). */
bool password_valid(const char *s);

/* True if /etc/shells (text, len) lists shell exactly (comments and blank
 * lines ignored). */
bool shells_contains(const char *text, size_t len, const char *shell);

/* A home path by grammar alone: absolute, no empty, "." or ".." component,
 * no trailing '/', bytes from [A-Za-z0-9._-] between slashes, at most
 * HOME_MAX bytes, and strictly under one of roots (NULL-terminated, each
 * itself such a path). */
bool home_path_valid(const char *path, const char *const *roots);

/* What login.defs says of id ranges (defaults when absent: Debian's). */
struct login_defs {
        uint32_t uid_min, uid_max, gid_min, gid_max;
        uint32_t sys_uid_min, sys_uid_max, sys_gid_min, sys_gid_max;
};
void login_defs_default(struct login_defs *d);
/* Parses "KEY VALUE" lines; unknown keys and malformed values are ignored
 * (the tools ignore them too), ranges that make no sense are refused with
 * -EINVAL.  Decimal only. */
int login_defs_parse(const char *text, size_t len, struct login_defs *ret);

/* One line of a colon file (passwd, group, shadow, gshadow): up to
 * COLON_FIELDS_MAX fields as views into the line.  -EINVAL when the line
 * has more fields than max or fewer than min. */
struct colon_line {
        const char *f[COLON_FIELDS_MAX];
        size_t len[COLON_FIELDS_MAX];
        size_t n;
};
int colon_split(const char *line, size_t len, size_t min, size_t max, struct colon_line *ret);
/* A numeric field (decimal, no sign, fits 32 bits): 0 or -EINVAL; empty is
 * -ENODATA. */
int colon_u32(const struct colon_line *l, size_t i, uint32_t *ret);
/* Iterates lines: *pos advances past the line returned in (ret_line,
 * ret_len), without its '\n'.  false at the end. */
bool text_next_line(const char *text, size_t len, size_t *pos, const char **ret_line,
                    size_t *ret_len);

/* An authorized_keys line without options: "TYPE BASE64 [COMMENT]".  TYPE
 * is a known public key type, BASE64 decodes (strictly, with padding) to a
 * blob that starts with the same type name as an SSH string, COMMENT is
 * printable UTF-8.  On success *ret is the normalised line
 * ("TYPE BASE64 COMMENT" with single spaces), malloc'ed; on failure why
 * says what is wrong. */
int ssh_key_parse(const char *line, char **ret, const char **why);
/* The key's fingerprint as ssh-keygen -l prints it (SHA256: and unpadded
 * base64) into ret; line is a key that ssh_key_parse accepts. */
int ssh_key_fingerprint(const char *line, char ret[SSH_KEY_FP_LEN + 1]);

/* The password field of a shadow or gshadow line with any hash replaced by
 * "[redacted]" (a leading '!' kept): for anything shown or logged.  Text in,
 * malloc'ed text out; lines that are not shadow lines are kept as they are. */
int shadow_redact(const char *text, size_t len, char **ret);

/* ---- /etc/passwd and /etc/group as glibc's files service reads them -------- */

/* The grammar of nss_files (glibc's files-parse.c), so that reading the
 * files directly yields exactly the entries getpwent() would: a line ends
 * at '\n' or a NUL byte; leading white space is skipped; blank lines and
 * lines starting with '#' are skipped; numeric fields are read as strtoul
 * reads them (clamped to 32 bits), and a line whose uid or gid is not a
 * number is skipped; the last field takes the rest of the line.  A name
 * starting with '+' or '-' (compat syntax) may have empty numbers (0) or
 * stop after the name (the other fields NULL).
 *
 * Both parse text in place (text[len] must be writable and is where a last
 * line without '\n' ends): *pos advances past the entry; false at the end.
 * Strings are views into text. */
struct files_pwent {
        char *name, *passwd, *gecos, *dir, *shell;
        uint32_t uid, gid;
};
bool files_next_pwent(char *text, size_t len, size_t *pos, struct files_pwent *ret);

struct files_grent {
        char *name, *passwd;
        uint32_t gid;
        char *members; /* the raw list: split it with files_next_member() */
};
bool files_next_grent(char *text, size_t len, size_t *pos, struct files_grent *ret);
/* The next member name of a raw list (leading white space skipped, empty
 * names dropped), cut in place; NULL at the end. */
char *files_next_member(char **list);

/* The services of a database ("passwd", "group") in nsswitch.conf's text,
 * when its line is plain: only service names, no "[STATUS=action]" items,
 * found exactly once.  Fills names[0..*ret_n) and returns 0; -ENOENT when
 * the line is missing, -EINVAL when it is not plain (the caller then
 * leaves it to NSS). */
#define NSS_SERVICES_MAX     8
#define NSS_SERVICE_NAME_MAX 31
int nsswitch_services(const char *text, size_t len, const char *db,
                      char names[NSS_SERVICES_MAX][NSS_SERVICE_NAME_MAX + 1], size_t *ret_n);
