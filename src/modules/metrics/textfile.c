/* textfile.c — the textfile collector (see textfile.h).
 *
 * The parser is strict where Prometheus' is: names and label names by
 * their grammars, label values with the three escapes (\\ \" \n) only,
 * label values and HELP texts valid UTF-8 (a scrape holding anything else
 * would be refused whole),
 * values as Go's ParseFloat takes them (NaN, ±Inf), one HELP and one TYPE a
 * family and both before its samples, no series twice, histogram and
 * summary samples by their suffixes; plus node_exporter's own refusal of
 * client-side timestamps.  Every input is bounded: file size, samples,
 * labels per sample, line lengths follow from the file size.
 *
 * The collector reads the directory at each scrape (at most
 * TEXTFILE_MAX_FILES files of at most TEXTFILE_MAX_FILE_BYTES, regular
 * files only: a FIFO or a device is refused before it is read) and keeps the merged
 * set of the last scrape in `last` for textfile_value(), under tf.lock;
 * the directory's name is also kept there.
 */
#include "modules/metrics/textfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};

/* ---- sets ------------------------------------------------------------------- */

static void sample_done(struct tf_sample *s) {
        for (size_t i = 0; i < s->n_labels; i++) {
                free(s->labels[i].name);
                free(s->labels[i].value);
        }
        free(s->labels);
        free(s->name);
        free(s->key);
}

static void family_done(struct tf_family *f) {
        for (size_t i = 0; i < f->n; i++)
                sample_done(&f->samples[i]);
        free(f->samples);
        free(f->name);
        free(f->help);
}

void textfile_set_done(struct tf_set *s) {
        for (size_t i = 0; i < s->n; i++)
                family_done(&s->fams[i]);
        free(s->fams);
        free(s->index);
        *s = (struct tf_set){0};
}

static uint64_t name_hash(const char *name, size_t n) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
        return h;
}

static struct tf_family *family_find(const struct tf_set *s, const char *name, size_t n) {
        if (!s->index_cap)
                return NULL;
        for (size_t i = name_hash(name, n) & (s->index_cap - 1);; i = (i + 1) & (s->index_cap - 1)) {
                struct tf_family *f;

                if (!s->index[i])
                        return NULL;
                f = &s->fams[s->index[i] - 1];
                if (f->name_len == n && memcmp(f->name, name, n) == 0)
                        return f;
        }
}

/* Puts fams[k] into the index, which has room. */
static void index_put(struct tf_set *s, size_t k) {
        size_t i = name_hash(s->fams[k].name, s->fams[k].name_len) & (s->index_cap - 1);

        while (s->index[i])
                i = (i + 1) & (s->index_cap - 1);
        s->index[i] = k + 1;
}

/* Makes the index hold n families at most half full. */
static int index_reserve(struct tf_set *s, size_t n) {
        size_t cap = s->index_cap ? s->index_cap : 16;
        size_t *idx;

        if (n * 2 <= s->index_cap)
                return 0;
        while (n * 2 > cap)
                cap *= 2;
        idx = calloc(cap, sizeof *idx);
        if (!idx)
                return -ENOMEM;
        free(s->index);
        s->index = idx;
        s->index_cap = cap;
        for (size_t k = 0; k < s->n; k++)
                index_put(s, k);
        return 0;
}

/* NULL on out of memory or past TEXTFILE_MAX_FAMILIES (errno says which). */
static struct tf_family *family_add(struct tf_set *s, const char *name, size_t n) {
        struct tf_family *f;

        if (s->n >= TEXTFILE_MAX_FAMILIES) {
                errno = E2BIG;
                return NULL;
        }
        errno = ENOMEM;
        if (index_reserve(s, s->n + 1) < 0)
                return NULL;
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                void *p = reallocarray(s->fams, cap, sizeof *s->fams);
                if (!p)
                        return NULL;
                s->fams = p;
                s->cap = cap;
        }
        f = &s->fams[s->n];
        *f = (struct tf_family){.name = strndup(name, n), .name_len = n, .type = "untyped"};
        if (!f->name)
                return NULL;
        index_put(s, s->n);
        s->n++;
        return f;
}

/* ---- grammar ------------------------------------------------------------------ */

static bool is_name_char(char c, bool first, bool colon) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

/* The length of the name at s (metric names take ':'), 0 when none. */
static size_t name_len(const char *s, const char *end, bool colon) {
        size_t n = 0;

        while (s + n < end && is_name_char(s[n], n == 0, colon))
                n++;
        return n;
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

/* A value token as Go's ParseFloat reads it, without hex and '_'. */
static int parse_value(const char *s, size_t n, double *ret) {
        char buf[64], *endp;
        size_t i = 0;

        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (i < n && (buf[i] == '+' || buf[i] == '-'))
                i++;
        if (STREQ(buf + i, "Inf") || STREQ(buf + i, "inf") || (i == 0 && STREQ(buf, "NaN"))) {
                *ret = buf[i] == 'N' ? NAN : (buf[0] == '-' ? -INFINITY : INFINITY);
                return 0;
        }
        for (size_t j = i; j < n; j++)
                if (!strchr("0123456789.eE+-", buf[j]))
                        return -EINVAL;
        errno = 0;
        *ret = strtod(buf, &endp);
        if (endp != buf + n || endp == buf + i || errno == ERANGE)
                return -EINVAL;
        return 0;
}

/* A quoted label value at *p (after the quote) up to its closing quote,
 * unescaped into a new string. */
static int parse_label_value(const char **p, const char *end, char **ret) {
        _cleanup_free_ char *v = malloc((size_t)(end - *p) + 1);
        const char *s = *p;
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        for (; s < end && *s != '"'; s++) {
                if (*s == '\n' || *s == '\0')
                        return -EINVAL;
                if (*s != '\\') {
                        v[n++] = *s;
                        continue;
                }
                if (++s >= end)
                        return -EINVAL;
                if (*s == 'n')
                        v[n++] = '\n';
                else if (*s == '\\' || *s == '"')
                        v[n++] = *s;
                else
                        return -EINVAL;
        }
        if (s >= end || !utf8_valid(v, n))
                return -EINVAL; /* Prometheus refuses a label value that is not UTF-8 */
        v[n] = '\0';
        *p = s + 1;
        *ret = TAKE_PTR(v);
        return 0;
}

static int label_cmp(const void *a, const void *b) {
        return strcmp(((const struct tf_label *)a)->name, ((const struct tf_label *)b)->name);
}

/* "{a="x",b="y"}" at *p (at the brace): the labels, sorted copies checked
 * for duplicates.  The labels are kept in file order, in smp->labels, which
 * has room for cap of them (more: -EINVAL). */
static int parse_labels(const char **p, const char *end, struct tf_sample *smp, size_t cap) {
        const char *s = *p + 1;

        for (;;) {
                struct tf_label l;
                size_t n;
                int r;

                s = skip_blanks(s, end);
                if (s < end && *s == '}')
                        break;
                n = name_len(s, end, false);
                if (n == 0 || smp->n_labels >= cap)
                        return -EINVAL;
                l.name = strndup(s, n);
                if (!l.name)
                        return -ENOMEM;
                s = skip_blanks(s + n, end);
                if (s + 1 >= end || s[0] != '=' || (s = skip_blanks(s + 1, end)) >= end ||
                    *s != '"') {
                        free(l.name);
                        return -EINVAL;
                }
                s++;
                r = parse_label_value(&s, end, &l.value);
                if (r < 0) {
                        free(l.name);
                        return r;
                }
                smp->labels[smp->n_labels++] = l;
                s = skip_blanks(s, end);
                if (s < end && *s == ',') {
                        s++;
                        continue;
                }
                if (s < end && *s == '}')
                        break;
                return -EINVAL;
        }
        *p = s + 1;
        return 0;
}

/* name and sorted labels, NUL- and 0x01-separated: two samples are the same
 * series exactly when their keys are equal. */
static int sample_key(struct tf_sample *smp) {
        struct tf_label sorted[TEXTFILE_MAX_LABELS];
        size_t len = strlen(smp->name) + 1;
        char *k, *o;

        memcpy(sorted, smp->labels, smp->n_labels * sizeof *sorted);
        qsort(sorted, smp->n_labels, sizeof *sorted, label_cmp);
        for (size_t i = 0; i < smp->n_labels; i++) {
                if (i > 0 && STREQ(sorted[i].name, sorted[i - 1].name))
                        return -EINVAL; /* a label twice */
                len += strlen(sorted[i].name) + strlen(sorted[i].value) + 2;
        }
        k = o = malloc(len + 1);
        if (!k)
                return -ENOMEM;
        o = stpcpy(o, smp->name);
        for (size_t i = 0; i < smp->n_labels; i++) {
                *o++ = '\x01';
                o = stpcpy(o, sorted[i].name);
                *o++ = '\x01';
                o = stpcpy(o, sorted[i].value);
        }
        smp->key = k;
        return 0;
}

/* The family a sample name belongs to: its own, or a histogram's or a
 * summary's by the suffix; a new untyped one when there is none. */
static struct tf_family *family_of_sample(struct tf_set *s, const char *name, size_t n) {
        static const struct {
                const char *suffix;
                bool summary;
        } sfx[] = {{"_bucket", false}, {"_sum", true}, {"_count", true}};
        struct tf_family *f = family_find(s, name, n);

        if (f)
                return f;
        for (size_t i = 0; i < ELEMENTSOF(sfx); i++) {
                size_t l = strlen(sfx[i].suffix);
                if (n <= l || memcmp(name + n - l, sfx[i].suffix, l) != 0)
                        continue;
                f = family_find(s, name, n - l);
                if (f && (STREQ(f->type, "histogram") || (sfx[i].summary && STREQ(f->type, "summary"))))
                        return f;
        }
        return family_add(s, name, n);
}

static int fail(char *err, size_t size, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t size, unsigned line, const char *fmt, ...) {
        va_list ap;
        int n = snprintf(err, size, "line %u: ", line);

        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < size)
                vsnprintf(err + n, size - (size_t)n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* "# HELP name text" or "# TYPE name type"; other comments are skipped. */
static int parse_comment(struct tf_set *s, const char *l, const char *end, unsigned line, char *err,
                         size_t err_size) {
        const char *p = skip_blanks(l + 1, end);
        struct tf_family *f;
        bool help;
        size_t n;

        if ((size_t)(end - p) > 5 && memcmp(p, "HELP", 4) == 0 && (p[4] == ' ' || p[4] == '\t'))
                help = true;
        else if ((size_t)(end - p) > 5 && memcmp(p, "TYPE", 4) == 0 && (p[4] == ' ' || p[4] == '\t'))
                help = false;
        else
                return 0;
        p = skip_blanks(p + 5, end);
        n = name_len(p, end, true);
        if (n == 0 || (p + n < end && p[n] != ' ' && p[n] != '\t'))
                return fail(err, err_size, line, "a bad metric name");
        f = family_find(s, p, n);
        if (f && f->n > 0)
                return fail(err, err_size, line, "HELP or TYPE after the family's samples");
        if (!f && !(f = family_add(s, p, n)))
                return errno == E2BIG ? fail(err, err_size, line, "more than %d families",
                                             TEXTFILE_MAX_FAMILIES)
                                      : -ENOMEM;
        p = skip_blanks(p + n, end);
        if (help) {
                _cleanup_free_ char *h = malloc((size_t)(end - p) + 1);
                size_t o = 0;
                if (!h)
                        return -ENOMEM;
                if (f->help)
                        return fail(err, err_size, line, "a second HELP line for %s", f->name);
                for (; p < end; p++) {
                        if (*p == '\\' && p + 1 < end && (p[1] == '\\' || p[1] == 'n')) {
                                h[o++] = p[1] == 'n' ? '\n' : '\\';
                                p++;
                        } else if (*p == '\0')
                                return fail(err, err_size, line, "a NUL byte");
                        else
                                h[o++] = *p;
                }
                h[o] = '\0';
                if (!utf8_valid(h, o))
                        return fail(err, err_size, line, "a HELP text that is not UTF-8");
                f->help = TAKE_PTR(h);
                return 0;
        }
        if (f->typed)
                return fail(err, err_size, line, "a second TYPE line for %s", f->name);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if ((size_t)(end - p) == strlen(types[i]) && memcmp(p, types[i], strlen(types[i])) == 0) {
                        f->type = types[i];
                        f->typed = true;
                        return 0;
                }
        return fail(err, err_size, line, "an unknown type");
}

static int family_push(struct tf_family *f, struct tf_sample *smp) {
        if (f->n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 4;
                void *p = reallocarray(f->samples, cap, sizeof *f->samples);
                if (!p)
                        return -ENOMEM;
                f->samples = p;
                f->cap = cap;
        }
        f->samples[f->n++] = *smp;
        return 0;
}

/* One sample line. */
static int parse_sample(struct tf_set *s, const char *l, const char *end, unsigned line, char *err,
                        size_t err_size) {
        struct tf_label labels[TEXTFILE_MAX_LABELS];
        struct tf_sample smp = {.labels = labels};
        const char *p = l, *v;
        struct tf_family *f;
        size_t n = name_len(p, end, true);
        int r;

        if (n == 0)
                return fail(err, err_size, line, "a bad metric name");
        smp.name = strndup(p, n);
        if (!smp.name)
                return -ENOMEM;
        p += n;
        if (skip_blanks(p, end) < end && *skip_blanks(p, end) == '{') {
                p = skip_blanks(p, end);
                r = parse_labels(&p, end, &smp, TEXTFILE_MAX_LABELS);
                if (r < 0)
                        goto bad;
        }
        if (p >= end || (*p != ' ' && *p != '\t')) {
                r = -EINVAL;
                goto bad;
        }
        v = p = skip_blanks(p, end);
        while (p < end && *p != ' ' && *p != '\t')
                p++;
        r = parse_value(v, (size_t)(p - v), &smp.value);
        if (r < 0)
                goto bad;
        if (skip_blanks(p, end) != end) {
                for (size_t i = 0; i < smp.n_labels; i++) {
                        free(labels[i].name);
                        free(labels[i].value);
                }
                free(smp.name);
                return fail(err, err_size, line, "client-side timestamps are not supported");
        }
        r = sample_key(&smp);
        if (r < 0)
                goto bad;
        smp.labels = smp.n_labels ? calloc(smp.n_labels, sizeof *labels) : NULL;
        if (smp.n_labels && !smp.labels) {
                smp.labels = labels;
                r = -ENOMEM;
                goto bad;
        }
        if (smp.n_labels)
                memcpy(smp.labels, labels, smp.n_labels * sizeof *labels);
        f = family_of_sample(s, smp.name, n);
        if (!f && errno == E2BIG) {
                sample_done(&smp);
                return fail(err, err_size, line, "more than %d families", TEXTFILE_MAX_FAMILIES);
        }
        if (!f || family_push(f, &smp) < 0) {
                sample_done(&smp);
                return -ENOMEM;
        }
        s->n_samples++;
        return 0;
bad:
        if (smp.labels == labels)
                for (size_t i = 0; i < smp.n_labels; i++) {
                        free(labels[i].name);
                        free(labels[i].value);
                }
        smp.n_labels = 0;
        smp.labels = NULL;
        sample_done(&smp);
        return r == -ENOMEM ? r : fail(err, err_size, line, "a malformed sample");
}

static int key_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a series is in the families twice (a or b NULL: one of them). */
static int duplicate_series(const struct tf_family *a, const struct tf_family *b) {
        size_t n = (a ? a->n : 0) + (b ? b->n : 0), k = 0;
        _cleanup_free_ char **keys = calloc(n ? n : 1, sizeof *keys);

        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; a && i < a->n; i++)
                keys[k++] = a->samples[i].key;
        for (size_t i = 0; b && i < b->n; i++)
                keys[k++] = b->samples[i].key;
        qsort(keys, n, sizeof *keys, key_cmp);
        for (size_t i = 1; i < n; i++)
                if (STREQ(keys[i], keys[i - 1]))
                        return 1;
        return 0;
}

int textfile_parse(const char *text, size_t len, size_t max_samples, struct tf_set *ret, char *err,
                   size_t err_size) {
        struct tf_set s = {0};
        const char *p = text ? text : "", *end = p + len;
        unsigned line = 0;
        int r = 0;

        err[0] = '\0';
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *l = p;
                const char *le = nl ? nl : end;

                p = nl ? nl + 1 : end;
                line++;
                if (memchr(l, '\0', (size_t)(le - l))) {
                        r = fail(err, err_size, line, "a NUL byte");
                        break;
                }
                l = skip_blanks(l, le);
                if (l == le)
                        continue;
                r = *l == '#' ? parse_comment(&s, l, le, line, err, err_size)
                              : parse_sample(&s, l, le, line, err, err_size);
                if (r < 0)
                        break;
                if (s.n_samples > max_samples) {
                        snprintf(err, err_size, "more than %zu samples", max_samples);
                        r = -E2BIG;
                        break;
                }
        }
        for (size_t i = 0; r >= 0 && i < s.n; i++) {
                r = duplicate_series(&s.fams[i], NULL);
                if (r > 0) {
                        snprintf(err, err_size, "a series of %s twice", s.fams[i].name);
                        r = -EINVAL;
                }
        }
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(err, err_size, "out of memory");
                textfile_set_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int textfile_merge(struct tf_set *dst, struct tf_set *src,
                   bool (*reserved)(const char *name, void *userdata), void *userdata,
                   const char *file, char *err, size_t err_size) {
        if (dst->n_samples + src->n_samples > TEXTFILE_MAX_SAMPLES) {
                snprintf(err, err_size, "%s: more than %d samples in all", file, TEXTFILE_MAX_SAMPLES);
                return -E2BIG;
        }
        for (size_t i = 0; i < src->n; i++) {
                struct tf_family *f = &src->fams[i], *d = family_find(dst, f->name, strlen(f->name));
                int r;

                if (reserved && reserved(f->name, userdata)) {
                        snprintf(err, err_size, "%s: %s is a family of stewardd's own", file, f->name);
                        return -EEXIST;
                }
                if (!d)
                        continue;
                if (!STREQ(d->type, f->type)) {
                        snprintf(err, err_size, "%s: %s is a %s elsewhere", file, f->name, d->type);
                        return -EEXIST;
                }
                r = duplicate_series(d, f);
                if (r < 0)
                        return r;
                if (r > 0) {
                        snprintf(err, err_size, "%s: a series of %s is in another file", file, f->name);
                        return -EEXIST;
                }
        }
        if (dst->n + src->n > TEXTFILE_MAX_FAMILIES) {
                snprintf(err, err_size, "%s: more than %d families in all", file,
                         TEXTFILE_MAX_FAMILIES);
                return -E2BIG;
        }
        /* Room first, so that the moves cannot fail half-way. */
        if (index_reserve(dst, dst->n + src->n) < 0)
                return -ENOMEM;
        if (dst->n + src->n > dst->cap) {
                void *p = reallocarray(dst->fams, dst->n + src->n, sizeof *dst->fams);
                if (!p)
                        return -ENOMEM;
                dst->fams = p;
                dst->cap = dst->n + src->n;
        }
        for (size_t i = 0; i < src->n; i++) {
                struct tf_family *f = &src->fams[i], *d = family_find(dst, f->name, strlen(f->name));
                void *p;

                if (!d) {
                        /* node_exporter's HELP for a family without one */
                        if (!f->help && asprintf(&f->help, "Metric read from %s", file) < 0)
                                f->help = NULL;
                        dst->fams[dst->n] = *f;
                        index_put(dst, dst->n++);
                        *f = (struct tf_family){0};
                        continue;
                }
                p = reallocarray(d->samples, d->n + f->n ? d->n + f->n : 1, sizeof *d->samples);
                if (!p)
                        return -ENOMEM; /* dst is whole, some of src moved: still consistent */
                d->samples = p;
                memcpy(d->samples + d->n, f->samples, f->n * sizeof *f->samples);
                d->n += f->n;
                d->cap = d->n;
                if (!d->help && f->help)
                        d->help = TAKE_PTR(f->help);
                f->n = 0;
        }
        dst->n_samples += src->n_samples;
        textfile_set_done(src);
        return 0;
}

/* ---- output ---------------------------------------------------------------------- */

static int family_cmp(const void *a, const void *b) {
        return strcmp((*(const struct tf_family *const *)a)->name,
                      (*(const struct tf_family *const *)b)->name);
}

void textfile_write(struct expo *e, const struct tf_set *s) {
        _cleanup_free_ const struct tf_family **v = calloc(s->n ? s->n : 1, sizeof *v);
        size_t n = 0;

        if (!v) {
                if (e->error >= 0)
                        e->error = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < s->n; i++)
                if (s->fams[i].n > 0)
                        v[n++] = &s->fams[i];
        qsort(v, n, sizeof *v, family_cmp);
        for (size_t i = 0; i < n; i++) {
                const struct tf_family *f = v[i];

                expo_family(e, f->name, f->type, f->help ? f->help : "");
                for (size_t j = 0; j < f->n; j++) {
                        const struct tf_sample *smp = &f->samples[j];
                        expo_sample(e, smp->name);
                        for (size_t k = 0; k < smp->n_labels; k++)
                                expo_label(e, smp->labels[k].name, smp->labels[k].value);
                        expo_double(e, smp->value);
                }
        }
}

/* ---- selectors -------------------------------------------------------------------- */

#define SELECTOR_MAX_LABELS 16
#define SELECTOR_MAX_VALUE  256

int textfile_selector_parse(const char *selector, char *name, size_t name_size,
                            struct tf_label *labels, size_t max_labels, size_t *ret_n) {
        struct tf_sample smp = {.labels = labels};
        const char *p = selector, *end;
        size_t n;
        int r;

        if (!selector)
                return -EINVAL;
        end = p + strnlen(selector, 8192);
        if (*end != '\0')
                return -EINVAL;
        n = name_len(p, end, true);
        if (n == 0 || n >= name_size)
                return -EINVAL;
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        if (p < end) {
                if (*p != '{' || end[-1] != '}')
                        return -EINVAL;
                r = parse_labels(&p, end, &smp,
                                 max_labels < SELECTOR_MAX_LABELS ? max_labels : SELECTOR_MAX_LABELS);
                if (r >= 0 && p != end)
                        r = -EINVAL;
                for (size_t i = 0; r >= 0 && i < smp.n_labels; i++)
                        if (strlen(labels[i].value) > SELECTOR_MAX_VALUE)
                                r = -EINVAL;
                if (r < 0) {
                        for (size_t i = 0; i < smp.n_labels; i++) {
                                free(labels[i].name);
                                free(labels[i].value);
                        }
                        return r == -ENOMEM ? r : -EINVAL;
                }
        }
        *ret_n = smp.n_labels;
        return 0;
}

static void labels_free(struct tf_label *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].name);
                free(l[i].value);
        }
}

static bool sample_matches(const struct tf_sample *smp, const struct tf_label *want, size_t n) {
        for (size_t i = 0; i < n; i++) {
                bool found = false;
                for (size_t k = 0; k < smp->n_labels && !found; k++)
                        found = STREQ(smp->labels[k].name, want[i].name) &&
                                STREQ(smp->labels[k].value, want[i].value);
                /* A label the sample lacks matches the empty value, as in PromQL. */
                if (!found) {
                        bool has = false;
                        for (size_t k = 0; k < smp->n_labels; k++)
                                has = has || STREQ(smp->labels[k].name, want[i].name);
                        if (has || want[i].value[0] != '\0')
                                return false;
                }
        }
        return true;
}

int textfile_set_lookup(const struct tf_set *s, const char *selector, double *ret) {
        struct tf_label want[SELECTOR_MAX_LABELS];
        char name[256];
        size_t n = 0, hits = 0;
        double v = 0;
        int r;

        r = textfile_selector_parse(selector, name, sizeof name, want, ELEMENTSOF(want), &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n; i++)
                for (size_t j = 0; j < s->fams[i].n; j++) {
                        const struct tf_sample *smp = &s->fams[i].samples[j];
                        if (STREQ(smp->name, name) && sample_matches(smp, want, n)) {
                                v = smp->value;
                                hits++;
                        }
                }
        labels_free(want, n);
        if (hits > 1)
                return -ENOTUNIQ;
        if (hits == 1)
                *ret = v;
        return hits == 1;
}

/* ---- the collector --------------------------------------------------------------- */

static struct {
        pthread_mutex_t lock;
        char *dir;           /* NULL: TEXTFILE_DEFAULT_DIR */
        struct tf_set last;  /* the last scrape's merged set */
} tf = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

void textfile_set_dir(const char *dir) {
        char *d = dir && *dir ? strdup(dir) : NULL;

        pthread_mutex_lock(&tf.lock);
        free(tf.dir);
        tf.dir = d;
        pthread_mutex_unlock(&tf.lock);
}

void textfile_done(void) {
        pthread_mutex_lock(&tf.lock);
        free(tf.dir);
        tf.dir = NULL;
        textfile_set_done(&tf.last);
        pthread_mutex_unlock(&tf.lock);
}

int textfile_value(const char *selector, double *ret) {
        int r;

        pthread_mutex_lock(&tf.lock);
        r = textfile_set_lookup(&tf.last, selector, ret);
        pthread_mutex_unlock(&tf.lock);
        return r;
}

/* The families already in the scrape, from its "# TYPE NAME " lines. */
struct builtin {
        char **names;
        size_t n;
};

static int str_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int builtin_build(const struct buf *out, struct builtin *ret) {
        const char *p = out->data ? out->data : "", *end = p + out->len;
        size_t cap = 0;

        *ret = (struct builtin){0};
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *sp;

                if ((size_t)(le - p) > 7 && memcmp(p, "# TYPE ", 7) == 0 &&
                    (sp = memchr(p + 7, ' ', (size_t)(le - p - 7)))) {
                        if (ret->n == cap) {
                                void *q = reallocarray(ret->names, cap ? cap * 2 : 256, sizeof(char *));
                                if (!q)
                                        return -ENOMEM;
                                ret->names = q;
                                cap = cap ? cap * 2 : 256;
                        }
                        ret->names[ret->n] = strndup(p + 7, (size_t)(sp - p - 7));
                        if (!ret->names[ret->n])
                                return -ENOMEM;
                        ret->n++;
                }
                p = nl ? nl + 1 : end;
        }
        qsort(ret->names, ret->n, sizeof *ret->names, str_cmp);
        return 0;
}

static void builtin_done(struct builtin *b) {
        for (size_t i = 0; i < b->n; i++)
                free(b->names[i]);
        free(b->names);
}

static bool reserved(const char *name, void *userdata) {
        const struct builtin *b = userdata;

        if (strncmp(name, "steward_", 8) == 0 || strncmp(name, "node_textfile_", 14) == 0 ||
            strncmp(name, TEXTFILE_GAUGES_PREFIX, strlen(TEXTFILE_GAUGES_PREFIX)) == 0 ||
            STREQ(name, "node_scrape_collector_success") ||
            STREQ(name, "node_scrape_collector_duration_seconds"))
                return true;
        return b->n > 0 && bsearch(&name, b->names, b->n, sizeof *b->names, str_cmp);
}

/* One file: read whole (bounded), parsed and merged into *set.  The file's
 * mtime in *ret_mtime_ns. */
static int read_one(int dirfd, const char *name, struct tf_set *set, struct builtin *b,
                    const char *path, int64_t *ret_mtime_ns, char *err, size_t err_size) {
        /* A symlink is followed, as node_exporter does: the read is the
         * unprivileged front's, and only a regular file is read. */
        _cleanup_free_ char *text = NULL;
        struct tf_set one = {0};
        struct stat st;
        size_t len = 0;
        int r;

        r = read_regular_at(dirfd, name, 0, TEXTFILE_MAX_FILE_BYTES, &text, &len, &st);
        if (r < 0)
                return r;
        r = textfile_parse(text, len, TEXTFILE_MAX_SAMPLES, &one, err, err_size);
        if (r >= 0)
                r = textfile_merge(set, &one, reserved, b, path, err, err_size);
        textfile_set_done(&one);
        *ret_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        return r;
}

struct tf_file {
        char name[NAME_MAX + 1];
        int64_t mtime_ns;
};

static int file_cmp(const void *a, const void *b) {
        return strcmp(((const struct tf_file *)a)->name, ((const struct tf_file *)b)->name);
}

/* The *.prom names of the directory, sorted, at most TEXTFILE_MAX_FILES
 * (more: *ret_more). */
static int list_dir(int dirfd, struct tf_file *files, size_t *ret_n, bool *ret_more) {
        int fd2 = dup(dirfd);
        DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        struct dirent *de;
        size_t n = 0;

        if (!d) {
                if (fd2 >= 0)
                        close(fd2);
                return -errno;
        }
        *ret_more = false;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l <= 5 || de->d_name[0] == '.' || strcmp(de->d_name + l - 5, ".prom") != 0)
                        continue;
                if (n == TEXTFILE_MAX_FILES) {
                        *ret_more = true;
                        continue;
                }
                memcpy(files[n].name, de->d_name, l + 1);
                n++;
        }
        closedir(d);
        qsort(files, n, sizeof *files, file_cmp);
        *ret_n = n;
        return 0;
}

static void write_status(struct expo *e, const char *dir, const struct tf_file *files,
                         const bool *ok, size_t n, bool error) {
        bool any = false;

        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX + NAME_MAX + 2];
                if (!ok[i])
                        continue;
                if (!any)
                        expo_family(e, "node_textfile_mtime_seconds", "gauge",
                                    "Unixtime mtime of textfiles successfully read.");
                any = true;
                snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
                expo_sample(e, "node_textfile_mtime_seconds");
                expo_label(e, "file", path);
                expo_double(e, (double)(files[i].mtime_ns / 1000000000));
        }
        expo_family(e, "node_textfile_scrape_error", "gauge",
                    "1 if there was an error opening or reading a file, 0 otherwise");
        expo_sample(e, "node_textfile_scrape_error");
        expo_u64(e, error);
}

/* Whether the directory's files are what its owner put there: a directory
 * every user may write to (/tmp, even with its sticky bit: anyone may add a
 * file) is not read. */
bool textfile_dir_trusted(int dirfd) {
        struct stat st;

        if (fstat(dirfd, &st) < 0)
                return false;
        return !(st.st_mode & S_IWOTH);
}

int textfile_collect(struct expo *e) {
        _cleanup_free_ struct tf_file *files = calloc(TEXTFILE_MAX_FILES, sizeof *files);
        bool ok[TEXTFILE_MAX_FILES] = {false}, more = false, error = false;
        char dir[PATH_MAX];
        struct builtin b = {0};
        struct tf_set set = {0};
        _cleanup_close_ int dirfd = -1;
        size_t n = 0;

        if (!files)
                return -ENOMEM;
        pthread_mutex_lock(&tf.lock);
        snprintf(dir, sizeof dir, "%s", tf.dir ? tf.dir : TEXTFILE_DEFAULT_DIR);
        pthread_mutex_unlock(&tf.lock);

        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* A directory that does not exist is no error: nothing to merge. */
        if (dirfd < 0)
                error = errno != ENOENT;
        else if (!textfile_dir_trusted(dirfd))
                error = true; /* anyone could forge what rules and dashboards read */
        else if (list_dir(dirfd, files, &n, &more) < 0)
                error = true;
        error = error || more;
        if (n > 0 && builtin_build(e->out, &b) < 0) {
                builtin_done(&b);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX + NAME_MAX + 2], err[256];
                int r;

                snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
                r = read_one(dirfd, files[i].name, &set, &b, path, &files[i].mtime_ns, err, sizeof err);
                if (r == -ENOMEM) {
                        builtin_done(&b);
                        textfile_set_done(&set);
                        return r;
                }
                ok[i] = r >= 0;
                error = error || r < 0;
        }
        builtin_done(&b);
        textfile_write(e, &set);
        write_status(e, dir, files, ok, n, error);
        pthread_mutex_lock(&tf.lock);
        textfile_set_done(&tf.last);
        tf.last = set;
        pthread_mutex_unlock(&tf.lock);
        return e->error;
}
