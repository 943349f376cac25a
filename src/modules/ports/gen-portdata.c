/* gen-portdata.c — turns the port data in data/ into C tables at build time.
 *
 *   gen-portdata --iana FILE --legacy FILE --trojans FILE --output FILE
 *   gen-portdata --summary FILE   (checks an IANA CSV; prints rows, ports, date)
 *   gen-portdata --list FILE      (checks an IANA CSV; prints one line a record)
 *
 * Inputs: IANA's service-names-port-numbers.csv (its own twelve columns),
 * data/ports/legacy.csv (port,protocol,service,status,note,source) and the
 * trojan list (protocol,port,names,commented_out_in_source).  Output: one C
 * file in the layout of src/modules/ports/portdata-table.h, which documents
 * the invariants established here.  The output is a pure function of the
 * inputs (no dates, no paths), so builds are reproducible.
 *
 * Validation is strict and stops at the first problem, naming the file, the
 * line and the field: the CSV grammar and limits are csv.c's; here, the
 * header must be the expected one, ports are 0-65535 without sign, spaces or
 * leading zeros, a range "a-b" needs a <= b, the protocol is tcp, udp, sctp,
 * dccp or (in the registry only) empty, dates are YYYY-MM or YYYY-MM-DD.
 * Registry rows without a port (service names only) are skipped.  Every
 * legacy row must name the service IANA registers for that port and
 * protocol, so a registry update that changes one cannot go unnoticed.
 *
 * Ownership: struct tables owns everything it points to (tables_free());
 * strings live once each in its pool.  Nothing here logs: functions fill a
 * struct gen_error and main() prints it.  The row parsers and gen_tables()
 * are also compiled into the unit tests and the fuzz target, which define
 * GEN_PORTDATA_NO_MAIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "portdata-table.h"

#define INPUT_MAX (32u << 20) /* bytes in one input file */
#define ROWS_MAX  200000u     /* rows in one input file */
#define POOL_MAX  (64u << 20) /* bytes of strings in all */

#ifndef ELEMENTSOF
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct gen_error {
        char message[512];
};

static int gen_fail(struct gen_error *e, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int gen_fail(struct gen_error *e, const char *file, unsigned line, const char *fmt, ...) {
        va_list ap;
        int n;

        if (line > 0)
                n = snprintf(e->message, sizeof e->message, "%s:%u: ", file, line);
        else
                n = snprintf(e->message, sizeof e->message, "%s: ", file);
        if (n < 0 || (size_t)n >= sizeof e->message)
                n = 0;
        va_start(ap, fmt);
        vsnprintf(e->message + n, sizeof e->message - (size_t)n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* ---- the string pool ------------------------------------------------- */

/* Concatenated NUL-terminated strings, offset 0 being "", with an open
 * addressing index (slot = offset + 1, 0 = free) for deduplication. */
struct pool {
        char *data;
        size_t len, cap;
        uint32_t *slots;
        size_t nslots, count;
};

static uint32_t hash_bytes(const void *p, size_t n) {
        const unsigned char *b = p;
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= 16777619u;
        }
        return h;
}

static void pool_free(struct pool *p) {
        free(p->data);
        free(p->slots);
        *p = (struct pool){};
}

static void pool_index(struct pool *p, uint32_t offset) {
        size_t n = strlen(p->data + offset);
        size_t i = hash_bytes(p->data + offset, n) & (p->nslots - 1);

        while (p->slots[i] != 0)
                i = (i + 1) & (p->nslots - 1);
        p->slots[i] = offset + 1;
}

static int pool_grow_index(struct pool *p) {
        size_t nslots = p->nslots ? p->nslots * 2 : 4096;
        uint32_t *old = p->slots;
        size_t old_n = p->nslots;

        p->slots = calloc(nslots, sizeof *p->slots);
        if (!p->slots) {
                p->slots = old;
                return -ENOMEM;
        }
        p->nslots = nslots;
        for (size_t i = 0; i < old_n; i++)
                if (old[i] != 0)
                        pool_index(p, old[i] - 1);
        free(old);
        return 0;
}

/* The offset of s (n bytes, no NUL inside) in the pool, adding it if new. */
static int pool_add(struct pool *p, const char *s, size_t n, uint32_t *ret) {
        size_t i;

        if (n == 0 && p->len > 0) {
                *ret = 0;
                return 0;
        }
        if (p->nslots == 0 || (p->count + 1) * 2 > p->nslots) {
                int r = pool_grow_index(p);
                if (r < 0)
                        return r;
        }
        for (i = hash_bytes(s, n) & (p->nslots - 1); p->slots[i] != 0;
             i = (i + 1) & (p->nslots - 1)) {
                uint32_t off = p->slots[i] - 1;
                if (memcmp(p->data + off, s, n) == 0 && p->data[off + n] == '\0') {
                        *ret = off;
                        return 0;
                }
        }
        if (n + 1 > POOL_MAX - p->len)
                return -E2BIG;
        if (p->len + n + 1 > p->cap) {
                size_t cap = p->cap ? p->cap : 65536;
                char *d;

                while (cap < p->len + n + 1)
                        cap *= 2;
                d = realloc(p->data, cap);
                if (!d)
                        return -ENOMEM;
                p->data = d;
                p->cap = cap;
        }
        memcpy(p->data + p->len, s, n);
        p->data[p->len + n] = '\0';
        p->slots[i] = (uint32_t)p->len + 1;
        *ret = (uint32_t)p->len;
        p->len += n + 1;
        p->count++;
        return 0;
}

static const char *pool_str(const struct pool *p, uint32_t offset) {
        return p->data + offset;
}

/* ---- field checks ---------------------------------------------------- */

/* A port: 1-5 digits, no sign, no leading zero, at most 65535. */
static int parse_port(const char *s, size_t n, uint16_t *ret) {
        unsigned v = 0;

        if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v > 65535)
                return -ERANGE;
        *ret = (uint16_t)v;
        return 0;
}

/* "N" or "A-B" with A <= B. */
static int parse_port_range(const char *s, size_t n, uint16_t *ret_lo, uint16_t *ret_hi) {
        const char *dash = memchr(s, '-', n);
        uint16_t lo, hi;
        int r;

        if (!dash) {
                r = parse_port(s, n, &lo);
                hi = lo;
        } else {
                r = parse_port(s, (size_t)(dash - s), &lo);
                if (r >= 0)
                        r = parse_port(dash + 1, n - (size_t)(dash - s) - 1, &hi);
                if (r >= 0 && lo > hi)
                        r = -EDOM;
        }
        if (r < 0)
                return r;
        *ret_lo = lo;
        *ret_hi = hi;
        return 0;
}

static const char *port_problem(int r) {
        return r == -ERANGE ? "out of range (0-65535)"
               : r == -EDOM ? "is a range whose start is above its end"
                            : "is not a port number or a range \"a-b\"";
}

/* The protocol's number; "" only where allow_none. */
static int parse_protocol(const char *s, bool allow_none) {
        static const char *const names[PORTDATA_PROTO_COUNT] = {
                [PORTDATA_PROTO_NONE] = "",     [PORTDATA_PROTO_DCCP] = "dccp",
                [PORTDATA_PROTO_SCTP] = "sctp", [PORTDATA_PROTO_TCP] = "tcp",
                [PORTDATA_PROTO_UDP] = "udp",
        };

        for (int i = allow_none ? 0 : 1; i < PORTDATA_PROTO_COUNT; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -EINVAL;
}

static bool two_digits(const char *s, unsigned lo, unsigned hi) {
        unsigned v;

        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return false;
        v = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
        return v >= lo && v <= hi;
}

/* YYYY-MM or YYYY-MM-DD. */
static bool valid_date(const char *s, size_t n) {
        if (n != 7 && n != 10)
                return false;
        for (size_t i = 0; i < 4; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        if (s[4] != '-' || !two_digits(s + 5, 1, 12))
                return false;
        return n == 7 || (s[7] == '-' && two_digits(s + 8, 1, 31));
}

static int check_header(const char *file, const struct csv_row *row, const char *const *columns,
                        size_t n, struct gen_error *e) {
        if (row->n_fields != n)
                return gen_fail(e, file, row->line, "header has %zu columns, expected %zu",
                                row->n_fields, n);
        for (size_t i = 0; i < n; i++)
                if (strcmp(row->fields[i], columns[i]) != 0)
                        return gen_fail(e, file, row->line,
                                        "header column %zu is \"%.64s\", expected \"%s\"", i + 1,
                                        row->fields[i], columns[i]);
        return 0;
}

/* ---- the tables ------------------------------------------------------ */

enum {
        D_DESCRIPTION,
        D_ASSIGNEE,
        D_CONTACT,
        D_REGISTERED,
        D_MODIFIED,
        D_REFERENCE,
        D_SERVICE_CODE,
        D_UNAUTHORIZED,
        D_NOTES,
        D_COUNT
};

struct iana_entry {
        uint16_t lo, hi;
        uint8_t protocol, flags;
        uint32_t service;
        uint32_t detail[D_COUNT];
        uint32_t detail_index;
};

struct legacy_row {
        uint16_t port;
        uint8_t protocol;
        unsigned line;
        uint32_t service, status, note, source;
};

struct trojan_row {
        uint16_t port;
        uint8_t protocol;
        bool disabled;
        unsigned line;
        uint32_t names;
};

struct tables {
        struct pool pool;

        struct iana_entry *iana;
        size_t n_iana, cap_iana;
        size_t iana_rows; /* every row, with or without a port */
        char registry_date[11];

        uint32_t *details; /* D_COUNT offsets per detail */
        size_t n_details;
        struct portdata_iana_range *ranges;
        size_t n_ranges;
        size_t max_cover;

        struct legacy_row *legacy;
        size_t n_legacy, cap_legacy;
        struct trojan_row *trojans;
        size_t n_trojans, cap_trojans;
};

static int tables_init(struct tables *t) {
        uint32_t empty;

        *t = (struct tables){};
        return pool_add(&t->pool, "", 0, &empty); /* offset 0 is "" */
}

static void tables_free(struct tables *t) {
        pool_free(&t->pool);
        free(t->iana);
        free(t->details);
        free(t->ranges);
        free(t->legacy);
        free(t->trojans);
        *t = (struct tables){};
}

/* Makes room for one more element in a growable array. */
static int grow(void **array, size_t *cap, size_t n, size_t size) {
        size_t c;
        void *a;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 256;
        if (c > ROWS_MAX)
                c = ROWS_MAX;
        if (n >= c)
                return -E2BIG;
        a = realloc(*array, c * size);
        if (!a)
                return -ENOMEM;
        *array = a;
        *cap = c;
        return 0;
}

static int grow_failed(struct gen_error *e, const char *file, unsigned line, int r) {
        if (r == -E2BIG)
                return gen_fail(e, file, line, "more than %u rows", ROWS_MAX);
        return gen_fail(e, file, line, "out of memory");
}

static int add_string(struct tables *t, const char *file, unsigned line, const char *s, size_t n,
                      uint32_t *ret, struct gen_error *e) {
        int r = pool_add(&t->pool, s, n, ret);

        if (r == -E2BIG)
                return gen_fail(e, file, line, "more than %u bytes of text in all", POOL_MAX);
        if (r < 0)
                return gen_fail(e, file, line, "out of memory");
        return 0;
}

static const char *const iana_columns[] = {
        "Service Name", "Port Number",  "Transport Protocol",        "Description",
        "Assignee",     "Contact",      "Registration Date",         "Modification Date",
        "Reference",    "Service Code", "Unauthorized Use Reported", "Assignment Notes",
};

/* One registry row.  Returns 1 if it was added, 0 if skipped (no port). */
static int iana_row_parse(struct tables *t, const char *file, const struct csv_row *row,
                          struct gen_error *e) {
        const char *const *f = row->fields;
        const size_t *len = row->lengths;
        struct iana_entry x = {};
        int r, proto;

        if (row->n_fields != ELEMENTSOF(iana_columns))
                return gen_fail(e, file, row->line, "%zu fields, expected %zu", row->n_fields,
                                ELEMENTSOF(iana_columns));

        for (size_t i = 6; i <= 7; i++) {
                if (len[i] == 0)
                        continue;
                if (!valid_date(f[i], len[i]))
                        return gen_fail(e, file, row->line,
                                        "%s \"%.32s\" is not YYYY-MM or YYYY-MM-DD",
                                        iana_columns[i], f[i]);
                if (len[i] == 10 && strcmp(f[i], t->registry_date) > 0)
                        memcpy(t->registry_date, f[i], 11);
        }
        t->iana_rows++;
        if (len[1] == 0)
                return 0; /* a service name without a port */

        r = parse_port_range(f[1], len[1], &x.lo, &x.hi);
        if (r < 0)
                return gen_fail(e, file, row->line, "Port Number \"%.32s\" %s", f[1],
                                port_problem(r));
        proto = parse_protocol(f[2], true);
        if (proto < 0)
                return gen_fail(e, file, row->line,
                                "Transport Protocol \"%.32s\" is not tcp, udp, sctp, dccp or empty",
                                f[2]);
        x.protocol = (uint8_t)proto;
        if (len[0] > 0)
                x.flags |= PORTDATA_IANA_ASSIGNED;

        r = add_string(t, file, row->line, f[0], len[0], &x.service, e);
        for (size_t i = 0; r >= 0 && i < D_COUNT; i++)
                r = add_string(t, file, row->line, f[3 + i], len[3 + i], &x.detail[i], e);
        if (r < 0)
                return r;

        r = grow((void **)&t->iana, &t->cap_iana, t->n_iana, sizeof *t->iana);
        if (r < 0)
                return grow_failed(e, file, row->line, r);
        t->iana[t->n_iana++] = x;
        return 1;
}

static const char *const legacy_columns[] = {"port",   "protocol", "service",
                                             "status", "note",     "source"};
static const char *const legacy_statuses[] = {"historic", "discontinued", "deprecated",
                                              "superseded", "discouraged"};

static int legacy_row_parse(struct tables *t, const char *file, const struct csv_row *row,
                            struct gen_error *e) {
        const char *const *f = row->fields;
        const size_t *len = row->lengths;
        struct legacy_row x = {.line = row->line};
        bool known = false;
        int r, proto;

        if (row->n_fields != ELEMENTSOF(legacy_columns))
                return gen_fail(e, file, row->line, "%zu fields, expected %zu", row->n_fields,
                                ELEMENTSOF(legacy_columns));
        r = parse_port(f[0], len[0], &x.port);
        if (r < 0)
                return gen_fail(e, file, row->line, "port \"%.32s\" %s", f[0],
                                r == -ERANGE ? "out of range (0-65535)" : "is not a port number");
        proto = parse_protocol(f[1], false);
        if (proto < 0)
                return gen_fail(e, file, row->line,
                                "protocol \"%.32s\" is not tcp, udp, sctp or dccp", f[1]);
        x.protocol = (uint8_t)proto;
        for (size_t i = 2; i < ELEMENTSOF(legacy_columns); i++)
                if (len[i] == 0)
                        return gen_fail(e, file, row->line, "%s is empty", legacy_columns[i]);
        for (size_t i = 0; i < ELEMENTSOF(legacy_statuses); i++)
                known = known || strcmp(f[3], legacy_statuses[i]) == 0;
        if (!known)
                return gen_fail(e, file, row->line,
                                "status \"%.32s\" is not historic, discontinued, deprecated, "
                                "superseded or discouraged",
                                f[3]);

        r = add_string(t, file, row->line, f[2], len[2], &x.service, e);
        if (r >= 0)
                r = add_string(t, file, row->line, f[3], len[3], &x.status, e);
        if (r >= 0)
                r = add_string(t, file, row->line, f[4], len[4], &x.note, e);
        if (r >= 0)
                r = add_string(t, file, row->line, f[5], len[5], &x.source, e);
        if (r < 0)
                return r;
        r = grow((void **)&t->legacy, &t->cap_legacy, t->n_legacy, sizeof *t->legacy);
        if (r < 0)
                return grow_failed(e, file, row->line, r);
        t->legacy[t->n_legacy++] = x;
        return 1;
}

static const char *const trojan_columns[] = {"protocol", "port", "names",
                                             "commented_out_in_source"};

static int trojan_row_parse(struct tables *t, const char *file, const struct csv_row *row,
                            struct gen_error *e) {
        const char *const *f = row->fields;
        const size_t *len = row->lengths;
        struct trojan_row x = {.line = row->line};
        int r, proto;

        if (row->n_fields != ELEMENTSOF(trojan_columns))
                return gen_fail(e, file, row->line, "%zu fields, expected %zu", row->n_fields,
                                ELEMENTSOF(trojan_columns));
        proto = parse_protocol(f[0], false);
        if (proto < 0)
                return gen_fail(e, file, row->line,
                                "protocol \"%.32s\" is not tcp, udp, sctp or dccp", f[0]);
        x.protocol = (uint8_t)proto;
        r = parse_port(f[1], len[1], &x.port);
        if (r < 0)
                return gen_fail(e, file, row->line, "port \"%.32s\" %s", f[1],
                                r == -ERANGE ? "out of range (0-65535)" : "is not a port number");
        if (len[2] == 0)
                return gen_fail(e, file, row->line, "names is empty");
        if (strcmp(f[3], "yes") == 0)
                x.disabled = true;
        else if (strcmp(f[3], "no") != 0)
                return gen_fail(e, file, row->line,
                                "commented_out_in_source \"%.32s\" is not yes or no", f[3]);

        r = add_string(t, file, row->line, f[2], len[2], &x.names, e);
        if (r < 0)
                return r;
        r = grow((void **)&t->trojans, &t->cap_trojans, t->n_trojans, sizeof *t->trojans);
        if (r < 0)
                return grow_failed(e, file, row->line, r);
        t->trojans[t->n_trojans++] = x;
        return 1;
}

enum input_kind { INPUT_IANA, INPUT_LEGACY, INPUT_TROJANS };

struct gen_input {
        const char *name; /* for messages: the file's name */
        const char *data;
        size_t size;
};

/* Reads one CSV: the header, then every row through its row parser. */
static int load_csv(struct tables *t, enum input_kind kind, const struct gen_input *in,
                    struct gen_error *e) {
        static const struct {
                const char *const *columns;
                size_t n;
                int (*parse)(struct tables *, const char *, const struct csv_row *,
                             struct gen_error *);
        } kinds[] = {
                [INPUT_IANA] = {iana_columns, ELEMENTSOF(iana_columns), iana_row_parse},
                [INPUT_LEGACY] = {legacy_columns, ELEMENTSOF(legacy_columns), legacy_row_parse},
                [INPUT_TROJANS] = {trojan_columns, ELEMENTSOF(trojan_columns), trojan_row_parse},
        };
        struct csv_reader reader;
        struct csv_row row;
        size_t rows = 0;
        int r;

        csv_reader_init(&reader, in->data, in->size);
        for (;;) {
                r = csv_read_row(&reader, &row);
                if (r < 0) {
                        r = gen_fail(e, in->name, reader.error.line, "column %u: %s",
                                     reader.error.column, reader.error.message);
                        break;
                }
                if (r == 0) {
                        if (rows == 0)
                                r = gen_fail(e, in->name, 0, "empty file, expected a header");
                        break;
                }
                if (rows == 0)
                        r = check_header(in->name, &row, kinds[kind].columns, kinds[kind].n, e);
                else if (rows > ROWS_MAX)
                        r = gen_fail(e, in->name, row.line, "more than %u rows", ROWS_MAX);
                else
                        r = kinds[kind].parse(t, in->name, &row, e);
                if (r < 0)
                        break;
                rows++;
        }
        csv_reader_free(&reader);
        return r < 0 ? r : 0;
}

/* ---- ordering and derived tables -------------------------------------- */

static const struct pool *sort_pool; /* for the qsort comparators */

static int iana_entry_cmp(const void *a, const void *b) {
        const struct iana_entry *x = a, *y = b;
        int c;

        if (x->lo != y->lo)
                return x->lo < y->lo ? -1 : 1;
        if (x->protocol != y->protocol)
                return x->protocol < y->protocol ? -1 : 1;
        c = strcmp(pool_str(sort_pool, x->service), pool_str(sort_pool, y->service));
        if (c != 0)
                return c;
        if (x->hi != y->hi)
                return x->hi < y->hi ? -1 : 1;
        return memcmp(x->detail, y->detail, sizeof x->detail);
}

static int u32_cmp(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static int range_cmp(const void *a, const void *b) {
        const struct portdata_iana_range *x = a, *y = b;

        if (x->port_lo != y->port_lo)
                return x->port_lo < y->port_lo ? -1 : 1;
        if (x->port_hi != y->port_hi)
                return x->port_hi < y->port_hi ? -1 : 1;
        return x->record < y->record ? -1 : x->record > y->record;
}

static int legacy_cmp(const void *a, const void *b) {
        const struct legacy_row *x = a, *y = b;

        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        if (x->protocol != y->protocol)
                return x->protocol < y->protocol ? -1 : 1;
        return x->line < y->line ? -1 : x->line > y->line;
}

static int trojan_cmp(const void *a, const void *b) {
        const struct trojan_row *x = a, *y = b;

        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        if (x->protocol != y->protocol)
                return x->protocol < y->protocol ? -1 : 1;
        return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts the registry, shares the detail tuples, builds the range index and
 * checks how many records may cover one port. */
static int iana_finish(struct tables *t, const char *file, struct gen_error *e) {
        uint32_t *slots = NULL;
        size_t nslots = 1;
        uint32_t *cover = NULL;
        int r = 0;

        if (t->n_iana == 0)
                return gen_fail(e, file, 0, "no row with a port");
        if (t->registry_date[0] == '\0')
                return gen_fail(e, file, 0, "no row has a registration or modification date");

        sort_pool = &t->pool;
        qsort(t->iana, t->n_iana, sizeof *t->iana, iana_entry_cmp);
        sort_pool = NULL;

        /* Details, in order of first use; slot = detail index + 1. */
        while (nslots < t->n_iana * 2)
                nslots *= 2;
        slots = calloc(nslots, sizeof *slots);
        t->details = calloc(t->n_iana, sizeof(uint32_t) * D_COUNT);
        if (!slots || !t->details) {
                r = gen_fail(e, file, 0, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < t->n_iana; i++) {
                const uint32_t *d = t->iana[i].detail;
                size_t s = hash_bytes(d, sizeof t->iana[i].detail) & (nslots - 1);

                for (; slots[s] != 0; s = (s + 1) & (nslots - 1))
                        if (memcmp(&t->details[(size_t)(slots[s] - 1) * D_COUNT], d,
                                   sizeof t->iana[i].detail) == 0)
                                break;
                if (slots[s] == 0) {
                        if (t->n_details > UINT16_MAX) {
                                r = gen_fail(e, file, 0,
                                             "more than %u distinct detail tuples; widen "
                                             "portdata_iana_rec.detail",
                                             UINT16_MAX + 1);
                                goto out;
                        }
                        memcpy(&t->details[t->n_details * D_COUNT], d, sizeof t->iana[i].detail);
                        slots[s] = (uint32_t)++t->n_details;
                }
                t->iana[i].detail_index = slots[s] - 1;
        }

        /* Ranges, with the running maximum of their ends. */
        for (size_t i = 0; i < t->n_iana; i++)
                if (t->iana[i].hi > t->iana[i].lo)
                        t->n_ranges++;
        if (t->n_ranges > 0) {
                size_t k = 0;
                uint16_t max_hi = 0;

                t->ranges = calloc(t->n_ranges, sizeof *t->ranges);
                if (!t->ranges) {
                        r = gen_fail(e, file, 0, "out of memory");
                        goto out;
                }
                for (size_t i = 0; i < t->n_iana; i++)
                        if (t->iana[i].hi > t->iana[i].lo)
                                t->ranges[k++] = (struct portdata_iana_range){
                                        .port_lo = t->iana[i].lo,
                                        .port_hi = t->iana[i].hi,
                                        .record = (uint32_t)i,
                                };
                qsort(t->ranges, t->n_ranges, sizeof *t->ranges, range_cmp);
                for (size_t i = 0; i < t->n_ranges; i++) {
                        if (t->ranges[i].port_hi > max_hi)
                                max_hi = t->ranges[i].port_hi;
                        t->ranges[i].max_hi = max_hi;
                }
        }

        /* How many records cover one port at most: a sweep over the range
         * starts (+1) and the ports just past their ends (-1), ends first. */
        cover = calloc(t->n_iana * 2, sizeof *cover);
        if (!cover) {
                r = gen_fail(e, file, 0, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < t->n_iana; i++) {
                cover[2 * i] = (uint32_t)t->iana[i].lo << 1 | 1;
                cover[2 * i + 1] = ((uint32_t)t->iana[i].hi + 1) << 1;
        }
        qsort(cover, t->n_iana * 2, sizeof *cover, u32_cmp);
        for (size_t i = 0, run = 0; i < t->n_iana * 2; i++) {
                if (!(cover[i] & 1)) {
                        run--;
                        continue;
                }
                if (++run > t->max_cover)
                        t->max_cover = run;
                if (run > PORTDATA_MAX_COVER) {
                        r = gen_fail(e, file, 0,
                                     "port %u is covered by %zu records, more than "
                                     "PORTDATA_MAX_COVER (%d)",
                                     cover[i] >> 1, run, PORTDATA_MAX_COVER);
                        goto out;
                }
        }
out:
        free(slots);
        free(cover);
        return r;
}

/* Whether the registry has service at port/protocol. */
static bool iana_has(const struct tables *t, uint16_t port, uint8_t protocol, const char *service) {
        for (size_t i = 0; i < t->n_iana; i++) {
                const struct iana_entry *x = &t->iana[i];

                if (x->lo <= port && port <= x->hi &&
                    (x->protocol == protocol || x->protocol == PORTDATA_PROTO_NONE) &&
                    strcmp(pool_str(&t->pool, x->service), service) == 0)
                        return true;
        }
        return false;
}

static int legacy_finish(struct tables *t, const char *file, struct gen_error *e) {
        if (t->n_legacy > 1)
                qsort(t->legacy, t->n_legacy, sizeof *t->legacy, legacy_cmp);
        for (size_t i = 0; i < t->n_legacy; i++) {
                const struct legacy_row *x = &t->legacy[i];

                if (i > 0 && x->port == t->legacy[i - 1].port &&
                    x->protocol == t->legacy[i - 1].protocol)
                        return gen_fail(e, file, x->line, "port %u repeats line %u", x->port,
                                        t->legacy[i - 1].line);
                if (!iana_has(t, x->port, x->protocol, pool_str(&t->pool, x->service)))
                        return gen_fail(e, file, x->line,
                                        "the registry has no service \"%s\" on port %u for this "
                                        "protocol",
                                        pool_str(&t->pool, x->service), x->port);
        }
        return 0;
}

static int trojan_finish(struct tables *t, const char *file, struct gen_error *e) {
        if (t->n_trojans > 1)
                qsort(t->trojans, t->n_trojans, sizeof *t->trojans, trojan_cmp);
        for (size_t i = 1; i < t->n_trojans; i++)
                if (t->trojans[i].port == t->trojans[i - 1].port &&
                    t->trojans[i].protocol == t->trojans[i - 1].protocol)
                        return gen_fail(e, file, t->trojans[i].line, "port %u repeats line %u",
                                        t->trojans[i].port, t->trojans[i - 1].line);
        return 0;
}

/* ---- output ------------------------------------------------------------ */

static const char *const proto_names[PORTDATA_PROTO_COUNT] = {
        [PORTDATA_PROTO_NONE] = "",     [PORTDATA_PROTO_DCCP] = "dccp",
        [PORTDATA_PROTO_SCTP] = "sctp", [PORTDATA_PROTO_TCP] = "tcp",
        [PORTDATA_PROTO_UDP] = "udp",
};

/* Writes s as the inside of a C string literal: octal escapes (never hex,
 * which would swallow following digits) and no trigraphs. */
static void emit_escaped(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '?':
                        fputs("\\?", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (c >= 0x20 && c < 0x7f)
                                fputc(c, f);
                        else
                                fprintf(f, "\\%03o", c);
                }
        }
}

/* The offset of a protocol name in the pool ("tcp" etc. are there whenever
 * a record uses them; otherwise they are added). */
static int proto_offsets(struct tables *t, uint32_t ret[PORTDATA_PROTO_COUNT]) {
        for (int i = 0; i < PORTDATA_PROTO_COUNT; i++) {
                int r = pool_add(&t->pool, proto_names[i], strlen(proto_names[i]), &ret[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void emit_pool(const struct tables *t, FILE *f) {
        fprintf(f, "const char portdata_pool[] =\n");
        for (size_t off = 0; off < t->pool.len;) {
                size_t n = strlen(t->pool.data + off);
                bool last = off + n + 1 == t->pool.len;

                fputs("        \"", f);
                emit_escaped(f, t->pool.data + off);
                fputs(last ? "\";\n" : "\\0\"\n", f);
                off += n + 1;
        }
        fprintf(f,
                "_Static_assert(sizeof portdata_pool == %zu, \"pool size\");\n"
                "const uint32_t portdata_pool_size = %zu;\n\n",
                t->pool.len, t->pool.len);
}

static int emit(struct tables *t, const char *const names[3], FILE *f) {
        uint32_t proto_off[PORTDATA_PROTO_COUNT];
        int r;

        /* Added before the pool is written, so that they are in it. */
        r = proto_offsets(t, proto_off);
        if (r < 0)
                return r;

        fprintf(f,
                "/* portdata-table.c — generated by src/modules/ports/gen-portdata from\n"
                " * %s, %s and %s.\n"
                " * Do not edit: change the data and rebuild.  The layout and its invariants\n"
                " * are in portdata-table.h.  %zu registry records (%zu rows), %zu details,\n"
                " * %zu ranges, at most %zu records on one port, %zu legacy and %zu trojan-list\n"
                " * entries, %zu bytes of text.\n"
                " */\n"
                "#include \"ports/portdata-table.h\"\n\n"
                "#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n\n"
                "_Static_assert(sizeof(struct portdata_iana_rec) == 12, \"record layout\");\n\n",
                names[0], names[1], names[2], t->n_iana, t->iana_rows, t->n_details, t->n_ranges,
                t->max_cover, t->n_legacy, t->n_trojans, t->pool.len);
        emit_pool(t, f);

        fprintf(f, "/* {port_lo, port_hi, service, detail, protocol, flags} */\n"
                   "const struct portdata_iana_rec portdata_iana[] = {\n");
        for (size_t i = 0; i < t->n_iana; i++) {
                const struct iana_entry *x = &t->iana[i];
                fprintf(f, "        {%u, %u, %u, %u, %u, %u},\n", x->lo, x->hi, x->service,
                        x->detail_index, x->protocol, x->flags);
        }
        fprintf(f, "};\nconst uint32_t portdata_iana_count = %zu;\n\n", t->n_iana);

        fprintf(f, "/* {description, assignee, contact, registration_date, modification_date,\n"
                   " *  reference, service_code, unauthorized_use, notes} */\n"
                   "const struct portdata_iana_detail portdata_iana_details[] = {\n");
        for (size_t i = 0; i < t->n_details; i++) {
                const uint32_t *d = &t->details[i * D_COUNT];
                fprintf(f, "        {%u, %u, %u, %u, %u, %u, %u, %u, %u},\n", d[0], d[1], d[2],
                        d[3], d[4], d[5], d[6], d[7], d[8]);
        }
        fprintf(f, "};\nconst uint32_t portdata_iana_details_count = %zu;\n\n", t->n_details);

        fprintf(f, "/* {port_lo, port_hi, max_hi, record} */\n"
                   "const struct portdata_iana_range portdata_iana_ranges[] = {\n");
        for (size_t i = 0; i < t->n_ranges; i++)
                fprintf(f, "        {%u, %u, %u, %u},\n", t->ranges[i].port_lo,
                        t->ranges[i].port_hi, t->ranges[i].max_hi, t->ranges[i].record);
        if (t->n_ranges == 0)
                fputs("        {0, 0, 0, 0},\n", f);
        fprintf(f, "};\nconst uint32_t portdata_iana_ranges_count = %zu;\n\n", t->n_ranges);

        fprintf(f, "#define S(off) (portdata_pool + (off))\n\n"
                   "const struct legacy_entry portdata_legacy[] = {\n");
        for (size_t i = 0; i < t->n_legacy; i++) {
                const struct legacy_row *x = &t->legacy[i];
                fprintf(f, "        {%u, S(%u), S(%u), S(%u), S(%u), S(%u)},\n", x->port,
                        proto_off[x->protocol], x->service, x->status, x->note, x->source);
        }
        if (t->n_legacy == 0)
                fputs("        {0, S(0), S(0), S(0), S(0), S(0)},\n", f);
        fprintf(f, "};\nconst uint32_t portdata_legacy_count = %zu;\n\n", t->n_legacy);

        fprintf(f, "const struct trojan_entry portdata_trojans[] = {\n");
        for (size_t i = 0; i < t->n_trojans; i++) {
                const struct trojan_row *x = &t->trojans[i];
                fprintf(f, "        {%u, S(%u), S(%u), %s},\n", x->port, proto_off[x->protocol],
                        x->names, x->disabled ? "true" : "false");
        }
        if (t->n_trojans == 0)
                fputs("        {0, S(0), S(0), false},\n", f);
        fprintf(f, "};\nconst uint32_t portdata_trojans_count = %zu;\n\n", t->n_trojans);

        fprintf(f, "const char portdata_registry_date_text[] = \"%s\";\n", t->registry_date);
        return ferror(f) ? -EIO : 0;
}

static const char *base_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* The whole run on inputs in memory: reads and checks the three inputs and
 * writes the C file to out. */
static int gen_tables(const struct gen_input *iana, const struct gen_input *legacy,
                      const struct gen_input *trojans, FILE *out, struct gen_error *e) {
        struct tables t;
        int r;

        if (tables_init(&t) < 0) {
                tables_free(&t);
                return gen_fail(e, "gen-portdata", 0, "out of memory");
        }
        r = load_csv(&t, INPUT_IANA, iana, e);
        if (r >= 0)
                r = iana_finish(&t, iana->name, e);
        if (r >= 0)
                r = load_csv(&t, INPUT_LEGACY, legacy, e);
        if (r >= 0)
                r = legacy_finish(&t, legacy->name, e);
        if (r >= 0)
                r = load_csv(&t, INPUT_TROJANS, trojans, e);
        if (r >= 0)
                r = trojan_finish(&t, trojans->name, e);
        if (r >= 0) {
                const char *names[3] = {base_name(iana->name), base_name(legacy->name),
                                        base_name(trojans->name)};

                r = emit(&t, names, out);
                if (r < 0)
                        r = gen_fail(e, "gen-portdata", 0, "cannot write the output: %s",
                                     strerror(-r));
        }
        tables_free(&t);
        return r;
}

#ifndef GEN_PORTDATA_NO_MAIN

static int read_input(const char *path, struct gen_input *ret, struct gen_error *e) {
        struct stat st;
        char *data;
        size_t got = 0;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return gen_fail(e, path, 0, "cannot open: %s", strerror(errno));
        if (fstat(fd, &st) < 0) {
                int err = errno;
                close(fd);
                return gen_fail(e, path, 0, "cannot stat: %s", strerror(err));
        }
        if (!S_ISREG(st.st_mode) || st.st_size > (off_t)INPUT_MAX) {
                close(fd);
                if (!S_ISREG(st.st_mode))
                        return gen_fail(e, path, 0, "not a regular file");
                return gen_fail(e, path, 0, "larger than %u bytes", INPUT_MAX);
        }
        data = malloc((size_t)st.st_size + 1);
        if (!data) {
                close(fd);
                return gen_fail(e, path, 0, "out of memory");
        }
        while (got < (size_t)st.st_size) {
                ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int err = n < 0 ? errno : EIO;
                        free(data);
                        close(fd);
                        return gen_fail(e, path, 0, "cannot read: %s", strerror(err));
                }
                got += (size_t)n;
        }
        close(fd);
        data[got] = '\0';
        *ret = (struct gen_input){.name = path, .data = data, .size = got};
        return 0;
}

static int write_output(const char *path, const struct gen_input in[3], struct gen_error *e) {
        char tmp[PATH_MAX];
        FILE *f;
        int r, n;

        n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (n < 0 || (size_t)n >= sizeof tmp)
                return gen_fail(e, path, 0, "path too long");
        f = fopen(tmp, "we");
        if (!f)
                return gen_fail(e, tmp, 0, "cannot create: %s", strerror(errno));
        r = gen_tables(&in[0], &in[1], &in[2], f, e);
        if (fclose(f) != 0 && r >= 0)
                r = gen_fail(e, tmp, 0, "cannot write: %s", strerror(errno));
        if (r >= 0 && rename(tmp, path) < 0)
                r = gen_fail(e, path, 0, "cannot rename %s: %s", tmp, strerror(errno));
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

/* --summary and --list: the registry alone, checked as for a build. */
static int inspect(const char *path, bool list, struct gen_error *e) {
        struct gen_input in;
        struct tables t;
        int r;

        r = read_input(path, &in, e);
        if (r < 0)
                return r;
        r = tables_init(&t);
        if (r < 0)
                r = gen_fail(e, path, 0, "out of memory");
        if (r >= 0)
                r = load_csv(&t, INPUT_IANA, &in, e);
        if (r >= 0)
                r = iana_finish(&t, path, e);
        if (r >= 0 && list) {
                for (size_t i = 0; i < t.n_iana; i++) {
                        const struct iana_entry *x = &t.iana[i];

                        if (x->lo == x->hi)
                                printf("%u/%s %s\n", x->lo, proto_names[x->protocol],
                                       pool_str(&t.pool, x->service));
                        else
                                printf("%u-%u/%s %s\n", x->lo, x->hi, proto_names[x->protocol],
                                       pool_str(&t.pool, x->service));
                }
        } else if (r >= 0) {
                printf("rows %zu\nports %zu\ndate %s\n", t.iana_rows, t.n_iana, t.registry_date);
        }
        tables_free(&t);
        free((char *)in.data);
        return r;
}

static void usage(void) {
        fputs("usage: gen-portdata --iana FILE --legacy FILE --trojans FILE --output FILE\n"
              "       gen-portdata --summary FILE | --list FILE\n",
              stderr);
}

int main(int argc, char **argv) {
        const char *paths[3] = {}, *output = NULL;
        struct gen_input in[3] = {};
        struct gen_error e = {};
        int r = 0;

        if (argc == 3 && (strcmp(argv[1], "--summary") == 0 || strcmp(argv[1], "--list") == 0)) {
                r = inspect(argv[2], strcmp(argv[1], "--list") == 0, &e);
                if (r < 0)
                        fprintf(stderr, "gen-portdata: %s\n", e.message);
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        for (int i = 1; i < argc; i += 2) {
                const char **slot = strcmp(argv[i], "--iana") == 0      ? &paths[0]
                                    : strcmp(argv[i], "--legacy") == 0  ? &paths[1]
                                    : strcmp(argv[i], "--trojans") == 0 ? &paths[2]
                                    : strcmp(argv[i], "--output") == 0  ? &output
                                                                        : NULL;
                if (!slot || i + 1 >= argc || *slot) {
                        usage();
                        return 2;
                }
                *slot = argv[i + 1];
        }
        if (!paths[0] || !paths[1] || !paths[2] || !output) {
                usage();
                return 2;
        }

        for (int i = 0; i < 3 && r >= 0; i++)
                r = read_input(paths[i], &in[i], &e);
        if (r >= 0)
                r = write_output(output, in, &e);
        for (int i = 0; i < 3; i++)
                free((char *)in[i].data);
        if (r < 0) {
                fprintf(stderr, "gen-portdata: %s\n", e.message);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

#endif /* GEN_PORTDATA_NO_MAIN */
