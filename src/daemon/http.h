/* http.h — the HTTP front: one libmicrohttpd daemon per listening socket
 * (TLS on TCP, plain HTTP on the unix socket), enforcing the limits and the
 * transport's authentication before anything reaches the API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tls.h"

struct listener {
        int fd;
        bool unix_socket; /* plain HTTP, peer credentials */
        char name[128];   /* "0.0.0.0:660", "[::1]:660", "/run/steward/stewardd.sock" */
        void *mhd;        /* struct MHD_Daemon *, owned by http.c */
};

struct http_options {
        const struct tls_identity *tls;
        unsigned threads; /* per TCP listener */
};

/* Starts serving every listener; on failure stops what was started. */
int http_start(struct listener *ls, size_t n, const struct http_options *opt, char *err,
               size_t err_len);
void http_stop(struct listener *ls, size_t n);
