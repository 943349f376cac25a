/* valuesrc.c — the registry of named live values (valuesrc.h).
 *
 * Invariants: the provider pointer is atomic; valuesrc_metric() calls the
 * provider it loaded, so a provider must stay callable until the call that
 * cleared it returned and every caller left it (the owner clears it in its
 * done(), after the callers' threads stopped).  The selector grammar is
 * checked here, before any provider sees a selector.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "valuesrc.h"

#define SELECTOR_MAX        4096
#define SELECTOR_LABELS_MAX 16
#define SELECTOR_VALUE_MAX  256

static _Atomic(valuesrc_fn) metric_provider;

void valuesrc_set_metric_provider(valuesrc_fn fn) {
        atomic_store(&metric_provider, fn);
}

int valuesrc_metric(const char *selector, double *ret) {
        valuesrc_fn fn = atomic_load(&metric_provider);

        if (!selector || !valuesrc_selector_valid(selector))
                return -EINVAL;
        if (!fn)
                return -ENOSYS;
        return fn(selector, ret);
}

static bool name_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c) {
        return name_start(c) || (c >= '0' && c <= '9');
}

/* A label name: [a-zA-Z_][a-zA-Z0-9_]*; advances *p. */
static bool label_name(const char **p) {
        const char *s = *p;

        if (!name_start(*s) || *s == ':')
                return false;
        while (name_char(*s) && *s != ':')
                s++;
        *p = s;
        return true;
}

/* "value" with escapes \" \\ \n, at most SELECTOR_VALUE_MAX bytes once
 * unescaped; advances *p past the closing quote. */
static bool label_value(const char **p) {
        const char *s = *p;
        size_t n = 0;

        if (*s++ != '"')
                return false;
        for (;;) {
                if (*s == '\0' || *s == '\n')
                        return false;
                if (*s == '"')
                        break;
                if (*s == '\\') {
                        s++;
                        if (*s != '"' && *s != '\\' && *s != 'n')
                                return false;
                }
                s++;
                if (++n > SELECTOR_VALUE_MAX)
                        return false;
        }
        *p = s + 1;
        return true;
}

bool valuesrc_selector_valid(const char *selector) {
        const char *s = selector;
        unsigned labels = 0;

        if (!s || strnlen(s, SELECTOR_MAX + 1) > SELECTOR_MAX || !name_start(*s))
                return false;
        while (name_char(*s))
                s++;
        if (*s == '\0')
                return true;
        if (*s++ != '{')
                return false;
        if (*s == '}')
                return s[1] == '\0';
        for (;;) {
                if (!label_name(&s) || *s++ != '=' || !label_value(&s))
                        return false;
                if (++labels > SELECTOR_LABELS_MAX)
                        return false;
                if (*s == '}')
                        return s[1] == '\0';
                if (*s++ != ',')
                        return false;
        }
}
