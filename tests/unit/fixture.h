/* fixture.h — shared by the unit tests that read files from
 * tests/unit/fixtures (the FIXTURES environment variable, set by meson).
 * Include after <cmocka.h>.  Buffers are exactly the data's size, with no
 * trailing NUL, so a parser that reads past its length fails under ASan. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads fixture `name` into a malloc'ed buffer of exactly its size. */
static inline void load(const char *name, char **ret, size_t *ret_len) {
        const char *dir = getenv("FIXTURES");
        char path[4096];
        FILE *f;
        long size;
        char *data;

        assert_non_null(dir);
        assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
        f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open fixture %s", path);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        assert_true(size >= 0);
        assert_int_equal(fseek(f, 0, SEEK_SET), 0);
        /* At least one byte so malloc never returns NULL. */
        data = malloc(size > 0 ? (size_t)size : 1);
        assert_non_null(data);
        if (size > 0)
                assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        *ret = data;
        *ret_len = (size_t)size;
}

/* Copies a literal into an exact-size heap buffer (no trailing NUL). */
static inline char *exact(const char *s, size_t *ret_len) {
        size_t n = strlen(s);
        char *p = malloc(n > 0 ? n : 1);

        assert_non_null(p);
        memcpy(p, s, n);
        *ret_len = n;
        return p;
}
