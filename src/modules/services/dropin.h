/* dropin.h — the drop-in Steward owns for a service,
 * /etc/systemd/system/UNIT.d/50-steward.conf: the settings restart,
 * restart_sec, memory_max, cpu_quota, tasks_max, nice and environment as
 * Restart=, RestartSec=, MemoryMax=, CPUQuota=, TasksMax=, Nice= and
 * Environment= lines of its [Service] section.
 *
 * The file is Steward's alone: it is read back only for the keys above, in
 * the form dropin_render() writes, and rewritten whole.  A change is an
 * object of those keys; null removes a key, and a file left with no key is
 * removed.  Bounds are checked here, before anything is planned: a value
 * out of bounds is a 422 naming the field.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "module.h"

#define DROPIN_DIR_ROOT "/etc/systemd/system"
#define DROPIN_NAME     "50-steward.conf"

/* The drop-in's path for unit (a valid name); -ENAMETOOLONG. */
int dropin_path(const char *unit, char *buf, size_t size);
/* Steward's settings in the unit's drop-in now: {} when there is none. */
json_t *dropin_read_json(const char *unit);
/* Parses a drop-in's text into the settings object. */
json_t *dropin_parse(const char *text);
/* Checks a change (body) and merges it into current: *ret the settings
 * after the change.  -EINVAL with err (400 unknown key, 422 bad value). */
int dropin_merge(json_t *current, json_t *body, json_t **ret, struct module_error *err);
/* The file for settings; NULL (no file) when settings is empty. */
char *dropin_render(json_t *settings);
/* What a plan shows of a drop-in's text: every Environment= word as
 * "KEY=(redacted)" (a change_redact_fn). */
int dropin_redact(const char *text, size_t len, char **ret);
