"""Alerts from the command line (docs/steward.1, "alerts"): `steward alerts`
lists (a collection named alone), SINCE reads "… ago", `alerts ack ID -m`
and `alerts silence ID --for --reason` are the actions with options of
their own names, `alerts silences` lists the silences, and `alert_rules`
adds, shows, disables and deletes rules with --dry-run showing the rules
file's diff first.  A rule that holds at once (cpu.busy >= 0) fires within
a few evaluations; the wait is for that state, with a deadline, never a
timing.  A monitor lists but may not acknowledge.  Nothing here changes the
host: the daemon's configuration and state live in its scratch directory."""
import json
import re
import time

import pytest


def rows(p):
    """A table's lines as lists of cells split on runs of 2+ spaces."""
    lines = p.stdout.splitlines()
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def wait_for(fn, what, deadline=60):
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v:
            return v
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.2)


def firing(daemon, rule):
    p = daemon.cli("--json", "alerts", "list", "--rule", rule, check=0)
    return [a for a in json.loads(p.stdout)["alerts"] if a["state"] == "firing"]


def test_alerts_named_alone_lists_them_with_human_columns(daemon):
    bare = daemon.cli("alerts", check=0)
    listed = daemon.cli("alerts", "list", check=0)
    assert bare.stdout.splitlines()[0] == listed.stdout.splitlines()[0]
    assert rows(bare)[0] == ["RULE", "STATE", "SEVERITY", "SINCE", "VALUE", "INSTANCE", "ID"]
    p = daemon.cli("alerts", "silences", check=0)
    assert rows(p)[0] == ["ID", "RULE", "INSTANCE", "ENDS", "ACTIVE", "REASON"]
    h = daemon.cli("alerts", "--help", check=0).stdout
    for verb in ("list", "show", "ack", "silence", "silences"):
        assert re.search(rf"steward alerts {verb}\b", h), (verb, h)


def test_rules_defaults_listed(daemon):
    p = daemon.cli("alert_rules", "list", check=0)
    assert rows(p)[0][:2] == ["NAME", "KIND"]
    names = {r[0] for r in rows(p)[1:]}
    assert {"disk-full", "unit-failed", "audit-chain"} <= names, p.stdout


@pytest.mark.parametrize("argv", [
    ("alert_rules", "add", "x", "--kind", "threshold", "--threshold", "ninety"),
    ("alert_rules", "add", "x", "--threshold", "1e999"),
    ("alert_rules", "add", "x", "--threshold", ""),
    ("alert_rules", "add"),
    ("alerts", "ack"),
    ("alerts", "silence"),
    ("alerts", "silence", "0123456789abcdef", "--for"),
    ("alerts", "nosuchverb"),
])
def test_usage_errors(daemon, argv):
    p = daemon.cli(*argv)
    assert p.returncode == 2, (argv, p.stdout, p.stderr)


def test_rule_lifecycle_ack_and_silence(daemon):
    add = ("alert_rules", "add", "cpu-any", "--kind", "threshold", "--series", "cpu.busy",
           "--op", ">=", "--threshold", "0", "--severity", "critical")
    # A dry run shows the rules file's diff and changes nothing.
    p = daemon.cli(*add, "--dry-run", check=0)
    assert "cpu-any" in p.stdout and "+" in p.stdout, p.stdout
    assert "cpu-any" not in daemon.cli("alert_rules", "list", check=0).stdout
    p = daemon.cli(*add, check=0)
    assert re.search(r"audit record \d+", p.stdout), p.stdout
    show = daemon.cli("alert_rules", "show", "cpu-any", check=0).stdout
    assert re.search(r"^alert_rules:cpu-any:threshold = 0\b", show, re.M), show
    assert re.search(r"^alert_rules:cpu-any:series = \"cpu\.busy\"$", show, re.M), show

    # It holds at once: the alert fires; the table says since when in words.
    alert = wait_for(lambda: firing(daemon, "cpu-any"), "cpu-any to fire")[0]
    fp = alert["fingerprint"]
    table = [r for r in rows(daemon.cli("alerts", check=0))[1:] if r[0] == "cpu-any"]
    assert table and table[0][1:3] == ["firing", "critical"], table
    assert re.fullmatch(r"just now|\d+ (s|min) ago", table[0][3]), table
    assert table[0][-1] == fp

    # Acknowledge with -m; show tells who and why.
    p = daemon.cli("alerts", "ack", fp, "-m", "looking into it", check=0)
    assert re.search(r"audit record \d+", p.stdout), p.stdout
    # What the action reports, once.
    assert p.stdout.count('acknowledged:comment = "looking into it"') == 1, p.stdout
    show = daemon.cli("--json", "alerts", "show", fp, check=0)
    ack = json.loads(show.stdout)["alert"]["acknowledged"]
    assert ack["comment"] == "looking into it" and ack["user"]

    # Silence for 2 h with a reason; `alerts silences` lists it, ending in ~2 h.
    p = daemon.cli("alerts", "silence", fp, "--for", "2h", "--reason", "maintenance", check=0)
    assert re.search(r"audit record \d+", p.stdout), p.stdout
    listed = daemon.cli("alerts", "silences", check=0).stdout.splitlines()
    sil = [line for line in listed[1:] if line.split()[1] == "cpu-any"]
    assert len(sil) == 1 and sil[0].endswith("maintenance"), listed
    # The instance is empty (a singleton); ENDS reads in words.
    assert re.search(r"\s(in (1 h \d+ min|2 h))\s+yes\s+maintenance$", sil[0]), sil
    assert json.loads(daemon.cli("--json", "alerts", "show", fp, check=0).stdout)["alert"]["silenced_by"]
    # `alert_silences expire ID` ends it (the operators' action), reviewable.
    sid = json.loads(daemon.cli("--json", "alerts", "show", fp, check=0).stdout)["alert"]["silenced_by"]
    p = daemon.cli("alert_silences", "expire", sid, "--dry-run", check=0)
    assert json.loads(daemon.cli("--json", "alert_silences", "show", sid, check=0).stdout)["alert_silence"]["active"]
    p = daemon.cli("alert_silences", "expire", sid, check=0)
    assert re.search(r"audit record \d+", p.stdout), p.stdout
    assert not json.loads(daemon.cli("--json", "alert_silences", "show", sid, check=0).stdout)["alert_silence"]["active"]
    assert not json.loads(daemon.cli("--json", "alerts", "show", fp, check=0).stdout)["alert"]["silenced_by"]
    # A silence needs a reason: the server refuses without one.
    p = daemon.cli("alerts", "silence", fp, "--for", "1h")
    assert p.returncode == 1 and "reason" in p.stderr, (p.stdout, p.stderr)

    # Disable, then delete the rule (each reviewable with --dry-run).
    daemon.cli("alert_rules", "disable", "cpu-any", check=0)
    assert "enabled = no" in daemon.cli("alert_rules", "show", "cpu-any", check=0).stdout
    p = daemon.cli("alert_rules", "delete", "cpu-any", "--dry-run", check=0)
    assert "cpu-any" in daemon.cli("alert_rules", "list", check=0).stdout
    daemon.cli("alert_rules", "delete", "cpu-any", check=0)
    assert "cpu-any" not in daemon.cli("alert_rules", "list", check=0).stdout


def test_a_monitor_lists_but_may_not_acknowledge(daemon):
    r = daemon.https("POST", "/api/v1/tokens", {"name": "watcher", "role": "monitor", "expires_in": 3600})
    assert r.status in (200, 201), r
    secret = r.json["token"]
    remote = ["-H", f"127.0.0.1:{daemon.port}", "--fingerprint", daemon.fingerprint]
    env = {"STEWARD_TOKEN": secret}
    p = daemon.cli(*remote, "alerts", env=env, check=0)
    assert rows(p)[0][0] == "RULE"
    p = daemon.cli(*remote, "alerts", "ack", "0123456789abcdef", "-m", "x", env=env)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert re.search(r"role|forbidden|operator", p.stderr, re.I), p.stderr
    p = daemon.cli(*remote, "alert_rules", "add", "x", "--kind", "audit_chain", env=env)
    assert p.returncode == 1, (p.stdout, p.stderr)
