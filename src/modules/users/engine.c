/* engine.c — see engine.h. */
#include "modules/users/engine.h"

#include <errno.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>

#include "modules/users/accounts.h"
#include "util.h"

#define ACCOUNT_FILE_MAX (64u << 20)

const char *const ACCOUNT_FILES[ACCOUNT_FILES_N] = {
        "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid",
};

static bool file_is_secret(size_t i) {
        return i == 1 || i == 3;
}

void account_state_done(struct account_state *s) {
        for (size_t i = 0; i < ACCOUNT_FILES_N; i++) {
                if (s->text[i])
                        explicit_bzero(s->text[i], s->len[i]);
                free(s->text[i]);
                s->text[i] = NULL;
        }
}

struct guard_call {
        size_t first; /* index of ACCOUNT_FILES[0] among the plan's files */
        account_guard_fn guard;
        void *data;
};

/* The engine's guard: the account files before and as planned, as views
 * into the plan (never freed here). */
static int guard_files(const struct change_plan *p, void *data, struct module_error *err) {
        const struct guard_call *g = data;
        struct account_state before = {0}, after = {0};

        if (!g->guard)
                return 0;
        for (size_t i = 0; i < ACCOUNT_FILES_N; i++) {
                const struct change_file *f = &p->files[g->first + i];
                before.text[i] = f->before;
                before.len[i] = f->before_len;
                after.text[i] = f->type == CHANGE_ABSENT ? NULL : f->after;
                after.len[i] = f->type == CHANGE_ABSENT ? 0 : f->after_len;
        }
        return g->guard(&before, &after, g->data, err);
}

int account_change_run(struct change_plan *p, bool dry_run, account_guard_fn guard, void *data,
                       json_t **ret_plan, struct module_error *err) {
        struct guard_call g = {.first = p->n_files, .guard = guard, .data = data};

        /* A plan run twice (a probe first) watches the files once. */
        for (size_t i = 0; i < p->n_files; i++)
                if (STREQ(p->files[i].path, ACCOUNT_FILES[0]) && !p->files[i].edit) {
                        g.first = i;
                        goto run;
                }
        for (size_t i = 0; i < ACCOUNT_FILES_N; i++) {
                struct change_file *f = change_watch(p, ACCOUNT_FILES[i], CHANGE_IMAGE,
                                                     file_is_secret(i) ? shadow_redact : NULL);
                f->max = ACCOUNT_FILE_MAX;
        }
run:
        return change_run(p,
                          &(struct change_opts){
                                  .dry_run = dry_run,
                                  .hooks = &account_change_hooks,
                                  .guard = guard_files,
                                  .data = &g,
                          },
                          ret_plan, err);
}

static int account_lock(struct module_error *err) {
        if (lckpwdf() < 0) {
                module_error_set(err, 409, "conflict", NULL,
                                 "the account files are locked by another tool; try again");
                return -EBUSY;
        }
        return 0;
}

static void account_unlock(void) {
        (void)ulckpwdf();
}

const change_hooks_t account_change_hooks = {
        .lock = account_lock,
        .unlock = account_unlock,
};
