/* helper.c — the privileged helper's dispatcher and operations.
 *
 * Every operation is one row of helper_ops (common/helperops.h: name,
 * lowest role, flags, argument schema) and one handler in `handlers`,
 * indexed by enum helper_op.  helper_dispatch checks the session, the role
 * and the arguments against the row before the handler runs, and writes
 * the audit record of an audited operation from what its handler put in
 * struct op_record: handlers never call audit() themselves.  Adding an
 * operation touches the enum and its row, the handler, the front's stub
 * (daemon/helperstubs.c) and the tests that walk the table.
 *
 * Two kinds of operations run in a forked worker, after the checks, so
 * that this process goes on answering: slow reads (HELPER_OPF_SLOW), whose
 * worker answers itself, and audited operations that may wait
 * (HELPER_OPF_WORKER: item actions), whose worker leaves its outcome in a
 * memfd for this process to record and answer — only this process writes
 * the store.
 *
 * The helper re-validates everything the front already validated (settings
 * against the schema, command arguments, names): the front may be
 * compromised, and what a compromised front can get done here is exactly
 * what a valid session of that role could do through the API.
 */
#include "helper.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "certinfo.h"
#include "authority.h"
#include "change.h"
#include "files.h"
#include "helperops.h"
#include "images.h"
#include "log.h"
#include "loginsrc.h"
#include "metricsdb.h"
#include "modstate.h"
#include "module.h"
#include "config.h"
#include "proto.h"
#include "registry.h"
#include "roles.h"
#include "sessions.h"
#include "sqlutil.h"
#include "store.h"
#include "syslogfwd.h"
#include "throttle.h"
#include "util.h"

#define PAM_SERVICE              "steward"
#define PEER_SESSION_SECONDS     3600
#define THROTTLE_ENTRIES         4096
#define AUDIT_ROLLBACK_FILES_MAX 64
#define GOOD_SOURCES             4096
#define GOOD_SOURCE_SECONDS      (30u * 86400) /* a source that logged in is known this long */
/* module_task (task_admitted): a bucket of TASK_BURST, one more every
 * TASK_REFILL_USEC, and at most TASKS_PER_DAY in a day. */
#define TASK_BURST               10u
#define TASK_REFILL_USEC         (6u * 1000000u)
#define TASKS_PER_DAY            500u
#define TASK_DAY_USEC            (86400ull * 1000000u)

#define _cleanup_json_ _cleanup_(json_decrefp)

struct deferred_login {
        bool set;
        char user[65], source[LOGINSRC_SOURCE_MAX], reason[256];
};

/* A channel to the front (helper_serve), and the worker answering on it. */
struct channel {
        int fd;
        pid_t worker;      /* 0: none, the channel is polled */
        int pidfd;         /* the worker's, readable when it exits */
        json_t *id;        /* of the request the worker answers */
        uint64_t deadline; /* monotonic usec: killed past it */
        bool killed;
        /* An audited worker's (HELPER_OPF_WORKER): the memfd it leaves its
         * outcome in (-1: none), its request and the session it was checked
         * for; the record and the answer are this process's to write. */
        int outcome_fd;
        json_t *req;
        struct session s;
};

struct helper {
        int answer_fd; /* a descriptor to pass with the answer, or -1 */
        struct channel ch[HELPER_CHANNELS_MAX];
        size_t n_ch;
        int cur_ch;     /* the channel whose request is being handled, or -1 */
        bool worker;    /* this process is a worker: answer, then exit */
        int outcome_fd; /* an audited worker: where its outcome goes, else -1 */
        struct store *store;
        struct throttle *throttle;
        struct throttle *good_sources;       /* "USER ip:ADDR" that logged in (op_login) */
        struct loginsrc_listeners listeners; /* the TCP listeners logins may come from */
        struct deferred_login deferred; /* a refused login's record, written after the answer */
        struct authority *authority;    /* the accounts' state now, cached briefly */
        char *bootstrap_path;
        char *peer_socket;                 /* the local socket's path (helper_set_peer_socket) */
        uint64_t logins_ok, logins_failed; /* since the helper started */
        uint64_t last_tick_usec;           /* monotonic: the last helper_tick */
        /* module_task's bucket (task_admitted), monotonic times: */
        uint64_t task_fill_usec;  /* when task_tokens was last refilled (0: full) */
        unsigned task_tokens;     /* tasks admitted now, up to TASK_BURST */
        uint64_t task_day_usec;   /* the start of the day tasks_today counts */
        unsigned tasks_today;     /* admitted in it */
        /* audit_check's last verdict (owned), and the chain it was for:
         * its head id and the database's data version (op_audit_check). */
        struct syslogfwd *forwarder; /* the audit records' syslog copy, or NULL */
        json_t *audit_verdict;
        int64_t audit_verdict_head;
        int64_t audit_verdict_version;
};

/* What the record of an audited operation (HELPER_OPF_AUDITED) says.  The
 * handler fills it through op_record(); helper_dispatch writes it once the
 * handler has returned, with the handler's result (or, for refusal, a
 * refusal whatever the handler returned), and puts the new record's id in
 * the answer under id_key.  Handlers never write records themselves. */
struct op_record {
        bool due;
        char module[128];
        char operation[256];
        json_t *args, *files; /* owned; files with their images, kept root-only */
        int64_t rollback_of;
        const char *id_key; /* static: "audit_id", "record" */
        bool refusal;
        struct module_error why; /* the refusal's reason */
};

struct caller {
        bool has_session;
        struct session s;
        const char *source;       /* where the request came from, as the front saw it */
        struct op_record *record; /* the dispatcher's, for audited operations; else NULL */
};

/* A handler: args checked against its row of helper_ops (helperops.h). */
typedef int (*op_fn)(struct helper *h, const struct caller *c, json_t *args, int fd, json_t **ret,
                     struct module_error *e);

static int64_t now_s(void) {
        return (int64_t)(realtime_usec() / 1000000u);
}

static void session_limits(struct session_limits *l) {
        struct steward_config c;
        steward_config_get(&c);
        l->idle_timeout = c.session_idle_timeout;
        l->lifetime = c.session_lifetime;
}

/* The role map from the live configuration; names point into *c. */
struct role_lists {
        const char *admin[STEWARD_MAX_GROUPS + 1], *operator[STEWARD_MAX_GROUPS + 1],
                *monitor[STEWARD_MAX_GROUPS + 1];
};

static void fill_list(const struct setting_list *g, const char **dst) {
        for (size_t i = 0; i < g->n; i++)
                dst[i] = g->name[i];
        dst[g->n] = NULL;
}

static struct role_map role_map(const struct steward_config *c, struct role_lists *l) {
        fill_list(&c->admin_groups, l->admin);
        fill_list(&c->operator_groups, l->operator);
        fill_list(&c->monitor_groups, l->monitor);
        return (struct role_map){
                .admin_groups = l->admin,
                .operator_groups = l->operator,
                .monitor_groups = l->monitor,
                .allow_root_login = c->allow_root_login,
        };
}

/* "sudo, steward-admin (admin), steward-operator (operator) or …", cut to
 * fit dst. */
static void role_groups_text(const struct role_lists *l, char *dst, size_t cap) {
        const char *const *lists[] = {l->admin, l->operator, l->monitor };
        static const char *const roles[] = {"admin", "operator", "monitor"};
        size_t len = 0, total = 0, seen = 0;

        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                total += lists[i][0] ? 1 : 0;
        dst[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                int n;

                if (!lists[i][0])
                        continue;
                seen++;
                n = snprintf(dst + len, cap - len, "%s",
                             seen == 1       ? ""
                             : seen == total ? " or "
                                             : ", ");
                for (size_t g = 0; n >= 0 && (size_t)n < cap - len && lists[i][g]; g++) {
                        len += (size_t)n;
                        n = snprintf(dst + len, cap - len, "%s%s", g ? ", " : "", lists[i][g]);
                }
                if (n < 0 || (size_t)n >= cap - len)
                        return; /* cut: what fits is printed */
                len += (size_t)n;
                n = snprintf(dst + len, cap - len, " (%s)", roles[i]);
                if (n < 0 || (size_t)n >= cap - len)
                        return;
                len += (size_t)n;
        }
        if (total == 0)
                snprintf(dst, cap, "no group");
}

static const char *str_arg(json_t *args, const char *key) {
        return json_string_value(json_object_get(args, key));
}

/* A record's result: "refused" when an authorization or a guard said no
 * (-EPERM, 401, 403) and so nothing was tried, "error" for any other
 * failure. */
static const char *audit_result(int r, const struct module_error *e) {
        if (r >= 0)
                return "ok";
        if (r == -EPERM || (e && (e->status == 401 || e->status == 403)))
                return "refused";
        return "error";
}

/* One log line a written audit record, with its id, so the journal can be
 * searched by STEWARD_AUDIT_ID, STEWARD_USER, STEWARD_MODULE….  A record
 * written inside a transaction that then fails is followed by the error. */
static void log_audit(const struct audit_entry *a, int64_t id) {
        const char *module = a->module && *a->module ? a->module : "-";

        log_fields(STREQ(a->result, "ok") ? LOG_LEVEL_NOTICE : LOG_LEVEL_WARNING,
                   &(struct log_fields){.user = a->user,
                                        .source = a->source,
                                        .module = a->module,
                                        .operation = a->operation,
                                        .audit_id = id},
                   "audit record %lld: %s %s by \"%.64s\" from %s: %s%s%.200s", (long long)id,
                   module, a->operation, a->user && *a->user ? a->user : "-",
                   a->source && *a->source ? a->source : "-", a->result, a->message ? ": " : "",
                   a->message ? a->message : "");
}

static void audit(struct helper *h, const struct caller *c, const char *module,
                  const char *operation, json_t *args, int r, const struct module_error *e,
                  json_t *files, int64_t rollback_of, int64_t *ret_id) {
        json_t *a = args ? json_deep_copy(args) : NULL;
        struct audit_entry entry = {
                .user = c->has_session ? c->s.user : "",
                .role = c->has_session ? role_to_string(c->s.role) : "none",
                .source = c->source ? c->source : "",
                .session_id = c->has_session ? c->s.id : 0,
                .module = module,
                .operation = operation,
                .args = a,
                .result = audit_result(r, e),
                .message = r < 0 && e ? e->message : NULL,
                .files = files,
                .rollback_of = rollback_of,
        };
        int64_t id = 0;
        int q = audit_append(h->store, &entry, now_s(), &id);
        json_decref(a);
        if (q < 0)
                log_error_errno(q, "cannot write the audit record for %s %s", module, operation);
        else
                log_audit(&entry, id);
        if (ret_id)
                *ret_id = q < 0 ? 0 : id;
}

/* Asks the dispatcher for the record of this request (struct op_record):
 * module, operation and arguments as the record shows them, and the files
 * of the change, if any.  A later call replaces an earlier one. */
static void op_record(const struct caller *c, const char *module, const char *operation,
                      json_t *args, json_t *files) {
        struct op_record *rec = c->record;

        if (!rec) {
                log_error("helper: a record for %s %s asked outside an audited operation", module,
                          operation);
                return;
        }
        json_decref(rec->args);
        json_decref(rec->files);
        rec->due = true;
        snprintf(rec->module, sizeof rec->module, "%s", module ? module : "");
        snprintf(rec->operation, sizeof rec->operation, "%s", operation);
        rec->args = args ? json_deep_copy(args) : NULL;
        rec->files = files ? json_incref(files) : NULL;
}

/* What the record of a refused request shows of its arguments: the plain
 * top-level ones (strings cut short, nested values left out), so a session
 * cannot make a huge record by being refused. */
static json_t *refused_args(json_t *args) {
        json_t *shown = json_object();
        const char *k;
        json_t *v;
        size_t n = 0;

        json_object_foreach(args, k, v) {
                if (!shown || n++ == 16 || strlen(k) > 64)
                        break;
                if (json_is_string(v))
                        json_object_set_new(shown, k, json_sprintf("%.256s", json_string_value(v)));
                else if (json_is_number(v) || json_is_boolean(v))
                        json_object_set(shown, k, v);
        }
        return shown;
}

/* ---- sessions ---------------------------------------------------------- */

static json_t *session_json(const struct session *s) {
        return json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)s->id, "kind", s->kind,
                         "user", s->user, "role", role_to_string(s->role), "expires_at",
                         (json_int_t)s->expires_at);
}

/* Records that an account's credentials went with the account. */
static void audit_revoked(struct helper *h, const struct caller *c, const char *user, int64_t uid,
                          int n) {
        json_t *args = json_pack("{s:s, s:o, s:s, s:i}", "user", user, "uid",
                                 uid >= 0 ? json_integer(uid) : json_null(), "reason",
                                 "the account is gone or its name has another uid", "revoked", n);

        log_notice("credentials of \"%s\" revoked: the account is gone or its name has another "
                   "uid (%d deleted)",
                   user, n);
        audit(h, c, "sessions", "revoke", args, 0, NULL, NULL, 0, NULL);
        json_decref(args);
}

static void swept(const char *user, int64_t uid, int n, void *data) {
        const struct caller c = {.source = "stewardd"};
        audit_revoked(data, &c, user, uid, n);
}

/* Revokes the credentials of every account that is gone now. */
static void sweep_accounts(struct helper *h) {
        struct steward_config cfg;
        struct role_lists lists;
        struct role_map map;
        int r;

        steward_config_get(&cfg);
        map = role_map(&cfg, &lists);
        r = authority_sweep(h->authority, h->store, &map, now_s(), swept, h);
        if (r < 0)
                log_error_errno(r, "cannot revoke the credentials of deleted accounts");
}

/* Acts for s with the role its account has now (authority.h); a credential
 * whose account is gone is revoked here, and that is audited. */
static int session_authority(struct helper *h, const char *source, struct session *s,
                             struct module_error *e) {
        struct steward_config cfg;
        struct role_lists lists;
        struct role_map map;
        int revoked = 0, r;

        steward_config_get(&cfg);
        map = role_map(&cfg, &lists);
        r = authority_check(h->authority, h->store, &map, now_s(), s, &revoked);
        if (r == -ENOENT) {
                const struct caller c = {.has_session = true, .s = *s, .source = source};
                audit_revoked(h, &c, s->user, s->uid, revoked);
        }
        if (r == -ENOENT || r == -EACCES) {
                module_error_set(e, 401, "unauthenticated", NULL, "invalid session");
                return r;
        }
        if (r < 0) {
                module_error_set(e, 503, "unavailable", NULL, "cannot look the account up: %s",
                                 strerror(-r));
                return r;
        }
        return 0;
}

/* Creates a session or token bound to its account's uid (or to none). */
static int session_new(struct helper *h, const char *kind, const char *user, int64_t uid,
                       enum role role, const char *name, int64_t expires_at, const char *source,
                       int64_t created_by, char **ret_secret, char **ret_csrf,
                       struct session *ret) {
        _cleanup_free_ char *secret = NULL, *csrf = NULL;
        struct session s;
        bool own = false;
        int r;

        /* One transaction, so one commit (one fsync of the journal: with
         * synchronous=FULL that was two of a login's few milliseconds
         * besides the password hash); the row is never seen unbound. */
        r = tx_begin(h->store, &own);
        if (r < 0)
                return r;
        r = sessions_create(h->store, kind, user, role, name, expires_at, source, created_by,
                            now_s(), &secret, ret_csrf ? &csrf : NULL, &s);
        if (r >= 0)
                r = sessions_bind_uid(h->store, s.id, uid);
        r = tx_end(h->store, own, r);
        if (r < 0)
                return r;
        s.uid = uid;
        *ret_secret = TAKE_PTR(secret);
        if (ret_csrf)
                *ret_csrf = TAKE_PTR(csrf);
        *ret = s;
        return 0;
}

static int op_session_check(struct helper *h, const struct caller *c, json_t *args, int fd,
                            json_t **ret, struct module_error *e) {
        struct session_limits lim;
        struct session s;
        const char *secret = str_arg(args, "secret");
        int r;

        if (!secret) {
                module_error_set(e, 400, "bad_request", "secret", "no secret given");
                return -EINVAL;
        }
        session_limits(&lim);
        r = sessions_check(h->store, secret, &lim, now_s(), &s);
        if (r < 0) {
                module_error_set(e, 401, "unauthenticated", NULL,
                                 r == -ETIMEDOUT ? "session expired" : "invalid token");
                return r;
        }
        r = session_authority(h, c->source, &s, e);
        if (r < 0)
                return r;
        *ret = session_json(&s);
        return 0;
}

static int op_csrf_check(struct helper *h, const struct caller *c, json_t *args, int fd,
                         json_t **ret, struct module_error *e) {
        const char *csrf = str_arg(args, "csrf");
        if (!csrf || !sessions_csrf_ok(h->store, c->s.id, csrf)) {
                module_error_set(e, 403, "csrf", NULL, "missing or wrong X-CSRF-Token");
                return -EPERM;
        }
        *ret = json_object();
        return 0;
}

static int op_csrf_renew(struct helper *h, const struct caller *c, json_t *args, int fd,
                         json_t **ret, struct module_error *e) {
        _cleanup_free_ char *csrf = NULL;
        int r = sessions_csrf_renew(h->store, c->s.id, &csrf);

        if (r < 0) {
                module_error_set(e, r == -ENOENT ? 400 : 500,
                                 r == -ENOENT ? "bad_request" : "internal", NULL,
                                 r == -ENOENT ? "only a login session has a CSRF token"
                                              : "cannot renew the CSRF token");
                return r;
        }
        *ret = json_pack("{s:s}", "csrf_token", csrf);
        return 0;
}

/* Whether fd is the daemon's end of a connection accepted on the local
 * socket.  SO_PEERCRED of anything else says nothing about a client: the
 * listening socket itself, or a socket connected TO it, carries the
 * credentials of whoever called listen() (root); a socketpair, those of
 * its maker.  The accepted end alone is named after the listener. */
static bool accepted_on_peer_socket(struct helper *h, int fd) {
        struct sockaddr_un sa = {0};
        socklen_t sl = sizeof sa;
        int v = 0;
        socklen_t vl = sizeof v;
        size_t n;

        if (!h->peer_socket)
                return false;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vl) < 0 || v != AF_UNIX)
                return false;
        vl = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0 || v != SOCK_STREAM)
                return false;
        vl = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) < 0 || v != 0)
                return false;
        if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 ||
            sl <= offsetof(struct sockaddr_un, sun_path) || sl > sizeof sa)
                return false;
        n = sl - offsetof(struct sockaddr_un, sun_path);
        if (sa.sun_path[0] == '\0') /* abstract, not the listener's path */
                return false;
        n = strnlen(sa.sun_path, n);
        return n == strlen(h->peer_socket) && memcmp(sa.sun_path, h->peer_socket, n) == 0;
}

static int op_peer_session(struct helper *h, const struct caller *c, json_t *args, int fd,
                           json_t **ret, struct module_error *e) {
        struct steward_config cfg;
        struct role_lists lists;
        struct role_map map;
        struct ucred cred;
        socklen_t len = sizeof cred;
        char user[64];
        enum role role;
        _cleanup_free_ char *secret = NULL;
        struct session s;
        int r;

        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                module_error_set(e, 400, "bad_request", NULL, "no peer connection passed");
                return -EINVAL;
        }
        if (!accepted_on_peer_socket(h, fd)) {
                log_warning("helper: refused peer_session: not a connection accepted on the local "
                            "socket");
                module_error_set(e, 403, "forbidden", NULL,
                                 "not a connection accepted on the local socket");
                return -EPERM;
        }
        steward_config_get(&cfg);
        map = role_map(&cfg, &lists);
        r = auth_role_for_uid(cred.uid, &map, &role, user, sizeof user);
        if (r < 0 || role == ROLE_NONE) {
                char groups[3 * STEWARD_MAX_GROUPS * 40];

                /* One sentence the CLI prints as is: who has a role here. */
                role_groups_text(&lists, groups, sizeof groups);
                module_error_set(e, 403, "forbidden", NULL,
                                 "uid %u has no Steward role: on the local socket root and the "
                                 "members of %s have one (the settings stewardd:auth:*_groups)",
                                 (unsigned)cred.uid, groups);
                return -EPERM;
        }
        r = session_new(h, "peer", user, cred.uid, role, "", now_s() + PEER_SESSION_SECONDS,
                        c->source ? c->source : "unix", 0, &secret, NULL, &s);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot create a session: %s",
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:s, s:s, s:s, s:I}", "secret", secret, "user", user, "role",
                         role_to_string(role), "id", (json_int_t)s.id);
        return 0;
}

/* The front ends a local connection's session when the connection closes:
 * only the peer session the request is made with, never another. */
static int op_peer_end(struct helper *h, const struct caller *c, json_t *args, int fd, json_t **ret,
                       struct module_error *e) {
        if (!STREQ(c->s.kind, "peer")) {
                module_error_set(e, 400, "bad_request", NULL, "not a local connection's session");
                return -EINVAL;
        }
        (void)sessions_delete(h->store, c->s.id);
        *ret = json_pack("{s:s}", "result", "ok");
        return *ret ? 0 : -ENOMEM;
}

/* The throttle's settings: for sources (delays, then a block), or for a
 * user name (the same delays, capped, and never a block: anyone can fail as
 * anyone, so a block per user would let any stranger lock an administrator
 * out; blocks belong to sources). */
static struct throttle_config throttle_settings(bool per_user) {
        struct steward_config cfg;

        steward_config_get(&cfg);
        return (struct throttle_config){
                .free_attempts = cfg.throttle_free_attempts,
                .base_delay = cfg.throttle_base_delay,
                .max_delay = cfg.throttle_max_delay,
                .block_after = per_user ? 0 : cfg.throttle_block_after,
                .block_seconds = cfg.throttle_block_seconds,
        };
}

static bool throttled(struct helper *h, const char *key, bool per_user, struct module_error *e) {
        struct throttle_config tc = throttle_settings(per_user);
        int64_t retry = 0;
        int r;

        r = throttle_check(h->throttle, key, &tc, (int64_t)(now_usec() / 1000u), &retry);
        if (r >= 0)
                return false;
        module_error_set(e, 429, "throttled", NULL,
                         r == -EACCES ? "too many failed logins: blocked for %lld s"
                                      : "too many failed logins: retry in %lld s",
                         (long long)retry);
        snprintf(e->field, sizeof e->field, "%lld", (long long)retry); /* Retry-After */
        return true;
}

static void throttle_fail(struct helper *h, const char *key, bool per_user) {
        struct throttle_config tc = throttle_settings(per_user);
        throttle_failure(h->throttle, key, &tc, (int64_t)(now_usec() / 1000u));
}

/* The pairs of user and source that logged in: such a source is spared
 * the delay that other sources' failures put on the user.  In memory, so a
 * restart forgets them (and the failures with them). */
static const struct throttle_config good_sources_config = {.block_seconds = GOOD_SOURCE_SECONDS};

static void good_source_key(const char *user, const char *ipkey, char *dst, size_t n) {
        snprintf(dst, n, "%.64s %s", user, ipkey);
}

static bool good_source(struct helper *h, const char *user, const char *ipkey) {
        char key[160];
        good_source_key(user, ipkey, key, sizeof key);
        return throttle_has(h->good_sources, key, &good_sources_config,
                            (int64_t)(now_usec() / 1000u));
}

static void good_source_add(struct helper *h, const char *user, const char *ipkey) {
        char key[160];
        good_source_key(user, ipkey, key, sizeof key);
        throttle_failure(h->good_sources, key, &good_sources_config, (int64_t)(now_usec() / 1000u));
}

/* Where a login comes from: the address of the client's connection, which
 * the front passes (loginsrc.h), or the unix socket's peer.  Without a
 * descriptor (callers in-process) every such login shares one source. */
struct login_from {
        char source[LOGINSRC_SOURCE_MAX];
        char key[LOGINSRC_KEY_MAX];
};

static int login_from(struct helper *h, int fd, struct login_from *ret, struct module_error *e) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        int r;

        if (fd < 0) {
                *ret = (struct login_from){.source = "unknown", .key = "ip:unknown"};
                return 0;
        }
        if (accepted_on_peer_socket(h, fd) &&
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) >= 0) {
                snprintf(ret->source, sizeof ret->source, "unix:uid=%u,pid=%d", (unsigned)cred.uid,
                         (int)cred.pid);
                snprintf(ret->key, sizeof ret->key, "uid:%u", (unsigned)cred.uid);
                return 0;
        }
        r = loginsrc_from_fd(&h->listeners, fd, ret->source, ret->key);
        if (r < 0) {
                log_warning("helper: refused a login: the descriptor passed is not a client's "
                            "connection to this daemon (%s)",
                            strerror(-r));
                module_error_set(e, 400, "bad_request", NULL, "no client connection passed");
        }
        return r;
}

/* The journal fields of a login's log lines. */
/* The user name of a login as it may be logged: a name of the usual
 * grammar ([A-Za-z0-9._-], a trailing $ for machine accounts, at most 64
 * bytes, not starting with '-'), else a placeholder.  A password or a token
 * typed into the user field must not end up in the journal; a token keeps
 * its "stw_" prefix and is never a name. */
static const char *loggable_user(const char *u) {
        size_t n = strnlen(u, 65);

        if (n == 0 || n > 64 || u[0] == '-' || strncmp(u, "stw_", 4) == 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(isalnum((unsigned char)u[i]) || strchr("._-", u[i]) ||
                      (u[i] == '$' && i == n - 1)))
                        return NULL;
        return u;
}

#define LOGGED_USER(u) (loggable_user(u) ?: "(not a user name)")

#define LOGIN_FIELDS(u, src)                                                                       \
        (&(struct log_fields){.user = (u), .source = (src), .module = "auth", .operation = "login"})

/* The record of a login that was refused although the credentials were
 * right: the client was told only "wrong user or password". */
static void audit_login(struct helper *h, const char *user, enum role role, const char *source,
                        const char *how, const char *result, const char *message) {
        struct audit_entry entry = {
                .user = user,
                .role = role_to_string(role),
                .source = source,
                .module = "auth",
                .operation = "login",
                .args = json_pack("{s:s}", "method", how),
                .result = result,
                .message = message,
        };
        int64_t id = 0;
        int r = audit_append(h->store, &entry, now_s(), &id);

        json_decref(entry.args);
        if (r < 0)
                log_error_errno(r, "cannot write the audit record of a login of \"%s\"", user);
        else
                log_audit(&entry, id);
}

/* The audit record of a refused login is written after the answer has
 * gone (helper_serve): a write to the store takes milliseconds, which a
 * wrong password's answer would not, and the time of the answer must not
 * tell them apart. */
static void defer_login_audit(struct helper *h, const char *user, const char *source,
                              const char *reason) {
        struct deferred_login *d = &h->deferred;

        if (d->set) /* one at most: the previous request's went out already */
                audit_login(h, d->user, ROLE_NONE, d->source, "password", "refused", d->reason);
        *d = (struct deferred_login){.set = true};
        snprintf(d->user, sizeof d->user, "%s", user);
        snprintf(d->source, sizeof d->source, "%s", source);
        snprintf(d->reason, sizeof d->reason, "%s", reason);
}

static void flush_deferred(struct helper *h) {
        struct deferred_login *d = &h->deferred;

        if (!d->set)
                return;
        d->set = false;
        audit_login(h, d->user, ROLE_NONE, d->source, "password", "refused", d->reason);
}

static int login_result(struct helper *h, const char *source, const char *user, int64_t uid,
                        enum role role, json_t **ret, struct module_error *e) {
        struct steward_config cfg;
        _cleanup_free_ char *secret = NULL, *csrf = NULL;
        struct session s;
        int64_t now = now_s();
        int r;

        steward_config_get(&cfg);
        r = session_new(h, "session", user, uid, role, "", now + cfg.session_lifetime, source, 0,
                        &secret, &csrf, &s);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot create a session: %s",
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "token", secret, "csrf_token", csrf,
                         "user", user, "role", role_to_string(role), "expires_at",
                         (json_int_t)s.expires_at, "session_id", (json_int_t)s.id);
        return 0;
}

/* Why an account whose password was right may still not log in, or NULL. */
static const char *login_refusal(const char *user, enum role *ret_role, int64_t *ret_uid) {
        struct steward_config cfg;
        struct role_lists lists;
        struct role_map map;
        uid_t uid = 0;
        int r;

        /* The bootstrap token's sessions and tokens are named "bootstrap"
         * and belong to no account: an account of that name never logs in. */
        if (STREQ(user, "bootstrap"))
                return "the name bootstrap is reserved for the bootstrap token";
        steward_config_get(&cfg);
        map = role_map(&cfg, &lists);
        r = auth_role_for_user(user, &map, ret_role, &uid);
        if (r < 0 || *ret_role == ROLE_NONE)
                return "no Steward role";
        *ret_uid = (int64_t)uid;
        if (uid == 0 && !cfg.allow_root_login)
                return "root login is disabled (stewardd:auth:allow_root_login)";
        return NULL;
}

/* A login.  Every refusal a stranger could provoke answers exactly like a
 * wrong password (401 login_failed, the same message), and PAM runs every
 * time, so neither the answer nor its timing tells that the password was
 * right for an account that has no role, is root, or is expired or locked;
 * the reason goes to the log (one line, fit for fail2ban: such attempts
 * count as failures there too, or a ban would tell) and, when the password
 * was right, to the audit log.  Wrong passwords are not audited: strangers
 * could fill the audit log, which is never pruned; the log line and the
 * counters have them. */
static int op_login(struct helper *h, const struct caller *c, json_t *args, int fd, json_t **ret,
                    struct module_error *e) {
        const char *user = str_arg(args, "user"), *password = str_arg(args, "password");
        const char *refusal = NULL;
        char userkey[128], msg[256];
        struct login_from from;
        enum role role = ROLE_NONE;
        int64_t uid = SESSION_UID_NONE;
        bool known;
        int r;

        if (!user || !password || json_object_size(args) != 2) {
                module_error_set(e, 400, "bad_request", NULL, "give user and password");
                return -EINVAL;
        }
        r = login_from(h, fd, &from, e);
        if (r < 0)
                return r;
        snprintf(userkey, sizeof userkey, "user:%.64s", user);
        /* A source that logged in as this user before is spared the delay
         * others' failures put on the user; its own failures still count. */
        known = good_source(h, user, from.key);
        if (throttled(h, from.key, false, e) || (!known && throttled(h, userkey, true, e))) {
                log_fields(LOG_LEVEL_WARNING, LOGIN_FIELDS(loggable_user(user), from.source),
                           "login failed for user \"%.64s\" from %s: %s", LOGGED_USER(user),
                           from.source, e->message);
                return -EAGAIN;
        }
        r = auth_pam(PAM_SERVICE, user, password, msg, sizeof msg);
        if (r == -EIO) {
                log_fields(LOG_LEVEL_WARNING, LOGIN_FIELDS(loggable_user(user), from.source),
                           "login failed for user \"%.64s\" from %s: %s", LOGGED_USER(user),
                           from.source, msg);
                module_error_set(e, 500, "internal", NULL, "%s", msg);
                return r;
        }
        /* The role is looked up whatever PAM said, so that a wrong password
         * costs what a refused right one does. */
        refusal = login_refusal(user, &role, &uid);
        if (r == -EPERM) /* the password was right; the account may not log in */
                refusal = msg;
        else if (r < 0)
                refusal = NULL;
        if (r < 0 || refusal) {
                throttle_fail(h, from.key, false);
                throttle_fail(h, userkey, true);
                if (refusal) {
                        log_fields(LOG_LEVEL_WARNING,
                                   LOGIN_FIELDS(loggable_user(user), from.source),
                                   "login failed for user \"%.64s\" from %s: right password, "
                                   "but %s",
                                   LOGGED_USER(user), from.source, refusal);
                        defer_login_audit(h, user, from.source, refusal);
                } else
                        log_fields(LOG_LEVEL_WARNING,
                                   LOGIN_FIELDS(loggable_user(user), from.source),
                                   "login failed for user \"%.64s\" from %s: %s", LOGGED_USER(user),
                                   from.source, msg);
                module_error_set(e, 401, "login_failed", NULL, "%s", AUTH_MSG_WRONG);
                return -EACCES;
        }
        throttle_success(h->throttle, userkey);
        throttle_success(h->throttle, from.key);
        good_source_add(h, user, from.key);
        r = login_result(h, from.source, user, uid, role, ret, e);
        if (r >= 0)
                log_fields(LOG_LEVEL_INFO, LOGIN_FIELDS(loggable_user(user), from.source),
                           "login of \"%s\" (%s) from %s", user, role_to_string(role), from.source);
        return r;
}

static int op_login_bootstrap(struct helper *h, const struct caller *c, json_t *args, int fd,
                              json_t **ret, struct module_error *e) {
        const char *token = str_arg(args, "token");
        struct session_limits lim;
        struct login_from from;
        struct session s;
        int r;

        r = login_from(h, fd, &from, e);
        if (r < 0)
                return r;
        if (throttled(h, from.key, false, e))
                return -EAGAIN;
        session_limits(&lim);
        r = token ? sessions_check(h->store, token, &lim, now_s(), &s) : -ENOENT;
        if (r < 0 || !STREQ(s.kind, "bootstrap")) {
                throttle_fail(h, from.key, false);
                log_fields(LOG_LEVEL_WARNING, LOGIN_FIELDS("bootstrap", from.source),
                           "login failed for user \"bootstrap\" from %s: invalid bootstrap token",
                           from.source);
                module_error_set(e, 401, "login_failed", NULL, "invalid bootstrap token");
                return -EACCES;
        }
        r = sessions_consume(h->store, s.id);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot consume the bootstrap token");
                return r;
        }
        (void)unlink(h->bootstrap_path);
        log_fields(LOG_LEVEL_NOTICE, LOGIN_FIELDS("bootstrap", from.source),
                   "the bootstrap token was used to log in from %s; it is gone now", from.source);
        r = login_result(h, from.source, "bootstrap", SESSION_UID_NONE, ROLE_ADMIN, ret, e);
        audit_login(h, "bootstrap", ROLE_ADMIN, from.source, "bootstrap_token",
                    r < 0 ? "error" : "ok", r < 0 ? e->message : NULL);
        return r;
}

static int op_logout(struct helper *h, const struct caller *c, json_t *args, int fd, json_t **ret,
                     struct module_error *e) {
        (void)sessions_delete(h->store, c->s.id);
        *ret = json_pack("{s:s}", "result", "ok");
        return 0;
}

static bool valid_token_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || strchr("_-.@ ", s[i])))
                        return false;
        return true;
}

/* Every token expires: at most auth:max_token_lifetime from now (the
 * default when expires_in is not given), and a token made by a token no
 * later than its maker. */
static int token_expiry(const struct caller *c, json_t *exp, int64_t now, int64_t *ret,
                        struct module_error *e) {
        struct steward_config cfg;
        int64_t max, at;

        steward_config_get(&cfg);
        max = cfg.max_token_lifetime;
        if (exp && !json_is_null(exp)) {
                if (!json_is_integer(exp) || json_integer_value(exp) < 60 ||
                    json_integer_value(exp) > max) {
                        module_error_set(e, 422, "invalid_argument", "expires_in",
                                         "expires_in is a number of seconds from 60 to %lld "
                                         "(stewardd:auth:max_token_lifetime)",
                                         (long long)max);
                        return -EINVAL;
                }
                max = json_integer_value(exp);
        }
        at = now + max;
        if (STREQ(c->s.kind, "token") && c->s.expires_at > 0 && c->s.expires_at < at)
                at = c->s.expires_at;
        *ret = at;
        return 0;
}

static int op_token_create(struct helper *h, const struct caller *c, json_t *args, int fd,
                           json_t **ret, struct module_error *e) {
        const char *name = str_arg(args, "name"), *role_s = str_arg(args, "role");
        json_t *exp = json_object_get(args, "expires_in");
        bool bootstrap = STREQ(c->s.kind, "bootstrap");
        _cleanup_free_ char *secret = NULL;
        int64_t expires_at = 0, now = now_s();
        struct session s;
        int role, r;

        /* args are audited as they are: the schema (helperops.c) lets no
         * other field than these three get there. */
        if (!name || !valid_token_name(name)) {
                module_error_set(e, 422, "invalid_argument", "name",
                                 "a token needs a name of 1-64 letters, digits, spaces or _-.@");
                return -EINVAL;
        }
        role = role_s ? role_from_string(role_s) : (int)ROLE_MONITOR;
        if (role < 0) {
                module_error_set(e, 422, "invalid_argument", "role",
                                 "role must be monitor, operator or admin");
                return -EINVAL;
        }
        if (role > (int)c->s.role) {
                module_error_set(e, 403, "forbidden", "role",
                                 "a %s may not create a token with the role %s",
                                 role_to_string(c->s.role), role_s);
                _cleanup_json_ json_t *shown = refused_args(args);
                op_record(c, "tokens", "create", shown, NULL);
                return -EPERM;
        }
        r = token_expiry(c, exp, now, &expires_at, e);
        if (r < 0)
                return r;
        r = session_new(h, "token", bootstrap ? "bootstrap" : c->s.user,
                        bootstrap ? SESSION_UID_NONE : c->s.uid, (enum role)role, name, expires_at,
                        c->source ? c->source : "", bootstrap ? 0 : c->s.id, &secret, NULL, &s);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot create the token: %s",
                                 strerror(-r));
                return r;
        }
        if (bootstrap) {
                (void)sessions_consume(h->store, c->s.id);
                (void)unlink(h->bootstrap_path);
                log_notice("the bootstrap token created the token \"%s\"; it is gone now", name);
        }
        op_record(c, "tokens", "create", args, NULL);
        *ret = json_pack("{s:o, s:s, s:s, s:s, s:I}", "id", json_sprintf("%lld", (long long)s.id),
                         "token", secret, "name", name, "role", role_to_string((enum role)role),
                         "expires_at", (json_int_t)expires_at);
        return 0;
}

static int op_token_list(struct helper *h, const struct caller *c, json_t *args, int fd,
                         json_t **ret, struct module_error *e) {
        int r = sessions_list_tokens(h->store, c->s.role == ROLE_ADMIN ? NULL : c->s.user, ret);
        if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot list tokens: %s", strerror(-r));
        return r;
}

static int parse_id(json_t *v, int64_t *ret) {
        if (json_is_integer(v) && json_integer_value(v) > 0) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v))
                return safe_atoi64(json_string_value(v), ret) < 0 || *ret <= 0 ? -EINVAL : 0;
        return -EINVAL;
}

/* The object of list[key] (an array of objects) whose "id" is id, or NULL. */
static json_t *listed_id(json_t *list, const char *key, int64_t id) {
        size_t i;
        json_t *t;

        json_array_foreach(json_object_get(list, key), i, t) {
                int64_t x;
                if (parse_id(json_object_get(t, "id"), &x) >= 0 && x == id)
                        return t;
        }
        return NULL;
}

/* A credential acts only on credentials whose role is not above the role
 * it acts with now: a monitor token cannot revoke its owner's admin token
 * or end an admin session.  The listed role is the one issued; the role
 * its account has now is never higher. */
static bool may_act_on(const struct caller *c, json_t *target, const char *what, int64_t id,
                       struct module_error *e) {
        int role = role_from_string(json_string_value(json_object_get(target, "role")) ?: "");

        if (role >= 0 && role <= (int)c->s.role)
                return true;
        module_error_set(e, 403, "forbidden", NULL, "a %s may not end the %s %lld with the role %s",
                         role_to_string(c->s.role), what, (long long)id,
                         role >= 0 ? role_to_string((enum role)role) : "unknown");
        return false;
}

static int op_token_revoke(struct helper *h, const struct caller *c, json_t *args, int fd,
                           json_t **ret, struct module_error *e) {
        json_t *list = NULL, *target;
        int64_t id;
        bool found = false;
        int r;

        if (parse_id(json_object_get(args, "id"), &id) < 0 || json_object_size(args) != 1) {
                module_error_set(e, 400, "invalid_argument", "id", "a token id is a number");
                return -EINVAL;
        }
        /* Only tokens, and only one's own unless admin. */
        r = sessions_list_tokens(h->store, c->s.role == ROLE_ADMIN ? NULL : c->s.user, &list);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot list tokens");
                return r;
        }
        target = listed_id(list, "tokens", id);
        found = target && may_act_on(c, target, "token", id, e);
        json_decref(list);
        if (!target) {
                module_error_set(e, 404, "not_found", NULL, "no token %lld", (long long)id);
                return -ENOENT;
        }
        if (!found) {
                op_record(c, "tokens", "revoke", args, NULL);
                return -EPERM;
        }
        r = sessions_delete(h->store, id);
        op_record(c, "tokens", "revoke", args, NULL);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot revoke: %s", strerror(-r));
                return r;
        }
        *ret = json_pack("{s:s, s:I}", "result", "ok", "revoked", (json_int_t)id);
        return 0;
}

/* Login sessions: the caller's own, or everyone's for an admin.  Which
 * sessions are the caller's, and which one is the caller's current one, is
 * decided here from the session the request was checked against, never from
 * anything the front says. */
static int op_session_list(struct helper *h, const struct caller *c, json_t *args, int fd,
                           json_t **ret, struct module_error *e) {
        json_t *u = json_object_get(args, "user");
        const char *user = c->s.user;
        struct session_limits lim;
        int r;

        if (json_object_size(args) > (u ? 1u : 0u) ||
            (u && (!json_is_string(u) || json_string_length(u) == 0 ||
                   json_string_length(u) >= sizeof c->s.user))) {
                module_error_set(e, 400, "invalid_argument", "user", "user is an account name");
                return -EINVAL;
        }
        if (c->s.role == ROLE_ADMIN)
                user = u ? json_string_value(u) : NULL;
        else if (u && !STREQ(json_string_value(u), c->s.user))
                user = ""; /* someone else's: none that this caller may see */
        session_limits(&lim);
        r = sessions_list_logins(h->store, user, &lim, now_s(), c->s.id, ret);
        if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot list sessions: %s",
                                 strerror(-r));
        return r;
}

static int op_session_end(struct helper *h, const struct caller *c, json_t *args, int fd,
                          json_t **ret, struct module_error *e) {
        struct session_limits lim;
        json_t *list = NULL, *target;
        int64_t id;
        bool found = false;
        int r;

        if (parse_id(json_object_get(args, "id"), &id) < 0 || json_object_size(args) != 1) {
                module_error_set(e, 400, "invalid_argument", "id", "a session id is a number");
                return -EINVAL;
        }
        /* Only live login sessions, and only one's own unless admin: anything
         * else is "no such session", whether it exists or not. */
        session_limits(&lim);
        r = sessions_list_logins(h->store, c->s.role == ROLE_ADMIN ? NULL : c->s.user, &lim,
                                 now_s(), c->s.id, &list);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot list sessions");
                return r;
        }
        target = listed_id(list, "sessions", id);
        found = target && may_act_on(c, target, "session", id, e);
        json_decref(list);
        if (!target) {
                module_error_set(e, 404, "not_found", NULL, "no session %lld", (long long)id);
                return -ENOENT;
        }
        if (!found) {
                op_record(c, "sessions", "end", args, NULL);
                return -EPERM;
        }
        r = sessions_delete(h->store, id);
        op_record(c, "sessions", "end", args, NULL);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot end the session: %s",
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:s, s:I, s:b}", "result", "ok", "ended", (json_int_t)id, "current",
                         id == c->s.id);
        return *ret ? 0 : -ENOMEM;
}

/* ---- changes ----------------------------------------------------------- */

/* Who acts, for the modules. */
static struct module_ctx caller_ctx(const struct caller *c) {
        return (struct module_ctx){
                .user = c->s.user,
                .role = role_to_string(c->s.role),
                .source = c->source,
        };
}

static const module_t *module_arg(json_t *args, struct module_error *e) {
        const char *name = str_arg(args, "module");
        const module_t *m = name ? module_find(name) : NULL;
        if (!m)
                module_error_set(e, 404, "unknown_module", NULL, "unknown module \"%.64s\"",
                                 name ? name : "");
        return m;
}

/* The files of a plan as clients see them: path and diff only. */
static json_t *files_for_client(json_t *files) {
        json_t *out = json_array(), *f;
        size_t i;
        json_array_foreach(files, i, f) json_array_append_new(
                out, json_pack("{s:O, s:O}", "path", json_object_get(f, "path"), "diff",
                               json_object_get(f, "diff")));
        return out;
}

/* After the helper wrote or restored files: each module that owns one of
 * them makes its files live in this process, and is named in the answer's
 * "changed_modules" so that the front does the same.  files: [{"path"}, …].  A module whose file
 * does not parse keeps what ran before: that goes to "warnings" and the log,
 * never silently. */
/* The modules owning any of files, as the answer's "changed_modules" for the
 * front (api.c), without making anything live here. */
static void files_owners(json_t *files, json_t *answer) {
        json_t *names = json_array(), *f;

        for (size_t i = 0; names && i < steward_modules_count; i++) {
                size_t j;
                json_array_foreach(files, j, f) {
                        const char *p = json_string_value(json_object_get(f, "path"));
                        if (p && module_owns_file(steward_modules[i], p)) {
                                json_array_append_new(names,
                                                      json_string(steward_modules[i]->name));
                                break;
                        }
                }
        }
        if (json_array_size(names) > 0)
                json_object_set_new(answer, "changed_modules", names);
        else
                json_decref(names);
}

static void files_made_live(json_t *files, json_t *answer) {
        json_t *names = json_array(), *warnings = json_array(), *f;

        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                struct module_error e = {0};
                bool owned = false;
                size_t j;

                json_array_foreach(files, j, f) {
                        const char *p = json_string_value(json_object_get(f, "path"));
                        if (p && module_owns_file(m, p)) {
                                owned = true;
                                break;
                        }
                }
                if (!owned)
                        continue;
                json_array_append_new(names, json_string(m->name));
                if (module_make_live(m, /* helper= */ true, &e) < 0) {
                        log_warning("%s: %s", m->name, e.message);
                        json_array_append_new(warnings, json_string(e.message));
                }
        }
        json_object_set_new(answer, "changed_modules", names);
        if (json_array_size(warnings) == 0)
                json_decref(warnings);
        else if (json_is_array(json_object_get(answer, "warnings"))) {
                /* the plan's own warnings first */
                json_array_extend(json_object_get(answer, "warnings"), warnings);
                json_decref(warnings);
        } else
                json_object_set_new(answer, "warnings", warnings);
}

static int op_settings_apply(struct helper *h, const struct caller *c, json_t *args, int fd,
                             json_t **ret, struct module_error *e) {
        const module_t *m = module_arg(args, e);
        json_t *patch = json_object_get(args, "patch");
        bool dry_run = json_is_true(json_object_get(args, "dry_run"));
        const struct module_ctx ctx = caller_ctx(c);
        json_t *flat = NULL, *current = NULL, *changes = NULL, *plan = NULL;
        int r;

        if (!m)
                return -ENOENT;
        r = settings_flatten(m, patch, &flat, e);
        if (r >= 0) {
                r = module_settings_read(m, &current, e);
                if (r == -ENOENT)
                        r = 0; /* no settings: settings_changes says which key is unknown */
        }
        if (r >= 0)
                r = settings_changes(m, flat, current, &changes, e);
        if (r < 0)
                goto out;
        if (json_object_size(changes) == 0) {
                *ret = json_pack("{s:b, s:[], s:b, s:[], s:s}", "dry_run", dry_run, "changed",
                                 "restart_required", false, "files", "message",
                                 "nothing changed: the settings already have these values");
                goto out;
        }
        r = module_settings_apply(m, &ctx, changes, dry_run, &plan, e);
        if (!dry_run) {
                /* The record is read by monitors: a confidential setting's
                 * value (a webhook URL holding its secret) is cut there as
                 * in a read below admin; its file's diff is redacted by the
                 * plan. */
                _cleanup_json_ json_t *shown = json_deep_copy(changes);

                if (shown)
                        module_settings_redact(m, shown);
                op_record(c, m->name, "settings", shown,
                          r >= 0 ? json_object_get(plan, "files") : NULL);
                c->record->id_key = "audit_id";
        }
        if (r < 0)
                goto out;
        if (!dry_run)
                files_made_live(json_object_get(plan, "files"), plan);
        json_object_set_new(plan, "files", files_for_client(json_object_get(plan, "files")));
        *ret = TAKE_PTR(plan);
out:
        json_decref(flat);
        json_decref(current);
        json_decref(changes);
        json_decref(plan);
        return r;
}

/* The lowest role that may run a command. */
static enum role command_role(const command_def_t *cmd) {
        return (enum role)command_min_role(cmd);
}

/* ---- a streaming command's progress (module.h: ctx->progress) ---------------
 * The front passes the write end of a pipe with the request; each event
 * goes there as one line of compact JSON, which the front relays to its
 * client as it comes.  The descriptor is not trusted to be what the front
 * says: it must be a FIFO open for writing.  The bounds are the kit's
 * (COMMAND_PROGRESS_LINE_MAX, COMMAND_PROGRESS_TOTAL_MAX); once the reader
 * is gone (EPIPE) or the total is reached, every later event says -EPIPE,
 * and the command stops. */
struct progress_pipe {
        int fd; /* -1: the request does not stream */
        size_t total;
        bool gone;
};

static int progress_write(struct progress_pipe *pp, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(pp->fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        pp->gone = true;
                        return -EPIPE;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static int progress_send(const struct module_ctx *ctx, json_t *event) {
        struct progress_pipe *pp = ctx->progress_state;
        _cleanup_free_ char *line = NULL;
        size_t n;

        if (!pp || pp->fd < 0)
                return 0;
        if (pp->gone)
                return -EPIPE;
        if (!json_is_object(event))
                return -EINVAL;
        line = json_dumps(event, JSON_COMPACT);
        if (!line)
                return -ENOMEM;
        n = strlen(line);
        if (n + 1 > COMMAND_PROGRESS_LINE_MAX)
                return -E2BIG;
        if (pp->total + n + 1 > COMMAND_PROGRESS_TOTAL_MAX) {
                pp->gone = true;
                return -EPIPE;
        }
        pp->total += n + 1;
        line[n] = '\n'; /* over the NUL: the line is written with its length */
        return progress_write(pp, line, n + 1);
}

/* The progress pipe passed with a command request: a FIFO open for
 * writing, for a command that streams; -EINVAL with e filled otherwise. */
static int progress_pipe_check(const command_def_t *cmd, int fd, struct module_error *e) {
        struct stat st;
        int fl;

        if (fd < 0)
                return 0;
        fl = fcntl(fd, F_GETFL);
        if (!cmd->streams || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || fl < 0 ||
            (fl & O_ACCMODE) != O_WRONLY) {
                module_error_set(e, 400, "bad_request", "stream",
                                 "a progress stream is a pipe, for a command that streams");
                return -EINVAL;
        }
        return 0;
}

/* Whether a command request would reach the command's run(): module and
 * command exist, the command changes state, the session's role suffices,
 * the args fit the command's table and a dry run is one it takes.  Only
 * then is a worker forked for it; anything else is refused (and recorded,
 * for the role) by op_command in line. */
static bool command_admitted(const struct caller *c, json_t *args) {
        struct module_error e = {0};
        const module_t *m = module_find(str_arg(args, "module") ?: "");
        const char *name = str_arg(args, "name");
        const command_def_t *cmd = m && name ? module_find_command(m, name) : NULL;
        json_t *cargs = json_object_get(args, "args");

        return cmd && cmd->changes_state && !cmd->helper_process && c->s.role >= command_role(cmd) &&
               json_is_object(cargs) &&
               (!json_is_true(json_object_get(args, "dry_run")) || cmd->dry_run) &&
               command_check_args(cmd, cargs, &e) >= 0;
}

/* What the record of a command whose worker died says of its args (the
 * request's, which command_admitted found valid): secrets redacted. */
static json_t *worker_command_args(json_t *args) {
        const module_t *m = module_find(str_arg(args, "module") ?: "");
        const command_def_t *cmd = m ? module_find_command(m, str_arg(args, "name") ?: "") : NULL;
        json_t *cargs = json_object_get(args, "args");

        return cmd && json_is_object(cargs) ? args_redacted(cmd->args, cmd->n_args, cargs)
                                            : json_object();
}

/* How long the worker of an admitted request may run. */
static uint64_t worker_timeout_usec(enum helper_op which, json_t *args) {
        const module_t *m =
                which == HELPER_OP_COMMAND ? module_find(str_arg(args, "module") ?: "") : NULL;
        const command_def_t *cmd = m ? module_find_command(m, str_arg(args, "name") ?: "") : NULL;

        return cmd && cmd->streams ? HELPER_STREAM_TIMEOUT_USEC : HELPER_WORKER_TIMEOUT_USEC;
}

static int op_command(struct helper *h, const struct caller *c, json_t *args, int fd, json_t **ret,
                      struct module_error *e) {
        const module_t *m = module_arg(args, e);
        const char *name = str_arg(args, "name");
        json_t *cargs = json_object_get(args, "args");
        bool dry_run = json_is_true(json_object_get(args, "dry_run"));
        const command_def_t *cmd;
        char operation[128];
        int r;

        if (!m)
                return -ENOENT;
        cmd = name ? module_find_command(m, name) : NULL;
        if (!cmd) {
                module_error_set(e, 404, "unknown_command", NULL, "%s has no command \"%.64s\"",
                                 m->name, name ? name : "");
                return -ENOENT;
        }
        snprintf(operation, sizeof operation, "command:%s", cmd->name);
        /* A read-only command runs in the front, with the front's
         * privileges, which are part of what it may see (a sysctl key only
         * root may read stays unread); here it would run as root. */
        if (!cmd->changes_state) {
                module_error_set(e, 403, "forbidden", NULL,
                                 "%s:%s is read-only: it runs in the front, not in the helper",
                                 m->name, name);
                return -EPERM;
        }
        if (c->s.role < command_role(cmd)) {
                module_error_set(e, 403, "forbidden", NULL, "%s:%s needs the role %s", m->name,
                                 name, role_to_string(command_role(cmd)));
                _cleanup_json_ json_t *redacted =
                        json_is_object(cargs) ? args_redacted(cmd->args, cmd->n_args, cargs) : NULL;
                _cleanup_json_ json_t *shown = redacted ? refused_args(redacted) : NULL;
                op_record(c, m->name, operation, shown, NULL);
                return -EPERM;
        }
        if (!json_is_object(cargs)) {
                module_error_set(e, 400, "bad_request", "args", "args must be an object");
                return -EINVAL;
        }
        if (dry_run && !cmd->dry_run) {
                module_error_set(e, 400, "bad_request", "dry_run", "%s:%s has no dry run", m->name,
                                 name);
                return -EINVAL;
        }
        r = command_check_args(cmd, cargs, e);
        if (r >= 0)
                r = progress_pipe_check(cmd, fd, e);
        if (r >= 0) {
                struct progress_pipe pp = {.fd = fd};
                struct module_ctx ctx = caller_ctx(c);
                ctx.dry_run = dry_run;
                ctx.progress = progress_send;
                ctx.progress_state = &pp;
                r = cmd->run(&ctx, cargs, ret, e);
        }
        /* A dry run changed nothing: nothing to record. */
        if (dry_run)
                return r;
        /* Secret arguments (a password) never reach the record. */
        _cleanup_json_ json_t *shown = args_redacted(cmd->args, cmd->n_args, cargs);
        /* What a command that acts on a selection did, in its own words
         * ("delete 312 deferred messages to example.com"): the record
         * says it beside the arguments (module.h, command_def_t). */
        json_t *summary = r >= 0 && *ret ? json_object_get(*ret, "summary") : NULL;
        if (shown && json_is_string(summary) && json_string_length(summary) <= 512)
                json_object_set(shown, "summary", summary);
        op_record(c, m->name, operation, shown, NULL);
        /* The answer names its record, as a write's does. */
        c->record->id_key = "audit_id";
        return r;
}

static int op_action(struct helper *h, const struct caller *c, json_t *args, int fd, json_t **ret,
                     struct module_error *e) {
        const module_t *m = module_arg(args, e);
        const char *action = str_arg(args, "action");
        int (*fn)(const struct module_ctx *, struct module_error *) = NULL;
        const struct module_ctx ctx = caller_ctx(c);
        int r;

        if (!m)
                return -ENOENT;
        if (action && STREQ(action, "start"))
                fn = m->start;
        else if (action && STREQ(action, "stop"))
                fn = m->stop;
        else if (action && STREQ(action, "restart"))
                fn = m->restart;
        if (!fn) {
                module_error_set(e, 405, "not_supported", NULL, "%s has no action \"%.16s\"",
                                 m->name, action ? action : "");
                return -EOPNOTSUPP;
        }
        r = fn(&ctx, e);
        op_record(c, m->name, action, NULL, NULL);
        if (r >= 0)
                *ret = json_pack("{s:s}", "result", "ok");
        return r;
}

/* The lowest role of a module's routes, which are what reach its
 * privileged view through the API; admin when it has none. */
static enum role module_read_role(const module_t *m) {
        int role = ROLE_ADMIN;
        for (size_t i = 0; i < m->n_routes; i++)
                if (m->routes[i].min_role < role)
                        role = m->routes[i].min_role;
        return role < ROLE_MONITOR ? ROLE_MONITOR : (enum role)role;
}

static int op_module_read(struct helper *h, const struct caller *c, json_t *args, int fd,
                          json_t **ret, struct module_error *e) {
        const module_t *m = module_arg(args, e);
        json_t *a = json_object_get(args, "args");

        if (!m)
                return -ENOENT;
        if (!m->privileged_read) {
                module_error_set(e, 404, "not_found", NULL, "%s has no privileged view", m->name);
                return -ENOENT;
        }
        if (c->s.role < module_read_role(m)) {
                module_error_set(e, 403, "forbidden", NULL, "the view of %s needs the role %s",
                                 m->name, role_to_string(module_read_role(m)));
                return -EPERM;
        }
        if (a && !json_is_object(a)) {
                module_error_set(e, 400, "bad_request", "args", "args must be an object");
                return -EINVAL;
        }
        /* A module whose reads differ in role says which each needs: the
         * lowest of its routes is not the authority for every one. */
        if (m->privileged_read_role) {
                json_t *in = a ? a : json_object();
                int need = m->privileged_read_role(in);
                if (!a)
                        json_decref(in);
                if (need < 0 || (int)c->s.role < need) {
                        module_error_set(e, 403, "forbidden", NULL,
                                         "this view of %s needs the role %s", m->name,
                                         role_to_string(need < 0 ? ROLE_ADMIN : (enum role)need));
                        return -EPERM;
                }
        }
        {
                json_t *in = a ? json_incref(a) : json_object();
                int r = m->privileged_read(in, ret, e);
                json_decref(in);
                return r;
        }
}

/* ---- collections --------------------------------------------------------- */

static const collection_def_t *collection_arg(json_t *args, struct module_error *e) {
        const char *name = str_arg(args, "collection");
        const collection_def_t *coll = collection_find(name, NULL);
        if (!coll)
                module_error_set(e, 404, "not_found", NULL, "no collection named \"%.64s\"",
                                 name ? name : "");
        return coll;
}

/* The query object of a collection request: absent or an object of strings,
 * with only the keys the collection declares (collection_find_query). */
static json_t *query_arg(const collection_def_t *coll, json_t *args, struct module_error *e) {
        json_t *q = json_object_get(args, "query"), *v;
        const char *k;

        if (!q)
                return json_object();
        if (!json_is_object(q))
                goto bad;
        json_object_foreach(q, k, v) {
                if (!json_is_string(v))
                        goto bad;
                if (!collection_find_query(coll, k)) {
                        module_error_set(e, 400, "bad_request", "query",
                                         "no query argument \"%.32s\" here", k);
                        return NULL;
                }
        }
        return json_incref(q);
bad:
        module_error_set(e, 400, "bad_request", "query", "the query must be an object of strings");
        return NULL;
}

/* A list as JSON text in a sealed memfd passed with the answer
 * {"body_fd": true}: the front sends it without parsing it. */
static int list_text_answer(struct helper *h, const collection_def_t *coll,
                            const struct module_ctx *ctx, json_t *q, json_t **ret,
                            struct module_error *e) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, off = 0;
        int fd, r;

        r = coll->list_text(ctx, q, &text, &len, e);
        if (r < 0)
                return r;
        fd = memfd_create("steward-list", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                goto fail;
        while (off < len) {
                ssize_t w = write(fd, text + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        goto fail;
                off += (size_t)w;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
            lseek(fd, 0, SEEK_SET) < 0)
                goto fail;
        *ret = json_pack("{s:b, s:I}", "body_fd", true, "length", (json_int_t)len);
        if (!*ret) {
                close(fd);
                return -ENOMEM;
        }
        h->answer_fd = fd;
        return 0;
fail:
        r = -errno;
        if (fd >= 0)
                close(fd);
        module_error_set(e, 500, "internal", NULL, "cannot pass the list: %s", strerror(-r));
        return r;
}

static int op_collection_read(struct helper *h, const struct caller *c, json_t *args, int fd,
                              json_t **ret, struct module_error *e) {
        const collection_def_t *coll = collection_arg(args, e);
        json_t *idv = json_object_get(args, "id"), *q;
        struct module_ctx ctx = caller_ctx(c);
        int r;

        if (!coll)
                return -ENOENT;
        if (idv && !json_is_string(idv)) {
                module_error_set(e, 400, "bad_request", "id", "id must be a string");
                return -EINVAL;
        }
        if (!(q = query_arg(coll, args, e)))
                return -EINVAL;
        if (idv)
                r = coll->show(&ctx, json_string_value(idv), q, ret, e);
        else if (coll->list_text)
                r = list_text_answer(h, coll, &ctx, q, ret, e);
        else
                r = coll->list(&ctx, q, ret, e);
        json_decref(q);
        return r;
}

/* The audit record's copy of a plan's files: without the images, with
 * their SHA-256 instead. */
static json_t *files_for_audit(json_t *files) {
        json_t *out = json_array(), *f;
        size_t i;

        json_array_foreach(files, i, f) {
                json_t *c = json_deep_copy(f);
                const char *b = json_string_value(json_object_get(f, "image_before"));
                const char *a = json_string_value(json_object_get(f, "image_after"));
                char hex[SHA256_HEX_LEN + 1];

                if (!c)
                        continue;
                json_object_del(c, "image_before");
                json_object_del(c, "image_after");
                if (json_is_true(json_object_get(f, "image"))) {
                        if (b && store_sha256_hex(b, strlen(b), hex) >= 0)
                                json_object_set_new(c, "sha256_before", json_string(hex));
                        if (a && store_sha256_hex(a, strlen(a), hex) >= 0)
                                json_object_set_new(c, "sha256_after", json_string(hex));
                }
                json_array_append_new(out, c);
        }
        return out;
}

/* Writes the audit record of a change and the images of its files, in one
 * transaction. */
static void audit_with_images(struct helper *h, const struct caller *c, const char *module,
                              const char *operation, json_t *args, int r,
                              const struct module_error *e, json_t *files, int64_t rollback_of,
                              int64_t *ret_id) {
        _cleanup_json_ json_t *shown = files ? files_for_audit(files) : NULL;
        json_t *f;
        size_t i;
        int64_t id = 0;
        bool own = false;
        int q = tx_begin(h->store, &own);

        if (q < 0) {
                log_error_errno(q, "cannot write the audit record for %s %s", module, operation);
                return;
        }
        audit(h, c, module, operation, args, r, e, shown, rollback_of, &id);
        q = id > 0 ? 0 : -EIO;
        json_array_foreach(files, i, f) {
                const char *path = json_string_value(json_object_get(f, "path"));
                if (q < 0 || !json_is_true(json_object_get(f, "image")))
                        continue;
                q = images_put(h->store, id, path,
                               json_string_value(json_object_get(f, "image_before")),
                               json_string_value(json_object_get(f, "image_after")));
        }
        q = tx_end(h->store, own, q);
        if (q < 0)
                log_error_errno(q, "cannot write the audit record for %s %s", module, operation);
        else if (own)
                syslogfwd_notify(h->forwarder);
        if (ret_id)
                *ret_id = q < 0 ? 0 : id;
}

/* A copy of a write's body for the record: the values of the collection's
 * FIELD_SECRET fields (a password, a service's environment) replaced by
 * "[redacted]", whatever their names say. */
static json_t *secrets_redacted(const collection_def_t *coll, json_t *body) {
        json_t *copy = json_deep_copy(body);

        for (size_t i = 0; copy && i < coll->n_fields; i++)
                if ((coll->fields[i].flags & FIELD_SECRET) &&
                    json_object_get(copy, coll->fields[i].name))
                        json_object_set_new(copy, coll->fields[i].name, json_string("[redacted]"));
        return copy ? copy : json_object();
}

static int op_collection_write(struct helper *h, const struct caller *c, json_t *args, int fd,
                               json_t **ret, struct module_error *e) {
        const module_t *m = NULL;
        const collection_def_t *coll = collection_find(str_arg(args, "collection"), &m);
        const char *opname = str_arg(args, "op");
        json_t *idv = json_object_get(args, "id"), *body = json_object_get(args, "body");
        bool dry_run = json_is_true(json_object_get(args, "dry_run"));
        struct module_ctx ctx = caller_ctx(c);
        _cleanup_json_ json_t *q = NULL, *out = NULL, *record_args = NULL;
        _cleanup_free_ char *operation = NULL;
        collection_op_t op;
        json_t *plan, *result;
        int r;

        if (!coll)
                return collection_arg(args, e) ? -EINVAL : -ENOENT;
        if (!coll->write) {
                module_error_set(e, 405, "method_not_allowed", NULL, "%s is read-only", coll->name);
                return -EPERM;
        }
        if (!opname)
                goto bad_op;
        if (STREQ(opname, "create"))
                op = COLLECTION_CREATE;
        else if (STREQ(opname, "modify"))
                op = COLLECTION_MODIFY;
        else if (STREQ(opname, "delete"))
                op = COLLECTION_DELETE;
        else
                goto bad_op;
        if ((op == COLLECTION_CREATE) != !idv || (idv && !json_is_string(idv))) {
                module_error_set(e, 400, "bad_request", "id",
                                 "create takes no id; modify and delete need one");
                return -EINVAL;
        }
        if (!json_is_object(body)) {
                module_error_set(e, 400, "bad_request", NULL, "the body must be an object");
                return -EINVAL;
        }
        if (!(q = query_arg(coll, args, e)))
                return -EINVAL;

        r = coll->write(&ctx, op, idv ? json_string_value(idv) : NULL, body, q, dry_run, &out, e);
        plan = json_object_get(out, "plan");
        if (dry_run) {
                if (r < 0)
                        return r;
                *ret = json_pack("{s:{s:O, s:o, s:O}}", "plan", "commands",
                                 json_object_get(plan, "commands") ?: json_array(), "files",
                                 files_for_client(json_object_get(plan, "files")), "warnings",
                                 json_object_get(plan, "warnings") ?: json_array());
                return *ret ? 0 : -ENOMEM;
        }
        /* Before anything ran: a guard's refusal (-EPERM) or a tool failing
         * (-EIO, in the staged run) is recorded; invalid requests are not. */
        if (r < 0 && !json_object_get(plan, "applied") && r != -EPERM && r != -EIO)
                return r;
        if (asprintf(&operation, "%s:%s", coll->name, opname) < 0)
                operation = NULL;
        record_args = json_pack("{s:s, s:O?, s:o, s:O}", "collection", coll->name, "id", idv,
                                "body", secrets_redacted(coll, body), "query", q);
        /* What went otherwise than asked, though the change was made. */
        if (json_array_size(json_object_get(json_object_get(out, "result"), "warnings")) > 0)
                json_object_set(record_args, "warnings",
                                json_object_get(json_object_get(out, "result"), "warnings"));
        op_record(c, m->name, operation ? operation : opname, record_args,
                  json_object_get(plan, "files"));
        c->record->id_key = "audit_id";
        if (r < 0)
                return r;
        result = json_object_get(out, "result");
        *ret = json_is_object(result) ? json_deep_copy(result) : json_object();
        /* A collection kept in a file the module owns (the alert rules):
         * the front makes it live (here the module's write did what it
         * needs). */
        if (*ret)
                files_owners(json_object_get(plan, "files"), *ret);
        return *ret ? 0 : -ENOMEM;

bad_op:
        module_error_set(e, 400, "bad_request", "op", "op is create, modify or delete");
        return -EINVAL;
}

/* The answer of an action: what run() put in *ret, its plan's files as
 * clients see them (path and diff), the images kept for the record. */
static json_t *action_answer(json_t *out) {
        json_t *answer = json_is_object(out) ? json_deep_copy(out) : json_object();
        json_t *plan = json_object_get(answer, "plan");

        if (answer && json_is_object(plan) && json_is_array(json_object_get(plan, "files")))
                json_object_set_new(plan, "files",
                                    files_for_client(json_object_get(plan, "files")));
        return answer;
}

/* Whether an action request would reach the action's run(): its collection
 * and action exist, the session's role suffices and the args fit the
 * action's table.  Only then is a worker forked for it; anything else is
 * refused (and recorded, for the role) by op_collection_action in line. */
static bool action_admitted(const struct caller *c, json_t *args) {
        struct module_error e = {0};
        const collection_def_t *coll = collection_find(str_arg(args, "collection"), NULL);
        const collection_action_t *a =
                coll ? collection_find_action(coll, str_arg(args, "action")) : NULL;
        json_t *aargs = json_object_get(args, "args");
        _cleanup_json_ json_t *in = aargs ? json_incref(aargs) : json_object();

        return a && (int)c->s.role >= collection_action_min_role(a) &&
               collection_action_check_args(a, in, &e) >= 0;
}

/* POST /api/v1/{collection}/{id}/{action}: the session's role as it is now
 * against the action's, its args against its table, then run() and, unless
 * dry_run, the record (operation "action:NAME"; the plan's files, if any,
 * with their images for rollback).  A refusal for the role is recorded, an
 * invalid request is not. */
static int op_collection_action(struct helper *h, const struct caller *c, json_t *args, int fd,
                                json_t **ret, struct module_error *e) {
        const module_t *m = NULL;
        const collection_def_t *coll = collection_find(str_arg(args, "collection"), &m);
        const char *id = str_arg(args, "id"), *name = str_arg(args, "action");
        json_t *aargs = json_object_get(args, "args");
        bool dry_run = json_is_true(json_object_get(args, "dry_run"));
        const struct module_ctx ctx = caller_ctx(c);
        const collection_action_t *a;
        _cleanup_json_ json_t *in = NULL, *out = NULL, *record_args = NULL;
        char operation[96];
        json_t *plan;
        int r;

        if (!coll)
                return collection_arg(args, e) ? -EINVAL : -ENOENT;
        a = collection_find_action(coll, name);
        if (!a) {
                module_error_set(e, 404, "unknown_action", NULL, "%s has no action \"%.64s\"",
                                 coll->name, name ? name : "");
                return -ENOENT;
        }
        snprintf(operation, sizeof operation, "action:%s", a->name);
        in = aargs ? json_incref(aargs) : json_object();
        /* Secret arguments never reach the record. */
        _cleanup_json_ json_t *redacted =
                json_is_object(in) ? args_redacted(a->args, a->n_args, in) : NULL;
        record_args =
                json_pack("{s:s, s:s, s:O?}", "collection", coll->name, "id", id, "args", redacted);
        if ((int)c->s.role < collection_action_min_role(a)) {
                enum role need = (enum role)collection_action_min_role(a);
                _cleanup_json_ json_t *shown = redacted ? refused_args(redacted) : NULL;
                _cleanup_json_ json_t *refused = NULL;
                module_error_set(e, 403, "forbidden", NULL, "%s %s needs the role %s", coll->name,
                                 a->name, role_to_string(need));
                refused = json_pack("{s:s, s:s, s:O?}", "collection", coll->name, "id", id, "args",
                                    shown);
                op_record(c, m->name, operation, refused, NULL);
                return -EPERM;
        }
        r = collection_action_check_args(a, in, e);
        if (r < 0)
                return r;
        r = a->run(&ctx, id, in, dry_run, &out, e);
        plan = json_object_get(out, "plan");
        if (dry_run) {
                /* A guard's refusal is audited even when only a dry run
                 * asked (the plan of an action its caller may not take). */
                if (r < 0 && e->status == 403)
                        op_record(c, m->name, operation, record_args, NULL);
                if (r >= 0)
                        *ret = action_answer(out);
                return r < 0 ? r : *ret ? 0 : -ENOMEM;
        }
        /* An invalid request (400, 404, 405, 422) changed nothing and is
         * not recorded, unless the plan says it was applied; every other
         * failure may have changed something, or is a guard's refusal. */
        if (r < 0 && !json_is_true(json_object_get(plan, "applied")) &&
            (e->status == 400 || e->status == 404 || e->status == 405 || e->status == 422))
                return r;
        op_record(c, m->name, operation, record_args,
                  json_is_object(plan) ? json_object_get(plan, "files") : NULL);
        c->record->id_key = "audit_id";
        if (r < 0)
                return r;
        *ret = action_answer(out);
        return *ret ? 0 : -ENOMEM;
}

/* ---- audit ------------------------------------------------------------- */

static int op_audit_list(struct helper *h, const struct caller *c, json_t *args, int fd,
                         json_t **ret, struct module_error *e) {
        json_t *lim = json_object_get(args, "limit");
        int64_t before = 0;
        int r;

        if (json_object_get(args, "before") &&
            parse_id(json_object_get(args, "before"), &before) < 0) {
                module_error_set(e, 400, "invalid_argument", "before", "before is a record id");
                return -EINVAL;
        }
        if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
                    json_integer_value(lim) > 500)) {
                module_error_set(e, 400, "invalid_argument", "limit", "limit is 1 to 500");
                return -EINVAL;
        }
        r = audit_list(h->store, before, lim ? (unsigned)json_integer_value(lim) : 50,
                       str_arg(args, "module"), str_arg(args, "user"), ret);
        if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot read the audit log: %s",
                                 strerror(-r));
        return r;
}

static int op_audit_get(struct helper *h, const struct caller *c, json_t *args, int fd,
                        json_t **ret, struct module_error *e) {
        int64_t id;
        int r;

        if (parse_id(json_object_get(args, "id"), &id) < 0) {
                module_error_set(e, 404, "not_found", NULL, "no such audit record");
                return -EINVAL;
        }
        r = audit_get(h->store, id, ret);
        if (r == -ENOENT)
                module_error_set(e, 404, "not_found", NULL, "no audit record %lld", (long long)id);
        else if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot read the audit log: %s",
                                 strerror(-r));
        return r;
}

static int op_audit_verify(struct helper *h, const struct caller *c, json_t *args, int fd,
                           json_t **ret, struct module_error *e) {
        int r = audit_verify(h->store, ret);
        if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot read the audit log: %s",
                                 strerror(-r));
        return r;
}

/* One file of a record being rolled back: the state the change left and
 * the one to bring back, as the change engine takes them.  For a file with
 * images the contents come from the images, checked against the record's
 * hashes; the record's own (maybe redacted) text is what diffs show. */
struct rollback_file {
        struct change_restore r;
        char *full_after, *full_before;
};

static int op_audit_forwarding(struct helper *h, const struct caller *c, json_t *args, int fd,
                               json_t **ret, struct module_error *e) {
        int r = syslogfwd_status(h->store, ret);

        /* and the forwarder process: running, or why and when it stopped */
        if (r >= 0 && json_object_set_new(*ret, "forwarder", syslogfwd_process(h->forwarder)) < 0) {
                json_decref(*ret);
                *ret = NULL;
                r = -ENOMEM;
        }
        if (r < 0)
                module_error_set(e, 500, "internal", NULL, "cannot read the forwarding state: %s",
                                 strerror(-r));
        return r;
}

static int rollback_load(struct helper *h, int64_t id, json_t *f, struct rollback_file *rf,
                         struct module_error *e) {
        char hex[SHA256_HEX_LEN + 1];
        const char *after = json_string_value(json_object_get(f, "after"));
        const char *before = json_string_value(json_object_get(f, "before"));
        const char *type = json_string_value(json_object_get(f, "type"));
        const char *btype = json_string_value(json_object_get(f, "before_type"));
        int r;

        *rf = (struct rollback_file){0};
        rf->r = (struct change_restore){
                .path = json_string_value(json_object_get(f, "path")),
                .type = type,
                .content = after,
                .before_type = btype ?: (before ? type : "absent"),
                .before = before,
                .shown_after = after,
                .shown_before = before,
                .image = json_is_true(json_object_get(f, "image")),
                .module_restore = json_is_true(json_object_get(f, "module_restore")),
        };
        if (!rf->r.path || !type || json_is_true(json_object_get(f, "redacted"))) {
                module_error_set(e, 422, "invalid_argument", NULL,
                                 "audit record %lld holds redacted content and cannot be rolled "
                                 "back",
                                 (long long)id);
                return -EINVAL;
        }
        if (!rf->r.image)
                return 0;
        r = images_get(h->store, id, rf->r.path, &rf->full_before, &rf->full_after);
        if (r < 0) {
                module_error_set(e, r == -ENOENT ? 409 : 500,
                                 r == -ENOENT ? "conflict" : "internal", NULL,
                                 "the stored contents of %s for record %lld are %s", rf->r.path,
                                 (long long)id, r == -ENOENT ? "missing" : "unreadable");
                return r == -ENOENT ? -ESTALE : r;
        }
        /* The hash-chained record vouches for the images. */
        if (store_sha256_hex(rf->full_after, strlen(rf->full_after), hex) < 0 ||
            !STREQ(hex, json_string_value(json_object_get(f, "sha256_after")) ?: "") ||
            (!rf->full_before != !json_object_get(f, "sha256_before")) ||
            (rf->full_before &&
             (store_sha256_hex(rf->full_before, strlen(rf->full_before), hex) < 0 ||
              !STREQ(hex, json_string_value(json_object_get(f, "sha256_before")) ?: "")))) {
                module_error_set(e, 409, "conflict", NULL,
                                 "the stored contents of %s do not match audit record %lld; not "
                                 "rolling back",
                                 rf->r.path, (long long)id);
                return -ESTALE;
        }
        rf->r.content = rf->full_after;
        rf->r.before = rf->full_before;
        return 0;
}

/* Puts back the files of a record through the change engine (which checks
 * that they still hold what the change left, takes the module's lock and
 * restores each), makes them live and audits the rollback with its own
 * plan. */
static int op_audit_rollback(struct helper *h, const struct caller *c, json_t *args, int fd,
                             json_t **ret, struct module_error *e) {
        bool dry_run = json_is_true(json_object_get(args, "dry_run"));
        struct rollback_file rfs[AUDIT_ROLLBACK_FILES_MAX] = {};
        struct change_restore fs[AUDIT_ROLLBACK_FILES_MAX];
        struct change_rollback_result res = {0};
        _cleanup_json_ json_t *rec = NULL;
        const char *module;
        int64_t id = 0;
        size_t i, n = 0;
        json_t *f, *files;
        int r;

        r = op_audit_get(h, c, args, fd, &rec, e);
        if (r < 0)
                return r;
        parse_id(json_object_get(args, "id"), &id);
        module = json_string_value(json_object_get(rec, "module"));
        files = json_object_get(rec, "files");
        if (json_array_size(files) == 0 || json_array_size(files) > AUDIT_ROLLBACK_FILES_MAX) {
                module_error_set(e, 422, "invalid_argument", NULL,
                                 json_array_size(files) == 0
                                         ? "audit record %lld changed no file; there is nothing "
                                           "to roll back"
                                         : "audit record %lld changed too many files to roll back",
                                 (long long)id);
                return -EINVAL;
        }
        json_array_foreach(files, i, f) {
                r = rollback_load(h, id, f, &rfs[n], e);
                fs[n] = rfs[n].r;
                n++;
                if (r < 0)
                        goto out;
        }
        r = change_rollback(module ? module_find(module) : NULL, fs, n, dry_run, &res, e);
        if (r == -ESTALE) {
                module_error_set(e, 409, "conflict", NULL,
                                 "the files of audit record %lld changed since; not rolling back",
                                 (long long)id);
                *ret = json_pack("{s:O}", "files", res.conflicts); /* details of the error */
                goto out;
        }
        if (r < 0) {
                if (res.touched) {
                        op_record(c, module, "rollback", args, NULL);
                        c->record->rollback_of = id;
                }
                goto out;
        }
        *ret = json_object();
        if (!dry_run) {
                files_made_live(res.files, *ret);
                op_record(c, module, "rollback", args, res.files);
                c->record->rollback_of = id;
                c->record->id_key = "record";
        }
        json_object_set_new(*ret, "rolled_back", json_integer(id));
        json_object_set_new(*ret, "dry_run", json_boolean(dry_run));
        json_object_set_new(*ret, "files", files_for_client(res.files));
        if (module)
                json_object_set_new(*ret, "module", json_string(module));
out:
        for (i = 0; i < n; i++) {
                free(rfs[i].full_before);
                free(rfs[i].full_after);
        }
        change_rollback_result_done(&res);
        return r;
}

/* ---- the front's own calls: metrics history and counters --------------- */

/* The front's completed minutes (metricsdb.h validates them). */
static int op_metrics_store(struct helper *h, const struct caller *c, json_t *args, int fd,
                            json_t **ret, struct module_error *e) {
        int r = metricsdb_store(h->store, args, now_s(), e);
        if (r >= 0)
                *ret = json_object();
        return r;
}

static int op_metrics_query(struct helper *h, const struct caller *c, json_t *args, int fd,
                            json_t **ret, struct module_error *e) {
        return metricsdb_query(h->store, args, e, ret);
}

static int op_metrics_recent(struct helper *h, const struct caller *c, json_t *args, int fd,
                             json_t **ret, struct module_error *e) {
        return metricsdb_recent(h->store, args, now_s(), e, ret);
}

/* Modules' own background state (modstate.h). */
static int op_module_state_put(struct helper *h, const struct caller *c, json_t *args, int fd,
                               json_t **ret, struct module_error *e) {
        int r = modstate_put(h->store, args, now_s(), e);
        if (r >= 0)
                *ret = json_object();
        return r;
}

static int op_module_state_get(struct helper *h, const struct caller *c, json_t *args, int fd,
                               json_t **ret, struct module_error *e) {
        return modstate_get(h->store, args, e, ret);
}

static int op_module_log_append(struct helper *h, const struct caller *c, json_t *args, int fd,
                                json_t **ret, struct module_error *e) {
        return modlog_append(h->store, args, now_s(), e, ret);
}

static int op_module_log_list(struct helper *h, const struct caller *c, json_t *args, int fd,
                              json_t **ret, struct module_error *e) {
        return modlog_list(h->store, args, e, ret);
}

/* Modules' reads of their persisted state in the helper (module.h
 * module_state_read): the helper's own connection in its own process; a
 * forked worker (an action) opens a connection of its own, since an SQLite
 * connection must not be used across fork. */
static struct {
        struct store *store;
        pid_t pid;
        char *dir;
} state_reader;

static int helper_state_read(const char *module, const char *key, json_t **ret) {
        _cleanup_json_ json_t *args = json_pack("{s:s, s:s}", "module", module, "key", key);
        struct module_error e = {0};
        struct store *s = state_reader.store, *own = NULL;
        json_t *ans = NULL;
        char err[256];
        int r;

        if (!args || !state_reader.dir)
                return -ENOMEM;
        if (getpid() != state_reader.pid) {
                r = store_open(state_reader.dir, &own, err, sizeof err);
                if (r < 0)
                        return r;
                s = own;
        }
        r = modstate_get(s, args, &e, &ans);
        if (own)
                store_close(own);
        if (r < 0)
                return r;
        *ret = json_incref(json_object_get(ans, "value"));
        json_decref(ans);
        return *ret ? 0 : -ENOMEM;
}

/* Whether m's gauges_prefix is a "steward_…_" prefix that no other module's
 * own prefix (steward_NAME_) overlaps: the alerts module's "steward_alert_"
 * (the name Prometheus's ALERTS series is known by) is, as long as no module
 * is called "alert". */
static bool gauges_prefix_own(const module_t *m) {
        const char *p = m->gauges_prefix;

        if (strncmp(p, "steward_", 8) != 0 || strlen(p) < 10 || p[strlen(p) - 1] != '_')
                return false;
        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *o = steward_modules[i];
                size_t len = strlen(o->name);
                size_t plen = strlen(p + 8);

                if (o == m)
                        continue;
                /* steward_NAME_ and the prefix: one must not start the other. */
                if (strncmp(p + 8, o->name, plen < len ? plen : len) == 0 &&
                    (plen <= len || p[8 + len] == '_'))
                        return false;
        }
        return true;
}

/* Whether a family's name is under the module's own prefix
 * (steward_MODULE_, or the module's gauges_prefix) and of Prometheus's
 * grammar. */
static bool module_family_name_ok(const module_t *m, const char *name) {
        size_t len = strlen(m->name);

        if (name && m->gauges_prefix &&
            (strncmp(m->gauges_prefix, "node_", 5) == 0 || gauges_prefix_own(m)) &&
            strncmp(name, m->gauges_prefix, strlen(m->gauges_prefix)) == 0 && strlen(name) <= 128)
                return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name);
        if (!name || strncmp(name, "steward_", 8) != 0 || strncmp(name + 8, m->name, len) != 0 ||
            name[8 + len] != '_' || strlen(name) > 128)
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name);
}

/* Every module's own gauges (module.h gauges), for the front's /metrics:
 * {"families": […]}; a module that fails is left out (logged). */
static int op_module_gauges(struct helper *h, const struct caller *c, json_t *args, int fd,
                             json_t **ret, struct module_error *e) {
        _cleanup_json_ json_t *all = json_array();

        (void)h, (void)c, (void)args, (void)fd;
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < steward_modules_count; i++) {
                const module_t *m = steward_modules[i];
                struct module_error me = {0};
                json_t *fam, *out = NULL;
                size_t k;

                if (!m->gauges)
                        continue;
                if (m->gauges(&out, &me) < 0) {
                        log_warning("%s: its gauges: %s", m->name, me.message);
                        continue;
                }
                json_array_foreach(json_object_get(out, "families"), k, fam) {
                        if (module_family_name_ok(m, json_string_value(json_object_get(fam, "name"))))
                                json_array_append(all, fam);
                        else
                                log_warning("%s: a metric family outside steward_%s_", m->name,
                                            m->name);
                }
                json_decref(out);
        }
        *ret = json_pack("{s:O}", "families", all);
        return *ret ? 0 : -ENOMEM;
}

/* A module's own task that needs root (module.h helper_task), for its part
 * in the front; sessionless, so the module decides everything that matters
 * from its own settings in this process (the alerts' mail: recipients and
 * sender), and takes from args only what it bounds itself.  It runs in a
 * worker (HELPER_OPF_SLOW), killed past the workers' time limit. */
static int op_module_task(struct helper *h, const struct caller *c, json_t *args, int fd,
                          json_t **ret, struct module_error *e) {
        const module_t *m = module_arg(args, e);

        (void)h, (void)c, (void)fd;
        if (!m)
                return -ENOENT;
        if (!m->helper_task) {
                module_error_set(e, 404, "not_found", NULL, "%s has no task", m->name);
                return -ENOENT;
        }
        return m->helper_task(json_object_get(args, "args"), ret, e);
}

/* Counters for GET /metrics, asked for every few seconds, and whether the
 * bootstrap token is still unused (GET /api/v1/login-info): no names, no
 * content, nothing a session could not see. */
/* A certificate's path as asked for, before anything looks at the file
 * system: absolute under /etc/, at most PATH_MAX, no empty, "." or ".."
 * segment (realpath, as root, would otherwise tell whether a directory
 * outside /etc exists: "/root/X/../../etc/hostname"). */
static bool cert_path_ok(const char *path) {
        size_t n = strnlen(path, PATH_MAX);

        if (n == PATH_MAX || strncmp(path, "/etc/", 5) != 0)
                return false;
        for (const char *p = path + 1; *p;) {
                size_t seg = strcspn(p, "/");
                if (seg == 0 || (seg == 1 && p[0] == '.') ||
                    (seg == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += seg;
                if (*p == '/' && !*++p)
                        return false; /* a trailing slash */
        }
        return true;
}

/* The dates of a certificate under /etc (canonicalised: no link leads
 * out), for an alert rule on a file the front may not read. */
static int monitor_read_certificate(const char *path, json_t **ret, struct module_error *e) {
        _cleanup_free_ char *real = NULL, *text = NULL;
        char subject[256] = "";
        size_t len = 0;
        int64_t not_after;
        int r;

        if (cert_path_ok(path))
                real = realpath(path, NULL);
        if (!real || strncmp(real, "/etc/", 5) != 0) {
                module_error_set(e, 403, "forbidden", "certificate",
                                 "only a certificate file under /etc is read");
                return -EPERM;
        }
        r = read_regular_at(AT_FDCWD, real, O_NOFOLLOW, CERTINFO_MAX, &text, &len, NULL);
        if (r < 0 && r != -EFBIG) {
                module_error_set(e, 404, "not_found", "certificate", "no certificate file there");
                return r;
        }
        if (r >= 0)
                r = certinfo_not_after(text, len, &not_after, subject, sizeof subject);
        if (r < 0) {
                module_error_set(e, 422, "invalid_argument", "certificate",
                                 "the file holds no certificate");
                return r;
        }
        *ret = json_pack("{s:I, s:s}", "not_after", (json_int_t)not_after, "subject", subject);
        return *ret ? 0 : -ENOMEM;
}

/* The front's own background reads, as a monitor (helperops.c): no more
 * than a monitor session could read, and nothing that changes. */
static int op_monitor_read(struct helper *h, const struct caller *c, json_t *args, int fd,
                           json_t **ret, struct module_error *e) {
        const char *coll = str_arg(args, "collection"), *mod = str_arg(args, "module");
        const char *cert = str_arg(args, "certificate");
        struct caller mon = {.has_session = false, .source = "front", .s.role = ROLE_MONITOR};
        json_t *a;
        int r;

        (void)c;
        snprintf(mon.s.user, sizeof mon.s.user, "stewardd");
        if (!!coll + !!mod + !!cert != 1 || (json_object_get(args, "args") && !mod)) {
                module_error_set(e, 400, "bad_request", NULL,
                                 "one of collection, module (with args) or certificate");
                return -EINVAL;
        }
        if (cert)
                return monitor_read_certificate(cert, ret, e);
        if (mod)
                return op_module_read(h, &mon, args, fd, ret, e);
        a = json_pack("{s:s}", "collection", coll);
        if (!a)
                return -ENOMEM;
        r = op_collection_read(h, &mon, a, fd, ret, e);
        json_decref(a);
        return r;
}

/* PRAGMA data_version: it changes when another connection (a worker,
 * sqlite3 by hand) committed, not with this connection's own writes. */
static int data_version(struct store *s, int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = sql_prepare(s, "PRAGMA data_version", &st);

        if (r >= 0)
                r = sql_step_one(st);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

/* The audit chain's verdict for the front's alert rules.  Sessionless and
 * answered in the main loop, so verified again only when the chain may
 * have changed: a new head, or a write by another connection (the data
 * version); else the last verdict, so asking in a loop costs two cheap
 * reads, not the chain, and the helper's own writes the front asks for
 * (module state, metrics) do not force a new verification. */
static int op_audit_check(struct helper *h, const struct caller *c, json_t *args, int fd,
                          json_t **ret, struct module_error *e) {
        _cleanup_json_ json_t *v = NULL;
        int64_t head = 0, version = 0;
        int r;

        (void)c, (void)args, (void)fd;
        r = audit_head(h->store, &head);
        if (r >= 0)
                r = data_version(h->store, &version);
        if (r >= 0 && h->audit_verdict && head == h->audit_verdict_head &&
            version == h->audit_verdict_version) {
                *ret = json_deep_copy(h->audit_verdict);
                return *ret ? 0 : -ENOMEM;
        }
        if (r >= 0)
                r = audit_verify(h->store, &v);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot read the audit log: %s",
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:b, s:I}", "ok", json_is_true(json_object_get(v, "ok")), "records",
                         (json_int_t)json_integer_value(json_object_get(v, "records")));
        if (*ret && json_object_get(v, "first_broken"))
                json_object_set(*ret, "first_broken", json_object_get(v, "first_broken"));
        if (!*ret)
                return -ENOMEM;
        json_decref(h->audit_verdict);
        h->audit_verdict = json_deep_copy(*ret);
        h->audit_verdict_head = head;
        h->audit_verdict_version = version;
        return 0;
}

static int op_front_poll(struct helper *h, const struct caller *c, json_t *args, int fd,
                         json_t **ret, struct module_error *e) {
        struct session_limits lim;
        int64_t sessions = 0, head = 0;
        bool bootstrap = false;
        int r;

        if (json_object_size(args) != 0) {
                module_error_set(e, 400, "bad_request", NULL, "front_poll takes no arguments");
                return -EINVAL;
        }
        session_limits(&lim);
        r = sessions_count(h->store, &lim, now_s(), &sessions);
        if (r >= 0)
                r = audit_head(h->store, &head);
        if (r >= 0)
                r = sessions_bootstrap_pending(h->store, &bootstrap);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot read the store: %s",
                                 strerror(-r));
                return r;
        }
        {
                struct throttle_config tc = throttle_settings(false);
                size_t delayed, blocked;
                throttle_count(h->throttle, "ip:", &tc, (int64_t)(now_usec() / 1000u), &delayed,
                               &blocked);
                json_t *fw = NULL, *backlogs = json_array(), *t;
                size_t i;
                if (backlogs && syslogfwd_status(h->store, &fw) >= 0)
                        json_array_foreach(json_object_get(fw, "targets"), i, t)
                                json_array_append_new(
                                        backlogs,
                                        json_pack("{s:O, s:O}", "target",
                                                  json_object_get(t, "target"), "backlog",
                                                  json_object_get(t, "backlog")));
                json_decref(fw);
                *ret = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o*, s:I}", "sessions",
                                 (json_int_t)sessions, "audit_head", (json_int_t)head, "logins_ok",
                                 (json_int_t)h->logins_ok, "logins_failed",
                                 (json_int_t)h->logins_failed, "sources_throttled",
                                 (json_int_t)delayed, "sources_blocked", (json_int_t)blocked,
                                 "bootstrap", bootstrap, "audit_forward", backlogs,
                                 "audit_forward_restarts",
                                 (json_int_t)syslogfwd_restarts(h->forwarder));
        }
        return *ret ? 0 : -ENOMEM;
}

/* New audit records for the event stream, oldest first, for a session that
 * may read the audit log anyway. */
static int op_audit_since(struct helper *h, const struct caller *c, json_t *args, int fd,
                          json_t **ret, struct module_error *e) {
        json_t *after = json_object_get(args, "after"), *records = NULL;
        int r;

        if (!json_is_integer(after) || json_integer_value(after) < 0 ||
            json_object_size(args) != 1) {
                module_error_set(e, 400, "invalid_argument", "after", "after is a record id");
                return -EINVAL;
        }
        r = audit_list_after(h->store, json_integer_value(after), 100, &records);
        if (r < 0) {
                module_error_set(e, 500, "internal", NULL, "cannot read the audit log: %s",
                                 strerror(-r));
                return r;
        }
        *ret = json_pack("{s:o}", "records", records);
        return *ret ? 0 : -ENOMEM;
}

/* The front refused a change for the caller's role before it reached the
 * helper (api.c): record it.  Only a session can, and only for itself; the
 * record names the request, never its body. */
static int op_audit_refused(struct helper *h, const struct caller *c, json_t *args, int fd,
                            json_t **ret, struct module_error *e) {
        const char *method = str_arg(args, "method"), *path = str_arg(args, "path");
        const char *msg = str_arg(args, "message");
        const module_t *m = NULL;
        _cleanup_free_ char *operation = NULL;
        char name[65];

        if (!method || !path || !msg || json_object_size(args) != 3 || strlen(method) > 16 ||
            strlen(path) > 4096 || strncmp(path, "/api/", 5) != 0) {
                module_error_set(e, 400, "bad_request", NULL, "give method, path and message");
                return -EINVAL;
        }
        /* /api/v1/modules/NAME/… or /api/v1/COLLECTION[/…]: the module. */
        if (sscanf(path, "/api/v1/modules/%64[^/]", name) == 1)
                m = module_find(name);
        else if (sscanf(path, "/api/v1/%64[^/]", name) == 1)
                (void)collection_find(name, &m);
        if (asprintf(&operation, "%s %.200s", method, path) < 0) {
                module_error_set(e, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        op_record(c, m ? m->name : "", operation, NULL, NULL);
        c->record->refusal = true;
        module_error_set(&c->record->why, 403, "forbidden", NULL, "%.200s", msg);
        *ret = json_object();
        return *ret ? 0 : -ENOMEM;
}

/* The handler of each operation of helperops.h, by its enum value.  The
 * table there says who may call it and with what; a slow one (a walk of a
 * home, a list of every account from NSS) runs in a forked worker under
 * helper_serve, after the session and role checks. */
static const op_fn handlers[HELPER_OP__COUNT] = {
        [HELPER_OP_SESSION_CHECK] = op_session_check,
        [HELPER_OP_CSRF_CHECK] = op_csrf_check,
        [HELPER_OP_CSRF_RENEW] = op_csrf_renew,
        [HELPER_OP_PEER_SESSION] = op_peer_session,
        [HELPER_OP_PEER_END] = op_peer_end,
        [HELPER_OP_LOGIN] = op_login,
        [HELPER_OP_LOGIN_BOOTSTRAP] = op_login_bootstrap,
        [HELPER_OP_LOGOUT] = op_logout,
        [HELPER_OP_TOKEN_CREATE] = op_token_create,
        [HELPER_OP_TOKEN_LIST] = op_token_list,
        [HELPER_OP_TOKEN_REVOKE] = op_token_revoke,
        [HELPER_OP_SESSION_LIST] = op_session_list,
        [HELPER_OP_SESSION_END] = op_session_end,
        [HELPER_OP_SETTINGS_APPLY] = op_settings_apply,
        [HELPER_OP_COMMAND] = op_command,
        [HELPER_OP_ACTION] = op_action,
        [HELPER_OP_MODULE_READ] = op_module_read,
        [HELPER_OP_AUDIT_LIST] = op_audit_list,
        [HELPER_OP_AUDIT_GET] = op_audit_get,
        [HELPER_OP_AUDIT_VERIFY] = op_audit_verify,
        [HELPER_OP_AUDIT_FORWARDING] = op_audit_forwarding,
        [HELPER_OP_AUDIT_ROLLBACK] = op_audit_rollback,
        [HELPER_OP_AUDIT_SINCE] = op_audit_since,
        [HELPER_OP_AUDIT_REFUSED] = op_audit_refused,
        [HELPER_OP_METRICS_STORE] = op_metrics_store,
        [HELPER_OP_METRICS_QUERY] = op_metrics_query,
        [HELPER_OP_METRICS_RECENT] = op_metrics_recent,
        [HELPER_OP_FRONT_POLL] = op_front_poll,
        [HELPER_OP_MODULE_GAUGES] = op_module_gauges,
        [HELPER_OP_MODULE_STATE_PUT] = op_module_state_put,
        [HELPER_OP_MODULE_STATE_GET] = op_module_state_get,
        [HELPER_OP_MODULE_LOG_APPEND] = op_module_log_append,
        [HELPER_OP_MODULE_LOG_LIST] = op_module_log_list,
        [HELPER_OP_MONITOR_READ] = op_monitor_read,
        [HELPER_OP_AUDIT_CHECK] = op_audit_check,
        [HELPER_OP_MODULE_TASK] = op_module_task,
        [HELPER_OP_COLLECTION_READ] = op_collection_read,
        [HELPER_OP_COLLECTION_WRITE] = op_collection_write,
        [HELPER_OP_COLLECTION_ACTION] = op_collection_action,
};

/* The record of a request refused for its role: the operation's name, the
 * module it names, and its plain top-level arguments (strings cut short,
 * nested values left out), so a session cannot make a huge record. */
static void audit_role_refusal(struct helper *h, const struct caller *c, const char *opname,
                               json_t *args, const struct module_error *e) {
        _cleanup_json_ json_t *shown = refused_args(args);
        const module_t *m = NULL;
        if (str_arg(args, "module"))
                m = module_find(str_arg(args, "module"));
        else if (str_arg(args, "collection"))
                (void)collection_find(str_arg(args, "collection"), &m);
        audit(h, c, m ? m->name : "", opname, shown, -EPERM, e, NULL, 0, NULL);
}

bool helper_op_handled(enum helper_op op) {
        return (unsigned)op < HELPER_OP__COUNT && handlers[op] != NULL;
}

static json_t *answer_error(json_t *id, const struct module_error *e) {
        json_t *err = json_pack("{s:i, s:s, s:s}", "status", e->status ? e->status : 500, "code",
                                e->code[0] ? e->code : "internal", "message",
                                e->message[0] ? e->message : "internal error");
        if (e->field[0])
                json_object_set_new(err, "field", json_string(e->field));
        return json_pack("{s:O?, s:b, s:o}", "id", id, "ok", false, "error", err);
}

/* Writes the record an audited handler asked for (struct op_record) with
 * its result, and hands the new record's id to the answer. */
static void record_write(struct helper *h, const struct caller *c, struct op_record *rec, int r,
                         const struct module_error *e, json_t *result) {
        int64_t id = 0;

        if (rec->refusal) {
                r = -EPERM;
                e = &rec->why;
        }
        if (rec->files)
                audit_with_images(h, c, rec->module, rec->operation, rec->args, r, e, rec->files,
                                  rec->rollback_of, &id);
        else
                audit(h, c, rec->module, rec->operation, rec->args, r, e, NULL, rec->rollback_of,
                      &id);
        if (r >= 0 && rec->id_key && id > 0 && json_is_object(result))
                json_object_set_new(result, rec->id_key, json_integer(id));
}

/* The checks of a request's row before its handler runs: the session, the
 * bootstrap token's bounds and the role (a refusal for the role is
 * audited), then the arguments against the schema. */
static int dispatch_checks(struct helper *h, const struct helper_op_def *op, const char *secret,
                           json_t *args, struct caller *c, struct module_error *e) {
        struct session_limits lim;
        int r;

        if (op->flags & HELPER_OPF_SESSION) {
                session_limits(&lim);
                r = secret ? sessions_check(h->store, secret, &lim, now_s(), &c->s) : -ENOENT;
                if (r < 0) {
                        log_fields(LOG_LEVEL_WARNING,
                                   &(struct log_fields){.source = c->source, .operation = op->name},
                                   "helper: refused %s: %s", op->name,
                                   secret ? "invalid or expired session" : "no session");
                        module_error_set(e, 401, "unauthenticated", NULL,
                                         r == -ETIMEDOUT ? "session expired" : "invalid session");
                        return r;
                }
                r = session_authority(h, c->source, &c->s, e);
                if (r < 0) {
                        log_fields(LOG_LEVEL_WARNING,
                                   &(struct log_fields){.user = c->s.user,
                                                        .source = c->source,
                                                        .operation = op->name},
                                   "helper: refused %s for \"%s\": %s", op->name, c->s.user,
                                   e->message);
                        return r;
                }
                c->has_session = true;
                if (STREQ(c->s.kind, "bootstrap") && !(op->flags & HELPER_OPF_BOOTSTRAP_OK)) {
                        module_error_set(e, 401, "unauthenticated", NULL,
                                         "the bootstrap token can only log in (POST /api/v1/login) "
                                         "or create the first API token");
                        return -EPERM;
                }
                if (c->s.role < op->min_role) {
                        log_fields(LOG_LEVEL_WARNING,
                                   &(struct log_fields){.user = c->s.user,
                                                        .source = c->source,
                                                        .operation = op->name},
                                   "helper: refused %s for \"%s\" (%s): needs %s", op->name,
                                   c->s.user, role_to_string(c->s.role),
                                   role_to_string(op->min_role));
                        module_error_set(e, 403, "forbidden", NULL, "this needs the role %s",
                                         role_to_string(op->min_role));
                        audit_role_refusal(h, c, op->name, args, e);
                        return -EPERM;
                }
        }
        r = helper_op_check_args((enum helper_op)(op - helper_ops), args, e);
        if (r < 0)
                log_warning("helper: refused %s: %s", op->name, e->message);
        return r;
}

static int worker_fork(struct helper *h);

/* ---- audited workers ---------------------------------------------------------
 * An operation flagged HELPER_OPF_WORKER (an item action, which may wait for
 * what it started) runs in a forked worker after the checks, so that this
 * process answers logins, session checks and other changes meanwhile.  The
 * worker touches neither the store nor the channel: it leaves its outcome
 * (result, error, the record it asks for) in a memfd and exits; this
 * process writes the record, then answers (worker_reaped).  A worker that
 * dies or is killed (past HELPER_WORKER_TIMEOUT_USEC, or when the front goes)
 * still gets a record: the operation may have changed something. */

static json_t *error_json(const struct module_error *e) {
        return json_pack("{s:i, s:s, s:s, s:s}", "status", e->status, "code", e->code, "message",
                         e->message, "field", e->field);
}

static void error_from_json(json_t *j, struct module_error *e) {
        *e = (struct module_error){.status = (int)json_integer_value(json_object_get(j, "status"))};
        snprintf(e->code, sizeof e->code, "%s",
                 json_string_value(json_object_get(j, "code")) ?: "");
        snprintf(e->message, sizeof e->message, "%s",
                 json_string_value(json_object_get(j, "message")) ?: "");
        snprintf(e->field, sizeof e->field, "%s",
                 json_string_value(json_object_get(j, "field")) ?: "");
}

/* In the worker: the outcome into its memfd, then exit. */
static _Noreturn void outcome_leave(struct helper *h, int r, const struct module_error *e,
                                    json_t *result, const struct op_record *rec) {
        json_t *o = json_pack(
                "{s:i, s:o, s:O?, s:{s:b, s:s, s:s, s:O?, s:O?, s:I, s:s?, s:b, s:o}}", "r", r,
                "error", error_json(e), "result", result, "record", "due", rec->due, "module",
                rec->module, "operation", rec->operation, "args", rec->args, "files", rec->files,
                "rollback_of", (json_int_t)rec->rollback_of, "id_key", rec->id_key, "refusal",
                rec->refusal, "why", error_json(&rec->why));
        int q = o ? json_dumpfd(o, h->outcome_fd, JSON_COMPACT) : -1;

        _exit(q == 0 ? 0 : 1);
}

/* In this process: forks the worker for req (checked for c's session).
 * > 0 here when it runs, 0 in the worker (which then runs the handler) or
 * when no worker could be started (the handler runs in line). */
static int audited_worker_fork(struct helper *h, json_t *req, const struct caller *c,
                               uint64_t timeout_usec) {
        int fd, pid;

        if (h->cur_ch < 0 || h->worker)
                return 0;
        fd = memfd_create("steward-outcome", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        pid = worker_fork(h);
        if (pid == 0 && h->worker) {
                h->outcome_fd = fd;
                return 0;
        }
        if (pid <= 0) {
                close(fd);
                return 0;
        }
        h->ch[h->cur_ch].deadline = now_usec() + timeout_usec;
        h->ch[h->cur_ch].outcome_fd = fd;
        h->ch[h->cur_ch].req = json_incref(req);
        h->ch[h->cur_ch].s = c->s;
        return pid;
}

/* In this process, once the worker of ch is gone: its record (from its
 * outcome; without one, a record that says it did not finish) and the
 * answer, or with answer false (the front is gone) the record only.
 * Returns what sending the answer returned. */
static int audited_worker_done(struct helper *h, struct channel *ch, bool exited_ok, bool answer) {
        _cleanup_json_ json_t *o = NULL, *frame = NULL;
        json_t *args = json_object_get(ch->req, "args"), *result = NULL, *jr;
        struct caller c = {.has_session = true,
                           .s = ch->s,
                           .source = json_string_value(json_object_get(ch->req, "source"))};
        struct op_record rec = {0};
        struct module_error e = {0};
        int r = -EIO;

        if (exited_ok && lseek(ch->outcome_fd, 0, SEEK_SET) == 0)
                o = json_loadfd(ch->outcome_fd, 0, NULL);
        jr = json_object_get(o, "record");
        if (o) {
                const char *key = json_string_value(json_object_get(jr, "id_key"));
                r = (int)json_integer_value(json_object_get(o, "r"));
                error_from_json(json_object_get(o, "error"), &e);
                result = json_object_get(o, "result");
                rec.due = json_is_true(json_object_get(jr, "due"));
                snprintf(rec.module, sizeof rec.module, "%s",
                         json_string_value(json_object_get(jr, "module")) ?: "");
                snprintf(rec.operation, sizeof rec.operation, "%s",
                         json_string_value(json_object_get(jr, "operation")) ?: "");
                rec.args = json_incref(json_object_get(jr, "args"));
                rec.files = json_incref(json_object_get(jr, "files"));
                rec.rollback_of = json_integer_value(json_object_get(jr, "rollback_of"));
                rec.id_key = key && STREQ(key, "audit_id") ? "audit_id"
                             : key && STREQ(key, "record") ? "record"
                                                           : NULL;
                rec.refusal = json_is_true(json_object_get(jr, "refusal"));
                error_from_json(json_object_get(jr, "why"), &rec.why);
        } else {
                /* It may have changed something before it died. */
                bool command = STREQ(json_string_value(json_object_get(ch->req, "op")) ?: "",
                                     helper_ops[HELPER_OP_COMMAND].name);
                const module_t *m = NULL;
                if (command)
                        m = module_find(str_arg(args, "module") ?: "");
                else
                        (void)collection_find(str_arg(args, "collection"), &m);
                module_error_set(&e, ch->killed ? 503 : 500, ch->killed ? "timeout" : "internal",
                                 NULL, "%s",
                                 ch->killed ? "the operation took too long and was stopped; what "
                                              "it had done stays done"
                                            : "the operation failed half-way");
                rec.due = !(command && json_is_true(json_object_get(args, "dry_run")));
                snprintf(rec.module, sizeof rec.module, "%s", m ? m->name : "");
                snprintf(rec.operation, sizeof rec.operation, "%s:%.200s",
                         command ? "command" : "action",
                         str_arg(args, command ? "name" : "action") ?: "");
                rec.args = command ? worker_command_args(args) : refused_args(args);
        }
        result = result ? json_deep_copy(result) : NULL;
        if (rec.due)
                record_write(h, &c, &rec, r, &e, result);
        json_decref(rec.args);
        json_decref(rec.files);
        authority_flush(h->authority);
        if (r >= 0)
                sweep_accounts(h);
        if (!answer) {
                json_decref(result);
                return 0;
        }
        if (r < 0) {
                frame = answer_error(ch->id, &e);
                if (json_is_object(result) && frame)
                        json_object_update_missing(json_object_get(frame, "error"), result);
                json_decref(result);
        } else
                frame = json_pack("{s:O?, s:b, s:o}", "id", ch->id, "ok", true, "result",
                                  result ? result : json_object());
        return frame ? proto_send(ch->fd, frame, -1) : -ENOMEM;
}

/* module_task has no session behind it: the front (even a compromised one)
 * gets a burst of TASK_BURST, then one every TASK_REFILL_USEC, and never
 * more than TASKS_PER_DAY in a day (the alerts' mail: a mailbox is not
 * flooded), counted here, before the worker forks.  A refusal is a 429
 * the front reads as "later" (-EBUSY), not as a verdict. */
static bool task_admitted(struct helper *h) {
        uint64_t now = now_usec();

        if (h->task_fill_usec == 0) {
                h->task_fill_usec = now;
                h->task_tokens = TASK_BURST;
        } else if (now - h->task_fill_usec >= TASK_REFILL_USEC) {
                uint64_t add = (now - h->task_fill_usec) / TASK_REFILL_USEC;
                h->task_tokens = add >= TASK_BURST - h->task_tokens ? TASK_BURST
                                                                     : h->task_tokens + (unsigned)add;
                h->task_fill_usec += add * TASK_REFILL_USEC;
        }
        if (h->task_day_usec == 0 || now - h->task_day_usec >= TASK_DAY_USEC) {
                h->task_day_usec = now;
                h->tasks_today = 0;
        }
        if (h->task_tokens == 0 || h->tasks_today >= TASKS_PER_DAY)
                return false;
        h->task_tokens--;
        h->tasks_today++;
        return true;
}

json_t *helper_dispatch(struct helper *h, json_t *req, int fd) {
        const char *name = json_string_value(json_object_get(req, "op"));
        const char *secret = json_string_value(json_object_get(req, "session"));
        json_t *id = json_object_get(req, "id"), *args = json_object_get(req, "args");
        struct module_error e = {0};
        struct op_record rec = {0};
        struct caller c = {.source = json_string_value(json_object_get(req, "source"))};
        const struct helper_op_def *op = NULL;
        enum helper_op which;
        json_t *result = NULL, *answer;
        int r;

        if (h->answer_fd >= 0) /* not taken by helper_serve: callers in-process */
                close(h->answer_fd);
        h->answer_fd = -1;
        flush_deferred(h); /* callers in-process: the previous answer went out */
        if (helper_op_from_name(name, &which) < 0 || !handlers[which]) {
                log_warning("helper: refused unknown operation \"%.32s\"", name ? name : "");
                module_error_set(&e, 400, "bad_request", NULL, "unknown operation");
                r = -EINVAL;
                goto done;
        }
        op = &helper_ops[which];
        if (args && !json_is_object(args)) {
                log_warning("helper: refused %s: malformed arguments", op->name);
                module_error_set(&e, 400, "bad_request", NULL, "malformed arguments");
                r = -EINVAL;
                goto done;
        }
        r = dispatch_checks(h, op, secret, args, &c, &e);
        /* Checked: nothing after needs the secret, and a worker forked for
         * the request (and what it forks in turn: a network probe) should
         * not hold it.  The string is the request's own copy. */
        if (secret)
                explicit_bzero((char *)secret, strlen(secret));
        if (r < 0)
                goto done;
        if (which == HELPER_OP_MODULE_TASK && !task_admitted(h)) {
                log_warning("helper: refused a module task: more than %u at once, one per"
                            " %us or %u a day",
                            TASK_BURST, TASK_REFILL_USEC / 1000000u, TASKS_PER_DAY);
                module_error_set(&e, 429, "too_many_tasks", NULL,
                                 "too many module tasks: try again later");
                r = -EBUSY;
                goto done;
        }
        if ((op->flags & HELPER_OPF_SLOW) && worker_fork(h) > 0) {
                /* The worker answers on this channel (helper_serve). */
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        if ((op->flags & HELPER_OPF_WORKER) &&
            (which == HELPER_OP_COLLECTION_ACTION ? action_admitted(&c, args)
             : which == HELPER_OP_COMMAND         ? command_admitted(&c, args)
                                                  : true) &&
            audited_worker_fork(h, req, &c, worker_timeout_usec(which, args)) > 0) {
                /* The worker leaves its outcome; worker_reaped records
                 * and answers. */
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        {
                json_t *a = args ? json_incref(args) : json_object();
                if (op->flags & HELPER_OPF_AUDITED)
                        c.record = &rec;
                r = handlers[which](h, &c, a, fd, &result, &e);
                json_decref(a);
                if (h->worker && h->outcome_fd >= 0)
                        outcome_leave(h, r, &e, result, &rec); /* does not return */
                if (rec.due)
                        record_write(h, &c, &rec, r, &e, result);
                json_decref(rec.args);
                json_decref(rec.files);
                if (!(op->flags & HELPER_OPF_READS_ONLY))
                        authority_flush(h->authority); /* our own changes count at once */
                if (r >= 0 && (op->flags & HELPER_OPF_CHANGES_ACCOUNTS))
                        sweep_accounts(h);
                if (which == HELPER_OP_LOGIN || which == HELPER_OP_LOGIN_BOOTSTRAP) {
                        if (r >= 0)
                                h->logins_ok++;
                        else
                                h->logins_failed++;
                }
                if (fd >= 0)
                        close(fd);
                fd = -1;
        }
done:
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                /* A failing handler may leave details (e.g. conflicting diffs). */
                answer = answer_error(id, &e);
                if (json_is_object(result))
                        json_object_update_missing(json_object_get(answer, "error"), result);
                json_decref(result);
                return answer;
        }
        return json_pack("{s:O?, s:b, s:o}", "id", id, "ok", true, "result",
                         result ? result : json_object());
}

int helper_new(const char *state_dir, const char *bootstrap_path, struct helper **ret, char *err,
               size_t err_len) {
        struct helper *h = calloc(1, sizeof *h);
        _cleanup_free_ char *secret = NULL;
        size_t len;
        int r;

        if (!h)
                return -ENOMEM;
        h->answer_fd = -1;
        h->outcome_fd = -1;
        h->cur_ch = -1;
        h->bootstrap_path = strdup(bootstrap_path);
        r = h->bootstrap_path ? store_open(state_dir, &h->store, err, err_len) : -ENOMEM;
        if (r >= 0) {
                free(state_reader.dir);
                state_reader.dir = strdup(state_dir);
                state_reader.store = h->store;
                state_reader.pid = getpid();
                modules_set_state_read(helper_state_read);
        }
        if (r >= 0)
                r = throttle_new(THROTTLE_ENTRIES, &h->throttle);
        if (r >= 0)
                r = throttle_new(GOOD_SOURCES, &h->good_sources);
        if (r >= 0)
                r = authority_new(&h->authority);
        if (r < 0)
                goto fail;
        r = read_file(bootstrap_path, 4096, &secret, &len);
        if (r >= 0) {
                while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == ' '))
                        secret[--len] = '\0';
                r = sessions_import_bootstrap(h->store, secret, now_s());
                explicit_bzero(secret, len);
                if (r < 0) {
                        snprintf(err, err_len, "cannot import the bootstrap token: %s",
                                 strerror(-r));
                        goto fail;
                }
        }
        *ret = h;
        return 0;
fail:
        helper_free(h);
        return r < 0 ? r : -EIO;
}

int helper_set_peer_socket(struct helper *h, const char *path) {
        char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        free(h->peer_socket);
        h->peer_socket = p;
        return 0;
}

int helper_add_listener(struct helper *h, int fd) {
        return loginsrc_add_listener(&h->listeners, fd);
}

void helper_set_front_uid(struct helper *h, uid_t uid) {
        loginsrc_set_front_uid(&h->listeners, uid);
}
static void workers_stop(struct helper *h);

/* audit_append's hook: one forwarder per process (the helper). */
static struct syslogfwd *forwarder_to_wake;

static void forwarder_wake(void) {
        syslogfwd_notify(forwarder_to_wake);
}

void helper_set_forwarder(struct helper *h, struct syslogfwd *f) {
        syslogfwd_stop(h->forwarder);
        h->forwarder = f;
        forwarder_to_wake = f;
        audit_set_appended_hook(f ? forwarder_wake : NULL);
        syslogfwd_notify(f); /* the store is open: it may open its own */
}

void helper_stopping(struct helper *h) {
        syslogfwd_hold(h->forwarder);
}

void helper_free(struct helper *h) {
        if (!h)
                return;
        workers_stop(h);
        if (h->forwarder) {
                audit_set_appended_hook(NULL);
                forwarder_to_wake = NULL;
                syslogfwd_stop(h->forwarder);
        }
        free(h->peer_socket);
        if (h->store && state_reader.store == h->store) {
                modules_set_state_read(NULL);
                state_reader.store = NULL;
                free(state_reader.dir);
                state_reader.dir = NULL;
        }
        if (h->store) {
                flush_deferred(h);
                store_close(h->store);
        }
        throttle_free(h->throttle);
        throttle_free(h->good_sources);
        authority_free(h->authority);
        free(h->bootstrap_path);
        json_decref(h->audit_verdict);
        free(h);
}

int helper_front_started(struct helper *h) {
        return sessions_delete_peers(h->store);
}

void helper_tick(struct helper *h) {
        struct session_limits lim;
        session_limits(&lim);
        (void)sessions_purge(h->store, &lim, now_s());
        authority_flush(h->authority);
        sweep_accounts(h);
        syslogfwd_notify(h->forwarder); /* notices if it died */
}

/* ---- serving: channels and workers ---------------------------------------- */

/* Called by helper_dispatch for a slow operation once its session and role
 * are checked.  Under helper_serve, forks a worker for the request and
 * returns its pid in the parent and 0 in the worker, which carries on with
 * the request.  Elsewhere (callers in-process), or if the fork fails,
 * returns 0 in this process: the request is served here, as before. */
static int worker_fork(struct helper *h) {
        struct channel *ch;
        pid_t pid;
        int pidfd;

        if (h->cur_ch < 0 || h->worker)
                return 0;
        ch = &h->ch[h->cur_ch];
        pid = fork();
        if (pid < 0) {
                log_warning_errno(-errno, "helper: cannot fork a worker; serving in line");
                return 0;
        }
        if (pid == 0) {
                h->worker = true;
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                return 0;
        }
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                /* Without a way to watch it, it is not started at all. */
                log_warning_errno(-errno, "helper: cannot watch a worker; serving in line");
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return 0;
        }
        ch->worker = pid;
        ch->pidfd = pidfd;
        ch->deadline = now_usec() + HELPER_WORKER_TIMEOUT_USEC;
        ch->killed = false;
        return pid;
}

static void channel_idle(struct channel *ch) {
        if (ch->pidfd >= 0)
                close(ch->pidfd);
        ch->pidfd = -1;
        ch->worker = 0;
        json_decref(ch->id);
        ch->id = NULL;
        if (ch->outcome_fd >= 0)
                close(ch->outcome_fd);
        ch->outcome_fd = -1;
        json_decref(ch->req);
        ch->req = NULL;
}

/* Kills and reaps every worker (the front they answer is gone). */
static void workers_stop(struct helper *h) {
        for (size_t i = 0; i < h->n_ch; i++) {
                struct channel *ch = &h->ch[i];
                if (ch->worker > 0) {
                        kill(ch->worker, SIGKILL);
                        while (waitpid(ch->worker, NULL, 0) < 0 && errno == EINTR)
                                ;
                        if (ch->outcome_fd >= 0) /* recorded, not answered */
                                (void)audited_worker_done(h, ch, /* exited_ok= */ false,
                                                          /* answer= */ false);
                }
                channel_idle(ch);
        }
        h->n_ch = 0;
}

/* A worker has exited: the channel is polled again.  A worker that did not
 * exit 0 may not have answered; its request is answered here (a channel
 * whose worker died half-way through its answer is broken framing for the
 * front, which then gets restarted). */
static int worker_reaped(struct helper *h, struct channel *ch) {
        struct module_error e = {0};
        siginfo_t si = {0};
        json_t *answer;
        int r = 0;

        if (waitid(P_PID, (id_t)ch->worker, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return 0; /* not yet */
        if (ch->outcome_fd >= 0) {
                if (ch->killed)
                        log_warning("helper: a worker ran past %u s; killed it",
                                    HELPER_WORKER_TIMEOUT_USEC / 1000000u);
                r = audited_worker_done(
                        h, ch, si.si_code == CLD_EXITED && si.si_status == 0 && !ch->killed,
                        /* answer= */ true);
                channel_idle(ch);
                return r == -EPIPE || r == -ECONNRESET ? 1 : r;
        }
        if (si.si_code != CLD_EXITED || si.si_status != 0) {
                if (ch->killed) {
                        log_warning("helper: a worker ran past %u s; killed it",
                                    HELPER_WORKER_TIMEOUT_USEC / 1000000u);
                        module_error_set(&e, 503, "timeout", NULL,
                                         "the operation took too long; ask for less at a time");
                } else {
                        log_error("helper: a worker failed (%s %d)",
                                  si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
                        module_error_set(&e, 500, "internal", NULL, "the operation failed");
                }
                answer = answer_error(ch->id, &e);
                r = answer ? proto_send(ch->fd, answer, -1) : -ENOMEM;
                json_decref(answer);
        }
        channel_idle(ch);
        return r == -EPIPE || r == -ECONNRESET ? 1 : r;
}

/* Receives one request on channel i and answers it, or leaves it to a
 * worker.  Returns 0 to go on, 1 when the front hung up, or a framing error. */
static int serve_channel(struct helper *h, size_t i) {
        struct channel *ch = &h->ch[i];
        json_t *req = NULL, *answer;
        int fd = -1, r;

        r = proto_recv(ch->fd, &req, &fd);
        if (r == -ECONNRESET)
                return 1;
        if (r < 0) {
                log_error("helper: framing error from the front (%s); dropping it", strerror(-r));
                return r == -E2BIG ? r : -EBADMSG;
        }
        h->answer_fd = -1;
        h->cur_ch = (int)i;
        answer = helper_dispatch(h, req, fd);
        h->cur_ch = -1;
        if (!answer && ch->worker > 0) {
                ch->id = json_incref(json_object_get(req, "id"));
                json_decref(req);
                return 0;
        }
        if (!json_is_true(json_object_get(answer, "ok")) && h->answer_fd >= 0) {
                close(h->answer_fd);
                h->answer_fd = -1;
        }
        r = answer ? proto_send(ch->fd, answer, h->answer_fd) : -ENOMEM;
        if (r == -E2BIG) {
                /* Our own answer past the frame cap (nothing was sent):
                 * an error for this request, not a broken front. */
                struct module_error e = {0};
                log_warning("helper: the answer to %.32s is larger than a frame",
                            json_string_value(json_object_get(req, "op")) ?: "");
                module_error_set(&e, 500, "answer_too_large", NULL,
                                 "the answer is too large; ask for less at a time");
                json_decref(answer);
                answer = answer_error(json_object_get(req, "id"), &e);
                if (h->answer_fd >= 0)
                        close(h->answer_fd);
                h->answer_fd = -1;
                r = answer ? proto_send(ch->fd, answer, -1) : -ENOMEM;
        }
        if (h->answer_fd >= 0)
                close(h->answer_fd);
        h->answer_fd = -1;
        if (!h->worker) /* a refused login's record, now that its answer is out */
                flush_deferred(h);
        json_decref(answer);
        json_decref(req);
        if (h->worker) /* its one request is answered */
                _exit(r < 0 ? 1 : 0);
        return r == -EPIPE || r == -ECONNRESET ? 1 : r;
}

/* The poll timeout: a minute, or until the nearest worker's deadline. */
static int poll_timeout(struct helper *h) {
        uint64_t now = now_usec(), t = 60000;
        int fwd = syslogfwd_timeout_ms(h->forwarder);

        if (fwd >= 0 && (uint64_t)fwd < t)
                t = (uint64_t)fwd;

        for (size_t i = 0; i < h->n_ch; i++) {
                const struct channel *ch = &h->ch[i];
                uint64_t left;
                if (ch->worker <= 0 || ch->killed)
                        continue;
                left = ch->deadline > now ? (ch->deadline - now) / 1000u + 1 : 0;
                if (left < t)
                        t = left;
        }
        return (int)t;
}

static void workers_kill_late(struct helper *h) {
        uint64_t now = now_usec();

        for (size_t i = 0; i < h->n_ch; i++) {
                struct channel *ch = &h->ch[i];
                if (ch->worker > 0 && !ch->killed && now >= ch->deadline) {
                        (void)pidfd_send_signal(ch->pidfd, SIGKILL, NULL, 0);
                        ch->killed = true;
                }
        }
}

static int serve_loop(struct helper *h, int sigfd) {
        /* The tick's clock is the helper's, not this call's: every signal
         * (a worker's SIGCHLD among them) returns here, and a fresh clock
         * per call would never reach the minute. */
        if (h->last_tick_usec == 0)
                h->last_tick_usec = now_usec();
        for (;;) {
                /* Each channel: itself when idle, its worker's pidfd when
                 * busy (a busy channel is not read: the worker owns it
                 * until it exits); then the signals. */
                struct pollfd p[HELPER_CHANNELS_MAX + 2];
                size_t n = h->n_ch;
                int r;

                if (now_usec() - h->last_tick_usec > 60u * 1000000u) {
                        helper_tick(h);
                        h->last_tick_usec = now_usec();
                }
                for (size_t i = 0; i < n; i++)
                        p[i] = (struct pollfd){
                                .fd = h->ch[i].worker > 0 ? h->ch[i].pidfd : h->ch[i].fd,
                                .events = POLLIN,
                        };
                /* then the audit forwarder's pidfd (-1, ignored, when none):
                 * it is started again when it dies */
                p[n] = (struct pollfd){.fd = sigfd, .events = POLLIN};
                p[n + 1] = (struct pollfd){.fd = syslogfwd_watch_fd(h->forwarder), .events = POLLIN};
                r = poll(p, n + 2, poll_timeout(h));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                workers_kill_late(h);
                syslogfwd_check(h->forwarder);
                if (sigfd >= 0 && (p[n].revents & POLLIN))
                        return -EINTR;
                for (size_t i = 0; i < n; i++) {
                        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        r = h->ch[i].worker > 0 ? worker_reaped(h, &h->ch[i]) : serve_channel(h, i);
                        if (r != 0)
                                return r > 0 ? 0 : r;
                }
        }
}

int helper_serve(struct helper *h, const int *socks, size_t n, int sigfd) {
        int r;

        if (n == 0 || n > HELPER_CHANNELS_MAX)
                return -EINVAL;
        if (h->n_ch == 0) {
                for (size_t i = 0; i < n; i++)
                        h->ch[i] = (struct channel){.fd = socks[i], .pidfd = -1, .outcome_fd = -1};
                h->n_ch = n;
        }
        r = serve_loop(h, sigfd);
        if (r != -EINTR)
                workers_stop(h);
        return r;
}
