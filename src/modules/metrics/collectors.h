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
/* dmi (class/dmi/id/): node_dmi_info with the fields present and readable
 * (serials and the UUID are root's: left out), read at the first call and
 * kept until netclass_done(); -ENODATA when the host has none, as
 * node_exporter fails it. */
int collect_dmi_at(struct expo *e, int sysfd);
