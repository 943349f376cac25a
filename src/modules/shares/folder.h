/* folder.h — a share's folder: what its owner, group, mode and POSIX ACLs
 * are, who can write it, how to change them, and the folders under the
 * roots for a picker (folder.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

/* {"owner", "group", "mode": "0775", "acl": ["user:alice:rwx", …],
 * "default_acl": […]} of an existing directory (in the helper). */
int folder_describe(const char *path, json_t **ret, struct module_error *err);

/* Whether the directory at path lets someone of who (user names and
 * "@group" names) write into it, by its mode and ACL, *ret_writers the
 * ones who can; a warning for the plan otherwise. */
int folder_writable_by(const char *path, json_t *who, json_t **ret_writers,
                       struct module_error *err);

/* The share's action `folder` {"owner"?, "group"?, "mode"?, "acl"?}: changes
 * the folder of share id (chown, chmod, setfacl argv in the helper). */
int folder_action(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                  json_t **ret, struct module_error *err);

/* In the helper: {"folders": [{"path", "owner", "group", "mode"}, …]} — the
 * directories directly under `under` (one of the roots or below one). */
int folder_list(json_t *args, json_t **ret, struct module_error *err);
