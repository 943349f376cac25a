"""The fleet fixture itself (fleet_ns.py): three daemons on one bridge, each
reached on its own address with the test CA's certificate, discovery on the
bridge, the shared admin account, the CLI's home, and a stop() that leaves
nothing behind."""
import os
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from fleet_ns import Fleet, fleet3  # noqa: F401 (the fixture)

pytestmark = pytest.mark.namespaces


def test_members_answer_on_their_own_address(fleet3):
    ips = [m.ip for m in fleet3.members]
    assert len(set(ips)) == 3 and all(ip.startswith("10.127.") for ip in ips)
    for m in fleet3.members:
        assert m.addr == f"{m.ip}:660"
        r = m.https("GET", "/api/v1/whoami")
        assert r.status == 200, r
        # the daemon really is in the member's namespace: it listens there
        assert f"{m.ip}:660" in m.in_ns("ss", "-Htln").stdout
        assert ":660" in m.in_ns("ss", "-Hunl").stdout
        # its own host name, in its own UTS namespace
        assert r.json is not None
        name = subprocess.run(["nsenter", "-t", str(m.daemon.proc.pid), "-u", "hostname"],
                              capture_output=True, text=True, check=True).stdout.strip()
        assert name == m.name and m.label == m.ip


def test_certificates_come_from_the_fleet_ca(fleet3):
    for m in fleet3.members:
        ctx = ssl.create_default_context(cafile=str(fleet3.ca_cert))
        # the SAN is the member's address: hostname checking passes
        with ctx.wrap_socket(__import__("socket").create_connection((m.ip, 660), timeout=10),
                             server_hostname=m.ip) as s:
            assert s.getpeercert()["subjectAltName"] == (("IP Address", m.ip),)


def test_members_see_each_other_and_the_host(fleet3):
    a, b = fleet3.members[0], fleet3.members[1]
    p = a.in_ns("python3", "-c",
                "import socket,sys; socket.create_connection((sys.argv[1], 660), 5).close()",
                b.ip)
    assert p.returncode == 0, p.stderr
    ns, ip = fleet3.add_ns("probe")
    p = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c",
                        "import socket,sys; socket.create_connection((sys.argv[1], 660), 5).close()",
                        a.ip], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert ip.startswith(fleet3.host_ip.rsplit(".", 1)[0] + ".")


def test_admin_logs_in_with_its_password_everywhere(fleet3):
    for m in fleet3.members:
        r = m.https("POST", "/api/v1/login", {"user": fleet3.admin, "password": fleet3.password},
                    token=False)
        assert r.status == 200, r
        r = m.https("GET", "/api/v1/whoami", token=r.json["token"])
        assert r.json["user"] == fleet3.admin and r.json["role"] == "admin", r


def test_the_cli_reaches_every_member_after_login_all(fleet3):
    fleet3.login_all()
    hosts = (fleet3.home / ".config/steward/hosts").read_text()
    assert "web: " + " ".join(m.addr for m in fleet3.members[:2]) in hosts
    known = (fleet3.home / ".config/steward/known_hosts").read_text()
    for m in fleet3.members:
        assert f"{m.addr} {m.daemon.fingerprint}" in known
        p = fleet3.cli("-H", m.addr, "--json", "status", "system", check=0)
        assert '"hostname"' in p.stdout


def test_stop_leaves_nothing():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    base = Path(tempfile.mkdtemp(prefix="steward-fleet-"))
    os.chmod(base, 0o755)
    try:
        f = Fleet(base, n=2).start()
        names = [m.ns for m in f.members] + [f.add_ns("x")[0]]
        assert all(os.path.exists(f"/run/netns/{ns}") for ns in names)
        f.stop()
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        assert f.bridge not in links
        assert not any(os.path.exists(f"/run/netns/{ns}") for ns in names)
        assert str(base) not in Path("/proc/self/mounts").read_text()
    finally:
        shutil.rmtree(base, ignore_errors=True)
