/* webhook.c — Alertmanager's webhook body (version 4), the alert list of
 * its API v2, and the POST that carries them (libcurl).
 *
 * Field names and shapes follow Alertmanager's notify/webhook Message and
 * template Data (version, groupKey, truncatedAlerts, status, receiver,
 * groupLabels, commonLabels, commonAnnotations, externalURL, alerts of
 * {status, labels, annotations, startsAt, endsAt, generatorURL,
 * fingerprint}), so that a receiver written for Alertmanager reads ours.
 * We group by alertname only, as a route with group_by: [alertname] does.
 *
 * The POST runs in the front (user _steward, under its seccomp filter),
 * on the notifier's threads: the filter is a deny list that leaves
 * socket, connect and poll to an unprivileged process, and the unit's
 * RestrictAddressFamilies keeps AF_INET and AF_INET6 (the front serves
 * TCP), so nothing had to be opened for it; sending from a child of the
 * helper instead would have put a root process on the path of a remote
 * peer's answer for no gain.  Bounds: 10 s in all per attempt, no
 * redirects (a 3xx is an answer, not a hop), http and https only, the
 * environment's proxies ignored, TLS peers verified against the system's
 * CAs, at most 4 KiB of an answer read.
 */
#include "modules/alerts/webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define ANSWER_MAX      4096
#define POST_TIMEOUT_MS 10000L

void webhook_url_host(const char *url, char *buf, size_t len) {
        const char *p = NULL, *end;

        if (strncmp(url, "https://", 8) == 0)
                p = url + 8;
        else if (strncmp(url, "http://", 7) == 0)
                p = url + 7;
        if (!p || len == 0) {
                if (len)
                        buf[0] = '\0';
                return;
        }
        end = p + strcspn(p, "/?#");
        snprintf(buf, len, "%.*s%.*s", (int)(p - url), url, (int)(end - p), p);
}

void webhook_time(int64_t t, char buf[static 32]) {
        struct tm tm;
        time_t tt = (time_t)t;

        if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "0001-01-01T00:00:00Z");
}

static const char *rule_of(json_t *alert) {
        const char *r = json_string_value(json_object_get(alert, "rule"));
        return r ? r : "";
}

json_t *webhook_groups(json_t *alerts) {
        json_t *groups = json_array(), *a;
        size_t i;

        if (!groups)
                return NULL;
        json_array_foreach(alerts, i, a) {
                json_t *g = NULL, *each;
                size_t k;

                json_array_foreach(groups, k,
                                   each) if (STREQ(rule_of(json_array_get(each, 0)), rule_of(a))) {
                        g = each;
                        break;
                }
                if (!g) {
                        g = json_array();
                        if (!g || json_array_append_new(groups, g) < 0) {
                                json_decref(groups);
                                return NULL;
                        }
                }
                if (json_array_append(g, a) < 0) {
                        json_decref(groups);
                        return NULL;
                }
        }
        return groups;
}

/* The string pairs of member key that every alert of group has alike. */
static json_t *common_pairs(json_t *group, const char *key) {
        json_t *first = json_object_get(json_array_get(group, 0), key), *out = json_object(), *v;
        const char *k;

        if (!out)
                return NULL;
        json_object_foreach(first, k, v) {
                json_t *a;
                size_t i;
                bool all = json_is_string(v);

                json_array_foreach(group, i, a) {
                        json_t *w = json_object_get(json_object_get(a, key), k);
                        if (!all || !json_is_string(w) ||
                            !STREQ(json_string_value(w), json_string_value(v))) {
                                all = false;
                                break;
                        }
                }
                if (all && json_object_set(out, k, v) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

/* An object of only the string members of v (labels and annotations are
 * string maps in Alertmanager's model). */
static json_t *string_map(json_t *v) {
        json_t *out = json_object(), *m;
        const char *k;

        if (!out)
                return NULL;
        json_object_foreach(v, k, m) if (json_is_string(m) && json_object_set(out, k, m) < 0) {
                json_decref(out);
                return NULL;
        }
        return out;
}

static bool firing(json_t *alert) {
        const char *s = json_string_value(json_object_get(alert, "status"));
        return !s || !STREQ(s, "resolved");
}

static int64_t time_of(json_t *alert, const char *key) {
        return (int64_t)json_integer_value(json_object_get(alert, key));
}

/* One alert as Alertmanager's template Data.Alerts has it. */
static json_t *webhook_alert(json_t *a, const char *external_url) {
        char starts[32], ends[32];

        webhook_time(time_of(a, "starts_at"), starts);
        webhook_time(firing(a) ? 0 : time_of(a, "ends_at"), ends);
        return json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s}", "status",
                         firing(a) ? "firing" : "resolved", "labels",
                         string_map(json_object_get(a, "labels")), "annotations",
                         string_map(json_object_get(a, "annotations")), "startsAt", starts,
                         "endsAt", ends, "generatorURL", external_url, "fingerprint",
                         json_string_value(json_object_get(a, "fingerprint")) ?: "");
}

json_t *webhook_body(json_t *group, const char *external_url) {
        json_t *list = json_array(), *a, *body;
        _cleanup_free_ char *key = NULL;
        const char *rule = rule_of(json_array_get(group, 0));
        bool any_firing = false;
        size_t i;

        if (!list || json_array_size(group) == 0) {
                json_decref(list);
                return NULL;
        }
        json_array_foreach(group, i, a) {
                any_firing |= firing(a);
                if (json_array_append_new(list, webhook_alert(a, external_url)) < 0) {
                        json_decref(list);
                        return NULL;
                }
        }
        /* Alertmanager's group key: the route's matchers, then the group
         * labels; a rule name is [a-z0-9_.-], nothing to escape. */
        if (asprintf(&key, "{}:{alertname=\"%s\"}", rule) < 0) {
                json_decref(list);
                return NULL;
        }
        body = json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s}, s:o, s:o, s:s, s:o}", "version", "4",
                         "groupKey", key, "truncatedAlerts", 0, "status",
                         any_firing ? "firing" : "resolved", "receiver", "steward", "groupLabels",
                         "alertname", rule, "commonLabels", common_pairs(group, "labels"),
                         "commonAnnotations", common_pairs(group, "annotations"), "externalURL",
                         external_url, "alerts", list);
        return body;
}

json_t *webhook_alertmanager_body(json_t *alerts, const char *external_url, int64_t valid_until) {
        json_t *out = json_array(), *a;
        size_t i;

        if (!out)
                return NULL;
        json_array_foreach(alerts, i, a) {
                char starts[32], ends[32];
                json_t *one;

                webhook_time(time_of(a, "starts_at"), starts);
                webhook_time(firing(a) ? valid_until : time_of(a, "ends_at"), ends);
                one = json_pack("{s:o, s:o, s:s, s:s}", "labels",
                                string_map(json_object_get(a, "labels")), "annotations",
                                string_map(json_object_get(a, "annotations")), "startsAt", starts,
                                "generatorURL", external_url);
                if (one && (!firing(a) || valid_until > 0) &&
                    json_object_set_new(one, "endsAt", json_string(ends)) < 0)
                        json_decref(TAKE_PTR(one));
                if (!one || json_array_append_new(out, one) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

int webhook_alertmanager_url(const char *base, char *buf, size_t len) {
        size_t n = strlen(base);
        int w;

        while (n > 0 && base[n - 1] == '/')
                n--;
        w = snprintf(buf, len, "%.*s/api/v2/alerts", (int)n, base);
        return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

/* ---- the POST ------------------------------------------------------------------ */

struct answer {
        size_t got;
};

/* The answer is not used: counted, and the transfer stopped past 4 KiB
 * (the status line is in by then). */
static size_t answer_write(char *ptr, size_t size, size_t nmemb, void *data) {
        struct answer *a = data;
        size_t n = size * nmemb;

        (void)ptr;
        if (a->got + n > ANSWER_MAX)
                return 0; /* CURLE_WRITE_ERROR, the status already known */
        a->got += n;
        return n;
}

int webhook_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void webhook_global_done(void) {
        curl_global_cleanup();
}

static enum webhook_outcome outcome_of(CURLcode rc, long status, const char *curl_msg, char *msg,
                                       size_t msg_len) {
        if (status >= 200 && status < 300)
                return WEBHOOK_OK;
        if (status > 0) {
                snprintf(msg, msg_len, "HTTP %ld", status);
                return status >= 500 || status == 429 ? WEBHOOK_RETRY : WEBHOOK_FAILED;
        }
        snprintf(msg, msg_len, "%s", curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
        return WEBHOOK_RETRY;
}

enum webhook_outcome webhook_post(const char *url, const char *body, char *msg, size_t msg_len) {
        char curl_msg[CURL_ERROR_SIZE] = "";
        struct curl_slist *headers = NULL;
        struct answer a = {0};
        long status = 0;
        CURL *c = curl_easy_init();
        CURLcode rc;

        if (msg_len)
                msg[0] = '\0';
        if (!c) {
                snprintf(msg, msg_len, "out of memory");
                return WEBHOOK_RETRY;
        }
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (!headers) {
                curl_easy_cleanup(c);
                snprintf(msg, msg_len, "out of memory");
                return WEBHOOK_RETRY;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "stewardd-alerts");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
        rc = curl_easy_perform(c);
        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
        if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
                status = 0; /* no whole answer: a timeout, a reset */
        return outcome_of(rc, status, curl_msg, msg, msg_len);
}
