"""The network diagnostics from the command line (steward ping, traceroute,
lookup, portcheck, netinfo; docs/steward.1): lines as they come, the exit
status the man page promises (0 success, 1 the diagnostic failed or the
server refused, 2 usage), and --json as one line per event then the final
answer.  Ping and netinfo on the loopback of a plain daemon; the rest in the
routed namespaces of net_ns.py (nothing outside them is reached)."""
import json
import re

import pytest

from net_ns import net_ns, net  # noqa: F401 (the fixtures)


def test_ping_prints_each_reply_then_the_statistics(daemon):
    p = daemon.cli("ping", "-c", "2", "-i", "0.2", "127.0.0.1", check=0)
    lines = p.stdout.splitlines()
    assert lines[0] == "PING 127.0.0.1"
    assert re.fullmatch(r"reply from 127\.0\.0\.1: seq=1 ttl=64 time=\d+\.\d+ ms", lines[1]), lines
    assert re.fullmatch(r"reply from 127\.0\.0\.1: seq=2 ttl=64 time=\d+\.\d+ ms", lines[2]), lines
    assert "--- 127.0.0.1 ping statistics ---" in lines
    assert "2 sent, 2 received, 0% loss" in lines
    assert re.search(r"^rtt min/avg/max = [\d.]+ ms / [\d.]+ ms / [\d.]+ ms$", p.stdout, re.M)


def test_ping_json_is_one_line_per_reply_then_the_answer(daemon):
    p = daemon.cli("--json", "ping", "-c", "2", "-i", "0.2", "-4", "127.0.0.1", check=0)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert [x["seq"] for x in lines[:2]] == [1, 2]
    assert len(lines) == 3
    final = lines[2]
    assert final["result"]["received"] == 2 and final["result"]["family"] == "ipv4"
    assert isinstance(final["audit_id"], int)
    assert final["result"]["replies"] == lines[:2]


@pytest.mark.parametrize("argv", [
    ("ping",),
    ("ping", "-c", "0", "127.0.0.1"),
    ("ping", "-c", "21", "127.0.0.1"),
    ("ping", "-c", "x", "127.0.0.1"),
    ("ping", "-i", "0.1", "127.0.0.1"),
    ("ping", "-i", "1.2345", "127.0.0.1"),
    ("ping", "-i", "1.", "127.0.0.1"),
    ("ping", "-4", "-6", "127.0.0.1"),
    ("ping", "127.0.0.1", "::1"),
    ("traceroute", "-m", "31", "127.0.0.1"),
    ("portcheck", "127.0.0.1"),
    ("portcheck", "127.0.0.1", "65536"),
    ("portcheck", "-t", "11", "127.0.0.1", "22"),
    ("lookup",),
    ("lookup", "example.org", "A", "MX"),
    ("netinfo", "x"),
])
def test_usage_errors(daemon, argv):
    p = daemon.cli(*argv)
    assert p.returncode == 2, (argv, p.stdout, p.stderr)


def test_a_host_the_server_refuses_is_exit_1_naming_the_field(daemon):
    p = daemon.cli("ping", "--", "-x", check=1)
    assert "host" in p.stderr


def test_netinfo_reads_like_ip_addr(daemon):
    p = daemon.cli("netinfo", check=0)
    out = p.stdout
    assert out.startswith("host ")
    assert re.search(r"^\d+: lo <[A-Z,_]*UP[A-Z,_]*> mtu \d+ state ", out, re.M), out
    assert re.search(r"^    inet 127\.0\.0\.1/8 scope host$", out, re.M), out
    assert re.search(r"^    RX [\d.]+ (B|KiB|MiB|GiB|TiB), \d+ packets, \d+ errors, \d+ dropped$",
                     out, re.M), out
    assert "\nroutes:\n" in out and "\ndns (" in out
    j = json.loads(daemon.cli("--json", "netinfo", check=0).stdout)
    assert {"hostname", "interfaces", "routes", "dns"} <= set(j)


def test_diagnostics_in_the_routed_namespaces(net):
    # ping B through the router: replies with the TTL one lower.
    p = net.cli("ping", "-c", "2", "-i", "0.2", net.b_ip, check=0)
    assert re.search(rf"^reply from {re.escape(net.b_ip)}: seq=1 ttl=63 ", p.stdout, re.M), p.stdout
    # An address of B's subnet that nobody holds: no reply, exit status 1.
    nobody = net.b_ip.rsplit(".", 1)[0] + ".11"
    p = net.cli("ping", "-c", "1", "-i", "0.2", nobody, check=1)
    assert "1 sent, 0 received, 100% loss" in p.stdout, p.stdout
    assert re.search(r"^seq=1: (no reply|destination host unreachable.*)$", p.stdout, re.M), \
        p.stdout

    p = net.cli("traceroute", "-m", "5", net.b_ip, check=0)
    lines = p.stdout.splitlines()
    assert lines[0] == f"traceroute to {net.b_ip}, 5 hops max"
    assert re.match(rf"^ 1  {re.escape(net.r_a_ip)}  ", lines[1]), lines
    assert re.match(rf"^ 2  {re.escape(net.b_ip)}  ", lines[2]), lines

    p = net.cli("lookup", "www.steward.test", check=0)
    assert re.search(rf"^www\.steward\.test\.?\t\d+\tIN\tA\t{re.escape(net.b_ip)}$", p.stdout,
                     re.M), p.stdout
    assert "NOERROR" in p.stdout.splitlines()[0]
    p = net.cli("lookup", "nothing.steward.test", check=1)
    assert "NXDOMAIN" in p.stdout.splitlines()[0]
    p = net.cli("lookup", "steward.test", "MX", f"@{net.b_ip}", check=0)
    assert "\tMX\t10 mail.steward.test." in p.stdout, p.stdout

    p = net.cli("portcheck", net.b_ip, str(net.open_port), check=0)
    assert f"port {net.open_port}: open (" in p.stdout
    p = net.cli("portcheck", "-t", "0.5", net.b_ip, str(net.filtered_port), check=1)
    assert f"port {net.filtered_port}: filtered (" in p.stdout


def test_ping_reports_a_routers_icmp_error(net):
    """A destination A routes through R, which has no route for it: R's
    ICMP "network unreachable" (v4) and "no route" (v6) quote A's echo
    request, and each request ends with that error and who sent it."""
    routes = [("198.51.100.0/24", net.r_a_ip), ("2001:db8:dead::/64", net.r_a_ip6)]
    for dst, via in routes:
        net.in_ns(net.ns_a, "ip", "route", "add", dst, "via", via, check=True)
    try:
        # R's kernel sends routing errors to one source at a paced rate
        # (net.ipv4.route.error_cost, a host-wide sysctl left alone here):
        # three requests a second apart, at least one answered by the error.
        p = net.cli("ping", "-c", "3", "-i", "1", "198.51.100.7", check=1)
        assert re.search(rf"^seq=\d: destination network unreachable \(from {re.escape(net.r_a_ip)}\)$",
                         p.stdout, re.M), p.stdout
        assert len(re.findall(r"^seq=\d: (?:destination network unreachable|no reply)", p.stdout,
                              re.M)) == 3, p.stdout
        assert "3 sent, 0 received, 100% loss" in p.stdout
        p = net.cli("--json", "ping", "-c", "3", "-i", "1", "2001:db8:dead::7", check=1)
        events = [json.loads(x) for x in p.stdout.splitlines()[:3]]
        assert any(e.get("from") == net.r_a_ip6 and e.get("error") == "no route to destination"
                   for e in events), events
    finally:
        for dst, via in routes:
            net.in_ns(net.ns_a, "ip", "route", "del", dst, "via", via)
