"""The network module against a routed network of namespaces (net_ns.py):
what the machine's network is (info), and the diagnostics run from it —
lookup, port check, traceroute — with their roles, bounds, audit and the
one-at-a-time rule.  Ping is ping.c's and is tested with it."""
import threading

import pytest

from net_ns import (BIG_TXT, BIG_TXT_COUNT, RECORDS, RESOLV_OPTIONS, TTL, ZONE,  # noqa: F401
                    net_ns, net)

INFO = "/api/v1/modules/network/info"


def audit_records(net, operation):
    r = net.api("GET", "/api/v1/audit?limit=200")
    assert r.status == 200, r
    items = r.json.get("records", r.json.get("items", []))
    return [x for x in items if x.get("operation") == operation]


# ---- info -----------------------------------------------------------------------------

def test_info_shows_interfaces_addresses_routes_and_resolver(net):
    r = net.api("GET", INFO, role="monitor")
    assert r.status == 200, r
    info = r.json
    assert info["hostname"]
    assert info["fqdn"] is None or "." in info["fqdn"]
    assert info["truncated"] is False
    by_name = {i["name"]: i for i in info["interfaces"]}
    assert {"lo", "eth0", "mgmt0"} <= set(by_name)
    eth0 = by_name["eth0"]
    assert eth0["state"] == "up" and "UP" in eth0["flags"]
    assert eth0["type"] == "ether" and len(eth0["mac"].split(":")) == 6
    assert eth0["kind"] == "veth" and by_name["lo"]["kind"] is None
    assert eth0["mtu"] == 1500
    assert eth0["speed_mbps"] is None or eth0["speed_mbps"] > 0  # a veth has none
    addrs = {(a["family"], a["address"], a["prefix_length"]) for a in eth0["addresses"]}
    assert ("ipv4", net.a_ip, 30) in addrs
    assert ("ipv6", net.a_ip6, 64) in addrs
    assert by_name["lo"]["type"] == "loopback"
    assert set(eth0["counters"]) == {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                     "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"}
    assert eth0["counters"]["tx_packets"] > 0
    routes = {(x["family"], x["destination"]): x for x in info["routes"]}
    via_r = routes[("ipv4", net.b_net)]
    assert via_r["gateway"] == net.r_a_ip and via_r["interface"] == "eth0"
    assert routes[("ipv6", net.b_net6)]["gateway"] == net.r_a_ip6
    assert routes[("ipv4", net.a_net)]["gateway"] is None  # on the link
    assert not any(x["destination"] == "default" for x in info["routes"])
    assert info["dns"] == {"source": "/etc/resolv.conf", "servers": [net.b_ip],
                           "search": [ZONE], "options": RESOLV_OPTIONS.split(),
                           "resolved": False}


def test_status_says_what_is_missing(net):
    r = net.api("GET", "/api/v1/modules/network", role="monitor")
    assert r.status == 200, r
    # A has interfaces up and a resolver, but no default route
    assert r.json["state"] == "degraded" and "no default route" in r.json["reason"], r.json
    assert r.json["interfaces_up"] == 2 and r.json["default_routes"] == 0
    assert r.json["dns_servers"] == 1
    net.in_ns(net.ns_a, "ip", "route", "add", "default", "via", net.r_a_ip, check=True)
    try:
        r = net.api("GET", "/api/v1/modules/network", role="monitor")
        assert r.json["state"] == "running" and "reason" not in r.json, r.json
        assert r.json["default_routes"] == 1
    finally:
        net.in_ns(net.ns_a, "ip", "route", "del", "default", check=True)


def test_info_needs_a_session(net):
    r = net.daemon.https("GET", INFO, token=False)
    assert r.status == 401, r


# ---- lookup ---------------------------------------------------------------------------

@pytest.mark.parametrize("rtype", sorted(RECORDS))
def test_lookup_every_type_against_b(net, rtype):
    name, data = RECORDS[rtype]
    r = net.command("lookup", {"name": name, "type": rtype, "server": net.b_ip})
    assert r.status == 200, r
    res = r.json
    assert res["rcode"] == "NOERROR" and res["server"] == f"{net.b_ip}#53"
    assert res["name"] == name and res["type"] == rtype
    answers = [a for a in res["answers"] if a["type"] == rtype]
    assert len(answers) == 1, res
    a = answers[0]
    assert a["name"] == name + "." and a["ttl"] == TTL
    assert a["data"] == data.format(b=net.b_ip, b6=net.b_ip6)
    assert res["time_ms"] >= 0


def test_lookup_typed_members(net):
    def one(name, rtype):
        r = net.command("lookup", {"name": name, "type": rtype, "server": net.b_ip})
        assert r.status == 200, r
        return r.json["answers"][0]

    mx = one(ZONE, "MX")
    assert (mx["preference"], mx["exchange"]) == (10, f"mail.{ZONE}.")
    srv = one(f"_sip._tcp.{ZONE}", "SRV")
    assert (srv["priority"], srv["weight"], srv["port"], srv["target"]) == \
        (10, 20, 5060, f"sip.{ZONE}.")
    caa = one(ZONE, "CAA")
    assert (caa["flags"], caa["tag"], caa["value"]) == (0, "issue", "letsencrypt.org")
    txt = one(ZONE, "TXT")
    assert txt["strings"] == ["v=spf1 -all"]
    soa = one(ZONE, "SOA")
    assert soa["mname"] == f"ns1.{ZONE}." and soa["rname"] == f"hostmaster.{ZONE}."
    assert (soa["serial"], soa["refresh"], soa["retry"], soa["expire"]) == \
        (2026120401, 1200, 180, 1209600)
    ns = one(ZONE, "NS")
    assert ns["data"] == f"ns1.{ZONE}."


def test_lookup_default_server_is_the_resolvers(net):
    r = net.command("lookup", {"name": f"www.{ZONE}"})
    assert r.status == 200, r
    assert r.json["server"] == f"{net.b_ip}#53"
    assert [a["data"] for a in r.json["answers"]] == [net.b_ip]


def test_lookup_ptr_of_an_address(net):
    r = net.command("lookup", {"name": net.b_ip, "type": "PTR", "server": net.b_ip})
    assert r.status == 200, r
    rev = ".".join(reversed(net.b_ip.split("."))) + ".in-addr.arpa."
    assert r.json["question"] == rev
    assert r.json["answers"][0]["name"] == rev
    assert r.json["answers"][0]["data"].endswith(f".{ZONE}.")


def test_lookup_over_ipv6_and_ptr_of_an_ipv6_address(net):
    import ipaddress
    r = net.command("lookup", {"name": net.b_ip6, "type": "PTR", "server": net.b_ip6})
    assert r.status == 200, r
    assert r.json["server"] == f"{net.b_ip6}#53"
    assert r.json["question"] == ipaddress.ip_address(net.b_ip6).reverse_pointer + "."
    assert [a["data"] for a in r.json["answers"]] == [f"www.{ZONE}."]


def test_lookup_a_truncated_answer_is_asked_again_over_tcp(net):
    r = net.command("lookup", {"name": f"big.{ZONE}", "type": "TXT", "server": net.b_ip})
    assert r.status == 200, r
    assert r.json["flags"]["tc"] is False  # the TCP answer, whole
    got = sorted(a["strings"][0] for a in r.json["answers"])
    assert got == [BIG_TXT.format(i=i) for i in range(BIG_TXT_COUNT)]


def test_lookup_nxdomain_carries_the_soa(net):
    r = net.command("lookup", {"name": f"nothere.{ZONE}", "server": net.b_ip})
    assert r.status == 200, r
    assert r.json["rcode"] == "NXDOMAIN" and r.json["answers"] == []
    assert r.json["authority"][0]["type"] == "SOA"


def test_lookup_a_server_that_does_not_answer(net):
    r = net.command("lookup", {"name": f"www.{ZONE}", "server": net.r_a_ip})
    assert r.status == 504, r
    assert r.json["error"]["code"] == "no_answer"
    assert f"{net.r_a_ip}#53" in r.json["error"]["message"]


# ---- port check -----------------------------------------------------------------------

@pytest.mark.parametrize("which,state,reason", [
    ("open_port", "open", "connected"),
    ("closed_port", "closed", "refused"),
    ("filtered_port", "filtered", "no answer"),
    ("prohibited_port", "filtered", "administratively prohibited"),
])
def test_portcheck_states(net, which, state, reason):
    port = getattr(net, which)
    r = net.command("portcheck", {"host": net.b_ip, "port": port, "timeout_ms": 500})
    assert r.status == 200, r
    res = r.json
    assert (res["host"], res["address"], res["port"]) == (net.b_ip, net.b_ip, port)
    assert res["state"] == state and reason in res["reason"], res
    assert res["time_ms"] >= 0


def test_portcheck_resolves_a_name(net):
    r = net.command("portcheck", {"host": f"www.{ZONE}", "port": net.open_port})
    assert r.status == 200, r
    assert r.json["address"] in (net.b_ip, net.b_ip6) and r.json["state"] == "open"


def test_portcheck_when_the_resolver_is_silent(net):
    """With B's packets dropped on the way the resolver does not answer: the
    name is unresolved (the probe waits 2 s a resolver, whatever
    resolv.conf says), not a timeout of the whole run."""
    net.in_ns(net.ns_r, "ip", "route", "add", "blackhole", f"{net.b_ip}/32", check=True)
    try:
        r = net.command("portcheck", {"host": f"www.{ZONE}", "port": 53, "timeout_ms": 100})
        assert r.status == 422, r
        assert r.json["error"]["code"] == "unresolved", r.json
    finally:
        net.in_ns(net.ns_r, "ip", "route", "del", "blackhole", f"{net.b_ip}/32", check=True)


def test_portcheck_a_name_that_does_not_resolve(net):
    r = net.command("portcheck", {"host": f"nothere.{ZONE}", "port": 80})
    assert r.status == 422, r
    assert r.json["error"]["code"] == "unresolved" and r.json["error"]["field"] == "host"


# ---- traceroute -------------------------------------------------------------------------

def test_traceroute_goes_through_r_and_reaches_b(net):
    r = net.command("traceroute", {"host": net.b_ip})
    assert r.status == 200, r
    res = r.json
    assert res["reached"] is True and res["address"] == net.b_ip
    hops = res["hops"]
    assert [h["hop"] for h in hops] == [1, 2]
    assert hops[0]["address"] == net.r_a_ip and hops[0]["reached"] is False
    assert len(hops[0]["rtt_ms"]) >= 1
    assert hops[1]["address"] == net.b_ip and hops[1]["reached"] is True


def test_traceroute_ipv6_reaches_b(net):
    r = net.command("traceroute", {"host": net.b_ip6, "family": "ipv6"})
    assert r.status == 200, r
    res = r.json
    assert res["reached"] is True and res["family"] == "ipv6"
    assert [h["address"] for h in res["hops"]] == [net.r_a_ip6, net.b_ip6], res


def test_traceroute_max_hops(net):
    r = net.command("traceroute", {"host": net.b_ip, "max_hops": 1})
    assert r.status == 200, r
    assert r.json["reached"] is False and len(r.json["hops"]) == 1


def test_traceroute_port_unreachable_from_a_router_is_not_the_destination(net):
    """A filter on R answering for B (port unreachable from R) does not make
    the trace reach B."""
    rules = """
table inet stewardtrace {
  chain probes {
    type filter hook forward priority 0;
    udp dport 33434-33600 reject with icmpx type port-unreachable
  }
}
"""
    net.in_ns(net.ns_r, "nft", "-f", "-", input=rules, check=True)
    try:
        r = net.command("traceroute", {"host": net.b_ip})
        assert r.status == 200, r
        assert r.json["reached"] is False
        hop = r.json["hops"][-1]
        assert hop["address"] == net.r_a_ip and hop["reached"] is False
        assert hop["error"] == "port unreachable from a host on the way", hop
    finally:
        net.in_ns(net.ns_r, "nft", "delete", "table", "inet", "stewardtrace", check=True)


def test_without_a_route_diagnostics_say_unreachable(net):
    net.in_ns(net.ns_a, "ip", "route", "del", net.b_net, check=True)
    try:
        r = net.command("portcheck", {"host": net.b_ip, "port": net.open_port})
        assert r.status == 200, r
        assert r.json["state"] == "filtered" and "unreachable" in r.json["reason"], r.json
        r = net.command("traceroute", {"host": net.b_ip})
        assert r.status == 200, r
        assert r.json["reached"] is False
        assert r.json["hops"][0]["address"] is None
        assert "unreachable" in r.json["hops"][0]["error"].lower(), r.json
        r = net.api("GET", INFO, role="monitor")
        assert not any(x["destination"] == net.b_net for x in r.json["routes"])
    finally:
        net.in_ns(net.ns_a, "ip", "route", "add", net.b_net, "via", net.r_a_ip, check=True)


# ---- refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("command,args,field", [
    ("portcheck", {"host": "-oProxyCommand=x", "port": 80}, "host"),
    ("portcheck", {"host": "a..b", "port": 80}, "host"),
    ("portcheck", {"host": "a" * 64 + ".example", "port": 80}, "host"),
    ("portcheck", {"host": "x.example", "port": 0}, "port"),
    ("portcheck", {"host": "x.example", "port": 65536}, "port"),
    ("portcheck", {"host": "x.example", "port": "80"}, "port"),
    ("portcheck", {"host": "x.example", "port": 80, "timeout_ms": 50}, "timeout_ms"),
    ("portcheck", {"host": "x.example"}, "port"),
    ("portcheck", {"host": "x.example", "port": 80, "ports": "1-1024"}, "ports"),
    ("traceroute", {"host": "x y"}, "host"),
    ("traceroute", {"host": "10.0.0.1", "max_hops": 31}, "max_hops"),
    ("traceroute", {"host": "10.0.0.1", "family": "ipx"}, "family"),
    ("lookup", {"name": "bad name"}, "name"),
    ("lookup", {"name": "-x.example"}, "name"),
    ("lookup", {"name": "x.example", "type": "AXFR"}, "type"),
    ("lookup", {"name": "x.example", "type": "ANY"}, "type"),
    ("lookup", {"name": "x.example", "server": "ns.example"}, "server"),
    ("lookup", {"name": "x.example", "server": "10.0.0.1#5353"}, "server"),
    ("lookup", {"name": "fd00::1", "type": "A"}, "name"),
])
def test_malformed_arguments_are_refused(net, command, args, field):
    """Refused before anything runs, naming the argument (the kit's 422
    for an argument that breaks its declared grammar or bounds)."""
    r = net.command(command, args)
    assert r.status == 422, r
    assert r.json["error"]["field"] == field, r.json


def test_monitor_reads_info_but_runs_no_diagnostic(net):
    assert net.api("GET", INFO, role="monitor").status == 200
    for name, args in (("portcheck", {"host": net.b_ip, "port": 53}),
                       ("lookup", {"name": ZONE}), ("traceroute", {"host": net.b_ip}),
                       ("ping", {"host": net.b_ip})):
        r = net.command(name, args, role="monitor")
        assert r.status == 403, (name, r)
        refused = audit_records(net, f"POST /api/v1/modules/network/commands/{name}")
        assert refused and refused[0]["result"] == "refused", refused
        assert refused[0]["role"] == "monitor" and refused[0]["module"] == "network"


def test_operator_may_run_diagnostics(net):
    r = net.command("portcheck", {"host": net.b_ip, "port": net.open_port}, role="operator")
    assert r.status == 200, r


@pytest.mark.parametrize("name,args", [
    ("lookup", {"name": f"www.{ZONE}", "server": "B"}),
    ("portcheck", {"host": "B", "port": 53}),
    ("traceroute", {"host": "B", "max_hops": 2}),
    ("ping", {"host": "B", "count": 1, "interval_ms": 200}),
])
def test_every_diagnostic_is_audited(net, name, args):
    args = {k: (net.b_ip if v == "B" else v) for k, v in args.items()}
    r = net.command(name, args)
    assert r.status == 200, r
    audit_id = r.json["audit_id"]
    recs = [x for x in audit_records(net, f"command:{name}") if x.get("id") == audit_id]
    assert len(recs) == 1, audit_records(net, f"command:{name}")[:3]
    assert recs[0]["module"] == "network" and recs[0]["result"] == "ok"
    assert recs[0]["user"] == "bootstrap" and recs[0]["role"] == "admin"
    for k, v in args.items():
        assert recs[0]["args"][k] == v, recs[0]


def test_one_diagnostic_at_a_time_per_user(net):
    """A traceroute to a silent address runs for seconds; a second
    diagnostic of the same user meanwhile is 429 busy."""
    results = {}
    net.token()  # the sessions, made once before two threads use them
    olga = net.user_token("olga", "steward-operator")

    def slow():
        for _ in range(50):  # a portcheck below may hold the lock first
            results["slow"] = net.command("traceroute",
                                          {"host": "10.126.255.254", "max_hops": 3})
            if results["slow"].status != 429:
                break

    net.in_ns(net.ns_a, "ip", "route", "add", "10.126.255.254/32", "via", net.r_a_ip, check=True)
    net.in_ns(net.ns_r, "ip", "route", "add", "blackhole", "10.126.255.254/32", check=True)
    t = threading.Thread(target=slow)
    t.start()
    try:
        busy = None
        for _ in range(200):
            r = net.command("portcheck", {"host": net.b_ip, "port": net.open_port})
            if r.status == 429:
                busy = r
                break
            if not t.is_alive():
                break
        # another user is not held up meanwhile
        other = net.daemon.https("POST", "/api/v1/modules/network/commands/portcheck",
                                 {"host": net.b_ip, "port": net.open_port}, token=olga) \
            if busy is not None and t.is_alive() else None
        t.join()
        assert busy is not None, ("no second diagnostic was refused while one ran",
                                  results, r, net.daemon.log_text()[-3000:])
        assert other is None or other.status == 200, other
        assert busy.json["error"]["code"] == "busy"
        assert results["slow"].status == 200, results["slow"]
        # once it is over, the next one runs
        r = net.command("portcheck", {"host": net.b_ip, "port": net.open_port})
        assert r.status == 200, r
    finally:
        t.join()
        net.in_ns(net.ns_a, "ip", "route", "del", "10.126.255.254/32", check=False)
        net.in_ns(net.ns_r, "ip", "route", "del", "blackhole", "10.126.255.254/32", check=False)


# ---- streaming and the probe child ------------------------------------------------------

def sse_events(body):
    """[(event, data), …] of a text/event-stream body."""
    import json
    out = []
    for block in body.split("\n\n"):
        ev, data = None, []
        for line in block.splitlines():
            if line.startswith("event:"):
                ev = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if ev:
            out.append((ev, json.loads("\n".join(data)) if data else None))
    return out


def test_traceroute_streams_one_event_per_hop(net):
    r = net.api("POST", "/api/v1/modules/network/commands/traceroute?stream=1",
                {"host": net.b_ip})
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/event-stream"), r.headers
    events = sse_events(r.body)
    progress = [d for e, d in events if e == "progress"]
    final = [d for e, d in events if e == "result"]
    assert [h["hop"] for h in progress] == [1, 2], events
    assert progress[0]["address"] == net.r_a_ip and progress[1]["reached"] is True
    assert len(final) == 1 and final[0]["result"]["hops"] == progress
    assert final[0]["audit_id"] > 0


def test_lookup_does_not_stream(net):
    r = net.api("POST", "/api/v1/modules/network/commands/lookup?stream=1", {"name": ZONE})
    assert r.status == 400, r


def probe_children(net):
    """{pid: /proc/PID/status as a dict} of the processes in A that run as
    nobody (the probe children)."""
    import pwd
    nobody = pwd.getpwnam("nobody").pw_uid
    out = {}
    for pid in net.in_ns(net.ns_a, "ip", "netns", "pids", net.ns_a).stdout.split():
        try:
            with open(f"/proc/{pid}/status") as f:
                st = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                st["cmdline"] = f.read().decode(errors="replace")
        except OSError:
            continue
        if st["Uid"].split()[0] == str(nobody):
            out[int(pid)] = {k: v.strip() for k, v in st.items()}
    return out


def test_the_probe_child_holds_no_privilege(net):
    """While a traceroute waits on silent hops, its probe child is nobody in
    every uid and gid, without groups or capabilities (the bounding set
    empty too), with no_new_privs and a seccomp filter, and it is a fresh
    image of stewardd (nothing of the helper's memory), not a fork."""
    import pwd
    pw = pwd.getpwnam("nobody")
    net.token()
    net.in_ns(net.ns_a, "ip", "route", "add", "10.126.255.253/32", "via", net.r_a_ip, check=True)
    net.in_ns(net.ns_r, "ip", "route", "add", "blackhole", "10.126.255.253/32", check=True)
    t = threading.Thread(target=lambda: net.command("traceroute",
                                                    {"host": "10.126.255.253", "max_hops": 4}))
    t.start()
    try:
        seen = {}
        # a child is nobody a moment before its filter is in place: the one
        # to judge is past its setup (Seccomp 2), else a child that never
        # gets there is not seen at all
        while t.is_alive() and not seen:
            seen = {pid: st for pid, st in probe_children(net).items()
                    if st.get("Seccomp") == "2"}
        assert seen, "no probe child seen with its filter in place"
        for pid, st in seen.items():
            assert st["Uid"].split() == [str(pw.pw_uid)] * 4, st
            assert st["Gid"].split() == [str(pw.pw_gid)] * 4, st
            assert st["Groups"] == "", st
            for cap in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
                assert st[cap] == "0" * 16, (cap, st)
            assert st["NoNewPrivs"] == "1", st
            assert st["Seccomp"] == "2", st  # a filter
            assert st["cmdline"] == "stewardd\0--module-child\0network\0", st["cmdline"]
    finally:
        t.join()
        net.in_ns(net.ns_a, "ip", "route", "del", "10.126.255.253/32", check=False)
        net.in_ns(net.ns_r, "ip", "route", "del", "blackhole", "10.126.255.253/32", check=False)
