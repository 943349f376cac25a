"""Postfix's queue and the delivery activity (src/modules/mail/queue.c,
activity.c), against the real Postfix of mail_ns.py: with relayhost =
[127.0.0.1]:2526 (nothing listens) a message waits in the deferred queue,
shows in GET /api/v1/modules/mail/queue and the collection mail_queue with
its reason, is filtered, held, released, requeued, flushed and deleted;
many messages are deleted as one operation (a dry run first, then audited
with its summary); the headers are an admin's; operators may hold but not
delete; ids outside Postfix's grammar are refused; the activity counts the
deferral.  Each test makes its own messages, to recipients of a domain of
its own, so that the others' messages do not matter."""
import secrets
import time

import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces

QUEUE = "/api/v1/modules/mail/queue"
COMMANDS = "/api/v1/modules/mail/commands"


def domain():
    return f"q{secrets.token_hex(3)}.test"


def ids_in_postqueue(mail, dom=None):
    return {m["queue_id"]: m["queue_name"] for m in mail.postqueue()
            if dom is None or any(r["address"].endswith("@" + dom) for r in m["recipients"])}


def listed(mail, query="", role="monitor"):
    r = mail.api("GET", QUEUE + query, role=role)
    assert r.status == 200, r
    return r.json


def wait_queue(mail, qid, queue_name, timeout=30):
    """Until postqueue -j shows qid in queue_name (a flushed or released
    message goes through the active queue back to the deferred one)."""
    deadline = time.monotonic() + timeout
    while True:
        now = ids_in_postqueue(mail).get(qid)
        if now == queue_name:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{qid} is in {now}, not {queue_name}")
        time.sleep(0.2)


def test_deferred_message_listed_with_its_reason(mail):
    dom = domain()
    m = mail.defer_mail(to=f"carol@{dom}")
    qid = m["queue_id"]
    a = listed(mail, f"?domain={dom}")
    assert a["postfix_running"] is True
    assert [x["id"] for x in a["messages"]] == [qid], a
    msg = a["messages"][0]
    assert msg["queue"] == "deferred"
    assert msg["sender"] == "sender@example.net"
    assert msg["size"] == m["message_size"]
    assert msg["arrival_time"].endswith("Z") and msg["age_seconds"] >= 0
    assert msg["recipients"][0]["address"] == f"carol@{dom}"
    assert "127.0.0.1[127.0.0.1]:2526" in msg["recipients"][0]["delay_reason"]
    assert a["total"] == 1
    # Counts cover the whole queue, whatever the filters.
    assert a["counts"]["deferred"] >= 1
    assert set(a["counts"]) == {"active", "deferred", "hold", "incoming", "maildrop"}
    # Reasons group the same cause: addresses and ports stripped.
    assert a["reasons"][0]["reason"] == "connect to *[*]:*: Connection refused", a["reasons"]
    assert a["reasons"][0]["count"] == 1
    # The same message in the collection (what the CLI and the console read).
    r = mail.api("GET", f"/api/v1/mail_queue?domain={dom}", role="monitor")
    assert r.status == 200, r
    assert [x["id"] for x in r.json["mail_queue"]] == [qid]
    assert r.json["total"] == 1


def test_filters(mail):
    dom_a, dom_b = domain(), domain()
    a = mail.defer_mail(to=f"x@{dom_a}", frm="one@senders.test")["queue_id"]
    b = mail.defer_mail(to=f"y@{dom_b}", frm="two@senders.test")["queue_id"]

    def ids(query):
        return {m["id"] for m in listed(mail, query)["messages"]} & {a, b}

    assert ids(f"?domain={dom_a}") == {a}
    assert ids(f"?recipient=y@{dom_b.upper()}") == {b}  # the domain in any case
    assert ids(f"?recipient=Y@{dom_b}") == set()  # the local part exact
    assert ids(f"?recipient=@{dom_a}") == {a}
    assert ids("?sender=two@senders.test") == {b}
    assert ids("?sender=@senders.test") == {a, b}
    assert ids("?queue=deferred") == {a, b}
    assert ids("?queue=hold") == set()
    assert ids("?older_than=1h") == set()
    time.sleep(2.1)  # both at least 2 s old: older than 1 s
    assert ids("?older_than=1") == {a, b}
    assert ids("?reason=connection%20refused") == {a, b}
    assert ids("?reason=timed%20out") == set()
    got = listed(mail, "?sender=@senders.test&limit=1")
    assert len(got["messages"]) == 1 and got["total"] >= 2
    # Oldest first.
    both = [m["id"] for m in listed(mail, "?sender=@senders.test")["messages"] if m["id"] in (a, b)]
    assert both == [a, b]
    for query, field in (("?queue=corrupt", "queue"), ("?sender=-oQ", "sender"),
                         ("?recipient=nobody", "recipient"), ("?domain=-x.test", "domain"),
                         ("?older_than=2x", "older_than"), ("?limit=100001", "limit"),
                         ("?reason=" + "x" * 201, "reason")):
        r = mail.api("GET", QUEUE + query, role="monitor")
        assert r.status == 400, (query, r)
        assert r.json["error"]["field"] == field, (query, r.json)
        r = mail.api("GET", "/api/v1/mail_queue" + query, role="monitor")
        assert r.status == 400, (query, r)


def test_hold_release_requeue_flush_delete_one(mail):
    dom = domain()
    qid = mail.defer_mail(to=f"dave@{dom}")["queue_id"]
    r = mail.api("POST", f"{QUEUE}/{qid}/hold", role="operator")
    assert r.status == 200, r
    assert r.json["operation"] == "hold" and r.json["count"] == 1 and r.json["ids"] == [qid]
    assert r.json["summary"] == f"hold message {qid}"
    assert ids_in_postqueue(mail)[qid] == "hold"
    assert [m["queue"] for m in listed(mail, f"?domain={dom}")["messages"]] == ["hold"]
    r = mail.api("POST", f"{QUEUE}/{qid}/hold", role="operator")
    assert r.status == 409, r
    assert "already on hold" in r.json["error"]["message"]
    r = mail.api("POST", f"{QUEUE}/{qid}/flush", role="operator")
    assert r.status == 409, r  # held: release it first

    r = mail.api("POST", f"{QUEUE}/{qid}/release", role="operator")
    assert r.status == 200, r
    assert ids_in_postqueue(mail)[qid] != "hold"
    r = mail.api("POST", f"{QUEUE}/{qid}/release", role="operator")
    assert r.status == 409, r
    wait_queue(mail, qid, "deferred")

    r = mail.api("POST", f"{QUEUE}/{qid}/flush", role="operator")
    assert r.status == 200 and r.json["operation"] == "flush", r
    wait_queue(mail, qid, "deferred")

    # An operator may not delete; an admin may.
    r = mail.api("DELETE", f"{QUEUE}/{qid}", role="operator")
    assert r.status == 403, r
    assert qid in ids_in_postqueue(mail)
    r = mail.api("DELETE", f"{QUEUE}/{qid}")
    assert r.status == 200, r
    assert r.json["count"] == 1 and r.json["summary"] == f"delete message {qid}"
    assert qid not in ids_in_postqueue(mail)
    r = mail.api("DELETE", f"{QUEUE}/{qid}")
    assert r.status == 404, r


def test_requeue_gives_a_new_id(mail):
    """postsuper -r moves a message to the maildrop queue, from where
    pickup (woken at once) copies it into a new queue file: a new id, the
    same recipient, deferred again."""
    dom = domain()
    qid = mail.defer_mail(to=f"hal@{dom}")["queue_id"]
    r = mail.api("POST", f"{QUEUE}/{qid}/requeue", role="operator")
    assert r.status == 200 and r.json["count"] == 1, r
    assert r.json["summary"] == f"requeue message {qid}"
    deadline = time.monotonic() + 30
    while True:
        now = ids_in_postqueue(mail, dom)
        if qid not in now and list(now.values()) == ["deferred"]:
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.2)
    r = mail.api("POST", f"{COMMANDS}/queue_delete", {"domain": dom})
    assert r.status == 200 and r.json["count"] == 1, r


def test_bulk_delete_by_domain_dry_run_then_audited(mail):
    dom, other = domain(), domain()
    mine = {mail.defer_mail(to=f"u{i}@{dom}")["queue_id"] for i in range(3)}
    kept = mail.defer_mail(to=f"z@{other}")["queue_id"]

    r = mail.api("POST", f"{COMMANDS}/queue_delete?dry_run=1", {"domain": dom})
    assert r.status == 200, r
    assert r.json["dry_run"] is True
    assert r.json["count"] == 3 and set(r.json["ids"]) == mine
    assert r.json["summary"] == f"delete 3 messages to {dom}"
    assert set(ids_in_postqueue(mail, dom)) == mine  # nothing deleted

    r = mail.api("POST", f"{COMMANDS}/queue_delete", {"domain": dom, "queue": "deferred"})
    assert r.status == 200, r
    assert r.json["dry_run"] is False and r.json["count"] == 3
    assert r.json["summary"] == f"delete 3 deferred messages to {dom}"
    assert ids_in_postqueue(mail, dom) == {}
    assert kept in ids_in_postqueue(mail)

    r = mail.api("GET", "/api/v1/audit?limit=20")
    assert r.status == 200, r
    rec = next(x for x in r.json["records"] if x["operation"] == "command:queue_delete")
    assert rec["module"] == "mail" and rec["result"] == "ok", rec
    assert rec["args"]["domain"] == dom
    assert rec["args"]["summary"] == f"delete 3 deferred messages to {dom}"

    # Nothing left to match: a 404 that names the filter.
    r = mail.api("POST", f"{COMMANDS}/queue_delete", {"domain": dom})
    assert r.status == 404, r
    assert dom in r.json["error"]["message"]
    # A selection is needed: no id, no filter and no "all" is refused.
    r = mail.api("POST", f"{COMMANDS}/queue_delete", {})
    assert r.status == 400 and r.json["error"]["field"] == "all", r
    assert kept in ids_in_postqueue(mail)


def test_bulk_hold_and_release_by_sender(mail):
    dom = domain()
    frm = f"bulk@{dom}"
    mine = {mail.defer_mail(to=f"v{i}@{dom}", frm=frm)["queue_id"] for i in range(2)}
    r = mail.api("POST", f"{COMMANDS}/queue_hold", {"sender": frm}, role="operator")
    assert r.status == 200 and r.json["count"] == 2, r
    assert r.json["summary"] == f"hold 2 messages from {frm}"
    assert set(ids_in_postqueue(mail, dom).values()) == {"hold"}
    # Release takes the held ones only.
    r = mail.api("POST", f"{COMMANDS}/queue_release?dry_run=1", {"domain": dom}, role="operator")
    assert r.status == 200 and set(r.json["ids"]) == mine, r
    assert set(ids_in_postqueue(mail, dom).values()) == {"hold"}
    r = mail.api("POST", f"{COMMANDS}/queue_release", {"domain": dom}, role="operator")
    assert r.status == 200 and r.json["count"] == 2, r
    assert "hold" not in ids_in_postqueue(mail, dom).values()
    # An operator's delete of many is refused like one.
    r = mail.api("POST", f"{COMMANDS}/queue_delete", {"domain": dom}, role="operator")
    assert r.status == 403, r
    r = mail.api("POST", f"{COMMANDS}/queue_delete", {"domain": dom})
    assert r.status == 200 and r.json["count"] == 2, r


def test_headers_are_an_admins(mail):
    dom = domain()
    subject = f"headers {secrets.token_hex(4)}"
    qid = mail.defer_mail(to=f"erin@{dom}", subject=subject)["queue_id"]
    r = mail.api("GET", f"{QUEUE}/{qid}")
    assert r.status == 200, r
    assert r.json["message"]["id"] == qid
    assert f"Subject: {subject}" in r.json["message"]["headers"]
    assert "\r" not in r.json["message"]["headers"]
    r = mail.api("GET", f"{QUEUE}/{qid}", role="monitor")
    assert r.status == 403, r
    r = mail.api("GET", f"/api/v1/mail_queue/{qid}", role="monitor")
    assert r.status == 200, r
    assert r.json["message"]["id"] == qid and "headers" not in r.json["message"], r.json
    r = mail.api("GET", f"/api/v1/mail_queue/{qid}")
    assert r.status == 200 and subject in r.json["message"]["headers"], r
    assert mail.api("DELETE", f"{QUEUE}/{qid}").status == 200


def test_ids_outside_the_grammar(mail):
    for bad in ("not-an-id", "abcdef0123", "ABCDE", "-d", "ALL"):
        r = mail.api("POST", f"{QUEUE}/{bad}/hold", role="operator")
        assert r.status == 422 and r.json["error"]["field"] == "id", (bad, r)
        r = mail.api("DELETE", f"{QUEUE}/{bad}")
        assert r.status == 422, (bad, r)
        r = mail.api("GET", f"{QUEUE}/{bad}")
        assert r.status == 400 and r.json["error"]["field"] == "id", (bad, r)
        r = mail.api("GET", f"/api/v1/mail_queue/{bad}", role="monitor")
        assert r.status == 400, (bad, r)
    # A well-formed id that is not in the queue.
    r = mail.api("GET", f"{QUEUE}/ABCDEF0123")
    assert r.status == 404, r
    r = mail.api("POST", f"{QUEUE}/ABCDEF0123/requeue", role="operator")
    assert r.status == 404, r


def test_activity_shows_the_deferral(mail):
    dom = domain()
    qid = mail.defer_mail(to=f"fred@{dom}")["queue_id"]
    r = mail.api("GET", "/api/v1/modules/mail/activity?hours=2", role="monitor")
    assert r.status == 200, r
    a = r.json
    assert a["source"] == "file" and a["path"] == "/var/log/mail.log", a
    assert len(a["hours"]) == 2
    assert sum(h["deferred"] for h in a["hours"]) >= 1
    assert a["hours"][-1]["deferred"] >= 1 or a["hours"][0]["deferred"] >= 1
    err = next(e for e in a["errors"] if e["queue_id"] == qid)
    assert err["status"] == "deferred" and err["to"] == f"fred@{dom}"
    assert "127.0.0.1[127.0.0.1]:2526" in err["reason"]
    for bad in ("0", "169", "x"):
        r = mail.api("GET", f"/api/v1/modules/mail/activity?hours={bad}", role="monitor")
        assert r.status == 400 and r.json["error"]["field"] == "hours", r


def test_cli(mail):
    dom = domain()
    qid = mail.defer_mail(to=f"gina@{dom}")["queue_id"]
    p = mail.cli("--json", "mail", "queue", "list", "--domain", dom)
    assert p.returncode == 0, p.stderr
    assert qid in p.stdout
    p = mail.cli("mail", "queue", "list", "--domain", dom, check=0)
    assert qid in p.stdout and "deferred" in p.stdout
    mail.cli("mail", "queue", "hold", qid, check=0)
    assert ids_in_postqueue(mail)[qid] == "hold"
    mail.cli("mail", "queue", "release", qid, check=0)
    assert ids_in_postqueue(mail)[qid] != "hold"
    p = mail.cli("--json", "mail", "queue", "delete", "--domain", dom, "--dry-run", check=0)
    assert f"delete 1 message to {dom}" in p.stdout
    assert qid in ids_in_postqueue(mail)
    mail.cli("mail", "queue", "delete", "--domain", dom, check=0)
    assert qid not in ids_in_postqueue(mail)
    p = mail.cli("mail", "queue", "show", "NOTANID")
    assert p.returncode != 0


def test_postfix_stopped(mail):
    """Postfix down: postqueue -j (as root) reads the queue files itself, so
    the list still answers, with postfix_running false; a flush cannot be
    done (503) and says why.  Postfix is started again after.  (postsuper
    works on the files too, but with maillog_file set and postlogd gone it
    dies opening the log itself after its first message: not tested.)"""
    dom = domain()
    qid = mail.defer_mail(to=f"ivy@{dom}")["queue_id"]
    p = mail.run_in_ns("postfix", "stop", net=True)
    assert p.returncode == 0, p.stderr
    try:
        deadline = time.monotonic() + 30
        while True:  # until the master has exited (its pid file stays)
            a = listed(mail, f"?domain={dom}")
            if not a["postfix_running"]:
                break
            assert time.monotonic() < deadline, "Postfix did not stop"
            time.sleep(0.2)
        assert [m["id"] for m in a["messages"]] == [qid]
        r = mail.api("POST", f"{QUEUE}/{qid}/flush", role="operator")
        assert r.status == 503, r
        assert "not running" in r.json["error"]["message"]
    finally:
        p = mail.run_in_ns("postfix", "start", net=True)
        assert p.returncode == 0, p.stdout + p.stderr
    assert listed(mail, f"?domain={dom}")["postfix_running"] is True
    r = mail.api("DELETE", f"{QUEUE}/{qid}")
    assert r.status == 200 and r.json["count"] == 1, r
