"""The security core against a real daemon: privilege separation, PAM logins
with real accounts (in a scratch /etc), roles on every route, throttling,
sessions, CSRF and Origin, tokens, the bootstrap token, and the audit log
with its hash chain and rollback."""
import hashlib
import http.client
import json
import os
import pwd
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import Response, kill_front_and_wait, make_user, ns_run

pytestmark = pytest.mark.auth

PASSWORDS = {"alice": "Alice-pw-1", "oscar": "Oscar-pw-1", "mona": "Mona-pw-1", "nora": "Nora-pw-1"}


@pytest.fixture
def users(ns_daemon):
    d = ns_daemon
    make_user(d, "alice", PASSWORDS["alice"], ["sudo"])
    make_user(d, "oscar", PASSWORDS["oscar"], ["steward-operator"])
    make_user(d, "mona", PASSWORDS["mona"], ["steward-monitor"])
    make_user(d, "nora", PASSWORDS["nora"])  # in no role group
    return d


def login(d, user, password=None):
    return d.https("POST", "/api/v1/login",
                   {"user": user, "password": password if password is not None else PASSWORDS[user]},
                   token=False)


def session(d, user):
    r = login(d, user)
    assert r.status == 200, r
    return r.json["token"]


# ---- privilege separation --------------------------------------------------

def proc_status(pid):
    return dict(l.split(":", 1) for l in Path(f"/proc/{pid}/status").read_text().splitlines())


def test_front_runs_unprivileged_and_helper_as_root(daemon):
    steward = pwd.getpwnam("_steward")
    parent = proc_status(daemon.proc.pid)
    front = proc_status(daemon.front_pid())
    assert parent["Uid"].split() == ["0"] * 4
    assert front["Uid"].split() == [str(steward.pw_uid)] * 4
    assert front["Gid"].split() == [str(steward.pw_gid)] * 4
    # No supplementary group but systemd-journal where the account is a
    # member (to read the journal).
    assert set(front["Groups"].split()) == journal_group("/etc/group")
    assert front["NoNewPrivs"].strip() == "1"
    assert front["CapEff"].strip() == "0000000000000000"
    assert front["Seccomp"].strip() == "2"  # filtered
    assert parent["Seccomp"].strip() == "0"
    # The state (sessions, audit log) is out of the front's reach.
    assert os.stat(daemon.state).st_mode & 0o777 == 0o700
    assert os.stat(daemon.state / "steward.db").st_mode & 0o777 == 0o600


def journal_group(group_file):
    """{gid of systemd-journal} where _steward is listed in it, else {}."""
    for line in Path(group_file).read_text().splitlines():
        f = line.split(":")
        if len(f) == 4 and f[0] == "systemd-journal" and "_steward" in f[3].split(","):
            return {f[2]}
    return set()


def test_front_drops_the_accounts_other_groups(ns_daemon):
    d = ns_daemon
    # Groups that would make a compromised front root-equivalent.
    ns_run(d, ["/usr/sbin/usermod", "-a", "-G", "disk,shadow,adm,sudo,root", "_steward"])
    kill_front_and_wait(d)
    front = proc_status(d.front_pid())
    assert set(front["Groups"].split()) == journal_group(d.etc / "group")
    assert d.https("GET", "/api/v1/whoami").status == 200


def test_a_front_user_whose_primary_group_is_root_is_refused(daemon_base, make_daemon):
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    lines = []
    for line in (etc / "passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == "_steward":
            f[3] = "0"
        lines.append(":".join(f))
    (etc / "passwd").write_text("\n".join(lines) + "\n")
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv), start=False)
    d.start(wait=False)
    assert d.proc.wait(timeout=20) == 1
    assert "root's group (gid 0)" in d.log_text()
    d.proc = None


def test_a_dead_front_is_restarted(daemon):
    kill_front_and_wait(daemon)
    assert "restarting it" in daemon.log_text()
    assert daemon.https("GET", "/api/v1/whoami").status == 200


# ---- logins and roles --------------------------------------------------------

def test_login_gives_each_role(users):
    d = users
    for user, role in (("alice", "admin"), ("oscar", "operator"), ("mona", "monitor")):
        r = login(d, user)
        assert r.status == 200, r
        assert r.json["role"] == role and r.json["user"] == user
        assert r.json["token"].startswith("stw_") and r.json["csrf_token"]
        assert r.json["expires_at"] > time.time()
        cookie = r.headers["Set-Cookie"]
        for attr in ("HttpOnly", "Secure", "SameSite=Strict"):
            assert attr in cookie
        who = d.https("GET", "/api/v1/whoami", token=r.json["token"]).json
        assert who["user"] == user and who["role"] == role


def test_failed_logins_say_nothing_about_the_account(users):
    d = users
    wrong = login(d, "alice", "not-it")
    unknown = login(d, "zed", "whatever")
    assert wrong.status == unknown.status == 401
    assert wrong.json["error"]["code"] == unknown.json["error"]["code"] == "login_failed"
    assert wrong.json["error"]["message"] == unknown.json["error"]["message"]
    assert 'login failed for user "alice" from 127.0.0.1:' in d.log_text()


def https_from(d, source, method, path, body=None, headers=None):
    """A request from another loopback address (127.0.0.0/8 all reaches the
    daemon on 127.0.0.1), so a test can rotate the source of its logins."""
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=10,
                                       source_address=(source, 0))
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return Response(r.status, dict(r.getheaders()), r.read().decode())
    finally:
        conn.close()


def login_from(d, source, user, password=None):
    return https_from(d, source, "POST", "/api/v1/login",
                      {"user": user, "password": password if password is not None else PASSWORDS[user]})


def answer(r):
    """What a client sees of an answer, but for its date."""
    return r.status, r.body, {k: v for k, v in r.headers.items() if k.lower() != "date"}


def test_refused_logins_answer_like_a_wrong_password(users):
    d = users
    make_user(d, "erin", "Erin-pw-1", ["sudo"])
    ns_run(d, ["/usr/bin/chage", "-E", "1", "--", "erin"])  # expired in 1970
    ns_run(d, ["/usr/sbin/chpasswd"], input="root:Root-pw-1\n")
    # Each from a source of its own: the throttle must not tell them apart either.
    wrong = login_from(d, "127.0.0.11", "alice", "not-it")
    assert wrong.status == 401 and wrong.json["error"]["code"] == "login_failed", wrong
    refused = {
        "no role": login_from(d, "127.0.0.12", "nora"),
        "root": login_from(d, "127.0.0.13", "root", "Root-pw-1"),
        "expired": login_from(d, "127.0.0.14", "erin", "Erin-pw-1"),
    }
    for why, r in refused.items():
        assert answer(r) == answer(wrong), why
    # The reason is in the log (one line per failure, for fail2ban) and the audit.
    log = d.log_text()
    assert 'login failed for user "nora" from 127.0.0.12:' in log and "no Steward role" in log
    assert 'login failed for user "root" from 127.0.0.13:' in log and "root login is disabled" in log
    assert 'login failed for user "erin" from 127.0.0.14:' in log
    admin = session(d, "alice")
    records = d.https("GET", "/api/v1/audit?module=auth", token=admin).json["records"]
    seen = {r["user"]: r for r in records if r["operation"] == "login"}
    for user, source in (("nora", "127.0.0.12"), ("root", "127.0.0.13"), ("erin", "127.0.0.14")):
        assert seen[user]["result"] == "refused" and seen[user]["source"].startswith(source + ":")
        assert seen[user]["args"] == {"method": "password"}  # never the password itself
    assert "alice" not in seen  # a wrong password is logged, not audited
    assert "no Steward role" in seen["nora"]["message"]


def test_a_login_on_the_local_socket_comes_from_its_peer(users):
    d = users
    r = d.unix("POST", "/api/v1/login", {"user": "alice", "password": PASSWORDS["alice"]})
    assert r.status == 200, r
    mine = d.https("GET", "/api/v1/sessions", token=r.json["token"]).json["sessions"]
    current, = [s for s in mine if s["current"]]
    assert current["source"] == f"unix:uid={os.getuid()},pid={os.getpid()}", current


def test_a_connection_the_front_could_make_to_itself_is_no_login_source(users):
    """A compromised front could connect to its own listener from a fresh
    local address for every guess; the helper refuses a connection whose
    client socket belongs to the front's user."""
    import subprocess
    d = users
    steward = pwd.getpwnam("_steward")
    code = (
        "import http.client, json, ssl, sys\n"
        "ctx = ssl._create_unverified_context()  # the key dir is root's\n"
        "c = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[1]), context=ctx, timeout=10,"
        " source_address=('127.0.0.77', 0))\n"
        "c.request('POST', '/api/v1/login', body=json.dumps({'user': 'alice', 'password': sys.argv[3]}),"
        " headers={'Content-Type': 'application/json'})\n"
        "r = c.getresponse(); print(r.status, r.read().decode())\n")
    p = subprocess.run(["/usr/bin/python3", "-c", code, str(d.port), "-", PASSWORDS["alice"]],
                       capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: (os.setgid(steward.pw_gid), os.setuid(steward.pw_uid)))
    assert p.stdout.startswith("400 "), (p.stdout, p.stderr)
    assert "not a client's connection" in d.log_text()
    # Anyone else, from the same address, logs in.
    assert login_from(d, "127.0.0.77", "alice").status == 200


def test_root_login_is_off_by_default_and_a_setting(users):
    d = users
    ns_run(d, ["/usr/sbin/chpasswd"], input="root:Root-pw-1\n")
    r = login(d, "root", "Root-pw-1")
    assert r.status == 401 and r.json["error"]["code"] == "login_failed"
    admin = session(d, "alice")
    assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"auth:allow_root_login": True},
                   token=admin).status == 200
    assert login(d, "root", "Root-pw-1").json["role"] == "admin"


def test_malformed_logins(daemon):
    for body in ({}, {"user": "a"}, {"user": 1, "password": "x"}, {"user": "a", "password": "b", "x": 1},
                 {"bootstrap_token": 5}):
        r = daemon.https("POST", "/api/v1/login", body, token=False)
        assert r.status == 400, body
    r = daemon.https("POST", "/api/v1/login", {"user": "a" * 5000, "password": "x"}, token=False)
    assert r.status in (400, 401)


# Every route of the API: method, pattern, a sample path, the lowest role.
ROUTES = [
    ("POST", "api/v1/logout", "/api/v1/logout", "monitor"),
    ("GET", "api/v1/whoami", "/api/v1/whoami", "monitor"),
    ("GET", "api/v1/openapi.json", "/api/v1/openapi.json", "monitor"),
    ("GET", "api/v1/modules", "/api/v1/modules", "monitor"),
    ("GET", "api/v1/modules/*", "/api/v1/modules/system", "monitor"),
    ("GET", "api/v1/modules/*/schema", "/api/v1/modules/system/schema", "monitor"),
    ("GET", "api/v1/modules/*/settings", "/api/v1/modules/stewardd/settings", "monitor"),
    ("PATCH", "api/v1/modules/*/settings", "/api/v1/modules/stewardd/settings", "admin"),
    ("POST", "api/v1/modules/*/commands/*", "/api/v1/modules/stewardd/commands/check_config", "monitor"),
    ("POST", "api/v1/modules/*/*", "/api/v1/modules/stewardd/restart", "operator"),
    ("GET", "api/v1/tokens", "/api/v1/tokens", "monitor"),
    ("POST", "api/v1/tokens", "/api/v1/tokens", "monitor"),
    ("DELETE", "api/v1/tokens/*", "/api/v1/tokens/1", "monitor"),
    ("GET", "api/v1/sessions", "/api/v1/sessions", "monitor"),
    ("DELETE", "api/v1/sessions/*", "/api/v1/sessions/999999", "monitor"),
    ("GET", "api/v1/audit", "/api/v1/audit", "monitor"),
    ("GET", "api/v1/audit/verify", "/api/v1/audit/verify", "monitor"),
    ("GET", "api/v1/audit/forwarding", "/api/v1/audit/forwarding", "admin"),
    ("GET", "api/v1/audit/*", "/api/v1/audit/1", "monitor"),
    ("GET", "api/v1/events", "/api/v1/events", "monitor"),
    ("GET", "api/v1/sd", "/api/v1/sd", "monitor"),
    ("POST", "api/v1/audit/*/rollback", "/api/v1/audit/1/rollback", "admin"),
    ("GET", "api/v1/ports", "/api/v1/ports", "monitor"),
    ("GET", "api/v1/ports/registry/*", "/api/v1/ports/registry/660", "monitor"),
    ("GET", "api/v1/ports/*", "/api/v1/ports/660", "monitor"),
    ("GET", "metrics", "/metrics", "monitor"),
    ("GET", "api/v1/metrics/history", "/api/v1/metrics/history?series=cpu.busy", "monitor"),
    ("GET", "api/v1/metrics/series", "/api/v1/metrics/series", "monitor"),
    ("GET", "api/v1/clock", "/api/v1/clock", "monitor"),
    ("GET", "api/v1/logs", "/api/v1/logs", "operator"),
    ("GET", "api/v1/logs/files", "/api/v1/logs/files", "operator"),
    ("GET", "api/v1/logs/files/*", "/api/v1/logs/files/syslog", "operator"),
    ("GET", "api/v1/logs/files/*/*", "/api/v1/logs/files/nginx/error.log", "operator"),
    ("GET", "api/v1/logs/files/*/*/*", "/api/v1/logs/files/a/b/c.log", "operator"),
    ("GET", "api/v1/modules/shares/connections", "/api/v1/modules/shares/connections", "monitor"),
    ("DELETE", "api/v1/modules/shares/connections/*", "/api/v1/modules/shares/connections/smb-1-1",
     "admin"),
    ("GET", "api/v1/modules/shares/smb-users", "/api/v1/modules/shares/smb-users", "monitor"),
    ("GET", "api/v1/modules/shares/folders", "/api/v1/modules/shares/folders?under=/srv", "admin"),
    ("GET", "api/v1/modules/network/info", "/api/v1/modules/network/info", "monitor"),
    ("GET", "api/v1/modules/mail/queue", "/api/v1/modules/mail/queue", "monitor"),
    ("GET", "api/v1/modules/mail/queue/*", "/api/v1/modules/mail/queue/ABCDEF12345", "admin"),
    ("POST", "api/v1/modules/mail/queue/*/hold", "/api/v1/modules/mail/queue/ABCDEF12345/hold",
     "operator"),
    ("POST", "api/v1/modules/mail/queue/*/release",
     "/api/v1/modules/mail/queue/ABCDEF12345/release", "operator"),
    ("POST", "api/v1/modules/mail/queue/*/requeue",
     "/api/v1/modules/mail/queue/ABCDEF12345/requeue", "operator"),
    ("POST", "api/v1/modules/mail/queue/*/flush", "/api/v1/modules/mail/queue/ABCDEF12345/flush",
     "operator"),
    ("DELETE", "api/v1/modules/mail/queue/*", "/api/v1/modules/mail/queue/ABCDEF12345", "admin"),
    ("GET", "api/v1/modules/processes/top", "/api/v1/modules/processes/top", "monitor"),
    ("GET", "api/v1/modules/mail/connections", "/api/v1/modules/mail/connections", "monitor"),
    ("DELETE", "api/v1/modules/mail/connections/*", "/api/v1/modules/mail/connections/alice",
     "operator"),
    ("GET", "api/v1/modules/mail/activity", "/api/v1/modules/mail/activity", "monitor"),
    ("GET", "api/v1/modules/alerts/history", "/api/v1/modules/alerts/history", "monitor"),
    ("GET", "api/v1/{collection}", "/api/v1/users", "monitor"),
    ("POST", "api/v1/{collection}", "/api/v1/users", "admin"),
    ("GET", "api/v1/{collection}/*", "/api/v1/users/root", "monitor"),
    ("PATCH", "api/v1/{collection}/*", "/api/v1/users/root", "admin"),
    ("DELETE", "api/v1/{collection}/*", "/api/v1/users/root", "admin"),
    # the route's own role; each action's is higher (EXTRA)
    ("POST", "api/v1/{collection}/*/*", "/api/v1/users/nobody/expire-password", "monitor"),
]
# Commands that change state need admin whatever their route says.
EXTRA = [("POST", "/api/v1/modules/stewardd/commands/reload", "admin"),
         ("POST", "/api/v1/modules/ports/commands/baseline_save", "admin"),
         # every collection, on the generic collection routes
         ("GET", "/api/v1/groups", "monitor"), ("POST", "/api/v1/groups", "admin"),
         ("GET", "/api/v1/groups/root", "monitor"), ("PATCH", "/api/v1/groups/root", "admin"),
         ("DELETE", "/api/v1/groups/root", "admin"), ("DELETE", "/api/v1/users/nobody", "admin"),
         # an item action, by its own min_role
         ("POST", "/api/v1/users/nobody/expire-password", "admin"),
         ("POST", "/api/v1/modules/shares/commands/disconnect", "admin"),
         ("POST", "/api/v1/modules/shares/commands/smb_account", "admin"),
         ("POST", "/api/v1/shares/nosuch/close", "admin"),
         # the network diagnostics: operators and up
         ("POST", "/api/v1/modules/network/commands/ping", "operator"),
         ("POST", "/api/v1/modules/network/commands/traceroute", "operator"),
         ("POST", "/api/v1/modules/network/commands/lookup", "operator"),
         ("POST", "/api/v1/modules/network/commands/portcheck", "operator"),
         # alerts: operators acknowledge, silence and expire silences; rules are admins'
         ("POST", "/api/v1/alerts/0123456789abcdef/ack", "operator"),
         ("POST", "/api/v1/alerts/0123456789abcdef/silence", "operator"),
         ("POST", "/api/v1/alert_rules", "admin"), ("DELETE", "/api/v1/alert_rules/disk-full", "admin"),
         ("POST", "/api/v1/alert_silences", "admin"),
         ("DELETE", "/api/v1/alert_silences/1", "admin"),
         ("POST", "/api/v1/alert_silences/1/expire", "operator")]
ORDER = ["monitor", "operator", "admin"]


def registered_routes():
    """The route tables as the daemon's source declares them: the API's own
    and every module's."""
    import re
    root = Path(__file__).resolve().parents[2]
    found = set()
    for f in [root / "src/daemon/api.c", *sorted((root / "src/modules").glob("*/*.c"))]:
        text = f.read_text()
        for decl in ("static const struct route routes[]", "static const struct route collection_routes[]",
                     "static const module_route_t routes[]"):
            if decl not in text:
                continue
            table = text[text.index(decl):]
            table = table[:table.index("};")]
            # A row may go on with its documentation (.summary = "…", …).
            rows = re.findall(r'\{"([A-Z]+)", "([^"]+)", ROLE_([A-Z]+),'
                              r' (?:\.\w+ = )?\w+(?:,\s*\.\w+\s*=\s*(?:"(?:[^"\\]|\\.)*"|\w+))*\}', table)
            # Every entry of the table must have been understood.
            assert len(rows) == table.count('{"'), f"unparsed route entries in {f}"
            found |= {(m, p, r.lower()) for m, p, r in rows}
    return found


def test_the_walk_covers_every_registered_route():
    walked = {(m, p, r) for m, p, _, r in ROUTES} | {("POST", "api/v1/login", "none"),
                                                      ("GET", "api/v1/login-info", "none")}
    assert registered_routes() == walked


def test_route_walk(users):
    d = users
    tokens = {"monitor": session(d, "mona"), "operator": session(d, "oscar")}
    for method, path, need in [(m, sample, r) for m, _, sample, r in ROUTES] + EXTRA:
        body = {} if method in ("POST", "PATCH") else None
        r = d.https(method, path, body, token=False)
        assert r.status == 401, (method, path, r)
        for role, tok in tokens.items():
            if ORDER.index(role) >= ORDER.index(need):
                continue
            r = d.https(method, path, body, token=tok)
            assert r.status == 403, (role, method, path, r)
    # An operator may reach the operator routes (stewardd has no restart: 405, not 403).
    r = d.https("POST", "/api/v1/modules/stewardd/restart", {}, token=tokens["operator"])
    assert r.status == 405


def test_monitor_reads_everything_and_changes_nothing(users):
    d = users
    mon = session(d, "mona")
    for path in ("/api/v1/modules", "/api/v1/modules/system?full=1", "/api/v1/modules/stewardd/settings",
                 "/api/v1/audit", "/api/v1/audit/verify"):
        assert d.https("GET", path, token=mon).status == 200, path
    before = d.config.read_text() if d.config.exists() else None
    assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"}, token=mon).status == 403
    assert d.https("PATCH", "/api/v1/modules/system/settings", {"hostname": "x"}, token=mon).status == 403
    assert d.https("POST", "/api/v1/modules/stewardd/commands/reload", {}, token=mon).status == 403
    assert (d.config.read_text() if d.config.exists() else None) == before


# ---- throttling ---------------------------------------------------------------

THROTTLE = """auth:throttle:free_attempts = 2
auth:throttle:base_delay = 1
auth:throttle:max_delay = 2
auth:throttle:block_after = 4
auth:throttle:block_seconds = 3
"""


def logins_when(d, pred):
    """The stewardd module's login counts once pred holds (the front learns
    them from its poll of the helper, right after a login and every few
    seconds)."""
    deadline = time.time() + 15
    while True:
        r = d.unix("GET", "/api/v1/modules/stewardd?full=1")
        assert r.status == 200, r
        counts = r.json["logins"]
        if counts is not None and pred(counts):
            return counts
        assert time.time() < deadline, counts
        time.sleep(0.2)


def test_fullstatus_counts_logins(users):
    d = users
    before = logins_when(d, lambda l: True)
    assert set(before) == {"ok", "failed", "sources_throttled", "sources_blocked"}
    session(d, "mona")
    assert login(d, "mona", "wrong").status == 401
    after = logins_when(d, lambda l: l["failed"] == before["failed"] + 1)
    assert after["ok"] == before["ok"] + 1
    # One failure is within the free attempts: nobody waits.
    assert after["sources_throttled"] == after["sources_blocked"] == 0


def test_throttling_backs_off_blocks_and_lifts(daemon_base, make_daemon):
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    d = make_daemon(config_text=THROTTLE, wrap=lambda argv: ns_argv(etc, argv))
    make_user(d, "alice", PASSWORDS["alice"], ["sudo"])
    assert login(d, "alice", "x").status == 401
    assert login(d, "alice", "x").status == 401
    r = login(d, "alice", "x")  # too soon after two failures
    assert r.status == 429 and r.json["error"]["code"] == "throttled"
    assert int(r.headers["Retry-After"]) >= 1
    time.sleep(1.2)
    assert login(d, "alice", "x").status == 401
    assert login(d, "alice").status == 429  # even the right password, too soon
    time.sleep(2.2)
    assert login(d, "alice", "x").status == 401  # fourth failure: blocked now
    r = login(d, "alice")
    assert r.status == 429 and "blocked" in r.json["error"]["message"]
    counts = logins_when(d, lambda l: l["sources_blocked"] == 1)
    assert counts["ok"] == 0 and counts["failed"] >= 4 and counts["sources_throttled"] == 0
    time.sleep(3.3)
    assert login(d, "alice").status == 200
    assert "throttled" in d.log_text() or "blocked" in d.log_text()


ROTATION = """auth:throttle:free_attempts = 2
auth:throttle:base_delay = 1
auth:throttle:max_delay = 2
auth:throttle:block_after = 4
auth:throttle:block_seconds = 600
"""


def login_waiting(d, source, user):
    """Logs in, waiting as long as each 429 says; fails on a block."""
    for _ in range(5):
        r = login_from(d, source, user)
        if r.status != 429:
            return r
        assert "blocked" not in r.json["error"]["message"], r
        time.sleep(int(r.headers["Retry-After"]))
    return r


def test_failures_from_rotating_sources_never_lock_a_user_out(daemon_base, make_daemon):
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    d = make_daemon(config_text=ROTATION, wrap=lambda argv: ns_argv(etc, argv))
    make_user(d, "alice", PASSWORDS["alice"], ["sudo"])
    assert login_from(d, "127.0.0.2", "alice").status == 200  # alice's usual place

    def attack(first):
        # Five wrong passwords, each from a source of its own (so every source
        # stays within its free attempts), waiting whenever told to: the user
        # collects them all.
        failed, i = 0, first
        while failed < 5:
            r = login_from(d, f"127.0.1.{i}", "alice", "guess")
            i += 1
            if r.status == 401:
                failed += 1
                continue
            assert r.status == 429, r
            if "blocked" in r.json["error"]["message"]:
                return  # (what a per-user block did: locked alice out)
            time.sleep(int(r.headers["Retry-After"]))

    attack(1)
    # From a fresh source the user is slowed, never blocked...
    r = login_waiting(d, "127.0.0.3", "alice")
    assert r.status == 200, r
    attack(100)
    # ...and from where alice logged in before, not even slowed.
    r = login_from(d, "127.0.0.2", "alice")
    assert r.status == 200, r
    # A source's own failures still block that source, whatever the user.
    for _ in range(10):
        r = login_from(d, "127.0.0.9", "alice", "guess")
        if r.status == 429 and "blocked" in r.json["error"]["message"]:
            break
        time.sleep(int(r.headers.get("Retry-After", "1")))
    assert r.status == 429 and "blocked" in r.json["error"]["message"], r
    assert login_from(d, "127.0.0.9", "alice").status == 429
    assert login_from(d, "127.0.0.2", "alice").status == 200


# ---- sessions, cookies, CSRF ----------------------------------------------------

def test_sessions_expire_when_idle(daemon_base, make_daemon):
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    d = make_daemon(config_text="auth:session_idle_timeout = 5\n", wrap=lambda argv: ns_argv(etc, argv))
    make_user(d, "alice", PASSWORDS["alice"], ["sudo"])
    tok = session(d, "alice")
    # In use, it lives past the idle limit...
    for _ in range(4):
        assert d.https("GET", "/api/v1/whoami", token=tok).status == 200
        time.sleep(2)
    # ...and left alone, it expires.
    time.sleep(6)
    r = d.https("GET", "/api/v1/whoami", token=tok)
    assert r.status == 401


def test_event_streams_end_when_the_sessions_role_is_lowered(users):
    from test_events import Stream
    d = users
    tok = session(d, "oscar")
    opened = Stream(d, "/api/v1/events?types=sample", token=tok)
    assert opened.status == 200
    opened.next_event("sample")
    # oscar leaves the operator group for the monitor one: the session goes on
    # as a monitor, the stream opened as an operator ends.
    ns_run(d, ["/usr/sbin/usermod", "-G", "steward-monitor", "oscar"])
    with pytest.raises(AssertionError, match="ended"):
        for _ in range(30):
            opened.next_event("sample")
    opened.close()
    assert d.https("GET", "/api/v1/whoami", token=tok).json["role"] == "monitor"
    assert "event stream(s) of session" in d.log_text()
    # One opened with the role it has now stays.
    again = Stream(d, "/api/v1/events?types=sample", token=tok)
    for _ in range(8):
        again.next_event("sample")
    again.close()


def test_logout_ends_the_session(users):
    d = users
    tok = session(d, "alice")
    r = d.https("POST", "/api/v1/logout", {}, token=tok)
    assert r.status == 200 and "Max-Age=0" in r.headers["Set-Cookie"]
    assert d.https("GET", "/api/v1/whoami", token=tok).status == 401


def test_cookie_changes_need_csrf_and_a_matching_origin(users):
    d = users
    r = login(d, "alice")
    cookie = {"Cookie": f"__Host-steward_session={r.json['token']}"}
    csrf = r.json["csrf_token"]
    host = f"127.0.0.1:{d.port}"
    assert d.https("GET", "/api/v1/whoami", token=False, headers=cookie).json["auth"] == "cookie"
    patch = ("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "notice"})
    r = d.https(*patch, token=False, headers=cookie)
    assert r.status == 403 and r.json["error"]["code"] == "csrf"
    r = d.https(*patch, token=False, headers={**cookie, "X-CSRF-Token": "stw_" + "0" * 64})
    assert r.status == 403
    r = d.https(*patch, token=False, headers={**cookie, "X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert r.status == 403 and r.json["error"]["code"] == "bad_origin"
    r = d.https(*patch, token=False, headers={**cookie, "X-CSRF-Token": csrf, "Origin": f"https://{host}"})
    assert r.status == 200, r


def cookie_request(d, cookies, path="/api/v1/whoami"):
    """GET with each of cookies as a Cookie header of its own."""
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=10)
    try:
        conn.putrequest("GET", path)
        for c in cookies:
            conn.putheader("Cookie", c)
        conn.endheaders()
        r = conn.getresponse()
        return Response(r.status, dict(r.getheaders()), r.read().decode())
    finally:
        conn.close()


def test_the_session_cookie_is_host_only_and_matched_exactly(users):
    d = users
    r = login(d, "alice")
    tok = r.json["token"]
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"__Host-steward_session={tok};"), cookie
    assert "Path=/;" in cookie and "Secure" in cookie and "Domain" not in cookie
    good = f"__Host-steward_session={tok}"
    assert cookie_request(d, [good]).json["auth"] == "cookie"
    assert cookie_request(d, [f"theme=dark; {good}; lang=en"]).json["auth"] == "cookie"
    # Only the exact name counts: look-alikes are someone else's cookies.
    for other in (f"steward_session={tok}", f"__host-steward_session={tok}",
                  f"__Host-Steward_session={tok}", f"x__Host-steward_session={tok}"):
        r = cookie_request(d, [other])
        assert r.status == 401 and r.json["error"]["code"] == "unauthenticated", other
    # The session cookie twice is refused, whichever copy is valid.
    for cookies in ([f"{good}; __Host-steward_session=stw_planted"],
                    [f"__Host-steward_session=stw_planted; {good}"],
                    [good, "__Host-steward_session=stw_planted"],
                    [good, good]):
        r = cookie_request(d, cookies)
        assert r.status == 400 and r.json["error"]["code"] == "bad_request", cookies


# ---- tokens and the bootstrap token ---------------------------------------------

def test_tokens_scopes_and_revocation(users):
    d = users
    admin = session(d, "alice")
    r = d.https("POST", "/api/v1/tokens", {"name": "grafana", "role": "monitor", "expires_in": 3600}, token=admin)
    assert r.status == 200, r
    tok, tid = r.json["token"], r.json["id"]
    assert r.json["role"] == "monitor" and r.json["expires_at"] > time.time()
    assert d.https("GET", "/api/v1/modules", token=tok).status == 200
    assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"}, token=tok).status == 403
    # No higher than the creator.
    r = d.https("POST", "/api/v1/tokens", {"name": "escalate", "role": "admin"}, token=tok)
    assert r.status == 403
    listed = d.https("GET", "/api/v1/tokens", token=admin).json["tokens"]
    assert any(t["id"] == tid and t["name"] == "grafana" for t in listed)
    assert all("token" not in t and "secret" not in t for t in listed)
    assert d.https("DELETE", f"/api/v1/tokens/{tid}", token=admin).status == 200
    assert d.https("GET", "/api/v1/modules", token=tok).status == 401
    assert d.https("DELETE", f"/api/v1/tokens/{tid}", token=admin).status == 404


# ---- login sessions ------------------------------------------------------------

SESSION_FIELDS = {"id", "user", "role", "kind", "source", "created", "last_used", "expires_at", "current"}


def test_a_monitor_lists_its_own_sessions_and_an_admin_everyones(users):
    d = users
    mona, mona2, alice = session(d, "mona"), session(d, "mona"), session(d, "alice")
    r = d.https("GET", "/api/v1/sessions", token=mona)
    assert r.status == 200, r
    listed = r.json["sessions"]
    assert len(listed) == 2 and {s["user"] for s in listed} == {"mona"}
    assert [s["current"] for s in listed] == [True, False]
    for s in listed:
        assert set(s) == SESSION_FIELDS and s["kind"] == "session" and s["role"] == "monitor"
        assert isinstance(s["id"], str) and s["expires_at"] > time.time()
    # No secret, no digest of one.
    for secret in (mona, mona2, alice):
        assert secret[4:] not in r.body
        assert hashlib.sha256(secret.encode()).hexdigest() not in r.body
    assert "stw_" not in r.body and "csrf" not in r.body
    # Asking for someone else's shows nothing.
    r = d.https("GET", "/api/v1/sessions?user=alice", token=mona)
    assert r.status == 200 and r.json["sessions"] == []
    # An admin sees everyone's, or one user's.
    everyone = d.https("GET", "/api/v1/sessions", token=alice).json["sessions"]
    assert {"mona", "alice"} <= {s["user"] for s in everyone}
    assert [s["user"] for s in everyone if s["current"]] == ["alice"]
    only = d.https("GET", "/api/v1/sessions?user=mona", token=alice).json["sessions"]
    assert len(only) == 2 and {s["user"] for s in only} == {"mona"}
    assert d.https("GET", "/api/v1/sessions?user=", token=alice).status == 400


def test_ending_a_session(users):
    d = users
    mona, mona2, alice = session(d, "mona"), session(d, "mona"), session(d, "alice")
    # Both are in the front's cache before one is ended.
    assert d.https("GET", "/api/v1/whoami", token=mona2).status == 200
    mine = d.https("GET", "/api/v1/sessions", token=mona).json["sessions"]
    current = next(s["id"] for s in mine if s["current"])
    other = next(s["id"] for s in mine if not s["current"])
    everyone = d.https("GET", "/api/v1/sessions", token=alice).json["sessions"]
    alices = next(s["id"] for s in everyone if s["current"])
    # Someone else's session is not there for a monitor, exactly like one
    # that does not exist.
    r = d.https("DELETE", f"/api/v1/sessions/{alices}", token=mona)
    missing = d.https("DELETE", "/api/v1/sessions/99999999", token=mona)
    assert r.status == missing.status == 404
    assert r.json["error"]["code"] == missing.json["error"]["code"] == "not_found"
    assert "alice" not in r.body
    assert d.https("GET", "/api/v1/whoami", token=alice).status == 200
    # Another of one's own sessions stops working at once.
    r = d.https("DELETE", f"/api/v1/sessions/{other}", token=mona)
    assert r.status == 200 and r.json["current"] is False, r
    assert d.https("GET", "/api/v1/whoami", token=mona2).status == 401
    assert d.https("GET", "/api/v1/whoami", token=mona).status == 200
    rec = last_record(d, alice)
    assert (rec["module"], rec["operation"], rec["user"], rec["result"]) == ("sessions", "end", "mona", "ok")
    assert mona2 not in json.dumps(rec) and mona2[4:] not in json.dumps(rec)
    assert d.https("DELETE", f"/api/v1/sessions/{other}", token=mona).status == 404
    # Ending the current one is a logout.
    r = d.https("DELETE", f"/api/v1/sessions/{current}", token=mona)
    assert r.status == 200 and r.json["current"] is True
    assert d.https("GET", "/api/v1/whoami", token=mona).status == 401
    # An admin may end anyone's.
    mona3 = session(d, "mona")
    assert d.https("GET", "/api/v1/whoami", token=mona3).status == 200
    mid = d.https("GET", "/api/v1/sessions?user=mona", token=alice).json["sessions"][0]["id"]
    assert d.https("DELETE", f"/api/v1/sessions/{mid}", token=alice).status == 200
    assert d.https("GET", "/api/v1/whoami", token=mona3).status == 401


def test_ending_the_cookie_session_clears_the_cookie(users):
    d = users
    r = login(d, "alice")
    cookie = {"Cookie": f"__Host-steward_session={r.json['token']}", "X-CSRF-Token": r.json["csrf_token"],
              "Origin": f"https://127.0.0.1:{d.port}"}
    mine = d.https("GET", "/api/v1/sessions", token=False, headers=cookie).json["sessions"]
    current = next(s["id"] for s in mine if s["current"])
    r = d.https("DELETE", f"/api/v1/sessions/{current}", token=False, headers=cookie)
    assert r.status == 200 and "Max-Age=0" in r.headers["Set-Cookie"], r
    assert d.https("GET", "/api/v1/whoami", token=False, headers=cookie).status == 401


def test_bootstrap_token_is_single_use(make_daemon):
    d = make_daemon()
    boot = d.bootstrap_token
    # Not a general-purpose credential...
    assert d.https("GET", "/api/v1/modules", token=boot).status == 401
    # ...it can create the first token, once.
    r = d.https("POST", "/api/v1/tokens", {"name": "first", "role": "admin"}, token=boot)
    assert r.status == 200, r
    assert d.https("GET", "/api/v1/modules", token=r.json["token"]).status == 200
    assert not (d.state / "bootstrap-token").exists()
    assert d.https("POST", "/api/v1/tokens", {"name": "second"}, token=boot).status == 401
    r = d.https("POST", "/api/v1/login", {"bootstrap_token": boot}, token=False)
    assert r.status == 401
    # A restart does not bring it back.
    d.check_clean_exit()
    d.proc = None
    d.start()
    assert not (d.state / "bootstrap-token").exists()


def test_login_info_says_the_host_and_whether_the_bootstrap_token_is_unused(make_daemon):
    """GET /api/v1/login-info is open to anyone (a stale cookie does not
    matter), names the host, and says "bootstrap": true exactly until the
    bootstrap token has been used; it says nothing else."""
    import socket
    d = make_daemon()
    r = d.https("GET", "/api/v1/login-info", token=False)
    assert r.status == 200, r
    assert r.json == {"hostname": socket.gethostname(), "bootstrap": True}
    r = d.https("GET", "/api/v1/login-info", token=False, headers={"Cookie": "__Host-steward_session=stw_" + "0" * 64})
    assert r.status == 200 and r.json["bootstrap"] is True, r
    assert d.https("POST", "/api/v1/login-info", {}, token=False).status in (401, 405)
    r = d.https("POST", "/api/v1/login", {"bootstrap_token": d.bootstrap_token}, token=False)
    assert r.status == 200, r
    assert d.https("GET", "/api/v1/login-info", token=False).json == {"hostname": socket.gethostname(),
                                                                       "bootstrap": False}


# ---- the audit log ----------------------------------------------------------------

def last_record(d, tok):
    return d.https("GET", "/api/v1/audit?limit=1", token=tok).json["records"][0]


def test_changes_are_audited_with_diffs(daemon):
    tok = daemon.token
    daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"})
    rec = last_record(daemon, tok)
    assert rec["module"] == "stewardd" and rec["operation"] == "settings" and rec["result"] == "ok"
    assert rec["user"] == "bootstrap" and rec["role"] == "admin"
    assert rec["source"].startswith("127.0.0.1:")
    assert rec["files"][0]["path"] == str(daemon.config)
    assert '+log_level = "debug"' in rec["files"][0]["diff"]
    full = daemon.https("GET", f"/api/v1/audit/{rec['id']}").json
    assert full["files"][0]["after"] == 'log_level = "debug"\n'
    v = daemon.https("GET", "/api/v1/audit/verify").json
    assert v["ok"] is True and v["records"] >= 1


def records(d, tok, pred):
    rs = d.https("GET", "/api/v1/audit?limit=200", token=tok).json["records"]
    return [r for r in rs if pred(r)]


def test_refused_writes_are_audited(users):
    d = users
    boot = d.token
    mona, oscar, alice = session(d, "mona"), session(d, "oscar"), session(d, "alice")
    # Role too low, at the helper's door.
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"}, token=mona)
    assert r.status == 403, r
    r = d.https("POST", "/api/v1/users", {"name": "zoe"}, token=oscar)
    assert r.status == 403, r
    # A guard: an administrator may not delete their own account.
    r = d.https("DELETE", "/api/v1/users/alice", token=alice)
    assert r.status == 409 and r.json["error"]["code"] == "self", r
    refused = records(d, boot, lambda r: r["result"] == "refused")
    got = {(r["user"], r["role"], r["module"], r["operation"]) for r in refused}
    assert ("mona", "monitor", "stewardd", "PATCH /api/v1/modules/stewardd/settings") in got, got
    assert ("oscar", "operator", "users", "POST /api/v1/users") in got, got
    assert ("alice", "admin", "users", "users:delete") in got, got
    mine = next(r for r in refused if r["user"] == "mona")
    assert mine["args"] == {} and "needs the role admin" in mine["message"]
    # Nothing changed, and the chain still holds with the new records.
    assert d.https("GET", "/api/v1/users/alice", token=alice).status == 200
    v = d.https("GET", "/api/v1/audit/verify", token=boot).json
    assert v["ok"] is True, v
    p = d.cli("audit", "list", check=0)
    assert "refused" in p.stdout


def test_a_tool_failing_before_anything_changed_is_audited(users):
    d = users
    # useradd finds no free uid: its range is one uid, taken.
    ns_run(d, ["/usr/sbin/useradd", "--no-create-home", "-u", "4242", "--", "taken"])
    defs = Path(d.etc) / "login.defs"
    text = "".join(l + "\n" for l in defs.read_text().splitlines()
                   if not l.startswith(("UID_MIN", "UID_MAX")))
    defs.write_text(text + "UID_MIN 4242\nUID_MAX 4242\n")
    r = d.https("POST", "/api/v1/users", {"name": "zed"})
    assert r.status == 409 and "useradd failed" in r.json["error"]["message"], r
    rec = d.https("GET", "/api/v1/audit?module=users&limit=1").json["records"][0]
    assert rec["operation"] == "users:create" and rec["result"] == "error"
    assert "useradd failed" in rec["message"] and rec["files"] == []
    assert d.https("GET", "/api/v1/users/zed").status == 404


def test_tampering_is_detected(daemon):
    for level in ("debug", "notice", "warning"):
        daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": level})
    records = daemon.https("GET", "/api/v1/audit").json["records"]
    victim = records[1]["id"]
    db = sqlite3.connect(daemon.state / "steward.db")
    db.execute("UPDATE audit SET user = 'mallory' WHERE id = ?", (victim,))
    db.commit()
    db.close()
    v = daemon.https("GET", "/api/v1/audit/verify").json
    assert v["ok"] is False and v["first_broken"] == victim
    p = daemon.cli("audit", "verify", check=1)
    assert str(victim) in p.stdout + p.stderr


def test_rollback_restores_and_refuses_when_the_file_moved_on(daemon):
    daemon.config.write_text('log_level = "info"\n')
    daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"})
    rec = last_record(daemon, daemon.token)
    r = daemon.https("POST", f"/api/v1/audit/{rec['id']}/rollback?dry_run=1")
    assert r.status == 200 and r.json["dry_run"] is True
    assert daemon.config.read_text() == 'log_level = "debug"\n'
    r = daemon.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 200, r
    assert daemon.config.read_text() == 'log_level = "info"\n'
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["log_level"] == "info"
    back = last_record(daemon, daemon.token)
    assert back["operation"] == "rollback" and back["rollback_of"] == rec["id"]
    # Rolling back the same change again: the file no longer holds what it left.
    r = daemon.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 409
    assert '-log_level = "debug"' in r.json["error"]["files"][0]["diff"]
    assert daemon.config.read_text() == 'log_level = "info"\n'


def test_the_bootstrap_login_is_audited(daemon):
    boot = daemon.token  # a login with the bootstrap token
    rec, = records(daemon, boot, lambda r: r["module"] == "auth" and r["user"] == "bootstrap")
    assert rec["operation"] == "login" and rec["result"] == "ok" and rec["role"] == "admin"
    assert rec["args"] == {"method": "bootstrap_token"} and rec["source"].startswith("127.0.0.1:")



def _fd_targets(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


def _check_front_descriptors(d):
    """Nothing the helper opened reaches the front: not the store's files,
    not a pipe or pidfd the helper (or its forwarder) holds; shared are only
    the listeners (sockets), which the front serves."""
    front = d.front_pid()
    helper = _fd_targets(d.proc.pid)
    state = str(d.state.resolve())
    shared = set(helper.values())
    for fd, target in _fd_targets(front).items():
        if fd <= 2:
            continue  # standard input, output and error: the daemon's own
        assert not target.startswith(state), (fd, target)
        assert "steward.db" not in target, (fd, target)
        if target.startswith(("pipe:", "anon_inode:")) or target.startswith("/"):
            assert target not in shared, (fd, target)


def test_front_holds_none_of_the_helpers_descriptors(daemon):
    assert daemon.https("GET", "/api/v1/whoami").status == 200  # the store in use
    _check_front_descriptors(daemon)
    # A front started again later inherits what the helper holds by then.
    kill_front_and_wait(daemon)
    _check_front_descriptors(daemon)
