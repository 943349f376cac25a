/* console.c — see console.h.  Lookup is a linear scan: a few dozen entries,
 * compared by exact path only (no decoding, no file system). */
#include "console.h"

#include <string.h>

#include "util.h"

const struct console_asset *console_find(const char *path) {
        if (STREQ(path, "/"))
                path = "/index.html";
        for (size_t i = 0; i < console_assets_count; i++)
                if (STREQ(console_assets[i].path, path))
                        return &console_assets[i];
        return NULL;
}

bool console_path(const char *path) {
        return !(STREQ(path, "/api") || strncmp(path, "/api/", 5) == 0 || STREQ(path, "/metrics"));
}
