"""The steward CLI end to end, over the unix socket and over TLS."""
import json
import re

from conftest import STEWARD


def test_list(daemon):
    p = daemon.cli("list", check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "SUMMARY"]
    assert any(l.split()[:2] == ["system", "running"] for l in lines)
    assert any(l.split()[:2] == ["stewardd", "running"] for l in lines)


def test_status_prints_settings_style(daemon):
    p = daemon.cli("status", "system", check=0)
    assert 'system:state = "running"' in p.stdout.splitlines()
    assert re.search(r'^system:hostname = ".+"$', p.stdout, re.M)
    # The load averages are named by minutes, in status as in fullstatus.
    assert re.search(r"^system:load:15 = [0-9.]+$", p.stdout, re.M)
    assert "system:load:_array_index" not in p.stdout


def test_one_naming_in_status_fullstatus_settings_and_show(daemon):
    """Arrays print as KEY:_array_index:N, objects as KEY:NAME, the same in
    every verb that prints KEY = VALUE lines; settings read them back."""
    keys = {}
    for args in (("status", "system"), ("fullstatus", "system")):
        out = daemon.cli(*args, check=0).stdout
        keys[args[0]] = {l.split(" = ")[0] for l in out.splitlines() if l.startswith("system:load:")}
        assert {"system:load:1", "system:load:5", "system:load:15"} <= keys[args[0]], out
    full = daemon.cli("fullstatus", "system", check=0).stdout
    assert re.search(r"^system:cpu:per_cpu:_array_index:0:cpu = \"cpu0\"$", full, re.M)
    assert not re.search(r"^system:cpu:per_cpu:[0-9]", full, re.M)
    settings = daemon.cli("settings", "stewardd", check=0).stdout
    assert 'stewardd:auth:admin_groups:_array_index:1 = "steward-admin"' in settings.splitlines()
    show = daemon.cli("users", "show", "root", check=0).stdout
    assert "users:root:groups = _empty_array" in show.splitlines()
    # What settings prints feeds back into settings, arrays included; a
    # changed array element is applied.
    before = daemon.config.read_bytes() if daemon.config.exists() else b""
    daemon.cli("settings", stdin=settings, check=0)
    after = daemon.config.read_bytes() if daemon.config.exists() else b""
    assert after == before
    changed = settings.replace('admin_groups:_array_index:1 = "steward-admin"',
                               'admin_groups:_array_index:1 = "wheel"')
    daemon.cli("settings", stdin=changed, check=0)
    s = daemon.https("GET", "/api/v1/modules/stewardd/settings").json
    assert s["auth"]["admin_groups"] == ["sudo", "wheel"]


def test_fullstatus(daemon):
    p = daemon.cli("fullstatus", "stewardd", check=0)
    assert f'stewardd:tls:fingerprint = "{daemon.fingerprint}"' in p.stdout


def test_settings_read(daemon):
    p = daemon.cli("settings", "stewardd", check=0)
    assert 'stewardd:log_level = "info"' in p.stdout.splitlines()
    assert "stewardd:limits:max_connections = 256" in p.stdout.splitlines()
    p = daemon.cli("settings", "stewardd:limits:max_body_bytes", check=0)
    assert p.stdout == "stewardd:limits:max_body_bytes = 1048576\n"


def test_settings_set_on_the_command_line(daemon):
    p = daemon.cli("settings", "stewardd:log_level", "=", "debug", check=0)
    assert 'stewardd:log_level = "debug"' in p.stdout
    daemon.cli("settings", "stewardd:limits:max_connections=300", check=0)
    s = daemon.https("GET", "/api/v1/modules/stewardd/settings").json
    assert s["log_level"] == "debug" and s["limits"]["max_connections"] == 300
    assert 'log_level = "debug"' in daemon.config.read_text()


def test_settings_refused_exit_1(daemon):
    p = daemon.cli("settings", "stewardd:limits:max_connections", "=", "0", check=1)
    assert "max_connections" in p.stderr
    p = daemon.cli("settings", "stewardd:nope", "=", "1", check=1)
    p = daemon.cli("settings", "nomodule", check=1)
    assert not daemon.config.exists()


def test_stdin_round_trip_is_a_noop(daemon):
    daemon.cli("settings", "stewardd:limits:idle_timeout", "=", "20", check=0)
    before = daemon.config.read_bytes()
    dump = daemon.cli("settings", "stewardd", check=0).stdout
    p = daemon.cli("settings", stdin=dump, check=0)
    assert daemon.config.read_bytes() == before
    # Including read-only settings of another module.
    dump = daemon.cli("settings", "system", check=0).stdout
    daemon.cli("settings", stdin=dump, check=0)


def test_stdin_changes(daemon):
    daemon.cli("settings", stdin='stewardd:limits:max_json_depth = 16\nstewardd:log_level = "warning"\n', check=0)
    s = daemon.https("GET", "/api/v1/modules/stewardd/settings").json
    assert s["limits"]["max_json_depth"] == 16 and s["log_level"] == "warning"
    p = daemon.cli("settings", stdin="stewardd:log_level = warning\n", check=2)  # strings are quoted on stdin
    assert "quoted" in p.stderr


def test_dry_run_prints_diff_and_changes_nothing(daemon):
    daemon.config.write_text('log_level = "info"\n')
    before = daemon.config.read_bytes()
    p = daemon.cli("settings", "--dry-run", "stewardd:log_level", "=", "debug", check=0)
    assert '-log_level = "info"' in p.stdout and '+log_level = "debug"' in p.stdout
    assert daemon.config.read_bytes() == before


def test_command(daemon):
    p = daemon.cli("command", "system:sysctl", "name=kernel.ostype", check=0)
    assert 'system:sysctl:value = "Linux"' in p.stdout
    p = daemon.cli("command", "stewardd:check_config", check=0)
    assert "valid = yes" in p.stdout
    daemon.cli("command", "system:sysctl", "name=../../etc/shadow", check=1)
    daemon.cli("command", "system:nope", check=1)


def test_json_everywhere(daemon):
    for args in (("list",), ("status", "system"), ("fullstatus", "system"), ("settings", "stewardd"),
                 ("command", "system:sysctl", "name=kernel.ostype")):
        p = daemon.cli("--json", *args, check=0)
        json.loads(p.stdout)


def test_usage_errors_exit_2(daemon):
    daemon.cli("frobnicate", check=2)
    daemon.cli("fullstatus", check=2)
    daemon.cli("settings", "stewardd:log_level", "=", check=2)
    daemon.cli("command", "nocolon", check=2)


def test_remote_with_pinned_fingerprint(daemon):
    p = daemon.cli("list", remote=True, check=0)
    assert "stewardd" in p.stdout
    p = daemon.cli("settings", "stewardd:log_level", "=", "notice", remote=True, check=0)
    assert daemon.https("GET", "/api/v1/modules/stewardd/settings").json["log_level"] == "notice"


def test_remote_fingerprint_forms(daemon):
    hexfp = daemon.fingerprint[7:]
    colon = ":".join(hexfp[i:i + 2] for i in range(0, 64, 2)).upper()
    for fp in (hexfp, colon, "sha256:" + hexfp.upper()):
        daemon.cli("-H", f"127.0.0.1:{daemon.port}", "--fingerprint", fp, "list",
                   env={"STEWARD_TOKEN": daemon.token}, check=0)


def test_remote_wrong_fingerprint_exit_3_and_no_token_sent(daemon):
    token = daemon.token
    before = daemon.unix("GET", "/api/v1/modules/stewardd").json["requests"]
    p = daemon.cli("-H", f"127.0.0.1:{daemon.port}", "--fingerprint", "SHA256:" + "00" * 32, "list",
                   env={"STEWARD_TOKEN": token}, check=3)
    assert token not in p.stderr + p.stdout
    # The handshake was refused: no request reached the daemon.
    after = daemon.unix("GET", "/api/v1/modules/stewardd").json["requests"]
    assert after == before + 1


def test_remote_without_pin_is_refused_with_advice(daemon):
    p = daemon.cli("-H", f"127.0.0.1:{daemon.port}", "list", env={"STEWARD_TOKEN": daemon.token}, check=3)
    assert daemon.fingerprint in p.stderr
    assert "--fingerprint" in p.stderr


def test_remote_bad_token_exit_1(daemon):
    daemon.cli("-H", f"127.0.0.1:{daemon.port}", "--fingerprint", daemon.fingerprint, "list",
               env={"STEWARD_TOKEN": "f" * 64}, check=1)


def test_unreachable_exit_3(daemon):
    daemon.cli("--socket", str(daemon.tmp / "missing.sock"), "list", check=3)


def test_help_and_version():
    import subprocess
    p = subprocess.run([str(STEWARD), "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "settings" in p.stdout and "--fingerprint" in p.stdout
    p = subprocess.run([str(STEWARD), "--version"], capture_output=True, text=True)
    assert p.stdout.startswith("steward ")


def help_verbs():
    """The verbs `steward --help` lists, in order (COLLECTION aside)."""
    import subprocess
    out = subprocess.run([str(STEWARD), "--help"], capture_output=True, text=True, check=True).stdout
    commands = out.split("Commands", 1)[1].split("\nOptions", 1)[0]
    names = []
    for line in commands.splitlines():
        m = re.match(r"^  ([a-zA-Z]+)\b", line)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


def man_verbs():
    """The verbs of the generated steward(1)'s COMMANDS list."""
    page = (STEWARD.parent / "steward.1").read_text()
    section = page.split(".SH COMMANDS", 1)[1].split("Each command in detail", 1)[0]
    return re.findall(r"^\.TP 14\n\\f[BI]([A-Za-z]+)\\fR$", section, re.M)


def test_every_verb_is_in_help_and_the_man_page_and_dispatches():
    import subprocess
    verbs = help_verbs()
    # Every verb the CLI runs, ports and history included.
    for v in ("list", "status", "fullstatus", "settings", "command", "start", "stop", "restart",
              "login", "logout", "token", "sessions", "audit", "discover", "ports", "history"):
        assert v in verbs, (v, verbs)
    assert man_verbs() == verbs
    for v in verbs:
        if v == "COLLECTION":
            continue
        # Each dispatches: its own usage, exit 0, before any connection.
        p = subprocess.run([str(STEWARD), "--socket", "/nonexistent", v, "--help"],
                           capture_output=True, text=True)
        assert p.returncode == 0, (v, p.stderr)
        assert p.stdout.startswith(f"Usage: steward [OPTIONS] {v}"), (v, p.stdout)
    p = subprocess.run([str(STEWARD), "audit", "list", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "audit rollback ID [--dry-run]" in p.stdout


def test_an_unknown_verb_is_refused(daemon):
    p = daemon.cli("frobnicate", check=2)
    assert 'unknown command "frobnicate"' in p.stderr and "steward --help" in p.stderr
    p = daemon.cli("frobnicate", "--help", check=2)


def test_a_collection_lists_its_verbs_with_help(daemon):
    p = daemon.cli("groups", "--help", check=0)
    assert p.stdout.startswith("Usage: steward groups list")
    assert "steward groups members NAME" in p.stdout and "--force" in p.stdout


def test_the_man_page_needs_an_entry_for_every_verb(tmp_path):
    """The build makes steward(1) with `steward --roff-page`, which refuses a
    template where a verb has no entry of its own, or without its markers."""
    import subprocess
    from conftest import ROOT
    template = (ROOT / "docs" / "steward.1.in").read_text()
    ok = subprocess.run([str(STEWARD), "--roff-page", str(ROOT / "docs" / "steward.1.in")],
                        capture_output=True, text=True)
    assert ok.returncode == 0
    assert not [l for l in ok.stdout.splitlines() if l.startswith('.\\" @VERB_')]
    assert ok.stdout == (STEWARD.parent / "steward.1").read_text()
    start = template.index(".BR ports \" [")
    end = template.index(".TP", start)
    broken = tmp_path / "no-ports.1.in"
    broken.write_text(template[:start] + template[end + 4:])
    p = subprocess.run([str(STEWARD), "--roff-page", str(broken)], capture_output=True, text=True)
    assert p.returncode != 0 and "ports has no .TP entry" in p.stderr
    broken.write_text(template.replace('.\\" @VERB_LIST@\n', ""))
    p = subprocess.run([str(STEWARD), "--roff-page", str(broken)], capture_output=True, text=True)
    assert p.returncode != 0


def test_an_unknown_module_names_steward_list(daemon):
    """Every verb that names a module says the module is unknown and where
    the modules are listed, in one line, exit 1."""
    for args in (("status", "nosuchmodule"), ("fullstatus", "nosuchmodule"),
                 ("settings", "nosuchmodule"), ("settings", "nosuchmodule:a", "=", "1"),
                 ("command", "nosuchmodule:x"), ("start", "nosuchmodule"),
                 ("stop", "nosuchmodule"), ("restart", "nosuchmodule")):
        p = daemon.cli(*args, check=1)
        assert p.stderr.splitlines() == [
            "steward: unknown module \"nosuchmodule\"; 'steward list' shows the modules"], (args, p.stderr)


def test_a_module_that_is_not_running_says_why(daemon):
    """The API gives a reason for every state but running, and steward list
    prints it under the module; groups, with no status of its own, is n/a."""
    modules = daemon.https("GET", "/api/v1/modules").json["modules"]
    by_name = {m["name"]: m for m in modules}
    assert by_name["groups"]["state"] == "n/a"
    for m in modules:
        if m["state"] != "running":
            assert isinstance(m.get("reason"), str) and m["reason"], m
        else:
            assert "reason" not in m, m
    one = daemon.https("GET", "/api/v1/modules/groups").json
    assert one["reason"] == by_name["groups"]["reason"]
    lines = daemon.cli("list", check=0).stdout.splitlines()
    for m in modules:
        row = next(i for i, l in enumerate(lines) if l.split()[:1] == [m["name"]])
        if m["state"] != "running":
            assert lines[row + 1].split() == ["why:", *m["reason"].split()], lines
        else:
            assert row + 1 == len(lines) or not lines[row + 1].lstrip().startswith("why:")


def test_every_verb_option_the_cli_parses_is_in_its_help():
    """Each verb file's option table (struct verb_option rows) against the
    verb's --help: an option added to a parser but not to src/cli/verbs.c
    fails here, with its short form."""
    import subprocess
    from conftest import ROOT
    files = {"audit.c": "audit", "tokens.c": "token", "sessions.c": "sessions",
             "login.c": "login", "discover.c": "discover", "ports.c": "ports",
             "history.c": "history"}
    for name, verb in files.items():
        src = (ROOT / "src" / "cli" / name).read_text()
        rows = re.findall(r'\{"([a-z][a-z-]*)", \'(.)\', (?:&\w+, NULL|NULL, &\w+)\}', src)
        assert rows, name
        out = subprocess.run([str(STEWARD), verb, "--help"], capture_output=True, text=True,
                             check=True).stdout
        for long, short in rows:
            assert f"--{long}" in out, (verb, long, out)
            assert re.search(rf"(^|[ (;,])-{short}\b", out, re.M), (verb, short, out)
    out = subprocess.run([str(STEWARD), "settings", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--dry-run" in out and "-n" in out


def test_the_verbs_usage_errors_quote_the_table():
    """The synopsis a verb file shows in its usage errors is one of the
    table's forms, word for word, so an error and --help never differ."""
    import subprocess
    from conftest import ROOT
    out = subprocess.run([str(STEWARD), "--help"], capture_output=True, text=True,
                         check=True).stdout
    forms = {l.strip().split("   ")[0].strip() for l in out.splitlines() if l.startswith("  ")}
    quoted = []
    for f in (ROOT / "src" / "cli").glob("*.c"):
        src = f.read_text()
        quoted += re.findall(r'static const char \w*synopsis\[\] =\s*"([^"]+)";', src)
        quoted += re.findall(r'usage_error\("usage: steward ([a-z][^"%]*)"\)', src)
        quoted += re.findall(r'"steward (\w+ \w+ ID)", "\w+"', src)  # cli_delete_id's usage
    assert len(quoted) >= 13 and "token revoke ID" in quoted, quoted
    for q in quoted:
        assert q in forms, (q, sorted(forms))
