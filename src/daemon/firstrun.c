/* firstrun.c — see firstrun.h.  The guide is built from facts the root
 * process already holds (the listeners, the certificate, the token file,
 * the role groups of the configuration) plus two cheap looks: the role
 * groups' members (getgrnam) and where the CLI is.  The port owner is
 * looked up only after a bind failed with EADDRINUSE: one pass over
 * /proc/net/tcp{,6} for the listening socket's inode, one over the
 * descriptors of every process for that inode (root reads them all). */
#include "firstrun.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define GUIDE_MAX               8192
#define FIRSTRUN_DEFAULT_SOCKET "/run/steward/stewardd.sock"
#define MEMBERS_SHOWN           6
#define PROC_NET_LINE_MAX       512
#define PROC_NET_LINES_MAX      1000000 /* a bound on the sockets read */
#define HOLDERS_MAX             64      /* processes sharing one listening socket */

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* "0.0.0.0:660" → host "web1" (this host's name for a wildcard), port 660;
 * "[::1]:6600" → "[::1]", 6600. */
static void split_listen(const char *listen, const char *self, char *host, size_t cap,
                         unsigned *port) {
        const char *colon = strrchr(listen, ':');
        size_t n = colon ? (size_t)(colon - listen) : strlen(listen);

        *port = 660;
        if (colon)
                (void)safe_atou(colon + 1, port);
        if ((n == 7 && strncmp(listen, "0.0.0.0", 7) == 0) ||
            (n == 4 && strncmp(listen, "[::]", 4) == 0))
                snprintf(host, cap, "%s", self && *self ? self : "localhost");
        else
                snprintf(host, cap, "%.*s", (int)n, listen);
}

/* "HOST" for port 660, else "HOST:PORT". */
static void host_port(char *dst, size_t cap, const char *host, unsigned port) {
        if (port == 660)
                snprintf(dst, cap, "%s", host);
        else
                snprintf(dst, cap, "%s:%u", host, port);
}

/* "steward-admin (alice, bob)", "steward-operator (no members)". */
static void group_members(struct buf *b, const char *name) {
        struct group *g = getgrnam(name);
        size_t i;

        (void)buf_printf(b, "%s (", name);
        if (!g) {
                (void)buf_puts(b, "no such group)");
                return;
        }
        for (i = 0; g->gr_mem && g->gr_mem[i]; i++) {
                if (i == MEMBERS_SHOWN) {
                        (void)buf_puts(b, ", …");
                        break;
                }
                (void)buf_printf(b, "%s%s", i ? ", " : "", g->gr_mem[i]);
        }
        (void)buf_puts(b, i == 0 ? "no members yet)" : ")");
}

static void role_groups(struct buf *b, const struct steward_config *cfg) {
        const struct setting_list *lists[] = {&cfg->admin_groups, &cfg->operator_groups,
                                              &cfg->monitor_groups};
        static const char *const roles[] = {"admin", "operator", "monitor"};

        for (size_t r = 0; r < ELEMENTSOF(lists); r++) {
                (void)buf_printf(b, "               %-9s ", roles[r]);
                for (size_t i = 0; i < lists[r]->n; i++) {
                        if (i)
                                (void)buf_puts(b, ", ");
                        group_members(b, lists[r]->name[i]);
                }
                (void)buf_puts(b, lists[r]->n ? "\n" : "(no groups)\n");
        }
}

char *firstrun_guide(const struct firstrun_facts *f) {
        char host[300], where[320], local[320];
        unsigned port;
        struct buf b;

        split_listen(f->listen, f->host, host, sizeof host, &port);
        host_port(where, sizeof where, host, port);
        host_port(local, sizeof local,
                  strncmp(f->listen, "0.0.0.0:", 8) == 0 || strncmp(f->listen, "[::]:", 5) == 0
                          ? "localhost"
                          : host,
                  port);
        buf_init(&b, GUIDE_MAX);
        (void)buf_printf(&b,
                         "\nstewardd is ready. Next steps:\n"
                         "  Console      https://%s:%u/\n"
                         "               the certificate's fingerprint: %s\n"
                         "               (the browser warns about the self-signed certificate: "
                         "compare this fingerprint)\n",
                         host, port, f->fingerprint);
        (void)buf_printf(&b, "  CLI          steward login %s\n", where);
        if (f->cli && f->cli_on_path)
                (void)buf_printf(&b, "               (steward on the PATH is %s)\n", f->cli);
        else if (f->cli)
                (void)buf_printf(&b,
                                 "               the CLI is %s (not on the PATH: give that path, "
                                 "or link it into /usr/local/bin)\n",
                                 f->cli);
        if (STREQ(f->socket_path, FIRSTRUN_DEFAULT_SOCKET))
                (void)buf_puts(&b, "               as root on this machine, over the local socket "
                                   "with no login: steward list\n");
        else
                (void)buf_printf(&b,
                                 "               as root on this machine, over the local socket "
                                 "with no login: steward --socket %s list\n",
                                 f->socket_path);
        (void)buf_puts(&b, "  Who logs in  accounts in the role groups (and on the local socket, "
                           "root):\n");
        role_groups(&b, f->cfg);
        if (f->token_exists)
                (void)buf_printf(&b,
                                 "  First login  with the one-time bootstrap token in %s (root "
                                 "only):\n"
                                 "               as root here: steward login --bootstrap %s\n"
                                 "               or in the console: paste it into the login "
                                 "page's first-login field\n",
                                 f->token_path, local);
        else
                (void)buf_puts(&b, "  First login  the bootstrap token has been used: log in with "
                                   "an account of a role group\n");
        return buf_steal(&b);
}

/* Is the regular file at path executable? */
static bool executable(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first "steward" on $PATH, malloc'ed, or NULL. */
static char *on_path(void) {
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = path ? strdup(path) : NULL;
        char *save = NULL;

        for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
             d = strtok_r(NULL, ":", &save)) {
                char *p = NULL;
                if (d[0] != '/' || asprintf(&p, "%s/steward", d) < 0)
                        continue;
                if (executable(p))
                        return p;
                free(p);
        }
        return NULL;
}

int firstrun_find_cli(char **ret_path, bool *ret_on_path) {
        char self[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
        _cleanup_free_ char *beside = NULL, *found = on_path();
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        char *slash;

        *ret_path = NULL;
        *ret_on_path = false;
        if (n > 0) {
                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        /* stewardd in sbin, steward in bin; or both in a build directory */
                        if (asprintf(&beside, "%s/steward", self) < 0)
                                return -ENOMEM;
                        if (!executable(beside) && (slash = strrchr(self, '/')) &&
                            strcmp(slash, "/sbin") == 0) {
                                free(beside);
                                beside = NULL;
                                if (asprintf(&beside, "%.*s/bin/steward", (int)(slash - self),
                                             self) < 0)
                                        return -ENOMEM;
                        }
                        if (!executable(beside)) {
                                free(beside);
                                beside = NULL;
                        }
                }
        }
        if (beside) {
                *ret_on_path =
                        found && realpath(found, a) && realpath(beside, b) && strcmp(a, b) == 0;
                *ret_path = *ret_on_path ? TAKE_PTR(found) : TAKE_PTR(beside);
        } else if (found) {
                *ret_on_path = true;
                *ret_path = TAKE_PTR(found);
        }
        return 0;
}

/* The inode of the socket listening on port in one /proc/net/tcp file. */
static int listening_inode(const char *file, uint16_t port, unsigned long long *ret) {
        _cleanup_fclose_ FILE *f = fopen(file, "re");
        char line[PROC_NET_LINE_MAX];
        size_t lines = 0;

        if (!f)
                return -errno;
        /* "  0: 00000000:0294 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 0 12345
         * …" */
        while (fgets(line, sizeof line, f) && lines++ < PROC_NET_LINES_MAX) {
                char local[64], remote[64], st[8], *colon, *end;
                unsigned long long inode;
                unsigned long p;
                unsigned uid, tmo;

                if (sscanf(line, " %*u: %63s %63s %7s %*s %*s %*s %u %u %llu", local, remote, st,
                           &uid, &tmo, &inode) != 6)
                        continue;
                colon = strrchr(local, ':');
                if (!colon || strcmp(st, "0A") != 0)
                        continue;
                errno = 0;
                p = strtoul(colon + 1, &end, 16);
                if (errno || *end || p != port || inode == 0)
                        continue;
                *ret = inode;
                return 0;
        }
        return -ENOENT;
}

/* Does process pid hold the socket inode? */
static bool holds_inode(const char *pid, const char *want) {
        char dir[sizeof "/proc//fd" + NAME_MAX], target[64];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *e;

        snprintf(dir, sizeof dir, "/proc/%s/fd", pid);
        d = opendir(dir);
        if (!d)
                return false;
        while ((e = readdir(d))) {
                ssize_t n;
                if (e->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, want) == 0)
                        return true;
        }
        return false;
}

/* The parent pid of pid, or 0. */
static pid_t parent_of(pid_t pid) {
        char path[64], *close_paren;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        unsigned ppid;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (read_file(path, 4096, &text, &len) < 0 || !(close_paren = strrchr(text, ')')))
                return 0;
        /* "PID (COMM) S PPID …": COMM may hold spaces and parentheses */
        if (close_paren[1] != ' ' || !close_paren[2] || close_paren[3] != ' ')
                return 0;
        close_paren[4 + strcspn(close_paren + 4, " ")] = '\0';
        return safe_atou(close_paren + 4, &ppid) < 0 ? 0 : (pid_t)ppid;
}

int firstrun_port_owner(uint16_t port, pid_t *ret_pid, char *comm, size_t cap) {
        _cleanup_closedir_ DIR *proc = NULL;
        unsigned long long inode = 0;
        pid_t holders[HOLDERS_MAX], best = 0;
        size_t n = 0;
        char want[48], path[64];
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct dirent *e;
        unsigned pid;

        if (listening_inode("/proc/net/tcp", port, &inode) < 0 &&
            listening_inode("/proc/net/tcp6", port, &inode) < 0)
                return -ENOENT;
        snprintf(want, sizeof want, "socket:[%llu]", inode);
        proc = opendir("/proc");
        if (!proc)
                return -errno;
        while ((e = readdir(proc)) && n < HOLDERS_MAX)
                if (isdigit((unsigned char)e->d_name[0]) && safe_atou(e->d_name, &pid) >= 0 &&
                    (pid_t)pid != getpid() && holds_inode(e->d_name, want))
                        holders[n++] = (pid_t)pid;
        /* stewardd's supervisor and its front both hold it: name the one
         * whose parent does not. */
        for (size_t i = 0; i < n && !best; i++) {
                pid_t pp = parent_of(holders[i]);
                bool child = false;
                for (size_t j = 0; j < n; j++)
                        child = child || (pp == holders[j]);
                if (!child)
                        best = holders[i];
        }
        if (!best)
                return -ENOENT;
        snprintf(path, sizeof path, "/proc/%d/comm", (int)best);
        snprintf(comm, cap, "?");
        if (read_file(path, 64, &text, &len) >= 0) {
                while (len > 0 && text[len - 1] == '\n')
                        text[--len] = '\0';
                snprintf(comm, cap, "%s", text);
        }
        *ret_pid = best;
        return 0;
}
