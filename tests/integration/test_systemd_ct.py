"""The booted systemd container (systemd_ct.py) does what the services, logs
and console tests rely on: the daemon inside answers over TLS from the host,
each role's account logs in with that role, the CLI on the host reaches it,
the test units behave as documented, only the container's /30 is routed,
and an enabled unit stays enabled across a reboot; a second container
shows that a teardown leaves no interface, mount or process behind, and the
per-test check fails on a sanitizer report and starts a stopped daemon
again."""
import socket
from pathlib import Path

import pytest

import systemd_ct as sct
from systemd_ct import wait_for

pytestmark = pytest.mark.systemd


def test_systemd_is_pid1_and_the_daemon_is_its_unit(systemd_ct):
    assert systemd_ct.run("cat", "/proc/1/comm").stdout.strip() == "systemd"
    st = systemd_ct.show("stewardd.service", "ActiveState", "Type", "ExecStart", "UnitFileState")
    assert st["ActiveState"] == "active" and st["Type"] == "notify", st
    assert st["UnitFileState"] == "enabled", st
    assert sct.BUILD_INSIDE + "/stewardd" in st["ExecStart"], st
    # The build under test, read-only inside.
    p = systemd_ct.run("touch", sct.BUILD_INSIDE + "/x", check=False)
    assert p.returncode != 0 and "Read-only" in p.stderr, p.stderr


def test_nothing_but_the_fail_unit_failed_and_ssh_runs(systemd_ct):
    failed = systemd_ct.run("systemctl", "--failed", "--no-legend", "--plain").stdout.split("\n")
    assert [l.split()[0] for l in failed if l.strip()] == ["steward-test-fail.service"], failed
    assert systemd_ct.show("ssh.service", "ActiveState")["ActiveState"] == "active"
    for unit in sct.MASK:
        assert systemd_ct.show(unit, "LoadState")["LoadState"] == "masked", unit


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


def test_cli_inside_over_the_unix_socket(systemd_ct):
    # As root inside, the CLI (the build under test) is an administrator.
    p = systemd_ct.run(sct.BUILD_INSIDE + "/steward", "--json", "list")
    assert '"modules"' in p.stdout, p.stdout


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



def test_fail_unit_is_fixed_by_its_environment(systemd_ct):
    unit = "steward-test-fail.service"
    dropin = systemd_ct.path("/run/systemd/system/steward-test-fail.service.d")
    dropin.mkdir(parents=True, exist_ok=True)
    (dropin / "fixed.conf").write_text("[Service]\nEnvironment=STEWARD_TEST_FIXED=1\n")
    try:
        systemd_ct.run("systemctl", "daemon-reload")
        systemd_ct.run("systemctl", "restart", unit)
        assert systemd_ct.show(unit, "ActiveState")["ActiveState"] == "active"
        wait_for(lambda: "fixed, running" in systemd_ct.journal("-u", unit, "-n", "5", "-o", "cat"),
                 what="the fixed unit's line")
    finally:
        (dropin / "fixed.conf").unlink()
        dropin.rmdir()
        systemd_ct.run("systemctl", "daemon-reload")
        systemd_ct.run("systemctl", "restart", unit, check=False)
    st = systemd_ct.show(unit, "ActiveState", "Result", "ExecMainStatus")
    assert st == {"ActiveState": "failed", "Result": "exit-code", "ExecMainStatus": "3"}, st


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


def test_add_units_for_big_listings(systemd_ct):
    names = systemd_ct.add_units(3, prefix="steward-ct-extra-")
    try:
        for name in names:
            assert systemd_ct.show(name, "ActiveState")["ActiveState"] == "active", name
    finally:
        systemd_ct.remove_units(prefix="steward-ct-extra-")
    assert systemd_ct.show(names[0], "LoadState")["LoadState"] == "not-found"


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
    assert other._veth_is_ours()
    other.stop()
    assert not tmp.exists()
    assert not other._veth_is_ours(), veth
    assert other.proc.poll() is not None and other.holder.poll() is not None
    assert str(tmp) not in Path("/proc/self/mountinfo").read_text()
    # The session's container is untouched.
    assert systemd_ct.https("GET", "/api/v1/whoami", token=systemd_ct.token("monitor")).status == 200


def test_a_sanitizer_report_fails_the_test(systemd_ct, monkeypatch):
    report = "==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x1"
    monkeypatch.setattr(systemd_ct, "_daemon_log", lambda after=None: report)
    with pytest.raises(AssertionError, match="sanitizer report"):
        systemd_ct.after_test(None)


def test_a_stopped_daemon_is_started_for_the_next_test(systemd_ct):
    systemd_ct.run("systemctl", "stop", "stewardd.service")
    systemd_ct.after_test(systemd_ct.journal_cursor())
    assert systemd_ct.show("stewardd.service", "ActiveState")["ActiveState"] == "active"
    assert systemd_ct.https("GET", "/api/v1/whoami", token="monitor").status == 200
