"""One grammar for query flags (docs/api.md): a flag is bare (`?dry_run`),
`1` or `true`; `0` or `false`; or absent.  Anything else, or the same flag
twice, is 400 and changes nothing.

Every route that takes dry_run is tried with every form against a daemon in
private namespaces over a scratch /etc: a dry run or a refusal must leave the
daemon's files and the account files exactly as they were; a form that means
"not a dry run" applies, and is then undone by rolling back its audit record.
"""
import pytest

from conftest import make_user

pytestmark = pytest.mark.namespaces

# A key is matched as libmicrohttpd matches it, whatever its case.
DRY = ["dry_run", "dry_run=1", "dry_run=true", "DRY_RUN=1", "Dry_Run"]
NOT_DRY = ["dry_run=0", "dry_run=false"]
REFUSED = ["dry_run=on", "dry_run=TRUE", "dry_run=y", "dry_run=yes", "dry_run=", "dry_run=2",
           "dry_run=0&dry_run=1", "dry_run=1&dry_run=1", "dry_run&dry_run", "dry_run=1&DRY_RUN=0"]


@pytest.fixture
def fd(ns_daemon):
    d = ns_daemon
    make_user(d, "flagprobe", None)
    assert d.https("POST", "/api/v1/groups", {"name": "flaggrp"}).status == 201
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_connections": 77})
    assert r.status == 200, r
    d.record = r.json["audit_id"]
    return d


def routes(d):
    """Every route that takes dry_run: (method, path, body)."""
    return [
        ("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_connections": 99}),
        ("PATCH", "/api/v1/modules/metrics/settings", {"interval": 3}),
        ("POST", f"/api/v1/audit/{d.record}/rollback", None),
        ("POST", "/api/v1/users", {"name": "flagnew", "create_home": False}),
        ("PATCH", "/api/v1/users/flagprobe", {"full_name": "Flag Probe"}),
        ("DELETE", "/api/v1/users/flagprobe", None),
        ("POST", "/api/v1/groups", {"name": "flagnew2"}),
        ("PATCH", "/api/v1/groups/flaggrp", {"add_members": ["flagprobe"]}),
        ("DELETE", "/api/v1/groups/flaggrp", None),
    ]


def snapshot(d):
    files = {}
    for p in (d.config, d.tmp / "metrics.conf", d.etc / "passwd", d.etc / "group", d.etc / "shadow",
              d.etc / "gshadow"):
        files[str(p)] = p.read_text() if p.exists() else None
    files["settings"] = d.https("GET", "/api/v1/modules/stewardd/settings").json
    files["interval"] = d.https("GET", "/api/v1/modules/metrics").json.get("interval")
    return files


def is_dry(r):
    """Settings and rollbacks say dry_run; a collection's dry run answers
    the plan without a result."""
    return r.json.get("dry_run", "result" not in r.json) is True


def send(d, method, path, body, query):
    return d.https(method, f"{path}?{query}", body)


def newest_record(d):
    return d.https("GET", "/api/v1/audit?limit=1").json["records"][0]["id"]


def test_every_dry_run_route_with_every_form(fd):
    d = fd
    for method, path, body in routes(d):
        before = snapshot(d)
        for form in DRY:
            r = send(d, method, path, body, form)
            assert r.status == 200, (method, path, form, r)
            assert is_dry(r), (method, path, form, r)
            assert snapshot(d) == before, f"{method} {path}?{form} changed something"
        for form in REFUSED:
            r = send(d, method, path, body, form)
            assert r.status == 400, (method, path, form, r)
            assert r.json["error"]["field"] == "dry_run", r
            assert snapshot(d) == before, f"{method} {path}?{form} changed something"
        for form in NOT_DRY:
            r = send(d, method, path, body, form)
            assert r.status in (200, 201), (method, path, form, r)
            assert snapshot(d) != before, f"{method} {path}?{form} did not apply"
            undo = d.https("POST", f"/api/v1/audit/{newest_record(d)}/rollback")
            assert undo.status == 200, undo
            assert snapshot(d) == before


def test_bare_dry_run_before_another_flag_is_a_dry_run(fd):
    """The report that started this: ?dry_run&remove_home=1 deleted."""
    d = fd
    before = snapshot(d)
    r = d.https("DELETE", "/api/v1/users/flagprobe?dry_run&remove_home=1")
    assert r.status == 200 and is_dry(r), r
    assert snapshot(d) == before


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/v1/users/flagprobe?dry_run=1&remove_home=on"),
    ("DELETE", "/api/v1/users/flagprobe?dry_run=1&remove_home=1&remove_home=0"),
    ("DELETE", "/api/v1/users/flagprobe?dry_run=1&kill_processes=yes"),
    ("DELETE", "/api/v1/groups/flaggrp?dry_run=1&force=y"),
    ("GET", "/api/v1/users/flagprobe?home_size=TRUE"),
    ("GET", "/api/v1/modules/stewardd?full=yes"),
    ("GET", "/api/v1/modules/stewardd?full=1&full=1"),
    ("GET", "/api/v1/whoami?csrf=on"),
    ("GET", "/api/v1/ports?all=yes"),
])
def test_other_flags_follow_the_same_grammar(fd, method, path):
    r = fd.https(method, path)
    assert r.status == 400, r
    flag = path.rsplit("&", 1)[-1].split("?")[-1].split("=")[0]
    assert r.json["error"]["field"] == flag, r


@pytest.mark.parametrize("path", [
    "/api/v1/modules/stewardd?full", "/api/v1/modules/stewardd?full=true", "/api/v1/ports?all",
    "/api/v1/users/flagprobe?home_size=1", "/api/v1/modules/stewardd?full=0",
])
def test_good_flags_are_accepted(fd, path):
    r = fd.https("GET", path)
    assert r.status == 200, r
