#!/usr/bin/python3
"""The cost of a password login against the cost of the password hash alone,
side by side in one run.

A scratch copy of /etc in private mount and UTS namespaces (nsroot.py; the
host's accounts are never touched) gets a user `benchlogin` in group sudo
whose password is set by chpasswd, so its hash is what the system makes by
default (yescrypt on Debian 12; the script prints the hash's prefix).  One
stewardd (the build given) runs over that /etc.  Then, ROUNDS times
interleaved so that the machine's load falls on every side alike:
  crypt    N verifications of the same hash with crypt(3) (libcrypt, the
           library pam_unix calls), in a child process over the scratch
           /etc, one after the other;
  tls      N POST /api/v1/login on one kept-alive TLS connection;
  unix     N POST /api/v1/login on the daemon's unix socket (one connection
           per login, as the CLI makes them);
each login's session is ended (POST /api/v1/logout) outside the timing.
Reported: the mean per verification and per login for every round, and
the ratios login/crypt.  Goal: login <= 1.25 x crypt.

Usage: bench/login.py [BUILD_DIR] [N] [ROUNDS]   (root; defaults: build 20 3)
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from nsroot import ns_argv, scratch_etc  # noqa: E402

USER = "benchlogin"
PASSWORD = "bench-Login-pw-7"

# Runs in the namespace: N crypt(3) verifications of the user's hash, read
# from the scratch /etc/shadow; prints the mean in ms and the hash's prefix.
CRYPT_CHILD = r"""
import ctypes, sys, time
n, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
h = next(l.split(":")[1] for l in open("/etc/shadow") if l.split(":")[0] == user)
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
assert lib.crypt(pw, h.encode()).decode() == h, "crypt(3) does not verify the hash"
t0 = time.perf_counter()
for _ in range(n):
    ok = lib.crypt(pw, h.encode()).decode() == h
t1 = time.perf_counter()
print("%.3f %s" % ((t1 - t0) / n * 1000, h.split("$")[1]))
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def in_ns(etc, argv, **kw):
    return subprocess.run(ns_argv(etc, argv), check=True, **kw)


def login(conn):
    body = json.dumps({"user": USER, "password": PASSWORD})
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


def main():
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
    build = build if build.is_absolute() else ROOT / build
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if os.geteuid() != 0:
        sys.exit("bench/login.py: run as root (a scratch /etc in a mount namespace)")
    work = Path(tempfile.mkdtemp(prefix="steward-login-bench."))
    proc = log = None
    try:
        os.chmod(work, 0o755)
        etc = scratch_etc(work)
        in_ns(etc, ["/usr/sbin/useradd", "-M", "-G", "sudo", "-s", "/bin/false", USER])
        in_ns(etc, ["/usr/sbin/chpasswd"], input=f"{USER}:{PASSWORD}\n".encode())
        d = work / "d"
        d.mkdir()
        os.chmod(d, 0o755)
        port, sock = free_port(), str(d / "s.sock")
        (d / "stewardd.conf").write_text('log_level = "warning"\n')
        argv = [str(build / "stewardd"), "--foreground", "--listen", f"127.0.0.1:{port}",
                "--udp", "off", "--socket", sock, "--state-dir", str(d / "state"),
                "--tls-dir", str(d / "tls"), "--config", str(d / "stewardd.conf")]
        log = open(d / "stewardd.log", "wb")
        proc = subprocess.Popen(ns_argv(etc, argv), stdout=log, stderr=subprocess.STDOUT)
        for _ in range(1000):
            if os.path.exists(sock) and (d / "tls" / "cert.pem").exists():
                break
            time.sleep(0.02)
        time.sleep(0.3)
        ctx = ssl.create_default_context(cafile=str(d / "tls" / "cert.pem"))
        ctx.check_hostname = False
        tls = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
        # One login of each kind first (warm caches, the TLS handshake).
        for c in (tls, UnixHTTPConnection(sock)):
            _, t = login(c)
            logout(c, t)

        print(f"== password login vs crypt(3) of the same hash, {n} each, {rounds} rounds "
              f"(build {build.name}) ==")
        print(f"{'round':>5} {'crypt/ms':>9} {'tls/ms':>8} {'unix/ms':>8} "
              f"{'tls/crypt':>9} {'unix/crypt':>10}")
        for k in range(rounds):
            out = in_ns(etc, ["/usr/bin/python3", "-c", CRYPT_CHILD, str(n), USER, PASSWORD],
                        capture_output=True, text=True).stdout.split()
            t_crypt, scheme = float(out[0]), out[1]
            t_tls = t_unix = 0.0
            for _ in range(n):
                dt, tok = login(tls)
                t_tls += dt
                logout(tls, tok)
            for _ in range(n):
                c = UnixHTTPConnection(sock)
                dt, tok = login(c)
                t_unix += dt
                logout(c, tok)
                c.close()
            t_tls, t_unix = t_tls / n * 1000, t_unix / n * 1000
            print(f"{k + 1:>5} {t_crypt:>9.1f} {t_tls:>8.1f} {t_unix:>8.1f} "
                  f"{t_tls / t_crypt:>8.2f}x {t_unix / t_crypt:>9.2f}x")
        print(f"(hash scheme ${scheme}$: y = yescrypt)")
        tls.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=60)
        if log:
            log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
