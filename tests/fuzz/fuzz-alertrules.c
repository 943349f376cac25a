/* fuzz-alertrules.c — libFuzzer target for the alert rules file
 * (src/modules/alerts/model.c) and the metric selector grammar
 * (common/valuesrc.c).
 *
 * Any input may be refused, but never with a crash, a leak or undefined
 * behaviour.  What alert_rules_parse() accepts must survive a round trip:
 * the rules formatted as a file parse back to the same rules.  The input is
 * also checked as a selector (its first line): that must only say yes or
 * no.  A broken property aborts, which the fuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/alerts/model.h"
#include "util.h"
#include "valuesrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct alert_rules rs = {0}, back = {0};
        struct module_error e = {0};
        char line[8192];
        size_t n = 0;
        char *text;

        if (size > 256 * 1024)
                return 0;
        while (n < size && n < sizeof line - 1 && data[n] != '\n' && data[n] != '\0') {
                line[n] = (char)data[n];
                n++;
        }
        line[n] = '\0';
        (void)valuesrc_selector_valid(line);

        if (alert_rules_parse((const char *)data, size, &rs, &e) < 0)
                return 0;
        text = alert_rules_format(&rs);
        if (!text)
                abort();
        if (alert_rules_parse(text, strlen(text), &back, &e) < 0 || back.n != rs.n)
                abort();
        for (size_t i = 0; i < rs.n; i++) {
                char *a = alert_rules_format(&(struct alert_rules){.rule = &rs.rule[i], .n = 1});
                char *b = alert_rules_format(&(struct alert_rules){.rule = &back.rule[i], .n = 1});
                if (!a || !b || strcmp(a, b) != 0)
                        abort();
                free(a);
                free(b);
        }
        free(text);
        alert_rules_done(&rs);
        alert_rules_done(&back);
        return 0;
}
