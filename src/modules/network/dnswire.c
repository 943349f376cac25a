/* dnswire.c — DNS messages: a query built, an answer decoded.
 *
 * dns_query_build() writes one question (RD set) with an EDNS0 OPT record
 * offering DNS_UDP_SIZE bytes.  dns_answer_decode() turns an answer's bytes
 * into JSON: the rcode, the flags, and the answer and authority sections,
 * each record {"name", "type", "ttl", "data"} with data as dig prints it
 * and typed members for MX, SRV, SOA and CAA.  It is a pure function on
 * bytes that a remote server chose: every length is checked against the
 * message's end and the record's rdlength, names are expanded with glibc's
 * dn_expand() bounded by the message, at most DNS_RR_MAX records of a
 * section are decoded, and text is escaped as dig escapes it (\" \\ and
 * \DDD for bytes outside printable ASCII), so the JSON holds only what may
 * be shown.  A type it does not know is shown in RFC 3597's generic form
 * ("\# 4 0a000001").
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

#include "modules/network/dnswire.h"
#include "util.h"

#define DNS_RR_MAX 100
/* The text of one record at worst: every byte of a 64 KiB rdata as \DDD. */
#define DNS_TEXT_MAX (4u * 65536u + 64u)
/* The text of one character-string (255 bytes) at worst, quoted. */
#define DNS_STRING_TEXT_MAX (4u * 255u + 3u)

static const struct {
        const char *name;
        uint16_t type;
} types[] = {
        {"A", 1},      {"NS", 2},    {"CNAME", 5},   {"SOA", 6},   {"PTR", 12},   {"MX", 15},
        {"TXT", 16},   {"AAAA", 28}, {"SRV", 33},    {"OPT", 41},  {"DNAME", 39}, {"DS", 43},
        {"RRSIG", 46}, {"NSEC", 47}, {"DNSKEY", 48}, {"CAA", 257},
};

int dns_type_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (STREQ(types[i].name, name))
                        return types[i].type;
        return -EINVAL;
}

static void type_name(uint16_t t, char *buf, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (types[i].type == t) {
                        snprintf(buf, len, "%s", types[i].name);
                        return;
                }
        snprintf(buf, len, "TYPE%u", (unsigned)t);
}

const char *dns_rcode_name(int rcode) {
        static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                            "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                            "NXRRSET", "NOTAUTH", "NOTZONE"};
        return rcode >= 0 && (size_t)rcode < ELEMENTSOF(names) ? names[rcode] : NULL;
}

/* ---- the query --------------------------------------------------------------------- */

int dns_query_build(uint16_t id, const char *name, uint16_t type, uint8_t *buf, size_t cap,
                    size_t *ret_len) {
        size_t n = 12, len = strlen(name);
        const char *p = name;

        if (cap < 12 + len + 2 + 4 + 11 || len > 253 + 1)
                return -ENOBUFS;
        memset(buf, 0, 12);
        buf[0] = (uint8_t)(id >> 8), buf[1] = (uint8_t)id;
        buf[2] = 0x01; /* RD */
        buf[5] = 1;    /* one question */
        buf[11] = 1;   /* one additional: OPT */
        while (*p) {   /* labels; "." and a final dot end it */
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                if (l == 0 && dot && p == name && dot[1] == '\0')
                        break; /* the root itself */
                if (l == 0 || l > 63)
                        return -EINVAL;
                buf[n++] = (uint8_t)l;
                memcpy(buf + n, p, l);
                n += l;
                p += l + (dot ? 1 : 0);
        }
        buf[n++] = 0;
        buf[n++] = (uint8_t)(type >> 8), buf[n++] = (uint8_t)type;
        buf[n++] = 0, buf[n++] = 1; /* IN */
        /* OPT: root name, type 41, class = our UDP size, ttl 0, no data */
        const uint8_t opt[11] = {0, 0, 41, DNS_UDP_SIZE >> 8, DNS_UDP_SIZE & 0xff, 0, 0, 0,
                                 0, 0, 0};
        memcpy(buf + n, opt, sizeof opt);
        n += sizeof opt;
        *ret_len = n;
        return 0;
}

/* ---- the answer -------------------------------------------------------------------- */

struct msg {
        const uint8_t *p;
        size_t len;
};

static uint16_t get16(const uint8_t *p) {
        return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The name at off as text with its final dot ("." for the root); *ret_next
 * past it.  -EBADMSG if it does not expand within the message. */
static int name_at(const struct msg *m, size_t off, size_t *ret_next, char *buf, size_t len) {
        char tmp[NS_MAXDNAME];
        int k;

        if (off >= m->len)
                return -EBADMSG;
        k = dn_expand(m->p, m->p + m->len, m->p + off, tmp, sizeof tmp);
        if (k < 0)
                return -EBADMSG;
        /* dn_expand escapes dots and odd bytes inside labels (\. \DDD) */
        if (tmp[0] == '\0')
                snprintf(buf, len, ".");
        else if ((size_t)snprintf(buf, len, "%s.", tmp) >= len)
                return -EBADMSG;
        *ret_next = off + (size_t)k;
        return 0;
}

/* A character-string as dig shows it: quoted, with \" \\ and \DDD. */
static int text_quoted(struct buf *b, const uint8_t *p, size_t n) {
        int r = buf_puts(b, "\"");
        for (size_t i = 0; i < n && r >= 0; i++) {
                uint8_t c = p[i];
                if (c == '"' || c == '\\')
                        r = buf_printf(b, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        r = buf_printf(b, "\\%03u", c);
                else
                        r = buf_append(b, &p[i], 1);
        }
        return r < 0 ? r : buf_puts(b, "\"");
}

static int rdata_generic(struct buf *b, const uint8_t *p, size_t n) {
        int r = buf_printf(b, "\\# %zu ", n);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = buf_printf(b, "%02x", p[i]);
        return r;
}

/* One record's rdata: its text into b and its typed members into o. */
static int rdata_decode(const struct msg *m, uint16_t type, size_t off, size_t rdlen, struct buf *b,
                        json_t *o) {
        const uint8_t *p = m->p + off;
        char n1[NS_MAXDNAME + 2], n2[NS_MAXDNAME + 2], a[INET6_ADDRSTRLEN];
        size_t next, end = off + rdlen;

        switch (type) {
        case 1:
        case 28:
                if (rdlen != (type == 1 ? 4u : 16u))
                        return -EBADMSG;
                inet_ntop(type == 1 ? AF_INET : AF_INET6, p, a, sizeof a);
                return buf_puts(b, a);
        case 2:
        case 5:
        case 12:
        case 39:
                if (name_at(m, off, &next, n1, sizeof n1) < 0 || next != end)
                        return -EBADMSG;
                return buf_puts(b, n1);
        case 15:
                if (rdlen < 3 || name_at(m, off + 2, &next, n1, sizeof n1) < 0 || next != end)
                        return -EBADMSG;
                json_object_set_new(o, "preference", json_integer(get16(p)));
                json_object_set_new(o, "exchange", json_string(n1));
                return buf_printf(b, "%u %s", get16(p), n1);
        case 33:
                if (rdlen < 7 || name_at(m, off + 6, &next, n1, sizeof n1) < 0 || next != end)
                        return -EBADMSG;
                json_object_set_new(o, "priority", json_integer(get16(p)));
                json_object_set_new(o, "weight", json_integer(get16(p + 2)));
                json_object_set_new(o, "port", json_integer(get16(p + 4)));
                json_object_set_new(o, "target", json_string(n1));
                return buf_printf(b, "%u %u %u %s", get16(p), get16(p + 2), get16(p + 4), n1);
        case 6: {
                size_t mid;
                if (name_at(m, off, &mid, n1, sizeof n1) < 0 ||
                    name_at(m, mid, &next, n2, sizeof n2) < 0 || next + 20 != end)
                        return -EBADMSG;
                const uint8_t *q = m->p + next;
                json_object_set_new(o, "mname", json_string(n1));
                json_object_set_new(o, "rname", json_string(n2));
                json_object_set_new(o, "serial", json_integer(get32(q)));
                json_object_set_new(o, "refresh", json_integer(get32(q + 4)));
                json_object_set_new(o, "retry", json_integer(get32(q + 8)));
                json_object_set_new(o, "expire", json_integer(get32(q + 12)));
                json_object_set_new(o, "minimum", json_integer(get32(q + 16)));
                return buf_printf(b, "%s %s %u %u %u %u %u", n1, n2, get32(q), get32(q + 4),
                                  get32(q + 8), get32(q + 12), get32(q + 16));
        }
        case 16: {
                json_t *strings = json_array();
                int r = strings ? 0 : -ENOMEM;
                for (size_t i = 0; i < rdlen && r >= 0;) {
                        size_t l = p[i];
                        struct buf one;
                        if (i + 1 + l > rdlen) {
                                r = -EBADMSG;
                                break;
                        }
                        buf_init(&one, DNS_STRING_TEXT_MAX);
                        r = text_quoted(&one, p + i + 1, l);
                        if (r >= 0 && i > 0)
                                r = buf_puts(b, " ");
                        if (r >= 0)
                                r = buf_puts(b, one.data);
                        if (r >= 0) { /* the string without its quotes */
                                one.data[one.len - 1] = '\0';
                                json_array_append_new(strings, json_string(one.data + 1));
                        }
                        buf_free(&one);
                        i += 1 + l;
                }
                if (r >= 0)
                        json_object_set(o, "strings", strings);
                json_decref(strings);
                return r;
        }
        case 257: {
                size_t tl = rdlen >= 2 ? p[1] : 0;
                if (rdlen < 2 || tl == 0 || 2 + tl > rdlen)
                        return -EBADMSG;
                struct buf tag, val;
                buf_init(&tag, DNS_STRING_TEXT_MAX);
                buf_init(&val, DNS_TEXT_MAX);
                int r = text_quoted(&tag, p + 2, tl);
                if (r >= 0)
                        r = text_quoted(&val, p + 2 + tl, rdlen - 2 - tl);
                if (r >= 0) {
                        /* the tag without its quotes: [A-Za-z0-9] by RFC 8659, escaped else */
                        tag.data[tag.len - 1] = '\0';
                        json_object_set_new(o, "flags", json_integer(p[0]));
                        json_object_set_new(o, "tag", json_string(tag.data + 1));
                        val.data[val.len - 1] = '\0';
                        json_object_set_new(o, "value", json_string(val.data + 1));
                        val.data[val.len - 1] = '"';
                        r = buf_printf(b, "%u %s %s", p[0], tag.data + 1, val.data);
                }
                buf_free(&tag);
                buf_free(&val);
                return r;
        }
        default:
                return rdata_generic(b, p, rdlen);
        }
}

/* One record at *off into an object; *off past it. */
static int rr_decode(const struct msg *m, size_t *off, json_t **ret) {
        char name[NS_MAXDNAME + 2], tname[16];
        size_t p;
        struct buf b;
        json_t *o;
        int r;

        if (name_at(m, *off, &p, name, sizeof name) < 0 || p + 10 > m->len)
                return -EBADMSG;
        uint16_t type = get16(m->p + p), rdlen = get16(m->p + p + 8);
        uint32_t ttl = get32(m->p + p + 4);
        if (p + 10 + rdlen > m->len)
                return -EBADMSG;
        type_name(type, tname, sizeof tname);
        o = json_pack("{s:s, s:s, s:I}", "name", name, "type", tname, "ttl", (json_int_t)ttl);
        if (!o)
                return -ENOMEM;
        buf_init(&b, DNS_TEXT_MAX);
        r = rdata_decode(m, type, p + 10, rdlen, &b, o);
        if (r >= 0)
                r = json_object_set_new(o, "data", json_string(b.data ? b.data : "")) < 0 ? -ENOMEM
                                                                                          : 0;
        buf_free(&b);
        if (r < 0) {
                json_decref(o);
                return r;
        }
        *off = p + 10 + rdlen;
        *ret = o;
        return 0;
}

static int section_decode(const struct msg *m, size_t *off, unsigned count, json_t *list) {
        for (unsigned i = 0; i < count; i++) {
                json_t *rr;
                int r = rr_decode(m, off, &rr);
                if (r < 0)
                        return r;
                if (json_array_size(list) < DNS_RR_MAX)
                        json_array_append_new(list, rr);
                else
                        json_decref(rr);
        }
        return 0;
}

int dns_answer_decode(const uint8_t *msg, size_t len, json_t **ret) {
        struct msg m = {msg, len};
        size_t off = 12;
        char name[NS_MAXDNAME + 2], rc[16];
        _cleanup_(json_decrefp) json_t *answers = json_array(), *authority = json_array();
        int r;

        if (len < 12 || len > 65535)
                return -EBADMSG;
        if (!answers || !authority)
                return -ENOMEM;
        unsigned qd = get16(msg + 4), an = get16(msg + 6), ns = get16(msg + 8);
        for (unsigned i = 0; i < qd; i++) {
                if (name_at(&m, off, &off, name, sizeof name) < 0 || off + 4 > len)
                        return -EBADMSG;
                off += 4;
        }
        r = section_decode(&m, &off, an, answers);
        if (r >= 0)
                r = section_decode(&m, &off, ns, authority);
        if (r < 0)
                return r;
        int rcode = msg[3] & 0x0f;
        const char *rn = dns_rcode_name(rcode);
        if (!rn)
                snprintf(rc, sizeof rc, "RCODE%d", rcode);
        *ret = json_pack("{s:i, s:s, s:{s:b, s:b, s:b, s:b, s:b}, s:O, s:O}", "id", get16(msg),
                         "rcode", rn ? rn : rc, "flags", "qr", (msg[2] & 0x80) != 0, "aa",
                         (msg[2] & 0x04) != 0, "tc", (msg[2] & 0x02) != 0, "rd",
                         (msg[2] & 0x01) != 0, "ra", (msg[3] & 0x80) != 0, "answers", answers,
                         "authority", authority);
        return *ret ? 0 : -ENOMEM;
}
