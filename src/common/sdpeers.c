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

static struct sd_peer *find(const struct sd_peers *t, const char *fingerprint, const char *host) {
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->p[i].fingerprint, fingerprint) == 0 &&
                    strcmp(t->p[i].host, host) == 0)
                        return &t->p[i];
        return NULL;
}

static struct sd_peer *append(struct sd_peers *t) {
        if (t->n == SD_PEERS_MAX)
                return NULL;
        if (!t->p) {
                t->p = calloc(SD_PEERS_MAX, sizeof *t->p);
                if (!t->p)
                        return NULL;
        }
        return &t->p[t->n++];
}

int sd_peers_found(struct sd_peers *sweep, const struct discovery_answer *a, const char *target,
                   int rank) {
        size_t len = strnlen(target, SD_TARGET_MAX);
        struct sd_peer *p;

        if (len == 0 || len >= SD_TARGET_MAX)
                return -EINVAL;
        p = find(sweep, a->fingerprint, a->host);
        if (p) {
                if (rank < p->rank) {
                        memcpy(p->target, target, len + 1);
                        p->rank = rank;
                }
                return 0;
        }
        if (sweep->n == SD_PEERS_MAX)
                return -ENOSPC;
        p = append(sweep);
        if (!p)
                return -ENOMEM;
        *p = (struct sd_peer){.rank = rank};
        memcpy(p->target, target, len + 1);
        memcpy(p->host, a->host, sizeof p->host);
        memcpy(p->version, a->version, sizeof p->version);
        memcpy(p->fingerprint, a->fingerprint, sizeof p->fingerprint);
        return 0;
}

int sd_peers_merge(struct sd_peers *table, const struct sd_peers *sweep) {
        size_t kept = 0;

        if (sweep->n > 0 && !table->p) {
                table->p = calloc(SD_PEERS_MAX, sizeof *table->p);
                if (!table->p)
                        return -ENOMEM;
        }
        /* Those known: refreshed, or one more miss. */
        for (size_t i = 0; i < table->n; i++) {
                struct sd_peer *p = &table->p[i];
                const struct sd_peer *s = find(sweep, p->fingerprint, p->host);

                if (s) {
                        *p = *s;
                        p->missed = 0;
                } else if (++p->missed >= SD_PEER_MISSES)
                        continue;
                if (kept != i)
                        table->p[kept] = *p;
                kept++;
        }
        table->n = kept;
        /* Those new, while there is room. */
        for (size_t i = 0; i < sweep->n && table->n < SD_PEERS_MAX; i++) {
                const struct sd_peer *s = &sweep->p[i];

                if (!find(table, s->fingerprint, s->host)) {
                        table->p[table->n] = *s;
                        table->p[table->n++].missed = 0;
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
        return json_pack("{s:[s], s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "targets", target, "labels",
                         "__scheme__", "https", "__metrics_path__", "/metrics",
                         "__meta_steward_host", host, "__meta_steward_fingerprint", fingerprint,
                         "__meta_steward_version", version, "__meta_steward_source", source);
}

int sd_peers_append_json(const struct sd_peers *t, json_t *list) {
        for (size_t i = 0; i < t->n; i++) {
                const struct sd_peer *p = &t->p[i];

                if (json_array_append_new(list, sd_group_json(p->target, p->host, p->fingerprint,
                                                              p->version, "discovery")) < 0)
                        return -ENOMEM;
        }
        return 0;
}
