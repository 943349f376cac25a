"""GET /api/v1/events against a real daemon: the Server-Sent Events contract
the web console relies on (docs/api.md, "Events") — samples, audit records of
any change, resuming with Last-Event-ID, a reset for an id the ring no longer
holds, strict arguments, authentication, the end of a stream whose token was
revoked, and a reader too slow to keep up being dropped while the daemon's
memory stays put."""
import http.client
import json
import socket
import time
from pathlib import Path

import pytest


class Stream:
    """One event stream over TLS; events() yields (id, type, data) and
    comments as ("comment", text)."""

    def __init__(self, d, path="/api/v1/events", token=True, headers=None, timeout=15):
        h = {"Accept": "text/event-stream", **(headers or {})}
        if token is True:
            h["Authorization"] = f"Bearer {d.token}"
        elif isinstance(token, str):
            h["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(),
                                                timeout=timeout)
        self.conn.request("GET", path, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict(self.resp.getheaders())
        self.first_line = None

    def body(self):
        return self.resp.read().decode()

    def blocks(self):
        """Raw blocks of lines up to each blank line."""
        block = []
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if self.first_line is None:
                self.first_line = line
            if line == "":
                if block:
                    yield block
                block = []
            else:
                block.append(line)

    def events(self):
        for block in self.blocks():
            if block[0].startswith(":"):
                yield ("comment", block[0][1:].strip(), None)
                continue
            fields = {}
            for line in block:
                k, _, v = line.partition(": ")
                fields[k] = v
            if "event" in fields:
                yield (int(fields["id"]), fields["event"], json.loads(fields["data"]))

    def next_event(self, kind=None):
        for ev in self.events():
            if ev[0] != "comment" and (kind is None or ev[1] == kind):
                return ev
        raise AssertionError("the stream ended")

    def close(self):
        self.conn.close()


def series_names(d):
    return {s["name"] for s in d.https("GET", "/api/v1/metrics/series").json["series"]}


def test_sample_events(daemon):
    s = Stream(daemon, "/api/v1/events?types=sample")
    assert s.status == 200
    assert s.headers["Content-Type"] == "text/event-stream"
    assert s.headers["Cache-Control"] == "no-store"
    first = s.next_event()
    second = s.next_event()
    assert s.first_line == "retry: 3000"
    for ev_id, kind, data in (first, second):
        assert kind == "sample"
        assert set(data) == {"time", "interval", "values"}
        assert data["interval"] == 1
        assert abs(data["time"] - time.time()) < 30
        assert set(data["values"]) == series_names(daemon)
        assert all(v is None or isinstance(v, (int, float)) for v in data["values"].values())
    assert second[0] > first[0] and second[2]["time"] > first[2]["time"]
    s.close()


def test_audit_event_after_a_settings_change(daemon):
    s = Stream(daemon, "/api/v1/events?types=audit")
    assert s.status == 200
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"})
    assert r.status == 200, r
    _, kind, data = s.next_event()
    assert kind == "audit"
    listed = daemon.https("GET", "/api/v1/audit?limit=1").json["records"][0]
    assert data == listed
    for k in ("id", "time", "user", "role", "source", "module", "operation", "result"):
        assert k in data
    assert (data["module"], data["operation"], data["result"]) == ("stewardd", "settings", "ok")
    s.close()


def test_interval_setting_reaches_the_stream(daemon):
    r = daemon.https("PATCH", "/api/v1/modules/metrics/settings?dry_run=1", {"interval": 2})
    assert r.status == 200 and r.json["dry_run"] and "+interval = 2" in r.json["files"][0]["diff"]
    assert daemon.https("GET", "/api/v1/modules/metrics/settings").json["interval"] == 1
    r = daemon.https("PATCH", "/api/v1/modules/metrics/settings", {"interval": 2})
    assert r.status == 200, r
    assert (daemon.tmp / "metrics.conf").read_text().endswith("interval = 2\n")
    assert daemon.https("GET", "/api/v1/modules/metrics/settings").json["interval"] == 2
    s = Stream(daemon, "/api/v1/events?types=sample")
    a, b = s.next_event(), s.next_event()
    assert a[2]["interval"] == b[2]["interval"] == 2
    assert b[2]["time"] - a[2]["time"] == 2 and b[2]["time"] % 2 == 0
    s.close()
    for bad in (0, 61, "5"):
        r = daemon.https("PATCH", "/api/v1/modules/metrics/settings", {"interval": bad})
        assert r.status == 422, r
    records = daemon.https("GET", "/api/v1/audit?module=metrics").json["records"]
    assert records and records[0]["operation"] == "settings"


def test_resume_with_last_event_id(daemon):
    s = Stream(daemon, "/api/v1/events?types=sample")
    first, second = s.next_event(), s.next_event()
    s.close()
    s = Stream(daemon, "/api/v1/events?types=sample", headers={"Last-Event-ID": str(first[0])})
    again = s.next_event()
    assert again[0] == second[0] and again[2] == second[2]
    s.close()
    # The query argument is the fallback for clients that cannot set headers.
    s = Stream(daemon, f"/api/v1/events?types=sample&last_event_id={first[0]}")
    assert s.next_event()[0] == second[0]
    s.close()


def test_http10_stream_gets_whole_events(daemon):
    # An HTTP/1.0 client gets no chunked encoding: its stream goes through
    # libmicrohttpd's response block (512 bytes), smaller than an audit
    # event, so the event goes out in pieces and must come out whole.
    ctx = daemon.ssl_context()
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", daemon.port), timeout=15),
                         server_hostname="127.0.0.1") as s:
        s.sendall((f"GET /api/v1/events?types=audit HTTP/1.0\r\nHost: x\r\n"
                   f"Authorization: Bearer {daemon.token}\r\n\r\n").encode())
        data = b""
        while b"retry:" not in data:
            chunk = s.recv(65536)
            assert chunk, data[-200:]
            data += chunk
        assert daemon.https("PATCH", "/api/v1/modules/stewardd/settings",
                            {"log_level": "debug"}).status == 200
        while b"\ndata: {" not in data or not data.endswith(b"\n\n"):
            chunk = s.recv(65536)
            assert chunk, data[-200:]
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0] and b"chunked" not in head.lower()
    lines = [line for line in body.split(b"\n") if line.startswith(b"data: {")]
    assert len(lines) == 1 and len(lines[0]) > 512, lines
    assert json.loads(lines[0][6:])["operation"] == "settings"


def test_reset_for_an_id_older_than_the_ring(daemon):
    s = Stream(daemon, "/api/v1/events?types=sample", headers={"Last-Event-ID": "1"})
    ev_id, kind, data = s.next_event()
    assert (kind, data) == ("reset", {})
    assert s.next_event()[1] == "sample"
    s.close()


@pytest.mark.parametrize("query,field", [
    ("types=bogus", "types"), ("types=sample,", "types"), ("types=sample,,audit", "types"),
    ("last_event_id=x", "last_event_id"), ("last_event_id=-1", "last_event_id"),
])
def test_bad_arguments(daemon, query, field):
    r = daemon.https("GET", "/api/v1/events?" + query)
    assert r.status == 400, r
    assert r.json["error"]["field"] == field
    if field == "types":
        for t in ("sample", "audit", "ports"):
            assert t in r.json["error"]["message"]


def test_needs_authentication(daemon):
    r = daemon.https("GET", "/api/v1/events", token=False)
    assert r.status == 401
    r = daemon.https("GET", "/api/v1/events", token="stw_" + "0" * 64)
    assert r.status == 401


def test_stream_ends_when_the_token_is_revoked(daemon):
    r = daemon.https("POST", "/api/v1/tokens", {"name": "console", "role": "monitor"})
    assert r.status == 200, r
    tok = r.json
    s = Stream(daemon, "/api/v1/events?types=sample", token=tok["token"])
    s.next_event()
    assert daemon.https("DELETE", f"/api/v1/tokens/{tok['id']}").status == 200
    with pytest.raises(AssertionError, match="ended"):
        for _ in range(30):
            s.next_event()
    s.close()


def front_rss_kib(d):
    for line in Path(f"/proc/{d.front_pid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_slow_reader_is_dropped(make_daemon):
    # Without AddressSanitizer's quarantine of freed memory, so that the
    # front's resident size shows what it holds.
    asan = "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66:quarantine_size_mb=0"
    d = make_daemon(wrap=lambda argv: ["/usr/bin/env", asan, *argv])
    # A subscriber that never reads, with a small receive buffer.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", d.port))
    tls = d.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall((f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Authorization: Bearer {d.token}\r\n\r\n").encode())
    time.sleep(0.5)
    rss_before = front_rss_kib(d)
    groups = [[f"group-{c}-{i:02d}-padding-padding" for i in range(16)] for c in "ab"]
    for i in range(400):
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings",
                    {"auth": {"monitor_groups": groups[i % 2]}})
        assert r.status == 200, r
        if "read too slowly" in d.log_text():
            break
    print("changes until the reader was dropped:", i + 1)
    assert "read too slowly" in d.log_text()
    rss_after = front_rss_kib(d)
    # The ring of recent events and the allocator's slack, not a queue per
    # event: far below what 400 big events per subscriber would take.
    assert rss_after - rss_before < 24 * 1024, (rss_before, rss_after)
    assert d.https("GET", "/api/v1/whoami").status == 200
    s = Stream(d, "/api/v1/events?types=audit")
    assert s.status == 200
    s.close()
    tls.close()


def test_keepalive_comment_on_a_silent_stream(daemon):
    # No baseline saved: a ports-only stream stays silent but for keepalives.
    s = Stream(daemon, "/api/v1/events?types=ports", timeout=40)
    kind, text, _ = next(s.events())
    assert (kind, text) == ("comment", "keepalive")
    assert s.first_line == "retry: 3000"
    s.close()
