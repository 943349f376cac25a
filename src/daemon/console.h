/* console.h — the web console's files, embedded at build time.
 *
 * tools/gen-webassets.c writes the table (console-assets.c in the build
 * directory) from web/ and the npm packages it uses; the front serves it from
 * memory, so it reads no file at run time.  Assets are immutable for the
 * life of the process. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct console_asset {
        const char *path;         /* "/", "/app.js", … as the browser asks */
        const char *content_type; /* with charset for text */
        const unsigned char *data;
        size_t len;
        const char *etag; /* quoted, strong: a hash of data */
};

extern const struct console_asset console_assets[];
extern const size_t console_assets_count;

/* The asset for a request path: "/" is "/index.html"; NULL if none. */
const struct console_asset *console_find(const char *path);

/* Whether a path belongs to the console rather than to the API: anything but
 * /api/… and /metrics. */
bool console_path(const char *path);
