/* connbudget.c — see connbudget.h.
 *
 * One list, one lock.  The per-source count and the search for the oldest
 * waiting connection are walks of the list — every open connection, so at
 * most the server's connection limit — made once per accepted connection,
 * never per request; the deadline check walks it once a second.  The
 * per-request calls only flip fields of their own entry under the lock.
 */
#include "connbudget.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "config.h"
#include "stats.h"
#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct connbudget_entry *head, *tail; /* accept order: oldest first */
static unsigned unauthenticated;             /* listed, not authenticated, not cut */

void connbudget_source_key(const struct sockaddr *sa, char *key, size_t size) {
        char text[INET6_ADDRSTRLEN];

        key[0] = '\0';
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
                if (inet_ntop(AF_INET, &s4->sin_addr, text, sizeof text))
                        snprintf(key, size, "%s", text);
        } else if (sa->sa_family == AF_INET6) {
                struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(&a)) {
                        if (inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof text))
                                snprintf(key, size, "%s", text);
                        return;
                }
                memset(a.s6_addr + 8, 0, 8);
                if (inet_ntop(AF_INET6, &a, text, sizeof text))
                        snprintf(key, size, "%s/64", text);
        }
}

static bool counted(const struct connbudget_entry *e) {
        return !e->authenticated && !e->cut;
}

/* Under the lock. */
static void cut(struct connbudget_entry *e, _Atomic uint64_t *reason) {
        atomic_fetch_add(reason, 1);
        if (counted(e))
                unauthenticated--;
        e->cut = true;
        e->deadline_usec = 0;
        (void)shutdown(e->fd, SHUT_RDWR);
}

static unsigned count_source(const char *source) {
        unsigned n = 0;
        for (const struct connbudget_entry *x = head; x; x = x->next)
                if (counted(x) && strcmp(x->source, source) == 0)
                        n++;
        return n;
}

/* The oldest connection still waiting for its request (its headers, or
 * for a stranger its body too). */
static struct connbudget_entry *oldest_waiting(void) {
        for (struct connbudget_entry *x = head; x; x = x->next)
                if (counted(x) && x->deadline_usec)
                        return x;
        return NULL;
}

int connbudget_admit(struct connbudget_entry *e, int fd, const char *source, bool authenticated,
                     const struct connbudget_limits *lim, uint64_t now) {
        _Atomic uint64_t *reason = NULL;
        int r = 0;

        *e = (struct connbudget_entry){
                .fd = fd,
                .listed = true,
                .authenticated = authenticated,
                .timeout_usec = lim->header_timeout * 1000000ull,
        };
        e->deadline_usec = authenticated ? 0 : now + e->timeout_usec;
        snprintf(e->source, sizeof e->source, "%s", source);
        pthread_mutex_lock(&lock);
        if (!authenticated) {
                if (count_source(source) >= lim->per_source) {
                        reason = &stats_closed_source_cap;
                } else if (unauthenticated >= lim->unauthenticated) {
                        struct connbudget_entry *victim = oldest_waiting();
                        if (victim) {
                                log_debug("http: unauthenticated connections at the limit of %u: "
                                          "cutting the oldest waiting one, from %s",
                                          lim->unauthenticated, victim->source);
                                cut(victim, &stats_closed_displaced);
                        } else
                                reason = &stats_closed_budget_full;
                }
                unauthenticated++;
        }
        e->prev = tail;
        if (tail)
                tail->next = e;
        else
                head = e;
        tail = e;
        if (reason) {
                cut(e, reason);
                r = -EMFILE;
        }
        atomic_store(&stats_connections_unauthenticated, unauthenticated);
        pthread_mutex_unlock(&lock);
        return r;
}

void connbudget_authenticated(struct connbudget_entry *e) {
        pthread_mutex_lock(&lock);
        if (e->listed && counted(e))
                unauthenticated--;
        e->authenticated = true;
        e->deadline_usec = 0; /* its headers are in: it authenticated with them */
        atomic_store(&stats_connections_unauthenticated, unauthenticated);
        pthread_mutex_unlock(&lock);
}

void connbudget_request_started(struct connbudget_entry *e, uint64_t now) {
        pthread_mutex_lock(&lock);
        if (e->listed && !e->cut && !e->deadline_usec)
                e->deadline_usec = now + e->timeout_usec;
        pthread_mutex_unlock(&lock);
}

void connbudget_headers_done(struct connbudget_entry *e) {
        pthread_mutex_lock(&lock);
        /* A stranger's deadline runs on until its whole request is in: a
         * body sent a byte at a time must not hold a slot (nor escape being
         * displaced) once the headers are done. */
        if (e->authenticated)
                e->deadline_usec = 0;
        pthread_mutex_unlock(&lock);
}

void connbudget_request_received(struct connbudget_entry *e) {
        pthread_mutex_lock(&lock);
        e->deadline_usec = 0;
        pthread_mutex_unlock(&lock);
}

void connbudget_request_done(struct connbudget_entry *e, uint64_t now) {
        pthread_mutex_lock(&lock);
        if (e->listed && !e->cut)
                e->deadline_usec = e->authenticated ? 0 : now + e->timeout_usec;
        pthread_mutex_unlock(&lock);
}

void connbudget_remove(struct connbudget_entry *e) {
        pthread_mutex_lock(&lock);
        if (e->listed) {
                if (counted(e))
                        unauthenticated--;
                if (e->prev)
                        e->prev->next = e->next;
                else
                        head = e->next;
                if (e->next)
                        e->next->prev = e->prev;
                else
                        tail = e->prev;
                e->prev = e->next = NULL;
                e->listed = false;
        }
        atomic_store(&stats_connections_unauthenticated, unauthenticated);
        pthread_mutex_unlock(&lock);
}

unsigned connbudget_expire(uint64_t now) {
        unsigned n = 0;

        pthread_mutex_lock(&lock);
        for (struct connbudget_entry *x = head; x; x = x->next)
                if (!x->cut && x->deadline_usec && x->deadline_usec <= now) {
                        log_debug("http: %s did not send its request headers in time; closing",
                                  x->source);
                        cut(x, &stats_closed_header_timeout);
                        n++;
                }
        atomic_store(&stats_connections_unauthenticated, unauthenticated);
        pthread_mutex_unlock(&lock);
        return n;
}

unsigned connbudget_count(const char *key) {
        unsigned n = 0;

        pthread_mutex_lock(&lock);
        for (const struct connbudget_entry *x = head; x; x = x->next)
                if (!x->cut && strcmp(x->source, key) == 0)
                        n++;
        pthread_mutex_unlock(&lock);
        return n;
}

unsigned connbudget_unauthenticated(void) {
        unsigned n;
        pthread_mutex_lock(&lock);
        n = unauthenticated;
        pthread_mutex_unlock(&lock);
        return n;
}

static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reaper_cond;
static pthread_t reaper;
static bool reaper_running, reaper_stop;

static void *reaper_main(void *arg) {
        (void)arg;
        pthread_mutex_lock(&reaper_lock);
        while (!reaper_stop) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&reaper_cond, &reaper_lock, &ts);
                if (reaper_stop)
                        break;
                pthread_mutex_unlock(&reaper_lock);
                (void)connbudget_expire(now_usec());
                pthread_mutex_lock(&reaper_lock);
        }
        pthread_mutex_unlock(&reaper_lock);
        return NULL;
}

int connbudget_start_reaper(void) {
        pthread_condattr_t ca;
        int r;

        if (reaper_running)
                return 0;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&reaper_cond, &ca);
        pthread_condattr_destroy(&ca);
        reaper_stop = false;
        r = pthread_create(&reaper, NULL, reaper_main, NULL);
        if (r != 0)
                return -r;
        reaper_running = true;
        return 0;
}

void connbudget_stop_reaper(void) {
        if (!reaper_running)
                return;
        pthread_mutex_lock(&reaper_lock);
        reaper_stop = true;
        pthread_cond_signal(&reaper_cond);
        pthread_mutex_unlock(&reaper_lock);
        pthread_join(reaper, NULL);
        pthread_cond_destroy(&reaper_cond);
        reaper_running = false;
}
