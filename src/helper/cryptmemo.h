/* cryptmemo.h — one password hash computed once per login, however many
 * times the PAM module asks for it (see cryptmemo.c). */
#pragma once

/* Between begin and end (one pam_authenticate), crypt_r answers a second
 * call with the same phrase and setting from the first call's result;
 * end wipes what was kept.  Helper only (one thread). */
void crypt_memo_begin(void);
void crypt_memo_end(void);

/* How many crypt_r calls were answered from the memo since the process
 * started (for tests and the log). */
unsigned long crypt_memo_hits(void);
