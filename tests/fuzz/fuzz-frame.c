/* fuzz-frame.c — the helper's side of the front/helper protocol: bytes as a
 * compromised front could send them, through proto_recv() and, for every
 * frame that decodes, helper_dispatch() against a helper with a scratch
 * store.  The decoder must reject what is malformed without crashing, and
 * every answer must be a well-formed answer frame. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper/helper.h"
#include "log.h"
#include "config.h"
#include "proto.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct helper *helper;
static char scratch_dir[] = "/tmp/steward-fuzz-frame-XXXXXX";

static void cleanup(void) {
        static const char *const names[] = {"stewardd.conf", "bootstrap-token", "steward.db",
                                            "steward.db-wal", "steward.db-shm"};
        char p[128];
        helper_free(helper);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                snprintf(p, sizeof p, "%s/%s", scratch_dir, names[i]);
                (void)unlink(p);
        }
        (void)rmdir(scratch_dir);
}

static void setup(void) {
        static bool done;
        char err[256], conf[96], token[96];

        if (done)
                return;
        done = true;
        log_open(true);
        if (!mkdtemp(scratch_dir))
                abort();
        atexit(cleanup);
        snprintf(conf, sizeof conf, "%s/stewardd.conf", scratch_dir);
        snprintf(token, sizeof token, "%s/bootstrap-token", scratch_dir);
        if (steward_config_init(conf, LOG_LEVEL_ERROR, err, sizeof err) < 0 ||
            helper_new(scratch_dir, token, &helper, err, sizeof err) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int sp[2];
        json_t *req;

        if (size > 65536)
                return 0;
        setup();
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                abort();
        /* The whole input fits the socket buffer; then the writer hangs up. */
        if (size > 0 && write(sp[1], data, size) != (ssize_t)size)
                abort();
        close(sp[1]);
        for (int frames = 0; frames < 16; frames++) {
                int fd = -1;
                int r = proto_recv(sp[0], &req, &fd);
                if (r < 0) {
                        if (r != -ECONNRESET && r != -EBADMSG && r != -E2BIG)
                                abort();
                        break;
                }
                if (fd >= 0)
                        abort(); /* no descriptor was sent */
                json_t *ans = helper_dispatch(helper, req, -1);
                json_decref(req);
                if (!json_is_object(ans) || !json_is_boolean(json_object_get(ans, "ok")))
                        abort();
                if (!json_is_true(json_object_get(ans, "ok"))) {
                        json_t *e = json_object_get(ans, "error");
                        json_int_t st = json_integer_value(json_object_get(e, "status"));
                        if (st < 400 || st > 599 || !json_is_string(json_object_get(e, "code")))
                                abort();
                }
                json_decref(ans);
        }
        close(sp[0]);
        return 0;
}
