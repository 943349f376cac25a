/* procdetail.h — what only root may read of a process, for the module's
 * privileged read in the helper: PSS and swap (smaps_rollup), I/O bytes
 * (io), open files and sockets (fd/), listening ports (sock_diag matched by
 * socket inode), the memory map's summary (maps) and, for admins, the
 * environment.
 *
 * Every request names processes by (pid, start_ticks): a process whose
 * start_ticks differ is another one and is not read (list: left out; show:
 * 409 process_changed).  Every read is bounded: PROCDETAIL_PIDS_MAX
 * processes a request, PROCDETAIL_FDS_MAX descriptors walked a process,
 * PROCDETAIL_FILES_MAX files, sockets and listeners listed, environ and maps capped in
 * bytes.
 */
#pragma once

#include <jansson.h>

#include "module.h"

#define PROCDETAIL_PIDS_MAX  10000u /* keeps an answer well within a helper frame */
#define PROCDETAIL_FDS_MAX   1000000u
#define PROCDETAIL_FILES_MAX 1000u
#define PROCDETAIL_ENV_MAX   (256u * 1024)
#define PROCDETAIL_MAPS_MAX  (16u * 1024 * 1024)

/* {"what": "detail", "pids": [[pid, start_ticks], …]} →
 *   {"processes": {"PID": {pss_bytes, open_files, io_read_bytes,
 *                          io_write_bytes, listening: […]}}}
 * {"what": "show", "pid": N, "start_ticks": N, "environ": bool} →
 *   the same members for one process plus files, sockets, maps and (with
 *   environ) environment. */
int procdetail_read(json_t *args, json_t **ret, struct module_error *err);
/* The lowest role args need: admin for environ, monitor otherwise, -1 for
 * what is not a read this module makes. */
int procdetail_role(json_t *args);
