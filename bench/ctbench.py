"""Helpers for the benchmarks that bench/run-container.py runs against the
booted systemd container (tests/integration/systemd_ct.py): timing a fresh
process per run, both sides interleaved, and printing medians, p90 and the
ratio of two sides measured in the same run.

    def main(ct, argv):                       # a bench script's entry point
        res = interleaved({"steward": ct.steward("--json", "list"),           # on the host, over TLS
                           "systemctl": ct.inside("systemctl", "list-units")}, n=30)
        res = inside_interleaved(ct, {"steward": [ct.steward_inside, "--json", "list"],  # unix socket
                                      "systemctl": ["systemctl", "list-units"]})
        report(res, ratio=("steward", "systemctl"), goal=1.0)

Numbers are only comparable within one run: this machine is shared.
"""
import statistics
import subprocess
import time


def timed(argv, env=None, check=True):
    """Seconds one run of argv takes, start-up included (output discarded)."""
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    return dt


def interleaved(sides, n=20, warmup=2, env=None):
    """{name: argv} timed n times each, one of each in turn (after warmup
    untimed runs each), so drift on the machine hits every side alike;
    returns {name: [seconds…]}."""
    for _ in range(warmup):
        for argv in sides.values():
            timed(argv, env)
    out = {name: [] for name in sides}
    for _ in range(n):
        for name, argv in sides.items():
            out[name].append(timed(argv, env))
    return out


INSIDE_LOOP = ('n=$1; shift; i=0; while [ "$i" -lt "$n" ]; do a=$(date +%s%N); '
               '"$@" >/dev/null 2>&1 || exit 1; b=$(date +%s%N); echo $((b - a)); i=$((i + 1)); done')


def inside_interleaved(ct, sides, n=20, warmup=2):
    """{name: argv} run inside the container and timed there (date +%s%N
    around each run, in a shell loop), so entering the container is not
    counted; one of each in turn; returns {name: [seconds…]}."""
    out = {name: [] for name in sides}
    for i in range(warmup + n):
        for name, argv in sides.items():
            p = ct.run("/bin/sh", "-c", INSIDE_LOOP, "sh", "1", *argv, check=False)
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} failed inside the container: {p.stderr[-2000:]}")
            if i >= warmup:
                out[name].append(int(p.stdout.split()[0]) / 1e9)
    return out


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def report(results, ratio=None, goal=None, label=None):
    """One line a side (median, p90, n) and, for ratio=(a, b), the ratio of
    the medians with the goal it is judged against."""
    for name, xs in results.items():
        print(f"  {name:<40} median {statistics.median(xs) * 1000:8.2f} ms   p90 {p90(xs) * 1000:8.2f} ms   n={len(xs)}")
    if ratio:
        a, b = ratio
        r = statistics.median(results[a]) / statistics.median(results[b])
        verdict = "" if goal is None else ("  (goal <= %.2fx: %s)" % (goal, "met" if r <= goal else "NOT met"))
        print(f"  ratio {label or f'{a} / {b}'}: {r:.2f}x{verdict}")
        return r
    return None
