/* clock.c — reading and describing adjtimex(2) (see clock.h).
 *
 * Units, from adjtimex(2): offset in µs, or ns with STA_NANO; maxerror and
 * esterror in µs; freq and tolerance in ppm with a 16-bit fraction
 * ("scaled ppm"); precision and tick in µs; constant is the PLL's time
 * constant (a power of two); tai in seconds.
 */
#include "modules/time/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int clock_read(struct clock_state *ret) {
        struct clock_state s = {.tx = {.modes = 0}};

        s.state = adjtimex(&s.tx);
        if (s.state < 0)
                return -errno;
        *ret = s;
        return 0;
}

bool clock_synchronised(const struct clock_state *s) {
        return !(s->tx.status & STA_UNSYNC) && s->state != TIME_ERROR;
}

/* "850 µs", "12 ms", "3 s", for an error bound in µs. */
static void format_us(long us, char *buf, size_t size) {
        if (us < 0)
                us = 0;
        if (us < 1000)
                (void)snprintf(buf, size, "%ld us", us);
        else if (us < 1000000)
                (void)snprintf(buf, size, "%ld ms", us / 1000);
        else
                (void)snprintf(buf, size, "%ld s", us / 1000000);
}

void clock_describe(const struct clock_state *s, char *buf, size_t size) {
        char est[32], max[32];

        format_us(s->tx.esterror, est, sizeof est);
        format_us(s->tx.maxerror, max, sizeof max);
        if (clock_synchronised(s))
                (void)snprintf(buf, size, "synchronised, estimated error %s (maximum %s)", est,
                               max);
        else
                (void)snprintf(buf, size, "not synchronised (maximum error %s)", max);
}

static long offset_us(const struct clock_state *s) {
        return s->tx.status & STA_NANO ? s->tx.offset / 1000 : s->tx.offset;
}

json_t *clock_summary_json(const struct clock_state *s) {
        char text[128];

        clock_describe(s, text, sizeof text);
        return json_pack("{s:b, s:I, s:I, s:I, s:s}", "synchronised", clock_synchronised(s),
                         "estimated_error_us", (json_int_t)s->tx.esterror, "maximum_error_us",
                         (json_int_t)s->tx.maxerror, "offset_us", (json_int_t)offset_us(s),
                         "summary", text);
}

static const struct {
        int bit;
        const char *name;
} status_bits[] = {
        {STA_PLL, "STA_PLL"},
        {STA_PPSFREQ, "STA_PPSFREQ"},
        {STA_PPSTIME, "STA_PPSTIME"},
        {STA_FLL, "STA_FLL"},
        {STA_INS, "STA_INS"},
        {STA_DEL, "STA_DEL"},
        {STA_UNSYNC, "STA_UNSYNC"},
        {STA_FREQHOLD, "STA_FREQHOLD"},
        {STA_PPSSIGNAL, "STA_PPSSIGNAL"},
        {STA_PPSJITTER, "STA_PPSJITTER"},
        {STA_PPSWANDER, "STA_PPSWANDER"},
        {STA_PPSERROR, "STA_PPSERROR"},
        {STA_CLOCKERR, "STA_CLOCKERR"},
        {STA_NANO, "STA_NANO"},
        {STA_MODE, "STA_MODE"},
        {STA_CLK, "STA_CLK"},
};

static const char *state_name(int state) {
        static const char *const names[] = {"TIME_OK",  "TIME_INS",  "TIME_DEL",
                                            "TIME_OOP", "TIME_WAIT", "TIME_ERROR"};
        return state >= 0 && state < (int)ELEMENTSOF(names) ? names[state] : "unknown";
}

static json_t *figure(double value, const char *unit) {
        return json_pack("{s:f, s:s}", "value", value, "unit", unit);
}

static json_t *whole(long value, const char *unit) {
        return json_pack("{s:I, s:s}", "value", (json_int_t)value, "unit", unit);
}

json_t *clock_raw_json(const struct clock_state *s) {
        const struct timex *t = &s->tx;
        json_t *flags = json_array();

        for (size_t i = 0; flags && i < ELEMENTSOF(status_bits); i++)
                if (t->status & status_bits[i].bit)
                        json_array_append_new(flags, json_string(status_bits[i].name));
        if (!flags)
                return NULL;
        return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "state",
                         state_name(s->state), "status", flags, "offset",
                         whole(t->offset, t->status & STA_NANO ? "ns" : "us"), "frequency",
                         figure((double)t->freq / 65536.0, "ppm"), "maxerror",
                         whole(t->maxerror, "us"), "esterror", whole(t->esterror, "us"), "constant",
                         whole(t->constant, "log2"), "precision", whole(t->precision, "us"),
                         "tolerance", figure((double)t->tolerance / 65536.0, "ppm"), "tick",
                         whole(t->tick, "us"), "tai", whole(t->tai, "s"));
}
