/* alerts.h — the alerts module's internal model: a rule, one observation,
 * and the module's settings, read by the engine, the kinds and the
 * notifier.
 *
 * A rule is plain data (copyable by value): the model (model.c) parses
 * and validates it, the engine (engine.c) keeps the states of its
 * instances, the kinds (kinds.c) observe what it looks at.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"

#define ALERT_NAME_MAX 64          /* rule names: [a-z0-9][a-z0-9_.-]{0,63} */
#define ALERT_LABELS_MAX 8
enum alert_kind { AK_THRESHOLD, AK_DISK, AK_DISK_FILL, AK_UNIT_FAILED, AK_NEW_LISTENER,
                  AK_LOGIN_FAILURES, AK_AUDIT_CHAIN, AK_CERT_EXPIRY, AK_MAIL_QUEUE, AK_SHARE_DISK, _AK_MAX };
enum alert_op { AOP_GT, AOP_GE, AOP_LT, AOP_LE };
enum alert_state { AS_INACTIVE, AS_PENDING, AS_FIRING, AS_RESOLVED };
struct alert_rule {
        char name[ALERT_NAME_MAX + 1];
        enum alert_kind kind;
        char series[512];     /* threshold: "cpu.busy" (a history series), "metric:SELECTOR" (valuesrc), or "status:MODULE:dotted.path" (a number or boolean of the module's status()) */
        char match[256];      /* optional filter, per kind: a mount point (disk, disk_fill), a unit glob (unit_failed), a share name (share_disk), a certificate path (cert_expiry); "" = all */
        enum alert_op op;     /* threshold kinds; each kind has a default (below) */
        double threshold;     /* fire when value OP threshold */
        double clear;         /* resolve only when value no longer OP clear (hysteresis); NaN = same as threshold */
        unsigned for_seconds; /* pending this long before firing; 0 = at once */
        unsigned window_seconds; /* disk_fill: fit window (default 6h); login_failures: counting window (default 5m) */
        bool critical;        /* severity critical, else warning */
        bool enabled;
        char summary[256];    /* optional annotation; default built per kind */
};
/* One thing a rule looks at, now: e.g. one filesystem. */
struct alert_obs {
        char instance[256];   /* what it is about: "/srv" (mount), "nginx.service", "tcp 0.0.0.0:8080", "/etc/ssl/x.pem", "" for a singleton */
        double value;         /* compared with threshold/clear by the engine */
        char detail[256];     /* human text for annotations ("92.1 % used, 1.2 GiB free") */
};

/* The module's settings, /etc/steward/alerts.conf (rows in alerts.c): read
 * a copy with module_config_get(&module_alerts, &c, sizeof c). */
#define ALERTS_DESTINATIONS_MAX 8
struct alerts_config {
        struct setting_wide_list webhooks; /* http(s) URLs, no userinfo */
        char alertmanager_url[SETTING_WIDE_LIST_ITEM_MAX + 1]; /* "" = off; BASE of BASE/api/v2/alerts */
        struct setting_wide_list mail_to;  /* addresses */
        char mail_from[256];               /* "" = steward@HOSTNAME */
        bool send_resolved;
        unsigned repeat_interval; /* seconds: re-notify a still-firing alert */
};

extern const module_t module_alerts;
