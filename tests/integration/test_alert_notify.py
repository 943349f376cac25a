"""Alert notifications end to end: a real daemon fires and resolves alerts
and tells webhook receivers (Python on loopback), a real Alertmanager
(Debian's prometheus-alertmanager on loopback, read back with amtool) and a
mailbox (a real Postfix in mail_ns, read over IMAP).

Alerts are driven two ways: a threshold rule on a `metric:` selector of a
textfile value (the metrics module's textfile collector; the test writes
the .prom file), and the built-in disk kind on a small tmpfs mounted in the
mail fixture's private mount namespace (the "done when" case: over 90 %,
then back).

Every wait is for a condition with a generous deadline (a hang fails, a
slow machine does not); nothing asserts how long a step took.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port
from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

DEADLINE = 60


# What a failing wait shows: set by the fixtures (the daemon's view).
DIAGNOSE = []


def wait_for(what, fn, timeout=DEADLINE):
    """fn() until it is truthy; its value. Fails with what past timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n" + "\n".join(d() for d in DIAGNOSE))
        time.sleep(0.1)


def diagnose(api, log=None):
    def show():
        out = []
        for path in ("/api/v1/alerts", "/api/v1/alert_rules", "/api/v1/modules/alerts?full=1"):
            r = api("GET", path)
            out.append(f"{path}: {r.status} {r.body[:3000]!r}")
        if log:
            out.append(log()[-3000:])
        return "\n".join(out)
    return show


class Receiver:
    """A webhook receiver on 127.0.0.1: records (path, body) of every POST.
    Per path: "ok" answers 200; "flaky" 500 to the first POST, 200 after;
    "hang" holds each request until release() (then 200)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []
        self.modes = {}
        self.seen = {}
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with receiver.lock:
                    receiver.posts.append((self.path, self.headers.get("Content-Type"),
                                           json.loads(body)))
                    count = receiver.seen[self.path] = receiver.seen.get(self.path, 0) + 1
                mode = receiver.modes.get(self.path, "ok")
                if mode == "hang":
                    receiver.released.wait(120)
                status = 500 if mode == "flaky" and count == 1 else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path, status=None, rule=None):
        with self.lock:
            return [b for p, _, b in self.posts if p == path
                    and (status is None or b["status"] == status)
                    and (rule is None or b["groupLabels"].get("alertname") == rule)]

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def set_settings(d_or_mail, module, values):
    api = d_or_mail.api if hasattr(d_or_mail, "api") else \
        (lambda m, p, b=None: d_or_mail.https(m, p, b))
    r = api("PATCH", f"/api/v1/modules/{module}/settings", values)
    assert r.status in (200, 202), r
    return api


class Textfile:
    """A metric the test sets: a .prom file in a textfile directory the
    daemon's front can read (names under steward_ are the daemon's own and
    refused there).  set() checks that /metrics shows the value written."""

    def __init__(self, directory, name):
        self.dir = directory
        self.name = name
        self.api = None
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)

    def set(self, value):
        tmp = os.path.join(self.dir, ".alert.prom.tmp")
        with open(tmp, "w") as f:
            f.write(f"# TYPE {self.name} gauge\n{self.name} {value}\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(self.dir, "alert.prom"))
        if self.api:
            r = self.api("GET", "/metrics")
            assert r.status == 200 and f"{self.name} {value}" in r.body, r


def make_rule(api, name, metric, threshold=10, clear=None):
    body = {"name": name, "kind": "threshold", "series": f"metric:{metric}", "op": ">",
            "threshold": threshold, "severity": "critical"}
    if clear is not None:
        body["clear"] = clear
    r = api("POST", "/api/v1/alert_rules", body)
    assert r.status in (200, 201), r


@pytest.fixture
def fired(daemon, daemon_base, receiver):
    """A daemon with a textfile metric, a rule on it and the receiver's
    paths as webhooks; (daemon, api, textfile, receiver)."""
    tf = Textfile(str(daemon_base / "textfile"), "alerttest_level")
    tf.set(1)
    api = set_settings(daemon, "metrics", {"textfile_dir": tf.dir})
    tf.api = api
    DIAGNOSE[:] = [diagnose(api, daemon.log_text)]
    return daemon, api, tf, receiver


def the_alert(body):
    assert len(body["alerts"]) == 1, body
    return body["alerts"][0]


def test_webhook_v4_firing_then_resolved(fired):
    d, api, tf, rec = fired
    set_settings(d, "alerts", {"webhooks": [rec.url("/hook")]})
    make_rule(api, "level-high", "alerttest_level", threshold=10, clear=5)
    tf.set(20)
    body = wait_for("the firing webhook", lambda: rec.bodies("/hook", "firing", "level-high"))[0]
    with rec.lock:
        assert {ct for p, ct, _ in rec.posts if p == "/hook"} == {"application/json"}
    assert set(body) == {"version", "groupKey", "truncatedAlerts", "status", "receiver",
                         "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
                         "alerts"}
    assert body["version"] == "4"
    assert body["groupKey"] == '{}:{alertname="level-high"}'
    assert body["truncatedAlerts"] == 0
    assert body["receiver"] == "steward"
    assert body["groupLabels"] == {"alertname": "level-high"}
    assert body["externalURL"].endswith(":660/#/alerts")
    a = the_alert(body)
    assert set(a) == {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                      "fingerprint"}
    assert a["status"] == "firing"
    assert a["labels"]["alertname"] == "level-high"
    assert a["labels"]["severity"] == "critical"
    assert "host" in a["labels"]
    assert a["endsAt"] == "0001-01-01T00:00:00Z"
    assert a["startsAt"].endswith("Z") and a["startsAt"][4] == "-"
    assert len(a["fingerprint"]) == 16
    assert body["commonLabels"] == a["labels"]
    # Hysteresis: under the threshold but over clear is still firing.
    tf.set(7)
    tf.set(2)
    done = wait_for("the resolved webhook", lambda: rec.bodies("/hook", "resolved", "level-high"))
    r = the_alert(done[0])
    assert r["status"] == "resolved" and r["endsAt"] != "0001-01-01T00:00:00Z"
    assert r["fingerprint"] == a["fingerprint"] and r["startsAt"] == a["startsAt"]
    # No secret in what was sent, and status names no path.
    st = api("GET", "/api/v1/modules/alerts?full=1")
    assert st.status == 200, st
    hooks = st.json["notifications"]["webhooks"]
    assert hooks == [{"url_host": f"http://127.0.0.1:{rec.port}", "sent": 2, "failed": 0,
                      "dropped": 0, "last_error": None, "queued": 0}]
    # And /metrics counts them (the helper reads what the front put).
    wait_for("the counter", lambda: 'steward_alert_notifications_total{receiver="webhook",'
             'result="ok"} 2\n' in api("GET", "/metrics").body)
    assert "# TYPE steward_alert_notifications_total counter" in api("GET", "/metrics").body


def test_retry_and_a_hanging_receiver_holds_nobody(fired):
    """A 500 is retried (the same body) and then delivered; a receiver that
    does not answer holds neither the others nor the evaluation."""
    d, api, tf, rec = fired
    rec.modes["/flaky"] = "flaky"
    rec.modes["/hang"] = "hang"
    set_settings(d, "alerts", {"webhooks": [rec.url("/hang"), rec.url("/flaky"),
                                            rec.url("/ok")]})
    make_rule(api, "level-retry", "alerttest_level", threshold=10)
    tf.set(50)
    wait_for("the firing webhook", lambda: rec.bodies("/ok", "firing"))
    flaky = wait_for("the retry", lambda: len(rec.bodies("/flaky")) >= 2 and rec.bodies("/flaky"))
    assert flaky[0] == flaky[1]
    # /hang still holds its first request: the resolution reaches /ok and
    # the evaluation goes on (the alert's state is resolved).
    tf.set(0)
    wait_for("the resolved webhook", lambda: rec.bodies("/ok", "resolved"))
    assert len(rec.bodies("/hang")) == 1 and not rec.released.is_set()
    alerts = api("GET", "/api/v1/alerts?rule=level-retry").json["alerts"]
    assert [a["state"] for a in alerts] == ["resolved"]
    # Released, /hang gets the rest in order: firing, then resolved.
    rec.released.set()
    hang = wait_for("the held webhooks", lambda: len(rec.bodies("/hang")) >= 2 and
                    rec.bodies("/hang"))
    assert [b["status"] for b in hang[:2]] == ["firing", "resolved"]


def test_send_resolved_off(fired):
    """Only firing alerts are told; the webhook is named by a host name,
    which the front (sandboxed, unprivileged) resolves itself."""
    d, api, tf, rec = fired
    set_settings(d, "alerts", {"webhooks": [f"http://localhost:{rec.port}/hook"],
                               "send_resolved": False})
    make_rule(api, "level-quiet", "alerttest_level", threshold=10)
    tf.set(11)
    wait_for("the firing webhook", lambda: rec.bodies("/hook", "firing"))
    tf.set(0)
    wait_for("the resolution", lambda: [a for a in api("GET", "/api/v1/alerts?rule=level-quiet")
                                        .json["alerts"] if a["state"] == "resolved"])
    # What the notifier had queued by then is all it sends: the status shows
    # nothing left queued, and no resolved body came.
    wait_for("an empty queue", lambda: api("GET", "/api/v1/modules/alerts?full=1")
             .json["notifications"]["webhooks"][0]["queued"] == 0)
    assert rec.bodies("/hook", "resolved") == []


# ---- a real Alertmanager -------------------------------------------------------------------

@pytest.fixture
def alertmanager(daemon_base):
    if not shutil.which("prometheus-alertmanager") or not shutil.which("amtool"):
        pytest.skip("needs prometheus-alertmanager and amtool (scripts/install-deps.sh test)")
    d = daemon_base / "am"
    d.mkdir()
    (d / "am.yml").write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    port = free_port()
    log = open(d / "am.log", "wb")
    p = subprocess.Popen(["prometheus-alertmanager", f"--config.file={d / 'am.yml'}",
                          f"--storage.path={d / 'data'}",
                          f"--web.listen-address=127.0.0.1:{port}",
                          "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def ready():
        r = subprocess.run(["amtool", f"--alertmanager.url={url}", "alert", "query"],
                           capture_output=True)
        return r.returncode == 0
    try:
        wait_for("Alertmanager", ready)
        yield url
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def am_alerts(url, *matchers, active=True):
    argv = ["amtool", f"--alertmanager.url={url}", "alert", "query", "-o", "json", *matchers]
    if not active:
        argv.insert(4, "--resolved")
    r = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(r.stdout or "[]")


def test_alertmanager_gets_and_resolves(fired, alertmanager):
    d, api, tf, _ = fired
    set_settings(d, "alerts", {"alertmanager_url": alertmanager})
    make_rule(api, "level-am", "alerttest_level", threshold=10)
    tf.set(99)
    got = wait_for("the alert in Alertmanager", lambda: am_alerts(alertmanager,
                                                                  "alertname=level-am"))
    assert got[0]["labels"]["severity"] == "critical"
    assert got[0]["status"]["state"] == "active"
    assert got[0]["generatorURL"].endswith(":660/#/alerts")
    # Firing alerts are valid a few minutes ahead, and pushed again from
    # a restarted daemon on (its engine's firing alerts), so Alertmanager
    # does not resolve them meanwhile.
    first_end = got[0]["endsAt"]
    assert first_end > got[0]["startsAt"]
    assert d.stop() == 0
    d.start()
    tf.set(99)
    wait_for("a push after the restart", lambda: [
        a for a in am_alerts(alertmanager, "alertname=level-am") if a["endsAt"] > first_end],
        timeout=180)
    tf.set(0)
    wait_for("the alert resolved in Alertmanager",
             lambda: not am_alerts(alertmanager, "alertname=level-am"))


# ---- mail through a real Postfix, and the "done when" disk ---------------------------------

def mail_subjects(mail, user, password, prefix):
    return [s for s in mail.imap_fetch_subjects(user, password) if s.startswith(prefix)]


def test_mail_reaches_a_mailbox(mail, receiver):
    user, pw = mail.add_user("alertee", "Alertee-pw-1")
    tdir = mail.base / "textfile"
    tf = Textfile(str(tdir), "alerttest_mail")
    tf.set(0)
    set_settings(mail, "metrics", {"textfile_dir": str(tdir)})
    tf.api = lambda m, p, b=None: mail.api(m, p, b)
    set_settings(mail, "alerts", {"mail_to": [f"{user}@{mail.domain}"],
                                  "webhooks": [receiver.url("/m")]})
    make_rule(mail.api, "mail-level", "alerttest_mail", threshold=10)
    tf.set(42)
    subj = wait_for("the firing mail",
                    lambda: mail_subjects(mail, user, pw, "[FIRING] mail-level on "))
    hook = wait_for("the firing webhook", lambda: receiver.bodies("/m", "firing", "mail-level"))
    host = the_alert(hook[0])["labels"]["host"]
    assert subj[0] == f"[FIRING] mail-level on {host}: " + \
        the_alert(hook[0])["annotations"]["summary"]
    tf.set(0)
    wait_for("the resolved mail", lambda: mail_subjects(mail, user, pw, "[RESOLVED] mail-level on "))
    st = mail.api("GET", "/api/v1/modules/alerts?full=1").json["notifications"]["mail"]
    assert st["sent"] >= 2 and st["failed"] == 0, st
    set_settings(mail, "alerts", {"mail_to": [], "webhooks": []})
    mail.api("DELETE", "/api/v1/alert_rules/mail-level")


def test_done_when_disk_over_90_then_back(mail, receiver):
    """The shipped default rule disk-full (>= 90 %, clear 85) on a
    filesystem crossing 90 %: a webhook and a mail, and another of each
    when it recovers."""
    user, pw = mail.add_user("diskwatch", "Diskwatch-pw-1")
    mnt = "/mnt/steward-alert-disk"
    mail.run_in_ns("mkdir", "-p", mnt, check=True)
    mail.run_in_ns("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt, check=True)
    DIAGNOSE[:] = [diagnose(lambda m, p, b=None: mail.api(m, p, b))]

    def about_mnt(status):
        return [b for b in receiver.bodies("/disk", status, "disk-full")
                if any(a["labels"].get("instance") == mnt for a in b["alerts"])]
    try:
        set_settings(mail, "alerts", {"mail_to": [f"{user}@{mail.domain}"],
                                      "webhooks": [receiver.url("/disk")]})
        mail.run_in_ns("dd", "if=/dev/zero", f"of={mnt}/fill", "bs=1k", "count=3800", check=True)
        body = wait_for("the disk webhook", lambda: about_mnt("firing"))[0]
        a = [a for a in body["alerts"] if a["labels"]["instance"] == mnt][0]
        assert a["labels"]["severity"] == "warning"
        assert mnt in a["annotations"]["summary"]
        wait_for("the disk mail", lambda: [s for s in mail_subjects(
            mail, user, pw, "[FIRING] disk-full on ") if mnt in s])
        mail.run_in_ns("rm", f"{mnt}/fill", check=True)
        done = wait_for("the recovery webhook", lambda: about_mnt("resolved"))[0]
        r = [r for r in done["alerts"] if r["labels"]["instance"] == mnt][0]
        assert r["fingerprint"] == a["fingerprint"] and r["endsAt"] != "0001-01-01T00:00:00Z"
        wait_for("the recovery mail", lambda: [s for s in mail_subjects(
            mail, user, pw, "[RESOLVED] disk-full on ") if mnt in s])
        st = mail.api("GET", "/api/v1/modules/alerts?full=1").json["notifications"]
        assert st["mail"]["failed"] == 0 and st["webhooks"][0]["failed"] == 0, st
    finally:
        set_settings(mail, "alerts", {"mail_to": [], "webhooks": []})
        mail.run_in_ns("umount", mnt)
