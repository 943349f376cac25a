/* fuzz-logsquery.c — libFuzzer target for the logs module's query grammar
 * (src/modules/logs/query.h) and its /var/log name grammar (files.h).
 *
 * The input is lines of KEY=VALUE: they are the query's parameters
 * (logs_query_parse), and each VALUE also goes to the time, priority and
 * unit parsers alone and to the file name check.  Any input may be refused,
 * but never with a crash or undefined behaviour, and what is taken keeps the
 * bounds: a priority range within 0..7, a limit within 1..10000, a unit name
 * within its length, a file name without a ".." component.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/logs/files.h"
#include "modules/logs/query.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAIRS_MAX 16

struct pairs {
        char *key[PAIRS_MAX], *value[PAIRS_MAX];
        size_t n;
};

static const char *get(void *opaque, const char *key) {
        const struct pairs *p = opaque;
        for (size_t i = 0; i < p->n; i++)
                if (STREQ(p->key[i], key))
                        return p->value[i];
        return NULL;
}

static void check_value(const char *v) {
        char unit[LOGS_UNIT_MAX + 1];
        uint64_t t;
        int a, b;

        (void)logs_parse_time(v, 1796364000ull * 1000000, &t);
        if (logs_parse_priority(v, &a, &b) == 0 && (a < 0 || b > 7 || a > b))
                abort();
        if (logs_parse_unit(v, unit) == 0 && strlen(unit) > LOGS_UNIT_MAX)
                abort();
        if (logs_file_name_valid(v) && (strstr(v, "/../") || strncmp(v, "../", 3) == 0 ||
                                        STREQ(v, "..") || v[0] == '/'))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), *line, *save = NULL;
        struct pairs p = {0};
        struct module_error e = {0};
        struct logs_query q;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        for (line = strtok_r(text, "\n", &save); line && p.n < PAIRS_MAX;
             line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                p.key[p.n] = line;
                p.value[p.n] = eq + 1;
                p.n++;
                check_value(eq + 1);
        }
        if (logs_query_parse(get, &p, 1796364000ull * 1000000, &q, &e) == 0 &&
            (q.limit < 1 || q.limit > LOGS_LIMIT_MAX || q.prio_max > 7))
                abort();
        free(text);
        return 0;
}
