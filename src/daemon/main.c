/* main.c — stewardd's root process: the command line, start-up, and the
 * supervisor.  It binds every socket, opens the state and the TLS identity,
 * then becomes the privileged helper (src/helper/) and forks the network
 * front (front.c), which it restarts when it dies (at most 5 times a
 * minute) and kills when it breaks the framing.  Nothing here runs in the
 * front, and the front's start-up is not here.
 *
 * Start-up order matters: signals are blocked before any thread exists (so
 * every thread inherits the mask and only the main thread receives them via
 * sigwaitinfo); the config, state dir, bootstrap token and TLS identity are
 * ready before any socket is served; sockets are bound before modules start
 * sampling, so a port conflict fails fast.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "certinfo.h"
#include "activation.h"
#include "api.h"
#include "discovery.h"
#include "firstrun.h"
#include "front.h"
#include "files.h"
#include "helper/helper.h"
#include "helper/sessions.h"
#include "helper/syslogfwd.h"
#include "helperclient.h"
#include "helperstubs.h"
#include "http.h"
#include "jsonutil.h"
#include "log.h"
#include "module.h"
#include "config.h"
#include "tls.h"
#include "util.h"

/* The OpenAPI document, generated at build time (tools/gen-openapi.c). */
extern const char openapi_document[];
extern const size_t openapi_document_len;

#define MAX_LISTENERS 16
#define DEFAULT_PORT  660

struct args {
        const char *config;
        const char *listen[MAX_LISTENERS];
        size_t n_listen;
        const char *udp;
        const char *socket_path;
        const char *state_dir;
        const char *tls_dir;
        const char *user;
        bool listen_given, udp_given, socket_given; /* on the command line */
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

/* A second stewardd (a second `make run`) says who holds the port, in one
 * sentence, instead of a bare EADDRINUSE.  (sin_port and sin6_port share
 * their offset, so the port reads the same for both families.) */
static void port_in_use(const char *spec, uint16_t port, char *err, size_t err_len) {
        char comm[64] = "";
        pid_t pid = 0;

        if (firstrun_port_owner(port, &pid, comm, sizeof comm) < 0)
                snprintf(err, err_len, "cannot listen on %s: %s (another program holds the port)",
                         spec, strerror(EADDRINUSE));
        else if (pid == 1)
                snprintf(err, err_len,
                         "cannot listen on %s: %s: systemd holds the port for a socket unit "
                         "(stewardd.socket when Steward is installed: systemctl stop "
                         "stewardd.socket stewardd.service)",
                         spec, strerror(EADDRINUSE));
        else if (STREQ(comm, "stewardd"))
                snprintf(err, err_len,
                         "cannot listen on %s: %s: another stewardd (pid %d) already holds the "
                         "port; stop it first (kill %d, or systemctl stop stewardd)",
                         spec, strerror(EADDRINUSE), (int)pid, (int)pid);
        else
                snprintf(err, err_len, "cannot listen on %s: %s: %s (pid %d) holds the port", spec,
                         strerror(EADDRINUSE), comm, (int)pid);
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
                if (r == -EADDRINUSE)
                        port_in_use(spec, ntohs(((struct sockaddr_in *)&ss)->sin_port), err,
                                    err_len);
                else
                        snprintf(err, err_len, "cannot listen on %s: %s%s", spec, strerror(-r),
                                 r == -EACCES
                                         ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
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
                _cleanup_close_ int peer = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (peer >= 0 && connect(peer, (struct sockaddr *)&sa, sizeof sa) == 0) {
                        struct ucred cred = {0};
                        socklen_t clen = sizeof cred;
                        if (getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 &&
                            cred.pid == 1)
                                snprintf(err, err_len,
                                         "%s is in use: systemd holds it for stewardd.socket; "
                                         "stop it first (systemctl stop stewardd.socket "
                                         "stewardd.service)",
                                         path);
                        else if (cred.pid > 0)
                                snprintf(err, err_len,
                                         "%s is in use: another stewardd (pid %d) already "
                                         "serves it; stop it first (kill %d)",
                                         path, (int)cred.pid, (int)cred.pid);
                        else
                                snprintf(err, err_len, "%s is in use: is another stewardd running?",
                                         path);
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

/* --listen ADDR:PORT, checked now so that a typo is a usage error. */
static int add_listen(struct args *a, const char *spec) {
        struct sockaddr_storage ss;
        socklen_t len;

        if (a->n_listen == MAX_LISTENERS) {
                fprintf(stderr, "stewardd: at most %d --listen addresses\n", MAX_LISTENERS);
                return -EINVAL;
        }
        if (parse_addr(spec, &ss, &len) < 0) {
                fprintf(stderr, "stewardd: invalid --listen \"%s\" (ADDR:PORT or [ADDR]:PORT)\n",
                        spec);
                return -EINVAL;
        }
        a->listen[a->n_listen++] = spec;
        return 0;
}

/* --udp ADDR:PORT|:PORT|off. */
static int set_udp(struct args *a, const char *spec) {
        struct sockaddr_storage ss;
        socklen_t len;

        if (!STREQ(spec, "off") && parse_addr(spec, &ss, &len) < 0) {
                fprintf(stderr,
                        "stewardd: invalid --udp \"%s\" (ADDR:PORT, [ADDR]:PORT, :PORT or off)\n",
                        spec);
                return -EINVAL;
        }
        a->udp = spec;
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
                        if (add_listen(a, optarg) < 0)
                                return -EINVAL;
                        a->listen_given = true;
                        break;
                case O_UDP:
                        if (set_udp(a, optarg) < 0)
                                return -EINVAL;
                        a->udp_given = true;
                        break;
                case O_SOCKET:
                        a->socket_path = optarg;
                        a->socket_given = true;
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
        json_t *f = json_pack("{s:o, s:{s:s, s:s}, s:s, s:s, s:s}", "listeners", listeners, "tls",
                              "fingerprint", tls->fingerprint, "directory", a->tls_dir,
                              "state_dir", a->state_dir, "bootstrap_token_file", token_path,
                              "discovery", a->udp);
        int64_t not_after;

        /* The certificate's end, for the alert rules on it (the front cannot
         * read the TLS directory). */
        if (f && tls->cert_pem &&
            certinfo_not_after(tls->cert_pem, strlen(tls->cert_pem), &not_after, NULL, 0) >= 0)
                json_object_set_new(json_object_get(f, "tls"), "not_after",
                                    json_integer((json_int_t)not_after));
        return f;
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

/* At start, in the helper: a write killed mid-way (kill -9) left a temp
 * file beside a file we own; ours only, by their names. */
static void stale_temp_removed(const char *dir, const char *name) {
        log_notice("removed the stale temporary file %s/%s left by an interrupted write", dir,
                   name);
}

static void remove_stale_temps(void) {
        for (size_t i = 0; i < steward_modules_count; i++) {
                const char *const *f = module_files(steward_modules[i]);
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

/* SIGHUP: a module whose file does not parse keeps what runs. */
static void reload_failed(const module_t *m, const struct module_error *e) {
        log_error("reload refused, keeping the running configuration: %s", e->message);
}

/* The root supervisor's state: what it opened for the front and keeps
 * across the front's restarts. */
struct supervisor {
        struct args a;
        struct listener ls[MAX_LISTENERS + 1]; /* the TCP listeners, then the unix socket */
        size_t n;
        struct udp_sockets udp;
        struct tls_identity tls;
        char *token_path;
        bool token_created;
        char *guide; /* the next steps, printed by the front once it listens */
        struct helper *h;
        struct passwd *pw;
        sigset_t mask;       /* the parent's signals, read from sigfd */
        sigset_t front_mask; /* the front's, read with sigwaitinfo */
        int sigfd;
        bool activated_unix; /* the unix socket is systemd's: never unlinked */
        bool stopping;
        int exit_code;
};

/* The configuration, the front's user, the state directory, the bootstrap
 * token and the TLS identity; logs why it fails. */
static int prepare(struct supervisor *s) {
        const struct args *a = &s->a;
        char err[768];
        int r;

        r = modules_check(err, sizeof err);
        if (r < 0) {
                log_error("the module tables disagree: %s", err);
                return r;
        }
        r = steward_config_init(a->config, a->log_level, err, sizeof err);
        if (r < 0) {
                log_error("invalid configuration: %s", err);
                return r;
        }
        s->pw = getpwnam(a->user);
        if (!s->pw) {
                log_error("there is no user \"%s\" to run the network front as; create it "
                          "(useradd --system --no-create-home --shell /usr/sbin/nologin %s) or "
                          "pass --user",
                          a->user, a->user);
                return -ESRCH;
        }
        if (s->pw->pw_uid == 0 && getuid() == 0) {
                log_error("--user %s is root; the network front must not run as root", a->user);
                return -EPERM;
        }
        if (s->pw->pw_gid == 0 && getuid() == 0) {
                log_error("--user %s has root's group (gid 0) as its primary group; the network "
                          "front must not run with it",
                          a->user);
                return -EPERM;
        }
        r = mkdir_parents(a->state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "cannot create the state directory %s", a->state_dir);
        r = bootstrap_token(a->state_dir, &s->token_created, &s->token_path, err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        r = mkdir_parents(a->tls_dir, 0700);
        if (r >= 0)
                r = tls_identity_load_or_create(a->tls_dir, &s->tls, err, sizeof err);
        else
                snprintf(err, sizeof err, "cannot create %s: %s", a->tls_dir, strerror(-r));
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        if (s->tls.created)
                log_notice("generated a new TLS key and certificate in %s", a->tls_dir);
        return 0;
}

/* Takes what systemd passed (socket activation) into the supervisor. */
static void take_activated(struct supervisor *s, struct activation *act) {
        for (size_t i = 0; i < act->n_tcp; i++)
                s->ls[s->n++] = act->tcp[i];
        s->udp = act->udp;
        log_notice("socket-activated: %zu TCP, %s unix, %zu UDP socket(s) from systemd", act->n_tcp,
                   act->unix_socket.fd >= 0 ? "1" : "no", act->udp.n);
}

/* Every --listen address, the unix socket (last) and the discovery
 * sockets: a port conflict fails here, before anything is served.  Under
 * socket activation the passed sockets stand in for their kind (TCP, unix,
 * UDP) and only a kind systemd did not pass is bound here. */
static int bind_all(struct supervisor *s) {
        struct activation act;
        char err[768];
        int r;

        r = activation_take(&act, err, sizeof err);
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        /* An address given on the command line and a socket of the same
         * kind from systemd: which one the administrator meant is unknown
         * (a --listen 127.0.0.1:660 meant to keep the port private would be
         * silently exposed on every address the socket unit names). */
        if ((act.n_tcp > 0 && s->a.listen_given) || (act.udp.n > 0 && s->a.udp_given) ||
            (act.unix_socket.fd >= 0 && s->a.socket_given)) {
                const char *opt = act.n_tcp > 0 && s->a.listen_given ? "--listen"
                                  : act.udp.n > 0 && s->a.udp_given  ? "--udp"
                                                                     : "--socket";
                log_error("%s was given, but systemd passed that kind of socket too "
                          "(stewardd.socket): say where to listen in one place: drop %s from "
                          "the command line, or change the socket unit's Listen… lines with "
                          "`systemctl edit stewardd.socket`",
                          opt, opt);
                return -EINVAL;
        }
        if (act.n_total > 0)
                take_activated(s, &act);
        for (size_t i = 0; act.n_tcp == 0 && i < s->a.n_listen; i++) {
                r = bind_tcp(s->a.listen[i], &s->ls[s->n], err, sizeof err);
                if (r < 0) {
                        log_error("%s", err);
                        return r;
                }
                s->n++;
        }
        if (act.unix_socket.fd >= 0) {
                s->ls[s->n] = act.unix_socket;
                s->a.socket_path = s->ls[s->n].name;
                s->activated_unix = true;
        } else if ((r = bind_unix(s->a.socket_path, &s->ls[s->n], err, sizeof err)) < 0) {
                log_error("%s", err);
                return r;
        }
        s->n++;
        if (act.udp.n > 0)
                return 0;
        r = bind_udp(s->a.udp, &s->udp, err, sizeof err);
        if (r < 0)
                log_error("%s", err);
        return r;
}

/* This process becomes the helper: the state, what it must know of the
 * sockets and the front, and the signalfd it serves beside the channels. */
static int helper_prepare(struct supervisor *s) {
        struct syslogfwd *fwd = NULL;
        char err[768];
        int r;

        /* Before the store is open in this process (syslogfwd.h). */
        r = syslogfwd_start(s->a.state_dir, &fwd);
        if (r < 0)
                log_error("cannot start the audit forwarding to syslog: %s", strerror(-r));
        r = helper_new(s->a.state_dir, s->token_path, &s->h, err, sizeof err);
        if (r < 0) {
                syslogfwd_stop(fwd);
                log_error("cannot open the state in %s: %s", s->a.state_dir, err);
                return r;
        }
        helper_set_forwarder(s->h, fwd);
        remove_stale_temps();
        r = helper_set_peer_socket(s->h, s->a.socket_path);
        if (r < 0)
                return log_error_errno(r, "cannot remember the socket path");
        helper_set_front_uid(s->h, s->pw->pw_uid);
        for (size_t i = 0; i < s->n; i++)
                if (!s->ls[i].unix_socket && (r = helper_add_listener(s->h, s->ls[i].fd)) < 0)
                        return log_error_errno(r, "cannot remember the listener %s", s->ls[i].name);
        s->sigfd = signalfd(-1, &s->mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->sigfd < 0)
                return log_error_errno(-errno, "signalfd failed");
        steward_set_facts(facts_json(s->ls, s->n, &s->a, &s->tls, s->token_path));
        log_notice("TLS certificate fingerprint %s", s->tls.fingerprint);
        if (s->token_created)
                log_notice("bootstrap token created in %s (root only; one use: log in or create "
                           "the first API token)",
                           s->token_path);
        else if (access(s->token_path, F_OK) == 0)
                log_notice("bootstrap token is in %s (root only)", s->token_path);
        return 0;
}

/* Serves the helper channels of the front pid until it is gone (or must
 * go), acting on the signals meanwhile. */
static void serve_front(struct supervisor *s, pid_t pid, const int *channels) {
        for (;;) {
                int r = helper_serve(s->h, channels, HELPER_CHANNELS, s->sigfd), sig;

                if (r != -EINTR) {
                        /* Framing broken, or a channel closed while the front
                         * should be serving: this front is not trusted again
                         * (a front left with some channels would hang on
                         * them). */
                        if (r < 0 || !s->stopping)
                                kill(pid, SIGKILL);
                        return;
                }
                sig = next_signal(s->sigfd);
                if (sig == SIGHUP) {
                        if (modules_make_live(/* helper= */ true, reload_failed) >= 0)
                                log_notice("configuration reloaded from %s", s->a.config);
                        kill(pid, SIGHUP);
                } else if (sig == SIGTERM || sig == SIGINT) {
                        if (!s->stopping) {
                                log_notice("received %s, shutting down",
                                           sig == SIGTERM ? "SIGTERM" : "SIGINT");
                                (void)sd_notify(/* unset_environment= */ 0, "STOPPING=1");
                        }
                        s->stopping = true;
                        helper_stopping(s->h);
                        /* Serve on until the front is gone: it hands the
                         * helper its last metrics on the way out. */
                        kill(pid, SIGTERM);
                } else if (sig == SIGCHLD) {
                        siginfo_t info = {0};
                        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                            info.si_pid == pid)
                                return; /* the front is gone; reaped by the caller */
                }
        }
}

/* Reaps the front and says how it ended. */
static void reap_front(struct supervisor *s, pid_t pid) {
        int st = 0;

        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (s->stopping && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
                log_error("the network front exited uncleanly (%s %d)",
                          WIFSIGNALED(st) ? "signal" : "status",
                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                s->exit_code = 1;
        } else if (!s->stopping)
                log_error("the network front exited (%s %d); restarting it",
                          WIFSIGNALED(st) ? "signal" : "status",
                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* In the front, before anything else: every descriptor the helper holds
 * (the store's database, its -wal and -shm, the forwarder's pipe and
 * pidfd, whatever modules opened before a restart of the front) is closed,
 * so that a compromised front can use none of them.  Kept: standard input,
 * output and error, the front's channels, the listeners, the discovery
 * sockets and the system log's socket.  Returns 0 or -errno (then the
 * front must not run). */
struct front_keep {
        const struct supervisor *s;
        const int *channels;
};

static bool front_keeps(int fd, void *data) {
        const struct front_keep *k = data;

        if (log_is_log_socket(fd))
                return true;
        for (size_t i = 0; i < HELPER_CHANNELS; i++)
                if (fd == k->channels[i])
                        return true;
        for (size_t i = 0; i < k->s->n; i++)
                if (fd == k->s->ls[i].fd)
                        return true;
        for (size_t i = 0; i < k->s->udp.n; i++)
                if (fd == k->s->udp.fds[i])
                        return true;
        return false;
}

static int front_close_inherited(const struct supervisor *s, const int *channels) {
        return fds_close_except(front_keeps, &(struct front_keep){.s = s, .channels = channels});
}

/* One life of the front: new channels, fork, serve, reap. */
static int run_front(struct supervisor *s, bool first) {
        /* The channels to the helper: [0] the helper's ends, [1] the front's. */
        int sp[2][HELPER_CHANNELS];
        struct front_args fa = {
                .ls = s->ls,
                .n = s->n,
                .tls = &s->tls,
                .pw = s->pw,
                .udp = &s->udp,
                .parent = getpid(),
                .first = first,
                .guide = s->guide,
        };
        pid_t pid;
        int r;

        r = helper_front_started(s->h);
        if (r < 0)
                log_warning("cannot end the local sessions of an earlier front: %s", strerror(-r));
        r = channels_open(sp);
        if (r < 0)
                return log_error_errno(r, "socketpair failed");
        pid = fork();
        if (pid < 0) {
                r = log_error_errno(-errno, "fork failed");
                channels_close(sp[0]);
                channels_close(sp[1]);
                return r;
        }
        if (pid == 0) {
                channels_close(sp[0]);
                close(s->sigfd);
                r = front_close_inherited(s, sp[1]);
                if (r < 0) {
                        log_error("cannot close the helper's descriptors in the front: %s",
                                  strerror(-r));
                        _exit(1);
                }
                /* Only the supervisor speaks to systemd (NotifyAccess=main
                 * says so too). */
                (void)unsetenv("NOTIFY_SOCKET");
                front_main(&fa, sp[1], &s->front_mask);
        }
        channels_close(sp[1]);
        serve_front(s, pid, sp[0]);
        channels_close(sp[0]);
        reap_front(s, pid);
        return 0;
}

/* Supervise: this process is the helper; the front is a child that is
 * started again if it dies (the listening sockets stay here), at most 5
 * times within a minute. */
static int supervise(struct supervisor *s) {
        unsigned restarts = 0;
        uint64_t window_start = 0;
        int r;

        while (!s->stopping) {
                r = run_front(s, restarts == 0);
                if (r < 0)
                        return r;
                if (s->stopping)
                        break;
                if (now_usec() - window_start > 60u * 1000000u) {
                        window_start = now_usec();
                        restarts = 1;
                } else if (++restarts > 5) {
                        log_error("the network front failed 5 times within a minute; giving up");
                        s->exit_code = 1;
                        break;
                }
        }
        return 0;
}

static void supervisor_done(struct supervisor *s) {
        if (s->sigfd >= 0)
                close(s->sigfd);
        helper_free(s->h);
        for (size_t i = 0; i < s->udp.n; i++)
                close(s->udp.fds[i]);
        for (size_t i = 0; i < s->n; i++) {
                if (s->ls[i].fd >= 0)
                        close(s->ls[i].fd);
                if (s->ls[i].unix_socket && !s->activated_unix)
                        (void)unlink(s->ls[i].name);
        }
        steward_set_facts(NULL);
        tls_identity_free(&s->tls);
        free(s->token_path);
        free(s->guide);
}

/* The next steps, in the foreground or when the bootstrap token is new:
 * who starts stewardd by hand (make run) or installs it reads them. */
static void prepare_guide(struct supervisor *s) {
        struct steward_config cfg;
        _cleanup_free_ char *cli = NULL;
        char host[256] = "";
        bool on_path = false;

        if (!s->a.foreground && !s->token_created)
                return;
        steward_config_get(&cfg);
        (void)gethostname(host, sizeof host - 1);
        (void)firstrun_find_cli(&cli, &on_path);
        s->guide = firstrun_guide(&(struct firstrun_facts){
                .listen = s->n > 1 ? s->ls[0].name : "localhost:660",
                .fingerprint = s->tls.fingerprint,
                .socket_path = s->a.socket_path,
                .token_path = s->token_path,
                .token_exists = access(s->token_path, F_OK) == 0,
                .cli = cli,
                .cli_on_path = on_path,
                .host = host,
                .cfg = &cfg,
        });
}

/* stewardd --module-child NAME …: a module's program in a fresh image
 * (module_t.child_main); nothing of the daemon is set up for it. */
static int module_child(int argc, char **argv) {
        const module_t *m = module_find(argv[2]);

        if (!m || !m->child_main)
                return 2;
        return m->child_main(argc, argv);
}

int main(int argc, char **argv) {
        struct supervisor s = {.sigfd = -1};
        int r;

        if (argc >= 3 && STREQ(argv[1], "--module-child"))
                return module_child(argc, argv);
        if (argc >= 2 && STREQ(argv[1], "--audit-forwarder"))
                return syslogfwd_image_main(argc, argv);
        /* Started with standard input, output or error closed, whatever
         * opens next would take their place, and be written to or handed
         * on as such: /dev/null holds them. */
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
                    open("/dev/null", O_RDWR | O_NOCTTY) != fd)
                        return 1;
        if (parse_args(argc, argv, &s.a) < 0)
                return 2;
        log_open(s.a.foreground);
        api_set_openapi(openapi_document, openapi_document_len);

        /* Blocked before any child or thread exists; the parent reads them
         * from a signalfd, the front with sigwaitinfo. */
        sigemptyset(&s.mask);
        sigaddset(&s.mask, SIGTERM);
        sigaddset(&s.mask, SIGINT);
        sigaddset(&s.mask, SIGHUP);
        s.front_mask = s.mask;
        sigaddset(&s.mask, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &s.mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        umask(022);

        raise_nofile();
        r = prepare(&s);
        if (r < 0) {
                tls_identity_free(&s.tls);
                free(s.token_path);
                return 1;
        }
        r = bind_all(&s);
        if (r >= 0)
                r = helper_prepare(&s);
        if (r >= 0) {
                prepare_guide(&s);
                malloc_trim(0);
                /* Listening: connections queue in the kernel from here on,
                 * so the service manager may call it started. */
                (void)sd_notify(/* unset_environment= */ 0, "READY=1");
                r = supervise(&s);
        }
        supervisor_done(&s);
        return r < 0 ? 1 : s.exit_code;
}
