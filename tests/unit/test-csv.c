/* test-csv.c — the strict CSV reader (src/modules/ports/csv.c) on tricky inputs, and the
 * port-data generator's checks (src/modules/ports/gen-portdata.c, included so that its
 * static functions can be driven with inputs in memory).
 *
 * Rejections are asserted with their line and column, or the file:line
 * prefix of the generator's message: a malformed data file must say where.
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

#define GEN_PORTDATA_NO_MAIN
#include "../../src/modules/ports/gen-portdata.c"

/* All rows of s, as "a|b|c" lines joined by "\n"; fails the test on error. */
static char *rows_of(const char *s, size_t n) {
        struct csv_reader r;
        struct csv_row row;
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int k;

        assert_non_null(f);
        csv_reader_init(&r, s, n);
        while ((k = csv_read_row(&r, &row)) > 0) {
                fprintf(f, "%u:", row.line);
                for (size_t i = 0; i < row.n_fields; i++) {
                        assert_int_equal(strlen(row.fields[i]), row.lengths[i]);
                        fprintf(f, "%s%s", i ? "|" : "", row.fields[i]);
                }
                fputc('\n', f);
        }
        if (k < 0)
                fail_msg("unexpected error %d at %u:%u: %s", k, r.error.line, r.error.column,
                         r.error.message);
        csv_reader_free(&r);
        fclose(f);
        return out;
}

static void assert_rows(const char *input, const char *want) {
        char *got = rows_of(input, strlen(input));
        assert_string_equal(got, want);
        free(got);
}

/* Reads until the error; checks its code, position and message start. */
static void assert_error_n(const char *input, size_t n, int code, unsigned line, unsigned column,
                           const char *message) {
        struct csv_reader r;
        struct csv_row row;
        int k;

        csv_reader_init(&r, input, n);
        while ((k = csv_read_row(&r, &row)) > 0)
                ;
        if (k == 0)
                fail_msg("no error for \"%.60s\"", input);
        assert_int_equal(k, code);
        assert_int_equal(r.error.line, line);
        assert_int_equal(r.error.column, column);
        if (strncmp(r.error.message, message, strlen(message)) != 0)
                fail_msg("message \"%s\", expected \"%s…\"", r.error.message, message);
        /* Sticky: the reader stays failed. */
        assert_int_equal(csv_read_row(&r, &row), code);
        csv_reader_free(&r);
}

static void assert_error(const char *input, int code, unsigned line, unsigned column,
                         const char *message) {
        assert_error_n(input, strlen(input), code, line, column, message);
}

static void test_basic(void **state) {
        assert_rows("", "");
        assert_rows("a", "1:a\n");
        assert_rows("a,b\r\nc,d\r\n", "1:a|b\n2:c|d\n");
        assert_rows("a,b\nc,d", "1:a|b\n2:c|d\n");
        assert_rows("a,b\r\nc,d", "1:a|b\n2:c|d\n");
        assert_rows(",\n,\n", "1:|\n2:|\n");
        assert_rows("a,\n", "1:a|\n");
        assert_rows("\n", "1:\n");
        assert_rows("x\n\n", "1:x\n2:\n");
        assert_rows(" a , b \n", "1: a | b \n"); /* spaces are data */
}

static void test_quoted(void **state) {
        assert_rows("\"a,b\",c\n", "1:a,b|c\n");
        assert_rows("\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x\n");
        assert_rows("\"\",\"\"\"\"\n", "1:|\"\n");
        assert_rows("\"\"\"\"\"\"\n", "1:\"\"\n");
        /* Quoted line breaks are data and count as lines. */
        assert_rows("\"one\ntwo\",x\r\nnext,y\r\n", "1:one\ntwo|x\n3:next|y\n");
        assert_rows("\"a\r\nb\",c\n", "1:a\r\nb|c\n");
        assert_rows("\"a\rb\",c\n", "1:a\rb|c\n");
        assert_rows("\"last\"", "1:last\n");
        assert_rows("a,\"\"\r\n", "1:a|\n");
        assert_rows("\"\xc3\xa9t\xc3\xa9\",\xf0\x9f\x90\x8d\n",
                    "1:\xc3\xa9t\xc3\xa9|\xf0\x9f\x90\x8d\n");
}

static void test_malformed(void **state) {
        assert_error("ab\"c\n", -EINVAL, 1, 3, "'\"' inside an unquoted field");
        assert_error("x\n\"ab\"c,d\n", -EINVAL, 2, 5, "'c' after a closing quote");
        assert_error("\"ab\" ,d\n", -EINVAL, 1, 5, "' ' after a closing quote");
        assert_error("a,b\n\"open\nstill open", -EINVAL, 2, 1, "quoted field not closed");
        assert_error("a\rb\n", -EINVAL, 1, 2, "CR not followed by LF");
        assert_error("a,b\r", -EINVAL, 1, 4, "CR not followed by LF");
        assert_error_n("a,b\nc\0d,e\n", 10, -EINVAL, 2, 2, "NUL byte");
        assert_error_n("\"a\0\"\n", 5, -EINVAL, 1, 3, "NUL byte");
        assert_error("a\xc0\x80\n", -EINVAL, 1, 2, "invalid UTF-8");        /* overlong */
        assert_error("\xed\xa0\x80\n", -EINVAL, 1, 1, "invalid UTF-8");     /* surrogate */
        assert_error("\xf4\x90\x80\x80\n", -EINVAL, 1, 1, "invalid UTF-8"); /* > U+10FFFF */
        assert_error("ok,\xe2\x82\n", -EINVAL, 1, 4, "invalid UTF-8");      /* truncated */
        assert_error("\x80\n", -EINVAL, 1, 1, "invalid UTF-8");
        assert_error("\xef\xbb\xbf"
                     "a,b\n",
                     -EINVAL, 1, 1, "UTF-8 byte order mark");
        assert_error("a,b\nc\n", -EINVAL, 2, 1, "row has 1 fields, the first row has 2");
        assert_error("a,b\nc,d,e\n", -EINVAL, 2, 1, "row has 3 fields");
        assert_error("a,b\nc,d\n\n", -EINVAL, 3, 1, "row has 1 fields, the first row has 2");
}

static void test_limits(void **state) {
        char *s = malloc(CSV_FIELD_MAX + 16);
        char *many = malloc(CSV_FIELDS_MAX * 2 + 8);
        char *got;
        size_t n;

        assert_non_null(s);
        assert_non_null(many);

        /* Exactly the limit: accepted, quoted or not. */
        memset(s, 'x', CSV_FIELD_MAX);
        s[CSV_FIELD_MAX] = '\0';
        got = rows_of(s, CSV_FIELD_MAX);
        assert_int_equal(strlen(got), CSV_FIELD_MAX + 3);
        free(got);
        s[0] = '"';
        memset(s + 1, '"', 2); /* a doubled quote counts as one byte */
        memset(s + 3, 'x', CSV_FIELD_MAX - 1);
        s[CSV_FIELD_MAX + 2] = '"';
        got = rows_of(s, CSV_FIELD_MAX + 3);
        assert_int_equal(strlen(got), CSV_FIELD_MAX + 3);
        assert_int_equal(got[2], '"');
        free(got);

        /* One more: refused at the field's start. */
        memset(s, 'x', CSV_FIELD_MAX + 1);
        s[CSV_FIELD_MAX + 1] = '\n';
        assert_error_n(s, CSV_FIELD_MAX + 2, -E2BIG, 1, 1, "field longer than 8192 bytes");
        s[0] = 'a';
        s[1] = ',';
        s[2] = '"';
        memset(s + 3, 'y', CSV_FIELD_MAX + 1);
        assert_error_n(s, CSV_FIELD_MAX + 4, -E2BIG, 1, 3, "field longer than");

        /* 64 fields are fine, 65 are not. */
        n = 0;
        for (unsigned i = 0; i < CSV_FIELDS_MAX; i++) {
                many[n++] = 'f';
                many[n++] = ',';
        }
        many[n - 1] = '\n';
        got = rows_of(many, n);
        free(got);
        many[n - 1] = ',';
        many[n++] = 'g';
        many[n++] = '\n';
        assert_error_n(many, n, -E2BIG, 1, 129, "more than 64 fields");

        free(s);
        free(many);
}

/* ---- the generator ------------------------------------------------------ */

#define IANA_HEADER                                                                                \
        "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration "   \
        "Date,Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment "      \
        "Notes\r\n"
#define IANA_ROWS                                                                                  \
        ",0,tcp,Reserved,,,,2024-12-20,[RFC6335],,,\r\n"                                           \
        "mac-srvr-admin,660,tcp,MacOS Server Admin,[Forest_Hill],[Forest_Hill],,,,,,\r\n"          \
        "mac-srvr-admin,660,udp,MacOS Server Admin,[Forest_Hill],[Forest_Hill],,,,,,\r\n"          \
        "x11,6000-6063,tcp,X Window System,[Stephen_Gildea],[Stephen_Gildea],,,,,,\"Used for\n"    \
        "Remote Display ?\?=\"\r\n"                                                                \
        "esp,,tcp,Extensis Server Protocol,[Loren_Barr],[Loren_Barr],2006-12,,,,,\r\n"
#define LEGACY                                                                                     \
        "port,protocol,service,status,note,source\n"                                               \
        "660,udp,mac-srvr-admin,discontinued,\"Gone, says \"\"Apple\"\"\",HT202944\n"              \
        "660,tcp,mac-srvr-admin,discontinued,Gone,HT202944\n"
#define TROJANS                                                                                    \
        "protocol,port,names,commented_out_in_source\n"                                            \
        "udp,31337,Back Orifice; Deep BO,no\n"                                                     \
        "tcp,135,W32.Blaster.Worm,yes\n"

/* Runs the generator; returns its output (or NULL and the error in e). */
static char *generate(const char *iana, const char *legacy, const char *trojans,
                      struct gen_error *e) {
        const struct gen_input in[3] = {
                {"iana.csv", iana, strlen(iana)},
                {"legacy.csv", legacy, strlen(legacy)},
                {"trojans.csv", trojans, strlen(trojans)},
        };
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int r;

        assert_non_null(f);
        r = gen_tables(&in[0], &in[1], &in[2], f, e);
        fclose(f);
        if (r < 0) {
                free(out);
                return NULL;
        }
        return out;
}

static void assert_gen_error(const char *iana, const char *legacy, const char *trojans,
                             const char *message) {
        struct gen_error e = {};
        char *out = generate(iana, legacy, trojans, &e);

        if (out)
                fail_msg("no error, expected \"%s\"", message);
        if (strncmp(e.message, message, strlen(message)) != 0)
                fail_msg("message \"%s\", expected \"%s…\"", e.message, message);
}

static void test_generator_output(void **state) {
        struct gen_error e = {};
        char *out = generate(IANA_HEADER IANA_ROWS, LEGACY, TROJANS, &e);

        if (!out)
                fail_msg("%s", e.message);
        /* Sorted records, the range index, escapes that survive a C compiler. */
        assert_non_null(strstr(out, "portdata_iana_count = 4;"));
        assert_non_null(strstr(out, "(5 rows)"));
        assert_non_null(strstr(out, "portdata_iana_ranges_count = 1;"));
        assert_non_null(strstr(out, "\"Used for\\nRemote Display \\?\\?=\\0\""));
        assert_non_null(strstr(out, "\"Gone, says \\\"Apple\\\"\\0\""));
        assert_non_null(strstr(out, "portdata_legacy_count = 2;"));
        assert_non_null(strstr(out, "portdata_trojans_count = 2;"));
        assert_non_null(strstr(out, "portdata_registry_date_text[] = \"2024-12-20\";"));
        /* tcp sorts before udp whatever the input order. */
        assert_non_null(strstr(out, "{135, S("));
        assert_true(strstr(out, "{135, S(") < strstr(out, "{31337, S("));
        free(out);

        /* Header-only lists are empty tables, not errors. */
        out = generate(IANA_HEADER IANA_ROWS, "port,protocol,service,status,note,source\n",
                       "protocol,port,names,commented_out_in_source\n", &e);
        if (!out)
                fail_msg("%s", e.message);
        assert_non_null(strstr(out, "portdata_legacy_count = 0;"));
        assert_non_null(strstr(out, "portdata_trojans_count = 0;"));
        free(out);
}

static void test_generator_rejects(void **state) {
        assert_gen_error(IANA_HEADER "x,70000,tcp,X,,,,2024-01-01,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: Port Number \"70000\" out of range (0-65535)");
        assert_gen_error(IANA_HEADER IANA_ROWS "x,5-3,tcp,X,,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:8: Port Number \"5-3\" is a range whose start is above its end");
        assert_gen_error(IANA_HEADER "x,080,tcp,X,,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: Port Number \"080\" is not a port number");
        assert_gen_error(IANA_HEADER "x,-1,tcp,X,,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: Port Number \"-1\" is not a port number");
        assert_gen_error(IANA_HEADER "x,1-2-3,tcp,X,,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: Port Number \"1-2-3\" is not a port number");
        assert_gen_error(IANA_HEADER "x,7,icmp,X,,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: Transport Protocol \"icmp\" is not tcp");
        assert_gen_error(IANA_HEADER "x,7,tcp,X,,,2020-13-01,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: Registration Date \"2020-13-01\" is not YYYY-MM");
        assert_gen_error("Service Name,Port\r\nx,1\r\n", LEGACY, TROJANS,
                         "iana.csv:1: header has 2 columns, expected 12");
        assert_gen_error(IANA_HEADER "x,7,tcp,X,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv:2: column 1: row has 11 fields, the first row has 12");
        assert_gen_error(IANA_HEADER "x,7,tcp,\"X\n", LEGACY, TROJANS,
                         "iana.csv:2: column 9: quoted field not closed");
        assert_gen_error("", LEGACY, TROJANS, "iana.csv: empty file");
        assert_gen_error(IANA_HEADER "x,7,tcp,X,,,,,,,,\r\n", LEGACY, TROJANS,
                         "iana.csv: no row has a registration or modification date");

        assert_gen_error(IANA_HEADER IANA_ROWS,
                         "port,protocol,service,status,note,source\n660,tcp,x,historic,n,s\n",
                         TROJANS, "legacy.csv:2: the registry has no service \"x\" on port 660");
        assert_gen_error(IANA_HEADER IANA_ROWS, LEGACY "660,tcp,mac-srvr-admin,historic,n,s\n",
                         TROJANS, "legacy.csv:4: port 660 repeats line 3");
        assert_gen_error(
                IANA_HEADER IANA_ROWS,
                "port,protocol,service,status,note,source\n660,tcp,mac-srvr-admin,old,n,s\n",
                TROJANS, "legacy.csv:2: status \"old\" is not historic");
        assert_gen_error(
                IANA_HEADER IANA_ROWS,
                "port,protocol,service,status,note,source\n660,,mac-srvr-admin,historic,n,s\n",
                TROJANS, "legacy.csv:2: protocol \"\" is not tcp");
        assert_gen_error(
                IANA_HEADER IANA_ROWS,
                "port,protocol,service,status,note,source\n660,tcp,mac-srvr-admin,historic,,s\n",
                TROJANS, "legacy.csv:2: note is empty");
        assert_gen_error(
                IANA_HEADER IANA_ROWS,
                "port,protocol,service,status,note,source\n6000-6001,tcp,x11,historic,n,s\n",
                TROJANS, "legacy.csv:2: port \"6000-6001\" is not a port number");

        assert_gen_error(IANA_HEADER IANA_ROWS, LEGACY, TROJANS "tcp,31337,x,maybe\n",
                         "trojans.csv:4: commented_out_in_source \"maybe\" is not yes or no");
        assert_gen_error(IANA_HEADER IANA_ROWS, LEGACY, TROJANS "udp,31337,again,no\n",
                         "trojans.csv:4: port 31337 repeats line 2");
        assert_gen_error(IANA_HEADER IANA_ROWS, LEGACY, TROJANS "tcp,65536,x,no\n",
                         "trojans.csv:4: port \"65536\" out of range (0-65535)");
        assert_gen_error(IANA_HEADER IANA_ROWS, LEGACY, "protocol,port,names\ntcp,1,x\n",
                         "trojans.csv:1: header has 3 columns, expected 4");
}

/* More records on one port than the lookup's stack array may hold. */
static void test_generator_cover_limit(void **state) {
        char *iana = malloc(64 * 64 + sizeof IANA_HEADER);
        size_t n = 0;

        assert_non_null(iana);
        n += (size_t)snprintf(iana, 1024, "%s", IANA_HEADER);
        for (int i = 0; i <= PORTDATA_MAX_COVER; i++)
                n += (size_t)snprintf(iana + n, 64, "s%d,7,tcp,X,,,,2024-01-01,,,,\r\n", i);
        assert_gen_error(iana, LEGACY, TROJANS, "iana.csv: port 7 is covered by 33 records");
        free(iana);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic),
                cmocka_unit_test(test_quoted),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_generator_output),
                cmocka_unit_test(test_generator_rejects),
                cmocka_unit_test(test_generator_cover_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
