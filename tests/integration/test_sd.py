"""Prometheus HTTP service discovery, GET /api/v1/sd (docs/fleet.md, "Prometheus").

On loopback: the answer's shape and who may read it.  In a network namespace
with only a loopback interface (created here, always deleted): the daemon's
own sweep (stewardd:discovery:sd_peers) against a fake peer that answers
discovery requests, its own answer never counted, peers expiring and
forgotten.  Across three daemons of the fleet fixture (fleet_ns.py): peers
found on a bridge, and a real Prometheus (Debian's) that finds every member
through one member's /api/v1/sd and scrapes them all."""
import contextlib
import json
import os
import secrets
import re
import shutil
import subprocess
import sys
import time

import pytest

from fleet_ns import fleet3  # noqa: F401 (the module-scoped fixture of three daemons)

FP_RE = r"^SHA256:[0-9a-f]{64}$"


def admin_patch(d, changes, via_unix=False):
    if via_unix:
        r = d.unix("PATCH", "/api/v1/modules/stewardd/settings", changes)
    else:
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", changes)
    assert r.status == 200, r
    return r


def monitor_token(d):
    r = d.https("POST", "/api/v1/tokens", {"name": "prometheus", "role": "monitor"})
    assert r.status in (200, 201), r
    return r.json["token"]


def check_group(g, target, source, version="0.1.0"):
    assert set(g) == {"targets", "labels"}
    assert g["targets"] == [target]
    labels = g["labels"]
    assert labels["__scheme__"] == "https"
    assert labels["__metrics_path__"] == "/metrics"
    assert labels["__meta_steward_source"] == source
    assert labels["__meta_steward_version"] == version
    assert re.match(FP_RE, labels["__meta_steward_fingerprint"]), labels
    assert 1 <= len(labels["__meta_steward_host"]) <= 64
    assert all(isinstance(v, str) for v in labels.values())


# --- on loopback ---

def test_shape_self_first(make_daemon):
    d = make_daemon()
    r = d.https("GET", "/api/v1/sd")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("application/json")
    groups = r.json
    assert isinstance(groups, list) and len(groups) == 1
    check_group(groups[0], f"127.0.0.1:{d.port}", "self")
    assert groups[0]["labels"]["__meta_steward_fingerprint"] == d.fingerprint
    import socket
    assert groups[0]["labels"]["__meta_steward_host"] == socket.gethostname()[:64]
    # Over the unix socket (no address reached): the TCP listener's.
    r = d.unix("GET", "/api/v1/sd")
    assert r.status == 200 and r.json == groups
    # Only GET (and HEAD).
    assert d.https("POST", "/api/v1/sd").status == 405
    assert d.https("DELETE", "/api/v1/sd").status == 405


def test_who_may_read(make_daemon):
    d = make_daemon()
    assert d.https("GET", "/api/v1/sd", token=False).status == 401
    assert d.https("GET", "/api/v1/sd", token="stw_" + "0" * 64).status == 401
    # A monitor's token, as for GET /metrics: one Prometheus credential.
    tok = monitor_token(d)
    r = d.https("GET", "/api/v1/sd", token=tok)
    assert r.status == 200 and r.json[0]["labels"]["__meta_steward_source"] == "self"
    assert r.json[0]["labels"]["__meta_steward_version"] == "0.1.0"
    assert d.https("GET", "/metrics", token=tok).status == 200
    # A network in metrics:allow_from reads both without a token...
    admin_patch(d, {"metrics:allow_from": ["127.0.0.0/8"]})
    r = d.https("GET", "/api/v1/sd", token=False)
    assert r.status == 200, r
    assert r.json[0]["targets"] == [f"127.0.0.1:{d.port}"]
    # ...without the version (a token holder's answer has it).
    assert "__meta_steward_version" not in r.json[0]["labels"], r.json
    assert d.https("GET", "/api/v1/sd", token=tok).json[0]["labels"][
        "__meta_steward_version"] == "0.1.0"
    assert d.https("GET", "/metrics", token=False).status == 200
    # ...and nothing else.
    for path in ("/api/v1/modules", "/api/v1/whoami", "/api/v1/sd/x", "/api/v1/audit"):
        assert d.https("GET", path, token=False).status == 401, path
    assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"},
                   token=False).status == 401
    # Another network: a token again.
    admin_patch(d, {"metrics:allow_from": ["192.0.2.0/24"]})
    assert d.https("GET", "/api/v1/sd", token=False).status == 401


def test_settings_bounds(make_daemon):
    d = make_daemon()
    r = d.https("GET", "/api/v1/modules/stewardd/settings?key=discovery")
    assert r.status == 200, r
    assert r.json["discovery"]["sd_peers"] is False
    assert r.json["discovery"]["sd_interval"] == 60
    for bad in ({"discovery:sd_interval": 1}, {"discovery:sd_interval": 86401},
                {"discovery:sd_interval": "5"}, {"discovery:sd_peers": "yes please"}):
        assert d.https("PATCH", "/api/v1/modules/stewardd/settings", bad).status == 422, bad


# --- the sweep, in a namespace with only loopback ---

def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def in_ns(ns):
    return lambda argv: ["ip", "netns", "exec", ns, *[str(a) for a in argv]]


@pytest.fixture
def lo_ns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and ip(8)")
    ns = f"steward-sd-{secrets.token_hex(3)}"
    ip("netns", "add", ns)
    try:
        ip("-n", ns, "link", "set", "lo", "up")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# A discovery responder that is not stewardd: answers every request with the
# fields given, and with a second answer whose nonce is wrong (never to be
# counted); with a certificate and key, serves TLS on bind:tcp_port (each
# handshake completed, then closed).  Extra modes, each answer sent before
# the honest one:
#   hijack:ADDR:PORT:CERT:KEY  also answers from ADDR with the same host and
#     fingerprint but port PORT, where it serves TLS with another certificate;
#   flood:ADDR:N  also sends, from ADDR, N answers of N made-up identities.
# Prints "ready" once bound.
FAKE_PEER = r"""
import os, socket, ssl, struct, sys, threading, time
port, host, fp, tcp_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
bind, cert, key, mode = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
def answer(nonce, host, fp=fp, tcp_port=tcp_port):
    f = b""
    for t, v in ((1, host), (2, "9.9.9"), (3, fp)):
        f += bytes([t, len(v)]) + v.encode()
    return b"STWD" + bytes([1, 2]) + struct.pack(">H", 0) + nonce + struct.pack(">H", tcp_port) + f
def tls_server(addr, port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.create_server((addr, port))
    def serve():
        while True:
            c, _ = ls.accept()
            c.settimeout(3)
            try:
                with ctx.wrap_socket(c, server_side=True) as t:
                    t.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()
    threading.Thread(target=serve, daemon=True).start()
if cert != "-":
    tls_server(bind, tcp_port, cert, key)
extra = None
if mode.startswith("hijack:"):
    _, addr, hport, hcert, hkey = mode.split(":")
    tls_server(addr, int(hport), hcert, hkey)
    extra = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    extra.bind((addr, 0))
elif mode.startswith("flood:"):
    _, addr, count = mode.split(":")
    extra = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    extra.bind((addr, 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((bind, port))
print("ready", flush=True)
while True:
    data, src = s.recvfrom(2048)
    if len(data) < 512 or data[:4] != b"STWD" or data[5] != 1:
        continue
    nonce = data[8:24]
    s.sendto(answer(bytes(16), "forged"), src)
    if mode.startswith("hijack:"):
        extra.sendto(answer(nonce, host, tcp_port=int(hport)), src)
    elif mode.startswith("flood:"):
        for i in range(int(count)):
            extra.sendto(answer(nonce, f"flood{i}", "SHA256:" + os.urandom(32).hex(),
                                tcp_port=20000 + i), src)
            if i % 100 == 99:
                time.sleep(0.01)  # a pace the receive buffer keeps up with
    s.sendto(answer(nonce, host), src)
"""


def make_cert(tmp_path, name):
    """A self-signed certificate and key in tmp_path; (cert, key, fingerprint)."""
    import hashlib
    import ssl
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return cert, key, "SHA256:" + hashlib.sha256(der).hexdigest()


class FakePeer:
    def __init__(self, ns, port, host, fp, tcp_port, bind="127.0.0.1", cert="-", key="-",
                 mode="-"):
        self.p = subprocess.Popen(in_ns(ns)([sys.executable, "-c", FAKE_PEER, port, host, fp,
                                             tcp_port, bind, cert, key, mode]),
                                  stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready"

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.p.stdout.close()


def wait_listening(d, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.proc.poll() is not None:
            raise RuntimeError(f"stewardd exited {d.proc.returncode}:\n{d.log_text()}")
        if "listening on" in d.log_text() and os.path.exists(d.sock):
            return d
        time.sleep(0.05)
    raise RuntimeError(f"stewardd did not start:\n{d.log_text()}")


def sd(d):
    r = d.unix("GET", "/api/v1/sd")
    assert r.status == 200, r
    return r.json


def wait_for(pred, what, timeout=20):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.time() < deadline, what
        time.sleep(0.1)


@pytest.mark.namespaces
def test_sweep_finds_a_peer_and_forgets_it(make_daemon, lo_ns, tmp_path):
    # No --udp: this daemon answers no discovery, so its sweep asks port 660,
    # where the fake peer listens (inside the namespace: nothing on the host).
    cert, key, fp = make_cert(tmp_path, "fake1")
    peer = FakePeer(lo_ns, 660, "fake1", fp, 8443, cert=cert, key=key)
    try:
        d = make_daemon(config_text="discovery:sd_peers = yes\ndiscovery:sd_interval = 2\n",
                        start=False, wrap=in_ns(lo_ns))
        wait_listening(d.start(wait=False))
        groups = wait_for(lambda: (g := sd(d)) and len(g) > 1 and g, "the peer is listed")
        assert len(groups) == 2, groups
        assert groups[0]["labels"]["__meta_steward_source"] == "self"
        assert groups[0]["targets"] == [f"127.0.0.1:{d.port}"]
        check_group(groups[1], "127.0.0.1:8443", "discovery", version="9.9.9")
        assert groups[1]["labels"]["__meta_steward_host"] == "fake1"  # not "forged"
        assert groups[1]["labels"]["__meta_steward_fingerprint"] == fp
        # Still one row after more sweeps (answers merged, not appended).
        time.sleep(2.5)
        assert len(sd(d)) == 2
        facts = d.unix("GET", "/api/v1/modules/stewardd?full=1").json["service_discovery"]
        assert facts["peers"] == 1 and facts["sweeps"] >= 2 and facts["sweeps_unsent"] == 0

        # Off: forgotten within a second or so; on again: found again.
        admin_patch(d, {"discovery:sd_peers": False}, via_unix=True)
        wait_for(lambda: len(sd(d)) == 1, "peers forgotten when turned off", timeout=5)
        admin_patch(d, {"discovery:sd_peers": True}, via_unix=True)
        wait_for(lambda: len(sd(d)) == 2, "peers found again when turned on", timeout=10)

        # The peer goes silent: listed for two more sweeps, gone at the third.
        peer.stop()
        t0 = time.monotonic()
        wait_for(lambda: len(sd(d)) == 1, "a silent peer expires", timeout=20)
        assert time.monotonic() - t0 >= 2 * 2 - 1  # not at the first missed sweep
        d.check_clean_exit()
    finally:
        peer.stop()


def sd_peers_after_sweeps(d, sweeps):
    """The peers listed after `sweeps` more sweeps have ended."""
    def count():
        return d.unix("GET", "/api/v1/modules/stewardd?full=1").json["service_discovery"][
            "sweeps"]
    start = count()
    wait_for(lambda: count() >= start + sweeps + 1, f"{sweeps} more sweeps", timeout=60)
    return peers_of(sd(d))


@pytest.mark.namespaces
def test_copied_identity_is_not_listed(make_daemon, lo_ns, tmp_path):
    # A real peer at 127.0.0.1:8443 and, answering first, a copy of its
    # identity (fingerprint and host name) from 127.0.0.2 whose TLS server
    # has another certificate: only the real one is listed, at its address.
    cert, key, fp = make_cert(tmp_path, "real")
    other_cert, other_key, _ = make_cert(tmp_path, "copy")
    peer = FakePeer(lo_ns, 660, "real", fp, 8443, cert=cert, key=key,
                    mode=f"hijack:127.0.0.2:8444:{other_cert}:{other_key}")
    try:
        d = make_daemon(config_text="discovery:sd_peers = yes\ndiscovery:sd_interval = 2\n",
                        start=False, wrap=in_ns(lo_ns))
        wait_listening(d.start(wait=False))
        wait_for(lambda: peers_of(sd(d)), "the real peer is listed")
        for _ in range(2):
            peers = sd_peers_after_sweeps(d, 1)
            assert [(p["targets"], p["labels"]["__meta_steward_fingerprint"]) for p in peers] \
                == [(["127.0.0.1:8443"], fp)], peers
        d.check_clean_exit()
    finally:
        peer.stop()


@pytest.mark.namespaces
def test_flood_of_identities_does_not_evict(make_daemon, lo_ns, tmp_path):
    # 1,100 made-up identities from 127.0.0.3 before every honest answer: the
    # real peer stays listed past SD_PEER_MISSES sweeps, the flood never is.
    cert, key, fp = make_cert(tmp_path, "real")
    peer = FakePeer(lo_ns, 660, "real", fp, 8443, cert=cert, key=key,
                    mode="flood:127.0.0.3:1100")
    try:
        d = make_daemon(config_text="discovery:sd_peers = yes\ndiscovery:sd_interval = 2\n",
                        start=False, wrap=in_ns(lo_ns))
        wait_listening(d.start(wait=False))
        wait_for(lambda: peers_of(sd(d)), "the real peer is listed")
        peers = sd_peers_after_sweeps(d, 4)
        assert [(p["targets"], p["labels"]["__meta_steward_host"]) for p in peers] \
            == [(["127.0.0.1:8443"], "real")], peers
        d.check_clean_exit()
    finally:
        peer.stop()


@pytest.mark.namespaces
def test_own_answer_is_not_a_peer(make_daemon, lo_ns):
    d = make_daemon(extra_args=("--udp", "127.0.0.1:660"),
                    config_text="discovery:sd_interval = 2\n", start=False, wrap=in_ns(lo_ns))
    wait_listening(d.start(wait=False))

    def answered():
        return d.unix("GET", "/api/v1/modules/stewardd?full=1").json["discovery_counters"][
            "answered"]

    # Off by default: no sweep, so its own responder answers nothing.
    time.sleep(2.5)
    assert answered() == 0
    facts = d.unix("GET", "/api/v1/modules/stewardd?full=1").json["service_discovery"]
    assert facts == {"peers": 0, "sweeps": 0, "sweeps_unsent": 0}
    admin_patch(d, {"discovery:sd_peers": True}, via_unix=True)
    wait_for(lambda: answered() >= 2, "two sweeps answered by its own responder")
    groups = sd(d)
    assert [g["labels"]["__meta_steward_source"] for g in groups] == ["self"], groups
    d.check_clean_exit()


# --- three daemons on a bridge (fleet_ns.py) ---


def peers_of(groups):
    return [g for g in groups if g["labels"]["__meta_steward_source"] == "discovery"]


@pytest.mark.namespaces
def test_fleet_peers_on_and_off(fleet3):
    m1, others = fleet3.members[0], fleet3.members[1:]
    groups = m1.https("GET", "/api/v1/sd").json
    assert len(groups) == 1
    check_group(groups[0], m1.addr, "self")
    assert groups[0]["labels"]["__meta_steward_fingerprint"] == m1.daemon.fingerprint

    m1.https("PATCH", "/api/v1/modules/stewardd/settings",
             {"discovery:sd_peers": True, "discovery:sd_interval": 2})
    want = sorted((m.addr, m.daemon.fingerprint) for m in others)

    def found():
        g = m1.https("GET", "/api/v1/sd").json
        got = sorted((p["targets"][0], p["labels"]["__meta_steward_fingerprint"])
                     for p in peers_of(g))
        return g if got == want else None

    groups = wait_for(found, "both other members listed as peers")
    assert groups[0]["targets"] == [m1.addr]
    assert groups[0]["labels"]["__meta_steward_source"] == "self"
    for p in peers_of(groups):
        check_group(p, p["targets"][0], "discovery")
    # One row per server, never this server again.
    fps = [g["labels"]["__meta_steward_fingerprint"] for g in groups]
    assert len(fps) == len(set(fps)) == 3
    # The others still list only themselves: the setting is per server.
    for m in others:
        assert len(m.https("GET", "/api/v1/sd").json) == 1

    m1.https("PATCH", "/api/v1/modules/stewardd/settings", {"discovery:sd_peers": False})
    wait_for(lambda: len(m1.https("GET", "/api/v1/sd").json) == 1, "peers forgotten", timeout=5)


PROMETHEUS = "/usr/bin/prometheus"


def prom_get(port, path):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def prometheus_config(sd_url, token_file, ca_file, fingerprints):
    """docs/prometheus/prometheus.yml itself, its example names replaced by the
    test's, and 1 s intervals."""
    from conftest import ROOT
    text = "".join(l for l in (ROOT / "docs" / "prometheus" / "prometheus.yml")
                   .read_text().splitlines(keepends=True) if not l.lstrip().startswith("#"))
    for old, new in [("https://web1.example.net:660/api/v1/sd", sd_url),
                     ("/etc/prometheus/steward-sd.token", str(token_file)),
                     ("scrape_interval: 15s", "scrape_interval: 1s\n  scrape_timeout: 1s"),
                     ("refresh_interval: 60s", "refresh_interval: 1s")]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    assert text.count("/etc/prometheus/steward-ca.pem") == 2
    text = text.replace("/etc/prometheus/steward-ca.pem", str(ca_file))
    text, n = re.subn(r'regex: "SHA256:\([^"]*\)"', f'regex: "({"|".join(fingerprints)})"', text)
    assert n == 1
    return text


@contextlib.contextmanager
def prometheus(tmp_path, config_text):
    """Debian's Prometheus on 127.0.0.1:PORT, its storage in tmp_path;
    stopped (and waited for) on the way out, whatever happened."""
    from conftest import free_port
    config = tmp_path / "prometheus.yml"
    config.write_text(config_text)
    port = free_port()
    with open(tmp_path / "prometheus.log", "wb") as log:
        p = subprocess.Popen([PROMETHEUS, f"--config.file={config}",
                              f"--storage.tsdb.path={tmp_path / 'data'}",
                              f"--web.listen-address=127.0.0.1:{port}"],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            yield p, port
        finally:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.mark.namespaces
def test_real_prometheus_finds_and_scrapes_every_member(fleet3, tmp_path):
    if not os.access(PROMETHEUS, os.X_OK):
        pytest.skip("needs prometheus (scripts/install-deps.sh test)")
    members = fleet3.members
    m1 = members[0]
    want = sorted(m.addr for m in members)
    with contextlib.ExitStack() as undo:
        # Scrapes come from the host's address on the bridge, without a
        # token (a token is one server's), allowed on every member by the
        # one command docs/fleet.md gives; the discovery request carries m1's
        # monitor token.
        for m in members:
            undo.callback(m.https, "PATCH", "/api/v1/modules/stewardd/settings",
                          {"metrics:allow_from": [], "discovery:sd_peers": False})
        fleet3.login_all()
        p = fleet3.cli("-H", "@all", "--yes", "settings",
                       f'stewardd:metrics:allow_from:_array_index:0 = "{fleet3.host_ip}/32"',
                       check=0)
        for m in members:
            r = m.https("GET", "/api/v1/modules/stewardd/settings?key=metrics")
            assert r.json["metrics"]["allow_from"] == [f"{fleet3.host_ip}/32"], (m, p.stdout)
        m1.https("PATCH", "/api/v1/modules/stewardd/settings",
                 {"discovery:sd_peers": True, "discovery:sd_interval": 2})
        # Someone else on the bridge answers discovery too, with a
        # certificate of its own: verified, so listed by m1, and dropped by
        # the relabel rule that keeps the fingerprints we know.
        ns, intruder_ip = fleet3.add_ns("intruder")
        cert, key, fp = make_cert(tmp_path, "intruder")
        intruder = FakePeer(ns, 660, "intruder", fp, 660, bind="0.0.0.0", cert=cert, key=key)
        undo.callback(intruder.stop)
        wait_for(lambda: len(m1.https("GET", "/api/v1/sd").json) == 4,
                 "the three members and the intruder listed")
        token = tmp_path / "sd.token"
        token.write_text(monitor_token(m1.daemon) + "\n")
        fps = [m.daemon.fingerprint for m in members]
        p, port = undo.enter_context(prometheus(tmp_path, prometheus_config(
            f"https://{m1.addr}/api/v1/sd", token, fleet3.ca_cert, fps)))

        def all_up():
            assert p.poll() is None, (tmp_path / "prometheus.log").read_text()[-4000:]
            try:
                t = prom_get(port, "/api/v1/targets")["data"]["activeTargets"]
            except OSError:
                return None
            up = sorted(x["labels"]["instance"] for x in t if x["health"] == "up")
            return t if up == want and len(t) == len(want) else None

        targets = wait_for(all_up, "every member up in Prometheus", timeout=60)
        for t in targets:
            assert t["scrapeUrl"] == f"https://{t['labels']['instance']}/metrics"
            assert t["discoveredLabels"]["__meta_steward_fingerprint"] in fps
            assert t["labels"]["host"] == t["discoveredLabels"]["__meta_steward_host"]
        dropped = prom_get(port, "/api/v1/targets?state=dropped")["data"]["droppedTargets"]
        assert [t["discoveredLabels"]["__address__"] for t in dropped] == [f"{intruder_ip}:660"]

        def query(q):
            r = prom_get(port, f"/api/v1/query?query={q}")
            assert r["status"] == "success", r
            return {x["metric"]["instance"]: x["value"][1] for x in r["data"]["result"]}

        up = wait_for(lambda: (u := query("up")) and sorted(u) == want and u, "up for each")
        assert set(up.values()) == {"1"}, up
        load = wait_for(lambda: (v := query("node_load1")) and sorted(v) == want and v,
                        "node_load1 of each member")
        for v in load.values():
            assert float(v) >= 0
