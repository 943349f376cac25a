"""The booted systemd container (systemd_ct.py) does what the services, logs
and console tests rely on: the daemon inside answers over TLS from the host,
each role's account logs in with that role, the CLI on the host reaches it,
the test units behave as documented, only the container's /30 is routed,
and an enabled unit stays enabled across a reboot.  The reboot test runs
last in this file (it restarts the daemon), and a second container shows
that a teardown leaves no interface, mount or process behind."""
import socket
import time
from pathlib import Path

import pytest

import systemd_ct as sct

pytestmark = pytest.mark.systemd


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_systemd_is_pid1_and_the_daemon_is_its_unit(systemd_ct):
    assert systemd_ct.run("cat", "/proc/1/comm").stdout.strip() == "systemd"
    st = systemd_ct.show("stewardd.service", "ActiveState", "Type", "ExecStart", "UnitFileState")
    assert st["ActiveState"] == "active" and st["Type"] == "notify", st
    assert st["UnitFileState"] == "enabled", st
    assert sct.BUILD_INSIDE + "/stewardd" in st["ExecStart"], st
    # The build under test, read-only inside.
    p = systemd_ct.run("touch", sct.BUILD_INSIDE + "/x", check=False)
    assert p.returncode != 0 and "Read-only" in p.stderr, p.stderr


def test_https_from_the_host(systemd_ct):
    r = systemd_ct.https("GET", "/api/v1/whoami")
    assert r.status == 401, r
    r = systemd_ct.https("GET", "/")
    assert r.status == 200 and "<html" in r.body.lower(), r


@pytest.mark.parametrize("role", sct.ROLES)
def test_each_role_logs_in_with_its_role(systemd_ct, role):
    r = systemd_ct.https("GET", "/api/v1/whoami", token=systemd_ct.token(role))
    assert r.status == 200, r
    assert r.json["role"] == role and r.json["user"] == f"ct-{role}", r.json


def test_cli_from_the_host(systemd_ct):
    p = systemd_ct.cli("--json", "list", role="monitor", check=0)
    assert "services" in p.stdout or "system" in p.stdout, p.stdout
    # The CLI's files stay in the session's directory, not the host's.
    assert not (Path.home() / ".config" / "steward" / "known_hosts").exists() or \
        systemd_ct.ip not in (Path.home() / ".config" / "steward" / "known_hosts").read_text()


def test_logger_logs_numbered_lines_with_priorities(systemd_ct):
    assert systemd_ct.show("steward-test-logger.service", "ActiveState")["ActiveState"] == "active"
    out = wait_for(lambda: systemd_ct.journal("-t", "steward-test-logger", "-p", "err", "-o", "cat"),
                   timeout=30, what="an err line from the logger")
    assert "steward-test-logger line " in out
    n = int(out.split()[-1])
    assert n % 10 == 0, out
    info = systemd_ct.journal("-t", "steward-test-logger", "-p", "info", "-o", "cat", "-n", "3")
    assert len(info.splitlines()) == 3, info


def test_fail_unit_is_failed_with_its_reason(systemd_ct):
    st = systemd_ct.show("steward-test-fail.service", "ActiveState", "Result", "ExecMainStatus")
    assert st == {"ActiveState": "failed", "Result": "exit-code", "ExecMainStatus": "3"}, st
    out = systemd_ct.journal("-u", "steward-test-fail.service", "-p", "err", "-o", "cat")
    assert "cannot read /etc/steward-test/fail.conf" in out, out


def test_timer_ticks(systemd_ct):
    first = systemd_ct.show("steward-test-tick.timer", "LastTriggerUSecMonotonic")["LastTriggerUSecMonotonic"]
    wait_for(lambda: systemd_ct.show("steward-test-tick.timer", "LastTriggerUSecMonotonic")
             ["LastTriggerUSecMonotonic"] != first, timeout=30, what="the timer to trigger again")
    assert "steward-test-tick" in systemd_ct.journal("-t", "steward-test-tick", "-o", "cat")


def test_echo_socket_answers_from_the_host(systemd_ct):
    with socket.create_connection((systemd_ct.ip, sct.ECHO_PORT), timeout=10) as s:
        s.sendall(b"hello steward\n")
        s.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := s.recv(4096):
            got += chunk
    assert got == b"hello steward\n"
    st = systemd_ct.show("steward-test-echo.socket", "SubState", "Accept", "NAccepted")
    assert st["SubState"] == "listening" and st["Accept"] == "yes" and int(st["NAccepted"]) >= 1, st


def test_only_the_containers_link_is_routed(systemd_ct):
    # The container's routes (its network namespace, read from the host):
    # the /30 of the veth and nothing else, no default route.
    routes = Path(f"/proc/{systemd_ct.leader}/net/route").read_text().splitlines()[1:]
    assert [r.split()[0] for r in routes] == ["host0"], routes
    assert all(r.split()[1] != "00000000" for r in routes), routes
    assert systemd_ct.veth.startswith(sct.VETH_PREFIX)


def test_restart_daemon_keeps_the_sessions(systemd_ct):
    before = systemd_ct.show("stewardd.service", "MainPID")["MainPID"]
    systemd_ct.restart_daemon()
    assert systemd_ct.show("stewardd.service", "MainPID")["MainPID"] != before
    r = systemd_ct.https("GET", "/api/v1/whoami", token=systemd_ct.token("operator"))
    assert r.status == 200 and r.json["role"] == "operator", r


def test_reboot_keeps_an_enabled_unit_enabled(systemd_ct):
    systemd_ct.run("systemctl", "disable", "--now", "steward-test-echo.socket")
    boot_before = systemd_ct.run("cat", "/proc/sys/kernel/random/boot_id").stdout
    try:
        systemd_ct.reboot()
        assert systemd_ct.run("cat", "/proc/sys/kernel/random/boot_id").stdout != boot_before
        # A second boot in the same journal.
        boots = systemd_ct.journal("--list-boots").strip().splitlines()
        assert len(boots) >= 2, boots
        assert systemd_ct.run("systemctl", "is-enabled", "steward-test-echo.socket",
                              check=False).stdout.strip() == "disabled"
        assert systemd_ct.run("systemctl", "is-enabled", "steward-test-logger.service").stdout.strip() == "enabled"
        assert systemd_ct.show("steward-test-logger.service", "ActiveState")["ActiveState"] == "active"
        assert systemd_ct.show("stewardd.service", "ActiveState")["ActiveState"] == "active"
        r = systemd_ct.https("GET", "/api/v1/whoami", token=systemd_ct.token("admin"))
        assert r.status == 200, r
    finally:
        systemd_ct.run("systemctl", "enable", "--now", "steward-test-echo.socket")


def test_teardown_leaves_nothing(systemd_ct):
    """A second container, booted and stopped: its interface, its
    processes, its overlay and its directory are gone afterwards."""
    other = sct.SystemdCt(systemd_ct.root).start()
    assert other.veth != systemd_ct.veth and other.ip != systemd_ct.ip
    assert other.https("GET", "/api/v1/whoami", token=other.token("monitor")).status == 200
    tmp, veth = other.tmp, other.veth
    other.stop()
    assert not tmp.exists()
    assert sct._ip("link", "show", "dev", veth, check=False).returncode != 0
    assert other.proc.poll() is not None and other.holder.poll() is not None
    assert str(tmp) not in Path("/proc/self/mountinfo").read_text()
    # The session's container is untouched.
    assert systemd_ct.https("GET", "/api/v1/whoami", token=systemd_ct.token("monitor")).status == 200
