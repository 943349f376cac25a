"""Streaming commands against a real daemon (docs/api.md, "Streaming
commands"): POST …/commands/NAME?stream=1 answers text/event-stream — one
"progress" event per step as it happens, then "result" (with the audit
record's id) or "error" — for the network module's ping on the loopback
addresses (127.0.0.1 and ::1: nothing outside the host is reached and
nothing of the host changes).  Errors before the run are ordinary answers;
?stream=1 on a command that does not stream is refused; a client that
leaves mid-stream stops the command, and the record says so."""
import http.client
import json
import socket
import time

import pytest

PING = "/api/v1/modules/network/commands/ping"


class CommandStream:
    """One POST ?stream=1 over TLS: events() yields (event, data)."""

    def __init__(self, d, path, body, token=True, timeout=60):
        h = {"Accept": "text/event-stream", "Content-Type": "application/json"}
        h["Authorization"] = f"Bearer {d.token if token is True else token}"
        self.conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(),
                                                timeout=timeout)
        self.conn.request("POST", path, body=json.dumps(body).encode(), headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict(self.resp.getheaders())

    def json(self):
        return json.loads(self.resp.read().decode())

    def events(self):
        fields = {}
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line == "":
                if fields:
                    yield fields.get("event"), json.loads(fields["data"])
                fields = {}
                continue
            k, _, v = line.partition(": ")
            assert k in ("event", "data"), line
            assert k not in fields, line  # one data line per event
            fields[k] = v

    def close(self):
        self.conn.close()


def token_of(d, role):
    r = d.https("POST", "/api/v1/tokens", {"name": f"t-{role}", "role": role,
                                           "expires_in": 3600})
    assert r.status == 200, r
    return r.json["token"]


def audit_record(d, audit_id):
    r = d.https("GET", f"/api/v1/audit/{audit_id}")
    assert r.status == 200, r
    return r.json


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.connect(("::1", 9))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_ping_streams_each_reply_then_the_result(daemon, host):
    if host == "::1" and not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    s = CommandStream(daemon, PING + "?stream=1", {"host": host, "count": 3, "interval_ms": 200})
    assert s.status == 200
    assert s.headers["Content-Type"] == "text/event-stream"
    events = list(s.events())
    s.close()
    kinds = [e for e, _ in events]
    assert kinds == ["progress"] * 3 + ["result"], events
    for i, (_, data) in enumerate(events[:3]):
        assert data["seq"] == i + 1
        assert data["from"] == host
        assert data["time_ms"] >= 0
        assert 1 <= data["ttl"] <= 255
    final = events[-1][1]
    res = final["result"]
    assert res["host"] == host and res["address"] == host
    assert res["family"] == ("ipv4" if "." in host else "ipv6")
    assert (res["transmitted"], res["received"], res["loss_percent"]) == (3, 3, 0)
    assert res["rtt_min_ms"] <= res["rtt_avg_ms"] <= res["rtt_max_ms"]
    assert res["replies"] == [d for _, d in events[:3]]
    assert res["stopped"] is False
    rec = audit_record(daemon, final["audit_id"])
    assert rec["module"] == "network" and rec["operation"] == "command:ping"
    assert rec["result"] == "ok"
    assert rec["args"]["host"] == host
    assert "3 sent, 3 received" in rec["args"]["summary"]


def test_without_stream_the_same_command_answers_once(daemon):
    r = daemon.https("POST", PING, {"host": "127.0.0.1", "count": 2, "interval_ms": 200})
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json["received"] == 2 and len(r.json["replies"]) == 2
    assert isinstance(r.json["audit_id"], int)


def test_the_schema_says_which_commands_stream(daemon):
    r = daemon.https("GET", "/api/v1/modules/network/schema")
    assert r.status == 200, r
    cmds = {c["name"]: c for c in r.json["commands"]}
    assert cmds["ping"]["streams"] is True
    assert cmds["portcheck"]["streams"] is False


def test_stream_on_a_command_that_does_not_stream_is_refused(daemon):
    r = daemon.https("POST", "/api/v1/modules/network/commands/portcheck?stream=1",
                     {"host": "127.0.0.1", "port": 9})
    assert r.status == 400, r
    assert r.json["error"]["field"] == "stream"
    r = daemon.https("POST", "/api/v1/modules/stewardd/commands/check_config?stream=1", {})
    assert r.status == 400, r
    assert r.json["error"]["field"] == "stream"


@pytest.mark.parametrize("query", ["stream=2", "stream=1&stream=1", "stream=yes"])
def test_stream_flag_grammar(daemon, query):
    r = daemon.https("POST", f"{PING}?{query}", {"host": "127.0.0.1", "count": 1})
    assert r.status == 400, r
    assert r.json["error"]["field"] == "stream"


@pytest.mark.parametrize("body,field", [
    ({"host": "-c1"}, "host"),
    ({"host": "127.0.0.1", "count": 21}, "count"),
    ({"host": "127.0.0.1", "interval_ms": 199}, "interval_ms"),
    ({"host": "a..b"}, "host"),
    ({}, "host"),
])
def test_errors_before_the_run_are_ordinary_answers(daemon, body, field):
    s = CommandStream(daemon, PING + "?stream=1", body)
    assert s.status in (400, 422), s.status
    assert s.headers["Content-Type"].startswith("application/json")
    assert s.json()["error"]["field"] == field
    s.close()


def test_roles_monitor_refused_and_audited_operator_streams(daemon):
    mon = token_of(daemon, "monitor")
    s = CommandStream(daemon, PING + "?stream=1", {"host": "127.0.0.1", "count": 1}, token=mon)
    assert s.status == 403
    s.close()
    r = daemon.https("GET", "/api/v1/audit?module=network")
    assert r.status == 200, r
    refused = [x for x in r.json["records"] if x["operation"].endswith("/commands/ping")]
    assert refused and refused[0]["result"] == "refused", r.json
    op = token_of(daemon, "operator")
    s = CommandStream(daemon, PING + "?stream=1", {"host": "127.0.0.1", "count": 1,
                                                  "interval_ms": 200}, token=op)
    assert s.status == 200
    assert [e for e, _ in s.events()] == ["progress", "result"]
    s.close()


def test_a_client_that_leaves_stops_the_command(daemon):
    s = CommandStream(daemon, PING + "?stream=1", {"host": "127.0.0.1", "count": 20,
                                                  "interval_ms": 1000})
    assert s.status == 200
    first = next(s.events())
    assert first[0] == "progress" and first[1]["seq"] == 1
    s.resp.close()
    s.close()
    # The record comes when the command has stopped (20 requests a second
    # apart would take 20 s): it says the client went away.
    rec = None
    for _ in range(600):
        r = daemon.https("GET", "/api/v1/audit?module=network")
        recs = [x for x in r.json["records"] if x["operation"] == "command:ping"]
        if recs:
            rec = recs[0]
            break
        time.sleep(0.1)
    assert rec, "no record of the ping"
    full = audit_record(daemon, rec["id"])
    assert full["result"] == "error" and "went away" in full["message"], full
    assert full["args"] == {"host": "127.0.0.1", "count": 20, "interval_ms": 1000}, full
    # The daemon serves on.
    r = daemon.https("POST", PING, {"host": "127.0.0.1", "count": 1})
    assert r.status == 200, r


def test_one_diagnostic_at_a_time_per_user(daemon):
    s = CommandStream(daemon, PING + "?stream=1", {"host": "127.0.0.1", "count": 4,
                                                  "interval_ms": 1000})
    assert s.status == 200
    assert next(s.events())[0] == "progress"
    r = daemon.https("POST", PING + "?stream=1", {"host": "127.0.0.1", "count": 1})
    assert r.status == 429, r
    assert r.json["error"]["code"] == "busy"
    assert [e for e, _ in s.events()][-1] == "result"
    s.close()


def test_the_daemon_stops_cleanly_with_a_stream_running(make_daemon):
    """SIGTERM while a ping streams: the stream's command is told its
    client is gone, the pool's job ends, and the daemon exits 0 with no
    sanitizer report."""
    d = make_daemon()
    s = CommandStream(d, PING + "?stream=1", {"host": "127.0.0.1", "count": 20,
                                             "interval_ms": 1000})
    assert s.status == 200
    assert next(s.events())[0] == "progress"
    d.check_clean_exit()  # SIGTERM: exit 0, no sanitizer report
    rest = list(s.events())  # the stream ends, with or without its last event
    assert all(e in ("progress", "result", "error") for e, _ in rest), rest
    s.close()
    d.proc = None


def test_streams_at_once_are_bounded(daemon):
    """Two streams run at once (each holds a thread of the front and a
    channel to the helper for its whole run); a third is answered 503 at
    once, with Retry-After, and the daemon goes on answering meanwhile.
    Two users (one diagnostic at a time each): the bootstrap token over TLS
    and root on the local socket."""
    from conftest import UnixHTTPConnection
    body = {"host": "127.0.0.1", "count": 4, "interval_ms": 1000}
    tls = CommandStream(daemon, PING + "?stream=1", body)
    assert tls.status == 200
    assert next(tls.events())[0] == "progress"
    local = CommandStream.__new__(CommandStream)
    local.conn = UnixHTTPConnection(daemon.sock, timeout=60)
    local.conn.request("POST", PING + "?stream=1", body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"})
    local.resp = local.conn.getresponse()
    assert local.resp.status == 200
    assert next(local.events())[0] == "progress"
    r = daemon.https("POST", PING + "?stream=1", {"host": "127.0.0.1", "count": 1})
    assert r.status == 503, r
    assert r.json["error"]["code"] == "too_many_streams"
    assert r.headers.get("Retry-After")
    assert daemon.https("GET", "/api/v1/whoami").status == 200
    assert daemon.https("GET", "/api/v1/users").status in (200, 404)
    for s in (tls, local):
        assert [e for e, _ in s.events()][-1] == "result"
        s.close()
    r = daemon.https("POST", PING + "?stream=1", {"host": "127.0.0.1", "count": 1})
    assert r.status == 200, r
