"""Discovery on UDP (docs/discovery.md): the responder against a raw client on
loopback, `steward discover` on loopback, and `steward discover` across
network namespaces that the test creates (and always deletes)."""
import json
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import SANITIZER_MARKS, STEWARD

MAGIC = b"STWD"
REQUEST, ANSWER = 1, 2
MIN_REQUEST = 512
TLV_HOST, TLV_VERSION, TLV_FINGERPRINT = 1, 2, 3


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(nonce=None, size=MIN_REQUEST, magic=MAGIC, version=1, type_=REQUEST, flags=0):
    nonce = nonce if nonce is not None else secrets.token_bytes(16)
    head = magic + bytes([version, type_]) + struct.pack(">H", flags) + nonce
    return head + bytes(max(0, size - len(head)))


def parse_answer(data):
    """The answer's fields, checked against the layout byte by byte."""
    assert data[:4] == MAGIC
    assert data[4] == 1 and data[5] == ANSWER
    flags, = struct.unpack(">H", data[6:8])
    nonce = data[8:24]
    port, = struct.unpack(">H", data[24:26])
    fields, off = {}, 26
    while off < len(data):
        t, n = data[off], data[off + 1]
        assert off + 2 + n <= len(data), "a field runs past the datagram"
        assert t not in fields, "a field appears twice"
        fields[t] = data[off + 2:off + 2 + n].decode("ascii")
        off += 2 + n
    return {"flags": flags, "nonce": nonce, "port": port, "host": fields.get(TLV_HOST),
            "version": fields.get(TLV_VERSION), "fingerprint": fields.get(TLV_FINGERPRINT)}


class Client:
    """A raw UDP client on loopback."""

    def __init__(self, port, source="127.0.0.1"):
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))

    def send(self, data):
        self.sock.sendto(data, self.addr)

    def answers(self, wait=0.5):
        """Every datagram that arrives within `wait` seconds."""
        got, deadline = [], time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(65536))
            except socket.timeout:
                return got

    def close(self):
        self.sock.close()


def stop_and_counters(d):
    """Stops the daemon (cleanly, no sanitizer report) and returns the
    discovery counters it logged at stop."""
    d.check_clean_exit()
    m = re.search(r"discovery: (\d+) answered, dropped (\d+) malformed, (\d+) rate-limited, "
                  r"(\d+) while disabled; (\d+) not sent", d.log_text())
    assert m, d.log_text()[-2000:]
    keys = ("answered", "dropped_malformed", "dropped_rate_limited", "dropped_disabled",
            "send_failed")
    return dict(zip(keys, map(int, m.groups())))


@pytest.fixture
def udp_daemon(make_daemon):
    def make(config_text=None, **kw):
        port = free_udp_port()
        d = make_daemon(extra_args=("--udp", f"127.0.0.1:{port}"), config_text=config_text, **kw)
        d.udp_port = port
        return d
    return make


# --- the responder, from a raw client ---

def test_valid_request_gets_one_answer(udp_daemon):
    d = udp_daemon()
    c = Client(d.udp_port)
    req = request()
    c.send(req)
    got = c.answers(1.0)
    c.close()
    assert len(got) == 1
    ans = got[0]
    assert len(ans) <= len(req)
    a = parse_answer(ans)
    assert a["nonce"] == req[8:24]
    assert a["flags"] == 0
    assert a["port"] == d.port
    assert a["fingerprint"] == d.fingerprint
    assert a["host"] == socket.gethostname()[:64]
    assert a["version"] == "0.1.0"
    live = d.https("GET", "/api/v1/modules/stewardd?full=1").json["discovery_counters"]
    assert live["answered"] == 1 and live["dropped_malformed"] == 0
    assert stop_and_counters(d)["answered"] == 1


def test_ipv6_request_gets_one_answer(make_daemon):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]
    d = make_daemon(extra_args=("--udp", f"[::1]:{port}"))
    assert f"answering discovery requests on udp [::1]:{port}" in d.log_text()
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        req = request()
        s.sendto(req, ("::1", port))
        ans = s.recv(65536)
    assert len(ans) <= len(req)
    a = parse_answer(ans)
    assert (a["nonce"], a["port"], a["fingerprint"]) == (req[8:24], d.port, d.fingerprint)


def test_largest_request_and_flags_are_accepted(udp_daemon):
    d = udp_daemon()
    c = Client(d.udp_port)
    for req in (request(size=1500), request(flags=0xffff)):
        c.send(req)
        got = c.answers(1.0)
        assert len(got) == 1 and len(got[0]) <= len(req)
        assert parse_answer(got[0])["nonce"] == req[8:24]
    c.close()


def test_malformed_requests_are_never_answered(udp_daemon):
    d = udp_daemon()
    c = Client(d.udp_port)
    bad = {
        "empty": b"",
        "undersized": request(size=MIN_REQUEST - 1),
        "header only": request(size=24),
        "oversized": request(size=1501),
        "far oversized": request(size=8000),
        "bad magic": request(magic=b"STWX"),
        "bad version 0": request(version=0),
        "bad version 2": request(version=2),
        "an answer": request(type_=ANSWER),
        "unknown type": request(type_=7),
        "padding not zero": request()[:-1] + b"\x01",
        "garbage": secrets.token_bytes(MIN_REQUEST),
        "text": b"GET / HTTP/1.0\r\n\r\n" * 40,
    }
    for name, data in bad.items():
        c.send(data)
        assert c.answers(0.3) == [], name
    # Still alive, and nothing above used up the source's rate.
    req = request()
    c.send(req)
    got = c.answers(1.0)
    c.close()
    assert len(got) == 1 and parse_answer(got[0])["nonce"] == req[8:24]
    counters = stop_and_counters(d)
    assert counters["dropped_malformed"] == len(bad)
    assert counters["answered"] == 1
    assert counters["dropped_rate_limited"] == 0


def test_flood_from_one_source_is_rate_limited(udp_daemon):
    rate = 5
    d = udp_daemon(config_text=f"discovery:rate_per_source = {rate}\n")
    c = Client(d.udp_port)
    t0 = time.monotonic()
    for _ in range(200):
        c.send(request())
        time.sleep(0.002)  # paced so that the daemon's socket buffer never overflows
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0
    got = c.answers(0.5)
    # A full bucket (one second's worth) plus what refills meanwhile.
    assert rate <= len(got) <= rate * (1 + elapsed + 0.5) + 1, (len(got), elapsed)
    for ans in got:
        assert len(ans) <= MIN_REQUEST
    # The bucket refills: a second later the source is answered again.
    time.sleep(1.1)
    c.send(request())
    assert len(c.answers(1.0)) == 1
    c.close()
    counters = stop_and_counters(d)
    assert counters["answered"] == len(got) + 1
    assert counters["dropped_rate_limited"] == 200 - len(got)


def test_many_sources_meet_the_global_cap(udp_daemon):
    # 127.0.0.0/8 is all local: 400 distinct source addresses, one request each.
    d = udp_daemon(config_text="discovery:rate_per_source = 1000\n")
    clients = [Client(d.udp_port, source=f"127.1.{i // 200}.{i % 200 + 1}") for i in range(400)]
    t0 = time.monotonic()
    for c in clients:
        c.send(request())
        time.sleep(0.001)
    elapsed = time.monotonic() - t0
    time.sleep(0.5)
    answered = 0
    for c in clients:
        c.sock.setblocking(False)
        try:
            c.sock.recv(65536)
            answered += 1
        except BlockingIOError:
            pass
        c.close()
    assert 200 <= answered <= 200 * (1 + elapsed + 0.5) + 1, (answered, elapsed)
    counters = stop_and_counters(d)
    assert counters["answered"] == answered
    assert counters["dropped_rate_limited"] == 400 - answered


def test_disabled_means_no_answers(udp_daemon):
    d = udp_daemon()
    c = Client(d.udp_port)
    d.cli("settings", "stewardd:discovery:enabled", "=", "no", check=0)
    c.send(request())
    assert c.answers(0.5) == []
    d.cli("settings", "stewardd:discovery:enabled", "=", "yes", check=0)
    c.send(request())
    assert len(c.answers(1.0)) == 1
    c.close()
    counters = stop_and_counters(d)
    assert counters["dropped_disabled"] == 1 and counters["answered"] == 1


def test_disabled_in_the_config_file(udp_daemon):
    d = udp_daemon(config_text="discovery:enabled = no\n")
    c = Client(d.udp_port)
    c.send(request())
    assert c.answers(0.5) == []
    c.close()


def test_udp_off_binds_nothing(make_daemon):
    d = make_daemon()  # conftest passes --udp off
    assert "answering discovery requests" not in d.log_text()


# --- steward discover ---
#
# The CLI broadcasts on every interface it finds, so it only ever runs in
# network namespaces the test created: nothing leaves this machine.

def run_cli(*args, wrap=None):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    argv = [str(STEWARD), *args]
    p = subprocess.run(wrap(argv) if wrap else argv, capture_output=True, text=True, env=env,
                       timeout=60)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def in_ns(ns):
    return lambda argv: ["ip", "netns", "exec", ns, *[str(a) for a in argv]]


@pytest.fixture
def make_netns():
    """Creates network namespaces named steward-t-SUFFIX-KEY (loopback up
    unless lo_up=False, no duplicate address detection) and deletes them at teardown, whatever
    happened."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and ip(8)")
    suffix = secrets.token_hex(3)
    created = []

    def make(key, lo_up=True):
        ns = f"steward-t-{suffix}-{key}"
        ip("netns", "add", ns)
        created.append(ns)
        if lo_up:
            ip("-n", ns, "link", "set", "lo", "up")
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                        "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"],
                       capture_output=True)
        return ns

    try:
        yield make
    finally:
        for ns in created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def wait_started(d, timeout=20):
    """Daemon.wait_ready() connects from this namespace; this reads the log."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.proc.poll() is not None:
            raise RuntimeError(f"stewardd exited {d.proc.returncode}:\n{d.log_text()}")
        text = d.log_text()
        if "answering discovery requests" in text and "listening on" in text:
            return d
        time.sleep(0.05)
    raise RuntimeError(f"stewardd did not start:\n{d.log_text()}")


@pytest.fixture
def lo_ns(make_netns):
    """A namespace with only a loopback interface."""
    return make_netns("lo")


def test_cli_discover_finds_the_local_daemon(make_daemon, lo_ns):
    udp_port = free_udp_port()
    d = make_daemon(extra_args=("--udp", f"127.0.0.1:{udp_port}"), start=False, wrap=in_ns(lo_ns))
    wait_started(d.start(wait=False))
    p = run_cli("--json", "discover", "--port", str(udp_port), "--timeout", "1", wrap=in_ns(lo_ns))
    assert p.returncode == 0, p.stderr
    found = json.loads(p.stdout)
    assert [(s["address"], s["port"], s["fingerprint"]) for s in found] == \
        [("127.0.0.1", d.port, d.fingerprint)]
    assert found[0]["host"] == socket.gethostname()[:64]
    assert found[0]["version"] == "0.1.0"

    time.sleep(1.0)  # let the source's bucket refill
    p = run_cli("discover", "--port", str(udp_port), "--timeout", "0.5", wrap=in_ns(lo_ns))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["HOST", "ADDRESS", "PORT", "FINGERPRINT"]
    assert lines[1].split()[1:] == ["127.0.0.1", str(d.port), d.fingerprint]
    assert len(lines) == 2
    assert f"steward --fingerprint {d.fingerprint} login 127.0.0.1:{d.port}" in p.stderr


def test_cli_discover_none_found(lo_ns):
    port = free_udp_port()
    p = run_cli("discover", "--port", str(port), "--timeout", "0.3", wrap=in_ns(lo_ns))
    assert (p.returncode, p.stdout) == (0, "no stewardd found\n"), p.stderr
    p = run_cli("--json", "discover", "--port", str(port), "--timeout", "0.3", wrap=in_ns(lo_ns))
    assert p.returncode == 0 and json.loads(p.stdout) == []


def test_cli_discover_no_network_at_all(make_netns):
    ns = make_netns("down", lo_up=False)  # no interface up, no address, no route
    p = run_cli("discover", "--timeout", "0.3", wrap=in_ns(ns))
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "cannot send a discovery request" in p.stderr


@pytest.mark.parametrize("args", [
    ("discover", "--timeout", "0"),
    ("discover", "--timeout", "-1"),
    ("discover", "--timeout", "1.2345"),
    ("discover", "--timeout", "soon"),
    ("discover", "--timeout", "601"),
    ("discover", "--port", "0"),
    ("discover", "--port", "65536"),
    ("discover", "--bogus"),
    ("discover", "extra"),
    ("-H", "127.0.0.1", "discover"),
])
def test_cli_discover_usage_errors(args):
    # Checked before any socket is opened: nothing is sent.
    p = run_cli(*args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""


@pytest.fixture
def three_ns(make_netns):
    """a and b joined to a bridge in c by veth pairs, on 10.250.N.0/24."""
    names = {k: make_netns(k) for k in "abc"}
    net = 1 + secrets.randbelow(254)
    c = names["c"]
    ip("-n", c, "link", "add", "br0", "type", "bridge", "forward_delay", "0")
    for i, k in enumerate("ab", start=1):
        ip("-n", c, "link", "add", f"v{k}", "type", "veth", "peer", "name", "eth0",
           "netns", names[k])
        ip("-n", c, "link", "set", f"v{k}", "master", "br0", "up")
        ip("-n", names[k], "addr", "add", f"10.250.{net}.{i}/24", "dev", "eth0")
        ip("-n", names[k], "link", "set", "eth0", "up")
    ip("-n", c, "addr", "add", f"10.250.{net}.3/24", "dev", "br0")
    ip("-n", c, "link", "set", "br0", "up")
    deadline = time.time() + 20
    while True:  # until the bridge forwards
        links = json.loads(subprocess.run(["ip", "-n", c, "-j", "link", "show"], check=True,
                                          capture_output=True, text=True).stdout)
        if all(l["operstate"] == "UP" for l in links if l["ifname"] != "lo"):
            break
        assert time.time() < deadline, links
        time.sleep(0.05)
    return names, net


@pytest.mark.namespaces
def test_cli_discover_across_namespaces(make_daemon, three_ns):
    ns, net = three_ns
    udp_port = free_udp_port()
    daemons = {}
    for k in "ab":
        d = make_daemon(extra_args=("--udp", f":{udp_port}"), start=False, name=k,
                        wrap=in_ns(ns[k]))
        daemons[k] = d.start(wait=False)
    for d in daemons.values():
        wait_started(d)
        # ":PORT" is every IPv4 and every IPv6 address.
        assert f"answering discovery requests on udp 0.0.0.0:{udp_port}" in d.log_text()
        assert f"answering discovery requests on udp [::]:{udp_port}" in d.log_text()

    p = run_cli("--json", "discover", "--port", str(udp_port), "--timeout", "1",
                wrap=in_ns(ns["c"]))
    assert p.returncode == 0, p.stderr
    found = json.loads(p.stdout)
    assert sorted((s["address"], s["port"], s["fingerprint"]) for s in found) == sorted([
        (f"10.250.{net}.1", daemons["a"].port, daemons["a"].fingerprint),
        (f"10.250.{net}.2", daemons["b"].port, daemons["b"].fingerprint),
    ]), found

    for d in daemons.values():
        assert stop_and_counters(d)["answered"] >= 1
