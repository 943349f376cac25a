/* mailconf.h — the readers and grammars of the mail settings (mailconf.c):
 * Postfix's main.cf and master.cf, Dovecot's configuration with its
 * includes, and the value grammars of the settings' rows.  Pure functions
 * over text (the Dovecot reader also opens the files its includes name):
 * no tool runs here, so the front may use them under its seccomp filter. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest configuration file read, and how deep Dovecot's includes go. */
#define MAILCONF_FILE_MAX    (1u << 20)
#define MAILCONF_INCLUDE_MAX 8

/* Steward's block in master.cf: these lines, and what is between them. */
#define MASTER_BLOCK_BEGIN "# BEGIN Steward: submission and SMTPS (managed by Steward)"
#define MASTER_BLOCK_END   "# END Steward"

/* main.cf's parameters as Postfix reads them: "key = value" logical lines
 * (a line starting with whitespace continues the one before; blank lines
 * and lines whose first non-blank is '#' are skipped), the last of a key
 * wins.  *ret: {"key": "raw value"}. */
int maincf_parse(const char *text, json_t **ret);
/* A list value split as Postfix splits one: on commas and whitespace, empty
 * items dropped. */
json_t *postfix_list(const char *value);

/* What `postconf -n` prints for this main.cf: its parameters sorted by
 * name, one "key = value" line each (continuations joined).  Malloc'ed. */
char *maincf_postconf_n(const char *text);

/* Whether master.cf runs the service ("submission", "smtps"): an
 * uncommented "NAME inet …" line (or the port, 587 / 465).  *in_block: the
 * line is inside Steward's block. */
bool master_service_on(const char *text, const char *service, bool *in_block);
/* master.cf with Steward's block saying submission and smtps (the block
 * removed when both are off; appended when new).  Malloc'ed, NULL on OOM. */
char *master_with_block(const char *text, bool submission, bool smtps);

/* Dovecot's top-level settings named in keys (a NULL-terminated list), as
 * the file at path sets them with everything it includes (!include,
 * !include_try, globs in order), "$key" expanded from what was set before,
 * quotes removed; values keeps what it already has for a key none sets.
 * Sections ({ … }) are skipped.  -errno when path cannot be read. */
int dovecot_read(const char *path, const char *const *keys, json_t *values);
/* The same over one text (Steward's drop-in: no includes followed). */
int dovecot_parse_text(const char *text, const char *const *keys, json_t *values);

/* ---- grammars (the rows' valid_string) ---- */
/* A domain or host name; a label may be a $parameter ("localhost.$mydomain"). */
bool mail_domain_valid(const char *s);
/* myorigin: a domain as above or an absolute plain path (/etc/mailname). */
bool mail_origin_valid(const char *s);
/* relayhost: empty, host, host:port, [host] or [host]:port (host: a name
 * or an address; port 1–65535). */
bool mail_relayhost_valid(const char *s);
/* A network of mynetworks: an IPv4 address or network (a.b.c.d/n), an IPv6
 * one in brackets ([2001:db8::]/32), its host bits zero. */
bool mail_network_valid(const char *s);
/* inet_interfaces: all, loopback-only, an address, or a host name. */
bool mail_interface_valid(const char *s);
/* One word of smtpd_*_restrictions: an allow-listed restriction, or the
 * operand one before it takes (a DNSBL domain, type:/path, a policy
 * service).  Checked as a list by mail_restrictions_check(). */
bool mail_restriction_word_valid(const char *s);
/* The whole list: each operand follows a restriction that takes one.
 * NULL when fine, else the offending item. */
const char *mail_restrictions_check(json_t *list);
bool mail_delimiter_valid(const char *s);
/* home_mailbox: empty or a relative plain path (Maildir/, Mailbox). */
bool mail_home_mailbox_valid(const char *s);
/* A file path for a certificate or key: empty or absolute and plain. */
bool mail_file_valid(const char *s);
/* smtpd_banner: printable ASCII starting with $myhostname (RFC 5321). */
bool mail_banner_valid(const char *s);
bool mail_protocol_valid(const char *s);
bool mail_mechanism_valid(const char *s);
/* mail_location: empty or FORMAT:path with Dovecot's %variables. */
bool mail_location_valid(const char *s);
/* login_greeting: printable ASCII without '"', '\\' or '$'. */
bool mail_greeting_valid(const char *s);
