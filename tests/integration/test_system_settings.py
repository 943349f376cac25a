"""The system module's writable settings, hostname and timezone.

Each case runs a real daemon inside private mount and UTS namespaces, with a
scratch copy of /etc bound over /etc (nsroot.py): what the API answers, what
lands in the files, what the kernel of that UTS namespace reports, and
rollback from the audit log.  Every case also checks that the host's own host
name, /etc/hostname, /etc/timezone and /etc/localtime did not change.
"""
import os
import socket
import subprocess
from pathlib import Path

import pytest

from nsroot import ns_argv, scratch_etc

pytestmark = pytest.mark.namespaces

SETTINGS = "/api/v1/modules/system/settings"
ORIGINAL = "steward-original"


def host_state():
    def content(p):
        try:
            return Path(p).read_bytes()
        except FileNotFoundError:
            return None

    def link(p):
        try:
            return os.readlink(p)
        except (FileNotFoundError, OSError):
            return content(p)

    return (socket.gethostname(), content("/etc/hostname"), content("/etc/timezone"),
            link("/etc/localtime"))


@pytest.fixture
def ns(tmp_path, make_daemon):
    """A daemon in its own mount and UTS namespaces; `.etc` is its /etc as
    seen from the host.  The scratch /etc/hostname starts as ORIGINAL."""
    if os.geteuid() != 0:
        pytest.skip("needs root for mount and UTS namespaces")
    before = host_state()
    etc = scratch_etc(tmp_path)
    (etc / "hostname").write_text(ORIGINAL + "\n")
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv))
    d.etc = etc
    yield d
    assert host_state() == before, "the host's own files or host name changed"


def uts_hostname(d):
    """The host name in the daemon's UTS namespace."""
    p = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-u", "--", "hostname"],
                       capture_output=True, text=True, check=True, timeout=10)
    return p.stdout.strip()


def patch(d, body, dry_run=False):
    return d.https("PATCH", SETTINGS + ("?dry_run=1" if dry_run else ""), body)


def setting(d, key):
    r = d.https("GET", SETTINGS)
    assert r.status == 200, r
    return r.json[key]


def files_by_path(answer):
    return {f["path"]: f for f in answer["files"]}


def last_system_record(d):
    r = d.https("GET", "/api/v1/audit?module=system&limit=1")
    assert r.status == 200, r
    rec = r.json["records"][0]
    assert rec["module"] == "system" and rec["result"] == "ok", rec
    return rec


def other_zone(d):
    return "Asia/Tokyo" if setting(d, "timezone") != "Asia/Tokyo" else "Europe/Paris"


def test_hostname_change_writes_the_file_and_the_kernel(ns):
    r = patch(ns, {"hostname": "steward-a"})
    assert r.status == 200, r
    assert r.json["changed"] == ["hostname"]
    assert r.json["dry_run"] is False
    diff = files_by_path(r.json)["/etc/hostname"]["diff"]
    assert f"-{ORIGINAL}\n" in diff and "+steward-a\n" in diff

    assert (ns.etc / "hostname").read_text() == "steward-a\n"
    assert uts_hostname(ns) == "steward-a"
    assert setting(ns, "hostname") == "steward-a"


def test_read_only_views_follow_a_change(ns):
    assert patch(ns, {"hostname": "Steward-Mixed.example"}).status == 200
    full = ns.https("GET", "/api/v1/modules/system?full=1")
    assert full.status == 200, full
    assert full.json["hostname"] == "Steward-Mixed.example"  # case kept as given
    assert ns.https("GET", "/api/v1/modules/system").status == 200


def test_dry_run_changes_nothing_and_returns_the_diff(ns):
    uts = uts_hostname(ns)
    r = patch(ns, {"hostname": "steward-dry"}, dry_run=True)
    assert r.status == 200, r
    assert r.json["dry_run"] is True
    assert r.json["changed"] == ["hostname"]
    diff = files_by_path(r.json)["/etc/hostname"]["diff"]
    assert diff.startswith("---") and f"-{ORIGINAL}\n" in diff and "+steward-dry\n" in diff

    assert (ns.etc / "hostname").read_text() == ORIGINAL + "\n"
    assert uts_hostname(ns) == uts


def test_timezone_dry_run_changes_nothing(ns):
    zone = other_zone(ns)
    link = os.readlink(ns.etc / "localtime")
    r = patch(ns, {"timezone": zone}, dry_run=True)
    assert r.status == 200, r
    diff = files_by_path(r.json)["/etc/localtime"]["diff"]
    assert f"+-> /usr/share/zoneinfo/{zone}\n" in diff
    assert os.readlink(ns.etc / "localtime") == link


@pytest.mark.parametrize("name", [
    "", "-lead", "trail-", "a..b", ".lead", "trail.", "under_score", "sp ace", "a/b",
    "tab\there", "new\nline", "caf\u00e9", "x" * 64, ".".join(["a" * 32] * 2) + "x",
])
def test_invalid_hostnames_are_refused(ns, name):
    uts = uts_hostname(ns)
    r = patch(ns, {"hostname": name})
    assert r.status == 422, r
    assert r.json["error"]["code"] == "invalid_setting"
    assert r.json["error"]["field"] == "hostname"
    assert (ns.etc / "hostname").read_text() == ORIGINAL + "\n"
    assert uts_hostname(ns) == uts


def test_a_non_string_hostname_is_refused(ns):
    r = patch(ns, {"hostname": 5})
    assert r.status == 422, r
    assert (ns.etc / "hostname").read_text() == ORIGINAL + "\n"


@pytest.mark.parametrize("zone", [
    "", "/etc/passwd", "../../etc/passwd", "Europe/../Europe/Paris", ".hidden", "Europe//Paris",
    "Europe/Paris/", "Europe/Paris ", "zone.tab", "Europe/Nowhere", "Nowhere", "Europe",
    "localtime", "Z" * 129,
])
def test_invalid_timezones_are_refused(ns, zone):
    link = os.readlink(ns.etc / "localtime")
    tz = (ns.etc / "timezone").read_bytes()
    r = patch(ns, {"timezone": zone})
    assert r.status == 422, r
    assert r.json["error"]["code"] == "invalid_setting"
    assert r.json["error"]["field"] == "timezone"
    assert os.readlink(ns.etc / "localtime") == link
    assert (ns.etc / "timezone").read_bytes() == tz


def test_an_unknown_zone_is_explained(ns):
    r = patch(ns, {"timezone": "Europe/Atlantis"})
    assert r.status == 422, r
    message = r.json["error"]["message"]
    assert "Europe/Atlantis" in message and "unknown time zone" in message


def test_timezone_change_writes_timezone_and_links_localtime(ns):
    zone = other_zone(ns)
    r = patch(ns, {"timezone": zone})
    assert r.status == 200, r
    assert r.json["changed"] == ["timezone"]
    files = files_by_path(r.json)
    assert set(files) == {"/etc/timezone", "/etc/localtime"}
    assert f"+{zone}\n" in files["/etc/timezone"]["diff"]
    assert f"+-> /usr/share/zoneinfo/{zone}\n" in files["/etc/localtime"]["diff"]

    assert (ns.etc / "timezone").read_text() == zone + "\n"
    assert (ns.etc / "localtime").is_symlink()
    assert os.readlink(ns.etc / "localtime") == f"/usr/share/zoneinfo/{zone}"
    assert setting(ns, "timezone") == zone


def test_a_zone_that_is_a_link_inside_zoneinfo_is_accepted(ns):
    if not os.path.exists("/usr/share/zoneinfo/UTC"):
        pytest.skip("no /usr/share/zoneinfo/UTC")
    if setting(ns, "timezone") == "UTC":
        assert patch(ns, {"timezone": "Europe/Paris"}).status == 200
    r = patch(ns, {"timezone": "UTC"})
    assert r.status == 200, r
    assert os.readlink(ns.etc / "localtime") == "/usr/share/zoneinfo/UTC"
    assert (ns.etc / "timezone").read_text() == "UTC\n"


def test_rollback_restores_the_file_and_the_kernel_then_refuses_after_an_edit(ns):
    assert patch(ns, {"hostname": "steward-rollback"}).status == 200
    assert uts_hostname(ns) == "steward-rollback"
    rec = last_system_record(ns)
    assert "/etc/hostname" in {f["path"] for f in rec["files"]}

    r = ns.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 200, r
    assert r.json["rolled_back"] == rec["id"]
    assert "/etc/hostname" in files_by_path(r.json)
    assert (ns.etc / "hostname").read_text() == ORIGINAL + "\n"
    assert uts_hostname(ns) == ORIGINAL
    assert setting(ns, "hostname") == ORIGINAL

    # Someone edits the file by hand; rolling back again must not clobber it.
    (ns.etc / "hostname").write_text("edited-by-hand\n")
    r = ns.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 409, r
    assert r.json["error"]["code"] == "conflict"
    diffs = {f["path"]: f["diff"] for f in r.json["error"]["files"]}
    assert "+edited-by-hand\n" in diffs["/etc/hostname"]
    assert (ns.etc / "hostname").read_text() == "edited-by-hand\n"
    assert uts_hostname(ns) == ORIGINAL


def test_rollback_of_a_timezone_change_restores_both_files(ns):
    link = os.readlink(ns.etc / "localtime")
    tz = (ns.etc / "timezone").read_bytes()
    assert patch(ns, {"timezone": other_zone(ns)}).status == 200
    rec = last_system_record(ns)

    r = ns.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 200, r
    assert os.readlink(ns.etc / "localtime") == link
    assert (ns.etc / "timezone").read_bytes() == tz
