/* diff.h — unified diffs of small text files, for plans and the audit log.
 *
 * A longest-common-subsequence diff over lines: O(n·m) time and memory, so
 * inputs are capped (DIFF_MAX_LINES each); past the cap the diff says so in a
 * one-line hunk rather than failing, because a plan must always be shown. */
#pragma once

#include <stddef.h>

#define DIFF_MAX_LINES 4000
#define DIFF_CONTEXT   3

/* Writes "--- a/PATH\n+++ b/PATH\n@@ … @@\n…" into a malloc'ed string; an
 * empty string when the texts are equal. */
int diff_unified(const char *path, const char *old_text, size_t old_len, const char *new_text,
                 size_t new_len, char **ret);
