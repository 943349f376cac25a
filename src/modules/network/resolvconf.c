/* resolvconf.c — what /etc/resolv.conf says, as glibc's resolver reads it.
 *
 * A pure function on a view of the file's text: lines, each a keyword and
 * words; '#' or ';' starts a comment line (as glibc, only at the start of a
 * line, and also a trailing comment after the words).  "nameserver ADDR"
 * adds a server (an IP literal, an IPv6 one with an optional %scope; any
 * other is skipped, as glibc skips it); "search" and "domain" replace the
 * search list (the last one wins); "options" adds its words.  Unknown
 * keywords are ignored.  Bounded: at most RESOLV_MAX_* of each, words of
 * at most RESOLV_WORD_MAX bytes, of printable ASCII only (a word with any
 * other byte is dropped), so what it returns is safe to show.
 *
 * "resolved" says whether systemd-resolved's stub (127.0.0.53 or
 * 127.0.0.54) is among the servers.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "modules/network/network.h"
#include "util.h"

#define RESOLV_MAX_SERVERS 16
#define RESOLV_MAX_SEARCH  32
#define RESOLV_MAX_OPTIONS 32
#define RESOLV_WORD_MAX    255

struct view {
        const char *p;
        size_t n;
};

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next word of *line (advancing it); false at its end or a comment. */
static bool next_word(struct view *line, struct view *ret) {
        while (line->n > 0 && is_blank(*line->p))
                line->p++, line->n--;
        if (line->n == 0 || *line->p == '#' || *line->p == ';')
                return false;
        ret->p = line->p;
        while (line->n > 0 && !is_blank(*line->p))
                line->p++, line->n--;
        ret->n = (size_t)(line->p - ret->p);
        return true;
}

static bool word_is(struct view w, const char *s) {
        return w.n == strlen(s) && memcmp(w.p, s, w.n) == 0;
}

static bool word_printable(struct view w) {
        if (w.n == 0 || w.n > RESOLV_WORD_MAX)
                return false;
        for (size_t i = 0; i < w.n; i++)
                if ((unsigned char)w.p[i] <= ' ' || (unsigned char)w.p[i] >= 0x7f)
                        return false;
        return true;
}

/* An IP literal (IPv6 with an optional %scope of [A-Za-z0-9_.-]). */
static bool server_valid(const char *s) {
        char a[INET6_ADDRSTRLEN + 1];
        unsigned char buf[sizeof(struct in6_addr)];
        const char *pct = strchr(s, '%');
        size_t n = pct ? (size_t)(pct - s) : strlen(s);

        if (n == 0 || n >= sizeof a)
                return false;
        memcpy(a, s, n);
        a[n] = '\0';
        if (!pct)
                return inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1;
        if (inet_pton(AF_INET6, a, buf) != 1 || pct[1] == '\0' || strlen(pct + 1) > 15)
                return false;
        for (const char *c = pct + 1; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
                        return false;
        return true;
}

static void take_line(struct view line, json_t *servers, json_t **search, json_t *options) {
        struct view kw, w;
        char word[RESOLV_WORD_MAX + 1];

        if (!next_word(&line, &kw))
                return;
        if (word_is(kw, "nameserver")) {
                if (!next_word(&line, &w) || !word_printable(w) ||
                    json_array_size(servers) >= RESOLV_MAX_SERVERS)
                        return;
                memcpy(word, w.p, w.n);
                word[w.n] = '\0';
                if (server_valid(word))
                        json_array_append_new(servers, json_string(word));
        } else if (word_is(kw, "search") || word_is(kw, "domain")) {
                json_t *list = json_array();
                while (list && next_word(&line, &w) && json_array_size(list) < RESOLV_MAX_SEARCH) {
                        if (!word_printable(w))
                                continue;
                        memcpy(word, w.p, w.n);
                        word[w.n] = '\0';
                        json_array_append_new(list, json_string(word));
                        if (word_is(kw, "domain"))
                                break; /* domain takes one name */
                }
                json_decref(*search);
                *search = list;
        } else if (word_is(kw, "options")) {
                while (next_word(&line, &w) && json_array_size(options) < RESOLV_MAX_OPTIONS) {
                        if (!word_printable(w))
                                continue;
                        memcpy(word, w.p, w.n);
                        word[w.n] = '\0';
                        json_array_append_new(options, json_string(word));
                }
        }
}

json_t *resolv_conf_parse(const char *text, size_t n, const char *source) {
        json_t *servers = json_array(), *search = json_array(), *options = json_array();
        bool resolved = false;
        size_t i, start = 0;
        json_t *v;

        if (n > RESOLV_CONF_MAX)
                n = RESOLV_CONF_MAX;
        for (i = 0; i <= n && servers && options; i++)
                if (i == n || text[i] == '\n') {
                        take_line((struct view){text + start, i - start}, servers, &search,
                                  options);
                        start = i + 1;
                }
        json_array_foreach(servers, i, v) {
                const char *s = json_string_value(v);
                if (STREQ(s, "127.0.0.53") || STREQ(s, "127.0.0.54"))
                        resolved = true;
        }
        return json_pack("{s:s, s:o, s:o, s:o, s:b}", "source", source, "servers",
                         servers ? servers : json_array(), "search", search ? search : json_array(),
                         "options", options ? options : json_array(), "resolved", resolved);
}
