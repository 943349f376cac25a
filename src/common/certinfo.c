/* certinfo.c — see certinfo.h.  GnuTLS parses; nothing here keeps state. */
#include "certinfo.h"

#include <errno.h>
#include <gnutls/x509.h>
#include <string.h>

int certinfo_not_after(const void *data, size_t len, int64_t *ret_not_after, char *subject,
                       size_t subject_len) {
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t d = {.data = (unsigned char *)data, .size = (unsigned)len};
        time_t t;
        int r;

        if (!data || len == 0 || len > CERTINFO_MAX)
                return -EINVAL;
        if (gnutls_x509_crt_init(&crt) < 0)
                return -ENOMEM;
        r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
        if (r < 0)
                r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
        if (r < 0) {
                gnutls_x509_crt_deinit(crt);
                return -EINVAL;
        }
        t = gnutls_x509_crt_get_expiration_time(crt);
        if (t == (time_t)-1) {
                gnutls_x509_crt_deinit(crt);
                return -EINVAL;
        }
        if (subject && subject_len > 0) {
                size_t n = subject_len;
                if (gnutls_x509_crt_get_dn(crt, subject, &n) < 0)
                        subject[0] = '\0';
                subject[subject_len - 1] = '\0';
        }
        gnutls_x509_crt_deinit(crt);
        *ret_not_after = (int64_t)t;
        return 0;
}
