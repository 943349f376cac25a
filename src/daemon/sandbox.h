/* sandbox.h — the network front's seccomp filter (see sandbox.c). */
#pragma once

#include <stddef.h>

/* Loads the filter into the calling process (after no_new_privs). */
int sandbox_front(char *err, size_t err_len);
