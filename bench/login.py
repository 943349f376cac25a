#!/usr/bin/python3
"""The cost of a password login against the cost of the password hash alone,
side by side in one run.

A scratch copy of /etc in private mount and UTS namespaces (nsroot.py; the
host's accounts are never touched) gets a user `benchlogin` in group sudo
whose password is set by chpasswd, so its hash is what the system makes by
default (yescrypt on Debian 12; the script prints the hash's prefix).  One
stewardd (the build given) runs over that /etc.  Then, ROUNDS rounds of:
  crypt    a verification of the same hash with crypt(3) (libcrypt, the
           library pam_unix calls) in a child process over the scratch /etc;
  tls      POST /api/v1/login on one kept-alive TLS connection;
  unix     POST /api/v1/login on the daemon's unix socket, one connection
           per login, as the CLI makes them;
  unix-ka  the same on one kept-alive unix socket connection;
  fast     a TLS login of a second user whose hash is SHA-512 with 1,000
           rounds (well under a millisecond): what a login costs besides
           the hash;
each login's session is ended (POST /api/v1/logout) outside the timing.
One of each runs in turn, N times a round.  Reported: the mean per
verification and per login for every round, and the ratios login/crypt.
Goal: login <= 1.25 x crypt.

With a BASELINE_BUILD_DIR (a build of the code before), a second daemon
of that build runs over the same /etc and takes its turn in every round.

Measured (2 cores, Debian 12, debugoptimized builds, load average ~4, 20
logins of each kind a round): TLS login 17.3-19.2 ms against crypt(3)
14.8-17.0 ms, 1.13-1.17x (unix socket 1.05-1.11x), a cheap-hash login
1.5-1.8 ms; the code before, in the same rounds: 2.18-2.25x (2.14-2.21x),
3.0-3.5 ms.  pam_unix hashed every password twice (src/helper/cryptmemo.c).

Usage: bench/login.py [BUILD_DIR] [N] [ROUNDS] [BASELINE_BUILD_DIR]
       (root; defaults: build 20 3)
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from nsroot import ns_argv, scratch_etc  # noqa: E402
from benchd import Stewardd  # noqa: E402

USER = "benchlogin"
PASSWORD = "bench-Login-pw-7"
FAST_USER = "benchfast"  # SHA-512 with 1,000 rounds: what a login costs besides the hash

# Runs in the namespace: prints the hash's method, then one crypt(3)
# verification of the user's hash (read from the scratch /etc/shadow) for
# every line it reads, answering the seconds it took.
CRYPT_CHILD = r"""
import ctypes, sys, time
user, pw = sys.argv[1], sys.argv[2].encode()
h = next(l.split(":")[1] for l in open("/etc/shadow") if l.split(":")[0] == user).encode()
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
assert lib.crypt(pw, h) == h, "crypt(3) does not verify the hash"
print(h.decode().split("$")[1], flush=True)
for line in sys.stdin:
    t0 = time.perf_counter()
    ok = lib.crypt(pw, h) == h
    print("%.6f" % (time.perf_counter() - t0), flush=True)
"""

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.path)
        self.sock = s


def in_ns(etc, argv, **kw):
    return subprocess.run(ns_argv(etc, argv), check=True, **kw)


def login(conn, user=USER):
    body = json.dumps({"user": user, "password": PASSWORD})
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/login", body=body,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    t1 = time.perf_counter()
    if r.status != 200:
        sys.exit(f"login: HTTP {r.status}: {data[:200]!r}")
    return t1 - t0, json.loads(data)["token"]


def logout(conn, token):
    conn.request("POST", "/api/v1/logout", body="{}",
                 headers={"Authorization": f"Bearer {token}",
                          "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()


class Target(Stewardd):
    """One stewardd of a build over the scratch /etc, with its connections."""

    def __init__(self, build, work, etc, name):
        self.build, self.name = build, name
        super().__init__(build, work / name, etc)
        self.tls = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                               timeout=60)
        self.kept = UnixHTTPConnection(self.sock)
        self.reopened = 0
        # One login of each kind first (warm caches, the TLS handshake).
        for c in (self.tls, UnixHTTPConnection(self.sock)):
            _, t = login(c)
            logout(c, t)

    def kept_call(self, fn, *args):
        try:
            return fn(self.kept, *args)
        except (OSError, http.client.HTTPException):
            # the daemon closed the idle connection: another one
            self.kept.close()
            self.kept = UnixHTTPConnection(self.sock)
            self.reopened += 1
            return fn(self.kept, *args)

    def once(self, t):
        dt, tok = login(self.tls)
        t["tls"] += dt
        logout(self.tls, tok)
        dt, tok = login(self.tls, FAST_USER)
        t["fast"] += dt
        logout(self.tls, tok)
        c = UnixHTTPConnection(self.sock)
        dt, tok = login(c)
        t["unix"] += dt
        logout(c, tok)
        c.close()
        dt, tok = self.kept_call(login)
        t["ka"] += dt
        self.kept_call(logout, tok)

    def stop(self):
        self.tls.close()
        self.kept.close()
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def build_path(arg):
    p = Path(arg)
    return p if p.is_absolute() else ROOT / p


def main():
    build = build_path(sys.argv[1] if len(sys.argv) > 1 else "build")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    baseline = build_path(sys.argv[4]) if len(sys.argv) > 4 else None
    if os.geteuid() != 0:
        sys.exit("bench/login.py: run as root (a scratch /etc in a mount namespace)")
    work = Path(tempfile.mkdtemp(prefix="steward-login-bench."))
    targets, child = [], None
    try:
        os.chmod(work, 0o755)
        etc = scratch_etc(work)
        in_ns(etc, ["/usr/sbin/useradd", "-M", "-G", "sudo", "-s", "/bin/false", USER])
        in_ns(etc, ["/usr/sbin/chpasswd"], input=f"{USER}:{PASSWORD}\n".encode())
        in_ns(etc, ["/usr/sbin/useradd", "-M", "-G", "sudo", "-s", "/bin/false", FAST_USER])
        in_ns(etc, ["/usr/sbin/chpasswd", "-c", "SHA512", "-s", "1000"],
              input=f"{FAST_USER}:{PASSWORD}\n".encode())
        targets.append(Target(build, work, etc, "build"))
        if baseline:
            targets.append(Target(baseline, work, etc, "baseline"))
        child = subprocess.Popen(ns_argv(etc, ["/usr/bin/python3", "-c", CRYPT_CHILD, USER,
                                               PASSWORD]),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        scheme = child.stdout.readline().strip()

        def crypt_once():
            child.stdin.write("\n")
            child.stdin.flush()
            return float(child.stdout.readline())

        print(f"== password login vs crypt(3) of the same hash, {n} each, {rounds} rounds ==")
        for tg in targets:
            print(f"   {tg.name}: {tg.build}")
        print(f"{'round':>5} {'daemon':>8} {'crypt/ms':>9} {'tls/ms':>8} {'unix/ms':>8} "
              f"{'unix-ka/ms':>10} {'tls/crypt':>9} {'unix/crypt':>10} {'ka/crypt':>9} "
              f"{'fast/ms':>8}")
        for k in range(rounds):
            crypt = 0.0
            t = [{"tls": 0.0, "unix": 0.0, "ka": 0.0, "fast": 0.0} for _ in targets]
            for _ in range(n):
                # One of each in turn, so that the load falls on all alike.
                crypt += crypt_once()
                for tg, tt in zip(targets, t):
                    tg.once(tt)
            c = crypt / n * 1000
            for tg, tt in zip(targets, t):
                m = {key: v / n * 1000 for key, v in tt.items()}
                print(f"{k + 1:>5} {tg.name:>8} {c:>9.1f} {m['tls']:>8.1f} {m['unix']:>8.1f} "
                      f"{m['ka']:>10.1f} {m['tls'] / c:>8.2f}x {m['unix'] / c:>9.2f}x "
                      f"{m['ka'] / c:>8.2f}x {m['fast']:>8.1f}")
        for tg in targets:
            if tg.reopened:
                print(f"({tg.name}: the kept unix connection was closed by the daemon "
                      f"{tg.reopened} times)")
        print(f"(hash scheme ${scheme}$: y = yescrypt)")
    finally:
        if child:
            child.stdin.close()
            child.wait(timeout=60)
        for tg in targets:
            tg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
