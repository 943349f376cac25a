/* fuzz-acctfile.c — libFuzzer target for the account file grammars of
 * src/modules/users/accounts.c: colon lines (passwd, group, shadow), the
 * shadow redaction, /etc/shells, and the name, GECOS, password and home
 * checks on every line, the files service's grammar (passwd and group) and
 * nsswitch.conf's lines.  Never a crash; redaction is idempotent, keeps the
 * number of lines, and leaves no '$' in a password field; the files
 * grammar reads every text without NUL bytes as glibc's own parser does. */
#include <grp.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
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

/* Our parse of text as passwd (or group) against fgetpwent_r's (or
 * fgetgrent_r's), entry by entry.  Texts with NUL bytes are left out, and
 * the last line gets its '\n': there glibc reads stale bytes of its line
 * buffer after skipping leading white space (the unit test covers a last
 * line without '\n' that has none). */
static void files_as_glibc(const char *data, size_t size, bool users) {
        size_t pos = 0, cap = size + 4096;
        char *text = malloc(size + 2), *ours = malloc(size + 2), *buf = malloc(cap),
             *a = malloc(2 * cap), *b = malloc(2 * cap);
        FILE *f = NULL;

        if (!text || !ours || !buf || !a || !b || size == 0 || memchr(data, '\0', size))
                goto out;
        memcpy(text, data, size);
        if (text[size - 1] != '\n')
                text[size++] = '\n';
        text[size] = '\0';
        memcpy(ours, text, size + 1);
        if (!(f = fmemopen(text, size, "r")))
                goto out;
        for (;;) {
                struct passwd pw, *pp;
                struct group gr, *gp;
                struct files_pwent e;
                struct files_grent g;
                bool glibc = users ? fgetpwent_r(f, &pw, buf, cap, &pp) == 0
                                   : fgetgrent_r(f, &gr, buf, cap, &gp) == 0;
                bool mine = users ? files_next_pwent(ours, size, &pos, &e)
                                  : files_next_grent(ours, size, &pos, &g);
                size_t k;
                char *list, *m;
                if (glibc != mine)
                        abort();
                if (!glibc)
                        break;
                if (users) {
                        if (strcmp(pw.pw_name, e.name) || pw.pw_uid != e.uid ||
                            pw.pw_gid != e.gid ||
                            strcmp(pw.pw_shell ? pw.pw_shell : "", e.shell ? e.shell : "") ||
                            strcmp(pw.pw_dir ? pw.pw_dir : "", e.dir ? e.dir : "") ||
                            strcmp(pw.pw_gecos ? pw.pw_gecos : "", e.gecos ? e.gecos : ""))
                                abort();
                        continue;
                }
                if (strcmp(gr.gr_name, g.name) || gr.gr_gid != g.gid)
                        abort();
                k = 0;
                a[0] = b[0] = '\0';
                for (char **p = gr.gr_mem; p && *p; p++)
                        k += (size_t)snprintf(a + k, 2 * cap - k, "%s,", *p);
                k = 0;
                for (list = g.members; (m = files_next_member(&list));)
                        k += (size_t)snprintf(b + k, 2 * cap - k, "%s,", m);
                if (strcmp(a, b))
                        abort();
        }
out:
        if (f)
                fclose(f);
        free(text);
        free(ours);
        free(buf);
        free(a);
        free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const roots[] = {"/home", NULL};
        char names[NSS_SERVICES_MAX][NSS_SERVICE_NAME_MAX + 1];
        size_t n;
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
        files_as_glibc(text, size, true);
        files_as_glibc(text, size, false);
        (void)nsswitch_services(text, size, "passwd", names, &n);
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
