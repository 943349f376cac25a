/* modules.c — the module list.  Adding a module is one folder under
 * src/modules/ and one line here (plus its subdir() line in meson.build). */
#include "module.h"

extern const module_t module_stewardd;
extern const module_t module_system;
extern const module_t module_ports;
extern const module_t module_metrics;
extern const module_t module_users;
extern const module_t module_groups;
extern const module_t module_time;

const module_t *const steward_modules[] = {
        &module_system,
        &module_stewardd,
        &module_ports,
        &module_metrics,
        &module_users,
        &module_groups,
        &module_time,
};
const size_t steward_modules_count = sizeof(steward_modules) / sizeof(steward_modules[0]);
