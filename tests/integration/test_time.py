"""The time module: status, the NTP settings written to systemd-timesyncd's
drop-in, the sync_status command, the read-only timezones collection, and
who may do what.

Each case runs a real daemon in private mount and UTS namespaces over a
scratch copy of /etc (nsroot.py), so the drop-in lands in the scratch
/etc/systemd/timesyncd.conf.d; every case checks that the host's own
timesyncd configuration did not change.
"""
import datetime
import os
from pathlib import Path

import pytest

from nsroot import ns_argv, scratch_etc

pytestmark = pytest.mark.namespaces

MODULE = "/api/v1/modules/time"
SETTINGS = MODULE + "/settings"
DROPIN = "systemd/timesyncd.conf.d/50-steward.conf"
DEBIAN_POOL = [f"{i}.debian.pool.ntp.org" for i in range(4)]


def host_state():
    d = Path("/etc/systemd/timesyncd.conf.d")
    return (Path("/etc/systemd/timesyncd.conf").read_bytes(),
            sorted((p.name, p.read_bytes()) for p in d.iterdir()) if d.is_dir() else None)


def timesyncd_running():
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and (p / "comm").read_text() == "systemd-timesyn\n":
                return True
        except OSError:
            pass
    return False


@pytest.fixture
def ns(tmp_path, make_daemon):
    if os.geteuid() != 0:
        pytest.skip("needs root for mount namespaces")
    before = host_state()
    etc = scratch_etc(tmp_path)
    # An empty /run/systemd in the namespace: on a host booted with systemd
    # the daemon must not reload or restart the host's own timesyncd.
    binds = ()
    if Path("/run/systemd").is_dir():
        (tmp_path / "run-systemd").mkdir()
        binds = ((tmp_path / "run-systemd", "/run/systemd"),)
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, extra_binds=binds))
    d.etc = etc
    yield d
    assert host_state() == before, "the host's timesyncd configuration changed"


def token_for(d, role):
    r = d.https("POST", "/api/v1/tokens", {"name": f"time-{role}", "role": role})
    assert r.status == 200, r
    return r.json["token"]


def patch(d, body, dry_run=False, token=True):
    return d.https("PATCH", SETTINGS + ("?dry_run=1" if dry_run else ""), body, token=token)


def ntp(d):
    r = d.https("GET", SETTINGS)
    assert r.status == 200, r
    return r.json["ntp"]


def last_time_record(d):
    r = d.https("GET", "/api/v1/audit?module=time&limit=1")
    assert r.status == 200, r
    return r.json["records"][0]


# ---- status -------------------------------------------------------------------------


def test_status_reports_the_time_the_zone_the_clock_and_the_client(ns):
    r = ns.https("GET", MODULE)
    assert r.status == 200, r
    s = r.json
    assert s["state"] in ("running", "stopped", "unavailable")
    t = s["time"]
    utc = datetime.datetime.strptime(t["utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs((utc - datetime.datetime.utcnow()).total_seconds()) < 3600
    assert t["zone"] and t["abbreviation"]
    assert t["utc_offset"][0] in "+-" and len(t["utc_offset"]) == 6
    assert isinstance(t["utc_offset_seconds"], int)
    local = datetime.datetime.fromisoformat(t["local"].replace("Z", "+00:00"))
    assert local.utcoffset().total_seconds() == t["utc_offset_seconds"]
    clock = s["clock"]
    assert isinstance(clock["synchronised"], bool)
    assert isinstance(clock["estimated_error_us"], int)
    assert isinstance(clock["maximum_error_us"], int)
    assert clock["summary"].startswith("synchronised" if clock["synchronised"] else "not synchronised")
    c = s["ntp_client"]
    assert c["name"] == "systemd-timesyncd"
    assert c["installed"] == (Path("/lib/systemd/system/systemd-timesyncd.service").exists() or
                              Path("/usr/lib/systemd/systemd-timesyncd").exists())
    assert c["running"] == timesyncd_running()
    assert (c["pid"] is None) == (not c["running"])
    assert s["servers"] == ntp(ns)["servers"]
    assert s["fallback_servers"] == ntp(ns)["fallback_servers"]
    assert "adjtimex" not in s


def test_the_zone_follows_etc_localtime(ns):
    link = ns.etc / "localtime"
    link.unlink()
    link.symlink_to("/usr/share/zoneinfo/Asia/Tokyo")
    t = ns.https("GET", MODULE).json["time"]
    assert t["zone"] == "Asia/Tokyo"
    assert t["abbreviation"] == "JST" and t["utc_offset"] == "+09:00"
    assert t["local"].endswith("+09:00")


def test_fullstatus_adds_the_raw_adjtimex_figures_with_units(ns):
    r = ns.https("GET", MODULE + "?full=1")
    assert r.status == 200, r
    a = r.json["adjtimex"]
    assert a["state"] in ("TIME_OK", "TIME_INS", "TIME_DEL", "TIME_OOP", "TIME_WAIT", "TIME_ERROR")
    assert isinstance(a["status"], list)
    assert ("STA_UNSYNC" in a["status"]) == (not r.json["clock"]["synchronised"]) or \
        a["state"] == "TIME_ERROR"
    assert a["maxerror"]["unit"] == "us" and a["esterror"]["unit"] == "us"
    assert a["offset"]["unit"] in ("us", "ns")
    assert a["frequency"]["unit"] == "ppm" and a["tick"]["unit"] == "us"
    assert "/etc/systemd/timesyncd.conf" in r.json["config_files"]


def test_the_clock_route_and_the_sync_status_command(ns):
    r = ns.https("GET", "/api/v1/clock")
    assert r.status == 200, r
    assert set(r.json) == {"clock", "adjtimex"}
    r = ns.https("POST", MODULE + "/commands/sync_status", {})
    assert r.status == 200, r
    res = r.json["result"]
    assert res["summary"].startswith("synchronised, estimated error" if res["synchronised"]
                                     else "not synchronised (maximum error")


# ---- settings -----------------------------------------------------------------------


def test_settings_read_what_timesyncd_uses(ns):
    assert ntp(ns) == {"servers": [], "fallback_servers": DEBIAN_POOL, "root_distance_max_sec": 5,
                       "poll_interval_min_sec": 32, "poll_interval_max_sec": 2048}
    # Someone else's drop-in, read in name order after the main file.
    (ns.etc / "systemd/timesyncd.conf.d").mkdir(exist_ok=True)
    (ns.etc / "systemd/timesyncd.conf.d/10-site.conf").write_text(
        "[Time]\nNTP=a.example.org\nNTP=b.example.org\nFallbackNTP=\nPollIntervalMaxSec=1h\n")
    assert ntp(ns) == {"servers": ["a.example.org", "b.example.org"], "fallback_servers": [],
                       "root_distance_max_sec": 5, "poll_interval_min_sec": 32,
                       "poll_interval_max_sec": 3600}


def test_dry_run_changes_nothing_and_returns_the_diff(ns):
    r = patch(ns, {"ntp:servers": ["ntp.example.org", "192.0.2.1", "2001:db8::1"]}, dry_run=True)
    assert r.status == 200, r
    assert r.json["dry_run"] is True
    assert r.json["changed"] == ["ntp:servers"]
    [f] = r.json["files"]
    assert f["path"] == "/etc/" + DROPIN
    assert "+NTP=ntp.example.org 192.0.2.1 2001:db8::1\n" in f["diff"]
    assert not (ns.etc / DROPIN).exists()
    assert ntp(ns)["servers"] == []


def test_a_change_writes_the_drop_in_and_is_audited(ns):
    r = patch(ns, {"ntp": {"servers": ["ntp.example.org"], "poll_interval_min_sec": 64}})
    assert r.status == 200, r
    text = (ns.etc / DROPIN).read_text()
    assert text.startswith("# Managed by Steward")
    assert "[Time]\n" in text
    assert "NTP=\nNTP=ntp.example.org\n" in text  # a reset, then the list
    assert "PollIntervalMinSec=64\n" in text
    assert (ns.etc / DROPIN).stat().st_mode & 0o777 == 0o644
    got = ntp(ns)
    assert got["servers"] == ["ntp.example.org"] and got["poll_interval_min_sec"] == 64
    assert ns.https("GET", MODULE).json["servers"] == ["ntp.example.org"]
    if not timesyncd_running():
        assert any("not running" in w for w in r.json["warnings"]), r.json
    rec = last_time_record(ns)
    assert rec["operation"] == "settings" and rec["result"] == "ok"
    assert ["/etc/" + DROPIN] == [f["path"] for f in rec["files"]]
    # The same values again change nothing.
    r = patch(ns, {"ntp:servers": ["ntp.example.org"]})
    assert r.status == 200 and r.json["changed"] == [], r


def test_a_rewrite_keeps_what_it_does_not_manage(ns):
    (ns.etc / "systemd/timesyncd.conf.d").mkdir(exist_ok=True)
    (ns.etc / DROPIN).write_text("# local note\n[Time]\nConnectionRetrySec=10\n"
                                 "PollIntervalMaxSec=4096\nPollIntervalMaxSec=8192\n"
                                 "[Other]\nNTP=not-ours.example.org\n")
    r = patch(ns, {"ntp:poll_interval_max_sec": 1024, "ntp:fallback_servers": []})
    assert r.status == 200, r
    assert (ns.etc / DROPIN).read_text() == (
        "# local note\n[Time]\nConnectionRetrySec=10\nPollIntervalMaxSec=1024\n"
        "FallbackNTP=\n[Other]\nNTP=not-ours.example.org\n")
    assert ntp(ns)["fallback_servers"] == []


def test_rollback_restores_the_drop_in_then_refuses_after_an_edit(ns):
    assert patch(ns, {"ntp:servers": ["time.example.net"]}).status == 200
    rec = last_time_record(ns)
    r = ns.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 200, r
    assert not (ns.etc / DROPIN).exists()
    assert ntp(ns)["servers"] == []

    assert patch(ns, {"ntp:servers": ["time.example.net"]}).status == 200
    rec = last_time_record(ns)
    (ns.etc / DROPIN).write_text("[Time]\nNTP=edited.example.net\n")
    r = ns.https("POST", f"/api/v1/audit/{rec['id']}/rollback")
    assert r.status == 409, r
    assert r.json["error"]["code"] == "conflict"
    assert (ns.etc / DROPIN).read_text() == "[Time]\nNTP=edited.example.net\n"


@pytest.mark.parametrize("body, field", [
    ({"ntp:servers": ["two words"]}, "ntp:servers"),
    ({"ntp:servers": ["-leading.example.org"]}, "ntp:servers"),
    ({"ntp:servers": ["999.1.2.3"]}, "ntp:servers"),
    ({"ntp:servers": ["a#b"]}, "ntp:servers"),
    ({"ntp:servers": ["x\nPollIntervalMinSec=16"]}, "ntp:servers"),
    ({"ntp:servers": ["a" * 254]}, "ntp:servers"),
    ({"ntp:servers": ["fe80::1%eth0"]}, "ntp:servers"),
    ({"ntp:servers": [f"s{i}.example.org" for i in range(17)]}, "ntp:servers"),
    ({"ntp:servers": "ntp.example.org"}, "ntp:servers"),
    ({"ntp:fallback_servers": [""]}, "ntp:fallback_servers"),
    ({"ntp:root_distance_max_sec": 0}, "ntp:root_distance_max_sec"),
    ({"ntp:poll_interval_min_sec": 8}, "ntp:poll_interval_min_sec"),
    ({"ntp:poll_interval_max_sec": "2048"}, "ntp:poll_interval_max_sec"),
    ({"ntp:poll_interval_max_sec": 32}, "ntp:poll_interval_max_sec"),
    ({"ntp:poll_interval_min_sec": 4096}, "ntp:poll_interval_min_sec"),
    ({"ntp:bogus": 1}, "ntp:bogus"),
])
def test_bad_values_are_refused_with_their_field(ns, body, field):
    r = patch(ns, body)
    assert r.status == 422, r
    assert r.json["error"]["field"] == field
    assert not (ns.etc / DROPIN).exists()


# ---- the timezones collection -------------------------------------------------------


def test_timezones_lists_the_zones_with_their_offset_now(ns):
    r = ns.https("GET", "/api/v1/timezones")
    assert r.status == 200, r
    zones = {z["name"]: z for z in r.json["timezones"]}
    assert "Europe/Paris" in zones and "UTC" in zones and "America/Argentina/Buenos_Aires" in zones
    assert not any(n.startswith(("posix/", "right/")) or n in ("posixrules", "localtime")
                   for n in zones)
    paris = zones["Europe/Paris"]
    assert paris["region"] == "Europe" and paris["id"] == "Europe:Paris"
    assert (paris["abbreviation"], paris["utc_offset_now"]) in (("CET", "+01:00"), ("CEST", "+02:00"))
    assert zones["UTC"]["utc_offset_now"] == "+00:00" and zones["UTC"]["region"] == ""
    assert zones["Asia/Kolkata"]["utc_offset_now"] == "+05:30"
    assert zones["America/St_Johns"]["utc_offset_now"] in ("-03:30", "-02:30")
    assert list(zones) == sorted(zones)


def test_timezones_prefix_limit_and_show(ns):
    r = ns.https("GET", "/api/v1/timezones?prefix=Europe/&limit=3")
    assert r.status == 200, r
    names = [z["name"] for z in r.json["timezones"]]
    assert len(names) == 3 and all(n.startswith("Europe/") for n in names)
    r = ns.https("GET", "/api/v1/timezones/Asia:Tokyo")
    assert r.status == 200, r
    assert r.json["timezone"]["abbreviation"] == "JST"
    assert ns.https("GET", "/api/v1/timezones/Nowhere:Special").status == 404
    assert ns.https("GET", "/api/v1/timezones/Europe").status == 404  # a region, not a zone
    for q in ("prefix=../etc", "prefix=a%20b", "limit=0", "limit=x", "limit=99999"):
        r = ns.https("GET", "/api/v1/timezones?" + q)
        assert r.status == 400, (q, r)


def test_timezones_is_read_only(ns):
    for method, path in (("POST", "/api/v1/timezones"), ("PATCH", "/api/v1/timezones/UTC"),
                         ("DELETE", "/api/v1/timezones/UTC")):
        r = ns.https(method, path, {} if method != "DELETE" else None)
        assert r.status == 405, (method, r)
        assert r.json["error"]["code"] == "method_not_allowed"
        assert "GET" in r.headers.get("Allow", "") and method not in r.headers["Allow"]


# ---- roles --------------------------------------------------------------------------


def test_a_monitor_reads_everything_and_changes_nothing(ns):
    mon = token_for(ns, "monitor")
    for path in (MODULE, MODULE + "?full=1", SETTINGS, "/api/v1/clock", "/api/v1/timezones",
                 "/api/v1/timezones/UTC", MODULE + "/schema"):
        r = ns.https("GET", path, token=mon)
        assert r.status == 200, (path, r)
    assert ns.https("GET", MODULE, token=mon).json["clock"] is not None
    r = ns.https("POST", MODULE + "/commands/sync_status", {}, token=mon)
    assert r.status == 200, r
    for role in ("monitor", "operator"):
        r = patch(ns, {"ntp:servers": ["ntp.example.org"]}, token=token_for(ns, role))
        assert r.status == 403, (role, r)
    assert not (ns.etc / DROPIN).exists()


def test_a_later_drop_in_that_overrides_a_change_is_reported(ns):
    (ns.etc / "systemd/timesyncd.conf.d").mkdir(exist_ok=True)
    (ns.etc / "systemd/timesyncd.conf.d/60-site.conf").write_text("[Time]\nNTP=site.example.org\n")
    r = patch(ns, {"ntp:servers": ["ntp.example.org"], "ntp:root_distance_max_sec": 10})
    assert r.status == 200, r
    over = [w for w in r.json["warnings"] if "60-site.conf" in w]
    assert len(over) == 1 and "NTP=" in over[0] and "ntp:servers" in over[0], r.json
    # What timesyncd uses: ours resets the list, the later file adds its server.
    assert ntp(ns)["servers"] == ["ntp.example.org", "site.example.org"]
    assert not [w for w in r.json["warnings"] if "RootDistanceMaxSec" in w]
    assert ntp(ns)["root_distance_max_sec"] == 10


def test_the_cli_reads_sets_and_feeds_back_the_time_settings(ns):
    dump = ns.cli("settings", "time", check=0).stdout
    assert "time:ntp:root_distance_max_sec = 5\n" in dump
    assert '"0.debian.pool.ntp.org"' in dump
    ns.cli("settings", "time:ntp:poll_interval_max_sec", "=", "4096", check=0)
    assert ntp(ns)["poll_interval_max_sec"] == 4096
    assert "PollIntervalMaxSec=4096\n" in (ns.etc / DROPIN).read_text()
    ns.cli("settings", stdin=dump, check=0)  # what it printed, fed back
    assert ntp(ns)["poll_interval_max_sec"] == 2048
    p = ns.cli("settings", "time:ntp:poll_interval_min_sec", "=", "8", check=1)
    assert "poll_interval_min_sec" in p.stderr
    assert "synchronised" in ns.cli("command", "time:sync_status", check=0).stdout
    assert "systemd-timesyncd" in ns.cli("status", "time", check=0).stdout


def test_restart_is_the_operators_and_needs_systemd(ns):
    """Here (an empty /run/systemd in the namespace) there is no service
    manager to restart timesyncd with: an operator is told so, and the
    attempt is audited; a monitor may not try."""
    r = ns.https("POST", MODULE + "/restart", token=token_for(ns, "monitor"))
    assert r.status == 403, r
    r = ns.https("POST", MODULE + "/restart", token=token_for(ns, "operator"))
    assert r.status == 409, r
    assert r.json["error"]["code"] in ("no_service_manager", "not_installed")
    rec = last_time_record(ns)
    assert rec["operation"] == "restart" and rec["result"] == "error"
    assert ns.https("POST", MODULE + "/stop").status == 405


def test_the_cli_lists_and_shows_time_zones_from_the_schema(ns):
    """The generic collection verbs, built from the schema the server
    publishes: a table of the declared columns, an item as KEY = VALUE
    lines, and a write to the read-only collection refused."""
    out = ns.cli("timezones", "list", "--prefix", "Europe/", check=0).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["ZONE", "UTC_OFFSET", "ABBREVIATION", "SUMMER_TIME"]
    assert any(line.split()[0] == "Europe/Paris" for line in lines[1:])
    assert not any(line.startswith("Asia/") for line in lines)
    out = ns.cli("timezones", "show", "Europe:Paris", check=0).stdout
    assert 'timezones:Europe:Paris:name = "Europe/Paris"\n' in out
    assert "{" not in out
    # a collection without writes offers none: a usage error, before any request
    p = ns.cli("timezones", "add", "Mars/Olympus", check=2)
    assert 'unknown timezones command "add" (list or show)' in p.stderr
