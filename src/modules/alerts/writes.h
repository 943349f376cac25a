/* writes.h — the alerts module's changes, in the privileged helper
 * (writes.c): the rules file, and the marks file (silences and
 * acknowledgements), each written through the change engine so that every
 * change is audited with its before and after and can be rolled back.
 *
 * The marks file, alert-silences.json next to --config, is
 * {"silences": [{"id", "rule", "instance", "reason", "created_by",
 * "created_at", "ends_at"}], "acks": {FINGERPRINT: {"user", "time",
 * "comment"}}}: readable by the front (it holds no secret), written only
 * here.  Silences that ended more than a day ago are dropped at the next
 * write.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "module.h"

#define ALERT_MARKS_FILE      "alert-silences.json"
#define ALERT_MARKS_FILE_MAX  (1u << 20)
#define ALERT_SILENCES_MAX    512
#define ALERT_SILENCES_PER_USER 64 /* active silences one user may hold */
#define ALERT_ACKS_MAX        1024
#define ALERT_REASON_MAX      256

const char *alert_marks_path(void);
/* Reads and checks the marks file ({} lists when it is absent); *ret_text,
 * if not NULL, gets its text (NULL when absent). */
int alert_marks_load(json_t **ret, char **ret_text, struct module_error *err);

int alert_rules_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                      json_t *body, json_t *query, bool dry_run, json_t **ret,
                      struct module_error *err);
int alert_silences_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                         json_t *body, json_t *query, bool dry_run, json_t **ret,
                         struct module_error *err);
int alert_action_ack(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                     json_t **ret, struct module_error *err);
int alert_action_unack(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                       json_t **ret, struct module_error *err);
/* The action "expire" of an alert_silences item: ends it now (operators). */
int alert_action_expire(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                        json_t **ret, struct module_error *err);
int alert_action_silence(const struct module_ctx *ctx, const char *id, json_t *args,
                         bool dry_run, json_t **ret, struct module_error *err);
