/* sd.c — GET /api/v1/sd's answer and the sweeper thread (see sd.h).
 *
 * This server's own group comes first and names one target: the address and
 * port the request came in on (the local end of its connection).  That is an
 * address the caller could reach, whatever the listener is bound to
 * (a wildcard listener has no address of its own), and it is one target, so
 * a server listening on several addresses is not scraped once per address.
 * A request over the unix socket gets the first TCP listener's address
 * (loopback for a wildcard one).
 *
 * A candidate counts only once verified (sdpeers.h): after the answers are
 * collected, the sweeper opens a TLS connection (GnuTLS, non-blocking) to
 * each candidate that needs it, at most SD_VERIFY_PARALLEL at a time and
 * SD_VERIFY_MAX per sweep (a flood of claims cannot make it do unbounded
 * work), each given SD_VERIFY_MS; the handshake must complete (the server
 * proves it holds the certificate's key: TLS 1.3 CertificateVerify, or the
 * signed key exchange of TLS 1.2) and the certificate's SHA-256 must be the
 * claimed fingerprint.  Nothing is sent after the handshake; the connection
 * is closed.  The certificate is not checked against any authority: a
 * verified fingerprint is a proven one, not a trusted one.  Listed peers due
 * for re-verification are checked before new identities.
 *
 * The sweeper owns its sockets for one sweep at a time (opened, used,
 * closed); the stop eventfd is polled together with them, so sd_stop()
 * returns promptly even in the middle of a sweep.  It logs only a change of
 * state (sweeps failing, sweeps working again), never per datagram: peers
 * control how many arrive.
 */
#include "sd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/discovery.h"
#include "common/discoverysweep.h"
#include "config.h"
#include "log.h"
#include "sdpeers.h"
#include "util.h"

#define SD_LISTENERS_MAX 16
#define SD_COLLECT_MS    1000 /* how long a sweep waits for answers */
#define SD_TICK_MS       1000 /* how often the settings are read */
#define SD_BATCH         64   /* datagrams read per socket per wake-up */
#define SD_VERIFY_MAX      32   /* TLS verifications per sweep */
#define SD_VERIFY_PARALLEL 4    /* of those, in flight at once */
#define SD_VERIFY_MS       2000 /* for one: connect and handshake */

static struct {
        pthread_t thread;
        bool running;
        int stop_fd;
        uint16_t udp_port;
        char fingerprint[DISCOVERY_FINGERPRINT_LEN + 1];
        struct sockaddr_storage ls[SD_LISTENERS_MAX];
        size_t n_ls;
        pthread_mutex_t lock; /* guards peers */
        struct sd_peers peers;
        bool failing; /* the last sweep could not send: logged once */
        _Atomic uint64_t sweeps, sweeps_unsent;
} S = {.stop_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static uint16_t port_of(const struct sockaddr_storage *ss) {
        return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                               : ((const struct sockaddr_in *)ss)->sin_port);
}

static bool wildcard(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET)
                return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* The target for this server as the caller on conn_fd reached it. */
static int self_target(int conn_fd, char *dst, size_t cap) {
        struct sockaddr_storage local = {0};
        socklen_t len = sizeof local;

        if (conn_fd >= 0 && getsockname(conn_fd, (struct sockaddr *)&local, &len) == 0 &&
            (local.ss_family == AF_INET || local.ss_family == AF_INET6))
                return sd_target_format((struct sockaddr *)&local, port_of(&local), dst, cap);
        if (S.n_ls == 0)
                return -ENOENT;
        local = S.ls[0];
        if (wildcard(&local)) {
                if (local.ss_family == AF_INET)
                        ((struct sockaddr_in *)&local)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                else
                        ((struct sockaddr_in6 *)&local)->sin6_addr = in6addr_loopback;
        }
        return sd_target_format((struct sockaddr *)&local, port_of(&local), dst, cap);
}

json_t *sd_targets_json(int conn_fd, bool anonymous) {
        char target[SD_TARGET_MAX], name[256] = "", host[DISCOVERY_HOST_MAX + 1];
        json_t *list = json_array(), *self;
        int r;

        if (!list)
                return NULL;
        (void)gethostname(name, sizeof name - 1);
        discovery_host_sanitize(name, host);
        if (self_target(conn_fd, target, sizeof target) >= 0) {
                self = sd_group_json(target, host, S.fingerprint,
                                     anonymous ? NULL : STEWARD_VERSION, "self");
                if (json_array_append_new(list, self) < 0) {
                        json_decref(list);
                        return NULL;
                }
        }
        pthread_mutex_lock(&S.lock);
        r = sd_peers_append_json(&S.peers, list, anonymous);
        pthread_mutex_unlock(&S.lock);
        if (r < 0) {
                json_decref(list);
                return NULL;
        }
        return list;
}

/* --- sweeping --- */

/* Waits up to ms for the stop request; true when it came. */
static bool stop_requested(int ms) {
        struct pollfd p = {.fd = S.stop_fd, .events = POLLIN};
        int r;

        do
                r = poll(&p, 1, ms);
        while (r < 0 && errno == EINTR);
        return r > 0;
}

/* At most SD_BATCH datagrams a call, so that a flood of them cannot keep
 * the sweep past its deadline (or sd_stop() waiting). */
static void receive(int fd, const uint8_t nonce[DISCOVERY_NONCE_LEN], struct sd_peers *found) {
        uint8_t buf[DISCOVERY_DATAGRAM_MAX];

        for (int i = 0; i < SD_BATCH; i++) {
                struct sockaddr_storage src = {0};
                socklen_t src_len = sizeof src;
                struct discovery_answer a;
                char target[SD_TARGET_MAX];
                ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
                                     (struct sockaddr *)&src, &src_len);
                int rank;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* EAGAIN, or an ICMP error queued on the socket */
                }
                if ((size_t)n > sizeof buf || discovery_answer_parse(buf, (size_t)n, &a) < 0 ||
                    memcmp(a.nonce, nonce, DISCOVERY_NONCE_LEN) != 0 ||
                    STREQ(a.fingerprint, S.fingerprint))
                        continue;
                rank = sd_address_rank((struct sockaddr *)&src);
                if (rank < 0 || rank == 2 ||
                    sd_target_format((struct sockaddr *)&src, a.port, target, sizeof target) < 0)
                        continue;
                /* Full, or its source's quota used: ignored (a listed peer's
                 * answer displaces an unknown candidate).  S.peers is read
                 * without the lock: this thread is its only writer. */
                (void)sd_peers_found_known(found, &S.peers, &a, target, rank);
        }
}

/* Sends one request from fds to every destination; how many were sent. */
static size_t send_requests(const int fds[2], const uint8_t *packet, size_t len) {
        _cleanup_free_ struct discovery_destinations *d = calloc(1, sizeof *d);
        size_t sent = 0;

        if (!d)
                return 0;
        discovery_destinations_find(d, S.udp_port ? S.udp_port : DISCOVERY_DEFAULT_PORT);
        for (size_t i = 0; i < d->n; i++) {
                int fd = d->ss[i].ss_family == AF_INET ? fds[0] : fds[1];

                if (fd >= 0 && sendto(fd, packet, len, MSG_NOSIGNAL | MSG_DONTWAIT,
                                      (struct sockaddr *)&d->ss[i], d->len[i]) == (ssize_t)len)
                        sent++;
        }
        return sent;
}

/* Collects answers for SD_COLLECT_MS; false when stopped meanwhile. */
static bool collect(const int fds[2], const uint8_t nonce[DISCOVERY_NONCE_LEN],
                    struct sd_peers *found) {
        uint64_t deadline = now_usec() + SD_COLLECT_MS * 1000ull;

        for (;;) {
                struct pollfd p[3] = {{.fd = S.stop_fd, .events = POLLIN},
                                      {.fd = fds[0], .events = POLLIN},
                                      {.fd = fds[1], .events = POLLIN}};
                uint64_t now = now_usec();
                int r;

                if (now >= deadline)
                        return true;
                r = poll(p, 3, (int)((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return true;
                if (r > 0 && p[0].revents)
                        return false;
                for (size_t i = 1; r > 0 && i < 3; i++)
                        if (p[i].revents)
                                receive(p[i].fd, nonce, found);
        }
}

/* --- verifying candidates --- */

/* target, as sd_target_format() writes it, as a socket address. */
static int target_sockaddr(const char *target, struct sockaddr_storage *ss, socklen_t *len) {
        const char *colon = strrchr(target, ':'), *a = target;
        char addr[INET6_ADDRSTRLEN];
        unsigned port = 0;
        size_t n;

        if (!colon || colon[1] == '\0' || strlen(colon + 1) > 5)
                return -EINVAL;
        for (const char *c = colon + 1; *c; c++) {
                if (*c < '0' || *c > '9')
                        return -EINVAL;
                port = port * 10 + (unsigned)(*c - '0');
        }
        n = (size_t)(colon - target);
        if (target[0] == '[') {
                if (n < 3 || target[n - 1] != ']')
                        return -EINVAL;
                a++;
                n -= 2;
        }
        if (port == 0 || port > 65535 || n == 0 || n >= sizeof addr)
                return -EINVAL;
        memcpy(addr, a, n);
        addr[n] = '\0';
        memset(ss, 0, sizeof *ss);
        if (target[0] == '[') {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                *len = sizeof *s6;
                return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -EINVAL;
        }
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof *s4;
        return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -EINVAL;
}

/* One verification in flight; fd -1 when the slot is free. */
struct check {
        int fd;
        gnutls_session_t s;
        struct sd_peer *c;
        uint64_t deadline;
        bool connected;
};

static void check_end(struct check *k, enum sd_check result) {
        k->c->check = result;
        if (k->s)
                gnutls_deinit(k->s);
        close(k->fd);
        *k = (struct check){.fd = -1};
}

/* Whether the server's certificate's SHA-256 is the claimed fingerprint. */
static bool fingerprint_matches(gnutls_session_t s, const char *want) {
        static const char hex[] = "0123456789abcdef";
        char fp[DISCOVERY_FINGERPRINT_LEN + 1] = "SHA256:";
        unsigned n = 0;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
        uint8_t md[32];
        size_t md_len = sizeof md;

        if (!certs || n == 0 ||
            gnutls_fingerprint(GNUTLS_DIG_SHA256, &certs[0], md, &md_len) < 0 || md_len != 32 ||
            DISCOVERY_FINGERPRINT_LEN != 7 + 64)
                return false;
        for (size_t i = 0; i < md_len; i++) {
                fp[7 + 2 * i] = hex[md[i] >> 4];
                fp[8 + 2 * i] = hex[md[i] & 15];
        }
        fp[DISCOVERY_FINGERPRINT_LEN] = '\0';
        return STREQ(fp, want);
}

/* Starts verifying c in the free slot k.  A target that cannot be reached
 * is refused; a local failure (no descriptor, no memory) leaves c
 * unchecked. */
static void check_start(struct check *k, struct sd_peer *c,
                        gnutls_certificate_credentials_t cred) {
        struct sockaddr_storage ss;
        socklen_t len = 0;
        int fd;

        c->check = SD_UNCHECKED;
        if (target_sockaddr(c->target, &ss, &len) < 0) {
                c->check = SD_REFUSED;
                return;
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
                c->check = SD_REFUSED;
                close(fd);
                return;
        }
        *k = (struct check){.fd = fd, .c = c, .deadline = now_usec() + SD_VERIFY_MS * 1000ull};
        if (gnutls_init(&k->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
                k->s = NULL;
                check_end(k, SD_UNCHECKED);
                return;
        }
        if (gnutls_set_default_priority(k->s) < 0 ||
            gnutls_credentials_set(k->s, GNUTLS_CRD_CERTIFICATE, cred) < 0) {
                check_end(k, SD_UNCHECKED);
                return;
        }
        gnutls_transport_set_int(k->s, fd);
}

static short check_events(const struct check *k) {
        if (k->fd < 0)
                return 0;
        if (!k->connected)
                return POLLOUT;
        return gnutls_record_get_direction(k->s) ? POLLOUT : POLLIN;
}

/* One step of k's connection or handshake, once poll() says it may go on. */
static void check_step(struct check *k) {
        int err = 0, r;
        socklen_t l = sizeof err;

        if (!k->connected) {
                if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err != 0) {
                        check_end(k, SD_REFUSED);
                        return;
                }
                k->connected = true;
        }
        r = gnutls_handshake(k->s);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
                return;
        /* Nothing sent after the handshake: closed as it completes. */
        check_end(k, r == 0 && fingerprint_matches(k->s, k->c->fingerprint) ? SD_VERIFIED
                                                                             : SD_REFUSED);
}

/* The candidates of found that need a verification, listed peers first, at
 * most SD_VERIFY_MAX; how many. */
static size_t checks_due(struct sd_peers *found, struct sd_peer *todo[SD_VERIFY_MAX]) {
        size_t n = 0;

        for (int want = SD_CHECK_LISTED; want <= SD_CHECK_NEW; want++)
                for (size_t i = 0; i < found->n && n < SD_VERIFY_MAX; i++)
                        if (sd_peers_needs_check(&S.peers, &found->p[i]) == want)
                                todo[n++] = &found->p[i];
        return n;
}

/* Verifies the candidates of found that need it (see the top); false when
 * stopped meanwhile. */
static bool verify(struct sd_peers *found) {
        gnutls_certificate_credentials_t cred;
        struct sd_peer *todo[SD_VERIFY_MAX];
        struct check k[SD_VERIFY_PARALLEL];
        size_t n = checks_due(found, todo), next = 0;
        bool going = true;

        if (n == 0 || gnutls_certificate_allocate_credentials(&cred) < 0)
                return true; /* unchecked: not listed, a listed peer kept */
        for (size_t i = 0; i < SD_VERIFY_PARALLEL; i++)
                k[i] = (struct check){.fd = -1};
        for (;;) {
                struct pollfd p[1 + SD_VERIFY_PARALLEL] = {{.fd = S.stop_fd, .events = POLLIN}};
                uint64_t now = now_usec(), first = UINT64_MAX;
                int r;

                for (size_t i = 0; i < SD_VERIFY_PARALLEL; i++) {
                        if (k[i].fd >= 0 && now >= k[i].deadline)
                                check_end(&k[i], SD_REFUSED);
                        while (k[i].fd < 0 && next < n)
                                check_start(&k[i], todo[next++], cred);
                        p[1 + i] = (struct pollfd){.fd = k[i].fd, .events = check_events(&k[i])};
                        if (k[i].fd >= 0 && k[i].deadline < first)
                                first = k[i].deadline;
                }
                if (first == UINT64_MAX)
                        break;
                r = poll(p, 1 + SD_VERIFY_PARALLEL, (int)((first - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        break;
                if (r > 0 && p[0].revents) {
                        going = false;
                        break;
                }
                for (size_t i = 0; r > 0 && i < SD_VERIFY_PARALLEL; i++)
                        if (k[i].fd >= 0 && p[1 + i].revents)
                                check_step(&k[i]);
        }
        for (size_t i = 0; i < SD_VERIFY_PARALLEL; i++)
                if (k[i].fd >= 0)
                        check_end(&k[i], SD_UNCHECKED);
        gnutls_certificate_free_credentials(cred);
        return going;
}

/* One sweep, merged into the table; false when stopped meanwhile. */
static bool sweep(void) {
        struct discovery_request req = {.size = DISCOVERY_REQUEST_MIN};
        uint8_t packet[DISCOVERY_REQUEST_MIN];
        struct sd_peers found = {0};
        size_t len = 0;
        int fds[2], r;
        bool going = true;

        if (random_bytes(req.nonce, sizeof req.nonce) < 0 ||
            discovery_request_build(&req, packet, sizeof packet, &len) < 0)
                return true;
        fds[0] = discovery_sweep_socket(AF_INET);
        fds[1] = discovery_sweep_socket(AF_INET6);
        atomic_fetch_add(&S.sweeps, 1);
        if (send_requests(fds, packet, len) == 0) {
                atomic_fetch_add(&S.sweeps_unsent, 1);
                if (!S.failing)
                        log_warning("discovery for GET /api/v1/sd: no request could be sent; "
                                    "peers expire until one can");
                S.failing = true;
        } else {
                if (S.failing)
                        log_notice("discovery for GET /api/v1/sd: sweeping again");
                S.failing = false;
                going = collect(fds, req.nonce, &found);
        }
        for (size_t i = 0; i < 2; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        if (going)
                going = verify(&found);
        if (going) {
                pthread_mutex_lock(&S.lock);
                r = sd_peers_merge(&S.peers, &found);
                pthread_mutex_unlock(&S.lock);
                if (r < 0)
                        log_warning_errno(r, "discovery for GET /api/v1/sd: peers not updated");
        }
        sd_peers_clear(&found);
        return going;
}

static void forget_peers(void) {
        pthread_mutex_lock(&S.lock);
        sd_peers_clear(&S.peers);
        pthread_mutex_unlock(&S.lock);
}

static void *sweeper(void *arg) {
        _cleanup_free_ struct steward_config *c = malloc(sizeof *c);
        uint64_t last = 0; /* the start of the last sweep; 0: none since turned on */

        (void)arg;
        if (!c)
                return NULL;
        for (;;) {
                uint64_t now = now_usec(), next;
                int wait_ms = SD_TICK_MS;

                /* Read at every tick: a new interval counts from the last
                 * sweep, not from when the old one would have ended. */
                steward_config_get(c);
                next = last + (uint64_t)c->sd_interval * 1000000u;
                if (!c->sd_peers) {
                        forget_peers();
                        last = 0;
                } else if (last == 0 || now >= next) {
                        last = now;
                        if (!sweep())
                                break;
                        continue;
                } else if ((next - now) / 1000 < SD_TICK_MS)
                        wait_ms = (int)((next - now) / 1000) + 1;
                if (stop_requested(wait_ms))
                        break;
        }
        return NULL;
}

int sd_start(const struct listener *ls, size_t n, uint16_t udp_port, const char *fingerprint,
             char *err, size_t err_len) {
        int r;

        if (S.running)
                return -EALREADY;
        S.n_ls = 0;
        for (size_t i = 0; i < n && S.n_ls < SD_LISTENERS_MAX; i++) {
                socklen_t len = sizeof S.ls[0];

                if (!ls[i].unix_socket &&
                    getsockname(ls[i].fd, (struct sockaddr *)&S.ls[S.n_ls], &len) == 0 &&
                    (S.ls[S.n_ls].ss_family == AF_INET || S.ls[S.n_ls].ss_family == AF_INET6))
                        S.n_ls++;
        }
        S.udp_port = udp_port;
        snprintf(S.fingerprint, sizeof S.fingerprint, "%s", fingerprint);
        S.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (S.stop_fd < 0) {
                r = -errno;
                snprintf(err, err_len, "service discovery: eventfd failed: %s", strerror(errno));
                return r;
        }
        r = -pthread_create(&S.thread, NULL, sweeper, NULL);
        if (r < 0) {
                close(S.stop_fd);
                S.stop_fd = -1;
                snprintf(err, err_len, "service discovery: cannot start its thread: %s",
                         strerror(-r));
                return r;
        }
        S.running = true;
        return 0;
}

void sd_stop(void) {
        uint64_t one = 1;

        if (!S.running)
                return;
        while (write(S.stop_fd, &one, sizeof one) < 0 && errno == EINTR)
                ;
        pthread_join(S.thread, NULL);
        close(S.stop_fd);
        S.stop_fd = -1;
        S.running = false;
        forget_peers();
}

json_t *sd_counters_json(void) {
        size_t peers;

        pthread_mutex_lock(&S.lock);
        peers = S.peers.n;
        pthread_mutex_unlock(&S.lock);
        return json_pack("{s:I, s:I, s:I}", "peers", (json_int_t)peers, "sweeps",
                         (json_int_t)atomic_load(&S.sweeps), "sweeps_unsent",
                         (json_int_t)atomic_load(&S.sweeps_unsent));
}
