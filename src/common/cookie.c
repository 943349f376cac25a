/* cookie.c — see cookie.h.  A single pass over the header; nothing is
 * copied or allocated, so any header the HTTP layer accepted (its size is
 * capped there) is scanned in linear time. */
#include "cookie.h"

#include <string.h>

size_t cookie_find(const char *header, const char *name, const char **ret_value, size_t *ret_len) {
        size_t nlen = strlen(name), count = 0;
        const char *p = header;

        if (!p)
                return 0;
        while (*p) {
                const char *pair, *eq, *end;

                while (*p == ' ' || *p == '\t' || *p == ';')
                        p++;
                if (!*p)
                        break;
                pair = p;
                end = strchr(p, ';');
                if (!end)
                        end = p + strlen(p);
                eq = memchr(pair, '=', (size_t)(end - pair));
                if (eq && (size_t)(eq - pair) == nlen && memcmp(pair, name, nlen) == 0) {
                        const char *v = eq + 1, *ve = end;
                        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                                ve--;
                        if (count++ == 0) {
                                if (ret_value)
                                        *ret_value = v;
                                if (ret_len)
                                        *ret_len = (size_t)(ve - v);
                        }
                }
                p = end;
        }
        return count;
}
