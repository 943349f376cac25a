"""stewardd's log as journal entries, end to end: a daemon whose stderr is
"the journal's stream" (JOURNAL_STREAM names it, as systemd does for a
service) sends each line as a native journal entry; here the journal's
socket is a datagram socket of the test's own, at
/run/systemd/journal/socket in a private mount namespace (a scratch /run),
so what the daemon sends is read as journald would receive it.

The booted-container test of the package checks the same fields through
journalctl against a real journald."""
import os
import select
import signal
import socket
import subprocess
import time

import pytest

from conftest import SANITIZER_MARKS
from nsroot import ns_argv, scratch_etc


class FakeJournal:
    def __init__(self, run_dir):
        d = run_dir / "systemd" / "journal"
        d.mkdir(parents=True)
        for p in (run_dir, run_dir / "systemd", d):
            p.chmod(0o755)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(d / "socket"))
        (d / "socket").chmod(0o666)  # the front, unprivileged, logs too
        self.entries = []

    def read(self, timeout=0.2):
        while select.select([self.sock], [], [], timeout)[0]:
            data = self.sock.recv(65536).decode()
            entry = {}
            for line in data.split("\n"):
                if line:
                    k, _, v = line.partition("=")
                    entry[k] = v
            self.entries.append(entry)
            timeout = 0
        return self.entries

    def wait_for(self, pred, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e in self.read():
                if pred(e):
                    return e
        raise AssertionError(f"no journal entry {what}; got:\n" +
                             "\n".join(str(e) for e in self.entries))


@pytest.fixture
def journald(make_daemon, daemon_base):
    """A daemon (not started by the harness) logging to a fake journal."""
    d = make_daemon(start=False)
    run = daemon_base / "run"
    j = FakeJournal(run)
    etc = scratch_etc(daemon_base)
    log = open(d.log_path, "ab")
    st = os.fstat(log.fileno())
    env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}",
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66")
    proc = subprocess.Popen(ns_argv(etc, d.args, extra_binds=[(run, "/run")]), stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    try:
        j.wait_for(lambda e: e.get("MESSAGE", "").startswith("listening on https://"),
                   "saying it listens")
        yield d, j
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
        text = d.log_path.read_text(errors="replace")
        for mark in SANITIZER_MARKS:
            assert mark not in text, text
        assert code == 0, text


def test_log_lines_are_journal_entries_with_fields(journald):
    d, j = journald
    # Nothing of the log went to stderr (only the next steps, which are not
    # log lines).
    assert "stewardd[notice]" not in d.log_path.read_text()
    e = j.wait_for(lambda e: "TLS certificate fingerprint" in e.get("MESSAGE", ""),
                   "with the fingerprint")
    assert e["PRIORITY"] == "5" and e["SYSLOG_IDENTIFIER"] == "stewardd"
    fp = e["MESSAGE"].split("fingerprint ", 1)[1]

    # A failed login (the helper): the fields fail2ban and journalctl use.
    import http.client
    import json
    import ssl
    ctx = ssl.create_default_context(cafile=str(d.tls_dir / "cert.pem"))

    def post(body):
        c = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=10)
        c.request("POST", "/api/v1/login", body=json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data)

    status, _ = post({"user": "nosuchuser", "password": "wrong-password"})
    assert status == 401
    e = j.wait_for(lambda e: e.get("MESSAGE", "").startswith('login failed for user "nosuchuser"'),
                   "for the failed login")
    assert e["PRIORITY"] == "4"
    assert e["STEWARD_USER"] == "nosuchuser"
    assert e["STEWARD_SOURCE"].startswith("127.0.0.1:")
    assert e["STEWARD_MODULE"] == "auth" and e["STEWARD_OPERATION"] == "login"
    assert e["MESSAGE"].startswith(f'login failed for user "nosuchuser" from {e["STEWARD_SOURCE"]}: ')

    # A bad token (the front, unprivileged).
    c = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=10)
    c.request("GET", "/api/v1/modules", headers={"Authorization": "Bearer stw_" + "0" * 64})
    assert c.getresponse().status == 401
    c.close()
    e = j.wait_for(lambda e: e.get("MESSAGE", "").startswith("authentication failed from 127.0.0.1:"),
                   "for the bad token")
    assert e["STEWARD_SOURCE"].startswith("127.0.0.1:") and e["STEWARD_MODULE"] == "auth"

    # The bootstrap login is audited: the audit record's id is a field.
    status, ans = post({"bootstrap_token": (d.state / "bootstrap-token").read_text().strip()})
    assert status == 200
    e = j.wait_for(lambda e: "STEWARD_AUDIT_ID" in e, "with an audit id")
    assert e["STEWARD_USER"] == "bootstrap" and e["STEWARD_MODULE"] == "auth"
    assert e["STEWARD_OPERATION"] == "login"
    assert e["MESSAGE"] == (f'audit record {e["STEWARD_AUDIT_ID"]}: auth login by "bootstrap" '
                            f'from {e["STEWARD_SOURCE"]}: ok')
    assert fp.startswith("SHA256:")

    # A token or a password typed into the user field is not a user name
    # and is not logged: the line says so and carries no STEWARD_USER.
    secret = "stw_" + "7" * 64
    typed = (secret, "correct horse battery staple!")
    for t in typed:
        assert post({"user": t, "password": "wrong-password"})[0] == 401

    def placeholders():
        return [e for e in j.entries
                if e.get("MESSAGE", "").startswith('login failed for user "(not a user name)"')]
    j.wait_for(lambda e: len(placeholders()) >= 2, "for the logins with a secret as name")
    for e in placeholders():
        assert "STEWARD_USER" not in e and e["STEWARD_SOURCE"].startswith("127.0.0.1:")
    assert not any(t in json.dumps(e) for e in j.entries for t in typed)
