/* who.c — who is connected to Dovecot (doveadm who), and kick.  (Skeleton.) */
#include <errno.h>

#include "module.h"
#include "modules/mail/mail.h"

int who_list(json_t **ret, struct module_error *err) {
        (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

int who_kick(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err) {
        (void)ctx, (void)args, (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}
