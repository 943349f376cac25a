/* test-helperclient.c — the front's relay of a streaming command's progress
 * (src/daemon/helperclient.c, helper_call_stream) against a fake helper on
 * a socketpair: what the helper receives is the write end of a pipe; lines
 * reach the sink whole and in order however the writes cut them, and all
 * of them before the call returns; a line over COMMAND_PROGRESS_LINE_MAX,
 * or a sink that says its client is gone, ends the relay, which the
 * helper's next write sees as EPIPE; and the typed stub
 * helper_op_command_stream sends what the command row accepts. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/helperclient.h"
#include "daemon/helperstubs.h"
#include "proto.h"
#include "util.h"

/* What the fake helper writes into the progress pipe, piece by piece, and
 * what it saw. */
struct fake {
        int sock;
        const char *const *pieces;
        size_t n_pieces;
        bool until_epipe; /* then: write lines until a write fails */
        /* seen */
        bool fifo_write_end;
        bool got_epipe;
        char op[32];
};

static void *fake_helper(void *arg) {
        struct fake *f = arg;
        json_t *req = NULL, *ans;
        struct stat st;
        int fd = -1;

        assert_int_equal(proto_recv(f->sock, &req, &fd), 0);
        snprintf(f->op, sizeof f->op, "%s", json_string_value(json_object_get(req, "op")) ?: "");
        f->fifo_write_end = fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
                            (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY;
        for (size_t i = 0; fd >= 0 && i < f->n_pieces; i++)
                if (write(fd, f->pieces[i], strlen(f->pieces[i])) < 0 && errno == EPIPE)
                        f->got_epipe = true;
        /* Until the relay has closed its end: a state, waited for. */
        for (int i = 0; fd >= 0 && f->until_epipe && !f->got_epipe && i < 20000; i++) {
                if (write(fd, "{\"more\":1}\n", 11) < 0 && errno == EPIPE)
                        f->got_epipe = true;
                usleep(500);
        }
        if (fd >= 0)
                close(fd);
        ans = json_pack("{s:O, s:b, s:{s:s}}", "id", json_object_get(req, "id"), "ok", true,
                        "result", "done", "yes");
        assert_int_equal(proto_send(f->sock, ans, -1), 0);
        json_decref(ans);
        json_decref(req);
        return NULL;
}

struct sink {
        char lines[8][256];
        size_t n;
        size_t gone_after; /* 0: never */
};

static int sink_line(void *opaque, const char *line, size_t len) {
        struct sink *s = opaque;

        if (!line)
                return 0; /* a tick */
        if (s->n < 8)
                snprintf(s->lines[s->n], sizeof s->lines[0], "%.*s", (int)len, line);
        s->n++;
        return s->gone_after && s->n >= s->gone_after ? -EPIPE : 0;
}

/* One streaming call against the fake helper; the result's "done". */
static void run(struct fake *f, struct sink *s) {
        int sp[2];
        pthread_t t;
        json_t *ret = NULL;
        struct module_error e = {0};

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        helper_client_init(&sp[0], 1);
        f->sock = sp[1];
        assert_int_equal(pthread_create(&t, NULL, fake_helper, f), 0);
        assert_int_equal(helper_call_stream(HELPER_OP_COMMAND, "s", "test",
                                            json_pack("{s:s, s:s, s:{}}", "module", "network",
                                                      "name", "ping", "args"),
                                            sink_line, s, &ret, NULL, &e),
                         0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(ret, "done")), "yes");
        assert_string_equal(f->op, "command");
        assert_true(f->fifo_write_end);
        json_decref(ret);
        close(sp[1]);
        close(sp[0]);
}

static void test_lines_whole_and_in_order(void **state) {
        static const char *const pieces[] = {"{\"seq\":1}\n{\"se", "q\":2}", "\n", "{\"seq\":3}\n",
                                             "{\"cut\":"}; /* the last one never ends */
        struct fake f = {.pieces = pieces, .n_pieces = ELEMENTSOF(pieces)};
        struct sink s = {0};

        run(&f, &s);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.lines[0], "{\"seq\":1}");
        assert_string_equal(s.lines[1], "{\"seq\":2}");
        assert_string_equal(s.lines[2], "{\"seq\":3}");
}

static void test_a_line_past_the_bound_ends_the_relay(void **state) {
        static char big[COMMAND_PROGRESS_LINE_MAX + 2];
        static const char *pieces[] = {"{\"seq\":1}\n", big};
        struct fake f = {.pieces = pieces, .n_pieces = 2, .until_epipe = true};
        struct sink s = {0};

        memset(big, 'x', sizeof big - 1);
        run(&f, &s);
        assert_int_equal(s.n, 1); /* the good line, and nothing after */
        assert_true(f.got_epipe);
}

static void test_a_client_gone_ends_the_relay(void **state) {
        static const char *const pieces[] = {"{\"seq\":1}\n"};
        struct fake f = {.pieces = pieces, .n_pieces = 1, .until_epipe = true};
        struct sink s = {.gone_after = 1};

        run(&f, &s);
        assert_int_equal(s.n, 1);
        assert_true(f.got_epipe);
}

/* The stub for streams sends what the command row accepts, through the
 * link's streaming call; a link that cannot stream refuses (400 stream). */
static int checking_stream(enum helper_op op, const char *session, const char *source,
                           json_t *args, helper_line_fn line, void *opaque, json_t **ret,
                           json_t **ret_details, struct module_error *e) {
        assert_int_equal(op, HELPER_OP_COMMAND);
        assert_int_equal(helper_op_check_args(op, args, e), 0);
        assert_ptr_equal(line, sink_line);
        json_decref(args);
        *ret = json_object();
        return 0;
}

static void test_stream_stub(void **state) {
        struct sink s = {0};
        struct helper_link l = {.call_stream = checking_stream, .line = sink_line, .line_opaque = &s};
        struct helper_link none = {0};
        struct module_error e = {0};
        json_t *ret = NULL;

        assert_int_equal(helper_op_command_stream(&l, "network", "ping",
                                                  json_pack("{s:s}", "host", "127.0.0.1"), false,
                                                  &ret, &e),
                         0);
        json_decref(ret);
        assert_int_equal(helper_op_command_stream(&none, "network", "ping", json_object(), false,
                                                  &ret, &e),
                         -EINVAL);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, "stream");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lines_whole_and_in_order),
                cmocka_unit_test(test_a_line_past_the_bound_ends_the_relay),
                cmocka_unit_test(test_a_client_gone_ends_the_relay),
                cmocka_unit_test(test_stream_stub),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
