/* main.c — stewardd: command line, start-up, signals.
 *
 * Start-up order matters: signals are blocked before any thread exists (so
 * every thread inherits the mask and only the main thread receives them via
 * sigwaitinfo); the config, state dir, bootstrap token and TLS identity are
 * ready before any socket is served; sockets are bound before modules start
 * sampling, so a port conflict fails fast.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "discovery.h"
#include "helper/files.h"
#include "helper/helper.h"
#include "helper/sessions.h"
#include "helperclient.h"
#include "helperstubs.h"
#include "http.h"
#include "sandbox.h"
#include "jsonutil.h"
#include "log.h"
#include "module.h"
#include "events.h"
#include "modules/metrics/history.h"
#include "modules/stewardd/stewardd.h"
#include "tls.h"
#include "util.h"

#define MAX_LISTENERS 16
#define DEFAULT_PORT  660

/* The discovery sockets the parent bound for the front. */
struct udp_sockets {
        int fds[DISCOVERY_MAX_SOCKETS];
        char names[DISCOVERY_MAX_SOCKETS][64];
        size_t n;
};

struct args {
        const char *config;
        const char *listen[MAX_LISTENERS];
        size_t n_listen;
        const char *udp;
        const char *socket_path;
        const char *state_dir;
        const char *tls_dir;
        const char *user;
        bool foreground;
        int log_level;
};

static void usage(FILE *f) {
        fprintf(f,
                "Usage: stewardd [OPTION]…\n"
                "Steward server administration daemon (TLS on TCP 660, a local unix socket,\n"
                "discovery on UDP 660).\n\n"
                "  --config FILE       config file (default /etc/steward/stewardd.conf)\n"
                "  --listen ADDR:PORT  TCP address to serve over TLS; may repeat\n"
                "                      (default 0.0.0.0:660 and [::]:660)\n"
                "  --udp ADDR:PORT|off UDP address answering discovery requests; :PORT means\n"
                "                      every IPv4 and IPv6 address (default :660)\n"
                "  --socket PATH       local unix socket (default /run/steward/stewardd.sock)\n"
                "  --state-dir DIR     state directory (default /var/lib/steward)\n"
                "  --tls-dir DIR       TLS key and certificate (default /etc/steward/tls)\n"
                "  --user NAME         unprivileged user for the network front (default _steward)\n"
                "  --foreground        stay in the foreground and log to stderr\n"
                "  --log-level LEVEL   error, warning, notice, info or debug\n"
                "  --help, --version\n\n"
                "Signals: SIGTERM/SIGINT stop, SIGHUP re-reads the config file.\n"
                "See stewardd(8).\n");
}

/* Parses "A.B.C.D:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses). */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len) {
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon;
        unsigned port;
        size_t hl;

        memset(ss, 0, sizeof *ss);
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                hl = (size_t)(end - s - 1);
                colon = end + 1;
                if (hl == 0 || hl >= sizeof host)
                        return -EINVAL;
                memcpy(host, s + 1, hl);
                host[hl] = '\0';
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                hl = (size_t)(colon - s);
                if (hl >= sizeof host)
                        return -EINVAL;
                memcpy(host, s, hl);
                host[hl] = '\0';
        }
        if (safe_atou(colon + 1, &port) < 0 || port > 65535)
                return -EINVAL;
        if (s[0] == '[') {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)port);
                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
                        return -EINVAL;
                *len = sizeof *a;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)ss;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)port);
                if (hl == 0)
                        a->sin_addr.s_addr = htonl(INADDR_ANY);
                else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                *len = sizeof *a;
        }
        return 0;
}

static int bind_tcp(const char *spec, struct listener *l, char *err, size_t err_len) {
        struct sockaddr_storage ss, bound;
        socklen_t len, blen = sizeof bound;
        char host[INET6_ADDRSTRLEN];
        int one = 1, r;
        _cleanup_close_ int fd = -1;

        if (parse_addr(spec, &ss, &len) < 0) {
                snprintf(err, err_len, "invalid address \"%s\" (expected ADDR:PORT or [ADDR]:PORT)",
                         spec);
                return -EINVAL;
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot create a socket for %s: %s", spec, strerror(errno));
                return r;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ss.ss_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot listen on %s: %s%s", spec, strerror(errno),
                         errno == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                                         : "");
                return r;
        }
        if (listen(fd, 1024) < 0 || getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot listen on %s: %s", spec, strerror(errno));
                return r;
        }
        if (bound.ss_family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&bound;
                inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
                snprintf(l->name, sizeof l->name, "[%s]:%u", host, ntohs(a->sin6_port));
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&bound;
                inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
                snprintf(l->name, sizeof l->name, "%s:%u", host, ntohs(a->sin_port));
        }
        l->fd = TAKE_FD(fd);
        l->unix_socket = false;
        return 0;
}

/* Binds the discovery sockets for --udp: "off" binds none; ":PORT" binds
 * 0.0.0.0:PORT and [::]:PORT (IPv6 only), the IPv6 one skipped where the
 * kernel has no IPv6; anything else binds the one address it names. */
static int bind_udp(const char *spec, struct udp_sockets *u, char *err, size_t err_len) {
        struct sockaddr_storage ss[2];
        socklen_t len[2];
        size_t n = 1;
        int r;

        u->n = 0;
        if (STREQ(spec, "off"))
                return 0;
        if (parse_addr(spec, &ss[0], &len[0]) < 0) {
                snprintf(err, err_len,
                         "invalid --udp \"%s\" (ADDR:PORT, [ADDR]:PORT, :PORT or off)", spec);
                return -EINVAL;
        }
        if (spec[0] == ':') {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss[1];
                memset(&ss[1], 0, sizeof ss[1]);
                a->sin6_family = AF_INET6;
                a->sin6_addr = in6addr_any;
                a->sin6_port = ((struct sockaddr_in *)&ss[0])->sin_port;
                len[1] = sizeof *a;
                n = 2;
        }
        for (size_t i = 0; i < n; i++) {
                r = discovery_socket_open((struct sockaddr *)&ss[i], len[i], &u->fds[u->n],
                                          u->names[u->n], sizeof u->names[u->n], err, err_len);
                if (r == -EAFNOSUPPORT && i == 1) {
                        log_notice("no IPv6 here: discovery on IPv4 only");
                        continue;
                }
                if (r < 0) {
                        for (size_t k = 0; k < u->n; k++)
                                close(u->fds[k]);
                        u->n = 0;
                        return r;
                }
                u->n++;
        }
        return 0;
}

/* The port of the first TCP listener: what discovery answers advertise. */
static uint16_t tcp_port(const struct listener *ls, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct sockaddr_storage ss;
                socklen_t len = sizeof ss;

                if (ls[i].unix_socket || getsockname(ls[i].fd, (struct sockaddr *)&ss, &len) < 0)
                        continue;
                if (ss.ss_family == AF_INET6)
                        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
                if (ss.ss_family == AF_INET)
                        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
        return 0;
}

static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int bind_unix(const char *path, struct listener *l, char *err, size_t err_len) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -1;
        struct stat st;
        char *slash;
        int r;

        if (!dir)
                return -ENOMEM;
        if (strlen(path) >= sizeof sa.sun_path || path[0] != '/') {
                snprintf(err, err_len, "invalid socket path \"%s\" (absolute, under %zu bytes)",
                         path, sizeof sa.sun_path);
                return -EINVAL;
        }
        slash = strrchr(dir, '/');
        if (slash != dir) {
                *slash = '\0';
                r = mkdir_parents(dir, 0755);
                if (r < 0) {
                        snprintf(err, err_len, "cannot create %s: %s", dir, strerror(-r));
                        return r;
                }
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        snprintf(err, err_len, "%s exists and is not a socket; not touching it",
                                 path);
                        return -EEXIST;
                }
                /* A socket someone still answers on belongs to a running daemon. */
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
                        snprintf(err, err_len, "%s is in use: is another stewardd running?", path);
                        return -EADDRINUSE;
                }
                (void)unlink(path);
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 256) < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
                return r;
        }
        /* Anyone may connect; the peer's credentials decide what it may do. */
        (void)chmod(path, 0666);
        snprintf(l->name, sizeof l->name, "%s", path);
        l->fd = TAKE_FD(fd);
        l->unix_socket = true;
        return 0;
}

/* "stw_" + 64 hex digits, the format of every Steward secret. */
static int random_bytes_token(char **ret) {
        _cleanup_free_ char *hex = NULL;
        int r = random_hex(32, &hex);
        if (r < 0)
                return r;
        return asprintf(ret, "%s%s", SESSION_SECRET_PREFIX, hex) < 0 ? -ENOMEM : 0;
}

/* On a fresh installation (no store yet), writes the one-time bootstrap
 * token; the helper imports it into the store and deletes the file once it
 * has been used.  A later start never makes a new one. */
static int bootstrap_token(const char *state_dir, bool *created, char **path, char *err,
                           size_t err_len) {
        _cleanup_free_ char *p = NULL, *db = NULL, *tok = NULL;
        int r;

        if (asprintf(&p, "%s/bootstrap-token", state_dir) < 0 ||
            asprintf(&db, "%s/steward.db", state_dir) < 0)
                return -ENOMEM;
        *created = false;
        if (access(db, F_OK) < 0 && errno == ENOENT && access(p, F_OK) < 0) {
                r = random_bytes_token(&tok);
                if (r >= 0)
                        r = write_file_atomic(p, tok, strlen(tok), 0600);
                if (r < 0) {
                        snprintf(err, err_len, "cannot write %s: %s", p, strerror(-r));
                        return r;
                }
                explicit_bzero(tok, strlen(tok));
                *created = true;
        }
        *path = TAKE_PTR(p);
        return 0;
}

static int parse_args(int argc, char **argv, struct args *a) {
        enum {
                O_CONFIG = 256,
                O_LISTEN,
                O_UDP,
                O_SOCKET,
                O_STATE,
                O_TLS,
                O_USER,
                O_FG,
                O_LEVEL,
                O_HELP,
                O_VERSION
        };
        static const struct option opts[] = {
                {"config", required_argument, NULL, O_CONFIG},
                {"listen", required_argument, NULL, O_LISTEN},
                {"udp", required_argument, NULL, O_UDP},
                {"socket", required_argument, NULL, O_SOCKET},
                {"state-dir", required_argument, NULL, O_STATE},
                {"tls-dir", required_argument, NULL, O_TLS},
                {"user", required_argument, NULL, O_USER},
                {"foreground", no_argument, NULL, O_FG},
                {"log-level", required_argument, NULL, O_LEVEL},
                {"help", no_argument, NULL, O_HELP},
                {"version", no_argument, NULL, O_VERSION},
                {0},
        };
        int c;

        *a = (struct args){
                .config = "/etc/steward/stewardd.conf",
                .udp = ":660",
                .socket_path = "/run/steward/stewardd.sock",
                .state_dir = "/var/lib/steward",
                .tls_dir = "/etc/steward/tls",
                .user = "_steward",
                .log_level = -1,
        };
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case O_CONFIG:
                        a->config = optarg;
                        break;
                case O_LISTEN:
                        if (a->n_listen == MAX_LISTENERS) {
                                fprintf(stderr, "stewardd: at most %d --listen addresses\n",
                                        MAX_LISTENERS);
                                return -EINVAL;
                        }
                        {
                                struct sockaddr_storage ss;
                                socklen_t len;
                                if (parse_addr(optarg, &ss, &len) < 0) {
                                        fprintf(stderr,
                                                "stewardd: invalid --listen \"%s\" (ADDR:PORT or "
                                                "[ADDR]:PORT)\n",
                                                optarg);
                                        return -EINVAL;
                                }
                        }
                        a->listen[a->n_listen++] = optarg;
                        break;
                case O_UDP: {
                        struct sockaddr_storage ss;
                        socklen_t len;
                        if (!STREQ(optarg, "off") && parse_addr(optarg, &ss, &len) < 0) {
                                fprintf(stderr,
                                        "stewardd: invalid --udp \"%s\" (ADDR:PORT, [ADDR]:PORT, "
                                        ":PORT or off)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        a->udp = optarg;
                        break;
                }
                case O_SOCKET:
                        a->socket_path = optarg;
                        break;
                case O_STATE:
                        a->state_dir = optarg;
                        break;
                case O_TLS:
                        a->tls_dir = optarg;
                        break;
                case O_USER:
                        a->user = optarg;
                        break;
                case O_FG:
                        a->foreground = true;
                        break;
                case O_LEVEL:
                        a->log_level = log_level_from_string(optarg);
                        if (a->log_level < 0) {
                                fprintf(stderr,
                                        "stewardd: unknown log level \"%s\" (error, warning, "
                                        "notice, info, debug)\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case O_HELP:
                        usage(stdout);
                        exit(0);
                case O_VERSION:
                        printf("stewardd %s\n", STEWARD_VERSION);
                        exit(0);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "stewardd: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        if (a->n_listen == 0) {
                a->listen[a->n_listen++] = "0.0.0.0:660";
                a->listen[a->n_listen++] = "[::]:660";
        }
        return 0;
}

static json_t *facts_json(struct listener *ls, size_t n, const struct args *a,
                          const struct tls_identity *tls, const char *token_path) {
        json_t *listeners = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(listeners,
                                      json_pack("{s:s, s:s}", "address", ls[i].name, "transport",
                                                ls[i].unix_socket ? "unix" : "tls"));
        return json_pack("{s:o, s:{s:s, s:s}, s:s, s:s, s:s}", "listeners", listeners, "tls",
                         "fingerprint", tls->fingerprint, "directory", a->tls_dir, "state_dir",
                         a->state_dir, "bootstrap_token_file", token_path, "discovery", a->udp);
}

/* Becomes `pw` for good: groups, gid, uid; then checks that root cannot be
 * regained and forbids gaining privileges through exec. */
static int drop_privileges(const struct passwd *pw, char *err, size_t err_len) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;

        if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
                snprintf(err, err_len, "cannot become %s: %s", pw->pw_name, strerror(errno));
                return -errno;
        }
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != pw->pw_uid ||
            eu != pw->pw_uid || su != pw->pw_uid || rg != pw->pw_gid || eg != pw->pw_gid ||
            sg != pw->pw_gid || getgroups(0, NULL) != 0) {
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

struct front_args {
        struct listener *ls;
        size_t n;
        const struct tls_identity *tls;
        const struct passwd *pw;
        const struct udp_sockets *udp;
        pid_t parent;
        bool first;
};

/* What stewardd's fullstatus adds while running: the discovery counters. */
static json_t *live_facts(void) {
        return json_pack("{s:o}", "discovery_counters", discovery_counters_json());
}

/* The metrics history's way to the helper's database (history.h): it
 * names the three metrics operations, and no other goes through here. */
static int history_helper(const char *op, json_t *args, json_t **ret) {
        static const struct helper_link front = {.call = helper_call, .source = "front"};
        struct module_error e = {0};
        enum helper_op which;
        int r;

        if (helper_op_from_name(op, &which) < 0 ||
            (which != HELPER_OP_METRICS_STORE && which != HELPER_OP_METRICS_QUERY &&
             which != HELPER_OP_METRICS_RECENT)) {
                json_decref(args);
                return -EINVAL;
        }
        r = helper_op_call(&front, which, args, -1, ret, &e);
        if (r == -EACCES)
                log_warning("the helper refused %s: %s", op, e.message);
        return r;
}

/* Every connection, event subscribers included, is a descriptor: take what
 * the hard limit allows (systemd's default soft limit of 1024 would cap the
 * connections near 500). */
static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* SIGHUP: a module whose file does not parse keeps what runs. */
static void reload_failed(const module_t *m, const struct module_error *e) {
        log_error("reload refused, keeping the running configuration: %s", e->message);
}

/* At start, in the helper: a write killed mid-way (kill -9) left a temp
 * file beside a file we own; ours only, by their names. */
static void stale_temp_removed(const char *dir, const char *name) {
        log_notice("removed the stale temporary file %s/%s left by an interrupted write", dir,
                   name);
}

static void remove_stale_temps(void) {
        for (size_t i = 0; i < steward_modules_count; i++) {
                const char *const *f =
                        steward_modules[i]->files ? steward_modules[i]->files() : NULL;
                for (; f && *f; f++) {
                        int r = file_remove_stale_temps(*f, stale_temp_removed);
                        if (r < 0)
                                log_warning_errno(r,
                                                  "cannot look for stale temporary files "
                                                  "beside %s",
                                                  *f);
                }
        }
}

/* The network front: unprivileged, threads, TLS, HTTP.  Never returns. */
__attribute__((noreturn)) static void front_main(const struct front_args *f,
                                                 const int *helper_socks, const sigset_t *mask) {
        struct http_options hopt = {.tls = f->tls};
        char err[512];
        long cpus;
        int r = 0, sig;

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
        helper_client_init(helper_socks, HELPER_CHANNELS);
        history_set_backend(history_helper);
        r = events_start();
        if (r < 0)
                log_warning_errno(r, "the event stream could not start");
        for (size_t i = 0; i < steward_modules_count; i++)
                if (steward_modules[i]->init && (r = steward_modules[i]->init()) < 0)
                        log_warning_errno(r, "module %s could not start", steward_modules[i]->name);
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        hopt.threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned)cpus;
        r = http_start(f->ls, f->n, &hopt, err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                _exit(1);
        }
        stewardd_set_live_facts(live_facts);
        /* Start-up (TLS set-up, module init) leaves free heap behind; give
         * it back (measured: ~130 kB of the two processes' 2.4 MB of
         * anonymous memory, bench/events.sh). */
        malloc_trim(0);
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

        for (;;) {
                siginfo_t si;
                sig = sigwaitinfo(mask, &si);
                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (sig == SIGHUP) {
                        /* Every module makes its files live again. */
                        (void)modules_make_live(/* helper= */ false, reload_failed);
                        continue;
                }
                if (sig == SIGTERM || sig == SIGINT)
                        break;
        }
        discovery_stop();
        events_shutdown(); /* ends the streams, or the HTTP server waits for them */
        http_stop(f->ls, f->n);
        events_stop();
        for (size_t i = steward_modules_count; i-- > 0;)
                if (steward_modules[i]->done)
                        steward_modules[i]->done();
        for (size_t i = 0; i < HELPER_CHANNELS; i++)
                close(helper_socks[i]);
        exit(0);
}

/* HELPER_CHANNELS socketpairs: sp[0][i] the helper's end of channel i,
 * sp[1][i] the front's. */
static int channels_open(int sp[2][HELPER_CHANNELS]) {
        for (size_t i = 0; i < HELPER_CHANNELS; i++) {
                int pair[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                        int r = -errno;
                        for (size_t k = 0; k < i; k++) {
                                close(sp[0][k]);
                                close(sp[1][k]);
                        }
                        return r;
                }
                sp[0][i] = pair[0];
                sp[1][i] = pair[1];
        }
        return 0;
}

static void channels_close(const int *fds) {
        for (size_t i = 0; i < HELPER_CHANNELS; i++)
                close(fds[i]);
}

/* Reads pending signals from sigfd; returns the one that matters most. */
static int next_signal(int sigfd) {
        struct signalfd_siginfo si;
        ssize_t n = read(sigfd, &si, sizeof si);
        return n == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}

int main(int argc, char **argv) {
        struct listener ls[MAX_LISTENERS + 1] = {0};
        struct udp_sockets udp = {0};
        struct tls_identity tls = {0};
        _cleanup_free_ char *token_path = NULL;
        struct helper *h = NULL;
        struct passwd *pw;
        struct args a;
        sigset_t mask, front_mask;
        char err[768];
        size_t n = 0;
        bool token_created, stopping = false;
        unsigned restarts = 0;
        uint64_t window_start = 0;
        int r, sigfd = -1, exit_code = 0;

        if (parse_args(argc, argv, &a) < 0)
                return 2;
        log_open(a.foreground);

        /* Blocked before any child or thread exists; the parent reads them
         * from a signalfd, the front with sigwaitinfo. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        front_mask = mask;
        sigaddset(&mask, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        umask(022);

        raise_nofile();
        r = stewardd_config_init(a.config, a.log_level, err, sizeof err);
        if (r < 0) {
                log_error("invalid configuration: %s", err);
                return 1;
        }
        pw = getpwnam(a.user);
        if (!pw) {
                log_error("there is no user \"%s\" to run the network front as; create it "
                          "(useradd --system --no-create-home --shell /usr/sbin/nologin %s) or "
                          "pass --user",
                          a.user, a.user);
                return 1;
        }
        if (pw->pw_uid == 0 && getuid() == 0) {
                log_error("--user %s is root; the network front must not run as root", a.user);
                return 1;
        }
        r = mkdir_parents(a.state_dir, 0700);
        if (r < 0) {
                log_error_errno(r, "cannot create the state directory %s", a.state_dir);
                return 1;
        }
        r = bootstrap_token(a.state_dir, &token_created, &token_path, err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                return 1;
        }
        r = mkdir_parents(a.tls_dir, 0700);
        if (r >= 0)
                r = tls_identity_load_or_create(a.tls_dir, &tls, err, sizeof err);
        else
                snprintf(err, sizeof err, "cannot create %s: %s", a.tls_dir, strerror(-r));
        if (r < 0) {
                log_error("%s", err);
                return 1;
        }
        if (tls.created)
                log_notice("generated a new TLS key and certificate in %s", a.tls_dir);

        for (size_t i = 0; i < a.n_listen; i++) {
                r = bind_tcp(a.listen[i], &ls[n], err, sizeof err);
                if (r < 0) {
                        log_error("%s", err);
                        goto fail;
                }
                n++;
        }
        r = bind_unix(a.socket_path, &ls[n], err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                goto fail;
        }
        n++;
        r = bind_udp(a.udp, &udp, err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                goto fail;
        }
        r = helper_new(a.state_dir, token_path, &h, err, sizeof err);
        if (r < 0) {
                log_error("cannot open the state in %s: %s", a.state_dir, err);
                goto fail;
        }
        remove_stale_temps();
        r = helper_set_peer_socket(h, a.socket_path);
        if (r < 0) {
                log_error_errno(r, "cannot remember the socket path");
                goto fail;
        }
        helper_set_front_uid(h, pw->pw_uid);
        for (size_t i = 0; i < n; i++)
                if (!ls[i].unix_socket && (r = helper_add_listener(h, ls[i].fd)) < 0) {
                        log_error_errno(r, "cannot remember the listener %s", ls[i].name);
                        goto fail;
                }
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0) {
                r = log_error_errno(-errno, "signalfd failed");
                goto fail;
        }
        stewardd_set_facts(facts_json(ls, n, &a, &tls, token_path));
        log_notice("TLS certificate fingerprint %s", tls.fingerprint);
        if (token_created)
                log_notice("bootstrap token created in %s (root only; one use: log in or create "
                           "the first API token)",
                           token_path);
        else if (access(token_path, F_OK) == 0)
                log_notice("bootstrap token is in %s (root only)", token_path);

        malloc_trim(0);
        /* Supervise: this process is the helper; the front is a child that is
         * started again if it dies (the listening sockets stay here). */
        while (!stopping) {
                /* The channels to the helper: [0] the helper's ends, [1] the front's. */
                int sp[2][HELPER_CHANNELS];
                pid_t pid;
                struct front_args fa = {ls, n, &tls, pw, &udp, getpid(), restarts == 0};

                r = helper_front_started(h);
                if (r < 0)
                        log_warning("cannot end the local sessions of an earlier front: %s",
                                    strerror(-r));
                r = channels_open(sp);
                if (r < 0) {
                        log_error_errno(r, "socketpair failed");
                        goto fail;
                }
                pid = fork();
                if (pid < 0) {
                        r = log_error_errno(-errno, "fork failed");
                        channels_close(sp[0]);
                        channels_close(sp[1]);
                        goto fail;
                }
                if (pid == 0) {
                        channels_close(sp[0]);
                        close(sigfd);
                        front_main(&fa, sp[1], &front_mask);
                }
                channels_close(sp[1]);
                for (;;) {
                        int sig;
                        r = helper_serve(h, sp[0], HELPER_CHANNELS, sigfd);
                        if (r != -EINTR) {
                                /* Framing broken, or a channel closed while
                                 * the front should be serving: this front
                                 * is not trusted again (a front left with
                                 * some channels would hang on them). */
                                if (r < 0 || !stopping)
                                        kill(pid, SIGKILL);
                                break;
                        }
                        sig = next_signal(sigfd);
                        if (sig == SIGHUP) {
                                if (modules_make_live(/* helper= */ true, reload_failed) >= 0)
                                        log_notice("configuration reloaded from %s", a.config);
                                kill(pid, SIGHUP);
                        } else if (sig == SIGTERM || sig == SIGINT) {
                                if (!stopping)
                                        log_notice("received %s, shutting down",
                                                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
                                stopping = true;
                                /* Serve on until the front is gone: it hands
                                 * the helper its last metrics on the way out. */
                                kill(pid, SIGTERM);
                        } else if (sig == SIGCHLD) {
                                siginfo_t info = {0};
                                if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) ==
                                            0 &&
                                    info.si_pid == pid)
                                        break; /* the front is gone; reaped below */
                        }
                }
                channels_close(sp[0]);
                {
                        int st = 0;
                        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                                ;
                        if (stopping && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
                                log_error("the network front exited uncleanly (%s %d)",
                                          WIFSIGNALED(st) ? "signal" : "status",
                                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                                exit_code = 1;
                        } else if (!stopping)
                                log_error("the network front exited (%s %d); restarting it",
                                          WIFSIGNALED(st) ? "signal" : "status",
                                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                }
                if (stopping)
                        break;
                if (now_usec() - window_start > 60u * 1000000u) {
                        window_start = now_usec();
                        restarts = 1;
                } else if (++restarts > 5) {
                        log_error("the network front failed 5 times within a minute; giving up");
                        exit_code = 1;
                        break;
                }
        }
        r = 0;
fail:
        if (sigfd >= 0)
                close(sigfd);
        helper_free(h);
        for (size_t i = 0; i < udp.n; i++)
                close(udp.fds[i]);
        for (size_t i = 0; i < n; i++) {
                if (ls[i].fd >= 0)
                        close(ls[i].fd);
                if (ls[i].unix_socket)
                        (void)unlink(ls[i].name);
        }
        stewardd_set_facts(NULL);
        tls_identity_free(&tls);
        return r < 0 ? 1 : exit_code;
}
