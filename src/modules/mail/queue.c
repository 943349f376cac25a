/* queue.c — Postfix's queue: `postqueue -j` read into messages, filters and
 * counts; `postcat -h` for a message's headers; hold, release, requeue and
 * delete with postsuper, flush with postqueue.  Everything here runs in the
 * privileged helper (root): postqueue -j as root reads the queue files
 * itself when Postfix is down ("Mail system is down -- accessing queue
 * directly", exit 0), so the list works whether Postfix runs or not, and
 * "postfix_running" (the master's pid file) says which.
 *
 * The list.  postqueue -j prints one JSON object per message; its output is
 * read a line at a time as it comes (change_exec_lines: postqueue mostly
 * waits for showq to read the queue files, and the parse runs meanwhile),
 * at most POSTQUEUE_MAX in all (64 MiB: a message of one recipient is about
 * 260 bytes, so some 250,000 messages; past it the answer is a 507 that
 * says so).  Each line is parsed by itself (json_loadb), filtered,
 * counted, and the messages that match are written at once as compact JSON
 * text into one buffer (at most ANSWER_MAX, 48 MiB, some 140,000 messages:
 * past it a 507 asks for filters; a limit does not help, as all that match
 * are kept to find the oldest) with an index (arrival time, id, offset);
 * the index is sorted (oldest first, then by id) and the answer is that
 * text spliced
 * between its head and its tail: the collection's list_text hands it to
 * the front as it is, so ten thousand messages are never one JSON tree.
 * The route's tree (queue_list) is that text parsed once.
 *
 * "counts" are per queue over every message (whatever the filters);
 * "total" is the number of messages that match, before "limit" (default
 * QUEUE_LIMIT_DEF); "reasons" groups the delay reasons of the messages that
 * match (queue_reason_group: the same cause from different hosts and
 * addresses is one group), each {"reason", "count" (messages), "example"
 * (one reason as Postfix wrote it)}, most frequent first, at most
 * REASONS_MAX groups (the rest under "other").
 *
 * Operations (the commands queue_hold, _release, _requeue, _flush,
 * _delete).  A selection is one id, or the filters, or "all": true; a
 * selection without any is refused (400) except for flush, where it is
 * `postqueue -f`.  The selection is read from postqueue -j first (an id
 * that is not in the queue, or filters that match nothing, are a 404
 * naming them), hold skips messages already on hold and release takes only
 * held ones (one id that is already in that state is a 409), then the ids
 * go to postsuper on its standard input (`postsuper -h|-H|-r|-d -`), in
 * runs of POSTSUPER_BATCH ids: postsuper writes a line per message on
 * standard error, and each run's words must fit POSTSUPER_MSG whole, its
 * summary line last.  "count" is what postsuper reports it did (its "Deleted: N
 * messages" lines, summed), "selected" how many ids were passed; when they
 * differ (a message delivered meanwhile) "postsuper" quotes its summary
 * line.  Requeued messages go through the maildrop queue and get new ids
 * (postkick wakes pickup for them).  Flush: `postqueue -i ID` per message (at most FLUSH_IDS_MAX), or
 * `postqueue -f` for all; Postfix must run (503 otherwise).  A dry run
 * reads and selects and changes nothing. */
#include "modules/mail/queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "modules/change.h"
#include "modules/mail/mail.h"
#include "util.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define POSTQUEUE       "/usr/sbin/postqueue"
#define POSTSUPER       "/usr/sbin/postsuper"
#define POSTCAT         "/usr/sbin/postcat"
#define POSTKICK        "/usr/sbin/postkick"
#define POSTQUEUE_MAX   (64u << 20)
#define POSTQUEUE_LINE_MAX (16u << 20) /* one message of very many recipients */
#define ANSWER_MAX      (48u << 20) /* the matching messages' text (the front sends at most 64 MiB) */
#define HEADERS_MAX     (256u << 10)
#define POSTCAT_MAX     (1u << 20)
#define REASONS_MAX     256
#define IDS_SHOWN       1000
#define POSTSUPER_BATCH 500
#define POSTSUPER_MSG   (64u << 10)
#define FLUSH_IDS_MAX   1000

const char *const queue_names_all[QUEUE_N + 1] = {"active",   "deferred", "hold",
                                                  "incoming", "maildrop", NULL};

static int oom(struct module_error *err) {
        module_error_set(err, 500, "internal", NULL, "Out of memory");
        return -ENOMEM;
}

/* ---- the id grammar ------------------------------------------------------------------ */

/* Postfix's src/global/mail_queue.h: a short id is the time's microseconds
 * as exactly five upper-case hex digits then the inode number in hex
 * ("%05X%lX"): 6 to 21 characters.  A long id (enable_long_queue_ids) is
 * the seconds (six or more characters) and the microseconds (exactly four)
 * in base 52 of the "safe" alphabet (digits and letters without vowels),
 * a 'z', and the inode in base 51 (the same alphabet without 'z'): the
 * last 'z' sits at 10 or more characters in, and something follows it. */
static bool short_id(const char *s, size_t n) {
        if (n < 6 || n > 21)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
                        return false;
        return true;
}

static bool safe_char(char c) {
        return c && strchr("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz", c);
}

static bool long_id(const char *s, size_t n) {
        const char *z;

        if (n < 12 || n > QUEUE_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!safe_char(s[i]))
                        return false;
        z = strrchr(s, 'z');
        return z && z - s >= 10 && z[1] != '\0';
}

bool queue_id_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return short_id(s, n) || long_id(s, n);
}

/* ---- one line of postqueue -j ----------------------------------------------------- */

static int queue_index(const char *name) {
        for (int i = 0; i < QUEUE_N; i++)
                if (STREQ(queue_names_all[i], name))
                        return i;
        return -1;
}

static const char *text_of(json_t *o, const char *key, bool required) {
        json_t *v = json_object_get(o, key);
        const char *s = json_string_value(v);

        if (!v && !required)
                return "";
        if (!s || json_string_length(v) > QUEUE_TEXT_MAX || strlen(s) != json_string_length(v))
                return NULL;
        return s;
}

static json_t *iso_time(int64_t t) {
        struct tm tm;
        char buf[40];
        time_t tt = (time_t)t;

        if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        return json_string(buf);
}

/* The recipients as the answer has them; NULL for a malformed list. */
static json_t *recipients_of(json_t *in) {
        json_t *out = json_array(), *r;
        size_t i;

        if (!out || !json_is_array(in) || json_array_size(in) == 0 ||
            json_array_size(in) > 100000)
                goto bad;
        json_array_foreach(in, i, r) {
                const char *addr = text_of(r, "address", true);
                const char *why = text_of(r, "delay_reason", false);
                json_t *o;
                if (!addr || !why)
                        goto bad;
                o = json_pack("{s:s}", "address", addr);
                if (!o || (*why && json_object_set_new(o, "delay_reason", json_string(why)) < 0) ||
                    json_array_append_new(out, o) < 0) {
                        json_decref(o);
                        goto bad;
                }
        }
        return out;
bad:
        json_decref(out);
        return NULL;
}

int queue_parse_line(const char *line, size_t len, int64_t now, json_t **ret, int *ret_queue,
                     int64_t *ret_arrival) {
        _cleanup_json_ json_t *in = json_loadb(line, len, 0, NULL);
        json_t *at, *sz, *rcpts, *msg;
        const char *qname, *id, *sender;
        int q;

        if (!json_is_object(in))
                return -EBADMSG;
        qname = text_of(in, "queue_name", true);
        id = text_of(in, "queue_id", true);
        sender = text_of(in, "sender", true);
        at = json_object_get(in, "arrival_time");
        sz = json_object_get(in, "message_size");
        if (!qname || (q = queue_index(qname)) < 0 || !id || !queue_id_valid(id) || !sender ||
            !json_is_integer(at) || json_integer_value(at) < 0 ||
            json_integer_value(at) > INT64_C(253402300799) || !json_is_integer(sz) ||
            json_integer_value(sz) < 0)
                return -EBADMSG;
        rcpts = recipients_of(json_object_get(in, "recipients"));
        if (!rcpts)
                return -EBADMSG;
        msg = json_pack("{s:s, s:s, s:o?, s:I, s:I, s:s, s:o, s:b}", "id", id, "queue", qname,
                        "arrival_time", iso_time(json_integer_value(at)), "age_seconds",
                        (json_int_t)(now > json_integer_value(at) ? now - json_integer_value(at) : 0),
                        "size", json_integer_value(sz), "sender", sender, "recipients", rcpts,
                        "forced_expire", json_is_true(json_object_get(in, "forced_expire")));
        if (!msg)
                return -ENOMEM;
        *ret = msg;
        *ret_queue = q;
        *ret_arrival = json_integer_value(at);
        return 0;
}

/* ---- filters --------------------------------------------------------------------------- */

static bool local_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

bool queue_address_valid(const char *s) {
        const char *at;
        size_t n;

        if (!s || strlen(s) > QUEUE_ADDRESS_MAX)
                return false;
        if (STREQ(s, "<>"))
                return true;
        at = strrchr(s, '@');
        if (!at || !dns_name_valid(at + 1, 253))
                return false;
        n = (size_t)(at - s);
        if (n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!local_char(s[i]))
                        return false;
        return true;
}

int queue_age_parse(const char *s, int64_t *ret) {
        static const struct {
                char suffix;
                int64_t seconds;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
        size_t n = s ? strlen(s) : 0;
        int64_t v, mul = 1;

        if (n == 0 || n > 16)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (s[n - 1] == units[i].suffix) {
                        mul = units[i].seconds;
                        n--;
                        break;
                }
        if (n == 0 || strspn(s, "0123456789") != n || safe_atoi64_n(s, n, &v) < 0)
                return -EINVAL;
        if (v > INT64_C(315360000) / mul) /* ten years */
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

static bool plain_text(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n == 0 || n > max || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

static bool allowed_key(const char *const *allowed, const char *k) {
        if (STREQ(k, "what"))
                return true;
        for (; *allowed; allowed++)
                if (STREQ(*allowed, k))
                        return true;
        return false;
}

static int bad(struct module_error *err, const char *field, const char *what) {
        module_error_set(err, 400, "bad_request", field, "%s: %s", field, what);
        return -EINVAL;
}

/* A number given as a string (a query) or an integer (a body). */
static int number_arg(json_t *v, int64_t *ret) {
        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (!json_is_string(v) || json_string_length(v) > 16)
                return -EINVAL;
        return safe_atoi64(json_string_value(v), ret);
}

static int filter_value(struct queue_filter *f, const char *k, json_t *v,
                        struct module_error *err) {
        const char *s = json_string_value(v);

        if (STREQ(k, "all")) {
                if (json_is_boolean(v))
                        f->all = json_is_true(v);
                else if (!s || flag_parse(s, &f->all) < 0)
                        return bad(err, k, "true or false");
        } else if (STREQ(k, "limit")) {
                if (number_arg(v, &f->limit) < 0 || f->limit < 0 || f->limit > QUEUE_LIMIT_MAX)
                        return bad(err, k, "a number of messages, 0 to 100000");
        } else if (STREQ(k, "older_than")) {
                if (json_is_integer(v) ? (f->older_than = json_integer_value(v)) < 0 ||
                                                 f->older_than > INT64_C(315360000)
                                       : !s || queue_age_parse(s, &f->older_than) < 0)
                        return bad(err, k, "an age: seconds, or a number with m, h, d or w (30m, 2h, "
                                           "3d)");
        } else if (!s)
                return bad(err, k, "a string");
        else if (STREQ(k, "queue")) {
                if ((f->queue = queue_index(s)) < 0)
                        return bad(err, k, "one of active, deferred, hold, incoming, maildrop");
        } else if (STREQ(k, "sender") || STREQ(k, "recipient")) {
                if (!queue_address_valid(s) || (STREQ(k, "recipient") && STREQ(s, "<>")))
                        return bad(err, k, "an address (name@example.com) or @domain");
                snprintf(STREQ(k, "sender") ? f->sender : f->recipient, QUEUE_ADDRESS_MAX + 1,
                         "%s", s);
        } else if (STREQ(k, "domain")) {
                if (!dns_name_valid(s, 253))
                        return bad(err, k, "a domain name (example.com)");
                snprintf(f->domain, sizeof f->domain, "%s", s);
        } else if (STREQ(k, "reason")) {
                if (!plain_text(s, QUEUE_REASON_MAX))
                        return bad(err, k, "text of 1 to 200 bytes without control characters");
                snprintf(f->reason, sizeof f->reason, "%s", s);
        } else if (STREQ(k, "id")) {
                if (!queue_id_valid(s))
                        return bad(err, k, "a Postfix queue id (such as 4F9D2C0A1B)");
                snprintf(f->id, sizeof f->id, "%s", s);
        } else
                return bad(err, k, "not a filter of the queue");
        return 0;
}

int queue_filter_parse(json_t *args, const char *const *allowed, struct queue_filter *f,
                       struct module_error *err) {
        const char *k;
        json_t *v;

        *f = (struct queue_filter){.queue = -1, .older_than = -1, .limit = -1};
        if (args && !json_is_object(args)) {
                module_error_set(err, 400, "bad_request", NULL, "the arguments must be an object");
                return -EINVAL;
        }
        json_object_foreach(args, k, v) {
                int r;
                if (STREQ(k, "what"))
                        continue;
                if (!allowed_key(allowed, k))
                        return bad(err, k, "not an argument here");
                if ((r = filter_value(f, k, v, err)) < 0)
                        return r;
        }
        return 0;
}

bool queue_filter_any(const struct queue_filter *f) {
        return f->queue >= 0 || f->sender[0] || f->recipient[0] || f->domain[0] ||
               f->older_than >= 0 || f->reason[0] || f->id[0];
}

/* addr matches want: "@domain" by its domain, else the whole address with
 * the local part exact and the domain in any case. */
static bool address_match(const char *addr, const char *want) {
        const char *at = strrchr(addr, '@'), *wat = strrchr(want, '@');

        if (STREQ(want, "<>"))
                return addr[0] == '\0' || STREQ(addr, "MAILER-DAEMON");
        if (!at || !wat)
                return false;
        if (wat == want)
                return strcasecmp(at + 1, wat + 1) == 0;
        return at - addr == wat - want && strncmp(addr, want, (size_t)(at - addr)) == 0 &&
               strcasecmp(at + 1, wat + 1) == 0;
}

bool queue_filter_match(const struct queue_filter *f, json_t *msg, int queue, int64_t age) {
        json_t *rcpts = json_object_get(msg, "recipients"), *r;
        bool rcpt_ok = !f->recipient[0], domain_ok = !f->domain[0], reason_ok = !f->reason[0];
        size_t i;

        if ((f->queue >= 0 && queue != f->queue) || (f->older_than >= 0 && age <= f->older_than))
                return false;
        if (f->id[0] && !STREQ(json_string_value(json_object_get(msg, "id")) ?: "", f->id))
                return false;
        if (f->sender[0] &&
            !address_match(json_string_value(json_object_get(msg, "sender")) ?: "", f->sender))
                return false;
        json_array_foreach(rcpts, i, r) {
                const char *a = json_string_value(json_object_get(r, "address")) ?: "";
                const char *why = json_string_value(json_object_get(r, "delay_reason"));
                const char *at = strrchr(a, '@');
                rcpt_ok = rcpt_ok || address_match(a, f->recipient);
                domain_ok = domain_ok || (at && strcasecmp(at + 1, f->domain) == 0);
                reason_ok = reason_ok || (why && strcasestr(why, f->reason));
        }
        return rcpt_ok && domain_ok && reason_ok;
}

/* ---- delay reasons ------------------------------------------------------------------ */

static bool word_end(char c) {
        return c == '\0' || c == ' ' || c == '\t';
}

/* Appends the n bytes at s to dst (room: *left), cut at a character boundary. */
static void put(char **dst, size_t *left, const char *s, size_t n) {
        if (n >= *left) {
                n = *left ? *left - 1 : 0;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(*dst, s, n);
        *dst += n;
        *left -= n;
        **dst = '\0';
}

/* One word of a reason, its variable parts replaced. */
static void group_word(const char *w, size_t n, char **dst, size_t *left) {
        const char *open = memchr(w, '[', n), *at = memchr(w, '@', n);

        if (open) {
                const char *close = memchr(open, ']', n - (size_t)(open - w));
                put(dst, left, open > w ? "*[*]" : "[*]", open > w ? 4 : 3);
                if (!close)
                        return;
                close++;
                if (close < w + n && *close == ':' && close + 1 < w + n && close[1] >= '0' &&
                    close[1] <= '9') {
                        put(dst, left, ":*", 2);
                        close++;
                        while (close < w + n && *close >= '0' && *close <= '9')
                                close++;
                }
                put(dst, left, close, n - (size_t)(close - w));
        } else if (at) {
                size_t lead = strspn(w, "<(\"'"), tail = 0;
                while (tail < n - lead && strchr(">)\"':,;.", w[n - 1 - tail]))
                        tail++;
                put(dst, left, w, lead);
                put(dst, left, "*", 1);
                put(dst, left, w + n - tail, tail);
        } else if (n > 5 && strncmp(w, "name=", 5) == 0)
                put(dst, left, "name=*", 6);
        else
                put(dst, left, w, n);
}

void queue_reason_group(const char *reason, char *dst, size_t dst_len) {
        static const char suspended[] = "delivery temporarily suspended: ";
        const char *s = reason;
        size_t left = dst_len;

        if (dst_len == 0)
                return;
        dst[0] = '\0';
        if (strncmp(s, suspended, sizeof suspended - 1) == 0)
                s += sizeof suspended - 1;
        while (*s && left > 1) {
                size_t n = 0;
                while (!word_end(s[n]))
                        n++;
                group_word(s, n, &dst, &left);
                s += n;
                while (*s == ' ' || *s == '\t') {
                        put(&dst, &left, " ", 1);
                        s++;
                }
        }
}

/* ---- reading the queue ----------------------------------------------------------------- */

struct entry {
        int64_t arrival;
        int queue;
        char id[QUEUE_ID_MAX + 1];
        size_t off, len; /* of its JSON text in the scan's text */
};

struct scan {
        const struct queue_filter *f;
        int64_t now;
        size_t counts[QUEUE_N];
        size_t total, unreadable;
        struct entry *entries;
        size_t n_entries, cap_entries;
        struct buf text; /* the matching messages, compact JSON, back to back */
        json_t *reasons; /* group → {"count", "example"} */
        size_t n_reasons;
        bool keep_text;
};

static void scan_done(struct scan *s) {
        free(s->entries);
        buf_free(&s->text);
        json_decref(s->reasons);
}

static int count_reason(struct scan *s, const char *why) {
        char key[QUEUE_REASON_MAX + 1];
        json_t *g;

        queue_reason_group(why, key, sizeof key);
        g = json_object_get(s->reasons, key);
        if (!g && s->n_reasons >= REASONS_MAX) {
                snprintf(key, sizeof key, "%s", "other");
                g = json_object_get(s->reasons, key);
        }
        if (!g) {
                g = json_pack("{s:i, s:s}", "count", 0, "example", why);
                if (!g || json_object_set_new(s->reasons, key, g) < 0)
                        return -ENOMEM;
                s->n_reasons++;
        }
        return json_integer_set(json_object_get(g, "count"),
                                json_integer_value(json_object_get(g, "count")) + 1);
}

/* Each group of this message's reasons once. */
static int count_reasons(struct scan *s, json_t *msg) {
        json_t *rcpts = json_object_get(msg, "recipients"), *r, *r2;
        size_t i, j;

        json_array_foreach(rcpts, i, r) {
                const char *why = json_string_value(json_object_get(r, "delay_reason"));
                bool seen = false;
                if (!why)
                        continue;
                for (j = 0; j < i && j < 8 && !seen; j++) {
                        r2 = json_array_get(rcpts, j);
                        seen = STREQ(json_string_value(json_object_get(r2, "delay_reason")) ?: "",
                                     why);
                }
                if (!seen && count_reason(s, why) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int keep(struct scan *s, json_t *msg, int queue, int64_t arrival) {
        size_t off = s->text.len;
        struct entry *e;
        char *at;
        size_t n;

        if (s->n_entries == s->cap_entries) {
                size_t cap = s->cap_entries ? s->cap_entries * 2 : 256;
                struct entry *p = reallocarray(s->entries, cap, sizeof *p);
                if (!p)
                        return -ENOMEM;
                s->entries = p;
                s->cap_entries = cap;
        }
        e = &s->entries[s->n_entries];
        *e = (struct entry){.arrival = arrival, .queue = queue, .off = off};
        snprintf(e->id, sizeof e->id, "%s", json_string_value(json_object_get(msg, "id")));
        if (s->keep_text) {
                /* One dump into the room there is; a second only when it
                 * did not fit (json_dumpb answers the size it needs). */
                if (buf_reserve(&s->text, 4096) < 0)
                        return -EMSGSIZE;
                at = s->text.data + s->text.len;
                n = json_dumpb(msg, at, s->text.cap - s->text.len - 1, JSON_COMPACT);
                if (n > s->text.cap - s->text.len - 1) {
                        if (buf_reserve(&s->text, n) < 0)
                                return -EMSGSIZE;
                        at = s->text.data + s->text.len;
                        if (json_dumpb(msg, at, n, JSON_COMPACT) != n)
                                return -ENOMEM;
                }
                if (n == 0)
                        return -ENOMEM;
                s->text.len += n;
                s->text.data[s->text.len] = '\0';
                e->len = n;
        }
        s->n_entries++;
        return 0;
}

static int scan_line(struct scan *s, const char *line, size_t len) {
        _cleanup_json_ json_t *msg = NULL;
        int64_t arrival;
        int q, r;

        r = queue_parse_line(line, len, s->now, &msg, &q, &arrival);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                s->unreadable++;
                return 0;
        }
        s->counts[q]++;
        if (!queue_filter_match(s->f, msg, q, s->now > arrival ? s->now - arrival : 0))
                return 0;
        s->total++;
        if ((r = count_reasons(s, msg)) < 0)
                return r;
        return keep(s, msg, q, arrival);
}

static int scan_error(int r, const char *msg, struct module_error *err) {
        if (r == -E2BIG)
                module_error_set(err, 507, "too_large", NULL,
                                 "the queue is too large to list here (postqueue -j printed "
                                 "over %u MiB)",
                                 POSTQUEUE_MAX >> 20);
        else if (r == -EMSGSIZE)
                module_error_set(err, 507, "too_large", NULL,
                                 "the messages that match are over %u MiB of JSON: narrow them "
                                 "with filters",
                                 ANSWER_MAX >> 20);
        else if (r == -ENOMEM)
                return oom(err);
        else if (r == -ENOENT)
                module_error_set(err, 503, "unavailable", NULL, "Postfix is not installed");
        else if (r < 0)
                module_error_set(err, 500, "failed", NULL, "postqueue -j failed: %s",
                                 strerror(-r));
        else
                module_error_set(err, 500, "failed", NULL, "postqueue -j failed (exit %d): %s", r,
                                 msg);
        return r < 0 ? r : -EIO;
}

static int scan_line_cb(const char *line, size_t len, void *data) {
        return len > 0 ? scan_line(data, line, len) : 0;
}

/* Runs postqueue -j and reads every line into s as postqueue writes it:
 * the parse overlaps postqueue's own wait for showq. */
static int scan_queue(struct scan *s, struct module_error *err) {
        static const char *const argv[] = {POSTQUEUE, "-j", NULL};
        char msg[512];
        int r;

        if (!mail_postfix_installed())
                return scan_error(-ENOENT, "", err);
        s->now = (int64_t)(realtime_usec() / 1000000);
        s->reasons = json_object();
        buf_init(&s->text, ANSWER_MAX);
        if (!s->reasons)
                return oom(err);
        r = change_exec_lines(argv, POSTQUEUE_LINE_MAX, POSTQUEUE_MAX, scan_line_cb, s, msg,
                              sizeof msg);
        if (r == -ENOMEM)
                return oom(err);
        /* A Postfix that never ran has no queue directories to read
         * directly: postqueue fails, and the queue is empty. */
        if (r > 0 && !mail_postfix_running() && mail_spool_messages() == 0)
                return 0;
        if (r != 0)
                return scan_error(r, msg, err);
        return 0;
}

static int entry_cmp(const void *a, const void *b) {
        const struct entry *x = a, *y = b;

        if (x->arrival != y->arrival)
                return x->arrival < y->arrival ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int reason_cmp(const void *a, const void *b) {
        json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        json_int_t cx = json_integer_value(json_object_get(x, "count"));
        json_int_t cy = json_integer_value(json_object_get(y, "count"));

        if (cx != cy)
                return cx > cy ? -1 : 1;
        return strcmp(json_string_value(json_object_get(x, "reason")),
                      json_string_value(json_object_get(y, "reason")));
}

/* [{"reason", "count", "example"}…], most frequent first. */
static json_t *reasons_json(json_t *groups) {
        _cleanup_free_ json_t **v = calloc(json_object_size(groups) + 1, sizeof *v);
        json_t *out = json_array(), *g;
        const char *k;
        size_t n = 0;

        if (!v || !out) {
                json_decref(out);
                return NULL;
        }
        json_object_foreach(groups, k, g) {
                json_object_set_new(g, "reason", json_string(k));
                v[n++] = g;
        }
        qsort(v, n, sizeof *v, reason_cmp);
        for (size_t i = 0; i < n; i++)
                if (json_array_append(out, v[i]) < 0) {
                        json_decref(out);
                        return NULL;
                }
        return out;
}

static json_t *counts_json(const struct scan *s) {
        json_t *c = json_object();

        for (int i = 0; c && i < QUEUE_N; i++)
                if (json_object_set_new(c, queue_names_all[i], json_integer((json_int_t)s->counts[i])) <
                    0) {
                        json_decref(c);
                        return NULL;
                }
        return c;
}

/* ---- the list ------------------------------------------------------------------------- */

static const char *const list_keys[] = {"queue",      "sender", "recipient", "domain",
                                        "older_than", "reason", "limit",     NULL};

/* The answer as text: {KEY: [the kept texts, oldest first, at most
 * limit], then the tail's members}. */
static int list_answer_text(struct scan *s, const char *key, int64_t limit, char **ret,
                            size_t *ret_len, struct module_error *err) {
        _cleanup_json_ json_t *tail = NULL;
        _cleanup_free_ char *tail_text = NULL;
        size_t n = s->n_entries < (size_t)limit ? s->n_entries : (size_t)limit;
        struct buf b;

        if (s->n_entries > 1)
                qsort(s->entries, s->n_entries, sizeof *s->entries, entry_cmp);
        tail = json_pack("{s:o?, s:o?, s:I, s:b, s:I}", "counts", counts_json(s), "reasons",
                         reasons_json(s->reasons), "total", (json_int_t)s->total,
                         "postfix_running", mail_postfix_running(), "unreadable",
                         (json_int_t)s->unreadable);
        if (!tail || !(tail_text = json_dumps(tail, JSON_COMPACT)))
                return oom(err);
        buf_init(&b, ANSWER_MAX + strlen(tail_text) + 64);
        if (buf_printf(&b, "{\"%s\":[", key) < 0)
                goto fail;
        for (size_t i = 0; i < n; i++)
                if ((i && buf_append(&b, ",", 1) < 0) ||
                    buf_append(&b, s->text.data + s->entries[i].off, s->entries[i].len) < 0)
                        goto fail;
        if (buf_puts(&b, "],") < 0 || buf_puts(&b, tail_text + 1) < 0)
                goto fail;
        *ret_len = b.len;
        *ret = buf_steal(&b);
        return 0;
fail:
        buf_free(&b);
        return oom(err);
}

int queue_list_text(json_t *args, const char *key, char **ret, size_t *ret_len,
                    struct module_error *err) {
        struct queue_filter f;
        struct scan s = {.f = &f, .keep_text = true};
        int r;

        r = queue_filter_parse(args, list_keys, &f, err);
        if (r < 0)
                return r;
        r = scan_queue(&s, err);
        if (r >= 0)
                r = list_answer_text(&s, key, f.limit < 0 ? QUEUE_LIMIT_DEF : f.limit, ret, ret_len,
                                     err);
        scan_done(&s);
        return r;
}

int queue_list(json_t *args, json_t **ret, struct module_error *err) {
        _cleanup_free_ char *text = NULL;
        json_error_t je;
        size_t len;
        json_t *o;
        int r;

        r = queue_list_text(args, "messages", &text, &len, err);
        if (r < 0)
                return r;
        o = json_loadb(text, len, 0, &je);
        if (!o) {
                module_error_set(err, 500, "internal", NULL, "the queue's answer: %s", je.text);
                return -EIO;
        }
        *ret = o;
        return 0;
}

json_t *queue_counts(void) {
        struct queue_filter f = {.queue = -1, .older_than = -1, .limit = 0};
        struct scan s = {.f = &f};
        struct module_error err = {0};
        json_t *c = NULL;

        if (scan_queue(&s, &err) >= 0)
                c = counts_json(&s);
        scan_done(&s);
        return c;
}

/* ---- one message --------------------------------------------------------------------- */

/* The message id as read from the queue, its text kept: NULL when absent. */
static int find_message(const char *id, json_t **ret, struct module_error *err) {
        struct queue_filter f = {.queue = -1, .older_than = -1, .limit = 1};
        struct scan s = {.f = &f, .keep_text = true};
        int r;

        snprintf(f.id, sizeof f.id, "%s", id);
        r = scan_queue(&s, err);
        if (r >= 0 && s.n_entries == 0) {
                module_error_set(err, 404, "not_found", "id", "no message %s in the queue", id);
                r = -ENOENT;
        }
        if (r >= 0 &&
            !(*ret = json_loadb(s.text.data + s.entries[0].off, s.entries[0].len, 0, NULL)))
                r = oom(err);
        scan_done(&s);
        return r;
}

/* postcat's header text, fit for JSON: control characters other than tab
 * and newline become '?', and so do bytes that are not UTF-8. */
static json_t *headers_text(char *text, size_t len) {
        if (len > HEADERS_MAX) { /* cut: the caller says so */
                len = HEADERS_MAX;
                text[len] = '\0';
        }
        for (size_t i = 0; i < len; i++)
                if (((unsigned char)text[i] < 0x20 && text[i] != '\t' && text[i] != '\n') ||
                    text[i] == 0x7f)
                        text[i] = '?';
        for (size_t i = 0; i < len;) {
                size_t c = utf8_char_len((const unsigned char *)text + i, len - i);
                if (c == 0) {
                        text[i] = '?';
                        c = 1;
                }
                i += c;
        }
        return json_stringn(text, len);
}

static int message_headers(const char *id, json_t *msg, struct module_error *err) {
        const char *argv[] = {POSTCAT, "-h", "-q", "--", id, NULL};
        _cleanup_free_ char *out = NULL;
        char emsg[512];
        size_t len = 0;
        int r;

        r = change_exec_output(argv, POSTCAT_MAX, &out, &len, emsg, sizeof emsg);
        if (r == -E2BIG) {
                module_error_set(err, 507, "too_large", "id",
                                 "the headers of %s are over %u KiB", id, POSTCAT_MAX >> 10);
                return r;
        }
        if (r != 0) {
                /* Gone between the list and postcat (delivered, deleted). */
                module_error_set(err, r == 1 ? 404 : 500, r == 1 ? "not_found" : "failed", "id",
                                 "postcat -q %s: %s", id, emsg[0] ? emsg : "failed");
                return r < 0 ? r : -EIO;
        }
        if (len > HEADERS_MAX)
                json_object_set_new(msg, "headers_truncated", json_true());
        json_object_set_new(msg, "headers", headers_text(out, len));
        return 0;
}

int queue_show(json_t *args, json_t **ret, struct module_error *err) {
        static const char *const keys[] = {"id", "headers", NULL};
        const char *id = json_string_value(json_object_get(args, "id"));
        json_t *h = json_object_get(args, "headers");
        _cleanup_json_ json_t *msg = NULL;
        int r;

        if (!json_is_object(args) || !id || !queue_id_valid(id))
                return bad(err, "id", "a Postfix queue id (such as 4F9D2C0A1B)");
        if (h && !json_is_boolean(h))
                return bad(err, "headers", "true or false");
        for (void *it = json_object_iter(args); it; it = json_object_iter_next(args, it))
                if (!allowed_key(keys, json_object_iter_key(it)))
                        return bad(err, json_object_iter_key(it), "not an argument here");
        r = find_message(id, &msg, err);
        if (r < 0)
                return r;
        if (!json_is_false(h) && (r = message_headers(id, msg, err)) < 0)
                return r;
        *ret = json_pack("{s:O}", "message", msg);
        return *ret ? 0 : oom(err);
}

/* ---- operations ----------------------------------------------------------------------- */

enum op {
        OP_HOLD,
        OP_RELEASE,
        OP_REQUEUE,
        OP_FLUSH,
        OP_DELETE,
};

static const struct {
        const char *name;
        const char *flag; /* postsuper's */
        const char *done; /* postsuper's summary line: "Deleted: 3 messages" */
} ops[] = {
        [OP_HOLD] = {"hold", "-h", "Placed on hold: "},
        [OP_RELEASE] = {"release", "-H", "Released from hold: "},
        [OP_REQUEUE] = {"requeue", "-r", "Requeued: "},
        [OP_FLUSH] = {"flush", NULL, NULL},
        [OP_DELETE] = {"delete", "-d", "Deleted: "},
};

static const char *const op_keys[] = {"id",         "queue", "sender", "recipient", "domain",
                                      "older_than", "all",   NULL};

/* What a selection's messages are, for the summary and the 404: "deferred
 * messages to example.com older than 2h". */
static void describe(const struct queue_filter *f, size_t n, char *dst, size_t len) {
        struct buf b;
        int64_t a = f->older_than;

        buf_init(&b, len);
        if (f->queue >= 0)
                buf_printf(&b, "%s ", queue_names_all[f->queue]);
        buf_puts(&b, n == 1 ? "message" : "messages");
        if (f->sender[0])
                buf_printf(&b, " from %s", f->sender);
        if (f->recipient[0])
                buf_printf(&b, " to %s", f->recipient);
        if (f->domain[0])
                buf_printf(&b, " to %s", f->domain);
        if (a >= 0)
                buf_printf(&b, " older than %" PRId64 "%s",
                           a && a % 86400 == 0 ? a / 86400
                           : a && a % 3600 == 0 ? a / 3600
                           : a && a % 60 == 0   ? a / 60
                                                : a,
                           a && a % 86400 == 0 ? "d"
                           : a && a % 3600 == 0 ? "h"
                           : a && a % 60 == 0   ? "m"
                                                : "s");
        snprintf(dst, len, "%s", b.data ? b.data : "messages");
        buf_free(&b);
}

/* Drops from the selection what the operation does not apply to: held
 * messages for hold and flush, messages not held for release. */
static size_t select_for(enum op op, struct scan *s) {
        size_t kept = 0, dropped = 0;

        for (size_t i = 0; i < s->n_entries; i++) {
                bool held = s->entries[i].queue == QUEUE_HOLD;
                if ((op == OP_HOLD || op == OP_FLUSH) ? held : op == OP_RELEASE ? !held : false)
                        dropped++;
                else
                        s->entries[kept++] = s->entries[i];
        }
        s->n_entries = kept;
        return dropped;
}

static int nothing_selected(enum op op, const struct queue_filter *f, size_t dropped,
                            struct module_error *err) {
        char what[512];

        if (f->id[0] && dropped) {
                module_error_set(err, 409, "conflict", "id", "message %s %s", f->id,
                                 op == OP_RELEASE ? "is not on hold"
                                 : op == OP_HOLD  ? "is already on hold"
                                                  : "is on hold: release it first");
                return -EBUSY;
        }
        if (f->id[0]) {
                module_error_set(err, 404, "not_found", "id", "no message %s in the queue", f->id);
                return -ENOENT;
        }
        describe(f, 2, what, sizeof what);
        if (!dropped)
                module_error_set(err, 404, "not_found", NULL, "no %s in the queue", what);
        else
                module_error_set(err, 404, "not_found", NULL, "%s of the %s in the queue is on hold",
                                 op == OP_RELEASE ? "none" : "each", what);
        return -ENOENT;
}

/* The n in "Deleted: n messages" of postsuper's words; 0 if absent. */
static size_t said_count(const char *said, const char *done) {
        const char *p = NULL, *q = said;
        int64_t v;

        while ((q = strstr(q, done))) {
                p = q + strlen(done);
                q = p;
        }
        if (!p || safe_atoi64_n(p, strspn(p, "0123456789"), &v) < 0 || v < 0)
                return 0;
        return (size_t)v;
}

/* postsuper FLAG - with the ids on its standard input, POSTSUPER_BATCH at
 * a time; *ret_done: what it reports it did. */
static int run_postsuper(enum op op, const struct entry *e, size_t n, size_t *ret_done,
                         char *last, size_t last_len, struct module_error *err) {
        const char *argv[] = {POSTSUPER, ops[op].flag, "-", NULL};
        _cleanup_free_ char *said = malloc(POSTSUPER_MSG);
        size_t done = 0;

        if (!said)
                return oom(err);
        for (size_t i = 0; i < n; i += POSTSUPER_BATCH) {
                _cleanup_free_ char *input = NULL;
                size_t k = n - i < POSTSUPER_BATCH ? n - i : POSTSUPER_BATCH;
                struct buf b;
                const char *p;
                int r;

                buf_init(&b, k * (QUEUE_ID_MAX + 1) + 1);
                for (size_t j = 0; j < k; j++)
                        if (buf_printf(&b, "%s\n", e[i + j].id) < 0) {
                                buf_free(&b);
                                return oom(err);
                        }
                input = buf_steal(&b);
                r = change_exec_timeout(argv, input, said, POSTSUPER_MSG, MAIL_TOOL_TIMEOUT_USEC);
                if (r != 0) {
                        module_error_set(err, 500, "failed", NULL,
                                         "postsuper %s failed (%s %d) in its run of messages "
                                         "%zu to %zu (%zu done before it); it said: %.300s",
                                         ops[op].flag, r < 0 ? "error" : "exit", r, i + 1, i + k,
                                         done, said);
                        return r < 0 ? r : -EIO;
                }
                done += said_count(said, ops[op].done);
                p = strstr(said, ops[op].done);
                if (p)
                        snprintf(last, last_len, "%.*s", (int)strcspn(p, "\n"), p);
        }
        *ret_done = done;
        return 0;
}

/* postqueue -i ID for each, or -f for all (ids NULL). */
static int run_flush(const struct entry *e, size_t n, struct module_error *err) {
        char said[512];

        for (size_t i = 0; i < (e ? n : 1); i++) {
                const char *argv[] = {POSTQUEUE, e ? "-i" : "-f", e ? e[i].id : NULL, NULL};
                int r = change_exec_timeout(argv, NULL, said, sizeof said, MAIL_TOOL_TIMEOUT_USEC);
                if (r == 69) { /* EX_UNAVAILABLE: "mail system is down" */
                        module_error_set(err, 503, "unavailable", NULL,
                                         "Postfix is not running: nothing can be flushed");
                        return -EHOSTDOWN;
                }
                if (r != 0) {
                        module_error_set(err, 500, "failed", NULL, "postqueue %s failed (%d): %s",
                                         e ? "-i" : "-f", r, said);
                        return r < 0 ? r : -EIO;
                }
        }
        return 0;
}

/* Requeued messages wait in the maildrop queue until pickup copies them
 * into new queue files (new ids); pickup looks there once a minute unless
 * woken: `postkick public pickup W`.  Postfix down: they wait for it. */
static void wake_pickup(void) {
        static const char *const argv[] = {POSTKICK, "public", "pickup", "W", NULL};
        char said[256];

        if (mail_postfix_running())
                (void)change_exec_timeout(argv, NULL, said, sizeof said, MAIL_TOOL_TIMEOUT_USEC);
}

static json_t *ids_json(const struct scan *s) {
        json_t *ids = json_array();

        for (size_t i = 0; ids && i < s->n_entries && i < IDS_SHOWN; i++)
                if (json_array_append_new(ids, json_string(s->entries[i].id)) < 0) {
                        json_decref(ids);
                        return NULL;
                }
        return ids;
}

static int op_answer(enum op op, const struct queue_filter *f, const struct scan *s, bool dry_run,
                     bool whole, json_t **ret, struct module_error *err) {
        char what[512], summary[640];

        describe(f, s->n_entries, what, sizeof what);
        if (f->id[0])
                snprintf(summary, sizeof summary, "%s message %s", ops[op].name, f->id);
        else if (whole)
                snprintf(summary, sizeof summary, "%s the whole queue (%zu messages)",
                         ops[op].name, s->n_entries);
        else
                snprintf(summary, sizeof summary, "%s %s%zu %s", ops[op].name,
                         f->all && !queue_filter_any(f) ? "all " : "", s->n_entries, what);
        *ret = json_pack("{s:s, s:I, s:I, s:o?, s:b, s:s, s:b}", "operation", ops[op].name,
                         "count", (json_int_t)s->n_entries, "selected",
                         (json_int_t)s->n_entries, "ids", ids_json(s), "ids_truncated",
                         s->n_entries > IDS_SHOWN, "summary", summary, "dry_run", dry_run);
        return *ret ? 0 : oom(err);
}

static int queue_op(const struct module_ctx *ctx, enum op op, json_t *args, json_t **ret,
                    struct module_error *err) {
        _cleanup_json_ json_t *answer = NULL;
        struct queue_filter f;
        struct scan s = {.f = &f};
        bool dry_run = ctx && ctx->dry_run, whole;
        char last[160] = "";
        size_t dropped, done = 0;
        int r;

        r = queue_filter_parse(args, op_keys, &f, err);
        if (r < 0)
                return r;
        whole = op == OP_FLUSH && !queue_filter_any(&f);
        if (!queue_filter_any(&f) && !f.all && op != OP_FLUSH) {
                module_error_set(err, 400, "bad_request", "all",
                                 "%s which messages? an id, filters (queue, sender, recipient, "
                                 "domain, older_than), or \"all\": true",
                                 ops[op].name);
                return -EINVAL;
        }
        r = scan_queue(&s, err);
        if (r < 0)
                goto out;
        dropped = select_for(op, &s);
        if (s.n_entries == 0 && !whole) {
                r = nothing_selected(op, &f, dropped, err);
                goto out;
        }
        if (op == OP_FLUSH && !whole && s.n_entries > FLUSH_IDS_MAX) {
                module_error_set(err, 422, "too_many", NULL,
                                 "flush takes at most %d messages by id (%zu match): flush the "
                                 "whole queue, or requeue them",
                                 FLUSH_IDS_MAX, s.n_entries);
                r = -E2BIG;
                goto out;
        }
        if ((r = op_answer(op, &f, &s, dry_run, whole, &answer, err)) < 0 || dry_run)
                goto out;
        if (op == OP_FLUSH)
                r = run_flush(whole ? NULL : s.entries, s.n_entries, err);
        else {
                r = run_postsuper(op, s.entries, s.n_entries, &done, last, sizeof last, err);
                if (r >= 0 && op == OP_REQUEUE)
                        wake_pickup();
                if (r >= 0)
                        json_object_set_new(answer, "count", json_integer((json_int_t)done));
                if (r >= 0 && done != s.n_entries)
                        json_object_set_new(answer, "postsuper", json_string(last));
        }
out:
        scan_done(&s);
        if (r >= 0)
                *ret = TAKE_PTR(answer);
        return r;
}

int queue_hold(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err) {
        return queue_op(ctx, OP_HOLD, args, ret, err);
}

int queue_release(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err) {
        return queue_op(ctx, OP_RELEASE, args, ret, err);
}

int queue_requeue(const struct module_ctx *ctx, json_t *args, json_t **ret,
                  struct module_error *err) {
        return queue_op(ctx, OP_REQUEUE, args, ret, err);
}

int queue_flush(const struct module_ctx *ctx, json_t *args, json_t **ret, struct module_error *err) {
        return queue_op(ctx, OP_FLUSH, args, ret, err);
}

int queue_delete(const struct module_ctx *ctx, json_t *args, json_t **ret,
                 struct module_error *err) {
        return queue_op(ctx, OP_DELETE, args, ret, err);
}
