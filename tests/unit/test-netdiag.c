/* test-netdiag.c — the network module's pure parts: resolv.conf's parser,
 * the DNS query builder and answer decoder, and the host and name
 * grammars.
 *
 * DNS answers are built here byte by byte (a small writer with name
 * compression by hand), so that each case says exactly what a server sent:
 * typed records, escapes in text, and the malformed messages a hostile
 * server could send (pointer loops, lengths past the end, an rdlength that
 * disagrees with the name inside it).
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

#include "modules/network/dnswire.h"
#include "modules/network/network.h"
#include "modules/network/probe.h"
#include "util.h"

/* ---- resolv.conf ----------------------------------------------------------------------- */

static json_t *parse(const char *text) {
        json_t *j = resolv_conf_parse(text, strlen(text), "/etc/resolv.conf");
        assert_non_null(j);
        return j;
}

static void assert_json(json_t *j, const char *expected) {
        json_error_t e;
        json_t *want = json_loads(expected, 0, &e);
        char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_non_null(want);
        if (!json_equal(j, want))
                fail_msg("got %s, want %s", got, expected);
        free(got);
        json_decref(want);
}

static void test_resolv_conf(void **state) {
        (void)state;
        json_t *j = parse("# comment\n"
                          "; another\n"
                          "nameserver 192.0.2.53\n"
                          "nameserver   2001:db8::53 # trailing\n"
                          "nameserver fe80::1%eth0\n"
                          "nameserver not-an-address\n"
                          "domain old.example\n"
                          "search a.example b.example\n"
                          "options ndots:2 timeout:1\n"
                          "options rotate\n"
                          "sortlist 10.0.0.0\n");
        assert_json(json_object_get(j, "servers"),
                    "[\"192.0.2.53\", \"2001:db8::53\", \"fe80::1%eth0\"]");
        assert_json(json_object_get(j, "search"), "[\"a.example\", \"b.example\"]");
        assert_json(json_object_get(j, "options"), "[\"ndots:2\", \"timeout:1\", \"rotate\"]");
        assert_false(json_is_true(json_object_get(j, "resolved")));
        assert_string_equal(json_string_value(json_object_get(j, "source")), "/etc/resolv.conf");
        json_decref(j);

        /* the last search or domain wins; domain takes one name */
        j = parse("search a.example\ndomain one.example two.example\n");
        assert_json(json_object_get(j, "search"), "[\"one.example\"]");
        json_decref(j);

        /* systemd-resolved's stub */
        j = parse("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n");
        assert_true(json_is_true(json_object_get(j, "resolved")));
        json_decref(j);

        /* empty, no final newline, CRLF, control bytes and a NUL */
        j = parse("");
        assert_json(j, "{\"source\": \"/etc/resolv.conf\", \"servers\": [], \"search\": [], "
                       "\"options\": [], \"resolved\": false}");
        json_decref(j);
        j = parse("nameserver 192.0.2.1\r\nsearch x\001y ok.example");
        assert_json(json_object_get(j, "servers"), "[\"192.0.2.1\"]");
        assert_json(json_object_get(j, "search"), "[\"ok.example\"]");
        json_decref(j);
        static const char nul[] = "nameserver 192.0.2.1\0x\nnameserver 192.0.2.2\n";
        j = resolv_conf_parse(nul, sizeof nul - 1, "f");
        assert_json(json_object_get(j, "servers"), "[\"192.0.2.2\"]");
        json_decref(j);

        /* bounded: at most 16 servers */
        struct buf b;
        buf_init(&b, 1 << 16);
        for (int i = 0; i < 40; i++)
                assert_true(buf_printf(&b, "nameserver 192.0.2.%d\n", i) >= 0);
        j = parse(b.data);
        assert_int_equal(json_array_size(json_object_get(j, "servers")), 16);
        json_decref(j);
        buf_free(&b);
}

/* ---- grammars ---------------------------------------------------------------------------- */

static void test_host_grammar(void **state) {
        (void)state;
        static const char *const good[] = {
                "example.org", "example.org.", "a",   "a-b.c",
                "192.0.2.1",   "2001:db8::1",  "::1", "xn--bcher-kva.example",
                "0.example",
        };
        static const char *const bad[] = {
                "",     ".",           "-x.example",       "x-.example", "a..b",         ".a",
                "a b",  "a_b.example", "-oProxyCommand=x", "x;y",        "192.0.2.1/24", "[::1]",
                "a\nb", "é.example",   "2001:db8::1%eth0",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!probe_host_valid(good[i]))
                        fail_msg("refused %s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (probe_host_valid(bad[i]))
                        fail_msg("took %s", bad[i]);
        char label[80], name[300];
        memset(label, 'a', 63), label[63] = '\0';
        assert_true(probe_host_valid(label));
        memset(label, 'a', 64), label[64] = '\0';
        assert_false(probe_host_valid(label));
        /* 253 bytes in all, 254 with the root's dot; not 254 without it */
        memset(name, 'a', 253), name[253] = '\0';
        for (int i = 50; i < 253; i += 51)
                name[i] = '.';
        assert_true(probe_host_valid(name));
        name[253] = '.', name[254] = '\0';
        assert_true(probe_host_valid(name));
        name[253] = 'a';
        assert_false(probe_host_valid(name));
}

static void test_name_grammar(void **state) {
        (void)state;
        assert_true(lookup_name_valid("_sip._tcp.example.org"));
        assert_true(lookup_name_valid("_dmarc.example.org."));
        assert_true(lookup_name_valid("."));
        assert_true(lookup_name_valid("2001:db8::1"));
        assert_true(lookup_name_valid("192.0.2.1"));
        assert_false(lookup_name_valid("-_x.example"));
        assert_false(lookup_name_valid("a..b"));
        assert_false(lookup_name_valid("a b"));
        assert_false(lookup_name_valid("a*.example"));
        assert_false(lookup_name_valid(".."));
        assert_false(lookup_name_valid(""));
}

/* ---- DNS --------------------------------------------------------------------------------- */

struct w {
        uint8_t b[1024];
        size_t n;
};

static void put(struct w *w, const void *p, size_t n) {
        assert_true(w->n + n <= sizeof w->b);
        memcpy(w->b + w->n, p, n);
        w->n += n;
}
static void u8(struct w *w, unsigned v) {
        uint8_t c = (uint8_t)v;
        put(w, &c, 1);
}
static void u16(struct w *w, unsigned v) {
        u8(w, v >> 8), u8(w, v & 0xff);
}
static void u32(struct w *w, uint32_t v) {
        u16(w, v >> 16), u16(w, v & 0xffff);
}
/* "www.example" as labels, then a final 0 (or a pointer when ptr > 0). */
static void name(struct w *w, const char *s, unsigned ptr) {
        while (*s) {
                const char *dot = strchr(s, '.');
                size_t l = dot ? (size_t)(dot - s) : strlen(s);
                u8(w, (unsigned)l);
                put(w, s, l);
                s += l + (dot ? 1 : 0);
        }
        if (ptr)
                u16(w, 0xc000 | ptr);
        else
                u8(w, 0);
}
/* A header and one question for qname/qtype; the question's name is at 12. */
static void head(struct w *w, unsigned rcode, unsigned an, unsigned ns, const char *q,
                 unsigned qtype) {
        w->n = 0;
        u16(w, 0x1234), u8(w, 0x85), u8(w, 0x80 | rcode);
        u16(w, 1), u16(w, an), u16(w, ns), u16(w, 0);
        name(w, q, 0);
        u16(w, qtype), u16(w, 1);
}
/* A record's fixed part with a pointer to the question's name. */
static void rr(struct w *w, unsigned type, uint32_t ttl, unsigned rdlen) {
        u16(w, 0xc00c), u16(w, type), u16(w, 1), u32(w, ttl), u16(w, rdlen);
}

static json_t *decode_ok(struct w *w) {
        json_t *j = NULL;
        /* exactly the message's bytes, so that ASan sees a read past it */
        uint8_t *copy = malloc(w->n);
        assert_non_null(copy);
        memcpy(copy, w->b, w->n);
        int r = dns_answer_decode(copy, w->n, &j);
        free(copy);
        assert_int_equal(r, 0);
        return j;
}

static json_t *answer(json_t *j, size_t i) {
        return json_array_get(json_object_get(j, "answers"), i);
}

static const char *str(json_t *o, const char *k) {
        const char *s = json_string_value(json_object_get(o, k));
        assert_non_null(s);
        return s;
}

static void test_decode_typed(void **state) {
        struct w w;
        json_t *j, *a;
        (void)state;

        head(&w, 0, 6, 1, "example.org", 255);
        rr(&w, 1, 300, 4), u32(&w, 0xc0000201);
        rr(&w, 28, 60, 16), put(&w, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
        rr(&w, 15, 300, 2 + 7), u16(&w, 10), name(&w, "mail", 12);
        rr(&w, 33, 300, 6 + 4), u16(&w, 1), u16(&w, 2), u16(&w, 5060), name(&w, "s", 12);
        rr(&w, 257, 300, 2 + 5 + 11), u8(&w, 128), u8(&w, 5), put(&w, "issue", 5),
                put(&w, "ca.example.", 11);
        rr(&w, 16, 300, 1 + 8 + 1 + 4), u8(&w, 8), put(&w, "a \"q\" \\b", 8), u8(&w, 4),
                put(&w, "\x01\x7f\xffz", 4);
        rr(&w, 6, 3600, 5 + 4 + 20), name(&w, "ns", 12), name(&w, "h", 12);
        u32(&w, 2026120401), u32(&w, 1200), u32(&w, 180), u32(&w, 1209600), u32(&w, 300);

        j = decode_ok(&w);
        assert_string_equal(str(j, "rcode"), "NOERROR");
        assert_true(json_is_true(json_object_get(json_object_get(j, "flags"), "aa")));
        assert_int_equal(json_array_size(json_object_get(j, "answers")), 6);
        a = answer(j, 0);
        assert_string_equal(str(a, "name"), "example.org.");
        assert_string_equal(str(a, "type"), "A");
        assert_int_equal(json_integer_value(json_object_get(a, "ttl")), 300);
        assert_string_equal(str(a, "data"), "192.0.2.1");
        assert_string_equal(str(answer(j, 1), "data"), "2001:db8::1");
        a = answer(j, 2);
        assert_string_equal(str(a, "data"), "10 mail.example.org.");
        assert_int_equal(json_integer_value(json_object_get(a, "preference")), 10);
        assert_string_equal(str(a, "exchange"), "mail.example.org.");
        a = answer(j, 3);
        assert_string_equal(str(a, "data"), "1 2 5060 s.example.org.");
        assert_int_equal(json_integer_value(json_object_get(a, "port")), 5060);
        a = answer(j, 4);
        assert_string_equal(str(a, "data"), "128 issue \"ca.example.\"");
        assert_string_equal(str(a, "tag"), "issue");
        assert_string_equal(str(a, "value"), "ca.example.");
        assert_int_equal(json_integer_value(json_object_get(a, "flags")), 128);
        a = answer(j, 5);
        assert_string_equal(str(a, "data"), "\"a \\\"q\\\" \\\\b\" \"\\001\\127\\255z\"");
        assert_string_equal(json_string_value(json_array_get(json_object_get(a, "strings"), 0)),
                            "a \\\"q\\\" \\\\b");
        a = json_array_get(json_object_get(j, "authority"), 0);
        assert_string_equal(str(a, "type"), "SOA");
        assert_string_equal(str(a, "data"),
                            "ns.example.org. h.example.org. 2026120401 1200 180 1209600 300");
        assert_int_equal(json_integer_value(json_object_get(a, "expire")), 1209600);
        json_decref(j);
}

static void test_decode_other(void **state) {
        struct w w;
        json_t *j;
        (void)state;

        /* NXDOMAIN, no records; an unknown type in RFC 3597's form */
        head(&w, 3, 0, 0, "nothere.example", 1);
        j = decode_ok(&w);
        assert_string_equal(str(j, "rcode"), "NXDOMAIN");
        assert_int_equal(json_array_size(json_object_get(j, "answers")), 0);
        json_decref(j);
        head(&w, 12, 1, 0, "x", 99);
        rr(&w, 99, 1, 3), put(&w, "\x0a\x00\x01", 3);
        j = decode_ok(&w);
        assert_string_equal(str(j, "rcode"), "RCODE12");
        assert_string_equal(str(answer(j, 0), "type"), "TYPE99");
        assert_string_equal(str(answer(j, 0), "data"), "\\# 3 0a0001");
        json_decref(j);
        /* a dot and a quote inside a label are escaped, as dig does */
        head(&w, 0, 1, 0, "x", 5);
        rr(&w, 5, 1, 6), u8(&w, 4), put(&w, "a.\"b", 4), u8(&w, 0);
        j = decode_ok(&w);
        assert_string_equal(str(answer(j, 0), "data"), "a\\.\\\"b.");
        json_decref(j);
        /* a CAA tag of 255 bytes that all need escapes (found by the fuzzer) */
        head(&w, 0, 1, 0, "x", 257);
        rr(&w, 257, 1, 2 + 255 + 1), u8(&w, 0), u8(&w, 255);
        for (int i = 0; i < 255; i++)
                u8(&w, 0xff);
        u8(&w, 'v');
        j = decode_ok(&w);
        assert_int_equal(strlen(str(answer(j, 0), "tag")), 4 * 255);
        json_decref(j);
        /* the root */
        head(&w, 0, 1, 0, "x", 2);
        rr(&w, 2, 1, 1), u8(&w, 0);
        j = decode_ok(&w);
        assert_string_equal(str(answer(j, 0), "data"), ".");
        json_decref(j);
}

#define decode_bad(w) decode_bad_at(w, __LINE__)
static void decode_bad_at(struct w *w, int line) {
        json_t *j = NULL;
        uint8_t *copy = malloc(w->n ? w->n : 1);
        assert_non_null(copy);
        memcpy(copy, w->b, w->n);
        int r = dns_answer_decode(copy, w->n, &j);
        free(copy);
        if (r != -EBADMSG) {
                char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
                fail_msg("line %d: %d %s", line, r, s ? s : "");
        }
        assert_null(j);
}

static void test_decode_malformed(void **state) {
        struct w w;
        (void)state;

        w.n = 11; /* shorter than a header */
        memset(w.b, 0, 11);
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 1); /* a record announced, none there */
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 1);
        rr(&w, 1, 1, 4), put(&w, "\x01\x02", 2); /* rdlength past the end */
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 1);
        rr(&w, 1, 1, 3), put(&w, "\x01\x02\x03", 3); /* an A of 3 bytes */
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 15);
        rr(&w, 15, 1, 2 + 2), u16(&w, 1), name(&w, "m", 0); /* the name overruns rdlength */
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 5); /* a pointer to itself */
        size_t at = w.n + 12;
        rr(&w, 5, 1, 2), u16(&w, 0xc000 | (unsigned)at);
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 16); /* a TXT string longer than its record */
        rr(&w, 16, 1, 3), u8(&w, 5), put(&w, "ab", 2);
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 257); /* a CAA without a tag */
        rr(&w, 257, 1, 2), u8(&w, 0), u8(&w, 0);
        decode_bad(&w);
        head(&w, 0, 1, 0, "x", 6); /* a SOA cut short */
        rr(&w, 6, 1, 2 + 2 + 4), name(&w, "", 12), name(&w, "", 12), u32(&w, 1);
        decode_bad(&w);
}

static void test_query_build(void **state) {
        uint8_t q[600];
        size_t n;
        (void)state;

        assert_int_equal(dns_query_build(0xabcd, "www.example.org.", 28, q, sizeof q, &n), 0);
        static const uint8_t want[] = {
                0xab,
                0xcd,
                0x01,
                0x00,
                0,
                1,
                0,
                0,
                0,
                0,
                0,
                1, /* header */
                3,
                'w',
                'w',
                'w',
                7,
                'e',
                'x',
                'a',
                'm',
                'p',
                'l',
                'e',
                3,
                'o',
                'r',
                'g',
                0,
                0,
                28,
                0,
                1, /* AAAA IN */
                0,
                0,
                41,
                DNS_UDP_SIZE >> 8,
                DNS_UDP_SIZE & 0xff,
                0,
                0,
                0,
                0,
                0,
                0, /* OPT */
        };
        assert_int_equal(n, sizeof want);
        assert_memory_equal(q, want, sizeof want);
        /* without the final dot, the same; the root alone */
        uint8_t q2[600];
        size_t n2;
        assert_int_equal(dns_query_build(0xabcd, "www.example.org", 28, q2, sizeof q2, &n2), 0);
        assert_int_equal(n2, n);
        assert_memory_equal(q2, q, n);
        assert_int_equal(dns_query_build(1, ".", 2, q, sizeof q, &n), 0);
        assert_int_equal(n, 12 + 1 + 4 + 11);
        assert_int_equal(dns_query_build(1, "a..b", 1, q, sizeof q, &n), -EINVAL);
        assert_int_equal(dns_query_build(1, "x", 1, q, 20, &n), -ENOBUFS);
        /* the decoder reads the query as a message with no answers */
        json_t *j = NULL;
        assert_int_equal(dns_answer_decode(q2, n2, &j), 0);
        json_decref(j);
        assert_int_equal(dns_type_from_name("CAA"), 257);
        assert_int_equal(dns_type_from_name("AXFR"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolv_conf),  cmocka_unit_test(test_host_grammar),
                cmocka_unit_test(test_name_grammar), cmocka_unit_test(test_decode_typed),
                cmocka_unit_test(test_decode_other), cmocka_unit_test(test_decode_malformed),
                cmocka_unit_test(test_query_build),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
