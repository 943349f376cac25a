/* fuzz-mail-conf.c — libFuzzer target for the mail settings' readers
 * (mailconf.c): main.cf's logical lines (maincf_parse, maincf_postconf_n,
 * postfix_list), master.cf's services and Steward's block in it
 * (master_service_on, master_with_block) and a Dovecot drop-in
 * (dovecot_parse_text).
 *
 * The first byte picks the parser; the rest is its input.  Any input may
 * be read as nothing, never with a crash, a leak or undefined behaviour;
 * and what the callers rely on holds: every parameter main.cf yields has a
 * name of [A-Za-z0-9_] and a value without a newline (postconf -e gets it
 * back as one argument), a list item holds no separator, master.cf with
 * the block on runs the services and with the block off no longer carries
 * it, and putting the block in twice is the same as once.  A broken
 * property aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/mail/mailconf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_maincf(const char *text) {
        json_t *p = NULL, *v, *l, *x;
        const char *k;
        char *n;
        size_t i;

        if (maincf_parse(text, &p) < 0)
                return;
        json_object_foreach(p, k, v) {
                const char *s = json_string_value(v);
                if (!*k ||
                    strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                            strlen(k) ||
                    !s || strchr(s, '\n'))
                        abort();
                l = postfix_list(s);
                json_array_foreach(l, i, x) {
                        const char *item = json_string_value(x);
                        if (!item || !*item || strpbrk(item, ", \t\r\n"))
                                abort();
                }
                json_decref(l);
        }
        n = maincf_postconf_n(text);
        if (n && json_object_size(p) > 0 && !*n)
                abort();
        free(n);
        json_decref(p);
}

/* Whether a line of text starts with the block's first line. */
static bool has_block(const char *text) {
        size_t n = strlen(MASTER_BLOCK_BEGIN);

        for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, MASTER_BLOCK_BEGIN, n) == 0)
                        return true;
        return false;
}

static void check_master(const char *text) {
        char *on = master_with_block(text, true, true), *twice = NULL, *off = NULL;

        (void)master_service_on(text, "submission", NULL);
        if (!on)
                return;
        if (!master_service_on(on, "submission", NULL) || !master_service_on(on, "smtps", NULL) ||
            !has_block(on))
                abort();
        twice = master_with_block(on, true, true);
        off = master_with_block(on, false, false);
        if (!twice || !off || !STREQ(on, twice) || has_block(off))
                abort();
        free(on);
        free(twice);
        free(off);
}

static void check_dovecot(const char *text) {
        static const char *const keys[] = {
                "protocols", "ssl", "ssl_cert", "login_greeting", "mail_max_userip_connections",
                NULL};
        json_t *v = json_object(), *x;
        const char *k;

        if (v && dovecot_parse_text(text, keys, v) >= 0)
                json_object_foreach(v, k, x) if (!json_is_string(x) ||
                                                 strchr(json_string_value(x), '\n')) abort();
        json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text;

        if (size < 1 || size > 64 * 1024)
                return 0;
        text = malloc(size);
        if (!text)
                return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        switch (data[0] % 3) {
        case 0:
                check_maincf(text);
                break;
        case 1:
                check_master(text);
                break;
        default:
                check_dovecot(text);
                break;
        }
        free(text);
        return 0;
}
