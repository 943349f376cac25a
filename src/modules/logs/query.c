/* query.c — the logs module's query grammar (see query.h).
 *
 * Everything here is a parser over a short, length-checked string: no
 * allocation, no journal, no I/O but the local time zone (localtime_r and
 * mktime, for the wall-clock forms journalctl reads as local time).
 */
#include "modules/logs/query.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define USEC_PER_SEC  1000000ull
#define USEC_PER_DAY  (86400ull * USEC_PER_SEC)
#define TIME_TEXT_MAX 64
#define RELATIVE_MAX  (100ull * 366 * USEC_PER_DAY) /* a hundred years either way */

static const char *const prio_names[] = {"emerg", "alert",  "crit", "err",
                                         "warning", "notice", "info", "debug"};

const char *logs_priority_name(int p) {
        return p >= 0 && p < 8 ? prio_names[p] : "unknown";
}

/* ---- priority ------------------------------------------------------------------- */

static int priority_one(const char *s, size_t n, int *ret) {
        if (n == 1 && s[0] >= '0' && s[0] <= '7') {
                *ret = s[0] - '0';
                return 0;
        }
        for (int i = 0; i < 8; i++)
                if (strlen(prio_names[i]) == n && strncmp(s, prio_names[i], n) == 0) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

int logs_parse_priority(const char *s, int *ret_min, int *ret_max) {
        const char *dots;
        int a, b;

        if (!s || strlen(s) > 32)
                return -EINVAL;
        dots = strstr(s, "..");
        if (!dots) {
                if (priority_one(s, strlen(s), &b) < 0)
                        return -EINVAL;
                *ret_min = 0;
                *ret_max = b;
                return 0;
        }
        if (priority_one(s, (size_t)(dots - s), &a) < 0 ||
            priority_one(dots + 2, strlen(dots + 2), &b) < 0)
                return -EINVAL;
        *ret_min = a < b ? a : b;
        *ret_max = a < b ? b : a;
        return 0;
}

/* ---- unit ---------------------------------------------------------------------- */

static const char *const unit_types[] = {"service", "socket", "target", "device", "mount",
                                         "automount", "swap", "timer", "path", "slice", "scope"};

static bool unit_char(char c) {
        return isalnum((unsigned char)c) || c == ':' || c == '_' || c == '.' || c == '\\' ||
               c == '@' || c == '-';
}

int logs_parse_unit(const char *s, char ret[LOGS_UNIT_MAX + 1]) {
        size_t n = s ? strlen(s) : 0;
        const char *dot;
        bool typed = false;

        if (n == 0 || n > LOGS_UNIT_MAX || s[0] == '-' || s[0] == '.' || strstr(s, ".."))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!unit_char(s[i]))
                        return -EINVAL;
        dot = strrchr(s, '.');
        for (size_t i = 0; dot && i < ELEMENTSOF(unit_types); i++)
                typed = typed || STREQ(dot + 1, unit_types[i]);
        if (dot && !typed && dot[1] == '\0')
                return -EINVAL;
        if (!typed && n + strlen(".service") > LOGS_UNIT_MAX)
                return -EINVAL;
        memcpy(ret, s, n);
        if (!typed) {
                memcpy(ret + n, ".service", strlen(".service"));
                n += strlen(".service");
        }
        ret[n] = '\0';
        return 0;
}

/* ---- time ---------------------------------------------------------------------- */

/* Local midnight `days` days from today. */
static int local_midnight(uint64_t now, int days, uint64_t *ret) {
        time_t t = (time_t)(now / USEC_PER_SEC), m;
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday += days;
        tm.tm_isdst = -1;
        m = mktime(&tm);
        if (m < 0)
                return -EINVAL;
        *ret = (uint64_t)m * USEC_PER_SEC;
        return 0;
}

static int unit_usec(const char *u, size_t n, uint64_t *ret) {
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
                {"s", USEC_PER_SEC},        {"sec", USEC_PER_SEC},       {"second", USEC_PER_SEC},
                {"seconds", USEC_PER_SEC},  {"m", 60 * USEC_PER_SEC},    {"min", 60 * USEC_PER_SEC},
                {"minute", 60 * USEC_PER_SEC}, {"minutes", 60 * USEC_PER_SEC},
                {"h", 3600 * USEC_PER_SEC}, {"hour", 3600 * USEC_PER_SEC},
                {"hours", 3600 * USEC_PER_SEC}, {"d", USEC_PER_DAY},     {"day", USEC_PER_DAY},
                {"days", USEC_PER_DAY},     {"w", 7 * USEC_PER_DAY},     {"week", 7 * USEC_PER_DAY},
                {"weeks", 7 * USEC_PER_DAY},
        };
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strlen(units[i].name) == n && strncmp(u, units[i].name, n) == 0) {
                        *ret = units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

/* "-1h", "+30m", "-2d 3h": a sign, then NUMBER UNIT pairs (spaces between
 * them allowed). */
static int parse_relative(const char *s, uint64_t now, uint64_t *ret) {
        bool minus = *s++ == '-';
        uint64_t total = 0;
        bool any = false;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;

        while (*s) {
                uint64_t v = 0, mult, part;
                const char *u;
                size_t digits = 0;

                while (*s == ' ')
                        s++;
                if (!*s)
                        break;
                while (isdigit((unsigned char)*s) && digits < 9) {
                        v = v * 10 + (uint64_t)(*s++ - '0');
                        digits++;
                }
                if (digits == 0 || isdigit((unsigned char)*s))
                        return -EINVAL;
                while (*s == ' ')
                        s++;
                u = s;
                while (isalpha((unsigned char)*s))
                        s++;
                if (unit_usec(u, (size_t)(s - u), &mult) < 0 ||
                    __builtin_mul_overflow(v, mult, &part) ||
                    __builtin_add_overflow(total, part, &total) || total > RELATIVE_MAX)
                        return -EINVAL;
                any = true;
        }
        if (!any || (minus && total > now))
                return -EINVAL;
        *ret = minus ? now - total : now + total;
        return 0;
}

/* Exactly n digits at s, as a number. */
static bool digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS[.frac]]][Z| UTC]". */
static int parse_absolute(const char *s, uint64_t *ret) {
        struct tm tm = {0}, check;
        int y, mo, d, h = 0, mi = 0, sec = 0;
        uint64_t frac = 0, scale = 100000;
        bool utc = false;
        time_t t;

        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d))
                return -EINVAL;
        s += 10;
        if ((*s == ' ' || *s == 'T') && isdigit((unsigned char)s[1])) {
                if (!digits(s + 1, 2, &h) || s[3] != ':' || !digits(s + 4, 2, &mi))
                        return -EINVAL;
                s += 6;
                if (*s == ':') {
                        if (!digits(s + 1, 2, &sec))
                                return -EINVAL;
                        s += 3;
                        if (*s == '.') {
                                s++;
                                if (!isdigit((unsigned char)*s))
                                        return -EINVAL;
                                for (; isdigit((unsigned char)*s); s++) {
                                        frac += (uint64_t)(*s - '0') * scale;
                                        scale /= 10;
                                        if (scale == 0 && isdigit((unsigned char)s[1]))
                                                return -EINVAL;
                                }
                        }
                }
        }
        if (STREQ(s, "Z") || STREQ(s, " UTC") || STREQ(s, "+00:00"))
                utc = true;
        else if (*s)
                return -EINVAL;
        if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
            sec > 60)
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec == 60 ? 59 : sec;
        tm.tm_isdst = -1;
        check = tm;
        t = utc ? timegm(&tm) : mktime(&tm);
        /* A day that does not exist (February 30) comes back normalised. */
        if (t < 0 || tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon)
                return -EINVAL;
        *ret = (uint64_t)t * USEC_PER_SEC + frac;
        return 0;
}

int logs_parse_time(const char *s, uint64_t now, uint64_t *ret) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > TIME_TEXT_MAX)
                return -EINVAL;
        if (STREQ(s, "now")) {
                *ret = now;
                return 0;
        }
        if (STREQ(s, "today"))
                return local_midnight(now, 0, ret);
        if (STREQ(s, "yesterday"))
                return local_midnight(now, -1, ret);
        if (STREQ(s, "tomorrow"))
                return local_midnight(now, 1, ret);
        if (s[0] == '-' || s[0] == '+')
                return parse_relative(s, now, ret);
        if (s[0] == '@') {
                uint64_t v;
                if (n > 12 || safe_atou64(s + 1, &v) < 0 || v > 253402300799ull)
                        return -EINVAL;
                *ret = v * USEC_PER_SEC;
                return 0;
        }
        return parse_absolute(s, ret);
}

/* ---- grep ---------------------------------------------------------------------- */

bool logs_grep_match(const char *needle, size_t needle_len, const char *message, size_t n,
                     char *buf) {
        if (needle_len == 0)
                return true;
        if (n < needle_len)
                return false;
        for (size_t i = 0; i < n; i++)
                buf[i] = (char)tolower((unsigned char)message[i]);
        return memmem(buf, n, needle, needle_len) != NULL;
}

/* ---- the whole query ------------------------------------------------------------- */

#define bad(err, field, ...) \
        (module_error_set(err, 400, "invalid_argument", field, __VA_ARGS__), -EINVAL)

static bool printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static int parse_boot(const char *v, struct logs_query *q, struct module_error *err) {
        size_t n = strlen(v);
        unsigned back;

        q->has_boot = true;
        if (n == 32) {
                for (size_t i = 0; i < 32; i++) {
                        if (!isxdigit((unsigned char)v[i]))
                                return bad(err, "boot", "boot: \"%.40s\" is not a boot id", v);
                        q->boot_id[i] = (char)tolower((unsigned char)v[i]);
                }
                q->boot_id[32] = '\0';
                q->boot_is_id = true;
                return 0;
        }
        if (STREQ(v, "0")) {
                q->boot_back = 0;
                return 0;
        }
        if (v[0] != '-' || n > 4 || safe_atou(v + 1, &back) < 0 || back == 0 ||
            back > LOGS_BOOTS_BACK_MAX || v[1] == '0')
                return bad(err, "boot",
                           "boot: \"%.40s\" is neither 0, -N (N up to 100) nor a boot id", v);
        q->boot_back = back;
        return 0;
}

static int parse_text(const char *v, const char *field, size_t max, char *dst,
                      struct module_error *err) {
        size_t n = strlen(v);

        if (n == 0 || n > max || !printable(v)) {
                module_error_set(err, 400, "invalid_argument", field,
                                 "%s: give printable text of 1 to %zu bytes", field, max);
                return -EINVAL;
        }
        memcpy(dst, v, n + 1);
        return 0;
}

static int parse_times(logs_param_fn get, void *opaque, uint64_t now, struct logs_query *q,
                       struct module_error *err) {
        const char *v;

        if ((v = get(opaque, "since"))) {
                if (logs_parse_time(v, now, &q->since) < 0)
                        return bad(err, "since",
                                   "since: \"%.64s\" is not a time (YYYY-MM-DD HH:MM:SS, -1h, "
                                   "today, yesterday, now, @EPOCH)",
                                   v);
                q->has_since = true;
        }
        if ((v = get(opaque, "until"))) {
                if (logs_parse_time(v, now, &q->until) < 0)
                        return bad(err, "until",
                                   "until: \"%.64s\" is not a time (YYYY-MM-DD HH:MM:SS, -1h, "
                                   "today, yesterday, now, @EPOCH)",
                                   v);
                q->has_until = true;
        }
        if (q->has_since && q->has_until && q->since > q->until)
                return bad(err, "until", "until%s is before since", "");
        return 0;
}

int logs_query_parse(logs_param_fn get, void *opaque, uint64_t now, struct logs_query *q,
                     struct module_error *err) {
        const char *v;
        int r;

        *q = (struct logs_query){.prio_max = -1, .limit = LOGS_LIMIT_DEFAULT};
        if ((v = get(opaque, "unit")) && logs_parse_unit(v, q->unit) < 0)
                return bad(err, "unit",
                           "unit: \"%.64s\" is not a unit name (letters, digits, :_.\\@-; "
                           "up to 256 bytes)",
                           v);
        if ((v = get(opaque, "priority")) && logs_parse_priority(v, &q->prio_min, &q->prio_max) < 0)
                return bad(err, "priority",
                           "priority: \"%.32s\" is not a level (emerg alert crit err warning "
                           "notice info debug, or 0-7) or a range LEVEL..LEVEL",
                           v);
        r = parse_times(get, opaque, now, q, err);
        if (r < 0)
                return r;
        if ((v = get(opaque, "boot")) && (r = parse_boot(v, q, err)) < 0)
                return r;
        if ((v = get(opaque, "identifier")) &&
            (r = parse_text(v, "identifier", LOGS_IDENTIFIER_MAX, q->identifier, err)) < 0)
                return r;
        if ((v = get(opaque, "grep"))) {
                if ((r = parse_text(v, "grep", LOGS_GREP_MAX, q->grep, err)) < 0)
                        return r;
                for (char *p = q->grep; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
        }
        if ((v = get(opaque, "limit")) &&
            (safe_atou(v, &q->limit) < 0 || q->limit < 1 || q->limit > LOGS_LIMIT_MAX))
                return bad(err, "limit", "limit: \"%.16s\" is not a number from 1 to 10000", v);
        if ((v = get(opaque, "cursor"))) {
                if (strlen(v) > LOGS_CURSOR_MAX || !*v || !printable(v) || strchr(v, ' '))
                        return bad(err, "cursor", "cursor: %snot a journal cursor", "");
                memcpy(q->cursor, v, strlen(v) + 1);
        }
        if ((v = get(opaque, "order"))) {
                if (!STREQ(v, "asc") && !STREQ(v, "desc"))
                        return bad(err, "order", "order: \"%.16s\" is neither asc nor desc", v);
                q->asc = STREQ(v, "asc");
        }
        return 0;
}
