/* discovery.c — the UDP discovery responder of the network front.
 *
 * One thread polls the discovery sockets and an eventfd that stops it.  For
 * each datagram, in this order:
 *   1. read it with MSG_TRUNC, so a datagram over DISCOVERY_DATAGRAM_MAX is
 *      seen at its real length and dropped;
 *   2. parse it as a request (common/discovery.c); anything else is dropped
 *      — answers included, so two responders can never be made to talk to
 *      each other in a loop;
 *   3. drop it if stewardd:discovery:enabled is false now;
 *   4. take one token from the source address's bucket and one from the
 *      global bucket, or drop it;
 *   5. build the answer into a buffer whose capacity is the request's size,
 *      and send it back to the source.
 * Nothing is logged per datagram (a peer controls how many arrive); the
 * counters say what happened, and their totals are logged at stop.
 *
 * Rate limiting.  A token bucket per source address (the port does not
 * count), holding at most one second's worth of answers, in a fixed table
 * of RATE_SLOTS entries: an address hashes (with a key drawn at start) to a
 * window of RATE_PROBE slots.  A bucket that has refilled completely is the
 * same as no bucket, so it may be taken over by another address without
 * giving anyone an extra answer; when every slot of the window is in use, a
 * new address is refused until one refills.  So the table never grows, and
 * evicting never raises what any address gets.  The global bucket caps the
 * total whatever the table does.  Only this thread touches the table.
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/discovery.h"
#include "log.h"
#include "config.h"
#include "util.h"

#define RATE_SLOTS 4096 /* a power of two */
#define RATE_PROBE 8
#define TOKEN      1000000u /* one answer, in micro-answers */
#define BATCH      64       /* datagrams per socket per wake-up */

struct bucket {
        uint8_t addr[16]; /* IPv6, or IPv4 mapped (::ffff:a.b.c.d) */
        bool used;
        uint64_t last_usec;
        uint64_t tokens; /* micro-answers */
};

static struct {
        pthread_t thread;
        bool running;
        int stop_fd;
        int fds[DISCOVERY_MAX_SOCKETS];
        size_t n;
        uint16_t tcp_port;
        char fingerprint[DISCOVERY_FINGERPRINT_LEN + 1];
        uint64_t hash_key;
        struct bucket table[RATE_SLOTS];
        struct bucket global;
} R = {.stop_fd = -1};

static _Atomic uint64_t n_answered, n_malformed, n_rate_limited, n_disabled, n_send_failed;

int discovery_socket_open(const struct sockaddr *sa, socklen_t len, int *ret_fd, char *name,
                          size_t name_len, char *err, size_t err_len) {
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        char host[INET6_ADDRSTRLEN] = "?";
        int one = 1, r;
        _cleanup_close_ int fd = -1;

        fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot create a UDP socket: %s", strerror(errno));
                return r;
        }
        if (sa->sa_family == AF_INET6 &&
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot set IPV6_V6ONLY: %s", strerror(errno));
                return r;
        }
        if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
                          sizeof host);
        else
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
        if (bind(fd, sa, len) < 0 || getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
                r = -errno;
                snprintf(err, err_len, "cannot bind UDP %s%s%s:%u: %s%s",
                         sa->sa_family == AF_INET6 ? "[" : "", host,
                         sa->sa_family == AF_INET6 ? "]" : "",
                         ntohs(sa->sa_family == AF_INET6
                                       ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                       : ((const struct sockaddr_in *)sa)->sin_port),
                         strerror(errno),
                         errno == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                                         : "");
                return r;
        }
        if (bound.ss_family == AF_INET6) {
                const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&bound;
                inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
                snprintf(name, name_len, "[%s]:%u", host, ntohs(a->sin6_port));
        } else {
                const struct sockaddr_in *a = (const struct sockaddr_in *)&bound;
                inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
                snprintf(name, name_len, "%s:%u", host, ntohs(a->sin_port));
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* --- rate limiting --- */

static uint64_t hash_addr(const uint8_t addr[16]) {
        uint64_t h = R.hash_key, w;

        for (size_t i = 0; i < 16; i += 8) {
                memcpy(&w, addr + i, 8);
                h ^= w;
                h *= 0x9e3779b97f4a7c15u;
                h ^= h >> 29;
        }
        h *= 0xbf58476d1ce4e5b9u;
        return h ^ (h >> 32);
}

/* Brings b's tokens up to date at now for rate answers per second; returns
 * whether it is full (indistinguishable from a fresh bucket). */
static bool refill(struct bucket *b, uint64_t now, unsigned rate) {
        uint64_t cap = (uint64_t)rate * TOKEN;
        uint64_t elapsed = now > b->last_usec ? now - b->last_usec : 0;

        if (elapsed > 2000000u) /* anything over a second refills completely */
                elapsed = 2000000u;
        b->tokens += elapsed * rate;
        if (b->tokens > cap)
                b->tokens = cap;
        b->last_usec = now;
        return b->tokens == cap;
}

/* The bucket of addr, found or taken over; NULL when the window is busy. */
static struct bucket *bucket_for(const uint8_t addr[16], uint64_t now, unsigned rate) {
        size_t start = (size_t)hash_addr(addr) & (RATE_SLOTS - 1);
        struct bucket *free_slot = NULL;

        for (size_t i = 0; i < RATE_PROBE; i++) {
                struct bucket *b = &R.table[(start + i) & (RATE_SLOTS - 1)];

                if (b->used && memcmp(b->addr, addr, 16) == 0) {
                        refill(b, now, rate);
                        return b;
                }
                if (!free_slot && (!b->used || refill(b, now, rate)))
                        free_slot = b;
        }
        if (!free_slot)
                return NULL;
        memcpy(free_slot->addr, addr, 16);
        free_slot->used = true;
        free_slot->last_usec = now;
        free_slot->tokens = (uint64_t)rate * TOKEN;
        return free_slot;
}

static bool rate_allow(const struct sockaddr_storage *src, unsigned rate) {
        static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        uint64_t now = now_usec();
        uint8_t addr[16];
        struct bucket *b;

        if (src->ss_family == AF_INET6)
                memcpy(addr, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
        else {
                memcpy(addr, v4mapped, 12);
                memcpy(addr + 12, &((const struct sockaddr_in *)src)->sin_addr, 4);
        }
        b = bucket_for(addr, now, rate);
        refill(&R.global, now, DISCOVERY_GLOBAL_RATE);
        if (!b || b->tokens < TOKEN || R.global.tokens < TOKEN)
                return false;
        b->tokens -= TOKEN;
        R.global.tokens -= TOKEN;
        return true;
}

/* --- serving --- */

static uint16_t source_port(const struct sockaddr_storage *src) {
        return ntohs(src->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)src)->sin6_port
                                                : ((const struct sockaddr_in *)src)->sin_port);
}

static void handle(int fd, const uint8_t *data, size_t n, const struct sockaddr_storage *src,
                   socklen_t src_len) {
        struct discovery_request req;
        struct discovery_answer a = {.port = R.tcp_port};
        struct steward_config c;
        uint8_t out[DISCOVERY_DATAGRAM_MAX];
        char host[256] = "";
        size_t len = 0;
        ssize_t w;

        if (discovery_request_parse(data, n, &req) < 0 ||
            (src->ss_family != AF_INET && src->ss_family != AF_INET6) || source_port(src) == 0) {
                atomic_fetch_add(&n_malformed, 1);
                return;
        }
        steward_config_get(&c);
        if (!c.discovery_enabled) {
                atomic_fetch_add(&n_disabled, 1);
                return;
        }
        if (!rate_allow(src, c.discovery_rate_per_source ? c.discovery_rate_per_source : 1)) {
                atomic_fetch_add(&n_rate_limited, 1);
                return;
        }

        memcpy(a.nonce, req.nonce, sizeof a.nonce);
        (void)gethostname(host, sizeof host - 1);
        discovery_host_sanitize(host, a.host);
        snprintf(a.version, sizeof a.version, "%s", STEWARD_VERSION);
        memcpy(a.fingerprint, R.fingerprint, sizeof a.fingerprint);
        /* The capacity is the request's size: an answer that would be larger
         * than its request is not sent. */
        if (discovery_answer_build(&a, out, req.size, &len) < 0) {
                atomic_fetch_add(&n_send_failed, 1);
                return;
        }
        assert(len <= n && len <= req.size);
        w = sendto(fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)src,
                   src_len);
        atomic_fetch_add(w == (ssize_t)len ? &n_answered : &n_send_failed, 1);
}

static void serve_socket(int fd) {
        uint8_t buf[DISCOVERY_DATAGRAM_MAX];

        for (int i = 0; i < BATCH; i++) {
                struct sockaddr_storage src;
                socklen_t src_len = sizeof src;
                ssize_t n;

                n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&src,
                             &src_len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* EAGAIN, or an error queued by ICMP: nothing to read */
                }
                if ((size_t)n > sizeof buf) {
                        atomic_fetch_add(&n_malformed, 1);
                        continue;
                }
                handle(fd, buf, (size_t)n, &src, src_len);
        }
}

static void *responder(void *arg) {
        struct pollfd pfd[1 + DISCOVERY_MAX_SOCKETS];

        pfd[0] = (struct pollfd){.fd = R.stop_fd, .events = POLLIN};
        for (size_t i = 0; i < R.n; i++)
                pfd[1 + i] = (struct pollfd){.fd = R.fds[i], .events = POLLIN};
        for (;;) {
                int r = poll(pfd, 1 + R.n, -1);

                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(-errno, "discovery stopped: poll failed");
                        break;
                }
                if (pfd[0].revents)
                        break;
                for (size_t i = 0; i < R.n; i++)
                        if (pfd[1 + i].revents & (POLLIN | POLLERR))
                                serve_socket(R.fds[i]);
        }
        return NULL;
}

int discovery_start(const int *fds, size_t n, uint16_t tcp_port, const char *fingerprint, char *err,
                    size_t err_len) {
        int r;

        if (n == 0)
                return 0;
        if (R.running || n > DISCOVERY_MAX_SOCKETS)
                return -EINVAL;
        if (tcp_port == 0 || !discovery_fingerprint_valid(fingerprint, strlen(fingerprint))) {
                snprintf(err, err_len,
                         "discovery: no TCP port or no valid fingerprint to announce");
                return -EINVAL;
        }
        memcpy(R.fds, fds, n * sizeof *fds);
        R.n = n;
        R.tcp_port = tcp_port;
        memcpy(R.fingerprint, fingerprint, DISCOVERY_FINGERPRINT_LEN + 1);
        memset(R.table, 0, sizeof R.table);
        R.global = (struct bucket){.last_usec = now_usec(),
                                   .tokens = (uint64_t)DISCOVERY_GLOBAL_RATE * TOKEN};
        r = random_bytes(&R.hash_key, sizeof R.hash_key);
        if (r < 0) {
                snprintf(err, err_len, "discovery: no random bytes: %s", strerror(-r));
                return r;
        }
        R.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (R.stop_fd < 0) {
                r = -errno;
                snprintf(err, err_len, "discovery: eventfd failed: %s", strerror(errno));
                return r;
        }
        r = -pthread_create(&R.thread, NULL, responder, NULL);
        if (r < 0) {
                close(R.stop_fd);
                R.stop_fd = -1;
                snprintf(err, err_len, "discovery: cannot start its thread: %s", strerror(-r));
                return r;
        }
        R.running = true;
        return 0;
}

void discovery_stop(void) {
        uint64_t one = 1;

        if (!R.running)
                return;
        while (write(R.stop_fd, &one, sizeof one) < 0 && errno == EINTR)
                ;
        pthread_join(R.thread, NULL);
        close(R.stop_fd);
        R.stop_fd = -1;
        R.running = false;
        log_info("discovery: %llu answered, dropped %llu malformed, %llu rate-limited, "
                 "%llu while disabled; %llu not sent",
                 (unsigned long long)atomic_load(&n_answered),
                 (unsigned long long)atomic_load(&n_malformed),
                 (unsigned long long)atomic_load(&n_rate_limited),
                 (unsigned long long)atomic_load(&n_disabled),
                 (unsigned long long)atomic_load(&n_send_failed));
}

json_t *discovery_counters_json(void) {
        return json_pack("{s:I, s:I, s:I, s:I, s:I}", "answered",
                         (json_int_t)atomic_load(&n_answered), "dropped_malformed",
                         (json_int_t)atomic_load(&n_malformed), "dropped_rate_limited",
                         (json_int_t)atomic_load(&n_rate_limited), "dropped_disabled",
                         (json_int_t)atomic_load(&n_disabled), "send_failed",
                         (json_int_t)atomic_load(&n_send_failed));
}
