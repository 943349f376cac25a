/* aliases.c — /etc/aliases as the collection mail_aliases: list, show, add,
 * modify, delete, planned through the change engine with newaliases.
 * (Skeleton.) */
#include <errno.h>

#include "module.h"
#include "modules/mail/mail.h"

int aliases_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                 struct module_error *err) {
        (void)ctx, (void)query, (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

int aliases_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                 struct module_error *err) {
        (void)ctx, (void)id, (void)query, (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

int aliases_write(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                  json_t *query, bool dry_run, json_t **ret, struct module_error *err) {
        (void)ctx, (void)op, (void)id, (void)body, (void)query, (void)dry_run, (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}
