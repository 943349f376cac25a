"""The web console in a real browser: Debian's chromium, driven by
playwright-core (console.mjs), against a real stewardd (the sanitizer build)
with a real PAM account in a private mount namespace.

Each case starts a daemon, creates the accounts, and runs console.mjs with
the steps it wants; the script prints one line a step and exits non-zero on
the first failure.  Screenshots of every page go to STEWARD_ARTIFACTS
(build-asan/browser-artifacts by default).  `make test` installs chromium and
the npm packages, so their absence is a failure, not a skip.
"""
import http.client
import imaplib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import integration, make_user
from smb_ns import smb_ns, smb  # noqa: F401 (the real smbd of the shares tests)
from mail_ns import mail_ns, mail  # noqa: F401 (the real Postfix and Dovecot of the mail tests)
from net_ns import net_ns, net  # noqa: F401 (the routed namespaces of the network tests)

UnixHTTPConnection = integration.UnixHTTPConnection

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "console.mjs"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("STEWARD_ARTIFACTS", ROOT / "build-asan" / "browser-artifacts"))

@pytest.fixture
def console(ns_daemon, admin_user):
    assert (ROOT / "web" / "node_modules" / "playwright-core").is_dir(), \
        "web/node_modules is missing: make web-deps"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: scripts/install-deps.sh test"
    d = ns_daemon
    make_user(d, "nora", "nora-Secret-1")  # a valid account with no Steward role
    return d, admin_user


def has_events(d):
    """Whether GET /api/v1/events exists: read the status line only (the
    answer is a stream that does not end)."""
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(), timeout=10)
    try:
        conn.request("GET", "/api/v1/events?types=sample", headers={"Authorization": f"Bearer {d.token}"})
        return conn.getresponse().status != 404
    finally:
        conn.close()


def has_users(d):
    r = d.https("GET", "/api/v1/modules")
    return any(m["name"] == "users" for m in r.json["modules"])


def run(d, user, steps, name, extra_env=None, url=None):
    out = ARTIFACTS / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "STEWARD_URL": url or f"https://127.0.0.1:{d.port}",
        "STEWARD_USER": user[0],
        "STEWARD_PASSWORD": user[1],
        "STEWARD_NOROLE_USER": "nora",
        "STEWARD_NOROLE_PASSWORD": "nora-Secret-1",
        "STEWARD_STEPS": ",".join(steps),
        "STEWARD_ARTIFACTS": str(out),
        "STEWARD_CHROMIUM": CHROMIUM,
    })
    env.update(extra_env or {})
    p = subprocess.run(["node", str(SCRIPT)], cwd=ROOT / "web", env=env, capture_output=True, text=True,
                       timeout=600)
    print(p.stdout)
    assert p.returncode == 0, f"console.mjs failed:\n{p.stdout}\n{p.stderr}"
    done = [line.split(" ", 2)[1] for line in p.stdout.splitlines() if line.startswith("ok ")]
    assert done == steps, p.stdout


def test_console_end_to_end(console):
    """Log in, the overview matches the API, a setting changed through the
    plan and rolled back from the audit page, port 660 looked up, a token
    created and revoked, a CSRF-less change refused, accessibility and CSP
    clean on every page, no JSON as text and no sideways scrolling anywhere,
    every page visited and screenshotted (tour), the time zone picker, a
    command's answer as a table, Apply's answer by its button, log out, then
    the login errors."""
    d, user = console
    run(d, user, ["login", "overview", "settings", "audit", "ports", "tokens", "modules", "keyboard", "csrf",
                  "tour", "forms", "reason", "phone", "logout", "badlogin", "norole"], "main")


def test_console_throttled_login(console):
    """After too many failures the login page says so, with the wait."""
    d, user = console
    r = d.unix("PATCH", "/api/v1/modules/stewardd/settings",
               {"auth": {"throttle": {"free_attempts": 1, "base_delay": 600, "max_delay": 600}}})
    assert r.status == 200, r
    run(d, user, ["badlogin", "throttled"], "throttled")


def test_console_sessions(console):
    """A failed login shows in the overview's findings; another session of
    the user is ended from the console; ending the current one logs out."""
    d, user = console
    run(d, user, ["badlogin", "login", "findings", "sessions", "endcurrent"], "sessions")


def test_console_many_sessions(console):
    """Hundreds of sessions stay readable: 45 more logins are paged 20 at a
    time, the current session first, and open local-socket connections are
    counted apart."""
    d, user = console
    # Local connections stay open through the run (silent ones are closed
    # after limits:idle_timeout).
    r = d.unix("PATCH", "/api/v1/modules/stewardd/settings", {"limits": {"idle_timeout": 3600}})
    assert r.status == 200, r
    held = []
    try:
        for _ in range(3):
            c = UnixHTTPConnection(str(d.sock))
            c.request("GET", "/api/v1/whoami")
            assert c.getresponse().read() and True
            held.append(c)
        run(d, user, ["login", "manysessions"], "many-sessions", {"STEWARD_PEERS": str(len(held))})
    finally:
        for c in held:
            c.close()


def test_console_first_login(console):
    """On a new installation the login page names the host and offers the
    bootstrap token; it logs in once, and the offer is then gone."""
    d, user = console
    r = d.https("GET", "/api/v1/login-info", token=False)
    assert r.status == 200 and r.json["bootstrap"] is True, r
    run(d, user, ["firstlogin"], "first-login", {"STEWARD_BOOTSTRAP_TOKEN": d.bootstrap_token})


def test_console_live_chart(console):
    d, user = console
    assert has_events(d), "GET /api/v1/events is missing"
    run(d, user, ["login", "live"], "live")


def test_console_idle_logout(console):
    """With a 25 s idle timeout: the warning comes, "stay" keeps the session,
    and without an answer the console logs out and says why."""
    d, user = console
    r = d.unix("PATCH", "/api/v1/modules/stewardd/settings", {"auth": {"session_idle_timeout": 25}})
    assert r.status == 200, r
    run(d, user, ["login", "idle"], "idle")


def test_console_shares_page(console):
    """The file-sharing page: share points with their protocol badges, a
    share made through the form (folder picker, allowed users, Time
    Machine, an NFS client) and its review dialog, a refused field shown by
    it, the folder's permissions, the connected users updated by the
    share_connections event and one disconnected, the Samba accounts; then
    a monitor sees the page without its buttons.  The shares routes are
    answered by the script (fakeShares in console.mjs) while the admin
    works; the rest of the console is the real daemon's."""
    d, user = console
    integration.ns_run(d, ["/usr/sbin/groupadd", "-f", "--", "steward-monitor"])
    make_user(d, "mona", "mona-Secret-1", ["steward-monitor"])
    run(d, user, ["shares", "logout", "sharesmonitor"], "shares",
        {"STEWARD_MONITOR_USER": "mona", "STEWARD_MONITOR_PASSWORD": "mona-Secret-1"})


def test_console_mail_page(console):
    """The mail page: the servers' state, the queue with its counts, reasons
    and filters, a message held by selection and its detail (headers, a
    link to its log lines), every deferred message to a domain deleted after
    the review of its dry run; a user's IMAP sessions ended; the activity
    chart; the smarthost reviewed and applied, a refused limit shown by its
    field; an alias added; then a monitor sees every part without the
    buttons.  The mail routes are answered by the script (fakeMail in
    console.mjs); test_console_mail_real drives the real servers."""
    d, user = console
    integration.ns_run(d, ["/usr/sbin/groupadd", "-f", "--", "steward-monitor"])
    make_user(d, "mona", "mona-Secret-1", ["steward-monitor"])
    run(d, user, ["login", "mail", "logout", "mailmonitor"], "mail",
        {"STEWARD_MONITOR_USER": "mona", "STEWARD_MONITOR_PASSWORD": "mona-Secret-1"})


def test_console_alerts_page(console):
    """The alerts page: firing and pending alerts in words and units,
    acknowledged and silenced from the page (a silence needs a reason),
    rules in words, a rule made through the kind-aware form and its review,
    edited and deleted, the history filtered and paged, a silence expired,
    the overview's line of firing alerts (none when nothing fires); then a
    monitor sees every tab with the buttons disabled.  The alerts API is
    answered by the script (fakeAlerts in console.mjs);
    test_console_alerts_real drives the real module."""
    d, user = console
    integration.ns_run(d, ["/usr/sbin/groupadd", "-f", "--", "steward-monitor"])
    make_user(d, "mona", "mona-Secret-1", ["steward-monitor"])
    run(d, user, ["login", "alerts", "logout", "alertsmonitor"], "alerts",
        {"STEWARD_MONITOR_USER": "mona", "STEWARD_MONITOR_PASSWORD": "mona-Secret-1"})


def test_console_alerts_real(console):
    """Against the real alerts module: a `metric:` rule on a value of the
    textfile collector (7, the rule: >= 5) created through the form's
    review fires, is acknowledged and silenced from the page, shows on the
    overview; the value written down to 1, the open page shows it resolved
    by the `alert` event, and the history has both transitions."""
    d, user = console
    r = d.https("GET", "/api/v1/modules/alerts/history?limit=1")
    assert r.status == 200, r
    tdir = Path(d.tmp) / "textfile"
    tdir.mkdir(exist_ok=True)
    os.chmod(tdir, 0o755)
    r = d.https("PATCH", "/api/v1/modules/metrics/settings", {"textfile_dir": str(tdir)})
    assert r.status == 200, r
    tmp = tdir / ".ui.tmp"
    tmp.write_text("# HELP site_ui_probe A probe.\n# TYPE site_ui_probe gauge\nsite_ui_probe 7\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, tdir / "ui.prom")
    # A scrape makes the textfile collector read it, as Prometheus would.
    r = d.https("GET", "/metrics")
    assert r.status == 200 and "site_ui_probe 7" in r.body, r
    run(d, user, ["login", "alertsreal"], "alerts-real",
        {"STEWARD_ALERT_SERIES": "metric:site_ui_probe", "STEWARD_ALERT_THRESHOLD": "5",
         "STEWARD_ALERT_FILE": str(tdir / "ui.prom"),
         "STEWARD_ALERT_LOW": "# HELP site_ui_probe A probe.\n# TYPE site_ui_probe gauge\nsite_ui_probe 1\n"})

def test_console_processes(console, tmp_path):
    """The processes page: a process this test started found by the filter,
    its detail, then STOP, CONT and TERM sent from its row, each through the
    dry run's confirmation: the process stops, goes on, and ends by TERM; a
    monitor sees the page and a detail without the buttons; an operator gets
    the buttons on a process of their own account only, and renices it."""
    d, user = console
    integration.ns_run(d, ["/usr/sbin/groupadd", "-f", "--", "steward-monitor"])
    make_user(d, "mona", "mona-Secret-1", ["steward-monitor"])
    make_user(d, "olga", "olga-Secret-1", ["steward-operator"])
    uid, gid = next((int(f[2]), int(f[3])) for f in (l.split(":") for l in
                    (d.etc / "passwd").read_text().splitlines()) if f[0] == "olga")
    exe = tmp_path / "stwvictim"
    shutil.copy("/usr/bin/sleep", exe)
    os.chmod(tmp_path, 0o755)
    os.chmod(exe, 0o755)
    victim = subprocess.Popen([str(exe), "1000"])
    olgas = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
                              str(exe), "1001"])
    try:
        run(d, user, ["login", "processes", "logout", "processesmonitor", "logout",
                      "processesoperator"], "processes",
            {"STEWARD_PROC_PID": str(victim.pid), "STEWARD_PROC_NAME": "stwvictim",
             "STEWARD_OWN_PID": str(olgas.pid),
             "STEWARD_MONITOR_USER": "mona", "STEWARD_MONITOR_PASSWORD": "mona-Secret-1",
             "STEWARD_OPERATOR_USER": "olga", "STEWARD_OPERATOR_PASSWORD": "olga-Secret-1"})
        assert victim.wait(timeout=10) == -15
    finally:
        for p in (victim, olgas):
            if p.poll() is None:
                p.kill()
            p.wait()


def test_console_mail_real(mail):
    """Against a real Postfix and Dovecot (the mail tests' mail_ns.py): a
    message deferred by the dead relay host is listed with its reason, held
    (Postfix's hold queue has it), its headers shown, then deleted after the
    review of its dry run (gone from postqueue); the smarthost changed
    through the settings' review (postconf -n has it); an IMAP user who logs
    in while the page shows the connected users appears by the page's own
    reading and is disconnected from it (the session ends)."""
    user = mail.add_user("alice", "alice-Secret-1", groups=["sudo"])
    mail.add_user("carol", "carol-Secret-1")
    queue_id = mail.defer_mail(to="someone@example.com")["queue_id"]
    ready = mail.base / "mail-page-ready"
    opened = {}

    def connect():
        deadline = time.monotonic() + 300
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if ready.exists():
            opened["session"] = mail.imap_login("carol", "carol-Secret-1")

    t = threading.Thread(target=connect)
    t.start()
    try:
        run(mail.daemon, user, ["login", "mailreal"], "mail-real",
            {"STEWARD_MAIL_ID": queue_id, "STEWARD_MAIL_READY": str(ready),
             "STEWARD_MAIL_IMAP_USER": "carol"})
    finally:
        ready.touch()
        t.join()
    assert queue_id not in [m["queue_id"] for m in mail.postqueue()]
    assert "relayhost = [127.0.0.1]:2527" in mail.postconf_n()
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        opened["session"].noop()


@pytest.fixture
def shares_console(daemon_base, make_daemon):
    """A daemon in a scratch /etc with a scratch /srv (two folders to
    share), an admin, and the share "projects" made through the API."""
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    srv = daemon_base / "srv"
    for name in ("projects", "media"):
        (srv / name).mkdir(parents=True)
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, extra_binds=[(str(srv), "/srv")]))
    user = make_user(d, "alice", "alice-Secret-1", ["sudo"])
    r = d.unix("POST", "/api/v1/shares", {"name": "projects", "path": "/srv/projects",
                                           "smb": {"read_only": False, "valid_users": ["alice"]},
                                           "nfs": {"enabled": True, "clients": ["192.0.2.0/24(ro)"]}})
    assert r.status in (200, 201), r.body
    return d, user


def test_console_shares_page_real(shares_console):
    """The file-sharing page against the real module: the share made
    through the API listed with its badges and clients, a Time Machine
    share made through the form and its review dialog (the real plan),
    an NFS client the module refuses shown at its row."""
    d, user = shares_console
    run(d, user, ["login", "sharesreal"], "shares-real")
    shown = d.unix("GET", "/api/v1/shares/media").json
    assert shown.get("share", shown)["smb"]["time_machine_max_size"] == "500G"


def test_console_shares_connected(smb):
    """Against a real smbd: a client that connects with smbclient while the
    page is open appears in the connected-users table by the
    share_connections event alone (the page makes no request for it), with
    its share; the Samba accounts list its user; the page's Disconnect ends
    the client's session."""
    user = smb.add_user("alice", "alice-Secret-1", groups=["sudo"])
    smb.mkdir("/srv/projects")
    r = smb.api("POST", "/api/v1/shares", {"name": "projects", "path": "/srv/projects",
                                           "smb": {"read_only": False, "valid_users": ["alice"]}})
    assert r.status in (200, 201), r.body
    # The client connects once the page shows nobody connected (the script
    # touches `ready`): its row must then come by the share_connections event.
    ready = smb.base / "page-ready"
    opened = {}

    def connect():
        deadline = time.monotonic() + 300
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if ready.exists():
            opened["session"] = smb.smbclient_session("projects", *user)

    t = threading.Thread(target=connect)
    t.start()
    try:
        run(smb.daemon, user, ["login", "sharesconnected"], "shares-connected",
            {"STEWARD_SHARES_READY": str(ready)})
    finally:
        ready.touch()
        t.join()
    session = opened["session"]
    # The server dropped the client: it has gone, or its next command fails.
    try:
        out = smb.session_cmd(session, "ls")
    except RuntimeError:
        out = "NT_STATUS_ (the client has gone)"
    assert "NT_STATUS_" in out, out


def test_console_users(console):
    d, user = console
    assert has_users(d), "the users module is missing"
    run(d, user, ["login", "users"], "users")


@pytest.mark.systemd
def test_console_in_the_systemd_container(systemd_ct):
    """Chromium on the host reaches the daemon in the booted container
    (systemd_ct) over its network address: log in, the overview matches the
    API, the live chart moves (the event stream), log out."""
    run(None, systemd_ct.credentials("admin"), ["login", "overview", "live", "logout"], "systemd-ct",
        url=systemd_ct.url)


@pytest.mark.systemd
def test_console_services(systemd_ct):
    """The services page and a unit's page in Chromium against the booted
    container: the failed unit found by its state, a unit stopped and started
    from the list and seen live, a restart, a drop-in setting reviewed and
    applied (then rolled back here, through the API)."""
    c = systemd_ct
    try:
        run(None, c.credentials("admin"), ["login", "services", "logout"], "services", url=c.url)
        assert c.show("steward-test-logger.service", "Nice")["Nice"] == "5"
    finally:
        r = c.https("GET", "/api/v1/audit?module=services&limit=20", token="admin")
        for rec in r.json["records"]:
            if rec["operation"] == "services:modify" and rec["result"] == "ok":
                c.https("POST", f"/api/v1/audit/{rec['id']}/rollback", {}, token="admin")
                break
        c.run("systemctl", "start", "steward-test-logger.service")
    assert c.show("steward-test-logger.service", "Nice", "ActiveState") == {"Nice": "0", "ActiveState": "active"}


@pytest.mark.systemd
def test_console_processes_unit(systemd_ct):
    """The processes page against the booted container: a service's main
    process found by its unit, the unit linked from its detail, the signal's
    confirmation warning of the unit's own restart (cancelled: it still
    runs), the link to the unit's page."""
    c = systemd_ct
    unit = "steward-test-hog.service"
    c.run("systemd-run", f"--unit={unit}", "--", "/bin/sleep", "1000")
    try:
        main = c.show(unit, "MainPID")["MainPID"]
        assert main != "0"
        run(None, c.credentials("admin"), ["login", "processesunit", "logout"], "processes-unit",
            {"STEWARD_PROC_PID": main, "STEWARD_PROC_UNIT": unit}, url=c.url)
        assert c.show(unit, "ActiveState", "MainPID") == {"ActiveState": "active", "MainPID": main}
    finally:
        c.run("systemctl", "stop", unit, check=False)
        c.run("systemctl", "reset-failed", unit, check=False)


@pytest.mark.systemd
def test_console_logs(systemd_ct):
    """The logs page in the booted container: the test logger's lines with
    severity colours, a priority filter, a bad time named at its field,
    live follow, and a file's tail."""
    systemd_ct.run("sh", "-c", "printf 'one\\ntwo\\n' > /var/log/steward-console.log")
    run(None, systemd_ct.credentials("operator"), ["login", "logs"], "logs", url=systemd_ct.url)


def test_console_network(net):
    """The network utility against net_ns.py's routed namespaces: the
    interfaces of the daemon's host, pings of 127.0.0.1 and of a host two
    hops away streamed reply by reply, DNS lookups (an answer, NXDOMAIN),
    the trace hop by hop, a port open and one filtered; each run audited."""
    d = net.daemon
    user = make_user(d, "alice", "alice-Secret-1", ["sudo"])
    run(d, user, ["login", "network"], "network", url=f"https://{net.a_mgmt}:{d.port}",
        extra_env={"STEWARD_NET_B": net.b_ip, "STEWARD_NET_A": net.a_ip,
                   "STEWARD_NET_R": net.r_a_ip,
                   "STEWARD_NET_OPEN_PORT": str(net.open_port),
                   "STEWARD_NET_FILTERED_PORT": str(net.filtered_port)})
    r = d.https("GET", "/api/v1/audit?module=network")
    ops = [x["operation"] for x in r.json["records"] if x["user"] == "alice"]
    assert ops.count("command:ping") == 2 and "command:traceroute" in ops, ops
    integration.ns_run(d, ["/usr/sbin/groupadd", "-f", "--", "steward-monitor"])
    mona = make_user(d, "mona", "mona-Secret-1", ["steward-monitor"])
    run(d, mona, ["login", "networkmonitor"], "network-monitor",
        url=f"https://{net.a_mgmt}:{d.port}")
