/* settings.h — the `system` module's writable settings: the host name and
 * the time zone.
 *
 * The grammar checks are pure and run in the front (as the schema's
 * valid_string) and again in the helper; apply and restore run in the
 * privileged helper, as root, and own every write to /etc/hostname,
 * /etc/timezone and /etc/localtime done through the API.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "module.h"
#include "zoneinfo.h"

#define ETC_HOSTNAME  "/etc/hostname"
#define ETC_TIMEZONE  "/etc/timezone"
#define ETC_LOCALTIME "/etc/localtime"
#define TIMEZONE_MAX  ZONE_NAME_MAX

/* A host name per RFC 1123: labels of [A-Za-z0-9-], 1..63 bytes each, not
 * starting or ending with '-', separated by single dots, at most
 * HOST_NAME_MAX bytes in all.  Case is kept as given. */
bool hostname_valid(const char *s);

/* The grammar of an IANA zone name ("UTC", "Europe/Paris",
 * "America/Argentina/Buenos_Aires", "right/Europe/Paris"): components of
 * [A-Za-z0-9_+-] separated by single '/', at most TIMEZONE_MAX bytes.  Hence
 * no absolute path, no '.' anywhere, no "..".  Whether the zone exists is
 * checked by settings_apply. */
bool timezone_name_valid(const char *s);

/* module_t.settings_apply, .files and .make_live for `system`. */
int system_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                          json_t **plan, struct module_error *err);
const char *const *system_files(void);
int system_make_live(bool helper, struct module_error *err);
