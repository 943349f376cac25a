#!/usr/bin/python3
"""What a collection read costs in the front (front_reads, module.h) against
one that crosses into the privileged helper, in one run against one daemon:
sequential GETs on one keep-alive TLS connection, the request and reading
the whole answer timed, N each, interleaved by rounds.

  GET /api/v1/whoami                  the anchor: a request the front answers alone
  GET /api/v1/timezones/Europe:Paris  a show of a front_reads collection
  GET /api/v1/users/root              a show through the helper (its forked worker)

Reported: median and p90 per request and the ratio to whoami.  Numbers are
only comparable within one run (an ASan build is slower throughout).

Usage: bench/front_reads.py [BUILD_DIR] [N]
"""
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300
os.environ["STEWARD_BUILD"] = str(BUILD)
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from conftest import Daemon  # noqa: E402

PATHS = ["/api/v1/whoami", "/api/v1/timezones/Europe:Paris", "/api/v1/users/root"]


def main():
    base = Path(tempfile.mkdtemp(prefix="steward-bench-"))
    os.chmod(base, 0o755)
    d = Daemon(base / "d").start()
    try:
        conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=30)
        headers = {"Authorization": f"Bearer {d.token}"}
        times = {p: [] for p in PATHS}
        for i in range(N + 20):
            for p in PATHS:
                t = time.perf_counter()
                conn.request("GET", p, headers=headers)
                r = conn.getresponse()
                r.read()
                dt = time.perf_counter() - t
                assert r.status == 200, (p, r.status)
                if i >= 20:  # warmed up
                    times[p].append(dt)
        conn.close()
    finally:
        d.stop()
        shutil.rmtree(base, ignore_errors=True)
    anchor = statistics.median(times[PATHS[0]])
    for p in PATHS:
        v = sorted(times[p])
        med, p90 = statistics.median(v), v[int(len(v) * 0.9)]
        print(f"{p:36s} median {med * 1000:7.2f} ms  p90 {p90 * 1000:7.2f} ms  "
              f"{med / anchor:5.1f}x whoami")


if __name__ == "__main__":
    main()
