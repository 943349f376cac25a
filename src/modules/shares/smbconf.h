/* smbconf.h — Samba's configuration files as the shares module reads and
 * writes them (smbconf.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SMBCONF_MAX (1024 * 1024)

/* "Read Only" → "readonly". */
void smbconf_key_norm(const char *key, char *out, size_t len);
/* The sections of a file: [{"name", "params": {normalised key: value},
 * "names": {normalised key: the key as written}, "first_line",
 * "last_line"}, …] in file order (0-based lines). */
int smbconf_parse(const char *text, json_t **ret);
/* The section called name (Samba compares them without case), or NULL. */
json_t *smbconf_section(json_t *sections, const char *name);
/* A parameter of a section, by any spelling of its name; NULL if unset. */
const char *smbconf_get(json_t *section, const char *key);
int smbconf_bool(const char *v, bool *ret);
/* A share point (without "nfs", "folder", "warnings") from its section;
 * parameters Steward does not model are in "extra". */
json_t *share_from_section(json_t *section, const char *source);
/* Steward's include file: globals ({"samba key": "value"}, in order) and
 * the share points, each with the parameters its fields mean plus its
 * "extra" ones. */
int smbconf_render(json_t *globals, json_t *shares, char **ret);
/* Whether smb.conf has an active `include = include_path` line. */
bool smbconf_has_include(const char *text, const char *include_path);
/* smb.conf with the managed include line (and its comment) at the end of
 * its [global] section. */
int smbconf_add_include(const char *text, const char *include_path, char **ret);
/* smb.conf without the lines of section (as smbconf_parse found them). */
int smbconf_cut_section(const char *text, json_t *section, char **ret);
