"""The mail test fixture itself (mail_ns.py): a real Postfix delivers a
message sent over SMTP to a local user's mailbox, Dovecot serves it over
IMAP; with the dead relay host a message to an outside address waits in the
deferred queue with its reason."""
import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces


def test_smtp_to_local_user_read_over_imap(mail):
    mail.add_user("nsalice", "Alice-pw-1")
    mail.send_mail("bob@example.org", "nsalice", "fixture hello", "Hello from the test.\n")
    subjects = mail.wait_for_subject("nsalice", "Alice-pw-1", "fixture hello")
    assert subjects == ["fixture hello"]
    # The mbox Postfix wrote is the scratch one, the user's own.
    box = mail.path("/var/mail/nsalice")
    assert b"Subject: fixture hello" in box.read_bytes()
    assert "status=sent (delivered to mailbox)" in mail.postfix_log()


def test_wrong_password_refused(mail):
    import imaplib
    mail.add_user("nsbob", "Bob-pw-1")
    with pytest.raises(imaplib.IMAP4.error):
        mail.imap_login("nsbob", "not-the-password")


def test_deferred_message_in_the_queue_with_its_reason(mail):
    m = mail.defer_mail("carol@example.com", subject="fixture deferred")
    assert m["queue_name"] == "deferred"
    assert m["recipients"][0]["address"] == "carol@example.com"
    assert "127.0.0.1" in m["recipients"][0]["delay_reason"]
    assert "relayhost = [127.0.0.1]:2526" in mail.postconf_n()
    ids = [x["queue_id"] for x in mail.postqueue()]
    assert m["queue_id"] in ids


def test_servers_run_in_the_daemons_namespace(mail):
    """The daemon's tools reach the servers: doveadm through /run/dovecot,
    postqueue through /var/spool/postfix (the scratch ones)."""
    assert mail.postfix_pid() and mail.dovecot_pid()
    p = mail.run_in_ns("doveadm", "-f", "json", "who", "-1")
    assert p.returncode == 0, p.stderr
    p = mail.run_in_ns("postqueue", "-p")
    assert p.returncode == 0, p.stderr
    r = mail.api("GET", "/api/v1/modules/mail", role="monitor")
    assert r.status == 200, r
    assert r.json["state"] == "running", r.json
    assert r.json["postfix"]["running"] and r.json["dovecot"]["running"], r.json
    # Nothing listens for mail on the host: the servers are in their own
    # network namespace.
    import socket
    for port in (25, 143):
        with pytest.raises(OSError):
            socket.create_connection((mail.host_ip, port), timeout=2).close()
