"""The harness's own costs in the test container, for reading the services
and logs benchmarks' ratios (bench/run-container.py bench/ct-baseline.py):
entering the container (nsenter + env, what every inside command pays in
these benchmarks), `systemctl list-units --all --output=json` inside, and a
fresh `steward --json list` from the host (process start, TLS handshake,
one request to the daemon in the container).  N runs each, interleaved."""
from ctbench import interleaved, report


def main(ct, argv):
    n = int(argv[0]) if argv else 20
    units = len(ct.run("systemctl", "list-units", "--all", "--no-legend", "--plain").stdout.splitlines())
    print(f"ct-baseline: {units} units loaded in the container, {n} runs each")
    res = interleaved({
        "nsenter true": ct.inside("true"),
        "systemctl list-units --all --output=json": ct.inside("systemctl", "list-units", "--all",
                                                              "--output=json", "--no-pager"),
        "steward --json list": ct.steward("--json", "list"),
    }, n=n)
    report(res, ratio=("steward --json list", "systemctl list-units --all --output=json"))
    return 0
