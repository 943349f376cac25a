"""The HTTP API against a real daemon: TLS, authentication, every route of the
foundation, the error contract and the limits."""
import hashlib
import os
import signal
import socket
import ssl
import stat
import subprocess
import time

import pytest


def test_tls_handshake_and_fingerprint(daemon):
    ctx = daemon.ssl_context()
    with socket.create_connection(("127.0.0.1", daemon.port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() in ("TLSv1.2", "TLSv1.3")
            der = s.getpeercert(binary_form=True)
    assert daemon.fingerprint == "SHA256:" + hashlib.sha256(der).hexdigest()
    # The same digest openssl shows.
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", daemon.cert_path],
                         capture_output=True, text=True, check=True).stdout
    assert out.split("=", 1)[1].strip().replace(":", "").lower() == daemon.fingerprint[7:]


def test_certificate_names_and_key(daemon):
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", daemon.cert_path],
                          capture_output=True, text=True, check=True).stdout
    assert "ASN1 OID: prime256v1" in text
    assert "DNS:localhost" in text
    assert "IP Address:127.0.0.1" in text
    assert "IP Address:0:0:0:0:0:0:0:1" in text
    assert f"DNS:{socket.gethostname()}" in text
    assert stat.S_IMODE(os.stat(daemon.tls_dir / "key.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(daemon.state / "bootstrap-token").st_mode) == 0o600


def test_old_tls_versions_refused(daemon):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    except ValueError:
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", daemon.port)) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_identity_is_kept_across_restarts(make_daemon):
    d = make_daemon()
    fp, token = d.fingerprint, d.token
    d.check_clean_exit()
    d.proc = None
    d.start()
    assert d.token == token
    assert d.log_text().count(f"fingerprint {fp}") == 2  # logged at each start, the same
    assert d.https("GET", "/api/v1/whoami").status == 200


def test_tcp_requires_a_token(daemon):
    r = daemon.https("GET", "/api/v1/modules", token=False)
    assert r.status == 401
    assert r.json["error"]["code"] == "unauthenticated"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = daemon.https("GET", "/api/v1/modules", token="0" * 64)
    assert r.status == 401
    r = daemon.https("GET", "/api/v1/modules", headers={"Authorization": "Basic cm9vdDpyb290"}, token=False)
    assert r.status == 401
    assert "authentication failed from 127.0.0.1" in daemon.log_text()
    # Every route, not just one.
    for path in ("/api/v1/whoami", "/api/v1/modules/system", "/api/v1/modules/stewardd/settings",
                 "/api/v1/nothing-here"):
        assert daemon.https("GET", path, token=False).status == 401


def test_whoami(daemon):
    r = daemon.https("GET", "/api/v1/whoami")
    assert r.status == 200
    assert r.json["role"] == "admin"
    assert r.json["auth"] == "token"
    r = daemon.unix("GET", "/api/v1/whoami")
    assert r.json["user"] == "root"
    assert r.json["auth"] == "peer"
    assert r.json["source"].startswith("unix:uid=0")


def test_unix_socket_refuses_non_root(make_daemon):
    import tempfile
    open_dir = tempfile.mkdtemp(prefix="steward-sock-")
    os.chmod(open_dir, 0o755)  # pytest's own tmp dirs are 0700
    daemon = make_daemon(start=False)
    daemon.sock = os.path.join(open_dir, "stewardd.sock")
    daemon.args[daemon.args.index("--socket") + 1] = daemon.sock
    daemon.start()
    code = ("import http.client,socket,sys\n"
            "c=http.client.HTTPConnection('x')\n"
            "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); c.sock=s\n"
            "c.request('GET','/api/v1/whoami'); r=c.getresponse(); print(r.status); print(r.read().decode())\n")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "/usr/bin/python3", "-c", code, daemon.sock], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    status, body = p.stdout.split("\n", 1)
    assert status == "403"
    assert "forbidden" in body
    assert stat.S_IMODE(os.stat(daemon.sock).st_mode) == 0o666


def test_security_headers(daemon):
    r = daemon.https("GET", "/api/v1/whoami")
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


def test_modules_list(daemon):
    r = daemon.https("GET", "/api/v1/modules")
    assert r.status == 200
    names = [m["name"] for m in r.json["modules"]]
    assert "system" in names and "stewardd" in names
    for m in r.json["modules"]:
        assert m["state"] in ("running", "stopped", "degraded", "unavailable", "n/a")
        assert m["summary"]


def test_module_status_and_full(daemon):
    r = daemon.https("GET", "/api/v1/modules/stewardd")
    assert r.status == 200 and r.json["state"] == "running"
    assert "listeners" not in r.json
    r = daemon.https("GET", "/api/v1/modules/stewardd?full=1")
    assert r.json["tls"]["fingerprint"] == daemon.fingerprint
    assert {l["address"] for l in r.json["listeners"]} == {f"127.0.0.1:{daemon.port}", daemon.sock}
    assert r.json["settings"]["limits"]["max_connections"] == 256


def test_unknown_module(daemon):
    for path in ("/api/v1/modules/nope", "/api/v1/modules/nope/schema", "/api/v1/modules/nope/settings"):
        r = daemon.https("GET", path)
        assert r.status == 404, path
        assert r.json["error"]["code"] == "unknown_module"


def test_schema(daemon):
    r = daemon.https("GET", "/api/v1/modules/stewardd/schema")
    assert r.status == 200
    keys = {s["key"]: s for s in r.json["settings"]}
    assert keys["limits:max_connections"]["type"] == "integer"
    assert keys["limits:max_connections"]["min"] == 1
    assert keys["log_level"]["choices"] == ["error", "warning", "notice", "info", "debug"]
    assert {c["name"] for c in r.json["commands"]} >= {"reload", "check_config"}


def test_schema_console_hints(daemon):
    """What the console builds itself from: a module's own console page
    (navigation title, overview findings), and a string setting's usual
    values from a collection (the time zone picker)."""
    schema = {m["name"]: daemon.https("GET", f"/api/v1/modules/{m['name']}/schema").json
              for m in daemon.https("GET", "/api/v1/modules").json["modules"]}
    assert schema["ports"]["console"] == {"title": "Ports", "overview": True}
    assert schema["users"]["console"] == {"title": "Users & groups", "overview": False}
    assert "console" not in schema["system"] and "console" not in schema["stewardd"]
    tz = next(s for s in schema["system"]["settings"] if s["key"] == "timezone")
    assert tz["choices_from"] == "timezones"
    assert "timezones" in {c["name"] for m in schema.values() for c in m["collections"]}
    assert all("choices_from" not in s for s in schema["stewardd"]["settings"])


def test_settings_get_and_subtree(daemon):
    r = daemon.https("GET", "/api/v1/modules/stewardd/settings")
    assert r.json["log_level"] == "info"
    assert r.json["limits"]["max_body_bytes"] == 1048576
    r = daemon.https("GET", "/api/v1/modules/stewardd/settings?key=limits:max_connections")
    assert r.json == {"limits": {"max_connections": 256}}
    r = daemon.https("GET", "/api/v1/modules/stewardd/settings?key=limits")
    assert set(r.json["limits"]) >= {"max_connections", "max_body_bytes", "idle_timeout"}
    r = daemon.https("GET", "/api/v1/modules/stewardd/settings?key=limits:nope")
    assert r.status == 404 and r.json["error"]["code"] == "unknown_setting"
    r = daemon.https("GET", "/api/v1/modules/stewardd/settings?key=a%20b")
    assert r.status == 400


def test_settings_patch_writes_config_atomically(daemon):
    daemon.config.write_text("# kept comment\nlimits:idle_timeout = 20\n")
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings",
                     {"limits": {"max_connections": 300}, "limits:idle_timeout": 30})
    assert r.status == 200, r
    assert sorted(r.json["changed"]) == ["limits:idle_timeout", "limits:max_connections"]
    assert r.json["dry_run"] is False
    diff = r.json["files"][0]["diff"]
    assert "-limits:idle_timeout = 20" in diff and "+limits:idle_timeout = 30" in diff
    assert daemon.config.read_text() == "# kept comment\nlimits:idle_timeout = 30\nlimits:max_connections = 300\n"
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["limits"]["max_connections"] == 300
    leftovers = [p.name for p in daemon.config.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_dry_run_changes_nothing(daemon):
    daemon.config.write_text("log_level = \"info\"\n")
    before = daemon.config.read_bytes()
    mtime = daemon.config.stat().st_mtime_ns
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings?dry_run=1", {"log_level": "debug"})
    assert r.status == 200
    assert r.json["dry_run"] is True
    assert r.json["files"][0]["diff"].endswith('-log_level = "info"\n+log_level = "debug"\n')
    assert daemon.config.read_bytes() == before
    assert daemon.config.stat().st_mtime_ns == mtime
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["log_level"] == "info"


def test_patch_unchanged_is_a_noop(daemon):
    current = daemon.https("GET", "/api/v1/modules/stewardd/settings").json
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", current)
    assert r.status == 200
    assert r.json["changed"] == [] and r.json["files"] == []
    assert not daemon.config.exists()


@pytest.mark.parametrize("body,status,code", [
    ({"limits": {"max_connections": 0}}, 422, "invalid_setting"),
    ({"limits": {"max_connections": "many"}}, 422, "invalid_setting"),
    ({"limits": {"max_connections": 1.5}}, 422, "invalid_setting"),
    ({"log_level": "loud"}, 422, "invalid_setting"),
    ({"log_level": True}, 422, "invalid_setting"),
    ({"nope": 1}, 422, "unknown_setting"),
    ({"limits": 5}, 422, "invalid_setting"),
    ({"limits": {"max_connections": 10}, "limits:max_connections": 11}, 422, "invalid_setting"),
])
def test_patch_rejections_change_nothing(daemon, body, status, code):
    daemon.config.write_text("limits:idle_timeout = 20\n")
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", body)
    assert r.status == status, r
    assert r.json["error"]["code"] == code
    assert r.json["error"]["message"]
    assert daemon.config.read_text() == "limits:idle_timeout = 20\n"


def test_patch_mixed_valid_and_invalid_applies_nothing(daemon):
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings",
                     {"log_level": "debug", "limits:max_body_bytes": 1})
    assert r.status == 422
    assert r.json["error"]["field"] == "limits:max_body_bytes"
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["log_level"] == "info"


def test_system_settings_round_trip_and_dry_run(daemon):
    # Writes to the system module are tested in namespaces
    # (test_system_settings.py); here only what leaves the host untouched.
    current = daemon.https("GET", "/api/v1/modules/system/settings").json
    assert "hostname" in current and "timezone" in current
    r = daemon.https("PATCH", "/api/v1/modules/system/settings", current)
    assert r.status == 200 and r.json["changed"] == []
    r = daemon.https("PATCH", "/api/v1/modules/system/settings?dry_run=1", {"hostname": "elsewhere"})
    assert r.status == 200 and r.json["dry_run"] is True
    assert "+elsewhere" in r.json["files"][0]["diff"]
    assert socket.gethostname() == current["hostname"]
    r = daemon.https("PATCH", "/api/v1/modules/system/settings?dry_run=1", {"hostname": "bad_name!"})
    assert r.status == 422


def test_bad_bodies(daemon):
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", raw=b"{not json",
                     headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.json["error"]["code"] == "invalid_json"
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", raw=b"[1,2]",
                     headers={"Content-Type": "application/json"})
    assert r.status == 400
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", raw=b'{"a":"\xff"}',
                     headers={"Content-Type": "application/json"})
    assert r.status == 400
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", raw=b'{"log_level":"debug"}',
                     headers={"Content-Type": "text/plain"})
    assert r.status == 415
    deep = b"[" * 40 + b"]" * 40
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", raw=b'{"a":' + deep + b"}",
                     headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.json["error"]["code"] == "json_too_deep"


def test_methods_and_paths(daemon):
    r = daemon.https("DELETE", "/api/v1/modules")
    assert r.status == 405 and "GET" in r.headers["Allow"]
    r = daemon.https("POST", "/api/v1/modules/stewardd/settings")
    assert r.status == 405 and "PATCH" in r.headers["Allow"]
    assert daemon.https("GET", "/api/v1/modules/stewardd/commands/reload").status == 405
    assert daemon.https("GET", "/nothing").status == 404
    assert daemon.https("GET", "/api/v1/modules//x").status == 404
    assert daemon.https("GET", "/api/v1/" + "a/" * 20).status == 404
    r = daemon.https("POST", "/api/v1/modules/stewardd/start")
    assert r.status == 405 and r.json["error"]["code"] == "not_supported"
    assert daemon.https("POST", "/api/v1/modules/stewardd/explode").status == 404


def test_commands(daemon):
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/check_config")
    assert r.status == 200 and r.json["valid"] is True
    daemon.config.write_text("limits:max_connections = 0\n")
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/check_config", {})
    assert r.json["valid"] is False and "limits:max_connections" in r.json["message"]
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/reload")
    assert r.status == 409
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/nope")
    assert r.status == 404 and r.json["error"]["code"] == "unknown_command"
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/check_config", {"extra": 1})
    assert r.status == 422 and r.json["error"]["code"] == "invalid_argument"


def test_system_sysctl_command(daemon):
    r = daemon.https("POST", "/api/v1/modules/system/commands/sysctl", {"name": "kernel.ostype"})
    assert r.status == 200, r
    assert r.json["value"] == "Linux"
    for bad in ("../../etc/shadow", "kernel..ostype", "", "kernel/../../x", "a" * 300):
        r = daemon.https("POST", "/api/v1/modules/system/commands/sysctl", {"name": bad})
        assert r.status == 422, (bad, r)
    r = daemon.https("POST", "/api/v1/modules/system/commands/sysctl", {"name": "kernel.nope_nope"})
    assert r.status == 404
    r = daemon.https("POST", "/api/v1/modules/system/commands/sysctl", {})
    assert r.status == 422
    # A key only root may read is a secret: refused by its mode, not only
    # because the front cannot open it.
    r = daemon.https("POST", "/api/v1/modules/system/commands/sysctl",
                     {"name": "net.ipv4.tcp_fastopen_key"})
    assert r.status == 403 and "not readable by everyone" in r.json["error"]["message"], r


def test_sighup_reloads_and_keeps_bad_config_out(daemon):
    daemon.config.write_text("limits:max_connections = 77\n")
    daemon.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if daemon.https("GET", "/api/v1/modules/stewardd/settings").json["limits"]["max_connections"] == 77:
            break
        time.sleep(0.05)
    else:
        pytest.fail("SIGHUP did not reload")
    daemon.config.write_text("limits:max_connections = \"lots\"\n")
    daemon.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "reload refused" in daemon.log_text():
            break
        time.sleep(0.05)
    assert "reload refused" in daemon.log_text()
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["limits"]["max_connections"] == 77


def test_invalid_config_refuses_to_start(make_daemon):
    d = make_daemon(config_text="limits:max_body_bytes = 5\n", start=False)
    d.start(wait=False)
    assert d.proc.wait(timeout=20) == 1
    assert "limits:max_body_bytes" in d.log_text()
    d.proc = None


def test_body_limit(daemon):
    big = b'{"log_level":"' + b"a" * (3 << 19) + b'"}'
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", raw=big,
                     headers={"Content-Type": "application/json"})
    assert r.status == 413 and r.json["error"]["code"] == "body_too_large"
    # A huge declared body is refused before a byte of it is read.
    s = daemon.ssl_context().wrap_socket(socket.create_connection(("127.0.0.1", daemon.port)),
                                         server_hostname="127.0.0.1")
    s.sendall(f"PATCH /api/v1/modules/stewardd/settings HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: Bearer {daemon.token}\r\nContent-Type: application/json\r\n"
              f"Content-Length: 100000000\r\n\r\n".encode())
    s.settimeout(10)
    assert s.recv(100).startswith(b"HTTP/1.1 413")
    s.close()
    daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_body_bytes": 2048})
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/check_config",
                     raw=b'{"x":"' + b"a" * 3000 + b'"}', headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert daemon.https("GET", "/api/v1/whoami").status == 200


def chunked_patch(daemon, n_chunks):
    import http.client

    def chunks():
        for _ in range(n_chunks):
            yield b"a" * 65536
    conn = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=daemon.ssl_context(), timeout=10)
    try:
        conn.request("PATCH", "/api/v1/modules/stewardd/settings", body=chunks(), encode_chunked=True,
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {daemon.token}"})
        return conn.getresponse().status
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return None
    finally:
        conn.close()


def test_chunked_body_over_limit(daemon):
    # A body without Content-Length is answered 413 once it has ended...
    assert chunked_patch(daemon, 24) == 413
    # ...unless it goes on past twice the limit: then the client is cut off.
    assert chunked_patch(daemon, 64) in (None, 413)
    assert daemon.https("GET", "/api/v1/whoami").status == 200


def test_header_limit(daemon):
    r = daemon.https("GET", "/api/v1/whoami", headers={"X-Big": "a" * 20000})
    assert r.status == 431 and r.json["error"]["code"] == "headers_too_large"
    r = daemon.https("GET", "/api/v1/whoami", headers={f"X-H{i}": "v" for i in range(120)})
    assert r.status == 431
    daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_header_bytes": 2048})
    assert daemon.https("GET", "/api/v1/whoami", headers={"X-Big": "a" * 3000}).status == 431
    assert daemon.https("GET", "/api/v1/whoami", headers={"X-Big": "a" * 1000}).status == 200


def _raw_exchange(daemon, s, method, path, fields, body=b""):
    """Sends one request with exactly these header fields (and the bearer
    token) on the TLS socket s and returns the answer's status."""
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
    s.sendall(head.encode() + b"\r\n" + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, "the connection closed before the answer"
        data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    length = [int(line.split(b":")[1]) for line in top.split(b"\r\n")
              if line.lower().startswith(b"content-length:")]
    while length and len(rest) < length[0]:
        rest += s.recv(65536)
    return int(top.split(b" ")[1])


def test_largest_headers_fit(daemon):
    # The largest limit (16 KiB, the default) in the most fields allowed
    # (100) still fits the per-connection memory, on a fresh connection
    # and again on the same one once it was reused (keep-alive), with a body.
    limit, count = 16384, 100
    path = "/api/v1/modules/stewardd/settings"
    base = [("Host", "127.0.0.1"), ("Authorization", f"Bearer {daemon.token}")]
    body = b'{"log_level": "info"}'
    extra = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    for method, more, data in (("GET", [], b""), ("PATCH", extra, body)):
        fixed = base + more
        # The server counts the URL plus, per field, name + value + 4.
        left = limit - len(path) - sum(len(k) + len(v) + 4 for k, v in fixed)
        n = count - len(fixed)
        names = [f"X-F{i:02d}" for i in range(n)]
        left -= sum(len(k) + 4 for k in names)
        sizes = [left // n + (1 if i < left % n else 0) for i in range(n)]
        fields = fixed + [(k, "v" * z) for k, z in zip(names, sizes)]
        assert len(path) + sum(len(k) + len(v) + 4 for k, v in fields) == limit
        ctx = daemon.ssl_context()
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", daemon.port), timeout=10),
                             server_hostname="127.0.0.1") as s:
            for _ in range(2):
                assert _raw_exchange(daemon, s, method, path, fields, data) == 200
            # One byte more is refused, by our own check, with our own body.
            over = fields[:-1] + [(fields[-1][0], fields[-1][1] + "v")]
            assert _raw_exchange(daemon, s, method, path, over, data) == 431


def test_connection_limit(daemon):
    daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_connections": 3})
    ctx = daemon.ssl_context()
    held = []
    try:
        for _ in range(4):
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", daemon.port)), server_hostname="127.0.0.1")
            held.append(s)
        r = daemon.https("GET", "/api/v1/whoami")
        assert r.status == 503 and r.json["error"]["code"] == "too_many_connections"
    finally:
        for s in held:
            s.close()
    for _ in range(100):
        if daemon.https("GET", "/api/v1/whoami").status == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the daemon did not recover after connections closed")


def test_slow_client_is_timed_out(daemon):
    daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:idle_timeout": 1})
    s = daemon.ssl_context().wrap_socket(socket.create_connection(("127.0.0.1", daemon.port)),
                                         server_hostname="127.0.0.1")
    s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    s.settimeout(10)
    start = time.time()
    try:
        data = s.recv(100)
    except (ssl.SSLError, ConnectionResetError):
        data = b""
    assert data == b""
    assert time.time() - start < 8
    s.close()
    assert daemon.https("GET", "/api/v1/whoami").status == 200


def test_garbage_does_not_hurt(daemon):
    for junk in (b"\x00" * 100, b"GET / HTTP/1.1\r\n" + b"A" * 100000 + b"\r\n\r\n", b"\x16\x03\x01\xff\xff" + b"x" * 500):
        with socket.create_connection(("127.0.0.1", daemon.port)) as s:
            s.sendall(junk)
            s.settimeout(5)
            try:
                s.recv(100)
            except OSError:
                pass
    with socket.create_connection(("127.0.0.1", daemon.port)) as s:
        s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the TLS port
        s.settimeout(5)
        try:
            s.recv(100)
        except OSError:
            pass
    assert daemon.https("GET", "/api/v1/whoami").status == 200


def test_keep_alive(daemon):
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=daemon.ssl_context(), timeout=10)
    conn.connect()
    first = conn.sock
    for _ in range(5):
        conn.request("GET", "/api/v1/whoami", headers={"Authorization": f"Bearer {daemon.token}"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        assert r.getheader("Connection", "").lower() != "close"
    assert conn.sock is first
    conn.close()


def test_socket_in_use_is_detected(make_daemon):
    a = make_daemon()
    b = make_daemon(start=False)
    b.args[b.args.index("--socket") + 1] = a.sock
    b.start(wait=False)
    assert b.proc.wait(timeout=20) == 1
    assert "in use" in b.log_text()
    b.proc = None
    assert a.unix("GET", "/api/v1/whoami").status == 200


def test_help_and_version():
    from conftest import STEWARDD
    p = subprocess.run([str(STEWARDD), "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--listen" in p.stdout
    p = subprocess.run([str(STEWARDD), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("stewardd ")
    p = subprocess.run([str(STEWARDD), "--bogus"], capture_output=True, text=True)
    assert p.returncode == 2
    p = subprocess.run([str(STEWARDD), "--listen", "nowhere"], capture_output=True, text=True)
    assert p.returncode != 0
