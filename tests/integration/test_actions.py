"""Actions on collection items (POST /api/v1/{collection}/{id}/{action}) and
the lowest role of module commands, through the one real action the users
collection has (expire-password), against a daemon in private mount
namespaces over a scratch /etc: the schema, the role checks (the session's
role as the account has it now), argument checks, dry runs, the audit record
and its rollback, the CLI verbs built from the schema, the OpenAPI paths."""
import contextlib
import fcntl
import http.client
import json
import os
import signal
import threading
import time

import pytest

from conftest import make_user, ns_run

pytestmark = pytest.mark.namespaces

ACTION = "expire-password"


# A daemon over a scratch /etc and /home (test_users.py's fixture).
from test_users import ud as ad  # noqa: E402,F401


def lastchg(d, name):
    for line in (d.etc / "shadow").read_text().splitlines():
        f = line.split(":")
        if f[0] == name:
            return f[2]
    return None


def token(d, role):
    r = d.https("POST", "/api/v1/tokens", {"name": f"t-{role}", "role": role})
    assert r.status == 200, r
    return r.json["token"]


def records(d):
    return d.https("GET", "/api/v1/audit?limit=500").json["records"]


def login(d, user, password):
    r = d.https("POST", "/api/v1/login", {"user": user, "password": password}, token=False)
    assert r.status == 200, r
    return r.json["token"]


def act(d, name, args=None, token=True, query="", action=ACTION):
    return d.https("POST", f"/api/v1/users/{name}/{action}{query}", args, token=token)


@contextlib.contextmanager
def action_behind_the_lock(d, user):
    """Runs the action on user in a thread while this test holds the
    account files' lock (as another tool would), until the action's process
    waits for it (/proc/locks lists it): yields the thread's out dict ("r":
    the answer, once there), the thread and the waiting process's pid.  The
    lock is let go on leaving."""
    lock_path = d.etc / ".pwd.lock"
    lock = open(lock_path, "a")
    fcntl.lockf(lock, fcntl.LOCK_EX)
    inode = os.stat(lock_path).st_ino
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", act(d, user)))
    try:
        t.start()
        deadline = time.monotonic() + 10
        while True:
            waiters = [int(f[f.index("->") + 4]) for f in
                       (line.split() for line in open("/proc/locks").read().splitlines())
                       if "->" in f and any(x.endswith(f":{inode}") for x in f)]
            if waiters:
                break
            assert time.monotonic() < deadline, "the action never waited for the lock"
            time.sleep(0.05)
        yield out, t, waiters[0]
    finally:
        fcntl.lockf(lock, fcntl.LOCK_UN)
        lock.close()


def test_schema_publishes_actions_and_roles(daemon):
    s = daemon.https("GET", "/api/v1/modules/users/schema").json
    [users] = [c for c in s["collection_schemas"] if c["name"] == "users"]
    [a] = users["actions"]
    assert a["name"] == ACTION and a["min_role"] == "admin" and a["changes_state"]
    assert [(x["name"], x["type"]) for x in a["args"]] == [("force", "boolean")]
    assert users["front_reads"] is False
    # every command says who may run it: the default for its kind, or the
    # role its module gives it (the mail queue's operations and the network
    # diagnostics are operators')
    lower = {("mail", n): "operator" for n in ("queue_flush", "queue_hold", "queue_release",
                                               "queue_requeue", "kick")}
    lower.update({("network", n): "operator" for n in ("ping", "traceroute", "lookup",
                                                       "portcheck")})
    for m in daemon.https("GET", "/api/v1/modules").json["modules"]:
        for c in daemon.https("GET", f"/api/v1/modules/{m['name']}/schema").json["commands"]:
            default = "admin" if c["changes_state"] else "monitor"
            assert c["min_role"] == lower.get((m["name"], c["name"]), default), c


def test_action_runs_is_audited_and_rolls_back(ad):
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    before_chg = lastchg(d, "bob")
    assert before_chg not in ("0", None)
    r = act(d, "bob")
    assert r.status == 200, r
    assert r.json["user"]["password_state"] == "expired"
    assert lastchg(d, "bob") == "0"
    # the client sees paths and diffs, never the images
    for f in r.json["plan"]["files"]:
        assert set(f) <= {"path", "diff"}, f
    rec = d.https("GET", f"/api/v1/audit/{r.json['audit_id']}").json
    assert rec["module"] == "users" and rec["operation"] == "action:" + ACTION
    assert rec["result"] == "ok"
    assert rec["args"]["collection"] == "users" and rec["args"]["id"] == "bob"
    assert rec["args"]["args"] == {}
    assert any(f["path"].endswith("/shadow") for f in rec["files"]), rec["files"]
    # the plan's files were kept for rollback, as a write's are
    rb = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback")
    assert rb.status == 200, rb
    assert lastchg(d, "bob") == before_chg


def test_dry_run_plans_changes_nothing_and_is_not_audited(ad):
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    shadow = (d.etc / "shadow").read_bytes()
    n = len(records(d))
    r = act(d, "bob", query="?dry_run=1")
    assert r.status == 200, r
    assert any(f["path"].endswith("/shadow") and f["diff"] for f in r.json["plan"]["files"]), r
    assert "audit_id" not in r.json
    assert (d.etc / "shadow").read_bytes() == shadow
    assert len(records(d)) == n
    # the API's one flag grammar
    r = act(d, "bob", query="?dry_run=on")
    assert r.status == 400 and r.json["error"]["field"] == "dry_run"
    assert (d.etc / "shadow").read_bytes() == shadow


def test_unknown_action_and_bad_args(ad):
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    shadow = (d.etc / "shadow").read_bytes()
    r = act(d, "bob", action="frobnicate")
    assert r.status == 404 and r.json["error"]["code"] == "unknown_action"
    assert ACTION in r.json["error"]["message"]
    r = act(d, "bob", {"colour": "red"})
    assert r.status == 422 and r.json["error"]["field"] == "colour", r
    r = act(d, "bob", {"force": "yes"})
    assert r.status == 422 and r.json["error"]["field"] == "force", r
    r = d.https("POST", f"/api/v1/users/bob/{ACTION}", raw=b"[1]",
                headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    r = act(d, "nosuchuser")
    assert r.status == 404, r
    # a collection without actions has no action route; a GET is not an action
    assert d.https("POST", "/api/v1/groups/bob/frobnicate", {}).status == 404
    r = d.https("GET", f"/api/v1/users/bob/{ACTION}")
    assert r.status == 405 and "POST" in r.headers.get("Allow", "")
    assert (d.etc / "shadow").read_bytes() == shadow


def test_roles_below_the_action_are_refused_and_audited(ad):
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    shadow = (d.etc / "shadow").read_bytes()
    for role in ("monitor", "operator"):
        r = act(d, "bob", token=token(d, role))
        assert r.status == 403 and "admin" in r.json["error"]["message"], (role, r)
        # a dry run is refused alike
        r = act(d, "bob", token=token(d, role), query="?dry_run=1")
        assert r.status == 403, (role, r)
    assert (d.etc / "shadow").read_bytes() == shadow
    refused = [x for x in records(d) if x["result"] == "refused"]
    assert refused and any(ACTION in json.dumps(x) for x in refused), refused


def test_role_follows_the_account_while_the_session_is_open(ad):
    d = ad
    make_user(d, "ann", "Ann-pw-1", ["sudo", "steward-operator"])
    make_user(d, "bob", "Bob-pw-1")
    tok = login(d, "ann", "Ann-pw-1")
    shadow = (d.etc / "shadow").read_bytes()
    assert act(d, "bob", token=tok, query="?dry_run=1").status == 200
    ns_run(d, ["/usr/bin/gpasswd", "-d", "ann", "sudo"])
    # the account's role now, once the helper's brief cache has let go
    deadline = time.monotonic() + 30
    while d.https("GET", "/api/v1/whoami", token=tok).json["role"] != "operator":
        assert time.monotonic() < deadline, "the role was not lowered"
        time.sleep(0.25)
    r = act(d, "bob", token=tok)
    assert r.status == 403 and "admin" in r.json["error"]["message"], r
    assert (d.etc / "shadow").read_bytes() == shadow


def test_cli_action_verbs(ad):
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    make_user(d, "carl", "Carl-pw-1")
    p = d.cli("users", "--help", check=0)
    assert f"steward users {ACTION} NAME…" in p.stdout, p.stdout
    p = d.cli("users", ACTION, "--help", check=0)
    assert p.stdout.startswith(f"usage: steward users {ACTION} NAME… [--force] [--dry-run]")
    assert "admin" in p.stdout and "--force" in p.stdout
    p = d.cli("users", ACTION, check=2)
    assert "usage" in p.stderr
    p = d.cli("users", ACTION, "bob", "--dry-run", check=0)
    assert "shadow" in p.stdout and lastchg(d, "bob") != "0"
    p = d.cli("users", ACTION, "bob", check=0)
    assert 'users:bob:password_state = "expired"' in p.stdout and "audit record" in p.stdout
    # several names: one request each, in order, stopping at the first failure
    chg = lastchg(d, "carl")
    p = d.cli("users", ACTION, "nosuchuser", "carl", check=1)
    assert lastchg(d, "carl") == chg
    p = d.cli("--json", "users", ACTION, "bob", "carl", check=0)
    out = json.loads(p.stdout)
    assert [a["user"]["name"] for a in out] == ["bob", "carl"]
    assert lastchg(d, "carl") == "0"
    p = d.cli("users", ACTION, "bob", "--colour", "red", check=2)


def test_openapi_lists_the_action_routes(daemon):
    doc = daemon.https("GET", "/api/v1/openapi.json").json
    op = doc["paths"][f"/api/v1/users/{{name}}/{ACTION}"]["post"]
    assert op["x-steward-min-role"] == "admin"
    assert {p["name"] for p in op["parameters"]} >= {"name", "dry_run"}
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["force"]["type"] == "boolean"
    assert not any(p.startswith("/api/v1/groups/{name}/") for p in doc["paths"])


# ---- front_reads: a collection whose list and show run in the front ---------------------

def test_front_reads_answer_without_the_helper(daemon):
    """The timezones collection reads public files: its list and show run in
    the front, so they answer while the helper (the daemon's root process)
    is stopped, as long as the front knows the session (it re-checks a
    session with the helper after a few seconds: then try again)."""
    d = daemon
    s = d.https("GET", "/api/v1/modules/time/schema").json
    [tz] = [c for c in s["collection_schemas"] if c["name"] == "timezones"]
    assert tz["front_reads"] is True
    answered = None
    for _ in range(5):
        assert d.https("GET", "/api/v1/whoami").status == 200  # the front knows the session
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(),
                                               timeout=3)
            conn.request("GET", "/api/v1/timezones?prefix=Europe/&limit=2",
                         headers={"Authorization": f"Bearer {d.token}"})
            r = conn.getresponse()
            answered = (r.status, json.loads(r.read()))
            conn.close()
        except (TimeoutError, OSError):
            answered = None
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        if answered:
            break
    assert answered, "a front_reads list waited for the helper"
    status, body = answered
    assert status == 200 and [z["name"] for z in body["timezones"]] == ["Europe/Amsterdam",
                                                                        "Europe/Andorra"]
    # the query is checked by the module, in the front, as the helper would
    r = d.https("GET", "/api/v1/timezones?limit=0")
    assert r.status == 400 and r.json["error"]["field"] == "limit"
    r = d.https("GET", "/api/v1/timezones/Europe:Paris")
    assert r.status == 200 and r.json["timezone"]["name"] == "Europe/Paris"
    assert d.https("GET", "/api/v1/timezones/Nowhere:Else").status == 404


def test_cli_command_help_names_the_role(daemon):
    p = daemon.cli("command", "ports:baseline_save", "--help", check=0)
    assert p.stdout.startswith("usage: steward command ports:baseline_save")
    assert "Needs the role admin" in p.stdout and "changes state" in p.stdout
    p = daemon.cli("command", "time:sync_status", "--help", check=0)
    assert "Needs the role monitor" in p.stdout and "reads only" in p.stdout
    daemon.cli("command", "time:nosuchcommand", "--help", check=2)


def test_a_long_id_reaches_the_collection(daemon):
    """An id up to 512 bytes is the collection's to judge (a unit name may
    be 255 bytes): a long unknown name is the module's own 404, not the
    router's."""
    r = daemon.https("GET", "/api/v1/timezones/" + "Z" * 300)
    assert r.status == 404 and r.json["error"]["message"] != "no such resource", r
    r = daemon.https("POST", f"/api/v1/users/{'z' * 300}/{ACTION}?dry_run=1", {})
    assert r.status in (404, 422) and r.json["error"]["message"] != "no such resource", r


def test_an_id_that_is_not_text_names_the_field(daemon):
    r = daemon.https("POST", f"/api/v1/users/%ff%fe/{ACTION}?dry_run=1", {})
    assert r.status == 400 and r.json["error"]["field"] == "name", r


def test_the_helper_answers_while_an_action_waits(ad):
    """An action runs in a worker of the helper: while it waits (here for the
    account files' lock, held by this test as another tool would), the
    helper answers other requests, and the action completes, audited, once
    the lock is free."""
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    with action_behind_the_lock(d, "bob") as (out, t, _):
        # A request the helper itself answers.
        r = d.https("GET", "/api/v1/audit?limit=1")
        assert r.status == 200, r
        assert t.is_alive()
    t.join(60)
    assert out["r"].status == 200, out["r"]
    assert lastchg(d, "bob") == "0"
    rec = d.https("GET", f"/api/v1/audit/{out['r'].json['audit_id']}").json
    assert rec["operation"] == "action:" + ACTION and rec["result"] == "ok"


def test_an_action_whose_worker_dies_is_still_audited(ad):
    """The worker running an action dies half-way (killed, with the tool it
    runs, while that waits for the account files' lock): the helper still
    writes the record, saying it did not finish, and answers with an
    error."""
    d = ad
    make_user(d, "bob", "Bob-pw-1")
    with action_behind_the_lock(d, "bob") as (out, t, waiter):
        # The waiter is the tool the worker runs (chage); the worker is its
        # parent, and not the helper itself.
        ppid = int([x for x in open(f"/proc/{waiter}/status").read().splitlines()
                    if x.startswith("PPid:")][0].split()[1])
        worker = ppid if ppid != d.proc.pid else waiter
        assert worker != d.proc.pid
        os.kill(worker, signal.SIGKILL)
        if worker != waiter:
            os.kill(waiter, signal.SIGKILL)
        t.join(30)
    r = out["r"]
    assert r.status == 500, r
    [rec] = [x for x in records(d) if x["operation"] == "action:" + ACTION]
    assert rec["result"] == "error" and rec["module"] == "users", rec
    assert "half-way" in json.dumps(rec), rec
    # the helper goes on serving
    assert d.https("GET", "/api/v1/audit?limit=1").status == 200
