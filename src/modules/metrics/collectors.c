/* collectors.c — the node_exporter collectors of collectors.h.
 *
 * Pure collectors first (parsing through common/procfs.h), then netclass,
 * which reads the attribute files of /sys/class/net/<iface> at each scrape.
 *
 * netclass: opening a sysfs file costs several times reading it, and a
 * device has twenty-odd files, so for the first NETCLASS_CACHED devices
 * (by name) the files are kept open and read with pread() from offset 0,
 * and what cannot change while the device exists (ifindex, type, dev_id,
 * …) is read once.  The list of names is read at every scrape (from a
 * directory stream kept open); when it changed the cache is rebuilt.  A
 * kept descriptor belongs to one device (kernfs), so a device removed and
 * one created under its name fail the reads of the old descriptors
 * ("flags" is read first and always exists): the device is then opened
 * again, and never reported with another device's values.  Devices past
 * NETCLASS_CACHED are read file by file.  `nc` (the cache, the directory
 * stream, a read buffer) is used only under the sampler's lock.
 *
 * cpufreq, thermal_zone and edac: the listings of CPUs, zones, cooling
 * devices and memory controllers (and which CPUs have a cpufreq directory)
 * are the caller's
 * sysfs_layout, listed again every SYSFS_RELIST_USEC (collectors.h); the
 * values are read at every call.
 */
#include "modules/metrics/collectors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void single(struct expo *e, const char *name, const char *type, const char *help,
                   uint64_t v) {
        expo_family(e, name, type, help);
        expo_sample(e, name);
        expo_u64(e, v);
}

static uint64_t mul_sat_u64(uint64_t a, uint64_t b) {
        uint64_t v;
        return __builtin_mul_overflow(a, b, &v) ? UINT64_MAX : v;
}

/* A file holding one decimal number. */
static int one_number(const char *text, size_t len, uint64_t *ret) {
        tv_trim(&text, &len);
        while (len > 0 && text[len - 1] == '\n')
                len--;
        tv_trim(&text, &len);
        return tv_to_u64(text, len, ret);
}

/* ---- arp ------------------------------------------------------------------------ */

struct dev_count {
        char name[PROCFS_IFNAMSIZ];
        uint64_t n;
};

int collect_arp(struct expo *e, const char *text, size_t len) {
        struct dev_count devs[64];
        const char *p = text ? text : "", *end = p + len, *dev;
        size_t n = 0, dev_len;
        int r;

        if (!tv_starts(p, len, "IP address"))
                return -EINVAL;
        while ((r = arp_next(&p, end, &dev, &dev_len)) > 0) {
                size_t i;
                for (i = 0; i < n; i++)
                        if (tv_eq(dev, dev_len, devs[i].name))
                                break;
                if (i == n) {
                        if (n == ELEMENTSOF(devs))
                                return -E2BIG;
                        memcpy(devs[n].name, dev, dev_len);
                        devs[n].name[dev_len] = '\0';
                        devs[n++].n = 0;
                }
                devs[i].n++;
        }
        if (r < 0)
                return r;
        expo_family(e, "node_arp_entries", "gauge", "ARP entries by device");
        for (size_t i = 0; i < n; i++) {
                expo_sample(e, "node_arp_entries");
                expo_label(e, "device", devs[i].name);
                expo_u64(e, devs[i].n);
        }
        return 0;
}

/* ---- conntrack, entropy -------------------------------------------------------------- */

int collect_conntrack_count(struct expo *e, const char *text, size_t len) {
        uint64_t v;
        int r = one_number(text, len, &v);

        if (r < 0)
                return r;
        single(e, "node_nf_conntrack_entries", "gauge",
               "Number of currently allocated flow entries for connection tracking.", v);
        return 0;
}

int collect_conntrack_max(struct expo *e, const char *text, size_t len) {
        uint64_t v;
        int r = one_number(text, len, &v);

        if (r < 0)
                return r;
        single(e, "node_nf_conntrack_entries_limit", "gauge",
               "Maximum size of connection tracking table.", v);
        return 0;
}

int collect_conntrack_stat(struct expo *e, const char *text, size_t len) {
        static const struct {
                const char *col, *name, *help;
        } st[] = {
                {"drop", "node_nf_conntrack_stat_drop",
                 "Number of packets dropped due to conntrack failure."},
                {"early_drop", "node_nf_conntrack_stat_early_drop",
                 "Number of dropped conntrack entries to make room for new ones, if maximum table "
                 "size was reached."},
                {"found", "node_nf_conntrack_stat_found",
                 "Number of searched entries which were successful."},
                {"ignore", "node_nf_conntrack_stat_ignore",
                 "Number of packets seen which are already connected to a conntrack entry."},
                {"insert", "node_nf_conntrack_stat_insert",
                 "Number of entries inserted into the list."},
                {"insert_failed", "node_nf_conntrack_stat_insert_failed",
                 "Number of entries for which list insertion was attempted but failed."},
                {"invalid", "node_nf_conntrack_stat_invalid",
                 "Number of packets seen which can not be tracked."},
                {"search_restart", "node_nf_conntrack_stat_search_restart",
                 "Number of conntrack table lookups which had to be restarted due to hashtable "
                 "resizes."},
        };
        const char *names[ELEMENTSOF(st)];
        uint64_t sums[ELEMENTSOF(st)], found;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(st); i++)
                names[i] = st[i].col;
        r = net_stat_table_sum(text, len, names, ELEMENTSOF(st), sums, &found);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(st); i++)
                if (found & (UINT64_C(1) << i))
                        single(e, st[i].name, "gauge", st[i].help, sums[i]);
        return 0;
}

int collect_entropy_avail(struct expo *e, const char *text, size_t len) {
        uint64_t v;
        int r = one_number(text, len, &v);

        if (r < 0)
                return r;
        single(e, "node_entropy_available_bits", "gauge", "Bits of available entropy.", v);
        return 0;
}

int collect_entropy_pool(struct expo *e, const char *text, size_t len) {
        uint64_t v;
        int r = one_number(text, len, &v);

        if (r < 0)
                return r;
        single(e, "node_entropy_pool_size_bits", "gauge", "Bits of entropy pool.", v);
        return 0;
}

/* ---- pressure ---------------------------------------------------------------------- */

static int psi(struct expo *e, const char *text, size_t len, const char *some_name,
               const char *some_help, const char *full_name, const char *full_help) {
        struct psi v;
        int r = psi_parse(text, len, &v);

        if (r < 0)
                return r;
        expo_family(e, some_name, "counter", some_help);
        expo_sample(e, some_name);
        expo_ratio(e, v.some_total, 1000000);
        if (full_name && v.has_full) {
                expo_family(e, full_name, "counter", full_help);
                expo_sample(e, full_name);
                expo_ratio(e, v.full_total, 1000000);
        }
        return 0;
}

int collect_psi_cpu(struct expo *e, const char *text, size_t len) {
        return psi(e, text, len, "node_pressure_cpu_waiting_seconds_total",
                   "Total time in seconds that processes have waited for CPU time", NULL, NULL);
}

int collect_psi_io(struct expo *e, const char *text, size_t len) {
        return psi(e, text, len, "node_pressure_io_waiting_seconds_total",
                   "Total time in seconds that processes have waited due to IO congestion",
                   "node_pressure_io_stalled_seconds_total",
                   "Total time in seconds no process could make progress due to IO congestion");
}

int collect_psi_memory(struct expo *e, const char *text, size_t len) {
        return psi(e, text, len, "node_pressure_memory_waiting_seconds_total",
                   "Total time in seconds that processes have waited for memory",
                   "node_pressure_memory_stalled_seconds_total",
                   "Total time in seconds no process could make progress due to memory congestion");
}

/* ---- softnet, vmstat, udp_queues ------------------------------------------------------ */

#define SOFTNET_MAX_CPUS PROCFS_MAX_CPUS

int collect_softnet(struct expo *e, const char *text, size_t len) {
        static const struct {
                const char *name, *help;
        } fams[] = {
                {"node_softnet_dropped_total", "Number of dropped packets"},
                {"node_softnet_processed_total", "Number of processed packets"},
                {"node_softnet_times_squeezed_total",
                 "Number of times processing packets ran out of quota"},
        };
        const char *end = (text ? text : "") + len, *p = text ? text : "";
        struct softnet_row row;
        unsigned cpus = 0;
        int r;

        /* Checked whole first, so that a bad line leaves nothing written. */
        if (tv_has_nul(text, len))
                return -EINVAL;
        while ((r = softnet_next(&p, end, &row)) > 0)
                if (++cpus > SOFTNET_MAX_CPUS)
                        return -E2BIG;
        if (r < 0)
                return r;
        for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
                unsigned cpu = 0;

                p = text ? text : "";
                expo_family(e, fams[f].name, "counter", fams[f].help);
                while (softnet_next(&p, end, &row) > 0) {
                        char id[16];
                        snprintf(id, sizeof id, "%u", cpu++);
                        expo_sample(e, fams[f].name);
                        expo_label(e, "cpu", id);
                        expo_u64(e, f == 0 ? row.dropped : f == 1 ? row.processed : row.squeezed);
                }
        }
        return 0;
}

static bool vmstat_wanted(const char *k, size_t n) {
        if (tv_starts(k, n, "oom_kill") || tv_starts(k, n, "pgpg") || tv_starts(k, n, "pswp"))
                return true;
        if (!tv_starts(k, n, "pg"))
                return false;
        for (size_t i = 2; i + 5 <= n; i++)
                if (memcmp(k + i, "fault", 5) == 0)
                        return true;
        return false;
}

int collect_vmstat(struct expo *e, const char *text, size_t len) {
        const char *p = text ? text : "", *end = p + len, *key;
        size_t key_len;
        uint64_t v;
        int r;

        /* Checked whole first, so that a bad line leaves nothing written. */
        while ((r = kv_line_next(&p, end, &key, &key_len, &v)) > 0)
                ;
        if (r < 0)
                return r;
        for (p = text ? text : ""; kv_line_next(&p, end, &key, &key_len, &v) > 0;) {
                char comp[96], name[128], help[160];

                if (!vmstat_wanted(key, key_len) || expo_name_component(key, key_len, comp, sizeof comp) < 0)
                        continue;
                snprintf(name, sizeof name, "node_vmstat_%s", comp);
                snprintf(help, sizeof help, "/proc/vmstat information field %s.", comp);
                expo_family(e, name, "untyped", help);
                expo_sample(e, name);
                expo_u64(e, v);
        }
        return 0;
}

int collect_udp_queues(struct expo *e, const char *v4, size_t v4_len, const char *v6,
                       size_t v6_len) {
        uint64_t tx4, rx4, tx6 = 0, rx6 = 0;
        int r;

        r = udp_queues_parse(v4, v4_len, &tx4, &rx4);
        if (r >= 0 && v6)
                r = udp_queues_parse(v6, v6_len, &tx6, &rx6);
        if (r < 0)
                return r;
        expo_family(e, "node_udp_queues", "gauge",
                    "Number of allocated memory in the kernel for UDP datagrams in bytes.");
        for (int six = 0; six <= (v6 ? 1 : 0); six++)
                for (int rx = 0; rx <= 1; rx++) {
                        expo_sample(e, "node_udp_queues");
                        expo_label(e, "ip", six ? "v6" : "v4");
                        expo_label(e, "queue", rx ? "rx" : "tx");
                        expo_u64(e, six ? (rx ? rx6 : tx6) : (rx ? rx4 : tx4));
                }
        return 0;
}

/* ---- schedstat ----------------------------------------------------------------------- */

int collect_schedstat(struct expo *e, const char *text, size_t len) {
        static const struct {
                const char *name, *help;
        } fams[] = {
                {"node_schedstat_running_seconds_total",
                 "Number of seconds CPU spent running a process."},
                {"node_schedstat_timeslices_total", "Number of timeslices executed by CPU."},
                {"node_schedstat_waiting_seconds_total",
                 "Number of seconds spent by processing waiting for this CPU."},
        };
        const char *end = (text ? text : "") + len, *p = text ? text : "";
        struct schedstat_cpu c;
        size_t n = 0;
        int r;

        /* Checked whole first, so that a bad line leaves nothing written. */
        while ((r = schedstat_next(&p, end, &c)) > 0)
                if (++n > PROCFS_MAX_CPUS)
                        return -E2BIG;
        if (r < 0)
                return r;
        for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
                expo_family(e, fams[f].name, "counter", fams[f].help);
                for (p = text ? text : ""; schedstat_next(&p, end, &c) > 0;) {
                        char id[16];
                        snprintf(id, sizeof id, "%u", c.cpu);
                        expo_sample(e, fams[f].name);
                        expo_label(e, "cpu", id);
                        if (f == 1)
                                expo_u64(e, c.timeslices);
                        else
                                expo_ratio(e, f == 0 ? c.running_ns : c.waiting_ns, 1000000000u);
                }
        }
        return 0;
}

/* ---- time, os, selinux -------------------------------------------------------------- */

int collect_clocksources(struct expo *e, const char *avail, size_t avail_len, const char *cur,
                         size_t cur_len) {
        const char *p = avail ? avail : "", *end = p + avail_len, *tok;
        size_t tok_len;

        if (tv_has_nul(avail, avail_len) || tv_has_nul(cur, cur_len))
                return -EINVAL;
        tv_trim(&cur, &cur_len);
        while (cur_len > 0 && cur[cur_len - 1] == '\n')
                cur_len--;
        if (cur_len == 0 || memchr(cur, ' ', cur_len))
                return -EINVAL;
        expo_family(e, "node_time_clocksource_available_info", "gauge",
                    "Available clocksources read from '/sys/devices/system/clocksource'.");
        while (tv_next_token(&p, end, &tok, &tok_len)) {
                while (tok_len > 0 && tok[tok_len - 1] == '\n')
                        tok_len--;
                if (tok_len == 0)
                        continue;
                expo_sample(e, "node_time_clocksource_available_info");
                expo_label_n(e, "clocksource", tok, tok_len);
                expo_label(e, "device", "0");
                expo_u64(e, 1);
        }
        expo_family(e, "node_time_clocksource_current_info", "gauge",
                    "Current clocksource read from '/sys/devices/system/clocksource'.");
        expo_sample(e, "node_time_clocksource_current_info");
        expo_label_n(e, "clocksource", cur, cur_len);
        expo_label(e, "device", "0");
        expo_u64(e, 1);
        return 0;
}

int collect_time_zone(struct expo *e) {
        time_t now = time(NULL);
        struct tm tm;

        if (!localtime_r(&now, &tm))
                return -EINVAL;
        expo_family(e, "node_time_zone_offset_seconds", "gauge", "System time zone offset in seconds.");
        expo_sample(e, "node_time_zone_offset_seconds");
        expo_label(e, "time_zone", tm.tm_zone ? tm.tm_zone : "");
        expo_i64(e, tm.tm_gmtoff);
        return 0;
}

/* VERSION_ID's major.minor as a number ("12" 12, "22.04.3" 22.04); 0 when
 * it starts with no digit. */
static double os_version(const char *v) {
        char b[32];
        size_t n = 0;
        bool dot = false;

        for (; v && *v && n + 1 < sizeof b; v++) {
                if (*v == '.' && !dot && n > 0) {
                        dot = true;
                } else if (*v < '0' || *v > '9')
                        break;
                b[n++] = *v;
        }
        if (n > 0 && b[n - 1] == '.')
                n--;
        b[n] = '\0';
        return n ? strtod(b, NULL) : 0;
}

#define OR_EMPTY(s) ((s) ? (s) : "")

int collect_os(struct expo *e, const char *text, size_t len) {
        struct os_release o = {};
        int r = os_release_parse(text, len, &o);

        if (r < 0)
                return r;
        expo_family(e, "node_os_info", "gauge",
                    "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
                    "image_version, name, pretty_name, variant, variant_id, version, "
                    "version_codename, version_id.");
        expo_sample(e, "node_os_info");
        expo_label(e, "build_id", OR_EMPTY(o.build_id));
        expo_label(e, "id", OR_EMPTY(o.id));
        expo_label(e, "id_like", OR_EMPTY(o.id_like));
        expo_label(e, "image_id", OR_EMPTY(o.image_id));
        expo_label(e, "image_version", OR_EMPTY(o.image_version));
        expo_label(e, "name", OR_EMPTY(o.name));
        expo_label(e, "pretty_name", OR_EMPTY(o.pretty_name));
        expo_label(e, "variant", OR_EMPTY(o.variant));
        expo_label(e, "variant_id", OR_EMPTY(o.variant_id));
        expo_label(e, "version", OR_EMPTY(o.version));
        expo_label(e, "version_codename", OR_EMPTY(o.version_codename));
        expo_label(e, "version_id", OR_EMPTY(o.version_id));
        expo_u64(e, 1);
        expo_family(e, "node_os_version", "gauge",
                    "Metric containing the major.minor part of the OS version.");
        expo_sample(e, "node_os_version");
        expo_label(e, "id", OR_EMPTY(o.id));
        expo_label(e, "id_like", OR_EMPTY(o.id_like));
        expo_label(e, "name", OR_EMPTY(o.name));
        expo_double(e, os_version(o.version_id));
        os_release_done(&o);
        return 0;
}

int collect_selinux(struct expo *e, const char *enforce, size_t len) {
        uint64_t mode;

        if (!enforce) {
                single(e, "node_selinux_enabled", "gauge", "SELinux is enabled, 1 is true, 0 is false",
                       0);
                return 0;
        }
        if (one_number(enforce, len, &mode) < 0 || mode > 1)
                return -EINVAL;
        single(e, "node_selinux_enabled", "gauge", "SELinux is enabled, 1 is true, 0 is false", 1);
        single(e, "node_selinux_current_mode", "gauge",
               "Current SELinux enforcement mode, 1 is enforcing, 0 is permissive", mode);
        return 0;
}

/* ---- disk info ------------------------------------------------------------------------ */

int collect_disk_info(struct expo *e, const char *text, size_t len, udev_lookup_fn udev) {
        static const struct {
                const char *label, *key;
        } props[] = {
                {"model", "ID_MODEL"},     {"path", "ID_PATH"}, {"revision", "ID_REVISION"},
                {"serial", "ID_SERIAL_SHORT"}, {"wwn", "ID_WWN"},
        };
        struct diskstat *d = NULL;
        size_t n = 0;
        int r;

        r = diskstats_parse(text, len, &d, &n);
        if (r < 0)
                return r;
        expo_family(e, "node_disk_info", "gauge", "Info of /sys/block/<block_device>.");
        for (size_t i = 0; i < n; i++) {
                char maj[16], min[16];

                if (diskstats_device_excluded(d[i].name, strlen(d[i].name)))
                        continue;
                snprintf(maj, sizeof maj, "%u", d[i].major);
                snprintf(min, sizeof min, "%u", d[i].minor);
                expo_sample(e, "node_disk_info");
                expo_label(e, "device", d[i].name);
                expo_label(e, "major", maj);
                expo_label(e, "minor", min);
                for (size_t k = 0; k < ELEMENTSOF(props); k++) {
                        const char *v = "";
                        size_t vl = 0;
                        if (!udev || udev(d[i].major, d[i].minor, props[k].key, &v, &vl) < 0)
                                v = "", vl = 0;
                        expo_label_n(e, props[k].label, v, vl);
                }
                expo_u64(e, 1);
        }
        free(d);
        return 0;
}

/* ---- netclass -------------------------------------------------------------------------- */

#define NETCLASS_MAX_IFACES 1024
#define NETCLASS_ATTR_MAX   4096 /* bytes of one attribute file */

enum {
        NC_ADDR_ASSIGN,
        NC_CARRIER,
        NC_CARRIER_CHANGES,
        NC_CARRIER_DOWN,
        NC_CARRIER_UP,
        NC_DEV_ID,
        NC_DORMANT,
        NC_FLAGS,
        NC_IFINDEX,
        NC_IFLINK,
        NC_LINK_MODE,
        NC_MTU,
        NC_NAME_ASSIGN,
        NC_GROUP,
        NC_TYPE,
        NC_NOHANDLER,
        NC_SPEED,
        NC_TXQLEN,
        _NC_MAX,
};

static const struct {
        const char *file, *name, *help;
        bool counter;
} nc_attrs[_NC_MAX] = {
        [NC_ADDR_ASSIGN] = {"addr_assign_type", "node_network_address_assign_type",
                            "Network device property: address_assign_type"},
        [NC_CARRIER] = {"carrier", "node_network_carrier", "Network device property: carrier"},
        [NC_CARRIER_CHANGES] = {"carrier_changes", "node_network_carrier_changes_total",
                                "Network device property: carrier_changes_total", true},
        [NC_CARRIER_DOWN] = {"carrier_down_count", "node_network_carrier_down_changes_total",
                             "Network device property: carrier_down_changes_total", true},
        [NC_CARRIER_UP] = {"carrier_up_count", "node_network_carrier_up_changes_total",
                           "Network device property: carrier_up_changes_total", true},
        [NC_DEV_ID] = {"dev_id", "node_network_device_id", "Network device property: device_id"},
        [NC_DORMANT] = {"dormant", "node_network_dormant", "Network device property: dormant"},
        [NC_FLAGS] = {"flags", "node_network_flags", "Network device property: flags"},
        [NC_IFINDEX] = {"ifindex", "node_network_iface_id", "Network device property: iface_id"},
        [NC_IFLINK] = {"iflink", "node_network_iface_link", "Network device property: iface_link"},
        [NC_LINK_MODE] = {"link_mode", "node_network_iface_link_mode",
                          "Network device property: iface_link_mode"},
        [NC_MTU] = {"mtu", "node_network_mtu_bytes", "Network device property: mtu_bytes"},
        [NC_NAME_ASSIGN] = {"name_assign_type", "node_network_name_assign_type",
                            "Network device property: name_assign_type"},
        [NC_GROUP] = {"netdev_group", "node_network_net_dev_group",
                      "Network device property: net_dev_group"},
        [NC_TYPE] = {"type", "node_network_protocol_type", "Network device property: protocol_type"},
        [NC_NOHANDLER] = {"statistics/rx_nohandler", "node_network_receive_nohandler_total",
                          "Network device statistic receive_nohandler.", true},
        [NC_SPEED] = {"speed", "node_network_speed_bytes", "Network device property: speed_bytes"},
        [NC_TXQLEN] = {"tx_queue_len", "node_network_transmit_queue_length",
                       "Network device property: transmit_queue_length"},
};

enum { NI_ADDRESS, NI_BROADCAST, NI_DUPLEX, NI_IFALIAS, NI_OPERSTATE, _NI_MAX };
static const char *const ni_files[_NI_MAX] = {"address", "broadcast", "duplex", "ifalias",
                                              "operstate"};

/* What does not change while the device exists: read once per device. */
#define NC_STATIC_MASK                                                                              \
        ((1u << NC_ADDR_ASSIGN) | (1u << NC_DEV_ID) | (1u << NC_IFINDEX) | (1u << NC_IFLINK) |     \
         (1u << NC_NAME_ASSIGN) | (1u << NC_TYPE))
#define NI_STATIC_MASK (1u << NI_BROADCAST)

struct nc_iface {
        char name[NAME_MAX + 1];
        int64_t v[_NC_MAX];
        uint32_t have; /* bit per NC_ */
        char info[_NI_MAX][128];
};

/* One device whose attribute files are kept open (NETCLASS_CACHED of
 * them at most): the static values and a descriptor per other file (-1:
 * the file could not be opened, e.g. "speed" of a virtual device). */
#define NETCLASS_CACHED 16
struct nc_cached {
        struct nc_iface st; /* name, static values */
        int fd[_NC_MAX], info_fd[_NI_MAX];
};

static struct {
        struct procfs_buf buf;
        DIR *dir; /* /sys/class/net, kept open, rewound at each scrape */
        struct nc_cached c[NETCLASS_CACHED];
        size_t n_cached;
} nc;

static void nc_cached_close(struct nc_cached *c) {
        for (size_t a = 0; a < _NC_MAX; a++)
                if (c->fd[a] >= 0)
                        close(c->fd[a]);
        for (size_t i = 0; i < _NI_MAX; i++)
                if (c->info_fd[i] >= 0)
                        close(c->info_fd[i]);
        *c = (struct nc_cached){0};
}

static void dmi_free(void);

void netclass_done(void) {
        dmi_free();
        for (size_t i = 0; i < nc.n_cached; i++)
                nc_cached_close(&nc.c[i]);
        nc.n_cached = 0;
        if (nc.dir)
                closedir(nc.dir);
        nc.dir = NULL;
        procfs_buf_free(&nc.buf);
}

/* Takes the final newline (and blanks) off an attribute's text. */
static void nc_trim(const char **t, size_t *n) {
        while (*n > 0 && ((*t)[*n - 1] == '\n' || (*t)[*n - 1] == ' '))
                (*n)--;
}

/* An attribute's text; -errno when unreadable. */
static int nc_read(int dirfd, const char *file, const char **ret, size_t *ret_len) {
        int r = procfs_read_at(dirfd, file, NETCLASS_ATTR_MAX, &nc.buf, ret, ret_len);

        if (r < 0)
                return r;
        nc_trim(ret, ret_len);
        return 0;
}

/* An attribute through its kept descriptor, into b (size bytes). */
static int nc_pread(int fd, char *b, size_t size, const char **ret, size_t *ret_len) {
        ssize_t k;

        if (fd < 0)
                return -EBADF;
        k = pread(fd, b, size, 0);
        if (k < 0)
                return -errno;
        *ret = b;
        *ret_len = (size_t)k;
        nc_trim(ret, ret_len);
        return 0;
}

/* A number as sysfs prints one: decimal, possibly negative, or 0x hex. */
static int nc_number(const char *s, size_t n, int64_t *ret) {
        uint64_t u;

        if (n > 2 && s[0] == '0' && s[1] == 'x') {
                if (tv_to_hex_u64(s + 2, n - 2, &u) < 0 || u > INT64_MAX)
                        return -EINVAL;
                *ret = (int64_t)u;
                return 0;
        }
        return tv_to_i64(s, n, ret);
}

static void nc_set_info(struct nc_iface *it, size_t i, const char *t, size_t n) {
        if (!memchr(t, '\0', n))
                snprintf(it->info[i], sizeof it->info[i], "%.*s", (int)n, t);
}

/* Every attribute of one device, each opened, read and closed. */
static void nc_read_iface(int netfd, struct nc_iface *it) {
        _cleanup_close_ int fd = openat(netfd, it->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const char *t;
        size_t n;

        if (fd < 0)
                return;
        for (size_t a = 0; a < _NC_MAX; a++)
                if (nc_read(fd, nc_attrs[a].file, &t, &n) >= 0 && nc_number(t, n, &it->v[a]) >= 0)
                        it->have |= 1u << a;
        for (size_t i = 0; i < _NI_MAX; i++)
                if (nc_read(fd, ni_files[i], &t, &n) >= 0)
                        nc_set_info(it, i, t, n);
}

/* Opens a device for the cache: its static values read, the other files
 * kept open.  False when the device is gone. */
static bool nc_cache_open(int netfd, struct nc_cached *c, const char *name) {
        _cleanup_close_ int fd = openat(netfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const char *t;
        size_t n;

        *c = (struct nc_cached){0};
        for (size_t a = 0; a < _NC_MAX; a++)
                c->fd[a] = -1;
        for (size_t i = 0; i < _NI_MAX; i++)
                c->info_fd[i] = -1;
        snprintf(c->st.name, sizeof c->st.name, "%s", name);
        if (fd < 0)
                return false;
        for (size_t a = 0; a < _NC_MAX; a++) {
                if (!(NC_STATIC_MASK & (1u << a))) {
                        c->fd[a] = openat(fd, nc_attrs[a].file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        continue;
                }
                if (nc_read(fd, nc_attrs[a].file, &t, &n) >= 0 && nc_number(t, n, &c->st.v[a]) >= 0)
                        c->st.have |= 1u << a;
        }
        for (size_t i = 0; i < _NI_MAX; i++) {
                if (!(NI_STATIC_MASK & (1u << i))) {
                        c->info_fd[i] = openat(fd, ni_files[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        continue;
                }
                if (nc_read(fd, ni_files[i], &t, &n) >= 0)
                        nc_set_info(&c->st, i, t, n);
        }
        return c->fd[NC_FLAGS] >= 0;
}

/* The values of a cached device now; false when its files fail (the
 * device is gone, or another took its name): the caller opens it again. */
static bool nc_cache_read(struct nc_cached *c, struct nc_iface *it) {
        char b[512];
        const char *t;
        size_t n;

        *it = c->st;
        if (nc_pread(c->fd[NC_FLAGS], b, sizeof b, &t, &n) < 0)
                return false;
        for (size_t a = 0; a < _NC_MAX; a++)
                if (!(NC_STATIC_MASK & (1u << a)) && nc_pread(c->fd[a], b, sizeof b, &t, &n) >= 0 &&
                    nc_number(t, n, &it->v[a]) >= 0)
                        it->have |= 1u << a;
        for (size_t i = 0; i < _NI_MAX; i++)
                if (!(NI_STATIC_MASK & (1u << i)) && nc_pread(c->info_fd[i], b, sizeof b, &t, &n) >= 0)
                        nc_set_info(it, i, t, n);
        return true;
}

static int nc_cmp(const void *a, const void *b) {
        return strcmp(((const struct nc_iface *)a)->name, ((const struct nc_iface *)b)->name);
}

/* The devices' names, sorted, from the kept directory stream. */
static int nc_list(struct nc_iface **ret, size_t *ret_n) {
        struct nc_iface *v = NULL;
        struct dirent *de;
        size_t n = 0, cap = 0;

        if (!nc.dir && !(nc.dir = opendir("/sys/class/net")))
                return -errno;
        rewinddir(nc.dir);
        while ((de = readdir(nc.dir))) {
                if (de->d_name[0] == '.' || n >= NETCLASS_MAX_IFACES)
                        continue;
                if (n == cap) {
                        void *p = reallocarray(v, cap ? cap * 2 : 8, sizeof *v);
                        if (!p) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = p;
                        cap = cap ? cap * 2 : 8;
                }
                v[n] = (struct nc_iface){0};
                snprintf(v[n].name, sizeof v[n].name, "%s", de->d_name);
                n++;
        }
        qsort(v, n, sizeof *v, nc_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The values of every device: the first NETCLASS_CACHED through the
 * cache (rebuilt when the list of names changed), the others file by file. */
static void nc_read_all(struct nc_iface *v, size_t n) {
        int netfd = dirfd(nc.dir);
        size_t k = n < NETCLASS_CACHED ? n : NETCLASS_CACHED;
        bool same = k == nc.n_cached;

        for (size_t i = 0; same && i < k; i++)
                same = STREQ(nc.c[i].st.name, v[i].name);
        if (!same) {
                for (size_t i = 0; i < nc.n_cached; i++)
                        nc_cached_close(&nc.c[i]);
                for (size_t i = 0; i < k; i++)
                        (void)nc_cache_open(netfd, &nc.c[i], v[i].name);
                nc.n_cached = k;
        }
        for (size_t i = 0; i < k; i++) {
                if (nc_cache_read(&nc.c[i], &v[i]))
                        continue;
                nc_cached_close(&nc.c[i]);
                if (nc_cache_open(netfd, &nc.c[i], v[i].name) && nc_cache_read(&nc.c[i], &v[i]))
                        continue;
                v[i] = (struct nc_iface){0}; /* gone meanwhile: left out */
        }
        for (size_t i = k; i < n; i++)
                nc_read_iface(netfd, &v[i]);
        for (size_t i = 0; i < n; i++)
                if (v[i].have & (1u << NC_SPEED))
                        v[i].v[NC_SPEED] *= 125000; /* Mbit/s to bytes/s, as node_exporter */
}

int netclass_collect(struct expo *e) {
        _cleanup_free_ struct nc_iface *v = NULL;
        size_t n = 0;
        int r;

        r = nc_list(&v, &n);
        if (r < 0)
                return r;
        nc_read_all(v, n);
        for (size_t a = 0; a < _NC_MAX; a++) {
                bool any = false;
                for (size_t i = 0; i < n; i++) {
                        if (!(v[i].have & (1u << a)) || !v[i].name[0])
                                continue;
                        if (!any)
                                expo_family(e, nc_attrs[a].name, nc_attrs[a].counter ? "counter" : "gauge",
                                            nc_attrs[a].help);
                        any = true;
                        expo_sample(e, nc_attrs[a].name);
                        expo_label(e, "device", v[i].name);
                        expo_i64(e, v[i].v[a]);
                }
        }
        expo_family(e, "node_network_info", "gauge",
                    "Non-numeric data from /sys/class/net/<iface>, value is always 1.");
        for (size_t i = 0; i < n; i++) {
                if (!v[i].name[0])
                        continue;
                expo_sample(e, "node_network_info");
                expo_label(e, "address", v[i].info[NI_ADDRESS]);
                expo_label(e, "broadcast", v[i].info[NI_BROADCAST]);
                expo_label(e, "device", v[i].name);
                expo_label(e, "duplex", v[i].info[NI_DUPLEX]);
                expo_label(e, "ifalias", v[i].info[NI_IFALIAS]);
                expo_label(e, "operstate", v[i].info[NI_OPERSTATE]);
                expo_u64(e, 1);
        }
        expo_family(e, "node_network_up", "gauge", "Value is 1 if operstate is 'up', 0 otherwise.");
        for (size_t i = 0; i < n; i++) {
                if (!v[i].name[0])
                        continue;
                expo_sample(e, "node_network_up");
                expo_label(e, "device", v[i].name);
                expo_u64(e, STREQ(v[i].info[NI_OPERSTATE], "up"));
        }
        return 0;
}

/* ---- sysfs: cpufreq, thermal_zone --------------------------------------------------- */

#define SYSFS_MAX_ENTRIES 4096 /* CPUs, zones or cooling devices */

/* The numbers N of the entries "<prefix>N" of a directory, sorted; an
 * absent directory is an empty list. */
static int numbered_entries(int sysfd, const char *dir, const char *prefix, unsigned **ret,
                            size_t *ret_n) {
        int fd = openat(sysfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t l = strlen(prefix), n = 0, cap = 0;
        unsigned *v = NULL;
        struct dirent *de;
        DIR *d;

        *ret = NULL;
        *ret_n = 0;
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                unsigned k;
                if (strncmp(de->d_name, prefix, l) != 0 ||
                    tv_to_unsigned(de->d_name + l, strlen(de->d_name + l), &k) < 0 ||
                    n >= SYSFS_MAX_ENTRIES)
                        continue;
                if (n == cap) {
                        void *p = reallocarray(v, cap ? cap * 2 : 16, sizeof *v);
                        if (!p) {
                                free(v);
                                closedir(d);
                                return -ENOMEM;
                        }
                        v = p;
                        cap = cap ? cap * 2 : 16;
                }
                v[n++] = k;
        }
        closedir(d);
        for (size_t i = 1; i < n; i++) /* insertion sort: short lists */
                for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
                        unsigned t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* A listing: kept in `cache` (when given) and used again until it is
 * SYSFS_RELIST_USEC old, else listed into `tmp` (the caller frees it).
 * *ret_fresh says whether it was listed now. */
static int listing(int sysfd, struct sysfs_list *cache, struct sysfs_list *tmp, uint64_t now,
                   const char *dir, const char *prefix, const struct sysfs_list **ret,
                   bool *ret_fresh) {
        struct sysfs_list *l = cache ? cache : tmp;
        int r;

        if (cache && cache->listed && now >= cache->listed && now - cache->listed < SYSFS_RELIST_USEC) {
                *ret = cache;
                *ret_fresh = false;
                return 0;
        }
        sysfs_list_free(l);
        r = numbered_entries(sysfd, dir, prefix, &l->v, &l->n);
        if (r >= 0 && l->n > 0 && !(l->present = calloc(l->n, sizeof *l->present)))
                r = -ENOMEM;
        if (r < 0) {
                sysfs_list_free(l);
                return r;
        }
        l->listed = now ? now : 1;
        *ret = l;
        *ret_fresh = true;
        return 0;
}

void sysfs_list_free(struct sysfs_list *l) {
        free(l->v);
        free(l->present);
        *l = (struct sysfs_list){0};
}

void sysfs_layout_free(struct sysfs_layout *l) {
        sysfs_list_free(&l->cpus);
        sysfs_list_free(&l->zones);
        sysfs_list_free(&l->cooling);
        sysfs_list_free(&l->mcs);
}

/* A sysfs attribute holding one line of text, trimmed, into buf. */
static int sysfs_text(int sysfd, const char *path, char *buf, size_t size) {
        const char *t;
        size_t n;
        int r = procfs_read_at(sysfd, path, NETCLASS_ATTR_MAX, &nc.buf, &t, &n);

        if (r < 0)
                return r;
        nc_trim(&t, &n);
        if (n >= size || memchr(t, '\0', n) || memchr(t, '\n', n))
                return -EINVAL;
        memcpy(buf, t, n);
        buf[n] = '\0';
        return 0;
}

static int sysfs_i64(int sysfd, const char *path, int64_t *ret) {
        char b[32];
        int r = sysfs_text(sysfd, path, b, sizeof b);

        return r < 0 ? r : tv_to_i64(b, strlen(b), ret);
}

int collect_cpufreq_at(struct expo *e, int sysfd) {
        return collect_cpufreq_cached(e, sysfd, NULL, 0);
}

int collect_cpufreq_cached(struct expo *e, int sysfd, struct sysfs_layout *layout, uint64_t now) {
        static const struct {
                const char *file, *name, *help;
        } f[] = {
                {"cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz."},
                {"cpuinfo_max_freq", "node_cpu_frequency_max_hertz",
                 "Maximum cpu thread frequency in hertz."},
                {"cpuinfo_min_freq", "node_cpu_frequency_min_hertz",
                 "Minimum cpu thread frequency in hertz."},
                {"scaling_cur_freq", "node_cpu_scaling_frequency_hertz",
                 "Current scaled CPU thread frequency in hertz."},
                {"scaling_max_freq", "node_cpu_scaling_frequency_max_hertz",
                 "Maximum scaled CPU thread frequency in hertz."},
                {"scaling_min_freq", "node_cpu_scaling_frequency_min_hertz",
                 "Minimum scaled CPU thread frequency in hertz."},
        };
        _cleanup_free_ int64_t *khz = NULL; /* [cpu][file], -1: none */
        struct sysfs_list tmp = {0};
        const struct sysfs_list *l;
        const unsigned *cpus;
        size_t n;
        bool fresh;
        int r = listing(sysfd, layout ? &layout->cpus : NULL, &tmp, now, "devices/system/cpu", "cpu",
                        &l, &fresh);

        if (r < 0)
                return r;
        cpus = l->v;
        n = l->n;
        if (n == 0) {
                sysfs_list_free(&tmp);
                return 0;
        }
        khz = calloc(n * ELEMENTSOF(f), sizeof *khz);
        if (!khz) {
                sysfs_list_free(&tmp);
                return -ENOMEM;
        }
        /* One directory a CPU: a CPU without cpufreq costs one failed open
         * when listed, none until listed again. */
        for (size_t i = 0; i < n; i++) {
                char dir[64];
                int fd;

                for (size_t k = 0; k < ELEMENTSOF(f); k++)
                        khz[i * ELEMENTSOF(f) + k] = -1;
                if (!fresh && !l->present[i])
                        continue;
                snprintf(dir, sizeof dir, "devices/system/cpu/cpu%u/cpufreq", cpus[i]);
                fd = openat(sysfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fresh)
                        l->present[i] = fd >= 0;
                if (fd < 0)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(f); k++) {
                        int64_t v;
                        /* cpuinfo_cur_freq is root's only: left out, as for node_exporter as a user */
                        if (sysfs_i64(fd, f[k].file, &v) >= 0 && v >= 0)
                                khz[i * ELEMENTSOF(f) + k] = v;
                }
                close(fd);
        }
        for (size_t k = 0; k < ELEMENTSOF(f); k++) {
                bool any = false;
                for (size_t i = 0; i < n; i++) {
                        int64_t v = khz[i * ELEMENTSOF(f) + k];
                        char id[16];

                        if (v < 0)
                                continue;
                        if (!any)
                                expo_family(e, f[k].name, "gauge", f[k].help);
                        any = true;
                        snprintf(id, sizeof id, "%u", cpus[i]);
                        expo_sample(e, f[k].name);
                        expo_label(e, "cpu", id);
                        expo_u64(e, mul_sat_u64((uint64_t)v, 1000));
                }
        }
        sysfs_list_free(&tmp);
        return 0;
}

int collect_thermal_at(struct expo *e, int sysfd) {
        return collect_thermal_cached(e, sysfd, NULL, 0);
}

int collect_thermal_cached(struct expo *e, int sysfd, struct sysfs_layout *layout, uint64_t now) {
        struct sysfs_list tz = {0}, tc = {0};
        const struct sysfs_list *lz, *lc;
        const unsigned *zones, *cool;
        size_t nz, nc_;
        bool any = false, fresh;
        int r;

        r = listing(sysfd, layout ? &layout->zones : NULL, &tz, now, "class/thermal", "thermal_zone",
                    &lz, &fresh);
        if (r >= 0)
                r = listing(sysfd, layout ? &layout->cooling : NULL, &tc, now, "class/thermal",
                            "cooling_device", &lc, &fresh);
        if (r < 0) {
                sysfs_list_free(&tz);
                return r;
        }
        zones = lz->v;
        nz = lz->n;
        cool = lc->v;
        nc_ = lc->n;
        for (size_t i = 0; i < nz; i++) {
                char path[96], type[128], id[16];
                int64_t milli;

                snprintf(path, sizeof path, "class/thermal/thermal_zone%u/temp", zones[i]);
                if (sysfs_i64(sysfd, path, &milli) < 0)
                        continue;
                snprintf(path, sizeof path, "class/thermal/thermal_zone%u/type", zones[i]);
                if (sysfs_text(sysfd, path, type, sizeof type) < 0)
                        type[0] = '\0';
                if (!any)
                        expo_family(e, "node_thermal_zone_temp", "gauge", "Zone temperature in Celsius");
                any = true;
                snprintf(id, sizeof id, "%u", zones[i]);
                expo_sample(e, "node_thermal_zone_temp");
                expo_label(e, "type", type);
                expo_label(e, "zone", id);
                expo_double(e, (double)milli / 1000.0);
        }
        for (int which = 0; which < 2; which++) {
                const char *name = which ? "node_cooling_device_max_state" : "node_cooling_device_cur_state";
                any = false;
                for (size_t i = 0; i < nc_; i++) {
                        char path[96], type[128], id[16];
                        int64_t v;

                        snprintf(path, sizeof path, "class/thermal/cooling_device%u/%s", cool[i],
                                 which ? "max_state" : "cur_state");
                        if (sysfs_i64(sysfd, path, &v) < 0)
                                continue;
                        snprintf(path, sizeof path, "class/thermal/cooling_device%u/type", cool[i]);
                        if (sysfs_text(sysfd, path, type, sizeof type) < 0)
                                type[0] = '\0';
                        if (!any)
                                expo_family(e, name, "gauge",
                                            which ? "Maximum throttle state of the cooling device"
                                                  : "Current throttle state of the cooling device");
                        any = true;
                        snprintf(id, sizeof id, "%u", cool[i]);
                        expo_sample(e, name);
                        expo_label(e, "name", id);
                        expo_label(e, "type", type);
                        expo_i64(e, v);
                }
        }
        sysfs_list_free(&tz);
        sysfs_list_free(&tc);
        return 0;
}

/* ---- dmi ------------------------------------------------------------------------------ */

static const char *const dmi_fields[] = {
        "bios_date",         "bios_release",   "bios_vendor",     "bios_version",
        "board_asset_tag",   "board_name",     "board_serial",    "board_vendor",
        "board_version",     "chassis_asset_tag", "chassis_serial", "chassis_vendor",
        "chassis_version",   "product_family", "product_name",    "product_serial",
        "product_sku",       "product_uuid",   "product_version", "sys_vendor",
};

/* The values, read once (NULL: absent or unreadable). */
static struct {
        bool loaded;
        char *v[ELEMENTSOF(dmi_fields)];
} dmi;

static void dmi_free(void) {
        for (size_t i = 0; i < ELEMENTSOF(dmi_fields); i++) {
                free(dmi.v[i]);
                dmi.v[i] = NULL;
        }
        dmi.loaded = false;
}

int collect_dmi_at(struct expo *e, int sysfd) {
        bool any = false;

        if (!dmi.loaded) {
                for (size_t i = 0; i < ELEMENTSOF(dmi_fields); i++) {
                        char path[64], b[256];
                        snprintf(path, sizeof path, "class/dmi/id/%s", dmi_fields[i]);
                        if (sysfs_text(sysfd, path, b, sizeof b) >= 0 && !(dmi.v[i] = strdup(b)))
                                return -ENOMEM;
                }
                dmi.loaded = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(dmi_fields); i++)
                any = any || dmi.v[i];
        if (!any)
                return -ENODATA;
        expo_family(e, "node_dmi_info", "gauge",
                    "A metric with a constant '1' value labeled by bios_date, bios_release, "
                    "bios_vendor, bios_version, board_asset_tag, board_name, board_serial, "
                    "board_vendor, board_version, chassis_asset_tag, chassis_serial, chassis_vendor, "
                    "chassis_version, product_family, product_name, product_serial, product_sku, "
                    "product_uuid, product_version, system_vendor if provided by DMI.");
        expo_sample(e, "node_dmi_info");
        for (size_t i = 0; i < ELEMENTSOF(dmi_fields); i++)
                if (dmi.v[i]) /* the file sys_vendor is the label system_vendor */
                        expo_label(e, i + 1 == ELEMENTSOF(dmi_fields) ? "system_vendor" : dmi_fields[i],
                                   dmi.v[i]);
        expo_u64(e, 1);
        return 0;
}

/* ---- edac ------------------------------------------------------------------------------ */

static const struct {
        const char *name, *help, *file, *row_file; /* row_file: per csrow; NULL: per controller */
} edac_fams[] = {
        {"node_edac_correctable_errors_total", "Total correctable memory errors.", "ce_count", NULL},
        {"node_edac_csrow_correctable_errors_total",
         "Total correctable memory errors for this csrow.", "ce_noinfo_count", "ce_count"},
        {"node_edac_csrow_uncorrectable_errors_total",
         "Total uncorrectable memory errors for this csrow.", "ue_noinfo_count", "ue_count"},
        {"node_edac_uncorrectable_errors_total", "Total uncorrectable memory errors.", "ue_count",
         NULL},
};

/* The families of the memory controllers mcs[0..n). */
static int edac_write(struct expo *e, int sysfd, const unsigned *mcs, size_t n) {
        for (size_t f = 0; f < ELEMENTSOF(edac_fams); f++) {
                expo_family(e, edac_fams[f].name, "counter", edac_fams[f].help);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ unsigned *rows = NULL;
                        char dir[64], path[128], mc[16];
                        size_t nr = 0;
                        int64_t v;
                        int r;

                        snprintf(dir, sizeof dir, "devices/system/edac/mc/mc%u", mcs[i]);
                        snprintf(mc, sizeof mc, "%u", mcs[i]);
                        snprintf(path, sizeof path, "%s/%s", dir, edac_fams[f].file);
                        if (sysfs_i64(sysfd, path, &v) < 0 || v < 0)
                                return -EINVAL; /* as node_exporter: the controller's counts are required */
                        expo_sample(e, edac_fams[f].name);
                        expo_label(e, "controller", mc);
                        if (edac_fams[f].row_file)
                                expo_label(e, "csrow", "unknown");
                        expo_i64(e, v);
                        if (!edac_fams[f].row_file)
                                continue;
                        r = numbered_entries(sysfd, dir, "csrow", &rows, &nr);
                        if (r < 0)
                                return r;
                        for (size_t k = 0; k < nr; k++) {
                                char row[16];
                                snprintf(path, sizeof path, "%s/csrow%u/%s", dir, rows[k],
                                         edac_fams[f].row_file);
                                if (sysfs_i64(sysfd, path, &v) < 0 || v < 0)
                                        return -EINVAL;
                                snprintf(row, sizeof row, "%u", rows[k]);
                                expo_sample(e, edac_fams[f].name);
                                expo_label(e, "controller", mc);
                                expo_label(e, "csrow", row);
                                expo_i64(e, v);
                        }
                }
        }
        return 0;
}

int collect_edac_at(struct expo *e, int sysfd) {
        return collect_edac_cached(e, sysfd, NULL, 0);
}

int collect_edac_cached(struct expo *e, int sysfd, struct sysfs_layout *layout, uint64_t now) {
        struct sysfs_list tmp = {0};
        const struct sysfs_list *l;
        bool fresh;
        int r = listing(sysfd, layout ? &layout->mcs : NULL, &tmp, now, "devices/system/edac/mc", "mc",
                        &l, &fresh);

        if (r < 0)
                return r;
        r = l->n == 0 ? 0 : edac_write(e, sysfd, l->v, l->n);
        sysfs_list_free(&tmp);
        return r;
}

/* ---- powersupplyclass -------------------------------------------------------------------- */

#define PS_MAX 16 /* supplies; more are left out */

static const struct {
        const char *metric, *file;
        double div; /* node_exporter's scale: µA, µV, µWh, µW are divided by 1e6, tenths of °C by 10 */
} ps_values[] = {
        {"authentic", "authentic", 1},
        {"calibrate", "calibrate", 1},
        {"capacity", "capacity", 1},
        {"capacity_alert_max", "capacity_alert_max", 1},
        {"capacity_alert_min", "capacity_alert_min", 1},
        {"charge_ampere", "charge_now", 1e6},
        {"charge_control_limit", "charge_control_limit", 1e6},
        {"charge_control_limit_max", "charge_control_limit_max", 1e6},
        {"charge_counter", "charge_counter", 1e6},
        {"charge_empty", "charge_empty", 1e6},
        {"charge_empty_design", "charge_empty_design", 1e6},
        {"charge_full", "charge_full", 1e6},
        {"charge_full_design", "charge_full_design", 1e6},
        {"charge_term_current", "charge_term_current", 1e6},
        {"constant_charge_current", "constant_charge_current", 1e6},
        {"constant_charge_current_max", "constant_charge_current_max", 1e6},
        {"constant_charge_voltage", "constant_charge_voltage", 1e6},
        {"constant_charge_voltage_max", "constant_charge_voltage_max", 1e6},
        {"current_ampere", "current_now", 1e6},
        {"current_boot", "current_boot", 1e6},
        {"current_max", "current_max", 1e6},
        {"cyclecount", "cycle_count", 1},
        {"energy_empty", "energy_empty", 1e6},
        {"energy_empty_design", "energy_empty_design", 1e6},
        {"energy_full", "energy_full", 1e6},
        {"energy_full_design", "energy_full_design", 1e6},
        {"energy_watthour", "energy_now", 1e6},
        {"input_current_limit", "input_current_limit", 1e6},
        {"online", "online", 1},
        {"power_watt", "power_now", 1e6},
        {"precharge_current", "precharge_current", 1e6},
        {"present", "present", 1},
        {"temp_alert_max_celsius", "temp_alert_max", 10},
        {"temp_alert_min_celsius", "temp_alert_min", 10},
        {"temp_ambient_celsius", "temp_ambient", 10},
        {"temp_ambient_max_celsius", "temp_ambient_max", 10},
        {"temp_ambient_min_celsius", "temp_ambient_min", 10},
        {"temp_celsius", "temp", 10},
        {"temp_max_celsius", "temp_max", 10},
        {"temp_min_celsius", "temp_min", 10},
        {"time_to_empty_seconds", "time_to_empty_now", 1},
        {"time_to_full_seconds", "time_to_full_now", 1},
        {"voltage_boot", "voltage_boot", 1e6},
        {"voltage_max", "voltage_max", 1e6},
        {"voltage_max_design", "voltage_max_design", 1e6},
        {"voltage_min", "voltage_min", 1e6},
        {"voltage_min_design", "voltage_min_design", 1e6},
        {"voltage_ocv", "voltage_ocv", 1e6},
        {"voltage_volt", "voltage_now", 1e6},
};

/* The info labels in their output order (sorted); "power_supply" is the name. */
static const char *const ps_info[] = {"capacity_level", "charge_type",   "health", "manufacturer",
                                      "model_name",     "power_supply",  "scope",  "serial_number",
                                      "status",         "technology",    "type",   "usb_type"};

struct ps_one {
        char name[NAME_MAX + 1];
        int64_t v[ELEMENTSOF(ps_values)];
        uint64_t have; /* bit per ps_values row */
        char info[ELEMENTSOF(ps_info)][NAME_MAX + 1];
};

static int ps_cmp(const void *a, const void *b) {
        return strcmp(((const struct ps_one *)a)->name, ((const struct ps_one *)b)->name);
}

static int ps_read_all(int sysfd, struct ps_one *ps, size_t *ret_n) {
        int fd = openat(sysfd, "class/power_supply", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        if (fd < 0)
                return errno == ENOENT ? -ENODATA : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)) && n < PS_MAX) {
                struct ps_one *p = &ps[n];
                char path[NAME_MAX + 64];

                if (de->d_name[0] == '.')
                        continue;
                *p = (struct ps_one){0};
                snprintf(p->name, sizeof p->name, "%s", de->d_name);
                for (size_t k = 0; k < ELEMENTSOF(ps_values); k++) {
                        snprintf(path, sizeof path, "class/power_supply/%s/%s", p->name, ps_values[k].file);
                        if (sysfs_i64(sysfd, path, &p->v[k]) >= 0)
                                p->have |= UINT64_C(1) << k;
                }
                for (size_t k = 0; k < ELEMENTSOF(ps_info); k++) {
                        if (STREQ(ps_info[k], "power_supply")) {
                                snprintf(p->info[k], sizeof p->info[k], "%s", p->name);
                                continue;
                        }
                        snprintf(path, sizeof path, "class/power_supply/%s/%s", p->name, ps_info[k]);
                        if (sysfs_text(sysfd, path, p->info[k], sizeof p->info[k]) < 0)
                                p->info[k][0] = '\0';
                }
                n++;
        }
        closedir(d);
        qsort(ps, n, sizeof *ps, ps_cmp);
        *ret_n = n;
        return 0;
}

int collect_power_supply_at(struct expo *e, int sysfd) {
        _cleanup_free_ struct ps_one *ps = calloc(PS_MAX, sizeof *ps);
        size_t n = 0;
        int r;

        if (!ps)
                return -ENOMEM;
        r = ps_read_all(sysfd, ps, &n);
        if (r < 0)
                return r;
        for (size_t k = 0; k < ELEMENTSOF(ps_values); k++) {
                char name[96], help[160];
                bool any = false;

                snprintf(name, sizeof name, "node_power_supply_%s", ps_values[k].metric);
                snprintf(help, sizeof help, "%s value of /sys/class/power_supply/<power_supply>.",
                         ps_values[k].metric);
                for (size_t i = 0; i < n; i++) {
                        if (!(ps[i].have & (UINT64_C(1) << k)))
                                continue;
                        if (!any)
                                expo_family(e, name, "gauge", help);
                        any = true;
                        expo_sample(e, name);
                        expo_label(e, "power_supply", ps[i].name);
                        expo_double(e, (double)ps[i].v[k] / ps_values[k].div);
                }
        }
        if (n > 0)
                expo_family(e, "node_power_supply_info", "gauge",
                            "info of /sys/class/power_supply/<power_supply>.");
        for (size_t i = 0; i < n; i++) {
                expo_sample(e, "node_power_supply_info");
                for (size_t k = 0; k < ELEMENTSOF(ps_info); k++)
                        if (ps[i].info[k][0])
                                expo_label(e, ps_info[k], ps[i].info[k]);
                expo_u64(e, 1);
        }
        return 0;
}

/* ---- mdadm ------------------------------------------------------------------------------ */

int collect_mdadm(struct expo *e, const char *text, size_t len) {
        static const struct {
                const char *label, *state; /* node_md_state's label, the parsed state */
        } states[] = {{"active", "active"},     {"check", "checking"},   {"inactive", "inactive"},
                      {"recovering", "recovering"}, {"resync", "resyncing"}};
        _cleanup_free_ struct md_device *md = NULL;
        size_t n = 0;
        int r = mdstat_parse(text, len, &md, &n);

        if (r < 0)
                return r;
        if (n == 0)
                return 0;
        expo_family(e, "node_md_blocks", "gauge", "Total number of blocks on device.");
        for (size_t i = 0; i < n; i++) {
                expo_sample(e, "node_md_blocks");
                expo_label(e, "device", md[i].name);
                expo_u64(e, md[i].blocks_total);
        }
        expo_family(e, "node_md_blocks_synced", "gauge", "Number of blocks synced on device.");
        for (size_t i = 0; i < n; i++) {
                expo_sample(e, "node_md_blocks_synced");
                expo_label(e, "device", md[i].name);
                expo_u64(e, md[i].blocks_synced);
        }
        expo_family(e, "node_md_disks", "gauge", "Number of active/failed/spare disks of device.");
        for (size_t i = 0; i < n; i++) {
                const uint64_t v[] = {md[i].disks_active, md[i].disks_failed, md[i].disks_spare};
                static const char *const which[] = {"active", "failed", "spare"};
                for (size_t k = 0; k < ELEMENTSOF(which); k++) {
                        expo_sample(e, "node_md_disks");
                        expo_label(e, "device", md[i].name);
                        expo_label(e, "state", which[k]);
                        expo_u64(e, v[k]);
                }
        }
        expo_family(e, "node_md_disks_required", "gauge", "Total number of disks of device.");
        for (size_t i = 0; i < n; i++) {
                expo_sample(e, "node_md_disks_required");
                expo_label(e, "device", md[i].name);
                expo_u64(e, md[i].disks_total);
        }
        expo_family(e, "node_md_state", "gauge", "Indicates the state of md-device.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ELEMENTSOF(states); k++) {
                        expo_sample(e, "node_md_state");
                        expo_label(e, "device", md[i].name);
                        expo_label(e, "state", states[k].label);
                        expo_u64(e, STREQ(md[i].state, states[k].state));
                }
        return 0;
}
