/* fuzz-main.c — runs a libFuzzer target without libFuzzer.
 *
 * Linked with a fuzz target built by a plain compiler, it feeds the target
 * every file named on the command line, and every regular file in every
 * directory named there (not recursively, dot files skipped, in name order so
 * runs are reproducible).  That turns each corpus into a regression test of
 * the normal test run.  A target reports a failure by crashing; this program
 * only fails when an input cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define FUZZ_INPUT_MAX (64u * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, FUZZ_INPUT_MAX, &data, &len);
        if (r < 0) {
                fprintf(stderr, "fuzz-main: cannot read %s: %s\n", path, strerror(-r));
                return r;
        }
        /* The target gets exactly the file's bytes, in a buffer of that size,
         * so the sanitizers catch reads past the end. */
        _cleanup_free_ uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, data, len);
        (void)LLVMFuzzerTestOneInput(copy, len);
        return 0;
}

static int run_dir(const char *dir, unsigned *count) {
        struct dirent **names = NULL;
        int n, r = 0;

        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0) {
                r = -errno;
                fprintf(stderr, "fuzz-main: cannot list %s: %s\n", dir, strerror(errno));
                return r;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (names[i]->d_name[0] != '.' &&
                    asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
                        path = NULL;
                        r = -ENOMEM;
                }
                if (path && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        int k = run_file(path);
                        if (k < 0 && r == 0)
                                r = k;
                        else if (k >= 0)
                                (*count)++;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int r = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR…\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                int k;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "fuzz-main: %s: %s\n", argv[i], strerror(errno));
                        r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode))
                        k = run_dir(argv[i], &count);
                else {
                        k = run_file(argv[i]);
                        if (k >= 0)
                                count++;
                }
                if (k < 0)
                        r = k;
        }
        printf("%s: %u inputs\n", argv[0], count);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
