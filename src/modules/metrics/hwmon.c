/* hwmon.c — node_exporter 1.5's hwmon collector: /sys/class/hwmon/hwmonN
 * (and its device/ directory), as node_hwmon_* families.
 *
 * The names are node_exporter's, derived the same way: a chip is named by
 * its device's path (the parent directory and the device, "platform_
 * coretemp_0"), else its name file, else the hwmonN directory; a sensor
 * file TYPE[N][_PROPERTY] of a known type gives node_hwmon_TYPE[_PROPERTY]
 * with the type's unit (_celsius, _volts, _rpm, _watt, …) and scale, and
 * a labelled sensor also node_hwmon_sensor_label{chip,label,sensor}.
 *
 * Everything is read at each scrape relative to a descriptor of /sys (a
 * test gives a fake tree): the directory listings, then each value file
 * (at most 128 bytes, as node_exporter reads them).  Bounded: 256 chips,
 * 256 sensors a chip, 32 properties a sensor.  The entries are gathered,
 * sorted by family, chip and sensor, and written one family at a time; a
 * series seen twice (two chips named alike) is written once.  Nothing is
 * kept between scrapes.
 */
#include "modules/metrics/collectors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define HW_MAX_CHIPS   256
#define HW_MAX_SENSORS 256
#define HW_MAX_PROPS   32
#define HW_VALUE_MAX   128

static const char *const sensor_types[] = {"vrm",  "beep_enable", "update_interval", "in",
                                           "cpu",  "fan",         "pwm",             "temp",
                                           "curr", "power",       "energy",          "humidity",
                                           "intrusion"};

struct hw_sensor {
        char key[64]; /* TYPE and number: "temp1" */
        struct {
                char prop[64]; /* "" for the bare file */
                char val[HW_VALUE_MAX + 1];
        } p[HW_MAX_PROPS];
        size_t n;
};

struct hw_entry {
        char family[128];
        char help[192];
        bool counter;
        char chip[128];
        char sensor[64];
        char extra_key[16]; /* "label" or "chip_name": a third label; "" none */
        char extra[HW_VALUE_MAX + 1];
        double v;
};

struct hw_out {
        struct hw_entry *v;
        size_t n, cap;
};

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] to '_', '_'
 * trimmed off both ends. */
static void clean_name(const char *s, size_t n, char *dst, size_t size) {
        size_t o = 0, start = 0;

        for (size_t i = 0; i < n && o + 1 < size; i++) {
                char c = s[i];
                if (c >= 'A' && c <= 'Z')
                        c = (char)(c - 'A' + 'a');
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_'))
                        c = '_';
                dst[o++] = c;
        }
        while (o > 0 && dst[o - 1] == '_')
                o--;
        while (start < o && dst[start] == '_')
                start++;
        memmove(dst, dst + start, o - start);
        dst[o - start] = '\0';
}

/* TYPE[N][_PROPERTY] of a file name: ^([^0-9]+)([0-9]*)(_(.+))?$ */
static bool explode(const char *name, char *type, size_t type_size, unsigned *num, const char **prop) {
        size_t t = strcspn(name, "0123456789"), d;
        unsigned long long k = 0;

        if (t == 0 || t >= type_size)
                return false;
        d = strspn(name + t, "0123456789");
        for (size_t i = 0; i < d; i++) {
                k = k * 10 + (unsigned)(name[t + i] - '0');
                if (k > 1000000)
                        return false;
        }
        if (name[t + d] != '\0' && (name[t + d] != '_' || name[t + d + 1] == '\0'))
                return false;
        memcpy(type, name, t);
        type[t] = '\0';
        *num = (unsigned)k;
        *prop = name[t + d] ? name + t + d + 1 : "";
        return true;
}

static bool known_type(const char *type) {
        for (size_t i = 0; i < ELEMENTSOF(sensor_types); i++)
                if (STREQ(type, sensor_types[i]))
                        return true;
        return false;
}

/* A value file: at most HW_VALUE_MAX bytes, the newlines trimmed. */
static int read_value(int dirfd, const char *name, char *buf) {
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        ssize_t k;
        size_t n;

        if (fd < 0)
                return -errno;
        k = read(fd, buf, HW_VALUE_MAX);
        close(fd);
        if (k < 0)
                return -errno;
        n = (size_t)k;
        while (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';
        return memchr(buf, '\0', n) ? -EINVAL : 0;
}

static void sensor_set(struct hw_sensor *sensors, size_t *n_sensors, const char *key,
                       const char *prop, const char *val) {
        struct hw_sensor *s = NULL;

        for (size_t i = 0; i < *n_sensors && !s; i++)
                if (STREQ(sensors[i].key, key))
                        s = &sensors[i];
        if (!s) {
                if (*n_sensors >= HW_MAX_SENSORS)
                        return;
                s = &sensors[(*n_sensors)++];
                snprintf(s->key, sizeof s->key, "%s", key);
                s->n = 0;
        }
        for (size_t i = 0; i < s->n; i++)
                if (STREQ(s->p[i].prop, prop)) {
                        snprintf(s->p[i].val, sizeof s->p[i].val, "%s", val);
                        return;
                }
        if (s->n >= HW_MAX_PROPS || strlen(prop) >= sizeof s->p[0].prop)
                return;
        snprintf(s->p[s->n].prop, sizeof s->p[s->n].prop, "%s", prop);
        snprintf(s->p[s->n].val, sizeof s->p[s->n].val, "%s", val);
        s->n++;
}

/* The sensor files of one directory into sensors[]. */
static int read_sensors(int dirfd, struct hw_sensor *sensors, size_t *n_sensors) {
        int fd = dup(dirfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                char type[32], key[64], val[HW_VALUE_MAX + 1];
                const char *prop;
                unsigned num;

                if (!explode(de->d_name, type, sizeof type, &num, &prop) || !known_type(type) ||
                    read_value(dirfd, de->d_name, val) < 0)
                        continue;
                snprintf(key, sizeof key, "%s%u", type, num);
                sensor_set(sensors, n_sensors, key, prop, val);
        }
        closedir(d);
        return 0;
}

static struct hw_entry *add(struct hw_out *o) {
        if (o->n == o->cap) {
                size_t cap = o->cap ? o->cap * 2 : 64;
                void *p = cap <= 65536 ? reallocarray(o->v, cap, sizeof *o->v) : NULL;
                if (!p)
                        return NULL;
                o->v = p;
                o->cap = cap;
        }
        o->v[o->n] = (struct hw_entry){0};
        return &o->v[o->n++];
}

/* Family, help and scale of one element of a sensor, node_exporter's
 * rules; false to leave it out. */
static bool element_family(const char *type, const char *element, bool has_bare, char *family,
                           size_t fsize, char *help, size_t hsize, double *scale, bool *counter) {
        char name[96], el[48];
        const char *shown = element;

        clean_name(element, strlen(element), el, sizeof el);
        if (STREQ(element, "input"))
                snprintf(name, sizeof name, "node_hwmon_%s%s", type, has_bare ? "_input" : "");
        else if (element[0])
                snprintf(name, sizeof name, "node_hwmon_%s_%s", type, el);
        else
                snprintf(name, sizeof name, "node_hwmon_%s", type);
        *scale = 1;
        *counter = false;
        if (STREQ(element, "fault") || STREQ(element, "alarm")) {
                snprintf(family, fsize, "%s", name);
                snprintf(help, hsize, "Hardware sensor %s status (%s)", element, type);
        } else if (STREQ(element, "beep")) {
                snprintf(family, fsize, "%s_enabled", name);
                snprintf(help, hsize, "Hardware monitor sensor has beeping enabled");
        } else if (STREQ(type, "in") || STREQ(type, "cpu")) {
                snprintf(family, fsize, "%s_volts", name);
                snprintf(help, hsize, "Hardware monitor for voltage (%s)", element);
                *scale = 0.001;
        } else if (STREQ(type, "temp") && !STREQ(element, "type")) {
                if (!element[0])
                        shown = "input";
                snprintf(family, fsize, "%s_celsius", name);
                snprintf(help, hsize, "Hardware monitor for temperature (%s)", shown);
                *scale = 0.001;
        } else if (STREQ(type, "curr")) {
                snprintf(family, fsize, "%s_amps", name);
                snprintf(help, hsize, "Hardware monitor for current (%s)", element);
                *scale = 0.001;
        } else if (STREQ(type, "energy")) {
                snprintf(family, fsize, "%s_joule_total", name);
                snprintf(help, hsize, "Hardware monitor for joules used so far (%s)", element);
                *scale = -1e6; /* divided, as node_exporter does */
                *counter = true;
        } else if (STREQ(type, "power") && STREQ(element, "accuracy")) {
                snprintf(family, fsize, "%s", name);
                snprintf(help, hsize, "Hardware monitor power meter accuracy, as a ratio");
                *scale = -1e6; /* divided, as node_exporter does */
        } else if (STREQ(type, "power") && (STREQ(element, "average_interval") ||
                                            STREQ(element, "average_interval_min") ||
                                            STREQ(element, "average_interval_max"))) {
                snprintf(family, fsize, "%s_seconds", name);
                snprintf(help, hsize, "Hardware monitor power usage update interval (%s)", element);
                *scale = 0.001;
        } else if (STREQ(type, "power")) {
                snprintf(family, fsize, "%s_watt", name);
                snprintf(help, hsize, "Hardware monitor for power usage in watts (%s)", element);
                *scale = -1e6; /* divided, as node_exporter does */
        } else if (STREQ(type, "humidity")) {
                snprintf(family, fsize, "%s", name);
                snprintf(help, hsize,
                         "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
                         "humidity as a percentage) (%s)",
                         element);
                *scale = -1e6; /* divided, as node_exporter does */
        } else if (STREQ(type, "fan") && (STREQ(element, "input") || STREQ(element, "min") ||
                                          STREQ(element, "max") || STREQ(element, "target"))) {
                snprintf(family, fsize, "%s_rpm", name);
                snprintf(help, hsize, "Hardware monitor for fan revolutions per minute (%s)", element);
        } else {
                snprintf(family, fsize, "%s", name);
                snprintf(help, hsize, "Hardware monitor %s element %s", type, element);
        }
        return true;
}

/* A value as Go's ParseFloat takes the kernel's numbers. */
static bool parse_number(const char *s, double *ret) {
        char *end;

        if (!*s || strspn(s, "+-0123456789.eE") != strlen(s))
                return false;
        errno = 0;
        *ret = strtod(s, &end);
        return *end == '\0' && errno != ERANGE;
}

static int entry_simple(struct hw_out *o, const char *family, const char *help, const char *chip,
                        const char *sensor, double v) {
        struct hw_entry *x = add(o);

        if (!x)
                return -ENOMEM;
        snprintf(x->family, sizeof x->family, "%s", family);
        snprintf(x->help, sizeof x->help, "%s", help);
        snprintf(x->chip, sizeof x->chip, "%s", chip);
        snprintf(x->sensor, sizeof x->sensor, "%s", sensor);
        x->v = v;
        return 0;
}

/* The entries of one sensor of a chip. */
static int sensor_entries(struct hw_out *o, const char *chip, const struct hw_sensor *s) {
        char type[32];
        const char *prop, *bare = NULL, *label = NULL;
        unsigned num;
        double v;

        if (!explode(s->key, type, sizeof type, &num, &prop))
                return 0;
        for (size_t i = 0; i < s->n; i++) {
                if (!s->p[i].prop[0])
                        bare = s->p[i].val;
                if (STREQ(s->p[i].prop, "label"))
                        label = s->p[i].val;
        }
        if (label) {
                struct hw_entry *x = add(o);
                if (!x)
                        return -ENOMEM;
                snprintf(x->family, sizeof x->family, "node_hwmon_sensor_label");
                snprintf(x->help, sizeof x->help, "Label for given chip and sensor");
                snprintf(x->chip, sizeof x->chip, "%s", chip);
                snprintf(x->sensor, sizeof x->sensor, "%s", s->key);
                snprintf(x->extra_key, sizeof x->extra_key, "label");
                snprintf(x->extra, sizeof x->extra, "%s", label);
                x->v = 1;
        }
        if (STREQ(type, "beep_enable"))
                return entry_simple(o, "node_hwmon_beep_enabled", "Hardware beep enabled", chip, s->key,
                                    bare && STREQ(bare, "1"));
        if (STREQ(type, "vrm") || STREQ(type, "update_interval")) {
                bool vrm = STREQ(type, "vrm");
                if (!bare || !parse_number(bare, &v))
                        return 0;
                return entry_simple(o,
                                    vrm ? "node_hwmon_voltage_regulator_version"
                                        : "node_hwmon_update_interval_seconds",
                                    vrm ? "Hardware voltage regulator" : "Hardware monitor update interval",
                                    chip, s->key, vrm ? v : v * 0.001);
        }
        for (size_t i = 0; i < s->n; i++) {
                struct hw_entry *x;
                double scale;
                bool counter;

                if (STREQ(s->p[i].prop, "label") || !parse_number(s->p[i].val, &v))
                        continue;
                x = add(o);
                if (!x)
                        return -ENOMEM;
                element_family(type, s->p[i].prop, bare != NULL, x->family, sizeof x->family, x->help,
                               sizeof x->help, &scale, &counter);
                x->counter = counter;
                x->v = scale < 0 ? v / -scale : v * scale;
                snprintf(x->chip, sizeof x->chip, "%s", chip);
                snprintf(x->sensor, sizeof x->sensor, "%s", s->key);
        }
        return 0;
}

/* node_exporter's hwmonName: the device's parent directory and name
 * ("platform_coretemp_0"), else the name file, else hwmonN. */
static void chip_name(int hwfd, const char *entry, char *chip, size_t size) {
        int fd = openat(hwfd, "device", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char link[64], path[4096], val[HW_VALUE_MAX + 1];
        ssize_t k;

        chip[0] = '\0';
        if (fd >= 0) {
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                k = readlink(link, path, sizeof path - 1);
                close(fd);
                if (k > 0) {
                        char *name, *slash, dev_name[63], dev_type[63];
                        path[k] = '\0';
                        name = strrchr(path, '/');
                        if (name) {
                                *name++ = '\0';
                                slash = strrchr(path, '/');
                                clean_name(name, strlen(name), dev_name, sizeof dev_name);
                                clean_name(slash ? slash + 1 : path, strlen(slash ? slash + 1 : path),
                                           dev_type, sizeof dev_type);
                                if (dev_type[0] && dev_name[0])
                                        snprintf(chip, size, "%s_%s", dev_type, dev_name);
                                else if (dev_name[0])
                                        snprintf(chip, size, "%s", dev_name);
                                if (chip[0])
                                        return;
                        }
                }
        }
        if (read_value(hwfd, "name", val) >= 0) {
                clean_name(val, strlen(val), chip, size);
                if (chip[0])
                        return;
        }
        clean_name(entry, strlen(entry), chip, size);
}

/* One hwmonN directory: its chip_names entry and its sensors'. */
static int chip_entries(struct hw_out *o, int classfd, const char *entry) {
        _cleanup_close_ int hwfd = openat(classfd, entry, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ struct hw_sensor *sensors = NULL;
        char chip[128], val[HW_VALUE_MAX + 1];
        size_t n = 0;
        int devfd, r;

        if (hwfd < 0)
                return 0; /* gone, or not a directory */
        sensors = calloc(HW_MAX_SENSORS, sizeof *sensors);
        if (!sensors)
                return -ENOMEM;
        chip_name(hwfd, entry, chip, sizeof chip);
        (void)read_sensors(hwfd, sensors, &n);
        devfd = openat(hwfd, "device", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (devfd >= 0) {
                (void)read_sensors(devfd, sensors, &n);
                close(devfd);
        }
        if (read_value(hwfd, "name", val) >= 0) {
                struct hw_entry *x;
                char clean[128];
                clean_name(val, strlen(val), clean, sizeof clean);
                if (clean[0]) {
                        if (!(x = add(o)))
                                return -ENOMEM;
                        snprintf(x->family, sizeof x->family, "node_hwmon_chip_names");
                        snprintf(x->help, sizeof x->help, "Annotation metric for human-readable chip names");
                        snprintf(x->chip, sizeof x->chip, "%s", chip);
                        snprintf(x->extra_key, sizeof x->extra_key, "chip_name");
                        snprintf(x->extra, sizeof x->extra, "%s", clean);
                        x->v = 1;
                }
        }
        for (size_t i = 0; i < n; i++) {
                r = sensor_entries(o, chip, &sensors[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int entry_cmp(const void *a, const void *b) {
        const struct hw_entry *x = a, *y = b;
        int c = strcmp(x->family, y->family);

        if (c == 0)
                c = strcmp(x->chip, y->chip);
        if (c == 0)
                c = strcmp(x->sensor, y->sensor);
        if (c == 0)
                c = strcmp(x->extra, y->extra);
        return c;
}

static bool same_series(const struct hw_entry *x, const struct hw_entry *y) {
        return STREQ(x->family, y->family) && STREQ(x->chip, y->chip) && STREQ(x->sensor, y->sensor) &&
               STREQ(x->extra, y->extra);
}

static void write_entries(struct expo *e, const struct hw_out *o) {
        for (size_t i = 0; i < o->n; i++) {
                const struct hw_entry *x = &o->v[i];

                if (i > 0 && same_series(x, &o->v[i - 1]))
                        continue;
                if (i == 0 || !STREQ(x->family, o->v[i - 1].family))
                        expo_family(e, x->family, x->counter ? "counter" : "gauge", x->help);
                expo_sample(e, x->family);
                expo_label(e, "chip", x->chip);
                if (STREQ(x->extra_key, "chip_name"))
                        expo_label(e, "chip_name", x->extra);
                if (STREQ(x->extra_key, "label"))
                        expo_label(e, "label", x->extra);
                if (x->sensor[0])
                        expo_label(e, "sensor", x->sensor);
                expo_double(e, x->v);
        }
}

int collect_hwmon_at(struct expo *e, int sysfd) {
        int classfd = openat(sysfd, "class/hwmon", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd2;
        struct hw_out o = {0};
        struct dirent *de;
        size_t chips = 0;
        DIR *d;
        int r = 0;

        if (classfd < 0)
                return errno == ENOENT ? -ENODATA : -errno; /* node_exporter: no data, a failure */
        fd2 = dup(classfd);
        d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                if (fd2 >= 0)
                        close(fd2);
                close(classfd);
                return -EIO;
        }
        while (r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.' && chips++ < HW_MAX_CHIPS)
                        r = chip_entries(&o, classfd, de->d_name);
        closedir(d);
        close(classfd);
        if (r >= 0) {
                qsort(o.v, o.n, sizeof *o.v, entry_cmp);
                write_entries(e, &o);
        }
        free(o.v);
        return r;
}
