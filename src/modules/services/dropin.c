/* dropin.c — Steward's drop-in for a service (see dropin.h).
 *
 * One table row per setting: its field, its directive, its bounds.  The
 * render and the parse are each other's inverse for every value the merge
 * accepts (tests/unit/test-services.c checks the round trip).
 */
#include "modules/services/dropin.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/services/unitname.h"
#include "util.h"

#define DROPIN_MAX (16 * 1024)

typedef enum { DK_ENUM, DK_INT, DK_ENV } dk_kind_t;

static const char *const restart_choices[] = {
        "no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always", NULL,
};

static const struct dropin_key {
        const char *field, *directive;
        dk_kind_t kind;
        int64_t min, max;
        const char *suffix; /* after the number in the file ("%") */
} keys[] = {
        {"restart", "Restart", DK_ENUM, 0, 0, NULL},
        {"restart_sec", "RestartSec", DK_INT, 0, 86400, NULL},
        {"memory_max", "MemoryMax", DK_INT, 1 << 20, INT64_C(1) << 50, NULL},
        {"cpu_quota", "CPUQuota", DK_INT, 1, 10000, "%"},
        {"tasks_max", "TasksMax", DK_INT, 1, 4194304, NULL},
        {"nice", "Nice", DK_INT, -20, 19, NULL},
        {"environment", "Environment", DK_ENV, 0, UNIT_ENV_MAX, NULL},
};

static const struct dropin_key *key_by_field(const char *f) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (STREQ(keys[i].field, f))
                        return &keys[i];
        return NULL;
}

int dropin_path(const char *unit, char *buf, size_t size) {
        if (snprintf(buf, size, DROPIN_DIR_ROOT "/%s.d/" DROPIN_NAME, unit) >= (int)size)
                return -ENAMETOOLONG;
        return 0;
}

static bool enum_ok(const char *v) {
        for (size_t i = 0; v && restart_choices[i]; i++)
                if (STREQ(v, restart_choices[i]))
                        return true;
        return false;
}

/* Environment="A=b" "C=d": the quoted words, each valid. */
static json_t *env_parse(const char *v) {
        json_t *a = json_array();
        char item[UNIT_ENV_ITEM_MAX + 1];

        while (a && *v) {
                const char *end;
                if (*v == ' ') {
                        v++;
                        continue;
                }
                if (*v != '"' || !(end = strchr(v + 1, '"')) ||
                    (size_t)(end - v - 1) > UNIT_ENV_ITEM_MAX)
                        break;
                snprintf(item, sizeof item, "%.*s", (int)(end - v - 1), v + 1);
                if (unit_env_valid(item) && json_array_size(a) < UNIT_ENV_MAX)
                        json_array_append_new(a, json_string(item));
                v = end + 1;
        }
        return a;
}

static void parse_line(json_t *out, const char *line) {
        const char *eq = strchr(line, '=');
        char dir[32];

        if (!eq || (size_t)(eq - line) >= sizeof dir)
                return;
        snprintf(dir, sizeof dir, "%.*s", (int)(eq - line), line);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const struct dropin_key *k = &keys[i];
                char num[32];
                int64_t n;

                if (!STREQ(k->directive, dir))
                        continue;
                if (k->kind == DK_ENUM && enum_ok(eq + 1))
                        json_object_set_new(out, k->field, json_string(eq + 1));
                else if (k->kind == DK_ENV)
                        json_object_set_new(out, k->field, env_parse(eq + 1));
                else if (k->kind == DK_INT) {
                        size_t len = strlen(eq + 1), sl = k->suffix ? strlen(k->suffix) : 0;
                        if (len <= sl || len - sl >= sizeof num ||
                            (sl && !STREQ(eq + 1 + len - sl, k->suffix)))
                                return;
                        snprintf(num, sizeof num, "%.*s", (int)(len - sl), eq + 1);
                        if (safe_atoi64(num, &n) >= 0 && n >= k->min && n <= k->max)
                                json_object_set_new(out, k->field, json_integer(n));
                }
        }
}

json_t *dropin_parse(const char *text) {
        json_t *out = json_object();
        _cleanup_free_ char *copy = text ? strdup(text) : NULL;
        bool service = false;

        for (char *s = copy, *line; out && s && (line = strsep(&s, "\n"));) {
                if (line[0] == '[')
                        service = STREQ(line, "[Service]");
                else if (service && line[0] != '#' && line[0] != ';')
                        parse_line(out, line);
        }
        return out;
}

json_t *dropin_read_json(const char *unit) {
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (dropin_path(unit, path, sizeof path) < 0 ||
            read_file(path, DROPIN_MAX, &text, &len) < 0)
                return json_object();
        return dropin_parse(text);
}

static int check_value(const struct dropin_key *k, json_t *v, struct module_error *err) {
        size_t i;
        json_t *e;

        switch (k->kind) {
        case DK_ENUM:
                if (json_is_string(v) && enum_ok(json_string_value(v)))
                        return 0;
                module_error_set(err, 422, "invalid_value", k->field,
                                 "%s is one of no, on-success, on-failure, on-abnormal, "
                                 "on-watchdog, on-abort, always (or null to remove it)",
                                 k->field);
                return -EINVAL;
        case DK_INT:
                if (json_is_integer(v) && json_integer_value(v) >= k->min &&
                    json_integer_value(v) <= k->max)
                        return 0;
                module_error_set(err, 422, "invalid_value", k->field,
                                 "%s is an integer from %" PRId64 " to %" PRId64
                                 " (or null to remove it)",
                                 k->field, k->min, k->max);
                return -EINVAL;
        case DK_ENV:
                if (!json_is_array(v) || json_array_size(v) > UNIT_ENV_MAX)
                        goto bad_env;
                json_array_foreach(v, i, e) if (!unit_env_valid(json_string_value(e))) goto bad_env;
                return 0;
        }
bad_env:
        module_error_set(err, 422, "invalid_value", k->field,
                         "environment is a list of at most %d KEY=VALUE (KEY: letters, digits "
                         "and '_'; VALUE: printable, without \" \\ $ %% ` ;)",
                         UNIT_ENV_MAX);
        return -EINVAL;
}

int dropin_merge(json_t *current, json_t *body, json_t **ret, struct module_error *err) {
        json_t *out = json_deep_copy(current), *v;
        const char *key;

        if (!out) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        json_object_foreach(body, key, v) {
                const struct dropin_key *k = key_by_field(key);
                if (!k) {
                        module_error_set(err, 400, "unknown_field", key,
                                         "\"%.64s\" is not a setting of a service (restart, "
                                         "restart_sec, memory_max, cpu_quota, tasks_max, nice, "
                                         "environment)",
                                         key);
                        goto fail;
                }
                if (json_is_null(v) ||
                    (k->kind == DK_ENV && json_array_size(v) == 0 && json_is_array(v))) {
                        json_object_del(out, key);
                        continue;
                }
                if (check_value(k, v, err) < 0)
                        goto fail;
                json_object_set(out, key, v);
        }
        *ret = out;
        return 0;
fail:
        json_decref(out);
        return -EINVAL;
}

char *dropin_render(json_t *settings) {
        struct buf b;

        if (json_object_size(settings) == 0)
                return NULL;
        buf_init(&b, DROPIN_MAX);
        buf_puts(&b, "# Written by Steward (steward services modify); it owns this file and\n"
                     "# replaces it whole: change it through Steward.\n[Service]\n");
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_t *v = json_object_get(settings, keys[i].field), *e;
                size_t j;

                if (!v)
                        continue;
                if (keys[i].kind == DK_ENUM)
                        buf_printf(&b, "%s=%s\n", keys[i].directive, json_string_value(v));
                else if (keys[i].kind == DK_INT)
                        buf_printf(&b, "%s=%" JSON_INTEGER_FORMAT "%s\n", keys[i].directive,
                                   json_integer_value(v), keys[i].suffix ?: "");
                else {
                        buf_printf(&b, "%s=", keys[i].directive);
                        json_array_foreach(v, j, e)
                                buf_printf(&b, "%s\"%s\"", j ? " " : "", json_string_value(e));
                        buf_puts(&b, "\n");
                }
        }
        return buf_steal(&b);
}

/* Environment= lines as "KEY=(redacted)" words; the rest as it is.  A
 * quoted word holds no quote (unit_env_valid), so the words end at the next
 * one.  At most 11 bytes more per word, and a word takes 3 at least. */
int dropin_redact(const char *text, size_t len, char **ret) {
        static const char env[] = "Environment=", hidden[] = "(redacted)";
        size_t cap, n = 0;
        char *out;
        bool in_env = false, in_word = false, hiding = false;

        if (__builtin_mul_overflow(len, 5, &cap) || __builtin_add_overflow(cap, 1, &cap))
                return -E2BIG;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                char c = text[i];

                if (i == 0 || text[i - 1] == '\n') {
                        in_env = len - i >= sizeof env - 1 &&
                                 memcmp(text + i, env, sizeof env - 1) == 0;
                        in_word = hiding = false;
                }
                if (in_env && i > 0 && text[i - 1] == '=' && !hiding && in_word) {
                        memcpy(out + n, hidden, sizeof hidden - 1);
                        n += sizeof hidden - 1;
                        hiding = true;
                }
                if (in_env && c == '"') {
                        in_word = !in_word;
                        hiding = false;
                } else if (hiding)
                        continue;
                out[n++] = c;
        }
        out[n] = '\0';
        *ret = out;
        return 0;
}
