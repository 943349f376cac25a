/* activation.c — the sockets systemd hands stewardd; see activation.h.
 *
 * Only the root supervisor (main.c) calls this, before it binds anything
 * itself: what systemd passed is used and what it did not pass is bound as
 * the command line says, so a unit may pass only some of the sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "activation.h"
#include "util.h"

int activation_socket_name(int fd, char *name, size_t name_len) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char host[INET6_ADDRSTRLEN];

        memset(&ss, 0, sizeof ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return -errno;
        switch (ss.ss_family) {
        case AF_INET6: {
                const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
                snprintf(name, name_len, "[%s]:%u", host, ntohs(a->sin6_port));
                return 0;
        }
        case AF_INET: {
                const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
                snprintf(name, name_len, "%s:%u", host, ntohs(a->sin_port));
                return 0;
        }
        case AF_UNIX: {
                const struct sockaddr_un *a = (const struct sockaddr_un *)&ss;
                size_t n = len > offsetof(struct sockaddr_un, sun_path)
                                   ? len - offsetof(struct sockaddr_un, sun_path)
                                   : 0;
                /* A path socket only: abstract and unnamed ones have no
                 * file the peer-credential check could name. */
                if (n == 0 || a->sun_path[0] != '/')
                        return -EAFNOSUPPORT;
                n = strnlen(a->sun_path, n);
                if (n >= name_len)
                        return -ENAMETOOLONG;
                memcpy(name, a->sun_path, n);
                name[n] = '\0';
                return 0;
        }
        default:
                return -EAFNOSUPPORT;
        }
}

static int sockopt_int(int fd, int opt, int *ret) {
        socklen_t len = sizeof *ret;
        return getsockopt(fd, SOL_SOCKET, opt, ret, &len) < 0 ? -errno : 0;
}

int activation_classify(struct activation *a, int fd, char *err, size_t err_len) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int type = 0, listening = 0, r;
        char name[128];

        if ((r = sockopt_int(fd, SO_TYPE, &type)) < 0 ||
            getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
                r = r < 0 ? r : -errno;
                snprintf(err, err_len, "passed descriptor %d is not a socket: %s", fd,
                         strerror(-r));
                return r;
        }
        r = activation_socket_name(fd, name, sizeof name);
        if (r < 0) {
                snprintf(err, err_len,
                         "passed socket %d has no usable address (an IPv4/IPv6 address or a "
                         "unix socket path): %s",
                         fd, strerror(-r));
                return r;
        }
        if (type == SOCK_STREAM && (sockopt_int(fd, SO_ACCEPTCONN, &listening) < 0 || !listening)) {
                snprintf(err, err_len,
                         "passed socket %s is not listening (the socket unit needs Accept=no)",
                         name);
                return -EINVAL;
        }
        if (type == SOCK_STREAM && ss.ss_family != AF_UNIX) {
                if (a->n_tcp == ACTIVATION_MAX_TCP) {
                        snprintf(err, err_len, "more than %d TCP sockets passed",
                                 ACTIVATION_MAX_TCP);
                        return -E2BIG;
                }
                a->tcp[a->n_tcp++] = (struct listener){.fd = fd, .unix_socket = false};
                snprintf(a->tcp[a->n_tcp - 1].name, sizeof a->tcp[0].name, "%s", name);
        } else if (type == SOCK_STREAM) {
                if (a->unix_socket.fd >= 0) {
                        snprintf(err, err_len, "two unix sockets passed (%s and %s)",
                                 a->unix_socket.name, name);
                        return -EEXIST;
                }
                a->unix_socket = (struct listener){.fd = fd, .unix_socket = true};
                snprintf(a->unix_socket.name, sizeof a->unix_socket.name, "%s", name);
        } else if (type == SOCK_DGRAM && ss.ss_family != AF_UNIX) {
                if (a->udp.n == DISCOVERY_MAX_SOCKETS) {
                        snprintf(err, err_len, "more than %d UDP sockets passed",
                                 DISCOVERY_MAX_SOCKETS);
                        return -E2BIG;
                }
                /* An inet address name fits (INET6_ADDRSTRLEN + "[]:65535"). */
                a->udp.fds[a->udp.n] = fd;
                snprintf(a->udp.names[a->udp.n], sizeof a->udp.names[0], "%.*s",
                         (int)sizeof a->udp.names[0] - 1, name);
                a->udp.n++;
        } else {
                snprintf(err, err_len,
                         "passed socket %s is neither a TCP or unix stream socket nor a UDP "
                         "socket",
                         name);
                return -EPROTOTYPE;
        }
        return 0;
}

int activation_take(struct activation *ret, char *err, size_t err_len) {
        struct activation a = {.unix_socket = {.fd = -1}};
        char **names = NULL;
        int n, r = 0;

        /* unset_environment: the front and every tool inherit nothing.
         * The names (FileDescriptorName=) only label the error messages:
         * what a descriptor is decides what it serves. */
        n = sd_listen_fds_with_names(/* unset_environment= */ 1, &names);
        if (n < 0) {
                snprintf(err, err_len, "cannot read the sockets passed by systemd: %s",
                         strerror(-n));
                return n;
        }
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                if (r >= 0 && (r = activation_classify(&a, fd, err, err_len)) < 0 && names &&
                    names[i]) {
                        size_t len = strlen(err);
                        snprintf(err + len, err_len - len, " (passed as \"%s\")", names[i]);
                }
                if (r >= 0 && (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
                               fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)) {
                        r = -errno;
                        snprintf(err, err_len, "cannot set up passed descriptor %d: %s", fd,
                                 strerror(errno));
                }
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0) {
                for (int i = 0; i < n; i++)
                        close(SD_LISTEN_FDS_START + i);
                return r;
        }
        a.n_total = (size_t)n;
        *ret = a;
        return 0;
}
