/* journal.c — queries of the systemd journal for the logs module (see
 * journal.h).
 *
 * The matches are journalctl's own (src/journal/journalctl.c,
 * add_matches_for_unit, add_boot, add_priorities), so a query here and the
 * same journalctl command select the same entries in the same order:
 *   (_SYSTEMD_UNIT=U
 *    | MESSAGE_ID=<coredump> _UID=0 COREDUMP_UNIT=U
 *    | _PID=1 UNIT=U
 *    | _UID=0 OBJECT_SYSTEMD_UNIT=U)
 *   AND _BOOT_ID=B AND SYSLOG_IDENTIFIER=I AND PRIORITY=(min..max)
 * Time bounds seek and stop the walk; the text filter is applied to each
 * entry's MESSAGE.  A request scans for at most LOGS_SCAN_USEC, then
 * answers with what it found, "truncated": true and a cursor to go on
 * from the last entry it looked at; likewise once its entries pass
 * LOGS_ANSWER_BYTES_MAX of JSON (the cursor is then the last entry's).
 */
#include "modules/logs/journal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define COREDUMP_MESSAGE_ID "fc2e22bc6ee647b6b90729ab34a250b1"
#define BOOTS_MAX           1024
#define SCAN_CHECK_EVERY    64 /* entries between looks at the clock */

static const char *const journal_dirs[] = {"/run/log/journal", "/var/log/journal"};

/* ---- status -------------------------------------------------------------------- */

/* Counts *.journal files one or two levels under dir, and those we can read. */
static void count_files(const char *dir, int depth, unsigned *n, unsigned *readable) {
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)) && *n < 10000) {
                char path[512];
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' ||
                    snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
                        continue;
                if (de->d_type == DT_DIR && depth > 0)
                        count_files(path, depth - 1, n, readable);
                else if (len > 8 && STREQ(de->d_name + len - 8, ".journal")) {
                        (*n)++;
                        *readable += access(path, R_OK) == 0;
                }
        }
        closedir(d);
}

void logs_journal_state(const char **ret_state, char *reason, size_t reason_len) {
        unsigned n = 0, readable = 0;

        for (size_t i = 0; i < ELEMENTSOF(journal_dirs); i++)
                count_files(journal_dirs[i], 1, &n, &readable);
        reason[0] = '\0';
        if (n == 0) {
                *ret_state = "unavailable";
                snprintf(reason, reason_len,
                         "no systemd journal on this host (no journal files under "
                         "/run/log/journal or /var/log/journal)");
        } else if (readable == 0) {
                *ret_state = "degraded";
                snprintf(reason, reason_len,
                         "the daemon's user cannot read the journal: it needs to be a member "
                         "of the group systemd-journal");
        } else
                *ret_state = "running";
}

/* ---- matches ------------------------------------------------------------------- */

static int match_pair(sd_journal *j, const char *field, const char *value) {
        char m[LOGS_CURSOR_MAX + 64];
        int n = snprintf(m, sizeof m, "%s=%s", field, value);
        if (n < 0 || (size_t)n >= sizeof m)
                return -EINVAL;
        return sd_journal_add_match(j, m, (size_t)n);
}

static int add_unit(sd_journal *j, const char *unit) {
        int r;

        if ((r = match_pair(j, "_SYSTEMD_UNIT", unit)) < 0 || (r = sd_journal_add_disjunction(j)) < 0 ||
            (r = sd_journal_add_match(j, "MESSAGE_ID=" COREDUMP_MESSAGE_ID, 0)) < 0 ||
            (r = sd_journal_add_match(j, "_UID=0", 0)) < 0 ||
            (r = match_pair(j, "COREDUMP_UNIT", unit)) < 0 ||
            (r = sd_journal_add_disjunction(j)) < 0 || (r = sd_journal_add_match(j, "_PID=1", 0)) < 0 ||
            (r = match_pair(j, "UNIT", unit)) < 0 || (r = sd_journal_add_disjunction(j)) < 0 ||
            (r = sd_journal_add_match(j, "_UID=0", 0)) < 0 ||
            (r = match_pair(j, "OBJECT_SYSTEMD_UNIT", unit)) < 0)
                return r;
        return sd_journal_add_conjunction(j);
}

struct boot {
        char id[33];
        uint64_t first;
};

static int boot_cmp(const void *a, const void *b) {
        const struct boot *x = a, *y = b;
        return x->first < y->first ? 1 : x->first > y->first ? -1 : 0; /* newest first */
}

/* The id of the boot `back` boots before the last one in the journal. */
static int boot_by_offset(sd_journal *j, unsigned back, char ret[33], struct module_error *err) {
        _cleanup_free_ struct boot *boots = calloc(BOOTS_MAX, sizeof *boots);
        const void *data;
        size_t len, n = 0;
        int r;

        if (!boots)
                return -ENOMEM;
        r = sd_journal_query_unique(j, "_BOOT_ID");
        if (r < 0)
                return r;
        SD_JOURNAL_FOREACH_UNIQUE(j, data, len) {
                if (len != strlen("_BOOT_ID=") + 32 || n == BOOTS_MAX)
                        continue;
                memcpy(boots[n].id, (const char *)data + strlen("_BOOT_ID="), 32);
                boots[n].id[32] = '\0';
                n++;
        }
        for (size_t i = 0; i < n; i++) {
                sd_journal_flush_matches(j);
                if (match_pair(j, "_BOOT_ID", boots[i].id) < 0 || sd_journal_seek_head(j) < 0 ||
                    sd_journal_next(j) <= 0 ||
                    sd_journal_get_realtime_usec(j, &boots[i].first) < 0)
                        boots[i].first = 0;
        }
        sd_journal_flush_matches(j);
        qsort(boots, n, sizeof *boots, boot_cmp);
        if (back >= n) {
                module_error_set(err, 400, "invalid_argument", "boot",
                                 "boot: the journal holds %zu boots, not %u before the last", n,
                                 back);
                return -EINVAL;
        }
        memcpy(ret, boots[back].id, 33);
        return 0;
}

static int add_priorities(sd_journal *j, int min, int max) {
        for (int p = min; p <= max; p++) {
                char m[16];
                int n = snprintf(m, sizeof m, "PRIORITY=%d", p);
                int r = sd_journal_add_match(j, m, (size_t)n);
                if (r < 0)
                        return r;
        }
        return sd_journal_add_conjunction(j);
}

int logs_journal_open(const struct logs_query *q, sd_journal **ret, struct module_error *err) {
        sd_journal *j = NULL;
        char boot[33];
        int r;

        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0) {
                module_error_set(err, 503, "unavailable", NULL, "cannot open the journal: %s",
                                 strerror(-r));
                return r;
        }
        (void)sd_journal_set_data_threshold(j, LOGS_MESSAGE_MAX);
        if (q->has_boot) {
                if (q->boot_is_id)
                        memcpy(boot, q->boot_id, sizeof boot);
                else if ((r = boot_by_offset(j, q->boot_back, boot, err)) < 0)
                        goto fail;
                if ((r = match_pair(j, "_BOOT_ID", boot)) < 0 ||
                    (r = sd_journal_add_conjunction(j)) < 0)
                        goto fail_match;
        }
        if (q->unit[0] && (r = add_unit(j, q->unit)) < 0)
                goto fail_match;
        if (q->identifier[0] && ((r = match_pair(j, "SYSLOG_IDENTIFIER", q->identifier)) < 0 ||
                                 (r = sd_journal_add_conjunction(j)) < 0))
                goto fail_match;
        if (q->prio_max >= 0 && (r = add_priorities(j, q->prio_min, q->prio_max)) < 0)
                goto fail_match;
        *ret = j;
        return 0;
fail_match:
        module_error_set(err, 500, "internal", NULL, "cannot filter the journal: %s",
                         strerror(-r));
fail:
        if (r == -ENOMEM)
                module_error_set(err, 500, "internal", NULL, "out of memory");
        sd_journal_close(j);
        return r;
}

/* ---- entries ------------------------------------------------------------------- */

/* value of "FIELD=value" when data is that field. */
static bool field_is(const void *data, size_t len, const char *field, const char **ret_v,
                     size_t *ret_n) {
        size_t f = strlen(field);
        if (len <= f || memcmp(data, field, f) != 0 || ((const char *)data)[f] != '=')
                return false;
        *ret_v = (const char *)data + f + 1;
        *ret_n = len - f - 1;
        return true;
}

/* A field's bytes, cut at max - 1, as a JSON string: NULs and invalid
 * UTF-8 (a character cut in two too) become '?'. */
static json_t *text_json(const char *v, size_t n, size_t max, char *buf) {
        if (n >= max)
                n = max - 1;
        memcpy(buf, v, n);
        buf[n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = '?';
        utf8_sanitize(buf);
        return json_stringn(buf, strlen(buf));
}

static int small_int(const char *v, size_t n, int64_t *ret) {
        return n > 0 && n < 12 ? safe_atoi64_n(v, n, ret) : -EINVAL;
}

struct fields {
        const char *msg, *unit, *ident, *comm, *spid, *pid, *host, *prio, *transport;
        size_t msg_n, unit_n, ident_n, comm_n, spid_n, pid_n, host_n, prio_n, transport_n;
};

static void read_fields(sd_journal *j, struct fields *f) {
        const void *d;
        size_t l;

        *f = (struct fields){0};
        SD_JOURNAL_FOREACH_DATA(j, d, l) {
                switch (((const char *)d)[0]) {
                case 'M':
                        (void)field_is(d, l, "MESSAGE", &f->msg, &f->msg_n);
                        break;
                case 'P':
                        (void)field_is(d, l, "PRIORITY", &f->prio, &f->prio_n);
                        break;
                case 'S':
                        if (!field_is(d, l, "SYSLOG_IDENTIFIER", &f->ident, &f->ident_n))
                                (void)field_is(d, l, "SYSLOG_PID", &f->spid, &f->spid_n);
                        break;
                case '_':
                        if (!field_is(d, l, "_SYSTEMD_UNIT", &f->unit, &f->unit_n) &&
                            !field_is(d, l, "_COMM", &f->comm, &f->comm_n) &&
                            !field_is(d, l, "_PID", &f->pid, &f->pid_n) &&
                            !field_is(d, l, "_HOSTNAME", &f->host, &f->host_n))
                                (void)field_is(d, l, "_TRANSPORT", &f->transport, &f->transport_n);
                        break;
                default:
                        break;
                }
        }
}

static void time_text(uint64_t usec, char dst[40]) {
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(dst, 40, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                snprintf(dst, 40, "1970-01-01T00:00:00.000000Z");
                return;
        }
        snprintf(dst + 19, 21, ".%06uZ", (unsigned)(usec % 1000000));
}

json_t *logs_entry_json(sd_journal *j, const struct logs_query *q, char *buf, bool *ret_skip) {
        _cleanup_free_ char *cursor = NULL;
        uint64_t rt = 0, mono;
        sd_id128_t boot;
        char boot_text[33], when[40];
        struct fields f;
        int64_t prio = -1, pid = 0;
        json_t *e;

        *ret_skip = true;
        if (sd_journal_get_realtime_usec(j, &rt) < 0 ||
            (q->has_since && rt < q->since) || (q->has_until && rt > q->until))
                return NULL;
        read_fields(j, &f);
        if (q->grep[0] &&
            !logs_grep_match(q->grep, strlen(q->grep), f.msg ? f.msg : "",
                             f.msg ? (f.msg_n < LOGS_MESSAGE_MAX ? f.msg_n : LOGS_MESSAGE_MAX) : 0,
                             buf))
                return NULL;
        *ret_skip = false;
        if (sd_journal_get_cursor(j, &cursor) < 0)
                return NULL;
        if (f.prio)
                (void)small_int(f.prio, f.prio_n, &prio);
        if ((f.spid && small_int(f.spid, f.spid_n, &pid) < 0) || !f.spid)
                (void)(f.pid && small_int(f.pid, f.pid_n, &pid));
        time_text(rt, when);
        e = json_pack("{s:s, s:s, s:I, s:I}", "time", when, "cursor", cursor, "realtime_usec",
                      (json_int_t)rt, "pid", (json_int_t)pid);
        if (!e)
                return NULL;
        json_object_set_new(e, "priority", prio >= 0 && prio <= 7 ? json_integer(prio) : json_null());
        json_object_set_new(e, "unit",
                            f.unit ? text_json(f.unit, f.unit_n, LOGS_FIELD_MAX, buf)
                                   : json_string(""));
        json_object_set_new(e, "identifier",
                            f.ident  ? text_json(f.ident, f.ident_n, LOGS_FIELD_MAX, buf)
                            : f.comm ? text_json(f.comm, f.comm_n, LOGS_FIELD_MAX, buf)
                                     : json_string(""));
        json_object_set_new(e, "message",
                            f.msg ? text_json(f.msg, f.msg_n, LOGS_MESSAGE_MAX, buf)
                                  : json_string(""));
        json_object_set_new(e, "hostname",
                            f.host ? text_json(f.host, f.host_n, LOGS_FIELD_MAX, buf)
                                   : json_string(""));
        if (f.transport)
                json_object_set_new(e, "transport",
                                    text_json(f.transport, f.transport_n, LOGS_FIELD_MAX, buf));
        if (sd_journal_get_monotonic_usec(j, &mono, &boot) >= 0) {
                sd_id128_to_string(boot, boot_text);
                json_object_set_new(e, "boot_id", json_string(boot_text));
        }
        return e;
}

size_t logs_entry_bytes(const json_t *e) {
        return json_dumpb(e, NULL, 0, JSON_COMPACT);
}

/* ---- the query ------------------------------------------------------------------ */

/* Puts the read position where the walk starts. */
static int seek_start(sd_journal *j, const struct logs_query *q, struct module_error *err) {
        int r;

        if (q->cursor[0]) {
                r = sd_journal_seek_cursor(j, q->cursor);
                if (r < 0)
                        module_error_set(err, 400, "invalid_argument", "cursor",
                                         "cursor: not a journal cursor");
                return r;
        }
        if (q->asc)
                r = q->has_since ? sd_journal_seek_realtime_usec(j, q->since) : sd_journal_seek_head(j);
        else
                r = q->has_until ? sd_journal_seek_realtime_usec(j, q->until + 1)
                                 : sd_journal_seek_tail(j);
        if (r < 0)
                module_error_set(err, 500, "internal", NULL, "cannot seek in the journal: %s",
                                 strerror(-r));
        return r;
}

/* Whether the walk is past the time range in its direction. */
static bool past_range(sd_journal *j, const struct logs_query *q) {
        uint64_t rt;
        if (sd_journal_get_realtime_usec(j, &rt) < 0)
                return false;
        return q->asc ? q->has_until && rt > q->until : q->has_since && rt < q->since;
}

static int walk(sd_journal *j, const struct logs_query *q, json_t *entries, json_t *out,
                struct module_error *err) {
        _cleanup_free_ char *buf = malloc(LOGS_MESSAGE_MAX);
        uint64_t start = now_usec();
        size_t scanned = 0, bytes = 0;
        bool first = true;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                int r = q->asc ? sd_journal_next(j) : sd_journal_previous(j);
                bool skip;
                json_t *e;

                if (r < 0) {
                        module_error_set(err, 500, "internal", NULL,
                                         "cannot read the journal: %s", strerror(-r));
                        return r;
                }
                if (r == 0 || past_range(j, q))
                        return 0;
                /* The entry a cursor names was on the last page. */
                if (first && q->cursor[0] && sd_journal_test_cursor(j, q->cursor) > 0) {
                        first = false;
                        continue;
                }
                first = false;
                if (++scanned % SCAN_CHECK_EVERY == 0 && now_usec() - start > LOGS_SCAN_USEC) {
                        _cleanup_free_ char *c = NULL;
                        if (sd_journal_get_cursor(j, &c) >= 0)
                                json_object_set_new(out, "next", json_string(c));
                        json_object_set_new(out, "truncated", json_true());
                        return 0;
                }
                e = logs_entry_json(j, q, buf, &skip);
                if (skip)
                        continue;
                if (!e)
                        return -ENOMEM;
                bytes += logs_entry_bytes(e);
                json_array_append_new(entries, e);
                if (json_array_size(entries) == q->limit) {
                        json_object_set(out, "next", json_object_get(e, "cursor"));
                        return 0;
                }
                /* Big messages: stop at a size, as at the scanning time. */
                if (bytes >= LOGS_ANSWER_BYTES_MAX) {
                        json_object_set(out, "next", json_object_get(e, "cursor"));
                        json_object_set_new(out, "truncated", json_true());
                        return 0;
                }
        }
}

int logs_journal_query(const struct logs_query *q, json_t **ret, struct module_error *err) {
        sd_journal *j = NULL;
        json_t *out, *entries;
        int r;

        r = logs_journal_open(q, &j, err);
        if (r < 0)
                return r;
        r = seek_start(j, q, err);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        entries = json_array();
        out = json_pack("{s:o}", "entries", entries);
        if (!out) {
                sd_journal_close(j);
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        r = walk(j, q, entries, out, err);
        sd_journal_close(j);
        if (r >= 0 && q->tail) {
                size_t n = json_array_size(entries);
                for (size_t i = 0; i < n / 2; i++) {
                        json_t *a = json_incref(json_array_get(entries, i));
                        json_array_set(entries, i, json_array_get(entries, n - 1 - i));
                        json_array_set_new(entries, n - 1 - i, a);
                }
        }
        if (r < 0) {
                json_decref(out);
                if (r == -ENOMEM)
                        module_error_set(err, 500, "internal", NULL, "out of memory");
                return r;
        }
        *ret = out;
        return 0;
}
