"""Connected users and Samba accounts (the shares module's connections.c and
smbusers.c) against a real smbd reached by a real smbclient (smb_ns.py):

  - GET /api/v1/modules/shares/connections lists an open smbclient session
    with its user, client address, dialect, share and open files;
  - DELETE /api/v1/modules/shares/connections/{id} (the command disconnect,
    run by a module route) ends it — smbclient sees the connection drop —,
    is audited, and answers 404 for an id no session has;
  - the roles: monitors read, only admins disconnect, run smb_account or
    close a share;
  - smb_account sets a password (on smbpasswd's stdin: the password is in no
    audit record, journal line or answer), disables and enables the account
    (smbclient is refused, then let in) and removes it;
  - the share action close ends every tree connect to a share;
  - the event share_connections tells a stream of a new session and of its
    end;
  - the CLI: `steward shares sessions`, `disconnect`, `smb-password`,
    `smb-disable`/`smb-enable`.
"""
import json
import time

import pytest

from smb_ns import smb, smb_ns  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces

CONN = "/api/v1/modules/shares/connections"
SMB_ACCOUNT = "/api/v1/modules/shares/commands/smb_account"


@pytest.fixture(scope="module")
def share(smb_ns):
    """A read-write share "pub" of /srv/pub for alice and bob."""
    smb_ns.add_user("alice", "Alice-pw-1")
    smb_ns.add_user("bob", "Bob-pw-1")
    smb_ns.mkdir("/srv/pub", 0o777)
    r = smb_ns.api("POST", "/api/v1/shares", {"name": "pub", "path": "/srv/pub",
                                              "smb": {"enabled": True, "read_only": False}})
    assert r.status in (200, 201), r
    return "pub"


def connections(smb):
    r = smb.api("GET", CONN)
    assert r.status == 200, r
    return r.json


def wait_for(pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def assert_dropped(smb, p):
    """The smbclient session p was disconnected by the server."""
    try:
        out = smb.session_cmd(p, "ls")
    except RuntimeError:
        return  # the client has gone
    assert "NT_STATUS_CONNECTION_DISCONNECTED" in out or "NT_STATUS_" in out, out


def session_of(smb, user):
    return [c for c in connections(smb)["connections"] if c.get("user") == user]


def test_no_session_is_an_empty_list(smb, share):
    body = connections(smb)
    assert body["smbd_running"] is True
    assert body["connections"] == []
    # Where this kernel has no nfsd, there is no NFS client to list.
    assert body["nfsd_running"] in (True, False)


def test_session_listed_and_disconnected(smb, share):
    p = smb.smbclient_session(share, "alice", "Alice-pw-1")
    smb.session_cmd(p, "ls")
    conns = wait_for(lambda: session_of(smb, "alice"), "alice's session")
    assert len(conns) == 1
    c = conns[0]
    assert c["protocol"] == "smb"
    assert c["id"].startswith("smb-")
    assert c["address"] == smb.host_ip
    assert c["share"] == share
    assert [s["name"] for s in c["shares"]] == [share]
    assert c["since"]
    assert c["dialect"].startswith("SMB")
    assert isinstance(c["encrypted"], bool) and isinstance(c["signed"], bool)
    assert c["open_files"] == 0

    # A monitor sees it, but may not end it.
    r = smb.api("GET", CONN, role="monitor")
    assert r.status == 200 and any(x["id"] == c["id"] for x in r.json["connections"])
    r = smb.api("DELETE", f"{CONN}/{c['id']}", role="monitor")
    assert r.status == 403, r
    r = smb.api("DELETE", f"{CONN}/{c['id']}", role="operator")
    assert r.status == 403, r
    smb.session_cmd(p, "ls")  # still connected

    r = smb.api("DELETE", f"{CONN}/{c['id']}")
    assert r.status == 200, r
    assert r.json["disconnected"] == c["id"]
    assert r.json["address"] == smb.host_ip
    assert [e["id"] for e in r.json["ended"]] == [c["id"]]
    assert "every SMB session from that address" in r.json["note"]
    wait_for(lambda: not session_of(smb, "alice"), "the session to end")
    assert_dropped(smb, p)

    # The audit record names the command and its id.
    r = smb.api("GET", "/api/v1/audit?module=shares")
    rec = next(x for x in r.json["records"] if x["operation"] == "command:disconnect")
    assert rec["result"] == "ok"
    assert c["id"] in json.dumps(rec)


@pytest.mark.parametrize("bad", ["smb-1-2", "smb-x", "nfs-1", "nfs-..", "x", "smb-99999999-1"])
def test_disconnect_unknown_id(smb, share, bad):
    r = smb.api("DELETE", f"{CONN}/{bad}")
    assert r.status == 404, r
    assert r.json["error"]["field"] == "id"


def test_disconnect_through_the_command(smb, share):
    r = smb.api("POST", "/api/v1/modules/shares/commands/disconnect", {"id": "smb-1-1"})
    assert r.status == 404, r
    r = smb.api("POST", "/api/v1/modules/shares/commands/disconnect", {})
    assert r.status == 422 and r.json["error"]["field"] == "id", r


def test_routes_in_the_api_document(smb, share):
    r = smb.api("GET", "/api/v1/openapi.json")
    assert r.status == 200
    paths = r.json["paths"]
    op = paths["/api/v1/modules/shares/connections/{id}"]["delete"]
    assert op["x-steward-min-role"] == "admin"
    assert paths["/api/v1/modules/shares/connections"]["get"]["x-steward-min-role"] == "monitor"


def test_smb_account(smb, share):
    smb.add_user("carol", "Carol-pw-1")
    r = smb.api("GET", "/api/v1/modules/shares/smb-users", role="monitor")
    assert r.status == 200, r
    names = {u["name"]: u for u in r.json["smb_users"]}
    assert names["carol"]["enabled"] is True
    assert "root" not in names  # system users without a Samba account are not listed

    # A new password, through smbpasswd's stdin.
    secret = "Carol-New-pw-7"
    r = smb.api("POST", SMB_ACCOUNT, {"user": "carol", "password": secret})
    assert r.status == 200, r
    assert secret not in r.body
    assert r.json["smb_user"]["name"] == "carol" and r.json["changed"] == ["password"]
    rc, out = smb.smbclient(share, "carol", secret, "ls")
    assert rc == 0, out
    rc, out = smb.smbclient(share, "carol", "Carol-pw-1", "ls")
    assert rc != 0 and "LOGON_FAILURE" in out, out
    # Never in the audit log, nor in the daemon's log.
    r = smb.api("GET", "/api/v1/audit?module=shares")
    assert secret not in r.body
    assert any(x["operation"] == "command:smb_account" for x in r.json["records"])
    assert secret not in smb.daemon.log_text()

    # Disabled: refused; enabled again: let in.
    r = smb.api("POST", SMB_ACCOUNT, {"user": "carol", "enabled": False})
    assert r.status == 200 and r.json["smb_user"]["enabled"] is False, r
    rc, out = smb.smbclient(share, "carol", secret, "ls")
    assert rc != 0, out
    r = smb.api("POST", SMB_ACCOUNT, {"user": "carol", "enabled": True})
    assert r.status == 200 and r.json["smb_user"]["enabled"] is True, r
    rc, out = smb.smbclient(share, "carol", secret, "ls")
    assert rc == 0, out

    # Removed: gone from the list.
    r = smb.api("POST", SMB_ACCOUNT, {"user": "carol", "remove": True})
    assert r.status == 200 and r.json["smb_user"] is None, r
    r = smb.api("GET", "/api/v1/modules/shares/smb-users")
    assert "carol" not in [u["name"] for u in r.json["smb_users"]]


@pytest.mark.parametrize("args, status, field", [
    ({"user": "nosuchuser", "password": "x"}, 404, "user"),
    ({"user": "Bad/Name", "password": "x"}, 422, "user"),
    ({"user": "-x", "enabled": True}, 422, "user"),
    ({"user": "bob"}, 422, "password"),
    ({"user": "bob", "password": "a\nb"}, 422, "password"),
    ({"user": "bob", "password": "x", "remove": True}, 422, "remove"),
    ({"user": "bob", "password": ""}, 422, "password"),
    ({"user": "bob", "color": "red"}, 422, "color"),
    ({"user": "root", "enabled": False}, 404, "user"),  # no Samba account
])
def test_smb_account_refused(smb, share, args, status, field):
    r = smb.api("POST", SMB_ACCOUNT, args)
    assert r.status == status, r
    assert r.json["error"]["field"] == field, r


def test_smb_account_roles(smb, share):
    for role in ("monitor", "operator"):
        r = smb.api("POST", SMB_ACCOUNT, {"user": "bob", "password": "Sneaky-pw-1"}, role=role)
        assert r.status == 403, r
    # The refusal is audited without the password.
    r = smb.api("GET", "/api/v1/audit?module=shares")
    assert "Sneaky-pw-1" not in r.body
    rc, out = smb.smbclient(share, "bob", "Bob-pw-1", "ls")
    assert rc == 0, out


def test_close_share(smb, share):
    p = smb.smbclient_session(share, "bob", "Bob-pw-1")
    wait_for(lambda: session_of(smb, "bob"), "bob's session")
    r = smb.api("POST", f"/api/v1/shares/{share}/close", {}, role="operator")
    assert r.status == 403, r
    r = smb.api("POST", "/api/v1/shares/nosuch/close", {})
    assert r.status == 404, r
    r = smb.api("POST", f"/api/v1/shares/{share}/close?dry_run=1", {})
    assert r.status == 200, r
    assert ["/usr/bin/smbcontrol", "smbd", "close-share", share] in r.json["plan"]["commands"]
    r = smb.api("POST", f"/api/v1/shares/{share}/close", {})
    assert r.status == 200 and r.json["closed"] is True, r
    # The tree connect ended; the session stays.
    wait_for(lambda: [c for c in session_of(smb, "bob") if not c["shares"]],
             "bob's session without the share")


def test_cli_sessions_and_disconnect(smb, share):
    p = smb.smbclient_session(share, "bob", "Bob-pw-1")
    c = wait_for(lambda: session_of(smb, "bob"), "bob's session")[0]
    out = smb.cli("shares", "sessions", check=0).stdout
    assert "USER" in out and "CLIENT" in out and "DIALECT" in out
    line = next(l for l in out.splitlines() if c["id"] in l)
    assert "bob" in line and smb.host_ip in line and share in line
    j = json.loads(smb.cli("--json", "shares", "sessions", check=0).stdout)
    assert c["id"] in [x["id"] for x in j["connections"]]

    p2 = smb.cli("shares", "disconnect", "smb-1-1", check=1)
    assert "no connection" in p2.stderr
    out = smb.cli("shares", "disconnect", c["id"], check=0).stdout
    assert c["id"] in out
    wait_for(lambda: not session_of(smb, "bob"), "bob's session to end")
    assert "disconnect" in smb.cli("shares", "--help", check=0).stdout


def test_cli_smb_password(smb, share):
    smb.add_user("dave", "Dave-pw-1")
    smb.cli("shares", "smb-password", "dave", "--password-stdin", stdin="Dave-New-pw-2\n", check=0)
    rc, out = smb.smbclient(share, "dave", "Dave-New-pw-2", "ls")
    assert rc == 0, out
    smb.cli("shares", "smb-disable", "dave", check=0)
    rc, out = smb.smbclient(share, "dave", "Dave-New-pw-2", "ls")
    assert rc != 0, out
    smb.cli("shares", "smb-enable", "dave", check=0)
    rc, out = smb.smbclient(share, "dave", "Dave-New-pw-2", "ls")
    assert rc == 0, out
    p = smb.cli("shares", "smb-enable", "nosuchuser", check=1)
    assert "nosuchuser" in p.stderr


def test_share_connections_event(smb, share):
    from test_events import Stream
    st = Stream(smb.daemon, "/api/v1/events?types=share_connections", timeout=30)
    try:
        assert st.status == 200
        p = smb.smbclient_session(share, "bob", "Bob-pw-1")
        while True:  # the first list that holds bob's session
            _, kind, data = st.next_event("share_connections")
            assert data["smbd_running"] is True
            mine = [c for c in data["connections"] if c["user"] == "bob"]
            if mine:
                break
        r = smb.api("DELETE", f"{CONN}/{mine[0]['id']}")
        assert r.status == 200, r
        while True:  # then one without it
            _, kind, data = st.next_event("share_connections")
            if not [c for c in data["connections"] if c["user"] == "bob"]:
                break
        assert_dropped(smb, p)
    finally:
        st.close()
