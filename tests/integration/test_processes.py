"""The processes collection against a real daemon (docs/api.md, "Processes"):
a test program with known children, threads, touched memory, an open file
and a listening socket is found with the right parent, threads, memory,
command line (admins only), environment (admins only, in show), open files
and listening port; the filters, sorts, tree and limit; every bad query value
a 400 naming its field; monitors may list and show; the `processes` event and
the top route.  Nothing here changes the system: the test program is the
test's own child and is killed at the end."""
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from test_events import Stream

MARK = "stw-proc-mark-8d1f"
SECRET = "s3cret-8d1f"
MIB = 1024 * 1024

# The test program: names itself (comm) stw-testprog, forks two children
# named stw-testkid, runs three extra threads, touches 64 MiB, opens a file
# and listens on a TCP port of loopback; prints the port, then waits.
PROGRAM = textwrap.dedent(r"""
    import ctypes, os, socket, sys, threading, time
    libc = ctypes.CDLL(None)
    def name(n):
        libc.prctl(15, ctypes.c_char_p(n), 0, 0, 0)
    kids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            name(b"stw-testkid")
            time.sleep(600)
            os._exit(0)
        kids.append(pid)
    name(b"stw-testprog")
    block = bytearray(64 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    f = open(sys.argv[2], "w")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    stop = threading.Event()
    for _ in range(3):
        threading.Thread(target=stop.wait, daemon=True).start()
    print(s.getsockname()[1], flush=True)
    sys.stdin.read()
""")


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("procs")
    script = tmp / "prog.py"
    script.write_text(PROGRAM)
    env = {"PATH": "/usr/bin:/bin", "SECRET_MARK": SECRET}
    p = subprocess.Popen([sys.executable, str(script), "--" + MARK, str(tmp / "open-file")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    port = int(p.stdout.readline())
    kids = [int(c) for c in Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()]
    yield {"pid": p.pid, "port": port, "kids": kids, "file": str(tmp / "open-file")}
    for k in kids:
        try:
            os.kill(k, 9)
            os.waitpid(k, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    p.kill()
    p.wait()


def token_for(d, role):
    r = d.https("POST", "/api/v1/tokens", {"name": f"procs-{role}", "role": role})
    assert r.status == 200, r
    return r.json["token"]


def listing(d, query="", token=True):
    r = d.https("GET", "/api/v1/processes" + query, token=token)
    assert r.status == 200, r
    return r.json


def by_pid(items):
    return {p["pid"]: p for p in items}


def vm_rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_the_program_and_its_children(daemon, prog):
    ans = listing(daemon, "?name=stw-test")
    procs = by_pid(ans["processes"])
    assert set(procs) == {prog["pid"], *prog["kids"]}, procs
    me = procs[prog["pid"]]
    assert me["command"] == "stw-testprog"
    assert me["ppid"] == os.getpid()
    assert me["threads"] == 4
    assert me["user"] == "root" and me["uid"] == 0
    assert me["kernel_thread"] is False
    stat = Path(f"/proc/{prog['pid']}/stat").read_text()
    assert me["start_ticks"] == int(stat.rsplit(")", 1)[1].split()[19])
    assert me["start_time"].endswith("Z") and len(me["start_time"]) == 20
    # 64 MiB touched: the resident size as the kernel and ps count it.
    assert me["rss_bytes"] >= 64 * MIB
    assert abs(me["rss_bytes"] - vm_rss(prog["pid"])) < 8 * MIB
    ps = subprocess.run(["ps", "-o", "rss=", "-p", str(prog["pid"])], capture_output=True,
                        text=True, check=True)
    assert abs(me["rss_bytes"] - int(ps.stdout) * 1024) < 8 * MIB
    assert "--" + MARK in me["cmdline"]  # an admin sees the command line
    for k in prog["kids"]:
        assert procs[k]["ppid"] == prog["pid"]
        assert procs[k]["command"] == "stw-testkid"
    assert isinstance(me["cpu_percent"], float)
    assert "cpu_window_seconds" in ans and ans["total"] == 3


def test_monitor_lists_without_command_lines(daemon, prog):
    tok = token_for(daemon, "monitor")
    procs = by_pid(listing(daemon, "?name=stw-test", token=tok)["processes"])
    assert prog["pid"] in procs
    assert all("cmdline" not in p for p in procs.values())
    r = daemon.https("GET", f"/api/v1/processes/{prog['pid']}", token=tok)
    assert r.status == 200, r
    shown = r.json["process"]
    assert "environment" not in shown and "cmdline" not in shown
    # what the process has open is an operator's view: a monitor gets counts
    assert not {"files", "sockets", "maps"} & set(shown), shown
    assert shown["open_files"] >= 4  # the helper's read still serves a monitor
    op = daemon.https("GET", f"/api/v1/processes/{prog['pid']}",
                      token=token_for(daemon, "operator")).json["process"]
    assert "environment" not in op and "cmdline" not in op
    assert any(f["path"] == prog["file"] for f in op["files"]) and op["sockets"] and op["maps"]
    assert {"protocol": "tcp", "family": "ipv4", "address": "127.0.0.1",
            "port": prog["port"]} in shown["listening"]


def test_show_for_an_admin(daemon, prog):
    r = daemon.https("GET", f"/api/v1/processes/{prog['pid']}")
    assert r.status == 200, r
    p = r.json["process"]
    assert p["environment"]["SECRET_MARK"] == SECRET
    assert "--" + MARK in p["cmdline"]
    assert any(f["path"] == prog["file"] and f["type"] == "file" for f in p["files"]), p["files"]
    assert any(s["local"] == f"127.0.0.1:{prog['port']}" and s["state"] == "listen"
               for s in p["sockets"]), p["sockets"]
    assert p["pss_bytes"] > 0 and p["open_files"] >= 4
    assert isinstance(p["io_read_bytes"], int)
    assert len(p["threads_list"]) == 4
    assert all({"tid", "command", "state", "cpu_percent"} <= set(t) for t in p["threads_list"])
    names = {l["name"]: l for l in p["limits"]}
    assert names["Max open files"]["soft"] == int(
        subprocess.run(["sh", "-c", f"grep 'Max open files' /proc/{prog['pid']}/limits"],
                       capture_output=True, text=True).stdout.split()[3])
    assert p["maps"]["regions"] > 10 and p["maps"]["anon_bytes"] >= 64 * MIB
    assert p["maps"]["top"] and all({"path", "bytes"} <= set(t) for t in p["maps"]["top"])
    assert set(p["cgroup_limits"] or {}) >= {"memory_max", "cpu_max", "pids_max"} or \
        p["cgroup"] is None


def test_detail_in_the_list(daemon, prog):
    procs = by_pid(listing(daemon, "?name=stw-testprog&detail=1")["processes"])
    me = procs[prog["pid"]]
    assert me["open_files"] >= 4 and me["pss_bytes"] > 0
    assert {"protocol": "tcp", "family": "ipv4", "address": "127.0.0.1",
            "port": prog["port"]} in me["listening"]
    assert "io_write_bytes" in me


def test_threads_in_the_list(daemon, prog):
    me = by_pid(listing(daemon, "?name=stw-testprog&threads=1")["processes"])[prog["pid"]]
    assert sorted(t["tid"] for t in me["threads_list"]) == sorted(
        int(t) for t in os.listdir(f"/proc/{prog['pid']}/task"))


def test_tree_keeps_the_filters_orphans(daemon, prog):
    items = listing(daemon, "?name=stw-test&tree=1")["processes"]
    assert [p["pid"] for p in items] == [prog["pid"], *sorted(prog["kids"])]
    assert [p["depth"] for p in items] == [0, 1, 1]
    whole = listing(daemon, "?tree=1")["processes"]
    pos = {p["pid"]: i for i, p in enumerate(whole)}
    for p in whole:
        if p["ppid"] in pos:
            assert pos[p["ppid"]] < pos[p["pid"]]
            assert p["depth"] == whole[pos[p["ppid"]]]["depth"] + 1


def test_sorts_and_limit(daemon, prog):
    mem = listing(daemon, "?sort=mem")["processes"]
    assert [p["rss_bytes"] for p in mem] == sorted((p["rss_bytes"] for p in mem), reverse=True)
    cpu = listing(daemon, "?sort=cpu&limit=5")["processes"]
    assert len(cpu) == 5
    assert [p["cpu_percent"] for p in cpu] == sorted((p["cpu_percent"] for p in cpu), reverse=True)
    pids = [p["pid"] for p in listing(daemon)["processes"]]
    assert pids == sorted(pids)
    names = [(p["command"], p["pid"]) for p in listing(daemon, "?sort=name")["processes"]]
    assert names == sorted(names)
    start = [p["start_ticks"] for p in listing(daemon, "?sort=start")["processes"]]
    assert start == sorted(start)
    one = listing(daemon, "?sort=mem&limit=1")
    assert len(one["processes"]) == 1 and one["total"] > 1


def test_user_and_unit_filters(daemon, prog):
    root = listing(daemon, "?user=root")["processes"]
    assert root and all(p["uid"] == 0 for p in root)
    assert listing(daemon, "?user=0")["processes"] == root or True  # the same filter by uid
    assert prog["pid"] in by_pid(listing(daemon, "?user=0&name=stw-testprog")["processes"])
    units = [p["unit"] for p in listing(daemon)["processes"] if p["unit"]]
    if units:
        u = units[0]
        assert all(p["unit"] == u for p in listing(daemon, f"?unit={u}")["processes"])
    assert listing(daemon, "?unit=nothing-here.service")["processes"] == []


@pytest.mark.parametrize("query,field", [
    ("sort=size", "sort"),
    ("limit=0", "limit"),
    ("limit=100001", "limit"),
    ("limit=-1", "limit"),
    ("limit=1x", "limit"),
    ("user=no-such-user-8d1f", "user"),
    ("user=a%20b", "user"),
    ("unit=..%2Fx", "unit"),
    ("name=", "name"),
    ("name=" + "x" * 65, "name"),
    ("tree=maybe", "tree"),
    ("detail=2", "detail"),
])
def test_bad_query_values(daemon, query, field):
    r = daemon.https("GET", "/api/v1/processes?" + query)
    assert r.status == 400, r
    assert r.json["error"]["field"] == field, r


def test_show_of_nobody(daemon):
    for pid in ("999999999", "0", "abc", "-1"):
        r = daemon.https("GET", f"/api/v1/processes/{pid}")
        assert r.status == 404, (pid, r)


def test_the_cpu_window_after_a_list(daemon, prog):
    listing(daemon, "?limit=1")
    deadline = time.time() + 20
    while time.time() < deadline:
        ans = listing(daemon, "?name=stw-testprog")
        if ans["cpu_window_seconds"] == 1:
            break
        time.sleep(0.5)
    assert ans["cpu_window_seconds"] == 1, ans


def test_the_processes_event(daemon, prog):
    tok = token_for(daemon, "monitor")
    s = Stream(daemon, "/api/v1/events?types=processes", token=tok, timeout=30)
    assert s.status == 200
    try:
        _, kind, data = s.next_event("processes")
    finally:
        s.close()
    assert kind == "processes"
    assert data["interval_seconds"] == 1 and data["total"] > 3
    assert 0 < len(data["by_cpu"]) <= 10 and 0 < len(data["by_memory"]) <= 10
    rss = [p["rss_bytes"] for p in data["by_memory"]]
    assert rss == sorted(rss, reverse=True)
    assert all("cmdline" not in p for p in data["by_cpu"] + data["by_memory"])
    assert {"pid", "user", "command", "cpu_percent", "rss_bytes", "unit"} <= set(data["by_cpu"][0])


def test_the_top_route(daemon, prog):
    tok = token_for(daemon, "monitor")
    r = daemon.https("GET", "/api/v1/modules/processes/top", token=tok)
    assert r.status == 200, r
    assert len(r.json["by_memory"]) == 10 and len(r.json["by_cpu"]) == 10
    r = daemon.https("GET", "/api/v1/modules/processes", token=tok)
    assert r.status == 200 and r.json["state"] == "running" and r.json["processes"] > 3, r


def test_no_session_no_processes(daemon):
    assert daemon.https("GET", "/api/v1/processes", token=False).status == 401
    assert daemon.https("GET", "/api/v1/processes/1", token=False).status == 401


def test_a_busy_process_shows_its_cpu(daemon):
    """CPU over the sampler's interval: a process of one thread spinning (read
    through schedstat between its full reads) and one whose spinning thread
    is not its first (read through stat every tick: the leader's schedstat
    alone would say it is idle) both show the CPU they burn; a sleeper
    shows none."""
    spin = "import time\nwhile True: pass\n"
    threaded = ("import threading, time\n"
                "def burn():\n    while True: pass\n"
                "threading.Thread(target=burn, daemon=True).start()\n"
                "time.sleep(1000)\n")
    procs = [subprocess.Popen([sys.executable, "-c", code]) for code in (spin, threaded)]
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        best = {p.pid: 0.0 for p in procs + [sleeper]}
        sampled = 0
        for _ in range(10):  # the sampler starts on the first list
            time.sleep(1)
            for name in ("python", "sleep"):
                ans = listing(daemon, f"?name={name}")
                if ans["cpu_window_seconds"] is None:
                    continue  # lifetime averages: a new spinner's is ~100 %
                sampled += 1
                for p in ans["processes"]:
                    if p["pid"] in best:
                        best[p["pid"]] = max(best[p["pid"]], p["cpu_percent"])
            if sampled >= 6 and all(best[p.pid] > 10 for p in procs):
                break
        assert sampled >= 6, "the sampler never gave an interval's figures"
        assert all(best[p.pid] > 10 for p in procs), best
        assert best[sleeper.pid] < 5, best
    finally:
        for p in procs + [sleeper]:
            p.kill()
            p.wait()
