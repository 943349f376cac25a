/* login.c — `steward login` and `steward logout`.
 *
 * Login, in this order, so that the password never reaches a server that is
 * not trusted:
 *   1. a probe handshake learns the server's certificate (http_probe(): the
 *      handshake is failed on purpose, nothing is sent);
 *   2. the certificate is checked against known_hosts: a different one is
 *      refused with a warning; an unknown one is shown and trusted only if
 *      the user says so on the terminal, or gave --yes / STEWARD_ACCEPT_NEW=1,
 *      or gave the same --fingerprint; it is then recorded in known_hosts;
 *   3. only then the user name and the password are asked for, and sent in a
 *      request pinned to that certificate (the pin is checked inside the
 *      handshake, as for every request);
 *   4. the session token is stored in the sessions file for the host.
 *
 * `login --bootstrap` logs in with the one-time bootstrap token of a new
 * installation instead of a password (POST /api/v1/login
 * {"bootstrap_token": …}), after the same certificate check, and stores the
 * session alike.  The token is read from --bootstrap-file, else from the
 * daemon's default token file when HOST is this machine (localhost or a
 * loopback address, on a port only root listens on: the local token is
 * never sent elsewhere) and that file is readable, else as one line from stdin (with echo off on
 * a terminal; --bootstrap-file - reads stdin only).  Used once, the token is gone: the daemon
 * deletes its file.
 *
 * Where the answers come from.  The certificate question is asked on the
 * controlling terminal (/dev/tty) whenever there is one, even when stdin is
 * a pipe, as ssh does; with no terminal a new certificate is refused unless
 * accepted in advance.  The user name and password are asked on the terminal
 * when stdin is one; otherwise the password is the first line of stdin and
 * the user name is --user or $USER, so that scripts can pipe the password.
 *
 * Secrets: the password lives in one fixed buffer and the request body in one
 * allocation of its exact size, both wiped after use; the session token in
 * the answer is wiped before the answer is freed and never printed (--json
 * prints the answer without it).  Echo is turned off while the password is
 * typed, and restored even when a signal interrupts the prompt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define USER_NAME_MAX 256
#define PASSWORD_MAX  1024
#define ANSWER_MAX    64

#define BOOTSTRAP_TOKEN_MAX 128
#define BOOTSTRAP_FILE      "/var/lib/steward/bootstrap-token"

/* The password form; `steward login --help` shows the --bootstrap form too. */
static const char login_synopsis[] = "login [HOST[:PORT]] [--user NAME] [--yes]";

static volatile sig_atomic_t caught_signal;

static void on_signal(int sig) {
        caught_signal = sig;
}

static void write_all(int fd, const char *s) {
        size_t n = strlen(s);

        while (n > 0) {
                ssize_t w = write(fd, s, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                s += w;
                n -= (size_t)w;
        }
}

/* Reads one line from fd, byte by byte (nothing past the newline is
 * consumed), without the newline or a trailing '\r'.  -E2BIG for a line that
 * does not fit (the rest of it is consumed), -ENODATA at end of file before
 * any byte, -EINTR when a signal interrupted the read. */
static int read_line(int fd, char *dst, size_t cap, size_t *ret_len) {
        size_t len = 0;
        bool too_long = false, any = false;

        for (;;) {
                char ch;
                ssize_t n = read(fd, &ch, 1);

                if (n < 0) {
                        if (errno == EINTR && !caught_signal)
                                continue;
                        explicit_bzero(dst, cap);
                        return errno == EINTR ? -EINTR : -errno;
                }
                if (n == 0) {
                        if (!any) {
                                explicit_bzero(dst, cap);
                                return -ENODATA;
                        }
                        break;
                }
                any = true;
                if (ch == '\n')
                        break;
                if (len + 1 < cap)
                        dst[len++] = ch;
                else
                        too_long = true;
        }
        if (too_long) {
                explicit_bzero(dst, cap);
                return -E2BIG;
        }
        if (len > 0 && dst[len - 1] == '\r')
                len--;
        dst[len] = '\0';
        *ret_len = len;
        return 0;
}

/* Asks on the terminal tty, with echo off unless echo.  A signal that
 * arrives meanwhile is delivered again once the terminal is restored. */
static int ask_tty(int tty, const char *prompt, bool echo, char *dst, size_t cap, size_t *ret_len) {
        static const int sigs[] = {SIGALRM, SIGHUP,  SIGINT,  SIGPIPE, SIGQUIT,
                                   SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
        struct sigaction sa = {.sa_handler = on_signal}, saved[ELEMENTSOF(sigs)];
        struct termios old, quiet;
        bool restore = false;
        int r, sig;

        caught_signal = 0;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                (void)sigaction(sigs[i], &sa, &saved[i]);

        if (!echo && tcgetattr(tty, &old) == 0) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
                restore = tcsetattr(tty, TCSAFLUSH, &quiet) == 0;
        }
        write_all(tty, prompt);
        r = read_line(tty, dst, cap, ret_len);
        if (restore) {
                (void)tcsetattr(tty, TCSAFLUSH, &old);
                write_all(tty, "\n");
        }

        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                (void)sigaction(sigs[i], &saved[i], NULL);
        sig = caught_signal;
        if (sig) {
                (void)kill(getpid(), sig);
                return -EINTR;
        }
        return r;
}

static bool valid_user_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > USER_NAME_MAX || !utf8_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
                        return false;
        return true;
}

static int get_user(struct cli *c, const char *given, int tty, bool interactive, char **ret) {
        const char *dflt = getenv("USER");
        _cleanup_free_ char *prompt = NULL;
        char answer[USER_NAME_MAX + 2];
        size_t len = 0;
        char *u;
        int r;

        if (dflt && !valid_user_name(dflt))
                dflt = NULL;
        if (given)
                u = strdup(given);
        else if (interactive) {
                if (asprintf(&prompt, dflt ? "User for %s [%s]: " : "User for %s: ", c->where,
                             dflt) < 0) {
                        prompt = NULL;
                        return -ENOMEM;
                }
                r = ask_tty(tty, prompt, true, answer, sizeof answer, &len);
                if (r == -ENODATA || r == -EINTR)
                        return usage_error("no user name given");
                if (r == -E2BIG)
                        return usage_error("the user name is too long");
                if (r < 0) {
                        fprintf(stderr, "steward: cannot read the terminal: %s\n", strerror(-r));
                        return -EIO;
                }
                if (len == 0 && !dflt)
                        return usage_error("no user name given");
                if (len > 0 && !valid_user_name(answer))
                        return usage_error("invalid user name");
                u = strdup(len > 0 ? answer : dflt);
        } else if (dflt)
                u = strdup(dflt);
        else
                return usage_error("no user name: give it with --user NAME");
        if (!u)
                return -ENOMEM;
        *ret = u;
        return 0;
}

/* Into pw (PASSWORD_MAX + 2 bytes): from the terminal when interactive, else
 * the first line of stdin. */
static int get_password(struct cli *c, const char *user, int tty, bool interactive, char *pw,
                        size_t cap) {
        _cleanup_free_ char *prompt = NULL;
        size_t len = 0;
        int r;

        if (interactive) {
                if (asprintf(&prompt, "Password for %s@%s: ", user, c->where) < 0) {
                        prompt = NULL;
                        return -ENOMEM;
                }
                r = ask_tty(tty, prompt, false, pw, cap, &len);
        } else
                r = read_line(STDIN_FILENO, pw, cap, &len);

        if (r == -ENODATA || r == -EINTR)
                return usage_error("no password given");
        if (r == -E2BIG)
                return usage_error("the password is longer than %d bytes", PASSWORD_MAX);
        if (r < 0) {
                fprintf(stderr, "steward: cannot read the password: %s\n", strerror(-r));
                return -EIO;
        }
        if (len == 0)
                return usage_error("empty password");
        if (!utf8_valid(pw, len)) {
                explicit_bzero(pw, cap);
                return usage_error("the password is not valid UTF-8 text");
        }
        return 0;
}

int read_secret(const char *prompt, char *dst, size_t cap) {
        _cleanup_close_ int tty = -1;
        size_t len = 0;
        int r;

        if (isatty(STDIN_FILENO))
                tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty >= 0)
                r = ask_tty(tty, prompt, false, dst, cap, &len);
        else
                r = read_line(STDIN_FILENO, dst, cap, &len);
        if (r == -ENODATA || r == -EINTR)
                return usage_error("no password given");
        if (r == -E2BIG)
                return usage_error("the password is longer than %zu bytes", cap - 2);
        if (r < 0) {
                fprintf(stderr, "steward: cannot read the password: %s\n", strerror(-r));
                return -EIO;
        }
        if (len == 0)
                return usage_error("empty password");
        if (!utf8_valid(dst, len)) {
                explicit_bzero(dst, cap);
                return usage_error("the password is not valid UTF-8 text");
        }
        return 0;
}

/* Escapes s as the inside of a JSON string into dst (when not NULL);
 * returns the length. */
static size_t json_escape(const char *s, char *dst) {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        if (dst) {
                                dst[n] = '\\';
                                dst[n + 1] = (char)*p;
                        }
                        n += 2;
                } else if (*p < 0x20 || *p == 0x7f) {
                        if (dst) {
                                memcpy(dst + n, "\\u00", 4);
                                dst[n + 4] = hex[*p >> 4];
                                dst[n + 5] = hex[*p & 15];
                        }
                        n += 6;
                } else {
                        if (dst)
                                dst[n] = (char)*p;
                        n++;
                }
        }
        return n;
}

/* {"user":"…","password":"…"} in one allocation of its exact size, so that
 * no copy of the password is left behind in freed memory. */
static int login_body(const char *user, const char *password, char **ret, size_t *ret_len) {
        static const char a[] = "{\"user\":\"", b[] = "\",\"password\":\"", e[] = "\"}";
        size_t nu = json_escape(user, NULL), np = json_escape(password, NULL);
        size_t len = strlen(a) + nu + strlen(b) + np + strlen(e), n = 0;
        char *body = malloc(len + 1);

        if (!body)
                return -ENOMEM;
        memcpy(body + n, a, strlen(a));
        n += strlen(a);
        n += json_escape(user, body + n);
        memcpy(body + n, b, strlen(b));
        n += strlen(b);
        n += json_escape(password, body + n);
        memcpy(body + n, e, strlen(e));
        n += strlen(e);
        body[n] = '\0';
        *ret = body;
        *ret_len = n;
        return 0;
}

/* Wipes a string member of a JSON answer in place, then removes it. */
static void wipe_member(json_t *obj, const char *key) {
        json_t *v = json_object_get(obj, key);

        if (json_is_string(v))
                explicit_bzero((char *)json_string_value(v), json_string_length(v));
        (void)json_object_del(obj, key);
}

/* First use of a host: may its certificate be trusted?  0 yes, -ECOMM no. */
static int trust_new(struct cli *c, const char *fp, bool yes, int tty) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        char answer[ANSWER_MAX];
        size_t len = 0;
        int r;

        (void)store_display_path("known_hosts", &file);
        if (asprintf(&text,
                     "The certificate of %s is not in %s.\n"
                     "Its fingerprint is %s.\n"
                     "Compare it with the fingerprint on the server (stewardd logs it when it "
                     "creates its\n"
                     "certificate; 'steward fullstatus stewardd' there shows it as "
                     "stewardd:tls:fingerprint).\n",
                     c->where, file ? file : "known_hosts", fp) < 0) {
                text = NULL;
                return -ENOMEM;
        }

        if (yes) {
                fputs(text, stderr);
                fprintf(stderr,
                        "steward: trusting it on first use (--yes or STEWARD_ACCEPT_NEW=1)\n");
                return 0;
        }
        if (tty < 0 && c->opts->discovered) {
                fputs(text, stderr);
                fprintf(stderr,
                        "steward: %s came from @discovered, and discovery is not "
                        "authenticated:\n"
                        "         --yes and STEWARD_ACCEPT_NEW=1 do not trust its certificate; "
                        "nothing was sent.\n"
                        "steward: once you have checked the fingerprint, pass --fingerprint %s\n"
                        "         or log in to it alone: steward login %s\n",
                        c->where, fp, c->where);
                return -ECOMM;
        }
        if (tty < 0) {
                fputs(text, stderr);
                fprintf(stderr,
                        "steward: there is no terminal to ask whether to trust it; nothing was "
                        "sent.\n"
                        "steward: once you have checked the fingerprint, run again with --yes "
                        "(or STEWARD_ACCEPT_NEW=1),\n"
                        "         or with --fingerprint %s\n",
                        fp);
                return -ECOMM;
        }

        write_all(tty, text);
        for (;;) {
                r = ask_tty(tty, "Trust this certificate? [y/N] ", true, answer, sizeof answer,
                            &len);
                if (r == -E2BIG)
                        continue;
                break;
        }
        if (r >= 0 && (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0))
                return 0;
        fprintf(stderr, "steward: the certificate of %s was not trusted; nothing was sent\n",
                c->where);
        return -ECOMM;
}

int tty_confirm(const char *text, const char *question) {
        _cleanup_close_ int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        char answer[ANSWER_MAX];
        size_t len = 0;
        int r;

        if (tty < 0)
                return -ENOTTY;
        write_all(tty, text);
        do
                r = ask_tty(tty, question, true, answer, sizeof answer, &len);
        while (r == -E2BIG);
        if (r < 0)
                return r;
        return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

/* After the probe: is the certificate seen the one to trust?  Records a new
 * one in known_hosts and pins the connection to it. */
static int check_certificate(struct cli *c, bool yes, int tty) {
        _cleanup_free_ char *file = NULL;
        char fp[FINGERPRINT_STRLEN], pinned[FINGERPRINT_STRLEN];
        uint8_t seen[32];
        unsigned line = 0;
        int r;

        if (!http_client_peer_fingerprint(c->http, fp) || fingerprint_parse(fp, seen) < 0)
                return -EBADMSG;
        (void)store_display_path("known_hosts", &file);

        if (c->pin_source == PIN_OPTION) {
                if (c->known && !memeq_consttime(c->pin, c->known_pin, sizeof c->pin)) {
                        fingerprint_format(c->known_pin, pinned);
                        fprintf(stderr,
                                "steward: --fingerprint is not the certificate recorded for %s "
                                "(%s, line %u of %s);\n"
                                "         if the server's certificate was replaced, remove that "
                                "line first\n",
                                c->where, pinned, c->known_line, file ? file : "known_hosts");
                        return -ECOMM;
                }
                if (!memeq_consttime(seen, c->pin, sizeof seen)) {
                        fprintf(stderr,
                                "steward: %s: the server's certificate does not match the pinned "
                                "fingerprint\n"
                                "steward: the server presented %s; nothing was sent\n",
                                c->where, fp);
                        return -ECOMM;
                }
        } else if (c->known) {
                if (!memeq_consttime(seen, c->known_pin, sizeof seen)) {
                        report_changed_certificate(c, fp);
                        return -ECOMM;
                }
        } else {
                r = trust_new(c, fp, yes, tty);
                if (r < 0)
                        return r;
        }

        if (!c->known) {
                r = known_hosts_add(c->where, seen, &line);
                if (r == -EEXIST) {
                        /* Another run recorded a different certificate meanwhile. */
                        r = known_hosts_find(c->where, &c->known, c->known_pin, &c->known_line);
                        if (r < 0)
                                return r;
                        report_changed_certificate(c, fp);
                        return -ECOMM;
                }
                if (r < 0)
                        return r;
                fprintf(stderr, "steward: added the certificate of %s to %s\n", c->where,
                        file ? file : "known_hosts");
                c->known = true;
                c->known_line = line;
                memcpy(c->known_pin, seen, sizeof seen);
        }

        http_client_set_pin(c->http, seen);
        memcpy(c->pin, seen, sizeof seen);
        c->pin_source = PIN_KNOWN_HOSTS;
        return 0;
}

static int host_operand(const char *verb, int npos, char **pos, const struct cli *c,
                        const char **ret) {
        if (npos > 0 && c->opts->host_arg)
                return usage_error("give the host either with -H or after '%s', not both", verb);
        *ret = npos > 0 ? pos[0] : c->opts->host_arg;
        if (!*ret)
                return usage_error("usage: steward %s HOST[:PORT] (or steward -H HOST %s)", verb,
                                   verb);
        return 0;
}

/* Does every TCP socket listening on port (IPv4 and IPv6) belong to root,
 * and is there one?  An unprivileged process listening on a loopback port
 * must not receive the local bootstrap token. */
static bool port_held_by_root(unsigned port) {
        static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        unsigned found = 0;

        for (size_t t = 0; t < ELEMENTSOF(tables); t++) {
                FILE *f = fopen(tables[t], "re");
                char line[512];
                bool others = false;

                if (!f)
                        continue;
                while (!others && fgets(line, sizeof line, f)) {
                        char local[64], st[8], *colon, *end;
                        unsigned uid;
                        unsigned long p;

                        if (sscanf(line, " %*u: %63s %*s %7s %*s %*s %*s %u", local, st, &uid) !=
                                    3 ||
                            strcmp(st, "0A") != 0 || !(colon = strrchr(local, ':')))
                                continue;
                        errno = 0;
                        p = strtoul(colon + 1, &end, 16);
                        if (errno || *end || p != port)
                                continue;
                        if (uid != 0)
                                others = true;
                        found++;
                }
                fclose(f);
                if (others)
                        return false;
        }
        return found > 0;
}

/* Is where ("HOST:PORT", "[V6]:PORT") this machine, served by root?  Only
 * "localhost" and loopback literals count (a name like 127.x.example can
 * resolve anywhere, and the host's own name depends on DNS), and only when
 * root holds the port there (see port_held_by_root). */
static bool host_is_local(const char *where) {
        char host[64];
        const char *end, *portstr;
        struct in6_addr a6;
        struct in_addr a4;
        unsigned long port = 660;
        size_t n;
        bool loopback;

        if (where[0] == '[') {
                end = strchr(where, ']');
                where++;
                portstr = end && end[1] == ':' ? end + 2 : NULL;
        } else {
                end = strrchr(where, ':');
                if (end && strchr(where, ':') != end)
                        end = NULL; /* a bare IPv6 address */
                portstr = end ? end + 1 : NULL;
        }
        n = end ? (size_t)(end - where) : strlen(where);
        if (n == 0 || n >= sizeof host)
                return false;
        memcpy(host, where, n);
        host[n] = '\0';
        if (portstr) {
                char *e;
                errno = 0;
                port = strtoul(portstr, &e, 10);
                if (errno || *e || port == 0 || port > 65535)
                        return false;
        }
        loopback = strcasecmp(host, "localhost") == 0 ||
                   (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
                   (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
        return loopback && port_held_by_root((unsigned)port);
}

/* A token read from a file or a line: one line, "stw_…" characters. */
static int bootstrap_token_check(char *tok, size_t len, const char *from) {
        while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
                tok[--len] = '\0';
        if (len == 0 || len > BOOTSTRAP_TOKEN_MAX || strlen(tok) != len || !token_chars_ok(tok)) {
                explicit_bzero(tok, len);
                fprintf(stderr, "steward: %s does not hold a bootstrap token (one line, stw_…)\n",
                        from);
                return -EINVAL;
        }
        return 0;
}

/* Why the token file could not be used. */
static void report_token_file(const struct cli *c, const char *path, int r) {
        if (r == -ENOENT)
                fprintf(stderr,
                        "steward: there is no bootstrap token in %s: it was used already (the "
                        "daemon deletes it at its first login), or the daemon keeps its state "
                        "elsewhere (--state-dir);\n"
                        "         with an account instead: steward login %s\n",
                        path, c->where);
        else if (r == -EACCES || r == -EPERM)
                fprintf(stderr,
                        "steward: cannot read %s: only root can; run this as root, or give "
                        "the token on stdin\n",
                        path);
        else
                fprintf(stderr, "steward: cannot read %s: %s\n", path, strerror(-r));
}

/* The bootstrap token into dst (BOOTSTRAP_TOKEN_MAX + 2 bytes); see the
 * comment at the top for where it comes from. */
static int get_bootstrap_token(struct cli *c, const char *file, char *dst, size_t cap) {
        const char *path = file ? file : host_is_local(c->where) ? BOOTSTRAP_FILE : NULL;
        _cleanup_close_ int tty = -1;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r, file_err = 0;

        if (file && STREQ(file, "-")) /* stdin, and no file */
                path = file = NULL;

        if (path) {
                r = read_file(path, BOOTSTRAP_TOKEN_MAX + 2, &data, &len);
                if (r >= 0) {
                        r = bootstrap_token_check(data, len, path);
                        if (r >= 0)
                                snprintf(dst, cap, "%s", data);
                        explicit_bzero(data, len);
                        return r;
                }
                if (r == -EFBIG || r == -E2BIG)
                        return bootstrap_token_check(dst, 0, path);
                if (file) {
                        report_token_file(c, path, r);
                        return -EPERM;
                }
                file_err = r;
        }
        if (isatty(STDIN_FILENO))
                tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty >= 0) {
                if (file_err)
                        report_token_file(c, path, file_err);
                r = ask_tty(tty, "Bootstrap token: ", false, dst, cap, &len);
        } else
                r = read_line(STDIN_FILENO, dst, cap, &len);
        if (r == -ENODATA || r == -EINTR) {
                if (file_err && tty < 0)
                        report_token_file(c, path, file_err);
                return usage_error("no bootstrap token given: on stdin, or with "
                                   "--bootstrap-file FILE");
        }
        if (r == -E2BIG)
                return bootstrap_token_check(dst, 0, tty >= 0 ? "the terminal" : "stdin");
        if (r < 0) {
                fprintf(stderr, "steward: cannot read the bootstrap token: %s\n", strerror(-r));
                return -EIO;
        }
        return bootstrap_token_check(dst, len, tty >= 0 ? "the terminal" : "stdin");
}

/* {"bootstrap_token":"…"}, in one allocation wiped by the caller. */
static int bootstrap_body(const char *token, char **ret, size_t *ret_len) {
        static const char a[] = "{\"bootstrap_token\":\"", e[] = "\"}";
        size_t nt = json_escape(token, NULL), len = strlen(a) + nt + strlen(e);
        char *body = malloc(len + 1);

        if (!body)
                return -ENOMEM;
        memcpy(body, a, strlen(a));
        (void)json_escape(token, body + strlen(a));
        memcpy(body + strlen(a) + nt, e, strlen(e) + 1);
        *ret = body;
        *ret_len = len;
        return 0;
}

static int print_login(struct cli *c, json_t *answer) {
        const char *user = json_string_value(json_object_get(answer, "user"));
        const char *role = json_string_value(json_object_get(answer, "role"));
        json_t *expires = json_object_get(answer, "expires_at");
        char when[64];

        if (c->json)
                return print_json(answer);

        printf("Logged in to %s as ", c->where);
        fputs_sanitized(user ? user : "?", stdout);
        if (role) {
                fputs(" (", stdout);
                fputs_sanitized(role, stdout);
                fputc(')', stdout);
        }
        format_time(expires, "", when);
        if (when[0]) {
                fputs("; the session ends at ", stdout);
                fputs_sanitized(when, stdout);
        }
        fputs(".\n", stdout);
        return 0;
}

int verb_login(struct cli *c, int argc, char **argv) {
        const char *user_opt = NULL, *host_arg = NULL, *env, *token, *bootstrap_file = NULL;
        bool yes = false, interactive, bootstrap = false;
        const struct verb_option opts[] = {
                {"user", 'u', &user_opt, NULL},
                {"yes", 'y', NULL, &yes},
                {"bootstrap", 0, NULL, &bootstrap},
                {"bootstrap-file", 0, &bootstrap_file, NULL},
        };
        _cleanup_close_ int tty = -1;
        _cleanup_free_ char *user = NULL;
        char password[PASSWORD_MAX + 2];
        char *pos[1], *body = NULL;
        size_t npos = 0, body_len = 0;
        json_t *answer = NULL, *expires, *error = NULL;
        int64_t expires_at = 0;
        long status = 0;
        int r;

        r = parse_verb_args(login_synopsis, argc, argv, opts, ELEMENTSOF(opts), pos, 1, &npos);
        if (r < 0)
                return r;
        r = host_operand("login", (int)npos, pos, c, &host_arg);
        if (r < 0)
                return r;
        if (user_opt && !valid_user_name(user_opt))
                return usage_error("invalid user name \"%s\"", user_opt);
        if (bootstrap_file && !bootstrap)
                return usage_error("--bootstrap-file goes with --bootstrap");
        if (bootstrap && user_opt)
                return usage_error("--bootstrap logs in with the bootstrap token, not as a user");
        env = getenv("STEWARD_ACCEPT_NEW");
        if (env && STREQ(env, "1"))
                yes = true;
        /* Anyone on the LAN can answer discovery: a discovered host's new
         * certificate is trusted only when the user checked it. */
        if (c->opts->discovered)
                yes = false;

        c->logging_in = true;
        r = cli_connect(c, host_arg, CONNECT_NO_TOKEN);
        if (r < 0)
                return r;

        tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        interactive = tty >= 0 && isatty(STDIN_FILENO);

        r = http_probe(c->http);
        if (r < 0) {
                cli_report_transport(c);
                return r;
        }
        r = check_certificate(c, yes, tty);
        if (r < 0)
                return r;

        if (bootstrap) {
                r = get_bootstrap_token(c, bootstrap_file, password, BOOTSTRAP_TOKEN_MAX + 2);
                if (r >= 0)
                        r = bootstrap_body(password, &body, &body_len);
        } else {
                r = get_user(c, user_opt, tty, interactive, &user);
                if (r < 0)
                        return r;
                r = get_password(c, user, tty, interactive, password, sizeof password);
                if (r >= 0)
                        r = login_body(user, password, &body, &body_len);
        }
        explicit_bzero(password, sizeof password);
        if (r < 0)
                return r;

        r = cli_request(c, "POST", "/api/v1/login", body, body_len, &answer, &status, &error);
        explicit_bzero(body, body_len);
        free(body);
        if (r == -EREMOTEIO) {
                cli_report_refusal(c, status, error);
                if (bootstrap && status == 401)
                        fprintf(stderr,
                                "steward: the bootstrap token is wrong, or it was used already "
                                "(it logs in once); log in with an account: steward login %s\n",
                                c->where);
                json_decref(error);
        }
        if (r < 0)
                return r;

        token = json_string_value(json_object_get(answer, "token"));
        expires = json_object_get(answer, "expires_at");
        if (json_is_integer(expires) && json_integer_value(expires) > 0)
                expires_at = json_integer_value(expires);
        if (!token || !token_chars_ok(token)) {
                fprintf(stderr, "steward: %s: malformed answer: no usable session token\n",
                        c->where);
                r = -EBADMSG;
        } else
                r = session_save(c->where, token, expires_at);
        wipe_member(answer, "token");
        wipe_member(answer, "csrf_token");
        if (r >= 0)
                r = print_login(c, answer);
        json_decref(answer);
        return r;
}

int verb_logout(struct cli *c, int argc, char **argv) {
        const char *host_arg = NULL;
        json_t *answer = NULL, *error = NULL;
        bool removed = false;
        long status = 0;
        int r;

        r = host_operand("logout", argc, argv, c, &host_arg);
        if (r < 0)
                return r;
        r = cli_connect(c, host_arg, CONNECT_SESSION_ONLY);
        if (r < 0)
                return r;

        if (c->token_source != TOKEN_SESSION) {
                if (c->session_withheld)
                        return -EREMOTEIO;
                if (c->session_expired_at > 0) {
                        r = session_remove(c->where, &removed);
                        if (r < 0)
                                return r;
                        fprintf(stderr, "steward: the session stored for %s had expired; removed\n",
                                c->where);
                        return 0;
                }
                fprintf(stderr, "steward: not logged in to %s\n", c->where);
                return 0;
        }

        r = cli_request(c, "POST", "/api/v1/logout", NULL, 0, &answer, &status, &error);
        if (r == -EREMOTEIO && status == 401) {
                /* The server no longer knows the session: forgetting it is all
                 * that is left to do. */
                if (c->json && error)
                        (void)print_json(error);
                json_decref(error);
                r = session_remove(c->where, &removed);
                if (r < 0)
                        return r;
                fprintf(stderr, "steward: the session for %s had already ended; removed\n",
                        c->where);
                return 0;
        }
        if (r == -EREMOTEIO) {
                cli_report_refusal(c, status, error);
                json_decref(error);
                fprintf(stderr, "steward: the session is still stored\n");
                return r;
        }
        if (r < 0) {
                fprintf(stderr, "steward: the session for %s is still stored\n", c->where);
                return r;
        }

        r = session_remove(c->where, &removed);
        if (r >= 0) {
                if (c->json)
                        r = print_json(answer);
                else
                        printf("Logged out of %s.\n", c->where);
        }
        json_decref(answer);
        return r;
}
