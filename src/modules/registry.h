/* registry.h — generic operations over module tables (registry.c), used by the
 * API layer and by modules that store their settings in files. */
#pragma once

#include "module.h"

/* The checks shared by settings and command arguments. */
struct value_rule {
        setting_type_t type;
        int64_t min, max;
        const char *const *choices;
        bool (*valid_string)(const char *s);
        int64_t item_max; /* STRING_ARRAY: longest item (0: 4096) */
};

/* The checks of a setting's row. */
struct value_rule setting_rule(const setting_def_t *d);

/* Checks v against rule; on failure fills e (422, `code`, field). */
int value_check(const struct value_rule *rule, const char *field, json_t *v, const char *code,
                struct module_error *e);

/* Turns a settings patch — flat ("a:b": v), nested ({"a": {"b": v}}) or
 * mixed — into a flat object keyed by schema key.  Unknown keys → 422
 * unknown_setting. */
int settings_flatten(const module_t *m, json_t *patch, json_t **ret, struct module_error *e);
/* The same over a table of rows; name is their owner's, for messages. */
int settings_rows_flatten(const char *name, const setting_def_t *rows, size_t n, json_t *patch,
                          json_t **ret, struct module_error *e);
const setting_def_t *settings_rows_find(const setting_def_t *rows, size_t n, const char *key);

/* From a flat patch and the current settings tree, the changes that really
 * change something, each validated against the schema.  Writing a read-only
 * key with its current value is accepted (a no-op); with another value it is
 * 422 read_only. */
int settings_changes(const module_t *m, json_t *flat, json_t *current, json_t **ret,
                     struct module_error *e);

/* Checks arguments against a table of them (what: "command", "action";
 * name: its name, for messages): args must be an object (else 400
 * bad_request), every member an argument of the table, of its type and
 * within its bounds, every required one present (else 422
 * invalid_argument naming the field). */
int args_check(const char *what, const char *name, const command_arg_t *table, size_t n,
               json_t *args, struct module_error *e);
/* A copy of args for an audit record or a log: the values of the table's
 * secret arguments replaced by "[redacted]" (NULL: out of memory). */
json_t *args_redacted(const command_arg_t *table, size_t n, json_t *args);
/* Checks a command's arguments (an object) against its schema. */
int command_check_args(const command_def_t *c, json_t *args, struct module_error *e);
/* Checks an action's arguments (an object) against its table. */
int collection_action_check_args(const collection_action_t *a, json_t *args,
                                 struct module_error *e);

/* The module's schema as JSON (GET …/schema). */
json_t *module_schema_json(const module_t *m);
/* A collection's schema as JSON (an item of the schema's
 * "collection_schemas"). */
json_t *collection_schema_json(const collection_def_t *c);

/* Event types (module.h): every module's, in module order, at most
 * EVENT_TYPES_MAX; a type's bit in a subscription mask is 1 << its place. */
#define EVENT_TYPES_MAX 32
size_t event_types_count(void);
const event_def_t *event_type_at(size_t index, const module_t **ret_module);
/* The bit of the type named by the len bytes at name; -ENOENT if none. */
int event_type_bit(const char *name, size_t len, unsigned *ret);
/* "sample,audit" → a mask; absent or empty: every type role may have.  400
 * (field "types") for an unknown or malformed list, 403 for a type above
 * role. */
int event_types_parse(const char *s, int role, unsigned *ret, struct module_error *e);
