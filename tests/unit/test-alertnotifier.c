/* test-alertnotifier.c — the alerts' notifier thread (src/modules/alerts/
 * notify.c) against real HTTP receivers on loopback, in this process:
 * settings from an alerts.conf in a scratch directory, three receivers
 * (one answers 500 then 200, one 200, one takes the request and never
 * answers).  What must hold: a 5xx is tried again and then delivered, the
 * same body; a receiver that hangs holds nobody else; alerts_notify()
 * returns at once whatever the receivers do; status counts it all and
 * never shows a URL's path; stop ends a retry's wait.
 *
 * No timing is asserted: every wait is for a condition, with a generous
 * deadline that only turns a hang into a failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/alerts/alerts.h"
#include "modules/alerts/notify.h"
#include "settingsfile.h"
#include "util.h"

enum mode { ANSWER_OK, ANSWER_500_THEN_OK, ANSWER_NEVER };

struct receiver {
        enum mode mode;
        int fd, port;
        pthread_t thread;
        pthread_mutex_t lock;
        int requests;
        int held; /* ANSWER_NEVER: the connection kept open, unanswered */
        char body[16384];
        char first_body[16384];
        bool stop;
};

/* Reads one request; its body (by Content-Length) into r->body. */
static int read_request(int c, struct receiver *r) {
        char buf[32768];
        size_t got = 0;
        char *end = NULL;
        long len = -1;

        while (got < sizeof buf - 1) {
                ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
                if (n <= 0)
                        return -1;
                got += (size_t)n;
                buf[got] = '\0';
                if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                        char *cl = strcasestr(buf, "Content-Length:");
                        len = cl ? strtol(cl + 15, NULL, 10) : 0;
                }
                if (end && (long)(got - (size_t)(end + 4 - buf)) >= len)
                        break;
        }
        if (!end)
                return -1;
        pthread_mutex_lock(&r->lock);
        snprintf(r->body, sizeof r->body, "%s", end + 4);
        if (r->requests == 0)
                snprintf(r->first_body, sizeof r->first_body, "%s", end + 4);
        r->requests++;
        pthread_mutex_unlock(&r->lock);
        return 0;
}

static void *receiver_main(void *data) {
        struct receiver *r = data;

        for (;;) {
                struct pollfd p = {.fd = r->fd, .events = POLLIN};
                const char *answer;
                int c, n;

                pthread_mutex_lock(&r->lock);
                if (r->stop) {
                        pthread_mutex_unlock(&r->lock);
                        return NULL;
                }
                pthread_mutex_unlock(&r->lock);
                if (poll(&p, 1, 100) <= 0)
                        continue;
                c = accept(r->fd, NULL, NULL);
                if (c < 0 || read_request(c, r) < 0) {
                        if (c >= 0)
                                close(c);
                        continue;
                }
                pthread_mutex_lock(&r->lock);
                n = r->requests;
                if (r->mode == ANSWER_NEVER) {
                        r->held = c;
                        pthread_mutex_unlock(&r->lock);
                        continue;
                }
                pthread_mutex_unlock(&r->lock);
                answer = r->mode == ANSWER_500_THEN_OK && n == 1
                                 ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                                   "0\r\nConnection: close\r\n\r\n"
                                 : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: "
                                   "close\r\n\r\nok";
                (void)!write(c, answer, strlen(answer));
                close(c);
        }
}

static void receiver_start(struct receiver *r, enum mode mode) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;

        memset(r, 0, sizeof *r);
        r->mode = mode;
        r->held = -1;
        pthread_mutex_init(&r->lock, NULL);
        r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(r->fd >= 0);
        assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(r->fd, 16), 0);
        assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
        r->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&r->thread, NULL, receiver_main, r), 0);
}

static void receiver_stop(struct receiver *r) {
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        if (r->held >= 0)
                close(r->held);
        r->held = -1;
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
        close(r->fd);
}

static int requests(struct receiver *r) {
        int n;
        pthread_mutex_lock(&r->lock);
        n = r->requests;
        pthread_mutex_unlock(&r->lock);
        return n;
}

/* Waits for a receiver to have had at least n requests; false past a
 * minute (a hang, not a timing). */
static bool wait_requests(struct receiver *r, int n) {
        for (int i = 0; i < 6000; i++) {
                if (requests(r) >= n)
                        return true;
                usleep(10000);
        }
        return false;
}

static json_t *dest_of(json_t *status, const char *host) {
        json_t *d;
        size_t i;

        json_array_foreach(
                json_object_get(status, "webhooks"), i,
                d) if (STREQ(json_string_value(json_object_get(d, "url_host")), host)) return d;
        return NULL;
}

static json_int_t count_of(json_t *d, const char *key) {
        return json_integer_value(json_object_get(d, key));
}

static void test_retry_and_isolation(void **state) {
        struct receiver flaky, good, hang;
        char dir[] = "/tmp/test-alertnotifier-XXXXXX", path[256], conf[1024], host[64];
        struct module_error e = {0};
        json_t *batch, *st = NULL, *body;
        char *text;
        FILE *f;

        (void)state;
        receiver_start(&flaky, ANSWER_500_THEN_OK);
        receiver_start(&good, ANSWER_OK);
        receiver_start(&hang, ANSWER_NEVER);
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/stewardd.conf", dir);
        assert_int_equal(settings_config_path_set(path), 0);
        /* The hanging one first: it must not hold those after it. */
        snprintf(conf, sizeof conf,
                 "webhooks:_array_index:0 = \"http://127.0.0.1:%d/hang\"\n"
                 "webhooks:_array_index:1 = \"http://127.0.0.1:%d/TOKEN/flaky\"\n"
                 "webhooks:_array_index:2 = \"http://127.0.0.1:%d/good\"\n",
                 hang.port, flaky.port, good.port);
        snprintf(path, sizeof path, "%s/alerts.conf", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(conf, f);
        fclose(f);
        assert_int_equal(module_make_live(&module_alerts, false, &e), 0);

        assert_int_equal(alerts_notify_start(), 0);
        batch = json_pack("[{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}, s:I, s:I, "
                          "s:f}]",
                          "rule", "disk-full", "fingerprint", "00112233aabbccdd", "status",
                          "firing", "labels", "alertname", "disk-full", "severity", "warning",
                          "instance", "/srv", "host", "web1", "annotations", "summary",
                          "/srv 92.1 % used", "description", "", "starts_at",
                          (json_int_t)1796413928, "ends_at", (json_int_t)0, "value", 92.1);
        assert_non_null(batch);
        alerts_notify(batch); /* taken over; returns at once */

        /* The good receiver gets it while the hanging one still holds its
         * request unanswered. */
        assert_true(wait_requests(&good, 1));
        assert_true(wait_requests(&hang, 1));
        pthread_mutex_lock(&hang.lock);
        assert_true(hang.held >= 0);
        pthread_mutex_unlock(&hang.lock);

        /* The flaky one: 500, then again, the same body. */
        assert_true(wait_requests(&flaky, 2));
        assert_string_equal(flaky.first_body, flaky.body);
        body = json_loads(good.body, 0, NULL);
        assert_non_null(body);
        assert_string_equal(json_string_value(json_object_get(body, "version")), "4");
        assert_string_equal(json_string_value(json_object_get(body, "status")), "firing");
        assert_string_equal(
                json_string_value(json_object_get(
                        json_object_get(json_array_get(json_object_get(body, "alerts"), 0),
                                        "labels"),
                        "instance")),
                "/srv");
        json_decref(body);

        /* Status: counted per receiver, no path shown. */
        for (int i = 0; i < 6000; i++) {
                st = alerts_notify_status();
                snprintf(host, sizeof host, "http://127.0.0.1:%d", flaky.port);
                if (count_of(dest_of(st, host), "sent") == 1)
                        break;
                json_decref(st);
                st = NULL;
                usleep(10000);
        }
        assert_non_null(st);
        text = json_dumps(st, 0);
        assert_null(strstr(text, "TOKEN"));
        free(text);
        assert_true(json_is_null(json_object_get(dest_of(st, host), "last_error")));
        snprintf(host, sizeof host, "http://127.0.0.1:%d", hang.port);
        assert_int_equal(count_of(dest_of(st, host), "sent"), 0);
        assert_int_equal(count_of(dest_of(st, host), "queued"), 1);
        json_decref(st);

        /* The hanging receiver closes without an answer (a network error
         * for the sender) and answers from then on: tried again, sent. */
        pthread_mutex_lock(&hang.lock);
        hang.mode = ANSWER_OK;
        close(hang.held);
        hang.held = -1;
        pthread_mutex_unlock(&hang.lock);
        assert_true(wait_requests(&hang, 2));
        assert_string_equal(hang.first_body, hang.body);
        for (int i = 0; i < 6000; i++) {
                st = alerts_notify_status();
                if (count_of(dest_of(st, host), "sent") == 1)
                        break;
                json_decref(st);
                st = NULL;
                usleep(10000);
        }
        assert_non_null(st);
        json_decref(st);
        alerts_notify_stop();
        receiver_stop(&flaky);
        receiver_stop(&good);
        receiver_stop(&hang);
        snprintf(path, sizeof path, "%s/alerts.conf", dir);
        unlink(path);
        rmdir(dir);
}

/* Batches after stop are dropped quietly; a stop without a start is
 * nothing. */
static void test_stopped(void **state) {
        (void)state;
        alerts_notify_stop();
        alerts_notify(json_pack("[{s:s}]", "rule", "x"));
        alerts_notify(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_retry_and_isolation),
                cmocka_unit_test(test_stopped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
