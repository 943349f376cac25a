/* fuzz-shares-conn.c — libFuzzer target for what the shares module reads
 * about who is connected: `smbstatus --json` (connections_parse_smbstatus),
 * the info files of /proc/fs/nfsd/clients (connections_parse_nfs_info) and
 * `pdbedit -L -v` (smbusers_parse_pdbedit).
 *
 * The first byte picks the parser; the rest is its input, unterminated.
 * Any input may be rejected, but never with a crash, a leak or undefined
 * behaviour; and what is accepted must be what the callers rely on: every
 * SMB id is "smb-DIGITS-DIGITS" and every address one inet_pton reads (it
 * becomes an argv of smbcontrol), every NFS id "nfs-DIGITS".  A broken
 * property aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/shares/connections.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool address_ok(const char *a) {
        unsigned char bin[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, a, bin) == 1 || inet_pton(AF_INET6, a, bin) == 1;
}

static bool id_ok(const char *id, const char *prefix, int parts) {
        size_t n = strlen(prefix);

        if (strncmp(id, prefix, n) != 0)
                return false;
        for (int i = 0; i < parts; i++) {
                size_t d = strspn(id + n, "0123456789");
                if (d == 0)
                        return false;
                n += d;
                if (i + 1 < parts && id[n++] != '-')
                        return false;
        }
        return id[n] == '\0';
}

static void check_list(json_t *list) {
        json_t *c;
        size_t i;

        json_array_foreach(list, i, c) {
                const char *id = json_string_value(json_object_get(c, "id"));
                const char *addr = json_string_value(json_object_get(c, "address"));
                if (!id || !id_ok(id, "smb-", 2) || (addr && !address_ok(addr)))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *list, *c = NULL;
        const char *text = (const char *)data + 1;

        if (size < 1)
                return 0;
        list = json_array();
        if (!list)
                return 0;
        switch (data[0] % 3) {
        case 0:
                if (connections_parse_smbstatus(text, size - 1, list) == 0)
                        check_list(list);
                break;
        case 1:
                if (connections_parse_nfs_info("7", text, size - 1, &c) == 0) {
                        if (!id_ok(json_string_value(json_object_get(c, "id")) ?: "", "nfs-", 1) ||
                            !address_ok(json_string_value(json_object_get(c, "address")) ?: ""))
                                abort();
                        json_decref(c);
                }
                break;
        default:
                (void)smbusers_parse_pdbedit(text, size - 1, list);
                break;
        }
        json_decref(list);
        return 0;
}
