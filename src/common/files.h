/* files.h — reading and restoring the files a change touched, for plans,
 * the audit log and rollback.  A file's state is its type ("file",
 * "symlink", "absent") and its content (or link target).  Restores are
 * atomic: a temp file or temp symlink in the same directory, then rename. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#define FILE_STATE_MAX (4u << 20)

/* {"path", "type", "content"}; a missing file is type "absent". */
int file_state_read(const char *path, json_t **ret);

/* Makes path have the given state (type + content), atomically; "absent"
 * unlinks.  Regular files keep their current mode and owner if they exist,
 * else get `mode`. */
int file_state_write(const char *path, const char *type, const char *content, size_t len,
                     unsigned mode);

/* Removes the temporary files a write of path killed mid-way left beside it
 * (ours only: "NAME.<16 hex>.tmp" from write_file_atomic() and
 * ".NAME.<16 hex>.tmp" from file_state_write()); never follows a link and
 * never touches anything else.  Calls removed(name) for each one gone.
 * Returns how many were removed, or -errno. */
int file_remove_stale_temps(const char *path, void (*removed)(const char *dir, const char *name));
