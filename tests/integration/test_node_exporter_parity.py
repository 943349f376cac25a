"""node_exporter parity: Debian's prometheus-node-exporter (1.5, default
collectors) and a real daemon scraped side by side on this host, compared
family by family.  Every family node_exporter exposes must be in the
daemon's /metrics with the same type and the same label names, unless it is
listed in EXCEPTIONS with the reason; for the families whose label values
name things of the host (devices, mount points, collectors of the kernel's
files) the sets of values must agree too.

Families of hardware this host lacks appear in neither; families whose
source this host lacks (schedstat, hwmon, …) are covered by unit tests of
their parsers."""
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import free_port
from test_metrics import parse_exposition, scrape

NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")

# node_exporter's families the daemon deliberately does not offer.
EXCEPTIONS = {
    # The exporter's own runtime: the Go collector, the process collector
    # (stewardd is two processes, a front and a helper) and the HTTP handler.
    # The daemon offers steward_build_info, steward_connections_*,
    # steward_http_* and steward_scrape_* instead.
    re.compile(r"go_.*"): "Go runtime figures of node_exporter itself",
    re.compile(r"process_.*"): "node_exporter's own process; stewardd reports steward_* figures",
    re.compile(r"promhttp_.*"): "node_exporter's HTTP handler; see steward_http_requests_total",
    re.compile(r"node_exporter_build_info"): "the exporter's build; see steward_build_info",
}

# Families whose label values are identifiers of this host: the sets must
# agree (label name -> which label carries the identifier).
# Not compared (known differences, kept on purpose):
#  - node_filesystem_*: stewardd lists every real mount point of its own
#    namespace (bind mounts included, as df does); node_exporter 1.5 here
#    lists fewer.
#  - node_network_receive_*/transmit_*: node_exporter 1.5 reads them over
#    netlink and leaves out "lo" on this kernel; stewardd reads /proc/net/dev,
#    which lists it.
IDENTIFIER_LABELS = {
    "node_network_up": ("device",),
    "node_network_mtu_bytes": ("device",),
    "node_disk_read_bytes_total": ("device",),
    "node_disk_info": ("device",),
    "node_softnet_processed_total": ("cpu",),
    "node_cpu_seconds_total": ("cpu", "mode"),
    "node_vmstat_pgfault": (),
    "node_udp_queues": ("ip", "queue"),
    "node_arp_entries": ("device",),
    "node_time_clocksource_current_info": ("clocksource",),
}


def excepted(name):
    return next((why for rx, why in EXCEPTIONS.items() if rx.fullmatch(name)), None)


@pytest.fixture
def node_exporter():
    if not NODE_EXPORTER:
        pytest.skip("prometheus-node-exporter is not installed (scripts/install-deps.sh test)")
    port = free_port()
    p = subprocess.Popen([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if p.poll() is not None:
                    pytest.fail(f"node_exporter exited {p.returncode}")
                time.sleep(0.05)
        yield url
    finally:
        p.terminate()
        p.wait(timeout=10)


def ne_scrape(url):
    return parse_exposition(urllib.request.urlopen(url, timeout=10).read().decode())


def label_names(fam):
    return {frozenset(labels) for _, labels, _ in fam["samples"]}


def test_every_default_family(daemon, node_exporter):
    theirs = ne_scrape(node_exporter)
    _, ours = scrape(daemon)
    missing, wrong = [], []
    for name, fam in sorted(theirs.items()):
        if excepted(name):
            continue
        if name not in ours:
            missing.append(name)
            continue
        if ours[name]["type"] != fam["type"]:
            wrong.append(f"{name}: type {ours[name]['type']}, node_exporter {fam['type']}")
        if fam["samples"] and ours[name]["samples"] and label_names(ours[name]) != label_names(fam):
            wrong.append(f"{name}: labels {sorted(map(sorted, label_names(ours[name])))}, "
                         f"node_exporter {sorted(map(sorted, label_names(fam)))}")
        if fam["samples"] and not ours[name]["samples"]:
            wrong.append(f"{name}: no samples")
    assert not missing, f"families node_exporter has and stewardd lacks: {missing}"
    assert not wrong, "\n".join(wrong)


def test_help_text_is_node_exporters(daemon, node_exporter):
    theirs = ne_scrape(node_exporter)
    _, ours = scrape(daemon)
    differ = [f"{n}: {ours[n]['help']!r} != {f['help']!r}" for n, f in sorted(theirs.items())
              if n in ours and n.startswith("node_") and ours[n]["help"] != f["help"]]
    assert not differ, "\n".join(differ)


def test_identifier_label_values(daemon, node_exporter):
    theirs = ne_scrape(node_exporter)
    _, ours = scrape(daemon)
    differ = []
    for name, keys in IDENTIFIER_LABELS.items():
        if name not in theirs:
            continue
        a = {tuple(l.get(k) for k in keys) for _, l, _ in theirs[name]["samples"]}
        b = {tuple(l.get(k) for k in keys) for _, l, _ in ours.get(name, {"samples": []})["samples"]}
        if a != b:
            differ.append(f"{name} {keys}: stewardd {sorted(b)}, node_exporter {sorted(a)}")
    assert not differ, "\n".join(differ)


def test_exceptions_are_still_needed(node_exporter):
    """An exception that matches no family of node_exporter any more is stale."""
    theirs = ne_scrape(node_exporter)
    stale = [rx.pattern for rx in EXCEPTIONS if not any(rx.fullmatch(n) for n in theirs)]
    assert not stale, stale


def test_collector_success_and_duration(daemon):
    _, ours = scrape(daemon)
    ok = {l["collector"]: v for _, l, v in ours["node_scrape_collector_success"]["samples"]}
    dur = {l["collector"]: v for _, l, v in ours["node_scrape_collector_duration_seconds"]["samples"]}
    assert set(ok) == set(dur)
    assert ok and all(v >= 0 for v in dur.values())
    for c in ("cpu", "netclass", "pressure", "vmstat", "textfile", "conntrack", "entropy"):
        assert c in ok, c


def test_textfile_collector(daemon, daemon_base):
    """*.prom files merged after validation; a bad file or one clashing with
    a built-in family is skipped and flagged; mtimes per file read."""
    import os
    tdir = daemon_base / "textfile"
    tdir.mkdir()
    os.chmod(tdir, 0o755)
    r = daemon.https("PATCH", "/api/v1/modules/metrics/settings", {"textfile_dir": str(tdir)})
    assert r.status in (200, 202), r
    (tdir / "good.prom").write_text(
        '# HELP backup_age_seconds Age of the last backup.\n# TYPE backup_age_seconds gauge\n'
        'backup_age_seconds{job="db"} 42.5\nbackup_age_seconds{job="www"} 7\n')
    (tdir / "more.prom").write_text('backup_age_seconds_other 1\n')
    for f in tdir.iterdir():
        os.chmod(f, 0o644)
    _, fams = scrape(daemon)
    assert fams["backup_age_seconds"]["type"] == "gauge"
    vals = {l["job"]: v for _, l, v in fams["backup_age_seconds"]["samples"]}
    assert vals == {"db": 42.5, "www": 7}
    assert fams["backup_age_seconds_other"]["help"] == f"Metric read from {tdir}/more.prom"
    assert fams["node_textfile_scrape_error"]["samples"][0][2] == 0
    files = {l["file"] for _, l, _ in fams["node_textfile_mtime_seconds"]["samples"]}
    assert files == {f"{tdir}/good.prom", f"{tdir}/more.prom"}

    # A syntax error, a timestamp, a clash with a built-in family: each file
    # is skipped whole and flagged; the good one still counts.
    bad = {"syntax.prom": 'x{a="1" 2\n', "stamp.prom": "y 1 1700000000000\n",
           "clash.prom": "node_load1 99\nz 1\n", "dup.prom": "w 1\nw 2\n"}
    for name, text in bad.items():
        (tdir / name).write_text(text)
        os.chmod(tdir / name, 0o644)
    _, fams = scrape(daemon)
    assert fams["node_textfile_scrape_error"]["samples"][0][2] == 1
    for n in ("x", "y", "z", "w"):
        assert n not in fams, n
    assert fams["node_load1"]["samples"][0][2] != 99
    assert {l["job"] for _, l, _ in fams["backup_age_seconds"]["samples"]} == {"db", "www"}
    files = {l["file"] for _, l, _ in fams["node_textfile_mtime_seconds"]["samples"]}
    assert files == {f"{tdir}/good.prom", f"{tdir}/more.prom"}

    # A symlink is followed (as node_exporter does); a FIFO is refused
    # without blocking the scrape.
    for name in bad:
        (tdir / name).unlink()
    target = daemon_base / "elsewhere.prom"
    target.write_text("linked_value 3\n")
    os.chmod(target, 0o644)
    (tdir / "link.prom").symlink_to(target)
    os.mkfifo(tdir / "fifo.prom")
    _, fams = scrape(daemon)
    assert fams["linked_value"]["samples"][0][2] == 3
    assert fams["node_textfile_scrape_error"]["samples"][0][2] == 1
    (tdir / "fifo.prom").unlink()
    _, fams = scrape(daemon)
    assert fams["node_textfile_scrape_error"]["samples"][0][2] == 0

    # A bad directory setting is refused.
    r = daemon.https("PATCH", "/api/v1/modules/metrics/settings", {"textfile_dir": "rel/dir"})
    assert r.status == 422, r
    r = daemon.https("PATCH", "/api/v1/modules/metrics/settings", {"textfile_dir": "/a/../etc"})
    assert r.status == 422, r
