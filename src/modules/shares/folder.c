/* folder.c — a share's folder (to be written). */
#include <errno.h>

#include "modules/shares/folder.h"

static int todo(struct module_error *err) {
        module_error_set(err, 501, "not_implemented", NULL, "not implemented yet");
        return -ENOSYS;
}

int folder_describe(const char *path, json_t **ret, struct module_error *err) {
        (void)path;
        *ret = json_object();
        return *ret ? 0 : todo(err);
}

int folder_writable_by(const char *path, json_t *who, json_t **ret_writers,
                       struct module_error *err) {
        (void)path, (void)who;
        *ret_writers = json_array();
        return *ret_writers ? 0 : todo(err);
}

int folder_action(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                  json_t **ret, struct module_error *err) {
        (void)ctx, (void)id, (void)args, (void)dry_run, (void)ret;
        return todo(err);
}

int folder_list(json_t *args, json_t **ret, struct module_error *err) {
        (void)args, (void)ret;
        return todo(err);
}
