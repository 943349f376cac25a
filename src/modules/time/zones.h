/* zones.h — the time zones installed under /usr/share/zoneinfo (zones.c):
 * their names, and each one's UTC offset and abbreviation at a given time,
 * read from the zone's TZif file (RFC 8536) rather than through the C
 * library's TZ, which is process-wide state; and the reports built on
 * them (the time now, a timezones item).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "zoneinfo.h"

#define ZONES_DIR     ZONEINFO_DIR
#define ZONES_MAX     4096 /* zones listed at most */
#define TZIF_FILE_MAX (256UL * 1024)
#define ZONE_ABBR_MAX 16

struct zone_info {
        int32_t utc_offset; /* seconds east of UTC */
        bool dst;
        char abbreviation[ZONE_ABBR_MAX + 1];
};

/* The local time type in force at t in a TZif file's contents.  -EBADMSG
 * for a file that is not valid TZif; -EOPNOTSUPP when t is past the last
 * transition and the file's footer has daylight saving rules (a "slim"
 * file: Debian ships "fat" ones, whose transitions run to 2037). */
int tzif_lookup(const uint8_t *data, size_t len, int64_t t, struct zone_info *ret);

/* The zone at t, from its file under ZONES_DIR (name checked, no link
 * leading out of the tree).  -ENOENT for no such zone. */
int zone_lookup(const char *name, int64_t t, struct zone_info *ret);

/* The names of every TZif file under ZONES_DIR (without the posix/ and
 * right/ copies), sorted; *ret is a JSON array of strings. */
int zones_list(json_t **ret);

/* "+01:00" for 3600. */
void zone_offset_text(int32_t offset, char *buf, size_t size);
/* The time now: {"utc", "local", "zone", "abbreviation", "utc_offset",
 * "utc_offset_seconds", "dst"}, the zone named by /etc/localtime's link
 * (or /etc/timezone, or "UTC") and its offset read from /etc/localtime
 * itself, as the C library reads it.  NULL when out of memory. */
json_t *zone_now_json(void);
/* A timezones item: {"id" (the name with ':' for '/', one path segment),
 * "name", "region", "utc_offset_now", "utc_offset_seconds", "abbreviation",
 * "dst"}; the offset fields are null when the zone cannot be read now. */
json_t *zone_item_json(const char *name, int64_t now);
