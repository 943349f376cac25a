#!/usr/bin/python3
"""bench/fanout_local.py — the fan-out CLI against N loopback daemons on this
machine: `steward -H a,b,… status system` once, against N sequential
`steward -H x status system` runs, in the same run (ratio), and the peak
memory of the CLI reaching 1,000 hosts that refuse the connection.

    STEWARD_BUILD=build-rel bench/fanout_local.py [N] [ROUNDS]

Each daemon is a real stewardd on 127.0.0.1 with its own state and TLS
directories (tests/integration/conftest.py's Daemon); the client has a
stored admin session and a pinned certificate for each, as `steward login`
leaves them.  Everything started is stopped and removed at the end.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("STEWARD_BUILD", str(ROOT / "build-rel"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from conftest import STEWARD, Daemon  # noqa: E402


def run(args, env):
    t = time.monotonic()
    p = subprocess.run([str(STEWARD), *args], capture_output=True, text=True, env=env)
    return time.monotonic() - t, p


def peak_rss_kib(args, env):
    p = subprocess.run(["/usr/bin/time", "-f", "%M", str(STEWARD), *args], capture_output=True,
                       text=True, env=env)
    return int(p.stderr.strip().splitlines()[-1])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    base = Path(tempfile.mkdtemp(prefix="steward-bench-fanout-"))
    os.chmod(base, 0o755)
    daemons = []
    try:
        for i in range(n):
            daemons.append(Daemon(base / f"d{i}").start())
        home = base / "home"
        conf = home / ".config" / "steward"
        conf.mkdir(parents=True, mode=0o700)
        (conf / "known_hosts").write_text(
            "".join(f"127.0.0.1:{d.port} {d.fingerprint}\n" for d in daemons))
        (conf / "sessions").write_text(
            "".join(f"127.0.0.1:{d.port} {d.token} 0\n" for d in daemons))
        for f in ("known_hosts", "sessions"):
            os.chmod(conf / f, 0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        env["HOME"] = str(home)
        hosts = ",".join(f"127.0.0.1:{d.port}" for d in daemons)
        rss = [subprocess.run(["ps", "-o", "rss=", "-p", str(d.proc.pid)], capture_output=True,
                              text=True).stdout.strip() for d in daemons[:1]]
        print(f"{n} daemons (release build), first daemon's main process RSS {rss[0]} KiB")
        for r in range(rounds):
            t_fan, p = run(["-H", hosts, "status", "system"], env)
            assert p.returncode == 0, p.stderr[-2000:]
            t_16, p = run(["--parallel", "16", "-H", hosts, "status", "system"], env)
            assert p.returncode == 0, p.stderr[-2000:]
            t_seq = 0.0
            for d in daemons:
                t, q = run(["-H", f"127.0.0.1:{d.port}", "status", "system"], env)
                assert q.returncode == 0, q.stderr
                t_seq += t
            print(f"round {r + 1}: fan-out {t_fan:.3f} s (--parallel 16: {t_16:.3f} s), "
                  f"{n} sequential runs {t_seq:.3f} s, ratio {t_seq / t_fan:.1f}x "
                  f"({t_seq / t_16:.1f}x), per host {t_fan / n * 1000:.2f} ms "
                  f"({t_16 / n * 1000:.2f} ms)")
        closed = ",".join(f"127.0.0.1:{20000 + i}" for i in range(1000))
        for r in range(rounds):
            t, p = run(["-H", closed, "status", "system"], env)
            kib = peak_rss_kib(["-H", closed, "status", "system"], env)
            print(f"1000 refusing hosts: {t:.3f} s, peak RSS of the CLI {kib} KiB, exit "
                  f"{p.returncode}")
        one = peak_rss_kib(["-H", f"127.0.0.1:{daemons[0].port}", "status", "system"], env)
        many = peak_rss_kib(["-H", hosts, "status", "system"], env)
        print(f"peak RSS: one host {one} KiB, {n} hosts {many} KiB")
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
