/* procread.h — the processes module's reader of /proc: one process, or all
 * of them in one pass.
 *
 * A process is read through a descriptor of its /proc/PID directory, opened
 * once: stat, status, cgroup and (when asked) cmdline are then all that
 * process's, even if the pid is reused meanwhile; a listing takes the
 * cgroups from one walk of the cgroup v2 tree instead where that tree is the
 * one /proc names.  A process that exits
 * during the pass is skipped, not an error.  Everything read is world-
 * readable, so the reader works as the front's unprivileged user; what needs
 * root (fds, environ, io, smaps_rollup) is procdetail.h's, in the helper.
 *
 * Bounds: at most PROCREAD_MAX_PROCS processes in a listing (-E2BIG past
 * it), every file read capped (a cmdline at PROCREAD_CMDLINE_MAX bytes, cut
 * there; a cgroup file at PROCREAD_CGROUP_MAX), names in fixed buffers.
 *
 * Ownership: a proc_item owns its cgroup and cmdline strings (proc_item_done);
 * a proc_list owns its items (proc_list_done).  Both accept zeroed structs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"

#define PROCREAD_MAX_PROCS   1000000u
#define PROCREAD_CMDLINE_MAX (64u * 1024)
#define PROCREAD_CGROUP_MAX  (16u * 1024)
#define PROCREAD_UNIT_MAX    256u        /* NUL included */
#define PF_KTHREAD_FLAG      0x00200000u /* include/linux/sched.h: PF_KTHREAD */

enum {
        PROCREAD_CMDLINE = 1u << 0, /* read cmdline (admins only see it) */
};

struct proc_item {
        int pid, ppid;
        unsigned uid;
        char state;
        bool kernel_thread;
        int nice, priority;
        unsigned threads;
        uint64_t cpu_ticks;   /* utime + stime */
        uint64_t start_ticks; /* since boot */
        uint64_t rss_bytes, swap_bytes;
        char comm[PROCFS_COMM_MAX];
        char unit[CGROUP_UNIT_MAX + 1];
        char container[CGROUP_CONTAINER_MAX + 1];
        char *cgroup;       /* the v2 path; NULL when none */
        char *cmdline;      /* NUL-separated arguments; NULL unless asked or empty */
        size_t cmdline_len; /* bytes of cmdline */
        /* Filled by the caller: */
        double cpu_percent;
        bool cpu_sampled; /* over the sampler's interval (else lifetime) */
        unsigned depth;   /* tree order */
};

struct proc_list {
        struct proc_item *v;
        size_t n, cap;
};

void proc_item_done(struct proc_item *it);
void proc_list_done(struct proc_list *l);

/* Reads the process of the open /proc/PID directory dirfd. */
int procread_at(int dirfd, unsigned flags, struct proc_item *ret);
/* Reads one process by pid: -ENOENT when there is none. */
int procread_pid(int pid, unsigned flags, struct proc_item *ret);
/* Every process, in /proc's order. */
int procread_all(unsigned flags, struct proc_list *ret);

/* Whether the text of a /proc directory entry is a pid (digits, > 0, fits
 * an int); the pid in *ret. */
bool procread_pid_name(const char *s, int *ret);

/* The root of the cgroup v2 tree this process sees (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid system), or NULL without one. */
const char *procread_cgroup_root(void);

/* The boot time (unix seconds, /proc/stat's btime) and the clock tick, read
 * once: what turns start_ticks into a date. */
int procread_boot(uint64_t *ret_btime, long *ret_clk_tck);
