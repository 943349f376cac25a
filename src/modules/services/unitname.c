/* unitname.c — the services module's grammars (see unitname.h).  Pure
 * functions over strings: no bus, no files, fit for unit tests and for
 * every thread. */
#include "modules/services/unitname.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const char *const unit_types[] = {
        "service",   "socket", "timer", "mount", "path",   "target",
        "automount", "swap",   "slice", "scope", "device", NULL,
};

const char *const unit_list_types[] = {
        "service", "socket", "timer", "mount", "path", "target", NULL,
};

bool unit_type_known(const char *type) {
        for (size_t i = 0; type && unit_types[i]; i++)
                if (STREQ(type, unit_types[i]))
                        return true;
        return false;
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ':' || c == '_' || c == '.' || c == '-' || c == '@';
}

const char *unit_name_problem(const char *name) {
        const char *dot, *at;
        size_t n;

        if (!name || !*name)
                return "a unit name is needed";
        n = strnlen(name, UNIT_NAME_MAX + 1);
        if (n > UNIT_NAME_MAX)
                return "a unit name is at most 255 bytes";
        if (name[0] == '-')
                return "a unit name does not start with '-'";
        if (strchr(name, '/'))
                return "a unit name has no '/'";
        if (strstr(name, ".."))
                return "a unit name has no \"..\"";
        for (size_t i = 0; i < n; i++) {
                if (name[i] == '\\') {
                        if (name[i + 1] != 'x' || !is_hex(name[i + 2]) || !is_hex(name[i + 3]))
                                return "a '\\' in a unit name starts an escape \\xHH";
                        i += 3;
                        continue;
                }
                if (!name_char(name[i]))
                        return "a unit name is made of letters, digits, ':', '_', '.', '-', "
                               "'@' and \\xHH escapes";
        }
        dot = strrchr(name, '.');
        if (!dot || dot == name || !unit_type_known(dot + 1))
                return "a unit name ends with a known type (.service, .socket, .timer, "
                       ".mount, .path, .target, …)";
        at = strchr(name, '@');
        if (at && (at == name || strchr(at + 1, '@') || at > dot))
                return "a unit name has at most one '@', between a prefix and the type";
        return NULL;
}

bool unit_name_valid(const char *name) {
        return unit_name_problem(name) == NULL;
}

const char *unit_name_type(const char *name) {
        return unit_name_valid(name) ? strrchr(name, '.') + 1 : NULL;
}

bool unit_pattern_valid(const char *p) {
        size_t n;

        if (!p || !*p || p[0] == '-')
                return false;
        n = strnlen(p, UNIT_PATTERN_MAX + 1);
        if (n > UNIT_PATTERN_MAX || strstr(p, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!name_char(p[i]) && !strchr("*?[]!\\", p[i]))
                        return false;
        return true;
}

bool unit_env_valid(const char *s) {
        const char *eq;
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, UNIT_ENV_ITEM_MAX + 1);
        eq = strchr(s, '=');
        if (n > UNIT_ENV_ITEM_MAX || !eq || eq == s || (size_t)(eq - s) > UNIT_ENV_KEY_MAX)
                return false;
        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        for (const char *p = s; p < eq; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        for (const char *p = eq + 1; *p; p++)
                if (*p < 0x20 || *p > 0x7e || strchr("\"\\$%`;", *p))
                        return false;
        return true;
}

static int unhex(char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
}

int unit_name_from_path(const char *path, char *ret, size_t size) {
        const char *seg = path ? strrchr(path, '/') : NULL;
        size_t n = 0;

        if (!seg || size == 0)
                return -EINVAL;
        for (const char *p = seg + 1; *p; p++) {
                char c = *p;
                if (c == '_') {
                        int hi = unhex(p[1]), lo = hi < 0 ? -1 : unhex(p[2]);
                        if (lo < 0)
                                return -EINVAL;
                        c = (char)(hi << 4 | lo);
                        p += 2;
                }
                if (n + 1 >= size)
                        return -EINVAL;
                ret[n++] = c;
        }
        ret[n] = '\0';
        return unit_name_valid(ret) ? 0 : -EINVAL;
}

bool unit_file_state_valid(const char *s) {
        size_t n = s ? strnlen(s, 33) : 0;
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
                        return false;
        return true;
}
