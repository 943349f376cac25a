/* images.h — full before/after contents of files whose audit record shows
 * them redacted (/etc/shadow, /etc/gshadow, and the account files changed
 * with them), kept so that such a change can still be rolled back.
 *
 * They live in the store's `audit_images` table, which only the helper
 * reads (the database is root's, mode 0600) and which no answer ever
 * carries.  The audit record itself holds the SHA-256 of each image
 * ("sha256_before", "sha256_after" in the file's entry), so it is the
 * hash-chained record that vouches for an image: a rollback refuses an
 * image that does not match it. */
#pragma once

#include <stdint.h>

#include "store.h"

/* Stores the images of path for record audit_id; before NULL: the file did
 * not exist.  Joins the caller's transaction when there is one. */
int images_put(struct store *s, int64_t audit_id, const char *path, const char *before,
               const char *after);

/* The images of path for audit_id; *ret_before is NULL when the file did not
 * exist before.  -ENOENT when there are none. */
int images_get(struct store *s, int64_t audit_id, const char *path, char **ret_before,
               char **ret_after);
