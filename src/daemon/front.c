/* front.c — the network front's start-up and life (see front.h).
 *
 * Order matters: the front checks that its parent is still the supervisor,
 * drops privileges, loads the seccomp sandbox, and only then starts any
 * thread (helper client, event stream, modules' samplers, HTTP, discovery):
 * every thread runs unprivileged and sandboxed, with the signals blocked
 * (the mask is inherited from the supervisor), so only the main thread
 * takes them, with sigwaitinfo.  Modules reach the helper for their own
 * background work through modules_set_helper_call(), set before any
 * module's init(); the front names no module.
 */
#include "front.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "helperclient.h"
#include "helperstubs.h"
#include "helperops.h"
#include "jsonutil.h"
#include "log.h"
#include "module.h"
#include "config.h"
#include "sandbox.h"
#include "api.h"
#include "sd.h"
#include "util.h"

/* The port a socket is bound to (0: none, or not an IP socket). */
static uint16_t bound_port(int fd) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;

        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return 0;
        if (ss.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        if (ss.ss_family == AF_INET)
                return ntohs(((struct sockaddr_in *)&ss)->sin_port);
        return 0;
}

/* The port of the first TCP listener: what discovery answers advertise. */
static uint16_t tcp_port(const struct listener *ls, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint16_t p = ls[i].unix_socket ? 0 : bound_port(ls[i].fd);
                if (p)
                        return p;
        }
        return 0;
}

/* The port of the first discovery socket (0: none): where the service
 * discovery sweep asks its peers, who are most likely configured alike. */
static uint16_t udp_port(const struct udp_sockets *u) {
        for (size_t i = 0; i < u->n; i++) {
                uint16_t p = bound_port(u->fds[i]);
                if (p)
                        return p;
        }
        return 0;
}

/* Whether the supplementary groups hold root's group (gid 0). */
static bool groups_hold_root(void) {
        int n = getgroups(0, NULL);
        _cleanup_free_ gid_t *g = n > 0 ? calloc((size_t)n, sizeof *g) : NULL;

        if (n > 0 && (!g || getgroups(n, g) != n))
                return true;
        for (int i = 0; i < n; i++)
                if (g[i] == 0)
                        return true;
        return n < 0;
}

/* The one supplementary group the front keeps: systemd-journal, where `pw`
 * is a listed member of it (that is how the front reads the journal, the
 * logs module).  Every other group of the account is dropped: a front that
 * kept what the account was given (disk, shadow, adm, docker, sudo…) would
 * be root-equivalent once compromised.  Writes *ret_n (0 or 1). */
static void journal_group(const struct passwd *pw, gid_t *ret_gid, size_t *ret_n) {
        const struct group *g = getgrnam("systemd-journal");

        *ret_n = 0;
        if (!g || g->gr_gid == 0)
                return;
        for (char **m = g->gr_mem; m && *m; m++)
                if (strcmp(*m, pw->pw_name) == 0) {
                        *ret_gid = g->gr_gid;
                        *ret_n = 1;
                        return;
                }
}

/* Becomes `pw` for good: its gid (never 0), systemd-journal alone as a
 * supplementary group (journal_group), its uid; then checks that root
 * cannot be regained and forbids gaining privileges through exec. */
static int drop_privileges(const struct passwd *pw, char *err, size_t err_len) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg, journal = 0;
        size_t ngroups;

        if (pw->pw_uid != 0 && pw->pw_gid == 0) {
                snprintf(err, err_len,
                         "%s's primary group is root's (gid 0); give it a group of its own",
                         pw->pw_name);
                return -EPERM;
        }
        journal_group(pw, &journal, &ngroups);
        if (setgroups(ngroups, &journal) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
                snprintf(err, err_len, "cannot become %s: %s", pw->pw_name, strerror(errno));
                return -errno;
        }
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != pw->pw_uid ||
            eu != pw->pw_uid || su != pw->pw_uid || rg != pw->pw_gid || eg != pw->pw_gid ||
            sg != pw->pw_gid || (pw->pw_uid != 0 && groups_hold_root())) {
                snprintf(err, err_len, "the switch to %s did not take", pw->pw_name);
                return -EPERM;
        }
        if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
                snprintf(err, err_len, "root could be regained after the switch to %s",
                         pw->pw_name);
                return -EPERM;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                snprintf(err, err_len, "cannot set no_new_privs: %s", strerror(errno));
                return -errno;
        }
#if defined(__SANITIZE_ADDRESS__)
        /* LeakSanitizer must ptrace this process at exit; the uid switch made
         * it non-dumpable.  Only sanitizer (test) builds undo that. */
        (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
        return 0;
}

/* What stewardd's fullstatus adds while running: the discovery counters
 * and those of GET /api/v1/sd's sweeps. */
static json_t *live_facts(void) {
        return json_pack("{s:o, s:o}", "discovery_counters", discovery_counters_json(),
                         "service_discovery", sd_counters_json());
}

/* How modules' background work reaches the helper (module.h,
 * modules_set_helper_call): the metrics history stores its minutes so. */
static int front_helper_call(const char *op, json_t *args, json_t **ret) {
        static const struct helper_link front = {.call = helper_call, .source = "front"};
        struct module_error e = {0};
        enum helper_op which;
        int r;

        /* Only the operations made for modules' own stores go this way. */
        if (helper_op_from_name(op, &which) < 0 ||
            (which != HELPER_OP_METRICS_STORE && which != HELPER_OP_METRICS_QUERY &&
             which != HELPER_OP_METRICS_RECENT && which != HELPER_OP_MODULE_GAUGES &&
             which != HELPER_OP_MODULE_STATE_PUT && which != HELPER_OP_MODULE_STATE_GET &&
             which != HELPER_OP_MODULE_LOG_APPEND && which != HELPER_OP_MODULE_LOG_LIST &&
             which != HELPER_OP_MONITOR_READ && which != HELPER_OP_AUDIT_CHECK &&
             which != HELPER_OP_MODULE_TASK)) {
                json_decref(args);
                return -EINVAL;
        }
        r = helper_op_call(&front, which, args, -1, ret, &e);
        if (r == -EACCES && e.status == 429)
                return -EBUSY; /* not now: the caller tries again later */
        if (r == -EACCES)
                log_warning("the helper refused %s: %s", op, e.message);
        return r;
}

/* SIGHUP: a module whose file does not parse keeps what runs. */
static void reload_failed(const module_t *m, const struct module_error *e) {
        log_error("reload refused, keeping the running configuration: %s", e->message);
}

/* Unprivileged and sandboxed from here on; exits on failure. */
static void front_confine(const struct front_args *f) {
        char err[512];
        int r;

        (void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        if (getppid() != f->parent)
                _exit(1);
        if (getuid() == 0 || f->pw->pw_uid != getuid()) {
                r = drop_privileges(f->pw, err, sizeof err);
                if (r < 0) {
                        log_error("%s", err);
                        _exit(1);
                }
        }
        r = sandbox_front(err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                _exit(1);
        }
}

/* The helper client, the event stream, the modules, HTTP; exits when HTTP
 * cannot start (the rest degrades). */
static void front_start(const struct front_args *f, const int *helper_socks) {
        struct http_options hopt = {.tls = f->tls};
        char err[512];
        long cpus;
        int r;

        helper_client_init(helper_socks, HELPER_CHANNELS);
        modules_set_helper_call(front_helper_call);
        r = events_start();
        if (r < 0)
                log_warning_errno(r, "the event stream could not start");
        for (size_t i = 0; i < steward_modules_count; i++)
                if (steward_modules[i]->init && (r = steward_modules[i]->init()) < 0)
                        log_warning_errno(r, "module %s could not start", steward_modules[i]->name);
        /* Before HTTP serves: GET /api/v1/sd is never a 404 on a running
         * front. */
        r = sd_start(f->ls, f->n, udp_port(f->udp), f->tls->fingerprint, err, sizeof err);
        if (r < 0)
                log_error("%s; GET /api/v1/sd lists this server alone", err);
        api_set_sd(sd_targets_json);
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        hopt.threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned)cpus;
        r = http_start(f->ls, f->n, &hopt, err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                _exit(1);
        }
        steward_set_live_facts(live_facts);
        /* Start-up (TLS set-up, module init) leaves free heap behind; give
         * it back (measured: ~130 kB of the two processes' 2.4 MB of
         * anonymous memory, bench/events.sh). */
        malloc_trim(0);
}

/* Discovery, and what is served, in the log (on the first start only). */
static void front_announce(const struct front_args *f) {
        char err[512];
        int r;

        /* Without discovery the server still works: it is only not found. */
        r = discovery_start(f->udp->fds, f->udp->n, tcp_port(f->ls, f->n), f->tls->fingerprint, err,
                            sizeof err);
        if (r < 0)
                log_error("%s; not answering discovery requests", err);
        else
                for (size_t i = 0; i < f->udp->n && f->first; i++)
                        log_notice("answering discovery requests on udp %s", f->udp->names[i]);
        for (size_t i = 0; i + 1 < f->n && f->first; i++) {
                char host[256] = "";
                const char *port = strrchr(f->ls[i].name, ':');
                bool wildcard = strncmp(f->ls[i].name, "0.0.0.0:", 8) == 0 ||
                                strncmp(f->ls[i].name, "[::]:", 5) == 0;
                if (wildcard && gethostname(host, sizeof host - 1) == 0 && host[0])
                        log_notice("listening on https://%s/ (https://%s%s/)", f->ls[i].name, host,
                                   port);
                else
                        log_notice("listening on https://%s/", f->ls[i].name);
        }
        log_notice("%s on %s (local, by peer credentials); serving as %s",
                   f->first ? "listening" : "restarted, listening", f->ls[f->n - 1].name,
                   f->pw->pw_name);
        if (f->first && f->guide)
                fputs(f->guide, stderr);
}

/* Until SIGTERM or SIGINT; SIGHUP makes every module's files live again. */
static void front_wait(const sigset_t *mask) {
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(mask, &si);

                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (sig == SIGHUP) {
                        (void)modules_make_live(/* helper= */ false, reload_failed);
                        continue;
                }
                if (sig == SIGTERM || sig == SIGINT)
                        break;
        }
}

static void front_stop(const struct front_args *f, const int *helper_socks) {
        sd_stop(); /* GET /api/v1/sd still answers, with this server alone */
        discovery_stop();
        events_shutdown(); /* ends the streams, or the HTTP server waits for them */
        http_stop(f->ls, f->n);
        events_stop();
        for (size_t i = steward_modules_count; i-- > 0;)
                if (steward_modules[i]->done)
                        steward_modules[i]->done();
        modules_set_helper_call(NULL);
        for (size_t i = 0; i < HELPER_CHANNELS; i++)
                close(helper_socks[i]);
}

void front_main(const struct front_args *f, const int *helper_socks, const sigset_t *mask) {
        front_confine(f);
        front_start(f, helper_socks);
        front_announce(f);
        front_wait(mask);
        front_stop(f, helper_socks);
        exit(0);
}
