/* smbconf.c — Samba's configuration files as the shares module reads and
 * writes them.
 *
 * Two files: smb.conf, the administrator's, which Steward reads (its shares
 * are listed read-only) and changes in two planned ways only — one managed
 * `include` line at the end of its [global], and the removal of a share's
 * section when that share is imported; and Steward's include file,
 * /etc/samba/steward.conf, which it writes whole: a [global] section with
 * the Samba settings Steward sets, then a section per share point.
 * Included after smb.conf's own globals, its [global] wins for the keys it
 * names; included before smb.conf's own shares, those get its globals too
 * (Samba gives a share the global values of the moment its section
 * starts).
 *
 * The parser follows Samba's own (lib/param/params.c) where it matters:
 * '#' and ';' start comment lines, a '\' at a line's end continues it, keys
 * compare without case, spaces or underscores, and the last value of a key
 * wins.  It keeps each section's first and last line so that a section can
 * be cut out of smb.conf with nothing else touched.
 *
 * A share point maps to parameters both ways (share_to_params and
 * share_from_section); parameters Steward does not model are kept in the
 * share's "extra" object and written back as they were. */
#include "modules/shares/smbconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* "Read Only" → "readonly": how Samba compares parameter names. */
void smbconf_key_norm(const char *key, char *out, size_t len) {
        size_t o = 0;

        for (const char *p = key; *p && o + 1 < len; p++)
                if (*p != ' ' && *p != '_' && *p != '\t')
                        out[o++] = (char)tolower((unsigned char)*p);
        out[o] = '\0';
}

/* Blanks as Samba's parser skips them: every isspace() byte (a vertical
 * tab before '#' still makes a comment line). */
static char *trim(char *s) {
        char *e;

        while (*s && isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

static int add_param(json_t *section, const char *key, const char *value) {
        char norm[128];
        json_t *params = json_object_get(section, "params"), *names = json_object_get(section, "names");

        /* A name no line can carry back (it would read as a section or a
         * comment) is no parameter Samba has. */
        if (*key == '[' || *key == '#' || *key == ';')
                return 0;
        smbconf_key_norm(key, norm, sizeof norm);
        if (!*norm)
                return 0;
        if (json_object_set_new(params, norm, json_string(value)) < 0 ||
            json_object_set_new(names, norm, json_string(key)) < 0)
                return -ENOMEM;
        return 0;
}

static json_t *new_section(const char *name, size_t line) {
        return json_pack("{s:s, s:{}, s:{}, s:I, s:I}", "name", name, "params", "names",
                         "first_line", (json_int_t)line, "last_line", (json_int_t)line);
}

int smbconf_parse(const char *text, json_t **ret) {
        _cleanup_json_ json_t *sections = json_array();
        _cleanup_free_ char *copy = strdup(text ? text : "");
        json_t *cur = NULL;
        char *line, *save = NULL, *logical = NULL;
        size_t lineno = 0, start = 0; /* start: a continued line's first line */
        struct buf acc;
        int r = 0;

        if (!sections || !copy)
                return -ENOMEM;
        buf_init(&acc, 1 << 20);
        /* Lines are split by hand: strtok_r would merge empty lines and
         * lose the count. */
        for (line = copy; line && r >= 0; lineno++) {
                char *nl = strchr(line, '\n'), *s;
                size_t n;

                if (nl)
                        *nl = '\0';
                save = nl ? nl + 1 : NULL;
                s = trim(line);
                n = strlen(s);
                if (!acc.len)
                        start = lineno;
                if (n && s[n - 1] == '\\' && (acc.len || (*s != '#' && *s != ';'))) {
                        s[n - 1] = '\0';
                        r = buf_puts(&acc, s);
                        line = save;
                        continue;
                }
                if (acc.len) {
                        if (buf_puts(&acc, s) < 0 || buf_append(&acc, "", 1) < 0) {
                                r = -E2BIG;
                                break;
                        }
                        logical = acc.data;
                        s = trim(logical);
                }
                /* Text in another encoding (a Latin-1 comment) is read,
                 * not refused: what JSON cannot carry becomes '?'. */
                utf8_sanitize(s);
                if (*s == '[' && strrchr(s, ']')) {
                        *strrchr(s, ']') = '\0';
                        cur = new_section(trim(s + 1), start);
                        if (!cur || json_array_append_new(sections, cur) < 0)
                                r = -ENOMEM;
                } else if (*s && *s != '#' && *s != ';') {
                        char *eq = strchr(s, '=');
                        if (!cur) {
                                /* before any section: Samba takes it as global */
                                cur = new_section("global", start);
                                if (!cur || json_array_append_new(sections, cur) < 0) {
                                        r = -ENOMEM;
                                        break;
                                }
                        }
                        if (eq) {
                                *eq = '\0';
                                r = add_param(cur, trim(s), trim(eq + 1));
                        }
                }
                if (cur && *s && *s != '#' && *s != ';') /* comments after it stay */
                        json_object_set_new(cur, "last_line", json_integer((json_int_t)lineno));
                acc.len = 0;
                line = save;
        }
        buf_free(&acc);
        if (r < 0)
                return r;
        *ret = json_incref(sections);
        return 0;
}

json_t *smbconf_section(json_t *sections, const char *name) {
        size_t i;
        json_t *s;

        json_array_foreach(sections, i, s)
                if (strcasecmp(json_string_value(json_object_get(s, "name")) ?: "", name) == 0)
                        return s;
        return NULL;
}

const char *smbconf_get(json_t *section, const char *key) {
        char norm[128];

        smbconf_key_norm(key, norm, sizeof norm);
        return json_string_value(json_object_get(json_object_get(section, "params"), norm));
}

int smbconf_bool(const char *v, bool *ret) {
        static const char *const yes[] = {"yes", "true", "1", "on"};
        static const char *const no[] = {"no", "false", "0", "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return *ret = true, 0;
                if (strcasecmp(v, no[i]) == 0)
                        return *ret = false, 0;
        }
        return -EINVAL;
}

/* ---- a share's parameters --------------------------------------------------------- */

/* The keys share_from_section reads (normalised); the rest go to "extra". */
static const char *const modelled[] = {
        "path",         "directory",     "comment",         "available",       "readonly",
        "writeable",    "writable",      "writeok",         "validusers",      "writelist",
        "guestok",      "public",        "browseable",      "browsable",       "hidedotfiles",
        "vetofiles",    "smbencrypt",    "serversmbencrypt", "casesensitive",  "casesignames",
        "vfsobjects",   "vfsobject",     "fruit:timemachine", "fruit:timemachinemaxsize",
        "include", /* a file's, not the section's: smb.conf's last line includes Steward's */
};

static bool is_modelled(const char *norm) {
        for (size_t i = 0; i < ELEMENTSOF(modelled); i++)
                if (STREQ(norm, modelled[i]))
                        return true;
        return false;
}

static bool param_bool(json_t *sec, const char *key, bool def) {
        const char *v = smbconf_get(sec, key);
        bool b;

        return v && smbconf_bool(v, &b) == 0 ? b : def;
}

/* Samba's lists: names separated by commas or spaces, maybe quoted. */
static json_t *param_list(const char *v, const char *seps) {
        json_t *a = json_array();
        _cleanup_free_ char *c = v ? strdup(v) : NULL;
        char *save = NULL;

        if (!a || (v && !c)) {
                json_decref(a);
                return NULL;
        }
        if (c)
                for (char *t = strtok_r(c, seps, &save); t; t = strtok_r(NULL, seps, &save)) {
                        char *u = t;
                        size_t n = strlen(u);
                        if (n >= 2 && u[0] == '"' && u[n - 1] == '"') {
                                u[n - 1] = '\0';
                                u++;
                        }
                        if (*u && json_array_append_new(a, json_string(u)) < 0) {
                                json_decref(a);
                                return NULL;
                        }
                }
        return a;
}

json_t *share_from_section(json_t *sec, const char *source) {
        const char *path = smbconf_get(sec, "path") ?: smbconf_get(sec, "directory") ?: "";
        const char *enc = smbconf_get(sec, "smb encrypt") ?: smbconf_get(sec, "server smb encrypt");
        const char *cs = smbconf_get(sec, "case sensitive") ?: smbconf_get(sec, "casesignames");
        const char *vfs = smbconf_get(sec, "vfs objects") ?: smbconf_get(sec, "vfs object") ?: "";
        const char *maxsize = smbconf_get(sec, "fruit:time machine max size") ?: "";
        bool read_only = param_bool(sec, "read only", true), b;
        const char *w = smbconf_get(sec, "writeable") ?: smbconf_get(sec, "writable")
                                                              ?: smbconf_get(sec, "write ok");
        json_t *extra = json_object(), *names = json_object_get(sec, "names"), *v;
        const char *k;
        bool csb;

        if (w && smbconf_bool(w, &b) == 0)
                read_only = !b;
        if (!extra)
                return NULL;
        json_object_foreach(json_object_get(sec, "params"), k, v)
                if (!is_modelled(k))
                        json_object_set(extra, json_string_value(json_object_get(names, k)) ?: k, v);
        return json_pack(
                "{s:s, s:s, s:s, s:s, s:{s:b, s:b, s:o, s:o, s:b, s:b, s:b, s:o, s:b, s:s, s:b, "
                "s:s}, s:o}",
                "name", json_string_value(json_object_get(sec, "name")), "path", path, "comment",
                smbconf_get(sec, "comment") ?: "", "source", source, "smb", "enabled",
                param_bool(sec, "available", true), "read_only", read_only, "valid_users",
                param_list(smbconf_get(sec, "valid users"), ", \t"), "write_list",
                param_list(smbconf_get(sec, "write list"), ", \t"), "guest_ok",
                param_bool(sec, "guest ok", param_bool(sec, "public", false)), "browseable",
                param_bool(sec, "browseable", param_bool(sec, "browsable", true)),
                "hide_dot_files", param_bool(sec, "hide dot files", true), "veto_files",
                param_list(smbconf_get(sec, "veto files"), "/"), "encryption_required",
                enc && (strcasecmp(enc, "required") == 0 || strcasecmp(enc, "mandatory") == 0 ||
                        strcasecmp(enc, "force") == 0),
                "case_sensitive",
                !cs || strcasecmp(cs, "auto") == 0 ? "auto"
                : smbconf_bool(cs, &csb) == 0      ? (csb ? "yes" : "no")
                                                   : "auto",
                "time_machine",
                strstr(vfs, "fruit") && param_bool(sec, "fruit:time machine", false),
                "time_machine_max_size", maxsize, "extra", extra);
}

/* ---- writing ------------------------------------------------------------------------- */

static int put(struct buf *b, const char *key, const char *value) {
        return buf_printf(b, "\t%s = %s\n", key, value);
}

static int put_bool(struct buf *b, const char *key, bool v) {
        return put(b, key, v ? "yes" : "no");
}

static int put_list(struct buf *b, const char *key, json_t *list) {
        size_t i;
        json_t *v;
        int r;

        if (json_array_size(list) == 0)
                return 0;
        r = buf_printf(b, "\t%s =", key);
        json_array_foreach(list, i, v)
                r = r < 0 ? r : buf_printf(b, " %s", json_string_value(v));
        return r < 0 ? r : buf_puts(b, "\n");
}

static int put_veto(struct buf *b, json_t *list) {
        size_t i;
        json_t *v;
        int r;

        if (json_array_size(list) == 0)
                return 0;
        r = buf_puts(b, "\tveto files = /");
        json_array_foreach(list, i, v)
                r = r < 0 ? r : buf_printf(b, "%s/", json_string_value(v));
        return r < 0 ? r : buf_puts(b, "\n");
}

static int share_section(struct buf *b, json_t *share) {
        json_t *smb = json_object_get(share, "smb"), *extra = json_object_get(share, "extra"), *v;
        const char *comment = json_string_value(json_object_get(share, "comment")) ?: "";
        const char *cs = json_string_value(json_object_get(smb, "case_sensitive")) ?: "auto";
        const char *size = json_string_value(json_object_get(smb, "time_machine_max_size")) ?: "";
        bool tm = json_is_true(json_object_get(smb, "time_machine"));
        const char *k;
        int r;

        r = buf_printf(b, "\n[%s]\n", json_string_value(json_object_get(share, "name")));
        if (r >= 0 && *comment)
                r = put(b, "comment", comment);
        if (r >= 0)
                r = put(b, "path", json_string_value(json_object_get(share, "path")));
        if (r >= 0 && !json_is_true(json_object_get(smb, "enabled")))
                r = put(b, "available", "no");
        if (r >= 0)
                r = put_bool(b, "read only", json_is_true(json_object_get(smb, "read_only")));
        if (r >= 0)
                r = put_list(b, "valid users", json_object_get(smb, "valid_users"));
        if (r >= 0)
                r = put_list(b, "write list", json_object_get(smb, "write_list"));
        if (r >= 0)
                r = put_bool(b, "guest ok", json_is_true(json_object_get(smb, "guest_ok")));
        if (r >= 0)
                r = put_bool(b, "browseable", json_is_true(json_object_get(smb, "browseable")));
        if (r >= 0)
                r = put_bool(b, "hide dot files",
                             json_is_true(json_object_get(smb, "hide_dot_files")));
        if (r >= 0)
                r = put_veto(b, json_object_get(smb, "veto_files"));
        if (r >= 0 && json_is_true(json_object_get(smb, "encryption_required")))
                r = put(b, "smb encrypt", "required");
        if (r >= 0 && !STREQ(cs, "auto"))
                r = put(b, "case sensitive", cs);
        if (r >= 0 && tm) {
                r = put(b, "vfs objects", "catia fruit streams_xattr");
                if (r >= 0)
                        r = put(b, "fruit:time machine", "yes");
        }
        /* Kept while Time Machine is off, for when it is turned on again. */
        if (r >= 0 && *size)
                r = put(b, "fruit:time machine max size", size);
        json_object_foreach(extra, k, v)
                if (r >= 0 && json_is_string(v))
                        r = put(b, k, json_string_value(v));
        return r;
}

int smbconf_render(json_t *globals, json_t *shares, char **ret) {
        struct buf b;
        const char *k;
        size_t i;
        json_t *v;
        int r;

        buf_init(&b, SMBCONF_MAX);
        r = buf_puts(&b, "# Managed by Steward: share points and the Samba settings it sets.\n"
                         "# Change them with `steward shares` or `steward settings shares`;\n"
                         "# edits made here are kept but may be rewritten.\n");
        if (r >= 0 && json_object_size(globals) > 0) {
                r = buf_puts(&b, "\n[global]\n");
                json_object_foreach(globals, k, v)
                        if (r >= 0)
                                r = put(&b, k, json_string_value(v));
        }
        json_array_foreach(shares, i, v)
                if (r >= 0)
                        r = share_section(&b, v);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- smb.conf's include line ---------------------------------------------------------- */

bool smbconf_has_include(const char *text, const char *include_path) {
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        if (!text || !(copy = strdup(text)))
                return false;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *s = trim(l), *eq, key[64];
                if (*s == '#' || *s == ';' || !(eq = strchr(s, '=')))
                        continue;
                *eq = '\0';
                smbconf_key_norm(s, key, sizeof key);
                if (STREQ(key, "include") && STREQ(trim(eq + 1), include_path))
                        return true;
        }
        return false;
}

int smbconf_add_include(const char *text, const char *include_path, char **ret) {
        _cleanup_(json_decrefp) json_t *sections = NULL;
        json_t *global;
        json_int_t after, line = 0;
        struct buf b;
        const char *p = text;
        int r;

        /* At the end of [global], so that Steward's globals are set before
         * smb.conf's own shares are read (Samba gives a share the global
         * values of the moment its section starts) and its share sections
         * follow; without a [global], one is made at the top. */
        if (smbconf_parse(text, &sections) < 0)
                return -ENOMEM;
        global = smbconf_section(sections, "global");
        after = global ? json_integer_value(json_object_get(global, "last_line")) : -1;
        buf_init(&b, SMBCONF_MAX);
        r = global ? 0 : buf_puts(&b, "[global]\n");
        if (r >= 0 && after < 0)
                r = buf_printf(&b, "# Share points managed by Steward (steward shares list):\n"
                                   "include = %s\n\n",
                               include_path);
        while (*p && r >= 0) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
                r = buf_append(&b, p, n);
                if (r >= 0 && !nl)
                        r = buf_puts(&b, "\n");
                if (r >= 0 && line == after)
                        r = buf_printf(&b,
                                       "# Share points managed by Steward (steward shares "
                                       "list):\ninclude = %s\n",
                                       include_path);
                p += n;
                line++;
        }
        if (r >= 0 && buf_append(&b, "", 1) >= 0) {
                *ret = buf_steal(&b);
                return *ret ? 0 : -ENOMEM;
        }
        buf_free(&b);
        return r < 0 ? r : -ENOMEM;
}

int smbconf_cut_section(const char *text, json_t *section, char **ret) {
        json_int_t first = json_integer_value(json_object_get(section, "first_line"));
        json_int_t last = json_integer_value(json_object_get(section, "last_line"));
        struct buf b;
        json_int_t line = 0;
        const char *p = text;
        int r = 0;

        buf_init(&b, SMBCONF_MAX);
        while (*p && r >= 0) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
                if (line < first || line > last)
                        r = buf_append(&b, p, n);
                p += n;
                line++;
        }
        if (r >= 0 && buf_append(&b, "", 1) >= 0) {
                *ret = buf_steal(&b);
                return *ret ? 0 : -ENOMEM;
        }
        buf_free(&b);
        return r < 0 ? r : -ENOMEM;
}
