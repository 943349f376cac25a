/* actions.h — the processes collection's item actions: signal and renice.
 *
 * POST /api/v1/processes/{pid}/signal {"signal": "TERM", "start_ticks"?: N}
 * POST /api/v1/processes/{pid}/renice {"nice": -20..19, "start_ticks"?: N}
 *
 * Both run in the privileged helper's audited worker (root).  The order of
 * the checks is the point of this file:
 *  1. the id is a pid by grammar (decimal, no sign or leading zero, at most
 *     the kernel's PID_MAX_LIMIT), else 404;
 *  2. the process is held by a pidfd (pidfd_open) FIRST: from here on the
 *     action reaches that process or none, even if the pid is reused;
 *  3. its identity is read from /proc/PID (stat: ppid, state, flags,
 *     start_ticks, nice; status: real, effective and saved uid; cgroup: the
 *     unit), then the pidfd is asked whether the process still lives: if it
 *     does, the pid was never free between 2 and 3, so what was read is the
 *     held process's (a read of a reused pid is detected here: 404);
 *  4. a start_ticks given that differs from the process's: 409
 *     process_changed (the caller saw another process under that pid);
 *  5. guards, whatever the role: PID 1, kernel threads (PF_KTHREAD, and
 *     kthreadd's children), and Steward itself — the daemon (the topmost
 *     ancestor of this process running the same executable), the front, the
 *     helper, its workers, and everything they started: 403;
 *  6. the role: an admin may act on any other process; an operator only on
 *     processes whose real, effective and saved uid are all the uid of the
 *     operator's own account (a set-uid program the operator started runs
 *     with another user's power, and is refused); lowering the nice value
 *     of any of its threads (raising a priority) needs admin, as the
 *     kernel's RLIMIT_NICE says for users: 403;
 *  7. the action, through the pidfd (pidfd_send_signal) or, for renice,
 *     setpriority() on every thread of /proc/PID/task (setpriority on a pid
 *     changes only that thread on Linux).
 * A refusal in 4–6 is 403/409, which the helper records in the audit log.
 *
 * A dry run (?dry_run=1) makes every check and answers the plan:
 * {"plan": {"warnings": [...], "commands": []}, "process": {…}, "signal"}
 * (or "nice"), and changes nothing.  Signalling the main process of a
 * systemd service adds a warning naming the unit's own action.
 *
 * The answer: {"process": {the item after, or null when it is gone},
 * "signal": "TERM", "delivered": true} or {"process", "nice",
 * "previous_nice", "threads": N reniced}.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "module.h"

extern const collection_action_t processes_actions[];
#define PROCESSES_N_ACTIONS 2

/* The signals an action may send, by the name the API takes ("TERM"). */
int pact_signal_from_name(const char *name); /* the number, or -EINVAL */
const char *pact_signal_name(int sig);       /* NULL for one not offered */

/* What the checks know of one process. */
struct pact_identity {
        int pid, ppid;
        unsigned ruid, euid, suid;
        uint64_t start_ticks;
        bool kernel_thread;
        bool steward; /* the daemon or one of its descendants */
        char state;
        int nice;
        int threads;
        char comm[64];
        char unit[256];    /* the systemd unit of its cgroup, "" if none */
        char cgroup[1024]; /* its cgroup v2 path, "" if none */
        bool unit_main;    /* the first process of its .service (its parent is not in it) */
};

/* Who acts: role (enum role) and the uid of their account (-1: none). */
struct pact_actor {
        int role;
        int64_t uid;
};

/* The pid that an id names, by grammar: 0 with *ret, or -EINVAL. */
int pact_parse_pid(const char *id, pid_t *ret);

/* Checks 4–6 above for an identity (pure): 0, or -EPERM / -ESTALE with err
 * filled (403 forbidden / 409 process_changed).  start_ticks: the one the
 * caller gave, or -1; lower: the action raises the priority (renice below
 * the current nice). */
int pact_check(const struct pact_identity *id, const struct pact_actor *who, int64_t start_ticks,
               bool lower, struct module_error *err);
