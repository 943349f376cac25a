/* journal.h — the logs module's reads of the systemd journal (sd-journal).
 *
 * Runs in the front, as the unprivileged daemon user, which reads the
 * journal through its membership of the systemd-journal group
 * (docs/architecture.md, "The logs module").  Each call opens its own
 * sd_journal and closes it before returning, so the functions are safe on
 * any number of threads at once (an sd_journal is used by the thread that
 * opened it only).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-journal.h>

#include "module.h"
#include "modules/logs/query.h"

#define LOGS_SCAN_USEC      (2ull * 1000000) /* scanning time per request before "truncated" */
#define LOGS_MESSAGE_MAX    (64 * 1024)      /* longer fields are cut (sd_journal_set_data_threshold) */
#define LOGS_FIELD_MAX      2048             /* the other text fields (identifier, unit…) are cut */
/* An answer stops growing once its entries pass this many bytes of JSON:
 * limit=10000 of 64 KiB messages would be 650 MB in the front otherwise. */
#define LOGS_ANSWER_BYTES_MAX (8u * 1024 * 1024)
/* One entry's JSON is below this by construction: a message of
 * LOGS_MESSAGE_MAX bytes, each escaped to 6 ("\u0001"), and four fields of
 * LOGS_FIELD_MAX so escaped, and the rest, stay under it; so one entry
 * always fits an event (events.c's MAX_EVENT_BYTES is twice this). */
#define LOGS_ENTRY_BYTES_MAX (512u * 1024)

/* Whether there is a journal and it can be read: 0 with *ret_state
 * "running", or "unavailable"/"degraded" and the reason in reason. */
void logs_journal_state(const char **ret_state, char *reason, size_t reason_len);

/* GET /api/v1/logs: {"entries": [...], "next"?, "truncated"?}. */
int logs_journal_query(const struct logs_query *q, json_t **ret, struct module_error *err);

/* Opens the journal with q's matches (unit, identifier, priority, boot)
 * added.  *ret closed with sd_journal_close by the caller. */
int logs_journal_open(const struct logs_query *q, sd_journal **ret, struct module_error *err);

/* The entry j points at as the API shows it, or NULL with *ret_skip when it
 * does not pass q's text and time filters.  buf: scratch of
 * LOGS_MESSAGE_MAX bytes. */
json_t *logs_entry_json(sd_journal *j, const struct logs_query *q, char *buf, bool *ret_skip);

/* The bytes of e's compact JSON (what an answer or an event grows by). */
size_t logs_entry_bytes(const json_t *e);
