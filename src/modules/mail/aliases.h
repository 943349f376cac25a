/* aliases.h — the parser and grammars behind the collection mail_aliases
 * (aliases.c), exposed for the unit tests. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ALIASES_MAX       4096 /* entries listed */
#define ALIAS_NAME_MAX    64
#define ALIAS_TARGETS_MAX 64
#define ALIAS_TARGET_MAX  320 /* local part 64, '@', domain 253, quotes */
#define ALIASES_FILE_MAX  (1u << 20)

/* One entry of /etc/aliases as written: its bytes are text[start, end)
 * (its first line to its last continuation line, newline included); the
 * name is text[name, name + name_len) without the quotes of a quoted name,
 * and text[start, colon] is the name as written with its ':'. */
struct alias_entry {
        size_t start, end;
        size_t name, name_len, colon;
        json_t *targets; /* strings, as written (trimmed) */
        bool editable;   /* no pipe, file or include target; the name is unique */
};

struct alias_file {
        struct alias_entry *entries;
        size_t n;
};

/* Parses aliases(5): `name: target, target`, lines that start with
 * whitespace continue an entry, lines whose first non-blank is '#' and blank
 * lines are comments, a name may be quoted ("a b": …), a target may be
 * quoted ("|cmd, with comma").  A line with no ':' is not an entry (its
 * bytes are kept as they are).  -E2BIG past ALIASES_MAX entries, -ENOMEM. */
int aliases_parse(const char *text, size_t len, struct alias_file *ret);
void alias_file_done(struct alias_file *f);
/* The first entry called name (case does not matter, as for postalias), and
 * how many there are. */
struct alias_entry *aliases_find(const struct alias_file *f, const char *text, const char *name,
                                 size_t *ret_count);

/* A target an alias may be given through the API: a local name
 * ([A-Za-z0-9_][A-Za-z0-9._+=-]*) or local@domain.  NULL when valid, else
 * what is wrong ("pipes to a command", "writes to a file", "includes a
 * list", or the grammar). */
const char *alias_target_problem(const char *s);
/* Whether a target as written pipes, writes to a file or includes. */
bool alias_target_special(const char *s, size_t n);
/* A name: [A-Za-z0-9][A-Za-z0-9._+-]{0,63}. */
bool alias_name_valid(const char *s);
