/* test-timesyncd.c — the time module's backend for systemd-timesyncd's
 * configuration (src/modules/time/timesyncd.h): the server name grammar,
 * time spans, reading [Time] as timesyncd does (lists that add up and reset,
 * sections, comments, bounds), and rewriting Steward's drop-in so that only
 * the managed keys change.  Also the settings rows and the INI keys agree,
 * and the TZif reader of zones.h on the installed zones and on damaged
 * copies of one.
 *
 * The grammar cases are tables: adding a case is one line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "module.h"
#include "modules/time/timesyncd.h"
#include "modules/time/zones.h"
#include "util.h"

extern const module_t module_time;

static void test_server_grammar(void **state) {
        static const char *const good[] = {
                "ntp.example.org",       "pool.ntp.org", "a",   "a-b.c", "192.0.2.1",
                "0.debian.pool.ntp.org", "2001:db8::1",  "::1", "x1.y2",
        };
        static const char *const bad[] = {
                "",      "two words",    "-a.org",       "a-.org", "a..b",    ".a",
                "a.",    "a#b",          "a=b",          "a;b",    "a\nb",    "999.1.2.3",
                "1.2.3", "fe80::1%eth0", "2001:db8:::1", "[::1]",  "a_b.org", "ntp.example.org\t",
        };
        char long_label[80], long_name[260];

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!ntp_server_valid(good[i]))
                        fail_msg("refused \"%s\"", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (ntp_server_valid(bad[i]))
                        fail_msg("accepted \"%s\"", bad[i]);
        assert_false(ntp_server_valid(NULL));

        memset(long_label, 'a', 64);
        long_label[64] = '\0';
        assert_false(ntp_server_valid(long_label)); /* a label is at most 63 */
        long_label[63] = '\0';
        assert_true(ntp_server_valid(long_label));

        for (size_t i = 0; i < 253; i++)
                long_name[i] = i % 2 ? '.' : 'a';
        long_name[253] = '\0';
        assert_true(ntp_server_valid(long_name)); /* 253: the longest */
        long_name[253] = 'a';
        long_name[254] = '\0';
        assert_false(ntp_server_valid(long_name));
}

static void test_spans(void **state) {
        static const struct {
                const char *text;
                int64_t seconds;
        } good[] = {
                {"5", 5},           {"5s", 5},      {"2min", 120},  {"1h 30min", 5400},
                {"34min 8s", 2048}, {" 7 sec ", 7}, {"1w", 604800}, {"2 h", 7200},
        };
        static const char *const bad[] = {"",    "s",  "5x",         "-5",  "5.5s",
                                          "1ms", "8d", "9999999999", "1h h"};
        int64_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (tsync_span_parse(good[i].text, &v) < 0)
                        fail_msg("refused \"%s\"", good[i].text);
                assert_int_equal(v, good[i].seconds);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (tsync_span_parse(bad[i], &v) >= 0)
                        fail_msg("accepted \"%s\"", bad[i]);
}

static void parse(struct tsync_conf *c, const char *text) {
        assert_int_equal(tsync_parse(text, strlen(text), c), 0);
}

static void test_defaults(void **state) {
        struct tsync_conf c;

        tsync_conf_init(&c);
        assert_int_equal(c.n_servers, 0);
        assert_int_equal(c.n_fallback, 4);
        assert_string_equal(c.fallback[0], "0.debian.pool.ntp.org");
        assert_int_equal(c.root_distance_max_sec, 5);
        assert_int_equal(c.poll_interval_min_sec, 32);
        assert_int_equal(c.poll_interval_max_sec, 2048);
        tsync_conf_done(&c);
}

static void test_parse(void **state) {
        struct tsync_conf c;

        tsync_conf_init(&c);
        /* The main file, then two drop-ins, as timesyncd reads them. */
        parse(&c,
              "# comment\n[Time]\n#NTP=commented.example.org\n NTP = a.example.org b.example.org \n"
              "; other comment\nPollIntervalMaxSec=1h\n[Other]\nNTP=elsewhere.example.org\n");
        parse(&c, "[Time]\nNTP=c.example.org\nFallbackNTP=\nRootDistanceMaxSec=bogus\n");
        assert_int_equal(c.n_servers, 3);
        assert_string_equal(c.servers[2], "c.example.org");
        assert_int_equal(c.n_fallback, 0);
        assert_int_equal(c.poll_interval_max_sec, 3600);
        assert_int_equal(c.root_distance_max_sec, 5); /* a bad value is skipped */

        parse(&c, "[Time]\nNTP=\nNTP=d.example.org\nPollIntervalMinSec=64\r\n");
        assert_int_equal(c.n_servers, 1);
        assert_string_equal(c.servers[0], "d.example.org");
        assert_null(c.servers[1]);
        assert_int_equal(c.poll_interval_min_sec, 64);

        /* Names that are not names, and past the bound, are dropped. */
        parse(&c, "[Time]\nNTP=a#b e.example.org 999.9.9.9\n");
        assert_int_equal(c.n_servers, 2);
        assert_int_equal(c.n_dropped, 2);
        parse(&c, "[Time]\nNTP=\nNTP=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n");
        assert_int_equal(c.n_servers, 0); /* "1" is neither a name nor an address */
        parse(&c, "[Time]\nNTP=a b c d e f g h i j k l m n o p q r\n");
        assert_int_equal(c.n_servers, NTP_SERVERS_MAX);
        assert_null(c.servers[NTP_SERVERS_MAX]);
        tsync_conf_done(&c);

        /* No [Time] section: nothing applies. */
        tsync_conf_init(&c);
        parse(&c, "NTP=x.example.org\n[Timer]\nNTP=y.example.org\n");
        assert_int_equal(c.n_servers, 0);
        tsync_conf_done(&c);
}

static void rewrite(const char *old, const struct tsync_edit *edits, size_t n, const char *expect) {
        _cleanup_free_ char *out = NULL;

        assert_int_equal(tsync_rewrite(old, edits, n, &out), 0);
        assert_string_equal(out, expect);
}

static void test_rewrite(void **state) {
        const struct tsync_edit servers = {tsync_key_find("ntp:servers"),
                                           "a.example.org 192.0.2.1"};
        const struct tsync_edit none = {tsync_key_find("ntp:fallback_servers"), ""};
        const struct tsync_edit pmax = {tsync_key_find("ntp:poll_interval_max_sec"), "1024"};
        const struct tsync_edit two[] = {servers, pmax};

        /* A new file: the header, then [Time] with the keys. */
        rewrite(NULL, two, 2,
                "# Managed by Steward: the NTP settings of its time module (ntp:*).\n"
                "# Steward rewrites the keys it manages here; other lines are kept.\n"
                "\n[Time]\nNTP=\nNTP=a.example.org 192.0.2.1\nPollIntervalMaxSec=1024\n");
        /* An empty list is the reset alone. */
        rewrite("[Time]\nFallbackNTP=x.example.org\n", &none, 1, "[Time]\nFallbackNTP=\n");
        /* Replaced in place, repeats dropped, the rest kept as it was. */
        rewrite("# mine\n[Time]\nNTP=\nNTP=old.example.org\nConnectionRetrySec=10\n"
                "PollIntervalMaxSec=64\n[Other]\nNTP=not-ours\n[Time]\nNTP=again.example.org\n",
                two, 2,
                "# mine\n[Time]\nNTP=\nNTP=a.example.org 192.0.2.1\nConnectionRetrySec=10\n"
                "PollIntervalMaxSec=1024\n[Other]\nNTP=not-ours\n[Time]\n");
        /* A key not there yet goes at the end of the first [Time] section. */
        rewrite("[Time]\nConnectionRetrySec=10\n\n[Other]\nX=1\n", &pmax, 1,
                "[Time]\nConnectionRetrySec=10\n\nPollIntervalMaxSec=1024\n[Other]\nX=1\n");
        /* No [Time] section: one is added; a last line without newline is kept. */
        rewrite("# only a comment", &pmax, 1,
                "# only a comment\n\n[Time]\nPollIntervalMaxSec=1024\n");
        /* Commented-out keys are not keys. */
        rewrite("[Time]\n#NTP=x\n", &servers, 1,
                "[Time]\n#NTP=x\nNTP=\nNTP=a.example.org 192.0.2.1\n");
}

static void test_rewrite_limits(void **state) {
        struct tsync_edit many[17];
        const size_t big = TSYNC_FILE_MAX + 10;
        _cleanup_free_ char *huge = malloc(big + 1), *out = NULL;

        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (struct tsync_edit){tsync_key_find("ntp:servers"), "a"};
        assert_int_equal(tsync_rewrite(NULL, many, ELEMENTSOF(many), &out), -E2BIG);
        assert_non_null(huge);
        memset(huge, '#', big);
        huge[big] = '\0';
        assert_int_equal(tsync_rewrite(huge, many, 1, &out), -E2BIG);
        assert_null(out);
}

/* Every setting of the module is an INI key of the backend, and back. */
static void test_rows_agree(void **state) {
        assert_int_equal(module_time.n_settings, tsync_keys_count);
        for (size_t i = 0; i < module_time.n_settings; i++) {
                const setting_def_t *d = &module_time.settings[i];
                const struct tsync_key *k = tsync_key_find(d->key);

                if (!k)
                        fail_msg("setting %s has no INI key", d->key);
                assert_int_equal(d->type == SETTING_STRING_ARRAY, k->kind == TSYNC_LIST);
                if (k->kind == TSYNC_LIST)
                        assert_int_equal(d->max, NTP_SERVERS_MAX);
        }
}

/* ---- TZif (zones.h) -------------------------------------------------------------- */

static char *zone_file(const char *name, size_t *len) {
        char path[256], *data = NULL;

        (void)snprintf(path, sizeof path, ZONES_DIR "/%s", name);
        if (read_file(path, TZIF_FILE_MAX, &data, len) < 0)
                return NULL;
        return data;
}

static void test_tzif(void **state) {
        _cleanup_free_ char *paris = NULL, *copy = NULL;
        struct zone_info z;
        size_t len;

        paris = zone_file("Europe/Paris", &len);
        if (!paris)
                skip();
        /* 2026-01-15 and 2026-07-15, 12:00 UTC. */
        assert_int_equal(tzif_lookup((uint8_t *)paris, len, 1768478400, &z), 0);
        assert_string_equal(z.abbreviation, "CET");
        assert_int_equal(z.utc_offset, 3600);
        assert_false(z.dst);
        assert_int_equal(tzif_lookup((uint8_t *)paris, len, 1784116800, &z), 0);
        assert_string_equal(z.abbreviation, "CEST");
        assert_int_equal(z.utc_offset, 7200);
        assert_true(z.dst);
        assert_int_equal(zone_lookup("Asia/Kolkata", 1768478400, &z), 0);
        assert_int_equal(z.utc_offset, 19800);
        assert_int_equal(zone_lookup("UTC", 0, &z), 0); /* a link inside the tree */
        assert_int_equal(z.utc_offset, 0);
        assert_int_equal(zone_lookup("Nowhere/Special", 0, &z), -ENOENT);
        assert_int_equal(zone_lookup("../etc/passwd", 0, &z), -EINVAL);
        assert_int_equal(zone_lookup("Europe", 0, &z), -EISDIR);

        /* Every truncation of a real file is refused or read, never overrun
         * (ASan watches); a damaged count is refused. */
        copy = malloc(len);
        assert_non_null(copy);
        for (size_t n = 0; n < len; n++) {
                memcpy(copy, paris, n);
                (void)tzif_lookup((uint8_t *)copy, n, 1768478400, &z);
        }
        memcpy(copy, paris, len);
        copy[39] = (char)0xff; /* typecnt of the first block: far too many */
        assert_int_equal(tzif_lookup((uint8_t *)copy, len, 0, &z), -EBADMSG);
        memcpy(copy, paris, len);
        copy[0] = 'X';
        assert_int_equal(tzif_lookup((uint8_t *)copy, len, 0, &z), -EBADMSG);
}

static void test_zone_names(void **state) {
        assert_true(zone_name_valid("Europe/Paris"));
        assert_true(zone_name_valid("Etc/GMT+5"));
        assert_true(zone_name_valid("America/Argentina/Buenos_Aires"));
        assert_false(zone_name_valid(""));
        assert_false(zone_name_valid("/etc"));
        assert_false(zone_name_valid("a//b"));
        assert_false(zone_name_valid("a/"));
        assert_false(zone_name_valid("../x"));
        assert_false(zone_name_valid("a b"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_server_grammar), cmocka_unit_test(test_spans),
                cmocka_unit_test(test_defaults),       cmocka_unit_test(test_parse),
                cmocka_unit_test(test_rewrite),        cmocka_unit_test(test_rewrite_limits),
                cmocka_unit_test(test_rows_agree),     cmocka_unit_test(test_tzif),
                cmocka_unit_test(test_zone_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
