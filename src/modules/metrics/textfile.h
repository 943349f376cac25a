/* textfile.h — node_exporter's textfile collector: *.prom files of a
 * directory (the setting metrics:textfile_dir), written by cron jobs and
 * other local programs, validated and merged into /metrics.
 *
 * The pure part is the parser of the text exposition format (what
 * Prometheus' own text parser accepts, without client-side timestamps,
 * which node_exporter refuses too) into a set of families, and the merge of
 * one file's set into the scrape's: a file is taken whole or not at all, so
 * a bad file (syntax, a duplicate series, a family typed differently in
 * another file, past the bounds) is skipped and counted in
 * node_textfile_scrape_error, and the others still count.
 *
 * Ownership: a tf_set owns all its strings; textfile_set_done() frees it.
 * The collector keeps the last scrape's set for textfile_value() (the alert
 * rules' metric: values) under its own lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "modules/metrics/expo.h"

#define TEXTFILE_MAX_FILE_BYTES (1UL << 20)
#define TEXTFILE_MAX_FILES      64
#define TEXTFILE_MAX_SAMPLES    10000
#define TEXTFILE_MAX_LABELS     64 /* per sample */
/* Families of one set, with or without samples: a HELP or TYPE line alone
 * makes one. */
#define TEXTFILE_MAX_FAMILIES   10000
/* node_timex_*: the timex collector's, whichever order the collectors
 * write in, so no file may define it. */
#define TEXTFILE_GAUGES_PREFIX  "node_timex_"
#define TEXTFILE_DEFAULT_DIR    "/var/lib/steward/textfile"

struct tf_label {
        char *name, *value;
};

struct tf_sample {
        char *name; /* the family's name, or with _bucket/_sum/_count */
        struct tf_label *labels;
        size_t n_labels;
        double value;
        char *key; /* name and sorted labels: the series' identity */
};

struct tf_family {
        char *name;
        size_t name_len;
        char *help; /* NULL: none given */
        const char *type; /* "counter", "gauge", "histogram", "summary", "untyped" */
        bool typed;       /* a TYPE line was seen */
        struct tf_sample *samples;
        size_t n, cap;
};

struct tf_set {
        struct tf_family *fams;
        size_t n, cap;
        /* Open addressing over fams by name: slot = index + 1, 0 empty;
         * index_cap a power of two, at least twice n. */
        size_t *index, index_cap;
        size_t n_samples;
};

void textfile_set_done(struct tf_set *s);

/* Parses one file's text into *ret (empty or released first by the
 * caller); on failure -EINVAL (or -E2BIG past max_samples, -ENOMEM) with
 * a reason in err, and *ret left empty. */
int textfile_parse(const char *text, size_t len, size_t max_samples, struct tf_set *ret, char *err,
                   size_t err_size);

/* Moves src's families into dst (src is emptied).  Refused whole, dst
 * unchanged, -EEXIST with err filled, when a family's type differs from
 * dst's, a series is in both, a family name is reserved (reserved(name)
 * true), or the total passes TEXTFILE_MAX_SAMPLES (-E2BIG). */
int textfile_merge(struct tf_set *dst, struct tf_set *src, bool (*reserved)(const char *name,
                   void *userdata), void *userdata, const char *file, char *err, size_t err_size);

/* Writes the families in name order. */
void textfile_write(struct expo *e, const struct tf_set *s);

/* The value of the one sample that a selector names: NAME or
 * NAME{l="v",…} (the labels given must match exactly, others are free).
 * 1 with *ret, 0 when none matches, -ENOTUNIQ when several do, -EINVAL for
 * a bad selector. */
int textfile_set_lookup(const struct tf_set *s, const char *selector, double *ret);

/* A selector's name and labels (up to 16): -EINVAL for bad grammar. */
int textfile_selector_parse(const char *selector, char *name, size_t name_size,
                            struct tf_label *labels, size_t max_labels, size_t *ret_n);

/* ---- the collector (front) ---------------------------------------------- */

/* The directory to read at each scrape ("" or NULL: the default). */
void textfile_set_dir(const char *dir);
/* Reads the directory: the files' families (none that clashes with a
 * family already in e->out or named steward_*), node_textfile_mtime_seconds
 * and node_textfile_scrape_error.  Returns 0, or -errno when the scrape
 * itself failed (e->error). */
int textfile_collect(struct expo *e);
/* false for a directory every user may write to: its files are not read,
 * and node_textfile_scrape_error says so. */
bool textfile_dir_trusted(int dirfd);

/* The last scrape's value for a selector (as textfile_set_lookup). */
int textfile_value(const char *selector, double *ret);
void textfile_done(void);
