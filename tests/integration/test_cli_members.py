"""The CLI's options for members of object fields ("smb.read_only",
"nfs.clients"), built from the schema a real daemon publishes.

The body a write sends is what these tests check.  A recording front sits
on a unix socket between the CLI and the daemon: reads (the schema, the
module list) pass through to the daemon's socket unchanged; a write is
recorded and answered with a canned share, so the nested body is seen
exactly as the CLI sent it, whatever the module does with it.  The help
and the unknown-member refusal come from the daemon itself."""
import json
import os
import socketserver
import subprocess
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import STEWARD, UnixHTTPConnection

SHARE = {
    "name": "projects", "path": "/srv/projects", "comment": "team files",
    "source": "steward", "protocols": "smb+nfs",
    "smb": {"enabled": True, "read_only": False, "valid_users": ["alice", "@staff"],
            "guest_ok": False},
    "nfs": {"enabled": True,
            "clients": [{"host": "192.0.2.0/24", "options": ["ro", "root_squash", "sync"]}]},
    "warnings": [],
}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class RecordingFront:
    """Passes GETs to the daemon's socket, records writes."""

    def __init__(self, path, daemon_sock, answer, edit_schema=None):
        self.writes = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                conn = UnixHTTPConnection(daemon_sock)
                try:
                    conn.request("GET", self.path)
                    r = conn.getresponse()
                    data = r.read()
                    if edit_schema and self.path.endswith("/schema") and r.status == 200:
                        doc = json.loads(data)
                        for c in doc.get("collection_schemas", []):
                            edit_schema(c)
                        data = json.dumps(doc).encode()
                    self._send(r.status, data)
                finally:
                    conn.close()

            def _write(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n)) if n else None
                front.writes.append((self.command, self.path, body))
                self._send(200, json.dumps(answer))

            do_POST = do_PATCH = do_DELETE = _write

        self.server = _Server(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def front(daemon, tmp_path):
    path = str(tmp_path / "front.sock")
    f = RecordingFront(path, daemon.sock, {"share": SHARE, "audit_id": 7})
    f.sock = path
    yield f
    f.close()


def cli(front, *args, check=0):
    env = dict(os.environ, STEWARD_SOCKET=front.sock, ASAN_OPTIONS="detect_leaks=1")
    env.pop("STEWARD_TOKEN", None)
    p = subprocess.run([str(STEWARD), *args], capture_output=True, text=True, env=env, timeout=60)
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def test_the_schema_describes_the_members(daemon):
    s = daemon.unix("GET", "/api/v1/modules/shares/schema").json
    shares = next(c for c in s["collection_schemas"] if c["name"] == "shares")
    smb = next(f for f in shares["fields"] if f["name"] == "smb")
    assert {"read_only", "valid_users", "time_machine"} <= {m["name"] for m in smb["fields"]}
    assert next(m for m in smb["fields"] if m["name"] == "valid_users")["type"] == "string_array"
    nfs = next(f for f in shares["fields"] if f["name"] == "nfs")
    clients = next(m for m in nfs["fields"] if m["name"] == "clients")
    assert clients["type"] == "object_array"
    assert [m["name"] for m in clients["fields"]] == ["host", "options"]
    # A field without members carries none.
    assert "fields" not in next(f for f in shares["fields"] if f["name"] == "path")


def test_add_builds_the_nested_body(front):
    p = cli(front, "shares", "add", "projects", "--path", "/srv/projects",
            "--read-write", "--valid-users", "alice,@staff", "--no-guest", "--encrypt",
            "--case-sensitive", "yes", "--time-machine", "--time-machine-size", "500G",
            "--nfs", "--nfs-client", "192.0.2.0/24(ro,root_squash,sync)",
            "--nfs-client", "host.example(rw)")
    method, target, body = front.writes[-1]
    assert (method, target) == ("POST", "/api/v1/shares")
    assert body == {
        "name": "projects", "path": "/srv/projects",
        "smb": {"read_only": False, "valid_users": ["alice", "@staff"], "guest_ok": False,
                "encryption_required": True, "case_sensitive": "yes", "time_machine": True,
                "time_machine_max_size": "500G"},
        "nfs": {"enabled": True,
                "clients": ["192.0.2.0/24(ro,root_squash,sync)", "host.example(rw)"]},
    }
    assert "audit record 7" in p.stdout


def test_modify_sends_only_the_members_given(front):
    cli(front, "shares", "modify", "projects", "--read-only", "--dry-run")
    method, target, body = front.writes[-1]
    assert (method, target) == ("PATCH", "/api/v1/shares/projects?dry_run=1")
    assert body == {"smb": {"read_only": True}}


def test_show_prints_members_as_lines(front, daemon):
    """A share's members print as KEY lines under the share, lists of
    objects by index; no JSON."""
    p = cli(front, "shares", "add", "projects", "--path", "/srv/projects")
    lines = p.stdout.splitlines()
    assert "shares:projects:smb:read_only = no" in lines
    assert 'shares:projects:smb:valid_users:_array_index:1 = "@staff"' in lines
    assert 'shares:projects:nfs:clients:_array_index:0:host = "192.0.2.0/24"' in lines
    assert "{" not in p.stdout


def test_an_id_that_is_no_key_prints_as_lines(daemon, tmp_path):
    """A share named with a space ("Team files") prints under shares: with
    its name as a line, not as JSON."""
    share = dict(SHARE, name="Team files")
    path = str(tmp_path / "f.sock")
    f = RecordingFront(path, daemon.sock, {"share": share, "audit_id": 8})
    f.sock = path
    try:
        p = cli(f, "shares", "modify", "Team files", "--comment", "x")
    finally:
        f.close()
    assert f.writes[-1][1] == "/api/v1/shares/Team%20files"
    assert 'shares:name = "Team files"' in p.stdout.splitlines()
    assert "{" not in p.stdout and "JSON" not in p.stderr


def test_help_lists_members_with_their_descriptions(daemon):
    out = daemon.cli("shares", "add", "--help", check=0).stdout
    line = next(l for l in out.splitlines()[1:] if "--read-only" in l)
    assert "smb.read_only = true" in line and "clients may not write" in line
    line = next(l for l in out.splitlines()[1:] if "--nfs-client" in l)
    assert "nfs.clients (once per item)" in line and "who may mount it" in line
    line = next(l for l in out.splitlines()[1:] if "--valid-users" in l)
    assert "smb.valid_users (comma-separated)" in line


def test_a_member_option_without_its_value_sends_nothing(front):
    p = cli(front, "shares", "modify", "projects", "--case-sensitive", check=2)
    assert not front.writes
    assert "case-sensitive" in p.stderr


def test_generic_verbs_get_an_option_per_member(daemon, tmp_path):
    """A collection that declares no add verb gets --OBJECT-MEMBER options
    for its object fields' writable members (here the shares schema without
    its verbs)."""
    def no_verbs(c):
        c["verbs"] = []
    path = str(tmp_path / "g.sock")
    f = RecordingFront(path, daemon.sock, {"share": SHARE, "audit_id": 9}, edit_schema=no_verbs)
    f.sock = path
    try:
        out = cli(f, "shares", "add", "--help").stdout
        assert "--smb-read-only" in out and "--nfs-enabled" in out
        # Shown-only members (folder.owner) and lists of objects are not options.
        assert "--folder-owner" not in out and "--nfs-clients" not in out
        cli(f, "shares", "add", "x", "--path", "/srv/x", "--smb-read-only",
            "--smb-valid-users", "alice,bob", "--smb-case-sensitive", "no")
    finally:
        f.close()
    assert f.writes[-1][2] == {"name": "x", "path": "/srv/x",
                               "smb": {"read_only": True, "valid_users": ["alice", "bob"],
                                       "case_sensitive": "no"}}


@pytest.fixture
def shares_daemon(daemon_base, make_daemon):
    """A daemon over a scratch /etc and a scratch /srv with a folder to share."""
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    # Samba's configuration as Debian ships it, in short: one share of its own.
    (etc / "samba").mkdir(exist_ok=True)
    (etc / "samba" / "smb.conf").write_text(
        "[global]\n   workgroup = WORKGROUP\n\n"
        "[homes]\n   comment = Home Directories\n   browseable = no\n"
        "   read only = yes\n   create mask = 0700\n   valid users = %S\n")
    srv = daemon_base / "srv"
    (srv / "projects").mkdir(parents=True)
    return make_daemon(wrap=lambda argv: ns_argv(etc, argv, extra_binds=[(str(srv), "/srv")]))


def test_the_module_takes_what_the_options_build(shares_daemon):
    """End to end: the nested body the options build is what the shares
    module reads — the dry run's plan holds the SMB members and the NFS
    client; the share made shows them as lines."""
    d = shares_daemon
    args = ("shares", "add", "projects", "--path", "/srv/projects", "--read-write",
            "--valid-users", "root,@staff", "--nfs", "--nfs-client", "192.0.2.0/24(ro)")
    plan = d.cli(*args, "--dry-run", check=0).stdout
    assert "valid users = root, @staff" in plan or "valid users = root @staff" in plan, plan
    assert "read only = no" in plan, plan
    assert "/srv/projects 192.0.2.0/24(ro" in plan, plan
    d.cli(*args, check=0)
    out = d.cli("shares", "show", "projects", check=0).stdout.splitlines()
    assert "shares:projects:smb:read_only = no" in out
    assert 'shares:projects:smb:valid_users:_array_index:1 = "@staff"' in out
    assert 'shares:projects:nfs:clients:_array_index:0:host = "192.0.2.0/24"' in out
    p = d.cli("shares", "modify", "projects", "--nfs-client", "bad host(ro)", check=1)
    assert "option --nfs-client" in p.stderr, p.stderr


def test_show_prints_smb_conf_parameters_as_lines(shares_daemon):
    """A share of smb.conf carries Samba's own parameters ("create mask"):
    their names read with '_' for the space, still as lines, never JSON."""
    p = shares_daemon.cli("shares", "show", "homes", check=0)
    lines = p.stdout.splitlines()
    assert 'shares:homes:extra:create_mask = "0700"' in lines, p.stdout
    assert "{" not in p.stdout and "JSON" not in p.stderr
