"""What stewardd tells the person who started it: the next steps once it
listens (console address and fingerprint, the CLI login and where the CLI
is, who may log in, the bootstrap token), and, when its port is taken,
which process holds it — in one sentence, not a bare EADDRINUSE."""
import subprocess
import sys
import time

import pytest

from conftest import BUILD, ROOT


def failed_start(d):
    """d was meant to fail: its exit status, and no clean-exit check later."""
    code = d.proc.wait(timeout=60)
    d.log.close()
    d.proc = None
    return code


def guide(d, timeout=20):
    """The next-steps block in the daemon's output (it follows the
    "listening on" lines)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = d.log_text()[d.log_start:]
        if "Next steps:" in text and "First login" in text:
            start = text.index("stewardd is ready. Next steps:")
            end = text.index("\n", text.index("First login"))
            rest = text[end + 1:].splitlines()
            block = text[start:end]
            for line in rest:  # the First login lines go on, indented
                if not line.startswith("               "):
                    break
                block += "\n" + line
            return block
        time.sleep(0.05)
    raise AssertionError(f"no next steps in the output:\n{d.log_text()}")


def test_the_next_steps_once_listening(daemon):
    g = guide(daemon)
    where = f"127.0.0.1:{daemon.port}"
    assert f"Console      https://{where}/" in g
    assert daemon.fingerprint in g
    assert f"steward login {where}" in g
    steward = BUILD / "steward"
    assert f"the CLI is {steward} (not on the PATH" in g or "(steward on the PATH is " in g
    assert "admin     sudo (" in g and "steward-admin (" in g
    assert "operator  steward-operator (" in g and "monitor   steward-monitor (" in g
    assert "(and on the local socket, root)" in g
    assert f"with no login: steward --socket {daemon.sock} list" in g
    assert f"bootstrap token in {daemon.state / 'bootstrap-token'}" in g
    assert f"steward login --bootstrap {where}" in g
    assert "first-login field" in g


def test_the_guide_says_when_the_token_was_used(make_daemon):
    d = make_daemon()
    assert d.token  # the bootstrap login
    d.stop()
    d.start()
    g = guide(d)
    assert "the bootstrap token has been used" in g
    assert "steward login --bootstrap" not in g


def test_the_cli_on_the_path(make_daemon, tmp_path):
    """With the build's steward first on PATH, the guide says so."""
    d = make_daemon(start=False)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "steward").symlink_to(BUILD / "steward")
    d.wrap = lambda argv: ["env", f"PATH={bindir}:/usr/sbin:/usr/bin:/sbin:/bin", *argv]
    d.start()
    assert f"(steward on the PATH is {bindir / 'steward'})" in guide(d)


def test_a_second_stewardd_names_the_first(make_daemon):
    first = make_daemon()
    second = make_daemon(start=False)
    old = f"127.0.0.1:{second.port}"
    second.args[second.args.index(old)] = f"127.0.0.1:{first.port}"
    second.start(wait=False)
    assert failed_start(second) == 1
    out = second.log_text()
    line = next(l for l in out.splitlines() if "cannot listen on" in l)
    assert (f"cannot listen on 127.0.0.1:{first.port}: Address already in use: another stewardd "
            f"(pid {first.proc.pid}) already holds the port; stop it first (kill "
            f"{first.proc.pid}, or systemctl stop stewardd)") in line
    assert "Next steps" not in out
    # The first one still serves.
    assert first.unix("GET", "/api/v1/modules/stewardd").status == 200


def test_another_program_on_the_port_is_named(make_daemon):
    holder = subprocess.Popen([sys.executable, "-c",
                               "import socket,time\n"
                               "s=socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
                               "print(s.getsockname()[1], flush=True); time.sleep(60)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(holder.stdout.readline())
        d = make_daemon(start=False)
        d.args[d.args.index(f"127.0.0.1:{d.port}")] = f"127.0.0.1:{port}"
        d.start(wait=False)
        assert failed_start(d) == 1
        assert (f"cannot listen on 127.0.0.1:{port}: Address already in use: python3 (pid "
                f"{holder.pid}) holds the port") in d.log_text().replace("python3.11", "python3")
    finally:
        holder.kill()
        holder.wait()


def test_the_socket_in_use_names_the_daemon(make_daemon):
    first = make_daemon()
    second = make_daemon(start=False)
    second.args[second.args.index(second.sock)] = first.sock
    second.start(wait=False)
    assert failed_start(second) == 1
    assert (f"{first.sock} is in use: another stewardd (pid {first.proc.pid}) already serves "
            f"it") in second.log_text()


def test_make_run_links_the_cli_only_where_free_or_ours(tmp_path):
    """scripts/link-cli.sh, which `make run` calls: a free path or a link to
    a Steward build gets the link; any other file is left alone, and the
    CLI's path is said instead."""
    script = ROOT / "scripts" / "link-cli.sh"
    build = tmp_path / "build"
    build.mkdir()
    for name in ("steward", "stewardd"):
        (build / name).write_text("#!/bin/sh\n")
        (build / name).chmod(0o755)

    def run(link):
        p = subprocess.run([str(script), str(build), str(link)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p.stdout

    free = tmp_path / "bin" / "steward"
    assert run(free) == f"steward: the CLI is on the PATH: {free} -> {build / 'steward'}\n"
    assert free.resolve() == build / "steward"
    assert "on the PATH" in run(free)  # ours: replaced, idempotent

    foreign = tmp_path / "foreign"
    foreign.write_text("someone else's\n")
    assert run(foreign) == (f"steward: {foreign} is not ours (left alone); the CLI is "
                            f"{build / 'steward'}\n")
    assert foreign.read_text() == "someone else's\n"

    # A CLI that another user could replace is not put on root's PATH.
    build.chmod(0o777)
    link = tmp_path / "bin2" / "steward"
    assert run(link) == (f"steward: not linked: others can write to {build / 'steward'} or a "
                         f"folder above it; the CLI is {build / 'steward'}\n")
    assert not link.exists()
    build.chmod(0o755)
    (build / "steward").chmod(0o775)
    assert run(link).startswith("steward: not linked: ")
