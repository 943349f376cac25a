/* expo.h — a writer for the Prometheus text exposition format, version 0.0.4.
 *
 * A scrape is a sequence of families; each family is announced once with
 * expo_family() ("# HELP" and "# TYPE" lines) and its samples follow it
 * directly, because a parser takes a name seen again after another family
 * for a duplicate.  A sample is expo_sample(), any number of expo_label(),
 * then exactly one expo_u64()/expo_i64()/expo_ratio()/expo_double()/
 * expo_raw_value(), which ends the line.
 *
 * Errors are sticky: the first failure (out of memory, the output cap, a bad
 * name from the caller) is kept in e->error and every later call does
 * nothing, so a collector writes a whole family and checks once.
 *
 * Label values are escaped as the format says (backslash, double quote and
 * line feed), and bytes that are not valid UTF-8 become U+FFFD: the values
 * come from the system (mount points, interface and device names) and need
 * not be UTF-8, which Prometheus refuses.  HELP text escapes backslash and
 * line feed.  Metric and label names are the caller's and are checked, not
 * repaired; expo_name_component() makes a name part out of a kernel key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define EXPO_LINE_MAX 512

/* A line is assembled in `line` and appended to `out` whole, so `out` holds
 * only complete lines between calls. */
struct expo {
        struct buf *out;
        int error;      /* first failure, -errno; 0 while all is well */
        bool labels;    /* inside "{…" of the current sample */
        bool in_sample; /* between expo_sample() and its value */
        /* The name expo_family() checked last: samples that pass the same
         * string (most do) are not checked again. */
        const char *family;
        char line[EXPO_LINE_MAX];
        size_t line_len;
};

void expo_init(struct expo *e, struct buf *out);

/* type: "counter", "gauge", "histogram", "summary" or "untyped". */
void expo_family(struct expo *e, const char *name, const char *type, const char *help);

void expo_sample(struct expo *e, const char *name);
void expo_label(struct expo *e, const char *key, const char *value);
void expo_label_n(struct expo *e, const char *key, const char *value, size_t n);

void expo_u64(struct expo *e, uint64_t v);
void expo_i64(struct expo *e, int64_t v);
/* num/den as an exact decimal when den divides a power of ten (USER_HZ 100,
 * milliseconds, microseconds), else cut at nine decimals.  den must be
 * between 1 and UINT64_MAX / 10 (-EINVAL). */
void expo_ratio(struct expo *e, uint64_t num, uint64_t den);
void expo_double(struct expo *e, double v);
/* A number already checked by the caller to be an integer ("-1", "42"). */
void expo_raw_value(struct expo *e, const char *s, size_t n);

/* Appends s[0..n) escaped as a label value (without the quotes). */
int expo_escape_label_value(struct buf *out, const char *s, size_t n);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool expo_metric_name_valid(const char *s, size_t n);

/* A kernel key as a metric name component, as node_exporter mangles
 * /proc/meminfo keys: "(x)" becomes "_x" (Active(anon) → Active_anon), and
 * any other byte outside [a-zA-Z0-9_] becomes '_'.  Writes at most size-1
 * bytes and a NUL; -ENAMETOOLONG when it does not fit, -EINVAL when empty. */
int expo_name_component(const char *s, size_t n, char *dst, size_t size);
