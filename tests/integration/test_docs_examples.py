"""Every `steward …` example of README.md, steward(1) and stewardd(8) runs,
so the documentation cannot drift from the program.

The examples are the command lines in the README's ```sh blocks and in the
man pages' .EX blocks (a line starting with `# ` or `$ `, the prompt; a
line ending in a backslash goes on). Each runs with bash, in document order,
against one daemon in private mount and UTS namespaces over a scratch /etc
(so `users add` and the time zone change nothing on the host), with the
account alice (admin, password known) made beforehand: the README's first
block and the man page's `#` lines as root on the local socket, the others
over TLS with the session `steward login` stores in a scratch HOME. The
placeholders are replaced: the host names of the examples by the daemon's
address, a fingerprint by the daemon's, a token by a real one, the audit id
42 by the newest change.

An example passes when it exits 0, or with the status its mark names. A mark
is a comment in the document's source, on its own line before the example:

    <!-- example: exit 1 "steward …" why -->         (README)
    .\" example: skip "steward …" why                (man pages)

`skip` is for an example that cannot run here; the number of skips is
capped (MAX_SKIPS), so they cannot grow silently, and a mark that matches
no example fails.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, SANITIZER_MARKS, STEWARD, make_user

DOCS = [ROOT / "README.md", ROOT / "docs" / "steward.1.in", ROOT / "docs" / "stewardd.8"]
MAX_SKIPS = 3
MARK = re.compile(r'example: (skip|exit (\d+)) "([^"]+)"\s*(.*?)\s*(-->)?$')
PASSWORD = "alice-Secret-1"


def extract(path):
    """[(doc, line number, command, local, mark)] of one document."""
    text = path.read_text()
    examples, marks = [], []
    if path.suffix == ".md":
        lang, block, local_block = None, 0, None
        for n, line in enumerate(text.splitlines(), 1):
            m = MARK.search(line) if line.startswith("<!--") else None
            if m:
                marks.append((n, m))
            elif line.startswith("```"):
                if lang is None:
                    lang, block = line[3:].strip(), block + 1
                else:
                    lang = None
            elif lang == "sh":
                cmd = line.split("  #", 1)[0].rstrip()
                if re.match(r"^(\S+=\S+ )*steward ", cmd):
                    # The first block with steward lines runs on the server
                    # itself, as root on the local socket.
                    local_block = local_block or block
                    examples.append((path.name, n, cmd, block == local_block, None))
    else:
        in_ex, pending = False, None
        for n, raw in enumerate(text.splitlines(), 1):
            m = MARK.search(raw) if raw.startswith('.\\"') else None
            if m:
                marks.append((n, m))
                continue
            if raw == ".EX":
                in_ex = True
                continue
            if raw == ".EE":
                in_ex = False
                continue
            if not in_ex:
                continue
            line = raw.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
            if pending:
                pending = (pending[0], pending[1] + " " + line.strip(), pending[2])
            elif re.match(r"^[#$] steward ", line):
                pending = (n, line[2:], line[0] == "#")
            else:
                continue
            if pending[1].endswith("\\"):
                pending = (pending[0], pending[1][:-1].rstrip(), pending[2])
                continue
            examples.append((path.name, pending[0], pending[1], pending[2], None))
            pending = None
    # Attach each mark to the first example at or after it that it names.
    used = set()
    for n, m in marks:
        for i, e in enumerate(examples):
            if e[1] > n and e[2].startswith(m.group(3)) and i not in used:
                kind = "skip" if m.group(1) == "skip" else int(m.group(2))
                examples[i] = e[:4] + ((kind, m.group(4)),)
                used.add(i)
                break
        else:
            raise AssertionError(f"{path.name}:{n}: the mark names no example after it: {m.group(0)}")
    return examples


def all_examples():
    out = []
    for doc in DOCS:
        out += extract(doc)
    return out


def test_the_examples_are_found_and_the_skips_are_few():
    examples = all_examples()
    by_doc = {}
    for e in examples:
        by_doc.setdefault(e[0], []).append(e)
    assert len(by_doc.get("README.md", [])) >= 30, by_doc.get("README.md")
    assert len(by_doc.get("steward.1.in", [])) >= 15, by_doc.get("steward.1.in")
    skips = [e for e in examples if e[4] and e[4][0] == "skip"]
    assert len(skips) <= MAX_SKIPS, skips
    for e in skips:
        assert e[4][1], f"{e[0]}:{e[1]}: a skip needs a reason"


@pytest.fixture
def docs_daemon(daemon_base, make_daemon):
    from nsroot import ns_argv, scratch_etc
    (daemon_base / "ns").mkdir()
    etc = scratch_etc(daemon_base / "ns")
    binds = ()
    if Path("/run/systemd").is_dir():  # never reload the host's own services
        (daemon_base / "run-systemd").mkdir()
        binds = ((daemon_base / "run-systemd", "/run/systemd"),)
    d = make_daemon(wrap=lambda argv: ns_argv(etc, argv, extra_binds=binds))
    d.etc = etc
    make_user(d, "alice", PASSWORD, ["sudo"])
    return d


def substitute(cmd, d, audit_id):
    addr = f"127.0.0.1:{d.port}"
    cmd = re.sub(r"\[2001:db8::5\]:660|\bsrv1\.example\.org\b|\b192\.0\.2\.10\b|\bweb1\b", addr, cmd)
    cmd = re.sub(r"SHA256:[0-9a-f]+(\.\.\.|…)[0-9a-f]*", d.fingerprint, cmd)
    cmd = re.sub(r"stw_…", d.token, cmd)
    if audit_id is not None:
        cmd = re.sub(r"\b(audit (show|rollback)( --dry-run)?) 42\b", rf"\1 {audit_id}", cmd)
    return cmd


def newest_change(d):
    """The newest audit record of a change that can be rolled back."""
    records = d.https("GET", "/api/v1/audit?limit=100").json["records"]
    for r in records:
        if r["result"] == "ok" and r.get("files") and r["operation"] != "rollback":
            return r["id"]
    return None


def test_every_example_runs(docs_daemon, tmp_path):
    d = docs_daemon
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "steward").symlink_to(STEWARD)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    # The man page's token example reads the secret from this file.
    (home / "grafana.token").write_text(d.token + "\n")
    env = dict(os.environ)
    env.update({
        "PATH": f"{bindir}:{env.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home), "USER": "alice", "XDG_CONFIG_HOME": "",
        "STEWARD_ACCEPT_NEW": "1", "STEWARD_FINGERPRINT": "",
        "ASAN_OPTIONS": "detect_leaks=1",
    })
    env.pop("STEWARD_TOKEN", None)
    ran, failures = 0, []
    for doc, line, cmd, local, mark in all_examples():
        if mark and mark[0] == "skip":
            continue
        full = substitute(cmd, d, newest_change(d) if " 42" in cmd else None)
        e = dict(env)
        e["STEWARD_SOCKET"] = d.sock if local else "/nonexistent/stewardd.sock"
        p = subprocess.run(["bash", "-c", full], input=PASSWORD + "\n", capture_output=True,
                           text=True, env=e, cwd=work, timeout=120, start_new_session=True)
        ran += 1
        for m in SANITIZER_MARKS:
            assert m not in p.stderr, p.stderr
        want = mark[0] if mark else 0
        if p.returncode != want:
            failures.append(f"{doc}:{line}: {full!r} exited {p.returncode}, not {want}:\n"
                            f"{p.stdout[-800:]}{p.stderr[-800:]}")
    assert not failures, "\n\n".join(failures)
    assert ran >= 40


def test_the_config_example_of_stewardd8_is_the_defaults(daemon):
    """stewardd(8)'s stewardd.conf is every setting at its default, as
    `steward settings stewardd` prints them (without the module name)."""
    page = (ROOT / "docs" / "stewardd.8").read_text()
    block = page.split("# stewardd.conf\n", 1)[1].split(".RE", 1)[0]
    documented = block.replace("\\-", "-").splitlines()
    printed = [l.split(":", 1)[1] for l in daemon.cli("settings", "stewardd", check=0).stdout.splitlines()]
    assert documented == printed


def test_the_settings_lines_shown_in_steward1_are_the_defaults(daemon):
    """The `stewardd:KEY = VALUE` lines that steward(1) shows as output are
    what `steward settings stewardd` prints on a fresh daemon."""
    page = (ROOT / "docs" / "steward.1.in").read_text()
    shown, in_ex = [], False
    for raw in page.splitlines():
        if raw in (".EX", ".EE"):
            in_ex = raw == ".EX"
        elif in_ex and re.match(r"^stewardd:[\w:.\\-]+ = ", raw):
            shown.append(raw.replace("\\-", "-"))
    assert len(shown) >= 4, shown
    printed = daemon.cli("settings", "stewardd", check=0).stdout.splitlines()
    for line in shown:
        assert line in printed, line
