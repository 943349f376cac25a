/* exports.c — the NFS exports Steward owns: /etc/exports.d/steward.exports.
 *
 * The file is Steward's alone and written whole: each share point exported
 * over NFS is a "# share NAME" line followed by its export line, the path
 * escaped as exports(5) says (a space as \040, and \, ", # and every other
 * unusual byte as \ and three octal digits), then each client as
 * HOST(OPTIONS).  exportfs -ra reads it with /etc/exports. */
#include "modules/shares/exports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "modules/shares/names.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int escape_path(struct buf *b, const char *path) {
        int r = 0;

        for (const unsigned char *p = (const unsigned char *)path; *p && r >= 0; p++)
                r = *p <= ' ' || *p == '\\' || *p == '"' || *p == '#' || *p >= 0x7f
                            ? buf_printf(b, "\\%03o", *p)
                            : buf_append(b, p, 1);
        return r;
}

static int unescape_path(const char *s, size_t n, char **ret) {
        struct buf b;
        int r = 0;

        buf_init(&b, 4096);
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (s[i] == '\\' && i + 3 < n + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        char c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
                        r = buf_append(&b, &c, 1);
                        i += 3;
                } else
                        r = buf_append(&b, s + i, 1);
        }
        if (r >= 0 && buf_append(&b, "", 1) >= 0) {
                *ret = buf_steal(&b);
                return *ret ? 0 : -ENOMEM;
        }
        buf_free(&b);
        return -E2BIG;
}

/* "host(a,b)" → {"host", "options": [a, b]}. */
static json_t *client_from_token(const char *t) {
        const char *open = strchr(t, '(');
        json_t *opts = json_array();
        char host[256], optbuf[512], *save = NULL;
        size_t hn = open ? (size_t)(open - t) : strlen(t);

        if (!opts || hn >= sizeof host) {
                json_decref(opts);
                return NULL;
        }
        memcpy(host, t, hn);
        host[hn] = '\0';
        if (open) {
                const char *close = strchr(open, ')');
                size_t on = close ? (size_t)(close - open - 1) : strlen(open + 1);
                if (on >= sizeof optbuf) {
                        json_decref(opts);
                        return NULL;
                }
                memcpy(optbuf, open + 1, on);
                optbuf[on] = '\0';
                for (char *o = strtok_r(optbuf, ",", &save); o; o = strtok_r(NULL, ",", &save))
                        json_array_append_new(opts, json_string(o));
        }
        return json_pack("{s:s, s:o}", "host", host, "options", opts);
}

int exports_parse(const char *text, json_t **ret) {
        _cleanup_json_ json_t *all = json_object();
        _cleanup_free_ char *copy = strdup(text ? text : "");
        char name[SHARE_NAME_BYTES_MAX + 1] = "", *save = NULL;

        if (!all || !copy)
                return -ENOMEM;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *path = NULL;
                json_t *clients, *e;
                char *t, *tsave = NULL;

                if (!strncmp(l, "# share ", 8)) {
                        /* A name no share can have joins nothing. */
                        snprintf(name, sizeof name, "%s", share_name_valid(l + 8) ? l + 8 : "");
                        continue;
                }
                if (*l == '#' || !*name)
                        continue;
                t = strtok_r(l, " \t", &tsave);
                if (!t || unescape_path(t, strlen(t), &path) < 0)
                        continue;
                if (!utf8_valid(path, strlen(path)))
                        continue;
                clients = json_array();
                while (clients && (t = strtok_r(NULL, " \t", &tsave)))
                        if (utf8_valid(t, strlen(t)))
                                json_array_append_new(clients, client_from_token(t));
                e = json_pack("{s:s, s:o}", "path", path, "clients", clients);
                if (!e || json_object_set_new(all, name, e) < 0)
                        return -ENOMEM;
                name[0] = '\0';
        }
        *ret = json_incref(all);
        return 0;
}

int exports_render(json_t *shares, char **ret) {
        struct buf b;
        size_t i, j, k;
        json_t *s, *c, *o;
        int r = 0;
        bool any = false;

        buf_init(&b, EXPORTS_MAX);
        json_array_foreach(shares, i, s) {
                json_t *nfs = json_object_get(s, "nfs");
                if (!json_is_true(json_object_get(nfs, "enabled")))
                        continue;
                if (!any)
                        r = buf_puts(&b, "# Managed by Steward: share points exported over NFS "
                                         "(steward shares list).\n");
                any = true;
                if (r >= 0)
                        r = buf_printf(&b, "# share %s\n",
                                       json_string_value(json_object_get(s, "name")));
                if (r >= 0)
                        r = escape_path(&b, json_string_value(json_object_get(s, "path")));
                json_array_foreach(json_object_get(nfs, "clients"), j, c) {
                        if (r >= 0)
                                r = buf_printf(&b, " %s(",
                                               json_string_value(json_object_get(c, "host")));
                        json_array_foreach(json_object_get(c, "options"), k, o)
                                if (r >= 0)
                                        r = buf_printf(&b, "%s%s", k ? "," : "",
                                                       json_string_value(o));
                        if (r >= 0)
                                r = buf_puts(&b, ")");
                }
                if (r >= 0)
                        r = buf_puts(&b, "\n");
        }
        if (r >= 0 && buf_append(&b, "", 1) >= 0) {
                *ret = buf_steal(&b);
                return *ret ? 0 : -ENOMEM;
        }
        buf_free(&b);
        return r < 0 ? r : -ENOMEM;
}

static bool has(const char *const *opts, size_t n, const char *w) {
        for (size_t i = 0; i < n; i++)
                if (STREQ(opts[i], w))
                        return true;
        return false;
}

int exports_client_norm(json_t *client, json_t **ret, const char **bad, char *why,
                        size_t why_len) {
        _cleanup_json_ json_t *parsed = NULL, *out = NULL;
        const char *opts[24], *host, *c;
        json_t *list, *v;
        size_t n = 0, i;

        if (json_is_string(client)) {
                const char *s = json_string_value(client);
                const char *close = strchr(s, ')');
                if (strlen(s) > 1024 || strpbrk(s, " \t\n") ||
                    (strchr(s, '(') && (!close || close[1])) || (!strchr(s, '(') && close)) {
                        *bad = "host";
                        snprintf(why, why_len, "an NFS client is HOST or HOST(OPTION,…)");
                        return -EINVAL;
                }
                client = parsed = client_from_token(s);
                if (!parsed)
                        return -ENOMEM;
        }
        if (!json_is_object(client)) {
                *bad = "host";
                snprintf(why, why_len, "an NFS client is an object {host, options} or HOST(OPTIONS)");
                return -EINVAL;
        }
        json_object_foreach((json_t *)client, c, v)
                if (!STREQ(c, "host") && !STREQ(c, "options")) {
                        *bad = "host";
                        snprintf(why, why_len, "an NFS client has no member %.40s", c);
                        return -EINVAL;
                }
        host = json_string_value(json_object_get(client, "host"));
        if (!host || !nfs_host_valid(host)) {
                *bad = "host";
                snprintf(why, why_len,
                         "not a host, address, network, *.domain or @netgroup: %.60s",
                         host ? host : "(none)");
                return -EINVAL;
        }
        list = json_object_get(client, "options");
        if (list && !json_is_array(list)) {
                *bad = "options";
                snprintf(why, why_len, "options is a list of export options");
                return -EINVAL;
        }
        json_array_foreach(list, i, v) {
                const char *o = json_string_value(v);
                if (!o || !nfs_option_valid(o) || n >= 16) {
                        *bad = "options";
                        snprintf(why, why_len, "not an export option Steward writes: %.40s",
                                 o ? o : "(not a string)");
                        return -EINVAL;
                }
                opts[n++] = o;
        }
        if ((c = nfs_options_conflict(opts, n))) {
                *bad = "options";
                snprintf(why, why_len, "contradicting or repeated options: %s", c);
                return -EINVAL;
        }
        if (!has(opts, n, "ro") && !has(opts, n, "rw"))
                opts[n++] = "ro";
        if (!has(opts, n, "root_squash") && !has(opts, n, "no_root_squash") &&
            !has(opts, n, "all_squash"))
                opts[n++] = "root_squash";
        if (!has(opts, n, "sync") && !has(opts, n, "async"))
                opts[n++] = "sync";
        if (!has(opts, n, "subtree_check") && !has(opts, n, "no_subtree_check"))
                opts[n++] = "no_subtree_check";
        out = json_pack("{s:s, s:[]}", "host", host, "options");
        if (!out)
                return -ENOMEM;
        for (i = 0; i < n; i++)
                if (json_array_append_new(json_object_get(out, "options"), json_string(opts[i])) < 0)
                        return -ENOMEM;
        *ret = json_incref(out);
        return 0;
}
