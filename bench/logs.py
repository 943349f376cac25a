#!/usr/bin/python3
"""The logs module side by side with journalctl, in one run, in the booted
systemd container of the tests (tests/integration/systemd_ct.py):

1. The last 1,000 lines of a unit: `steward --json logs UNIT -n 1000` (the
   CLI on the host, over TLS to the daemon inside: process start, handshake,
   request, printing) against `journalctl -u UNIT -n 1000 -o json` inside
   the container (its own wall time), ROUNDS times each, interleaved; the
   ratio of the medians.
2. Follow latency: a client on the host holds GET /api/v1/events?types=logs
   for one identifier while SAMPLES lines are written with systemd-cat
   inside, one every 50 ms; the latency of a line is the time the client
   read it minus its journal timestamp (when journald received it; the
   container shares the host's clock).  p50, p99 and the worst.

Usage (as root): bench/logs.py BUILD_DIR [ROUNDS] [SAMPLES]
BUILD_DIR should be a release build (make build-release); the sanitizer
build measures the sanitizers.
"""
import json
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else "build-release").resolve()
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
SAMPLES = int(sys.argv[3]) if len(sys.argv) > 3 else 200
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import systemd_ct as sct  # noqa: E402

UNIT = "steward-bench-logs.service"
LINES = 5000


def journalctl_ms(ct, argv):
    """journalctl's own wall time inside the container (the shell's clock
    around it, so entering the container is not counted)."""
    p = ct.run("sh", "-c", 's=$(date +%s%N); "$@" > /tmp/bench.out; e=$(date +%s%N); '
               'echo $(( (e - s) / 1000 )) $(wc -l < /tmp/bench.out)', "sh", *argv)
    usec, lines = p.stdout.split()
    assert int(lines) == 1000, lines
    return int(usec) / 1e6


def steward_s(ct, argv):
    """The CLI on the host, as a user runs it: process start, TLS, the
    request, printing."""
    t = time.perf_counter()
    p = ct.cli(*argv, role="operator", check=0)
    t = time.perf_counter() - t
    assert len(json.loads(p.stdout)["entries"]) == 1000
    return t


def last_thousand(ct):
    ct.run("systemd-run", "--unit", UNIT, "--wait", "-q", "sh", "-c",
           f"i=0; while [ $i -lt {LINES} ]; do i=$((i+1)); echo \"bench line $i with some text\"; done")
    steward = ["--json", "logs", UNIT, "-n", "1000"]
    journalctl = ["journalctl", "-u", UNIT, "-n", "1000", "-o", "json"]
    ours, theirs, api, cli_floor = [], [], [], []
    conn = ct.connection()
    path = "/api/v1/logs?" + urllib.parse.urlencode({"unit": UNIT, "limit": 1000})
    for _ in range(ROUNDS):
        ours.append(steward_s(ct, steward))
        theirs.append(journalctl_ms(ct, journalctl))
        t = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "Bearer " + ct.token("operator")})
        r = conn.getresponse()
        assert len(json.loads(r.read())["entries"]) == 1000
        api.append(time.perf_counter() - t)
        t = time.perf_counter()
        ct.cli("--json", "list", role="operator", check=0)
        cli_floor.append(time.perf_counter() - t)
    conn.close()
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"last 1000 lines of {UNIT} ({ROUNDS} rounds, medians):")
    print(f"  steward --json logs UNIT -n 1000 (host, TLS)    {a * 1000:8.1f} ms")
    print(f"  journalctl -u UNIT -n 1000 -o json (inside)     {b * 1000:8.1f} ms")
    print(f"  ratio                                           {a / b:8.2f}x  (goal <= 1.0)")
    print(f"  of which: the API answer alone (kept-alive TLS) {statistics.median(api) * 1000:8.1f} ms"
          f"  ({statistics.median(api) / b:.2f}x journalctl)")
    print(f"  and the CLI's floor (steward --json list)       {statistics.median(cli_floor) * 1000:8.1f} ms")


def follow_latency(ct):
    ident = "steward-bench-follow"
    conn = ct.connection(timeout=30)
    conn.request("GET", "/api/v1/events?" + urllib.parse.urlencode({"types": "logs", "identifier": ident}),
                 headers={"Authorization": "Bearer " + ct.token("operator")})
    r = conn.getresponse()
    assert r.status == 200, r.status
    r.readline()
    time.sleep(0.5)
    writer = threading.Thread(target=ct.run, args=(
        "sh", "-c", f"i=0; while [ $i -lt {SAMPLES} ]; do i=$((i+1)); echo \"lat $i\" | systemd-cat -t {ident}; "
                    "sleep 0.05; done"))
    writer.start()
    lat, ev = [], None
    while len(lat) < SAMPLES:
        line = r.readline().decode().rstrip("\n")
        now = time.time()
        if line.startswith("event: "):
            ev = line[7:]
        elif line.startswith("data: ") and ev == "logs":
            for e in json.loads(line[6:])["entries"]:
                lat.append(now - e["realtime_usec"] / 1e6)
    writer.join()
    conn.close()
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    print(f"follow latency, systemd-cat to the client ({len(lat)} lines, one every 50 ms):")
    print(f"  p50 {q[49] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms   max {lat[-1] * 1000:6.1f} ms"
          "  (goal: p99 < 100 ms)")


def main():
    reason = sct.unavailable()
    if reason:
        sys.exit(f"bench/logs.py: {reason}")
    root = sct.build_root(sct.PACKAGES)
    ct = sct.SystemdCt(root, build=BUILD)
    ct.start()
    try:
        print(f"build: {BUILD}")
        last_thousand(ct)
        follow_latency(ct)
    finally:
        ct.stop(check=False)


if __name__ == "__main__":
    main()
