/* fuzz-dnswire.c — libFuzzer target for the DNS answer decoder
 * (dns_answer_decode, modules/network/dnswire.h): bytes a remote server
 * chose, to JSON.
 *
 * Any input may be refused (-EBADMSG), never with a crash, a leak or
 * undefined behaviour.  What a decoded answer holds is safe to show and
 * bounded: at most 100 records a section, every record's name, type and
 * data printable ASCII (escapes included), a TTL that fits 32 bits.  A
 * broken property aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/network/dnswire.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(json_t *v) {
        const char *s = json_string_value(v);

        if (!s)
                abort();
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
                        abort();
}

static void check_section(json_t *list) {
        json_t *rr;
        size_t i;

        if (!json_is_array(list) || json_array_size(list) > 100)
                abort();
        json_array_foreach(list, i, rr) {
                json_int_t ttl = json_integer_value(json_object_get(rr, "ttl"));
                check_text(json_object_get(rr, "name"));
                check_text(json_object_get(rr, "type"));
                check_text(json_object_get(rr, "data"));
                if (ttl < 0 || ttl > UINT32_MAX)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *j = NULL;
        int r;

        if (size > DNS_MSG_MAX)
                return 0;
        r = dns_answer_decode(data, size, &j);
        if (r < 0) {
                if (j || (r != -EBADMSG && r != -ENOMEM))
                        abort();
                return 0;
        }
        check_text(json_object_get(j, "rcode"));
        check_section(json_object_get(j, "answers"));
        check_section(json_object_get(j, "authority"));
        json_decref(j);
        return 0;
}
