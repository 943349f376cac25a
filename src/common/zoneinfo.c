/* zoneinfo.c — zone names and zone files (see zoneinfo.h). */
#include "zoneinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

bool zone_name_valid(const char *s) {
        size_t n, comp = 0;

        if (!s)
                return false;
        n = strnlen(s, ZONE_NAME_MAX + 1);
        if (n == 0 || n > ZONE_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '/') {
                        if (comp == 0)
                                return false;
                        comp = 0;
                } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-')
                        comp++;
                else
                        return false;
        }
        return comp > 0;
}

/* Opens dir/name one component at a time, following no link: for kernels
 * without openat2. */
static int zone_open_nofollow(int dir, const char *name) {
        _cleanup_free_ char *copy = strdup(name);
        _cleanup_close_ int cur = -1;
        char *comp, *slash;
        int fd;

        if (!copy)
                return -ENOMEM;
        cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (comp = copy; (slash = strchr(comp, '/')); comp = slash + 1) {
                int next;

                *slash = '\0';
                next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                close(cur);
                cur = next;
        }
        fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

int zone_open(int dir, const char *name) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof how);

        if (fd < 0 && errno == ENOSYS)
                return zone_open_nofollow(dir, name);
        return fd < 0 ? -errno : fd;
}
