/* test-shares-conn.c — the shares module's connected users and Samba
 * accounts (src/modules/shares/connections.c, smbusers.c): the parser of
 * `smbstatus --json` on a real Samba 4.17 answer (two sessions of one user,
 * SMB2 unencrypted and SMB3 encrypted with a file open), of the info files
 * of /proc/fs/nfsd/clients (the kernel's format: IPv4 and IPv6, escapes),
 * of `pdbedit -L -v`; the bounded runner of tools (change_exec_output); and
 * the secret arguments' redaction (registry.h args_redacted). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "module.h"
#include "modules/change.h"
#include "modules/registry.h"
#include "modules/shares/connections.h"
#include "util.h"

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* A member the answer leaves null (or out). */
static bool nothing(json_t *o, const char *k) {
        json_t *v = json_object_get(o, k);
        return !v || json_is_null(v);
}

static json_t *by_id(json_t *list, const char *id) {
        json_t *c;
        size_t i;

        json_array_foreach(list, i, c) {
                if (STREQ(sget(c, "id") ?: "", id))
                        return c;
        }
        return NULL;
}

static void test_smbstatus_sessions(void **state) {
        json_t *list = json_array(), *c, *shares;
        char *txt;
        size_t len;

        (void)state;
        load("smbstatus-4.17.json", &txt, &len);
        assert_int_equal(connections_parse_smbstatus(txt, len, list), 0);
        assert_int_equal(json_array_size(list), 2);

        /* SMB2_10, signed, not encrypted, no file open. */
        c = by_id(list, "smb-20019-2353679175");
        assert_non_null(c);
        assert_string_equal(sget(c, "protocol"), "smb");
        assert_string_equal(sget(c, "user"), "alice");
        assert_int_equal(json_integer_value(json_object_get(c, "uid")), 1001);
        assert_string_equal(sget(c, "client"), "127.0.0.1");
        assert_string_equal(sget(c, "address"), "127.0.0.1");
        assert_string_equal(sget(c, "dialect"), "SMB2_10");
        assert_true(json_is_false(json_object_get(c, "encrypted")));
        assert_true(nothing(c, "encryption"));
        assert_true(json_is_true(json_object_get(c, "signed")));
        assert_string_equal(sget(c, "signing"), "HMAC-SHA256");
        assert_string_equal(sget(c, "share"), "pub");
        assert_string_equal(sget(c, "since"), "2026-12-04T10:20:04.279235+00:00");
        assert_int_equal(json_integer_value(json_object_get(c, "open_files")), 0);
        shares = json_object_get(c, "shares");
        assert_int_equal(json_array_size(shares), 1);
        assert_string_equal(sget(json_array_get(shares, 0), "name"), "pub");

        /* SMB3_11, encrypted, one file open by its process. */
        c = by_id(list, "smb-20020-1204781662");
        assert_non_null(c);
        assert_string_equal(sget(c, "dialect"), "SMB3_11");
        assert_true(json_is_true(json_object_get(c, "encrypted")));
        assert_string_equal(sget(c, "encryption"), "AES-128-GCM");
        assert_string_equal(sget(c, "signing"), "AES-128-GMAC");
        assert_int_equal(json_integer_value(json_object_get(c, "open_files")), 1);
        assert_string_equal(sget(c, "since"), "2026-12-04T10:20:04.295368+00:00");
        json_decref(list);
        free(txt);
}

static void test_smbstatus_empty_and_bad(void **state) {
        static const char *const bad[] = {"", "[]", "{", "smbd is not running", "null"};
        json_t *list = json_array();
        char *txt;
        size_t len;

        (void)state;
        /* What smbstatus prints when smbd does not run, or nobody is on. */
        load("smbstatus-4.17-empty.json", &txt, &len);
        assert_int_equal(connections_parse_smbstatus(txt, len, list), 0);
        assert_int_equal(json_array_size(list), 0);
        free(txt);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                txt = exact(bad[i], &len);
                assert_int_equal(connections_parse_smbstatus(txt, len, list), -EBADMSG);
                free(txt);
        }
        json_decref(list);
}

/* Sessions whose ids are not plain numbers, or whose address is not one,
 * are never turned into something an id or an argv could carry. */
static void test_smbstatus_hostile(void **state) {
        static const char doc[] =
                "{\"sessions\": {"
                "\"1\": {\"session_id\": \"1\", \"server_id\": {\"pid\": \"-1\"}},"
                "\"2\": {\"session_id\": \"2/../x\", \"server_id\": {\"pid\": \"7\"}},"
                "\"3\": {\"session_id\": \"3\", \"server_id\": {\"pid\": \"7\"}, \"uid\": 0,"
                " \"hostname\": \"ipv4:-rf;x:1\", \"remote_machine\": \"m\"},"
                "\"4\": {\"session_id\": \"4\", \"server_id\": {\"pid\": \"8\"},"
                " \"hostname\": \"ipv6:2001:db8::9:445\", \"username\": \"bob\"}},"
                "\"tcons\": {\"t\": {\"service\": \"s\", \"session_id\": \"4\","
                " \"server_id\": {\"pid\": \"8\"}}}}";
        json_t *list = json_array(), *c;
        char *txt;
        size_t len;

        (void)state;
        txt = exact(doc, &len);
        assert_int_equal(connections_parse_smbstatus(txt, len, list), 0);
        assert_int_equal(json_array_size(list), 2);
        c = by_id(list, "smb-7-3");
        assert_non_null(c);
        assert_true(nothing(c, "address"));
        assert_string_equal(sget(c, "user"), "root"); /* uid 0 → its name */
        assert_string_equal(sget(c, "share"), "");
        c = by_id(list, "smb-8-4");
        assert_string_equal(sget(c, "address"), "2001:db8::9");
        assert_string_equal(sget(c, "client"), "2001:db8::9");
        assert_string_equal(sget(c, "share"), "s");
        json_decref(list);
        free(txt);
}

static void test_nfs_info(void **state) {
        json_t *c = NULL;
        char *txt;
        size_t len;

        (void)state;
        load("nfsd-client-info-6.1", &txt, &len);
        assert_int_equal(connections_parse_nfs_info("3", txt, len, &c), 0);
        assert_string_equal(sget(c, "id"), "nfs-3");
        assert_string_equal(sget(c, "protocol"), "nfs");
        assert_string_equal(sget(c, "client"), "192.0.2.7");
        assert_string_equal(sget(c, "name"), "Linux NFSv4.2 client.example.org");
        assert_string_equal(sget(c, "dialect"), "NFSv4.2");
        assert_string_equal(sget(c, "status"), "confirmed");
        assert_true(json_is_null(json_object_get(c, "user")));
        json_decref(c);
        /* A bad directory name is no id. */
        assert_int_equal(connections_parse_nfs_info("../x", txt, len, &c), -EINVAL);
        free(txt);

        load("nfsd-client-info-5.10-ipv6", &txt, &len);
        assert_int_equal(connections_parse_nfs_info("12", txt, len, &c), 0);
        assert_string_equal(sget(c, "client"), "2001:db8::7");
        assert_string_equal(sget(c, "dialect"), "NFSv4.1");
        assert_string_equal(sget(c, "name"), "Linux NFSv4.1 h\"q\\x?");
        assert_true(nothing(c, "status"));
        json_decref(c);
        free(txt);

        static const char *const bad[] = {
                "",
                "address: 192.0.2.7:785\n",        /* not quoted */
                "address: \"192.0.2.777:785\"\n",  /* not an address */
                "address: \"[2001:db8::7:785\"\n", /* no ] */
                "address: \"192.0.2.7:785\n",      /* no closing quote */
                "address: \"\\q192.0.2.7:785\"\n", /* a bad escape */
                "name: \"x\"\nminor version: 2\n", /* no address at all */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                txt = exact(bad[i], &len);
                assert_int_equal(connections_parse_nfs_info("1", txt, len, &c), -EBADMSG);
                free(txt);
        }
}

static void test_pdbedit(void **state) {
        json_t *list = json_array(), *a;
        char *txt;
        size_t len;

        (void)state;
        load("pdbedit-L-v-4.17.txt", &txt, &len);
        assert_int_equal(smbusers_parse_pdbedit(txt, len, list), 0);
        assert_int_equal(json_array_size(list), 2);
        a = json_array_get(list, 0);
        assert_string_equal(sget(a, "name"), "carol");
        assert_true(json_is_true(json_object_get(a, "enabled")));
        assert_string_equal(sget(a, "flags"), "U");
        assert_string_equal(sget(a, "full_name"), "Carol Example");
        a = json_array_get(list, 1);
        assert_string_equal(sget(a, "name"), "dave");
        assert_true(json_is_false(json_object_get(a, "enabled")));
        assert_string_equal(sget(a, "flags"), "DU");
        free(txt);
        json_array_clear(list);

        /* Nothing, and a name that is no user name. */
        txt = exact("", &len);
        assert_int_equal(smbusers_parse_pdbedit(txt, len, list), 0);
        free(txt);
        txt = exact("---------------\nUnix username:        ../../x\nAccount Flags: [U ]\n", &len);
        assert_int_equal(smbusers_parse_pdbedit(txt, len, list), 0);
        assert_int_equal(json_array_size(list), 0);
        free(txt);
        json_decref(list);
}

static void test_exec_output(void **state) {
        const char *both[] = {"/bin/sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 3",
                              NULL};
        const char *big[] = {"/bin/sh", "-c", "head -c 100000 /dev/zero", NULL};
        char *out = NULL, msg[64];
        size_t len = 0;

        (void)state;
        assert_int_equal(change_exec_output(both, 1024, &out, &len, msg, sizeof msg), 3);
        assert_int_equal(len, 4);
        assert_string_equal(out, "out\n");
        assert_string_equal(msg, "err");
        free(out);
        out = NULL;
        assert_int_equal(change_exec_output(big, 4096, &out, &len, msg, sizeof msg), -E2BIG);
        assert_null(out);
}

static void test_secret_args_redacted(void **state) {
        static const command_arg_t table[] = {
                {.name = "user", .type = SETTING_STRING},
                {.name = "password", .type = SETTING_STRING, .secret = true},
        };
        json_t *args = json_pack("{s:s, s:s}", "user", "alice", "password", "hunter2"), *shown;
        char *txt;

        (void)state;
        shown = args_redacted(table, 2, args);
        txt = json_dumps(shown, JSON_COMPACT);
        assert_null(strstr(txt, "hunter2"));
        assert_string_equal(sget(shown, "password"), "[redacted]");
        assert_string_equal(sget(shown, "user"), "alice");
        /* The caller's args are left as they were. */
        assert_string_equal(sget(args, "password"), "hunter2");
        free(txt);
        json_decref(shown);
        json_decref(args);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_smbstatus_sessions),
                cmocka_unit_test(test_smbstatus_empty_and_bad),
                cmocka_unit_test(test_smbstatus_hostile),
                cmocka_unit_test(test_nfs_info),
                cmocka_unit_test(test_pdbedit),
                cmocka_unit_test(test_exec_output),
                cmocka_unit_test(test_secret_args_redacted),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
