/* shares.c — the shares module: share points (a folder, a name, and whether
 * and how it is served over SMB and NFS), Time Machine destinations, Samba's
 * global settings and accounts, and who is connected.
 *
 * This file is the module's table and glue; the substance is beside it:
 *
 *     connections.c   smbstatus and the NFS clients: connections, disconnect,
 *                  close a share; the share_connections event
 *     smbusers.c   Samba's password database (pdbedit, smbpasswd -s)
 *     folder.c     a share's folder: owner, group, mode, POSIX ACLs
 */
#include <errno.h>
#include <string.h>

#include "module.h"
#include "modules/shares/folder.h"
#include "modules/shares/connections.h"
#include "modules/shares/shares.h"
#include "roles.h"
#include "util.h"

static int todo(struct module_error *err) {
        module_error_set(err, 501, "not_implemented", NULL, "not implemented yet");
        return -ENOSYS;
}

int shares_find_path(const char *name, char *path, size_t len, struct module_error *err) {
        (void)name, (void)path, (void)len;
        return todo(err);
}

int shares_roots(struct setting_list *ret) {
        *ret = (struct setting_list){.n = 1};
        snprintf(ret->name[0], sizeof ret->name[0], "/srv");
        return 0;
}

bool shares_under_roots(const char *path) {
        (void)path;
        return false;
}

static int shares_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                       struct module_error *err) {
        (void)ctx, (void)query;
        *ret = json_pack("{s:[]}", "shares");
        return *ret ? 0 : todo(err);
}

static int shares_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                       struct module_error *err) {
        (void)ctx, (void)id, (void)query, (void)ret;
        return todo(err);
}

static int shares_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                        json_t *body, json_t *query, bool dry_run, json_t **ret,
                        struct module_error *err) {
        (void)ctx, (void)op, (void)id, (void)body, (void)query, (void)dry_run, (void)ret;
        return todo(err);
}

/* ---- routes ---------------------------------------------------------------------- */

static int read_in_helper(const struct module_ctx *ctx, const char *what, json_t *extra,
                          json_t **ret, struct module_error *err) {
        json_t *args = json_pack("{s:s}", "what", what);
        int r;

        if (!args || (extra && json_object_update(args, extra) < 0)) {
                json_decref(args);
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        if (!ctx->privileged_read) {
                json_decref(args);
                module_error_set(err, 503, "unavailable", NULL, "no privileged helper");
                return -ENOTCONN;
        }
        r = ctx->privileged_read(ctx, "shares", args, ret, err);
        json_decref(args);
        return r;
}

static int route_connections(const struct module_ctx *ctx, char **params, json_t **ret,
                             struct module_error *err) {
        (void)params;
        return read_in_helper(ctx, "connections", NULL, ret, err);
}

static int route_smb_users(const struct module_ctx *ctx, char **params, json_t **ret,
                           struct module_error *err) {
        (void)params;
        return read_in_helper(ctx, "smb_users", NULL, ret, err);
}

static int route_folders(const struct module_ctx *ctx, char **params, json_t **ret,
                         struct module_error *err) {
        const char *under = ctx->query ? ctx->query(ctx, "under") : NULL;
        json_t *extra = under ? json_pack("{s:s}", "under", under) : json_object();
        int r;

        (void)params;
        r = read_in_helper(ctx, "folders", extra, ret, err);
        json_decref(extra);
        return r;
}

/* In the helper, as root: the reads behind the routes above. */
static int shares_privileged_read(json_t *args, json_t **ret, struct module_error *err) {
        const char *what = json_string_value(json_object_get(args, "what"));

        if (what && STREQ(what, "connections"))
                return connections_list(ret, err);
        if (what && STREQ(what, "smb_users"))
                return smbusers_list(ret, err);
        if (what && STREQ(what, "folders"))
                return folder_list(args, ret, err);
        module_error_set(err, 400, "bad_request", "what", "unknown read");
        return -EINVAL;
}

/* ---- the table --------------------------------------------------------------------- */

#define SUB(n, t, f, l, d)                                                                         \
        { .name = n, .type = t, .flags = f, .label = l, .description = d }
#define RW (FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN)

static const char *const case_choices[] = {"auto", "yes", "no", NULL};

static const collection_field_t smb_fields[] = {
        SUB("enabled", FIELD_BOOLEAN, RW, "SMB", "served over SMB (Windows, macOS, Linux)"),
        SUB("read_only", FIELD_BOOLEAN, RW, "Read-only", "clients may not write"),
        {.name = "valid_users",
         .type = FIELD_STRING_ARRAY,
         .max = 64,
         .flags = RW,
         .label = "Allowed users",
         .description = "users and @groups who may connect (empty: every Samba user)"},
        {.name = "write_list",
         .type = FIELD_STRING_ARRAY,
         .max = 64,
         .flags = RW,
         .label = "May write",
         .description = "users and @groups who may write even to a read-only share"},
        SUB("guest_ok", FIELD_BOOLEAN, RW, "Guest access",
            "anyone may connect without a password (a finding when on)"),
        SUB("browseable", FIELD_BOOLEAN, RW, "Listed", "shown in the server's list of shares"),
        SUB("hide_dot_files", FIELD_BOOLEAN, RW, "Hide dot files",
            "files whose names start with a dot are hidden"),
        {.name = "veto_files",
         .type = FIELD_STRING_ARRAY,
         .max = 32,
         .flags = RW,
         .label = "Forbidden names",
         .description = "name patterns (* ?) that can be neither seen nor created"},
        SUB("encryption_required", FIELD_BOOLEAN, RW, "Require encryption",
            "clients that cannot encrypt (SMB3) are refused"),
        {.name = "case_sensitive",
         .type = FIELD_ENUM,
         .choices = case_choices,
         .flags = RW,
         .label = "Case-sensitive names",
         .description = "auto (as the client says), yes or no"},
        SUB("time_machine", FIELD_BOOLEAN, RW, "Time Machine",
            "a Time Machine destination for Macs (Apple extensions, advertised over mDNS)"),
        {.name = "time_machine_max_size",
         .type = FIELD_STRING,
         .max = 16,
         .flags = RW,
         .label = "Time Machine size",
         .description = "the most backups may take, e.g. 500G or 2T (empty: no limit)"},
};

static const collection_field_t nfs_client_fields[] = {
        {.name = "host",
         .type = FIELD_STRING,
         .max = 255,
         .flags = RW,
         .label = "Client",
         .description = "a host name, an address, a network (192.0.2.0/24), *.domain or @netgroup"},
        {.name = "options",
         .type = FIELD_STRING_ARRAY,
         .max = 16,
         .flags = RW,
         .label = "Options",
         .description = "ro|rw, root_squash|no_root_squash|all_squash, sync|async, sec=sys:krb5…, "
                        "secure|insecure, subtree_check|no_subtree_check"},
};

static const collection_field_t nfs_fields[] = {
        SUB("enabled", FIELD_BOOLEAN, RW, "NFS", "exported over NFS (Linux and Unix clients)"),
        {.name = "clients",
         .type = FIELD_OBJECT_ARRAY,
         .max = 64,
         .flags = RW,
         .label = "Clients",
         .description = "who may mount it, each with its options",
         .fields = nfs_client_fields,
         .n_fields = ELEMENTSOF(nfs_client_fields)},
};

static const collection_field_t folder_fields[] = {
        SUB("owner", FIELD_STRING, FIELD_SHOWN, "Owner", "the folder's owner"),
        SUB("group", FIELD_STRING, FIELD_SHOWN, "Group", "the folder's group"),
        SUB("mode", FIELD_STRING, FIELD_SHOWN, "Mode", "permission bits, octal"),
        SUB("acl", FIELD_STRING_ARRAY, FIELD_SHOWN, "ACL", "POSIX ACL entries (getfacl's form)"),
        SUB("default_acl", FIELD_STRING_ARRAY, FIELD_SHOWN, "Default ACL",
            "the ACL new files and folders inherit"),
};

static const collection_field_t share_fields[] = {
        {.name = "name",
         .type = FIELD_STRING,
         .min = 1,
         .max = SHARE_NAME_MAX,
         .flags = FIELD_CREATE | FIELD_SHOWN,
         .label = "Name",
         .description = "the share's name as clients see it (Samba's rules: no []/\\:*?\"<>|)"},
        {.name = "path",
         .type = FIELD_STRING,
         .min = 1,
         .max = 4095,
         .flags = RW,
         .label = "Folder",
         .description = "an existing folder under shares:roots (not a link)"},
        {.name = "comment",
         .type = FIELD_STRING,
         .max = 255,
         .flags = RW,
         .label = "Comment",
         .description = "what clients see beside the name"},
        {.name = "smb",
         .type = FIELD_OBJECT,
         .flags = RW,
         .label = "SMB",
         .description = "how it is served over SMB",
         .fields = smb_fields,
         .n_fields = ELEMENTSOF(smb_fields)},
        {.name = "nfs",
         .type = FIELD_OBJECT,
         .flags = RW,
         .label = "NFS",
         .description = "how it is exported over NFS",
         .fields = nfs_fields,
         .n_fields = ELEMENTSOF(nfs_fields)},
        {.name = "folder",
         .type = FIELD_OBJECT,
         .flags = FIELD_SHOWN,
         .label = "Folder permissions",
         .description = "the folder's owner, group, mode and ACLs (change them with the folder "
                        "action)",
         .fields = folder_fields,
         .n_fields = ELEMENTSOF(folder_fields)},
        {.name = "source",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "Defined in",
         .description = "steward (managed here) or smb.conf (read-only until imported)"},
        {.name = "protocols",
         .type = FIELD_STRING,
         .flags = FIELD_SHOWN,
         .label = "Protocols",
         .description = "smb, nfs, smb+nfs or none; with tm for a Time Machine destination"},
        {.name = "warnings",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_SHOWN,
         .label = "Warnings",
         .description = "what is wrong or risky about the share as it is"},
};

static const collection_column_t share_columns[] = {
        {"name", "NAME", NULL},
        {"path", "FOLDER", NULL},
        {"protocols", "PROTOCOLS", NULL},
        {"source", "DEFINED IN", NULL},
        {"comment", "COMMENT", NULL},
};

static const collection_option_t add_opts[] = {
        {"path", 'p', "path", COPT_VALUE, "FOLDER"},
        {"comment", 'c', "comment", COPT_VALUE, "TEXT"},
        {"smb", 0, "smb.enabled", COPT_TRUE, NULL},
        {"no-smb", 0, "smb.enabled", COPT_FALSE, NULL},
        {"read-only", 0, "smb.read_only", COPT_TRUE, NULL},
        {"read-write", 0, "smb.read_only", COPT_FALSE, NULL},
        {"valid-users", 'u', "smb.valid_users", COPT_VALUE, "NAME,@GROUP"},
        {"write-list", 0, "smb.write_list", COPT_VALUE, "NAME,@GROUP"},
        {"guest", 0, "smb.guest_ok", COPT_TRUE, NULL},
        {"no-guest", 0, "smb.guest_ok", COPT_FALSE, NULL},
        {"browseable", 0, "smb.browseable", COPT_TRUE, NULL},
        {"hidden", 0, "smb.browseable", COPT_FALSE, NULL},
        {"hide-dot-files", 0, "smb.hide_dot_files", COPT_TRUE, NULL},
        {"show-dot-files", 0, "smb.hide_dot_files", COPT_FALSE, NULL},
        {"veto", 0, "smb.veto_files", COPT_VALUE, "PATTERN,…"},
        {"encrypt", 0, "smb.encryption_required", COPT_TRUE, NULL},
        {"no-encrypt", 0, "smb.encryption_required", COPT_FALSE, NULL},
        {"case-sensitive", 0, "smb.case_sensitive", COPT_VALUE, "auto|yes|no"},
        {"time-machine", 0, "smb.time_machine", COPT_TRUE, NULL},
        {"no-time-machine", 0, "smb.time_machine", COPT_FALSE, NULL},
        {"time-machine-size", 0, "smb.time_machine_max_size", COPT_VALUE, "SIZE"},
        {"nfs", 0, "nfs.enabled", COPT_TRUE, NULL},
        {"no-nfs", 0, "nfs.enabled", COPT_FALSE, NULL},
        {"nfs-client", 0, "nfs.clients", COPT_ITEM, "HOST(OPTIONS)"},
};

static const collection_verb_t share_verbs[] = {
        {"list", VERB_LIST, "list the share points", NULL, 0, NULL, false, false},
        {"show", VERB_SHOW, "show a share point: its protocols, folder and warnings", NULL, 0,
         NULL, false, false},
        {"add", VERB_CREATE, "publish a folder", add_opts, ELEMENTSOF(add_opts), NULL, false,
         false},
        {"modify", VERB_MODIFY, "change a share point", add_opts, ELEMENTSOF(add_opts), NULL,
         false, false},
        {"delete", VERB_DELETE, "stop sharing a folder (the folder stays)", NULL, 0, NULL, false,
         false},
        {"import", VERB_MODIFY, "take over a share defined in smb.conf (a planned step)", NULL, 0,
         "{\"source\": \"steward\"}", false, false},
};

static const command_arg_t folder_args[] = {
        {.name = "owner", .type = SETTING_STRING, .max = 32, .description = "the new owner"},
        {.name = "group", .type = SETTING_STRING, .max = 32, .description = "the new group"},
        {.name = "mode",
         .type = SETTING_STRING,
         .max = 5,
         .description = "permission bits, octal (e.g. 2775)"},
        {.name = "acl",
         .type = SETTING_STRING,
         .max = 4096,
         .description = "the whole ACL, comma-separated entries as setfacl --set takes them "
                        "(u:alice:rwx,g:staff:rwx,d:g:staff:rwx)"},
};

static const collection_action_t share_actions[] = {
        {.name = "close",
         .summary = "disconnect every client from this share (their sessions stay)",
         .min_role = ROLE_ADMIN,
         .changes_state = false,
         .run = connections_close_share},
        {.name = "folder",
         .summary = "change the folder's owner, group, mode or ACL",
         .min_role = ROLE_ADMIN,
         .changes_state = true,
         .args = folder_args,
         .n_args = ELEMENTSOF(folder_args),
         .run = folder_action},
};

static const collection_def_t shares_collections[] = {
        {.name = "shares",
         .item = "share",
         .summary = "share points: folders served over SMB and NFS, Time Machine destinations",
         .id_field = "name",
         .fields = share_fields,
         .n_fields = ELEMENTSOF(share_fields),
         .columns = share_columns,
         .n_columns = ELEMENTSOF(share_columns),
         .verbs = share_verbs,
         .n_verbs = ELEMENTSOF(share_verbs),
         .list = shares_list,
         .show = shares_show,
         .write = shares_write,
         .actions = share_actions,
         .n_actions = ELEMENTSOF(share_actions)},
};

static const command_arg_t disconnect_args[] = {
        {.name = "id",
         .type = SETTING_STRING,
         .min = 1,
         .max = 128,
         .required = true,
         .description = "the connection's id, as the connections list gives it"},
};

static const command_arg_t smb_account_args[] = {
        {.name = "user",
         .type = SETTING_STRING,
         .min = 1,
         .max = 32,
         .required = true,
         .description = "a system user"},
        {.name = "password",
         .type = SETTING_STRING,
         .min = 1,
         .max = 256,
         .description = "the new SMB password (adds the user to Samba's database)"},
        {.name = "enabled",
         .type = SETTING_BOOLEAN,
         .description = "whether the user may log in over SMB"},
        {.name = "remove",
         .type = SETTING_BOOLEAN,
         .description = "remove the user from Samba's database"},
};

static const command_def_t shares_commands[] = {
        {.name = "disconnect",
         .summary = "end a client's connection",
         .changes_state = true,
         .args = disconnect_args,
         .n_args = ELEMENTSOF(disconnect_args),
         .run = connections_disconnect},
        {.name = "smb_account",
         .summary = "set a user's SMB password, enable, disable or remove the user's Samba "
                    "account",
         .changes_state = true,
         .args = smb_account_args,
         .n_args = ELEMENTSOF(smb_account_args),
         .run = smbusers_command},
};

static const module_route_t shares_routes[] = {
        {.method = "GET",
         .pattern = "api/v1/modules/shares/connections",
         .min_role = ROLE_MONITOR,
         .handler = route_connections,
         .summary = "who is connected: SMB sessions and their shares, NFS clients"},
        {.method = "GET",
         .pattern = "api/v1/modules/shares/smb-users",
         .min_role = ROLE_MONITOR,
         .handler = route_smb_users,
         .summary = "Samba's accounts and whether each is enabled"},
        {.method = "GET",
         .pattern = "api/v1/modules/shares/folders",
         .min_role = ROLE_ADMIN,
         .handler = route_folders,
         .summary = "the folders under a root, for a share's folder picker",
         .query = "under"},
};

static const event_def_t shares_events[] = {
        {.name = "share_connections",
         .description = "who is connected changed: the connections list as the route answers it",
         .min_role = ROLE_MONITOR},
};

const module_t module_shares = {
        .name = "shares",
        .summary = "file sharing: folders over SMB and NFS, Time Machine destinations, "
                   "connected users",
        .commands = shares_commands,
        .n_commands = ELEMENTSOF(shares_commands),
        .privileged_read = shares_privileged_read,
        .routes = shares_routes,
        .n_routes = ELEMENTSOF(shares_routes),
        .collections = shares_collections,
        .n_collections = ELEMENTSOF(shares_collections),
        .events = shares_events,
        .n_events = ELEMENTSOF(shares_events),
        .events_poll = connections_events_poll,
        .file_read = folder_read,
        .file_restore = folder_restore,
        .console_title = "File sharing",
};
