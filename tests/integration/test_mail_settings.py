"""The mail module's settings against a real Postfix and Dovecot (mail_ns.py):
what the API reads is what `postconf -h` and `doveconf -h` answer; a change
is what `postconf -n` shows and what the servers do (a smarthost, the size
limit, submission on 587 with STARTTLS and Dovecot SASL, Dovecot's greeting
and connection limit); a rollback puts main.cf back byte for byte; a bad
value, an unknown key, a certificate that does not fit and a configuration
Postfix's own check refuses are refused with the field named and main.cf,
master.cf and Dovecot's drop-in left exactly as they were."""
import imaplib
import secrets
import smtplib
import socket
import ssl
import subprocess
import time
from email.message import EmailMessage

import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces

MAIN_CF = "/etc/postfix/main.cf"
MASTER_CF = "/etc/postfix/master.cf"
DROPIN = "/etc/dovecot/conf.d/99-steward.conf"
OWNED = (MAIN_CF, MASTER_CF, DROPIN)

POSTFIX_LISTS = {"mydestination", "inet_interfaces", "mynetworks", "smtpd_relay_restrictions",
                 "smtpd_recipient_restrictions", "virtual_alias_domains"}


def split(v):
    return [w for w in v.replace(",", " ").split() if w]


def files(mail):
    return {p: mail.read(p) for p in OWNED}


def settings(mail):
    r = mail.api("GET", "/api/v1/modules/mail/settings")
    assert r.status == 200, r
    return r.json


def patch(mail, body, dry_run=False):
    return mail.api("PATCH", "/api/v1/modules/mail/settings" + ("?dry_run=1" if dry_run else ""),
                    body)


def rollback(mail, audit_id):
    r = mail.api("POST", f"/api/v1/audit/{audit_id}/rollback")
    assert r.status == 200, r
    return r


def postconf_h(mail, key):
    p = mail.run_in_ns("postconf", "-h", key)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def doveconf_h(mail, key):
    p = mail.run_in_ns("doveconf", "-h", key)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def wait_port(mail, port, open_=True, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((mail.ip, port), timeout=1):
                if open_:
                    return
        except OSError:
            if not open_:
                return
        time.sleep(0.1)
    raise AssertionError(f"port {port} is {'not ' if open_ else ''}open:\n{mail.postfix_log()[-3000:]}")


def until(check, timeout=30):
    """Whether check() comes true within timeout (a reload is asynchronous:
    the servers' masters act on the signal when they get to it)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def ehlo_size(mail):
    with smtplib.SMTP(mail.ip, 25, timeout=30) as s:
        s.ehlo()
        return s.esmtp_features.get("size")


def imap_welcome(mail):
    s = imaplib.IMAP4(mail.ip, 143, timeout=30)
    try:
        return s.welcome
    finally:
        s.logout()


# ---- reading -------------------------------------------------------------------


def test_read_is_what_postfix_and_dovecot_read(mail):
    """Every Postfix key (set in main.cf or left to Postfix's default) and
    every Dovecot key reads as the servers' own tools answer."""
    s = settings(mail)
    for key, value in s["postfix"].items():
        if key in ("submission", "smtps"):
            continue
        want = postconf_h(mail, key)
        if key in POSTFIX_LISTS:
            assert value == split(want), key
        elif key in ("message_size_limit", "mailbox_size_limit"):
            assert value == int(want), key
        elif key.endswith("tls_security_level"):
            assert value == (want or "none"), key
        else:
            assert value == want, key
    for key, value in s["dovecot"].items():
        want = doveconf_h(mail, key)
        if key in ("protocols", "auth_mechanisms"):
            assert value == split(want), key
        elif key == "mail_max_userip_connections":
            assert value == int(want), key
        elif key in ("ssl_cert", "ssl_key"):
            assert value == want.lstrip("<"), key
        else:
            assert value == want, key
    assert s["postfix"]["submission"] is False and s["postfix"]["smtps"] is False


def test_defaults_are_postfix_s_own(mail):
    """A main.cf that sets almost nothing (written by hand for the read, no
    reload: the running Postfix keeps its own): every key reads as
    `postconf -h` answers, so the table of Postfix 3.7's defaults cannot
    drift from the installed Postfix unseen.  mynetworks' default depends on
    the interfaces and reads as an empty list."""
    main = mail.path(MAIN_CF)
    original = main.read_bytes()
    try:
        main.write_text("compatibility_level = 3.6\n")
        s = settings(mail)["postfix"]
        for key, value in s.items():
            if key in ("submission", "smtps"):
                continue
            want = postconf_h(mail, key)
            if key == "smtpd_relay_restrictions":  # an expression of compatibility_level
                want = mail.run_in_ns("postconf", "-x", "-h", key).stdout.strip()
            if key == "mynetworks":
                assert value == [], value
            elif key in POSTFIX_LISTS:
                assert value == split(want), key
            elif key in ("message_size_limit", "mailbox_size_limit"):
                assert value == int(want), key
            elif key.endswith("tls_security_level"):
                assert value == (want or "none"), key
            else:
                assert value == want, key
    finally:
        main.write_bytes(original)


# ---- Postfix's main.cf ------------------------------------------------------------


def test_relayhost_shows_in_postconf_and_rolls_back(mail):
    before = files(mail)
    n_before = mail.postconf_n()
    r = patch(mail, {"postfix:relayhost": "[smtp.example.net]:587"})
    assert r.status == 200, r
    assert r.json["changed"] == ["postfix:relayhost"]
    assert "+relayhost = [smtp.example.net]:587" in r.json["postconf"]
    assert [f["path"] for f in r.json["files"]] == [MAIN_CF]
    assert "relayhost = [smtp.example.net]:587" in mail.postconf_n()
    assert settings(mail)["postfix"]["relayhost"] == "[smtp.example.net]:587"
    # The running Postfix has it (reloaded: postfix/master says so).
    assert mail.postfix_pid()

    rollback(mail, r.json["audit_id"])
    assert files(mail) == before
    assert mail.postconf_n() == n_before
    assert settings(mail)["postfix"]["relayhost"] == ""


def test_dry_run_changes_nothing(mail):
    before = files(mail)
    r = patch(mail, {"postfix:relayhost": "[smtp.example.net]:587"}, dry_run=True)
    assert r.status == 200, r
    assert r.json["dry_run"] is True
    assert "+relayhost = [smtp.example.net]:587" in r.json["files"][0]["diff"]
    assert r.json["commands"] == [["postconf", "-e", "--", "relayhost=[smtp.example.net]:587"]]
    assert files(mail) == before


def test_message_size_limit_raised(mail):
    r = patch(mail, {"postfix:message_size_limit": 52428800})
    assert r.status == 200, r
    assert postconf_h(mail, "message_size_limit") == "52428800"
    assert settings(mail)["postfix"]["message_size_limit"] == 52428800
    # What a client is told in EHLO is the new limit.
    assert until(lambda: ehlo_size(mail) == "52428800")
    rollback(mail, r.json["audit_id"])
    assert postconf_h(mail, "message_size_limit") == "10240000"


@pytest.mark.parametrize("body, status, code, field", [
    ({"postfix:bogus": "1"}, 422, "unknown_setting", "postfix:bogus"),
    ({"postfix:mynetworks": ["127.0.0.0/8", "10.0.0.1/8"]}, 422, "invalid_setting",
     "postfix:mynetworks"),
    ({"postfix:mynetworks": ["192.0.2.0/33"]}, 422, "invalid_setting", "postfix:mynetworks"),
    ({"postfix:message_size_limit": 0}, 422, "invalid_setting", "postfix:message_size_limit"),
    ({"postfix:mailbox_size_limit": 1000, "postfix:message_size_limit": 2000}, 422,
     "invalid_setting", "postfix:mailbox_size_limit"),
    ({"postfix:relayhost": "-oQ"}, 422, "invalid_setting", "postfix:relayhost"),
    ({"postfix:smtpd_relay_restrictions": ["permit_mynetworks", "reject_rbl_client"]}, 422,
     "invalid_setting", "postfix:smtpd_relay_restrictions"),
    ({"postfix:smtpd_recipient_restrictions": ["permit_everyone"]}, 422, "invalid_setting",
     "postfix:smtpd_recipient_restrictions"),
    ({"dovecot:login_greeting": "a\"b"}, 422, "invalid_setting", "dovecot:login_greeting"),
    ({"dovecot:mail_location": "file:/tmp"}, 422, "invalid_setting", "dovecot:mail_location"),
])
def test_bad_values_refused_files_unchanged(mail, body, status, code, field):
    before = files(mail)
    r = patch(mail, body)
    assert r.status == status, r
    assert r.json["error"]["code"] == code, r.json
    assert r.json["error"]["field"] == field, r.json
    assert files(mail) == before


def test_mailbox_size_limit_below_message_size_limit(mail):
    """The combination with the current value: 0 (no limit) is fine, a
    limit below message_size_limit is not."""
    before = files(mail)
    r = patch(mail, {"postfix:mailbox_size_limit": 5000000})
    assert r.status == 422, r
    assert r.json["error"]["field"] == "postfix:mailbox_size_limit"
    assert "message_size_limit" in r.json["error"]["message"]
    assert files(mail) == before


def test_postfix_check_reason_reaches_the_error(mail):
    """A value Postfix itself refuses (written by hand, outside Steward):
    postfix check's reason, which it writes only to a terminal or the log,
    is the error's message, with the field it names; nothing is written."""
    main = mail.path(MAIN_CF)
    original = main.read_bytes()
    try:
        p = mail.run_in_ns("postconf", "-e", "message_size_limit=12abc")
        assert p.returncode == 0, p.stderr
        before = files(mail)
        r = patch(mail, {"postfix:relayhost": "[smtp.example.net]:587"})
        assert r.status == 422, r
        assert "bad numerical configuration" in r.json["error"]["message"], r.json
        assert r.json["error"]["field"] == "postfix:message_size_limit", r.json
        assert files(mail) == before
    finally:
        main.write_bytes(original)


# ---- TLS, submission ----------------------------------------------------------------


def make_pair(mail, name, *extra):
    """A self-signed certificate and key under the namespace's /etc."""
    d = mail.path("/etc/postfix/test-tls")
    d.mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "365",
                    "-subj", f"/CN={mail.hostname}", "-keyout", str(d / f"{name}.key"),
                    "-out", str(d / f"{name}.pem"), *extra], check=True, capture_output=True)
    return f"/etc/postfix/test-tls/{name}.pem", f"/etc/postfix/test-tls/{name}.key"


def make_expired(mail):
    """A certificate valid in January 2020 only (openssl ca -startdate/-enddate)."""
    d = mail.path("/etc/postfix/test-tls")
    d.mkdir(exist_ok=True)
    ca = d / "ca"
    ca.mkdir(exist_ok=True)
    (ca / "index.txt").write_text("")
    (ca / "ca.cnf").write_text("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
                               "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                               "policy = p\n[p]\ncommonName = supplied\n")
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=old.test",
                    "-keyout", str(d / "old.key"), "-out", str(ca / "old.csr")],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile",
                    str(d / "old.key"), "-in", "old.csr", "-out", str(d / "old.pem"),
                    "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                    "-create_serial"], cwd=ca, check=True, capture_output=True)
    return "/etc/postfix/test-tls/old.pem", "/etc/postfix/test-tls/old.key"


def test_submission_needs_a_certificate(mail):
    cleared = None
    if settings(mail)["postfix"]["smtpd_tls_cert_file"]:  # Debian's snakeoil, where ssl-cert is
        cleared = patch(mail, {"postfix:smtpd_tls_cert_file": "", "postfix:smtpd_tls_key_file": ""})
        assert cleared.status == 200, cleared
    before = files(mail)
    r = patch(mail, {"postfix:submission": True})
    assert r.status == 422, r
    assert r.json["error"]["field"] == "postfix:submission"
    assert "certificate" in r.json["error"]["message"]
    r = patch(mail, {"postfix:smtpd_tls_security_level": "encrypt"})
    assert r.status == 422, r
    assert r.json["error"]["field"] == "postfix:smtpd_tls_security_level"
    assert files(mail) == before
    if cleared:
        rollback(mail, cleared.json["audit_id"])


def test_certificates_that_do_not_fit_are_refused(mail):
    before = files(mail)
    cert, key = make_pair(mail, "good", "-nodes")
    _, other_key = make_pair(mail, "other", "-nodes")
    _, locked_key = make_pair(mail, "locked", "-passout", "pass:secret-pass")
    old_cert, old_key = make_expired(mail)
    cases = [
        ({"tls:cert_file": cert, "tls:key_file": other_key}, "tls:key_file", "not the key"),
        ({"tls:cert_file": old_cert, "tls:key_file": old_key}, "tls:cert_file", "expired"),
        ({"tls:cert_file": cert, "tls:key_file": locked_key}, "tls:key_file", "encrypted"),
        ({"tls:cert_file": "/etc/postfix/test-tls/none.pem", "tls:key_file": key},
         "tls:cert_file", "no such file"),
        ({"postfix:smtpd_tls_cert_file": cert, "postfix:smtpd_tls_key_file": other_key},
         "postfix:smtpd_tls_key_file", "not the key"),
        ({"dovecot:ssl_cert": old_cert, "dovecot:ssl_key": old_key}, "dovecot:ssl_cert",
         "expired"),
        ({"tls:cert_file": "/etc/postfix/main.cf", "tls:key_file": key}, "tls:cert_file", "PEM"),
    ]
    for body, field, words in cases:
        r = patch(mail, body)
        assert r.status == 422, (body, r)
        assert r.json["error"]["field"] == field, (body, r.json)
        assert words in r.json["error"]["message"], (body, r.json)
        assert files(mail) == before


def login_submission(mail, user, password, subject):
    msg = EmailMessage()
    msg["From"] = mail.address(user)
    msg["To"] = mail.address(user)
    msg["Subject"] = subject
    msg.set_content("sent through submission\n")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(mail.ip, 587, timeout=30) as s:
        s.ehlo()
        assert "auth" not in s.esmtp_features  # AUTH only once TLS is on
        s.starttls(context=ctx)
        s.ehlo()
        assert "PLAIN" in s.esmtp_features.get("auth", ""), s.esmtp_features
        s.login(user, password)
        s.send_message(msg)


def test_submission_with_starttls_and_dovecot_sasl(mail):
    user, password = mail.add_user("subuser", "Sub-pw-1")
    before = files(mail)
    r = patch(mail, {"tls:cert_file": mail.cert, "tls:key_file": mail.key,
                     "postfix:submission": True})
    assert r.status == 200, r
    assert sorted(f["path"] for f in r.json["files"]) == sorted(OWNED)
    s = settings(mail)
    assert s["postfix"]["submission"] is True and s["postfix"]["smtps"] is False
    assert s["tls"] == {"cert_file": mail.cert, "key_file": mail.key}
    assert postconf_h(mail, "smtpd_tls_cert_file") == mail.cert
    assert doveconf_h(mail, "ssl_cert") == "<" + mail.cert
    # The fixture's certificate lives 30 days: the plan says so.
    assert any("expires in" in w for w in r.json["warnings"]), r.json
    wait_port(mail, 587)

    # A wrong password is refused; the right one submits, and it is delivered.
    with pytest.raises(smtplib.SMTPAuthenticationError):
        login_submission(mail, user, "wrong-password", "never")
    subject = f"submitted {secrets.token_hex(4)}"
    login_submission(mail, user, password, subject)
    mail.wait_for_subject(user, password, subject)

    rollback(mail, r.json["audit_id"])
    assert files(mail) == before
    wait_port(mail, 587, open_=False)
    assert settings(mail)["postfix"]["submission"] is False


# ---- Dovecot --------------------------------------------------------------------------


def test_dovecot_greeting_and_connection_limit(mail):
    user, password = mail.add_user("dovuser", "Dov-pw-1")
    before = files(mail)
    r = patch(mail, {"dovecot:login_greeting": "Steward test mail ready",
                     "dovecot:mail_max_userip_connections": 1})
    assert r.status == 200, r
    assert [f["path"] for f in r.json["files"]] == [DROPIN]
    assert doveconf_h(mail, "login_greeting") == "Steward test mail ready"
    assert until(lambda: b"Steward test mail ready" in imap_welcome(mail))
    s = imaplib.IMAP4(mail.ip, 143, timeout=30)
    try:
        s.login(user, password)
        s.select("INBOX")
        with pytest.raises(imaplib.IMAP4.error):
            mail.imap_login(user, password)  # a second one from the same address
    finally:
        s.logout()
    mail.close_sessions()

    rollback(mail, r.json["audit_id"])
    assert files(mail) == before
    assert until(lambda: b"Steward test mail ready" not in imap_welcome(mail))


def test_dovecot_certificate_it_cannot_open(mail):
    before = files(mail)
    r = patch(mail, {"dovecot:ssl": "required", "dovecot:ssl_cert": "/etc/dovecot/none.pem"})
    assert r.status == 422, r
    assert r.json["error"]["field"] == "dovecot:ssl_cert", r.json
    assert files(mail) == before


def test_doveconf_refusal_leaves_the_dropin(mail):
    """doveconf -n is the judge of the whole configuration: a setting
    Dovecot does not know, written by hand beside the drop-in, refuses a
    change of the drop-in with doveconf's reason."""
    broken = mail.path("/etc/dovecot/conf.d/98-broken.conf")
    broken.write_text("steward_no_such_setting = 1\n")
    try:
        before = files(mail)
        r = patch(mail, {"dovecot:login_greeting": "Never served"})
        assert r.status == 422, r
        assert "steward_no_such_setting" in r.json["error"]["message"], r.json
        assert files(mail) == before
    finally:
        broken.unlink()


# ---- the command line ------------------------------------------------------------------


def test_cli_sets_and_dry_runs(mail):
    before = files(mail)
    p = mail.cli("settings", "--dry-run", "mail:postfix:relayhost", "=",
                 '"[smtp.example.net]:587"', check=0)
    assert "+relayhost = [smtp.example.net]:587" in p.stdout, p.stdout
    assert files(mail) == before
    p = mail.cli("settings", "mail:postfix:relayhost", "=", '"[smtp.example.net]:587"', check=0)
    assert 'mail:postfix:relayhost = "[smtp.example.net]:587"' in p.stdout, p.stdout
    assert "relayhost = [smtp.example.net]:587" in mail.postconf_n()
    p = mail.cli("settings", "mail:postfix:relayhost", check=0)
    assert p.stdout.strip() == 'mail:postfix:relayhost = "[smtp.example.net]:587"'
    # Back through the CLI too.
    mail.cli("settings", "mail:postfix:relayhost", "=", '""', check=0)
    assert "relayhost = [smtp.example.net]" not in mail.postconf_n()
