"""Many servers from one place, end to end (docs/fleet.md): three daemons in
namespaces on one bridge (fleet_ns.py, certificates from a test CA), one
workstation (the host, with the CLI's own home) and, in namespaces of their
own on the same bridge, a real rsyslog that every daemon forwards its audit
to and a real Prometheus that finds every daemon through one member's
/api/v1/sd.  The tests run in this order, each on the state the last left:

  1. `steward -H @all login` (one password on stdin) and `steward -H @all
     status system`: every host's hostname line;
  2. `steward -H @web settings --dry-run 'stewardd:log_level = "info"'`:
     both plans, nothing changed; without --yes: nothing changed, exit 2;
     with --yes: changed on both web members, not on the third;
  3. the Ansible example (docs/ansible/set-setting.yml) applies the same
     setting to all three: changed on the third only; run again, changed=0;
  4. Prometheus: up == 1 for each of the three;
  5. rsyslog: every change of 2 and 3 arrived, from each server, with its
     user, and each server's chain head as the server itself reports it.

The fleet starts at log_level "notice", so that "info" is a change.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from ansible_run import ansible_playbook
from fleet_ns import fleet_fixture

pytestmark = pytest.mark.namespaces

SD_ID = "steward@32473"
FIELDS = ("id", "user", "module", "operation", "result", "hash")
RSYSLOG_CONF = """\
global(workDirectory="{work}")
module(load="imtcp")
module(load="mmpstrucdata")
input(type="imtcp" port="514" address="{ip}" ruleset="in")
template(name="line" type="list") {{
  property(name="fromhost-ip") constant(value="|")
""" + "".join(f'  property(name="$!rfc5424-sd!{SD_ID}!{f}") constant(value="|")\n'
              for f in FIELDS) + """\
  property(name="msg") constant(value="\\n")
}}
ruleset(name="in") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{out}" template="line")
}}
"""

fleet = fleet_fixture(3, tls="ca", config_text='log_level = "notice"\n')


def wait_for(pred, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def log_levels(f):
    return [f.members[i].https("GET", "/api/v1/modules/stewardd/settings?key=log_level")
            .json["log_level"] for i in range(3)]


def audit_head(m):
    r = m.https("GET", "/api/v1/audit?limit=1")
    assert r.status == 200, r
    return r.json["records"][0]


def has_syslog_forwarding(f):
    r = f.members[0].https("GET", "/api/v1/modules/stewardd/settings?key=audit")
    return r.status == 200 and "syslog_targets" in (r.json.get("audit") or {})


@pytest.fixture(scope="module")
def rsyslog(fleet):
    """rsyslogd in a namespace of its own on the bridge, imtcp on 514, and
    every member forwarding to it (set before anything of the scenario)."""
    if not shutil.which("rsyslogd"):
        pytest.skip("needs rsyslog (scripts/install-deps.sh test)")
    if not has_syslog_forwarding(fleet):
        pytest.skip("this build has no audit:syslog_targets (audit to syslog)")
    ns, ip = fleet.add_ns("rsyslog")
    work = fleet.base / "rsyslog"
    work.mkdir()
    out = work / "audit.log"
    conf = work / "rsyslog.conf"
    conf.write_text(RSYSLOG_CONF.format(work=work, ip=ip, out=out))
    err = open(work / "rsyslogd.err", "ab")
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "rsyslogd", "-n", "-f", str(conf),
                             "-i", str(work / "rsyslogd.pid")], stdout=err, stderr=err)
    try:
        wait_for(lambda: ip in subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn"],
                                              capture_output=True, text=True).stdout
                 or proc.poll() is not None, "rsyslogd listening", 20)
        assert proc.poll() is None, (work / "rsyslogd.err").read_text()
        for m in fleet.members:
            r = m.https("PATCH", "/api/v1/modules/stewardd/settings",
                        {"audit:syslog_targets": [f"tcp://{ip}:514"]})
            assert r.status == 200, r

        class R:
            pass
        rs = R()
        rs.ip, rs.out = ip, out

        def records():
            if not out.exists():
                return []
            rows = [line.split("|") for line in out.read_text().splitlines()]
            return [dict(zip(("from",) + FIELDS + ("msg",), r)) for r in rows]
        rs.records = records
        yield rs
    finally:
        for m in fleet.members:
            m.https("PATCH", "/api/v1/modules/stewardd/settings", {"audit:syslog_targets": []})
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err.close()


@pytest.fixture(scope="module")
def scenario(fleet, request):
    """The fleet, with rsyslog receiving when this build forwards audit
    (else the syslog step skips), logged in from the CLI."""
    try:
        rs = request.getfixturevalue("rsyslog")
    except pytest.skip.Exception as e:
        rs = str(e)
    return fleet, rs


def test_1_login_and_status_of_every_host(scenario):
    f, _ = scenario
    if not f.fanout_supported():
        pytest.skip("this CLI does not fan out (-H a,b)")
    p = f.login_all()
    assert p.returncode == 0, p.stderr
    p = f.cli("-H", "@all", "status", "system", check=0)
    for m in f.members:
        # each host's lines, prefixed with its name, show its own host name
        assert f'{m.label}: system:hostname = "{m.name}"' in p.stdout.splitlines(), p.stdout
    assert re.search(r"^3 hosts: 3 ok", p.stderr, re.M), p.stderr
    p = f.cli("-H", "@all", "--json", "status", "system", check=0)
    hosts = {h["host"]: h for h in json.loads(p.stdout)["hosts"]}
    assert sorted(hosts) == sorted(m.label for m in f.members), hosts
    for m in f.members:
        assert hosts[m.label]["exit"] == 0 and hosts[m.label]["result"]["hostname"] == m.name


def test_2_a_setting_on_the_web_group_plan_first(scenario):
    f, _ = scenario
    if not f.fanout_supported():
        pytest.skip("this CLI does not fan out (-H a,b)")
    web = [m.label for m in f.members[:2]]
    assert log_levels(f) == ["notice"] * 3
    p = f.cli("-H", "@web", "settings", "--dry-run", 'stewardd:log_level = "info"', check=0)
    for addr in web:
        assert f'{addr}: +log_level = "info"' in p.stdout.splitlines(), p.stdout
    assert f.members[2].label not in p.stdout + p.stderr
    assert log_levels(f) == ["notice"] * 3
    p = f.cli("-H", "@web", "settings", 'stewardd:log_level = "info"', check=2)
    assert "nothing was changed" in p.stderr, p.stderr
    assert log_levels(f) == ["notice"] * 3
    p = f.cli("-H", "@web", "--yes", "settings", 'stewardd:log_level = "info"', check=0)
    assert log_levels(f) == ["info", "info", "notice"], p.stdout + p.stderr


def test_3_the_ansible_example_twice(scenario):
    f, _ = scenario
    with ansible_playbook(f) as ansible:
        def run():
            p, hosts = ansible({"log_level": "info"})
            assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
            return {name: c["changed"] for name, c in hosts.items()}
        first = run()
        want = {m.name: 0 for m in f.members}
        if log_levels(f)[:2] == ["info", "info"] and first[f.members[0].name] == 0:
            want[f.members[2].name] = 1   # after step 2: only the third changes
        else:
            want = {m.name: 1 for m in f.members}
        assert first == want, first
        assert log_levels(f) == ["info"] * 3
        assert run() == {m.name: 0 for m in f.members}


def test_4_prometheus_finds_and_scrapes_every_member(scenario, tmp_path):
    f, _ = scenario
    try:
        import test_sd
    except ImportError:
        pytest.skip("this build has no Prometheus service discovery (test_sd.py)")
    if not os.access(test_sd.PROMETHEUS, os.X_OK):
        pytest.skip("needs prometheus (scripts/install-deps.sh test)")
    members = f.members
    m1 = members[0]
    want = sorted(m.addr for m in members)
    for m in members:
        r = m.https("PATCH", "/api/v1/modules/stewardd/settings",
                    {"metrics:allow_from": [f"{f.host_ip}/32"]})
        assert r.status == 200, r
    r = m1.https("PATCH", "/api/v1/modules/stewardd/settings",
                 {"discovery:sd_peers": True, "discovery:sd_interval": 2})
    assert r.status == 200, r
    try:
        wait_for(lambda: len(m1.https("GET", "/api/v1/sd").json) == 3,
                 "m1's /api/v1/sd listing all three")
        token = tmp_path / "sd.token"
        r = m1.https("POST", "/api/v1/tokens", {"name": "prometheus", "role": "monitor"})
        token.write_text(r.json["token"] + "\n")
        fps = [m.daemon.fingerprint for m in members]
        config = test_sd.prometheus_config(f"https://{m1.addr}/api/v1/sd", token, f.ca_cert, fps)
        with test_sd.prometheus(tmp_path, config) as (p, port):
            def up():
                assert p.poll() is None, (tmp_path / "prometheus.log").read_text()[-4000:]
                try:
                    r = test_sd.prom_get(port, "/api/v1/query?query=up")
                except OSError:
                    return None
                got = {x["metric"]["instance"]: x["value"][1] for x in r["data"]["result"]}
                return got if sorted(got) == want and set(got.values()) == {"1"} else None
            wait_for(up, "up == 1 for each member", timeout=90)
    finally:
        for m in members:
            m.https("PATCH", "/api/v1/modules/stewardd/settings",
                    {"metrics:allow_from": [], "discovery:sd_peers": False})


def test_5_every_change_is_in_one_rsyslog(scenario):
    f, rs = scenario
    if isinstance(rs, str):
        pytest.skip(rs)
    heads = {m.ip: audit_head(m) for m in f.members}

    def arrived():
        recs = rs.records()
        ok = all(any(r["from"] == ip and r["id"] == str(h["id"]) for r in recs)
                 for ip, h in heads.items())
        return recs if ok else None
    recs = wait_for(arrived, "every member's audit head in rsyslog")
    changes = [r for r in recs if r["module"] == "stewardd" and r["operation"] == "settings"
               and r["result"] == "ok"]
    by_host = {m.ip: [r for r in changes if r["from"] == m.ip] for m in f.members}
    # the CLI's log_level change on both web members, Ansible's on the third,
    # each under the account that made it
    for m in f.members:
        assert any("log_level" in r["msg"] and r["user"] == f.admin for r in by_host[m.ip]), \
            (m, by_host[m.ip])
    # each server's chain head, compared remotely: rsyslog's copy is the server's
    for m in f.members:
        head = heads[m.ip]
        [mine] = [r for r in recs if r["from"] == m.ip and r["id"] == str(head["id"])][:1]
        assert mine["hash"] == head["hash"], (mine, head)
