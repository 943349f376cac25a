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
