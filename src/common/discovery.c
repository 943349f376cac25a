/* discovery.c — encoding and decoding of the discovery datagrams.
 *
 * The layout is in docs/discovery.md.  Readers go through a cursor that
 * never moves past the datagram's end; writers through one that never moves
 * past the caller's buffer.  Bad input is an error return: nothing here
 * asserts on a peer's bytes.
 */
#include "discovery.h"

#include <errno.h>
#include <string.h>

static bool printable_ascii(const char *s, size_t n, size_t max) {
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
                        return false;
        return true;
}

bool discovery_host_valid(const char *s, size_t n) {
        return printable_ascii(s, n, DISCOVERY_HOST_MAX);
}

bool discovery_version_valid(const char *s, size_t n) {
        return printable_ascii(s, n, DISCOVERY_VERSION_MAX);
}

bool discovery_fingerprint_valid(const char *s, size_t n) {
        if (n != DISCOVERY_FINGERPRINT_LEN || memcmp(s, "SHA256:", 7) != 0)
                return false;
        for (size_t i = 7; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

void discovery_host_sanitize(const char *s, char dst[DISCOVERY_HOST_MAX + 1]) {
        size_t n = strnlen(s, DISCOVERY_HOST_MAX);

        if (n == 0) {
                memcpy(dst, "localhost", sizeof "localhost");
                return;
        }
        for (size_t i = 0; i < n; i++)
                dst[i] = (unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ? '-' : s[i];
        dst[n] = '\0';
}

/* --- writing --- */

struct writer {
        uint8_t *p;
        size_t len, cap;
        bool overflow;
};

static void put(struct writer *w, const void *src, size_t n) {
        if (w->overflow || n > w->cap - w->len) {
                w->overflow = true;
                return;
        }
        memcpy(w->p + w->len, src, n);
        w->len += n;
}

static void put_u8(struct writer *w, uint8_t v) {
        put(w, &v, 1);
}

static void put_u16(struct writer *w, uint16_t v) {
        uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
        put(w, b, 2);
}

static void put_header(struct writer *w, uint8_t type, uint16_t flags, const uint8_t *nonce) {
        put(w, DISCOVERY_MAGIC, DISCOVERY_MAGIC_LEN);
        put_u8(w, DISCOVERY_VERSION);
        put_u8(w, type);
        put_u16(w, flags);
        put(w, nonce, DISCOVERY_NONCE_LEN);
}

static void put_tlv(struct writer *w, uint8_t type, const char *s) {
        size_t n = strlen(s);

        put_u8(w, type);
        put_u8(w, (uint8_t)n); /* callers checked n <= 255 through the field grammars */
        put(w, s, n);
}

int discovery_request_build(const struct discovery_request *req, uint8_t *buf, size_t cap,
                            size_t *ret_len) {
        struct writer w = {buf, 0, cap, false};

        if (req->size < DISCOVERY_REQUEST_MIN || req->size > DISCOVERY_DATAGRAM_MAX)
                return -EINVAL;
        if (cap < req->size)
                return -ENOBUFS;
        put_header(&w, DISCOVERY_TYPE_REQUEST, req->flags, req->nonce);
        if (w.overflow)
                return -ENOBUFS;
        memset(buf + w.len, 0, req->size - w.len);
        *ret_len = req->size;
        return 0;
}

int discovery_answer_build(const struct discovery_answer *a, uint8_t *buf, size_t cap,
                           size_t *ret_len) {
        struct writer w = {buf, 0, cap, false};

        if (a->port == 0 || !discovery_host_valid(a->host, strnlen(a->host, sizeof a->host)) ||
            !discovery_version_valid(a->version, strnlen(a->version, sizeof a->version)) ||
            !discovery_fingerprint_valid(a->fingerprint,
                                         strnlen(a->fingerprint, sizeof a->fingerprint)))
                return -EINVAL;
        put_header(&w, DISCOVERY_TYPE_ANSWER, a->flags, a->nonce);
        put_u16(&w, a->port);
        put_tlv(&w, DISCOVERY_TLV_HOST, a->host);
        put_tlv(&w, DISCOVERY_TLV_VERSION, a->version);
        put_tlv(&w, DISCOVERY_TLV_FINGERPRINT, a->fingerprint);
        if (w.overflow)
                return -ENOBUFS;
        *ret_len = w.len;
        return 0;
}

/* --- reading --- */

struct reader {
        const uint8_t *p;
        size_t len, off;
};

static bool get(struct reader *r, void *dst, size_t n) {
        if (n > r->len - r->off)
                return false;
        memcpy(dst, r->p + r->off, n);
        r->off += n;
        return true;
}

static bool get_u8(struct reader *r, uint8_t *v) {
        return get(r, v, 1);
}

static bool get_u16(struct reader *r, uint16_t *v) {
        uint8_t b[2];

        if (!get(r, b, 2))
                return false;
        *v = (uint16_t)(b[0] << 8 | b[1]);
        return true;
}

/* Magic, version, type, flags and nonce. */
static int get_header(struct reader *r, uint8_t want_type, uint16_t *flags, uint8_t *nonce) {
        uint8_t magic[DISCOVERY_MAGIC_LEN], version, type;

        if (!get(r, magic, sizeof magic) || !get_u8(r, &version) || !get_u8(r, &type) ||
            !get_u16(r, flags) || !get(r, nonce, DISCOVERY_NONCE_LEN))
                return -EMSGSIZE;
        if (memcmp(magic, DISCOVERY_MAGIC, DISCOVERY_MAGIC_LEN) != 0)
                return -EBADMSG;
        if (version != DISCOVERY_VERSION)
                return -EPROTONOSUPPORT;
        if (type != want_type)
                return -EPROTOTYPE;
        return 0;
}

int discovery_request_parse(const uint8_t *p, size_t n, struct discovery_request *ret) {
        struct reader r = {p, n, 0};
        struct discovery_request req = {.size = n};
        int e;

        if (n < DISCOVERY_REQUEST_MIN || n > DISCOVERY_DATAGRAM_MAX)
                return -EMSGSIZE;
        e = get_header(&r, DISCOVERY_TYPE_REQUEST, &req.flags, req.nonce);
        if (e < 0)
                return e;
        for (size_t i = r.off; i < n; i++)
                if (p[i] != 0)
                        return -EBADMSG;
        *ret = req;
        return 0;
}

int discovery_answer_parse(const uint8_t *p, size_t n, struct discovery_answer *ret) {
        struct reader r = {p, n, 0};
        struct discovery_answer a = {0};
        bool have_host = false, have_version = false, have_fp = false;
        int e;

        if (n > DISCOVERY_DATAGRAM_MAX)
                return -EMSGSIZE;
        e = get_header(&r, DISCOVERY_TYPE_ANSWER, &a.flags, a.nonce);
        if (e < 0)
                return e;
        if (!get_u16(&r, &a.port))
                return -EMSGSIZE;
        if (a.port == 0)
                return -EBADMSG;
        while (r.off < r.len) {
                uint8_t type, len;
                char value[256];

                if (!get_u8(&r, &type) || !get_u8(&r, &len) || !get(&r, value, len))
                        return -EBADMSG;
                switch (type) {
                case DISCOVERY_TLV_HOST:
                        if (have_host || !discovery_host_valid(value, len))
                                return -EBADMSG;
                        memcpy(a.host, value, len);
                        a.host[len] = '\0';
                        have_host = true;
                        break;
                case DISCOVERY_TLV_VERSION:
                        if (have_version || !discovery_version_valid(value, len))
                                return -EBADMSG;
                        memcpy(a.version, value, len);
                        a.version[len] = '\0';
                        have_version = true;
                        break;
                case DISCOVERY_TLV_FINGERPRINT:
                        if (have_fp || !discovery_fingerprint_valid(value, len))
                                return -EBADMSG;
                        memcpy(a.fingerprint, value, len);
                        a.fingerprint[len] = '\0';
                        have_fp = true;
                        break;
                default: /* a field this version does not know */
                        break;
                }
        }
        if (!have_host || !have_version || !have_fp)
                return -EBADMSG;
        *ret = a;
        return 0;
}
