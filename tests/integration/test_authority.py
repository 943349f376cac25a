"""Authority follows the account as it is now (DESIGN.md, security rules):
every request acts with the role its account has at that moment.  Against a
real daemon over a scratch /etc, with the real shadow tools and direct edits
of the files: group removal, lock, password expiry by hand and by aging,
account expiry, deletion, renaming and re-creation, each seen by an existing
login session and API token; a change made through Steward takes effect at
the next request, a change made outside it within the bound of docs/api.md
(the tests wait for it without asserting a time).  Also: what a credential
may do to other credentials, every token's expiry, ids never reused, and
event streams of revoked credentials ending."""
import time

import pytest

from conftest import make_user, ns_run

pytestmark = pytest.mark.namespaces

PW = "Alice-pw-1"
OUTSIDE_BOUND = 30  # seconds the tests wait for an outside change; the daemon's bound is lower


def login(d, user, password=PW):
    r = d.https("POST", "/api/v1/login", {"user": user, "password": password}, token=False)
    assert r.status == 200, r
    return r.json


def whoami(d, token):
    return d.https("GET", "/api/v1/whoami", token=token)


def new_token(d, token, role="admin", **extra):
    r = d.https("POST", "/api/v1/tokens", {"name": f"t-{role}-{time.monotonic_ns()}", "role": role,
                                           **extra}, token=token)
    assert r.status == 200, r
    return r.json


def until(pred, timeout=OUTSIDE_BOUND):
    """Polls pred until it holds; returns its last value (falsy: timed out)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.25)


def alice_with_credentials(d, groups=("sudo",)):
    make_user(d, "alice", PW, groups)
    sess = login(d, "alice")["token"]
    tok = new_token(d, sess)["token"]
    assert whoami(d, sess).json["role"] == "admin" and whoami(d, tok).json["role"] == "admin"
    return sess, tok


def refused(d, *tokens):
    return lambda: all(whoami(d, t).status == 401 for t in tokens)


def role_of(d, token):
    r = whoami(d, token)
    return r.json["role"] if r.status == 200 else None


# ---- changes made with the shadow tools and by hand ----------------------------

def test_group_removal_with_gpasswd_lowers_the_role(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d, ("sudo", "steward-monitor"))
    ns_run(d, ["/usr/bin/gpasswd", "-d", "alice", "sudo"])
    assert until(lambda: role_of(d, sess) == "monitor" and role_of(d, tok) == "monitor")
    # The lowered role is what the helper acts with, not just what it shows.
    r = d.https("POST", "/api/v1/users", {"name": "mallory", "groups": ["sudo"]}, token=tok)
    assert r.status == 403, r
    r = d.https("POST", "/api/v1/tokens", {"name": "x", "role": "admin"}, token=sess)
    assert r.status == 403, r
    # Back in the group: the credentials have their role again.
    ns_run(d, ["/usr/bin/gpasswd", "-a", "alice", "sudo"])
    assert until(lambda: role_of(d, sess) == "admin" and role_of(d, tok) == "admin")


def test_group_removal_to_no_role_refuses_like_an_invalid_session(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    ns_run(d, ["/usr/bin/gpasswd", "-d", "alice", "sudo"])
    assert until(refused(d, sess, tok))
    r = whoami(d, tok)
    assert r.json["error"]["code"] == "unauthenticated", r


def test_direct_edit_of_etc_group(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    group = d.etc / "group"
    lines = []
    for line in group.read_text().splitlines():
        f = line.split(":")
        if f[0] == "sudo":
            f[3] = ",".join(m for m in f[3].split(",") if m and m != "alice")
        lines.append(":".join(f))
    group.write_text("\n".join(lines) + "\n")
    assert until(refused(d, sess, tok))


@pytest.mark.parametrize("argv", [
    ["/usr/sbin/usermod", "-L", "alice"],
    ["/usr/bin/chage", "-d", "0", "alice"],                    # must change the password
    ["/usr/bin/chage", "-d", "2000-01-01", "-M", "30", "alice"],  # password aged out
    ["/usr/bin/chage", "-d", "2000-01-01", "-M", "30", "-I", "5", "alice"],  # and inactive
    ["/usr/bin/chage", "-E", "0", "alice"],                    # account expired
], ids=["lock", "must-change", "aged", "inactive", "account-expired"])
def test_shadow_state_refuses_existing_credentials(ns_daemon, argv):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    ns_run(d, argv)
    assert until(refused(d, sess, tok))


def test_direct_edit_of_etc_shadow_lock(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    shadow = d.etc / "shadow"
    lines = []
    for line in shadow.read_text().splitlines():
        f = line.split(":")
        if f[0] == "alice":
            f[1] = "!" + f[1]
        lines.append(":".join(f))
    shadow.write_text("\n".join(lines) + "\n")
    assert until(refused(d, sess, tok))
    # Unlocked by hand again: the credentials work again (they were not revoked).
    shadow.write_text("\n".join(l.replace("alice:!", "alice:", 1) for l in lines) + "\n")
    assert until(lambda: role_of(d, sess) == "admin" and role_of(d, tok) == "admin")


def test_userdel_revokes_the_accounts_credentials(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    ns_run(d, ["/usr/sbin/userdel", "alice"])
    assert until(refused(d, sess, tok))
    # Revoked, not merely refused: a new account of the same name and
    # groups does not bring them back.
    make_user(d, "alice", PW, ["sudo"])
    assert until(lambda: login(d, "alice")["role"] == "admin")
    assert whoami(d, sess).status == 401 and whoami(d, tok).status == 401
    tokens = d.https("GET", "/api/v1/tokens").json["tokens"]
    assert [t for t in tokens if t["user"] == "alice"] == []
    assert any(r["operation"] == "revoke" and r["args"]["user"] == "alice"
               for r in d.https("GET", "/api/v1/audit?module=sessions").json["records"])


def test_deleted_admin_can_neither_create_sudo_users_nor_mint_tokens(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    ns_run(d, ["/usr/sbin/userdel", "alice"])
    assert until(refused(d, sess, tok))
    r = d.https("POST", "/api/v1/users", {"name": "mallory", "groups": ["sudo"]}, token=tok)
    assert r.status == 401, r
    r = d.https("POST", "/api/v1/tokens", {"name": "x", "role": "admin"}, token=sess)
    assert r.status == 401, r


def test_rename_revokes_the_credentials(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    ns_run(d, ["/usr/sbin/usermod", "-l", "alice2", "alice"])
    assert until(refused(d, sess, tok))
    assert login(d, "alice2")["role"] == "admin"
    # Renamed back: the old credentials stay revoked.
    ns_run(d, ["/usr/sbin/usermod", "-l", "alice", "alice2"])
    assert whoami(d, sess).status == 401 and whoami(d, tok).status == 401


def test_delete_and_recreate_with_another_uid_revokes(ns_daemon):
    d = ns_daemon
    sess, tok = alice_with_credentials(d)
    uid = int(ns_run(d, ["id", "-u", "alice"]).stdout)
    ns_run(d, ["/usr/sbin/userdel", "alice"])
    ns_run(d, ["/usr/sbin/useradd", "--no-create-home", "-u", str(uid + 7), "-G", "sudo", "alice"])
    assert until(refused(d, sess, tok))


# ---- changes made through Steward take effect at the next request ---------------

def test_changes_through_steward_apply_at_the_next_request(ns_daemon):
    d = ns_daemon
    make_user(d, "bob", PW, ["sudo"])  # not the last admin
    sess, tok = alice_with_credentials(d)
    # Warm every cache with a read first.
    assert role_of(d, sess) == "admin" and role_of(d, tok) == "admin"
    r = d.https("PATCH", "/api/v1/users/alice", {"groups": []})
    assert r.status == 200, r
    assert whoami(d, sess).status == 401 and whoami(d, tok).status == 401


def test_delete_through_steward_revokes_at_once(ns_daemon):
    d = ns_daemon
    make_user(d, "bob", PW, ["sudo"])  # not the last admin
    sess, tok = alice_with_credentials(d)
    assert role_of(d, tok) == "admin"
    assert d.https("DELETE", "/api/v1/users/alice").status == 200
    # Gone with the account before anyone presents them.
    tokens = d.https("GET", "/api/v1/tokens").json["tokens"]
    assert [t for t in tokens if t["user"] == "alice"] == []
    assert whoami(d, sess).status == 401 and whoami(d, tok).status == 401


# ---- what a credential may do to other credentials -----------------------------

def test_a_monitor_token_cannot_revoke_its_owners_admin_credentials(ns_daemon):
    d = ns_daemon
    sess, admin_tok = alice_with_credentials(d)
    admin_id = next(t["id"] for t in d.https("GET", "/api/v1/tokens", token=sess).json["tokens"]
                    if t["role"] == "admin")
    mon = new_token(d, sess, role="monitor")
    r = d.https("DELETE", f"/api/v1/tokens/{admin_id}", token=mon["token"])
    assert r.status == 403, r
    sessions = d.https("GET", "/api/v1/sessions", token=mon["token"]).json["sessions"]
    sid = next(s["id"] for s in sessions if s["kind"] == "session")
    r = d.https("DELETE", f"/api/v1/sessions/{sid}", token=mon["token"])
    assert r.status == 403, r
    assert role_of(d, admin_tok) == "admin" and role_of(d, sess) == "admin"
    # Its own kind it may revoke, itself included.
    assert d.https("DELETE", f"/api/v1/tokens/{mon['id']}", token=mon["token"]).status == 200


def test_every_token_expires_and_none_outlives_its_creator(ns_daemon):
    d = ns_daemon
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"auth:max_token_lifetime": 3600})
    assert r.status == 200, r
    sess, _ = alice_with_credentials(d)
    now = int(time.time())
    t = new_token(d, sess)
    assert now + 3500 <= t["expires_at"] <= now + 3700
    r = d.https("POST", "/api/v1/tokens", {"name": "long", "expires_in": 7200}, token=sess)
    assert r.status == 422 and r.json["error"]["field"] == "expires_in", r
    parent = new_token(d, sess, expires_in=600)
    child = new_token(d, parent["token"], role="monitor")
    assert child["expires_at"] <= parent["expires_at"]
    child = new_token(d, parent["token"], role="monitor", expires_in=1800)
    assert child["expires_at"] <= parent["expires_at"]
    for t in d.https("GET", "/api/v1/tokens").json["tokens"]:
        assert t["expires_at"] is not None, t


# ---- ids ------------------------------------------------------------------------

def test_token_and_session_ids_are_never_reused(ns_daemon):
    d = ns_daemon
    make_user(d, "alice", PW, ["sudo"])
    sess = login(d, "alice")["token"]
    seen = set()
    for _ in range(3):
        t = new_token(d, sess)
        assert t["id"] not in seen
        seen.add(t["id"])
        assert d.https("DELETE", f"/api/v1/tokens/{t['id']}", token=sess).status == 200
    for _ in range(3):
        s = login(d, "alice")
        sid = next(x["id"] for x in d.https("GET", "/api/v1/sessions", token=s["token"])
                   .json["sessions"] if x["current"])
        assert sid not in seen
        seen.add(sid)
        assert d.https("POST", "/api/v1/logout", token=s["token"]).status == 200


# ---- event streams --------------------------------------------------------------

def test_event_stream_of_a_deleted_account_ends(ns_daemon):
    from test_events import Stream
    d = ns_daemon
    _, tok = alice_with_credentials(d)
    s = Stream(d, "/api/v1/events?types=sample", token=tok, timeout=60)
    s.next_event()
    ns_run(d, ["/usr/sbin/userdel", "alice"])
    with pytest.raises(AssertionError, match="ended"):
        for _ in range(OUTSIDE_BOUND):
            s.next_event()
    s.close()


def test_event_stream_ends_when_steward_deletes_the_account(ns_daemon):
    from test_events import Stream
    d = ns_daemon
    make_user(d, "bob", PW, ["sudo"])  # not the last admin
    _, tok = alice_with_credentials(d)
    s = Stream(d, "/api/v1/events?types=sample", token=tok, timeout=60)
    s.next_event()
    assert d.https("DELETE", "/api/v1/users/alice").status == 200
    with pytest.raises(AssertionError, match="ended"):
        for _ in range(OUTSIDE_BOUND):
            s.next_event()
    s.close()


PEER_CLIENT = """
import http.client, json, socket, sys
c = http.client.HTTPConnection("x")
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); c.sock = s
for _ in sys.stdin:
    c.request("GET", "/api/v1/whoami"); r = c.getresponse(); body = r.read().decode()
    print(r.status, json.loads(body).get("role"), flush=True)
"""


def test_a_peer_on_the_socket_acts_with_its_uids_role_now(ns_daemon):
    """One keep-alive connection on the unix socket, from alice's uid: its
    peer session follows her groups."""
    import os
    import subprocess
    d = ns_daemon
    # A uid of its own: a process of the test's running as it must not look
    # like a login of another test's alice to userdel.
    uid = 61234
    ns_run(d, ["/usr/sbin/useradd", "--no-create-home", "-u", str(uid), "-G", "sudo", "alice"])
    os.chmod(os.path.dirname(d.sock), 0o755)
    p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                          "/usr/bin/python3", "-c", PEER_CLIENT, d.sock],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask():
        p.stdin.write("\n")
        p.stdin.flush()
        return p.stdout.readline().split()

    try:
        assert ask() == ["200", "admin"]
        ns_run(d, ["/usr/bin/gpasswd", "-d", "alice", "sudo"])
        assert until(lambda: ask()[0] != "200")
    finally:
        p.kill()
        p.wait()


def test_root_sessions_end_when_root_logins_are_turned_off(ns_daemon):
    """Turning stewardd:auth:allow_root_login off ends what it allowed: root's
    password login sessions lose their role at the next request; a token root
    made on purpose (over the local socket) keeps working."""
    d = ns_daemon
    ns_run(d, ["/usr/sbin/chpasswd"], input=f"root:{PW}\n")
    r = d.unix("PATCH", "/api/v1/modules/stewardd/settings", {"auth:allow_root_login": True})
    assert r.status == 200, r
    sess = login(d, "root")["token"]
    r = d.unix("POST", "/api/v1/tokens", {"name": "root-automation", "role": "admin"})
    assert r.status == 200, r
    tok = r.json["token"]
    assert whoami(d, sess).status == 200 and whoami(d, tok).status == 200
    r = d.unix("PATCH", "/api/v1/modules/stewardd/settings", {"auth:allow_root_login": False})
    assert r.status == 200, r
    assert until(refused(d, sess))
    assert whoami(d, tok).status == 200


def test_an_account_named_bootstrap_never_logs_in(ns_daemon):
    """The bootstrap token's credentials are named "bootstrap" and belong to
    no account: an account of that name is refused like a wrong password."""
    d = ns_daemon
    make_user(d, "bootstrap", PW, ["sudo"])
    r = d.https("POST", "/api/v1/login", {"user": "bootstrap", "password": PW}, token=False)
    assert r.status == 401 and r.json["error"]["code"] == "login_failed", r
