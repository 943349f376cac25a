"""What keeps a password login at one password hash (docs/architecture.md,
bench/login.sh): stewardd gives PAM's modules its own crypt_r (exported
from the executable, so pam_unix binds to it rather than to libcrypt's),
which answers pam_unix's second identical call from the first; a failed
login in which nothing was hashed (an unknown user) hashes once anyway
(crypt_memo_equalize), so that it costs what a wrong password costs.  The
memo's rules are unit-tested (test-cryptmemo); here, with a real daemon
over a scratch /etc and a real PAM stack, the hashes are counted: uprobes
on libcrypt's hashing entry points (crypt_r, crypt_rn, crypt_ra; crypt()
goes through crypt_r), hit by the daemon's root process, which is the
helper that runs pam_authenticate (uprobe_count.py).  A successful
login, a wrong password and an unknown user each cost exactly one; without
the memo the first two cost two, and if pam_unix bound to libcrypt's
crypt_r instead of ours, two as well."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BUILD, Daemon, make_user
from nsroot import ns_argv, scratch_etc
from uprobe_count import UprobeCounter, mapped_library, tracefs_dir

pytestmark = [pytest.mark.namespaces, pytest.mark.auth]

USER = "hashcount"
PASSWORD = "Hash-count-pw-3"
HASHING = ("crypt_r", "crypt_rn", "crypt_ra")


def dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return {(parts[-2], parts[-1].split("@")[0]) for parts in map(str.split, out.splitlines())
            if len(parts) >= 2}


def test_stewardd_exports_crypt_r():
    syms = dynamic_symbols(BUILD / "stewardd")
    assert ("T", "crypt_r") in syms
    assert ("U", "crypt_rn") in syms


@pytest.fixture(scope="module")
def counted():
    """(daemon, counter): a daemon over a scratch /etc with USER (group
    sudo, a yescrypt hash by chpasswd), its libcrypt probed."""
    if os.geteuid() != 0:
        pytest.skip("needs root (uprobes, namespaces)")
    tracefs = tracefs_dir()
    if tracefs is None:
        pytest.skip("no tracefs with uprobe_events is mounted (mount -t tracefs nodev "
                    "/sys/kernel/tracing; a kernel with CONFIG_UPROBE_EVENTS)")
    base = Path(tempfile.mkdtemp(prefix="steward-logincost-"))
    os.chmod(base, 0o755)
    d = None
    try:
        (base / "ns").mkdir()
        etc = scratch_etc(base / "ns")
        d = Daemon(base / "d", wrap=lambda argv: ns_argv(etc, argv))
        d.start()
        make_user(d, USER, PASSWORD, ["sudo"])
        shadow = next(line for line in (etc / "shadow").read_text().splitlines()
                      if line.startswith(USER + ":"))
        assert shadow.split(":")[1].startswith("$y$"), "expected a yescrypt hash"
        # The daemon's process (nsroot.py execs it) is the helper.
        assert os.readlink(f"/proc/{d.proc.pid}/exe") == str(Path(BUILD / "stewardd").resolve())
        lib = mapped_library(d.proc.pid, "libcrypt.so")
        with UprobeCounter(tracefs, lib, HASHING, d.proc.pid) as counter:
            yield d, counter
    finally:
        try:
            if d is not None and d.proc is not None:
                d.check_clean_exit()
        finally:
            shutil.rmtree(base, ignore_errors=True)


def hashes_of_login(counted, user, password):
    d, counter = counted
    counter.reset()
    r = d.https("POST", "/api/v1/login", {"user": user, "password": password}, token=False)
    return r, counter.hits()


def test_a_successful_login_hashes_once(counted):
    for _ in range(2):   # the memo of one login does not answer the next
        r, hits = hashes_of_login(counted, USER, PASSWORD)
        assert r.status == 200, r
        assert sum(hits.values()) == 1, hits


def test_a_wrong_password_hashes_once(counted):
    r, hits = hashes_of_login(counted, USER, PASSWORD + "x")
    assert r.status == 401, r
    assert sum(hits.values()) == 1, hits


def test_an_unknown_user_hashes_once(counted):
    r, hits = hashes_of_login(counted, "nosuchuser", PASSWORD)
    assert r.status == 401, r
    assert sum(hits.values()) == 1, hits


def test_the_probes_see_only_the_daemon(counted):
    """A hash computed by another process (libcrypt from Python) is not
    counted: the counts above are the daemon's own."""
    d, counter = counted
    counter.reset()
    subprocess.run(["/usr/bin/python3", "-c",
                    "import ctypes; c = ctypes.CDLL('libcrypt.so.1'); "
                    "c.crypt(b'pw', b'$6$saltsalt$')"], check=True)
    assert sum(counter.hits().values()) == 0
