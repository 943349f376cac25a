/* zones.c — listing zones and reading TZif files (see zones.h).
 *
 * A TZif file (RFC 8536) has a version 1 block with 32-bit times and, from
 * version 2, a second header and block with 64-bit times followed by a
 * footer holding a POSIX TZ string for times after the last transition.  We
 * read the 64-bit block when there is one, check every count and index
 * against the file's length before use, and never trust a count to size an
 * allocation: the data is read in place.
 *
 * Files are opened with zone_open() (common/zoneinfo.h): never outside
 * ZONES_DIR, whatever its links say.
 */
#include "modules/time/zones.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "zoneinfo.h"

#define ETC_LOCALTIME "/etc/localtime"
#define ETC_TIMEZONE  "/etc/timezone"

#define ZONES_DEPTH_MAX 4

/* ---- TZif -------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) {
        return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_block {
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
        const uint8_t *times, *idx, *types, *chars;
        size_t timesize, size; /* bytes of one time; of the whole block */
};

/* Reads the header at p and lays out its block; -EBADMSG if it does not fit. */
static int tzif_block(const uint8_t *p, size_t len, size_t timesize, struct tzif_block *b) {
        uint64_t size;

        if (len < 44 || memcmp(p, "TZif", 4) != 0)
                return -EBADMSG;
        *b = (struct tzif_block){
                .isutcnt = be32(p + 20),
                .isstdcnt = be32(p + 24),
                .leapcnt = be32(p + 28),
                .timecnt = be32(p + 32),
                .typecnt = be32(p + 36),
                .charcnt = be32(p + 40),
                .timesize = timesize,
        };
        if (b->typecnt == 0 || b->typecnt > 256 || b->charcnt == 0 || b->timecnt > 65536 ||
            b->leapcnt > 65536 || b->isutcnt > 256 || b->isstdcnt > 256)
                return -EBADMSG;
        size = (uint64_t)b->timecnt * (timesize + 1) + (uint64_t)b->typecnt * 6 + b->charcnt +
               (uint64_t)b->leapcnt * (timesize + 4) + b->isstdcnt + b->isutcnt;
        if (size > len - 44)
                return -EBADMSG;
        b->times = p + 44;
        b->idx = b->times + (size_t)b->timecnt * timesize;
        b->types = b->idx + b->timecnt;
        b->chars = b->types + (size_t)b->typecnt * 6;
        b->size = 44 + (size_t)size;
        return 0;
}

static int64_t block_time(const struct tzif_block *b, uint32_t i) {
        const uint8_t *p = b->times + (size_t)i * b->timesize;
        return b->timesize == 8 ? be64(p) : (int32_t)be32(p);
}

static int type_info(const struct tzif_block *b, uint32_t type, struct zone_info *ret) {
        const uint8_t *t;
        const char *abbr;
        uint8_t ai;
        size_t n;

        if (type >= b->typecnt)
                return -EBADMSG;
        t = b->types + (size_t)type * 6;
        ai = t[5];
        if (ai >= b->charcnt || t[4] > 1)
                return -EBADMSG;
        abbr = (const char *)b->chars + ai;
        n = strnlen(abbr, b->charcnt - ai);
        if (n == b->charcnt - ai || n > ZONE_ABBR_MAX)
                return -EBADMSG; /* not terminated inside the table, or too long */
        *ret = (struct zone_info){.utc_offset = (int32_t)be32(t), .dst = t[4] == 1};
        memcpy(ret->abbreviation, abbr, n);
        ret->abbreviation[n] = '\0';
        return 0;
}

/* Whether the footer (after the 64-bit block) has daylight saving rules. */
static bool footer_has_rules(const uint8_t *p, size_t len) {
        const uint8_t *nl;

        if (len < 2 || p[0] != '\n')
                return false;
        nl = memchr(p + 1, '\n', len - 1);
        return nl && memchr(p + 1, ',', (size_t)(nl - p - 1)) != NULL;
}

int tzif_lookup(const uint8_t *data, size_t len, int64_t t, struct zone_info *ret) {
        struct tzif_block b;
        uint32_t lo = 0, hi, type;
        int r;

        r = tzif_block(data, len, 4, &b);
        if (r < 0)
                return r;
        if (data[4] >= '2') {
                size_t off = b.size;

                r = tzif_block(data + off, len - off, 8, &b);
                if (r < 0)
                        return r;
                if (b.timecnt > 0 && t >= block_time(&b, b.timecnt - 1) &&
                    footer_has_rules(data + off + b.size, len - off - b.size))
                        return -EOPNOTSUPP;
        }
        if (b.timecnt == 0 || t < block_time(&b, 0))
                return type_info(&b, 0, ret);
        hi = b.timecnt; /* the last transition at or before t: in [lo, hi) */
        while (hi - lo > 1) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (block_time(&b, mid) <= t)
                        lo = mid;
                else
                        hi = mid;
        }
        type = b.idx[lo];
        return type_info(&b, type, ret);
}

/* ---- files ------------------------------------------------------------------- */

/* The TZif contents of name; -ENOENT, -EISDIR, -EBADMSG (not TZif)… */
static int zone_read(int dir, const char *name, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = zone_open(dir, name);
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len;
        int r;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        r = read_fd(fd, TZIF_FILE_MAX, &data, &len);
        if (r < 0)
                return r;
        if (len < 4 || memcmp(data, "TZif", 4) != 0)
                return -EBADMSG;
        *ret = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

int zone_lookup(const char *name, int64_t t, struct zone_info *ret) {
        _cleanup_close_ int dir = -1;
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        if (!zone_name_valid(name))
                return -EINVAL;
        dir = open(ZONES_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        r = zone_read(dir, name, &data, &len);
        if (r < 0)
                return r;
        return tzif_lookup((const uint8_t *)data, len, t, ret);
}

/* Whether a name in the tree is a copy or a helper file, not a zone. */
static bool zone_skipped(const char *rel) {
        return STREQ(rel, "posix") || STREQ(rel, "right") || STREQ(rel, "posixrules") ||
               STREQ(rel, "localtime");
}

static int walk(int root, const char *prefix, int depth, json_t *out) {
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = *prefix ? zone_open(root, prefix) : openat(root, ".", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return fd;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return -errno;
        while (r >= 0 && (de = readdir(d))) {
                char rel[ZONE_NAME_MAX + 1];
                _cleanup_free_ char *data = NULL;
                size_t len;
                int q;

                if (de->d_name[0] == '.' || (!*prefix && zone_skipped(de->d_name)))
                        continue;
                if (snprintf(rel, sizeof rel, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) >=
                            (int)sizeof rel ||
                    !zone_name_valid(rel))
                        continue;
                q = zone_read(root, rel, &data, &len);
                if (q == -EISDIR && depth < ZONES_DEPTH_MAX)
                        r = walk(root, rel, depth + 1, out);
                else if (q >= 0 && json_array_size(out) >= ZONES_MAX)
                        r = -E2BIG;
                else if (q >= 0 && json_array_append_new(out, json_string(rel)) < 0)
                        r = -ENOMEM;
        }
        closedir(d);
        return r;
}

static int cmp_json_strings(const void *a, const void *b) {
        return strcmp(json_string_value(*(json_t *const *)a),
                      json_string_value(*(json_t *const *)b));
}

int zones_list(json_t **ret) {
        _cleanup_close_ int root = open(ZONES_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
        json_t *names = json_array(), *sorted;
        json_t *items[ZONES_MAX];
        size_t n;
        int r;

        if (root < 0 || !names) {
                json_decref(names);
                return root < 0 ? -errno : -ENOMEM;
        }
        r = walk(root, "", 0, names);
        n = json_array_size(names);
        if (r < 0 && r != -E2BIG) {
                json_decref(names);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                items[i] = json_array_get(names, i);
        qsort(items, n, sizeof *items, cmp_json_strings);
        sorted = json_array();
        for (size_t i = 0; sorted && i < n; i++)
                if (json_array_append(sorted, items[i]) < 0) {
                        json_decref(sorted);
                        sorted = NULL;
                }
        json_decref(names);
        if (!sorted)
                return -ENOMEM;
        *ret = sorted;
        return 0;
}

/* ---- reports ------------------------------------------------------------------ */

/* The zone's name as /etc/localtime's link or /etc/timezone says; "UTC"
 * when neither does. */
static void zone_name(char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        char target[512];
        ssize_t n = readlink(ETC_LOCALTIME, target, sizeof target - 1);
        const char *z;
        size_t len;

        if (n > 0) {
                target[n] = '\0';
                z = strstr(target, "zoneinfo/");
                if (z && zone_name_valid(z + 9)) {
                        (void)snprintf(buf, size, "%s", z + 9);
                        return;
                }
        }
        if (read_file(ETC_TIMEZONE, 4096, &text, &len) >= 0) {
                text[strcspn(text, "\n")] = '\0';
                if (zone_name_valid(text)) {
                        (void)snprintf(buf, size, "%s", text);
                        return;
                }
        }
        (void)snprintf(buf, size, "UTC");
}

static void iso_time(int64_t t, int32_t offset, char *buf, size_t size) {
        time_t local = (time_t)(t + offset);
        struct tm tm;
        char date[32];
        /* An offset is under a day: hours fit two digits. */
        unsigned a = offset < 0 ? 0u - (unsigned)offset : (unsigned)offset;

        gmtime_r(&local, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
        if (offset == 0 && size)
                (void)snprintf(buf, size, "%.24sZ", date);
        else
                (void)snprintf(buf, size, "%.24s%c%02u:%02u", date, offset < 0 ? '-' : '+',
                               a / 3600 % 100, a / 60 % 60);
}

void zone_offset_text(int32_t offset, char *buf, size_t size) {
        unsigned a = offset < 0 ? 0u - (unsigned)offset : (unsigned)offset;
        (void)snprintf(buf, size, "%c%02u:%02u", offset < 0 ? '-' : '+', a / 3600 % 100,
                       a / 60 % 60);
}

/* {"utc", "local", "zone", "abbreviation", "utc_offset", "utc_offset_seconds"} */
json_t *zone_now_json(void) {
        _cleanup_free_ char *data = NULL;
        struct zone_info z = {.abbreviation = "UTC"};
        char zone[ZONE_NAME_MAX + 1], utc[40], local[40], off[16];
        int64_t now = (int64_t)time(NULL);
        size_t len;

        zone_name(zone, sizeof zone);
        if (read_file(ETC_LOCALTIME, TZIF_FILE_MAX, &data, &len) < 0 ||
            tzif_lookup((const uint8_t *)data, len, now, &z) < 0)
                (void)zone_lookup(zone, now, &z);
        iso_time(now, 0, utc, sizeof utc);
        iso_time(now, z.utc_offset, local, sizeof local);
        zone_offset_text(z.utc_offset, off, sizeof off);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "utc", utc, "local", local, "zone",
                         zone, "abbreviation", z.abbreviation, "utc_offset", off,
                         "utc_offset_seconds", (int)z.utc_offset, "dst", z.dst);
}

/* {"id", "name", "region", "utc_offset_now", "utc_offset_seconds",
 *  "abbreviation", "dst"}; the id is the name with ':' for '/', since an
 * id is one path segment. */
json_t *zone_item_json(const char *name, int64_t now) {
        struct zone_info z;
        const char *slash = strchr(name, '/');
        int region = slash ? (int)(slash - name) : 0;
        char id[ZONE_NAME_MAX + 1], off[16];

        (void)snprintf(id, sizeof id, "%s", name);
        for (char *p = id; *p; p++)
                if (*p == '/')
                        *p = ':';
        if (zone_lookup(name, now, &z) < 0)
                return json_pack("{s:s, s:s, s:s#, s:n, s:n, s:n, s:n}", "id", id, "name", name,
                                 "region", name, region, "utc_offset_now", "utc_offset_seconds",
                                 "abbreviation", "dst");
        zone_offset_text(z.utc_offset, off, sizeof off);
        return json_pack("{s:s, s:s, s:s#, s:s, s:i, s:s, s:b}", "id", id, "name", name, "region",
                         name, region, "utc_offset_now", off, "utc_offset_seconds",
                         (int)z.utc_offset, "abbreviation", z.abbreviation, "dst", z.dst);
}
