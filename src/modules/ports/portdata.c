/* portdata.c — lookups over the compiled-in port tables (portdata.h).
 *
 * The tables come from portdata-table.c, which src/modules/ports/gen-portdata writes at
 * build time; portdata-table.h states the invariants this file relies on.
 *
 * A registry lookup is two binary searches and a short scan:
 *   - records that start at the port: portdata_iana is sorted by port_lo, so
 *     they are one contiguous run found by binary search;
 *   - ranges that start below the port and reach it: portdata_iana_ranges is
 *     sorted by port_lo and carries a running maximum of port_hi, so a scan
 *     backwards from the last range starting below the port stops at the
 *     first entry whose running maximum is below the port.
 * At most PORTDATA_MAX_COVER records cover one port; they are collected into
 * a small array on the stack and sorted by protocol, then service.  Nothing
 * allocates, nothing locks: the data is constant.
 */
#include <string.h>

#include "portdata-table.h"

#define PROTO_ANY     (-1)
#define PROTO_UNKNOWN (-2)

static const char *const proto_names[PORTDATA_PROTO_COUNT] = {
        [PORTDATA_PROTO_NONE] = "",     [PORTDATA_PROTO_DCCP] = "dccp",
        [PORTDATA_PROTO_SCTP] = "sctp", [PORTDATA_PROTO_TCP] = "tcp",
        [PORTDATA_PROTO_UDP] = "udp",
};

static int proto_parse(const char *name) {
        if (!name)
                return PROTO_ANY;
        for (int i = 0; i < PORTDATA_PROTO_COUNT; i++)
                if (strcmp(name, proto_names[i]) == 0)
                        return i;
        return PROTO_UNKNOWN;
}

/* A registry row without a transport protocol applies to every protocol. */
static bool proto_matches(unsigned rec, int want) {
        return want == PROTO_ANY || rec == PORTDATA_PROTO_NONE || (int)rec == want;
}

static const char *pool(uint32_t offset) {
        return portdata_pool + offset;
}

static void fill_record(const struct portdata_iana_rec *r, struct iana_record *out) {
        const struct portdata_iana_detail *d = &portdata_iana_details[r->detail];

        *out = (struct iana_record){
                .service = pool(r->service),
                .protocol = proto_names[r->protocol],
                .description = pool(d->description),
                .assignee = pool(d->assignee),
                .contact = pool(d->contact),
                .registration_date = pool(d->registration_date),
                .modification_date = pool(d->modification_date),
                .reference = pool(d->reference),
                .service_code = pool(d->service_code),
                .unauthorized_use = pool(d->unauthorized_use),
                .notes = pool(d->notes),
                .port_lo = r->port_lo,
                .port_hi = r->port_hi,
        };
}

/* The first record with port_lo >= port. */
static size_t iana_lower_bound(uint16_t port) {
        size_t lo = 0, hi = portdata_iana_count;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (portdata_iana[mid].port_lo < port)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* The first range with port_lo >= port. */
static size_t range_lower_bound(uint16_t port) {
        size_t lo = 0, hi = portdata_iana_ranges_count;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (portdata_iana_ranges[mid].port_lo < port)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Orders covering records as iana_lookup() promises: protocol, service,
 * then range and table position so that the order is total. */
static int record_cmp(uint32_t a, uint32_t b) {
        const struct portdata_iana_rec *x = &portdata_iana[a], *y = &portdata_iana[b];
        int c;

        if (x->protocol != y->protocol)
                return x->protocol < y->protocol ? -1 : 1;
        c = strcmp(pool(x->service), pool(y->service));
        if (c != 0)
                return c;
        if (x->port_lo != y->port_lo)
                return x->port_lo < y->port_lo ? -1 : 1;
        if (x->port_hi != y->port_hi)
                return x->port_hi < y->port_hi ? -1 : 1;
        return a < b ? -1 : a > b;
}

/* The indices of the records covering port for protocol want, sorted. */
static size_t iana_collect(uint16_t port, int want, uint32_t idx[static PORTDATA_MAX_COVER]) {
        size_t n = 0;

        if (want == PROTO_UNKNOWN)
                return 0;

        for (size_t i = range_lower_bound(port); i-- > 0;) {
                const struct portdata_iana_range *g = &portdata_iana_ranges[i];

                if (g->max_hi < port)
                        break;
                if (g->port_hi >= port && proto_matches(portdata_iana[g->record].protocol, want) &&
                    n < PORTDATA_MAX_COVER)
                        idx[n++] = g->record;
        }
        for (size_t i = iana_lower_bound(port);
             i < portdata_iana_count && portdata_iana[i].port_lo == port; i++)
                if (proto_matches(portdata_iana[i].protocol, want) && n < PORTDATA_MAX_COVER)
                        idx[n++] = (uint32_t)i;

        /* Insertion sort: n is a handful. */
        for (size_t i = 1; i < n; i++) {
                uint32_t v = idx[i];
                size_t j = i;

                for (; j > 0 && record_cmp(idx[j - 1], v) > 0; j--)
                        idx[j] = idx[j - 1];
                idx[j] = v;
        }
        return n;
}

size_t iana_lookup(uint16_t port, const char *protocol, struct iana_record *out, size_t max) {
        uint32_t idx[PORTDATA_MAX_COVER];
        size_t n = iana_collect(port, proto_parse(protocol), idx);

        for (size_t i = 0; i < n && i < max; i++)
                fill_record(&portdata_iana[idx[i]], &out[i]);
        return n;
}

bool iana_port_assigned(uint16_t port, const char *protocol) {
        uint32_t idx[PORTDATA_MAX_COVER];
        size_t n = iana_collect(port, proto_parse(protocol), idx);

        for (size_t i = 0; i < n; i++)
                if (portdata_iana[idx[i]].flags & PORTDATA_IANA_ASSIGNED)
                        return true;
        return false;
}

size_t iana_record_count(void) {
        return portdata_iana_count;
}

bool iana_record_get(size_t index, struct iana_record *ret) {
        if (index >= portdata_iana_count)
                return false;
        fill_record(&portdata_iana[index], ret);
        return true;
}

const char *port_range_name(uint16_t port) {
        if (port < 1024)
                return "well-known";
        if (port < 49152)
                return "registered";
        return "dynamic";
}

const char *port_range_explanation(uint16_t port) {
        if (port < 1024)
                return "Ports 0-1023 are the well-known (System) ports, which IANA assigns only "
                       "through IETF review or IESG approval; on Linux, listening on one needs "
                       "root or CAP_NET_BIND_SERVICE.";
        if (port < 49152)
                return "Ports 1024-49151 are the registered (User) ports, which IANA assigns to "
                       "services on request after expert review; any process may listen on one.";
        return "Ports 49152-65535 are the dynamic (private or ephemeral) ports, which IANA never "
               "assigns; they are left for temporary uses such as the source ports of outgoing "
               "connections.";
}

/* Binary search over a table sorted by (port, protocol): the first entry
 * for port matching protocol (NULL: any), or NULL. */
#define FIND_ENTRY(table, count, port, protocol)                                                   \
        ({                                                                                         \
                size_t _lo = 0, _hi = (count);                                                     \
                __typeof__(&(table)[0]) _found = NULL;                                             \
                while (_lo < _hi) {                                                                \
                        size_t _mid = _lo + (_hi - _lo) / 2;                                       \
                        if ((table)[_mid].port < (port))                                           \
                                _lo = _mid + 1;                                                    \
                        else                                                                       \
                                _hi = _mid;                                                        \
                }                                                                                  \
                for (; _lo < (count) && (table)[_lo].port == (port); _lo++)                        \
                        if (!(protocol) || strcmp((table)[_lo].protocol, (protocol)) == 0) {       \
                                _found = &(table)[_lo];                                            \
                                break;                                                             \
                        }                                                                          \
                _found;                                                                            \
        })

const struct legacy_entry *legacy_lookup(uint16_t port, const char *protocol) {
        return FIND_ENTRY(portdata_legacy, portdata_legacy_count, port, protocol);
}

const struct trojan_entry *trojan_lookup(uint16_t port, const char *protocol) {
        return FIND_ENTRY(portdata_trojans, portdata_trojans_count, port, protocol);
}

const char *portdata_registry_date(void) {
        return portdata_registry_date_text;
}

const char *portdata_trojan_attribution(void) {
        return "Contains information from Greenbone Community Feed (GCF, "
               "https://www.greenbone.net/en/gcf-odbl-license/) which is made available here "
               "under the Open Database License (ODbL)";
}
