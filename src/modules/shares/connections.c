/* connections.c — who is connected to the shares, and the ways to end it.
 *
 * SMB: `smbstatus --json` (Samba 4.17: "sessions", "tcons", "open_files",
 * each an object keyed by id; a fixture of a real answer is in
 * tests/unit/fixtures/smbstatus-4.17.json) becomes one connection per
 * session:
 *   {"id": "smb-PID-SESSION", "protocol": "smb", "user", "uid", "client",
 *    "address", "dialect", "encrypted", "encryption", "signed", "signing",
 *    "shares": [{"name", "since"}], "share": "a, b", "since", "open_files"}
 * The id names the smbd process and its session id, both from smbstatus:
 * it is stable for the session's life and guesses nothing (an id that no
 * session has now is a 404).  smbstatus answers an empty list both when
 * nobody is connected and when smbd does not run, so `smbcontrol smbd ping`
 * tells the two apart ("smbd_running").
 *
 * NFS: each directory of /proc/fs/nfsd/clients/ (kernel 5.3 and later; it
 * exists only where nfsd runs) is one NFSv4 client, described by its `info`
 * file ("clientid: 0x…", "address: \"192.0.2.7:785\"", "name: \"Linux NFSv4.2
 * host\"", "minor version: 2", "status: confirmed" — quoted values escaped
 * as the kernel's seq_escape_mem does, \xNN).  NFSv3 clients keep no state
 * on the server and are not listed.
 *
 * Ending connections:
 *  - disconnect {id} of an SMB session: `smbcontrol smbd kill-client-ip
 *    ADDR` — Samba ends every session from that address, not one session:
 *    the answer names each session that ended with it;
 *  - an NFS client cannot be disconnected by itself: it mounts again as
 *    long as an export allows it (and exportfs -u is per export), so the
 *    answer is a 422 that says to change the share's NFS clients instead;
 *  - a share's action `close`: `smbcontrol smbd close-share NAME` (every
 *    tree connect to it ends; the sessions stay);
 *  - after valid users were narrowed: `smbcontrol smbd close-denied-share
 *    NAME`.
 * When smbd does not run there is nothing to end: a note, not an error.
 *
 * The `share_connections` event: the hub's thread polls the list (through
 * the API, as a subscriber) at most once a second while a stream wants it
 * and publishes it when it changed.  Everything else runs in the helper. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/change.h"
#include "modules/shares/connections.h"
#include "modules/shares/model.h"
#include "modules/shares/shares.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define SMBSTATUS       "/usr/bin/smbstatus"
#define SMBCONTROL      "/usr/bin/smbcontrol"
#define SMBSTATUS_MAX   (16u << 20) /* a busy server's open files: a few MB */
#define CONNECTIONS_MAX 4096
#define SHARES_PER_CONN 64
#define TEXT_MAX        255
#define NFSD_CLIENTS    "/proc/fs/nfsd/clients"
#define NFS_INFO_MAX    8192
#define EVENT_POLL_USEC 1000000ull

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* A copy of s cut to at most max bytes at a character boundary. */
static json_t *text(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n > max) {
                n = max;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        return json_stringn(s, n);
}

static bool digits(const char *s, size_t max) {
        size_t n = s ? strlen(s) : 0;
        return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

/* "ipv4:192.0.2.7:50110" or "ipv6:2001:db8::7:50110" (Samba's
 * tsocket_address_string) → the address, checked. */
static int address_of(const char *hostname, char *dst, size_t cap) {
        const char *a, *colon;
        unsigned char bin[sizeof(struct in6_addr)];
        bool v6;

        if (!hostname)
                return -EINVAL;
        if (strncmp(hostname, "ipv4:", 5) == 0)
                v6 = false;
        else if (strncmp(hostname, "ipv6:", 5) == 0)
                v6 = true;
        else
                return -EINVAL;
        a = hostname + 5;
        colon = strrchr(a, ':');
        if (!colon || (size_t)(colon - a) >= cap)
                return -EINVAL;
        memcpy(dst, a, (size_t)(colon - a));
        dst[colon - a] = '\0';
        return inet_pton(v6 ? AF_INET6 : AF_INET, dst, bin) == 1 ? 0 : -EINVAL;
}

static bool same_process(json_t *a, const char *pid) {
        return STREQ(sget(json_object_get(a, "server_id"), "pid") ?: "", pid);
}

/* The tree connects of one session: [{"name", "since"}] and the earliest
 * since. */
static json_t *session_shares(json_t *tcons, const char *pid, const char *sid,
                              const char **ret_since) {
        json_t *shares = json_array(), *t;
        const char *k;

        *ret_since = NULL;
        json_object_foreach(tcons, k, t) {
                const char *svc = sget(t, "service"), *at = sget(t, "connected_at");
                if (!shares || !svc || !same_process(t, pid) ||
                    !STREQ(sget(t, "session_id") ?: "", sid))
                        continue;
                if (json_array_size(shares) == SHARES_PER_CONN)
                        break;
                json_array_append_new(shares, json_pack("{s:o, s:o?}", "name", text(svc, TEXT_MAX),
                                                        "since", at ? text(at, 64) : NULL));
                if (at && (!*ret_since || strcmp(at, *ret_since) < 0))
                        *ret_since = at;
        }
        return shares;
}

/* Files the smbd process pid holds open (a process serves one client). */
static json_int_t open_files_of(json_t *open_files, const char *pid) {
        json_int_t n = 0;
        json_t *f, *o;
        const char *k, *ko;

        json_object_foreach(open_files, k, f) {
                json_object_foreach(json_object_get(f, "opens"), ko, o) {
                        if (same_process(o, pid))
                                n++;
                }
        }
        return n;
}

/* "a, b" of the shares' names. */
static json_t *names_joined(json_t *shares) {
        struct buf b;
        json_t *s, *out;
        size_t i;

        buf_init(&b, 1024);
        json_array_foreach(shares, i, s) {
                if (buf_printf(&b, "%s%s", i ? ", " : "", sget(s, "name") ?: "") < 0)
                        break;
        }
        out = json_string(b.data ? b.data : "");
        buf_free(&b);
        return out;
}

static json_t *user_of(json_t *session) {
        json_t *uid = json_object_get(session, "uid");
        const char *name = sget(session, "username");
        struct passwd pw, *found = NULL;
        char buf[1024];

        if (name && *name)
                return text(name, TEXT_MAX);
        if (json_is_integer(uid) && json_integer_value(uid) >= 0 &&
            getpwuid_r((uid_t)json_integer_value(uid), &pw, buf, sizeof buf, &found) == 0 && found)
                return text(found->pw_name, TEXT_MAX);
        return json_null();
}

/* An encryption or signing object: whether it is on, and its cipher. */
static bool degree_on(json_t *o, const char **ret_cipher) {
        const char *degree = sget(o, "degree"), *cipher = sget(o, "cipher");

        *ret_cipher = cipher && !STREQ(cipher, "-") ? cipher : NULL;
        return degree && !STREQ(degree, "none");
}

static json_t *smb_connection(json_t *status, json_t *s) {
        const char *pid = sget(json_object_get(s, "server_id"), "pid"),
                   *sid = sget(s, "session_id");
        const char *since, *enc, *sign, *machine = sget(s, "remote_machine");
        char id[64], addr[INET6_ADDRSTRLEN];
        bool encrypted, signed_;
        json_t *shares, *o;

        if (!digits(pid, 20) || !digits(sid, 20))
                return NULL;
        snprintf(id, sizeof id, "smb-%s-%s", pid, sid);
        if (address_of(sget(s, "hostname"), addr, sizeof addr) < 0)
                addr[0] = '\0';
        shares = session_shares(json_object_get(status, "tcons"), pid, sid, &since);
        encrypted = degree_on(json_object_get(s, "encryption"), &enc);
        signed_ = degree_on(json_object_get(s, "signing"), &sign);
        o = json_pack("{s:s, s:s, s:o, s:O?, s:o, s:s?, s:o?, s:b, s:o?, s:b, s:o?, s:o, s:o?, "
                      "s:I}",
                      "id", id, "protocol", "smb", "user", user_of(s), "uid",
                      json_object_get(s, "uid"), "client",
                      text(machine && *machine ? machine : addr, TEXT_MAX), "address",
                      addr[0] ? addr : NULL, "dialect",
                      sget(s, "session_dialect") ? text(sget(s, "session_dialect"), 32) : NULL,
                      "encrypted", encrypted, "encryption", enc ? text(enc, 32) : NULL, "signed",
                      signed_, "signing", sign ? text(sign, 32) : NULL, "share",
                      names_joined(shares), "since", since ? text(since, 64) : NULL, "open_files",
                      open_files_of(json_object_get(status, "open_files"), pid));
        if (o && json_object_set_new(o, "shares", shares) < 0) {
                json_decref(o);
                return NULL;
        }
        if (!o)
                json_decref(shares);
        return o;
}

int connections_parse_smbstatus(const char *txt, size_t len, json_t *list) {
        json_t *status = json_loadb(txt, len, 0, NULL), *s;
        const char *k;

        if (!json_is_object(status)) {
                json_decref(status);
                return -EBADMSG;
        }
        json_object_foreach(json_object_get(status, "sessions"), k, s) {
                json_t *c;
                if (json_array_size(list) >= CONNECTIONS_MAX)
                        break;
                c = smb_connection(status, s);
                if (c && json_array_append_new(list, c) < 0) {
                        json_decref(status);
                        return -ENOMEM;
                }
        }
        json_decref(status);
        return 0;
}

/* ---- NFS ------------------------------------------------------------------------ */

/* A quoted value of an info file ("…" with \xNN, \\ and \" escapes) →
 * dst; -EINVAL when it is not one. */
static int unquote(const char *s, char *dst, size_t cap) {
        size_t n = 0;

        if (*s++ != '"')
                return -EINVAL;
        for (; *s && *s != '"'; s++) {
                char c = *s;
                if (c == '\\') {
                        unsigned v;
                        if (s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1 &&
                            strspn(s + 2, "0123456789abcdefABCDEF") >= 2) {
                                c = (char)v;
                                s += 3;
                        } else if (s[1] == '\\' || s[1] == '"')
                                c = *++s;
                        else
                                return -EINVAL;
                }
                if (n + 1 >= cap)
                        return -E2BIG;
                dst[n++] = (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
        }
        if (*s != '"' || s[1])
                return -EINVAL;
        dst[n] = '\0';
        return 0;
}

/* "192.0.2.7:785" or "[2001:db8::7]:785" → the address, checked. */
static int nfs_address(const char *s, char *dst, size_t cap) {
        unsigned char bin[sizeof(struct in6_addr)];
        const char *end;
        bool v6 = *s == '[';

        if (v6) {
                s++;
                end = strchr(s, ']');
        } else
                end = strrchr(s, ':');
        if (!end || (size_t)(end - s) >= cap)
                return -EINVAL;
        memcpy(dst, s, (size_t)(end - s));
        dst[end - s] = '\0';
        return inet_pton(v6 ? AF_INET6 : AF_INET, dst, bin) == 1 ? 0 : -EINVAL;
}

int connections_parse_nfs_info(const char *dir, const char *txt, size_t len, json_t **ret) {
        char line[512], value[256], addr[INET6_ADDRSTRLEN] = "", name[256] = "", status[32] = "";
        int64_t minor = -1;
        size_t off = 0;

        if (!digits(dir, 20) || len > NFS_INFO_MAX)
                return -EINVAL;
        while (off < len) {
                const char *nl = memchr(txt + off, '\n', len - off), *colon;
                size_t n = nl ? (size_t)(nl - (txt + off)) : len - off;
                if (n < sizeof line) {
                        memcpy(line, txt + off, n);
                        line[n] = '\0';
                        colon = strstr(line, ": ");
                        if (colon) {
                                const char *v = colon + 2;
                                line[colon - line] = '\0';
                                if (STREQ(line, "address") &&
                                    (unquote(v, value, sizeof value) < 0 ||
                                     nfs_address(value, addr, sizeof addr) < 0))
                                        return -EBADMSG;
                                else if (STREQ(line, "name"))
                                        (void)unquote(v, name, sizeof name);
                                else if (STREQ(line, "minor version") && safe_atoi64(v, &minor) < 0)
                                        minor = -1;
                                else if (STREQ(line, "status") && strlen(v) < sizeof status)
                                        snprintf(status, sizeof status, "%s", v);
                        }
                }
                off += n + (nl ? 1 : 0);
        }
        if (!addr[0])
                return -EBADMSG;
        char id[32], dialect[16];
        snprintf(id, sizeof id, "nfs-%s", dir);
        if (minor >= 0 && minor <= 9)
                snprintf(dialect, sizeof dialect, "NFSv4.%d", (int)minor);
        else
                snprintf(dialect, sizeof dialect, "NFSv4");
        *ret = json_pack("{s:s, s:s, s:n, s:s, s:s, s:o, s:s, s:n, s:n, s:n, s:s?, s:[]}", "id", id,
                         "protocol", "nfs", "user", "client", addr, "address", addr, "name",
                         text(name, TEXT_MAX), "dialect", dialect, "encrypted", "signed", "since",
                         "status", status[0] ? status : NULL, "shares");
        return *ret ? 0 : -ENOMEM;
}

/* The NFSv4 clients nfsd knows, appended to list; false where there is no
 * nfsd. */
static bool nfs_clients(json_t *list) {
        DIR *d = opendir(NFSD_CLIENTS);
        struct dirent *de;

        if (!d)
                return false;
        while ((de = readdir(d)) && json_array_size(list) < CONNECTIONS_MAX) {
                char path[300], *txt = NULL;
                size_t len = 0;
                json_t *c = NULL;

                if (!digits(de->d_name, 20))
                        continue;
                snprintf(path, sizeof path, NFSD_CLIENTS "/%s/info", de->d_name);
                if (read_file(path, NFS_INFO_MAX, &txt, &len) >= 0 &&
                    connections_parse_nfs_info(de->d_name, txt, len, &c) >= 0)
                        json_array_append_new(list, c);
                free(txt);
        }
        closedir(d);
        return true;
}

/* ---- Samba's tools ------------------------------------------------------------------ */

static int run_tool(const char *const *argv, char **ret_out, size_t *ret_len, char *msg,
                    size_t msg_len) {
        char *out = NULL;
        size_t len = 0;
        int r = change_exec_output(argv, SMBSTATUS_MAX, &out, &len, msg, msg_len);

        if (r >= 0 && ret_out) {
                *ret_out = out;
                *ret_len = len;
        } else if (r >= 0)
                free(out);
        return r;
}

/* Whether smbd runs (answers a ping); false too where Samba is not
 * installed. */
static bool smbd_running(void) {
        const char *argv[] = {SMBCONTROL, "smbd", "ping", NULL};
        char msg[128];

        return smbd_may_run() && run_tool(argv, NULL, NULL, msg, sizeof msg) == 0;
}

/* The SMB sessions, appended to list. */
static int smb_sessions(json_t *list, struct module_error *err) {
        const char *argv[] = {SMBSTATUS, "--json", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[256];
        size_t len = 0;
        int r;

        r = run_tool(argv, &out, &len, msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 500, "tool_failed", NULL, "smbstatus --json failed (%s): %s",
                                 r < 0 ? strerror(-r) : "exit status", msg);
                return r < 0 ? r : -EIO;
        }
        r = connections_parse_smbstatus(out, len, list);
        if (r < 0) {
                module_error_set(err, 500, "tool_failed", NULL,
                                 "smbstatus --json printed no JSON object");
                return r;
        }
        return 0;
}

int connections_list(json_t **ret, struct module_error *err) {
        json_t *list = json_array();
        bool running = smbd_running(), nfsd;
        int r = 0;

        if (!list) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        if (running)
                r = smb_sessions(list, err);
        if (r < 0) {
                json_decref(list);
                return r;
        }
        nfsd = nfs_clients(list);
        *ret = json_pack("{s:o, s:b, s:b}", "connections", list, "smbd_running", running,
                         "nfsd_running", nfsd);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

static json_t *find_connection(json_t *list, const char *id) {
        json_t *c;
        size_t i;

        json_array_foreach(list, i, c) {
                if (STREQ(sget(c, "id") ?: "", id))
                        return c;
        }
        return NULL;
}

static int smbcontrol(const char *verb, const char *operand, struct module_error *err) {
        const char *argv[] = {SMBCONTROL, "smbd", verb, operand, NULL};
        char msg[256];
        int r = run_tool(argv, NULL, NULL, msg, sizeof msg);

        if (r != 0) {
                module_error_set(err, 500, "tool_failed", NULL, "smbcontrol smbd %s %s failed: %s",
                                 verb, operand,
                                 msg[0]  ? msg
                                 : r < 0 ? strerror(-r)
                                         : "error");
                return r < 0 ? r : -EIO;
        }
        return 0;
}

static int nfs_disconnect(const char *id, struct module_error *err) {
        char path[128];

        if (!digits(id + 4, 20)) {
                module_error_set(err, 404, "not_found", "id", "no connection \"%.64s\"", id);
                return -ENOENT;
        }
        snprintf(path, sizeof path, NFSD_CLIENTS "/%s", id + 4);
        if (access(path, F_OK) < 0) {
                module_error_set(err, 404, "not_found", "id", "no connection \"%.64s\"", id);
                return -ENOENT;
        }
        module_error_set(err, 422, "not_supported", "id",
                         "an NFS client cannot be disconnected by itself: it mounts again as long "
                         "as an export allows it; remove it from the share's NFS clients instead");
        return -EOPNOTSUPP;
}

int connections_disconnect(const struct module_ctx *ctx, json_t *args, json_t **ret,
                           struct module_error *err) {
        const char *id = sget(args, "id") ?: "";
        _cleanup_json_ json_t *list = json_array();
        json_t *c, *ended, *x;
        const char *addr;
        size_t i;
        int r;

        (void)ctx;
        if (strncmp(id, "nfs-", 4) == 0)
                return nfs_disconnect(id, err);
        if (strncmp(id, "smb-", 4) != 0 || !list || !smbd_running()) {
                module_error_set(err, 404, "not_found", "id", "no connection \"%.64s\"", id);
                return -ENOENT;
        }
        r = smb_sessions(list, err);
        if (r < 0)
                return r;
        c = find_connection(list, id);
        addr = sget(c, "address");
        if (!c) {
                module_error_set(err, 404, "not_found", "id", "no connection \"%.64s\"", id);
                return -ENOENT;
        }
        if (!addr) {
                module_error_set(err, 422, "not_supported", "id",
                                 "smbstatus gives no address for %s", id);
                return -EOPNOTSUPP;
        }
        r = smbcontrol("kill-client-ip", addr, err);
        if (r < 0)
                return r;
        ended = json_array();
        json_array_foreach(list, i, x) {
                if (STREQ(sget(x, "address") ?: "", addr))
                        json_array_append_new(ended, json_pack("{s:O?, s:O?, s:O?}", "id",
                                                               json_object_get(x, "id"), "user",
                                                               json_object_get(x, "user"), "share",
                                                               json_object_get(x, "share")));
        }
        *ret = json_pack("{s:s, s:s, s:o, s:s}", "disconnected", id, "address", addr, "ended",
                         ended, "note",
                         "Samba ends every SMB session from that address (smbcontrol smbd "
                         "kill-client-ip)");
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

int connections_close_share(const struct module_ctx *ctx, const char *id, json_t *args,
                            bool dry_run, json_t **ret, struct module_error *err) {
        char path[4096];
        int r;

        (void)ctx, (void)args;
        r = shares_find_path(id, path, sizeof path, err);
        if (r < 0)
                return r;
        if (dry_run) {
                *ret = json_pack("{s:{s:[[s,s,s,s]], s:[], s:[]}}", "plan", "commands", SMBCONTROL,
                                 "smbd", "close-share", id, "files", "warnings");
                return *ret ? 0 : -ENOMEM;
        }
        if (!smbd_running()) {
                *ret = json_pack("{s:s, s:b, s:s}", "share", id, "closed", false, "note",
                                 "smbd does not run: nobody is connected");
                return *ret ? 0 : -ENOMEM;
        }
        r = smbcontrol("close-share", id, err);
        if (r < 0)
                return r;
        *ret = json_pack("{s:s, s:b, s:s}", "share", id, "closed", true, "note",
                         "every client's connection to the share ended; their sessions stay");
        return *ret ? 0 : -ENOMEM;
}

int connections_close_denied(const char *name, struct module_error *err) {
        if (!smbd_running())
                return 0;
        return smbcontrol("close-denied-share", name, err);
}

/* ---- the share_connections event (the front, the hub's thread) ---------------------- */

static struct {
        char *last; /* the list last published (or seen), compact JSON */
        uint64_t last_usec;
} ev;

void connections_events_poll(const struct event_hub *hub, bool changed) {
        uint64_t now = now_usec();
        json_t *body = NULL;
        char *txt;

        if (!hub->wanted("share_connections")) {
                free(ev.last);
                ev.last = NULL;
                return;
        }
        if (ev.last && !changed && now - ev.last_usec < EVENT_POLL_USEC)
                return;
        ev.last_usec = now;
        if (hub->get("share_connections", "/api/v1/modules/shares/connections", &body) < 0)
                return;
        txt = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        /* The first look after streams asked is published too when someone
         * is connected: a session that came between a stream's start and
         * this look would otherwise never be told. */
        if (txt && (ev.last ? !STREQ(ev.last, txt)
                            : json_array_size(json_object_get(body, "connections")) > 0))
                hub->publish("share_connections", body);
        if (txt) {
                free(ev.last);
                ev.last = txt;
        }
        json_decref(body);
}
