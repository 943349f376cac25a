/* mailer.c — alert mail: the text the front composes, the message the
 * helper builds around it, and sendmail.
 *
 * Trust: the front asks through the sessionless module_task, so a
 * compromised front could ask too.  What it controls is the subject and
 * the text of the body, both bounded; recipients and sender are the
 * helper's own settings (alerts.conf as the helper made it live), checked
 * again here against a strict grammar, so no caller chooses who gets
 * mail.  Header injection: every header line is built here, a subject is
 * reduced to printable ASCII on one line (non-ASCII becomes '?', keeping
 * it ASCII rather than RFC 2047-encoding it), addresses hold no
 * separator, space or control character; the body comes after the blank
 * line, where sendmail -t reads no recipient.
 *
 * Running it: /usr/sbin/sendmail -t -i by argv through the kit's
 * change_exec_timeout (clean environment, no shell, 30 s then SIGKILL),
 * in a worker of the helper (module_task).  Under the unit's
 * NoNewPrivileges Postfix's setgid postdrop loses its group; measured:
 * run by root with CAP_DAC_OVERRIDE (the unit's bounding set keeps it and
 * the helper does not drop it) postdrop still writes maildrop/ and pokes
 * pickup, where a non-root caller or root without CAP_DAC_OVERRIDE hangs
 * retrying "mail_queue_enter: Permission denied".  So the helper sends,
 * and the unit needs no SupplementaryGroups=postdrop.
 */
#include "modules/alerts/mailer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "modules/alerts/alerts.h"
#include "modules/alerts/webhook.h"
#include "modules/change.h"
#include "util.h"

#define SENDMAIL              "/usr/sbin/sendmail"
#define SENDMAIL_TIMEOUT_USEC (30ULL * 1000 * 1000)
#define LINE_MAX_BYTES        998u /* RFC 5322 */
#define ADDRESS_MAX           254u

/* ---- the front: subject and text ------------------------------------------------- */

static const char *str_of(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static bool is_firing(json_t *a) {
        return !STREQ(str_of(a, "status"), "resolved");
}

/* Appends to a bounded text (MAIL_BODY_MAX; past it the rest is left
 * out and the text says so). */
struct text {
        char *buf;
        size_t len, cap;
        bool full;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...) {
        va_list ap;
        int n;

        if (t->full || !t->buf)
                return;
        va_start(ap, fmt);
        n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= t->cap - t->len) {
                t->full = true;
                t->buf[t->len] = '\0';
                return;
        }
        t->len += (size_t)n;
}

static void alert_text(struct text *t, json_t *a) {
        json_t *ann = json_object_get(a, "annotations"), *labels = json_object_get(a, "labels"), *v;
        char starts[32], ends[32];
        const char *k;
        bool first = true;

        webhook_time((int64_t)json_integer_value(json_object_get(a, "starts_at")), starts);
        webhook_time((int64_t)json_integer_value(json_object_get(a, "ends_at")), ends);
        text_add(t, "[%s] %s\n", is_firing(a) ? "FIRING" : "RESOLVED",
                 str_of(labels, "instance")[0] ? str_of(labels, "instance") : str_of(a, "rule"));
        if (str_of(ann, "summary")[0])
                text_add(t, "  summary:     %s\n", str_of(ann, "summary"));
        if (str_of(ann, "description")[0])
                text_add(t, "  description: %s\n", str_of(ann, "description"));
        if (json_is_number(json_object_get(a, "value")))
                text_add(t, "  value:       %g\n", json_number_value(json_object_get(a, "value")));
        text_add(t, "  severity:    %s\n", str_of(labels, "severity"));
        text_add(t, "  since:       %s\n", starts);
        if (!is_firing(a))
                text_add(t, "  ended:       %s\n", ends);
        text_add(t, "  labels:      ");
        json_object_foreach(labels, k, v) {
                if (json_is_string(v))
                        text_add(t, "%s%s=\"%s\"", first ? "" : ", ", k, json_string_value(v));
                first = false;
        }
        text_add(t, "\n  fingerprint: %s\n\n", str_of(a, "fingerprint"));
}

int mail_compose(json_t *group, const char *host, const char *external_url, char **ret_subject,
                 char **ret_body) {
        struct text t = {.buf = malloc(MAIL_BODY_MAX), .cap = MAIL_BODY_MAX};
        json_t *first = json_array_get(group, 0), *a;
        size_t n = json_array_size(group), n_firing = 0, i;
        const char *summary, *instance;
        char *subject = NULL;
        int w;

        if (!t.buf)
                return -ENOMEM;
        t.buf[0] = '\0';
        json_array_foreach(group, i, a) n_firing += is_firing(a);
        summary = str_of(json_object_get(first, "annotations"), "summary");
        instance = str_of(json_object_get(first, "labels"), "instance");
        if (n == 1)
                w = asprintf(&subject, "[%s] %s on %s: %s", n_firing ? "FIRING" : "RESOLVED",
                             str_of(first, "rule"), host,
                             summary[0]    ? summary
                             : instance[0] ? instance
                                           : "");
        else
                w = asprintf(&subject, "[%s:%zu] %s on %s", n_firing ? "FIRING" : "RESOLVED",
                             n_firing ? n_firing : n, str_of(first, "rule"), host);
        if (w < 0) {
                free(t.buf);
                return -ENOMEM;
        }
        text_add(&t, "Alert %s on %s: %zu firing, %zu resolved.\n\n", str_of(first, "rule"), host,
                 n_firing, n - n_firing);
        json_array_foreach(group, i, a) alert_text(&t, a);
        text_add(&t, "Console: %s\n", external_url);
        if (t.full) {
                static const char cut[] = "\n[… more left out]\n";
                size_t at = t.len + sizeof cut <= t.cap ? t.len : t.cap - sizeof cut;
                memcpy(t.buf + at, cut, sizeof cut);
        }
        *ret_subject = subject;
        *ret_body = t.buf;
        return 0;
}

/* ---- the helper: the message ------------------------------------------------------ */

/* An address as a header may carry it: local@domain of the characters of
 * a dot-atom and a DNS name only (the settings' grammar is stricter;
 * this is the last line before a header). */
static bool address_ok(const char *s) {
        const char *at = strchr(s, '@');
        size_t n = strnlen(s, ADDRESS_MAX + 1);

        if (n == 0 || n > ADDRESS_MAX || !at || at == s || strchr(at + 1, '@') || !at[1])
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      (c && strchr("!#$%&'*+/=?^_`{|}~.@-", c))))
                        return false;
        }
        return dns_name_valid(at + 1, 253);
}

/* subject as one header line: printable ASCII, bounded. */
static void subject_line(const char *in, char out[static MAIL_SUBJECT_MAX + 1]) {
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *)in; *p && o < MAIL_SUBJECT_MAX; p++) {
                if (*p >= 0x80) {
                        /* one '?' per UTF-8 character, not per byte */
                        if ((*p & 0xc0) != 0x80)
                                out[o++] = '?';
                } else
                        out[o++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
        }
        out[o] = '\0';
}

/* body: CR dropped, lines longer than RFC 5322 allows broken. */
static int body_add(struct text *t, const char *body) {
        size_t col = 0;

        for (const char *p = body; *p; p++) {
                if (*p == '\r')
                        continue;
                if (t->len + 3 > t->cap)
                        return -E2BIG;
                if (*p != '\n' && col == LINE_MAX_BYTES) {
                        t->buf[t->len++] = '\n';
                        col = 0;
                }
                t->buf[t->len++] = *p;
                col = *p == '\n' ? 0 : col + 1;
        }
        if (col > 0)
                t->buf[t->len++] = '\n';
        t->buf[t->len] = '\0';
        return 0;
}

int mail_message(const char *from, const char *const *to, size_t n_to, const char *subject,
                 const char *body, char **ret) {
        size_t cap =
                MAIL_BODY_MAX + MAIL_BODY_MAX / LINE_MAX_BYTES + 4096 + n_to * (ADDRESS_MAX + 4);
        struct text t = {.buf = malloc(cap), .cap = cap};
        char subj[MAIL_SUBJECT_MAX + 1];
        int r;

        if (!t.buf)
                return -ENOMEM;
        t.buf[0] = '\0';
        if (!address_ok(from) || n_to == 0) {
                free(t.buf);
                return -EINVAL;
        }
        for (size_t i = 0; i < n_to; i++)
                if (!address_ok(to[i])) {
                        free(t.buf);
                        return -EINVAL;
                }
        if (strlen(body) > MAIL_BODY_MAX) {
                free(t.buf);
                return -E2BIG;
        }
        subject_line(subject, subj);
        text_add(&t, "From: %s\nTo: ", from);
        /* One address a line: eight long ones would pass 998 bytes. */
        for (size_t i = 0; i < n_to; i++)
                text_add(&t, "%s%s", i ? ",\n " : "", to[i]);
        text_add(&t,
                 "\nSubject: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                 "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n",
                 subj);
        r = t.full ? -E2BIG : body_add(&t, body);
        if (r < 0) {
                free(t.buf);
                return r;
        }
        *ret = t.buf;
        return 0;
}

/* ---- the helper: the task ---------------------------------------------------------- */

static int task_args(json_t *args, const char **ret_subject, const char **ret_body,
                     struct module_error *err) {
        json_t *s = json_object_get(args, "subject"), *b = json_object_get(args, "body");

        if (!json_is_object(args) || json_object_size(args) != 2 || !json_is_string(s) ||
            !json_is_string(b) || json_string_length(s) > 4 * MAIL_SUBJECT_MAX ||
            json_string_length(b) > MAIL_BODY_MAX ||
            strlen(json_string_value(b)) != json_string_length(b)) {
                module_error_set(err, 400, "bad_request", "args",
                                 "a mail task takes a subject (at most %u bytes) and a body (at "
                                 "most %u bytes), strings, and nothing else",
                                 4 * MAIL_SUBJECT_MAX, MAIL_BODY_MAX);
                return -EINVAL;
        }
        *ret_subject = json_string_value(s);
        *ret_body = json_string_value(b);
        return 0;
}

/* From: the setting, else steward@ the host's name (localhost when it is
 * not a DNS name). */
static void sender(const struct alerts_config *c, char *buf, size_t len) {
        char host[256] = "";

        if (c->mail_from[0]) {
                snprintf(buf, len, "%s", c->mail_from);
                return;
        }
        if (gethostname(host, sizeof host - 1) < 0 || !dns_name_valid(host, 253))
                snprintf(host, sizeof host, "localhost");
        snprintf(buf, len, "steward@%s", host);
}

/* What became of it: the helper judges, the front only counts and
 * retries (the kit passes a helper's error on as -EACCES, without words). */
static int task_answer(const char *outcome, int status, const char *message, json_t **ret,
                       struct module_error *err) {
        *ret = json_pack("{s:s, s:i, s:s}", "outcome", outcome, "exit_status", status, "message",
                         message);
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "Out of memory");
                return -ENOMEM;
        }
        return 0;
}

int alerts_mail_task(json_t *args, json_t **ret, struct module_error *err) {
        static const char *const argv[] = {SENDMAIL, "-t", "-i", NULL};
        struct alerts_config c;
        const char *subject, *body, *to[ALERTS_DESTINATIONS_MAX];
        _cleanup_free_ char *msg = NULL;
        char from[ADDRESS_MAX + 16], out[512];
        int r;

        r = task_args(args, &subject, &body, err);
        if (r < 0)
                return r;
        if (module_config_get(&module_alerts, &c, sizeof c) < 0 || c.mail_to.n == 0) {
                module_error_set(err, 409, "no_recipients", "mail_to",
                                 "alerts:mail_to names nobody");
                return -ENOENT;
        }
        for (size_t i = 0; i < c.mail_to.n && i < ELEMENTSOF(to); i++)
                to[i] = c.mail_to.name[i];
        sender(&c, from, sizeof from);
        r = mail_message(from, to, c.mail_to.n < ELEMENTSOF(to) ? c.mail_to.n : ELEMENTSOF(to),
                         subject, body, &msg);
        if (r < 0) {
                module_error_set(err, r == -EINVAL ? 409 : 400, "bad_mail", NULL,
                                 "the message cannot be built: %s",
                                 r == -EINVAL ? "an address of alerts:mail_to or mail_from is not "
                                                "one a header can carry"
                                              : "too long");
                return r;
        }
        if (access(SENDMAIL, X_OK) < 0)
                return task_answer("failed", -1, SENDMAIL " is missing: no local MTA", ret, err);
        r = change_exec_timeout(argv, msg, out, sizeof out, SENDMAIL_TIMEOUT_USEC);
        if (r == -ETIME)
                return task_answer("retry", -1, SENDMAIL " took longer than 30 s and was killed",
                                   ret, err);
        if (r < 0) {
                snprintf(out, sizeof out, "cannot run " SENDMAIL ": %s", strerror(-r));
                return task_answer("retry", -1, out, ret, err);
        }
        return task_answer(r == 0                    ? "sent"
                           : r == MAIL_EXIT_TEMPFAIL ? "retry"
                                                     : "failed",
                           r, out, ret, err);
}
