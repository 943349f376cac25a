/* settingsfile.h — the one backend of settings kept in a kv file
 * (settingsfile.c): a module declares a settings_file_t (module.h) and the
 * registry does the rest.  module.h's module_settings_*() and
 * module_config_get() reach these for a module with a settings file; the
 * daemon's own configuration (common/config.c) uses them directly.
 *
 * Locks: one mutex serialises every read-modify-write of every settings
 * file (apply, load); another guards the live structs and is held only to
 * copy one in or out, so a request thread never waits for a disk write.
 */
#pragma once

#include <stddef.h>

#include "module.h"

/* The --config file's path: the daemon's own file, and the directory every
 * other settings file lives in.  Set once at start, before any thread. */
int settings_config_path_set(const char *path);
const char *settings_config_path(void);

/* Checks that f's rows and its struct agree: each row's field fits in the
 * struct and has the size its type needs, no two fields overlap, keys are
 * unique, bounds fit the field, and every default passes the row's own
 * checks.  -EINVAL with the reason in err: a programming error, found at
 * start-up (modules_check()) and by the unit tests. */
int settings_file_check(const settings_file_t *f, char *err, size_t err_len);

/* Fills *ret (f->size bytes) with the rows' defaults. */
void settings_file_defaults(const settings_file_t *f, void *ret);

/* A copy of the live struct (the defaults until a file was read).  size
 * must be f->size. */
void settings_file_get(const settings_file_t *f, void *ret, size_t size);

/* Parses text (the file at path) into *ret without touching the live
 * struct: missing keys keep their defaults.  -EINVAL with "PATH:LINE: …"
 * or "PATH: KEY: …" in err. */
int settings_file_parse(const settings_file_t *f, const char *text, size_t len, const char *path,
                        void *ret, char *err, size_t err_len);

/* Reads and parses the file as it is now, into *ret if not NULL (a missing
 * file is the defaults).  On error err says why. */
int settings_file_check_file(const settings_file_t *f, void *ret, char *err, size_t err_len);

/* Reads the file and makes it live in this process: adjust(NULL), the live
 * struct, made_live(helper).  On error the running values stay. */
int settings_file_load(const settings_file_t *f, bool helper, char *err, size_t err_len);

/* The file's path (malloc'ed), or NULL before the --config path is set. */
char *settings_file_path(const settings_file_t *f);

/* The module entry points (module.h), for a module with a settings file. */
json_t *settings_file_tree(const settings_file_t *f, const void *config);
int settings_file_read(const settings_file_t *f, json_t **ret, struct module_error *err);
int settings_file_apply(const settings_file_t *f, json_t *changes, bool dry_run, json_t **plan,
                        struct module_error *err);
/* The settings file's path and extra (the module's own files, NULL-terminated,
 * at most four; NULL: none), NULL-terminated. */
const char *const *settings_file_files(const settings_file_t *f, const char *const *extra);
int settings_file_make_live(const settings_file_t *f, bool helper, struct module_error *err);

/* Rewrites old text for changes (flat key → value): the lines of changed
 * keys are replaced in place (an array's element lines by its new lines),
 * comments and order are kept, keys the text did not have are appended. */
int settings_text_rewrite(const char *old, size_t old_len, json_t *changes, char **ret);
