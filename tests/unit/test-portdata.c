/* test-portdata.c — the compiled-in port data (portdata.h) against facts
 * from the shipped registry copy, the legacy list and the trojan list, and
 * the lookups against a brute-force count over every record.
 *
 * The table invariants that the lookups rely on (portdata-table.h) are
 * checked directly too: the shipped registry happens to have no range nested
 * inside another, so the brute-force comparison alone would not notice a
 * lookup that ignored the running maximum of the range ends.
 *
 * Facts that a registry update may legitimately change (the count of rows
 * with unauthorized use reported, the registry date) are asserted as they
 * are in the copy under data/iana/: when an update changes them, check the
 * new value against the registry and adjust the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ports/portdata-table.h"

#define MAX 64

static const struct iana_record *find(const struct iana_record *r, size_t n, const char *service,
                                      const char *protocol) {
        for (size_t i = 0; i < n && i < MAX; i++)
                if (strcmp(r[i].service, service) == 0 && strcmp(r[i].protocol, protocol) == 0)
                        return &r[i];
        return NULL;
}

static void assert_service(uint16_t port, const char *protocol, const char *service,
                           const char *description) {
        struct iana_record r[MAX];
        size_t n = iana_lookup(port, protocol, r, MAX);
        const struct iana_record *x;

        assert_true(n >= 1);
        x = find(r, n, service, protocol);
        if (!x)
                fail_msg("no %s on %u/%s", service, port, protocol);
        assert_int_equal(x->port_lo, port);
        assert_int_equal(x->port_hi, port);
        if (description)
                assert_string_equal(x->description, description);
        assert_true(iana_port_assigned(port, protocol));
}

static void test_known_services(void **state) {
        struct iana_record r[MAX];
        size_t n;

        assert_service(660, "tcp", "mac-srvr-admin", "MacOS Server Admin");
        assert_service(660, "udp", "mac-srvr-admin", "MacOS Server Admin");
        assert_service(548, "tcp", "afpovertcp", "AFP over TCP");
        assert_service(548, "udp", "afpovertcp", "AFP over TCP");
        assert_service(427, "tcp", "svrloc", "Server Location");
        assert_service(427, "udp", "svrloc", "Server Location");
        assert_service(625, "tcp", "dec-dlm", NULL);
        assert_service(625, "udp", "dec-dlm", NULL);

        /* Any protocol: tcp before udp, and the first record is the one the
         * ports module shows first. */
        n = iana_lookup(660, NULL, r, MAX);
        assert_int_equal(n, 2);
        assert_string_equal(r[0].protocol, "tcp");
        assert_string_equal(r[1].protocol, "udp");
        assert_string_equal(r[0].service, "mac-srvr-admin");
        assert_string_equal(r[0].assignee, "[Forest_Hill]");

        /* 625 has the well-formed name and its historic alias: "-" sorts first. */
        n = iana_lookup(625, "tcp", r, MAX);
        assert_int_equal(n, 2);
        assert_string_equal(r[0].service, "dec-dlm");
        assert_string_equal(r[1].service, "dec_dlm");
        assert_non_null(strstr(r[1].notes, "alias"));
        assert_non_null(strchr(r[0].description, '\n')); /* a quoted newline survived */
}

static void test_unassigned(void **state) {
        struct iana_record r[MAX];
        size_t n;

        /* Port 4 is Unassigned on both transports. */
        n = iana_lookup(4, NULL, r, MAX);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(r[i].service, "");
                assert_string_equal(r[i].description, "Unassigned");
        }
        assert_false(iana_port_assigned(4, "tcp"));
        assert_false(iana_port_assigned(4, "udp"));
        assert_false(iana_port_assigned(4, NULL));

        /* Reserved is not an assignment either. */
        assert_false(iana_port_assigned(0, "tcp"));
        assert_false(iana_port_assigned(1023, "udp"));

        /* An unknown protocol matches nothing. */
        assert_int_equal(iana_lookup(80, "icmp", r, MAX), 0);
        assert_false(iana_port_assigned(80, "icmp"));
        assert_int_equal(iana_lookup(80, "TCP", r, MAX), 0);
}

static void test_ranges(void **state) {
        struct iana_record r[MAX];
        const struct iana_record *x;
        size_t n;

        for (uint16_t p = 6000; p <= 6063; p += 63) {
                n = iana_lookup(p, "tcp", r, MAX);
                x = find(r, n, "x11", "tcp");
                assert_non_null(x);
                assert_int_equal(x->port_lo, 6000);
                assert_int_equal(x->port_hi, 6063);
        }
        n = iana_lookup(6010, "udp", r, MAX);
        x = find(r, n, "x11", "udp");
        assert_non_null(x);
        assert_string_equal(x->description, "X Window System");
        assert_true(iana_port_assigned(6010, "tcp"));

        n = iana_lookup(6064, NULL, r, MAX);
        assert_null(find(r, n, "x11", "tcp"));
        assert_null(find(r, n, "x11", "udp"));

        /* A range with no transport protocol applies to every protocol. */
        n = iana_lookup(4250, "tcp", r, MAX);
        x = find(r, n, "vrml-multi-use", "");
        assert_non_null(x);
        assert_int_equal(x->port_lo, 4200);
        assert_int_equal(x->port_hi, 4299);
        assert_true(iana_port_assigned(4250, "sctp"));
}

static void test_range_edges(void **state) {
        static const struct {
                uint16_t port;
                const char *name;
                size_t records;
        } edges[] = {
                {0, "well-known", 2},     {1023, "well-known", 2}, {1024, "registered", 2},
                {49151, "registered", 1}, {49152, "dynamic", 0},   {65535, "dynamic", 0},
        };
        struct iana_record r[MAX];

        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
                uint16_t p = edges[i].port;

                assert_string_equal(port_range_name(p), edges[i].name);
                assert_int_equal(iana_lookup(p, NULL, r, MAX), edges[i].records);
                for (size_t k = 0; k < edges[i].records; k++)
                        assert_string_equal(r[k].description, "Reserved");
                assert_false(iana_port_assigned(p, "tcp"));
        }
        assert_string_equal(r[0].protocol, ""); /* 49151 is reserved for no transport */
        assert_true(strlen(port_range_explanation(0)) > 40);
        assert_string_equal(port_range_explanation(0), port_range_explanation(1023));
        assert_string_equal(port_range_explanation(1024), port_range_explanation(49151));
        assert_string_equal(port_range_explanation(49152), port_range_explanation(65535));
        assert_string_not_equal(port_range_explanation(1023), port_range_explanation(1024));
        assert_string_not_equal(port_range_explanation(49151), port_range_explanation(49152));
}

static void test_unauthorized_use(void **state) {
        struct iana_record x;
        size_t reported = 0, n = iana_record_count();

        assert_true(n > 10000);
        for (size_t i = 0; i < n; i++) {
                assert_true(iana_record_get(i, &x));
                if (x.unauthorized_use[0])
                        reported++;
        }
        assert_false(iana_record_get(n, &x));
        assert_int_equal(reported, 112);
}

/* Every port, every protocol filter: the lookup finds exactly the records a
 * linear pass over the table says cover the port, in the promised order. */
static void test_lookup_matches_scan(void **state) {
        static const char *const protos[] = {NULL, "tcp", "udp", "sctp", "dccp"};
        size_t n = iana_record_count();
        uint32_t *cover = calloc(65537, sizeof *cover);
        struct iana_record r[MAX], x;

        assert_non_null(cover);
        for (size_t k = 0; k < sizeof protos / sizeof protos[0]; k++) {
                memset(cover, 0, 65537 * sizeof *cover);
                for (size_t i = 0; i < n; i++) {
                        assert_true(iana_record_get(i, &x));
                        if (protos[k] && x.protocol[0] && strcmp(x.protocol, protos[k]) != 0)
                                continue;
                        for (uint32_t p = x.port_lo; p <= x.port_hi; p++)
                                cover[p]++;
                }
                for (uint32_t p = 0; p <= 65535; p++) {
                        size_t got = iana_lookup((uint16_t)p, protos[k], r, MAX);

                        if (got != cover[p])
                                fail_msg("port %u/%s: %zu records, expected %u", p,
                                         protos[k] ? protos[k] : "any", got, cover[p]);
                        for (size_t i = 0; i < got; i++) {
                                assert_true(r[i].port_lo <= p && p <= r[i].port_hi);
                                if (i == 0)
                                        continue;
                                int c = strcmp(r[i - 1].protocol, r[i].protocol);
                                assert_true(c < 0 || (c == 0 &&
                                                      strcmp(r[i - 1].service, r[i].service) <= 0));
                        }
                }
        }
        free(cover);
}

static void test_lookup_truncates(void **state) {
        struct iana_record all[MAX], two[2];
        size_t n = iana_lookup(80, NULL, all, MAX);

        assert_true(n > 2);
        assert_int_equal(iana_lookup(80, NULL, two, 2), n);
        assert_int_equal(iana_lookup(80, NULL, NULL, 0), n);
        for (size_t i = 0; i < 2; i++) {
                assert_string_equal(two[i].service, all[i].service);
                assert_string_equal(two[i].protocol, all[i].protocol);
        }
}

static void test_table_invariants(void **state) {
        const struct portdata_iana_rec *t = portdata_iana;
        size_t ranges = 0;
        uint16_t max_hi = 0;

        assert_true(portdata_pool_size > 0);
        assert_int_equal(portdata_pool[0], '\0');
        assert_int_equal(portdata_pool[portdata_pool_size - 1], '\0');
        for (uint32_t i = 0; i < portdata_iana_count; i++) {
                assert_true(t[i].port_lo <= t[i].port_hi);
                assert_true(t[i].protocol < PORTDATA_PROTO_COUNT);
                assert_true(t[i].service < portdata_pool_size);
                assert_true(t[i].detail < portdata_iana_details_count);
                assert_int_equal(!!(t[i].flags & PORTDATA_IANA_ASSIGNED),
                                 portdata_pool[t[i].service] != '\0');
                if (t[i].port_hi > t[i].port_lo)
                        ranges++;
                if (i == 0)
                        continue;
                assert_true(t[i - 1].port_lo < t[i].port_lo ||
                            (t[i - 1].port_lo == t[i].port_lo &&
                             (t[i - 1].protocol < t[i].protocol ||
                              (t[i - 1].protocol == t[i].protocol &&
                               strcmp(portdata_pool + t[i - 1].service,
                                      portdata_pool + t[i].service) <= 0))));
        }
        for (uint32_t i = 0; i < portdata_iana_details_count; i++) {
                const struct portdata_iana_detail *d = &portdata_iana_details[i];
                const uint32_t offsets[] = {
                        d->description,       d->assignee,          d->contact,
                        d->registration_date, d->modification_date, d->reference,
                        d->service_code,      d->unauthorized_use,  d->notes};
                for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++)
                        assert_true(offsets[k] < portdata_pool_size);
        }

        assert_int_equal(portdata_iana_ranges_count, ranges);
        for (uint32_t i = 0; i < portdata_iana_ranges_count; i++) {
                const struct portdata_iana_range *g = &portdata_iana_ranges[i];

                assert_true(g->record < portdata_iana_count);
                assert_int_equal(g->port_lo, t[g->record].port_lo);
                assert_int_equal(g->port_hi, t[g->record].port_hi);
                assert_true(g->port_hi > g->port_lo);
                assert_true(i == 0 || portdata_iana_ranges[i - 1].port_lo <= g->port_lo);
                if (g->port_hi > max_hi)
                        max_hi = g->port_hi;
                assert_int_equal(g->max_hi, max_hi);
        }

        for (uint32_t i = 1; i < portdata_legacy_count; i++)
                assert_true(
                        portdata_legacy[i - 1].port < portdata_legacy[i].port ||
                        (portdata_legacy[i - 1].port == portdata_legacy[i].port &&
                         strcmp(portdata_legacy[i - 1].protocol, portdata_legacy[i].protocol) < 0));
        for (uint32_t i = 1; i < portdata_trojans_count; i++)
                assert_true(portdata_trojans[i - 1].port < portdata_trojans[i].port ||
                            (portdata_trojans[i - 1].port == portdata_trojans[i].port &&
                             strcmp(portdata_trojans[i - 1].protocol,
                                    portdata_trojans[i].protocol) < 0));
}

static void test_legacy(void **state) {
        const struct legacy_entry *l = legacy_lookup(660, "tcp");
        size_t n = 0;

        assert_non_null(l);
        assert_int_equal(l->port, 660);
        assert_string_equal(l->protocol, "tcp");
        assert_string_equal(l->service, "mac-srvr-admin");
        assert_string_equal(l->status, "discontinued");
        assert_true(strlen(l->note) > 20);
        assert_true(strlen(l->source) > 10);

        l = legacy_lookup(660, "udp");
        assert_non_null(l);
        assert_string_equal(l->protocol, "udp");
        l = legacy_lookup(660, NULL);
        assert_non_null(l);
        assert_string_equal(l->protocol, "tcp");

        assert_string_equal(legacy_lookup(548, "tcp")->service, "afpovertcp");
        assert_string_equal(legacy_lookup(1, "tcp")->status, "historic");
        assert_non_null(legacy_lookup(513, "tcp"));
        assert_null(legacy_lookup(513, "udp")); /* 513/udp is who, not rlogin */
        assert_null(legacy_lookup(22, "tcp"));
        assert_null(legacy_lookup(660, "sctp"));
        assert_null(legacy_lookup(65535, NULL));

        /* Every entry names what the registry has there. */
        for (uint32_t p = 0; p <= 65535; p++) {
                static const char *const protos[] = {"tcp", "udp"};
                for (size_t k = 0; k < 2; k++) {
                        struct iana_record r[MAX];
                        size_t m;

                        l = legacy_lookup((uint16_t)p, protos[k]);
                        if (!l)
                                continue;
                        n++;
                        m = iana_lookup((uint16_t)p, protos[k], r, MAX);
                        assert_non_null(find(r, m, l->service, protos[k]));
                }
        }
        assert_true(n >= 30);
}

static void test_trojans(void **state) {
        const struct trojan_entry *t = trojan_lookup(31337, "tcp");

        assert_non_null(t);
        assert_int_equal(t->port, 31337);
        assert_string_equal(t->protocol, "tcp");
        assert_non_null(strstr(t->names, "Back Orifice"));
        assert_false(t->disabled_in_source);

        t = trojan_lookup(31337, "udp");
        assert_non_null(t);
        assert_string_equal(t->protocol, "udp");
        assert_non_null(strstr(t->names, "Back Orifice"));
        assert_string_equal(trojan_lookup(31337, NULL)->protocol, "tcp");

        assert_non_null(strstr(trojan_lookup(12345, "tcp")->names, "NetBus"));
        t = trojan_lookup(135, "tcp");
        assert_non_null(t);
        assert_true(t->disabled_in_source);
        assert_null(trojan_lookup(31337, "sctp"));
        assert_null(trojan_lookup(660, NULL));
}

static void test_meta(void **state) {
        const char *d = portdata_registry_date();

        assert_int_equal(strlen(d), 10);
        assert_true(d[4] == '-' && d[7] == '-');
        assert_true(strcmp(d, "2026-08-17") >= 0);
        assert_non_null(strstr(portdata_trojan_attribution(), "Greenbone Community Feed"));
        assert_non_null(strstr(portdata_trojan_attribution(), "Open Database License (ODbL)"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_services),
                cmocka_unit_test(test_unassigned),
                cmocka_unit_test(test_ranges),
                cmocka_unit_test(test_range_edges),
                cmocka_unit_test(test_unauthorized_use),
                cmocka_unit_test(test_lookup_matches_scan),
                cmocka_unit_test(test_lookup_truncates),
                cmocka_unit_test(test_table_invariants),
                cmocka_unit_test(test_legacy),
                cmocka_unit_test(test_trojans),
                cmocka_unit_test(test_meta),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
