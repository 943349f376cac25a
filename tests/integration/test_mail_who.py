"""Who is connected to Dovecot, and kick (src/modules/mail/who.c), against
the real Dovecot of mail_ns.py: IMAP and POP3 logins from the host show in
GET /api/v1/modules/mail/connections (monitor) with their user, service,
address and process; DELETE …/connections/USER (operator) ends them; the
grammar of the user name; Dovecot stopped is an empty list, not an error."""
import imaplib
import poplib
import smtplib
import time

import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces

CONNECTIONS = "/api/v1/modules/mail/connections"


@pytest.fixture(scope="module")
def users(mail_ns):
    return {name: mail_ns.add_user(name, pw)[1]
            for name, pw in (("whoalice", "Alice-pw-1"), ("whobob", "Bob-pw-1"))}


def sessions_of(mail, user, role="monitor"):
    r = mail.api("GET", CONNECTIONS, role=role)
    assert r.status == 200, r
    assert r.json["dovecot_running"] is True, r.json
    return [c for c in r.json["connections"] if c["user"] == user]


def gone(mail, user):
    """Whether user's sessions are no longer listed, waiting for Dovecot to
    have seen the logout (its anvil hears of it after the client)."""
    deadline = time.monotonic() + 30
    while sessions_of(mail, user) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sessions_of(mail, user) == []


def test_imap_and_pop3_logins_listed(mail, users):
    imap = mail.imap_login("whoalice", users["whoalice"])
    pop = poplib.POP3(mail.ip, 110, timeout=30)
    try:
        pop.user("whoalice")
        pop.pass_(users["whoalice"])
        got = sessions_of(mail, "whoalice")
        assert sorted(c["service"] for c in got) == ["imap", "pop3"], got
        for c in got:
            assert c["client"] == mail.host_ip, c
            assert isinstance(c["pid"], int) and c["pid"] > 1, c
            # The pid is the session's process in the servers' namespace.
            p = mail.run_in_ns("cat", f"/proc/{c['pid']}/comm")
            assert p.stdout.strip() == c["service"], p
    finally:
        pop.quit()
        imap.logout()
    assert gone(mail, "whoalice")


def test_smtp_session_listed(mail, users):
    """An SMTP client shows with the smtpd process that serves it (no user:
    nobody logged in); gone once it quits."""
    def smtp_rows():
        r = mail.api("GET", CONNECTIONS, role="monitor")
        assert r.status == 200, r
        return [c for c in r.json["connections"] if c["service"] == "smtp"]

    # Nothing of a mail test run beside this one (its own Postfix, on other
    # files: another mount namespace) is listed.
    assert smtp_rows() == []
    s = smtplib.SMTP(mail.ip, 25, timeout=30)
    try:
        s.ehlo("client.example.org")
        rows = smtp_rows()
        assert len(rows) == 1, rows
        row = rows[0]
        assert row["client"] == mail.host_ip and row["user"] is None, row
        p = mail.run_in_ns("cat", f"/proc/{row['pid']}/comm")
        assert p.stdout.strip() == "smtpd", p
    finally:
        s.quit()
    # smtpd stays for the next client, without one: not listed (once it
    # has closed the socket, just after its answer to QUIT).
    deadline = time.monotonic() + 30
    while smtp_rows() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert smtp_rows() == []


def test_cli_who(mail, users):
    imap = mail.imap_login("whobob", users["whobob"])
    p = mail.cli("--json", "mail", "who")
    if "unknown command" in p.stderr:
        pytest.skip("the CLI's `mail` verbs are not there yet")
    assert p.returncode == 0, p.stderr
    assert "whobob" in p.stdout
    p = mail.cli("mail", "who", check=0)
    assert "whobob" in p.stdout and "imap" in p.stdout
    p = mail.cli("mail", "kick", "whobob", check=0)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        imap.noop()
    assert gone(mail, "whobob")
    p = mail.cli("mail", "kick", "whobob")
    assert p.returncode != 0 and "no IMAP or POP3 session" in p.stderr, p


def test_kick_ends_every_session_of_the_user(mail, users):
    a1 = mail.imap_login("whoalice", users["whoalice"])
    a2 = mail.imap_login("whoalice", users["whoalice"])
    b = mail.imap_login("whobob", users["whobob"])
    assert len(sessions_of(mail, "whoalice")) == 2
    r = mail.api("DELETE", f"{CONNECTIONS}/whoalice", role="operator")
    assert r.status == 200, r
    assert r.json == {"user": "whoalice", "kicked": 2}
    for s in (a1, a2):  # the session's next command fails
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            s.noop()
    assert gone(mail, "whoalice")
    # Another user's session is untouched.
    assert b.noop()[0] == "OK"
    assert len(sessions_of(mail, "whobob")) >= 1
    # Audited.
    r = mail.api("GET", "/api/v1/audit")
    assert r.status == 200, r
    assert "kick" in r.body and "whoalice" in r.body


def test_kick_through_the_command(mail, users):
    s = mail.imap_login("whobob", users["whobob"])
    r = mail.api("POST", "/api/v1/modules/mail/commands/kick", {"user": "whobob"},
                 role="operator")
    assert r.status == 200, r
    assert r.json["kicked"] >= 1
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        s.noop()


def test_roles(mail, users):
    s = mail.imap_login("whobob", users["whobob"])
    assert mail.api("GET", CONNECTIONS, role="monitor").status == 200
    r = mail.api("DELETE", f"{CONNECTIONS}/whobob", role="monitor")
    assert r.status == 403, r
    r = mail.api("POST", "/api/v1/modules/mail/commands/kick", {"user": "whobob"},
                 role="monitor")
    assert r.status == 403, r
    r = mail.daemon.https("GET", CONNECTIONS, token=False)
    assert r.status == 401, r
    assert s.noop()[0] == "OK"  # still connected
    assert len(sessions_of(mail, "whobob")) >= 1
    s.logout()


def test_kick_without_session_is_404(mail, users):
    r = mail.api("DELETE", f"{CONNECTIONS}/whoalice", role="operator")
    assert r.status == 404, r
    assert r.json["error"]["field"] == "user"
    assert "no IMAP or POP3 session" in r.json["error"]["message"]
    r = mail.api("DELETE", f"{CONNECTIONS}/nosuchuser", role="operator")
    assert r.status == 404, r


@pytest.mark.parametrize("name", ["-a", "--", "*", "whob?b", "who*", "10.125.0.0/16",
                                  "127.0.0.1", "::1", "a\nb", "a\tb", "x" * 257])
def test_kick_refuses_what_doveadm_would_read_otherwise(mail, users, name):
    s = mail.imap_login("whobob", users["whobob"])
    r = mail.api("POST", "/api/v1/modules/mail/commands/kick", {"user": name}, role="operator")
    assert r.status in (400, 422), r
    assert r.json["error"]["field"] == "user", r
    assert s.noop()[0] == "OK"  # nobody was kicked
    s.logout()


def test_dovecot_stopped_is_an_empty_list(mail, users):
    mail.stop_dovecot()
    try:
        r = mail.api("GET", CONNECTIONS, role="monitor")
        assert r.status == 200, r
        assert r.json == {"connections": [], "dovecot_running": False}
        r = mail.api("DELETE", f"{CONNECTIONS}/whobob", role="operator")
        assert r.status == 404, r
        assert "not running" in r.json["error"]["message"]
    finally:
        mail.start_dovecot()
    assert sessions_of(mail, "whobob") == []
