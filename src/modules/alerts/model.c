/* model.c — alert rules as data (model.h): grammar, kind defaults, JSON,
 * the rules file.
 *
 * A rule is validated whole, after the defaults of its kind are filled in:
 * the kind decides which fields mean anything (series only for threshold,
 * window only for disk_fill and login_failures, match per kind); a field
 * given to a kind that does not read it is refused rather than ignored, so
 * that a rule always says what it does.  The comparison and its clear value
 * must agree (for > and >=, clear <= threshold; for < and <=, clear >=
 * threshold), else hysteresis would resolve an alert before it fires.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/alerts/model.h"
#include "series.h"
#include "settingsfile.h"
#include "util.h"
#include "valuesrc.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static const char *const kind_names[_AK_MAX] = {
        [AK_THRESHOLD] = "threshold",        [AK_DISK] = "disk",
        [AK_DISK_FILL] = "disk_fill",        [AK_UNIT_FAILED] = "unit_failed",
        [AK_NEW_LISTENER] = "new_listener",  [AK_LOGIN_FAILURES] = "login_failures",
        [AK_AUDIT_CHAIN] = "audit_chain",    [AK_CERT_EXPIRY] = "cert_expiry",
        [AK_MAIL_QUEUE] = "mail_queue",      [AK_SHARE_DISK] = "share_disk",
};
static const char *const op_names[] = {[AOP_GT] = ">", [AOP_GE] = ">=", [AOP_LT] = "<",
                                       [AOP_LE] = "<="};
static const char *const state_names[] = {[AS_INACTIVE] = "inactive", [AS_PENDING] = "pending",
                                          [AS_FIRING] = "firing", [AS_RESOLVED] = "resolved"};

/* What a kind reads, and its defaults. */
enum { M_NONE, M_PATH, M_UNIT, M_SHARE };
struct kind_info {
        enum alert_op op;
        double threshold, clear; /* clear NaN: the threshold */
        unsigned window;         /* 0: takes no window */
        unsigned window_min, window_max;
        int match;
        const char *summary; /* the default summary */
};
static const struct kind_info kinds[_AK_MAX] = {
        [AK_THRESHOLD] = {AOP_GT, NAN, NAN, 0, 0, 0, M_NONE, "{series} is {value}"},
        [AK_DISK] = {AOP_GE, 90, 85, 0, 0, 0, M_PATH, "Filesystem {instance} is {value} % full"},
        [AK_DISK_FILL] = {AOP_LE, 24, NAN, 6 * 3600, 600, 7 * 86400, M_PATH,
                          "Filesystem {instance} fills within {value} hours"},
        [AK_UNIT_FAILED] = {AOP_GE, 1, NAN, 0, 0, 0, M_UNIT, "Unit {instance} failed"},
        [AK_NEW_LISTENER] = {AOP_GE, 1, NAN, 0, 0, 0, M_NONE,
                             "New listener {instance} not in the ports baseline"},
        [AK_LOGIN_FAILURES] = {AOP_GE, 10, NAN, 300, 60, 86400, M_NONE,
                               "{value} failed logins {instance}"},
        [AK_AUDIT_CHAIN] = {AOP_GE, 1, NAN, 0, 0, 0, M_NONE,
                            "The audit log's chain fails verification"},
        [AK_CERT_EXPIRY] = {AOP_LE, 14, NAN, 0, 0, 0, M_PATH,
                            "Certificate {instance} expires in {value} days"},
        [AK_MAIL_QUEUE] = {AOP_GE, 100, NAN, 0, 0, 0, M_NONE, "{value} messages in the mail queue"},
        [AK_SHARE_DISK] = {AOP_GE, 90, 85, 0, 0, 0, M_SHARE,
                           "The filesystem of share {instance} is {value} % full"},
};

void alert_rules_done(struct alert_rules *rs) {
        free(rs->rule);
        rs->rule = NULL;
        rs->n = 0;
}

const char *alert_kind_name(enum alert_kind k) {
        return (unsigned)k < _AK_MAX ? kind_names[k] : NULL;
}

const char *alert_op_name(enum alert_op op) {
        return (unsigned)op < ELEMENTSOF(op_names) ? op_names[op] : NULL;
}

const char *alert_state_name(enum alert_state s) {
        return (unsigned)s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

static bool lower_digit(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool alert_rule_name_valid(const char *s) {
        size_t n = strnlen(s, ALERT_NAME_MAX + 1);

        if (n == 0 || n > ALERT_NAME_MAX || !lower_digit(s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!lower_digit(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        return true;
}

bool alert_compare(enum alert_op op, double value, double limit) {
        if (isnan(value) || isnan(limit))
                return false;
        switch (op) {
        case AOP_GT:
                return value > limit;
        case AOP_GE:
                return value >= limit;
        case AOP_LT:
                return value < limit;
        case AOP_LE:
                return value <= limit;
        }
        return false;
}

int alert_duration_parse(const char *s, unsigned max, unsigned *ret) {
        unsigned long long v = 0, unit;
        size_t i = 0;

        if (!s)
                return -EINVAL;
        if (STREQ(s, "0")) {
                *ret = 0;
                return 0;
        }
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (i >= 7)
                        return -EINVAL;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (i == 0 || s[i + 1] != '\0')
                return -EINVAL;
        switch (s[i]) {
        case 's':
                unit = 1;
                break;
        case 'm':
                unit = 60;
                break;
        case 'h':
                unit = 3600;
                break;
        case 'd':
                unit = 86400;
                break;
        default:
                return -EINVAL;
        }
        if (v * unit > max)
                return -ERANGE;
        *ret = (unsigned)(v * unit);
        return 0;
}

const char *alert_duration_format(unsigned seconds, char *buf, size_t len) {
        if (seconds == 0)
                snprintf(buf, len, "0s");
        else if (seconds % 86400 == 0)
                snprintf(buf, len, "%ud", seconds / 86400);
        else if (seconds % 3600 == 0)
                snprintf(buf, len, "%uh", seconds / 3600);
        else if (seconds % 60 == 0)
                snprintf(buf, len, "%um", seconds / 60);
        else
                snprintf(buf, len, "%us", seconds);
        return buf;
}

/* ---- field grammars ---------------------------------------------------------- */

static bool ident_char(char c) {
        return lower_digit(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

/* "status:MODULE:dotted.path": a module name and one to eight segments. */
static bool status_ref_valid(const char *s) {
        const char *p = s;
        unsigned segs = 0;

        if (!lower_digit(*p))
                return false;
        while (lower_digit(*p) || *p == '_')
                p++;
        if (*p++ != ':')
                return false;
        for (;;) {
                const char *b = p;
                while (ident_char(*p))
                        p++;
                if (p == b || ++segs > 8)
                        return false;
                if (*p == '\0')
                        return true;
                if (*p++ != '.')
                        return false;
        }
}

static bool series_valid(const char *s) {
        if (strncmp(s, "metric:", 7) == 0)
                return valuesrc_selector_valid(s + 7);
        if (strncmp(s, "status:", 7) == 0)
                return status_ref_valid(s + 7);
        for (size_t i = 0; i < _HS_MAX; i++)
                if (STREQ(series_defs[i].name, s))
                        return true;
        return false;
}

/* An absolute path without "." or ".." components, "//" or control bytes. */
static bool match_path_valid(const char *s) {
        size_t n = strlen(s);

        if (STREQ(s, "/"))
                return true;
        if (n < 2 || s[0] != '/' || s[n - 1] == '/' || !utf8_valid(s, n) || strstr(s, "//") ||
            strstr(s, "/./") || strstr(s, "/../") ||
            (n >= 2 && STREQ(s + n - 2, "/.")) || (n >= 3 && STREQ(s + n - 3, "/..")))
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* A unit name or a glob of one: [A-Za-z0-9:_.@\\-*?[]]. */
static bool match_unit_valid(const char *s) {
        if (!*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!ident_char(*p) && !strchr(":.@\\-*?[]", *p))
                        return false;
        return true;
}

static bool match_share_valid(const char *s) {
        if (!*s || *s == '.' || *s == '-')
                return false;
        for (const char *p = s; *p; p++)
                if (!ident_char(*p) && *p != '.' && *p != '-')
                        return false;
        return true;
}

static bool summary_valid(const char *s) {
        size_t n = strlen(s);

        if (!utf8_valid(s, n))
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* ---- JSON → rule ---------------------------------------------------------------- */

/* A 422 naming the field; the value of the expression is -EINVAL. */
#define bad(err, field, ...)                                                                       \
        (module_error_set((err), 422, "invalid_value", (field), __VA_ARGS__), -EINVAL)

static const char *const known_fields[] = {"name",   "kind",      "series",   "match",
                                           "op",     "threshold", "clear",    "for",
                                           "window", "severity",  "enabled",  "summary"};

static int str_field(json_t *o, const char *key, char *dst, size_t size,
                     struct module_error *err) {
        json_t *v = json_object_get(o, key);

        if (!v)
                return 0;
        if (!json_is_string(v))
                return bad(err, key, "%s must be a string", key);
        if (json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v))
                return bad(err, key, "%s is too long or holds a NUL byte", key);
        memcpy(dst, json_string_value(v), json_string_length(v) + 1);
        return 1;
}

static int number_field(json_t *o, const char *key, bool nullable, double *dst,
                        struct module_error *err) {
        json_t *v = json_object_get(o, key);

        if (!v)
                return 0;
        if (nullable && json_is_null(v)) {
                *dst = NAN;
                return 1;
        }
        if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
            fabs(json_number_value(v)) > 1e15)
                return bad(err, key, "%s must be a finite number (at most 1e15)", key);
        *dst = json_number_value(v);
        return 1;
}

static int duration_field(json_t *o, const char *key, unsigned max, unsigned *dst,
                          struct module_error *err) {
        json_t *v = json_object_get(o, key);
        char buf[32];

        if (!v)
                return 0;
        if (!json_is_string(v) || alert_duration_parse(json_string_value(v), max, dst) < 0) {
                module_error_set(err, 422, "invalid_value", key,
                                 "%s must be a duration such as 30s, 5m, 2h or 1d, at most %s",
                                 key, alert_duration_format(max, buf, sizeof buf));
                return -EINVAL;
        }
        return 1;
}

static int enum_field(json_t *o, const char *key, const char *const *names, size_t n, int *dst,
                      struct module_error *err) {
        json_t *v = json_object_get(o, key);

        if (!v)
                return 0;
        for (size_t i = 0; json_is_string(v) && i < n; i++)
                if (names[i] && STREQ(names[i], json_string_value(v))) {
                        *dst = (int)i;
                        return 1;
                }
        return bad(err, key, "%s is not one of the allowed values", key);
}

/* The kind's fields that are not its own: refused when given. */
static int kind_fields_check(const struct alert_rule *r, json_t *o, struct module_error *err) {
        const struct kind_info *k = &kinds[r->kind];

        if (r->kind == AK_THRESHOLD) {
                if (!r->series[0])
                        return bad(err, "series", "a threshold rule needs %s", "series");
                if (!series_valid(r->series))
                        return bad(err, "series",
                                   "%s is no history series, metric:SELECTOR or "
                                   "status:MODULE:path",
                                   "series");
                if (!json_object_get(o, "threshold"))
                        return bad(err, "threshold", "a threshold rule needs %s", "threshold");
        } else if (r->series[0])
                return bad(err, "series", "only a threshold rule takes %s", "series");
        if (!k->window && r->window_seconds)
                return bad(err, "window", "only disk_fill and login_failures take a %s", "window");
        if (k->window && (r->window_seconds < k->window_min || r->window_seconds > k->window_max))
                return bad(err, "window", "the %s is out of bounds for this kind", "window");
        if (r->match[0]) {
                bool ok = k->match == M_PATH    ? match_path_valid(r->match)
                          : k->match == M_UNIT  ? match_unit_valid(r->match)
                          : k->match == M_SHARE ? match_share_valid(r->match)
                                                : false;
                if (!ok)
                        return bad(err, "match", "%s is not valid for this kind",
                                   k->match == M_NONE ? "match (this kind takes none)" : "match");
        }
        return 0;
}

static int rule_check(const struct alert_rule *r, json_t *o, struct module_error *err) {
        int rc = kind_fields_check(r, o, err);

        if (rc < 0)
                return rc;
        if (!isfinite(r->threshold))
                return bad(err, "threshold", "%s must be a number", "threshold");
        if (!isnan(r->clear)) {
                bool up = r->op == AOP_GT || r->op == AOP_GE;
                if (up ? r->clear > r->threshold : r->clear < r->threshold)
                        return bad(err, "clear",
                                   "%s must be on the safe side of the threshold (at or below "
                                   "it for > and >=, at or above it for < and <=)",
                                   "clear");
        }
        if (!summary_valid(r->summary))
                return bad(err, "summary", "%s holds control characters or bad UTF-8", "summary");
        return 0;
}

static void kind_defaults(struct alert_rule *r) {
        const struct kind_info *k = &kinds[r->kind];

        r->op = k->op;
        r->threshold = k->threshold;
        r->clear = k->clear;
        r->window_seconds = k->window;
}

static int fields_known(json_t *o, struct module_error *err) {
        const char *key;
        json_t *v;

        if (!json_is_object(o)) {
                module_error_set(err, 400, "invalid_argument", NULL, "a rule is a JSON object");
                return -EINVAL;
        }
        json_object_foreach(o, key, v) {
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(known_fields) && !known; i++)
                        known = STREQ(known_fields[i], key);
                if (!known) {
                        module_error_set(err, 400, "invalid_argument", key,
                                         "unknown field %s (state and error are read-only)", key);
                        return -EINVAL;
                }
        }
        return 0;
}

/* The fields all kinds have. */
static int common_fields(json_t *o, struct alert_rule *r, struct module_error *err) {
        static const char *const sev[] = {"warning", "critical"};
        json_t *en = json_object_get(o, "enabled");
        int op = (int)r->op, s = r->critical, rc;

        if ((rc = str_field(o, "series", r->series, sizeof r->series, err)) < 0 ||
            (rc = str_field(o, "match", r->match, sizeof r->match, err)) < 0 ||
            (rc = str_field(o, "summary", r->summary, sizeof r->summary, err)) < 0 ||
            (rc = enum_field(o, "op", op_names, ELEMENTSOF(op_names), &op, err)) < 0 ||
            (rc = enum_field(o, "severity", sev, ELEMENTSOF(sev), &s, err)) < 0 ||
            (rc = number_field(o, "threshold", false, &r->threshold, err)) < 0 ||
            (rc = number_field(o, "clear", true, &r->clear, err)) < 0 ||
            (rc = duration_field(o, "for", ALERT_FOR_MAX, &r->for_seconds, err)) < 0 ||
            (rc = duration_field(o, "window", 7 * 86400, &r->window_seconds, err)) < 0)
                return rc;
        r->op = (enum alert_op)op;
        r->critical = s == 1;
        if (en && !json_is_boolean(en))
                return bad(err, "enabled", "%s must be true or false", "enabled");
        if (en)
                r->enabled = json_is_true(en);
        return 0;
}

int alert_rule_from_json(json_t *o, const struct alert_rule *base, struct alert_rule *ret,
                         struct module_error *err) {
        struct alert_rule r = {.enabled = true, .clear = NAN};
        int kind = -1, rc;
        _cleanup_json_ json_t *merged = NULL;

        rc = fields_known(o, err);
        if (rc < 0)
                return rc;
        if (base) {
                if (json_object_get(o, "name") &&
                    !(json_is_string(json_object_get(o, "name")) &&
                      STREQ(json_string_value(json_object_get(o, "name")), base->name)))
                        return bad(err, "name", "a rule's %s cannot change", "name");
                rc = enum_field(o, "kind", kind_names, _AK_MAX, &kind, err);
                if (rc < 0)
                        return rc;
                if (rc == 0 || (enum alert_kind)kind == base->kind) {
                        /* The same kind: the rule as it is, o on top. */
                        merged = alert_rule_to_json(base);
                        if (!merged || json_object_update(merged, o) < 0) {
                                module_error_set(err, 500, "internal", NULL, "out of memory");
                                return -ENOMEM;
                        }
                        o = merged;
                } else if (!json_object_get(o, "name")) {
                        /* Another kind: its defaults, o on top. */
                        merged = json_deep_copy(o);
                        if (!merged ||
                            json_object_set_new(merged, "name", json_string(base->name)) < 0) {
                                module_error_set(err, 500, "internal", NULL, "out of memory");
                                return -ENOMEM;
                        }
                        o = merged;
                }
        }
        rc = str_field(o, "name", r.name, sizeof r.name, err);
        if (rc < 0)
                return rc;
        if (rc == 0 || !alert_rule_name_valid(r.name))
                return bad(err, "name", "%s must match [a-z0-9][a-z0-9_.-]{0,63}", "name");
        rc = enum_field(o, "kind", kind_names, _AK_MAX, &kind, err);
        if (rc < 0)
                return rc;
        if (rc == 0)
                return bad(err, "kind", "a rule needs a %s", "kind");
        r.kind = (enum alert_kind)kind;
        kind_defaults(&r);
        r.critical = r.kind == AK_AUDIT_CHAIN;
        rc = common_fields(o, &r, err);
        if (rc < 0)
                return rc;
        rc = rule_check(&r, o, err);
        if (rc < 0)
                return rc;
        *ret = r;
        return 0;
}

json_t *alert_rule_to_json(const struct alert_rule *r) {
        char f[32], w[32];
        json_t *o;

        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:s, s:s, s:b, s:s}", "name", r->name,
                      "kind", alert_kind_name(r->kind), "series", r->series, "match", r->match,
                      "op", alert_op_name(r->op), "threshold", r->threshold, "clear",
                      isnan(r->clear) ? json_null() : json_real(r->clear), "for",
                      alert_duration_format(r->for_seconds, f, sizeof f), "severity",
                      r->critical ? "critical" : "warning", "enabled", r->enabled, "summary",
                      r->summary);
        if (o && kinds[r->kind].window)
                json_object_set_new(o, "window",
                                    json_string(alert_duration_format(r->window_seconds, w,
                                                                      sizeof w)));
        return o;
}

/* ---- the set of rules and its file --------------------------------------------------- */

static int rules_add(struct alert_rules *rs, const struct alert_rule *r) {
        struct alert_rule *n;

        if (rs->n >= ALERT_RULES_MAX)
                return -E2BIG;
        n = realloc(rs->rule, (rs->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        rs->rule = n;
        rs->rule[rs->n++] = *r;
        return 0;
}

int alert_rules_defaults(struct alert_rules *ret) {
        static const char *const defs[] = {
                "{\"name\": \"disk-full\", \"kind\": \"disk\", \"threshold\": 90, \"clear\": 85}",
                "{\"name\": \"unit-failed\", \"kind\": \"unit_failed\"}",
                "{\"name\": \"audit-chain\", \"kind\": \"audit_chain\", \"severity\": \"critical\"}",
        };
        struct alert_rules rs = {0};

        for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
                _cleanup_json_ json_t *o = json_loads(defs[i], 0, NULL);
                struct module_error e = {0};
                struct alert_rule r;
                int rc = o ? alert_rule_from_json(o, NULL, &r, &e) : -ENOMEM;
                if (rc >= 0)
                        rc = rules_add(&rs, &r);
                if (rc < 0) {
                        alert_rules_done(&rs);
                        return rc;
                }
        }
        *ret = rs;
        return 0;
}

int alert_rules_find(const struct alert_rules *rs, const char *name) {
        for (size_t i = 0; i < rs->n; i++)
                if (STREQ(rs->rule[i].name, name))
                        return (int)i;
        return -ENOENT;
}

int alert_rules_parse(const char *text, size_t len, struct alert_rules *ret,
                      struct module_error *err) {
        _cleanup_json_ json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        json_t *list = json_object_get(root, "rules"), *item;
        struct alert_rules rs = {0};
        size_t i;

        if (!json_is_array(list) || json_object_size(root) != 1) {
                module_error_set(err, 500, "invalid_file", NULL,
                                 "the rules file is not {\"rules\": [...]}");
                return -EINVAL;
        }
        if (json_array_size(list) > ALERT_RULES_MAX) {
                module_error_set(err, 500, "invalid_file", NULL,
                                 "the rules file holds more than %u rules", ALERT_RULES_MAX);
                return -E2BIG;
        }
        json_array_foreach(list, i, item) {
                struct alert_rule r;
                int rc = alert_rule_from_json(item, NULL, &r, err);
                if (rc >= 0 && alert_rules_find(&rs, r.name) >= 0) {
                        module_error_set(err, 500, "invalid_file", "name",
                                         "the rule %s is there twice", r.name);
                        rc = -EEXIST;
                }
                if (rc >= 0)
                        rc = rules_add(&rs, &r);
                if (rc < 0) {
                        char m[sizeof err->message];
                        int k = snprintf(m, sizeof m, "the rules file's rule #%zu: ", i + 1);
                        if (k > 0 && (size_t)k < sizeof m) {
                                size_t l = strnlen(err->message, sizeof m - (size_t)k - 1);
                                memcpy(m + k, err->message, l);
                                m[(size_t)k + l] = '\0';
                                memcpy(err->message, m, sizeof m);
                        }
                        alert_rules_done(&rs);
                        return rc;
                }
        }
        *ret = rs;
        return 0;
}

char *alert_rules_format(const struct alert_rules *rs) {
        _cleanup_json_ json_t *list = json_array(), *root = NULL;
        char *text, *out = NULL;

        for (size_t i = 0; list && i < rs->n; i++)
                if (json_array_append_new(list, alert_rule_to_json(&rs->rule[i])) < 0)
                        return NULL;
        root = json_pack("{s:O}", "rules", list);
        text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text && asprintf(&out, "%s\n", text) < 0)
                out = NULL;
        free(text);
        return out;
}

static pthread_mutex_t path_lock = PTHREAD_MUTEX_INITIALIZER;
static char rules_path[PATH_MAX];

const char *alert_rules_path(void) {
        const char *cfg = settings_config_path();
        char dir[PATH_MAX], path[PATH_MAX];
        const char *ret = NULL;

        if (!cfg || strlen(cfg) >= sizeof dir)
                return NULL;
        memcpy(dir, cfg, strlen(cfg) + 1);
        if (snprintf(path, sizeof path, "%s/%s", dirname(dir), ALERT_RULES_FILE) >=
            (int)sizeof path)
                return NULL;
        pthread_mutex_lock(&path_lock);
        if (!STREQ(rules_path, path))
                memcpy(rules_path, path, sizeof path);
        ret = rules_path;
        pthread_mutex_unlock(&path_lock);
        return ret;
}

int alert_file_read(const char *path, size_t max, char **ret, size_t *ret_len,
                    struct module_error *err) {
        int r;

        *ret = NULL;
        if (!path) {
                module_error_set(err, 500, "internal", NULL, "the configuration path is unknown");
                return -ENOENT;
        }
        r = read_file(path, max, ret, ret_len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                module_error_set(err, 500, "io_error", NULL, "cannot read %s: %s", path,
                                 strerror(-r));
                return r;
        }
        return 1;
}

int alert_rules_load(struct alert_rules *ret, char **ret_text, struct module_error *err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        if (ret_text)
                *ret_text = NULL;
        r = alert_file_read(alert_rules_path(), ALERT_RULES_FILE_MAX, &text, &len, err);
        if (r <= 0)
                return r < 0 ? r : alert_rules_defaults(ret);
        r = alert_rules_parse(text, len, ret, err);
        if (r >= 0 && ret_text)
                *ret_text = TAKE_PTR(text);
        return r;
}
