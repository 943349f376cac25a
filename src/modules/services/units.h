/* units.h — systemd's units read through sd-bus (org.freedesktop.systemd1):
 * the services collection's list and show, and the bus helpers the
 * actions, the drop-ins and the event thread share.
 *
 * Every call opens its own connection to the system bus and closes it: the
 * front calls these from several threads at once, and the helper forks
 * workers, so no connection is ever shared between threads or processes
 * (measured: 0.2 to 0.4 ms to open, ping and close one, against 0.08 ms
 * for a call on an open one; a listing is about 5 ms).
 *
 * A listing costs a constant number of bus calls, whatever the number of
 * units: ListUnitsByPatterns and ListUnitFilesByPatterns (the second one
 * cached while the event thread watches for changes: systemd takes half a
 * second over it on a whole system); the memory, CPU,
 * tasks and main process come from the units' cgroups under
 * /sys/fs/cgroup, found by one walk of the cgroup tree (a unit's cgroup is
 * the directory named after it, under its slices).  units_bus_calls()
 * counts the calls made, for the benchmark and the debug log.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "module.h"

#define SD_DEST    "org.freedesktop.systemd1"
#define SD_PATH    "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT    "org.freedesktop.systemd1.Unit"

/* Whether systemd runs this system (it is PID 1 and its bus answers); the
 * reason when not, for the module's status. */
bool units_available(const char **ret_reason);

/* A connection to the system bus; -errno with err filled (503). */
int units_bus_open(sd_bus **ret, struct module_error *err);
/* A method call of the manager with err filled from a bus error. */
int units_bus_error(int r, const sd_bus_error *e, const char *what, struct module_error *err);
/* The next value of m as JSON (a{sv} an object, arrays and structs
 * arrays, UINT64_MAX null). */
int units_bus_value(sd_bus_message *m, json_t **ret);
/* Bus calls made by this process since it started. */
uint64_t units_bus_calls(void);
void units_bus_count(void);

/* The unit file states are cached between listings only while someone
 * watches systemd's signals and calls units_file_states_changed() on
 * UnitFilesChanged and Reloading (the event thread, svcevents.c). */
void units_file_states_watch(bool watched);
void units_file_states_changed(void);
/* Fills the cache now (the event thread, once it watches). */
void units_file_states_warm(sd_bus *bus);

/* GET /api/v1/services: query {type, state, enabled, name}; *ret
 * {"services": [unit…]}. */
int units_list(json_t *query, json_t **ret, struct module_error *err);
/* One unit with everything (facts, dependencies, the last run, settings).
 * 404 for a unit systemd does not know. */
int units_show(const char *name, json_t **ret, struct module_error *err);
/* The same, on a connection the caller has (the actions' answer). */
int units_show_on(sd_bus *bus, const char *name, json_t **ret, struct module_error *err);
/* The unit's object path (LoadUnit): malloc'ed. */
int units_path(sd_bus *bus, const char *name, char **ret, struct module_error *err);
/* What a role below admin sees of a show item, in place: the environment
 * (settings and steward_settings) as its variables' names without their
 * values, each command of exec_start as its argv[0] alone, and
 * "redacted": true.  Values and arguments are where services keep their
 * passwords and keys (DB_PASSWORD=…, --token=…). */
void units_redact(json_t *item);
