"""The metrics history against a real daemon: the sampler fills the raw tier
from its first seconds, values agree with /proc, the query arguments are
parsed strictly, and the CLI draws the chart or prints the answer."""
import json
import time

import pytest


def history(d, query):
    return d.https("GET", "/api/v1/metrics/history?" + query)


def recent(points, n=5):
    return [p for p in points[-n:] if p[1] is not None]


@pytest.fixture
def sampled(daemon):
    time.sleep(3.2)
    return daemon


def test_series_list(daemon):
    r = daemon.https("GET", "/api/v1/metrics/series")
    assert r.status == 200, r
    units = {s["name"]: s["unit"] for s in r.json["series"]}
    assert units["cpu.busy"] == "percent"
    assert units["mem.used"] == "bytes"
    assert units["net.rx"] == "bytes_per_second"
    assert units["procs.running"] == "count"
    assert len(units) == 13
    assert r.json["tiers"] == [{"resolution": 1, "capacity": 3600, "stored": False},
                               {"resolution": 60, "capacity": 1440, "stored": False},
                               {"resolution": 60, "capacity": 43200, "stored": True},
                               {"resolution": 3600, "capacity": 17520, "stored": True}]


def test_cpu_busy_has_recent_points(sampled):
    r = history(sampled, "series=cpu.busy&range=1h")
    assert r.status == 200, r
    a = r.json
    assert (a["series"], a["unit"], a["range"], a["step"]) == ("cpu.busy", "percent", 3600, 4)
    pts = a["points"]
    assert len(pts) == 900
    times = [p[0] for p in pts]
    assert times == sorted(times) and times[1] - times[0] == 4
    assert abs(times[-1] - time.time()) < 10
    assert pts[0][1:] == [None, None, None]  # before the daemon started
    got = recent(pts, 2)
    assert got, pts[-3:]
    for t, avg, lo, hi in got:
        assert 0 <= lo <= avg <= hi <= 100


def test_raw_points_each_second(sampled):
    pts = history(sampled, "series=procs.running&range=10s&step=1").json["points"]
    assert len(pts) == 10
    assert len(recent(pts, 4)) >= 2
    for p in recent(pts, 4):
        assert p[1] == p[2] == p[3] >= 1


def test_minute_tier_in_progress(sampled):
    a = history(sampled, "series=load.1&range=2h").json
    assert a["step"] == 60 and len(a["points"]) == 120
    assert a["points"][-1][1] is not None or a["points"][-2][1] is not None


def test_mem_used_matches_meminfo(sampled):
    info = {}
    for line in open("/proc/meminfo"):
        k, v = line.split(":", 1)
        info[k] = int(v.split()[0]) * 1024
    used = info["MemTotal"] - info["MemAvailable"]
    pts = recent(history(sampled, "series=mem.used&range=60s&step=1").json["points"])
    assert pts
    assert abs(pts[-1][1] - used) < max(64 << 20, used * 0.1), (pts[-1], used)


@pytest.mark.parametrize("query,field", [
    ("series=cpu.bogus", "series"),
    ("range=1h", "series"),
    ("series=cpu.busy&range=1h5", "range"),
    ("series=cpu.busy&range=-1h", "range"),
    ("series=cpu.busy&range=0s", "range"),
    ("series=cpu.busy&range=3y", "range"),
    ("series=cpu.busy&range=731d", "range"),
    ("series=cpu.busy&range=1w", "range"),
    ("series=cpu.busy&range=31d&step=60", "step"),
    ("series=cpu.busy&range=99999999999999999999h", "range"),
    ("series=cpu.busy&step=7", "step"),
    ("series=cpu.busy&step=0", "step"),
    ("series=cpu.busy&step=+60", "step"),
    ("series=cpu.busy&range=2h&step=30", "step"),
])
def test_bad_arguments(daemon, query, field):
    r = history(daemon, query)
    assert r.status == 400, r
    assert r.json["error"]["code"] == "invalid_argument", r.json
    assert r.json["error"].get("field", field) == field
    if field == "series":
        assert "cpu.busy" in r.json["error"]["message"]
        assert "disk.write" in r.json["error"]["message"]
    else:
        assert "1h" in r.json["error"]["message"] or "seconds" in r.json["error"]["message"]
    if field == "range":
        assert "2y" in r.json["error"]["message"]


def test_cli_chart_and_json(sampled):
    p = sampled.cli("history", "cpu.busy", "60s", env={"COLUMNS": "100"}, check=0)
    lines = p.stdout.splitlines()
    assert len(lines) == 9, p.stdout
    assert any(c in p.stdout for c in "▁▂▃▄▅▆▇█")
    assert "cpu.busy" in lines[-1] and "min" in lines[-1] and "max" in lines[-1]
    assert all(len(l) <= 100 for l in lines[:-1])

    p = sampled.cli("--json", "history", "mem.used", "2m", "--step", "10", check=0)
    a = json.loads(p.stdout)
    assert a["series"] == "mem.used" and a["step"] == 10 and len(a["points"]) == 12

    p = sampled.cli("status", "system", "--history", "cpu", "5m", check=0)
    assert "cpu.busy" in p.stdout.splitlines()[-1]

    sampled.cli("history", "cpu.bogus", check=1)
    sampled.cli("history", check=2)
    sampled.cli("status", "system", "--history", "disk", check=2)


@pytest.mark.parametrize("rng,step,tier_step", [
    ("25h", None, 60), ("7d", None, 60), ("30d", None, 60), ("1y", None, 3600), ("2y", None, 3600),
    ("7d", "3600", 3600),
])
def test_long_ranges_from_the_store(daemon, rng, step, tier_step):
    r = history(daemon, f"series=cpu.busy&range={rng}" + (f"&step={step}" if step else ""))
    assert r.status == 200, r
    a = r.json
    assert a["step"] % tier_step == 0
    assert len(a["points"]) == a["range"] // a["step"] <= 1000
    times = [p[0] for p in a["points"]]
    assert times == sorted(times) and abs(times[-1] - time.time()) < a["step"] + 5


def test_restart_keeps_history(make_daemon):
    """The minute in progress goes to the helper's store at shutdown; the
    next daemon refills its day from there and the stored tiers answer too."""
    d = make_daemon()
    time.sleep(3.2)
    before = history(d, "series=procs.running&range=2h").json["points"]
    assert recent(before, 2), before[-2:]
    assert d.stop() == 0
    d.start()
    for query in ("series=procs.running&range=2h", "series=procs.running&range=7d",
                  "series=procs.running&range=2y"):
        pts = history(d, query).json["points"]
        got = [p for p in pts if p[1] is not None]
        assert got, (query, pts[-3:])
        for t, avg, lo, hi in got:
            assert 1 <= lo <= avg <= hi
