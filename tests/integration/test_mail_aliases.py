"""Mail aliases (/etc/aliases) as the collection mail_aliases
(src/modules/mail/aliases.c), against the real Postfix and Dovecot of
mail_ns.py: a new alias receives mail (sent over SMTP, read over IMAP as the
target user); modify, delete, dry run and rollback through the audit; the
rest of the file kept byte for byte; what the API refuses (pipes, files,
includes, bad names) with the field named and /etc/aliases unchanged."""
import pytest

from mail_ns import mail_ns, mail  # noqa: F401 (the fixtures)

pytestmark = pytest.mark.namespaces

ALIASES = "/api/v1/mail_aliases"

# Written by hand into the scratch /etc/aliases by test_hand_written_file:
# comments, a continuation line, a quoted name, and entries the API must
# not change.
HAND = (b"# See man 5 aliases for format\n"
        b"postmaster:    root\n"
        b"\n"
        b"# the team\n"
        b"team: aliceal,\n"
        b"\tbobal\n"
        b"\"quoted name\": aliceal\n"
        b"pipe: \"|/usr/bin/logger -t mail\"\n"
        b"tofile: /var/tmp/mail.out\n"
        b"incl: :include:/etc/mail/list\n"
        b"twice: aliceal\n"
        b"Twice: bobal\n"
        b"# trailing comment\n")


@pytest.fixture(scope="module")
def users(mail_ns):
    return {name: mail_ns.add_user(name, pw)[1]
            for name, pw in (("aliceal", "Alice-pw-1"), ("bobal", "Bob-pw-1"))}


def aliases_file(mail):
    return mail.read("/etc/aliases")


def postalias_q(mail, name):
    """What Postfix's alias database says of name (None: not in it)."""
    p = mail.run_in_ns("postalias", "-q", name, "hash:/etc/aliases")
    return p.stdout.strip() if p.returncode == 0 else None


def listed(mail, role="admin"):
    r = mail.api("GET", ALIASES, role=role)
    assert r.status == 200, r
    return {a["name"]: a for a in r.json["mail_aliases"]}


def test_list_shows_debians_file(mail):
    got = listed(mail, role="monitor")
    assert got["postmaster"] == {"name": "postmaster", "targets": ["root"], "editable": True}
    r = mail.api("GET", f"{ALIASES}/postmaster", role="monitor")
    assert r.status == 200, r
    assert r.json["alias"]["targets"] == ["root"]
    assert mail.api("GET", f"{ALIASES}/nosuch").status == 404


def test_new_alias_receives_mail_and_rolls_back(mail, users):
    before = aliases_file(mail)
    r = mail.api("POST", ALIASES, {"name": "sales", "targets": ["aliceal"]})
    assert r.status == 201, r
    assert r.json["alias"] == {"name": "sales", "targets": ["aliceal"], "editable": True}
    assert aliases_file(mail) == before + b"sales: aliceal\n"
    assert postalias_q(mail, "sales") == "aliceal"  # newaliases ran
    mail.send_mail("someone@example.org", "sales", "alias hello")
    mail.wait_for_subject("aliceal", users["aliceal"], "alias hello")
    r = mail.api("POST", f"/api/v1/audit/{r.json['audit_id']}/rollback")
    assert r.status == 200, r
    assert aliases_file(mail) == before
    assert postalias_q(mail, "sales") is None  # the database was rebuilt
    assert "sales" not in listed(mail)


def test_modify_and_delete(mail, users):
    before = aliases_file(mail)
    assert mail.api("POST", ALIASES, {"name": "support", "targets": ["aliceal"]}).status == 201
    r = mail.api("PATCH", f"{ALIASES}/support", {"targets": ["aliceal", "bobal"]})
    assert r.status == 200, r
    assert r.json["alias"]["targets"] == ["aliceal", "bobal"]
    assert aliases_file(mail) == before + b"support: aliceal, bobal\n"
    assert postalias_q(mail, "support") == "aliceal, bobal"
    mail.send_mail("someone@example.org", "support", "to both")
    mail.wait_for_subject("aliceal", users["aliceal"], "to both")
    mail.wait_for_subject("bobal", users["bobal"], "to both")
    # A name is matched as Postfix matches it: case does not matter.
    r = mail.api("DELETE", f"{ALIASES}/SUPPORT")
    assert r.status == 200, r
    assert aliases_file(mail) == before
    assert postalias_q(mail, "support") is None
    assert mail.api("DELETE", f"{ALIASES}/support").status == 404
    assert mail.api("PATCH", f"{ALIASES}/support", {"targets": ["aliceal"]}).status == 404


def test_dry_run_changes_nothing(mail):
    before = aliases_file(mail)
    r = mail.api("POST", ALIASES + "?dry_run=1", {"name": "dry", "targets": ["aliceal"]})
    assert r.status == 200, r
    diff = r.json["plan"]["files"][0]["diff"]
    assert "+dry: aliceal" in diff
    assert ["newaliases"] in r.json["plan"]["commands"]
    assert aliases_file(mail) == before
    assert postalias_q(mail, "dry") is None


def test_name_taken_is_409(mail):
    before = aliases_file(mail)
    for name in ("postmaster", "PostMaster"):
        r = mail.api("POST", ALIASES, {"name": name, "targets": ["aliceal"]})
        assert r.status == 409, r
        assert r.json["error"]["field"] == "name"
    assert aliases_file(mail) == before


BAD = [
    ({"name": "x1", "targets": ["|/bin/sh -c id"]}, "targets", "pipes to a command"),
    ({"name": "x2", "targets": ["\"|/bin/sh\""]}, "targets", "pipes to a command"),
    ({"name": "x3", "targets": ["/tmp/mail.out"]}, "targets", "writes to a file"),
    ({"name": "x4", "targets": [":include:/etc/passwd"]}, "targets", "includes a list"),
    ({"name": "x5", "targets": [":INCLUDE:/etc/passwd"]}, "targets", "includes a list"),
    ({"name": "x6", "targets": ["aliceal", "-bobal"]}, "targets", "targets[1]"),
    ({"name": "x7", "targets": ["a b"]}, "targets", None),
    ({"name": "x8", "targets": ["a,b\nroot: evil"]}, "targets", None),
    ({"name": "x9", "targets": ["bob@"]}, "targets", None),
    ({"name": "x10", "targets": ["bob@nodot"]}, "targets", None),
    ({"name": "x11", "targets": []}, "targets", None),
    ({"name": "x12", "targets": ["aliceal"] * 65}, "targets", "at most 64"),
    ({"name": "x13", "targets": [5]}, "targets", None),
    ({"name": "x14"}, "targets", None),
    ({"name": "-x", "targets": ["aliceal"]}, "name", None),
    ({"name": "a:b", "targets": ["aliceal"]}, "name", None),
    ({"name": "a\nroot", "targets": ["aliceal"]}, "name", None),
    ({"name": "", "targets": ["aliceal"]}, "name", None),
    ({"name": "n" * 65, "targets": ["aliceal"]}, "name", None),
    ({"name": "x15", "targets": ["aliceal"], "editable": False}, "editable", None),
    ({"name": "x16", "targets": ["aliceal"], "shell": "/bin/sh"}, "shell", None),
]


@pytest.mark.parametrize("body,field,words", BAD)
def test_bad_input_refused_file_unchanged(mail, body, field, words):
    before = aliases_file(mail)
    r = mail.api("POST", ALIASES, body)
    assert r.status in (400, 422), r
    assert r.json["error"].get("field") == field, r
    if words:
        assert words in r.json["error"]["message"], r
    assert aliases_file(mail) == before


def test_modify_refuses_a_pipe_file_unchanged(mail):
    before = aliases_file(mail)
    r = mail.api("PATCH", f"{ALIASES}/postmaster", {"targets": ["|/bin/sh"]})
    assert r.status == 422, r
    assert r.json["error"]["field"] == "targets"
    r = mail.api("PATCH", f"{ALIASES}/postmaster", {"name": "other", "targets": ["root"]})
    assert r.status == 422, r
    assert aliases_file(mail) == before


def test_roles(mail):
    before = aliases_file(mail)
    assert mail.api("GET", ALIASES, role="monitor").status == 200
    for role in ("monitor", "operator"):
        r = mail.api("POST", ALIASES, {"name": "r1", "targets": ["aliceal"]}, role=role)
        assert r.status == 403, r
        assert mail.api("DELETE", f"{ALIASES}/postmaster", role=role).status == 403
    assert aliases_file(mail) == before


def test_hand_written_file(mail, users):
    """Entries the API cannot edit are listed, not editable; editing one
    entry keeps every other byte."""
    path = mail.path("/etc/aliases")
    saved = path.read_bytes()
    path.write_bytes(HAND)
    try:
        assert mail.run_in_ns("newaliases").returncode == 0
        got = listed(mail)
        assert got["team"] == {"name": "team", "targets": ["aliceal", "bobal"], "editable": True}
        assert got["quoted name"]["targets"] == ["aliceal"]
        assert got["pipe"]["editable"] is False
        assert got["pipe"]["targets"] == ['"|/usr/bin/logger -t mail"']
        assert got["tofile"]["editable"] is False
        assert got["incl"]["editable"] is False
        assert got["twice"]["editable"] is False  # written twice (Twice)
        for name in ("pipe", "tofile", "incl"):
            r = mail.api("PATCH", f"{ALIASES}/{name}", {"targets": ["aliceal"]})
            assert r.status == 422, r
            assert "editing /etc/aliases" in r.json["error"]["message"]
            assert mail.api("DELETE", f"{ALIASES}/{name}").status == 422
        r = mail.api("DELETE", f"{ALIASES}/twice")
        assert r.status == 409, r
        assert path.read_bytes() == HAND
        # The continuation line goes with its entry; the rest stays.
        r = mail.api("PATCH", f"{ALIASES}/team", {"targets": ["bobal"]})
        assert r.status == 200, r
        assert path.read_bytes() == HAND.replace(b"team: aliceal,\n\tbobal\n", b"team: bobal\n")
        assert postalias_q(mail, "team") == "bobal"
        r = mail.api("DELETE", f"{ALIASES}/quoted%20name")
        assert r.status == 200, r
        assert path.read_bytes() == HAND.replace(b"team: aliceal,\n\tbobal\n", b"team: bobal\n") \
            .replace(b"\"quoted name\": aliceal\n", b"")
    finally:
        path.write_bytes(saved)
        mail.run_in_ns("newaliases")


def test_cli(mail, users):
    before = aliases_file(mail)
    p = mail.cli("mail", "aliases", "list", check=0)
    assert "postmaster" in p.stdout and "root" in p.stdout
    mail.cli("mail", "aliases", "add", "clialias", "--to", "aliceal,bobal", check=0)
    assert aliases_file(mail) == before + b"clialias: aliceal, bobal\n"
    mail.cli("mail", "aliases", "modify", "clialias", "--to", "bobal", check=0)
    assert postalias_q(mail, "clialias") == "bobal"
    p = mail.cli("mail", "aliases", "add", "bad", "--to", "|/bin/sh")
    assert p.returncode != 0 and "pipes to a command" in p.stderr, p
    mail.cli("mail", "aliases", "delete", "clialias", check=0)
    assert aliases_file(mail) == before
