#!/usr/bin/python3
"""Listing 10,000 local users through the API against `getent passwd | wc -l`,
in one run, in a private mount namespace over a scratch copy of /etc (the
host's accounts are never touched).

Both sides run the same way: a fresh process per listing, started through
`nsenter` into the daemon's mount namespace (so both pay the same wrapper),
timed end to end with time.perf_counter, N times each, interleaved.  The API
side is `curl` over TLS with a bearer token, GET /api/v1/users?type=all&limit=20000
(every user with groups, password state and SSH key count, JSON encoded, through
the helper and the front), and over the unix socket; and, for scale, one small
request (GET /api/v1/whoami over TLS) started the same way.  Reported: median and p90
per listing and the ratio API / getent.  Numbers are only comparable within one
run.  The goal (within 2x of getent) is judged on these: a fresh process per
listing on both sides, start-up and TLS handshake included.

Also reported, to tell the server's share from the client's start-up: the same
listing from a client already running and connected (keep-alive, over TLS and
over the unix socket; the request and reading the whole answer are timed), and,
as the matching anchor, enumerating the accounts through NSS in a process
already running (Python's pwd.getpwall(), in the daemon's mount namespace).

Usage: bench/users.py [BUILD_DIR] [USERS] [N]
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from nsroot import ns_argv, scratch_etc  # noqa: E402

BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
N = int(sys.argv[3]) if len(sys.argv) > 3 else 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_users(etc, n):
    """n regular users written straight into the scratch files (useradd
    would take minutes): each with its own group, a password hash and a home
    that does not exist."""
    pw, sh, gr, gs = [], [], [], []
    for i in range(n):
        name, uid = f"u{i:05d}", 10000 + i
        pw.append(f"{name}:x:{uid}:{uid}:User {i}:/home/{name}:/bin/bash\n")
        sh.append(f"{name}:$y$j9T$abcdefghijklmnop$0123456789abcdef0123456789abcdef0123456789a:19700:0:99999:7:::\n")
        gr.append(f"{name}:x:{uid}:\n")
        gs.append(f"{name}:!::\n")
    for f, lines in (("passwd", pw), ("shadow", sh), ("group", gr), ("gshadow", gs)):
        with open(etc / f, "a") as fh:
            fh.writelines(lines)
    login_defs = (etc / "login.defs").read_text().replace("UID_MAX\t\t\t60000", "UID_MAX\t\t\t60000")
    (etc / "login.defs").write_text(login_defs)


def timed(argv):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{argv} failed: {p.stderr.decode()[-500:]}")
    return dt, p.stdout


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def timed_keepalive(conn, path, headers, n):
    """n requests on one open connection: the time of each request and of
    reading its whole answer."""
    out = []
    for i in range(n + 1):
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t
        if r.status != 200:
            raise SystemExit(f"{path}: {r.status} {body[:200]!r}")
        if i:  # the first one also opens the connection
            out.append(dt)
    return out, body


# Enumerates passwd through NSS n times in one process; prints each time.
GETPWALL = ("import pwd, sys, time\n"
            "for _ in range(int(sys.argv[1]) + 1):\n"
            "    t = time.perf_counter(); n = len(pwd.getpwall())\n"
            "    print(time.perf_counter() - t, n)\n")


def main():
    w = Path(tempfile.mkdtemp(prefix="steward-users-bench-"))
    os.chmod(w, 0o755)
    proc = None
    try:
        etc = scratch_etc(w)
        add_users(etc, USERS)
        port, sock = free_port(), str(w / "s.sock")
        (w / "stewardd.conf").write_text('log_level = "warning"\n')
        argv = [str(BUILD / "stewardd"), "--foreground", "--listen", f"127.0.0.1:{port}", "--udp", "off",
                "--socket", sock, "--state-dir", str(w / "state"), "--tls-dir", str(w / "tls"),
                "--config", str(w / "stewardd.conf")]
        log = open(w / "stewardd.log", "wb")
        proc = subprocess.Popen(ns_argv(etc, argv), stdout=log, stderr=subprocess.STDOUT)
        for _ in range(500):
            if os.path.exists(sock) and (w / "tls" / "cert.pem").exists():
                break
            time.sleep(0.02)
        time.sleep(0.3)
        cert = str(w / "tls" / "cert.pem")
        boot = (w / "state" / "bootstrap-token").read_text().strip()
        out = subprocess.run(["curl", "-sf", "--cacert", cert, "-H", "Content-Type: application/json",
                              "-d", json.dumps({"bootstrap_token": boot}),
                              f"https://127.0.0.1:{port}/api/v1/login"], capture_output=True, check=True)
        token = json.loads(out.stdout)["token"]
        ns = ["nsenter", "-t", str(proc.pid), "-m", "--"]
        url = f"https://127.0.0.1:{port}/api/v1/users?type=all&limit=20000"
        getent = ns + ["sh", "-c", "getent passwd | wc -l"]
        api_tls = ns + ["curl", "-sf", "--cacert", cert, "-H", f"Authorization: Bearer {token}", url]
        api_unix = ns + ["curl", "-sf", "--unix-socket", sock,
                         "http://localhost/api/v1/users?type=all&limit=20000"]
        # The fixed cost of one request the same way (process start, TLS,
        # session check), to tell it from the cost of the list.
        whoami = ns + ["curl", "-sf", "--cacert", cert, "-H", f"Authorization: Bearer {token}",
                       f"https://127.0.0.1:{port}/api/v1/whoami"]
        # Sanity: the same number of users on both sides.
        _, count = timed(getent)
        _, body = timed(api_tls)
        n_getent, n_api = int(count.decode().strip()), len(json.loads(body)["users"])
        assert n_getent == n_api, (n_getent, n_api)
        times = {"getent": [], "api_tls": [], "api_unix": [], "whoami": []}
        for _ in range(N):
            for k, a in (("getent", getent), ("api_tls", api_tls), ("api_unix", api_unix),
                         ("whoami", whoami)):
                times[k].append(timed(a)[0])
        # Clients already running and connected, and NSS in a running process.
        path = "/api/v1/users?type=all&limit=20000"
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        tls = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
        times["ka_tls"], body = timed_keepalive(tls, path, {"Authorization": f"Bearer {token}"}, N)
        assert len(json.loads(body)["users"]) == n_api
        tls.close()
        unix = UnixHTTPConnection(sock)
        times["ka_unix"], body = timed_keepalive(unix, path, {}, N)
        assert len(json.loads(body)["users"]) == n_api
        unix.close()
        out = subprocess.run(ns + ["/usr/bin/python3", "-c", GETPWALL, str(N)],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        rows = [l.split() for l in out if l.strip()][1:]  # the first one loads the modules
        assert all(int(c) == n_getent for _, c in rows)
        times["getpwall"] = [float(t) for t, _ in rows]
        med = {k: statistics.median(v) for k, v in times.items()}
        p90 = {k: sorted(v)[int(len(v) * 0.9) - 1] for k, v in times.items()}
        print(f"users listed: {n_api} (getent passwd: {n_getent}); {N} runs each, one process per listing")
        print(f"{'':28s}{'median ms':>10s}{'p90 ms':>10s}")
        for k, label in (("getent", "getent passwd | wc -l"), ("api_tls", "API over TLS (curl)"),
                         ("api_unix", "API over the unix socket"),
                         ("whoami", "one small request over TLS")):
            print(f"{label:28s}{med[k] * 1000:10.1f}{p90[k] * 1000:10.1f}")
        print(f"ratio API/getent: TLS {med['api_tls'] / med['getent']:.2f}x, "
              f"unix socket {med['api_unix'] / med['getent']:.2f}x (goal: within 2x)")
        print("clients already running and connected (keep-alive), and NSS in a running process:")
        for k, label in (("getpwall", "pwd.getpwall() in-process"),
                         ("ka_tls", "API over TLS (keep-alive)"),
                         ("ka_unix", "API over the unix socket"),):
            print(f"{label:28s}{med[k] * 1000:10.1f}{p90[k] * 1000:10.1f}")
        print(f"ratio API/getpwall (in-process): TLS {med['ka_tls'] / med['getpwall']:.2f}x, "
              f"unix socket {med['ka_unix'] / med['getpwall']:.2f}x")
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    main()
