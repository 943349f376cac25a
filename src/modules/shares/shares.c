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
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "module.h"
#include "modules/change.h"
#include "modules/registry.h"
#include "modules/shares/avahi.h"
#include "modules/shares/exports.h"
#include "modules/shares/folder.h"
#include "modules/shares/model.h"
#include "modules/shares/names.h"
#include "modules/shares/smbconf.h"
#include "modules/shares/connections.h"
#include "modules/shares/shares.h"
#include "roles.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

int shares_find_path(const char *name, char *path, size_t len, struct module_error *err) {
        struct shares_state s;
        json_t *share;
        int r;

        r = state_load(&s, err);
        if (r < 0)
                return r;
        share = state_find(&s, name, NULL, NULL);
        if (!share) {
                module_error_set(err, 404, "not_found", NULL, "no share called %.80s", name);
                r = -ENOENT;
        } else
                snprintf(path, len, "%s", json_string_value(json_object_get(share, "path")));
        state_done(&s);
        return r;
}

int shares_roots(struct setting_list *ret) {
        struct module_error e = {0};
        struct shares_state s;
        size_t i;
        json_t *v;

        *ret = (struct setting_list){0};
        if (state_load(&s, &e) < 0)
                return -EIO;
        json_array_foreach(s.roots, i, v)
                if (ret->n < SETTING_LIST_MAX)
                        snprintf(ret->name[ret->n++], sizeof ret->name[0], "%s",
                                 json_string_value(v));
        state_done(&s);
        return 0;
}

bool shares_under_roots(const char *path) {
        struct setting_list roots;

        if (shares_roots(&roots) < 0)
                return false;
        for (size_t i = 0; i < roots.n; i++) {
                size_t n = strlen(roots.name[i]);
                if (!strncmp(path, roots.name[i], n) && (path[n] == '\0' || path[n] == '/'))
                        return true;
        }
        return false;
}

/* ---- reads ----------------------------------------------------------------------- */

static int shares_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                       struct module_error *err) {
        _cleanup_json_ json_t *items = json_array();
        json_t *lists[2], *x;
        struct shares_state s;
        size_t i;
        int r;

        (void)ctx;
        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL, "shares take no query");
                return -EINVAL;
        }
        if (!items)
                return oom(err);
        r = state_load(&s, err);
        if (r < 0)
                return r;
        lists[0] = s.shares;
        lists[1] = s.foreign;
        for (size_t l = 0; l < 2 && r >= 0; l++)
                json_array_foreach(lists[l], i, x)
                        if (r >= 0 && json_array_append_new(items, share_decorate(x)) < 0)
                                r = oom(err);
        state_done(&s);
        if (r < 0)
                return r;
        *ret = json_pack("{s:O}", "shares", items);
        return *ret ? 0 : oom(err);
}

static int shares_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                       struct module_error *err) {
        struct shares_state s;
        json_t *share;
        int r;

        (void)ctx;
        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL, "a share takes no query");
                return -EINVAL;
        }
        r = state_load(&s, err);
        if (r < 0)
                return r;
        share = state_find(&s, id, NULL, NULL);
        if (!share) {
                module_error_set(err, 404, "not_found", NULL, "no share called %.80s", id);
                r = -ENOENT;
        } else {
                *ret = json_pack("{s:o}", "share", share_decorate(share));
                if (!*ret)
                        r = oom(err);
        }
        state_done(&s);
        return r;
}

/* ---- writes (in the helper) ---------------------------------------------------------- */

/* What the commit does once the files are written. */
struct commit_data {
        bool smb, nfs;
        const char *close_share;  /* deleted or turned off: its clients go */
        const char *close_denied; /* allowed users narrowed */
        json_t *notes;
};

static bool smbd_reload(json_t *notes) {
        const char *argv[] = {"/usr/bin/smbcontrol", "-t", "5", "smbd", "reload-config", NULL};
        char msg[256];

        if (!samba_installed())
                return false;
        if (smbd_may_run() && change_exec(argv, NULL, msg, sizeof msg) == 0)
                return true;
        if (notes)
                json_array_append_new(notes, json_string("smbd is not running: the change is "
                                                         "served when it starts"));
        return false;
}

/* exportfs -ra; what it says when it succeeds (a client it could not
 * resolve, which it leaves out) goes to notes. */
static int exports_apply(json_t *notes, struct module_error *err) {
        const char *argv[] = {"/usr/sbin/exportfs", "-ra", NULL};
        char msg[400];
        int r;

        if (access(argv[0], X_OK) < 0)
                return 0;
        r = change_exec(argv, NULL, msg, sizeof msg);
        if (r == 0) {
                if (*msg && notes) {
                        char note[512];
                        snprintf(note, sizeof note,
                                 "%s (a client exportfs cannot resolve is left out until it "
                                 "resolves)",
                                 msg);
                        json_array_append_new(notes, json_string(note));
                }
                return 0;
        }
        module_error_set(err, 409, "conflict", "nfs", "exportfs -ra failed (%d): %s", r, msg);
        return -EIO;
}

static int commit(void *data, struct module_error *err) {
        struct commit_data *c = data;
        struct module_error e = {0};

        if (c->nfs && exports_apply(c->notes, err) < 0)
                return -EIO;
        if (c->smb && smbd_reload(c->notes)) {
                if (c->close_share) {
                        const char *argv[] = {"/usr/bin/smbcontrol", "-t", "5", "smbd", "close-share", "--",
                                              c->close_share, NULL};
                        char msg[256];
                        (void)change_exec(argv, NULL, msg, sizeof msg);
                }
                if (c->close_denied)
                        (void)connections_close_denied(c->close_denied, &e);
        }
        return 0;
}

/* In the staged /etc: Samba's and the NFS server's own checkers. */
static int validate_staged(const char *etc, struct module_error *err) {
        char msg[1024];
        int r;

        (void)etc;
        if (access(SMB_CONF, F_OK) == 0 && access("/usr/bin/testparm", X_OK) == 0) {
                const char *argv[] = {"/usr/bin/testparm", "-s", "--suppress-prompt", SMB_CONF,
                                      NULL};
                _cleanup_free_ char *out = NULL;
                r = change_exec_output(argv, 4 << 20, &out, NULL, msg, sizeof msg);
                if (r != 0 || strstr(msg, "Unknown parameter") || strstr(msg, "Ignoring unknown") ||
                    strstr(msg, "ERROR")) {
                        module_error_set(err, 422, "invalid_value", NULL,
                                         "testparm refused the new Samba configuration (%d): %s",
                                         r, msg);
                        return -EINVAL;
                }
        }
        if (access(EXPORTS_FILE, F_OK) == 0 && nfs_tools_installed()) {
                const char *argv[] = {"/usr/sbin/exportfs", "-ra", NULL};
                /* exportfs keeps its table in /var/lib/nfs: a scratch one
                 * here, in the stage's own mount namespace. */
                if (mount("tmpfs", "/var/lib/nfs", "tmpfs", MS_NOSUID | MS_NODEV,
                          "size=1m,mode=0755") < 0) {
                        module_error_set(err, 500, "internal", NULL,
                                         "cannot stage the NFS table: %m");
                        return -errno;
                }
                r = change_exec(argv, NULL, msg, sizeof msg);
                if (r != 0) {
                        module_error_set(err, 422, "invalid_value", "nfs",
                                         "exportfs refused the new exports (%d): %s", r, msg);
                        return -EINVAL;
                }
        }
        return 0;
}

static const change_hooks_t shares_hooks = {
        .validate = validate_staged,
};

static void edit(struct change_plan *p, const char *path, const char *before, const char *after,
                 unsigned mode, bool make_dir) {
        struct change_file *f;

        if ((!before && !after) || (before && after && STREQ(before, after)))
                return;
        f = change_edit(p, path, after ? CHANGE_FILE : CHANGE_ABSENT, after, mode);
        if (f && make_dir)
                f->flags |= CHANGE_MAKE_DIR;
}

/* Apple's SMB extensions, for every share while a Time Machine destination
 * exists: vfs_fruit loaded on some shares and not others is undefined
 * behaviour for a Mac (testparm warns), and the AAPL negotiation is the
 * server's.  Removed again with the last destination. */
static const struct {
        const char *key, *value;
} apple[] = {
        {"vfs objects", "catia fruit streams_xattr"},
        {"fruit:aapl", "yes"},
        {"fruit:metadata", "stream"},
        {"fruit:model", "MacSamba"},
};

static int apple_globals(json_t *globals, bool on) {
        for (size_t i = 0; i < ELEMENTSOF(apple); i++) {
                const char *now = json_string_value(json_object_get(globals, apple[i].key));
                if (on && json_object_set_new(globals, apple[i].key, json_string(apple[i].value)) < 0)
                        return -ENOMEM;
                if (!on && now && STREQ(now, apple[i].value))
                        json_object_del(globals, apple[i].key);
        }
        return 0;
}

/* The files for the share points shares (Steward's, all of them), planned
 * against the state s; smbconf_new: smb.conf's new text (an import), or
 * NULL. */
static int plan_files(struct change_plan *p, const struct shares_state *s, json_t *shares,
                      const char *smbconf_new, struct commit_data *c, struct module_error *err) {
        _cleanup_free_ char *inc = NULL, *exp = NULL, *av = NULL, *conf = NULL;
        const char *smbconf = smbconf_new ? smbconf_new : s->smbconf;
        bool any_tm = false;
        size_t i;
        json_t *x;

        _cleanup_json_ json_t *globals = json_deep_copy(s->globals);

        json_array_foreach(shares, i, x) {
                json_t *smb = json_object_get(x, "smb");
                any_tm |= json_is_true(json_object_get(smb, "enabled")) &&
                          json_is_true(json_object_get(smb, "time_machine"));
        }
        if (!globals || apple_globals(globals, any_tm) < 0 ||
            smbconf_render(globals, shares, &inc) < 0 || exports_render(shares, &exp) < 0 ||
            avahi_render(shares, &av) < 0)
                return oom(err);
        /* Nothing for Samba to hold (a change of the roots, no share
         * point yet): no Samba files are made. */
        if (!s->include && json_array_size(shares) == 0 && json_object_size(globals) == 0) {
                free(inc);
                inc = NULL;
        }
        if (inc && smbconf && !smbconf_has_include(smbconf, SMB_INCLUDE) &&
            smbconf_add_include(smbconf, SMB_INCLUDE, &conf) < 0)
                return oom(err);
        edit(p, SMB_CONF, s->smbconf, conf ? conf : smbconf, 0644, false);
        edit(p, SMB_INCLUDE, s->include, inc, 0644, true);
        edit(p, EXPORTS_FILE, s->exports, *exp ? exp : NULL, 0644, true);
        if (av && access("/etc/avahi", F_OK) < 0)
                change_warn(p, "avahi-daemon is not installed: Macs will not find the Time "
                               "Machine destination by themselves (apt install avahi-daemon)");
        else
                edit(p, AVAHI_FILE, s->avahi, av, 0644, true);
        c->smb = true;
        c->nfs = !(s->exports ? STREQ(s->exports, exp) : !*exp);
        return 0;
}

static bool narrowed(json_t *before, json_t *after) {
        json_t *b = json_object_get(json_object_get(before, "smb"), "valid_users");
        json_t *a = json_object_get(json_object_get(after, "smb"), "valid_users");
        size_t i;
        json_t *v;

        if (json_array_size(a) == 0)
                return false;
        if (json_array_size(b) == 0)
                return true;
        json_array_foreach(b, i, v) {
                bool kept = false;
                for (size_t j = 0; j < json_array_size(a); j++)
                        kept |= json_equal(v, json_array_get(a, j));
                if (!kept)
                        return true;
        }
        return false;
}

/* The share points as they will be after the request (shares, changed in
 * place), the share it makes or changes (*ret_share), smb.conf's new text
 * for an import (*ret_smbconf), and what the commit must do. */
static int next_shares(const struct shares_state *s, collection_op_t op, const char *id,
                       json_t *body, json_t *shares, json_t **ret_share, char **ret_smbconf,
                       struct commit_data *c, struct module_error *err) {
        json_t *old = NULL, *share;
        bool foreign = false;
        size_t index = 0;
        int r;

        if (op != COLLECTION_CREATE) {
                old = state_find(s, id, &foreign, &index);
                if (!old) {
                        module_error_set(err, 404, "not_found", NULL, "no share called %.80s", id);
                        return -ENOENT;
                }
                if (foreign && !share_name_valid(json_string_value(json_object_get(old, "name")))) {
                        module_error_set(err, 409, "read_only", "source",
                                         "%s is Samba's own section, not a share point: it stays "
                                         "in smb.conf",
                                         id);
                        return -EPERM;
                }
                if (foreign && !(op == COLLECTION_MODIFY &&
                                 STREQ(json_string_value(json_object_get(body, "source")) ?: "",
                                       "steward"))) {
                        module_error_set(err, 409, "read_only", "source",
                                         "%s is defined in smb.conf: import it first "
                                         "(PATCH {\"source\": \"steward\"}, or steward shares "
                                         "import %s)",
                                         id, id);
                        return -EPERM;
                }
        }
        if (op == COLLECTION_DELETE) {
                c->close_share = json_string_value(json_object_get(old, "name"));
                json_array_remove(shares, index);
        } else {
                r = share_merge(old, body, op == COLLECTION_CREATE, ret_share, err);
                if (r < 0)
                        return r;
                share = *ret_share;
                if (op == COLLECTION_CREATE &&
                    state_find(s, json_string_value(json_object_get(share, "name")), NULL, NULL)) {
                        module_error_set(err, 409, "exists", "name",
                                         "name: a share called %s exists already",
                                         json_string_value(json_object_get(share, "name")));
                        return -EEXIST;
                }
                r = share_check_system(s, share, err);
                if (r < 0)
                        return r;
                json_object_set_new(share, "source", json_string("steward"));
                if (foreign) {
                        json_t *sec = smbconf_section(s->smb_sections, id);
                        if (!sec || smbconf_cut_section(s->smbconf, sec, ret_smbconf) < 0)
                                return oom(err);
                        json_array_append(shares, share);
                } else if (op == COLLECTION_CREATE)
                        json_array_append(shares, share);
                else
                        json_array_set(shares, index, share);
                if (old && !foreign) {
                        bool was = json_is_true(json_object_get(json_object_get(old, "smb"),
                                                                "enabled"));
                        bool is = json_is_true(json_object_get(json_object_get(share, "smb"),
                                                               "enabled"));
                        if (was && !is)
                                c->close_share = json_string_value(json_object_get(old, "name"));
                        else if (narrowed(old, share) ||
                                 (json_is_true(json_object_get(json_object_get(old, "smb"),
                                                               "guest_ok")) &&
                                  !json_is_true(json_object_get(json_object_get(share, "smb"),
                                                                "guest_ok"))))
                                c->close_denied = json_string_value(json_object_get(old, "name"));
                }
        }
        return 0;
}

static int write_locked(collection_op_t op, const char *id, json_t *body, bool dry_run,
                        json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *shares = NULL, *share = NULL, *plan = NULL, *notes = json_array();
        _cleanup_free_ char *smbconf_new = NULL;
        struct commit_data c = {.notes = notes};
        struct shares_state s;
        struct change_plan p;
        int r;

        r = state_load(&s, err);
        if (r < 0)
                return r;
        shares = json_deep_copy(s.shares);
        if (!shares || !notes) {
                r = oom(err);
                goto out;
        }
        r = next_shares(&s, op, id, body, shares, &share, &smbconf_new, &c, err);
        if (r < 0)
                goto out;
        change_plan_init(&p);
        r = plan_files(&p, &s, shares, smbconf_new, &c, err);
        if (r >= 0 && share) {
                /* What is risky about the share as it will be (guest access,
                 * a folder its users cannot write…) is the plan's to say. */
                _cleanup_json_ json_t *d = share_decorate(share);
                size_t i;
                json_t *w;
                json_array_foreach(json_object_get(d, "warnings"), i, w)
                        change_warn(&p, "%s: %s", json_string_value(json_object_get(share, "name")),
                                    json_string_value(w));
        }
        if (r >= 0)
                r = change_run(&p,
                               &(struct change_opts){.dry_run = dry_run,
                                                     .hooks = &shares_hooks,
                                                     .commit = commit,
                                                     .data = &c},
                               &plan, err);
        change_plan_done(&p);
        if (r < 0 && !plan)
                goto out;
        if (plan) {
                json_t *w = json_object_get(plan, "warnings");
                if (!w)
                        json_object_set_new(plan, "warnings", w = json_array());
                json_array_extend(w, notes);
                json_array_clear(notes); /* the answer says them all too */
                json_array_extend(notes, w);
        }
        *ret = json_pack("{s:{s:o?, s:O}, s:O?}", "result", "share",
                         share ? share_decorate(share) : NULL, "warnings", notes, "plan", plan);
        if (!*ret && r >= 0)
                r = oom(err);
out:
        state_done(&s);
        return r;
}

static int shares_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                        json_t *body, json_t *query, bool dry_run, json_t **ret,
                        struct module_error *err) {
        (void)ctx;
        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL, "shares take no query");
                return -EINVAL;
        }
        if (op != COLLECTION_CREATE && (!id || !share_name_valid(id))) {
                module_error_set(err, 404, "not_found", NULL, "no share called %.80s",
                                 id ? id : "");
                return -ENOENT;
        }
        return write_locked(op, id, body, dry_run, ret, err);
}

/* ---- settings ------------------------------------------------------------------------ */

static const char *const protocol_choices[] = {"SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02",
                                               "SMB3_11", NULL};
static const char *const signing_choices[] = {"default", "auto", "mandatory", "disabled", NULL};
static const char *const encryption_choices[] = {"default", "off", "if_required", "desired",
                                                 "required", NULL};

static bool root_valid(const char *s) {
        return share_root_valid(s);
}

static const setting_def_t shares_settings[] = {
        {.key = "roots",
         .type = SETTING_STRING_ARRAY,
         .min = 1,
         .max = SETTING_LIST_MAX,
         .description = "The folders under which share points may be made (absolute paths; "
                        "never /, /var, a system folder such as /etc, /usr or /run, nor the "
                        "state of Steward, Samba or the NFS server).  Default: /srv",
         .valid_string = root_valid},
        {.key = "smb:workgroup",
         .type = SETTING_STRING,
         .min = 1,
         .max = 15,
         .description = "The Windows workgroup or NetBIOS domain (workgroup)",
         .valid_string = netbios_name_valid},
        {.key = "smb:server_string",
         .type = SETTING_STRING,
         .max = 255,
         .description = "What clients see as the server's description (server string)",
         .valid_string = server_string_valid},
        {.key = "smb:min_protocol",
         .type = SETTING_ENUM,
         .choices = protocol_choices,
         .description = "The oldest SMB dialect clients may use (server min protocol); SMB1 is "
                        "never offered"},
        {.key = "smb:signing",
         .type = SETTING_ENUM,
         .choices = signing_choices,
         .description = "Whether packets are signed (server signing)"},
        {.key = "smb:encryption",
         .type = SETTING_ENUM,
         .choices = encryption_choices,
         .description = "Whether SMB3 encryption is offered or required for every share "
                        "(server smb encrypt)"},
        {.key = "smb:netbios",
         .type = SETTING_BOOLEAN,
         .description = "Whether the NetBIOS name service runs (off: disable netbios)"},
        {.key = "smb:log_level",
         .type = SETTING_INTEGER,
         .min = 0,
         .max = 10,
         .description = "How much smbd logs (log level), 0–10"},
};

/* Each smb: setting's Samba parameter and its Samba 4.17 default. */
static const struct {
        const char *key, *param, *def;
} smb_params[] = {
        {"smb:workgroup", "workgroup", "WORKGROUP"},
        {"smb:server_string", "server string", "Samba %v"},
        {"smb:min_protocol", "server min protocol", "SMB2_02"},
        {"smb:signing", "server signing", "default"},
        {"smb:encryption", "server smb encrypt", "default"},
        {"smb:netbios", "disable netbios", "no"},
        {"smb:log_level", "log level", "1"},
};

static const char *global_value(const struct shares_state *s, const char *param) {
        char norm[64];
        const char *k;
        json_t *v, *g = smbconf_section(s->smb_sections, "global");

        smbconf_key_norm(param, norm, sizeof norm);
        json_object_foreach(s->globals, k, v) {
                char kn[64];
                smbconf_key_norm(k, kn, sizeof kn);
                if (STREQ(kn, norm))
                        return json_string_value(v);
        }
        if (STREQ(norm, "serversmbencrypt") && g && smbconf_get(g, "smb encrypt"))
                return smbconf_get(g, "smb encrypt");
        return g ? smbconf_get(g, param) : NULL;
}

static json_t *setting_value(const char *key, const char *v) {
        bool b;
        int64_t n;

        if (STREQ(key, "smb:netbios"))
                return json_boolean(!(smbconf_bool(v, &b) == 0 && b));
        if (STREQ(key, "smb:log_level")) {
                char first[16];
                snprintf(first, sizeof first, "%.*s", (int)strcspn(v, " \t"), v);
                return json_integer(safe_atoi64(first, &n) == 0 ? n : 0);
        }
        if (STREQ(key, "smb:min_protocol") || STREQ(key, "smb:signing") ||
            STREQ(key, "smb:encryption")) {
                char up[32];
                snprintf(up, sizeof up, "%s", v);
                for (char *c = up; *c; c++)
                        *c = STREQ(key, "smb:min_protocol") ? (char)toupper((unsigned char)*c)
                                                            : (char)tolower((unsigned char)*c);
                if (STREQ(up, "mandatory") && STREQ(key, "smb:encryption"))
                        return json_string("required");
                return json_string(up);
        }
        return json_string(v);
}

static int shares_settings_read(json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *smb = json_object();
        struct shares_state s;
        int r;

        r = state_load(&s, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(smb_params) && smb; i++)
                json_object_set_new(smb, smb_params[i].key + 4,
                                    setting_value(smb_params[i].key,
                                                  global_value(&s, smb_params[i].param)
                                                          ?: smb_params[i].def));
        *ret = smb ? json_pack("{s:O, s:O}", "roots", s.roots, "smb", smb) : NULL;
        state_done(&s);
        return *ret ? 0 : oom(err);
}

static int set_global(json_t *globals, const char *param, json_t *v) {
        char norm[64], kn[64];
        const char *k;
        json_t *x;
        void *tmp;

        smbconf_key_norm(param, norm, sizeof norm);
        json_object_foreach_safe(globals, tmp, k, x) {
                smbconf_key_norm(k, kn, sizeof kn);
                if (STREQ(kn, norm))
                        json_object_del(globals, k);
        }
        return v ? json_object_set_new(globals, param, v) : 0;
}

static int apply_one(struct shares_state *s, const char *k, json_t *v, json_t **conf,
                     struct module_error *err) {
        char text[300];

        if (STREQ(k, "roots")) {
                size_t i;
                json_t *x;
                struct buf b;
                buf_init(&b, 64 * 1024);
                buf_puts(&b, "# Managed by Steward: the folders under which share points may be "
                             "made.\n");
                json_array_foreach(v, i, x) {
                        if (!json_is_string(x) || !root_valid(json_string_value(x))) {
                                buf_free(&b);
                                module_error_set(err, 422, "invalid_setting", k,
                                                 "roots: not a folder shares may be made under");
                                return -EINVAL;
                        }
                        buf_printf(&b, "root = %s\n", json_string_value(x));
                }
                buf_append(&b, "", 1);
                *conf = json_string(b.data);
                buf_free(&b);
                return *conf ? 0 : oom(err);
        }
        for (size_t i = 0; i < ELEMENTSOF(smb_params); i++) {
                if (!STREQ(k, smb_params[i].key))
                        continue;
                if (STREQ(k, "smb:netbios"))
                        snprintf(text, sizeof text, "%s", json_is_true(v) ? "no" : "yes");
                else if (STREQ(k, "smb:log_level"))
                        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                else
                        snprintf(text, sizeof text, "%s", json_string_value(v) ?: "");
                if ((STREQ(k, "smb:signing") || STREQ(k, "smb:encryption")) &&
                    STREQ(text, "default"))
                        return set_global(s->globals, smb_params[i].param, NULL);
                return set_global(s->globals, smb_params[i].param, json_string(text)) < 0
                               ? oom(err)
                               : 0;
        }
        module_error_set(err, 422, "unknown_setting", k, "shares has no setting %.100s", k);
        return -ENOENT;
}

static int shares_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                                 json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *plan = json_object(), *changed = json_array(), *done = NULL,
                              *conf = NULL, *notes = json_array();
        struct commit_data c = {.notes = notes};
        struct shares_state s;
        struct change_plan p;
        const char *k;
        json_t *v;
        int r;

        (void)ctx;
        if (!plan || !changed || !notes)
                return oom(err);
        r = state_load(&s, err);
        if (r < 0)
                return r;
        json_object_foreach(changes, k, v) {
                r = apply_one(&s, k, v, &conf, err);
                if (r < 0)
                        goto out;
                json_array_append_new(changed, json_string(k));
        }
        change_plan_init(&p);
        r = plan_files(&p, &s, s.shares, NULL, &c, err);
        if (r >= 0 && conf)
                edit(&p, SHARES_CONF, s.conf, json_string_value(conf), 0644, true);
        if (r >= 0)
                r = change_run(&p,
                               &(struct change_opts){.dry_run = dry_run,
                                                     .hooks = &shares_hooks,
                                                     .commit = commit,
                                                     .data = &c},
                               &done, err);
        change_plan_done(&p);
        if (r < 0)
                goto out;
        if (json_object_set(plan, "changed", changed) < 0 ||
            json_object_set_new(plan, "dry_run", json_boolean(dry_run)) < 0 ||
            json_object_set_new(plan, "restart_required", json_false()) < 0 ||
            json_object_set(plan, "files", json_object_get(done, "files")) < 0 ||
            json_object_set(plan, "warnings", notes) < 0) {
                r = oom(err);
                goto out;
        }
        *ret = json_incref(plan);
out:
        state_done(&s);
        return r;
}

static const char *const *shares_files(void) {
        static const char *const owned[] = {SMB_CONF,   SMB_INCLUDE, EXPORTS_FILE,
                                            AVAHI_FILE, SHARES_CONF, NULL};
        return owned;
}

/* After a rollback put files back: what they say is served. */
static int shares_make_live(bool helper, struct module_error *err) {
        if (!helper)
                return 0;
        (void)smbd_reload(NULL);
        if (access(EXPORTS_FILE, F_OK) == 0 || nfs_tools_installed())
                return exports_apply(NULL, err) < 0 && access(EXPORTS_FILE, F_OK) == 0 ? -EIO : 0;
        return 0;
}

/* ---- start, stop, restart: the servers, through systemd ------------------------------- */

static int servers(const char *verb, struct module_error *err) {
        const char *units[3];
        size_t n = 0;

        if (samba_installed())
                units[n++] = "smbd.service";
        if (samba_installed() && access("/lib/systemd/system/nmbd.service", F_OK) == 0)
                units[n++] = "nmbd.service";
        if (nfs_tools_installed())
                units[n++] = "nfs-server.service";
        return change_units_control(verb, units, n, "Samba and the NFS server", err);
}

static int shares_start(const struct module_ctx *ctx, struct module_error *err) {
        (void)ctx;
        return servers("start", err);
}

static int shares_stop(const struct module_ctx *ctx, struct module_error *err) {
        (void)ctx;
        return servers("stop", err);
}

static int shares_restart(const struct module_ctx *ctx, struct module_error *err) {
        (void)ctx;
        return servers("restart", err);
}

static int shares_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        (void)ctx;
        *ret = json_pack("{s:s, s:b, s:b, s:b}", "state",
                         samba_installed() || nfs_tools_installed() ? "running" : "unavailable",
                         "samba", samba_installed(), "samba_vfs_modules",
                         samba_vfs_fruit_installed(), "nfs", nfs_tools_installed());
        return *ret ? 0 : oom(err);
}

/* ---- routes ---------------------------------------------------------------------- */

static int read_in_helper(const struct module_ctx *ctx, const char *what, json_t *extra,
                          json_t **ret, struct module_error *err) {
        json_t *args = json_pack("{s:s}", "what", what);

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
        return ctx->privileged_read(ctx, "shares", args, ret, err); /* takes args over */
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

/* The role each read needs: the folder picker's is admin, as its route. */
static int shares_privileged_read_role(json_t *args) {
        const char *what = json_string_value(json_object_get(args, "what"));

        if (!what)
                return -1;
        if (STREQ(what, "connections") || STREQ(what, "smb_users"))
                return ROLE_MONITOR;
        if (STREQ(what, "folders"))
                return ROLE_ADMIN;
        return -1;
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
        {.name = "importable",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_SHOWN,
         .label = "Importable",
         .description = "a share of smb.conf that can be imported (not homes, printers, print$)"},
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

static const collection_column_t session_columns[] = {
        {"id", "ID", NULL},        {"user", "USER", NULL},       {"client", "CLIENT", NULL},
        {"share", "SHARES", NULL}, {"dialect", "DIALECT", NULL}, {"encrypted", "ENCRYPTED", NULL},
        {"since", "SINCE", NULL},
};

static const collection_column_t smb_user_columns[] = {
        {"name", "USER", NULL},
        {"uid", "UID", NULL},
        {"enabled", "ENABLED", NULL},
        {"full_name", "FULL NAME", NULL},
};

static const collection_verb_t share_verbs[] = {
        {"list", VERB_LIST, "list the share points", NULL, 0, NULL, false, false},
        {"show", VERB_SHOW, "show a share point: its protocols, folder and warnings", NULL, 0, NULL,
         false, false},
        {"add", VERB_CREATE, "publish a folder", add_opts, ELEMENTSOF(add_opts), NULL, false,
         false},
        {"modify", VERB_MODIFY, "change a share point", add_opts, ELEMENTSOF(add_opts), NULL, false,
         false},
        {"delete", VERB_DELETE, "stop sharing a folder (the folder stays)", NULL, 0, NULL, false,
         false},
        {"import", VERB_MODIFY, "take over a share defined in smb.conf (a planned step)", NULL, 0,
         "{\"source\": \"steward\"}", false, false},
        {.name = "sessions",
         .op = VERB_ROUTE_LIST,
         .summary = "who is connected: SMB sessions and NFS clients",
         .route = "api/v1/modules/shares/connections",
         .list_key = "connections",
         .columns = session_columns,
         .n_columns = ELEMENTSOF(session_columns)},
        {.name = "disconnect",
         .op = VERB_COMMAND,
         .summary = "end a connection (SMB: every session from the client's address)",
         .command = "disconnect",
         .arg = "id"},
        {.name = "smb-users",
         .op = VERB_ROUTE_LIST,
         .summary = "the users with a Samba account, and whether each is enabled",
         .route = "api/v1/modules/shares/smb-users",
         .list_key = "smb_users",
         .columns = smb_user_columns,
         .n_columns = ELEMENTSOF(smb_user_columns)},
        {.name = "smb-password",
         .op = VERB_COMMAND,
         .summary = "set a user's SMB password (Samba's own; asked twice, or one line of stdin)",
         .password = true,
         .command = "smb_account",
         .arg = "user"},
        {.name = "smb-enable",
         .op = VERB_COMMAND,
         .summary = "let a user with a Samba account log in over SMB again",
         .body = "{\"enabled\": true}",
         .command = "smb_account",
         .arg = "user"},
        {.name = "smb-disable",
         .op = VERB_COMMAND,
         .summary = "keep a user from logging in over SMB (the account stays)",
         .body = "{\"enabled\": false}",
         .command = "smb_account",
         .arg = "user"},
        {.name = "smb-remove",
         .op = VERB_COMMAND,
         .summary = "remove a user from Samba's accounts",
         .body = "{\"remove\": true}",
         .command = "smb_account",
         .arg = "user"},
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
         .description = "the new SMB password (adds the user to Samba's database)",
         .secret = true},
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

/* Named routes[] and written {method, pattern, role, handler}: the route
 * walk of tests/integration/test_security.py reads module tables so. */
static const module_route_t routes[] = {
        {"GET", "api/v1/modules/shares/connections", ROLE_MONITOR, route_connections,
         .summary = "who is connected: SMB sessions and their shares, NFS clients"},
        /* The command disconnect {id}, with its role (admin). */
        {"DELETE", "api/v1/modules/shares/connections/*", ROLE_ADMIN, NULL, .command = "disconnect",
         .params = "id", .summary = "disconnect a client: the command disconnect {id}"},
        {"GET", "api/v1/modules/shares/smb-users", ROLE_MONITOR, route_smb_users,
         .summary = "Samba's accounts and whether each is enabled"},
        {"GET", "api/v1/modules/shares/folders", ROLE_ADMIN, route_folders,
         .summary = "the folders under a root, for a share's folder picker", .query = "under"},
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
        .status = shares_status,
        .fullstatus = shares_status,
        .settings = shares_settings,
        .n_settings = ELEMENTSOF(shares_settings),
        .settings_read = shares_settings_read,
        .settings_apply = shares_settings_apply,
        .files = shares_files,
        .make_live = shares_make_live,
        .change = &shares_hooks,
        .start = shares_start,
        .stop = shares_stop,
        .restart = shares_restart,
        .commands = shares_commands,
        .n_commands = ELEMENTSOF(shares_commands),
        .privileged_read = shares_privileged_read,
        .privileged_read_role = shares_privileged_read_role,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .collections = shares_collections,
        .n_collections = ELEMENTSOF(shares_collections),
        .events = shares_events,
        .n_events = ELEMENTSOF(shares_events),
        .events_poll = connections_events_poll,
        .file_read = folder_read,
        .file_restore = folder_restore,
        .console_title = "File sharing",
};
