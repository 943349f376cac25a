/* fuzz-mail-queue.c — libFuzzer target for what the mail module reads from
 * Postfix: a line of `postqueue -j` (queue_parse_line), a line of the mail
 * log (activity_parse_line), a delay reason to group (queue_reason_group),
 * and the queue's filters as a JSON object (queue_filter_parse).
 *
 * The first byte picks the parser; the rest is its input, unterminated.
 * Any input may be refused, but never with a crash, a leak or undefined
 * behaviour; and what is accepted is what the callers rely on: a message's
 * id is one of Postfix's queue ids (it becomes postsuper's input and
 * postcat's argument) and its queue one of the five; a log event's id is a
 * queue id or NOQUEUE and its texts valid UTF-8; a grouped reason valid
 * UTF-8 that fits; an accepted filter's id a queue id.  A broken property
 * aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/mail/activity.h"
#include "modules/mail/mail.h"
#include "modules/mail/queue.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap) {
        size_t n = strnlen(s, cap);
        if (n == cap || !utf8_valid(s, n))
                abort();
}

static void one_message(const char *text, size_t n) {
        json_t *m = NULL, *r;
        int64_t arrival;
        size_t i;
        int q;

        if (queue_parse_line(text, n, 1796391100, &m, &q, &arrival) != 0)
                return;
        if (q < 0 || q >= QUEUE_N || !queue_id_valid(json_string_value(json_object_get(m, "id"))) ||
            !STREQ(json_string_value(json_object_get(m, "queue")) ?: "", queue_names_all[q]) ||
            json_array_size(json_object_get(m, "recipients")) == 0)
                abort();
        json_array_foreach(json_object_get(m, "recipients"), i, r) {
                if (!json_is_string(json_object_get(r, "address")))
                        abort();
        }
        json_decref(m);
}

static void one_log_line(const char *text, size_t n) {
        struct activity_event ev;
        int64_t t;

        if (activity_parse_line(text, n, 1796391100, &t, &ev) <= 0)
                return;
        if (ev.kind == ACT_NONE || (!STREQ(ev.queue_id, "NOQUEUE") && !queue_id_valid(ev.queue_id)))
                abort();
        check_text(ev.to, sizeof ev.to);
        check_text(ev.reason, sizeof ev.reason);
        check_text(ev.status, sizeof ev.status);
}

static void one_reason(const char *text, size_t n) {
        char *s = malloc(n + 1), g[QUEUE_REASON_MAX + 1];

        if (!s)
                return;
        memcpy(s, text, n);
        s[n] = '\0';
        utf8_sanitize(s); /* reasons come from JSON: valid UTF-8 */
        queue_reason_group(s, g, sizeof g);
        check_text(g, sizeof g);
        free(s);
}

static void one_filter(const char *text, size_t n) {
        static const char *const keys[] = {"queue",  "sender", "recipient", "domain", "older_than",
                                           "reason", "limit",  "id",        "all",    NULL};
        struct module_error err = {0};
        struct queue_filter f;
        json_t *a = json_loadb(text, n, 0, NULL);

        if (a && queue_filter_parse(a, keys, &f, &err) == 0 && f.id[0] && !queue_id_valid(f.id))
                abort();
        json_decref(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data + 1;

        if (size < 1)
                return 0;
        switch (data[0] % 4) {
        case 0:
                one_message(text, size - 1);
                break;
        case 1:
                one_log_line(text, size - 1);
                break;
        case 2:
                one_reason(text, size - 1);
                break;
        default:
                one_filter(text, size - 1);
                break;
        }
        return 0;
}
