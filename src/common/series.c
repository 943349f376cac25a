/* series.c — the series of series.h. */
#include "series.h"

#include <stddef.h>

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
