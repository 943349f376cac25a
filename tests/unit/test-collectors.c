/* test-collectors.c — the pure collectors of modules/metrics/collectors.h
 * against fixture texts: node_exporter's names, labels, types and units,
 * and a malformed text leaving nothing written.
 *
 * Texts are given in buffers of exactly their size with no NUL after them,
 * so AddressSanitizer catches a read past len; each good fixture is also
 * cut at every length, which must give whole lines or nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/metrics/collectors.h"
#include "modules/metrics/expo.h"
#include "util.h"

typedef int (*collect_fn)(struct expo *e, const char *text, size_t len);

/* The output of fn on text (a copy of exactly its length); *ret_r its
 * return value. */
static char *run(collect_fn fn, const char *text, size_t len, int *ret_r) {
        char *copy = malloc(len ? len : 1);
        struct buf b;
        struct expo e;
        char *out;

        assert_non_null(copy);
        memcpy(copy, text, len);
        buf_init(&b, 1UL << 20);
        expo_init(&e, &b);
        *ret_r = fn(&e, copy, len);
        free(copy);
        assert_int_equal(e.error, 0);
        out = buf_steal(&b);
        return out ? out : strdup("");
}

static char *good(collect_fn fn, const char *text) {
        int r;
        char *out = run(fn, text, strlen(text), &r);

        assert_int_equal(r, 0);
        /* every prefix: whole lines or nothing, never a crash */
        for (size_t n = 0; n < strlen(text); n++) {
                int rr;
                char *o = run(fn, text, n, &rr);
                assert_true(o[0] == '\0' || o[strlen(o) - 1] == '\n');
                if (rr < 0)
                        assert_string_equal(o, "");
                free(o);
        }
        return out;
}

static void bad(collect_fn fn, const char *text) {
        int r;
        char *out = run(fn, text, strlen(text), &r);

        if (r >= 0)
                fail_msg("accepted: %s", text);
        assert_string_equal(out, "");
        free(out);
}

#define assert_has(out, s)                                                                         \
        do {                                                                                       \
                if (!strstr((out), (s)))                                                           \
                        fail_msg("missing %s in:\n%s", (s), (out));                                \
        } while (0)

static void test_arp(void **state) {
        _cleanup_free_ char *o = good(
                collect_arp,
                "IP address       HW type     Flags       HW address            Mask     Device\n"
                "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n"
                "192.0.2.2        0x1         0x2         02:fc:00:00:00:06     *        eth0\n"
                "198.51.100.1     0x1         0x0         00:00:00:00:00:00     *        br0\n");

        assert_has(o, "# HELP node_arp_entries ARP entries by device\n# TYPE node_arp_entries gauge\n");
        assert_has(o, "node_arp_entries{device=\"eth0\"} 2\n");
        assert_has(o, "node_arp_entries{device=\"br0\"} 1\n");
        bad(collect_arp, "IP address HW\n192.0.2.1 0x1 0x2 x *\n");
        bad(collect_arp, "192.0.2.1 0x1 0x2 x * eth0\n");
}

static void test_conntrack_entropy(void **state) {
        _cleanup_free_ char *a = good(collect_conntrack_count, "12\n");
        _cleanup_free_ char *b = good(collect_conntrack_max, "262144\n");
        _cleanup_free_ char *c = good(collect_conntrack_stat,
                                      "entries clashres found new invalid ignore delete "
                                      "delete_list insert insert_failed drop early_drop "
                                      "icmp_error expect_new expect_create expect_delete "
                                      "search_restart\n"
                                      "00000001 00000000 00000003 00000000 0000000a 00000000 "
                                      "00000000 00000000 00000002 00000000 00000001 00000000 "
                                      "00000000 00000000 00000000 00000000 00000005\n"
                                      "00000001 00000000 00000001 00000000 00000000 00000000 "
                                      "00000000 00000000 00000000 00000000 00000000 00000000 "
                                      "00000000 00000000 00000000 00000000 00000000\n");
        _cleanup_free_ char *d = good(collect_entropy_avail, "256\n");
        _cleanup_free_ char *e = good(collect_entropy_pool, "256\n");

        assert_has(a, "# TYPE node_nf_conntrack_entries gauge\nnode_nf_conntrack_entries 12\n");
        assert_has(b, "node_nf_conntrack_entries_limit 262144\n");
        assert_has(c, "node_nf_conntrack_stat_found 4\n");
        assert_has(c, "node_nf_conntrack_stat_invalid 10\n");
        assert_has(c, "node_nf_conntrack_stat_search_restart 5\n");
        assert_has(c, "node_nf_conntrack_stat_drop 1\n");
        assert_has(d, "node_entropy_available_bits 256\n");
        assert_has(e, "# HELP node_entropy_pool_size_bits Bits of entropy pool.\n");
        bad(collect_conntrack_count, "x\n");
        bad(collect_conntrack_stat, "found drop\n1 2 3\n");
}

static void test_pressure(void **state) {
        _cleanup_free_ char *cpu = good(collect_psi_cpu,
                                        "some avg10=7.95 avg60=49.82 avg300=26.33 total=2365187306\n"
                                        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        _cleanup_free_ char *io = good(collect_psi_io,
                                       "some avg10=0.00 avg60=0.00 avg300=0.00 total=138683582\n"
                                       "full avg10=0.00 avg60=0.00 avg300=0.00 total=69788255\n");

        assert_has(cpu, "# TYPE node_pressure_cpu_waiting_seconds_total counter\n"
                        "node_pressure_cpu_waiting_seconds_total 2365.187306\n");
        assert_null(strstr(cpu, "stalled"));
        assert_has(io, "node_pressure_io_waiting_seconds_total 138.683582\n");
        assert_has(io, "node_pressure_io_stalled_seconds_total 69.788255\n");
        bad(collect_psi_memory, "full avg10=0.00 total=1\n");
}

static void test_softnet_vmstat_schedstat(void **state) {
        _cleanup_free_ char *s = good(collect_softnet,
                                      "0017649d 00000002 00000003 00000000 00000000\n"
                                      "0017fdb9 00000000 0000000a 00000000 00000000\n");
        _cleanup_free_ char *v = good(collect_vmstat, "nr_free_pages 123\npgpgin 5\npgfault 7\n"
                                                      "pgmajfault 1\npswpout 0\noom_kill 2\n"
                                                      "thp_fault_alloc 9\npgsteal_kswapd 4\n");
        _cleanup_free_ char *c = good(collect_schedstat,
                                      "version 15\ntimestamp 4295\n"
                                      "cpu0 0 0 0 0 0 0 1500000000 250000000 42\n"
                                      "domain0 03 1 2 3\n"
                                      "cpu1 0 0 0 0 0 0 2000000000 0 7\n");

        assert_has(s, "# TYPE node_softnet_processed_total counter\n");
        assert_has(s, "node_softnet_processed_total{cpu=\"0\"} 1533085\n");
        assert_has(s, "node_softnet_dropped_total{cpu=\"0\"} 2\n");
        assert_has(s, "node_softnet_times_squeezed_total{cpu=\"1\"} 10\n");
        assert_has(v, "# HELP node_vmstat_pgpgin /proc/vmstat information field pgpgin.\n"
                      "# TYPE node_vmstat_pgpgin untyped\nnode_vmstat_pgpgin 5\n");
        assert_has(v, "node_vmstat_pgfault 7\n");
        assert_has(v, "node_vmstat_pgmajfault 1\n");
        assert_has(v, "node_vmstat_oom_kill 2\n");
        assert_null(strstr(v, "nr_free_pages"));
        assert_null(strstr(v, "thp_fault_alloc"));
        assert_null(strstr(v, "pgsteal"));
        assert_has(c, "# TYPE node_schedstat_running_seconds_total counter\n");
        assert_has(c, "node_schedstat_running_seconds_total{cpu=\"0\"} 1.5\n");
        assert_has(c, "node_schedstat_waiting_seconds_total{cpu=\"0\"} 0.25\n");
        assert_has(c, "node_schedstat_timeslices_total{cpu=\"1\"} 7\n");
        bad(collect_softnet, "0017649d zz 1\n");
        bad(collect_vmstat, "pgpgin 5\npgfault x\n");
        bad(collect_schedstat, "cpu0 1 2 3\n");
}

static void test_mdadm(void **state) {
        _cleanup_free_ char *o = good(
                collect_mdadm,
                "Personalities : [raid1] [raid6] [raid5] [raid4] [raid0]\n"
                "md3 : active raid6 sda1[8] sdh1[7] sdg1[6] sdf1[5] sde1[11] sdd1[3] sdc1[10] sdb1[9] sdi1[12](S)\n"
                "      5853468288 blocks super 1.2 level 6, 64k chunk, algorithm 2 [8/8] [UUUUUUUU]\n"
                "\n"
                "md127 : active raid1 sdi2[0] sdj2[1](F)\n"
                "      312319552 blocks [2/1] [U_]\n"
                "\n"
                "md0 : active raid1 sdb1[1] sda1[0]\n"
                "      248896 blocks [2/2] [UU]\n"
                "      [=>...................]  recovery =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec\n"
                "\n"
                "md4 : inactive raid1 sda3[0](F) sdb3[1](S)\n"
                "      4883648 blocks [2/2] [UU]\n"
                "\n"
                "md6 : active raid0 sdb2[1] sda2[0]\n"
                "      1953260544 blocks super 1.2 512k chunks\n"
                "      resync=DELAYED\n"
                "\n"
                "md7 : active raid1 sdb3[1] sda3[0]\n"
                "      1000 blocks super 1.2 [2/2] [UU]\n"
                "      bitmap: 1/8 pages [4KB], 65536KB chunk\n"
                "      [====>................]  check = 22.5% (225/1000) finish=1.0min speed=1K/sec\n"
                "\n"
                "unused devices: <none>\n");

        assert_has(o, "# HELP node_md_disks Number of active/failed/spare disks of device.\n");
        assert_has(o, "node_md_disks{device=\"md3\",state=\"active\"} 8\n");
        assert_has(o, "node_md_disks{device=\"md3\",state=\"spare\"} 1\n");
        assert_has(o, "node_md_disks{device=\"md127\",state=\"active\"} 1\n");
        assert_has(o, "node_md_disks{device=\"md127\",state=\"failed\"} 1\n");
        assert_has(o, "node_md_disks_required{device=\"md3\"} 8\n");
        assert_has(o, "node_md_blocks{device=\"md3\"} 5853468288\n");
        assert_has(o, "node_md_state{device=\"md0\",state=\"recovering\"} 1\n");
        assert_has(o, "node_md_state{device=\"md0\",state=\"active\"} 0\n");
        assert_has(o, "node_md_blocks_synced{device=\"md0\"} 16775552\n");
        assert_has(o, "node_md_state{device=\"md4\",state=\"inactive\"} 1\n");
        assert_has(o, "node_md_disks_required{device=\"md4\"} 0\n");
        assert_has(o, "node_md_disks{device=\"md6\",state=\"active\"} 2\n");
        assert_has(o, "node_md_state{device=\"md6\",state=\"resync\"} 1\n");
        assert_has(o, "node_md_blocks_synced{device=\"md6\"} 0\n");
        assert_has(o, "node_md_state{device=\"md7\",state=\"check\"} 1\n");
        assert_has(o, "node_md_blocks_synced{device=\"md7\"} 225\n");
        assert_has(o, "node_md_blocks_synced{device=\"md3\"} 5853468288\n");
        bad(collect_mdadm, "md0 : active raid1 sda1[0]\n      x blocks [1/1] [U]\n\n\n");
        bad(collect_mdadm, "md0 : active raid1 sda1[0]\n      10 blocks\n\n\n");
}

static int udp_both(struct expo *e, const char *text, size_t len) {
        return collect_udp_queues(e, text, len, text, len);
}

static int clocksources(struct expo *e, const char *text, size_t len) {
        return collect_clocksources(e, text, len, "tsc\n", 4);
}

static int selinux_on(struct expo *e, const char *text, size_t len) {
        return collect_selinux(e, text, len);
}

static void test_udp_time_selinux(void **state) {
        _cleanup_free_ char *u = good(
                udp_both, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when\n"
                          "  1: 00000000:0044 00000000:0000 07 00000010:00000200 00:00000000 0\n"
                          "  2: 00000000:0045 00000000:0000 07 00000001:00000001 00:00000000 0\n");
        _cleanup_free_ char *c = good(clocksources, "tsc kvm-clock acpi_pm \n");
        _cleanup_free_ char *s = good(selinux_on, "1\n");
        _cleanup_free_ char *off = NULL;
        struct buf b;
        struct expo e;

        assert_has(u, "node_udp_queues{ip=\"v4\",queue=\"tx\"} 17\n");
        assert_has(u, "node_udp_queues{ip=\"v6\",queue=\"rx\"} 513\n");
        assert_has(c, "node_time_clocksource_available_info{clocksource=\"kvm-clock\",device=\"0\"} 1\n");
        assert_has(c, "node_time_clocksource_available_info{clocksource=\"acpi_pm\",device=\"0\"} 1\n");
        assert_has(c, "node_time_clocksource_current_info{clocksource=\"tsc\",device=\"0\"} 1\n");
        assert_has(s, "node_selinux_enabled 1\n");
        assert_has(s, "node_selinux_current_mode 1\n");
        buf_init(&b, 1UL << 16);
        expo_init(&e, &b);
        assert_int_equal(collect_selinux(&e, NULL, 0), 0);
        off = buf_steal(&b);
        assert_has(off, "node_selinux_enabled 0\n");
        assert_null(strstr(off, "current_mode"));
        bad(udp_both, "junk\n");
        bad(udp_both, "  sl local\n  1: a b 07 zz:00 0\n");
}

static void test_os(void **state) {
        _cleanup_free_ char *o = good(collect_os, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                                  "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                                                  "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\n"
                                                  "ID=debian\n");
        _cleanup_free_ char *u = good(collect_os, "NAME=Ubuntu\nID=ubuntu\nID_LIKE=debian\n"
                                                  "VERSION_ID=\"22.04.3\"\nIMAGE_ID=x\n");

        assert_has(o, "node_os_info{build_id=\"\",id=\"debian\",id_like=\"\",image_id=\"\","
                      "image_version=\"\",name=\"Debian GNU/Linux\",pretty_name=\"Debian GNU/Linux "
                      "12 (bookworm)\",variant=\"\",variant_id=\"\",version=\"12 (bookworm)\","
                      "version_codename=\"bookworm\",version_id=\"12\"} 1\n");
        assert_has(o, "node_os_version{id=\"debian\",id_like=\"\",name=\"Debian GNU/Linux\"} 12\n");
        assert_has(u, "node_os_version{id=\"ubuntu\",id_like=\"debian\",name=\"Ubuntu\"} 22.04\n");
        assert_has(u, "image_id=\"x\"");
}

static int udev_fake(unsigned major, unsigned minor, const char *key, const char **ret,
                     size_t *ret_len) {
        if (major != 8 || minor != 0 || strcmp(key, "ID_MODEL") != 0)
                return -ENOENT;
        *ret = "QEMU_HARDDISK";
        *ret_len = 13;
        return 0;
}

static int disk_info(struct expo *e, const char *text, size_t len) {
        return collect_disk_info(e, text, len, udev_fake);
}

static void test_disk_info(void **state) {
        _cleanup_free_ char *o = good(
                disk_info, "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
                           "   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11\n"
                           " 254       0 vda 1 2 3 4 5 6 7 8 9 10 11\n");

        assert_has(o, "# HELP node_disk_info Info of /sys/block/<block_device>.\n");
        assert_has(o, "node_disk_info{device=\"sda\",major=\"8\",minor=\"0\",model=\"QEMU_HARDDISK\","
                      "path=\"\",revision=\"\",serial=\"\",wwn=\"\"} 1\n");
        assert_has(o, "node_disk_info{device=\"vda\",major=\"254\",minor=\"0\",model=\"\"");
        assert_null(strstr(o, "sda1"));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int nftw_rm(const char *root) {
        return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fake /sys: files under a temporary directory. */
static void put(const char *root, const char *path, const char *text) {
        char full[512], dir[512], *slash;
        FILE *f;

        snprintf(full, sizeof full, "%s/%s", root, path);
        snprintf(dir, sizeof dir, "%s", full);
        for (char *p = dir + strlen(root) + 1; (slash = strchr(p, '/')); p = slash + 1) {
                *slash = '\0';
                (void)mkdir(dir, 0755);
                *slash = '/';
        }
        f = fopen(full, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static char *run_at(int (*fn)(struct expo *, int), int fd) {
        struct buf b;
        struct expo e;
        char *out;

        buf_init(&b, 1UL << 20);
        expo_init(&e, &b);
        assert_int_equal(fn(&e, fd), 0);
        assert_int_equal(e.error, 0);
        out = buf_steal(&b);
        return out ? out : strdup("");
}

static char *run_cached(int (*fn)(struct expo *, int, struct sysfs_layout *, uint64_t), int fd,
                        struct sysfs_layout *l, uint64_t now) {
        struct buf b;
        struct expo e;
        char *out;

        buf_init(&b, 1UL << 20);
        expo_init(&e, &b);
        assert_int_equal(fn(&e, fd, l, now), 0);
        assert_int_equal(e.error, 0);
        out = buf_steal(&b);
        return out ? out : strdup("");
}

/* The listings are kept for SYSFS_RELIST_USEC; the values never. */
static void test_sysfs_layout_cached(void **state) {
        char root[] = "/tmp/test-collectors.XXXXXX";
        struct sysfs_layout l = {0};
        uint64_t t0 = 5000000;
        char *out;
        int fd;

        (void)state;
        assert_non_null(mkdtemp(root));
        fd = open(root, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        put(root, "class/thermal/thermal_zone0/temp", "45500\n");
        put(root, "class/thermal/thermal_zone0/type", "acpitz\n");
        put(root, "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000\n");
        put(root, "devices/system/cpu/cpu1/online", "1\n"); /* no cpufreq yet */

        out = run_cached(collect_thermal_cached, fd, &l, t0);
        assert_has(out, "node_thermal_zone_temp{type=\"acpitz\",zone=\"0\"} 45.5\n");
        free(out);
        out = run_cached(collect_cpufreq_cached, fd, &l, t0);
        assert_has(out, "node_cpu_scaling_frequency_hertz{cpu=\"0\"} 2400000000\n");
        assert_null(strstr(out, "cpu=\"1\""));
        free(out);

        /* A new zone and a new cpufreq directory wait for the next listing;
         * a changed value shows at once. */
        put(root, "class/thermal/thermal_zone0/temp", "50000\n");
        put(root, "class/thermal/thermal_zone1/temp", "30000\n");
        put(root, "class/thermal/thermal_zone1/type", "x86_pkg_temp\n");
        put(root, "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1200000\n");
        put(root, "devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "800000\n");
        out = run_cached(collect_thermal_cached, fd, &l, t0 + SYSFS_RELIST_USEC - 1);
        assert_has(out, "node_thermal_zone_temp{type=\"acpitz\",zone=\"0\"} 50\n");
        assert_null(strstr(out, "zone=\"1\""));
        free(out);
        out = run_cached(collect_cpufreq_cached, fd, &l, t0 + SYSFS_RELIST_USEC - 1);
        assert_has(out, "node_cpu_scaling_frequency_hertz{cpu=\"0\"} 1200000000\n");
        assert_null(strstr(out, "cpu=\"1\""));
        free(out);

        out = run_cached(collect_thermal_cached, fd, &l, t0 + SYSFS_RELIST_USEC);
        assert_has(out, "node_thermal_zone_temp{type=\"x86_pkg_temp\",zone=\"1\"} 30\n");
        free(out);
        out = run_cached(collect_cpufreq_cached, fd, &l, t0 + SYSFS_RELIST_USEC);
        assert_has(out, "node_cpu_scaling_frequency_hertz{cpu=\"1\"} 800000000\n");
        free(out);

        /* edac: no controller, then one that waits for the listing. */
        out = run_cached(collect_edac_cached, fd, &l, t0);
        assert_string_equal(out, "");
        free(out);
        put(root, "devices/system/edac/mc/mc0/ce_count", "3\n");
        put(root, "devices/system/edac/mc/mc0/ue_count", "0\n");
        put(root, "devices/system/edac/mc/mc0/ce_noinfo_count", "1\n");
        put(root, "devices/system/edac/mc/mc0/ue_noinfo_count", "0\n");
        out = run_cached(collect_edac_cached, fd, &l, t0 + 1);
        assert_string_equal(out, "");
        free(out);
        out = run_cached(collect_edac_cached, fd, &l, t0 + SYSFS_RELIST_USEC);
        assert_has(out, "node_edac_correctable_errors_total{controller=\"0\"} 3\n");
        free(out);
        put(root, "devices/system/edac/mc/mc0/ce_count", "4\n");
        out = run_cached(collect_edac_cached, fd, &l, t0 + SYSFS_RELIST_USEC + 1);
        assert_has(out, "node_edac_correctable_errors_total{controller=\"0\"} 4\n");
        free(out);

        /* Without a layout, every call lists. */
        put(root, "class/thermal/thermal_zone2/temp", "20000\n");
        out = run_at(collect_thermal_at, fd);
        assert_has(out, "zone=\"2\"} 20\n");
        free(out);

        sysfs_layout_free(&l);
        close(fd);
        assert_int_equal(nftw_rm(root), 0);
}

static void test_sysfs(void **state) {
        char root[] = "/tmp/test-collectors.XXXXXX";
        _cleanup_free_ char *freq = NULL, *thermal = NULL, *none = NULL, *dmi_out = NULL, *hwmon_out = NULL, *edac_out = NULL, *ps_out = NULL;
        int fd;

        assert_non_null(mkdtemp(root));
        fd = open(root, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        none = run_at(collect_thermal_at, fd); /* no class/thermal: nothing, no failure */
        assert_string_equal(none, "");
        put(root, "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000\n");
        put(root, "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3000000\n");
        put(root, "devices/system/cpu/cpu10/cpufreq/scaling_cur_freq", "800000\n");
        put(root, "devices/system/cpu/cpu2/cpufreq/scaling_cur_freq", "junk\n");
        put(root, "devices/system/cpu/cpufreq/boost", "1\n"); /* not a CPU */
        put(root, "class/thermal/thermal_zone0/temp", "45500\n");
        put(root, "class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
        put(root, "class/thermal/thermal_zone1/temp", "-2000\n");
        put(root, "class/thermal/thermal_zone1/type", "acpitz\n");
        put(root, "class/thermal/cooling_device0/cur_state", "0\n");
        put(root, "class/thermal/cooling_device0/max_state", "10\n");
        put(root, "class/thermal/cooling_device0/type", "Processor\n");
        {
                struct buf b;
                struct expo e;
                buf_init(&b, 1UL << 16);
                expo_init(&e, &b);
                assert_int_equal(collect_dmi_at(&e, fd), -ENODATA); /* none: a failure */
                assert_int_equal(b.len, 0);
                netclass_done();
                put(root, "class/dmi/id/sys_vendor", "QEMU\n");
                put(root, "class/dmi/id/bios_version", "1.16.2-debian-1.16.2-1\n");
                dmi_out = run_at(collect_dmi_at, fd);
                buf_free(&b);
                netclass_done();
        }
        {
                struct buf b;
                struct expo e;
                char target[600], link[600];
                buf_init(&b, 1UL << 16);
                expo_init(&e, &b);
                assert_int_equal(collect_hwmon_at(&e, fd), -ENODATA); /* none: a failure */
                buf_free(&b);
                put(root, "devices/platform/coretemp.0/temp2_input", "51000\n");
                put(root, "devices/platform/coretemp.0/temp2_label", "Core 0\n");
                put(root, "class/hwmon/hwmon0/name", "coretemp\n");
                put(root, "class/hwmon/hwmon0/temp1_input", "45000\n");
                put(root, "class/hwmon/hwmon0/temp1_crit", "100000\n");
                put(root, "class/hwmon/hwmon0/temp1_crit_alarm", "0\n");
                put(root, "class/hwmon/hwmon0/temp1_label", "Package id 0\n");
                put(root, "class/hwmon/hwmon0/uevent", "x\n");
                snprintf(target, sizeof target, "%s/devices/platform/coretemp.0", root);
                snprintf(link, sizeof link, "%s/class/hwmon/hwmon0/device", root);
                assert_int_equal(symlink(target, link), 0);
                put(root, "class/hwmon/hwmon1/name", "NCT6775\n");
                put(root, "class/hwmon/hwmon1/fan1_input", "1200\n");
                put(root, "class/hwmon/hwmon1/fan1_alarm", "0\n");
                put(root, "class/hwmon/hwmon1/in0_input", "1032\n");
                put(root, "class/hwmon/hwmon1/power1_average", "15500000\n");
                put(root, "class/hwmon/hwmon1/energy1_input", "2500000\n");
                put(root, "class/hwmon/hwmon1/beep_enable", "1\n");
                put(root, "class/hwmon/hwmon1/pwm1", "128\n");
                put(root, "class/hwmon/hwmon1/humidity1_input", "450000\n");
                hwmon_out = run_at(collect_hwmon_at, fd);
        }
        put(root, "devices/system/edac/mc/mc0/ce_count", "3\n");
        put(root, "devices/system/edac/mc/mc0/ce_noinfo_count", "1\n");
        put(root, "devices/system/edac/mc/mc0/ue_count", "0\n");
        put(root, "devices/system/edac/mc/mc0/ue_noinfo_count", "0\n");
        put(root, "devices/system/edac/mc/mc0/csrow0/ce_count", "2\n");
        put(root, "devices/system/edac/mc/mc0/csrow0/ue_count", "0\n");
        edac_out = run_at(collect_edac_at, fd);
        {
                struct buf b;
                struct expo e;
                buf_init(&b, 1UL << 16);
                expo_init(&e, &b);
                assert_int_equal(collect_power_supply_at(&e, fd), -ENODATA);
                buf_free(&b);
        }
        put(root, "class/power_supply/BAT0/capacity", "87\n");
        put(root, "class/power_supply/BAT0/energy_now", "41500000\n");
        put(root, "class/power_supply/BAT0/temp", "295\n");
        put(root, "class/power_supply/BAT0/status", "Discharging\n");
        put(root, "class/power_supply/BAT0/type", "Battery\n");
        put(root, "class/power_supply/AC/online", "0\n");
        put(root, "class/power_supply/AC/type", "Mains\n");
        ps_out = run_at(collect_power_supply_at, fd);
        freq = run_at(collect_cpufreq_at, fd);
        thermal = run_at(collect_thermal_at, fd);
        close(fd);

        assert_has(freq, "# HELP node_cpu_scaling_frequency_hertz Current scaled CPU thread frequency in hertz.\n"
                         "# TYPE node_cpu_scaling_frequency_hertz gauge\n"
                         "node_cpu_scaling_frequency_hertz{cpu=\"0\"} 2400000000\n"
                         "node_cpu_scaling_frequency_hertz{cpu=\"10\"} 800000000\n");
        assert_has(freq, "node_cpu_frequency_max_hertz{cpu=\"0\"} 3000000000\n");
        assert_null(strstr(freq, "cpu=\"2\""));
        assert_null(strstr(freq, "node_cpu_frequency_hertz"));
        assert_has(thermal, "# HELP node_thermal_zone_temp Zone temperature in Celsius\n");
        assert_has(thermal, "node_thermal_zone_temp{type=\"x86_pkg_temp\",zone=\"0\"} 45.5\n");
        assert_has(thermal, "node_thermal_zone_temp{type=\"acpitz\",zone=\"1\"} -2\n");
        assert_has(thermal, "node_cooling_device_max_state{name=\"0\",type=\"Processor\"} 10\n");
        assert_has(thermal, "node_cooling_device_cur_state{name=\"0\",type=\"Processor\"} 0\n");
        assert_has(dmi_out, "node_dmi_info{bios_version=\"1.16.2-debian-1.16.2-1\",system_vendor=\"QEMU\"} 1\n");
        assert_has(hwmon_out, "# HELP node_hwmon_temp_celsius Hardware monitor for temperature (input)\n"
                              "# TYPE node_hwmon_temp_celsius gauge\n"
                              "node_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 45\n"
                              "node_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp2\"} 51\n");
        assert_has(hwmon_out, "node_hwmon_temp_crit_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 100\n");
        assert_has(hwmon_out, "# HELP node_hwmon_temp_crit_alarm_celsius Hardware monitor for temperature (crit_alarm)\n");
        assert_has(hwmon_out, "node_hwmon_sensor_label{chip=\"platform_coretemp_0\",label=\"Package id 0\",sensor=\"temp1\"} 1\n");
        assert_has(hwmon_out, "node_hwmon_sensor_label{chip=\"platform_coretemp_0\",label=\"Core 0\",sensor=\"temp2\"} 1\n");
        assert_has(hwmon_out, "node_hwmon_chip_names{chip=\"platform_coretemp_0\",chip_name=\"coretemp\"} 1\n");
        assert_has(hwmon_out, "node_hwmon_chip_names{chip=\"nct6775\",chip_name=\"nct6775\"} 1\n");
        assert_has(hwmon_out, "# HELP node_hwmon_fan_rpm Hardware monitor for fan revolutions per minute (input)\n"
                              "# TYPE node_hwmon_fan_rpm gauge\n"
                              "node_hwmon_fan_rpm{chip=\"nct6775\",sensor=\"fan1\"} 1200\n");
        assert_has(hwmon_out, "# HELP node_hwmon_fan_alarm Hardware sensor alarm status (fan)\n");
        assert_has(hwmon_out, "node_hwmon_in_volts{chip=\"nct6775\",sensor=\"in0\"} 1.032\n");
        assert_has(hwmon_out, "node_hwmon_power_average_watt{chip=\"nct6775\",sensor=\"power1\"} 15.5\n");
        assert_has(hwmon_out, "# TYPE node_hwmon_energy_joule_total counter\n"
                              "node_hwmon_energy_joule_total{chip=\"nct6775\",sensor=\"energy1\"} 2.5\n");
        assert_has(hwmon_out, "node_hwmon_beep_enabled{chip=\"nct6775\",sensor=\"beep_enable0\"} 1\n");
        assert_has(hwmon_out, "# HELP node_hwmon_pwm Hardware monitor pwm element \n");
        assert_has(hwmon_out, "node_hwmon_pwm{chip=\"nct6775\",sensor=\"pwm1\"} 128\n");
        assert_has(hwmon_out, "node_hwmon_humidity{chip=\"nct6775\",sensor=\"humidity1\"} 0.45\n");
        assert_null(strstr(hwmon_out, "uevent"));
        assert_has(edac_out, "# HELP node_edac_correctable_errors_total Total correctable memory errors.\n"
                             "# TYPE node_edac_correctable_errors_total counter\n"
                             "node_edac_correctable_errors_total{controller=\"0\"} 3\n");
        assert_has(edac_out, "node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"unknown\"} 1\n"
                             "node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"0\"} 2\n");
        assert_has(edac_out, "node_edac_uncorrectable_errors_total{controller=\"0\"} 0\n");
        assert_has(ps_out, "# HELP node_power_supply_capacity capacity value of /sys/class/power_supply/<power_supply>.\n"
                           "# TYPE node_power_supply_capacity gauge\n"
                           "node_power_supply_capacity{power_supply=\"BAT0\"} 87\n");
        assert_has(ps_out, "node_power_supply_energy_watthour{power_supply=\"BAT0\"} 41.5\n");
        assert_has(ps_out, "node_power_supply_temp_celsius{power_supply=\"BAT0\"} 29.5\n");
        assert_has(ps_out, "node_power_supply_online{power_supply=\"AC\"} 0\n");
        assert_has(ps_out, "node_power_supply_info{power_supply=\"AC\",type=\"Mains\"} 1\n");
        assert_has(ps_out, "node_power_supply_info{power_supply=\"BAT0\",status=\"Discharging\",type=\"Battery\"} 1\n");
        assert_int_equal(nftw_rm(root), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_arp),
                cmocka_unit_test(test_conntrack_entropy),
                cmocka_unit_test(test_pressure),
                cmocka_unit_test(test_softnet_vmstat_schedstat),
                cmocka_unit_test(test_udp_time_selinux),
                cmocka_unit_test(test_os),
                cmocka_unit_test(test_disk_info),
                cmocka_unit_test(test_mdadm),
                cmocka_unit_test(test_sysfs),
                cmocka_unit_test(test_sysfs_layout_cached),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
