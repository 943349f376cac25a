"""The fan-out CLI: one command on several servers (`steward -H a,b,@group`).

Three loopback daemons shared by the module (each with a stored admin
session and a pinned certificate, as `steward login` leaves them), a host
that accepts TCP and never answers, and a closed port.  Output is checked by
order and content, never by time.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import STEWARD, SANITIZER_MARKS, Daemon, free_port


@pytest.fixture(scope="module")
def fleet():
    base = Path(tempfile.mkdtemp(prefix="steward-fanout-"))
    os.chmod(base, 0o755)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp_port = udp.getsockname()[1]
    udp.close()
    # The third answers discovery requests (steward discover --port).
    daemons = [Daemon(base / f"d{i}", extra_args=("--udp", f"127.0.0.1:{udp_port}") if i == 2 else ())
               .start() for i in range(3)]
    home = base / "home"
    conf = home / ".config" / "steward"
    conf.mkdir(parents=True)
    os.chmod(conf, 0o700)
    known = "".join(f"127.0.0.1:{d.port} {d.fingerprint}\n" for d in daemons)
    sessions = "".join(f"127.0.0.1:{d.port} {d.token} 0\n" for d in daemons)
    (conf / "known_hosts").write_text(known)
    (conf / "sessions").write_text(sessions)
    os.chmod(conf / "known_hosts", 0o600)
    os.chmod(conf / "sessions", 0o600)

    # A host that accepts connections and never says a word.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        hang.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(hang.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()

    closed = free_port()
    a, b, c = (f"127.0.0.1:{d.port}" for d in daemons)
    (conf / "hosts").write_text(
        "# test groups\n"
        f"web: {a} {b}\n"
        f"db:\t{c}\n"
        "both: @web @db\n")
    os.chmod(conf / "hosts", 0o600)
    yield {"daemons": daemons, "home": home, "conf": conf, "a": a, "b": b, "c": c,
           "hang": f"127.0.0.1:{hang.getsockname()[1]}", "udp": udp_port, "closed": f"127.0.0.1:{closed}"}
    stop.set()
    t.join()
    for s in held:
        s.close()
    hang.close()
    for d in daemons:
        d.check_clean_exit()
    shutil.rmtree(base, ignore_errors=True)


def cli(fleet, *args, stdin=None, check=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    e["HOME"] = str(fleet["home"])
    e["ASAN_OPTIONS"] = "detect_leaks=1"
    p = subprocess.run([str(STEWARD), *args], input=stdin, capture_output=True, text=True,
                       env=e, timeout=60)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def summary(p):
    return [l for l in p.stderr.splitlines() if " hosts: " in l][-1]


def test_status_on_two_hosts_prefixes_each_line(fleet):
    a, b = fleet["a"], fleet["b"]
    p = cli(fleet, "-H", f"{a},{b},{a}", "status", "system", check=0)
    lines = p.stdout.splitlines()
    assert any(l.startswith(f"{a}: system:") for l in lines), p.stdout
    assert any(l.startswith(f"{b}: system:") for l in lines), p.stdout
    assert all(l.startswith((f"{a}: ", f"{b}: ")) for l in lines), p.stdout
    # Whole hosts, never interleaved: all of one host's lines, then the other's.
    owners = [l.split(": ", 1)[0] for l in lines]
    assert owners == sorted(owners, key=owners.index) and len(set(owners)) == 2
    assert owners.count(owners[0]) == owners.index(owners[-1])
    assert summary(p).startswith("2 hosts: 2 ok"), p.stderr


def test_unreachable_hosts_and_the_worst_exit(fleet):
    a, hang, closed = fleet["a"], fleet["hang"], fleet["closed"]
    p = cli(fleet, "--timeout", "2", "-H", f"{hang},{a},{closed}", "status", "system", check=3)
    # The answering host is printed, though the hanging one was first.
    assert f"{a}: system:" in p.stdout
    s = summary(p)
    assert s.startswith("3 hosts: 1 ok, 2 unreachable"), s
    assert f"{hang}: timed out after 2 s" in s, s
    assert closed in s
    # A hanging host's result comes after the ones that answered.
    err = p.stderr
    assert err.index(f"{closed}: steward: cannot connect") < err.index(f"{hang}: steward:")
    p = cli(fleet, "--jsonl", "--timeout", "2", "-H", f"{hang},{a},{closed}", "status", "system",
            check=3)
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [o["host"] for o in objs][-1] == hang and len(objs) == 3, objs
    assert objs[-1]["error"]["message"] == "timed out after 2 s (--timeout)", objs


def test_json_and_jsonl_shapes(fleet):
    a, b, closed = fleet["a"], fleet["b"], fleet["closed"]
    one = json.loads(cli(fleet, "-H", a, "--json", "status", "system", check=0).stdout)
    p = cli(fleet, "--json", "-H", f"{a},{b},{closed}", "status", "system", check=3)
    doc = json.loads(p.stdout)
    assert [h["host"] for h in doc["hosts"]] == [a, b, closed]
    assert doc["hosts"][0]["exit"] == 0
    assert doc["hosts"][0]["result"].keys() == one.keys()
    assert doc["hosts"][2]["exit"] == 3 and doc["hosts"][2]["error"]["message"]
    assert "result" not in doc["hosts"][2]

    p = cli(fleet, "--jsonl", "-H", f"{closed},{a}", "status", "system", check=3)
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert sorted(o["host"] for o in objs) == sorted([a, closed])
    assert {o["host"]: o["exit"] for o in objs} == {a: 0, closed: 3}


def test_groups_all_and_errors(fleet):
    a, b, c = fleet["a"], fleet["b"], fleet["c"]
    p = cli(fleet, "--jsonl", "-H", "@web", "status", "system", check=0)
    assert sorted(json.loads(l)["host"] for l in p.stdout.splitlines()) == sorted([a, b])
    p = cli(fleet, "--jsonl", "-H", "@all", "list", check=0)
    assert sorted(json.loads(l)["host"] for l in p.stdout.splitlines()) == sorted([a, b, c])
    p = cli(fleet, "--jsonl", "-H", "@both,@web", "list", check=0)
    assert len(p.stdout.splitlines()) == 3
    p = cli(fleet, "-H", "@nope", "list", check=2)
    assert 'no group "nope"' in p.stderr

    hosts = fleet["conf"] / "hosts"
    good = hosts.read_text()
    try:
        hosts.write_text(good + "loop: @loop2\nloop2: @loop\n")
        p = cli(fleet, "-H", "@web", "list", check=2)
        assert "hosts:5:" in p.stderr and "includes itself" in p.stderr
        hosts.write_text(good + "web2 = 1.2.3.4\n")
        p = cli(fleet, "-H", "@web", "list", check=2)
        assert "hosts:5:" in p.stderr
    finally:
        hosts.write_text(good)


def test_discover_saves_the_list(fleet):
    a, c = fleet["a"], fleet["c"]
    disc = fleet["conf"] / "discovered"
    try:
        cli(fleet, "discover", "--port", str(fleet["udp"]), "--timeout", "1", check=0)
        text = disc.read_text()
        assert f"\n{c} {fleet['daemons'][2].fingerprint} " in text, text
        assert disc.stat().st_mode & 0o077 == 0
        p = cli(fleet, "--jsonl", "-H", f"@discovered,{a}", "list", check=0)
        assert sorted(json.loads(l)["host"] for l in p.stdout.splitlines()) == sorted([a, c])
    finally:
        disc.unlink(missing_ok=True)


def test_discovered(fleet):
    a, c = fleet["a"], fleet["c"]
    disc = fleet["conf"] / "discovered"
    disc.write_text(f"# written by steward discover\n{a} SHA256:{'0' * 64}\n{c}\n")
    os.chmod(disc, 0o600)
    try:
        p = cli(fleet, "--jsonl", "-H", "@discovered", "list", check=0)
        assert sorted(json.loads(l)["host"] for l in p.stdout.splitlines()) == sorted([a, c])
    finally:
        disc.unlink()
    p = cli(fleet, "-H", "@discovered", "list", check=2)
    assert "steward discover" in p.stderr


def log_levels(fleet):
    return [d.https("GET", "/api/v1/modules/stewardd/settings").json for d in fleet["daemons"][:2]]


def test_a_change_needs_yes_and_shows_plans(fleet):
    before = log_levels(fleet)
    level = "debug" if "debug" not in json.dumps(before) else "info"
    args = ["-H", "@web", "settings", f'stewardd:log_level = "{level}"']

    p = cli(fleet, *args, check=2)
    assert "2 hosts would change; nothing was changed: run again with --yes" in p.stderr
    # Each host's plan is its diff.
    for h in (fleet["a"], fleet["b"]):
        assert f'{h}: +log_level = "{level}"' in p.stdout, p.stdout
    assert all(l.startswith((fleet["a"] + ": ", fleet["b"] + ": ")) for l in p.stdout.splitlines())
    assert log_levels(fleet) == before

    p = cli(fleet, "--dry-run", *args, check=0)
    assert log_levels(fleet) == before

    p = cli(fleet, "--yes", *args, check=0)
    after = log_levels(fleet)
    assert after != before and all(level in json.dumps(x) for x in after)
    for d in fleet["daemons"][:2]:
        recs = d.https("GET", "/api/v1/audit?module=stewardd").json
        assert "log_level" in json.dumps(recs)
    # Applied again: a no-op plan is still a plan, and changes nothing more.
    p = cli(fleet, "--yes", *args, check=0)


def test_a_change_without_dry_run_is_not_sent_in_the_plan(fleet):
    a, b = fleet["a"], fleet["b"]
    count = [len(d.https("GET", "/api/v1/tokens").json["tokens"]) for d in fleet["daemons"][:2]]
    p = cli(fleet, "-H", f"{a},{b}", "token", "create", "fan", check=2)
    assert f"{a}: POST /api/v1/tokens — no dry run for this change" in p.stdout
    assert [len(d.https("GET", "/api/v1/tokens").json["tokens"])
            for d in fleet["daemons"][:2]] == count
    p = cli(fleet, "--yes", "--jsonl", "-H", f"{a},{b}", "token", "create", "fan", check=0)
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert all(o["result"]["name"] == "fan" and o["plan"] == {"no_dry_run": "POST /api/v1/tokens"}
               for o in objs), objs
    assert [len(d.https("GET", "/api/v1/tokens").json["tokens"])
            for d in fleet["daemons"][:2]] == [n + 1 for n in count]


@pytest.fixture(scope="module")
def pair():
    """Two daemons over one scratch /etc (in private namespaces) with an
    account that logs in with a password, and a home with no store yet."""
    from conftest import make_user
    from nsroot import ns_argv, scratch_etc
    base = Path(tempfile.mkdtemp(prefix="steward-fanout-login-"))
    os.chmod(base, 0o755)
    etc = scratch_etc(base)
    daemons = [Daemon(base / f"p{i}", wrap=lambda argv: ns_argv(etc, argv)).start()
               for i in range(2)]
    make_user(daemons[0], "alice", "alice-Secret-1", ["sudo"])
    home = base / "clienthome"
    home.mkdir()
    yield {"daemons": daemons, "home": home, "conf": home / ".config" / "steward",
           "a": f"127.0.0.1:{daemons[0].port}", "b": f"127.0.0.1:{daemons[1].port}"}
    for d in daemons:
        d.check_clean_exit()
    shutil.rmtree(base, ignore_errors=True)


def test_login_to_many_with_one_password(pair):
    a, b = pair["a"], pair["b"]
    hosts = f"{a},{b}"
    # New certificates, no terminal, no --yes: refused for every host.
    p = cli(pair, "-H", hosts, "login", "--user", "alice", stdin="alice-Secret-1\n", check=3)
    assert not (pair["conf"] / "sessions").exists()

    p = cli(pair, "-H", hosts, "login", "--user", "alice", "--yes", stdin="alice-Secret-1\n",
            check=0)
    assert summary(p).startswith("2 hosts: 2 ok"), p.stderr
    sessions = (pair["conf"] / "sessions").read_text().splitlines()
    assert sorted(l.split()[0] for l in sessions) == sorted([a, b])
    known = (pair["conf"] / "known_hosts").read_text()
    for d, key in zip(pair["daemons"], (a, b)):
        assert key in known
    p = cli(pair, "--jsonl", "-H", hosts, "status", "system", check=0)
    assert len(p.stdout.splitlines()) == 2

    # A changed certificate on one host: only that host is refused.
    lines = known.splitlines()
    bad = [l if not l.startswith(b + " ") else f"{b} SHA256:{'ab' * 32}" for l in lines]
    (pair["conf"] / "known_hosts").write_text("\n".join(bad) + "\n")
    try:
        p = cli(pair, "-H", hosts, "login", "--user", "alice", "--yes",
                stdin="alice-Secret-1\n", check=3)
        assert "HAS CHANGED" in p.stderr
        s = summary(p)
        assert s.startswith("2 hosts: 1 ok, 1 unreachable") and b in s and a not in s, s
    finally:
        (pair["conf"] / "known_hosts").write_text(known)

    p = cli(pair, "-H", hosts, "logout", check=0)
    assert not (pair["conf"] / "sessions").read_text().strip()


def run_on_pty(fleet, home, args, answers):
    """Runs steward with a terminal (a pty) as its controlling terminal and
    standard input; answers each prompt (a text to wait for, what to type)
    in turn.  Returns (exit status, everything written to the terminal)."""
    import pty
    import select
    e = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    e.update({"HOME": str(home), "ASAN_OPTIONS": "detect_leaks=1"})
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(STEWARD), [str(STEWARD), *args], e)
    out, pending = b"", list(answers)
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, out
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if pending and pending[0][0].encode() in out:
            os.write(fd, pending.pop(0)[1].encode())
            out += b"<answered>"
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_login_on_a_terminal_asks_for_each_new_certificate(pair):
    a, b = pair["a"], pair["b"]
    home = pair["home"].parent / "ttyhome"
    home.mkdir()
    code, out = run_on_pty(pair, home, ["-H", f"{a},{b}", "login", "--user", "alice"],
                           [(f"Trust the certificate of {a}? [y/N] ", "y\n"),
                            (f"Trust the certificate of {b}? [y/N] ", "y\n"),
                            ("Password (for every host): ", "alice-Secret-1\n")])
    assert code == 0, out
    assert out.count("Trust the certificate") == 2 and out.count("Password") == 1, out
    for d, key in zip(pair["daemons"], (a, b)):
        assert f"The certificate of {key} is not in known_hosts:\r\n    {d.fingerprint}" in out
    conf = home / ".config" / "steward"
    assert sorted(l.split()[0] for l in (conf / "sessions").read_text().splitlines()) == \
        sorted([a, b])

    # Declined: nothing is recorded and no password is asked.
    home2 = pair["home"].parent / "ttyhome2"
    home2.mkdir()
    code, out = run_on_pty(pair, home2, ["-H", f"{a},{b}", "login", "--user", "alice"],
                           [(f"Trust the certificate of {a}? [y/N] ", "n\n"),
                            (f"Trust the certificate of {b}? [y/N] ", "n\n")])
    assert code == 3 and "Password" not in out, out
    assert not (home2 / ".config" / "steward" / "sessions").exists()


def test_yes_never_trusts_a_discovered_certificate(pair):
    """Anyone on the LAN can answer discovery: --yes or STEWARD_ACCEPT_NEW
    must not send the password to the hosts it listed."""
    a, b = pair["a"], pair["b"]
    home = pair["home"].parent / "dischome"
    conf = home / ".config" / "steward"
    conf.mkdir(parents=True)
    os.chmod(conf, 0o700)
    (conf / "discovered").write_text(f"{a}\n{b}\n")
    os.chmod(conf / "discovered", 0o600)
    env = {"home": home}
    p = cli(env, "-H", "@discovered", "login", "--user", "alice", "--yes",
            stdin="alice-Secret-1\n", check=3)
    assert "discovery is not authenticated" in p.stderr, p.stderr
    assert not (conf / "sessions").exists() and not (conf / "known_hosts").exists()
    # One discovered host: the same.
    (conf / "discovered").write_text(f"{a}\n")
    p = cli(env, "-H", "@discovered", "login", "--user", "alice", "--yes",
            stdin="alice-Secret-1\n", check=3)
    assert "discovery is not authenticated" in p.stderr, p.stderr
    assert not (conf / "sessions").exists()
    # On a terminal, --yes still asks for each discovered host.
    (conf / "discovered").write_text(f"{a}\n{b}\n")
    code, out = run_on_pty(env, home, ["-H", "@discovered", "login", "--user", "alice", "--yes"],
                           [(f"Trust the certificate of {a}? [y/N] ", "y\n"),
                            (f"Trust the certificate of {b}? [y/N] ", "n\n"),
                            ("Password (for every host): ", "alice-Secret-1\n")])
    assert code == 3 and "discovery is not authenticated" in out, out
    assert [l.split()[0] for l in (conf / "sessions").read_text().splitlines()] == [a]


def test_stdin_goes_to_every_host_and_a_failed_plan_changes_nothing(fleet):
    a, b, closed = fleet["a"], fleet["b"], fleet["closed"]
    d_a, d_b = fleet["daemons"][:2]
    level = "warning" if "warning" not in json.dumps(log_levels(fleet)) else "error"
    # settings from stdin: each host reads its own copy.
    p = cli(fleet, "--yes", "--parallel", "1", "-H", f"{a},{b}", "settings", "-",
            stdin=f'stewardd:log_level = "{level}"\n', check=0)
    assert all(level in json.dumps(x) for x in log_levels(fleet)), p.stderr
    # One host unreachable: the other is changed, the exit status is the worst.
    other = "info" if level != "info" else "debug"
    p = cli(fleet, "--yes", "-H", f"{closed},{a}", "settings", f"stewardd:log_level={other}",
            check=3)
    assert other in json.dumps(d_a.https("GET", "/api/v1/modules/stewardd/settings").json)
    assert level in json.dumps(d_b.https("GET", "/api/v1/modules/stewardd/settings").json)
    assert summary(p).startswith("2 hosts: 1 ok, 1 unreachable"), p.stderr
    cli(fleet, "--parallel", "0", "-H", f"{a},{b}", "list", check=2)
    cli(fleet, "--timeout", "3601", "-H", f"{a},{b}", "list", check=2)
    p = cli(fleet, "-H", f"{a},{b}", "logs", "-f", check=2)
    assert "one host" in p.stderr


def test_a_token_is_never_sent_to_several_hosts(fleet):
    a, b = fleet["a"], fleet["b"]
    token = fleet["daemons"][0].token
    p = cli(fleet, "--token", token, "-H", f"{a},{b}", "list", check=2)
    assert "a token is one server's" in p.stderr
    e = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    e.update({"HOME": str(fleet["home"]), "STEWARD_TOKEN": token})
    p = subprocess.run([str(STEWARD), "-H", f"{a},{b}", "list"], capture_output=True, text=True,
                       env=e, timeout=60)
    assert p.returncode == 2 and "a token is one server's" in p.stderr


# ---- hostile servers ----------------------------------------------------

class _Hostile:
    """A TLS server with a self-signed certificate that answers every
    request with the body its `mode` names (a server under attacker
    control, pinned in known_hosts as a real one would be)."""

    def __init__(self, base):
        import hashlib
        import http.server
        import ssl
        self.mode = "deep"
        key, crt = base / "hostile.key", base / "hostile.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=hostile", "-keyout", str(key), "-out", str(crt)],
                       check=True, capture_output=True)
        der = ssl.PEM_cert_to_DER_cert(crt.read_text())
        self.fingerprint = "SHA256:" + hashlib.sha256(der).hexdigest()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                body = outer.body()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = answer

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(crt), str(key))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *a: None  # a client that hangs up on purpose
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def body(self):
        if self.mode == "deep":
            # 1,200 levels in 2.4 KB: jansson recurses once per level.
            return b'{"x":' + b"[" * 1200 + b"]" * 1200 + b"}"
        if self.mode == "wide":
            # 5 MiB whose printed form is over 16 MiB: 0.1 prints as
            # 0.10000000000000001.
            return b'{"x":[' + b",".join([b"0.1"] * 1_300_000) + b"]}"
        if self.mode == "huge":
            return json.dumps({"x": "a" * (20 << 20)}).encode()
        return b"{}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def hostile(fleet):
    h = _Hostile(fleet["home"].parent)
    where = f"127.0.0.1:{h.port}"
    conf = fleet["conf"]
    known = (conf / "known_hosts").read_text()
    sessions = (conf / "sessions").read_text()
    (conf / "known_hosts").write_text(known + f"{where} {h.fingerprint}\n")
    (conf / "sessions").write_text(sessions + f"{where} hostile-token 0\n")
    yield {"h": h, "where": where}
    (conf / "known_hosts").write_text(known)
    (conf / "sessions").write_text(sessions)
    h.close()


def test_an_answer_nested_too_deep_fails_that_host_only(fleet, hostile):
    a, bad = fleet["a"], hostile["where"]
    hostile["h"].mode = "deep"
    p = cli(fleet, "--json", "-H", f"{a},{bad}", "status", "system", check=1)
    doc = json.loads(p.stdout)
    res = {h["host"]: h for h in doc["hosts"]}
    assert res[a]["exit"] == 0 and res[a]["result"]
    assert res[bad]["exit"] == 1
    assert "nested too deep" in res[bad]["error"]["message"]
    # One host too, not only in a fan-out.
    p = cli(fleet, "-H", bad, "status", "system", check=1)
    assert "malformed answer (nested too deep" in p.stderr


def test_output_over_the_capture_is_an_error_never_a_cut_result(fleet, hostile):
    a, bad = fleet["a"], hostile["where"]
    hostile["h"].mode = "wide"
    for fmt in ("--json", "--jsonl"):
        p = cli(fleet, fmt, "-H", f"{a},{bad}", "status", "system", check=1)
        lines = [p.stdout] if fmt == "--json" else p.stdout.splitlines()
        hosts = [h for l in lines for h in (json.loads(l).get("hosts") or [json.loads(l)])]
        res = {h["host"]: h for h in hosts}
        assert res[a]["exit"] == 0
        assert res[bad]["exit"] == 1 and "result" not in res[bad]
        assert "output over 16 MiB" in res[bad]["error"]["message"]


def test_a_fan_out_caps_each_answer(fleet, hostile):
    a, bad = fleet["a"], hostile["where"]
    hostile["h"].mode = "huge"
    p = cli(fleet, "-H", f"{a},{bad}", "status", "system", check=1)
    assert "answer too large for a fan-out" in p.stderr
    assert "1 ok" in summary(p) and f"{bad}: answer too large" in summary(p), p.stderr
    assert f"{bad}: {bad}:" not in summary(p), p.stderr


def test_one_address_is_one_host_and_its_pin_is_never_bypassed(fleet):
    # 127.1 is 127.0.0.1 to libcurl.  With a WRONG pin for 127.1, a request
    # to it must never go over 127.0.0.1's (rightly pinned) connection.
    d = fleet["daemons"][0]
    good, other = f"127.0.0.1:{d.port}", f"127.1:{d.port}"
    conf = fleet["conf"]
    known, sessions = (conf / "known_hosts").read_text(), (conf / "sessions").read_text()
    try:
        (conf / "known_hosts").write_text(known + f"{other} SHA256:{'00' * 32}\n")
        (conf / "sessions").write_text(sessions + f"{other} {d.token} 0\n")
        p = cli(fleet, "--parallel", "1", "--jsonl", "-H", f"{good},{other}", "status", "system")
        assert p.returncode != 0, (p.stdout, p.stderr)
        assert all(json.loads(l)["host"] != other or json.loads(l)["exit"] != 0
                   for l in p.stdout.splitlines())
        for spelling in ("127.1", "0x7f.1", "0177.0.0.1", "2130706433"):
            p = cli(fleet, "-H", f"{good},{spelling}:{d.port}", "status", "system", check=2)
            assert "invalid host" in p.stderr or "invalid" in p.stderr, p.stderr
    finally:
        (conf / "known_hosts").write_text(known)
        (conf / "sessions").write_text(sessions)


def test_json_output_that_cannot_be_written_is_an_error(fleet):
    a, b = fleet["a"], fleet["b"]
    e = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    e["HOME"] = str(fleet["home"])
    for fmt in ("--json", "--jsonl"):
        with open("/dev/full", "w") as full:
            p = subprocess.run([str(STEWARD), fmt, "-H", f"{a},{b}", "status", "system"],
                               stdout=full, stderr=subprocess.PIPE, text=True, env=e, timeout=60)
        assert p.returncode != 0, (fmt, p.stderr)
        assert "could not be written whole" in p.stderr, p.stderr
