/* fuzz-services.c — libFuzzer target for the services module's parsers:
 * the unit name, pattern and environment grammars, a bus path back to a
 * name (unitname.h), and Steward's drop-in (dropin.h).
 *
 * Properties that abort when broken: a valid unit name has a known type
 * and passes the path-free checks; a name from a bus path is valid; what
 * the drop-in parser reads back merges into itself unchanged and renders
 * to a file that parses to the same settings (the render/parse round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/services/dropin.h"
#include "modules/services/unitname.h"
#include "util.h"

#define INPUT_MAX (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s) {
        char name[UNIT_NAME_MAX + 1], path[600];

        if (unit_name_valid(s)) {
                if (!unit_type_known(unit_name_type(s)) || strchr(s, '/') || strstr(s, "..") ||
                    s[0] == '-' || strlen(s) > UNIT_NAME_MAX)
                        abort();
        } else if (!unit_name_problem(s))
                abort();
        (void)unit_pattern_valid(s);
        (void)unit_env_valid(s);
        if (strlen(s) < 300) {
                snprintf(path, sizeof path, "/org/freedesktop/systemd1/unit/%s", s);
                if (unit_name_from_path(path, name, sizeof name) == 0 && !unit_name_valid(name))
                        abort();
        }
}

static void check_dropin(const char *text) {
        struct module_error err = {0};
        json_t *read = dropin_parse(text), *none = json_object(), *merged = NULL, *back;
        char *out;

        if (!read || !none)
                abort();
        if (dropin_merge(none, read, &merged, &err) < 0)
                abort(); /* what the parser reads back is always a valid change */
        json_decref(none);
        out = dropin_render(merged);
        back = out ? dropin_parse(out) : json_object();
        if (!back || !json_equal(back, merged))
                abort();
        free(out);
        json_decref(back);
        json_decref(merged);
        json_decref(read);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text;

        if (size > INPUT_MAX)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        check_name(text);
        check_dropin(text);
        free(text);
        return 0;
}
