"""A booted Debian 12 with systemd as PID 1 and the sanitizer build of
stewardd inside, shared by every test of a pytest session that asks for the
session fixture `systemd_ct` (the services, logs and console tests):

    pytestmark = pytest.mark.systemd

    def test_restart(systemd_ct):
        systemd_ct.run("systemctl", "start", "steward-test-logger")      # inside, as root
        systemd_ct.show("steward-test-fail.service", "ActiveState")      # {"ActiveState": "failed"}
        systemd_ct.journal("-u", "steward-test-logger", "-n", "5")       # journalctl's output
        r = systemd_ct.https("POST", "/api/v1/services/x.service/restart", {}, token=systemd_ct.token("operator"))
        p = systemd_ct.cli("--json", "services", "list", role="monitor")  # steward on the host, over TLS
        systemd_ct.url                                                   # https://10.123.0.2:660 for a browser
        systemd_ct.restart_daemon(); systemd_ct.reboot()

The container (one per session, booted once; `SystemdCt`):
- The root is tests/container/build-root.sh's cached debootstrap with the
  ASan/UBSan runtimes and stewardd's libraries (PACKAGES), read-only.  It is
  booted on an overlay mounted in nspawn's own private mount namespace (no
  mount on the host), with the writable layer in a temporary directory kept
  for the whole session: a `reboot()` boots the same layer again, so what a
  test enabled, masked or wrote in /etc survives it, as on a real machine.
- Network: a veth pair, stctK on the host (10.123.0.4K+1/30) and host0 in
  the container (10.123.0.4K+2/30), K the first free block (so sessions can
  run side by side), in a network namespace held by a `sleep` that dies with
  this process; the container's only route is that /30 (no default route, no
  forwarding, nothing bridged to the host's interfaces).  Killing the holder
  removes the pair.
- stewardd: ct-units/stewardd.service, the worktree's build directory bound
  read-only at /opt/steward/build (STEWARD_BUILD), listening on the
  defaults (TCP 660 on every address of the container) with its state in the
  container.  Its journal is checked for sanitizer reports and its exit
  status for 0 whenever it is stopped (restart_daemon, reboot, teardown).
- Accounts: ct-admin, ct-operator, ct-monitor, members of steward-admin,
  steward-operator, steward-monitor, with random passwords
  (`credentials(role)`), logged in over the API once (`token(role)`).
- Test units (ct-units/): steward-test-logger.service (a numbered line a
  second, identifier steward-test-logger, every 5th at warning and every
  10th at err), steward-test-fail.service (logs why at err, exits 3; failed
  from boot; runs when its environment has STEWARD_TEST_FIXED=1, e.g. from a
  drop-in's Environment=), steward-test-tick.timer + .service (every 3 s),
  steward-test-echo.socket (TCP 7777, Accept=yes) + steward-test-echo@.service.
  All enabled at the first boot.  A test that changes a unit's state puts it
  back: the container is shared.

The fixture skips with the reason when not root, when a tool is missing or
when the root cannot be built; `STATS` holds the timings that the terminal
summary prints.
"""
import fcntl
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "container"))
from container import TEST_ROOT_PACKAGES, Container, build_root, die_with_parent, _ns_inode  # noqa: E402

BUILD = Path(os.environ.get("STEWARD_BUILD", ROOT / "build-asan"))
UNITS = HERE / "ct-units"
# The root of every booted test (what the sanitizer build and its CLI need).
PACKAGES = TEST_ROOT_PACKAGES
# Units that wait for a network the container does not have, or reach for it.
MASK = ("systemd-networkd-wait-online.service", "apt-daily.timer", "apt-daily-upgrade.timer",
        "nmbd.service", "samba-ad-dc.service")
ENABLE = ("steward-test-logger.service", "steward-test-tick.timer", "steward-test-echo.socket")
ROLES = ("admin", "operator", "monitor")
PORT = 660
ECHO_PORT = 7777
NET_PREFIX = "10.123.0."
NET_BLOCKS = 64  # 10.123.0.0/24 as /30 blocks
VETH_PREFIX = "stct"
TMP_PREFIX = "steward-ct-"
BUILD_INSIDE = "/opt/steward/build"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
TOOLS = ("systemd-nspawn", "debootstrap", "nsenter", "unshare", "ip", "mount")
# Timings of this session's container, for the terminal summary.
STATS = {}


def unavailable():
    """Why the container cannot run here, or None."""
    if os.geteuid() != 0:
        return "the systemd container needs root"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)} (scripts/install-deps.sh test)"
    if not (BUILD / "stewardd").is_file():
        return f"no {BUILD}/stewardd (make build-asan)"
    return None


def remove_stale(min_age=600):
    """Removes the directories of runs that were killed (their lock is free
    and they are older than min_age seconds); a killed run's network and
    processes die with it, its directory does not."""
    for d in Path(tempfile.gettempdir()).glob(TMP_PREFIX + "*"):
        try:
            if time.time() - d.stat().st_mtime < min_age:
                continue
            with open(d / ".lock") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


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


def wait_for(pred, timeout=30, what="condition"):
    """pred()'s first true value, polled every 0.2 s; fails the test after
    timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _ip(*argv, check=True):
    p = subprocess.run(["ip", *argv], capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError(f"ip {' '.join(argv)}: {p.stderr.strip()}")
    return p


class SystemdCt(Container):
    def __init__(self, root, build=BUILD, boot_timeout=180):
        super().__init__(root, boot_timeout=boot_timeout, name=f"steward-ct-{secrets.token_hex(3)}")
        self.build = Path(build)
        self.holder = None
        self.veth = None
        self.veth_ifindex = None
        self.host_ip = self.ip = None
        self._passwords = {r: f"Ct-{secrets.token_urlsafe(12)}-1" for r in ROLES}
        self._tokens = {}
        self._token_used = {}
        self.fingerprint = None
        self._lock = None

    # -- life cycle ----------------------------------------------------
    def start(self):
        remove_stale()
        self.tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX))
        try:
            os.chmod(self.tmp, 0o755)
            # Held while the directory is in use (remove_stale).
            self._lock = open(self.tmp / ".lock", "w")
            fcntl.flock(self._lock, fcntl.LOCK_EX)
            self._prepare_layer()
            self._make_network()
            t = time.monotonic()
            self.boot()
            STATS["boot_seconds"] = time.monotonic() - t
            self._first_boot_setup()
            self._wait_daemon()
            STATS["daemon_seconds"] = time.monotonic() - t
        except BaseException:
            self.stop(check=False)
            raise
        return self

    def _prepare_layer(self):
        """The writable layer before the first boot: the units, the masks, a
        machine id (the same journal across reboots), the sysusers.d file and
        the PAM service of the package, the bind mount's target."""
        for d in ("upper", "work", "merged", "home"):
            (self.tmp / d).mkdir(mode=0o755)
        up = self.tmp / "upper"
        system = up / "etc/systemd/system"
        system.mkdir(parents=True, mode=0o755)
        for unit in sorted(UNITS.iterdir()):
            shutil.copyfile(unit, system / unit.name)
        for unit in MASK:
            (system / unit).symlink_to("/dev/null")
        (up / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        for src, dst in ((ROOT / "dist/sysusers.d/steward.conf", "etc/sysusers.d/steward.conf"),
                         (ROOT / "data/pam.d/steward", "etc/pam.d/steward")):
            (up / dst).parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            shutil.copyfile(src, up / dst)
        (up / BUILD_INSIDE.lstrip("/")).mkdir(parents=True, mode=0o755)
        for p in (self.root, self.tmp, self.build):
            if any(c in str(p) for c in ",:\\"):
                raise RuntimeError(f"{p}: overlayfs and nspawn options cannot name this path")

    def _make_network(self):
        """The network namespace (held by a sleep that dies with us), the
        veth pair in the first free /30 block, both ends addressed."""
        self.holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"],
                                       stdin=subprocess.DEVNULL, preexec_fn=die_with_parent(signal.SIGKILL))
        deadline = time.monotonic() + 10
        while _ns_inode(self.holder.pid, "net") == _ns_inode(os.getpid(), "net"):
            if time.monotonic() > deadline or self.holder.poll() is not None:
                raise RuntimeError("the network namespace was not made")
            time.sleep(0.01)
        for k in range(NET_BLOCKS):
            name = f"{VETH_PREFIX}{k}"
            p = _ip("link", "add", name, "type", "veth", "peer", "name", "host0",
                    "netns", str(self.holder.pid), check=False)
            if p.returncode == 0:
                break
            if "exists" not in p.stderr:
                raise RuntimeError(f"ip link add {name}: {p.stderr.strip()}")
        else:
            raise RuntimeError(f"no free {VETH_PREFIX}N interface name (0..{NET_BLOCKS - 1})")
        self.veth = name
        self.veth_ifindex = int(Path(f"/sys/class/net/{name}/ifindex").read_text())
        self.host_ip, self.ip = f"{NET_PREFIX}{4 * k + 1}", f"{NET_PREFIX}{4 * k + 2}"
        _ip("addr", "add", f"{self.host_ip}/30", "dev", name)
        _ip("link", "set", name, "up")
        inside = ["nsenter", "-t", str(self.holder.pid), "-n", "--", "ip"]
        for argv in (["addr", "add", f"{self.ip}/30", "dev", "host0"], ["link", "set", "host0", "up"],
                     ["link", "set", "lo", "up"]):
            subprocess.run(inside + argv, check=True, capture_output=True, timeout=30)

    def nspawn_argv(self):
        """nspawn on the overlay, which is mounted in a private mount
        namespace of its own (gone when nspawn exits, never on the host)."""
        opts = f"lowerdir={self.root},upperdir={self.tmp / 'upper'},workdir={self.tmp / 'work'}"
        merged = str(self.tmp / "merged")
        return ["unshare", "--mount", "--propagation", "private", "--",
                "/bin/sh", "-ec", 'mount -t overlay overlay -o "$1" "$2"; shift 2; exec "$@"', "sh",
                opts, merged,
                "systemd-nspawn", "--quiet", "-b", "-D", merged, "-M", self.name,
                f"--network-namespace-path=/proc/{self.holder.pid}/ns/net",
                "--register=no", "--keep-unit", "--console=pipe", "--link-journal=no",
                "--resolv-conf=off", "--timezone=off", f"--bind-ro={self.build}:{BUILD_INSIDE}"]

    def _first_boot_setup(self):
        """The accounts, the groups and the _steward user, then every unit
        enabled and started (enabled units start at each later boot)."""
        self.run("systemd-sysusers")
        for role in ROLES:
            self.run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                     "-G", f"steward-{role}", "--", f"ct-{role}")
        self.run("chpasswd", input="".join(f"ct-{r}:{self._passwords[r]}\n" for r in ROLES))
        self.run("systemctl", "enable", "--now", "stewardd.service", *ENABLE)
        self.run("systemctl", "enable", "steward-test-fail.service")
        self.run("systemctl", "start", "steward-test-fail.service", check=False)

    def _wait_daemon(self, timeout=120):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.run("systemctl", "is-active", "stewardd.service", check=False).stdout.strip()
            if state == "failed":
                break
            if state == "active":
                try:
                    with socket.create_connection((self.ip, PORT), timeout=2):
                        break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"stewardd did not start in the container ({state}):\n{self._daemon_log()[-4000:]}")
        if state == "failed":
            raise RuntimeError(f"stewardd failed in the container:\n{self._daemon_log()[-4000:]}")
        pem = self.path("/etc/steward/tls/cert.pem").read_text()
        (self.tmp / "cert.pem").write_text(pem)
        self.fingerprint = "SHA256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()

    def _daemon_log(self, after=None):
        argv = ["journalctl", "--no-pager", "-o", "cat", "-u", "stewardd.service"]
        if after:
            argv.append(f"--after-cursor={after}")
        return self.run(*argv, check=False).stdout

    def journal_cursor(self):
        """The journal's current end, for journal(f"--after-cursor={c}")."""
        out = self.run("journalctl", "--no-pager", "-n", "1", "-o", "cat", "--show-cursor").stdout
        line = out.rstrip("\n").rpartition("\n")[2]
        return line.split("-- cursor: ", 1)[1] if line.startswith("-- cursor: ") else None

    def after_test(self, cursor):
        """After each test that used the container: stewardd's journal since
        the test began holds no sanitizer report, and the daemon did not
        fail; one a test stopped (or that failed) is started again for the
        next test."""
        log = self._daemon_log(after=cursor)
        st = self.show("stewardd.service", "ActiveState", "Result", "ExecMainStatus")
        if st["ActiveState"] != "active":
            self.run("systemctl", "reset-failed", "stewardd.service", check=False)
            # Fails at once, saying why, when a test left it masked.
            self.run("systemctl", "start", "stewardd.service")
            self._wait_daemon()
            self._recheck_tokens()
        for mark in SANITIZER_MARKS:
            assert mark not in log, f"sanitizer report in stewardd's journal during the test:\n{log[-8000:]}"
        assert st["ActiveState"] == "active" or st["Result"] == "success", \
            f"stewardd failed during the test ({st}):\n{log[-4000:]}"

    def check_daemon(self):
        """Stops stewardd; fails unless it exited 0 and its journal (every
        boot) holds no sanitizer report."""
        self.run("systemctl", "stop", "stewardd.service", timeout=90)
        st = self.show("stewardd.service", "Result", "ExecMainStatus", "ExecMainCode")
        log = self._daemon_log()
        for mark in SANITIZER_MARKS:
            assert mark not in log, f"sanitizer report in stewardd's journal:\n{log[-8000:]}"
        assert st.get("Result") == "success" and st.get("ExecMainStatus") == "0", \
            f"stewardd stopped with {st}:\n{log[-4000:]}"

    def restart_daemon(self):
        """Stops stewardd (checked as at teardown) and starts it again."""
        self.check_daemon()
        self.run("systemctl", "start", "stewardd.service")
        self._wait_daemon()
        self._recheck_tokens()

    def reboot(self, timeout=120):
        """A real reboot: stewardd stopped and checked, `systemctl reboot`,
        nspawn waited for, the same writable layer booted again (enabled
        units start, stewardd among them)."""
        self.check_daemon()
        self.run("systemctl", "reboot", check=False, timeout=30)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the container did not go down for the reboot:\n{self.console_text()[-4000:]}")
        self.leader = None
        self.console.close()
        self.console = None
        t = time.monotonic()
        self.boot()
        self._wait_daemon()
        STATS["reboot_seconds"] = time.monotonic() - t
        self._recheck_tokens()

    def stop(self, timeout=60, check=True):
        """Teardown: stewardd checked (when check), the container powered
        off, the network namespace and the veth gone, the temporary
        directory removed; then fails if any of them is left."""
        errors = []
        try:
            if check and self.leader is not None:
                try:
                    self.check_daemon()
                except (AssertionError, RuntimeError, subprocess.TimeoutExpired) as e:
                    errors.append(str(e))
            self.poweroff(timeout)
        finally:
            if self.holder is not None:
                self.holder.kill()
                self.holder.wait(timeout=30)
            # The pair goes with the namespace, asynchronously; only ours is
            # deleted (a run beside this one may have taken the name since).
            deadline = time.monotonic() + 5
            while self._veth_is_ours() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._veth_is_ours():
                _ip("link", "del", "dev", self.veth, check=False)
            tmp = self.tmp
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
                self.tmp = None
            if self._lock is not None:
                self._lock.close()
                self._lock = None
        if check:
            errors += self.leftovers(tmp)
            assert not errors, "\n".join(errors)

    def _veth_is_ours(self):
        try:
            return int(Path(f"/sys/class/net/{self.veth}/ifindex").read_text()) == self.veth_ifindex
        except (OSError, ValueError, TypeError):
            return False

    def leftovers(self, tmp):
        """What the teardown should have removed and did not."""
        left = []
        if self._veth_is_ours():
            left.append(f"interface {self.veth} still exists")
        for p in (self.proc, self.holder):
            if p is not None and p.poll() is None:
                left.append(f"process {p.pid} ({p.args[0]}) still runs")
        if tmp is not None:
            mounts = Path("/proc/self/mountinfo").read_text()
            if str(tmp) in mounts:
                left.append(f"a mount under {tmp} is left")
            if tmp.exists():
                left.append(f"{tmp} is left")
        return left

    # -- inside --------------------------------------------------------
    def show(self, unit, *props):
        """`systemctl show UNIT [-p PROP,…]` as a dict."""
        argv = ["systemctl", "show", unit] + (["-p", ",".join(props)] if props else [])
        out = self.run(*argv).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, *args):
        """journalctl's output inside the container (no pager)."""
        return self.run("journalctl", "--no-pager", *args).stdout

    def add_units(self, n, prefix="steward-bench-"):
        """n more loaded and active units (PREFIXK.service, oneshot,
        RemainAfterExit, started through PREFIXall.target), for listings
        of a few hundred units; returns their names.  remove_units() undoes it."""
        system = self.path("/etc/systemd/system")
        names = [f"{prefix}{k}.service" for k in range(n)]
        for name in names:
            (system / name).write_text("[Unit]\nDescription=Steward bench: an idle unit\n\n"
                                       "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n")
        (system / f"{prefix}all.target").write_text(
            "[Unit]\nDescription=Steward bench: the idle units\nWants=" + " ".join(names) + "\n")
        self.run("systemctl", "daemon-reload")
        self.run("systemctl", "start", f"{prefix}all.target", timeout=300)
        return names

    def remove_units(self, prefix="steward-bench-"):
        self.run("systemctl", "stop", f"{prefix}*", check=False, timeout=300)
        for f in self.path("/etc/systemd/system").glob(f"{prefix}*"):
            f.unlink()
        self.run("systemctl", "daemon-reload")
        self.run("systemctl", "reset-failed", check=False)

    # -- from the host -------------------------------------------------
    @property
    def url(self):
        return f"https://{self.ip}:{PORT}"

    @property
    def cert_path(self):
        return str(self.tmp / "cert.pem")

    def credentials(self, role):
        """(user, password) of the account with this role, for a login form."""
        return f"ct-{role}", self._passwords[role]

    def token(self, role):
        """A session token of the account with this role (one login a session,
        again once it may have gone idle: auth:session_idle_timeout is 15 min,
        and the tests sharing this daemon may leave a role unused longer)."""
        now = time.monotonic()
        if role in self._tokens and now - self._token_used.get(role, now) > 600:
            self._recheck_tokens()
        self._token_used[role] = now
        if role not in self._tokens:
            user, password = self.credentials(role)
            r = self.https("POST", "/api/v1/login", {"user": user, "password": password})
            assert r.status == 200 and r.json["role"] == role, r
            self._tokens[role] = r.json["token"]
        return self._tokens[role]

    def _recheck_tokens(self):
        for role in list(self._tokens):
            if self.https("GET", "/api/v1/whoami", token=self._tokens[role]).status == 401:
                del self._tokens[role]

    def ssl_context(self):
        """The daemon's own certificate pinned (its names are the
        container's, not this address)."""
        ctx = ssl.create_default_context(cafile=self.cert_path)
        ctx.check_hostname = False
        return ctx

    def connection(self, timeout=30):
        """An HTTPSConnection to the daemon (for event streams)."""
        return http.client.HTTPSConnection(self.ip, PORT, context=self.ssl_context(), timeout=timeout)

    def https(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
        """One request over TLS from the host; token is a token or a role
        name (None: no Authorization)."""
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token in ROLES:
            token = self.token(token)
        if token:
            h["Authorization"] = f"Bearer {token}"
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read().decode())
        finally:
            conn.close()

    def cli(self, *args, role="admin", input=None, check=None, env=None, timeout=120):
        """The worktree's `steward` on the host against the daemon inside
        (-H ADDRESS:660, the certificate pinned, the role's token), with its
        known hosts and config in the session's temporary directory."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        e.update(HOME=str(self.tmp / "home"), XDG_CONFIG_HOME=str(self.tmp / "home" / ".config"),
                 ASAN_OPTIONS="detect_leaks=1")
        if role:
            e["STEWARD_TOKEN"] = self.token(role)
        e.update(env or {})
        argv = [str(self.build / "steward"), "-H", f"{self.ip}:{PORT}", "--fingerprint", self.fingerprint,
                *args]
        p = subprocess.run(argv, input=input, capture_output=True, text=True, env=e, timeout=timeout)
        for mark in SANITIZER_MARKS:
            assert mark not in p.stderr, p.stderr
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
        return p


@pytest.fixture(scope="session")
def systemd_ct():
    """The session's booted container (see the module's docstring)."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    t = time.monotonic()
    try:
        root = build_root(PACKAGES)
    except RuntimeError as e:
        pytest.skip(f"the container root could not be built: {e}")
    STATS["root_seconds"] = time.monotonic() - t
    ct = SystemdCt(root)
    ct.start()
    yield ct
    ct.stop()


@pytest.fixture(autouse=True)
def systemd_ct_checked(request):
    """Around every test that uses systemd_ct: SystemdCt.after_test."""
    if "systemd_ct" not in request.fixturenames:
        yield
        return
    ct = request.getfixturevalue("systemd_ct")
    cursor = ct.journal_cursor()
    yield
    ct.after_test(cursor)


def terminal_summary(terminalreporter):
    """One line with the container's timings, when a test used it."""
    if "boot_seconds" in STATS:
        parts = [f"{k.replace('_seconds', '')} {v:.1f} s" for k, v in STATS.items()]
        terminalreporter.write_line("systemd container: " + ", ".join(parts))
