"""Connection budgets: nobody can starve or lock out the administrators.

Authenticated connections never count against the budget of connections that
have not authenticated; that budget has a per-address cap and a global one
(where a new connection displaces the oldest one still sending its request);
a request's headers have a deadline; a local peer without a role is refused
at the accept; a local connection's session lives as long as the connection.
"""
import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import STEWARD, kill_front_and_wait, make_user, ns_run

ALICE = ("alice", "alice-Secret-1")


def tls_socket(d, source="127.0.0.1"):
    raw = socket.create_connection(("127.0.0.1", d.port), timeout=30, source_address=(source, 0))
    return d.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")


def keepalive(d, token):
    """A keep-alive connection that has made one authenticated request."""
    c = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=60)
    c.request("GET", "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    r = c.getresponse()
    r.read()
    return c, r.status


def closed_by_server(s):
    """Whether the server has closed s (end of stream or reset)."""
    try:
        s.settimeout(30)
        return s.recv(4096) == b""
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True


def closed(d):
    """Connections closed to keep the budgets, by reason, as fullstatus says."""
    r = d.https("GET", "/api/v1/modules/stewardd?full=1")
    assert r.status == 200, r
    return r.json["connection_budgets"]["closed"]


def test_200_authenticated_connections_from_one_address_all_get_answers(daemon):
    d = daemon
    tok = d.token
    with ThreadPoolExecutor(8) as pool:
        opened = list(pool.map(lambda _: keepalive(d, tok), range(200)))
    conns = [c for c, _ in opened]
    try:
        assert [st for _, st in opened] == [200] * 200
        socks = [c.sock for c in conns]

        def again(c):
            c.request("GET", "/api/v1/whoami", headers={"Authorization": f"Bearer {tok}"})
            r = c.getresponse()
            r.read()
            return r.status

        with ThreadPoolExecutor(16) as pool:
            assert list(pool.map(again, conns)) == [200] * 200
        # The same 200 connections answered, none was reopened.
        assert [c.sock for c in conns] == socks
    finally:
        for c in conns:
            c.close()


def hold_slow(d, per_source, sources=("127.0.0.2", "127.0.0.3", "127.0.0.4")):
    """Connections that shake hands and then never finish their headers."""
    held, refused = [], 0
    for src in sources:
        for _ in range(per_source):
            try:
                s = tls_socket(d, src)
                s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n")
                held.append(s)
            except (OSError, ssl.SSLError):
                refused += 1
    return held, refused


@pytest.mark.parametrize("change, refused_at_least", [
    # The defaults: 32 a source, 128 in all; 40 a source from three.
    ({}, 24),
    # Every slow one admitted: the global budget is full and must give way.
    ({"limits:header_timeout": 600, "limits:max_unauthenticated_per_source": 100,
      "limits:max_unauthenticated_connections": 64}, 0),
])
def test_slow_unauthenticated_clients_lock_out_neither_an_admin_nor_a_login(ns_daemon, change,
                                                                           refused_at_least):
    d = ns_daemon
    tok = d.token
    if change:
        r = d.https("PATCH", "/api/v1/modules/stewardd/settings", change)
        assert r.status == 200, r
    make_user(d, *ALICE, ["sudo"])
    started = time.monotonic()
    held, refused = hold_slow(d, 40)
    # Unless the machine was so slow that the first ones reached the header
    # deadline (10 s by default) while the last were opening.
    counted = time.monotonic() - started < 8
    try:
        r = d.https("GET", "/api/v1/whoami", token=tok)
        assert r.status == 200, r
        r = d.https("POST", "/api/v1/login", {"user": ALICE[0], "password": ALICE[1]}, token=False)
        assert r.status == 200, r
        assert d.https("GET", "/api/v1/whoami", token=r.json["token"]).status == 200
        assert refused >= refused_at_least or not counted
        # Those displaced were the oldest slow ones; the youngest still wait.
        if not refused_at_least:
            assert closed_by_server(held[0])
            held[-1].settimeout(0.2)
            with pytest.raises(TimeoutError):
                held[-1].recv(1)
    finally:
        for s in held:
            s.close()


def test_a_full_budget_of_idle_strangers_does_not_stop_an_authenticated_client(make_daemon):
    d = make_daemon(config_text="limits:max_unauthenticated_connections = 2\n")
    tok = d.token
    held = [tls_socket(d) for _ in range(3)]
    try:
        r = d.https("GET", "/api/v1/whoami", token=tok)
        assert r.status == 200, r
        # The oldest idle ones made room.
        assert closed_by_server(held[0]) and closed_by_server(held[1])
        assert closed(d)["displaced"] >= 2
    finally:
        for s in held:
            s.close()


def test_a_source_over_its_cap_is_refused_and_others_are_not(daemon):
    d = daemon
    held = [tls_socket(d, "127.0.0.2") for _ in range(32)]
    try:
        with pytest.raises((OSError, ssl.SSLError)):
            s = tls_socket(d, "127.0.0.2")
            s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(1) != b""
        assert d.https("GET", "/api/v1/whoami").status == 200
        r = d.https("GET", "/api/v1/modules/stewardd/settings?key=limits")
        assert r.json["limits"]["max_unauthenticated_per_source"] == 32
        assert closed(d)["source_cap"] >= 1
    finally:
        for s in held:
            s.close()


def dribble(s, lines=60):
    """Sends a header line every half second; how many went before the
    server closed the connection (None: it never did)."""
    s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\n")
    s.settimeout(0.5)
    for i in range(lines):
        try:
            if s.recv(4096) == b"":
                return i
        except TimeoutError:
            pass
        except (ConnectionResetError, ssl.SSLError):
            return i
        try:
            s.sendall(f"X-Slow-{i}: {i}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return i
    return None


def test_a_stranger_sending_headers_slowly_is_cut_at_the_deadline(make_daemon):
    # The default header_timeout (10 s) with an idle timeout the dribble
    # never reaches: 60 lines take 30 s.
    d = make_daemon(config_text="limits:idle_timeout = 120\n")
    s = tls_socket(d)
    try:
        assert dribble(s) is not None
    finally:
        s.close()
    assert d.https("GET", "/api/v1/whoami").status == 200
    assert closed(d)["header_timeout"] == 1


def test_an_authenticated_connection_idles_but_its_headers_have_the_deadline(make_daemon):
    d = make_daemon(config_text="limits:header_timeout = 2\nlimits:idle_timeout = 120\n")
    tok = d.token
    # An authenticated keep-alive connection idles as long as idle_timeout
    # allows, but its next request's headers have the same deadline.
    c, status = keepalive(d, tok)
    try:
        assert status == 200
        time.sleep(3)  # longer than header_timeout, far below idle_timeout
        c.request("GET", "/api/v1/whoami", headers={"Authorization": f"Bearer {tok}"})
        sock = c.sock
        r = c.getresponse()
        r.read()
        assert r.status == 200 and c.sock is sock
        assert dribble(c.sock) is not None
    finally:
        c.close()
    r = d.https("GET", "/api/v1/modules/stewardd/schema")
    keys = {k["key"]: k for k in r.json["settings"]}
    assert keys["limits:header_timeout"]["min"] == 1


def test_a_stranger_sending_its_body_slowly_is_cut_at_the_deadline(make_daemon):
    """The deadline of a connection that has not authenticated runs to the
    end of its whole request: a login body sent a byte at a time neither
    holds its slot past header_timeout nor escapes it once the headers are
    in."""
    d = make_daemon(config_text="limits:header_timeout = 2\nlimits:idle_timeout = 120\n")
    s = tls_socket(d)
    try:
        s.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n")
        s.settimeout(0.5)
        cut = None
        for i in range(40):  # 20 s of a byte every half second
            try:
                if s.recv(4096) == b"":
                    cut = i
                    break
            except TimeoutError:
                pass
            except (ConnectionResetError, ssl.SSLError):
                cut = i
                break
            try:
                s.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                cut = i
                break
        assert cut is not None, "a stranger's slow body held its connection for 20 s"
    finally:
        s.close()
    assert closed(d)["header_timeout"] == 1
    # A body sent at once is answered as before.
    r = d.https("POST", "/api/v1/login", {"user": "nobody-here", "password": "x"}, token=False)
    assert r.status == 401


HOLDER = r"""
import json, socket, sys
n, path = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    held.append(s)
print("ready", flush=True)
sys.stdin.readline()
answers = []
for s in held:
    s.settimeout(30)
    data = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except (ConnectionResetError, TimeoutError):
        pass
    answers.append(data.decode(errors="replace"))
print(json.dumps(answers), flush=True)
"""


def test_local_peers_without_a_role_are_refused_at_once_and_block_nobody(daemon):
    d = daemon
    tok = d.token
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", HOLDER, "300", d.sock],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        # 300 idle local connections from a uid with no role: an admin over
        # TCP still gets in, and so does root on the socket.
        r = d.https("GET", "/api/v1/whoami", token=tok)
        assert r.status == 200, r
        assert d.unix("GET", "/api/v1/whoami").status == 200
        p.stdin.write("go\n")
        p.stdin.flush()
        answers = json.loads(p.stdout.readline())
    finally:
        p.kill()
        p.wait()
    # Every one was closed without a request having been sent.
    assert answers == [""] * 300
    # A client that sends its request is told why, every time.
    for _ in range(20):
        c = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            str(STEWARD), "--socket", d.sock, "list"],
                           capture_output=True, text=True, timeout=60)
        assert c.returncode == 1, c
        assert "uid 65534 has no Steward role" in c.stderr
        # One sentence, which names the groups that give a role.
        assert len(c.stderr.splitlines()) == 1, c.stderr
        assert "steward-admin (admin)" in c.stderr and "root" in c.stderr
    assert closed(d)["local_no_role"] == 320
    r = d.https("GET", "/metrics")
    assert 'steward_connections_closed_total{reason="local_no_role"} 320' in r.body
    assert "steward_connections_unauthenticated " in r.body


ASKER = r"""
import json, socket, sys
n, path = int(sys.argv[1]), sys.argv[2]
held, statuses = [], []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
    line = b""
    while not line.endswith(b"\r\n"):
        b = s.recv(1)
        if not b:
            break
        line += b
    statuses.append(line.decode().split(" ")[1] if line else "")
    held.append(s)
print(json.dumps(statuses), flush=True)
sys.stdin.readline()
"""


def test_an_account_with_a_role_cannot_fill_the_server_from_the_local_socket(ns_daemon):
    d = ns_daemon
    tok = d.token
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_connections": 40})
    assert r.status == 200, r
    make_user(d, "mona", "Mona-pw-1", ["steward-monitor"])
    uid = ns_run(d, ["id", "-u", "mona"]).stdout.strip()
    p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                          sys.executable, "-c", ASKER, "40", d.sock],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        statuses = json.loads(p.stdout.readline())
        # 32 (limits:max_local_connections_per_uid) are served and held open.
        assert statuses == ["200"] * 32 + ["503"] * 8, statuses
        r = d.https("GET", "/api/v1/whoami", token=tok)
        assert r.status == 200, r
        assert d.unix("GET", "/api/v1/whoami").status == 200  # root has no cap
    finally:
        p.kill()
        p.wait()
    assert closed(d)["local_cap"] == 8


def local_connection(d):
    """A connection on the local socket that has made one request (a
    whoami, answered 200) and is held open."""
    held = http.client.HTTPConnection("localhost")
    held.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    held.sock.connect(d.sock)
    held.request("GET", "/api/v1/whoami")
    r = held.getresponse()
    r.read()
    assert r.status == 200
    return held


def peer_sessions(d):
    r = d.unix("GET", "/api/v1/sessions")
    assert r.status == 200, r
    return [s for s in r.json["sessions"] if s["kind"] == "peer"]


def test_local_cli_calls_leave_no_pile_of_sessions(daemon):
    d = daemon
    for _ in range(20):
        d.cli("list", check=0)
    # The one listed is the connection asking.
    listed = peer_sessions(d)
    assert len(listed) == 1 and listed[0]["current"], listed
    # A connection held open keeps its session, and only it.
    held = local_connection(d)
    try:
        assert len(peer_sessions(d)) == 2
    finally:
        held.close()
    for _ in range(100):
        if len(peer_sessions(d)) == 1:
            break
        time.sleep(0.05)
    assert len(peer_sessions(d)) == 1


def test_a_front_that_died_leaves_no_local_sessions(daemon):
    d = daemon
    held = local_connection(d)
    try:
        kill_front_and_wait(d)  # no chance to end the held connection's session
    finally:
        held.close()
    listed = peer_sessions(d)
    assert len(listed) == 1 and listed[0]["current"], listed
