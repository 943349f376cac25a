/* test-files.c — file states (files.h): reading and writing regular files,
 * symlinks (never followed) and absence; refusal of directories, FIFOs,
 * relative and non-canonical paths, oversized and non-text content; and
 * that an atomic rewrite keeps the old file's mode and owner and leaves no
 * temp file behind.
 *
 * Each test gets a fresh directory under /tmp, removed afterwards. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "files.h"
#include "util.h"

struct fixture {
        char dir[64];
};

static void remove_tree(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char sub[PATH_MAX];
                if (STREQ(de->d_name, ".") || STREQ(de->d_name, ".."))
                        continue;
                snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                if (unlink(sub) < 0)
                        remove_tree(sub);
        }
        closedir(d);
        (void)rmdir(path);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-files-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        remove_tree(f->dir);
        free(f);
        return 0;
}

/* f->dir/name in one of a ring of buffers, enough for any one test. */
static char *path_in(const struct fixture *f, const char *name) {
        static char p[32][PATH_MAX];
        static unsigned k;
        char *dst = p[k++ % 32];

        snprintf(dst, PATH_MAX, "%s/%s", f->dir, name);
        return dst;
}

static void put(const char *path, const char *content, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void assert_state(const char *path, const char *type, const char *content) {
        json_t *st = NULL;

        assert_int_equal(file_state_read(path, &st), 0);
        assert_string_equal(json_string_value(json_object_get(st, "path")), path);
        assert_string_equal(json_string_value(json_object_get(st, "type")), type);
        assert_string_equal(json_string_value(json_object_get(st, "content")), content);
        json_decref(st);
}

static void assert_no_temp_files(const struct fixture *f) {
        DIR *d = opendir(f->dir);
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strstr(de->d_name, ".tmp"))
                        fail_msg("temp file left behind: %s", de->d_name);
        closedir(d);
}

static void test_read(void **state) {
        struct fixture *f = *state;
        char *p = path_in(f, "hosts");

        put(p, "127.0.0.1 localhost\n", 0644);
        assert_state(p, "file", "127.0.0.1 localhost\n");
        put(p, "", 0644);
        assert_state(p, "file", "");

        assert_state(path_in(f, "missing"), "absent", "");
        assert_state(path_in(f, "nodir/missing"), "absent", "");

        /* A symlink is its target's name, not followed (even dangling). */
        assert_int_equal(symlink(p, path_in(f, "link")), 0);
        assert_state(path_in(f, "link"), "symlink", p);
        assert_int_equal(symlink("../nowhere", path_in(f, "dangling")), 0);
        assert_state(path_in(f, "dangling"), "symlink", "../nowhere");
}

static void test_refusals(void **state) {
        struct fixture *f = *state;
        static const char *const bad_paths[] = {
                "",       "relative/path", "etc/hosts",    "/",
                "/etc/",  "/etc//hosts",   "/etc/./hosts", "/etc/../etc/hosts",
                "/etc/.", "/etc/..",       "/etc/ho\nsts",
        };
        json_t *st = NULL;
        char *sub = path_in(f, "sub");

        for (size_t i = 0; i < ELEMENTSOF(bad_paths); i++) {
                assert_int_equal(file_state_read(bad_paths[i], &st), -EINVAL);
                assert_int_equal(file_state_write(bad_paths[i], "file", "x", 1, 0644), -EINVAL);
                assert_int_equal(file_state_write(bad_paths[i], "absent", NULL, 0, 0644), -EINVAL);
        }
        assert_int_equal(file_state_read(NULL, &st), -EINVAL);
        assert_null(st);

        /* Neither a file, a symlink nor absent. */
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(file_state_read(sub, &st), -EINVAL);
        assert_int_equal(file_state_write(sub, "file", "x", 1, 0644), -EINVAL);
        assert_int_equal(file_state_write(sub, "symlink", "/x", 2, 0644), -EINVAL);
        assert_int_equal(file_state_write(sub, "absent", NULL, 0, 0644), -EINVAL);
        struct stat s;
        assert_int_equal(lstat(sub, &s), 0);
        assert_true(S_ISDIR(s.st_mode));
        assert_int_equal(mkfifo(path_in(f, "fifo"), 0600), 0);
        assert_int_equal(file_state_read(path_in(f, "fifo"), &st), -EINVAL);
        assert_int_equal(file_state_write(path_in(f, "fifo"), "file", "x", 1, 0644), -EINVAL);
        assert_null(st);

        /* Bad arguments. */
        assert_int_equal(file_state_write(path_in(f, "a"), "dir", "", 0, 0644), -EINVAL);
        assert_int_equal(file_state_write(path_in(f, "a"), NULL, "", 0, 0644), -EINVAL);
        assert_int_equal(file_state_write(path_in(f, "a"), "file", NULL, 3, 0644), -EINVAL);
        assert_int_equal(file_state_write(path_in(f, "a"), "file", "", 0, 010000), -EINVAL);
        assert_int_equal(file_state_write(path_in(f, "a"), "symlink", "", 0, 0644), -EINVAL);
        assert_int_equal(file_state_write(path_in(f, "a"), "symlink", "a\0b", 3, 0644), -EINVAL);
        assert_int_equal(lstat(path_in(f, "a"), &s), -1);
        assert_no_temp_files(f);
}

static void test_limits_and_text(void **state) {
        struct fixture *f = *state;
        char *p = path_in(f, "big");
        char *big = malloc(FILE_STATE_MAX + 1);
        json_t *st = NULL;
        int fd;

        assert_non_null(big);
        memset(big, 'a', FILE_STATE_MAX + 1);
        /* Exactly the maximum is fine; one byte more is not. */
        assert_int_equal(file_state_write(p, "file", big, FILE_STATE_MAX, 0644), 0);
        assert_int_equal(file_state_read(p, &st), 0);
        assert_int_equal(json_string_length(json_object_get(st, "content")), FILE_STATE_MAX);
        json_decref(st);
        st = NULL;
        assert_int_equal(file_state_write(p, "file", big, FILE_STATE_MAX + 1, 0644), -EFBIG);
        fd = open(p, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "a", 1), 1);
        close(fd);
        assert_int_equal(file_state_read(p, &st), -EFBIG);
        free(big);

        /* Content is text. */
        put(p, "caf\xe9\n", 0644);
        assert_int_equal(file_state_read(p, &st), -EILSEQ);
        fd = open(p, O_WRONLY | O_TRUNC);
        assert_int_equal(write(fd, "a\0b", 3), 3);
        close(fd);
        assert_int_equal(file_state_read(p, &st), -EILSEQ);
        assert_null(st);
}

static void test_write_file(void **state) {
        struct fixture *f = *state;
        char *p = path_in(f, "new.conf");
        struct stat s;

        /* A new file gets the given mode. */
        assert_int_equal(file_state_write(p, "file", "a = 1\n", 6, 0640), 0);
        assert_state(p, "file", "a = 1\n");
        assert_int_equal(stat(p, &s), 0);
        assert_int_equal(s.st_mode & 07777, 0640);

        /* An existing file keeps its mode, whatever mode is passed. */
        assert_int_equal(chmod(p, 0604), 0);
        assert_int_equal(file_state_write(p, "file", "a = 2\n", 6, 0600), 0);
        assert_state(p, "file", "a = 2\n");
        assert_int_equal(stat(p, &s), 0);
        assert_int_equal(s.st_mode & 07777, 0604);

        /* And its owner. */
        if (geteuid() == 0) {
                assert_int_equal(chown(p, 1234, 5678), 0);
                assert_int_equal(chmod(p, 0664), 0);
                assert_int_equal(file_state_write(p, "file", "a = 3\n", 6, 0600), 0);
                assert_int_equal(stat(p, &s), 0);
                assert_int_equal(s.st_uid, 1234);
                assert_int_equal(s.st_gid, 5678);
                assert_int_equal(s.st_mode & 07777, 0664);
        } else {
                print_message("not root: the owner check is skipped\n");
        }

        /* Content need not end in a newline, may be empty. */
        assert_int_equal(file_state_write(p, "file", "x", 1, 0600), 0);
        assert_state(p, "file", "x");
        assert_int_equal(file_state_write(p, "file", NULL, 0, 0600), 0);
        assert_state(p, "file", "");

        /* The parent directory must exist. */
        assert_int_equal(file_state_write(path_in(f, "nodir/x"), "file", "x", 1, 0644), -ENOENT);
        assert_no_temp_files(f);
}

static void test_symlinks(void **state) {
        struct fixture *f = *state;
        char *target = path_in(f, "target"), *link = path_in(f, "link");
        char buf[PATH_MAX];
        struct stat s;
        ssize_t n;

        put(target, "target content\n", 0644);

        /* A new symlink. */
        assert_int_equal(file_state_write(link, "symlink", "target", 6, 0644), 0);
        assert_state(link, "symlink", "target");
        n = readlink(link, buf, sizeof buf);
        assert_int_equal(n, 6);
        assert_memory_equal(buf, "target", 6);

        /* Writing a file where a symlink is replaces the link, not its target. */
        assert_int_equal(file_state_write(link, "file", "replaced\n", 9, 0600), 0);
        assert_int_equal(lstat(link, &s), 0);
        assert_true(S_ISREG(s.st_mode));
        assert_int_equal(s.st_mode & 07777, 0600);
        assert_state(target, "file", "target content\n");

        /* And back: a symlink replaces the file atomically. */
        assert_int_equal(file_state_write(link, "symlink", "/etc/hostname", 13, 0644), 0);
        assert_state(link, "symlink", "/etc/hostname");
        /* Retargeting. */
        assert_int_equal(file_state_write(link, "symlink", "target", 6, 0644), 0);
        assert_state(link, "symlink", "target");

        /* Removing the link leaves the target. */
        assert_int_equal(file_state_write(link, "absent", NULL, 0, 0644), 0);
        assert_state(link, "absent", "");
        assert_state(target, "file", "target content\n");
        assert_no_temp_files(f);
}

static void test_absent(void **state) {
        struct fixture *f = *state;
        char *p = path_in(f, "gone");

        put(p, "x\n", 0644);
        assert_int_equal(file_state_write(p, "absent", NULL, 0, 0644), 0);
        assert_state(p, "absent", "");
        /* Already absent, or no directory at all: nothing to do. */
        assert_int_equal(file_state_write(p, "absent", NULL, 0, 0644), 0);
        assert_int_equal(file_state_write(path_in(f, "nodir/x"), "absent", NULL, 0, 0644), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limits_and_text, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
