/* jsonutil.h — JSON helpers around jansson: bounded parsing of request
 * bodies, and tree/path helpers shared by the API and the modules. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Maximum nesting depth of arrays/objects in buf[0..n), scanning strings
 * correctly; returns the depth, or -EINVAL when brackets don't balance
 * (jansson reports the details later). Stops early past `stop_at`. */
int json_scan_depth(const char *buf, size_t n, int stop_at);

/* Parses a request body: must be valid UTF-8 JSON, an object at the top, no
 * duplicate keys, nesting at most max_depth.  On failure fills code/message
 * ("invalid_json" or "json_too_deep") and returns -EINVAL or -E2BIG. */
int json_parse_body(const char *buf, size_t n, int max_depth, json_t **ret, char *code,
                    size_t code_len, char *message, size_t message_len);

/* Sets tree[c1][c2]… = value (stealing value), creating objects on the way;
 * path is colon-separated. */
int json_tree_set(json_t *tree, const char *path, json_t *value);
/* Looks up a colon-separated path in a tree; NULL if absent. Borrowed. */
json_t *json_tree_get(json_t *tree, const char *path);

/* json_dumps with a trailing newline and compact form; malloc'ed. */
char *json_dump_compact(json_t *v, size_t *ret_len);
/* The text of json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | real_flags)
 * (real_flags: JSON_REAL_PRECISION(n) or 0), with a trailing newline when
 * asked, from an encoder of our own that is several times faster on large
 * trees; NULL on a string that is not UTF-8, a tree nested deeper than 2048
 * levels (a loop) or no memory.  *ret_len (optional) excludes the NUL. */
char *json_encode_compact(json_t *v, size_t real_flags, bool newline, size_t *ret_len);
