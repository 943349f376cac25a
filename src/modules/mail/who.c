/* who.c — who is connected to Dovecot (doveadm who), and kick.
 *
 * The list is `doveadm -f json who -1` (Dovecot 2.3: one object per session,
 * {"username", "service", "pid", "ip"}, every value a string; without -1 the
 * JSON formatter prints a broken array, so -1 it is), read in the helper:
 *   {"connections": [{"user", "service": "imap|pop3|…", "client", "pid"}…],
 *    "dovecot_running": bool}
 * doveadm reaches Dovecot through its anvil socket under /run/dovecot: when
 * Dovecot does not run (its master's pid file names no live process) the
 * list is empty and dovecot_running false, not an error.
 *
 * SMTP sessions are not listed: Postfix keeps no table of them (its anvil
 * counts connections per client, without names, and only under a rate
 * limit), and the other source, smtpd processes' established sockets under
 * /proc, names an address but never a user; see docs/api.md.
 *
 * kick {"user"} is `doveadm kick -- USER`: doveadm reads its argument as a
 * user mask ('*' and '?' match many users) or, when it parses as one, an
 * IP address or network; so the name must be a plain user name
 * (who_user_valid) and the answer counts that user's sessions listed just
 * before the kick.  A user with no session is a 404; doveadm exits 68
 * (EX_NOUSER, "no users kicked") when the last one ended in between, a 404
 * too. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "modules/change.h"
#include "modules/mail/mail.h"
#include "modules/mail/who.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define DOVEADM         "/usr/bin/doveadm"
#define WHO_OUTPUT_MAX  (8u << 20) /* ~100 bytes a session: 80,000 sessions */
#define CONNECTIONS_MAX 65536
#define USER_MAX        256
#define SERVICE_MAX     32
#define EX_NOUSER       68

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

bool who_user_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        unsigned char bin[sizeof(struct in6_addr)];

        if (n == 0 || n > USER_MAX || s[0] == '-' || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c == 0x7f || c == '*' || c == '?' || c == '/')
                        return false;
        }
        return inet_pton(AF_INET, s, bin) != 1 && inet_pton(AF_INET6, s, bin) != 1;
}

/* A decimal pid in 2..4194304 (Linux's pid_max limit). */
static json_int_t pid_of(const char *s) {
        int64_t pid;

        if (!s || strspn(s, "0123456789") != strlen(s) || safe_atoi64(s, &pid) < 0 || pid <= 1 ||
            pid > 4194304)
                return 0;
        return (json_int_t)pid;
}

int who_parse_doveadm(const char *text, size_t len, json_t *list, size_t max) {
        _cleanup_json_ json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        unsigned char bin[sizeof(struct in6_addr)];
        json_t *s;
        size_t i;

        if (!json_is_array(doc))
                return -EBADMSG;
        json_array_foreach(doc, i, s) {
                const char *user = sget(s, "username"), *service = sget(s, "service"),
                           *ip = sget(s, "ip");
                json_int_t pid = pid_of(sget(s, "pid"));
                bool addr = ip &&
                            (inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1);
                json_t *c;

                if (!user || !*user || strlen(user) > USER_MAX || !utf8_valid(user, strlen(user)) ||
                    pid == 0)
                        continue;
                if (!service || strlen(service) > SERVICE_MAX ||
                    strspn(service, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(service))
                        service = "";
                if (json_array_size(list) >= max)
                        return -E2BIG;
                /* A session over a unix socket (doveadm, a local imap) has
                 * no address: client is null. */
                c = json_pack("{s:s, s:s, s:s?, s:I}", "user", user, "service", service, "client",
                              addr ? ip : NULL, "pid", pid);
                if (!c || json_array_append_new(list, c) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The sessions Dovecot has now, appended to list; -ENOTCONN (err not set)
 * when Dovecot does not run. */
static int dovecot_sessions(json_t *list, struct module_error *err) {
        const char *argv[] = {DOVEADM, "-f", "json", "who", "-1", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[256] = "";
        size_t len = 0;
        int r;

        if (!mail_dovecot_installed() || !mail_dovecot_running())
                return -ENOTCONN;
        r = change_exec_output(argv, WHO_OUTPUT_MAX, &out, &len, msg, sizeof msg);
        if (r != 0 && !mail_dovecot_running())
                return -ENOTCONN; /* it stopped meanwhile */
        if (r != 0) {
                module_error_set(err, 502, "tool_failed", NULL, "doveadm who failed (%s): %s",
                                 r < 0 ? strerror(-r) : "exit status", msg);
                return r < 0 ? r : -EIO;
        }
        r = who_parse_doveadm(out, len, list, CONNECTIONS_MAX);
        if (r == -ENOMEM) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return r;
        }
        if (r < 0) {
                module_error_set(err, 502, "tool_failed", NULL,
                                 r == -E2BIG ? "doveadm who listed more than %d sessions"
                                             : "doveadm who printed no JSON array",
                                 CONNECTIONS_MAX);
                return r;
        }
        return 0;
}

int who_list(json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *list = json_array();
        int r;

        if (!list) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        r = dovecot_sessions(list, err);
        if (r < 0 && r != -ENOTCONN)
                return r;
        *ret = json_pack("{s:O, s:b}", "connections", list, "dovecot_running", r >= 0);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        return 0;
}

int who_kick(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err) {
        const char *user = sget(args, "user");
        _cleanup_json_ json_t *list = json_array();
        json_int_t n = 0;
        char msg[256] = "";
        json_t *c;
        size_t i;
        int r;

        (void)ctx;
        if (!who_user_valid(user)) {
                module_error_set(err, 422, "invalid_value", "user",
                                 "a user name: 1 to %d bytes, no control character, no leading "
                                 "'-', no '*', '?' or '/', not an address",
                                 USER_MAX);
                return -EINVAL;
        }
        if (!list) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        r = dovecot_sessions(list, err);
        if (r == -ENOTCONN) {
                module_error_set(err, 404, "not_found", "user",
                                 "Dovecot is not running: \"%.64s\" has no session", user);
                return r;
        }
        if (r < 0)
                return r;
        json_array_foreach(list, i, c) n += STREQ(sget(c, "user") ?: "", user);
        if (n > 0) {
                const char *argv[] = {DOVEADM, "kick", "--", user, NULL};
                r = change_exec(argv, NULL, msg, sizeof msg);
        }
        if (n == 0 || r == EX_NOUSER) {
                module_error_set(err, 404, "not_found", "user",
                                 "\"%.64s\" has no IMAP or POP3 session", user);
                return -ENOENT;
        }
        if (r != 0) {
                module_error_set(err, 502, "tool_failed", NULL, "doveadm kick failed (%s): %s",
                                 r < 0 ? strerror(-r) : "exit status", msg);
                return r < 0 ? r : -EIO;
        }
        *ret = json_pack("{s:s, s:I}", "user", user, "kicked", n);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        return 0;
}
