"""Collections and events described as data: what GET /api/v1/modules/{m}/schema publishes,
and the generic CLI built from it.  Reads only: nothing here changes the system."""
import http.server
import json
import os
import socketserver
import subprocess
import threading

import pytest

from conftest import STEWARD


def schema_of(d, module, collection):
    r = d.https("GET", f"/api/v1/modules/{module}/schema")
    assert r.status == 200
    [s] = [c for c in r.json["collection_schemas"] if c["name"] == collection]
    return s


def test_collections_publish_their_schemas(daemon):
    users = schema_of(daemon, "users", "users")
    assert users["item"] == "user" and users["id"] == "name"
    fields = {f["name"]: f for f in users["fields"]}
    assert fields["password"]["secret"] and fields["password"]["create"] and not fields["password"]["shown"]
    assert fields["uid"]["create"] and not fields["uid"]["modify"] and fields["uid"]["type"] == "integer"
    assert fields["new_name"]["modify"] and not fields["new_name"]["create"]
    assert [c["field"] for c in users["columns"]][:3] == ["name", "uid", "gid"]
    query = {q["name"]: q["type"] for q in users["query"]}
    assert query["remove_home"] == "boolean" and query["prefix"] == "string"
    verbs = {v["name"]: v for v in users["verbs"]}
    assert verbs["lock"]["op"] == "modify" and verbs["lock"]["body"] == {"locked": True}
    assert verbs["passwd"]["password"] and not verbs["delete"]["password"]
    groups = schema_of(daemon, "groups", "groups")
    members = {v["name"]: v for v in groups["verbs"]}["members"]
    assert members["bare_show"] and {o["field"] for o in members["options"]} >= {"add_members", "remove_members"}
    # each collection takes its own query arguments: groups have no home to measure
    assert "home_size" not in {q["name"] for q in groups["query"]}
    assert "home_size" in query
    assert {q["name"]: q.get("choices") for q in groups["query"]}["type"] == ["regular", "system", "all"]


def test_modules_declare_their_events(daemon):
    names = {}
    for m in daemon.https("GET", "/api/v1/modules").json["modules"]:
        for e in daemon.https("GET", f"/api/v1/modules/{m['name']}/schema").json["events"]:
            names[e["name"]] = (m["name"], e["min_role"])
    assert names == {"sample": ("metrics", "monitor"), "audit": ("stewardd", "monitor"),
                     "ports": ("ports", "monitor"), "services": ("services", "monitor"),
                     "logs": ("logs", "operator"), "share_connections": ("shares", "monitor"),
                     "processes": ("processes", "monitor"), "alert": ("alerts", "monitor")}


def test_cli_builds_verbs_from_the_schema(daemon):
    p = daemon.cli("users", "add", "--help", check=0)
    assert p.stdout.startswith("usage: steward users add NAME")
    assert "--comment TEXT" in p.stdout and "full_name" in p.stdout and "--password[=PW]" in p.stdout
    p = daemon.cli("groups", "members", "--help", check=0)
    assert "--add U,…" in p.stdout and "add_members" in p.stdout
    p = daemon.cli("groups", "frobnicate", check=2)
    assert "members" in p.stderr and "list" in p.stderr
    p = daemon.cli("nosuchcollection", "list", check=2)
    assert "unknown command" in p.stderr
    p = daemon.cli("groups", "members", "root", check=0)
    assert "groups:root:gid = 0" in p.stdout
    p = daemon.cli("groups", "list", "--prefix", "roo", check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["NAME", "GID", "MEMBERS", "LOCAL"] and lines[1].split()[:2] == ["root", "0"]


# ---- the generic verbs, against a server that describes a collection without any --------------

THINGS = {
    "name": "things", "summary": "", "settings": [], "commands": [], "actions": [], "events": [],
    "collections": [{"name": "things", "item": "thing"}],
    "collection_schemas": [{
        "name": "things", "item": "thing", "summary": "things", "id": "name", "verbs": [],
        "fields": [
            {"name": "name", "type": "string", "label": "Name", "create": True, "modify": False, "shown": True, "secret": False},
            {"name": "full_name", "type": "string", "label": "Full name", "create": True, "modify": True, "shown": True, "secret": False},
            {"name": "count", "type": "integer", "label": "Count", "create": True, "modify": True, "shown": True, "secret": False},
            {"name": "enabled", "type": "boolean", "label": "Enabled", "create": True, "modify": False, "shown": True, "secret": False},
            {"name": "tags", "type": "string_array", "label": "Tags", "create": False, "modify": True, "shown": True, "secret": False},
            {"name": "password", "type": "string", "label": "Password", "create": True, "modify": False, "shown": False, "secret": True},
        ],
        "query": [{"name": "kind", "type": "string", "description": "list: of this kind"},
                  {"name": "purge", "type": "boolean", "description": "delete: everything"}],
        "columns": [{"field": "name", "label": "Name"}, {"field": "full_name", "label": "Full name"},
                    {"field": "tags", "label": "Tags"}],
    }],
}


@pytest.fixture
def fake(tmp_path):
    """A stand-in server on a unix socket: it describes `things` and records every request."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def address_string(self):
            return "unix"

        def log_message(self, *a):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_one(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n)) if n else None
            seen.append((self.command, self.path, body))
            if self.path == "/api/v1/modules/things/schema":
                return self.answer(200, THINGS)
            if self.path.startswith("/api/v1/modules/"):
                return self.answer(404, {"error": {"code": "not_found", "message": "no"}})
            if self.path == "/api/v1/modules":
                return self.answer(200, {"modules": [{"name": "things"}]})
            if self.command == "GET" and self.path.startswith("/api/v1/things?"):
                return self.answer(200, {"things": [{"name": "a", "full_name": "A", "tags": ["x", "y"]}]})
            return self.answer(200, {"plan": {"commands": [["true", "--", "thing"]]}})

        do_GET = do_POST = do_PATCH = do_DELETE = handle_one

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    path = str(tmp_path / "fake.sock")
    srv = Server(path, Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield path, seen
    srv.shutdown()
    srv.server_close()


def run(path, *args, check):
    env = dict(os.environ, STEWARD_SOCKET=path, ASAN_OPTIONS="detect_leaks=1")
    env.pop("STEWARD_TOKEN", None)
    p = subprocess.run([str(STEWARD), *args], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == check, (args, p.stdout, p.stderr)
    return p


def test_generic_verbs_come_from_the_fields(fake):
    path, seen = fake
    run(path, "things", "add", "t1", "--full-name", "T One", "--count", "3", "--enabled",
        "--password=Pw-1", "--dry-run", check=0)
    method, target, body = seen[-1]
    assert (method, target) == ("POST", "/api/v1/things?dry_run=1")
    assert body == {"name": "t1", "full_name": "T One", "count": 3, "enabled": True, "password": "Pw-1"}
    run(path, "things", "modify", "t1", "--tags", "a,b", "--dry-run", check=0)
    assert seen[-1] == ("PATCH", "/api/v1/things/t1?dry_run=1", {"tags": ["a", "b"]})
    run(path, "things", "delete", "t1", "--purge", "--dry-run", check=0)
    assert seen[-1][:2] == ("DELETE", "/api/v1/things/t1?purge=1&dry_run=1")
    p = run(path, "things", "list", "--kind", "big", check=0)
    assert seen[-1][:2] == ("GET", "/api/v1/things?kind=big")
    assert p.stdout.split() == ["NAME", "FULL_NAME", "TAGS", "a", "A", "x,y"]
    # what a collection does not let one write is no option
    run(path, "things", "modify", "t1", "--enabled", check=2)
    run(path, "things", "add", "t2", "--tags", "a", check=2)
    run(path, "things", "add", "t2", "--count", "many", check=2)
