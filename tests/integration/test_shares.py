"""The shares module against a real smbd (smb_ns.py): share points made,
changed, deleted and rolled back through the API and the CLI, each seen by a
real smbclient over a veth pair without smbd restarting; permissions as
smbclient meets them; Time Machine destinations as testparm, smbclient and
the Avahi file show them; the NFS exports file and exportfs in the
namespace; every malformed field refused with the field named and the files
untouched; the issue's "done when" scenario.

One daemon and one smbd serve the whole module (set up once, ~1 s): each test
uses share names and folders of its own.
"""
import re

import pytest

from smb_ns import host_samba_state, smb, smb_ns  # noqa: F401 (fixtures)

pytestmark = pytest.mark.namespaces

SMB_CONF = "/etc/samba/smb.conf"
INCLUDE = "/etc/samba/steward.conf"
EXPORTS = "/etc/exports.d/steward.exports"
AVAHI = "/etc/avahi/services/steward-timemachine.service"
OWNED = (SMB_CONF, INCLUDE, EXPORTS, AVAHI)

ALICE = ("alice", "Alice-smb-1")  # in staff
BOB = ("bob", "Bob-smb-1")        # not in staff
CAROL = ("carol", "Carol-smb-1")  # in staff


@pytest.fixture(scope="module")
def people(smb_ns):
    """alice and carol in staff, bob not; each with an SMB password."""
    smb_ns.add_user(*ALICE, groups=["staff"])
    smb_ns.add_user(*BOB)
    smb_ns.add_user(*CAROL, groups=["staff"])
    return smb_ns


@pytest.fixture
def s(smb, people):
    """The module's SmbNs with its users, for one test."""
    return smb


def owned(s):
    return {p: s.read(p) for p in OWNED}


def create(s, body, query=""):
    return s.api("POST", "/api/v1/shares" + query, body)


def folder(s, name, mode=0o2775, group="staff"):
    return s.mkdir(f"/srv/{name}", mode=mode, group=group)


def made(s, name, **smb_members):
    """A share NAME on /srv/NAME (made, group staff, 2775), SMB members as given."""
    folder(s, name)
    body = {"name": name, "path": f"/srv/{name}", "smb": smb_members}
    r = create(s, body)
    assert r.status == 201, r
    assert r.json["audit_id"] > 0 and r.json["share"]["name"] == name
    return r.json


def listed(s, user=ALICE):
    rc, out, names = s.smbclient_list(*user)
    assert rc == 0, out
    return names


def rollback(s, audit_id):
    r = s.api("POST", f"/api/v1/audit/{audit_id}/rollback")
    assert r.status == 200, r
    assert r.json["rolled_back"] == audit_id
    return r.json


def put_get(s, share, user, name="hello.txt", text="hello over SMB\n"):
    """Puts a file through smbclient and gets it back; (rc, output, text read back)."""
    src = s.client_dir / f"up-{name}"
    src.write_text(text)
    back = s.client_dir / f"down-{name}"
    back.unlink(missing_ok=True)
    rc, out = s.smbclient(share, *user, f"lcd {s.client_dir}", f"put up-{name} {name}",
                          f"get {name} down-{name}")
    return rc, out, back.read_text() if back.exists() else None


def unchanged_server(s, pid, session):
    """smbd was not restarted and the open session still works."""
    assert s.smbd_pid() == pid and s.smbd.poll() is None
    assert "blocks available" in s.session_cmd(session, "ls")


# ---- the fixture itself ---------------------------------------------------------------

def test_fixture_serves_debian_smb_conf(s):
    """smbd in the namespace answers smbclient from the host with Debian's
    own shares; its pid file is the process the fixture started; the scratch
    testparm passes."""
    assert s.smbd_pid() == s.smbd.pid
    assert "print$" in listed(s)
    rc, out, err = s.testparm()
    assert rc == 0, err
    assert f"interfaces = {s.ip}/30" in out
    rc, out = s.smbclient("nosuch", *ALICE, "ls")
    assert rc != 0 and "NT_STATUS_BAD_NETWORK_NAME" in out
    rc, out = s.smbclient("print$", ALICE[0], "wrong-password", "ls")
    assert rc != 0 and "NT_STATUS_LOGON_FAILURE" in out


# ---- create: served at once, permissions as clients meet them ----------------------------

def test_create_then_smbclient_lists_writes_reads_and_refuses(s):
    pid = s.smbd_pid()
    assert "docs" not in listed(s)
    out = made(s, "docs", read_only=False, valid_users=["@staff"])
    share = out["share"]
    assert share["source"] == "steward" and share["protocols"] == "smb"
    assert share["smb"]["valid_users"] == ["@staff"] and share["smb"]["read_only"] is False
    assert "docs" in listed(s)
    # A permitted user writes and reads a file; it lands in the folder as hers.
    rc, log, text = put_get(s, "docs", ALICE)
    assert rc == 0, log
    assert text == "hello over SMB\n"
    on_disk = s.path("/srv/docs/hello.txt")
    assert on_disk.read_text() == "hello over SMB\n"
    uid = int(s.run_in_ns("id", "-u", "alice").stdout)
    assert on_disk.stat().st_uid == uid
    # A user not allowed (not in staff) is refused at the tree connect.
    rc, log = s.smbclient("docs", *BOB, "ls")
    assert rc != 0 and "NT_STATUS_ACCESS_DENIED" in log, log
    # The list and the share as the API shows them.
    names = [x["name"] for x in s.api("GET", "/api/v1/shares").json["shares"]]
    assert "docs" in names
    r = s.api("GET", "/api/v1/shares/docs")
    assert r.status == 200 and r.json["share"]["path"] == "/srv/docs"
    # The include file holds the share; smb.conf includes it once, at the
    # end of its [global] (before its own shares, which then get Steward's
    # globals too).
    inc = s.read(INCLUDE).decode()
    assert "[docs]" in inc and "path = /srv/docs" in inc
    conf = s.read(SMB_CONF).decode()
    assert conf.count(f"include = {INCLUDE}") == 1
    glob = conf.split("[global]", 1)[1]
    assert glob.index(f"include = {INCLUDE}") < glob.index("\n[")
    assert s.smbd_pid() == pid
    # The audit record names the operation and holds the files' diffs.
    rec = s.api("GET", f"/api/v1/audit/{out['audit_id']}").json
    assert rec["module"] == "shares" and rec["operation"] == "shares:create"
    assert {f["path"] for f in rec["files"]} >= {INCLUDE}


def test_folder_is_shown_and_contradictions_warned(s):
    """A share shows its folder's owner, group and mode; a read-write share
    on a folder none of its allowed users can write is warned about, in the
    plan and the share, and smbclient indeed cannot write there."""
    folder(s, "locked", mode=0o755, group="root")
    body = {"name": "locked", "path": "/srv/locked",
            "smb": {"read_only": False, "valid_users": ["@staff"]}}
    r = create(s, body, "?dry_run=1")
    assert r.status == 200, r
    plan_warned = any("write" in w for w in r.json["plan"]["warnings"])
    r = create(s, body)
    assert r.status == 201, r
    share = r.json["share"]
    assert share["folder"]["owner"] == "root" and share["folder"]["group"] == "root"
    assert share["folder"]["mode"] in ("755", "0755")
    assert any("write" in w for w in share["warnings"]), share
    rc, log, _ = put_get(s, "locked", ALICE)
    assert not s.path("/srv/locked/hello.txt").exists(), log
    # The group's folder: no warning.
    made(s, "unlocked", read_only=False, valid_users=["@staff"])
    share = s.api("GET", "/api/v1/shares/unlocked").json["share"]
    assert share["folder"]["group"] == "staff" and share["folder"]["mode"] in ("2775", "02775")
    assert share["warnings"] == [], share
    assert plan_warned


def test_read_only_share_refuses_writes(s):
    made(s, "readonly", read_only=True, valid_users=["@staff"])
    s.path("/srv/readonly/kept.txt").write_text("kept\n")
    rc, log = s.smbclient("readonly", *ALICE, "ls")
    assert rc == 0 and "kept.txt" in log, log
    rc, log, _ = put_get(s, "readonly", ALICE, name="new.txt")
    assert "NT_STATUS_ACCESS_DENIED" in log or "NT_STATUS_MEDIA_WRITE_PROTECTED" in log, log
    assert not s.path("/srv/readonly/new.txt").exists()
    rc, log = s.smbclient("readonly", *ALICE, "del kept.txt")
    assert s.path("/srv/readonly/kept.txt").exists(), log


def test_write_list_may_write_to_a_read_only_share(s):
    made(s, "drop", read_only=True, valid_users=["@staff"], write_list=["carol"])
    rc, log, _ = put_get(s, "drop", ALICE, name="a.txt")
    assert not s.path("/srv/drop/a.txt").exists(), log
    rc, log, text = put_get(s, "drop", CAROL, name="c.txt")
    assert rc == 0 and text == "hello over SMB\n", log


def test_smb_members_as_clients_meet_them(s):
    """Forbidden names, hidden dot files, encryption required, a new folder:
    each as smbclient meets it."""
    made(s, "members", read_only=False, valid_users=["@staff"], veto_files=["*.tmp"])
    s.path("/srv/members/.dotfile").write_text("x")
    s.path("/srv/members/secret.tmp").write_text("x")
    rc, log = s.smbclient("members", *ALICE, "ls")
    assert rc == 0 and "secret.tmp" not in log, log
    assert any(".dotfile" in l and "H" in l.split()[1] for l in log.splitlines()
               if l.strip().startswith(".dotfile")), log
    rc, log, _ = put_get(s, "members", ALICE, name="new.tmp")
    assert not s.path("/srv/members/new.tmp").exists(), log
    r = s.api("PATCH", "/api/v1/shares/members", {"smb": {"hide_dot_files": False,
                                                          "veto_files": []}})
    assert r.status == 200, r
    rc, log = s.smbclient("members", *ALICE, "ls")
    assert "secret.tmp" in log, log
    assert any(l.split()[1] in ("A", "N") for l in log.splitlines()
               if l.strip().startswith(".dotfile")), log
    # Encryption required: an SMB 2.1 client (no encryption) is refused, SMB3 is let in.
    old_client = ("--option=client max protocol=SMB2_10",)
    assert s.smbclient("members", *ALICE, "ls", options=old_client)[0] == 0
    r = s.api("PATCH", "/api/v1/shares/members", {"smb": {"encryption_required": True}})
    assert r.status == 200, r
    rc, log = s.smbclient("members", *ALICE, "ls", options=old_client)
    assert rc != 0 and "ACCESS_DENIED" in log, log
    assert s.smbclient("members", *ALICE, "ls")[0] == 0
    # Another folder: the share serves what is in it.
    folder(s, "members2")
    s.path("/srv/members2/in-the-new-one").write_text("x")
    r = s.api("PATCH", "/api/v1/shares/members", {"path": "/srv/members2"})
    assert r.status == 200, r
    rc, log = s.smbclient("members", *ALICE, "ls")
    assert "in-the-new-one" in log and "secret.tmp" not in log, log


def test_guest_access_is_a_finding(s):
    """Guest access is off by default: a name Samba does not know is
    refused; on, it is let in as the guest, and the share and the plan warn."""
    made(s, "guests")
    assert s.smbclient("guests", "nosuchuser", "x", "ls")[0] != 0
    r = s.api("PATCH", "/api/v1/shares/guests?dry_run=1", {"smb": {"guest_ok": True}})
    assert r.status == 200 and any("guest" in w for w in r.json["plan"]["warnings"]), r
    r = s.api("PATCH", "/api/v1/shares/guests", {"smb": {"guest_ok": True}})
    assert r.status == 200, r
    assert any("guest" in w for w in r.json["share"]["warnings"])
    rc, log = s.smbclient("guests", "nosuchuser", "x", "ls")
    assert rc == 0, log
    r = s.api("PATCH", "/api/v1/shares/guests", {"smb": {"guest_ok": False}})
    assert r.status == 200 and not r.json["share"]["warnings"], r
    assert s.smbclient("guests", "nosuchuser", "x", "ls")[0] != 0


def test_dry_run_plans_and_changes_nothing(s):
    folder(s, "planned")
    before = owned(s)
    r = create(s, {"name": "planned", "path": "/srv/planned"}, "?dry_run=1")
    assert r.status == 200, r
    diffs = {f["path"]: f["diff"] for f in r.json["plan"]["files"]}
    assert "+[planned]" in diffs[INCLUDE]
    assert owned(s) == before
    assert "planned" not in listed(s)
    assert s.api("GET", "/api/v1/shares/planned").status == 404


def test_testparm_warnings_refuse_the_change(s):
    """The plan is checked by testparm on a staged copy, its warnings read
    too (it exits 0 on an unknown parameter): a change is refused while
    smb.conf holds one, and nothing is written."""
    folder(s, "staged")
    conf = s.path(SMB_CONF)
    good = conf.read_bytes()
    conf.write_bytes(good.replace(b"[global]\n", b"[global]\n   no such parameter = 1\n", 1))
    try:
        before = owned(s)
        r = create(s, {"name": "staged", "path": "/srv/staged"})
        assert r.status == 422 and "testparm" in r.json["error"]["message"], r
        assert owned(s) == before
    finally:
        conf.write_bytes(good)
    assert create(s, {"name": "staged", "path": "/srv/staged"}).status == 201
    assert "staged" in listed(s)


def test_name_taken_and_unknown_share(s):
    made(s, "taken")
    before = owned(s)
    for name in ("taken", "TAKEN"):
        r = create(s, {"name": name, "path": "/srv/taken"})
        assert r.status == 409 and r.json["error"]["field"] == "name", r
    assert s.api("GET", "/api/v1/shares/nosuch").status == 404
    assert s.api("PATCH", "/api/v1/shares/nosuch", {"comment": "x"}).status == 404
    assert s.api("DELETE", "/api/v1/shares/nosuch").status == 404
    assert owned(s) == before


# ---- modify, delete, rollback: seen at once, smbd not restarted, clients kept -------------

def test_modify_delete_and_rollback_seen_without_restart(s):
    made(s, "keep", read_only=False, valid_users=["@staff"])
    session = s.smbclient_session("keep", *ALICE)  # a client on another share throughout
    pid = s.smbd_pid()
    first = made(s, "moving", read_only=True, valid_users=["@staff"])
    unchanged_server(s, pid, session)
    assert "moving" in listed(s)
    # Read-write: alice may write now.
    r = s.api("PATCH", "/api/v1/shares/moving", {"smb": {"read_only": False}})
    assert r.status == 200, r
    to_rw = r.json["audit_id"]
    assert r.json["share"]["smb"]["read_only"] is False
    assert r.json["share"]["smb"]["valid_users"] == ["@staff"]  # members merge
    rc, log, text = put_get(s, "moving", ALICE)
    assert rc == 0 and text, log
    unchanged_server(s, pid, session)
    # Narrowed to carol: alice is refused.
    r = s.api("PATCH", "/api/v1/shares/moving", {"smb": {"valid_users": ["carol"]}})
    assert r.status == 200, r
    narrowed = r.json["audit_id"]
    rc, log = s.smbclient("moving", *ALICE, "ls")
    assert rc != 0 and "NT_STATUS_ACCESS_DENIED" in log, log
    assert s.smbclient("moving", *CAROL, "ls")[0] == 0
    unchanged_server(s, pid, session)
    # Hidden: not in the list, still reachable by name.
    r = s.api("PATCH", "/api/v1/shares/moving", {"smb": {"browseable": False}})
    assert r.status == 200, r
    hidden = r.json["audit_id"]
    assert "moving" not in listed(s, CAROL)
    assert s.smbclient("moving", *CAROL, "ls")[0] == 0
    # Deleted: gone from the list and refused by name; the folder stays.
    r = s.api("DELETE", "/api/v1/shares/moving")
    assert r.status == 200, r
    deleted = r.json["audit_id"]
    assert "moving" not in listed(s, CAROL)
    rc, log = s.smbclient("moving", *CAROL, "ls")
    assert rc != 0 and "NT_STATUS_BAD_NETWORK_NAME" in log, log
    assert s.path("/srv/moving/hello.txt").exists()
    unchanged_server(s, pid, session)
    assert "[keep]" in s.read(INCLUDE).decode()
    # Each rolled back, the last first: each visible at once.
    before = owned(s)
    r = s.api("POST", f"/api/v1/audit/{deleted}/rollback?dry_run=1")
    assert r.status == 200 and any("+[moving]" in f["diff"] for f in r.json["files"]), r
    assert owned(s) == before and "moving" not in listed(s, CAROL)
    rollback(s, deleted)
    assert s.smbclient("moving", *CAROL, "ls")[0] == 0
    assert "moving" not in listed(s, CAROL)  # still hidden
    rollback(s, hidden)
    assert "moving" in listed(s, CAROL)
    rollback(s, narrowed)
    assert s.smbclient("moving", *ALICE, "ls")[0] == 0
    rollback(s, to_rw)
    rc, log, _ = put_get(s, "moving", ALICE, name="after-rollback.txt")
    assert not s.path("/srv/moving/after-rollback.txt").exists(), log
    rollback(s, first["audit_id"])
    assert "moving" not in listed(s)
    assert s.api("GET", "/api/v1/shares/moving").status == 404
    unchanged_server(s, pid, session)
    assert s.api("GET", "/api/v1/audit/verify").json["ok"] is True


def test_delete_closes_the_share_for_its_clients_only(s):
    """A deleted share's open tree connects are closed (close-share); a
    client on another share is not touched."""
    made(s, "doomed", valid_users=["@staff"])
    made(s, "other", valid_users=["@staff"])
    on_doomed = s.smbclient_session("doomed", *ALICE)
    on_other = s.smbclient_session("other", *CAROL)
    assert s.api("DELETE", "/api/v1/shares/doomed").status == 200
    out = s.session_cmd(on_doomed, "ls")
    assert "NT_STATUS_NETWORK_NAME_DELETED" in out or "NT_STATUS_BAD_NETWORK_NAME" in out, out
    assert "blocks available" in s.session_cmd(on_other, "ls")


def test_narrowed_valid_users_disconnects_those_no_longer_allowed(s):
    """After valid users are narrowed, close-denied-share ends the tree
    connects of those no longer allowed; the others keep theirs."""
    made(s, "narrow", valid_users=["@staff"])
    alice = s.smbclient_session("narrow", *ALICE)
    carol = s.smbclient_session("narrow", *CAROL)
    r = s.api("PATCH", "/api/v1/shares/narrow", {"smb": {"valid_users": ["carol"]}})
    assert r.status == 200, r
    assert "blocks available" in s.session_cmd(carol, "ls")
    out = s.session_cmd(alice, "ls")
    if "blocks available" in out and connections(s) is None:
        pytest.xfail("close-denied-share is connections.c's (branch conn), a stub on main")
    assert "NT_STATUS_NETWORK_NAME_DELETED" in out or "ACCESS_DENIED" in out, out


def test_a_change_while_smbd_is_down_is_served_when_it_starts(s):
    """smbd not running is a note in the answer, not an error; the share is
    served once smbd starts."""
    s.stop_smbd()
    try:
        folder(s, "whiledown")
        r = create(s, {"name": "whiledown", "path": "/srv/whiledown"})
        assert r.status == 201, r
        rec = s.api("GET", f"/api/v1/audit/{r.json['audit_id']}").json
        assert rec["result"] == "ok"
        notes = r.json.get("warnings", []) + (r.json.get("plan") or {}).get("warnings", [])
        noted = any("smbd is not running" in n for n in notes + [rec.get("message") or ""])
    finally:
        s.start_smbd()
    assert "whiledown" in listed(s)
    assert noted


def test_rollback_refused_after_a_later_change_to_the_same_file(s):
    """The include file holds every share: rolling back an older change
    after a newer one would undo the newer one too, so it is refused."""
    older = made(s, "older")["audit_id"]
    made(s, "newer")
    before = owned(s)
    r = s.api("POST", f"/api/v1/audit/{older}/rollback")
    assert r.status == 409, r
    assert owned(s) == before
    assert {"older", "newer"} <= set(listed(s))


def test_smb_off_keeps_the_section_unavailable(s):
    made(s, "paused", valid_users=["@staff"])
    r = s.api("PATCH", "/api/v1/shares/paused", {"smb": {"enabled": False}})
    assert r.status == 200, r
    assert r.json["share"]["protocols"] == "none"
    inc = s.read(INCLUDE).decode()
    section = inc.split("[paused]", 1)[1].split("\n[", 1)[0]
    assert "available = no" in section
    assert "paused" not in listed(s)
    rc, log = s.smbclient("paused", *ALICE, "ls")
    assert rc != 0, log
    r = s.api("PATCH", "/api/v1/shares/paused", {"smb": {"enabled": True}})
    assert r.status == 200 and "paused" in listed(s)


def test_import_a_share_from_smb_conf(s):
    """A share defined in smb.conf is listed read-only and refused a change;
    PATCH {"source": "steward"} moves its section into the include file,
    still served."""
    folder(s, "legacy")
    conf = s.path(SMB_CONF)
    conf.write_text(conf.read_text().replace(
        "[print$]", "[legacy]\n   path = /srv/legacy\n   read only = yes\n"
        "   valid users = @staff\n\n[print$]", 1))
    assert s.run_in_ns("smbcontrol", "smbd", "reload-config").returncode == 0
    assert "legacy" in listed(s)
    r = s.api("GET", "/api/v1/shares/legacy")
    assert r.status == 200 and r.json["share"]["source"] == "smb.conf", r
    assert r.json["share"]["smb"]["valid_users"] == ["@staff"]
    before = owned(s)
    r = s.api("PATCH", "/api/v1/shares/legacy", {"comment": "x"})
    assert r.status == 409 and r.json["error"]["field"] == "source", r
    assert s.api("DELETE", "/api/v1/shares/legacy").status == 409
    assert owned(s) == before
    p = s.cli("shares", "import", "legacy")
    assert p.returncode == 0, p.stderr
    assert "[legacy]" not in s.read(SMB_CONF).decode()
    assert "[legacy]" in s.read(INCLUDE).decode()
    assert s.api("GET", "/api/v1/shares/legacy").json["share"]["source"] == "steward"
    assert "legacy" in listed(s)
    assert s.smbclient("legacy", *ALICE, "ls")[0] == 0
    assert s.smbclient("legacy", *BOB, "ls")[0] != 0


# ---- the CLI --------------------------------------------------------------------------------

def test_cli_add_show_list_delete(s):
    import json
    folder(s, "clishare")
    p = s.cli("shares", "add", "clishare", "--path", "/srv/clishare", "--comment",
              "From the CLI", "--dry-run")
    assert p.returncode == 0 and "+[clishare]" in p.stdout, (p.stdout, p.stderr)
    assert "clishare" not in listed(s)
    p = s.cli("shares", "add", "clishare", "--path", "/srv/clishare", "--comment",
              "From the CLI")
    assert p.returncode == 0, p.stderr
    rc, out, _ = s.smbclient_list(*ALICE)
    assert "Disk|clishare|From the CLI" in out
    p = s.cli("--json", "shares", "show", "clishare")
    assert p.returncode == 0, p.stderr
    shown = json.loads(p.stdout)
    shown = shown.get("share", shown)
    assert shown["path"] == "/srv/clishare" and shown["comment"] == "From the CLI"
    p = s.cli("shares", "list")
    assert p.returncode == 0 and "clishare" in p.stdout and "/srv/clishare" in p.stdout
    p = s.cli("shares", "add", "bad/name", "--path", "/srv/clishare")
    assert p.returncode != 0 and "name" in p.stderr
    p = s.cli("shares", "add", "clishare2", "--path", "/etc")
    assert p.returncode != 0 and "path" in p.stderr
    p = s.cli("shares", "delete", "clishare")
    assert p.returncode == 0, p.stderr
    rc, log = s.smbclient("clishare", *ALICE, "ls")
    assert "NT_STATUS_BAD_NETWORK_NAME" in log


def cli_dotted(s, *args):
    p = s.cli(*args)
    if "has no writable field smb." in p.stderr or "has no writable field nfs." in p.stderr:
        pytest.xfail("the CLI's dotted options (smb.read_only…) are not on main yet (part C)")
    return p


def test_cli_smb_and_nfs_options(s):
    import json
    folder(s, "clidots")
    p = cli_dotted(s, "shares", "add", "clidots", "--path", "/srv/clidots", "--read-write",
                   "--valid-users", "@staff", "--nfs", "--nfs-client", "192.0.2.0/24(ro)")
    assert p.returncode == 0, p.stderr
    shown = json.loads(s.cli("--json", "shares", "show", "clidots").stdout)
    shown = shown.get("share", shown)
    assert shown["smb"]["read_only"] is False and shown["smb"]["valid_users"] == ["@staff"]
    assert shown["protocols"] == "smb+nfs"
    assert put_get(s, "clidots", ALICE)[2] == "hello over SMB\n"
    assert "/srv/clidots  192.0.2.0/24(" in exportfs_s(s)
    p = cli_dotted(s, "shares", "modify", "clidots", "--hidden", "--read-only", "--no-nfs")
    assert p.returncode == 0, p.stderr
    assert "clidots" not in listed(s)
    assert "/srv/clidots" not in exportfs_s(s)
    rc, log, _ = put_get(s, "clidots", ALICE, name="ro.txt")
    assert not s.path("/srv/clidots/ro.txt").exists(), log
    p = cli_dotted(s, "shares", "add", "clitm", "--path", "/srv/clidots", "--time-machine",
                   "--time-machine-size", "500X")
    assert p.returncode != 0 and "time_machine_max_size" in p.stderr


def test_settings_reach_the_running_smbd(s):
    r = s.api("PATCH", "/api/v1/modules/shares/settings",
              {"smb:server_string": "Steward test files"})
    assert r.status == 200, r
    rc, out, _ = s.smbclient_list(*ALICE)
    assert "IPC Service (Steward test files)" in out, out
    assert "server string = Steward test files" in s.testparm()[1]
    rollback(s, r.json["audit_id"])
    rc, out, _ = s.smbclient_list(*ALICE)
    assert "Steward test files" not in out


def test_min_protocol_setting_refuses_older_clients(s):
    old_client = ("--option=client max protocol=SMB2_10",)
    made(s, "proto")
    assert s.smbclient("proto", *ALICE, "ls", options=old_client)[0] == 0
    r = s.api("PATCH", "/api/v1/modules/shares/settings", {"smb:min_protocol": "SMB3_00"})
    assert r.status == 200, r
    try:
        assert "server min protocol = SMB3_00" in s.testparm()[1]
        rc, log = s.smbclient("proto", *ALICE, "ls", options=old_client)
        assert rc != 0 and "NT_STATUS" in log, log
        assert s.smbclient("proto", *ALICE, "ls")[0] == 0
    finally:
        rollback(s, r.json["audit_id"])
    assert s.smbclient("proto", *ALICE, "ls", options=old_client)[0] == 0


@pytest.mark.parametrize("key,value,param,shown", [
    ("smb:workgroup", "STEWARDTEST", "workgroup", "STEWARDTEST"),
    ("smb:signing", "mandatory", "server signing", ("mandatory", "required")),
    ("smb:encryption", "required", "server smb encrypt", ("required", "mandatory")),
    ("smb:log_level", 3, "log level", "3"),
    ("smb:netbios", True, "disable netbios", "No")])
def test_settings_in_testparm_and_the_api(s, key, value, param, shown):
    old_client = ("--option=client max protocol=SMB2_10",)
    if key == "smb:encryption":
        made(s, "enc")
        assert s.smbclient("enc", *ALICE, "ls", options=old_client)[0] == 0
    r = s.api("PATCH", "/api/v1/modules/shares/settings", {key: value})
    assert r.status == 200, r
    try:
        if key == "smb:log_level":  # testparm's own -d overrides it: the include file
            glob = s.read(INCLUDE).decode().split("[global]\n", 1)[1].split("\n[", 1)[0]
            got = next(l.split(" = ", 1)[1] for l in glob.splitlines()
                       if l.strip().startswith(param + " ="))
        else:
            rc, got, err = s.testparm(f"--parameter-name={param}")
            assert rc == 0, err
        assert got.strip() in ((shown,) if isinstance(shown, str) else shown), got
        section, _, leaf = key.rpartition(":")
        assert s.api("GET", "/api/v1/modules/shares/settings").json[section][leaf] == value
        if key == "smb:encryption":  # every share: an SMB 2.1 client cannot encrypt
            rc, log = s.smbclient("enc", *ALICE, "ls", options=old_client)
            assert rc != 0, log
            assert s.smbclient("enc", *ALICE, "ls")[0] == 0
    finally:
        rollback(s, r.json["audit_id"])
    if key == "smb:encryption":
        assert s.smbclient("enc", *ALICE, "ls", options=old_client)[0] == 0


@pytest.mark.parametrize("key,value", [("smb:min_protocol", "NT1"), ("smb:min_protocol", "SMB1"),
                                       ("smb:signing", "sometimes"), ("smb:encryption", "maybe"),
                                       ("smb:log_level", 11), ("smb:log_level", -1),
                                       ("smb:workgroup", "x" * 16), ("smb:workgroup", "a b"),
                                       ("smb:server_string", "100%"), ("smb:netbios", "yes"),
                                       ("roots", ["/"]), ("roots", ["/etc"]),
                                       ("roots", ["relative"]), ("smb:bogus", 1)])
def test_bad_settings_are_refused_and_nothing_changes(s, key, value):
    before = owned(s)
    r = s.api("PATCH", "/api/v1/modules/shares/settings", {key: value})
    assert r.status in (400, 422), r
    assert key in r.body
    assert owned(s) == before


# ---- Time Machine ------------------------------------------------------------------------------

def section_of(s, name):
    rc, out, err = s.testparm()
    assert rc == 0, err
    return out.split(f"[{name}]\n", 1)[1].split("\n\n", 1)[0]


def test_time_machine_destination(s):
    out = made(s, "tm", read_only=False, valid_users=["alice"], time_machine=True,
               time_machine_max_size="500G")
    assert out["share"]["protocols"] == "smb+tm"
    section = section_of(s, "tm")
    assert "fruit:time machine = yes" in section
    assert "fruit:time machine max size = 500G" in section
    # The share's vfs objects equal the global ones while a destination
    # exists (Apple's extensions for every share), so testparm prints them
    # there.
    rc, out_tp, err_tp = s.testparm()
    glob = out_tp.split("[global]\n", 1)[1].split("\n\n", 1)[0]
    assert "vfs objects = catia fruit streams_xattr" in section + glob
    # smbclient sees the maximum size as the share's size.
    rc, log = s.smbclient("tm", *ALICE, "du")
    assert rc == 0, log
    line = next(l for l in log.splitlines() if "blocks of size" in l).split()
    assert int(line[0]) * int(line[4].rstrip(".")) == 500 << 30, log
    # A file goes in (streams_xattr over the scratch /srv).
    assert put_get(s, "tm", ALICE)[2] == "hello over SMB\n"
    # Advertised over mDNS through the Avahi file Steward owns.
    xml = s.read(AVAHI).decode()
    assert "<type>_smb._tcp</type>" in xml and "<port>445</port>" in xml
    assert "<type>_adisk._tcp</type>" in xml
    assert "<txt-record>sys=waMa=0,adVF=0x100</txt-record>" in xml
    assert "adVN=tm,adVF=0x82</txt-record>" in xml
    # Another size; then off: the file goes when no destination is left.
    r = s.api("PATCH", "/api/v1/shares/tm", {"smb": {"time_machine_max_size": "2T"}})
    assert r.status == 200, r
    assert "fruit:time machine max size = 2T" in section_of(s, "tm")
    rc, log = s.smbclient("tm", *ALICE, "du")
    line = next(l for l in log.splitlines() if "blocks of size" in l).split()
    assert int(line[0]) * int(line[4].rstrip(".")) == 2 << 40, log
    r = s.api("PATCH", "/api/v1/shares/tm", {"smb": {"time_machine": False}})
    assert r.status == 200 and r.json["share"]["protocols"] == "smb", r
    assert r.json["share"]["smb"]["time_machine_max_size"] == "2T"  # kept for the next time
    section = section_of(s, "tm")
    assert "fruit:time machine = yes" not in section and "vfs objects" not in section
    rc, log = s.smbclient("tm", *ALICE, "du")
    line = next(l for l in log.splitlines() if "blocks of size" in l).split()
    assert int(line[0]) * int(line[4].rstrip(".")) != 2 << 40, log  # the disk's own size
    others = [x for x in s.api("GET", "/api/v1/shares").json["shares"]
              if x["protocols"].endswith("+tm")]
    assert (s.read(AVAHI) is None) == (not others)


def test_time_machine_enables_apple_extensions_globally(s):
    made(s, "tmglobal", valid_users=["alice"], time_machine=True, time_machine_max_size="1T")
    rc, out, err = s.testparm()
    assert "some services use vfs_fruit, others don't" not in err, out + err
    glob = out.split("[global]\n", 1)[1].split("\n\n", 1)[0]
    assert "fruit" in glob, glob


# ---- NFS -----------------------------------------------------------------------------------------

def exportfs_s(s):
    p = s.run_in_ns("exportfs", "-s")
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_nfs_exports_file_and_exportfs(s):
    """This kernel has no nfsd: `exportfs -ra` still validates and fills
    its table in the namespace's scratch /var/lib/nfs, which `exportfs -s`
    prints; no client can mount."""
    folder(s, "nfsonly")
    r = create(s, {"name": "nfsonly", "path": "/srv/nfsonly", "smb": {"enabled": False},
                   "nfs": {"enabled": True, "clients": [
                       {"host": "192.0.2.0/24", "options": ["ro"]},
                       "198.51.100.7(rw,no_root_squash,async)"]}})
    assert r.status == 201, r
    share = r.json["share"]
    assert share["protocols"] == "nfs"
    clients = {c["host"]: c["options"] for c in share["nfs"]["clients"]}
    assert "ro" in clients["192.0.2.0/24"] and "root_squash" in clients["192.0.2.0/24"]
    assert "sync" in clients["192.0.2.0/24"]  # the defaults
    assert {"rw", "no_root_squash", "async"} <= set(clients["198.51.100.7"])
    text = s.read(EXPORTS).decode()
    line = next(l for l in text.splitlines() if l.startswith("/srv/nfsonly "))
    assert "192.0.2.0/24(ro,root_squash,sync" in line
    assert "198.51.100.7(rw,no_root_squash,async" in line
    table = exportfs_s(s)
    assert "/srv/nfsonly  192.0.2.0/24(" in table and "/srv/nfsonly  198.51.100.7(" in table
    assert "/srv/nfsonly" in s.read("/var/lib/nfs/etab").decode()
    assert "nfsonly" not in listed(s)  # SMB off: not served
    # clients are replaced whole
    r = s.api("PATCH", "/api/v1/shares/nfsonly", {"nfs": {"clients": ["203.0.113.9(rw)"]}})
    assert r.status == 200, r
    assert [c["host"] for c in r.json["share"]["nfs"]["clients"]] == ["203.0.113.9"]
    table = exportfs_s(s)
    assert "/srv/nfsonly  203.0.113.9(" in table and "192.0.2.0/24" not in table.split(
        "/srv/nfsonly", 1)[1].split("\n/", 1)[0]
    # Deleted: the line and the export go.
    audit = s.api("DELETE", "/api/v1/shares/nfsonly").json["audit_id"]
    assert b"/srv/nfsonly" not in (s.read(EXPORTS) or b"")
    assert "/srv/nfsonly" not in exportfs_s(s)
    rollback(s, audit)
    assert "/srv/nfsonly  203.0.113.9(" in exportfs_s(s)


def test_nfs_path_with_a_space_is_escaped(s):
    folder(s, "with space")
    r = create(s, {"name": "spaced", "path": "/srv/with space",
                   "nfs": {"enabled": True, "clients": ["192.0.2.1(ro)"]}})
    assert r.status == 201, r
    assert "/srv/with\\040space 192.0.2.1(" in s.read(EXPORTS).decode()
    assert "/srv/with\\040space  192.0.2.1(" in exportfs_s(s)
    assert s.smbclient("spaced", *ALICE, "ls")[0] == 0


def test_nfs_client_grammar_accepted_forms(s):
    """Every form of the grammar is taken and exportfs in the namespace
    accepts the result."""
    folder(s, "grammar")
    clients = [{"host": "192.0.2.7", "options": ["rw", "all_squash", "anonuid=1000",
                                                 "anongid=1000"]},
               {"host": "198.51.100.0/24", "options": ["ro", "insecure", "sec=sys:krb5"]},
               {"host": "2001:db8::/32", "options": ["ro"]},
               {"host": "*.example.org", "options": ["ro", "subtree_check"]},
               {"host": "localhost", "options": ["async"]},
               "@trusted(ro)"]
    r = create(s, {"name": "grammar", "path": "/srv/grammar", "smb": {"enabled": False},
                   "nfs": {"enabled": True, "clients": clients}})
    assert r.status == 201, r
    hosts = [c["host"] for c in r.json["share"]["nfs"]["clients"]]
    assert hosts == ["192.0.2.7", "198.51.100.0/24", "2001:db8::/32", "*.example.org",
                     "localhost", "@trusted"]
    table = [l for l in exportfs_s(s).splitlines() if l.startswith("/srv/grammar ")]
    assert {l.split()[1].split("(")[0] for l in table} >= {"192.0.2.7", "198.51.100.0/24",
                                                           "*.example.org"}, table
    line = next(l for l in table if "192.0.2.7(" in l)
    assert "all_squash" in line and "anonuid=1000" in line, line


def test_nfs_client_that_does_not_resolve_is_warned(s):
    folder(s, "unresolved")
    r = create(s, {"name": "unresolved", "path": "/srv/unresolved", "smb": {"enabled": False},
                   "nfs": {"enabled": True, "clients": ["files.example.invalid(ro)"]}})
    try:
        assert r.status in (201, 422), r
        if r.status == 201:
            assert ("/srv/unresolved" in exportfs_s(s)
                    or any("resolve" in w for w in r.json["warnings"])), r.json
    finally:
        if r.status == 201:
            assert s.api("DELETE", "/api/v1/shares/unresolved").status == 200


def test_concurrent_creates_all_land(s):
    """Eight creates at once: each answered 201, each in the include file
    once, each listed by smbclient."""
    import concurrent.futures
    names = [f"para{i}" for i in range(8)]
    for n in names:
        folder(s, n)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: create(s, {"name": n, "path": f"/srv/{n}"}), names))
    assert [a.status for a in answers] == [201] * 8, answers
    inc = s.read(INCLUDE).decode()
    assert all(inc.count(f"[{n}]") == 1 for n in names)
    assert set(names) <= set(listed(s))
    assert s.api("GET", "/api/v1/audit/verify").json["ok"] is True


def test_one_folder_is_exported_by_one_share(s):
    folder(s, "twice")
    r = create(s, {"name": "twice1", "path": "/srv/twice", "nfs": {"enabled": True,
                                                                   "clients": ["192.0.2.2"]}})
    assert r.status == 201, r
    before = owned(s)
    r = create(s, {"name": "twice2", "path": "/srv/twice", "nfs": {"enabled": True,
                                                                   "clients": ["192.0.2.3"]}})
    assert r.status == 409 and r.json["error"]["field"] == "path", r
    assert owned(s) == before


# ---- bad input: refused with the field named, nothing changed -------------------------------

BAD_NAMES = ["a[b", "a]b", "a/b", "a\\b", "a:b", "a*b", "a?b", 'a"b', "a<b", "a>b", "a|b",
             "x" * 81, "é" * 41, "global", "GLOBAL", "homes", "printers", "ipc$", "IPC$", "",
             " lead", "trail ", "a\nb", 7, None]
BAD_PATHS = ["/opt", "/opt/data", "srv/bad", "", "/srv/../etc", "/srv/ok/../ok", "/srv//ok",
             "/srv/ok/", "/srv/./ok", "/", "/etc", "/etc/samba", "/root", "/proc", "/srv/missing",
             "/srv/link", "/srv/linkdir/sub", "/srv/afile", "/srv/a%b", "/srv/open/inner", 5]
BAD_PRINCIPALS = [["bad name"], ["@"], ["a:b"], ["-x"], ["x" * 65], ["a,b"], ["alice", "alice"],
                  "alice", [3], [None], ["a\nb"]]
BAD_CLIENTS = [["192.0.2.0/33"], ["bad host!"], [""], ["192.0.2.0/24(rw,bogus)"],
               [{"host": "192.0.2.1", "options": ["bogus"]}],
               [{"host": "192.0.2.1", "options": ["rw;reboot"]}],
               [{"host": "192.0.2.1", "options": ["sec=foo"]}],
               [{"host": "192.0.2.1", "options": ["anonuid=x"]}],
               [{"host": "192.0.2.1(rw)", "options": []}], ["192.0.2.1 192.0.2.2"],
               ["host(rw"], [{"options": ["ro"]}], [{"host": "192.0.2.1", "bogus": 1}],
               [7], "192.0.2.1", ["192.0.2.1", "192.0.2.1"]]
BAD_SIZES = ["500X", "-1G", "G", "1.5T", "5000000G", "500 G", "0x10G", 500, True]

CASES = (
    [({"name": n, "path": "/srv/ok"}, "name") for n in BAD_NAMES]
    + [({"name": "ok2", "path": p}, "path") for p in BAD_PATHS]
    + [({"name": "ok2", "path": "/srv/ok", "smb": {"valid_users": v}}, "smb.valid_users")
       for v in BAD_PRINCIPALS]
    + [({"name": "ok2", "path": "/srv/ok", "smb": {"write_list": v}}, "smb.write_list")
       for v in BAD_PRINCIPALS]
    + [({"name": "ok2", "path": "/srv/ok", "nfs": {"enabled": True, "clients": c}}, "nfs.clients")
       for c in BAD_CLIENTS]
    + [({"name": "ok2", "path": "/srv/ok", "smb": {"time_machine": True,
                                                   "time_machine_max_size": z}},
        "smb.time_machine_max_size") for z in BAD_SIZES]
    + [({"name": "ok2", "path": "/srv/ok", "bogus": 1}, "bogus"),
       ({"name": "ok2", "path": "/srv/ok", "smb": {"bogus": True}}, "smb.bogus"),
       ({"name": "ok2", "path": "/srv/ok", "nfs": {"bogus": True}}, "nfs.bogus"),
       ({"name": "ok2", "path": "/srv/ok", "smb": {"read_only": "yes"}}, "smb.read_only"),
       ({"name": "ok2", "path": "/srv/ok", "smb": {"case_sensitive": "maybe"}},
        "smb.case_sensitive"),
       ({"name": "ok2", "path": "/srv/ok", "smb": {"veto_files": ["a/b"]}}, "smb.veto_files"),
       ({"name": "ok2", "path": "/srv/ok", "smb": "yes"}, "smb"),
       ({"name": "ok2", "path": "/srv/ok", "nfs": {"enabled": True}}, "nfs.clients"),
       ({"name": "ok2", "path": "/srv/ok", "comment": "100%"}, "comment"),
       ({"name": "ok2", "path": "/srv/ok", "comment": "x" * 256}, "comment"),
       ({"name": "ok2", "path": "/srv/ok", "source": "smb.conf"}, "source"),
       ({"name": "ok2"}, "path")]
)


@pytest.fixture(scope="module")
def bad_input_tree(people):
    """/srv/ok (a share "base" on it), /srv/link → /srv/ok, /srv/linkdir →
    /srv, /srv/afile, /srv/open (0777) with /srv/open/inner."""
    s = people
    folder(s, "ok")
    s.run_in_ns("ln", "-s", "/srv/ok", "/srv/link", check=True)
    s.run_in_ns("ln", "-s", "/srv", "/srv/linkdir", check=True)
    s.run_in_ns("mkdir", "/srv/sub", check=True)
    s.run_in_ns("touch", "/srv/afile", check=True)
    folder(s, "open", mode=0o777)  # anyone could swap what is below for a link
    s.run_in_ns("mkdir", "/srv/open/inner", check=True)
    r = create(s, {"name": "base", "path": "/srv/ok"})
    assert r.status == 201, r
    return s


def case_id(case):
    body, field = case
    return f"{field}={str(body.get(field.split('.')[0], body))[:40]!r}"


def patch_of(body, field):
    """The PATCH of the share "base" that carries the same bad field (None:
    the case has no PATCH form)."""
    if field == "name":
        return {"name": body["name"]}
    patch = {k: v for k, v in body.items() if k != "name"}
    return patch or None


@pytest.mark.parametrize("body,field", CASES, ids=[case_id(c) for c in CASES])
def test_bad_input_is_refused_with_the_field_and_nothing_changes(bad_input_tree, smb, body,
                                                                  field):
    s = bad_input_tree
    before = owned(s)
    requests = [("POST", "/api/v1/shares", body)]
    if patch_of(body, field) is not None:
        requests.append(("PATCH", "/api/v1/shares/base", patch_of(body, field)))
    for method, path, payload in requests:
        r = s.api(method, path, payload)
        assert r.status in (400, 422), (method, payload, r)
        got = r.json["error"].get("field") or ""
        assert got == field or got.startswith((field + "[", field + ".")), (method, payload,
                                                                              r.json)
        assert owned(s) == before, (method, payload)
    assert s.api("GET", "/api/v1/shares/ok2").status == 404


def test_a_home_folder_only_for_its_user(s):
    """With /home among the roots, a user's home is shared only to that
    user alone over SMB (no NFS)."""
    assert s.run_in_ns("install", "-d", "-m", "0700", "-o", "alice", "-g", "alice",
                       "/home/alice").returncode == 0
    r = s.api("PATCH", "/api/v1/modules/shares/settings", {"roots": ["/srv", "/home"]})
    assert r.status == 200, r
    roots = r.json["audit_id"]
    try:
        before = owned(s)
        for smb_members, nfs in (({"valid_users": ["bob"]}, None), ({}, None),
                                 ({"valid_users": ["alice", "bob"]}, None),
                                 ({"valid_users": ["alice"]}, ["192.0.2.1"])):
            body = {"name": "alicehome", "path": "/home/alice", "smb": smb_members}
            if nfs:
                body["nfs"] = {"enabled": True, "clients": nfs}
            r = create(s, body)
            assert r.status == 422 and r.json["error"]["field"] == "path", (body, r)
            assert owned(s) == before
        r = create(s, {"name": "alicehome", "path": "/home/alice",
                       "smb": {"valid_users": ["alice"], "read_only": False}})
        assert r.status == 201, r
        assert put_get(s, "alicehome", ALICE)[2] == "hello over SMB\n"
        assert s.smbclient("alicehome", *CAROL, "ls")[0] != 0
        assert s.api("DELETE", "/api/v1/shares/alicehome").status == 200
    finally:
        rollback(s, roots)
    assert s.api("GET", "/api/v1/modules/shares/settings").json["roots"] == ["/srv"]


def test_bad_name_in_the_url(bad_input_tree, smb):
    s = bad_input_tree
    before = owned(s)
    for name in ("a%5Bb", "x" * 81, "global"):
        assert s.api("PATCH", f"/api/v1/shares/{name}", {"comment": "x"}).status in (400, 404)
        assert s.api("DELETE", f"/api/v1/shares/{name}").status in (400, 404)
    assert owned(s) == before


def test_longest_name_is_taken(s):
    name = "n" * 80
    r = create(s, {"name": name, "path": "/srv/ok" if s.path("/srv/ok").exists() else
                   folder(s, "ok")})
    assert r.status == 201, r
    assert s.smbclient(name, *ALICE, "ls")[0] == 0
    assert s.api("DELETE", f"/api/v1/shares/{name}").status == 200


def test_roles(s):
    """A monitor reads, only an admin writes."""
    assert s.api("GET", "/api/v1/shares", role="monitor").status == 200
    folder(s, "roles")
    before = owned(s)
    for role in ("monitor", "operator"):
        r = s.api("POST", "/api/v1/shares", {"name": "roles", "path": "/srv/roles"}, role=role)
        assert r.status == 403, r
    assert owned(s) == before


# ---- connections (the B part) -------------------------------------------------------------------

def connections(s):
    """The connections list, or None where the route is not there yet (on
    main before the conn branch: 501 from the stub, or 405 where the kit
    takes the path for its commands' POST)."""
    r = s.api("GET", "/api/v1/modules/shares/connections")
    if r.status in (405, 501):
        return None
    assert r.status == 200, r
    return r.json


def on_projects(c, user):
    """Whether the connection c is user's, on the share projects."""
    shares = [x.get("name") for x in c.get("shares", [])] or [c.get("share")]
    return c.get("user") == user and "projects" in shares


def see_and_disconnect(s, audits):
    """Step 3 of the scenario: alice connected to projects, seen in the
    list and by the CLI, disconnected by the API; False where the
    connections are not there yet."""
    session = s.smbclient_session("projects", *ALICE)
    conns = connections(s)
    if conns is None:
        return False
    assert conns["smbd_running"] is True
    mine = [c for c in conns["connections"] if on_projects(c, "alice")]
    assert mine and mine[0]["protocol"] == "smb" and mine[0]["client"] == s.host_ip, conns
    p = s.cli("shares", "sessions")
    assert p.returncode == 0 and "alice" in p.stdout and "projects" in p.stdout, p.stderr
    r = s.api("DELETE", f"/api/v1/modules/shares/connections/{mine[0]['id']}")
    assert r.status == 200, r
    if r.json.get("audit_id"):
        audits.append(r.json["audit_id"])
    try:  # the server has ended the session: the client goes, or says so
        out = s.session_cmd(session, "ls", timeout=10)
        assert "NT_STATUS_CONNECTION_DISCONNECTED" in out, out
    except RuntimeError:
        pass
    assert not [c for c in connections(s)["connections"] if on_projects(c, "alice")]
    return True


def test_done_when_scenario(s):
    """The issue's "done when": /srv/projects read-write to @staff over SMB
    and read-only to 192.0.2.0/24 over NFS, /srv/backup a 500G Time Machine
    destination, a connected client seen and disconnected, each change rolled
    back; each step in the audit, each visible to smbclient."""
    pid = s.smbd_pid()
    folder(s, "projects")
    folder(s, "backup", mode=0o2770)
    audits = []
    # 1. Publish /srv/projects.
    r = create(s, {"name": "projects", "path": "/srv/projects", "comment": "Team projects",
                   "smb": {"read_only": False, "valid_users": ["@staff"]},
                   "nfs": {"enabled": True, "clients": [{"host": "192.0.2.0/24",
                                                         "options": ["ro"]}]}})
    assert r.status == 201, r
    audits.append(r.json["audit_id"])
    assert r.json["share"]["protocols"] == "smb+nfs"
    assert "projects" in listed(s)
    assert put_get(s, "projects", CAROL)[2] == "hello over SMB\n"
    assert s.smbclient("projects", *BOB, "ls")[0] != 0
    assert "/srv/projects  192.0.2.0/24(" in exportfs_s(s)
    line = next(l for l in s.read(EXPORTS).decode().splitlines()
                if l.startswith("/srv/projects"))
    assert "192.0.2.0/24(ro,root_squash,sync" in line
    # 2. /srv/backup, a 500 GB Time Machine destination.
    r = create(s, {"name": "backup", "path": "/srv/backup",
                   "smb": {"read_only": False, "valid_users": ["alice"], "time_machine": True,
                           "time_machine_max_size": "500G"}})
    assert r.status == 201, r
    audits.append(r.json["audit_id"])
    rec = s.api("GET", "/api/v1/audit?module=shares&limit=1").json["records"][0]
    assert rec["operation"] == "shares:create" and rec["args"]["body"]["name"] == "backup"
    assert "backup" in listed(s)
    rc, log = s.smbclient("backup", *ALICE, "du")
    line = next(l for l in log.splitlines() if "blocks of size" in l).split()
    assert int(line[0]) * int(line[4].rstrip(".")) == 500 << 30, log
    assert "adVN=backup,adVF=0x82" in s.read(AVAHI).decode()
    # 3. A connected client: seen, then disconnected.
    connected = see_and_disconnect(s, audits)
    # Every step is in the audit.
    ids = [x["id"] for x in s.api("GET", "/api/v1/audit?module=shares&limit=100").json["records"]]
    assert all(a in ids for a in audits)
    # 4. Each change rolled back, the last first, each seen at once.
    rollback(s, audits[1])
    assert "backup" not in listed(s)
    assert s.read(AVAHI) is None or "adVN=backup" not in s.read(AVAHI).decode()
    rollback(s, audits[0])
    assert "projects" not in listed(s)
    assert "/srv/projects" not in exportfs_s(s)
    assert s.smbd_pid() == pid
    assert s.api("GET", "/api/v1/audit/verify").json["ok"] is True
    if not connected:
        pytest.xfail("step 3: the connections list and disconnect are not on main yet "
                     "(branch conn); the other steps passed")


# ---- last: the host -----------------------------------------------------------------------

def test_zz_api_smbclient_and_exportfs_agree(s):
    """After every test above: the shares the API says are served and
    listed are exactly those smbclient lists (homes aside: smbd shows it as
    the user's own name), the NFS exports exactly those exportfs shows, and
    testparm has nothing to say."""
    shares = s.api("GET", "/api/v1/shares").json["shares"]
    expected = {x["name"] for x in shares if x["smb"]["enabled"] and x["smb"]["browseable"]
                and x["name"] != "homes"}
    got = set(listed(s)) - {ALICE[0]}
    assert got == expected
    exported = {(x["path"], c["host"]) for x in shares if x["nfs"]["enabled"]
                for c in x["nfs"]["clients"]}
    # exportfs writes a path's unusual bytes as \ and three octal digits.
    table = {(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), l.split()[0]),
              l.split()[1].split("(")[0])
             for l in exportfs_s(s).splitlines() if l.strip()}
    assert table == exported
    rc, out, err = s.testparm()
    assert rc == 0 and "Unknown parameter" not in err, err


def test_zz_host_samba_and_nfs_files_untouched(smb_ns):
    """After every test above: the host's /etc/samba, /var/lib/samba,
    /var/cache/samba, /etc/exports(.d), /etc/avahi/services, /srv and
    /var/lib/nfs are as they were (smb_ns checks it again at teardown)."""
    after = host_samba_state()
    changed = sorted(p for p in set(smb_ns.host_before) | set(after)
                     if smb_ns.host_before.get(p) != after.get(p))
    assert not changed
