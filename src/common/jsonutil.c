/* jsonutil.c — see jsonutil.h.
 *
 * The depth scan runs before jansson sees a body: jansson's own limit is a
 * compile-time 2048 levels, far more than any request needs, and we want the
 * limit to be a setting with its own error code. */
#include "jsonutil.h"

#include <errno.h>
#include <stdio.h>
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

char *json_dump_compact(json_t *v, size_t *ret_len) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        size_t len;
        char *t;

        if (!s)
                return NULL;
        len = strlen(s);
        t = realloc(s, len + 2);
        if (!t) {
                free(s);
                return NULL;
        }
        t[len] = '\n';
        t[len + 1] = '\0';
        if (ret_len)
                *ret_len = len + 1;
        return t;
}
