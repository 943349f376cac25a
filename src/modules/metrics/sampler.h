/* sampler.h — the node_exporter-compatible part of a scrape.
 *
 * On each scrape the kernel's counters are read afresh through descriptors
 * opened once (sampler.c says why) and written as node_exporter 1.5 names
 * them, so that dashboards made for node_exporter work unchanged: cpu, stat,
 * meminfo, loadavg, netdev, diskstats, filesystem, filefd, sockstat,
 * netstat, time and uname, each reported in
 * node_scrape_collector_success{collector}.
 *
 * The collect_*() functions are the pure part: text of one /proc file in,
 * families out, nothing read past len; they parse through common/procfs.h.
 * On malformed text they return -EINVAL (or -ERANGE) and leave the output
 * as it was, so a bad source loses its own families and nothing else.  Only
 * out of memory or the output cap, kept in e->error, fails a whole scrape.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "modules/metrics/expo.h"

/* Opens the descriptors; a source that is absent (no IPv6: no sockstat6) is
 * left out.  sampler_collect() opens them itself when init was not run. */
int sampler_init(void);
void sampler_done(void);

/* Every node_* family of one scrape.  Serialised by the sampler's lock.
 * Returns e->error. */
int sampler_collect(struct expo *e);

/* ---- the pure collectors ----------------------------------------------- */

/* /proc/stat: cpu seconds (jiffies / hz), boot time, context switches,
 * interrupts, forks, running and blocked processes. */
int collect_stat(struct expo *e, const char *text, size_t len, unsigned long hz);
/* /proc/meminfo: every field; "kB" ones as node_memory_<Key>_bytes. */
int collect_meminfo(struct expo *e, const char *text, size_t len);
int collect_loadavg(struct expo *e, const char *text, size_t len);
int collect_netdev(struct expo *e, const char *text, size_t len);
/* /proc/diskstats, sectors of 512 bytes, without the devices node_exporter
 * leaves out by default (diskstats_device_excluded(), procfs.h). */
int collect_diskstats(struct expo *e, const char *text, size_t len);
/* /proc/sys/fs/file-nr */
int collect_filefd(struct expo *e, const char *text, size_t len);
/* /proc/net/sockstat and sockstat6: "PROTO: key value …" lines; "mem" is in
 * pages and also written as mem_bytes. */
int collect_sockstat(struct expo *e, const char *text, size_t len, unsigned long pagesize);
/* /proc/net/snmp and /proc/net/netstat (name line, value line pairs) and
 * /proc/net/snmp6 (name value lines), as node_netstat_<Proto>_<Field> for
 * the fields node_exporter keeps by default (netstat_field_wanted). */
int collect_netstat(struct expo *e, const char *text, size_t len);
int collect_snmp6(struct expo *e, const char *text, size_t len);
/* /proc/self/mountinfo, then statvfs() of each real file system (one per
 * mount point: the topmost).  statvfs() can hang on a dead network file
 * system, as df does; the scrape then waits with it. */
int collect_filesystems(struct expo *e, const char *text, size_t len);

/* node_exporter's default --collector.netstat.fields. */
bool netstat_field_wanted(const char *proto, const char *field);
