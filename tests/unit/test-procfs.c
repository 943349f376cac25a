/* test-procfs.c — the /proc reader, tokenizer and parsers (common/procfs.h)
 * against fixtures and edge cases.
 *
 * Fixtures live in $FIXTURES: the unnamed ones ("stat", "meminfo", …) are
 * captures of a real machine, the others are hand-written edge cases and
 * malformed inputs.  Each fixture is loaded into a buffer of exactly its size,
 * with no NUL after it, so that AddressSanitizer catches any read past len.
 * Besides the expected values, every good fixture is fed to every parser cut
 * at every length and with bytes flipped: the parsers must never crash or
 * leak, whatever they return.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "procfs.h"
#include "util.h"

#include "fixture.h"

/* Runs every parser on text; frees whatever succeeds.  Returns nothing: the
 * point is that it neither crashes nor leaks. */
static void parse_all(const char *text, size_t len) {
        struct proc_stat st;
        struct meminfo mi;
        struct loadavg la;
        struct uptime up;
        struct net_dev *nd;
        size_t n;
        struct mountinfo mo;
        struct os_release os;
        struct cpuinfo ci;

        if (proc_stat_parse(text, len, &st) == 0)
                proc_stat_done(&st);
        (void)meminfo_parse(text, len, &mi);
        (void)loadavg_parse(text, len, &la);
        (void)uptime_parse(text, len, &up);
        if (net_dev_parse(text, len, &nd, &n) == 0)
                free(nd);
        if (mountinfo_parse(text, len, &mo) == 0)
                mountinfo_done(&mo);
        if (os_release_parse(text, len, &os) == 0)
                os_release_done(&os);
        if (cpuinfo_parse(text, len, &ci) == 0)
                cpuinfo_done(&ci);

        struct diskstat *ds;
        struct file_nr fnr;
        struct proc_pid_stat ps;

        if (diskstats_parse(text, len, &ds, &n) == 0)
                free(ds);
        (void)file_nr_parse(text, len, &fnr);
        (void)proc_pid_stat_parse(text, len, &ps);

        struct proc_pid_status pst;
        (void)proc_pid_status_parse(text, len, &pst);

        struct proc_pid_io io;
        struct proc_smaps_rollup sm;
        struct proc_limits *lim = malloc(sizeof *lim);
        struct cgroup_hint cg;
        const char *cgp;
        size_t cgn;

        assert_non_null(lim);
        (void)proc_pid_io_parse(text, len, &io);
        (void)proc_smaps_rollup_parse(text, len, &sm);
        (void)proc_limits_parse(text, len, lim);
        free(lim);
        cgroup_parse(text ? text : "", len, &cg);
        if (cgroup_v2_path(text, len, &cgp, &cgn) == 0)
                assert_true(cgp >= text && cgp + cgn <= text + len);
        {
                const char *p = text ? text : "", *end = p + len;
                struct proc_map m;
                while (proc_maps_next(&p, end, &m) > 0)
                        assert_true(m.path >= text && m.path + m.path_len <= end);
        }

        /* Every key of meminfo, as the scrape walks it. */
        if (!tv_has_nul(text, len)) {
                const char *p = text ? text : "", *end = p + len, *k;
                size_t kl;
                uint64_t v;
                bool kb;

                while (meminfo_next(&p, end, &k, &kl, &v, &kb) > 0)
                        assert_true(kl > 0 && k >= text && k + kl <= end);
        }
}

/* cmocka's assert_float_equal() compares floats; these are doubles. */
#define assert_near(a, b, eps)                                                                     \
        do {                                                                                       \
                double _a = (a), _b = (b);                                                         \
                if (!(_a - _b <= (eps) && _b - _a <= (eps)))                                       \
                        fail_msg("%s = %.12g, expected %.12g", #a, _a, _b);                        \
        } while (0)

struct bad_case {
        const char *fixture;
        int error; /* negative errno */
};

/* ---- the tokenizer --------------------------------------------------------- */

/* Each case on an exact-size copy, so that a read past the view fails. */
static int u64_of(const char *s, uint64_t *v) {
        size_t n;
        _cleanup_free_ char *c = exact(s, &n);
        return tv_to_u64(c, n, v);
}

static int i64_of(const char *s, int64_t *v) {
        size_t n;
        _cleanup_free_ char *c = exact(s, &n);
        return tv_to_i64(c, n, v);
}

static int unsigned_of(const char *s, unsigned *v) {
        size_t n;
        _cleanup_free_ char *c = exact(s, &n);
        return tv_to_unsigned(c, n, v);
}

static int decimal_of(const char *s, double *v) {
        size_t n;
        _cleanup_free_ char *c = exact(s, &n);
        return tv_to_decimal(c, n, v);
}

static void test_tokenizer_numbers(void **state) {
        static const struct {
                const char *text;
                int error;
        } bad_u64[] = {
                {"", -EINVAL},
                {" 1", -EINVAL},
                {"1 ", -EINVAL},
                {"+1", -EINVAL},
                {"-1", -EINVAL},
                {"0x10", -EINVAL},
                {"1a", -EINVAL},
                {"1.0", -EINVAL},
                {"1\n", -EINVAL},
                {"1\r", -EINVAL},
                {"\xd9\xa1", -EINVAL}, /* an Arabic-Indic one */
                {"18446744073709551616", -ERANGE},
                {"99999999999999999999", -ERANGE},
                {"000000000000000000000000000018446744073709551616", -ERANGE},
        };
        uint64_t u = 7;
        int64_t i = 7;
        unsigned w = 7;
        double d = 7;

        for (size_t k = 0; k < ELEMENTSOF(bad_u64); k++) {
                if (u64_of(bad_u64[k].text, &u) != bad_u64[k].error)
                        fail_msg("tv_to_u64(\"%s\") did not fail with %d", bad_u64[k].text,
                                 bad_u64[k].error);
                assert_int_equal(u, 7); /* nothing written on failure */
        }
        assert_int_equal(u64_of("0", &u), 0);
        assert_int_equal(u, 0);
        assert_int_equal(u64_of("00042", &u), 0);
        assert_int_equal(u, 42);
        assert_int_equal(u64_of("18446744073709551615", &u), 0);
        assert_true(u == UINT64_MAX);

        assert_int_equal(unsigned_of("4294967295", &w), 0);
        assert_true(w == UINT32_MAX);
        assert_int_equal(unsigned_of("4294967296", &w), -ERANGE);
        assert_true(w == UINT32_MAX);

        assert_int_equal(i64_of("-9223372036854775808", &i), 0);
        assert_true(i == INT64_MIN);
        assert_int_equal(i64_of("9223372036854775807", &i), 0);
        assert_true(i == INT64_MAX);
        assert_int_equal(i64_of("-1", &i), 0);
        assert_int_equal(i, -1);
        i = 7;
        assert_int_equal(i64_of("-9223372036854775809", &i), -ERANGE);
        assert_int_equal(i64_of("9223372036854775808", &i), -ERANGE);
        assert_int_equal(i64_of("-", &i), -EINVAL);
        assert_int_equal(i64_of("--1", &i), -EINVAL);
        assert_int_equal(i64_of("", &i), -EINVAL);
        assert_int_equal(i64_of("+1", &i), -EINVAL);
        assert_int_equal(i64_of("-1-", &i), -EINVAL);
        assert_int_equal(i, 7);

        assert_int_equal(decimal_of("1.5", &d), 0);
        assert_near(d, 1.5, 1e-12);
        assert_int_equal(decimal_of("160", &d), 0);
        assert_near(d, 160, 1e-12);
        assert_int_equal(decimal_of("0.123456789", &d), 0);
        assert_near(d, 0.123456789, 1e-12);
        d = 7;
        assert_int_equal(decimal_of("0.1234567891", &d), -EINVAL); /* 10 digits */
        assert_int_equal(decimal_of("1.", &d), -EINVAL);
        assert_int_equal(decimal_of(".5", &d), -EINVAL);
        assert_int_equal(decimal_of("1.2.3", &d), -EINVAL);
        assert_int_equal(decimal_of("-1.5", &d), -EINVAL);
        assert_int_equal(decimal_of("", &d), -EINVAL);
        assert_int_equal(decimal_of("1e3", &d), -EINVAL);
        assert_int_equal(decimal_of("18446744073709551616.5", &d), -ERANGE);
        assert_near(d, 7, 0);

        assert_true(tv_is_integer("-1", 2));
        assert_true(tv_is_integer("0", 1));
        assert_true(tv_is_integer("123456789012345678901234567890", 30)); /* any length */
        assert_false(tv_is_integer("", 0));
        assert_false(tv_is_integer("-", 1));
        assert_false(tv_is_integer("1-", 2));
        assert_false(tv_is_integer("1 ", 2));
}

static void test_tokenizer_views(void **state) {
        size_t n;
        _cleanup_free_ char *t = exact("  a\tbb \r\n\n c \nlast", &n);
        const char *p = t, *end = t + n, *line, *lp, *tok = NULL;
        size_t line_len, tok_len = 0;

        /* Lines: the last one without its newline, empty ones kept. */
        assert_true(tv_next_line(&p, end, &line, &line_len));
        assert_int_equal(line_len, 8);
        lp = line;
        assert_true(tv_next_token(&lp, line + line_len, &tok, &tok_len));
        assert_true(tv_eq(tok, tok_len, "a"));
        assert_true(tv_next_token(&lp, line + line_len, &tok, &tok_len));
        assert_true(tv_eq(tok, tok_len, "bb"));
        /* '\r' is text for the tokenizer, only tv_trim() drops it. */
        assert_true(tv_next_token(&lp, line + line_len, &tok, &tok_len));
        assert_true(tv_eq(tok, tok_len, "\r"));
        assert_false(tv_next_token(&lp, line + line_len, &tok, &tok_len));
        tv_trim(&line, &line_len);
        assert_true(tv_eq(line, line_len, "a\tbb"));

        assert_true(tv_next_line(&p, end, &line, &line_len));
        assert_int_equal(line_len, 0);
        lp = line;
        assert_false(tv_next_token(&lp, line + line_len, &tok, &tok_len));
        assert_true(tv_next_line(&p, end, &line, &line_len));
        tv_trim(&line, &line_len);
        assert_true(tv_eq(line, line_len, "c"));
        assert_true(tv_next_line(&p, end, &line, &line_len));
        assert_true(tv_eq(line, line_len, "last"));
        assert_true(tv_starts(line, line_len, "la"));
        assert_false(tv_starts(line, line_len, "lastx"));
        assert_false(tv_next_line(&p, end, &line, &line_len));

        /* An empty text has no line; a NUL is found anywhere. */
        p = end = t;
        assert_false(tv_next_line(&p, end, &line, &line_len));
        assert_false(tv_has_nul(NULL, 0));
        assert_true(tv_has_nul(NULL, 1));
        assert_true(tv_has_nul("ab\0c", 4));
        assert_false(tv_has_nul("abc", 3));
}

/* The reader, on a file we write: the buffer grows to fit, never past the
 * source's max. */
static void test_reader(void **state) {
        char path[] = "/tmp/test-procfs-XXXXXX";
        int fd = mkstemp(path);
        size_t big = PROCFS_BUF_START * 3, len;
        _cleanup_free_ char *data = malloc(big);
        struct procfs_source src = {.path = path, .max = big + 2, .fd = -1};
        struct procfs_source missing = {.path = "/nonexistent/steward", .max = 4096, .fd = -1};
        struct procfs_buf b = {};
        const char *text;

        assert_true(fd >= 0);
        assert_non_null(data);
        memset(data, 'x', big);
        assert_int_equal(write(fd, data, big), (ssize_t)big);
        close(fd);

        /* Not open yet: -EBADF; a missing file keeps its open error. */
        assert_int_equal(procfs_source_read(&src, &b, &text, &len), -EBADF);
        assert_int_equal(procfs_source_open(&missing), -ENOENT);
        assert_int_equal(procfs_source_read(&missing, &b, &text, &len), -ENOENT);

        /* max is the file's size + 2 (the NUL, and the byte that tells the
         * end of the file from a file that fills the buffer): it just fits. */
        assert_int_equal(procfs_source_open(&src), 0);
        assert_int_equal(procfs_source_read(&src, &b, &text, &len), 0);
        assert_int_equal(len, big);
        assert_int_equal(text[len], '\0');
        assert_true(b.cap >= big + 1);
        /* Read again from offset 0: the same text. */
        assert_int_equal(procfs_source_read(&src, &b, &text, &len), 0);
        assert_int_equal(len, big);
        procfs_source_close(&src);

        /* One byte less of room: too big. */
        src.max = big + 1;
        assert_int_equal(procfs_source_open(&src), 0);
        assert_int_equal(procfs_source_read(&src, &b, &text, &len), -EFBIG);
        procfs_source_close(&src);
        procfs_source_close(&missing);
        procfs_buf_free(&b);
        procfs_buf_free(&b); /* twice: released */
        unlink(path);
}

/* A short read ends a short-record source only when it is short of both
 * what was asked and PROCFS_SHORT_READ: a seq_file stops short of a full
 * page when the next record does not fit, and that is not the end. */
static void test_short_read_ends(void **state) {
        char path[] = "/tmp/test-procfs-XXXXXX";
        int fd = mkstemp(path);
        size_t big = PROCFS_BUF_START * 3, len;
        _cleanup_free_ char *data = malloc(big);
        struct procfs_source src = {.path = path, .max = big + 2, .fd = -1, .short_read_ends = true};
        struct procfs_buf b = {};
        const char *text;

        (void)state;
        assert_true(procfs_read_ended(128, 4095));
        assert_true(procfs_read_ended(PROCFS_SHORT_READ - 1, 16383));
        assert_false(procfs_read_ended(4095, 4095));
        assert_false(procfs_read_ended(PROCFS_SHORT_READ, 16383));
        assert_false(procfs_read_ended(3968, 16383)); /* a page less one record */
        assert_false(procfs_read_ended(100, 100));    /* all that was asked */

        /* A regular file reads whole either way, across buffer growth. */
        assert_true(fd >= 0);
        assert_non_null(data);
        memset(data, 'y', big);
        assert_int_equal(write(fd, data, big), (ssize_t)big);
        close(fd);
        assert_int_equal(procfs_source_open(&src), 0);
        assert_int_equal(procfs_source_read(&src, &b, &text, &len), 0);
        assert_int_equal(len, big);
        assert_int_equal(text[len], '\0');
        procfs_source_close(&src);
        procfs_buf_free(&b);
        unlink(path);
}

/* Per-process files are read relative to their /proc/PID directory. */
static void test_read_at(void **state) {
        int dir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct procfs_buf b = {};
        struct proc_pid_stat st;
        struct proc_pid_status status;
        const char *text;
        size_t len;

        assert_true(dir >= 0);
        assert_int_equal(procfs_read_at(dir, "stat", 4096, &b, &text, &len), 0);
        assert_int_equal(proc_pid_stat_parse(text, len, &st), 0);
        assert_int_equal(st.pid, getpid());
        assert_int_equal(procfs_read_at(dir, "status", 64 * 1024, &b, &text, &len), 0);
        assert_int_equal(proc_pid_status_parse(text, len, &status), 0);
        assert_int_equal(status.pid, getpid());
        assert_int_equal(status.uid[0], getuid());
        assert_int_equal(procfs_read_at(dir, "stat", 8, &b, &text, &len), -EFBIG);
        assert_int_equal(procfs_read_at(dir, "no-such-file", 4096, &b, &text, &len), -ENOENT);
        /* /proc/self/exe is a symlink: not followed. */
        assert_int_equal(procfs_read_at(dir, "exe", 4096, &b, &text, &len), -ELOOP);
        procfs_buf_free(&b);
        close(dir);
}

/* ---- /proc/stat ----------------------------------------------------------- */

static void test_stat_real(void **state) {
        _cleanup_free_ char *t = NULL;
        struct proc_stat s;
        size_t len;

        load("stat", &t, &len);
        assert_int_equal(proc_stat_parse(t, len, &s), 0);

        const uint64_t total[] = {2745, 0, 1779, 56310, 435, 0, 80, 61, 0, 0};
        for (size_t i = 0; i < _CPU_MODE_MAX; i++)
                assert_int_equal(s.total.jiffies[i], total[i]);

        assert_int_equal(s.n_cpus, 2);
        assert_int_equal(s.cpus[0].id, 0);
        assert_int_equal(s.cpus[1].id, 1);
        assert_int_equal(s.cpus[1].jiffies[CPU_USER], 1854);
        assert_int_equal(s.cpus[1].jiffies[CPU_IOWAIT], 418);
        assert_int_equal(s.cpus[1].jiffies[CPU_STEAL], 38);
        assert_int_equal(s.ctxt, 237171);
        assert_int_equal(s.btime, 1795663528);
        assert_int_equal(s.processes, 3846);
        assert_int_equal(s.procs_running, 2);
        assert_int_equal(s.procs_blocked, 0);

        assert_ptr_equal(proc_stat_find_cpu(&s, 1), &s.cpus[1]);
        assert_ptr_equal(proc_stat_find_cpu(&s, 0), &s.cpus[0]);
        assert_null(proc_stat_find_cpu(&s, 2));

        proc_stat_done(&s);
        proc_stat_done(&s); /* idempotent */
}

static void test_stat_old_and_new_kernels(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL;
        struct proc_stat s;
        size_t len;

        /* Linux 2.4: four columns, no procs_running. */
        load("stat-linux24", &t, &len);
        assert_int_equal(proc_stat_parse(t, len, &s), 0);
        assert_int_equal(s.total.jiffies[CPU_USER], 100);
        assert_int_equal(s.total.jiffies[CPU_IDLE], 400);
        assert_int_equal(s.total.jiffies[CPU_IOWAIT], 0);
        assert_int_equal(s.n_cpus, 2);
        assert_int_equal(s.btime, 769041601);
        assert_int_equal(s.procs_running, 0);
        proc_stat_done(&s);

        /* More columns than we know, no trailing newline, UINT64_MAX. */
        load("stat-future-no-newline", &u, &len);
        assert_int_equal(proc_stat_parse(u, len, &s), 0);
        assert_int_equal(s.total.jiffies[CPU_GUEST_NICE], 10);
        assert_int_equal(s.cpus[0].jiffies[CPU_STEAL], 8);
        assert_true(s.ctxt == UINT64_MAX);
        assert_int_equal(s.procs_blocked, 0);
        assert_int_equal(s.procs_running, 1);
        proc_stat_done(&s);
}

static void test_stat_malformed(void **state) {
        static const struct bad_case cases[] = {
                {"stat-no-total", -EINVAL},
                {"stat-truncated", -EINVAL},
                {"stat-huge", -ERANGE},
                {"stat-garbage", -EINVAL},
                {"stat-unordered", -EINVAL},
                {"stat-duplicate", -EINVAL},
                {"stat-missing-value", -EINVAL},
                {"stat-negative", -EINVAL},
                {"empty", -EINVAL},
                {"meminfo", -EINVAL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *t = NULL;
                struct proc_stat s = {.n_cpus = 12345};
                size_t len;

                load(cases[i].fixture, &t, &len);
                if (proc_stat_parse(t, len, &s) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
                assert_int_equal(s.n_cpus, 12345); /* untouched on failure */
        }

        struct proc_stat s;
        assert_int_equal(proc_stat_parse(NULL, 0, &s), -EINVAL);
        assert_int_equal(proc_stat_parse("cpu 1 2 3 4\0", 12, &s), -EINVAL);
}

static char *make_stat(size_t n_cpus, size_t *ret_len) {
        size_t cap = 64 + n_cpus * 64, len = 0;
        char *p = malloc(cap);

        assert_non_null(p);
        len += (size_t)snprintf(p + len, cap - len, "cpu  1 2 3 4 5 6 7 8 0 0\n");
        for (size_t i = 0; i < n_cpus; i++)
                len += (size_t)snprintf(p + len, cap - len, "cpu%zu 1 2 3 4 5 6 7 8 0 0\n", i);
        assert_true(len < cap);
        *ret_len = len;
        return p;
}

static void test_stat_limits(void **state) {
        _cleanup_free_ char *ok = NULL, *big = NULL;
        struct proc_stat s;
        size_t len;

        ok = make_stat(PROCFS_MAX_CPUS, &len);
        assert_int_equal(proc_stat_parse(ok, len, &s), 0);
        assert_int_equal(s.n_cpus, PROCFS_MAX_CPUS);
        assert_non_null(proc_stat_find_cpu(&s, PROCFS_MAX_CPUS - 1));
        proc_stat_done(&s);

        big = make_stat(PROCFS_MAX_CPUS + 1, &len);
        assert_int_equal(proc_stat_parse(big, len, &s), -E2BIG);
}

/* ---- CPU percentages ------------------------------------------------------ */

static void set_times(struct cpu_times *t, uint64_t user, uint64_t nice, uint64_t system,
                      uint64_t idle, uint64_t iowait, uint64_t irq, uint64_t softirq,
                      uint64_t steal, uint64_t guest, uint64_t guest_nice) {
        const uint64_t v[_CPU_MODE_MAX] = {user, nice,    system, idle,  iowait,
                                           irq,  softirq, steal,  guest, guest_nice};
        memcpy(t->jiffies, v, sizeof(v));
}

static void test_cpu_percent(void **state) {
        struct cpu_times a = {}, b = {};
        struct cpu_percent pc = {.busy = -1};

        /* 1000 jiffies elapsed: 250 user, 50 system, 600 idle, 100 iowait. */
        set_times(&a, 1000, 0, 500, 10000, 100, 0, 0, 0, 0, 0);
        set_times(&b, 1250, 0, 550, 10600, 200, 0, 0, 0, 0, 0);
        assert_int_equal(cpu_percent_compute(&a, &b, &pc), 0);
        assert_near(pc.mode[CPU_USER], 25.0, 1e-9);
        assert_near(pc.mode[CPU_SYSTEM], 5.0, 1e-9);
        assert_near(pc.mode[CPU_IDLE], 60.0, 1e-9);
        assert_near(pc.mode[CPU_IOWAIT], 10.0, 1e-9);
        assert_near(pc.busy, 30.0, 1e-9);

        /* Guest time is inside user: not added to the base twice. */
        set_times(&a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        set_times(&b, 80, 20, 0, 100, 0, 0, 0, 0, 60, 10);
        assert_int_equal(cpu_percent_compute(&a, &b, &pc), 0);
        assert_near(pc.mode[CPU_USER], 40.0, 1e-9);
        assert_near(pc.mode[CPU_NICE], 10.0, 1e-9);
        assert_near(pc.mode[CPU_GUEST], 30.0, 1e-9);
        assert_near(pc.mode[CPU_GUEST_NICE], 5.0, 1e-9);
        assert_near(pc.busy, 50.0, 1e-9);

        /* Steal counts in the base and as busy. */
        set_times(&a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        set_times(&b, 0, 0, 0, 50, 0, 0, 0, 50, 0, 0);
        assert_int_equal(cpu_percent_compute(&a, &b, &pc), 0);
        assert_near(pc.mode[CPU_STEAL], 50.0, 1e-9);
        assert_near(pc.busy, 50.0, 1e-9);

        /* iowait going backwards counts as zero, not as a huge delta. */
        set_times(&a, 100, 0, 0, 100, 500, 0, 0, 0, 0, 0);
        set_times(&b, 200, 0, 0, 200, 400, 0, 0, 0, 0, 0);
        assert_int_equal(cpu_percent_compute(&a, &b, &pc), 0);
        assert_near(pc.mode[CPU_IOWAIT], 0.0, 1e-9);
        assert_near(pc.mode[CPU_USER], 50.0, 1e-9);
        assert_near(pc.busy, 50.0, 1e-9);

        /* Everything backwards (a CPU that restarted): no data. */
        set_times(&a, 100, 1, 2, 100, 5, 0, 0, 0, 0, 0);
        set_times(&b, 10, 0, 1, 10, 5, 0, 0, 0, 0, 0);
        pc.busy = -1;
        assert_int_equal(cpu_percent_compute(&a, &b, &pc), -ENODATA);
        assert_near(pc.busy, -1, 0); /* untouched */

        /* Identical samples: no data. */
        assert_int_equal(cpu_percent_compute(&a, &a, &pc), -ENODATA);

        /* Counters near UINT64_MAX do not overflow the sum. */
        set_times(&a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        set_times(&b, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, 0, 0, 0, 0, 0, 0);
        assert_int_equal(cpu_percent_compute(&a, &b, &pc), 0);
        assert_near(pc.mode[CPU_USER], 25.0, 1e-6);
        assert_near(pc.busy, 75.0, 1e-6);
        for (size_t i = 0; i < _CPU_MODE_MAX; i++)
                assert_true(pc.mode[i] >= 0.0 && pc.mode[i] <= 100.0);

        assert_int_equal(cpu_percent_compute(NULL, &b, &pc), -EINVAL);

        assert_string_equal(cpu_mode_to_string(CPU_USER), "user");
        assert_string_equal(cpu_mode_to_string(CPU_GUEST_NICE), "guest_nice");
        assert_null(cpu_mode_to_string(_CPU_MODE_MAX));
}

static void test_cpu_percent_from_fixtures(void **state) {
        _cleanup_free_ char *t = NULL;
        struct proc_stat s1, s2;
        struct cpu_percent pc;
        size_t len;

        /* The same capture, then one where cpu0 advanced 100 jiffies. */
        load("stat", &t, &len);
        assert_int_equal(proc_stat_parse(t, len, &s1), 0);
        assert_int_equal(proc_stat_parse(t, len, &s2), 0);
        assert_int_equal(cpu_percent_compute(&s1.total, &s2.total, &pc), -ENODATA);

        s2.cpus[0].jiffies[CPU_USER] += 30;
        s2.cpus[0].jiffies[CPU_IDLE] += 70;
        assert_int_equal(
                cpu_percent_compute(proc_stat_find_cpu(&s1, 0), proc_stat_find_cpu(&s2, 0), &pc),
                0);
        assert_near(pc.mode[CPU_USER], 30.0, 1e-9);
        assert_near(pc.busy, 30.0, 1e-9);

        proc_stat_done(&s1);
        proc_stat_done(&s2);
}

/* ---- /proc/meminfo -------------------------------------------------------- */

static void test_meminfo_real(void **state) {
        _cleanup_free_ char *t = NULL;
        struct meminfo m;
        size_t len;

        load("meminfo", &t, &len);
        assert_int_equal(meminfo_parse(t, len, &m), 0);
        assert_int_equal(m.total, UINT64_C(24683656) * 1024);
        assert_int_equal(m.free, UINT64_C(24483904) * 1024);
        assert_int_equal(m.available, UINT64_C(24428004) * 1024);
        assert_true(m.has_available);
        assert_int_equal(m.buffers, UINT64_C(2704) * 1024);
        assert_int_equal(m.cached, UINT64_C(82056) * 1024);
        assert_int_equal(m.active, UINT64_C(20088) * 1024);
        assert_int_equal(m.inactive, UINT64_C(60948) * 1024);
        assert_int_equal(m.swap_total, 0);
        assert_int_equal(m.swap_free, 0);
        assert_int_equal(m.dirty, UINT64_C(260) * 1024);
        assert_int_equal(m.shmem, UINT64_C(8952) * 1024);
        assert_int_equal(m.slab, UINT64_C(74716) * 1024);
        assert_int_equal(m.sreclaimable, UINT64_C(54336) * 1024);
        assert_int_equal(m.sunreclaim, UINT64_C(20380) * 1024);
}

static void test_meminfo_old_kernel(void **state) {
        _cleanup_free_ char *t = NULL;
        struct meminfo m;
        size_t len;

        /* No MemAvailable, no trailing newline, unit-less HugePages line. */
        load("meminfo-old-no-newline", &t, &len);
        assert_int_equal(meminfo_parse(t, len, &m), 0);
        assert_false(m.has_available);
        assert_int_equal(m.available, UINT64_C(430000) * 1024);
        assert_int_equal(m.swap_total, UINT64_C(2097148) * 1024);
        assert_int_equal(m.swap_free, UINT64_C(2000000) * 1024);
}

static void test_meminfo_malformed(void **state) {
        static const struct bad_case cases[] = {
                {"meminfo-overflow", -ERANGE},
                {"meminfo-huge", -ERANGE},
                {"meminfo-missing-total", -EINVAL},
                {"meminfo-no-colon", -EINVAL},
                {"meminfo-bad-unit", -EINVAL},
                {"meminfo-missing-unit", -EINVAL},
                {"meminfo-truncated", -EINVAL},
                {"meminfo-duplicate", -EINVAL},
                {"meminfo-negative", -EINVAL},
                {"empty", -EINVAL},
                {"stat", -EINVAL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *t = NULL;
                struct meminfo m = {.total = 42};
                size_t len;

                load(cases[i].fixture, &t, &len);
                if (meminfo_parse(t, len, &m) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
                assert_int_equal(m.total, 42);
        }
}

/* ---- /proc/loadavg, /proc/uptime ------------------------------------------ */

static void test_loadavg(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL;
        struct loadavg la;
        size_t len;

        load("loadavg", &t, &len);
        assert_int_equal(loadavg_parse(t, len, &la), 0);
        assert_near(la.load1, 0.13, 1e-9);
        assert_near(la.load5, 0.15, 1e-9);
        assert_near(la.load15, 0.07, 1e-9);
        assert_int_equal(la.running, 1);
        assert_int_equal(la.total, 81);
        assert_int_equal(la.last_pid, 3847);

        load("loadavg-no-newline", &u, &len);
        assert_int_equal(loadavg_parse(u, len, &la), 0);
        assert_near(la.load1, 12.5, 1e-9);
        assert_near(la.load15, 100.0, 1e-9);
        assert_int_equal(la.running, 7);
        assert_int_equal(la.total, 1234);
        assert_int_equal(la.last_pid, 99999);

        static const struct bad_case cases[] = {
                {"loadavg-garbage", -EINVAL},
                {"loadavg-truncated", -EINVAL},
                {"loadavg-no-slash", -EINVAL},
                {"loadavg-extra", -EINVAL},
                {"loadavg-empty-total", -EINVAL},
                {"empty", -EINVAL},
                {"uptime", -EINVAL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *b = NULL;

                load(cases[i].fixture, &b, &len);
                if (loadavg_parse(b, len, &la) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
        }
}

static void test_uptime(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL;
        struct uptime up;
        size_t len;

        load("uptime", &t, &len);
        assert_int_equal(uptime_parse(t, len, &up), 0);
        assert_near(up.uptime, 308.29, 1e-9);
        assert_near(up.idle, 563.10, 1e-9);

        load("uptime-no-newline", &u, &len);
        assert_int_equal(uptime_parse(u, len, &up), 0);
        assert_near(up.uptime, 1234567.89, 1e-6);
        assert_near(up.idle, 42.5, 1e-9);

        static const struct bad_case cases[] = {
                {"uptime-truncated", -EINVAL}, {"uptime-garbage", -EINVAL},
                {"uptime-negative", -EINVAL},  {"empty", -EINVAL},
                {"loadavg", -EINVAL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *b = NULL;

                load(cases[i].fixture, &b, &len);
                if (uptime_parse(b, len, &up) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
        }

        size_t n;
        _cleanup_free_ char *x = exact("1.1234567890 2", &n);
        assert_int_equal(uptime_parse(x, n, &up), -EINVAL); /* > 9 decimals */
}

/* ---- /proc/net/dev -------------------------------------------------------- */

static void test_net_dev_real(void **state) {
        _cleanup_free_ char *t = NULL;
        _cleanup_free_ struct net_dev *d = NULL;
        size_t len, n;

        load("net-dev", &t, &len);
        assert_int_equal(net_dev_parse(t, len, &d, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(d[0].name, "lo");
        assert_int_equal(d[0].rx_bytes, 3267);
        assert_int_equal(d[0].tx_packets, 29);
        assert_string_equal(d[1].name, "ifb0");
        assert_string_equal(d[2].name, "ifb1");
        assert_string_equal(d[3].name, "eth0");
        assert_int_equal(d[3].rx_bytes, 25482524);
        assert_int_equal(d[3].rx_packets, 896);
        assert_int_equal(d[3].tx_bytes, 52356);
        assert_int_equal(d[3].tx_packets, 694);
}

static void test_net_dev_edge(void **state) {
        _cleanup_free_ char *t = NULL, *e = NULL;
        _cleanup_free_ struct net_dev *d = NULL, *d2 = NULL;
        size_t len, n;

        /* A counter glued to the colon, 2^64-1, a name with a dot, no final
         * newline. */
        load("net-dev-glued-no-newline", &t, &len);
        assert_int_equal(net_dev_parse(t, len, &d, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(d[0].name, "eth0");
        assert_int_equal(d[0].rx_bytes, UINT64_C(4294967296000));
        assert_int_equal(d[0].rx_packets, 12345);
        assert_int_equal(d[0].rx_errs, 1);
        assert_int_equal(d[0].rx_drop, 2);
        assert_int_equal(d[0].rx_multicast, 6);
        assert_true(d[0].tx_bytes == UINT64_MAX);
        assert_int_equal(d[0].tx_errs, 7);
        assert_int_equal(d[0].tx_drop, 8);
        assert_int_equal(d[0].tx_compressed, 12);
        assert_string_equal(d[1].name, "br-lan.10");
        assert_int_equal(d[1].rx_bytes, 1);
        assert_int_equal(d[1].tx_compressed, 16);

        load("net-dev-empty", &e, &len);
        assert_int_equal(net_dev_parse(e, len, &d2, &n), 0);
        assert_int_equal(n, 0);

        static const struct bad_case cases[] = {
                {"net-dev-no-header", -EINVAL},
                {"net-dev-truncated", -EINVAL},
                {"net-dev-extra-column", -EINVAL},
                {"net-dev-bad-name", -EINVAL},
                {"net-dev-slash-name", -EINVAL},
                {"net-dev-long-name", -EINVAL},
                {"net-dev-no-colon", -EINVAL},
                {"net-dev-huge", -ERANGE},
                {"empty", -EINVAL},
                {"stat", -EINVAL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *b = NULL;
                struct net_dev *x = (struct net_dev *)0x1;
                size_t xn = 77;

                load(cases[i].fixture, &b, &len);
                if (net_dev_parse(b, len, &x, &xn) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
                assert_ptr_equal(x, (struct net_dev *)0x1);
                assert_int_equal(xn, 77);
        }
}

static void test_net_dev_limits(void **state) {
        static const char hdr[] = "Inter-|\n face |\n";
        size_t cap = sizeof(hdr) + (PROCFS_MAX_IFACES + 1) * 64, len;
        _cleanup_free_ char *p = malloc(cap);
        struct net_dev *d;
        size_t n;

        assert_non_null(p);
        len = (size_t)snprintf(p, cap, "%s", hdr);
        for (size_t i = 0; i < PROCFS_MAX_IFACES; i++)
                len += (size_t)snprintf(p + len, cap - len,
                                        "v%zu: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i);
        assert_int_equal(net_dev_parse(p, len, &d, &n), 0);
        assert_int_equal(n, PROCFS_MAX_IFACES);
        free(d);

        len += (size_t)snprintf(p + len, cap - len,
                                "last: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
        assert_true(len < cap);
        assert_int_equal(net_dev_parse(p, len, &d, &n), -E2BIG);
}

/* ---- /proc/self/mountinfo ------------------------------------------------- */

static void test_mountinfo_real(void **state) {
        _cleanup_free_ char *t = NULL;
        struct mountinfo m;
        size_t len;

        load("mountinfo", &t, &len);
        assert_int_equal(mountinfo_parse(t, len, &m), 0);
        assert_int_equal(m.n_entries, 19);

        assert_int_equal(m.entries[0].mount_id, 22);
        assert_int_equal(m.entries[0].parent_id, 27);
        assert_string_equal(m.entries[0].mount_point, "/proc");
        assert_string_equal(m.entries[0].fstype, "proc");

        const struct mount_entry *root = &m.entries[5];
        assert_int_equal(root->mount_id, 27);
        assert_int_equal(root->major, 254);
        assert_int_equal(root->minor, 0);
        assert_string_equal(root->root, "/");
        assert_string_equal(root->mount_point, "/");
        assert_string_equal(root->options, "rw,relatime");
        assert_string_equal(root->fstype, "ext4");
        assert_string_equal(root->source, "/dev/vda");
        assert_string_equal(root->super_options,
                            "rw,discard,resv_strict,resuid=65534,resgid=65534");

        assert_string_equal(m.entries[18].mount_point, "/sys/fs/cgroup/unified");
        assert_string_equal(m.entries[18].fstype, "cgroup2");

        mountinfo_done(&m);
        mountinfo_done(&m);
}

/* The list every file system view shows: pseudo and excluded ones out,
 * the topmost of a stacked mount point kept, sorted by mount point. */
static void test_mountinfo_real_list(void **state) {
        static const char text[] =
                "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
                "23 22 0:21 / /proc rw,nosuid - proc proc rw\n"
                "24 22 0:5 / /dev rw - devtmpfs udev rw\n"
                "25 22 8:2 / /srv rw - ext4 /dev/sda2 rw\n"
                "26 25 0:40 / /srv ro,relatime - tmpfs tmpfs rw\n"
                "27 22 0:41 / /run/credentials/x.service ro - tmpfs tmpfs rw\n"
                "28 22 8:3 / /boot ro,noatime - vfat /dev/sda3 rw\n";
        const struct mount_entry **v = NULL;
        struct mountinfo m;
        size_t n = 0;

        (void)state;
        assert_int_equal(mountinfo_parse(text, sizeof text - 1, &m), 0);
        assert_int_equal(mountinfo_real(&m, &v, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(v[0]->mount_point, "/");
        assert_string_equal(v[1]->mount_point, "/boot");
        assert_string_equal(v[2]->mount_point, "/srv");
        assert_string_equal(v[2]->fstype, "tmpfs"); /* the later, on top */
        assert_true(procfs_mount_option_set(v[2]->options, "ro"));
        assert_true(procfs_mount_option_set(v[1]->options, "noatime"));
        assert_false(procfs_mount_option_set(v[0]->options, "ro"));
        assert_false(procfs_mount_option_set("rorw,relatime", "ro"));
        assert_false(procfs_mount_option_set("", "ro"));
        free(v);
        mountinfo_done(&m);

        assert_int_equal(mountinfo_parse(NULL, 0, &m), 0);
        assert_int_equal(mountinfo_real(&m, &v, &n), 0);
        assert_int_equal(n, 0);
        free(v);
        mountinfo_done(&m);
}

static void test_mountinfo_escaped(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL;
        struct mountinfo m;
        size_t len;

        load("mountinfo-escaped", &t, &len);
        assert_int_equal(mountinfo_parse(t, len, &m), 0);
        assert_int_equal(m.n_entries, 5);

        /* Optional fields are skipped; \040 is a space. */
        assert_string_equal(m.entries[1].root, "/data/with space");
        assert_string_equal(m.entries[1].mount_point, "/mnt/my disk");
        assert_string_equal(m.entries[1].fstype, "xfs");
        assert_string_equal(m.entries[1].source, "/dev/sdb1");
        assert_int_equal(m.entries[1].major, 8);
        assert_int_equal(m.entries[1].minor, 17);

        /* Tab and backslash; an empty source. */
        assert_string_equal(m.entries[2].mount_point, "/mnt/tab\tand\\backslash");
        assert_string_equal(m.entries[2].source, "");
        assert_string_equal(m.entries[2].options, "ro,relatime");

        assert_string_equal(m.entries[3].mount_point, "/srv/new\nline");
        assert_string_equal(m.entries[3].fstype, "fuse.sshfs");
        assert_string_equal(m.entries[3].source, "user@host:/remote dir");

        assert_int_equal(m.entries[4].major, 4294967295u);
        assert_int_equal(m.entries[4].minor, 4294967295u);
        mountinfo_done(&m);

        load("mountinfo-no-newline", &u, &len);
        assert_int_equal(mountinfo_parse(u, len, &m), 0);
        assert_int_equal(m.n_entries, 1);
        assert_string_equal(m.entries[0].super_options, "rw");
        mountinfo_done(&m);

        /* No mounts at all is not an error for the parser. */
        assert_int_equal(mountinfo_parse(NULL, 0, &m), 0);
        assert_int_equal(m.n_entries, 0);
        mountinfo_done(&m);
}

static void test_mountinfo_malformed(void **state) {
        static const struct bad_case cases[] = {
                {"mountinfo-bad-escape", -EINVAL},
                {"mountinfo-short-escape", -EINVAL},
                {"mountinfo-escaped-nul", -EINVAL},
                {"mountinfo-escape-range", -EINVAL},
                {"mountinfo-no-separator", -EINVAL},
                {"mountinfo-truncated", -EINVAL},
                {"mountinfo-extra", -EINVAL},
                {"mountinfo-bad-dev", -EINVAL},
                {"mountinfo-empty-mountpoint", -EINVAL},
                {"mountinfo-bad-id", -EINVAL},
                {"mountinfo-double-space", -EINVAL},
                {"mountinfo-huge", -EINVAL},
                {"stat", -EINVAL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *t = NULL;
                struct mountinfo m = {.n_entries = 99};
                size_t len;

                load(cases[i].fixture, &t, &len);
                if (mountinfo_parse(t, len, &m) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
                assert_int_equal(m.n_entries, 99);
        }
}

static void test_mountinfo_limits(void **state) {
        static const char line[] = "1 1 0:1 / /m rw - tmpfs t rw\n";
        size_t l = sizeof(line) - 1, len = 0;
        _cleanup_free_ char *p = malloc(l * (PROCFS_MAX_MOUNTS + 1));
        struct mountinfo m;

        assert_non_null(p);
        for (size_t i = 0; i < PROCFS_MAX_MOUNTS; i++, len += l)
                memcpy(p + len, line, l);
        assert_int_equal(mountinfo_parse(p, len, &m), 0);
        assert_int_equal(m.n_entries, PROCFS_MAX_MOUNTS);
        mountinfo_done(&m);

        memcpy(p + len, line, l);
        len += l;
        assert_int_equal(mountinfo_parse(p, len, &m), -E2BIG);
}

/* ---- /etc/os-release ------------------------------------------------------ */

static void test_os_release_real(void **state) {
        _cleanup_free_ char *t = NULL;
        struct os_release o;
        size_t len;

        load("os-release", &t, &len);
        assert_int_equal(os_release_parse(t, len, &o), 0);
        assert_string_equal(o.pretty_name, "Debian GNU/Linux 12 (bookworm)");
        assert_string_equal(o.name, "Debian GNU/Linux");
        assert_string_equal(o.id, "debian");
        assert_string_equal(o.version_id, "12");
        assert_string_equal(o.version, "12 (bookworm)");
        assert_string_equal(o.version_codename, "bookworm");
        assert_null(o.id_like);
        assert_null(o.variant_id);
        os_release_done(&o);
        os_release_done(&o);
}

static void test_os_release_quoting(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL, *c = NULL;
        struct os_release o;
        size_t len;

        load("os-release-quoting", &t, &len);
        assert_int_equal(os_release_parse(t, len, &o), 0);
        assert_string_equal(o.name, "Single $quoted \"name\"");
        assert_string_equal(o.pretty_name, "Double \"quoted\" $HOME \\ back\\slash `tick`");
        assert_string_equal(o.id, "unquoted with escapes");
        assert_string_equal(o.id_like, "rhel fedora");
        assert_string_equal(o.version, "second wins");
        assert_string_equal(o.version_id, "123");
        assert_string_equal(o.version_codename, "");
        assert_string_equal(o.variant_id, "multiline");
        assert_string_equal(o.build_id, "a#b");
        os_release_done(&o);

        load("os-release-no-newline", &u, &len);
        assert_int_equal(os_release_parse(u, len, &o), 0);
        assert_string_equal(o.name, "Fedora Linux");
        assert_string_equal(o.version_id, "40");
        assert_null(o.pretty_name);
        os_release_done(&o);

        load("os-release-crlf", &c, &len);
        assert_int_equal(os_release_parse(c, len, &o), 0);
        assert_string_equal(o.name, "a");
        assert_string_equal(o.id, "b");
        os_release_done(&o);

        /* An empty file is valid: every key absent. */
        assert_int_equal(os_release_parse(NULL, 0, &o), 0);
        assert_null(o.name);
        os_release_done(&o);
}

static void test_os_release_malformed(void **state) {
        static const struct bad_case cases[] = {
                {"os-release-unterminated", -EINVAL},
                {"os-release-unterminated-single", -EINVAL},
                {"os-release-bad-key", -EINVAL},
                {"os-release-no-equals", -EINVAL},
                {"os-release-unquoted-space", -EINVAL},
                {"os-release-junk", -EINVAL},
                {"os-release-trailing-backslash", -EINVAL},
                {"os-release-export", -EINVAL},
                {"meminfo", -EINVAL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *t = NULL;
                struct os_release o = {.name = (char *)"untouched"};
                size_t len;

                load(cases[i].fixture, &t, &len);
                if (os_release_parse(t, len, &o) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
                assert_string_equal(o.name, "untouched");
        }

        /* A value over the cap. */
        size_t cap = PROCFS_MAX_VALUE + 16, len;
        _cleanup_free_ char *big = malloc(cap);
        struct os_release o;

        assert_non_null(big);
        memcpy(big, "NAME=", 5);
        memset(big + 5, 'x', cap - 5);
        len = 5 + PROCFS_MAX_VALUE;
        assert_int_equal(os_release_parse(big, len, &o), 0);
        assert_int_equal(strlen(o.name), PROCFS_MAX_VALUE);
        os_release_done(&o);
        assert_int_equal(os_release_parse(big, len + 1, &o), -E2BIG);
}

/* ---- /proc/cpuinfo -------------------------------------------------------- */

static void test_cpuinfo(void **state) {
        static const struct {
                const char *fixture;
                const char *model; /* NULL: none */
                unsigned count;
        } cases[] = {
                {"cpuinfo", "AMD EPYC", 2},
                {"cpuinfo-arm64", NULL, 2},
                {"cpuinfo-armv7-old", "ARMv7 Processor rev 4 (v7l)", 2},
                {"cpuinfo-ppc64", "POWER9 (architected), altivec supported", 2},
                {"cpuinfo-s390x", "IBM/S390", 4},
                {"cpuinfo-no-newline", "Some CPU", 1},
                {"empty", NULL, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *t = NULL;
                struct cpuinfo c;
                size_t len;

                load(cases[i].fixture, &t, &len);
                if (cpuinfo_parse(t, len, &c) != 0)
                        fail_msg("%s: parse failed", cases[i].fixture);
                if (cases[i].model)
                        assert_string_equal(c.model, cases[i].model);
                else
                        assert_null(c.model);
                if (c.count != cases[i].count)
                        fail_msg("%s: count %u", cases[i].fixture, c.count);
                cpuinfo_done(&c);
                cpuinfo_done(&c);
        }
}

static void test_cpuinfo_malformed(void **state) {
        static const struct bad_case cases[] = {
                {"cpuinfo-no-colon", -EINVAL},
                {"cpuinfo-empty-key", -EINVAL},
                {"cpuinfo-bad-count", -EINVAL},
                {"stat", -EINVAL},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *t = NULL;
                struct cpuinfo c = {.count = 5};
                size_t len;

                load(cases[i].fixture, &t, &len);
                if (cpuinfo_parse(t, len, &c) != cases[i].error)
                        fail_msg("%s: expected %d", cases[i].fixture, cases[i].error);
                assert_int_equal(c.count, 5);
        }

        /* Too many processors. */
        static const char stanza[] = "processor\t: 0\n";
        size_t l = sizeof(stanza) - 1, len = 0;
        _cleanup_free_ char *p = malloc(l * (PROCFS_MAX_CPUS + 1));
        struct cpuinfo c;

        assert_non_null(p);
        for (size_t i = 0; i < PROCFS_MAX_CPUS; i++, len += l)
                memcpy(p + len, stanza, l);
        assert_int_equal(cpuinfo_parse(p, len, &c), 0);
        assert_int_equal(c.count, PROCFS_MAX_CPUS);
        cpuinfo_done(&c);
        memcpy(p + len, stanza, l);
        assert_int_equal(cpuinfo_parse(p, len + l, &c), -E2BIG);
}

/* ---- /proc/stat: intr, copy ------------------------------------------------ */

static void test_stat_intr(void **state) {
        _cleanup_free_ char *t = NULL;
        struct proc_stat st, copy;
        size_t len;

        load("stat", &t, &len);
        assert_int_equal(proc_stat_parse(t, len, &st), 0);
        assert_true(st.has_intr);
        assert_int_equal(st.intr, 122493);

        assert_int_equal(proc_stat_copy(&st, &copy), 0);
        assert_ptr_not_equal(copy.cpus, st.cpus);
        assert_int_equal(copy.n_cpus, st.n_cpus);
        assert_memory_equal(copy.cpus, st.cpus, st.n_cpus * sizeof(*st.cpus));
        assert_int_equal(copy.intr, st.intr);
        proc_stat_done(&st);
        proc_stat_done(&copy);

        static const struct {
                const char *text;
                int error; /* 0: parses, without intr */
        } cases[] = {
                {"cpu 1 2 3 4\n", 0},
                {"cpu 1 2 3 4\nintr\n", -EINVAL},
                {"cpu 1 2 3 4\nintr x 1\n", -EINVAL},
                {"cpu 1 2 3 4\nintr 1\nintr 2\n", -EINVAL},
                {"cpu 1 2 3 4\nintr 18446744073709551616 0\n", -ERANGE},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t n;
                _cleanup_free_ char *c = exact(cases[i].text, &n);

                assert_int_equal(proc_stat_parse(c, n, &st), cases[i].error);
                if (cases[i].error == 0) {
                        assert_false(st.has_intr);
                        proc_stat_done(&st);
                }
        }
}

/* ---- meminfo, key by key ---------------------------------------------------- */

static void test_meminfo_next(void **state) {
        _cleanup_free_ char *t = NULL;
        const char *p, *end, *k;
        size_t len, kl, n = 0;
        uint64_t v;
        bool kb;

        load("meminfo", &t, &len);
        p = t;
        end = t + len;
        assert_int_equal(meminfo_next(&p, end, &k, &kl, &v, &kb), 1);
        assert_true(tv_eq(k, kl, "MemTotal"));
        assert_true(kb);
        assert_int_equal(v % 1024, 0);
        n = 1;
        while (meminfo_next(&p, end, &k, &kl, &v, &kb) == 1) {
                n++;
                if (tv_starts(k, kl, "HugePages_Total"))
                        assert_false(kb); /* a count, not kB */
        }
        assert_true(n > 30);
        assert_int_equal(meminfo_next(&p, end, &k, &kl, &v, &kb), 0);

        static const struct {
                const char *text;
                int r;
        } cases[] = {
                {"", 0},
                {"\n\n", 0},
                {"A: 1\r\n", 1},
                {"A: 1 MB\n", -EINVAL},
                {"A: 1 kB x\n", -EINVAL},
                {"A B: 1\n", -EINVAL},
                {": 1\n", -EINVAL},
                {"A:\n", -EINVAL},
                {"A: -1\n", -EINVAL},
                {"A: 18014398509481984 kB\n", -ERANGE}, /* 2^54 KiB */
                {"A: 18446744073709551616\n", -ERANGE},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t cn;
                _cleanup_free_ char *c = exact(cases[i].text, &cn);

                p = c;
                end = c + cn;
                assert_int_equal(meminfo_next(&p, end, &k, &kl, &v, &kb), cases[i].r);
        }
}

/* ---- /proc/diskstats -------------------------------------------------------- */

static void test_diskstats(void **state) {
        _cleanup_free_ char *t = NULL;
        _cleanup_free_ struct diskstat *d = NULL;
        size_t len, n;

        load("diskstats-mixed", &t, &len);
        assert_int_equal(diskstats_parse(t, len, &d, &n), 0);
        assert_int_equal(n, 8);
        assert_string_equal(d[0].name, "sda");
        assert_int_equal(d[0].major, 8);
        assert_int_equal(d[0].minor, 0);
        assert_int_equal(d[0].n, 11);
        assert_int_equal(d[0].v[DS_SECTORS_READ], 2000);
        assert_int_equal(d[0].v[DS_SECTORS_WRITTEN], 4000);
        assert_int_equal(d[0].v[DS_IO_WEIGHTED_MS], 70);
        assert_int_equal(d[2].n, 15); /* nvme0n1: discards, 4.18 */
        assert_int_equal(d[5].n, 17); /* dm-0: flushes, 5.5 */
        assert_int_equal(d[5].v[DS_FLUSH_MS], 1234);
        assert_int_equal(d[2].major, 259);
        free(TAKE_PTR(d));

        static const struct bad_case bad[] = {
                {"diskstats-short", -EINVAL},
                {"diskstats-junk", -EINVAL},
                {"diskstats-overflow", -ERANGE},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = NULL;
                size_t bl;

                load(bad[i].fixture, &b, &bl);
                if (diskstats_parse(b, bl, &d, &n) != bad[i].error)
                        fail_msg("%s did not fail with %d", bad[i].fixture, bad[i].error);
        }

        _cleanup_free_ char *nn = NULL;
        load("diskstats-no-newline", &nn, &len);
        assert_int_equal(diskstats_parse(nn, len, &d, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(d[1].name, "sdb");
        assert_int_equal(d[1].v[DS_SECTORS_WRITTEN], 4);
        free(TAKE_PTR(d));

        assert_int_equal(diskstats_parse(NULL, 0, &d, &n), 0);
        assert_int_equal(n, 0);
        free(TAKE_PTR(d));

        /* A name of 64 bytes does not fit; one of 63 does. */
        char line[200];
        int l = snprintf(line, sizeof line, "8 0 %.*s 1 2 3 4 5 6 7 8 9 10 11\n", 64,
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(diskstats_parse(line, (size_t)l, &d, &n), -EINVAL);
        l = snprintf(line, sizeof line, "8 0 %.*s 1 2 3 4 5 6 7 8 9 10 11\n", 63,
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(diskstats_parse(line, (size_t)l, &d, &n), 0);
        assert_int_equal(n, 1);
        free(TAKE_PTR(d));
}

static void test_diskstats_limits(void **state) {
        static const char row[] = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n";
        size_t l = sizeof(row) - 1, len = 0;
        _cleanup_free_ char *p = malloc(l * (PROCFS_MAX_DISKS + 1));
        struct diskstat *d;
        size_t n;

        assert_non_null(p);
        for (size_t i = 0; i < PROCFS_MAX_DISKS; i++, len += l)
                memcpy(p + len, row, l);
        assert_int_equal(diskstats_parse(p, len, &d, &n), 0);
        assert_int_equal(n, PROCFS_MAX_DISKS);
        free(d);
        memcpy(p + len, row, l);
        assert_int_equal(diskstats_parse(p, len + l, &d, &n), -E2BIG);
}

/* ---- node_exporter's smaller sources ------------------------------------------- */

static void test_node_sources(void **state) {
        static const char psi[] = "some avg10=7.95 avg60=49.82 avg300=26.33 total=2365187306\n"
                                  "full avg10=0.00 avg60=0.00 avg300=0.00 total=12\n";
        static const char softnet[] = "0017649d 00000002 00000003 00000000\n"
                                      "0017fdb9 00000000 0000000a 00000000\n";
        static const char arp[] = "IP address       HW type     Flags       HW address            Mask     Device\n"
                                  "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n";
        static const char ct[] = "entries clashres found invalid drop\n"
                                 "00000001 00000000 00000002 0000000a 00000000\n"
                                 "00000001 00000000 00000003 00000001 00000004\n";
        static const char udp[] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
                                  "  1: 00000000:0044 00000000:0000 07 00000010:00000200 00:00000000 00000000     0        0 1 2 0000000000000000 0\n";
        const char *names[] = {"found", "invalid", "drop", "early_drop"};
        uint64_t sums[4], found, tx, rx, v;
        struct softnet_row row;
        struct psi ps;
        const char *p, *k, *d;
        size_t kl, dl;

        assert_int_equal(psi_parse(psi, strlen(psi), &ps), 0);
        assert_true(ps.some_total == 2365187306u && ps.has_full && ps.full_total == 12);
        assert_int_equal(psi_parse("full total=1\n", 13, &ps), -EINVAL);
        assert_int_equal(psi_parse("some avg10=1\n", 13, &ps), -EINVAL);

        p = softnet;
        assert_int_equal(softnet_next(&p, softnet + strlen(softnet), &row), 1);
        assert_true(row.processed == 0x17649d && row.dropped == 2 && row.squeezed == 3);
        assert_int_equal(softnet_next(&p, softnet + strlen(softnet), &row), 1);
        assert_int_equal(softnet_next(&p, softnet + strlen(softnet), &row), 0);
        p = "0017649d zz 1\n";
        assert_int_equal(softnet_next(&p, p + 14, &row), -EINVAL);

        p = "pgfault 12\noom_kill 0\n";
        assert_int_equal(kv_line_next(&p, p + strlen(p), &k, &kl, &v), 1);
        assert_true(tv_eq(k, kl, "pgfault") && v == 12);
        p = "pgfault 12 3\n";
        assert_int_equal(kv_line_next(&p, p + strlen(p), &k, &kl, &v), -EINVAL);

        p = arp;
        assert_int_equal(arp_next(&p, arp + strlen(arp), &d, &dl), 1);
        assert_true(tv_eq(d, dl, "eth0"));
        assert_int_equal(arp_next(&p, arp + strlen(arp), &d, &dl), 0);

        assert_int_equal(net_stat_table_sum(ct, strlen(ct), names, 4, sums, &found), 0);
        assert_true(sums[0] == 5 && sums[1] == 11 && sums[2] == 4 && found == 7);
        assert_int_equal(net_stat_table_sum("a b\n1 2 3\n", 10, names, 4, sums, &found), -EINVAL);

        assert_int_equal(udp_queues_parse(udp, strlen(udp), &tx, &rx), 0);
        assert_true(tx == 0x10 && rx == 0x200);
        assert_int_equal(udp_queues_parse("junk\n", 5, &tx, &rx), -EINVAL);

        assert_int_equal(udev_data_property("S:x\nE:ID_MODEL=Disk\n", 20, "ID_MODEL", &d, &dl), 0);
        assert_true(tv_eq(d, dl, "Disk"));
        assert_int_equal(udev_data_property("E:ID_MODEL2=x\n", 14, "ID_MODEL", &d, &dl), -ENOENT);
        assert_int_equal(tv_to_hex_u64("1a2B", 4, &v), 0);
        assert_true(v == 0x1a2b);
        assert_int_equal(tv_to_hex_u64("0x1", 3, &v), -EINVAL);
}

/* ---- /proc/sys/fs/file-nr --------------------------------------------------- */

static void test_file_nr(void **state) {
        static const struct bad_case bad[] = {
                {"file-nr-short", -EINVAL},
                {"file-nr-overflow", -ERANGE},
                {"empty", -EINVAL},
        };
        _cleanup_free_ char *t = NULL, *u = NULL;
        struct file_nr f;
        size_t len;

        load("file-nr", &t, &len);
        assert_int_equal(file_nr_parse(t, len, &f), 0);
        assert_int_equal(f.allocated, 134);
        assert_int_equal(f.unused, 0);
        assert_int_equal(f.maximum, 2466174);
        load("file-nr-no-newline", &u, &len);
        assert_int_equal(file_nr_parse(u, len, &f), 0);
        assert_true(f.maximum == INT64_MAX);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = NULL;
                size_t bl;

                load(bad[i].fixture, &b, &bl);
                if (file_nr_parse(b, bl, &f) != bad[i].error)
                        fail_msg("%s did not fail with %d", bad[i].fixture, bad[i].error);
        }
        assert_int_equal(file_nr_parse("1 2 3 4\n", 8, &f), -EINVAL);
}

/* ---- /proc/PID/stat ---------------------------------------------------------- */

static void test_pid_stat(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL, *w = NULL;
        struct proc_pid_stat st;
        size_t len;

        load("pid-stat", &t, &len);
        assert_int_equal(proc_pid_stat_parse(t, len, &st), 0);
        assert_int_equal(st.pid, 1);
        assert_string_equal(st.comm, "systemd");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 0);
        assert_int_equal(st.tpgid, -1);
        assert_int_equal(st.minflt, 97571);
        assert_int_equal(st.utime, 2282);
        assert_int_equal(st.stime, 5800);
        assert_int_equal(st.priority, 20);
        assert_int_equal(st.nice, 0);
        assert_int_equal(st.num_threads, 1);
        assert_int_equal(st.starttime, 27);
        assert_int_equal(st.vsize, 170950656);
        assert_int_equal(st.rss_pages, 3306);

        /* A command that names itself "a) R (b": comm ends at the last ')'. */
        load("pid-stat-paren", &u, &len);
        assert_int_equal(proc_pid_stat_parse(u, len, &st), 0);
        assert_int_equal(st.pid, 4242);
        assert_string_equal(st.comm, "a) R (b");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 1);
        assert_int_equal(st.tty_nr, 34816);
        assert_int_equal(st.utime, 12);
        assert_int_equal(st.rss_pages, 812);

        load("pid-stat-no-newline", &w, &len);
        assert_int_equal(proc_pid_stat_parse(w, len, &st), 0);
        assert_string_equal(st.comm, "kworker/0:1-events");
        assert_int_equal(st.state, 'I');
        assert_int_equal(st.ppid, 2);
        assert_int_equal(st.stime, 3);
        assert_int_equal(st.starttime, 512);

        static const struct bad_case bad[] = {
                {"pid-stat-truncated", -EINVAL},
                {"pid-stat-long-comm", -EINVAL},
                {"pid-stat-overflow", -ERANGE},
                {"pid-stat-junk", -EINVAL},
                {"pid-stat-no-paren", -EINVAL},
                {"empty", -EINVAL},
                {"stat", -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = NULL;
                size_t bl;

                load(bad[i].fixture, &b, &bl);
                if (proc_pid_stat_parse(b, bl, &st) != bad[i].error)
                        fail_msg("%s did not fail with %d", bad[i].fixture, bad[i].error);
        }
        static const char *const worse[] = {
                "0 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",  /* pid 0 */
                "-1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n", /* negative */
                "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n", /* state */
                "1 (x)S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",   /* no blank */
                "1(x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",
                "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n\n", /* two lines */
                "1 (x) S 3000000000 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",
                "1 (x)",
        };
        for (size_t i = 0; i < ELEMENTSOF(worse); i++) {
                size_t n;
                _cleanup_free_ char *c = exact(worse[i], &n);

                if (proc_pid_stat_parse(c, n, &st) >= 0)
                        fail_msg("accepted: %s", worse[i]);
        }
}

/* ---- /proc/PID/status, cmdline --------------------------------------------- */

static void test_pid_status(void **state) {
        _cleanup_free_ char *t = NULL, *k = NULL;
        struct proc_pid_status st;
        size_t len;

        load("pid-status", &t, &len);
        assert_int_equal(proc_pid_status_parse(t, len, &st), 0);
        assert_string_equal(st.name, "bash");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.pid, 4242);
        assert_int_equal(st.tgid, 4242);
        assert_int_equal(st.ppid, 1);
        assert_int_equal(st.uid[0], 1000);
        assert_int_equal(st.uid[3], 1000);
        assert_int_equal(st.gid[1], 100);
        assert_int_equal(st.threads, 1);
        assert_true(st.has_vm_rss);
        assert_int_equal(st.vm_rss, 1024 * 1024);

        load("pid-status-kthread", &k, &len);
        assert_int_equal(proc_pid_status_parse(k, len, &st), 0);
        assert_string_equal(st.name, "kworker/0:1-events");
        assert_int_equal(st.state, 'I');
        assert_int_equal(st.ppid, 2);
        assert_false(st.has_vm_rss);

        static const struct bad_case bad[] = {
                {"pid-status-no-uid", -EINVAL},
                {"pid-status-duplicate", -EINVAL},
                {"pid-status-short-uid", -EINVAL},
                {"pid-status-overflow", -ERANGE},
                {"pid-status-long-name", -EINVAL},
                {"empty", -EINVAL},
                {"meminfo", -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = NULL;
                size_t bl;

                load(bad[i].fixture, &b, &bl);
                if (proc_pid_status_parse(b, bl, &st) != bad[i].error)
                        fail_msg("%s did not fail with %d", bad[i].fixture, bad[i].error);
        }
}

static void test_cmdline(void **state) {
        static const char *const want[] = {"/usr/sbin/sshd", "-D", "", "-o", "x y"};
        _cleanup_free_ char *t = NULL;
        const char *p, *end, *arg;
        size_t len, arg_len, n = 0;

        /* The last argument lacks its NUL (a rewritten command line). */
        load("cmdline", &t, &len);
        p = t;
        end = t + len;
        while (proc_cmdline_next(&p, end, &arg, &arg_len)) {
                assert_true(n < ELEMENTSOF(want));
                assert_true(tv_eq(arg, arg_len, want[n]));
                n++;
        }
        assert_int_equal(n, ELEMENTSOF(want));

        /* A final NUL ends the last argument and adds none. */
        p = "a\0b\0";
        end = p + 4;
        n = 0;
        while (proc_cmdline_next(&p, end, &arg, &arg_len))
                n++;
        assert_int_equal(n, 2);
        p = end = t;
        assert_false(proc_cmdline_next(&p, end, &arg, &arg_len));
}

/* ---- /proc/PID/io, smaps_rollup, limits, maps, cgroup ------------------------ */

static void test_pid_status_swap(void **state) {
        _cleanup_free_ char *t = NULL, *k = NULL;
        struct proc_pid_status st;
        size_t len;

        load("pid-status", &t, &len);
        assert_int_equal(proc_pid_status_parse(t, len, &st), 0);
        assert_true(st.has_vm_swap);
        assert_int_equal(st.vm_swap, 0);

        static const char swapped[] = "Name:\tx\nState:\tS (sleeping)\nPid:\t7\nPPid:\t1\n"
                                      "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n"
                                      "VmSwap:\t    2048 kB\n";
        size_t n;
        _cleanup_free_ char *c = exact(swapped, &n);
        assert_int_equal(proc_pid_status_parse(c, n, &st), 0);
        assert_true(st.has_vm_swap);
        assert_int_equal(st.vm_swap, 2048 * 1024);

        load("pid-status-kthread", &k, &len);
        assert_int_equal(proc_pid_status_parse(k, len, &st), 0);
        assert_false(st.has_vm_swap);
}

static void test_schedstat(void **state) {
        static const struct {
                const char *text;
                int r;
                uint64_t run, wait, slices;
        } cases[] = {
                {"1000 2000 3\n", 0, 1000, 2000, 3},
                {"18446744073709551615 0 0", 0, UINT64_MAX, 0, 0}, /* no newline */
                {"1 2\n", -EINVAL, 0, 0, 0},
                {"1 2 3 4\n", -EINVAL, 0, 0, 0},
                {"1 -2 3\n", -EINVAL, 0, 0, 0},
                {"1 2 3\n4 5 6\n", -EINVAL, 0, 0, 0}, /* one line */
                {"18446744073709551616 0 0\n", -ERANGE, 0, 0, 0},
                {"", -EINVAL, 0, 0, 0},
        };
        struct proc_schedstat st;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                st = (struct proc_schedstat){.run_ns = 7};
                assert_int_equal(proc_schedstat_parse(cases[i].text, strlen(cases[i].text), &st),
                                 cases[i].r);
                if (cases[i].r < 0) {
                        assert_int_equal(st.run_ns, 7); /* untouched */
                        continue;
                }
                assert_true(st.run_ns == cases[i].run && st.wait_ns == cases[i].wait &&
                            st.timeslices == cases[i].slices);
        }
        assert_int_equal(proc_schedstat_parse("1 2\0003\n", 6, &st), -EINVAL);
}

static void test_pid_io(void **state) {
        _cleanup_free_ char *t = NULL, *u = NULL;
        struct proc_pid_io io;
        size_t len;

        load("pid-io", &t, &len);
        assert_int_equal(proc_pid_io_parse(t, len, &io), 0);
        assert_int_equal(io.rchar, 323934931);
        assert_int_equal(io.read_bytes, 4096);
        assert_int_equal(io.write_bytes, 323932160);
        assert_true(io.has_bytes);
        load("pid-io-no-accounting", &u, &len);
        assert_int_equal(proc_pid_io_parse(u, len, &io), 0);
        assert_false(io.has_bytes);
        assert_int_equal(io.syscw, 4);

        static const struct bad_case bad[] = {
                {"pid-io-duplicate", -EINVAL},
                {"pid-io-junk", -EINVAL},
                {"empty", -EINVAL},
                {"meminfo", -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = NULL;
                size_t bl;

                load(bad[i].fixture, &b, &bl);
                if (proc_pid_io_parse(b, bl, &io) != bad[i].error)
                        fail_msg("%s did not fail with %d", bad[i].fixture, bad[i].error);
        }
}

static void test_smaps_rollup(void **state) {
        _cleanup_free_ char *t = NULL;
        struct proc_smaps_rollup sm;
        size_t len;

        load("pid-smaps-rollup", &t, &len);
        assert_int_equal(proc_smaps_rollup_parse(t, len, &sm), 0);
        assert_int_equal(sm.rss, 1744 * 1024);
        assert_int_equal(sm.pss, 241 * 1024);
        assert_int_equal(sm.pss_anon, 112 * 1024);
        assert_int_equal(sm.swap, 0);

        static const struct bad_case bad[] = {
                {"pid-smaps-rollup-no-pss", -EINVAL},
                {"pid-smaps-rollup-no-header", -EINVAL},
                {"empty", -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *b = NULL;
                size_t bl;

                load(bad[i].fixture, &b, &bl);
                if (proc_smaps_rollup_parse(b, bl, &sm) != bad[i].error)
                        fail_msg("%s did not fail with %d", bad[i].fixture, bad[i].error);
        }
}

static void test_limits(void **state) {
        _cleanup_free_ char *t = NULL, *b = NULL;
        _cleanup_free_ struct proc_limits *l = malloc(sizeof *l);
        size_t len;

        assert_non_null(l);
        load("pid-limits", &t, &len);
        assert_int_equal(proc_limits_parse(t, len, l), 0);
        assert_int_equal(l->n, 16);
        assert_string_equal(l->v[0].name, "Max cpu time");
        assert_true(l->v[0].soft_unlimited && l->v[0].hard_unlimited);
        assert_string_equal(l->v[0].unit, "seconds");
        assert_string_equal(l->v[3].name, "Max stack size");
        assert_int_equal(l->v[3].soft, 8388608);
        assert_false(l->v[3].soft_unlimited);
        assert_true(l->v[3].hard_unlimited);
        assert_string_equal(l->v[7].name, "Max open files");
        assert_int_equal(l->v[7].hard, 20000);
        assert_string_equal(l->v[13].name, "Max nice priority");
        assert_string_equal(l->v[13].unit, ""); /* no unit column */

        load("pid-limits-junk", &b, &len);
        assert_int_equal(proc_limits_parse(b, len, l), -EINVAL);
        _cleanup_free_ char *mi = NULL;
        load("meminfo", &mi, &len);
        assert_int_equal(proc_limits_parse(mi, len, l), -EINVAL);
}

static void test_maps(void **state) {
        _cleanup_free_ char *t = NULL, *e = NULL, *b = NULL;
        const char *p, *end;
        struct proc_map m;
        size_t len, n = 0;

        load("pid-maps", &t, &len);
        p = t;
        end = t + len;
        while (proc_maps_next(&p, end, &m) > 0) {
                if (n == 0) {
                        assert_int_equal(m.start, 0x558a494eb000);
                        assert_int_equal(m.end, 0x558a494ed000);
                        assert_string_equal(m.perms, "r--p");
                        assert_int_equal(m.inode, 247134);
                        assert_true(tv_eq(m.path, m.path_len, "/usr/bin/cat"));
                }
                n++;
        }
        assert_int_equal(n, 38);

        load("pid-maps-edge", &e, &len);
        p = e;
        end = e + len;
        assert_int_equal(proc_maps_next(&p, end, &m), 1);
        assert_true(tv_eq(m.path, m.path_len, "/usr/lib/with space.so"));
        assert_int_equal(proc_maps_next(&p, end, &m), 1);
        assert_true(tv_eq(m.path, m.path_len, "[stack]"));
        assert_int_equal(m.inode, 0);
        assert_int_equal(proc_maps_next(&p, end, &m), 1);
        assert_int_equal(m.path_len, 0);
        assert_int_equal(proc_maps_next(&p, end, &m), 0);

        load("pid-maps-backwards", &b, &len);
        p = b;
        assert_int_equal(proc_maps_next(&p, b + len, &m), -EINVAL);
        _cleanup_free_ char *mi = NULL;
        load("meminfo", &mi, &len);
        p = mi;
        assert_int_equal(proc_maps_next(&p, mi + len, &m), -EINVAL);
}

static void test_cgroup(void **state) {
        static const struct {
                const char *text, *unit, *container, *path;
        } cases[] = {
                {"0::/system.slice/nginx.service\n", "nginx.service", "",
                 "/system.slice/nginx.service"},
                {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
                 "foo.service", "", "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service"},
                {"0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope", "",
                 "/user.slice/user-1000.slice/session-3.scope"},
                {"0::/machine.slice/machine-web\\x2d1.scope/payload/system.slice/x.service\n",
                 "machine-web\\x2d1.scope", "machine:web\\x2d1",
                 "/machine.slice/machine-web\\x2d1.scope/payload/system.slice/x.service"},
                {"0::/system.slice/docker-0123456789abcdef0123.scope\n",
                 "docker-0123456789abcdef0123.scope", "docker:0123456789ab",
                 "/system.slice/docker-0123456789abcdef0123.scope"},
                {"0::/machine.slice/libpod-0123456789abcdef.scope/container\n",
                 "libpod-0123456789abcdef.scope", "podman:0123456789ab",
                 "/machine.slice/libpod-0123456789abcdef.scope/container"},
                {"0::/\n", "", "", "/"},
                {"12:cpu,cpuacct:/\n1:name=systemd:/system.slice/cron.service\n", "cron.service", "",
                 NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct cgroup_hint h;
                const char *p;
                size_t n, pl;
                _cleanup_free_ char *c = exact(cases[i].text, &n);

                cgroup_parse(c, n, &h);
                if (strcmp(h.unit, cases[i].unit) || strcmp(h.container, cases[i].container))
                        fail_msg("case %zu: unit \"%s\" container \"%s\"", i, h.unit, h.container);
                if (cases[i].path) {
                        assert_int_equal(cgroup_v2_path(c, n, &p, &pl), 0);
                        assert_true(tv_eq(p, pl, cases[i].path));
                } else
                        assert_int_equal(cgroup_v2_path(c, n, &p, &pl), -ENOENT);
        }
}

/* ---- robustness ----------------------------------------------------------- */

static const char *const good_fixtures[] = {
        "stat",
        "stat-linux24",
        "meminfo",
        "meminfo-old-no-newline",
        "loadavg",
        "uptime",
        "net-dev",
        "net-dev-glued-no-newline",
        "mountinfo",
        "mountinfo-escaped",
        "os-release",
        "os-release-quoting",
        "cpuinfo",
        "cpuinfo-s390x",
        "cpuinfo-armv7-old",
        "diskstats",
        "diskstats-mixed",
        "file-nr",
        "pid-stat",
        "pid-stat-paren",
        "pid-status",
        "pid-status-kthread",
        "pid-io",
        "pid-smaps-rollup",
        "pid-limits",
        "pid-maps-edge",
};

static void test_every_prefix(void **state) {
        for (size_t f = 0; f < sizeof(good_fixtures) / sizeof(good_fixtures[0]); f++) {
                _cleanup_free_ char *t = NULL;
                size_t len;

                load(good_fixtures[f], &t, &len);
                for (size_t cut = 0; cut <= len; cut++) {
                        /* A fresh exact-size copy so ASan sees the new end. */
                        char *copy = malloc(cut > 0 ? cut : 1);

                        assert_non_null(copy);
                        memcpy(copy, t, cut);
                        parse_all(copy, cut);
                        free(copy);
                }
        }
}

static void test_mutations(void **state) {
        static const char bytes[] = {'\0', '\n', ' ', '\t', ':', '\\', '"', '\'',
                                     '-',  '/',  '9', 'x',  '#', '=',  '.', (char)0xff};
        uint32_t seed = 12345;

        for (size_t f = 0; f < sizeof(good_fixtures) / sizeof(good_fixtures[0]); f++) {
                _cleanup_free_ char *t = NULL;
                size_t len;

                load(good_fixtures[f], &t, &len);
                if (len == 0)
                        continue;
                for (int round = 0; round < 300; round++) {
                        seed = seed * 1103515245u + 12345u;
                        size_t pos = (seed >> 8) % len;
                        char old = t[pos];

                        t[pos] = bytes[(seed >> 4) % sizeof(bytes)];
                        parse_all(t, len);
                        t[pos] = old;
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tokenizer_numbers),
                cmocka_unit_test(test_tokenizer_views),
                cmocka_unit_test(test_reader),
                cmocka_unit_test(test_read_at),
                cmocka_unit_test(test_stat_real),
                cmocka_unit_test(test_stat_old_and_new_kernels),
                cmocka_unit_test(test_stat_malformed),
                cmocka_unit_test(test_stat_limits),
                cmocka_unit_test(test_cpu_percent),
                cmocka_unit_test(test_cpu_percent_from_fixtures),
                cmocka_unit_test(test_meminfo_real),
                cmocka_unit_test(test_meminfo_old_kernel),
                cmocka_unit_test(test_meminfo_malformed),
                cmocka_unit_test(test_loadavg),
                cmocka_unit_test(test_uptime),
                cmocka_unit_test(test_net_dev_real),
                cmocka_unit_test(test_net_dev_edge),
                cmocka_unit_test(test_net_dev_limits),
                cmocka_unit_test(test_mountinfo_real),
                cmocka_unit_test(test_mountinfo_real_list),
                cmocka_unit_test(test_mountinfo_escaped),
                cmocka_unit_test(test_mountinfo_malformed),
                cmocka_unit_test(test_mountinfo_limits),
                cmocka_unit_test(test_os_release_real),
                cmocka_unit_test(test_os_release_quoting),
                cmocka_unit_test(test_os_release_malformed),
                cmocka_unit_test(test_cpuinfo),
                cmocka_unit_test(test_cpuinfo_malformed),
                cmocka_unit_test(test_stat_intr),
                cmocka_unit_test(test_meminfo_next),
                cmocka_unit_test(test_diskstats),
                cmocka_unit_test(test_diskstats_limits),
                cmocka_unit_test(test_file_nr),
                cmocka_unit_test(test_node_sources),
                cmocka_unit_test(test_pid_stat),
                cmocka_unit_test(test_pid_status),
                cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_pid_status_swap),
                cmocka_unit_test(test_pid_io),
                cmocka_unit_test(test_smaps_rollup),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_maps),
                cmocka_unit_test(test_cgroup),
                cmocka_unit_test(test_schedstat),
                cmocka_unit_test(test_short_read_ends),
                cmocka_unit_test(test_every_prefix),
                cmocka_unit_test(test_mutations),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
