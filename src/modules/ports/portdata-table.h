/* portdata-table.h — the layout of the tables that src/modules/ports/gen-portdata writes
 * into portdata-table.c and portdata.c reads.  Internal to the ports data:
 * everyone else uses portdata.h.
 *
 * Strings live once each in one char array, portdata_pool; records hold
 * 32-bit offsets into it, and offset 0 is the empty string.  A registry
 * record is 12 bytes; the nine text fields that tcp and udp rows of the same
 * service usually share sit in a separate, deduplicated detail table.
 *
 * Invariants the generator guarantees (and checks before writing anything):
 *   - portdata_iana is sorted by (port_lo, protocol, service, port_hi, detail);
 *   - every offset is < portdata_pool_size and starts a NUL-terminated string;
 *   - every detail index is < portdata_iana_details_count;
 *   - portdata_iana_ranges lists exactly the records with port_hi > port_lo,
 *     sorted by (port_lo, port_hi, record), and max_hi is the largest port_hi
 *     of that entry and every entry before it;
 *   - no port is covered by more than PORTDATA_MAX_COVER records;
 *   - legacy and trojan entries are sorted by (port, protocol) and unique.
 * Protocol numbers sort like the protocol names, so sorting by number is
 * sorting by name.
 */
#pragma once

#include <stdint.h>

#include "portdata.h"

enum {
        PORTDATA_PROTO_NONE, /* "" — the registry row names no transport */
        PORTDATA_PROTO_DCCP,
        PORTDATA_PROTO_SCTP,
        PORTDATA_PROTO_TCP,
        PORTDATA_PROTO_UDP,
        PORTDATA_PROTO_COUNT,
};

/* The most registry records that may cover one port (the registry has 7). */
#define PORTDATA_MAX_COVER 32

/* Set on records with a service name: IANA's Unassigned, Reserved,
 * de-registered and "any private …" rows have none. */
#define PORTDATA_IANA_ASSIGNED 0x01u

struct portdata_iana_rec {
        uint16_t port_lo, port_hi;
        uint32_t service; /* pool offset */
        uint16_t detail;  /* index into portdata_iana_details */
        uint8_t protocol; /* PORTDATA_PROTO_* */
        uint8_t flags;    /* PORTDATA_IANA_* */
};

struct portdata_iana_detail {
        uint32_t description, assignee, contact, registration_date, modification_date, reference,
                service_code, unauthorized_use, notes; /* pool offsets */
};

struct portdata_iana_range {
        uint16_t port_lo, port_hi, max_hi;
        uint32_t record; /* index into portdata_iana */
};

extern const char portdata_pool[];
extern const uint32_t portdata_pool_size;
extern const struct portdata_iana_rec portdata_iana[];
extern const uint32_t portdata_iana_count;
extern const struct portdata_iana_detail portdata_iana_details[];
extern const uint32_t portdata_iana_details_count;
extern const struct portdata_iana_range portdata_iana_ranges[];
extern const uint32_t portdata_iana_ranges_count;
extern const struct legacy_entry portdata_legacy[];
extern const uint32_t portdata_legacy_count;
extern const struct trojan_entry portdata_trojans[];
extern const uint32_t portdata_trojans_count;
extern const char portdata_registry_date_text[];
