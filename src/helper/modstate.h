/* modstate.h — modules' own small state in the helper's database (tables
 * module_state and module_log of STATE/steward.db), for a module's
 * background work in the front, which cannot write anywhere (the alerts'
 * states and their history of transitions).
 *
 *      module_state  (module, key) → one JSON value of at most
 *                    MODSTATE_VALUE_MAX bytes; a put replaces; at most
 *                    MODSTATE_KEYS_MAX keys and MODSTATE_BYTES_MAX bytes
 *                    of values per module (checked in the put's
 *                    transaction: a put past them is refused, 507)
 *      module_log    a module's records (JSON objects), numbered; the
 *                    newest MODLOG_KEEP of each module, and of those no
 *                    more than MODLOG_BYTES_MAX bytes, are kept
 *
 * Only a module that declares keeps_state (module.h) writes here; a write
 * for any other is refused (403), whatever the front asks.
 *
 * The operations are the front's only (sessionless, helperops.h); every
 * argument is checked here as if it came from a stranger: the module must
 * exist, keys and match fields have a strict grammar, sizes are bounded.
 * Nothing here is a secret nor grants anything: a module keeps here what
 * it could rebuild by observing again.
 *
 * Functions return >= 0 or -errno and fill a module_error; none logs.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "module.h"
#include "store.h"

#define MODSTATE_VALUE_MAX  (1u << 20)
#define MODSTATE_KEYS_MAX   64
#define MODSTATE_BYTES_MAX  (4u << 20)
#define MODLOG_RECORD_MAX   (16u << 10)
#define MODLOG_APPEND_MAX   64
#define MODLOG_KEEP         10000
#define MODLOG_BYTES_MAX    (8u << 20)
#define MODLOG_LIST_MAX     500
#define MODLOG_MATCH_MAX    4

/* {"module", "key", "value": any JSON} → {} */
int modstate_put(struct store *s, json_t *args, int64_t now, struct module_error *e);
/* {"module", "key"} → {"value": …|null, "updated": T|0} */
int modstate_get(struct store *s, json_t *args, struct module_error *e, json_t **ret);
/* {"module", "records": [{…}, …]} → {"ids": [id, …]} */
int modlog_append(struct store *s, json_t *args, int64_t now, struct module_error *e,
                  json_t **ret);
/* {"module", "before"?: id, "limit"?: n, "match"?: {field: string}} →
 * {"records": [{"id", "at", "record"}, …] newest first, "next": id|null}:
 * the records older than before whose top-level string fields equal
 * match's. */
int modlog_list(struct store *s, json_t *args, struct module_error *e, json_t **ret);
