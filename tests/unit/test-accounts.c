/* test-accounts.c — the account grammars of src/modules/users/accounts.c:
 * names, GECOS, passwords, shells, homes, login.defs, colon lines, SSH
 * keys and shadow redaction; the files service's grammar, checked against
 * glibc's own parser (fgetpwent_r and fgetgrent_r share it with nss_files),
 * and nsswitch.conf's service lines. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/users/accounts.h"
#include "modules/users/users.h"

#define ED25519 "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

static void test_names(void **state) {
        static const char *const good[] = {"a", "alice", "a-b_c9", "machine$",
                                           "abcdefghijklmnopqrstuvwxyz012345"};
        static const char *const bad[] = {"",
                                          "A",
                                          "1abc",
                                          "-a",
                                          "_a",
                                          "a b",
                                          "a..b",
                                          "a.b",
                                          "a$b",
                                          "a/b",
                                          "a:b",
                                          "é",
                                          "../etc",
                                          "a\nb",
                                          "root\t",
                                          "$",
                                          "abcdefghijklmnopqrstuvwxyz0123456"};
        for (size_t i = 0; i < sizeof good / sizeof *good; i++)
                assert_true(account_name_valid(good[i]));
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_false(account_name_valid(bad[i]));
        assert_false(account_name_valid(NULL));
}

static void test_gecos_and_passwords(void **state) {
        char longer[300];

        assert_true(gecos_valid(""));
        assert_true(gecos_valid("Zoë O'Brien, Room 4"));
        assert_false(gecos_valid("a:b"));
        assert_false(gecos_valid("a\nb"));
        assert_false(gecos_valid("a\tb"));
        assert_false(gecos_valid("a\x7f"));
        assert_false(gecos_valid("a\xc2\x85")); /* NEL, a C1 control */
        assert_false(gecos_valid("\xff\xfe"));  /* not UTF-8 */
        memset(longer, 'a', sizeof longer - 1);
        longer[sizeof longer - 1] = '\0';
        assert_false(gecos_valid(longer));
        longer[255] = '\0';
        assert_true(gecos_valid(longer));

        assert_true(password_valid("correct horse: battery"));
        assert_false(password_valid(""));
        assert_false(password_valid("a\nb"));
        assert_false(password_valid("a\rb"));
}

static void test_shells(void **state) {
        static const char shells[] = "# /etc/shells\n/bin/sh\n  /bin/bash  \n\n/usr/bin/zsh";
        size_t n = sizeof shells - 1;

        assert_true(shells_contains(shells, n, "/bin/sh"));
        assert_true(shells_contains(shells, n, "/bin/bash"));
        assert_true(shells_contains(shells, n, "/usr/bin/zsh"));
        assert_false(shells_contains(shells, n, "/bin/zsh"));
        assert_false(shells_contains(shells, n, "# /etc/shells"));
        assert_false(shells_contains(shells, n, "bash"));
        assert_false(shells_contains(shells, n, "/bin/s"));
        assert_false(shells_contains(shells, n, ""));
}

static void test_homes(void **state) {
        static const char *const roots[] = {"/home", "/srv/users", NULL};

        assert_true(home_path_valid("/home/alice", roots));
        assert_true(home_path_valid("/home/a/b.c-d_e", roots));
        assert_true(home_path_valid("/srv/users/x", roots));
        assert_false(home_path_valid("/home", roots));
        assert_false(home_path_valid("/home/", roots));
        assert_false(home_path_valid("/homeless/x", roots));
        assert_false(home_path_valid("/home/../etc", roots));
        assert_false(home_path_valid("/home/./a", roots));
        assert_false(home_path_valid("/home//a", roots));
        assert_false(home_path_valid("/home/a b", roots));
        assert_false(home_path_valid("home/a", roots));
        assert_false(home_path_valid("/etc/a", roots));
        assert_false(home_path_valid("/home/a:b", roots));
}

static void test_login_defs(void **state) {
        static const char text[] = "# comment\nUID_MIN\t\t 2000\nUID_MAX 3000\n"
                                   "GID_MIN 2000\nGID_MAX\t4000\r\nSYS_UID_MAX 1999\n"
                                   "UMASK 022\nUID_MIN_BOGUS 5\n  # UID_MIN 7\n";
        struct login_defs d;

        assert_int_equal(login_defs_parse(text, sizeof text - 1, &d), 0);
        assert_int_equal(d.uid_min, 2000);
        assert_int_equal(d.uid_max, 3000);
        assert_int_equal(d.gid_min, 2000);
        assert_int_equal(d.gid_max, 4000);
        assert_int_equal(d.sys_uid_max, 1999);
        /* malformed values are ignored, like the tools do */
        assert_int_equal(login_defs_parse("UID_MIN -5\nUID_MAX 1x\n", 22, &d), 0);
        assert_int_equal(d.uid_min, 1000);
        assert_int_equal(d.uid_max, 60000);
        /* nonsense ranges are refused */
        assert_int_equal(login_defs_parse("UID_MIN 5000\nUID_MAX 4000\n", 26, &d), -EINVAL);
        assert_int_equal(login_defs_parse("UID_MIN 0\n", 10, &d), -EINVAL);
        assert_int_equal(login_defs_parse(NULL, 0, &d), 0);
        assert_int_equal(d.uid_min, 1000);
}

static void test_colon(void **state) {
        struct colon_line l;
        uint32_t v;

        assert_int_equal(colon_split("root:x:0:0:root:/root:/bin/bash", 31, 7, 7, &l), 0);
        assert_int_equal(l.n, 7);
        assert_int_equal(l.len[4], 4);
        assert_int_equal(colon_u32(&l, 2, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(colon_split("a:b", 3, 7, 7, &l), -EINVAL);
        assert_int_equal(colon_split("a:b:c:d", 7, 1, 3, &l), -EINVAL);
        assert_int_equal(colon_split("a::", 3, 3, 3, &l), 0);
        assert_int_equal(colon_u32(&l, 1, &v), -ENODATA);
        assert_int_equal(colon_split("a:-1:99999999999:+5", 19, 4, 4, &l), 0);
        assert_int_equal(colon_u32(&l, 1, &v), -EINVAL);
        assert_int_equal(colon_u32(&l, 2, &v), -EINVAL);
        assert_int_equal(colon_u32(&l, 3, &v), -EINVAL);
}

static void test_ssh_keys(void **state) {
        const char *why;
        char *out = NULL;

        assert_int_equal(ssh_key_parse("ssh-ed25519 " ED25519 " alice@host", &out, &why), 0);
        assert_string_equal(out, "ssh-ed25519 " ED25519 " alice@host");
        free(out);
        assert_int_equal(ssh_key_parse("  ssh-ed25519\t" ED25519 "   ", &out, &why), 0);
        assert_string_equal(out, "ssh-ed25519 " ED25519);
        free(out);
        /* the type named must be the type in the blob */
        assert_int_equal(ssh_key_parse("ssh-rsa " ED25519, &out, &why), -EINVAL);
        assert_non_null(strstr(why, "type"));
        assert_int_equal(ssh_key_parse("ssh-dss " ED25519, &out, &why), -EINVAL);
        assert_int_equal(ssh_key_parse("ssh-ed25519 " ED25519 "=", &out, &why), -EINVAL);
        assert_int_equal(ssh_key_parse("ssh-ed25519 AAAA", &out, &why), -EINVAL);
        assert_int_equal(ssh_key_parse("ssh-ed25519 !!!!", &out, &why), -EINVAL);
        assert_int_equal(ssh_key_parse("ssh-ed25519", &out, &why), -EINVAL);
        assert_int_equal(ssh_key_parse("", &out, &why), -EINVAL);
        assert_int_equal(ssh_key_parse("command=\"x\" ssh-ed25519 " ED25519, &out, &why), -EINVAL);
        assert_non_null(strstr(why, "options"));
        assert_int_equal(
                ssh_key_parse("ssh-ed25519 " ED25519 " a\nssh-ed25519 " ED25519, &out, &why),
                -EINVAL);
        /* AAAAC3NzaC1lZDI1NTE5 alone: the type and no key */
        assert_int_equal(ssh_key_parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", &out, &why), -EINVAL);
}

/* The fingerprint is the one ssh-keygen -lf prints for the same key. */
static void test_ssh_key_fingerprint(void **state) {
        char fp[SSH_KEY_FP_LEN + 1];

        assert_int_equal(ssh_key_fingerprint("ssh-ed25519 " ED25519 " x", fp), 0);
        assert_string_equal(fp, "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
        assert_int_equal(strlen(fp), SSH_KEY_FP_LEN);
        assert_int_equal(ssh_key_fingerprint("  ssh-ed25519\t" ED25519, fp), 0);
        assert_string_equal(fp, "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
        assert_int_equal(ssh_key_fingerprint("ssh-ed25519 !!!!", fp), -EINVAL);
        assert_int_equal(ssh_key_fingerprint("ssh-ed25519", fp), -EINVAL);
        assert_int_equal(ssh_key_fingerprint(NULL, fp), -EINVAL);
}

static void test_shadow_redact(void **state) {
        static const char text[] = "root:*:19000:0:99999:7:::\n"
                                   "alice:$y$j9T$abc$def:19000:0:99999:7:::\n"
                                   "bob:!$6$salt$hash:1:0:99999:7:::\n"
                                   "carol:!:1::::::\n"
                                   "dave::1::::::\n"
                                   "junk\n";
        char *out = NULL;

        assert_int_equal(shadow_redact(text, sizeof text - 1, &out), 0);
        assert_string_equal(out, "root:*:19000:0:99999:7:::\n"
                                 "alice:[redacted]:19000:0:99999:7:::\n"
                                 "bob:![redacted]:1:0:99999:7:::\n"
                                 "carol:!:1::::::\n"
                                 "dave::1::::::\n"
                                 "junk\n");
        free(out);
        assert_int_equal(shadow_redact("x:hash", 6, &out), 0);
        assert_string_equal(out, "x:[redacted]");
        free(out);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* The size of a home is a walk with a time budget: a huge tree stops
 * rather than hold a worker, with what it counted as a lower bound. */
static void test_home_size_budget(void **state) {
        char dir[] = "/tmp/steward-homesize-XXXXXX", path[64];
        uint64_t size = 0, partial = 0;

        (void)state;
        assert_non_null(mkdtemp(dir));
        for (int i = 0; i < 3000; i++) {
                snprintf(path, sizeof path, "%s/f%d", dir, i);
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                close(fd);
        }
        assert_int_equal(users_dir_size(dir, 0, &partial), 1);
        assert_true(partial > 0);
        assert_int_equal(users_dir_size(dir, 60u * 1000u * 1000u, &size), 0);
        assert_true(size >= partial);
        assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Lines of every shape the grammar has a rule for: comments, blanks,
 * leading white space, short lines, numbers with signs, spaces, overflow,
 * compat names, NUL bytes, a last line without '\n'. */
static const char pw_text[] =
        "root:x:0:0:root:/root:/bin/bash\n"
        "  lead:x:1:1:g:/h:/s\n"
        "\n   \n#comment:x:1:1::/:/\n"
        "short:x:5\nshort2:x:5:\nshort3:x:5:6\n"
        "badu:x:abc:1::/:/\nneg:x:-1:-5::/:/\n"
        "big:x:99999999999:4294967296::/:/\n"
        "max:x:4294967295:4294967294::/:/\n"
        "sp:x: 12:+13::/:/\nminus0:x:-0:1::/:/\n"
        "wrap:x:-18446744073709551615:1::/:/\n"
        "huge:x:18446744073709551616:1::/:/\nu64:x:18446744073709551615:1::/:/\n"
        "hex:x:0x10:1::/:/\noct:x:010:1::/:/\n"
        "more:x:1:2:g:d:s:extra:more\n"
        "+\n-bad\n+nis::::::\n+x:x:::g:/:/\n-y:x:a:b:g:/:/\n"
        "+c:x:4294967296:1::/:/\n+m:x:\n+k:x\n-q:x::\n+r:x:::\n+s:x: :\n"
        "emptyuid:x::1::/:/\ntrail:x:1:2x::/:/\n"
        "tab\t:x:3:3:g\th:/d:/s \r\n"
        "nul:x:7:7:ab\0cd:/:/\n"
        ":x:8:8::/:/\n"
        "last:x:9:9::/:/nonl";

static const char gr_text[] =
        "root:x:0:\ng1:x:10:a,b,c\ng2:x:11: a , b,,c ,\n"
        "g3:x:12\ng4:x:bad:a\ng5:x:13:a:b\n+\n+g6:::x\n-g7:x:\n"
        "g8::14:,\t,x\ng9:x:15:a\0b,c\n  g11:x:17:y, z\n#g:x:1:a\nbig:x:4294967296:\n"
        "neg:x:-1:\n+c:x:99999999999:\n+d:x:\n+e:x\n+f\n"
        "g10:x:16:z";

static const char *or_null(const char *s) {
        return s ? s : "(null)";
}

static void test_files_passwd_as_glibc(void **state) {
        size_t len = sizeof pw_text - 1, pos = 0;
        char *ours = malloc(len + 1), buf[4096], a[512], b[512];
        FILE *f = fmemopen((void *)pw_text, len, "r");
        struct passwd pw, *pp;
        struct files_pwent e;
        size_t n = 0;

        assert_non_null(ours);
        assert_non_null(f);
        memcpy(ours, pw_text, len + 1);
        while (fgetpwent_r(f, &pw, buf, sizeof buf, &pp) == 0) {
                assert_true(files_next_pwent(ours, len, &pos, &e));
                snprintf(a, sizeof a, "%s|%s|%u|%u|%s|%s|%s", pw.pw_name, or_null(pw.pw_passwd),
                         pw.pw_uid, pw.pw_gid, or_null(pw.pw_gecos), or_null(pw.pw_dir),
                         or_null(pw.pw_shell));
                snprintf(b, sizeof b, "%s|%s|%u|%u|%s|%s|%s", e.name, or_null(e.passwd), e.uid,
                         e.gid, or_null(e.gecos), or_null(e.dir), or_null(e.shell));
                assert_string_equal(b, a);
                n++;
        }
        assert_false(files_next_pwent(ours, len, &pos, &e));
        assert_true(n >= 15);
        fclose(f);
        free(ours);
}

static void test_files_group_as_glibc(void **state) {
        size_t len = sizeof gr_text - 1, pos = 0;
        char *ours = malloc(len + 1), buf[4096], a[512], b[512];
        FILE *f = fmemopen((void *)gr_text, len, "r");
        struct group gr, *gp;
        struct files_grent e;
        size_t n = 0;

        assert_non_null(ours);
        assert_non_null(f);
        memcpy(ours, gr_text, len + 1);
        while (fgetgrent_r(f, &gr, buf, sizeof buf, &gp) == 0) {
                char *list, *m;
                size_t k;
                assert_true(files_next_grent(ours, len, &pos, &e));
                k = (size_t)snprintf(a, sizeof a, "%s|%s|%u|", gr.gr_name, or_null(gr.gr_passwd),
                                     gr.gr_gid);
                for (char **p = gr.gr_mem; p && *p; p++)
                        k += (size_t)snprintf(a + k, sizeof a - k, "<%s>", *p);
                k = (size_t)snprintf(b, sizeof b, "%s|%s|%u|", e.name, or_null(e.passwd), e.gid);
                for (list = e.members; (m = files_next_member(&list));)
                        k += (size_t)snprintf(b + k, sizeof b - k, "<%s>", m);
                assert_string_equal(b, a);
                n++;
        }
        assert_false(files_next_grent(ours, len, &pos, &e));
        assert_true(n >= 9);
        fclose(f);
        free(ours);
}

static void test_nsswitch(void **state) {
        char names[NSS_SERVICES_MAX][NSS_SERVICE_NAME_MAX + 1];
        size_t n = 0;
        static const char conf[] = "# comment\n"
                                   "passwd:         files systemd # trailing\n"
                                   "group:\tfiles\n"
                                   "shadow:         files\n"
                                   "passwdx: ldap\n"
                                   "hosts: files dns\n";

        assert_int_equal(nsswitch_services(conf, sizeof conf - 1, "passwd", names, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(names[0], "files");
        assert_string_equal(names[1], "systemd");
        assert_int_equal(nsswitch_services(conf, sizeof conf - 1, "group", names, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "files");
        assert_int_equal(nsswitch_services(conf, sizeof conf - 1, "gshadow", names, &n), -ENOENT);
        /* Anything but plain names is left to NSS. */
        static const char *const not_plain[] = {
                "passwd: files [NOTFOUND=return] ldap\n",
                "passwd: files\npasswd: ldap\n",
                "PASSWD: files\n",
                "passwd:\n",
                "passwd: files\n  ldap\n",
                "passwd: a b c d e f g h i\n",
                "passwd: files/x\n",
        };
        for (size_t i = 0; i < sizeof not_plain / sizeof *not_plain; i++)
                assert_int_equal(
                        nsswitch_services(not_plain[i], strlen(not_plain[i]), "passwd", names, &n),
                        -EINVAL);
        assert_int_equal(nsswitch_services("passwd: compat\n", 15, "passwd", names, &n), 0);
        assert_string_equal(names[0], "compat");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_gecos_and_passwords),
                cmocka_unit_test(test_shells),
                cmocka_unit_test(test_homes),
                cmocka_unit_test(test_login_defs),
                cmocka_unit_test(test_colon),
                cmocka_unit_test(test_home_size_budget),
                cmocka_unit_test(test_ssh_keys),
                cmocka_unit_test(test_ssh_key_fingerprint),
                cmocka_unit_test(test_shadow_redact),
                cmocka_unit_test(test_files_passwd_as_glibc),
                cmocka_unit_test(test_files_group_as_glibc),
                cmocka_unit_test(test_nsswitch),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
