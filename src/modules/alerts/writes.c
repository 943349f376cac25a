/* writes.c — the alerts module's changes in the helper (writes.h).
 *
 * Each change reads its file, builds the whole next text and hands it to
 * the change engine with a guard that the file still holds what was read
 * (an edit in between is a 409, never lost).  The helper validates
 * everything here again: a front or a client may send anything.  The
 * alert an action names (by fingerprint) is looked up in the states the
 * front persisted (module_state_read), so a silence or an ack always names
 * a rule and instance that exist or existed.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/alerts/engine.h"
#include "modules/alerts/model.h"
#include "modules/alerts/writes.h"
#include "modules/change.h"
#include "settingsfile.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

static int64_t now_unix(void) {
        return (int64_t)time(NULL);
}

/* ---- writing one file through the change engine --------------------------------- */

static int unchanged_since_read(const struct change_plan *p, void *data, struct module_error *err) {
        const char *before = data;
        const struct change_file *f = &p->files[0];
        bool same = before ? f->before_type == CHANGE_FILE && f->before_len == strlen(before) &&
                                     memcmp(f->before, before, f->before_len) == 0
                           : f->before_type == CHANGE_ABSENT;

        if (p->n_files == 1 && same)
                return 0;
        module_error_set(err, 409, "conflict", NULL,
                         "%s changed while the change was planned: try again", f->path);
        return -ESTALE;
}

static int write_file(const char *path, const char *before, const char *text, size_t max,
                      bool dry_run, json_t **ret_plan, struct module_error *err) {
        struct change_plan p;
        struct change_file *f;
        int r;

        change_plan_init(&p);
        f = change_edit(&p, path, CHANGE_FILE, text, 0644);
        if (f)
                f->max = max;
        r = change_run(&p,
                       &(struct change_opts){.dry_run = dry_run,
                                             .guard = unchanged_since_read,
                                             .data = (void *)before},
                       ret_plan, err);
        change_plan_done(&p);
        return r;
}

static int no_query(json_t *query, struct module_error *err) {
        if (json_object_size(query) == 0)
                return 0;
        module_error_set(err, 400, "invalid_argument", NULL, "this takes no query arguments");
        return -EINVAL;
}

/* ---- rules ---------------------------------------------------------------------- */

static int rules_next(struct alert_rules *rs, collection_op_t op, const char *id, json_t *body,
                      struct alert_rule *ret_rule, struct module_error *err) {
        int i = id ? alert_rules_find(rs, id) : -ENOENT, r;
        struct alert_rule rule;

        if (op != COLLECTION_CREATE && i < 0) {
                module_error_set(err, 404, "not_found", NULL, "no alert rule %s", id ? id : "");
                return -ENOENT;
        }
        switch (op) {
        case COLLECTION_CREATE:
                r = alert_rule_from_json(body, NULL, &rule, err);
                if (r < 0)
                        return r;
                if (alert_rules_find(rs, rule.name) >= 0) {
                        module_error_set(err, 409, "exists", "name", "the rule %s exists",
                                         rule.name);
                        return -EEXIST;
                }
                if (rs->n >= ALERT_RULES_MAX) {
                        module_error_set(err, 409, "too_many", NULL, "at most %u rules",
                                         ALERT_RULES_MAX);
                        return -E2BIG;
                }
                {
                        struct alert_rule *n = realloc(rs->rule, (rs->n + 1) * sizeof *n);
                        if (!n)
                                return oom(err);
                        rs->rule = n;
                        rs->rule[rs->n++] = rule;
                }
                break;
        case COLLECTION_MODIFY:
                r = alert_rule_from_json(body, &rs->rule[i], &rule, err);
                if (r < 0)
                        return r;
                rs->rule[i] = rule;
                break;
        case COLLECTION_DELETE:
                if (json_object_size(body) > 0) {
                        module_error_set(err, 400, "invalid_argument", NULL,
                                         "a delete takes no body");
                        return -EINVAL;
                }
                rule = rs->rule[i];
                memmove(&rs->rule[i], &rs->rule[i + 1],
                        (rs->n - (size_t)i - 1) * sizeof rs->rule[0]);
                rs->n--;
                break;
        }
        *ret_rule = rule;
        return 0;
}

int alert_rules_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                      json_t *body, json_t *query, bool dry_run, json_t **ret,
                      struct module_error *err) {
        _cleanup_json_ json_t *plan = NULL;
        _cleanup_free_ char *before = NULL, *text = NULL;
        struct alert_rules rs = {0};
        struct alert_rule rule;
        const char *path = alert_rules_path();
        int r;

        (void)ctx;
        if ((r = no_query(query, err)) < 0)
                return r;
        r = alert_rules_load(&rs, &before, err);
        if (r < 0)
                return r;
        r = rules_next(&rs, op, id, body, &rule, err);
        if (r >= 0 && !(text = alert_rules_format(&rs)))
                r = oom(err);
        alert_rules_done(&rs);
        if (r < 0)
                return r;
        r = write_file(path, before, text, ALERT_RULES_FILE_MAX, dry_run, &plan, err);
        if (r < 0 && !plan)
                return r;
        *ret = json_pack("{s:O?}", "plan", plan);
        if (!*ret)
                return oom(err);
        if (op != COLLECTION_DELETE) {
                json_t *item = alert_rule_to_json(&rule);
                json_object_set_new(*ret, "result", json_pack("{s:o?}", "alert_rule", item));
        }
        return r;
}

/* ---- the marks file -------------------------------------------------------------- */

static pthread_mutex_t path_lock = PTHREAD_MUTEX_INITIALIZER;
static char marks_path[PATH_MAX];

const char *alert_marks_path(void) {
        const char *cfg = settings_config_path();
        char dir[PATH_MAX], path[PATH_MAX];

        if (!cfg || strlen(cfg) >= sizeof dir)
                return NULL;
        memcpy(dir, cfg, strlen(cfg) + 1);
        if (snprintf(path, sizeof path, "%s/%s", dirname(dir), ALERT_MARKS_FILE) >=
            (int)sizeof path)
                return NULL;
        pthread_mutex_lock(&path_lock);
        if (!STREQ(marks_path, path))
                memcpy(marks_path, path, sizeof path);
        pthread_mutex_unlock(&path_lock);
        return marks_path;
}

static bool text_ok(json_t *v, size_t max, bool empty_ok) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);

        if (!s || n > max || (!empty_ok && n == 0) || strlen(s) != n || !utf8_valid(s, n))
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool silence_ok(json_t *s) {
        return json_is_object(s) && text_ok(json_object_get(s, "id"), 16, false) &&
               text_ok(json_object_get(s, "rule"), ALERT_NAME_MAX, false) &&
               alert_rule_name_valid(json_string_value(json_object_get(s, "rule"))) &&
               text_ok(json_object_get(s, "instance"), 255, true) &&
               text_ok(json_object_get(s, "reason"), ALERT_REASON_MAX, false) &&
               text_ok(json_object_get(s, "created_by"), 255, true) &&
               json_is_integer(json_object_get(s, "created_at")) &&
               json_is_integer(json_object_get(s, "ends_at"));
}

static bool ack_ok(json_t *a) {
        return json_is_object(a) && text_ok(json_object_get(a, "user"), 255, true) &&
               json_is_integer(json_object_get(a, "time")) &&
               text_ok(json_object_get(a, "comment"), ALERT_REASON_MAX, true);
}

static int marks_check(json_t *m, struct module_error *err) {
        json_t *sil = json_object_get(m, "silences"), *acks = json_object_get(m, "acks"), *v;
        const char *k;
        size_t i;

        if (!json_is_object(m) || !json_is_array(sil) || !json_is_object(acks) ||
            json_object_size(m) != 2 || json_array_size(sil) > ALERT_SILENCES_MAX ||
            json_object_size(acks) > ALERT_ACKS_MAX)
                goto bad;
        json_array_foreach(sil, i, v) if (!silence_ok(v)) goto bad;
        json_object_foreach(acks, k, v) if (strlen(k) != 16 || !ack_ok(v)) goto bad;
        return 0;
bad:
        module_error_set(err, 500, "invalid_file", NULL,
                         "%s is not a valid silences file: fix or remove it", ALERT_MARKS_FILE);
        return -EINVAL;
}

int alert_marks_load(json_t **ret, char **ret_text, struct module_error *err) {
        _cleanup_free_ char *text = NULL;
        json_t *m;
        size_t len = 0;
        int r;

        if (ret_text)
                *ret_text = NULL;
        r = alert_file_read(alert_marks_path(), ALERT_MARKS_FILE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = json_pack("{s:[], s:{}}", "silences", "acks");
                return *ret ? 0 : oom(err);
        }
        m = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        r = marks_check(m, err);
        if (r < 0) {
                json_decref(m);
                return r;
        }
        *ret = m;
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

/* Drops silences ended a day ago and acks a month old. */
static void marks_prune(json_t *m, int64_t now) {
        json_t *sil = json_object_get(m, "silences"), *acks = json_object_get(m, "acks"), *v;
        const char *k;
        void *tmp;

        for (size_t i = json_array_size(sil); i-- > 0;)
                if (json_integer_value(json_object_get(json_array_get(sil, i), "ends_at")) <
                    now - 86400)
                        json_array_remove(sil, i);
        json_object_foreach_safe(acks, tmp, k, v) if (json_integer_value(json_object_get(
                                                              v, "time")) < now - 30 * 86400)
                json_object_del(acks, k);
}

/* The marks as a write starts from: loaded, then pruned, so that a cap is
 * counted on what will be kept. */
static int marks_load_pruned(json_t **ret, char **ret_text, struct module_error *err) {
        int r = alert_marks_load(ret, ret_text, err);

        if (r >= 0)
                marks_prune(*ret, now_unix());
        return r;
}

/* Writes m (changed from before) and answers {"plan", "result": {key: item}}. */
static int marks_write(json_t *m, const char *before, bool dry_run, const char *key, json_t *item,
                       json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *plan = NULL;
        _cleanup_free_ char *text = NULL, *dumped = NULL;
        int r;

        marks_prune(m, now_unix());
        dumped = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!dumped || asprintf(&text, "%s\n", dumped) < 0) {
                json_decref(item);
                return oom(err);
        }
        r = write_file(alert_marks_path(), before, text, ALERT_MARKS_FILE_MAX, dry_run, &plan,
                       err);
        if (r < 0 && !plan) {
                json_decref(item);
                return r;
        }
        *ret = json_pack("{s:O?, s:{s:o?}}", "plan", plan, "result", key, item);
        if (!*ret)
                return oom(err);
        /* An action's answer holds the item beside the plan. */
        if (json_object_get(json_object_get(*ret, "result"), key))
                json_object_set(*ret, key, json_object_get(json_object_get(*ret, "result"), key));
        return r;
}

static const char *next_silence_id(json_t *sil, char buf[24]) {
        long long max = 0;
        json_t *v;
        size_t i;

        json_array_foreach(sil, i, v) {
                int64_t n;
                const char *id = json_string_value(json_object_get(v, "id"));
                if (id && safe_atoi64_n(id, strlen(id), &n) >= 0 && n > max)
                        max = n;
        }
        snprintf(buf, 24, "%lld", max + 1);
        return buf;
}

/* Room for one more silence by user in sil: at most ALERT_SILENCES_MAX
 * active ones, ALERT_SILENCES_PER_USER of them by one user; an ended
 * silence (kept a day for the record) gives its place up, the one ended
 * first going first. */
static int silence_room(json_t *sil, const char *user, int64_t now, struct module_error *err) {
        size_t active = 0, mine = 0, ended = SIZE_MAX, i;
        int64_t ended_at = INT64_MAX;
        json_t *v;

        json_array_foreach(sil, i, v) {
                int64_t end = json_integer_value(json_object_get(v, "ends_at"));
                if (end <= now) {
                        if (end < ended_at) {
                                ended_at = end;
                                ended = i;
                        }
                        continue;
                }
                active++;
                if (STREQ(json_string_value(json_object_get(v, "created_by")) ?: "", user))
                        mine++;
        }
        if (active >= ALERT_SILENCES_MAX) {
                module_error_set(err, 409, "too_many", NULL, "at most %u active silences",
                                 ALERT_SILENCES_MAX);
                return -E2BIG;
        }
        if (mine >= ALERT_SILENCES_PER_USER) {
                module_error_set(err, 409, "too_many", NULL,
                                 "at most %u active silences by one user: expire one first",
                                 ALERT_SILENCES_PER_USER);
                return -E2BIG;
        }
        if (json_array_size(sil) >= ALERT_SILENCES_MAX && ended != SIZE_MAX)
                json_array_remove(sil, ended);
        return 0;
}

/* A new silence of rule/instance into m: args {duration, reason}. */
static int silence_add(json_t *m, const struct module_ctx *ctx, const char *rule,
                       const char *instance, json_t *args, json_t **ret_item,
                       struct module_error *err) {
        json_t *sil = json_object_get(m, "silences"), *reason = json_object_get(args, "reason");
        const char *d = json_string_value(json_object_get(args, "duration"));
        unsigned secs;
        int64_t now = now_unix();
        char id[24];
        int r;

        if (!d || alert_duration_parse(d, ALERT_SILENCE_MAX, &secs) < 0 || secs < 60) {
                module_error_set(err, 422, "invalid_value", "duration",
                                 "duration must be 1m to 30d (30m, 2h, 1d)");
                return -EINVAL;
        }
        if (!text_ok(reason, ALERT_REASON_MAX, false)) {
                module_error_set(err, 422, "invalid_value", "reason",
                                 "a reason is required: 1 to 256 bytes of text, no control "
                                 "characters");
                return -EINVAL;
        }
        if ((r = silence_room(sil, ctx && ctx->user ? ctx->user : "", now, err)) < 0)
                return r;
        *ret_item = json_pack("{s:s, s:s, s:s, s:O, s:s, s:I, s:I}", "id",
                              next_silence_id(sil, id), "rule", rule, "instance", instance,
                              "reason", reason, "created_by",
                              ctx && ctx->user ? ctx->user : "", "created_at", (json_int_t)now,
                              "ends_at", (json_int_t)(now + secs));
        if (!*ret_item || json_array_append_new(sil, json_deep_copy(*ret_item)) < 0)
                return oom(err);
        json_object_set_new(*ret_item, "active", json_true());
        return 0;
}

static const char *const silence_keys[] = {"rule", "instance", "duration", "reason"};

static int silence_body_check(json_t *body, struct module_error *err) {
        const char *k;
        json_t *v;

        json_object_foreach(body, k, v) {
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(silence_keys); i++)
                        known = known || STREQ(k, silence_keys[i]);
                if (!known) {
                        module_error_set(err, 400, "invalid_argument", k, "unknown field %s", k);
                        return -EINVAL;
                }
        }
        if (!json_is_string(json_object_get(body, "rule")) ||
            !alert_rule_name_valid(json_string_value(json_object_get(body, "rule")))) {
                module_error_set(err, 422, "invalid_value", "rule", "rule must name a rule");
                return -EINVAL;
        }
        if (json_object_get(body, "instance") && !text_ok(json_object_get(body, "instance"), 255, true)) {
                module_error_set(err, 422, "invalid_value", "instance",
                                 "instance is at most 255 bytes of text");
                return -EINVAL;
        }
        return 0;
}

/* Ends the silence id in m now (an ended one stays as it ended) and writes
 * m: a DELETE by an admin and the expire action of an operator alike. */
static int silence_end(json_t *m, const char *before, const char *id, bool dry_run, json_t **ret,
                       struct module_error *err) {
        json_t *item, *v;
        size_t i;

        json_array_foreach(json_object_get(m, "silences"), i, v) {
                if (!STREQ(json_string_value(json_object_get(v, "id")) ?: "", id ? id : ""))
                        continue;
                if (json_integer_value(json_object_get(v, "ends_at")) > now_unix())
                        json_object_set_new(v, "ends_at", json_integer(now_unix()));
                item = json_deep_copy(v);
                if (item)
                        json_object_set_new(item, "active", json_false());
                return marks_write(m, before, dry_run, "alert_silence", item, ret, err);
        }
        module_error_set(err, 404, "not_found", NULL, "no silence %s", id ? id : "");
        return -ENOENT;
}

int alert_silences_write(const struct module_ctx *ctx, collection_op_t op, const char *id,
                         json_t *body, json_t *query, bool dry_run, json_t **ret,
                         struct module_error *err) {
        _cleanup_json_ json_t *m = NULL;
        _cleanup_free_ char *before = NULL;
        json_t *item = NULL;
        int r;

        if ((r = no_query(query, err)) < 0)
                return r;
        if (op == COLLECTION_MODIFY) {
                module_error_set(err, 405, "method_not_allowed", NULL,
                                 "a silence is not modified: expire it and make another");
                return -EOPNOTSUPP;
        }
        r = marks_load_pruned(&m, &before, err);
        if (r < 0)
                return r;
        if (op == COLLECTION_CREATE) {
                json_t *inst = json_object_get(body, "instance");
                if ((r = silence_body_check(body, err)) < 0)
                        return r;
                r = silence_add(m, ctx, json_string_value(json_object_get(body, "rule")),
                                inst ? json_string_value(inst) : "", body, &item, err);
                if (r < 0) {
                        json_decref(item);
                        return r;
                }
                return marks_write(m, before, dry_run, "alert_silence", item, ret, err);
        }
        if (json_object_size(body) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL, "a delete takes no body");
                return -EINVAL;
        }
        return silence_end(m, before, id, dry_run, ret, err);
}

int alert_action_expire(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                        json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *m = NULL;
        _cleanup_free_ char *before = NULL;
        int r;

        (void)ctx;
        (void)args;
        r = marks_load_pruned(&m, &before, err);
        if (r < 0)
                return r;
        return silence_end(m, before, id, dry_run, ret, err);
}

/* ---- actions on an alert ------------------------------------------------------- */

/* The rule and instance of the alert with fingerprint fp, from the states
 * the front persisted. */
static int alert_lookup(const char *fp, char rule[ALERT_NAME_MAX + 1], char instance[256],
                        struct module_error *err) {
        _cleanup_json_ json_t *v = NULL;
        json_t *o;
        size_t i;
        int r = module_state_read("alerts", ALERTS_STATE_KEY, &v);

        if (r < 0) {
                module_error_set(err, 503, "unavailable", NULL,
                                 "the alerts' states cannot be read: %s", strerror(-r));
                return r;
        }
        json_array_foreach(json_object_get(v, "instances"), i, o) {
                const char *ru = json_string_value(json_object_get(o, "rule"));
                const char *in = json_string_value(json_object_get(o, "instance"));
                char f[17];
                if (!ru || !in || strlen(ru) > ALERT_NAME_MAX || strlen(in) > 255)
                        continue;
                alert_fingerprint(ru, in, f);
                if (fp && STREQ(f, fp)) {
                        snprintf(rule, ALERT_NAME_MAX + 1, "%s", ru);
                        snprintf(instance, 256, "%s", in);
                        return 0;
                }
        }
        module_error_set(err, 404, "not_found", NULL, "no alert %s", fp ? fp : "");
        return -ENOENT;
}

int alert_action_ack(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                     json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *m = NULL;
        _cleanup_free_ char *before = NULL;
        json_t *comment = json_object_get(args, "comment"), *item;
        char rule[ALERT_NAME_MAX + 1], inst[256];
        int r = alert_lookup(id, rule, inst, err);

        if (r < 0)
                return r;
        if (comment && !text_ok(comment, ALERT_REASON_MAX, true)) {
                module_error_set(err, 422, "invalid_value", "comment",
                                 "comment is at most 256 bytes of text");
                return -EINVAL;
        }
        r = marks_load_pruned(&m, &before, err);
        if (r < 0)
                return r;
        if (json_object_size(json_object_get(m, "acks")) >= ALERT_ACKS_MAX &&
            !json_object_get(json_object_get(m, "acks"), id)) {
                module_error_set(err, 409, "too_many", NULL, "too many acknowledgements");
                return -E2BIG;
        }
        item = json_pack("{s:s, s:I, s:s}", "user", ctx && ctx->user ? ctx->user : "", "time",
                         (json_int_t)now_unix(), "comment", comment ? json_string_value(comment) : "");
        if (!item || json_object_set(json_object_get(m, "acks"), id, item) < 0) {
                json_decref(item);
                return oom(err);
        }
        return marks_write(m, before, dry_run, "acknowledged", item, ret, err);
}

int alert_action_unack(const struct module_ctx *ctx, const char *id, json_t *args, bool dry_run,
                       json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *m = NULL;
        _cleanup_free_ char *before = NULL;
        char rule[ALERT_NAME_MAX + 1], inst[256];
        int r = alert_lookup(id, rule, inst, err);

        (void)ctx;
        (void)args;
        if (r < 0)
                return r;
        r = marks_load_pruned(&m, &before, err);
        if (r < 0)
                return r;
        if (json_object_del(json_object_get(m, "acks"), id) < 0) {
                module_error_set(err, 409, "not_acknowledged", NULL,
                                 "the alert %s is not acknowledged", id);
                return -ENOENT;
        }
        return marks_write(m, before, dry_run, "acknowledged", json_null(), ret, err);
}

int alert_action_silence(const struct module_ctx *ctx, const char *id, json_t *args,
                         bool dry_run, json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *m = NULL;
        _cleanup_free_ char *before = NULL;
        char rule[ALERT_NAME_MAX + 1], inst[256];
        json_t *item = NULL;
        int r = alert_lookup(id, rule, inst, err);

        if (r < 0)
                return r;
        r = marks_load_pruned(&m, &before, err);
        if (r < 0)
                return r;
        r = silence_add(m, ctx, rule, inst, args, &item, err);
        if (r < 0) {
                json_decref(item);
                return r;
        }
        return marks_write(m, before, dry_run, "alert_silence", item, ret, err);
}
