/* diff.c — see diff.h.  Lines are views into the caller's texts; only the
 * LCS table and the edit script are allocated. */
#include "diff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct line {
        const char *p;
        size_t n; /* without the newline */
        bool nl;  /* ended by a newline */
};

static int split_lines(const char *t, size_t len, struct line **ret, size_t *ret_n) {
        size_t n = 0, cap = 0;
        struct line *v = NULL;
        size_t i = 0;

        while (i < len) {
                const char *nl = memchr(t + i, '\n', len - i);
                size_t e = nl ? (size_t)(nl - t) : len;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        struct line *w = realloc(v, cap * sizeof *v);
                        if (!w) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = w;
                }
                v[n++] = (struct line){t + i, e - i, nl != NULL};
                i = e + 1;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool line_eq(const struct line *a, const struct line *b) {
        return a->n == b->n && a->nl == b->nl && memcmp(a->p, b->p, a->n) == 0;
}

enum op { OP_EQ, OP_DEL, OP_ADD };
struct edit {
        enum op op;
        size_t a, b; /* line index in old (a) and new (b) */
};

static int emit_line(struct buf *o, char tag, const struct line *l) {
        int r = buf_append(o, &tag, 1);
        if (r >= 0)
                r = buf_append(o, l->p, l->n);
        if (r >= 0)
                r = buf_puts(o, "\n");
        if (r >= 0 && !l->nl)
                r = buf_puts(o, "\\ No newline at end of file\n");
        return r;
}

int diff_unified(const char *path, const char *old_text, size_t old_len, const char *new_text,
                 size_t new_len, char **ret) {
        _cleanup_free_ struct line *a = NULL, *b = NULL;
        _cleanup_free_ uint32_t *t = NULL;
        _cleanup_free_ struct edit *ed = NULL;
        size_t na, nb, ne = 0;
        struct buf o;
        int r;

        buf_init(&o, 64u << 20);
        if (old_len == new_len && memcmp(old_text, new_text, old_len) == 0) {
                *ret = buf_steal(&o);
                return *ret ? 0 : -ENOMEM;
        }
        r = split_lines(old_text, old_len, &a, &na);
        if (r < 0)
                return r;
        r = split_lines(new_text, new_len, &b, &nb);
        if (r < 0)
                return r;

        r = buf_printf(&o, "--- a%s\n+++ b%s\n", path, path);
        if (r < 0)
                goto fail;
        if (na > DIFF_MAX_LINES || nb > DIFF_MAX_LINES) {
                r = buf_printf(&o, "@@ -1,%zu +1,%zu @@ file too large to show line changes\n", na,
                               nb);
                if (r < 0)
                        goto fail;
                *ret = buf_steal(&o);
                return 0;
        }

        /* t[i][j] = LCS length of a[i..] and b[j..]. */
        t = calloc((na + 1) * (nb + 1), sizeof *t);
        ed = malloc((na + nb + 1) * sizeof *ed);
        if (!t || !ed) {
                r = -ENOMEM;
                goto fail;
        }
#define T(i, j) t[(i) * (nb + 1) + (j)]
        for (size_t i = na; i-- > 0;)
                for (size_t j = nb; j-- > 0;)
                        T(i, j) = line_eq(&a[i], &b[j])        ? T(i + 1, j + 1) + 1
                                  : T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j)
                                                               : T(i, j + 1);
        for (size_t i = 0, j = 0; i < na || j < nb;) {
                if (i < na && j < nb && line_eq(&a[i], &b[j])) {
                        ed[ne++] = (struct edit){OP_EQ, i++, j++};
                } else if (j < nb && (i == na || T(i, j + 1) > T(i + 1, j))) {
                        ed[ne++] = (struct edit){OP_ADD, i, j++};
                } else {
                        ed[ne++] = (struct edit){OP_DEL, i++, j};
                }
        }
#undef T

        /* Group edits into hunks with DIFF_CONTEXT lines of context. */
        for (size_t k = 0; k < ne;) {
                size_t start, end, last_change;
                size_t a0, b0, ca = 0, cb = 0;

                while (k < ne && ed[k].op == OP_EQ)
                        k++;
                if (k == ne)
                        break;
                start = k > DIFF_CONTEXT ? k - DIFF_CONTEXT : 0;
                last_change = k;
                end = k;
                while (end < ne) {
                        if (ed[end].op != OP_EQ)
                                last_change = end;
                        else if (end - last_change > 2 * DIFF_CONTEXT)
                                break;
                        end++;
                }
                end = last_change + 1 + DIFF_CONTEXT < ne ? last_change + 1 + DIFF_CONTEXT : ne;

                a0 = ed[start].a;
                b0 = ed[start].b;
                for (size_t x = start; x < end; x++) {
                        if (ed[x].op != OP_ADD)
                                ca++;
                        if (ed[x].op != OP_DEL)
                                cb++;
                }
                r = buf_printf(&o, "@@ -%zu,%zu +%zu,%zu @@\n", ca ? a0 + 1 : a0, ca,
                               cb ? b0 + 1 : b0, cb);
                for (size_t x = start; r >= 0 && x < end; x++)
                        r = ed[x].op == OP_EQ    ? emit_line(&o, ' ', &a[ed[x].a])
                            : ed[x].op == OP_DEL ? emit_line(&o, '-', &a[ed[x].a])
                                                 : emit_line(&o, '+', &b[ed[x].b]);
                if (r < 0)
                        goto fail;
                k = end;
        }
        *ret = buf_steal(&o);
        return *ret ? 0 : -ENOMEM;
fail:
        buf_free(&o);
        return r;
}
