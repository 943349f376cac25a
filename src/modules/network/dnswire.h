/* dnswire.h — DNS messages on the wire: one query built, an answer decoded
 * to JSON (dnswire.c).  Pure functions on bytes; no I/O. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_UDP_SIZE 1232 /* the EDNS0 buffer size offered (DNS flag day 2020) */
#define DNS_MSG_MAX  65535

/* The type's number by its name ("MX" → 15); -EINVAL if unknown. */
int dns_type_from_name(const char *name);
/* "NOERROR", "NXDOMAIN", …; NULL for a code without a name. */
const char *dns_rcode_name(int rcode);

/* A query for name (a DNS name, "." the root; an optional final dot) of
 * type, recursion desired, with an EDNS0 OPT record, into buf. */
int dns_query_build(uint16_t id, const char *name, uint16_t type, uint8_t *buf, size_t cap,
                    size_t *ret_len);

/* An answer → {"id", "rcode", "flags": {"qr","aa","tc","rd","ra"},
 * "answers": [rr…], "authority": [rr…]}, rr = {"name", "type", "ttl",
 * "data", typed members…}.  -EBADMSG for bytes that do not parse. */
int dns_answer_decode(const uint8_t *msg, size_t len, json_t **ret);
