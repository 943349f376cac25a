/* files.h — classic log files under /var/log for the logs module: the list
 * and a bounded tail of one.
 *
 * Runs in the privileged helper (the module's privileged_read): many of
 * these files are readable by root and group adm only, and the front's
 * user is in neither.  The reads are bounded (LOGS_FILES_MAX files,
 * LOGS_TAIL_BYTES_MAX bytes) and never follow a symbolic link or leave
 * /var/log: the file is opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) from a descriptor of the root.  Only what the host
 * shows its log readers is listed or read: files readable by others or by
 * the group adm, in directories they may enter (files.c).
 */
#pragma once

#include <jansson.h>

#include "module.h"

#define LOGS_FILES_ROOT      "/var/log"
#define LOGS_FILES_MAX       1000
#define LOGS_FILES_DEPTH     3
#define LOGS_FILE_NAME_MAX   255
#define LOGS_TAIL_LINES_MAX  10000
#define LOGS_TAIL_LINES_DEF  100
#define LOGS_TAIL_BYTES_MAX  (4u * 1024 * 1024)

/* root: LOGS_FILES_ROOT, or another directory for the tests. */
/* {"files": [{"name", "size", "mtime"}]}, sorted by name. */
int logs_files_list(const char *root, json_t **ret, struct module_error *err);
/* {"name", "lines": ["…"], "size", "truncated"?}: the last `lines` lines. */
int logs_file_tail(const char *root, const char *name, unsigned lines, json_t **ret,
                   struct module_error *err);
/* Whether name is a path relative to the root that may be asked for:
 * components of [A-Za-z0-9._@+-], none "." or "..", no leading '/'. */
bool logs_file_name_valid(const char *name);
