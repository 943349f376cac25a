/* fuzz-mail-who-aliases.c — libFuzzer target for what the mail module reads
 * about connected users and aliases: `doveadm -f json who -1`
 * (who_parse_doveadm), the lines of /proc/PID/net/tcp and tcp6
 * (who_parse_tcp_line) and /etc/aliases (aliases_parse).
 *
 * The first byte picks the parser; the rest is its input, unterminated.
 * Any input may be rejected, but never with a crash, a leak or undefined
 * behaviour; and what is accepted must be what the callers rely on: a
 * session's pid is above 1 and its client an address inet_pton reads or
 * null; an alias entry's bytes lie in the file, after the previous entry's,
 * its name before its ':' (a write replaces exactly those bytes), and an
 * editable entry has no target that pipes, writes to a file or includes.
 * A broken property aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/mail/aliases.h"
#include "modules/mail/who.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool address_ok(const char *a) {
        unsigned char bin[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, a, bin) == 1 || inet_pton(AF_INET6, a, bin) == 1;
}

static void check_sessions(json_t *list) {
        json_t *c, *client;
        size_t i;

        json_array_foreach(list, i, c) {
                client = json_object_get(c, "client");
                if (json_integer_value(json_object_get(c, "pid")) <= 1 ||
                    !json_string_length(json_object_get(c, "user")) ||
                    !(json_is_null(client) || address_ok(json_string_value(client) ?: "")))
                        abort();
        }
}

static void check_aliases(const char *t, size_t len, const struct alias_file *f) {
        size_t prev = 0;

        for (size_t i = 0; i < f->n; i++) {
                const struct alias_entry *e = &f->entries[i];
                json_t *v;
                size_t k;
                if (e->start < prev || e->start >= e->end || e->end > len || e->name < e->start ||
                    e->name + e->name_len > e->colon || e->colon >= e->end || t[e->colon] != ':' ||
                    e->name_len == 0)
                        abort();
                json_array_foreach(e->targets, k, v) {
                        const char *s = json_string_value(v);
                        if (!s || (e->editable && alias_target_special(s, strlen(s))))
                                abort();
                }
                prev = e->end;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data + 1;
        struct alias_file f;
        struct who_tcp tcp;
        json_t *list;

        if (size < 1)
                return 0;
        switch (data[0] % 3) {
        case 0:
                list = json_array();
                if (list && who_parse_doveadm(text, size - 1, list, 64) == 0)
                        check_sessions(list);
                json_decref(list);
                break;
        case 1:
                for (int v6 = 0; v6 < 2; v6++)
                        if (who_parse_tcp_line(text, size - 1, v6, &tcp) == 0 &&
                            (!address_ok(tcp.remote) || tcp.local_port > 0xffff ||
                             tcp.state > 0xff))
                                abort();
                break;
        default:
                if (aliases_parse(text, size - 1, &f) == 0) {
                        check_aliases(text, size - 1, &f);
                        alias_file_done(&f);
                }
                break;
        }
        return 0;
}
