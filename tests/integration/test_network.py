"""The network module against a routed network of namespaces (net_ns.py):
what the machine's network is, and the diagnostics run from it — port
check, traceroute, lookup — with their roles, bounds and audit."""
import pytest

from net_ns import net_ns, net  # noqa: F401 (the fixtures)


def test_portcheck_states(net):
    for port, state in ((net.open_port, "open"), (net.closed_port, "closed"),
                        (net.filtered_port, "filtered"), (net.prohibited_port, "filtered")):
        r = net.command("portcheck", {"host": net.b_ip, "port": port, "timeout_ms": 1000})
        assert r.status == 200, r
        res = r.json
        assert res["state"] == state, (port, res)
        print(res)
