/* fuzz-csv.c — libFuzzer target for the CSV reader (src/modules/ports/csv.c) and the
 * port-data generator's row checks and output (src/modules/ports/gen-portdata.c,
 * included for its static functions).
 *
 * Any input may be rejected, but never with a crash, a leak or undefined
 * behaviour.  Properties checked on what the reader accepts:
 *   - every row has 1..CSV_FIELDS_MAX fields of at most CSV_FIELD_MAX bytes,
 *     NUL-terminated with no NUL inside, and row line numbers increase;
 *   - writing the rows back out with every field quoted, and reading that,
 *     gives the same rows (checked as: the re-encoding re-encodes to itself),
 *     so no input is read two ways.
 * Then the input goes through the whole generator three times, once in each
 * input role, beside small valid samples for the other two; the output goes
 * to /dev/null.  A broken property aborts, which the fuzzer reports as a
 * crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_PORTDATA_NO_MAIN
#include "../../src/modules/ports/gen-portdata.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char iana_sample[] =
        "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration "
        "Date,Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment "
        "Notes\r\n"
        "mac-srvr-admin,660,tcp,MacOS Server Admin,[Forest_Hill],[Forest_Hill],,2024-01-01,,,,\r\n"
        "x11,6000-6063,udp,X Window System,,,,,,,,\"a\nb\"\r\n";
static const char legacy_sample[] = "port,protocol,service,status,note,source\n"
                                    "660,tcp,mac-srvr-admin,discontinued,gone,HT202944\n";
static const char trojan_sample[] = "protocol,port,names,commented_out_in_source\n"
                                    "tcp,31337,Back Orifice,no\n";

/* Appends the rows of (data, size) to out, every field quoted; returns the
 * number of rows read, or -1 if the reader failed. */
static long encode(const char *data, size_t size, FILE *out) {
        struct csv_reader r;
        struct csv_row row;
        unsigned last_line = 0;
        long rows = 0;
        int k;

        csv_reader_init(&r, data, size);
        while ((k = csv_read_row(&r, &row)) > 0) {
                if (row.n_fields < 1 || row.n_fields > CSV_FIELDS_MAX || row.line <= last_line)
                        abort();
                last_line = row.line;
                for (size_t i = 0; i < row.n_fields; i++) {
                        if (row.lengths[i] > CSV_FIELD_MAX ||
                            strlen(row.fields[i]) != row.lengths[i])
                                abort();
                        fputc(i ? ',' : '"', out);
                        if (i)
                                fputc('"', out);
                        for (const char *p = row.fields[i]; *p; p++) {
                                if (*p == '"')
                                        fputc('"', out);
                                fputc(*p, out);
                        }
                        fputc('"', out);
                }
                fputs("\r\n", out);
                rows++;
        }
        if (k < 0 && (r.error.line == 0 || r.error.column == 0 || r.error.message[0] == '\0'))
                abort();
        csv_reader_free(&r);
        return k < 0 ? -1 : rows;
}

static void check_reader(const char *data, size_t size) {
        char *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        FILE *fa = open_memstream(&a, &alen), *fb;
        long rows, again;

        if (!fa)
                return;
        rows = encode(data, size, fa);
        fclose(fa);
        (void)rows;

        /* The rows read before any error, re-encoded, must read back whole. */
        fb = open_memstream(&b, &blen);
        if (!fb) {
                free(a);
                return;
        }
        again = encode(a, alen, fb);
        fclose(fb);
        if (again < 0 || alen != blen || memcmp(a, b, alen) != 0)
                abort();
        free(a);
        free(b);
}

static void check_generator(const char *data, size_t size) {
        static FILE *null;
        const struct gen_input fuzz = {"fuzz.csv", data, size};
        const struct gen_input iana = {"iana.csv", iana_sample, sizeof iana_sample - 1};
        const struct gen_input legacy = {"legacy.csv", legacy_sample, sizeof legacy_sample - 1};
        const struct gen_input trojans = {"trojans.csv", trojan_sample, sizeof trojan_sample - 1};
        struct gen_error e;

        if (!null)
                null = fopen("/dev/null", "we");
        if (!null)
                return;
        (void)gen_tables(&fuzz, &legacy, &trojans, null, &e);
        (void)gen_tables(&iana, &fuzz, &trojans, null, &e);
        (void)gen_tables(&iana, &legacy, &fuzz, null, &e);
        clearerr(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Past a few rows' worth of limits, bigger inputs only repeat what
         * the limits already cover, and slow the fuzzer down. */
        if (size > 1024 * 1024)
                return 0;

        check_reader((const char *)data, size);
        check_generator((const char *)data, size);
        return 0;
}
