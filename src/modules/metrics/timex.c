/* timex.c — node_exporter's timex collector: the kernel's clock discipline
 * from adjtimex(2), as node_timex_* families.
 *
 * adjtimex() with no mode bit set only reads, but the front's seccomp
 * filter refuses the call (it cannot tell a read from a write), so these
 * families are the metrics module's gauges (module.h): the helper answers
 * them at each scrape with the modules' other gauges.  Nothing is kept.
 */
#include "modules/metrics/timex.h"

#include <errno.h>
#include <sys/timex.h>

static json_t *family(const char *name, const char *type, const char *help, double v) {
        return json_pack("{s:s, s:s, s:s, s:[{s:f}]}", "name", name, "type", type, "help", help,
                         "samples", "value", v);
}

int timex_gauges(json_t **ret, struct module_error *err) {
        struct timex tx = {.modes = 0};
        int state = adjtimex(&tx);
        double unit = (tx.status & STA_NANO) ? 1e9 : 1e6; /* offset and jitter */
        json_t *fams;

        if (state < 0) {
                module_error_set(err, 500, "internal", NULL, "adjtimex failed: %m");
                return -errno;
        }
        fams = json_pack(
                "[o, o, o, o, o, o, o, o, o, o, o, o, o, o, o, o]",
                family("node_timex_offset_seconds", "gauge",
                       "Time offset in between local system and reference clock.",
                       (double)tx.offset / unit),
                family("node_timex_frequency_adjustment_ratio", "gauge",
                       "Local clock frequency adjustment.", 1 + (double)tx.freq / 65536 / 1e6),
                family("node_timex_maxerror_seconds", "gauge", "Maximum error in seconds.",
                       (double)tx.maxerror / 1e6),
                family("node_timex_estimated_error_seconds", "gauge", "Estimated error in seconds.",
                       (double)tx.esterror / 1e6),
                family("node_timex_status", "gauge", "Value of the status array bits.",
                       (double)tx.status),
                family("node_timex_loop_time_constant", "gauge", "Phase-locked loop time constant.",
                       (double)tx.constant),
                family("node_timex_tick_seconds", "gauge", "Seconds between clock ticks.",
                       (double)tx.tick / 1e6),
                family("node_timex_pps_frequency_hertz", "gauge", "Pulse per second frequency.",
                       (double)tx.ppsfreq / 65536),
                family("node_timex_pps_jitter_seconds", "gauge", "Pulse per second jitter.",
                       (double)tx.jitter / unit),
                family("node_timex_pps_shift_seconds", "gauge",
                       "Pulse per second interval duration.", (double)tx.shift),
                family("node_timex_pps_stability_hertz", "gauge",
                       "Pulse per second stability, average of recent frequency changes.",
                       (double)tx.stabil / 65536),
                family("node_timex_pps_jitter_total", "counter",
                       "Pulse per second count of jitter limit exceeded events.", (double)tx.jitcnt),
                family("node_timex_pps_calibration_total", "counter",
                       "Pulse per second count of calibration intervals.", (double)tx.calcnt),
                family("node_timex_pps_error_total", "counter",
                       "Pulse per second count of calibration errors.", (double)tx.errcnt),
                family("node_timex_pps_stability_exceeded_total", "counter",
                       "Pulse per second count of stability limit exceeded events.",
                       (double)tx.stbcnt),
                family("node_timex_tai_offset_seconds", "gauge",
                       "International Atomic Time (TAI) offset.", (double)tx.tai));
        if (fams)
                json_array_append_new(fams, family("node_timex_sync_status", "gauge",
                                                   "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
                                                   state != TIME_ERROR));
        *ret = fams ? json_pack("{s:o}", "families", fams) : NULL;
        if (!*ret) {
                module_error_set(err, 500, "internal", NULL, "out of memory");
                return -ENOMEM;
        }
        return 0;
}
