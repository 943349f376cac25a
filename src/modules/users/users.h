/* users.h — what users.c, userwrite.c and groups.c share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "module.h"

extern const char *const users_home_roots[];

int users_show_json(const char *name, bool home_size, json_t **ret, struct module_error *err);
int users_dir_size(const char *dir, uint64_t *ret);
int users_write(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                json_t *query, bool dry_run, json_t **ret, struct module_error *err);
int users_file_restore(const char *path, const char *type, const char *content,
                       struct module_error *err);
