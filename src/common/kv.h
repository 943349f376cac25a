/* kv.h — the settings grammar shared by the CLI, the API and the config file.
 *
 * One assignment per line, in the style of serveradmin:
 *
 *     stewardd:limits:max_connections = 256
 *     stewardd:log_level = "info"
 *     stewardd:auth:admin_groups:_array_index:1 = "steward-admin"
 *     stewardd:feature = yes
 *     stewardd:list = _empty_array
 *
 * Paths are components joined by ':'; a component matches [A-Za-z0-9_.-]{1,64}
 * and does not start with '.'.  `_array_index:N` (N a decimal without leading
 * zeros) addresses an array element.  Values: a JSON-style double-quoted
 * string (escapes \" \\ \/ \b \f \n \r \t \uXXXX, no raw control bytes, valid
 * UTF-8), an integer or decimal number, `yes`/`no`, `_empty_array`,
 * `_empty_dictionary`.  Blank lines and lines starting with '#' are ignored.
 *
 * kv_parse() builds one nested JSON tree from all lines: paths become nested
 * objects, `_array_index` elements become arrays (indices must be 0..n-1, each
 * exactly once).  A path assigned twice, or assigned both as a leaf and as a
 * parent, is an error.  kv_format() is the inverse: formatting a tree and
 * parsing the text gives back an equal tree (the round trip the CLI relies on).
 *
 * Limits: a line is at most KV_MAX_LINE bytes, a text at most KV_MAX_LINES
 * lines, a path at most KV_MAX_DEPTH components, an index at most
 * KV_MAX_INDEX.  Every rejection says which line and column and why.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KV_MAX_LINE      16384
#define KV_MAX_LINES     10000
#define KV_MAX_DEPTH     16
#define KV_MAX_INDEX     9999
#define KV_MAX_COMPONENT 64

struct kv_error {
        unsigned line;   /* 1-based; 0 when not tied to a line */
        unsigned column; /* 1-based; 0 when not tied to a column */
        char message[256];
};

/* True if s[0..n) is a valid path component (not `_array_index`). */
bool kv_valid_component(const char *s, size_t n);

/* Parses one value ("\"x\"", "42", "yes", …) of exactly n bytes. */
int kv_parse_value(const char *s, size_t n, json_t **ret, struct kv_error *e);

/* Parses a whole text into a tree.  Returns 0, or -EINVAL (-E2BIG for a text
 * over the limits) with *e filled. */
int kv_parse(const char *text, size_t n, json_t **ret, struct kv_error *e);

/* Formats tree as lines "PREFIX:KEY… = VALUE\n".  prefix may be NULL or "" for
 * none (the config file).  Returns a malloc'ed NUL-terminated string. */
int kv_format(const char *prefix, json_t *tree, char **ret);

/* Formats one scalar value (string quoted and escaped, numbers bare,
 * yes/no, _empty_array, _empty_dictionary) into a malloc'ed string. */
int kv_format_value(json_t *v, char **ret);
