"""The CLI's login, certificate pinning on first use, stored sessions, API
tokens and audit log, end to end against a real daemon over TLS.

Every case runs with HOME in its own temporary directory, so the
~/.config/steward of the person running the tests is never read or written.
Passwords are piped on stdin (steward reads them from there when stdin is not
a terminal); the cases that must see what steward does with no terminal at
all run it in a new session, without a controlling tty.
"""
import json
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import STEWARD

pytestmark = pytest.mark.auth

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
SESSION_LINE = re.compile(r"^(\S+) (stw_[0-9a-f]{64}) ([0-9]+)$")


def host(daemon):
    return f"127.0.0.1:{daemon.port}"


def fp_hex(daemon):
    """The daemon's certificate fingerprint as 64 lowercase hex digits."""
    return daemon.fingerprint.split(":", 1)[1].replace(":", "").lower()


def config_dir(home):
    return home / ".config" / "steward"


@pytest.fixture
def daemon(ns_daemon):
    """PAM logins need accounts: these tests use a daemon over a scratch /etc."""
    return ns_daemon


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def isolated(home, **extra):
    """The environment of every run: this case's HOME, and none of the
    caller's settings that would change what steward does."""
    env = {"HOME": str(home), "XDG_CONFIG_HOME": "", "STEWARD_ACCEPT_NEW": "",
           "STEWARD_FINGERPRINT": "", "STEWARD_TOKEN": ""}
    env.update(extra)
    return env


def cli_without_tty(daemon, *args, stdin=None, env=None):
    """Like daemon.cli, but in a new session: with no controlling terminal
    steward cannot open /dev/tty, so it must decide without asking."""
    e = dict(os.environ)
    e.pop("STEWARD_TOKEN", None)
    e["ASAN_OPTIONS"] = "detect_leaks=1"
    e.update(env or {})
    p = subprocess.run([str(STEWARD), *args], input=stdin, capture_output=True, text=True, env=e,
                       timeout=60, start_new_session=True)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def login(daemon, admin_user, home, *extra, check=0):
    name, password = admin_user
    return daemon.cli("login", "--user", name, "--yes", *extra, host(daemon),
                      stdin=password + "\n", env=isolated(home), check=check)


def requests_served(daemon):
    """The daemon's request counter (this request included)."""
    return daemon.https("GET", "/api/v1/modules/stewardd").json["requests"]


def stored_session(daemon, home):
    lines = (config_dir(home) / "sessions").read_text().splitlines()
    mine = [SESSION_LINE.match(l) for l in lines if l.startswith(host(daemon) + " ")]
    assert len(mine) == 1 and mine[0], lines
    return mine[0].group(2), int(mine[0].group(3))


def test_login_then_commands_use_the_stored_session(daemon, admin_user, home):
    name, password = admin_user
    p = login(daemon, admin_user, home)
    assert f"Logged in to {host(daemon)} as {name}" in p.stdout
    if len(password) >= 8:  # a short one could occur in the text by chance
        assert password not in p.stdout + p.stderr

    d = config_dir(home)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "sessions").stat().st_mode) == 0o600
    assert stat.S_IMODE((d / "known_hosts").stat().st_mode) == 0o600
    token, expires_at = stored_session(daemon, home)
    assert expires_at > 0
    assert token not in p.stdout + p.stderr
    who = daemon.https("GET", "/api/v1/whoami", token=token)
    assert who.status == 200 and who.json["user"] == name and who.json["role"] == "admin"

    # Neither --token, STEWARD_TOKEN nor --fingerprint: the stored session
    # and the pinned certificate do it.
    p = daemon.cli("-H", host(daemon), "list", env=isolated(home), check=0)
    assert "stewardd" in p.stdout
    p = daemon.cli("-H", host(daemon), "settings", "stewardd:log_level", "=", "debug",
                   env=isolated(home), check=0)
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["log_level"] == "debug"

    # Logging in again replaces the host's session (one line per host).
    login(daemon, admin_user, home)
    new_token, _ = stored_session(daemon, home)
    assert new_token != token


def test_login_json_prints_no_secret(daemon, admin_user, home):
    name, _ = admin_user
    login(daemon, admin_user, home)
    p = daemon.cli("--json", "login", "--user", name, host(daemon), stdin=admin_user[1] + "\n",
                   env=isolated(home), check=0)
    answer = json.loads(p.stdout)
    assert answer["user"] == name and answer["role"] == "admin"
    assert "token" not in answer and "csrf_token" not in answer
    token, _ = stored_session(daemon, home)
    assert token not in p.stdout


def test_first_use_is_recorded_in_known_hosts_with_yes(daemon, admin_user, home):
    p = login(daemon, admin_user, home)
    assert fp_hex(daemon) in p.stderr.lower()
    lines = (config_dir(home) / "known_hosts").read_text().splitlines()
    assert lines == [f"{host(daemon)} SHA256:{fp_hex(daemon)}"]

    # A second login finds the host known: nothing is added.
    login(daemon, admin_user, home)
    assert (config_dir(home) / "known_hosts").read_text().splitlines() == lines


def test_first_use_accepted_by_environment(daemon, admin_user, home):
    name, password = admin_user
    p = cli_without_tty(daemon, "login", "--user", name, host(daemon), stdin=password + "\n",
                        env=isolated(home, STEWARD_ACCEPT_NEW="1"))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert (config_dir(home) / "known_hosts").read_text() == \
        f"{host(daemon)} SHA256:{fp_hex(daemon)}\n"
    stored_session(daemon, home)


def test_first_use_without_yes_and_without_tty_is_refused(daemon, admin_user, home):
    name, password = admin_user
    before = requests_served(daemon)
    p = cli_without_tty(daemon, "login", "--user", name, host(daemon), stdin=password + "\n",
                        env=isolated(home))
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert fp_hex(daemon) in p.stderr.lower()
    assert "--yes" in p.stderr and "STEWARD_ACCEPT_NEW=1" in p.stderr
    assert not (config_dir(home) / "known_hosts").exists()
    assert not (config_dir(home) / "sessions").exists()
    # The password was not sent: the certificate was only looked at.
    assert requests_served(daemon) == before + 1


def test_changed_certificate_is_refused_with_a_warning(daemon, admin_user, home):
    login(daemon, admin_user, home)
    token, _ = stored_session(daemon, home)
    known = config_dir(home) / "known_hosts"
    known.write_text(f"# pinned by hand\n{host(daemon)} SHA256:{'00' * 32}\n")

    before = requests_served(daemon)
    for args in (["-H", host(daemon), "list"], ["-H", host(daemon), "token", "list"],
                 ["logout", host(daemon)]):
        p = daemon.cli(*args, env=isolated(home), check=3)
        assert f"WARNING: THE CERTIFICATE OF {host(daemon)} HAS CHANGED!" in p.stderr
        assert "Someone could be eavesdropping" in p.stderr
        assert "Remove the line 2 of ~/.config/steward/known_hosts if you trust the new " \
            "certificate" in p.stderr
        assert f"(SHA256:{fp_hex(daemon)})" in p.stderr
        assert token not in p.stdout + p.stderr
    # Every handshake was refused before a request was sent.
    assert requests_served(daemon) == before + 1

    # login refuses too, before asking for the password.
    name, password = admin_user
    p = daemon.cli("login", "--user", name, "--yes", host(daemon), stdin=password + "\n",
                   env=isolated(home), check=3)
    assert "HAS CHANGED!" in p.stderr
    assert requests_served(daemon) == before + 2
    assert known.read_text().endswith(f"{host(daemon)} SHA256:{'00' * 32}\n")


def test_token_create_list_revoke(daemon, admin_user, home):
    name, _ = admin_user
    login(daemon, admin_user, home)
    remote = ["-H", host(daemon)]
    env = isolated(home)

    p = daemon.cli(*remote, "token", "create", "ci-job", "--role", "monitor", "--expires", "3600",
                   env=env, check=0)
    fields = dict(re.findall(r"^(\w+):\s+(.*)$", p.stdout, re.M))
    assert fields["name"] == "ci-job" and fields["role"] == "monitor"
    assert fields["expires"] != "never"
    secret, token_id = fields["secret"], fields["id"]
    assert re.fullmatch(r"stw_[0-9a-f]{64}", secret)
    assert "shown only" in p.stderr

    assert daemon.https("GET", "/api/v1/modules", token=secret).status == 200
    assert daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"},
                        token=secret).status == 403

    p = daemon.cli(*remote, "token", "list", env=env, check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ROLE", "USER", "EXPIRES", "LAST_USED"]
    row = [l for l in lines[1:] if l.split()[0] == token_id]
    assert len(row) == 1 and row[0].split()[1:4] == ["ci-job", "monitor", name]
    assert secret not in p.stdout

    listed = json.loads(daemon.cli("--json", *remote, "token", "list", env=env, check=0).stdout)
    assert any(t["id"] == token_id and t["name"] == "ci-job" for t in listed["tokens"])

    daemon.cli(*remote, "token", "revoke", token_id, env=env, check=0)
    assert daemon.https("GET", "/api/v1/modules", token=secret).status == 401
    p = daemon.cli(*remote, "token", "list", env=env, check=0)
    assert not any(l.split()[0] == token_id for l in p.stdout.splitlines()[1:])
    daemon.cli(*remote, "token", "revoke", token_id, env=env, check=1)


def test_sessions_list_and_end(daemon, admin_user, home):
    name, password = admin_user
    login(daemon, admin_user, home)
    remote = ["-H", host(daemon)]
    env = isolated(home)
    other = daemon.https("POST", "/api/v1/login", {"user": name, "password": password}, token=False)
    assert other.status == 200, other
    secret = other.json["token"]

    p = daemon.cli(*remote, "sessions", env=env, check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ID", "USER", "KIND", "SOURCE", "CREATED", "LAST_USED", "EXPIRES",
                                "CURRENT"]
    mine = [l.split() for l in lines[1:] if l.split()[1] == name]
    assert len(mine) >= 2 and [r[-1] for r in mine].count("yes") == 1
    assert "stw_" not in p.stdout and secret[4:] not in p.stdout

    listed = json.loads(daemon.cli("--json", *remote, "sessions", "list", "--user", name, env=env,
                                   check=0).stdout)["sessions"]
    assert {s["user"] for s in listed} == {name}
    current = next(s["id"] for s in listed if s["current"])
    others = [s["id"] for s in listed if not s["current"]]
    assert others

    # The other session ends, at once; the CLI's own goes on.
    for sid in others:
        daemon.cli(*remote, "sessions", "end", sid, env=env, check=0)
    assert daemon.https("GET", "/api/v1/whoami", token=secret).status == 401
    daemon.cli(*remote, "sessions", "end", others[0], env=env, check=1)
    daemon.cli(*remote, "sessions", "end", "x/y", env=env, check=2)
    daemon.cli(*remote, "sessions", "frobnicate", env=env, check=2)
    p = daemon.cli(*remote, "sessions", "end", current, env=env, check=0)
    assert f"Session {current} ended." in p.stdout
    daemon.cli(*remote, "sessions", env=env, check=1)


def test_audit_list_show_verify(daemon, admin_user, home):
    name, _ = admin_user
    login(daemon, admin_user, home)
    remote = ["-H", host(daemon)]
    env = isolated(home)
    daemon.cli(*remote, "settings", "stewardd:limits:idle_timeout", "=", "20", env=env, check=0)
    daemon.cli(*remote, "settings", "stewardd:log_level", "=", "debug", env=env, check=0)

    p = daemon.cli(*remote, "audit", "list", env=env, check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "USER", "ROLE", "MODULE", "OPERATION", "RESULT"]
    mine = [l.split() for l in lines[1:] if name in l.split() and "stewardd" in l.split()]
    assert len(mine) >= 2
    newest = mine[0][0]

    # One record a page, following `next` to the end.
    p = daemon.cli(*remote, "audit", "list", "--module", "stewardd", "--user", name,
                   "--limit", "1", "--all", env=env, check=0)
    rows = p.stdout.splitlines()[1:]
    assert len(rows) >= 2 and all(name in r.split() and "stewardd" in r.split() for r in rows)
    p = daemon.cli(*remote, "audit", "list", "--module", "stewardd", "--limit", "1",
                   env=env, check=0)
    assert len(p.stdout.splitlines()) == 2

    p = daemon.cli(*remote, "audit", "show", newest, env=env, check=0)
    assert f'audit:{newest}:user = "{name}"' in p.stdout.splitlines()
    assert f'audit:{newest}:module = "stewardd"' in p.stdout.splitlines()
    assert re.search(rf"^audit:{newest}:files:_array_index:0:path = \".+\"$", p.stdout, re.M)
    assert re.search(r"^--- ", p.stdout, re.M) and re.search(r"^\+\+\+ ", p.stdout, re.M)
    assert '+log_level = "debug"' in p.stdout.splitlines()

    p = daemon.cli(*remote, "audit", "verify", env=env, check=0)
    assert re.fullmatch(r"audit log intact: [0-9]+ records, head \S+\n", p.stdout)

    v = json.loads(daemon.cli("--json", *remote, "audit", "verify", env=env, check=0).stdout)
    assert v["ok"] is True and v["records"] >= 2


def test_audit_rollback_dry_run_and_rollback(daemon, admin_user, home):
    login(daemon, admin_user, home)
    remote = ["-H", host(daemon)]
    env = isolated(home)
    daemon.cli(*remote, "settings", "stewardd:log_level", "=", "debug", env=env, check=0)
    record = daemon.cli(*remote, "audit", "list", "--module", "stewardd", "--limit", "1",
                        env=env, check=0).stdout.splitlines()[1].split()[0]
    before = daemon.config.read_bytes()

    p = daemon.cli(*remote, "audit", "rollback", record, "--dry-run", env=env, check=0)
    assert '-log_level = "debug"' in p.stdout
    assert daemon.config.read_bytes() == before

    p = daemon.cli(*remote, "audit", "rollback", record, env=env, check=0)
    assert '-log_level = "debug"' in p.stdout
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["log_level"] == "info"

    # The files no longer hold what the change left: refused, nothing touched.
    after = daemon.config.read_bytes() if daemon.config.exists() else None
    daemon.cli(*remote, "audit", "rollback", record, env=env, check=1)
    assert (daemon.config.read_bytes() if daemon.config.exists() else None) == after


def test_logout_removes_the_session(daemon, admin_user, home):
    login(daemon, admin_user, home)
    token, _ = stored_session(daemon, home)

    p = daemon.cli("logout", host(daemon), env=isolated(home), check=0)
    assert f"Logged out of {host(daemon)}" in p.stdout
    assert host(daemon) not in (config_dir(home) / "sessions").read_text()
    assert daemon.https("GET", "/api/v1/whoami", token=token).status == 401
    # The certificate stays pinned.
    assert host(daemon) in (config_dir(home) / "known_hosts").read_text()

    p = daemon.cli("-H", host(daemon), "list", env=isolated(home), check=1)
    assert f"steward login {host(daemon)}" in p.stderr
    p = daemon.cli("logout", host(daemon), env=isolated(home), check=0)
    assert "not logged in" in p.stderr

    # With no HOST, logout uses -H.
    login(daemon, admin_user, home)
    daemon.cli("-H", host(daemon), "logout", env=isolated(home), check=0)
    assert host(daemon) not in (config_dir(home) / "sessions").read_text()


def test_usage_errors_exit_2(daemon, home):
    env = isolated(home)
    daemon.cli("login", env=env, check=2)
    daemon.cli("logout", env=env, check=2)
    daemon.cli("-H", host(daemon), "login", host(daemon), env=env, check=2)
    daemon.cli("token", "create", env=env, check=2)
    daemon.cli("token", "create", "x", "--role", "root", env=env, check=2)
    daemon.cli("token", "create", "x", "--expires", "soon", env=env, check=2)
    daemon.cli("token", "frobnicate", env=env, check=2)
    daemon.cli("audit", "show", "abc", env=env, check=2)
    daemon.cli("audit", "list", "--limit", "0", env=env, check=2)
    daemon.cli("audit", "rollback", env=env, check=2)
    assert not config_dir(home).exists()


def test_an_account_without_a_role_now_is_told_what_may_be_wrong(daemon, admin_user, home):
    """A token or a stored session whose account left its role groups is
    refused like a wrong token (a stranger learns nothing); the CLI's one
    hint names that cause among the others, and nothing contradicts it."""
    from conftest import ns_run
    name, password = admin_user
    login(daemon, admin_user, home)
    r = daemon.https("POST", "/api/v1/login", {"user": name, "password": password}, token=False)
    assert r.status == 200, r
    token = r.json["token"]
    ns_run(daemon, ["/usr/bin/gpasswd", "-d", name, "sudo"])
    tokfile = home / "token"
    tokfile.write_text(token + "\n")
    env = isolated(home)
    for extra in ((), ("--token-file", str(tokfile))):
        args = ["-H", host(daemon), *extra, "list"]
        p = None
        for _ in range(40):  # a change outside Steward counts within 7 s
            p = daemon.cli(*args, env=env)
            if p.returncode == 1:
                break
            time.sleep(0.25)
        assert p.returncode == 1, (p.stdout, p.stderr)
        hints = [l for l in p.stderr.splitlines() if l.startswith("steward: ")]
        assert len(hints) == 2, p.stderr  # the server's refusal, and one hint
        assert "no Steward role now" in hints[1], p.stderr
