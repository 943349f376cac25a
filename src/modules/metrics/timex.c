/* timex.c — node_exporter's timex collector: the kernel's clock discipline
 * from adjtimex(2), as node_timex_* families, read in the front at each
 * scrape like the other collectors.
 *
 * adjtimex() with no mode bit set only reads.  The front's seccomp filter
 * cannot tell a read from a write (the mode is inside the structure the
 * argument points to, which a filter cannot read), so the filter lets
 * adjtimex through and the kernel makes the distinction: any mode bit needs
 * CAP_SYS_TIME, which the front, unprivileged and under no_new_privs, never
 * holds (sandbox.c).  The call here passes modes 0.  glibc's adjtimex()
 * is clock_adjtime(CLOCK_REALTIME), which the filter still denies, so the
 * system call is made by number.  Nothing is kept.
 */
#include "modules/metrics/timex.h"

#include <errno.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

static void one(struct expo *e, const char *name, const char *type, const char *help, double v) {
        expo_family(e, name, type, help);
        expo_sample(e, name);
        expo_double(e, v);
}

/* The families from one adjtimex() answer (state: its return value). */
void timex_families(struct expo *e, const struct timex *tx, int state) {
        double unit = (tx->status & STA_NANO) ? 1e9 : 1e6; /* offset and jitter */

        one(e, "node_timex_offset_seconds", "gauge",
            "Time offset in between local system and reference clock.", (double)tx->offset / unit);
        one(e, "node_timex_frequency_adjustment_ratio", "gauge", "Local clock frequency adjustment.",
            1 + (double)tx->freq / 65536 / 1e6);
        one(e, "node_timex_maxerror_seconds", "gauge", "Maximum error in seconds.",
            (double)tx->maxerror / 1e6);
        one(e, "node_timex_estimated_error_seconds", "gauge", "Estimated error in seconds.",
            (double)tx->esterror / 1e6);
        one(e, "node_timex_status", "gauge", "Value of the status array bits.", (double)tx->status);
        one(e, "node_timex_loop_time_constant", "gauge", "Phase-locked loop time constant.",
            (double)tx->constant);
        one(e, "node_timex_tick_seconds", "gauge", "Seconds between clock ticks.",
            (double)tx->tick / 1e6);
        one(e, "node_timex_pps_frequency_hertz", "gauge", "Pulse per second frequency.",
            (double)tx->ppsfreq / 65536);
        one(e, "node_timex_pps_jitter_seconds", "gauge", "Pulse per second jitter.",
            (double)tx->jitter / unit);
        one(e, "node_timex_pps_shift_seconds", "gauge", "Pulse per second interval duration.",
            (double)tx->shift);
        one(e, "node_timex_pps_stability_hertz", "gauge",
            "Pulse per second stability, average of recent frequency changes.",
            (double)tx->stabil / 65536);
        one(e, "node_timex_pps_jitter_total", "counter",
            "Pulse per second count of jitter limit exceeded events.", (double)tx->jitcnt);
        one(e, "node_timex_pps_calibration_total", "counter",
            "Pulse per second count of calibration intervals.", (double)tx->calcnt);
        one(e, "node_timex_pps_error_total", "counter",
            "Pulse per second count of calibration errors.", (double)tx->errcnt);
        one(e, "node_timex_pps_stability_exceeded_total", "counter",
            "Pulse per second count of stability limit exceeded events.", (double)tx->stbcnt);
        one(e, "node_timex_tai_offset_seconds", "gauge", "International Atomic Time (TAI) offset.",
            (double)tx->tai);
        one(e, "node_timex_sync_status", "gauge",
            "Is clock synchronized to a reliable server (1 = yes, 0 = no).", state != TIME_ERROR);
}

int timex_collect(struct expo *e) {
        struct timex tx = {.modes = 0};
        int state = (int)syscall(SYS_adjtimex, &tx);

        if (state < 0)
                return -errno;
        timex_families(e, &tx, state);
        return e->error;
}
