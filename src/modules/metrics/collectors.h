/* collectors.h — node_exporter's default collectors beyond sampler.c's
 * first set: arp, conntrack, entropy, pressure, softnet, udp_queues,
 * vmstat, os, selinux, the time collector's zone and clock sources, disk
 * info, and netclass (/sys/class/net).
 *
 * As in sampler.h, the collect_*() functions are pure (text in, families
 * out, -EINVAL on malformed text with the output as it was), except
 * netclass_collect(), which reads sysfs itself, and the os collector's
 * text, read once by the sampler.  Families, HELP texts, types and labels
 * are node_exporter 1.5's.
 */
#pragma once

#include <stddef.h>

#include "modules/metrics/expo.h"
#include "procfs.h"

int collect_arp(struct expo *e, const char *text, size_t len);
int collect_conntrack_count(struct expo *e, const char *text, size_t len);
int collect_conntrack_max(struct expo *e, const char *text, size_t len);
int collect_conntrack_stat(struct expo *e, const char *text, size_t len);
int collect_entropy_avail(struct expo *e, const char *text, size_t len);
int collect_entropy_pool(struct expo *e, const char *text, size_t len);
int collect_psi_cpu(struct expo *e, const char *text, size_t len);
int collect_psi_io(struct expo *e, const char *text, size_t len);
int collect_psi_memory(struct expo *e, const char *text, size_t len);
int collect_softnet(struct expo *e, const char *text, size_t len);
/* node_exporter's default --collector.vmstat.fields,
 * ^(oom_kill|pgpg|pswp|pg.*fault).* */
int collect_vmstat(struct expo *e, const char *text, size_t len);
/* /proc/net/udp and udp6 (v6 NULL when absent). */
int collect_udp_queues(struct expo *e, const char *v4, size_t v4_len, const char *v6,
                       size_t v6_len);
/* /sys/devices/system/clocksource/clocksource0/{available,current}_clocksource */
int collect_clocksources(struct expo *e, const char *avail, size_t avail_len, const char *cur,
                         size_t cur_len);
/* node_time_zone_offset_seconds for the zone in effect now. */
int collect_time_zone(struct expo *e);
/* node_os_info and node_os_version from an os-release text. */
int collect_os(struct expo *e, const char *text, size_t len);
/* node_selinux_enabled (and the current mode when enabled): enforce is the
 * text of /sys/fs/selinux/enforce, NULL when selinuxfs is not mounted. */
int collect_selinux(struct expo *e, const char *enforce, size_t len);

/* node_disk_info for the devices of a diskstats text that node_exporter
 * lists; udev(major, minor, key, …) finds a udev property of the device
 * (a view valid until the next call), or fails. */
typedef int (*udev_lookup_fn)(unsigned major, unsigned minor, const char *key, const char **ret,
                              size_t *ret_len);
int collect_disk_info(struct expo *e, const char *text, size_t len, udev_lookup_fn udev);

/* /sys/class/net/<iface>/…: node_network_info, _up and the device
 * properties.  Serialised by the caller (the sampler's lock). */
int netclass_collect(struct expo *e);
/* Closes netclass's descriptors and drops what the sysfs collectors keep
 * (netclass's cache, dmi's values). */
void netclass_done(void);

/* /proc/schedstat: node_schedstat_{running,waiting}_seconds_total and
 * node_schedstat_timeslices_total per CPU. */
int collect_schedstat(struct expo *e, const char *text, size_t len);

/* sysfs collectors, relative to a descriptor of /sys (a test's fake tree):
 * cpufreq (devices/system/cpu/cpuN/cpufreq/: node_cpu_frequency_*_hertz
 * and node_cpu_scaling_frequency_*_hertz, where readable) and
 * thermal_zone (class/thermal/: node_thermal_zone_temp{zone,type},
 * node_cooling_device_{cur,max}_state{name,type}).  A host without the
 * directories has none of the families; that is no failure. */
int collect_cpufreq_at(struct expo *e, int sysfd);
int collect_thermal_at(struct expo *e, int sysfd);

/* Which CPUs, thermal zones, cooling devices and memory controllers (edac)
 * exist (and which CPUs have a cpufreq directory) changes only with
 * hardware, drivers and hotplug; the listings cost more than the values
 * read from them.  The _cached
 * collectors keep them in a sysfs_layout (the caller's, used under its
 * lock) and list again when they are SYSFS_RELIST_USEC old: a device that
 * appears is reported within that time, one that goes fails its reads and
 * is left out at once.  Every value is read at each call.  `now` in
 * microseconds of a monotonic clock. */
#define SYSFS_RELIST_USEC (60ULL * 1000000)
struct sysfs_list {
        uint64_t listed; /* when (now), 0: never */
        unsigned *v;     /* the entries' numbers, sorted */
        size_t n;
        bool *present;   /* cpus: cpuN/cpufreq exists (n of them) */
};
struct sysfs_layout {
        struct sysfs_list cpus, zones, cooling, mcs; /* mcs: edac's memory controllers */
};
void sysfs_list_free(struct sysfs_list *l);
void sysfs_layout_free(struct sysfs_layout *l);
int collect_cpufreq_cached(struct expo *e, int sysfd, struct sysfs_layout *layout, uint64_t now);
int collect_thermal_cached(struct expo *e, int sysfd, struct sysfs_layout *layout, uint64_t now);
int collect_edac_cached(struct expo *e, int sysfd, struct sysfs_layout *layout, uint64_t now);
/* dmi (class/dmi/id/): node_dmi_info with the fields present and readable
 * (serials and the UUID are root's: left out), read at the first call and
 * kept until netclass_done(); -ENODATA when the host has none, as
 * node_exporter fails it. */
int collect_dmi_at(struct expo *e, int sysfd);
/* hwmon (class/hwmon/): node_exporter 1.5's node_hwmon_* families;
 * -ENODATA without class/hwmon, as node_exporter fails it (hwmon.c). */
int collect_hwmon_at(struct expo *e, int sysfd);
/* edac (devices/system/edac/mc/mcN): node_edac_{,un}correctable_errors_total
 * {controller} and node_edac_csrow_{,un}correctable_errors_total{controller,
 * csrow} (csrow "unknown": the noinfo counts).  None without EDAC. */
int collect_edac_at(struct expo *e, int sysfd);
/* powersupplyclass (class/power_supply/NAME): node_power_supply_* with
 * node_exporter 1.5's names and scales, and node_power_supply_info;
 * -ENODATA without class/power_supply, as node_exporter fails it. */
int collect_power_supply_at(struct expo *e, int sysfd);
/* /proc/mdstat: node_md_{state,disks,disks_required,blocks,blocks_synced}
 * {device}, as node_exporter 1.5. */
int collect_mdadm(struct expo *e, const char *text, size_t len);
