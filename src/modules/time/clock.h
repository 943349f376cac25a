/* clock.h — the kernel's clock discipline as adjtimex(2) reports it
 * (clock.c): whether the clock is synchronised, its error bounds and the
 * raw figures with their units.
 *
 * adjtimex() with no mode bit set only reads, and needs no privilege, but
 * the front's seccomp filter refuses the call outright (sandbox.c: it cannot
 * see into the struct to tell a read from a write), so the time module reads
 * the clock in the helper, through its privileged_read. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/timex.h>

struct clock_state {
        struct timex tx;
        int state; /* adjtimex's return: TIME_OK, TIME_INS, … TIME_ERROR */
};

int clock_read(struct clock_state *ret); /* -errno */
bool clock_synchronised(const struct clock_state *s);
/* "synchronised, estimated error 12 ms", "not synchronised (maximum error
 * 16 s)"… */
void clock_describe(const struct clock_state *s, char *buf, size_t size);
/* {"synchronised", "estimated_error_us", "maximum_error_us", "offset_us",
 *  "summary"}; NULL when out of memory. */
json_t *clock_summary_json(const struct clock_state *s);
/* Every figure of struct timex with its unit: {"state", "status": [flag
 * names], "offset": {"value", "unit"}, …}; NULL when out of memory. */
json_t *clock_raw_json(const struct clock_state *s);
