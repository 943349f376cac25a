/* valueprov.c — the metrics module's provider of common/valuesrc.h: the
 * value of one /metrics sample by its selector, for alert rules
 * ("metric:SELECTOR").
 *
 * Answers from a scrape of the sampler (the node_* families and the
 * textfile collector's) made for this purpose and kept for one sampling
 * interval (metrics:interval): however often a rule asks, the kernel's
 * files and the textfile directory are read at most once an interval on
 * its behalf, and a value is never older than an interval.  The cached
 * scrape is parsed with the textfile parser (the same format).  The
 * daemon's own steward_* families are not in it.
 * `cache` is used only under cache.lock; the provider is registered in the
 * front's init() and cleared in done() (metrics.c).
 */
#include "modules/metrics/valueprov.h"

#include <errno.h>
#include <pthread.h>

#include "modules/metrics/expo.h"
#include "modules/metrics/history.h"
#include "modules/metrics/sampler.h"
#include "modules/metrics/textfile.h"
#include "util.h"

#define VALUEPROV_MAX_BYTES   (64UL << 20)
#define VALUEPROV_MAX_SAMPLES 1000000

static struct {
        pthread_mutex_t lock;
        struct tf_set set;
        uint64_t at_usec; /* 0: none */
} cache = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static int refresh_locked(uint64_t now) {
        struct tf_set set = {0};
        char err[256];
        struct buf b;
        struct expo e;
        int r;

        buf_init(&b, VALUEPROV_MAX_BYTES);
        expo_init(&e, &b);
        r = sampler_collect(&e);
        if (r >= 0)
                r = textfile_parse(b.data, b.len, VALUEPROV_MAX_SAMPLES, &set, err, sizeof err);
        buf_free(&b);
        if (r < 0)
                return r;
        textfile_set_done(&cache.set);
        cache.set = set;
        cache.at_usec = now;
        return 0;
}

int valueprov_metric(const char *selector, double *ret) {
        uint64_t now = now_usec(), max_age = (uint64_t)history_interval() * 1000000u;
        int r;

        if (!selector)
                return -EINVAL;
        pthread_mutex_lock(&cache.lock);
        r = 0;
        if (cache.at_usec == 0 || now - cache.at_usec >= max_age || now < cache.at_usec)
                r = refresh_locked(now);
        if (r >= 0)
                r = textfile_set_lookup(&cache.set, selector, ret);
        pthread_mutex_unlock(&cache.lock);
        return r;
}

void valueprov_done(void) {
        pthread_mutex_lock(&cache.lock);
        textfile_set_done(&cache.set);
        cache.at_usec = 0;
        pthread_mutex_unlock(&cache.lock);
}
