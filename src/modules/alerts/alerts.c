/* alerts.c — the `alerts` module: rules over the history, /metrics samples,
 * module status and built-in kinds; their alerts' states (inactive,
 * pending, firing, resolved) kept across restarts; silences and
 * acknowledgements; notifications to webhooks, an Alertmanager and mail.
 *
 * This file is the module's table and glue; the substance is beside it:
 *
 *     model.c    rules: grammar, defaults per kind, the rules file
 *     engine.c   the evaluation thread (front), states, persistence
 *     kinds.c    what each kind of rule observes
 *     notify.c   the notifier thread: webhooks, Alertmanager, mail
 *
 * The settings (destinations of notifications) are a settings file of the
 * registry, /etc/steward/alerts.conf; no notification carries a secret.
 * The evaluation interval is the metrics module's sampling interval: the
 * engine follows the sampler's ticks.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "module.h"
#include "modules/alerts/alerts.h"
#include "modules/alerts/kinds.h"
#include "modules/alerts/engine.h"
#include "modules/alerts/model.h"
#include "modules/alerts/mailer.h"
#include "modules/alerts/notify.h"
#include "modules/alerts/writes.h"
#include "roles.h"
#include "settingsfile.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- settings (alerts.conf) ------------------------------------------------- */

static bool url_host_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
}

/* An http(s) URL: scheme, a host (a DNS name, an IPv4 address or [IPv6]),
 * an optional port, an optional path of printable ASCII; no userinfo, no
 * fragment, no spaces or quotes. */
static bool notify_url_valid(const char *s) {
        const char *p, *h;
        size_t n = strnlen(s, SETTING_WIDE_LIST_ITEM_MAX + 1);

        if (n > SETTING_WIDE_LIST_ITEM_MAX)
                return false;
        if (strncmp(s, "https://", 8) == 0)
                p = s + 8;
        else if (strncmp(s, "http://", 7) == 0)
                p = s + 7;
        else
                return false;
        h = p;
        if (*p == '[') {
                p++;
                while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                       (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.')
                        p++;
                if (*p != ']' || p - h < 3)
                        return false;
                p++;
        } else {
                char host[256];
                while (url_host_char(*p))
                        p++;
                if (p == h || (size_t)(p - h) >= sizeof host)
                        return false;
                memcpy(host, h, (size_t)(p - h));
                host[p - h] = '\0';
                if (!dns_name_valid(host, 253))
                        return false;
        }
        if (*p == ':') {
                unsigned port = 0;
                const char *d = ++p;
                while (*p >= '0' && *p <= '9' && p - d < 5)
                        port = port * 10 + (unsigned)(*p++ - '0');
                if (p == d || port == 0 || port > 65535)
                        return false;
        }
        if (*p != '\0' && *p != '/')
                return false;
        for (; *p; p++)
                if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '#' ||
                    *p == '<' || *p == '>' || *p == '`' || *p == '{' || *p == '}' || *p == '|' ||
                    *p == '^')
                        return false;
        return true;
}

static bool alertmanager_url_valid(const char *s) {
        return *s == '\0' || notify_url_valid(s);
}

/* local@domain: a dot-atom local part and a DNS name. */
static bool mail_address_valid(const char *s) {
        const char *at = strchr(s, '@');
        size_t n = strnlen(s, 255);

        if (!at || at == s || n >= 255 || at - s > 64 || strchr(at + 1, '@'))
                return false;
        for (const char *p = s; p < at; p++) {
                char c = *p;
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+/=?^_`{|}~-", c)) ||
                          (c == '.' && p != s && p + 1 != at && p[1] != '.');
                if (!ok)
                        return false;
        }
        return dns_name_valid(at + 1, 253);
}

static bool mail_from_valid(const char *s) {
        return *s == '\0' || mail_address_valid(s);
}

static const setting_def_t settings[] = {
        {.key = "webhooks",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = ALERTS_DESTINATIONS_MAX,
         .valid_string = notify_url_valid,
         .confidential = true,
         .description = "Webhook URLs (http or https, no user:password) that get Alertmanager's "
                        "webhook body (version 4) for each change of an alert (admins read "
                        "them whole; others see scheme://host/…)",
         SETTING_FIELD(struct alerts_config, webhooks)},
        {.key = "alertmanager_url",
         .type = SETTING_STRING,
         .min = 0,
         .max = SETTING_WIDE_LIST_ITEM_MAX,
         .valid_string = alertmanager_url_valid,
         .confidential = true,
         .def_string = "",
         .description = "Base URL of an Alertmanager that gets the alerts (BASE/api/v2/alerts); "
                        "empty: none",
         SETTING_FIELD(struct alerts_config, alertmanager_url)},
        {.key = "mail_to",
         .type = SETTING_STRING_ARRAY,
         .min = 0,
         .max = ALERTS_DESTINATIONS_MAX,
         .valid_string = mail_address_valid,
         .description = "Addresses that get a mail for each change of an alert (through the "
                        "local MTA)",
         SETTING_FIELD(struct alerts_config, mail_to)},
        {.key = "mail_from",
         .type = SETTING_STRING,
         .min = 0,
         .max = 254,
         .valid_string = mail_from_valid,
         .def_string = "",
         .description = "The From address of alert mail; empty: steward@HOSTNAME",
         SETTING_FIELD(struct alerts_config, mail_from)},
        {.key = "send_resolved",
         .type = SETTING_BOOLEAN,
         .def_int = 1,
         .description = "Also notify when an alert resolves",
         SETTING_FIELD(struct alerts_config, send_resolved)},
        {.key = "repeat_interval",
         .type = SETTING_INTEGER,
         .min = 60,
         .max = 30 * 86400,
         .def_int = 14400,
         .description = "Seconds after which a still-firing alert is notified again",
         SETTING_FIELD(struct alerts_config, repeat_interval)},
};

static struct alerts_config live;
static struct settings_file_state state;

static const settings_file_t settings_file = {
        .module = "alerts",
        .rows = settings,
        .n_rows = ELEMENTSOF(settings),
        .file = "alerts.conf",
        .header = "# Settings of the alerts module (steward settings alerts:…), written by "
                  "stewardd.\n",
        .size = sizeof(struct alerts_config),
        .live = &live,
        .state = &state,
};

/* ---- reads (in the front) -------------------------------------------------------- */

static const char *query_str(json_t *query, const char *key) {
        return json_string_value(json_object_get(query, key));
}

static int alerts_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                       struct module_error *err) {
        const char *st = query_str(query, "state"), *rule = query_str(query, "rule");

        (void)ctx;
        if (st && !STREQ(st, "pending") && !STREQ(st, "firing") &&
            !STREQ(st, "resolved")) {
                module_error_set(err, 400, "invalid_argument", "state",
                                 "state is pending, firing or resolved");
                return -EINVAL;
        }
        if (rule && !alert_rule_name_valid(rule)) {
                module_error_set(err, 400, "invalid_argument", "rule", "rule must be a rule name");
                return -EINVAL;
        }
        return alerts_engine_list(st, rule, ret) < 0 ? oom(err) : 0;
}

static int alerts_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                       struct module_error *err) {
        int r;

        (void)ctx;
        (void)query;
        r = alerts_engine_show(id, ret);
        if (r == -ENOENT)
                module_error_set(err, 404, "not_found", NULL, "no alert %s", id);
        else if (r < 0)
                return oom(err);
        return r;
}

static int rules_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                      struct module_error *err) {
        (void)ctx;
        (void)query;
        return alerts_engine_rules(ret) < 0 ? oom(err) : 0;
}

static int rules_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                      struct module_error *err) {
        int r;

        (void)ctx;
        (void)query;
        r = alerts_engine_rule(id, ret);
        if (r == -ENOENT)
                module_error_set(err, 404, "not_found", NULL, "no alert rule %s", id);
        else if (r < 0)
                return oom(err);
        return r;
}

static int silences_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                         struct module_error *err) {
        (void)ctx;
        (void)query;
        return alerts_engine_silences(ret) < 0 ? oom(err) : 0;
}

static int silences_show(const struct module_ctx *ctx, const char *id, json_t *query,
                         json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *all = NULL;
        json_t *s;
        size_t i;

        (void)ctx;
        (void)query;
        if (alerts_engine_silences(&all) < 0)
                return oom(err);
        json_array_foreach(json_object_get(all, "alert_silences"), i, s) {
                if (STREQ(json_string_value(json_object_get(s, "id")), id)) {
                        *ret = json_pack("{s:O}", "alert_silence", s);
                        return *ret ? 0 : oom(err);
                }
        }
        module_error_set(err, 404, "not_found", NULL, "no silence %s", id);
        return -ENOENT;
}

/* GET /api/v1/modules/alerts/history?rule=&fingerprint=&limit=&before= */
static const char *arg(const struct module_ctx *ctx, const char *key) {
        return ctx && ctx->query ? ctx->query(ctx, key) : NULL;
}

static int history_args(const struct module_ctx *ctx, json_t *args, struct module_error *err) {
        const char *rule = arg(ctx, "rule"), *fp = arg(ctx, "fingerprint");
        const char *limit = arg(ctx, "limit"), *before = arg(ctx, "before");
        int64_t n;

        if (rule && !alert_rule_name_valid(rule))
                goto bad_rule;
        if (fp && (strlen(fp) != 16 || strspn(fp, "0123456789abcdef") != 16)) {
                module_error_set(err, 400, "invalid_argument", "fingerprint",
                                 "fingerprint is 16 hex digits");
                return -EINVAL;
        }
        if ((rule || fp) && json_object_set_new(args, "match", json_object()) < 0)
                return oom(err);
        if (rule)
                json_object_set_new(json_object_get(args, "match"), "rule", json_string(rule));
        if (fp)
                json_object_set_new(json_object_get(args, "match"), "fingerprint",
                                    json_string(fp));
        if (limit) {
                if (safe_atoi64_n(limit, strlen(limit), &n) < 0 || n < 1 || n > 500) {
                        module_error_set(err, 400, "invalid_argument", "limit",
                                         "limit is 1 to 500");
                        return -EINVAL;
                }
                json_object_set_new(args, "limit", json_integer(n));
        }
        if (before) {
                if (safe_atoi64_n(before, strlen(before), &n) < 0 || n < 1) {
                        module_error_set(err, 400, "invalid_argument", "before",
                                         "before is a transition id");
                        return -EINVAL;
                }
                json_object_set_new(args, "before", json_integer(n));
        }
        return 0;
bad_rule:
        module_error_set(err, 400, "invalid_argument", "rule", "rule must be a rule name");
        return -EINVAL;
}

static int route_history(const struct module_ctx *ctx, char **params, json_t **ret,
                         struct module_error *err) {
        module_helper_call_fn call = modules_helper_call();
        _cleanup_json_ json_t *ans = NULL;
        json_t *args = json_pack("{s:s}", "module", "alerts"), *list, *rec;
        size_t i;
        int r;

        (void)params;
        if (!args)
                return oom(err);
        r = history_args(ctx, args, err);
        if (r < 0) {
                json_decref(args);
                return r;
        }
        if (!call) {
                json_decref(args);
                module_error_set(err, 503, "unavailable", NULL, "no helper");
                return -EOPNOTSUPP;
        }
        r = call("module_log_list", args, &ans);
        if (r < 0) {
                module_error_set(err, 503, "unavailable", NULL, "the history cannot be read: %s",
                                 strerror(-r));
                return r;
        }
        list = json_array();
        json_array_foreach(json_object_get(ans, "records"), i, rec) {
                json_t *t = json_deep_copy(json_object_get(rec, "record"));
                if (!json_is_object(t)) {
                        json_decref(t);
                        continue;
                }
                json_object_set(t, "id", json_object_get(rec, "id"));
                json_array_append_new(list, t);
        }
        *ret = json_pack("{s:o, s:O}", "transitions", list, "next",
                         json_object_get(ans, "next") ? json_object_get(ans, "next")
                                                      : json_null());
        return *ret ? 0 : oom(err);
}

static const char *const state_choices[] = {"pending", "firing", "resolved", NULL};
static const char *const severity_choices[] = {"warning", "critical", NULL};
static const char *const kind_choices[] = {"threshold",  "disk",           "disk_fill",
                                           "unit_failed", "new_listener",  "login_failures",
                                           "audit_chain", "cert_expiry",   "mail_queue",
                                           "share_disk",  NULL};
static const char *const op_choices[] = {">", ">=", "<", "<=", NULL};

static const collection_field_t alert_fields[] = {
        {"fingerprint", FIELD_STRING, 16, 16, NULL, FIELD_SHOWN, "Fingerprint",
         "16 hex digits of a hash of rule and instance"},
        {"rule", FIELD_STRING, 1, ALERT_NAME_MAX, NULL, FIELD_SHOWN, "Rule", NULL},
        {"state", FIELD_ENUM, 0, 0, state_choices, FIELD_SHOWN, "State", NULL},
        {"severity", FIELD_ENUM, 0, 0, severity_choices, FIELD_SHOWN, "Severity", NULL},
        {"instance", FIELD_STRING, 0, 255, NULL, FIELD_SHOWN, "Instance",
         "what it is about (a mount point, a unit, …); empty for a singleton"},
        {"value", FIELD_NUMBER, 0, 0, NULL, FIELD_SHOWN | FIELD_NULLABLE, "Value", NULL},
        {"since", FIELD_INTEGER, 0, 0, NULL, FIELD_SHOWN, "Since", "unix time of the last change"},
        {"summary", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN, "Summary", NULL},
        {"description", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN, "Description", NULL},
        {"starts_at", FIELD_INTEGER, 0, 0, NULL, FIELD_SHOWN, "Starts at", NULL},
        {"ends_at", FIELD_INTEGER, 0, 0, NULL, FIELD_SHOWN, "Ends at", "0 while not resolved"},
        {"labels", FIELD_OBJECT, 0, 0, NULL, FIELD_SHOWN, "Labels", NULL},
        {"acknowledged", FIELD_OBJECT, 0, 0, NULL, FIELD_SHOWN | FIELD_NULLABLE, "Acknowledged",
         "{user, time, comment}"},
        {"silenced_by", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN | FIELD_NULLABLE, "Silenced by",
         "the id of the silence that holds its notifications"},
};

static const collection_query_t alert_query[] = {
        {"state", FIELD_ENUM, "only alerts in this state", state_choices},
        {"rule", FIELD_STRING, "only alerts of this rule", NULL},
};

/* The CLI's table: what fires first, where last, the id to ack it by. */
static const collection_column_t alert_columns[] = {
        {"rule", "Rule", NULL},         {"state", "State", NULL},
        {"severity", "Severity", NULL}, {"since", "Since", "timestamp"},
        {"value", "Value", NULL},       {"instance", "Instance", NULL},
        {"fingerprint", "ID", NULL},
};

#define RW (FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN)
static const collection_field_t rule_fields[] = {
        {"name", FIELD_STRING, 1, ALERT_NAME_MAX, NULL, FIELD_CREATE | FIELD_SHOWN, "Name",
         "[a-z0-9][a-z0-9_.-]*"},
        {"kind", FIELD_ENUM, 0, 0, kind_choices, RW, "Kind", NULL},
        {"series", FIELD_STRING, 0, 511, NULL, RW, "Series",
         "threshold: a history series (cpu.busy), metric:SELECTOR or status:MODULE:path"},
        {"match", FIELD_STRING, 0, 255, NULL, RW, "Match",
         "per kind: a mount point, a unit glob, a share, a certificate path; empty: all"},
        {"op", FIELD_ENUM, 0, 0, op_choices, RW, "Comparison", NULL},
        {"threshold", FIELD_NUMBER, 0, 0, NULL, RW, "Threshold", NULL},
        {"clear", FIELD_NUMBER, 0, 0, NULL, RW | FIELD_NULLABLE, "Clear at",
         "resolve only once the value no longer passes this (hysteresis); null: the threshold"},
        {"for", FIELD_STRING, 0, 16, NULL, RW, "For", "pending this long before firing (5m)"},
        {"window", FIELD_STRING, 0, 16, NULL, RW, "Window",
         "disk_fill: the fit's window; login_failures: the counting window"},
        {"severity", FIELD_ENUM, 0, 0, severity_choices, RW, "Severity", NULL},
        {"enabled", FIELD_BOOLEAN, 0, 0, NULL, RW, "Enabled", NULL},
        {"summary", FIELD_STRING, 0, 255, NULL, RW, "Summary", NULL},
        {"state", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN | FIELD_NULLABLE, "State",
         "the worst state of its alerts (firing, pending, resolved); null: none"},
        {"error", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN | FIELD_NULLABLE, "Error",
         "the last observation's error"},
};
#undef RW

static const collection_column_t rule_columns[] = {
        {"name", "Name", NULL},         {"kind", "Kind", NULL},
        {"op", "Op", NULL},             {"threshold", "Threshold", NULL},
        {"for", "For", NULL},           {"severity", "Severity", NULL},
        {"enabled", "Enabled", NULL},   {"state", "State", NULL},
};

static const collection_field_t silence_fields[] = {
        {"id", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN, "ID", NULL},
        {"rule", FIELD_STRING, 1, ALERT_NAME_MAX, NULL, FIELD_CREATE | FIELD_SHOWN, "Rule", NULL},
        {"instance", FIELD_STRING, 0, 255, NULL, FIELD_CREATE | FIELD_SHOWN, "Instance",
         "empty: every alert of the rule"},
        {"duration", FIELD_STRING, 2, 8, NULL, FIELD_CREATE, "Duration", "30m, 2h … at most 30d"},
        {"reason", FIELD_STRING, 1, 256, NULL, FIELD_CREATE | FIELD_SHOWN, "Reason", NULL},
        {"created_by", FIELD_STRING, 0, 0, NULL, FIELD_SHOWN, "Created by", NULL},
        {"created_at", FIELD_INTEGER, 0, 0, NULL, FIELD_SHOWN, "Created at", NULL},
        {"ends_at", FIELD_INTEGER, 0, 0, NULL, FIELD_SHOWN, "Ends at", NULL},
        {"active", FIELD_BOOLEAN, 0, 0, NULL, FIELD_SHOWN, "Active", NULL},
};

static const collection_column_t silence_columns[] = {
        {"id", "ID", NULL},           {"rule", "Rule", NULL},     {"instance", "Instance", NULL},
        {"ends_at", "Ends", "timestamp"}, {"active", "Active", NULL}, {"reason", "Reason", NULL},
};

/* ---- command line verbs of the alerts collection (`steward alerts …`) ------------ */

static const collection_option_t ack_options[] = {
        {"message", 'm', "comment", COPT_VALUE, "COMMENT"},
};
static const collection_option_t silence_options[] = {
        {"for", 0, "duration", COPT_VALUE, "DURATION"},
        {"reason", 'r', "reason", COPT_VALUE, "TEXT"},
};

static const collection_verb_t alert_verbs[] = {
        {.name = "ack",
         .op = VERB_ACTION,
         .summary = "Acknowledge alerts: who, when and -m why",
         .options = ack_options,
         .n_options = ELEMENTSOF(ack_options)},
        {.name = "silence",
         .op = VERB_ACTION,
         .summary = "Silence alerts --for 30m … 30d, with a --reason",
         .options = silence_options,
         .n_options = ELEMENTSOF(silence_options)},
        {.name = "silences",
         .op = VERB_ROUTE_LIST,
         .summary = "Active silences and those that ended in the last day",
         .route = "api/v1/alert_silences",
         .list_key = "alert_silences",
         .columns = silence_columns,
         .n_columns = ELEMENTSOF(silence_columns)},
};

/* `steward alert_silences expire ID`: the action below, for operators. */
static const collection_verb_t silence_verbs[] = {
        {.name = "expire",
         .op = VERB_ACTION,
         .summary = "End a silence now (reviewed with --dry-run)"},
};

static const collection_action_t silence_actions[] = {
        {.name = "expire",
         .summary = "end the silence now: its alerts are notified again",
         .min_role = ROLE_OPERATOR,
         .changes_state = true,
         .run = alert_action_expire},
};

/* `steward alert_rules enable|disable NAME`: a modify of one field. */
static const collection_verb_t rule_verbs[] = {
        {.name = "enable",
         .op = VERB_MODIFY,
         .summary = "Enable a rule (reviewed with --dry-run)",
         .body = "{\"enabled\": true}"},
        {.name = "disable",
         .op = VERB_MODIFY,
         .summary = "Disable a rule: its alerts resolve and it is no longer evaluated",
         .body = "{\"enabled\": false}"},
};

static const command_arg_t ack_args[] = {
        {"comment", SETTING_STRING, 0, 256, NULL, false, "why, or what is being done"},
};
static const command_arg_t silence_args[] = {
        {"duration", SETTING_STRING, 2, 8, NULL, true, "how long: 30m, 2h, 1d (at most 30d)"},
        {"reason", SETTING_STRING, 1, 256, NULL, true, "why the alert is silenced"},
};

static const collection_action_t alert_actions[] = {
        {.name = "ack",
         .summary = "acknowledge the alert (who, when, a comment)",
         .min_role = ROLE_OPERATOR,
         .args = ack_args,
         .n_args = ELEMENTSOF(ack_args),
         .run = alert_action_ack},
        {.name = "unack",
         .summary = "withdraw the acknowledgement",
         .min_role = ROLE_OPERATOR,
         .run = alert_action_unack},
        {.name = "silence",
         .summary = "silence this alert (its rule and instance) for a while, with a reason",
         .min_role = ROLE_OPERATOR,
         .args = silence_args,
         .n_args = ELEMENTSOF(silence_args),
         .run = alert_action_silence},
};

static const collection_def_t alerts_collections[] = {
        {.name = "alerts",
         .item = "alert",
         .summary = "Pending, firing and recently resolved alerts",
         .id_field = "fingerprint",
         .fields = alert_fields,
         .n_fields = ELEMENTSOF(alert_fields),
         .query = alert_query,
         .n_query = ELEMENTSOF(alert_query),
         .columns = alert_columns,
         .n_columns = ELEMENTSOF(alert_columns),
         .verbs = alert_verbs,
         .n_verbs = ELEMENTSOF(alert_verbs),
         .list = alerts_list,
         .show = alerts_show,
         /* Alerts are made by their rules, never written: only their actions. */
         .actions = alert_actions,
         .n_actions = ELEMENTSOF(alert_actions),
         .front_reads = true},
        {.name = "alert_rules",
         .item = "alert_rule",
         .summary = "Alert rules: conditions on series, metrics, status and built-in kinds",
         .id_field = "name",
         .fields = rule_fields,
         .n_fields = ELEMENTSOF(rule_fields),
         .columns = rule_columns,
         .n_columns = ELEMENTSOF(rule_columns),
         .verbs = rule_verbs,
         .n_verbs = ELEMENTSOF(rule_verbs),
         .list = rules_list,
         .show = rules_show,
         .write = alert_rules_write,
         .front_reads = true},
        {.name = "alert_silences",
         .item = "alert_silence",
         .summary = "Silences: alerts evaluated but not notified until they end",
         .id_field = "id",
         .fields = silence_fields,
         .n_fields = ELEMENTSOF(silence_fields),
         .columns = silence_columns,
         .n_columns = ELEMENTSOF(silence_columns),
         .list = silences_list,
         .show = silences_show,
         .verbs = silence_verbs,
         .n_verbs = ELEMENTSOF(silence_verbs),
         .write = alert_silences_write,
         /* Admins write silences; operators make them through the
          * alerts' silence action and end them with expire. */
         .actions = silence_actions,
         .n_actions = ELEMENTSOF(silence_actions),
         .front_reads = true},
};

/* ---- the module ---------------------------------------------------------------- */

static const char *const *alerts_files(void) {
        static const char *owned[3];

        owned[0] = alert_rules_path();
        owned[1] = owned[0] ? alert_marks_path() : NULL;
        owned[2] = NULL;
        return owned;
}

/* The front re-reads the rules and the marks; the helper reads its files at
 * each change. */
static int alerts_make_live(bool helper, struct module_error *err) {
        struct alert_rules rs = {0};
        json_t *marks = NULL;
        int r;

        if (helper)
                return 0;
        r = alert_rules_load(&rs, NULL, err);
        if (r < 0)
                return r;
        alerts_engine_set_rules(&rs);
        r = alert_marks_load(&marks, NULL, err);
        if (r < 0)
                return r;
        alerts_engine_set_marks(marks);
        return 0;
}

static int alerts_init(void) {
        struct module_error e = {0};
        int r;

        (void)settings_file_make_live(&settings_file, /* helper= */ false, &e);
        (void)alerts_make_live(false, &e); /* a bad file: status shows no rules */
        /* The notifier first: the engine may hand it a batch at once. */
        r = alerts_notify_start();
        if (r < 0)
                return r;
        r = alerts_engine_start();
        if (r < 0)
                alerts_notify_stop();
        return r;
}

static void alerts_done(void) {
        alerts_engine_stop();
        alerts_notify_stop();
        alert_kinds_reset();
}

static int alerts_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        (void)ctx;
        *ret = alerts_engine_status();
        return *ret ? 0 : oom(err);
}

static int alerts_fullstatus(const struct module_ctx *ctx, json_t **ret,
                             struct module_error *err) {
        (void)ctx;
        *ret = alerts_engine_status();
        if (*ret)
                json_object_set_new(*ret, "notifications", alerts_notify_status());
        return *ret ? 0 : oom(err);
}

/* steward_alert_state{rule, severity, instance, state} 1 for each pending
 * or firing alert, from the states the front persisted (a module's gauges
 * are named under steward_MODULE_). */
static int alerts_gauges(json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *v = NULL;
        json_t *samples = json_array(), *o;
        size_t i;

        if (!samples)
                return oom(err);
        if (module_state_read("alerts", ALERTS_STATE_KEY, &v) >= 0)
                json_array_foreach(json_object_get(v, "instances"), i, o) {
                        const char *st = json_string_value(json_object_get(o, "state"));
                        const char *rule = json_string_value(json_object_get(o, "rule"));
                        const char *inst = json_string_value(json_object_get(o, "instance"));
                        if (!st || !rule || !inst ||
                            (!STREQ(st, "pending") && !STREQ(st, "firing")))
                                continue;
                        json_array_append_new(
                                samples,
                                json_pack("{s:{s:s, s:s, s:s, s:s}, s:i}", "labels", "rule", rule,
                                          "severity",
                                          json_is_true(json_object_get(o, "critical"))
                                                  ? "critical"
                                                  : "warning",
                                          "instance", inst, "state", st, "value", 1));
                }
        *ret = json_pack("{s:[{s:s, s:s, s:o}, o*]}", "families", "name", "steward_alert_state",
                         "help", "1 for each pending or firing alert", "samples", samples,
                         alerts_notify_gauges());
        return *ret ? 0 : oom(err);
}

static const event_def_t alerts_events[] = {
        {.name = "alert",
         .description = "an alert changed state: the alert object with from and to",
         .min_role = ROLE_MONITOR},
};

static const module_route_t routes[] = {
        {"GET", "api/v1/modules/alerts/history", ROLE_MONITOR, .handler = route_history,
         .summary = "The alerts' transitions, newest first",
         .query = "rule fingerprint limit before"},
};

const module_t module_alerts = {
        .name = "alerts",
        .summary = "Alerts: rules, their states, silences and notifications",
        .init = alerts_init,
        .done = alerts_done,
        .status = alerts_status,
        .fullstatus = alerts_fullstatus,
        .settings_file = &settings_file,
        .files = alerts_files,
        .make_live = alerts_make_live,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .collections = alerts_collections,
        .n_collections = ELEMENTSOF(alerts_collections),
        .events = alerts_events,
        .n_events = ELEMENTSOF(alerts_events),
        .events_attach = alerts_engine_events_attach,
        .gauges = alerts_gauges,
        .gauges_prefix = "steward_alert_",
        .helper_task = alerts_mail_task,
        .keeps_state = true,
        .console_title = "Alerts",
        .console_overview = true,
};
