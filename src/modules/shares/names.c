/* names.c — the grammars of the shares module.  Everything a request carries
 * into Samba's or the NFS server's configuration is checked here against a
 * grammar narrower than the tools': a value that reads one way to us and
 * another to smbd (a newline, a trailing backslash that continues the line,
 * a '%' that smbd substitutes, a comma in an exports option list) never
 * reaches a file. */
#include "modules/shares/names.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static bool printable_text(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n > max || !utf8_valid(s, n))
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

bool share_name_valid(const char *s) {
        static const char *const reserved[] = {"global", "homes", "printers", "ipc$", "print$"};
        size_t n = strlen(s);

        if (n == 0 || !printable_text(s, SHARE_NAME_BYTES_MAX))
                return false;
        if (strpbrk(s, "[]/\\:*?\"<>|%,;=#") || isspace((unsigned char)s[0]) || s[0] == '-' ||
            isspace((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (strcasecmp(s, reserved[i]) == 0)
                        return false;
        return true;
}

bool share_comment_valid(const char *s) {
        size_t n = strlen(s);

        return printable_text(s, 255) && !strchr(s, '%') && (n == 0 || s[n - 1] != '\\');
}

bool account_name_valid_n(const char *s, size_t n) {
        if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
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

static bool account_name_valid(const char *s) {
        return account_name_valid_n(s, strlen(s));
}

/* A netgroup's name: letters, digits, '_', '.', '-', at most 64 bytes. */
static bool netgroup_valid(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_.-") == n;
}

bool share_principal_valid(const char *s) {
        return account_name_valid(s[0] == '@' ? s + 1 : s);
}

bool share_veto_valid(const char *s) {
        return *s && printable_text(s, 255) && !strpbrk(s, "/\\%\"") && s[0] != ' ' &&
               s[strlen(s) - 1] != ' ';
}

int share_size_parse(const char *s, uint64_t *ret) {
        static const char units[] = "KMGTP";
        uint64_t n = 0;
        size_t i = 0;
        const char *u;

        if (!isdigit((unsigned char)s[0]) || s[0] == '0')
                return -EINVAL;
        for (; isdigit((unsigned char)s[i]); i++) {
                if (i >= 6)
                        return -EINVAL;
                n = n * 10 + (uint64_t)(s[i] - '0');
        }
        if (!s[i] || s[i + 1] || !(u = strchr(units, s[i])))
                return -EINVAL;
        for (const char *k = units; k <= u; k++)
                n *= 1024;
        if (ret)
                *ret = n;
        return 0;
}

/* ---- NFS ----------------------------------------------------------------------- */

static bool ip_with_prefix(const char *s) {
        char a[INET6_ADDRSTRLEN + 8];
        unsigned char bin[16];
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        unsigned prefix;
        bool v6;

        if (n == 0 || n >= sizeof a)
                return false;
        memcpy(a, s, n);
        a[n] = '\0';
        v6 = strchr(a, ':') != NULL;
        if (inet_pton(v6 ? AF_INET6 : AF_INET, a, bin) != 1)
                return false;
        if (!slash)
                return true;
        if (!slash[1] || strlen(slash + 1) > 3 || safe_atou(slash + 1, &prefix) < 0 ||
            (slash[1] == '0' && slash[2]))
                return false;
        return prefix <= (v6 ? 128u : 32u);
}

bool nfs_host_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 255)
                return false;
        if (STREQ(s, "*"))
                return true;
        if (s[0] == '@')
                return netgroup_valid(s + 1);
        if (ip_with_prefix(s))
                return true;
        if (s[0] == '*' && s[1] == '.')
                return dns_name_valid(s + 2, 253);
        return !strchr(s, '/') && !strchr(s, ':') && dns_name_valid(s, 253);
}

static bool sec_valid(const char *v) {
        static const char *const flavors[] = {"sys", "krb5", "krb5i", "krb5p"};
        char copy[64];
        char *save = NULL;

        if (!*v || strlen(v) >= sizeof copy || v[strlen(v) - 1] == ':')
                return false;
        snprintf(copy, sizeof copy, "%s", v);
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(flavors); i++)
                        ok |= STREQ(t, flavors[i]);
                if (!ok)
                        return false;
        }
        return true;
}

bool nfs_option_valid(const char *s) {
        static const char *const words[] = {
                "ro",           "rw",         "sync",           "async",     "root_squash",
                "no_root_squash", "all_squash", "no_all_squash", "secure",    "insecure",
                "subtree_check", "no_subtree_check", "wdelay",   "no_wdelay", "hide",
                "nohide",       "crossmnt",   "no_acl",         "mp",
        };
        unsigned id;

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (STREQ(s, words[i]))
                        return true;
        if (!strncmp(s, "anonuid=", 8))
                return s[8] && safe_atou(s + 8, &id) >= 0 && id <= 65535 && isdigit((unsigned char)s[8]);
        if (!strncmp(s, "anongid=", 8))
                return s[8] && safe_atou(s + 8, &id) >= 0 && id <= 65535 && isdigit((unsigned char)s[8]);
        if (!strncmp(s, "sec=", 4))
                return sec_valid(s + 4);
        if (!strncmp(s, "fsid=", 5))
                return STREQ(s + 5, "root") || (isdigit((unsigned char)s[5]) &&
                                                safe_atou(s + 5, &id) >= 0);
        return false;
}

/* Two options that cannot both be set: the first word of each pair. */
const char *nfs_options_conflict(const char *const *opts, size_t n) {
        static const char *const pairs[][2] = {
                {"ro", "rw"},
                {"sync", "async"},
                {"root_squash", "no_root_squash"},
                {"all_squash", "no_all_squash"},
                {"secure", "insecure"},
                {"subtree_check", "no_subtree_check"},
                {"wdelay", "no_wdelay"},
                {"hide", "nohide"},
        };

        for (size_t p = 0; p < ELEMENTSOF(pairs); p++) {
                bool a = false, b = false;
                for (size_t i = 0; i < n; i++) {
                        a |= STREQ(opts[i], pairs[p][0]);
                        b |= STREQ(opts[i], pairs[p][1]);
                }
                if (a && b)
                        return pairs[p][0];
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++) {
                        const char *eq = strchr(opts[i], '=');
                        size_t k = eq ? (size_t)(eq - opts[i]) : strlen(opts[i]);
                        if (!strncmp(opts[i], opts[j], k) && (opts[j][k] == '=' || !opts[j][k]) &&
                            (eq || STREQ(opts[i], opts[j])))
                                return opts[i]; /* the same option twice */
                }
        return NULL;
}

bool netbios_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 15)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

bool server_string_valid(const char *s) {
        return share_comment_valid(s);
}

bool share_path_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 2 || n >= 4096 || s[0] != '/' || s[n - 1] == '/' || s[n - 1] == ' ' ||
            !printable_text(s, 4095) || strpbrk(s, "%\\\""))
                return false;
        /* No empty, "." or ".." component. */
        for (const char *c = s; c; c = strchr(c + 1, '/')) {
                const char *next = strchr(c + 1, '/');
                size_t len = next ? (size_t)(next - c - 1) : strlen(c + 1);
                if (len == 0 || (len == 1 && c[1] == '.') ||
                    (len == 2 && c[1] == '.' && c[2] == '.'))
                        return false;
        }
        return true;
}
