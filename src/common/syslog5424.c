/* syslog5424.c — see syslog5424.h.
 *
 * The message is built in the caller's buffer by a bounded appender that
 * never writes past SYSLOG5424_MAX; the structured data cannot reach that
 * bound (nine values of at most SYSLOG5424_VALUE_MAX bytes, each at most
 * doubled by escaping, plus the header's fixed lengths), so only MSG is
 * ever cut, at a character boundary. */
#include "syslog5424.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"

#define HOSTNAME_MAX 255
#define TIME_MAX     INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

_Static_assert(9 * 2 * SYSLOG5424_VALUE_MAX + 512 + HOSTNAME_MAX < SYSLOG5424_MAX,
               "the structured data always fits");

struct out {
        char *buf;
        size_t len, cap; /* cap: the bound, excluding the NUL */
};

static void put(struct out *o, const char *s, size_t n) {
        if (n > o->cap - o->len)
                n = o->cap - o->len;
        memcpy(o->buf + o->len, s, n);
        o->len += n;
}

static void puts_(struct out *o, const char *s) {
        put(o, s, strlen(s));
}

/* The length of the UTF-8 character at s (n bytes left), 0 if invalid. */
static size_t utf8_char(const unsigned char *s, size_t n) {
        size_t len;
        unsigned cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, cp = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, cp = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/* Whether the valid UTF-8 character at s (len bytes) is one a reader's
 * terminal or viewer may act on rather than show: C1 controls
 * (U+0080-U+009F), the bidirectional overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069), the line and paragraph separators
 * (U+2028, U+2029) and the byte-order mark (U+FEFF). */
static bool unicode_control(const unsigned char *s, size_t len) {
        unsigned cp;

        if (len == 2)
                cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
        else if (len == 3)
                cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
        else
                return false;
        return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
               (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff;
}

/* Appends text as one line of UTF-8: controls (C0, DEL and those of
 * unicode_control) and invalid bytes become '?';
 * with escape, '"', '\' and ']' get a backslash.  At most max bytes of s are
 * read, and nothing is appended past the appender's bound (a character is
 * never split). */
static void put_text(struct out *o, const char *s, size_t max, bool escape) {
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t n = strnlen((const char *)p, max);

        for (size_t i = 0; i < n;) {
                size_t c = utf8_char(p + i, n - i);
                if (c == 0 || p[i] < 0x20 || p[i] == 0x7f || unicode_control(p + i, c)) {
                        if (o->len + 1 > o->cap)
                                return;
                        put(o, "?", 1);
                        i += c ? c : 1;
                        continue;
                }
                bool esc = escape && (p[i] == '"' || p[i] == '\\' || p[i] == ']');
                if (o->len + c + esc > o->cap)
                        return;
                if (esc)
                        put(o, "\\", 1);
                put(o, (const char *)p + i, c);
                i += c;
        }
}

static void put_param(struct out *o, const char *name, const char *value) {
        put(o, " ", 1);
        puts_(o, name);
        put(o, "=\"", 2);
        put_text(o, value, SYSLOG5424_VALUE_MAX, true);
        put(o, "\"", 1);
}

static void put_hostname(struct out *o, const char *h) {
        size_t n = 0;

        for (; h && h[n] && n < HOSTNAME_MAX; n++)
                if ((unsigned char)h[n] < 33 || (unsigned char)h[n] > 126)
                        break;
        if (n == 0 || (h[n] && n < HOSTNAME_MAX)) /* empty, or a bad byte: nil */
                put(o, "-", 1);
        else
                put(o, h, n);
}

static void put_summary(struct out *o, const struct syslog_record *r) {
        bool ok = r->result && strcmp(r->result, "ok") == 0;

        put_text(o, r->user && *r->user ? r->user : "-", SYSLOG5424_VALUE_MAX, false);
        puts_(o, ok ? " did " : " was ");
        if (!ok) {
                put_text(o, r->result ? r->result : "?", SYSLOG5424_VALUE_MAX, false);
                puts_(o, ": ");
        }
        put_text(o, r->module, SYSLOG5424_VALUE_MAX, false);
        put(o, " ", 1);
        put_text(o, r->operation, SYSLOG5424_VALUE_MAX, false);
        if (r->detail && *r->detail) {
                puts_(o, ": ");
                put_text(o, r->detail, SIZE_MAX, false);
        }
        if (r->message && *r->message) {
                puts_(o, " (");
                put_text(o, r->message, SIZE_MAX, false);
                puts_(o, ")");
        }
}

static void put_sd_and_msg(struct out *o, const struct syslog_record *r) {
        char num[24];

        put(o, "[", 1);
        puts_(o, SYSLOG5424_SD_ID);
        put_param(o, "user", r->user);
        put_param(o, "role", r->role);
        put_param(o, "source", r->source);
        put_param(o, "module", r->module);
        put_param(o, "operation", r->operation);
        put_param(o, "result", r->result);
        snprintf(num, sizeof num, "%" PRId64, r->id);
        put_param(o, "id", num);
        put_param(o, "hash", r->hash);
        put_param(o, "prev_hash", r->prev_hash);
        put(o, "] ", 2);
        put_summary(o, r);
}

static int pri(const struct syslog_record *r, int facility) {
        bool ok = r->result && strcmp(r->result, "ok") == 0;
        return facility * 8 + (ok ? 5 : 4);
}

static bool args_ok(const struct syslog_record *r, int facility, int64_t procid, char *buf,
                    size_t cap) {
        return r && buf && cap >= SYSLOG5424_MAX + 1 && facility >= 0 && facility <= 23 &&
               r->time >= 0 && r->time <= TIME_MAX && r->id >= 0 && procid >= 0;
}

int syslog5424_format(const struct syslog_record *r, int facility, const char *hostname,
                      int64_t procid, char *buf, size_t cap) {
        struct out o = {.buf = buf, .cap = SYSLOG5424_MAX};
        char head[64], ts[32], num[48];
        time_t tt;
        struct tm tm;

        if (!args_ok(r, facility, procid, buf, cap))
                return -EINVAL;
        tt = (time_t)r->time;
        if (!gmtime_r(&tt, &tm) || strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;
        snprintf(head, sizeof head, "<%d>1 %s ", pri(r, facility), ts);
        puts_(&o, head);
        put_hostname(&o, hostname);
        if (procid > 0)
                snprintf(num, sizeof num, " steward %" PRId64 " audit ", procid);
        else
                snprintf(num, sizeof num, " steward - audit ");
        puts_(&o, num);
        put_sd_and_msg(&o, r);
        buf[o.len] = '\0';
        return (int)o.len;
}

int syslog_local_format(const struct syslog_record *r, int facility, int64_t procid, char *buf,
                        size_t cap) {
        struct out o = {.buf = buf, .cap = SYSLOG5424_MAX};
        char head[64];

        if (!args_ok(r, facility, procid, buf, cap) || procid == 0)
                return -EINVAL;
        snprintf(head, sizeof head, "<%d>steward[%" PRId64 "]: ", pri(r, facility), procid);
        puts_(&o, head);
        put_sd_and_msg(&o, r);
        buf[o.len] = '\0';
        return (int)o.len;
}

const char *const syslog_facility_names[] = {
        "auth",   "authpriv", "daemon", "user",   "local0", "local1",
        "local2", "local3",   "local4", "local5", "local6", "local7",
        NULL,
};

int syslog_facility_number(unsigned index) {
        static const int numbers[] = {4, 10, 3, 1, 16, 17, 18, 19, 20, 21, 22, 23};

        return index < ELEMENTSOF(numbers) ? numbers[index] : SYSLOG_FACILITY_DEF;
}

/* Refuses what cannot name one receiver: the unspecified address
 * (0.0.0.0, ::), IPv4 broadcast (255.255.255.255) and multicast
 * (224.0.0.0/4, ff00::/8), also as IPv4-mapped IPv6. */
static bool unicast_address(const struct syslog_target *t) {
        static const unsigned char zero[16] = {0};
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const unsigned char *v4 = NULL;

        if (t->family == AF_INET)
                v4 = t->addr;
        else if (memcmp(t->addr, mapped, sizeof mapped) == 0)
                v4 = t->addr + 12;
        else
                return memcmp(t->addr, zero, 16) != 0 && t->addr[0] != 0xff;
        if (memcmp(v4, zero, 4) == 0 || (v4[0] & 0xf0) == 0xe0)
                return false;
        return !(v4[0] == 0xff && v4[1] == 0xff && v4[2] == 0xff && v4[3] == 0xff);
}

int syslog_target_parse(const char *s, struct syslog_target *ret) {
        struct syslog_target t = {0};
        char host[SYSLOG_TARGET_MAX_LEN + 1];
        const char *rest, *colon;
        size_t n;

        if (!s || strnlen(s, SYSLOG_TARGET_MAX_LEN + 1) > SYSLOG_TARGET_MAX_LEN)
                return -EINVAL;
        if (strcmp(s, "local") == 0) {
                t.transport = SYSLOG_LOCAL;
                if (ret)
                        *ret = t;
                return 0;
        }
        if (strncmp(s, "tcp://", 6) == 0)
                t.transport = SYSLOG_TCP;
        else if (strncmp(s, "udp://", 6) == 0)
                t.transport = SYSLOG_UDP;
        else if (strncmp(s, "tls://", 6) == 0)
                t.transport = SYSLOG_TLS;
        else
                return -EINVAL;
        rest = s + 6;
        colon = strrchr(rest, ':');
        if (!colon || port_parse(colon + 1, strlen(colon + 1), &t.port) < 0)
                return -EINVAL;
        n = (size_t)(colon - rest);
        if (n >= 2 && rest[0] == '[' && rest[n - 1] == ']') {
                memcpy(host, rest + 1, n - 2);
                host[n - 2] = '\0';
                t.family = AF_INET6;
        } else {
                memcpy(host, rest, n);
                host[n] = '\0';
                t.family = AF_INET;
        }
        /* inet_pton: dotted quads only for AF_INET (no "1", no octal). */
        if (host[0] == '\0' || inet_pton(t.family, host, t.addr) != 1)
                return -EINVAL;
        if (!unicast_address(&t))
                return -EINVAL;
        if (ret)
                *ret = t;
        return 0;
}

bool syslog_target_valid(const char *s) {
        return syslog_target_parse(s, NULL) >= 0;
}
