"""Fixtures: a real stewardd on a random loopback port with a temporary state
directory, TLS directory, config file and unix socket.

The daemon under test is the sanitizer build (STEWARD_BUILD, set by `make
test`); at teardown every daemon must exit 0 on SIGTERM and its log must hold
no sanitizer report, so a leak or a memory error fails the test that caused it.
"""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from systemd_ct import systemd_ct, systemd_ct_checked, terminal_summary  # noqa: F401 (the booted container)

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("STEWARD_BUILD", ROOT / "build-asan"))
STEWARDD = BUILD / "stewardd"
STEWARD = BUILD / "steward"

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# What a test run must leave as it found it on the host (tests change
# accounts only in private mount namespaces, nsroot.py).
HOST_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Daemon:
    def __init__(self, tmp: Path, extra_args=(), config_text=None, wrap=None):
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.state = tmp / "state"
        self.tls_dir = tmp / "tls"
        self.config = tmp / "stewardd.conf"
        self.sock = str(tmp / "run" / "stewardd.sock")
        self.log_path = tmp / "stewardd.log"
        if config_text is not None:
            self.config.write_text(config_text)
        self.args = [
            str(STEWARDD), "--foreground",
            "--listen", f"127.0.0.1:{self.port}",
            "--udp", "off",
            "--socket", self.sock,
            "--state-dir", str(self.state),
            "--tls-dir", str(self.tls_dir),
            "--config", str(self.config),
            *extra_args,
        ]
        self.wrap = wrap
        self.pass_fds = ()  # descriptors the daemon inherits (socket activation)
        self._token = None
        self._started = False
        self.proc = None

    def start(self, wait=True):
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=66"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        self.log = open(self.log_path, "ab")
        self.log_start = self.log.tell()
        argv = self.wrap(self.args) if self.wrap else self.args
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     pass_fds=self.pass_fds)
        if wait:
            try:
                self.wait_ready()
            except RuntimeError:
                # The port was free when picked, but another process may take
                # it before the daemon binds; on a first start pick another.
                if self._started or "Address already in use" not in self.log_text()[self.log_start:]:
                    raise
                self.log.close()
                old = f"127.0.0.1:{self.port}"
                self.port = free_port()
                self.args[self.args.index(old)] = f"127.0.0.1:{self.port}"
                return self.start(wait)
            self._started = True
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stewardd exited {self.proc.returncode}:\n{self.log_text()}")
            if "listening on" in self.log_text()[self.log_start:]:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"stewardd did not start:\n{self.log_text()}")

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def bootstrap_token(self):
        return (self.state / "bootstrap-token").read_text().strip()

    @property
    def token(self):
        """An admin session, made once with the one-time bootstrap token."""
        if self._token is None:
            r = self.https("POST", "/api/v1/login", {"bootstrap_token": self.bootstrap_token}, token=False)
            assert r.status == 200, r
            self._token = r.json["token"]
        return self._token

    def front_pid(self):
        """The network front: the daemon's child process that is not root (the
        others are the helper's workers for slow reads, root, short-lived)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        fronts = []
        for c in children:
            try:
                status = Path(f"/proc/{c}/status").read_text()
            except OSError:
                continue
            uid = next(l.split()[1] for l in status.splitlines() if l.startswith("Uid:"))
            if uid != "0":
                fronts.append(int(c))
        assert len(fronts) == 1, children
        return fronts[0]

    @property
    def cert_path(self):
        return str(self.tls_dir / "cert.pem")

    @property
    def fingerprint(self):
        for line in self.log_text().splitlines():
            if "fingerprint SHA256:" in line:
                return line.split("fingerprint ", 1)[1].strip()
        raise AssertionError("no fingerprint in the log")

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cert_path)
        return ctx

    def https(self, method, path, body=None, token=True, headers=None, raw=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(), timeout=10)
        return self._do(conn, method, path, body, token, headers, raw)

    def unix(self, method, path, body=None, headers=None, raw=None):
        return self._do(UnixHTTPConnection(self.sock), method, path, body, False, headers, raw)

    def _do(self, conn, method, path, body, token, headers, raw):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token is True:
            h["Authorization"] = f"Bearer {self.token}"
        elif isinstance(token, str):
            h["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read().decode())
        finally:
            conn.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("stewardd did not stop on SIGTERM")
        self.log.close()
        return self.proc.returncode

    def check_clean_exit(self):
        code = self.stop()
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            assert mark not in text, f"sanitizer report in the daemon log:\n{text}"
        assert code == 0, f"stewardd exited {code}:\n{text[-4000:]}"

    def cli(self, *args, stdin=None, env=None, remote=False, check=None):
        e = dict(os.environ)
        e.pop("STEWARD_TOKEN", None)
        e["STEWARD_SOCKET"] = self.sock
        e["ASAN_OPTIONS"] = "detect_leaks=1"
        if env:
            e.update(env)
        cmd = [str(STEWARD)]
        if remote:
            cmd += ["-H", f"127.0.0.1:{self.port}", "--fingerprint", self.fingerprint]
            e["STEWARD_TOKEN"] = self.token
        cmd += list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=e, timeout=60)
        for mark in SANITIZER_MARKS:
            assert mark not in p.stderr, p.stderr
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
        return p


@pytest.fixture
def daemon_base():
    """A scratch directory the unprivileged front can traverse (pytest's own
    tmp directories are 0700 root): the front re-reads the config file in it."""
    import shutil
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="steward-test-"))
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def make_daemon(daemon_base):
    started = []
    tmp_path = daemon_base

    def make(extra_args=(), config_text=None, start=True, name="d", wrap=None):
        d = Daemon(tmp_path / f"{name}{len(started)}", extra_args, config_text, wrap)
        started.append(d)
        return d.start() if start else d

    yield make
    for d in started:
        if d.proc is not None:
            d.check_clean_exit()


@pytest.fixture
def daemon(make_daemon):
    return make_daemon()


def host_state():
    """The host's account files (password hashes left out) and the names
    in /home."""
    state = {}
    for path in HOST_FILES:
        lines = Path(path).read_text(errors="replace").splitlines()
        if path == "/etc/shadow":
            lines = [":".join(f[:1] + ["*"] + f[2:]) for f in (l.split(":") for l in lines)]
        state[path] = lines
    state["/home"] = sorted(os.listdir("/home"))
    return state


@pytest.fixture(scope="session", autouse=True)
def host_unchanged():
    """Fails the run (an error at the last test's teardown) if it changed
    the host's accounts or /home, with the difference."""
    import difflib
    before = host_state()
    yield
    after = host_state()
    diffs = []
    for key in before:
        if before[key] != after[key]:
            diffs += difflib.unified_diff(before[key], after[key], f"{key} before the run",
                                          f"{key} after the run", lineterm="")
    assert not diffs, "the test run changed the host:\n" + "\n".join(diffs)


def pytest_configure(config):
    config.addinivalue_line("markers", "namespaces: runs daemons in private mount and UTS namespaces")
    config.addinivalue_line("markers", "auth: PAM logins and the CLI's login, TOFU and tokens")
    config.addinivalue_line("markers", "systemd: runs against the booted systemd container (systemd_ct.py)")


def pytest_terminal_summary(terminalreporter):
    terminal_summary(terminalreporter)


def ns_run(d, argv, input=None):
    """Runs argv inside a namespaced daemon's mount and UTS namespaces (its
    scratch /etc), e.g. useradd for accounts that PAM then sees."""
    return subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "-u", "--", *argv],
                          input=input, capture_output=True, text=True, check=True)


def make_user(d, name, password, groups=()):
    args = ["/usr/sbin/useradd", "--no-create-home", "--shell", "/bin/sh"]
    if groups:
        args += ["-G", ",".join(groups)]
    ns_run(d, args + ["--", name])
    if password is not None:
        ns_run(d, ["/usr/sbin/chpasswd"], input=f"{name}:{password}\n")
    return name, password


@pytest.fixture
def ns_daemon(daemon_base, make_daemon):
    """A daemon in private mount and UTS namespaces over a scratch /etc, so
    tests can create accounts and change the system without touching the
    host."""
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv))
    d.etc = etc
    return d


@pytest.fixture
def admin_user(ns_daemon):
    return make_user(ns_daemon, "alice", "alice-Secret-1", ["sudo"])


def kill_front_and_wait(d):
    """SIGKILLs the daemon's front and waits for the daemon to start another
    that answers on the local socket."""
    first = d.front_pid()
    os.kill(first, 9)
    for _ in range(200):
        try:
            if d.front_pid() != first and d.unix("GET", "/api/v1/whoami").status == 200:
                return
        except (AssertionError, OSError):
            pass
        time.sleep(0.05)
    pytest.fail("the front was not restarted")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report gets the sections its fixtures offer through
    a failure_sections() method (smb_ns.py: smbd's and the daemon's logs)."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    seen = set()
    for name in item.fixturenames:
        obj = item.funcargs.get(name)
        sections = getattr(obj, "failure_sections", None)
        if callable(sections) and id(obj) not in seen:
            seen.add(id(obj))
            for title, text in sections():
                rep.sections.append((title, text))
