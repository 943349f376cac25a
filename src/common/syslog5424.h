/* syslog5424.h — one audit record as an RFC 5424 syslog message, and the
 * grammar of a forwarding target.  Pure functions: no I/O, no allocation.
 *
 * The message:
 *   <PRI>1 TIMESTAMP HOSTNAME steward PROCID audit [steward@32473 user="…"
 *   role="…" source="…" module="…" operation="…" result="…" id="17"
 *   hash="…" prev_hash="…"] MSG
 * PRI = facility * 8 + severity: notice (5) for a record whose result is
 * "ok", warning (4) for anything else (error, refused).  32473 is the
 * enterprise number IANA reserves for documentation (RFC 5612): the SD-ID
 * is a private one in RFC 5424's NAME@PEN form.
 *
 * Invariants of every message produced (the unit tests and the fuzz target
 * check them): it is at most SYSLOG5424_MAX bytes, holds no byte below 0x20
 * nor 0x7f (one line), is valid UTF-8; HOSTNAME is 1..255 printable US-ASCII
 * characters ("-" when none is usable); each PARAM-VALUE is at most
 * SYSLOG5424_VALUE_MAX bytes of the original (cut at a character boundary)
 * with '"', '\' and ']' escaped by a backslash, control characters and
 * invalid UTF-8 replaced by '?'; the structured data is never cut — only
 * MSG is, when the whole would pass the bound.
 *
 * Targets: "tcp://ADDR:PORT", "udp://ADDR:PORT", "tls://ADDR:PORT" (RFC
 * 5425: TCP, TLS, octet counting) or "local" (the host's /dev/log); ADDR is an IPv4 literal or an IPv6 literal in brackets — host
 * names are refused (resolution would need a resolver in the helper and
 * would make the forwarding depend on it). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSLOG5424_MAX        8192
#define SYSLOG5424_VALUE_MAX  256
#define SYSLOG5424_SD_ID      "steward@32473"
#define SYSLOG_FACILITY_DEF   10 /* authpriv */
#define SYSLOG_TARGET_MAX_LEN 64

/* What one message says; every string may be NULL (shown as "" / "-"). */
struct syslog_record {
        int64_t id;
        int64_t time; /* unix seconds */
        const char *user, *role, *source, *module, *operation, *result;
        const char *hash, *prev_hash;
        const char *message; /* the record's error message, or NULL */
        const char *detail;  /* e.g. the settings' names, or NULL */
};

/* Formats the record into buf (NUL-terminated, cap >= SYSLOG5424_MAX + 1).
 * facility 0..23; hostname may be NULL; procid 0 = "-".  Returns the
 * message's length, or -EINVAL. */
int syslog5424_format(const struct syslog_record *r, int facility, const char *hostname,
                      int64_t procid, char *buf, size_t cap);

/* The same record for the host's own log socket (/dev/log), in the form
 * syslog(3) writes there, which journald and rsyslog's imuxsock both parse:
 *   <PRI>steward[PROCID]: [steward@32473 …] MSG
 * (no timestamp nor hostname: the local daemon adds its own; the structured
 * data travels inside the message text).  procid > 0.  Returns the length,
 * or -EINVAL. */
int syslog_local_format(const struct syslog_record *r, int facility, int64_t procid, char *buf,
                        size_t cap);

/* Facility names accepted by the setting ("auth", "authpriv", "daemon",
 * "user", "local0".."local7"), NULL-terminated, and their numbers. */
extern const char *const syslog_facility_names[];
int syslog_facility_number(unsigned index);

enum syslog_transport {
        SYSLOG_TCP,
        SYSLOG_UDP,
        SYSLOG_TLS,
        SYSLOG_LOCAL,
};

struct syslog_target {
        enum syslog_transport transport;
        int family; /* AF_INET or AF_INET6; 0 for local */
        uint8_t addr[16];
        uint16_t port;
};

/* Parses a target (strict grammar above).  0 or -EINVAL. */
int syslog_target_parse(const char *s, struct syslog_target *ret);
bool syslog_target_valid(const char *s);
