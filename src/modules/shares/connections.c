/* connections.c — connected users (to be written). */
#include <errno.h>

#include "modules/shares/connections.h"

static int todo(struct module_error *err) {
        module_error_set(err, 501, "not_implemented", NULL, "not implemented yet");
        return -ENOSYS;
}

int connections_list(json_t **ret, struct module_error *err) {
        (void)ret;
        return todo(err);
}

int connections_disconnect(const struct module_ctx *ctx, json_t *args, json_t **ret,
                        struct module_error *err) {
        (void)ctx, (void)args, (void)ret;
        return todo(err);
}

int connections_close_share(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                         json_t **ret, struct module_error *err) {
        (void)ctx, (void)id, (void)args, (void)dry_run, (void)ret;
        return todo(err);
}

int connections_close_denied(const char *name, struct module_error *err) {
        (void)name, (void)err;
        return 0;
}

void connections_events_poll(const struct event_hub *hub, bool changed) {
        (void)hub, (void)changed;
}

int smbusers_list(json_t **ret, struct module_error *err) {
        (void)ret;
        return todo(err);
}

int smbusers_command(const struct module_ctx *ctx, json_t *args, json_t **ret,
                     struct module_error *err) {
        (void)ctx, (void)args, (void)ret;
        return todo(err);
}
