/* aliases.c — /etc/aliases as the collection mail_aliases: list, show, add,
 * modify, delete, planned through the change engine with newaliases.
 *
 * The file is parsed as aliases(5) and Postfix's postalias read it (see
 * aliases.h): an entry is its first line and the continuation lines after
 * it.  A write replaces the bytes of one entry (modify: the name as written,
 * its ':', then " target, target\n"), removes them (delete) or appends one
 * line (add); every other byte of the file — comments, blank lines, order,
 * entries the API cannot edit — stays as it was.
 *
 * What the API may not do, because it would run something as root or write
 * where the alias says: give a target that pipes to a command ("|…"), writes
 * to a file ("/…") or includes a list (":include:…"), quoted or not — 422
 * naming "targets".  Existing entries with such a target are listed with
 * "editable": false and can be neither modified nor deleted here; so can a
 * name written twice (postalias keeps the first; which one an edit meant is
 * not ours to guess).
 *
 * A write is one plan: the file edit of /etc/aliases, then newaliases (the
 * staged run builds the database in the staged /etc first; a failure there
 * refuses the change).  The record keeps /etc/aliases before and after, so
 * a rollback (POST /api/v1/audit/{id}/rollback) puts the file back; the
 * module's make_live then runs newaliases (aliases_make_live), since the
 * database is older than the file.
 *
 * Everything here runs in the privileged helper. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "module.h"
#include "modules/change.h"
#include "modules/mail/aliases.h"
#include "modules/mail/mail.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define NEWALIASES         "/usr/bin/newaliases"
#define ALIASES_DB         "/etc/aliases.db"
#define ENTRY_TARGETS_KEPT 1024 /* targets of one entry read (more: not editable) */

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- grammars -------------------------------------------------------------------- */

static bool local_valid(const char *s, size_t n, bool alias_name) {
        const char *first =
                alias_name ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
        const char *rest =
                alias_name ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"
                           : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+=-";

        if (n == 0 || n > ALIAS_NAME_MAX || !strchr(first, s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!s[i] || !strchr(rest, s[i]))
                        return false;
        return true;
}

bool alias_name_valid(const char *s) {
        return s && local_valid(s, strlen(s), true);
}

bool alias_target_special(const char *s, size_t n) {
        if (n > 0 && s[0] == '"') {
                s++;
                n--;
        }
        return (n > 0 && (s[0] == '|' || s[0] == '/')) ||
               (n >= 9 && strncasecmp(s, ":include:", 9) == 0);
}

const char *alias_target_problem(const char *s) {
        const char *at;
        size_t n = s ? strlen(s) : 0, i = 0;

        if (n == 0)
                return "is empty";
        i = s[0] == '"' ? 1 : 0;
        if (s[i] == '|')
                return "pipes to a command: not through the API (edit /etc/aliases)";
        if (s[i] == '/')
                return "writes to a file: not through the API (edit /etc/aliases)";
        if (n - i >= 9 && strncasecmp(s + i, ":include:", 9) == 0)
                return "includes a list: not through the API (edit /etc/aliases)";
        if (n > ALIAS_TARGET_MAX)
                return "is too long";
        at = strchr(s, '@');
        if (!at)
                return local_valid(s, n, false) ? NULL
                                                : "is not a local name ([A-Za-z0-9_] then "
                                                  "[A-Za-z0-9._+=-], at most 64) or an address";
        if (!local_valid(s, (size_t)(at - s), false))
                return "has a local part that is not [A-Za-z0-9_] then [A-Za-z0-9._+=-] (at most "
                       "64)";
        if (!dns_name_valid(at + 1, 253) || !strchr(at + 1, '.'))
                return "has a domain that is not a host name with a dot";
        return NULL;
}

/* ---- the parser ------------------------------------------------------------------- */

void alias_file_done(struct alias_file *f) {
        for (size_t i = 0; f && i < f->n; i++)
                json_decref(f->entries[i].targets);
        if (f) {
                free(f->entries);
                *f = (struct alias_file){0};
        }
}

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A JSON string of text that may not be UTF-8 (a byte that is not is
 * replaced): *clean false then. */
static json_t *shown(const char *s, size_t n, bool *clean) {
        char *copy;
        json_t *j;

        if (utf8_valid(s, n))
                return json_stringn(s, n);
        *clean = false;
        copy = strndup(s, n);
        if (!copy)
                return NULL;
        utf8_sanitize(copy);
        j = json_string(copy);
        free(copy);
        return j;
}

/* The targets of s[0, n) (a line's part after the name, or a continuation
 * line), split at commas outside double quotes, appended to e. */
static int add_targets(struct alias_entry *e, const char *s, size_t n) {
        size_t a = 0;
        bool quoted = false;

        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] == '\\' && quoted) {
                        i++;
                        continue;
                }
                if (i < n && s[i] == '"')
                        quoted = !quoted;
                if (i < n && (s[i] != ',' || quoted))
                        continue;
                size_t b = i;
                while (a < b && blank(s[a]))
                        a++;
                while (b > a && blank(s[b - 1]))
                        b--;
                if (b > a) {
                        json_t *t;
                        if (alias_target_special(s + a, b - a))
                                e->editable = false;
                        if (json_array_size(e->targets) >= ENTRY_TARGETS_KEPT) {
                                e->editable = false;
                                return 0;
                        }
                        t = shown(s + a, b - a, &e->editable);
                        if (!t || json_array_append_new(e->targets, t) < 0)
                                return -ENOMEM;
                }
                a = i + 1;
        }
        return 0;
}

/* The name of the entry line text[off, lend): sets name, name_len, colon;
 * false for a line that is no entry. */
static bool entry_name(const char *t, size_t off, size_t lend, struct alias_entry *e) {
        size_t i = off;

        if (t[off] == '"') {
                for (i = off + 1; i < lend && t[i] != '"'; i++)
                        if (t[i] == '\\')
                                i++;
                if (i >= lend)
                        return false;
                e->name = off + 1;
                e->name_len = i - off - 1;
                for (i++; i < lend && (t[i] == ' ' || t[i] == '\t'); i++)
                        ;
                if (i >= lend || t[i] != ':')
                        return false;
        } else {
                const char *c = memchr(t + off, ':', lend - off);
                if (!c)
                        return false;
                i = (size_t)(c - t);
                e->name = off;
                e->name_len = i - off;
                while (e->name_len > 0 && blank(t[off + e->name_len - 1]))
                        e->name_len--;
        }
        e->colon = i;
        return e->name_len > 0;
}

static bool same_name(const char *t, const struct alias_entry *a, const struct alias_entry *b) {
        return a->name_len == b->name_len &&
               strncasecmp(t + a->name, t + b->name, a->name_len) == 0;
}

int aliases_parse(const char *t, size_t len, struct alias_file *ret) {
        struct alias_file f = {0};
        struct alias_entry *cur = NULL;
        size_t off = 0, cap = 0;
        int r = 0;

        while (off < len && r >= 0) {
                const char *nl = memchr(t + off, '\n', len - off);
                size_t lend = nl ? (size_t)(nl - t) + 1 : len, i = off;
                struct alias_entry e = {.start = off, .end = lend, .editable = true};

                while (i < lend && (t[i] == ' ' || t[i] == '\t'))
                        i++;
                if (i >= lend || t[i] == '\n' || t[i] == '\r' || t[i] == '#') {
                        off = lend; /* a comment or a blank line */
                        continue;
                }
                if (i > off) { /* a continuation line */
                        if (cur) {
                                cur->end = lend;
                                r = add_targets(cur, t + i, lend - i);
                        }
                        off = lend;
                        continue;
                }
                cur = NULL;
                off = lend;
                if (!entry_name(t, e.start, lend, &e))
                        continue; /* no name: not an entry (postalias warns) */
                if (f.n == ALIASES_MAX) {
                        r = -E2BIG;
                        break;
                }
                if (f.n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        struct alias_entry *n = reallocarray(f.entries, ncap, sizeof *n);
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        f.entries = n;
                        cap = ncap;
                }
                e.targets = json_array();
                if (!e.targets) {
                        r = -ENOMEM;
                        break;
                }
                f.entries[f.n] = e;
                cur = &f.entries[f.n++];
                r = add_targets(cur, t + e.colon + 1, lend - e.colon - 1);
        }
        if (r < 0) {
                alias_file_done(&f);
                return r;
        }
        for (size_t a = 0; a < f.n; a++)
                for (size_t b = a + 1; b < f.n; b++)
                        if (same_name(t, &f.entries[a], &f.entries[b]))
                                f.entries[a].editable = f.entries[b].editable = false;
        *ret = f;
        return 0;
}

struct alias_entry *aliases_find(const struct alias_file *f, const char *t, const char *name,
                                 size_t *ret_count) {
        struct alias_entry *first = NULL;
        size_t n = strlen(name), count = 0;

        for (size_t i = 0; i < f->n; i++) {
                struct alias_entry *e = &f->entries[i];
                if (e->name_len == n && strncasecmp(t + e->name, name, n) == 0) {
                        count++;
                        if (!first)
                                first = e;
                }
        }
        if (ret_count)
                *ret_count = count;
        return first;
}

/* ---- reading ------------------------------------------------------------------------ */

struct aliases_text {
        char *text;
        size_t len;
        bool exists;
        struct alias_file file;
};

static void aliases_text_done(struct aliases_text *a) {
        alias_file_done(&a->file);
        free(a->text);
}

static int aliases_load(struct aliases_text *a, struct module_error *err) {
        int r;

        *a = (struct aliases_text){0};
        r = read_file(ALIASES_FILE, ALIASES_FILE_MAX, &a->text, &a->len);
        if (r == -ENOENT) {
                a->text = strdup("");
                if (!a->text)
                        return oom(err);
        } else if (r < 0) {
                module_error_set(err, r == -E2BIG || r == -EFBIG ? 413 : 500, "unreadable", NULL,
                                 "cannot read " ALIASES_FILE " (at most %u bytes): %s",
                                 ALIASES_FILE_MAX, strerror(-r));
                return r;
        } else
                a->exists = true;
        if (memchr(a->text, '\0', a->len)) {
                module_error_set(err, 500, "unreadable", NULL, ALIASES_FILE " holds a NUL byte");
                free(a->text);
                return -EBADMSG;
        }
        r = aliases_parse(a->text, a->len, &a->file);
        if (r < 0) {
                free(a->text);
                if (r == -ENOMEM)
                        return oom(err);
                module_error_set(err, 500, "unreadable", NULL,
                                 ALIASES_FILE " has more than %d entries", ALIASES_MAX);
                return r;
        }
        return 0;
}

static json_t *alias_json(const struct aliases_text *a, const struct alias_entry *e) {
        bool clean = true;
        json_t *name = shown(a->text + e->name, e->name_len, &clean);

        return json_pack("{s:o?, s:O, s:b}", "name", name, "targets", e->targets, "editable",
                         e->editable && clean);
}

int aliases_list(const struct module_ctx *ctx, json_t *query, json_t **ret,
                 struct module_error *err) {
        _cleanup_json_ json_t *list = json_array();
        struct aliases_text a;
        int r;

        (void)ctx, (void)query;
        if (!list)
                return oom(err);
        r = aliases_load(&a, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < a.file.n && r >= 0; i++)
                if (json_array_append_new(list, alias_json(&a, &a.file.entries[i])) < 0)
                        r = oom(err);
        aliases_text_done(&a);
        if (r < 0)
                return r;
        /* Under the collection's name, as every list (the CLI reads it
         * there), and under "aliases", mail.h's first word. */
        *ret = json_pack("{s:O, s:O}", "mail_aliases", list, "aliases", list);
        return *ret ? 0 : oom(err);
}

int aliases_show(const struct module_ctx *ctx, const char *id, json_t *query, json_t **ret,
                 struct module_error *err) {
        struct aliases_text a;
        struct alias_entry *e;
        int r;

        (void)ctx, (void)query;
        if (!id || strlen(id) > ALIAS_TARGET_MAX) {
                module_error_set(err, 404, "not_found", "name", "no such alias");
                return -ENOENT;
        }
        r = aliases_load(&a, err);
        if (r < 0)
                return r;
        e = aliases_find(&a.file, a.text, id, NULL);
        if (!e) {
                module_error_set(err, 404, "not_found", "name",
                                 "no alias \"%.64s\" in " ALIASES_FILE, id);
                r = -ENOENT;
        } else if (!(*ret = json_pack("{s:o}", "alias", alias_json(&a, e))))
                r = oom(err);
        aliases_text_done(&a);
        return r;
}

/* ---- writing ------------------------------------------------------------------------ */

/* body's "targets" (an array of strings, or one string of comma-separated
 * ones) checked, as one line's text "a, b" in *ret_line and a list in
 * *ret_list. */
static int targets_from(json_t *v, char **ret_line, json_t **ret_list, struct module_error *err) {
        _cleanup_json_ json_t *list = json_array();
        struct buf line;
        json_t *t;
        size_t i;

        if (!list)
                return oom(err);
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = json_string_length(v);
                if (n > (size_t)ALIAS_TARGETS_MAX * (ALIAS_TARGET_MAX + 2))
                        goto too_many;
                for (const char *p = s; p <= s + n;) {
                        const char *c = memchr(p, ',', (size_t)(s + n - p));
                        size_t m = c ? (size_t)(c - p) : (size_t)(s + n - p);
                        while (m > 0 && blank(*p))
                                p++, m--;
                        while (m > 0 && blank(p[m - 1]))
                                m--;
                        if (m > 0 && json_array_append_new(list, json_stringn(p, m)) < 0)
                                return oom(err);
                        if (json_array_size(list) > ALIAS_TARGETS_MAX)
                                goto too_many;
                        p = c ? c + 1 : s + n + 1;
                }
        } else if (json_is_array(v))
                json_array_extend(list, v);
        else {
                module_error_set(err, 422, "invalid_value", "targets",
                                 "targets: a list of local names or addresses");
                return -EINVAL;
        }
        if (json_array_size(list) == 0) {
                module_error_set(err, 422, "invalid_value", "targets",
                                 "targets: at least one local name or address");
                return -EINVAL;
        }
        if (json_array_size(list) > ALIAS_TARGETS_MAX)
                goto too_many;
        buf_init(&line, (size_t)ALIAS_TARGETS_MAX * (ALIAS_TARGET_MAX + 2) + 1);
        json_array_foreach(list, i, t) {
                const char *s = json_string_value(t);
                const char *why = s ? alias_target_problem(s) : "is not a string";
                if (why) {
                        module_error_set(err, 422, "invalid_value", "targets",
                                         "targets[%zu] \"%.80s\" %s", i, s ? s : "", why);
                        buf_free(&line);
                        return -EINVAL;
                }
                if ((i > 0 && buf_puts(&line, ", ") < 0) || buf_puts(&line, s) < 0) {
                        buf_free(&line);
                        return oom(err);
                }
        }
        if (buf_puts(&line, "") < 0 || !(*ret_line = buf_steal(&line))) {
                buf_free(&line);
                return oom(err);
        }
        *ret_list = json_incref(list);
        return 0;
too_many:
        module_error_set(err, 422, "invalid_value", "targets", "targets: at most %d",
                         ALIAS_TARGETS_MAX);
        return -EINVAL;
}

/* Only the fields op may set; "editable" and anything else are refused. */
static int check_body(collection_op_t op, json_t *body, struct module_error *err) {
        const char *k;
        json_t *v;

        if (op == COLLECTION_DELETE)
                return 0;
        if (!json_is_object(body)) {
                module_error_set(err, 400, "bad_request", NULL, "a JSON object");
                return -EINVAL;
        }
        json_object_foreach(body, k, v) {
                if (STREQ(k, "targets") || (STREQ(k, "name")))
                        continue;
                module_error_set(err, 422, "invalid_value", k,
                                 STREQ(k, "editable") ? "editable is read-only"
                                                      : "%.64s: not a field of an alias",
                                 k);
                return -EINVAL;
        }
        if (!json_object_get(body, "targets")) {
                module_error_set(err, 422, "invalid_value", "targets",
                                 "targets: at least one local name or address");
                return -EINVAL;
        }
        return 0;
}

/* The entry to modify or delete: 404 unknown, 409 written twice, 422 not
 * editable. */
static int entry_for(const struct aliases_text *a, const char *id, collection_op_t op,
                     struct alias_entry **ret, struct module_error *err) {
        size_t count = 0;
        struct alias_entry *e = id && strlen(id) <= ALIAS_TARGET_MAX
                                        ? aliases_find(&a->file, a->text, id, &count)
                                        : NULL;

        if (!e) {
                module_error_set(err, 404, "not_found", "name",
                                 "no alias \"%.64s\" in " ALIASES_FILE, id ? id : "");
                return -ENOENT;
        }
        if (count > 1) {
                module_error_set(err, 409, "conflict", "name",
                                 "\"%.64s\" is in " ALIASES_FILE " %zu times (postalias keeps the "
                                 "first): edit the file",
                                 id, count);
                return -EEXIST;
        }
        if (!e->editable) {
                module_error_set(err, 422, "invalid_value",
                                 op == COLLECTION_MODIFY ? "targets" : "name",
                                 "\"%.64s\" pipes to a command, writes to a file or includes a "
                                 "list: change it by editing " ALIASES_FILE,
                                 id);
                return -EPERM;
        }
        *ret = e;
        return 0;
}

/* The file's new text for op; *ret_alias the alias as it will be (NULL for a
 * delete). */
static int next_text(const struct aliases_text *a, collection_op_t op, const char *id, json_t *body,
                     char **ret_text, json_t **ret_alias, struct module_error *err) {
        _cleanup_free_ char *line = NULL;
        _cleanup_json_ json_t *targets = NULL;
        struct alias_entry *e = NULL;
        const char *name = NULL;
        struct buf out;
        int r = 0;

        if (op != COLLECTION_CREATE && (r = entry_for(a, id, op, &e, err)) < 0)
                return r;
        if (op == COLLECTION_CREATE) {
                name = json_string_value(json_object_get(body, "name"));
                if (!alias_name_valid(name)) {
                        module_error_set(err, 422, "invalid_value", "name",
                                         "name: [A-Za-z0-9] then [A-Za-z0-9._+-], at most %d",
                                         ALIAS_NAME_MAX);
                        return -EINVAL;
                }
                if (aliases_find(&a->file, a->text, name, NULL)) {
                        module_error_set(err, 409, "conflict", "name",
                                         "\"%s\" is already in " ALIASES_FILE, name);
                        return -EEXIST;
                }
        } else if (op == COLLECTION_MODIFY && json_object_get(body, "name")) {
                const char *n = json_string_value(json_object_get(body, "name"));
                if (!n || strlen(n) != e->name_len ||
                    strncasecmp(n, a->text + e->name, e->name_len)) {
                        module_error_set(err, 422, "invalid_value", "name",
                                         "an alias is not renamed: add the new name, delete the "
                                         "old one");
                        return -EINVAL;
                }
        }
        if (op != COLLECTION_DELETE &&
            (r = targets_from(json_object_get(body, "targets"), &line, &targets, err)) < 0)
                return r;

        buf_init(&out, ALIASES_FILE_MAX);
        if (op == COLLECTION_CREATE)
                r = buf_append(&out, a->text, a->len) < 0 ||
                                    (a->len > 0 && a->text[a->len - 1] != '\n' &&
                                     buf_puts(&out, "\n") < 0) ||
                                    buf_printf(&out, "%s: %s\n", name, line) < 0
                            ? -E2BIG
                            : 0;
        else
                r = buf_append(&out, a->text, op == COLLECTION_MODIFY ? e->colon + 1 : e->start) <
                                            0 ||
                                    (op == COLLECTION_MODIFY &&
                                     buf_printf(&out, " %s\n", line) < 0) ||
                                    buf_append(&out, a->text + e->end, a->len - e->end) < 0 ||
                                    buf_puts(&out, "") < 0
                            ? -E2BIG
                            : 0;
        if (r < 0 || !(*ret_text = buf_steal(&out))) {
                buf_free(&out);
                module_error_set(err, 413, "too_large", "targets",
                                 ALIASES_FILE " would pass %u bytes", ALIASES_FILE_MAX);
                return -E2BIG;
        }
        if (op == COLLECTION_DELETE)
                *ret_alias = NULL;
        else {
                bool clean = true;
                json_t *n =
                        name ? json_string(name) : shown(a->text + e->name, e->name_len, &clean);
                *ret_alias = json_pack("{s:o?, s:O, s:b}", "name", n, "targets", targets,
                                       "editable", true);
                if (!*ret_alias) {
                        free(TAKE_PTR(*ret_text));
                        return oom(err);
                }
        }
        return 0;
}

/* The guard: /etc/aliases must still hold what the new text was made from
 * (an edit by hand in between would be lost): else 409. */
static int unchanged_since_read(const struct change_plan *p, void *data, struct module_error *err) {
        const struct aliases_text *a = data;
        const struct change_file *f = &p->files[0];
        bool same = a->exists ? f->before_type == CHANGE_FILE && f->before_len == a->len &&
                                        memcmp(f->before, a->text, a->len) == 0
                              : f->before_type == CHANGE_ABSENT;

        if (p->n_files == 1 && same)
                return 0;
        module_error_set(err, 409, "conflict", NULL,
                         ALIASES_FILE " changed while the change was planned: try again");
        return -ESTALE;
}

int aliases_write(const struct module_ctx *ctx, collection_op_t op, const char *id, json_t *body,
                  json_t *query, bool dry_run, json_t **ret, struct module_error *err) {
        _cleanup_json_ json_t *alias = NULL, *plan = NULL;
        _cleanup_free_ char *text = NULL;
        struct aliases_text a;
        struct change_plan p;
        struct change_file *f;
        int r;

        (void)ctx;
        if (json_object_size(query) > 0) {
                module_error_set(err, 400, "invalid_argument", NULL, "an alias takes no query");
                return -EINVAL;
        }
        if (!mail_postfix_installed()) {
                module_error_set(err, 503, "unavailable", NULL, "Postfix is not installed");
                return -EOPNOTSUPP;
        }
        r = check_body(op, body, err);
        if (r < 0)
                return r;
        r = aliases_load(&a, err);
        if (r < 0)
                return r;
        r = next_text(&a, op, id, body, &text, &alias, err);
        if (r < 0) {
                aliases_text_done(&a);
                return r;
        }

        change_plan_init(&p);
        f = change_edit(&p, ALIASES_FILE, CHANGE_FILE, text, 0644);
        if (f) {
                f->field = "targets";
                f->max = ALIASES_FILE_MAX;
        }
        change_cmd(&p, NEWALIASES);
        r = change_run(&p,
                       &(struct change_opts){
                               .dry_run = dry_run, .guard = unchanged_since_read, .data = &a},
                       &plan, err);
        change_plan_done(&p);
        aliases_text_done(&a);
        if (r < 0 && !plan)
                return r;
        *ret = json_pack("{s:O?, s:O?}", "plan", plan, "result", NULL);
        if (!*ret)
                return oom(err);
        if (alias)
                json_object_set_new(*ret, "result", json_pack("{s:O}", "alias", alias));
        else
                json_object_del(*ret, "result");
        return r;
}

int aliases_make_live(struct module_error *err) {
        const char *argv[] = {NEWALIASES, NULL};
        struct stat text, db;
        char msg[256] = "";
        int r;

        if (!mail_postfix_installed() || stat(ALIASES_FILE, &text) < 0)
                return 0;
        if (stat(ALIASES_DB, &db) == 0 && (db.st_mtim.tv_sec > text.st_mtim.tv_sec ||
                                           (db.st_mtim.tv_sec == text.st_mtim.tv_sec &&
                                            db.st_mtim.tv_nsec >= text.st_mtim.tv_nsec)))
                return 0; /* the database is as new as the file */
        r = change_exec_timeout(argv, NULL, msg, sizeof msg, MAIL_TOOL_TIMEOUT_USEC);
        if (r != 0) {
                module_error_set(err, 500, "tool_failed", NULL, "newaliases failed (%s): %s",
                                 r < 0 ? strerror(-r) : "exit status", msg);
                return r < 0 ? r : -EIO;
        }
        return 0;
}
