/* exports.h — /etc/exports.d/steward.exports (exports.c). */
#pragma once

#include <jansson.h>

#define EXPORTS_MAX (512 * 1024)

/* The NFS part of the share points: {"NAME": {"path", "clients": [{"host",
 * "options": […]}]}} from the file Steward wrote. */
int exports_parse(const char *text, json_t **ret);
/* The file for the shares whose nfs.enabled is true (each share's "nfs"
 * already normalised); "" when none. */
int exports_render(json_t *shares, char **ret);
/* An NFS client as the API gives it — {"host", "options"} or the string
 * "HOST(OPT,…)" — checked and normalised into *ret: ro unless rw,
 * root_squash unless another squash, sync unless async, no_subtree_check
 * unless subtree_check.  On error, *bad names the member ("host",
 * "options") and 422 applies. */
int exports_client_norm(json_t *client, json_t **ret, const char **bad, char *why, size_t why_len);
