/* test-sdpeers.c — the service-discovery peer table (common/sdpeers.c):
 * one candidate per claim, only verified candidates listed (the best address
 * kept), the per-source quota, listed peers never evicted by a flood nor
 * replaced by a competing claim, re-verification, expiry after SD_PEER_MISSES sweeps without an answer, the
 * SD_PEERS_MAX bound, target formatting, and the target groups' shape. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "sdpeers.h"

static struct discovery_answer answer(const char *host, char fp_digit) {
        struct discovery_answer a = {.port = 660};

        snprintf(a.host, sizeof a.host, "%s", host);
        snprintf(a.version, sizeof a.version, "0.1.0");
        memcpy(a.fingerprint, "SHA256:", 7);
        memset(a.fingerprint + 7, fp_digit, 64);
        a.fingerprint[DISCOVERY_FINGERPRINT_LEN] = '\0';
        return a;
}

static void test_one_row_per_claim(void **state) {
        struct sd_peers sweep = {0};
        struct discovery_answer a = answer("web1", 'a'), b = answer("web2", 'b');

        assert_int_equal(sd_peers_found(&sweep, &a, "127.0.0.1:660", 1), 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0); /* again: one row */
        assert_int_equal(sd_peers_found(&sweep, &b, "10.0.0.2:660", 0), 0);
        /* A copied claim from elsewhere does not hide the first one. */
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.66:660", 0), 0);
        assert_int_equal(sweep.n, 4);
        assert_string_equal(sweep.p[1].target, "10.0.0.1:660");
        assert_string_equal(sweep.p[3].target, "10.0.0.66:660");
        assert_int_equal(sweep.p[3].check, SD_UNCHECKED);
        assert_int_equal(sd_peers_found(&sweep, &a, "", 0), -EINVAL);
        sd_peers_clear(&sweep);
        assert_null(sweep.p);
        assert_int_equal(sweep.n, 0);
}

/* Marks every candidate of sweep as check says, then merges. */
static void merge_as(struct sd_peers *table, struct sd_peers *sweep, enum sd_check check) {
        for (size_t i = 0; i < sweep->n; i++)
                sweep->p[i].check = check;
        assert_int_equal(sd_peers_merge(table, sweep), 0);
        sd_peers_clear(sweep);
}

static void test_best_address_of_a_verified_server(void **state) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer a = answer("web1", 'a');

        assert_int_equal(sd_peers_found(&sweep, &a, "127.0.0.1:660", 1), 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.7:660", 0), 0); /* as good: first */
        merge_as(&table, &sweep, SD_VERIFIED);
        assert_int_equal(table.n, 1);
        assert_string_equal(table.p[0].target, "10.0.0.1:660");
        sd_peers_clear(&table);
}

static void test_unverified_never_listed(void **state) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer a = answer("web1", 'a');

        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        assert_int_equal(sd_peers_needs_check(&table, &sweep.p[0]), SD_CHECK_NEW);
        merge_as(&table, &sweep, SD_UNCHECKED);
        assert_int_equal(table.n, 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        merge_as(&table, &sweep, SD_REFUSED);
        assert_int_equal(table.n, 0);
        sd_peers_clear(&table);
}

static void test_per_source_cap(void **state) {
        struct sd_peers sweep = {0};
        struct discovery_answer a = answer("x", 'c');
        char target[SD_TARGET_MAX];

        for (unsigned i = 0; i < SD_PER_SOURCE_MAX; i++) {
                snprintf(a.host, sizeof a.host, "h%u", i);
                snprintf(target, sizeof target, "10.0.0.5:%u", 1000 + i);
                assert_int_equal(sd_peers_found(&sweep, &a, target, 0), 0);
        }
        snprintf(a.host, sizeof a.host, "one-too-many");
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.5:660", 0), -EDQUOT);
        /* Another source is not affected; nor a prefix of the address. */
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.50:660", 0), 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "[fe::5]:660", 0), 0);
        assert_int_equal(sweep.n, SD_PER_SOURCE_MAX + 2);
        sd_peers_clear(&sweep);
}

/* A full sweep table (answers from as many sources): a listed peer's answer
 * still gets in, an unknown one does not. */
static void test_verified_not_evicted(void **state) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer real = answer("web1", 'a'), x = answer("x", 'c');
        char target[SD_TARGET_MAX];

        assert_int_equal(sd_peers_found(&sweep, &real, "10.0.0.1:660", 0), 0);
        merge_as(&table, &sweep, SD_VERIFIED);
        for (unsigned sweeps = 0; sweeps < SD_PEER_MISSES + 1; sweeps++) {
                for (unsigned i = 0; i < SD_PEERS_MAX; i++) {
                        snprintf(x.host, sizeof x.host, "h%u", i);
                        snprintf(target, sizeof target, "10.1.%u.%u:660", i / 256, i % 256);
                        assert_int_equal(sd_peers_found_known(&sweep, &table, &x, target, 0), 0);
                }
                assert_int_equal(sd_peers_found_known(&sweep, &table, &x, "10.9.9.9:660", 0),
                                 -ENOSPC);
                assert_int_equal(
                        sd_peers_found_known(&sweep, &table, &real, "10.0.0.1:660", 0), 0);
                assert_int_equal(sweep.n, SD_PEERS_MAX);
                for (size_t i = 0; i < sweep.n; i++)
                        sweep.p[i].check = strcmp(sweep.p[i].host, "web1") == 0 ? SD_UNCHECKED
                                                                                 : SD_REFUSED;
                assert_int_equal(sd_peers_merge(&table, &sweep), 0);
                sd_peers_clear(&sweep);
                assert_int_equal(table.n, 1);
                assert_string_equal(table.p[0].host, "web1");
                assert_int_equal(table.p[0].missed, 0);
        }
        /* Its own source's quota used by others' claims: it gets in too. */
        for (unsigned i = 0; i < SD_PER_SOURCE_MAX; i++) {
                snprintf(x.host, sizeof x.host, "h%u", i);
                snprintf(target, sizeof target, "10.0.0.1:%u", 2000 + i);
                assert_int_equal(sd_peers_found_known(&sweep, &table, &x, target, 0), 0);
        }
        assert_int_equal(sd_peers_found_known(&sweep, &table, &real, "10.0.0.1:660", 0), 0);
        assert_string_equal(sweep.p[sweep.n - 1].host, "web1");
        sd_peers_clear(&sweep);
        sd_peers_clear(&table);
}

static void test_competing_claim_does_not_replace(void **state) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer a = answer("web1", 'a');

        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        merge_as(&table, &sweep, SD_VERIFIED);
        /* The copy answers first, from another address; the real one too. */
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.66:660", 0), 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        assert_int_equal(sd_peers_needs_check(&table, &sweep.p[0]), 0);
        assert_int_equal(sd_peers_needs_check(&table, &sweep.p[1]), 0);
        /* Even marked verified (it holds the key too), it replaces nothing. */
        merge_as(&table, &sweep, SD_VERIFIED);
        assert_int_equal(table.n, 1);
        assert_string_equal(table.p[0].target, "10.0.0.1:660");
        /* The real one silent: the copy is still not a candidate to check
         * until the listed one has expired. */
        for (unsigned i = 0; i < SD_PEER_MISSES; i++) {
                assert_int_equal(table.n, 1);
                assert_string_equal(table.p[0].target, "10.0.0.1:660");
                assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.66:660", 0), 0);
                assert_int_equal(sd_peers_needs_check(&table, &sweep.p[0]), 0);
                merge_as(&table, &sweep, SD_UNCHECKED);
        }
        assert_int_equal(table.n, 0);
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.66:660", 0), 0);
        assert_int_equal(sd_peers_needs_check(&table, &sweep.p[0]), SD_CHECK_NEW);
        sd_peers_clear(&sweep);
        sd_peers_clear(&table);
}

static void test_reverification(void **state) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer a = answer("web1", 'a');

        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        merge_as(&table, &sweep, SD_VERIFIED);
        for (unsigned i = 0; i + 1 < SD_REVERIFY_SWEEPS; i++) {
                assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
                assert_int_equal(sd_peers_needs_check(&table, &sweep.p[0]), 0);
                merge_as(&table, &sweep, SD_UNCHECKED);
                assert_int_equal(table.p[0].age, i + 1);
        }
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        assert_int_equal(sd_peers_needs_check(&table, &sweep.p[0]), SD_CHECK_LISTED);
        merge_as(&table, &sweep, SD_VERIFIED);
        assert_int_equal(table.n, 1);
        assert_int_equal(table.p[0].age, 0);
        /* A failed re-verification drops it at once. */
        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.1:660", 0), 0);
        merge_as(&table, &sweep, SD_REFUSED);
        assert_int_equal(table.n, 0);
        sd_peers_clear(&table);
}

static void one_sweep(struct sd_peers *table, const struct discovery_answer *const *as,
                      const char *const *targets, size_t n) {
        struct sd_peers sweep = {0};

        for (size_t i = 0; i < n; i++)
                assert_int_equal(sd_peers_found(&sweep, as[i], targets[i], 0), 0);
        merge_as(table, &sweep, SD_VERIFIED);
}

static void test_expiry_after_missed_sweeps(void **state) {
        struct sd_peers table = {0};
        struct discovery_answer a = answer("web1", 'a'), b = answer("web2", 'b');

        one_sweep(&table, (const struct discovery_answer *[]){&a, &b},
                  (const char *[]){"10.0.0.1:660", "10.0.0.2:660"}, 2);
        assert_int_equal(table.n, 2);
        /* b answers; a stays silent for SD_PEER_MISSES - 1 sweeps: still listed. */
        for (int i = 0; i < SD_PEER_MISSES - 1; i++) {
                one_sweep(&table, (const struct discovery_answer *[]){&b},
                          (const char *[]){"10.0.0.2:660"}, 1);
                assert_int_equal(table.n, 2);
                assert_string_equal(table.p[0].host, "web1");
                assert_int_equal(table.p[0].missed, (unsigned)i + 1);
                assert_string_equal(table.p[1].target, "10.0.0.2:660");
                assert_int_equal(table.p[1].missed, 0);
        }
        /* An answer resets the count. */
        one_sweep(&table, (const struct discovery_answer *[]){&a, &b},
                  (const char *[]){"10.0.0.1:660", "10.0.0.2:660"}, 2);
        assert_int_equal(table.p[0].missed, 0);
        for (int i = 0; i < SD_PEER_MISSES - 1; i++)
                one_sweep(&table, (const struct discovery_answer *[]){&b},
                          (const char *[]){"10.0.0.2:660"}, 1);
        assert_int_equal(table.n, 2);
        /* The SD_PEER_MISSES-th sweep in a row without it: gone, order kept. */
        one_sweep(&table, (const struct discovery_answer *[]){&b}, (const char *[]){"10.0.0.2:660"},
                  1);
        assert_int_equal(table.n, 1);
        assert_string_equal(table.p[0].host, "web2");
        /* Empty sweeps empty the table in the end. */
        for (int i = 0; i < SD_PEER_MISSES; i++)
                one_sweep(&table, NULL, NULL, 0);
        assert_int_equal(table.n, 0);
        sd_peers_clear(&table);
}

static void test_bounded(void **state) {
        struct sd_peers sweep = {0}, table = {0};
        struct discovery_answer a = answer("x", 'c');
        char target[SD_TARGET_MAX];

        for (unsigned i = 0; i < SD_PEERS_MAX; i++) {
                snprintf(a.host, sizeof a.host, "h%u", i);
                snprintf(target, sizeof target, "10.%u.%u.1:660", i / 256, i % 256);
                assert_int_equal(sd_peers_found(&sweep, &a, target, 0), 0);
        }
        snprintf(a.host, sizeof a.host, "one-too-many");
        assert_int_equal(sd_peers_found(&sweep, &a, "10.9.9.9:660", 0), -ENOSPC);
        assert_int_equal(sweep.n, SD_PEERS_MAX);
        merge_as(&table, &sweep, SD_VERIFIED);
        assert_int_equal(table.n, SD_PEERS_MAX);
        /* A full table takes no newcomer; the known ones stay. */
        assert_int_equal(sd_peers_found(&sweep, &a, "10.9.9.9:660", 0), 0);
        merge_as(&table, &sweep, SD_VERIFIED);
        assert_int_equal(table.n, SD_PEERS_MAX);
        for (size_t i = 0; i < table.n; i++)
                assert_string_not_equal(table.p[i].host, "one-too-many");
        sd_peers_clear(&sweep);
        sd_peers_clear(&table);
}

static void test_target_format_and_rank(void **state) {
        struct sockaddr_in v4 = {.sin_family = AF_INET};
        struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
        char t[SD_TARGET_MAX];

        inet_pton(AF_INET, "10.127.5.11", &v4.sin_addr);
        assert_int_equal(sd_target_format((struct sockaddr *)&v4, 660, t, sizeof t), 0);
        assert_string_equal(t, "10.127.5.11:660");
        assert_int_equal(sd_address_rank((struct sockaddr *)&v4), 0);
        assert_int_equal(sd_target_format((struct sockaddr *)&v4, 660, t, 10), -ENOBUFS);
        inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
        assert_int_equal(sd_address_rank((struct sockaddr *)&v4), 1);

        inet_pton(AF_INET6, "2001:db8::5", &v6.sin6_addr);
        assert_int_equal(sd_target_format((struct sockaddr *)&v6, 8443, t, sizeof t), 0);
        assert_string_equal(t, "[2001:db8::5]:8443");
        assert_int_equal(sd_address_rank((struct sockaddr *)&v6), 0);
        inet_pton(AF_INET6, "::ffff:192.0.2.7", &v6.sin6_addr);
        assert_int_equal(sd_target_format((struct sockaddr *)&v6, 660, t, sizeof t), 0);
        assert_string_equal(t, "192.0.2.7:660");
        inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
        assert_int_equal(sd_address_rank((struct sockaddr *)&v6), 2);
        inet_pton(AF_INET6, "::1", &v6.sin6_addr);
        assert_int_equal(sd_address_rank((struct sockaddr *)&v6), 1);
        inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &v6.sin6_addr);
        assert_int_equal(sd_target_format((struct sockaddr *)&v6, 65535, t, sizeof t), 0);
        assert_string_equal(t, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

        struct sockaddr other = {.sa_family = AF_UNIX};
        assert_int_equal(sd_target_format(&other, 1, t, sizeof t), -EAFNOSUPPORT);
        assert_int_equal(sd_address_rank(&other), -1);
}

static void test_groups_json(void **state) {
        struct sd_peers sweep = {0};
        struct discovery_answer a = answer("db1", 'd');
        json_t *list = json_array(), *g, *labels;

        assert_int_equal(sd_peers_found(&sweep, &a, "10.0.0.4:660", 0), 0);
        assert_int_equal(sd_peers_append_json(&sweep, list, false), 0);
        assert_int_equal(json_array_size(list), 1);
        g = json_array_get(list, 0);
        assert_int_equal(json_object_size(g), 2);
        assert_int_equal(json_array_size(json_object_get(g, "targets")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(g, "targets"), 0)),
                            "10.0.0.4:660");
        labels = json_object_get(g, "labels");
        assert_string_equal(json_string_value(json_object_get(labels, "__scheme__")), "https");
        assert_string_equal(json_string_value(json_object_get(labels, "__metrics_path__")),
                            "/metrics");
        assert_string_equal(json_string_value(json_object_get(labels, "__meta_steward_host")),
                            "db1");
        assert_string_equal(
                json_string_value(json_object_get(labels, "__meta_steward_fingerprint")),
                a.fingerprint);
        assert_string_equal(json_string_value(json_object_get(labels, "__meta_steward_source")),
                            "discovery");
        assert_string_equal(json_string_value(json_object_get(labels, "__meta_steward_version")),
                            "0.1.0");
        json_decref(list);
        /* For an anonymous caller: no version. */
        list = json_array();
        assert_int_equal(sd_peers_append_json(&sweep, list, true), 0);
        labels = json_object_get(json_array_get(list, 0), "labels");
        assert_null(json_object_get(labels, "__meta_steward_version"));
        assert_int_equal(json_object_size(labels), 5);
        json_decref(list);
        sd_peers_clear(&sweep);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_row_per_claim),
                cmocka_unit_test(test_best_address_of_a_verified_server),
                cmocka_unit_test(test_unverified_never_listed),
                cmocka_unit_test(test_per_source_cap),
                cmocka_unit_test(test_verified_not_evicted),
                cmocka_unit_test(test_competing_claim_does_not_replace),
                cmocka_unit_test(test_reverification),
                cmocka_unit_test(test_expiry_after_missed_sweeps),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_target_format_and_rank),
                cmocka_unit_test(test_groups_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
