/* query.h — the logs module's query grammar: what GET /api/v1/logs and a
 * `logs` event stream take, parsed into one struct before the journal is
 * touched.
 *
 * Pure functions over strings (no journal, no I/O), so the unit tests and
 * the fuzz target call them directly.  Every parameter has a length limit
 * and a strict grammar; a refusal is a 400 `invalid_argument` naming the
 * parameter.  Times are microseconds since the epoch (the journal's
 * realtime clock); wall-clock forms without a zone are local time, as
 * journalctl reads them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

#define LOGS_UNIT_MAX       256
#define LOGS_IDENTIFIER_MAX 128
#define LOGS_GREP_MAX       256
#define LOGS_CURSOR_MAX     1024
#define LOGS_LIMIT_MAX      10000
#define LOGS_LIMIT_DEFAULT  100
#define LOGS_BOOTS_BACK_MAX 100 /* boot=-N: N at most */

struct logs_query {
        char unit[LOGS_UNIT_MAX + 1]; /* "" for any; mangled to NAME.service like journalctl -u */
        char identifier[LOGS_IDENTIFIER_MAX + 1];
        char grep[LOGS_GREP_MAX + 1];  /* lower case already; "" for none */
        char cursor[LOGS_CURSOR_MAX + 1];
        int prio_min, prio_max;        /* 0..7; prio_max < 0: no filter */
        bool has_since, has_until;
        uint64_t since, until;         /* usec since the epoch */
        bool has_boot;
        bool boot_is_id;
        unsigned boot_back;            /* boot=-N: N (0: the last boot) */
        char boot_id[33];              /* boot=ID: 32 lower-case hex digits */
        unsigned limit;
        bool asc;
        bool tail; /* desc's page, answered oldest first (journalctl -n) */
};

/* Where a parameter's value comes from (the request's query, a stream's
 * parameters): the value or NULL. */
typedef const char *(*logs_param_fn)(void *opaque, const char *key);

/* Fills q from the parameters (unit priority since until boot identifier
 * grep limit cursor order); now is the current time (usec since the
 * epoch).  -EINVAL with err a 400 naming the parameter. */
int logs_query_parse(logs_param_fn get, void *opaque, uint64_t now, struct logs_query *q,
                     struct module_error *err);

/* A time expression: "now", "today", "yesterday", "tomorrow", "@EPOCH",
 * "-1h" / "+30m" / "-2d 3h" (units s, m, h, d, w, with long forms),
 * "YYYY-MM-DD[ HH:MM[:SS[.frac]]]" with 'T' for the space allowed and an
 * optional "Z" or " UTC".  -EINVAL when it is none of these. */
int logs_parse_time(const char *s, uint64_t now, uint64_t *ret);

/* A priority as journalctl -p takes it: a level ("err" or "3": 0..3) or a
 * range ("err..warning", either order).  -EINVAL otherwise. */
int logs_parse_priority(const char *s, int *ret_min, int *ret_max);

/* A unit name as journalctl -u takes it (no globs); "nginx" becomes
 * "nginx.service".  -EINVAL for anything else. */
int logs_parse_unit(const char *s, char ret[LOGS_UNIT_MAX + 1]);

/* Whether message (n bytes, any content) contains needle, which is lower
 * case, ignoring ASCII case.  buf: scratch of at least n bytes. */
bool logs_grep_match(const char *needle, size_t needle_len, const char *message, size_t n,
                     char *buf);

/* The name of priority p (0..7), or "unknown". */
const char *logs_priority_name(int p);
