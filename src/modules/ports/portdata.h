/* portdata.h — what Steward knows about port numbers, compiled in.
 *
 * Three tables, generated at build time from data/ by src/modules/ports/gen-portdata and
 * linked in as constant data, so nothing is read or parsed at run time:
 *   - IANA's Service Name and Transport Protocol Port Number Registry
 *     (data/iana/service-names-port-numbers.csv), rows that carry a port;
 *   - a curated list of legacy assignments (data/ports/legacy.csv): ports
 *     still registered to services that are historic, discontinued or
 *     deprecated, each with its source;
 *   - ports historically reported as used by trojans, backdoors and worms
 *     (data/iana/trojan-ports.greenbone.csv, from Greenbone's trojan list,
 *     ODbL: anything that shows these entries must show
 *     portdata_trojan_attribution()).  A hint to look closer, never proof.
 *
 * Every string returned points into constant data and lives as long as the
 * program; none is NULL (an empty registry field is "").  Protocol names are
 * the registry's, lowercase: "tcp", "udp", "sctp", "dccp"; a protocol
 * argument of NULL means any protocol, an unknown name matches nothing.
 * Registry rows with no transport protocol (protocol "") apply to every
 * protocol, so they match any protocol argument.  All functions are
 * thread-safe and allocate nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iana_record {
        const char *service;  /* "" for Unassigned, Reserved and other placeholder rows */
        const char *protocol; /* "", "tcp", "udp", "sctp" or "dccp" */
        const char *description, *assignee, *contact, *registration_date, *modification_date,
                *reference, *service_code, *unauthorized_use, *notes;
        uint16_t port_lo, port_hi; /* equal unless the row is a range "lo-hi" */
};

/* Every registry record whose port range covers port (and whose protocol
 * matches), sorted by protocol then service name.  Writes at most max of
 * them to out (out may be NULL when max is 0) and returns how many there are
 * in all, which may exceed max. */
size_t iana_lookup(uint16_t port, const char *protocol, struct iana_record *out, size_t max);

/* Whether IANA assigned port/protocol to a service: false when the only
 * records are Unassigned, Reserved or other rows without a service name, or
 * when there is no record at all (the dynamic range). */
bool iana_port_assigned(uint16_t port, const char *protocol);

/* All records with a port, in table order (by port, protocol, service):
 * for listings and for tests.  iana_record_get() returns false past the end. */
size_t iana_record_count(void);
bool iana_record_get(size_t index, struct iana_record *ret);

/* "well-known" (0-1023), "registered" (1024-49151) or "dynamic"
 * (49152-65535), and one sentence on what that means (RFC 6335). */
const char *port_range_name(uint16_t port);
const char *port_range_explanation(uint16_t port);

struct legacy_entry {
        uint16_t port;
        const char *protocol; /* "tcp", "udp", "sctp" or "dccp" */
        const char *service;  /* the IANA service name */
        const char *status;   /* historic, discontinued, deprecated, superseded, discouraged */
        const char *note;     /* one or two sentences for people */
        const char *source;   /* a URL or a citation */
};

/* The legacy entry for port/protocol, or NULL.  protocol NULL: the first
 * entry for the port (tcp before udp). */
const struct legacy_entry *legacy_lookup(uint16_t port, const char *protocol);

struct trojan_entry {
        uint16_t port;
        const char *protocol;    /* "tcp" or "udp" */
        const char *names;       /* "; "-separated, as in the source list */
        bool disabled_in_source; /* the source script itself comments this entry out */
};

/* The trojan-list entry for port/protocol, or NULL.  protocol NULL: the
 * first entry for the port (tcp before udp). */
const struct trojan_entry *trojan_lookup(uint16_t port, const char *protocol);

/* The registry's date (YYYY-MM-DD): the latest registration or modification
 * date among its rows, which is when IANA last changed it. */
const char *portdata_registry_date(void);

/* The attribution the ODbL requires wherever trojan-list data is shown. */
const char *portdata_trojan_attribution(void);
