/* test-mailconf.c — the mail settings' readers and grammars
 * (src/modules/mail/mailconf.c): main.cf's logical lines as Postfix reads
 * them, lists split as Postfix splits them, master.cf's services and
 * Steward's block in it, Dovecot's configuration through its includes with
 * "$key" expansion and sections skipped, and each value grammar on what it
 * must take and what it must refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/mail/mailconf.h"
#include "util.h"

static const char *sget(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static void test_maincf(void **state) {
        const char text[] = "# a comment\n"
                            "myhostname = mail.example.org\n"
                            "mydestination = $myhostname,\n"
                            "    localhost.$mydomain\n"
                            "  # an indented comment inside does not end it\n"
                            "\tlocalhost\n"
                            "relayhost =\n"
                            "bad line without equals\n"
                            "smtpd_banner = $myhostname ESMTP  \n"
                            "myhostname = last.example.org\n";
        json_t *p = NULL, *l;

        (void)state;
        assert_int_equal(maincf_parse(text, &p), 0);
        assert_string_equal(sget(p, "myhostname"), "last.example.org");
        assert_string_equal(sget(p, "mydestination"), "$myhostname, localhost.$mydomain localhost");
        assert_string_equal(sget(p, "relayhost"), "");
        assert_string_equal(sget(p, "smtpd_banner"), "$myhostname ESMTP");
        assert_null(json_object_get(p, "bad line without equals"));
        l = postfix_list(sget(p, "mydestination"));
        assert_int_equal(json_array_size(l), 3);
        assert_string_equal(json_string_value(json_array_get(l, 1)), "localhost.$mydomain");
        json_decref(l);
        l = postfix_list("a, , b\tc,");
        assert_int_equal(json_array_size(l), 3);
        json_decref(l);
        json_decref(p);
}

static void test_master(void **state) {
        const char debian[] = "smtp      inet  n       -       y       -       -       smtpd\n"
                              "#submission inet n       -       y       -       -       smtpd\n"
                              "#smtps     inet  n       -       y       -       -       smtpd\n"
                              "pickup    unix  n       -       y       60      1       pickup\n";
        char *on, *off;
        bool in;

        (void)state;
        assert_false(master_service_on(debian, "submission", NULL));
        assert_false(master_service_on(debian, "smtps", NULL));
        on = master_with_block(debian, true, false);
        assert_non_null(on);
        assert_true(master_service_on(on, "submission", &in));
        assert_true(in);
        assert_false(master_service_on(on, "smtps", NULL));
        assert_non_null(strstr(on, "smtpd_sasl_type=dovecot"));
        assert_non_null(strstr(on, "pickup    unix"));
        /* The block is replaced, not added again. */
        off = master_with_block(on, true, true);
        assert_true(master_service_on(off, "smtps", &in));
        assert_null(strstr(strstr(off, MASTER_BLOCK_BEGIN) + 1, MASTER_BLOCK_BEGIN));
        free(on);
        /* Both off: the block goes, the rest is as it was. */
        on = master_with_block(off, false, false);
        assert_string_equal(on, debian);
        free(on);
        free(off);
        /* A service line of the administrator's own, by port. */
        assert_true(master_service_on("587 inet n - n - - smtpd\n", "submission", &in));
        assert_false(in);
        assert_true(master_service_on("submissions inet n - n - - smtpd\n", "smtps", NULL));
}

static void test_dovecot(void **state) {
        char dir[] = "/tmp/test-mailconf-XXXXXX", path[128];
        static const char *const keys[] = {
                "protocols", "ssl", "ssl_cert", "login_greeting", "mail_max_userip_connections",
                NULL};
        json_t *v = json_object();
        FILE *f;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/conf.d", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/p.protocol", dir);
        f = fopen(path, "w");
        fputs("protocols = $protocols imap\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/conf.d/10-ssl.conf", dir);
        f = fopen(path, "w");
        fputs("ssl = yes # comment\nssl_cert = </etc/a.pem\nprotocol imap {\n"
              "  mail_max_userip_connections = 99\n}\n",
              f);
        fclose(f);
        snprintf(path, sizeof path, "%s/conf.d/99-steward.conf", dir);
        f = fopen(path, "w");
        fputs("login_greeting = \"Mail # here\"\nprotocols = $protocols pop3\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/dovecot.conf", dir);
        f = fopen(path, "w");
        fprintf(f,
                "!include_try %s/*.protocol\ndict {\n  ssl = no\n}\n!include conf.d/*.conf\n"
                "!include_try local.conf\n",
                dir);
        fclose(f);
        json_object_set_new(v, "protocols", json_string(""));
        json_object_set_new(v, "mail_max_userip_connections", json_string("10"));
        assert_int_equal(dovecot_read(path, keys, v), 0);
        assert_string_equal(sget(v, "protocols"), " imap pop3");
        assert_string_equal(sget(v, "ssl"), "yes");
        assert_string_equal(sget(v, "ssl_cert"), "</etc/a.pem");
        assert_string_equal(sget(v, "login_greeting"), "Mail # here");
        assert_string_equal(sget(v, "mail_max_userip_connections"), "10");
        json_decref(v);
        /* The drop-in alone. */
        v = json_object();
        assert_int_equal(dovecot_parse_text("ssl = required\n!include x\n", keys, v), 0);
        assert_string_equal(sget(v, "ssl"), "required");
        json_decref(v);
        /* An include of itself ends. */
        f = fopen(path, "w");
        fprintf(f, "!include %s\n", path);
        fclose(f);
        v = json_object();
        assert_int_equal(dovecot_read(path, keys, v), -ELOOP);
        json_decref(v);
        static const char *const made[] = {"p.protocol", "conf.d/10-ssl.conf",
                                           "conf.d/99-steward.conf", "dovecot.conf", NULL};
        for (size_t i = 0; made[i]; i++) {
                snprintf(path, sizeof path, "%s/%s", dir, made[i]);
                assert_int_equal(unlink(path), 0);
        }
        snprintf(path, sizeof path, "%s/conf.d", dir);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_grammars(void **state) {
        json_t *l;

        (void)state;
        assert_true(mail_domain_valid("mail.example.org"));
        assert_true(mail_domain_valid("localhost.$mydomain"));
        assert_true(mail_domain_valid("$myhostname"));
        assert_false(mail_domain_valid("-x.example.org"));
        assert_false(mail_domain_valid("a..b"));
        assert_false(mail_domain_valid("hash:/etc/x"));
        assert_false(mail_domain_valid(""));
        assert_true(mail_origin_valid("/etc/mailname"));
        assert_false(mail_origin_valid("/etc/../shadow"));

        assert_true(mail_relayhost_valid(""));
        assert_true(mail_relayhost_valid("[smtp.example.net]:587"));
        assert_true(mail_relayhost_valid("[127.0.0.1]:2526"));
        assert_true(mail_relayhost_valid("smtp.example.net"));
        assert_true(mail_relayhost_valid("[ipv6:2001:db8::1]:25"));
        assert_false(mail_relayhost_valid("[smtp.example.net]:0"));
        assert_false(mail_relayhost_valid("[smtp.example.net]:65536"));
        assert_false(mail_relayhost_valid("-oX"));
        assert_false(mail_relayhost_valid("[a b]"));
        assert_false(mail_relayhost_valid("smtp.example.net:25\nmynetworks=0.0.0.0/0"));

        assert_true(mail_network_valid("127.0.0.0/8"));
        assert_true(mail_network_valid("192.0.2.7"));
        assert_true(mail_network_valid("[::1]/128"));
        assert_true(mail_network_valid("[::ffff:127.0.0.0]/104"));
        assert_false(mail_network_valid("10.0.0.1/8"));  /* host bits */
        assert_false(mail_network_valid("10.0.0.0/33")); /* prefix */
        assert_false(mail_network_valid("10.0.0.0/08"));
        assert_false(mail_network_valid("::1/128")); /* Postfix wants [ ] */
        assert_false(mail_network_valid("[2001:db8::1]/32"));
        assert_false(mail_network_valid("0.0.0.0/"));

        assert_true(mail_interface_valid("loopback-only"));
        assert_true(mail_interface_valid("192.0.2.1"));
        assert_false(mail_interface_valid("a b"));

        l = json_pack("[s, s, s, s]", "permit_mynetworks", "reject_rbl_client", "zen.example.org",
                      "reject_unauth_destination");
        assert_null(mail_restrictions_check(l));
        json_decref(l);
        l = json_pack("[s, s]", "permit_mynetworks", "reject_rbl_client");
        assert_string_equal(mail_restrictions_check(l), "reject_rbl_client");
        json_decref(l);
        l = json_pack("[s]", "permit_everything");
        assert_string_equal(mail_restrictions_check(l), "permit_everything");
        json_decref(l);
        l = json_pack("[s, s]", "check_client_access", "hash:/etc/postfix/access");
        assert_null(mail_restrictions_check(l));
        json_decref(l);
        assert_true(mail_restriction_word_valid("hash:/etc/postfix/access"));
        assert_false(mail_restriction_word_valid("pipe:/bin/sh"));

        assert_true(mail_delimiter_valid("+"));
        assert_true(mail_delimiter_valid(""));
        assert_false(mail_delimiter_valid("a"));
        assert_true(mail_home_mailbox_valid("Maildir/"));
        assert_true(mail_home_mailbox_valid("Mailbox"));
        assert_false(mail_home_mailbox_valid("/var/mail/x"));
        assert_false(mail_home_mailbox_valid("../x"));
        assert_true(mail_file_valid("/etc/ssl/certs/mail.pem"));
        assert_true(mail_file_valid(""));
        assert_false(mail_file_valid("etc/x.pem"));
        assert_false(mail_file_valid("/etc/x y.pem"));
        assert_true(mail_banner_valid("$myhostname ESMTP ready"));
        assert_false(mail_banner_valid("ESMTP $myhostname"));
        assert_false(mail_banner_valid("$myhostnameX"));
        assert_true(mail_protocol_valid("imap"));
        assert_false(mail_protocol_valid("smtp"));
        assert_true(mail_mechanism_valid("login"));
        assert_false(mail_mechanism_valid("LOGIN x"));
        assert_true(mail_location_valid("maildir:~/Maildir"));
        assert_true(mail_location_valid("mbox:~/mail:INBOX=/var/mail/%u"));
        assert_false(mail_location_valid("maildir:~/M aildir"));
        assert_false(mail_location_valid("file:/x"));
        assert_true(mail_greeting_valid("Mail of example.org"));
        assert_false(mail_greeting_valid("a\"b"));
        assert_false(mail_greeting_valid("$x"));
        assert_false(mail_greeting_valid(""));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_maincf),
                cmocka_unit_test(test_master),
                cmocka_unit_test(test_dovecot),
                cmocka_unit_test(test_grammars),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
