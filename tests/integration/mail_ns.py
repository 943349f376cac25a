"""A real Postfix and Dovecot for the mail tests: the worktree's stewardd and
Debian's Postfix and Dovecot in one private mount namespace, the two servers
in a network namespace of their own reached from the host over a veth pair,
Python's smtplib and imaplib on the host.

    from mail_ns import mail_ns, mail        # noqa: F401 (the fixtures)

    def test_x(mail):
        mail.add_user("alice", "Alice-pw-1")
        mail.send_mail("bob@example.org", "alice", "hello", "body")
        assert "hello" in mail.wait_for_subject("alice", "Alice-pw-1", "hello")
        mail.api("GET", "/api/v1/modules/mail/connections", role="monitor")

Layout (one per test module, `mail_ns`; `mail` is the same object for one
test, closes the IMAP sessions the test left open and attaches Postfix's,
Dovecot's and the daemon's logs to a failing test):

  - the daemon runs under nsroot.py over a scratch copy of /etc (it holds the
    host's /etc/postfix, /etc/dovecot, /etc/aliases), a scratch /home, and
    scratch copies (`cp -a`: owners and modes as on the host) of
    /var/spool/postfix, /var/lib/postfix, /var/mail and /var/lib/dovecot,
    with an empty /run/dovecot and an empty /var/log (0755 root) beside
    them, each bound over the real path in its mount namespace;
  - the scratch main.cf is Debian's with `postconf -e` of: myhostname
    mail.steward.test, mydomain steward.test, mydestination $myhostname,
    $mydomain, localhost.$mydomain, localhost (so alice@steward.test is
    local), inet_interfaces all (in the network namespace: its address and
    its loopback; naming the address instead would make every Postfix tool
    the daemon's helper runs, outside that namespace — newaliases, postfix
    check — die with "no local interface found"), inet_protocols ipv4, mynetworks 127.0.0.0/8 and the veth's /30 (the
    host's end may relay), maillog_file /var/log/mail.log (Postfix 3.7's
    postlogd, the `postlog` service Debian's master.cf has), alias_maps and
    alias_database hash:/etc/aliases (Debian's); where Postfix was
    installed "No configuration" (no main.cf, master.cf), Debian's
    /usr/share/postfix/main.cf.debian and master.cf.dist first;
  - master.cf is Debian's, chroot kept: the chroot's files
    (/var/spool/postfix/etc/…) are copied by Debian's own
    /usr/lib/postfix/configure-instance.sh, run in the namespace before
    `postfix start`, as the postfix@- unit does;
  - Dovecot gets /etc/dovecot/conf.d/05-test-fixture.conf (its log to
    dovecot.log in the fixture's directory; plaintext logins over the veth;
    read before 99-steward.conf, which may override it) and a self-signed
    certificate at /etc/dovecot/private/dovecot.pem/.key, the paths Debian's
    10-ssl.conf names (the package makes that pair at install; this host
    has none); users log in through PAM against the scratch /etc/shadow;
    mail is mbox, Debian's default (INBOX /var/mail/USER, folders ~/mail);
  - Postfix (`postfix start`) and Dovecot (`dovecot -F`) are started with
    `nsenter -t DAEMON -m -u --net=/run/netns/NS`: they see the same scratch
    tree, so the daemon's postqueue, postsuper, postcat and doveadm reach
    them through the unix sockets under /var/spool/postfix/public|private
    and /run/dovecot;
  - the network namespace steward-mail-XXXXXX holds one end of a veth pair,
    10.125.N.2/30 (`ip`), the host the other, 10.125.N.1/30 (`host_ip`), N
    picked free per run: SMTP on ip:25 (587 and 465 once the settings turn
    them on), IMAP on ip:143, POP3 on ip:110.

/run/dovecot is made on the host when missing (an empty directory, the mount
point) and left there: a mail test run beside this one may have its scratch
directory bound on it, which removing it would unmount.

Teardown kills every process in the network namespace (Postfix, Dovecot and
their children), stops the daemon (exit 0, no sanitizer report: conftest's
check), deletes the namespace (and with it the veth pair), checks that no
mount of the scratch tree is left and that the host's Postfix and Dovecot
files and directories (HOST_PATHS) are as they were.
"""
import hashlib
import imaplib
import json
import os
import secrets
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import Daemon
from nsroot import ns_argv, scratch_etc

# Scratch copies of the host's (cp -a), bound over them in the namespace.
COPIED_DIRS = ("/var/spool/postfix", "/var/lib/postfix", "/var/mail", "/var/lib/dovecot")
# Empty scratch directories (0755 root) bound over these.
EMPTY_DIRS = ("/run/dovecot", "/var/log")

# What the tests must leave as they found it on the host (host_mail_state()).
HOST_PATHS = ("/etc/postfix", "/etc/dovecot", "/etc/aliases", "/etc/aliases.db", "/etc/mailname",
              "/var/spool/postfix", "/var/lib/postfix", "/var/mail", "/var/lib/dovecot")

HOSTNAME = "mail.steward.test"
DOMAIN = "steward.test"
# The relay host that makes mail wait (nothing listens there): defer_mail().
DEAD_RELAY = "[127.0.0.1]:2526"

DOVECOT_CONF = """\
# Added by the mail test fixture (tests/integration/mail_ns.py).
log_path = {log}
disable_plaintext_auth = no
"""


def _ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True)


def _subnets_in_use():
    """The N of every 10.125.N.x address on this host's interfaces, counted."""
    used = {}
    for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
        for word in line.split():
            if word.startswith("10.125."):
                n = word.split(".")[2]
                used[n] = used.get(n, 0) + 1
    return used


def _entry(path):
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        digest = os.readlink(path)
    else:
        digest = None
    return (st.st_mode, st.st_uid, st.st_gid, digest)


def host_mail_state():
    """{path: (mode, owner, group, sha256 of the content or link target)}
    for every entry under HOST_PATHS: what a run must not change on the host."""
    state = {}
    for top in HOST_PATHS:
        if not os.path.lexists(top):
            state[top] = None
        elif os.path.islink(top) or not os.path.isdir(top):
            state[top] = _entry(top)
        else:
            for dirpath, dirnames, filenames in os.walk(top):
                for name in [""] + dirnames + filenames:
                    path = os.path.join(dirpath, name) if name else dirpath
                    state[path] = _entry(path)
    return state


class MailNs:
    """The daemon, Postfix, Dovecot and the network namespace; see the module
    comment."""

    def __init__(self, base: Path):
        self.base = base
        self.ns = f"steward-mail-{secrets.token_hex(3)}"
        self.veth = "vmail" + self.ns[-6:]  # host end; the namespace's end is "eth0"
        self.dovecot = None
        self.dovecot_log_path = base / "dovecot.log"
        self.sessions = []  # open IMAP sessions (imap_login)
        self.domain = DOMAIN
        self.hostname = HOSTNAME

    # ---- set-up ---------------------------------------------------------------

    def start(self):
        t0 = time.monotonic()
        self.host_before = host_mail_state()
        self._make_netns()
        self._make_tree()
        self._start_daemon()
        self._configure_postfix()
        self._start_postfix()
        self._start_dovecot()
        self.setup_seconds = time.monotonic() - t0
        return self

    def _make_netns(self):
        """The namespace and the veth pair in a 10.125.N.0/30 no other
        interface uses: N random, checked again once the address is set (a
        run beside this one may have picked the same N in between)."""
        _ip("netns", "add", self.ns)
        _ip("-n", self.ns, "link", "set", "lo", "up")
        for n in secrets.SystemRandom().sample(range(256), 256):
            if str(n) in _subnets_in_use():
                continue
            _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns",
                self.ns)
            _ip("addr", "add", f"10.125.{n}.1/30", "dev", self.veth)
            if _subnets_in_use().get(str(n)) == 1:
                break
            _ip("link", "del", self.veth)  # taken meanwhile: the pair goes, try another
        else:
            raise RuntimeError("no free 10.125.N.0/30")
        self.host_ip, self.ip = f"10.125.{n}.1", f"10.125.{n}.2"
        self.net = f"10.125.{n}.0/30"
        _ip("link", "set", self.veth, "up")
        _ip("-n", self.ns, "addr", "add", f"{self.ip}/30", "dev", "eth0")
        _ip("-n", self.ns, "link", "set", "eth0", "up")

    def _make_tree(self):
        root = self.base / "ns"
        root.mkdir()
        self.etc = scratch_etc(root)
        self.home = root / "home"
        self.home.mkdir(mode=0o755)
        self.scratch = {"/etc": self.etc, "/home": self.home}
        self.binds = []
        for d in COPIED_DIRS:
            dst = root / d.lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-a", "--", d, str(dst)], check=True)
            self.binds.append((dst, d))
            self.scratch[d] = dst
        for d in EMPTY_DIRS:
            dst = root / d.lstrip("/")
            dst.mkdir(parents=True)
            os.chmod(dst, 0o755)
            if not os.path.isdir(d):  # the mount point: see the module comment
                os.makedirs(d, mode=0o755, exist_ok=True)
            self.binds.append((dst, d))
            self.scratch[d] = dst
        self._make_certificate()
        (self.etc / "dovecot" / "conf.d" / "05-test-fixture.conf").write_text(
            DOVECOT_CONF.format(log=self.dovecot_log_path))
        (self.etc / "mailname").write_text(HOSTNAME + "\n")

    def _make_certificate(self):
        """Dovecot's certificate where Debian's 10-ssl.conf looks for it (also
        a certificate the settings tests may point Postfix at)."""
        private = self.etc / "dovecot" / "private"
        private.mkdir(mode=0o700, exist_ok=True)
        self.cert = "/etc/dovecot/private/dovecot.pem"
        self.key = "/etc/dovecot/private/dovecot.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", f"/CN={HOSTNAME}", "-keyout", str(private / "dovecot.key"),
                        "-out", str(private / "dovecot.pem")],
                       check=True, capture_output=True)
        os.chmod(private / "dovecot.key", 0o600)

    def _start_daemon(self):
        self.daemon = Daemon(self.base / "d")
        self.daemon.wrap = lambda argv: ns_argv(self.etc, argv, home=self.home,
                                                extra_binds=self.binds)
        self.daemon.start()

    def _configure_postfix(self):
        # A machine whose Postfix was installed "No configuration" has no
        # main.cf or master.cf: Debian's own, as its postinst writes them.
        for name, src in (("main.cf", "main.cf.debian"), ("master.cf", "master.cf.dist")):
            if not (self.etc / "postfix" / name).exists():
                shutil.copy(f"/usr/share/postfix/{src}", self.etc / "postfix" / name)
        if not (self.etc / "aliases").exists():
            (self.etc / "aliases").write_text("# See man 5 aliases for format\npostmaster:    root\n")
        p = self.run_in_ns(
            "postconf", "-e", f"myhostname={HOSTNAME}", f"mydomain={DOMAIN}",
            "mydestination=$myhostname, $mydomain, localhost.$mydomain, localhost",
            "inet_interfaces=all", "inet_protocols=ipv4",
            f"mynetworks=127.0.0.0/8, {self.net}", "maillog_file=/var/log/mail.log",
            "alias_maps=hash:/etc/aliases", "alias_database=hash:/etc/aliases")
        assert p.returncode == 0, p.stderr
        p = self.run_in_ns("newaliases")
        assert p.returncode == 0, p.stderr

    def _start_postfix(self):
        p = self.run_in_ns("/usr/lib/postfix/configure-instance.sh", "-", net=True)
        assert p.returncode == 0, p.stdout + p.stderr
        p = self.run_in_ns("postfix", "start", net=True)
        assert p.returncode == 0, p.stdout + p.stderr + self.postfix_log()
        self._wait_port(25, "Postfix", lambda: None, self.postfix_log)

    def _start_dovecot(self):
        self.dovecot_out = open(self.base / "dovecot.out", "ab")
        self.dovecot = subprocess.Popen(
            ["nsenter", "-t", str(self.daemon.proc.pid), "-m", "-u", f"--net=/run/netns/{self.ns}",
             "--", "dovecot", "-F"],
            stdout=self.dovecot_out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_port(143, "Dovecot", self.dovecot.poll, self.dovecot_log)
        deadline = time.monotonic() + 30
        while not self.dovecot_pid() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop_dovecot(self):
        """Stops Dovecot (`doveadm stop` in the namespace: its sessions end);
        start_dovecot() starts it again."""
        p = self.run_in_ns("doveadm", "stop")
        assert p.returncode == 0, p.stderr
        self.dovecot.wait(timeout=30)
        self.dovecot_out.close()

    def start_dovecot(self):
        self._start_dovecot()

    def _wait_port(self, port, what, exited, log):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if exited() is not None:
                raise RuntimeError(f"{what} exited:\n{log()}")
            try:
                with socket.create_connection((self.ip, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{what} did not listen on {self.ip}:{port}:\n{log()}")

    # ---- helpers for tests -------------------------------------------------------

    def api(self, method, path, body=None, role="admin"):
        """A request over TLS with a token of that role (admin: the session)."""
        return self.daemon.https(method, path, body, token=self.token(role))

    def token(self, role="admin"):
        if role == "admin":
            return self.daemon.token
        cache = self.__dict__.setdefault("_tokens", {})
        if role not in cache:
            r = self.daemon.https("POST", "/api/v1/tokens", {"name": f"mail-{role}", "role": role})
            assert r.status == 200, r
            cache[role] = r.json["token"]
        return cache[role]

    def cli(self, *args, stdin=None, check=None):
        """The steward CLI as root over the daemon's local socket."""
        return self.daemon.cli(*args, stdin=stdin, check=check)

    def run_in_ns(self, *argv, input=None, check=False, net=False, timeout=60):
        """argv as root in the daemon's mount and UTS namespaces (and the
        servers' network namespace with net=True); a CompletedProcess."""
        ns = ["-m", "-u"] + ([f"--net=/run/netns/{self.ns}"] if net else [])
        return subprocess.run(["nsenter", "-t", str(self.daemon.proc.pid), *ns, "--",
                               *[str(a) for a in argv]],
                              input=input, capture_output=True, text=True, check=check,
                              timeout=timeout)

    def add_user(self, name, password, groups=()):
        """A system user with a home (in the scratch /home) through the users
        API: Postfix delivers to /var/mail/NAME, Dovecot logs them in (PAM)."""
        r = self.api("POST", "/api/v1/users", {"name": name, "password": password,
                                               "groups": list(groups), "create_home": True})
        assert r.status == 201, r
        return name, password

    def address(self, to):
        """to as an address: a bare local name gets @steward.test."""
        return to if "@" in to else f"{to}@{DOMAIN}"

    def send_mail(self, frm, to, subject, body="test message\n", port=25, headers=None):
        """One message over SMTP from the host to ip:port (to: an address or
        a list; bare names get @steward.test); the Message-ID."""
        msg = EmailMessage()
        rcpts = [self.address(t) for t in ([to] if isinstance(to, str) else to)]
        msg["From"] = self.address(frm)
        msg["To"] = ", ".join(rcpts)
        msg["Subject"] = subject
        msg["Message-ID"] = f"<{secrets.token_hex(8)}@test.{DOMAIN}>"
        for k, v in (headers or {}).items():
            msg[k] = v
        msg.set_content(body)
        with smtplib.SMTP(self.ip, port, timeout=30) as s:
            s.send_message(msg, from_addr=self.address(frm), to_addrs=rcpts)
        return msg["Message-ID"]

    def imap_login(self, user, password):
        """An open, logged-in IMAP session (closed after the test if the test
        leaves it open)."""
        s = imaplib.IMAP4(self.ip, 143, timeout=30)
        self.sessions.append(s)
        s.login(user, password)
        return s

    def imap_fetch_subjects(self, user, password):
        """The subjects of the messages in user's INBOX, in order."""
        s = imaplib.IMAP4(self.ip, 143, timeout=30)
        try:
            s.login(user, password)
            typ, data = s.select("INBOX", readonly=True)
            assert typ == "OK", data
            if int(data[0]) == 0:
                return []
            typ, data = s.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert typ == "OK", data
            subjects = []
            for item in data:
                if isinstance(item, tuple):
                    line = item[1].decode(errors="replace").strip()
                    subjects.append(line.partition(":")[2].strip())
            return subjects
        finally:
            try:
                s.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def wait_for_subject(self, user, password, subject, timeout=60):
        """user's INBOX subjects once one is subject (delivery is
        asynchronous); raises with the logs if it never comes."""
        deadline = time.monotonic() + timeout
        while True:
            subjects = self.imap_fetch_subjects(user, password)
            if subject in subjects:
                return subjects
            if time.monotonic() > deadline:
                raise AssertionError(f"{subject!r} not delivered to {user}: {subjects}\n"
                                     f"{self.postfix_log()[-3000:]}")
            time.sleep(0.2)

    def postqueue(self):
        """`postqueue -j` in the namespace: a list of the queue's messages."""
        p = self.run_in_ns("postqueue", "-j")
        assert p.returncode == 0, p.stderr
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    def postconf_n(self):
        """`postconf -n` in the namespace (the scratch main.cf)."""
        p = self.run_in_ns("postconf", "-n")
        assert p.returncode == 0, p.stderr
        return p.stdout

    def postconf(self, *settings):
        """`postconf -e K=V…` then `postfix reload`, in the namespace."""
        p = self.run_in_ns("postconf", "-e", *settings)
        assert p.returncode == 0, p.stderr
        p = self.run_in_ns("postfix", "reload", net=True)
        assert p.returncode == 0, p.stderr

    def defer_mail(self, to="someone@example.com", frm="sender@example.net", subject=None,
                   timeout=60):
        """A message that waits in the deferred queue: relayhost set to
        [127.0.0.1]:2526, where nothing listens (left so: a flush defers it
        again for the same reason), then one message to an outside address;
        its `postqueue -j` entry once Postfix has deferred it."""
        if DEAD_RELAY not in self.postconf_n():
            self.postconf(f"relayhost={DEAD_RELAY}")
        subject = subject or f"deferred {secrets.token_hex(4)}"
        mid = self.send_mail(frm, to, subject)
        deadline = time.monotonic() + timeout
        flushed = False
        while True:
            for m in self.postqueue():
                if m.get("queue_name") != "deferred":
                    continue
                if not self._has_message_id(m["queue_id"], mid):
                    continue
                reasons = " ".join(r.get("delay_reason", "") for r in m.get("recipients", []))
                if "127.0.0.1" in reasons:
                    return m
                if not flushed:  # a delivery agent of before the reload tried first
                    self.run_in_ns("postqueue", "-i", m["queue_id"])
                    flushed = True
            if time.monotonic() > deadline:
                raise AssertionError(f"no deferred message {mid}: {self.postqueue()}\n"
                                     f"{self.postfix_log()[-3000:]}")
            time.sleep(0.2)

    def _has_message_id(self, queue_id, mid):
        p = self.run_in_ns("postcat", "-h", "-q", queue_id)
        return mid in p.stdout

    def path(self, path):
        """Where a path of the namespace's tree (/etc/…, /var/mail/…,
        /var/spool/postfix/…) is on the host."""
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

    def postfix_pid(self):
        text = self.read("/var/spool/postfix/pid/master.pid")
        return int(text) if text and text.strip().isdigit() else None

    def dovecot_pid(self):
        text = self.read("/run/dovecot/master.pid")
        return int(text) if text and text.strip().isdigit() else None

    def postfix_log(self):
        text = self.read("/var/log/mail.log")
        return text.decode(errors="replace") if text else ""

    def dovecot_log(self):
        out = ""
        for p in (self.dovecot_log_path, self.base / "dovecot.out"):
            try:
                out += p.read_text(errors="replace")
            except FileNotFoundError:
                pass
        return out

    def failure_sections(self):
        """What conftest attaches to a failing test's report."""
        return [("postfix log (tail)", self.postfix_log()[-8000:]),
                ("dovecot log (tail)", self.dovecot_log()[-8000:]),
                ("stewardd log (tail)", self.daemon.log_text()[-8000:])]

    # ---- teardown ------------------------------------------------------------------

    def close_sessions(self):
        for s in self.sessions:
            try:
                s.shutdown()
            except (imaplib.IMAP4.error, OSError):
                pass
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
        if self.dovecot is not None:
            self.dovecot.wait(timeout=30)
            self.dovecot_out.close()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.veth], capture_output=True)  # gone with the ns
        try:
            if getattr(self, "daemon", None) is not None and self.daemon.proc is not None:
                self.daemon.check_clean_exit()
        finally:
            mounts = Path("/proc/self/mounts").read_text()
            assert str(self.base) not in mounts, "a scratch mount is left on the host"
            assert f"netns/{self.ns}" not in mounts, "the network namespace is still mounted"


def _tools_missing():
    return [t for t in ("postfix", "postconf", "postqueue", "dovecot", "doveadm", "nsenter", "ip",
                        "openssl") if not shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin")]


@pytest.fixture(scope="module")
def mail_ns():
    """The module's MailNs (set up once: daemon, Postfix, Dovecot, namespaces)."""
    if os.geteuid() != 0 or _tools_missing():
        pytest.skip(f"needs root and {_tools_missing()} (scripts/install-deps.sh test)")
    base = Path(tempfile.mkdtemp(prefix="steward-mail-"))
    os.chmod(base, 0o755)  # the daemon's front re-reads its config in there
    m = MailNs(base)
    try:
        m.start()
        yield m
    finally:
        try:
            m.stop()
        finally:  # the scratch tree goes even when the daemon's exit was not clean
            shutil.rmtree(base, ignore_errors=True)
    after = host_mail_state()
    changed = sorted(p for p in set(m.host_before) | set(after)
                     if m.host_before.get(p) != after.get(p))
    assert not changed, f"the mail tests changed the host: {changed}"


@pytest.fixture
def mail(mail_ns):
    """mail_ns for one test; conftest attaches its logs when the test fails,
    and any IMAP session the test left open is closed."""
    yield mail_ns
    mail_ns.close_sessions()
