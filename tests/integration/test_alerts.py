"""The alerts module's core against a real daemon: rules as a collection
(validation, dry run, audit and rollback, the shipped defaults), a
`metric:` rule on a textfile value that goes pending, fires after its
for-duration, stays firing inside its hysteresis and resolves below its
clear value, with its transitions in the history and as `alert` events,
notifications to a webhook receiver on loopback, silences and
acknowledgements with their roles, and a restart that keeps the states
without notifying again."""
import http.server
import json
import os
import threading
import time

import pytest

from test_events import Stream

METRIC = "site_alert_probe"


class Receiver:
    """A webhook receiver on loopback: each POST's JSON body is kept."""

    def __init__(self):
        bodies = self.bodies = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def statuses(self):
        return [(b["status"], [a["labels"]["alertname"] for a in b["alerts"]]) for b in self.bodies]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def token(d, role):
    r = d.https("POST", "/api/v1/tokens", {"name": f"t-{role}-{time.monotonic_ns()}", "role": role,
                                           "expires_in": 3600})
    assert r.status == 200, r
    return r.json["token"]


def setup_textfile(d, base):
    tdir = base / "textfile"
    tdir.mkdir(exist_ok=True)
    os.chmod(tdir, 0o755)
    r = d.https("PATCH", "/api/v1/modules/metrics/settings", {"textfile_dir": str(tdir)})
    if r.status == 400 and "textfile_dir" in r.body:
        pytest.skip("metrics:textfile_dir is not a setting in this build")
    assert r.status == 200, r
    r = d.https("PATCH", "/api/v1/modules/metrics/settings", {"interval": 1})
    assert r.status == 200, r
    return tdir


def set_value(d, tdir, value):
    """The probe's value in a .prom file, replaced at once.  Nobody scrapes
    /metrics: the rule's source reads the textfile directory itself."""
    p = tdir / "probe.prom"
    tmp = tdir / ".probe.tmp"
    tmp.write_text(f"# HELP {METRIC} A probe.\n# TYPE {METRIC} gauge\n{METRIC}{{room=\"a\"}} {value}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, p)


def alerts(d, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    r = d.https("GET", "/api/v1/alerts" + ("?" + qs if qs else ""))
    assert r.status == 200, r
    return r.json["alerts"]


def wait_for(pred, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def state_of(d, rule):
    a = [x for x in alerts(d) if x["rule"] == rule]
    return a[0]["state"] if a else None


PROBE_RULE = {"name": "probe-hot", "kind": "threshold", "series": f'metric:{METRIC}{{room="a"}}',
              "op": ">", "threshold": 50, "clear": 40, "for": "2s", "severity": "critical",
              "summary": "probe at {value}"}


# ---- rules -----------------------------------------------------------------------------

def test_shipped_defaults_and_validation(daemon):
    d = daemon
    rules = {r["name"]: r for r in d.https("GET", "/api/v1/alert_rules").json["alert_rules"]}
    assert set(rules) == {"disk-full", "unit-failed", "audit-chain"}
    assert rules["disk-full"]["kind"] == "disk" and rules["disk-full"]["threshold"] == 90
    assert rules["disk-full"]["clear"] == 85 and rules["disk-full"]["enabled"] is True
    assert rules["audit-chain"]["severity"] == "critical"
    assert not (d.tmp / "alert-rules.json").exists()

    bad = [
        ({"name": "Bad", "kind": "disk"}, "name"),
        ({"name": "x", "kind": "nope"}, "kind"),
        ({"name": "x", "kind": "threshold", "threshold": 1}, "series"),
        ({"name": "x", "kind": "threshold", "series": "cpu.nope", "threshold": 1}, "series"),
        ({"name": "x", "kind": "threshold", "series": "metric:a{b=c}", "threshold": 1}, "series"),
        ({"name": "x", "kind": "threshold", "series": "cpu.busy"}, "threshold"),
        ({"name": "x", "kind": "disk", "threshold": 90, "clear": 95}, "clear"),
        ({"name": "x", "kind": "disk", "match": "relative/path"}, "match"),
        ({"name": "x", "kind": "mail_queue", "match": "/x"}, "match"),
        ({"name": "x", "kind": "disk", "series": "cpu.busy"}, "series"),
        ({"name": "x", "kind": "disk", "window": "1h"}, "window"),
        ({"name": "x", "kind": "disk", "for": "5 minutes"}, "for"),
        ({"name": "x", "kind": "disk", "for": "30d"}, "for"),
        ({"name": "x", "kind": "disk", "summary": "a\nb"}, "summary"),
        ({"name": "x", "kind": "disk", "state": "firing"}, "state"),
        ({"name": "x", "kind": "disk", "threshold": "90"}, "threshold"),
    ]
    for body, field in bad:
        r = d.https("POST", "/api/v1/alert_rules", body)
        assert r.status in (400, 422), (body, r)
        assert r.json["error"].get("field") == field, (body, r.json)
    r = d.https("POST", "/api/v1/alert_rules", {"name": "disk-full", "kind": "disk"})
    assert r.status == 409, r
    assert not (d.tmp / "alert-rules.json").exists()


def test_rules_crud_dry_run_audit_and_rollback(daemon):
    d = daemon
    r = d.https("POST", "/api/v1/alert_rules?dry_run=1", PROBE_RULE)
    assert r.status == 200, r
    assert "probe-hot" in r.json["plan"]["files"][0]["diff"]
    assert not (d.tmp / "alert-rules.json").exists()

    r = d.https("POST", "/api/v1/alert_rules", PROBE_RULE)
    assert r.status == 201, r
    rule = d.https("GET", "/api/v1/alert_rules/probe-hot").json["alert_rule"]
    assert rule["for"] == "2s" and rule["clear"] == 40 and rule["op"] == ">"
    assert rule["state"] is None and rule["error"] is None

    r = d.https("PATCH", "/api/v1/alert_rules/probe-hot", {"threshold": 70, "for": "1m"})
    assert r.status == 200, r
    rule = d.https("GET", "/api/v1/alert_rules/probe-hot").json["alert_rule"]
    assert rule["threshold"] == 70 and rule["for"] == "1m" and rule["clear"] == 40
    r = d.https("PATCH", "/api/v1/alert_rules/probe-hot", {"name": "other"})
    assert r.status == 422, r

    # Deleting a default is recorded by the file; a rollback brings it back.
    r = d.https("DELETE", "/api/v1/alert_rules/unit-failed")
    assert r.status == 200, r
    audit_id = r.json["audit_id"]
    names = [x["name"] for x in d.https("GET", "/api/v1/alert_rules").json["alert_rules"]]
    assert "unit-failed" not in names and "disk-full" in names
    saved = json.loads((d.tmp / "alert-rules.json").read_text())
    assert [x["name"] for x in saved["rules"]] == ["disk-full", "audit-chain", "probe-hot"]
    rec = d.https("GET", f"/api/v1/audit/{audit_id}").json
    rec = rec.get("record", rec)
    assert rec["module"] == "alerts" and rec["operation"] == "alert_rules:delete"
    rb = d.https("POST", f"/api/v1/audit/{audit_id}/rollback")
    assert rb.status == 200, rb
    names = [x["name"] for x in d.https("GET", "/api/v1/alert_rules").json["alert_rules"]]
    assert "unit-failed" in names
    assert d.https("GET", "/api/v1/alert_rules/nope").status == 404


# ---- evaluation -------------------------------------------------------------------------

def test_metric_rule_fires_resolves_with_history_events_and_webhook(daemon, daemon_base, receiver):
    d = daemon
    tdir = setup_textfile(d, daemon_base)
    r = d.https("PATCH", "/api/v1/modules/alerts/settings", {"webhooks": [receiver.url]})
    assert r.status == 200, r
    set_value(d, tdir, 10)
    assert d.https("POST", "/api/v1/alert_rules", PROBE_RULE).status == 201
    stream = Stream(d, "/api/v1/events?types=alert", timeout=30)
    assert stream.status == 200
    time.sleep(2)
    assert alerts(d) == []

    set_value(d, tdir, 60)
    first = wait_for(lambda: [a for a in alerts(d) if a["state"] in ("pending", "firing")],
                     "pending")[0]
    a = wait_for(lambda: [a for a in alerts(d) if a["state"] == "firing"], "firing")[0]
    assert a["rule"] == "probe-hot" and a["severity"] == "critical" and a["value"] == 60
    assert a["summary"] == "probe at 60"
    assert a["labels"]["alertname"] == "probe-hot" and a["labels"]["severity"] == "critical"
    assert a["acknowledged"] is None and a["silenced_by"] is None
    # firing no sooner than its for-duration after it began to match
    assert a["starts_at"] - first["since"] >= 2 or first["state"] == "firing"
    fp = a["fingerprint"]
    assert len(fp) == 16 and d.https("GET", f"/api/v1/alerts/{fp}").json["alert"]["state"] == "firing"
    assert d.https("GET", "/api/v1/alert_rules/probe-hot").json["alert_rule"]["state"] == "firing"
    wait_for(lambda: ("firing", ["probe-hot"]) in receiver.statuses(), "the firing webhook")
    assert alerts(d, state="pending") == [] and len(alerts(d, rule="probe-hot")) == 1
    m = d.https("GET", "/metrics").body
    assert 'steward_alert_state{rule="probe-hot",severity="critical",instance="",state="firing"} 1' in m

    ev = stream.next_event("alert")[2]
    assert ev["rule"] == "probe-hot" and ev["from"] == "inactive" and ev["to"] == "pending"
    ev = stream.next_event("alert")[2]
    assert ev["from"] == "pending" and ev["to"] == "firing"

    # Hysteresis: below the threshold but above clear, it still fires.
    set_value(d, tdir, 45)
    time.sleep(3)
    assert state_of(d, "probe-hot") == "firing"
    set_value(d, tdir, 30)
    wait_for(lambda: state_of(d, "probe-hot") == "resolved", "resolved")
    a = alerts(d, state="resolved")[0]
    assert a["ends_at"] >= a["starts_at"] > 0
    wait_for(lambda: ("resolved", ["probe-hot"]) in receiver.statuses(), "the resolved webhook")
    ev = stream.next_event("alert")[2]
    assert ev["from"] == "firing" and ev["to"] == "resolved"
    stream.close()

    h = d.https("GET", f"/api/v1/modules/alerts/history?fingerprint={fp}").json
    assert [(t["from"], t["to"]) for t in h["transitions"]] == [
        ("firing", "resolved"), ("pending", "firing"), ("inactive", "pending")]
    page = d.https("GET", "/api/v1/modules/alerts/history?rule=probe-hot&limit=1").json
    assert len(page["transitions"]) == 1 and page["next"]
    more = d.https("GET", f"/api/v1/modules/alerts/history?rule=probe-hot&limit=5&before={page['next']}").json
    assert [t["to"] for t in more["transitions"]] == ["firing", "pending"]
    assert d.https("GET", "/api/v1/modules/alerts/history?rule=Bad").status == 400
    # one firing and one resolved notification: no more
    assert receiver.statuses().count(("firing", ["probe-hot"])) == 1


def test_pending_that_stops_matching_is_never_notified(daemon, daemon_base, receiver):
    d = daemon
    tdir = setup_textfile(d, daemon_base)
    assert d.https("PATCH", "/api/v1/modules/alerts/settings", {"webhooks": [receiver.url]}).status == 200
    set_value(d, tdir, 10)
    assert d.https("POST", "/api/v1/alert_rules", dict(PROBE_RULE, **{"for": "1h"})).status == 201
    set_value(d, tdir, 60)
    wait_for(lambda: state_of(d, "probe-hot") == "pending", "pending")
    set_value(d, tdir, 10)
    wait_for(lambda: state_of(d, "probe-hot") is None, "back to inactive")
    h = d.https("GET", "/api/v1/modules/alerts/history?rule=probe-hot").json["transitions"]
    assert [(t["from"], t["to"]) for t in h] == [("pending", "inactive"), ("inactive", "pending")]
    time.sleep(1)
    assert receiver.bodies == []


# ---- silences, acks, roles ---------------------------------------------------------------

def test_silence_ack_and_roles(daemon, daemon_base, receiver):
    d = daemon
    tdir = setup_textfile(d, daemon_base)
    assert d.https("PATCH", "/api/v1/modules/alerts/settings", {"webhooks": [receiver.url]}).status == 200
    monitor, operator = token(d, "monitor"), token(d, "operator")
    set_value(d, tdir, 10)
    # Only admins edit rules.
    assert d.https("POST", "/api/v1/alert_rules", PROBE_RULE, token=operator).status == 403
    assert d.https("POST", "/api/v1/alert_rules", dict(PROBE_RULE, **{"for": "0"})).status == 201
    # A silence made before the alert fires: it fires unnotified.
    r = d.https("POST", "/api/v1/alert_silences",
                {"rule": "probe-hot", "duration": "1h", "reason": "maintenance"})
    assert r.status == 201, r
    sid = r.json["alert_silence"]["id"]
    assert d.https("POST", "/api/v1/alert_silences", {"rule": "probe-hot", "duration": "1h"}).status == 422
    assert d.https("POST", "/api/v1/alert_silences",
                   {"rule": "probe-hot", "duration": "31d", "reason": "x"}).status == 422
    set_value(d, tdir, 60)
    a = wait_for(lambda: [a for a in alerts(d) if a["state"] == "firing"], "firing")[0]
    assert a["silenced_by"] == sid
    time.sleep(2)
    assert receiver.bodies == []
    # The monitor reads everything and changes nothing.
    assert d.https("GET", "/api/v1/alerts", token=monitor).status == 200
    assert d.https("GET", "/api/v1/alert_silences", token=monitor).json["alert_silences"][0]["active"]
    fp = a["fingerprint"]
    assert d.https("POST", f"/api/v1/alerts/{fp}/ack", {"comment": "x"}, token=monitor).status == 403
    assert d.https("POST", f"/api/v1/alerts/{fp}/silence", {"duration": "1h", "reason": "x"},
                   token=monitor).status == 403
    # The operator acknowledges: who, when, why.
    r = d.https("POST", f"/api/v1/alerts/{fp}/ack", {"comment": "looking"}, token=operator)
    assert r.status == 200, r
    ack = d.https("GET", f"/api/v1/alerts/{fp}").json["alert"]["acknowledged"]
    assert ack["comment"] == "looking" and ack["user"]
    assert d.https("POST", "/api/v1/alerts/0123456789abcdef/ack", {}, token=operator).status == 404
    r = d.https("POST", f"/api/v1/alerts/{fp}/unack", {}, token=operator)
    assert r.status == 200, r
    assert d.https("GET", f"/api/v1/alerts/{fp}").json["alert"]["acknowledged"] is None
    # An action is rolled back like any change: the ack comes back.
    rb = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback")
    assert rb.status == 200, rb
    assert d.https("GET", f"/api/v1/alerts/{fp}").json["alert"]["acknowledged"]["comment"] == "looking"
    assert d.https("POST", f"/api/v1/alerts/{fp}/unack", {}, token=operator).status == 200
    # Expiring the silence while it still fires: notified now.
    assert d.https("DELETE", f"/api/v1/alert_silences/{sid}").status == 200
    wait_for(lambda: ("firing", ["probe-hot"]) in receiver.statuses(), "the firing webhook")
    assert d.https("GET", f"/api/v1/alerts/{fp}").json["alert"]["silenced_by"] is None
    sil = d.https("GET", f"/api/v1/alert_silences/{sid}").json["alert_silence"]
    assert sil["active"] is False
    # The operator silences the alert itself: the resolution is not told.
    r = d.https("POST", f"/api/v1/alerts/{fp}/silence", {"duration": "30m", "reason": "known"},
                token=operator)
    assert r.status == 200, r
    assert r.json["alert_silence"]["rule"] == "probe-hot"
    set_value(d, tdir, 10)
    wait_for(lambda: state_of(d, "probe-hot") == "resolved", "resolved")
    time.sleep(2)
    assert ("resolved", ["probe-hot"]) not in receiver.statuses()
    # Every change was audited.
    recs = d.https("GET", "/api/v1/audit?module=alerts&limit=50").json
    recs = recs.get("records", recs.get("audit", []))
    ops = {x["operation"] for x in recs}
    assert {"alert_silences:create", "alert_silences:delete", "action:ack", "action:unack",
            "action:silence"} <= ops, ops


def test_a_silence_expires_by_itself(daemon, daemon_base, receiver):
    """The shortest silence (one minute) ends on its own: the alert, still
    firing, is notified then, and the silence lists as no longer active."""
    d = daemon
    tdir = setup_textfile(d, daemon_base)
    assert d.https("PATCH", "/api/v1/modules/alerts/settings", {"webhooks": [receiver.url]}).status == 200
    set_value(d, tdir, 60)
    r = d.https("POST", "/api/v1/alert_silences",
                {"rule": "probe-hot", "duration": "1m", "reason": "a short window"})
    assert r.status == 201, r
    sil = r.json["alert_silence"]
    assert d.https("POST", "/api/v1/alert_rules", dict(PROBE_RULE, **{"for": "0"})).status == 201
    a = wait_for(lambda: [a for a in alerts(d) if a["state"] == "firing"], "firing")[0]
    assert a["silenced_by"] == sil["id"]
    assert receiver.bodies == []
    wait_for(lambda: ("firing", ["probe-hot"]) in receiver.statuses(), "the firing webhook once the "
             "silence ended", timeout=90)
    # Not before the silence's end (a second of slack for the evaluation tick).
    assert time.time() >= sil["ends_at"] - 1
    assert d.https("GET", f"/api/v1/alerts/{a['fingerprint']}").json["alert"]["silenced_by"] is None
    assert d.https("GET", f"/api/v1/alert_silences/{sil['id']}").json["alert_silence"]["active"] is False


def test_ended_silences_give_way_and_one_user_holds_at_most_64(daemon):
    """A full table of ended silences (pruned after a day, or ended an hour
    ago) never blocks a new one; one user holds at most 64 active ones."""
    d = daemon
    now = int(time.time())
    old = [{"id": str(i + 1), "rule": "disk-full", "instance": "", "reason": "old",
            "created_by": "someone", "created_at": now - 3 * 86400,
            "ends_at": now - (2 * 86400 if i % 2 else 3600)} for i in range(512)]
    marks = d.tmp / "alert-silences.json"
    marks.write_text(json.dumps({"silences": old, "acks": {}}))
    os.chmod(marks, 0o644)
    body = {"rule": "disk-full", "duration": "1h", "reason": "maintenance"}
    ids = []
    for i in range(64):
        r = d.https("POST", "/api/v1/alert_silences", dict(body, instance=f"/i{i}"))
        assert r.status == 201, (i, r)
        ids.append(r.json["alert_silence"]["id"])
    r = d.https("POST", "/api/v1/alert_silences", body)
    assert r.status == 409 and "64" in r.json["error"]["message"], r
    # Ending one makes room for one more.
    assert d.https("POST", f"/api/v1/alert_silences/{ids[0]}/expire", {}).status == 200
    assert d.https("POST", "/api/v1/alert_silences", body).status == 201
    assert d.https("POST", "/api/v1/alert_silences", body).status == 409
    kept = json.loads(marks.read_text())["silences"]
    assert len(kept) <= 512 and not [x for x in kept if x["ends_at"] < now - 86400], len(kept)


def test_an_operator_expires_a_silence(daemon):
    d = daemon
    monitor, operator = token(d, "monitor"), token(d, "operator")
    r = d.https("POST", "/api/v1/alert_silences",
                {"rule": "disk-full", "duration": "1h", "reason": "maintenance"})
    assert r.status == 201, r
    sid = r.json["alert_silence"]["id"]
    # DELETE stays an admin's; the expire action is the operator's.
    assert d.https("DELETE", f"/api/v1/alert_silences/{sid}", token=operator).status == 403
    assert d.https("POST", f"/api/v1/alert_silences/{sid}/expire", {}, token=monitor).status == 403
    r = d.https("POST", f"/api/v1/alert_silences/{sid}/expire?dry_run=1", {}, token=operator)
    assert r.status == 200 and r.json.get("plan"), r
    assert d.https("GET", f"/api/v1/alert_silences/{sid}").json["alert_silence"]["active"] is True
    r = d.https("POST", f"/api/v1/alert_silences/{sid}/expire", {}, token=operator)
    assert r.status == 200 and r.json.get("audit_id"), r
    assert d.https("GET", f"/api/v1/alert_silences/{sid}").json["alert_silence"]["active"] is False
    assert d.https("POST", "/api/v1/alert_silences/999/expire", {}, token=operator).status == 404
    assert d.https("POST", f"/api/v1/alert_silences/{sid}/expire", {"x": 1}, token=operator).status == 422
    recs = d.https("GET", "/api/v1/audit?module=alerts&limit=50").json
    recs = recs.get("records", recs.get("audit", []))
    assert "action:expire" in {x["operation"] for x in recs}, recs


def test_webhook_urls_are_confidential(daemon):
    """A webhook's path may be its secret: monitors and operators read
    scheme://host[:port]/… only, and alerts.conf is 0640 root:_steward."""
    import grp
    d = daemon
    hook = "https://hooks.example.com:8443/services/T000/B000/s3cr3tt0ken"
    am = "http://am.example.com:9093/prefix?key=s3cr3t"
    r = d.https("PATCH", "/api/v1/modules/alerts/settings",
                {"webhooks": [hook, "http://h.example.com"], "alertmanager_url": am})
    assert r.status == 200, r
    full = d.https("GET", "/api/v1/modules/alerts/settings").json
    assert full["webhooks"] == [hook, "http://h.example.com"] and full["alertmanager_url"] == am, full
    for role in ("monitor", "operator"):
        r = d.https("GET", "/api/v1/modules/alerts/settings", token=token(d, role))
        assert r.status == 200, r
        assert "s3cr3t" not in json.dumps(r.json), r.json
        assert r.json["webhooks"] == ["https://hooks.example.com:8443/…", "http://h.example.com"], r.json
        assert r.json["alertmanager_url"] == "http://am.example.com:9093/…", r.json
        r = d.https("GET", "/api/v1/modules/alerts/settings?key=webhooks", token=token(d, role))
        assert r.status == 200 and "s3cr3t" not in r.body, r
    st = os.stat(d.tmp / "alerts.conf")
    assert st.st_mode & 0o777 == 0o640 and st.st_uid == 0, oct(st.st_mode)
    assert st.st_gid == grp.getgrnam("_steward").gr_gid, st.st_gid
    # The audit record's file diff (monitors read it) keeps no URL.
    recs = d.https("GET", "/api/v1/audit?module=alerts&limit=50", token=token(d, "monitor")).json
    settings = [x for x in recs["records"] if x["operation"] == "settings"]
    files = [f for x in settings for f in x["files"]]
    assert files and all("s3cr3t" not in json.dumps(f) for f in files), files
    # Nor anything else of the record: its arguments show the URL cut.
    for x in settings:
        full = d.https("GET", f"/api/v1/audit/{x['id']}", token=token(d, "monitor"))
        assert full.status == 200 and "s3cr3t" not in full.body, full.body
    # The front (as _steward) still reads it: a change is live.
    assert d.https("PATCH", "/api/v1/modules/alerts/settings", {"webhooks": []}).status == 200
    assert d.https("GET", "/api/v1/modules/alerts/settings", token=token(d, "monitor")).json["webhooks"] == []


# ---- restart ----------------------------------------------------------------------------

def test_restart_keeps_state_without_notifying_again(daemon, daemon_base, receiver):
    d = daemon
    tdir = setup_textfile(d, daemon_base)
    assert d.https("PATCH", "/api/v1/modules/alerts/settings", {"webhooks": [receiver.url]}).status == 200
    set_value(d, tdir, 60)
    assert d.https("POST", "/api/v1/alert_rules", dict(PROBE_RULE, **{"for": "0"})).status == 201
    a = wait_for(lambda: [a for a in alerts(d) if a["state"] == "firing"], "firing")[0]
    wait_for(lambda: ("firing", ["probe-hot"]) in receiver.statuses(), "the firing webhook")
    assert d.stop() == 0
    d.start()
    set_value(d, tdir, 60)
    after = wait_for(lambda: [x for x in alerts(d) if x["state"] == "firing"], "firing again")[0]
    assert after["since"] == a["since"] and after["starts_at"] == a["starts_at"]
    assert after["fingerprint"] == a["fingerprint"]
    time.sleep(3)
    assert receiver.statuses().count(("firing", ["probe-hot"])) == 1
    # and what resolves after the restart is told
    set_value(d, tdir, 10)
    wait_for(lambda: ("resolved", ["probe-hot"]) in receiver.statuses(), "the resolved webhook")
