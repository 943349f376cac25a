/* settings.c — the mail module's settings: an allow-list of Postfix's main.cf
 * keys, submission (587) and SMTPS (465) as Steward's block of master.cf,
 * Dovecot's drop-in /etc/dovecot/conf.d/99-steward.conf, and the TLS
 * certificate both servers use.
 *
 * Reading (mail_settings_read) runs in the front and only reads files:
 * main.cf as Postfix reads it, a key it does not set answering Postfix
 * 3.7's default (the table below; tests compare it with `postconf -h` on
 * the machine), master.cf for the services, and Dovecot's configuration
 * through its includes (mailconf.c).  tls:cert_file and tls:key_file are
 * the files both servers use, "" when they differ.
 *
 * Applying (mail_settings_apply, in the helper) is one plan of the change
 * engine: main.cf changed by `postconf -e KEY=VALUE` (watched, so the plan
 * shows its diff and a rollback restores it), master.cf's block and the
 * drop-in as file edits (the drop-in written whole).  The stage runs
 * `postfix check` with its standard error on a pseudo-terminal (Postfix
 * writes a bad value's reason only to syslog otherwise), `postconf -n`
 * (an "unused parameter" warning is a key Postfix does not know) and
 * `doveconf -n`; a refusal leaves the live files as they were.  Before
 * that, each value has passed its row's grammar, each key the installed
 * Postfix's list of names (`postconf -d`), the combinations (sizes,
 * restrictions, TLS with a certificate) and the certificate files
 * themselves (GnuTLS: PEM, a plain key that matches, not expired).  After
 * the writes, the running servers reload (postfix reload, doveadm reload);
 * stopped ones read the change when they start (a warning says so). */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"
#include "module.h"
#include "modules/change.h"
#include "modules/mail/mail.h"
#include "modules/mail/mailconf.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define DOVECOT_CONF "/etc/dovecot/dovecot.conf"

static const char *const inet_protocols_choices[] = {"all", "ipv4", "ipv6", "ipv4, ipv6", NULL};
static const char *const smtpd_tls_choices[] = {"none", "may", "encrypt", NULL};
static const char *const smtp_tls_choices[] = {"none",   "may",    "encrypt", "dane",
                                               "dane-only", "fingerprint", "verify", "secure",
                                               NULL};
static const char *const dovecot_ssl_choices[] = {"no", "yes", "required", NULL};


const setting_def_t mail_settings[] = {
        {.key = "postfix:myhostname", .type = SETTING_STRING, .max = 253,
         .valid_string = mail_domain_valid,
         .description = "this mail server's fully qualified host name"},
        {.key = "postfix:mydomain", .type = SETTING_STRING, .max = 253,
         .valid_string = mail_domain_valid,
         .description = "the domain this server belongs to"},
        {.key = "postfix:myorigin", .type = SETTING_STRING, .max = 253,
         .valid_string = mail_origin_valid,
         .description = "the domain that locally-posted mail appears to come from"},
        {.key = "postfix:mydestination", .type = SETTING_STRING_ARRAY, .max = 64,
         .valid_string = mail_domain_valid,
         .description = "the domains delivered locally"},
        {.key = "postfix:inet_interfaces", .type = SETTING_STRING_ARRAY, .max = 32,
         .valid_string = mail_interface_valid,
         .description = "the addresses Postfix receives mail on (all, loopback-only, or "
                        "addresses)"},
        {.key = "postfix:inet_protocols", .type = SETTING_ENUM, .choices = inet_protocols_choices,
         .description = "the IP protocols Postfix uses"},
        {.key = "postfix:mynetworks", .type = SETTING_STRING_ARRAY, .max = 64,
         .valid_string = mail_network_valid,
         .description = "the networks (CIDR) whose clients may relay"},
        {.key = "postfix:relayhost", .type = SETTING_STRING, .max = 261,
         .valid_string = mail_relayhost_valid,
         .description = "the smarthost outgoing mail goes through ([host]:port; empty: direct)"},
        {.key = "postfix:message_size_limit", .type = SETTING_INTEGER, .min = 1,
         .max = INT64_C(4294967295), .description = "the largest message accepted, in bytes"},
        {.key = "postfix:mailbox_size_limit", .type = SETTING_INTEGER, .min = 0,
         .max = INT64_C(9223372036854775807),
         .description = "the largest mailbox file, in bytes (0: no limit)"},
        {.key = "postfix:recipient_delimiter", .type = SETTING_STRING, .max = 8,
         .valid_string = mail_delimiter_valid,
         .description = "the characters between a user name and an address extension (+)"},
        {.key = "postfix:home_mailbox", .type = SETTING_STRING, .max = 128,
         .valid_string = mail_home_mailbox_valid,
         .description = "the mailbox under a user's home (Maildir/; empty: /var/mail)"},
        {.key = "postfix:smtpd_tls_cert_file", .type = SETTING_STRING, .max = 4095,
         .valid_string = mail_file_valid,
         .description = "the SMTP server's certificate (PEM)"},
        {.key = "postfix:smtpd_tls_key_file", .type = SETTING_STRING, .max = 4095,
         .valid_string = mail_file_valid,
         .description = "the SMTP server's private key (PEM)"},
        {.key = "postfix:smtpd_tls_security_level", .type = SETTING_ENUM,
         .choices = smtpd_tls_choices, .description = "TLS offered to clients (may: STARTTLS)"},
        {.key = "postfix:smtp_tls_security_level", .type = SETTING_ENUM,
         .choices = smtp_tls_choices, .description = "TLS used toward other servers"},
        {.key = "postfix:smtpd_relay_restrictions", .type = SETTING_STRING_ARRAY, .max = 32,
         .valid_string = mail_restriction_word_valid,
         .description = "who may relay (permit_mynetworks, permit_sasl_authenticated, …)"},
        {.key = "postfix:smtpd_recipient_restrictions", .type = SETTING_STRING_ARRAY, .max = 32,
         .valid_string = mail_restriction_word_valid,
         .description = "checks on each recipient"},
        {.key = "postfix:virtual_alias_domains", .type = SETTING_STRING_ARRAY, .max = 64,
         .valid_string = mail_domain_valid,
         .description = "domains whose addresses are all aliases"},
        {.key = "postfix:smtpd_banner", .type = SETTING_STRING, .max = 200,
         .valid_string = mail_banner_valid,
         .description = "the greeting after 220"},
        {.key = "postfix:submission", .type = SETTING_BOOLEAN,
         .description = "mail submission on port 587 (STARTTLS required, Dovecot SASL)"},
        {.key = "postfix:smtps", .type = SETTING_BOOLEAN,
         .description = "SMTP over TLS on port 465 (Dovecot SASL)"},
        {.key = "dovecot:protocols", .type = SETTING_STRING_ARRAY, .max = 4,
         .valid_string = mail_protocol_valid,
         .description = "the protocols Dovecot serves (imap, pop3, lmtp)"},
        {.key = "dovecot:ssl", .type = SETTING_ENUM, .choices = dovecot_ssl_choices,
         .description = "TLS for IMAP and POP3 (required: no plaintext logins)"},
        {.key = "dovecot:ssl_cert", .type = SETTING_STRING, .max = 4095,
         .valid_string = mail_file_valid,
         .description = "Dovecot's certificate (PEM)"},
        {.key = "dovecot:ssl_key", .type = SETTING_STRING, .max = 4095,
         .valid_string = mail_file_valid,
         .description = "Dovecot's private key (PEM)"},
        {.key = "dovecot:mail_location", .type = SETTING_STRING, .max = 256,
         .valid_string = mail_location_valid,
         .description = "where mailboxes are (maildir:~/Maildir, mbox:~/mail:INBOX=/var/mail/%u)"},
        {.key = "dovecot:auth_mechanisms", .type = SETTING_STRING_ARRAY, .max = 8,
         .valid_string = mail_mechanism_valid,
         .description = "the SASL mechanisms offered (plain, login)"},
        {.key = "dovecot:login_greeting", .type = SETTING_STRING, .max = 200,
         .valid_string = mail_greeting_valid,
         .description = "the greeting IMAP and POP3 clients see"},
        {.key = "dovecot:mail_max_userip_connections", .type = SETTING_INTEGER, .min = 1,
         .max = 10000, .description = "IMAP/POP3 connections per user and address"},
        {.key = "tls:cert_file", .type = SETTING_STRING, .max = 4095,
         .valid_string = mail_file_valid,
         .description = "one certificate for both Postfix and Dovecot (PEM; checked: readable, "
                        "matching the key, not expired)"},
        {.key = "tls:key_file", .type = SETTING_STRING, .max = 4095,
         .valid_string = mail_file_valid,
         .description = "the private key of tls:cert_file (PEM)"},
};
_Static_assert(ELEMENTSOF(mail_settings) == MAIL_N_SETTINGS, "MAIL_N_SETTINGS");

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- reading --------------------------------------------------------------------- */

/* Postfix 3.7's defaults (postconf -d) of the keys main.cf may leave out.
 * NULL: computed from the host (myhostname, mydomain, mynetworks) or the
 * compatibility level (smtpd_relay_restrictions), see postfix_default(). */
static const struct {
        const char *param, *def;
} postfix_defaults[] = {
        {"myhostname", NULL},
        {"mydomain", NULL},
        {"myorigin", "$myhostname"},
        {"mydestination", "$myhostname, localhost.$mydomain, localhost"},
        {"inet_interfaces", "all"},
        {"inet_protocols", "all"},
        {"mynetworks", NULL},
        {"relayhost", ""},
        {"message_size_limit", "10240000"},
        {"mailbox_size_limit", "51200000"},
        {"recipient_delimiter", ""},
        {"home_mailbox", ""},
        {"smtpd_tls_cert_file", ""},
        {"smtpd_tls_key_file", "$smtpd_tls_cert_file"},
        {"smtpd_tls_security_level", ""},
        {"smtp_tls_security_level", ""},
        {"smtpd_relay_restrictions", NULL},
        {"smtpd_recipient_restrictions", ""},
        {"virtual_alias_domains", "$virtual_alias_maps"},
        {"smtpd_banner", "$myhostname ESMTP $mail_name"},
};

/* Dovecot 2.3's defaults as Debian builds it (doveconf -d). */
static const char *const dovecot_keys[] = {"protocols",
                                           "ssl",
                                           "ssl_cert",
                                           "ssl_key",
                                           "mail_location",
                                           "auth_mechanisms",
                                           "login_greeting",
                                           "mail_max_userip_connections",
                                           NULL};
static const char *const dovecot_defaults[] = {
        "", "yes", "", "", "", "plain", "Dovecot (Debian) ready.", "10"};

/* A computed default: myhostname is the host's name (with ".localdomain"
 * when it has no dot), mydomain that name without its first label. */
static char *postfix_default(const char *param, json_t *params) {
        char host[256] = "";
        const char *v;

        for (size_t i = 0; i < ELEMENTSOF(postfix_defaults); i++)
                if (STREQ(postfix_defaults[i].param, param) && postfix_defaults[i].def)
                        return strdup(postfix_defaults[i].def);
        if (STREQ(param, "smtpd_relay_restrictions")) {
                v = json_string_value(json_object_get(params, "compatibility_level"));
                return strdup(!v || STREQ(v, "0") ? ""
                                                  : "permit_mynetworks, permit_sasl_authenticated, "
                                                    "defer_unauth_destination");
        }
        if (STREQ(param, "mynetworks"))
                return strdup(""); /* mynetworks_style's networks: not known without a tool */
        v = json_string_value(json_object_get(params, "myhostname"));
        if (v)
                snprintf(host, sizeof host, "%s", v);
        else if (gethostname(host, sizeof host - 12) < 0)
                snprintf(host, sizeof host, "localhost");
        host[sizeof host - 13] = '\0';
        if (!strchr(host, '.'))
                memcpy(host + strlen(host), ".localdomain", sizeof ".localdomain");
        if (STREQ(param, "myhostname"))
                return strdup(host);
        return strdup(strchr(v ? v : host, '.') ? strchr(v ? v : host, '.') + 1 : "localdomain");
}

/* The value of one Postfix row from its raw text. */
static json_t *postfix_value(const setting_def_t *d, const char *raw) {
        int64_t n;

        switch (d->type) {
        case SETTING_STRING_ARRAY:
                return postfix_list(raw);
        case SETTING_INTEGER:
                return json_integer(safe_atoi64(raw, &n) == 0 ? n : 0);
        case SETTING_ENUM:
                if (!*raw)
                        return json_string("none");
                if (STREQ(d->key, "postfix:inet_protocols") && strstr(raw, "ipv4") &&
                    strstr(raw, "ipv6"))
                        return json_string("ipv4, ipv6");
                return json_string(raw);
        default:
                return json_string(raw);
        }
}

static int read_postfix(json_t *params, const char *master, json_t *out) {
        bool in_block;

        for (size_t i = 0; i < MAIL_N_SETTINGS; i++) {
                const setting_def_t *d = &mail_settings[i];
                const char *param = d->key + strlen("postfix:");
                _cleanup_free_ char *def = NULL;
                const char *raw;

                if (strncmp(d->key, "postfix:", 8) != 0 || d->type == SETTING_BOOLEAN)
                        continue;
                raw = json_string_value(json_object_get(params, param));
                if (!raw) {
                        def = postfix_default(param, params);
                        if (!def)
                                return -ENOMEM;
                        raw = def;
                }
                if (json_object_set_new(out, param, postfix_value(d, raw)) < 0)
                        return -ENOMEM;
        }
        if (json_object_set_new(out, "submission",
                                json_boolean(master_service_on(master, "submission", &in_block))) <
                    0 ||
            json_object_set_new(out, "smtps",
                                json_boolean(master_service_on(master, "smtps", &in_block))) < 0)
                return -ENOMEM;
        return 0;
}

/* Dovecot's values for these keys: its defaults, then what its
 * configuration sets (the drop-in is one of its includes). */
static json_t *dovecot_values(void) {
        json_t *v = json_object();

        for (size_t i = 0; v && dovecot_keys[i]; i++)
                json_object_set_new(v, dovecot_keys[i], json_string(dovecot_defaults[i]));
        if (v)
                (void)dovecot_read(DOVECOT_CONF, dovecot_keys, v); /* not installed: defaults */
        return v;
}

static const char *unangle(const char *s) {
        return s && s[0] == '<' ? s + 1 + strspn(s + 1, " \t") : (s ?: "");
}

static int read_dovecot(json_t *values, json_t *out) {
        const char *k;
        json_t *v;

        json_object_foreach(values, k, v) {
                const char *s = json_string_value(v) ?: "";
                json_t *x;
                int64_t n;

                if (STREQ(k, "protocols") || STREQ(k, "auth_mechanisms"))
                        x = STREQ(s, "none") ? json_array() : postfix_list(s);
                else if (STREQ(k, "mail_max_userip_connections"))
                        x = json_integer(safe_atoi64(s, &n) == 0 ? n : 10);
                else if (STREQ(k, "ssl_cert") || STREQ(k, "ssl_key"))
                        x = json_string(unangle(s));
                else
                        x = json_string(s);
                if (json_object_set_new(out, k, x) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* smtpd_tls_key_file's default names the certificate file (one PEM with both). */
static const char *postfix_key_file(json_t *postfix) {
        const char *key = json_string_value(json_object_get(postfix, "smtpd_tls_key_file")) ?: "";
        if (STREQ(key, "$smtpd_tls_cert_file") || STREQ(key, "${smtpd_tls_cert_file}"))
                return json_string_value(json_object_get(postfix, "smtpd_tls_cert_file")) ?: "";
        return key;
}

int mail_settings_read(json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *params = NULL, *postfix = json_object(), *dovecot = json_object(),
                              *dv = dovecot_values();
        _cleanup_free_ char *main_cf = NULL, *master = NULL;
        const char *pc, *pk, *dc, *dk;
        int r;

        if (!postfix || !dovecot || !dv)
                return oom(err);
        r = read_file(POSTFIX_MAIN_CF, MAILCONF_FILE_MAX, &main_cf, NULL);
        if (r < 0 && r != -ENOENT) {
                module_error_set(err, 500, "internal", NULL, "cannot read %s: %s", POSTFIX_MAIN_CF,
                                 strerror(-r));
                return r;
        }
        (void)read_file(POSTFIX_MASTER_CF, MAILCONF_FILE_MAX, &master, NULL);
        if (maincf_parse(main_cf ?: "", &params) < 0 || read_postfix(params, master, postfix) < 0 ||
            read_dovecot(dv, dovecot) < 0)
                return oom(err);
        pc = json_string_value(json_object_get(postfix, "smtpd_tls_cert_file"));
        pk = postfix_key_file(postfix);
        dc = json_string_value(json_object_get(dovecot, "ssl_cert"));
        dk = json_string_value(json_object_get(dovecot, "ssl_key"));
        *ret = json_pack("{s:O, s:O, s:{s:s, s:s}}", "postfix", postfix, "dovecot", dovecot, "tls",
                         "cert_file", pc && dc && STREQ(pc, dc) ? pc : "", "key_file",
                         pk && dk && STREQ(pk, dk) ? pk : "");
        return *ret ? 0 : oom(err);
}

/* ---- certificates ------------------------------------------------------------------ */

#define TLS_FILE_MAX  (256u * 1024)
#define TLS_WARN_DAYS 30

/* The file at path for a TLS check: a regular file root can read, PEM. */
static int tls_file(const char *path, const char *what, const char *field, char **ret,
                    struct module_error *err) {
        int r;

        if (!*path) {
                module_error_set(err, 422, "invalid_setting", field, "no %s file is set", what);
                return -EINVAL;
        }
        /* Opened without blocking (a FIFO put there would hold the
         * helper), then checked on the descriptor itself (what was
         * checked is what is read). */
        r = read_regular_at(AT_FDCWD, path, 0, TLS_FILE_MAX, ret, NULL, NULL);
        if (r == -ENOENT || r == -EINVAL) {
                module_error_set(err, 422, "invalid_setting", field, "%s: %s", path,
                                 r == -ENOENT ? "no such file" : "not a regular file");
                return -EINVAL;
        }
        if (r < 0) {
                module_error_set(err, 422, "invalid_setting", field, "%s cannot be read: %s", path,
                                 strerror(-r));
                return r;
        }
        if (!strstr(*ret, "-----BEGIN ")) {
                module_error_set(err, 422, "invalid_setting", field, "%s is not a PEM %s", path,
                                 what);
                return -EINVAL;
        }
        return 0;
}

static int tls_key_id(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, bool *ret) {
        unsigned char a[64], b[64];
        size_t an = sizeof a, bn = sizeof b;

        if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &an) < 0 ||
            gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &bn) < 0)
                return -EINVAL;
        *ret = an == bn && memcmp(a, b, an) == 0;
        return 0;
}

/* A certificate and its key, as a server would load them: the certificate
 * parses and is not expired (a warning within 30 days), the key is PEM,
 * not encrypted, and is the certificate's. */
static int tls_pair_check(const char *cert, const char *key, const char *cert_field,
                          const char *key_field, json_t *notes, struct module_error *err) {
        _cleanup_free_ char *ct = NULL, *kt = NULL;
        gnutls_x509_crt_t crt = NULL;
        gnutls_x509_privkey_t pk = NULL;
        gnutls_datum_t cd, kd;
        bool match = false;
        time_t until, now = time(NULL);
        int r = -EINVAL;

        if (tls_file(cert, "certificate", cert_field, &ct, err) < 0 ||
            tls_file(key, "key", key_field, &kt, err) < 0)
                return -EINVAL;
        if (strstr(kt, "-----BEGIN ENCRYPTED") || strstr(kt, "Proc-Type: 4,ENCRYPTED")) {
                module_error_set(err, 422, "invalid_setting", key_field,
                                 "%s is encrypted: the servers start unattended and need a key "
                                 "without a passphrase",
                                 key);
                return -EINVAL;
        }
        cd = (gnutls_datum_t){(unsigned char *)ct, (unsigned)strlen(ct)};
        kd = (gnutls_datum_t){(unsigned char *)kt, (unsigned)strlen(kt)};
        if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_privkey_init(&pk) < 0) {
                r = oom(err);
                goto out;
        }
        if (gnutls_x509_crt_import(crt, &cd, GNUTLS_X509_FMT_PEM) < 0) {
                module_error_set(err, 422, "invalid_setting", cert_field,
                                 "%s holds no certificate GnuTLS can read", cert);
                goto out;
        }
        if (gnutls_x509_privkey_import2(pk, &kd, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN) <
            0) {
                module_error_set(err, 422, "invalid_setting", key_field,
                                 "%s holds no private key GnuTLS can read", key);
                goto out;
        }
        if (tls_key_id(crt, pk, &match) < 0 || !match) {
                module_error_set(err, 422, "invalid_setting", key_field,
                                 "%s is not the key of the certificate %s", key, cert);
                goto out;
        }
        until = gnutls_x509_crt_get_expiration_time(crt);
        if (until != (time_t)-1 && until < now) {
                module_error_set(err, 422, "invalid_setting", cert_field,
                                 "the certificate %s expired %lld days ago", cert,
                                 (long long)((now - until) / 86400));
                goto out;
        }
        if (until != (time_t)-1 && until - now < TLS_WARN_DAYS * 86400 && notes) {
                char note[600];
                snprintf(note, sizeof note, "the certificate %s expires in %lld days", cert,
                         (long long)((until - now) / 86400));
                json_array_append_new(notes, json_string(note));
        }
        r = 0;
out:
        if (crt)
                gnutls_x509_crt_deinit(crt);
        if (pk)
                gnutls_x509_privkey_deinit(pk);
        return r;
}

/* ---- the checkers ------------------------------------------------------------------- */

#define PTY_TIMEOUT_MSEC 30000

/* Runs argv with its standard output and error on a pseudo-terminal of
 * its own (postfix writes a fatal error to stderr only when it is a
 * terminal); what it wrote, on one line, in msg.  Its exit status or
 * -errno. */
static int exec_on_pty(const char *const *argv, char *msg, size_t msg_len) {
        static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TERM=dumb",
                                     NULL};
        _cleanup_close_ int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        char name[128];
        size_t got = 0;
        int s, status;
        pid_t pid;

        msg[0] = '\0';
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof name) != 0)
                return -errno;
        s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(s);
                return -errno;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (setsid() < 0 || dup2(null, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
                        _exit(126);
                (void)close_range(3, ~0U, 0);
                execve(argv[0], (char *const *)argv, envp);
                _exit(127);
        }
        close(s);
        for (;;) {
                struct pollfd pf = {.fd = m, .events = POLLIN};
                char buf[512];
                ssize_t n;
                int ready = poll(&pf, 1, PTY_TIMEOUT_MSEC);

                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready <= 0) {
                        (void)kill(pid, SIGKILL);
                        break;
                }
                n = read(m, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* EIO: the last holder of the terminal's side closed it */
                for (ssize_t i = 0; i < n && got + 1 < msg_len; i++)
                        if (buf[i] != '\r')
                                msg[got++] = (unsigned char)buf[i] < 0x20 ? ' ' : buf[i];
        }
        msg[got] = '\0';
        while (got > 0 && msg[got - 1] == ' ')
                msg[--got] = '\0';
        utf8_sanitize(msg);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The setting a checker's message names, "postfix:KEY" or "dovecot:KEY";
 * NULL when none. */
static const char *field_named(const char *msg, const char *prefix) {
        static char field[128];
        size_t pn = strlen(prefix);

        for (size_t i = 0; i < MAIL_N_SETTINGS; i++) {
                const char *k = mail_settings[i].key;
                if (strncmp(k, prefix, pn) == 0 && mail_settings[i].type != SETTING_BOOLEAN &&
                    strstr(msg, k + pn)) {
                        snprintf(field, sizeof field, "%s", k);
                        return field;
                }
        }
        return NULL;
}

/* Whether the stage also checks Dovecot, and whether it leaves Postfix's
 * check out: set by an apply by what it writes (the stage is a fork of
 * this process, which serves one change at a time).  Other plans with
 * mail_hooks (the aliases) get postfix check. */
static bool stage_dovecot, stage_no_postfix;

static int check_postfix(struct module_error *err) {
        const char *check[] = {"/usr/sbin/postfix", "check", NULL};
        const char *n[] = {"/usr/sbin/postconf", "-n", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[1024];
        int r;

        r = exec_on_pty(check, msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 422, "invalid_setting", field_named(msg, "postfix:"),
                                 "postfix check refused the new configuration (%d): %s", r,
                                 *msg ? msg : "see the mail log");
                return -EINVAL;
        }
        r = change_exec_output(n, 1u << 20, &out, NULL, msg, sizeof msg);
        if (r != 0 || strstr(msg, "unused parameter") || strstr(msg, "fatal")) {
                module_error_set(err, 422,
                                 strstr(msg, "unused parameter") ? "unknown_setting"
                                                                 : "invalid_setting",
                                 field_named(msg, "postfix:"),
                                 "postconf -n refused the new main.cf (%d): %s", r, msg);
                return -EINVAL;
        }
        return 0;
}

static int check_dovecot(struct module_error *err) {
        const char *argv[] = {"/usr/bin/doveconf", "-n", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[1024];
        int r;

        r = change_exec_output(argv, 4u << 20, &out, NULL, msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 422, "invalid_setting", field_named(msg, "dovecot:"),
                                 "doveconf refused the new Dovecot configuration (%d): %s", r, msg);
                return -EINVAL;
        }
        return 0;
}

/* Postfix's tools read main.cf again and again, 0.3 s apart, until its
 * time stamp is two seconds old (a file still being written must not be
 * half read): a main.cf postconf -e wrote a moment ago costs every tool
 * postfix check runs about two seconds.  The staged copy is dated back;
 * nothing else sees it. */
static void stage_backdate(const char *path) {
        struct timespec ts[2];

        if (clock_gettime(CLOCK_REALTIME, &ts[0]) < 0)
                return;
        ts[0].tv_sec -= 5;
        ts[1] = ts[0];
        (void)utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* In the staged namespace (/etc is the staged tree). */
static int validate_staged(const char *etc, struct module_error *err) {
        (void)etc;
        stage_backdate(POSTFIX_MAIN_CF);
        stage_backdate(POSTFIX_MASTER_CF);
        if (!stage_no_postfix && access("/usr/sbin/postfix", X_OK) == 0 &&
            access(POSTFIX_MAIN_CF, F_OK) == 0 && check_postfix(err) < 0)
                return -EINVAL;
        if (stage_dovecot && access("/usr/bin/doveconf", X_OK) == 0 && check_dovecot(err) < 0)
                return -EINVAL;
        return 0;
}

/* postfix check makes the queue's and the data directory's missing
 * directories and fixes their owners: the stage overlays both (change.h,
 * stage_overlays), so a plan changes nothing there. */
static const char *const stage_dirs[] = {"/var/spool/postfix", "/var/lib/postfix", NULL};

const change_hooks_t mail_hooks = {
        .validate = validate_staged,
        .stage_overlays = stage_dirs,
};

/* ---- making it live --------------------------------------------------------------------- */

/* A stopped server reads the files when it starts: the plan says so. */
static void note_stopped(bool postfix, bool dovecot, json_t *notes) {
        if (postfix && mail_postfix_installed() && !mail_postfix_running())
                json_array_append_new(notes, json_string("Postfix is not running: the change is "
                                                         "served when it starts"));
        if (dovecot && mail_dovecot_installed() && !mail_dovecot_running())
                json_array_append_new(notes, json_string("Dovecot is not running: the change is "
                                                         "served when it starts"));
}

/* The running servers reload (the helper calls make_live after every write
 * or restore of mail_files(): a change and its rollback alike).  postfix
 * reload also checks the configuration first; what it says on failure is
 * the error. */
static int reload(struct module_error *err) {
        const char *pr[] = {"/usr/sbin/postfix", "reload", NULL};
        const char *dr[] = {"/usr/bin/doveadm", "reload", NULL};
        char msg[400];
        int r = 0, s;

        if (mail_postfix_installed() && mail_postfix_running()) {
                s = exec_on_pty(pr, msg, sizeof msg);
                if (s != 0) {
                        module_error_set(err, 500, "failed", NULL, "postfix reload failed (%d): %s",
                                         s, msg);
                        r = -EIO;
                }
        }
        if (mail_dovecot_installed() && mail_dovecot_running()) {
                s = change_exec_timeout(dr, NULL, msg, sizeof msg, MAIL_TOOL_TIMEOUT_USEC);
                if (s != 0 && r == 0) {
                        module_error_set(err, 500, "failed", NULL, "doveadm reload failed (%d): %s",
                                         s, msg);
                        r = -EIO;
                }
        }
        return r;
}

struct commit_data {
        bool postfix, dovecot;
        json_t *notes;
};

static int commit(void *data, struct module_error *err) {
        struct commit_data *c = data;

        (void)err;
        note_stopped(c->postfix, c->dovecot, c->notes);
        return 0;
}

const char *const *mail_files(void) {
        static const char *const owned[] = {POSTFIX_MAIN_CF, POSTFIX_MASTER_CF, DOVECOT_DROPIN,
                                            ALIASES_FILE, NULL};
        return owned;
}

int mail_make_live(bool helper, struct module_error *err) {
        struct module_error later = {0};
        int r, q;

        if (!helper)
                return 0;
        /* /etc/aliases put back: its database again (aliases.c); main.cf,
         * master.cf or the drop-in: the servers reload. */
        r = aliases_make_live(err);
        q = reload(r < 0 ? &later : err);
        return r < 0 ? r : q;
}

/* ---- applying ---------------------------------------------------------------------- */

/* What a change means for the files. */
struct apply {
        json_t *after;  /* the settings tree as it will read */
        json_t *params; /* main.cf as it is */
        json_t *pf;     /* main.cf parameters to set: {"param": "text"} */
        json_t *drop;   /* the drop-in's settings as they will be: {"key": "text"} */
        char *master, *dropin;
        bool master_changed, dropin_changed;
        const char *pf_tls_field, *dc_tls_field; /* a change of these files: its key */
        const char *service_field;               /* submission or smtps turned on */
        json_t *notes;
};

static void apply_done(struct apply *a) {
        json_decref(a->after);
        json_decref(a->params);
        json_decref(a->pf);
        json_decref(a->drop);
        json_decref(a->notes);
        free(a->master);
        free(a->dropin);
}

/* A value as main.cf or the drop-in writes it. */
static char *value_text(json_t *v, const char *sep) {
        struct buf b;
        size_t i;
        json_t *x;

        if (json_is_string(v))
                return strdup(json_string_value(v));
        if (json_is_integer(v)) {
                char n[32];
                snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return strdup(n);
        }
        buf_init(&b, 64 * 1024);
        json_array_foreach(v, i, x) {
                if (i > 0)
                        buf_puts(&b, sep);
                buf_puts(&b, json_string_value(x) ?: "");
        }
        if (buf_append(&b, "", 1) < 0) {
                buf_free(&b);
                return NULL;
        }
        return buf_steal(&b);
}

static int set_text(json_t *o, const char *k, const char *prefix, json_t *v, const char *sep) {
        _cleanup_free_ char *t = value_text(v, sep);
        char *full;
        int r;

        if (!t)
                return -ENOMEM;
        if (asprintf(&full, "%s%s", prefix, t) < 0)
                return -ENOMEM;
        r = json_object_set_new(o, k, json_string(full));
        free(full);
        return r < 0 ? -ENOMEM : 0;
}

/* One Dovecot key of the drop-in: "" (an empty path, greeting or
 * location) takes the key out, leaving it to the rest of Dovecot's
 * configuration. */
static int drop_set(struct apply *a, const char *k, json_t *v, struct module_error *err) {
        const char *s = json_string_value(v);

        a->dropin_changed = true;
        if (STREQ(k, "auth_mechanisms") && json_array_size(v) == 0) {
                module_error_set(err, 422, "invalid_setting", "dovecot:auth_mechanisms",
                                 "Dovecot needs at least one authentication mechanism");
                return -EINVAL;
        }
        if (s && !*s)
                return json_object_del(a->drop, k), 0;
        if (STREQ(k, "protocols") && json_array_size(v) == 0)
                return json_object_set_new(a->drop, k, json_string("none")) < 0 ? oom(err) : 0;
        if (STREQ(k, "ssl_cert") || STREQ(k, "ssl_key"))
                return set_text(a->drop, k, "<", v, "") < 0 ? oom(err) : 0;
        /* The greeting is kept as text, as the drop-in's reader gives it
         * back, and quoted as it is written (dropin_text). */
        return set_text(a->drop, k, "", v, " ") < 0 ? oom(err) : 0;
}

/* Sets the flat key k in the tree t. */
static int tree_set(json_t *t, const char *k, json_t *v) {
        char group[16];
        const char *colon = strchr(k, ':');

        if (!colon || (size_t)(colon - k) >= sizeof group)
                return -EINVAL;
        snprintf(group, sizeof group, "%.*s", (int)(colon - k), k);
        return json_object_set(json_object_get(t, group), colon + 1, v) < 0 ? -ENOMEM : 0;
}

static int one_change(struct apply *a, const char *k, json_t *v, struct module_error *err) {
        if (tree_set(a->after, k, v) < 0)
                return oom(err);
        if (STREQ(k, "postfix:submission") || STREQ(k, "postfix:smtps")) {
                a->master_changed = a->dropin_changed = true;
                if (json_is_true(v))
                        a->service_field = k;
                return 0;
        }
        if (strncmp(k, "postfix:", 8) == 0) {
                if (strstr(k, "_tls_cert_file") || strstr(k, "_tls_key_file") ||
                    STREQ(k, "postfix:smtpd_tls_security_level"))
                        a->pf_tls_field = k;
                return set_text(a->pf, k + 8, "", v, ", ") < 0 ? oom(err) : 0;
        }
        if (strncmp(k, "dovecot:", 8) == 0) {
                if (STREQ(k, "dovecot:ssl_cert") || STREQ(k, "dovecot:ssl_key") ||
                    STREQ(k, "dovecot:ssl"))
                        a->dc_tls_field = k;
                return drop_set(a, k + 8, v, err);
        }
        /* tls:cert_file, tls:key_file: both servers' files */
        a->pf_tls_field = a->dc_tls_field = k;
        if (tree_set(a->after,
                     STREQ(k, "tls:cert_file") ? "postfix:smtpd_tls_cert_file"
                                               : "postfix:smtpd_tls_key_file",
                     v) < 0 ||
            tree_set(a->after, STREQ(k, "tls:cert_file") ? "dovecot:ssl_cert" : "dovecot:ssl_key",
                     v) < 0 ||
            set_text(a->pf,
                     STREQ(k, "tls:cert_file") ? "smtpd_tls_cert_file" : "smtpd_tls_key_file", "",
                     v, "") < 0)
                return oom(err);
        return drop_set(a, STREQ(k, "tls:cert_file") ? "ssl_cert" : "ssl_key", v, err);
}

static json_int_t after_int(struct apply *a, const char *group, const char *k) {
        return json_integer_value(json_object_get(json_object_get(a->after, group), k));
}

static const char *after_str(struct apply *a, const char *group, const char *k) {
        return json_string_value(json_object_get(json_object_get(a->after, group), k)) ?: "";
}

/* What depends on more than one value. */
static int check_combination(struct apply *a, json_t *changes, struct module_error *err) {
        json_int_t msl = after_int(a, "postfix", "message_size_limit");
        json_int_t mbl = after_int(a, "postfix", "mailbox_size_limit");
        const char *bad;

        if (mbl != 0 && mbl < msl) {
                module_error_set(err, 422, "invalid_setting",
                                 json_object_get(changes, "postfix:mailbox_size_limit")
                                         ? "postfix:mailbox_size_limit"
                                         : "postfix:message_size_limit",
                                 "mailbox_size_limit (%" JSON_INTEGER_FORMAT ") must be 0 (no "
                                 "limit) or at least message_size_limit (%" JSON_INTEGER_FORMAT
                                 "): Postfix would not deliver the largest messages it accepts",
                                 mbl, msl);
                return -EINVAL;
        }
        for (size_t i = 0; i < 2; i++) {
                const char *k = i ? "postfix:smtpd_recipient_restrictions"
                                  : "postfix:smtpd_relay_restrictions";
                json_t *v = json_object_get(changes, k);
                if (v && (bad = mail_restrictions_check(v))) {
                        module_error_set(err, 422, "invalid_setting", k,
                                         "%s: \"%.64s\" is not a restriction Steward writes (or "
                                         "lacks its operand)",
                                         k + 8, bad);
                        return -EINVAL;
                }
        }
        return 0;
}

/* TLS: what needs a certificate has one, and a certificate that changes
 * is one the servers can load. */
static int check_tls(struct apply *a, struct module_error *err) {
        json_t *pf = json_object_get(a->after, "postfix");
        const char *cert = after_str(a, "postfix", "smtpd_tls_cert_file");
        const char *key = postfix_key_file(pf);
        bool encrypt = STREQ(after_str(a, "postfix", "smtpd_tls_security_level"), "encrypt");
        bool services = json_is_true(json_object_get(pf, "submission")) ||
                        json_is_true(json_object_get(pf, "smtps"));
        const char *why = a->service_field ?: (encrypt ? a->pf_tls_field : NULL);

        if ((services || encrypt) && (why || a->pf_tls_field) && (!*cert || !*key)) {
                module_error_set(
                        err, 422, "invalid_setting", why ?: a->pf_tls_field,
                        "%s needs a certificate and its key: set tls:cert_file and "
                        "tls:key_file (or postfix:smtpd_tls_cert_file and "
                        "smtpd_tls_key_file) first",
                        services ? (a->service_field && STREQ(a->service_field, "postfix:smtps")
                                            ? "SMTPS"
                                            : "submission")
                                 : "smtpd_tls_security_level = encrypt");
                return -EINVAL;
        }
        if ((a->pf_tls_field || a->service_field) && *cert) {
                bool both = a->pf_tls_field && strncmp(a->pf_tls_field, "tls:", 4) == 0;
                const char *f = a->pf_tls_field ?: a->service_field;
                if (tls_pair_check(cert, key,
                                   both              ? "tls:cert_file"
                                   : a->pf_tls_field ? "postfix:smtpd_tls_cert_file"
                                                     : f,
                                   both              ? "tls:key_file"
                                   : a->pf_tls_field ? "postfix:smtpd_tls_key_file"
                                                     : f,
                                   a->notes, err) < 0)
                        return -EINVAL;
        }
        if (a->dc_tls_field && !STREQ(after_str(a, "dovecot", "ssl"), "no")) {
                bool both = strncmp(a->dc_tls_field, "tls:", 4) == 0;
                const char *dc = after_str(a, "dovecot", "ssl_cert");
                const char *dk = after_str(a, "dovecot", "ssl_key");
                if (*dc && !(both && STREQ(dc, cert) && STREQ(dk, key)) &&
                    tls_pair_check(dc, dk, both ? "tls:cert_file" : "dovecot:ssl_cert",
                                   both ? "tls:key_file" : "dovecot:ssl_key", a->notes, err) < 0)
                        return -EINVAL;
        }
        return 0;
}

/* Each parameter is one the installed Postfix knows (postconf -d). */
static int check_names(struct apply *a, struct module_error *err) {
        const char *argv[] = {"/usr/sbin/postconf", "-d", NULL};
        _cleanup_free_ char *out = NULL;
        char msg[256], needle[128];
        const char *k;
        json_t *v;
        int r;

        r = change_exec_output(argv, 4u << 20, &out, NULL, msg, sizeof msg);
        if (r != 0) {
                module_error_set(err, 503, "unavailable", NULL, "postconf -d failed (%d): %s", r,
                                 msg);
                return -EIO;
        }
        json_object_foreach(a->pf, k, v) {
                snprintf(needle, sizeof needle, "\n%s =", k);
                if (strncmp(out, needle + 1, strlen(needle + 1)) != 0 && !strstr(out, needle)) {
                        char field[128];
                        snprintf(field, sizeof field, "postfix:%s", k);
                        module_error_set(err, 422, "unknown_setting", field,
                                         "the installed Postfix has no parameter %s", k);
                        return -ENOENT;
                }
        }
        return 0;
}

#define DROPIN_HEADER                                                                              \
        "# Managed by Steward (the settings mail:dovecot:* and mail:tls:*): written whole\n"       \
        "# by each change made through Steward; edit those settings, not this file.\n"

static const char auth_listener[] =
        "\n# Postfix's submission and SMTPS authenticate through Dovecot.\n"
        "service auth {\n"
        "  unix_listener /var/spool/postfix/private/auth {\n"
        "    mode = 0660\n"
        "    user = postfix\n"
        "    group = postfix\n"
        "  }\n"
        "}\n";

static char *dropin_text(struct apply *a) {
        json_t *pf = json_object_get(a->after, "postfix");
        struct buf b;

        buf_init(&b, 64 * 1024);
        buf_puts(&b, DROPIN_HEADER);
        for (size_t i = 0; dovecot_keys[i]; i++) {
                const char *v = json_string_value(json_object_get(a->drop, dovecot_keys[i]));
                /* Every value as the reader gives it back (quotes off); the
                 * greeting, free text, always quoted: unquoted, a leading
                 * '<' would make Dovecot read that file as root and a '#'
                 * would end the line.  Its grammar has no '"', '\' or '$'. */
                if (v && STREQ(dovecot_keys[i], "login_greeting"))
                        buf_printf(&b, "%s = \"%s\"\n", dovecot_keys[i], v);
                else if (v)
                        buf_printf(&b, "%s = %s\n", dovecot_keys[i], v);
        }
        if (json_is_true(json_object_get(pf, "submission")) ||
            json_is_true(json_object_get(pf, "smtps")))
                buf_puts(&b, auth_listener);
        if (buf_append(&b, "", 1) < 0) {
                buf_free(&b);
                return NULL;
        }
        return buf_steal(&b);
}

static int apply_load(struct apply *a, struct module_error *err) {
        _cleanup_free_ char *main_cf = NULL;
        int r;

        r = mail_settings_read(&a->after, err);
        if (r < 0)
                return r;
        r = read_file(POSTFIX_MAIN_CF, MAILCONF_FILE_MAX, &main_cf, NULL);
        if (r < 0 && r != -ENOENT)
                goto fail;
        r = read_file(POSTFIX_MASTER_CF, MAILCONF_FILE_MAX, &a->master, NULL);
        if (r < 0 && r != -ENOENT)
                goto fail;
        r = read_file(DOVECOT_DROPIN, MAILCONF_FILE_MAX, &a->dropin, NULL);
        if (r < 0 && r != -ENOENT)
                goto fail;
        a->pf = json_object();
        a->drop = json_object();
        a->notes = json_array();
        if (!a->pf || !a->drop || !a->notes || maincf_parse(main_cf ?: "", &a->params) < 0 ||
            dovecot_parse_text(a->dropin, dovecot_keys, a->drop) < 0)
                return oom(err);
        return 0;
fail:
        module_error_set(err, 500, "internal", NULL, "cannot read the mail configuration: %s",
                         strerror(-r));
        return r;
}

/* master.cf with Steward's block running the services the settings turn
 * on that the administrator's own lines (outside the block) do not run
 * already; a service turned off that those lines run is refused. */
static int plan_master(struct change_plan *p, struct apply *a, json_t *pf,
                       struct module_error *err) {
        _cleanup_free_ char *outside = master_with_block(a->master, false, false), *m = NULL;
        bool on[2];

        if (!outside)
                return oom(err);
        for (size_t i = 0; i < 2; i++) {
                const char *svc = i ? "smtps" : "submission";
                bool theirs = master_service_on(outside, svc, NULL);
                on[i] = json_is_true(json_object_get(pf, svc)) && !theirs;
                if (!json_is_true(json_object_get(pf, svc)) && theirs) {
                        char field[32];
                        snprintf(field, sizeof field, "postfix:%s", svc);
                        module_error_set(err, 422, "invalid_setting", field,
                                         "master.cf runs %s outside Steward's block: turn it off "
                                         "there",
                                         svc);
                        return -EINVAL;
                }
        }
        m = master_with_block(a->master, on[0], on[1]);
        if (!m)
                return oom(err);
        if (!a->master || !STREQ(m, a->master))
                change_edit(p, POSTFIX_MASTER_CF, CHANGE_FILE, m, 0644);
        return 0;
}

/* The plan: master.cf's block and the drop-in as edits, main.cf through
 * postconf -e. */
static int plan_build(struct change_plan *p, struct apply *a, struct module_error *err) {
        json_t *pf = json_object_get(a->after, "postfix");
        const char *k;
        json_t *v;

        if (a->master_changed) {
                int r = plan_master(p, a, pf, err);
                if (r < 0)
                        return r;
        }
        if (a->dropin_changed) {
                _cleanup_free_ char *d = dropin_text(a);
                if (!d)
                        return oom(err);
                if (!a->dropin || !STREQ(d, a->dropin))
                        change_edit(p, DOVECOT_DROPIN, CHANGE_FILE, d, 0644);
        }
        if (json_object_size(a->pf) > 0) {
                struct change_cmd *c;
                change_watch(p, POSTFIX_MAIN_CF, 0, NULL);
                c = change_cmd(p, "/usr/sbin/postconf");
                change_arg(p, c, "-e");
                change_arg(p, c, "--");
                json_object_foreach(a->pf, k, v)
                        change_argf(p, c, "%s=%s", k, json_string_value(v));
        }
        return 0;
}

static int apply_checks(struct apply *a, json_t *changes, struct module_error *err) {
        bool postfix = json_object_size(a->pf) > 0 || a->master_changed;

        if (postfix && !mail_postfix_installed()) {
                module_error_set(err, 409, "conflict", NULL, "Postfix is not installed");
                return -ENOENT;
        }
        if (a->dropin_changed && !mail_dovecot_installed() && json_object_size(a->drop) > 0) {
                module_error_set(err, 409, "conflict", NULL, "Dovecot is not installed");
                return -ENOENT;
        }
        if (check_combination(a, changes, err) < 0 || check_tls(a, err) < 0)
                return -EINVAL;
        return json_object_size(a->pf) > 0 ? check_names(a, err) : 0;
}

/* `postconf -n` before and after as a diff, when main.cf changes. */
static int postconf_diff(json_t *done, json_t *notes, char **ret) {
        size_t i;
        json_t *f;

        (void)notes;
        json_array_foreach(json_object_get(done, "files"), i, f) {
                _cleanup_free_ char *b = NULL, *a = NULL;
                if (!STREQ(json_string_value(json_object_get(f, "path")) ?: "", POSTFIX_MAIN_CF))
                        continue;
                b = maincf_postconf_n(json_string_value(json_object_get(f, "before")));
                a = maincf_postconf_n(json_string_value(json_object_get(f, "after")));
                if (!a || !b || diff_unified("/postconf -n", b, strlen(b), a, strlen(a), ret) < 0)
                        return -ENOMEM;
                return 0;
        }
        return 0;
}

static json_t *or_empty(json_t *a) {
        return a ? json_incref(a) : json_array();
}

int mail_settings_apply(const struct module_ctx *ctx, json_t *changes, bool dry_run, json_t **ret,
                        struct module_error *err) {
        _cleanup_json_ json_t *changed = json_array(), *done = NULL;
        _cleanup_free_ char *pdiff = NULL;
        struct apply a = {0};
        struct commit_data c = {0};
        struct change_plan p;
        const char *k;
        json_t *v, *warnings;
        int r;

        (void)ctx;
        if (!changed)
                return oom(err);
        r = apply_load(&a, err);
        if (r < 0)
                goto out;
        json_object_foreach(changes, k, v) {
                r = one_change(&a, k, v, err);
                if (r < 0)
                        goto out;
                json_array_append_new(changed, json_string(k));
        }
        r = apply_checks(&a, changes, err);
        if (r < 0)
                goto out;
        change_plan_init(&p);
        r = plan_build(&p, &a, err);
        c = (struct commit_data){.postfix = json_object_size(a.pf) > 0 || a.master_changed,
                                 .dovecot = a.dropin_changed,
                                 .notes = a.notes};
        stage_dovecot = a.dropin_changed || a.master_changed;
        stage_no_postfix = !c.postfix;
        if (r >= 0)
                r = change_run(&p,
                               &(struct change_opts){.dry_run = dry_run,
                                                     .hooks = &mail_hooks,
                                                     .commit = commit,
                                                     .data = &c},
                               &done, err);
        stage_dovecot = stage_no_postfix = false;
        change_plan_done(&p);
        if (r < 0)
                goto out;
        warnings = json_object_get(done, "warnings");
        if (json_is_array(warnings))
                json_array_extend(a.notes, warnings);
        if (postconf_diff(done, a.notes, &pdiff) < 0) {
                r = oom(err);
                goto out;
        }
        *ret = json_pack("{s:O, s:b, s:b, s:o, s:o, s:O, s:s?}", "changed", changed, "dry_run",
                         dry_run, "restart_required", false, "files",
                         or_empty(json_object_get(done, "files")), "commands",
                         or_empty(json_object_get(done, "commands")), "warnings", a.notes,
                         "postconf", pdiff);
        if (!*ret)
                r = oom(err);
out:
        apply_done(&a);
        return r;
}
