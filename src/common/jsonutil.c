/* jsonutil.c — see jsonutil.h.
 *
 * The depth scan runs before jansson sees a body: jansson's own limit is a
 * compile-time 2048 levels, far more than any request needs, and we want the
 * limit to be a setting with its own error code. */
#include "jsonutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int json_scan_depth(const char *buf, size_t n, int stop_at) {
        int depth = 0, max = 0;
        bool in_string = false;

        for (size_t i = 0; i < n; i++) {
                char c = buf[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                switch (c) {
                case '"':
                        in_string = true;
                        break;
                case '[':
                case '{':
                        if (++depth > max) {
                                max = depth;
                                if (max > stop_at)
                                        return max;
                        }
                        break;
                case ']':
                case '}':
                        if (--depth < 0)
                                return -EINVAL;
                        break;
                default:
                        break;
                }
        }
        return max;
}

int json_parse_body(const char *buf, size_t n, int max_depth, json_t **ret, char *code,
                    size_t code_len, char *message, size_t message_len) {
        json_error_t jerr;
        json_t *v;
        int depth;

        depth = json_scan_depth(buf, n, max_depth);
        if (depth > max_depth) {
                snprintf(code, code_len, "json_too_deep");
                snprintf(message, message_len, "JSON nesting deeper than %d levels", max_depth);
                return -E2BIG;
        }
        if (!utf8_valid(buf, n)) {
                snprintf(code, code_len, "invalid_json");
                snprintf(message, message_len, "body is not valid UTF-8");
                return -EINVAL;
        }
        v = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!v) {
                snprintf(code, code_len, "invalid_json");
                snprintf(message, message_len, "invalid JSON at line %d, column %d: %s", jerr.line,
                         jerr.column, jerr.text);
                return -EINVAL;
        }
        if (!json_is_object(v)) {
                json_decref(v);
                snprintf(code, code_len, "invalid_json");
                snprintf(message, message_len, "the body must be a JSON object");
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int json_tree_set(json_t *tree, const char *path, json_t *value) {
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL, *comp, *next;
        json_t *node = tree;

        if (!copy) {
                json_decref(value);
                return -ENOMEM;
        }
        comp = strtok_r(copy, ":", &save);
        while (comp) {
                next = strtok_r(NULL, ":", &save);
                if (!next)
                        return json_object_set_new(node, comp, value) < 0 ? -ENOMEM : 0;
                json_t *child = json_object_get(node, comp);
                if (!child) {
                        child = json_object();
                        if (!child || json_object_set_new(node, comp, child) < 0) {
                                json_decref(value);
                                return -ENOMEM;
                        }
                } else if (!json_is_object(child)) {
                        json_decref(value);
                        return -EEXIST;
                }
                node = child;
                comp = next;
        }
        json_decref(value);
        return -EINVAL;
}

json_t *json_tree_get(json_t *tree, const char *path) {
        const char *p = path;
        json_t *node = tree;

        while (node && *p) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t)(colon - p) : strlen(p);
                if (!json_is_object(node))
                        return NULL;
                node = json_object_getn(node, p, len);
                p += len;
                if (*p == ':')
                        p++;
        }
        return node;
}

/* ---- the compact encoder ---------------------------------------------
 *
 * The same text as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) (objects in
 * insertion order, the same escapes: \" \\ \b \f \n \r \t and \u00XX
 * for the other control characters, UTF-8 copied as it is), written into
 * one growing buffer.  jansson's own encoder checks every container for a
 * loop through a hash table keyed by a printf'ed pointer and appends string
 * pieces a character at a time; on a listing of thousands of records that
 * was 40% of the front's time for the request.  Here a tree nested deeper
 * than JSON_ENCODE_MAX_DEPTH (jansson's own parse limit), which is also how
 * a loop would show, and a string that is not UTF-8 fail the encoding, as
 * they fail jansson's.  Reals are formatted by jansson itself. */

#define JSON_ENCODE_MAX_DEPTH 2048

struct jbuf {
        char *p;
        size_t len, cap;
};

static int jbuf_reserve(struct jbuf *b, size_t more) {
        size_t cap;
        char *q;

        if (more <= b->cap - b->len)
                return 0;
        if (more > SIZE_MAX / 2 - b->len)
                return -ENOMEM;
        cap = b->cap ? b->cap : 256;
        while (cap - b->len < more)
                cap *= 2;
        q = realloc(b->p, cap);
        if (!q)
                return -ENOMEM;
        b->p = q;
        b->cap = cap;
        return 0;
}

static int jbuf_put(struct jbuf *b, const char *s, size_t n) {
        int r = jbuf_reserve(b, n);

        if (r < 0)
                return r;
        memcpy(b->p + b->len, s, n);
        b->len += n;
        return 0;
}

static int encode_string(struct jbuf *b, const char *s, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        int r;

        /* at most 6 bytes out for one in, plus the quotes */
        if (n > (SIZE_MAX - 2) / 6)
                return -ENOMEM;
        r = jbuf_reserve(b, 6 * n + 2);
        if (r < 0)
                return r;
        char *o = b->p + b->len;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x80) {
                        size_t k = utf8_char_len((const unsigned char *)s + i, n - i);
                        if (k == 0)
                                return -EINVAL; /* jansson refuses it too */
                        memcpy(o, s + i, k);
                        o += k;
                        i += k - 1;
                        continue;
                }
                if (c >= 0x20 && c != '"' && c != '\\') {
                        *o++ = (char)c;
                        continue;
                }
                *o++ = '\\';
                switch (c) {
                case '"':
                case '\\':
                        *o++ = (char)c;
                        break;
                case '\b':
                        *o++ = 'b';
                        break;
                case '\f':
                        *o++ = 'f';
                        break;
                case '\n':
                        *o++ = 'n';
                        break;
                case '\r':
                        *o++ = 'r';
                        break;
                case '\t':
                        *o++ = 't';
                        break;
                default:
                        *o++ = 'u';
                        *o++ = '0';
                        *o++ = '0';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o++ = '"';
        b->len = (size_t)(o - b->p);
        return 0;
}

static int encode_scalar(struct jbuf *b, json_t *v, size_t real_flags) {
        char num[32];
        int w;

        switch (json_typeof(v)) {
        case JSON_STRING:
                return encode_string(b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                w = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return w > 0 && (size_t)w < sizeof num ? jbuf_put(b, num, (size_t)w) : -EINVAL;
        case JSON_REAL: {
                _cleanup_free_ char *t = json_dumps(v, JSON_ENCODE_ANY | real_flags);
                return t ? jbuf_put(b, t, strlen(t)) : -EINVAL;
        }
        case JSON_TRUE:
                return jbuf_put(b, "true", 4);
        case JSON_FALSE:
                return jbuf_put(b, "false", 5);
        case JSON_NULL:
                return jbuf_put(b, "null", 4);
        default:
                return -EINVAL;
        }
}

static int encode_value(struct jbuf *b, json_t *v, size_t real_flags, unsigned depth) {
        const char *key;
        json_t *x;
        size_t i, key_len;
        bool first = true;
        int r;

        if (json_is_object(v) || json_is_array(v)) {
                if (depth >= JSON_ENCODE_MAX_DEPTH)
                        return -ELOOP;
        } else
                return encode_scalar(b, v, real_flags);
        if (json_is_array(v)) {
                r = jbuf_put(b, "[", 1);
                json_array_foreach(v, i, x) {
                        if (r >= 0 && !first)
                                r = jbuf_put(b, ",", 1);
                        if (r >= 0)
                                r = encode_value(b, x, real_flags, depth + 1);
                        if (r < 0)
                                return r;
                        first = false;
                }
                return r < 0 ? r : jbuf_put(b, "]", 1);
        }
        r = jbuf_put(b, "{", 1);
        /* A key's real length: it may hold a NUL (escaped as \u0000). */
        json_object_keylen_foreach(v, key, key_len, x) {
                if (r >= 0 && !first)
                        r = jbuf_put(b, ",", 1);
                if (r >= 0)
                        r = encode_string(b, key, key_len);
                if (r >= 0)
                        r = jbuf_put(b, ":", 1);
                if (r >= 0)
                        r = encode_value(b, x, real_flags, depth + 1);
                if (r < 0)
                        return r;
                first = false;
        }
        return r < 0 ? r : jbuf_put(b, "}", 1);
}

char *json_encode_compact(json_t *v, size_t real_flags, bool newline, size_t *ret_len) {
        struct jbuf b = {0};
        int r;

        if (!v)
                return NULL;
        r = encode_value(&b, v, real_flags, 0);
        if (r >= 0)
                r = jbuf_put(&b, "\n", newline ? 2 : 1); /* the newline and/or the NUL */
        if (r < 0) {
                free(b.p);
                return NULL;
        }
        b.p[b.len - 1] = '\0';
        if (newline)
                b.p[b.len - 2] = '\n';
        if (ret_len)
                *ret_len = b.len - 1;
        return b.p;
}

char *json_dump_compact(json_t *v, size_t *ret_len) {
        return json_encode_compact(v, JSON_REAL_PRECISION(15), true, ret_len);
}
