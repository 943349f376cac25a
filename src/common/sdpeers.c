/* sdpeers.c — the service-discovery peer table and target groups (see
 * sdpeers.h).
 *
 * Rows are kept in the order servers were first seen; a row that expires is
 * removed with memmove, so the order of the rest (and of the answer to
 * GET /api/v1/sd) does not jump between sweeps.  Both tables are at most
 * SD_PEERS_MAX rows and every lookup is linear: a sweep's merge is at most
 * SD_PEERS_MAX² string comparisons, run once per sweep interval.
 */
#include "sdpeers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sd_address_rank(const struct sockaddr *sa) {
        if (sa->sa_family == AF_INET) {
                uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
                return (a >> 24) == 127 ? 1 : 0;
        }
        if (sa->sa_family != AF_INET6)
                return -1;
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
                return a->s6_addr[12] == 127 ? 1 : 0;
        if (IN6_IS_ADDR_LOOPBACK(a))
                return 1;
        if (IN6_IS_ADDR_LINKLOCAL(a))
                return 2;
        return 0;
}

int sd_target_format(const struct sockaddr *sa, uint16_t port, char *dst, size_t cap) {
        char host[INET6_ADDRSTRLEN];
        int n;

        if (sa->sa_family == AF_INET) {
                if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host,
                               sizeof host))
                        return -EINVAL;
                n = snprintf(dst, cap, "%s:%u", host, port);
        } else if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

                if (IN6_IS_ADDR_V4MAPPED(a)) {
                        if (!inet_ntop(AF_INET, &a->s6_addr[12], host, sizeof host))
                                return -EINVAL;
                        n = snprintf(dst, cap, "%s:%u", host, port);
                } else {
                        if (!inet_ntop(AF_INET6, a, host, sizeof host))
                                return -EINVAL;
                        n = snprintf(dst, cap, "[%s]:%u", host, port);
                }
        } else
                return -EAFNOSUPPORT;
        if (n < 0 || (size_t)n >= cap)
                return -ENOBUFS;
        return 0;
}

static bool same_identity(const struct sd_peer *p, const char *fingerprint, const char *host) {
        return strcmp(p->fingerprint, fingerprint) == 0 && strcmp(p->host, host) == 0;
}

/* The row of t with this identity (and this target, unless NULL). */
static struct sd_peer *find(const struct sd_peers *t, const char *fingerprint, const char *host,
                            const char *target) {
        for (size_t i = 0; i < t->n; i++)
                if (same_identity(&t->p[i], fingerprint, host) &&
                    (!target || strcmp(t->p[i].target, target) == 0))
                        return &t->p[i];
        return NULL;
}

/* Whether two targets have the same address (all but the ":PORT"). */
static bool same_source(const char *a, const char *b) {
        const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');

        return ca && cb && ca - a == cb - b && memcmp(a, b, (size_t)(ca - a)) == 0;
}

static size_t from_source(const struct sd_peers *t, const char *target) {
        size_t n = 0;

        for (size_t i = 0; i < t->n; i++)
                n += same_source(t->p[i].target, target);
        return n;
}

static int alloc_rows(struct sd_peers *t) {
        if (!t->p) {
                t->p = calloc(SD_PEERS_MAX, sizeof *t->p);
                if (!t->p)
                        return -ENOMEM;
        }
        return 0;
}

static void fill(struct sd_peer *p, const struct discovery_answer *a, const char *target,
                 size_t len, int rank) {
        *p = (struct sd_peer){.rank = rank};
        memcpy(p->target, target, len + 1);
        memcpy(p->host, a->host, sizeof p->host);
        memcpy(p->version, a->version, sizeof p->version);
        memcpy(p->fingerprint, a->fingerprint, sizeof p->fingerprint);
}

int sd_peers_found(struct sd_peers *sweep, const struct discovery_answer *a, const char *target,
                   int rank) {
        size_t len = strnlen(target, SD_TARGET_MAX);

        if (len == 0 || len >= SD_TARGET_MAX)
                return -EINVAL;
        if (find(sweep, a->fingerprint, a->host, target))
                return 0;
        if (from_source(sweep, target) >= SD_PER_SOURCE_MAX)
                return -EDQUOT;
        if (sweep->n == SD_PEERS_MAX)
                return -ENOSPC;
        if (alloc_rows(sweep) < 0)
                return -ENOMEM;
        fill(&sweep->p[sweep->n++], a, target, len, rank);
        return 0;
}

int sd_peers_found_known(struct sd_peers *sweep, const struct sd_peers *known,
                         const struct discovery_answer *a, const char *target, int rank) {
        size_t len = strnlen(target, SD_TARGET_MAX);
        int r = sd_peers_found(sweep, a, target, rank);

        if (r != -ENOSPC && r != -EDQUOT)
                return r;
        if (!find(known, a->fingerprint, a->host, target))
                return r;
        for (size_t i = sweep->n; i > 0; i--) {
                struct sd_peer *c = &sweep->p[i - 1];

                if (!find(known, c->fingerprint, c->host, c->target)) {
                        fill(c, a, target, len, rank);
                        return 0;
                }
        }
        return -ENOSPC;
}

int sd_peers_needs_check(const struct sd_peers *known, const struct sd_peer *c) {
        const struct sd_peer *k = find(known, c->fingerprint, c->host, NULL);

        if (!k)
                return SD_CHECK_NEW;
        if (strcmp(k->target, c->target) != 0)
                return 0; /* a competing claim: never replaces a listed peer */
        return k->age + 1 >= SD_REVERIFY_SWEEPS ? SD_CHECK_LISTED : 0;
}

/* The listed peers: refreshed, dropped (re-verification failed), or one
 * more miss. */
static void merge_known(struct sd_peers *table, const struct sd_peers *sweep) {
        size_t kept = 0;

        for (size_t i = 0; i < table->n; i++) {
                struct sd_peer *p = &table->p[i];
                const struct sd_peer *s = find(sweep, p->fingerprint, p->host, p->target);

                if (s && s->check == SD_REFUSED)
                        continue;
                if (s) {
                        memcpy(p->version, s->version, sizeof p->version);
                        p->missed = 0;
                        p->age = s->check == SD_VERIFIED ? 0 : p->age + 1;
                } else if (++p->missed >= SD_PEER_MISSES)
                        continue;
                if (kept != i)
                        table->p[kept] = *p;
                kept++;
        }
        table->n = kept;
}

int sd_peers_merge(struct sd_peers *table, const struct sd_peers *sweep) {
        size_t known;

        if (sweep->n > 0 && alloc_rows(table) < 0)
                return -ENOMEM;
        merge_known(table, sweep);
        known = table->n;
        /* New identities, verified, while there is room. */
        for (size_t i = 0; i < sweep->n; i++) {
                const struct sd_peer *s = &sweep->p[i];
                struct sd_peer *p = find(table, s->fingerprint, s->host, NULL);

                if (s->check != SD_VERIFIED)
                        continue;
                if (p && p >= table->p + known && s->rank < p->rank) {
                        *p = *s; /* added by this sweep: its best-ranked target */
                        p->missed = p->age = 0;
                } else if (!p && table->n < SD_PEERS_MAX) {
                        table->p[table->n] = *s;
                        table->p[table->n].missed = table->p[table->n].age = 0;
                        table->n++;
                }
        }
        return 0;
}

void sd_peers_clear(struct sd_peers *t) {
        free(t->p);
        *t = (struct sd_peers){0};
}

json_t *sd_group_json(const char *target, const char *host, const char *fingerprint,
                      const char *version, const char *source) {
        json_t *g = json_pack("{s:[s], s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "targets", target,
                              "labels", "__scheme__", "https", "__metrics_path__", "/metrics",
                              "__meta_steward_host", host, "__meta_steward_fingerprint",
                              fingerprint, "__meta_steward_version", version ? version : "",
                              "__meta_steward_source", source);
        if (g && !version)
                (void)json_object_del(json_object_get(g, "labels"), "__meta_steward_version");
        return g;
}

int sd_peers_append_json(const struct sd_peers *t, json_t *list, bool anonymous) {
        for (size_t i = 0; i < t->n; i++) {
                const struct sd_peer *p = &t->p[i];

                if (json_array_append_new(list, sd_group_json(p->target, p->host, p->fingerprint,
                                                              anonymous ? NULL : p->version,
                                                              "discovery")) < 0)
                        return -ENOMEM;
        }
        return 0;
}
