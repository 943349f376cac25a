/* fuzz-acctfile.c — libFuzzer target for the account file grammars of
 * src/modules/users/accounts.c: colon lines (passwd, group, shadow), the
 * shadow redaction, /etc/shells, and the name, GECOS, password and home
 * checks on every line.  Never a crash; redaction is idempotent, keeps the
 * number of lines, and leaves no '$' in a password field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/users/accounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t lines(const char *s, size_t n) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += s[i] == '\n';
        return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const roots[] = {"/home", NULL};
        const char *text = (const char *)data, *line;
        char *red = NULL, *red2 = NULL;
        size_t pos = 0, ll;

        while (text_next_line(text, size, &pos, &line, &ll)) {
                struct colon_line l;
                char *s = malloc(ll + 1);
                uint32_t v;

                if (!s)
                        return 0;
                memcpy(s, line, ll);
                s[ll] = '\0';
                if (colon_split(line, ll, 1, COLON_FIELDS_MAX, &l) == 0) {
                        for (size_t i = 0; i < l.n; i++)
                                (void)colon_u32(&l, i, &v);
                }
                (void)account_name_valid(s);
                (void)gecos_valid(s);
                (void)password_valid(s);
                (void)home_path_valid(s, roots);
                (void)shells_contains(text, size, s);
                free(s);
        }
        if (shadow_redact(text, size, &red) == 0) {
                size_t rl = strlen(red);
                if (shadow_redact(red, rl, &red2) != 0 || strcmp(red, red2) != 0)
                        abort();
                if (lines(red, rl) != lines(text, size) && memchr(text, '\0', size) == NULL)
                        abort();
                pos = 0;
                while (text_next_line(red, rl, &pos, &line, &ll)) {
                        struct colon_line l;
                        if (colon_split(line, ll, 2, COLON_FIELDS_MAX, &l) == 0 &&
                            memchr(l.f[1], '$', l.len[1]))
                                abort();
                }
                free(red);
                free(red2);
        }
        return 0;
}
