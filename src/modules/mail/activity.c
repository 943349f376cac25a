/* activity.c — delivery activity from the journal.  (Skeleton.) */
#include <errno.h>

#include "module.h"
#include "modules/mail/mail.h"

int activity_read(json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}
