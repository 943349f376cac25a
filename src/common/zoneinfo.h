/* zoneinfo.h — the names and files of the time zone database, shared by the
 * modules that show or set a zone.
 *
 * A zone is a TZif file under ZONEINFO_DIR reached without leaving that
 * tree: opened with openat2(RESOLVE_BENEATH) relative to the directory, which
 * follows the tree's own relative links ("UTC" -> "Etc/UTC") but refuses
 * absolute ones (Debian ships "localtime" -> "/etc/localtime") and anything
 * that climbs out.  Kernels without openat2 get a walk that follows no link
 * at all. */
#pragma once

#include <stdbool.h>

#define ZONEINFO_DIR  "/usr/share/zoneinfo"
#define ZONE_NAME_MAX 128

/* The grammar of an IANA zone name ("UTC", "Europe/Paris",
 * "America/Argentina/Buenos_Aires", "right/Europe/Paris"): components of
 * [A-Za-z0-9_+-] separated by single '/', at most ZONE_NAME_MAX bytes.
 * Hence no absolute path, no '.' anywhere, no "..". */
bool zone_name_valid(const char *s);

/* Opens name (grammar-checked) under the zoneinfo directory dir for
 * reading, as the top comment says: a descriptor, or -errno (-ENOENT,
 * -ENOTDIR, -EXDEV for a path that leads out, -ELOOP for a link the
 * fallback does not follow…). */
int zone_open(int dir, const char *name);
