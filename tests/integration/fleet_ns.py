"""A fleet of real stewardd daemons on one Linux bridge, each in a network
namespace of its own, for the tests and the benchmark of many servers.

    from fleet_ns import Fleet, fleet3     # noqa: F401 (fleet3: the fixture)

    def test_x(fleet3):
        for m in fleet3.members:
            assert m.https("GET", "/api/v1/modules/system").status == 200
        fleet3.login_all()
        fleet3.cli("-H", "@all", "status", "system", check=0)

    f = Fleet(base_dir, n=3, build=BUILD, config_text=None, tls="self"|"ca").start()
    ...
    f.stop()

Layout, with X picked free per run in 10.127.0.0/16 (10.123 is the booted
container's, 10.124 the shares tests', 10.125 the mail tests', 10.126 the
network tests'):

    host  br "brfl<tag>" 10.127.X.1/24
            ├─ vfl<tag>-1 ── eth0 10.127.X.11/24   netns steward-fl-<tag>-1  stewardd :660
            ├─ vfl<tag>-2 ── eth0 10.127.X.12/24   netns steward-fl-<tag>-2  stewardd :660
            ├─ …
            └─ vex<tag>-K ── eth0 10.127.X.(1+K)   netns steward-fx-<tag>-K  (add_ns(): rsyslog,
                                                                            prometheus, …)

  - every member's stewardd listens on m.ip:660 (HTTPS) and answers
    discovery on 0.0.0.0:660/udp of its namespace (so a broadcast on the
    bridge reaches it), with m.name as its host name (its UTS namespace), with its own state, TLS and config directories
    under base_dir/m<i>; it runs in the member's network namespace
    (`nsenter --net`) under nsroot.py over ONE scratch copy of /etc that the
    whole fleet shares (made once: cp -a of /etc is slow), holding the admin
    account `fleetadmin` (group sudo, password f.password); nothing on the
    host changes;
  - tls="self": each daemon makes its own self-signed identity, as in
    production; tls="ca": a test CA (openssl, EC P-256) signs one
    certificate per member, SAN IP:m.ip, written as the member's
    --tls-dir/key.pem and cert.pem (src/daemon/tls.c's names); f.ca_cert is
    the CA's certificate (ansible's ca_path, Python's cafile);
  - f.home is the CLI's $HOME: ~/.config/steward/hosts names the group
    `web` (members 1 and 2) and `fleet` (every member; `@all` is the CLI's
    built-in group of every host in the file); login_all() fills its
    known_hosts and sessions by logging in to every member as fleetadmin.

Who owns what: the Fleet owns every namespace, veth, the bridge, every
daemon and the scratch tree under base_dir (the caller owns base_dir
itself and removes it).  stop() stops every daemon (clean exit, no sanitizer
report: conftest's check), kills what is left in the namespaces, deletes
them, the veths and the bridge, whatever part of start() ran, and then
checks that no namespace, link or mount of this fleet is left.

The daemons start in parallel and are waited for together; the benchmark
(bench/fleet.py) uses this module with a release build and n up to 240.
"""
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import conftest
from conftest import SANITIZER_MARKS
from net_ns import NetDaemon
from nsroot import ns_argv, scratch_etc

PORT = 660
FIRST_HOST = 11          # members are .11, .12, …
MAX_MEMBERS = 240        # .11 … .250
EXTRA_FIRST, EXTRA_LAST = 2, 10   # add_ns(): .2 … .10
ADMIN = "fleetadmin"
PASSWORD = "Fleet-Admin-pw-1"


def _ip(*args, check=True, input=None):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          input=input)


def _subnets_in_use():
    """{X: count} of every 10.127.X.x address on this host's interfaces."""
    used = {}
    for word in _ip("-4", "-o", "addr", "show").stdout.split():
        if word.startswith("10.127."):
            x = word.split(".")[2]
            used[x] = used.get(x, 0) + 1
    return used


class FleetDaemon(NetDaemon):
    """A conftest.Daemon on m.ip:660 in the member's namespace, discovery on
    0.0.0.0:660 there; the worktree's (or the given build's) stewardd."""

    def __init__(self, tmp, addr, build, ca_cert=None):
        super().__init__(tmp, addr)
        i = self.args.index(f"{addr}:{self.port}")
        self.port = PORT
        self.args[i] = f"{addr}:{PORT}"
        self.args[self.args.index("--udp") + 1] = f"0.0.0.0:{PORT}"
        self.args[0] = str(Path(build) / "stewardd")
        self.ca_cert = ca_cert

    def ssl_context(self):
        if self.ca_cert is None:
            return super().ssl_context()
        ctx = ssl.create_default_context(cafile=str(self.ca_cert))
        return ctx  # hostname checked: the certificate's SAN is the address

    @property
    def fingerprint(self):
        return fingerprint_of(self.cert_path)

    def wait_ready(self, timeout=60):
        """Up when its port takes connections: "listening on" is a notice,
        which a fleet whose log_level is "warning" (the bench) never logs."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stewardd exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection((self.addr, self.port), timeout=1):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"stewardd did not start:\n{self.log_text()[-3000:]}")


def fingerprint_of(cert_path):
    """"SHA256:<64 hex>" of a PEM certificate, as the daemon logs it and the
    CLI's known_hosts spells it."""
    import hashlib
    der = ssl.PEM_cert_to_DER_cert(Path(cert_path).read_text())
    return "SHA256:" + hashlib.sha256(der).hexdigest()


class Member:
    def __init__(self, fleet, index, ip):
        self.fleet = fleet
        self.index = index                       # 1, 2, …
        self.name = f"steward-fl-{fleet.tag}-{index}"
        self.ns = self.name
        self.veth = f"vfl{fleet.tag}-{index}"    # the host's end ("eth0" inside)
        self.ip = ip
        self.port = PORT
        self.addr = f"{ip}:{PORT}"
        self.daemon = None

    def https(self, method, path, body=None, token=True, headers=None, raw=None):
        """As Daemon.https, as admin (the bootstrap session) by default."""
        return self.daemon.https(method, path, body, token=token, headers=headers, raw=raw)

    def in_ns(self, *argv, input=None, check=False, timeout=60):
        """argv as root in the member's network namespace (the host's mounts)."""
        return subprocess.run(["ip", "netns", "exec", self.ns, *[str(a) for a in argv]],
                              input=input, capture_output=True, text=True, check=check,
                              timeout=timeout)

    @property
    def label(self):
        """How the CLI names this member in its output (the default port
        left out)."""
        return self.ip

    def __repr__(self):
        return f"<Member {self.name} {self.addr}>"


class Fleet:
    def __init__(self, base_dir, n=3, build=None, config_text=None, tls="self"):
        if not 1 <= n <= MAX_MEMBERS:
            raise ValueError(f"n must be 1…{MAX_MEMBERS}")
        if tls not in ("self", "ca"):
            raise ValueError('tls is "self" or "ca"')
        self.base = Path(base_dir)
        self.n = n
        self.build = Path(build) if build else conftest.BUILD
        self.config_text = config_text
        self.tls = tls
        self.tag = secrets.token_hex(2)
        self.bridge = f"brfl{self.tag}"
        self.password = PASSWORD
        self.admin = ADMIN
        self.members = []
        self.extras = []          # (ns, veth, ip) of add_ns()
        self.home = self.base / "home-cli"
        self.ca_cert = None
        self.x = None
        self._netns_made = []
        self._bridge_made = False

    # ---- set-up -----------------------------------------------------------------

    def start(self):
        try:
            self._make_bridge()
            self._make_members()
            self._make_etc()
            if self.tls == "ca":
                self._make_ca()
            self._start_daemons()
            self._write_hosts_file()
        except BaseException:
            self.stop(check=False)
            raise
        return self

    def _make_bridge(self):
        _ip("link", "add", self.bridge, "type", "bridge")
        self._bridge_made = True
        for x in secrets.SystemRandom().sample(range(256), 256):
            if str(x) in _subnets_in_use():
                continue
            _ip("addr", "add", f"10.127.{x}.1/24", "dev", self.bridge)
            if _subnets_in_use().get(str(x)) == 1:
                break
            _ip("addr", "del", f"10.127.{x}.1/24", "dev", self.bridge)  # taken meanwhile
        else:
            raise RuntimeError("no free 10.127.X.0/24")
        self.x = x
        self.host_ip = f"10.127.{x}.1"
        self.net = f"10.127.{x}.0/24"
        _ip("link", "set", self.bridge, "up")

    def _link_ns(self, ns, veth, ip):
        """ns made and joined to the bridge as ip/24 on its eth0 (batched:
        two `ip` runs per namespace)."""
        _ip("netns", "add", ns)
        self._netns_made.append(ns)
        _ip("-batch", "-", input=(f"link add {veth} type veth peer name eth0 netns {ns}\n"
                                  f"link set {veth} master {self.bridge}\n"
                                  f"link set {veth} up\n"))
        _ip("-n", ns, "-batch", "-", input=(f"link set lo up\n"
                                            f"addr add {ip}/24 dev eth0\n"
                                            f"link set eth0 up\n"))

    def _make_members(self):
        for i in range(1, self.n + 1):
            m = Member(self, i, f"10.127.{self.x}.{FIRST_HOST + i - 1}")
            self._link_ns(m.ns, m.veth, m.ip)
            self.members.append(m)

    def _make_etc(self):
        root = self.base / "ns"
        root.mkdir()
        self.etc = scratch_etc(root)
        self.ns_home = root / "home"
        self.ns_home.mkdir(mode=0o755)
        run = lambda argv, input=None: subprocess.run(  # noqa: E731
            ns_argv(self.etc, argv, home=self.ns_home), input=input, capture_output=True,
            text=True, check=True)
        run(["/usr/sbin/useradd", "--no-create-home", "--shell", "/bin/sh", "-G", "sudo", "--",
             ADMIN])
        run(["/usr/sbin/chpasswd"], input=f"{ADMIN}:{PASSWORD}\n")

    def _make_ca(self):
        d = self.base / "ca"
        d.mkdir()
        ossl = lambda *a: subprocess.run(["openssl", *map(str, a)], cwd=d,  # noqa: E731
                                         capture_output=True, text=True, check=True)
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj",
             f"/CN=Steward fleet test CA {self.tag}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.ca_cert = d / "ca.pem"
        for m in self.members:
            tls = self.base / f"m{m.index}" / "tls"
            tls.mkdir(parents=True, mode=0o700)
            ext = d / f"m{m.index}.ext"
            ext.write_text(f"subjectAltName=IP:{m.ip}\nbasicConstraints=CA:FALSE\n"
                           "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
            ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", tls / "key.pem", "-out", d / f"m{m.index}.csr",
                 "-subj", f"/CN={m.ip}")
            ossl("x509", "-req", "-in", d / f"m{m.index}.csr", "-CA", "ca.pem", "-CAkey",
                 "ca.key", "-CAcreateserial", "-days", "30", "-extfile", ext,
                 "-out", tls / "cert.pem")
            os.chmod(tls / "key.pem", 0o600)
            os.chmod(tls / "cert.pem", 0o644)

    def _start_daemons(self):
        for m in self.members:
            text = self.config_text(m) if callable(self.config_text) else self.config_text
            d = FleetDaemon(self.base / f"m{m.index}", m.ip, self.build, self.ca_cert)
            if text is not None:
                d.config.write_text(text)
            d.wrap = (lambda ns: lambda argv: [
                "nsenter", f"--net=/run/netns/{ns}", "--",
                *ns_argv(self.etc, argv, home=self.ns_home)])(m.ns)
            m.daemon = d
            d.start(wait=False)
        errors = []
        for m in self.members:
            try:
                m.daemon.wait_ready()
            except RuntimeError as e:
                errors.append(f"{m.name}: {e}")
        if errors:
            raise RuntimeError("\n".join(errors)[:8000])
        # Each member's own host name (its UTS namespace is private): m.name.
        for m in self.members:
            subprocess.run(["nsenter", "-t", str(m.daemon.proc.pid), "-u", "--", "hostname",
                            m.name], check=True)

    def _write_hosts_file(self):
        d = self.home / ".config" / "steward"
        d.mkdir(parents=True, mode=0o700)
        os.chmod(self.home / ".config", 0o700)
        web = " ".join(m.addr for m in self.members[:2])
        every = " ".join(m.addr for m in self.members)
        hosts = d / "hosts"
        hosts.write_text("# The test fleet's groups (tests/integration/fleet_ns.py).\n"
                         f"web: {web}\nfleet: {every}\n")
        os.chmod(hosts, 0o600)

    def add_ns(self, name):
        """One more namespace on the bridge (for rsyslog, Prometheus…):
        returns (netns name, its address); removed at stop()."""
        k = len(self.extras) + 1
        if EXTRA_FIRST + k - 1 > EXTRA_LAST:
            raise RuntimeError("too many extra namespaces")
        ns = f"steward-fx-{self.tag}-{name}"[:40]
        ip = f"10.127.{self.x}.{EXTRA_FIRST + k - 1}"
        veth = f"vex{self.tag}-{k}"
        self._link_ns(ns, veth, ip)
        self.extras.append((ns, veth, ip))
        return ns, ip

    # ---- using it ----------------------------------------------------------------

    def cli_env(self, env=None):
        e = {k: v for k, v in os.environ.items()
             if k not in ("STEWARD_TOKEN", "STEWARD_SOCKET", "XDG_CONFIG_HOME",
                          "STEWARD_ACCEPT_NEW")}
        e["HOME"] = str(self.home)
        e["ASAN_OPTIONS"] = "detect_leaks=1"
        if env:
            e.update(env)
        return e

    def cli(self, *args, input=None, env=None, check=None, timeout=120):
        """The build's `steward` with HOME=f.home (its hosts file, known_hosts
        and sessions)."""
        p = subprocess.run([str(self.build / "steward"), *map(str, args)], input=input,
                           capture_output=True, text=True, env=self.cli_env(env),
                           timeout=timeout)
        for mark in SANITIZER_MARKS:
            assert mark not in p.stderr, p.stderr
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout[-4000:], p.stderr[-4000:])
        return p

    def fanout_supported(self):
        """Whether this build's CLI fans out (`-H a,b`)."""
        if not hasattr(self, "_fanout"):
            p = self.cli("--help")
            self._fanout = "@GROUP" in p.stdout + p.stderr or "@group" in p.stdout + p.stderr
        return self._fanout

    def login_all(self, parallel=8):
        """Every member's certificate in known_hosts and a fleetadmin
        session in sessions: `steward -H @all login --yes` when the CLI fans
        out, else `steward -H ADDR login --yes` once per member."""
        if len(self.members) > 1 and self.fanout_supported():
            return self.cli("-H", "@all", "login", "--user", ADMIN, "--yes",
                            input=PASSWORD + "\n", check=0, timeout=600)

        def one(m):
            return self.cli("-H", m.addr, "login", "--user", ADMIN, "--yes",
                            input=PASSWORD + "\n", check=0)
        with ThreadPoolExecutor(parallel) as pool:
            return list(pool.map(one, self.members))

    def admin_session(self, m):
        """A session of fleetadmin on member m (a password login), made once."""
        cache = self.__dict__.setdefault("_sessions", {})
        if m.index not in cache:
            r = m.https("POST", "/api/v1/login", {"user": ADMIN, "password": PASSWORD},
                        token=False)
            assert r.status == 200, (m, r)
            cache[m.index] = r.json["token"]
        return cache[m.index]

    def api_tokens(self, role="admin", name="fleet", parallel=16):
        """{member: token}: an API token of that role, fleetadmin's, made on
        every member (POST /api/v1/tokens)."""
        def one(m):
            r = m.https("POST", "/api/v1/tokens", {"name": name, "role": role},
                        token=self.admin_session(m))
            assert r.status == 200, (m, r)
            return m, r.json["token"]
        with ThreadPoolExecutor(parallel) as pool:
            return dict(pool.map(one, self.members))

    def failure_sections(self):
        return [(f"stewardd log {m.name}", m.daemon.log_text()[-4000:])
                for m in self.members if m.daemon is not None][:4]

    # ---- tear-down -------------------------------------------------------------------

    def stop(self, check=True):
        """Everything it started, whatever part of start() ran; then the
        daemons' clean exits and that nothing of the fleet is left."""
        started = [m.daemon for m in self.members if m.daemon and m.daemon.proc]
        try:
            for d in started:
                if d.proc.poll() is None:
                    d.proc.send_signal(signal.SIGTERM)
            for d in started:
                try:
                    d.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    d.proc.kill()
                    d.proc.wait()
        finally:
            for ns in self._netns_made:
                for pid in _ip("netns", "pids", ns, check=False).stdout.split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
            for ns in self._netns_made:
                _ip("netns", "del", ns, check=False)
            # The host's ends too: a namespace outlives its name while
            # anything still holds it (a closing socket), and its veth with it.
            veths = [m.veth for m in self.members] + [v for _, v, _ in self.extras]
            links = _ip("-o", "link", "show").stdout
            gone = "".join(f"link del {v}\n" for v in veths if f" {v}@" in links)
            if gone:
                _ip("-force", "-batch", "-", input=gone, check=False)
            if self._bridge_made:
                _ip("link", "del", self.bridge, check=False)
        errors = []
        for d in started:
            try:
                d.check_clean_exit()
            except AssertionError as e:
                errors.append(str(e)[:3000])
        self._check_nothing_left()
        if check and errors:
            raise AssertionError("\n".join(errors))

    def _check_nothing_left(self):
        deadline = time.monotonic() + 10
        while True:
            mounts = Path("/proc/self/mounts").read_text()
            links = _ip("-o", "link", "show").stdout
            left = [ns for ns in self._netns_made
                    if os.path.exists(f"/run/netns/{ns}") or f"netns/{ns} " in mounts]
            left += [w for w in (self.bridge, f"vfl{self.tag}-", f"vex{self.tag}-")
                     if w in links]
            if str(self.base) in mounts:
                left.append(f"a mount under {self.base}")
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # veths go with their namespace, asynchronously
        assert not left, f"the fleet left these behind: {left}"


def fleet_fixture(n=3, **kw):
    """A module-scoped pytest fixture that yields a started Fleet(n, **kw)."""
    @pytest.fixture(scope="module")
    def fixture():
        if os.geteuid() != 0 or not shutil.which("openssl"):
            pytest.skip("needs root and openssl (scripts/install-deps.sh)")
        base = Path(tempfile.mkdtemp(prefix="steward-fleet-"))
        os.chmod(base, 0o755)  # the fronts re-read their config in there
        f = Fleet(base, n=n, **kw)
        try:
            f.start()
            yield f
        finally:
            try:
                f.stop()
            finally:
                shutil.rmtree(base, ignore_errors=True)
    return fixture


# Three members, certificates from a test CA (f.ca_cert): TOFU works as with
# self-signed ones, and clients that verify a CA (ansible, Prometheus) can.
fleet3 = fleet_fixture(3, tls="ca")

