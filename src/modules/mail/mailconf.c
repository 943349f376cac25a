/* mailconf.c — reading Postfix's and Dovecot's configuration as the servers
 * read it, and the grammars of the values Steward writes (mailconf.h).
 *
 * The readers run in the front (settings_read) and in the helper alike:
 * they only read files, never run a tool.  Every file is capped at
 * MAILCONF_FILE_MAX and Dovecot's includes at MAILCONF_INCLUDE_MAX levels,
 * so a configuration that includes itself ends.
 *
 * The grammars are narrower than what Postfix and Dovecot accept: a value
 * Steward writes is one a reader of main.cf understands at a glance, and
 * nothing in it can start an option, a lookup table Steward does not know,
 * or a second line. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "modules/mail/mailconf.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- main.cf --------------------------------------------------------------------- */

static void trim_end(char *s) {
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                s[--n] = '\0';
}

/* One logical line "key = value" into params. */
static int maincf_line(char *line, json_t *params) {
        char *eq = strchr(line, '='), *k = line, *v;
        size_t kn;

        if (!eq)
                return 0; /* Postfix warns and ignores it */
        *eq = '\0';
        trim_end(k);
        kn = strlen(k);
        if (kn == 0 || kn > 100 ||
            strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_") != kn)
                return 0;
        v = eq + 1;
        v += strspn(v, " \t");
        trim_end(v);
        return json_object_set_new(params, k, json_string(v)) < 0 ? -ENOMEM : 0;
}

int maincf_parse(const char *text, json_t **ret) {
        _cleanup_json_ json_t *params = json_object();
        struct buf logical;
        const char *p = text;
        int r = 0;

        if (!params)
                return -ENOMEM;
        buf_init(&logical, MAILCONF_FILE_MAX);
        while (*p && r >= 0) {
                size_t n = strcspn(p, "\n");
                const char *first = p + strspn(p, " \t\r");
                bool blank = first >= p + n || *first == '#';
                bool cont = p[0] == ' ' || p[0] == '\t';

                if (!blank) {
                        if (!cont && logical.len > 0) {
                                r = buf_append(&logical, "", 1);
                                if (r >= 0)
                                        r = maincf_line(logical.data, params);
                                logical.len = 0;
                        }
                        if (r >= 0 && cont && logical.len > 0)
                                r = buf_append(&logical, " ", 1);
                        if (r >= 0 && (!cont || logical.len > 0))
                                r = buf_append(&logical, first, (size_t)(p + n - first));
                }
                p += n + (p[n] == '\n');
        }
        if (r >= 0 && logical.len > 0) {
                r = buf_append(&logical, "", 1);
                if (r >= 0)
                        r = maincf_line(logical.data, params);
        }
        buf_free(&logical);
        if (r < 0)
                return r;
        *ret = json_incref(params);
        return 0;
}

json_t *postfix_list(const char *value) {
        json_t *a = json_array();
        const char *p = value ? value : "";

        while (a && *p) {
                size_t n;
                p += strspn(p, ", \t\r\n");
                n = strcspn(p, ", \t\r\n");
                if (n > 0 && json_array_append_new(a, json_stringn(p, n)) < 0) {
                        json_decref(a);
                        return NULL;
                }
                p += n;
        }
        return a;
}

/* ---- master.cf ----------------------------------------------------------------- */

static bool line_is(const char *line, size_t n, const char *text) {
        size_t t = strlen(text);
        return n >= t && memcmp(line, text, t) == 0;
}

/* Whether the line (n bytes) defines service as an inet service. */
static bool service_line(const char *line, size_t n, const char *service) {
        const char *port = STREQ(service, "submission") ? "587" : "465";
        size_t w = strcspn(line, " \t\n");
        const char *rest;

        if (w >= n)
                return false;
        if (!((w == strlen(service) && memcmp(line, service, w) == 0) ||
              (w == 3 && memcmp(line, port, 3) == 0) ||
              (STREQ(service, "smtps") && w == 11 && memcmp(line, "submissions", 11) == 0)))
                return false;
        rest = line + w;
        rest += strspn(rest, " \t");
        return strncmp(rest, "inet", 4) == 0 && (rest[4] == ' ' || rest[4] == '\t');
}

bool master_service_on(const char *text, const char *service, bool *in_block) {
        bool inside = false, on = false;

        if (in_block)
                *in_block = false;
        for (const char *p = text ? text : ""; *p;) {
                size_t n = strcspn(p, "\n");
                if (line_is(p, n, MASTER_BLOCK_BEGIN))
                        inside = true;
                else if (line_is(p, n, MASTER_BLOCK_END))
                        inside = false;
                else if (service_line(p, n, service)) {
                        on = true;
                        if (in_block && inside)
                                *in_block = true;
                }
                p += n + (p[n] == '\n');
        }
        return on;
}

/* The -o overrides both services share: Dovecot's SASL, relaying for
 * authenticated clients only. */
#define SASL_OVERRIDES                                                                             \
        "  -o smtpd_sasl_auth_enable=yes\n"                                                        \
        "  -o smtpd_sasl_type=dovecot\n"                                                           \
        "  -o smtpd_sasl_path=private/auth\n"                                                      \
        "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"                        \
        "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"                         \
        "  -o milter_macro_daemon_name=ORIGINATING\n"

static const char submission_block[] =
        "submission inet n       -       n       -       -       smtpd\n"
        "  -o syslog_name=postfix/submission\n"
        "  -o smtpd_tls_security_level=encrypt\n"
        "  -o smtpd_tls_auth_only=yes\n" SASL_OVERRIDES;

static const char smtps_block[] = "smtps     inet  n       -       n       -       -       smtpd\n"
                                  "  -o syslog_name=postfix/smtps\n"
                                  "  -o smtpd_tls_wrappermode=yes\n"
                                  "  -o smtpd_tls_security_level=encrypt\n" SASL_OVERRIDES;

char *master_with_block(const char *text, bool submission, bool smtps) {
        struct buf b;
        bool inside = false, placed = false;

        buf_init(&b, MAILCONF_FILE_MAX + 4096);
        for (const char *p = text ? text : ""; *p;) {
                size_t n = strcspn(p, "\n");
                bool begin = line_is(p, n, MASTER_BLOCK_BEGIN);

                if (begin || (inside && line_is(p, n, MASTER_BLOCK_END))) {
                        inside = begin;
                        if (begin && !placed && (submission || smtps)) {
                                buf_printf(&b, "%s\n%s%s%s\n", MASTER_BLOCK_BEGIN,
                                           submission ? submission_block : "",
                                           smtps ? smtps_block : "", MASTER_BLOCK_END);
                        }
                        placed = placed || begin;
                } else if (!inside) {
                        buf_append(&b, p, n);
                        buf_append(&b, "\n", 1);
                }
                p += n + (p[n] == '\n');
        }
        if (!placed && (submission || smtps)) {
                if (b.len > 0 && b.data[b.len - 1] != '\n')
                        buf_append(&b, "\n", 1);
                buf_printf(&b, "%s\n%s%s%s\n", MASTER_BLOCK_BEGIN,
                           submission ? submission_block : "", smtps ? smtps_block : "",
                           MASTER_BLOCK_END);
        }
        if (buf_append(&b, "", 1) < 0) {
                buf_free(&b);
                return NULL;
        }
        return buf_steal(&b);
}

/* ---- Dovecot ------------------------------------------------------------------- */

static bool key_wanted(const char *const *keys, const char *k) {
        for (size_t i = 0; keys[i]; i++)
                if (STREQ(keys[i], k))
                        return true;
        return false;
}

/* The value with "$key" of a wanted key replaced by what it is now. */
static int expand(const char *v, const char *const *keys, json_t *values, json_t **ret) {
        struct buf b;

        buf_init(&b, 64 * 1024);
        for (const char *p = v; *p;) {
                if (*p == '$') {
                        size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_");
                        char name[80];
                        snprintf(name, sizeof name, "%.*s", (int)(n < 79 ? n : 79), p + 1);
                        if (n > 0 && key_wanted(keys, name)) {
                                json_t *cur = json_object_get(values, name);
                                if (json_is_string(cur))
                                        buf_puts(&b, json_string_value(cur));
                                else if (json_is_integer(cur))
                                        buf_printf(&b, "%" JSON_INTEGER_FORMAT,
                                                   json_integer_value(cur));
                                p += n + 1;
                                continue;
                        }
                }
                buf_append(&b, p, 1);
                p++;
        }
        if (buf_append(&b, "", 1) < 0) {
                buf_free(&b);
                return -E2BIG;
        }
        *ret = json_string(b.data);
        buf_free(&b);
        return *ret ? 0 : -ENOMEM;
}

/* One "key = value" line at the top level. */
static int dovecot_setting(char *line, const char *const *keys, json_t *values) {
        char *eq = strchr(line, '='), *v;
        json_t *x = NULL;
        size_t n;

        if (!eq)
                return 0;
        *eq = '\0';
        trim_end(line);
        if (!key_wanted(keys, line))
                return 0;
        v = eq + 1;
        v += strspn(v, " \t");
        trim_end(v);
        n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v[n - 1] = '\0';
                v++;
        }
        if (expand(v, keys, values, &x) < 0)
                return -ENOMEM;
        return json_object_set_new(values, line, x) < 0 ? -ENOMEM : 0;
}

/* A line without its comment ('#' outside quotes) and surrounding blanks. */
static char *strip_line(char *line) {
        bool quoted = false;

        for (char *c = line; *c; c++) {
                if (*c == '"')
                        quoted = !quoted;
                else if (*c == '#' && !quoted) {
                        *c = '\0';
                        break;
                }
        }
        trim_end(line);
        return line + strspn(line, " \t");
}

static int dovecot_file(const char *path, const char *const *keys, json_t *values, int level,
                        int *depth);

static int dovecot_include(const char *base, char *arg, bool try_only, const char *const *keys,
                           json_t *values, int level, int *depth) {
        char pattern[8200], dir[4096];
        glob_t g = {0};
        int r = 0, gr;

        if (arg[0] == '"') {
                arg++;
                arg[strcspn(arg, "\"")] = '\0';
        }
        snprintf(dir, sizeof dir, "%s", base);
        *(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
        if (arg[0] == '/')
                snprintf(pattern, sizeof pattern, "%s", arg);
        else
                snprintf(pattern, sizeof pattern, "%s/%s", dir, arg);
        gr = glob(pattern, 0, NULL, &g);
        if (gr == GLOB_NOMATCH)
                return try_only || strpbrk(arg, "*?[") ? 0 : -ENOENT;
        if (gr != 0)
                return -EIO;
        for (size_t i = 0; i < g.gl_pathc && r >= 0; i++) {
                r = dovecot_file(g.gl_pathv[i], keys, values, level + 1, depth);
                if (r == -ENOENT || (try_only && r == -EACCES))
                        r = 0;
        }
        globfree(&g);
        return r;
}

static int dovecot_text(const char *path, char *text, const char *const *keys, json_t *values,
                        int level, int *depth) {
        char *save = NULL;
        int r = 0;

        for (char *line = strtok_r(text, "\n", &save); line && r >= 0;
             line = strtok_r(NULL, "\n", &save)) {
                char *s = strip_line(line);
                size_t n = strlen(s);

                if (n == 0)
                        continue;
                if (path &&
                    (strncmp(s, "!include_try ", 13) == 0 || strncmp(s, "!include ", 9) == 0)) {
                        bool try_only = s[8] == '_';
                        char *arg = s + (try_only ? 13 : 9);
                        arg += strspn(arg, " \t");
                        r = dovecot_include(path, arg, try_only, keys, values, level, depth);
                        continue;
                }
                if (s[n - 1] == '{') {
                        (*depth)++;
                        continue;
                }
                if (s[0] == '}') {
                        if (*depth > 0)
                                (*depth)--;
                        continue;
                }
                if (*depth == 0)
                        r = dovecot_setting(s, keys, values);
        }
        return r;
}

static int dovecot_file(const char *path, const char *const *keys, json_t *values, int level,
                        int *depth) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (level > MAILCONF_INCLUDE_MAX)
                return -ELOOP;
        r = read_file(path, MAILCONF_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        return dovecot_text(path, text, keys, values, level, depth);
}

int dovecot_read(const char *path, const char *const *keys, json_t *values) {
        int depth = 0;
        return dovecot_file(path, keys, values, 0, &depth);
}

int dovecot_parse_text(const char *text, const char *const *keys, json_t *values) {
        _cleanup_free_ char *copy = strdup(text ? text : "");
        int depth = 0;

        return copy ? dovecot_text(NULL, copy, keys, values, 0, &depth) : -ENOMEM;
}

/* ---- grammars -------------------------------------------------------------------- */

static bool printable_ascii(const char *s, const char *forbidden) {
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e || strchr(forbidden, *c))
                        return false;
        return true;
}

/* A label of a host name, or a $parameter standing for one or more. */
static bool label_valid(const char *s, size_t n) {
        if (n == 0 || n > 63)
                return false;
        if (s[0] == '$') {
                if (n > 2 && s[1] == '{' && s[n - 1] == '}') {
                        s++;
                        n -= 2;
                }
                for (size_t i = 1; i < n; i++)
                        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
                            s[i] != '_')
                                return false;
                return n > 1;
        }
        if (s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool mail_domain_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        for (const char *p = s;;) {
                size_t l = strcspn(p, ".");
                if (!label_valid(p, l))
                        return false;
                if (!p[l])
                        return true;
                p += l + 1;
        }
}

bool mail_origin_valid(const char *s) {
        return mail_domain_valid(s) || (s[0] == '/' && path_plain_absolute(s, strlen(s)));
}

static bool ip_valid(const char *s, size_t n, int family) {
        char a[64];
        unsigned char bin[16];

        if (n == 0 || n >= sizeof a)
                return false;
        memcpy(a, s, n);
        a[n] = '\0';
        return inet_pton(family, a, bin) == 1;
}

static bool port_valid(const char *s) {
        unsigned port;
        return s[0] != '0' && safe_atou(s, &port) == 0 && port >= 1 && port <= 65535;
}

bool mail_relayhost_valid(const char *s) {
        const char *host = s, *end, *colon;
        size_t n;

        if (!*s)
                return true;
        if (s[0] == '[') {
                host = s + 1;
                end = strchr(host, ']');
                if (!end)
                        return false;
                n = (size_t)(end - host);
                if (n > 5 && strncmp(host, "ipv6:", 5) == 0) {
                        if (!ip_valid(host + 5, n - 5, AF_INET6))
                                return false;
                } else if (!ip_valid(host, n, AF_INET)) {
                        char name[256];
                        if (n >= sizeof name)
                                return false;
                        snprintf(name, sizeof name, "%.*s", (int)n, host);
                        if (!dns_name_valid(name, 253))
                                return false;
                }
                end++;
                return !*end || (*end == ':' && port_valid(end + 1));
        }
        colon = strchr(s, ':');
        n = colon ? (size_t)(colon - s) : strlen(s);
        {
                char name[256];
                if (n >= sizeof name)
                        return false;
                snprintf(name, sizeof name, "%.*s", (int)n, s);
                if (!dns_name_valid(name, 253) && !ip_valid(s, n, AF_INET))
                        return false;
        }
        return !colon || port_valid(colon + 1);
}

bool mail_network_valid(const char *s) {
        const char *slash = strchr(s, '/'), *addr = s;
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        unsigned char bin[16];
        unsigned prefix, bits;
        int family = AF_INET;
        char a[64];

        if (s[0] == '[') {
                if (n < 3 || s[n - 1] != ']')
                        return false;
                addr = s + 1;
                n -= 2;
                family = AF_INET6;
        }
        if (n == 0 || n >= sizeof a)
                return false;
        memcpy(a, addr, n);
        a[n] = '\0';
        if (inet_pton(family, a, bin) != 1)
                return false;
        bits = family == AF_INET ? 32 : 128;
        if (!slash)
                return true;
        if (!slash[1] || (slash[1] == '0' && slash[2]) || safe_atou(slash + 1, &prefix) < 0 ||
            prefix > bits)
                return false;
        for (unsigned i = prefix; i < bits; i++)
                if ((bin[i / 8] >> (7 - i % 8)) & 1)
                        return false; /* host bits set: Postfix refuses such a network */
        return true;
}

bool mail_interface_valid(const char *s) {
        size_t n = strlen(s);

        if (STREQ(s, "all") || STREQ(s, "loopback-only"))
                return true;
        if (s[0] == '[' && n > 2 && s[n - 1] == ']')
                return ip_valid(s + 1, n - 2, AF_INET6);
        return ip_valid(s, n, AF_INET) || ip_valid(s, n, AF_INET6) || dns_name_valid(s, 253);
}

/* The restrictions Steward writes: the ones an administrator of a small
 * mail server uses.  Those in takes_operand need the next item. */
static const char *const restrictions[] = {"permit",
                                           "reject",
                                           "defer",
                                           "warn_if_reject",
                                           "permit_mynetworks",
                                           "permit_sasl_authenticated",
                                           "permit_tls_clientcerts",
                                           "permit_auth_destination",
                                           "reject_unauth_destination",
                                           "defer_unauth_destination",
                                           "reject_unauth_pipelining",
                                           "reject_non_fqdn_recipient",
                                           "reject_non_fqdn_sender",
                                           "reject_non_fqdn_helo_hostname",
                                           "reject_invalid_helo_hostname",
                                           "reject_unknown_helo_hostname",
                                           "reject_unknown_recipient_domain",
                                           "reject_unknown_sender_domain",
                                           "reject_unknown_client_hostname",
                                           "reject_unknown_reverse_client_hostname",
                                           "reject_unlisted_recipient",
                                           "reject_unlisted_sender",
                                           "reject_unverified_recipient",
                                           "reject_unverified_sender",
                                           "reject_plaintext_session",
                                           "reject_multi_recipient_bounce",
                                           "reject_sender_login_mismatch",
                                           NULL};

static const char *const takes_operand[] = {
        "reject_rbl_client",      "reject_rhsbl_client",  "reject_rhsbl_sender",
        "reject_rhsbl_recipient", "reject_rhsbl_helo",    "reject_rhsbl_reverse_client",
        "check_client_access",    "check_sender_access",  "check_recipient_access",
        "check_helo_access",      "check_policy_service", NULL};

static bool in_list(const char *const *list, const char *s) {
        for (size_t i = 0; list[i]; i++)
                if (STREQ(list[i], s))
                        return true;
        return false;
}

/* A lookup table (type:/absolute/path) or a policy service. */
static bool table_valid(const char *s) {
        static const char *const types[] = {"hash:", "lmdb:",     "cdb:",    "cidr:", "regexp:",
                                            "pcre:", "texthash:", "inline:", NULL};
        if (strncmp(s, "unix:private/", 13) == 0)
                return label_valid(s + 13, strlen(s + 13));
        if (strncmp(s, "inet:", 5) == 0)
                return mail_relayhost_valid(s + 5) && strchr(s + 5, ':');
        for (size_t i = 0; types[i]; i++) {
                size_t n = strlen(types[i]);
                if (strncmp(s, types[i], n) == 0)
                        return path_plain_absolute(s + n, strlen(s + n));
        }
        return false;
}

bool mail_restriction_word_valid(const char *s) {
        return in_list(restrictions, s) || in_list(takes_operand, s) || table_valid(s) ||
               (strchr(s, '.') && mail_domain_valid(s));
}

const char *mail_restrictions_check(json_t *list) {
        bool operand = false;
        size_t i;
        json_t *x;

        json_array_foreach(list, i, x) {
                const char *s = json_string_value(x);
                if (!s)
                        return "";
                if (operand) {
                        if (!table_valid(s) && !(strchr(s, '.') && mail_domain_valid(s)))
                                return s;
                        operand = false;
                } else if (in_list(takes_operand, s))
                        operand = true;
                else if (!in_list(restrictions, s))
                        return s;
        }
        return operand ? json_string_value(json_array_get(list, json_array_size(list) - 1)) : NULL;
}

bool mail_delimiter_valid(const char *s) {
        return strlen(s) <= 8 && strspn(s, "+-=_.") == strlen(s);
}

bool mail_home_mailbox_valid(const char *s) {
        char abs[200];
        size_t n = strlen(s);

        if (n == 0)
                return true;
        if (s[0] == '/' || n > 128)
                return false;
        /* "Maildir/": a trailing '/' asks for maildir format. */
        snprintf(abs, sizeof abs, "/%.*s", (int)(s[n - 1] == '/' ? n - 1 : n), s);
        return path_plain_absolute(abs, strlen(abs));
}

bool mail_file_valid(const char *s) {
        return !*s || (s[0] == '/' && path_plain_absolute(s, strlen(s)));
}

bool mail_banner_valid(const char *s) {
        return strncmp(s, "$myhostname", 11) == 0 && (s[11] == '\0' || s[11] == ' ') &&
               printable_ascii(s, "");
}

bool mail_protocol_valid(const char *s) {
        return STREQ(s, "imap") || STREQ(s, "pop3") || STREQ(s, "lmtp");
}

bool mail_mechanism_valid(const char *s) {
        static const char *const mechs[] = {
                "plain",    "login",       "cram-md5", "digest-md5", "scram-sha-1", "scram-sha-256",
                "external", "oauthbearer", "xoauth2",  "gssapi",     "anonymous",   NULL};
        return in_list(mechs, s);
}

bool mail_location_valid(const char *s) {
        static const char *const formats[] = {"maildir:", "mbox:", "sdbox:", "mdbox:", NULL};

        if (!*s)
                return true;
        if (strlen(s) > 256 || !printable_ascii(s, " \"\\$#{}"))
                return false;
        for (size_t i = 0; formats[i]; i++)
                if (strncmp(s, formats[i], strlen(formats[i])) == 0)
                        return s[strlen(formats[i])] == '~' || s[strlen(formats[i])] == '/' ||
                               s[strlen(formats[i])] == '%';
        return false;
}

bool mail_greeting_valid(const char *s) {
        return *s && s[0] != ' ' && printable_ascii(s, "\"\\$");
}

/* ---- postconf -n ---------------------------------------------------------------- */

static const char *sget_or_empty(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k)) ?: "";
}

static int key_cmp(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *maincf_postconf_n(const char *text) {
        _cleanup_json_ json_t *p = NULL;
        _cleanup_free_ const char **keys = NULL;
        size_t n = 0;
        struct buf b;
        const char *k;
        json_t *v;

        if (maincf_parse(text ? text : "", &p) < 0)
                return NULL;
        keys = calloc(json_object_size(p) + 1, sizeof *keys);
        if (!keys)
                return NULL;
        json_object_foreach(p, k, v) keys[n++] = k;
        qsort(keys, n, sizeof *keys, key_cmp);
        buf_init(&b, MAILCONF_FILE_MAX + 4096);
        for (size_t i = 0; i < n; i++)
                buf_printf(&b, "%s =%s%s\n", keys[i], *sget_or_empty(p, keys[i]) ? " " : "",
                           sget_or_empty(p, keys[i]));
        if (buf_append(&b, "", 1) < 0) {
                buf_free(&b);
                return NULL;
        }
        return buf_steal(&b);
}
