/* series.c — the series of series.h, and the last sample of them all
 * (set by the sampler's hook, read by whoever judges the present: the
 * alerts).  The latest values are one copy under a mutex. */
#include "series.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

const struct series_def series_defs[_HS_MAX] = {
        [HS_CPU_BUSY] = {"cpu.busy", "percent"},
        [HS_CPU_USER] = {"cpu.user", "percent"},
        [HS_CPU_SYSTEM] = {"cpu.system", "percent"},
        [HS_CPU_IOWAIT] = {"cpu.iowait", "percent"},
        [HS_MEM_USED] = {"mem.used", "bytes"},
        [HS_MEM_AVAILABLE] = {"mem.available", "bytes"},
        [HS_SWAP_USED] = {"swap.used", "bytes"},
        [HS_LOAD1] = {"load.1", "count"},
        [HS_NET_RX] = {"net.rx", "bytes_per_second"},
        [HS_NET_TX] = {"net.tx", "bytes_per_second"},
        [HS_DISK_READ] = {"disk.read", "bytes_per_second"},
        [HS_DISK_WRITE] = {"disk.write", "bytes_per_second"},
        [HS_PROCS_RUNNING] = {"procs.running", "count"},
};

const char *series_name(series_t s) {
        return (unsigned)s < _HS_MAX ? series_defs[s].name : NULL;
}

const char *series_unit(series_t s) {
        return (unsigned)s < _HS_MAX ? series_defs[s].unit : NULL;
}

static pthread_mutex_t latest_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t latest_t;
static double latest_values[_HS_MAX];

void series_set_latest(int64_t t, const double values[_HS_MAX]) {
        pthread_mutex_lock(&latest_lock);
        latest_t = t;
        memcpy(latest_values, values, sizeof latest_values);
        pthread_mutex_unlock(&latest_lock);
}

int64_t series_latest(double ret[_HS_MAX]) {
        int64_t t;

        pthread_mutex_lock(&latest_lock);
        t = latest_t;
        if (t == 0)
                for (size_t i = 0; i < _HS_MAX; i++)
                        ret[i] = NAN;
        else
                memcpy(ret, latest_values, sizeof latest_values);
        pthread_mutex_unlock(&latest_lock);
        return t;
}
