/* syslogfwd.c — see syslogfwd.h.
 *
 * The parent side (the helper) owns struct syslogfwd: the child's pid and
 * pidfd, the write end of the wake-up pipe, and the restarts' state (count,
 * back-off, the last exit); only the process that started the forwarder
 * (owner: not a worker forked from it) reaps or restarts it.  A restart is
 * a fresh image (syslogfwd_image_main) that runs the same child_main as the
 * first fork, so the two cannot drift apart.  The child owns everything
 * else: its store connection, one struct target per configured target (its
 * socket, cursor, back-off), and the configuration it re-reads.  Nothing a
 * target sends is parsed: a TCP target's bytes are read and discarded
 * (bounded per wake-up) only to notice that it closed. */
#include "syslogfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "sqlutil.h"
#include "syslog5424.h"
#include "util.h"

#define IDLE_LOOK_MS       5000 /* look again this often even when not woken */
#define DISCARD_MAX        (64u << 10)
#define STOP_GRACE_MS      1000
#define DETAIL_MAX         512
#define ERROR_MAX          160
#define PASS_MIN_MS        50        /* at most one pass this often, however often woken */
#define CA_FILE_MAX        (1u << 20)

/* the parent's */
#define EXIT_CAUSE_MAX 32
#define IMAGE_PIPE_FD  3 /* the wake-up pipe in a fresh image */

struct syslogfwd {
        pid_t pid;
        int pidfd, wr;
        char *state_dir;
        /* the restarts: */
        pid_t owner;                    /* the process that starts (and reaps) it */
        bool held;                      /* the daemon stops: no restart */
        unsigned restarts;              /* started again since the daemon started */
        unsigned backoff;               /* seconds before the next restart */
        uint64_t started_usec;          /* monotonic: the running one's start */
        uint64_t restart_usec;          /* monotonic: the next restart; 0: none due */
        char last_exit[EXIT_CAUSE_MAX]; /* "signal KILL", "status 1"; "": none */
        int64_t last_exit_at;           /* realtime s */
};

struct target {
        char name[SETTING_WIDE_LIST_ITEM_MAX + 1];
        struct syslog_target t;
        int fd;
        gnutls_session_t tls; /* tls:// targets, while connected */
        bool cursor_loaded, connected;
        int64_t cursor;
        uint64_t retry_at; /* monotonic µs */
        unsigned backoff;  /* seconds; 0: none */
        bool more;         /* the last batch was full */
        char error[ERROR_MAX];
};

struct fwd {
        struct store *s;
        struct target t[SETTING_WIDE_LIST_MAX];
        size_t n;
        int facility;
        pid_t procid;
        char hostname[256];
        struct stat cfg;
        bool cfg_seen;
        char ca_file[STEWARD_PATH_MAX + 1];
        gnutls_certificate_credentials_t cred; /* NULL until a tls:// target needs it */
};

static int tls_error(int g) {
        return g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR || g == GNUTLS_E_CERTIFICATE_ERROR
                       ? -EKEYREJECTED
                       : -ECONNRESET;
}

/* ---- the child: configuration ---- */

static void target_close(struct target *t) {
        if (t->tls)
                gnutls_deinit(t->tls);
        t->tls = NULL;
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
        t->connected = false;
}

static bool config_changed(struct fwd *F) {
        const char *path = steward_config_path();
        struct stat st = {0};

        if (!path || stat(path, &st) < 0)
                st = (struct stat){0};
        if (F->cfg_seen && st.st_ino == F->cfg.st_ino && st.st_size == F->cfg.st_size &&
            st.st_mtim.tv_sec == F->cfg.st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == F->cfg.st_mtim.tv_nsec)
                return false;
        F->cfg = st;
        F->cfg_seen = true;
        return true;
}

/* Keeps the targets still configured (their sockets and cursors), drops the
 * others, adds the new ones. */
static void config_apply(struct fwd *F) {
        struct target old[SETTING_WIDE_LIST_MAX];
        struct steward_config c;
        size_t n_old = F->n;
        char err[256];

        if (steward_config_path())
                (void)steward_config_reload(/* helper= */ true, err, sizeof err);
        steward_config_get(&c);
        F->facility = syslog_facility_number((unsigned)c.syslog_facility);
        if (strcmp(F->ca_file, c.syslog_ca_file) != 0) {
                /* Other authorities: every TLS connection is made again. */
                memcpy(F->ca_file, c.syslog_ca_file, sizeof F->ca_file);
                for (size_t i = 0; i < F->n; i++)
                        if (F->t[i].t.transport == SYSLOG_TLS)
                                target_close(&F->t[i]);
                if (F->cred)
                        gnutls_certificate_free_credentials(F->cred);
                F->cred = NULL;
        }
        if (gethostname(F->hostname, sizeof F->hostname - 1) < 0)
                F->hostname[0] = '\0';
        memcpy(old, F->t, sizeof old);
        F->n = 0;
        for (size_t i = 0; i < c.syslog_targets.n && F->n < SETTING_WIDE_LIST_MAX; i++) {
                const char *name = c.syslog_targets.name[i];
                struct target *t = &F->t[F->n];
                bool kept = false;
                for (size_t j = 0; j < n_old && !kept; j++)
                        if (old[j].name[0] && strcmp(old[j].name, name) == 0) {
                                *t = old[j];
                                old[j].name[0] = '\0';
                                kept = true;
                                /* A change is tried at once, not after a
                                 * back-off earned under the old settings. */
                                t->retry_at = 0;
                                t->backoff = 0;
                        }
                if (!kept) {
                        *t = (struct target){.fd = -1};
                        if (syslog_target_parse(name, &t->t) < 0 ||
                            strlen(name) >= sizeof t->name)
                                continue;
                        memcpy(t->name, name, strlen(name) + 1);
                }
                F->n++;
        }
        for (size_t j = 0; j < n_old; j++)
                if (old[j].name[0])
                        target_close(&old[j]);
}

/* ---- the child: the store ---- */

static int cursor_load(struct fwd *F, struct target *t) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = sql_prepare(F->s, "SELECT last_id FROM audit_forward WHERE target = ?1", &st);

        if (r >= 0)
                r = sql_bind_text(st, 1, t->name);
        if (r < 0)
                return r;
        r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                t->cursor = sqlite3_column_int64(st, 0);
        else if (r == SQLITE_DONE)
                t->cursor = 0;
        else
                return sql_fail(r);
        t->cursor_loaded = true;
        return 0;
}

static int state_save(struct fwd *F, const struct target *t) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = sql_prepare(F->s,
                            "INSERT OR REPLACE INTO audit_forward"
                            " (target, last_id, updated, connected, last_error)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)",
                            &st);

        if (r >= 0)
                r = sql_bind_text(st, 1, t->name);
        if (r >= 0)
                r = sql_bind_int64(st, 2, t->cursor);
        if (r >= 0)
                r = sql_bind_int64(st, 3, (int64_t)time(NULL));
        if (r >= 0)
                r = sql_bind_int64(st, 4, t->connected ? 1 : 0);
        if (r >= 0)
                r = sql_bind_text(st, 5, t->error[0] ? t->error : NULL);
        if (r >= 0 && (r = sqlite3_step(st)) != SQLITE_DONE)
                return sql_fail(r);
        return r < 0 ? r : 0;
}

/* ---- the child: sockets ---- */

static int wait_fd(int fd, short events, int timeout_ms) {
        struct pollfd p = {.fd = fd, .events = events};
        int r;

        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        if ((p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events))
                return -ECONNRESET;
        return p.revents;
}

static int wait_until(int fd, short events, uint64_t deadline) {
        uint64_t now = now_usec();

        if (now >= deadline)
                return -ETIMEDOUT;
        return wait_fd(fd, events, (int)((deadline - now) / 1000u) + 1);
}

static int target_connect(struct target *t, uint64_t deadline) {
        struct sockaddr_storage ss = {0};
        socklen_t len;
        int fd, r, err = 0;
        socklen_t elen = sizeof err;

        if (t->t.transport == SYSLOG_LOCAL) {
                struct sockaddr_un *un = (struct sockaddr_un *)&ss;
                un->sun_family = AF_UNIX;
                memcpy(un->sun_path, SYSLOGFWD_LOCAL_SOCKET, sizeof SYSLOGFWD_LOCAL_SOCKET);
                len = sizeof *un;
        } else if (t->t.family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                in->sin_family = AF_INET;
                in->sin_port = htons(t->t.port);
                memcpy(&in->sin_addr, t->t.addr, 4);
                len = sizeof *in;
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(t->t.port);
                memcpy(&in6->sin6_addr, t->t.addr, 16);
                len = sizeof *in6;
        }
        bool stream = t->t.transport == SYSLOG_TCP || t->t.transport == SYSLOG_TLS;
        fd = socket(ss.ss_family, (stream ? SOCK_STREAM : SOCK_DGRAM) |
                                          SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
                r = -errno;
                if (r != -EINPROGRESS) {
                        close(fd);
                        return r;
                }
                r = wait_until(fd, POLLOUT, deadline);
                if (r >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                        r = -errno;
                else if (r >= 0 && err != 0)
                        r = -err;
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        t->fd = fd;
        t->connected = true;
        return 0;
}

/* A TCP target that closed (or sent more than we care to discard) is
 * reconnected before anything else is written to it. */
static bool tcp_closed(int fd) {
        char scratch[4096];
        size_t total = 0;

        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
                if (poll(&p, 1, 0) <= 0)
                        return false;
                if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
                        return true;
                ssize_t k = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                        return true;
                if (k < 0)
                        return false;
                total += (size_t)k;
                if (total > DISCARD_MAX)
                        return true;
        }
}

/* deadline: the batch's, not moved by progress — a receiver that takes one
 * byte now and then cannot hold the forwarder past it. */
static int send_all(int fd, const char *p, size_t n, uint64_t deadline) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0) {
                        int r = -errno;
                        if (r == -EINTR)
                                continue;
                        if (r != -EAGAIN)
                                return r;
                        r = wait_until(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Waits until the receiver's kernel acknowledged every byte sent. */
static int tcp_acked(int fd, uint64_t deadline) {
        for (;;) {
                int pending = 0;
                struct pollfd p = {.fd = fd, .events = POLLRDHUP};
                if (ioctl(fd, SIOCOUTQ, &pending) < 0)
                        return -errno;
                if (pending == 0)
                        return 0;
                if (now_usec() >= deadline)
                        return -ETIMEDOUT;
                if (poll(&p, 1, 10) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                        return -ECONNRESET;
        }
}

/* ---- the child: TLS (RFC 5425) ---- */

/* The administrator's authorities: a regular file (never a FIFO or a
 * device, never through a symbolic link) of at most CA_FILE_MAX bytes.
 * Whatever is wrong with it (missing, not regular, too big, no certificate
 * in it) is told the same way, so that the setting is no oracle on the
 * host's files.  Returns the number of certificates, or <= 0. */
static int ca_file_load(gnutls_certificate_credentials_t cred, const char *path) {
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;

        if (read_regular_at(AT_FDCWD, path, O_NOFOLLOW, CA_FILE_MAX, &pem, &len, NULL) < 0)
                return 0;
        gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
        return gnutls_certificate_set_x509_trust_mem(cred, &d, GNUTLS_X509_FMT_PEM);
}

static int cred_load(struct fwd *F) {
        int g;

        if (F->cred)
                return 0;
        if (gnutls_certificate_allocate_credentials(&F->cred) < 0)
                return -ENOMEM;
        g = F->ca_file[0] ? ca_file_load(F->cred, F->ca_file)
                          : gnutls_certificate_set_x509_system_trust(F->cred);
        if (g <= 0) { /* no authority at all: nothing could be verified */
                gnutls_certificate_free_credentials(F->cred);
                F->cred = NULL;
                return F->ca_file[0] ? -ENOKEY : g == 0 ? -ENOENT : -EIO;
        }
        return 0;
}

/* Waits for what the session wants next (read or write). */
static int tls_wait(struct target *t, uint64_t deadline) {
        uint64_t now = now_usec();
        short ev = gnutls_record_get_direction(t->tls) ? POLLOUT : POLLIN;
        int r;

        if (now >= deadline)
                return -ETIMEDOUT;
        r = wait_fd(t->fd, ev, (int)((deadline - now) / 1000u) + 1);
        return r < 0 ? r : 0;
}

/* The handshake over the connected socket; the certificate must chain to
 * the authorities and name the target's address (an IP SAN). */
static int tls_start(struct fwd *F, struct target *t, uint64_t deadline) {
        char addr[INET6_ADDRSTRLEN];
        int r = cred_load(F), g;

        if (r < 0)
                return r;
        if (!inet_ntop(t->t.family, t->t.addr, addr, sizeof addr))
                return -EINVAL;
        if (gnutls_init(&t->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
                return -ENOMEM;
        if (gnutls_set_default_priority(t->tls) < 0 ||
            gnutls_credentials_set(t->tls, GNUTLS_CRD_CERTIFICATE, F->cred) < 0)
                return -EIO;
        gnutls_session_set_verify_cert(t->tls, addr, 0);
        gnutls_transport_set_int(t->tls, t->fd);
        for (;;) {
                g = gnutls_handshake(t->tls);
                if (g == GNUTLS_E_SUCCESS)
                        return 0;
                if (g != GNUTLS_E_AGAIN && g != GNUTLS_E_INTERRUPTED &&
                    gnutls_error_is_fatal(g))
                        return tls_error(g);
                r = tls_wait(t, deadline);
                if (r < 0)
                        return r;
        }
}

static int tls_send_all(struct target *t, const char *p, size_t n, uint64_t deadline) {
        while (n > 0) {
                ssize_t k = gnutls_record_send(t->tls, p, n);
                if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED) {
                        int r = tls_wait(t, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k < 0)
                        return tls_error((int)k);
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Whether the receiver closed: what it sent (session tickets, an alert)
 * is read through the session and discarded, bounded. */
static bool tls_closed(struct target *t) {
        char scratch[4096];
        size_t total = 0;

        for (;;) {
                struct pollfd p = {.fd = t->fd, .events = POLLIN | POLLRDHUP};
                if (gnutls_record_check_pending(t->tls) == 0 && poll(&p, 1, 0) <= 0)
                        return false;
                if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
                        return true;
                ssize_t k = gnutls_record_recv(t->tls, scratch, sizeof scratch);
                if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                        return (p.revents & POLLRDHUP) != 0;
                if (k <= 0)
                        return true;
                total += (size_t)k;
                if (total > DISCARD_MAX)
                        return true;
        }
}

/* ---- the child: one batch ---- */

struct batch {
        struct fwd *F;
        struct target *t;
        int64_t last_sent;
        uint64_t deadline; /* the whole batch's, connect to acknowledgement */
        char buf[SYSLOG5424_MAX + 1];
        char frame[SYSLOG5424_MAX + 16];
};

/* The names of what changed, for the one-line summary: the keys of the
 * arguments' "settings" or "changes" object when there is one, else the
 * top-level keys, comma-separated. */
static void detail_of(json_t *args, char *dst, size_t cap) {
        json_t *o = json_object_get(args, "settings");
        size_t len = 0;
        const char *key;
        json_t *v;

        if (!json_is_object(o))
                o = json_object_get(args, "changes");
        if (!json_is_object(o))
                o = args;
        dst[0] = '\0';
        if (!json_is_object(o))
                return;
        json_object_foreach(o, key, v) {
                size_t k = strlen(key);
                if (len + k + 3 >= cap)
                        break;
                if (len > 0) {
                        memcpy(dst + len, ", ", 2);
                        len += 2;
                }
                memcpy(dst + len, key, k);
                len += k;
                dst[len] = '\0';
        }
}

static int send_one(const struct audit_brief *b, void *data) {
        struct batch *B = data;
        char detail[DETAIL_MAX];
        struct syslog_record rec = {
                .id = b->id, .time = b->time, .user = b->user, .role = b->role,
                .source = b->source, .module = b->module, .operation = b->operation,
                .result = b->result, .hash = b->hash, .prev_hash = b->prev_hash,
                .message = b->message, .detail = detail,
        };
        int n, r;

        detail_of(b->args, detail, sizeof detail);
        if (B->t->t.transport == SYSLOG_LOCAL)
                n = syslog_local_format(&rec, B->F->facility, B->F->procid, B->buf, sizeof B->buf);
        else
                n = syslog5424_format(&rec, B->F->facility, B->F->hostname, B->F->procid, B->buf,
                                      sizeof B->buf);
        if (n < 0)
                return n;
        if (B->t->t.transport == SYSLOG_TCP || B->t->t.transport == SYSLOG_TLS) {
                /* RFC 6587 / 5425 octet counting: "LEN SP MSG" */
                int h = snprintf(B->frame, sizeof B->frame, "%d ", n);
                memcpy(B->frame + h, B->buf, (size_t)n);
                r = B->t->tls ? tls_send_all(B->t, B->frame, (size_t)h + (size_t)n, B->deadline)
                              : send_all(B->t->fd, B->frame, (size_t)h + (size_t)n, B->deadline);
        } else {
                /* A refusal (ICMP) of an earlier datagram is reported by this
                 * send, which then did not send: once more. */
                r = send(B->t->fd, B->buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n ? 0
                                                                                     : -errno;
                if (r == -ECONNREFUSED)
                        r = send(B->t->fd, B->buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n
                                    ? 0
                                    : -errno;
        }
        if (r < 0)
                return r == 0 ? -EIO : r;
        B->last_sent = b->id;
        return 0;
}

static void target_failed(struct fwd *F, struct target *t, int r, const char *what) {
        target_close(t);
        if (r == -EKEYREJECTED)
                snprintf(t->error, sizeof t->error,
                         "%s: the certificate is not trusted, or not for this address", what);
        else if (r == -ENOKEY)
                snprintf(t->error, sizeof t->error,
                         "%s: audit:syslog_ca_file is not a regular PEM file of certificates "
                         "(at most 1 MiB)",
                         what);
        else
                snprintf(t->error, sizeof t->error, "%s: %s", what, strerror(-r));
        t->backoff = t->backoff ? t->backoff * 2 : 1;
        if (t->backoff > SYSLOGFWD_BACKOFF_MAX)
                t->backoff = SYSLOGFWD_BACKOFF_MAX;
        t->retry_at = now_usec() + t->backoff * 1000000ull;
        t->more = false;
        (void)state_save(F, t);
}

static int target_pump(struct fwd *F, struct target *t) {
        static struct batch B;
        uint64_t deadline = now_usec() + SYSLOGFWD_IO_TIMEOUT_MS * 1000ull;
        int r, n;

        if (!t->cursor_loaded && (r = cursor_load(F, t)) < 0)
                return r;
        if (t->fd >= 0 && (t->tls ? tls_closed(t) : t->t.transport == SYSLOG_TCP &&
                                                             tcp_closed(t->fd)))
                target_close(t);
        if (t->fd < 0) {
                r = target_connect(t, deadline);
                if (r < 0) {
                        target_failed(F, t, r, "connect");
                        return 0;
                }
                if (t->t.transport == SYSLOG_TLS && (r = tls_start(F, t, deadline)) < 0) {
                        target_failed(F, t, r, "TLS");
                        return 0;
                }
        }
        B.F = F;
        B.t = t;
        B.last_sent = t->cursor;
        B.deadline = deadline;
        n = audit_each_after(F->s, t->cursor, SYSLOGFWD_BATCH, send_one, &B);
        if (n >= 0 && B.last_sent > t->cursor &&
            (t->t.transport == SYSLOG_TCP || t->t.transport == SYSLOG_TLS))
                r = tcp_acked(t->fd, deadline);
        else
                r = n < 0 ? n : 0;
        if (r < 0) {
                /* Datagrams that left are not sent again; TCP resends the batch. */
                if (t->t.transport == SYSLOG_UDP || t->t.transport == SYSLOG_LOCAL)
                        t->cursor = B.last_sent;
                target_failed(F, t, r, "send");
                return 0;
        }
        bool changed = B.last_sent != t->cursor || t->error[0] || t->backoff;
        t->cursor = B.last_sent;
        t->more = n == SYSLOGFWD_BATCH;
        /* The host's log takes a backlog at a batch a second: journald's
         * default rate limit (10,000 messages in 30 s per service) would
         * drop a faster catch-up silently. */
        if (t->more && t->t.transport == SYSLOG_LOCAL)
                t->retry_at = now_usec() + 1000000u;
        t->backoff = 0;
        t->error[0] = '\0';
        return changed ? state_save(F, t) : 0;
}

/* ---- the child: its loop ---- */

static int next_timeout(const struct fwd *F) {
        uint64_t now = now_usec();
        int timeout = IDLE_LOOK_MS;

        for (size_t i = 0; i < F->n; i++) {
                const struct target *t = &F->t[i];
                if (t->retry_at > now) {
                        uint64_t ms = (t->retry_at - now) / 1000u + 1;
                        if (ms < (uint64_t)timeout)
                                timeout = (int)ms;
                } else if (t->more)
                        timeout = 0;
        }
        return timeout;
}

/* Every capability gone for good (bounding, ambient, inheritable,
 * permitted, effective) and no new privileges through execve: the
 * forwarder talks TLS with remote servers and needs none.  It stays uid 0,
 * the owner of the store and of the authorities' files under /etc. */
static int drop_privileges(void) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {0};

        for (unsigned long cap = 0; cap < 64; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

/* Empties the wake-up pipe (its writer may write without end) and keeps
 * passes at least PASS_MIN_MS apart.  Returns false once the writer closed. */
static bool woken(int rd, uint64_t pass_start) {
        char drain[4096];
        uint64_t now;

        for (;;) {
                ssize_t k = read(rd, drain, sizeof drain);
                if (k == 0)
                        return false;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break; /* EAGAIN: empty */
        }
        now = now_usec();
        if (now < pass_start + PASS_MIN_MS * 1000ull) {
                uint64_t us = pass_start + PASS_MIN_MS * 1000ull - now;
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(us * 1000u)};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        return true;
}

static _Noreturn void child_main(const char *state_dir, int rd, pid_t procid) {
        static struct fwd F;
        char err[512], drain[64];
        sigset_t none;
        int r;

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != procid)
                _exit(0);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)prctl(PR_SET_NAME, "stewardd-syslog", 0, 0, 0);
        if (rd > 3)
                (void)close_range(3, (unsigned)rd - 1, 0);
        (void)close_range((unsigned)rd + 1, ~0U, 0);
        if ((r = drop_privileges()) < 0) {
                log_error_errno(r, "audit forwarding: cannot drop its privileges");
                _exit(1);
        }
        audit_set_appended_hook(NULL);
        /* The helper opens (creates, migrates) the store first, and wakes
         * us once it did: two first opens at once would find it locked. */
        for (;;) {
                struct pollfd p = {.fd = rd, .events = POLLIN};
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        _exit(1);
                if (p.revents & POLLIN) {
                        ssize_t k = read(rd, drain, sizeof drain);
                        if (k == 0)
                                _exit(0);
                        if (k > 0)
                                break;
                } else if (p.revents & (POLLHUP | POLLERR))
                        _exit(0);
        }
        for (unsigned wait = 1; store_open(state_dir, &F.s, err, sizeof err) < 0;) {
                log_error("audit forwarding: %s; trying again in %u s", err, wait);
                sleep(wait);
                wait = wait < SYSLOGFWD_BACKOFF_MAX / 2 ? wait * 2 : SYSLOGFWD_BACKOFF_MAX;
        }
        F.procid = procid;
        (void)fcntl(rd, F_SETFL, O_NONBLOCK);
        for (;;) {
                struct pollfd p = {.fd = rd, .events = POLLIN};
                uint64_t now = now_usec();

                if (config_changed(&F))
                        config_apply(&F);
                for (size_t i = 0; i < F.n; i++)
                        if (F.t[i].retry_at <= now && target_pump(&F, &F.t[i]) < 0)
                                log_warning("audit forwarding to %s: the store failed",
                                            F.t[i].name);
                if (poll(&p, 1, next_timeout(&F)) < 0 && errno != EINTR)
                        _exit(1);
                if (p.revents & POLLIN) {
                        if (!woken(rd, now))
                                break;
                } else if (p.revents & (POLLHUP | POLLERR))
                        break;
        }
        for (size_t i = 0; i < F.n; i++)
                target_close(&F.t[i]);
        store_close(F.s);
        _exit(0);
}

/* ---- a restarted forwarder's fresh image ---- */

int syslogfwd_image_main(int argc, char **argv) {
        uint64_t helper, target;
        struct stat st;
        char err[512];
        int r;

        if (argc != 6 || !argv[2][0] || strlen(argv[2]) > STEWARD_PATH_MAX ||
            strlen(argv[3]) > STEWARD_PATH_MAX || safe_atou64(argv[4], &helper) < 0 || helper < 2 ||
            helper > INT32_MAX || safe_atou64(argv[5], &target) < 0 || target > LOG_TARGET_SYSLOG ||
            fstat(IMAGE_PIPE_FD, &st) < 0 || !S_ISFIFO(st.st_mode))
                return 2;
        /* The helper's log target: stderr is its stderr (or the journal's
         * stream, whose JOURNAL_STREAM the environment keeps). */
        log_open(/* foreground= */ target == LOG_TARGET_STDERR);
        if (argv[3][0] && (r = steward_config_init(argv[3], -1, err, sizeof err)) < 0) {
                log_error("audit forwarding: %s", err);
                return 1;
        }
        child_main(argv[2], IMAGE_PIPE_FD, (pid_t)helper);
}

/* ---- the parent ---- */

static int pipe_new(struct syslogfwd *f, int p[static 2]) {
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        (void)fcntl(p[1], F_SETFL, O_NONBLOCK);
        f->wr = p[1];
        return 0;
}

static void child_started(struct syslogfwd *f, pid_t pid, int rd) {
        close(rd);
        f->pid = pid;
        f->pidfd = pidfd_open(pid, 0);
        f->started_usec = now_usec();
}

static void pipe_drop(struct syslogfwd *f, int p[static 2]) {
        close(p[0]);
        close(p[1]);
        f->wr = -1;
}

/* The first forwarder: forked before this process opens the store. */
static int fork_child(struct syslogfwd *f) {
        int p[2], r;
        pid_t pid, self = getpid();

        if ((r = pipe_new(f, p)) < 0)
                return r;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                pipe_drop(f, p);
                return r;
        }
        if (pid == 0) {
                close(p[1]);
                child_main(f->state_dir, p[0], self);
        }
        child_started(f, pid, p[0]);
        return 0;
}

/* A restarted forwarder: a fresh image (see syslogfwd.h for why).  Every
 * string is made before the fork; the child only places the pipe, closes
 * the rest and executes. */
static int exec_child(struct syslogfwd *f) {
        const char *cfg = steward_config_path() ? steward_config_path() : "";
        const char *js = getenv("JOURNAL_STREAM");
        char helper[24], target[8], journal[96];
        char *const argv[] = {
                "stewardd", "--audit-forwarder", f->state_dir, (char *)cfg, helper, target, NULL};
        char *envp[] = {NULL, NULL};
        int p[2], r;
        pid_t pid, self = getpid();

        (void)snprintf(helper, sizeof helper, "%d", (int)self);
        (void)snprintf(target, sizeof target, "%d", (int)log_get_target());
        if (js && strlen(js) < sizeof journal - sizeof "JOURNAL_STREAM=") {
                (void)snprintf(journal, sizeof journal, "JOURNAL_STREAM=%s", js);
                envp[0] = journal;
        }
        if ((r = pipe_new(f, p)) < 0)
                return r;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                pipe_drop(f, p);
                return r;
        }
        if (pid == 0) {
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (getppid() != self)
                        _exit(0);
                /* dup2 onto itself would keep close-on-exec */
                if ((p[0] == IMAGE_PIPE_FD ? 0 : dup2(p[0], IMAGE_PIPE_FD)) < 0 ||
                    fcntl(IMAGE_PIPE_FD, F_SETFD, 0) < 0)
                        _exit(1);
                (void)close_range(IMAGE_PIPE_FD + 1, ~0U, 0);
                execve("/proc/self/exe", argv, envp);
                _exit(127);
        }
        child_started(f, pid, p[0]);
        return 0;
}

int syslogfwd_start(const char *state_dir, struct syslogfwd **ret) {
        struct syslogfwd *f = calloc(1, sizeof *f);
        int r;

        if (!f)
                return -ENOMEM;
        f->pidfd = f->wr = -1;
        f->owner = getpid();
        f->state_dir = strdup(state_dir);
        r = f->state_dir ? fork_child(f) : -ENOMEM;
        if (r < 0) {
                free(f->state_dir);
                free(f);
                return r;
        }
        *ret = f;
        return 0;
}

static void fds_close(struct syslogfwd *f) {
        if (f->wr >= 0)
                close(f->wr);
        f->wr = -1;
        if (f->pidfd >= 0)
                close(f->pidfd);
        f->pidfd = -1;
        f->pid = 0;
}

static void child_end(struct syslogfwd *f) {
        if (f->wr >= 0)
                close(f->wr);
        f->wr = -1;
        if (f->pid > 0) {
                if (f->pidfd < 0 || wait_fd(f->pidfd, POLLIN, STOP_GRACE_MS) < 0)
                        kill(f->pid, SIGKILL);
                while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        fds_close(f);
}

static void exit_cause(int status, char *buf, size_t cap) {
        const char *name = WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : NULL;

        if (WIFSIGNALED(status) && name)
                (void)snprintf(buf, cap, "signal %s", name);
        else if (WIFSIGNALED(status))
                (void)snprintf(buf, cap, "signal %d", WTERMSIG(status));
        else
                (void)snprintf(buf, cap, "status %d", WEXITSTATUS(status));
}

/* The forwarder exited: says so once, and when the next one starts. */
static void reaped(struct syslogfwd *f, int status) {
        uint64_t now = now_usec();
        bool ran_long = now - f->started_usec >= SYSLOGFWD_RESTART_RESET * 1000000ull;

        exit_cause(status, f->last_exit, sizeof f->last_exit);
        f->last_exit_at = (int64_t)(realtime_usec() / 1000000u);
        fds_close(f);
        if (ran_long || f->backoff == 0)
                f->backoff = SYSLOGFWD_RESTART_MIN;
        else
                f->backoff = f->backoff < SYSLOGFWD_BACKOFF_MAX / 2 ? f->backoff * 2
                                                                    : SYSLOGFWD_BACKOFF_MAX;
        if (f->held) {
                log_error("audit forwarding stopped unexpectedly (%s) while stewardd stops",
                          f->last_exit);
                return;
        }
        f->restart_usec = now + f->backoff * 1000000ull;
        log_error("audit forwarding stopped unexpectedly (%s); starting it again in %u s",
                  f->last_exit, f->backoff);
}

static void restart(struct syslogfwd *f) {
        int r = exec_child(f);

        if (r < 0) {
                f->backoff = f->backoff < SYSLOGFWD_BACKOFF_MAX / 2 ? f->backoff * 2
                                                                    : SYSLOGFWD_BACKOFF_MAX;
                f->restart_usec = now_usec() + f->backoff * 1000000ull;
                log_error_errno(r, "audit forwarding: cannot start it again; next try in %u s",
                                f->backoff);
                return;
        }
        f->restart_usec = 0;
        f->restarts++;
        log_notice("audit forwarding started again (restart %u)", f->restarts);
        (void)!write(f->wr, "w", 1); /* the store is open: it may open its own */
}

void syslogfwd_check(struct syslogfwd *f) {
        int status = 0;

        if (!f || getpid() != f->owner)
                return;
        if (f->pid > 0 && waitpid(f->pid, &status, WNOHANG) == f->pid)
                reaped(f, status);
        if (f->pid == 0 && f->restart_usec != 0 && !f->held && now_usec() >= f->restart_usec)
                restart(f);
}

int syslogfwd_watch_fd(const struct syslogfwd *f) {
        return f && f->pid > 0 && getpid() == f->owner ? f->pidfd : -1;
}

int syslogfwd_timeout_ms(const struct syslogfwd *f) {
        uint64_t now = now_usec();

        if (!f || f->pid > 0 || f->restart_usec == 0 || f->held || getpid() != f->owner)
                return -1;
        return f->restart_usec > now ? (int)((f->restart_usec - now) / 1000u + 1) : 0;
}

void syslogfwd_hold(struct syslogfwd *f) {
        if (f)
                f->held = true;
}

void syslogfwd_notify(struct syslogfwd *f) {
        if (!f)
                return;
        syslogfwd_check(f);
        if (f->wr >= 0)
                (void)!write(f->wr, "w", 1); /* full pipe: it is awake anyway */
}

void syslogfwd_stop(struct syslogfwd *f) {
        if (!f)
                return;
        child_end(f);
        free(f->state_dir);
        free(f);
}

json_t *syslogfwd_process(const struct syslogfwd *f) {
        const char *state = !f                                 ? "stopped"
                            : f->pid > 0                       ? "running"
                            : f->restart_usec != 0 && !f->held ? "restarting"
                                                               : "stopped";
        bool exited = f && f->last_exit[0];

        return json_pack("{s:s, s:I, s:s?, s:o}", "state", state, "restarts",
                         (json_int_t)(f ? f->restarts : 0), "last_exit",
                         exited ? f->last_exit : NULL, "last_exit_at",
                         exited ? json_integer(f->last_exit_at) : json_null());
}

unsigned syslogfwd_restarts(const struct syslogfwd *f) {
        return f ? f->restarts : 0;
}

int syslogfwd_status(struct store *s, json_t **ret) {
        _cleanup_(json_decrefp) json_t *o = NULL, *list = NULL;
        struct steward_config c;
        int64_t head = 0;
        int r = audit_head(s, &head);

        if (r < 0)
                return r;
        steward_config_get(&c);
        list = json_array();
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < c.syslog_targets.n; i++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int64_t last = 0, updated = 0;
                bool connected = false;
                const char *error = NULL;
                r = sql_prepare(s,
                                "SELECT last_id, updated, connected, last_error FROM audit_forward"
                                " WHERE target = ?1",
                                &st);
                if (r >= 0)
                        r = sql_bind_text(st, 1, c.syslog_targets.name[i]);
                if (r < 0)
                        return r;
                r = sqlite3_step(st);
                if (r == SQLITE_ROW) {
                        last = sqlite3_column_int64(st, 0);
                        updated = sqlite3_column_int64(st, 1);
                        connected = sqlite3_column_int(st, 2) != 0;
                        error = (const char *)sqlite3_column_text(st, 3);
                } else if (r != SQLITE_DONE)
                        return sql_fail(r);
                if (json_array_append_new(
                            list, json_pack("{s:s, s:I, s:I, s:b, s:s?, s:I}", "target",
                                            c.syslog_targets.name[i], "last_id", (json_int_t)last,
                                            "backlog",
                                            (json_int_t)(head > last ? head - last : 0),
                                            "connected", connected, "last_error", error,
                                            "updated", (json_int_t)updated)) < 0)
                        return -ENOMEM;
        }
        o = json_pack("{s:O, s:I}", "targets", list, "head", (json_int_t)head);
        if (!o)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}
