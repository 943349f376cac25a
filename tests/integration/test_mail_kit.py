"""What the mail module brought to the kit, against the real Postfix and
Dovecot of mail_ns.py: a module's own gauges on /metrics (the queue's size
per queue, counted from Postfix's queue directories by the helper), the
module's own command line words (`steward mail who|kick|activity`, `steward
mail queue …` reaching the collection mail_queue), and commands that take
?dry_run=1 only when they say so."""
import json
import os
import pwd
import re

import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces


def gauge(mail, name, **labels):
    r = mail.api("GET", "/metrics", role="monitor")
    assert r.status == 200, r
    text = r.body.decode() if isinstance(r.body, bytes) else r.body
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        m = re.fullmatch(re.escape(f"{name}{{{want}}}") + r" (\S+)", line)
        if m:
            return float(m.group(1))
    return None


def test_queue_gauges_follow_the_queue(mail):
    assert gauge(mail, "steward_mail_server_up", server="postfix") == 1
    assert gauge(mail, "steward_mail_server_up", server="dovecot") == 1
    before = gauge(mail, "steward_mail_queue_messages", queue="deferred") or 0
    qid = mail.defer_mail(to="metrics@gauge.test")["queue_id"]
    assert gauge(mail, "steward_mail_queue_messages", queue="deferred") == before + 1
    held = gauge(mail, "steward_mail_queue_messages", queue="hold") or 0
    r = mail.api("POST", f"/api/v1/modules/mail/queue/{qid}/hold", role="operator")
    assert r.status == 200, r
    assert gauge(mail, "steward_mail_queue_messages", queue="hold") == held + 1
    assert gauge(mail, "steward_mail_queue_messages", queue="deferred") == before
    r = mail.api("DELETE", f"/api/v1/modules/mail/queue/{qid}")
    assert r.status == 200, r
    assert gauge(mail, "steward_mail_queue_messages", queue="hold") == held
    # Dovecot stopped: its gauge says so (Postfix's does not move)
    mail.stop_dovecot()
    try:
        assert gauge(mail, "steward_mail_server_up", server="dovecot") == 0
        assert gauge(mail, "steward_mail_server_up", server="postfix") == 1
    finally:
        mail.start_dovecot()


def test_module_words_on_the_command_line(mail):
    p = mail.cli("mail", "--help", check=0)
    for line in ("steward mail who", "steward mail kick USER", "steward mail activity",
                 "steward mail queue VERB", "steward mail aliases VERB"):
        assert line in p.stdout, p.stdout
    p = mail.cli("mail", "queue", "--help", check=0)
    assert "steward mail queue delete [ID]" in p.stdout and "--dry-run" in p.stdout
    # the queue has no generic add or modify
    assert "mail queue add" not in p.stdout and "mail queue modify" not in p.stdout
    p = mail.cli("mail", "queue", "add", "x", check=2)
    assert "unknown mail queue command" in p.stderr
    p = mail.cli("mail", "nosuchword", check=2)
    assert "unknown mail command" in p.stderr and "steward mail --help" in p.stderr
    p = mail.cli("mail", check=2)
    p = mail.cli("mail", "kick", check=2)  # USER is required
    # `mail queue` is the collection mail_queue, both ways
    a = mail.cli("--json", "mail", "queue", "list", "--queue", "hold", check=0)
    b = mail.cli("--json", "mail_queue", "list", "--queue", "hold", check=0)
    assert a.stdout == b.stdout
    # one page in JSON: the answer as it is, the counts beside the messages
    listed = json.loads(a.stdout)
    assert set(listed["counts"]) == {"active", "deferred", "hold", "incoming", "maildrop"}, listed
    assert isinstance(listed["mail_queue"], list) and "total" in listed, listed
    p = mail.cli("mail", "who", check=0)
    assert p.stdout.split()[:4] == ["USER", "SERVICE", "CLIENT", "PID"], p.stdout


def test_dry_run_only_where_a_command_says_so(mail):
    qid = mail.defer_mail(to="dry@dryrun.test")["queue_id"]
    r = mail.api("POST", "/api/v1/modules/mail/commands/queue_delete?dry_run=1",
                 {"domain": "dryrun.test"})
    assert r.status == 200 and r.json["dry_run"] is True and r.json["count"] == 1, r
    assert qid in {m["queue_id"] for m in mail.postqueue()}
    # a dry run is not audited
    recs = mail.api("GET", "/api/v1/audit?module=mail").json["records"]
    assert not any(x.get("args", {}).get("domain") == "dryrun.test" for x in recs), recs
    # a command without a dry run refuses one (it would run for real)
    r = mail.api("POST", "/api/v1/modules/mail/commands/kick?dry_run=1", {"user": "nobody"})
    assert r.status == 400 and r.json["error"]["field"] == "dry_run", r
    r = mail.api("DELETE", "/api/v1/modules/mail/connections/nobody?dry_run=1")
    assert r.status == 400 and r.json["error"]["field"] == "dry_run", r
    r = mail.api("POST", "/api/v1/modules/mail/commands/queue_delete?dry_run=yes",
                 {"domain": "dryrun.test"})
    assert r.status == 400, r
    # the route of one message takes it too
    r = mail.api("DELETE", f"/api/v1/modules/mail/queue/{qid}?dry_run=1")
    assert r.status == 200 and r.json["dry_run"] is True, r
    assert qid in {m["queue_id"] for m in mail.postqueue()}
    r = mail.api("DELETE", f"/api/v1/modules/mail/queue/{qid}")
    assert r.status == 200 and r.json["dry_run"] is False, r
    assert qid not in {m["queue_id"] for m in mail.postqueue()}
    # the answer names its audit record, which says what was done
    rec = mail.api("GET", f"/api/v1/audit/{r.json['audit_id']}").json
    assert rec["operation"] == "command:queue_delete" and rec["result"] == "ok", rec
    assert rec["args"] == {"id": qid, "summary": f"delete message {qid}"}, rec


def test_the_stage_leaves_the_live_queue_directories_alone(mail):
    """postfix check, run on the staged configuration, makes the queue
    directories it misses; the stage's overlay keeps them out of the live
    spool (a Postfix configured before it first starts has none)."""
    saved = mail.path("/var/spool/postfix/saved")
    if saved.exists():
        saved.rmdir()
    try:
        r = mail.api("PATCH", "/api/v1/modules/mail/settings?dry_run=1",
                     {"postfix": {"message_size_limit": 20480001}})
        assert r.status == 200, r
        assert any(f["path"] == "/etc/postfix/main.cf" for f in r.json["files"]), r.json
        assert not saved.exists()
        # and a staged check that fails still says why
        r = mail.api("PATCH", "/api/v1/modules/mail/settings?dry_run=1",
                     {"postfix": {"mailbox_size_limit": 1000}})
        assert r.status == 422, r
        assert not saved.exists()
    finally:
        if not saved.exists():
            saved.mkdir(mode=0o700)
            os.chown(saved, pwd.getpwnam("postfix").pw_uid, 0)


def test_status_says_which_server_runs(mail):
    """The servers' pid files are root's: the status is read in the helper,
    for every role that may read it."""
    for role in ("monitor", "admin"):
        st = mail.api("GET", "/api/v1/modules/mail", role=role).json
        assert st["state"] == "running", st
        assert st["postfix"] == {"installed": True, "running": True}, st
        assert st["dovecot"] == {"installed": True, "running": True}, st
        assert "reason" not in st, st
    listed = {m["name"]: m for m in mail.api("GET", "/api/v1/modules", role="monitor")
              .json["modules"]}
    assert listed["mail"]["state"] == "running", listed["mail"]
    mail.stop_dovecot()
    try:
        st = mail.api("GET", "/api/v1/modules/mail", role="monitor").json
        assert st["state"] == "degraded", st
        assert st["reason"] == "Dovecot is not running (Postfix is)", st
        p = mail.cli("list", check=0)
        assert "Dovecot is not running (Postfix is)" in p.stdout, p.stdout
    finally:
        mail.start_dovecot()
