/* proto.c — see proto.h. */
#include "proto.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jsonutil.h"
#include "util.h"

static int send_all(int sock, const uint8_t *p, size_t n, int fd) {
        while (n > 0) {
                struct iovec iov = {(void *)p, n};
                union {
                        char buf[CMSG_SPACE(sizeof(int))];
                        struct cmsghdr align;
                } u;
                struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
                ssize_t k;

                if (fd >= 0) {
                        memset(&u, 0, sizeof u);
                        mh.msg_control = u.buf;
                        mh.msg_controllen = sizeof u.buf;
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &fd, sizeof fd);
                }
                k = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                fd = -1; /* the descriptor travels with the first byte only */
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int proto_send(int sock, json_t *msg, int fd) {
        size_t len = 0;
        _cleanup_free_ char *text = json_encode_compact(msg, 0, false, &len);
        uint8_t hdr[4];
        int r;

        if (!text)
                return -ENOMEM;
        if (len > PROTO_MAX_FRAME)
                return -E2BIG;
        hdr[0] = (uint8_t)(len >> 24);
        hdr[1] = (uint8_t)(len >> 16);
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        r = send_all(sock, hdr, sizeof hdr, fd);
        if (r < 0)
                return r;
        return send_all(sock, (const uint8_t *)text, len, -1);
}

/* Reads exactly n bytes; collects at most one passed descriptor. */
static int recv_all(int sock, uint8_t *p, size_t n, int *fd) {
        size_t got = 0;

        while (got < n) {
                struct iovec iov = {p + got, n - got};
                union {
                        char buf[CMSG_SPACE(sizeof(int) * 4)];
                        struct cmsghdr align;
                } u;
                struct msghdr mh = {.msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = u.buf,
                                    .msg_controllen = sizeof u.buf};
                ssize_t k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                                continue;
                        size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < nfd; i++) {
                                int f;
                                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                                if (*fd < 0)
                                        *fd = f;
                                else
                                        close(f); /* one descriptor per frame */
                        }
                }
                if (mh.msg_flags & MSG_CTRUNC)
                        return -EBADMSG;
                if (k == 0)
                        return got == 0 ? -ECONNRESET : -EBADMSG;
                got += (size_t)k;
        }
        return 0;
}

int proto_recv(int sock, json_t **ret, int *ret_fd) {
        _cleanup_free_ uint8_t *payload = NULL;
        json_error_t jerr;
        uint8_t hdr[4];
        uint32_t len;
        int fd = -1, r;
        json_t *v;

        r = recv_all(sock, hdr, sizeof hdr, &fd);
        if (r < 0)
                goto fail;
        len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
        if (len == 0 || len > PROTO_MAX_FRAME) {
                r = len ? -E2BIG : -EBADMSG;
                goto fail;
        }
        payload = malloc(len);
        if (!payload) {
                r = -ENOMEM;
                goto fail;
        }
        r = recv_all(sock, payload, len, &fd);
        if (r < 0) {
                if (r == -ECONNRESET)
                        r = -EBADMSG;
                goto fail;
        }
        if (!utf8_valid((const char *)payload, len)) {
                r = -EBADMSG;
                goto fail;
        }
        v = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!v || !json_is_object(v) || json_scan_depth((const char *)payload, len, 64) > 64) {
                json_decref(v);
                r = -EBADMSG;
                goto fail;
        }
        *ret = v;
        if (ret_fd)
                *ret_fd = fd;
        else if (fd >= 0)
                close(fd);
        return 0;
fail:
        if (fd >= 0)
                close(fd);
        return r;
}
