/* queue.h — the pieces of queue.c below the contract of mail.h, exposed for
 * the unit test (tests/unit/test-mail-queue.c) and the fuzz target
 * (tests/fuzz/fuzz-mail-queue.c): the parser of one line of `postqueue -j`,
 * the filters, and the grouping of delay reasons. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

/* Postfix's queues, in the order of the answers' "counts". */
enum {
        QUEUE_ACTIVE,
        QUEUE_DEFERRED,
        QUEUE_HOLD,
        QUEUE_INCOMING,
        QUEUE_MAILDROP,
        QUEUE_N,
};
extern const char *const queue_names_all[QUEUE_N + 1];

#define QUEUE_ID_MAX      32  /* a long id is 17 characters today; more is not Postfix's */
#define QUEUE_ADDRESS_MAX 320 /* RFC 5321: 64 + '@' + 255 */
#define QUEUE_REASON_MAX  200 /* the filter "reason", and a grouped reason */
#define QUEUE_TEXT_MAX    1024 /* a sender, recipient or delay reason taken from postqueue */
#define QUEUE_LIMIT_MAX   100000
#define QUEUE_LIMIT_DEF   20000 /* messages listed when no limit is asked for */

/* One line of `postqueue -j` (a JSON object: queue_name, queue_id,
 * arrival_time, message_size, forced_expire, sender, recipients [{address,
 * delay_reason?}]) → a MESSAGE of mail.h in *ret: {"id", "queue",
 * "arrival_time" (ISO 8601 UTC), "age_seconds" (from now, epoch seconds),
 * "size", "sender", "recipients": [{"address", "delay_reason"?}],
 * "forced_expire"}, its queue in *ret_queue and its arrival (epoch) in
 * *ret_arrival.  -EBADMSG for a line that is not such an object: a queue
 * name that is not one of the five, an id outside Postfix's grammar, a
 * number out of range, a string over QUEUE_TEXT_MAX bytes. */
int queue_parse_line(const char *line, size_t len, int64_t now, json_t **ret, int *ret_queue,
                     int64_t *ret_arrival);

/* What selects messages.  Strings empty: not asked for. */
struct queue_filter {
        int queue; /* -1: any */
        char sender[QUEUE_ADDRESS_MAX + 1];
        char recipient[QUEUE_ADDRESS_MAX + 1];
        char domain[256];
        int64_t older_than; /* seconds; -1: any age */
        char reason[QUEUE_REASON_MAX + 1];
        char id[QUEUE_ID_MAX + 1];
        int64_t limit; /* -1: QUEUE_LIMIT_DEF */
        bool all;
};

/* Reads the filters from args (strings as the query gives them; "limit"
 * and "older_than" may also be integers, "all" a boolean): each value
 * checked, a 400 naming the field for a bad one or for a member that is not
 * in allowed (NULL-terminated; "what" is always allowed). */
int queue_filter_parse(json_t *args, const char *const *allowed, struct queue_filter *f,
                       struct module_error *err);
/* Whether a filter other than limit and all is set. */
bool queue_filter_any(const struct queue_filter *f);
/* Whether the message (the shape of queue_parse_line) matches. */
bool queue_filter_match(const struct queue_filter *f, json_t *msg, int queue, int64_t age);
/* "3600", "30m", "2h", "3d", "1w" → seconds (at most ten years). */
int queue_age_parse(const char *s, int64_t *ret);
/* An address ("local@domain", the domain a DNS name), "@domain", or "<>"
 * (the null sender, which postqueue shows as MAILER-DAEMON). */
bool queue_address_valid(const char *s);

/* A delay reason with its variable parts replaced by '*' so that the same
 * cause groups: host names with their bracketed address and port
 * ("connect to *[*]:*: Connection refused"), addresses ("<*>"), a
 * "name=…" of a DNS error; a leading "delivery temporarily suspended: "
 * (Postfix's note that it did not try again) is dropped.  Status codes and
 * the remote server's words stay.  dst gets at most dst_len - 1 bytes (cut
 * at a character boundary) and a NUL. */
void queue_reason_group(const char *reason, char *dst, size_t dst_len);
