"""A real Samba for the shares tests: the worktree's stewardd and Debian's
smbd in one private mount namespace, smbd in a network namespace of its own
reached from the host over a veth pair, smbclient on the host.

    from smb_ns import smb_ns, smb          # noqa: F401 (the fixtures)

    def test_x(smb):
        smb.add_user("alice", "Alice-pw-1", groups=["staff"])
        smb.api("POST", "/api/v1/shares", {...})
        rc, out = smb.smbclient("docs", "alice", "Alice-pw-1", "ls")

Layout (one per test module, `smb_ns`; `smb` is the same object for one test
and attaches smbd's log and the daemon's log to a failing test):

  - the daemon runs under nsroot.py over scratch copies of /etc and empty
    scratch /home, /srv (0755 root, as Debian makes it: the core shares a
    folder only under folders root alone may write), /var/lib/samba,
    /run/samba, /var/cache/samba, /var/log/samba and /var/lib/nfs, made with
    the modes the packages give them (those of the host's directories); the
    scratch smb.conf is Debian's with a few
    lines added at the top of [global] that make smbd listen only on the
    namespace's address, skip NetBIOS and printing, and start fast;
  - smbd (`--foreground --no-process-group --debug-stdout`) is started with
    `nsenter -t DAEMON -m -u --net=/run/netns/NS`: it sees the same scratch
    tree, so the daemon's smbcontrol, smbstatus and testparm reach it through
    the unix sockets and databases under /run/samba and /var/lib/samba;
  - the network namespace steward-smb-XXXXXX holds one end of a veth pair,
    10.124.N.2/30, the host the other, 10.124.N.1/30, N picked free per run;
  - smbclient runs on the host with a client smb.conf of its own whose
    directories are scratch ones (the host's /var/lib/samba and
    /var/cache/samba are never written), the password in an authentication
    file of mode 0600 in a 0700 directory (never on a command line).

Teardown kills every process in the network namespace (smbd and the helpers
it spawned), stops the daemon (exit 0, no sanitizer report: conftest's
check), deletes the namespace (and with it the veth pair), and checks that
no mount of the scratch tree is left.
"""
import hashlib
import os
import pty
import re
import secrets
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import termios
import time
from pathlib import Path

import pytest

from conftest import Daemon
from nsroot import ns_argv, scratch_etc

# Samba's directories, scratch copies of which the daemon and smbd share.
# /var/lib/nfs: exportfs -ra, which the daemon runs after a change, writes its
# table (etab) there.
SCRATCH_DIRS = ("/var/lib/samba", "/run/samba", "/var/cache/samba", "/var/log/samba",
              "/var/lib/nfs")
# Their subdirectories that smbd expects to find (created with the host's modes).
SCRATCH_SUBDIRS = ("/var/lib/samba/private", "/var/lib/samba/usershares")

# What the tests must leave as they found it on the host (host_samba_state()).
HOST_DIRS = ("/etc/samba", "/var/lib/samba", "/var/cache/samba", "/etc/exports.d",
             "/etc/exports", "/etc/avahi/services", "/srv", "/var/lib/nfs")

# Added at the top of [global] in the scratch smb.conf ({ip} is smbd's address).
GLOBAL_LINES = """\
   # Added by the shares test fixture (tests/integration/smb_ns.py).
   interfaces = {ip}/30
   bind interfaces only = yes
   smb ports = 445
   disable netbios = yes
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   dns proxy = no
   host msdfs = no
"""

CLIENT_CONF = """\
[global]
   workgroup = WORKGROUP
   client min protocol = SMB2_02
   lock directory = {d}/lock
   state directory = {d}/state
   cache directory = {d}/cache
   private dir = {d}/private
   ncalrpc dir = {d}/ncalrpc
   pid directory = {d}/pid
   log file = {d}/log.client
"""


def _ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True)


def _subnets_in_use():
    """The N of every 10.124.N.x address on this host's interfaces, counted."""
    used = {}
    for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
        for word in line.split():
            if word.startswith("10.124."):
                n = word.split(".")[2]
                used[n] = used.get(n, 0) + 1
    return used


def host_samba_state():
    """{path: (mode, owner, sha256 of the content or link target)} for every
    entry under HOST_DIRS: what a run must not change on the host."""
    state = {}
    for top in HOST_DIRS:
        if not os.path.lexists(top):
            state[top] = None
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [""] + dirnames + filenames:
                path = os.path.join(dirpath, name) if name else dirpath
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                elif stat.S_ISLNK(st.st_mode):
                    digest = os.readlink(path)
                else:
                    digest = None
                state[path] = (st.st_mode, st.st_uid, st.st_gid, digest)
    return state


def _mkdir_like(host_dir, scratch_dir):
    """scratch_dir with the owner and mode of host_dir (0755 root if the host
    lacks it)."""
    scratch_dir.mkdir(parents=True, exist_ok=True)
    try:
        st = os.stat(host_dir)
        os.chown(scratch_dir, st.st_uid, st.st_gid)
        os.chmod(scratch_dir, stat.S_IMODE(st.st_mode))
    except FileNotFoundError:
        os.chmod(scratch_dir, 0o755)


class SmbNs:
    """The daemon, smbd and the network namespace; see the module comment."""

    def __init__(self, base: Path):
        self.base = base
        self.ns = f"steward-smb-{secrets.token_hex(3)}"
        self.veth = "vsmb" + self.ns[-6:]  # host end; the namespace's end is "eth0"
        self.smbd = None
        self.sessions = []  # open smbclient sessions (smbclient_session)
        self.smbd_log_path = base / "smbd.log"
        self.created_mountpoints = []
        self.client_dir = base / "client"
        self.secrets_dir = Path(tempfile.mkdtemp(prefix="steward-smbauth-"))  # 0700

    # ---- set-up ---------------------------------------------------------------

    def start(self):
        t0 = time.monotonic()
        self.host_before = host_samba_state()
        self._make_netns()
        self._make_tree()
        self._start_daemon()
        self._start_smbd()
        self.setup_seconds = time.monotonic() - t0
        return self

    def _make_netns(self):
        """The namespace and the veth pair in a 10.124.N.0/30 no other
        interface uses: N random, checked again once the address is set (a
        run beside this one may have picked the same N in between)."""
        _ip("netns", "add", self.ns)
        _ip("-n", self.ns, "link", "set", "lo", "up")
        for n in secrets.SystemRandom().sample(range(256), 256):
            if str(n) in _subnets_in_use():
                continue
            _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns",
                self.ns)
            _ip("addr", "add", f"10.124.{n}.1/30", "dev", self.veth)
            if _subnets_in_use().get(str(n)) == 1:
                break
            _ip("link", "del", self.veth)  # taken meanwhile: the pair goes, try another
        else:
            raise RuntimeError("no free 10.124.N.0/30")
        self.host_ip, self.ip = f"10.124.{n}.1", f"10.124.{n}.2"
        _ip("link", "set", self.veth, "up")
        _ip("-n", self.ns, "addr", "add", f"{self.ip}/30", "dev", "eth0")
        _ip("-n", self.ns, "link", "set", "eth0", "up")

    def _make_tree(self):
        root = self.base / "ns"
        root.mkdir()
        self.etc = scratch_etc(root)
        self.home = root / "home"
        self.home.mkdir(mode=0o755)
        self.srv = root / "srv"
        self.srv.mkdir(mode=0o755)  # as base-files makes it (the host's may differ), root's
        os.chmod(self.srv, 0o755)
        self.binds = [(self.srv, "/srv")]
        for d in SCRATCH_DIRS + SCRATCH_SUBDIRS:
            _mkdir_like(d, root / d.lstrip("/"))
        for d in SCRATCH_DIRS:
            if not os.path.isdir(d):  # the mount point (a fresh machine may lack /run/samba)
                os.makedirs(d, mode=0o755)
                self.created_mountpoints.append(d)
            self.binds.append((root / d.lstrip("/"), d))
        self.scratch = {"/etc": self.etc, "/home": self.home, "/srv": self.srv}
        self.scratch.update({d: root / d.lstrip("/") for d in SCRATCH_DIRS})
        conf = self.etc / "samba" / "smb.conf"
        text = conf.read_text()
        head, sep, tail = text.partition("[global]\n")
        assert sep, "no [global] in smb.conf"
        conf.write_text(head + sep + GLOBAL_LINES.format(ip=self.ip) + tail)
        for d in ("lock", "state", "cache", "private", "ncalrpc", "pid"):
            (self.client_dir / d).mkdir(parents=True)
        (self.client_dir / "smb.conf").write_text(CLIENT_CONF.format(d=self.client_dir))

    def _start_daemon(self):
        self.daemon = Daemon(self.base / "d")
        self.daemon.wrap = lambda argv: ns_argv(self.etc, argv, home=self.home,
                                                extra_binds=self.binds)
        self.daemon.start()

    def _start_smbd(self):
        self.smbd_log = open(self.smbd_log_path, "ab")
        self.smbd = subprocess.Popen(
            ["nsenter", "-t", str(self.daemon.proc.pid), "-m", "-u", f"--net=/run/netns/{self.ns}",
             "--", "smbd", "--foreground", "--no-process-group", "--debug-stdout", "-d", "1"],
            stdout=self.smbd_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.smbd.poll() is not None:
                raise RuntimeError(f"smbd exited {self.smbd.returncode}:\n{self.smbd_log_text()}")
            try:
                with socket.create_connection((self.ip, 445), timeout=1):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            if self.smbd_pid() == self.smbd.pid:
                return
            time.sleep(0.05)
        raise RuntimeError(f"smbd did not start:\n{self.smbd_log_text()}")

    def stop_smbd(self):
        """Stops smbd and every process it started (a test of changes made
        while it is down); start_smbd() starts it again."""
        pids = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.smbd.wait(timeout=30)
        self.smbd_log.close()

    def start_smbd(self):
        self._start_smbd()

    # ---- helpers for tests -------------------------------------------------------

    def api(self, method, path, body=None, role="admin"):
        """A request over TLS with a token of that role (admin: the session)."""
        return self.daemon.https(method, path, body, token=self.token(role))

    def token(self, role="admin"):
        if role == "admin":
            return self.daemon.token
        cache = self.__dict__.setdefault("_tokens", {})
        if role not in cache:
            r = self.daemon.https("POST", "/api/v1/tokens", {"name": f"smb-{role}", "role": role})
            assert r.status == 200, r
            cache[role] = r.json["token"]
        return cache[role]

    def cli(self, *args, stdin=None, check=None):
        """The steward CLI as root over the daemon's local socket."""
        return self.daemon.cli(*args, stdin=stdin, check=check)

    def run_in_ns(self, *argv, input=None, check=False, net=False):
        """argv as root in the daemon's mount and UTS namespaces (and smbd's
        network namespace with net=True); a CompletedProcess."""
        ns = ["-m", "-u"] + ([f"--net=/run/netns/{self.ns}"] if net else [])
        return subprocess.run(["nsenter", "-t", str(self.daemon.proc.pid), *ns, "--",
                               *[str(a) for a in argv]],
                              input=input, capture_output=True, text=True, check=check,
                              timeout=60)

    def _authfile(self, user, password):
        path = self.secrets_dir / f"auth-{secrets.token_hex(4)}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"username = {user}\npassword = {password}\ndomain = WORKGROUP\n")
        return path

    def smbclient_argv(self, target, user, password, *extra):
        """smbclient's argv for target (//IP/SHARE, or ["-L", IP]) and the
        authentication file it reads (the caller removes it)."""
        auth = self._authfile(user, password)
        target = [target] if isinstance(target, str) else list(target)
        return ["smbclient", *target, "-s", str(self.client_dir / "smb.conf"),
                "-A", str(auth), *extra], auth

    def smbclient(self, share, user, password, *commands, timeout=60, options=()):
        """Runs `smbclient //IP/SHARE -c "CMD; CMD"` from the host over the
        veth, with more smbclient options if given (e.g. "--option=client
        max protocol=SMB2_10"); (rc, stdout+stderr)."""
        argv, auth = self.smbclient_argv(f"//{self.ip}/{share}", user, password,
                                         *options, "-c", "; ".join(commands))
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                               cwd=self.client_dir)
        finally:
            auth.unlink()
        return p.returncode, p.stdout + p.stderr

    def smbclient_list(self, user, password):
        """`smbclient -L`: (rc, output, [share names of type Disk])."""
        argv, auth = self.smbclient_argv(["-L", self.ip], user, password, "-g")
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        finally:
            auth.unlink()
        names = [l.split("|")[1] for l in p.stdout.splitlines() if l.startswith("Disk|")]
        return p.returncode, p.stdout + p.stderr, names

    def smbclient_session(self, share, user, password):
        """An interactive smbclient kept open on a pseudo-terminal (a
        connected client), connected when this returns; .session_cmd(p, CMD)
        runs a command in it.  (On a pipe, smbclient reads its input with a
        buffer it then waits beside: a second queued line is never run.)"""
        argv, auth = self.smbclient_argv(f"//{self.ip}/{share}", user, password)
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # no echo of the commands
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=self.client_dir,
                             start_new_session=True, env=dict(os.environ, TERM="dumb"))
        os.close(slave)
        p.master, p.authfile = master, auth
        self.sessions.append(p)
        self._until_prompt(p)
        return p

    PROMPT = re.compile(rb"smb: \\[^\n]*> $")

    def _until_prompt(self, p, timeout=30):
        out = b""
        deadline = time.monotonic() + timeout
        while not self.PROMPT.search(out):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([p.master], [], [], max(left, 0))
            chunk = b""
            if ready:
                try:
                    chunk = os.read(p.master, 65536)
                except OSError:  # EIO: the client has gone
                    chunk = b""
            if not chunk:
                raise RuntimeError("smbclient session ended or hung: "
                                   + out.decode(errors="replace"))
            out += chunk
        return self.PROMPT.sub(b"", out).decode(errors="replace").replace("\r\n", "\n")

    def session_cmd(self, p, command, timeout=30):
        """Runs one command in an open smbclient and returns its output; raises
        if the client has gone (disconnected by the server) or hangs."""
        os.write(p.master, command.encode() + b"\n")
        return self._until_prompt(p, timeout)

    def add_user(self, name, password, groups=()):
        """A system user through the users API, then an SMB password: the
        shares module's smb_account command, or `smbpasswd -s -a` in the
        namespace where that command is not there yet (501)."""
        r = self.api("POST", "/api/v1/users", {"name": name, "password": password,
                                               "groups": list(groups), "create_home": False})
        assert r.status == 201, r
        r = self.api("POST", "/api/v1/modules/shares/commands/smb_account",
                     {"user": name, "password": password})
        if r.status == 501:
            p = self.run_in_ns("smbpasswd", "-s", "-a", name, input=f"{password}\n{password}\n")
            assert p.returncode == 0, p.stdout + p.stderr
        else:
            assert r.status == 200, r
        return name, password

    def path(self, path):
        """Where a path of the namespace's tree (/etc/…, /srv/…,
        /var/lib/samba/…) is on the host."""
        for top, scratch in sorted(self.scratch.items(), key=lambda kv: -len(kv[0])):
            if path == top or path.startswith(top + "/"):
                return scratch / path[len(top):].lstrip("/")
        raise ValueError(f"{path} is not in the scratch tree")

    def read(self, path):
        """A file of the namespace's tree as bytes, or None if it is not there."""
        try:
            return self.path(path).read_bytes()
        except FileNotFoundError:
            return None

    def mkdir(self, path, mode=0o2775, group="root"):
        """A folder in the scratch tree (e.g. /srv/projects), made in the namespace."""
        p = self.run_in_ns("install", "-d", "-m", f"{mode:o}", "-g", group, path)
        assert p.returncode == 0, p.stderr
        return path

    def testparm(self, *args):
        """`testparm -s` in the namespace (the scratch smb.conf and the
        include file): (rc, stdout, stderr)."""
        p = self.run_in_ns("testparm", "-s", *args)
        return p.returncode, p.stdout, p.stderr

    def smbd_pid(self):
        text = self.read("/run/samba/smbd.pid")
        return int(text) if text and text.strip().isdigit() else None

    def smbd_log_text(self):
        try:
            return self.smbd_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def failure_sections(self):
        """What conftest attaches to a failing test's report."""
        return [("smbd log (tail)", self.smbd_log_text()[-8000:]),
                ("stewardd log (tail)", self.daemon.log_text()[-8000:])]

    # ---- teardown ------------------------------------------------------------------

    def close_sessions(self):
        for p in self.sessions:
            if p.poll() is None:
                p.kill()
            p.wait()
            os.close(p.master)
            p.authfile.unlink(missing_ok=True)
        self.sessions.clear()

    def stop(self):
        """Everything it started, in order, whatever part of start() ran;
        the daemon's clean exit is checked last."""
        self.close_sessions()
        if os.path.exists(f"/run/netns/{self.ns}"):
            pids = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.smbd is not None:
            self.smbd.wait(timeout=30)
            self.smbd_log.close()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.veth], capture_output=True)  # gone with the ns
        try:
            if getattr(self, "daemon", None) is not None and self.daemon.proc is not None:
                self.daemon.check_clean_exit()
        finally:
            for d in self.created_mountpoints:
                os.rmdir(d)
            shutil.rmtree(self.secrets_dir, ignore_errors=True)
            mounts = Path("/proc/self/mounts").read_text()
            assert str(self.base) not in mounts, "a scratch mount is left on the host"
            assert f"netns/{self.ns}" not in mounts, "the network namespace is still mounted"


@pytest.fixture(scope="module")
def smb_ns():
    """The module's SmbNs (set up once: daemon, smbd, namespaces)."""
    if os.geteuid() != 0 or not shutil.which("smbd") or not shutil.which("smbclient"):
        pytest.skip("needs root, smbd and smbclient (scripts/install-deps.sh test)")
    base = Path(tempfile.mkdtemp(prefix="steward-smb-"))
    os.chmod(base, 0o755)  # the daemon's front re-reads its config in there
    s = SmbNs(base)
    try:
        s.start()
        yield s
    finally:
        try:
            s.stop()
        finally:  # the scratch tree goes even when the daemon's exit was not clean
            shutil.rmtree(base, ignore_errors=True)
    after = host_samba_state()
    changed = sorted(p for p in set(s.host_before) | set(after)
                     if s.host_before.get(p) != after.get(p))
    assert not changed, f"the shares tests changed the host: {changed}"


@pytest.fixture
def smb(smb_ns):
    """smb_ns for one test; conftest attaches its logs when the test fails,
    and any smbclient session the test left open is closed."""
    yield smb_ns
    smb_ns.close_sessions()
