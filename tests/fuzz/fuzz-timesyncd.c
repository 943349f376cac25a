/* fuzz-timesyncd.c — libFuzzer target for the time module's file formats:
 * systemd-timesyncd's INI files (timesyncd.h) and TZif zone files
 * (zones.h).
 *
 * An input starting with "TZif" goes to tzif_lookup() at a few instants;
 * any other is a config file.  Any input may be rejected, but never with a
 * crash, a leak or undefined behaviour; and the rewrite must do what it
 * says: after setting NTP= in any file, reading that file alone gives
 * exactly the servers set.  A broken property aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/time/timesyncd.h"
#include "modules/time/zones.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tzif(const uint8_t *data, size_t size) {
        static const int64_t when[] = {INT64_MIN, -1, 0, 1768478400, 2145916800, INT64_MAX};
        struct zone_info z;

        for (size_t i = 0; i < ELEMENTSOF(when); i++)
                if (tzif_lookup(data, size, when[i], &z) == 0 &&
                    strlen(z.abbreviation) > ZONE_ABBR_MAX)
                        abort();
}

static void check_ini(const uint8_t *data, size_t size) {
        const struct tsync_edit edit = {tsync_key_find("ntp:servers"), "a.example.org 192.0.2.1"};
        _cleanup_free_ char *text = malloc(size + 1), *out = NULL;
        struct tsync_conf c;

        if (!text)
                return;
        memcpy(text, data, size);
        text[size] = '\0';

        tsync_conf_init(&c);
        if (tsync_parse(text, strlen(text), &c) < 0)
                abort();
        if (c.n_servers > NTP_SERVERS_MAX || c.n_fallback > NTP_SERVERS_MAX)
                abort();
        tsync_conf_done(&c);

        if (tsync_rewrite(text, &edit, 1, &out) < 0)
                return; /* past the size bound */
        tsync_conf_init(&c);
        if (tsync_parse(out, strlen(out), &c) < 0 || c.n_servers != 2 ||
            strcmp(c.servers[0], "a.example.org") != 0 || strcmp(c.servers[1], "192.0.2.1") != 0)
                abort();
        tsync_conf_done(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > TSYNC_FILE_MAX)
                return 0;
        if (size >= 4 && memcmp(data, "TZif", 4) == 0)
                check_tzif(data, size);
        else
                check_ini(data, size);
        return 0;
}
