"""What was rolled back is what runs: for every writable setting of every
module, set it, roll the change back from the audit log, and set the same
value again, checking at each step what the daemon does (a login, a limit,
the host name, the sampling step…), not only what it displays.

ROWS holds one behaviour probe per setting; test_every_writable_setting_has_a_row
reads the schemas from the API, so a new writable setting fails the suite
until it gets a row here.  A probe returns an observation that must differ
between the value the daemon starts with and the value the row sets.

Each row runs its own daemon in private mount and UTS namespaces over a
scratch /etc (accounts, the host name and the time zone change there only),
with UDP discovery on a loopback port.  Logins that fail come from a fresh
loopback source address and user name each time, so the throttle's memory of
one probe never reaches the next.
"""
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid

import pytest

from conftest import ns_run
from nsroot import ns_argv, scratch_etc
from test_budgets import ASKER
from test_discovery import Client, request
from test_events import Stream

pytestmark = pytest.mark.namespaces

PASSWORD = "Probe-pw-1"
_sources = itertools.count(2)


@pytest.fixture
def live(daemon_base, make_daemon):
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        udp = s.getsockname()[1]
    # An empty /run/systemd: a host booted with systemd never has its own
    # services (timesyncd) reloaded by a module's make_live.
    binds = ()
    if os.path.isdir("/run/systemd"):
        (daemon_base / "run-systemd").mkdir()
        binds = ((daemon_base / "run-systemd", "/run/systemd"),)
    d = make_daemon(extra_args=("--udp", f"127.0.0.1:{udp}"),
                    wrap=lambda argv: ns_argv(etc, argv, extra_binds=binds))
    d.etc = etc
    d.udp = udp
    ns_run(d, ["/usr/sbin/groupadd", "--", "probegrp"])
    ns_run(d, ["/usr/sbin/useradd", "--no-create-home", "--shell", "/bin/sh", "-G", "probegrp", "--", "prober"])
    ns_run(d, ["/usr/sbin/chpasswd"], input=f"prober:{PASSWORD}\nroot:{PASSWORD}\n")
    return d


# ---- ways to observe ---------------------------------------------------------


def fresh_source():
    n = next(_sources)
    return f"127.0.{n // 250}.{n % 250 + 2}"


def https_from(d, source, method, path, body=None, token=None, headers=None):
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=10,
                                       source_address=(source, 0))
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        conn.close()


def login(d, user, password=PASSWORD, source="127.0.0.1"):
    status, headers, body = https_from(d, source, "POST", "/api/v1/login", {"user": user, "password": password})
    return status, headers, (json.loads(body) if body else None)


def failed_logins(d, n):
    """n failed logins from a fresh source for a fresh user; the answer to
    the last one: (status, Retry-After or None)."""
    src, user = fresh_source(), "nobody" + uuid.uuid4().hex[:8]
    status = headers = None
    for _ in range(n):
        status, headers, _ = login(d, user, "wrong-" + PASSWORD, src)
    return status, headers.get("Retry-After")


def login_role(d, user):
    status, _, body = login(d, user)
    return body["role"] if status == 200 else (status, body["error"]["code"])


def held_sockets(d, n):
    held = []
    for _ in range(n):
        held.append(d.ssl_context().wrap_socket(socket.create_connection(("127.0.0.1", d.port)),
                                                server_hostname="127.0.0.1"))
    return held


def status_while_holding(d, n):
    held = held_sockets(d, n)
    try:
        return d.https("GET", "/api/v1/whoami").status
    finally:
        for s in held:
            s.close()
        wait_for(lambda: d.https("GET", "/api/v1/whoami").status == 200)


def wait_for(cond, tries=200):
    for _ in range(tries):
        if cond():
            return True
        time.sleep(0.05)
    return False


def dry_patch_status(d, raw):
    return d.https("PATCH", "/api/v1/modules/stewardd/settings?dry_run=1", raw=raw,
                   headers={"Content-Type": "application/json"}).status


def debug_logged(d):
    mark = "/api/v1/probe-" + uuid.uuid4().hex
    d.https("GET", mark)
    return mark in d.log_text()


def closes_idle_connection(d):
    """Whether a connection silent for 4 s is closed by then."""
    s = held_sockets(d, 1)[0]
    s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    s.settimeout(4)
    try:
        return s.recv(100) == b""
    except (socket.timeout, TimeoutError):
        return False
    except (ssl.SSLError, ConnectionResetError):
        return True
    finally:
        s.close()


def session_survives_idle(d):
    """Whether a login session used again after 6 s of silence still works."""
    status, _, body = login(d, "root")
    assert status == 200, body
    time.sleep(6)
    return d.https("GET", "/api/v1/whoami", token=body["token"]).status


def session_lifetime(d):
    status, _, body = login(d, "root")
    assert status == 200, body
    return body["expires_at"] - time.time() < 3600


def discovery_answers(d, n):
    c = Client(d.udp)
    try:
        for _ in range(n):
            c.send(request())
        return len(c.answers(wait=0.5))
    finally:
        c.close()


def sd_sweeps(d):
    return d.unix("GET", "/api/v1/modules/stewardd?full=1").json["service_discovery"]["sweeps"]


def sd_sweeping(d):
    """Whether the service discovery sweeps at all (within 2.5 s)."""
    before = sd_sweeps(d)
    time.sleep(2.5)
    return sd_sweeps(d) > before


def sd_sweeps_often(d):
    """Whether two sweeps or more run within 5 s (the default interval is a minute)."""
    before = sd_sweeps(d)
    time.sleep(5)
    return sd_sweeps(d) - before >= 2


def events_status(d):
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=10)
    try:
        conn.request("GET", "/api/v1/events?types=audit", headers={"Authorization": f"Bearer {d.token}"})
        return conn.getresponse().status
    finally:
        conn.close()


def sample_step(d):
    s = Stream(d, "/api/v1/events?types=sample")
    try:
        a, b = s.next_event(), s.next_event()
        return b[2]["time"] - a[2]["time"]
    finally:
        s.close()


def config_line(d, key):
    """For restart-only settings: what the file says (what the next start
    makes live), the line of key or None."""
    text = d.config.read_text() if d.config.exists() else ""
    for line in text.splitlines():
        if line.split("=", 1)[0].strip() == key:
            return line.split("=", 1)[1].strip()
    return None


def alerts_live(d, key):
    """The alerts' settings as the front holds them live: the notifier takes
    a copy of exactly these (module_config_get) at each send."""
    return d.https("GET", "/api/v1/modules/alerts/settings").json[key]


def timesyncd_value(d, key):
    """What systemd-timesyncd would use for key, read as it reads its files
    from the daemon's scratch /etc: the main file, then the drop-ins by name;
    a list adds up and an empty assignment resets it."""
    conf = d.etc / "systemd"
    files = [conf / "timesyncd.conf"] + sorted((conf / "timesyncd.conf.d").glob("*.conf"))
    value = None
    for f in files:
        section = None
        for line in f.read_text().splitlines() if f.exists() else ():
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Time]" and "=" in line and not line.startswith(("#", ";")):
                k, v = (x.strip() for x in line.split("=", 1))
                if k == key and key in ("NTP", "FallbackNTP"):
                    value = (value or ()) + tuple(v.split()) if v else ()
                elif k == key:
                    value = v
    return value


def home_allowed(d):
    return d.https("POST", "/api/v1/users?dry_run=1",
                   {"name": "homeprobe", "home": "/srv/homeprobe", "create_home": False}).status


# A UDP syslog receiver on the loopback for the audit forwarding rows.
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as _s:
    _s.bind(("127.0.0.1", 0))
    SYSLOG_UDP = f"udp://127.0.0.1:{_s.getsockname()[1]}"


def syslog_pri(d):
    """None when the forwarder does not list the UDP target; else the PRI
    of the datagram that a new audit record (a token made) sends there."""
    state = admin(d, "GET", "/api/v1/audit/forwarding").json
    if SYSLOG_UDP not in [t["target"] for t in state["targets"]]:
        return None
    port = int(SYSLOG_UDP.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))
        s.settimeout(1)
        r = admin(d, "POST", "/api/v1/tokens", {"name": f"p{uuid.uuid4().hex[:8]}", "role": "monitor"})
        assert r.status in (200, 201), r
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                data = s.recv(9000).decode()
            except socket.timeout:
                continue
            m = re.match(r'<(\d+)>1 .* id="(\d+)"', data)
            if m and int(m.group(2)) > state["head"] and 'module="tokens"' in data:
                return int(m.group(1))
    raise AssertionError(f"no datagram for the new token's record at {SYSLOG_UDP}")


# A TLS syslog receiver on the loopback whose certificate (self-signed, for
# 127.0.0.1) is the CA file the row sets: with it the forwarder's records
# arrive over TLS, with the system's authorities its handshakes fail.  The
# setting names a file under /etc/: a copy in the daemon's scratch /etc.
SYSLOG_TLS_DIR = f"/tmp/steward-lc-syslog-{os.getpid()}"
SYSLOG_TLS_CA = f"{SYSLOG_TLS_DIR}/ca.pem"
SYSLOG_TLS_CA_SETTING = "/etc/steward-lc-syslog/ca.pem"


class TlsReceiver:
    def __init__(self):
        import atexit
        import ssl as ssl_
        import threading
        os.makedirs(SYSLOG_TLS_DIR, mode=0o755, exist_ok=True)
        atexit.register(shutil.rmtree, SYSLOG_TLS_DIR, True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{SYSLOG_TLS_DIR}/key.pem",
                        "-out", SYSLOG_TLS_CA, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.ctx = ssl_.SSLContext(ssl_.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(SYSLOG_TLS_CA, f"{SYSLOG_TLS_DIR}/key.pem")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.target = f"tls://127.0.0.1:{self.sock.getsockname()[1]}"
        self.events = []
        self.cond = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _event(self, what):
        with self.cond:
            self.events.append(what)
            self.cond.notify_all()

    def _serve(self):
        import threading
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                while tls.recv(65536):
                    self._event("records")
        except OSError:  # ssl.SSLError among them: the client refused us
            self._event("refused")

    def outcome(self, d):
        """What the receiver sees of the next record: it arrives, or the
        forwarder's next handshake is refused."""
        with self.cond:
            seen = len(self.events)
        r = admin(d, "POST", "/api/v1/tokens", {"name": f"p{uuid.uuid4().hex[:8]}", "role": "monitor"})
        assert r.status in (200, 201), r
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.events) > seen, timeout=120), \
                admin(d, "GET", "/api/v1/audit/forwarding").json
            return self.events[seen]


_tls_receiver = None


def tls_receiver_set(d):
    global _tls_receiver
    if _tls_receiver is None:
        _tls_receiver = TlsReceiver()
    (d.etc / "steward-lc-syslog").mkdir(exist_ok=True)
    shutil.copyfile(SYSLOG_TLS_CA, d.etc / "steward-lc-syslog" / "ca.pem")
    patch(d, "stewardd", {"audit:syslog_targets": [_tls_receiver.target]})


def samba_value(d, name):
    return ns_out(d, ["testparm", "-s", f"--parameter-name={name}"])


def include_global(d, name):
    """The value of name in the [global] of Steward's Samba include file,
    which smb.conf includes at the end of its own [global]."""
    f = d.etc / "samba" / "steward.conf"
    section = None
    for line in f.read_text().splitlines() if f.exists() else ():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[global]" and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            if k == name:
                return v
    return None


def postconf_value(d, key):
    """What Postfix reads (postconf over the scratch /etc)."""
    return ns_out(d, ["postconf", "-h", key])


def doveconf_value(d, key):
    return ns_out(d, ["doveconf", "-h", key])


def master_service(d, service):
    """master.cf's line for the service, as Postfix reads it ("" when off)."""
    return ns_out(d, ["postconf", "-M", f"{service}/inet"])


def mail_certificate(d):
    """A certificate and its key where Debian's Dovecot looks for them, and
    both in one PEM (Postfix's smtpd_tls_key_file defaults to the
    certificate's file): BOTH_PEM."""
    private = d.etc / "dovecot" / "private"
    private.mkdir(mode=0o700, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
                    "-subj", "/CN=probe.example.org", "-keyout", str(private / "dovecot.key"),
                    "-out", str(private / "dovecot.pem")], check=True, capture_output=True)
    (private / "both.pem").write_bytes((private / "dovecot.key").read_bytes()
                                       + (private / "dovecot.pem").read_bytes())


BOTH_PEM = "/etc/dovecot/private/both.pem"
DOVECOT_KEY = "/etc/dovecot/private/dovecot.key"


def mail_certificate_set(d):
    """mail_certificate, and both servers pointed at it (submission and
    SMTPS need a certificate)."""
    mail_certificate(d)
    patch(d, "mail", {"tls:cert_file": BOTH_PEM})


def ns_out(d, argv):
    return ns_run(d, argv).stdout.strip()


def textfile_dir_with_a_file(d):
    """/etc/steward-textfile in the namespace (the scratch /etc) holding one
    .prom file, for metrics:textfile_dir."""
    t = d.etc / "steward-textfile"
    t.mkdir(mode=0o755, exist_ok=True)
    os.chmod(t, 0o755)
    (t / "probe.prom").write_text("probe_value 1\n")
    os.chmod(t / "probe.prom", 0o644)


def textfiles_read(d):
    """The files the textfile collector read at a scrape."""
    r = d.https("GET", "/metrics")
    assert r.status == 200, r
    return sorted(re.findall(r'^node_textfile_mtime_seconds\{file="([^"]*)"\}', r.body, re.M))


def first_displaced(d):
    """Whether an idle stranger's connection is closed when a second one
    arrives (the unauthenticated budget full: the oldest loses)."""
    first, second = held_sockets(d, 2)
    try:
        first.settimeout(2)
        try:
            return first.recv(100) == b""
        except (socket.timeout, TimeoutError):
            return False
        except (ssl.SSLError, ConnectionResetError):
            return True
    finally:
        first.close()
        second.close()
        wait_for(lambda: d.https("GET", "/api/v1/whoami").status == 200)


def second_from_one_source(d):
    """Whether a second connection from a source already holding an idle
    one is served (the per-source cap of strangers)."""
    src = fresh_source()
    raw = socket.create_connection(("127.0.0.1", d.port), timeout=10, source_address=(src, 0))
    held = d.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        try:
            return https_from(d, src, "GET", "/api/v1/whoami", token=d.token)[0]
        except (ConnectionError, ssl.SSLError, OSError):
            return "refused"
    finally:
        held.close()


def cut_while_dribbling(d):
    """Whether a stranger sending a header line every half second is cut
    within 3 s (the header deadline; the idle timeout is never reached)."""
    s = held_sockets(d, 1)[0]
    try:
        s.sendall(b"GET /api/v1/whoami HTTP/1.1\r\n")
        s.settimeout(0.5)
        for i in range(6):
            try:
                if s.recv(100) == b"":
                    return True
            except (socket.timeout, TimeoutError):
                pass
            except (ssl.SSLError, ConnectionResetError):
                return True
            try:
                s.sendall(f"X-Slow-{i}: {i}\r\n".encode())
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                return True
        return False
    finally:
        s.close()


def local_pair_as_prober(d):
    """The answers to two local connections held at once by prober (a
    monitor here): the per-uid cap of local connections (root has none)."""
    uid = ns_out(d, ["id", "-u", "prober"])
    r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                        "/usr/bin/python3", "-c", ASKER, "2", str(d.sock)],
                       input="\n", capture_output=True, text=True, timeout=60, check=True)
    return ",".join(json.loads(r.stdout))


def token_lifetime_capped(d):
    """Whether a token asked for without an expiry lives at most an hour
    (auth:max_token_lifetime is every token's default and maximum)."""
    r = admin(d, "POST", "/api/v1/tokens", {"name": "probe-" + uuid.uuid4().hex[:8], "role": "monitor"})
    assert r.status == 200, r
    return r.json["expires_at"] - time.time() <= 3600 + 5


# ---- one row a writable setting: (value set, probe, settings made first) ----

ROWS = {
    "stewardd:log_level": ("debug", debug_logged, {}),
    "stewardd:limits:max_connections": (1, lambda d: status_while_holding(d, 1), {}),
    # Restart-only: the file is what the next start makes live.
    "stewardd:limits:max_connections_per_ip": (
        7, lambda d: config_line(d, "limits:max_connections_per_ip"), {}),
    "stewardd:limits:max_unauthenticated_connections": (1, first_displaced, {}),
    "stewardd:limits:max_unauthenticated_per_source": (1, second_from_one_source, {}),
    "stewardd:limits:header_timeout": (1, cut_while_dribbling, {"limits:idle_timeout": 120}),
    "stewardd:limits:max_local_connections_per_uid": (
        1, local_pair_as_prober, {"auth:monitor_groups": ["probegrp"]}),
    "stewardd:limits:max_header_bytes": (
        1024, lambda d: d.https("GET", "/api/v1/whoami", headers={"X-Pad": "p" * 1500}).status, {}),
    "stewardd:limits:max_body_bytes": (
        1024, lambda d: dry_patch_status(d, json.dumps({"log_level": "info", "x": "p" * 2000}).encode()), {}),
    "stewardd:limits:max_json_depth": (
        2, lambda d: dry_patch_status(d, b'{"auth": {"throttle": {"free_attempts": 3}}}'), {}),
    "stewardd:limits:idle_timeout": (1, closes_idle_connection, {}),
    "stewardd:auth:session_idle_timeout": (5, session_survives_idle, {"auth:allow_root_login": True}),
    "stewardd:auth:session_lifetime": (60, session_lifetime, {"auth:allow_root_login": True}),
    "stewardd:auth:allow_root_login": (True, lambda d: login_role(d, "root"), {}),
    "stewardd:auth:max_token_lifetime": (3600, token_lifetime_capped, {}),
    "stewardd:auth:admin_groups": (["probegrp"], lambda d: login_role(d, "prober"), {}),
    "stewardd:auth:operator_groups": (["probegrp"], lambda d: login_role(d, "prober"), {}),
    "stewardd:auth:monitor_groups": (["probegrp"], lambda d: login_role(d, "prober"), {}),
    # After 2 failures: free with 3 free attempts, a wait with 1.
    "stewardd:auth:throttle:free_attempts": (1, lambda d: failed_logins(d, 2), {}),
    "stewardd:auth:throttle:base_delay": (30, lambda d: failed_logins(d, 4), {}),
    "stewardd:auth:throttle:max_delay": (5, lambda d: failed_logins(d, 4), {"auth:throttle:base_delay": 50}),
    "stewardd:auth:throttle:block_after": (2, lambda d: failed_logins(d, 3), {}),
    "stewardd:auth:throttle:block_seconds": (40, lambda d: failed_logins(d, 3), {"auth:throttle:block_after": 2}),
    "stewardd:discovery:enabled": (False, lambda d: discovery_answers(d, 1), {}),
    "stewardd:discovery:rate_per_source": (50, lambda d: discovery_answers(d, 8) >= 6, {}),
    "stewardd:discovery:sd_peers": (True, sd_sweeping, {}),
    "stewardd:discovery:sd_interval": (2, sd_sweeps_often, {"discovery:sd_peers": True}),
    "stewardd:metrics:allow_from": (
        ["127.0.0.1/32"], lambda d: d.https("GET", "/metrics", token=False).status, {}),
    "stewardd:limits:max_event_subscribers": (0, events_status, {}),
    "stewardd:users:home_roots": (["/srv"], home_allowed, {}),
    # A new record reaches the target (authpriv.notice = 85) / in the facility.
    "stewardd:audit:syslog_targets": ([SYSLOG_UDP], syslog_pri, {}),
    "stewardd:audit:syslog_facility": ("local3", syslog_pri, {"audit:syslog_targets": [SYSLOG_UDP]}),
    "stewardd:audit:syslog_ca_file": (
        SYSLOG_TLS_CA_SETTING, lambda d: _tls_receiver.outcome(d), tls_receiver_set),
    "metrics:interval": (2, sample_step, {}),
    "metrics:textfile_dir": ("/etc/steward-textfile", textfiles_read, textfile_dir_with_a_file),
    # What the notifier reads at each send (test_alert_notify.py sends).
    "alerts:webhooks": (["https://hooks.example.org/x"], lambda d: alerts_live(d, "webhooks"), {}),
    "alerts:alertmanager_url": ("http://127.0.0.1:9093",
                                lambda d: alerts_live(d, "alertmanager_url"), {}),
    "alerts:mail_to": (["ops@example.org"], lambda d: alerts_live(d, "mail_to"), {}),
    "alerts:mail_from": ("alerts@example.org", lambda d: alerts_live(d, "mail_from"), {}),
    "alerts:send_resolved": (False, lambda d: alerts_live(d, "send_resolved"), {}),
    "alerts:repeat_interval": (600, lambda d: alerts_live(d, "repeat_interval"), {}),
    "system:hostname": ("steward-live", lambda d: ns_out(d, ["uname", "-n"]), {}),
    "system:timezone": ("Asia/Tokyo", lambda d: ns_out(d, ["date", "+%Z"]), {}),
    # What systemd-timesyncd reads when it (re)starts; the drop-in is its own.
    "time:ntp:servers": (["ntp.example.org"], lambda d: timesyncd_value(d, "NTP"), {}),
    "time:ntp:fallback_servers": (["192.0.2.1"], lambda d: timesyncd_value(d, "FallbackNTP"), {}),
    "time:ntp:root_distance_max_sec": (10, lambda d: timesyncd_value(d, "RootDistanceMaxSec"), {}),
    "time:ntp:poll_interval_min_sec": (64, lambda d: timesyncd_value(d, "PollIntervalMinSec"), {}),
    "time:ntp:poll_interval_max_sec": (4096, lambda d: timesyncd_value(d, "PollIntervalMaxSec"), {}),
    # What Samba reads (testparm over the scratch /etc), and where shares may go.
    "shares:smb:workgroup": ("OFFICE", lambda d: samba_value(d, "workgroup"), {}),
    "shares:smb:server_string": ("Files of web1", lambda d: samba_value(d, "server string"), {}),
    "shares:smb:min_protocol": ("SMB3_00", lambda d: samba_value(d, "server min protocol"), {}),
    "shares:smb:signing": ("mandatory", lambda d: samba_value(d, "server signing"), {}),
    "shares:smb:encryption": ("required", lambda d: samba_value(d, "server smb encrypt"), {}),
    "shares:smb:netbios": (False, lambda d: samba_value(d, "disable netbios"), {}),
    # testparm answers its own debug level for this one: the line smbd reads.
    "shares:smb:log_level": (3, lambda d: include_global(d, "log level"), {}),
    "shares:roots": (["/opt"], lambda d: d.https("GET", "/api/v1/modules/shares/folders").json, {}),
    # What Postfix and Dovecot read (postconf, doveconf over the scratch /etc).
    "mail:postfix:myhostname": ("probe.example.org", lambda d: postconf_value(d, "myhostname"), {}),
    "mail:postfix:mydomain": ("example.org", lambda d: postconf_value(d, "mydomain"), {}),
    "mail:postfix:myorigin": ("$mydomain", lambda d: postconf_value(d, "myorigin"), {}),
    "mail:postfix:mydestination": (["$myhostname", "localhost"],
                                   lambda d: postconf_value(d, "mydestination"), {}),
    "mail:postfix:inet_interfaces": (["loopback-only"],
                                     lambda d: postconf_value(d, "inet_interfaces"), {}),
    "mail:postfix:inet_protocols": ("ipv4", lambda d: postconf_value(d, "inet_protocols"), {}),
    "mail:postfix:mynetworks": (["127.0.0.0/8"], lambda d: postconf_value(d, "mynetworks"), {}),
    "mail:postfix:relayhost": ("[smtp.example.net]:587", lambda d: postconf_value(d, "relayhost"), {}),
    "mail:postfix:message_size_limit": (
        20480000, lambda d: postconf_value(d, "message_size_limit"), {}),
    "mail:postfix:mailbox_size_limit": (
        104857600, lambda d: postconf_value(d, "mailbox_size_limit"), {}),
    "mail:postfix:recipient_delimiter": ("-", lambda d: postconf_value(d, "recipient_delimiter"), {}),
    "mail:postfix:home_mailbox": ("Maildir/", lambda d: postconf_value(d, "home_mailbox"), {}),
    "mail:postfix:smtpd_tls_cert_file": (
        BOTH_PEM, lambda d: postconf_value(d, "smtpd_tls_cert_file"), mail_certificate),
    "mail:postfix:smtpd_tls_key_file": (
        DOVECOT_KEY, lambda d: postconf_value(d, "smtpd_tls_key_file"), mail_certificate),
    "mail:postfix:smtpd_tls_security_level": (
        "may", lambda d: postconf_value(d, "smtpd_tls_security_level"), {}),
    "mail:postfix:smtp_tls_security_level": (
        "may", lambda d: postconf_value(d, "smtp_tls_security_level"), {}),
    "mail:postfix:smtpd_relay_restrictions": (
        ["permit_mynetworks", "reject_unauth_destination"],
        lambda d: postconf_value(d, "smtpd_relay_restrictions"), {}),
    "mail:postfix:smtpd_recipient_restrictions": (
        ["reject_unauth_pipelining"], lambda d: postconf_value(d, "smtpd_recipient_restrictions"), {}),
    "mail:postfix:virtual_alias_domains": (
        ["example.com"], lambda d: postconf_value(d, "virtual_alias_domains"), {}),
    "mail:postfix:smtpd_banner": ("$myhostname ESMTP probe", lambda d: postconf_value(d, "smtpd_banner"), {}),
    "mail:postfix:submission": (True, lambda d: master_service(d, "submission"), mail_certificate_set),
    "mail:postfix:smtps": (True, lambda d: master_service(d, "smtps"), mail_certificate_set),
    "mail:dovecot:protocols": (["imap"], lambda d: doveconf_value(d, "protocols"), {}),
    "mail:dovecot:ssl": ("required", lambda d: doveconf_value(d, "ssl"), mail_certificate),
    "mail:dovecot:ssl_cert": (BOTH_PEM, lambda d: doveconf_value(d, "ssl_cert"), mail_certificate),
    "mail:dovecot:ssl_key": (BOTH_PEM, lambda d: doveconf_value(d, "ssl_key"), mail_certificate),
    "mail:dovecot:mail_location": (
        "maildir:~/Maildir", lambda d: doveconf_value(d, "mail_location"), {}),
    "mail:dovecot:auth_mechanisms": (
        ["plain", "login"], lambda d: doveconf_value(d, "auth_mechanisms"), {}),
    "mail:dovecot:login_greeting": (
        "Probe mail ready", lambda d: doveconf_value(d, "login_greeting"), {}),
    "mail:dovecot:mail_max_userip_connections": (
        3, lambda d: doveconf_value(d, "mail_max_userip_connections"), {}),
    "mail:tls:cert_file": (BOTH_PEM, lambda d: (postconf_value(d, "smtpd_tls_cert_file"),
                                                doveconf_value(d, "ssl_cert")), mail_certificate),
    "mail:tls:key_file": (DOVECOT_KEY, lambda d: (postconf_value(d, "smtpd_tls_key_file"),
                                                  doveconf_value(d, "ssl_key")), mail_certificate),
}


def writable_settings(d):
    keys = set()
    for m in d.https("GET", "/api/v1/modules").json["modules"]:
        schema = d.https("GET", f"/api/v1/modules/{m['name']}/schema").json
        keys |= {f"{m['name']}:{s['key']}" for s in schema["settings"] if not s.get("read_only")}
    return keys


def test_every_writable_setting_has_a_row(daemon):
    keys = writable_settings(daemon)
    assert keys, "no writable setting found"
    missing = keys - set(ROWS)
    assert not missing, f"writable settings without a behaviour check in ROWS: {sorted(missing)}"
    assert not set(ROWS) - keys, f"rows for settings that are not writable: {sorted(set(ROWS) - keys)}"


def admin(d, method, path, body=None):
    """A change over the unix socket (root by its peer credentials: no
    session to time out); a 503 of a connection limit the row just set is
    waited out."""
    for _ in range(100):
        r = d.unix(method, path, body)
        if r.status != 503:
            return r
        time.sleep(0.05)
    return r


def patch(d, module, body):
    r = admin(d, "PATCH", f"/api/v1/modules/{module}/settings", body)
    assert r.status == 200, r
    return r.json


# Confidential settings (setting_def_t.confidential): their changes are
# recorded redacted.
CONFIDENTIAL = {"alerts:webhooks", "alerts:alertmanager_url"}


@pytest.mark.parametrize("setting", sorted(ROWS))
def test_set_rollback_set_again(live, setting):
    d = live
    module, key = setting.split(":", 1)
    value, probe, setup = ROWS[setting]
    if callable(setup):  # files and settings the row needs (a certificate)
        setup(d)
    elif setup:
        patch(d, "stewardd", setup)
    before = probe(d)

    r = patch(d, module, {key: value})
    assert r["changed"] == [key], r
    after = probe(d)
    assert after != before, f"{setting}: setting {value!r} changed nothing that can be seen ({before!r})"

    back = admin(d, "POST", f"/api/v1/audit/{r['audit_id']}/rollback")
    if setting in CONFIDENTIAL:
        # Its record keeps no image of the file (a webhook URL may hold its
        # secret): the rollback is refused and says why; setting the old
        # value back is the way.
        assert back.status == 422 and "redacted" in back.json["error"]["message"], back
        assert probe(d) == after
        return
    assert back.status == 200, back
    assert "warnings" not in back.json, back.json
    assert probe(d) == before, f"{setting}: after the rollback the daemon still does what {value!r} made it do"

    again = patch(d, module, {key: value})
    assert again["changed"] == [key], f"{setting}: setting it again after the rollback was a no-op: {again}"
    assert probe(d) == after


def test_a_restored_file_that_does_not_parse_is_reported(make_daemon):
    """The file goes back as it was, but what does not parse is not made
    live: the answer and the CLI say so, and the running value stays."""
    d = make_daemon()
    d.config.write_text("limits:max_body_bytes = 5\n")  # below the minimum, written by hand
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_body_bytes": 2048})
    assert r.status == 200, r
    p = d.cli("audit", "rollback", str(r.json["audit_id"]), check=0)
    assert d.config.read_text() == "limits:max_body_bytes = 5\n"
    assert "warning:" in p.stderr and "not valid" in p.stderr, p.stderr
    assert d.https("GET", "/api/v1/modules/stewardd/settings").json["limits"]["max_body_bytes"] == 2048
    assert "not valid" in d.log_text()


def test_a_restored_file_that_does_not_parse_is_in_the_answer(make_daemon):
    d = make_daemon()
    (d.tmp / "metrics.conf").write_text("interval = 0\n")
    d.config.write_text("limits:max_body_bytes = 5\n")
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_body_bytes": 2048})
    assert r.status == 200, r
    back = d.https("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback")
    assert back.status == 200, back
    assert len(back.json["warnings"]) == 1 and "max_body_bytes" in back.json["warnings"][0], back.json
    assert "changed_modules" not in back.json


def test_setting_a_value_already_set_says_nothing_changed(daemon):
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"limits:max_connections": 256})
    assert r.status == 200 and r.json["changed"] == [] and "nothing changed" in r.json["message"], r
    p = daemon.cli("settings", "stewardd:limits:max_connections", "=", "256", check=0)
    assert "stewardd: nothing changed" in p.stderr, p.stderr
    p = daemon.cli("settings", "stewardd:limits:max_connections", "=", "255", check=0)
    assert "nothing changed" not in p.stderr and "stewardd:limits:max_connections = 255" in p.stdout


def test_sighup_makes_every_module_s_files_live(live):
    """Hand edits of a module's files reach both processes on SIGHUP: the
    host name (set by the helper) and the sampling step (the front)."""
    d = live
    (d.etc / "hostname").write_text("steward-hup\n")
    (d.tmp / "metrics.conf").write_text("interval = 2\n")
    d.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: ns_out(d, ["uname", "-n"]) == "steward-hup")
    assert sample_step(d) == 2


def test_stale_temporary_files_are_removed_at_start(make_daemon):
    d = make_daemon(start=False)
    ours = ["stewardd.conf.0123456789abcdef.tmp", ".stewardd.conf.0123456789abcdef.tmp",
            "metrics.conf.fedcba9876543210.tmp"]
    others = ["stewardd.conf.tmp", "other.conf.0123456789abcdef.tmp", "stewardd.conf.0123456789ABCDEF.tmp",
              "stewardd.conf.0123456789abcdef.tmp.keep", "stewardd.conf.0123456789abcde.tmp"]
    for name in ours + others:
        (d.tmp / name).write_text("half a file\n")
    d.start()
    left = {p.name for p in d.tmp.iterdir()}
    assert not left & set(ours), left
    assert set(others) <= left
    for name in ours:
        assert f"removed the stale temporary file {d.tmp}/{name}" in d.log_text()
