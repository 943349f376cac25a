"""A booted Debian 12 container for tests that need a real systemd: the
package test here, and (through the subclass SystemdCt in
tests/integration/systemd_ct.py, the session fixture systemd_ct) the
services, logs and console tests with the sanitizer build inside.

    root = build_root(["libmicrohttpd12", ...])   # cached, see build-root.sh
    with Container(root) as c:                     # boots, waits for systemd
        c.run("systemctl", "is-active", "dbus")     # nsenter into every namespace
        c.copy_in(host_file, "/tmp/x")

The root is never written: systemd-nspawn boots it with --volatile=overlay
(the cached tree read-only under a tmpfs overlay that vanishes with the
container), so no copy is made and nothing a test does survives it.  Each
container has a private network (--private-network), is not registered with
machined (--register=no) and stays in the test's own cgroup (--keep-unit).

A subclass changes how the container is started by overriding
nspawn_argv() (systemd_ct.py wraps it in a private mount namespace that
mounts its own persistent overlay, and gives it a network namespace), and
can power off and boot() again on the same root (a reboot).  nspawn gets
SIGTERM (a clean power-off) when the test process dies (die_with_parent).

Safety: every command runs through nsenter into the container's leader
(its PID 1); before each one the leader is checked to be a different
process in a different mount namespace from ours, so a broken container
can never turn a command into one run on the host.  Teardown asks systemd
to power off, kills nspawn if that does not finish in time, and always
removes the container's temporary directory.
"""
import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD_ROOT = HERE / "build-root.sh"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The one root every booted test uses (one debootstrap, one cache entry):
# the package's run-time dependencies (its Depends, so that apt installs the
# .deb without a network) and curl for test_package.py; the ASan/UBSan
# runtimes and libstdc++ for the sanitizer build that systemd_ct.py runs
# inside; useradd/chpasswd, a real SSH server unit for the services guards,
# tzdata for the time module.
TEST_ROOT_PACKAGES = ["libmicrohttpd12", "libgnutls30", "libjansson4", "libseccomp2", "libsqlite3-0",
                      "libcurl4", "libssl3", "libmnl0", "passwd", "procps", "curl", "tzdata",
                      "libasan8", "libubsan1", "libstdc++6", "openssh-server"]


def build_root(packages=()):
    """The cached root with these extra packages (built on first use)."""
    p = subprocess.run([str(BUILD_ROOT), *packages], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"build-root.sh failed:\n{p.stderr[-4000:]}")
    return Path(p.stdout.strip().splitlines()[-1])


def die_with_parent(sig):
    """A preexec_fn: the child gets sig when the process that started it
    dies (prctl PR_SET_PDEATHSIG), so nothing outlives a killed test run."""
    def preexec():
        if ctypes.CDLL(None, use_errno=True).prctl(1, int(sig), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    return preexec


def _ns_inode(pid, ns):
    return os.stat(f"/proc/{pid}/ns/{ns}").st_ino


class Container:
    def __init__(self, root, boot_timeout=120, name=None):
        self.root = Path(root)
        if not (self.root / ".complete").exists():
            raise RuntimeError(f"{root} is not a complete root built by build-root.sh")
        self.boot_timeout = boot_timeout
        self.name = name or f"steward-test-{secrets.token_hex(4)}"
        self.tmp = None
        self.proc = None
        self.leader = None
        self.console = None

    # -- life cycle ----------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="steward-container-"))
        try:
            self.boot()
        except BaseException:
            self.stop()
            raise
        return self

    def nspawn_argv(self):
        """The command that boots the container (a subclass may wrap it or
        add options)."""
        return ["systemd-nspawn", "--quiet", "-b", "-D", str(self.root), "--volatile=overlay",
                "--private-network", "--register=no", "--keep-unit", "-M", self.name,
                "--console=pipe"]

    def boot(self):
        """Starts systemd-nspawn and waits for the container's systemd to
        finish booting.  nspawn gets SIGTERM (a clean power-off) if this
        process dies first."""
        self.console = open(self.tmp / "console.log", "ab")
        self.proc = subprocess.Popen(self.nspawn_argv(), stdin=subprocess.DEVNULL, stdout=self.console,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=die_with_parent(signal.SIGTERM))
        self.leader = self._find_leader()
        return self._wait_booted()

    def _find_leader(self):
        """The container's PID 1: a descendant of nspawn that is PID 1 in
        its own PID namespace."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"systemd-nspawn exited {self.proc.returncode}:\n{self.console_text()}")
            for pid in self._descendants(self.proc.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                nspid = next((l.split()[1:] for l in status.splitlines() if l.startswith("NSpid:")), [])
                if len(nspid) >= 2 and nspid[-1] == "1":
                    return pid
            time.sleep(0.1)
        raise RuntimeError(f"no container leader found:\n{self.console_text()}")

    @staticmethod
    def _descendants(pid):
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            try:
                kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            except OSError:
                continue
            for k in kids:
                out.append(int(k))
                todo.append(int(k))
        return out

    def _wait_booted(self):
        deadline = time.monotonic() + self.boot_timeout
        state = ""
        while time.monotonic() < deadline:
            p = self.run("systemctl", "is-system-running", check=False, timeout=10)
            state = p.stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(0.25)
        raise RuntimeError(f"the container did not finish booting (state {state!r}):\n"
                           f"{self.console_text()[-4000:]}")

    def poweroff(self, timeout=60):
        """Asks systemd to power off and waits for nspawn (killed when that
        takes longer than timeout); returns nspawn's exit status."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                if self.leader is not None:
                    # SIGRTMIN+4 asks systemd to power off.
                    try:
                        os.kill(self.leader, signal.SIGRTMIN + 4)
                    except ProcessLookupError:
                        pass
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=30)
            return self.proc.returncode if self.proc is not None else None
        finally:
            self.leader = None
            if self.console is not None:
                self.console.close()
                self.console = None

    def stop(self, timeout=60):
        try:
            self.poweroff(timeout)
        finally:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None

    def console_text(self):
        try:
            return (self.tmp / "console.log").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    # -- inside --------------------------------------------------------
    def _check_leader(self):
        if self.leader is None or self.leader == 1 or self.leader == os.getpid():
            raise RuntimeError("no container to run in")
        if _ns_inode(self.leader, "mnt") == _ns_inode(os.getpid(), "mnt") or \
                _ns_inode(self.leader, "pid") == _ns_inode(os.getpid(), "pid"):
            raise RuntimeError("the container leader shares our namespaces: refusing to run on the host")

    def run(self, *argv, check=True, input=None, timeout=120, env=None):
        """Runs argv inside the container (every namespace, a clean
        environment); returns the CompletedProcess (text)."""
        self._check_leader()
        e = ["PATH=" + PATH, "LANG=C.UTF-8", "HOME=/root", "TERM=dumb"]
        e += [f"{k}={v}" for k, v in (env or {}).items()]
        cmd = ["nsenter", "-t", str(self.leader), "-a", "--root", "--wd", "--", "/usr/bin/env", "-i", *e, *argv]
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def sh(self, script, **kw):
        return self.run("/bin/sh", "-ec", script, **kw)

    def path(self, inside):
        """The host's view of a path inside the running container."""
        self._check_leader()
        return Path(f"/proc/{self.leader}/root") / inside.lstrip("/")

    def copy_in(self, src, dst):
        shutil.copyfile(src, self.path(dst))
