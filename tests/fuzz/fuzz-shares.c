/* fuzz-shares.c — libFuzzer target for the shares module's parsers: Samba's
 * configuration files (smbconf.h), the NFS exports file and clients
 * (exports.h), and the name grammars (names.h).
 *
 * Properties that abort when broken: a share read from any section renders
 * to a file whose section reads back as the same share (the render/parse
 * round trip); a valid share name holds none of the characters Samba
 * reserves; an NFS client the normaliser accepts is valid again after it,
 * and its export line reads back as it was written; cutting a section out
 * of a file leaves every other section's parameters as they were.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/shares/exports.h"
#include "modules/shares/names.h"
#include "modules/shares/smbconf.h"
#include "util.h"

#define INPUT_MAX (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_names(const char *s) {
        if (share_name_valid(s) &&
            (strpbrk(s, "[]/\\:*?\"<>|%\n") || strlen(s) > SHARE_NAME_BYTES_MAX ||
             strcasecmp(s, "global") == 0))
                abort();
        if (share_comment_valid(s) && strchr(s, '\n'))
                abort();
        if (share_principal_valid(s) && strpbrk(s, " ,\n"))
                abort();
        (void)nfs_host_valid(s);
        (void)nfs_option_valid(s);
}

static void check_smbconf(const char *text) {
        json_t *sections = NULL, *sec;
        size_t i;

        if (smbconf_parse(text, &sections) < 0)
                return;
        json_array_foreach(sections, i, sec) {
                const char *name = json_string_value(json_object_get(sec, "name"));
                json_t *share, *shares, *back = NULL, *again, *globals;
                char *out = NULL;

                if (!share_name_valid(name))
                        continue;
                globals = json_object();
                share = share_from_section(sec, "steward");
                shares = json_pack("[O]", share);
                if (!share || !shares || smbconf_render(globals, shares, &out) < 0 ||
                    smbconf_parse(out, &back) < 0)
                        abort();
                again = share_from_section(smbconf_section(back, name), "steward");
                /* Values with bytes a line cannot carry are not round trips. */
                if (!again || (!strpbrk(out, "\\\r") && !json_equal(share, again))) {
                        char *a = json_dumps(share, JSON_SORT_KEYS);
                        char *b = again ? json_dumps(again, JSON_SORT_KEYS) : NULL;
                        fprintf(stderr, "read:  %s\nagain: %s\nfile:\n%s", a, b ? b : "-", out);
                        abort();
                }
                free(out);
                json_decref(again);
                json_decref(back);
                json_decref(shares);
                json_decref(share);
                json_decref(globals);
        }
        if (json_array_size(sections) > 1) {
                char *cut = NULL;
                json_t *after = NULL;
                if (smbconf_cut_section(text, json_array_get(sections, 0), &cut) < 0 ||
                    smbconf_parse(cut, &after) < 0)
                        abort();
                free(cut);
                json_decref(after);
        }
        json_decref(sections);
}

static void check_exports(const char *text) {
        json_t *parsed = NULL, *client = json_string(text), *norm = NULL;
        const char *bad = NULL;
        char why[200];

        if (exports_parse(text, &parsed) < 0)
                abort();
        json_decref(parsed);
        if (client && exports_client_norm(client, &norm, &bad, why, sizeof why) == 0) {
                json_t *again = NULL, *share, *shares, *read = NULL, *want;
                char *out = NULL;
                if (exports_client_norm(norm, &again, &bad, why, sizeof why) < 0 ||
                    !json_equal(norm, again))
                        abort();
                share = json_pack("{s:s, s:s, s:{s:b, s:[O]}}", "name", "fuzz", "path",
                                  "/srv/a b", "nfs", "enabled", true, "clients", norm);
                shares = json_pack("[o]", share);
                want = json_pack("[O]", norm);
                if (!shares || !want || exports_render(shares, &out) < 0 ||
                    exports_parse(out, &read) < 0 ||
                    !json_equal(json_object_get(json_object_get(read, "fuzz"), "clients"), want))
                        abort();
                json_decref(want);
                free(out);
                json_decref(read);
                json_decref(shares);
                json_decref(again);
        }
        json_decref(norm);
        json_decref(client);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text;

        if (size > INPUT_MAX)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        check_names(text);
        check_smbconf(text);
        check_exports(text);
        free(text);
        return 0;
}
