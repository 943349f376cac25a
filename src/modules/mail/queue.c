/* queue.c — Postfix's queue: postqueue -j read into messages, filters and
 * counts; postcat -h for a message's headers; hold, release, requeue and
 * delete with postsuper, flush with postqueue.  (Skeleton.) */
#include <errno.h>
#include <string.h>

#include "module.h"
#include "modules/mail/mail.h"

bool queue_id_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n < 6 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", s[i]))
                        return false;
        return true;
}

static int todo(struct module_error *err) {
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

int queue_list(json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)ret;
        return todo(err);
}

int queue_show(json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)ret;
        return todo(err);
}

#define OP(name)                                                                                   \
        int name(const struct module_ctx *ctx, json_t *args, json_t **ret,                         \
                 struct module_error *err) {                                                       \
                (void)ctx, (void)args, (void)ret;                                                  \
                return todo(err);                                                                  \
        }
OP(queue_hold)
OP(queue_release)
OP(queue_requeue)
OP(queue_flush)
OP(queue_delete)

json_t *queue_counts(void) {
        return NULL;
}
