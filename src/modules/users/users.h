/* users.h — what users.c, userwrite.c and groups.c share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "module.h"

/* The home roots in force (stewardd:users:home_roots), NULL-terminated;
 * the strings live in *cfg. */
struct steward_config;
#define HOME_ROOTS_MAX 16
void users_home_roots(struct steward_config *cfg, const char *roots[HOME_ROOTS_MAX + 1]);

/* Fills err with a 400/422 "invalid_argument" naming field; returns -EINVAL. */
int account_invalid(struct module_error *err, int status, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

int users_show_json(const char *name, bool home_size, json_t **ret, struct module_error *err);
/* Disk usage of dir (one file system, no links followed).  Returns 0 when
 * the walk is complete, 1 when it ran out of budget_usec (then *ret is what
 * it had counted: a lower bound), or -errno. */
#define HOME_SIZE_BUDGET_USEC (1000u * 1000u)
int users_dir_size(const char *dir, uint64_t budget_usec, uint64_t *ret);
/* The users collection (userschema.c) and its functions (users.c,
 * userwrite.c). */
extern const collection_def_t users_collections[1];
int users_list_text(const struct module_ctx *ctx, json_t *query, char **ret, size_t *ret_len,
                    struct module_error *err);
int users_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
               struct module_error *err);
int users_write(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                json_t *query, bool dry_run, json_t **ret, struct module_error *err);
int users_file_restore(const char *path, const char *type, const char *content,
                       struct module_error *err);
