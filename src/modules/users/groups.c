/* groups.c — the `groups` module: local groups as a collection, read
 * through NSS, changed with groupadd, groupmod, groupdel and gpasswd through
 * the change engine (plan, guards, apply), in the helper.  Non-local groups are
 * read-only; system groups (gid below GID_MIN) need "force".
 *
 * The collection is described by data (the schema tables below): the CLI's
 * `steward groups …` and the console's page are built from it. */
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

/* ---- the schema (module.h): what the API exports and the CLI and the
 * console are built from.  check_fields() below reads its writable fields;
 * the checks of values stay in the code. */
static const collection_field_t fields[] = {
        {.name = "name",
         .type = FIELD_STRING,
         .min = 1,
         .max = ACCOUNT_NAME_MAX,
         .flags = FIELD_CREATE | FIELD_SHOWN,
         .label = "Name",
         .description = "the group name: a lowercase letter, then lowercase letters, digits, "
                        "'-' or '_'"},
        {.name = "gid",
         .type = FIELD_INTEGER,
         .min = 0,
         .max = UINT32_MAX - 1,
         .flags = FIELD_CREATE | FIELD_SHOWN,
         .label = "GID",
         .description = "the group id, in GID_MIN..GID_MAX; by default the next free one"},
        {.name = "members",
         .type = FIELD_STRING_ARRAY,
         .max = GROUP_MEMBERS_MAX,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN,
         .label = "Members",
         .description = "the supplementary members (the whole list)"},
        {.name = "local",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_SHOWN,
         .label = "Local",
         .description = "from the local files (else from a directory service, read-only)"},
        {.name = "system",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_SHOWN,
         .label = "System",
         .description = "a system group (gid outside GID_MIN..GID_MAX)"},
        {.name = "new_name",
         .type = FIELD_STRING,
         .max = ACCOUNT_NAME_MAX,
         .flags = FIELD_MODIFY,
         .label = "New name",
         .description = "rename the group"},
        {.name = "add_members",
         .type = FIELD_STRING_ARRAY,
         .max = GROUP_MEMBERS_MAX,
         .flags = FIELD_MODIFY,
         .label = "Add members",
         .description = "users to add"},
        {.name = "remove_members",
         .type = FIELD_STRING_ARRAY,
         .max = GROUP_MEMBERS_MAX,
         .flags = FIELD_MODIFY,
         .label = "Remove members",
         .description = "users to remove"},
        {.name = "force",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_MODIFY,
         .label = "Force",
         .description = "change a system group"},
};

static const char *const list_types[] = {"regular", "system", "all", NULL};

static const collection_query_t query_args[] = {
        {"type", FIELD_ENUM, "list: regular, system or all (default)", list_types},
        {"prefix", FIELD_STRING, "list: names starting with this"},
        {"limit", FIELD_INTEGER, "list: at most this many"},
        {"cursor", FIELD_STRING, "list: continue after this name (the answer's next)"},
        {"force", FIELD_BOOLEAN, "modify, delete: a system group"},
};

static const collection_column_t columns[] = {
        {"name", "Name", NULL},
        {"gid", "GID", NULL},
        {"members", "Members", NULL},
        {"local", "Local", NULL},
};

static const collection_option_t list_opts[] = {
        {"type", 't', "type", COPT_QUERY, "regular|system|all"},
        {"prefix", 'p', "prefix", COPT_QUERY, "P"},
        {"limit", 'n', "limit", COPT_QUERY, "N"},
};

static const collection_option_t add_opts[] = {
        {"gid", 'g', "gid", COPT_VALUE, "N"},
        {"members", 'U', "members", COPT_VALUE, "U,…"},
};

static const collection_option_t modify_opts[] = {
        {"new-name", 'n', "new_name", COPT_VALUE, "NEW"},
        {"force", 'f', "force", COPT_TRUE, NULL},
};

static const collection_option_t delete_opts[] = {
        {"force", 'f', "force", COPT_QUERY_FLAG, NULL},
};

static const collection_option_t members_opts[] = {
        {"add", 'a', "add_members", COPT_VALUE, "U,…"},
        {"remove", 'd', "remove_members", COPT_VALUE, "U,…"},
        {"set", 'M', "members", COPT_VALUE, "U,…"},
        {"force", 'f', "force", COPT_TRUE, NULL},
};

#define OPTS(o) .options = (o), .n_options = ELEMENTSOF(o)

static const collection_verb_t verbs[] = {
        {.name = "list", .op = VERB_LIST, .summary = "list the groups", OPTS(list_opts)},
        {.name = "show", .op = VERB_SHOW, .summary = "one group with its members"},
        {.name = "add", .op = VERB_CREATE, .summary = "create a group", OPTS(add_opts)},
        {.name = "modify", .op = VERB_MODIFY, .summary = "rename a group", OPTS(modify_opts)},
        {.name = "delete", .op = VERB_DELETE, .summary = "delete a group", OPTS(delete_opts)},
        {.name = "members",
         .op = VERB_MODIFY,
         .summary = "show or change the members",
         OPTS(members_opts),
         .bare_show = true},
};

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

/* A body carries only the fields the schema lets this op write. */
static int check_fields(collection_op_t op, json_t *body, struct module_error *err) {
        unsigned want = op == COLLECTION_CREATE   ? FIELD_CREATE
                        : op == COLLECTION_MODIFY ? FIELD_MODIFY
                                                  : 0;
        const char *k;
        json_t *v;

        json_object_foreach(body, k, v) {
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        known |= STREQ(fields[i].name, k) && (fields[i].flags & want);
                if (!known)
                        return account_invalid(err, 400, k, "unknown field \"%.64s\"", k);
        }
        return 0;
}

/* The group a modify or delete acts on: local, and not a system group
 * unless forced. */
static int check_target(const struct acctdb *db, const char *id, json_t *body, json_t *query,
                        const struct acct_group **ret, struct module_error *err) {
        bool force =
                json_is_true(json_object_get(body, "force")) || acct_query_flag(query, "force");
        const struct acct_group *g = account_name_valid(id) ? acctdb_group(db, id) : NULL;

        if (!g) {
                module_error_set(err, 404, "not_found", NULL, "no group \"%.64s\"", id);
                return -EINVAL;
        }
        if (!g->local) {
                module_error_set(err, 409, "not_local", NULL,
                                 "%s comes from a directory service (NSS): change it there", id);
                return -EINVAL;
        }
        if (g->gid < db->defs.gid_min && !force) {
                module_error_set(err, 409, "system_account", "force",
                                 "%s is a system group (gid %u, below GID_MIN %u): pass force to "
                                 "change it",
                                 id, g->gid, db->defs.gid_min);
                return -EINVAL;
        }
        if (json_object_get(body, "force") && !json_is_boolean(json_object_get(body, "force")))
                return account_invalid(err, 400, "force", "force must be true or false%s", "");
        *ret = g;
        return 0;
}

static int group_create(const struct module_ctx *ctx, const struct acctdb *db, struct change_plan *e,
                        json_t *body, bool dry_run, json_t **ret, struct module_error *err) {
        const char *name = json_string_value(json_object_get(body, "name"));
        json_t *gid = json_object_get(body, "gid");
        struct change_cmd *c;

        if (!name || !account_name_valid(name))
                return account_invalid(err, 422, "name",
                                       "\"%.64s\" is not a valid group name: 1 to 32 characters, "
                                       "a lowercase letter first, then lowercase letters, "
                                       "digits, '-' or '_'",
                                       name ? name : "");
        if (acctdb_group(db, name)) {
                module_error_set(err, 409, "exists", "name", "a group \"%s\" exists", name);
                return -EEXIST;
        }
        if (gid && (!json_is_integer(gid) || json_integer_value(gid) < db->defs.gid_min ||
                    json_integer_value(gid) > db->defs.gid_max)) {
                module_error_set(err, 422, "invalid_argument", "gid",
                                 "gid is a number in GID_MIN..GID_MAX (%u..%u) of "
                                 "/etc/login.defs",
                                 db->defs.gid_min, db->defs.gid_max);
                return -EINVAL;
        }
        if (gid && acctdb_group_by_gid(db, (uint32_t)json_integer_value(gid))) {
                module_error_set(err, 409, "exists", "gid", "gid %lld is taken",
                                 (long long)json_integer_value(gid));
                return -EEXIST;
        }
        c = change_cmd(e, GROUPADD);
        if (gid)
                change_argf(e, c, "--gid=%lld", (long long)json_integer_value(gid));
        change_arg(e, c, "--");
        change_arg(e, c, name);
        if (json_array_size(json_object_get(body, "members"))) {
                c = change_cmd(e, GPASSWD);
                change_arg(e, c, "--members");
                members_arg(e, c, json_object_get(body, "members"));
                change_arg(e, c, "--");
                change_arg(e, c, name);
        }
        return run(ctx, e, dry_run, name, ret, err);
}

/* One gpasswd OPT USER -- GROUP for each name of list. */
static void gpasswd_each(struct change_plan *e, const char *opt, json_t *list, const char *group) {
        size_t i;
        json_t *v;

        json_array_foreach(list, i, v) {
                struct change_cmd *c = change_cmd(e, GPASSWD);
                change_arg(e, c, opt);
                change_arg(e, c, json_string_value(v));
                change_arg(e, c, "--");
                change_arg(e, c, group);
        }
}

static int group_modify(const struct module_ctx *ctx, const struct acctdb *db,
                        const struct acct_group *g, struct change_plan *e, json_t *body, bool dry_run,
                        json_t **ret, struct module_error *err) {
        const char *final = g->name, *s;
        struct change_cmd *c;
        json_t *v;
        size_t i;

        if (json_object_get(body, "members") &&
            (json_object_get(body, "add_members") || json_object_get(body, "remove_members")))
                return account_invalid(err, 422, "members",
                                       "give members (the whole list) or "
                                       "add_members/remove_members%s",
                                       "");
        if ((v = json_object_get(body, "new_name"))) {
                s = json_string_value(v);
                if (!s || !account_name_valid(s))
                        return account_invalid(err, 422, "new_name",
                                               "\"%.64s\" is not a valid group name", s ? s : "");
                if (acctdb_group(db, s)) {
                        module_error_set(err, 409, "exists", "new_name", "a group \"%s\" exists",
                                         s);
                        return -EEXIST;
                }
                c = change_cmd(e, GROUPMOD);
                change_argf(e, c, "--new-name=%s", s);
                change_arg(e, c, "--");
                change_arg(e, c, g->name);
                final = s;
        }
        if (json_object_get(body, "members")) {
                c = change_cmd(e, GPASSWD);
                change_arg(e, c, "--members");
                members_arg(e, c, json_object_get(body, "members"));
                change_arg(e, c, "--");
                change_arg(e, c, final);
        }
        gpasswd_each(e, "--add", json_object_get(body, "add_members"), final);
        json_array_foreach(json_object_get(body, "remove_members"), i, v) {
                bool member = false;
                for (size_t k = 0; k < g->n_members; k++)
                        member |= STREQ(g->members[k], json_string_value(v));
                if (!member)
                        return account_invalid(err, 422, "remove_members", "%s is not a member",
                                               json_string_value(v));
        }
        gpasswd_each(e, "--delete", json_object_get(body, "remove_members"), final);
        if (e->n_cmds == 0)
                return account_invalid(err, 422, NULL, "nothing to change%s", "");
        return run(ctx, e, dry_run, final, ret, err);
}

static int group_delete(const struct module_ctx *ctx, const char *id, struct change_plan *e,
                        bool dry_run, json_t **ret, struct module_error *err) {
        struct change_cmd *c = change_cmd(e, GROUPDEL);
        int r;

        change_arg(e, c, "--");
        change_arg(e, c, id);
        r = run(ctx, e, dry_run, NULL, ret, err);
        if (*ret)
                json_object_del(*ret, "result");
        return r;
}

static int groups_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                        json_t *body, json_t *query, bool dry_run, json_t **ret,
                        struct module_error *err) {
        const struct acct_group *g = NULL;
        struct acctdb db;
        struct change_plan e;
        int r;

        *ret = NULL;
        if ((r = check_fields(op, body, err)) < 0 || (r = load(&db, err)) < 0)
                return r;
        change_plan_init(&e);
        if ((r = check_members(&db, body, "members", err)) < 0 ||
            (r = check_members(&db, body, "add_members", err)) < 0 ||
            (r = check_members(&db, body, "remove_members", err)) < 0)
                goto out;
        if (op != COLLECTION_CREATE && (r = check_target(&db, id, body, query, &g, err)) < 0)
                goto out;
        if (op == COLLECTION_CREATE)
                r = group_create(ctx, &db, &e, body, dry_run, ret, err);
        else if (op == COLLECTION_MODIFY)
                r = group_modify(ctx, &db, g, &e, body, dry_run, ret, err);
        else
                r = group_delete(ctx, id, &e, dry_run, ret, err);
out:
        change_plan_done(&e);
        acctdb_done(&db);
        return r;
}

static const collection_def_t collections[] = {{
        .name = "groups",
        .item = "group",
        .summary = "local groups",
        .id_field = "name",
        .fields = fields,
        .n_fields = ELEMENTSOF(fields),
        .query = query_args,
        .n_query = ELEMENTSOF(query_args),
        .columns = columns,
        .n_columns = ELEMENTSOF(columns),
        .verbs = verbs,
        .n_verbs = ELEMENTSOF(verbs),
        .list = groups_list,
        .show = groups_show,
        .write = groups_write,
}};

const module_t module_groups = {
        .name = "groups",
        .summary = "Local groups: list, show, create, rename, members, delete",
        .collections = collections,
        .n_collections = ELEMENTSOF(collections),
        .change = &account_change_hooks,
};
