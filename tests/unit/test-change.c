/* test-change.c — the change engine (src/modules/change.c): a plan of file
 * edits applied whole or not at all, symlinks and absent files, dry runs
 * that touch nothing, the plan's JSON, the lock hook, rollback with its
 * conflict check, and a staged command observed through a watched file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "change.h"
#include "util.h"

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        (void)(type == FTW_DP ? rmdir(path) : unlink(path));
        return 0;
}

static int setup(void **state) {
        snprintf(dir, sizeof dir, "/tmp/steward-test-change-XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static char *in_dir(const char *name) {
        static char p[16][PATH_MAX];
        static unsigned k;
        char *dst = p[k++ % 16];

        snprintf(dst, PATH_MAX, "%s/%s", dir, name);
        return dst;
}

static void put(const char *path, const char *text) {
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0640), 0);
}

/* The file's content, or NULL when absent; a link reads as "-> TARGET". */
static char *get(const char *path) {
        static char buf[4096];
        struct stat st;
        size_t len = 0;
        char *text = NULL;

        if (lstat(path, &st) < 0)
                return NULL;
        if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlink(path, buf + 3, sizeof buf - 4);
                assert_true(n > 0);
                memcpy(buf, "-> ", 3);
                buf[n + 3] = '\0';
                return buf;
        }
        assert_int_equal(read_file(path, sizeof buf - 1, &text, &len), 0);
        memcpy(buf, text, len + 1);
        free(text);
        return buf;
}

static json_t *file_entry(json_t *files, const char *path) {
        size_t i;
        json_t *f;

        json_array_foreach(files, i, f) if (STREQ(json_string_value(json_object_get(f, "path")),
                                                  path)) return f;
        return NULL;
}

static void test_apply_file_symlink_absent(void **state) {
        char *a = in_dir("a.conf"), *l = in_dir("link"), *gone = in_dir("gone"),
             *same = in_dir("same");
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL, *f;
        struct stat st;

        put(a, "old\n");
        put(gone, "bye\n");
        put(same, "kept\n");
        change_plan_init(&p);
        change_edit(&p, a, CHANGE_FILE, "new\n", 0600);
        change_edit(&p, l, CHANGE_SYMLINK, "/usr/share/zoneinfo/UTC", 0);
        change_edit(&p, gone, CHANGE_ABSENT, NULL, 0);
        change_edit(&p, same, CHANGE_FILE, "kept\n", 0644);
        assert_int_equal(change_run(&p, &(struct change_opts){0}, &plan, &err), 0);

        assert_string_equal(get(a), "new\n");
        assert_int_equal(lstat(a, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640); /* an existing file keeps its mode */
        assert_string_equal(get(l), "-> /usr/share/zoneinfo/UTC");
        assert_null(get(gone));

        /* The plan: every changed file with its states; unchanged ones left out. */
        assert_int_equal(json_array_size(json_object_get(plan, "files")), 3);
        assert_null(file_entry(json_object_get(plan, "files"), same));
        f = file_entry(json_object_get(plan, "files"), a);
        assert_string_equal(json_string_value(json_object_get(f, "type")), "file");
        assert_string_equal(json_string_value(json_object_get(f, "before_type")), "file");
        assert_string_equal(json_string_value(json_object_get(f, "before")), "old\n");
        assert_string_equal(json_string_value(json_object_get(f, "after")), "new\n");
        assert_true(json_is_false(json_object_get(f, "redacted")));
        assert_non_null(strstr(json_string_value(json_object_get(f, "diff")), "-old\n+new\n"));
        f = file_entry(json_object_get(plan, "files"), l);
        assert_string_equal(json_string_value(json_object_get(f, "type")), "symlink");
        assert_string_equal(json_string_value(json_object_get(f, "before_type")), "absent");
        assert_true(json_is_null(json_object_get(f, "before")));
        assert_non_null(strstr(json_string_value(json_object_get(f, "diff")),
                               "+-> /usr/share/zoneinfo/UTC"));
        f = file_entry(json_object_get(plan, "files"), gone);
        assert_string_equal(json_string_value(json_object_get(f, "type")), "absent");
        assert_null(json_object_get(plan, "applied")); /* no command ran */
        json_decref(plan);
        change_plan_done(&p);
}

static void test_dry_run_touches_nothing(void **state) {
        char *a = in_dir("dry"), *l = in_dir("drylink");
        struct change_plan p;
        struct module_error err = {0};
        json_t *files = NULL;

        put(a, "old\n");
        change_plan_init(&p);
        change_edit(&p, a, CHANGE_FILE, "new\n", 0644);
        change_edit(&p, l, CHANGE_SYMLINK, "target", 0);
        assert_int_equal(change_write_files(&p, /* dry_run= */ true, &files, &err), 0);
        assert_int_equal(json_array_size(files), 2);
        assert_string_equal(get(a), "old\n");
        assert_null(get(l));
        json_decref(files);
        change_plan_done(&p);
}

static void test_failure_midway_undoes(void **state) {
        char *a = in_dir("first"), *l = in_dir("second"), *bad = in_dir("no-such-dir/third");
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;

        put(a, "one\n");
        change_plan_init(&p);
        change_edit(&p, a, CHANGE_FILE, "two\n", 0644);
        change_edit(&p, l, CHANGE_SYMLINK, "somewhere", 0);
        change_edit(&p, bad, CHANGE_FILE, "x\n", 0644)->field = "third";
        assert_true(change_run(&p, &(struct change_opts){0}, &plan, &err) < 0);
        assert_null(plan);
        assert_int_equal(err.status, 500);
        assert_string_equal(err.field, "third");
        assert_non_null(strstr(err.message, "nothing was changed"));
        assert_string_equal(get(a), "one\n");
        assert_null(get(l));
        change_plan_done(&p);
}

static int failing_commit(void *data, struct module_error *err) {
        (*(int *)data)++;
        module_error_set(err, 500, "internal", NULL, "cannot make it live");
        return -EIO;
}

/* CHANGE_MAKE_DIR: the directory is made by the write, not by a dry run,
 * and an undo removes it again. */
static void test_make_dir_as_written(void **state) {
        char *f = in_dir("unit.d/50-x.conf"), *d = in_dir("unit.d");
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;
        struct stat st;
        int calls = 0;

        for (int round = 0; round < 3; round++) {
                change_plan_init(&p);
                change_edit(&p, f, CHANGE_FILE, "x\n", 0644)->flags |= CHANGE_MAKE_DIR;
                if (round == 0) /* a dry run makes nothing */
                        assert_int_equal(
                                change_run(&p, &(struct change_opts){.dry_run = true}, &plan, &err),
                                0);
                else if (round == 1) /* a failing commit: the file and its directory go */
                        assert_true(change_run(&p,
                                               &(struct change_opts){.commit = failing_commit,
                                                                     .data = &calls},
                                               &plan, &err) < 0);
                else
                        assert_int_equal(change_run(&p, &(struct change_opts){0}, &plan, &err), 0);
                change_plan_done(&p);
                json_decref(plan);
                plan = NULL;
                if (round < 2)
                        assert_int_equal(stat(d, &st), -1);
        }
        assert_string_equal(get(f), "x\n");
}

static void test_commit_failure_undoes(void **state) {
        char *a = in_dir("committed");
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;
        int calls = 0;

        change_plan_init(&p);
        change_edit(&p, a, CHANGE_FILE, "new\n", 0644);
        assert_true(change_run(&p, &(struct change_opts){.commit = failing_commit, .data = &calls},
                               &plan, &err) < 0);
        assert_int_equal(calls, 1);
        assert_string_equal(err.message, "cannot make it live; nothing was changed");
        assert_null(get(a)); /* it did not exist before */
        change_plan_done(&p);
}

static int locks, unlocks;
static int lock_hook(struct module_error *err) {
        locks++;
        return 0;
}
static void unlock_hook(void) {
        unlocks++;
}
static const change_hooks_t hooks = {.lock = lock_hook, .unlock = unlock_hook};

static int refuse(const struct change_plan *p, void *data, struct module_error *err) {
        module_error_set(err, 403, "forbidden", NULL, "refused %s", p->files[0].after);
        return -EPERM;
}

static void test_guard_refuses_and_lock_wraps_writes(void **state) {
        char *a = in_dir("guarded");
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;

        change_plan_init(&p);
        change_edit(&p, a, CHANGE_FILE, "x\n", 0644);
        assert_int_equal(change_run(&p, &(struct change_opts){.guard = refuse}, &plan, &err),
                         -EPERM);
        assert_string_equal(err.message, "refused x\n");
        assert_null(get(a));
        change_plan_done(&p);

        locks = unlocks = 0;
        change_plan_init(&p);
        change_edit(&p, a, CHANGE_FILE, "y\n", 0644);
        assert_int_equal(change_run(&p, &(struct change_opts){.hooks = &hooks}, &plan, &err), 0);
        assert_int_equal(locks, 1);
        assert_int_equal(unlocks, 1);
        assert_string_equal(get(a), "y\n");
        json_decref(plan);
        change_plan_done(&p);
}

static int redact_all(const char *text, size_t len, char **ret) {
        *ret = strdup("[redacted]\n");
        return *ret ? 0 : -ENOMEM;
}

static void test_images_and_redaction(void **state) {
        char *a = in_dir("secret");
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL, *f;

        put(a, "hash1\n");
        change_plan_init(&p);
        struct change_file *cf = change_edit(&p, a, CHANGE_FILE, "hash2\n", 0600);
        cf->flags = CHANGE_IMAGE;
        cf->redact = redact_all;
        assert_int_equal(change_run(&p, &(struct change_opts){.dry_run = true}, &plan, &err), 0);
        f = json_array_get(json_object_get(plan, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(f, "before")), "[redacted]\n");
        assert_string_equal(json_string_value(json_object_get(f, "after")), "[redacted]\n");
        assert_null(strstr(json_string_value(json_object_get(f, "diff")), "hash"));
        assert_true(json_is_true(json_object_get(f, "image")));
        assert_string_equal(json_string_value(json_object_get(f, "image_before")), "hash1\n");
        assert_string_equal(json_string_value(json_object_get(f, "image_after")), "hash2\n");
        json_decref(plan);
        change_plan_done(&p);
}

static void test_rollback_restores_and_refuses_conflicts(void **state) {
        char *a = in_dir("rb"), *l = in_dir("rblink");
        struct change_rollback_result res;
        struct module_error err = {0};
        struct change_restore fs[] = {
                {.path = a,
                 .type = "file",
                 .content = "after\n",
                 .before_type = "file",
                 .before = "before\n",
                 .shown_after = "after\n",
                 .shown_before = "before\n"},
                {.path = l, .type = "symlink", .content = "t2", .before_type = "absent"},
        };

        put(a, "after\n");
        assert_int_equal(symlink("t2", l), 0);
        /* Dry run: the plan, nothing touched. */
        assert_int_equal(change_rollback(NULL, fs, 2, true, &res, &err), 0);
        assert_int_equal(json_array_size(res.files), 2);
        assert_false(res.touched);
        assert_string_equal(get(a), "after\n");
        change_rollback_result_done(&res);

        /* Changed since: a conflict with a diff, nothing touched. */
        put(a, "edited by hand\n");
        assert_int_equal(change_rollback(NULL, fs, 2, false, &res, &err), -ESTALE);
        assert_int_equal(err.status, 409);
        assert_int_equal(json_array_size(res.conflicts), 1);
        assert_non_null(
                strstr(json_string_value(json_object_get(json_array_get(res.conflicts, 0), "diff")),
                       "+edited by hand"));
        assert_string_equal(get(l), "-> t2");
        change_rollback_result_done(&res);

        put(a, "after\n");
        assert_int_equal(change_rollback(NULL, fs, 2, false, &res, &err), 0);
        assert_true(res.touched);
        assert_string_equal(get(a), "before\n");
        assert_null(get(l));
        change_rollback_result_done(&res);
}

static void test_rollback_failure_midway_undoes(void **state) {
        char *a = in_dir("rb-first"), *bad = in_dir("no-such-dir/rb-second");
        struct change_rollback_result res;
        struct module_error err = {0};
        struct change_restore fs[] = {
                {.path = a,
                 .type = "file",
                 .content = "after\n",
                 .before_type = "file",
                 .before = "before\n"},
                {.path = bad, .type = "absent", .before_type = "file", .before = "x\n"},
        };

        put(a, "after\n");
        assert_true(change_rollback(NULL, fs, 2, false, &res, &err) < 0);
        assert_true(res.touched);
        assert_non_null(strstr(err.message, "nothing was rolled back"));
        assert_string_equal(get(a), "after\n");
        change_rollback_result_done(&res);
}

/* A module that restores a directory's state itself (module_t.file_read
 * and file_restore): the conflict check reads what file_read says, not the
 * path as a file. */
static char fake_state[64];

static int fake_read(const char *path, char **ret, struct module_error *err) {
        struct stat st;

        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        *ret = strdup(fake_state);
        return *ret ? 1 : -ENOMEM;
}

static int fake_restore(const char *path, const char *type, const char *content,
                        struct module_error *err) {
        snprintf(fake_state, sizeof fake_state, "%s", content);
        return 0;
}

static void test_rollback_reads_through_the_module(void **state) {
        char *d = in_dir("state-dir");
        const module_t m = {.name = "fake", .file_read = fake_read, .file_restore = fake_restore};
        struct change_rollback_result res;
        struct module_error err = {0};
        struct change_restore fs[] = {
                {.path = d,
                 .type = "file",
                 .content = "mode 0750\n",
                 .before_type = "file",
                 .before = "mode 0755\n",
                 .shown_after = "mode 0750\n",
                 .shown_before = "mode 0755\n",
                 .module_restore = true},
        };

        assert_int_equal(mkdir(d, 0755), 0);
        /* Changed since, as the module reads it: a conflict with its diff. */
        snprintf(fake_state, sizeof fake_state, "mode 0700\n");
        assert_int_equal(change_rollback(&m, fs, 1, false, &res, &err), -ESTALE);
        assert_non_null(
                strstr(json_string_value(json_object_get(json_array_get(res.conflicts, 0), "diff")),
                       "+mode 0700"));
        change_rollback_result_done(&res);
        /* As the change left it: put back through file_restore. */
        snprintf(fake_state, sizeof fake_state, "mode 0750\n");
        assert_int_equal(change_rollback(&m, fs, 1, false, &res, &err), 0);
        assert_string_equal(fake_state, "mode 0755\n");
        change_rollback_result_done(&res);
        /* Without file_read, a directory is no file the engine can read. */
        const module_t plain = {.name = "plain", .file_restore = fake_restore};
        snprintf(fake_state, sizeof fake_state, "mode 0750\n");
        assert_true(change_rollback(&plain, fs, 1, false, &res, &err) < 0);
        assert_string_equal(fake_state, "mode 0750\n");
        change_rollback_result_done(&res);
}

/* A command in the stage: its effect on a watched file under /etc is in
 * the plan, and the real /etc is not touched (a dry run). */
static void test_staged_command_dry_run(void **state) {
        char path[64];
        struct change_plan p;
        struct module_error err = {0};
        struct change_cmd *c;
        json_t *plan = NULL, *f;
        int r;

        snprintf(path, sizeof path, "/etc/steward-test-change-%d", (int)getpid());
        if (geteuid() != 0 || access("/usr/bin/touch", X_OK) < 0)
                skip();
        change_plan_init(&p);
        change_watch(&p, path, 0, NULL);
        c = change_cmd(&p, "/usr/bin/touch");
        change_arg(&p, c, "--");
        change_arg(&p, c, path);
        r = change_run(&p, &(struct change_opts){.dry_run = true}, &plan, &err);
        if (r < 0 && strstr(err.message, "overlay"))
                skip(); /* no overlayfs where the tests run */
        assert_int_equal(r, 0);
        assert_int_equal(access(path, F_OK), -1);
        f = json_array_get(json_object_get(plan, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(f, "path")), path);
        assert_string_equal(json_string_value(json_object_get(f, "type")), "file");
        assert_string_equal(json_string_value(json_object_get(f, "before_type")), "absent");
        assert_string_equal(json_string_value(json_array_get(
                                    json_array_get(json_object_get(plan, "commands"), 0), 0)),
                            "touch");
        json_decref(plan);
        change_plan_done(&p);

        /* A failing command refuses the change with what the tool said. */
        change_plan_init(&p);
        c = change_cmd(&p, "/usr/bin/false");
        assert_int_equal(change_run(&p, &(struct change_opts){.dry_run = true}, &plan, &err), -EIO);
        assert_int_equal(err.status, 409);
        assert_non_null(strstr(err.message, "false failed (1)"));
        change_plan_done(&p);
}

/* The staged result is what validate() sees; a refusal stops the change
 * before anything real is written. */
static int refuse_bad(const char *etc, struct module_error *err) {
        char path[PATH_MAX], *text = NULL;
        size_t len;
        bool bad;

        snprintf(path, sizeof path, "%s/steward-test-change-%d", etc, (int)getppid());
        if (read_file(path, 4096, &text, &len) < 0) {
                module_error_set(err, 500, "internal", NULL, "the staged file is missing");
                return -ENOENT;
        }
        bad = STREQ(text, "bad\n");
        free(text);
        if (bad) {
                module_error_set(err, 422, "invalid_config", NULL, "the checker refuses it");
                return -EINVAL;
        }
        return 0;
}
static const change_hooks_t checker = {.validate = refuse_bad};

static void test_validate_sees_the_stage(void **state) {
        char path[64];
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;
        int r;

        if (geteuid() != 0)
                skip();
        snprintf(path, sizeof path, "/etc/steward-test-change-%d", (int)getpid());
        change_plan_init(&p);
        change_edit(&p, path, CHANGE_FILE, "good\n", 0644);
        r = change_run(&p, &(struct change_opts){.dry_run = true, .hooks = &checker}, &plan, &err);
        if (r < 0 && strstr(err.message, "overlay"))
                skip();
        assert_int_equal(r, 0);
        assert_int_equal(json_array_size(json_object_get(plan, "files")), 1);
        assert_int_equal(access(path, F_OK), -1);
        json_decref(plan);
        change_plan_done(&p);

        /* Refused, with the checker's own error.  (A dry run still: a test
         * never risks writing the host's /etc.) */
        change_plan_init(&p);
        change_edit(&p, path, CHANGE_FILE, "bad\n", 0644);
        plan = NULL;
        assert_int_equal(change_run(&p, &(struct change_opts){.dry_run = true, .hooks = &checker},
                                    &plan, &err),
                         -EIO);
        assert_null(plan);
        assert_int_equal(err.status, 422);
        assert_string_equal(err.code, "invalid_config");
        assert_string_equal(err.message, "the checker refuses it");
        assert_int_equal(access(path, F_OK), -1);
        change_plan_done(&p);
}

/* A directory outside /etc the checker writes to (postfix check makes
 * missing queue directories): the stage's overlay keeps the writes there,
 * and the checker sees what the directory holds. */
static char overlay_dir[64];
static const char *const overlay_dirs[] = {overlay_dir, NULL};

static int write_beside(const char *etc, struct module_error *err) {
        char path[128];
        int fd;

        (void)etc;
        snprintf(path, sizeof path, "%s/there", overlay_dir);
        if (access(path, F_OK) < 0) {
                module_error_set(err, 500, "internal", NULL, "the stage hides the directory");
                return -ENOENT;
        }
        snprintf(path, sizeof path, "%s/made-by-the-checker", overlay_dir);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
                module_error_set(err, 500, "internal", NULL, "cannot write: %s", strerror(errno));
                return -errno;
        }
        close(fd);
        return 0;
}
static const change_hooks_t overlaid = {.validate = write_beside, .stage_overlays = overlay_dirs};

static void test_stage_overlays_keep_writes(void **state) {
        char path[128], etc_path[64];
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;
        int r;

        if (geteuid() != 0)
                skip();
        snprintf(overlay_dir, sizeof overlay_dir, "/tmp/steward-test-overlay-XXXXXX");
        assert_non_null(mkdtemp(overlay_dir));
        snprintf(path, sizeof path, "%s/there", overlay_dir);
        assert_int_equal(write_file_atomic(path, "x\n", 2, 0600), 0);
        snprintf(etc_path, sizeof etc_path, "/etc/steward-test-change-%d", (int)getpid());
        change_plan_init(&p);
        change_edit(&p, etc_path, CHANGE_FILE, "good\n", 0644);
        r = change_run(&p, &(struct change_opts){.dry_run = true, .hooks = &overlaid}, &plan,
                       &err);
        if (r < 0 && strstr(err.message, "overlay"))
                skip();
        assert_int_equal(r, 0);
        snprintf(path, sizeof path, "%s/made-by-the-checker", overlay_dir);
        assert_int_equal(access(path, F_OK), -1);
        json_decref(plan);
        change_plan_done(&p);
        unlink(strcat(strcpy(path, overlay_dir), "/there"));
        assert_int_equal(rmdir(overlay_dir), 0);
}

/* A plan with no command leaves a watched file as it was: the guard sees
 * the same state before and after. */
static int same_before_after(const struct change_plan *p, void *data, struct module_error *err) {
        const struct change_file *f = &p->files[0];

        *(bool *)data =
                f->type == f->before_type && f->after && f->before && STREQ(f->after, f->before);
        return 0;
}

static void test_watched_without_commands(void **state) {
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;
        bool same = false;

        change_plan_init(&p);
        change_watch(&p, "/etc/passwd", CHANGE_IMAGE, NULL);
        assert_int_equal(change_run(&p,
                                    &(struct change_opts){.dry_run = true,
                                                          .guard = same_before_after,
                                                          .data = &same},
                                    &plan, &err),
                         0);
        assert_true(same);
        assert_int_equal(json_array_size(json_object_get(plan, "files")), 0);
        json_decref(plan);
        change_plan_done(&p);
}

static void test_plan_limits(void **state) {
        struct change_plan p;
        struct module_error err = {0};
        json_t *plan = NULL;

        change_plan_init(&p);
        for (int i = 0; i <= CHANGE_FILES_MAX; i++)
                change_edit(&p, in_dir("many"), CHANGE_FILE, "x", 0644);
        assert_int_equal(change_run(&p, &(struct change_opts){0}, &plan, &err), -E2BIG);
        change_plan_done(&p);

        change_plan_init(&p);
        change_edit(&p, "relative/path", CHANGE_FILE, "x", 0644);
        assert_int_equal(change_run(&p, &(struct change_opts){0}, &plan, &err), -EINVAL);
        change_plan_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_apply_file_symlink_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_touches_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_midway_undoes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_commit_failure_undoes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_make_dir_as_written, setup, teardown),
                cmocka_unit_test_setup_teardown(test_guard_refuses_and_lock_wraps_writes, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_images_and_redaction, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rollback_restores_and_refuses_conflicts, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_rollback_reads_through_the_module, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_rollback_failure_midway_undoes, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_staged_command_dry_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_validate_sees_the_stage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stage_overlays_keep_writes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_watched_without_commands, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_limits, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
