/* certinfo.h — what an X.509 certificate says about its own lifetime, read
 * with GnuTLS: the one reader of certificate files for the front (its own
 * certificate's facts), the helper (a certificate the front may not read)
 * and the alert kinds.
 *
 * Pure on a buffer: PEM (the first certificate of a chain: the leaf, as
 * servers serve it) or DER.  Bounded by the caller (CERTINFO_MAX).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CERTINFO_MAX (1u << 20) /* bytes of a certificate file */

/* The certificate's notAfter (unix seconds) and its subject's DN (truncated
 * to subject_len, may be NULL).  -EINVAL for what is no certificate. */
int certinfo_not_after(const void *data, size_t len, int64_t *ret_not_after, char *subject,
                       size_t subject_len);
