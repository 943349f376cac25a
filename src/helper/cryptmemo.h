/* cryptmemo.h — one password hash computed once per login, however many
 * times the PAM module asks for it (see cryptmemo.c). */
#pragma once

/* Between begin and end (one pam_authenticate), crypt_r answers a second
 * call with the same phrase and setting from the first call's result;
 * end wipes what was kept.  Helper only (one thread). */
void crypt_memo_begin(void);
/* Returns how many hashes were computed since crypt_memo_begin (a refused
 * setting, such as a locked account's "!…", computes none). */
unsigned crypt_memo_end(void);

/* One hash of phrase with the system's default method and cost (a fresh
 * salt), its result thrown away: a login that failed before any hash was
 * computed (PAM found no such user) costs what a wrong password costs, so
 * the time of the answer does not say whether the account exists. */
void crypt_memo_equalize(const char *phrase);

/* How many crypt_r calls were answered from the memo since the process
 * started (for tests and the log). */
unsigned long crypt_memo_hits(void);
