/* unitname.h — the grammars of what a client may name in the services
 * module: unit names, name patterns, unit types, and the values of the
 * drop-in settings (environment assignments).
 *
 * A unit name follows systemd's rules (unit_name_is_valid()), narrowed:
 * 1 to UNIT_NAME_MAX bytes of [A-Za-z0-9:_.@-] and "\xHH" escapes, a known
 * type suffix after the last '.', no leading '-', no "..", at most one '@'
 * (a template "foo@.service" or an instance "foo@bar.service").  Nothing that
 * passes can be a path, an option, or a bus path's escape.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define UNIT_NAME_MAX     255
#define UNIT_PATTERN_MAX  255
#define UNIT_ENV_MAX      32 /* Environment= assignments in a drop-in */
#define UNIT_ENV_KEY_MAX  64
#define UNIT_ENV_ITEM_MAX 320 /* KEY=VALUE */

/* The unit types systemd knows, "service" … "device"; NULL-terminated. */
extern const char *const unit_types[];
/* The types a listing shows unless asked for another. */
extern const char *const unit_list_types[];

/* The type of a valid name ("service"), or NULL when name is not one. */
const char *unit_name_type(const char *name);
bool unit_name_valid(const char *name);
/* Why name is not valid, for an error message ("…"); NULL if it is. */
const char *unit_name_problem(const char *name);
/* A name pattern for fnmatch(): the name's characters plus * ? [ ] !,
 * 1 to UNIT_PATTERN_MAX bytes, no '/', no leading '-'. */
bool unit_pattern_valid(const char *pattern);
bool unit_type_known(const char *type);
/* A unit file state word ("enabled", "masked-runtime"): [a-z-]{1,32}. */
bool unit_file_state_valid(const char *s);
/* KEY=VALUE for Environment=: KEY [A-Za-z_][A-Za-z0-9_]* (at most
 * UNIT_ENV_KEY_MAX), VALUE printable ASCII without '"', '\\', '$', '%',
 * '`' or ';' (nothing systemd would expand or unquote), the whole at most
 * UNIT_ENV_ITEM_MAX bytes. */
bool unit_env_valid(const char *assignment);
/* The D-Bus object path's last segment back to a unit name (systemd's
 * bus_label_unescape: "_2e" is '.'); -EINVAL for a name that is not valid. */
int unit_name_from_path(const char *path, char *ret, size_t size);
