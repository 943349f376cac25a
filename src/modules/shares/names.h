/* names.h — the grammars of the shares module (names.c). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARE_NAME_BYTES_MAX 80

/* Samba's share-name rules, narrowed: 1–80 bytes of printable UTF-8, none
 * of []/\:*?"<>|%,;=#, no space at either end, no leading -, not global, homes,
 * printers, ipc$ or print$ (in any case). */
bool share_name_valid(const char *s);
/* A share's folder as given: absolute, no empty, "." or ".." component,
 * no trailing '/' or space, printable UTF-8 without '%', '\\' or '"'
 * (spaces are fine: the exports file escapes them). */
bool share_path_valid(const char *s);
/* A comment: printable UTF-8, at most 255 bytes, no '%', no trailing '\'. */
bool share_comment_valid(const char *s);
/* A user or group name as Debian's useradd and groupadd take them
 * (NAME_REGEX ^[a-z_][-a-z0-9_]*\$?$), at most 32 bytes: the n bytes at s. */
bool account_name_valid_n(const char *s, size_t n);
/* "alice" or "@staff": a user or a group by that grammar. */
bool share_principal_valid(const char *s);
/* A veto pattern: printable, no '/', '\', '%' or '"'. */
bool share_veto_valid(const char *s);
/* "500G": 1–6 digits and one of K M G T P; the bytes in *ret. */
int share_size_parse(const char *s, uint64_t *ret);
/* exports(5) clients: a host name, *.domain, an address or a network
 * (IPv4 or IPv6 with /prefix), @netgroup, or *. */
bool nfs_host_valid(const char *s);
/* One export option of the ones Steward writes (ro, rw, sync, sec=krb5p…). */
bool nfs_option_valid(const char *s);
/* The first option of a pair that contradicts itself (ro and rw), or one
 * given twice; NULL when none. */
const char *nfs_options_conflict(const char *const *opts, size_t n);
/* A NetBIOS name (workgroup): 1–15 of [A-Za-z0-9._-]. */
bool netbios_name_valid(const char *s);
bool server_string_valid(const char *s);
