/* cryptmemo.c — crypt_r as the PAM modules in this process see it: one
 * password hash computed once per login.
 *
 * Why: Linux-PAM's pam_unix up to 1.5.x (Debian 12's) verifies a password
 * with `pp = x_strdup(crypt_r(p, hash, cdata))`, and x_strdup is the macro
 * `((s) ? strdup(s) : NULL)`: crypt_r runs twice, the second time only to
 * copy the same string.  With yescrypt, Debian's default, the hash is
 * nearly all of a login's cost, so every password login cost twice the
 * hash (bench/login.py: 43 ms against 20 ms for crypt(3) alone).
 *
 * How: stewardd exports crypt_r (meson.build: --export-dynamic-symbol), so
 * the modules that PAM loads bind to this definition before libcrypt's;
 * it computes with libcrypt's crypt_rn.  Only between crypt_memo_begin and
 * crypt_memo_end (one pam_authenticate in auth.c) does it keep the phrase,
 * the setting and the result of the last call, and answer a call with the
 * same phrase and the same setting, byte for byte, with that result.  A
 * different phrase or setting is always computed, so a wrong password is
 * never answered with a right one's hash; outside a login nothing is kept
 * and every call is computed (password changes, other modules).
 *
 * Invariants: the kept phrase and result are wiped (explicit_bzero) at
 * crypt_memo_end and whenever they are replaced; a phrase longer than
 * CRYPT_MAX_PASSPHRASE_SIZE or a setting longer than CRYPT_OUTPUT_SIZE is
 * not kept (libcrypt refuses the first anyway).  The helper is one thread;
 * the state is this file's.  The result is the same whether the answer was
 * kept or computed, so PAM's verdict, the answer and the time of a failure
 * and of a success stay alike (both now cost one hash).  If the symbol were
 * not bound here (a module linked with -Bsymbolic), logins would only be
 * as slow as before. */
#include "cryptmemo.h"

#include <crypt.h>
#include <stdbool.h>
#include <string.h>

static struct {
        bool armed, kept;
        size_t phrase_len, setting_len;
        char phrase[CRYPT_MAX_PASSPHRASE_SIZE + 1];
        char setting[CRYPT_OUTPUT_SIZE];
        char output[CRYPT_OUTPUT_SIZE];
} memo;

static unsigned long hits;
static unsigned computed; /* since crypt_memo_begin */

static void memo_wipe(void) {
        explicit_bzero(memo.phrase, sizeof memo.phrase);
        explicit_bzero(memo.output, sizeof memo.output);
        memset(memo.setting, 0, sizeof memo.setting);
        memo.kept = false;
        memo.phrase_len = memo.setting_len = 0;
}

void crypt_memo_begin(void) {
        memo_wipe();
        memo.armed = true;
        computed = 0;
}

unsigned crypt_memo_end(void) {
        memo_wipe();
        memo.armed = false;
        return computed;
}

void crypt_memo_equalize(const char *phrase) {
        struct crypt_data data;
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];

        /* NULL prefix and count 0: libxcrypt's default method (yescrypt on
         * Debian) at its default cost, as passwd(1) would make it. */
        if (crypt_gensalt_rn(NULL, 0, NULL, 0, salt, (int)sizeof salt))
                (void)crypt_rn(phrase ? phrase : "", salt, &data, (int)sizeof data);
        explicit_bzero(&data, sizeof data);
}

unsigned long crypt_memo_hits(void) {
        return hits;
}

static bool memo_matches(const char *phrase, size_t plen, const char *setting, size_t slen) {
        return memo.armed && memo.kept && plen == memo.phrase_len && slen == memo.setting_len &&
               memcmp(phrase, memo.phrase, plen) == 0 && memcmp(setting, memo.setting, slen) == 0;
}

/* libxcrypt's contract: the result is in data->output, a failure token
 * ("*0" or "*1") when the phrase or setting is refused; never NULL. */
char *crypt_r(const char *phrase, const char *setting, struct crypt_data *data) {
        size_t plen, slen;

        if (!data)
                return NULL;
        if (!phrase || !setting) {
                memcpy(data->output, "*0", 3); /* as libxcrypt answers it */
                return data->output;
        }
        plen = strnlen(phrase, CRYPT_MAX_PASSPHRASE_SIZE + 1);
        slen = strnlen(setting, CRYPT_OUTPUT_SIZE);
        if (memo_matches(phrase, plen, setting, slen)) {
                memcpy(data->output, memo.output, sizeof memo.output);
                hits++;
                return data->output;
        }
        /* on failure data->output holds the failure token */
        if (crypt_rn(phrase, setting, data, (int)sizeof *data))
                computed++; /* a refused setting (a locked "!…") costs nothing */
        if (memo.armed) {
                memo_wipe();
                if (plen <= CRYPT_MAX_PASSPHRASE_SIZE && slen < CRYPT_OUTPUT_SIZE) {
                        memcpy(memo.phrase, phrase, plen);
                        memcpy(memo.setting, setting, slen);
                        memcpy(memo.output, data->output, sizeof memo.output);
                        memo.phrase_len = plen;
                        memo.setting_len = slen;
                        memo.kept = true;
                }
        }
        return data->output;
}
