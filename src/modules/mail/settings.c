/* settings.c — the mail module's settings: an allow-list of Postfix's main.cf
 * keys (written with postconf -e, checked on a staged copy with postfix
 * check), submission (587) and SMTPS (465) as a managed block of master.cf,
 * Dovecot's drop-in /etc/dovecot/conf.d/99-steward.conf (checked with
 * doveconf -n), and the TLS certificate both servers use.
 *
 * (Skeleton: the rows are the contract; reading and applying come next.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "module.h"
#include "modules/change.h"
#include "modules/mail/mail.h"
#include "util.h"

static const char *const inet_protocols_choices[] = {"all", "ipv4", "ipv6", "ipv4, ipv6", NULL};
static const char *const smtpd_tls_choices[] = {"none", "may", "encrypt", NULL};
static const char *const smtp_tls_choices[] = {"none",   "may",    "encrypt", "dane",
                                               "dane-only", "fingerprint", "verify", "secure",
                                               NULL};
static const char *const dovecot_ssl_choices[] = {"no", "yes", "required", NULL};


const setting_def_t mail_settings[] = {
        {.key = "postfix:myhostname", .type = SETTING_STRING, .max = 253,
         .description = "this mail server's fully qualified host name"},
        {.key = "postfix:mydomain", .type = SETTING_STRING, .max = 253,
         .description = "the domain this server belongs to"},
        {.key = "postfix:myorigin", .type = SETTING_STRING, .max = 253,
         .description = "the domain that locally-posted mail appears to come from"},
        {.key = "postfix:mydestination", .type = SETTING_STRING_ARRAY, .max = 64,
         .description = "the domains delivered locally"},
        {.key = "postfix:inet_interfaces", .type = SETTING_STRING_ARRAY, .max = 32,
         .description = "the addresses Postfix receives mail on (all, loopback-only, or "
                        "addresses)"},
        {.key = "postfix:inet_protocols", .type = SETTING_ENUM, .choices = inet_protocols_choices,
         .description = "the IP protocols Postfix uses"},
        {.key = "postfix:mynetworks", .type = SETTING_STRING_ARRAY, .max = 64,
         .description = "the networks (CIDR) whose clients may relay"},
        {.key = "postfix:relayhost", .type = SETTING_STRING, .max = 261,
         .description = "the smarthost outgoing mail goes through ([host]:port; empty: direct)"},
        {.key = "postfix:message_size_limit", .type = SETTING_INTEGER, .min = 0,
         .max = INT64_C(4294967295), .description = "the largest message accepted, in bytes"},
        {.key = "postfix:mailbox_size_limit", .type = SETTING_INTEGER, .min = 0,
         .max = INT64_C(9223372036854775807),
         .description = "the largest mailbox file, in bytes (0: no limit)"},
        {.key = "postfix:recipient_delimiter", .type = SETTING_STRING, .max = 8,
         .description = "the characters between a user name and an address extension (+)"},
        {.key = "postfix:home_mailbox", .type = SETTING_STRING, .max = 128,
         .description = "the mailbox under a user's home (Maildir/; empty: /var/mail)"},
        {.key = "postfix:smtpd_tls_cert_file", .type = SETTING_STRING, .max = 4095,
         .description = "the SMTP server's certificate (PEM)"},
        {.key = "postfix:smtpd_tls_key_file", .type = SETTING_STRING, .max = 4095,
         .description = "the SMTP server's private key (PEM)"},
        {.key = "postfix:smtpd_tls_security_level", .type = SETTING_ENUM,
         .choices = smtpd_tls_choices, .description = "TLS offered to clients (may: STARTTLS)"},
        {.key = "postfix:smtp_tls_security_level", .type = SETTING_ENUM,
         .choices = smtp_tls_choices, .description = "TLS used toward other servers"},
        {.key = "postfix:smtpd_relay_restrictions", .type = SETTING_STRING_ARRAY, .max = 32,
         .description = "who may relay (permit_mynetworks, permit_sasl_authenticated, …)"},
        {.key = "postfix:smtpd_recipient_restrictions", .type = SETTING_STRING_ARRAY, .max = 32,
         .description = "checks on each recipient"},
        {.key = "postfix:virtual_alias_domains", .type = SETTING_STRING_ARRAY, .max = 64,
         .description = "domains whose addresses are all aliases"},
        {.key = "postfix:smtpd_banner", .type = SETTING_STRING, .max = 200,
         .description = "the greeting after 220"},
        {.key = "postfix:submission", .type = SETTING_BOOLEAN,
         .description = "mail submission on port 587 (STARTTLS required, Dovecot SASL)"},
        {.key = "postfix:smtps", .type = SETTING_BOOLEAN,
         .description = "SMTP over TLS on port 465 (Dovecot SASL)"},
        {.key = "dovecot:protocols", .type = SETTING_STRING_ARRAY, .max = 4,
         .description = "the protocols Dovecot serves (imap, pop3, lmtp)"},
        {.key = "dovecot:ssl", .type = SETTING_ENUM, .choices = dovecot_ssl_choices,
         .description = "TLS for IMAP and POP3 (required: no plaintext logins)"},
        {.key = "dovecot:ssl_cert", .type = SETTING_STRING, .max = 4095,
         .description = "Dovecot's certificate (PEM)"},
        {.key = "dovecot:ssl_key", .type = SETTING_STRING, .max = 4095,
         .description = "Dovecot's private key (PEM)"},
        {.key = "dovecot:mail_location", .type = SETTING_STRING, .max = 256,
         .description = "where mailboxes are (maildir:~/Maildir, mbox:~/mail:INBOX=/var/mail/%u)"},
        {.key = "dovecot:auth_mechanisms", .type = SETTING_STRING_ARRAY, .max = 8,
         .description = "the SASL mechanisms offered (plain, login)"},
        {.key = "dovecot:login_greeting", .type = SETTING_STRING, .max = 200,
         .description = "the greeting IMAP and POP3 clients see"},
        {.key = "dovecot:mail_max_userip_connections", .type = SETTING_INTEGER, .min = 1,
         .max = 10000, .description = "IMAP/POP3 connections per user and address"},
        {.key = "tls:cert_file", .type = SETTING_STRING, .max = 4095,
         .description = "one certificate for both Postfix and Dovecot (PEM; checked: readable, "
                        "matching the key, not expired)"},
        {.key = "tls:key_file", .type = SETTING_STRING, .max = 4095,
         .description = "the private key of tls:cert_file (PEM)"},
};
_Static_assert(ELEMENTSOF(mail_settings) == MAIL_N_SETTINGS, "MAIL_N_SETTINGS");

int mail_settings_read(json_t **ret, struct module_error *err) {
        (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

int mail_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run,
                        json_t **ret, struct module_error *err) {
        (void)ctx, (void)changes, (void)dry_run, (void)ret;
        module_error_set(err, 501, "not_implemented", NULL, "not yet");
        return -EOPNOTSUPP;
}

const char *const *mail_files(void) {
        static const char *const owned[] = {POSTFIX_MAIN_CF, POSTFIX_MASTER_CF, DOVECOT_DROPIN,
                                            ALIASES_FILE, NULL};
        return owned;
}

int mail_make_live(bool helper, struct module_error *err) {
        return helper ? aliases_make_live(err) : 0;
}

const change_hooks_t mail_hooks = {0};
