/* modules.c — the module table, from the list in modules.list.  Adding a
 * module is one folder under src/modules/, one line in modules.list and its
 * subdir() line in meson.build. */
#include "module.h"

#define MODULE(name) extern const module_t module_##name;
#include "modules.list"
#undef MODULE

const module_t *const steward_modules[] = {
#define MODULE(name) &module_##name,
#include "modules.list"
#undef MODULE
};
const size_t steward_modules_count = sizeof(steward_modules) / sizeof(steward_modules[0]);
