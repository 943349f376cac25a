/* tls.c — see tls.h.  GnuTLS does the cryptography; this file only decides
 * names, lifetimes and file modes. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CERT_LIFETIME_DAYS 3650
#define PEM_MAX            (64u << 10)

int sha256_hex(const void *s, size_t n, char dst[65]) {
        uint8_t d[32];
        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, n, d) < 0)
                return -EIO;
        hex_encode(d, sizeof d, dst);
        return 0;
}

static int fingerprint_of(const char *cert_pem, char *dst, size_t dst_len) {
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t in = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
        uint8_t fp[32];
        size_t fp_len = sizeof fp;
        char hex[65];
        int r = -EINVAL;

        if (gnutls_x509_crt_init(&crt) < 0)
                return -ENOMEM;
        if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) >= 0 &&
            gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fp_len) >= 0 &&
            fp_len == 32) {
                hex_encode(fp, 32, hex);
                snprintf(dst, dst_len, "SHA256:%s", hex);
                r = 0;
        }
        gnutls_x509_crt_deinit(crt);
        return r;
}

static int generate(char **ret_key, char **ret_cert, char *err, size_t err_len) {
        gnutls_x509_privkey_t key = NULL;
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t kd = {0}, cd = {0};
        char host[256] = "localhost";
        uint8_t serial[16];
        const uint8_t ip4[4] = {127, 0, 0, 1};
        uint8_t ip6[16] = {0};
        time_t now = time(NULL);
        int g, r = -EIO;

        ip6[15] = 1;
        if (gethostname(host, sizeof host - 1) < 0 || !host[0])
                snprintf(host, sizeof host, "localhost");
        if (random_bytes(serial, sizeof serial) < 0)
                return -EIO;
        serial[0] &= 0x7f; /* a positive serial number */

        if ((g = gnutls_x509_privkey_init(&key)) < 0 ||
            (g = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
                                              0)) < 0 ||
            (g = gnutls_x509_crt_init(&crt)) < 0 || (g = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
            (g = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
            (g = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
            (g = gnutls_x509_crt_set_expiration_time(crt, now + CERT_LIFETIME_DAYS * 86400L)) < 0 ||
            (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
                                               (unsigned)strlen(host))) < 0 ||
            (g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "Steward",
                                               7)) < 0 ||
            (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
                                                      (unsigned)strlen(host), GNUTLS_FSAN_APPEND)) <
                    0 ||
            (strcmp(host, "localhost") != 0 &&
             (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                       GNUTLS_FSAN_APPEND)) < 0) ||
            (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip4, sizeof ip4,
                                                      GNUTLS_FSAN_APPEND)) < 0 ||
            (g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip6, sizeof ip6,
                                                      GNUTLS_FSAN_APPEND)) < 0 ||
            (g = gnutls_x509_crt_set_key(crt, key)) < 0 ||
            (g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
            (g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
            (g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
            (g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
            (g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kd)) < 0 ||
            (g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd)) < 0) {
                snprintf(err, err_len, "cannot generate the TLS key and certificate: %s",
                         gnutls_strerror(g));
                goto out;
        }
        *ret_key = strndup((const char *)kd.data, kd.size);
        *ret_cert = strndup((const char *)cd.data, cd.size);
        r = *ret_key && *ret_cert ? 0 : -ENOMEM;
out:
        if (kd.data) {
                gnutls_memset(kd.data, 0, kd.size);
                gnutls_free(kd.data);
        }
        gnutls_free(cd.data);
        gnutls_x509_crt_deinit(crt);
        gnutls_x509_privkey_deinit(key);
        return r;
}

int tls_identity_load_or_create(const char *dir, struct tls_identity *ret, char *err,
                                size_t err_len) {
        _cleanup_free_ char *key_path = NULL, *cert_path = NULL;
        struct tls_identity t = {0};
        bool have_key, have_cert;
        struct stat st;
        int r;

        if (asprintf(&key_path, "%s/key.pem", dir) < 0 ||
            asprintf(&cert_path, "%s/cert.pem", dir) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                r = -errno;
                snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
                return r;
        }
        have_key = access(key_path, F_OK) == 0;
        have_cert = access(cert_path, F_OK) == 0;
        if (have_key != have_cert) {
                snprintf(err, err_len,
                         "%s has %s but not %s; restore it, or remove both to generate a new "
                         "identity",
                         dir, have_key ? "key.pem" : "cert.pem", have_key ? "cert.pem" : "key.pem");
                return -ENOENT;
        }
        if (!have_key) {
                r = generate(&t.key_pem, &t.cert_pem, err, err_len);
                if (r < 0)
                        goto fail;
                r = write_file_atomic(key_path, t.key_pem, strlen(t.key_pem), 0600);
                if (r >= 0)
                        r = write_file_atomic(cert_path, t.cert_pem, strlen(t.cert_pem), 0644);
                if (r < 0) {
                        snprintf(err, err_len, "cannot write the TLS identity to %s: %s", dir,
                                 strerror(-r));
                        (void)unlink(key_path);
                        goto fail;
                }
                t.created = true;
        } else {
                if (stat(key_path, &st) == 0 && (st.st_mode & 077)) {
                        snprintf(err, err_len,
                                 "%s is readable by other users (mode %04o); "
                                 "make it 0600 (and consider it compromised)",
                                 key_path, (unsigned)(st.st_mode & 07777));
                        return -EPERM;
                }
                r = read_file(key_path, PEM_MAX, &t.key_pem, NULL);
                if (r >= 0)
                        r = read_file(cert_path, PEM_MAX, &t.cert_pem, NULL);
                if (r < 0) {
                        snprintf(err, err_len, "cannot read the TLS identity in %s: %s", dir,
                                 strerror(-r));
                        goto fail;
                }
        }
        r = fingerprint_of(t.cert_pem, t.fingerprint, sizeof t.fingerprint);
        if (r < 0) {
                snprintf(err, err_len, "%s is not a valid PEM certificate", cert_path);
                goto fail;
        }
        *ret = t;
        return 0;
fail:
        tls_identity_free(&t);
        return r;
}

void tls_identity_free(struct tls_identity *t) {
        if (t->key_pem) {
                explicit_bzero(t->key_pem, strlen(t->key_pem));
                free(t->key_pem);
        }
        free(t->cert_pem);
        *t = (struct tls_identity){0};
}
