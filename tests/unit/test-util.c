/* test-util.c — util.c, diff.c, jsonutil.c, the generic registry checks and
 * the stewardd config parser (which holds the limits). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "diff.h"
#include "jsonutil.h"
#include "log.h"
#include "config.h"
#include "registry.h"
#include "util.h"

extern const module_t module_stewardd;

static void test_safe_atoi64(void **state) {
        int64_t v;
        uint64_t u;
        unsigned w;

        assert_int_equal(safe_atoi64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(safe_atoi64("-9223372036854775808", &v), 0);
        assert_true(v == INT64_MIN);
        assert_int_equal(safe_atoi64("9223372036854775807", &v), 0);
        assert_true(v == INT64_MAX);
        assert_int_equal(safe_atoi64("9223372036854775808", &v), -ERANGE);
        assert_int_equal(safe_atoi64("-9223372036854775809", &v), -ERANGE);
        assert_int_equal(safe_atoi64("", &v), -EINVAL);
        assert_int_equal(safe_atoi64("-", &v), -EINVAL);
        assert_int_equal(safe_atoi64("+1", &v), -EINVAL);
        assert_int_equal(safe_atoi64(" 1", &v), -EINVAL);
        assert_int_equal(safe_atoi64("1 ", &v), -EINVAL);
        assert_int_equal(safe_atoi64("0x10", &v), -EINVAL);
        assert_int_equal(safe_atou64("18446744073709551615", &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(safe_atou64("18446744073709551616", &u), -ERANGE);
        assert_int_equal(safe_atou64("-1", &u), -EINVAL);
        assert_int_equal(safe_atou("4294967296", &w), -ERANGE);
        assert_int_equal(safe_atou("660", &w), 0);
        assert_int_equal(w, 660);
}

static void test_buf_limit(void **state) {
        struct buf b;

        buf_init(&b, 10);
        assert_int_equal(buf_puts(&b, "hello"), 0);
        assert_int_equal(buf_printf(&b, "%d", 12345), 0);
        assert_int_equal(b.len, 10);
        assert_string_equal(b.data, "hello12345");
        assert_int_equal(buf_puts(&b, "x"), -E2BIG);
        assert_int_equal(b.len, 10); /* unchanged on refusal */
        buf_free(&b);

        /* A size computation that would overflow is refused, not wrapped. */
        buf_init(&b, SIZE_MAX);
        assert_int_equal(buf_puts(&b, "a"), 0);
        assert_int_equal(buf_append(&b, "b", SIZE_MAX), -E2BIG);
        assert_int_equal(buf_reserve(&b, SIZE_MAX), -E2BIG);
        buf_free(&b);

        /* Reserved room is there to write into, past the maximum never. */
        buf_init(&b, 8);
        assert_int_equal(buf_reserve(&b, 8), 0);
        assert_true(b.cap >= 9);
        memcpy(b.data, "abcdefgh", 8);
        b.len = 8;
        b.data[8] = '\0';
        assert_int_equal(buf_reserve(&b, 1), -E2BIG);
        assert_int_equal(buf_reserve(&b, 0), 0);
        buf_free(&b);
}

static void test_utf8(void **state) {
        assert_true(utf8_valid("plain", 5));
        assert_true(utf8_valid("h\xc3\xa9", 3));
        assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
        assert_false(utf8_valid("\xc3", 1));         /* truncated */
        assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong */
        assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
        assert_false(utf8_valid("a\0b", 3));         /* NUL */
        assert_false(utf8_valid("\xf5\x80\x80\x80", 4));

        char cut[] = "caf\xc3", ctl[] = "a\nb\xff\xc3\xa9";
        utf8_sanitize(cut);
        assert_string_equal(cut, "caf?");
        utf8_sanitize(ctl);
        assert_string_equal(ctl, "a b?\xc3\xa9");
}

static void test_consttime(void **state) {
        assert_true(memeq_consttime("abcd", "abcd", 4));
        assert_false(memeq_consttime("abcd", "abce", 4));
}

static void test_atomic_write(void **state) {
        char dir[] = "/tmp/steward-test-XXXXXX", path[64];
        _cleanup_free_ char *back = NULL;
        struct stat st;
        size_t len;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/f", dir);
        assert_int_equal(write_file_atomic(path, "one\n", 4, 0600), 0);
        assert_int_equal(write_file_atomic(path, "two\n", 4, 0640), 0);
        assert_int_equal(read_file(path, 100, &back, &len), 0);
        assert_string_equal(back, "two\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
        free(back);
        back = NULL;
        assert_int_equal(read_file(path, 3, &back, &len), -EFBIG);
        unlink(path);
        rmdir(dir);
        /* A directory that does not exist fails cleanly. */
        assert_int_equal(write_file_atomic("/nonexistent-dir/x", "a", 1, 0600), -ENOENT);
}

/* A FIFO, a directory or a link (with O_NOFOLLOW) where a file is expected
 * is refused at once, never waited on; the size cap is checked first. */
static void test_read_regular_at(void **state) {
        char dir[] = "/tmp/steward-test-XXXXXX", path[96];
        _cleanup_free_ char *back = NULL;
        _cleanup_close_ int dfd = -1;
        struct stat st;
        size_t len = 0;

        (void)state;
        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        snprintf(path, sizeof path, "%s/f", dir);
        assert_int_equal(write_file_atomic(path, "abcdef", 6, 0600), 0);
        assert_int_equal(read_regular_at(dfd, "f", 0, 6, &back, &len, &st), 0);
        assert_string_equal(back, "abcdef");
        assert_int_equal(len, 6);
        assert_int_equal(st.st_size, 6);
        assert_int_equal(read_regular_at(AT_FDCWD, path, 0, 5, &back, &len, NULL), -EFBIG);
        assert_int_equal(read_regular_at(dfd, "missing", 0, 5, &back, &len, NULL), -ENOENT);
        snprintf(path, sizeof path, "%s/p", dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(read_regular_at(dfd, "p", 0, 100, &back, &len, NULL), -EINVAL);
        assert_int_equal(mkdirat(dfd, "d", 0700), 0);
        assert_int_equal(read_regular_at(dfd, "d", 0, 100, &back, &len, NULL), -EINVAL);
        assert_int_equal(symlinkat("f", dfd, "l"), 0);
        assert_int_equal(read_regular_at(dfd, "l", O_NOFOLLOW, 100, &back, &len, NULL), -ELOOP);
        unlinkat(dfd, "l", 0);
        unlinkat(dfd, "d", AT_REMOVEDIR);
        unlinkat(dfd, "p", 0);
        unlinkat(dfd, "f", 0);
        rmdir(dir);
}

static void test_diff(void **state) {
        _cleanup_free_ char *d = NULL, *same = NULL, *add = NULL;
        const char *a = "a\nb\nc\nd\ne\nf\ng\nh\n";
        const char *b = "a\nb\nc\nD\ne\nf\ng\nh\ni\n";

        assert_int_equal(diff_unified("/etc/x", a, strlen(a), a, strlen(a), &same), 0);
        assert_string_equal(same, "");
        assert_int_equal(diff_unified("/etc/x", a, strlen(a), b, strlen(b), &d), 0);
        assert_string_equal(d, "--- a/etc/x\n+++ b/etc/x\n"
                               "@@ -1,8 +1,9 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n+i\n");
        /* From an empty file, and a last line without newline. */
        assert_int_equal(diff_unified("/f", "", 0, "x\ny", 3, &add), 0);
        assert_string_equal(add, "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n"
                                 "\\ No newline at end of file\n");
}

static void test_diff_two_hunks(void **state) {
        _cleanup_free_ char *d = NULL;
        struct buf a, b;

        buf_init(&a, 1 << 20);
        buf_init(&b, 1 << 20);
        for (int i = 0; i < 30; i++) {
                buf_printf(&a, "%d\n", i);
                buf_printf(&b, "%d\n", i == 2 ? 200 : i == 25 ? 2500 : i);
        }
        assert_int_equal(diff_unified("/f", a.data, a.len, b.data, b.len, &d), 0);
        assert_string_equal(d, "--- a/f\n+++ b/f\n"
                               "@@ -1,6 +1,6 @@\n 0\n 1\n-2\n+200\n 3\n 4\n 5\n"
                               "@@ -23,7 +23,7 @@\n 22\n 23\n 24\n-25\n+2500\n 26\n 27\n 28\n");
        buf_free(&a);
        buf_free(&b);
}

/* The encoder writes jansson's own compact text: every escape, every scalar
 * (reals by jansson), nesting, insertion order, empty containers; and it
 * refuses what jansson refuses (a string that is not UTF-8). */
static void expect_same_text(json_t *v, size_t real_flags) {
        _cleanup_free_ char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | real_flags);
        _cleanup_free_ char *got = json_encode_compact(v, real_flags, false, NULL);
        _cleanup_free_ char *line = NULL;
        size_t len = 0;

        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);
        line = json_encode_compact(v, real_flags, true, &len);
        assert_non_null(line);
        assert_int_equal(len, strlen(want) + 1);
        assert_int_equal(line[len - 1], '\n');
        assert_int_equal(line[len], '\0');
}

static void test_json_encode(void **state) {
        char all[128], bad[] = "x\xff";
        json_t *v, *deep;

        for (int i = 0; i < 127; i++)
                all[i] = (char)(i + 1); /* every ASCII character, controls too */
        all[127] = '\0';
        v = json_pack("{s:s, s:s, s:i, s:I, s:f, s:f, s:b, s:b, s:n, s:[], s:{}, s:[i, [s, {}], "
                      "{s:[]}], s:s%}",
                      "ascii", all, "utf8", "caf\u00e9 \u2603 \xf0\x9f\x98\x80 \xc2\x9b", "int", -7,
                      "big", (json_int_t)-9223372036854775807LL - 1, "real", 0.1, "whole", 3.0,
                      "t", 1, "f", 0, "null", "empty", "obj", "nested", 1, "a", "k\"ey\\",
                      "nul", "a\0b", (size_t)3);
        assert_non_null(v);
        json_object_set_new(v, "tab\there", json_string("/slash/"));
        json_object_set_new(v, "0first", json_true()); /* insertion order, not sorted */
        expect_same_text(v, JSON_REAL_PRECISION(15));
        expect_same_text(v, 0);
        expect_same_text(json_array_get(json_object_get(v, "nested"), 1), 0);
        json_decref(v);

        v = json_string("plain");
        expect_same_text(v, 0);
        json_decref(v);
        v = json_stringn_nocheck(bad, 2);
        assert_null(json_encode_compact(v, 0, false, NULL));
        assert_null(json_dumps(v, JSON_ENCODE_ANY));
        json_decref(v);

        /* A key holding a NUL is one key, escaped as jansson writes it. */
        v = json_object();
        json_object_setn_new_nocheck(v, "a\0b", 3, json_true());
        expect_same_text(v, 0);
        json_decref(v);

        /* A loop (which jansson refuses too) ends at the depth limit. */
        v = json_array();
        deep = json_array();
        json_array_append(v, deep);
        json_array_append(deep, v);
        assert_null(json_encode_compact(v, 0, false, NULL));
        json_array_clear(deep);
        json_decref(deep);
        json_decref(v);
}

static void test_json_depth(void **state) {
        char code[32], msg[200];
        json_t *v = NULL;

        assert_int_equal(json_scan_depth("{}", 2, 10), 1);
        assert_int_equal(json_scan_depth("{\"a\":[[1]]}", 11, 10), 3);
        assert_int_equal(json_scan_depth("{\"a\":\"[[[[\"}", 12, 10), 1); /* brackets in strings */
        assert_int_equal(json_scan_depth("{\"a\\\"[[\":1}", 11, 10), 1);  /* escaped quote */
        assert_int_equal(json_scan_depth("]", 1, 10), -EINVAL);

        assert_int_equal(json_parse_body("[[[[1]]]]", 9, 3, &v, code, sizeof code, msg, sizeof msg),
                         -E2BIG);
        assert_string_equal(code, "json_too_deep");
        assert_int_equal(json_parse_body("[1]", 3, 3, &v, code, sizeof code, msg, sizeof msg),
                         -EINVAL);
        assert_string_equal(code, "invalid_json");
        assert_int_equal(
                json_parse_body("{\"a\":1,\"a\":2}", 13, 3, &v, code, sizeof code, msg, sizeof msg),
                -EINVAL);
        assert_int_equal(
                json_parse_body("{\"a\":\"\xff\"}", 9, 3, &v, code, sizeof code, msg, sizeof msg),
                -EINVAL);
        assert_int_equal(json_parse_body("{\"a\":1}", 7, 3, &v, code, sizeof code, msg, sizeof msg),
                         0);
        json_decref(v);
}

static void test_json_tree(void **state) {
        json_t *t = json_object();

        assert_int_equal(json_tree_set(t, "limits:max", json_integer(5)), 0);
        assert_int_equal(json_tree_set(t, "limits:min", json_integer(1)), 0);
        assert_int_equal(json_tree_set(t, "limits:max:x", json_integer(1)), -EEXIST);
        assert_int_equal(json_integer_value(json_tree_get(t, "limits:max")), 5);
        assert_null(json_tree_get(t, "limits:nope"));
        assert_null(json_tree_get(t, "limits:max:deeper"));
        assert_true(json_is_object(json_tree_get(t, "limits")));
        json_decref(t);
}

static void test_settings_flatten(void **state) {
        struct module_error e = {0};
        json_t *patch, *flat = NULL;

        patch = json_pack("{s:s, s:{s:i}, s:i}", "log_level", "debug", "limits", "max_connections",
                          10, "limits:max_body_bytes", 4096);
        assert_int_equal(settings_flatten(&module_stewardd, patch, &flat, &e), 0);
        assert_int_equal(json_object_size(flat), 3);
        assert_int_equal(json_integer_value(json_object_get(flat, "limits:max_connections")), 10);
        json_decref(flat);
        json_decref(patch);

        /* The same key twice, nested and flat. */
        patch = json_pack("{s:{s:i}, s:i}", "limits", "max_connections", 10,
                          "limits:max_connections", 11);
        assert_int_equal(settings_flatten(&module_stewardd, patch, &flat, &e), -EINVAL);
        json_decref(patch);

        patch = json_pack("{s:i}", "limits:nope", 1);
        assert_int_equal(settings_flatten(&module_stewardd, patch, &flat, &e), -ENOENT);
        assert_string_equal(e.code, "unknown_setting");
        assert_int_equal(e.status, 422);
        json_decref(patch);

        patch = json_pack("{s:i}", "limits", 1);
        assert_int_equal(settings_flatten(&module_stewardd, patch, &flat, &e), -EINVAL);
        json_decref(patch);
}

static void test_settings_changes(void **state) {
        struct module_error e = {0};
        json_t *current =
                json_pack("{s:s, s:{s:i}}", "log_level", "info", "limits", "max_connections", 256);
        json_t *flat, *changes = NULL;

        /* Unchanged values drop out; changed ones are checked. */
        flat = json_pack("{s:s, s:i}", "log_level", "info", "limits:max_connections", 300);
        assert_int_equal(settings_changes(&module_stewardd, flat, current, &changes, &e), 0);
        assert_int_equal(json_object_size(changes), 1);
        json_decref(changes);
        json_decref(flat);

        flat = json_pack("{s:i}", "limits:max_connections", 0);
        assert_int_equal(settings_changes(&module_stewardd, flat, current, &changes, &e), -ERANGE);
        assert_string_equal(e.code, "invalid_setting");
        assert_string_equal(e.field, "limits:max_connections");
        json_decref(flat);

        flat = json_pack("{s:s}", "limits:max_connections", "300");
        assert_int_equal(settings_changes(&module_stewardd, flat, current, &changes, &e), -EINVAL);
        json_decref(flat);

        flat = json_pack("{s:s}", "log_level", "loud");
        assert_int_equal(settings_changes(&module_stewardd, flat, current, &changes, &e), -EINVAL);
        assert_non_null(strstr(e.message, "\"debug\""));
        json_decref(flat);
        json_decref(current);
}

static void test_dns_names(void **state) {
        char long_label[70], long_name[260];

        (void)state;
        assert_true(dns_name_valid("mail.example.org", 253));
        assert_false(dns_name_valid("mail.example.org.", 253));
        assert_true(dns_name_valid_opts("mail.example.org.", 253, DNS_NAME_FINAL_DOT));
        assert_false(dns_name_valid_opts(".", 253, DNS_NAME_FINAL_DOT));
        assert_false(dns_name_valid_opts("a..", 253, DNS_NAME_FINAL_DOT));
        assert_false(dns_name_valid("_sip._tcp.example.org", 253));
        assert_true(dns_name_valid_opts("_sip._tcp.example.org", 253, DNS_NAME_UNDERSCORE));
        assert_false(dns_name_valid("-x.example.org", 253));
        assert_false(dns_name_valid("x-.example.org", 253));
        assert_false(dns_name_valid("x..org", 253));
        assert_false(dns_name_valid("", 253));
        memset(long_label, 'a', 64);
        long_label[64] = '\0';
        assert_false(dns_name_valid(long_label, 253)); /* a label of 64 */
        long_label[63] = '\0';
        assert_true(dns_name_valid(long_label, 253));
        /* 253 bytes, and one more: the final dot is not counted */
        for (size_t i = 0; i < 253; i++)
                long_name[i] = i % 2 ? '.' : 'a';
        long_name[253] = '\0';
        assert_true(dns_name_valid(long_name, 253));
        long_name[253] = '.';
        long_name[254] = '\0';
        assert_false(dns_name_valid(long_name, 253));
        assert_true(dns_name_valid_opts(long_name, 253, DNS_NAME_FINAL_DOT));
        long_name[253] = 'a';
        assert_false(dns_name_valid_opts(long_name, 253, DNS_NAME_FINAL_DOT));
}

static void test_config_parse(void **state) {
        struct steward_config c;
        char err[512];
        const char *good = "# comment\nlog_level = \"debug\"\nlimits:max_body_bytes = 2048\n";

        assert_int_equal(steward_config_parse(good, strlen(good), "f", &c, err, sizeof err), 0);
        assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
        assert_int_equal(c.max_body_bytes, 2048);
        assert_int_equal(c.max_connections, 256); /* default kept */

        const char *low = "limits:max_body_bytes = 10\n";
        assert_int_equal(steward_config_parse(low, strlen(low), "f", &c, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "limits:max_body_bytes"));

        const char *bad = "log_level = \"info\"\nlimits:max_body_bytes = \n";
        assert_int_equal(steward_config_parse(bad, strlen(bad), "f", &c, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "f:2"));

        const char *unknown = "nope = 1\n";
        assert_int_equal(steward_config_parse(unknown, strlen(unknown), "f", &c, err, sizeof err),
                         -EINVAL);
        assert_non_null(strstr(err, "nope"));
}

/* audit:syslog_ca_file: the root forwarder reads it, so only a plain
 * absolute path under /etc/ (or empty: the system's authorities). */
static void test_config_ca_file(void **state) {
        static const char *const good[] = {
                "", "/etc/ssl/certs/ca-certificates.crt", "/etc/steward/syslog-ca.pem",
                "/etc/pki/tls/certs/ca.pem", "/etc/x",
        };
        static const char *const bad[] = {
                "relative.pem", "/tmp/ca.pem", "/dev/zero", "/etc", "/etc/", "/etc/ssl/",
                "/etc/../tmp/ca.pem", "/etc/./ssl/ca.pem", "/etc/ssl/../shadow", "/etc//ca.pem",
                "/etcx/ca.pem", "/proc/self/fd/0", "/etc/ssl/ca pem", "//etc/ca.pem",
                "/run/../etc/ca.pem",
        };
        struct steward_config c;
        char text[512], err[512];

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                snprintf(text, sizeof text, "audit:syslog_ca_file = \"%s\"\n", good[i]);
                if (steward_config_parse(text, strlen(text), "f", &c, err, sizeof err) != 0)
                        fail_msg("refused %s: %s", good[i], err);
                assert_string_equal(c.syslog_ca_file, good[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(text, sizeof text, "audit:syslog_ca_file = \"%s\"\n", bad[i]);
                if (steward_config_parse(text, strlen(text), "f", &c, err, sizeof err) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
        }
}

static bool keep_log_and(int fd, void *data) {
        return fd == *(const int *)data || log_is_log_socket(fd);
}

/* In a child (it closes descriptors): a socket like libsystemd's journal
 * socket (unix, datagram, neither bound nor connected) and the one asked
 * for stay open, a file and a stream socket are closed. */
static void test_fds_close_except(void **state) {
        pid_t pid = fork();
        int st = 0;

        assert_true(pid >= 0);
        if (pid == 0) {
                int journal = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int stream = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int asked = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int bad = 0;

                if (journal < 0 || file < 0 || stream < 0 || asked < 0)
                        _exit(10);
                bad |= !log_is_log_socket(journal) << 0;
                bad |= log_is_log_socket(file) << 1;
                bad |= log_is_log_socket(stream) << 2;
                if (fds_close_except(keep_log_and, &asked) < 0)
                        _exit(11);
                bad |= (fcntl(journal, F_GETFD) < 0) << 3;
                bad |= (fcntl(asked, F_GETFD) < 0) << 4;
                bad |= (fcntl(file, F_GETFD) >= 0) << 5;
                bad |= (fcntl(stream, F_GETFD) >= 0) << 6;
                _exit(bad);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_safe_atoi64),
                cmocka_unit_test(test_buf_limit),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_consttime),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_read_regular_at),
                cmocka_unit_test(test_diff),
                cmocka_unit_test(test_diff_two_hunks),
                cmocka_unit_test(test_json_depth),
                cmocka_unit_test(test_json_tree),
                cmocka_unit_test(test_settings_flatten),
                cmocka_unit_test(test_settings_changes),
                cmocka_unit_test(test_config_parse),
                cmocka_unit_test(test_config_ca_file),
                cmocka_unit_test(test_json_encode),
                cmocka_unit_test(test_dns_names),
                cmocka_unit_test(test_fds_close_except),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
