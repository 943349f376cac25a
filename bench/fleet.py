#!/usr/bin/python3
"""The fleet benchmark (bench/fleet.sh runs it): N real stewardd daemons,
each in its own network namespace on one bridge (tests/integration/
fleet_ns.py, release build), and the question "what is the state of all of
them right now?" asked two ways in the same run:

  steward   `steward -H @bN --json status system` (the CLI's fan-out: one
            process, one event loop), or, with a CLI that does not fan out
            yet, a stand-in: one `steward -H ADDR --json status system`
            process per host, --parallel at a time (reported as "loop");
  ansible   `ansible all -f FORKS -m uri` ad hoc against the same daemons,
            GET /api/v1/modules/system with each host's own API token
            (host vars of a generated inventory), certificates verified
            against the fleet's test CA (ca_path).

For each size N in --sizes (the first N members), steward runs once
untimed (neighbour tables, page cache), then each tool --runs times (the
fan-out with its default --parallel and with --cli-parallel, 4 by default:
on one machine every daemon shares its two cores, and more requests in
flight than cores only makes them compete); the median
wall time is reported, with the per-host cost (median / N) and the slope
of the medians over the sizes (least squares: the marginal cost of one more
host, which extrapolates to 1,000 hosts).  Every run's answers are checked:
every host answered with its host name, or the run does not count.

The daemons' CPU per host: the CPU time every process of every daemon used
during a fan-out run (utime + stime, with the children they reaped, at the
kernel's clock-tick resolution) divided by N; median over the runs.

Memory per daemon: Pss of every process of the daemon (the helper, its
root process; the front, its non-root child; the others, such as the
audit forwarder), from /proc/PID/smaps_rollup, after login, mean and max
over the members.  Pss shares the pages the daemons have in
common (the binary, the libraries) among them.

Load on this machine is shared by both tools in the same run: compare the
ratio, not the absolute numbers, across machines.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from ansible_run import ansible_env as test_ansible_env  # noqa: E402
from fleet_ns import Fleet  # noqa: E402


def pss_kb(pid):
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise RuntimeError(f"no Pss for {pid}")


def descendants(pid):
    out = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        out += descendants(int(child))
    return out


def daemon_memory(fleet):
    """[(helper, front, the rest), Pss in KiB] per member: the rest is every
    other process of the daemon (the audit forwarder, a slow read's worker)."""
    out = []
    for m in fleet.members:
        d = m.daemon
        front = d.front_pid()
        rest = [p for p in descendants(d.proc.pid) if p not in (d.proc.pid, front)]
        out.append((pss_kb(d.proc.pid), pss_kb(front), sum(pss_kb(p) for p in rest)))
    return out


def daemons_cpu(fleet):
    """CPU seconds used so far by every process of every daemon (and the
    children they waited for)."""
    total = 0
    for m in fleet.members:
        for pid in descendants(m.daemon.proc.pid):
            try:
                f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(x) for x in f[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def write_groups(fleet, sizes):
    hosts = fleet.home / ".config" / "steward" / "hosts"
    text = hosts.read_text()
    for n in sizes:
        text += f"b{n}: " + " ".join(m.addr for m in fleet.members[:n]) + "\n"
    hosts.write_text(text)


def check_fanout(out, members):
    """The fan-out's --json answer names every member, each exit 0 with its
    host name; returns how many did."""
    doc = json.loads(out)
    hosts = doc["hosts"]
    ok = sum(1 for h in hosts if h.get("exit") == 0 and "hostname" in json.dumps(h.get("result")))
    if ok != len(members):
        bad = [h for h in hosts if h.get("exit") != 0][:3]
        raise RuntimeError(f"{ok}/{len(members)} hosts answered: {bad}")
    return ok


CPU = {}  # --parallel (None: the default) -> [daemons' CPU seconds per host of each run]


def run_steward(fleet, n, parallel, fanout, cli_parallel=None):
    members = fleet.members[:n]
    c0 = daemons_cpu(fleet)
    t0 = time.monotonic()
    if fanout:
        opt = ["--parallel", str(cli_parallel)] if cli_parallel else []
        p = fleet.cli("-H", f"@b{n}", *opt, "--json", "status", "system", timeout=600)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError(f"steward exited {p.returncode}: {p.stderr[-2000:]}")
        check_fanout(p.stdout, members)
        CPU.setdefault(cli_parallel, []).append((daemons_cpu(fleet) - c0) / n)
        return wall

    def one(m):
        return fleet.cli("-H", m.addr, "--json", "status", "system", timeout=120)
    with ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(one, members))
    wall = time.monotonic() - t0
    bad = [r for r in results if r.returncode != 0 or "hostname" not in r.stdout]
    if bad:
        raise RuntimeError(f"{len(bad)} hosts failed: {bad[0].stderr[-1000:]}")
    return wall


def write_inventories(fleet, sizes, tokens, work):
    for n in sizes:
        lines = ["[fleet]"]
        for m in fleet.members[:n]:
            lines.append(f"{m.name} steward_address={m.ip} steward_token={tokens[m]}")
        (work / f"inventory-{n}.ini").write_text("\n".join(lines) + "\n")
    (work / "ansible.cfg").write_text("[defaults]\nhost_key_checking = False\n"
                                      "interpreter_python = /usr/bin/python3\n")


def ansible_env(work):
    """The tests' environment (everything of Ansible's under work), with
    one line per host in the output."""
    env = test_ansible_env(work)
    env.update({"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "oneline"})
    return env


def run_ansible(fleet, n, forks, work):
    args = json.dumps({
        "url": "https://{{ steward_address }}:660/api/v1/modules/system",
        "headers": {"Authorization": "Bearer {{ steward_token }}"},
        "ca_path": str(fleet.ca_cert), "validate_certs": True, "return_content": True,
    })
    t0 = time.monotonic()
    p = subprocess.run(["ansible", "all", "-i", str(work / f"inventory-{n}.ini"), "-c", "local",
                        "-f", str(forks), "-m", "uri", "-a", args],
                       cwd=work, env=ansible_env(work), capture_output=True, text=True,
                       timeout=3600)
    wall = time.monotonic() - t0
    ok = sum(1 for line in p.stdout.splitlines() if "| SUCCESS" in line and "hostname" in line)
    if p.returncode != 0 or ok != n:
        raise RuntimeError(f"ansible: {ok}/{n} hosts answered (exit {p.returncode}):\n"
                           f"{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return wall


def slope(points):
    """Least-squares slope of [(n, seconds)], seconds per host."""
    if len(points) < 2:
        return None
    mx = statistics.mean(n for n, _ in points)
    my = statistics.mean(s for _, s in points)
    den = sum((n - mx) ** 2 for n, _ in points)
    return sum((n - mx) * (s - my) for n, s in points) / den if den else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build-rel"))
    ap.add_argument("--sizes", default="50,100,200")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ansible-runs", type=int, default=None, help="default: --runs")
    ap.add_argument("--forks", type=int, default=50)
    ap.add_argument("--parallel", type=int, default=50, help="the stand-in loop's processes")
    ap.add_argument("--no-ansible", action="store_true")
    ap.add_argument("--cli-parallel", type=int, default=4,
                    help="the fan-out is also timed with this --parallel (0: not)")
    a = ap.parse_args()
    sizes = sorted({int(s) for s in a.sizes.split(",")})
    n = sizes[-1]
    ansible_runs = a.ansible_runs if a.ansible_runs is not None else a.runs
    if os.geteuid() != 0:
        sys.exit("bench/fleet.py: run as root (network namespaces)")
    use_ansible = not a.no_ansible and shutil.which("ansible")
    if not a.no_ansible and not use_ansible:
        sys.exit("bench/fleet.py: no ansible (scripts/install-deps.sh bench), or --no-ansible")

    base = Path(tempfile.mkdtemp(prefix="steward-fleet-bench-"))
    os.chmod(base, 0o755)
    work = base / "ansible"
    work.mkdir()
    fleet = Fleet(base, n=n, build=a.build, tls="ca",
                  config_text='log_level = "warning"\n')
    try:
        t0 = time.monotonic()
        fleet.start()
        print(f"fleet: {n} daemons started in {time.monotonic() - t0:.1f} s "
              f"(bridge 10.127.{fleet.x}.0/24, build {a.build})", flush=True)
        fanout = fleet.fanout_supported()
        write_groups(fleet, sizes)
        t0 = time.monotonic()
        fleet.login_all()
        print(f"login: {n} hosts in {time.monotonic() - t0:.1f} s "
              f"({'steward -H @all login' if fanout else 'steward login per host'})", flush=True)
        mem3 = daemon_memory(fleet)
        mem = [sum(x) for x in mem3]
        print(f"memory per daemon (Pss of all its processes): mean {statistics.mean(mem) / 1024:.2f}"
              f" MiB (helper {statistics.mean(x[0] for x in mem3) / 1024:.2f}, front "
              f"{statistics.mean(x[1] for x in mem3) / 1024:.2f}, others "
              f"{statistics.mean(x[2] for x in mem3) / 1024:.2f}), max {max(mem) / 1024:.2f} MiB, "
              f"all {sum(mem) / 1024:.0f} MiB", flush=True)
        if use_ansible:
            tokens = fleet.api_tokens(role="monitor", name="bench")
            write_inventories(fleet, sizes, tokens, work)
        mode = "fan-out" if fanout else f"loop -P{a.parallel}"
        rows = []
        low = a.cli_parallel if fanout and a.cli_parallel else None
        for size in sizes:
            run_steward(fleet, size, a.parallel, fanout)          # warm-up (neighbours, caches)
            st = [run_steward(fleet, size, a.parallel, fanout) for _ in range(a.runs)]
            sp = [run_steward(fleet, size, a.parallel, fanout, low) for _ in range(a.runs)] \
                if low else []
            an = [run_ansible(fleet, size, a.forks, work) for _ in range(ansible_runs)] \
                if use_ansible else []
            rows.append((size, st, sp, an))
            print(f"N={size}: steward {' '.join(f'{x:.3f}' for x in st)} s"
                  + (f"; steward --parallel {low} {' '.join(f'{x:.3f}' for x in sp)} s" if low
                     else "")
                  + f"; ansible {' '.join(f'{x:.2f}' for x in an) or '-'} s", flush=True)
        mem_mib = statistics.mean(mem) / 1024
        print()
        print(f"steward: {mode}" + (f" (default --parallel, and --parallel {low})" if low else "")
              + f"; ansible: uri module, forks={a.forks}, -c local; medians of {a.runs}")
        print(f"{'N':>5} {'steward s':>10} {'ms/host':>8} "
              + (f"{'-P' + str(low) + ' s':>8} {'ms/host':>8} " if low else "")
              + f"{'ansible s':>10} {'ratio':>7} {'MiB/daemon':>11}")
        for size, st, sp, an in rows:
            ms = statistics.median(st)
            mp = statistics.median(sp) if sp else None
            ma = statistics.median(an) if an else None
            best = min(x for x in (ms, mp) if x is not None)
            print(f"{size:>5} {ms:>10.3f} {ms / size * 1000:>8.2f} "
                  + (f"{mp:>8.3f} {mp / size * 1000:>8.2f} " if low else "")
                  + f"{(f'{ma:.2f}' if ma else '-'):>10} "
                  + f"{(f'{ma / best:.0f}x' if ma else '-'):>7} {mem_mib:>11.2f}")
        for par, per_host in CPU.items():
            print(f"daemons' CPU per host, steward --parallel {par or 'default'}: median "
                  f"{statistics.median(per_host) * 1000:.1f} ms over {len(per_host)} runs")
        for label, col in (("steward", 1), (f"steward --parallel {low}", 2), ("ansible", 3)):
            pts = [(r[0], statistics.median(r[col])) for r in rows if r[col]]
            s = slope(pts)
            if s is not None:
                b = pts[0][1] - s * pts[0][0]
                print(f"{label} slope: {s * 1000:.2f} ms/host; extrapolated 1000 hosts: "
                      f"{b + s * 1000:.1f} s")
    finally:
        try:
            fleet.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
