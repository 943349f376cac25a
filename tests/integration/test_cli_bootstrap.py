"""`steward login --bootstrap`: the first login of a new server with its
one-time bootstrap token, from the CLI, end to end over TLS.  It must log in
exactly as POST /api/v1/login {"bootstrap_token": …} does, pin the
certificate as `login` does, store the session like a password login, and
say clearly why it cannot (used already, no file, wrong token).

The daemon's default token file (/var/lib/steward/bootstrap-token) is read
only in cases run in a private mount namespace with a scratch /var/lib, so
the host's own state is never read or used.
"""
import shutil
import subprocess

import pytest

from conftest import STEWARD, SANITIZER_MARKS
from nsroot import ns_argv, scratch_etc
from test_cli_auth import config_dir, fp_hex, host, isolated, stored_session

pytestmark = pytest.mark.auth


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def boot_login(d, home, *extra, stdin=None, check=None):
    return d.cli("login", "--bootstrap", "--yes", *extra, host(d), stdin=stdin,
                 env=isolated(home), check=check)


def logged_in_as_bootstrap(d, home, p):
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert f"Logged in to {host(d)} as bootstrap (admin)" in p.stdout
    token, expires_at = stored_session(d, home)
    assert expires_at > 0 and token not in p.stdout + p.stderr
    who = d.https("GET", "/api/v1/whoami", token=token)
    assert who.status == 200 and who.json["user"] == "bootstrap" and who.json["role"] == "admin"
    # The certificate was pinned on first use, as by a password login.
    lines = (config_dir(home) / "known_hosts").read_text().splitlines()
    assert lines == [f"{host(d)} SHA256:{fp_hex(d)}"]
    # The one use consumed it: the daemon deleted its file.
    assert not (d.state / "bootstrap-token").exists()
    # Later commands use the stored session.
    p = d.cli("-H", host(d), "list", env=isolated(home), check=0)
    assert "stewardd" in p.stdout


def test_bootstrap_login_reads_the_token_file(make_daemon, home):
    d = make_daemon()
    boot = d.bootstrap_token
    p = boot_login(d, home, "--bootstrap-file", str(d.state / "bootstrap-token"))
    logged_in_as_bootstrap(d, home, p)
    assert boot not in p.stdout + p.stderr


def test_bootstrap_login_reads_stdin(make_daemon, home):
    d = make_daemon()
    p = boot_login(d, home, "--bootstrap-file", "-", stdin=d.bootstrap_token + "\n")
    logged_in_as_bootstrap(d, home, p)


def test_bootstrap_token_logs_in_once(make_daemon, home):
    d = make_daemon()
    path = d.state / "bootstrap-token"
    boot = d.bootstrap_token
    boot_login(d, home, "--bootstrap-file", str(path), check=0)

    # The file is gone: said so, and nothing was sent.
    p = boot_login(d, home, "--bootstrap-file", str(path), check=1)
    assert f"there is no bootstrap token in {path}: it was used already" in p.stderr
    assert f"steward login {host(d)}" in p.stderr
    # The same token again: refused by the server, and said why.
    p = boot_login(d, home, "--bootstrap-file", "-", stdin=boot + "\n", check=1)
    assert "invalid bootstrap token" in p.stderr
    assert "wrong, or it was used already" in p.stderr


def test_wrong_or_malformed_bootstrap_token(make_daemon, home):
    d = make_daemon()
    p = boot_login(d, home, "--bootstrap-file", "-", stdin="stw_" + "0" * 64 + "\n", check=1)
    assert "invalid bootstrap token" in p.stderr and "wrong" in p.stderr
    assert not (config_dir(home) / "sessions").exists()
    # Not a token at all: a usage error, nothing sent.
    served = d.unix("GET", "/api/v1/modules/stewardd").json["requests"]
    p = boot_login(d, home, "--bootstrap-file", "-", stdin="hello world\n", check=2)
    assert "stdin does not hold a bootstrap token" in p.stderr
    assert d.unix("GET", "/api/v1/modules/stewardd").json["requests"] == served + 1
    p = boot_login(d, home, "--bootstrap-file", "-", stdin="", check=2)
    assert "no bootstrap token given" in p.stderr
    # The real one still works.
    logged_in_as_bootstrap(d, home, boot_login(d, home, "--bootstrap-file", "-",
                                               stdin=d.bootstrap_token + "\n"))


def test_unreadable_token_file(make_daemon, home, tmp_path):
    d = make_daemon()
    p = boot_login(d, home, "--bootstrap-file", str(tmp_path), check=1)
    assert f"cannot read {tmp_path}" in p.stderr
    p = boot_login(d, home, "--bootstrap-file", str(tmp_path / "none"), check=1)
    assert f"there is no bootstrap token in {tmp_path / 'none'}" in p.stderr


def test_bootstrap_options_are_checked(make_daemon, home):
    d = make_daemon()
    p = d.cli("login", "--bootstrap-file", "x", host(d), env=isolated(home), check=2)
    assert "--bootstrap-file goes with --bootstrap" in p.stderr
    p = d.cli("login", "--bootstrap", "--user", "alice", host(d), env=isolated(home), check=2)
    assert "not as a user" in p.stderr
    p = d.cli("--help", check=0)
    assert "login --bootstrap" in p.stdout


def run_in_scratch_var_lib(tmp_path, var_lib, argv, stdin, home):
    """argv with var_lib bound over /var/lib (and a scratch /etc, as
    ns_argv requires), in private namespaces."""
    etc = scratch_etc(tmp_path)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "ASAN_OPTIONS": "detect_leaks=1",
           **isolated(home)}
    p = subprocess.run(ns_argv(etc, argv, home=tmp_path / "nshome",
                               extra_binds=[(var_lib, "/var/lib")]),
                       input=stdin, capture_output=True, text=True, env=env, timeout=60)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def test_the_default_token_file_for_this_machine(make_daemon, home, tmp_path):
    """With no --bootstrap-file, a login to this machine reads the daemon's
    default token file; where there is none, it says so and reads stdin."""
    d = make_daemon()
    (tmp_path / "nshome").mkdir()
    var_lib = tmp_path / "varlib"
    (var_lib / "steward").mkdir(parents=True)
    argv = [str(STEWARD), "login", "--bootstrap", "--yes", host(d)]

    p = run_in_scratch_var_lib(tmp_path, var_lib, argv, "", home)
    assert p.returncode == 2, p.stderr
    assert "there is no bootstrap token in /var/lib/steward/bootstrap-token" in p.stderr
    assert "no bootstrap token given" in p.stderr

    shutil.copy(d.state / "bootstrap-token", var_lib / "steward" / "bootstrap-token")
    p = run_in_scratch_var_lib(tmp_path, var_lib, argv, "", home)
    logged_in_as_bootstrap(d, home, p)


def test_default_file_falls_back_to_stdin(make_daemon, home, tmp_path):
    d = make_daemon()
    (tmp_path / "nshome").mkdir()
    var_lib = tmp_path / "varlib"
    var_lib.mkdir()
    argv = [str(STEWARD), "login", "--bootstrap", "--yes", host(d)]
    p = run_in_scratch_var_lib(tmp_path, var_lib, argv, d.bootstrap_token + "\n", home)
    logged_in_as_bootstrap(d, home, p)


def test_bootstrap_token_typed_on_a_terminal_is_not_echoed(make_daemon, home):
    """On a terminal the token is asked for with echo off."""
    import os
    import pty
    import select
    import time

    d = make_daemon()
    boot = d.bootstrap_token
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, **isolated(home), STEWARD_SOCKET=d.sock,
                   ASAN_OPTIONS="detect_leaks=1")
        os.execve(str(STEWARD), [str(STEWARD), "login", "--bootstrap", "--bootstrap-file", "-",
                                 "--yes", host(d)], env)
    out = b""
    sent = False
    deadline = time.time() + 60
    while time.time() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if not sent and b"Bootstrap token: " in out:
            os.write(fd, (boot + "\n").encode())
            sent = True
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert sent, text
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert boot not in text
    assert f"Logged in to {host(d)} as bootstrap (admin)" in text
    for mark in SANITIZER_MARKS:
        assert mark not in text, text


def test_local_token_is_not_sent_to_a_port_held_by_another_user(make_daemon, home, tmp_path):
    """A loopback port an unprivileged process listens on is not the
    daemon's, even when what answers there is the daemon (a relay presents
    its certificate): the CLI must not read root's token file for it, so a
    local user cannot catch the token on its way.  It asks for the token
    instead."""
    d = make_daemon()
    (tmp_path / "nshome").mkdir()
    var_lib = tmp_path / "varlib"
    (var_lib / "steward").mkdir(parents=True)
    shutil.copy(d.state / "bootstrap-token", var_lib / "steward" / "bootstrap-token")
    relay = subprocess.Popen(
        ["/usr/bin/python3", "-c",
         "import socket,sys,threading\n"
         "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
         "print(s.getsockname()[1], flush=True)\n"
         "def pipe(a,b):\n"
         "    while (x:=a.recv(65536)): b.sendall(x)\n"
         "    b.close()\n"
         "while True:\n"
         "    c,_=s.accept(); u=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
         "    threading.Thread(target=pipe,args=(c,u),daemon=True).start()\n"
         "    threading.Thread(target=pipe,args=(u,c),daemon=True).start()\n",
         str(d.port)],
        stdout=subprocess.PIPE, text=True, user=65534, group=65534)
    try:
        port = int(relay.stdout.readline())
        argv = [str(STEWARD), "login", "--bootstrap", "--yes", f"127.0.0.1:{port}"]
        p = run_in_scratch_var_lib(tmp_path, var_lib, argv, "", home)
        assert p.returncode == 2, (p.stdout, p.stderr)
        assert "no bootstrap token given" in p.stderr
        assert "/var/lib/steward/bootstrap-token" not in p.stderr
        # Unused: the daemon still has it.
        assert (d.state / "bootstrap-token").exists()
    finally:
        relay.kill()
        relay.wait()
