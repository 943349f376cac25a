/* connections.h — who is connected to the shares, and the ways to end it
 * (connections.c); Samba's password database (smbusers.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

/* In the helper (root): {"connections": [{"id", "protocol": "smb|nfs",
 * "user", "client", "share", "since", "dialect", "encrypted", "signed",
 * "open_files"…}, …], "smbd_running": bool}. */
int connections_list(json_t **ret, struct module_error *err);

/* The command `disconnect` {"id"}: ends that connection (smbcontrol smbd
 * kill-client-ip for SMB); *ret says what was ended. */
int connections_disconnect(const struct module_ctx *ctx, json_t *args, json_t **ret,
                           struct module_error *err);

/* The share's action `close`: smbcontrol smbd close-share NAME (every
 * client's tree connect to it ends; their sessions stay). */
int connections_close_share(const struct module_ctx *ctx, const char *id, json_t *args,
                            bool dry_run, json_t **ret, struct module_error *err);

/* After a change narrowed a share's allowed users: smbcontrol smbd
 * close-denied-share NAME.  Quiet when smbd does not run. */
int connections_close_denied(const char *name, struct module_error *err);

/* The parsers behind connections_list (exposed for the unit tests):
 * smbstatus --json's text → one connection per session appended to list
 * (-EBADMSG when it is no JSON object); the info file of
 * /proc/fs/nfsd/clients/DIR → one NFS connection in *ret (-EBADMSG when it
 * names no address). */
int connections_parse_smbstatus(const char *text, size_t len, json_t *list);
int connections_parse_nfs_info(const char *dir, const char *text, size_t len, json_t **ret);

/* In the front, on the hub's thread: the `share_connections` event. */
void connections_events_poll(const struct event_hub *hub, bool changed);

/* In the helper: Samba's accounts, {"smb_users": [{"name", "uid", "enabled",
 * "flags", "full_name"}, …]} (pdbedit -L -v); system users without a Samba
 * account are not in it. */
int smbusers_list(json_t **ret, struct module_error *err);

/* pdbedit -L -v's text → one {"name", "uid", "enabled", "flags",
 * "full_name"} per account appended to list (for the unit tests). */
int smbusers_parse_pdbedit(const char *text, size_t len, json_t *list);

/* The command `smb_account` {"user", "password"?, "enabled"?, "remove"?}:
 * sets a user's SMB password (smbpasswd -s -a, on stdin), enables, disables
 * or removes the user's Samba account (smbusers.c). */
int smbusers_command(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err);
