/* model.h — the share points as files say they are, and a share checked
 * whole before anything is written (model.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

#define SMB_CONF      "/etc/samba/smb.conf"
#define SMB_INCLUDE   "/etc/samba/steward.conf"
#define EXPORTS_FILE  "/etc/exports.d/steward.exports"
#define AVAHI_FILE    "/etc/avahi/services/steward-timemachine.service"
#define SHARES_CONF   "/etc/steward/shares.conf"
#define SHARE_ROOTS_MAX 16

/* What the files say, read at once. */
struct shares_state {
        char *smbconf, *include, *exports, *avahi, *conf; /* NULL: absent */
        json_t *smb_sections; /* smb.conf's, parsed */
        json_t *globals;      /* the include's [global]: {"samba key": value} in order */
        json_t *shares;       /* Steward's share points (with "nfs") */
        json_t *foreign;      /* smb.conf's own shares (source "smb.conf") */
        json_t *roots;        /* ["/srv", …] */
};

int state_load(struct shares_state *s, struct module_error *err);
void state_done(struct shares_state *s);

/* The share named name (case-insensitive) among Steward's (*ret_foreign
 * false) or smb.conf's (true); NULL when none. */
json_t *state_find(const struct shares_state *s, const char *name, bool *ret_foreign,
                   size_t *ret_index);

/* A new share point from a create's body, or share with a modify's body
 * merged in (members of smb and nfs merge; nfs.clients is replaced whole);
 * every field checked (422 naming it). */
int share_merge(json_t *share, json_t *body, bool create, json_t **ret,
                struct module_error *err);
/* The checks that look at the system: the folder (canonical, a directory,
 * not a link, under the roots, not a system or another user's home
 * directory), Samba and its VFS modules, the NFS server's tools. */
int share_check_system(const struct shares_state *s, json_t *share, struct module_error *err);

/* The share as the API answers it: with "protocols", "folder" and
 * "warnings". */
json_t *share_decorate(json_t *share);

/* Samba's tools, and whether they are installed. */
bool samba_installed(void);
bool samba_vfs_fruit_installed(void);
bool nfs_tools_installed(void);
/* Whether smbd may be running (its pid file is there): else no smbcontrol. */
bool smbd_may_run(void);
