"""Every audit record also reaches a real rsyslog (Debian's rsyslogd) over
TCP, RFC 5424 with octet counting, and over UDP: the structured data as
rsyslog parses it (mmpstrucdata), the ids in order and the hash chain
intact, a refusal too, and nothing lost across an outage of the receiver
and a restart of the daemon (the forwarder's persisted cursor).

Layout (one per module): rsyslogd runs in a network namespace of its own,
reached from the host over a veth pair 10.121.N.0/30 (host .1, rsyslog .2;
10.123-10.127 are other fixtures'), with imtcp on 514 and imudp on 515 and
its own work directory; the daemon runs on the host (its state and config
in a scratch directory, nothing of the host's changed) and forwards to
tcp://10.121.N.2:514.  The daemon sees a scratch copy of /etc (private
mount namespace; the network is the host's): audit:syslog_ca_file must
name a file under /etc/, and the test CA goes into that copy.  Teardown stops both, deletes the namespace (and
with it the veth pair) and checks that none is left.
"""
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import Daemon

pytestmark = pytest.mark.namespaces

SD_ID = "steward@32473"
FIELDS = ("id", "user", "role", "source", "module", "operation", "result", "hash", "prev_hash")
# One line per record: the input, the header fields and each SD field.
LINE_TEMPLATE = """\
template(name="line" type="list") {{
  property(name="inputname") constant(value="|")
  property(name="msgid") constant(value="|")
  property(name="app-name") constant(value="|")
  property(name="pri") constant(value="|")
""" + "".join(f'  property(name="$!rfc5424-sd!{SD_ID}!{f}") constant(value="|")\n' for f in FIELDS) + """\
  property(name="msg") constant(value="\\n")
}}
"""


RSYSLOG_CONF = """\
global(workDirectory="{work}")
module(load="imtcp")
module(load="imudp")
module(load="mmpstrucdata")
module(load="imuxsock" SysSock.Use="off")
input(type="imtcp" port="514" address="{ip}" ruleset="in")
input(type="imuxsock" Socket="{dev}/log" ruleset="local")
input(type="imudp" port="515" address="{ip}" ruleset="udp")
""" + LINE_TEMPLATE + """\
ruleset(name="in") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{out}" template="line")
}}
template(name="local" type="string"
         string="%programname%|%procid%|%pri%|%msgid%|%structured-data%|%msg%\\n")
ruleset(name="local") {{
  action(type="omfile" file="{out_local}" template="local")
}}
ruleset(name="udp") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{out_udp}" template="line")
}}
"""


# The TLS receiver (RFC 5425): a second rsyslogd, since the netstream
# driver's certificates are global settings of one instance.
RSYSLOG_TLS_CONF = """\
global(workDirectory="{work}"
       DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="{ca}"
       DefaultNetstreamDriverCertFile="{cert}"
       DefaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
module(load="mmpstrucdata")
input(type="imtcp" port="6514" address="{ip}")
""" + LINE_TEMPLATE + """\
action(type="mmpstrucdata")
action(type="omfile" file="{out}" template="line")
"""


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class Syslog:
    """rsyslogd in its own network namespace, and the daemon forwarding to it."""

    def __init__(self, base: Path):
        self.base = base
        tag = secrets.token_hex(3)
        self.ns = f"steward-syslog-{tag}"
        self.veth = "vsl" + tag
        self.proc = None
        self.tls_proc = None
        self.work = base / "rsyslog"
        self.work.mkdir()
        self.out = self.work / "tcp.log"
        self.out_udp = self.work / "udp.log"
        self.conf = self.work / "rsyslog.conf"
        self.err_path = self.work / "rsyslogd.err"
        self.out_local = self.work / "local.log"
        # The /dev of the daemon that logs locally: the few device nodes a
        # daemon uses, and rsyslog's imuxsock socket as /dev/log (what the
        # system's syslog daemon offers there).
        self.dev = base / "dev"
        self.dev.mkdir(mode=0o755)
        for node in ("null", "zero", "full", "random", "urandom"):
            subprocess.run(["cp", "-a", "--", f"/dev/{node}", str(self.dev / node)], check=True)
        (self.dev / "shm").mkdir(mode=0o1777)
        os.chmod(self.dev / "shm", 0o1777)
        os.symlink("/proc/self/fd", self.dev / "fd")

    def start(self):
        _ip("netns", "add", self.ns)
        _ip("-n", self.ns, "link", "set", "lo", "up")
        used = _ip("-4", "-o", "addr", "show").stdout
        for n in secrets.SystemRandom().sample(range(256), 256):
            if f" 10.121.{n}." not in used:
                break
        else:
            raise RuntimeError("no free 10.121.N.0/30")
        self.host_ip, self.ip = f"10.121.{n}.1", f"10.121.{n}.2"
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
        _ip("addr", "add", f"{self.host_ip}/30", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        _ip("-n", self.ns, "addr", "add", f"{self.ip}/30", "dev", "eth0")
        _ip("-n", self.ns, "link", "set", "eth0", "up")
        self.conf.write_text(RSYSLOG_CONF.format(work=self.work, ip=self.ip, out=self.out,
                                                 out_udp=self.out_udp, dev=self.dev,
                                                 out_local=self.out_local))
        self.start_rsyslog()
        from nsroot import ns_argv, scratch_etc
        (self.base / "main-ns").mkdir()
        self.etc = scratch_etc(self.base / "main-ns")
        self.daemon = Daemon(self.base / "d", config_text=(
            f'audit:syslog_targets:_array_index:0 = "tcp://{self.ip}:514"\n'),
            wrap=lambda argv: ns_argv(self.etc, argv))
        self.daemon.start()
        return self

    def start_rsyslog(self):
        assert self.proc is None
        err = open(self.err_path, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "rsyslogd", "-n", "-f", str(self.conf),
             "-i", str(self.work / "rsyslogd.pid")], stdout=err, stderr=err)
        err.close()
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run(["ip", "netns", "exec", self.ns, "ss", "-Hltn",
                                    f"sport = :514"], capture_output=True, text=True)
            if self.ip in probe.stdout:
                return
            assert self.proc.poll() is None, self.err_path.read_text()
            assert time.monotonic() < deadline, "rsyslogd did not listen"
            time.sleep(0.05)

    def start_tls_rsyslog(self):
        """A CA, a certificate for the receiver's address, and rsyslogd with
        imtcp over TLS on 6514."""
        w = self.work / "tls"
        w.mkdir()
        self.ca = w / "ca.pem"

        def ssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)
        ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(w / "ca.key"), "-out", str(self.ca), "-days", "2",
            "-subj", "/CN=steward test syslog CA")
        ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(w / "key.pem"), "-out", str(w / "req.pem"), "-subj", f"/CN={self.ip}")
        (w / "ext").write_text(f"subjectAltName=IP:{self.ip}\nextendedKeyUsage=serverAuth\n")
        ssl("x509", "-req", "-in", str(w / "req.pem"), "-CA", str(self.ca), "-CAkey",
            str(w / "ca.key"), "-CAcreateserial", "-out", str(w / "cert.pem"), "-days", "2",
            "-extfile", str(w / "ext"))
        self.out_tls = w / "tls.log"
        conf = w / "rsyslog.conf"
        conf.write_text(RSYSLOG_TLS_CONF.format(work=w, ca=self.ca, cert=w / "cert.pem",
                                                key=w / "key.pem", ip=self.ip, out=self.out_tls))
        err = open(w / "rsyslogd.err", "ab")
        self.tls_proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "rsyslogd", "-n", "-f", str(conf),
             "-i", str(w / "rsyslogd.pid")], stdout=err, stderr=err)
        err.close()
        deadline = time.monotonic() + 20
        while self.ip not in subprocess.run(["ip", "netns", "exec", self.ns, "ss", "-Hltn",
                                             "sport = :6514"], capture_output=True, text=True).stdout:
            assert self.tls_proc.poll() is None, (w / "rsyslogd.err").read_text()
            assert time.monotonic() < deadline, "rsyslogd (TLS) did not listen"
            time.sleep(0.05)

    def stop_rsyslog(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self):
        try:
            for d in (getattr(self, "local", None), getattr(self, "daemon", None)):
                if d and d.proc:
                    d.check_clean_exit()
        finally:
            self.stop_rsyslog()
            if self.tls_proc:
                self.tls_proc.terminate()
                self.tls_proc.wait(timeout=20)
            _ip("link", "del", self.veth, check=False)
            _ip("netns", "del", self.ns, check=False)
            assert self.ns not in _ip("netns", "list").stdout
            assert _ip("link", "show", self.veth, check=False).returncode != 0

    # ---- reading what rsyslog wrote ---------------------------------------

    def records(self, path=None):
        """One dict per line rsyslog wrote: the input, MSGID, APP-NAME, PRI,
        the structured data's params as rsyslog parsed them, MSG."""
        path = path or self.out
        out = []
        if not path.exists():
            return out
        for line in path.read_text().splitlines():
            parts = line.split("|")
            head, values, msg = parts[:4], parts[4:4 + len(FIELDS)], "|".join(parts[4 + len(FIELDS):])
            rec = dict(zip(("input", "msgid", "app", "pri"), head))
            rec.update(zip(FIELDS, values))
            rec["msg"] = msg
            out.append(rec)
        return out

    def wait_for(self, last_id, path=None, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records(path)
            if any(r["id"] == str(last_id) for r in recs):
                return recs
            assert time.monotonic() < deadline, (last_id, recs[-3:], self.forwarding())
            time.sleep(0.1)

    # ---- the daemon ---------------------------------------------------------

    def change(self, level):
        r = self.daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": level})
        assert r.status == 200, r

    def head(self):
        r = self.daemon.https("GET", "/api/v1/audit?limit=1")
        assert r.status == 200, r
        return int(r.json["records"][0]["id"])

    def forwarding(self):
        return self.daemon.https("GET", "/api/v1/audit/forwarding").json


@pytest.fixture(scope="module")
def syslog():
    base = Path(tempfile.mkdtemp(prefix="steward-syslog-"))
    os.chmod(base, 0o755)
    s = Syslog(base)
    try:
        yield s.start()
    finally:
        try:
            s.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


def str_keys(full):
    """The audit_forwarding list of the stewardd module's full status."""
    status = full.get("status", full)
    return status["audit_forwarding"]


def ids_in_order(recs):
    """The ids as first seen, and how many lines repeated an id."""
    seen, order = set(), []
    for r in recs:
        if r["id"] not in seen:
            seen.add(r["id"])
            order.append(int(r["id"]))
    return order, len(recs) - len(order)


def test_each_record_arrives_with_its_structured_data(syslog):
    for level in ("debug", "notice", "info"):
        syslog.change(level)
    head = syslog.head()
    recs = syslog.wait_for(head)
    order, repeated = ids_in_order(recs)
    assert order == list(range(1, head + 1)) and repeated == 0, (order, repeated)
    last = recs[-1]
    assert last["input"] == "imtcp" and last["msgid"] == "audit" and last["app"] == "steward"
    # authpriv (10) * 8 + notice (5)
    assert last["pri"] == "85", last
    assert last["module"] == "stewardd" and last["operation"] == "settings"
    assert last["result"] == "ok" and last["role"] == "admin", last
    assert "did stewardd settings: log_level" in last["msg"], last
    # the chain as the API shows it, and rsyslog's copy of it
    api = {r["id"]: r for r in syslog.daemon.https("GET", "/api/v1/audit?limit=50").json["records"]}
    for rec in recs:
        a = api[int(rec["id"])]
        for f in ("user", "role", "source", "module", "operation", "result", "hash", "prev_hash"):
            assert rec[f] == a[f], (f, rec, a)
    for prev, rec in zip(recs, recs[1:]):
        assert rec["prev_hash"] == prev["hash"]
    verdict = syslog.daemon.https("GET", "/api/v1/audit/verify").json
    assert verdict["ok"] and verdict["head"] == recs[-1]["hash"], verdict
    state = syslog.forwarding()
    [t] = state["targets"]
    assert t["target"] == f"tcp://{syslog.ip}:514" and t["connected"], state
    deadline = time.monotonic() + 10
    while syslog.forwarding()["targets"][0]["backlog"] != 0:
        assert time.monotonic() < deadline, syslog.forwarding()
        time.sleep(0.1)
    # the same on /metrics and in the daemon's full status, as the front's
    # poll of the helper sees it
    sample = f'steward_audit_forward_backlog{{target="tcp://{syslog.ip}:514"}} 0'
    deadline = time.monotonic() + 30
    while sample not in syslog.daemon.https("GET", "/metrics").body:
        assert time.monotonic() < deadline, syslog.daemon.https("GET", "/metrics").body[-2000:]
        time.sleep(0.2)
    full = syslog.daemon.https("GET", "/api/v1/modules/stewardd?full=1").json
    assert {"target": f"tcp://{syslog.ip}:514", "backlog": 0} in str_keys(full), full


def test_a_refusal_is_forwarded_as_a_warning(syslog):
    d = syslog.daemon
    r = d.https("POST", "/api/v1/tokens", {"name": "t-monitor", "role": "monitor"})
    assert r.status in (200, 201), r
    monitor = r.json["token"]
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"}, token=monitor)
    assert r.status == 403, r
    # monitors see no forwarding state either (the targets are the admins')
    assert d.https("GET", "/api/v1/audit/forwarding", token=monitor).status == 403
    head = syslog.head()
    recs = syslog.wait_for(head)
    refused = [x for x in recs if x["result"] == "refused"]
    assert refused, recs[-3:]
    # authpriv (10) * 8 + warning (4); the monitor is named
    assert refused[-1]["pri"] == "84" and refused[-1]["role"] == "monitor", refused[-1]
    assert " was refused: " in refused[-1]["msg"], refused[-1]


def test_targets_are_checked_strictly(syslog):
    d = syslog.daemon
    for bad in ("tcp://localhost:514", "tcp://10.0.0.1", "tls://example.org:6514", "file:///x",
                "tcp://10.0.0.1:0", "udp://[::1:514"):
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": [bad]})
        assert r.status in (400, 422), (bad, r)
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                {"audit:syslog_targets": ["local"] * 9})
    assert r.status in (400, 422), r


def test_nothing_is_lost_across_an_outage_and_a_restart(syslog):
    d = syslog.daemon
    before = syslog.head()
    syslog.wait_for(before)
    syslog.stop_rsyslog()
    syslog.change("debug")
    syslog.change("info")
    # the forwarder notices the receiver is gone and keeps the records
    deadline = time.monotonic() + 30
    while True:
        [t] = syslog.forwarding()["targets"]
        if not t["connected"] and t["backlog"] >= 2:
            break
        assert time.monotonic() < deadline, t
        time.sleep(0.1)
    assert t["last_error"], t
    sample = f'steward_audit_forward_backlog{{target="tcp://{syslog.ip}:514"}} {t["backlog"]}'
    deadline = time.monotonic() + 30
    while sample not in d.https("GET", "/metrics").body:
        assert time.monotonic() < deadline, d.https("GET", "/metrics").body[-2000:]
        time.sleep(0.2)
    # the daemon restarts while the receiver is still down
    d.stop()
    d.start()
    syslog.change("notice")
    head = syslog.head()
    assert head >= before + 3
    syslog.start_rsyslog()
    recs = syslog.wait_for(head, timeout=90)  # the back-off is capped at 60 s
    order, repeated = ids_in_order(recs)
    assert order == list(range(1, head + 1)), order
    # delivery is at least once; over TCP with the acknowledgement check a
    # clean outage sends nothing twice
    assert repeated == 0, [r["id"] for r in recs]


def test_a_new_target_takes_effect_live_and_starts_from_the_first_record(syslog):
    d = syslog.daemon
    tcp = f"tcp://{syslog.ip}:514"
    udp = f"udp://{syslog.ip}:515"
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": [tcp, udp]})
    assert r.status == 200, r
    head = syslog.head()  # the settings change itself is a record
    recs = syslog.wait_for(head, path=syslog.out_udp)
    order, _ = ids_in_order(recs)
    assert order == list(range(1, head + 1)), order
    assert {x["input"] for x in recs} == {"imudp"} and recs[-1]["module"] == "stewardd"
    targets = {t["target"]: t for t in syslog.forwarding()["targets"]}
    assert set(targets) == {tcp, udp}, targets
    # the TCP target went on from its own cursor: nothing repeated there
    tcp_recs = syslog.wait_for(head)
    assert ids_in_order(tcp_recs)[1] == 0


def test_local_means_the_hosts_log_socket_in_the_form_it_parses(syslog):
    """The default target "local": the same record on /dev/log in the form
    syslog(3) writes there, which rsyslog's imuxsock (and journald) parse
    into a program name and a pid; the structured data rides in the text."""
    from nsroot import ns_argv, scratch_etc
    (syslog.base / "local-ns").mkdir()
    etc = scratch_etc(syslog.base / "local-ns")
    d = syslog.local = Daemon(syslog.base / "local", wrap=lambda argv: ns_argv(
        etc, argv, extra_binds=[(syslog.dev, "/dev")]))
    d.start()
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"})
    assert r.status == 200, r
    assert d.https("GET", "/api/v1/modules/stewardd/settings").json["audit"]["syslog_targets"] == ["local"]
    deadline = time.monotonic() + 30
    while True:
        lines = syslog.out_local.read_text().splitlines() if syslog.out_local.exists() else []
        if any(' id="2" ' in x for x in lines):
            break
        assert time.monotonic() < deadline, (lines, d.https("GET", "/api/v1/audit/forwarding").json)
        time.sleep(0.1)
    prog, procid, pri, msgid, sd, msg = lines[-1].split("|", 5)
    assert (prog, procid, pri) == ("steward", str(d.proc.pid), "85"), lines[-1]
    assert msg.startswith(' [steward@32473 user="bootstrap" role="admin" '), msg
    assert ' module="stewardd" operation="settings" result="ok" id="2" ' in msg, msg
    assert msg.endswith("] bootstrap did stewardd settings: log_level"), msg
    [t] = d.https("GET", "/api/v1/audit/forwarding").json["targets"]
    assert t["target"] == "local" and t["last_id"] == 2 and t["backlog"] == 0, t


def test_tls_targets_verify_the_receiver_and_deliver(syslog):
    """tls:// (RFC 5425): the receiver's certificate must chain to
    audit:syslog_ca_file (or the system's authorities) and name its
    address; a change of either takes effect live."""
    d = syslog.daemon
    syslog.start_tls_rsyslog()
    tls = f"tls://{syslog.ip}:6514"
    tcp = f"tcp://{syslog.ip}:514"
    # the system's authorities do not know the test CA: refused, nothing sent
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": [tcp, tls]})
    assert r.status == 200, r
    deadline = time.monotonic() + 30
    while True:
        t = {x["target"]: x for x in syslog.forwarding()["targets"]}[tls]
        if t["last_error"]:
            break
        assert time.monotonic() < deadline, t
        time.sleep(0.1)
    assert "not trusted" in t["last_error"] and t["last_id"] == 0 and not t["connected"], t
    assert not syslog.records(syslog.out_tls)
    # with the test CA: every record, in order, parsed by rsyslog over TLS
    (syslog.etc / "steward-test").mkdir(exist_ok=True)
    shutil.copyfile(syslog.ca, syslog.etc / "steward-test" / "ca.pem")
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                {"audit:syslog_ca_file": "/etc/steward-test/ca.pem"})
    assert r.status == 200, r
    head = syslog.head()
    recs = syslog.wait_for(head, path=syslog.out_tls, timeout=90)  # the back-off is capped at 60 s
    order, repeated = ids_in_order(recs)
    assert order == list(range(1, head + 1)) and repeated == 0, (order, repeated)
    assert recs[-1]["msgid"] == "audit" and recs[-1]["operation"] == "settings", recs[-1]
    t = {x["target"]: x for x in syslog.forwarding()["targets"]}[tls]
    assert t["connected"] and t["last_error"] is None, t
    # a CA file that is not there: refused as a setting? no: a path; the
    # forwarder then has no authority and says so
    bad = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_ca_file": "relative.pem"})
    assert bad.status in (400, 422), bad


def forwarder_pid(d):
    """The forwarder: the process named stewardd-syslog under the daemon."""
    deadline = time.monotonic() + 20
    while True:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if (entry / "comm").read_text().strip() != "stewardd-syslog":
                    continue
                pid = int(entry.name)
                p = pid
                while p > 1:
                    p = int((Path("/proc") / str(p) / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if p == d.proc.pid:
                        return pid
            except (OSError, ValueError, IndexError):
                continue
        assert time.monotonic() < deadline, "no forwarder"
        time.sleep(0.1)


def status_fields(pid):
    out = {}
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def test_the_forwarder_holds_no_privileges(syslog):
    """It talks TLS with remote servers as uid 0 but with no capability
    at all, none to regain (bounding set empty, no new privileges), and
    still delivers (every earlier test ran with it so)."""
    st = status_fields(forwarder_pid(syslog.daemon))
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st)
    assert st["NoNewPrivs"] == "1", st
    assert st["Uid"].split()[0] == "0", st


# ---- the forwarder comes back when it dies ----------------------------------

def caught_up(syslog, target):
    """Waits until the target has every record and is connected: a kill then
    falls between batches, so nothing is owed twice."""
    deadline = time.monotonic() + 60
    while True:
        t = {x["target"]: x for x in syslog.forwarding()["targets"]}[target]
        if t["backlog"] == 0 and t["connected"]:
            return
        assert time.monotonic() < deadline, t
        time.sleep(0.1)


def kill_and_wait_for_the_next(syslog, restarts):
    """kill -9 the forwarder, then the new one (another pid, same name) once
    the route counts `restarts`."""
    d = syslog.daemon
    old = forwarder_pid(d)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 120  # the back-off is capped at 60 s
    while True:
        fw = syslog.forwarding()["forwarder"]
        if fw["restarts"] == restarts and fw["state"] == "running":
            break
        assert time.monotonic() < deadline, fw
        time.sleep(0.1)
    new = forwarder_pid(d)
    assert new != old
    return fw, new


def test_a_killed_forwarder_is_started_again_and_resumes_where_it_was(syslog):
    """kill -9 of the forwarder: the helper logs it once with the cause,
    starts a fresh one (same name, no privileges, nothing of the helper's
    environment), which sends the records written meanwhile and after, none
    twice; the route and /metrics say so."""
    d = syslog.daemon
    tcp = f"tcp://{syslog.ip}:514"
    fw = syslog.forwarding()["forwarder"]
    assert fw["state"] == "running" and fw["restarts"] == 0, fw
    assert fw["last_exit"] is None and fw["last_exit_at"] is None, fw
    caught_up(syslog, tcp)
    before = syslog.head()
    syslog.wait_for(before)
    old = forwarder_pid(d)
    os.kill(old, signal.SIGKILL)
    syslog.change("debug")  # written while it is dead or restarting
    deadline = time.monotonic() + 120
    while True:
        fw = syslog.forwarding()["forwarder"]
        if fw["restarts"] == 1 and fw["state"] == "running":
            break
        assert time.monotonic() < deadline, fw
        time.sleep(0.1)
    assert fw["last_exit"] == "signal KILL", fw
    assert isinstance(fw["last_exit_at"], int) and fw["last_exit_at"] > 0, fw
    new = forwarder_pid(d)
    assert new != old
    st = status_fields(new)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st)
    assert st["NoNewPrivs"] == "1", st
    # the helper's --log-level override goes along ("-": this daemon has none)
    argv = (Path("/proc") / str(new) / "cmdline").read_bytes().split(b"\0")
    assert argv[1] == b"--audit-forwarder" and argv[6] == b"-", argv
    environ = (Path("/proc") / str(new) / "environ").read_bytes().split(b"\0")
    assert all(v == b"" or v.startswith(b"JOURNAL_STREAM=") for v in environ), environ
    syslog.change("info")
    head = syslog.head()
    assert head >= before + 2
    recs = syslog.wait_for(head)
    ids = [int(r["id"]) for r in recs if int(r["id"]) > before]
    assert ids == list(range(before + 1, head + 1)), ids  # each once, in order
    assert d.log_text().count("audit forwarding stopped unexpectedly (signal KILL)") == 1
    sample = "steward_audit_forward_restarts_total 1"
    deadline = time.monotonic() + 30
    while sample not in d.https("GET", "/metrics").body:
        assert time.monotonic() < deadline, d.https("GET", "/metrics").body[-2000:]
        time.sleep(0.2)


def test_a_forwarder_killed_again_and_again_is_restarted_each_time(syslog):
    """Each death is one restart (after a back-off that grows); the last
    one forwards; and when the daemon stops, the forwarder goes with it and
    none is started again."""
    d = syslog.daemon
    start = syslog.forwarding()["forwarder"]["restarts"]
    for i in range(1, 4):
        fw, pid = kill_and_wait_for_the_next(syslog, start + i)
        assert fw["last_exit"] == "signal KILL", fw
    syslog.change("debug")
    syslog.wait_for(syslog.head())
    assert d.log_text().count("audit forwarding started again") == start + 3
    # one that keeps dying waits longer each time (none ran 120 s here)
    waits = [int(s) for s in re.findall(r"starting it again in (\d+) s", d.log_text())]
    assert waits == [1, 2, 4, 8][:start + 3], waits
    # the daemon stops, and its forwarder dies meanwhile: none is started
    # again, none is left behind
    d.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while "received SIGTERM" not in d.log_text():
        assert time.monotonic() < deadline, d.log_text()[-2000:]
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already stopped with the daemon
    d.stop()
    assert d.log_text().count("audit forwarding started again") == start + 3
    assert not (Path("/proc") / str(pid)).exists()
    d.start()
    fw = syslog.forwarding()["forwarder"]
    assert fw == {"state": "running", "restarts": 0, "last_exit": None,
                  "last_exit_at": None}, fw


def test_a_config_file_broken_meanwhile_is_waited_out(syslog):
    """The daemon runs on the configuration it last read; a forwarder
    started again while the file is broken waits for it to be fixed (said
    once) instead of exiting and being restarted for ever, then forwards."""
    d = syslog.daemon
    good = d.config.read_text()
    start = syslog.forwarding()["forwarder"]["restarts"]
    try:
        d.config.write_text(good + "this is not a setting\n")
        fw, pid = kill_and_wait_for_the_next(syslog, start + 1)
        deadline = time.monotonic() + 30
        while "waiting for the file to be fixed" not in d.log_text():
            assert time.monotonic() < deadline, d.log_text()[-2000:]
            time.sleep(0.1)
        time.sleep(6)  # past one more look at the file
        fw = syslog.forwarding()["forwarder"]
        assert fw["restarts"] == start + 1 and fw["state"] == "running", fw
        assert forwarder_pid(d) == pid
        assert d.log_text().count("waiting for the file to be fixed") == 1
    finally:
        d.config.write_text(good)
    syslog.change("debug")
    syslog.change("info")
    syslog.wait_for(syslog.head())
    assert syslog.forwarding()["forwarder"]["restarts"] == start + 1


def test_a_flood_of_wakeups_does_not_spin_the_forwarder(syslog):
    """Whoever holds the wake-up pipe's write end may write without end: the
    forwarder empties the pipe at each wake-up and makes at most one pass
    per 50 ms, so it stays mostly idle.  The bound checked (a quarter of
    the flood's duration in CPU time) is far from both sides: a pass per
    wake-up kept a whole core busy."""
    pid = forwarder_pid(syslog.daemon)
    fd_dir = Path("/proc") / str(pid) / "fd"
    [rd] = [n for n in fd_dir.iterdir()
            if int(n.name) >= 3 and os.readlink(n).startswith("pipe:")]

    def cpu():
        f = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    w = os.open(rd, os.O_WRONLY | os.O_NONBLOCK)  # the same pipe, opened anew
    try:
        before, start = cpu(), time.monotonic()
        while time.monotonic() - start < 3:
            try:
                os.write(w, b"w" * 512)
            except BlockingIOError:
                time.sleep(0.0005)
        used, wall = cpu() - before, time.monotonic() - start
    finally:
        os.close(w)
    assert used < wall / 4, (used, wall)
    # and it still forwards
    syslog.change("info")
    syslog.wait_for(syslog.head())


def test_the_ca_file_is_a_small_regular_file_under_etc(syslog):
    """The root forwarder reads audit:syslog_ca_file: only a plain path
    under /etc/, opened without following a link or blocking, a regular
    file of at most 1 MiB; whatever else it is (a FIFO, a link, a file of
    no certificate such as /etc/shadow) is told the same way, and the other
    targets go on meanwhile."""
    d = syslog.daemon
    tls = f"tls://{syslog.ip}:6514"
    for bad in ("/tmp/ca.pem", "/etc/../tmp/ca.pem", "/dev/zero", "/etc/./shadow", "etc/x.pem"):
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_ca_file": bad})
        assert r.status in (400, 422), (bad, r)
    test_dir = syslog.etc / "steward-test"
    os.mkfifo(test_dir / "fifo")
    os.symlink("ca.pem", test_dir / "link.pem")
    (test_dir / "big.pem").write_bytes(syslog.ca.read_bytes())
    os.truncate(test_dir / "big.pem", (1 << 20) + 1)
    errors = {}
    for path in ("/etc/steward-test/fifo", "/etc/shadow", "/etc/steward-test/link.pem",
                 "/etc/steward-test/big.pem", "/etc/steward-test/missing.pem"):
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_ca_file": path})
        assert r.status == 200, r
        head = syslog.head()
        syslog.wait_for(head)  # the TCP target is not held
        deadline = time.monotonic() + 30
        while True:
            t = {x["target"]: x for x in syslog.forwarding()["targets"]}[tls]
            if t["last_error"] and not t["connected"]:
                break
            assert time.monotonic() < deadline, (path, t)
            time.sleep(0.1)
        errors[path] = t["last_error"]
    assert len(set(errors.values())) == 1, errors
    assert "audit:syslog_ca_file" in next(iter(errors.values())), errors
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                {"audit:syslog_ca_file": "/etc/steward-test/ca.pem"})
    assert r.status == 200, r
    syslog.wait_for(syslog.head(), path=syslog.out_tls, timeout=90)


def records_at_least(syslog, n):
    """Audit records up to n in the store (changes of the log level)."""
    for i in range(max(0, n - syslog.head())):
        syslog.change("debug" if i % 2 == 0 else "info")


def test_a_target_listed_twice_is_served_once(syslog):
    d = syslog.daemon
    tcp = f"tcp://{syslog.ip}:514"
    caught_up(syslog, tcp)
    before = syslog.head()
    syslog.wait_for(before)
    try:
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                    {"audit:syslog_targets": [tcp, tcp]})
        assert r.status == 200, r
        syslog.change("debug")
        syslog.change("info")
        head = syslog.head()
        recs = syslog.wait_for(head)
        time.sleep(1)  # a second sender would have sent its copies by now
        recs = syslog.wait_for(head)
        ids = [int(x["id"]) for x in recs if int(x["id"]) > before]
        assert ids == list(range(before + 1, head + 1)), ids
        assert [t["target"] for t in syslog.forwarding()["targets"]] == [tcp]
    finally:
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": [tcp]})
        assert r.status == 200, r


def test_a_slow_receiver_still_gets_everything(syslog):
    """A receiver that takes about 10 KB/s cannot take a whole batch (100
    records) within the 5 s deadline: the forwarder sends it smaller batches
    until one fits, so its cursor moves on (it sent the same first batch for
    ever before) and every record arrives, in order."""
    d = syslog.daemon
    tcp = f"tcp://{syslog.ip}:514"
    records_at_least(syslog, 120)
    head = syslog.head()
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    got, stop = [], threading.Event()  # the bytes of each connection

    def slow_reader():
        while not stop.is_set():
            try:
                conn, _ = lst.accept()
            except OSError:
                return
            conn.settimeout(0.1)
            got.append(bytearray())
            with conn:
                while not stop.is_set():
                    try:
                        b = conn.recv(1024)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not b:
                        break
                    got[-1].extend(b)
                    time.sleep(0.1)

    try:
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        lst.bind(("127.0.0.1", 0))
        lst.listen(4)
        slow = f"tcp://127.0.0.1:{lst.getsockname()[1]}"
        reader = threading.Thread(target=slow_reader, daemon=True)
        reader.start()
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                    {"audit:syslog_targets": [slow, tcp]})
        assert r.status == 200, r
        deadline = time.monotonic() + 120
        while True:
            t = {x["target"]: x for x in syslog.forwarding()["targets"]}[slow]
            if t["last_id"] >= head:
                break
            assert time.monotonic() < deadline, (t, [len(g) for g in got])
            time.sleep(0.5)
        ids = []
        for data in map(bytes, got):
            pos = 0  # a connection cut at its deadline may end inside a frame
            while (sp := data.find(b" ", pos)) > 0 and sp + 1 + int(data[pos:sp]) <= len(data):
                n = int(data[pos:sp])
                msg = data[sp + 1:sp + 1 + n].decode()
                ids.append(int(re.search(r' id="(\d+)"', msg).group(1)))
                pos = sp + 1 + n
        first = list(dict.fromkeys(ids))
        assert first[:head] == list(range(1, head + 1)), first[:10]
    finally:
        stop.set()
        lst.close()
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": [tcp]})
        assert r.status == 200, r


def test_a_stalled_target_does_not_hold_up_the_others(syslog):
    """A TCP receiver that accepts and then never reads (a tiny receive
    buffer, full after a few records): the forwarder's batch to it waits for
    an acknowledgement that does not come, while the other target gets every
    record meanwhile.  The order is what is checked: the second target has
    the newest record while the stalled one's first attempt is still open,
    not yet failed (it fails at its own deadline, and only then)."""
    d = syslog.daemon
    tcp = f"tcp://{syslog.ip}:514"
    records_at_least(syslog, 40)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # before listen(): an accepted socket takes its buffer size (and so
        # its advertised window) from the listener
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        lst.bind(("127.0.0.1", 0))
        lst.listen(4)
        lst.settimeout(30)
        stalled = f"tcp://127.0.0.1:{lst.getsockname()[1]}"
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                    {"audit:syslog_targets": [stalled, tcp]})
        assert r.status == 200, r
        # A new target starts from the first record: its batch is dozens of
        # records, far more than its window takes.
        conn, _ = lst.accept()
        try:
            syslog.change("debug")
            syslog.change("info")
            head = syslog.head()
            syslog.wait_for(head)
            t = {x["target"]: x for x in syslog.forwarding()["targets"]}[stalled]
            assert t["last_error"] is None and t["last_id"] == 0, t
            lst.setblocking(False)
            with pytest.raises(BlockingIOError):
                lst.accept()  # one attempt, not given up and made again
        finally:
            conn.close()
    finally:
        lst.close()
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": [tcp]})
        assert r.status == 200, r


def test_the_forwarder_image_refuses_arguments_out_of_its_grammar(tmp_path):
    """`stewardd --audit-forwarder` is the helper's way to start a fresh
    forwarder; run by anyone else with anything else, it does nothing (2)."""
    from conftest import BUILD
    fifo_r, fifo_w = os.pipe()
    state = tmp_path / "state"
    state.mkdir()
    good = [str(BUILD / "stewardd"), "--audit-forwarder", str(state), "", str(os.getpid()), "1", "-"]
    bad = [
        good[:6],                                            # no level
        good[:6] + ["loud"],                                 # not a level
        good[:6] + ["-", "extra"],                           # one too many
        good[:4] + ["1"] + good[5:],                         # helper pid 1
        good[:4] + ["-5"] + good[5:],                        # not a number
        good[:5] + ["9"] + good[6:],                         # not a log target
        good[:2] + [""] + good[3:],                          # no state directory
    ]
    try:
        for argv in bad:
            r = subprocess.run(argv, pass_fds=(fifo_r,), stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=30,
                               preexec_fn=lambda: os.dup2(fifo_r, 3))
            assert r.returncode == 2, (argv, r)
        # and fd 3 must be the pipe: a regular file there is refused too
        with open(tmp_path / "plain", "w+") as f:
            r = subprocess.run(good, stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                               preexec_fn=lambda: os.dup2(f.fileno(), 3))
            assert r.returncode == 2, r
    finally:
        os.close(fifo_r)
        os.close(fifo_w)
    assert not any(state.iterdir()), list(state.iterdir())
