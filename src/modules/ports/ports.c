/* ports.c — the `ports` module: what is listening, who owns it, what the
 * IANA registry says about the port, and what looks wrong.
 *
 * The listing is split along the privilege line.  The front enumerates
 * sockets itself (sock_diag works unprivileged); which process owns each
 * socket needs root, so the front asks the helper through privileged_read
 * with the socket inodes, and the helper answers with the owners and the
 * saved baseline (which lives in the root-only state directory).  Registry
 * knowledge is compiled in (portdata.c), so nothing is parsed at run time.
 *
 * Findings are data: a code, a severity and one sentence, computed from the
 * listener, its owners, the registry, the legacy and trojan lists and the
 * baseline.  Stewardd's own listeners are recognised by process id.
 *
 * A port's history in the trojan list is information when the program of
 * the service IANA registers for it owns the socket (sshd on 22): it is a
 * warning only when another program listens there.  In the answer for one
 * port (GET /api/v1/ports/N), what concerns the port rather than a socket
 * (its legacy assignment, its trojan history) is said once, at the top,
 * and left out of each listener's findings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roles.h"
#include "jsonutil.h"
#include "module.h"
#include "config.h"
#include "modules/ports/portevents.h"
#include "portdata.h"
#include "procmap.h"
#include "sockets.h"
#include "util.h"

#define BASELINE_NAME "ports-baseline.json"
#define BASELINE_MAX  (16u << 20)
#define MAX_RECORDS   64

extern const module_t module_ports;

/* "tcp ipv4 0.0.0.0 660": how a listener is known in the baseline. */
static char *listener_key(const struct sock_entry *s) {
        char *k = NULL;
        if (asprintf(&k, "%s %s %s %u", sock_protocol_to_string(s->protocol),
                     sock_family_to_string(s->family), s->local, (unsigned)s->local_port) < 0)
                return NULL;
        return k;
}

static char *baseline_path(void) {
        const char *dir = steward_state_dir();
        char *p = NULL;
        if (!dir || asprintf(&p, "%s/%s", dir, BASELINE_NAME) < 0)
                return NULL;
        return p;
}

/* ---- the helper's side ------------------------------------------------- */

static json_t *owner_json(const struct proc_owner *o) {
        json_t *j = json_pack("{s:i, s:s, s:s, s:b, s:s}", "pid", (int)o->pid, "command", o->comm,
                              "exe", o->exe, "exe_root_owned", o->exe_root, "user", o->user);
        if (j && o->unit[0])
                json_object_set_new(j, "unit", json_string(o->unit));
        if (j && o->container[0])
                json_object_set_new(j, "container", json_string(o->container));
        return j;
}

/* args: {"inodes": [N, …]} → {"processes": {"PID": owner}, "owners": {"N": [PID, …]},
 * "baseline": [key…] | null, "self": [pid, …]}.  Owners are sent once per
 * process, not once per socket: a server holding thousands of sockets is
 * described once. */
static int ports_privileged_read(json_t *args, json_t **ret, struct module_error *e) {
        json_t *inodes = json_object_get(args, "inodes"), *v, *owners, *procs, *out;
        _cleanup_free_ uint64_t *want = NULL;
        _cleanup_free_ char *bpath = NULL, *btext = NULL;
        struct procmap *map = NULL;
        size_t n = 0, i;
        int r;

        if (!json_is_array(inodes) || json_array_size(inodes) > PROCMAP_MAX_INODES) {
                module_error_set(e, 400, "bad_request", "inodes", "inodes must be a list");
                return -EINVAL;
        }
        want = calloc(json_array_size(inodes) + 1, sizeof *want);
        if (!want)
                return -ENOMEM;
        json_array_foreach(inodes, i, v) {
                if (!json_is_integer(v) || json_integer_value(v) <= 0) {
                        module_error_set(e, 400, "bad_request", "inodes",
                                         "inodes are positive integers");
                        return -EINVAL;
                }
                want[n++] = (uint64_t)json_integer_value(v);
        }
        r = procmap_build(want, n, &map);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot map sockets to processes: %s",
                                 strerror(-r));
                return r;
        }
        owners = json_object();
        procs = json_object();
        for (i = 0; i < n; i++) {
                const struct proc_owner *o;
                size_t k;
                char key[24];
                if (procmap_lookup(map, want[i], &o, &k) < 0 || k == 0)
                        continue;
                json_t *list = json_array();
                for (size_t j = 0; j < k; j++) {
                        char pid[16];
                        snprintf(pid, sizeof pid, "%d", (int)o[j].pid);
                        if (!json_object_get(procs, pid))
                                json_object_set_new(procs, pid, owner_json(&o[j]));
                        json_array_append_new(list, json_integer(o[j].pid));
                }
                snprintf(key, sizeof key, "%llu", (unsigned long long)want[i]);
                json_object_set_new(owners, key, list);
        }
        procmap_free(map);
        out = json_pack("{s:o, s:o, s:[i, i]}", "owners", owners, "processes", procs, "self",
                        (int)getpid(), (int)getppid());
        bpath = baseline_path();
        if (bpath && read_file(bpath, BASELINE_MAX, &btext, NULL) >= 0) {
                json_t *b = json_loads(btext, 0, NULL);
                if (json_is_object(b))
                        json_object_set(out, "baseline", json_object_get(b, "listeners"));
                json_decref(b);
        }
        *ret = out;
        return 0;
}

static int cmd_baseline_save(const struct module_ctx *ctx, json_t *args, json_t **ret,
                             struct module_error *e) {
        _cleanup_free_ char *path = baseline_path(), *text = NULL;
        struct sock_entry *v = NULL;
        json_t *keys, *doc;
        size_t n = 0;
        int r;

        if (!path) {
                module_error_set(e, 500, "internal", NULL, "no state directory");
                return -EINVAL;
        }
        r = sockets_list(false, &v, &n);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot list sockets: %s", strerror(-r));
                return r;
        }
        keys = json_array();
        for (size_t i = 0; i < n; i++) {
                char *k = listener_key(&v[i]);
                bool dup = false;
                size_t j;
                json_t *x;
                json_array_foreach(keys, j, x) dup = dup || (k && STREQ(json_string_value(x), k));
                if (k && !dup)
                        json_array_append_new(keys, json_string(k));
                free(k);
        }
        sockets_free(v, n);
        doc = json_pack("{s:I, s:o}", "saved", (json_int_t)(realtime_usec() / 1000000u),
                        "listeners", keys);
        text = json_dumps(doc, JSON_INDENT(1));
        r = text ? write_file_atomic(path, text, strlen(text), 0600) : -ENOMEM;
        if (r < 0) {
                json_decref(doc);
                module_error_set(e, 500, "internal", NULL, "cannot write %s: %s", path,
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:s, s:I, s:O}", "result", "ok", "listeners",
                         (json_int_t)json_array_size(keys), "saved", json_object_get(doc, "saved"));
        json_decref(doc);
        return 0;
}

/* ---- the front's side -------------------------------------------------- */

/* Program names that are known to serve a registered service, beyond the
 * service name itself; matching is on the executable's base name. */
static const struct {
        const char *service;
        const char *const programs[6];
} aliases[] = {
        {"ssh", {"sshd", "dropbear"}},
        {"http", {"nginx", "apache2", "httpd", "lighttpd", "caddy", "haproxy"}},
        {"https", {"nginx", "apache2", "httpd", "lighttpd", "caddy", "haproxy"}},
        {"domain", {"named", "unbound", "dnsmasq", "systemd-resolve", "pdns_server", "knotd"}},
        {"smtp", {"master", "exim4", "sendmail", "postfix", "opensmtpd"}},
        {"submission", {"master", "exim4", "sendmail", "postfix"}},
        {"imap", {"dovecot", "imap-login"}},
        {"imaps", {"dovecot", "imap-login"}},
        {"pop3", {"dovecot", "pop3-login"}},
        {"microsoft-ds", {"smbd", "samba"}},
        {"netbios-ssn", {"smbd", "samba"}},
        {"netbios-ns", {"nmbd", "samba"}},
        {"ipp", {"cupsd"}},
        {"ntp", {"ntpd", "chronyd", "systemd-timesyn"}},
        {"bootps", {"dhcpd", "dnsmasq", "kea-dhcp4"}},
        {"mysql", {"mysqld", "mariadbd"}},
        {"postgresql", {"postgres"}},
        {"nfs", {"nfsd"}},
        {"sunrpc", {"rpcbind", "portmap"}},
        {"mac-srvr-admin", {"stewardd"}},
};

static const char *base_name(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

static bool one_program_matches(const char *service, json_t *o) {
        const char *exe = base_name(json_string_value(json_object_get(o, "exe")) ?: "");

        /* A command name is whatever a process sets (prctl, argv[0], a
         * link's name), an executable's name whatever its owner chose; a
         * root-owned executable by that name is what a package installs. */
        if (!json_is_true(json_object_get(o, "exe_root_owned")))
                return false;
        if (STREQ(exe, service))
                return true;
        for (size_t a = 0; a < ELEMENTSOF(aliases); a++) {
                if (!STREQ(aliases[a].service, service))
                        continue;
                for (size_t k = 0; k < 6 && aliases[a].programs[k]; k++)
                        if (STREQ(exe, aliases[a].programs[k]))
                                return true;
        }
        return false;
}

/* Is the socket held by the registered service's program: every process
 * holding it runs a root-owned executable named for the service?  The init
 * process (pid 1) holding a socket it activates is neither for nor against. */
static bool program_matches(const char *service, json_t *owners) {
        size_t i, n = 0;
        json_t *o;

        json_array_foreach(owners, i, o) {
                if (json_integer_value(json_object_get(o, "pid")) == 1)
                        continue;
                if (!one_program_matches(service, o))
                        return false;
                n++;
        }
        return n > 0;
}

static void finding(json_t *findings, const char *code, const char *severity, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void finding(json_t *findings, const char *code, const char *severity, const char *fmt,
                    ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        utf8_sanitize(msg);
        json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "code", code, "severity",
                                                  severity, "message", msg));
}

/* The registry's records for a port; `full` adds every field (the registry
 * and one-port answers), without it only service, protocol and description
 * (the listing, which carries them for each of possibly thousands of
 * sockets: the rest is one request away). */
static json_t *registry_json(uint16_t port, const char *protocol, bool full) {
        struct iana_record recs[MAX_RECORDS];
        size_t n = iana_lookup(port, protocol, recs, MAX_RECORDS);
        json_t *a = json_array();

        for (size_t i = 0; i < n && i < MAX_RECORDS; i++) {
                const struct iana_record *r = &recs[i];
                json_t *o = json_pack("{s:s, s:s, s:s}", "service", r->service, "protocol",
                                      r->protocol, "description", r->description);
                if (!o)
                        continue;
                if (!full) {
                        json_array_append_new(a, o);
                        continue;
                }
#define OPT(k, v)                                                                                  \
        if ((v) && *(v))                                                                           \
                json_object_set_new(o, k, json_string(v));
                OPT("assignee", r->assignee);
                OPT("contact", r->contact);
                OPT("registration_date", r->registration_date);
                OPT("modification_date", r->modification_date);
                OPT("reference", r->reference);
                OPT("unauthorized_use_reported", r->unauthorized_use);
                OPT("notes", r->notes);
#undef OPT
                if (r->port_lo != r->port_hi)
                        json_object_set_new(o, "range",
                                            json_sprintf("%u-%u", r->port_lo, r->port_hi));
                json_array_append_new(a, o);
        }
        return a;
}

/* The first assigned service name for port/protocol, or NULL. */
static const char *registered_service(uint16_t port, const char *protocol) {
        struct iana_record recs[MAX_RECORDS];
        size_t n = iana_lookup(port, protocol, recs, MAX_RECORDS);
        for (size_t i = 0; i < n && i < MAX_RECORDS; i++)
                if (recs[i].service && *recs[i].service)
                        return recs[i].service;
        return NULL;
}

static bool owned_by_self(json_t *owners, json_t *self) {
        size_t i, j;
        json_t *o, *p;
        json_array_foreach(owners, i, o)
                json_array_foreach(self, j, p) if (json_integer_value(json_object_get(o, "pid")) ==
                                                   json_integer_value(p)) return true;
        return false;
}

/* A port in the trojan list: owners NULL when they are not known. */
static void trojan_finding(json_t *f, uint16_t port, const char *proto, const char *names,
                           const char *service, json_t *owners) {
        const char *comm = json_string_value(json_object_get(json_array_get(owners, 0), "command"));

        if (json_array_size(owners) == 0)
                finding(f, "trojan-history", "info",
                        "port %u/%s was historically used by malware (%.300s); a hint to look "
                        "closer, not proof",
                        port, proto, names);
        else if (service && program_matches(service, owners))
                finding(f, "trojan-history", "info",
                        "port %u/%s was historically also used by malware (%.300s); %s, the "
                        "program of the registered service %s, listens here: information only",
                        port, proto, names, comm ? comm : "the program", service);
        else if (service)
                finding(f, "trojan-history", "warning",
                        "port %u/%s was historically used by malware (%.300s), and %s listens "
                        "here, not the registered service %s: look closer",
                        port, proto, names, comm ? comm : "another program", service);
        else
                finding(f, "trojan-history", "warning",
                        "port %u/%s was historically used by malware (%.300s), and %s listens "
                        "here, where IANA registers no service: look closer",
                        port, proto, names, comm ? comm : "a program");
}

static json_t *findings_for(const struct sock_entry *s, json_t *owners, bool owners_known,
                            json_t *self, json_t *baseline, const char *key) {
        const char *proto = sock_protocol_to_string(s->protocol);
        uint16_t port = s->local_port;
        const struct legacy_entry *leg = legacy_lookup(port, proto);
        const struct trojan_entry *tro = trojan_lookup(port, proto);
        const char *service = registered_service(port, proto);
        bool self_owned = owners_known && owned_by_self(owners, self);
        json_t *f = json_array();

        if (self_owned)
                finding(f, "steward", "info", "this is stewardd itself; expected");
        if (s->scope != SOCK_SCOPE_LOOPBACK)
                finding(f, "exposed", "info",
                        s->scope == SOCK_SCOPE_ALL
                                ? "reachable from other hosts on every address of this machine"
                                : "reachable from other hosts on %s",
                        s->local);
        if (leg)
                finding(f, "legacy-port", "info",
                        "port %u/%s is still registered to %s, a service that is %s: %s%s", port,
                        proto, leg->service, leg->status, leg->note,
                        self_owned ? " — Steward reuses it on purpose" : "");
        if (tro && !tro->disabled_in_source && !self_owned)
                trojan_finding(f, port, proto, tro->names, service, owners_known ? owners : NULL);
        if (port < 1024 && !iana_port_assigned(port, proto))
                finding(f, "unassigned-well-known", "warning",
                        "port %u/%s is in the well-known range but assigned to no service", port,
                        proto);
        if (owners_known && json_array_size(owners) == 0)
                finding(f, "unowned", "warning",
                        "no process owns this socket (a kernel service, or a process in another "
                        "namespace)");
        if (owners_known && service && json_array_size(owners) > 0 && !self_owned &&
            !program_matches(service, owners)) {
                const char *comm =
                        json_string_value(json_object_get(json_array_get(owners, 0), "command"));
                if (STREQ(service, "mac-srvr-admin"))
                        finding(f, "unexpected-service", "warning",
                                "port %u/%s is Steward's (mac-srvr-admin), but %s listens here, "
                                "not stewardd: investigate",
                                port, proto, comm ? comm : "another program");
                else
                        finding(f, "unexpected-service", port < 1024 ? "warning" : "info",
                                "port %u/%s is registered to %s, but %s listens here", port, proto,
                                service, comm ? comm : "another program");
        }
        if (json_is_array(baseline)) {
                bool known = false;
                size_t i;
                json_t *k;
                json_array_foreach(baseline, i, k) known =
                        known || STREQ(json_string_value(k) ?: "", key);
                if (!known)
                        finding(f, "new", "warning",
                                "not in the saved baseline: new since it was saved");
        }
        return f;
}

/* Values that thousands of listeners share, made once per listing: the
 * short enumeration strings ("tcp", "listen"…) and the registry's records
 * for a set of records (every port of an unassigned range has the same
 * one).  jansson trees may share a value (the owners are shared the same
 * way); nothing edits the listing after it is built.  With 3,000
 * listeners the allocations of these copies, and their frees, were a
 * third of the front's time for the request. */
struct shared {
        json_t *strings;  /* text → string */
        json_t *registry; /* the records' identity → list */
};

static json_t *shared_string(struct shared *sh, const char *text) {
        json_t *v = json_object_get(sh->strings, text);

        if (v)
                return json_incref(v);
        v = json_string(text);
        if (v)
                json_object_set(sh->strings, text, v);
        return v;
}

/* The listing's registry field for port/protocol: records of the compiled-in
 * table are told apart by where their text is (the same record, the same
 * pointers), so the key names the records without copying them. */
static json_t *shared_registry(struct shared *sh, uint16_t port, const char *protocol) {
        struct iana_record recs[MAX_RECORDS];
        size_t n = iana_lookup(port, protocol, recs, MAX_RECORDS);
        char key[32 * 4 + 24];
        size_t off;
        json_t *v;

        off = (size_t)snprintf(key, sizeof key, "%zu", n);
        for (size_t i = 0; i < n && i < 4 && off < sizeof key; i++)
                off += (size_t)snprintf(key + off, sizeof key - off, ":%p:%p:%p",
                                        (const void *)recs[i].service,
                                        (const void *)recs[i].protocol,
                                        (const void *)recs[i].description);
        if (n > 4 || off >= sizeof key) /* not worth a key: made anew */
                return registry_json(port, protocol, false);
        v = json_object_get(sh->registry, key);
        if (v)
                return json_incref(v);
        v = registry_json(port, protocol, false);
        if (v)
                json_object_set(sh->registry, key, v);
        return v;
}

/* The listing, with owners and findings; port 0 = every port. */
static int listing(const struct module_ctx *ctx, bool all, int only_port, json_t **ret,
                   struct module_error *e) {
        struct sock_entry *v = NULL;
        json_t *list = json_array(), *priv = NULL, *owners = NULL, *procs = NULL, *self = NULL,
               *baseline = NULL, *inodes = json_array(), *gone = json_array();
        struct shared sh = {json_object(), json_object()};
        bool owners_known = false;
        size_t n = 0;
        int r;

        r = sockets_list(all, &v, &n);
        if (r < 0) {
                json_decref(list);
                json_decref(inodes);
                json_decref(gone);
                json_decref(sh.strings);
                json_decref(sh.registry);
                module_error_set(e, 500, "internal", NULL, "cannot list sockets: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i].inode && (only_port < 0 || v[i].local_port == only_port))
                        json_array_append_new(inodes, json_integer((json_int_t)v[i].inode));
        if (ctx && ctx->privileged_read) {
                struct module_error pe = {0};
                if (ctx->privileged_read(ctx, "ports", json_pack("{s:O}", "inodes", inodes), &priv,
                                         &pe) >= 0) {
                        owners = json_object_get(priv, "owners");
                        procs = json_object_get(priv, "processes");
                        self = json_object_get(priv, "self");
                        baseline = json_object_get(priv, "baseline");
                        owners_known = json_is_object(owners);
                }
        }
        for (size_t i = 0; i < n; i++) {
                const struct sock_entry *s = &v[i];
                char ino[24];
                /* the baseline's name for it, only when there is a baseline */
                _cleanup_free_ char *key = json_is_array(baseline) ? listener_key(s) : NULL;
                json_t *own, *l;

                if (only_port >= 0 && s->local_port != only_port)
                        continue;
                snprintf(ino, sizeof ino, "%llu", (unsigned long long)s->inode);
                own = json_array();
                if (owners_known) {
                        size_t j;
                        json_t *pid;
                        json_array_foreach(json_object_get(owners, ino), j, pid) {
                                char pkey[24];
                                snprintf(pkey, sizeof pkey, "%lld",
                                         (long long)json_integer_value(pid));
                                json_t *o = json_object_get(procs, pkey);
                                if (o)
                                        json_array_append(own, o); /* shared, not copied */
                        }
                }
                l = json_pack("{s:o, s:o, s:s, s:i, s:o, s:o, s:i, s:i, s:o}", "protocol",
                              shared_string(&sh, sock_protocol_to_string(s->protocol)), "family",
                              shared_string(&sh, sock_family_to_string(s->family)), "address",
                              s->local, "port", (int)s->local_port, "scope",
                              shared_string(&sh, sock_scope_to_string(s->scope)), "state",
                              shared_string(&sh, sock_state_to_string(s->state)), "recv_queue",
                              (int)s->rqueue, "send_queue", (int)s->wqueue, "processes", own);
                if (!l)
                        continue;
                if (s->connected) {
                        json_object_set_new(l, "peer_address", json_string(s->peer));
                        json_object_set_new(l, "peer_port", json_integer(s->peer_port));
                }
                if (s->ifname[0])
                        json_object_set_new(l, "interface", json_string(s->ifname));
                json_object_set_new(
                        l, "registry",
                        shared_registry(&sh, s->local_port, sock_protocol_to_string(s->protocol)));
                json_object_set_new(l, "findings",
                                    findings_for(s, own, owners_known, self,
                                                 s->state == 10 || !s->connected ? baseline : NULL,
                                                 key ? key : ""));
                json_array_append_new(list, l);
        }
        /* Baseline entries no longer listening. */
        if (json_is_array(baseline)) {
                size_t i;
                json_t *k;
                json_array_foreach(baseline, i, k) {
                        bool present = false;
                        for (size_t j = 0; j < n && !present; j++) {
                                _cleanup_free_ char *key = listener_key(&v[j]);
                                present = key && STREQ(key, json_string_value(k) ?: "");
                        }
                        if (!present)
                                json_array_append_new(gone, json_incref(k));
                }
        }
        sockets_free(v, n);
        json_decref(sh.strings);
        json_decref(sh.registry);
        *ret = json_pack("{s:o, s:b, s:o, s:b}", "listeners", list, "owners_known", owners_known,
                         "gone", gone, "baseline", json_is_array(baseline));
        json_decref(priv);
        json_decref(inodes);
        return *ret ? 0 : -ENOMEM;
}

static int route_list(const struct module_ctx *ctx, char **params, json_t **ret,
                      struct module_error *e) {
        bool all = false;
        int r = ctx->query_flag ? ctx->query_flag(ctx, "all", &all, e) : 0;

        if (r < 0)
                return r;
        return listing(ctx, all, -1, ret, e);
}

static int parse_port(const char *s, uint16_t *ret, struct module_error *e) {
        unsigned p;
        if (!s || safe_atou(s, &p) < 0 || p > 65535 || (s[0] == '0' && s[1])) {
                module_error_set(e, 400, "invalid_argument", "port",
                                 "\"%.32s\" is not a port: give a number from 0 to 65535",
                                 s ? s : "");
                return -EINVAL;
        }
        *ret = (uint16_t)p;
        return 0;
}

static json_t *registry_answer(uint16_t port) {
        json_t *o = json_pack(
                "{s:i, s:s, s:s, s:o, s:b, s:b}", "port", port, "range", port_range_name(port),
                "range_explanation", port_range_explanation(port), "records",
                registry_json(port, NULL, true), "assigned_tcp", iana_port_assigned(port, "tcp"),
                "assigned_udp", iana_port_assigned(port, "udp"));
        json_t *legacy = json_array(), *trojans = json_array();
        static const char *const protos[] = {"tcp", "udp"};

        for (size_t i = 0; i < 2; i++) {
                const struct legacy_entry *l = legacy_lookup(port, protos[i]);
                const struct trojan_entry *t = trojan_lookup(port, protos[i]);
                if (l)
                        json_array_append_new(
                                legacy, json_pack("{s:s, s:s, s:s, s:s, s:s}", "protocol",
                                                  l->protocol, "service", l->service, "status",
                                                  l->status, "note", l->note, "source", l->source));
                if (t)
                        json_array_append_new(
                                trojans,
                                json_pack("{s:s, s:s, s:b, s:s, s:s}", "protocol", t->protocol,
                                          "names", t->names, "disabled_in_source",
                                          t->disabled_in_source, "severity", "info", "message",
                                          "historically used by malware: a hint to look closer "
                                          "if a program other than the registered service's "
                                          "listens here, not proof"));
        }
        json_object_set_new(o, "legacy", legacy);
        json_object_set_new(o, "trojan_history", trojans);
        if (json_array_size(trojans) > 0)
                json_object_set_new(o, "trojan_attribution",
                                    json_string(portdata_trojan_attribution()));
        json_object_set_new(o, "registry_date", json_string(portdata_registry_date()));
        return o;
}

static int route_registry(const struct module_ctx *ctx, char **params, json_t **ret,
                          struct module_error *e) {
        uint16_t port;
        int r = parse_port(params[0], &port, e);
        if (r < 0)
                return r;
        *ret = registry_answer(port);
        return *ret ? 0 : -ENOMEM;
}

/* Each trojan_history item of one port takes the gravest trojan-history
 * finding of that protocol's listeners (severity and message), or says that
 * nothing (or stewardd) listens there; then the port-wide findings
 * (legacy-port, trojan-history) leave the listeners, said once above. */
static void port_wide_once(const char *port, json_t *trojans, json_t *listeners) {
        size_t i, j, k;
        json_t *t, *l, *f;

        json_array_foreach(trojans, i, t) {
                const char *proto = json_string_value(json_object_get(t, "protocol")) ?: "";
                const char *msg = "nothing listens on it now";
                const char *names = json_string_value(json_object_get(t, "names")) ?: "";
                json_t *pick = NULL;

                json_array_foreach(listeners, j, l) {
                        if (!STREQ(json_string_value(json_object_get(l, "protocol")) ?: "", proto))
                                continue;
                        json_array_foreach(json_object_get(l, "findings"), k, f) {
                                const char *code = json_string_value(json_object_get(f, "code"));
                                const char *sev = json_string_value(json_object_get(f, "severity"));
                                if (code && STREQ(code, "steward"))
                                        msg = "stewardd itself listens here";
                                else if (code && STREQ(code, "trojan-history") &&
                                         (!pick || (sev && STREQ(sev, "warning"))))
                                        pick = f;
                        }
                }
                if (json_is_true(json_object_get(t, "disabled_in_source")))
                        msg = "the list it comes from has this entry commented out";
                if (pick) {
                        json_object_set(t, "severity", json_object_get(pick, "severity"));
                        json_object_set(t, "message", json_object_get(pick, "message"));
                } else
                        json_object_set_new(t, "message",
                                            json_sprintf("port %s/%s was historically used by "
                                                         "malware (%.300s); %s",
                                                         port, proto, names, msg));
        }
        json_array_foreach(listeners, j, l) {
                json_t *kept = json_array();
                json_array_foreach(json_object_get(l, "findings"), k, f) {
                        const char *code = json_string_value(json_object_get(f, "code")) ?: "";
                        if (!STREQ(code, "legacy-port") && !STREQ(code, "trojan-history"))
                                json_array_append(kept, f);
                }
                json_object_set_new(l, "findings", kept);
        }
}

/* One port: the registry, who listens there, and the findings. */
static int route_port(const struct module_ctx *ctx, char **params, json_t **ret,
                      struct module_error *e) {
        json_t *lst = NULL, *o;
        uint16_t port;
        int r = parse_port(params[0], &port, e);

        if (r < 0)
                return r;
        r = listing(ctx, false, port, &lst, e);
        if (r < 0)
                return r;
        o = registry_answer(port);
        if (!o) {
                json_decref(lst);
                return -ENOMEM;
        }
        port_wide_once(params[0], json_object_get(o, "trojan_history"),
                       json_object_get(lst, "listeners"));
        json_object_set(o, "listeners", json_object_get(lst, "listeners"));
        json_object_set(o, "owners_known", json_object_get(lst, "owners_known"));
        json_decref(lst);
        *ret = o;
        return 0;
}

static int ports_status(const struct module_ctx *ctx, json_t **ret, struct module_error *e) {
        json_t *lst = NULL, *l, *f;
        size_t i, j, warnings = 0, infos = 0, news = 0;
        int r = listing(ctx, false, -1, &lst, e);

        if (r < 0)
                return r;
        json_array_foreach(json_object_get(lst, "listeners"), i, l)
                json_array_foreach(json_object_get(l, "findings"), j, f) {
                const char *sev = json_string_value(json_object_get(f, "severity"));
                if (STREQ(json_string_value(json_object_get(f, "code")), "new"))
                        news++;
                if (sev && STREQ(sev, "info"))
                        infos++;
                else
                        warnings++;
        }
        *ret = json_pack("{s:s, s:I, s:I, s:I, s:I, s:O, s:O}", "state",
                         warnings ? "degraded" : "running", "listeners",
                         (json_int_t)json_array_size(json_object_get(lst, "listeners")), "warnings",
                         (json_int_t)warnings, "notices", (json_int_t)infos, "new",
                         (json_int_t)news, "gone", json_object_get(lst, "gone"), "baseline",
                         json_object_get(lst, "baseline"));
        json_decref(lst);
        if (*ret && warnings &&
            json_object_set_new(*ret, "reason",
                                json_sprintf("%zu finding%s of warning or critical severity "
                                             "(steward ports)",
                                             warnings, warnings == 1 ? "" : "s")) < 0) {
                json_decref(*ret);
                *ret = NULL;
        }
        return *ret ? 0 : -ENOMEM;
}

static int ports_fullstatus(const struct module_ctx *ctx, json_t **ret, struct module_error *e) {
        json_t *st = NULL, *lst = NULL;
        int r = ports_status(ctx, &st, e);
        if (r >= 0)
                r = listing(ctx, false, -1, &lst, e);
        if (r < 0) {
                json_decref(st);
                return r;
        }
        json_object_set(st, "listeners", json_object_get(lst, "listeners"));
        json_decref(lst);
        *ret = st;
        return 0;
}

/* GET /api/v1/ports for the OpenAPI document: the listener of docs/api.md. */
static const char listeners_schema[] =
        "{\"type\": \"object\", \"required\": [\"listeners\"], \"properties\": {"
        "\"owners_known\": {\"type\": \"boolean\"},"
        "\"listeners\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
        " \"required\": [\"protocol\", \"family\", \"address\", \"port\", \"scope\", \"state\"],"
        " \"properties\": {"
        "  \"protocol\": {\"type\": \"string\", \"enum\": [\"tcp\", \"udp\"]},"
        "  \"family\": {\"type\": \"string\", \"enum\": [\"ipv4\", \"ipv6\"]},"
        "  \"address\": {\"type\": \"string\"}, \"port\": {\"type\": \"integer\"},"
        "  \"scope\": {\"type\": \"string\", \"enum\": [\"loopback\", \"address\", \"all\"]},"
        "  \"state\": {\"type\": \"string\"},"
        "  \"processes\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
        "   \"pid\": {\"type\": \"integer\"}, \"command\": {\"type\": \"string\"},"
        "   \"exe\": {\"type\": \"string\"}, \"user\": {\"type\": \"string\"},"
        "   \"unit\": {\"type\": \"string\"}}}},"
        "  \"registry\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
        "   \"service\": {\"type\": \"string\"}, \"protocol\": {\"type\": \"string\"},"
        "   \"description\": {\"type\": \"string\"}}}},"
        "  \"findings\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"
        "   \"code\": {\"type\": \"string\"},"
        "   \"severity\": {\"type\": \"string\", \"enum\": [\"info\", \"warning\", \"critical\"]},"
        "   \"message\": {\"type\": \"string\"}}}}}}}}}";

static const module_route_t routes[] = {
        {"GET", "api/v1/ports", ROLE_MONITOR, route_list, .response = listeners_schema,
         .flags = "all",
         .summary =
                 "Listening sockets with owner, registry and findings (?all=1: connections too)"},
        {"GET", "api/v1/ports/registry/*", ROLE_MONITOR, route_registry, .params = "port",
         .summary = "IANA registry records for a port"},
        {"GET", "api/v1/ports/*", ROLE_MONITOR, route_port, .params = "port",
         .summary = "What listens on one port"},
};

static const command_def_t commands[] = {
        {.name = "baseline_save",
         .summary = "Save the current listeners as the baseline that new/gone are judged against",
         .changes_state = true,
         .run = cmd_baseline_save},
};

const module_t module_ports = {
        .name = "ports",
        .summary = "Listening sockets: owners, IANA registry, findings, baseline",
        .console_title = "Ports",
        .console_overview = true,
        .status = ports_status,
        .fullstatus = ports_fullstatus,
        .privileged_read = ports_privileged_read,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .commands = commands,
        .n_commands = ELEMENTSOF(commands),
        .events = ports_events,
        .n_events = ELEMENTSOF(ports_events),
        .events_attach = ports_events_attach,
        .events_poll = ports_events_poll,
};
