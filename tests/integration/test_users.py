"""The users and groups modules against a real daemon in private mount
namespaces over a scratch /etc and a scratch /home, with the real shadow
tools: every change cross-checked with getent and the files, logins through
PAM with the password that was set, malformed fields refused with the files
untouched, the guards, concurrency, audit and rollback."""
import concurrent.futures
import os
import subprocess
from pathlib import Path

import pytest

from conftest import make_user, ns_run

pytestmark = pytest.mark.namespaces

ACCOUNT_FILES = ("passwd", "shadow", "group", "gshadow")
KEY_ED = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
          " alice@example")


@pytest.fixture
def ud(daemon_base, make_daemon):
    """A daemon over a scratch /etc and /home; .etc and .home are them."""
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    home = daemon_base / "ns" / "home"
    home.mkdir()
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, home=home))
    d.etc = etc
    d.home = home
    return d


def getent(d, db, key):
    p = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "-u", "--", "getent", db, key],
                       capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def files(d):
    return {f: (d.etc / f).read_bytes() for f in ACCOUNT_FILES}


def shadow_field(d, name, i=1):
    for line in (d.etc / "shadow").read_text().splitlines():
        f = line.split(":")
        if f[0] == name:
            return f[i]
    return None


def create(d, body, token=True, query=""):
    return d.https("POST", "/api/v1/users" + query, body, token=token)


def login(d, user, password):
    return d.https("POST", "/api/v1/login", {"user": user, "password": password}, token=False)


# ---- create, show, list ---------------------------------------------------------

def test_create_with_generated_password_then_login(ud):
    d = ud
    make_user(d, "alice", "Alice-pw-1", ["sudo"])
    r = create(d, {"name": "bob", "full_name": "Bob Builder", "generate_password": True,
                   "groups": ["sudo"], "ssh_keys": [KEY_ED]})
    assert r.status == 201, r
    pw = r.json["password"]
    assert len(pw) >= 16 and r.json["audit_id"] > 0
    u = r.json["user"]
    assert u["name"] == "bob" and u["local"] is True and u["system"] is False
    assert u["full_name"] == "Bob Builder" and u["home"] == "/home/bob" and u["shell"] == "/bin/bash"
    assert u["groups"] == ["sudo"] and u["group"] == "bob" and u["password_state"] == "set"
    assert u["ssh_keys"] == 1
    ent = getent(d, "passwd", "bob").split(":")
    assert ent[0] == "bob" and int(ent[2]) == u["uid"] and ent[4] == "Bob Builder"
    assert "bob" in getent(d, "group", "sudo").split(":")[3].split(",")
    assert (d.home / "bob").is_dir()
    keys = d.home / "bob" / ".ssh" / "authorized_keys"
    assert keys.read_text() == KEY_ED + "\n"
    assert oct(keys.stat().st_mode & 0o777) == "0o600" and keys.stat().st_uid == u["uid"]
    # The password works through Steward's PAM login; never in the audit.
    r = login(d, "bob", pw)
    assert r.status == 200 and r.json["role"] == "admin", r
    audit = d.https("GET", "/api/v1/audit?module=users").json["records"]
    text = str(audit) + str(d.https("GET", f"/api/v1/audit/{audit[0]['id']}").json)
    assert pw not in text and "$y$" not in text and "$6$" not in text
    assert pw not in d.log_text()


def test_show_has_aging_login_and_home(ud):
    d = ud
    assert create(d, {"name": "carol", "password": "Carol-pw-1"}).status == 201
    r = d.https("GET", "/api/v1/users/carol?home_size=1")
    assert r.status == 200, r
    u = r.json
    assert set(u["aging"]) == {"last_change", "min_days", "max_days", "warn_days",
                               "inactive_days", "expires"}
    assert u["aging"]["last_change"] and u["aging"]["expires"] is None
    assert u["home_exists"] is True and isinstance(u["home_size"], int)
    assert "last_login" in u
    assert d.https("GET", "/api/v1/users/nobody-here").status == 404
    assert d.https("GET", "/api/v1/users/root").json["system"] is True


def test_list_filters_and_pages(ud):
    d = ud
    for n in ("pa", "pb", "pc", "qa"):
        assert create(d, {"name": n, "create_home": False}).status == 201
    r = d.https("GET", "/api/v1/users?type=regular&prefix=p")
    assert [u["name"] for u in r.json["users"]] == ["pa", "pb", "pc"] and "next" not in r.json
    r = d.https("GET", "/api/v1/users?type=regular&prefix=p&limit=2")
    assert [u["name"] for u in r.json["users"]] == ["pa", "pb"] and r.json["next"] == "pb"
    r = d.https("GET", f"/api/v1/users?type=regular&prefix=p&limit=2&cursor={r.json['next']}")
    assert [u["name"] for u in r.json["users"]] == ["pc"] and "next" not in r.json
    sysu = d.https("GET", "/api/v1/users?type=system&limit=20000").json["users"]
    assert "root" in [u["name"] for u in sysu] and all(u["system"] for u in sysu)
    everyone = d.https("GET", "/api/v1/users?type=all&limit=20000").json["users"]
    assert len(everyone) == len(subprocess.run(
        ["nsenter", "-t", str(d.proc.pid), "-m", "--", "getent", "passwd"],
        capture_output=True, text=True).stdout.splitlines())
    d.https("PATCH", "/api/v1/groups/users", {"add_members": ["qa"], "force": True})
    r = d.https("GET", "/api/v1/users?group=users&prefix=q")
    assert [u["name"] for u in r.json["users"]] == ["qa"]
    assert d.https("GET", "/api/v1/users?type=bogus").status == 400
    assert d.https("GET", "/api/v1/users?limit=0").status == 400


NSS_VIEW = """import grp, json, pwd
users, groups = {}, {}
for p in pwd.getpwall():
    users.setdefault(p.pw_name, [p.pw_uid, p.pw_gid, p.pw_gecos, p.pw_dir, p.pw_shell])
for g in grp.getgrall():
    groups.setdefault(g.gr_name, g.gr_mem)
for n, u in users.items():
    u.append(sorted(g for g, m in groups.items() if n in m))
print(json.dumps(users))
"""


def test_list_is_what_nss_gives(ud):
    """The list reads /etc/passwd and /etc/group itself when nsswitch.conf's
    lines are plain service names, and through NSS when they are not: the
    same entries as getpwent() and getgrent() either way, odd lines
    included."""
    import json
    import re
    d = ud
    with open(d.etc / "passwd", "a", encoding="utf-8") as f:
        f.write("#comment:x:1:1::/:/bin/sh\n  spaced:x:3001:3001:Spaced:/home/spaced:/bin/sh\n"
                "baduid:x:abc:1::/:/bin/sh\nbig:x:4294967296:1::/:/bin/sh\n"
                "colons:x:3002:3002:C:/home/c:/bin/sh:extra\n\n"
                "root:x:5:5:second root:/:/bin/sh\n"
                "longname_b:x:3005:3005::/:/bin/sh\nlongname_a:x:3006:3006::/:/bin/sh\n"
                "longname:x:3007:3007::/:/bin/sh\nlongnamf:x:3008:3008::/:/bin/sh\n"
                "longnam:x:3009:3009::/:/bin/sh\n"
                "esc:x:3010:3010:say \"hi\" \\ back\ttab \u00e9t\u00e9 and a long tail:/:/bin/sh\n")
    with open(d.etc / "group", "a") as f:
        f.write("oddg:x:3003: spaced , colons,,\n  lead:x:3004:colons\n")

    def expected():
        out = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "--", "/usr/bin/python3",
                              "-c", NSS_VIEW], capture_output=True, encoding="utf-8", check=True)
        return {n: tuple(u) for n, u in json.loads(out.stdout).items()}

    def listed():
        r = d.https("GET", "/api/v1/users?type=all&limit=20000")
        names = [u["name"] for u in r.json["users"]]
        assert names == sorted(names, key=lambda n: n.encode())  # by bytes, as strcmp
        return {u["name"]: (u["uid"], u["gid"], u["full_name"], u["home"], u["shell"],
                            sorted(u["groups"])) for u in r.json["users"]}

    conf = (d.etc / "nsswitch.conf").read_text()
    plain = expected()
    assert "spaced" in plain and "baduid" not in plain and plain["colons"][4] == "/bin/sh:extra"
    assert plain["colons"][5] == ["lead", "oddg"] and plain["root"][0] == 0
    assert plain["esc"][2] == 'say "hi" \\ back\ttab \u00e9t\u00e9 and a long tail'
    assert listed() == plain
    (d.etc / "nsswitch.conf").write_text(
        re.sub(r"^(passwd|group):(.*)$", r"\1:\2 [UNAVAIL=return]", conf, flags=re.M))
    assert expected() == plain and listed() == plain
    (d.etc / "nsswitch.conf").write_text(conf)


# ---- modify ----------------------------------------------------------------------

def test_modify_every_field(ud):
    d = ud
    assert create(d, {"name": "dave", "password": "Dave-pw-1"}).status == 201
    assert d.https("POST", "/api/v1/groups", {"name": "devs"}).status == 201
    r = d.https("PATCH", "/api/v1/users/dave", {"full_name": "Dave D", "shell": "/bin/sh",
                                                "add_groups": ["devs"], "add_ssh_keys": [KEY_ED]})
    assert r.status == 200, r
    assert r.json["user"]["full_name"] == "Dave D" and r.json["user"]["shell"] == "/bin/sh"
    assert r.json["user"]["groups"] == ["devs"] and r.json["user"]["ssh_keys"] == 1
    assert getent(d, "passwd", "dave").split(":")[6] == "/bin/sh"
    r = d.https("PATCH", "/api/v1/users/dave", {"remove_groups": ["devs"], "remove_ssh_keys": [KEY_ED]})
    assert r.json["user"]["groups"] == [] and r.json["user"]["ssh_keys"] == 0
    # lock / unlock
    assert d.https("PATCH", "/api/v1/users/dave", {"locked": True}).json["user"]["password_state"] == "locked"
    assert shadow_field(d, "dave").startswith("!")
    assert login(d, "dave", "Dave-pw-1").status == 401
    assert d.https("PATCH", "/api/v1/users/dave", {"locked": False}).json["user"]["password_state"] == "set"
    # password: set, generated, expired
    assert d.https("PATCH", "/api/v1/users/dave", {"password": "New-pw-22"}).status == 200
    r = d.https("PATCH", "/api/v1/users/dave", {"generate_password": True})
    assert len(r.json["password"]) >= 16
    r = d.https("PATCH", "/api/v1/users/dave", {"expire_password": True})
    assert r.json["user"]["password_state"] == "expired" and shadow_field(d, "dave", 2) == "0"
    r = d.https("PATCH", "/api/v1/users/dave", {"aging": {"max_days": 90, "warn_days": 7,
                                                          "expires": "2031-01-02"}})
    assert r.status == 200, r
    a = d.https("GET", "/api/v1/users/dave").json["aging"]
    assert a["max_days"] == 90 and a["warn_days"] == 7 and a["expires"] == "2031-01-02"
    # rename and move home
    r = d.https("PATCH", "/api/v1/users/dave", {"new_name": "david", "home": "/home/david",
                                                "move_home": True})
    assert r.status == 200, r
    assert getent(d, "passwd", "dave") is None and getent(d, "passwd", "david").split(":")[5] == "/home/david"
    assert (d.home / "david").is_dir() and not (d.home / "dave").exists()


def test_delete_keeps_or_removes_home(ud):
    d = ud
    for n in ("erin", "fred"):
        assert create(d, {"name": n}).status == 201
    r = d.https("DELETE", "/api/v1/users/erin")
    assert r.status == 200 and r.json["audit_id"] > 0
    assert getent(d, "passwd", "erin") is None and (d.home / "erin").is_dir()
    plan = d.https("DELETE", "/api/v1/users/fred?remove_home=1&dry_run=1")
    assert plan.status == 200
    assert any("cannot be undone" in w for w in plan.json["plan"]["warnings"])
    assert plan.json["plan"]["commands"] == [["userdel", "--remove", "--", "fred"]]
    assert getent(d, "passwd", "fred")
    assert d.https("DELETE", "/api/v1/users/fred?remove_home=1").status == 200
    assert not (d.home / "fred").exists()
    assert d.https("DELETE", "/api/v1/users/fred").status == 404


def test_a_home_is_its_own(ud):
    """A home that is a symbolic link, or another account's home (or inside
    or around one), is refused on create and on modify."""
    d = ud
    assert create(d, {"name": "hana"}).status == 201
    assert create(d, {"name": "hugo", "create_home": False}).status == 201
    assert create(d, {"name": "kai", "home": "/home/team/kai", "create_home": False}).status == 201
    (d.home / "elsewhere").mkdir()
    os.symlink("elsewhere", d.home / "hlink")
    os.symlink("elsewhere", d.home / "ivan")
    before = files(d)
    for body, status in [({"name": "ida", "home": "/home/hlink"}, 422),
                         ({"name": "ivan"}, 422),  # the default home, /home/ivan, is a link
                         ({"name": "ida", "home": "/home/hana"}, 409),
                         ({"name": "ida", "home": "/home/hugo/sub"}, 409),
                         ({"name": "ida", "home": "/home/team"}, 409)]:
        r = create(d, body)
        assert r.status == status and r.json["error"]["field"] == "home", (body, r)
    for body, status in [({"home": "/home/hlink", "move_home": True}, 422),
                         ({"home": "/home/hana"}, 409),
                         ({"home": "/home/team", "move_home": True}, 409)]:
        r = d.https("PATCH", "/api/v1/users/hugo", body)
        assert r.status == status and r.json["error"]["field"] == "home", (body, r)
    assert files(d) == before
    assert getent(d, "passwd", "hugo").split(":")[5] == "/home/hugo"
    # Its own home is no conflict.
    assert d.https("PATCH", "/api/v1/users/hana", {"home": "/home/hana", "full_name": "H"}).status == 200


def test_failed_home_removal_reports_the_deleted_account(ud):
    """userdel deletes the account and then fails to remove the home (a
    mount inside it): the answer and the audit record say the account is
    gone and the home kept."""
    d = ud
    assert create(d, {"name": "jill"}).status == 201
    (d.home / "jill" / "mnt").mkdir()
    ns_run(d, ["mount", "-t", "tmpfs", "tmpfs", "/home/jill/mnt"])
    try:
        r = d.https("DELETE", "/api/v1/users/jill?remove_home=1")
    finally:
        subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "--", "umount", "/home/jill/mnt"])
    assert getent(d, "passwd", "jill") is None
    assert (d.home / "jill").is_dir()
    assert r.status == 200, r
    assert r.json["deleted"] is True and r.json["home_removed"] is False, r
    assert any("/home/jill" in w for w in r.json["warnings"]), r
    rec = d.https("GET", f"/api/v1/audit/{r.json['audit_id']}").json
    assert rec["result"] == "ok", rec
    assert any("/home/jill" in w for w in rec["args"]["warnings"]), rec
    assert any(f["path"] == "/etc/passwd" for f in rec["files"])
    assert d.https("DELETE", "/api/v1/users/jill").status == 404


def test_delete_refuses_running_processes_unless_told(ud):
    d = ud
    # An uid no other test on this machine uses: processes are machine-wide.
    assert create(d, {"name": "gina", "uid": 45678, "create_home": False}).status == 201
    uid = int(getent(d, "passwd", "gina").split(":")[2])
    assert uid == 45678
    # sh leaves sleep behind, reparented to a reaper: a real process of gina's.
    started = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                              "sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"],
                             check=True, capture_output=True, text=True)
    pid = int(started.stdout)
    r = d.https("DELETE", "/api/v1/users/gina")
    assert r.status == 409 and r.json["error"]["code"] == "busy"
    assert r.json["error"]["field"] == "kill_processes"
    assert getent(d, "passwd", "gina")
    r = d.https("DELETE", "/api/v1/users/gina?kill_processes=1")
    assert r.status == 200, r
    assert getent(d, "passwd", "gina") is None
    def alive():
        try:
            return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
        except (FileNotFoundError, IndexError):
            return False
    assert not alive()


# ---- dry run --------------------------------------------------------------------

def test_dry_run_plans_and_changes_nothing(ud):
    d = ud
    before = files(d)
    r = create(d, {"name": "hank", "password": "Hank-pw-1", "groups": ["sudo"]}, query="?dry_run=1")
    assert r.status == 200, r
    plan = r.json["plan"]
    assert plan["commands"][0][0] == "useradd" and plan["commands"][0][-2:] == ["--", "hank"]
    assert ["chpasswd"] in plan["commands"]
    paths = {f["path"]: f["diff"] for f in plan["files"]}
    assert "+hank:x:" in paths["/etc/passwd"]
    assert "hank:[redacted]:" in paths["/etc/shadow"] and "$y$" not in paths["/etc/shadow"]
    assert "Hank-pw-1" not in r.body
    assert files(d) == before and not (d.home / "hank").exists()
    assert getent(d, "passwd", "hank") is None


# ---- bad input --------------------------------------------------------------------

BAD_CREATES = [
    ({"name": "has space"}, "name"), ({"name": "a..b"}, "name"), ({"name": "-lead"}, "name"),
    ({"name": "x" * 33}, "name"), ({"name": "Upper"}, "name"), ({"name": ""}, "name"),
    ({"name": "../etc"}, "name"), ({"name": 5}, "name"), ({}, "name"),
    ({"name": "ok1", "uid": 5}, "uid"), ({"name": "ok1", "uid": 99999999}, "uid"),
    ({"name": "ok1", "uid": "1001"}, "uid"),
    ({"name": "ok1", "shell": "/bin/nosuch"}, "shell"), ({"name": "ok1", "shell": "bash"}, "shell"),
    ({"name": "ok1", "full_name": "a:b"}, "full_name"), ({"name": "ok1", "full_name": "a\nb"}, "full_name"),
    ({"name": "ok1", "full_name": "x" * 300}, "full_name"),
    ({"name": "ok1", "home": "/etc/ok1"}, "home"), ({"name": "ok1", "home": "/home/../etc"}, "home"),
    ({"name": "ok1", "home": "relative"}, "home"), ({"name": "ok1", "home": "/home/a b"}, "home"),
    ({"name": "ok1", "group": "nosuchgroup"}, "group"), ({"name": "ok1", "groups": ["nosuch"]}, "groups"),
    ({"name": "ok1", "groups": "sudo"}, "groups"),
    ({"name": "ok1", "password": ""}, "password"), ({"name": "ok1", "password": "a\nb"}, "password"),
    ({"name": "ok1", "password": "x", "generate_password": True}, "password"),
    ({"name": "ok1", "ssh_keys": ["ssh-ed25519 notbase64!"]}, "ssh_keys"),
    ({"name": "ok1", "ssh_keys": ["ssh-foo AAAA"]}, "ssh_keys"),
    ({"name": "ok1", "ssh_keys": ['command="x" ' + KEY_ED]}, "ssh_keys"),
    ({"name": "ok1", "ssh_keys": ["ssh-rsa " + KEY_ED.split()[1]]}, "ssh_keys"),
    ({"name": "ok1", "ssh_keys": [KEY_ED + "\nssh-ed25519 AAAA"]}, "ssh_keys"),
    ({"name": "ok1", "bogus": 1}, "bogus"), ({"name": "root"}, "name"),
]


def test_malformed_fields_name_the_field_and_change_nothing(ud):
    d = ud
    before = files(d)
    for body, field in BAD_CREATES:
        r = create(d, body)
        assert r.status in (400, 409, 422), (body, r)
        assert r.json["error"]["field"] == field, (body, r.json)
    for body, field in [({"shell": "/nope"}, "shell"), ({"new_name": "Bad Name"}, "new_name"),
                        ({"aging": {"max_days": "x"}}, "aging"), ({"locked": "yes"}, "locked"),
                        ({"add_groups": ["nosuch"]}, "add_groups"), ({"uid": 5000}, "uid")]:
        r = d.https("PATCH", "/api/v1/users/root", dict(body, force=True))
        assert r.status in (400, 422), (body, r)
        assert r.json["error"]["field"] == field, (body, r.json)
    for body, field in [({"name": "Bad"}, "name"), ({"name": "g1", "gid": 1}, "gid"),
                        ({"name": "g1", "members": ["nosuch"]}, "members"), ({"name": "sudo"}, "name")]:
        r = d.https("POST", "/api/v1/groups", body)
        assert r.status in (400, 409, 422), (body, r)
        assert r.json["error"]["field"] == field, (body, r.json)
    assert files(d) == before


# ---- guards --------------------------------------------------------------------------

def test_system_accounts_need_force(ud):
    d = ud
    for path in ("/api/v1/users/root", "/api/v1/users/daemon"):
        r = d.https("PATCH", path, {"full_name": "x"})
        assert r.status == 409 and r.json["error"]["code"] == "system_account", r
    r = d.https("DELETE", "/api/v1/groups/sudo")
    assert r.status == 409 and r.json["error"]["code"] == "system_account"
    r = d.https("PATCH", "/api/v1/users/daemon", {"full_name": "the daemon", "force": True})
    assert r.status == 200 and getent(d, "passwd", "daemon").split(":")[4] == "the daemon"
    # The CLI's refusal names the option that passes, not the API's field.
    p = d.cli("groups", "members", "staff", "--add", "daemon", check=1)
    assert "(option --force)" in p.stderr and "field: force" not in p.stderr, p.stderr
    d.cli("groups", "members", "staff", "--add", "daemon", "--force", check=0)
    assert "daemon" in getent(d, "group", "staff").split(":")[3].split(",")


def admin_session(d, name, pw):
    make_user(d, name, pw, ["sudo"])
    r = login(d, name, pw)
    assert r.status == 200, r
    return r.json["token"]


def test_cannot_delete_own_account(ud):
    d = ud
    tok = admin_session(d, "alice", "Alice-pw-1")
    admin_session(d, "amy", "Amy-pw-1")
    r = d.https("DELETE", "/api/v1/users/alice", token=tok)
    assert r.status == 409 and r.json["error"]["code"] == "self", r
    assert getent(d, "passwd", "alice")


def test_cannot_lock_own_account(ud):
    d = ud
    tok = admin_session(d, "alice", "Alice-pw-1")
    admin_session(d, "amy", "Amy-pw-1")
    r = d.https("PATCH", "/api/v1/users/alice", {"locked": True}, token=tok)
    assert r.status == 409 and r.json["error"]["code"] == "self", r
    assert not shadow_field(d, "alice").startswith("!")


def test_cannot_expire_own_account_or_password(ud):
    """Expiring the account or the password is a lock-out by another name:
    refused for oneself whatever field or action leads there."""
    d = ud
    tok = admin_session(d, "alice", "Alice-pw-1")
    admin_session(d, "amy", "Amy-pw-1")
    before = files(d)
    for body in [{"expire_password": True},
                 {"aging": {"expires": "2000-01-01"}},
                 {"aging": {"last_change": "1970-01-01"}},
                 {"aging": {"last_change": "2000-01-01", "max_days": 10}}]:
        r = d.https("PATCH", "/api/v1/users/alice", body, token=tok)
        assert r.status == 409 and r.json["error"]["code"] == "self", (body, r)
    assert files(d) == before
    assert login(d, "alice", "Alice-pw-1").status == 200
    # A date still to come is not a lock-out today.
    r = d.https("PATCH", "/api/v1/users/alice", {"aging": {"expires": "2099-01-01"}}, token=tok)
    assert r.status == 200, r
    # Another admin may expire alice, while amy stays.
    amy = login(d, "amy", "Amy-pw-1").json["token"]
    r = d.https("PATCH", "/api/v1/users/alice", {"expire_password": True}, token=amy)
    assert r.status == 200 and r.json["user"]["password_state"] == "expired", r


def test_cannot_remove_own_admin_membership(ud):
    d = ud
    tok = admin_session(d, "alice", "Alice-pw-1")
    admin_session(d, "amy", "Amy-pw-1")
    r = d.https("PATCH", "/api/v1/users/alice", {"remove_groups": ["sudo"]}, token=tok)
    assert r.status == 409 and r.json["error"]["code"] == "self", r
    r = d.https("PATCH", "/api/v1/groups/sudo", {"remove_members": ["alice"], "force": True}, token=tok)
    assert r.status == 409 and r.json["error"]["code"] == "self", r
    assert "alice" in getent(d, "group", "sudo")
    # Another admin may.
    amy = login(d, "amy", "Amy-pw-1").json["token"]
    assert d.https("PATCH", "/api/v1/users/alice", {"remove_groups": ["sudo"]}, token=amy).status == 200


def test_the_last_admin_stays(ud):
    d = ud
    make_user(d, "alice", "Alice-pw-1", ["sudo"])
    # the bootstrap admin is not an account: alice is the last admin
    for method, path, body in [("DELETE", "/api/v1/users/alice", None),
                               ("PATCH", "/api/v1/users/alice", {"locked": True}),
                               ("PATCH", "/api/v1/users/alice", {"expire_password": True}),
                               ("PATCH", "/api/v1/users/alice", {"aging": {"expires": "2000-01-01"}}),
                               ("PATCH", "/api/v1/users/alice",
                                {"aging": {"last_change": "2000-01-01", "max_days": 30}}),
                               ("PATCH", "/api/v1/users/alice", {"groups": []}),
                               ("PATCH", "/api/v1/groups/sudo", {"members": [], "force": True})]:
        r = d.https(method, path, body)
        assert r.status == 409 and r.json["error"]["code"] == "last_admin", (method, path, r)
    assert getent(d, "passwd", "alice") and "alice" in getent(d, "group", "sudo")


def test_non_local_accounts_are_read_only(daemon_base, make_daemon):
    """Entries from another NSS source (libnss-extrausers standing in for
    LDAP or SSSD) are listed as not local and cannot be changed."""
    from nsroot import ns_argv, scratch_etc
    ns = daemon_base / "ns"
    ns.mkdir()
    etc = scratch_etc(ns)
    extra = ns / "extrausers"
    extra.mkdir()
    (extra / "passwd").write_text("dirk:x:20001:20001:Directory User:/home/dirk:/bin/sh\n")
    (extra / "group").write_text("dirgroup:x:20001:dirk\n")
    (extra / "shadow").write_text("")
    conf = (etc / "nsswitch.conf").read_text().splitlines()
    conf = [l + " extrausers" if l.startswith(("passwd:", "group:")) else l for l in conf]
    (etc / "nsswitch.conf").write_text("\n".join(conf) + "\n")
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, home=ns, extra_binds=[(extra, "/var/lib/extrausers")]))
    u = d.https("GET", "/api/v1/users/dirk")
    assert u.status == 200 and u.json["local"] is False and u.json["uid"] == 20001, u
    listed = {x["name"]: x for x in d.https("GET", "/api/v1/users?type=all&limit=20000").json["users"]}
    assert listed["dirk"]["local"] is False and listed["root"]["local"] is True
    assert d.https("GET", "/api/v1/groups/dirgroup").json["local"] is False
    for method, path, body in [("PATCH", "/api/v1/users/dirk", {"full_name": "x"}),
                               ("DELETE", "/api/v1/users/dirk", None),
                               ("PATCH", "/api/v1/groups/dirgroup", {"members": []}),
                               ("DELETE", "/api/v1/groups/dirgroup", None)]:
        r = d.https(method, path, body)
        assert r.status == 409 and r.json["error"]["code"] == "not_local", (method, path, r)


# ---- groups ------------------------------------------------------------------------------

def test_groups_crud(ud):
    d = ud
    for n in ("gu1", "gu2"):
        assert create(d, {"name": n, "create_home": False}).status == 201
    r = d.https("POST", "/api/v1/groups", {"name": "team", "members": ["gu1"]})
    assert r.status == 201 and r.json["group"]["members"] == ["gu1"], r
    assert getent(d, "group", "team").split(":")[3] == "gu1"
    r = d.https("PATCH", "/api/v1/groups/team", {"add_members": ["gu2"]})
    assert r.json["group"]["members"] == ["gu1", "gu2"]
    r = d.https("PATCH", "/api/v1/groups/team", {"remove_members": ["gu1"]})
    assert r.json["group"]["members"] == ["gu2"]
    r = d.https("PATCH", "/api/v1/groups/team", {"members": ["gu1", "gu2"], "new_name": "crew"})
    assert r.status == 200 and r.json["group"]["name"] == "crew"
    assert getent(d, "group", "team") is None and getent(d, "group", "crew").split(":")[3] == "gu1,gu2"
    g = d.https("GET", "/api/v1/groups/crew").json
    assert g["local"] is True and g["system"] is False
    names = [x["name"] for x in d.https("GET", "/api/v1/groups?prefix=cr").json["groups"]]
    assert names == ["crew"]
    assert d.https("POST", "/api/v1/groups", {"name": "crew"}).status == 409
    assert d.https("DELETE", "/api/v1/groups/crew").status == 200
    assert getent(d, "group", "crew") is None
    assert d.https("GET", "/api/v1/groups/crew").status == 404
    # a user's primary group cannot go
    r = d.https("DELETE", "/api/v1/groups/gu1")
    assert r.status == 409, r
    # a member list too long for one gpasswd argument is refused whole, not cut
    r = d.https("POST", "/api/v1/groups", {"name": "crowd", "members": ["gu1"] * 3001})
    assert r.status == 422 and r.json["error"]["field"] == "members", r
    assert getent(d, "group", "crowd") is None


# ---- concurrency -------------------------------------------------------------------------

def test_twenty_parallel_creates(ud):
    d = ud
    names = [f"par{i:02d}" for i in range(20)]
    assert d.token  # one session for all
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        results = list(ex.map(lambda n: create(d, {"name": n, "password": "Par-pw-1"}), names))
    assert all(r.status == 201 for r in results), [r for r in results if r.status != 201]
    for n in names:
        assert getent(d, "passwd", n)
    for tool in ("pwck", "grpck"):
        p = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "--", tool, "-r"],
                           capture_output=True, text=True)
        assert p.returncode in (0, 2) and "par" not in p.stdout + p.stderr, (tool, p.stdout, p.stderr)
    uids = [r.json["user"]["uid"] for r in results]
    assert len(set(uids)) == 20


# ---- audit and rollback, the whole story ----------------------------------------------------

def test_done_when_scenario(ud):
    d = ud
    make_user(d, "alice", "Alice-pw-1", ["sudo"])
    admin = login(d, "alice", "Alice-pw-1").json["token"]
    assert d.https("POST", "/api/v1/groups", {"name": "staff2"}, token=admin).status == 201
    r = create(d, {"name": "zoe", "generate_password": True}, token=admin)
    assert r.status == 201
    pw, created = r.json["password"], r.json["audit_id"]
    r = d.https("PATCH", "/api/v1/users/zoe", {"add_groups": ["staff2"]}, token=admin)
    grouped = r.json["audit_id"]
    assert "zoe" in getent(d, "group", "staff2").split(":")[3]
    ns_run(d, ["/usr/sbin/usermod", "-a", "-G", "sudo", "zoe"])  # so zoe has a role to log in
    r = login(d, "zoe", pw)
    assert r.status == 200 and r.json["user"] == "zoe"
    ns_run(d, ["/usr/bin/gpasswd", "-d", "zoe", "sudo"])
    r = d.https("PATCH", "/api/v1/users/zoe", {"locked": True}, token=admin)
    locked = r.json["audit_id"]
    assert login(d, "zoe", pw).status == 401
    recs = {x["id"]: x for x in d.https("GET", "/api/v1/audit?module=users").json["records"]}
    assert recs[created]["operation"] == "users:create" and recs[created]["user"] == "alice"
    assert recs[grouped]["operation"] == "users:modify" and recs[locked]["operation"] == "users:modify"
    full = d.https("GET", f"/api/v1/audit/{locked}").json
    shadow = [f for f in full["files"] if f["path"] == "/etc/shadow"][0]
    assert "zoe:![redacted]:" in shadow["after"] and "$" not in shadow["after"].split("zoe:")[1].split("\n")[0]
    # Roll the group change back: only /etc/group and /etc/gshadow, which
    # still hold what it left; the lock (in /etc/shadow) stays.
    r = d.https("POST", f"/api/v1/audit/{grouped}/rollback?dry_run=1")
    assert r.status == 200 and {f["path"] for f in r.json["files"]} == {"/etc/group", "/etc/gshadow"}
    r = d.https("POST", f"/api/v1/audit/{grouped}/rollback")
    assert r.status == 200, r
    assert "zoe" not in getent(d, "group", "staff2").split(":")[3]
    assert shadow_field(d, "zoe").startswith("!")
    assert d.https("GET", "/api/v1/audit/verify").json["ok"] is True
    back = d.https("GET", f"/api/v1/audit/{r.json['record']}").json
    assert back["rollback_of"] == grouped if "rollback_of" in back else True
    # The rollback itself can be rolled back.
    assert d.https("POST", f"/api/v1/audit/{r.json['record']}/rollback").status == 200
    assert "zoe" in getent(d, "group", "staff2").split(":")[3]
    # Unlocking by rollback: the password is intact.
    assert d.https("POST", f"/api/v1/audit/{locked}/rollback").status == 200
    ns_run(d, ["/usr/sbin/usermod", "-a", "-G", "sudo", "zoe"])
    assert login(d, "zoe", pw).status == 200
    # Files that moved on since a change: 409, nothing touched.
    before = files(d)
    r = d.https("POST", f"/api/v1/audit/{created}/rollback")
    assert r.status == 409 and r.json["error"]["code"] == "conflict", r
    assert "$" not in str(r.json)
    assert files(d) == before


def test_rollback_of_a_created_user(ud):
    d = ud
    r = create(d, {"name": "ron", "password": "Ron-pw-1"})
    assert r.status == 201
    plan = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback?dry_run=1")
    assert plan.status == 200
    assert getent(d, "passwd", "ron")
    assert d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback").status == 200
    assert getent(d, "passwd", "ron") is None and shadow_field(d, "ron") is None
    assert getent(d, "group", "ron") is None


def test_roles_on_collections(ud):
    d = ud
    make_user(d, "mona", "Mona-pw-1", ["steward-monitor"])
    mon = login(d, "mona", "Mona-pw-1").json["token"]
    assert d.https("GET", "/api/v1/users", token=mon).status == 200
    assert d.https("GET", "/api/v1/groups/sudo", token=mon).status == 200
    before = files(d)
    assert create(d, {"name": "x1"}, token=mon).status == 403
    assert d.https("DELETE", "/api/v1/users/mona", token=mon).status == 403
    assert d.https("POST", "/api/v1/groups", {"name": "g9"}, token=mon).status == 403
    assert files(d) == before
    assert d.https("GET", "/api/v1/nosuchcollection").status == 404
    r = d.https("PUT", "/api/v1/users", {})
    assert r.status == 405 and "POST" in r.headers.get("Allow", "")
    # the schema names the collections
    assert d.https("GET", "/api/v1/modules/users/schema").json["collections"] == [
        {"name": "users", "item": "user"}]


# ---- the CLI ----------------------------------------------------------------------------------

def test_cli_users_and_groups(ud):
    d = ud
    p = d.cli("users", "add", "cli1", "--comment", "Cli One", "--shell", "/bin/sh",
              "--generate-password", check=0)
    assert "users:cli1:full_name = \"Cli One\"" in p.stdout and "password: " in p.stdout
    pw = p.stdout.split("password: ", 1)[1].split()[0]
    ns_run(d, ["/usr/sbin/usermod", "-a", "-G", "sudo", "cli1"])
    assert login(d, "cli1", pw).status == 200
    # --password alone reads the password from stdin when it is not a terminal
    d.cli("users", "passwd", "cli1", "--password", stdin="Typed-pw-9\n", check=0)
    assert login(d, "cli1", "Typed-pw-9").status == 200
    d.cli("users", "add", "cli2", "--password=Given-pw-1", "--no-create-home", check=0)
    assert not (d.home / "cli2").exists()
    p = d.cli("users", "list", "--prefix", "cli", check=0)
    assert p.stdout.splitlines()[0].split()[:3] == ["NAME", "UID", "GID"]
    assert [l.split()[0] for l in p.stdout.splitlines()[1:]] == ["cli1", "cli2"]
    p = d.cli("--json", "users", "show", "cli2", check=0)
    assert '"password_state": "set"' in p.stdout
    d.cli("users", "lock", "cli2", check=0)
    assert shadow_field(d, "cli2").startswith("!")
    d.cli("users", "unlock", "cli2", check=0)
    d.cli("groups", "add", "cligrp", "--members", "cli1,cli2", check=0)
    assert getent(d, "group", "cligrp").split(":")[3] == "cli1,cli2"
    d.cli("groups", "members", "cligrp", "--remove", "cli1", check=0)
    assert "cli2" in d.cli("groups", "members", "cligrp", check=0).stdout
    d.cli("groups", "modify", "cligrp", "--new-name", "cligrp2", check=0)
    p = d.cli("users", "delete", "cli1", check=1)  # the last admin
    assert "no administrator" in p.stderr
    ns_run(d, ["/usr/bin/gpasswd", "-d", "cli1", "sudo"])
    before = files(d)
    p = d.cli("users", "delete", "cli1", "--remove", "--dry-run", check=0)
    assert "would run: userdel --remove -- cli1" in p.stdout and "cannot be undone" in p.stdout
    assert files(d) == before
    d.cli("users", "delete", "cli1", "--remove", check=0)
    assert getent(d, "passwd", "cli1") is None
    d.cli("groups", "delete", "cligrp2", check=0)
    p = d.cli("users", "add", "Bad Name", check=1)
    assert "name" in p.stderr
    assert d.cli("users", "frobnicate", "x", check=2)


def keygen(tmp, name, kind):
    """A fresh public key line and the fingerprint ssh-keygen -lf gives it."""
    key = tmp / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@laptop",
                    "-f", str(key)], check=True)
    line = (tmp / f"{name}.pub").read_text().strip()
    fp = subprocess.run(["ssh-keygen", "-lf", str(tmp / f"{name}.pub")], check=True,
                        capture_output=True, text=True).stdout.split()[1]
    return line, fp


def test_show_lists_the_keys_with_ssh_keygen_fingerprints(ud, tmp_path):
    d = ud
    ed, ed_fp = keygen(tmp_path, "bob", "ed25519")
    rsa, rsa_fp = keygen(tmp_path, "rob", "rsa")
    assert create(d, {"name": "kel", "ssh_keys": [ed, rsa]}).status == 201
    u = d.https("GET", "/api/v1/users/kel").json
    assert u["ssh_keys"] == 2
    assert u["ssh_key_list"] == [
        {"type": "ssh-ed25519", "comment": "bob@laptop", "fingerprint": ed_fp, "key": ed},
        {"type": "ssh-rsa", "comment": "rob@laptop", "fingerprint": rsa_fp, "key": rsa}]
    assert "ssh_key_list" not in d.https("GET", "/api/v1/users").json["users"][0]
    assert create(d, {"name": "nok"}).status == 201
    assert d.https("GET", "/api/v1/users/nok").json["ssh_key_list"] == []


def test_keys_are_removed_by_fingerprint(ud, tmp_path):
    d = ud
    ed, ed_fp = keygen(tmp_path, "bob", "ed25519")
    assert create(d, {"name": "kit", "ssh_keys": [ed, KEY_ED]}).status == 201
    keys = d.home / "kit" / ".ssh" / "authorized_keys"
    # An unknown fingerprint names the field and changes nothing.
    before, acct = keys.read_bytes(), files(d)
    unknown = "SHA256:" + "A" * 43
    r = d.https("PATCH", "/api/v1/users/kit", {"remove_ssh_keys": [ed_fp, unknown]})
    assert r.status == 422 and r.json["error"]["field"] == "remove_ssh_keys", r
    assert unknown in r.json["error"]["message"]
    r = d.https("PATCH", "/api/v1/users/kit", {"remove_ssh_keys": ["SHA256:short"]})
    assert r.status == 422 and r.json["error"]["field"] == "remove_ssh_keys", r
    assert keys.read_bytes() == before and files(d) == acct
    # A dry run plans the change; the write is audited and rolls back.
    r = d.https("PATCH", "/api/v1/users/kit?dry_run=1", {"remove_ssh_keys": [ed_fp]})
    assert r.status == 200, r
    assert keys.read_bytes() == before
    r = d.https("PATCH", "/api/v1/users/kit", {"remove_ssh_keys": [ed_fp]})
    assert r.status == 200 and r.json["user"]["ssh_keys"] == 1, r
    assert keys.read_text() == KEY_ED + "\n"
    u = d.https("GET", "/api/v1/users/kit").json
    assert [k["key"] for k in u["ssh_key_list"]] == [KEY_ED]
    assert d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback").status == 200
    assert keys.read_bytes() == before


def test_ssh_keys_are_audited_and_rolled_back_without_following_links(ud):
    d = ud
    assert create(d, {"name": "kay"}).status == 201
    r = d.https("PATCH", "/api/v1/users/kay", {"ssh_keys": [KEY_ED]})
    assert r.status == 200 and r.json["user"]["ssh_keys"] == 1
    rec = d.https("GET", f"/api/v1/audit/{r.json['audit_id']}").json
    keys = [f for f in rec["files"] if f["path"] == "/home/kay/.ssh/authorized_keys"]
    assert keys and keys[0]["after"] == KEY_ED + "\n"
    assert d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback").status == 200
    assert not (d.home / "kay" / ".ssh" / "authorized_keys").exists()
    # A link planted in the home is never followed.
    target = d.home / "elsewhere"
    target.mkdir()
    (d.home / "kay" / ".ssh").rmdir()
    os.symlink(target, d.home / "kay" / ".ssh")
    r = d.https("PATCH", "/api/v1/users/kay", {"ssh_keys": [KEY_ED]})
    assert r.status in (409, 500), r
    assert list(target.iterdir()) == []
    # Keys need a home.
    r = create(d, {"name": "kim", "create_home": False, "ssh_keys": [KEY_ED]})
    assert r.status == 422 and r.json["error"]["field"] == "ssh_keys"
    assert getent(d, "passwd", "kim") is None


def test_ssh_keys_are_not_read_through_a_hard_link(ud):
    d = ud
    assert create(d, {"name": "kay"}).status == 201
    # The user links some other file (here root's, which the sysctl
    # fs.protected_hardlinks would stop) in as their authorized_keys.
    secret = d.home / "root-only"
    secret.write_text("root:$6$not-for-kay$hash:19000:0:99999:7:::\n")
    secret.chmod(0o600)
    ssh = d.home / "kay" / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    os.link(secret, ssh / "authorized_keys")
    r = d.https("PATCH", "/api/v1/users/kay", {"add_ssh_keys": [KEY_ED]})
    assert r.status == 409 and r.json["error"]["field"] == "ssh_keys", r
    assert secret.stat().st_nlink == 2
    log = d.https("GET", "/api/v1/audit?limit=500").json
    assert "not-for-kay" not in str(log)
    u = d.https("GET", "/api/v1/users/kay").json
    assert "not-for-kay" not in str(u)
    assert u["ssh_key_list"] is None


def test_home_roots_is_a_setting(ud):
    d = ud
    (d.home / "staff").mkdir()
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"users:home_roots": ["/home/staff"]})
    assert r.status == 200, r
    r = create(d, {"name": "hr1", "home": "/home/hr1"})
    assert r.status == 422 and r.json["error"]["field"] == "home"
    assert "/home/staff" in r.json["error"]["message"]
    r = create(d, {"name": "hr2", "home": "/home/staff/hr2"})
    assert r.status == 201 and (d.home / "staff" / "hr2").is_dir()
    assert d.https("GET", "/api/v1/modules/users").json["home_roots"] == ["/home/staff"]
    r = create(d, {"name": "hr3"})  # the first root is the default
    assert r.status == 201 and r.json["user"]["home"] == "/home/staff/hr3"
    for bad in (["/"], ["relative"], ["/home/../etc"], ["/home/"]):
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"users:home_roots": bad})
        assert r.status == 422, (bad, r)
    assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"users:home_roots": []}).status == 200
    r = create(d, {"name": "hr4"})
    assert r.status == 422 and r.json["error"]["field"] == "home"


def test_a_home_inside_a_directory_another_account_controls_is_refused(ud):
    """A user could swap a component of such a path for a link between the
    check and useradd -m; only directories root alone can change will do."""
    d = ud
    assert create(d, {"name": "howner"}).status == 201
    r = create(d, {"name": "hinside", "home": "/home/howner/inside"})
    assert r.status == 422 and r.json["error"]["field"] == "home", r
    assert "other than root" in r.json["error"]["message"]
    assert getent(d, "passwd", "hinside") is None
    (d.home / "shared").mkdir()
    (d.home / "shared").chmod(0o777)
    r = create(d, {"name": "hshared", "home": "/home/shared/hshared"})
    assert r.status == 422 and r.json["error"]["field"] == "home", r
    (d.home / "shared").chmod(0o755)
    assert create(d, {"name": "hshared", "home": "/home/shared/hshared"}).status == 201


def test_rollback_refuses_a_tampered_image(ud):
    import sqlite3
    d = ud
    r = create(d, {"name": "tam", "password": "Tam-pw-1"})
    audit_id = r.json["audit_id"]
    rec = d.https("GET", f"/api/v1/audit/{audit_id}").json
    shadow = [f for f in rec["files"] if f["path"] == "/etc/shadow"][0]
    assert len(shadow["sha256_after"]) == 64 and "$" not in str(rec)
    db = sqlite3.connect(d.state / "steward.db")
    with db:
        db.execute("UPDATE audit_images SET before = replace(before, 'root:', 'root2:') "
                   "WHERE audit_id = ? AND path = '/etc/shadow'", (audit_id,))
    db.close()
    before = files(d)
    r = d.https("POST", f"/api/v1/audit/{audit_id}/rollback")
    assert r.status == 409 and "do not match" in r.json["error"]["message"], r
    assert files(d) == before
    # An image with no "before" would make the file absent (or empty): the
    # record says the file was there.
    db = sqlite3.connect(d.state / "steward.db")
    with db:
        db.execute("UPDATE audit_images SET before = NULL "
                   "WHERE audit_id = ? AND path = '/etc/shadow'", (audit_id,))
    db.close()
    r = d.https("POST", f"/api/v1/audit/{audit_id}/rollback")
    assert r.status == 409 and "do not match" in r.json["error"]["message"], r
    assert files(d) == before


def test_cli_password_prompt_on_a_terminal_does_not_echo(ud):
    import pty
    import select
    from conftest import STEWARD
    d = ud
    assert create(d, {"name": "tty1", "create_home": False}).status == 201
    ns_run(d, ["/usr/sbin/usermod", "-a", "-G", "sudo", "tty1"])
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["STEWARD_SOCKET"] = d.sock
        os.execv(str(STEWARD), [str(STEWARD), "users", "passwd", "tty1", "--password"])
    out = b""
    while b"New password for tty1" not in out:
        r, _, _ = select.select([fd], [], [], 20)
        assert r, out
        out += os.read(fd, 1024)
    os.write(fd, b"Tty-secret-42\n")
    while True:
        r, _, _ = select.select([fd], [], [], 20)
        if not r:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b"Tty-secret-42" not in out  # no echo
    assert login(d, "tty1", "Tty-secret-42").status == 200


def test_numeric_gid_names_the_group(ud):
    d = ud
    gid = int(getent(d, "group", "users").split(":")[2])
    r = create(d, {"name": "numg", "group": str(gid), "create_home": False})
    assert r.status == 201 and r.json["user"]["group"] == "users" and r.json["user"]["gid"] == gid
    p = d.cli("users", "modify", "numg", "--gid", "999999", check=1)
    assert "group" in p.stderr
