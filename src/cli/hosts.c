/* hosts.c — the -H list, the hosts file's groups and the discovered list,
 * expanded into the hosts a fanned-out run reaches (grammar in hosts.h).
 *
 * Pure: texts in, a list or an error message out.  The hosts file is parsed
 * whole and checked whole (every line, every reference, no cycles) before
 * anything is expanded, so a bad line is reported even when the group used
 * does not need it.  Nothing here keeps a pointer into the texts after it
 * returns; the list owns its entries (fixed-size keys and names).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "util.h"

struct group {
        const char *name, *body;
        size_t name_n, body_n;
        unsigned line;
        unsigned char state; /* expansion: 0 new, 1 on the stack, 2 done */
};

struct parsed {
        struct group *g;
        size_t n;
        const char *file;
};

/* The list under construction, with a hash set of its keys. */
struct resolver {
        struct host_list *list;
        uint32_t *slots; /* index + 1 into list->hosts, 0 free */
        size_t nslots;
        char *err;
        size_t err_cap;
};

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...) {
        va_list ap;

        if (cap > 0) {
                va_start(ap, fmt);
                (void)vsnprintf(err, cap, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
}

static bool valid_group_name(const char *s, size_t n) {
        if (n == 0 || n > HOSTS_NAME_MAX || !name_char(s[0]) || s[0] == '_' || s[0] == '.' ||
            s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!name_char(s[i]))
                        return false;
        return true;
}

static bool view_is(const char *s, size_t n, const char *word) {
        return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* An IP literal in its one canonical spelling (in place), so that one
 * address is one key (one pin, one session).  IPv4 only as four decimal
 * numbers: the short, hex and octal forms libc and libcurl also accept
 * (127.1, 0x7f.1, 0177.0.0.1) are refused rather than read as an address
 * that known_hosts names differently. */
static int canonical_address(char lower[static 254], bool v6) {
        unsigned char a[16];
        struct in_addr a4;
        char out[INET6_ADDRSTRLEN];

        if (v6) {
                if (inet_pton(AF_INET6, lower, a) != 1 ||
                    !inet_ntop(AF_INET6, a, out, sizeof out))
                        return -EINVAL;
                memcpy(lower, out, strlen(out) + 1);
                return 0;
        }
        if (inet_pton(AF_INET, lower, a) == 1)
                return 0; /* already a.b.c.d, no leading zeros */
        if (inet_aton(lower, &a4) != 0)
                return -EINVAL;
        /* A name whose last label is all digits would be read as an address
         * too (by libcurl's URL parser): not a host name. */
        const char *dot = strrchr(lower, '.');
        const char *last = dot ? dot + 1 : lower;
        if (last[0] && strspn(last, "0123456789") == strlen(last))
                return -EINVAL;
        return 0;
}

int host_key(const char *s, size_t n, struct host_entry *ret) {
        const char *host = s, *colon = memchr(s, ':', n);
        size_t host_n = n;
        uint16_t port = HOSTS_DEFAULT_PORT;
        bool v6 = false;
        char lower[254];

        if (n > 0 && s[0] == '[') {
                const char *end = memchr(s, ']', n);

                if (!end)
                        return -EINVAL;
                host = s + 1;
                host_n = (size_t)(end - s - 1);
                v6 = true;
                if ((size_t)(end - s) + 1 < n) {
                        if (end[1] != ':' ||
                            port_parse(end + 2, n - (size_t)(end - s) - 2, &port) < 0)
                                return -EINVAL;
                }
        } else if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
                host_n = (size_t)(colon - s);
                if (port_parse(colon + 1, n - host_n - 1, &port) < 0)
                        return -EINVAL;
        } else
                v6 = colon != NULL;

        if (host_n == 0 || host_n > 253)
                return -EINVAL;
        for (size_t i = 0; i < host_n; i++) {
                char c = host[i];
                bool ok = v6 ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                       (c >= 'A' && c <= 'F') || c == ':' || c == '.'
                             : (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                       (c >= '0' && c <= '9') || c == '.' || c == '-';
                if (!ok)
                        return -EINVAL;
                lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        lower[host_n] = '\0';
        if (v6 && !memchr(lower, ':', host_n))
                return -EINVAL;
        if (canonical_address(lower, v6) < 0)
                return -EINVAL;

        ret->discovered = false;
        (void)snprintf(ret->key, sizeof ret->key, v6 ? "[%s]:%u" : "%s:%u", lower, port);
        if (port == HOSTS_DEFAULT_PORT)
                (void)snprintf(ret->name, sizeof ret->name, v6 ? "[%s]" : "%s", lower);
        else
                memcpy(ret->name, ret->key, sizeof ret->name);
        return 0;
}

void host_list_free(struct host_list *l) {
        free(l->hosts);
        *l = (struct host_list){};
}

static uint32_t hash_key(const char *s) {
        uint32_t h = 2166136261u; /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 16777619u;
        return h;
}

/* Appends e unless its key is there already. */
static int add_host(struct resolver *rs, const struct host_entry *e) {
        struct host_list *l = rs->list;
        size_t i = hash_key(e->key) & (rs->nslots - 1);

        for (; rs->slots[i]; i = (i + 1) & (rs->nslots - 1))
                if (strcmp(l->hosts[rs->slots[i] - 1].key, e->key) == 0) {
                        /* Named by the user too: not only discovered. */
                        l->hosts[rs->slots[i] - 1].discovered &= e->discovered;
                        return 0;
                }
        if (l->n >= HOSTS_MAX)
                return fail(rs->err, rs->err_cap, "more than %d hosts", HOSTS_MAX);
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct host_entry *h = reallocarray(l->hosts, cap, sizeof *h);

                if (!h)
                        return -ENOMEM;
                l->hosts = h;
                l->cap = cap;
        }
        l->hosts[l->n++] = *e;
        rs->slots[i] = (uint32_t)l->n;
        return 0;
}

/* The next blank-separated item of [*p, end). */
static bool next_item(const char **p, const char *end, const char **ret, size_t *ret_n) {
        const char *s = *p;

        while (s < end && is_blank(*s))
                s++;
        if (s == end)
                return false;
        *ret = s;
        while (s < end && !is_blank(*s))
                s++;
        *ret_n = (size_t)(s - *ret);
        *p = s;
        return true;
}

static struct group *find_group(struct parsed *p, const char *name, size_t n) {
        for (size_t i = 0; i < p->n; i++)
                if (p->g[i].name_n == n && memcmp(p->g[i].name, name, n) == 0)
                        return &p->g[i];
        return NULL;
}

/* One "GROUP: ITEMS" line (already trimmed, not a comment). */
static int parse_line(struct parsed *p, const char *s, size_t n, unsigned line, char *err,
                      size_t cap) {
        const char *colon = memchr(s, ':', n), *q, *item, *end = s + n;
        struct group *g;
        size_t item_n;

        if (!colon)
                return fail(err, cap, "%s:%u: expected \"GROUP: HOST …\"", p->file, line);
        if (!valid_group_name(s, (size_t)(colon - s)))
                return fail(err, cap,
                            "%s:%u: invalid group name (1 to %d of A-Z a-z 0-9 _ . -, right "
                            "before the colon)",
                            p->file, line, HOSTS_NAME_MAX);
        if (view_is(s, (size_t)(colon - s), "all") || view_is(s, (size_t)(colon - s), "discovered"))
                return fail(err, cap, "%s:%u: the group \"%.*s\" is built in", p->file, line,
                            (int)(colon - s), s);
        if (find_group(p, s, (size_t)(colon - s)))
                return fail(err, cap, "%s:%u: the group \"%.*s\" is defined twice", p->file, line,
                            (int)(colon - s), s);
        if (p->n >= HOSTS_GROUPS_MAX)
                return fail(err, cap, "%s:%u: more than %d groups", p->file, line,
                            HOSTS_GROUPS_MAX);

        for (q = colon + 1; next_item(&q, end, &item, &item_n);) {
                struct host_entry e;

                if (item[0] == '@' ? !valid_group_name(item + 1, item_n - 1)
                                   : host_key(item, item_n, &e) < 0)
                        return fail(err, cap, "%s:%u: invalid %s \"%.*s\"", p->file, line,
                                    item[0] == '@' ? "group reference" : "host",
                                    (int)(item_n > 300 ? 300 : item_n), item);
        }

        g = &p->g[p->n++];
        *g = (struct group){.name = s,
                            .name_n = (size_t)(colon - s),
                            .body = colon + 1,
                            .body_n = (size_t)(end - colon - 1),
                            .line = line};
        return 0;
}

static int parse_file(const char *text, size_t len, const char *file, struct parsed *p,
                      char *err, size_t cap) {
        unsigned line = 0;

        p->file = file;
        p->n = 0;
        if (len > HOSTS_FILE_MAX)
                return fail(err, cap, "%s: larger than %zu KiB", file, HOSTS_FILE_MAX / 1024);
        p->g = calloc(HOSTS_GROUPS_MAX, sizeof *p->g);
        if (!p->g)
                return -ENOMEM;

        for (size_t i = 0; i < len;) {
                const char *s = text + i, *nl = memchr(s, '\n', len - i);
                size_t n = nl ? (size_t)(nl - s) : len - i;
                int r;

                i += n + (nl ? 1 : 0);
                line++;
                if (n > HOSTS_LINE_MAX)
                        return fail(err, cap, "%s:%u: line longer than %d bytes", file, line,
                                    HOSTS_LINE_MAX);
                if (n > 0 && s[n - 1] == '\r')
                        n--;
                if (memchr(s, '\0', n) || memchr(s, '\r', n))
                        return fail(err, cap, "%s:%u: control character", file, line);
                while (n > 0 && is_blank(*s))
                        s++, n--;
                while (n > 0 && is_blank(s[n - 1]))
                        n--;
                if (n == 0 || s[0] == '#')
                        continue;
                r = parse_line(p, s, n, line, err, cap);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Adds g's hosts once (rs NULL: only checks references and cycles). */
static int expand_group(struct parsed *p, struct group *g, struct resolver *rs, char *err,
                        size_t cap) {
        const char *q = g->body, *end = g->body + g->body_n, *item;
        size_t item_n;
        int r;

        if (g->state == 1)
                return fail(err, cap, "%s:%u: the group \"%.*s\" includes itself", p->file,
                            g->line, (int)g->name_n, g->name);
        if (g->state == 2) /* its hosts are in already (or it was checked) */
                return 0;
        g->state = 1;
        while (next_item(&q, end, &item, &item_n)) {
                struct host_entry e;

                if (item[0] == '@') {
                        struct group *sub = find_group(p, item + 1, item_n - 1);

                        if (!sub)
                                return fail(err, cap, "%s:%u: no group \"%.*s\"", p->file, g->line,
                                            (int)(item_n - 1), item + 1);
                        r = expand_group(p, sub, rs, err, cap);
                } else {
                        r = host_key(item, item_n, &e);
                        if (r >= 0 && rs)
                                r = add_host(rs, &e);
                }
                if (r < 0)
                        return r;
        }
        g->state = 2;
        return 0;
}

static int check_all(struct parsed *p, char *err, size_t cap) {
        for (size_t i = 0; i < p->n; i++) {
                int r = expand_group(p, &p->g[i], NULL, err, cap);
                if (r < 0)
                        return r;
        }
        return 0;
}

int hosts_file_check(const char *text, size_t len, const char *file, char *err, size_t cap) {
        struct parsed p = {};
        int r;

        r = parse_file(text, len, file, &p, err, cap);
        if (r >= 0)
                r = check_all(&p, err, cap);
        free(p.g);
        return r;
}

/* @discovered: "ADDRESS:PORT [FINGERPRINT]" lines, # comments. */
static int add_discovered(const struct hosts_sources *src, struct resolver *rs) {
        const char *text = src->discovered_text, *file = src->discovered_file;
        size_t len = src->discovered_len;
        unsigned line = 0;

        if (!text)
                return fail(rs->err, rs->err_cap,
                            "@discovered: %s does not exist; run 'steward discover' first", file);
        for (size_t i = 0; i < len;) {
                const char *s = text + i, *nl = memchr(s, '\n', len - i), *item, *q;
                size_t n = nl ? (size_t)(nl - s) : len - i, item_n;
                struct host_entry e;
                int r;

                i += n + (nl ? 1 : 0);
                line++;
                q = s;
                if (!next_item(&q, s + n, &item, &item_n) || item[0] == '#')
                        continue;
                if (host_key(item, item_n, &e) < 0)
                        return fail(rs->err, rs->err_cap, "%s:%u: invalid address", file, line);
                e.discovered = true;
                r = add_host(rs, &e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_reference(struct parsed *p, const struct hosts_sources *src, const char *name,
                         size_t n, struct resolver *rs) {
        struct group *g;

        if (view_is(name, n, "discovered"))
                return add_discovered(src, rs);
        if (!src->hosts_text)
                return fail(rs->err, rs->err_cap, "no group \"%.*s\": %s does not exist", (int)n,
                            name, src->hosts_file);
        if (view_is(name, n, "all")) {
                for (size_t i = 0; i < p->n; i++) {
                        int r = expand_group(p, &p->g[i], rs, rs->err, rs->err_cap);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        g = find_group(p, name, n);
        if (!g)
                return fail(rs->err, rs->err_cap, "no group \"%.*s\" in %s", (int)n, name,
                            src->hosts_file);
        return expand_group(p, g, rs, rs->err, rs->err_cap);
}

int hosts_resolve(const char *arg, const struct hosts_sources *src, struct host_list *ret,
                  char *err, size_t cap) {
        struct resolver rs = {.list = ret, .err = err, .err_cap = cap};
        struct parsed p = {};
        bool parsed = false;
        int r = 0;

        rs.nslots = 32768; /* a power of two above 2 × HOSTS_MAX */
        rs.slots = calloc(rs.nslots, sizeof *rs.slots);
        if (!rs.slots)
                return -ENOMEM;
        for (size_t i = 0; i < ret->n; i++) {
                size_t j = hash_key(ret->hosts[i].key) & (rs.nslots - 1);
                while (rs.slots[j])
                        j = (j + 1) & (rs.nslots - 1);
                rs.slots[j] = (uint32_t)(i + 1);
        }

        for (const char *s = arg; r >= 0;) {
                const char *comma = strchr(s, ',');
                size_t n = comma ? (size_t)(comma - s) : strlen(s);
                struct host_entry e;

                if (n == 0)
                        r = fail(err, cap, "-H: empty host in \"%s\"", arg);
                else if (s[0] == '@') {
                        if (!valid_group_name(s + 1, n - 1))
                                r = fail(err, cap, "-H: invalid group name \"%.*s\"", (int)n, s);
                        else if (!parsed && src->hosts_text) {
                                r = parse_file(src->hosts_text, src->hosts_len, src->hosts_file,
                                               &p, err, cap);
                                if (r >= 0)
                                        r = check_all(&p, err, cap);
                                for (size_t i = 0; i < p.n; i++)
                                        p.g[i].state = 0;
                                parsed = true;
                        }
                        if (r >= 0)
                                r = add_reference(&p, src, s + 1, n - 1, &rs);
                } else if (host_key(s, n, &e) < 0)
                        r = fail(err, cap, "-H: invalid host \"%.*s\"", (int)(n > 300 ? 300 : n),
                                 s);
                else
                        r = add_host(&rs, &e);
                if (!comma)
                        break;
                s = comma + 1;
        }
        free(p.g);
        free(rs.slots);
        return r;
}
