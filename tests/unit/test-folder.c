/* test-folder.c — a share's folder (src/modules/shares/folder.c): the mode,
 * ACL entry and `under` grammars (tables: a case is one line), setfacl
 * --set's completion of an ACL, the state text's round trip through a
 * real directory, what a request makes of a state (the world-writable
 * rule), and who may write a directory made here, owned by accounts every
 * Debian has (root, nobody, nogroup).  The parts that change ownership need
 * root; as another user they are skipped.
 */
#include <errno.h>
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

/* The static functions are the units under test. */
#include "../../src/modules/shares/folder.c"

static void test_mode_grammar(void **state) {
        static const struct {
                const char *s;
                int ok;
                mode_t m;
        } cases[] = {
                {"0", 1, 0},        {"755", 1, 0755},   {"0755", 1, 0755}, {"2775", 1, 02775},
                {"7777", 1, 07777}, {"1777", 1, 01777}, {"", 0, 0},        {"8", 0, 0},
                {"77777", 0, 0},    {"-755", 0, 0},     {"0x1f", 0, 0},    {"75 5", 0, 0},
                {"+755", 0, 0},     {"rwx", 0, 0},
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                mode_t m = 0;
                bool ok = folder_mode_parse(cases[i].s, &m);
                if (ok != (bool)cases[i].ok)
                        fail_msg("mode \"%s\": %d", cases[i].s, ok);
                if (ok)
                        assert_int_equal(m, cases[i].m);
        }
        assert_false(folder_mode_parse(NULL, &(mode_t){0}));
}

static void test_entry_grammar(void **state) {
        static const struct {
                const char *s;
                int r; /* 0, -EINVAL, -ENOENT */
                bool def;
                acl_tag_t tag;
                unsigned id, perm;
        } cases[] = {
                {"u::rwx", 0, false, ACL_USER_OBJ, 0, 7},
                {"user::r-x", 0, false, ACL_USER_OBJ, 0, 5},
                {"u:root:rw", 0, false, ACL_USER, 0, 6},
                {"user:nobody:x", 0, false, ACL_USER, 65534, 1},
                {"u:1234:r", 0, false, ACL_USER, 1234, 4},
                {"g:nogroup:rwx", 0, false, ACL_GROUP, 65534, 7},
                {"group::---", 0, false, ACL_GROUP_OBJ, 0, 0},
                {"m::rx", 0, false, ACL_MASK, 0, 5},
                {"mask::xr", 0, false, ACL_MASK, 0, 5},
                {"o::-", 0, false, ACL_OTHER, 0, 0},
                {"other::r--", 0, false, ACL_OTHER, 0, 4},
                {"d:u::rwx", 0, true, ACL_USER_OBJ, 0, 7},
                {"default:g:root:r-x", 0, true, ACL_GROUP, 0, 5},
                {"u:no-such-user-here:rwx", -ENOENT, false, 0, 0, 0},
                {"g:no-such-group-here:rwx", -ENOENT, false, 0, 0, 0},
                {"", -EINVAL, false, 0, 0, 0},
                {"u::", -EINVAL, false, 0, 0, 0},
                {"u:rwx", -EINVAL, false, 0, 0, 0},
                {"x::rwx", -EINVAL, false, 0, 0, 0},
                {"u::rwxr", -EINVAL, false, 0, 0, 0},
                {"u::rrw", -EINVAL, false, 0, 0, 0},
                {"u::rwz", -EINVAL, false, 0, 0, 0},
                {"m:root:rwx", -EINVAL, false, 0, 0, 0},
                {"o:nobody:r", -EINVAL, false, 0, 0, 0},
                {"u:Root:rwx", -EINVAL, false, 0, 0, 0},
                {"u:a b:rwx", -EINVAL, false, 0, 0, 0},
                {"u:../x:rwx", -EINVAL, false, 0, 0, 0},
                {"u:-1:rwx", -EINVAL, false, 0, 0, 0},
                {"u:4294967295:rwx", -EINVAL, false, 0, 0, 0},
                {"d:d:u::r", -EINVAL, false, 0, 0, 0},
                {"defaults:u::r", -EINVAL, false, 0, 0, 0},
                {"u::rwx:", -EINVAL, false, 0, 0, 0},
                {"users::rwx", -EINVAL, false, 0, 0, 0},
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct acl_ent e = {0};
                bool def = false;
                int r = folder_entry_parse(cases[i].s, strlen(cases[i].s), &def, &e);
                if (r != cases[i].r)
                        fail_msg("entry \"%s\": %d, not %d", cases[i].s, r, cases[i].r);
                if (r < 0)
                        continue;
                if (def != cases[i].def || e.tag != cases[i].tag || e.perm != cases[i].perm ||
                    ((e.tag == ACL_USER || e.tag == ACL_GROUP) && e.id != cases[i].id))
                        fail_msg("entry \"%s\" read wrong", cases[i].s);
        }
}

static void test_acl_completion(void **state) {
        struct acl_list acc, def;
        struct module_error err = {0};
        const struct acl_ent *m;

        (void)state;
        /* setfacl --set: a mask from the group class, the default ACL's base
         * entries from the access ACL's, its mask likewise. */
        assert_int_equal(folder_acl_parse(" u::rwx, g::r-x,o::---,u:nobody:rwx,d:g:nogroup:rw",
                                          &acc, &def, &err),
                         0);
        assert_int_equal(acc.n, 5);
        m = acl_find(&acc, ACL_MASK, 0);
        assert_non_null(m);
        assert_int_equal(m->perm, 7);
        assert_int_equal(acc.e[0].tag, ACL_USER_OBJ); /* sorted as getfacl shows them */
        assert_int_equal(acc.e[1].tag, ACL_USER);
        assert_int_equal(def.n, 5);
        assert_int_equal(acl_find(&def, ACL_USER_OBJ, 0)->perm, 7);
        assert_int_equal(acl_find(&def, ACL_GROUP_OBJ, 0)->perm, 5);
        assert_int_equal(acl_find(&def, ACL_OTHER, 0)->perm, 0);
        assert_int_equal(acl_find(&def, ACL_MASK, 0)->perm, 7);
        assert_true(acl_list_valid(&acc) && acl_list_valid(&def));

        /* No named entries: no mask, no default ACL. */
        assert_int_equal(folder_acl_parse("u::rwx,g::rwx,o::r-x", &acc, &def, &err), 0);
        assert_int_equal(acc.n, 3);
        assert_int_equal(def.n, 0);

        /* Refusals name the field. */
        static const char *const bad[] = {
                "u:nobody:rwx",              /* no base entries */
                "u::rwx,g::rwx",             /* no other */
                "u::rwx,g::rwx,o::r,u::r",   /* repeated */
                "u::rwx,g::rwx,o::r,,bogus", /* a bad entry */
                "",                          /* not a whole ACL */
                "u::rwx;g::rwx;o::r",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err = (struct module_error){0};
                if (folder_acl_parse(bad[i], &acc, &def, &err) >= 0)
                        fail_msg("ACL \"%s\" accepted", bad[i]);
                assert_string_equal(err.field, "acl");
                assert_int_equal(err.status, 422);
        }
}

static void test_under_grammar(void **state) {
        static const char *const good[] = {"/srv", "/srv/projects", "/srv/a b", "/srv/été", "/"};
        static const char *const bad[] = {
                "",        "srv",       "/srv/",       "//srv",
                "/srv//x", "/srv/./x",  "/srv/../etc", "/srv/.",
                "/srv/..", "/srv/a\nb", "/srv/\x7f",   "/srv/\xff\xfe",
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!under_valid(good[i]))
                        fail_msg("under \"%s\" refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (under_valid(bad[i]))
                        fail_msg("under \"%s\" accepted", bad[i]);
}

static void test_list_refusals(void **state) {
        static const char *const bad[] = {"relative", "/srv/../etc", "/srv/"};
        struct module_error err = {0};
        json_t *ret = NULL, *args;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                args = json_pack("{s:s}", "under", bad[i]);
                err = (struct module_error){0};
                assert_true(folder_list(args, &ret, &err) < 0);
                assert_int_equal(err.status, 400);
                assert_string_equal(err.field, "under");
                json_decref(args);
        }
        args = json_pack("{s:i}", "under", 1);
        assert_true(folder_list(args, &ret, &err) < 0);
        assert_string_equal(err.field, "under");
        json_decref(args);
}

/* A directory made for a test, removed by its cleanup. */
struct tmpdir {
        char path[64];
        int fd;
};

static int dir_setup(void **state) {
        struct tmpdir *t = calloc(1, sizeof *t);

        if (!t)
                return -1;
        snprintf(t->path, sizeof t->path, "/tmp/test-folder-XXXXXX");
        if (!mkdtemp(t->path))
                return -1;
        t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *state = t;
        return t->fd < 0 ? -1 : 0;
}

static int dir_teardown(void **state) {
        struct tmpdir *t = *state;

        close(t->fd);
        rmdir(t->path);
        free(t);
        return 0;
}

static void test_state_round_trip(void **state) {
        struct tmpdir *t = *state;
        struct module_error err = {0};
        struct folder_state st, back;
        struct folder_request q = {0};
        _cleanup_free_ char *text = NULL, *text2 = NULL, *again = NULL;
        _cleanup_json_ json_t *desc = NULL;

        /* A folder without an ACL beyond its mode shows none. */
        assert_int_equal(folder_describe(t->path, &desc, &err), 0);
        assert_int_equal(json_array_size(json_object_get(desc, "acl")), 0);
        assert_int_equal(json_array_size(json_object_get(desc, "default_acl")), 0);
        json_decref(desc);
        desc = NULL;

        assert_int_equal(state_read_fd(t->fd, &st, &err), 0);
        q.acl = "u::rwx,g::r-x,o::---,u:nobody:rwx,g:nogroup:r-x,d:u:nobody:rwx";
        assert_int_equal(folder_acl_parse(q.acl, &q.acc, &q.def, &err), 0);
        q.mode = "2750";
        q.m = 02750;
        assert_int_equal(request_apply(&q, &st, &err), 0);
        assert_int_equal(st.mode, 02770); /* the mask (rwx) is the group bits */
        text = state_text(t->path, &st);
        assert_non_null(text);
        assert_int_equal(state_apply(t->fd, &st, true, &err), 0);

        /* What the kernel keeps is what was planned. */
        assert_int_equal(state_read_fd(t->fd, &back, &err), 0);
        again = state_text(t->path, &back);
        assert_string_equal(again, text);
        assert_non_null(strstr(text, "# mode: 2770\nuser::rwx\nuser:nobody:rwx\ngroup::r-x\n"
                                     "group:nogroup:r-x\nmask::rwx\nother::---\n"
                                     "default:user::rwx\ndefault:user:nobody:rwx\n"));

        /* The text parses back to the same state. */
        assert_int_equal(state_parse(t->path, text, &back, &err), 0);
        text2 = state_text(t->path, &back);
        assert_string_equal(text2, text);
        assert_true(state_parse("/elsewhere", text, &back, &err) < 0);
        assert_true(state_parse(t->path, "# folder: x\n", &back, &err) < 0);
        assert_int_equal(state_parse(t->path, text, &back, &err), 0);

        assert_int_equal(folder_describe(t->path, &desc, &err), 0);
        assert_string_equal(json_string_value(json_object_get(desc, "mode")), "2770");
        assert_string_equal(json_string_value(json_array_get(json_object_get(desc, "acl"), 1)),
                            "user:nobody:rwx");
        assert_string_equal(
                json_string_value(json_array_get(json_object_get(desc, "default_acl"), 0)),
                "default:user::rwx");

        /* A chmod moves the mask, as the plan predicts. */
        q = (struct folder_request){.mode = "0750", .m = 0750};
        assert_int_equal(request_apply(&q, &back, &err), 0);
        assert_int_equal(state_apply(t->fd, &back, false, &err), 0);
        free(again);
        again = NULL;
        assert_int_equal(state_read_fd(t->fd, &st, &err), 0);
        assert_int_equal(acl_find(&st.acc, ACL_MASK, 0)->perm, 5);
        assert_int_equal(acl_find(&st.acc, ACL_GROUP_OBJ, 0)->perm, 5);
        free(text2);
        text2 = state_text(t->path, &back);
        again = state_text(t->path, &st);
        assert_string_equal(again, text2);

        /* And the text put back by the restore's path restores it all. */
        assert_int_equal(state_parse(t->path, text, &back, &err), 0);
        assert_int_equal(state_apply(t->fd, &back, true, &err), 0);
        free(again);
        again = NULL;
        assert_int_equal(state_read_fd(t->fd, &st, &err), 0);
        again = state_text(t->path, &st);
        assert_string_equal(again, text);
}

static void test_world_writable(void **state) {
        static const struct {
                const char *mode, *acl;
                int ok;
        } cases[] = {
                {"0777", NULL, 0},
                {"1777", NULL, 1},
                {"0775", NULL, 1},
                {"0002", NULL, 0},
                {NULL, "u::rwx,g::rwx,o::rwx", 0},
                {"1755", "u::rwx,g::rwx,o::rwx", 1},
                {NULL, "u::rwx,g::rwx,o::r-x", 1},
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct folder_state st = {.mode = 0755};
                struct folder_request q = {.mode = cases[i].mode, .acl = cases[i].acl};
                struct module_error err = {0};
                int r;

                acl_from_mode_list(0755, &st.acc);
                if (q.mode)
                        assert_true(folder_mode_parse(q.mode, &q.m));
                if (q.acl)
                        assert_int_equal(folder_acl_parse(q.acl, &q.acc, &q.def, &err), 0);
                r = request_apply(&q, &st, &err);
                if ((r >= 0) != (bool)cases[i].ok)
                        fail_msg("mode %s acl %s: %d", q.mode ? q.mode : "-", q.acl ? q.acl : "-",
                                 r);
                if (r < 0)
                        assert_string_equal(err.field, q.acl ? "acl" : "mode");
        }
}

static void expect_writers(const char *path, const char *expected) {
        _cleanup_json_ json_t *who =
                json_pack("[s, s, s, s, s]", "root", "nobody", "@nogroup", "+root", "no-such-user");
        _cleanup_json_ json_t *writers = NULL;
        _cleanup_free_ char *got = NULL;
        struct module_error err = {0};

        assert_int_equal(folder_writable_by(path, who, &writers, &err), 0);
        got = json_dumps(writers, JSON_COMPACT);
        assert_string_equal(got, expected);
}

static void test_writable_by(void **state) {
        struct tmpdir *t = *state;
        struct module_error err = {0};
        struct folder_request q = {0};
        struct folder_state st;
        json_t *ret = NULL;

        if (geteuid() != 0)
                skip();
        /* root owns it, 0755: only root (and root's group via +root? no:
         * group root has r-x). */
        assert_int_equal(fchown(t->fd, 0, 0), 0);
        assert_int_equal(fchmod(t->fd, 0755), 0);
        expect_writers(t->path, "[\"root\"]");
        /* The group may write: 0775 with group nogroup. */
        assert_int_equal(fchown(t->fd, 0, 65534), 0);
        assert_int_equal(fchmod(t->fd, 0775), 0);
        expect_writers(t->path, "[\"root\",\"nobody\",\"@nogroup\"]");
        /* nobody owns it, 0700: nobody, not the group. */
        assert_int_equal(fchown(t->fd, 65534, 0), 0);
        assert_int_equal(fchmod(t->fd, 0700), 0);
        expect_writers(t->path, "[\"root\",\"nobody\"]");
        /* An ACL entry for nobody, masked to r-x: nobody may not write. */
        assert_int_equal(fchown(t->fd, 0, 0), 0);
        assert_int_equal(state_read_fd(t->fd, &st, &err), 0);
        q.acl = "u::rwx,g::r-x,o::r-x,u:nobody:rwx,m::r-x";
        assert_int_equal(folder_acl_parse(q.acl, &q.acc, &q.def, &err), 0);
        assert_int_equal(request_apply(&q, &st, &err), 0);
        assert_int_equal(state_apply(t->fd, &st, true, &err), 0);
        expect_writers(t->path, "[\"root\"]");
        /* Unmasked, nobody may; a named group entry lets @nogroup write. */
        q.acl = "u::rwx,g::r-x,o::r-x,u:nobody:rwx,g:nogroup:rwx";
        assert_int_equal(folder_acl_parse(q.acl, &q.acc, &q.def, &err), 0);
        assert_int_equal(request_apply(&q, &st, &err), 0);
        assert_int_equal(state_apply(t->fd, &st, true, &err), 0);
        expect_writers(t->path, "[\"root\",\"nobody\",\"@nogroup\"]");
        /* No ACL left: the base entries only. */
        q.acl = "u::rwx,g::r-x,o::r-x";
        assert_int_equal(folder_acl_parse(q.acl, &q.acc, &q.def, &err), 0);
        assert_int_equal(request_apply(&q, &st, &err), 0);
        assert_int_equal(state_apply(t->fd, &st, true, &err), 0);
        expect_writers(t->path, "[\"root\"]");

        _cleanup_json_ json_t *none = json_array();
        assert_true(folder_writable_by("/nonexistent-folder-here", none, &ret, &err) < 0);
        assert_int_equal(err.status, 404);
}

static void test_open_refuses_links(void **state) {
        struct tmpdir *t = *state;
        struct module_error err = {0};
        char link[96], sub[96], via[128];
        int fd = -1;

        snprintf(sub, sizeof sub, "%s/sub", t->path);
        snprintf(link, sizeof link, "%s/link", t->path);
        snprintf(via, sizeof via, "%s/link/", t->path);
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(symlink("sub", link), 0);
        /* The link itself, and a path through it. */
        assert_true(folder_open(link, true, "path", &fd, &err) < 0);
        assert_int_equal(err.status, 409);
        strcat(via, "."); /* "…/link/.": resolves through the link */
        assert_true(folder_open(via, true, "path", &fd, &err) < 0);
        assert_int_equal(err.status, 409);
        assert_int_equal(folder_open(sub, true, "path", &fd, &err), 0);
        close(fd);
        /* folder_read: a path that is a link is not a folder to it. */
        char *text = NULL;
        assert_int_equal(folder_read(link, &text, &err), 0);
        assert_int_equal(folder_read(sub, &text, &err), 1);
        assert_non_null(strstr(text, "# folder: "));
        free(text);
        unlink(link);
        rmdir(sub);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mode_grammar),
                cmocka_unit_test(test_entry_grammar),
                cmocka_unit_test(test_acl_completion),
                cmocka_unit_test(test_under_grammar),
                cmocka_unit_test(test_list_refusals),
                cmocka_unit_test(test_world_writable),
                cmocka_unit_test_setup_teardown(test_state_round_trip, dir_setup, dir_teardown),
                cmocka_unit_test_setup_teardown(test_writable_by, dir_setup, dir_teardown),
                cmocka_unit_test_setup_teardown(test_open_refuses_links, dir_setup, dir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
