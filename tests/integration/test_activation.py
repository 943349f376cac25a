"""Socket activation (src/daemon/activation.c): a daemon handed its sockets
the way systemd's stewardd.socket hands them (tests/integration/listenfds.py
stands in for systemd) serves on them and binds nothing itself; its
children do not inherit LISTEN_*; it leaves the unix socket in place (it is
systemd's); a descriptor that is not a usable socket fails the start.  Also:
the default configuration file that `make install` puts in /etc/steward is
accepted, and its commented values are the built-in defaults."""
import json
import re
import socket
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_discovery import Client, parse_answer, request, free_udp_port

LISTENFDS = Path(__file__).resolve().parent / "listenfds.py"


def activated(specs, keep_args=False):
    """A `wrap` for make_daemon: the daemon's argv behind listenfds.py,
    without the options naming a kind of socket that is passed (as the
    shipped unit's ExecStart has none); keep_args leaves them."""
    kinds = {"tcp": "--listen", "fd": "--listen", "unix": "--socket", "udp": "--udp"}
    passed = {kinds[s.split(":")[0]] for s in specs if s.split(":")[0] in kinds}

    def wrap(argv):
        out = list(argv)
        for opt in passed if not keep_args else ():
            while opt in out:
                i = out.index(opt)
                del out[i:i + 2]
        return [sys.executable, str(LISTENFDS), *specs, "--", *out]
    return wrap


def test_passed_sockets_are_served_and_nothing_is_bound(make_daemon):
    d = make_daemon(start=False)
    udp = free_udp_port()
    d.wrap = activated([f"tcp:127.0.0.1:{d.port}", f"unix:{d.sock}", f"udp:127.0.0.1:{udp}"])
    d.start()
    log = d.log_text()
    assert "socket-activated: 1 TCP, 1 unix, 1 UDP socket(s) from systemd" in log, log
    assert d.https("GET", "/api/v1/whoami").status == 200
    assert d.unix("GET", "/api/v1/whoami").json["role"] == "admin"
    c = Client(udp)
    try:
        c.send(request())
        got = c.answers(wait=2)
    finally:
        c.close()
    assert len(got) == 1 and parse_answer(got[0])["port"] == d.port
    # (That LISTEN_* leave the environment is checked by test-activation:
    # /proc/PID/environ shows the environment a process was started with.)
    d.check_clean_exit()
    # The unix socket belongs to whoever passed it: still there.
    assert Path(d.sock).is_socket()


def test_stopping_leaves_the_passed_sockets_listening(make_daemon):
    """systemd keeps its copy of the sockets across restarts of the service:
    a daemon that stops must not end listening on them (libmicrohttpd's stop
    would shutdown() the listening socket unless it is taken back first)."""
    d = make_daemon(start=False)
    held = socket.socket()
    held.bind(("127.0.0.1", d.port))
    held.listen(16)
    d.pass_fds = (held.fileno(),)
    d.wrap = activated([f"fd:{held.fileno()}", f"unix:{d.sock}"])
    d.start()
    assert d.https("GET", "/api/v1/whoami").status == 200
    d.check_clean_exit()
    assert held.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    with socket.create_connection(("127.0.0.1", d.port), timeout=5):
        pass  # queued on the socket systemd would hand the next start
    d.proc = None
    held.close()


def test_only_the_kinds_passed_are_taken(make_daemon):
    """Only the unix socket passed: TCP and UDP are bound as the command
    line says."""
    d = make_daemon(start=False, extra_args=("--udp", f"127.0.0.1:{free_udp_port()}"))
    d.args.remove("--udp")
    d.args.remove("off")
    d.wrap = activated([f"unix:{d.sock}"])
    d.start()
    assert "socket-activated: 0 TCP, 1 unix, 0 UDP socket(s)" in d.log_text()
    assert d.https("GET", "/api/v1/whoami").status == 200
    assert d.unix("GET", "/api/v1/whoami").json["role"] == "admin"


@pytest.mark.parametrize("kind,opt", [("tcp", "--listen"), ("unix", "--socket"),
                                      ("udp", "--udp")])
def test_an_address_given_twice_fails_the_start(make_daemon, kind, opt):
    """A kind of socket both passed by systemd and named on the command
    line: which the administrator meant is unknown (a --listen meant to keep
    the port on loopback must not be exposed by the socket unit), so the
    daemon refuses to start and says where to fix it."""
    d = make_daemon(start=False)
    spec = {"tcp": f"tcp:127.0.0.1:{d.port}", "unix": f"unix:{d.sock}",
            "udp": f"udp:127.0.0.1:{free_udp_port()}"}[kind]
    if opt == "--udp":
        d.args[d.args.index("--udp") + 1] = f"127.0.0.1:{free_udp_port()}"
    d.wrap = activated([spec], keep_args=True)
    d.start(wait=False)
    code = d.proc.wait(timeout=30)
    d.log.close()
    assert code == 1
    log = d.log_text()
    assert f"{opt} was given, but systemd passed that kind of socket too" in log, log
    assert "systemctl edit stewardd.socket" in log
    d.proc = None


def test_a_passed_file_fails_the_start(make_daemon):
    d = make_daemon(start=False)
    d.wrap = activated([f"tcp:127.0.0.1:{d.port}", "file:/dev/null"])
    d.start(wait=False)
    code = d.proc.wait(timeout=30)
    d.log.close()
    assert code == 1
    assert "passed descriptor 4 is not a socket" in d.log_text()
    d.proc = None


def test_default_config_is_accepted_and_shows_the_defaults(make_daemon):
    shipped = (ROOT / "data" / "stewardd.conf").read_text()
    plain = make_daemon(name="plain")
    as_shipped = make_daemon(config_text=shipped, name="shipped")
    uncommented = "\n".join(l[2:] for l in shipped.splitlines()
                            if re.match(r"# [a-z_:0-9]+ = ", l)) + "\n"
    # Every setting has its line (in the form `steward settings` prints).
    listed = plain.cli("settings", "stewardd", check=0).stdout
    assert uncommented.count("\n") == listed.count("\n"), listed
    explicit = make_daemon(config_text=uncommented, name="explicit")
    want = plain.cli("--json", "settings", "stewardd", check=0).stdout
    assert json.loads(as_shipped.cli("--json", "settings", "stewardd", check=0).stdout) == json.loads(want)
    assert json.loads(explicit.cli("--json", "settings", "stewardd", check=0).stdout) == json.loads(want)
