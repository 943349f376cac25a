/* syslogfwd.c — see syslogfwd.h.
 *
 * The parent side (the helper) owns struct syslogfwd: the child's pid and
 * pidfd, the write end of the wake-up pipe, and the restarts' state (count,
 * back-off, the last exit); only the process that started the forwarder
 * (owner: not a worker forked from it) reaps or restarts it.  A restart is
 * a fresh image (syslogfwd_image_main) that runs the same child_main as the
 * first fork, so the two cannot drift apart.  The child owns everything
 * else: its store connection, one struct target per configured target (its
 * socket, cursor, back-off, and the batch in flight with its bytes), and
 * the configuration it re-reads.  Nothing a target sends is parsed: a TCP
 * target's bytes are read and discarded (bounded per wake-up) only to
 * notice that it closed.
 *
 * One poll() loop serves every target (serve): a batch is read from the
 * store in one go, then each target's socket is non-blocking and steps
 * through connect, handshake, send and acknowledgement on its own events,
 * within its own deadline (SYSLOGFWD_IO_TIMEOUT_MS from the batch's start,
 * not moved by progress), so a receiver that stalls holds up no other
 * target, and none past that deadline. */
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
#define ACK_LOOK_MS        10 /* no event says "acknowledged": look this often */
/* A stream batch's frames: SYSLOGFWD_BATCH records of at most
 * SYSLOG5424_MAX bytes and their length prefix. */
#define BATCH_BYTES_MAX    ((size_t)SYSLOGFWD_BATCH * (SYSLOG5424_MAX + 16))

/* the parent's */
#define EXIT_CAUSE_MAX 32
#define IMAGE_PIPE_FD  3 /* the wake-up pipe in a fresh image */
#define CONFIG_RETRY_MS 5000

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

/* Where a target's batch stands.  Only PHASE_IDLE targets start a batch;
 * the others each wait on their own socket, within their own deadline. */
enum phase {
        PHASE_IDLE,      /* no batch */
        PHASE_CONNECT,   /* a stream's connect in progress */
        PHASE_HANDSHAKE, /* tls:// */
        PHASE_READY,     /* connected: the batch is read next (never waited in) */
        PHASE_SEND,      /* a stream's frames, out.data[sent..out.len) */
        PHASE_ACK,       /* all sent: until the receiver's kernel acknowledged it */
};

struct target {
        char name[SETTING_WIDE_LIST_ITEM_MAX + 1];
        struct syslog_target t;
        int fd;
        gnutls_session_t tls; /* tls:// targets, while connected */
        char *tls_name;       /* the address tls verifies (gnutls keeps the pointer) */
        bool cursor_loaded, connected;
        int64_t cursor;
        uint64_t retry_at; /* monotonic µs */
        unsigned backoff;  /* seconds; 0: none */
        bool more;         /* the last batch was full */
        bool missed;       /* a pass found it busy: look again after the batch */
        char error[ERROR_MAX];
        enum phase phase;
        uint64_t deadline;  /* the batch's, connect to acknowledgement (monotonic µs) */
        struct buf out;     /* a stream batch's frames, at most BATCH_BYTES_MAX */
        size_t sent;        /* of out */
        int64_t batch_last; /* the batch's last record */
        int batch_n;        /* and how many it holds */
        unsigned batch_cap; /* records per batch now; 0: SYSLOGFWD_BATCH */
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
        free(t->tls_name);
        t->tls_name = NULL;
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
        t->connected = false;
        /* a batch in flight is dropped: its records are the cursor's next */
        t->phase = PHASE_IDLE;
        buf_free(&t->out);
        t->sent = 0;
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

/* Whether the list names its item i earlier too: a target listed twice is
 * served once. */
static bool listed_before(const struct setting_wide_list *l, size_t i) {
        for (size_t j = 0; j < i; j++)
                if (STREQ(l->name[j], l->name[i]))
                        return true;
        return false;
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
                if (listed_before(&c.syslog_targets, i))
                        continue; /* one target, one connection and cursor */
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

/* Starts the connection without waiting: 0 connected, 1 in progress
 * (PHASE_CONNECT waits for it), or -errno. */
static int connect_start(struct target *t) {
        struct sockaddr_storage ss = {0};
        socklen_t len;
        int fd, r;
        bool pending = false;

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
                pending = true;
        }
        t->fd = fd;
        t->connected = !pending;
        return pending ? 1 : 0;
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

/* The session over the connected socket, for handshake_step; the
 * certificate must chain to the authorities and name the target's address
 * (an IP SAN). */
static int tls_setup(struct fwd *F, struct target *t) {
        char addr[INET6_ADDRSTRLEN];
        int r = cred_load(F);

        if (r < 0)
                return r;
        if (!inet_ntop(t->t.family, t->t.addr, addr, sizeof addr))
                return -EINVAL;
        free(t->tls_name);
        t->tls_name = strdup(addr);
        if (!t->tls_name)
                return -ENOMEM;
        if (gnutls_init(&t->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
                return -ENOMEM;
        if (gnutls_set_default_priority(t->tls) < 0 ||
            gnutls_credentials_set(t->tls, GNUTLS_CRD_CERTIFICATE, F->cred) < 0)
                return -EIO;
        /* gnutls keeps the pointer for the session's life: the copy is
         * freed with the session (target_close), and moves with t */
        gnutls_session_set_verify_cert(t->tls, t->tls_name, 0);
        gnutls_transport_set_int(t->tls, t->fd);
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

static bool is_stream(const struct target *t) {
        return t->t.transport == SYSLOG_TCP || t->t.transport == SYSLOG_TLS;
}

struct batch {
        struct fwd *F;
        struct target *t;
        int64_t last; /* the last record sent (datagrams) or framed (streams) */
        char buf[SYSLOG5424_MAX + 1];
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

/* One record: a datagram is sent at once (it never waits); a stream's
 * frame is added to the batch's bytes, which the loop sends as the
 * receiver takes them. */
static int record_out(const struct audit_brief *b, void *data) {
        struct batch *B = data;
        char detail[DETAIL_MAX], head[16];
        struct syslog_record rec = {
                .id = b->id, .time = b->time, .user = b->user, .role = b->role,
                .source = b->source, .module = b->module, .operation = b->operation,
                .result = b->result, .hash = b->hash, .prev_hash = b->prev_hash,
                .message = b->message, .detail = detail,
        };
        int n, h, r;

        detail_of(b->args, detail, sizeof detail);
        if (B->t->t.transport == SYSLOG_LOCAL)
                n = syslog_local_format(&rec, B->F->facility, B->F->procid, B->buf, sizeof B->buf);
        else
                n = syslog5424_format(&rec, B->F->facility, B->F->hostname, B->F->procid, B->buf,
                                      sizeof B->buf);
        if (n < 0)
                return n;
        if (is_stream(B->t)) {
                /* RFC 6587 / 5425 octet counting: "LEN SP MSG" */
                h = snprintf(head, sizeof head, "%d ", n);
                r = buf_append(&B->t->out, head, (size_t)h);
                if (r >= 0)
                        r = buf_append(&B->t->out, B->buf, (size_t)n);
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
        B->last = b->id;
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

/* Records per batch for t.  A receiver too slow to take a whole batch
 * within the deadline would be sent the same batch for ever: each batch that
 * times out while sending halves t's next ones (down to one record), each
 * delivered one doubles them again. */
static unsigned batch_cap(const struct target *t) {
        return t->batch_cap ? t->batch_cap : SYSLOGFWD_BATCH;
}

static void batch_cap_timed_out(struct target *t) {
        unsigned c = batch_cap(t) / 2;
        t->batch_cap = c ? c : 1;
}

/* The batch was delivered (or there was nothing to send): the cursor moves
 * on. */
static int batch_done(struct fwd *F, struct target *t) {
        bool changed = t->batch_last != t->cursor || t->error[0] || t->backoff;
        unsigned cap = batch_cap(t);

        t->cursor = t->batch_last;
        t->more = t->batch_n == (int)cap;
        if (t->batch_cap && t->batch_n > 0)
                t->batch_cap = cap * 2 >= SYSLOGFWD_BATCH ? 0 : cap * 2;
        /* The host's log takes a backlog at a batch a second: journald's
         * default rate limit (10,000 messages in 30 s per service) would
         * drop a faster catch-up silently. */
        if (t->more && t->t.transport == SYSLOG_LOCAL)
                t->retry_at = now_usec() + 1000000u;
        t->backoff = 0;
        t->error[0] = '\0';
        t->phase = PHASE_IDLE;
        buf_free(&t->out);
        return changed ? state_save(F, t) : 0;
}

/* The records after the cursor, read in one go (the store is not held
 * while a receiver takes its time): datagrams leave at once, a stream's
 * frames wait in t->out for PHASE_SEND (the buffer doubles as it grows, so
 * up to 1 MiB for BATCH_BYTES_MAX's 820 KB).  A store that fails here fails
 * this target's attempt ("send: …", backed off); never < 0. */
static int batch_start(struct fwd *F, struct target *t) {
        static struct batch B;
        int n;

        B.F = F;
        B.t = t;
        B.last = t->cursor;
        buf_init(&t->out, BATCH_BYTES_MAX);
        t->sent = 0;
        n = audit_each_after(F->s, t->cursor, batch_cap(t), record_out, &B);
        if (n < 0) {
                /* Datagrams that left are not sent again; a stream sent
                 * nothing of this batch. */
                if (!is_stream(t))
                        t->cursor = B.last;
                target_failed(F, t, n, "send");
                return 0;
        }
        t->batch_last = B.last;
        t->batch_n = n;
        if (is_stream(t) && B.last > t->cursor) {
                t->phase = PHASE_SEND;
                return 0;
        }
        return batch_done(F, t);
}

/* ---- the child: one target's steps ---- */

/* Each step returns 1 when it moved t to its next phase, 0 when it must
 * wait for t->fd, or -errno when the attempt failed. */

static int connect_done(struct target *t, short revents) {
        int err = 0;
        socklen_t elen = sizeof err;

        if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
                return 0;
        if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                return -errno;
        if (err != 0)
                return -err;
        t->connected = true;
        t->phase = t->t.transport == SYSLOG_TLS ? PHASE_HANDSHAKE : PHASE_READY;
        return 1;
}

static int handshake_step(struct fwd *F, struct target *t) {
        int r, g;

        if (!t->tls && (r = tls_setup(F, t)) < 0)
                return r;
        g = gnutls_handshake(t->tls);
        if (g == GNUTLS_E_SUCCESS) {
                t->phase = PHASE_READY;
                return 1;
        }
        if (g != GNUTLS_E_AGAIN && g != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(g))
                return tls_error(g);
        return 0;
}

static int send_step(struct target *t) {
        while (t->sent < t->out.len) {
                const char *p = t->out.data + t->sent;
                size_t n = t->out.len - t->sent;
                ssize_t k;

                if (t->tls) {
                        k = gnutls_record_send(t->tls, p, n);
                        if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                                return 0;
                        if (k < 0)
                                return tls_error((int)k);
                } else {
                        k = send(t->fd, p, n, MSG_NOSIGNAL);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return errno == EAGAIN ? 0 : -errno;
                }
                t->sent += (size_t)k;
        }
        t->phase = PHASE_ACK;
        return 1;
}

/* Until the receiver's kernel acknowledged every byte sent. */
static int ack_step(struct target *t, short revents) {
        int pending = 0;

        if (ioctl(t->fd, SIOCOUTQ, &pending) < 0)
                return -errno;
        if (pending == 0)
                return 1;
        if (revents & (POLLRDHUP | POLLHUP | POLLERR))
                return -ECONNRESET;
        return 0;
}

static const char *phase_what(enum phase p) {
        return p == PHASE_CONNECT ? "connect" : p == PHASE_HANDSHAKE ? "TLS" : "send";
}

/* Takes t's batch as far as it goes without waiting; revents: what poll
 * said of t->fd (0: nothing yet).  Past the batch's deadline a wait is a
 * failure.  < 0 only when the store failed. */
static int target_step(struct fwd *F, struct target *t, short revents) {
        for (;;) {
                enum phase was = t->phase;
                int r = 0;

                switch (was) {
                case PHASE_IDLE:
                        return 0;
                case PHASE_READY:
                        r = batch_start(F, t);
                        if (r < 0 || t->phase != PHASE_SEND)
                                return r;
                        continue;
                case PHASE_CONNECT:
                        r = connect_done(t, revents);
                        break;
                case PHASE_HANDSHAKE:
                        r = handshake_step(F, t);
                        break;
                case PHASE_SEND:
                        r = send_step(t);
                        break;
                case PHASE_ACK:
                        r = ack_step(t, revents);
                        if (r > 0)
                                return batch_done(F, t);
                        break;
                }
                if (r == 0 && now_usec() >= t->deadline) {
                        r = -ETIMEDOUT;
                        if (was == PHASE_SEND || was == PHASE_ACK)
                                batch_cap_timed_out(t);
                }
                if (r < 0) {
                        target_failed(F, t, r, phase_what(was));
                        return 0;
                }
                if (r == 0)
                        return 0;
                revents = 0;
        }
}

/* A new batch for an idle target: the connection checked (or made), then
 * as far as it goes without waiting.  < 0 only when the store failed. */
static int target_begin(struct fwd *F, struct target *t) {
        int r;

        t->missed = false;
        if (!t->cursor_loaded && (r = cursor_load(F, t)) < 0)
                return r;
        if (t->fd >= 0 && (t->tls ? tls_closed(t) : t->t.transport == SYSLOG_TCP &&
                                                             tcp_closed(t->fd)))
                target_close(t);
        t->deadline = now_usec() + SYSLOGFWD_IO_TIMEOUT_MS * 1000ull;
        if (t->fd >= 0)
                t->phase = PHASE_READY;
        else {
                r = connect_start(t);
                if (r < 0) {
                        target_failed(F, t, r, "connect");
                        return 0;
                }
                if (r > 0)
                        t->phase = PHASE_CONNECT;
                else
                        t->phase = t->t.transport == SYSLOG_TLS ? PHASE_HANDSHAKE : PHASE_READY;
        }
        return target_step(F, t, 0);
}

/* ---- the child: its loop ---- */

/* When the next pass (config, new batches for idle targets) is due. */
static uint64_t next_pass(const struct fwd *F, bool wake, uint64_t last_pass, uint64_t now) {
        uint64_t at = last_pass + IDLE_LOOK_MS * 1000ull;
        uint64_t soon = last_pass + PASS_MIN_MS * 1000ull;

        if (wake && soon < at)
                at = soon;
        for (size_t i = 0; i < F->n; i++) {
                const struct target *t = &F->t[i];
                if (t->phase != PHASE_IDLE)
                        continue;
                if (t->retry_at > last_pass) { /* due since, or to come */
                        if (t->retry_at < at)
                                at = t->retry_at;
                } else if (t->more)
                        at = now;
                else if (t->missed && soon < at)
                        at = soon;
        }
        return at;
}

static void pass(struct fwd *F, uint64_t now) {
        if (config_changed(F))
                config_apply(F);
        for (size_t i = 0; i < F->n; i++) {
                struct target *t = &F->t[i];
                if (t->phase != PHASE_IDLE)
                        t->missed = true; /* what it was woken for comes after its batch */
                else if (t->retry_at <= now && target_begin(F, t) < 0)
                        log_warning("audit forwarding to %s: the store failed", t->name);
        }
}

static short wait_events(const struct target *t) {
        switch (t->phase) {
        case PHASE_CONNECT:
                return POLLOUT;
        case PHASE_HANDSHAKE:
        case PHASE_SEND:
                return t->tls && !gnutls_record_get_direction(t->tls) ? POLLIN : POLLOUT;
        case PHASE_ACK:
                return POLLRDHUP;
        default:
                return 0;
        }
}

/* How long poll may wait: until the next pass, a batch's deadline, or, for
 * a batch waiting on its acknowledgement (no event says so), ACK_LOOK_MS. */
static int loop_timeout(const struct fwd *F, uint64_t pass_at, uint64_t now) {
        uint64_t until = pass_at;

        for (size_t i = 0; i < F->n; i++) {
                const struct target *t = &F->t[i];
                if (t->phase == PHASE_IDLE)
                        continue;
                if (t->deadline < until)
                        until = t->deadline;
                if (t->phase == PHASE_ACK && now + ACK_LOOK_MS * 1000ull < until)
                        until = now + ACK_LOOK_MS * 1000ull;
        }
        if (until <= now)
                return 0;
        return (int)((until - now + 999) / 1000u);
}

/* Empties the wake-up pipe (its writer may write without end).  Returns
 * false once the writer closed. */
static bool drain(int rd) {
        char buf[4096];

        for (;;) {
                ssize_t k = read(rd, buf, sizeof buf);
                if (k == 0)
                        return false;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return true; /* EAGAIN: empty */
        }
}

/* Every target served from one poll: each busy one waits on its own socket
 * and its own deadline, so a slow receiver delays no other.  Passes are at
 * least PASS_MIN_MS apart however often woken: while one is pending the
 * pipe is not watched, so a flood of wake-ups cannot spin the loop.
 * Returns when the helper closed the pipe. */
static void serve(struct fwd *F, int rd) {
        uint64_t last_pass = 0;
        bool wake = true;

        for (;;) {
                struct pollfd p[1 + SETTING_WIDE_LIST_MAX];
                struct target *busy[1 + SETTING_WIDE_LIST_MAX];
                uint64_t now = now_usec(), pass_at;
                nfds_t n = 1;

                if (now >= next_pass(F, wake, last_pass, now)) {
                        pass(F, now);
                        wake = false;
                        last_pass = now;
                }
                p[0] = (struct pollfd){.fd = rd, .events = wake ? 0 : POLLIN};
                for (size_t i = 0; i < F->n; i++)
                        if (F->t[i].phase != PHASE_IDLE) {
                                busy[n] = &F->t[i];
                                p[n++] = (struct pollfd){.fd = F->t[i].fd,
                                                         .events = wait_events(&F->t[i])};
                        }
                now = now_usec();
                pass_at = next_pass(F, wake, last_pass, now);
                if (poll(p, n, loop_timeout(F, pass_at, now)) < 0 && errno != EINTR)
                        _exit(1);
                for (nfds_t i = 1; i < n; i++)
                        if (target_step(F, busy[i], p[i].revents) < 0)
                                log_warning("audit forwarding to %s: the store failed",
                                            busy[i]->name);
                if (p[0].revents & POLLIN) {
                        if (!drain(rd))
                                return;
                        wake = true;
                } else if (p[0].revents & (POLLHUP | POLLERR))
                        return;
        }
}

/* Every capability gone for good (bounding, ambient, inheritable,
 * permitted, effective) and no new privileges through execve: the
 * forwarder talks TLS with remote servers and needs none.  It stays uid 0,
 * the owner of the store and of the authorities' files under /etc. */
static int drop_privileges(void) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {0};

        /* no_new_privs first: with it no exec gives back what is dropped
         * below (the kernel caps an exec's permitted set at the caller's,
         * which is empty by then). */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        /* The bounding set where this process may: dropping from it needs
         * CAP_SETPCAP, which the packaged unit's CapabilityBoundingSet does
         * not give the daemon.  Without it the bounding set stays as the
         * service manager left it, which grants nothing once the sets below
         * are empty under no_new_privs. */
        for (unsigned long cap = 0; cap < 64; cap++) {
                int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
                if (in < 0 && errno == EINVAL)
                        break; /* past the kernel's last capability */
                if (in < 0)
                        return -errno;
                if (in > 0 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
                        return -errno;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

static bool child_keeps(int fd, void *data) {
        return fd == *(const int *)data || log_is_log_socket(fd);
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
        /* Nothing of the helper's but the pipe and the log's sockets
         * (closing those would leave syslog(3) or libsystemd writing to
         * whatever takes their number next: the store's database). */
        if ((r = fds_close_except(child_keeps, &rd)) < 0) {
                log_error_errno(r, "audit forwarding: cannot close the helper's descriptors");
                _exit(1);
        }
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
        serve(&F, rd);
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
        int r, level = -1;

        if (argc != 7 || (!STREQ(argv[6], "-") && (level = log_level_from_string(argv[6])) < 0) ||
            !argv[2][0] || strlen(argv[2]) > STEWARD_PATH_MAX ||
            strlen(argv[3]) > STEWARD_PATH_MAX || safe_atou64(argv[4], &helper) < 0 || helper < 2 ||
            helper > INT32_MAX || safe_atou64(argv[5], &target) < 0 || target > LOG_TARGET_SYSLOG ||
            fstat(IMAGE_PIPE_FD, &st) < 0 || !S_ISFIFO(st.st_mode))
                return 2;
        (void)prctl(PR_SET_NAME, "stewardd-syslog", 0, 0, 0);
        /* The helper's log target: stderr is its stderr (or the journal's
         * stream, whose JOURNAL_STREAM the environment keeps). */
        log_open(/* foreground= */ target == LOG_TARGET_STDERR);
        /* The helper runs on the last configuration it could read; a file
         * broken since then is waited out here (looked at again every 5 s,
         * said once), not exited on: that would only restart us for ever. */
        for (bool said = false;
             argv[3][0] && (r = steward_config_init(argv[3], level, err, sizeof err)) < 0;) {
                struct pollfd p = {.fd = IMAGE_PIPE_FD, .events = 0}; /* its closing only */
                if (!said)
                        log_error("audit forwarding: %s; waiting for the file to be fixed", err);
                said = true;
                if (poll(&p, 1, CONFIG_RETRY_MS) != 0 || getppid() != (pid_t)helper)
                        return 0; /* the helper stops, or is gone */
        }
        if (!argv[3][0] && level >= 0)
                log_set_level((enum log_level)level);
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

/* The wake-up pipe and the fork, for either kind of start: *ret_pid is 0
 * in the child. */
static int pipe_fork(struct syslogfwd *f, int p[static 2], pid_t *ret_pid) {
        int r = pipe_new(f, p);

        if (r < 0)
                return r;
        *ret_pid = fork();
        if (*ret_pid < 0) {
                r = -errno;
                pipe_drop(f, p);
                return r;
        }
        return 0;
}

/* The first forwarder: forked before this process opens the store. */
static int fork_child(struct syslogfwd *f) {
        int p[2], r;
        pid_t pid, self = getpid();

        if ((r = pipe_fork(f, p, &pid)) < 0)
                return r;
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
        int override = steward_config_level_override();
        char helper[24], target[8], journal[96];
        char *const argv[] = {"stewardd", "--audit-forwarder", f->state_dir, (char *)cfg, helper,
                              target,
                              override >= 0 ? (char *)log_level_to_string(override) : (char *)"-",
                              NULL};
        char *envp[] = {NULL, NULL};
        int p[2], r;
        pid_t pid, self = getpid();

        (void)snprintf(helper, sizeof helper, "%d", (int)self);
        (void)snprintf(target, sizeof target, "%d", (int)log_get_target());
        if (js && strlen(js) < sizeof journal - sizeof "JOURNAL_STREAM=") {
                (void)snprintf(journal, sizeof journal, "JOURNAL_STREAM=%s", js);
                envp[0] = journal;
        }
        if ((r = pipe_fork(f, p, &pid)) < 0)
                return r;
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
                log_notice("audit forwarding stopped (%s) as stewardd stops", f->last_exit);
                return;
        }
        f->restart_usec = now + f->backoff * 1000000ull;
        /* The service manager stops a unit by sending SIGTERM to all its
         * processes: the forwarder's may be seen before the helper's own. */
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
                log_notice("audit forwarding stopped (%s); starting it again in %u s unless "
                           "stewardd stops",
                           f->last_exit, f->backoff);
        else
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
                if (listed_before(&c.syslog_targets, i))
                        continue;
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
