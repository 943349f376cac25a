/* audit.h — the tamper-evident audit log.
 *
 * Every change and every privileged command is one row in the store's
 * `audit` table.  Each record's hash is SHA-256 over the previous record's
 * hash and the record's canonical JSON (jansson, compact, sorted keys, all
 * fields but `hash`), so editing, deleting or reordering a stored record
 * breaks the chain at that record, which audit_verify() names.
 *
 * Files: each changed file is stored with its type ("file", "symlink",
 * "absent"), its content (or link target) before and after, and a unified
 * diff; content the module marked secret is stored as "[redacted]" and such a
 * file cannot be rolled back. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "store.h"

struct audit_entry {
        const char *user, *role, *source;
        int64_t session_id;
        const char *module;    /* "system", "stewardd", "auth", "tokens", "audit" */
        const char *operation; /* "settings", "command:NAME", "login", "rollback", … */
        json_t *args;          /* redacted by audit_append (keys like password, token, secret) */
        const char *result;    /* "ok", "refused" (authorization, a guard) or "error" */
        const char *message;   /* error message, or NULL */
        json_t *files;         /* array of {path, type, before, after, diff, redacted}, or NULL */
        int64_t rollback_of;   /* id of the record this one rolls back, or 0 */
};

/* Appends a record (in its own transaction); returns its id. */
int audit_append(struct store *s, const struct audit_entry *e, int64_t now, int64_t *ret_id);

/* Newest first: {"records": [...], "next": "ID"} where records carry no file
 * contents (path and diff only); before_id 0 = from the newest; limit 1..500.
 * Filters may be NULL. */
int audit_list(struct store *s, int64_t before_id, unsigned limit, const char *module,
               const char *user, json_t **ret);

/* Oldest first: the records after after_id (at most limit, 1..500, and
 * about 4 MiB of stored arguments and files, but always one), shaped as
 * audit_list's items; a JSON array. */
int audit_list_after(struct store *s, int64_t after_id, unsigned limit, json_t **ret);

/* What a forwarder needs of one record; the strings live until the
 * callback returns. */
struct audit_brief {
        int64_t id, time;
        const char *user, *role, *source, *module, *operation, *result;
        const char *message; /* or NULL */
        const char *hash, *prev_hash;
        json_t *args; /* or NULL when the stored text does not parse */
};
typedef int (*audit_brief_fn)(const struct audit_brief *b, void *data);

/* Calls fn for each record after after_id, oldest first, at most limit
 * (1..500); fn returning < 0 stops the walk with that error.  Returns how
 * many records fn saw. */
int audit_each_after(struct store *s, int64_t after_id, unsigned limit, audit_brief_fn fn,
                     void *data);

/* Called after every record audit_append committed in its own transaction
 * in this process (the forwarder's wake-up; a caller that holds the
 * transaction wakes it after its commit); NULL: none. */
void audit_set_appended_hook(void (*fn)(void));

/* The newest record's id (0: none).  Records are never deleted, so this is
 * also how many were ever written. */
int audit_head(struct store *s, int64_t *ret);

/* One record with everything, including before/after contents.  -ENOENT. */
int audit_get(struct store *s, int64_t id, json_t **ret);

/* {"ok": true, "records": N, "head": "HASH"} or {"ok": false, "records": N,
 * "first_broken": ID, "message": "…"}. */
int audit_verify(struct store *s, json_t **ret);

/* Removes from a JSON object tree (in place) every value whose key looks
 * secret (password, passwd, secret, token, private_key, key_pem, hash), and
 * replaces it with "[redacted]". */
void audit_redact(json_t *v);
