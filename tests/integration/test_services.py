"""The services module against a real systemd (the booted container of
systemd_ct.py): every action checked with `systemctl show` inside the same
container, the roles, the guards, drop-in settings and their rollback, bad
input, live events, and the issue's "done when" scenario as one test.  The
first test runs on the host, where systemd is not PID 1: the module says it
is unavailable and why, and the rest of Steward answers.

Units the tests touch are put back by the test itself: the container is
shared by the session."""
import json
import queue
import threading
import time

import pytest

from systemd_ct import wait_for

ct = pytest.mark.systemd
LOGGER = "steward-test-logger.service"
FAIL = "steward-test-fail.service"
TICK = "steward-test-tick.timer"
MASKABLE = "systemd-tmpfiles-clean.timer"


def state(c, unit):
    return c.show(unit, "ActiveState", "SubState", "UnitFileState", "LoadState", "Restart",
                  "RestartUSec", "NRestarts", "DropInPaths", "Environment", "Nice")


def act(c, unit, action, role="admin", body=None, dry_run=False):
    q = "?dry_run=1" if dry_run else ""
    return c.https("POST", f"/api/v1/services/{unit}/{action}{q}", body if body is not None else {},
                   token=role)


def last_audit(c, operation=None):
    r = c.https("GET", "/api/v1/audit?module=services&limit=20", token="admin")
    assert r.status == 200, r
    recs = r.json["records"]
    if operation:
        recs = [x for x in recs if x["operation"] == operation]
    return recs[0] if recs else None


# ---- the host: no systemd as PID 1 -----------------------------------------

def test_unavailable_without_systemd_and_the_rest_works(daemon):
    r = daemon.https("GET", "/api/v1/modules/services")
    assert r.status == 200, r
    if r.json["state"] != "unavailable":
        pytest.skip("systemd runs this host")
    assert "not PID 1" in r.json["reason"] or "bus" in r.json["reason"], r.json
    r = daemon.https("GET", "/api/v1/services")
    assert r.status == 503 and r.json["error"]["code"] == "unavailable", r
    r = daemon.https("GET", "/api/v1/modules/system")
    assert r.status == 200 and r.json["state"] != "unavailable", r


# ---- reads --------------------------------------------------------------------

@ct
def test_list_like_systemctl(systemd_ct):
    # Units come and go (the timer's service): compare the steady ones.  The
    # timer itself is "running" while its service runs, every 3 s: a
    # difference between the two reads is taken again, a few times.
    def differences():
        r = systemd_ct.https("GET", "/api/v1/services?type=all&state=all", token="monitor")
        assert r.status == 200, r
        ours = {u["name"]: u for u in r.json["services"]}
        out = systemd_ct.run("systemctl", "list-units", "--all", "--output=json",
                             "--no-pager").stdout
        theirs = {u["unit"]: u for u in json.loads(out)}
        found = []
        for name in (LOGGER, FAIL, TICK, "stewardd.service", "dbus.service", "multi-user.target"):
            assert name in ours and name in theirs, name
            for a, b in (("load_state", "load"), ("active_state", "active"), ("sub_state", "sub"),
                         ("description", "description")):
                if ours[name][a] != theirs[name][b]:
                    found.append((name, a, ours[name][a], theirs[name][b]))
        return r, ours, found

    for _ in range(5):
        r, ours, found = differences()
        if not found:
            break
        time.sleep(0.5)
    assert not found, found
    assert ours[LOGGER]["unit_file_state"] == "enabled"
    assert ours[LOGGER]["main_pid"] == int(systemd_ct.show(LOGGER, "MainPID")["MainPID"])
    names = [u["name"] for u in r.json["services"]]
    assert names == sorted(names)


@ct
def test_list_filters(systemd_ct):
    r = systemd_ct.https("GET", "/api/v1/services?state=failed", token="monitor")
    assert r.status == 200 and FAIL in [u["name"] for u in r.json["services"]], r
    assert all(u["active_state"] == "failed" for u in r.json["services"])
    r = systemd_ct.https("GET", "/api/v1/services?type=timer", token="monitor")
    assert {u["type"] for u in r.json["services"]} == {"timer"}, r
    r = systemd_ct.https("GET", "/api/v1/services?name=steward-test-*&enabled=enabled", token="monitor")
    names = {u["name"] for u in r.json["services"]}
    assert LOGGER in names and "stewardd.service" not in names, names


@ct
def test_show_a_service_and_a_timer(systemd_ct):
    r = systemd_ct.https("GET", f"/api/v1/services/{FAIL}", token="monitor")
    assert r.status == 200, r
    s = r.json["service"]
    assert s["active_state"] == "failed" and s["result"] == "exit-code", s
    assert s["exec_main_status"] == 3
    assert s["fragment_path"] == f"/etc/systemd/system/{FAIL}"
    assert "multi-user.target" in s["dependencies"]["wanted_by"], s["dependencies"]
    assert s["exec_start"][0]["path"], s["exec_start"]
    assert s["logs"] == f"/api/v1/logs?unit={FAIL}"
    r = systemd_ct.https("GET", f"/api/v1/services/{TICK}", token="monitor")
    t = r.json["service"]
    assert t["type"] == "timer" and t["next_elapse"], t
    assert t["triggers"] == "steward-test-tick.service"


@ct
def test_reads_on_many_threads_at_once(systemd_ct):
    """The front answers lists and shows on several threads at once (each
    with its own bus connection): all answer, alike."""
    from concurrent.futures import ThreadPoolExecutor
    paths = ["/api/v1/services?type=all&state=all", f"/api/v1/services/{LOGGER}",
             "/api/v1/services?name=steward-*", f"/api/v1/services/{TICK}"] * 6
    with ThreadPoolExecutor(max_workers=12) as pool:
        rs = list(pool.map(lambda p: systemd_ct.https("GET", p, token="monitor"), paths))
    assert all(r.status == 200 for r in rs), [r for r in rs if r.status != 200]
    for p, r in zip(paths, rs):
        if p.endswith("state=all"):
            names = {u["name"] for u in r.json["services"]}
            assert {LOGGER, FAIL, TICK, "stewardd.service"} <= names, names


BAD_NAMES = [
    ("a%2Fb.service", (400, 404, 405)),          # '/' (the route never sees it as one segment)
    ("..service", (400,)),
    ("-x.service", (400,)),
    ("x" * 300 + ".service", (400,)),            # over 255 bytes
    ("x" * 248 + ".service", (400,)),            # 256 bytes
    ("foo.bogus", (400,)),
    ("foo", (400,)),
    ("a%5Cq.service", (400,)),                   # a backslash that is no \xHH escape
]


@ct
@pytest.mark.parametrize("name,statuses", BAD_NAMES)
def test_bad_unit_names_are_refused(systemd_ct, name, statuses):
    r = systemd_ct.https("GET", f"/api/v1/services/{name}", token="monitor")
    assert r.status in statuses, r
    before = systemd_ct.run("ls", "/etc/systemd/system").stdout
    r = systemd_ct.https("PATCH", f"/api/v1/services/{name}", {"nice": 1}, token="admin")
    assert r.status in statuses, r
    if r.status == 400:
        assert r.json["error"]["field"] == "name", r.json
    assert systemd_ct.run("ls", "/etc/systemd/system").stdout == before


@ct
def test_bad_query_is_refused(systemd_ct):
    for q, field in (("type=bogus", "type"), ("state=sleepy", "state"), ("name=%2Fetc", "name"),
                     ("enabled=EN", "enabled")):
        r = systemd_ct.https("GET", f"/api/v1/services?{q}", token="monitor")
        assert r.status == 400, (q, r)


# ---- drop-in settings ------------------------------------------------------------

@ct
@pytest.mark.parametrize("body,field,status", [
    ({"restart": "sometimes"}, "restart", 422),
    ({"restart_sec": -1}, "restart_sec", 422),
    ({"restart_sec": 10 ** 6}, "restart_sec", 422),
    ({"memory_max": 10}, "memory_max", 422),
    ({"cpu_quota": 0}, "cpu_quota", 422),
    ({"tasks_max": 0}, "tasks_max", 422),
    ({"nice": 20}, "nice", 422),
    ({"nice": "5"}, "nice", 422),
    ({"environment": ["1A=b"]}, "environment", 422),
    ({"environment": ["A=$(id)"]}, "environment", 422),
    ({"environment": ["A=%h"]}, "environment", 422),
    ({"environment": "A=b"}, "environment", 422),
    ({"ExecStart": "/bin/sh"}, "ExecStart", 400),
])
def test_bad_settings_change_nothing(systemd_ct, body, field, status):
    before = state(systemd_ct, LOGGER)
    r = systemd_ct.https("PATCH", f"/api/v1/services/{LOGGER}", body, token="admin")
    assert r.status == status and r.json["error"]["field"] == field, r
    assert state(systemd_ct, LOGGER) == before
    assert systemd_ct.run("test", "-e", f"/etc/systemd/system/{LOGGER}.d/50-steward.conf",
                          check=False).returncode != 0


@ct
def test_settings_only_for_admins_and_services(systemd_ct):
    for role in ("monitor", "operator"):
        r = systemd_ct.https("PATCH", f"/api/v1/services/{LOGGER}", {"nice": 1}, token=role)
        assert r.status == 403, r
    r = systemd_ct.https("PATCH", f"/api/v1/services/{TICK}", {"nice": 1}, token="admin")
    assert r.status == 422 and r.json["error"]["field"] == "name", r
    r = systemd_ct.https("PATCH", "/api/v1/services/nothere.service", {"nice": 1}, token="admin")
    assert r.status == 404, r


@ct
def test_dropin_changes_systemd_and_rolls_back(systemd_ct):
    c = systemd_ct
    r = c.https("PATCH", f"/api/v1/services/{LOGGER}?dry_run=1",
                {"nice": 5, "environment": ["GREETING=hello world"]}, token="admin")
    assert r.status == 200 and "+Nice=5" in r.json["plan"]["files"][0]["diff"], r
    assert state(c, LOGGER)["Nice"] == "0"  # a dry run changes nothing
    r = c.https("PATCH", f"/api/v1/services/{LOGGER}",
                {"nice": 5, "tasks_max": 64, "environment": ["GREETING=hello world"]}, token="admin")
    assert r.status == 200, r
    st = c.show(LOGGER, "Nice", "TasksMax", "Environment", "DropInPaths")
    assert st["Nice"] == "5" and st["TasksMax"] == "64", st
    assert st["Environment"] == '"GREETING=hello world"', st
    assert st["DropInPaths"].endswith(f"{LOGGER}.d/50-steward.conf"), st
    assert r.json["service"]["steward_settings"]["nice"] == 5
    # null removes one key, the rest stays
    r = c.https("PATCH", f"/api/v1/services/{LOGGER}", {"tasks_max": None}, token="admin")
    assert r.status == 200 and c.show(LOGGER, "Nice")["Nice"] == "5", r
    rec = last_audit(c, "services:modify")
    assert rec["args"]["id"] == LOGGER and rec["result"] == "ok"
    # roll back both changes, newest first: the file goes, systemd forgets
    r = c.https("POST", f"/api/v1/audit/{rec['id']}/rollback", {}, token="admin")
    assert r.status == 200, r
    r = c.https("POST", f"/api/v1/audit/{rec['id'] - 1}/rollback", {}, token="admin")
    assert r.status == 200, r
    st = c.show(LOGGER, "Nice", "Environment", "DropInPaths")
    assert st == {"Nice": "0", "Environment": "", "DropInPaths": ""}, st


# ---- actions ------------------------------------------------------------------

@ct
def test_stop_and_start_wait_for_the_job(systemd_ct):
    c = systemd_ct
    r = act(c, LOGGER, "stop", role="operator")
    assert r.status == 200 and r.json["job_result"] == "done", r
    assert r.json["service"]["active_state"] == "inactive"
    assert state(c, LOGGER)["ActiveState"] == "inactive"
    r = act(c, LOGGER, "start", role="operator")
    assert r.status == 200 and r.json["job_result"] == "done", r
    assert state(c, LOGGER)["ActiveState"] == "active"
    assert r.json["service"]["sub_state"] == "running"
    rec = last_audit(c, "action:start")
    assert rec and rec["args"]["id"] == LOGGER if "id" in rec["args"] else rec


@ct
def test_restart_reload_try_restart(systemd_ct):
    c = systemd_ct
    pid = c.show(LOGGER, "MainPID")["MainPID"]
    r = act(c, LOGGER, "restart", role="operator")
    assert r.status == 200 and r.json["job_result"] == "done", r
    assert c.show(LOGGER, "MainPID")["MainPID"] != pid
    r = act(c, LOGGER, "try-restart", role="operator")
    assert r.status == 200 and r.json["job_result"] == "done", r
    # the logger cannot reload: systemd refuses the job
    r = act(c, LOGGER, "reload", role="operator")
    assert r.status == 409, r
    assert c.show(LOGGER, "ActiveState")["ActiveState"] == "active"


ONESHOT = "steward-test-oneshot.service"


@ct
def test_a_failing_start_reports_failed(systemd_ct):
    c = systemd_ct
    # A oneshot's start job ends when it exits: its failure is the job's.
    c.run("sh", "-ec", f"""printf '[Service]\\nType=oneshot\\nExecStart=/bin/false\\n' \
          >/etc/systemd/system/{ONESHOT}; systemctl daemon-reload""")
    try:
        r = act(c, ONESHOT, "start", role="operator")
        assert r.status == 200 and r.json["job_result"] == "failed", r
        assert r.json["service"]["active_state"] == "failed"
        assert c.show(ONESHOT, "ActiveState")["ActiveState"] == "failed"
        r = act(c, ONESHOT, "reset-failed", role="operator")
        assert r.status == 200, r
        assert c.show(ONESHOT, "ActiveState")["ActiveState"] == "inactive"
    finally:
        c.run("sh", "-ec", f"rm -f /etc/systemd/system/{ONESHOT}; systemctl daemon-reload")
    # A simple service's start job is done once it runs; it fails after.
    r = act(c, FAIL, "start", role="operator")
    assert r.status == 200 and r.json["job_result"] == "done", r
    wait_for(lambda: c.show(FAIL, "ActiveState")["ActiveState"] == "failed", what="the failure")


@ct
def test_roles(systemd_ct):
    c = systemd_ct
    for action in ("start", "stop", "restart", "enable", "mask"):
        r = act(c, LOGGER, action, role="monitor")
        assert r.status == 403, (action, r)
    for action in ("enable", "disable", "mask", "unmask"):
        r = act(c, LOGGER, action, role="operator")
        assert r.status == 403, (action, r)
    assert state(c, LOGGER)["ActiveState"] == "active"
    assert state(c, LOGGER)["UnitFileState"] == "enabled"


@ct
def test_disable_enable_mask_unmask(systemd_ct):
    c = systemd_ct
    r = act(c, LOGGER, "disable")
    assert r.status == 200, r
    assert c.show(LOGGER, "UnitFileState")["UnitFileState"] == "disabled"
    assert any(ch["type"] == "unlink" for ch in r.json["changes"]), r.json
    r = act(c, LOGGER, "enable")
    assert r.status == 200 and c.show(LOGGER, "UnitFileState")["UnitFileState"] == "enabled", r
    assert any(ch["type"] == "symlink" for ch in r.json["changes"]), r.json
    # mask a unit whose file is in /lib (a unit file in /etc cannot be
    # masked without force: the link would replace it)
    was = c.show(MASKABLE, "UnitFileState")["UnitFileState"]
    r = act(c, MASKABLE, "mask")
    assert r.status == 200 and c.show(MASKABLE, "UnitFileState")["UnitFileState"] == "masked", r
    assert r.json["plan"]["files"][0]["path"] == f"/etc/systemd/system/{MASKABLE}", r.json
    rec = last_audit(c, "action:mask")
    assert rec and rec["files"] and rec["files"][0]["path"] == f"/etc/systemd/system/{MASKABLE}", rec
    # the mask rolls back like any change (the link goes, systemd reloads)
    r = c.https("POST", f"/api/v1/audit/{rec['id']}/rollback", {}, token="admin")
    assert r.status == 200, r
    assert c.show(MASKABLE, "UnitFileState")["UnitFileState"] == was
    r = act(c, MASKABLE, "mask")
    r = act(c, MASKABLE, "unmask")
    assert r.status == 200 and c.show(MASKABLE, "UnitFileState")["UnitFileState"] == was, r
    r = act(c, TICK, "mask")
    assert r.status == 409 and "already exists" in r.json["error"]["message"], r


@ct
def test_guards_need_force(systemd_ct):
    c = systemd_ct
    for unit in ("dbus.service", "systemd-journald.service", "stewardd.service", "ssh.service"):
        r = act(c, unit, "stop", role="admin")
        assert r.status == 409 and r.json["error"]["field"] == "force", (unit, r)
        assert c.show(unit, "ActiveState")["ActiveState"] == "active", unit
        r = act(c, unit, "stop", role="admin", dry_run=True)
        assert r.status == 200 and r.json["plan"]["warnings"], (unit, r)
        assert "needs force" in r.json["plan"]["warnings"][0]
    r = act(c, "ssh.service", "mask")
    assert r.status == 409, r
    # force is an admin's: an operator's forced stop is 403, nothing stops
    for dry in (True, False):
        r = act(c, "ssh.service", "stop", role="operator", body={"force": True}, dry_run=dry)
        assert r.status == 403 and r.json["error"]["field"] == "force", r
        assert "admin" in r.json["error"]["message"], r.json
    assert c.show("ssh.service", "ActiveState")["ActiveState"] == "active"
    # forced by an admin, the SSH server stops (and comes back)
    r = act(c, "ssh.service", "stop", role="admin", body={"force": True})
    assert r.status == 200 and r.json["job_result"] == "done", r
    assert c.show("ssh.service", "ActiveState")["ActiveState"] == "inactive"
    r = act(c, "ssh.service", "start", role="operator")
    assert r.status == 200 and c.show("ssh.service", "ActiveState")["ActiveState"] == "active"


# Units whose start or stop changes the whole system: an operator's
# request is 403 (a dry run too, which is what is asked of the dangerous
# ones here); an admin's dry run is allowed.
ADMIN_ONLY = [
    ("poweroff.target", "start"), ("reboot.target", "start"), ("rescue.target", "start"),
    ("emergency.target", "start"), ("sysinit.target", "stop"), ("system.slice", "stop"),
    ("tmp.mount", "stop"), ("debug-shell.service", "start"), ("modprobe@dccp.service", "start"),
    ("getty@tty3.service", "start"), ("autovt@tty4.service", "start"),
    ("user@0.service", "start"), ("systemd-poweroff.service", "start"),
    ("systemd-journald.service", "restart"), ("emergency.service", "start"),
    # an alias reaches the unit it names: systemd-logind.service
    ("dbus-org.freedesktop.login1.service", "stop"),
]


@ct
@pytest.mark.parametrize("unit,action", ADMIN_ONLY)
def test_operators_do_not_act_on_the_system_itself(systemd_ct, unit, action):
    c = systemd_ct
    r = act(c, unit, action, role="operator", dry_run=True)
    assert r.status == 403 and "needs the role admin" in r.json["error"]["message"], r
    r = act(c, unit, action, role="admin", dry_run=True)
    assert r.status in (200, 404), r


RIVAL = "steward-test-rival.service"


@ct
def test_an_operator_refusal_runs_nothing_and_is_audited(systemd_ct):
    c = systemd_ct
    r = act(c, "debug-shell.service", "start", role="operator")
    assert r.status == 403 and "root shell" in r.json["error"]["message"], r
    assert c.show("debug-shell.service", "ActiveState")["ActiveState"] == "inactive"
    rec = last_audit(c, "action:start")
    assert rec["args"]["id"] == "debug-shell.service" and rec["result"] != "ok", rec
    # nor a service whose start stops a guarded one (Conflicts=)
    c.run("sh", "-ec", f"""printf '[Unit]\\nConflicts=ssh.service\\n[Service]\\nExecStart=/bin/sleep 60\\n' \\
          >/etc/systemd/system/{RIVAL}; systemctl daemon-reload""")
    try:
        r = act(c, RIVAL, "start", role="operator")
        assert r.status == 403 and "conflicts with ssh.service" in r.json["error"]["message"], r
        assert c.show("ssh.service", "ActiveState")["ActiveState"] == "active"
    finally:
        c.run("sh", "-ec", f"rm -f /etc/systemd/system/{RIVAL}; systemctl daemon-reload")
    # services, sockets and timers of the server stay the operator's
    r = act(c, TICK, "restart", role="operator")
    assert r.status == 200 and r.json["job_result"] == "done", r


SECRET = "hunter2-s3cret"


@ct
def test_secrets_are_for_admins(systemd_ct):
    """Environment values and command arguments: in full for admins; below,
    names and argv[0] only, in shows and in actions' answers; never in the
    audit (its records are read by monitors) nor in a plan's diff."""
    c = systemd_ct
    body = {"environment": [f"DB_PASSWORD={SECRET}", "MODE=x"]}
    r = c.https("PATCH", f"/api/v1/services/{LOGGER}?dry_run=1", body, token="admin")
    assert r.status == 200 and SECRET not in r.body, r
    assert "DB_PASSWORD=(redacted)" in r.json["plan"]["files"][0]["diff"], r.json
    r = c.https("PATCH", f"/api/v1/services/{LOGGER}", body, token="admin")
    assert r.status == 200, r
    try:
        assert SECRET in c.show(LOGGER, "Environment")["Environment"]
        r = c.https("GET", f"/api/v1/services/{LOGGER}", token="admin")
        assert f"DB_PASSWORD={SECRET}" in r.json["service"]["settings"]["environment"], r.json
        assert len(r.json["service"]["exec_start"][0]["argv"]) > 1
        for role in ("monitor", "operator"):
            r = c.https("GET", f"/api/v1/services/{LOGGER}", token=role)
            assert r.status == 200 and SECRET not in r.body, (role, r)
            s = r.json["service"]
            assert s["redacted"] is True
            assert s["settings"]["environment"] == ["DB_PASSWORD", "MODE"], s["settings"]
            assert s["steward_settings"]["environment"] == ["DB_PASSWORD", "MODE"], s
            assert all(len(e["argv"]) == 1 for e in s["exec_start"]), s["exec_start"]
        r = act(c, LOGGER, "try-restart", role="operator")
        assert r.status == 200 and SECRET not in r.body, r
        r = c.https("GET", "/api/v1/audit?module=services&limit=50", token="monitor")
        assert r.status == 200 and SECRET not in r.body, r
        rec = last_audit(c, "services:modify")
        assert rec["args"]["body"]["environment"] == "[redacted]", rec["args"]
    finally:
        # the rollback still puts back the file as it was (from its image)
        rec = last_audit(c, "services:modify")
        r = c.https("POST", f"/api/v1/audit/{rec['id']}/rollback", {}, token="admin")
        assert r.status == 200 and SECRET not in r.body, r
    assert c.show(LOGGER, "Environment", "DropInPaths") == {"Environment": "", "DropInPaths": ""}
    assert last_audit(c)["operation"] == "rollback"
    # the CLI still takes the (secret) field as an option
    p = c.cli("services", "modify", LOGGER, "--environment", f"DB_PASSWORD={SECRET}", "--dry-run",
              check=0)
    assert "DB_PASSWORD=(redacted)" in p.stdout and SECRET not in p.stdout, p.stdout


BROKEN = "steward-test-broken.service"


@ct
def test_a_refused_change_leaves_no_directory(systemd_ct):
    """systemd-analyze verify refuses the unit: nothing is left in /etc,
    not even the drop-in's directory."""
    c = systemd_ct
    c.run("sh", "-ec", f"""printf '[Service]\nExecStart=no-such-relative-path\n' \
          >/etc/systemd/system/{BROKEN}; systemctl daemon-reload""")
    try:
        r = c.https("PATCH", f"/api/v1/services/{BROKEN}", {"nice": 3}, token="admin")
        assert r.status == 422, r
        assert c.run("test", "-e", f"/etc/systemd/system/{BROKEN}.d", check=False).returncode != 0
    finally:
        c.run("sh", "-ec", f"rm -rf /etc/systemd/system/{BROKEN} /etc/systemd/system/{BROKEN}.d; "
              "systemctl daemon-reload")


SLOW = "steward-test-slow.service"


@ct
def test_a_session_runs_two_actions_at_once(systemd_ct):
    """An action may wait for its job in one of the front's few slow
    threads: a third one of the same session at once is 429, another
    session's is not."""
    from concurrent.futures import ThreadPoolExecutor
    c = systemd_ct
    c.run("sh", "-ec", f"""printf '[Service]\nType=oneshot\nExecStart=/bin/sleep 4\n' \
          >/etc/systemd/system/{SLOW}; systemctl daemon-reload""")
    try:
        op = c.token("operator")
        with ThreadPoolExecutor(max_workers=4) as pool:
            mine = [pool.submit(act, c, SLOW, "start", op) for _ in range(2)]
            time.sleep(1)
            third = act(c, SLOW, "start", op)
            other = pool.submit(act, c, SLOW, "start", "admin")
            rs = [f.result() for f in mine] + [other.result()]
        assert third.status == 429 and third.headers.get("Retry-After"), third
        assert all(r.status == 200 for r in rs), rs
    finally:
        c.run("sh", "-ec", f"rm -f /etc/systemd/system/{SLOW}; systemctl daemon-reload")


# ---- events -------------------------------------------------------------------

def read_events(c, types, out, stop, token):
    conn = c.connection(timeout=60)
    conn.request("GET", f"/api/v1/events?types={types}", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    event = None
    while not stop.is_set():
        line = resp.fp.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event:
            out.put((event, json.loads(line[6:])))
    conn.close()


def events_until_active(q, unit, timeout=20):
    """The services events of unit read from q until one says it is active
    with its job done (or timeout s)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ev, data = q.get(timeout=1)
        except queue.Empty:
            continue
        if ev == "services" and data.get("name") == unit:
            seen.append(data)
            if data.get("active_state") == "active" and data.get("job_result") == "done":
                break
    return seen


@ct
def test_restart_shows_in_events(systemd_ct):
    c = systemd_ct
    q, stop = queue.Queue(), threading.Event()
    t = threading.Thread(target=read_events, args=(c, "services", q, stop, c.token("monitor")),
                         daemon=True)
    t.start()
    time.sleep(1)
    c.run("systemctl", "restart", LOGGER)
    seen = events_until_active(q, LOGGER)
    stop.set()
    assert seen and seen[-1]["active_state"] == "active", seen
    # coalesced: a restart is a handful of events, not two dozen
    assert len(seen) <= 4, seen


@ct
def test_events_survive_a_restart_of_the_system_bus(systemd_ct):
    """dbus-daemon restarted: the front's services thread connects again, says
    "reloaded" (what changed in between was not heard), and a unit's restart
    after it is an event again."""
    c = systemd_ct
    q, stop = queue.Queue(), threading.Event()
    threading.Thread(target=read_events, args=(c, "services", q, stop, c.token("monitor")),
                     daemon=True).start()
    time.sleep(1)
    c.run("systemctl", "restart", "dbus.service")
    try:
        seen_reload = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not seen_reload:
            try:
                ev, data = q.get(timeout=1)
            except queue.Empty:
                continue
            seen_reload = ev == "services" and data.get("manager") == "reloaded"
        assert seen_reload, "no reloaded event after the bus came back"
        c.run("systemctl", "restart", LOGGER)
        seen = events_until_active(q, LOGGER)
        assert seen and seen[-1]["active_state"] == "active", seen
        # and the API still reaches systemd
        r = c.https("GET", f"/api/v1/services/{LOGGER}", token="monitor")
        assert r.status == 200 and r.json["service"]["active_state"] == "active", r
    finally:
        stop.set()


# ---- the "done when" --------------------------------------------------

@ct
def test_done_when_an_admin_fixes_a_failed_service(systemd_ct):
    """Find the failed service, read why in its logs, give it Restart= by a
    planned drop-in, restart it, watch it come up live, roll the drop-in
    back: each change audited."""
    c = systemd_ct
    first = last_audit(c)
    first_id = first["id"] if first else 0
    # 1. find it
    r = c.https("GET", "/api/v1/services?state=failed", token="admin")
    assert FAIL in [u["name"] for u in r.json["services"]], r.json
    # 2. read why (the logs module, when it is there; the journal inside agrees)
    why = "cannot read /etc/steward-test/fail.conf"
    r = c.https("GET", f"/api/v1/services/{FAIL}", token="admin")
    logs = c.https("GET", r.json["service"]["logs"], token="admin")
    if logs.status == 200:
        assert any(why in e["message"] for e in logs.json["entries"]), logs.json
    assert why in c.journal("-u", FAIL, "-o", "cat")
    # 3. plan the drop-in (Restart=, and the environment that fixes it), then apply it
    body = {"restart": "on-failure", "restart_sec": 1, "environment": ["STEWARD_TEST_FIXED=1"]}
    plan = c.https("PATCH", f"/api/v1/services/{FAIL}?dry_run=1", body, token="admin")
    assert plan.status == 200 and "+Restart=on-failure" in plan.json["plan"]["files"][0]["diff"]
    assert c.show(FAIL, "Restart")["Restart"] == "no"
    r = c.https("PATCH", f"/api/v1/services/{FAIL}", body, token="admin")
    assert r.status == 200 and c.show(FAIL, "Restart")["Restart"] == "on-failure", r
    # 4. restart it while watching the events
    q, stop = queue.Queue(), threading.Event()
    threading.Thread(target=read_events, args=(c, "services", q, stop, c.token("admin")),
                     daemon=True).start()
    time.sleep(1)
    r = act(c, FAIL, "restart", role="admin")
    assert r.status == 200 and r.json["job_result"] == "done", r
    # 5. it comes up, live
    states = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "running" not in states:
        try:
            ev, data = q.get(timeout=1)
        except queue.Empty:
            continue
        if data.get("name") == FAIL:
            states.append(data.get("sub_state"))
    stop.set()
    assert "running" in states, states
    assert c.show(FAIL, "ActiveState")["ActiveState"] == "active"
    # 6. roll the drop-in back and restart: the service fails again
    rec = last_audit(c, "services:modify")
    r = c.https("POST", f"/api/v1/audit/{rec['id']}/rollback", {}, token="admin")
    assert r.status == 200 and c.show(FAIL, "Restart")["Restart"] == "no", r
    act(c, FAIL, "restart", role="admin")
    wait_for(lambda: c.show(FAIL, "ActiveState")["ActiveState"] == "failed", what="failed again")
    # each change audited, in order
    r = c.https("GET", "/api/v1/audit?module=services&limit=50", token="admin")
    ops = [x["operation"] for x in reversed(r.json["records"]) if x["id"] > first_id]
    assert ops[:4] == ["services:modify", "action:restart", "rollback", "action:restart"], ops


# ---- last: a reboot ---------------------------------------------------------------

@ct
def test_enable_and_disable_survive_a_reboot(systemd_ct):
    c = systemd_ct
    r = act(c, LOGGER, "disable")
    assert r.status == 200, r
    r = act(c, TICK, "disable")
    assert r.status == 200, r
    r = act(c, TICK, "enable")
    assert r.status == 200, r
    c.reboot()
    try:
        assert c.show(LOGGER, "UnitFileState", "ActiveState") == {
            "UnitFileState": "disabled", "ActiveState": "inactive"}
        assert c.show(TICK, "UnitFileState", "ActiveState") == {
            "UnitFileState": "enabled", "ActiveState": "active"}
        r = c.https("GET", f"/api/v1/services/{LOGGER}", token="monitor")
        assert r.json["service"]["unit_file_state"] == "disabled", r
    finally:
        assert act(c, LOGGER, "enable").status == 200
        assert act(c, LOGGER, "start", role="operator").status == 200

