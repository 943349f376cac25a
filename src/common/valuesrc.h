/* valuesrc.h — a neutral registry of named live values, so that a rule can
 * name a /metrics sample without naming the module that exposes it.
 *
 * Invariants: one provider at most (the last set wins); the provider is
 * called without any lock of this file held beyond reading its pointer, so
 * it may be set and cleared from any thread; a provider that is cleared is
 * not called again once valuesrc_set_metric_provider(NULL) returned.
 */
#pragma once

#include <stdbool.h>

/* A provider answers "what is the value of SELECTOR now": selector is a
 * Prometheus sample selector without functions: NAME or NAME{l="v",…}
 * (exact matches only).  Returns 1 with *ret set, 0 when no sample
 * matches, -errno on error.  Must be thread-safe and must not block for
 * long (it may read a cached scrape). */
typedef int (*valuesrc_fn)(const char *selector, double *ret);
void valuesrc_set_metric_provider(valuesrc_fn fn); /* NULL: none */
int valuesrc_metric(const char *selector, double *ret); /* -ENOSYS without provider */
/* Checks the grammar of a selector (name [a-zA-Z_:][a-zA-Z0-9_:]*, at most
 * 16 labels, values ≤ 256 bytes, escapes \" \\ \n). */
bool valuesrc_selector_valid(const char *selector);
