"""The harness's own costs in the test container, for reading the services
and logs benchmarks' ratios (bench/run-container.py bench/ct-baseline.py [N]):

- from the host, each a fresh process timed on the host: entering the
  container (nsenter + env, what every ct.inside command pays), `systemctl
  list-units --all --output=json` through it, and `steward --json list`
  (process start, TLS handshake, one request to the daemon inside);
- inside, timed inside (ctbench.inside_interleaved, no nsenter counted):
  `steward --json list` over the unix socket against the same systemctl.

N runs each (default 20), interleaved; with EXTRA more idle units loaded
(ct.add_units, default 0) for a listing of a few hundred.

Usage: bench/run-container.py bench/ct-baseline.py [N [EXTRA]]"""
from ctbench import inside_interleaved, interleaved, report

SYSTEMCTL = ["systemctl", "list-units", "--all", "--output=json", "--no-pager"]


def main(ct, argv):
    n = int(argv[0]) if argv else 20
    if len(argv) > 1:
        ct.add_units(int(argv[1]))
    units = len(ct.run("systemctl", "list-units", "--all", "--no-legend", "--plain").stdout.splitlines())
    print(f"ct-baseline: {units} units loaded in the container, {n} runs each")
    print("from the host:")
    res = interleaved({
        "nsenter true": ct.inside("true"),
        "systemctl list-units (through nsenter)": ct.inside(*SYSTEMCTL),
        "steward --json list (TLS)": ct.steward("--json", "list"),
    }, n=n)
    report(res, ratio=("steward --json list (TLS)", "systemctl list-units (through nsenter)"))
    print("inside the container:")
    res = inside_interleaved(ct, {
        "steward --json list (unix socket)": [ct.steward_inside, "--json", "list"],
        "systemctl list-units --all --output=json": SYSTEMCTL,
    }, n=n)
    report(res, ratio=("steward --json list (unix socket)", "systemctl list-units --all --output=json"))
    return 0
