"""The alert kinds against real conditions (src/modules/alerts/kinds*.c): a
rule of each kind fires when what it watches is really so, and stays quiet
otherwise.

Everything that changes the system happens in a private mount namespace
(the small tmpfs the disk kinds watch, the scratch /etc of the certificate
and share tests) or in the daemon's own state (its audit log, its failed
logins); listeners are the test's own sockets on loopback.  The evaluation
interval is metrics:interval (1 s by default), so each wait below is a
bound, never a measured time.
"""
import os
import sqlite3
import socket
import subprocess
import time
from pathlib import Path

import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)
from nsroot import ns_argv, scratch_etc
from smb_ns import host_samba_state, smb, smb_ns  # noqa: F401 (the fixtures)

TMPFS = "/mnt"  # inside the daemon's mount namespace only


def unshared(argv):
    """stewardd in a private mount namespace of its own (same pid: unshare
    execs it), so that a tmpfs mounted on /mnt there is the daemon's only."""
    return ["unshare", "--mount", "--propagation", "private", "--", *[str(a) for a in argv]]


def in_ns(d, argv, check=True):
    return subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "--", *argv],
                          capture_output=True, text=True, check=check)


def add_rule(d, **rule):
    rule.setdefault("enabled", True)
    r = d.https("POST", "/api/v1/alert_rules", rule)
    assert r.status in (200, 201), r
    return rule["name"]


def alerts_of(d, rule):
    r = d.https("GET", f"/api/v1/alerts?rule={rule}")
    assert r.status == 200, r
    return r.json["alerts"]


def rule_item(d, name):
    r = d.https("GET", f"/api/v1/alert_rules/{name}")
    assert r.status == 200, r
    body = r.json
    return body.get("alert_rule", body)


def wait_for(d, rule, pred, timeout=30, what="a matching alert"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = alerts_of(d, rule)
        hit = [a for a in last if pred(a)]
        if hit:
            return hit[0]
        time.sleep(0.3)
    pytest.fail(f"{rule}: no {what} within {timeout} s; alerts {last}; rule {rule_item(d, rule)}")


def firing(instance=None):
    return lambda a: a["state"] == "firing" and (instance is None or a["instance"] == instance)


def active(alerts, instance=None):
    return [a for a in alerts if a["state"] in ("pending", "firing")
            and (instance is None or a["instance"] == instance)]


def quiet_for(d, rule, seconds, instance=None):
    """The rule has no pending or firing alert (for instance) at any look
    during seconds, and no error."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert active(alerts_of(d, rule), instance) == [], alerts_of(d, rule)
        time.sleep(0.3)
    assert rule_item(d, rule).get("error") in (None, ""), rule_item(d, rule)


@pytest.fixture
def tmpfs_daemon(make_daemon):
    d = make_daemon(wrap=unshared)
    in_ns(d, ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "alerttest", TMPFS])
    yield d


def fill(d, name, kib):
    in_ns(d, ["dd", "if=/dev/zero", f"of={TMPFS}/{name}", "bs=1k", f"count={kib}", "status=none"])


def test_disk_fires_over_the_threshold_and_resolves_under_clear(tmpfs_daemon):
    d = tmpfs_daemon
    add_rule(d, name="disk-mnt", kind="disk", match=TMPFS, threshold=90, clear=85, severity="critical")
    quiet_for(d, "disk-mnt", 3)
    fill(d, "big", 3800)  # of 4096 KiB
    a = wait_for(d, "disk-mnt", firing(TMPFS))
    assert a["value"] > 90 and "% used" in (a.get("description") or a.get("summary") or ""), a
    # Down to 88 %: still over clear (85), so still firing (hysteresis).
    in_ns(d, ["truncate", "-s", f"{3600 * 1024}", f"{TMPFS}/big"])
    time.sleep(3)
    assert firing(TMPFS)(alerts_of(d, "disk-mnt")[0]), alerts_of(d, "disk-mnt")
    in_ns(d, ["rm", "-f", f"{TMPFS}/big"])
    wait_for(d, "disk-mnt", lambda a: a["state"] == "resolved" and a["instance"] == TMPFS)


def test_disk_watches_only_its_mount(tmpfs_daemon):
    d = tmpfs_daemon
    add_rule(d, name="disk-elsewhere", kind="disk", match="/no/such/mount", threshold=1, clear=1)
    fill(d, "big", 3900)
    quiet_for(d, "disk-elsewhere", 3)


def test_disk_fill_predicts_a_growing_file_system(make_daemon):
    d = make_daemon(wrap=unshared)
    in_ns(d, ["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "alertgrow", TMPFS])
    # The shortest window (10 min): a prediction needs 30 s of samples.
    add_rule(d, name="fill-mnt", kind="disk_fill", match=TMPFS, threshold=24, window="10m")
    quiet_for(d, "fill-mnt", 4)  # not growing: no prediction
    deadline = time.monotonic() + 60
    i = 0
    while time.monotonic() < deadline:
        fill(d, f"grow{i}", 256)
        i += 1
        if any(firing(TMPFS)(a) for a in alerts_of(d, "fill-mnt")):
            break
        time.sleep(0.5)
    a = wait_for(d, "fill-mnt", firing(TMPFS), timeout=5)
    # 256 KiB every ~0.6 s into what is left of 64 MiB: minutes, not a day.
    assert 0 <= a["value"] < 1, a


def test_new_listener_against_the_baseline(daemon):
    add_rule(daemon, name="new-listeners", kind="new_listener")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        inst = f"tcp 127.0.0.1:{port}"
        # No baseline saved yet: nothing is new.
        quiet_for(daemon, "new-listeners", 3, inst)
    r = daemon.https("POST", "/api/v1/modules/ports/commands/baseline_save")
    assert r.status == 200, r
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        inst = f"tcp 127.0.0.1:{s.getsockname()[1]}"
        # The baseline is read again within a minute of its change.
        a = wait_for(daemon, "new-listeners", firing(inst), timeout=90)
        assert a["value"] == 1
    wait_for(daemon, "new-listeners", lambda a: a["instance"] == inst and a["state"] == "resolved")
    # The daemon's own listener was there when the baseline was saved.
    assert active(alerts_of(daemon, "new-listeners"), f"tcp 127.0.0.1:{daemon.port}") == []


def test_login_failures_count_bad_logins(daemon):
    add_rule(daemon, name="bad-logins", kind="login_failures", threshold=3, window="5m")
    quiet_for(daemon, "bad-logins", 3)
    for _ in range(3):
        r = daemon.https("POST", "/api/v1/login", {"user": "nobody-here", "password": "wrong"},
                         token=False)
        assert r.status in (401, 429), r
    a = wait_for(daemon, "bad-logins", firing(""), timeout=30)
    assert a["value"] >= 3, a


def test_audit_chain_fires_on_a_tampered_log(make_daemon):
    d = make_daemon()
    add_rule(d, name="chain", kind="audit_chain")
    quiet_for(d, "chain", 3)
    for level in ("debug", "notice"):
        assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": level}).status == 200
    victim = d.https("GET", "/api/v1/audit").json["records"][1]["id"]
    d.stop()
    db = sqlite3.connect(d.state / "steward.db")
    db.execute("UPDATE audit SET user = 'mallory' WHERE id = ?", (victim,))
    db.commit()
    db.close()
    d.start()
    a = wait_for(d, "chain", firing(""), timeout=30)
    assert a["value"] == 1 and str(victim) in (a.get("description") or a.get("summary") or ""), a


def openssl_cert(path, days):
    key = Path(str(path) + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(path),
                    "-subj", f"/CN=expiry-{days}.test", "-days", str(days)],
                   check=True, capture_output=True)
    key.unlink()


def test_cert_expiry(make_daemon, daemon_base, tmp_path):
    etc = scratch_etc(tmp_path)
    (etc / "ssl" / "alerttest").mkdir(mode=0o700)
    openssl_cert(etc / "ssl" / "alerttest" / "soon.pem", 5)      # only root may read it
    openssl_cert(daemon_base / "later.pem", 100)                  # the front reads it
    openssl_cert(daemon_base / "soon.pem", 3)
    os.chmod(daemon_base / "later.pem", 0o644)
    os.chmod(daemon_base / "soon.pem", 0o644)
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv))
    add_rule(d, name="cert-own", kind="cert_expiry", threshold=14)
    add_rule(d, name="cert-later", kind="cert_expiry", match=str(daemon_base / "later.pem"), threshold=14)
    add_rule(d, name="cert-soon", kind="cert_expiry", match=str(daemon_base / "soon.pem"), threshold=14)
    add_rule(d, name="cert-etc", kind="cert_expiry", match="/etc/ssl/alerttest/soon.pem", threshold=14)
    a = wait_for(d, "cert-soon", firing(str(daemon_base / "soon.pem")))
    assert 2 < a["value"] <= 3, a
    a = wait_for(d, "cert-etc", firing("/etc/ssl/alerttest/soon.pem"))
    assert 4 < a["value"] <= 5 and "expiry-5.test" in (a.get("description") or ""), a
    quiet_for(d, "cert-later", 2)
    quiet_for(d, "cert-own", 2)  # stewardd's own, just generated


def test_cert_outside_etc_that_the_front_cannot_read_is_the_rules_error(make_daemon, daemon_base):
    secret = daemon_base / "private"
    secret.mkdir(mode=0o700)
    openssl_cert(secret / "c.pem", 5)
    d = make_daemon()
    add_rule(d, name="cert-private", kind="cert_expiry", match=str(secret / "c.pem"), threshold=14)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not rule_item(d, "cert-private").get("error"):
        time.sleep(0.3)
    assert "certificate" in (rule_item(d, "cert-private").get("error") or ""), rule_item(d, "cert-private")
    assert active(alerts_of(d, "cert-private")) == []


def test_cert_that_is_a_fifo_is_refused_without_blocking(make_daemon, daemon_base):
    """A FIFO named as a certificate is the rule's error at once: the front
    never waits on it, so the other rules go on and the daemon stops."""
    fifo = daemon_base / "cert.fifo"
    os.mkfifo(fifo, 0o666)
    openssl_cert(daemon_base / "soon.pem", 3)
    os.chmod(daemon_base / "soon.pem", 0o644)
    d = make_daemon()
    add_rule(d, name="cert-fifo", kind="cert_expiry", match=str(fifo), threshold=14)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not rule_item(d, "cert-fifo").get("error"):
        time.sleep(0.3)
    assert "certificate" in (rule_item(d, "cert-fifo").get("error") or ""), rule_item(d, "cert-fifo")
    add_rule(d, name="cert-soon", kind="cert_expiry", match=str(daemon_base / "soon.pem"), threshold=14)
    wait_for(d, "cert-soon", firing(str(daemon_base / "soon.pem")))
    for name in ("cert-fifo", "cert-soon"):
        assert d.https("DELETE", f"/api/v1/alert_rules/{name}").status == 200


def test_threshold_on_a_status_field_and_a_history_series(daemon):
    add_rule(daemon, name="interval", kind="threshold", series="status:metrics:interval", op=">=",
             threshold=1)
    add_rule(daemon, name="interval-big", kind="threshold", series="status:metrics:interval", op=">",
             threshold=3600)
    add_rule(daemon, name="mem", kind="threshold", series="mem.used", op=">", threshold=0)
    add_rule(daemon, name="memtotal", kind="threshold", series="metric:node_memory_MemTotal_bytes",
             op=">", threshold=0)
    add_rule(daemon, name="nosample", kind="threshold",
             series='metric:node_filesystem_avail_bytes{mountpoint="/no/such/mount"}', op=">=",
             threshold=0)
    a = wait_for(daemon, "interval", firing(""))
    assert a["value"] == 1, a
    wait_for(daemon, "mem", firing(""))
    a = wait_for(daemon, "memtotal", firing(""))
    assert a["value"] > 1 << 20, a
    quiet_for(daemon, "interval-big", 2)
    quiet_for(daemon, "nosample", 2)  # no sample matches: nothing to compare


class AsAdmin:
    """A daemon whose https() always acts as an admin (the container's takes
    the token as an argument)."""

    def __init__(self, c):
        self.c = c

    def https(self, method, path, body=None):
        return self.c.https(method, path, body, token="admin")


@pytest.mark.systemd
def test_unit_failed(systemd_ct):
    c = AsAdmin(systemd_ct)
    names = ["failed-test-units", "failed-nothing"]
    try:
        # steward-test-fail.service is failed from boot (systemd_ct.py).
        add_rule(c, name=names[0], kind="unit_failed", match="steward-test-*")
        add_rule(c, name=names[1], kind="unit_failed", match="nothing-matches-*.service")
        a = wait_for(c, names[0], firing("steward-test-fail.service"))
        assert a["value"] == 1, a
        assert not [x for x in alerts_of(c, names[0])
                    if x["instance"] == "steward-test-logger.service"]
        quiet_for(c, names[1], 2)
    finally:
        for n in names:
            c.https("DELETE", f"/api/v1/alert_rules/{n}")


def test_mail_queue(mail):
    class M:
        def https(self, method, path, body=None):
            return mail.api(method, path, body)
    d = M()
    add_rule(d, name="mailq", kind="mail_queue", threshold=1)
    add_rule(d, name="mailq-big", kind="mail_queue", threshold=1000)
    mail.defer_mail(to="carol@example.com")
    # The queue is counted every 30 s at most.
    a = wait_for(d, "mailq", firing(""), timeout=60)
    assert a["value"] >= 1, a
    quiet_for(d, "mailq-big", 2)


@pytest.mark.namespaces
def test_share_disk(smb):
    class S:
        def https(self, method, path, body=None):
            return smb.api(method, path, body)
    d = S()
    smb.mkdir("/srv/alertfull", mode=0o755)
    p = smb.run_in_ns("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "alertfull", "/srv/alertfull")
    assert p.returncode == 0, p.stderr
    smb.mkdir("/srv/alertroomy", mode=0o755)
    for name in ("alertfull", "alertroomy"):
        r = d.https("POST", "/api/v1/shares", {"name": name, "path": f"/srv/{name}"})
        assert r.status in (200, 201), r
    add_rule(d, name="share-full", kind="share_disk", match="alertfull", threshold=90, clear=85)
    add_rule(d, name="share-roomy", kind="share_disk", match="alertroomy", threshold=99.9)
    p = smb.run_in_ns("dd", "if=/dev/zero", "of=/srv/alertfull/big", "bs=1k", "count=3900",
                      "status=none")
    assert p.returncode == 0, p.stderr
    a = wait_for(d, "share-full", firing("alertfull"))
    assert a["value"] > 90 and "/srv/alertfull" in (a.get("description") or ""), a
    quiet_for(d, "share-roomy", 2)


def test_own_certificate_end_is_a_daemon_fact(daemon):
    """What cert_expiry reads for stewardd's own certificate (the front may
    not open the TLS directory): tls.not_after, as openssl reads the file."""
    r = daemon.https("GET", "/api/v1/modules/stewardd?full=1")
    end = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(daemon.cert_path)],
                         capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
    expected = int(subprocess.run(["date", "-u", "-d", end, "+%s"], capture_output=True, text=True,
                                  check=True).stdout)
    assert r.json["tls"]["not_after"] == expected, r.json["tls"]
