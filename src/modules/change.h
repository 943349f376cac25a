/* change.h — the change engine: every module's change to the system is a
 * plan, and this is the one code that stages, checks, applies, describes
 * and rolls back plans.
 *
 * A plan is data:
 *  - file edits: a path and the state it must have after the change (a
 *    regular file with content and mode, a symbolic link with its target,
 *    or absent);
 *  - watched files: paths the commands change (the account files for
 *    useradd), observed before and after;
 *  - commands: absolute tool paths with argv arrays, an optional stdin
 *    (possibly a secret) and a fixed environment (PATH, LC_ALL=C); an
 *    argument may be flagged for the real run only (creating a home) or
 *    for the staged run only.
 * Each file may carry a redactor (what the plan may show of it, e.g.
 * /etc/shadow without its hashes), CHANGE_IMAGE (its full contents travel
 * as images, module.h, for rollback) and CHANGE_MODULE_RESTORE (rollback
 * goes through the module's file_restore).
 *
 * change_run():
 *  1. reads every file's state before the change;
 *  2. when the plan has commands or the module a validate hook, stages the
 *     change in a child with a private mount namespace, an overlay over
 *     /etc that catches every write and tmpfs over /var/log and the mail
 *     spools: writes the file edits under /etc there, runs the commands
 *     (staged argv), then calls validate() with the staged /etc; reads the
 *     watched files as they end up there;
 *  3. calls the caller's guard with the planned states: it may refuse;
 *  4. dry run: stops and describes the plan;
 *  5. applies: under the module's lock hook, writes the file edits in order
 *     (atomically, file_state_write(); with CHANGE_MAKE_DIR a missing
 *     directory, one level, is made then, never earlier); then runs the
 *     commands for real,
 *     in order, stopping at the first failure; then the caller's commit
 *     callback.  A failing write or commit puts every file edit back as it
 *     was (all or nothing); commands are not undone (what ran before a
 *     failing one stays, and the plan, marked "applied", shows it).
 * The plan is JSON in the shape module.h documents ({"commands", "files",
 * "warnings"}, and "applied": true when commands ran for real).
 *
 * change_rollback() puts back a recorded plan's files: under the lock
 * hook, it checks that every file still holds what the change left
 * (else -ESTALE with a diff per changed file) and restores each one
 * (file_restore for CHANGE_MODULE_RESTORE files, else file_state_write());
 * when one restore fails, those done before it are put back as the change
 * left them.
 * Making the restored files live is the caller's (the helper also tells
 * the front).
 *
 * Everything here runs in the privileged helper.  Tools run with fork and
 * execve, every other descriptor closed, secrets on stdin only. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

#define CHANGE_FILES_MAX 16
#define CHANGE_CMDS_MAX  24
#define CHANGE_ARGS_MAX  40

typedef enum {
        CHANGE_ABSENT,
        CHANGE_FILE,
        CHANGE_SYMLINK,
} change_type_t;

/* Where a command's argument is used. */
enum {
        CHANGE_ARG_BOTH,
        CHANGE_ARG_REAL,  /* e.g. --create-home: not in the staged run */
        CHANGE_ARG_STAGE, /* e.g. --no-create-home in its place */
};

/* A file's flags. */
enum {
        CHANGE_IMAGE = 1u << 0,          /* full contents kept as images for rollback */
        CHANGE_MODULE_RESTORE = 1u << 1, /* rolled back by the module's file_restore */
        CHANGE_MAKE_DIR = 1u << 2,       /* a missing directory (one level) is made as it is
                                          * written, and removed by an undo */
};

/* What may be shown of a file's content (malloc'ed in *ret). */
typedef int (*change_redact_fn)(const char *text, size_t len, char **ret);

struct change_file {
        const char *path;  /* absolute; static or owned by the caller */
        const char *field; /* the setting it serves, for errors (or NULL) */
        unsigned flags;
        size_t max; /* largest content accepted (0: FILE_STATE_MAX) */
        change_redact_fn redact;
        bool edit; /* the plan writes it; else the commands change it */

        change_type_t type; /* after the change */
        char *after;        /* content or link target; NULL when absent */
        size_t after_len;
        unsigned mode; /* of a new regular file (an existing one keeps its own) */

        change_type_t before_type;
        char *before;
        size_t before_len;
        unsigned before_mode;

        bool skip;    /* already in the wanted state */
        bool written;  /* by this change, not yet undone */
        bool made_dir; /* CHANGE_MAKE_DIR: its directory was made by the write */
};

struct change_cmd {
        const char *argv[CHANGE_ARGS_MAX + 1];
        unsigned char where[CHANGE_ARGS_MAX]; /* CHANGE_ARG_* */
        char *owned[CHANGE_ARGS_MAX];         /* argv strings this command frees */
        size_t argc;
        char *input; /* stdin, or NULL; wiped and freed with the command */
        bool input_secret;
};

struct change_plan {
        struct change_file files[CHANGE_FILES_MAX];
        size_t n_files;
        struct change_cmd cmds[CHANGE_CMDS_MAX];
        size_t n_cmds;
        json_t *warnings;
        int oom; /* first error of building the plan: reported by change_run() */
};

/* A module's hooks into the engine (module_t.change), each optional:
 *  lock/unlock: serialise with the module's own tools around the engine's
 *   writes of its files (users: lckpwdf/ulckpwdf); never held while
 *   commands run, which take their own locks;
 *  validate: in the staged namespace, check the staged configuration with
 *   the service's own checker (testparm, visudo -c…); etc is the staged
 *   /etc.  An error refuses the change. */
typedef struct change_hooks {
        int (*lock)(struct module_error *err);
        void (*unlock)(void);
        int (*validate)(const char *etc, struct module_error *err);
        /* Directories outside /etc that the commands or the checker may
         * write (`postfix check` makes missing queue directories): in the
         * stage each gets an overlay of its own, so those writes stay
         * there (NULL-terminated; NULL: none; at most CHANGE_OVERLAYS_MAX). */
        const char *const *stage_overlays;
} change_hooks_t;
#define CHANGE_OVERLAYS_MAX 4

/* May refuse a change given the plan with every file's before and after. */
typedef int (*change_guard_fn)(const struct change_plan *p, void *data, struct module_error *err);

struct change_opts {
        bool dry_run;
        const change_hooks_t *hooks;
        change_guard_fn guard;
        /* After the writes and commands: a failure puts the file edits back.
         * The engine adds to err->message what the undo achieved. */
        int (*commit)(void *data, struct module_error *err);
        void *data; /* for guard and commit */
};

void change_plan_init(struct change_plan *p);
void change_plan_done(struct change_plan *p);

/* A file edit: path must end up a regular file with content (mode for a new
 * one), a link to content, or absent (content NULL). */
struct change_file *change_edit(struct change_plan *p, const char *path, change_type_t type,
                                const char *content, unsigned mode);
/* A file the commands change, observed before and after (under /etc). */
struct change_file *change_watch(struct change_plan *p, const char *path, unsigned flags,
                                 change_redact_fn redact);

/* Starts a command with the tool's path; then change_arg() each argument. */
struct change_cmd *change_cmd(struct change_plan *p, const char *tool);
void change_arg(struct change_plan *p, struct change_cmd *c, const char *arg);
void change_arg_where(struct change_plan *p, struct change_cmd *c, const char *arg, int where);
void change_argf(struct change_plan *p, struct change_cmd *c, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* One argument: the strings of names joined by ','.  Past max bytes the
 * plan fails (E2BIG) rather than run with a list cut short. */
void change_arg_joined(struct change_plan *p, struct change_cmd *c, json_t *names, size_t max);
void change_input(struct change_plan *p, struct change_cmd *c, const char *input, bool secret);
/* Drops the last command (one that turned out to have nothing to do). */
void change_cmd_drop(struct change_plan *p);
void change_warn(struct change_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs the plan (see above).  *ret_plan is set on success, and whenever
 * commands ran for real, also on failure (with "applied": true), so that
 * it can be audited. */
int change_run(struct change_plan *p, const struct change_opts *o, json_t **ret_plan,
               struct module_error *err);

/* Writes the plan's file edits (no commands, no hooks): the entry point of
 * backends that only write files.  *ret_files is the plan's "files". */
int change_write_files(struct change_plan *p, bool dry_run, json_t **ret_files,
                       struct module_error *err);

/* Runs one tool now (for reads that need one); its exit status, or -errno.
 * The first bytes of its output go to msg.  A tool still running after
 * CHANGE_EXEC_TIMEOUT_USEC (or timeout_usec) is killed: -ETIME. */
#define CHANGE_EXEC_TIMEOUT_USEC (120ULL * 1000 * 1000)
int change_exec(const char *const *argv, const char *input, char *msg, size_t msg_len);
int change_exec_timeout(const char *const *argv, const char *input, char *msg, size_t msg_len,
                        uint64_t timeout_usec);
#define CHANGE_EXEC_OUTPUT_TIMEOUT_USEC (30ULL * 1000 * 1000)

/* Runs one tool now and keeps its whole standard output (at most max bytes,
 * else -E2BIG) NUL-terminated in *ret_out (its length in *ret_len if not
 * NULL), and the first bytes of its standard error in msg.  Its exit
 * status, or -errno (*ret_out is then not set): -ETIME when it ran longer
 * than CHANGE_EXEC_OUTPUT_TIMEOUT_USEC (it is killed). */
int change_exec_output(const char *const *argv, size_t max, char **ret_out, size_t *ret_len,
                       char *msg, size_t msg_len);

/* The same, but standard output goes to fn a line at a time as the tool
 * writes it (without the '\n'; a last line without one too), so that the
 * caller's work overlaps the tool's: a line that does not fit max_line
 * bytes with the 4 KiB read after it, or more than max_total bytes in all,
 * is -E2BIG.  fn returns >= 0, or -errno,
 * which stops the calls (the tool is still read to its end and reaped) and
 * is returned.  The tool's exit status, or -errno. */
typedef int (*change_line_fn)(const char *line, size_t len, void *data);
int change_exec_lines(const char *const *argv, size_t max_line, size_t max_total,
                      change_line_fn fn, void *data, char *msg, size_t msg_len);

/* start, stop or restart a module's servers through systemd: `systemctl
 * VERB -- UNIT…` with the units that are installed (n of them, at most 8).
 * servers names them for messages ("Postfix and Dovecot").  503
 * (-EOPNOTSUPP) when systemd does not run here or no unit is installed;
 * 500 (-EIO) with systemctl's words when it fails. */
#define CHANGE_UNITS_MAX 8
int change_units_control(const char *verb, const char *const *units, size_t n,
                         const char *servers, struct module_error *err);

/* Adds to plan's "files" an entry for a file a module wrote itself (absent
 * when before or after is NULL). */
int change_plan_add_file(json_t *plan, const char *path, const char *before, const char *after,
                         bool module_restore);

/* One file of a recorded plan to put back. */
struct change_restore {
        const char *path;
        const char *type, *content;             /* what the change left: must still be there */
        const char *before_type, *before;       /* what to bring back (before NULL: "") */
        const char *shown_after, *shown_before; /* as the record shows them */
        bool image;                             /* secret: a conflict shows no contents */
        bool module_restore;
};

struct change_rollback_result {
        json_t *files;     /* the rollback's own plan files (with images), on success */
        json_t *conflicts; /* on -ESTALE: [{"path", "diff"}, …] of the files changed since */
        bool touched;      /* a restore was attempted: a failure is to be audited */
};

/* Puts the files back (see above).  shown_* are what the record showed of
 * each file (redacted for images): the rollback's diffs show the same. */
int change_rollback(const module_t *m, const struct change_restore *fs, size_t n, bool dry_run,
                    struct change_rollback_result *res, struct module_error *err);
void change_rollback_result_done(struct change_rollback_result *res);

const char *change_type_name(change_type_t t);
int change_type_parse(const char *s, change_type_t *ret);
