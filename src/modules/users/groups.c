/* groups.c — the `groups` module: local groups as a collection, read
 * through NSS, changed with groupadd, groupmod, groupdel and gpasswd through
 * engine.c (plan, guards, apply), in the helper.  Non-local groups are
 * read-only; system groups (gid below GID_MIN) need "force". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "modules/users/acctdb.h"
#include "modules/users/users.h"
#include "util.h"

/* Members named in one request: their comma-separated list is one argument
 * of gpasswd -M, which must stay under the kernel's 128 KiB per argument. */
#define GROUP_MEMBERS_MAX 3000

#define GROUPADD "/usr/sbin/groupadd"
#define GROUPMOD "/usr/sbin/groupmod"
#define GROUPDEL "/usr/sbin/groupdel"
#define GPASSWD  "/usr/bin/gpasswd"

static json_t *group_json(const struct acctdb *db, const struct acct_group *g) {
        json_t *m = json_array();
        for (size_t i = 0; m && i < g->n_members; i++)
                json_array_append_new(m, json_string(g->members[i]));
        return json_pack("{s:s, s:I, s:o, s:b, s:b}", "name", g->name, "gid", (json_int_t)g->gid,
                         "members", m ? m : json_array(), "local", g->local, "system",
                         g->gid < db->defs.gid_min || g->gid > db->defs.gid_max);
}

static int load(struct acctdb *db, struct module_error *err) {
        int r = acctdb_load(db, false);
        if (r < 0)
                module_error_set(err, 500, "internal", NULL, "cannot read the groups: %s",
                                 strerror(-r));
        return r;
}

static int groups_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                       struct module_error *err) {
        const char *type = json_string_value(json_object_get(query, "type"));
        const char *prefix = json_string_value(json_object_get(query, "prefix"));
        const char *cursor = json_string_value(json_object_get(query, "cursor"));
        size_t limit, i = 0, pl = prefix ? strlen(prefix) : 0;
        const struct acct_group **sorted = NULL;
        const char *last = "";
        struct acctdb db;
        json_t *list, *out;
        int r;

        if (type && !STREQ(type, "regular") && !STREQ(type, "system") && !STREQ(type, "all")) {
                module_error_set(err, 400, "invalid_argument", "type",
                                 "type is regular, system or all");
                return -EINVAL;
        }
        if ((r = acct_query_limit(query, &limit, err)) < 0 || (r = load(&db, err)) < 0)
                return r;
        if (acctdb_sorted_groups(&db, &sorted) < 0) {
                acctdb_done(&db);
                return -ENOMEM;
        }
        list = json_array();
        out = json_pack("{s:o}", "groups", list);
        if (cursor)
                while (i < db.n_groups && strcmp(sorted[i]->name, cursor) <= 0)
                        i++;
        for (; out && i < db.n_groups; i++) {
                const struct acct_group *g = sorted[i];
                bool system = g->gid < db.defs.gid_min || g->gid > db.defs.gid_max;
                if (type &&
                    ((STREQ(type, "regular") && system) || (STREQ(type, "system") && !system)))
                        continue;
                if (pl && strncmp(g->name, prefix, pl) != 0)
                        continue;
                if (json_array_size(list) == limit) {
                        json_object_set_new(out, "next", json_string(last));
                        break;
                }
                json_array_append_new(list, group_json(&db, g));
                last = g->name;
        }
        free(sorted);
        acctdb_done(&db);
        *ret = out;
        return out ? 0 : -ENOMEM;
}

static int group_show(const char *name, json_t **ret, struct module_error *err) {
        struct acctdb db;
        const struct acct_group *g;
        int r;

        if (!account_name_valid(name)) {
                module_error_set(err, 404, "not_found", NULL, "no group \"%.64s\"", name);
                return -ENOENT;
        }
        if ((r = load(&db, err)) < 0)
                return r;
        g = acctdb_group(&db, name);
        *ret = g ? group_json(&db, g) : NULL;
        if (*ret) {
                json_t *prim = json_array();
                for (size_t i = 0; i < db.n_users; i++)
                        if (db.users[i].gid == g->gid)
                                json_array_append_new(prim, json_string(db.users[i].name));
                json_object_set_new(*ret, "primary_members", prim);
        }
        acctdb_done(&db);
        if (!g) {
                module_error_set(err, 404, "not_found", NULL, "no group \"%.64s\"", name);
                return -ENOENT;
        }
        return *ret ? 0 : -ENOMEM;
}

static int groups_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                       struct module_error *err) {
        return group_show(id, ret, err);
}

static int check_members(const struct acctdb *db, json_t *body, const char *field,
                         struct module_error *err) {
        json_t *list = json_object_get(body, field), *v;
        size_t i;

        if (!list)
                return 0;
        if (!json_is_array(list))
                return account_invalid(err, 400, field, "%s must be a list of user names", field);
        if (json_array_size(list) > GROUP_MEMBERS_MAX)
                return account_invalid(err, 422, field, "%s: at most %d names at a time", field,
                                       GROUP_MEMBERS_MAX);
        json_array_foreach(list, i, v) {
                const char *s = json_string_value(v);
                if (!account_name_valid(s))
                        return account_invalid(err, 422, field,
                                               "\"%.64s\" is not a valid user name", s ? s : "?");
                if (!acctdb_user(db, s))
                        return account_invalid(err, 422, field, "no user \"%.64s\"", s);
        }
        return 0;
}

static void members_arg(struct change_plan *e, struct change_cmd *c, json_t *list) {
        /* GROUP_MEMBERS_MAX names of at most 32 bytes and their commas fit
         * in one argument (the kernel's limit is 128 KiB). */
        change_arg_joined(e, c, list, GROUP_MEMBERS_MAX * (ACCOUNT_NAME_MAX + 1));
}

static int run(const struct module_ctx *ctx, struct change_plan *e, bool dry_run, const char *name,
               json_t **ret, struct module_error *err) {
        json_t *plan = NULL, *g = NULL;
        int r = account_change_run(e, dry_run, acct_guard, (void *)(ctx ? ctx->user : NULL), &plan,
                                   err);

        if (!plan)
                return r;
        if (r >= 0 && !dry_run && name && group_show(name, &g, err) < 0)
                g = NULL;
        *ret = json_pack("{s:o, s:{s:o?}}", "plan", plan, "result", "group", g);
        return *ret ? r : -ENOMEM;
}

static int groups_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                        json_t *body, json_t *query, bool dry_run, json_t **ret,
                        struct module_error *err) {
        static const char *const create_keys[] = {"name", "gid", "members"};
        static const char *const modify_keys[] = {"new_name", "members", "add_members",
                                                  "remove_members", "force"};
        const struct acct_group *g = NULL;
        struct acctdb db;
        struct change_plan e;
        struct change_cmd *c;
        const char *k, *s;
        json_t *v;
        int r;

        *ret = NULL;
        json_object_foreach(body, k, v) {
                bool known = false;
                const char *const *keys = op == COLLECTION_CREATE ? create_keys : modify_keys;
                size_t n = op == COLLECTION_CREATE   ? ELEMENTSOF(create_keys)
                           : op == COLLECTION_MODIFY ? ELEMENTSOF(modify_keys)
                                                     : 0;
                for (size_t i = 0; i < n; i++)
                        known |= STREQ(keys[i], k);
                if (!known)
                        return account_invalid(err, 400, k, "unknown field \"%.64s\"", k);
        }
        if ((r = load(&db, err)) < 0)
                return r;
        change_plan_init(&e);
        if ((r = check_members(&db, body, "members", err)) < 0 ||
            (r = check_members(&db, body, "add_members", err)) < 0 ||
            (r = check_members(&db, body, "remove_members", err)) < 0)
                goto out;
        if (op != COLLECTION_CREATE) {
                bool force = json_is_true(json_object_get(body, "force")) ||
                             acct_query_flag(query, "force");
                g = account_name_valid(id) ? acctdb_group(&db, id) : NULL;
                r = -EINVAL;
                if (!g) {
                        module_error_set(err, 404, "not_found", NULL, "no group \"%.64s\"", id);
                        goto out;
                }
                if (!g->local) {
                        module_error_set(err, 409, "not_local", NULL,
                                         "%s comes from a directory service (NSS): change it "
                                         "there",
                                         id);
                        goto out;
                }
                if (g->gid < db.defs.gid_min && !force) {
                        module_error_set(err, 409, "system_account", "force",
                                         "%s is a system group (gid %u, below GID_MIN %u): pass "
                                         "force to change it",
                                         id, g->gid, db.defs.gid_min);
                        goto out;
                }
                if (json_object_get(body, "force") &&
                    !json_is_boolean(json_object_get(body, "force"))) {
                        r = account_invalid(err, 400, "force", "force must be true or false%s", "");
                        goto out;
                }
        }
        r = 0;
        if (op == COLLECTION_CREATE) {
                const char *name = json_string_value(json_object_get(body, "name"));
                json_t *gid = json_object_get(body, "gid");
                if (!name || !account_name_valid(name)) {
                        r = account_invalid(
                                err, 422, "name",
                                "\"%.64s\" is not a valid group name: 1 to 32 characters, a "
                                "lowercase letter first, then lowercase letters, digits, '-' or "
                                "'_'",
                                name ? name : "");
                        goto out;
                }
                if (acctdb_group(&db, name)) {
                        module_error_set(err, 409, "exists", "name", "a group \"%s\" exists", name);
                        r = -EEXIST;
                        goto out;
                }
                if (gid && (!json_is_integer(gid) || json_integer_value(gid) < db.defs.gid_min ||
                            json_integer_value(gid) > db.defs.gid_max)) {
                        module_error_set(err, 422, "invalid_argument", "gid",
                                         "gid is a number in GID_MIN..GID_MAX (%u..%u) of "
                                         "/etc/login.defs",
                                         db.defs.gid_min, db.defs.gid_max);
                        r = -EINVAL;
                        goto out;
                }
                if (gid && acctdb_group_by_gid(&db, (uint32_t)json_integer_value(gid))) {
                        module_error_set(err, 409, "exists", "gid", "gid %lld is taken",
                                         (long long)json_integer_value(gid));
                        r = -EEXIST;
                        goto out;
                }
                c = change_cmd(&e, GROUPADD);
                if (gid)
                        change_argf(&e, c, "--gid=%lld", (long long)json_integer_value(gid));
                change_arg(&e, c, "--");
                change_arg(&e, c, name);
                if (json_array_size(json_object_get(body, "members"))) {
                        c = change_cmd(&e, GPASSWD);
                        change_arg(&e, c, "--members");
                        members_arg(&e, c, json_object_get(body, "members"));
                        change_arg(&e, c, "--");
                        change_arg(&e, c, name);
                }
                r = run(ctx, &e, dry_run, name, ret, err);
        } else if (op == COLLECTION_MODIFY) {
                const char *final = id;
                if (json_object_get(body, "members") && (json_object_get(body, "add_members") ||
                                                         json_object_get(body, "remove_members"))) {
                        r = account_invalid(
                                err, 422, "members",
                                "give members (the whole list) or add_members/remove_members%s",
                                "");
                        goto out;
                }
                if ((v = json_object_get(body, "new_name"))) {
                        s = json_string_value(v);
                        if (!s || !account_name_valid(s)) {
                                r = account_invalid(err, 422, "new_name",
                                                    "\"%.64s\" is not a valid group name",
                                                    s ? s : "");
                                goto out;
                        }
                        if (acctdb_group(&db, s)) {
                                module_error_set(err, 409, "exists", "new_name",
                                                 "a group \"%s\" exists", s);
                                r = -EEXIST;
                                goto out;
                        }
                        c = change_cmd(&e, GROUPMOD);
                        change_argf(&e, c, "--new-name=%s", s);
                        change_arg(&e, c, "--");
                        change_arg(&e, c, id);
                        final = s;
                }
                if (json_object_get(body, "members")) {
                        c = change_cmd(&e, GPASSWD);
                        change_arg(&e, c, "--members");
                        members_arg(&e, c, json_object_get(body, "members"));
                        change_arg(&e, c, "--");
                        change_arg(&e, c, final);
                }
                size_t i;
                json_array_foreach(json_object_get(body, "add_members"), i, v) {
                        c = change_cmd(&e, GPASSWD);
                        change_arg(&e, c, "--add");
                        change_arg(&e, c, json_string_value(v));
                        change_arg(&e, c, "--");
                        change_arg(&e, c, final);
                }
                json_array_foreach(json_object_get(body, "remove_members"), i, v) {
                        bool member = false;
                        for (size_t k2 = 0; k2 < g->n_members; k2++)
                                member |= STREQ(g->members[k2], json_string_value(v));
                        if (!member) {
                                r = account_invalid(err, 422, "remove_members",
                                                    "%s is not a member", json_string_value(v));
                                goto out;
                        }
                        c = change_cmd(&e, GPASSWD);
                        change_arg(&e, c, "--delete");
                        change_arg(&e, c, json_string_value(v));
                        change_arg(&e, c, "--");
                        change_arg(&e, c, final);
                }
                if (e.n_cmds == 0) {
                        r = account_invalid(err, 422, NULL, "nothing to change%s", "");
                        goto out;
                }
                r = run(ctx, &e, dry_run, final, ret, err);
        } else {
                c = change_cmd(&e, GROUPDEL);
                change_arg(&e, c, "--");
                change_arg(&e, c, id);
                r = run(ctx, &e, dry_run, NULL, ret, err);
                if (*ret)
                        json_object_del(*ret, "result");
        }
out:
        change_plan_done(&e);
        acctdb_done(&db);
        return r;
}

static const collection_def_t collections[] = {
        {"groups", "group", groups_list, groups_show, groups_write},
};

const module_t module_groups = {
        .name = "groups",
        .summary = "Local groups: list, show, create, rename, members, delete",
        .collections = collections,
        .n_collections = ELEMENTSOF(collections),
        .change = &account_change_hooks,
};
