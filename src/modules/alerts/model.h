/* model.h — alert rules as data: their grammar, each kind's defaults, the
 * JSON an item shows, and the rules file (model.c).
 *
 * The rules file, alert-rules.json next to the daemon's --config file
 * (/etc/steward/alert-rules.json), is {"rules": [rule…]} in the API's
 * shape of a rule (without the read-only state and error).  A missing file
 * means the shipped defaults; once a change wrote it, the file is all
 * there is (a default deleted stays deleted).  The helper writes it through
 * the change engine (audited, rolled back as any file); the front re-reads
 * it when it is made live.
 *
 * Everything here is pure except alert_rules_path() and the file reads;
 * functions return >= 0 or -errno with err filled, and never log.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "module.h"
#include "modules/alerts/alerts.h"

#define ALERT_RULES_MAX      256
#define ALERT_RULES_FILE     "alert-rules.json"
#define ALERT_RULES_FILE_MAX (1u << 20)
#define ALERT_FOR_MAX        (7u * 86400)  /* a rule's for */
#define ALERT_SILENCE_MAX    (30u * 86400) /* a silence's duration */

struct alert_rules {
        struct alert_rule *rule; /* malloc'ed, n of them */
        size_t n;
};
void alert_rules_done(struct alert_rules *rs);

const char *alert_kind_name(enum alert_kind k);
const char *alert_op_name(enum alert_op op);
const char *alert_state_name(enum alert_state s);
bool alert_rule_name_valid(const char *s);
/* Whether value passes "value OP limit". */
bool alert_compare(enum alert_op op, double value, double limit);

/* "30s", "5m", "2h", "1d" (digits and one unit; "0" alone is 0) at most max
 * seconds: 0 with *ret, -EINVAL otherwise. */
int alert_duration_parse(const char *s, unsigned max, unsigned *ret);
/* The shortest form of seconds ("90s", "5m", "2h"), in buf. */
const char *alert_duration_format(unsigned seconds, char *buf, size_t len);

/* A rule from its JSON (the API's fields; unknown ones refused): a
 * create's body, or base's fields with o's on top (a modify; name stays
 * base's, a new kind starts from that kind's defaults).  Validated
 * entirely, kind defaults filled in. */
int alert_rule_from_json(json_t *o, const struct alert_rule *base, struct alert_rule *ret,
                         struct module_error *err);
/* The rule's JSON as an item shows it (without state and error). */
json_t *alert_rule_to_json(const struct alert_rule *r);

/* The shipped defaults: disk-full, unit-failed, audit-chain. */
int alert_rules_defaults(struct alert_rules *ret);
/* Parses the rules file's text; -EINVAL with err naming the rule. */
int alert_rules_parse(const char *text, size_t len, struct alert_rules *ret,
                      struct module_error *err);
/* The file's text (malloc'ed) for rules. */
char *alert_rules_format(const struct alert_rules *rs);
/* The index of the rule named name, or -ENOENT. */
int alert_rules_find(const struct alert_rules *rs, const char *name);

/* The file's path (next to the --config file); NULL before it is known.
 * Valid until the next call from another thread changes the config path
 * (only unit tests do). */
const char *alert_rules_path(void);
/* Reads the file (the defaults when it is absent); *ret_text, if not NULL,
 * gets its text (NULL when absent) for a change's guard. */
int alert_rules_load(struct alert_rules *ret, char **ret_text, struct module_error *err);
/* Reads one of the module's files next to --config (path from
 * alert_rules_path() or alert_marks_path(), NULL when unknown): 1 with its
 * text, 0 when there is no file (the caller's defaults apply), -errno with
 * err set. */
int alert_file_read(const char *path, size_t max, char **ret, size_t *ret_len,
                    struct module_error *err);
