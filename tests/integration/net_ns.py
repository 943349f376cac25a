"""A small routed network for the network module's tests: the worktree's
stewardd on host A, a router R, a host B with a DNS server and TCP ports in
every state, each in a network namespace of its own.

    from net_ns import net_ns, net          # noqa: F401 (the fixtures)

    def test_x(net):
        r = net.command("portcheck", {"host": net.b_ip, "port": net.open_port})
        assert r.json["result"]["state"] == "open"
        net.api("GET", "/api/v1/modules/network/info", role="monitor")

Layout (one per test module, `net_ns`; `net` is the same object for one
test and attaches dnsmasq's and the daemon's logs to a failing test), with N
picked free per run in 10.126.0.0/16 (10.123 is the booted container's,
10.124 the shares tests', 10.125 the mail tests'):

    host  vnh…  10.126.N.1/30 ── mgmt0 10.126.N.2/30   A (stewardd)
                                 eth0  10.126.N.5/30 ── eth0 10.126.N.6/30   R
                                                        eth1 10.126.N.9/30 ── eth0 10.126.N.10/30  B
                                 fd00:126:N:1::1/64 ── fd00:126:N:1::2/64
                                                        fd00:126:N:2::1/64 ── fd00:126:N:2::2/64

  - A routes B's subnets through R (10.126.N.6, fd00:126:N:1::2) and has no
    default route; B routes A's through R; R forwards (ip_forward=1,
    IPv6 forwarding=1); R and B send ICMP errors without a rate limit.  The host reaches A's mgmt0 only: the daemon
    listens on 10.126.N.2 (HTTPS) and on its unix socket (the CLI);
  - the daemon runs under nsroot.py over a scratch copy of /etc whose
    resolv.conf names B's dnsmasq (`search steward.test`), entered into A
    with `nsenter --net`, so its probes see A's interfaces and routes;
  - B runs dnsmasq (`--keep-in-foreground`, no DHCP, no upstream, no
    /etc/hosts) authoritative for steward.test (SOA, NS) and the reverse
    zone of B's /30, with records of every type lookup knows (RECORDS)
    and, at big.steward.test, more TXT than a UDP answer holds (TCP);
    TCP 53 is dnsmasq's (the open port), CLOSED_PORT has no listener (a
    reset), FILTERED_PORT is dropped by an nft rule (no answer) and
    PROHIBITED_PORT rejected with ICMP admin-prohibited.

Teardown stops the daemon (exit 0, no sanitizer report: conftest's check),
kills every process left in the three namespaces (dnsmasq), deletes them
(and with them the veth pairs) and checks that no namespace or scratch
mount of this run is left.
"""
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Daemon
from nsroot import ns_argv, scratch_etc

OPEN_PORT = 53          # dnsmasq's TCP
CLOSED_PORT = 81        # nothing listens: a reset
FILTERED_PORT = 82      # nft drop: no answer
PROHIBITED_PORT = 83    # nft reject with icmp admin-prohibited
ZONE = "steward.test"
TTL = 300
BIG_TXT = "{i:02d}" + "x" * 198  # 200 bytes, 10 of them at big.steward.test
BIG_TXT_COUNT = 10
# glibc's own default is 5 s and 2 attempts; longer here, so that a probe
# that left it to resolv.conf would outlast its limit when B is silent
RESOLV_OPTIONS = "timeout:5 attempts:3"

# What B's dnsmasq serves ({b} is B's IPv4 address, {b6} its IPv6 one).
RECORDS = {
    "A": ("www.steward.test", "{b}"),
    "AAAA": ("www.steward.test", "{b6}"),
    "MX": ("steward.test", "10 mail.steward.test."),
    "TXT": ("steward.test", '"v=spf1 -all"'),
    "SRV": ("_sip._tcp.steward.test", "10 20 5060 sip.steward.test."),
    "CAA": ("steward.test", '0 issue "letsencrypt.org"'),
    "CNAME": ("alias.steward.test", "www.steward.test."),
}


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _subnets_in_use():
    """The N of every 10.126.N.x address on this host's interfaces."""
    used = set()
    for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
        for word in line.split():
            if word.startswith("10.126."):
                used.add(word.split(".")[2])
    return used


class NetDaemon(Daemon):
    """A Daemon that listens on A's management address instead of
    127.0.0.1 (the host cannot reach A's loopback)."""

    def __init__(self, tmp, addr):
        super().__init__(tmp)
        self.addr = addr
        i = self.args.index(f"127.0.0.1:{self.port}")
        self.args[i] = f"{addr}:{self.port}"

    def wait_ready(self, timeout=20):
        import socket
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stewardd exited {self.proc.returncode}:\n{self.log_text()}")
            if "listening on" in self.log_text()[self.log_start:]:
                try:
                    with socket.create_connection((self.addr, self.port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"stewardd did not start:\n{self.log_text()}")

    def https(self, method, path, body=None, token=True, headers=None, raw=None):
        import http.client
        conn = http.client.HTTPSConnection(self.addr, self.port, context=self.ssl_context(),
                                           timeout=90)
        return self._do(conn, method, path, body, token, headers, raw)

    def ssl_context(self):
        ctx = super().ssl_context()
        ctx.check_hostname = False  # the certificate names 127.0.0.1 and the host's names
        return ctx


class NetNs:
    """The three namespaces, dnsmasq on B and the daemon on A."""

    def __init__(self, base: Path):
        self.base = base
        tag = secrets.token_hex(3)
        self.ns_a, self.ns_r, self.ns_b = (f"steward-net{x}-{tag}" for x in "arb")
        self.veth = "vnh" + tag  # the host's end of the management link
        self.dnsmasq = None
        self.daemon = None
        self.dnsmasq_log_path = base / "dnsmasq.log"
        self.open_port, self.closed_port = OPEN_PORT, CLOSED_PORT
        self.filtered_port, self.prohibited_port = FILTERED_PORT, PROHIBITED_PORT

    # ---- set-up -----------------------------------------------------------------

    def start(self):
        self._make_netns()
        self._warm_neighbours()
        self._filter_b()
        self._start_dnsmasq()
        self._start_daemon()
        return self

    def _make_netns(self):
        for ns in (self.ns_a, self.ns_r, self.ns_b):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        for n in secrets.SystemRandom().sample(range(256), 256):
            if str(n) in _subnets_in_use():
                continue
            _ip("link", "add", self.veth, "type", "veth", "peer", "name", "mgmt0", "netns",
                self.ns_a)
            _ip("addr", "add", f"10.126.{n}.1/30", "dev", self.veth)
            if sum(1 for _ in [w for w in _ip("-4", "-o", "addr", "show").stdout.split()
                               if w.startswith(f"10.126.{n}.")]) == 1:
                break
            _ip("link", "del", self.veth)  # taken meanwhile: try another
        else:
            raise RuntimeError("no free 10.126.N.0/24")
        self.n = n
        p = f"10.126.{n}."
        self.host_ip, self.a_mgmt = p + "1", p + "2"
        self.a_ip, self.r_a_ip, self.r_b_ip, self.b_ip = p + "5", p + "6", p + "9", p + "10"
        v6 = f"fd00:126:{n:x}:"
        self.a_ip6, self.r_a_ip6 = v6 + "1::1", v6 + "1::2"
        self.r_b_ip6, self.b_ip6 = v6 + "2::1", v6 + "2::2"
        _ip("link", "set", self.veth, "up")
        a, r, b = self.ns_a, self.ns_r, self.ns_b
        _ip("-n", a, "addr", "add", f"{self.a_mgmt}/30", "dev", "mgmt0")
        _ip("-n", a, "link", "set", "mgmt0", "up")
        _ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", r)
        _ip("-n", r, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", b)
        for ns, dev, v4, v6addr in ((a, "eth0", self.a_ip, self.a_ip6),
                                    (r, "eth0", self.r_a_ip, self.r_a_ip6),
                                    (r, "eth1", self.r_b_ip, self.r_b_ip6),
                                    (b, "eth0", self.b_ip, self.b_ip6)):
            _ip("-n", ns, "addr", "add", f"{v4}/30", "dev", dev)
            _ip("-n", ns, "addr", "add", f"{v6addr}/64", "dev", dev, "nodad")
            _ip("-n", ns, "link", "set", dev, "up")
        self.b_net, self.a_net = f"{p}8/30", f"{p}4/30"
        self.b_net6, self.a_net6 = v6 + "2::/64", v6 + "1::/64"
        _ip("-n", a, "route", "add", self.b_net, "via", self.r_a_ip)
        _ip("-n", a, "-6", "route", "add", self.b_net6, "via", self.r_a_ip6)
        _ip("-n", b, "route", "add", self.a_net, "via", self.r_b_ip)
        _ip("-n", b, "-6", "route", "add", self.a_net6, "via", self.r_b_ip6)
        self.in_ns(r, "sysctl", "-qw", "net.ipv4.ip_forward=1", check=True)
        self.in_ns(r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", check=True)
        # R and B answer every probe: no ICMP rate limit (Linux's is per
        # peer, and a few traceroutes in a row would meet it)
        for ns in (r, b):
            self.in_ns(ns, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0",
                       "net.ipv6.icmp.ratelimit=0", check=True)

    def _warm_neighbours(self):
        """One datagram each way between A and B (to the discard port), and
        wait until A, R and B know their neighbours on the way: the first
        answers of a test are not lost to neighbour discovery (Linux drops
        an ICMPv6 error that waits for its next hop's resolution)."""
        send = ("import socket,sys\n"
                "for a in sys.argv[1:]:\n"
                "    f = socket.AF_INET6 if ':' in a else socket.AF_INET\n"
                "    socket.socket(f, socket.SOCK_DGRAM).sendto(b'x', (a, 9))\n")
        want = {self.ns_a: (self.r_a_ip, self.r_a_ip6),
                self.ns_r: (self.a_ip, self.a_ip6, self.b_ip, self.b_ip6),
                self.ns_b: (self.r_b_ip, self.r_b_ip6)}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.in_ns(self.ns_a, "python3", "-c", send, self.b_ip, self.b_ip6, check=True)
            self.in_ns(self.ns_b, "python3", "-c", send, self.a_ip, self.a_ip6, check=True)
            known = all(
                any(line.split()[0] == addr and "lladdr" in line
                    for line in _ip("-n", ns, "neigh", "show").stdout.splitlines())
                for ns, addrs in want.items() for addr in addrs)
            if known:
                return
            time.sleep(0.1)
        raise RuntimeError("the namespaces' neighbours did not resolve")

    def _filter_b(self):
        rules = f"""
table inet stewardtest {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {FILTERED_PORT} drop
    tcp dport {PROHIBITED_PORT} reject with icmpx type admin-prohibited
  }}
}}
"""
        self.in_ns(self.ns_b, "nft", "-f", "-", input=rules, check=True)

    def _start_dnsmasq(self):
        b, b6 = self.b_ip, self.b_ip6
        args = [
            "dnsmasq", "--keep-in-foreground", "--log-facility=-", "--log-queries",
            "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
            "--user=nobody", "--group=nogroup", f"--pid-file={self.base / 'dnsmasq.pid'}",
            f"--listen-address={b}", f"--listen-address={b6}", "--bind-interfaces",
            f"--auth-server=ns1.{ZONE},eth0",
            f"--auth-zone={ZONE},{self.b_net},{self.b_net6}",
            f"--auth-soa=2026120401,hostmaster.{ZONE},1200,180,1209600",
            f"--auth-ttl={TTL}", f"--local-ttl={TTL}",
            f"--host-record=ns1.{ZONE},{b}",
            f"--host-record=www.{ZONE},{b},{b6}",
            f"--mx-host={ZONE},mail.{ZONE},10",
            f"--txt-record={ZONE},v=spf1 -all",
            f"--srv-host=_sip._tcp.{ZONE},sip.{ZONE},5060,10,20",
            f"--caa-record={ZONE},0,issue,letsencrypt.org",
            f"--cname=alias.{ZONE},www.{ZONE}",
            # more than fits the 1232 bytes of a UDP answer: asked again over TCP
            *[f"--txt-record=big.{ZONE},{BIG_TXT.format(i=i)}" for i in range(BIG_TXT_COUNT)],
        ]
        self.dnsmasq_log = open(self.dnsmasq_log_path, "ab")
        self.dnsmasq = subprocess.Popen(["ip", "netns", "exec", self.ns_b, *args],
                                        stdout=self.dnsmasq_log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.dnsmasq.poll() is not None:
                raise RuntimeError(f"dnsmasq exited {self.dnsmasq.returncode}:\n"
                                   f"{self.dnsmasq_log_text()}")
            ss = self.in_ns(self.ns_b, "ss", "-Htln", f"sport = :{OPEN_PORT}").stdout
            if b in ss:
                return
            time.sleep(0.05)
        raise RuntimeError(f"dnsmasq did not start:\n{self.dnsmasq_log_text()}")

    def _start_daemon(self):
        root = self.base / "ns"
        root.mkdir()
        self.etc = scratch_etc(root)
        resolv = self.etc / "resolv.conf"
        if resolv.is_symlink() or resolv.exists():
            resolv.unlink()
        resolv.write_text(f"# the network tests' resolver (B's dnsmasq)\n"
                          f"nameserver {self.b_ip}\nsearch {ZONE}\noptions {RESOLV_OPTIONS}\n")
        self.daemon = NetDaemon(self.base / "d", self.a_mgmt)
        self.daemon.wrap = lambda argv: ["nsenter", f"--net=/run/netns/{self.ns_a}", "--",
                                         *ns_argv(self.etc, argv)]
        self.daemon.start()

    # ---- helpers for tests ---------------------------------------------------------

    def in_ns(self, ns, *argv, input=None, check=False):
        """argv as root in network namespace ns (the host's mounts)."""
        return subprocess.run(["ip", "netns", "exec", ns, *[str(a) for a in argv]], input=input,
                              capture_output=True, text=True, check=check, timeout=60)

    def api(self, method, path, body=None, role="admin"):
        """A request over TLS with a token of that role (admin: the session)."""
        return self.daemon.https(method, path, body, token=self.token(role))

    def token(self, role="admin"):
        if role == "admin":
            return self.daemon.token
        cache = self.__dict__.setdefault("_tokens", {})
        if role not in cache:
            r = self.daemon.https("POST", "/api/v1/tokens", {"name": f"net-{role}", "role": role})
            assert r.status == 200, r
            cache[role] = r.json["token"]
        return cache[role]

    def user_token(self, name, group):
        """A session of a new account in the scratch /etc (a user of its
        own, unlike role tokens, which are the admin's), made once."""
        from conftest import make_user
        cache = self.__dict__.setdefault("_users", {})
        if name not in cache:
            password = f"{name}-Secret-1"
            make_user(self.daemon, name, password, [group])
            r = self.daemon.https("POST", "/api/v1/login", {"user": name, "password": password},
                                  token=False)
            assert r.status == 200, r
            cache[name] = r.json["token"]
        return cache[name]

    def command(self, name, args, role="admin"):
        return self.api("POST", f"/api/v1/modules/network/commands/{name}", args,
                        role=role)

    def cli(self, *args, stdin=None, check=None):
        """The steward CLI as root over the daemon's unix socket."""
        return self.daemon.cli(*args, stdin=stdin, check=check)

    def dnsmasq_log_text(self):
        try:
            return self.dnsmasq_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def failure_sections(self):
        return [("dnsmasq log", self.dnsmasq_log_text()[-6000:]),
                ("stewardd log", self.daemon.log_text()[-8000:] if self.daemon else "")]

    # ---- tear-down -------------------------------------------------------------------

    def stop(self):
        """Everything it started, whatever part of start() ran; the daemon's
        clean exit is checked last."""
        try:
            if self.daemon is not None and self.daemon.proc is not None:
                self.daemon.stop()
        finally:
            for ns in (self.ns_a, self.ns_r, self.ns_b):
                if os.path.exists(f"/run/netns/{ns}"):
                    for pid in _ip("netns", "pids", ns, check=False).stdout.split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            if self.dnsmasq is not None:
                self.dnsmasq.wait(timeout=30)
                self.dnsmasq_log.close()
            for ns in (self.ns_a, self.ns_r, self.ns_b):
                _ip("netns", "del", ns, check=False)
            _ip("link", "del", self.veth, check=False)  # gone with A already
        if self.daemon is not None and self.daemon.proc is not None:
            self.daemon.check_clean_exit()
        mounts = Path("/proc/self/mounts").read_text()
        assert str(self.base) not in mounts, "a scratch mount is left on the host"
        left = [ns for ns in (self.ns_a, self.ns_r, self.ns_b)
                if os.path.exists(f"/run/netns/{ns}") or f"netns/{ns}" in mounts]
        assert not left, f"network namespaces left behind: {left}"


@pytest.fixture(scope="module")
def net_ns():
    """The module's NetNs (set up once: namespaces, dnsmasq, daemon)."""
    if os.geteuid() != 0 or not shutil.which("dnsmasq") or not shutil.which("nft"):
        pytest.skip("needs root, dnsmasq and nft (scripts/install-deps.sh test)")
    base = Path(tempfile.mkdtemp(prefix="steward-net-"))
    os.chmod(base, 0o755)  # the daemon's front re-reads its config in there
    n = NetNs(base)
    try:
        n.start()
        yield n
    finally:
        try:
            n.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def net(net_ns):
    """net_ns for one test; conftest attaches its logs when the test fails."""
    yield net_ns
