/* userschema.c — the `users` collection described as data (module.h):
 * its fields, query arguments, list columns and command line verbs.  The
 * API exports it (GET /api/v1/modules/users/schema, "collection_schemas"),
 * the CLI and the console build their tables, forms and options from it,
 * and the front and the helper pass on exactly the query arguments it
 * declares.
 *
 * It describes; it does not decide.  userwrite.c's field table and checks
 * stay the authority on what a request may carry and what a value may be
 * (test-collections.c checks that the two name the same writable fields).
 * Option names follow useradd and usermod where they overlap. */
#include <errno.h>

#include "module.h"
#include "modules/users/acctdb.h"
#include "modules/users/users.h"
#include "roles.h"
#include "util.h"

static const char *const password_states[] = {"set", "locked", "none", "expired", NULL};

static const collection_field_t fields[] = {
        {.name = "name",
         .type = FIELD_STRING,
         .min = 1,
         .max = ACCOUNT_NAME_MAX,
         .flags = FIELD_CREATE | FIELD_SHOWN,
         .label = "Name",
         .description = "the login name: a lowercase letter, then lowercase letters, digits, "
                        "'-' or '_'"},
        {.name = "uid",
         .type = FIELD_INTEGER,
         .min = 0,
         .max = UINT32_MAX - 1,
         .flags = FIELD_CREATE | FIELD_SHOWN,
         .label = "UID",
         .description = "the user id; by default the next free one from UID_MIN"},
        {.name = "gid",
         .type = FIELD_INTEGER,
         .min = 0,
         .max = UINT32_MAX - 1,
         .flags = FIELD_SHOWN,
         .label = "GID",
         .description = "the primary group's id"},
        {.name = "group",
         .type = FIELD_STRING,
         .max = ACCOUNT_NAME_MAX,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN,
         .label = "Group",
         .description = "the primary group (a name or a gid); by default a new group of the "
                        "user's name"},
        {.name = "groups",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN,
         .label = "Groups",
         .description = "supplementary groups (the whole list)"},
        {.name = "full_name",
         .type = FIELD_STRING,
         .max = 256,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN,
         .label = "Full name",
         .description = "the GECOS comment"},
        {.name = "home",
         .type = FIELD_STRING,
         .max = 4096,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN,
         .label = "Home",
         .description = "the home directory, under one of users:home_roots"},
        {.name = "shell",
         .type = FIELD_STRING,
         .max = 4096,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN,
         .label = "Shell",
         .description = "the login shell, one of /etc/shells"},
        {.name = "create_home",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_CREATE,
         .label = "Create the home directory",
         .description = "create the home (default true)"},
        {.name = "password",
         .type = FIELD_STRING,
         .max = 256,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SECRET,
         .label = "Password",
         .description = "a new password, given to chpasswd on its standard input"},
        {.name = "generate_password",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_CREATE | FIELD_MODIFY,
         .label = "Generate a password",
         .description = "a random password, shown once in the answer"},
        {.name = "locked",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_CREATE | FIELD_MODIFY,
         .label = "Locked",
         .description = "lock or unlock the password"},
        {.name = "ssh_keys",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN | FIELD_SHOWN_COUNT,
         .label = "SSH keys",
         .description = "authorized_keys lines (the whole list); an item shows their count"},
        {.name = "password_state",
         .type = FIELD_ENUM,
         .choices = password_states,
         .flags = FIELD_SHOWN,
         .label = "Password",
         .description = "set, locked, none or expired"},
        {.name = "local",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_SHOWN,
         .label = "Local",
         .description = "from the local files (else from a directory service, read-only)"},
        {.name = "system",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_SHOWN,
         .label = "System",
         .description = "a system account (uid outside UID_MIN..UID_MAX)"},
        {.name = "new_name",
         .type = FIELD_STRING,
         .max = ACCOUNT_NAME_MAX,
         .flags = FIELD_MODIFY,
         .label = "New name",
         .description = "rename the account"},
        {.name = "move_home",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_MODIFY,
         .label = "Move the home",
         .description = "with home: move the contents there"},
        {.name = "add_groups",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_MODIFY,
         .label = "Add to groups",
         .description = "supplementary groups to join"},
        {.name = "remove_groups",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_MODIFY,
         .label = "Remove from groups",
         .description = "supplementary groups to leave"},
        {.name = "expire_password",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_MODIFY,
         .label = "Expire the password",
         .description = "force a change at the next login"},
        {.name = "add_ssh_keys",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_MODIFY,
         .label = "Add SSH keys",
         .description = "authorized_keys lines to add"},
        {.name = "remove_ssh_keys",
         .type = FIELD_STRING_ARRAY,
         .flags = FIELD_MODIFY,
         .label = "Remove SSH keys",
         .description = "keys to remove (a line or a fingerprint)"},
        {.name = "aging",
         .type = FIELD_OBJECT,
         .flags = FIELD_MODIFY,
         .label = "Password aging",
         .description = "min_days, max_days, warn_days, inactive_days (-1 to 99999), expires "
                        "and last_change (YYYY-MM-DD or null)"},
        {.name = "force",
         .type = FIELD_BOOLEAN,
         .flags = FIELD_MODIFY,
         .label = "Force",
         .description = "change root or a system account"},
};

static const char *const list_types[] = {"regular", "system", "all", NULL};

static const collection_query_t query_args[] = {
        {"type", FIELD_ENUM, "list: regular (default), system or all", list_types},
        {"group", FIELD_STRING, "list: members of this group only"},
        {"prefix", FIELD_STRING, "list: names starting with this"},
        {"limit", FIELD_INTEGER, "list: at most this many (1 to 20000)"},
        {"cursor", FIELD_STRING, "list: continue after this name (the answer's next)"},
        {"home_size", FIELD_BOOLEAN, "show: measure the home directory"},
        {"remove_home", FIELD_BOOLEAN, "delete: remove the home directory and mail spool"},
        {"kill_processes", FIELD_BOOLEAN, "delete: end the user's processes first"},
        {"force", FIELD_BOOLEAN, "modify, delete: root or a system account"},
};

static const collection_column_t columns[] = {
        {"name", "Name", NULL},
        {"uid", "UID", NULL},
        {"gid", "GID", NULL},
        {"group", "Group", NULL},
        {"full_name", "Full name", NULL},
        {"home", "Home", NULL},
        {"shell", "Shell", NULL},
        {"password_state", "Password", NULL},
        {"local", "Local", NULL},
};

static const collection_option_t list_opts[] = {
        {"type", 't', "type", COPT_QUERY, "regular|system|all"},
        {"group", 'g', "group", COPT_QUERY, "G"},
        {"prefix", 'p', "prefix", COPT_QUERY, "P"},
        {"limit", 'n', "limit", COPT_QUERY, "N"},
};

static const collection_option_t show_opts[] = {
        {"home-size", 0, "home_size", COPT_QUERY_FLAG, NULL},
};

static const collection_option_t add_opts[] = {
        {"uid", 'u', "uid", COPT_VALUE, "N"},
        {"gid", 'g', "group", COPT_VALUE, "GROUP"},
        {"groups", 'G', "groups", COPT_VALUE, "G,…"},
        {"comment", 'c', "full_name", COPT_VALUE, "TEXT"},
        {"home-dir", 'd', "home", COPT_VALUE, "DIR"},
        {"shell", 's', "shell", COPT_VALUE, "SHELL"},
        {"create-home", 'm', "create_home", COPT_TRUE, NULL},
        {"no-create-home", 'M', "create_home", COPT_FALSE, NULL},
        {"generate-password", 0, "generate_password", COPT_TRUE, NULL},
        {"lock", 'L', "locked", COPT_TRUE, NULL},
        {"ssh-key", 'k', "ssh_keys", COPT_ITEM, "KEY"},
};

static const collection_option_t modify_opts[] = {
        {"login", 'l', "new_name", COPT_VALUE, "NEW"},
        {"comment", 'c', "full_name", COPT_VALUE, "TEXT"},
        {"home-dir", 'd', "home", COPT_VALUE, "DIR"},
        {"move-home", 'm', "move_home", COPT_TRUE, NULL},
        {"shell", 's', "shell", COPT_VALUE, "SHELL"},
        {"gid", 'g', "group", COPT_VALUE, "GROUP"},
        {"groups", 'G', "groups", COPT_VALUE, "G,…"},
        {"append-groups", 'a', "add_groups", COPT_VALUE, "G,…"},
        {"remove-groups", 'r', "remove_groups", COPT_VALUE, "G,…"},
        {"lock", 'L', "locked", COPT_TRUE, NULL},
        {"unlock", 'U', "locked", COPT_FALSE, NULL},
        {"generate-password", 0, "generate_password", COPT_TRUE, NULL},
        {"expire", 'e', "expire_password", COPT_TRUE, NULL},
        {"ssh-key", 'k', "add_ssh_keys", COPT_ITEM, "KEY"},
        {"remove-ssh-key", 0, "remove_ssh_keys", COPT_ITEM, "KEY"},
        {"force", 'f', "force", COPT_TRUE, NULL},
};

static const collection_option_t delete_opts[] = {
        {"remove", 'r', "remove_home", COPT_QUERY_FLAG, NULL},
        {"kill", 0, "kill_processes", COPT_QUERY_FLAG, NULL},
        {"force", 'f', "force", COPT_QUERY_FLAG, NULL},
};

static const collection_option_t passwd_opts[] = {
        {"generate", 0, "generate_password", COPT_TRUE, NULL},
        {"expire", 'e', "expire_password", COPT_TRUE, NULL},
        {"force", 'f', "force", COPT_TRUE, NULL},
};

static const collection_option_t lock_opts[] = {
        {"force", 'f', "force", COPT_TRUE, NULL},
};

#define OPTS(o) .options = (o), .n_options = ELEMENTSOF(o)

static const collection_verb_t verbs[] = {
        {.name = "list", .op = VERB_LIST, .summary = "list the accounts", OPTS(list_opts)},
        {.name = "show", .op = VERB_SHOW, .summary = "one account in full", OPTS(show_opts)},
        {.name = "add",
         .op = VERB_CREATE,
         .summary = "create an account",
         OPTS(add_opts),
         .password = true},
        {.name = "modify",
         .op = VERB_MODIFY,
         .summary = "change an account",
         OPTS(modify_opts),
         .password = true},
        {.name = "delete", .op = VERB_DELETE, .summary = "delete an account", OPTS(delete_opts)},
        {.name = "passwd",
         .op = VERB_MODIFY,
         .summary = "set, generate or expire the password",
         OPTS(passwd_opts),
         .password = true},
        {.name = "lock",
         .op = VERB_MODIFY,
         .summary = "lock the password",
         OPTS(lock_opts),
         .body = "{\"locked\": true}"},
        {.name = "unlock",
         .op = VERB_MODIFY,
         .summary = "unlock the password",
         OPTS(lock_opts),
         .body = "{\"locked\": false}"},
};

/* ---- actions: POST /api/v1/users/{name}/ACTION ---------------------------- */

static const command_arg_t expire_args[] = {
        {.name = "force",
         .type = SETTING_BOOLEAN,
         .description = "also for root or a system account"},
};

/* A modify of the one field, through the same write path (so the same
 * checks, plan, images and rollback): the answer is the write's result
 * ({"user": {…}}) with its plan, which the helper keeps for the record. */
static int action_expire_password(const struct module_ctx *ctx, const char *id, json_t *args,
                                  bool dry_run, json_t **ret, struct module_error *err) {
        _cleanup_(json_decrefp) json_t *body = NULL, *query = json_object(), *out = NULL;
        json_t *result;
        int r;

        body = json_pack("{s:b, s:b}", "expire_password", true, "force",
                         json_is_true(json_object_get(args, "force")));
        if (!body || !query)
                return -ENOMEM;
        r = users_write(ctx, COLLECTION_MODIFY, id, body, query, dry_run, &out, err);
        result = json_object_get(out, "result");
        *ret = json_is_object(result) ? json_deep_copy(result) : json_object();
        if (!*ret)
                return -ENOMEM;
        if (json_is_object(json_object_get(out, "plan")))
                json_object_set(*ret, "plan", json_object_get(out, "plan"));
        return r;
}

static const collection_action_t actions[] = {
        {.name = "expire-password",
         .summary = "force a new password at the next login (chage -d 0)",
         .min_role = ROLE_ADMIN,
         .changes_state = true,
         .args = expire_args,
         .n_args = ELEMENTSOF(expire_args),
         .run = action_expire_password},
};

const collection_def_t users_collections[1] = {{
        .name = "users",
        .item = "user",
        .summary = "local user accounts",
        .id_field = "name",
        .fields = fields,
        .n_fields = ELEMENTSOF(fields),
        .query = query_args,
        .n_query = ELEMENTSOF(query_args),
        .columns = columns,
        .n_columns = ELEMENTSOF(columns),
        .verbs = verbs,
        .n_verbs = ELEMENTSOF(verbs),
        .show = users_show,
        .write = users_write,
        .list_text = users_list_text,
        .actions = actions,
        .n_actions = ELEMENTSOF(actions),
}};
