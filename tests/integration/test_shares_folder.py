"""A share's folder (the shares module's `folder` action and folder picker)
against a real daemon in private mount namespaces over a scratch /etc and a
scratch /srv: the owner, group, mode and ACLs changed as asked and seen by
stat and getfacl, dry runs that change nothing, every malformed argument
refused with its field named and the folder untouched, links never
followed, and the change audited and rolled back — refused when the folder
changed since."""
import os
import stat
import subprocess

import pytest

pytestmark = pytest.mark.namespaces


@pytest.fixture
def fd(daemon_base, make_daemon):
    """A daemon over a scratch /etc, /home and /srv; .srv is the scratch /srv
    as the host sees it."""
    from nsroot import ns_argv, scratch_etc
    ns = daemon_base / "ns"
    ns.mkdir()
    etc = scratch_etc(ns)
    srv = ns / "srv"
    srv.mkdir()
    os.chmod(srv, 0o755)
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, extra_binds=[(srv, "/srv")]))
    d.srv = srv
    return d


def share(d, name):
    """A share point of the folder /srv/NAME (made here), served over SMB."""
    folder = d.srv / name
    folder.mkdir()
    os.chmod(folder, 0o755)
    r = d.https("POST", "/api/v1/shares", {"name": name, "path": f"/srv/{name}",
                                           "smb": {"enabled": True, "read_only": False}})
    assert r.status in (200, 201), r
    return folder


def state(path):
    """Owner, group, mode and the whole ACL of a folder, as the host sees it."""
    st = os.lstat(path)
    acl = subprocess.run(["getfacl", "--absolute-names", "--omit-header", "--", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), acl)


def act(d, name, body, query=""):
    return d.https("POST", f"/api/v1/shares/{name}/folder{query}", body)


CHANGE = {"owner": "nobody", "group": "nogroup", "mode": "2770",
          "acl": "u::rwx,g::rwx,o::---,u:root:r-x,d:u::rwx,d:g::rwx,d:o::---"}


def test_change_is_made_audited_and_rolled_back(fd):
    d = fd
    folder = share(d, "projects")
    before = state(folder)

    # A dry run answers the plan (before → after) and changes nothing.
    r = act(d, "projects", CHANGE, "?dry_run=1")
    assert r.status == 200, r
    files = r.json["plan"]["files"]
    assert [f["path"] for f in files] == ["/srv/projects"]
    assert "+# owner: nobody" in files[0]["diff"] and "-# owner: root" in files[0]["diff"]
    assert "+user:root:r-x" in files[0]["diff"]
    assert "audit_id" not in r.json
    assert state(folder) == before

    r = act(d, "projects", CHANGE)
    assert r.status == 200, r
    uid, gid, mode, acl = state(folder)
    assert (uid, gid, mode) == (65534, 65534, 0o2770)
    assert "user:root:r-x" in acl and "default:group::rwx" in acl and "mask::rwx" in acl
    folder_json = r.json["share"]["folder"]
    assert folder_json["owner"] == "nobody" and folder_json["mode"] == "2770"
    assert "user:root:r-x" in folder_json["acl"]
    assert "default:user::rwx" in folder_json["default_acl"]

    rec = d.https("GET", f"/api/v1/audit/{r.json['audit_id']}").json
    assert rec["operation"] == "action:folder" and rec["module"] == "shares"
    assert [f["path"] for f in rec["files"]] == ["/srv/projects"]

    # The rollback's dry run changes nothing; the rollback puts it all back.
    rb = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback?dry_run=1")
    assert rb.status == 200, rb
    assert state(folder)[:3] == (65534, 65534, 0o2770)
    rb = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback")
    assert rb.status == 200, rb
    assert state(folder) == before


def test_rollback_refuses_a_folder_changed_since(fd):
    d = fd
    folder = share(d, "docs")
    r = act(d, "docs", {"mode": "0750"})
    assert r.status == 200, r
    os.chmod(folder, 0o700)
    rb = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback")
    assert rb.status == 409, rb
    conflicts = rb.json["error"]["files"]
    assert [c["path"] for c in conflicts] == ["/srv/docs"]
    assert "-# mode: 0750" in conflicts[0]["diff"] and "+# mode: 0700" in conflicts[0]["diff"]
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700


def test_one_member_at_a_time(fd):
    d = fd
    folder = share(d, "one")
    assert act(d, "one", {"group": "nogroup"}).status == 200
    assert os.lstat(folder).st_gid == 65534 and os.lstat(folder).st_uid == 0
    assert act(d, "one", {"mode": "1777"}).status == 200  # sticky: everyone may write
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o1777
    # Nothing to change: no file in the plan.
    r = act(d, "one", {"mode": "1777"})
    assert r.status == 200 and r.json["plan"]["files"] == []


@pytest.mark.parametrize("body, field", [
    ({"mode": "0777"}, "mode"),           # everyone may write, no sticky bit
    ({"mode": "8"}, "mode"),
    ({"mode": "77777"}, "mode"),
    ({"mode": "u+rwx"}, "mode"),
    ({"owner": "no-such-user"}, "owner"),
    ({"owner": "Root"}, "owner"),
    ({"owner": "0"}, "owner"),
    ({"group": "no-such-group"}, "group"),
    ({"group": "a;b"}, "group"),
    ({"acl": "u:nobody:rwx"}, "acl"),     # not a whole ACL
    ({"acl": "u::rwx,g::rwx,o::rwx"}, "acl"),
    ({"acl": "u::rwx,g::rwx,o::---,x:y:z"}, "acl"),
    ({"acl": "u::rwx,g::rwx,o::---,u:no-such-user:rwx"}, "acl"),
    ({"acl": "u::rwx,g::rwx,o::---,u::r"}, "acl"),
    ({"acl": "u::rwx,g::rwx,o::---,m:root:rwx"}, "acl"),
    ({"mode": 755}, "mode"),
    ({"bogus": "1"}, "bogus"),
])
def test_malformed_arguments_name_the_field_and_change_nothing(fd, body, field):
    d = fd
    folder = share(d, "bad")
    before = state(folder)
    r = act(d, "bad", body)
    assert r.status in (400, 422), r
    assert r.json["error"].get("field") == field, r
    assert state(folder) == before


def test_refusals_without_a_field(fd):
    d = fd
    folder = share(d, "plain")
    before = state(folder)
    assert act(d, "plain", {}).status == 400
    assert act(d, "nosuchshare", {"mode": "0755"}).status == 404
    assert state(folder) == before


def test_a_link_swapped_in_is_not_followed(fd):
    d = fd
    folder = share(d, "swap")
    elsewhere = d.srv / "elsewhere"
    elsewhere.mkdir()
    os.chmod(elsewhere, 0o755)
    before = state(elsewhere)
    folder.rmdir()
    os.symlink("elsewhere", folder)
    r = act(d, "swap", {"owner": "nobody", "mode": "0700"})
    assert r.status in (403, 404, 409), r
    assert state(elsewhere) == before


def test_folder_picker(fd):
    d = fd
    for name in ("b", "a", ".hidden"):
        (d.srv / name).mkdir()
    (d.srv / "file").write_text("x")
    os.symlink("a", d.srv / "link")
    os.chown(d.srv / "b", 65534, 65534)
    os.chmod(d.srv / "b", 0o2770)
    r = d.https("GET", "/api/v1/modules/shares/folders?under=/srv")
    assert r.status == 200, r
    assert r.json["folders"] == [
        {"path": "/srv/a", "owner": "root", "group": "root", "mode": "0755"},
        {"path": "/srv/b", "owner": "nobody", "group": "nogroup", "mode": "2770"},
    ]
    assert r.json["truncated"] is False
    assert d.https("GET", "/api/v1/modules/shares/folders?under=/srv/a").json["folders"] == []
    for under, status in (("/etc", 403), ("/", 403), ("/srv/../etc", 400), ("srv", 400),
                          ("/srv/", 400), ("/srv/none", 404), ("/srv/link", 409),
                          ("/srv/file", 409)):
        r = d.https("GET", f"/api/v1/modules/shares/folders?under={under}")
        assert r.status == status, (under, r)
        assert r.json["error"].get("field") == "under", (under, r)
    # Without `under`: the roots, where a picker starts.
    r = d.https("GET", "/api/v1/modules/shares/folders")
    assert r.status == 200, r
    assert r.json["folders"] == [{"path": "/srv", "owner": "root", "group": "root",
                                  "mode": "0755"}]


def test_cli(fd):
    d = fd
    folder = share(d, "cli")
    p = d.cli("shares", "folder", "cli", "--mode", "2750", "--group", "nogroup", "--dry-run",
              check=0)
    assert "+# mode: 2750" in p.stdout and "+# group: nogroup" in p.stdout, p.stdout
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o755
    d.cli("shares", "folder", "cli", "--mode", "2750", "--group", "nogroup", check=0)
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o2750 and os.lstat(folder).st_gid == 65534
    p = d.cli("shares", "folder", "cli", "--mode", "0777", check=1)
    assert "mode" in p.stderr
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o2750
