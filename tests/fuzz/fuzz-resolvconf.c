/* fuzz-resolvconf.c — libFuzzer target for resolv.conf's parser
 * (resolv_conf_parse, modules/network/network.h).
 *
 * Any bytes parse (a file is whatever is there), never with a crash, a
 * leak or undefined behaviour, and what comes out is bounded and safe to
 * show: at most 16 servers, 32 search names and 32 options, every string
 * printable ASCII of 1..255 bytes, every server an IP literal.  A broken
 * property aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/network/network.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strings(json_t *list, size_t max, bool servers) {
        json_t *v;
        size_t i;

        if (!json_is_array(list) || json_array_size(list) > max)
                abort();
        json_array_foreach(list, i, v) {
                const char *s = json_string_value(v);
                size_t n = s ? strlen(s) : 0;
                if (n == 0 || n > 255)
                        abort();
                for (size_t k = 0; k < n; k++)
                        if ((unsigned char)s[k] <= ' ' || (unsigned char)s[k] >= 0x7f)
                                abort();
                if (servers) {
                        char a[64];
                        unsigned char b[16];
                        size_t l = strcspn(s, "%");
                        if (l >= sizeof a)
                                abort();
                        memcpy(a, s, l);
                        a[l] = '\0';
                        if (inet_pton(AF_INET, a, b) != 1 && inet_pton(AF_INET6, a, b) != 1)
                                abort();
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *j;

        if (size > RESOLV_CONF_MAX)
                return 0;
        j = resolv_conf_parse((const char *)data, size, "/etc/resolv.conf");
        if (!j)
                abort();
        check_strings(json_object_get(j, "servers"), 16, true);
        check_strings(json_object_get(j, "search"), 32, false);
        check_strings(json_object_get(j, "options"), 32, false);
        if (!json_is_boolean(json_object_get(j, "resolved")))
                abort();
        json_decref(j);
        return 0;
}
