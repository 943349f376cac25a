/* shares.h — what the parts of the shares module share (shares.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "module.h"

#define SHARE_NAME_MAX 80

/* The share point's folder: 404 not_found when no share is called name. */
int shares_find_path(const char *name, char *path, size_t len, struct module_error *err);

/* The configured roots (shares:roots) under which folders may be shared. */
int shares_roots(struct setting_list *ret);

/* Whether path (canonical, absolute) is a root or lies under one. */
bool shares_under_roots(const char *path);
