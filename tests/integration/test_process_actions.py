"""The processes collection's item actions (POST /api/v1/processes/{pid}/signal
and /renice) against a real daemon in private mount namespaces over a
scratch /etc (accounts for the roles): signals reach a test child (STOP,
CONT, TERM), renice reaches every thread, the guards refuse PID 1, kernel
threads and Steward's own processes whatever the role, operators act only
on their own account's processes, a pid whose process changed is refused
(409) and never signalled, dry runs change nothing, every refusal is in the
audit log, and the CLI's kill and renice verbs."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_user

pytestmark = pytest.mark.namespaces

# A daemon over a scratch /etc and /home (test_users.py's fixture).
from test_users import ud as pd  # noqa: E402,F401


def stat_fields(pid):
    """/proc/PID/stat's fields after the command, numbered as proc(5) does
    (3: state, 19: nice, 22: start time)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    rest = text[text.rindex(")") + 2:].split()
    return {i + 3: v for i, v in enumerate(rest)}


def state_of(pid):
    try:
        return stat_fields(pid)[3]
    except OSError:
        return None


def start_ticks(pid):
    return int(stat_fields(pid)[22])


def wait_state(pid, want, timeout=10):
    """Waits until the process's state is one of want (no timing is
    asserted: the deadline only ends a hung test)."""
    deadline = time.monotonic() + timeout
    while state_of(pid) not in want:
        assert time.monotonic() < deadline, (pid, state_of(pid), want)
        time.sleep(0.02)


@pytest.fixture
def child():
    """A sleeping child of the test (root's), killed at the end."""
    procs = []

    def make(argv=("sleep", "1000"), uid=None, gid=None):
        if uid is not None:
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
                    *argv]
        p = subprocess.Popen(list(argv))
        procs.append(p)
        # setpriv execs the command: wait until the pid runs it
        deadline = time.monotonic() + 10
        while Path(f"/proc/{p.pid}/comm").read_text().strip() == "setpriv":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return p

    yield make
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def token(d, role):
    r = d.https("POST", "/api/v1/tokens", {"name": f"t-{role}", "role": role})
    assert r.status == 200, r
    return r.json["token"]


def login(d, user, password):
    r = d.https("POST", "/api/v1/login", {"user": user, "password": password}, token=False)
    assert r.status == 200, r
    return r.json["token"]


def act(d, pid, action, args, token=True, query=""):
    return d.https("POST", f"/api/v1/processes/{pid}/{action}{query}", args, token=token)


def records(d):
    return d.https("GET", "/api/v1/audit?limit=500").json["records"]


def action_records(d, pid, action="signal"):
    return [r for r in records(d)
            if r["module"] == "processes" and r["operation"] == f"action:{action}"
            and r["args"].get("id") == str(pid)]


def account(d, name):
    for line in (d.etc / "passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == name:
            return int(f[2]), int(f[3])
    raise AssertionError(name)


# ---- signals and renice reach the process ---------------------------------------

def test_stop_cont_term_reach_the_child(pd, child):
    d = pd
    p = child()
    r = act(d, p.pid, "signal", {"signal": "STOP"})
    assert r.status == 200, r
    assert r.json["delivered"] is True and r.json["signal"] == "STOP"
    assert r.json["process"]["pid"] == p.pid
    assert r.json["process"]["start_ticks"] == start_ticks(p.pid)
    wait_state(p.pid, {"T"})
    r = act(d, p.pid, "signal", {"signal": "CONT", "start_ticks": start_ticks(p.pid)})
    assert r.status == 200, r
    wait_state(p.pid, {"S", "R"})
    r = act(d, p.pid, "signal", {"signal": "TERM"})
    assert r.status == 200, r
    assert p.wait(timeout=10) == -signal.SIGTERM
    # the answer shows the process after it: gone, or a zombie until reaped
    assert r.json["process"] is None or r.json["process"]["state"] == "Z", r.json
    recs = action_records(d, p.pid)
    assert [x["result"] for x in recs] == ["ok", "ok", "ok"], recs
    assert {x["args"]["args"]["signal"] for x in recs} == {"STOP", "CONT", "TERM"}


def test_renice_reaches_every_thread(pd, child):
    d = pd
    code = "import threading,time\n" \
           "[threading.Thread(target=time.sleep, args=(1000,), daemon=True).start() for _ in range(3)]\n" \
           "time.sleep(1000)\n"
    p = child((sys.executable, "-c", code))
    deadline = time.monotonic() + 10
    while len(os.listdir(f"/proc/{p.pid}/task")) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    r = act(d, p.pid, "renice", {"nice": 7})
    assert r.status == 200, r
    assert r.json["nice"] == 7 and r.json["previous_nice"] == 0 and r.json["threads"] == 4
    tids = os.listdir(f"/proc/{p.pid}/task")
    assert {Path(f"/proc/{p.pid}/task/{t}/stat").read_text().rsplit(")", 1)[1].split()[16]
            for t in tids} == {"7"}
    assert r.json["process"]["nice"] == 7
    # an admin may lower it again
    assert act(d, p.pid, "renice", {"nice": -3}).status == 200
    assert stat_fields(p.pid)[19] == "-3"


# ---- guards, for every role ---------------------------------------------------------

def guarded_pids(d):
    kthreads = Path("/proc/2/task/2/children").read_text().split()
    return {
        "init": 1,
        "kthreadd": 2,
        "a kernel thread": int(kthreads[0]),
        "stewardd": d.proc.pid,
        "the front": d.front_pid(),
    }


def test_guards_refuse_and_audit(pd):
    d = pd
    for what, pid in guarded_pids(d).items():
        for args in ({"signal": "STOP"}, {"signal": "KILL"}):
            r = act(d, pid, "signal", args)
            assert r.status == 403, (what, r)
            assert r.json["error"]["code"] == "forbidden", (what, r)
        r = act(d, pid, "renice", {"nice": 19})
        assert r.status == 403, (what, r)
        # a dry run is refused alike, and its refusal audited too
        assert act(d, pid, "signal", {"signal": "TERM"}, query="?dry_run=1").status == 403
        assert state_of(pid) not in (None, "T", "t", "Z"), what
        recs = action_records(d, pid)
        assert len(recs) == 3 and {x["result"] for x in recs} == {"refused"}, (what, recs)
        assert len(action_records(d, pid, "renice")) == 1, what
    assert "Steward" in act(d, d.proc.pid, "signal", {"signal": "TERM"}).json["error"]["message"]
    assert "kernel thread" in act(d, 2, "signal", {"signal": "TERM"}).json["error"]["message"]
    # the daemon still answers: nothing reached it
    assert d.https("GET", "/api/v1/whoami").status == 200


def test_a_thread_id_is_not_a_process(pd, child):
    """/proc/TID answers for a thread too: an action on a thread's id is
    refused as no process (signals go to whole processes)."""
    d = pd
    code = "import threading,time\n" \
           "threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n" \
           "time.sleep(1000)\n"
    p = child((sys.executable, "-c", code))
    deadline = time.monotonic() + 10
    while len(os.listdir(f"/proc/{p.pid}/task")) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    tid = next(int(t) for t in os.listdir(f"/proc/{p.pid}/task") if int(t) != p.pid)
    r = act(d, tid, "signal", {"signal": "STOP"})
    assert r.status == 404, r
    assert state_of(p.pid) == "S"


# ---- roles ----------------------------------------------------------------------------

def test_roles(pd, child):
    d = pd
    make_user(d, "ann", "Ann-pw-1", ["steward-operator"])
    uid, gid = account(d, "ann")
    ann = login(d, "ann", "Ann-pw-1")
    own = child(uid=uid, gid=gid)
    roots = child()
    monitor = token(d, "monitor")

    # a monitor may not act at all: refused at the helper's door, audited
    r = act(d, own.pid, "signal", {"signal": "STOP"}, token=monitor)
    assert r.status == 403 and "operator" in r.json["error"]["message"], r
    refused = [x for x in records(d) if x["result"] == "refused" and x["user"] == "t-monitor"
               or x["result"] == "refused" and f"/processes/{own.pid}/signal" in json.dumps(x)]
    assert len(refused) == 1, refused

    # an operator: another user's process (root's) is refused
    r = act(d, roots.pid, "signal", {"signal": "STOP"}, token=ann)
    assert r.status == 403 and "admin" in r.json["error"]["message"], r
    assert state_of(roots.pid) == "S"
    assert action_records(d, roots.pid)[0]["result"] == "refused"
    assert action_records(d, roots.pid)[0]["user"] == "ann"

    # … their own is theirs
    r = act(d, own.pid, "signal", {"signal": "STOP"}, token=ann)
    assert r.status == 200, r
    wait_state(own.pid, {"T"})
    assert act(d, own.pid, "signal", {"signal": "CONT"}, token=ann).status == 200
    wait_state(own.pid, {"S", "R"})

    # renice: raising nice is theirs, lowering it is an admin's
    assert act(d, own.pid, "renice", {"nice": 10}, token=ann).status == 200
    r = act(d, own.pid, "renice", {"nice": 5}, token=ann)
    assert r.status == 403 and r.json["error"]["field"] == "nice", r
    assert stat_fields(own.pid)[19] == "10"
    assert act(d, own.pid, "renice", {"nice": 5}).status == 200
    assert stat_fields(own.pid)[19] == "5"

    # an admin acts on anyone's
    assert act(d, own.pid, "signal", {"signal": "TERM"}).status == 200
    assert own.wait(timeout=10) == -signal.SIGTERM


def test_setuid_power_is_not_the_operators(pd, child):
    """A process whose real uid is the operator's but which runs with
    another user's power (effective or saved uid) is refused."""
    d = pd
    make_user(d, "ann", "Ann-pw-1", ["steward-operator"])
    uid, gid = account(d, "ann")
    ann = login(d, "ann", "Ann-pw-1")
    # real uid ann, effective and saved root: what a set-uid program has
    code = f"import os; os.setresuid({uid}, 0, 0); os.execvp('sleep', ['sleep', '1000'])"
    p = child((sys.executable, "-c", code))
    deadline = time.monotonic() + 10
    while Path(f"/proc/{p.pid}/comm").read_text().strip() != "sleep":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    status = Path(f"/proc/{p.pid}/status").read_text()
    uids = next(l.split()[1:] for l in status.splitlines() if l.startswith("Uid:"))
    assert uids[0] == str(uid) and uids[1] == "0", uids
    r = act(d, p.pid, "signal", {"signal": "STOP"}, token=ann)
    assert r.status == 403, r
    assert state_of(p.pid) == "S"


# ---- the process the caller saw ------------------------------------------------------

def test_changed_process_is_never_signalled(pd, child):
    """A pid cannot be made to be reused on demand; what the check guards
    against is simulated: the caller's start_ticks are another process's."""
    d = pd
    old = child()
    # the caller lists the processes and keeps the pid and start_ticks
    listed = d.https("GET", "/api/v1/processes?name=sleep").json["processes"]
    old_pid, old_ticks = old.pid, next(p["start_ticks"] for p in listed if p["pid"] == old.pid)
    assert old_ticks == start_ticks(old.pid)
    old.kill()
    old.wait()
    # the old pid: no such process now
    r = act(d, old_pid, "signal", {"signal": "STOP", "start_ticks": old_ticks})
    assert r.status in (404, 409), r
    new = child()
    if new.pid == old_pid:  # reused after all: the check below covers it
        pass
    # the new process under a pid, with start_ticks the caller saw earlier
    # for another process: 409, and it is not touched
    stale = old_ticks if start_ticks(new.pid) != old_ticks else old_ticks - 1
    r = act(d, new.pid, "signal", {"signal": "STOP", "start_ticks": stale})
    assert r.status == 409, r
    assert r.json["error"]["code"] == "process_changed"
    assert state_of(new.pid) == "S"
    r = act(d, new.pid, "renice", {"nice": 12, "start_ticks": stale})
    assert r.status == 409, r
    assert stat_fields(new.pid)[19] == "0"
    assert action_records(d, new.pid)[0]["result"] == "error"


# ---- dry runs and bad requests ----------------------------------------------------------

def test_dry_run_changes_nothing(pd, child):
    d = pd
    p = child()
    n = len(records(d))
    r = act(d, p.pid, "signal", {"signal": "STOP"}, query="?dry_run=1")
    assert r.status == 200, r
    assert r.json["delivered"] is False and r.json["signal"] == "STOP"
    assert r.json["plan"]["commands"] == [] and r.json["plan"]["warnings"] == []
    assert r.json["process"]["pid"] == p.pid
    r = act(d, p.pid, "renice", {"nice": 15}, query="?dry_run=1")
    assert r.status == 200 and r.json["nice"] == 15 and r.json["previous_nice"] == 0, r
    assert state_of(p.pid) == "S" and stat_fields(p.pid)[19] == "0"
    assert len(records(d)) == n


def test_bad_requests(pd, child):
    d = pd
    p = child()
    for bad in ("QUIT", "SIGTERM", "term", "", 9, None):
        r = act(d, p.pid, "signal", {"signal": bad})
        assert r.status == 422 and r.json["error"]["field"] == "signal", (bad, r)
    assert act(d, p.pid, "signal", {}).status == 422
    assert act(d, p.pid, "signal", {"signal": "TERM", "extra": 1}).status == 422
    assert act(d, p.pid, "signal", {"signal": "TERM", "start_ticks": -1}).status == 422
    for nice in (-21, 20, "5", 1.5):
        assert act(d, p.pid, "renice", {"nice": nice}).status == 422, nice
    for pid in ("abc", "0", "01", "-1", "99999999", "self"):
        r = act(d, pid, "signal", {"signal": "TERM"})
        assert r.status == 404, (pid, r)
    assert act(d, 4194304, "signal", {"signal": "TERM"}).status == 404
    assert state_of(p.pid) == "S"
    assert not [x for x in records(d) if x["module"] == "processes" and x["result"] == "ok"]


# ---- the command line ---------------------------------------------------------------------

def test_cli_kill_and_renice(pd, child):
    d = pd
    p = child()
    out = d.cli("kill", "-s", "STOP", "--dry-run", str(p.pid), check=0).stdout
    assert f"Would send STOP to PID {p.pid} (sleep, root)" in out and "dry run" in out, out
    assert state_of(p.pid) == "S"
    out = d.cli("kill", "-s", "sigstop", str(p.pid), check=0).stdout
    assert f"Sent STOP to PID {p.pid} (sleep, root): state T" in out, out
    out = d.cli("kill", "-18", str(p.pid), check=0).stdout
    assert "Sent CONT" in out, out
    wait_state(p.pid, {"S", "R"})
    out = d.cli("--json", "renice", "-n", "-2", str(p.pid), check=0).stdout
    assert json.loads(out)["nice"] == -2
    assert stat_fields(p.pid)[19] == "-2"
    for sig in ("QUIT", "SIGSEGV", "3", "64"):
        e = d.cli("kill", "-s", sig, str(p.pid), check=2).stderr
        assert "not one of" in e, e
    d.cli("kill", "notapid", check=2)
    e = d.cli("kill", "1", check=1).stderr
    assert "init" in e, e
    out = d.cli("kill", "-9", str(p.pid), check=0).stdout
    assert "Sent KILL" in out
    assert p.wait(timeout=10) == -signal.SIGKILL


def test_cli_ps(pd, child):
    d = pd
    p = child(("sleep", "1001"))
    out = d.cli("ps", "--name", "sleep", check=0).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["PID", "USER", "S", "CPU", "RSS", "SWAP", "THR", "NI", "START",
                                "UNIT", "COMMAND"], lines[0]
    row = next(l for l in lines if l.split()[0] == str(p.pid))
    # human units: a CPU share and a size with their units, a start time
    assert " %" in row and ("KiB" in row or "MiB" in row), row
    assert row.split()[1] == "root" and row.split()[-1] == "sleep", row
    # the tree: the child indented under this test's process
    out = d.cli("ps", "--tree", check=0).stdout
    row = next(l for l in out.splitlines() if l.split()[0] == str(p.pid))
    assert "\\_ sleep" in row, row
    out = d.cli("ps", "--detail", "-u", "root", "-n", "3", "--sort", "mem", check=0).stdout
    assert out.splitlines()[0].split()[-4:] == ["PSS", "FILES", "LISTEN", "COMMAND"], out
    assert len(out.splitlines()) == 4, out
    got = json.loads(d.cli("--json", "ps", "--name", "sleep", check=0).stdout)
    assert p.pid in [x["pid"] for x in got["processes"]]
    for bad in (["--sort", "rss"], ["-n", "0"], ["-n", "x"], ["extra"]):
        d.cli("ps", *bad, check=2)


def test_operator_may_not_lower_any_thread(pd, child):
    """A thread reniced on its own counts: an operator's renice that would
    lower its nice (raise its priority) is an admin's."""
    d = pd
    make_user(d, "ann", "Ann-pw-1", ["steward-operator"])
    uid, gid = account(d, "ann")
    ann = login(d, "ann", "Ann-pw-1")
    code = "import threading,time\n" \
           "threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n" \
           "time.sleep(1000)\n"
    p = child((sys.executable, "-c", code), uid=uid, gid=gid)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{p.pid}/comm").read_text().strip() == "setpriv" or \
            len(os.listdir(f"/proc/{p.pid}/task")) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    tid = next(int(t) for t in os.listdir(f"/proc/{p.pid}/task") if int(t) != p.pid)
    os.setpriority(os.PRIO_PROCESS, tid, 15)
    r = act(d, p.pid, "renice", {"nice": 10}, token=ann)
    assert r.status == 403 and r.json["error"]["field"] == "nice", r
    assert os.getpriority(os.PRIO_PROCESS, tid) == 15
    assert act(d, p.pid, "renice", {"nice": 16}, token=ann).status == 200
    assert {os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir(f"/proc/{p.pid}/task")} == {16}


# ---- under a real systemd (the booted container of systemd_ct.py) ------------------------

@pytest.mark.systemd
def test_a_services_main_process_gets_the_units_action_as_a_warning(systemd_ct):
    """A dry run on a service's main process warns that the unit has its
    own action; on a process that main process started, it does not."""
    ct = systemd_ct
    unit = "steward-test-sleeper.service"
    ct.run("systemd-run", f"--unit={unit}", "--", "/bin/sh", "-c", "sleep 1000 & exec sleep 1001")
    try:
        deadline = time.monotonic() + 30
        while True:
            main = int(ct.show(unit, "MainPID")["MainPID"])
            kids = ct.run("pgrep", "-P", str(main), "-x", "sleep", check=False).stdout.split()
            if main and kids:
                break
            assert time.monotonic() < deadline, (main, kids)
            time.sleep(0.1)
        r = ct.https("POST", f"/api/v1/processes/{main}/signal?dry_run=1", {"signal": "TERM"},
                     token="admin")
        assert r.status == 200, r
        assert r.json["process"]["unit"] == unit
        assert len(r.json["plan"]["warnings"]) == 1, r.json
        assert f"steward services restart {unit}" in r.json["plan"]["warnings"][0]
        r = ct.https("POST", f"/api/v1/processes/{kids[0]}/signal?dry_run=1", {"signal": "TERM"},
                     token="admin")
        assert r.status == 200 and r.json["process"]["unit"] == unit, r
        assert r.json["plan"]["warnings"] == [], r.json
        out = ct.cli("kill", "--dry-run", str(main), check=0)
        assert f"steward: warning: PID {main} is the main process of {unit}" in out.stderr, out
        assert "nothing done (dry run)" in out.stdout, out
        # the warning comes with the signal too, which is delivered
        r = ct.https("POST", f"/api/v1/processes/{main}/signal", {"signal": "TERM"}, token="admin")
        assert r.status == 200 and r.json["delivered"] is True, r
        assert "main process" in r.json["plan"]["warnings"][0]
    finally:
        ct.run("systemctl", "stop", unit, check=False)
        ct.run("systemctl", "reset-failed", unit, check=False)
