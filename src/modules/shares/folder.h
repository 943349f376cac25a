/* folder.h — a share's folder: what its owner, group, mode and POSIX ACLs
 * are, who can write it, how to change them and put them back, and the
 * folders under the roots for a picker (folder.c).  All of it runs in the
 * helper, as root. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

/* {"owner", "group", "mode": "0775", "acl": ["user::rwx", "user:alice:rwx",
 * …, getfacl's form; [] when the mode says it all], "default_acl":
 * ["default:user::rwx", …]} of an existing directory (not a link; names,
 * or numbers when there is none). */
int folder_describe(const char *path, json_t **ret, struct module_error *err);

/* Which of who (a JSON array of user names and "@group" names, Samba's
 * valid users; also "+group") may create files in the directory at path,
 * by its owner, group, mode and ACL: *ret_writers, a new array of those
 * strings of who that can.  Empty: the plan's warning "a read-write share
 * on a folder no allowed user can write".  404 when path does not exist. */
int folder_writable_by(const char *path, json_t *who, json_t **ret_writers,
                       struct module_error *err);

/* The share's action `folder` {"owner"?, "group"?, "mode"?, "acl"?}:
 * changes the folder of share id (shares_find_path) through a checked
 * descriptor.  *ret: {"plan": {"commands": [], "files": [the folder's
 * state before → after, "module_restore": true], "warnings"}, "share":
 * {"name", "path", "folder"}}. */
int folder_action(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                  json_t **ret, struct module_error *err);

/* For an audit rollback of a folder change (module_t.file_read and
 * module_t.file_restore of the shares module).  folder_read: 1 with *ret
 * the folder's state as text when path is a directory, 0 when it is not
 * one (the change engine reads it as a file).  folder_restore: puts back
 * the state text content ("file" type only) on the folder at path, which
 * must still be under the roots. */
int folder_read(const char *path, char **ret, struct module_error *err);
int folder_restore(const char *path, const char *type, const char *content,
                   struct module_error *err);

/* In the helper: {"under", "folders": [{"path", "owner", "group", "mode"},
 * …], "truncated"} — the directories directly under args' "under" (a root
 * or a folder below one; canonical, no link), hidden ones left out, sorted,
 * at most 1000.  400 (malformed), 403 (outside the roots) or 404 naming
 * under.  Without "under": the roots themselves ("under": null). */
int folder_list(json_t *args, json_t **ret, struct module_error *err);
