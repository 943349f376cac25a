"""The Debian package in a booted Debian 12 (docs/packaging.md): installed
with apt from the .deb, started by its socket, driven over the unix socket
and over TLS, stopped, restarted, its front killed until the supervisor
gives up and systemd restarts the daemon, and purged without leaving
anything behind but the user and groups.  Every hardening option of
stewardd.service is in force here, so the checks that change the system
(a user added, a setting changed, a password login, the ports listed) are
what shows the hardening does not break the daemon.

The tests run in order against one container (module scope)."""
import json
import os
import re
import time
from pathlib import Path

import pytest

from container import TEST_ROOT_PACKAGES, Container, build_root

# The root has the package's run-time dependencies (container.TEST_ROOT_PACKAGES).
SOCK = "/run/steward/stewardd.sock"
# What a purge may leave (Debian practice keeps system users and groups: the
# account databases change, and their backups appear).
PURGE_MAY_CHANGE = {"/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-",
                    "/etc/subuid-", "/etc/subgid-"}
# Not part of the comparison: volatile or package-manager state.
SNAPSHOT_PRUNE = ["/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/log", "/var/cache",
                  "/var/lib/apt", "/var/lib/dpkg", "/var/lib/systemd", "/var/lib/private",
                  # root's own CLI files (known hosts, sessions): a user's, not the package's
                  "/root/.config"]


def deb_path():
    d = Path(os.environ.get("STEWARD_DEB_DIR", Path(__file__).resolve().parents[2] / "build-deb"))
    debs = sorted(d.glob("steward_*.deb"))
    if not debs:
        pytest.fail(f"no steward_*.deb in {d}: run `make deb` (or `make container`)")
    return debs[-1]


@pytest.fixture(scope="module")
def c():
    if os.geteuid() != 0:
        pytest.skip("the container layer needs root")
    deb = deb_path()
    with Container(build_root(TEST_ROOT_PACKAGES)) as box:
        box.deb = deb
        yield box


def snapshot(c):
    prune = " -o ".join(f"-path {p}" for p in SNAPSHOT_PRUNE)
    out = c.sh(f"find / -xdev \\( {prune} \\) -prune -o -print | sort").stdout
    return set(out.splitlines())


def unix_api(c, method, path, body=None):
    argv = ["curl", "-sS", "--max-time", "20", "--unix-socket", SOCK, "-X", method,
            "-w", "\\n%{http_code}", f"http://localhost{path}"]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    p = c.run(*argv)
    text, _, code = p.stdout.rpartition("\n")
    return int(code), (json.loads(text) if text.strip() else None)


def tls_api(c, method, path, token=None, body=None):
    argv = ["curl", "-sS", "-k", "--max-time", "20", "-X", method, "-w", "\\n%{http_code}",
            f"https://localhost:660{path}"]
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    p = c.run(*argv)
    text, _, code = p.stdout.rpartition("\n")
    return int(code), text


def show(c, unit, *props):
    out = c.run("systemctl", "show", unit, "-p", ",".join(props)).stdout
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def no_failed_units(c):
    failed = c.run("systemctl", "--failed", "--no-legend", "--plain").stdout.strip()
    assert failed == "", failed


def front_pid(c):
    """stewardd's network front: the main process's child that is not root."""
    main = show(c, "stewardd.service", "MainPID")["MainPID"]
    kids = c.path(f"/proc/{main}/task/{main}/children").read_text().split()
    fronts = []
    for k in kids:
        try:
            status = c.path(f"/proc/{k}/status").read_text()
        except OSError:
            continue
        uid = next(l.split()[1] for l in status.splitlines() if l.startswith("Uid:"))
        if uid != "0":
            fronts.append(int(k))
    return fronts[0] if len(fronts) == 1 else None


def test_install_enables_the_socket_not_the_service(c):
    c.before = snapshot(c)
    c.copy_in(c.deb, f"/tmp/{c.deb.name}")
    # No network in the container: the dependencies are already in the root.
    c.run("apt-get", "install", "-y", "-q", f"/tmp/{c.deb.name}",
          env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    assert c.run("systemctl", "is-active", "stewardd.socket").stdout.strip() == "active"
    assert c.run("systemctl", "is-enabled", "stewardd.socket").stdout.strip() == "enabled"
    assert c.run("systemctl", "is-active", "stewardd.service", check=False).stdout.strip() == "inactive"
    for name in ("_steward", "steward-admin", "steward-operator", "steward-monitor"):
        c.run("getent", "passwd" if name == "_steward" else "group", name)
    files = set(c.run("dpkg", "-L", "steward").stdout.split())
    for f in ("/usr/sbin/stewardd", "/usr/bin/steward", "/usr/share/man/man1/steward.1.gz",
              "/usr/share/man/man8/stewardd.8.gz", "/lib/systemd/system/stewardd.socket",
              "/lib/systemd/system/stewardd.service", "/usr/lib/sysusers.d/steward.conf",
              "/etc/steward/stewardd.conf", "/etc/pam.d/steward",
              "/etc/fail2ban/filter.d/steward.conf", "/etc/fail2ban/jail.d/steward.conf"):
        assert f in files, f
    conffiles = c.run("dpkg-query", "-W", "-f=${Conffiles}", "steward").stdout
    for f in ("/etc/steward/stewardd.conf", "/etc/pam.d/steward", "/etc/fail2ban/jail.d/steward.conf"):
        assert f in conffiles, conffiles
    # The units as systemd itself reads them: no warning at all.
    p = c.run("systemd-analyze", "verify", "--man=no", "stewardd.socket", "stewardd.service")
    assert p.stderr.strip() == "", p.stderr
    st = c.path(SOCK).stat()
    assert oct(st.st_mode & 0o777) == "0o666" and st.st_uid == 0
    no_failed_units(c)


def test_first_connection_starts_the_daemon(c):
    code, body = unix_api(c, "GET", "/api/v1/whoami")
    assert code == 200 and body["role"] == "admin", body
    assert c.run("systemctl", "is-active", "stewardd.service").stdout.strip() == "active"
    # Type=notify: the daemon said it was ready.
    assert show(c, "stewardd.service", "Type")["Type"] == "notify"
    out = c.run("steward", "list").stdout
    assert "stewardd" in out and "users" in out, out
    # Nothing but the sockets systemd holds: the daemon bound none itself.
    log = c.run("journalctl", "-u", "stewardd", "-o", "cat", "--no-pager").stdout
    assert "socket-activated: 2 TCP, 1 unix, 2 UDP socket(s) from systemd" in log, log


def bootstrap_token(c):
    return c.path("/var/lib/steward/bootstrap-token").read_text().strip()


def test_tls_login_with_the_bootstrap_token_and_the_console(c):
    # The first administrator's login: the CLI reads the root-only token file
    # (the host is this machine), pins the certificate and keeps the session.
    out = c.run("steward", "login", "--bootstrap", "localhost", "--yes").stdout
    assert not c.path("/var/lib/steward/bootstrap-token").exists(), "the token is one-time"
    fp = re.search(r"fingerprint (SHA256:\S+)",
                   c.run("journalctl", "-u", "stewardd", "-o", "cat", "--no-pager").stdout).group(1)
    c.fingerprint = fp
    # The stored session and the pinned certificate, with no option at all.
    out = c.run("steward", "-H", "localhost", "list").stdout
    assert "stewardd" in out, out
    # A token for the checks below, made with that session.
    c.token = json.loads(c.run("steward", "-H", "localhost", "--json", "token", "create", "checks",
                               "--role", "admin").stdout)["token"]
    out = c.run("steward", "-H", "localhost", "--fingerprint", fp, "list",
                env={"STEWARD_TOKEN": c.token}).stdout
    assert "stewardd" in out, out
    # A used token is refused, in one sentence.
    p = c.run("steward", "login", "--bootstrap", "localhost", "--yes", check=False)
    assert p.returncode != 0 and p.stderr.strip(), p
    code, text = tls_api(c, "GET", "/")
    assert code == 200 and "<html" in text.lower(), text[:300]


def test_the_daemon_changes_the_system_under_its_hardening(c):
    """users add, settings, a password login over TLS (PAM), ports."""
    code, body = unix_api(c, "POST", "/api/v1/users",
                          {"name": "alice", "password": "Correct-Horse-9", "groups": ["steward-operator"]})
    assert code in (200, 201), body
    c.run("getent", "passwd", "alice")
    assert c.path("/home/alice").is_dir()
    c.run("steward", "settings", "stewardd:auth:throttle:max_delay = 61")
    assert "auth:throttle:max_delay = 61" in c.path("/etc/steward/stewardd.conf").read_text()
    code, text = tls_api(c, "POST", "/api/v1/login", body={"user": "alice", "password": "Correct-Horse-9"})
    assert code == 200 and json.loads(text)["role"] == "operator", text
    out = c.run("steward", "ports").stdout
    assert re.search(r"\b660\b", out) and "stewardd" in out, out
    # The host name (sethostname: CAP_SYS_ADMIN, no ProtectHostname) and the
    # time zone (a symlink in /etc: fine under ProtectClock).
    c.run("steward", "settings", 'system:hostname = "box1"', 'system:timezone = "Europe/Paris"')
    assert c.run("hostname").stdout.strip() == "box1"
    assert os.readlink(c.path("/etc/localtime")).endswith("Europe/Paris")


def journal_entries(c, since_cursor=None):
    out = c.run("journalctl", "-u", "stewardd.service", "-o", "json", "--no-pager").stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def check_journal_fields(entries):
    """What every daemon line carries in the journal."""
    ours = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "stewardd"]
    assert ours, entries[:5]
    for e in ours:
        assert e.get("PRIORITY") in [str(p) for p in range(8)], e
        assert e.get("MESSAGE"), e
    return ours


def test_journal_has_the_daemon_lines(c):
    # A failed login over TLS, for its fields.
    code, _ = tls_api(c, "POST", "/api/v1/login", body={"user": "alice", "password": "wrong-one-1"})
    assert code == 401
    deadline = time.monotonic() + 30
    while True:
        ours = check_journal_fields(journal_entries(c))
        failed = [e for e in ours if e.get("STEWARD_OPERATION") == "login"
                  and e.get("STEWARD_USER") == "alice" and e.get("PRIORITY") == "4"]
        if failed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    msgs = [e["MESSAGE"] for e in ours]
    assert any("TLS certificate fingerprint" in m for m in msgs), msgs
    assert failed, [e for e in ours if "STEWARD_OPERATION" in e]
    assert failed[-1]["STEWARD_MODULE"] == "auth"
    src = failed[-1]["STEWARD_SOURCE"]
    assert src.startswith("127.0.0.1:") or "::1" in src, failed[-1]
    assert "login failed" in failed[-1]["MESSAGE"]
    # Every audit record (the bootstrap login, the user added, the settings)
    # carries its id, and the unix socket is named as such.
    audited = [e for e in ours if "STEWARD_AUDIT_ID" in e]
    assert any(e.get("STEWARD_USER") == "bootstrap" for e in audited), audited
    assert any(e.get("STEWARD_MODULE") == "users" and e.get("STEWARD_SOURCE") == "socket"
               for e in audited), audited
    assert all(e["STEWARD_AUDIT_ID"].isdigit() for e in audited)


def test_audit_records_reach_the_journal_through_the_forwarder(c):
    """The default target "local": the forwarder runs under the unit's
    hardening (its bounding set is the unit's, which it may not shrink) and
    every record reaches the host's log."""
    deadline = time.monotonic() + 60
    while True:
        code, body = unix_api(c, "GET", "/api/v1/audit/forwarding")
        assert code == 200, body
        fw = body
        local = {t["target"]: t for t in fw["targets"]}["local"]
        if local["last_id"] == fw["head"] and fw["head"] > 0:
            break
        assert time.monotonic() < deadline, fw
        time.sleep(0.5)
    assert fw["forwarder"]["state"] == "running" and fw["forwarder"]["restarts"] == 0, fw
    log = c.run("journalctl", "-t", "steward", "-o", "cat", "--no-pager").stdout
    assert f'id="{fw["head"]}"' in log and "[steward@32473 " in log, log[-2000:]


def test_stop_and_restart_are_clean(c):
    c.run("systemctl", "restart", "stewardd.service")
    assert unix_api(c, "GET", "/api/v1/whoami")[0] == 200
    c.run("systemctl", "reload", "stewardd.service")  # ExecReload: SIGHUP
    deadline = time.monotonic() + 30
    while "configuration reloaded" not in c.run("journalctl", "-u", "stewardd", "-o", "cat").stdout:
        assert time.monotonic() < deadline, "no reload in the journal"
        time.sleep(0.2)
    c.run("systemctl", "stop", "stewardd.service")
    s = show(c, "stewardd.service", "ActiveState", "Result", "ExecMainStatus")
    assert s == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}, s
    # The socket still listens and starts the daemon again.
    assert c.run("systemctl", "is-active", "stewardd.socket").stdout.strip() == "active"
    assert unix_api(c, "GET", "/api/v1/whoami")[0] == 200
    assert c.run("systemctl", "is-active", "stewardd.service").stdout.strip() == "active"
    no_failed_units(c)


def test_a_front_that_keeps_dying_gets_the_daemon_restarted(c):
    first_main = show(c, "stewardd.service", "MainPID")["MainPID"]
    restarts = int(show(c, "stewardd.service", "NRestarts")["NRestarts"])
    for _ in range(7):
        pid = None
        deadline = time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            pid = front_pid(c)
            time.sleep(0.1)
        assert pid, "no front"
        c.sh(f"kill -9 {pid}")  # the shell builtin: a pid in the container's namespace
        time.sleep(0.3)
        if show(c, "stewardd.service", "MainPID")["MainPID"] != first_main:
            break
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        s = show(c, "stewardd.service", "ActiveState", "MainPID", "NRestarts")
        if s["ActiveState"] == "active" and s["MainPID"] not in ("0", first_main):
            break
        time.sleep(0.25)
    assert int(s["NRestarts"]) == restarts + 1 and s["ActiveState"] == "active", s
    assert unix_api(c, "GET", "/api/v1/whoami")[0] == 200
    log = c.run("journalctl", "-u", "stewardd", "-o", "cat", "--no-pager").stdout
    assert "failed 5 times within a minute; giving up" in log


def test_reinstall_keeps_the_state_and_serves(c):
    """The upgrade path (postinst configure with the old version): the socket
    is restarted, the daemon comes back on the next connection with the same
    state (the bootstrap token already used stays used; sessions survive)."""
    c.run("dpkg", "-i", f"/tmp/{c.deb.name}", env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    assert c.run("systemctl", "is-active", "stewardd.socket").stdout.strip() == "active"
    code, _ = tls_api(c, "GET", "/api/v1/whoami", token=c.token)
    assert code == 200
    assert not c.path("/var/lib/steward/bootstrap-token").exists()
    no_failed_units(c)


def test_purge_leaves_only_the_user_and_groups(c):
    c.run("apt-get", "purge", "-y", "-q", "steward", env={"DEBIAN_FRONTEND": "noninteractive"},
          timeout=300)
    assert c.run("systemctl", "is-active", "stewardd.socket", check=False).stdout.strip() != "active"
    assert not c.path(SOCK).exists()
    # alice was made through the daemon: she is the administrator's, not the package's.
    c.run("userdel", "-r", "alice")
    after = snapshot(c)
    added = sorted(after - c.before - PURGE_MAY_CHANGE)
    removed = sorted(c.before - after)
    assert added == [] and removed == [], (added, removed)
    c.run("getent", "passwd", "_steward")
    no_failed_units(c)
