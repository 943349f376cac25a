/* mail.h — what the parts of the mail module share (mail.c is the table).
 *
 *     settings.c  Postfix's main.cf keys (postconf), submission and SMTPS in
 *                 master.cf (a managed block), Dovecot's drop-in, the TLS
 *                 certificate both use: read, plan, stage, check, apply
 *     aliases.c   /etc/aliases as the collection mail_aliases (newaliases)
 *     queue.c     Postfix's queue: postqueue -j, postcat, postsuper, postqueue -f
 *     who.c       who is connected (doveadm who), kick (doveadm kick)
 *     activity.c  delivery activity per hour and the last errors, from the journal
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "module.h"

#define POSTFIX_MAIN_CF   "/etc/postfix/main.cf"
#define POSTFIX_MASTER_CF "/etc/postfix/master.cf"
#define DOVECOT_DROPIN    "/etc/dovecot/conf.d/99-steward.conf"
#define ALIASES_FILE      "/etc/aliases"

/* Whether the tools are installed (postconf, doveadm). */
bool mail_postfix_installed(void);
bool mail_dovecot_installed(void);
/* The files in Postfix's five queue directories (every message, whatever
 * its state), counted as root in the helper; 0 when there are none. */
int64_t mail_spool_messages(void);
/* Whether the servers run (Postfix's master pid file names a live process;
 * doveadm can reach Dovecot's master).  Helper only for dovecot. */
bool mail_postfix_running(void);
bool mail_dovecot_running(void);

/* ---- settings.c ------------------------------------------------------------------ */
/* The rows (settings.c checks its count against MAIL_N_SETTINGS). */
#define MAIL_N_SETTINGS 32
extern const setting_def_t mail_settings[MAIL_N_SETTINGS];
/* {"postfix": {…}, "dovecot": {…}, "tls": {…}} (module.h settings_read). */
int mail_settings_read(json_t **ret, struct module_error *err);
int mail_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                        json_t **ret, struct module_error *err);
/* The files the settings own (NULL-terminated), and making them live after
 * a rollback (postfix reload, doveadm reload). */
const char *const *mail_files(void);
int mail_make_live(bool helper, struct module_error *err);
extern const struct change_hooks mail_hooks;

/* ---- aliases.c -------------------------------------------------------------------- */
/* The collection mail_aliases (its table is in mail.c), in the helper:
 * {"mail_aliases": [ALIAS…]} (the collection's name, where the CLI reads a
 * list; the same array also as "aliases"), ALIAS = {"name", "targets": ["alice",
 * "bob@example.org"], "editable": bool}; writes plan /etc/aliases through
 * the change engine with newaliases (staged and real). */
int aliases_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                 struct module_error *err);
int aliases_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                 struct module_error *err);
int aliases_write(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                  json_t *query, bool dry_run, json_t **ret, struct module_error *err);
/* For mail_make_live(helper): newaliases when /etc/aliases is newer than its
 * database (after a rollback put the file back). */
int aliases_make_live(struct module_error *err);

/* ---- queue.c ---------------------------------------------------------------------- */
/* Postfix's queue id grammar: short ids (10+ upper-case hex) and long ids
 * (enable_long_queue_ids: 12+ characters of [0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]
 * and one 'z' separator). */
bool queue_id_valid(const char *s);
/* In the helper (root).  args: {"what": "queue", "queue"?, "sender"?,
 * "recipient"?, "domain"?, "older_than"?, "reason"?, "limit"?} →
 * {"messages": [MESSAGE…], "counts": {"active": n, "deferred": n, "hold": n,
 *  "incoming": n, "maildrop": n} (the whole queue), "reasons": [{"reason"
 *  (grouped: queue.h), "count", "example"}…] (of the messages that match),
 *  "total": n (before limit), "postfix_running": bool, "unreadable": n}, the
 *  messages oldest first; MESSAGE =
 * {"id", "queue", "arrival_time" (ISO 8601 UTC), "age_seconds", "size",
 *  "sender", "recipients": [{"address", "delay_reason"}…]}. */
int queue_list(json_t *args, json_t **ret, struct module_error *err);
/* The same answer as JSON text (malloc'ed), the messages under key
 * ("mail_queue" for the collection's list_text, the collections' rule):
 * ten thousand messages are never a tree. */
int queue_list_text(json_t *args, const char *key, char **ret, size_t *ret_len,
                    struct module_error *err);
/* args {"what": "message", "id", "headers"?: false} → {"message": MESSAGE +
 * "headers": "…"} (the route is admin's: headers are personal data; a
 * monitor's show of the collection passes "headers": false). 404 for an id
 * not in the queue. */
int queue_show(json_t *args, json_t **ret, struct module_error *err);
/* The commands queue_hold, queue_release, queue_requeue, queue_flush,
 * queue_delete: args {"id"?, "queue"?, "sender"?, "recipient"?, "domain"?,
 * "older_than"?, "all"?}; ctx->dry_run: what would be done, nothing done.
 * *ret = {"operation", "count", "selected", "ids": […] (at most 1000),
 * "ids_truncated", "summary": "delete 312 deferred messages to example.com",
 * "dry_run", "postsuper"?} (queue.c says how). */
int queue_hold(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err);
int queue_release(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err);
int queue_requeue(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err);
int queue_flush(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err);
int queue_delete(const struct module_ctx *ctx, json_t *args, json_t **ret,
                 struct module_error *err);
/* For status: {"active": n, …} or NULL when Postfix does not answer. */
json_t *queue_counts(void);

/* ---- who.c ------------------------------------------------------------------------ */
/* In the helper: {"connections": [{"user", "service": "imap|pop3|smtp|submission",
 * "client", "pid", "since"?}…], "dovecot_running": bool}. */
int who_list(json_t **ret, struct module_error *err);
/* The command kick {"user"}: doveadm kick USER; *ret {"user", "kicked": n}. */
int who_kick(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err);

/* ---- activity.c ------------------------------------------------------------------- */
/* args {"what": "activity", "hours"?} → {"hours": [{"start", "delivered",
 * "deferred", "bounced", "rejected"}…], "errors": [{"time", "queue_id",
 * "status", "to"?, "reason"}…], "source": "journal"|"file"|"none", "path"?,
 * "truncated"} (activity.c says where from). */
int activity_read(json_t *args, json_t **ret, struct module_error *err);
