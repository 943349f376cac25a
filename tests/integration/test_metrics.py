"""GET /metrics against a real daemon: the Prometheus text format checked by a
strict parser, node_exporter's names, values against what /proc says at the
same moment, the daemon's own steward_* families, and (where Debian's
prometheus package is installed) promtool and a real Prometheus scraping it."""
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import json
from pathlib import Path

import pytest

from conftest import free_port

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

# What the main panels of Grafana's "Node Exporter Full" dashboard query.
DASHBOARD_NAMES = [
    "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
    "node_load1", "node_filesystem_avail_bytes", "node_filesystem_size_bytes",
    "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
    "node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_boot_time_seconds",
    "node_time_seconds",
]


# ---- a strict parser of the text exposition format 0.0.4 -------------------

class FormatError(AssertionError):
    pass


def unescape(s, allowed):
    """Undoes the format's backslash escapes; allowed: the escapable chars."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise FormatError(f"bad escape in {s!r}")
            out.append("\n" if s[i + 1] == "n" else s[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(s, line):
    """Parses 'a="x",b="y"' (the text between the braces); returns (dict, rest)."""
    labels, i = {}, 0
    while True:
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", s[i:])
        if not m:
            raise FormatError(f"bad label in {line!r}")
        name = m.group(1)
        i += m.end()
        j = i
        while j < len(s) and s[j] != '"':
            j += 2 if s[j] == "\\" else 1
        if j >= len(s):
            raise FormatError(f"unterminated label value in {line!r}")
        if name in labels:
            raise FormatError(f"label {name} twice in {line!r}")
        labels[name] = unescape(s[i:j], "\\\"n")
        i = j + 1
        if s[i:i + 1] == ",":
            i += 1
            continue
        if s[i:i + 1] == "}":
            return labels, s[i + 1:]
        raise FormatError(f"expected , or }} in {line!r}")


def parse_value(v, line):
    if v in ("NaN", "+Inf", "-Inf"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", v):
        raise FormatError(f"bad value in {line!r}")
    return float(v)


def family_of(name, families):
    """The family a sample name belongs to (histogram/summary suffixes)."""
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and families.get(base, {}).get("type") in ("histogram", "summary"):
            return base
    return None


def parse_exposition(text):
    """Returns {family: {"help", "type", "samples": [(name, labels, value)]}}.
    Strict: UTF-8, a final newline, HELP then TYPE before any sample of a
    family, each family in one block, no duplicate series, valid names,
    histograms cumulative with a +Inf bucket equal to _count."""
    if not text.endswith("\n"):
        raise FormatError("no newline at the end")
    families, current, closed, seen = {}, None, set(), set()
    for line in text[:-1].split("\n"):
        if line == "":
            raise FormatError("blank line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                continue  # a plain comment
            kind, name = parts[1], parts[2]
            if not METRIC_NAME.match(name):
                raise FormatError(f"bad metric name in {line!r}")
            f = families.get(name)
            if f is None:
                if name in closed:
                    raise FormatError(f"{name} reopened")
                if current:
                    closed.add(current)
                f = families[name] = {"help": None, "type": None, "samples": []}
                current = name
            elif name != current or f["samples"]:
                raise FormatError(f"{kind} for {name} after its samples or another family")
            if kind == "HELP":
                if f["help"] is not None or f["type"] is not None:
                    raise FormatError(f"HELP for {name} twice or after TYPE")
                f["help"] = unescape(parts[3] if len(parts) > 3 else "", "\\n")
            else:
                if f["type"] is not None:
                    raise FormatError(f"TYPE for {name} twice")
                if len(parts) != 4 or parts[3] not in TYPES:
                    raise FormatError(f"bad TYPE line {line!r}")
                f["type"] = parts[3]
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
        if not m:
            raise FormatError(f"bad sample line {line!r}")
        name, rest = m.group(1), line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest[1:], line)
        if not rest.startswith(" "):
            raise FormatError(f"no value in {line!r}")
        fields = rest[1:].split(" ")
        if len(fields) not in (1, 2):
            raise FormatError(f"bad value part in {line!r}")
        value = parse_value(fields[0], line)
        fam = family_of(name, families)
        if fam is None or fam != current:
            raise FormatError(f"sample {name} outside its family block")
        f = families[fam]
        if f["help"] is None or f["type"] is None:
            raise FormatError(f"{fam} has samples before HELP and TYPE")
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise FormatError(f"duplicate series {line!r}")
        seen.add(key)
        if f["type"] == "counter" and not value >= 0:
            raise FormatError(f"negative counter {line!r}")
        f["samples"].append((name, labels, value))
    for name, f in families.items():
        if f["help"] is None or f["type"] is None:
            raise FormatError(f"{name} lacks HELP or TYPE")
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return families


def check_histogram(name, samples):
    groups = {}
    for n, labels, v in samples:
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "count": None, "sum": None})
        if n == name + "_bucket":
            le = labels["le"]
            g["buckets"].append((math.inf if le == "+Inf" else float(le), v))
        elif n == name + "_count":
            g["count"] = v
        elif n == name + "_sum":
            g["sum"] = v
    for rest, g in groups.items():
        b = g["buckets"]
        assert b and b[-1][0] == math.inf, (name, rest)
        assert [x for x, _ in b] == sorted(x for x, _ in b), (name, rest)
        assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), (name, rest)
        assert b[-1][1] == g["count"] and g["sum"] is not None, (name, rest)


def values(fams, name, **want):
    """{frozenset(labels): value} of a family's samples matching want."""
    fam = family_of(name, fams)
    return {frozenset(l.items()): v for n, l, v in (fams[fam]["samples"] if fam else [])
            if n == name and all(l.get(k) == x for k, x in want.items())}


def one(fams, name, **want):
    v = values(fams, name, **want)
    assert len(v) == 1, (name, want, v)
    return next(iter(v.values()))


def scrape(d, token=True):
    r = d.https("GET", "/metrics", token=token)
    assert r.status == 200, r
    assert r.headers["Content-Type"] == CONTENT_TYPE
    return r.body, parse_exposition(r.body)


def monitor_token(d):
    r = d.https("POST", "/api/v1/tokens", {"name": "prom", "role": "monitor"})
    assert r.status in (200, 201), r
    return r.json["token"]


# ---- the parser itself ------------------------------------------------------

def test_parser_refuses_what_prometheus_refuses():
    good = '# HELP a x\n# TYPE a gauge\na{l="q\\"\\\\\\n"} 1\n'
    assert parse_exposition(good)["a"]["samples"] == [("a", {"l": 'q"\\\n'}, 1.0)]
    for bad in ["a 1\n",                                                  # no HELP/TYPE
                "# HELP a x\n# TYPE a gauge\na 1",                        # no final newline
                "# HELP a x\n# TYPE a gauge\na 1\na 2\n",                 # duplicate series
                "# HELP a x\n# TYPE a gauge\na{l=\"\\x\"} 1\n",           # bad escape
                "# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na{x=\"1\"} 1\n",
                "# HELP a x\n# TYPE a counter\na -1\n",
                "# HELP a x\n# TYPE a gauge\na one\n"]:
        with pytest.raises(FormatError):
            parse_exposition(bad)


# ---- access -----------------------------------------------------------------

def test_needs_authentication(daemon):
    r = daemon.https("GET", "/metrics", token=False)
    assert r.status == 401
    r = daemon.https("GET", "/metrics", token="not-a-token")
    assert r.status == 401


def test_monitor_token_can_scrape(daemon):
    tok = monitor_token(daemon)
    body, fams = scrape(daemon, token=tok)
    assert "node_memory_MemTotal_bytes" in fams
    # Monitor is read-only elsewhere: the same token cannot change settings.
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"}, token=tok)
    assert r.status == 403


def test_listed_as_module(daemon):
    r = daemon.https("GET", "/api/v1/modules/metrics")
    assert r.status == 200 and r.json["state"] == "running"
    scrape(daemon)
    r = daemon.https("GET", "/api/v1/modules/metrics")
    assert r.json["scrapes"] >= 1 and r.json["last_scrape_bytes"] > 1000


# ---- format and names -------------------------------------------------------

def test_format_is_strict_and_complete(daemon):
    body, fams = scrape(daemon)
    for name, f in fams.items():
        assert f["help"], name
    missing = [n for n in DASHBOARD_NAMES if n not in fams]
    assert not missing, missing
    for n in ["node_context_switches_total", "node_intr_total", "node_forks_total",
              "node_procs_running", "node_procs_blocked", "node_load5", "node_load15",
              "node_uname_info", "node_filefd_allocated", "node_filefd_maximum",
              "node_filesystem_free_bytes", "node_filesystem_files", "node_filesystem_files_free",
              "node_filesystem_readonly", "node_disk_reads_completed_total",
              "node_disk_writes_completed_total", "node_disk_io_time_seconds_total",
              "node_disk_read_time_seconds_total", "node_disk_write_time_seconds_total",
              "node_disk_io_now", "node_network_receive_packets_total",
              "node_network_receive_errs_total", "node_network_receive_drop_total",
              "node_network_transmit_packets_total", "node_network_transmit_errs_total",
              "node_network_transmit_drop_total", "node_sockstat_TCP_inuse",
              "node_sockstat_TCP_orphan", "node_sockstat_TCP_tw", "node_sockstat_TCP_alloc",
              "node_sockstat_sockets_used", "node_netstat_Tcp_CurrEstab",
              "node_netstat_Tcp_ActiveOpens", "node_netstat_Tcp_PassiveOpens",
              "steward_build_info", "steward_connections_open"]:
        if n.startswith("node_disk_") and not Path("/proc/diskstats").read_text().strip():
            continue
        assert n in fams, n
    # node_exporter's types.
    assert fams["node_cpu_seconds_total"]["type"] == "counter"
    assert fams["node_memory_MemTotal_bytes"]["type"] == "gauge"
    assert fams["node_netstat_Tcp_CurrEstab"]["type"] == "untyped"
    # Every collector works, but those whose source this host lacks (as
    # node_exporter reports them too).
    sources = {"schedstat": "/proc/schedstat", "pressure": "/proc/pressure/cpu",
               "conntrack": "/proc/sys/net/netfilter/nf_conntrack_count", "dmi": "/sys/class/dmi/id"}
    ok = {l["collector"]: v for _, l, v in fams["node_scrape_collector_success"]["samples"]}
    for c, v in ok.items():
        assert v == (0 if c in sources and not os.path.exists(sources[c]) else 1), (c, v)


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian prometheus) not installed")
def test_promtool_check_metrics(daemon):
    body, _ = scrape(daemon)
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True,
                       timeout=60)
    # Exit 3 is lint advice only, 1 a parse error.  node_exporter's own
    # output gets the same advice for the kernel's CamelCase names
    # (node_netstat_Tcp_CurrEstab, node_memory_Active_anon_bytes): keeping
    # them is the point.
    assert p.returncode in (0, 3), p.stdout + p.stderr
    advice = [l for l in (p.stdout + p.stderr).splitlines()
              if l and not l.endswith("metric names should be written in 'snake_case' not 'camelCase'")
              # node_exporter's names for the entropy pool, kept as they are
              and not re.match(r'node_entropy_\w+_bits use base unit "bytes" instead of "bits"', l)]
    assert not advice, advice


# ---- values against /proc ---------------------------------------------------

def meminfo():
    out = {}
    for line in open("/proc/meminfo"):
        key, rest = line.split(":", 1)
        parts = rest.split()
        out[key] = (int(parts[0]), len(parts) > 1)
    return out


def test_meminfo_every_field(daemon):
    before = meminfo()
    _, fams = scrape(daemon)
    assert one(fams, "node_memory_MemTotal_bytes") == before["MemTotal"][0] * 1024
    for key, (v, kb) in before.items():
        name = "node_memory_" + re.sub(r"\((.*)\)", r"_\1", key) + ("_bytes" if kb else "")
        assert name in fams, name
    assert "node_memory_Active_anon_bytes" in fams
    if "HugePages_Total" in before:
        assert one(fams, "node_memory_HugePages_Total") == before["HugePages_Total"][0]


def proc_stat():
    cpus, other = {}, {}
    hz = os.sysconf("SC_CLK_TCK")
    for line in open("/proc/stat"):
        f = line.split()
        if f[0].startswith("cpu") and f[0] != "cpu":
            cpus[f[0][3:]] = [int(x) / hz for x in f[1:]]
        elif len(f) >= 2:
            other[f[0]] = int(f[1])
    return cpus, other


def test_cpu_seconds_monotonic_and_in_seconds(daemon):
    cpus, other = proc_stat()
    _, a = scrape(daemon)
    time.sleep(0.3)
    _, b = scrape(daemon)
    va, vb = values(a, "node_cpu_seconds_total"), values(b, "node_cpu_seconds_total")
    assert va.keys() == vb.keys()
    assert {dict(k)["cpu"] for k in va} == set(cpus)
    assert {dict(k)["mode"] for k in va} == {"user", "nice", "system", "idle", "iowait", "irq",
                                             "softirq", "steal"}
    assert all(vb[k] >= va[k] for k in va)
    # In seconds (USER_HZ): idle of cpu0 read before the scrape is not larger.
    assert one(a, "node_cpu_seconds_total", cpu="0", mode="idle") >= cpus["0"][3]
    assert sum(vb.values()) > sum(va.values())
    assert one(a, "node_boot_time_seconds") == other["btime"]
    assert one(a, "node_forks_total") >= other["processes"]
    assert one(a, "node_context_switches_total") >= other["ctxt"]
    assert one(a, "node_intr_total") >= other["intr"]
    assert values(a, "node_cpu_guest_seconds_total")


def test_network_counters(daemon):
    lo = None
    for line in open("/proc/net/dev").readlines()[2:]:
        name, rest = line.split(":", 1)
        if name.strip() == "lo":
            lo = [int(x) for x in rest.split()]
    _, fams = scrape(daemon)
    assert one(fams, "node_network_receive_bytes_total", device="lo") >= lo[0]
    assert one(fams, "node_network_transmit_packets_total", device="lo") >= lo[9]
    devs = {dict(k)["device"] for k in values(fams, "node_network_receive_bytes_total")}
    want = {l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]}
    assert devs == want


def disk_excluded(name):
    return re.fullmatch(r"(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+", name) is not None


def test_diskstats(daemon):
    before = {}
    for line in open("/proc/diskstats"):
        f = line.split()
        before[f[2]] = [int(x) for x in f[3:]]
    _, fams = scrape(daemon)
    want = {n for n in before if not disk_excluded(n)}
    if not want:
        pytest.skip("no disks here")
    got = {dict(k)["device"] for k in values(fams, "node_disk_read_bytes_total")}
    assert got == want
    for dev in want:
        assert one(fams, "node_disk_read_bytes_total", device=dev) >= before[dev][2] * 512
        assert one(fams, "node_disk_reads_completed_total", device=dev) >= before[dev][0]
        assert one(fams, "node_disk_io_time_seconds_total", device=dev) >= before[dev][9] / 1000


def test_load_time_uname_filefd(daemon):
    t0 = time.time()
    _, fams = scrape(daemon)
    t1 = time.time()
    assert t0 - 1 <= one(fams, "node_time_seconds") <= t1 + 1
    assert 0 <= one(fams, "node_load1") < 10000
    u = os.uname()
    (labels, v), = values(fams, "node_uname_info").items()
    labels = dict(labels)
    assert v == 1
    assert (labels["sysname"], labels["release"], labels["version"], labels["machine"],
            labels["nodename"]) == (u.sysname, u.release, u.version, u.machine, u.nodename)
    assert "domainname" in labels
    nr = open("/proc/sys/fs/file-nr").read().split()
    assert one(fams, "node_filefd_maximum") == int(nr[2])
    assert one(fams, "node_filefd_allocated") > 0


def active_opens():
    snmp = open("/proc/net/snmp").read().splitlines()
    tcp = [l.split()[1:] for l in snmp if l.startswith("Tcp:")]
    return int(dict(zip(*tcp))["ActiveOpens"])


def test_sockstat_and_netstat(daemon):
    # The counter only grows: read before the scrape, it is a lower bound
    # of what the scrape reports whatever else the machine opens meanwhile.
    opens_before = active_opens()
    _, fams = scrape(daemon)
    # This very connection is established while the daemon answers.
    assert one(fams, "node_netstat_Tcp_CurrEstab") >= 1
    assert one(fams, "node_sockstat_TCP_inuse") >= 1
    page = os.sysconf("SC_PAGE_SIZE")
    assert one(fams, "node_sockstat_TCP_mem_bytes") == one(fams, "node_sockstat_TCP_mem") * page
    # Only node_exporter's default fields: MaxConn (-1) is not one of them.
    assert "node_netstat_Tcp_MaxConn" not in fams
    assert one(fams, "node_netstat_Tcp_ActiveOpens") >= opens_before


# ---- file systems, in a private mount namespace ----------------------------

@pytest.mark.namespaces
def test_tmpfs_appears_with_its_size(make_daemon, daemon_base):
    d = make_daemon(wrap=lambda argv: ["unshare", "--mount", "--propagation", "private", "--", *argv])
    # A mount point that needs every escape of the format: the label must
    # read back as the path.
    mnt = daemon_base / 'mnt "quoted" back\\slash\nnewline'
    mnt.mkdir()
    _, fams = scrape(d)
    assert not values(fams, "node_filesystem_size_bytes", mountpoint=str(mnt))

    def ns(*argv):
        subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "--", *argv], check=True)

    ns("mount", "-t", "tmpfs", "-o", "size=8m,nr_inodes=1000", "tmpfs", str(mnt))
    _, fams = scrape(d)
    labels = dict(device="tmpfs", fstype="tmpfs", mountpoint=str(mnt))
    assert one(fams, "node_filesystem_size_bytes", **labels) == 8 << 20
    assert one(fams, "node_filesystem_avail_bytes", **labels) == 8 << 20
    assert one(fams, "node_filesystem_free_bytes", **labels) == 8 << 20
    assert one(fams, "node_filesystem_files", **labels) == 1000
    assert one(fams, "node_filesystem_readonly", **labels) == 0
    assert one(fams, "node_filesystem_device_error", **labels) == 0
    # Not on the host: the mount lives in the daemon's namespace only.
    assert not os.path.ismount(mnt)

    ns("mount", "-o", "remount,ro", str(mnt))
    _, fams = scrape(d)
    assert one(fams, "node_filesystem_readonly", **labels) == 1
    ns("umount", str(mnt))
    _, fams = scrape(d)
    assert not values(fams, "node_filesystem_size_bytes", mountpoint=str(mnt))
    # Pseudo file systems are left out, as node_exporter does.
    assert not values(fams, "node_filesystem_size_bytes", fstype="proc")
    assert not values(fams, "node_filesystem_size_bytes", mountpoint="/proc")


# ---- steward_* --------------------------------------------------------------

def test_steward_families(daemon):
    daemon.https("GET", "/api/v1/nowhere")
    tok = monitor_token(daemon)
    r = daemon.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"}, token=tok)
    assert r.status == 403
    _, a = scrape(daemon)
    _, b = scrape(daemon)
    assert one(a, "steward_build_info") == 1
    (labels, _), = values(a, "steward_build_info").items()
    assert dict(labels)["version"]
    assert one(a, "steward_connections_open") >= 1
    ok = dict(route="/metrics", status="200")
    # A scrape counts once it is answered: the next one shows it.
    assert not values(a, "steward_http_requests_total", route="/metrics")
    assert one(b, "steward_http_requests_total", **ok) == 1
    assert one(a, "steward_http_requests_total", route="other", status="404") == 1
    assert one(a, "steward_http_requests_total", route="/api/v1/modules/*/settings", status="403") == 1
    count = one(b, "steward_http_request_duration_seconds_count", route="/metrics")
    assert count == one(b, "steward_http_requests_total", **ok)
    assert one(b, "steward_http_request_duration_seconds_bucket", route="/metrics", le="+Inf") == count
    assert 0 < one(b, "steward_http_request_duration_seconds_sum", route="/metrics") < 60
    assert b["steward_http_request_duration_seconds"]["type"] == "histogram"
    # Every route label is a pattern from the route tables, never a raw path.
    routes = {dict(k)["route"] for k in values(b, "steward_http_requests_total")}
    assert "/api/v1/nowhere" not in routes


def test_scrape_through_unix_socket(daemon):
    r = daemon.unix("GET", "/metrics")
    # The unix socket identifies the caller by its credentials: root is admin.
    if r.status == 200:
        parse_exposition(r.body)
    else:
        assert r.status in (401, 403), r


# ---- a real Prometheus ------------------------------------------------------

@pytest.mark.skipif(not shutil.which("prometheus"), reason="prometheus (Debian) not installed")
def test_prometheus_scrapes_the_daemon(daemon, daemon_base):
    tok = monitor_token(daemon)
    work = Path(tempfile.mkdtemp(prefix="prom-", dir=daemon_base))
    (work / "token").write_text(tok)
    port = free_port()
    (work / "prometheus.yml").write_text(f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: steward
    scheme: https
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {work / "token"}
    tls_config:
      ca_file: {daemon.cert_path}
    static_configs:
      - targets: ["127.0.0.1:{daemon.port}"]
""")
    log = open(work / "prometheus.log", "wb")
    p = subprocess.Popen(["prometheus", f"--config.file={work / 'prometheus.yml'}",
                          f"--storage.tsdb.path={work / 'data'}",
                          f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=log, stderr=subprocess.STDOUT)

    def api(path, **q):
        url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(q)
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)

    try:
        deadline = time.time() + 20
        target = sample = None
        while time.time() < deadline:
            time.sleep(0.5)
            try:
                ts = api("targets")["data"]["activeTargets"]
                target = ts[0] if ts else None
                res = api("query", query="node_memory_MemTotal_bytes")["data"]["result"]
                sample = res[0] if res else None
            except OSError:
                continue
            if target and target["health"] == "up" and sample:
                break
        assert target and target["health"] == "up", (target, (work / "prometheus.log").read_text())
        assert target["lastError"] == ""
        assert sample, "no node_memory_MemTotal_bytes sample"
        mi = meminfo()
        assert float(sample["value"][1]) == mi["MemTotal"][0] * 1024
    finally:
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def test_scrape_without_token_only_from_listed_networks(make_daemon):
    d = make_daemon(config_text='metrics:allow_from:_array_index:0 = "127.0.0.0/8"\n')
    r = d.https("GET", "/metrics", token=False)
    assert r.status == 200 and "node_load1" in r.body
    # Only that route: everything else still needs a token.
    assert d.https("GET", "/api/v1/modules", token=False).status == 401
    assert d.https("GET", "/api/v1/metrics/series", token=False).status == 401
    # And only from those networks.
    d.https("PATCH", "/api/v1/modules/stewardd/settings", {"metrics:allow_from": ["192.0.2.0/24"]})
    assert d.https("GET", "/metrics", token=False).status == 401
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"metrics:allow_from": ["10.0.0.0/33"]})
    assert r.status == 422
    r = d.https("PATCH", "/api/v1/modules/stewardd/settings", {"metrics:allow_from": ["not-a-net"]})
    assert r.status == 422


def test_sessions_audit_and_logins(daemon):
    d = daemon
    tok = d.token  # the bootstrap login: one ok
    bad = d.https("POST", "/api/v1/login", {"bootstrap_token": "stw_" + "1" * 64}, token=False)
    assert bad.status == 401
    assert d.https("PATCH", "/api/v1/modules/stewardd/settings", {"log_level": "debug"},
                   token=tok).status == 200
    # The front's poll follows every change at once; give it a moment.
    for _ in range(50):
        _, a = scrape(d)
        if "steward_audit_records_total" in a and one(a, "steward_audit_records_total") >= 1 \
                and one(a, "steward_logins_total", result="failed") >= 1:
            break
        time.sleep(0.1)
    assert a["steward_sessions"]["type"] == "gauge"
    assert one(a, "steward_sessions") >= 1
    assert a["steward_audit_records_total"]["type"] == "counter"
    assert one(a, "steward_audit_records_total") >= 1
    assert one(a, "steward_logins_total", result="ok") >= 1
    assert one(a, "steward_logins_total", result="failed") >= 1
    assert one(a, "steward_event_subscribers") == 0
