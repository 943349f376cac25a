/* fanout.c — one command on many servers: `steward -H a,b,@group COMMAND …`.
 *
 * One thread, one event loop, the verbs unchanged.  Each host's verb runs as
 * a coroutine (ucontext) on a stack of its own (mmap'ed, with a guard page
 * below it); when the verb makes a request, http.c hands the easy handle to
 * the hook here, which adds it to the one CURLM and switches back to the
 * loop; the loop (curl_multi_poll, curl_multi_info_read) switches back into
 * the host whose transfer finished.  At most --parallel hosts run at once;
 * each has a deadline (--timeout): past it, its transfer is removed and the
 * verb sees a timeout, so it ends the way it ends for one host.  A host's
 * requests reuse its connection, kept in a connection cache of its own (a
 * CURLSH per host): never one another host opened, whatever the spelling.
 *
 * While a host runs, stdout and stderr are that host's memory streams and
 * standard input (fd 0) is its own copy of what the user gave (read once,
 * bounded by STDIN_MAX, only for the verbs that read it), so verbs print
 * and read as they do for one host; the text they print from a server is
 * sanitised as always.  A host's output is printed whole when it finishes,
 * each line prefixed by the host's name (the user's own text, from -H or
 * the hosts file), never interleaved with another host's.
 *
 * Changes.  The first pass is a plan on every host: every request but a GET
 * gets dry_run=1 (http.c).  A host whose verb sent none made only reads: its
 * result is final.  The others showed their plan; then --dry-run stops,
 * without --yes nothing is changed (exit 2), with --yes a second pass
 * applies the change on the hosts whose plan succeeded.  login, logout,
 * discover and the network diagnostics are never planned.
 *
 * Ownership: struct fanout owns the host list, the per-host states and the
 * multi handle; a fiber owns its stack, its streams, its stdin copy and its
 * struct cli until the loop finishes it (the fiber itself never frees).
 * Exit status: the worst host's, in the order 3 (unreachable) > 1 (refused)
 * > 2 (usage) > 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "hosts.h"
#include "util.h"
#include "verbs.h"

#if defined(__SANITIZE_ADDRESS__)
#define FANOUT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FANOUT_ASAN 1
#endif
#endif
#ifdef FANOUT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
/* The deepest verb measured used 17 KiB of its stack (ASan build, every
 * fanned-out verb of tests/integration/test_fanout.py and a dozen more):
 * the transfers themselves run on the loop's stack.  A server's answer is
 * refused when nested deeper than ANSWER_DEPTH_MAX (http.c), so jansson's
 * recursion on it is bounded; the stack is large anyway, as a margin: pages
 * never touched cost nothing (MAP_NORESERVE), and the guard page below it
 * stays. */
#define FIBER_STACK ((size_t)8 * 1024 * 1024)

#define PARALLEL_DEFAULT 64u
#define PARALLEL_MAX     1024u
#define TIMEOUT_DEFAULT  30u
#define TIMEOUT_MAX      3600u
#define REASONS_SHOWN    3
#define CAPTURE_MAX      ((size_t)16 * 1024 * 1024)
/* A fiber whose transfer completed, waiting to be resumed. */
#define READY ((CURL *)(void *)-1)

struct fanout;

/* A host's stdout or stderr: kept in memory up to CAPTURE_MAX (a server
 * cannot make the client hold more per host); the rest is dropped, and said. */
struct capture {
        char *buf;
        size_t len, cap;
        bool truncated;
};

struct fiber {
        struct fanout *fo;
        size_t index;
        ucontext_t ctx;
        void *map; /* guard page + stack */
        size_t map_size;
        void *asan_fake;
        struct cli_options opts;
        struct cli cli;
        char **argv;
        FILE *out, *err;
        struct capture oc, ec; /* what out and err received */
        int stdin_fd;
        struct http_fanout hook;
        CURLSH *conns; /* this host's connections: never another host's */
        CURL *waiting;
        CURLcode result;
        double deadline;
        bool timed_out, done;
        int r;
};

struct host_state {
        int exit;
        bool final;   /* its result is known (a read, a failed plan, applied) */
        bool changes; /* its plan would change something */
        bool plan_ok;
        bool unknown;  /* login's probe: a certificate known_hosts does not have */
        bool declined; /* … which the user did not trust */
        char fingerprint[FINGERPRINT_STRLEN];
        json_t *plan, *obj;
        char *reason; /* the first line of its error output */
        bool cut;     /* its output was over CAPTURE_MAX: an error, never a cut result */
};

struct fanout {
        struct cli_options *o;
        const struct verb_def *verb;
        bool probing; /* login's first pass: every host's certificate */
        const char *word;
        int nargs;
        char **args;
        struct host_list hosts;
        struct host_state *st;
        CURLM *multi;
        bool plan;
        ucontext_t loop_ctx;
        void *loop_fake;
        const void *loop_stack;
        size_t loop_stack_size;
        FILE *real_out, *real_err;
        int saved_stdin;
        int null_fd; /* /dev/null: stdin of the hosts that read none */
        char *stdin_data;
        size_t stdin_len;
        bool use_stdin;
        bool dump_failed; /* --json/--jsonl output could not be written whole */
        size_t held; /* bytes of answers all transfers hold now (http.c counts) */
        double t0;
};

static struct fiber *current;

static double now_s(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void asan_start(void **save, const void *bottom, size_t size) {
#ifdef FANOUT_ASAN
        __sanitizer_start_switch_fiber(save, bottom, size);
#else
        (void)save, (void)bottom, (void)size;
#endif
}

static void asan_finish(void *save, const void **bottom, size_t *size) {
#ifdef FANOUT_ASAN
        __sanitizer_finish_switch_fiber(save, bottom, size);
#else
        (void)save, (void)bottom, (void)size;
#endif
}

static int exit_of(int r) {
        if (r >= 0)
                return 0;
        if (r == -EINVAL)
                return EXIT_USAGE;
        if (r == -ECOMM)
                return EXIT_UNREACHABLE;
        return EXIT_REFUSED;
}

static int rank(int exit) {
        return exit == EXIT_UNREACHABLE ? 3 : exit == EXIT_REFUSED ? 2 : exit == EXIT_USAGE ? 1 : 0;
}

static const char *class_of(int exit) {
        return exit == EXIT_UNREACHABLE ? "unreachable"
               : exit == EXIT_REFUSED   ? "refused"
               : exit == EXIT_USAGE     ? "usage"
                                        : "ok";
}

/* ---- a host's output ------------------------------------------------- */

static ssize_t capture_write(void *cookie, const char *p, size_t n) {
        struct capture *c = cookie;
        size_t take = n;

        if (c->truncated)
                return (ssize_t)n;
        if (take > CAPTURE_MAX - c->len) {
                take = CAPTURE_MAX - c->len;
                /* Cut at a character's start, never inside one. */
                while (take > 0 && ((unsigned char)p[take] & 0xC0) == 0x80)
                        take--;
                c->truncated = true;
        }
        if (c->len + take > c->cap) {
                size_t cap = c->cap ? c->cap : 4096;
                char *b;

                while (cap < c->len + take)
                        cap *= 2;
                b = realloc(c->buf, cap);
                if (!b)
                        return -1;
                c->buf = b;
                c->cap = cap;
        }
        if (take > 0)
                memcpy(c->buf + c->len, p, take);
        c->len += take;
        return (ssize_t)n; /* the rest is dropped, not an error for the verb */
}

static FILE *capture_open(struct capture *c) {
        static const cookie_io_functions_t io = {.write = capture_write};

        return fopencookie(c, "w", io);
}

/* ---- the coroutines ---------------------------------------------------- */

/* swapcontext() as getcontext() + setcontext(): the same switch, which
 * ASan's interceptor of swapcontext() would warn about on every run. */
static void switch_context(ucontext_t *from, const ucontext_t *to) {
        volatile bool resumed = false;

        (void)getcontext(from);
        if (!resumed) {
                resumed = true;
                (void)setcontext(to);
        }
}

/* Back to the loop; returns when the loop resumes this host. */
static void yield(struct fiber *f) {
        asan_start(&f->asan_fake, f->fo->loop_stack, f->fo->loop_stack_size);
        switch_context(&f->ctx, &f->fo->loop_ctx);
        asan_finish(f->asan_fake, NULL, NULL);
}

/* http.c's transfer, for the running host. */
static int fiber_perform(void *curl, char *errbuf, void *arg) {
        struct fiber *f = arg;

        if (!f->timed_out) {
                /* The multi handle's pool would hand a connection to any
                 * host whose name libcurl reads the same ("name." and
                 * "name"): the connection, checked against one host's pin,
                 * would carry another's token.  Each host has its own. */
                if (curl_easy_setopt(curl, CURLOPT_SHARE, f->conns) != CURLE_OK ||
                    curl_multi_add_handle(f->fo->multi, curl) != CURLM_OK)
                        return CURLE_FAILED_INIT;
                (void)curl_easy_setopt(curl, CURLOPT_PRIVATE, f);
                f->waiting = curl;
                yield(f);
        }
        if (f->timed_out) {
                (void)snprintf(errbuf, CURL_ERROR_SIZE, "timed out after %u s (--timeout)",
                               f->fo->o->timeout_s);
                return CURLE_OPERATION_TIMEDOUT;
        }
        return f->result;
}

/* login's first pass: the certificate of a host known_hosts does not name
 * (nothing is sent; --fingerprint decides by itself). */
static int probe_host(struct fiber *f) {
        struct host_state *s = &f->fo->st[f->index];
        int r;

        r = cli_connect(&f->cli, f->opts.host_arg, CONNECT_NO_TOKEN);
        if (r < 0 || f->cli.known || f->cli.pin_source == PIN_OPTION)
                return r;
        r = http_probe(f->cli.http);
        if (r >= 0)
                s->unknown = http_client_peer_fingerprint(f->cli.http, s->fingerprint);
        return r;
}

static void fiber_main(void) {
        struct fiber *f = current;
        struct fanout *fo = f->fo;
        int r = 0;

        asan_finish(NULL, &fo->loop_stack, &fo->loop_stack_size);
        if (fo->probing)
                r = probe_host(f);
        else {
                if (!fo->verb || !fo->verb->own_connection)
                        r = cli_connect(&f->cli, f->opts.host_arg, 0);
                if (r >= 0)
                        r = fo->verb ? fo->verb->run(&f->cli, fo->nargs, f->argv)
                                     : cli_collection(&f->cli, fo->word, fo->nargs, f->argv);
        }
        cli_disconnect(&f->cli);
        f->r = r;
        f->done = true;
        asan_start(NULL, fo->loop_stack, fo->loop_stack_size);
        (void)setcontext(&fo->loop_ctx);
        abort(); /* setcontext() does not return */
}

/* Into the host until it yields or finishes. */
static void resume(struct fanout *fo, struct fiber *f) {
        current = f;
        stdout = f->out;
        stderr = f->err;
        (void)dup2(f->stdin_fd >= 0 ? f->stdin_fd : fo->null_fd, STDIN_FILENO);
        http_set_fanout(&f->hook);
        asan_start(&fo->loop_fake, (char *)f->map + sysconf(_SC_PAGESIZE),
                   f->map_size - (size_t)sysconf(_SC_PAGESIZE));
        switch_context(&fo->loop_ctx, &f->ctx);
        asan_finish(fo->loop_fake, NULL, NULL);
        http_set_fanout(NULL);
        stdout = fo->real_out;
        stderr = fo->real_err;
        if (fo->saved_stdin >= 0)
                (void)dup2(fo->saved_stdin, STDIN_FILENO);
        else
                (void)close(STDIN_FILENO);
        current = NULL;
}

static int fiber_stdin(struct fanout *fo) {
        int fd;

        fd = memfd_create("steward-stdin", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < fo->stdin_len;) {
                ssize_t n = write(fd, fo->stdin_data + off, fo->stdin_len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        (void)close(fd);
                        return -EIO;
                }
                off += (size_t)n;
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                (void)close(fd);
                return -errno;
        }
        return fd;
}

static void fiber_free(struct fiber *f) {
        if (f->out)
                (void)fclose(f->out);
        if (f->err)
                (void)fclose(f->err);
        free(f->oc.buf);
        free(f->ec.buf);
        if (f->map)
                (void)munmap(f->map, f->map_size);
        if (f->conns)
                (void)curl_share_cleanup(f->conns);
        if (f->stdin_fd >= 0)
                (void)close(f->stdin_fd);
        free(f->argv);
        free(f);
}

static int fiber_new(struct fanout *fo, size_t index, struct fiber **ret) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        struct fiber *f = calloc(1, sizeof *f);

        if (!f)
                return -ENOMEM;
        f->fo = fo;
        f->index = index;
        f->stdin_fd = -1;
        f->map_size = FIBER_STACK + page;
        f->map = mmap(NULL, f->map_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (f->map == MAP_FAILED) {
                f->map = NULL;
                fiber_free(f);
                return -ENOMEM;
        }
        f->conns = curl_share_init();
        if (!f->conns ||
            curl_share_setopt(f->conns, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
                fiber_free(f);
                return -ENOMEM;
        }
        f->out = capture_open(&f->oc);
        f->err = capture_open(&f->ec);
        f->argv = calloc((size_t)fo->nargs + 1, sizeof *f->argv);
        /* Its own copy of what stdin held, or the one /dev/null. */
        f->stdin_fd = fo->use_stdin ? fiber_stdin(fo) : -1;
        if (mprotect(f->map, page, PROT_NONE) < 0 || !f->out || !f->err || !f->argv ||
            (fo->use_stdin && f->stdin_fd < 0) || getcontext(&f->ctx) < 0) {
                fiber_free(f);
                return -ENOMEM;
        }
        memcpy(f->argv, fo->args, (size_t)fo->nargs * sizeof *f->argv);
        f->opts = *fo->o;
        f->opts.host_arg = fo->hosts.hosts[index].key;
        f->opts.discovered = fo->hosts.hosts[index].discovered;
        f->cli.opts = &f->opts;
        f->cli.json = fo->o->json || fo->o->jsonl;
        f->cli.dry_run = fo->plan;
        f->hook = (struct http_fanout){.perform = fiber_perform,
                                       .arg = f,
                                       .plan = fo->plan,
                                       .answer_max = FANOUT_ANSWER_MAX,
                                       .held = &fo->held,
                                       .held_max = FANOUT_HELD_MAX};
        f->deadline = now_s() + fo->o->timeout_s;
        f->ctx.uc_stack.ss_sp = (char *)f->map + page;
        f->ctx.uc_stack.ss_size = FIBER_STACK;
        f->ctx.uc_link = NULL;
        makecontext(&f->ctx, fiber_main, 0);
        *ret = f;
        return 0;
}

/* ---- output ---------------------------------------------------------- */

static void print_prefixed(FILE *to, const char *name, const char *buf, size_t len) {
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(buf + i, '\n', len - i);
                size_t n = nl ? (size_t)(nl - buf - i) : len - i;

                fprintf(to, "%s: %.*s\n", name, (int)n, buf + i);
                i += n + (nl ? 1 : 0);
        }
        (void)fflush(to);
}

/* The first line of the host's error output, without "steward: ". */
static char *first_error_line(const char *buf, size_t len) {
        const char *nl, *p = buf;
        size_t n;

        if (!buf || len == 0)
                return NULL;
        nl = memchr(buf, '\n', len);
        n = nl ? (size_t)(nl - buf) : len;
        if (n >= 9 && memcmp(p, "steward: ", 9) == 0)
                p += 9, n -= 9;
        /* "cannot connect to HOST:PORT: why": the host is named already. */
        if (n > 18 && memcmp(p, "cannot connect to ", 18) == 0) {
                const char *colon = memchr(p + 18, ' ', n - 18);
                if (colon && colon[-1] == ':') {
                        n -= (size_t)(colon + 1 - p);
                        p = colon + 1;
                }
        }
        return strndup(p, n);
}

static json_t *output_json(const char *buf, size_t len) {
        json_t *v;

        if (!buf || len == 0)
                return json_null();
        v = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
        return v ? v : json_stringn_nocheck(buf, len);
}

static json_t *host_object(struct fanout *fo, size_t i, const struct fiber *f) {
        struct host_state *s = &fo->st[i];
        json_t *o = json_object();

        if (!o)
                return NULL;
        (void)json_object_set_new(o, "host", json_string(fo->hosts.hosts[i].name));
        (void)json_object_set_new(o, "exit", json_integer(s->exit));
        if (s->plan)
                (void)json_object_set(o, "plan", s->plan);
        if (f && !s->cut && (f->oc.len > 0 || s->exit == 0))
                (void)json_object_set_new(o, "result", output_json(f->oc.buf, f->oc.len));
        if (s->exit != 0) {
                json_t *e = json_object();
                (void)json_object_set_new(e, "message",
                                          json_string(s->reason ? s->reason : class_of(s->exit)));
                (void)json_object_set_new(e, "class", json_string(class_of(s->exit)));
                (void)json_object_set_new(o, "error", e);
        }
        return o;
}

/* A host's final result: printed now (text, --jsonl) or kept (--json). */
static void emit(struct fanout *fo, size_t i, const struct fiber *f) {
        struct host_state *s = &fo->st[i];
        const char *name = fo->hosts.hosts[i].name;

        s->final = true;
        if (fo->o->json || fo->o->jsonl) {
                s->obj = host_object(fo, i, f);
                if (fo->o->jsonl && s->obj) {
                        if (json_dumpf(s->obj, fo->real_out, JSON_COMPACT | JSON_ENSURE_ASCII) < 0)
                                fo->dump_failed = true;
                        fputc('\n', fo->real_out);
                        if (fflush(fo->real_out) != 0)
                                fo->dump_failed = true;
                }
                if (f && f->ec.len > 0)
                        print_prefixed(fo->real_err, name, f->ec.buf, f->ec.len);
                return;
        }
        if (f) {
                if (!s->cut)
                        print_prefixed(fo->real_out, name, f->oc.buf, f->oc.len);
                print_prefixed(fo->real_err, name, f->ec.buf, f->ec.len);
        }
}

/* A host's verb ended: its plan or its result. */
static void finish(struct fanout *fo, struct fiber *f) {
        struct host_state *s = &fo->st[f->index];
        const char *name = fo->hosts.hosts[f->index].name;

        (void)fflush(f->out);
        (void)fflush(f->err);
        s->exit = exit_of(f->r);
        free(s->reason);
        s->reason = NULL;
        s->cut = f->oc.truncated || f->ec.truncated;
        if (s->cut) {
                /* A cut result would be a wrong one (and invalid JSON): the
                 * host failed. */
                if (s->exit == 0 || s->exit == EXIT_USAGE)
                        s->exit = EXIT_REFUSED;
                s->reason = strdup("output over 16 MiB");
                f->ec.len = 0; /* its error output may be cut too: the reason says it */
                f->ec.truncated = false;
                (void)fprintf(f->err, "steward: output over %zu MiB\n", CAPTURE_MAX >> 20);
                (void)fflush(f->err);
        } else
                s->reason = s->exit ? first_error_line(f->ec.buf, f->ec.len) : NULL;
        /* "HOST:PORT: why": the host is named already. */
        if (s->reason) {
                size_t k = strlen(fo->hosts.hosts[f->index].key);

                if (strncmp(s->reason, fo->hosts.hosts[f->index].key, k) == 0 &&
                    strncmp(s->reason + k, ": ", 2) == 0)
                        memmove(s->reason, s->reason + k + 2, strlen(s->reason + k + 2) + 1);
        }

        if (!fo->plan || !f->hook.sent_change) {
                emit(fo, f->index, f);
                return;
        }
        s->changes = true;
        if (f->hook.no_dry_run) {
                char line[512];

                (void)snprintf(line, sizeof line, "%s — no dry run for this change",
                               f->hook.change);
                s->plan_ok = true;
                s->exit = 0;
                s->plan = json_pack("{s:s}", "no_dry_run", f->hook.change);
                if (!fo->o->json && !fo->o->jsonl)
                        print_prefixed(fo->real_out, name, line, strlen(line));
                return;
        }
        s->plan_ok = s->exit == 0;
        s->plan = output_json(f->oc.buf, f->oc.len);
        if (!s->plan_ok) {
                emit(fo, f->index, f); /* not changed: its plan failed */
                return;
        }
        if (!fo->o->json && !fo->o->jsonl) {
                print_prefixed(fo->real_out, name, f->oc.buf, f->oc.len);
                print_prefixed(fo->real_err, name, f->ec.buf, f->ec.len);
        }
}

/* ---- the loop -------------------------------------------------------- */

static void run_fiber(struct fanout *fo, struct fiber **slot) {
        resume(fo, *slot);
        if ((*slot)->done) {
                if (!fo->probing)
                        finish(fo, *slot); /* a probe's failure shows in the login */
                fiber_free(*slot);
                *slot = NULL;
        }
}

static int start_hosts(struct fanout *fo, const bool *selected, size_t *next,
                       struct fiber **slots, size_t nslots) {
        for (size_t k = 0; k < nslots && *next < fo->hosts.n; k++) {
                int r;

                if (slots[k])
                        continue;
                while (*next < fo->hosts.n && !selected[*next])
                        (*next)++;
                if (*next >= fo->hosts.n)
                        break;
                r = fiber_new(fo, (*next)++, &slots[k]);
                if (r < 0)
                        return r;
                run_fiber(fo, &slots[k]);
        }
        return 0;
}

static void complete_transfers(struct fanout *fo) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(fo->multi, &left))) {
                struct fiber *f = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
                if (!f)
                        continue;
                f->result = msg->data.result;
                (void)curl_multi_remove_handle(fo->multi, msg->easy_handle);
                /* Ready: run_slots() resumes it, outside this walk. */
                f->waiting = READY;
        }
}

/* Resumes the hosts whose transfer completed or whose time is up; returns
 * the time to the next deadline (ms). */
static long run_slots(struct fanout *fo, struct fiber **slots, size_t nslots) {
        double t = now_s(), next = t + 1.0;
        bool live = false;

        for (size_t k = 0; k < nslots; k++) {
                struct fiber *f = slots[k];

                if (!f)
                        continue;
                if (f->waiting == READY) {
                        f->waiting = NULL;
                        run_fiber(fo, &slots[k]);
                } else if (f->waiting && t >= f->deadline) {
                        (void)curl_multi_remove_handle(fo->multi, f->waiting);
                        f->waiting = NULL;
                        f->timed_out = true;
                        run_fiber(fo, &slots[k]);
                }
                if (slots[k] && slots[k]->deadline < next)
                        next = slots[k]->deadline;
                live = live || slots[k];
        }
        /* None left: start the next ones (or end) without waiting. */
        return !live || next <= t ? 0 : (long)((next - t) * 1000) + 1;
}

static int run_pass(struct fanout *fo, const bool *selected) {
        size_t nslots = fo->o->parallel, next = 0;
        _cleanup_free_ struct fiber **slots = calloc(nslots, sizeof *slots);
        int r = 0;

        if (!slots)
                return -ENOMEM;
        for (;;) {
                bool any = false;
                long wait_ms, curl_ms = -1;
                int still = 0;

                r = start_hosts(fo, selected, &next, slots, nslots);
                if (r < 0)
                        break;
                for (size_t k = 0; k < nslots; k++)
                        any = any || slots[k];
                if (!any && next >= fo->hosts.n)
                        break;
                (void)curl_multi_perform(fo->multi, &still);
                complete_transfers(fo);
                wait_ms = run_slots(fo, slots, nslots);
                if (curl_multi_timeout(fo->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 &&
                    curl_ms < wait_ms)
                        wait_ms = curl_ms;
                if (wait_ms > 0)
                        (void)curl_multi_poll(fo->multi, NULL, 0, (int)(wait_ms > 1000 ? 1000 : wait_ms),
                                              NULL);
        }
        /* Only on an allocation failure: end what runs, as timed out. */
        for (size_t k = 0; k < nslots; k++)
                while (slots[k]) {
                        if (slots[k]->waiting && slots[k]->waiting != READY)
                                (void)curl_multi_remove_handle(fo->multi, slots[k]->waiting);
                        slots[k]->waiting = NULL;
                        slots[k]->timed_out = true;
                        run_fiber(fo, &slots[k]);
                }
        return r;
}

/* ---- the run ----------------------------------------------------------- */

bool fanout_wanted(const char *host_arg) {
        return host_arg && (strchr(host_arg, ',') || host_arg[0] == '@');
}

/* Grows *data to hold need bytes and a NUL, as realloc() would but wiping
 * the old copy: stdin may hold a password. */
static int grow_wiping(char **data, size_t len, size_t *cap, size_t need) {
        size_t ncap = *cap ? *cap : 4096;
        char *n;

        while (ncap < need + 1)
                ncap *= 2;
        if (ncap == *cap)
                return 0;
        n = malloc(ncap);
        if (!n)
                return -ENOMEM;
        if (*data) {
                memcpy(n, *data, len);
                explicit_bzero(*data, *cap);
                free(*data);
        }
        *data = n;
        *cap = ncap;
        return 0;
}

static void free_wiped(char *data, size_t cap) {
        if (data)
                explicit_bzero(data, cap);
        free(data);
}

static int read_all_stdin(struct fanout *fo) {
        char chunk[65536], *data = NULL;
        size_t len = 0, cap = 0;
        int r = 0;

        for (;;) {
                ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "steward: cannot read stdin: %s\n", strerror(errno));
                        r = -EIO;
                        break;
                }
                if (n == 0)
                        break;
                if ((size_t)n > STDIN_MAX - len) {
                        fprintf(stderr, "steward: stdin is larger than %zu MiB\n",
                                STDIN_MAX / 1024 / 1024);
                        r = -EINVAL;
                        break;
                }
                r = grow_wiping(&data, len, &cap, len + (size_t)n);
                if (r < 0)
                        break;
                memcpy(data + len, chunk, (size_t)n);
                len += (size_t)n;
        }
        explicit_bzero(chunk, sizeof chunk);
        if (r >= 0 && !data)
                r = grow_wiping(&data, len, &cap, 0);
        if (r < 0) {
                free_wiped(data, cap);
                return r;
        }
        data[len] = '\0';
        fo->stdin_len = len;
        fo->stdin_data = data;
        return 0;
}

/* What the verb reads from stdin, read once for every host: a login's
 * password (asked once on a terminal), `settings` lines, a collection's
 * --password-stdin. */
static int prepare_stdin(struct fanout *fo) {
        const char *v = fo->verb ? fo->verb->name : "";
        bool settings_stdin = STREQ(v, "settings"), password_stdin = false;
        char pw[4096 + 2];
        int r;

        for (int i = 0; i < fo->nargs; i++) {
                if (fo->args[i][0] != '-' || STREQ(fo->args[i], "-"))
                        settings_stdin = settings_stdin && STREQ(fo->args[i], "-");
                if (STREQ(fo->args[i], "--password-stdin"))
                        password_stdin = true;
        }
        if (STREQ(v, "login") && isatty(STDIN_FILENO)) {
                r = read_secret("Password (for every host): ", pw, sizeof pw);
                if (r < 0)
                        return r;
                fo->stdin_len = strlen(pw) + 1;
                fo->stdin_data = malloc(fo->stdin_len + 1);
                if (fo->stdin_data)
                        (void)snprintf(fo->stdin_data, fo->stdin_len + 1, "%s\n", pw);
                explicit_bzero(pw, sizeof pw);
                fo->use_stdin = true;
                return fo->stdin_data ? 0 : -ENOMEM;
        }
        if (!STREQ(v, "login") && !settings_stdin && !password_stdin)
                return 0;
        fo->use_stdin = true;
        return read_all_stdin(fo);
}

static bool plannable(const struct fanout *fo) {
        static const char *const never[] = {"login",      "logout",    "discover", "ping",
                                            "traceroute", "lookup",    "portcheck", "netinfo"};

        if (fo->verb)
                for (size_t i = 0; i < ELEMENTSOF(never); i++)
                        if (STREQ(fo->verb->name, never[i]))
                                return false;
        return true;
}

static int check_streaming(const struct fanout *fo) {
        if (!fo->verb || !fo->verb->follows)
                return 0;
        for (int i = 0; i < fo->nargs; i++) {
                if (STREQ(fo->args[i], "--"))
                        break;
                if (STREQ(fo->args[i], "-f") || STREQ(fo->args[i], "--follow"))
                        return usage_error("%s --follow streams: it runs on one host at a "
                                           "time (-H HOST)",
                                           fo->verb->name);
        }
        return 0;
}

static int resolve(struct fanout *fo) {
        _cleanup_free_ char *hosts_text = NULL, *disc_text = NULL, *hosts_shown = NULL,
                            *disc_shown = NULL;
        struct hosts_sources src = {};
        char err[512];
        int r;

        if (strchr(fo->o->host_arg, '@')) {
                r = store_read("hosts", &hosts_text, &src.hosts_len);
                if (r >= 0)
                        r = store_read("discovered", &disc_text, &src.discovered_len);
                if (r < 0)
                        return r == -ENOMEM ? r : -EINVAL;
        }
        (void)store_display_path("hosts", &hosts_shown);
        (void)store_display_path("discovered", &disc_shown);
        src.hosts_text = hosts_text;
        src.hosts_file = hosts_shown ? hosts_shown : "hosts";
        src.discovered_text = disc_text;
        src.discovered_file = disc_shown ? disc_shown : "discovered";
        r = hosts_resolve(fo->o->host_arg, &src, &fo->hosts, err, sizeof err);
        if (r == -EINVAL)
                return usage_error("%s", err);
        if (r >= 0 && fo->hosts.n == 0)
                return usage_error("-H %s names no host", fo->o->host_arg);
        return r;
}

static void summary(struct fanout *fo, size_t would_change) {
        size_t count[4] = {}, shown = 0;
        static const int order[] = {0, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE};

        for (size_t i = 0; i < fo->hosts.n; i++)
                count[fo->st[i].exit & 3]++;
        fprintf(stderr, "%zu host%s:", fo->hosts.n, fo->hosts.n == 1 ? "" : "s");
        for (size_t k = 0; k < ELEMENTSOF(order); k++)
                if (count[order[k]] || order[k] == 0)
                        fprintf(stderr, "%s %zu %s", k ? "," : "", count[order[k]],
                                class_of(order[k]));
        if (would_change)
                fprintf(stderr, ", %zu would change", would_change);
        for (size_t i = 0; i < fo->hosts.n; i++) {
                if (fo->st[i].exit == 0)
                        continue;
                if (shown == REASONS_SHOWN) {
                        fputs("; …", stderr);
                        break;
                }
                fprintf(stderr, "%s%s: ", shown ? "; " : " (", fo->hosts.hosts[i].name);
                fputs_sanitized(fo->st[i].reason ? fo->st[i].reason : class_of(fo->st[i].exit),
                                stderr);
                shown++;
        }
        fprintf(stderr, "%s in %.2f s\n", shown ? ")" : "", now_s() - fo->t0);
}

/* After the plans: stop, ask for --yes, or apply. */
static int decide(struct fanout *fo, size_t *ret_pending) {
        _cleanup_free_ bool *apply = calloc(fo->hosts.n ? fo->hosts.n : 1, sizeof *apply);
        size_t n = 0;

        if (!apply)
                return -ENOMEM;
        for (size_t i = 0; i < fo->hosts.n; i++)
                if (!fo->st[i].final && fo->st[i].changes && fo->st[i].plan_ok)
                        apply[i] = true, n++;
        *ret_pending = 0;
        if (n == 0)
                return 0;
        if (fo->o->dry_run || !fo->o->yes) {
                for (size_t i = 0; i < fo->hosts.n; i++)
                        if (apply[i])
                                emit(fo, i, NULL);
                *ret_pending = n;
                if (!fo->o->dry_run)
                        fprintf(stderr,
                                "steward: %zu host%s would change; nothing was changed: run again "
                                "with --yes\n",
                                n, n == 1 ? "" : "s");
                return 0;
        }
        fo->plan = false;
        return run_pass(fo, apply);
}

static int finish_run(struct fanout *fo, size_t pending) {
        int worst = 0;

        if (fo->o->json) {
                json_t *all = json_array(), *top;

                for (size_t i = 0; i < fo->hosts.n; i++)
                        (void)json_array_append(all, fo->st[i].obj ? fo->st[i].obj : json_null());
                top = json_pack("{s:o}", "hosts", all);
                if (!top || json_dumpf(top, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) < 0)
                        fo->dump_failed = true;
                fputc('\n', stdout);
                if (fflush(stdout) != 0)
                        fo->dump_failed = true;
                json_decref(top);
        }
        if (fo->dump_failed) {
                fputs("steward: the JSON output could not be written whole\n", stderr);
                worst = EXIT_REFUSED;
        }
        summary(fo, pending);
        for (size_t i = 0; i < fo->hosts.n; i++)
                if (rank(fo->st[i].exit) > rank(worst))
                        worst = fo->st[i].exit;
        if (worst == 0 && pending > 0 && !fo->o->dry_run)
                worst = EXIT_USAGE;
        return worst == 0 ? 0 : worst == EXIT_USAGE ? -EINVAL : worst == EXIT_UNREACHABLE ? -ECOMM
                                                                                          : -EREMOTEIO;
}

/* Did the user accept new certificates beforehand (login --yes,
 * STEWARD_ACCEPT_NEW=1)?  Never for a host from @discovered. */
static bool login_yes(const struct fanout *fo) {
        const char *env = getenv("STEWARD_ACCEPT_NEW");

        if (env && STREQ(env, "1"))
                return true;
        for (int i = 0; i < fo->nargs && !STREQ(fo->args[i], "--"); i++)
                if (STREQ(fo->args[i], "--yes") || STREQ(fo->args[i], "-y"))
                        return true;
        return false;
}

/* login with a terminal (as for one host: /dev/tty, even when stdin is a
 * pipe): every host's certificate first, then a question per new one —
 * without --yes, or with it for the hosts from @discovered. */
static bool login_asks(const struct fanout *fo) {
        bool discovered = false;
        int tty;

        if (!fo->verb || !STREQ(fo->verb->name, "login"))
                return false;
        for (size_t i = 0; i < fo->hosts.n; i++)
                discovered = discovered || fo->hosts.hosts[i].discovered;
        if (login_yes(fo) && !discovered)
                return false;
        tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty < 0)
                return false;
        (void)close(tty);
        return true;
}

/* One host's new certificate: 1 trusted, 0 not, -errno. */
static int ask_one(const struct fanout *fo, size_t i) {
        _cleanup_free_ char *text = NULL, *question = NULL;
        const char *name = fo->hosts.hosts[i].name;

        if (asprintf(&text,
                     "The certificate of %s is not in known_hosts:\n    %s\n%s"
                     "Compare it with the fingerprint on its server (stewardd logs it; "
                     "'steward fullstatus\nstewardd' there shows stewardd:tls:fingerprint).\n",
                     name, fo->st[i].fingerprint,
                     fo->hosts.hosts[i].discovered
                             ? "It came from @discovered: discovery is not authenticated, "
                               "anyone on the network can answer it.\n"
                             : "") < 0) {
                text = NULL;
                return -ENOMEM;
        }
        if (asprintf(&question, "Trust the certificate of %s? [y/N] ", name) < 0) {
                question = NULL;
                return -ENOMEM;
        }
        return tty_confirm(text, question) == 1;
}

/* Asks about each new certificate, one host at a time (one yes for a whole
 * list would cover hosts nobody looked at).  The accepted certificates go to
 * known_hosts, so the login pins them (a different one then is refused as
 * changed); declined hosts are not logged in to. */
static int ask_trust(struct fanout *fo) {
        bool yes = login_yes(fo);

        for (size_t i = 0; i < fo->hosts.n; i++) {
                uint8_t pin[32];
                unsigned line;
                int r;

                if (!fo->st[i].unknown)
                        continue;
                r = yes && !fo->hosts.hosts[i].discovered ? 1 : ask_one(fo, i);
                if (r < 0)
                        return r;
                fo->st[i].declined = r != 1;
                if (r == 1 && fingerprint_parse(fo->st[i].fingerprint, pin) >= 0 &&
                    known_hosts_add(fo->hosts.hosts[i].key, pin, &line) == -ENOMEM)
                        return -ENOMEM;
        }
        return 0;
}

static int probe_pass(struct fanout *fo, bool *selected) {
        int r;

        fo->probing = true;
        r = run_pass(fo, selected);
        fo->probing = false;
        if (r >= 0)
                r = ask_trust(fo);
        for (size_t i = 0; r >= 0 && i < fo->hosts.n; i++)
                if (fo->st[i].declined) {
                        selected[i] = false;
                        fo->st[i].exit = EXIT_UNREACHABLE;
                        fo->st[i].reason = strdup("the certificate was not trusted; nothing "
                                                  "was sent");
                        if (!fo->o->json && !fo->o->jsonl)
                                fprintf(stderr, "%s: steward: %s\n", fo->hosts.hosts[i].name,
                                        fo->st[i].reason ? fo->st[i].reason : "not trusted");
                        emit(fo, i, NULL);
                }
        return r;
}

/* The first pass; logins store their sessions in one update at its end. */
static int run_logged_pass(struct fanout *fo, const bool *selected) {
        bool login = fo->verb && STREQ(fo->verb->name, "login");
        int r, k;

        if (login)
                store_batch_begin();
        r = run_pass(fo, selected);
        if (login) {
                k = store_batch_end();
                if (r >= 0 && k < 0) {
                        fputs("steward: the sessions of this login were not saved\n", stderr);
                        r = k == -ENOMEM ? k : -EIO;
                }
        }
        return r;
}

static int setup_run(struct fanout *fo) {
        struct rlimit rl;
        int r;

        if (fo->o->parallel == 0)
                fo->o->parallel = PARALLEL_DEFAULT;
        if (fo->o->timeout_s == 0)
                fo->o->timeout_s = TIMEOUT_DEFAULT;
        r = check_streaming(fo);
        if (r < 0)
                return r;
        fo->st = calloc(fo->hosts.n, sizeof *fo->st);
        if (!fo->st)
                return -ENOMEM;
        fo->multi = curl_multi_init();
        if (!fo->multi)
                return -ENOMEM;
        (void)curl_multi_setopt(fo->multi, CURLMOPT_MAXCONNECTS, (long)fo->o->parallel * 2);
        fo->real_out = stdout;
        fo->real_err = stderr;
        fo->saved_stdin = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        fo->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fo->null_fd < 0)
                return -errno;
        /* A socket per host in flight: use the descriptors we may. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        fo->plan = plannable(fo);
        return 0;
}

static void cleanup_run(struct fanout *fo) {
        if (fo->saved_stdin >= 0) {
                (void)dup2(fo->saved_stdin, STDIN_FILENO);
                (void)close(fo->saved_stdin);
        }
        if (fo->null_fd >= 0)
                (void)close(fo->null_fd);
        if (fo->multi)
                (void)curl_multi_cleanup(fo->multi);
        for (size_t i = 0; fo->st && i < fo->hosts.n; i++) {
                json_decref(fo->st[i].plan);
                json_decref(fo->st[i].obj);
                free(fo->st[i].reason);
        }
        free(fo->st);
        if (fo->stdin_data) {
                explicit_bzero(fo->stdin_data, fo->stdin_len);
                free(fo->stdin_data);
        }
        host_list_free(&fo->hosts);
}

int fanout_run(struct cli_options *o, const struct verb_def *verb, const char *word, int nargs,
               char **args, char **ret_single) {
        struct fanout fo = {.o = o, .verb = verb, .word = word, .nargs = nargs, .args = args,
                            .saved_stdin = -1, .null_fd = -1, .t0 = now_s()};
        _cleanup_free_ bool *all = NULL;
        const char *env_token = getenv("STEWARD_TOKEN");
        size_t pending = 0;
        int r;

        *ret_single = NULL;
        /* A token belongs to one server: sent to every host, each of them
         * could use it against the one it belongs to. */
        if (o->token_arg || o->token_file || (env_token && env_token[0]))
                return usage_error("a token is one server's: with several hosts each uses its own "
                                   "session (steward -H HOSTS login), not --token, --token-file "
                                   "or STEWARD_TOKEN");
        if (o->parallel > PARALLEL_MAX || o->timeout_s > TIMEOUT_MAX)
                return usage_error("--parallel is at most %u, --timeout at most %u s",
                                   PARALLEL_MAX, TIMEOUT_MAX);
        r = resolve(&fo);
        if (r >= 0 && fo.hosts.n == 1) {
                o->discovered = fo.hosts.hosts[0].discovered;
                *ret_single = strdup(fo.hosts.hosts[0].key);
                host_list_free(&fo.hosts);
                return *ret_single ? 0 : -ENOMEM;
        }
        if (r >= 0)
                r = setup_run(&fo);
        if (r >= 0) {
                all = malloc(fo.hosts.n * sizeof *all);
                r = all ? 0 : -ENOMEM;
        }
        if (r >= 0) {
                memset(all, 1, fo.hosts.n * sizeof *all);
                if (login_asks(&fo))
                        r = probe_pass(&fo, all);
        }
        if (r >= 0 && memchr(all, true, fo.hosts.n * sizeof *all)) {
                r = prepare_stdin(&fo);
                if (r >= 0)
                        r = run_logged_pass(&fo, all);
        }
        if (r >= 0 && fo.plan)
                r = decide(&fo, &pending);
        if (r >= 0)
                r = finish_run(&fo, pending);
        cleanup_run(&fo);
        return r;
}
