/* mail.c — the mail module: Postfix (SMTP) and Dovecot (IMAP, POP3) as Server
 * Admin's mail service had them: settings, the queue, connected users, and
 * the activity and logs of delivery.
 *
 * This file is the module's table and glue; the substance is beside it
 * (mail.h lists the files).  Everything that runs a mail tool runs in the
 * privileged helper: the routes below reach it through the privileged read
 * (reads) or the module's commands (changes, audited).
 *
 * API (docs/api.md, "Mail"):
 *   GET    /api/v1/modules/mail/queue           the queue, filtered (monitor)
 *   GET    /api/v1/modules/mail/queue/{id}      one message with its headers (admin)
 *   POST   /api/v1/modules/mail/queue/{id}/hold|release|requeue|flush   (operator)
 *   DELETE /api/v1/modules/mail/queue/{id}      (admin)
 *   POST   /api/v1/modules/mail/commands/queue_* {filters}   many messages at once, ?dry_run=1
 *   GET    /api/v1/modules/mail/connections     IMAP/POP3 sessions (monitor)
 *   DELETE /api/v1/modules/mail/connections/{user}   kick (operator)
 *   GET    /api/v1/modules/mail/activity        delivery per hour, the last errors (monitor)
 *   GET    /api/v1/mail_queue[/{id}]            the queue as a collection (CLI, console)
 *   GET|POST|PATCH|DELETE /api/v1/mail_aliases[/{name}]   /etc/aliases
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "module.h"
#include "modules/change.h"
#include "modules/mail/mail.h"
#include "modules/registry.h"
#include "roles.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- installed, running --------------------------------------------------------- */

bool mail_postfix_installed(void) {
        return access("/usr/sbin/postconf", X_OK) == 0 && access(POSTFIX_MAIN_CF, F_OK) == 0;
}

bool mail_dovecot_installed(void) {
        return access("/usr/bin/doveadm", X_OK) == 0 && access("/etc/dovecot/dovecot.conf", F_OK) == 0;
}

/* Whether the pid file at path names a live process (Postfix's master
 * writes its pid padded with spaces; Dovecot's a plain number). */
static bool pid_file_alive(const char *path) {
        _cleanup_free_ char *text = NULL;
        int64_t pid;
        char *s;

        if (read_file(path, 64, &text, NULL) < 0)
                return false;
        s = text + strspn(text, " \t");
        s[strcspn(s, " \t\n")] = '\0';
        if (safe_atoi64(s, &pid) < 0 || pid <= 1 || pid > 4194304)
                return false;
        return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

bool mail_postfix_running(void) {
        return pid_file_alive("/var/spool/postfix/pid/master.pid");
}

bool mail_dovecot_running(void) {
        return pid_file_alive("/run/dovecot/master.pid");
}

/* ---- status ------------------------------------------------------------------------ */

/* Why the state is not "running", in one sentence (NULL when it is). */
static const char *status_reason(bool pi, bool pr, bool di, bool dr) {
        if (!pi && !di)
                return "neither Postfix nor Dovecot is installed";
        if (pi && !pr && di && !dr)
                return "neither Postfix nor Dovecot is running";
        if (pi && !pr)
                return di ? "Postfix is not running (Dovecot is)" : "Postfix is not running";
        if (di && !dr)
                return pi ? "Dovecot is not running (Postfix is)" : "Dovecot is not running";
        return NULL;
}

/* The state as this process sees it: the pid files are root's (0600), so
 * only the helper tells running from stopped (mail_status asks it). */
static int status_here(json_t **ret, struct module_error *err) {
        bool pi = mail_postfix_installed(), di = mail_dovecot_installed();
        bool pr = pi && mail_postfix_running(), dr = di && mail_dovecot_running();
        const char *reason = status_reason(pi, pr, di, dr);
        const char *state = !pi && !di        ? "unavailable"
                            : !reason         ? "running"
                            : pr || dr        ? "degraded"
                                              : "stopped";

        *ret = json_pack("{s:s, s:{s:b, s:b}, s:{s:b, s:b}, s:s*}", "state", state, "postfix",
                         "installed", pi, "running", pr, "dovecot", "installed", di, "running",
                         dr, "reason", reason);
        return *ret ? 0 : oom(err);
}

static int read_in_helper(const struct module_ctx *ctx, json_t *args, json_t **ret,
                          struct module_error *err) {
        if (!args)
                return oom(err);
        if (!ctx || !ctx->privileged_read) {
                json_decref(args);
                module_error_set(err, 503, "unavailable", NULL, "no privileged helper");
                return -ENOTCONN;
        }
        return ctx->privileged_read(ctx, "mail", args, ret, err); /* takes args over */
}

static int mail_status(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        struct module_error e = {0};

        if (ctx && ctx->privileged_read &&
            read_in_helper(ctx, json_pack("{s:s}", "what", "status"), ret, &e) >= 0)
                return 0;
        return status_here(ret, err);
}

/* fullstatus: the status, the queue's counts and the activity of the last
 * day, each from the helper when the front asks. */
static int mail_fullstatus(const struct module_ctx *ctx, json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *st = NULL, *q = NULL, *act = NULL;
        struct module_error e = {0};
        int r;

        r = mail_status(ctx, &st, err);
        if (r < 0)
                return r;
        if (read_in_helper(ctx, json_pack("{s:s, s:i}", "what", "queue", "limit", 0), &q, &e) >= 0)
                json_object_set(st, "queue", json_object_get(q, "counts"));
        if (read_in_helper(ctx, json_pack("{s:s, s:i}", "what", "activity", "hours", 24), &act,
                           &e) >= 0)
                json_object_set(st, "activity", act);
        *ret = json_incref(st);
        return 0;
}

/* ---- /metrics: the queue's size, whether the servers run ----------------------------- */

#define SPOOL_DIR "/var/spool/postfix"

/* The files under the directory fd (closed here) down to depth more
 * levels: a queue's messages, hashed subdirectories included (deferred/A/…),
 * counted as qshape counts them; at most max. */
static int64_t spool_count(int fd, unsigned depth, int64_t max) {
        DIR *d = fdopendir(fd);
        struct dirent *de;
        int64_t n = 0;

        if (!d) {
                close(fd);
                return 0;
        }
        while (n < max && (de = readdir(d))) {
                unsigned char type = de->d_type;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
                if (type == DT_REG)
                        n++;
                else if (type == DT_DIR && depth > 0) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                n += spool_count(sub, depth - 1, max - n);
                }
        }
        closedir(d);
        return n;
}

static const char *const spool_queues[] = {"active", "deferred", "hold", "incoming", "maildrop"};

static int64_t spool_queue_count(const char *queue) {
        char path[64];
        int fd;

        snprintf(path, sizeof path, SPOOL_DIR "/%s", queue);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -1 : spool_count(fd, 3, INT64_C(10000000));
}

int64_t mail_spool_messages(void) {
        int64_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(spool_queues); i++) {
                int64_t c = spool_queue_count(spool_queues[i]);
                n += c > 0 ? c : 0;
        }
        return n;
}

/* In the helper: {"families": [steward_mail_queue_messages{queue},
 * steward_mail_server_up{server}]}; nothing when neither is installed. */
static int mail_gauges(json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *families = json_array(), *q = json_array(), *up = json_array();
        bool pi = mail_postfix_installed(), di = mail_dovecot_installed();

        if (!families || !q || !up)
                return oom(err);
        for (size_t i = 0; pi && i < ELEMENTSOF(spool_queues); i++) {
                int64_t n = spool_queue_count(spool_queues[i]);
                if (n >= 0)
                        json_array_append_new(q, json_pack("{s:{s:s}, s:I}", "labels", "queue",
                                                           spool_queues[i], "value",
                                                           (json_int_t)n));
        }
        if (pi)
                json_array_append_new(up, json_pack("{s:{s:s}, s:i}", "labels", "server", "postfix",
                                                    "value", mail_postfix_running()));
        if (di)
                json_array_append_new(up, json_pack("{s:{s:s}, s:i}", "labels", "server", "dovecot",
                                                    "value", mail_dovecot_running()));
        if (json_array_size(q) > 0)
                json_array_append_new(families,
                                      json_pack("{s:s, s:s, s:O}", "name",
                                                "steward_mail_queue_messages", "help",
                                                "Messages in each of Postfix's queues.", "samples",
                                                q));
        if (json_array_size(up) > 0)
                json_array_append_new(families,
                                      json_pack("{s:s, s:s, s:O}", "name", "steward_mail_server_up",
                                                "help", "Whether the mail server runs (1) or not (0).",
                                                "samples", up));
        *ret = json_pack("{s:O}", "families", families);
        return *ret ? 0 : oom(err);
}

/* ---- start, stop, restart: through systemd --------------------------------------- */

static int servers(const char *verb, struct module_error *err) {
        const char *units[2];
        size_t n = 0;

        if (mail_postfix_installed())
                units[n++] = "postfix.service";
        if (mail_dovecot_installed())
                units[n++] = "dovecot.service";
        return change_units_control(verb, units, n, "Postfix and Dovecot", err);
}

static int mail_start(const struct module_ctx *ctx, struct module_error *err) {
        (void)ctx;
        return servers("start", err);
}

static int mail_stop(const struct module_ctx *ctx, struct module_error *err) {
        (void)ctx;
        return servers("stop", err);
}

static int mail_restart(const struct module_ctx *ctx, struct module_error *err) {
        (void)ctx;
        return servers("restart", err);
}

/* ---- routes and the privileged read ------------------------------------------------ */

/* The query arguments a queue read passes on (the helper checks each). */
static const char *const queue_query[] = {"queue",      "sender", "recipient", "domain",
                                          "older_than", "reason", "limit"};

static json_t *queue_args(const struct module_ctx *ctx, const char *what) {
        json_t *args = json_pack("{s:s}", "what", what);

        for (size_t i = 0; args && ctx->query && i < ELEMENTSOF(queue_query); i++) {
                const char *v = ctx->query(ctx, queue_query[i]);
                if (v)
                        json_object_set_new(args, queue_query[i], json_string(v));
        }
        return args;
}

static int route_queue(const struct module_ctx *ctx, char **params, json_t **ret,
                       struct module_error *err) {
        (void)params;
        return read_in_helper(ctx, queue_args(ctx, "queue"), ret, err);
}

static int route_message(const struct module_ctx *ctx, char **params, json_t **ret,
                         struct module_error *err) {
        return read_in_helper(ctx, json_pack("{s:s, s:s}", "what", "message", "id", params[0]),
                              ret, err);
}

static int route_connections(const struct module_ctx *ctx, char **params, json_t **ret,
                             struct module_error *err) {
        (void)params;
        return read_in_helper(ctx, json_pack("{s:s}", "what", "connections"), ret, err);
}

static int route_activity(const struct module_ctx *ctx, char **params, json_t **ret,
                          struct module_error *err) {
        const char *hours = ctx->query ? ctx->query(ctx, "hours") : NULL;
        json_t *args = json_pack("{s:s}", "what", "activity");

        (void)params;
        if (args && hours)
                json_object_set_new(args, "hours", json_string(hours));
        return read_in_helper(ctx, args, ret, err);
}

/* The role each read needs: a message's headers are personal data. */
static int mail_privileged_read_role(json_t *args) {
        const char *what = json_string_value(json_object_get(args, "what"));

        if (!what)
                return -1;
        if (STREQ(what, "queue") || STREQ(what, "connections") || STREQ(what, "activity") ||
            STREQ(what, "status"))
                return ROLE_MONITOR;
        if (STREQ(what, "message"))
                return ROLE_ADMIN;
        return -1;
}

static int mail_privileged_read(json_t *args, json_t **ret, struct module_error *err) {
        const char *what = json_string_value(json_object_get(args, "what"));

        if (what && STREQ(what, "status"))
                return status_here(ret, err);
        if (what && STREQ(what, "queue"))
                return queue_list(args, ret, err);
        if (what && STREQ(what, "message"))
                return queue_show(args, ret, err);
        if (what && STREQ(what, "connections"))
                return who_list(ret, err);
        if (what && STREQ(what, "activity"))
                return activity_read(args, ret, err);
        module_error_set(err, 400, "bad_request", "what", "unknown read");
        return -EINVAL;
}

/* ---- the queue as a collection (in the helper) -------------------------------------- */

static int mail_queue_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                           struct module_error *err) {
        _cleanup_json_ json_t *args = json_deep_copy(query);

        (void)ctx;
        if (!args || json_object_set_new(args, "what", json_string("queue")) < 0)
                return oom(err);
        return queue_list(args, ret, err);
}

static int mail_queue_list_text(const struct module_ctx *ctx, json_t *query, char **ret,
                                size_t *ret_len, struct module_error *err) {
        (void)ctx;
        return queue_list_text(query, "mail_queue", ret, ret_len, err);
}

/* A message: who may see what is the route's rule (headers for admins);
 * a monitor's show is the list's entry alone. */
static int mail_queue_show(const struct module_ctx *ctx, const char *id, json_t *query,
                           json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *args = json_pack("{s:s, s:s}", "what", "message", "id", id);
        int r;

        (void)query;
        if (!args)
                return oom(err);
        if (!ctx->role || !STREQ(ctx->role, "admin"))
                json_object_set_new(args, "headers", json_false());
        r = queue_show(args, ret, err);
        return r;
}

#define SHOWN FIELD_SHOWN
static const collection_field_t recipient_fields[] = {
        {.name = "address", .type = FIELD_STRING, .flags = SHOWN, .label = "Recipient"},
        {.name = "delay_reason", .type = FIELD_STRING, .flags = SHOWN, .label = "Why it waits"},
};

static const char *const queue_names[] = {"active", "deferred", "hold", "incoming", "maildrop",
                                          NULL};

static const collection_field_t message_fields[] = {
        {.name = "id", .type = FIELD_STRING, .flags = SHOWN, .label = "Queue ID"},
        {.name = "queue",
         .type = FIELD_ENUM,
         .choices = queue_names,
         .flags = SHOWN,
         .label = "Queue"},
        {.name = "arrival_time", .type = FIELD_STRING, .flags = SHOWN, .label = "Arrived"},
        {.name = "age_seconds", .type = FIELD_INTEGER, .flags = SHOWN, .label = "Age"},
        {.name = "size", .type = FIELD_INTEGER, .flags = SHOWN, .label = "Size"},
        {.name = "sender", .type = FIELD_STRING, .flags = SHOWN, .label = "Sender"},
        {.name = "recipients",
         .type = FIELD_OBJECT_ARRAY,
         .flags = SHOWN,
         .label = "Recipients",
         .fields = recipient_fields,
         .n_fields = ELEMENTSOF(recipient_fields)},
        {.name = "headers",
         .type = FIELD_STRING,
         .flags = SHOWN,
         .label = "Headers",
         .description = "the message's headers (admins only)"},
};

static const collection_query_t message_query[] = {
        {"queue", FIELD_ENUM, "only this queue", queue_names},
        {"sender", FIELD_STRING, "only messages from this address (or @domain)", NULL},
        {"recipient", FIELD_STRING, "only messages to this address (or @domain)", NULL},
        {"domain", FIELD_STRING, "only messages to a recipient in this domain", NULL},
        {"older_than", FIELD_STRING, "only messages older than this (seconds, or 30m, 2h, 3d)",
         NULL},
        {"reason", FIELD_STRING, "only messages whose delay reason contains this text", NULL},
        {"limit", FIELD_STRING, "at most this many messages (the counts cover all)", NULL},
};

static const collection_column_t message_columns[] = {
        {"id", "Queue ID", NULL},      {"queue", "Queue", NULL},   {"age_seconds", "Age", "seconds"},
        {"size", "Size", "bytes"},     {"sender", "Sender", NULL}, {"recipients", "Recipients", NULL},
};

static const collection_option_t filter_opts[] = {
        {"queue", 'q', "queue", COPT_VALUE, "QUEUE"},
        {"sender", 's', "sender", COPT_VALUE, "ADDRESS"},
        {"recipient", 'r', "recipient", COPT_VALUE, "ADDRESS"},
        {"domain", 'd', "domain", COPT_VALUE, "DOMAIN"},
        {"older-than", 'o', "older_than", COPT_VALUE, "AGE"},
        {"all", 'a', "all", COPT_TRUE, NULL},
};

static const collection_option_t list_opts[] = {
        {"queue", 'q', "queue", COPT_QUERY, "QUEUE"},
        {"sender", 's', "sender", COPT_QUERY, "ADDRESS"},
        {"recipient", 'r', "recipient", COPT_QUERY, "ADDRESS"},
        {"domain", 'd', "domain", COPT_QUERY, "DOMAIN"},
        {"older-than", 'o', "older_than", COPT_QUERY, "AGE"},
        {"reason", 0, "reason", COPT_QUERY, "TEXT"},
        {"limit", 'l', "limit", COPT_QUERY, "N"},
};

#define QUEUE_OP_VERB(n, s, c)                                                                     \
        {.name = n,                                                                                \
         .op = VERB_COMMAND,                                                                       \
         .summary = s,                                                                             \
         .options = filter_opts,                                                                   \
         .n_options = ELEMENTSOF(filter_opts),                                                     \
         .command = c,                                                                             \
         .arg = "id",                                                                              \
         .arg_optional = true}

static const collection_verb_t queue_verbs[] = {
        {"list", VERB_LIST, "list the queue (filters: --queue, --sender, --recipient, --domain, "
                            "--older-than, --reason)",
         list_opts, ELEMENTSOF(list_opts), NULL, false, false},
        {"show", VERB_SHOW, "show a message: its recipients, why it waits, its headers", NULL, 0,
         NULL, false, false},
        QUEUE_OP_VERB("flush", "try to deliver now: one message, those matching, or all",
                      "queue_flush"),
        QUEUE_OP_VERB("hold", "put messages on hold (kept, not delivered)", "queue_hold"),
        QUEUE_OP_VERB("release", "release held messages", "queue_release"),
        QUEUE_OP_VERB("requeue", "requeue messages (delivered again with the current settings)",
                      "queue_requeue"),
        QUEUE_OP_VERB("delete", "delete messages: one, or all those matching (one planned "
                                "operation; --dry-run shows what)",
                      "queue_delete"),
};

/* ---- aliases (aliases.c) ---------------------------------------------------------------- */

#define RW (FIELD_CREATE | FIELD_MODIFY | FIELD_SHOWN)
static const collection_field_t alias_fields[] = {
        {.name = "name",
         .type = FIELD_STRING,
         .min = 1,
         .max = 64,
         .flags = FIELD_CREATE | FIELD_SHOWN,
         .label = "Alias",
         .description = "the local name (postmaster, root, sales…)"},
        {.name = "targets",
         .type = FIELD_STRING_ARRAY,
         .max = 64,
         .flags = RW,
         .label = "Delivered to",
         .description = "local users, other aliases or addresses (alice, bob@example.org)"},
        {.name = "editable",
         .type = FIELD_BOOLEAN,
         .flags = SHOWN,
         .label = "Editable",
         .description = "false for an alias that pipes to a command, writes to a file or "
                        "includes a list: shown, changed only by editing /etc/aliases"},
};

static const collection_column_t alias_columns[] = {
        {"name", "Alias", NULL},
        {"targets", "Delivered to", NULL},
};

static const collection_option_t alias_opts[] = {
        {"to", 't', "targets", COPT_VALUE, "ADDR,ADDR"},
        {"add-to", 0, "targets", COPT_ITEM, "ADDR"},
};

static const collection_verb_t alias_verbs[] = {
        {"list", VERB_LIST, "list the mail aliases", NULL, 0, NULL, false, false},
        {"show", VERB_SHOW, "show an alias", NULL, 0, NULL, false, false},
        {"add", VERB_CREATE, "add an alias (--to alice,bob@example.org)", alias_opts, 1, NULL,
         false, false},
        {"modify", VERB_MODIFY, "change where an alias delivers (--to …)", alias_opts, 1, NULL,
         false, false},
        {"delete", VERB_DELETE, "remove an alias", NULL, 0, NULL, false, false},
};

static const collection_def_t mail_collections[] = {
        {.name = "mail_queue",
         .item = "message",
         .summary = "Postfix's queue: messages waiting, and why",
         .id_field = "id",
         .fields = message_fields,
         .n_fields = ELEMENTSOF(message_fields),
         .query = message_query,
         .n_query = ELEMENTSOF(message_query),
         .columns = message_columns,
         .n_columns = ELEMENTSOF(message_columns),
         .verbs = queue_verbs,
         .n_verbs = ELEMENTSOF(queue_verbs),
         .list = mail_queue_list,
         .list_text = mail_queue_list_text,
         .show = mail_queue_show},
        {.name = "mail_aliases",
         .item = "alias",
         .summary = "mail aliases (/etc/aliases): a local name and where its mail goes",
         .id_field = "name",
         .fields = alias_fields,
         .n_fields = ELEMENTSOF(alias_fields),
         .columns = alias_columns,
         .n_columns = ELEMENTSOF(alias_columns),
         .verbs = alias_verbs,
         .n_verbs = ELEMENTSOF(alias_verbs),
         .list = aliases_list,
         .show = aliases_show,
         .write = aliases_write},
};

/* ---- commands ------------------------------------------------------------------------ */

static const command_arg_t queue_op_args[] = {
        {.name = "id",
         .type = SETTING_STRING,
         .min = 1,
         .max = 32,
         .valid_string = queue_id_valid,
         .description = "one message's queue id (10–20 characters of Postfix's id alphabet)"},
        {.name = "queue",
         .type = SETTING_ENUM,
         .choices = queue_names,
         .description = "the messages of this queue"},
        {.name = "sender",
         .type = SETTING_STRING,
         .min = 1,
         .max = 320,
         .description = "the messages from this address (or @domain)"},
        {.name = "recipient",
         .type = SETTING_STRING,
         .min = 1,
         .max = 320,
         .description = "the messages to this address (or @domain)"},
        {.name = "domain",
         .type = SETTING_STRING,
         .min = 1,
         .max = 253,
         .description = "the messages to a recipient in this domain"},
        {.name = "older_than",
         .type = SETTING_STRING,
         .min = 1,
         .max = 16,
         .description = "the messages older than this (seconds, or 30m, 2h, 3d)"},
        {.name = "all", .type = SETTING_BOOLEAN, .description = "every message (no filter)"},
};

static const command_arg_t kick_args[] = {
        {.name = "user",
         .type = SETTING_STRING,
         .min = 1,
         .max = 256,
         .required = true,
         .description = "the user whose IMAP and POP3 sessions end"},
};

#define QUEUE_CMD(n, s, fn, role)                                                                  \
        {.name = n,                                                                                \
         .summary = s,                                                                             \
         .changes_state = true,                                                                    \
         .args = queue_op_args,                                                                    \
         .n_args = ELEMENTSOF(queue_op_args),                                                      \
         .run = fn,                                                                                \
         .min_role = role,                                                                         \
         .dry_run = true}

static const command_def_t mail_commands[] = {
        QUEUE_CMD("queue_flush", "deliver queued messages now (postqueue -f / -i)", queue_flush,
                  ROLE_OPERATOR),
        QUEUE_CMD("queue_hold", "put messages on hold (postsuper -h)", queue_hold, ROLE_OPERATOR),
        QUEUE_CMD("queue_release", "release held messages (postsuper -H)", queue_release,
                  ROLE_OPERATOR),
        QUEUE_CMD("queue_requeue", "requeue messages (postsuper -r)", queue_requeue,
                  ROLE_OPERATOR),
        QUEUE_CMD("queue_delete", "delete messages (postsuper -d)", queue_delete, ROLE_ADMIN),
        {.name = "kick",
         .summary = "end a user's IMAP and POP3 sessions (doveadm kick)",
         .changes_state = true,
         .args = kick_args,
         .n_args = ELEMENTSOF(kick_args),
         .run = who_kick,
         .min_role = ROLE_OPERATOR},
};

/* Named routes[] and written {method, pattern, role, handler}: the route
 * walk of tests/integration/test_security.py reads module tables so. */
static const module_route_t routes[] = {
        {"GET", "api/v1/modules/mail/queue", ROLE_MONITOR, route_queue,
         .summary = "the mail queue, filtered; counts per queue and per delay reason",
         .query = "queue sender recipient domain older_than reason limit", .slow = true},
        {"GET", "api/v1/modules/mail/queue/*", ROLE_ADMIN, route_message, .params = "id",
         .summary = "one queued message with its headers", .slow = true},
        {"POST", "api/v1/modules/mail/queue/*/hold", ROLE_OPERATOR, NULL, .command = "queue_hold",
         .params = "id", .flags = "dry_run", .summary = "put a message on hold: the command queue_hold {id}"},
        {"POST", "api/v1/modules/mail/queue/*/release", ROLE_OPERATOR, NULL,
         .command = "queue_release", .params = "id", .flags = "dry_run",
         .summary = "release a held message: the command queue_release {id}"},
        {"POST", "api/v1/modules/mail/queue/*/requeue", ROLE_OPERATOR, NULL,
         .command = "queue_requeue", .params = "id", .flags = "dry_run",
         .summary = "requeue a message: the command queue_requeue {id}"},
        {"POST", "api/v1/modules/mail/queue/*/flush", ROLE_OPERATOR, NULL,
         .command = "queue_flush", .params = "id", .flags = "dry_run",
         .summary = "try to deliver a message now: the command queue_flush {id}"},
        {"DELETE", "api/v1/modules/mail/queue/*", ROLE_ADMIN, NULL, .command = "queue_delete",
         .params = "id", .flags = "dry_run", .summary = "delete a message: the command queue_delete {id}"},
        {"GET", "api/v1/modules/mail/connections", ROLE_MONITOR, route_connections,
         .summary = "who is connected: IMAP and POP3 sessions", .slow = true},
        {"DELETE", "api/v1/modules/mail/connections/*", ROLE_OPERATOR, NULL, .command = "kick",
         .params = "user", .summary = "end a user's sessions: the command kick {user}"},
        {"GET", "api/v1/modules/mail/activity", ROLE_MONITOR, route_activity,
         .summary = "delivered, deferred, bounced and rejected mail per hour; the last errors",
         .query = "hours", .slow = true},
};

static const collection_column_t who_columns[] = {
        {"user", "User", NULL},
        {"service", "Service", NULL},
        {"client", "Client", NULL},
        {"pid", "PID", NULL},
};

static const collection_column_t activity_columns[] = {
        {"start", "Hour", NULL},         {"delivered", "Delivered", NULL},
        {"deferred", "Deferred", NULL},  {"bounced", "Bounced", NULL},
        {"rejected", "Rejected", NULL},
};

static const collection_option_t activity_opts[] = {
        {"hours", 'h', "hours", COPT_QUERY, "N"},
};

/* `steward mail who|kick|activity`; `steward mail queue …` and `steward mail
 * aliases …` are the collections mail_queue and mail_aliases. */
static const collection_verb_t mail_verbs[] = {
        {.name = "who",
         .op = VERB_ROUTE_LIST,
         .summary = "who is connected over IMAP and POP3",
         .route = "api/v1/modules/mail/connections",
         .list_key = "connections",
         .columns = who_columns,
         .n_columns = ELEMENTSOF(who_columns)},
        {.name = "kick",
         .op = VERB_COMMAND,
         .summary = "end a user's IMAP and POP3 sessions",
         .command = "kick",
         .arg = "user"},
        {.name = "activity",
         .op = VERB_ROUTE_LIST,
         .summary = "mail delivered, deferred, bounced and rejected per hour (--hours N)",
         .options = activity_opts,
         .n_options = ELEMENTSOF(activity_opts),
         .route = "api/v1/modules/mail/activity",
         .list_key = "hours",
         .columns = activity_columns,
         .n_columns = ELEMENTSOF(activity_columns)},
};

const module_t module_mail = {
        .name = "mail",
        .summary = "mail: Postfix and Dovecot settings, the queue, connected users, delivery "
                   "activity",
        .status = mail_status,
        .fullstatus = mail_fullstatus,
        .settings = mail_settings,
        .n_settings = MAIL_N_SETTINGS,
        .settings_read = mail_settings_read,
        .settings_apply = mail_settings_apply,
        .files = mail_files,
        .make_live = mail_make_live,
        .change = &mail_hooks,
        .start = mail_start,
        .stop = mail_stop,
        .restart = mail_restart,
        .commands = mail_commands,
        .n_commands = ELEMENTSOF(mail_commands),
        .privileged_read = mail_privileged_read,
        .gauges = mail_gauges,
        .privileged_read_role = mail_privileged_read_role,
        .routes = routes,
        .n_routes = ELEMENTSOF(routes),
        .collections = mail_collections,
        .n_collections = ELEMENTSOF(mail_collections),
        .verbs = mail_verbs,
        .n_verbs = ELEMENTSOF(mail_verbs),
        .console_title = "Mail",
};
