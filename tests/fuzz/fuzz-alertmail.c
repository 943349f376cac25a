/* fuzz-alertmail.c — libFuzzer target for the alert mail the helper builds
 * (mail_message in src/modules/alerts/mailer.c) from what the front sends:
 * the input's first line is the subject, the rest the body.
 *
 * Whatever they hold: the headers are exactly the helper's eight lines
 * (the To's address on its continuation line aside), one Subject line of
 * printable ASCII at most MAIL_SUBJECT_MAX bytes, no CR anywhere, no body
 * line past 998 bytes; a body over MAIL_BODY_MAX is refused (a broken
 * property aborts). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/alerts/mailer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const prefixes[] = {"From: ",         "To: ",          " ",
                                       "Subject: ",      "MIME-Version: ", "Content-Type: ",
                                       "Content-Transfer-Encoding: ", "Auto-Submitted: "};

static void check_headers(const char *m, const char *end) {
        size_t n = 0;

        for (const char *l = m; l < end;) {
                const char *nl = memchr(l, '\n', (size_t)(end - l));
                bool known = false;
                if (!nl)
                        abort();
                for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
                        known |= strncmp(l, prefixes[i], strlen(prefixes[i])) == 0;
                if (!known)
                        abort();
                if (strncmp(l, "Subject: ", 9) == 0) {
                        if (nl - l - 9 > (long)MAIL_SUBJECT_MAX)
                                abort();
                        for (const char *p = l + 9; p < nl; p++)
                                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                                        abort();
                }
                n++;
                l = nl + 1;
        }
        if (n != 8) /* From, To and its one continuation, Subject, four more */
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const to[] = {"root@localhost", "ops@example.org"};
        char *in = malloc(size + 1), *nl, *m = NULL, *end;
        const char *subject, *body;
        int r;

        if (!in)
                return 0;
        memcpy(in, data, size);
        in[size] = '\0';
        nl = strchr(in, '\n');
        subject = in;
        body = "";
        if (nl) {
                *nl = '\0';
                body = nl + 1;
        }
        r = mail_message("steward@example.org", to, 2, subject, body, &m);
        if (r == -E2BIG && strlen(body) > MAIL_BODY_MAX) {
                free(in);
                return 0;
        }
        if (r < 0)
                abort();
        if (strchr(m, '\r'))
                abort();
        end = strstr(m, "\n\n");
        if (!end)
                abort();
        check_headers(m, end + 1);
        for (const char *l = end + 2; *l;) {
                const char *e = strchr(l, '\n');
                if (!e || e - l > 998)
                        abort();
                l = e + 1;
        }
        free(m);
        free(in);
        return 0;
}
