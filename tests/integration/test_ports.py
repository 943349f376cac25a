"""The ports module against a real daemon: the listener set equals ss's, the
owners, the compiled-in registry, findings and the baseline."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from ports_ss import ss_listeners


def listeners(d, all=False):
    r = d.https("GET", "/api/v1/ports" + ("?all=1" if all else ""))
    assert r.status == 200, r
    return r.json


def key(l):
    return (l["protocol"], l["address"], l["port"])


def codes(l):
    return {f["code"] for f in l["findings"]}


def test_listener_set_equals_ss(daemon):
    for _ in range(3):  # sockets come and go between the two reads: retry a little
        ours = {key(l) for l in listeners(daemon)["listeners"]}
        theirs = ss_listeners()
        if ours == theirs:
            break
        time.sleep(0.2)
    assert ours == theirs


def test_owners_and_self(daemon):
    data = listeners(daemon)
    assert data["owners_known"] is True
    mine = [l for l in data["listeners"] if l["protocol"] == "tcp" and l["port"] == daemon.port]
    assert len(mine) == 1
    l = mine[0]
    assert l["scope"] == "loopback" and l["state"] == "listen"
    assert any(p["command"] == "stewardd" and p["user"] in ("root", "_steward") for p in l["processes"])
    assert "steward" in codes(l) and "exposed" not in codes(l)


@pytest.fixture
def listener():
    """A plain Python process listening where the test says."""
    procs = []

    def start(addr, port, proto="tcp"):
        code = ("import socket,sys,time\n"
                f"s=socket.socket(socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET, "
                f"socket.SOCK_STREAM if {proto!r}=='tcp' else socket.SOCK_DGRAM)\n"
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(({addr!r}, {port}))\n"
                f"{'s.listen(5)' if proto == 'tcp' else 'pass'}\n"
                "print(s.getsockname()[1], flush=True)\n"
                "time.sleep(60)\n")
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().strip()
        if not line:
            p.kill()
            pytest.skip(f"cannot listen on {addr}:{port}")
        procs.append(p)
        return p, int(line)

    yield start
    for p in procs:
        p.kill()
        p.wait()


def find(d, port, proto="tcp"):
    ls = [l for l in listeners(d)["listeners"] if l["port"] == port and l["protocol"] == proto]
    assert ls, f"{proto}/{port} not listed"
    return ls[0]


def test_exposed_or_not(daemon, listener):
    _, p1 = listener("0.0.0.0", 0)
    _, p2 = listener("127.0.0.1", 0)
    assert "exposed" in codes(find(daemon, p1))
    assert "exposed" not in codes(find(daemon, p2))
    owner = find(daemon, p1)["processes"][0]
    assert owner["command"].startswith("python")


def test_something_else_on_660_is_flagged(daemon, listener):
    proc, port = listener("127.0.0.1", 660)
    l = find(daemon, 660)
    assert "unexpected-service" in codes(l)
    assert "legacy-port" in codes(l)
    msg = next(f["message"] for f in l["findings"] if f["code"] == "unexpected-service")
    assert "not stewardd" in msg
    r = daemon.https("GET", "/api/v1/ports/660").json
    assert r["records"][0]["service"] == "mac-srvr-admin"
    assert any(x["pid"] == proc.pid for x in r["listeners"][0]["processes"])
    p = daemon.cli("ports", "660", check=0)
    assert "mac-srvr-admin" in p.stdout and "unexpected-service" in p.stdout
    assert "Legacy assignment" in p.stdout


def test_baseline_new_and_gone(daemon, listener):
    proc, old = listener("127.0.0.1", 0)
    r = daemon.https("POST", "/api/v1/modules/ports/commands/baseline_save")
    assert r.status == 200, r
    assert "new" not in codes(find(daemon, old))
    _, fresh = listener("127.0.0.1", 0)
    assert "new" in codes(find(daemon, fresh))
    proc.kill()
    proc.wait()
    st = daemon.https("GET", "/api/v1/modules/ports").json
    assert f"tcp ipv4 127.0.0.1 {old}" in st["gone"]
    assert st["new"] >= 1
    rec = daemon.https("GET", "/api/v1/audit?module=ports&limit=1").json["records"][0]
    assert rec["operation"] == "command:baseline_save"


@pytest.mark.parametrize("port,service,proto", [
    (660, "mac-srvr-admin", "tcp"), (660, "mac-srvr-admin", "udp"),
    (548, "afpovertcp", "tcp"), (427, "svrloc", "tcp"), (625, "dec-dlm", "tcp"),
])
def test_registry_facts(daemon, port, service, proto):
    r = daemon.https("GET", f"/api/v1/ports/registry/{port}")
    assert r.status == 200
    assert any(x["service"] == service and x["protocol"] == proto for x in r.json["records"])


def test_registry_ranges_and_legacy(daemon):
    expect = {0: "well-known", 1023: "well-known", 1024: "registered", 49151: "registered",
              49152: "dynamic", 65535: "dynamic"}
    for port, name in expect.items():
        r = daemon.https("GET", f"/api/v1/ports/registry/{port}").json
        assert r["range"] == name and r["range_explanation"]
    r = daemon.https("GET", "/api/v1/ports/registry/660").json
    assert r["legacy"] and r["legacy"][0]["service"] == "mac-srvr-admin"


def test_unassigned_well_known(daemon):
    # Find an unassigned well-known port from the registry itself.
    for port in range(1, 1024):
        r = daemon.https("GET", f"/api/v1/ports/registry/{port}").json
        if not r["assigned_tcp"] and not r["assigned_udp"]:
            break
    else:
        pytest.fail("no unassigned well-known port")
    assert all(x["service"] in ("", None) or x.get("description", "").lower() in ("unassigned", "reserved")
               for x in r["records"])


@pytest.mark.parametrize("bad", ["-1", "65536", "abc", "00660", "6.6"])
def test_bad_ports(daemon, bad):
    r = daemon.https("GET", f"/api/v1/ports/registry/{bad}")
    assert r.status == 400 and "port" in r.json["error"]["message"]
    r = daemon.https("GET", f"/api/v1/ports/{bad}")
    assert r.status == 400


def test_all_adds_connections(daemon):
    ls = listeners(daemon, all=True)["listeners"]
    assert any(l["state"] == "established" for l in ls)


def test_cli_table(daemon):
    p = daemon.cli("ports", check=0)
    lines = p.stdout.split("\n")
    assert lines[0].split() == ["PROTO", "STATE", "LOCAL", "PEER", "PROCESS", "SERVICE",
                                "FINDINGS"]
    assert f"127.0.0.1:{daemon.port}" in p.stdout
    daemon.cli("ports", "70000", check=2)
    # The daemon's own TCP row says what the listing says: owners, the first
    # registered service, the findings' codes (its UDP socket on the same
    # port, when discovery is on, is another row; a long owners cell pushes
    # the next ones right, and an unassigned port's service is empty).  Two
    # requests: on a busy machine one of them may find the owners unknown
    # (the helper's read refused), so a pair that agrees is compared; a table
    # that renders wrongly never agrees.
    for _ in range(8):
        lines = daemon.cli("ports", check=0).stdout.split("\n")
        line = next(x for x in lines
                    if x.startswith("tcp ") and f" 127.0.0.1:{daemon.port} " in x)
        row = line.split()
        data = listeners(daemon)
        me = next(x for x in data["listeners"]
                  if x["port"] == daemon.port and x["address"] == "127.0.0.1"
                  and x["protocol"] == "tcp")
        codes_ = ",".join(f["code"] for f in me["findings"])
        if data["owners_known"] and "steward" in codes_ and row[-1] == codes_:
            break
        time.sleep(1)
    assert row[:4] == ["tcp", "listen", f"127.0.0.1:{daemon.port}", "*"]
    owners = row[4].split(",")
    assert [o.split("[")[0] for o in owners] == [o["command"] for o in me["processes"]]
    assert all(o.endswith("]") and o.split("[")[1][:-1].isdigit() for o in owners)
    service = me["registry"][0]["service"] if me["registry"] else "-"
    assert f" {service} " in line if service else len(row) == 6
    assert row[-1] == codes_
    assert "steward" in row[-1].split(",")


def test_cli_json_is_the_listing(daemon):
    """--json, piped: the server's listing as it came, every field."""
    p = daemon.cli("--json", "ports", check=0)
    got = json.loads(p.stdout)
    assert set(got) == {"listeners", "owners_known", "gone", "baseline"}
    me = next(x for x in got["listeners"]
              if x["port"] == daemon.port and x["address"] == "127.0.0.1"
                  and x["protocol"] == "tcp")
    assert {"protocol", "family", "address", "port", "scope", "state", "recv_queue",
            "send_queue", "processes", "registry", "findings"} <= set(me)


def test_ports_event_against_the_baseline(daemon, listener):
    """A listener that appears after the baseline was saved, then goes, is
    an event on the stream (checked every few seconds).  Each event carries
    the whole new/gone sets, and other processes on the host may open and
    close sockets meanwhile, so the stream is read until the set shows it."""
    from test_events import Stream

    def until(s, pred):
        deadline = time.time() + 60  # keepalives would keep a plain read going forever
        while time.time() < deadline:
            _, kind, data = s.next_event()
            assert kind == "ports"
            if pred(data):
                return data
        raise AssertionError("no ports event showed the change within 60 s")

    proc, old = listener("127.0.0.1", 0)
    assert daemon.https("POST", "/api/v1/modules/ports/commands/baseline_save").status == 200
    s = Stream(daemon, "/api/v1/events?types=ports", timeout=30)
    _, fresh = listener("127.0.0.1", 0)
    data = until(s, lambda d: any(l["port"] == fresh and l["protocol"] == "tcp"
                                  for l in d["new"]))
    assert all({"protocol", "family", "address", "port", "processes", "findings"} <= set(l)
               for l in data["new"])
    proc.kill()
    proc.wait()
    data = until(s, lambda d: any(g["port"] == old for g in d["gone"]))
    assert {"protocol": "tcp", "family": "ipv4", "address": "127.0.0.1", "port": old}.items() \
        <= next(g for g in data["gone"] if g["port"] == old).items()
    s.close()


def test_port_lookup_says_the_legacy_paragraph_once(daemon, listener):
    """Two sockets on one port: the port's legacy assignment is said once,
    at the top of the lookup (API, CLI), not again in each listener."""
    listener("127.0.0.1", 660)
    listener("::1", 660)
    r = daemon.https("GET", "/api/v1/ports/660").json
    tcp = [l for l in r["listeners"] if l["protocol"] == "tcp"]
    assert len(tcp) == 2
    assert [x["protocol"] for x in r["legacy"]].count("tcp") == 1
    for l in r["listeners"]:
        assert "legacy-port" not in codes(l) and "trojan-history" not in codes(l)
        assert "unexpected-service" in codes(l)  # the listener's own findings stay
    # The listing still flags each socket.
    assert "legacy-port" in codes(find(daemon, 660))
    p = daemon.cli("ports", "660", check=0)
    assert p.stdout.count("Legacy assignment") == len(r["legacy"])
    assert p.stdout.count("still registered to") == 0
    assert p.stdout.count("unexpected-service") == 2


@pytest.fixture
def named_listener(tmp_path):
    """A Python process whose command name is `name`, listening on
    127.0.0.1:port: run through a symbolic link of that name (its
    executable stays Python's), or with copy=True from a root-owned copy of
    the interpreter by that name (as a package would install it)."""
    procs = []

    def start(name, port, copy=False):
        exe = tmp_path / ("copy" if copy else "link") / name
        exe.parent.mkdir(exist_ok=True)
        if not exe.exists():
            if copy:
                shutil.copy(os.path.realpath(sys.executable), exe)
                exe.chmod(0o755)
            else:
                exe.symlink_to(sys.executable)
        code = ("import socket,time\n"
                "s=socket.socket()\n"
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(('127.0.0.1', {port}))\n"
                "s.listen(5)\n"
                "print('ok', flush=True)\n"
                "time.sleep(60)\n")
        p = subprocess.Popen([str(exe), "-c", code], stdout=subprocess.PIPE, text=True)
        procs.append(p)
        if p.stdout.readline().strip() != "ok":
            pytest.skip(f"cannot listen on 127.0.0.1:{port}")
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()


@pytest.mark.parametrize("port,program,service", [(22, "sshd", "ssh"), (3306, "mysqld", "mysql")])
def test_trojan_history_is_information_when_the_service_owns_the_port(
        daemon, named_listener, port, program, service):
    """Port 22 with sshd on it: its malware history is information, not an
    alarm; the same port held by another program is a warning."""
    proc = named_listener(program, port, copy=True)
    l = find(daemon, port)
    f = next(f for f in l["findings"] if f["code"] == "trojan-history")
    assert f["severity"] == "info" and f"{program}, the program of the registered service " \
        f"{service}, listens here" in f["message"]
    r = daemon.https("GET", f"/api/v1/ports/{port}").json
    t = next(t for t in r["trojan_history"] if t["protocol"] == "tcp")
    assert t["severity"] == "info" and "information only" in t["message"]
    p = daemon.cli("ports", str(port), check=0)
    assert f"Malware history (tcp):\n  port {port}/tcp was historically also used by malware (" \
        in p.stdout
    assert "Warning" not in p.stdout
    proc.kill()
    proc.wait()

    # A command name is whatever a process sets: one that only calls itself
    # the service's program (a link by that name, its executable Python) is
    # another program.
    proc = named_listener(program, port)
    f = next(f for f in find(daemon, port)["findings"] if f["code"] == "trojan-history")
    assert f["severity"] == "warning" and "not the registered service" in f["message"]
    proc.kill()
    proc.wait()

    named_listener("python-other", port)
    f = next(f for f in find(daemon, port)["findings"] if f["code"] == "trojan-history")
    assert f["severity"] == "warning" and "not the registered service" in f["message"]
    t = next(t for t in daemon.https("GET", f"/api/v1/ports/{port}").json["trojan_history"]
             if t["protocol"] == "tcp")
    assert t["severity"] == "warning" and "python-other listens here" in t["message"]
    p = daemon.cli("ports", str(port), check=0)
    assert "Warning: malware history (tcp)" in p.stdout
    assert p.stdout.count("historically used by malware") == 1


def test_trojan_history_with_nothing_listening(daemon):
    r = daemon.https("GET", "/api/v1/ports/registry/31337").json
    assert r["trojan_history"] and all(t["severity"] == "info" for t in r["trojan_history"])
    r = daemon.https("GET", "/api/v1/ports/31337")
    if r.status == 200 and not r.json["listeners"]:
        assert all(t["message"].endswith("; nothing listens on it now")
                   for t in r.json["trojan_history"])


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_cli_failures_are_reported(daemon, json_flag):
    """The table and --json, piped, read the answer raw: a server whose
    certificate is not the pinned one and a refusal are still said as every
    other verb says them, with the same exit codes, and nothing is printed
    as if it were the listing."""
    wrong = "SHA256:" + "00" * 32
    p = daemon.cli("-H", f"127.0.0.1:{daemon.port}", "--fingerprint", wrong, *json_flag,
                   "ports", env={"STEWARD_TOKEN": daemon.token})
    assert p.returncode == 3, (p.returncode, p.stderr)  # unreachable
    assert "nothing was sent" in p.stderr and p.stdout == ""
    p = daemon.cli("-H", f"127.0.0.1:{daemon.port}", "--fingerprint", daemon.fingerprint,
                   *json_flag, "ports", env={"STEWARD_TOKEN": "stw_" + "x" * 40})
    assert p.returncode == 1, (p.returncode, p.stderr)  # refused
    assert "invalid token" in p.stderr and "PROTO" not in p.stdout
    if json_flag:
        assert "error" in json.loads(p.stdout)
    else:
        assert p.stdout == ""
