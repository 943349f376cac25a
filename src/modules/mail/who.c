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
 * SMTP sessions come from /proc, since Postfix keeps no table of them: a
 * Postfix smtpd process (its executable under a "postfix" directory)
 * serves one client at a time, on a socket accepted from the listening
 * socket master handed it; so each established TCP socket an smtpd holds
 * whose local port is that of a listening socket it also holds is a
 * client ("service" is the master.cf service, smtpd's -n NAME: smtp,
 * submission, smtps…; "user" is null: who logs in over SASL is not
 * visible there).  Its other TCP sockets (a policy server, a milter) have
 * ephemeral local ports and are not clients.  The TCP table is read once
 * per network namespace (/proc/PID/net/tcp and tcp6).  Only the smtpd
 * processes in the helper's own mount namespace count: they run on the
 * /etc/postfix and spool this daemon manages (a container's Postfix does
 * not).  kick ends Dovecot's sessions only.
 *
 * kick {"user"} is `doveadm kick -- USER`: doveadm reads its argument as a
 * user mask ('*' and '?' match many users) or, when it parses as one, an
 * IP address or network; so the name must be a plain user name
 * (who_user_valid) and the answer counts that user's sessions listed just
 * before the kick.  A user with no session is a 404; doveadm exits 68
 * (EX_NOUSER, "no users kicked") when the last one ended in between, a 404
 * too. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "modules/change.h"
#include "modules/mail/mail.h"
#include "modules/mail/who.h"
#include "procfs.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define DOVEADM         "/usr/bin/doveadm"
#define WHO_OUTPUT_MAX  (8u << 20) /* ~100 bytes a session: 80,000 sessions */
#define CONNECTIONS_MAX 65536
#define USER_MAX        256
#define SERVICE_MAX     32
#define EX_NOUSER       68
#define PROC_TCP_MAX    (32u << 20) /* ~150 bytes a socket */
#define SMTPD_SOCKETS   64          /* sockets of one smtpd looked at */
#define NETNS_MAX       8           /* network namespaces whose tables are read */

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

/* ---- SMTP sessions: Postfix's smtpd processes ------------------------------------- */

static int hex_words(const char *s, size_t n, uint32_t *words, size_t n_words) {
        if (n != n_words * 8)
                return -EBADMSG;
        for (size_t w = 0; w < n_words; w++) {
                uint32_t v = 0;
                for (size_t i = 0; i < 8; i++) {
                        char c = s[w * 8 + i];
                        int d = c >= '0' && c <= '9'   ? c - '0'
                                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                       : -1;
                        if (d < 0)
                                return -EBADMSG;
                        v = v << 4 | (uint32_t)d;
                }
                words[w] = v;
        }
        return 0;
}

/* "ADDR:PORT" of a table line: the address as the kernel's raw words (the
 * in-memory address read as native integers), the port in host order. */
static int tcp_endpoint(const char *s, size_t n, bool v6, uint32_t *addr, unsigned *port) {
        const char *colon = memchr(s, ':', n);
        uint32_t p;

        if (!colon || hex_words(s, (size_t)(colon - s), addr, v6 ? 4 : 1) < 0 ||
            s + n - colon - 1 != 4)
                return -EBADMSG;
        char four[8] = "0000";
        memcpy(four + 4, colon + 1, 4);
        if (hex_words(four, 8, &p, 1) < 0)
                return -EBADMSG;
        *port = p;
        return 0;
}

int who_parse_tcp_line(const char *line, size_t n, bool v6, struct who_tcp *ret) {
        const char *p = line, *end = line + n, *tok[10];
        size_t len[10], k = 0;
        uint32_t local[4], remote[4], st;
        unsigned lport, rport;
        struct who_tcp t = {0};

        while (k < 10 && tv_next_token(&p, end, &tok[k], &len[k]))
                k++;
        if (k < 10 || len[0] < 2 || tok[0][len[0] - 1] != ':' ||
            tcp_endpoint(tok[1], len[1], v6, local, &lport) < 0 ||
            tcp_endpoint(tok[2], len[2], v6, remote, &rport) < 0 || len[3] != 2)
                return -EBADMSG;
        char two[8] = "000000";
        memcpy(two + 6, tok[3], 2);
        if (hex_words(two, 8, &st, 1) < 0 || tv_to_u64(tok[9], len[9], &t.inode) < 0)
                return -EBADMSG;
        if (v6) {
                struct in6_addr a;
                memcpy(&a, remote, sizeof a);
                if (IN6_IS_ADDR_V4MAPPED(&a))
                        inet_ntop(AF_INET, &a.s6_addr[12], t.remote, sizeof t.remote);
                else
                        inet_ntop(AF_INET6, &a, t.remote, sizeof t.remote);
        } else {
                struct in_addr a = {.s_addr = remote[0]};
                inet_ntop(AF_INET, &a, t.remote, sizeof t.remote);
        }
        t.local_port = lport;
        t.state = st;
        *ret = t;
        return 0;
}

/* The TCP tables (v4 and v6) of one network namespace, read through a
 * process in it. */
struct tcp_table {
        char ns[64];
        char *text[2];
        size_t len[2];
};

static void tcp_tables_done(struct tcp_table *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(t[i].text[0]), free(t[i].text[1]);
}

/* The namespace a process is in ("net:[4026531840]"), kind "net" or
 * "mnt"; false when it cannot be read (the process has gone). */
static bool ns_of(const char *pid, const char *kind, char *ret, size_t len) {
        char path[300];
        ssize_t l;

        snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, kind);
        l = readlink(path, ret, len - 1);
        if (l <= 0)
                return false;
        ret[l] = '\0';
        return true;
}

static const struct tcp_table *tcp_table_of(const char *pid, struct tcp_table *tables, size_t *n) {
        char path[300], ns[64];

        if (!ns_of(pid, "net", ns, sizeof ns))
                return NULL;
        for (size_t i = 0; i < *n; i++)
                if (STREQ(tables[i].ns, ns))
                        return &tables[i];
        if (*n == NETNS_MAX)
                return NULL;
        struct tcp_table *t = &tables[(*n)++];
        snprintf(t->ns, sizeof t->ns, "%s", ns);
        for (int v6 = 0; v6 < 2; v6++) {
                snprintf(path, sizeof path, "/proc/%s/net/tcp%s", pid, v6 ? "6" : "");
                if (read_file(path, PROC_TCP_MAX, &t->text[v6], &t->len[v6]) < 0)
                        t->text[v6] = NULL, t->len[v6] = 0;
        }
        return t;
}

/* The socket inodes the process holds (at most SMTPD_SOCKETS). */
static size_t socket_inodes(const char *pid, uint64_t *inodes) {
        char path[300];
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof path, "/proc/%s/fd", pid);
        d = opendir(path);
        if (!d)
                return 0;
        while ((de = readdir(d)) && n < SMTPD_SOCKETS) {
                char link[64];
                ssize_t l;
                uint64_t ino;
                if (de->d_name[0] == '.')
                        continue;
                l = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
                if (l < 10 || strncmp(link, "socket:[", 8) != 0 || link[l - 1] != ']')
                        continue;
                if (tv_to_u64(link + 8, (size_t)l - 9, &ino) == 0)
                        inodes[n++] = ino;
        }
        closedir(d);
        return n;
}

/* Whether pid is Postfix's smtpd; its master.cf service name (-n NAME) in
 * service. */
static bool postfix_smtpd(const char *pid, char *service, size_t cap) {
        _cleanup_free_ char *cmd = NULL;
        char path[300], exe[256];
        size_t len = 0;
        ssize_t l;

        snprintf(path, sizeof path, "/proc/%s/exe", pid);
        l = readlink(path, exe, sizeof exe - 1);
        if (l <= 0)
                return false;
        exe[l] = '\0';
        if (!strstr(exe, "/postfix/") || strcmp(exe + (l >= 6 ? l - 6 : 0), "/smtpd") != 0)
                return false;
        snprintf(service, cap, "smtp");
        snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
        if (read_file(path, 4096, &cmd, &len) < 0)
                return true;
        for (size_t i = 0; i + 3 < len; i += strlen(cmd + i) + 1) {
                const char *v = cmd + i + 3;
                if (STREQ(cmd + i, "-n") && strlen(v) < cap && strlen(v) > 0 &&
                    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(v)) {
                        snprintf(service, cap, "%s", v);
                        break;
                }
        }
        return true;
}

static bool has(const uint64_t *v, size_t n, uint64_t x) {
        for (size_t i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

/* The clients of one smtpd: its established sockets on a port it listens on. */
static int smtpd_clients(const char *pid, const char *service, const struct tcp_table *t,
                         json_t *list) {
        uint64_t inodes[SMTPD_SOCKETS];
        unsigned listening[SMTPD_SOCKETS];
        struct who_tcp est[SMTPD_SOCKETS];
        size_t n = socket_inodes(pid, inodes), nl = 0, ne = 0;
        json_int_t p = pid_of(pid);

        for (int v6 = 0; v6 < 2 && n > 0; v6++) {
                const char *cur = t->text[v6], *end = cur + t->len[v6], *line;
                size_t len;
                while (cur && tv_next_line(&cur, end, &line, &len)) {
                        struct who_tcp w;
                        if (who_parse_tcp_line(line, len, v6, &w) < 0 || !has(inodes, n, w.inode))
                                continue;
                        if (w.state == 0x0A && nl < SMTPD_SOCKETS)
                                listening[nl++] = w.local_port;
                        else if (w.state == 0x01 && ne < SMTPD_SOCKETS)
                                est[ne++] = w;
                }
        }
        for (size_t i = 0; i < ne && json_array_size(list) < CONNECTIONS_MAX; i++) {
                bool client = false;
                for (size_t j = 0; j < nl; j++)
                        client |= listening[j] == est[i].local_port;
                if (client && json_array_append_new(list, json_pack("{s:n, s:s, s:s, s:I}", "user",
                                                                    "service", service, "client",
                                                                    est[i].remote, "pid", p)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Whether pid sees the files this process sees (its mount namespace is
 * ours, mnt: "mnt:[…]"). */
static bool same_mounts(const char *pid, const char *mnt) {
        char link[64];

        return ns_of(pid, "mnt", link, sizeof link) && STREQ(link, mnt);
}

/* The client of every Postfix smtpd that runs on the files we manage (in
 * our mount namespace: not a container's Postfix), appended to list. */
static int smtp_sessions(json_t *list) {
        struct tcp_table tables[NETNS_MAX] = {0};
        size_t n_tables = 0;
        struct dirent *de;
        char mnt[64];
        DIR *proc;
        int r = 0;

        if (!ns_of("self", "mnt", mnt, sizeof mnt) || !(proc = opendir("/proc")))
                return 0;
        while (r >= 0 && (de = readdir(proc))) {
                const struct tcp_table *t;
                char service[SERVICE_MAX + 1];
                if (!pid_of(de->d_name) || !postfix_smtpd(de->d_name, service, sizeof service) ||
                    !same_mounts(de->d_name, mnt))
                        continue;
                t = tcp_table_of(de->d_name, tables, &n_tables);
                if (t)
                        r = smtpd_clients(de->d_name, service, t, list);
        }
        closedir(proc);
        tcp_tables_done(tables, n_tables);
        return r;
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
        if (smtp_sessions(list) < 0) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
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
                r = change_exec_timeout(argv, NULL, msg, sizeof msg, MAIL_TOOL_TIMEOUT_USEC);
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
